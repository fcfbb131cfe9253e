/*
 * tri_jobs.c - the triage domain's background jobs (mail import, nightly
 * retrain, purge). Each owner adds its row.
 */
#include "triage/tri.h"
#include "triage/tri_engine.h"

#include <string.h>

/*
 * Retention (tri.purge, daily, and `guichet purge`): a request closed
 * (résolue or rejetée) more than triage.retention_days ago is anonymised
 * - contact, address, place, original subject and text, status token and
 * the e-mail Message-ID of its origin cleared, anonymised_at set - with
 * its messages (original text and sender cleared) and its attachments
 * (bytes and file name deleted; type, size and hash kept). What stays is
 * what statistics and training use: the redacted texts, service,
 * urgency, dates and decisions. One transaction: never half-applied.
 * Returns how many rows were touched.
 */
static int
tri_purge_job(struct store *s, const struct gu_config *cfg,
              struct gu_err *err)
{
    int64_t days = cfg ? gu_config_int(cfg, "triage.retention_days") : 365;
    int64_t now = gu_now(), cut = now - days * 86400, changes = 0, total = 0;
    struct store_conn *c = NULL;
    int rc;

    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
    if ((rc = store_begin(c, err)) < 0)
        goto out;
    struct store_val p[] = {STORE_I(now), STORE_I(now), STORE_I(cut)};
    rc = store_exec_changes(
        c,
        "UPDATE tri_requests SET subject = '', body = '', address = '',"
        " lat = 0, lon = 0, contact_name = '', contact_email = '',"
        " contact_phone = '', token_hash = NULL, notify = 0,"
        " origin = CASE WHEN origin LIKE 'mail:%' THEN 'mail' ELSE origin END,"
        " anonymised_at = ?, updated_at = ?"
        " WHERE status IN ('resolue', 'rejetee') AND resolved_at > 0"
        " AND resolved_at < ? AND anonymised_at = 0",
        p, GU_ARRAY_LEN(p), &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;
    /* Status links of every anonymised request die with it. */
    rc = store_exec_changes(c,
                            "DELETE FROM tri_tokens WHERE request_id IN"
                            " (SELECT id FROM tri_requests"
                            " WHERE anonymised_at > 0)",
                            NULL, 0, &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;
    /* Messages and attachments of every anonymised request (this run's
       and any left by an interrupted one) not cleared yet. */
    rc = store_exec_changes(c,
                            "UPDATE tri_messages SET body = '', from_addr = ''"
                            " WHERE (body <> '' OR from_addr <> '') AND"
                            " request_id IN (SELECT id FROM tri_requests"
                            " WHERE anonymised_at > 0)",
                            NULL, 0, &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;
    rc = store_exec_changes(c,
                            "UPDATE tri_attachments SET data = NULL,"
                            " filename = '' WHERE (data IS NOT NULL OR"
                            " filename <> '') AND request_id IN (SELECT id"
                            " FROM tri_requests WHERE anonymised_at > 0)",
                            NULL, 0, &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;
    rc = store_commit(c, err);
    if (rc < 0)
        goto rollback;
    rc = total > 0x7fffffff ? 0x7fffffff : (int)total;
    goto out;
rollback:
    store_rollback(c);
out:
    store_release(c);
    return rc;
}

/*
 * E-mail import (tri.mail, every 30 s): each active source of every
 * commune whose period_s has passed since its last run (oldest first, a
 * few per run so one slow server cannot hold the others back), through
 * tri_mail_import_source(), which records last_run_at and last_error on
 * the source. Returns how many e-mails became requests or messages; a
 * source's failure is its own (recorded), only the store's stops the run.
 */
static int
tri_mail_job(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_conn *c = NULL;
    struct store_rows *r = NULL;
    struct store_val p[1] = {STORE_I(gu_now())};
    int rc, done = 0;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_acquire(s, &c, err);
    if (rc == 0)
        rc = store_query(c, a,
                         "SELECT id, insee, last_run_at FROM "
                         "tri_mail_sources WHERE "
                         "active = 1 AND last_run_at + period_s <= ? "
                         "ORDER BY last_run_at, id LIMIT 8",
                         p, 1, &r, err);
    store_release(c);
    c = NULL;
    for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
        struct tri_mail_stats st = {0};
        struct gu_err e2;
        int64_t changes = 0;
        int k;

        if (notify_job_should_stop())
            break;
        /* Claim the source's run: several nodes share the database and
         * each runs this job; the one whose compare-and-set on
         * last_run_at wins imports, the others skip it until its next
         * period (tri_mail_import_source's own guard is per process). */
        struct store_val q[3] = {STORE_I(gu_now()), STORE_I(store_int(r, i, 0)),
                                 STORE_I(store_int(r, i, 2))};
        rc = store_acquire(s, &c, err);
        if (rc == 0)
            rc = store_exec_changes(c,
                                    "UPDATE tri_mail_sources SET "
                                    "last_run_at = ? WHERE id = ? AND "
                                    "last_run_at = ?",
                                    q, 3, &changes, err);
        store_release(c);
        c = NULL;
        if (rc < 0)
            break;
        if (changes != 1)
            continue;
        gu_err_clear(&e2);
        k = tri_mail_import_source(s, cfg, store_text(r, i, 1),
                                   store_int(r, i, 0), &st, &e2);
        if (k == GU_EDB) {
            *err = e2;
            rc = k;
            break;
        }
        if (k < 0)
            gu_log_warn("tri.mail_source", "source=%lld code=%s",
                        (long long)store_int(r, i, 0), gu_status_name(k));
        done += (int)(st.created + st.threaded);
    }
    gu_arena_free(a);
    return rc < 0 ? rc : done;
}

static const struct notify_job job_list[] = {
    {"tri.purge", 86400, tri_purge_job, true}, /* anonymise closed requests */
    /* nightly retrain: looks every 10 minutes, runs once a day per
       commune at triage.retrain_hour when agents corrected something */
    {"tri.retrain", 600, tri_job_retrain, true},
    {"tri.mail", 30, tri_mail_job, false}, /* e-mail sources at their period_s */
};

const struct notify_job *
tri_jobs(size_t *count)
{
    *count = GU_ARRAY_LEN(job_list);
    return job_list;
}
