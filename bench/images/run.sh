#!/bin/sh
# run.sh - time tri_image_clean() on generated residents' photos
# (make_images.py, fixed seed): built at -O2 without sanitizers from
# src/triage/tri_image.c and src/core only, so no full build is needed.
# Usage: bench/images/run.sh [RUNS]     (python3-pil makes the photos)
set -eu
cd "$(dirname "$0")/../.."
dir=${TMPDIR:-/tmp}/guichet-bench-images
mkdir -p "$dir"
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Isrc \
    $(pkg-config --cflags jansson libpng) -o "$dir/bench_image" \
    bench/images/bench_image.c src/triage/tri_image.c src/core/*.c \
    $(pkg-config --libs jansson libpng libsodium inih libutf8proc zlib) \
    -ljpeg -lpthread -lm
[ -f "$dir/photo-12mp.jpg" ] || /usr/bin/python3 bench/images/make_images.py "$dir"
cd "$dir"
./bench_image -n "${1:-5}" photo-12mp.jpg photo-12mp-orient6.jpg \
    photo-12mp-progressive.jpg photo-3mp.png capture-1600x1000.png
