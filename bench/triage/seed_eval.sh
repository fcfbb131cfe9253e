#!/bin/sh
# seed_eval.sh - build and run seed_eval.c (routing at the default
# thresholds and urgency, rules and model, by cross-validation on the seed
# corpus) against an optimised build without sanitizers:
# ${BUILD:-build-bench}. Usage: bench/triage/seed_eval.sh
set -eu
cd "$(dirname "$0")/../.."
out=${BUILD:-build-bench}
make build BUILD="$out" SANITIZE=0 >/dev/null
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Isrc \
    $(pkg-config --cflags jansson) -o "$out/seed_eval" \
    bench/triage/seed_eval.c $(bench/libs.sh "$out")
"$out/seed_eval"
