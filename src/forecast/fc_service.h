/*
 * fc_service.h - forecasts of a commune's series over the store: fit,
 * backtest, forecast ahead, recommend, alert (issue 6). What the CLI
 * (`guichet forecast fit|predict|backtest|recommend`), the JSON API, the
 * nightly job and the /agent/previsions pages call; fc_models.h, fc_gbt.h
 * and fc_reco.h do the arithmetic.
 *
 * Fitting a series (fc_fit_series, or the whole commune at once: the
 * canteens share one gradient-boosted model) backtests every method by
 * rolling origin over the last FC_BT_DAYS days with data at the horizon
 * FC_HORIZON, picks the method with the lowest WAPE (the agents' own
 * forecast, when the series has one, is shown beside but never chosen),
 * forecasts the next FC_AHEAD_DAYS days with P10/P50/P90 from the chosen
 * method's relative errors, and stores all of it (fc_fits, fc_forecasts,
 * fc_models) in one transaction: a failed fit leaves the previous one.
 * Series that are not daily are forecast on their daily totals.
 *
 * Every function takes the commune and touches only its rows; strings and
 * arrays live in the caller's arena.
 */
#ifndef FORECAST_FC_SERVICE_H
#define FORECAST_FC_SERVICE_H

#include "forecast/fc.h"
#include "forecast/fc_models.h"
#include "forecast/fc_reco.h"
#include "forecast/fc_store.h"

#define FC_HORIZON 7        /* days between the last actual and the target */
#define FC_AHEAD_DAYS 14    /* days forecast ahead of the last actual */
#define FC_BT_DAYS 120      /* days of the backtest window */
#define FC_HISTORY_MAX 4000 /* days of history read for a fit (~11 years) */

/* One line of the backtest table. method: "staff", "gbt", "ets"...;
   label: its French name (« Prévision des agents », « Arbres de
   gradient »...). */
struct fc_score {
    const char *method;
    const char *label;
    struct fcst_metrics m;
};

/* The stored fit of a series. */
struct fc_fit {
    int64_t series_id;
    const char *method;      /* chosen */
    const char *label;
    int horizon;
    int64_t fitted_at;       /* unix seconds */
    int64_t data_end;        /* last day with an actual */
    double seconds;          /* CPU time of the fit */
    struct fc_score *scores; /* staff first when present, then by WAPE */
    size_t nscores;
    double *errors;          /* relative errors of the chosen method */
    size_t nerrors;
};

/* Fit one series (see above). GU_ENOTFOUND for an unknown series,
   GU_EINVAL (French message) when it has too little data (fewer than 28
   days with an actual). */
int fc_fit_series(struct store_conn *c, struct gu_arena *a, const char *insee,
                  int64_t series_id, struct fc_fit *out, struct gu_err *err);
/* Fit every active series of the commune; *fitted counts the series
   fitted, *skipped those with too little data (both may be NULL). */
int fc_fit_commune(struct store_conn *c, struct gu_arena *a, const char *insee,
                   size_t *fitted, size_t *skipped, struct gu_err *err);
/* The stored fit; GU_ENOTFOUND when the series was never fitted. */
int fc_fit_get(struct store_conn *c, struct gu_arena *a, const char *insee,
               int64_t series_id, struct fc_fit *out, struct gu_err *err);

/* A day of a series as pages and exports show it: actual and agents'
   forecast when known, the stored forecast and its interval when made,
   the recommendation for the chosen risk, the calendar note. */
struct fc_day {
    int64_t t;              /* day number */
    double actual;          /* NAN when unknown */
    double staff;           /* NAN when none */
    double p10, p50, p90;   /* NAN when no forecast */
    const char *method;     /* of the forecast, NULL when none */
    struct fcst_reco reco;  /* reco.order NAN when none */
    const char *note;       /* « Férié (Ascension) », « Vacances de Noël »,
                               « Grève », « Fermé »..., NULL when none */
    bool alert;             /* the actual left the alert interval
                               (fc_alerts) */
    bool school_unknown;    /* the commune has school holidays but the
                               shipped calendar does not cover this day:
                               the forecast cannot know them */
};

/*
 * Days day0..day1 (at most FC_HISTORY_MAX) of a daily series, merging
 * points, forecasts, recommendations for `risk` (NAN = the series' own
 * risk) and alerts.
 */
int fc_days(struct store_conn *c, struct gu_arena *a, const char *insee,
            int64_t series_id, int64_t day0, int64_t day1, double risk,
            struct fc_day **out, size_t *n, struct gu_err *err);

/* An alert: the actual of day t left the alert interval [lo, hi]: the
   stored [p10, p90] widened twice around p50. */
struct fc_alert {
    int64_t id, series_id, t;
    const char *series_name;
    double value, lo, hi;
    int64_t created_at, seen_at; /* seen_at 0 = still open */
};
/*
 * Compare the actuals of the commune's series with alerts enabled (water
 * series, and any series with alert_to set) against their alert
 * intervals (twice the stored P10-P90 around P50); record each new alert once and mail it to the series'
 * alert_to (notify outbox). *created (may be NULL) counts new alerts.
 */
int fc_alerts_scan(struct store_conn *c, struct gu_arena *a,
                   const char *insee, size_t *created, struct gu_err *err);
/* The same, with the links of the e-mails starting with `base` (the
   server's public URL, gu_public_base(); "" = relative links). Added by
   the service for the jobs and the API, which know the configuration. */
int fc_alerts_scan_base(struct store_conn *c, struct gu_arena *a,
                        const char *insee, const char *base, size_t *created,
                        struct gu_err *err);
int fc_alert_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                  bool open_only, struct fc_alert **out, size_t *n,
                  struct gu_err *err);
int fc_alert_seen(struct store_conn *c, const char *insee, int64_t id,
                  struct gu_err *err);

/*
 * Exports of fc_days for a series (fc_export.c): CSV (« ; », French
 * decimals, UTF-8 with BOM, as spreadsheets in French expect) and XLSX
 * (libxlsxwriter). The buffer is malloc'd; the caller frees it.
 */
int fc_export_csv(const struct fc_series *s, const struct fc_day *days,
                  size_t n, char **buf, size_t *len, struct gu_err *err);
int fc_export_xlsx(const struct fc_series *s, const struct fc_day *days,
                   size_t n, char **buf, size_t *len, struct gu_err *err);

#endif
