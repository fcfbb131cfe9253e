#!/bin/sh
# intake.sh - build and run the inbox engine's bench (intake_bench.c)
# against an optimised build without sanitizers: ${BUILD:-build-bench}.
# Usage: bench/triage/intake.sh [REQUESTS=1000]
set -eu
cd "$(dirname "$0")/../.."
out=${BUILD:-build-bench}
make build BUILD="$out" SANITIZE=0 >/dev/null
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Isrc \
    $(pkg-config --cflags jansson) -o "$out/intake_bench" \
    bench/triage/intake_bench.c $(bench/libs.sh "$out")
"$out/intake_bench" "${1:-1000}"
