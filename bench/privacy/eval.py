#!/usr/bin/python3
"""Score personal-data detection on the set from gen.py: Guichet
(`guichet pii scan --json`, one message at a time) side by side with a
regex-only baseline (plain patterns, no checksum, no context).

Definitions (all on the UTF-8 bytes of each message):
- recall of a type: share of its known items whose bytes are all
  covered by detected spans (of any type: what counts is that the item
  is redacted);
- leak rate: share of messages holding personal data in which at least
  one item is not fully covered;
- over-redaction: share of messages with at least one false positive (a
  detected span touching no known item), and, at character level, the
  share of bytes outside known items that are redacted.

Usage: eval.py GUICHET SET.jsonl
"""
import json
import re
import subprocess
import sys
import tempfile
import os

KINDS = ["email", "phone", "nir", "iban", "card", "siren", "siret", "fiscal",
         "passport", "cni", "plate", "birthdate", "address", "name", "ants"]

W = r"[A-Za-zÀ-ÖØ-öø-ÿ]"
BASELINE = [
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    r"(?:\+33\s?|0)[1-9](?:[ .-]?\d{2}){4}",
    r"\b[12]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[AB])\s?\d{3}\s?\d{3}\s?\d{2}\b",
    r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b",
    r"\b(?:\d{4}[ -]?){3}\d{4}\b",
    r"\b\d{3}\s?\d{3}\s?\d{3}(?:\s?\d{5})?\b",
    r"\b[0-3]\d{12}\b|\b\d{2} \d{2} \d{3} \d{3} \d{3}\b",
    r"\b\d{2}[A-Z]{2}\d{5}\b",
    r"\b\d{12}\b|\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{9,10}\b",
    r"\b[A-Z]{2}[- ]?\d{3}[- ]?[A-Z]{2}\b|\b\d{1,4} [A-Z]{1,3} \d{2}\b",
    r"\b\d{1,2}[/.]\d{1,2}[/.]\d{4}\b|\b\d{1,2} (?:janvier|février|mars|"
    r"avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) "
    r"\d{4}\b",
    r"\b\d{1,4}(?: ?bis| ter)?,? (?:rue|avenue|av\.|bd|boulevard|chemin|"
    r"impasse|allée|place|route) [^,.\n]+(?:,? \d{5} " + W + r"[\w-]*)?",
    r"(?:\bM\.|\bMme|\bMadame|\bMonsieur|m'appelle|je suis) +(" + W +
    r"[\w-]*(?: [A-Z][\w-]*)?)",
    r"\b\d{6,}\b",
]
BASELINE = [re.compile(p) for p in BASELINE]


def baseline_spans(text):
    b = text.encode()
    out = []
    for rx in BASELINE:
        for m in rx.finditer(text):
            g = 1 if rx.groups else 0
            s, e = m.start(g), m.end(g)
            out.append((len(text[:s].encode()), len(text[:e].encode())))
    return out


FP_BY_TYPE = {}


def guichet_spans(guichet, text, tmp):
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    out = subprocess.run([guichet, "pii", "scan", tmp, "--json"],
                         check=True, capture_output=True, text=True).stdout
    spans = json.loads(out)["spans"]
    guichet_spans.types = {(s["start"], s["end"]): s["type"] for s in spans}
    return [(s["start"], s["end"]) for s in spans]


def score(msgs, detect):
    found = {k: [0, 0] for k in KINDS}
    leaks = with_pii = fp_msgs = 0
    other = other_red = 0
    for m in msgs:
        n = len(m["text"].encode())
        red = bytearray(n)
        for s, e in detect(m["text"]):
            for k in range(s, e):
                red[k] = 1
        gold = bytearray(n)
        leak = False
        for sp in m["spans"]:
            ok = all(red[sp["start"]:sp["end"]])
            found[sp["type"]][0] += ok
            found[sp["type"]][1] += 1
            leak |= not ok
            for k in range(sp["start"], sp["end"]):
                gold[k] = 1
        if m["spans"]:
            with_pii += 1
            leaks += leak
        # a false positive: a detected run of bytes touching no known item
        types = getattr(detect, "types", None)
        if types is None and detect.__name__ == "<lambda>":
            types = guichet_spans.types
        if types:
            for (s, e), t in types.items():
                if not any(gold[s:e]):
                    FP_BY_TYPE[t] = FP_BY_TYPE.get(t, 0) + 1
        fp, k = False, 0
        while k < n:
            if red[k]:
                e = k
                while e < n and red[e]:
                    e += 1
                if not any(gold[k:e]):
                    fp = True
                k = e
            else:
                k += 1
        fp_msgs += fp
        other += sum(1 for k in range(n) if not gold[k])
        other_red += sum(1 for k in range(n) if red[k] and not gold[k])
    return {"recall": {k: (v[0] / v[1] if v[1] else None, v[1])
                       for k, v in found.items()},
            "leak": leaks / with_pii, "fp_msgs": fp_msgs / len(msgs),
            "over_chars": other_red / other, "n": len(msgs),
            "with_pii": with_pii}


def main():
    guichet, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        msgs = [json.loads(line) for line in f]
    fd, tmp = tempfile.mkstemp(suffix=".txt")
    os.close(fd)
    try:
        g = score(msgs, lambda t: guichet_spans(guichet, t, tmp))
    finally:
        os.unlink(tmp)
    b = score(msgs, baseline_spans)
    print("%d messages (%d avec données personnelles)\n" % (g["n"],
                                                           g["with_pii"]))
    print("%-12s %7s %10s %10s" % ("type", "items", "Guichet", "regex"))
    for k in KINDS:
        rg, cnt = g["recall"][k]
        rb, _ = b["recall"][k]
        print("%-12s %7d %9.1f%% %9.1f%%" % (k, cnt, 100 * rg, 100 * rb))
    print()
    for label, key in [("fuite (messages)", "leak"),
                       ("faux positif (messages)", "fp_msgs"),
                       ("sur-masquage (caractères)", "over_chars")]:
        print("%-26s %9.2f%% %9.2f%%" % (label, 100 * g[key], 100 * b[key]))
    print("\nfaux positifs de Guichet par type : " +
          ", ".join("%s %d" % kv for kv in sorted(FP_BY_TYPE.items())))


if __name__ == "__main__":
    main()
