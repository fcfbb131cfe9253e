#!/bin/sh
# libs.sh - the link line of the guichet binary in build directory BUILD
# (libguichet_lib.a and every library it needs), read from the build's
# own build.ninja, for the bench programs linked against the library:
#   cc ... prog.c $(bench/libs.sh "$BUILD")
# Usage: bench/libs.sh BUILD (after `make build BUILD=...`)
set -eu
b=${1:?usage: bench/libs.sh BUILD}
if [ ! -f "$b/build.ninja" ]; then
    echo "libs.sh : $b/build.ninja absent, lancez d'abord make build BUILD=$b" >&2
    exit 2
fi
awk -v b="$b" '
    /^build guichet:/ { f = 1 }
    f && /^  LINK_LIBRARIES = / {
        sub(/^  LINK_LIBRARIES = /, "")
        n = split($0, a, " ")
        for (i = 1; i <= n; i++) {
            if (a[i] ~ /^lib[^\/]*\.a$/) a[i] = b "/" a[i]
            printf "%s ", a[i]
        }
        print "-lpthread"
        exit
    }' "$b/build.ninja"
