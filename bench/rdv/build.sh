#!/bin/sh
# build.sh - compile the appointment bench driver (optimised) into
# ${BUILD:-build-api-rel}/rdv_driver, linked with the library that
# `make build BUILD=...` made (so the code measured is the server's).
# Usage: bench/rdv/build.sh [extra cc flags]
set -eu
cd "$(dirname "$0")/../.."
cc=${CC:-cc}
out=${BUILD:-build-api-rel}
if [ ! -f "$out/libguichet_lib.a" ]; then
    echo "build.sh : $out/libguichet_lib.a absent : lancez d'abord" \
         "« make build BUILD=$out »." >&2
    exit 1
fi
$cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow \
    -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 "$@" \
    -Isrc $(pkg-config --cflags jansson) -o "$out/rdv_driver" \
    bench/rdv/driver.c "$out/libguichet_lib.a" \
    $(pkg-config --libs libmicrohttpd jansson sqlite3 libsodium inih zlib \
        libcmark libxml-2.0 libzip libcurl libutf8proc) \
    -lstemmer -llinear -lpthread -lm
