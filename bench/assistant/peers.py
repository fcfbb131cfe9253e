#!/usr/bin/python3
"""peers.py - the assistant's retrieval peers on the same masked fiches.

Runs SQLite FTS5 (bm25, unicode61 remove_diacritics 2) and Xapian (French
stemmer, apostrophes split, BM25 k1=1.2 b=0.75) over the service-public
fiches with the title-masked protocol of ../shared/data/README.md, the same
masking rules as src/assistant/asst_eval.c: no dc:title, no
TitreAlternatif, no QuestionReponse, no element whose ID is the fiche's
own ID, no other dc:* metadata nor SurTitre/Audience/Canal. Each fiche is
one text (the peers have no fields). Questions are grouped by text; a hit
is any target.

    /usr/bin/python3 bench/assistant/peers.py FICHES_DIR QUESTIONS_TSV
        [--json] [--no-context]

Needs python3-xapian (Debian) for the Xapian row; skips it otherwise.
"""
import json
import os
import re
import sqlite3
import sys
import time

SKIP_META = {"SurTitre", "Audience", "Canal", "TitreAlternatif",
             "QuestionReponse"}
# Where the fiche sits (breadcrumb, parent folders and their other
# fiches' titles): Guichet's low-weight "context" field. --no-context
# leaves it out of the peers' text too.
CONTEXT = {"FilDAriane", "Theme", "SousThemePere", "DossierPere",
           "SousDossierPere"}


def collect(node, own, out):
    if node.get("type") == "text":
        out.append(node.get("text", ""))
        return
    if (node.get("attributes") or {}).get("ID") == own:
        return
    for k in node.get("children") or []:
        collect(k, own, out)
    out.append("\n")


def load(folder, context=True):
    docs = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            d = json.load(f)
        if not isinstance(d, dict) or not d.get("children"):
            continue
        own = d["id"]
        parts = []
        for el in d["children"][0].get("children") or []:
            n = el.get("name")
            if not n or n in SKIP_META or (not context and n in CONTEXT):
                continue
            if n.startswith("dc:") and n != "dc:description":
                continue
            collect(el, own, parts)
        docs.append((own, "".join(parts)))
    return docs


def questions(path):
    qs = {}
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\r\n").split("\t")
            if len(cols) >= 2:
                qs.setdefault(cols[0], set()).add(cols[1])
    return list(qs.items())


def score(name, search, qs):
    r1 = r5 = r10 = mrr = 0.0
    lat = []
    for q, targets in qs:
        t0 = time.perf_counter()
        ids = search(q)
        lat.append((time.perf_counter() - t0) * 1000)
        rank = next((i + 1 for i, d in enumerate(ids[:10])
                     if d in targets), 0)
        r1 += rank == 1
        r5 += 1 <= rank <= 5
        r10 += 1 <= rank <= 10
        mrr += 1 / rank if rank else 0
    n = len(qs)
    lat.sort()
    return {"peer": name, "n": n, "recall_at_1": r1 / n,
            "recall_at_5": r5 / n, "recall_at_10": r10 / n,
            "mrr_at_10": mrr / n, "mean_ms": sum(lat) / n,
            "p99_ms": lat[int(round(0.99 * (n - 1)))]}


WORD = re.compile(r"\w+", re.UNICODE)


def fts5(docs, qs):
    t0 = time.perf_counter()
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(id UNINDEXED, body, "
               "tokenize='unicode61 remove_diacritics 2')")
    db.executemany("INSERT INTO f(id, body) VALUES (?, ?)", docs)
    build_ms = (time.perf_counter() - t0) * 1000

    def search(q):
        words = WORD.findall(q)
        if not words:
            return []
        expr = " OR ".join('"%s"' % w for w in words)
        rows = db.execute("SELECT id FROM f WHERE f MATCH ? "
                          "ORDER BY bm25(f) LIMIT 10", (expr,))
        return [r[0] for r in rows]
    return dict(score("sqlite-fts5-bm25", search, qs), build_ms=build_ms)


def xapian_peer(docs, qs):
    try:
        import xapian
    except ImportError:
        print("peers: python3-xapian absent, Xapian skipped "
              "(apt-get install python3-xapian)", file=sys.stderr)
        return None
    t0 = time.perf_counter()
    db = xapian.WritableDatabase("", xapian.DB_BACKEND_INMEMORY)
    tg = xapian.TermGenerator()
    stem = xapian.Stem("french")
    tg.set_stemmer(stem)
    tg.set_stemming_strategy(xapian.TermGenerator.STEM_SOME)
    apos = re.compile("['\u2019]")
    for did, text in docs:
        doc = xapian.Document()
        tg.set_document(doc)
        tg.index_text(apos.sub(" ", text))
        doc.set_data(did)
        db.add_document(doc)
    build_ms = (time.perf_counter() - t0) * 1000
    qp = xapian.QueryParser()
    qp.set_stemmer(stem)
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    qp.set_default_op(xapian.Query.OP_OR)
    qp.set_database(db)
    enq = xapian.Enquire(db)
    enq.set_weighting_scheme(xapian.BM25Weight(1.2, 0, 1, 0.75, 0.5))

    def search(q):
        enq.set_query(qp.parse_query(apos.sub(" ", q)))
        return [m.document.get_data().decode() for m in enq.get_mset(0, 10)]
    return dict(score("xapian-french-bm25", search, qs), build_ms=build_ms)


def main():
    args = [a for a in sys.argv[1:] if a not in ("--json", "--no-context")]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    docs = load(args[0], "--no-context" not in sys.argv)
    qs = questions(args[1])
    rows = [fts5(docs, qs)]
    x = xapian_peer(docs, qs)
    if x:
        rows.append(x)
    for r in rows:
        if "--json" in sys.argv:
            print(json.dumps(r))
        else:
            print("%-20s R@1=%.3f R@5=%.3f R@10=%.3f MRR@10=%.3f "
                  "mean=%.3fms p99=%.3fms" % (
                      r["peer"], r["recall_at_1"], r["recall_at_5"],
                      r["recall_at_10"], r["mrr_at_10"], r["mean_ms"],
                      r["p99_ms"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
