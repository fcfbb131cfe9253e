/*
 * driver.c - the Nantes canteen bench (issue 6): reads
 * frequentation.csv of ../shared/data/nantes-cantines directly, runs the
 * backtest of every method of fc_models.h on each canteen and pools the
 * figures, the staff's own `prevision` alongside on the same rows. Then
 * the gradient-boosted model of fc_gbt.h (one model for all canteens,
 * with strikes from greves.csv, menus from menus.csv, headcounts from
 * effectifs.csv through the two mapping files, the canteen type as group)
 * on the same rows, and the recommendation of fc_reco.h: its risk is
 * chosen on the school year before the test year (never on the test
 * year), the whole risk curve printed.
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

#define NRISKS 31
static const double risks[NRISKS] = {
    0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10,
    0.12,  0.14, 0.16, 0.18, 0.20, 0.22, 0.24, 0.26, 0.28, 0.30, 0.32,
    0.34,  0.36, 0.38, 0.40, 0.42, 0.44, 0.46, 0.48, 0.50};

/*
 * Orders of the rows in [a, b] for every risk: the gbt point forecast
 * and the relative errors (actual - f) / f of the same canteen's gbt
 * forecasts whose actual was known at the origin D - h (the latest
 * FCST_RECO_ERRORS). acc[r] pools the orders of risk r; rows without a
 * distribution order the point forecast (counted in *no_dist).
 */
static void
reco_pool(struct site *sites, size_t nsites, int64_t dmin, size_t n, int64_t a,
          int64_t b, int horizon, unsigned skip, size_t nerr,
          struct fcst_acc *acc, double *surplus, struct fcst_acc *staff,
          size_t *no_dist)
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
            fcst_acc_add(staff, s->v[i], s->staff[i]);
            for (int r = 0; r < NRISKS; r++) {
                struct fcst_reco rec;
                size_t from = j > nerr ? j - nerr : 0;
                fcst_recommend(f, e + from, j - from, risks[r], 0, 0, &rec);
                double order = rec.order;
                if (isnan(order)) {
                    order = ceil(f);
                    if (r == 0)
                        (*no_dist)++;
                }
                fcst_acc_add(&acc[r], s->v[i], order);
                surplus[r] += order > s->v[i] ? order - s->v[i] : 0;
            }
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
                 unsigned skip, struct fcst_acc *acc, double *surplus,
                 struct fcst_acc *staff, size_t *no_dist)
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
            fcst_acc_add(staff, s->v[i], s->staff[i]);
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
            for (int r = 0; r < NRISKS; r++) {
                struct fcst_reco rec;
                fcst_recommend(f, errs, j - from >= 10 ? cnt : 0, risks[r], 0,
                               0, &rec);
                double order = rec.order;
                if (isnan(order)) {
                    order = ceil(f);
                    if (r == 0)
                        (*no_dist)++;
                }
                fcst_acc_add(&acc[r], s->v[i], order);
                surplus[r] += order > s->v[i] ? order - s->v[i] : 0;
            }
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
        "la recommandation choisi sur l'année scolaire avant le test.\n");
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
    struct fcst_acc gbt_acc, reco_val[NRISKS], reco_test[NRISKS];
    struct fcst_acc staff_val, staff_test;
    double surplus_val[NRISKS] = {0}, surplus_test[NRISKS] = {0};
    size_t gbt_fallback = 0, no_dist_val = 0, no_dist_test = 0;
    struct gbt_times gt = {0};
    int chosen = -1, gbt_ok = 0;
    int64_t val_start = 0;
    fcst_acc_init(&gbt_acc);
    fcst_acc_init(&staff_val);
    fcst_acc_init(&staff_test);
    for (int r = 0; r < NRISKS; r++) {
        fcst_acc_init(&reco_val[r]);
        fcst_acc_init(&reco_test[r]);
    }
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
            if (go.pooled) {
                reco_pool_pooled(cal, sites, nsites, dmin, n, val_start,
                                 train_end, horizon, o.skip_weekdays, reco_val,
                                 surplus_val, &staff_val, &no_dist_val);
                reco_pool_pooled(cal, sites, nsites, dmin, n, test_start,
                                 test_end, horizon, o.skip_weekdays, reco_test,
                                 surplus_test, &staff_test, &no_dist_test);
            } else {
                reco_pool(sites, nsites, dmin, n, val_start, train_end, horizon,
                          o.skip_weekdays, (size_t)go.errors, reco_val,
                          surplus_val, &staff_val, &no_dist_val);
                reco_pool(sites, nsites, dmin, n, test_start, test_end, horizon,
                          o.skip_weekdays, (size_t)go.errors, reco_test,
                          surplus_test, &staff_test, &no_dist_test);
            }
            /* The largest risk (least overproduction) whose short days on
               the validation year stay at or below the staff's there. */
            for (int r = 0; r < NRISKS; r++) {
                if (!isnan(go.risk)
                        ? fabs(risks[r] - go.risk) < 1e-9
                        : reco_val[r].short_days <= staff_val.short_days)
                    chosen = r;
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
        if (chosen >= 0) {
            struct fcst_metrics r, rv, sv;
            fcst_acc_metrics(&reco_test[chosen], &r);
            fcst_acc_metrics(&reco_val[chosen], &rv);
            fcst_acc_metrics(&staff_val, &sv);
            printf("{\"method\": \"reco\", \"wape\": %.4f, \"bias\": %.4f, "
                   "\"overproduction\": %.4f, \"short_days\": %zu, "
                   "\"n\": %zu, \"mape\": %.4f, \"mae\": %.3f, "
                   "\"variant\": \"%s\", \"horizon\": %d, "
                   "\"unit\": \"percent\", \"risk\": %.3f, "
                   "\"risk_chosen_on\": \"%s\", \"surplus_meals\": %.0f, "
                   "\"validation_short_days\": %zu, "
                   "\"validation_overproduction\": %.4f, "
                   "\"validation_staff_short_days\": %zu, "
                   "\"validation_staff_overproduction\": %.4f, "
                   "\"validation_n\": %zu, \"no_distribution\": %zu}\n",
                   r.wape, r.bias, r.over, r.short_days, r.n, r.mape, r.mae,
                   variant, horizon, risks[chosen],
                   isnan(go.risk) ? "validation" : "option",
                   surplus_test[chosen], rv.short_days, rv.over, sv.short_days,
                   sv.over, rv.n, no_dist_test);
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
            fcst_acc_metrics(&staff_val, &sv);
            fcst_acc_metrics(&staff_test, &st);
            printf("\nRecommandation (quantile 1 - risque de la prévision gbt "
                   "× (1 + erreurs relatives de la même cantine connues à "
                   "l'origine))\n");
            printf("validation %s .. %s : agents %zu jours courts, "
                   "surproduction %.2f %% (n %zu)\n",
                   "année précédente", train_end_s, sv.short_days, sv.over,
                   sv.n);
            printf("test : agents %zu jours courts, surproduction %.2f %% "
                   "(n %zu)\n\n",
                   st.short_days, st.over, st.n);
            printf("%7s | %12s %10s | %12s %10s %12s %8s\n", "risque",
                   "val. courts", "val. surp%", "test courts", "test surp%",
                   "surplus repas", "WAPE %");
            for (int r = 0; r < NRISKS; r++) {
                struct fcst_metrics a, b;
                fcst_acc_metrics(&reco_val[r], &a);
                fcst_acc_metrics(&reco_test[r], &b);
                printf("%7.3f | %12zu %10.2f | %12zu %10.2f %12.0f %8.2f%s\n",
                       risks[r], a.short_days, a.over, b.short_days, b.over,
                       surplus_test[r], b.wape,
                       r == chosen ? "  <- choisi" : "");
            }
            printf("(%zu lignes de validation et %zu de test sans "
                   "distribution : commande = prévision)\n",
                   no_dist_val, no_dist_test);
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
