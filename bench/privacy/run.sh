#!/bin/sh
# Personal-data figures: generate the set (fixed seed) and score Guichet
# against the regex-only baseline. Usage: bench/privacy/run.sh [GUICHET] [N]
set -eu
here=$(dirname "$0")
guichet=${1:-build/guichet}
n=${2:-2400}
set_file=$(mktemp /tmp/pii-bench.XXXXXX)
trap 'rm -f "$set_file"' EXIT
/usr/bin/python3 "$here/gen.py" "$n" > "$set_file"
/usr/bin/python3 "$here/eval.py" "$guichet" "$set_file"
