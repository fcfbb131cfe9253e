#!/usr/bin/python3
"""Cross-check of the personal-data validators against python3-stdnum.

Generates valid and invalid SIREN, SIRET (with La Poste's), NIR (with
Corsica), IBAN, payment cards and numéros fiscaux with a fixed seed,
checks each against stdnum, writes them one a line and asks
`guichet pii scan FILE --json`: every valid number must come back as one
span of its type covering exactly the number, no invalid one may carry
the type.

stdnum 1.18 (Debian bookworm) checks only the shape of a numéro fiscal
(13 digits, first 0-3); the key (first ten digits mod 511) is computed
here as the DGFiP publishes it, and later stdnum versions check it too.

Usage: test_stdnum.py path/to/guichet   (exit 77 = skipped: no stdnum)
"""
import json
import os
import random
import subprocess
import sys
import tempfile

try:
    from stdnum import iban, luhn
    from stdnum.fr import nif, nir, siren, siret
except ImportError:
    print("python3-stdnum missing: skipped (scripts/deps.sh --test)")
    sys.exit(77)

rng = random.Random(20261201)


def digits(k):
    return "".join(rng.choice("0123456789") for _ in range(k))


def other_digit(d):
    return rng.choice([c for c in "0123456789" if c != d])


def corrupt_last(num, valid):
    """The number with its last digit changed so that `valid` says no."""
    for _ in range(20):
        bad = num[:-1] + other_digit(num[-1])
        if not valid(bad):
            return bad
    raise AssertionError("cannot corrupt " + num)


def gen_siren():
    n = digits(8)
    return n + luhn.calc_check_digit(n)


def gen_siret():
    if rng.random() < 0.2:  # La Poste: digit sum a multiple of 5
        while True:
            n = "356000000" + digits(5)
            if sum(map(int, n)) % 5 == 0 and n != "35600000000048":
                return n
    n = gen_siren() + digits(4)
    return n + luhn.calc_check_digit(n)


def gen_nir():
    dept = rng.choice(["%02d" % rng.randint(1, 95), "2A", "2B"])
    body = (rng.choice("12") + "%02d" % rng.randint(0, 99) +
            "%02d" % rng.randint(1, 12) + dept + digits(3) + digits(3))
    return body + nir.calc_check_digits(body)


def gen_iban():
    cc, n = rng.choice([("FR", 23), ("DE", 18), ("LU", 16), ("FR", 23),
                        ("IT", 0)])
    if cc == "IT":
        bban = rng.choice("ABCDEFGHIJ") + digits(10) + digits(12)
    else:
        bban = digits(n)
    num = cc + iban.calc_check_digits(cc + "00" + bban) + bban
    return iban.format(num)


def gen_card():
    n = rng.choice("45") + digits(14)
    return n + luhn.calc_check_digit(n)


def fiscal_key(n10):
    return "%03d" % (int(n10) % 511)


def fiscal_valid(n):
    return nif.is_valid(n) and fiscal_key(n[:10]) == n[10:]


def gen_fiscal():
    n = rng.choice("0123") + digits(9)
    return n + fiscal_key(n)


def iban_corrupt(num):
    compact = num.replace(" ", "")
    for _ in range(20):
        k = rng.randrange(4, len(compact))
        if not compact[k].isdigit():
            continue
        bad = compact[:k] + other_digit(compact[k]) + compact[k + 1:]
        if not iban.is_valid(bad):
            return iban.format(bad)
    raise AssertionError(num)


KINDS = [
    # type, generator, stdnum check, corrupter
    ("siren", gen_siren, siren.is_valid,
     lambda n: corrupt_last(n, siren.is_valid)),
    ("siret", gen_siret, siret.is_valid,
     lambda n: corrupt_last(n, siret.is_valid)),
    ("nir", gen_nir, nir.is_valid, lambda n: corrupt_last(n, nir.is_valid)),
    ("iban", gen_iban, iban.is_valid, iban_corrupt),
    ("card", gen_card, luhn.is_valid, lambda n: corrupt_last(n, luhn.is_valid)),
    ("fiscal", gen_fiscal, fiscal_valid,
     lambda n: corrupt_last(n, fiscal_valid)),
]
PER_KIND = 150

FORMAT = {
    "siren": lambda n: " ".join((n[:3], n[3:6], n[6:])),
    "siret": siret.format, "nir": nir.format,
    "iban": iban.format, "fiscal": nif.format,
    "card": lambda n: " ".join(n[k:k + 4] for k in range(0, len(n), 4)),
}


def main():
    guichet = sys.argv[1]
    cases = []  # (type, number, valid)
    for kind, gen, check, corrupt in KINDS:
        for _ in range(PER_KIND):
            num = gen()
            assert check(num), (kind, num)
            if rng.random() < 0.5:  # as printed on documents
                num = FORMAT[kind](num)
                assert check(num.replace(" ", "")), (kind, num)
            cases.append((kind, num, True))
            bad = corrupt(num.replace(" ", ""))
            assert not check(bad), (kind, bad)
            cases.append((kind, bad, False))
    text, where = [], []
    off = 0
    for kind, num, valid in cases:
        line = "valeur " + num + " ok\n"
        start = off + len("valeur ")
        where.append((start, start + len(num.encode())))
        text.append(line)
        off += len(line.encode())
    fd, path = tempfile.mkstemp(suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("".join(text))
        out = subprocess.run([guichet, "pii", "scan", path, "--json"],
                             check=True, capture_output=True, text=True,
                             timeout=60).stdout
    finally:
        os.unlink(path)
    spans = json.loads(out)["spans"]
    fails = 0
    for (kind, num, valid), (start, end) in zip(cases, where):
        inside = [s for s in spans if s["start"] < end and s["end"] > start]
        exact = [s for s in inside
                 if s["start"] == start and s["end"] == end
                 and s["type"] == kind]
        typed = [s for s in inside if s["type"] == kind]
        if valid and len(exact) != 1:
            fails += 1
            print("FAIL valid %s %s -> %s" % (kind, num, inside))
        if not valid and typed:
            fails += 1
            print("FAIL invalid %s %s -> %s" % (kind, num, typed))
    n = len(cases)
    print("%d numbers (%d kinds, valid and invalid), %d disagreements"
          % (n, len(KINDS), fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
