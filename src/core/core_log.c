/*
 * core_log.c - one logfmt line per event on stderr.
 *
 * The level is process-wide and set at start or reload (an atomic, so a
 * reload never races a reader). The request id is per thread: web/ sets
 * it for the duration of a request, so every line a request causes, in
 * any module, carries it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

static atomic_int log_level = GU_LOG_INFO;
static _Thread_local char request_id[72];

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
gu_log_set_level(enum gu_log_level lvl)
{
    atomic_store(&log_level, (int)lvl);
}

enum gu_log_level
gu_log_get_level(void)
{
    return (enum gu_log_level)atomic_load(&log_level);
}

int
gu_log_level_parse(const char *s, enum gu_log_level *out)
{
    for (size_t i = 0; i < GU_ARRAY_LEN(level_names); i++) {
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (enum gu_log_level)i;
            return 0;
        }
    }
    return GU_EINVAL;
}

void
gu_log_set_request_id(const char *id)
{
    snprintf(request_id, sizeof(request_id), "%s", id ? id : "");
}

const char *
gu_log_request_id(void)
{
    return request_id;
}

const char *
gu_logq(char *buf, size_t cap, const char *s)
{
    size_t o = 0;
    if (cap < 3) {
        if (cap)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (const char *p = s ? s : ""; *p && o + 3 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            buf[o++] = ' ';
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

void
gu_log(enum gu_log_level lvl, const char *event, const char *kvfmt, ...)
{
    if ((int)lvl > atomic_load(&log_level))
        return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
                     level_names[lvl], event);
    if (n < 0)
        return;
    size_t o = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    if (request_id[0] && o < sizeof(line)) {
        n = snprintf(line + o, sizeof(line) - o, " reqid=%s", request_id);
        if (n > 0)
            o += (size_t)n;
        if (o >= sizeof(line))
            o = sizeof(line) - 1;
    }
    if (kvfmt && *kvfmt && o + 1 < sizeof(line)) {
        line[o++] = ' ';
        va_list ap;
        va_start(ap, kvfmt);
        n = vsnprintf(line + o, sizeof(line) - o, kvfmt, ap);
        va_end(ap);
        if (n > 0)
            o += (size_t)n;
        if (o >= sizeof(line))
            o = sizeof(line) - 1;
    }
    /* One write per line keeps lines whole when threads log together. */
    line[o] = '\n';
    fwrite(line, 1, o + 1, stderr);
}
