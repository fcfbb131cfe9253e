#!/usr/bin/python3
"""Development sets drawn from the TRAINING half only of the
classification set (make_set.py), for choosing the classifier's settings
without ever looking at the test half.

usage: dev_set.py QUESTIONS_TSV FICHES_DIR OUT_DIR [REPEATS=3]

The questions of the real leak-free test (test_lf.tsv of make_set.py) are
left out entirely. What remains (train_lf.tsv: the training half's fiches
and the questions whose fiche is among them) is split the same way the
bench splits the whole set:
  - fiches by int(sha1("dev<r>" + text), 16) % 2: side 0 kept for
    training, side 1 dropped (it plays the role of the unseen test fiches);
  - dev_test_lf<r>.tsv: the questions none of whose target fiches is on
    side 0 (neither they nor their fiche are in dev_train_lf<r>.tsv);
  - dev_train_lf<r>.tsv: side-0 fiches and the other questions;
  for r = 0 .. REPEATS-1 (a few hundred questions each: average them).
And dev_cv.tsv is train_lf.tsv itself, for k-fold cross-validation of
the main figure (accuracy, macro-F1 over fiches and questions).
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_set  # noqa: E402


def main():
    args, kind, cap = make_set.parse_extra(sys.argv[1:])
    if len(args) not in (3, 4):
        print("usage: dev_set.py QUESTIONS_TSV FICHES_DIR OUT_DIR [REPEATS] "
              "[--extra titres|corps[:N]]")
        return 2
    qpath, fdir, out = args[:3]
    rows = make_set.rows_of(qpath, fdir)
    if rows is None:
        print("données absentes : %s ou %s" % (qpath, fdir))
        return 3
    train, _test, train_lf, _lf = make_set.split(rows)
    repeats = int(args[3]) if len(args) > 3 else 3
    os.makedirs(out, exist_ok=True)
    cv = make_set.with_extra(train_lf, fdir, kind, cap) if kind else train_lf
    make_set.write(os.path.join(out, "dev_cv.tsv"), cv)
    # Which fiche each extra row comes from (its text, label and kind as
    # the fiche's line of dev_cv.tsv), so that dev_eval.sh keeps a
    # fiche's body out of training when the fiche is in the test fold.
    with open(os.path.join(out, "dev_cv_extra.tsv"), "w",
              encoding="utf-8") as f:
        for r in cv[len(train_lf):]:
            f.write("%s\t%s\t%s\t%s\t%s\tfiche\n" % (r[0], r[1], r[2],
                                                     r[4], r[1]))
    print("développement (moitié apprentissage seule) : %d exemples pour "
          "la validation croisée" % len(train_lf))
    for rep in range(repeats):
        salt = "dev%d" % rep
        side = lambda t: int(hashlib.sha1((salt + t).encode("utf-8"))
                             .hexdigest(), 16) % 2
        kept = set()
        for r in train_lf:
            if r[2] == "fiche" and side(r[0]) == 0:
                kept |= r[3]
        dev_test = [r for r in train_lf if r[2] == "question" and
                    not (r[3] & kept)]
        dev_train = [r for r in train_lf
                     if (r[2] == "fiche" and side(r[0]) == 0) or
                     (r[2] == "question" and r[3] & kept)]
        if kind:
            dev_train = make_set.with_extra(dev_train, fdir, kind, cap)
        make_set.write(os.path.join(out, "dev_train_lf%d.tsv" % rep),
                       dev_train)
        make_set.write(os.path.join(out, "dev_test_lf%d.tsv" % rep), dev_test)
        print("sans fuite %d : %d questions de test, %d exemples "
              "d'apprentissage" % (rep, len(dev_test), len(dev_train)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
