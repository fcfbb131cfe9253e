#!/usr/bin/python3
"""Build the classification set of ../shared/data/README.md.

Questions of service-public/questions-dev.tsv (label: first theme of the
`theme` column) plus each particuliers fiche's title + description
(label: first theme of dc:subject), themes with at least 30 examples,
deduplicated by text (first occurrence kept), split by
int(sha1(text), 16) % 2 (0 = train).

Writes OUT/train.tsv and OUT/test.tsv (columns text, label, kind: kind
is `question` or `fiche`), and the leak-free pair OUT/train_lf.tsv,
OUT/test_lf.tsv (see below).
Exit code 3 when the data is absent (the bench then skips).
"""
import collections
import glob
import hashlib
import json
import os
import sys


def clean(s):
    return " ".join(s.replace("\t", " ").split())


def texts_of(node, name):
    """Text of the first direct child element `name` of a Publication."""
    for c in node.get("children", []):
        if c.get("type") == "element" and c.get("name") == name:
            return clean("".join(t.get("text", "") for t in walk(c)))
    return ""


def walk(node):
    if node.get("type") == "text":
        yield node
    for c in node.get("children", []):
        yield from walk(c)


def rows_of(qpath, fdir):
    """(text, label, kind, fiche ids) of every example, deduplicated,
    themes with at least 30 examples; None when the data is absent."""
    if not os.path.exists(qpath) or not glob.glob(os.path.join(fdir, "*.json")):
        return None
    rows = []
    seen_q = collections.OrderedDict()
    with open(qpath, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        qi, ti, hi = (header.index("question"), header.index("target_fiche"),
                      header.index("theme"))
        for line in f:
            c = line.rstrip("\n").split("\t")
            q = clean(c[qi])
            label = c[hi].split(",")[0].strip()
            if q not in seen_q:
                seen_q[q] = [label, set()]
            seen_q[q][1].add(c[ti])
    for q, (label, targets) in seen_q.items():
        rows.append((q, label, "question", targets))
    for p in sorted(glob.glob(os.path.join(fdir, "*.json"))):
        with open(p, encoding="utf-8") as f:
            d = json.load(f)
        if not isinstance(d, dict):
            continue
        pub = next((c for c in d.get("children", [])
                    if c.get("name") == "Publication"), None)
        if pub is None:
            continue
        title = texts_of(pub, "dc:title")
        desc = texts_of(pub, "dc:description")
        subj = texts_of(pub, "dc:subject").split(",")[0].strip()
        if not title or not subj:
            continue
        rows.append((clean(title + " " + desc), subj, "fiche", {d["id"]}))
    count = collections.Counter(r[1] for r in rows)
    keep = {l for l, n in count.items() if n >= 30}
    uniq, seen = [], set()
    for r in rows:
        if r[1] in keep and r[0] not in seen:
            seen.add(r[0])
            uniq.append(r)
    return uniq


# Headings of a fiche's own body: the titles of its chapters, sub-
# chapters, cases and situations. Never the elements that name OTHER
# fiches (links, "see also", parent file, breadcrumb, the questions that
# point to a fiche): those could carry a test fiche's title.
HEADED = ("Chapitre", "SousChapitre", "Cas", "Situation")
SKIP = ("QuestionReponse", "VoirAussi", "DossierPere", "FilDAriane",
        "LienInterne", "LienIntra", "LienExterne", "OuSAdresser", "Reference",
        "ServiceEnLigne", "PourEnSavoirPlus", "SousDossier", "Dossier",
        "Fiche", "Theme", "SousThemePere", "RechercheGuidee")


def own_text(node):
    """The text of `node` without the elements of SKIP inside it (a
    paragraph's links carry other fiches' titles)."""
    if node.get("type") == "text":
        return node.get("text", "")
    if node.get("name") in SKIP:
        return " "
    return "".join(own_text(c) for c in node.get("children", []))


def headings_of(node, parent, out):
    for c in node.get("children", []):
        if c.get("type") != "element" or c.get("name") in SKIP:
            continue
        if c["name"] == "Titre" and parent in HEADED:
            t = clean(own_text(c))
            if t and t not in out:
                out.append(t)
        else:
            headings_of(c, c["name"], out)
    return out


def body_of(node, out):
    for c in node.get("children", []):
        if (c.get("type") != "element" or c.get("name") in SKIP or
                c["name"].startswith("dc:")):
            continue
        if c["name"] == "Paragraphe":
            t = clean(own_text(c))
            if t:
                out.append(t)
        else:
            body_of(c, out)
    return " ".join(out)


EXTRA_KINDS = ("titres", "corps")


def extra_of(pub, kind, cap):
    """The text of a fiche's body kept by `kind`: "titres", its headings
    joined; "corps", its paragraphs (and list items, table cells) in
    order; at most `cap` characters (0 = all)."""
    if kind == "titres":
        t = ". ".join(headings_of(pub, "Publication", []))
    else:
        t = body_of(pub, [])
    return t[:cap] if cap else t


def with_extra(rows, fdir, kind, cap=0):
    """rows plus, for each fiche among them, one example of kind `kind`
    (see extra_of; label: the fiche's) when its text is not empty and not
    already an example. Only ever called on training rows: fiches are
    training examples, their bodies too; a test fiche's body is never
    read. An extra row is (text, label, kind, ids, the fiche's text)."""
    seen = {r[0] for r in rows}
    extra = []
    for r in rows:
        if r[2] != "fiche":
            continue
        for fid in sorted(r[3]):
            with open(os.path.join(fdir, fid + ".json"), encoding="utf-8") as f:
                d = json.load(f)
            pub = next(c for c in d["children"]
                       if c.get("name") == "Publication")
            t = clean(extra_of(pub, kind, cap))
            if t and t not in seen:
                seen.add(t)
                extra.append((t, r[1], kind, set(r[3]), r[0]))
    return rows + extra


def parse_extra(argv):
    """(other arguments, kind or None, cap) of `--extra KIND[:CAP]`."""
    args, kind, cap = [], None, 0
    it = iter(argv)
    for a in it:
        if a == "--extra":
            v = next(it, "")
            kind, _, c = v.partition(":")
            cap = int(c) if c else 0
            if kind not in EXTRA_KINDS:
                raise SystemExit("--extra : titres ou corps[:N]")
        else:
            args.append(a)
    return args, kind, cap


def split(uniq):
    """(train, test, train_lf, test_lf) of the rows."""
    split = lambda t: int(hashlib.sha1(t.encode("utf-8")).hexdigest(), 16) % 2
    train = [r for r in uniq if split(r[0]) == 0]
    test = [r for r in uniq if split(r[0]) == 1]
    train_fiches = set()
    for r in train:
        if r[2] == "fiche":
            train_fiches |= r[3]
    # questions-dev.tsv is the dev half of a larger set: all its questions
    # fall on side 0 of the split, so the test half holds only fiches.
    # Leak-free questions are measured by a second run: train on the
    # training half minus the questions none of whose target fiches is in
    # it, and test on those questions (neither they nor their fiche seen).
    lf = [r for r in uniq if r[2] == "question" and not (r[3] & train_fiches)]
    lf_set = {r[0] for r in lf}
    train_lf = [r for r in train if r[0] not in lf_set]
    return train, test, train_lf, lf


def write(path, part):
    with open(path, "w", encoding="utf-8") as f:
        f.write("text\tlabel\tkind\n")
        for r in part:
            f.write("%s\t%s\t%s\n" % r[:3])


def main():
    args, kind, cap = parse_extra(sys.argv[1:])
    if len(args) != 3:
        print("usage: make_set.py QUESTIONS_TSV FICHES_DIR OUT_DIR "
              "[--extra titres|corps[:N]]")
        return 2
    qpath, fdir, out = args
    uniq = rows_of(qpath, fdir)
    if uniq is None:
        print("données absentes : %s ou %s" % (qpath, fdir))
        return 3
    train, test, train_lf, lf = split(uniq)
    if kind:
        train = with_extra(train, fdir, kind, cap)
        train_lf = with_extra(train_lf, fdir, kind, cap)
    os.makedirs(out, exist_ok=True)
    for name, part in (("train", train), ("test", test),
                       ("train_lf", train_lf), ("test_lf", lf)):
        write(os.path.join(out, name + ".tsv"), part)
    print("%d exemples, %d classes : %d apprentissage, %d test "
          "(%d questions) ; sans fuite : %d questions de test, %d exemples "
          "d'apprentissage" % (
              len(uniq), len(set(r[1] for r in uniq)), len(train), len(test),
              sum(r[2] == "question" for r in test), len(lf), len(train_lf)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
