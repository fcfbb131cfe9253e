/*
 * tri_jobs.c - the triage domain's background jobs (mail import, nightly
 * retrain, purge). Each owner adds its row.
 */
#include "triage/tri.h"

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
                         "SELECT id, insee FROM tri_mail_sources WHERE "
                         "active = 1 AND last_run_at + period_s <= ? "
                         "ORDER BY last_run_at, id LIMIT 8",
                         p, 1, &r, err);
    store_release(c);
    for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
        struct tri_mail_stats st = {0};
        struct gu_err e2;
        int k;

        if (notify_job_should_stop())
            break;
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
    {"tri.mail", 30, tri_mail_job}, /* e-mail sources at their period_s */
};

const struct notify_job *
tri_jobs(size_t *count)
{
    *count = GU_ARRAY_LEN(job_list);
    return job_list;
}
