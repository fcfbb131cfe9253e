/*
 * privacy_prenoms.h - the first-name list of the name detector (private).
 *
 * Common French first names, lower case, UTF-8, from
 * data/privacy/prenoms.txt (the source: edit it and regenerate
 * privacy_prenoms.c with the command in that file's header comment).
 */
#ifndef PRIVACY_PRENOMS_H
#define PRIVACY_PRENOMS_H

#include <stddef.h>

extern const char *const pii_prenoms[];
extern const size_t pii_prenoms_len;

#endif
