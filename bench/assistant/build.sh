#!/bin/sh
# build.sh - compile the tuning driver (optimised) into
# ${BUILD:-build-text}/eval_driver, without CMake, from the core, text and
# assistant sources: it loads the fiches once and evaluates a grid of
# ranking parameters (see eval_driver.c). Figures for the record come from
# run.sh, through `guichet eval assistant`.
# Usage: bench/assistant/build.sh [extra cc flags]
set -eu
cd "$(dirname "$0")/../.."
cc=${CC:-cc}
out=${BUILD:-build-text}
mkdir -p "$out"
$cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow \
    -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 "$@" \
    -Isrc -o "$out/eval_driver" bench/assistant/eval_driver.c \
    src/core/*.c src/text/*.c src/assistant/asst_index.c \
    src/assistant/asst_eval.c src/assistant/asst_xlat.c \
    -ljansson -lsodium -linih -lutf8proc -lstemmer -lpthread -lm
