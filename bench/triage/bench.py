#!/usr/bin/python3
"""Routing figures of issue 5: Guichet's classifier and two peers on the
same split of the classification set of ../shared/data/README.md.

usage: bench/triage/bench.py [build/guichet] [--extra titres|corps[:N]]

By default the set of ../shared/data/README.md exactly as defined there
(title + description of each fiche). --extra corps[:N] (the default from
3 to 4 December, `--sans-corps` then gave the set as defined; the flag
is still accepted) gives both training files (train.tsv, train_lf.tsv)
one more example per training fiche, made from its own body (make_set.py
with_extra; never a test fiche's body): the same files for every
system; --extra titres, its section titles.

Peers, rerun here on the same files:
  - liblinear L2-loss linear SVM (scikit-learn's LinearSVC, which wraps
    liblinear) on TF-IDF word 1+2-grams (Debian python3-sklearn);
  - fastText supervised, -wordNgrams 2 -epoch 25 -lr 0.5 (Debian fasttext).
A peer whose package is absent is skipped with a message. Figures only,
never pass/fail.
"""
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "data", "service-public")
FICHES = os.environ.get("FICHES", "/tmp/package/data/particuliers")


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        ti, li = head.index("text"), head.index("label")
        for line in f:
            c = line.rstrip("\n").split("\t")
            rows.append((c[ti], c[li]))
    return rows


def scores(truth, pred):
    labels = sorted(set(truth))
    acc = sum(t == p for t, p in zip(truth, pred)) / len(truth)
    f1s = []
    for l in labels:
        tp = sum(t == l and p == l for t, p in zip(truth, pred))
        fp = sum(t != l and p == l for t, p in zip(truth, pred))
        fn = sum(t == l and p != l for t, p in zip(truth, pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return acc, sum(f1s) / len(f1s)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def guichet(binary, train, test, tmp):
    model = os.path.join(tmp, "guichet.model")
    t0 = time.perf_counter()
    c0 = children_cpu()
    out = subprocess.run([binary, "triage", "train", "--data", train,
                          "--model", model], check=True, capture_output=True,
                         text=True).stdout
    wall = time.perf_counter() - t0
    CPU["Guichet"] = children_cpu() - c0
    m = re.search(r"Apprentissage en ([0-9]+),([0-9]+) s", out)
    train_s = float(m.group(1) + "." + m.group(2)) if m else wall
    ev = json.loads(subprocess.run(
        [binary, "triage", "eval", "--model", model, "--data", test, "--json"],
        check=True, capture_output=True, text=True).stdout)
    return ev["accuracy"], ev["macro_f1"], ev["texts_per_s"], train_s, ev["ece"]


def sklearn_svm(train, test):
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC
    except ImportError:
        return None
    tr, te = read_tsv(train), read_tsv(test)
    t0 = time.perf_counter()
    c0 = time.thread_time()
    vec = TfidfVectorizer(ngram_range=(1, 2))
    x = vec.fit_transform([t for t, _ in tr])
    clf = LinearSVC(C=1.0).fit(x, [l for _, l in tr])
    train_s = time.perf_counter() - t0
    CPU["sklearn"] = time.thread_time() - c0
    # Texts per second of this thread's CPU time, best of 5 passes (as
    # guichet triage eval measures itself).
    best = None
    for _ in range(5):
        t0 = time.thread_time()
        pred = clf.predict(vec.transform([t for t, _ in te]))
        t = time.thread_time() - t0
        best = t if best is None or t < best else best
    tps = len(te) / best
    acc, f1 = scores([l for _, l in te], list(pred))
    return acc, f1, tps, train_s, None


def ft_text(s):
    return " ".join(re.findall(r"\w+|[^\w\s]", s.lower()))


def fasttext(train, test, tmp):
    exe = shutil.which("fasttext")
    if not exe:
        return None
    tr, te = read_tsv(train), read_tsv(test)
    ftr, fte = os.path.join(tmp, "ft.train"), os.path.join(tmp, "ft.test")
    with open(ftr, "w", encoding="utf-8") as f:
        for t, l in tr:
            f.write("__label__%s %s\n" % (l.replace(" ", "_"), ft_text(t)))
    with open(fte, "w", encoding="utf-8") as f:
        for t, _ in te:
            f.write(ft_text(t) + "\n")
    model = os.path.join(tmp, "ft")
    t0 = time.perf_counter()
    c0 = children_cpu()
    subprocess.run([exe, "supervised", "-input", ftr, "-output", model,
                    "-wordNgrams", "2", "-epoch", "25", "-lr", "0.5",
                    "-thread", "1", "-seed", "1", "-verbose", "0"],
                   check=True, capture_output=True)
    train_s = time.perf_counter() - t0
    CPU["fastText"] = children_cpu() - c0
    best = None
    for _ in range(5):  # CPU time of the process, loading the model included
        c0 = children_cpu()
        out = subprocess.run([exe, "predict", model + ".bin", fte],
                             check=True, capture_output=True,
                             text=True).stdout.split("\n")
        t = children_cpu() - c0
        best = t if best is None or t < best else best
    tps = len(te) / max(best, 1e-3)
    pred = [p[len("__label__"):].replace("_", " ") for p in out if p]
    acc, f1 = scores([l for _, l in te], pred)
    return acc, f1, tps, train_s, None


CPU = {}  # training CPU seconds of the last run, by system


def fr(x, d=3):
    return ("%.*f" % (d, x)).replace(".", ",")


def main():
    args = sys.argv[1:]
    extra = []
    if "--extra" in args:
        i = args.index("--extra")
        extra = args[i:i + 2]
        del args[i:i + 2]
    if "--sans-corps" in args:
        args.remove("--sans-corps")
        extra = []
    binary = os.path.abspath(args[0] if args
                             else os.path.join(ROOT, "build", "guichet"))
    qpath = os.path.join(DATA, "questions-dev.tsv")
    if not os.path.exists(qpath) or not os.path.isdir(FICHES):
        print("Données absentes (%s ou %s) : banc ignoré. Voir "
              "bench/triage/README.md." % (qpath, FICHES))
        return 0
    tmp = tempfile.mkdtemp(prefix="guichet-triage-bench.")
    try:
        r = subprocess.run([sys.executable, os.path.join(ROOT, "bench",
                            "triage", "make_set.py"), qpath, FICHES, tmp] +
                           extra,
                           capture_output=True, text=True)
        print(r.stdout.strip())
        print("Apprentissage : %s." % (
            "exemples du jeu + %s des fiches d'apprentissage (%s)" % (
                extra[1], " ".join(extra)) if extra else
            "exemples du jeu tels que définis"))
        if r.returncode != 0:
            print(r.stderr)
            return 1
        f = lambda n: os.path.join(tmp, n + ".tsv")
        systems = [
            ("Guichet", "Guichet (hachage mots 1-2 + caractères 4, TF-IDF, "
             "NB-SVM liblinear)",
             lambda a, b: guichet(binary, a, b, tmp)),
            ("sklearn", "liblinear SVM, TF-IDF mots 1+2 (scikit-learn)",
             sklearn_svm),
            ("fastText", "fastText bigrammes (-epoch 25 -lr 0.5)",
             lambda a, b: fasttext(a, b, tmp)),
        ]
        print()
        print("| système | exactitude | F1 macro | exactitude questions "
              "sans fuite | textes/s fiches (1 cœur) | textes/s questions "
              "| apprentissage (s) |")
        print("|---|---|---|---|---|---|---|")
        ece_note = ""
        cpu_note = []
        n_lf = len(read_tsv(f("test_lf")))
        for key, name, fn in systems:
            main_r = fn(f("train"), f("test"))
            cpu_main = dict(CPU)
            if main_r is None:
                print("| %s | paquet absent, ignoré | | | | | |" % name)
                continue
            lf = fn(f("train_lf"), f("test_lf"))
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                name, fr(main_r[0]), fr(main_r[1]), "%s (%d / %d)" % (
                    fr(lf[0]), round(lf[0] * n_lf), n_lf),
                "{:,.0f}".format(main_r[2]).replace(",", " "),
                "{:,.0f}".format(lf[2]).replace(",", " "),
                fr(main_r[3], 2)))
            if key in cpu_main:
                cpu_note.append("%s %s s" % (key, fr(cpu_main[key], 2)))
            if main_r[4] is not None:
                ece_note = "ECE de Guichet : %s (test), %s (sans fuite)" % (
                    fr(main_r[4]), fr(lf[4]))
        print()
        print(ece_note)
        print("Textes/s : prédiction seule, par seconde de temps CPU d'un "
              "cœur (meilleur de 5 passages), featurisation comprise ; "
              "fastText relit son modèle à chaque appel.")
        print("Apprentissage : temps écoulé ; en temps CPU : %s." %
              ", ".join(cpu_note))
        print("Charge de la machine : %s" % open("/proc/loadavg").read()
              .split()[:3])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
