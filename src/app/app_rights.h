/*
 * app_rights.h - residents' rights over their personal data (RGPD art. 15
 * access and art. 17 erasure), across every module, and the personal-data
 * API (/api/v1/personnes/..., /api/v1/pii/scan).
 *
 * A module that holds residents' data has a `pdata` row in app.c
 * (struct app_pdata): it exports what it holds about a person into one
 * member of a JSON document and erases it inside one transaction shared
 * by every module. app_rights.c runs them all, so an export is complete
 * and an erasure all or nothing, and writes one audit entry that counts
 * what was found or erased without naming anybody.
 *
 * Layering: like app.c, on top of every module; included by app.c,
 * main.c and tests.
 */
#ifndef APP_APP_RIGHTS_H
#define APP_APP_RIGHTS_H

#include "app/app.h"

/* The pdata rows of app.c's module list. */
extern const struct app_pdata app_pdata_notify;
extern const struct app_pdata app_pdata_rdv;
extern const struct app_pdata app_pdata_triage;
extern const struct app_pdata app_pdata_assistant;

/*
 * Check and normalise who is asked for: `email` and `phone` as typed
 * (either may be NULL or "", not both), into out (strings in `a`).
 * GU_EINVAL with err->field ("courriel", "telephone", "commune") and a
 * French err->user otherwise.
 */
int app_subject_make(struct gu_arena *a, const char *insee, const char *email,
                     const char *phone, struct app_subject *out,
                     struct gu_err *err);

/*
 * Everything held about `who` in its commune, as one JSON document
 * (*out, released with `a`):
 *   {"commune": {"insee", "nom"}, "date": ISO 8601, "recherche":
 *    {"courriel", "telephone"}, "donnees": {<one member per module>},
 *    "total": <items found>, "a_savoir": French explanation}
 * and an audit entry "personne.export" (actor, request_id may be NULL)
 * with counts only. GU_ENOTFOUND for an unknown commune.
 */
int app_rights_export(struct store_conn *c, struct gu_arena *a,
                      const struct app_subject *who, const char *actor,
                      const char *request_id, json_t **out,
                      struct gu_err *err);

/* What an erasure did, per module (modules with a pdata row). */
struct app_erase_result {
    int64_t rows; /* rows anonymised or deleted in all */
    size_t n;
    struct {
        const char *module;
        int64_t rows;
    } per[APP_MAX_MODULES];
};

/*
 * Erase or anonymise everything held about `who`, every module in ONE
 * transaction (the caller must not be in one), with the audit entry
 * "personne.effacement" (counts only) in the same transaction: all or
 * nothing. Bookings still to come are cancelled and their slots freed.
 */
int app_rights_erase(struct store_conn *c, const struct app_subject *who,
                     const char *actor, const char *request_id,
                     struct app_erase_result *res, struct gu_err *err);

/*
 * POST /api/v1/personnes/export and /effacement (admin of the commune),
 * POST /api/v1/pii/scan (agents): the module "personnes" of app.c.
 */
extern const struct http_routes app_rights_routes;

/* Bounds of POST /api/v1/pii/scan. */
#define APP_SCAN_MAX (64u << 10) /* bytes of text */
#define APP_SCAN_SPANS 2000      /* spans returned */

#endif
