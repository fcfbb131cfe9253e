#!/usr/bin/python3
"""Regenerate src/privacy/privacy_prenoms.c from data/privacy/prenoms.txt.

Usage: data/privacy/gen_prenoms.py data/privacy/prenoms.txt src/privacy/privacy_prenoms.c
"""
import sys
names = [l.strip() for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
assert names == sorted(set(names)), "prenoms.txt must be sorted and unique"
out = ['/*',
 ' * privacy_prenoms.c - generated from data/privacy/prenoms.txt (sorted,',
 ' * unique, lower case, NFC) by data/privacy/gen_prenoms.py. Edit the',
 ' * .txt and regenerate; not by hand. The order matters: prenom_at()',
 ' * searches the list by bisection.',
 ' */',
 '#include "privacy/privacy_prenoms.h"',
 '',
 'const char *const pii_prenoms[] = {']
out += ['    "%s",' % n for n in names]
out += ['};', '', 'const size_t pii_prenoms_len = sizeof(pii_prenoms) / sizeof(pii_prenoms[0]);', '']
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out))
