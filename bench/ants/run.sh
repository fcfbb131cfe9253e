#!/bin/sh
# run.sh - build and run the ANTS hub bench (hub_bench.c) against an
# optimised build without sanitizers: ${BUILD:-build-bench}.
# Usage: bench/ants/run.sh
set -eu
cd "$(dirname "$0")/../.."
out=${BUILD:-build-bench}
make build BUILD="$out" SANITIZE=0 >/dev/null
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Isrc -Itests \
    $(pkg-config --cflags jansson) -o "$out/hub_bench" \
    bench/ants/hub_bench.c "$out/libgu_http_support.a" $(bench/libs.sh "$out")
"$out/hub_bench"
