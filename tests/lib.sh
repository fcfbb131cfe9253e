# tests/lib.sh - what the shell tests share. Sourced (bash), never run:
#
#   cd "$(dirname "$0")/../.."
#   . tests/lib.sh
#   th_init NAME "${1:-build/guichet}"
#
# th_init sets BIN (the guichet binary, absolute), TMP (a fresh directory,
# removed at exit unless KEEP_TMP is set), D ($TMP/var, the data
# directory most tests use), PY (Debian's Python, which sees python3-*
# packages), the counters pass and fail, and unsets every GUICHET_*
# variable of the outer shell so that it cannot change the results. A
# script that starts servers defines th_cleanup_hook (kill them); it runs
# at exit before TMP goes.
#
# Checks count in pass / fail; a failure prints its name, the last
# command's code and the heads of its stdout and stderr ($TMP/out,
# $TMP/err). th_done prints "N passed, N failed" and is the script's
# status.

th_init() {
    BIN=$(realpath "$2")
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/guichet-$1.XXXXXX")
    D="$TMP/var"
    PY=/usr/bin/python3
    RC=""
    pass=0
    fail=0
    : >"$TMP/out"
    : >"$TMP/err"
    for v in $(env | sed -n 's/^\(GUICHET_[A-Z0-9_]*\)=.*/\1/p'); do
        unset "$v"
    done
    trap th_cleanup EXIT
}

th_cleanup() {
    if declare -F th_cleanup_hook >/dev/null; then
        th_cleanup_hook
    fi
    wait 2>/dev/null
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}

# How many lines of stdout/stderr a failure shows.
TH_SHOW=${TH_SHOW:-30}

ok() { pass=$((pass + 1)); }
ko() {
    fail=$((fail + 1))
    echo "ÉCHEC : $*" >&2
    echo "  code=$RC" >&2
    sed 's/^/  stdout| /' "$TMP/out" 2>/dev/null | head -"$TH_SHOW" >&2
    sed 's/^/  stderr| /' "$TMP/err" 2>/dev/null | head -"$TH_SHOW" >&2
}

# g ARGS...: run guichet, stdout in $TMP/out, stderr in $TMP/err, code $RC.
g() {
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    RC=$?
}
# gin INPUT ARGS...: the same with INPUT (and a newline) on stdin.
gin() {
    local input=$1
    shift
    printf '%s\n' "$input" | "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

expect_rc() { # name code
    if [ "$RC" = "$2" ]; then ok; else ko "$1 : code $2 attendu"; fi
}
expect_out() { # name regex
    if grep -Eq -- "$2" "$TMP/out"; then ok; else ko "$1 : stdout ~ /$2/"; fi
}
expect_no_out() { # name regex
    if grep -Eq -- "$2" "$TMP/out"; then ko "$1 : stdout !~ /$2/"; else ok; fi
}
expect_err() { # name regex
    if grep -Eq -- "$2" "$TMP/err"; then ok; else ko "$1 : stderr ~ /$2/"; fi
}
check() { # name command...
    local name=$1
    shift
    if "$@"; then ok; else ko "$name"; fi
}
# check_py NAME ARGS... <<'EOF' ... EOF: a Python check on stdin that
# exits non-zero (and prints why) on failure.
check_py() {
    local name=$1
    shift
    if "$PY" - "$@" >"$TMP/out" 2>"$TMP/err"; then
        ok
    else
        RC=$?
        ko "$name"
    fi
}
# wait_file PATH SECONDS: until PATH exists and is not empty.
wait_file() {
    local _
    for _ in $(seq $(($2 * 10))); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

th_done() {
    echo "$pass passed, $fail failed"
    [ "$fail" = 0 ]
}

# sql QUERY: the first column of the first row of QUERY on the instance's
# SQLite file ($D/guichet.db), or an empty line.
sql() {
    "$PY" - "$D/guichet.db" "$1" <<'EOF'
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if r is None else r[0])
EOF
}
# gd ARGS...: g on the instance in $D.
gd() { g --data "$D" "$@"; }
