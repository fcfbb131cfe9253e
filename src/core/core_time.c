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
