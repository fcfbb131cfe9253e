/*
 * fc_models.h - forecasting baselines, damped Holt-Winters ETS, Theta,
 * residual intervals, backtests and their metrics (issue 6, « Modèles »).
 *
 * Pure functions over arrays: no database, no allocation visible to the
 * caller except where said. A daily series is (day0, n, v): v[i] is the
 * value of day day0 + i (core.h day numbers), NAN when there was no
 * service that day (closed, holiday, Wednesday of a canteen) or no count.
 *
 * The forecast of target day D at horizon h uses only v[] up to day D-h
 * (inclusive): every function below reads nothing later, whatever the
 * array holds (tests check it by changing later values). A function that
 * has nothing to go on returns NAN; fcst_forecast() then falls back along
 * a fixed chain (see there) so that every method gives a number on the
 * same rows of a backtest.
 *
 * Seasonality is weekly and indexed by ISO weekday (1..7), not by the
 * position in the series: a holiday or a closed weekday does not shift
 * the season of the days after it. ETS and Theta run on the service days
 * only (NAN skipped); their "steps ahead" are the days between the origin
 * and D whose weekday had service in the fitted data.
 */
#ifndef FORECAST_FC_MODELS_H
#define FORECAST_FC_MODELS_H

#include <stddef.h>
#include <stdint.h>

/* A daily series. Borrowed: the caller owns v (and sy_week) and keeps
   them alive while a function runs. */
struct fcst_series {
    int64_t day0;    /* day number of v[0] */
    size_t n;        /* number of days */
    const double *v; /* n values, NAN = no service / unknown */
    /* Optional: week of the school year of each day (0 = the week, Monday
       to Sunday, holding 1 September; -1 unknown), for the "same week last
       year" method. NULL when not known (that method then uses D-364). */
    const int16_t *sy_week;
};

/* The methods. Names (fcst_method_name) are the keys used in JSON. */
enum fcst_method {
    FCST_LAST_WEEK, /* "last_week": most recent same weekday >= h back */
    FCST_MEAN4,     /* "mean4": mean of the last four same weekdays */
    FCST_LAST_YEAR, /* "last_year": same school-year week and weekday,
                       one year back */
    FCST_SNAIVE,    /* "seasonal_naive": v[D - 7*ceil(h/7)] as is */
    FCST_ETS,       /* "ets": damped additive Holt-Winters */
    FCST_THETA,     /* "theta": Theta method, weekly deseasonalised */
    FCST_METHOD_COUNT
};

/* English key ("last_week"...) of a method, "" out of range. */
const char *fcst_method_name(enum fcst_method m);
/* French label for tables and pages (« Même jour semaine passée »...). */
const char *fcst_method_label(enum fcst_method m);

/* ISO weekday (1 = Monday .. 7) of a day number (as core's
   gu_day_weekday, repeated so that this file stands alone). */
int fcst_weekday(int64_t day);

/* Value of day d, NAN when outside the series. */
double fcst_value(const struct fcst_series *s, int64_t d);

/* Baselines. Each returns NAN when nothing usable lies at or before d-h.
   fcst_last_week and fcst_mean4 look back at most 52 weeks. */
double fcst_last_week(const struct fcst_series *s, int64_t d, int h);
double fcst_mean4(const struct fcst_series *s, int64_t d, int h);
double fcst_last_year(const struct fcst_series *s, int64_t d, int h);
double fcst_snaive(const struct fcst_series *s, int64_t d, int h);

/* Damped additive Holt-Winters with weekly (weekday) seasonality. */
struct fcst_ets {
    double alpha, beta, gamma, phi; /* smoothing and damping */
    double sse;                     /* one-step SSE of the fit */
    size_t n;                       /* service days used by the fit */
    unsigned weekdays;              /* bit w: weekday w had service */
};

/* Fits alpha in [0.01, 0.9], beta in [0, 0.3], gamma in [0, 0.5], phi in
   [0.8, 0.98] by a bounded Nelder-Mead on the one-step SSE of the service
   days up to `last_day` (inclusive). O(n) per evaluation, <= 300
   evaluations. Returns 0, or -1 when fewer than 14 service days. */
int fcst_ets_fit(const struct fcst_series *s, int64_t last_day,
                 struct fcst_ets *m);
/* Forecast of day d from the data up to d-h with the parameters of m
   (the state is run again from the start: O(n)). NAN when no data. */
double fcst_ets_forecast(const struct fcst_series *s, const struct fcst_ets *m,
                         int64_t d, int h);

/* Theta method (Assimakopoulos-Nikolopoulos; as Hyndman-Billah): the
   series of service days is divided by weekday indices, simple exponential
   smoothing gives the level, plus half the slope of the least-squares line
   (theta = 0 line) in steps ahead; the weekday index multiplies back. */
struct fcst_theta {
    double alpha;  /* SES parameter, fitted in [0.01, 0.99] */
    double idx[8]; /* weekday indices 1..7 (1.0 where no data) */
    size_t n;
    unsigned weekdays; /* bit w: weekday w had service */
};
/* Fits weekday indices and alpha on the service days up to last_day.
   Returns 0, or -1 when fewer than 14 service days. */
int fcst_theta_fit(const struct fcst_series *s, int64_t last_day,
                   struct fcst_theta *m);
double fcst_theta_forecast(const struct fcst_series *s,
                           const struct fcst_theta *m, int64_t d, int h);

/* Fitted state of every method for one series (caller's storage). */
struct fcst_fit {
    struct fcst_ets ets;
    struct fcst_theta theta;
    int ets_ok, theta_ok;
};
/* Fits ETS and Theta on data up to last_day (baselines need no fit). */
void fcst_fit_all(const struct fcst_series *s, int64_t last_day,
                  struct fcst_fit *f);

/* Forecast of method m for day d at horizon h (h >= 1). When the method
   has nothing (NAN) the answer falls back to mean4, then last_week, then
   the last value at or before d-h, then NAN; *fell_back (may be NULL) is
   set to 1 when it did. */
double fcst_forecast(enum fcst_method m, const struct fcst_series *s,
                     const struct fcst_fit *f, int64_t d, int h,
                     int *fell_back);

/* Quantile q (0..1) of x[0..n-1] by linear interpolation between order
   statistics (type 7). Sorts x in place. NAN when n == 0. */
double fcst_quantile(double *x, size_t n, double q);

/* Residual-based interval: errs[] are backtest errors actual - forecast
   (sorted in place). p10/p50/p90 = point + the error quantiles, never
   below 0. With fewer than 5 errors the interval collapses to the point. */
void fcst_interval(double point, double *errs, size_t n, double *p10,
                   double *p50, double *p90);

/* Accuracy accumulated over rows (actual a, forecast f). Caller's
   storage; zero it (or fcst_acc_init) before the first row. */
struct fcst_acc {
    size_t n;          /* rows */
    size_t short_days; /* rows with f < a */
    size_t mape_n;     /* rows with a != 0 */
    double sum_a, sum_abs, sum_err, sum_over, sum_ape;
};
void fcst_acc_init(struct fcst_acc *acc);
/* Adds one row; rows with a or f NAN are ignored (returns -1), else 0. */
int fcst_acc_add(struct fcst_acc *acc, double a, double f);
void fcst_acc_merge(struct fcst_acc *into, const struct fcst_acc *from);

/* Figures in percent where said. When sum_a == 0, wape, bias and over are
   NAN. */
struct fcst_metrics {
    size_t n;
    double wape;       /* % sum|f-a| / sum a */
    double mape;       /* % mean |f-a|/a over a != 0 */
    double mae;        /* mean |f-a| */
    double bias;       /* % sum(f-a) / sum a */
    double over;       /* % sum max(f-a,0) / sum a: overproduction */
    size_t short_days; /* rows with f < a */
};
void fcst_acc_metrics(const struct fcst_acc *acc, struct fcst_metrics *m);
/* Metrics of the rows i < n where a[i] and f[i] are both numbers. */
void fcst_metrics_compute(const double *a, const double *f, size_t n,
                          struct fcst_metrics *m);

/* Backtest of one series. Rows: the days of [test_start, test_end] with an
   actual > 0, whose weekday is not in skip_weekdays (bit w for ISO weekday
   w), and, when `staff` is given, with a staff forecast (NAN = none): the
   same rows for every method. Rolling origin: models are fitted on data up
   to train_end, then refitted every refit_every days (0 = never) on data
   up to D-h; each day D is forecast from data up to D-h. Year-ahead: every
   day is forecast from data up to train_end only (h = D - train_end,
   no refit). */
struct fcst_bt_opts {
    int64_t train_end, test_start, test_end;
    int horizon;     /* >= 1 */
    int refit_every; /* days; 0 = fit once on train_end */
    int year_ahead;  /* 1 = year-ahead variant */
    unsigned skip_weekdays;
};
/* Per-method accumulators of one backtest (caller's storage). acc[m] for
   the methods, staff for the staff forecast; fallbacks counts the rows
   where a method fell back (fcst_forecast). */
struct fcst_bt_result {
    struct fcst_acc acc[FCST_METHOD_COUNT];
    struct fcst_acc staff;
    size_t fallbacks[FCST_METHOD_COUNT];
    /* Residual intervals (fcst_interval) of each row, from the errors of
       the FCST_BT_ERRORS latest forecasts whose actual was known at the
       origin (the FCST_BT_WARMUP days before test_start feed the first
       rows): interval_n rows had one (>= 5 errors), covered of them had
       the actual within [P10, P90]; p90 scores the P90 as the forecast
       (an order covering 9 days in 10). */
    size_t interval_n[FCST_METHOD_COUNT];
    size_t covered[FCST_METHOD_COUNT];
    struct fcst_acc p90[FCST_METHOD_COUNT];
    double fit_seconds; /* CPU time spent fitting ETS and Theta */
    size_t fits;
};
#define FCST_BT_ERRORS 100
#define FCST_BT_WARMUP 120

/* Runs the backtest and ADDS into *r (so that a caller can pool many
   series); fcst_bt_result_init zeroes it. `staff` may be NULL; else it is
   indexed like s->v. `f_out`, when not NULL, receives per method the
   forecast of each day (f_out[m * s->n + i], NAN outside the rows).
   Returns the number of rows, or -1 on bad options or no memory (then
   *r is unchanged). */
void fcst_bt_result_init(struct fcst_bt_result *r);
long fcst_backtest(const struct fcst_series *s, const double *staff,
                   const struct fcst_bt_opts *o, struct fcst_bt_result *r,
                   double *f_out);

#endif
