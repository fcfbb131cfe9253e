/*
 * fc_backtest.c - accuracy metrics and the rolling-origin / year-ahead
 * backtest of one daily series (see fc_models.h).
 *
 * Every method is scored on the same rows: a row is chosen from the
 * actual (and the staff forecast when given) before any method runs, and
 * a method without an answer falls back (fcst_forecast) rather than
 * leaving the row out.
 */
#include "forecast/fc_models.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
fcst_acc_init(struct fcst_acc *acc)
{
    memset(acc, 0, sizeof *acc);
}

int
fcst_acc_add(struct fcst_acc *acc, double a, double f)
{
    if (isnan(a) || isnan(f))
        return -1;
    double e = f - a;
    acc->n++;
    acc->sum_a += a;
    acc->sum_abs += fabs(e);
    acc->sum_err += e;
    if (e > 0)
        acc->sum_over += e;
    if (f < a)
        acc->short_days++;
    if (a != 0) {
        acc->sum_ape += fabs(e) / fabs(a);
        acc->mape_n++;
    }
    return 0;
}

void
fcst_acc_merge(struct fcst_acc *into, const struct fcst_acc *from)
{
    into->n += from->n;
    into->short_days += from->short_days;
    into->mape_n += from->mape_n;
    into->sum_a += from->sum_a;
    into->sum_abs += from->sum_abs;
    into->sum_err += from->sum_err;
    into->sum_over += from->sum_over;
    into->sum_ape += from->sum_ape;
}

void
fcst_acc_metrics(const struct fcst_acc *acc, struct fcst_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->n = acc->n;
    m->short_days = acc->short_days;
    m->mae = acc->n ? acc->sum_abs / (double)acc->n : NAN;
    m->mape = acc->mape_n ? 100 * acc->sum_ape / (double)acc->mape_n : NAN;
    if (acc->sum_a != 0) {
        m->wape = 100 * acc->sum_abs / acc->sum_a;
        m->bias = 100 * acc->sum_err / acc->sum_a;
        m->over = 100 * acc->sum_over / acc->sum_a;
    } else {
        m->wape = m->bias = m->over = NAN;
    }
}

void
fcst_metrics_compute(const double *a, const double *f, size_t n,
                     struct fcst_metrics *m)
{
    struct fcst_acc acc;
    fcst_acc_init(&acc);
    for (size_t i = 0; i < n; i++)
        fcst_acc_add(&acc, a[i], f[i]);
    fcst_acc_metrics(&acc, m);
}

void
fcst_bt_result_init(struct fcst_bt_result *r)
{
    memset(r, 0, sizeof *r);
}

static double
cpu_seconds(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

static void
timed_fit(const struct fcst_series *s, int64_t last_day, struct fcst_fit *f,
          struct fcst_bt_result *r)
{
    double t0 = cpu_seconds();
    fcst_fit_all(s, last_day, f);
    r->fit_seconds += cpu_seconds() - t0;
    r->fits++;
}

/* Errors of one method in day order, for the residual intervals. */
struct err_log {
    int64_t *day;
    double *err;
    size_t n;
};

/* The interval of row d from the latest FCST_BT_ERRORS errors whose
   target day is at or before `known` (the origin d-h). */
static void
row_interval(const struct err_log *log, int64_t known, double point,
             double *tmp, double *p10, double *p90)
{
    size_t k = log->n;
    while (k > 0 && log->day[k - 1] > known)
        k--;
    size_t from = k > FCST_BT_ERRORS ? k - FCST_BT_ERRORS : 0;
    memcpy(tmp, log->err + from, (k - from) * sizeof *tmp);
    double p50;
    fcst_interval(point, tmp, k - from, p10, &p50, p90);
    if (k - from < 5)
        *p10 = *p90 = NAN;
}

long
fcst_backtest(const struct fcst_series *s, const double *staff,
              const struct fcst_bt_opts *o, struct fcst_bt_result *r,
              double *f_out)
{
    if (!s || !o || !r || o->horizon < 1 || o->test_end < o->test_start ||
        o->refit_every < 0)
        return -1;
    int64_t first = o->test_start - FCST_BT_WARMUP;
    size_t span = (size_t)(o->test_end - first + 1);
    struct err_log logs[FCST_METHOD_COUNT];
    int64_t *days = malloc(FCST_METHOD_COUNT * span * sizeof *days);
    double *errs = malloc(FCST_METHOD_COUNT * span * sizeof *errs);
    double tmp[FCST_BT_ERRORS];
    if (!days || !errs) {
        free(days);
        free(errs);
        return -1;
    }
    for (int m = 0; m < FCST_METHOD_COUNT; m++) {
        logs[m].day = days + (size_t)m * span;
        logs[m].err = errs + (size_t)m * span;
        logs[m].n = 0;
    }
    if (f_out) {
        for (size_t i = 0; i < FCST_METHOD_COUNT * s->n; i++)
            f_out[i] = NAN;
    }
    struct fcst_fit fit;
    int64_t fitted_on = o->train_end;
    timed_fit(s, fitted_on, &fit, r);
    long rows = 0;
    for (int64_t d = first; d <= o->test_end; d++) {
        double a = fcst_value(s, d);
        if (isnan(a) || a <= 0)
            continue;
        if ((o->skip_weekdays >> fcst_weekday(d)) & 1)
            continue;
        int scored = d >= o->test_start;
        double st = NAN;
        if (staff && scored) {
            st = staff[d - s->day0];
            if (isnan(st))
                continue;
        }
        int h = o->horizon;
        if (o->year_ahead) {
            if (d - o->train_end > h)
                h = (int)(d - o->train_end);
        } else if (scored && o->refit_every > 0 &&
                   d - h - fitted_on >= o->refit_every) {
            fitted_on = d - h;
            timed_fit(s, fitted_on, &fit, r);
        }
        for (int m = 0; m < FCST_METHOD_COUNT; m++) {
            int fb = 0;
            double f = fcst_forecast((enum fcst_method)m, s, &fit, d, h, &fb);
            if (isnan(f))
                f = 0; /* nothing at all before d-h: forecast zero */
            if (scored) {
                double p10, p90;
                row_interval(&logs[m], d - h, f, tmp, &p10, &p90);
                if (!isnan(p10)) {
                    r->interval_n[m]++;
                    r->covered[m] += a >= p10 && a <= p90;
                    fcst_acc_add(&r->p90[m], a, p90);
                }
                r->fallbacks[m] += (size_t)fb;
                fcst_acc_add(&r->acc[m], a, f);
                if (f_out)
                    f_out[(size_t)m * s->n + (size_t)(d - s->day0)] = f;
            }
            struct err_log *lg = &logs[m];
            lg->day[lg->n] = d;
            lg->err[lg->n] = a - f;
            lg->n++;
        }
        if (scored) {
            if (staff)
                fcst_acc_add(&r->staff, a, st);
            rows++;
        }
    }
    free(days);
    free(errs);
    return rows;
}
