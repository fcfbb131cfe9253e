/*
 * fc_jobs.c - the forecast domain's background jobs (notify runner rows,
 * handed over by app.c):
 *
 *   fc.refit   hourly look; each commune is refitted once per civil day,
 *              after 01:00 in its time zone (fc_fit_commune: every active
 *              series, the canteens' shared model), so the morning's
 *              forecasts use yesterday's counts;
 *   fc.alerts  hourly: actuals against their stored intervals
 *              (fc_alerts_scan_base), for data that came by import or
 *              count entry; the API scans at once after points it writes.
 *
 * Each run takes its own connection; one commune's failure is logged and
 * the others still run; only a storage failure stops the run.
 */
#include "forecast/fc_service.h"

#include <string.h>

#define REFIT_AFTER_MINUTE 60 /* 01:00 local */

/* Unix time of today's 01:00 in the commune's zone. */
static int64_t
refit_cut(const char *zone, int64_t now)
{
    enum gu_tz tz = gu_tz_of_zone(zone ? zone : "");
    int64_t day;
    int minute;

    gu_tz_from_utc(tz, now, &day, &minute);
    return gu_tz_to_utc(tz, day, REFIT_AFTER_MINUTE);
}

/* Should the commune be refitted now? Today's cut has passed, it has an
   active series with data, and the oldest fit of its active series is
   older than the cut (none at all: due). A series fitted by hand during
   the day does not hold the others back; one with too little data, never
   fitted, does not make the commune refit every hour. */
static int
refit_due(struct store_conn *c, struct gu_arena *a, const char *insee,
          int64_t cut, bool *due, struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    *due = false;
    rc = store_query(c, a,
                     "SELECT (SELECT COUNT(*) FROM fc_series s WHERE "
                     "s.insee = ? AND s.active = 1 AND EXISTS (SELECT 1 FROM "
                     "fc_points p WHERE p.series_id = s.id)), (SELECT "
                     "COALESCE(MIN(f.fitted_at), 0) FROM fc_fits f JOIN "
                     "fc_series s ON s.id = f.series_id WHERE f.insee = ? "
                     "AND s.active = 1)",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    *due =
        store_int(r, 0, 0) > 0 && store_int(r, 0, 1) < cut && gu_now() >= cut;
    return 0;
}

static int
fc_refit_job(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_conn *c = NULL;
    struct store_commune *m = NULL;
    size_t n = 0;
    int rc, done = 0;

    (void)cfg;
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_acquire(s, &c, err);
    if (rc == 0)
        rc = store_commune_list(c, a, &m, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct gu_arena *ca;
        struct gu_err e2;
        size_t fitted = 0, skipped = 0;
        bool due = false;
        int k;

        if (notify_job_should_stop())
            break;
        if ((rc = refit_due(c, a, m[i].insee, refit_cut(m[i].zone, gu_now()),
                            &due, err)) < 0)
            break;
        if (!due)
            continue;
        if (!(ca = gu_arena_new(1u << 20))) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            break;
        }
        gu_err_clear(&e2);
        k = fc_fit_commune(c, ca, m[i].insee, &fitted, &skipped, &e2);
        gu_arena_free(ca);
        if (k == GU_EDB || k == GU_ENOMEM) {
            *err = e2;
            rc = k;
            break;
        }
        if (k < 0)
            gu_log_warn("fc.refit", "insee=%s code=%s err=\"%s\"", m[i].insee,
                        gu_status_name(k), e2.msg);
        else
            done += (int)fitted;
    }
    store_release(c);
    gu_arena_free(a);
    return rc < 0 ? rc : done;
}

static int
fc_alerts_job(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_conn *c = NULL;
    struct store_commune *m = NULL;
    const char *base;
    size_t n = 0;
    int rc, done = 0;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    base = gu_public_base(a, cfg);
    rc = store_acquire(s, &c, err);
    if (rc == 0)
        rc = store_commune_list(c, a, &m, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct gu_arena *ca = gu_arena_new(0);
        struct gu_err e2;
        size_t created = 0;
        int k;

        if (!ca) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            break;
        }
        gu_err_clear(&e2);
        k = fc_alerts_scan_base(c, ca, m[i].insee, base ? base : "", &created,
                                &e2);
        gu_arena_free(ca);
        if (k == GU_EDB || k == GU_ENOMEM) {
            *err = e2;
            rc = k;
            break;
        }
        if (k < 0)
            gu_log_warn("fc.alerts", "insee=%s code=%s", m[i].insee,
                        gu_status_name(k));
        done += (int)created;
    }
    store_release(c);
    gu_arena_free(a);
    return rc < 0 ? rc : done;
}

static const struct notify_job job_list[] = {
    {"fc.refit", 3600, fc_refit_job, true},   /* once a day per commune */
    {"fc.alerts", 3600, fc_alerts_job, true}, /* actuals vs intervals */
};

const struct notify_job *
fc_jobs(size_t *count)
{
    *count = GU_ARRAY_LEN(job_list);
    return job_list;
}
