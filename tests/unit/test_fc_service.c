/*
 * test_fc_service.c - the forecast service (fc_service.h) over a real
 * in-memory SQLite: a synthetic canteen (weekday pattern, closed on
 * Wednesdays and weekends, no meals on holidays) is fitted, the chosen
 * method beats « same day last week », the forecasts ahead skip the
 * public and school holidays, a failed fit keeps the previous one, the
 * recommendations follow the risk, and a water series' alert is recorded
 * once and mailed; deleting a series deletes what the models made.
 */
#include "harness.h"

#include "forecast/fc_cal.h"
#include "forecast/fc_service.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "store_fix.h"

static int
fix_open(struct th_fix *f)
{
    static const th_migrations_fn mods[] = {notify_migrations, fc_migrations};

    if (th_fix_open(f, mods, GU_ARRAY_LEN(mods)) < 0 ||
        th_commune(f->c, "44109", "Nantes") < 0 ||
        th_commune(f->c, "99002", "Autre-Exemple") < 0)
        return -1;
    return 0;
}

/* Deterministic noise in [-1, 1]. */
static double
noise(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return ((double)((*state >> 8) & 0xFFFF) / 32767.5) - 1.0;
}

static int64_t
D(int y, int m, int d)
{
    return gu_day_from_ymd(y, m, d);
}

static int64_t
make_series(struct th_fix *f, const char *code, enum fc_kind kind,
            const char *closed, const char *alert_to)
{
    struct fc_series s;
    struct gu_err err;
    int64_t id = 0;

    memset(&s, 0, sizeof(s));
    snprintf(s.insee, sizeof(s.insee), "44109");
    s.code = code;
    s.name = code;
    s.unit = kind == FC_KIND_EAU ? "m³" : "repas";
    s.site = "";
    s.closed_weekdays = closed;
    s.freq = FC_FREQ_DAY;
    s.kind = kind;
    s.meal_cost = 3.5;
    s.meal_kg = 0.4;
    s.alert_to = alert_to;
    s.active = true;
    if (fc_series_save(f->c, &s, &id, &err) < 0)
        fprintf(stderr, "series: %s\n", err.msg);
    return id;
}

/*
 * A canteen from 2015-01-05 to `end`: Monday 200, Tuesday 230, Thursday
 * 250, Friday 170 meals (±4 %), closed on Wednesdays and weekends, no
 * point on public and school holidays (zone B); the staff's forecast is
 * 8 % above the actual.
 */
static int64_t
make_canteen(struct th_fix *f, const char *code, int64_t end)
{
    static const double base[8] = {0, 200, 230, 0, 250, 170, 0, 0};
    struct fc_point *p;
    struct fc_cal *cal = NULL;
    struct gu_err err;
    unsigned st = 7;
    size_t n = 0;
    int64_t id = make_series(f, code, FC_KIND_CANTINE, "3,6,7", "");

    p = calloc(400, sizeof(*p));
    if (!p || fc_cal_new("44109", "B", &cal) < 0) {
        free(p);
        return 0;
    }
    for (int64_t d = D(2015, 1, 5); d <= end && n < 400; d++) {
        struct fc_cal_day c;
        int wd = gu_day_weekday(d);
        fc_cal_day(cal, d, &c);
        if (base[wd] == 0 || c.holiday ||
            (c.school_holiday && c.holiday_index != 1))
            continue;
        p[n].t = d;
        p[n].value = round(base[wd] * (1 + 0.04 * noise(&st)));
        p[n].staff = round(p[n].value * 1.08);
        n++;
    }
    if (fc_points_put(f->c, "44109", id, p, n, FC_SRC_CSV, &err) < 0)
        fprintf(stderr, "points: %s\n", err.msg);
    fc_cal_free(cal);
    free(p);
    return id;
}

static const struct fc_score *
score_of(const struct fc_fit *fit, const char *method)
{
    for (size_t i = 0; i < fit->nscores; i++)
        if (strcmp(fit->scores[i].method, method) == 0)
            return &fit->scores[i];
    return NULL;
}

static void
test_fit_canteen(void)
{
    struct th_fix f;
    struct fc_fit fit, got;
    struct gu_err err;
    struct fc_day *days = NULL;
    size_t n = 0;
    int64_t id, end = D(2016, 4, 29); /* a Friday; Ascension on May 5 */
    struct fc_cal *cal = NULL;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    id = make_canteen(&f, "cantine-a", end);
    CHECK(id > 0);
    CHECK_EQ(fc_fit_series(f.c, f.a, "44109", id, &fit, &err), 0);
    CHECK_EQ(fit.data_end, end);
    CHECK_EQ(fit.horizon, FC_HORIZON);
    CHECK(fit.method && strcmp(fit.method, "staff") != 0);
    CHECK(strcmp(fit.method, "last_week") != 0);
    {
        const struct fc_score *c = score_of(&fit, fit.method);
        const struct fc_score *lw = score_of(&fit, "last_week");
        CHECK(c && lw && c->m.wape < lw->m.wape);
        CHECK(c && c->m.n >= 30);
    }
    /* The staff's row comes first and is never chosen. */
    CHECK(fit.nscores >= FCST_METHOD_COUNT + 1);
    CHECK_STR(fit.scores[0].method, "staff");
    CHECK_STR(fit.scores[0].label, "Prévision des agents");
    CHECK(fit.nerrors >= FCST_RECO_MIN_ERRORS);
    /* Stored as computed. */
    CHECK_EQ(fc_fit_get(f.c, f.a, "44109", id, &got, &err), 0);
    CHECK_STR(got.method, fit.method);
    CHECK_EQ(got.nscores, fit.nscores);
    CHECK_EQ(got.nerrors, fit.nerrors);
    CHECK_EQ(got.data_end, end);
    CHECK(fabs(got.scores[1].m.wape - fit.scores[1].m.wape) < 1e-9);
    /* Another commune sees nothing. */
    CHECK_EQ(fc_fit_get(f.c, f.a, "99002", id, &got, &err), GU_ENOTFOUND);
    CHECK_EQ(fc_fit_series(f.c, f.a, "99002", id, &got, &err), GU_ENOTFOUND);
    /* The days ahead: no Wednesday, weekend or holiday. */
    CHECK_EQ(fc_days(f.c, f.a, "44109", id, end - 6, end + FC_AHEAD_DAYS, NAN,
                     &days, &n, &err),
             0);
    CHECK_EQ(n, 21);
    CHECK_EQ(fc_cal_new("44109", "B", &cal), 0);
    {
        size_t ahead = 0;
        bool ascension_note = false;
        for (size_t i = 0; i < n; i++) {
            struct fc_cal_day c;
            int wd = gu_day_weekday(days[i].t);
            fc_cal_day(cal, days[i].t, &c);
            CHECK(!days[i].school_unknown); /* 2016: in the calendar */
            if (days[i].t <= end) {
                CHECK(isnan(days[i].p50));
                continue;
            }
            if (days[i].t == D(2016, 5, 5)) {
                CHECK(days[i].note && strstr(days[i].note, "Férié"));
                ascension_note = days[i].note != NULL;
            }
            if (isnan(days[i].p50))
                continue;
            ahead++;
            CHECK(wd != 3 && wd != 6 && wd != 7);
            CHECK(!c.holiday);
            CHECK(days[i].p10 <= days[i].p50 && days[i].p50 <= days[i].p90);
            CHECK(days[i].p50 > 100 && days[i].p50 < 350);
            CHECK_STR(days[i].method, fit.method);
            CHECK(days[i].reco.order >= days[i].p50);
        }
        CHECK(ahead >= 5);
        CHECK(ascension_note);
        /* The actuals of the last week are there. */
        CHECK(days[6].actual > 0);
        CHECK(days[6].staff > days[6].actual);
    }
    /* Past the school calendar shipped with Guichet (2199 is past any),
       the days say the forecast cannot know the school holidays. */
    CHECK_EQ(fc_days(f.c, f.a, "44109", id, D(2199, 1, 5), D(2199, 1, 6),
                     NAN, &days, &n, &err),
             0);
    CHECK_EQ(n, 2);
    CHECK(n == 2 && days[0].school_unknown && days[1].school_unknown);
    fc_cal_free(cal);
    th_fix_close(&f);
}

static void
test_failed_fit_keeps_previous(void)
{
    struct th_fix f;
    struct fc_fit fit, got;
    struct gu_err err;
    int64_t id, end = D(2016, 3, 25);

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    id = make_canteen(&f, "cantine-b", end);
    CHECK_EQ(fc_fit_series(f.c, f.a, "44109", id, &fit, &err), 0);
    /* A failure while writing (here a trigger refusing the forecasts,
       after the fit's row was written): nothing of the new fit stays. */
    {
        struct fc_point np[2] = {{end + 3, 210, NAN}, {end + 4, 230, NAN}};
        CHECK_EQ(fc_points_put(f.c, "44109", id, np, 2, FC_SRC_API, &err), 0);
        CHECK_EQ(th_fail_trigger(f.c, "boom", "INSERT", "fc_forecasts"), 0);
        CHECK(fc_fit_series(f.c, f.a, "44109", id, &got, &err) < 0);
        CHECK(!store_in_tx(f.c));
        CHECK_EQ(fc_fit_get(f.c, f.a, "44109", id, &got, &err), 0);
        CHECK_EQ(got.fitted_at, fit.fitted_at);
        CHECK_EQ(got.data_end, end);
        CHECK_STR(got.method, fit.method);
        CHECK_EQ(th_drop_trigger(f.c, "boom", "fc_forecasts"), 0);
        CHECK_EQ(fc_fit_series(f.c, f.a, "44109", id, &fit, &err), 0);
        CHECK_EQ(fit.data_end, end + 4);
    }
    /* Too little data now: the fit fails with a French message... */
    CHECK_EQ(
        fc_points_delete(f.c, "44109", id, D(2015, 1, 1), end - 20, NULL, &err),
        0);
    CHECK_EQ(fc_fit_series(f.c, f.a, "44109", id, &got, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "Pas assez de données");
    /* ...and the previous fit is still there, as it was. */
    CHECK_EQ(fc_fit_get(f.c, f.a, "44109", id, &got, &err), 0);
    CHECK_STR(got.method, fit.method);
    CHECK_EQ(got.fitted_at, fit.fitted_at);
    CHECK_EQ(got.data_end, end + 4);
    {
        struct store_val p[1] = {STORE_I(id)};
        struct store_rows *r = NULL;
        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT COUNT(*) FROM fc_forecasts WHERE "
                             "series_id = ? ",
                             p, 1, &r, &err),
                 0);
        CHECK(r && store_int(r, 0, 0) > 0);
    }
    /* A series without any point: a clear error, nothing stored. */
    {
        int64_t e = make_series(&f, "vide", FC_KIND_ACCUEIL, "", "");
        CHECK_EQ(fc_fit_series(f.c, f.a, "44109", e, &got, &err), GU_EINVAL);
        CHECK_EQ(fc_fit_get(f.c, f.a, "44109", e, &got, &err), GU_ENOTFOUND);
    }
    th_fix_close(&f);
}

static void
test_reco_follows_risk(void)
{
    struct th_fix f;
    struct fc_fit fit;
    struct gu_err err;
    struct fc_day *lo = NULL, *hi = NULL;
    size_t n1 = 0, n2 = 0, more = 0, days = 0;
    int64_t id, end = D(2016, 3, 4);

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    id = make_canteen(&f, "cantine-c", end);
    CHECK_EQ(fc_fit_series(f.c, f.a, "44109", id, &fit, &err), 0);
    CHECK_EQ(fc_days(f.c, f.a, "44109", id, end + 1, end + FC_AHEAD_DAYS, 0.01,
                     &lo, &n1, &err),
             0);
    CHECK_EQ(fc_days(f.c, f.a, "44109", id, end + 1, end + FC_AHEAD_DAYS, 0.4,
                     &hi, &n2, &err),
             0);
    CHECK_EQ(n1, n2);
    for (size_t i = 0; i < n1 && i < n2; i++) {
        if (isnan(lo[i].reco.order))
            continue;
        days++;
        CHECK(lo[i].reco.order >= hi[i].reco.order);
        more += lo[i].reco.order > hi[i].reco.order;
        CHECK(lo[i].reco.surplus >= hi[i].reco.surplus);
        CHECK(fabs(lo[i].reco.surplus_kg - lo[i].reco.surplus * 0.4) < 1e-6);
        CHECK(fabs(lo[i].reco.surplus_eur - lo[i].reco.surplus * 3.5) < 1e-6);
        CHECK(lo[i].reco.p_short <= hi[i].reco.p_short + 1e-9);
    }
    CHECK(days >= 5);
    CHECK(more >= 1);
    /* The series' own risk by default (0.05). */
    CHECK_EQ(fc_days(f.c, f.a, "44109", id, end + 1, end + FC_AHEAD_DAYS, NAN,
                     &lo, &n1, &err),
             0);
    /* Bad ranges. */
    CHECK_EQ(fc_days(f.c, f.a, "44109", id, end, end - 1, NAN, &lo, &n1, &err),
             GU_EINVAL);
    CHECK_EQ(
        fc_days(f.c, f.a, "44109", id, end - 5000, end, NAN, &lo, &n1, &err),
        GU_ETOOBIG);
    th_fix_close(&f);
}

static void
test_water_alert(void)
{
    struct th_fix f;
    struct fc_fit fit;
    struct gu_err err;
    struct fc_point p[200];
    struct fc_alert *al = NULL;
    struct fc_day *days = NULL;
    size_t created = 0, n = 0;
    unsigned st = 3;
    int64_t id, d0 = D(2016, 1, 1), end = d0 + 199, target = 0;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    id = make_series(&f, "eau-nord", FC_KIND_EAU, "", "fontainier@exemple.fr");
    for (int i = 0; i < 200; i++) {
        int wd = gu_day_weekday(d0 + i);
        p[i].t = d0 + i;
        p[i].value = 1000 + (wd >= 6 ? -150 : 0) + 40 * noise(&st);
        p[i].staff = NAN;
    }
    CHECK_EQ(fc_points_put(f.c, "44109", id, p, 200, FC_SRC_API, &err), 0);
    CHECK_EQ(fc_fit_series(f.c, f.a, "44109", id, &fit, &err), 0);
    /* Nothing to compare yet. */
    CHECK_EQ(fc_alerts_scan(f.c, f.a, "44109", &created, &err), 0);
    CHECK_EQ(created, 0);
    CHECK_EQ(
        fc_days(f.c, f.a, "44109", id, end + 1, end + 3, NAN, &days, &n, &err),
        0);
    CHECK(n == 3 && !isnan(days[0].p90) && days[0].p90 > days[0].p10);
    target = end + 1;
    /* A leak: three times the expected volume; the next day normal. */
    p[0].t = target;
    p[0].value = 3 * days[0].p90;
    p[0].staff = NAN;
    p[1].t = target + 1;
    p[1].value = days[1].p50;
    p[1].staff = NAN;
    CHECK_EQ(fc_points_put(f.c, "44109", id, p, 2, FC_SRC_API, &err), 0);
    CHECK_EQ(fc_alerts_scan_base(f.c, f.a, "44109", "https://mairie.example",
                                 &created, &err),
             0);
    CHECK_EQ(created, 1);
    /* Once only. */
    CHECK_EQ(fc_alerts_scan(f.c, f.a, "44109", &created, &err), 0);
    CHECK_EQ(created, 0);
    CHECK_EQ(fc_alert_list(f.c, f.a, "44109", true, &al, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK(n == 1 && al[0].t == target && al[0].series_id == id);
    CHECK(n == 1 && al[0].value > al[0].hi);
    CHECK_STR(n == 1 ? al[0].series_name : "", "eau-nord");
    /* Another commune sees nothing and cannot mark it. */
    CHECK_EQ(fc_alert_list(f.c, f.a, "99002", false, &al, &n, &err), 0);
    CHECK_EQ(n, 0);
    {
        struct fc_alert *mine = NULL;
        size_t k = 0;
        CHECK_EQ(fc_alert_list(f.c, f.a, "44109", false, &mine, &k, &err), 0);
        CHECK_EQ(k, 1);
        if (k == 1) {
            CHECK_EQ(fc_alert_seen(f.c, "99002", mine[0].id, &err),
                     GU_ENOTFOUND);
            CHECK_EQ(fc_alert_seen(f.c, "44109", mine[0].id, &err), 0);
            CHECK_EQ(fc_alert_seen(f.c, "44109", mine[0].id, &err), 0);
        }
        CHECK_EQ(fc_alert_seen(f.c, "44109", 987654, &err), GU_ENOTFOUND);
    }
    CHECK_EQ(fc_alert_list(f.c, f.a, "44109", true, &al, &n, &err), 0);
    CHECK_EQ(n, 0);
    /* The day is flagged in fc_days. */
    CHECK_EQ(fc_days(f.c, f.a, "44109", id, target, target + 1, NAN, &days, &n,
                     &err),
             0);
    CHECK(n == 2 && days[0].alert && !days[1].alert);
    /* The e-mail, in French, with the link. */
    {
        struct store_rows *r = NULL;
        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT to_addr, subject, body, kind FROM "
                             "notify_outbox",
                             NULL, 0, &r, &err),
                 0);
        CHECK(r && r->nrows == 1);
        if (r && r->nrows == 1) {
            CHECK_STR(store_text(r, 0, 0), "fontainier@exemple.fr");
            CHECK_CONTAINS(store_text(r, 0, 1), "eau-nord");
            CHECK_CONTAINS(store_text(r, 0, 2), "Intervalle d’alerte");
            CHECK_CONTAINS(store_text(r, 0, 2),
                           "https://mairie.example/agent/previsions/");
            CHECK_STR(store_text(r, 0, 3), "fc.alert");
        }
    }
    /* Deleting the series deletes its fit, forecasts and alerts. */
    CHECK_EQ(fc_series_delete(f.c, "44109", id, &err), 0);
    {
        struct store_rows *r = NULL;
        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT (SELECT COUNT(*) FROM fc_fits) + "
                             "(SELECT COUNT(*) FROM fc_forecasts) + "
                             "(SELECT COUNT(*) FROM fc_alerts)",
                             NULL, 0, &r, &err),
                 0);
        CHECK(r && store_int(r, 0, 0) == 0);
    }
    th_fix_close(&f);
}

static void
test_commune_and_risk_fields(void)
{
    struct th_fix f;
    struct fc_series s;
    struct gu_err err;
    size_t fitted = 0, skipped = 0;
    int64_t a1, a2, e;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    a1 = make_canteen(&f, "cantine-d", D(2016, 3, 25));
    a2 = make_canteen(&f, "cantine-e", D(2016, 3, 25));
    e = make_series(&f, "accueil", FC_KIND_ACCUEIL, "", "");
    CHECK(a1 > 0 && a2 > 0 && e > 0);
    {
        struct fc_point p[3] = {{D(2016, 3, 1), 5, NAN},
                                {D(2016, 3, 2), 6, NAN},
                                {D(2016, 3, 3), 7, NAN}};
        CHECK_EQ(fc_points_put(f.c, "44109", e, p, 3, FC_SRC_API, &err), 0);
    }
    CHECK_EQ(fc_fit_commune(f.c, f.a, "44109", &fitted, &skipped, &err), 0);
    CHECK_EQ(fitted, 2);
    CHECK_EQ(skipped, 1);
    /* risk and alert_to: defaults, validation. */
    CHECK_EQ(fc_series_get(f.c, f.a, "44109", a1, &s, &err), 0);
    CHECK(fabs(s.risk - 0.05) < 1e-12);
    CHECK_STR(s.alert_to, "");
    s.risk = 0.9;
    CHECK_EQ(fc_series_save(f.c, &s, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "risk");
    s.risk = 0.1;
    s.alert_to = "pas une adresse";
    CHECK_EQ(fc_series_save(f.c, &s, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "alert_to");
    s.alert_to = "cuisine@exemple.fr";
    CHECK_EQ(fc_series_save(f.c, &s, NULL, &err), 0);
    CHECK_EQ(fc_series_get(f.c, f.a, "44109", a1, &s, &err), 0);
    CHECK(fabs(s.risk - 0.1) < 1e-12);
    CHECK_STR(s.alert_to, "cuisine@exemple.fr");
    th_fix_close(&f);
}

/* Three canteens over a school year: enough rows for the shared
   gradient-boosted model, which is trained, scored beside the classic
   methods on the same rows and stored once for the commune. */
static void
test_shared_model(void)
{
    struct th_fix f;
    struct fc_fit fit;
    struct gu_err err;
    struct store_rows *r = NULL;
    size_t fitted = 0, skipped = 0;
    int64_t id[3], end = D(2016, 6, 24);

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    id[0] = make_canteen(&f, "cantine-f", end);
    id[1] = make_canteen(&f, "cantine-g", end);
    id[2] = make_canteen(&f, "cantine-h", end);
    CHECK_EQ(fc_fit_commune(f.c, f.a, "44109", &fitted, &skipped, &err), 0);
    CHECK_EQ(fitted, 3);
    CHECK_EQ(skipped, 0);
    CHECK_EQ(store_query(f.c, f.a,
                         "SELECT kind, horizon, length(data) FROM fc_models "
                         "WHERE insee = '44109'",
                         NULL, 0, &r, &err),
             0);
    CHECK(r && r->nrows == 1);
    if (r && r->nrows == 1) {
        CHECK_STR(store_text(r, 0, 0), "cantine");
        CHECK_EQ(store_int(r, 0, 1), FC_HORIZON);
        CHECK(store_int(r, 0, 2) > 100);
    }
    for (int k = 0; k < 3; k++) {
        const struct fc_score *g, *lw;
        CHECK_EQ(fc_fit_get(f.c, f.a, "44109", id[k], &fit, &err), 0);
        g = score_of(&fit, "gbt");
        lw = score_of(&fit, "last_week");
        CHECK(g && lw && g->m.n == lw->m.n && g->m.n > 0);
        CHECK(g && isfinite(g->m.wape));
        CHECK_STR(score_of(&fit, "gbt") ? score_of(&fit, "gbt")->label : "",
                  "Arbres de gradient (XGBoost)");
    }
    /* One series alone is fitted with its own model, which does not
       replace the commune's shared one. */
    {
        int64_t before = 0;
        CHECK_EQ(store_query(f.c, f.a,
                             "UPDATE fc_models SET trained_at = 12345", NULL, 0,
                             &r, &err),
                 0);
        CHECK_EQ(fc_fit_series(f.c, f.a, "44109", id[1], &fit, &err), 0);
        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT COUNT(*), MAX(trained_at) FROM fc_models",
                             NULL, 0, &r, &err),
                 0);
        if (r) {
            before = store_int(r, 0, 1);
            CHECK_EQ(store_int(r, 0, 0), 1);
        }
        CHECK_EQ(before, 12345);
    }
    th_fix_close(&f);
}

/* The two jobs: the refit runs once a day after 01:00 in the commune's
   zone (so before that hour nothing is fitted, after it the commune is),
   the alert scan finds a day left outside its interval. */
static void
test_jobs(void)
{
    struct th_fix f;
    struct fc_fit fit;
    struct gu_err err;
    const struct notify_job *jobs;
    notify_job_fn refit = NULL, scan = NULL;
    size_t n = 0;
    int64_t id, day, cut;
    int minute;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    jobs = fc_jobs(&n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(jobs[i].name, "fc.refit") == 0)
            refit = jobs[i].fn;
        if (strcmp(jobs[i].name, "fc.alerts") == 0)
            scan = jobs[i].fn;
        CHECK(jobs[i].period_s > 0);
    }
    CHECK(refit && scan);
    if (!refit || !scan) {
        th_fix_close(&f);
        return;
    }
    id = make_canteen(&f, "cantine-j", D(2016, 3, 4));
    gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &minute);
    cut = gu_tz_to_utc(GU_TZ_PARIS, day, 60);
    CHECK(refit(f.s, NULL, &err) >= 0);
    if (gu_now() >= cut) {
        CHECK_EQ(fc_fit_get(f.c, f.a, "44109", id, &fit, &err), 0);
        /* Once a day: a second run does nothing. */
        CHECK_EQ(refit(f.s, NULL, &err), 0);
    } else {
        CHECK_EQ(fc_fit_get(f.c, f.a, "44109", id, &fit, &err), GU_ENOTFOUND);
        CHECK_EQ(fc_fit_series(f.c, f.a, "44109", id, &fit, &err), 0);
    }
    /* Alerts are on for this canteen: its first day ahead, far out. */
    {
        struct fc_series s;
        struct fc_day *days = NULL;
        size_t nd = 0;
        CHECK_EQ(fc_series_get(f.c, f.a, "44109", id, &s, &err), 0);
        s.alert_to = "cuisine@exemple.fr";
        CHECK_EQ(fc_series_save(f.c, &s, NULL, &err), 0);
        CHECK_EQ(fc_days(f.c, f.a, "44109", id, fit.data_end + 1,
                         fit.data_end + 7, NAN, &days, &nd, &err),
                 0);
        for (size_t i = 0; i < nd; i++) {
            if (isnan(days[i].p90))
                continue;
            struct fc_point p = {days[i].t, days[i].p90 * 2, NAN};
            CHECK_EQ(
                fc_points_put(f.c, "44109", id, &p, 1, FC_SRC_SAISIE, &err), 0);
            break;
        }
    }
    CHECK_EQ(scan(f.s, NULL, &err), 1);
    CHECK_EQ(scan(f.s, NULL, &err), 0);
    th_fix_close(&f);
}

/* An hourly water meter: fitted on its daily totals (civil days of the
   commune, summer time included); a day is compared with its interval
   only once its last hour is in. */
static void
test_hourly_series(void)
{
    struct th_fix f;
    struct fc_series s;
    struct fc_fit fit;
    struct gu_err err;
    struct fc_day *days = NULL;
    struct fc_point *p = calloc(24 * 70, sizeof(*p));
    size_t n = 0, k = 0, created = 0;
    unsigned st = 11;
    int64_t id = 0, d0 = D(2016, 3, 1), end = d0 + 59, next;

    if (!p || fix_open(&f) < 0) {
        free(p);
        CHECK(0);
        return;
    }
    memset(&s, 0, sizeof(s));
    snprintf(s.insee, sizeof(s.insee), "44109");
    s.code = "compteur-sud";
    s.name = "Compteur sud";
    s.unit = "m³";
    s.site = s.closed_weekdays = "";
    s.freq = FC_FREQ_HOUR;
    s.kind = FC_KIND_EAU;
    s.alert_to = "eau@exemple.fr";
    s.active = true;
    CHECK_EQ(fc_series_save(f.c, &s, &id, &err), 0);
    for (int64_t d = d0; d <= end; d++)
        for (int h = 0; h < 24; h++) {
            p[k].t = gu_tz_to_utc(GU_TZ_PARIS, d, h * 60);
            p[k].value = 40 + (h >= 7 && h <= 21 ? 10 : 0) + 2 * noise(&st);
            p[k].staff = NAN;
            k++;
        }
    /* 2016-03-27 has 23 hours: its 02:00 is 03:00, written twice. */
    CHECK_EQ(fc_points_put(f.c, "44109", id, p, k, FC_SRC_CSV, &err), 0);
    CHECK_EQ(fc_fit_series(f.c, f.a, "44109", id, &fit, &err), 0);
    CHECK_EQ(fit.data_end, end);
    CHECK_EQ(
        fc_days(f.c, f.a, "44109", id, end - 1, end + 2, NAN, &days, &n, &err),
        0);
    CHECK_EQ(n, 4);
    CHECK(n == 4 && days[0].actual > 24 * 40 && days[0].actual < 24 * 52);
    CHECK(n == 4 && !isnan(days[2].p50) && days[2].p50 > 900 &&
          days[2].p50 < 1300);
    /* Half of the next day, far above: not complete, no alert yet. */
    next = end + 1;
    for (int h = 0; h < 24; h++) {
        p[h].t = gu_tz_to_utc(GU_TZ_PARIS, next, h * 60);
        p[h].value = 400;
        p[h].staff = NAN;
    }
    CHECK_EQ(fc_points_put(f.c, "44109", id, p, 12, FC_SRC_API, &err), 0);
    CHECK_EQ(fc_alerts_scan(f.c, f.a, "44109", &created, &err), 0);
    CHECK_EQ(created, 0);
    CHECK_EQ(fc_points_put(f.c, "44109", id, p + 12, 12, FC_SRC_API, &err), 0);
    CHECK_EQ(fc_alerts_scan(f.c, f.a, "44109", &created, &err), 0);
    CHECK_EQ(created, 1);
    free(p);
    th_fix_close(&f);
}

TESTS(T(test_fit_canteen), T(test_hourly_series), T(test_jobs),
      T(test_shared_model), T(test_failed_fit_keeps_previous),
      T(test_reco_follows_risk), T(test_water_alert),
      T(test_commune_and_risk_fields))
