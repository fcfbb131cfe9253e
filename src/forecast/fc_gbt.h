/*
 * fc_gbt.h - the main forecasting model: gradient-boosted trees through
 * libxgboost's C API (issue 6, « Modèles »), on calendar, headcount, menu
 * and recent-level features.
 *
 * One model serves several daily series of the same kind (all the
 * canteens of a commune learn together: a canteen with little history
 * borrows the shape of the others). What the model predicts is relative
 * to the series' own recent level, so that one model fits canteens of 40
 * and of 400 meals.
 *
 * No leak: the forecast of day D made at origin O (the last day whose
 * actual may be read; O <= D - horizon) reads v[] only up to O, and
 * calendar, events, menus and headcounts of any day (they are known in
 * advance: a strike is announced, a menu is published). Tests change every
 * later value and check that the forecast does not move.
 *
 * Intervals are residual-based (fc_reco.h): the caller keeps the backtest
 * errors of the model and draws quantiles from them.
 *
 * Threads: a trained model may predict from several threads; training uses
 * at most `threads` threads (0 = XGBoost's default).
 */
#ifndef FORECAST_FC_GBT_H
#define FORECAST_FC_GBT_H

#include "core/core.h"
#include "forecast/fc_cal.h"
#include "forecast/fc_models.h"

/* One series and what is known about its days. Everything borrowed and
   indexed like s.v (day s.day0 + i); optional arrays may be NULL. */
struct fcst_gbt_series {
    struct fcst_series s;  /* actuals, NAN = no service or unknown */
    int64_t series_id;     /* for events of that series (fc_cal_events) */
    int group;             /* free small category (canteen type...), 0 = none */
    const unsigned *menu;  /* FC_MENU_* flags per day, 0 = unknown */
    const double *pupils;  /* headcount per day (NAN = unknown) */
    unsigned skip_weekdays; /* bit w: weekday w never has service */
};

/* Shared knowledge of the commune. */
struct fcst_gbt_ctx {
    const struct fc_cal *cal;           /* required */
    const struct fc_cal_event *events;  /* sorted by fc_cal_events_sort */
    size_t nevents;
};

struct fcst_gbt_params {
    int horizon;      /* days between origin and target the model is made
                         for (>= 1); FCST_GBT_YEAR_AHEAD: features read
                         nothing of the last `horizon` days but last year */
    int rounds;       /* boosting rounds, 0 = default */
    int max_depth;    /* 0 = default */
    double eta;       /* 0 = default */
    int threads;      /* 0 = XGBoost's default */
    uint64_t seed;
};
#define FCST_GBT_YEAR_AHEAD 366

/* A trained model (opaque). */
struct fcst_gbt;

/*
 * Train on the days D <= train_end of every series with an actual > 0 and
 * enough history before D - horizon. GU_EINVAL (French message) when there
 * is not enough data (fewer than 200 rows), GU_ENOMEM, GU_EIO on an
 * XGBoost error (its message in err).
 */
int fcst_gbt_train(const struct fcst_gbt_ctx *ctx,
                   const struct fcst_gbt_series *ss, size_t nseries,
                   int64_t train_end, const struct fcst_gbt_params *p,
                   struct fcst_gbt **out, struct gu_err *err);

/* Point forecast (median-like) of day d of series s from data up to
   `origin` (origin <= d - 1). NAN when the series has nothing to go on. */
double fcst_gbt_predict(const struct fcst_gbt *m,
                        const struct fcst_gbt_ctx *ctx,
                        const struct fcst_gbt_series *s, int64_t d,
                        int64_t origin);

/*
 * Forecast many days at once (faster: one XGBoost call): out[i] for
 * days[i] from data up to origins[i]. 0, or GU_ENOMEM / GU_EIO.
 */
int fcst_gbt_predict_many(const struct fcst_gbt *m,
                          const struct fcst_gbt_ctx *ctx,
                          const struct fcst_gbt_series *s,
                          const int64_t *days, const int64_t *origins,
                          size_t n, double *out, struct gu_err *err);

/* The horizon the model was trained for. */
int fcst_gbt_horizon(const struct fcst_gbt *m);

/* Serialise (XGBoost's UBJSON plus our header) into a malloc'd buffer the
   caller frees; load it back. GU_EINVAL on a damaged buffer. */
int fcst_gbt_save(const struct fcst_gbt *m, void **buf, size_t *len,
                  struct gu_err *err);
int fcst_gbt_load(const void *buf, size_t len, struct fcst_gbt **out,
                  struct gu_err *err);
void fcst_gbt_free(struct fcst_gbt *m); /* NULL is a no-op */

#endif
