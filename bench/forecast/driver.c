/*
 * driver.c - the Nantes canteen bench (issue 6): reads
 * frequentation.csv of ../shared/data/nantes-cantines directly, runs the
 * backtest of every method of fc_models.h on each canteen and pools the
 * figures, the staff's own `prevision` alongside on the same rows. Then
 * the gradient-boosted model of fc_gbt.h (one model for all canteens,
 * with strikes from greves.csv, menus from menus.csv, headcounts from
 * effectifs.csv through the two mapping files, the canteen type as group)
 * on the same rows, and the recommendation of fc_reco.h: its setting is
 * chosen on the school year before the test year (never on the test
 * year), with a week-block bootstrap margin (fcst_risk_choose), the whole
 * curve of every setting printed for both years.
 *
 * Protocol (../shared/data/README.md): canteen = (site_nom, site_type);
 * rows of the test window, Wednesdays skipped, rows with a missing or zero
 * `reel` or a missing `prevision` skipped; forecast of day D uses `reel`
 * up to D-h only; models fitted on data up to --train-end, refitted every
 * --refit days on data up to D-h (0 = never). --year-ahead: every day
 * forecast from data up to --train-end only.
 *
 * Output: a French table, or with --json one JSON object per line and
 * method: method, wape, bias, overproduction (in percent), short_days, n,
 * plus mape, mae, variant. Exit 0 with a message when the data is absent.
 */
#include "core/core.h"
#include "forecast/fc_cal.h"
#include "forecast/fc_gbt.h"
#include "forecast/fc_models.h"
#include "forecast/fc_reco.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SITES 1000
#define MAX_LINE 4096

struct site {
    char key[256]; /* "site_nom|site_type" */
    double *v, *staff;
    int16_t *week;
    double *pupils; /* headcount of its schools, NAN unknown */
    double *gbt;    /* rolling gbt forecasts (any service day) */
    int group;      /* 1 = M, 2 = E, 3 = M/E */
};

static int64_t
days_from_civil(int y, int m, int d)
{
    /* H. Hinnant's algorithm: days since 1970-01-01. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
parse_date(const char *s, int64_t *day, int *year, int *month)
{
    int y, m, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
        d < 1 || d > 31)
        return -1;
    *day = days_from_civil(y, m, d);
    if (year)
        *year = y;
    if (month)
        *month = m;
    return 0;
}

static void
day_iso(int64_t z, char *buf, size_t cap)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    snprintf(buf, cap, "%04d-%02d-%02d", (int)(y + (m <= 2)), (int)m, (int)d);
}

/* Week of the school year: 0 = the Monday-to-Sunday week holding
   1 September (school years start in September). */
static int16_t
school_week(int64_t day)
{
    char iso[16];
    day_iso(day, iso, sizeof iso);
    int y = (int)strtol(iso, NULL, 10), m = (int)strtol(iso + 5, NULL, 10);
    int sy = m >= 9 ? y : y - 1;
    int64_t sep1 = days_from_civil(sy, 9, 1);
    int64_t monday = sep1 - (fcst_weekday(sep1) - 1);
    return (int16_t)((day - monday) / 7);
}

/* Splits a CSV line (no quoted fields in this file) into at most `max`
   fields, in place. */
static int
split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    char *nl = strpbrk(f[n - 1], "\r\n");
    if (nl)
        *nl = '\0';
    return n;
}

/* Splits a CSV line with "quoted" fields ("" inside) in place. */
static int
split_quoted(char *line, char **f, int max)
{
    int n = 0;
    char *p = line, *w;
    while (n < max) {
        if (*p == '"') {
            f[n++] = w = ++p;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"')
                    p++;
                *w++ = *p++;
            }
            if (*p == '"')
                p++; /* now w < p: the terminator below cannot hide *p */
            char next = *p;
            *w = '\0';
            if (next != ',')
                break;
            p++;
        } else {
            f[n++] = p;
            char *c = strchr(p, ',');
            if (!c)
                break;
            *c = '\0';
            p = c + 1;
        }
    }
    char *nl = strpbrk(f[n - 1], "\r\n");
    if (nl)
        *nl = '\0';
    return n;
}

static int
number(const char *s, double *out)
{
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Side files: strikes, menus, headcounts                              */
/* ------------------------------------------------------------------ */

/* greves.csv (date,greve): a strike for every canteen (series 0). */
static size_t
load_strikes(const char *dir, struct fc_cal_event *ev, size_t cap)
{
    char path[4096], line[MAX_LINE];
    snprintf(path, sizeof path, "%s/greves.csv", dir);
    FILE *in = fopen(path, "r");
    if (!in)
        return 0;
    size_t n = 0;
    while (fgets(line, sizeof line, in) && n < cap) {
        char *f[3];
        int64_t d;
        if (split_quoted(line, f, 3) < 2 || parse_date(f[0], &d, NULL, NULL) ||
            strcmp(f[1], "1"))
            continue;
        ev[n++] = (struct fc_cal_event){d, 0, "greve"};
    }
    fclose(in);
    fc_cal_events_sort(ev, n);
    return n;
}

/* menus.csv (dd/mm/yyyy,rang,plat): the same menu in every canteen, one
   dish per line, turned into FC_MENU_* flags. */
static void
load_menus(const char *dir, int64_t dmin, size_t n, unsigned *flags)
{
    char path[4096], line[MAX_LINE];
    snprintf(path, sizeof path, "%s/menus.csv", dir);
    FILE *in = fopen(path, "r");
    if (!in)
        return;
    char **txt = calloc(n, sizeof *txt);
    size_t *len = calloc(n, sizeof *len);
    if (!txt || !len)
        goto out;
    while (fgets(line, sizeof line, in)) {
        char *f[3];
        int d, m, y;
        char tail;
        if (split_quoted(line, f, 3) < 3 ||
            sscanf(f[0], "%2d/%2d/%4d%c", &d, &m, &y, &tail) != 3)
            continue;
        int64_t day = days_from_civil(y, m, d);
        if (day < dmin || day >= dmin + (int64_t)n)
            continue;
        size_t i = (size_t)(day - dmin), add = strlen(f[2]);
        char *t = realloc(txt[i], len[i] + add + 2);
        if (!t)
            goto out;
        memcpy(t + len[i], f[2], add);
        len[i] += add;
        t[len[i]++] = '\n';
        t[len[i]] = '\0';
        txt[i] = t;
    }
    struct gu_arena *a = gu_arena_new(0);
    for (size_t i = 0; a && i < n; i++) {
        if (!txt[i])
            continue;
        struct gu_arena *day = gu_arena_new(0);
        if (day)
            flags[i] = fc_menu_flags(day, txt[i], len[i]);
        gu_arena_free(day);
    }
    gu_arena_free(a);
out:
    if (txt)
        for (size_t i = 0; i < n; i++)
            free(txt[i]);
    free(txt);
    free(len);
    fclose(in);
}

/* effectifs.csv (ecole, "2016-2017", effectif) -> school -> canteen
   (mapping_ecoles_cantines.csv) -> attendance site
   (mapping_frequentation_cantines.csv): the headcount of a site is the sum
   of its schools' for each day of the school year (Sept. to Aug.). */
static void
load_headcounts(const char *dir, struct site *sites, size_t nsites,
                int64_t dmin, size_t n)
{
    enum { MAXMAP = 1000 };
    static char school[MAXMAP][128], canteen[MAXMAP][128];
    static char fcanteen[MAXMAP][128], fsite[MAXMAP][256];
    size_t ns = 0, nf = 0;
    char path[4096], line[MAX_LINE];
    snprintf(path, sizeof path, "%s/mapping_ecoles_cantines.csv", dir);
    FILE *in = fopen(path, "r");
    if (!in)
        return;
    while (fgets(line, sizeof line, in) && ns < MAXMAP) {
        char *f[3];
        if (split_quoted(line, f, 3) < 3)
            continue;
        snprintf(school[ns], sizeof school[ns], "%s", f[0]);
        snprintf(canteen[ns], sizeof canteen[ns], "%s|%s", f[1], f[2]);
        ns++;
    }
    fclose(in);
    snprintf(path, sizeof path, "%s/mapping_frequentation_cantines.csv", dir);
    if (!(in = fopen(path, "r")))
        return;
    while (fgets(line, sizeof line, in) && nf < MAXMAP) {
        char *f[4];
        if (split_quoted(line, f, 4) < 4)
            continue;
        snprintf(fsite[nf], sizeof fsite[nf], "%s|%s", f[0], f[1]);
        snprintf(fcanteen[nf], sizeof fcanteen[nf], "%s|%s", f[2], f[3]);
        nf++;
    }
    fclose(in);
    snprintf(path, sizeof path, "%s/effectifs.csv", dir);
    if (!(in = fopen(path, "r")))
        return;
    while (fgets(line, sizeof line, in)) {
        char *f[3];
        double eff;
        int y0;
        if (split_quoted(line, f, 3) < 3 || number(f[2], &eff) ||
            sscanf(f[1], "%4d", &y0) != 1)
            continue;
        for (size_t i = 0; i < ns; i++) {
            if (strcmp(school[i], f[0]))
                continue;
            for (size_t j = 0; j < nf; j++) {
                if (strcmp(fcanteen[j], canteen[i]))
                    continue;
                for (size_t k = 0; k < nsites; k++) {
                    if (strcmp(sites[k].key, fsite[j]))
                        continue;
                    int64_t a = days_from_civil(y0, 9, 1) - dmin;
                    int64_t b = days_from_civil(y0 + 1, 8, 31) - dmin;
                    for (int64_t t = a < 0 ? 0 : a; t <= b && t < (int64_t)n;
                         t++) {
                        double *p = &sites[k].pupils[t];
                        *p = isnan(*p) ? eff : *p + eff;
                    }
                }
            }
        }
    }
    fclose(in);
}

/* ------------------------------------------------------------------ */
/* The gradient-boosted model                                          */
/* ------------------------------------------------------------------ */

struct gbt_opts {
    int refit; /* days between refits */
    int rounds, depth, threads;
    double eta;
    double risk;       /* NAN = chosen on the validation year */
    const char *cache; /* file of the rolling gbt forecasts, or NULL */
    int errors;        /* latest errors read per recommendation */
    int pooled;        /* --reco-pooled: errors pooled by class of day */
};

static double
now_wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double
now_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Timing of the gbt runs. */
struct gbt_times {
    double fit_wall_first, fit_cpu_first; /* the fit on data up to the
                                             first test origin */
    double fit_wall_total;
    int fits;
    double predict_wall;
    size_t predictions;
};

/* A day of site k the gbt forecasts: an actual > 0 on a day with
   service. */
static int
gbt_day(const struct site *s, size_t i, int64_t dmin, unsigned skip)
{
    return s->v[i] > 0 && !((skip >> fcst_weekday(dmin + (int64_t)i)) & 1u);
}

/*
 * Rolling origin for gbt from `from` to test_end: models fitted on data
 * up to the start of each block minus the horizon (a block starts at
 * `from`, every o->refit days, and at test_start), each day forecast from
 * data up to D - h. Fills sites[k].gbt.
 */
static int
gbt_rolling(const struct fcst_gbt_ctx *ctx, struct site *sites,
            struct fcst_gbt_series *gs, size_t nsites, int64_t dmin, size_t n,
            int64_t from, int64_t test_start, int64_t test_end, int horizon,
            const struct gbt_opts *o, struct gbt_times *t)
{
    int64_t *days = malloc(n * sizeof *days), *orig = malloc(n * sizeof *orig);
    double *out = malloc(n * sizeof *out);
    if (!days || !orig || !out) {
        free(days), free(orig), free(out);
        return -1;
    }
    int rc = 0;
    for (int64_t a = from; a <= test_end && !rc;) {
        int64_t b = a + o->refit - 1;
        if (a < test_start && b >= test_start)
            b = test_start - 1;
        if (b > test_end)
            b = test_end;
        struct fcst_gbt_params p = {.horizon = horizon,
                                    .rounds = o->rounds,
                                    .max_depth = o->depth,
                                    .eta = o->eta,
                                    .threads = o->threads,
                                    .seed = 1};
        struct fcst_gbt *m = NULL;
        struct gu_err err = {0};
        double w0 = now_wall(), c0 = now_cpu();
        if (fcst_gbt_train(ctx, gs, nsites, a - horizon, &p, &m, &err)) {
            fprintf(stderr, "nantes : gbt : %s (%s)\n", err.user, err.msg);
            rc = -1;
            break;
        }
        double w1 = now_wall();
        if (a == test_start) {
            t->fit_wall_first = w1 - w0;
            t->fit_cpu_first = now_cpu() - c0;
        }
        t->fit_wall_total += w1 - w0;
        t->fits++;
        for (size_t k = 0; k < nsites && !rc; k++) {
            size_t nd = 0;
            for (int64_t d = a; d <= b; d++) {
                size_t i = (size_t)(d - dmin);
                if (d < dmin || i >= n ||
                    !gbt_day(&sites[k], i, dmin, gs[k].skip_weekdays))
                    continue;
                days[nd] = d;
                orig[nd] = d - horizon;
                nd++;
            }
            double p0 = now_wall();
            if (nd && fcst_gbt_predict_many(m, ctx, &gs[k], days, orig, nd, out,
                                            &err)) {
                fprintf(stderr, "nantes : gbt : %s\n", err.msg);
                rc = -1;
            }
            t->predict_wall += now_wall() - p0;
            t->predictions += nd;
            for (size_t j = 0; j < nd && !rc; j++)
                sites[k].gbt[days[j] - dmin] = out[j];
        }
        fcst_gbt_free(m);
        a = b + 1;
    }
    free(days), free(orig), free(out);
    return rc;
}

/* A test row of the protocol: in the window, actual > 0, weekday with
   service, staff forecast present. */
static int
is_row(const struct site *s, size_t i, int64_t dmin, int64_t a, int64_t b,
       unsigned skip)
{
    int64_t d = dmin + (int64_t)i;
    return d >= a && d <= b && gbt_day(s, i, dmin, skip) && !isnan(s->staff[i]);
}

/*
 * The recommendation settings tried in one pass. Three families:
 *  - RISK: the order is the quantile 1 - risk of the day's distribution
 *    (fcst_recommend), the same risk for every canteen-day;
 *  - LAMBDA: the order minimises expected surplus + lambda * P(short)
 *    over the day's distribution (lambda in meals: what one short day is
 *    worth), so a day whose distribution is narrow in meals (a small
 *    canteen, a small day) gets a higher quantile than a wide one: for a
 *    given expected count of short days, the least expected surplus
 *    (Lagrangian of « fewest meals thrown away for at most K short days »);
 *  - LAMBDA_REL: the same with lambda times the canteen's level (mean of
 *    its actuals known at the origin): the trade-off moves between the days
 *    of one canteen only, every canteen keeps its share of short days.
 */
static int
cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum set_kind { SET_RISK, SET_LAMBDA, SET_LAMBDA_REL };
#define NSET_MAX 200
static double set_val[NSET_MAX];
static enum set_kind set_kind[NSET_MAX];
static int nset, nrisk; /* settings [0, nrisk) are the risks */

static void
settings_init(void)
{
    static const double coarse[] = {0.005, 0.01, 0.02, 0.03, 0.04,
                                    0.05,  0.06, 0.07, 0.08, 0.09};
    nset = 0;
    for (size_t i = 0; i < sizeof coarse / sizeof coarse[0]; i++)
        set_kind[nset] = SET_RISK, set_val[nset++] = coarse[i];
    for (int i = 0; i <= 40; i++) /* 0.100 .. 0.300 every 0.005 */
        set_kind[nset] = SET_RISK, set_val[nset++] = 0.1 + 0.005 * i;
    for (int i = 1; i <= 10; i++)
        set_kind[nset] = SET_RISK, set_val[nset++] = 0.3 + 0.02 * i;
    nrisk = nset;
    for (int i = 0; i < 70; i++) /* 15 .. ~60 meals, geometric */
        set_kind[nset] = SET_LAMBDA, set_val[nset++] = 15.0 * pow(1.02, i);
    for (int i = 0; i < 40; i++) /* 0.12 .. ~0.35 times the level */
        set_kind[nset] = SET_LAMBDA_REL, set_val[nset++] = 0.12 * pow(1.03, i);
}

#define NWEEK 64
#define RECO_FAMILY SET_RISK /* the family of "reco" in --json */
#define RECO_ALPHA 0.10      /* the margin: see fcst_risk_choose */
/* Where the orders of one window go: per setting, the pooled figures and
   the short days per week of the window (for the bootstrap of the
   choice). */
struct reco_sink {
    int64_t a;                     /* first day of the window */
    struct fcst_acc acc[NSET_MAX]; /* orders vs actuals */
    double surplus[NSET_MAX];      /* meals ordered above the actual */
    struct fcst_acc staff;         /* the staff on the same rows */
    size_t no_dist;                /* rows ordering the point forecast */
    int wshort[NSET_MAX][NWEEK];   /* short days per week */
    int wstaff[NWEEK];             /* the staff's */
};

static void
sink_init(struct reco_sink *k, int64_t a)
{
    memset(k, 0, sizeof *k);
    k->a = a;
    for (int r = 0; r < NSET_MAX; r++)
        fcst_acc_init(&k->acc[r]);
    fcst_acc_init(&k->staff);
}

static void
sink_add(struct reco_sink *k, int r, int64_t d, double actual, double order)
{
    int w = (int)((d - k->a) / 7);
    if (w >= NWEEK)
        w = NWEEK - 1;
    fcst_acc_add(&k->acc[r], actual, order);
    k->surplus[r] += order > actual ? order - actual : 0;
    k->wshort[r][w] += order < actual;
}

/* Orders of one row for every setting: point forecast f, relative errors
   errs[0..cnt) (cnt 0 = no distribution: the point is ordered), level =
   the canteen's level for SET_LAMBDA_REL. */
#define NLEVELS 121 /* candidate orders: quantiles 0.40 .. 1.00 */
static void
reco_row(struct reco_sink *k, int64_t d, double actual, double staff, double f,
         const double *errs, size_t cnt, double level)
{
    double o[FCST_RECO_ERRORS], pre[FCST_RECO_ERRORS + 1];
    double lo[NLEVELS], es[NLEVELS], ps[NLEVELS];
    int w = (int)((d - k->a) / 7);
    if (w >= NWEEK)
        w = NWEEK - 1;
    fcst_acc_add(&k->staff, actual, staff);
    k->wstaff[w] += staff < actual;
    size_t m = 0;
    for (size_t i = 0; i < cnt && m < FCST_RECO_ERRORS; i++)
        if (isfinite(errs[i])) {
            double x = f * (1.0 + errs[i]);
            o[m++] = x > 0 ? x : 0;
        }
    if (cnt == 0 || m < FCST_RECO_MIN_ERRORS) {
        k->no_dist++;
        for (int r = 0; r < nset; r++)
            sink_add(k, r, d, actual, ceil(f));
        return;
    }
    for (int r = 0; r < nrisk; r++) {
        struct fcst_reco rec;
        fcst_recommend(f, errs, cnt, set_val[r], 0, 0, &rec);
        sink_add(k, r, d, actual, isnan(rec.order) ? ceil(f) : rec.order);
    }
    qsort(o, m, sizeof o[0], cmp_dbl);
    pre[0] = 0;
    for (size_t i = 0; i < m; i++)
        pre[i + 1] = pre[i] + o[i];
    for (int l = 0; l < NLEVELS; l++) {
        double q = 0.40 + 0.005 * l, pos = q * (double)(m - 1);
        size_t i0 = (size_t)pos;
        double v = i0 + 1 < m ? o[i0] + (pos - (double)i0) * (o[i0 + 1] - o[i0])
                              : o[m - 1];
        double ord = ceil(v - 1e-9);
        size_t c = 0; /* outcomes <= ord */
        while (c < m && o[c] <= ord + 1e-9)
            c++;
        lo[l] = ord;
        es[l] = ((double)c * ord - pre[c]) / (double)m;
        ps[l] = (double)(m - c) / (double)m;
    }
    for (int r = nrisk; r < nset; r++) {
        double lam = set_val[r] * (set_kind[r] == SET_LAMBDA_REL ? level : 1);
        int best = 0;
        for (int l = 1; l < NLEVELS; l++)
            if (es[l] + lam * ps[l] < es[best] + lam * ps[best] - 1e-12)
                best = l;
        sink_add(k, r, d, actual, lo[best]);
    }
}

/* Mean of the actuals of the days whose errors are e[from..j). */
static double
level_of(const struct site *s, const int64_t *ed, size_t from, size_t j,
         int64_t dmin)
{
    double sum = 0;
    for (size_t q = from; q < j; q++)
        sum += s->v[ed[q] - dmin];
    return j > from ? sum / (double)(j - from) : NAN;
}

/*
 * Orders of the rows in [a, b] for every setting: the gbt point forecast
 * and the relative errors (actual - f) / f of the same canteen's gbt
 * forecasts whose actual was known at the origin D - h (the latest
 * nerr).
 */
static void
reco_pool(struct site *sites, size_t nsites, int64_t dmin, size_t n, int64_t a,
          int64_t b, int horizon, unsigned skip, size_t nerr,
          struct reco_sink *sink)
{
    double *e = malloc(n * sizeof *e);
    int64_t *ed = malloc(n * sizeof *ed);
    if (!e || !ed) {
        free(e), free(ed);
        return;
    }
    for (size_t k = 0; k < nsites; k++) {
        const struct site *s = &sites[k];
        size_t ne = 0;
        for (size_t i = 0; i < n; i++)
            if (s->v[i] > 0 && s->gbt[i] > 0) {
                e[ne] = (s->v[i] - s->gbt[i]) / s->gbt[i];
                ed[ne++] = dmin + (int64_t)i;
            }
        size_t j = 0; /* errors e[0..j) known at the origin */
        for (size_t i = 0; i < n; i++) {
            int64_t d = dmin + (int64_t)i;
            if (!is_row(s, i, dmin, a, b, skip))
                continue;
            while (j < ne && ed[j] <= d - horizon)
                j++;
            double f = s->gbt[i];
            if (isnan(f))
                continue;
            size_t from = j > nerr ? j - nerr : 0;
            reco_row(sink, d, s->v[i], s->staff[i], f, e + from, j - from,
                     level_of(s, ed, from, j, dmin));
        }
    }
    free(e), free(ed);
}

/* Pooled variant (--reco-pooled): relative errors scaled by their
   canteen's mean |e| (z = e / s), pooled over all canteens by class of
   day, the latest POOL_SPAN of the row's class known at the origin (one
   in POOL_STEP kept), times the row's canteen's s. */
#define POOL_SPAN 1000
#define POOL_STEP 5
struct pz {
    int64_t day;
    double z;
};

static int
day_class(const struct fc_cal *cal, int64_t d)
{
    struct fc_cal_day f;
    fc_cal_day(cal, d, &f);
    if (f.school_week >= 1 && f.school_week <= 3)
        return 1;
    if ((f.month == 6 || f.month == 7) && f.days_to_school_holiday <= 10)
        return 2;
    if (f.eve_school_holiday || f.first_day_back || f.bridge || f.eve_holiday)
        return 3;
    return 0;
}

static int
cmp_pz(const void *a, const void *b)
{
    int64_t x = ((const struct pz *)a)->day, y = ((const struct pz *)b)->day;
    return (x > y) - (x < y);
}

static void
reco_pool_pooled(const struct fc_cal *cal, struct site *sites, size_t nsites,
                 int64_t dmin, size_t n, int64_t a, int64_t b, int horizon,
                 unsigned skip, struct reco_sink *sink)
{
    struct pz *pool[4];
    size_t np[4] = {0};
    double *e = malloc(n * sizeof *e), *sc = malloc(n * sizeof *sc);
    int64_t *ed = malloc(n * sizeof *ed);
    for (int c = 0; c < 4; c++)
        pool[c] = malloc(nsites * n * sizeof(struct pz));
    if (!e || !sc || !ed || !pool[0] || !pool[1] || !pool[2] || !pool[3])
        goto out;
    /* Pass 1: the pools. */
    for (size_t k = 0; k < nsites; k++) {
        const struct site *s = &sites[k];
        size_t ne = 0;
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            if (!(s->v[i] > 0 && s->gbt[i] > 0))
                continue;
            e[ne] = (s->v[i] - s->gbt[i]) / s->gbt[i];
            if (ne >= 10) {
                double sk = sum / (double)(ne < 200 ? ne : 200);
                int c = day_class(cal, dmin + (int64_t)i);
                if (sk > 0)
                    pool[c][np[c]++] =
                        (struct pz){dmin + (int64_t)i, e[ne] / sk};
            }
            sum += fabs(e[ne]);
            if (ne >= 200)
                sum -= fabs(e[ne - 200]);
            ne++;
        }
    }
    for (int c = 0; c < 4; c++)
        qsort(pool[c], np[c], sizeof(struct pz), cmp_pz);
    /* Pass 2: the rows. */
    double errs[FCST_RECO_ERRORS];
    for (size_t k = 0; k < nsites; k++) {
        const struct site *s = &sites[k];
        size_t ne = 0;
        for (size_t i = 0; i < n; i++)
            if (s->v[i] > 0 && s->gbt[i] > 0) {
                e[ne] = (s->v[i] - s->gbt[i]) / s->gbt[i];
                ed[ne++] = dmin + (int64_t)i;
            }
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t d = dmin + (int64_t)i;
            if (!is_row(s, i, dmin, a, b, skip))
                continue;
            while (j < ne && ed[j] <= d - horizon)
                j++;
            double f = s->gbt[i];
            if (isnan(f))
                continue;
            size_t from = j > 200 ? j - 200 : 0;
            double sk = 0;
            for (size_t q = from; q < j; q++)
                sk += fabs(e[q]);
            sk = j > from ? sk / (double)(j - from) : NAN;
            int c = day_class(cal, d);
            /* last pooled index with day <= d - h */
            size_t lo = 0, hi = np[c];
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (pool[c][mid].day <= d - horizon)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            size_t cnt = 0;
            for (size_t q = lo;
                 q > 0 && cnt < FCST_RECO_ERRORS && lo - q < POOL_SPAN;
                 q -= POOL_STEP < q ? POOL_STEP : q)
                errs[cnt++] = pool[c][q - 1].z * sk;
            reco_row(sink, d, s->v[i], s->staff[i], f, errs,
                     j - from >= 10 ? cnt : 0, level_of(s, ed, from, j, dmin));
        }
    }
out:
    free(e), free(sc), free(ed);
    for (int c = 0; c < 4; c++)
        free(pool[c]);
}

static void
usage(FILE *to)
{
    fprintf(
        to,
        "usage : bench/nantes [--data DOSSIER] [--train-end "
        "AAAA-MM-JJ]\n"
        "        [--test-start AAAA-MM-JJ] [--test-end AAAA-MM-JJ]\n"
        "        [--horizon JOURS] [--refit JOURS] [--year-ahead] [--json]\n"
        "        [--no-gbt] [--gbt-refit JOURS] [--rounds N] [--depth N]\n"
        "        [--eta X] [--threads N] [--risk X] [--reco-errors K]\n"
        "        [--reco-pooled] [--gbt-cache FICHIER] [--dump FICHIER]\n"
        "Défauts : ../shared/data/nantes-cantines, apprentissage jusqu'au\n"
        "2016-06-30, test du 2016-09-01 au 2017-07-31, horizon 7 jours,\n"
        "réajustement tous les 28 jours (gbt aussi : --gbt-refit), risque de\n"
        "la recommandation choisi sur l'année scolaire avant le test, avec\n"
        "une marge (au plus 10 %% des tirages bootstrap par semaine au-dessus\n"
        "des jours courts des agents).\n");
}

int
main(int argc, char **argv)
{
    const char *dir = "../shared/data/nantes-cantines";
    const char *train_end_s = "2016-06-30", *test_start_s = "2016-09-01",
               *test_end_s = "2017-07-31";
    int horizon = 7, refit = 28, json = 0, year_ahead = 0, use_gbt = 1;
    const char *dump = NULL;
    struct gbt_opts go = {
        .refit = 28, .threads = 2, .risk = NAN, .errors = FCST_RECO_ERRORS};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--year-ahead")) {
            year_ahead = 1;
        } else if (!strcmp(a, "--no-gbt")) {
            use_gbt = 0;
        } else if (val &&
                   (!strcmp(a, "--gbt-refit") || !strcmp(a, "--rounds") ||
                    !strcmp(a, "--depth") || !strcmp(a, "--threads"))) {
            char *end;
            long v = strtol(val, &end, 10);
            if (*end || v < 1 || v > 5000) {
                fprintf(stderr, "nantes : valeur invalide pour %s : %s\n", a,
                        val);
                return 2;
            }
            if (!strcmp(a, "--gbt-refit"))
                go.refit = (int)v;
            else if (!strcmp(a, "--rounds"))
                go.rounds = (int)v;
            else if (!strcmp(a, "--depth"))
                go.depth = (int)v;
            else
                go.threads = (int)v;
            i++;
        } else if (val && (!strcmp(a, "--eta") || !strcmp(a, "--risk"))) {
            char *end;
            double v = strtod(val, &end);
            if (*end || !(v > 0) || !(v < 1)) {
                fprintf(stderr, "nantes : valeur invalide pour %s : %s\n", a,
                        val);
                return 2;
            }
            if (a[2] == 'e')
                go.eta = v;
            else
                go.risk = v;
            i++;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (val && !strcmp(a, "--gbt-cache")) {
            go.cache = val, i++;
        } else if (val && !strcmp(a, "--reco-errors")) {
            char *end;
            long v = strtol(val, &end, 10);
            if (*end || v < FCST_RECO_MIN_ERRORS || v > FCST_RECO_ERRORS) {
                fprintf(stderr, "nantes : valeur invalide pour %s : %s\n", a,
                        val);
                return 2;
            }
            go.errors = (int)v, i++;
        } else if (!strcmp(a, "--reco-pooled")) {
            go.pooled = 1;
        } else if (val && !strcmp(a, "--dump")) {
            dump = val, i++;
        } else if (val && !strcmp(a, "--data")) {
            dir = val, i++;
        } else if (val && !strcmp(a, "--train-end")) {
            train_end_s = val, i++;
        } else if (val && !strcmp(a, "--test-start")) {
            test_start_s = val, i++;
        } else if (val && !strcmp(a, "--test-end")) {
            test_end_s = val, i++;
        } else if (val && (!strcmp(a, "--horizon") || !strcmp(a, "--refit"))) {
            char *end;
            long n = strtol(val, &end, 10);
            if (*end || n < (a[2] == 'h' ? 1 : 0) || n > 400) {
                fprintf(stderr, "nantes : valeur invalide pour %s : %s\n", a,
                        val);
                return 2;
            }
            if (a[2] == 'h')
                horizon = (int)n;
            else
                refit = (int)n;
            i++;
        } else {
            fprintf(stderr, "nantes : option inconnue ou incomplète : %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    int64_t train_end, test_start, test_end;
    if (parse_date(train_end_s, &train_end, NULL, NULL) ||
        parse_date(test_start_s, &test_start, NULL, NULL) ||
        parse_date(test_end_s, &test_end, NULL, NULL) ||
        test_end < test_start) {
        fprintf(stderr, "nantes : dates invalides (AAAA-MM-JJ attendu, fin "
                        "après début)\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/frequentation.csv", dir);
    FILE *in = fopen(path, "r");
    if (!in) {
        printf("nantes : données absentes (%s) : banc ignoré.\n", path);
        return 0;
    }

    /* Pass 1: the date range; pass 2: the values. */
    static struct site sites[MAX_SITES];
    size_t nsites = 0;
    int64_t dmin = INT64_MAX, dmax = INT64_MIN;
    char line[MAX_LINE];
    long lineno = 0;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        char *f[6];
        if (lineno == 1 || split(line, f, 6) < 5)
            continue;
        int64_t d;
        if (parse_date(f[1], &d, NULL, NULL))
            continue;
        if (d < dmin)
            dmin = d;
        if (d > dmax)
            dmax = d;
    }
    if (dmin > dmax) {
        fprintf(stderr, "nantes : aucune ligne datée dans %s\n", path);
        fclose(in);
        return 1;
    }
    if (test_end > dmax)
        dmax = test_end;
    size_t n = (size_t)(dmax - dmin + 1);
    rewind(in);
    lineno = 0;
    long bad = 0;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        char *f[6];
        if (lineno == 1)
            continue;
        int nf = split(line, f, 6);
        int64_t d;
        if (nf < 5 || parse_date(f[1], &d, NULL, NULL)) {
            bad++;
            continue;
        }
        char key[256];
        snprintf(key, sizeof key, "%.200s|%.50s", f[4], f[0]);
        size_t k = 0;
        while (k < nsites && strcmp(sites[k].key, key))
            k++;
        if (k == nsites) {
            if (nsites == MAX_SITES) {
                fprintf(stderr, "nantes : plus de %d cantines\n", MAX_SITES);
                fclose(in);
                return 1;
            }
            snprintf(sites[k].key, sizeof sites[k].key, "%s", key);
            sites[k].v = malloc(n * sizeof(double));
            sites[k].staff = malloc(n * sizeof(double));
            sites[k].week = malloc(n * sizeof(int16_t));
            sites[k].pupils = malloc(n * sizeof(double));
            sites[k].gbt = malloc(n * sizeof(double));
            sites[k].group = !strcmp(f[0], "M")   ? 1
                             : !strcmp(f[0], "E") ? 2
                                                  : 3;
            if (!sites[k].v || !sites[k].staff || !sites[k].week ||
                !sites[k].pupils || !sites[k].gbt) {
                fprintf(stderr, "nantes : mémoire insuffisante\n");
                return 1;
            }
            for (size_t i = 0; i < n; i++) {
                sites[k].v[i] = NAN;
                sites[k].staff[i] = NAN;
                sites[k].week[i] = school_week(dmin + (int64_t)i);
                sites[k].pupils[i] = NAN;
                sites[k].gbt[i] = NAN;
            }
            nsites++;
        }
        double reel, prev;
        size_t i = (size_t)(d - dmin);
        /* A zero count is no service (protocol): NAN for the models. */
        if (!number(f[3], &reel) && reel > 0)
            sites[k].v[i] = reel;
        if (!number(f[2], &prev))
            sites[k].staff[i] = prev;
    }
    fclose(in);

    struct fcst_bt_opts o = {
        .train_end = train_end,
        .test_start = test_start,
        .test_end = test_end,
        .horizon = horizon,
        .refit_every = refit,
        .year_ahead = year_ahead,
        .skip_weekdays = 1u << 3, /* Wednesday */
    };
    struct fcst_bt_result total;
    fcst_bt_result_init(&total);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long rows = 0;
    size_t used = 0;
    /* Per-method forecasts of the rows, kept for --dump only. */
    double *fout =
        dump ? malloc(nsites * n * FCST_METHOD_COUNT * sizeof *fout) : NULL;
    for (size_t k = 0; k < nsites; k++) {
        struct fcst_series s = {dmin, n, sites[k].v, sites[k].week};
        long r = fcst_backtest(&s, sites[k].staff, &o, &total,
                               fout ? fout + k * n * FCST_METHOD_COUNT : NULL);
        if (r > 0) {
            rows += r;
            used++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    const char *variant = year_ahead ? "year_ahead" : "rolling";

    /* The gradient-boosted model and the recommendation. */
    struct fcst_acc gbt_acc;
    static struct reco_sink sv_, st_;
    struct reco_sink *val = &sv_, *tst = &st_;
    size_t gbt_fallback = 0;
    struct gbt_times gt = {0};
    /* chosen[family]: plain rule; chosen_b[family]: with the bootstrap
       margin (see below); -1 none */
    int chosen[3] = {-1, -1, -1}, chosen_b[3] = {-1, -1, -1}, gbt_ok = 0;
    int nweeks_val = 0;
    double pexc[NSET_MAX];
    int64_t val_start = 0;
    settings_init();
    fcst_acc_init(&gbt_acc);
    struct fc_cal *cal = NULL;
    static struct fc_cal_event strikes[4096];
    static struct fcst_gbt_series gs[MAX_SITES];
    unsigned *menu = calloc(n, sizeof *menu);
    if (use_gbt && menu && fc_cal_new("44109", "B", &cal) == 0) {
        size_t nstrikes =
            load_strikes(dir, strikes, sizeof strikes / sizeof strikes[0]);
        load_menus(dir, dmin, n, menu);
        load_headcounts(dir, sites, nsites, dmin, n);
        struct fcst_gbt_ctx ctx = {cal, strikes, nstrikes};
        for (size_t k = 0; k < nsites; k++)
            gs[k] = (struct fcst_gbt_series){
                .s = {dmin, n, sites[k].v, sites[k].week},
                .series_id = (int64_t)k + 1,
                .group = sites[k].group,
                .menu = menu,
                .pupils = sites[k].pupils,
                .skip_weekdays = o.skip_weekdays,
            };
        char iso[16];
        day_iso(test_start, iso, sizeof iso);
        int ty = (int)strtol(iso, NULL, 10);
        val_start = days_from_civil(ty - 1, (int)strtol(iso + 5, NULL, 10),
                                    (int)strtol(iso + 8, NULL, 10));
        if (year_ahead) {
            struct fcst_gbt_params p = {.horizon = FCST_GBT_YEAR_AHEAD,
                                        .rounds = go.rounds,
                                        .max_depth = go.depth,
                                        .eta = go.eta,
                                        .threads = go.threads,
                                        .seed = 1};
            struct fcst_gbt *m = NULL;
            struct gu_err err = {0};
            double w0 = now_wall(), c0 = now_cpu();
            if (fcst_gbt_train(&ctx, gs, nsites, train_end, &p, &m, &err)) {
                fprintf(stderr, "nantes : gbt : %s (%s)\n", err.user, err.msg);
            } else {
                gt.fit_wall_first = gt.fit_wall_total = now_wall() - w0;
                gt.fit_cpu_first = now_cpu() - c0;
                gt.fits = 1;
                double p0 = now_wall();
                for (size_t k = 0; k < nsites; k++)
                    for (size_t i = 0; i < n; i++)
                        if (is_row(&sites[k], i, dmin, test_start, test_end,
                                   o.skip_weekdays)) {
                            sites[k].gbt[i] = fcst_gbt_predict(
                                m, &ctx, &gs[k], dmin + (int64_t)i, train_end);
                            gt.predictions++;
                        }
                gt.predict_wall = now_wall() - p0;
                fcst_gbt_free(m);
                gbt_ok = 1;
            }
        } else {
            /* From 120 days before the validation year (its first rows
               need errors known at their origin). */
            FILE *cf = go.cache ? fopen(go.cache, "rb") : NULL;
            if (cf) {
                /* Forecasts of an earlier run with the same options (for
                   trying recommendation settings quickly). */
                gbt_ok = 1;
                for (size_t k = 0; k < nsites && gbt_ok; k++)
                    gbt_ok = fread(sites[k].gbt, sizeof(double), n, cf) == n;
                fclose(cf);
            } else {
                gbt_ok = !gbt_rolling(&ctx, sites, gs, nsites, dmin, n,
                                      val_start - 120, test_start, test_end,
                                      horizon, &go, &gt);
                if (gbt_ok && go.cache && (cf = fopen(go.cache, "wb"))) {
                    for (size_t k = 0; k < nsites; k++)
                        fwrite(sites[k].gbt, sizeof(double), n, cf);
                    fclose(cf);
                }
            }
        }
        if (gbt_ok) {
            for (size_t k = 0; k < nsites; k++)
                for (size_t i = 0; i < n; i++) {
                    if (!is_row(&sites[k], i, dmin, test_start, test_end,
                                o.skip_weekdays))
                        continue;
                    double f = sites[k].gbt[i];
                    if (isnan(f)) {
                        struct fcst_series s = {dmin, n, sites[k].v, NULL};
                        int64_t d = dmin + (int64_t)i;
                        f = fcst_mean4(
                            &s, d, year_ahead ? (int)(d - train_end) : horizon);
                        gbt_fallback++;
                    }
                    fcst_acc_add(&gbt_acc, sites[k].v[i], f);
                }
        }
        if (gbt_ok && !year_ahead) {
            sink_init(val, val_start);
            sink_init(tst, test_start);
            if (go.pooled) {
                reco_pool_pooled(cal, sites, nsites, dmin, n, val_start,
                                 train_end, horizon, o.skip_weekdays, val);
                reco_pool_pooled(cal, sites, nsites, dmin, n, test_start,
                                 test_end, horizon, o.skip_weekdays, tst);
            } else {
                reco_pool(sites, nsites, dmin, n, val_start, train_end, horizon,
                          o.skip_weekdays, (size_t)go.errors, val);
                reco_pool(sites, nsites, dmin, n, test_start, test_end, horizon,
                          o.skip_weekdays, (size_t)go.errors, tst);
            }
            nweeks_val = (int)((train_end - val_start) / 7) + 1;
            if (nweeks_val > NWEEK)
                nweeks_val = NWEEK;
            /* Per family, the setting with the least overproduction whose
               short days on the validation year stay at or below the
               staff's there (plain), and the one whose short days exceed
               the staff's in at most 10 % of the week-block bootstrap
               resamples of the validation year (margin). */
            for (int r = 0; r < nset; r++) {
                int f = (int)set_kind[r];
                pexc[r] = fcst_short_excess(val->wshort[r], val->wstaff,
                                            (size_t)nweeks_val);
                if (f == SET_RISK && !isnan(go.risk)) {
                    if (fabs(set_val[r] - go.risk) < 1e-9)
                        chosen[f] = chosen_b[f] = r;
                    continue;
                }
                int ok = val->acc[r].short_days <= val->staff.short_days;
                if (ok && (chosen[f] < 0 ||
                           val->surplus[r] < val->surplus[chosen[f]]))
                    chosen[f] = r;
                if (f != SET_RISK && pexc[r] <= RECO_ALPHA &&
                    (chosen_b[f] < 0 ||
                     val->surplus[r] < val->surplus[chosen_b[f]]))
                    chosen_b[f] = r;
            }
            /* The risks: the library's rule (fc_reco.h), as the product
               would apply it. */
            if (isnan(go.risk)) {
                static int wk[NSET_MAX * NWEEK];
                for (int r = 0; r < nrisk; r++)
                    memcpy(wk + (size_t)r * (size_t)nweeks_val, val->wshort[r],
                           (size_t)nweeks_val * sizeof(int));
                chosen_b[SET_RISK] =
                    fcst_risk_choose(set_val, (size_t)nrisk, wk, val->wstaff,
                                     (size_t)nweeks_val, RECO_ALPHA);
            }
        }
    }

    struct fcst_metrics mt[FCST_METHOD_COUNT + 1], p9[FCST_METHOD_COUNT + 1];
    double cov[FCST_METHOD_COUNT + 1];
    fcst_acc_metrics(&total.staff, &mt[FCST_METHOD_COUNT]);
    memset(&p9[FCST_METHOD_COUNT], 0, sizeof p9[0]);
    cov[FCST_METHOD_COUNT] = NAN;
    p9[FCST_METHOD_COUNT].over = NAN;
    for (int m = 0; m < FCST_METHOD_COUNT; m++) {
        fcst_acc_metrics(&total.acc[m], &mt[m]);
        fcst_acc_metrics(&total.p90[m], &p9[m]);
        cov[m] = total.interval_n[m] ? 100.0 * (double)total.covered[m] /
                                           (double)total.interval_n[m]
                                     : NAN;
    }
    double forecasts = (double)rows * FCST_METHOD_COUNT;
    double per_fc_us =
        forecasts > 0 ? (wall - total.fit_seconds) / forecasts * 1e6 : 0;
    FILE *df = dump && fout ? fopen(dump, "w") : NULL;
    if (df) {
        /* One line per test row: canteen, day, actual, staff, gbt, then
           every method of fc_models.h. */
        fprintf(df, "site;day;actual;staff;gbt");
        for (int m = 0; m < FCST_METHOD_COUNT; m++)
            fprintf(df, ";%s", fcst_method_name((enum fcst_method)m));
        fprintf(df, "\n");
        for (size_t k = 0; k < nsites; k++)
            for (size_t i = 0; i < n; i++) {
                if (!is_row(&sites[k], i, dmin, test_start, test_end,
                            o.skip_weekdays))
                    continue;
                char iso[16];
                day_iso(dmin + (int64_t)i, iso, sizeof iso);
                fprintf(df, "%s;%s;%g;%g;%.3f", sites[k].key, iso,
                        sites[k].v[i], sites[k].staff[i], sites[k].gbt[i]);
                for (int m = 0; m < FCST_METHOD_COUNT; m++)
                    fprintf(df, ";%.3f",
                            fout[(k * FCST_METHOD_COUNT + (size_t)m) * n + i]);
                fprintf(df, "\n");
            }
        fclose(df);
    }
    free(fout);
    if (json) {
        for (int m = FCST_METHOD_COUNT; m >= 0; m--) {
            const char *name = m == FCST_METHOD_COUNT
                                   ? "staff"
                                   : fcst_method_name((enum fcst_method)m);
            printf("{\"method\": \"%s\", \"wape\": %.4f, \"bias\": %.4f, "
                   "\"overproduction\": %.4f, \"short_days\": %zu, "
                   "\"n\": %zu, \"mape\": %.4f, \"mae\": %.3f, "
                   "\"variant\": \"%s\", \"horizon\": %d, "
                   "\"unit\": \"percent\"",
                   name, mt[m].wape, mt[m].bias, mt[m].over, mt[m].short_days,
                   mt[m].n, mt[m].mape, mt[m].mae, variant, horizon);
            if (m < FCST_METHOD_COUNT)
                printf(", \"interval_coverage\": %.2f, "
                       "\"p90_overproduction\": %.4f, "
                       "\"p90_short_days\": %zu",
                       cov[m], p9[m].over, p9[m].short_days);
            printf("}\n");
        }
        if (gbt_ok) {
            struct fcst_metrics g;
            fcst_acc_metrics(&gbt_acc, &g);
            printf("{\"method\": \"gbt\", \"wape\": %.4f, \"bias\": %.4f, "
                   "\"overproduction\": %.4f, \"short_days\": %zu, "
                   "\"n\": %zu, \"mape\": %.4f, \"mae\": %.3f, "
                   "\"variant\": \"%s\", \"horizon\": %d, "
                   "\"unit\": \"percent\", \"fallbacks\": %zu, "
                   "\"fit_seconds\": %.2f, \"fit_cpu_seconds\": %.2f, "
                   "\"fits\": %d, \"us_per_forecast\": %.2f}\n",
                   g.wape, g.bias, g.over, g.short_days, g.n, g.mape, g.mae,
                   variant, horizon, gbt_fallback, gt.fit_wall_first,
                   gt.fit_cpu_first, gt.fits,
                   gt.predictions
                       ? gt.predict_wall / (double)gt.predictions * 1e6
                       : 0);
        }
        /* "reco": the retained rule (RECO_FAMILY with the bootstrap
           margin); "reco_*": the others, for comparison. */
        for (int f = 0; f < 3 && gbt_ok && !year_ahead; f++)
            for (int b = 0; b < 2; b++) {
                int r = b ? chosen_b[f] : chosen[f];
                if (r < 0)
                    continue;
                static const char *const fam[3] = {"risk", "lambda",
                                                   "lambda_rel"};
                char name[64];
                if (f == RECO_FAMILY && b == 1)
                    snprintf(name, sizeof name, "reco");
                else
                    snprintf(name, sizeof name, "reco_%s%s", fam[f],
                             b ? "_margin" : "");
                struct fcst_metrics rt, rv, sv;
                char risk[32] = "";
                if (f == SET_RISK) /* the key of earlier versions */
                    snprintf(risk, sizeof risk, "\"risk\": %.3f, ", set_val[r]);
                fcst_acc_metrics(&tst->acc[r], &rt);
                fcst_acc_metrics(&val->acc[r], &rv);
                fcst_acc_metrics(&val->staff, &sv);
                printf(
                    "{\"method\": \"%s\", \"wape\": %.4f, "
                    "\"bias\": %.4f, "
                    "\"overproduction\": %.4f, \"short_days\": %zu, "
                    "\"n\": %zu, \"mape\": %.4f, \"mae\": %.3f, "
                    "\"variant\": \"%s\", \"horizon\": %d, "
                    "\"unit\": \"percent\", %s\"setting\": \"%s\", "
                    "\"value\": %.4f, "
                    "\"chosen_on\": \"%s\", \"surplus_meals\": %.0f, "
                    "\"validation_short_days\": %zu, "
                    "\"validation_overproduction\": %.4f, "
                    "\"validation_surplus_meals\": %.0f, "
                    "\"validation_p_exceed\": %.3f, "
                    "\"validation_staff_short_days\": %zu, "
                    "\"validation_staff_overproduction\": %.4f, "
                    "\"validation_n\": %zu, \"no_distribution\": %zu}\n",
                    name, rt.wape, rt.bias, rt.over, rt.short_days, rt.n,
                    rt.mape, rt.mae, variant, horizon, risk, fam[f], set_val[r],
                    f == SET_RISK && !isnan(go.risk) ? "option" : "validation",
                    tst->surplus[r], rv.short_days, rv.over, val->surplus[r],
                    pexc[r], sv.short_days, sv.over, rv.n, tst->no_dist);
            }
    } else {
        printf("Cantines de Nantes : %zu cantines, %ld cantine-jours "
               "(attendu sur le protocole par défaut : 11 520)\n",
               used, rows);
        printf("Test %s .. %s, apprentissage jusqu'au %s, %s, horizon %d "
               "jours%s\n\n",
               test_start_s, test_end_s, train_end_s,
               year_ahead ? "une année à l'avance" : "origine glissante",
               horizon,
               year_ahead ? ""
               : refit    ? ""
                          : ", sans réajustement");
        printf("%-16s %8s %8s %9s %12s %8s %8s %10s %11s %9s\n", "méthode",
               "WAPE %", "biais %", "surprod %", "jours courts", "MAPE %",
               "MAE", "P10-P90 %", "P90 surpr %", "P90 courts");
        for (int m = FCST_METHOD_COUNT; m >= 0; m--) {
            const char *name = m == FCST_METHOD_COUNT
                                   ? "staff"
                                   : fcst_method_name((enum fcst_method)m);
            printf("%-16s %8.2f %8.2f %9.2f %12zu %8.2f %8.2f", name,
                   mt[m].wape, mt[m].bias, mt[m].over, mt[m].short_days,
                   mt[m].mape, mt[m].mae);
            if (m < FCST_METHOD_COUNT)
                printf(" %10.1f %11.2f %10zu\n", cov[m], p9[m].over,
                       p9[m].short_days);
            else
                printf(" %10s %11s %10s\n", "-", "-", "-");
        }
        if (gbt_ok) {
            struct fcst_metrics g;
            fcst_acc_metrics(&gbt_acc, &g);
            printf("%-16s %8.2f %8.2f %9.2f %12zu %8.2f %8.2f %10s %11s "
                   "%10s\n",
                   "gbt", g.wape, g.bias, g.over, g.short_days, g.mape, g.mae,
                   "-", "-", "-");
            if (g.n != (size_t)rows)
                printf("(gbt : %zu lignes au lieu de %ld)\n", g.n, rows);
        }
        printf("\najustements ETS + Theta : %zu en %.2f s CPU ; temps total "
               "%.2f s ; %.1f µs par prévision (intervalle compris)\n",
               total.fits, total.fit_seconds, wall, per_fc_us);
        if (gbt_ok)
            printf("gbt : %d ajustements (%.1f s au total) ; ajustement sur "
                   "toutes les cantines à l'origine du test : %.2f s réel, "
                   "%.2f s CPU (%d fils) ; %.1f µs par prévision ; %zu "
                   "replis sur mean4\n",
                   gt.fits, gt.fit_wall_total, gt.fit_wall_first,
                   gt.fit_cpu_first, go.threads,
                   gt.predictions
                       ? gt.predict_wall / (double)gt.predictions * 1e6
                       : 0,
                   gbt_fallback);
        if (gbt_ok && !year_ahead) {
            struct fcst_metrics sv, st;
            static const char *const fam[3] = {"risque", "lambda",
                                               "lambda/niveau"};
            fcst_acc_metrics(&val->staff, &sv);
            fcst_acc_metrics(&tst->staff, &st);
            printf("\nRecommandation (%s ; risque : quantile 1 - risque ; "
                   "lambda : commande minimisant surplus attendu + lambda × "
                   "P(court), lambda en repas, ou × niveau de la cantine)\n",
                   go.pooled ? "erreurs mises en commun par classe de jour"
                             : "erreurs de la même cantine");
            printf("validation %s .. %s : agents %zu jours courts, "
                   "surproduction %.2f %% (n %zu, %d semaines)\n",
                   "année précédente", train_end_s, sv.short_days, sv.over,
                   sv.n, nweeks_val);
            printf("test : agents %zu jours courts, surproduction %.2f %% "
                   "(n %zu)\n\n",
                   st.short_days, st.over, st.n);
            printf("%-13s %8s | %11s %10s %7s | %11s %10s %13s %7s\n",
                   "réglage", "valeur", "val. courts", "val. surp%", "P(>ag)",
                   "test courts", "test surp%", "surplus repas", "WAPE %");
            for (int r = 0; r < nset; r++) {
                struct fcst_metrics a, b;
                int f = (int)set_kind[r];
                fcst_acc_metrics(&val->acc[r], &a);
                fcst_acc_metrics(&tst->acc[r], &b);
                printf("%-13s %8.3f | %11zu %10.2f %7.3f | %11zu %10.2f "
                       "%13.0f %7.2f%s%s\n",
                       fam[f], set_val[r], a.short_days, a.over, pexc[r],
                       b.short_days, b.over, tst->surplus[r], b.wape,
                       r == chosen[f] ? "  <- choisi" : "",
                       r == chosen_b[f] ? "  <- choisi avec marge" : "");
            }
            printf("(%zu lignes de validation et %zu de test sans "
                   "distribution : commande = prévision ; P(>ag) : part des "
                   "tirages bootstrap par semaine de la validation où les "
                   "jours courts dépassent ceux des agents)\n",
                   val->no_dist, tst->no_dist);
        }
    }
    fprintf(stderr,
            "nantes : %zu cantines, %ld lignes (%s), %zu ajustements en "
            "%.2f s, %.1f µs par prévision, %ld lignes illisibles\n",
            used, rows, variant, total.fits, total.fit_seconds, per_fc_us, bad);
    for (size_t k = 0; k < nsites; k++) {
        free(sites[k].v);
        free(sites[k].staff);
        free(sites[k].week);
        free(sites[k].pupils);
        free(sites[k].gbt);
    }
    free(menu);
    fc_cal_free(cal);
    return 0;
}
