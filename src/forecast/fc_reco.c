/*
 * fc_reco.c - recommendations from a forecast distribution (fc_reco.h).
 *
 * The distribution of a day's actual is point * (1 + e) over the relative
 * errors e given (at most the last FCST_RECO_ERRORS of them are read: the
 * caller passes them oldest first). Everything runs on a stack copy of
 * the errors: no allocation, errs never modified.
 */
#include "forecast/fc_reco.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorted outcomes point * (1 + e) of the latest errors into out[];
   returns how many (0 when there is no distribution). */
static size_t
outcomes(double point, const double *errs, size_t n,
         double out[FCST_RECO_ERRORS])
{
    if (!errs || !isfinite(point) || n < FCST_RECO_MIN_ERRORS)
        return 0;
    size_t from = n > FCST_RECO_ERRORS ? n - FCST_RECO_ERRORS : 0, k = 0;
    for (size_t i = from; i < n; i++)
        if (isfinite(errs[i]))
            out[k++] = point * (1.0 + errs[i]);
    if (k < FCST_RECO_MIN_ERRORS)
        return 0;
    qsort(out, k, sizeof out[0], cmp_double);
    return k;
}

static double
sorted_quantile(const double *x, size_t n, double q)
{
    if (q <= 0)
        return x[0];
    if (q >= 1)
        return x[n - 1];
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    double frac = pos - (double)lo;
    if (lo + 1 >= n)
        return x[n - 1];
    return x[lo] + frac * (x[lo + 1] - x[lo]);
}

double
fcst_dist_quantile(double point, const double *errs, size_t n, double q)
{
    double o[FCST_RECO_ERRORS];
    size_t k = outcomes(point, errs, n, o);
    if (!k || isnan(q))
        return NAN;
    double v = sorted_quantile(o, k, q);
    return v > 0 ? v : 0;
}

void
fcst_recommend(double point, const double *errs, size_t n, double risk,
               double kg_per_unit, double eur_per_unit, struct fcst_reco *out)
{
    double o[FCST_RECO_ERRORS];
    size_t k = outcomes(point, errs, n, o);
    out->order = out->p_short = out->surplus = out->shortfall = NAN;
    out->surplus_kg = out->surplus_eur = NAN;
    if (!k)
        return;
    if (!(risk >= FCST_RISK_MIN)) /* NAN too */
        risk = FCST_RISK_MIN;
    if (risk > FCST_RISK_MAX)
        risk = FCST_RISK_MAX;
    double q = sorted_quantile(o, k, 1.0 - risk);
    if (q < 0)
        q = 0;
    /* Whole units, rounded up; a value a hair above an integer because of
       floating point is that integer. */
    double order = ceil(q - 1e-9);
    size_t nshort = 0;
    double surplus = 0, shortfall = 0;
    for (size_t i = 0; i < k; i++) {
        double a = o[i] > 0 ? o[i] : 0;
        if (a > order + 1e-9) { /* same tolerance as the rounding */
            nshort++;
            shortfall += a - order;
        } else {
            surplus += order - a;
        }
    }
    out->order = order;
    out->p_short = (double)nshort / (double)k;
    out->surplus = surplus / (double)k;
    out->shortfall = shortfall / (double)k;
    out->surplus_kg =
        out->surplus *
        (isfinite(kg_per_unit) && kg_per_unit > 0 ? kg_per_unit : 0);
    out->surplus_eur =
        out->surplus *
        (isfinite(eur_per_unit) && eur_per_unit > 0 ? eur_per_unit : 0);
}

double
fcst_short_excess(const int *short_w, const int *ref_w, size_t nweeks)
{
    if (!short_w || !ref_w || nweeks == 0)
        return 1.0;
    /* xorshift64: small, fixed seed, the same draws on every platform */
    uint64_t x = 0x9E3779B97F4A7C15u;
    int over = 0;
    for (int b = 0; b < FCST_RISK_BOOT; b++) {
        long diff = 0;
        for (size_t w = 0; w < nweeks; w++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t pick = (size_t)(x % (uint64_t)nweeks);
            diff += (long)short_w[pick] - (long)ref_w[pick];
        }
        over += diff > 0;
    }
    return (double)over / FCST_RISK_BOOT;
}

int
fcst_risk_choose(const double *risks, size_t nrisk, const int *short_w,
                 const int *ref_w, size_t nweeks, double alpha)
{
    int best = -1;
    if (!risks || !short_w || !ref_w || nweeks == 0 || !(alpha >= 0))
        return -1;
    for (size_t r = 0; r < nrisk; r++) {
        if (best >= 0 && !(risks[r] > risks[best]))
            continue;
        if (fcst_short_excess(short_w + r * nweeks, ref_w, nweeks) <= alpha)
            best = (int)r;
    }
    return best;
}

static const char *
skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t' || (unsigned char)*p == 0xc2) {
        /* U+00A0 and U+202F (no-break spaces, as French typesetting
           puts before « % ») */
        if ((unsigned char)*p == 0xc2) {
            if ((unsigned char)p[1] != 0xa0)
                break;
            p += 2;
            continue;
        }
        p++;
    }
    if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
        (unsigned char)p[2] == 0xaf)
        return skip_spaces(p + 3);
    return p;
}

/* A decimal number with '.' or ',' (no sign, no exponent). */
static const char *
decimal(const char *p, double *out)
{
    char buf[32];
    size_t k = 0;
    int digits = 0, sep = 0;
    while (k < sizeof buf - 1) {
        if (isdigit((unsigned char)*p)) {
            buf[k++] = *p++;
            digits++;
        } else if ((*p == '.' || *p == ',') && !sep) {
            buf[k++] = '.';
            p++;
            sep = 1;
        } else {
            break;
        }
    }
    if (!digits || k == sizeof buf - 1)
        return NULL;
    buf[k] = '\0';
    errno = 0;
    char *end;
    double v = strtod(buf, &end);
    if (errno || *end || !isfinite(v))
        return NULL;
    *out = v;
    return p;
}

int
fcst_risk_parse(const char *s, double *risk)
{
    if (!s || strlen(s) > 64)
        return -1;
    double a, b, r;
    const char *p = decimal(skip_spaces(s), &a);
    if (!p)
        return -1;
    p = skip_spaces(p);
    if (*p == '%') {
        r = a / 100.0;
        p++;
    } else if (*p == '/' || !strncmp(p, "sur", 3)) {
        p = skip_spaces(p + (*p == '/' ? 1 : 3));
        p = decimal(p, &b);
        if (!p || !(b > 0))
            return -1;
        r = a / b;
    } else {
        r = a;
    }
    if (*skip_spaces(p) != '\0' || !(r > 0) || !(r < 1))
        return -1;
    *risk = r;
    return 0;
}
