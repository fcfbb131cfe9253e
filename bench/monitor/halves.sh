#!/bin/sh
# bench/monitor/halves.sh - the ensemble's NAB figures on two fixed halves
# of the corpus, so that a change is chosen on one (dev) and read once on
# the other (test) and on the whole. The 41 files sorted by path: even
# ranks (0, 2, ...) are dev (21 files, 39 windows), odd ranks test (20
# files, 30 windows). Each half is scored alone (its own threshold).
#
#   bench/monitor/halves.sh [BUILD_DIR] [NAB_DIR]   (defaults: build-rel,
#                                                    ../shared/data/nab)
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build-rel}
NAB=$(cd "${2:-../shared/data/nab}" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for h in dev test; do
  mkdir -p "$T/$h/data" "$T/$h/labels"
  ln -s "$NAB/profiles.json" "$T/$h/profiles.json"
  ln -s "$NAB/labels/combined_windows.json" "$T/$h/labels/"
done
i=0
for f in $(ls "$NAB"/data/*/*.csv | LC_ALL=C sort); do
  if [ $((i % 2)) -eq 0 ]; then h=dev; else h=test; fi
  c=$(basename "$(dirname "$f")")
  mkdir -p "$T/$h/data/$c"
  ln -s "$f" "$T/$h/data/$c/"
  i=$((i + 1))
done
for h in dev test all; do
  d=$T/$h
  [ "$h" = all ] && d=$NAB
  "$B/guichet" monitor nab "$d/data" "$T/out-$h" >/dev/null
  printf '%-4s ' "$h"
  bench/nab_score/nab_score --data "$d" --results "$T/out-$h" \
    --detector guichet --json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["profiles"]
print("%2d files %2d windows  standard %6.2f  low FP %6.2f  low FN %6.2f"
      "  (threshold %.3f)" % (d["files"], d["windows"],
      p["standard"]["score"], p["reward_low_FP_rate"]["score"],
      p["reward_low_FN_rate"]["score"], p["standard"]["threshold"]))'
done
