/*
 * fuzz_tri_image.c - libFuzzer target for tri_image_clean(): residents'
 * photos (JPEG / PNG) as they arrive from /demande and e-mails.
 *
 * Invariants: every input is either refused (GU_EINVAL or GU_ETOOBIG,
 * with a French message, no output) or cleaned into a non-empty image of
 * the type it claims, without an APP1 (EXIF/XMP) segment; cleaning that
 * output again is accepted and gives the same bytes (the re-encoding is
 * deterministic and keeps nothing to strip). Never a read out of bounds,
 * a leak or a crash (ASan/UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "triage/tri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
has_app1(const unsigned char *p, size_t n)
{
    /* Marker segments between SOI and SOS. */
    size_t i = 2;

    while (i + 4 <= n && p[i] == 0xFF) {
        unsigned m = p[i + 1];
        if (m == 0xDA)
            return 0;
        if (m == 0xE1)
            return 1;
        i += 2 + ((size_t)p[i + 2] << 8 | p[i + 3]);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gu_arena *a = gu_arena_new(0);
    const void *out = NULL, *out2 = NULL;
    size_t out_n = 0, out2_n = 0;
    const char *ct = NULL, *ct2 = NULL;
    struct gu_err err;
    int rc;

    if (!a)
        return 0;
    gu_err_clear(&err);
    rc = tri_image_clean(a, data, size, &out, &out_n, &ct, &err);
    if (rc < 0) {
        if ((rc != GU_EINVAL && rc != GU_ETOOBIG && rc != GU_ENOMEM) ||
            (rc != GU_ENOMEM && !err.user[0]) || out || ct)
            abort();
    } else {
        if (!out || out_n == 0 || !ct)
            abort();
        if (strcmp(ct, "image/jpeg") == 0 && has_app1(out, out_n))
            abort();
        gu_err_clear(&err);
        if (tri_image_clean(a, out, out_n, &out2, &out2_n, &ct2, &err) != 0 ||
            strcmp(ct, ct2) != 0 || out2_n != out_n ||
            memcmp(out, out2, out_n) != 0)
            abort();
    }
    gu_arena_free(a);
    return 0;
}
