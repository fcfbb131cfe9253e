/*
 * fuzz_pii.c - libFuzzer target for the personal-data scanner.
 *
 * Invariants: pii_scan and pii_redact never crash on any bytes; spans are
 * in bounds, sorted and do not overlap; when the input is valid UTF-8,
 * spans sit on code point boundaries and the redacted text is valid
 * UTF-8; and redacting leaves nothing to detect (a second scan of the
 * output finds no span). The keyed redaction keeps UTF-8 valid and
 * leaves nothing either (its tags are placeholders).
 * pii_norm_email and pii_norm_phone, on the input as a string, return
 * NULL or a well-formed value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/privacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
boundary(const uint8_t *s, size_t n, size_t off)
{
    return off == n || (s[off] & 0xC0) != 0x80;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct pii_span sp[64];
    size_t count = 0, again = 0, end = 0;
    struct gu_arena *a;
    unsigned kinds = 0, seen = 0;
    bool valid;
    char *r;

    if (size > 65536)
        return 0;
    valid = gu_utf8_valid(s, size);
    if (pii_scan(s, size, sp, GU_ARRAY_LEN(sp), &count) != 0)
        abort();
    for (size_t k = 0; k < count && k < GU_ARRAY_LEN(sp); k++) {
        if (sp[k].len == 0 || sp[k].off < end || sp[k].off + sp[k].len > size)
            abort();
        if (valid && (!boundary(data, size, sp[k].off) ||
                      !boundary(data, size, sp[k].off + sp[k].len)))
            abort();
        if (!pii_placeholder(sp[k].kind) || !pii_kind_name(sp[k].kind))
            abort();
        end = sp[k].off + sp[k].len;
        seen |= (unsigned)sp[k].kind;
    }
    a = gu_arena_new(0);
    if (!a)
        return 0;
    r = pii_redact(a, s, size, &kinds);
    if (r && !memchr(s, 0, size)) {
        static const unsigned char key[PII_KEY_BYTES] = {7, 7, 7};
        unsigned kk = 0;
        char *k = pii_redact_keyed(a, s, size, key, &kk);

        if (k) {
            size_t kn = strlen(k);

            /* The keyed output is clean and valid. Its kinds may differ
               from the plain redaction's: redaction repeats until nothing
               is found, and a later pass reads context words within a
               window in bytes, which a longer tag (« [SIRET·08a27fa4] »
               vs « [SIRET] ») can push out of reach (corpus:
               keyed-context-window). */
            if ((valid && !gu_utf8_valid(k, kn)) ||
                pii_scan(k, kn, NULL, 0, &again) != 0 || again != 0)
                abort();
        }
    }
    if (!memchr(s, 0, size) && size < 2048) {
        char *z = gu_arena_strndup(a, s, size);
        const char *e = z ? pii_norm_email(a, z) : NULL;
        const char *ph = z ? pii_norm_phone(a, z) : NULL;

        if (e && (!strchr(e, '@') || strchr(e, ' ') || strlen(e) > 254))
            abort();
        if (ph && !((strlen(ph) == 10 && ph[0] == '0') ||
                    (ph[0] == '+' && strlen(ph) >= 9 && strlen(ph) <= 16)))
            abort();
        for (const char *q = ph ? ph + 1 : ""; *q; q++)
            if (*q < '0' || *q > '9')
                abort();
    }
    if (r) {
        size_t rn = strlen(r);

        if (count <= GU_ARRAY_LEN(sp) && (kinds & seen) != seen)
            abort();
        if (valid && !gu_utf8_valid(r, rn))
            abort();
        /* bytes after an embedded NUL are not seen by strlen: scan all */
        if (!memchr(s, 0, size)) {
            if (pii_scan(r, rn, NULL, 0, &again) != 0 || again != 0)
                abort();
        }
    }
    gu_arena_free(a);
    return 0;
}
