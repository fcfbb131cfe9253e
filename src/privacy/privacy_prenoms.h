/*
 * privacy_prenoms.h - the first-name list of the name detector (private).
 *
 * Common first names in France (every generation and origin), lower
 * case, UTF-8 NFC, sorted by bytes (strcmp order), from
 * data/privacy/prenoms.txt (the source: edit it and regenerate
 * privacy_prenoms.c with data/privacy/gen_prenoms.py).
 */
#ifndef PRIVACY_PRENOMS_H
#define PRIVACY_PRENOMS_H

#include <stddef.h>

extern const char *const pii_prenoms[];
extern const size_t pii_prenoms_len;

#endif
