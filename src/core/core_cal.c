/*
 * core_cal.c - the French calendar: civil dates as day numbers, Easter and
 * the public holidays (Code du travail L3133-1, with the local law of
 * Alsace-Moselle and the overseas abolition-of-slavery days).
 *
 * Forecasting (calendar features) and appointments (closed days) share
 * these; school holidays are data, not computation, and live with the
 * domains that need them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* Howard Hinnant's civil-from-days algorithms: exact over any range. */
int64_t
gu_day_from_ymd(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void
gu_day_to_ymd(int64_t day, int *y, int *m, int *d)
{
    int64_t z = day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

int
gu_day_weekday(int64_t day)
{
    /* 1970-01-01 was a Thursday (ISO 4). */
    int64_t w = ((day + 3) % 7 + 7) % 7; /* 0 = Monday */
    return (int)w + 1;
}

bool
gu_date_valid(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

/* Read exactly `len` digits at s; -1 if not all digits. */
static int
digits(const char *s, int len)
{
    int v = 0;
    for (int i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int
gu_date_parse(const char *s, int64_t *day)
{
    if (!s)
        return GU_EINVAL;
    size_t n = strlen(s);
    int y, m, d;
    if (n == 10 && s[4] == '-' && s[7] == '-') {
        y = digits(s, 4);
        m = digits(s + 5, 2);
        d = digits(s + 8, 2);
    } else if (n == 10 && s[2] == s[5] &&
               (s[2] == '/' || s[2] == '-' || s[2] == '.')) {
        d = digits(s, 2);
        m = digits(s + 3, 2);
        y = digits(s + 6, 4);
    } else {
        return GU_EINVAL;
    }
    if (y < 0 || m < 0 || d < 0 || !gu_date_valid(y, m, d))
        return GU_EINVAL;
    *day = gu_day_from_ymd(y, m, d);
    return 0;
}

void
gu_day_iso(int64_t day, char *buf, size_t cap)
{
    int y, m, d;
    gu_day_to_ymd(day, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
}

int64_t
gu_easter(int year)
{
    /* Anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
    int a = year % 19, b = year / 100, c = year % 100;
    int d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
    int h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7;
    int m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31;
    int day = (h + l - 7 * m + 114) % 31 + 1;
    return gu_day_from_ymd(year, month, day);
}

const char *
gu_holiday(int64_t day, enum gu_holiday_rules rules)
{
    static const struct {
        int m, d;
        const char *name;
    } fixed[] = {
        {1, 1, "Jour de l'an"},     {5, 1, "Fête du travail"},
        {5, 8, "Victoire 1945"},    {7, 14, "Fête nationale"},
        {8, 15, "Assomption"},      {11, 1, "Toussaint"},
        {11, 11, "Armistice 1918"}, {12, 25, "Noël"},
    };
    int y, m, d;
    gu_day_to_ymd(day, &y, &m, &d);
    for (size_t i = 0; i < GU_ARRAY_LEN(fixed); i++) {
        if (fixed[i].m == m && fixed[i].d == d)
            return fixed[i].name;
    }
    int64_t easter = gu_easter(y);
    if (day == easter + 1)
        return "Lundi de Pâques";
    if (day == easter + 39)
        return "Ascension";
    if (day == easter + 50)
        return "Lundi de Pentecôte";
    switch (rules) {
    case GU_HOL_ALSACE_MOSELLE:
        if (day == easter - 2)
            return "Vendredi saint";
        if (m == 12 && d == 26)
            return "Saint-Étienne";
        break;
    case GU_HOL_GUADELOUPE:
        if (m == 5 && d == 27)
            return "Abolition de l'esclavage";
        break;
    case GU_HOL_MARTINIQUE:
        if (m == 5 && d == 22)
            return "Abolition de l'esclavage";
        break;
    case GU_HOL_GUYANE:
        if (m == 6 && d == 10)
            return "Abolition de l'esclavage";
        break;
    case GU_HOL_REUNION:
        if (m == 12 && d == 20)
            return "Abolition de l'esclavage";
        break;
    case GU_HOL_MAYOTTE:
        if (m == 4 && d == 27)
            return "Abolition de l'esclavage";
        break;
    case GU_HOL_METROPOLE:
        break;
    }
    return NULL;
}

enum gu_holiday_rules
gu_holiday_rules_for(const char *insee, const char *zone)
{
    if (insee && (strncmp(insee, "57", 2) == 0 ||
                  strncmp(insee, "67", 2) == 0 ||
                  strncmp(insee, "68", 2) == 0))
        return GU_HOL_ALSACE_MOSELLE;
    if (!zone)
        return GU_HOL_METROPOLE;
    if (strcmp(zone, "guadeloupe") == 0)
        return GU_HOL_GUADELOUPE;
    if (strcmp(zone, "martinique") == 0)
        return GU_HOL_MARTINIQUE;
    if (strcmp(zone, "guyane") == 0)
        return GU_HOL_GUYANE;
    if (strcmp(zone, "reunion") == 0)
        return GU_HOL_REUNION;
    if (strcmp(zone, "mayotte") == 0)
        return GU_HOL_MAYOTTE;
    return GU_HOL_METROPOLE;
}

/* ----- dates as French readers write them ----- */

const char *
gu_weekday_fr(int weekday)
{
    static const char *const names[] = {"lundi", "mardi",    "mercredi",
                                        "jeudi", "vendredi", "samedi",
                                        "dimanche"};
    return weekday >= 1 && weekday <= 7 ? names[weekday - 1] : "";
}

const char *
gu_month_fr(int month)
{
    static const char *const names[] = {
        "janvier", "février", "mars",      "avril",   "mai",      "juin",
        "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};
    return month >= 1 && month <= 12 ? names[month - 1] : "";
}

void
gu_day_fr(int64_t day, char *buf, size_t cap)
{
    int y, m, d;

    gu_day_to_ymd(day, &y, &m, &d);
    snprintf(buf, cap, "%s %d%s %s %d", gu_weekday_fr(gu_day_weekday(day)), d,
             d == 1 ? "er" : "", gu_month_fr(m), y);
}

void
gu_hm_fr(int minute, char *buf, size_t cap)
{
    if (minute < 0)
        minute = 0;
    minute %= 1440;
    if (minute % 60)
        snprintf(buf, cap, "%d h %02d", minute / 60, minute % 60);
    else
        snprintf(buf, cap, "%d h", minute / 60);
}

void
gu_when_fr(int64_t day, int minute, char *buf, size_t cap)
{
    char d[48], hm[16];

    if (minute < 0)
        minute = 0;
    day += minute / 1440;
    gu_day_fr(day, d, sizeof(d));
    gu_hm_fr(minute % 1440, hm, sizeof(hm));
    snprintf(buf, cap, "%s à %s", d, hm);
}

void
gu_duration_fr(int minutes, char *buf, size_t cap)
{
    if (minutes < 60)
        snprintf(buf, cap, "%d minute%s", minutes, minutes > 1 ? "s" : "");
    else if (minutes % 60 == 0)
        snprintf(buf, cap, "%d h", minutes / 60);
    else
        snprintf(buf, cap, "%d h %02d", minutes / 60, minutes % 60);
}

const char *
gu_num_fr(double v, int decimals, unsigned flags, const char *nan, char *buf,
          size_t cap)
{
    char raw[400], *dot;
    const char *p = raw;
    size_t k = 0, intlen;

    if (cap == 0)
        return buf;
    if (!isfinite(v)) {
        snprintf(buf, cap, "%s", nan ? nan : "");
        return buf;
    }
    decimals = decimals < 0 ? 0 : decimals > 9 ? 9 : decimals;
    if (fabs(v) < 0.5 * pow(10, -decimals))
        v = 0; /* no « -0 » */
    snprintf(raw, sizeof(raw), "%.*f", decimals, v);
    dot = strchr(raw, '.');
    if (dot && (flags & GU_NUM_TRIM)) {
        char *e = raw + strlen(raw);

        while (e > dot + 1 && e[-1] == '0')
            *--e = '\0';
        if (e == dot + 1)
            *dot = '\0';
    }
    if (*p == '-' && k + 1 < cap)
        buf[k++] = *p++;
    dot = strchr(p, '.');
    intlen = dot ? (size_t)(dot - p) : strlen(p);
    for (size_t i = 0; i < intlen && k + 4 < cap; i++) {
        if ((flags & GU_NUM_GROUP) && i > 0 && (intlen - i) % 3 == 0) {
            memcpy(buf + k, "\xE2\x80\xAF", 3); /* U+202F */
            k += 3;
        }
        buf[k++] = p[i];
    }
    if (dot) {
        if (k + 1 < cap)
            buf[k++] = ',';
        for (const char *q = dot + 1; *q && k + 1 < cap; q++)
            buf[k++] = *q;
    }
    buf[k] = '\0';
    return buf;
}
