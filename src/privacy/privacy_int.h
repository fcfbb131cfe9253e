/*
 * privacy_int.h - what the files of privacy/ share and nobody else sees.
 *
 * privacy.c owns the scanner and the redaction loop; privacy_keyed.c
 * plugs a different placeholder writer into that loop (a keyed tag per
 * value), so both redactions find exactly the same spans.
 */
#ifndef PRIVACY_PRIVACY_INT_H
#define PRIVACY_PRIVACY_INT_H

#include "privacy/privacy.h"

/* The separator between a placeholder's words and its tag: U+00B7. */
#define PII_TAG_SEP "\xc2\xb7"
/* Hex digits of a tag (32 bits of the keyed hash). */
#define PII_TAG_HEX 8

/*
 * Write the placeholder of one span (kind, the span's bytes v[0..n)) to
 * b. ctx is the caller's (the key). Allocation failures are recorded in
 * b (b->oom) like any gu_buf append.
 */
typedef void (*pii_tag_fn)(const void *ctx, enum pii_kind kind,
                           const char *v, size_t n, struct gu_buf *b);

/*
 * pii_redact() with the placeholder writer `tag` (NULL: the plain
 * placeholders). Same contract as pii_redact().
 */
char *pii_redact_with(struct gu_arena *a, const char *s, size_t n,
                      unsigned *kinds, pii_tag_fn tag, const void *ctx);

#endif
