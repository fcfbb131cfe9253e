#!/bin/bash
# Development figures for choosing the classifier's settings, on the sets
# of dev_set.py (training half only; the real test is never read):
# accuracy on the three development leak-free splits and their mean, and
# 5-fold cross-validation of dev_cv.tsv (folds int(sha1(line), 16) % 5;
# pooled accuracy, mean of the folds' macro-F1). Figures only.
#
# usage: bench/triage/dev_eval.sh GUICHET_BINARY [DEV_DIR=/tmp/triage-dev]
set -eu
B=$1
D=${2:-/tmp/triage-dev}
if [ ! -f "$D/dev_cv.tsv" ]; then
    echo "jeu de développement absent : lancez bench/triage/dev_set.py (voir README)"
    exit 3
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
lf=""
for r in 0 1 2; do
    "$B" triage train --data "$D/dev_train_lf$r.tsv" --model "$W/m$r" >/dev/null
    lf="$lf $("$B" triage eval --model "$W/m$r" --data "$D/dev_test_lf$r.tsv" \
        --json | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["accuracy"])')"
done
/usr/bin/python3 - "$B" "$W" "$D" "$lf" <<'PY'
import hashlib, json, subprocess, sys
b, w, d, lf = sys.argv[1:5]
lines = open(d + "/dev_cv.tsv", encoding="utf-8").read().split("\n")
head, rows = lines[0], [l for l in lines[1:] if l]
fold = lambda l: int(hashlib.sha1(l.encode("utf-8")).hexdigest(), 16) % 5
# Extra rows (a training fiche's body, dev_set.py --extra) are training
# data only, in the folds where their fiche is training data too.
parent = {}
try:
    for l in open(d + "/dev_cv_extra.tsv", encoding="utf-8"):
        c = l.rstrip("\n").split("\t")
        parent["\t".join(c[:3])] = "\t".join(c[3:])
except FileNotFoundError:
    pass
extra = [l for l in rows if l in parent]
rows = [l for l in rows if l not in parent]
right = f1 = 0.0
for f in range(5):
    for name, part in (("tr", [l for l in rows if fold(l) != f] +
                              [l for l in extra if fold(parent[l]) != f]),
                       ("te", [l for l in rows if fold(l) == f])):
        with open("%s/%s.tsv" % (w, name), "w", encoding="utf-8") as out:
            out.write("\n".join([head] + part) + "\n")
    subprocess.run([b, "triage", "train", "--data", w + "/tr.tsv", "--model",
                    w + "/cv"], stdout=subprocess.DEVNULL, check=True)
    j = json.loads(subprocess.run(
        [b, "triage", "eval", "--model", w + "/cv", "--data", w + "/te.tsv",
         "--json"], capture_output=True, text=True, check=True).stdout)
    right += j["accuracy"] * j["n"]
    f1 += j["macro_f1"] / 5
v = [float(x) for x in lf.split()]
print("sans fuite (dev) : %s, moyenne %.4f | validation croisée : "
      "exactitude %.4f, F1 macro %.4f" % (
          " ; ".join("%.4f" % x for x in v), sum(v) / len(v),
          right / len(rows), f1))
PY
