/*
 * mon_csv.c - pushed CSV bodies and the instants they carry
 * (mon_csv_parse in mon_service.h; mon_time_parse in mon_priv.h, shared
 * with the JSON API and MQTT).
 */
#include "monitor/mon_priv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse exactly `n` digits at p into *out. */
static bool
digits(const char *p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* "hh:mm[:ss]" at p; returns the characters read, 0 on failure. */
static size_t
parse_hms(const char *p, int *h, int *mi, int *s)
{
    *s = 0;
    if (!digits(p, 2, h) || p[2] != ':' || !digits(p + 3, 2, mi))
        return 0;
    if (*h > 23 || *mi > 59)
        return 0;
    if (p[5] == ':') {
        if (!digits(p + 6, 2, s) || *s > 59)
            return 0;
        return 8;
    }
    return 5;
}

int
mon_time_parse(const char *s, size_t n, enum gu_tz tz, int64_t *out)
{
    char buf[40];
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t k;
    const char *p;

    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '"'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '"' ||
                     s[n - 1] == '\r'))
        n--;
    if (n == 0 || n >= sizeof(buf))
        return GU_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    p = buf;
    /* unix seconds */
    if (strspn(p, "0123456789") == n) {
        long v = 0;
        if (n > 11 || gu_parse_long(p, 1, 99999999999L, &v) < 0)
            return GU_EINVAL;
        *out = v;
        return 0;
    }
    if (n >= 10 && p[4] == '-' && digits(p, 4, &y) && digits(p + 5, 2, &mo) &&
        p[7] == '-' && digits(p + 8, 2, &d)) {
        p += 10;
    } else if (n >= 10 && p[2] == '/' && digits(p, 2, &d) &&
               digits(p + 3, 2, &mo) && p[5] == '/' && digits(p + 6, 4, &y)) {
        p += 10;
    } else {
        return GU_EINVAL;
    }
    if (!gu_date_valid(y, mo, d) || y < 1970 || y > 2999)
        return GU_EINVAL;
    if (*p == 'T' || *p == ' ') {
        if (!(k = parse_hms(p + 1, &h, &mi, &sec)))
            return GU_EINVAL;
        p += 1 + k;
        if (*p == '.') { /* fractions of a second: dropped */
            p++;
            if (*p < '0' || *p > '9')
                return GU_EINVAL;
            while (*p >= '0' && *p <= '9')
                p++;
        }
    } else if (*p != '\0') {
        return GU_EINVAL;
    }
    {
        int64_t day = gu_day_from_ymd(y, mo, d);
        if (*p == 'Z' && p[1] == '\0') {
            *out = day * 86400 + h * 3600 + mi * 60 + sec;
            return 0;
        }
        if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
            int oh, om;
            if (!digits(p + 1, 2, &oh) || !digits(p + 4, 2, &om) || oh > 14 ||
                om > 59)
                return GU_EINVAL;
            *out = day * 86400 + h * 3600 + mi * 60 + sec -
                   (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
            return 0;
        }
        if (*p != '\0')
            return GU_EINVAL;
        *out = gu_tz_to_utc(tz, day, h * 60 + mi) + sec;
    }
    return 0;
}

int
mon_value_parse(const char *s, size_t n, double *out)
{
    char buf[64];
    char *end = NULL;
    double v;

    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '"'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '"' ||
                     s[n - 1] == '\r'))
        n--;
    if (n == 0 || n >= sizeof(buf))
        return GU_EINVAL;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == ',')
            ch = '.';
        /* only what a number is written with: no "nan", "inf", hex */
        if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' ||
              ch == 'e' || ch == 'E'))
            return GU_EINVAL;
        buf[i] = ch;
    }
    buf[n] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    if (errno != 0 || end != buf + n || !isfinite(v))
        return GU_EINVAL;
    *out = v;
    return 0;
}

static int
line_error(struct gu_err *err, size_t line, const char *what)
{
    char user[200];

    snprintf(user, sizeof(user), "Ligne %zu : %s", line, what);
    return gu_err_set(err, GU_EINVAL, "body", user, "csv line %zu: %s", line,
                      what);
}

int
mon_csv_parse(struct gu_arena *a, const char *body, size_t len, enum gu_tz tz,
              struct mon_meas **out, size_t *n, struct gu_err *err)
{
    size_t cap = 0, count = 0, line = 0;
    struct mon_meas *m = NULL;
    const char *p = body, *end = body + len;

    *out = NULL;
    *n = 0;
    if (len > MON_PUSH_MAX_BYTES)
        return gu_err_set(err, GU_ETOOBIG, "body",
                          "Fichier trop volumineux (4 Mo au plus).",
                          "csv too big");
    if (!gu_utf8_valid(body, len))
        return gu_err_set(err, GU_EINVAL, "body",
                          "Le fichier n'est pas en UTF-8.", "csv not utf-8");
    /* a byte-order mark */
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end, *sep;
        size_t ln = (size_t)(le - p);
        int64_t t;
        double v;

        line++;
        while (ln > 0 && (p[ln - 1] == '\r' || p[ln - 1] == ' '))
            ln--;
        if (ln == 0)
            goto next;
        sep = memchr(p, ';', ln);
        if (!sep)
            sep = memchr(p, '\t', ln);
        if (!sep)
            sep = memchr(p, ',', ln);
        if (!sep) {
            if (line == 1)
                goto next;
            return line_error(err, line,
                              "il faut deux colonnes, l'instant et la valeur "
                              "(séparées par « ; » ou « , »).");
        }
        if (mon_time_parse(p, (size_t)(sep - p), tz, &t) < 0) {
            if (line == 1) /* a header */
                goto next;
            return line_error(err, line,
                              "instant illisible (ex. 2026-12-01T10:00:00Z, "
                              "01/12/2026 11:00 ou secondes Unix).");
        }
        {
            const char *vs = sep + 1;
            size_t vn = (size_t)(p + ln - vs);
            /* a third column (";" files) is ignored */
            const char *third = *sep == ',' ? NULL : memchr(vs, *sep, vn);
            if (third)
                vn = (size_t)(third - vs);
            if (mon_value_parse(vs, vn, &v) < 0)
                return line_error(err, line,
                                  "valeur illisible (un nombre, ex. 12,5).");
        }
        if (count == MON_BATCH_MAX)
            return gu_err_set(err, GU_ETOOBIG, "body",
                              "Trop de mesures en un envoi (10 000 au plus).",
                              "csv over batch max");
        if (count == cap) {
            size_t nc = cap ? cap * 2 : 256;
            struct mon_meas *nm = gu_arena_alloc(a, nc * sizeof(*nm));
            if (!nm)
                return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            if (count)
                memcpy(nm, m, count * sizeof(*nm));
            m = nm;
            cap = nc;
        }
        m[count].t = t;
        m[count].v = v;
        count++;
    next:
        p = eol ? eol + 1 : end;
    }
    *out = m;
    *n = count;
    return 0;
}
