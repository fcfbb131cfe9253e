/*
 * driver.c - the Nantes canteen bench (issue 6): reads
 * frequentation.csv of ../shared/data/nantes-cantines directly, runs the
 * backtest of every method of fc_models.h on each canteen and pools the
 * figures, the staff's own `prevision` alongside on the same rows.
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
#include "forecast/fc_models.h"

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

static void
usage(FILE *to)
{
    fprintf(
        to,
        "usage : bench/nantes [--data DOSSIER] [--train-end "
        "AAAA-MM-JJ]\n"
        "        [--test-start AAAA-MM-JJ] [--test-end AAAA-MM-JJ]\n"
        "        [--horizon JOURS] [--refit JOURS] [--year-ahead] [--json]\n"
        "Défauts : ../shared/data/nantes-cantines, apprentissage jusqu'au\n"
        "2016-06-30, test du 2016-09-01 au 2017-07-31, horizon 7 jours,\n"
        "réajustement tous les 28 jours.\n");
}

int
main(int argc, char **argv)
{
    const char *dir = "../shared/data/nantes-cantines";
    const char *train_end_s = "2016-06-30", *test_start_s = "2016-09-01",
               *test_end_s = "2017-07-31";
    int horizon = 7, refit = 28, json = 0, year_ahead = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--year-ahead")) {
            year_ahead = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
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
        snprintf(key, sizeof key, "%s|%s", f[4], f[0]);
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
            if (!sites[k].v || !sites[k].staff || !sites[k].week) {
                fprintf(stderr, "nantes : mémoire insuffisante\n");
                return 1;
            }
            for (size_t i = 0; i < n; i++) {
                sites[k].v[i] = NAN;
                sites[k].staff[i] = NAN;
                sites[k].week[i] = school_week(dmin + (int64_t)i);
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
    for (size_t k = 0; k < nsites; k++) {
        struct fcst_series s = {dmin, n, sites[k].v, sites[k].week};
        long r = fcst_backtest(&s, sites[k].staff, &o, &total, NULL);
        if (r > 0) {
            rows += r;
            used++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    const char *variant = year_ahead ? "year_ahead" : "rolling";

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
        printf("\najustements ETS + Theta : %zu en %.2f s CPU ; temps total "
               "%.2f s ; %.1f µs par prévision (intervalle compris)\n",
               total.fits, total.fit_seconds, wall, per_fc_us);
    }
    fprintf(stderr,
            "nantes : %zu cantines, %ld lignes (%s), %zu ajustements en "
            "%.2f s, %.1f µs par prévision, %ld lignes illisibles\n",
            used, rows, variant, total.fits, total.fit_seconds, per_fc_us, bad);
    for (size_t k = 0; k < nsites; k++) {
        free(sites[k].v);
        free(sites[k].staff);
        free(sites[k].week);
    }
    return 0;
}
