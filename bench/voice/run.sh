#!/bin/sh
# bench/voice/run.sh - speech synthesis speed per engine installed: time to
# first audio and real-time factor for a 30-word French answer, on one core
# (taskset -c 0), without sanitizers.
#
#   bench/voice/run.sh [BUILD_DIR] [RUNS]     (defaults: build-rel, 20)
# Builds voice_bench in BUILD_DIR (a release build: make build
# BUILD=build-rel) when needed.
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build-rel}
RUNS=${2:-20}
[ -f "$B/build.ninja" ] || cmake -S . -B "$B" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$B" voice_bench >/dev/null 2>&1 || ninja -C "$B" voice_bench
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), one core"
if command -v taskset >/dev/null 2>&1; then
  taskset -c 0 "$B/voice_bench" "$RUNS"
else
  "$B/voice_bench" "$RUNS"
fi
