/*
 * ins_figures.c - the month's figures, one function per domain, each
 * read from that domain's tables (see ins.h and docs/rapport.md for the
 * formulas). Only counts and durations leave this file: no personal data
 * is read.
 */
#include "insight/ins.h"
#include "forecast/fc_service.h"
#include "notify/notify.h"
#include "rdv/rdv.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The durations of the rows' columns d1 - d0 (both > 0) into a median. */
static double
median_of(struct gu_arena *a, const struct store_rows *r, size_t c0,
          size_t c1, int64_t *count)
{
    double *v;
    size_t n = 0;

    *count = 0;
    if (!r || r->nrows == 0)
        return NAN;
    v = gu_arena_alloc(a, r->nrows * sizeof(*v));
    if (!v)
        return NAN;
    for (size_t i = 0; i < r->nrows; i++) {
        int64_t t0 = store_int(r, i, c0), t1 = store_int(r, i, c1);
        if (t0 > 0 && t1 > 0 && t1 >= t0)
            v[n++] = (double)(t1 - t0);
    }
    *count = (int64_t)n;
    return ins_median(v, n);
}

int
ins_assistant_month(struct store_conn *c, struct gu_arena *a,
                    const char *insee, const struct ins_month *m,
                    struct ins_assistant *out, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee), STORE_I(m->t0), STORE_I(m->t1)};
    struct store_rows *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    out->handoff_median_s = NAN;
    rc = store_query(
        c, a,
        "SELECT COALESCE(SUM(CASE WHEN type = 'answer' THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN type = 'handoff_offer' THEN 1 ELSE 0 END),"
        " 0),"
        " COALESCE(SUM(CASE WHEN type = 'clarify' THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN useful = 1 THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN useful = 0 THEN 1 ELSE 0 END), 0)"
        " FROM asst_messages WHERE insee = ? AND at >= ? AND at < ?",
        p, 3, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows) {
        out->answers = store_int(r, 0, 0);
        out->abstentions = store_int(r, 0, 1);
        out->clarifications = store_int(r, 0, 2);
        out->useful = store_int(r, 0, 3);
        out->not_useful = store_int(r, 0, 4);
    }
    rc = store_query(c, a,
                     "SELECT created_at, answered_at FROM asst_handoffs"
                     " WHERE insee = ? AND created_at >= ? AND created_at < ?",
                     p, 3, &r, err);
    if (rc < 0)
        return rc;
    out->handoffs = (int64_t)r->nrows;
    out->handoff_median_s = median_of(a, r, 0, 1, &out->handoffs_answered);
    return 0;
}

int
ins_triage_month(struct store_conn *c, struct gu_arena *a, const char *insee,
                 const struct ins_month *m, struct ins_triage *out,
                 struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee), STORE_I(m->t0), STORE_I(m->t1)};
    struct store_rows *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    out->reply_median_s = NAN;
    rc = store_query(c, a,
                     "SELECT created_at, first_reply_at FROM tri_requests"
                     " WHERE insee = ? AND created_at >= ? AND created_at < ?",
                     p, 3, &r, err);
    if (rc < 0)
        return rc;
    out->received = (int64_t)r->nrows;
    out->reply_median_s = median_of(a, r, 0, 1, &out->replied);

    /*
     * The intake's decision is the request's first "service" decision: a
     * value when the model (or a rule) routed it, "" when it left it « à
     * trier ». A correction is a later agent's decision naming another
     * service (an agent confirming the same service is not one).
     */
    rc = store_query(
        c, a,
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM"
        " tri_decisions x WHERE x.request_id = f.request_id"
        " AND x.kind = 'service' AND x.source = 'agent' AND x.id > f.id"
        " AND x.value <> f.value) THEN 1 ELSE 0 END), 0)"
        " FROM tri_requests q JOIN tri_decisions f ON f.request_id = q.id"
        " WHERE q.insee = ? AND q.created_at >= ? AND q.created_at < ?"
        " AND f.kind = 'service' AND f.id = (SELECT MIN(y.id) FROM"
        " tri_decisions y WHERE y.request_id = q.id AND y.kind = 'service')"
        " AND f.source IN ('modele', 'regle') AND f.value <> ''",
        p, 3, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows) {
        out->auto_routed = store_int(r, 0, 0);
        out->corrected = store_int(r, 0, 1);
    }
    return 0;
}

int
ins_rdv_month(struct store_conn *c, struct gu_arena *a, const char *insee,
              const struct ins_month *m, int64_t today, struct ins_rdv *out,
              struct gu_err *err)
{
    int64_t last = today < m->day1 ? today : m->day1;
    struct store_val p[] = {STORE_T(insee), STORE_I(m->day0), STORE_I(last)};
    struct store_val p2[] = {STORE_T(insee), STORE_I(m->t0), STORE_I(m->t1)};
    struct store_val p3[] = {STORE_T(insee), STORE_I(m->day0),
                             STORE_I(m->day1)};
    struct store_rows *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_query(c, a,
                     "SELECT status, COUNT(*) FROM rdv_bookings"
                     " WHERE insee = ? AND day >= ? AND day < ?"
                     " GROUP BY status",
                     p, 3, &r, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++) {
        int64_t n = store_int(r, i, 1);
        switch (store_int(r, i, 0)) {
        case RDV_CONFIRMED:
            out->unmarked += n;
            out->held += n;
            break;
        case RDV_PRESENT:
            out->kept += n;
            out->held += n;
            break;
        case RDV_NOSHOW:
            out->noshow += n;
            out->held += n;
            break;
        case RDV_EXCUSED:
            out->excused += n;
            out->held += n;
            break;
        case RDV_CANCELLED:
            out->cancelled += n;
            break;
        default: /* RDV_HELD: an offer not yet accepted */
            break;
        }
    }
    struct store_val on[] = {p2[0], p2[1], p2[2], STORE_I(RDV_WEB),
                             STORE_I(RDV_ASSISTANT), STORE_I(RDV_VOICE),
                             STORE_I(RDV_HELD)};
    rc = store_query(c, a,
                     "SELECT COUNT(*) FROM rdv_bookings WHERE insee = ?"
                     " AND created_at >= ? AND created_at < ?"
                     " AND channel IN (?, ?, ?) AND status <> ?",
                     on, GU_ARRAY_LEN(on), &r, err);
    if (rc < 0)
        return rc;
    out->online = r->nrows ? store_int(r, 0, 0) : 0;
    struct store_val rec[] = {p3[0], p3[1], p3[2], STORE_I(RDV_CONFIRMED),
                              STORE_I(RDV_PRESENT), STORE_I(RDV_NOSHOW),
                              STORE_I(RDV_EXCUSED)};
    rc = store_query(c, a,
                     "SELECT COUNT(*), COALESCE(SUM(end_min - start_min), 0)"
                     " FROM rdv_bookings WHERE insee = ? AND day >= ?"
                     " AND day < ? AND wait_id > 0"
                     " AND status IN (?, ?, ?, ?)",
                     rec, GU_ARRAY_LEN(rec), &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows) {
        out->recovered = store_int(r, 0, 0);
        out->recovered_min = store_int(r, 0, 1);
    }
    return 0;
}

int
ins_canteen_month(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const struct ins_month *m, const struct ins_costs *costs,
                  struct ins_canteen *out, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee), STORE_I(m->day0),
                            STORE_I(m->day1)};
    struct store_rows *r = NULL;
    int64_t last_series = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_query(
        c, a,
        "SELECT s.id, s.meal_cost, s.meal_kg, p.value, p.staff, k.reco,"
        " CASE WHEN k.method LIKE 'retro:%' THEN 1 ELSE 0 END"
        " FROM fc_series s JOIN fc_points p ON p.series_id = s.id"
        " LEFT JOIN ins_canteen_recos k ON k.series_id = s.id AND k.day = p.t"
        " WHERE s.insee = ? AND s.kind = 'cantine' AND s.freq = 'jour'"
        " AND p.t >= ? AND p.t < ? ORDER BY s.id, p.t",
        p, 3, &r, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++) {
        int64_t sid = store_int(r, i, 0);
        double cost = store_real(r, i, 1), kg = store_real(r, i, 2);
        double actual = store_real(r, i, 3), staff, reco, ds, dr;

        out->days_actual++;
        if (store_cell(r, i, 4)->type == STORE_NULL ||
            store_cell(r, i, 5)->type == STORE_NULL)
            continue;
        staff = store_real(r, i, 4);
        reco = store_real(r, i, 5);
        ds = staff > actual ? staff - actual : 0;
        dr = reco > actual ? reco - actual : 0;
        out->days++;
        out->days_retro += store_int(r, i, 6);
        out->staff_surplus += ds;
        out->reco_surplus += dr;
        out->staff_short += staff < actual;
        out->reco_short += reco < actual;
        out->kg_saved += (ds - dr) * (kg > 0 ? kg : costs->meal_kg);
        out->euros_saved += (ds - dr) * (cost > 0 ? cost : costs->meal_cost);
        if (sid != last_series) {
            out->series++;
            last_series = sid;
        }
    }
    out->meals_saved = out->staff_surplus - out->reco_surplus;
    return 0;
}

/*
 * The commune's active daily canteen series (arena array, compacted in
 * place) and today's local day number: what the snapshot and the
 * back-fill walk.
 */
static int
canteen_series(struct store_conn *c, struct gu_arena *a, const char *insee,
               int64_t now, int64_t *today, struct fc_series **ser,
               size_t *ns, struct gu_err *err)
{
    struct store_commune com;
    size_t k = 0;
    int minute, rc;

    *ns = 0;
    rc = store_commune_get(c, a, insee, &com, err);
    if (rc < 0)
        return rc;
    gu_tz_from_utc(gu_tz_of_zone(com.zone), now, today, &minute);
    rc = fc_series_list(c, a, insee, ser, ns, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < *ns; i++) {
        if ((*ser)[i].kind == FC_KIND_CANTINE &&
            (*ser)[i].freq == FC_FREQ_DAY && (*ser)[i].active)
            (*ser)[k++] = (*ser)[i];
    }
    *ns = k;
    return 0;
}

int
ins_canteen_snapshot(struct store_conn *c, struct gu_arena *a,
                     const char *insee, int64_t now, struct gu_err *err)
{
    struct fc_series *ser = NULL;
    size_t ns = 0;
    int64_t today;
    int rc;

    rc = canteen_series(c, a, insee, now, &today, &ser, &ns, err);
    for (size_t i = 0; rc == 0 && i < ns; i++) {
        struct fc_day *d = NULL;
        size_t nd = 0;

        rc = fc_days(c, a, insee, ser[i].id, today + 1,
                     today + FC_AHEAD_DAYS, NAN, &d, &nd, err);
        if (rc == GU_ENOTFOUND) {
            rc = 0;
            continue;
        }
        for (size_t k = 0; rc == 0 && k < nd; k++) {
            if (d[k].t <= today || !isfinite(d[k].reco.order))
                continue;
            struct store_val v[] = {
                STORE_I(ser[i].id),  STORE_I(d[k].t),
                STORE_T(insee),      STORE_D(d[k].reco.order),
                STORE_D(d[k].p50),   STORE_D(ser[i].risk),
                STORE_T(d[k].method ? d[k].method : ""), STORE_I(now)};
            rc = store_exec(
                c,
                "INSERT INTO ins_canteen_recos (series_id, day, insee, reco,"
                " p50, risk, method, made_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (series_id, day) DO UPDATE SET"
                " reco = excluded.reco, p50 = excluded.p50,"
                " risk = excluded.risk, method = excluded.method,"
                " made_at = excluded.made_at",
                v, GU_ARRAY_LEN(v), err);
        }
    }
    return rc;
}

/* ISO weekdays "3,6,7" -> bit w set for each. */
static unsigned
weekday_bits(const char *s)
{
    unsigned bits = 0;

    for (; s && *s; s++)
        if (*s >= '1' && *s <= '7')
            bits |= 1u << (*s - '0');
    return bits;
}

/*
 * The rétro-test of one canteen: the forecast of each past day from the
 * data known `horizon` days before it (fcst_backtest, rolling origin,
 * refitted weekly) with the series' chosen method, turned into the order
 * recommended for the series' risk (fcst_recommend, with the fit's
 * relative errors). Rows are added only where no real snapshot exists.
 */
static int
backfill_series(struct store_conn *c, struct gu_arena *a, const char *insee,
                const struct fc_series *ser, int64_t first, int64_t today,
                int64_t *added, struct gu_err *err)
{
    struct store_val p[] = {STORE_I(ser->id)};
    struct store_rows *r = NULL;
    struct fc_fit fit;
    struct fcst_series fs;
    struct fcst_bt_opts o;
    struct fcst_bt_result *res = NULL;
    enum fcst_method method = FCST_THETA;
    double *v = NULL, *f = NULL;
    int64_t day0, snap0 = INT64_MAX;
    size_t n;
    int rc;
    char mname[48];

    rc = fc_fit_get(c, a, insee, ser->id, &fit, err);
    if (rc == GU_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    for (int m = 0; m < FCST_METHOD_COUNT; m++)
        if (strcmp(fcst_method_name((enum fcst_method)m), fit.method) == 0)
            method = (enum fcst_method)m;
    /* Once per series: the first run of the job, before any snapshot
       (later runs find rows and cost nothing). Real snapshots win anyway:
       nothing from the first one on. */
    rc = store_query(c, a,
                     "SELECT COUNT(*), COALESCE(MIN(CASE WHEN method NOT LIKE"
                     " 'retro:%' THEN day END), 0) FROM ins_canteen_recos"
                     " WHERE series_id = ?",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows && store_int(r, 0, 0) > 0 && store_int(r, 0, 1) == 0)
        return 0; /* already back-filled */
    if (r->nrows && store_int(r, 0, 1) > 0)
        snap0 = store_int(r, 0, 1);
    rc = store_query(c, a,
                     "SELECT t, value FROM fc_points WHERE series_id = ?"
                     " ORDER BY t",
                     p, 1, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    day0 = store_int(r, 0, 0);
    if (day0 >= first || today <= first)
        return 0;
    n = (size_t)(today - day0);
    v = gu_arena_alloc(a, n * sizeof(*v));
    f = gu_arena_alloc(a, n * FCST_METHOD_COUNT * sizeof(*f));
    res = gu_arena_alloc(a, sizeof(*res));
    if (!v || !f || !res)
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = NAN;
    for (size_t i = 0; i < r->nrows; i++) {
        int64_t t = store_int(r, i, 0);
        if (t >= day0 && t < today)
            v[t - day0] = store_real(r, i, 1);
    }
    memset(&fs, 0, sizeof(fs));
    fs.day0 = day0;
    fs.n = n;
    fs.v = v;
    memset(&o, 0, sizeof(o));
    o.test_start = first;
    o.test_end = today - 1;
    o.horizon = fit.horizon > 0 ? fit.horizon : 1;
    o.train_end = first - o.horizon;
    o.refit_every = 7;
    o.skip_weekdays = weekday_bits(ser->closed_weekdays);
    fcst_bt_result_init(res);
    if (fcst_backtest(&fs, NULL, &o, res, f) < 0)
        return 0; /* too little history: nothing to add */
    snprintf(mname, sizeof(mname), "retro:%s", fcst_method_name(method));
    for (int64_t d = first; d < today && d < snap0; d++) {
        double point = f[(size_t)method * n + (size_t)(d - day0)];
        struct fcst_reco reco;

        if (!isfinite(point))
            continue;
        fcst_recommend(point, fit.errors, fit.nerrors, ser->risk, ser->meal_kg,
                       ser->meal_cost, &reco);
        if (!isfinite(reco.order))
            continue;
        struct store_val w[] = {STORE_I(ser->id), STORE_I(d), STORE_T(insee),
                                STORE_D(reco.order), STORE_D(point),
                                STORE_D(ser->risk), STORE_T(mname)};
        int64_t ch = 0;
        rc = store_exec_changes(
            c,
            "INSERT INTO ins_canteen_recos (series_id, day, insee, reco, p50,"
            " risk, method, made_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0)"
            " ON CONFLICT (series_id, day) DO NOTHING",
            w, GU_ARRAY_LEN(w), &ch, err);
        if (rc < 0)
            return rc;
        *added += ch;
    }
    return 0;
}

int
ins_canteen_backfill(struct store_conn *c, struct gu_arena *a,
                     const char *insee, int64_t now, int days,
                     int64_t *added, struct gu_err *err)
{
    struct fc_series *ser = NULL;
    size_t ns = 0;
    int64_t today;
    int rc;

    *added = 0;
    rc = canteen_series(c, a, insee, now, &today, &ser, &ns, err);
    for (size_t i = 0; rc == 0 && i < ns; i++) {
        rc = backfill_series(c, a, insee, &ser[i], today - days, today, added,
                             err);
    }
    return rc;
}

int
ins_alerts_month(struct store_conn *c, struct gu_arena *a, const char *insee,
                 const struct ins_month *m, struct ins_alerts *out,
                 struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee), STORE_I(m->t0), STORE_I(m->t1)};
    struct store_rows *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    out->ack_median_s = NAN;
    rc = store_query(
        c, a,
        "SELECT opened_at, COALESCE(ack_at, resolved_at, 0),"
        " CASE WHEN status = 'resolue' THEN 1 ELSE 0 END,"
        " CASE WHEN status = 'resolue' AND verdict = 'fausse_alerte'"
        " THEN 1 ELSE 0 END,"
        " CASE WHEN status = 'resolue' AND verdict = '' THEN 1 ELSE 0 END"
        " FROM mon_alerts a WHERE a.insee = ? AND a.opened_at >= ?"
        " AND a.opened_at < ?",
        p, 3, &r, err);
    if (rc < 0)
        return rc;
    out->opened = (int64_t)r->nrows;
    for (size_t i = 0; i < r->nrows; i++) {
        out->resolved += store_int(r, i, 2);
        out->false_alarms += store_int(r, i, 3);
        out->unqualified += store_int(r, i, 4);
    }
    out->ack_median_s = median_of(a, r, 0, 1, &out->acknowledged);
    return 0;
}

void
ins_savings_compute(const struct ins_report *r, const struct ins_costs *k,
                    struct ins_savings *out)
{
    int64_t routed_ok = r->tri.auto_routed - r->tri.corrected;

    memset(out, 0, sizeof(*out));
    out->hours_answers = (double)r->asst.answers * k->min_answer / 60.0;
    out->hours_routed =
        (double)(routed_ok > 0 ? routed_ok : 0) * k->min_routed / 60.0;
    out->hours_booking = (double)r->rdv.online * k->min_booking / 60.0;
    out->hours_total =
        out->hours_answers + out->hours_routed + out->hours_booking;
    out->hours_recovered = (double)r->rdv.recovered_min / 60.0;
    out->euros_time = out->hours_total * k->hourly_cost;
    out->euros_meals = r->cant.euros_saved;
    out->euros_total = out->euros_time + out->euros_meals;
}

int
ins_report_compute(struct store_conn *c, struct gu_arena *a,
                   const char *insee, const char *zone,
                   const struct ins_month *m, const struct ins_costs *costs,
                   int64_t now, struct ins_report *out, struct gu_err *err)
{
    int64_t today;
    int minute, rc;

    memset(out, 0, sizeof(*out));
    out->month = *m;
    gu_tz_from_utc(gu_tz_of_zone(zone), now, &today, &minute);
    if ((rc = ins_assistant_month(c, a, insee, m, &out->asst, err)) < 0 ||
        (rc = ins_triage_month(c, a, insee, m, &out->tri, err)) < 0 ||
        (rc = ins_rdv_month(c, a, insee, m, today, &out->rdv, err)) < 0 ||
        (rc = ins_canteen_month(c, a, insee, m, costs, &out->cant, err)) <
            0 ||
        (rc = ins_alerts_month(c, a, insee, m, &out->mon, err)) < 0)
        return rc;
    ins_savings_compute(out, costs, &out->sav);
    out->empty = out->asst.answers + out->asst.abstentions +
                     out->asst.clarifications + out->asst.handoffs +
                     out->tri.received + out->rdv.held + out->rdv.cancelled +
                     out->rdv.online + out->cant.days_actual +
                     out->mon.opened ==
                 0;
    return 0;
}
