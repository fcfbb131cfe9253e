/*
 * test_fc_reco.c - recommendations from a forecast distribution
 * (fc_reco.h): quantiles of point * (1 + e), orders in whole units, the
 * probability of a short day, expected surplus, the risk as users write it,
 * the choice of a risk on a past period with a bootstrap margin.
 */
#include "forecast/fc_reco.h"
#include "harness.h"

#include <math.h>

/* Errors -0.10, -0.09, ..., +0.09: 20 values, evenly spread. */
static void
even_errors(double *e)
{
    for (int i = 0; i < 20; i++)
        e[i] = -0.10 + 0.01 * i;
}

static int
near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

static void
test_quantile(void)
{
    double e[20];
    even_errors(e);
    double copy[20];
    memcpy(copy, e, sizeof e);
    /* Type 7 over 20 sorted outcomes 90..109. */
    CHECK(near(fcst_dist_quantile(100, e, 20, 0.0), 90));
    CHECK(near(fcst_dist_quantile(100, e, 20, 1.0), 109));
    CHECK(near(fcst_dist_quantile(100, e, 20, 0.5), 99.5));
    CHECK(near(fcst_dist_quantile(100, e, 20, 0.9), 90 + 0.9 * 19));
    CHECK(!memcmp(copy, e, sizeof e)); /* not modified, not sorted */
    /* Unsorted input gives the same. */
    double r[20];
    for (int i = 0; i < 20; i++)
        r[i] = e[(i * 7) % 20];
    CHECK(near(fcst_dist_quantile(100, r, 20, 0.9), 90 + 0.9 * 19));
    /* Too few errors, NAN point. */
    CHECK(isnan(fcst_dist_quantile(100, e, FCST_RECO_MIN_ERRORS - 1, 0.5)));
    CHECK(isnan(fcst_dist_quantile(NAN, e, 20, 0.5)));
    CHECK(isnan(fcst_dist_quantile(100, NULL, 20, 0.5)));
    /* Never below 0. */
    double neg[12];
    for (int i = 0; i < 12; i++)
        neg[i] = -1.5;
    CHECK(near(fcst_dist_quantile(100, neg, 12, 0.5), 0));
}

static void
test_latest_errors_only(void)
{
    /* Only the last FCST_RECO_ERRORS errors count: old huge errors are
       forgotten. */
    static double e[FCST_RECO_ERRORS + 50];
    for (int i = 0; i < FCST_RECO_ERRORS + 50; i++)
        e[i] = i < 50 ? 5.0 : 0.0;
    CHECK(near(fcst_dist_quantile(100, e, FCST_RECO_ERRORS + 50, 1.0), 100));
    CHECK(near(fcst_dist_quantile(100, e, FCST_RECO_ERRORS, 1.0), 600));
}

static void
test_recommend(void)
{
    double e[20];
    even_errors(e);
    struct fcst_reco r;
    /* 1 - 0.05 = 0.95: 90 + 0.95 * 19 = 108.05 -> 109 meals. */
    fcst_recommend(100, e, 20, 0.05, 0.4, 3.5, &r);
    CHECK(near(r.order, 109));
    CHECK(near(r.p_short, 0)); /* no outcome above 109 */
    /* surplus = mean(109 - o) over o = 90..109 = 109 - 99.5 */
    CHECK(near(r.surplus, 9.5));
    CHECK(near(r.shortfall, 0));
    CHECK(near(r.surplus_kg, 9.5 * 0.4));
    CHECK(near(r.surplus_eur, 9.5 * 3.5));
    /* Risk 0.5: median 99.5 -> 100; outcomes 101..109 are short. */
    fcst_recommend(100, e, 20, 0.5, 0, 0, &r);
    CHECK(near(r.order, 100));
    CHECK(near(r.p_short, 9.0 / 20));
    CHECK(near(r.shortfall, (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9) / 20.0));
    CHECK(near(r.surplus_kg, 0));
    /* An exact integer quantile is not rounded up one more. */
    double z[10] = {0};
    fcst_recommend(50, z, 10, 0.1, 0, 0, &r);
    CHECK(near(r.order, 50));
    /* Risk clamped to [FCST_RISK_MIN, FCST_RISK_MAX]: 0.9 acts as 0.5,
       0 as 0.005. */
    struct fcst_reco a, b;
    fcst_recommend(100, e, 20, 0.9, 0, 0, &a);
    fcst_recommend(100, e, 20, FCST_RISK_MAX, 0, 0, &b);
    CHECK(near(a.order, b.order));
    fcst_recommend(100, e, 20, 0, 0, 0, &a);
    fcst_recommend(100, e, 20, NAN, 0, 0, &b);
    CHECK(near(a.order, 109) && near(b.order, 109));
    /* Lower risk never orders less. */
    double prev = 0;
    for (double risk = 0.5; risk >= 0.01; risk -= 0.01) {
        fcst_recommend(100, e, 20, risk, 0, 0, &a);
        CHECK(a.order >= prev);
        prev = a.order;
    }
    /* No distribution: no order. */
    fcst_recommend(100, e, 5, 0.05, 0, 0, &r);
    CHECK(isnan(r.order));
    fcst_recommend(NAN, e, 20, 0.05, 0, 0, &r);
    CHECK(isnan(r.order));
}

static void
test_risk_parse(void)
{
    static const struct {
        const char *s;
        double want;
    } ok[] = {
        {"0.05", 0.05},     {"0,05", 0.05},       {"5 %", 0.05},
        {"5%", 0.05},       {"5\xc2\xa0%", 0.05}, {"1/20", 0.05},
        {"1 sur 20", 0.05}, {" 2,5 % ", 0.025},   {"1 / 4", 0.25},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double r = -1;
        CHECK_EQ(fcst_risk_parse(ok[i].s, &r), 0);
        if (!near(r, ok[i].want))
            TH_FAIL("%s -> %g", ok[i].s, r);
    }
    static const char *bad[] = {
        "",     "abc",   "0",
        "1",    "5",     "120 %",
        "1/0",  "1 sur", "-0.05",
        "5 %%", "0.05x", "1 sur 20 jours",
        "1e-2", NULL,    "0.0000000000000000000000000000000000005",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double r = 7;
        if (fcst_risk_parse(bad[i], &r) != -1)
            TH_FAIL("accepted \"%s\"", bad[i] ? bad[i] : "(null)");
        CHECK(r == 7);
    }
}

static void
test_short_excess(void)
{
    enum { W = 40 };
    int ref[W], fewer[W], more[W], mixed[W];
    for (int w = 0; w < W; w++) {
        ref[w] = 50;
        fewer[w] = 45; /* 5 fewer short days every week */
        more[w] = 52;
        /* the same total as ref, but spread unevenly over the weeks */
        mixed[w] = w % 2 ? 30 : 70;
    }
    /* Always fewer: no resample exceeds; always more: every one does. */
    CHECK(near(fcst_short_excess(fewer, ref, W), 0));
    CHECK(near(fcst_short_excess(more, ref, W), 1));
    /* Equal in total but noisy: about half of the resamples exceed. */
    double p = fcst_short_excess(mixed, ref, W);
    CHECK(p > 0.3 && p < 0.7);
    /* Deterministic: the same input gives the same share. */
    CHECK(near(fcst_short_excess(mixed, ref, W), p));
    /* Nothing to resample: nothing shows the risk is safe. */
    CHECK(near(fcst_short_excess(fewer, ref, 0), 1));
    CHECK(near(fcst_short_excess(NULL, ref, W), 1));
}

static void
test_risk_choose(void)
{
    enum { W = 30, R = 4 };
    const double risks[R] = {0.10, 0.15, 0.20, 0.25};
    int ref[W], sw[R * W];
    /* Weekly short days: 0.10 -> 30, 0.15 -> 40, 0.20 -> 48 +/- 10 (a
       total just under the reference's but noisy), 0.25 -> 60; the
       reference 50 every week. */
    for (int w = 0; w < W; w++) {
        ref[w] = 50;
        sw[0 * W + w] = 30;
        sw[1 * W + w] = 40;
        sw[2 * W + w] = w % 2 ? 38 : 58;
        sw[3 * W + w] = 60;
    }
    /* Without margin (alpha 0.5) 0.20 passes: fewer in total. With a
       10 % margin its noise makes it fail, and 0.15 is chosen. */
    CHECK_EQ(fcst_risk_choose(risks, R, sw, ref, W, 0.5), 2);
    CHECK_EQ(fcst_risk_choose(risks, R, sw, ref, W, 0.10), 1);
    /* alpha 1 accepts everything: the largest risk. */
    CHECK_EQ(fcst_risk_choose(risks, R, sw, ref, W, 1.0), 3);
    /* A reference nobody beats: none. */
    int low[W];
    for (int w = 0; w < W; w++)
        low[w] = 10;
    CHECK_EQ(fcst_risk_choose(risks, R, sw, low, W, 0.10), -1);
    /* The largest risk wins whatever the order of the table. */
    const double shuffled[R] = {0.25, 0.20, 0.15, 0.10};
    CHECK_EQ(fcst_risk_choose(shuffled, R, sw, ref, W, 1.0), 0);
    /* Bad arguments. */
    CHECK_EQ(fcst_risk_choose(NULL, R, sw, ref, W, 0.1), -1);
    CHECK_EQ(fcst_risk_choose(risks, R, sw, ref, 0, 0.1), -1);
    CHECK_EQ(fcst_risk_choose(risks, R, sw, ref, W, NAN), -1);
}

TESTS(T(test_quantile), T(test_latest_errors_only), T(test_recommend),
      T(test_risk_parse), T(test_short_excess), T(test_risk_choose))
