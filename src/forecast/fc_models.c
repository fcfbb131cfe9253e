/*
 * fc_models.c - baselines, damped Holt-Winters ETS, Theta and residual
 * intervals over daily series (see fc_models.h for the contracts).
 *
 * Nothing here reads past day d-h when forecasting day d: every loop over
 * the data stops at index(d - h). Seasonality is keyed by ISO weekday so
 * holidays and closed weekdays do not shift it.
 */
#include "forecast/fc_models.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOOKBACK_WEEKS 52
#define MIN_FIT_DAYS 14

static const char *const method_names[FCST_METHOD_COUNT] = {
    "last_week", "mean4", "last_year", "seasonal_naive", "ets", "theta",
};
static const char *const method_labels[FCST_METHOD_COUNT] = {
    "Même jour semaine passée",           "Moyenne des 4 derniers mêmes jours",
    "Même semaine année scolaire passée", "Saisonnier naïf",
    "Holt-Winters amorti (ETS)",          "Theta",
};

const char *
fcst_method_name(enum fcst_method m)
{
    if ((int)m < 0 || m >= FCST_METHOD_COUNT)
        return "";
    return method_names[m];
}

const char *
fcst_method_label(enum fcst_method m)
{
    if ((int)m < 0 || m >= FCST_METHOD_COUNT)
        return "";
    return method_labels[m];
}

int
fcst_weekday(int64_t day)
{
    /* Day 0 (1970-01-01) was a Thursday (ISO 4). */
    int64_t r = (day % 7 + 7 + 3) % 7;
    return (int)r + 1;
}

double
fcst_value(const struct fcst_series *s, int64_t d)
{
    if (!s || !s->v || d < s->day0 || d - s->day0 >= (int64_t)s->n)
        return NAN;
    return s->v[d - s->day0];
}

/* Last index that may be read for a forecast of day d at horizon h, or
   -1 when none. Clamped to the array. */
static int64_t
last_index(const struct fcst_series *s, int64_t d, int h)
{
    int64_t i = d - h - s->day0;
    if (i >= (int64_t)s->n)
        i = (int64_t)s->n - 1;
    return i < 0 ? -1 : i;
}

/* The first same weekday of d at least h days back. */
static int64_t
first_same_weekday(int64_t d, int h)
{
    int64_t k = (h + 6) / 7;
    if (k < 1)
        k = 1;
    return d - 7 * k;
}

double
fcst_last_week(const struct fcst_series *s, int64_t d, int h)
{
    int64_t c = first_same_weekday(d, h);
    for (int w = 0; w < LOOKBACK_WEEKS; w++, c -= 7) {
        double v = fcst_value(s, c);
        if (!isnan(v))
            return v;
    }
    return NAN;
}

double
fcst_mean4(const struct fcst_series *s, int64_t d, int h)
{
    int64_t c = first_same_weekday(d, h);
    double sum = 0;
    int got = 0;
    for (int w = 0; w < LOOKBACK_WEEKS && got < 4; w++, c -= 7) {
        double v = fcst_value(s, c);
        if (!isnan(v)) {
            sum += v;
            got++;
        }
    }
    return got ? sum / got : NAN;
}

static int
sy_week_at(const struct fcst_series *s, int64_t d)
{
    if (!s->sy_week || d < s->day0 || d - s->day0 >= (int64_t)s->n)
        return -1;
    return s->sy_week[d - s->day0];
}

double
fcst_last_year(const struct fcst_series *s, int64_t d, int h)
{
    int w = sy_week_at(s, d);
    if (w < 0) {
        /* Without calendar: 52 weeks back, same weekday. */
        return d - 364 <= d - h ? fcst_value(s, d - 364) : NAN;
    }
    /* Same weekday 50..54 weeks back, in the same week of the school
       year, the nearest to 52 weeks first. */
    static const int order[] = {52, 53, 51, 54, 50};
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        int64_t c = d - 7 * (int64_t)order[k];
        if (c > d - h || sy_week_at(s, c) != w)
            continue;
        double v = fcst_value(s, c);
        if (!isnan(v))
            return v;
    }
    return NAN;
}

double
fcst_snaive(const struct fcst_series *s, int64_t d, int h)
{
    return fcst_value(s, first_same_weekday(d, h));
}

/* ---- damped Holt-Winters ------------------------------------------- */

struct ets_state {
    double l, b, s[8];
    int64_t last_day; /* day of the last observation folded in */
    size_t n;
    int ok;
};

/* Initial state from the first 28 days after the first service day:
   level = their mean, seasonal = weekday mean - level, no trend. */
static void
ets_init(const struct fcst_series *s, int64_t end, struct ets_state *st)
{
    memset(st, 0, sizeof *st);
    int64_t first = -1;
    for (int64_t i = 0; i <= end; i++) {
        if (!isnan(s->v[i])) {
            first = i;
            break;
        }
    }
    if (first < 0)
        return;
    double wsum[8] = {0}, sum = 0;
    int wn[8] = {0}, n = 0;
    for (int64_t i = first; i <= end && i < first + 28; i++) {
        double v = s->v[i];
        if (isnan(v))
            continue;
        int w = fcst_weekday(s->day0 + i);
        wsum[w] += v;
        wn[w]++;
        sum += v;
        n++;
    }
    st->l = sum / n;
    for (int w = 1; w <= 7; w++)
        st->s[w] = wn[w] ? wsum[w] / wn[w] - st->l : 0;
    st->ok = 1;
}

/* Runs the filter over the service days of [0, end]; returns the one-step
   SSE (after the first week of service) and leaves the final state. */
static double
ets_run(const struct fcst_series *s, int64_t end, double alpha, double beta,
        double gamma, double phi, struct ets_state *st)
{
    ets_init(s, end, st);
    if (!st->ok)
        return NAN;
    double sse = 0;
    size_t n = 0;
    for (int64_t i = 0; i <= end; i++) {
        double y = s->v[i];
        if (isnan(y))
            continue;
        int w = fcst_weekday(s->day0 + i);
        double yhat = st->l + phi * st->b + st->s[w];
        if (n >= 7) {
            double e = y - yhat;
            sse += e * e;
        }
        double l0 = st->l;
        double l1 = alpha * (y - st->s[w]) + (1 - alpha) * (l0 + phi * st->b);
        st->b = beta * (l1 - l0) + (1 - beta) * phi * st->b;
        st->s[w] = gamma * (y - l1) + (1 - gamma) * st->s[w];
        st->l = l1;
        st->last_day = s->day0 + i;
        n++;
    }
    st->n = n;
    return sse;
}

static unsigned
service_weekdays(const struct fcst_series *s, int64_t end, size_t *count)
{
    unsigned mask = 0;
    size_t n = 0;
    for (int64_t i = 0; i <= end; i++) {
        if (!isnan(s->v[i])) {
            mask |= 1u << fcst_weekday(s->day0 + i);
            n++;
        }
    }
    *count = n;
    return mask;
}

/* Steps ahead from day `from` (excluded) to `to` (included): the days
   whose weekday had service. At least 1. */
static int64_t
steps_between(int64_t from, int64_t to, unsigned weekdays)
{
    int64_t span = to - from;
    if (span <= 0)
        return 1;
    int per_week = 0;
    for (int w = 1; w <= 7; w++)
        per_week += (weekdays >> w) & 1;
    if (per_week == 0)
        return 1;
    int64_t k = span / 7 * per_week;
    for (int64_t d = from + span / 7 * 7 + 1; d <= to; d++)
        k += (weekdays >> fcst_weekday(d)) & 1;
    return k < 1 ? 1 : k;
}

static const double ets_lo[4] = {0.01, 0.0, 0.0, 0.8};
static const double ets_hi[4] = {0.9, 0.3, 0.5, 0.98};

static double
clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static double
ets_objective(const struct fcst_series *s, int64_t end, const double *p)
{
    struct ets_state st;
    double q[4];
    for (int k = 0; k < 4; k++)
        q[k] = clampd(p[k], ets_lo[k], ets_hi[k]);
    double sse = ets_run(s, end, q[0], q[1], q[2], q[3], &st);
    /* A point outside the box costs more than its clamped twin, so the
       simplex comes back inside. */
    double pen = 0;
    for (int k = 0; k < 4; k++)
        pen += fabs(p[k] - q[k]);
    return sse * (1 + pen);
}

/* Bounded Nelder-Mead in 4 dimensions (standard coefficients). */
static void
nelder_mead4(const struct fcst_series *s, int64_t end, double *best,
             int max_eval)
{
    enum { D = 4 };
    double x[D + 1][D], f[D + 1];
    for (int i = 0; i <= D; i++) {
        memcpy(x[i], best, sizeof x[i]);
        if (i > 0)
            x[i][i - 1] += 0.25 * (ets_hi[i - 1] - ets_lo[i - 1]);
        f[i] = ets_objective(s, end, x[i]);
    }
    int evals = D + 1;
    while (evals < max_eval) {
        /* Order: x[0] best, x[D] worst. */
        for (int i = 1; i <= D; i++) {
            for (int j = i; j > 0 && f[j] < f[j - 1]; j--) {
                double t = f[j];
                f[j] = f[j - 1];
                f[j - 1] = t;
                double tx[D];
                memcpy(tx, x[j], sizeof tx);
                memcpy(x[j], x[j - 1], sizeof tx);
                memcpy(x[j - 1], tx, sizeof tx);
            }
        }
        if (fabs(f[D] - f[0]) <= 1e-9 * (fabs(f[0]) + 1e-12))
            break;
        double c[D] = {0};
        for (int i = 0; i < D; i++)
            for (int k = 0; k < D; k++)
                c[k] += x[i][k] / D;
        double xr[D], xe[D], xc[D];
        for (int k = 0; k < D; k++)
            xr[k] = c[k] + (c[k] - x[D][k]);
        double fr = ets_objective(s, end, xr);
        evals++;
        if (fr < f[0]) {
            for (int k = 0; k < D; k++)
                xe[k] = c[k] + 2 * (c[k] - x[D][k]);
            double fe = ets_objective(s, end, xe);
            evals++;
            if (fe < fr) {
                memcpy(x[D], xe, sizeof xe);
                f[D] = fe;
            } else {
                memcpy(x[D], xr, sizeof xr);
                f[D] = fr;
            }
            continue;
        }
        if (fr < f[D - 1]) {
            memcpy(x[D], xr, sizeof xr);
            f[D] = fr;
            continue;
        }
        for (int k = 0; k < D; k++)
            xc[k] = c[k] + 0.5 * (x[D][k] - c[k]);
        double fc = ets_objective(s, end, xc);
        evals++;
        if (fc < f[D]) {
            memcpy(x[D], xc, sizeof xc);
            f[D] = fc;
            continue;
        }
        for (int i = 1; i <= D; i++) {
            for (int k = 0; k < D; k++)
                x[i][k] = x[0][k] + 0.5 * (x[i][k] - x[0][k]);
            f[i] = ets_objective(s, end, x[i]);
            evals++;
        }
    }
    int bi = 0;
    for (int i = 1; i <= D; i++)
        if (f[i] < f[bi])
            bi = i;
    for (int k = 0; k < D; k++)
        best[k] = clampd(x[bi][k], ets_lo[k], ets_hi[k]);
}

int
fcst_ets_fit(const struct fcst_series *s, int64_t last_day, struct fcst_ets *m)
{
    memset(m, 0, sizeof *m);
    int64_t end = last_day - s->day0;
    if (end >= (int64_t)s->n)
        end = (int64_t)s->n - 1;
    if (end < 0)
        return -1;
    size_t cnt;
    unsigned wd = service_weekdays(s, end, &cnt);
    if (cnt < MIN_FIT_DAYS)
        return -1;
    double p[4] = {0.2, 0.02, 0.1, 0.9};
    nelder_mead4(s, end, p, 300);
    struct ets_state st;
    m->alpha = p[0];
    m->beta = p[1];
    m->gamma = p[2];
    m->phi = p[3];
    m->sse = ets_run(s, end, p[0], p[1], p[2], p[3], &st);
    m->n = cnt;
    m->weekdays = wd;
    return 0;
}

double
fcst_ets_forecast(const struct fcst_series *s, const struct fcst_ets *m,
                  int64_t d, int h)
{
    int64_t end = last_index(s, d, h);
    if (end < 0 || m->n == 0)
        return NAN;
    struct ets_state st;
    double sse = ets_run(s, end, m->alpha, m->beta, m->gamma, m->phi, &st);
    if (isnan(sse))
        return NAN;
    int64_t k = steps_between(st.last_day, d, m->weekdays);
    /* Damped trend: b * (phi + phi^2 + ... + phi^k). */
    double damp = m->phi < 1
                      ? m->phi * (1 - pow(m->phi, (double)k)) / (1 - m->phi)
                      : (double)k;
    int w = fcst_weekday(d);
    double season = (m->weekdays >> w) & 1 ? st.s[w] : 0;
    return st.l + damp * st.b + season;
}

/* ---- Theta ----------------------------------------------------------- */

/* SES over the deseasonalised service days of [0, end]. Returns the
   one-step SSE; *level the final level, *slope the least-squares slope
   over the service-day index, *n the count, *last the day of the last
   observation. */
static double
theta_run(const struct fcst_series *s, int64_t end, const double *idx,
          double alpha, double *level, double *slope, size_t *n_out,
          int64_t *last)
{
    double l = NAN, sse = 0;
    double st = 0, sx = 0, stt = 0, stx = 0;
    size_t n = 0;
    for (int64_t i = 0; i <= end; i++) {
        double y = s->v[i];
        if (isnan(y))
            continue;
        double x = y / idx[fcst_weekday(s->day0 + i)];
        if (n == 0) {
            l = x;
        } else {
            double e = x - l;
            sse += e * e;
            l += alpha * e;
        }
        double t = (double)n;
        st += t;
        sx += x;
        stt += t * t;
        stx += t * x;
        n++;
        *last = s->day0 + i;
    }
    double den = (double)n * stt - st * st;
    *slope = n > 1 && den != 0 ? ((double)n * stx - st * sx) / den : 0;
    *level = l;
    *n_out = n;
    return sse;
}

int
fcst_theta_fit(const struct fcst_series *s, int64_t last_day,
               struct fcst_theta *m)
{
    memset(m, 0, sizeof *m);
    for (int w = 0; w < 8; w++)
        m->idx[w] = 1.0;
    int64_t end = last_day - s->day0;
    if (end >= (int64_t)s->n)
        end = (int64_t)s->n - 1;
    if (end < 0)
        return -1;
    size_t cnt;
    unsigned wd = service_weekdays(s, end, &cnt);
    if (cnt < MIN_FIT_DAYS)
        return -1;
    /* Weekday indices by classical decomposition: each value over the
       centred 7-day moving average (one of each weekday, so a trend does
       not leak into the indices), on the last year of data, only for
       complete weeks (a holiday in the window would bias the average);
       averaged per weekday and normalised to a mean of 1. */
    int64_t from = end - 365 < 3 ? 3 : end - 365;
    /* Regular weekdays: served at least half as often as the most served
       one (a canteen open on a rare Wednesday keeps its 4-day week). */
    size_t wcount[8] = {0}, wmax = 0;
    for (int64_t i = from; i <= end; i++)
        if (!isnan(s->v[i]))
            wcount[fcst_weekday(s->day0 + i)]++;
    for (int w = 1; w <= 7; w++)
        if (wcount[w] > wmax)
            wmax = wcount[w];
    unsigned regular = 0;
    int per_week = 0;
    for (int w = 1; w <= 7; w++) {
        if (wmax && 2 * wcount[w] >= wmax) {
            regular |= 1u << w;
            per_week++;
        }
    }
    double rsum[8] = {0};
    size_t rn[8] = {0};
    for (int64_t i = from; i + 3 <= end; i++) {
        double y = s->v[i];
        if (isnan(y) || !((regular >> fcst_weekday(s->day0 + i)) & 1))
            continue;
        double sum = 0;
        int wcnt = 0;
        for (int64_t j = i - 3; j <= i + 3; j++) {
            if (!isnan(s->v[j]) &&
                ((regular >> fcst_weekday(s->day0 + j)) & 1)) {
                sum += s->v[j];
                wcnt++;
            }
        }
        if (wcnt != per_week || sum <= 0)
            continue;
        int w = fcst_weekday(s->day0 + i);
        rsum[w] += y / (sum / wcnt);
        rn[w]++;
    }
    double isum = 0;
    int in = 0;
    for (int w = 1; w <= 7; w++) {
        if (rn[w] && rsum[w] > 0) {
            m->idx[w] = rsum[w] / (double)rn[w];
            isum += m->idx[w];
            in++;
        }
    }
    for (int w = 1; w <= 7 && in > 0 && isum > 0; w++)
        if (rn[w] && rsum[w] > 0)
            m->idx[w] *= in / isum;
    /* Alpha by golden-section search on the one-step SSE. */
    double a = 0.01, b = 0.99, g = (sqrt(5.0) - 1) / 2;
    double lvl, slope;
    size_t cnt2;
    int64_t last;
    double c1 = b - g * (b - a), c2 = a + g * (b - a);
    double f1 = theta_run(s, end, m->idx, c1, &lvl, &slope, &cnt2, &last);
    double f2 = theta_run(s, end, m->idx, c2, &lvl, &slope, &cnt2, &last);
    for (int it = 0; it < 40; it++) {
        if (f1 < f2) {
            b = c2;
            c2 = c1;
            f2 = f1;
            c1 = b - g * (b - a);
            f1 = theta_run(s, end, m->idx, c1, &lvl, &slope, &cnt2, &last);
        } else {
            a = c1;
            c1 = c2;
            f1 = f2;
            c2 = a + g * (b - a);
            f2 = theta_run(s, end, m->idx, c2, &lvl, &slope, &cnt2, &last);
        }
    }
    m->alpha = (a + b) / 2;
    m->n = cnt;
    m->weekdays = wd;
    return 0;
}

double
fcst_theta_forecast(const struct fcst_series *s, const struct fcst_theta *m,
                    int64_t d, int h)
{
    int64_t end = last_index(s, d, h);
    if (end < 0 || m->n == 0)
        return NAN;
    double level, slope;
    size_t n;
    int64_t last = s->day0;
    theta_run(s, end, m->idx, m->alpha, &level, &slope, &n, &last);
    if (n == 0)
        return NAN;
    int64_t k = steps_between(last, d, m->weekdays);
    double drift =
        slope / 2 *
        ((double)(k - 1) + (1 - pow(1 - m->alpha, (double)n)) / m->alpha);
    return (level + drift) * m->idx[fcst_weekday(d)];
}

/* ---- all methods ------------------------------------------------------ */

void
fcst_fit_all(const struct fcst_series *s, int64_t last_day, struct fcst_fit *f)
{
    memset(f, 0, sizeof *f);
    f->ets_ok = fcst_ets_fit(s, last_day, &f->ets) == 0;
    f->theta_ok = fcst_theta_fit(s, last_day, &f->theta) == 0;
}

static double
last_value(const struct fcst_series *s, int64_t d, int h)
{
    for (int64_t i = last_index(s, d, h); i >= 0; i--)
        if (!isnan(s->v[i]))
            return s->v[i];
    return NAN;
}

double
fcst_forecast(enum fcst_method m, const struct fcst_series *s,
              const struct fcst_fit *f, int64_t d, int h, int *fell_back)
{
    double y = NAN;
    if (fell_back)
        *fell_back = 0;
    if (h < 1)
        h = 1;
    switch (m) {
    case FCST_LAST_WEEK:
        y = fcst_last_week(s, d, h);
        break;
    case FCST_MEAN4:
        y = fcst_mean4(s, d, h);
        break;
    case FCST_LAST_YEAR:
        y = fcst_last_year(s, d, h);
        break;
    case FCST_SNAIVE:
        y = fcst_snaive(s, d, h);
        break;
    case FCST_ETS:
        if (f && f->ets_ok)
            y = fcst_ets_forecast(s, &f->ets, d, h);
        break;
    case FCST_THETA:
        if (f && f->theta_ok)
            y = fcst_theta_forecast(s, &f->theta, d, h);
        break;
    default:
        return NAN;
    }
    if (!isnan(y))
        return y < 0 ? 0 : y;
    if (fell_back)
        *fell_back = 1;
    y = fcst_mean4(s, d, h);
    if (isnan(y))
        y = last_value(s, d, h);
    return y;
}

/* ---- intervals ----------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double
fcst_quantile(double *x, size_t n, double q)
{
    if (n == 0)
        return NAN;
    qsort(x, n, sizeof *x, cmp_double);
    q = clampd(q, 0, 1);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    if (lo + 1 >= n)
        return x[n - 1];
    double frac = pos - (double)lo;
    return x[lo] + frac * (x[lo + 1] - x[lo]);
}

void
fcst_interval(double point, double *errs, size_t n, double *p10, double *p50,
              double *p90)
{
    if (n < 5 || isnan(point)) {
        *p10 = *p50 = *p90 = point;
        return;
    }
    double q10 = fcst_quantile(errs, n, 0.10);
    double q50 = fcst_quantile(errs, n, 0.50);
    double q90 = fcst_quantile(errs, n, 0.90);
    *p10 = fmax(0, point + q10);
    *p50 = fmax(0, point + q50);
    *p90 = fmax(0, point + q90);
}
