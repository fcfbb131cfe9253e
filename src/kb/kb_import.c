/*
 * kb_import.c - kb_import_service_public(): service-public.fr fiches into
 * the national tables, one transaction per fiche (kb_national_upsert), so
 * a bad fiche is skipped whole and a crash leaves every fiche either old
 * or new, never mixed.
 *
 * Finding and reading the files is kb_import_scan.c; turning a fiche into
 * a struct kb_fiche is kb_import_walk.c (with kb_import_json.c and
 * kb_import_xml.c for the two forms).
 *
 * Idempotent: a fiche's rows depend only on its file. updated_at is the
 * fiche's own date (dc:date), not the import time, so importing the same
 * files twice gives the same rows.
 */
#include <string.h>

#include "kb/kb_import.h"

struct import {
    struct store_conn *c;
    bool own; /* no caller transaction: one per fiche */
};

static int
upsert(void *ud, const struct kb_fiche *f, struct gu_err *err)
{
    struct import *im = ud;
    struct kb_fiche g = *f;
    int64_t day;
    int rc;

    if (gu_date_parse(f->source_date, &day) == 0)
        g.updated_at = day * 86400;
    rc = kb_national_upsert(im->c, &g, err);
    /* Inside a caller's transaction a conflict may come after some rows
     * were written: only the caller can roll back, so stop. */
    if (rc == GU_ECONFLICT && !im->own)
        rc = GU_EDB;
    return rc;
}

int
kb_import_service_public(struct store_conn *c, const char *path,
                         const char *const *only, size_t nonly,
                         size_t *imported, size_t *skipped, struct gu_err *err)
{
    struct import im = {.c = c, .own = !store_in_tx(c)};
    int64_t t0 = gu_now_ms();
    char q[256];
    int rc;

    rc = kb_sp_scan(path, only, nonly, upsert, &im, imported, skipped, err);
    gu_log_info("kb.import", "path=%s imported=%zu skipped=%zu ms=%lld rc=%s",
                gu_logq(q, sizeof(q), path), *imported, *skipped,
                (long long)(gu_now_ms() - t0), gu_status_name(rc));
    return rc;
}
