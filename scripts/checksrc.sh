#!/bin/sh
# checksrc: ban the unsafe libc calls listed in STYLE.md (as curl does).
# Exits 1 and names every offending line.
cd "$(dirname "$0")/.." || exit 1
banned='\b(sprintf|vsprintf|strcat|strncat|strncpy|strtok|atoi|atol|atoll|gets|strcpy)[[:space:]]*\('
out=$(git ls-files 'src/*.c' 'src/*.h' 'tools/*.c' 'tests/*.c' 'fuzz/*.c' 2>/dev/null |
      xargs -r grep -nE "$banned" | grep -vE '(snprintf|vsnprintf)[[:space:]]*\(' )
if [ -n "$out" ]; then
    echo "checksrc: appels interdits (voir STYLE.md) :"
    echo "$out"
    exit 1
fi
echo "checksrc: ok"
