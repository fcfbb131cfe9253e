/*
 * fc.h - forecasts and decision support (issue 6, « Prévisions »):
 * canteen meals, water, counter traffic.
 *
 * Data flow. Series (per commune: name, unit, frequency, site, kind)
 * hold points; they come from CSV files agents already have
 * (fc_store.h: import with French formats, errors by line number, all or
 * nothing), from the API, and for canteens from the daily counts agents
 * type in the back-office. Calendar knowledge (fc_cal.h: public holidays
 * from core, school holidays by zone A/B/C from the embedded table
 * data/calendar/, school years, bridge days, strikes and local events
 * entered by agents, school headcounts, menus turned into features)
 * feeds the models (fc_models.h: baselines, damped Holt-Winters ETS,
 * Theta, then gradient-boosted trees; rolling-origin and year-ahead
 * backtests with WAPE, MAPE, MAE, bias, overproduction and short days),
 * which feed the recommendations (meals to order for a chosen shortage
 * risk; water interval alerts).
 *
 * Time. Daily series are indexed by day number (core.h gu_day_*, local
 * civil date of the commune); hourly and 15-minute series by the UTC
 * instant of the period's start (unix seconds), shown in the commune's
 * civil time (gu_tz_*).
 *
 * Headers of the domain: fc_store.h (series, points, events, headcounts,
 * menus; CSV import), fc_cal.h (calendar features), fc_models.h (methods,
 * backtests, metrics). Every function takes the commune and never reads
 * or writes another commune's rows. Layering: forecast sits on store,
 * notify and core.
 */
#ifndef FORECAST_FC_H
#define FORECAST_FC_H

#include "core/core.h"
#include "notify/notify.h"
#include "store/store.h"
#include "web/http.h"

/* Bounds on what enters. */
#define FC_NAME_MAX 200           /* series name, site, unit */
#define FC_SERIES_MAX 2000        /* series of one commune */
#define FC_CSV_MAX_BYTES (64u << 20)
#define FC_CSV_MAX_ROWS 2000000u
#define FC_POINTS_MAX 5000000u    /* points of one series */

/* Schema of the forecast module (store_migrate list; fc_schema.c). */
const struct store_migration *fc_migrations(size_t *count);

/* Module rows (app.c). Route tables start empty; their owners fill them. */
extern const struct http_routes fc_routes;      /* fc_http.c: JSON API */
const struct notify_job *fc_jobs(size_t *count); /* fc_jobs.c */
/* The agents' pages /agent/previsions (fc_pages.c). */
extern const struct http_routes fc_page_routes;

/*
 * The demo commune's series (fc_demo.c): three canteens and a water meter
 * with about two school years of synthetic daily data up to yesterday
 * (headcounts, menus, a strike, the staff's forecasts), then one
 * fc_fit_commune. Deterministic. Returns the number of series created, 0
 * when the commune already has series (kept as they are), or a negative
 * GU_E* code.
 */
int fc_demo_seed(struct store_conn *c, const char *insee, struct gu_err *err);

#endif
