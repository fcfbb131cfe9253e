/*
 * fuzz_ants_status.c - the reading of an answer of the ANTS coordination
 * API to GET /status (rdv_ants_status_parse): any bytes, for two numbers.
 * It must never crash, and must never say OK to a body that does not
 * answer for both numbers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdv/rdv_ants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ids[2] = {"ABCDE12345", "ZZZZZ99999"};
    struct gu_arena *a = gu_arena_new(0);
    enum rdv_ants_state st;
    const char *detail = NULL;
    struct gu_err err;
    int rc;

    if (!a)
        return 0;
    gu_err_clear(&err);
    rc = rdv_ants_status_parse(a, (const char *)data, size, ids, 2, &st,
                               &detail, &err);
    if (rc == 0 && st == RDV_ANTS_OK) {
        /* OK only when both numbers are there, validated. */
        json_t *j = json_loadb((const char *)data, size, 0, NULL);

        for (int i = 0; i < 2; i++) {
            const char *s = json_string_value(
                json_object_get(json_object_get(j, ids[i]), "status"));

            if (!s || strcmp(s, "validated") != 0)
                abort();
        }
        json_decref(j);
    }
    if (rc == 0 && st != RDV_ANTS_OK && (!detail || !*detail))
        abort();
    gu_arena_free(a);
    return 0;
}
