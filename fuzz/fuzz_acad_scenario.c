/*
 * fuzz_acad_scenario.c - libFuzzer target for the scenarios an
 * administrator writes into the training bank (acad_scenario_check, the
 * gate of POST/PUT /api/v1/formation/scenarios and of the bank's form).
 * The input is read as JSON the way the API reads a body (jansson, size
 * bounded, duplicate keys refused).
 *
 * Invariants: a scenario is accepted (0) or refused with GU_EINVAL /
 * GU_ETOOBIG and a French, UTF-8 message; an accepted one is an object
 * whose type is one of the five kinds and whose code, titre, contexte and
 * consignes are strings, with a situation and an attendu object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "academy/acad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
need_string(json_t *o, const char *k)
{
    if (!json_is_string(json_object_get(o, k)))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    struct gu_err err;
    json_t *o;
    int rc;

    if (size > 2 * ACAD_SCENARIO_BYTES)
        return 0;
    o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return 0;
    gu_err_clear(&err);
    rc = acad_scenario_check(o, &err);
    if (rc == 0) {
        const char *kind = json_string_value(json_object_get(o, "type"));
        if (!json_is_object(o) || !kind || !acad_kind_valid(kind))
            abort();
        need_string(o, "code");
        need_string(o, "titre");
        need_string(o, "contexte");
        need_string(o, "consignes");
        if (!json_is_object(json_object_get(o, "situation")) ||
            !json_is_object(json_object_get(o, "attendu")))
            abort();
    } else {
        if (rc != GU_EINVAL && rc != GU_ETOOBIG && rc != GU_ENOMEM)
            abort();
        if (rc != GU_ENOMEM &&
            (err.user[0] == '\0' ||
             !gu_utf8_valid(err.user, strlen(err.user))))
            abort();
    }
    json_decref(o);
    return 0;
}
