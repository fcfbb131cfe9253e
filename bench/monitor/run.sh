#!/bin/sh
# bench/monitor/run.sh - the detectors' figures side by side: NAB scores
# (standard, low FP, low FN) of the ensemble and of each detector alone,
# NAB's own windowed Gaussian and the random/null/perfect references
# computed here on the same files, the published full-corpus scoreboard;
# points/s through the ensemble on one core and the state size.
#
#   bench/monitor/run.sh [BUILD_DIR] [NAB_DIR]    (defaults: build-rel,
#                                                  ../shared/data/nab)
# Needs `make build BUILD=build-rel` (or ninja -C build-rel monitor_bench).
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build-rel}
NAB=${2:-../shared/data/nab}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

"$B/monitor_bench" nab "$NAB/data" "$OUT" >/dev/null
bench/nab_score/reference_detectors --data "$NAB" --results "$OUT" >/dev/null

row() { # row LABEL DETECTOR
  bench/nab_score/nab_score --data "$NAB" --results "$OUT" --detector "$2" \
    --json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["profiles"]
print("| %-44s | %8.1f | %8.1f | %8.1f |" % (sys.argv[1],
      d["standard"]["score"], d["reward_low_FP_rate"]["score"],
      d["reward_low_FN_rate"]["score"]))' "$1"
}

echo "NAB, $(ls "$NAB"/data/*/*.csv | wc -l) files of $NAB (scored by bench/nab_score)"
echo
echo "| detector                                     | standard |  low FP  |  low FN  |"
echo "|----------------------------------------------|---------:|---------:|---------:|"
row "guichet (ensemble, mon_params_default)" guichet
for d in gauss saisonnier rupture nuit fige; do
  row "guichet, $d alone" "guichet_$d"
done
row "NAB's windowed Gaussian (reference_detectors)" windowedGaussian
row "random (uniform, seed 42)" random
row "null" null
row "perfect" perfect
echo
echo "Published standard-profile scores, full NAB corpus (58 files: these 41"
echo "plus realTraffic and realTweets): Numenta HTM 70.1, CAD OSE 69.9,"
echo "KNN-CAD 58.0, Random Cut Forest 51.7, Windowed Gaussian 39.6, random 11-17,"
echo "null 0."
echo
echo "Speed (one core, 64 series round-robin, every detector on):"
taskset -c 0 "$B/monitor_bench" speed 20000000
