/*
 * fc_store.h - the forecast domain's data: series, points, events,
 * headcounts and menus, and the CSV import (see fc.h for the data flow).
 *
 * Model, per commune (every row carries `insee`):
 *   - a series: a code (slug, unique in the commune: "cantine-jules-ferry"),
 *     a French name, a unit, a frequency (day, hour, 15 minutes), a kind
 *     (cantine, eau, accueil, telephone, autre), a site, the weekdays
 *     without service, and for canteens the cost and weight of a meal;
 *   - points: (series, t) -> value, with the staff's own forecast when the
 *     agents have one. t is a day number (core.h gu_day_*) for daily
 *     series, the unix instant of the period's start for hourly and
 *     15-minute series (aligned on the period). Writing a point that exists
 *     replaces it (upsert): importing the same file twice changes nothing;
 *   - events: strikes, local events, closures and bridges on a day, for
 *     one series or all of them (series_id 0);
 *   - headcounts: pupils per canteen and school year;
 *   - menus: the dishes of a day, for one canteen or all of them.
 *
 * Writes are all or nothing: a batch of points (at most FC_BATCH_MAX per
 * call) or a whole CSV file goes in one transaction (the caller's when one
 * is open), and nothing is written on any error.
 *
 * Ownership: strings in results live in the arena of the call; input
 * strings are borrowed. Every function takes the commune (insee) it acts
 * in and never reads or writes another commune's rows: a series id of
 * another commune is GU_ENOTFOUND.
 *
 * Errors: GU_EINVAL with err->field and a French err->user for bad input;
 * GU_ENOTFOUND; GU_ECONFLICT for a code already used; GU_ETOOBIG over a
 * bound; GU_EDB when storage fails.
 */
#ifndef FORECAST_FC_STORE_H
#define FORECAST_FC_STORE_H

#include "forecast/fc.h"

#include <math.h>

#define FC_CODE_MAX 64        /* series code: [a-z0-9-], 1..64 */
#define FC_BATCH_MAX 100000u  /* points per fc_points_put call */
#define FC_LABEL_MAX 500      /* event label */
#define FC_DISHES_MAX 4000    /* a day's menu */
#define FC_RANGE_MAX 400000   /* periods in one range read */
#define FC_VALUE_MAX 1e12     /* |value| accepted */

enum fc_freq { FC_FREQ_DAY = 0, FC_FREQ_HOUR, FC_FREQ_15MIN };
enum fc_kind {
    FC_KIND_AUTRE = 0,
    FC_KIND_CANTINE,
    FC_KIND_EAU,
    FC_KIND_ACCUEIL,
    FC_KIND_TELEPHONE
};
enum fc_source { FC_SRC_CSV = 0, FC_SRC_API, FC_SRC_SAISIE };
/* Kinds of fc_events rows. Not FC_EV_*: fc_cal.h uses those names for
   its event bits, and the service includes both headers. */
enum fc_event_kind {
    FC_EVENT_GREVE = 0, /* strike */
    FC_EVENT_EVENEMENT, /* local event */
    FC_EVENT_FERMETURE, /* closure */
    FC_EVENT_PONT       /* bridge day */
};

/* Names as stored and shown ("jour", "heure", "15min"...); parse gives
   GU_EINVAL on an unknown name. */
const char *fc_freq_name(enum fc_freq f);
int fc_freq_parse(const char *s, enum fc_freq *out);
const char *fc_kind_name(enum fc_kind k);
int fc_kind_parse(const char *s, enum fc_kind *out);
const char *fc_source_name(enum fc_source s);
const char *fc_event_kind_name(enum fc_event_kind k);
int fc_event_kind_parse(const char *s, enum fc_event_kind *out);
/* Seconds of one period: 86400, 3600, 900. */
int64_t fc_freq_seconds(enum fc_freq f);

/* A series. Strings live in the arena of the call that returned it. */
struct fc_series {
    int64_t id;
    char insee[6];
    const char *code;
    const char *name;
    const char *unit;            /* may be "" */
    enum fc_freq freq;
    enum fc_kind kind;
    const char *site;            /* may be "" */
    const char *closed_weekdays; /* "6,7" (ISO weekdays), may be "" */
    double meal_cost;            /* euros, >= 0 */
    double meal_kg;              /* kg, >= 0 */
    double risk;                 /* share of short days the cook accepts
                                    for recommendations, in
                                    [FCST_RISK_MIN, FCST_RISK_MAX] (fc_reco.h);
                                    0 on save = the default 0.05 */
    const char *alert_to;        /* e-mail for interval alerts, or ""
                                    (NULL on save = "") */
    bool active;
    int64_t created_at;
    /* filled by list/get: */
    int64_t npoints;
    int64_t first_t, last_t;     /* 0, 0 when no point */
};

/* Check a series code's shape (lower-case letters, digits, '-'). */
bool fc_code_valid(const char *code);
/*
 * Make a code from free text into buf (>= FC_CODE_MAX + 1): lower-case
 * ASCII, accents folded, other characters as single '-'. "" if nothing
 * remains.
 */
void fc_slug(const char *text, char *buf, size_t cap);

/*
 * Create (s->id == 0) or update (s->id > 0) a series. Validates every
 * field (French message naming it); the frequency of a series with points
 * cannot change (GU_ECONFLICT). *id_out (may be NULL) gets the id.
 * GU_ECONFLICT if the code is taken, GU_ETOOBIG past FC_SERIES_MAX.
 */
int fc_series_save(struct store_conn *c, const struct fc_series *s,
                   int64_t *id_out, struct gu_err *err);
int fc_series_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                  int64_t id, struct fc_series *out, struct gu_err *err);
int fc_series_by_code(struct store_conn *c, struct gu_arena *a,
                      const char *insee, const char *code,
                      struct fc_series *out, struct gu_err *err);
/* All series of the commune ordered by name; *out is an arena array. */
int fc_series_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                   struct fc_series **out, size_t *n, struct gu_err *err);
/* Delete a series with its points, headcounts, menus and events, and
   what the models made of it: fit, forecasts and alerts. */
int fc_series_delete(struct store_conn *c, const char *insee, int64_t id,
                     struct gu_err *err);

/* A point. staff is NAN when the agents gave no forecast. */
struct fc_point {
    int64_t t;
    double value;
    double staff;
};

/*
 * Upsert n points (n <= FC_BATCH_MAX) of a series in one transaction (the
 * caller's if one is open). Every t must be aligned on the series'
 * period and values finite with |v| <= FC_VALUE_MAX; on any bad point
 * nothing is written and err->field is "points[i]".
 */
int fc_points_put(struct store_conn *c, const char *insee, int64_t series_id,
                  const struct fc_point *p, size_t n, enum fc_source src,
                  struct gu_err *err);
/* Points with t0 <= t <= t1 in time order; *out is an arena array. At most
   FC_RANGE_MAX (GU_ETOOBIG beyond). */
int fc_points_range(struct store_conn *c, struct gu_arena *a,
                    const char *insee, int64_t series_id, int64_t t0,
                    int64_t t1, struct fc_point **out, size_t *n,
                    struct gu_err *err);
/*
 * A daily series as arrays over [day0, day1]: values[i] and staff[i] (may
 * be NULL) for day0 + i, NAN where there is no point. *n = day1 - day0 + 1
 * (at most FC_RANGE_MAX). GU_EINVAL for a series that is not daily.
 */
int fc_points_daily(struct store_conn *c, struct gu_arena *a,
                    const char *insee, int64_t series_id, int64_t day0,
                    int64_t day1, double **values, double **staff, size_t *n,
                    struct gu_err *err);
/* Delete the points with t0 <= t <= t1; *deleted (may be NULL) counts. */
int fc_points_delete(struct store_conn *c, const char *insee,
                     int64_t series_id, int64_t t0, int64_t t1,
                     int64_t *deleted, struct gu_err *err);

/* An event. series_id 0 = every series of the commune. */
struct fc_event {
    int64_t id;
    char insee[6];
    int64_t series_id;
    int64_t day;
    enum fc_event_kind kind;
    const char *label; /* may be "" */
    int64_t created_at;
};
/* Create (id 0) or update; the series, when not 0, must be the commune's. */
int fc_event_save(struct store_conn *c, const struct fc_event *e,
                  int64_t *id_out, struct gu_err *err);
int fc_event_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t id, struct fc_event *out, struct gu_err *err);
int fc_event_delete(struct store_conn *c, const char *insee, int64_t id,
                    struct gu_err *err);
/*
 * Events with day0 <= day <= day1 ordered by day; series_id > 0 gives that
 * series' events and the commune-wide ones, 0 gives all.
 */
int fc_event_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                  int64_t series_id, int64_t day0, int64_t day1,
                  struct fc_event **out, size_t *n, struct gu_err *err);

/* Headcounts: pupils of a canteen for school year `year` (2016 = 2016-2017). */
struct fc_headcount {
    int64_t series_id;
    int school_year;
    int pupils;
};
int fc_headcount_set(struct store_conn *c, const char *insee,
                     int64_t series_id, int school_year, int pupils,
                     struct gu_err *err);
int fc_headcount_list(struct store_conn *c, struct gu_arena *a,
                      const char *insee, int64_t series_id,
                      struct fc_headcount **out, size_t *n,
                      struct gu_err *err);

/* Menus: the dishes of a day, one per line. series_id 0 = every canteen. */
struct fc_menu {
    int64_t series_id;
    int64_t day;
    const char *dishes;
};
/* Empty dishes delete the day's menu. */
int fc_menu_set(struct store_conn *c, const char *insee, int64_t series_id,
                int64_t day, const char *dishes, struct gu_err *err);
/* Menus for [day0, day1]: the series' own and the commune-wide ones. */
int fc_menu_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t series_id, int64_t day0, int64_t day1,
                 struct fc_menu **out, size_t *n, struct gu_err *err);

/*
 * Times as people write them (fc_csv.c). Daily: "2016-09-01" or
 * "01/09/2016" -> day number. Hourly and 15-minute: "2016-12-01 08:00",
 * "2016-12-01T08:00:00+01:00", "01/12/2016 08:00" (civil time of tz unless
 * an offset is given) -> unix instant, which must fall on the period.
 * GU_EINVAL (err->field = field, French err->user) otherwise.
 */
int fc_time_parse(const char *s, enum fc_freq freq, enum gu_tz tz,
                  const char *field, int64_t *t, struct gu_err *err);
/* The reverse: "2016-09-01", or RFC 3339 with the commune's offset
   (buf >= 40 bytes). */
void fc_time_format(int64_t t, enum fc_freq freq, enum gu_tz tz, char *buf,
                    size_t cap);

/* ------------------------------------------------------------------ */
/* CSV (fc_csv.c)                                                      */
/* ------------------------------------------------------------------ */

/*
 * The CSV files agents have: ';' or ',' separator (detected on the first
 * line; with ';', French decimals « 12,5 » are read), "quoted" fields,
 * dates dd/mm/yyyy or ISO (ISO date-times for hourly and 15-minute series,
 * read as the commune's civil time unless an offset is given), a header
 * line detected (or not: then columns are date;valeur[;prevision]),
 * columns chosen by name: date (date, jour, horodatage, datetime), value
 * (valeur, value, reel, réel, nombre, quantite, volume), the staff's
 * forecast (prevision), the site (site, site_nom, cantine, plus site_type
 * when present). UTF-8 with or without BOM; Windows-1252 detected (any
 * invalid UTF-8) and converted. Rows whose value is empty are skipped and
 * counted; blank lines are ignored.
 *
 * Errors: GU_EINVAL with err->user « Ligne N : ... » (N counts from 1, the
 * header included), GU_ETOOBIG over FC_CSV_MAX_BYTES or FC_CSV_MAX_ROWS.
 * A date repeated for the same site is an error naming both lines.
 */
struct fc_csv_row {
    int64_t t;         /* day or instant, per the frequency */
    double value;
    double staff;      /* NAN when none */
    const char *site;  /* "" when no site column */
    unsigned line;
};
struct fc_csv {
    struct fc_csv_row *rows; /* arena array, file order */
    size_t n;
    size_t skipped;          /* rows with an empty value */
    char sep;                /* ';' or ',' */
    bool header;             /* a header line was found */
    bool cp1252;             /* converted from Windows-1252 */
    bool has_site, has_staff;
};
/* Parse `data` (n bytes) into rows in `a`. Pure: no store. */
int fc_csv_parse(const char *data, size_t n, enum fc_freq freq,
                 enum gu_tz tz, struct gu_arena *a, struct fc_csv *out,
                 struct gu_err *err);

/* What an import creates: the series it writes to. */
struct fc_import_opts {
    const char *code;    /* required: the series code, or its prefix with
                            per_site ("cantine" -> "cantine-agenets-m-e") */
    const char *name;    /* NULL: the code (per site: name + " — " + site) */
    const char *unit;    /* NULL: "" (or the existing series' unit) */
    enum fc_freq freq;
    enum fc_kind kind;
    bool per_site;       /* one series per site (needs a site column) */
    enum fc_source source;
};
struct fc_import_report {
    size_t rows;          /* rows read (points written) */
    size_t skipped;       /* rows with an empty value */
    size_t series_created, series_used;
    int64_t first_t, last_t;
    char sep;
    bool header, cp1252, has_staff;
};
/*
 * Parse and write a CSV in ONE transaction: series created (or reused when
 * the code exists with the same frequency; another frequency is
 * GU_ECONFLICT), points upserted. Nothing is written on any error.
 */
int fc_csv_import(struct store_conn *c, struct gu_arena *a, const char *insee,
                  enum gu_tz tz, const struct fc_import_opts *o,
                  const char *data, size_t n, struct fc_import_report *rep,
                  struct gu_err *err);

#endif
