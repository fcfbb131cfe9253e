/*
 * test_fc_models.c - baselines, ETS, Theta, intervals, metrics and the
 * backtest of fc_models.h on synthetic series with known answers.
 */
#include "core/core.h"
#include "forecast/fc_models.h"
#include "harness.h"

#include <math.h>
#include <stdlib.h>

#define CHECK_NEAR(a, b, tol)                                                  \
    do {                                                                       \
        double tn_a = (a), tn_b = (b);                                         \
        if (!(fabs(tn_a - tn_b) <= (tol)))                                     \
            TH_FAIL("CHECK_NEAR(%s, %s): %.6f != %.6f (tol %g)", #a, #b, tn_a, \
                    tn_b, (double)(tol));                                      \
    } while (0)

#define N 700

/* 2015-01-05 is a Monday. */
static int64_t
monday0(void)
{
    return gu_day_from_ymd(2015, 1, 5);
}

static const double pattern[8] = {0, 120, 130, 0, 140, 110, 60, 0};

/* Pure weekly pattern; weekday 3 (Wednesday) and 7 closed (NAN). */
static void
fill_weekly(double *v, int64_t day0, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int w = fcst_weekday(day0 + (int64_t)i);
        v[i] = pattern[w] > 0 ? pattern[w] : NAN;
    }
}

static uint32_t rng = 12345;

static double
noise(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (double)(rng >> 8) / (double)(1u << 24) - 0.5;
}

static void
test_weekday_matches_core(void)
{
    for (int64_t d = -800; d < 30000; d += 37)
        CHECK_EQ(fcst_weekday(d), gu_day_weekday(d));
    CHECK_EQ(fcst_weekday(monday0()), 1);
}

static void
test_names(void)
{
    CHECK_STR(fcst_method_name(FCST_THETA), "theta");
    CHECK_STR(fcst_method_name(FCST_MEAN4), "mean4");
    CHECK_STR(fcst_method_name(FCST_METHOD_COUNT), "");
    CHECK_STR(fcst_method_label(FCST_ETS), "Holt-Winters amorti (ETS)");
}

/* A pure weekly pattern is forecast exactly by the weekly baselines at
   every horizon, and closely by ETS and Theta. */
static void
test_weekly_pattern_exact(void)
{
    static double v[N];
    int64_t d0 = monday0();
    fill_weekly(v, d0, N);
    struct fcst_series s = {d0, N, v, NULL};
    struct fcst_fit fit;
    fcst_fit_all(&s, d0 + 500, &fit);
    CHECK(fit.ets_ok);
    CHECK(fit.theta_ok);
    for (int h = 1; h <= 21; h += 4) {
        for (int64_t d = d0 + 600; d < d0 + 614; d++) {
            int w = fcst_weekday(d);
            if (pattern[w] == 0) {
                CHECK(isnan(fcst_snaive(&s, d, h)));
                continue;
            }
            CHECK_NEAR(fcst_snaive(&s, d, h), pattern[w], 1e-12);
            CHECK_NEAR(fcst_last_week(&s, d, h), pattern[w], 1e-12);
            CHECK_NEAR(fcst_mean4(&s, d, h), pattern[w], 1e-12);
            CHECK_NEAR(fcst_last_year(&s, d, h), pattern[w], 1e-12);
            CHECK_NEAR(fcst_ets_forecast(&s, &fit.ets, d, h), pattern[w], 0.5);
            CHECK_NEAR(fcst_theta_forecast(&s, &fit.theta, d, h), pattern[w],
                       0.5);
        }
    }
}

/* Gaps: a two-week holiday; last_week reaches back over it, seasonal
   naive does not, and fcst_forecast falls back to mean4. */
static void
test_nan_gaps(void)
{
    static double v[N];
    int64_t d0 = monday0();
    for (size_t i = 0; i < N; i++)
        v[i] = 100 + (double)i; /* every day served, rising */
    for (size_t i = 300; i < 314; i++)
        v[i] = NAN;
    struct fcst_series s = {d0, N, v, NULL};
    int64_t d = d0 + 314; /* first day after the holiday */
    /* h = 7: D-7 = 307 is in the holiday; the last same weekday with a
       value is 314 - 21 = 293. */
    CHECK(isnan(fcst_snaive(&s, d, 7)));
    CHECK_NEAR(fcst_last_week(&s, d, 7), 100 + 293, 1e-12);
    CHECK_NEAR(fcst_mean4(&s, d, 7), 100 + (293 + 286 + 279 + 272) / 4.0, 1e-9);
    int fb = 0;
    double f = fcst_forecast(FCST_SNAIVE, &s, NULL, d, 7, &fb);
    CHECK_EQ(fb, 1);
    CHECK_NEAR(f, fcst_mean4(&s, d, 7), 1e-12);
    /* ETS and Theta skip the gap and still forecast. */
    struct fcst_fit fit;
    fcst_fit_all(&s, d0 + 299, &fit);
    CHECK(!isnan(fcst_ets_forecast(&s, &fit.ets, d, 7)));
    CHECK(!isnan(fcst_theta_forecast(&s, &fit.theta, d, 7)));
    /* Nothing before D-h at all: NAN, and the method of last resort
       too. */
    static double empty[30];
    for (size_t i = 0; i < 30; i++)
        empty[i] = NAN;
    struct fcst_series e = {d0, 30, empty, NULL};
    CHECK(isnan(fcst_forecast(FCST_MEAN4, &e, NULL, d0 + 20, 7, &fb)));
    CHECK(isnan(fcst_last_week(&e, d0 + 20, 7)));
    CHECK(fcst_ets_fit(&e, d0 + 29, &fit.ets) < 0);
    CHECK(fcst_theta_fit(&e, d0 + 29, &fit.theta) < 0);
    /* Outside the array. */
    CHECK(isnan(fcst_value(&s, d0 - 1)));
    CHECK(isnan(fcst_value(&s, d0 + N)));
}

/* A linear trend (every day served) is followed by ETS and Theta within
   tolerance; the weekly baselines lag behind by the trend. */
static void
test_linear_trend(void)
{
    static double v[N];
    int64_t d0 = monday0();
    for (size_t i = 0; i < N; i++)
        v[i] = 200 + 2.0 * (double)i;
    struct fcst_series s = {d0, N, v, NULL};
    struct fcst_fit fit;
    fcst_fit_all(&s, d0 + 600, &fit);
    for (int h = 1; h <= 14; h += 6) {
        int64_t d = d0 + 650;
        double truth = 200 + 2.0 * 650;
        double ets = fcst_ets_forecast(&s, &fit.ets, d, h);
        double theta = fcst_theta_forecast(&s, &fit.theta, d, h);
        double last = v[650 - h];
        /* Within 1 % of the truth, and above the last value seen: the
           trend is carried forward. */
        CHECK_NEAR(ets, truth, 0.01 * truth);
        CHECK_NEAR(theta, truth, 0.01 * truth);
        CHECK(ets > last);
        CHECK(theta > last);
        CHECK_NEAR(fcst_snaive(&s, d, h), truth - 2.0 * 7 * ((h + 6) / 7),
                   1e-9);
    }
}

/* Weekly pattern on a trend with noise: ETS and Theta beat seasonal
   naive at h = 7 over 8 weeks. */
static void
test_pattern_trend_noise(void)
{
    static double v[N];
    int64_t d0 = monday0();
    rng = 7;
    for (size_t i = 0; i < N; i++) {
        int w = fcst_weekday(d0 + (int64_t)i);
        v[i] = pattern[w] > 0
                   ? pattern[w] * (1 + 0.001 * (double)i) + 4 * noise()
                   : NAN;
    }
    struct fcst_series s = {d0, N, v, NULL};
    struct fcst_fit fit;
    fcst_fit_all(&s, d0 + 600, &fit);
    double e_ets = 0, e_theta = 0, e_sn = 0;
    for (int64_t d = d0 + 601; d < d0 + 657; d++) {
        double a = fcst_value(&s, d);
        if (isnan(a))
            continue;
        e_ets += fabs(fcst_ets_forecast(&s, &fit.ets, d, 7) - a);
        e_theta += fabs(fcst_theta_forecast(&s, &fit.theta, d, 7) - a);
        e_sn += fabs(fcst_snaive(&s, d, 7) - a);
    }
    CHECK(e_ets < e_sn);
    CHECK(e_theta < e_sn);
    CHECK(fit.ets.alpha >= 0.01 && fit.ets.alpha <= 0.9);
    CHECK(fit.ets.phi >= 0.8 && fit.ets.phi <= 0.98);
    CHECK(fit.theta.alpha >= 0.01 && fit.theta.alpha <= 0.99);
    CHECK_EQ(fit.ets.weekdays,
             (1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 6));
}

/* No peeking: the forecast of D at horizon h does not move when every
   value after D-h changes (or disappears). */
static void
test_horizon_respected(void)
{
    static double v[N], w2[N];
    int64_t d0 = monday0();
    rng = 99;
    for (size_t i = 0; i < N; i++)
        v[i] = i % 7 == 2 ? NAN : 150 + 30 * noise() + 0.05 * (double)i;
    int64_t d = d0 + 640;
    for (int h = 1; h <= 30; h += 7) {
        memcpy(w2, v, sizeof v);
        for (int64_t i = 640 - h + 1; i < N; i++)
            w2[i] = i % 3 ? 1e6 * (1 + noise()) : NAN;
        struct fcst_series a = {d0, N, v, NULL};
        struct fcst_series b = {d0, N, w2, NULL};
        struct fcst_fit fa, fb;
        fcst_fit_all(&a, d - h, &fa);
        fcst_fit_all(&b, d - h, &fb);
        CHECK_NEAR(fa.ets.alpha, fb.ets.alpha, 0);
        CHECK_NEAR(fa.theta.alpha, fb.theta.alpha, 0);
        for (int m = 0; m < FCST_METHOD_COUNT; m++) {
            double x = fcst_forecast((enum fcst_method)m, &a, &fa, d, h, NULL);
            double y = fcst_forecast((enum fcst_method)m, &b, &fb, d, h, NULL);
            if (isnan(x) && isnan(y))
                continue;
            if (x != y)
                TH_FAIL("method %s h=%d: %.6f != %.6f",
                        fcst_method_name((enum fcst_method)m), h, x, y);
        }
    }
}

/* Same week of the school year, one year back. */
static void
test_last_year_school_weeks(void)
{
    static double v[N];
    static int16_t wk[N];
    int64_t d0 = monday0();
    for (size_t i = 0; i < N; i++) {
        v[i] = (double)i;
        wk[i] = (int16_t)((i / 7) % 53); /* a 53-week school "year" */
    }
    struct fcst_series s = {d0, N, v, wk};
    int64_t d = d0 + 500;
    /* 53 weeks back holds the same week index: 500 - 371 = 129. */
    CHECK_NEAR(fcst_last_year(&s, d, 7), 129, 0);
    /* Without the calendar: 364 days back. */
    struct fcst_series s2 = {d0, N, v, NULL};
    CHECK_NEAR(fcst_last_year(&s2, d, 7), 136, 0);
    /* Horizon longer than the lag: nothing allowed. */
    CHECK(isnan(fcst_last_year(&s2, d, 400)));
    /* The matching day closed: the next candidate with the same week
       index is taken, or NAN. */
    v[129] = NAN;
    CHECK(isnan(fcst_last_year(&s, d, 7)));
}

static void
test_metrics_by_hand(void)
{
    double a[] = {100, 200, 50, NAN, 80};
    double f[] = {110, 180, 50, 70, NAN};
    struct fcst_metrics m;
    fcst_metrics_compute(a, f, 5, &m);
    CHECK_EQ(m.n, 3);
    CHECK_NEAR(m.wape, 100.0 * 30 / 350, 1e-9);
    CHECK_NEAR(m.bias, 100.0 * -10 / 350, 1e-9);
    CHECK_NEAR(m.over, 100.0 * 10 / 350, 1e-9);
    CHECK_NEAR(m.mae, 10, 1e-9);
    CHECK_NEAR(m.mape, 100.0 * 0.2 / 3, 1e-9);
    CHECK_EQ(m.short_days, 1);
    /* Merge equals one pass; empty gives NAN ratios. */
    struct fcst_acc x, y;
    fcst_acc_init(&x);
    fcst_acc_init(&y);
    CHECK_EQ(fcst_acc_add(&x, 100, 110), 0);
    CHECK_EQ(fcst_acc_add(&y, 200, 180), 0);
    CHECK_EQ(fcst_acc_add(&y, 50, 50), 0);
    CHECK_EQ(fcst_acc_add(&y, NAN, 1), -1);
    fcst_acc_merge(&x, &y);
    struct fcst_metrics m2;
    fcst_acc_metrics(&x, &m2);
    CHECK_NEAR(m2.wape, m.wape, 1e-12);
    CHECK_EQ(m2.short_days, 1);
    struct fcst_acc z;
    fcst_acc_init(&z);
    fcst_acc_metrics(&z, &m2);
    CHECK_EQ(m2.n, 0);
    CHECK(isnan(m2.wape));
    CHECK(isnan(m2.mae));
}

static void
test_quantiles_intervals(void)
{
    double x[] = {5, 1, 4, 2, 3};
    CHECK_NEAR(fcst_quantile(x, 5, 0.1), 1.4, 1e-12);
    CHECK_NEAR(fcst_quantile(x, 5, 0.5), 3, 1e-12);
    CHECK_NEAR(fcst_quantile(x, 5, 0.9), 4.6, 1e-12);
    CHECK_NEAR(fcst_quantile(x, 5, 1.0), 5, 1e-12);
    CHECK(isnan(fcst_quantile(x, 0, 0.5)));
    double e[] = {-10, 20, 0, -5, 5, 10, -20, 15, -15, 0};
    double p10, p50, p90;
    fcst_interval(100, e, 10, &p10, &p50, &p90);
    CHECK_NEAR(p10, 100 - 15.5, 1e-9);
    CHECK_NEAR(p50, 100, 1e-9);
    CHECK_NEAR(p90, 100 + 15.5, 1e-9);
    CHECK(p10 <= p50 && p50 <= p90);
    fcst_interval(5, e, 10, &p10, &p50, &p90);
    CHECK_NEAR(p10, 0, 0); /* never below zero */
    fcst_interval(100, e, 3, &p10, &p50, &p90);
    CHECK_NEAR(p10, 100, 0);
    CHECK_NEAR(p90, 100, 0);
}

/* Backtest: rows chosen by actual, weekday and staff, the same for every
   method; seasonal naive exact on a weekly pattern; the year-ahead variant
   uses nothing after train_end. */
static void
test_backtest(void)
{
    static double v[N], staff[N], fo[FCST_METHOD_COUNT * N];
    int64_t d0 = monday0();
    fill_weekly(v, d0, N);
    for (size_t i = 0; i < N; i++)
        staff[i] = isnan(v[i]) ? NAN : v[i] + 10;
    staff[610] = NAN; /* a Tuesday: one row less */
    struct fcst_bt_opts o = {
        .train_end = d0 + 580,
        .test_start = d0 + 588,
        .test_end = d0 + 643, /* 8 weeks */
        .horizon = 7,
        .refit_every = 14,
        .skip_weekdays = 1u << 1, /* no Mondays */
    };
    struct fcst_series s = {d0, N, v, NULL};
    struct fcst_bt_result r;
    fcst_bt_result_init(&r);
    long rows = fcst_backtest(&s, staff, &o, &r, fo);
    /* 8 weeks x 4 served weekdays (Tue, Thu, Fri, Sat) - the staff gap
       (day 610 is a Saturday of the window when it is served). */
    int gap = !isnan(v[610]) && fcst_weekday(d0 + 610) != 1;
    CHECK_EQ(rows, 8 * 4 - gap);
    for (int m = 0; m < FCST_METHOD_COUNT; m++)
        CHECK_EQ(r.acc[m].n, (size_t)rows);
    CHECK_EQ(r.staff.n, (size_t)rows);
    struct fcst_metrics mt;
    fcst_acc_metrics(&r.acc[FCST_SNAIVE], &mt);
    CHECK_NEAR(mt.wape, 0, 1e-12);
    CHECK_EQ(r.fallbacks[FCST_SNAIVE], 0);
    fcst_acc_metrics(&r.staff, &mt);
    CHECK_NEAR(mt.bias, 100.0 * 10 * rows / r.staff.sum_a, 1e-9);
    CHECK_EQ(mt.short_days, 0);
    CHECK(r.fits >= 4); /* initial fit + refits every 14 days */
    CHECK(isnan(fo[FCST_MEAN4 * N + 588]));  /* a Monday: not a row */
    CHECK(!isnan(fo[FCST_MEAN4 * N + 589])); /* a Tuesday */
    CHECK(isnan(fo[FCST_MEAN4 * N + 590]));  /* a Wednesday: closed */

    /* Year-ahead: values after train_end changed, same answers. */
    static double w2[N];
    memcpy(w2, v, sizeof v);
    o.year_ahead = 1;
    struct fcst_bt_result r1, r2;
    fcst_bt_result_init(&r1);
    fcst_bt_result_init(&r2);
    long rows1 = fcst_backtest(&s, NULL, &o, &r1, NULL);
    struct fcst_series s2 = {d0, N, w2, NULL};
    for (size_t i = 581; i < N; i++)
        if (!isnan(w2[i]))
            w2[i] += 1000; /* the actuals move, not the forecasts */
    long rows2 = fcst_backtest(&s2, NULL, &o, &r2, NULL);
    CHECK_EQ(rows1, rows2);
    CHECK_EQ(r1.fits, 1);
    for (int m = 0; m < FCST_METHOD_COUNT; m++)
        CHECK_NEAR(r1.acc[m].sum_err - r2.acc[m].sum_err,
                   1000.0 * (double)rows1, 1e-6);

    /* Residual intervals: on the exact pattern seasonal naive has zero
       errors, so every row has a point interval that covers it. */
    CHECK_EQ(r1.interval_n[FCST_SNAIVE], (size_t)rows1);
    CHECK_EQ(r1.covered[FCST_SNAIVE], (size_t)rows1);

    /* Bad options. */
    o.horizon = 0;
    CHECK_EQ(fcst_backtest(&s, NULL, &o, &r, NULL), -1);
    o.horizon = 7;
    o.test_end = o.test_start - 1;
    CHECK_EQ(fcst_backtest(&s, NULL, &o, &r, NULL), -1);
}

/* Noise around a level: the P10-P90 interval from past errors covers
   about 80 % of the days, and ordering the P90 leaves about one day in
   ten short. */
static void
test_interval_coverage(void)
{
    static double v[N];
    int64_t d0 = monday0();
    rng = 4242;
    for (size_t i = 0; i < N; i++)
        v[i] = 200 + 40 * (noise() + noise() + noise());
    struct fcst_series s = {d0, N, v, NULL};
    struct fcst_bt_opts o = {
        .train_end = d0 + 400,
        .test_start = d0 + 401,
        .test_end = d0 + 699,
        .horizon = 7,
    };
    struct fcst_bt_result r;
    fcst_bt_result_init(&r);
    long rows = fcst_backtest(&s, NULL, &o, &r, NULL);
    CHECK_EQ(rows, 299);
    for (int m = 0; m < FCST_METHOD_COUNT; m++) {
        CHECK_EQ(r.interval_n[m], (size_t)rows);
        double cov = (double)r.covered[m] / (double)r.interval_n[m];
        if (cov < 0.65 || cov > 0.92)
            TH_FAIL("%s: coverage %.3f", fcst_method_name(m), cov);
        double shortp = (double)r.p90[m].short_days / (double)r.p90[m].n;
        if (shortp > 0.2)
            TH_FAIL("%s: P90 short %.3f", fcst_method_name(m), shortp);
    }
}

TESTS(T(test_weekday_matches_core), T(test_names), T(test_weekly_pattern_exact),
      T(test_nan_gaps), T(test_linear_trend), T(test_pattern_trend_noise),
      T(test_horizon_respected), T(test_last_year_school_weeks),
      T(test_metrics_by_hand), T(test_quantiles_intervals), T(test_backtest),
      T(test_interval_coverage))
