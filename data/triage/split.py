#!/usr/bin/env python3
"""Stratified k-fold split of seed.tsv for checking the seed corpus.

usage: split.py SEED.tsv OUTDIR [K=5] [SEED=5]
writes OUTDIR/train{i}.tsv and OUTDIR/test{i}.tsv (each with the header and
every column), every label spread evenly over the K test folds (test = 1/K
of the data). The label is the column named `label` in the header.
"""
import collections, os, random, sys

src, out = sys.argv[1], sys.argv[2]
k = int(sys.argv[3]) if len(sys.argv) > 3 else 5
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 5)
with open(src, encoding="utf-8") as f:
    header = f.readline()
    rows = [line for line in f if line.strip()]
col = header.rstrip("\n").split("\t").index("label")
by_label = collections.defaultdict(list)
for line in rows:
    by_label[line.rstrip("\n").split("\t")[col]].append(line)
folds = [[] for _ in range(k)]
for label in sorted(by_label):
    lines = by_label[label]
    rng.shuffle(lines)
    for i, line in enumerate(lines):
        folds[i % k].append(line)
os.makedirs(out, exist_ok=True)
for i in range(k):
    for name, part in (("train", [l for j in range(k) if j != i for l in folds[j]]), ("test", folds[i])):
        with open(os.path.join(out, f"{name}{i}.tsv"), "w", encoding="utf-8") as f:
            f.write(header)
            f.writelines(part)
