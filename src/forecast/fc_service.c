/*
 * fc_service.c - forecasts of a commune's series over the store
 * (fc_service.h): fit (backtest every method, choose, forecast ahead,
 * store), the stored fit, the days pages and exports show, and the
 * interval alerts.
 *
 * A commune fit works on groups: the active series of one kind in the
 * commune (all its canteens...), because they share one gradient-boosted
 * model (fc_models row (insee, kind, FC_HORIZON)). A single series' fit
 * (the API's, the CLI's) is a group of one with its own model, not
 * stored: training the shared one takes the whole commune's data (half a
 * minute for Nantes' 116 canteens), too long for a request. Each series is
 * loaded as a daily array (non-daily series summed per civil day of the
 * commune) with what the calendar, the agents' events, the menus and the
 * headcounts say of each day, FC_AHEAD_DAYS more days of room at the end for
 * the forecast. Then, per series: the classic methods' rolling-origin backtest
 * (fcst_backtest) over its last FC_BT_DAYS days, the model's on the same rows
 * (trained on the days before the group's windows, forecasting each day D from
 * D - FC_HORIZON), the lowest WAPE chosen (never the agents' own forecast), the
 * chosen method's relative errors kept for the recommendations, and the next
 * days forecast. Everything computed first, then written in ONE transaction: a
 * failure writes nothing and the previous fit stays.
 *
 * Forecasts are stored as P10/P50/P90 = fcst_dist_quantile(point, errors,
 * q); the point is not stored, but since point * (1 + e) is linear in the
 * point, point = P50 / quantile_0.5(1 + e) with the fit's errors
 * (reco_point), which is what the recommendations start from.
 */
#include "forecast/fc_service.h"
#include "forecast/fc_cal.h"
#include "forecast/fc_gbt.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_ACTUALS 28 /* days with an actual needed for a fit */
#define GBT_RECENT_DAYS                                                        \
    60                      /* a series ending earlier is left out of the      \
                               shared model (its window would drag the         \
                               model's training end back) */
#define ALERTS_PER_SCAN 500 /* per series and run: a bound, not a target */
/* The alert interval: the P10-P90 band widened ALERT_WIDEN times around
   P50 on each side. [P10, P90] leaves out one day in five by
   construction: alerting on it cried wolf every week. Twice the band is
   about 2.6 deviations for a normal error, one day in a hundred. */
#define ALERT_WIDEN 2.0

static const char *const STAFF = "staff";
static const char *const GBT = "gbt";

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static double
cpu_now(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

static int
oom(struct gu_err *err)
{
    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
}

static void *
arena_array(struct gu_arena *a, size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / size)
        return NULL;
    return gu_arena_alloc(a, n * size);
}

static double *
nan_array(struct gu_arena *a, size_t n)
{
    double *v = arena_array(a, n, sizeof(double));

    for (size_t i = 0; v && i < n; i++)
        v[i] = NAN;
    return v;
}

static const char *
method_label(const char *name)
{
    if (!name)
        return "";
    if (strcmp(name, STAFF) == 0)
        return "Prévision des agents";
    if (strcmp(name, GBT) == 0)
        return "Arbres de gradient (XGBoost)";
    for (int m = 0; m < FCST_METHOD_COUNT; m++)
        if (strcmp(name, fcst_method_name((enum fcst_method)m)) == 0)
            return fcst_method_label((enum fcst_method)m);
    return name;
}

/* ISO weekday bits of "6,7". */
static unsigned
weekday_bits(const char *s)
{
    unsigned bits = 0;

    for (; s && *s; s++)
        if (*s >= '1' && *s <= '7')
            bits |= 1u << (*s - '0');
    return bits;
}

static void
cal_free_cb(void *p)
{
    fc_cal_free(p);
}

static void
gbt_free_cb(void *p)
{
    fcst_gbt_free(p);
}

/*
 * Calendars of communes, kept with the store (store_ext): building one
 * parses the embedded tables (about 2 ms), and the pages ask fc_days for
 * every series of a commune. A calendar is read-only once built, so
 * threads share it; it is keyed by INSEE code and zone (a zone changed at
 * `guichet init` gets a new one) and lives until the store closes. At most
 * CAL_CACHE_MAX communes: beyond, calendars are built per call.
 */
#define CAL_CACHE_MAX 64

struct cal_entry {
    char insee[6];
    char zone[16];
    struct fc_cal *cal;
};

struct cal_cache {
    pthread_mutex_t mu;
    struct cal_entry e[CAL_CACHE_MAX];
    size_t n;
};

static void *
cal_cache_make(struct store *s)
{
    struct cal_cache *cc = gu_calloc(1, sizeof(*cc));

    (void)s;
    if (cc)
        pthread_mutex_init(&cc->mu, NULL);
    return cc;
}

static void
cal_cache_free(void *p)
{
    struct cal_cache *cc = p;

    if (!cc)
        return;
    for (size_t i = 0; i < cc->n; i++)
        fc_cal_free(cc->e[i].cal);
    pthread_mutex_destroy(&cc->mu);
    gu_free(cc);
}

/* The cached calendar of (insee, zone), built on first use; NULL when
   the cache is full or on failure (the caller builds its own). */
static struct fc_cal *
cal_cached(struct store_conn *c, const char *insee, const char *zone)
{
    struct cal_cache *cc = store_ext(store_conn_store(c), "fc.cal",
                                     cal_cache_make, cal_cache_free);
    struct fc_cal *cal = NULL;

    if (!cc || strlen(zone) >= sizeof(cc->e[0].zone))
        return NULL;
    pthread_mutex_lock(&cc->mu);
    for (size_t i = 0; i < cc->n && !cal; i++)
        if (strcmp(cc->e[i].insee, insee) == 0 &&
            strcmp(cc->e[i].zone, zone) == 0)
            cal = cc->e[i].cal;
    if (!cal && cc->n < CAL_CACHE_MAX && fc_cal_new(insee, zone, &cal) == 0) {
        struct cal_entry *e = &cc->e[cc->n++];
        snprintf(e->insee, sizeof(e->insee), "%s", insee);
        snprintf(e->zone, sizeof(e->zone), "%s", zone);
        e->cal = cal;
    }
    pthread_mutex_unlock(&cc->mu);
    return cal;
}

/* The commune's calendar (shared, or owned by `a`) and time zone. */
static int
commune_cal(struct store_conn *c, struct gu_arena *a, const char *insee,
            struct fc_cal **cal, enum gu_tz *tz, struct gu_err *err)
{
    struct store_commune m;
    int rc;

    if ((rc = store_commune_get(c, a, insee, &m, err)) < 0)
        return rc;
    *tz = gu_tz_of_zone(m.zone ? m.zone : "");
    if ((*cal = cal_cached(c, insee, m.zone ? m.zone : "")))
        return 0;
    if ((rc = fc_cal_new(insee, m.zone, cal)) < 0)
        return gu_err_set(err, rc, NULL, NULL, "fc_cal_new: %s",
                          gu_status_name(rc));
    if (gu_arena_defer(a, cal_free_cb, *cal) < 0)
        return oom(err);
    return 0;
}

/* The civil day of an instant, for non-daily series. */
static int64_t
day_of(enum gu_tz tz, int64_t t)
{
    int64_t day;
    int minute;

    gu_tz_from_utc(tz, t, &day, &minute);
    return day;
}

/* Is day d a day without service for the series? Closed weekdays, a
   closure entered by the agents and, for canteens, public and school
   holidays (the first day of a school holiday, « fin des cours », may
   still have classes). */
static bool
no_service(const struct fc_cal *cal, const struct fc_series *s, unsigned skip,
           const struct fc_cal_event *ev, size_t nev, int64_t d)
{
    struct fc_cal_day f;

    if ((skip >> gu_day_weekday(d)) & 1)
        return true;
    if (fc_cal_events(ev, nev, s->id, d) & FC_EV_FERMETURE)
        return true;
    if (s->kind != FC_KIND_CANTINE)
        return false;
    fc_cal_day(cal, d, &f);
    if (f.holiday)
        return true;
    return f.school_known && f.school_holiday && f.holiday_index != 1;
}

/*
 * Daily values of a series over [day0, day1]: the points of a daily
 * series, the sums per civil day of the others (a day is NAN when no
 * point falls in it; staff NAN when no point of the day has one).
 * *complete_end (may be NULL) gets the last day whose every period is
 * past (the day of the last point is only complete when that point is
 * its last period).
 */
static int
daily_values(struct store_conn *c, struct gu_arena *a,
             const struct fc_series *s, enum gu_tz tz, int64_t day0,
             int64_t day1, double **v, double **st, int64_t *complete_end,
             struct gu_err *err)
{
    struct fc_point *p = NULL;
    size_t n = 0, len;
    int64_t per;
    int rc;

    if (complete_end)
        *complete_end = day1;
    if (s->freq == FC_FREQ_DAY)
        return fc_points_daily(c, a, s->insee, s->id, day0, day1, v, st, &n,
                               err);
    len = (size_t)(day1 - day0 + 1);
    *v = nan_array(a, len);
    *st = nan_array(a, len);
    if (!*v || !*st)
        return oom(err);
    per = fc_freq_seconds(s->freq);
    if ((rc = fc_points_range(c, a, s->insee, s->id, gu_tz_to_utc(tz, day0, 0),
                              gu_tz_to_utc(tz, day1 + 1, 0) - 1, &p, &n, err)) <
        0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        int64_t d = day_of(tz, p[i].t);
        size_t k;
        if (d < day0 || d > day1)
            continue;
        k = (size_t)(d - day0);
        (*v)[k] = isnan((*v)[k]) ? p[i].value : (*v)[k] + p[i].value;
        if (!isnan(p[i].staff))
            (*st)[k] = isnan((*st)[k]) ? p[i].staff : (*st)[k] + p[i].staff;
    }
    if (complete_end && n > 0) {
        int64_t last = p[n - 1].t, d = day_of(tz, last);
        *complete_end = last + per >= gu_tz_to_utc(tz, d + 1, 0) ? d : d - 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Loading a group of series                                           */
/* ------------------------------------------------------------------ */

/* One series of a fit, everything in the fit's arena. Arrays cover
   day0 .. day0 + n - 1: the history, then FC_AHEAD_DAYS days of room. */
struct sdata {
    struct fc_series s;
    bool ok;           /* loaded with enough data */
    struct gu_err why; /* when not ok */
    int64_t day0;
    size_t n;
    double *v, *staff;
    unsigned *menu;
    double *pupils;
    int16_t *syweek;
    unsigned skip;
    int64_t first_end; /* first day with an actual */
    int64_t data_end;  /* last day with an actual */
    size_t nactual;
    struct fcst_gbt_series gs;
    bool gbt_member; /* in the shared model's training */
    /* the result */
    struct fc_fit fit;
    struct fc_score *scores;
    size_t nscores;
    int64_t *fdays; /* days forecast ahead */
    double *f10, *f50, *f90;
    size_t nf;
    const char *scores_json, *errors_json;
};

/* Shared by the series of a fit. */
struct group {
    const char *insee;
    enum gu_tz tz;
    struct fc_cal *cal;
    struct fc_cal_event *events;
    size_t nevents;
    struct fcst_gbt_ctx ctx;
};

/* Week of the school year as fc_models.h wants it: 0 = the week holding
   1 September. */
static int16_t
school_week0(const struct fc_cal_day *f)
{
    int64_t sept = gu_day_from_ymd(f->school_year, 9, 1);
    int64_t mon = sept - (gu_day_weekday(sept) - 1);
    int64_t w = (f->day - mon) >= 0 ? (f->day - mon) / 7 : -1;

    return w >= 0 && w < 60 ? (int16_t)w : -1;
}

static int
load_series(struct store_conn *c, struct gu_arena *a, struct group *g,
            struct sdata *sd, struct gu_err *err)
{
    const struct fc_series *s = &sd->s;
    struct fc_headcount *hc = NULL;
    struct fc_menu *menus = NULL;
    size_t nhc = 0, nmenus = 0, hist;
    double *v = NULL, *st = NULL;
    int64_t first, last, complete;
    int rc;

    if (s->npoints == 0)
        return gu_err_set(err, GU_EINVAL, "series",
                          "Pas assez de données : la série n'a aucune "
                          "valeur.",
                          "no points");
    if (s->freq == FC_FREQ_DAY) {
        first = s->first_t;
        last = s->last_t;
    } else {
        first = day_of(g->tz, s->first_t);
        last = day_of(g->tz, s->last_t);
    }
    hist = FC_HISTORY_MAX;
    if (s->freq != FC_FREQ_DAY) {
        size_t per_day = (size_t)(86400 / fc_freq_seconds(s->freq)) + 4;
        if (hist > FC_RANGE_MAX / per_day - 2)
            hist = FC_RANGE_MAX / per_day - 2;
    }
    if (last - first + 1 > (int64_t)hist)
        first = last - (int64_t)hist + 1;
    if ((rc = daily_values(c, a, s, g->tz, first, last, &v, &st, &complete,
                           err)) < 0)
        return rc;
    sd->day0 = first;
    sd->n = (size_t)(last - first + 1) + FC_AHEAD_DAYS + 8;
    sd->v = nan_array(a, sd->n);
    sd->staff = nan_array(a, sd->n);
    sd->pupils = nan_array(a, sd->n);
    sd->menu = arena_array(a, sd->n, sizeof(unsigned));
    sd->syweek = arena_array(a, sd->n, sizeof(int16_t));
    if (!sd->v || !sd->staff || !sd->pupils || !sd->menu || !sd->syweek)
        return oom(err);
    sd->skip = weekday_bits(s->closed_weekdays);
    if ((rc = fc_headcount_list(c, a, g->insee, s->id, &hc, &nhc, err)) < 0 ||
        (rc = fc_menu_list(c, a, g->insee, s->id, first,
                           first + (int64_t)sd->n - 1, &menus, &nmenus, err)) <
            0)
        return rc;
    sd->first_end = sd->data_end = INT64_MIN;
    for (size_t i = 0; i < sd->n; i++) {
        int64_t d = first + (int64_t)i;
        struct fc_cal_day f;
        double x = NAN;

        fc_cal_day(g->cal, d, &f);
        sd->syweek[i] = f.school_known ? school_week0(&f) : -1;
        sd->menu[i] = 0;
        for (size_t k = 0; k < nhc; k++)
            if (hc[k].school_year == f.school_year)
                sd->pupils[i] = hc[k].pupils;
        if (d <= complete && d <= last) {
            x = v[i];
            sd->staff[i] = st ? st[i] : NAN;
        }
        /* A zero on a day without service is « no service », not a
           count: the models want NAN there. */
        if (x == 0 && no_service(g->cal, s, sd->skip, g->events, g->nevents, d))
            x = NAN;
        sd->v[i] = x;
        if (!isnan(x)) {
            if (sd->first_end == INT64_MIN)
                sd->first_end = d;
            sd->data_end = d;
            sd->nactual++;
        }
    }
    /* Menus: the canteen's own menu of a day wins over the commune's. */
    for (size_t k = 0; k < nmenus; k++) {
        int64_t i = menus[k].day - first;
        unsigned fl;
        if (i < 0 || i >= (int64_t)sd->n)
            continue;
        if (menus[k].series_id == 0 && sd->menu[i] != 0)
            continue;
        fl = fc_menu_flags(a, menus[k].dishes, strlen(menus[k].dishes));
        if (menus[k].series_id != 0 || sd->menu[i] == 0)
            sd->menu[i] = fl;
    }
    if (sd->nactual < MIN_ACTUALS) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "Pas assez de données : il faut au moins %d jours avec une "
                 "valeur (la série en a %zu).",
                 MIN_ACTUALS, sd->nactual);
        return gu_err_set(err, GU_EINVAL, "series", msg, "%zu actuals",
                          sd->nactual);
    }
    sd->gs.s.day0 = sd->day0;
    sd->gs.s.n = sd->n;
    sd->gs.s.v = sd->v;
    sd->gs.s.sy_week = sd->syweek;
    sd->gs.series_id = s->id;
    sd->gs.group = 0;
    sd->gs.menu = sd->menu;
    sd->gs.pupils = sd->pupils;
    sd->gs.skip_weekdays = sd->skip;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Fitting one series                                                  */
/* ------------------------------------------------------------------ */

/* The backtest window of a series: [end - days + 1, end]. */
static int
bt_days(const struct sdata *sd)
{
    int64_t span = sd->data_end - sd->first_end + 1 - 21;

    if (span > FC_BT_DAYS)
        span = FC_BT_DAYS;
    if (span < 7)
        span = 7;
    return (int)span;
}

static json_t *
num_json(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static int
scores_to_json(struct gu_arena *a, const struct fc_score *sc, size_t n,
               const double *errs, size_t nerr, const char **scores_out,
               const char **errors_out)
{
    json_t *arr = json_array(), *ea = json_array();
    char *t1 = NULL, *t2 = NULL;
    int rc = GU_ENOMEM;

    for (size_t i = 0; arr && i < n; i++) {
        json_t *j = json_object();
        if (!j)
            goto out;
        json_object_set_new(j, "method", json_string(sc[i].method));
        json_object_set_new(j, "n", json_integer((json_int_t)sc[i].m.n));
        json_object_set_new(j, "wape", num_json(sc[i].m.wape));
        json_object_set_new(j, "mape", num_json(sc[i].m.mape));
        json_object_set_new(j, "mae", num_json(sc[i].m.mae));
        json_object_set_new(j, "bias", num_json(sc[i].m.bias));
        json_object_set_new(j, "over", num_json(sc[i].m.over));
        json_object_set_new(j, "short_days",
                            json_integer((json_int_t)sc[i].m.short_days));
        json_array_append_new(arr, j);
    }
    for (size_t i = 0; ea && i < nerr; i++)
        json_array_append_new(ea, json_real(round(errs[i] * 1e6) / 1e6));
    if (!arr || !ea)
        goto out;
    t1 = json_dumps(arr, JSON_COMPACT);
    t2 = json_dumps(ea, JSON_COMPACT);
    if (!t1 || !t2)
        goto out;
    *scores_out = gu_arena_strdup(a, t1);
    *errors_out = gu_arena_strdup(a, t2);
    if (*scores_out && *errors_out)
        rc = 0;
out:
    free(t1);
    free(t2);
    json_decref(arr);
    json_decref(ea);
    return rc;
}

static int
score_cmp(const void *x, const void *y)
{
    const struct fc_score *a = x, *b = y;
    bool sa = strcmp(a->method, STAFF) == 0, sb = strcmp(b->method, STAFF) == 0;
    double wa = a->m.wape, wb = b->m.wape;

    if (sa != sb)
        return sa ? -1 : 1;
    if (isnan(wa) != isnan(wb))
        return isnan(wa) ? 1 : -1;
    if (wa < wb)
        return -1;
    if (wa > wb)
        return 1;
    return strcmp(a->method, b->method);
}

/*
 * Backtest, choose and forecast one loaded series. bt_model: the group's
 * model trained before the windows (NULL when none); model: trained on
 * everything (NULL when none).
 */
static int
fit_one(struct gu_arena *a, const struct group *g, struct sdata *sd,
        const struct fcst_gbt *bt_model, const struct fcst_gbt *model,
        struct gu_err *err)
{
    struct fcst_series fs = sd->gs.s;
    struct fcst_bt_opts o;
    struct fcst_bt_result *r;
    struct fcst_fit fit;
    double *f_out, *fg = NULL, *errs;
    double t0 = cpu_now();
    size_t nrows_staff = 0, nrows = 0, nerr = 0, ns = 0;
    int days = bt_days(sd), chosen = -1; /* -1 = gbt */
    bool use_gbt = false;
    long rows;
    int rc;

    memset(&o, 0, sizeof(o));
    o.test_end = sd->data_end;
    o.test_start = sd->data_end - days + 1;
    o.train_end = o.test_start - 1;
    o.horizon = FC_HORIZON;
    o.refit_every = 28;
    o.skip_weekdays = sd->skip;
    /* The agents' forecast is scored (on the same rows) when they gave
       one for at least half of the window's days. */
    for (int64_t d = o.test_start; d <= o.test_end; d++) {
        size_t i = (size_t)(d - sd->day0);
        if (!(sd->v[i] > 0) || ((sd->skip >> gu_day_weekday(d)) & 1))
            continue;
        nrows++;
        nrows_staff += !isnan(sd->staff[i]);
    }
    r = gu_arena_zalloc(a, sizeof(*r));
    f_out = arena_array(a, (size_t)FCST_METHOD_COUNT * sd->n, sizeof(double));
    if (!r || !f_out)
        return oom(err);
    fcst_bt_result_init(r);
    rows = fcst_backtest(
        &fs, nrows > 0 && nrows_staff * 2 >= nrows ? sd->staff : NULL, &o, r,
        f_out);
    if (rows < 0)
        return oom(err);
    if (rows < 5)
        return gu_err_set(err, GU_EINVAL, "series",
                          "Pas assez de données récentes pour comparer les "
                          "méthodes (moins de 5 jours avec une valeur dans "
                          "la période d'évaluation).",
                          "%ld backtest rows", rows);
    /* The model on the same rows: each day D from data up to D - h. */
    if (bt_model && sd->gbt_member) {
        int64_t *dd = arena_array(a, (size_t)rows, sizeof(int64_t));
        int64_t *oo = arena_array(a, (size_t)rows, sizeof(int64_t));
        double *out = arena_array(a, (size_t)rows, sizeof(double));
        size_t k = 0;
        struct gu_err e2;

        fg = nan_array(a, sd->n);
        if (!dd || !oo || !out || !fg)
            return oom(err);
        for (int64_t d = o.test_start; d <= o.test_end && k < (size_t)rows; d++)
            if (!isnan(f_out[(size_t)(d - sd->day0)])) {
                dd[k] = d;
                oo[k] = d - FC_HORIZON;
                k++;
            }
        gu_err_clear(&e2);
        if (fcst_gbt_predict_many(bt_model, &g->ctx, &sd->gs, dd, oo, k, out,
                                  &e2) == 0) {
            struct fcst_acc acc;
            fcst_acc_init(&acc);
            for (size_t i = 0; i < k; i++) {
                fg[dd[i] - sd->day0] = out[i];
                fcst_acc_add(&acc, sd->v[dd[i] - sd->day0], out[i]);
            }
            /* Only a model that answered every row competes. */
            use_gbt = acc.n == k && k == (size_t)rows;
            sd->scores = gu_arena_zalloc(a, (FCST_METHOD_COUNT + 2) *
                                                sizeof(*sd->scores));
            if (!sd->scores)
                return oom(err);
            sd->scores[ns].method = GBT;
            fcst_acc_metrics(&acc, &sd->scores[ns].m);
            ns++;
        } else {
            gu_log_warn("fc.gbt_predict", "series=%lld err=\"%s\"",
                        (long long)sd->s.id, e2.msg);
        }
    }
    if (!sd->scores) {
        sd->scores =
            gu_arena_zalloc(a, (FCST_METHOD_COUNT + 2) * sizeof(*sd->scores));
        if (!sd->scores)
            return oom(err);
    }
    for (int m = 0; m < FCST_METHOD_COUNT; m++) {
        sd->scores[ns].method = fcst_method_name((enum fcst_method)m);
        fcst_acc_metrics(&r->acc[m], &sd->scores[ns].m);
        ns++;
    }
    if (r->staff.n > 0) {
        sd->scores[ns].method = STAFF;
        fcst_acc_metrics(&r->staff, &sd->scores[ns].m);
        ns++;
    }
    /* The choice: lowest WAPE, never the agents'. */
    {
        double best = INFINITY;
        for (size_t i = 0; i < ns; i++) {
            const struct fc_score *x = &sd->scores[i];
            if (strcmp(x->method, STAFF) == 0 || !(x->m.wape < best))
                continue;
            if (strcmp(x->method, GBT) == 0) {
                if (!use_gbt)
                    continue;
                chosen = -1;
            } else {
                chosen = (int)(i - (size_t)(sd->scores[0].method == GBT));
            }
            best = x->m.wape;
        }
        if (!isfinite(best))
            chosen = FCST_MEAN4; /* every WAPE NAN (all actuals 0) */
    }
    for (size_t i = 0; i < ns; i++)
        sd->scores[i].label = method_label(sd->scores[i].method);
    qsort(sd->scores, ns, sizeof(*sd->scores), score_cmp);
    sd->nscores = ns;
    /* Relative errors of the chosen method, latest last. */
    errs = arena_array(a, FCST_RECO_ERRORS, sizeof(double));
    if (!errs)
        return oom(err);
    for (int64_t d = o.test_end; d >= o.test_start && nerr < FCST_RECO_ERRORS;
         d--) {
        size_t i = (size_t)(d - sd->day0);
        double f = chosen < 0 ? fg[i] : f_out[(size_t)chosen * sd->n + i];
        if (isnan(f) || !(f > 0) || isnan(sd->v[i]))
            continue;
        errs[nerr++] = (sd->v[i] - f) / f;
    }
    for (size_t i = 0; i < nerr / 2; i++) {
        double x = errs[i];
        errs[i] = errs[nerr - 1 - i];
        errs[nerr - 1 - i] = x;
    }
    /* The days ahead. A weekday without any actual in the last eight
       weeks is taken as closed even when closed_weekdays does not say so
       (an import does not know the canteen's days). */
    {
        unsigned seen = 0;
        for (int64_t d = sd->data_end - 55; d <= sd->data_end; d++)
            if (d >= sd->day0 && sd->v[d - sd->day0] > 0)
                seen |= 1u << gu_day_weekday(d);
        if (sd->data_end - sd->first_end >= 55)
            sd->skip |= 0xFEu & ~seen;
    }
    fcst_fit_all(&fs, sd->data_end, &fit);
    sd->fdays = arena_array(a, FC_AHEAD_DAYS, sizeof(int64_t));
    sd->f10 = arena_array(a, FC_AHEAD_DAYS, sizeof(double));
    sd->f50 = arena_array(a, FC_AHEAD_DAYS, sizeof(double));
    sd->f90 = arena_array(a, FC_AHEAD_DAYS, sizeof(double));
    if (!sd->fdays || !sd->f10 || !sd->f50 || !sd->f90)
        return oom(err);
    for (int h = 1; h <= FC_AHEAD_DAYS; h++) {
        int64_t d = sd->data_end + h;
        double point = NAN;

        if (no_service(g->cal, &sd->s, sd->skip, g->events, g->nevents, d))
            continue;
        if (chosen < 0 && model) {
            int64_t origin = d - fcst_gbt_horizon(model);
            if (origin > sd->data_end)
                origin = sd->data_end;
            point = fcst_gbt_predict(model, &g->ctx, &sd->gs, d, origin);
        }
        if (isnan(point))
            point = fcst_forecast(chosen < 0 ? FCST_MEAN4
                                             : (enum fcst_method)chosen,
                                  &fs, &fit, d, h, NULL);
        if (isnan(point))
            continue;
        if (point < 0)
            point = 0;
        sd->fdays[sd->nf] = d;
        sd->f10[sd->nf] = fcst_dist_quantile(point, errs, nerr, 0.1);
        sd->f50[sd->nf] = fcst_dist_quantile(point, errs, nerr, 0.5);
        sd->f90[sd->nf] = fcst_dist_quantile(point, errs, nerr, 0.9);
        if (isnan(sd->f50[sd->nf]))
            sd->f10[sd->nf] = sd->f50[sd->nf] = sd->f90[sd->nf] = point;
        sd->nf++;
    }
    memset(&sd->fit, 0, sizeof(sd->fit));
    sd->fit.series_id = sd->s.id;
    sd->fit.method =
        chosen < 0 ? GBT : fcst_method_name((enum fcst_method)chosen);
    sd->fit.label = method_label(sd->fit.method);
    sd->fit.horizon = FC_HORIZON;
    sd->fit.fitted_at = gu_now();
    sd->fit.data_end = sd->data_end;
    sd->fit.seconds = cpu_now() - t0;
    sd->fit.scores = sd->scores;
    sd->fit.nscores = sd->nscores;
    sd->fit.errors = errs;
    sd->fit.nerrors = nerr;
    rc = scores_to_json(a, sd->scores, sd->nscores, errs, nerr,
                        &sd->scores_json, &sd->errors_json);
    return rc < 0 ? oom(err) : 0;
}

/* ------------------------------------------------------------------ */
/* Storing                                                             */
/* ------------------------------------------------------------------ */

static int
store_fit(struct store_conn *c, const char *insee, const struct sdata *sd,
          struct gu_err *err)
{
    struct store_val p[9] = {
        STORE_I(sd->s.id),          STORE_T(insee),
        STORE_T(sd->fit.method),    STORE_I(sd->fit.horizon),
        STORE_I(sd->fit.fitted_at), STORE_I(sd->fit.data_end),
        STORE_D(sd->fit.seconds),   STORE_T(sd->scores_json),
        STORE_T(sd->errors_json)};
    struct store_val q[3] = {STORE_I(sd->s.id), STORE_T(insee),
                             STORE_I(sd->data_end)};
    int rc;

    rc = store_exec(c,
                    "INSERT INTO fc_fits (series_id, insee, method, horizon, "
                    "fitted_at, data_end, seconds, scores, errors) VALUES "
                    "(?,?,?,?,?,?,?,?,?) ON CONFLICT (series_id) DO UPDATE "
                    "SET method = excluded.method, horizon = "
                    "excluded.horizon, fitted_at = excluded.fitted_at, "
                    "data_end = excluded.data_end, seconds = "
                    "excluded.seconds, scores = excluded.scores, errors = "
                    "excluded.errors",
                    p, 9, err);
    /* Forecasts of days already past stay: alerts and pages compare them
       with the actuals. Those ahead are replaced. */
    if (rc == 0)
        rc = store_exec(c,
                        "DELETE FROM fc_forecasts WHERE series_id = ? AND "
                        "insee = ? AND t > ?",
                        q, 3, err);
    for (size_t i = 0; rc == 0 && i < sd->nf; i++) {
        struct store_val f[8] = {
            STORE_I(sd->s.id),     STORE_T(insee),
            STORE_I(sd->fdays[i]), STORE_T(sd->fit.method),
            STORE_D(sd->f10[i]),   STORE_D(sd->f50[i]),
            STORE_D(sd->f90[i]),   STORE_I(sd->fit.fitted_at)};
        rc = store_exec(c,
                        "INSERT INTO fc_forecasts (series_id, insee, t, "
                        "method, p10, p50, p90, made_at) VALUES "
                        "(?,?,?,?,?,?,?,?) ON CONFLICT (series_id, t) DO "
                        "UPDATE SET method = excluded.method, p10 = "
                        "excluded.p10, p50 = excluded.p50, p90 = "
                        "excluded.p90, made_at = excluded.made_at",
                        f, 8, err);
    }
    return rc;
}

static int
store_model(struct store_conn *c, const char *insee, enum fc_kind kind,
            const struct fcst_gbt *m, struct gu_err *err)
{
    void *buf = NULL;
    size_t len = 0;
    int rc;

    if ((rc = fcst_gbt_save(m, &buf, &len, err)) < 0)
        return rc;
    {
        struct store_val p[5] = {STORE_T(insee), STORE_T(fc_kind_name(kind)),
                                 STORE_I(fcst_gbt_horizon(m)),
                                 STORE_I(gu_now()), STORE_B(buf, len)};
        rc = store_exec(c,
                        "INSERT INTO fc_models (insee, kind, horizon, "
                        "trained_at, data) VALUES (?,?,?,?,?) ON CONFLICT "
                        "(insee, kind, horizon) DO UPDATE SET trained_at = "
                        "excluded.trained_at, data = excluded.data",
                        p, 5, err);
    }
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* A group fit                                                         */
/* ------------------------------------------------------------------ */

static int
group_open(struct store_conn *c, struct gu_arena *a, const char *insee,
           struct group *g, struct gu_err *err)
{
    struct fc_event *ev = NULL;
    size_t n = 0;
    int rc;

    memset(g, 0, sizeof(*g));
    g->insee = insee;
    if ((rc = commune_cal(c, a, insee, &g->cal, &g->tz, err)) < 0 ||
        (rc = fc_event_list(c, a, insee, 0, -25567, 84000, &ev, &n, err)) < 0)
        return rc;
    g->events = arena_array(a, n, sizeof(*g->events));
    if (!g->events)
        return oom(err);
    for (size_t i = 0; i < n; i++) {
        g->events[i].day = ev[i].day;
        g->events[i].series_id = ev[i].series_id;
        g->events[i].kind = fc_event_kind_name(ev[i].kind);
    }
    g->nevents = n;
    fc_cal_events_sort(g->events, n);
    g->ctx.cal = g->cal;
    g->ctx.events = g->events;
    g->ctx.nevents = n;
    return 0;
}

static int
train(struct gu_arena *a, const struct group *g, struct sdata *v, size_t n,
      int64_t train_end, struct fcst_gbt **out)
{
    struct fcst_gbt_series *ss = arena_array(a, n, sizeof(*ss));
    struct fcst_gbt_params p;
    struct gu_err e2;
    size_t k = 0;
    int rc;

    *out = NULL;
    if (!ss)
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (v[i].gbt_member)
            ss[k++] = v[i].gs;
    if (k == 0)
        return 0;
    memset(&p, 0, sizeof(p));
    p.horizon = FC_HORIZON;
    p.seed = 20161;
    /* One thread: XGBoost's OpenMP threads spin while they wait, which
       on a small shared box costs far more than they bring (Nantes' 116
       canteens: 44.6 s wall with 2 threads, 5.8 s with 1, same fits) and
       steals the CPU of the requests being served. */
    p.threads = 1;
    gu_err_clear(&e2);
    rc = fcst_gbt_train(&g->ctx, ss, k, train_end, &p, out, &e2);
    if (rc == GU_ENOMEM)
        return rc;
    if (rc < 0) {
        /* Too little data or an XGBoost error: the classic methods
           still give a fit. */
        gu_log_info("fc.gbt_skip", "insee=%s rows_end=%lld err=\"%s\"",
                    g->insee, (long long)train_end, e2.msg);
        *out = NULL;
        return 0;
    }
    if (gu_arena_defer(a, gbt_free_cb, *out) < 0) {
        *out = NULL;
        return GU_ENOMEM;
    }
    return 0;
}

/*
 * Fit the series v[0..n) (one kind of one commune) and store them in one
 * transaction. `target` >= 0: v[target] is the series asked for, the
 * others only feed the shared model and are not stored; its failure is
 * the result. `target` < 0: every series that can be fitted is stored,
 * *fitted and *skipped count.
 */
static int
fit_group(struct store_conn *c, struct gu_arena *a, struct group *g,
          struct sdata *v, size_t n, long target, size_t *fitted,
          size_t *skipped, struct gu_err *err)
{
    struct fcst_gbt *bt_model = NULL, *model = NULL;
    int64_t end_max = INT64_MIN, bt_end = INT64_MAX;
    bool own_tx = !store_in_tx(c);
    size_t members = 0;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        gu_err_clear(&v[i].why);
        rc = load_series(c, a, g, &v[i], &v[i].why);
        if (rc == GU_ENOMEM || rc == GU_EDB)
            return gu_err_set(err, rc, NULL, NULL, "%s", v[i].why.msg);
        v[i].ok = rc == 0;
        if (v[i].ok && v[i].data_end > end_max)
            end_max = v[i].data_end;
    }
    if (target >= 0 && !v[target].ok) {
        *err = v[target].why;
        return err->code ? err->code : GU_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!v[i].ok || v[i].data_end < end_max - GBT_RECENT_DAYS)
            continue;
        v[i].gbt_member = true;
        members++;
        if (v[i].data_end - bt_days(&v[i]) < bt_end)
            bt_end = v[i].data_end - bt_days(&v[i]);
    }
    if (members > 0) {
        if ((rc = train(a, g, v, n, bt_end, &bt_model)) < 0 ||
            (rc = train(a, g, v, n, end_max, &model)) < 0)
            return oom(err);
    }
    for (size_t i = 0; i < n; i++) {
        if (!v[i].ok || (target >= 0 && (long)i != target))
            continue;
        gu_err_clear(&v[i].why);
        rc = fit_one(a, g, &v[i], bt_model, model, &v[i].why);
        if (rc == GU_ENOMEM)
            return oom(err);
        if (rc < 0)
            v[i].ok = false;
    }
    if (target >= 0 && !v[target].ok) {
        *err = v[target].why;
        return err->code ? err->code : GU_EINVAL;
    }
    /* One transaction: the caller's when one is open. */
    if (own_tx && (rc = store_begin(c, err)) < 0)
        return rc;
    /* Only a commune fit stores the shared model: a series' own model
       must not replace it. */
    if (model && target < 0)
        rc = store_model(c, g->insee, v[0].s.kind, model, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!v[i].ok || (target >= 0 && (long)i != target))
            continue;
        rc = store_fit(c, g->insee, &v[i], err);
    }
    if (own_tx) {
        if (rc == 0)
            rc = store_commit(c, err);
        else
            store_rollback(c);
    }
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (target >= 0 && (long)i != target)
            continue;
        if (v[i].ok) {
            if (fitted)
                (*fitted)++;
        } else if (skipped) {
            (*skipped)++;
        }
    }
    return 0;
}

/* The active series of a kind in the commune that have data. */
static int
kind_series(struct store_conn *c, struct gu_arena *a, const char *insee,
            enum fc_kind kind, struct sdata **out, size_t *n,
            struct gu_err *err)
{
    struct fc_series *all = NULL;
    size_t nall = 0, k = 0;
    int rc;

    if ((rc = fc_series_list(c, a, insee, &all, &nall, err)) < 0)
        return rc;
    *out = gu_arena_zalloc(a, (nall + 1) * sizeof(**out));
    if (!*out)
        return oom(err);
    for (size_t i = 0; i < nall; i++) {
        if (all[i].kind != kind || !all[i].active || all[i].npoints == 0)
            continue;
        (*out)[k++].s = all[i];
    }
    *n = k;
    return 0;
}

int
fc_fit_series(struct store_conn *c, struct gu_arena *a, const char *insee,
              int64_t series_id, struct fc_fit *out, struct gu_err *err)
{
    struct sdata *v = NULL;
    struct group g;
    int rc;

    gu_err_clear(err);
    if (!(v = gu_arena_zalloc(a, sizeof(*v))))
        return oom(err);
    /* The series alone: its own model, trained in a second or two (the
       commune's shared one takes the whole commune's data and is
       retrained by fc_fit_commune, nightly). */
    if ((rc = fc_series_get(c, a, insee, series_id, &v->s, err)) < 0 ||
        (rc = group_open(c, a, insee, &g, err)) < 0 ||
        (rc = fit_group(c, a, &g, v, 1, 0, NULL, NULL, err)) < 0)
        return rc;
    if (out)
        *out = v[0].fit;
    gu_log_info("fc.fit", "insee=%s series=%lld method=%s seconds=%.2f", insee,
                (long long)series_id, v[0].fit.method, v[0].fit.seconds);
    return 0;
}

int
fc_fit_commune(struct store_conn *c, struct gu_arena *a, const char *insee,
               size_t *fitted, size_t *skipped, struct gu_err *err)
{
    struct group g;
    size_t nf = 0, ns = 0;
    int rc;

    gu_err_clear(err);
    if (fitted)
        *fitted = 0;
    if (skipped)
        *skipped = 0;
    if ((rc = group_open(c, a, insee, &g, err)) < 0)
        return rc;
    for (int k = FC_KIND_AUTRE; k <= FC_KIND_TELEPHONE; k++) {
        struct sdata *v = NULL;
        size_t n = 0;
        /* Each kind in its own arena: a commune's canteens can be big. */
        struct gu_arena *ka = gu_arena_new(1u << 20);
        if (!ka)
            return oom(err);
        rc = kind_series(c, ka, insee, (enum fc_kind)k, &v, &n, err);
        if (rc == 0 && n > 0)
            rc = fit_group(c, ka, &g, v, n, -1, &nf, &ns, err);
        gu_arena_free(ka);
        if (rc < 0)
            return rc;
    }
    if (fitted)
        *fitted = nf;
    if (skipped)
        *skipped = ns;
    gu_log_info("fc.fit_commune", "insee=%s fitted=%zu skipped=%zu", insee, nf,
                ns);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The stored fit                                                      */
/* ------------------------------------------------------------------ */

static double
json_num_or_nan(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

int
fc_fit_get(struct store_conn *c, struct gu_arena *a, const char *insee,
           int64_t series_id, struct fc_fit *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(series_id), STORE_T(insee)};
    struct store_rows *r = NULL;
    json_t *sc, *er;
    size_t i;
    int rc;

    gu_err_clear(err);
    memset(out, 0, sizeof(*out));
    rc = store_query(c, a,
                     "SELECT method, horizon, fitted_at, data_end, seconds, "
                     "scores, errors FROM fc_fits WHERE series_id = ? AND "
                     "insee = ?",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "series",
                          "Cette série n'a pas encore de prévision (lancez "
                          "le calcul).",
                          "no fit for %lld", (long long)series_id);
    out->series_id = series_id;
    out->method = store_text(r, 0, 0);
    out->label = method_label(out->method);
    out->horizon = (int)store_int(r, 0, 1);
    out->fitted_at = store_int(r, 0, 2);
    out->data_end = store_int(r, 0, 3);
    out->seconds = store_real(r, 0, 4);
    sc = gu_json_arena(a, json_loads(store_text(r, 0, 5), 0, NULL));
    er = gu_json_arena(a, json_loads(store_text(r, 0, 6), 0, NULL));
    if (!json_is_array(sc) || !json_is_array(er))
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "fc_fits %lld: bad json", (long long)series_id);
    out->scores = arena_array(a, json_array_size(sc), sizeof(*out->scores));
    out->errors = arena_array(a, json_array_size(er), sizeof(double));
    if (!out->scores || !out->errors)
        return oom(err);
    for (i = 0; i < json_array_size(sc); i++) {
        json_t *o = json_array_get(sc, i);
        struct fc_score *s = &out->scores[out->nscores];
        const char *m = json_string_value(json_object_get(o, "method"));
        json_t *sd = json_object_get(o, "short_days");
        json_t *nn = json_object_get(o, "n");

        if (!m)
            continue;
        memset(s, 0, sizeof(*s));
        s->method = gu_arena_strdup(a, m);
        s->label = method_label(m);
        s->m.n = json_is_integer(nn) ? (size_t)json_integer_value(nn) : 0;
        s->m.wape = json_num_or_nan(o, "wape");
        s->m.mape = json_num_or_nan(o, "mape");
        s->m.mae = json_num_or_nan(o, "mae");
        s->m.bias = json_num_or_nan(o, "bias");
        s->m.over = json_num_or_nan(o, "over");
        s->m.short_days =
            json_is_integer(sd) ? (size_t)json_integer_value(sd) : 0;
        if (!s->method)
            return oom(err);
        out->nscores++;
    }
    for (i = 0; i < json_array_size(er); i++) {
        json_t *x = json_array_get(er, i);
        if (json_is_number(x))
            out->errors[out->nerrors++] = json_number_value(x);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Days                                                                */
/* ------------------------------------------------------------------ */

/* The point forecast behind a stored P50 (see the file's comment). */
static double
reco_point(double p50, const double *errs, size_t n)
{
    double q = fcst_dist_quantile(1.0, errs, n, 0.5);

    return q > 0 && isfinite(q) ? p50 / q : p50;
}

static const char *
event_fr(enum fc_event_kind k)
{
    switch (k) {
    case FC_EVENT_GREVE:
        return "Grève";
    case FC_EVENT_EVENEMENT:
        return "Événement";
    case FC_EVENT_FERMETURE:
        return "Fermé";
    case FC_EVENT_PONT:
        return "Pont";
    }
    return "Événement";
}

static void
note_add(struct gu_buf *b, const char *s)
{
    if (b->n)
        gu_buf_puts(b, " ; ");
    gu_buf_puts(b, s);
}

int
fc_days(struct store_conn *c, struct gu_arena *a, const char *insee,
        int64_t series_id, int64_t day0, int64_t day1, double risk,
        struct fc_day **out, size_t *n, struct gu_err *err)
{
    struct fc_series s;
    struct fc_fit fit;
    struct fc_cal *cal = NULL;
    struct fc_event *ev = NULL;
    struct store_rows *fr = NULL, *ar = NULL;
    double *v = NULL, *st = NULL;
    size_t nev = 0, len, k = 0;
    unsigned skip;
    bool have_fit;
    enum gu_tz tz;
    struct gu_buf b;
    int rc;

    gu_err_clear(err);
    *out = NULL;
    *n = 0;
    if (day1 < day0)
        return gu_err_set(err, GU_EINVAL, "au",
                          "La fin de la période précède son début.",
                          "day1 < day0");
    if (day1 - day0 + 1 > FC_HISTORY_MAX)
        return gu_err_set(err, GU_ETOOBIG, "au",
                          "Période trop longue : 4000 jours au plus.",
                          "range too long");
    if (day0 < -25567 || day1 > 84000)
        return gu_err_set(err, GU_EINVAL, "du",
                          "La date doit être comprise entre 1900 et 2199.",
                          "bad day");
    if ((rc = fc_series_get(c, a, insee, series_id, &s, err)) < 0 ||
        (rc = commune_cal(c, a, insee, &cal, &tz, err)) < 0 ||
        (rc = daily_values(c, a, &s, tz, day0, day1, &v, &st, NULL, err)) < 0 ||
        (rc = fc_event_list(c, a, insee, series_id, day0, day1, &ev, &nev,
                            err)) < 0)
        return rc;
    {
        struct store_val p[4] = {STORE_I(series_id), STORE_T(insee),
                                 STORE_I(day0), STORE_I(day1)};
        if ((rc = store_query(c, a,
                              "SELECT t, method, p10, p50, p90 FROM "
                              "fc_forecasts WHERE series_id = ? AND insee = "
                              "? AND t >= ? AND t <= ? ORDER BY t",
                              p, 4, &fr, err)) < 0 ||
            (rc = store_query(c, a,
                              "SELECT t FROM fc_alerts WHERE series_id = ? "
                              "AND insee = ? AND t >= ? AND t <= ? ORDER BY "
                              "t",
                              p, 4, &ar, err)) < 0)
            return rc;
    }
    rc = fc_fit_get(c, a, insee, series_id, &fit, err);
    if (rc < 0 && rc != GU_ENOTFOUND)
        return rc;
    have_fit = rc == 0;
    gu_err_clear(err);
    if (isnan(risk))
        risk = s.risk > 0 ? s.risk : 0.05;
    skip = weekday_bits(s.closed_weekdays);
    len = (size_t)(day1 - day0 + 1);
    *out = gu_arena_zalloc(a, len * sizeof(**out));
    if (!*out)
        return oom(err);
    gu_buf_init(&b);
    for (size_t i = 0; i < len; i++) {
        struct fc_day *d = &(*out)[i];
        struct fc_cal_day f;
        const struct store_rows *rr = fr;

        d->t = day0 + (int64_t)i;
        d->actual = v[i];
        d->staff = st ? st[i] : NAN;
        d->p10 = d->p50 = d->p90 = NAN;
        d->reco.order = d->reco.p_short = NAN;
        while (k < rr->nrows && store_int(rr, k, 0) < d->t)
            k++;
        if (k < rr->nrows && store_int(rr, k, 0) == d->t) {
            d->method = store_text(rr, k, 1);
            d->p10 = store_real(rr, k, 2);
            d->p50 = store_real(rr, k, 3);
            d->p90 = store_real(rr, k, 4);
            if (have_fit)
                fcst_recommend(reco_point(d->p50, fit.errors, fit.nerrors),
                               fit.errors, fit.nerrors, risk, s.meal_kg,
                               s.meal_cost, &d->reco);
        }
        for (size_t j = 0; j < ar->nrows; j++)
            if (store_int(ar, j, 0) == d->t)
                d->alert = true;
        /* The calendar note. */
        b.n = 0;
        if (b.p)
            b.p[0] = '\0';
        fc_cal_day(cal, d->t, &f);
        if (f.holiday) {
            char t[120];
            snprintf(t, sizeof(t), "Férié (%s)", f.holiday);
            note_add(&b, t);
        }
        d->school_unknown = fc_cal_has_school(cal) && !f.school_known;
        if (f.school_known && f.school_holiday)
            note_add(&b, f.school_holiday);
        else if (f.bridge)
            note_add(&b, "Pont");
        for (size_t j = 0; j < nev; j++) {
            if (ev[j].day != d->t)
                continue;
            note_add(&b, event_fr(ev[j].kind));
            if (ev[j].label && *ev[j].label) {
                gu_buf_puts(&b, " : ");
                gu_buf_puts(&b, ev[j].label);
            }
        }
        if ((skip >> gu_day_weekday(d->t)) & 1)
            note_add(&b, "Fermé (jour sans service)");
        if (b.oom) {
            gu_buf_fini(&b);
            return oom(err);
        }
        d->note = b.n ? gu_arena_strndup(a, b.p, b.n) : NULL;
        if (b.n && !d->note) {
            gu_buf_fini(&b);
            return oom(err);
        }
    }
    gu_buf_fini(&b);
    *n = len;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Alerts                                                              */
/* ------------------------------------------------------------------ */

/* « 1 234,5 » with a French decimal comma (1 decimal, or none for whole
   numbers). */
static void
num_fr(double x, char *buf, size_t cap)
{
    gu_num_fr(x, 1, GU_NUM_TRIM, "", buf, cap);
}

static int
alert_mail(struct store_conn *c, struct gu_arena *a, const char *base,
           const struct fc_series *s, int64_t day, double value, double lo,
           double hi, struct gu_err *err)
{
    struct notify_mail m;
    char when[48], dd[16], vv[32], l[32], h[32];
    int y, mo, d;

    gu_day_fr(day, when, sizeof(when));
    gu_day_to_ymd(day, &y, &mo, &d);
    snprintf(dd, sizeof(dd), "%02d/%02d/%04d", d, mo, y);
    num_fr(value, vv, sizeof(vv));
    num_fr(lo, l, sizeof(l));
    num_fr(hi, h, sizeof(h));
    memset(&m, 0, sizeof(m));
    m.insee = s->insee;
    m.to = s->alert_to;
    m.kind = "fc.alert";
    m.subject = gu_arena_sprintf(a, "Alerte prévision : %s le %s", s->name, dd);
    m.text = gu_arena_sprintf(
        a,
        "Bonjour,\n\n"
        "La valeur relevée pour la série « %s » sort de l'intervalle "
        "attendu.\n\n"
        "Jour : %s\n"
        "Valeur relevée : %s%s%s\n"
        "Intervalle d’alerte (deux fois l’intervalle P10 à P90 autour "
        "de la prévision médiane) : %s à %s%s%s\n\n"
        "Voir la série : %s/agent/previsions/%lld\n\n"
        "Ce message est envoyé automatiquement par Guichet. Une fuite, un "
        "compteur défaillant ou une saisie erronée peuvent en être la "
        "cause.\n",
        s->name, when, vv, *s->unit ? " " : "", s->unit, l, h,
        *s->unit ? " " : "", s->unit, base ? base : "", (long long)s->id);
    if (!m.subject || !m.text)
        return oom(err);
    return notify_mail_queue(c, &m, NULL, err);
}

/* Scan one series: the days with a stored interval and a complete actual
   not yet alerted. */
static int
scan_series(struct store_conn *c, struct gu_arena *a, enum gu_tz tz,
            const char *base, const struct fc_series *s, size_t *created,
            struct gu_err *err)
{
    struct store_rows *r = NULL;
    double *v = NULL, *st = NULL;
    int64_t d0, d1, complete = 0, last;
    int rc;

    if (s->npoints == 0)
        return 0;
    last = s->freq == FC_FREQ_DAY ? s->last_t : day_of(tz, s->last_t);
    {
        struct store_val p[4] = {STORE_I(s->id), STORE_T(s->insee),
                                 STORE_I(last), STORE_I(ALERTS_PER_SCAN)};
        rc = store_query(c, a,
                         "SELECT f.t, f.p10, f.p90, f.p50 FROM fc_forecasts f "
                         "WHERE f.series_id = ? AND f.insee = ? AND f.t <= ? "
                         "AND f.p90 > f.p10 AND NOT EXISTS (SELECT 1 FROM "
                         "fc_alerts x WHERE x.series_id = f.series_id AND "
                         "x.t = f.t) ORDER BY f.t DESC LIMIT ?",
                         p, 4, &r, err);
    }
    if (rc < 0 || r->nrows == 0)
        return rc;
    d1 = store_int(r, 0, 0);
    d0 = store_int(r, r->nrows - 1, 0);
    if ((rc = daily_values(c, a, s, tz, d0, d1, &v, &st, &complete, err)) < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++) {
        int64_t t = store_int(r, i, 0);
        double x = v[t - d0], p10 = store_real(r, i, 1),
               p90 = store_real(r, i, 2), p50 = store_real(r, i, 3);
        double lo = p50 - ALERT_WIDEN * (p50 - p10),
               hi = p50 + ALERT_WIDEN * (p90 - p50);
        int64_t changes = 0;

        if (lo < 0)
            lo = 0;

        if (isnan(x) || t > complete || (x >= lo && x <= hi))
            continue;
        {
            struct store_val p[7] = {
                STORE_T(s->insee), STORE_I(s->id), STORE_I(t),       STORE_D(x),
                STORE_D(lo),       STORE_D(hi),    STORE_I(gu_now())};
            rc = store_exec_changes(c,
                                    "INSERT INTO fc_alerts (insee, "
                                    "series_id, t, value, lo, hi, "
                                    "created_at) VALUES (?,?,?,?,?,?,?) ON "
                                    "CONFLICT (series_id, t) DO NOTHING",
                                    p, 7, &changes, err);
        }
        if (rc < 0)
            return rc;
        if (changes == 0)
            continue;
        (*created)++;
        if (s->alert_to && *s->alert_to &&
            (rc = alert_mail(c, a, base, s, t, x, lo, hi, err)) < 0)
            return rc;
        gu_log_info("fc.alert", "insee=%s series=%lld day=%lld", s->insee,
                    (long long)s->id, (long long)t);
    }
    return 0;
}

int
fc_alerts_scan_base(struct store_conn *c, struct gu_arena *a, const char *insee,
                    const char *base, size_t *created, struct gu_err *err)
{
    struct store_commune m;
    struct fc_series *all = NULL;
    size_t nall = 0, made = 0;
    enum gu_tz tz;
    bool own_tx = !store_in_tx(c);
    int rc;

    gu_err_clear(err);
    if (created)
        *created = 0;
    if ((rc = store_commune_get(c, a, insee, &m, err)) < 0 ||
        (rc = fc_series_list(c, a, insee, &all, &nall, err)) < 0)
        return rc;
    tz = gu_tz_of_zone(m.zone ? m.zone : "");
    if (own_tx && (rc = store_begin(c, err)) < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < nall; i++) {
        if (!all[i].active || (all[i].kind != FC_KIND_EAU &&
                               !(all[i].alert_to && *all[i].alert_to)))
            continue;
        rc = scan_series(c, a, tz, base, &all[i], &made, err);
    }
    if (own_tx) {
        if (rc == 0)
            rc = store_commit(c, err);
        else
            store_rollback(c);
    }
    if (rc == 0 && created)
        *created = made;
    return rc;
}

int
fc_alerts_scan(struct store_conn *c, struct gu_arena *a, const char *insee,
               size_t *created, struct gu_err *err)
{
    return fc_alerts_scan_base(c, a, insee, "", created, err);
}

int
fc_alert_list(struct store_conn *c, struct gu_arena *a, const char *insee,
              bool open_only, struct fc_alert **out, size_t *n,
              struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_I(open_only ? 1 : 0)};
    struct store_rows *r = NULL;
    int rc;

    gu_err_clear(err);
    *out = NULL;
    *n = 0;
    rc = store_query(c, a,
                     "SELECT x.id, x.series_id, x.t, s.name, x.value, x.lo, "
                     "x.hi, x.created_at, x.seen_at FROM fc_alerts x JOIN "
                     "fc_series s ON s.id = x.series_id WHERE x.insee = ? "
                     "AND (? = 0 OR x.seen_at = 0) ORDER BY x.t DESC, x.id "
                     "DESC LIMIT 1000",
                     p, 2, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    *out = gu_arena_zalloc(a, r->nrows * sizeof(**out));
    if (!*out)
        return oom(err);
    for (size_t i = 0; i < r->nrows; i++) {
        struct fc_alert *x = &(*out)[i];
        x->id = store_int(r, i, 0);
        x->series_id = store_int(r, i, 1);
        x->t = store_int(r, i, 2);
        x->series_name = store_text(r, i, 3);
        x->value = store_real(r, i, 4);
        x->lo = store_real(r, i, 5);
        x->hi = store_real(r, i, 6);
        x->created_at = store_int(r, i, 7);
        x->seen_at = store_int(r, i, 8);
    }
    *n = r->nrows;
    return 0;
}

int
fc_alert_seen(struct store_conn *c, const char *insee, int64_t id,
              struct gu_err *err)
{
    struct store_val p[3] = {STORE_I(gu_now()), STORE_I(id), STORE_T(insee)};
    struct store_val q[2] = {STORE_I(id), STORE_T(insee)};
    struct gu_arena *a;
    struct store_rows *r = NULL;
    int64_t changes = 0;
    int rc;

    gu_err_clear(err);
    rc = store_exec_changes(c,
                            "UPDATE fc_alerts SET seen_at = ? WHERE id = ? "
                            "AND insee = ? AND seen_at = 0",
                            p, 3, &changes, err);
    if (rc < 0 || changes > 0)
        return rc;
    /* Already seen is fine; unknown (or another commune's) is not. */
    if (!(a = gu_arena_new(256)))
        return oom(err);
    rc = store_query(c, a, "SELECT 1 FROM fc_alerts WHERE id = ? AND insee = ?",
                     q, 2, &r, err);
    if (rc == 0 && r->nrows == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, "id", "Cette alerte n'existe pas.",
                        "no alert %lld", (long long)id);
    gu_arena_free(a);
    return rc;
}
