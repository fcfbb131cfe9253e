/*
 * test_fc_gbt.c - the gradient-boosted model (fc_gbt.h) on synthetic
 * canteens with a known weekday, holiday and strike pattern: it must beat
 * the mean of four weeks, never read past the origin, survive a save and
 * load, and refuse too little data or a damaged buffer in French.
 */
#include "forecast/fc_gbt.h"
#include "harness.h"

#include <math.h>
#include <stdlib.h>

#define NS 3
#define NDAYS (3 * 365 + 120)

static double vals[NS][NDAYS];
static unsigned menus[NS][NDAYS];
static struct fcst_gbt_series series[NS];
static struct fc_cal *cal;
static struct fc_cal_event events[8];
static struct fcst_gbt_ctx ctx;
static int64_t day0, train_end;

static uint64_t rng = 42;
static double
noise(void)
{
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return (double)(rng >> 11) / 9007199254740992.0 - 0.5; /* [-0.5, 0.5) */
}

/* Three canteens (40, 120, 300 meals), no service on Wednesdays, weekends,
   public and school holidays; Friday 0.8, Thursday 1.1, the eve of school
   holidays 0.7, the first day back 0.85, fries +10 %, strikes 0.4; a slow
   rise through the school year; 3 % noise. */
static void
setup(void)
{
    if (cal)
        return;
    CHECK_EQ(fc_cal_new("44109", "B", &cal), 0);
    day0 = gu_day_from_ymd(2013, 9, 2);
    train_end = gu_day_from_ymd(2016, 6, 30);
    int64_t strikes[] = {
        gu_day_from_ymd(2014, 3, 18), gu_day_from_ymd(2015, 1, 13),
        gu_day_from_ymd(2015, 11, 24), gu_day_from_ymd(2016, 3, 10),
        gu_day_from_ymd(2016, 10, 11)};
    size_t nev = 0;
    for (size_t i = 0; i < sizeof strikes / sizeof strikes[0]; i++)
        events[nev++] = (struct fc_cal_event){strikes[i], 0, "greve"};
    fc_cal_events_sort(events, nev);
    ctx = (struct fcst_gbt_ctx){cal, events, nev};
    const double base[NS] = {40, 120, 300};
    for (int k = 0; k < NS; k++) {
        for (int i = 0; i < NDAYS; i++) {
            int64_t d = day0 + i;
            struct fc_cal_day f;
            fc_cal_day(cal, d, &f);
            menus[k][i] = (i % 5 == 0) ? FC_MENU_FRIES : FC_MENU_MEAT;
            if (!f.school_day || f.weekday == 3) {
                vals[k][i] = NAN;
                continue;
            }
            double m = 1.0 + 0.004 * f.school_week;
            if (f.weekday == 5)
                m *= 0.8;
            if (f.weekday == 4)
                m *= 1.1;
            if (f.eve_school_holiday)
                m *= 0.7;
            if (f.first_day_back)
                m *= 0.85;
            if (menus[k][i] & FC_MENU_FRIES)
                m *= 1.1;
            if (fc_cal_events(events, nev, 0, d) & FC_EV_GREVE)
                m *= 0.4;
            vals[k][i] = round(base[k] * m * (1.0 + 0.06 * noise()));
        }
        series[k] = (struct fcst_gbt_series){
            .s = {day0, NDAYS, vals[k], NULL},
            .series_id = k + 1,
            .group = k % 2,
            .menu = menus[k],
            .pupils = NULL,
            .skip_weekdays = 1u << 3,
        };
    }
}

static struct fcst_gbt *
train(int horizon, struct gu_err *err)
{
    struct fcst_gbt_params p = {.horizon = horizon,
                                .rounds = 150,
                                .max_depth = 4,
                                .eta = 0.1,
                                .threads = 1,
                                .seed = 7};
    struct fcst_gbt *m = NULL;
    int rc = fcst_gbt_train(&ctx, series, NS, train_end, &p, &m, err);
    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "  train: %s\n", err->msg);
    return m;
}

static struct fcst_gbt *model7;

static void
test_beats_mean4(void)
{
    setup();
    struct gu_err err = {0};
    model7 = train(7, &err);
    if (!model7)
        return;
    CHECK_EQ(fcst_gbt_horizon(model7), 7);
    /* The test year: after train_end, forecast at 7 days. */
    struct fcst_acc ag, am;
    fcst_acc_init(&ag);
    fcst_acc_init(&am);
    for (int k = 0; k < NS; k++) {
        int64_t days[400], origins[400];
        double out[400], m4[400], act[400];
        size_t n = 0;
        for (int i = 0; i < NDAYS && n < 400; i++) {
            int64_t d = day0 + i;
            if (d <= train_end || isnan(vals[k][i]))
                continue;
            days[n] = d;
            origins[n] = d - 7;
            m4[n] = fcst_mean4(&series[k].s, d, 7);
            act[n] = vals[k][i];
            n++;
        }
        CHECK(n > 30);
        CHECK_EQ(fcst_gbt_predict_many(model7, &ctx, &series[k], days, origins,
                                       n, out, &err),
                 0);
        for (size_t i = 0; i < n; i++) {
            CHECK(isfinite(out[i]) && out[i] > 0);
            fcst_acc_add(&ag, act[i], out[i]);
            fcst_acc_add(&am, act[i], m4[i]);
            /* One day alone gives the same as the batch. */
            if (i % 37 == 0)
                CHECK(fabs(fcst_gbt_predict(model7, &ctx, &series[k], days[i],
                                            origins[i]) -
                           out[i]) < 1e-9);
        }
    }
    struct fcst_metrics mg, mm;
    fcst_acc_metrics(&ag, &mg);
    fcst_acc_metrics(&am, &mm);
    fprintf(stderr, "  gbt WAPE %.2f %%, mean4 %.2f %% (n %zu)\n", mg.wape,
            mm.wape, mg.n);
    CHECK(mg.n > 100);
    CHECK(mg.wape < mm.wape * 0.75);
    CHECK(mg.wape < 7.0);
}

static void
test_no_leak(void)
{
    setup();
    if (!model7)
        return;
    /* Forecasts of days after an origin, then every value after the origin
       replaced: the same forecasts. */
    int64_t origin = train_end + 80; /* a Sunday in September */
    int64_t days[10], origins[10];
    for (int i = 0; i < 10; i++) {
        days[i] = origin + 7 + i;
        origins[i] = origin;
    }
    double before[10], after[10];
    struct gu_err err = {0};
    CHECK_EQ(fcst_gbt_predict_many(model7, &ctx, &series[1], days, origins, 10,
                                   before, &err),
             0);
    static double copy[NDAYS];
    for (int i = 0; i < NDAYS; i++)
        copy[i] = day0 + i > origin ? 1000 + 500 * noise() : vals[1][i];
    struct fcst_gbt_series s2 = series[1];
    s2.s.v = copy;
    CHECK_EQ(fcst_gbt_predict_many(model7, &ctx, &s2, days, origins, 10, after,
                                   &err),
             0);
    int finite = 0;
    for (int i = 0; i < 10; i++) {
        CHECK((isnan(before[i]) && isnan(after[i])) || before[i] == after[i]);
        finite += isfinite(before[i]);
    }
    CHECK(finite >= 5);
    /* A value at the origin itself does move the forecast (the test above
       would pass for a model that reads nothing). */
    for (int64_t d = origin; d > origin - 30; d--)
        if (!isnan(copy[d - day0]))
            copy[d - day0] *= 3;
    CHECK_EQ(fcst_gbt_predict_many(model7, &ctx, &s2, days, origins, 10, after,
                                   &err),
             0);
    int moved = 0;
    for (int i = 0; i < 10; i++)
        moved += isfinite(before[i]) && fabs(after[i] - before[i]) > 1;
    CHECK(moved >= 5);
}

static void
test_strike_known(void)
{
    setup();
    if (!model7)
        return;
    /* The strike of 2016-10-11 is in the test period: the model must
       forecast it far lower than the same weekday a week later. */
    int64_t d = gu_day_from_ymd(2016, 10, 11);
    double fs = fcst_gbt_predict(model7, &ctx, &series[2], d, d - 7);
    double fn = fcst_gbt_predict(model7, &ctx, &series[2], d + 7, d);
    CHECK(isfinite(fs) && isfinite(fn));
    CHECK(fs < 0.7 * fn);
}

static void
test_save_load(void)
{
    setup();
    if (!model7)
        return;
    struct gu_err err = {0};
    void *buf = NULL;
    size_t len = 0;
    CHECK_EQ(fcst_gbt_save(model7, &buf, &len, &err), 0);
    CHECK(buf && len > 100);
    struct fcst_gbt *m2 = NULL;
    CHECK_EQ(fcst_gbt_load(buf, len, &m2, &err), 0);
    if (m2) {
        CHECK_EQ(fcst_gbt_horizon(m2), 7);
        for (int64_t d = train_end + 10; d < train_end + 60; d += 3) {
            double a = fcst_gbt_predict(model7, &ctx, &series[0], d, d - 7);
            double b = fcst_gbt_predict(m2, &ctx, &series[0], d, d - 7);
            CHECK((isnan(a) && isnan(b)) || fabs(a - b) < 1e-6);
        }
        fcst_gbt_free(m2);
    }
    /* Damaged: truncated, wrong magic, garbage inside. */
    m2 = NULL;
    CHECK_EQ(fcst_gbt_load(buf, len - 1, &m2, &err), GU_EINVAL);
    CHECK(m2 == NULL);
    CHECK(strlen(err.user) > 0);
    unsigned char *p = buf;
    p[0] ^= 0xff;
    CHECK_EQ(fcst_gbt_load(buf, len, &m2, &err), GU_EINVAL);
    p[0] ^= 0xff;
    for (size_t i = 40; i < len; i += 7)
        p[i] = (unsigned char)(p[i] * 31 + 5);
    int rc = fcst_gbt_load(buf, len, &m2, &err);
    CHECK_EQ(rc, GU_EINVAL); /* the checksum */
    fcst_gbt_free(m2);
    CHECK_EQ(fcst_gbt_load(NULL, 0, &m2, &err), GU_EINVAL);
    gu_free(buf);
    fcst_gbt_free(NULL);
}

static void
test_too_little_data(void)
{
    setup();
    struct fcst_gbt_series one = series[0];
    one.s.n = 60; /* about 30 service days */
    struct fcst_gbt_params p = {.horizon = 7, .rounds = 5, .threads = 1};
    struct fcst_gbt *m = NULL;
    struct gu_err err = {0};
    CHECK_EQ(fcst_gbt_train(&ctx, &one, 1, train_end, &p, &m, &err), GU_EINVAL);
    CHECK(m == NULL);
    CHECK_CONTAINS(err.user, "historique");
    p.horizon = 0;
    CHECK_EQ(fcst_gbt_train(&ctx, series, NS, train_end, &p, &m, &err),
             GU_EINVAL);
}

static void
test_year_ahead(void)
{
    setup();
    struct gu_err err = {0};
    struct fcst_gbt *m = train(FCST_GBT_YEAR_AHEAD, &err);
    if (!m)
        return;
    CHECK_EQ(fcst_gbt_horizon(m), FCST_GBT_YEAR_AHEAD);
    struct fcst_acc ag;
    fcst_acc_init(&ag);
    for (int k = 0; k < NS; k++)
        for (int i = 0; i < NDAYS; i++) {
            int64_t d = day0 + i;
            if (d <= train_end || isnan(vals[k][i]))
                continue;
            double f = fcst_gbt_predict(m, &ctx, &series[k], d, train_end);
            CHECK(isfinite(f));
            fcst_acc_add(&ag, vals[k][i], f);
        }
    struct fcst_metrics mg;
    fcst_acc_metrics(&ag, &mg);
    fprintf(stderr, "  year-ahead gbt WAPE %.2f %% (n %zu)\n", mg.wape, mg.n);
    CHECK(mg.n > 100);
    CHECK(mg.wape < 10.0);
    fcst_gbt_free(m);
}

static void
test_cleanup(void)
{
    fcst_gbt_free(model7);
    model7 = NULL;
    fc_cal_free(cal);
    cal = NULL;
}

TESTS(T(test_beats_mean4), T(test_no_leak), T(test_strike_known),
      T(test_save_load), T(test_too_little_data), T(test_year_ahead),
      T(test_cleanup))
