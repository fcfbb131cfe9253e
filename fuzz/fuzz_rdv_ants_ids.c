/*
 * fuzz_rdv_ants_ids.c - the reading of the pré-demande numbers a resident
 * types (rdv_ants_list, rdv_ants_id_check): any bytes. It must never
 * crash, and what it accepts must be canonical: 1..RDV_ANTS_IDS_MAX
 * numbers of exactly 10 characters [A-Z0-9], comma-separated, no number
 * twice; a refusal always names the field "ants_ids".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdv/rdv_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_canonical(const char *buf, size_t n)
{
    size_t len = strlen(buf);

    if (n > RDV_ANTS_IDS_MAX || (n == 0) != (len == 0) ||
        (n > 0 && len != n * 11 - 1))
        abort();
    for (size_t i = 0; i < n; i++) {
        const char *p = buf + i * 11;

        for (int k = 0; k < 10; k++) {
            if (!((p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= '0' && p[k] <= '9')))
                abort();
        }
        if (i + 1 < n && p[10] != ',')
            abort();
        for (size_t j = 0; j < i; j++) {
            if (memcmp(buf + j * 11, p, 10) == 0)
                abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char buf[RDV_ANTS_IDS_MAX * 11 + 1], ids[RDV_ANTS_IDS_MAX][11], one[16];
    struct gu_err err;
    size_t n = 0;
    int rc;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    gu_err_clear(&err);
    rc = rdv_ants_list(s, buf, sizeof(buf), ids, &n, &err);
    if (rc == 0)
        check_canonical(buf, n);
    else if (rc != GU_EINVAL || strcmp(err.field, "ants_ids") != 0)
        abort();
    gu_err_clear(&err);
    rc = rdv_ants_id_check(s, one, sizeof(one), &err);
    if (rc == 0)
        check_canonical(one, 1);
    else if (rc != GU_EINVAL)
        abort();
    free(s);
    return 0;
}
