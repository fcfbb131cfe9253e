/*
 * core_time.c - clocks and the two date formats people read: ISO 8601 for
 * machines, « 30/11/2026 23:11 » in Paris time for agents.
 *
 * Paris time is computed from the EU summer-time rule (last Sunday of
 * March to last Sunday of October, switching at 01:00 UTC) rather than
 * through TZ and localtime(), which would make output depend on the
 * server's zone and is not safe to change per thread.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

int64_t
gu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t
gu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
gu_time_iso(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Unix time of 01:00 UTC on the last Sunday of a month (31-day months). */
static int64_t
last_sunday_1utc(int year, int month)
{
    int64_t day = days_from_civil(year, month, 31);
    /* 1970-01-01 was a Thursday: weekday 0=Sunday is (day + 4) mod 7. */
    int64_t wd = ((day + 4) % 7 + 7) % 7;
    return (day - wd) * 86400 + 3600;
}

void
gu_time_fr(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    int year = tm.tm_year + 1900;
    int64_t offset = 3600;
    if (t >= last_sunday_1utc(year, 3) && t < last_sunday_1utc(year, 10))
        offset = 7200;
    tt = (time_t)(t + offset);
    gmtime_r(&tt, &tm);
    snprintf(buf, cap, "%02d/%02d/%04d %02d:%02d", tm.tm_mday, tm.tm_mon + 1,
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
}

/* ----- civil time of a commune ----- */

enum gu_tz
gu_tz_of_zone(const char *zone)
{
    if (!zone)
        return GU_TZ_PARIS;
    if (strcmp(zone, "guadeloupe") == 0 || strcmp(zone, "martinique") == 0)
        return GU_TZ_ANTILLES;
    if (strcmp(zone, "guyane") == 0)
        return GU_TZ_GUYANE;
    if (strcmp(zone, "reunion") == 0)
        return GU_TZ_REUNION;
    if (strcmp(zone, "mayotte") == 0)
        return GU_TZ_MAYOTTE;
    return GU_TZ_PARIS;
}

const char *
gu_tz_name(enum gu_tz tz)
{
    switch (tz) {
    case GU_TZ_ANTILLES:
        return "America/Martinique";
    case GU_TZ_GUYANE:
        return "America/Cayenne";
    case GU_TZ_REUNION:
        return "Indian/Reunion";
    case GU_TZ_MAYOTTE:
        return "Indian/Mayotte";
    case GU_TZ_PARIS:
        break;
    }
    return "Europe/Paris";
}

int
gu_tz_offset_min(enum gu_tz tz, int64_t utc)
{
    switch (tz) {
    case GU_TZ_ANTILLES:
        return -240;
    case GU_TZ_GUYANE:
        return -180;
    case GU_TZ_REUNION:
        return 240;
    case GU_TZ_MAYOTTE:
        return 180;
    case GU_TZ_PARIS:
        break;
    }
    int64_t day = utc >= 0 ? utc / 86400 : (utc - 86399) / 86400;
    int y, m, d;
    gu_day_to_ymd(day, &y, &m, &d);
    if (utc >= last_sunday_1utc(y, 3) && utc < last_sunday_1utc(y, 10))
        return 120;
    return 60;
}

int64_t
gu_tz_to_utc(enum gu_tz tz, int64_t day, int minute)
{
    int64_t local = day * 86400 + (int64_t)minute * 60;
    /* Try the summer offset first (autumn overlap: first occurrence). */
    int64_t guess = local - (int64_t)gu_tz_offset_min(tz, local - 7200) * 60;
    if (gu_tz_offset_min(tz, guess) * 60 == local - guess)
        return guess;
    guess = local - (int64_t)gu_tz_offset_min(tz, local) * 60;
    if (gu_tz_offset_min(tz, guess) * 60 == local - guess)
        return guess;
    /* Spring-forward gap: take the winter offset. */
    return local - 3600;
}

void
gu_tz_from_utc(enum gu_tz tz, int64_t utc, int64_t *day, int *minute)
{
    int64_t local = utc + (int64_t)gu_tz_offset_min(tz, utc) * 60;
    int64_t d = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    *day = d;
    *minute = (int)((local - d * 86400) / 60);
}

void
gu_tz_iso(enum gu_tz tz, int64_t day, int minute, char *buf, size_t cap)
{
    int64_t utc = gu_tz_to_utc(tz, day, minute);
    int off = gu_tz_offset_min(tz, utc);
    int64_t lday;
    int lmin;
    gu_tz_from_utc(tz, utc, &lday, &lmin);
    int y, m, d;
    gu_day_to_ymd(lday, &y, &m, &d);
    int aoff = off < 0 ? -off : off;
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:00%c%02d:%02d", y, m, d,
             lmin / 60, lmin % 60, off < 0 ? '-' : '+', aoff / 60, aoff % 60);
}

static int
two_digits(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int
gu_tz_parse(enum gu_tz tz, const char *s, int64_t *day, int *minute)
{
    if (!s || strlen(s) < 16 || strlen(s) > 32 || (s[10] != 'T' && s[10] != ' '))
        return GU_EINVAL;
    char date[11];
    memcpy(date, s, 10);
    date[10] = '\0';
    if (date[4] != '-' || gu_date_parse(date, day) != 0)
        return GU_EINVAL;
    int hh = two_digits(s + 11), mm = two_digits(s + 14);
    if (hh < 0 || hh > 23 || s[13] != ':' || mm < 0 || mm > 59)
        return GU_EINVAL;
    const char *p = s + 16;
    if (p[0] == ':') {
        int ss = two_digits(p + 1);
        if (ss < 0 || ss > 59)
            return GU_EINVAL;
        p += 3;
        if (p[0] == '.') { /* fractions of a second are ignored */
            p++;
            while (*p >= '0' && *p <= '9')
                p++;
        }
    }
    *minute = hh * 60 + mm;
    if (p[0] == '\0')
        return 0;
    int off;
    if (strcmp(p, "Z") == 0) {
        off = 0;
    } else if ((p[0] == '+' || p[0] == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh = two_digits(p + 1), om = two_digits(p + 4);
        if (oh < 0 || oh > 14 || om < 0 || om > 59)
            return GU_EINVAL;
        off = (oh * 60 + om) * (p[0] == '-' ? -1 : 1);
    } else {
        return GU_EINVAL;
    }
    int64_t utc = *day * 86400 + (int64_t)*minute * 60 - (int64_t)off * 60;
    gu_tz_from_utc(tz, utc, day, minute);
    return 0;
}
