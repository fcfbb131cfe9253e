/*
 * fuzz_mon_input.c - libFuzzer target for what sensors and agents send
 * to the monitoring module: the pushed CSV body (mon_csv_parse), an MQTT
 * message's payload (mon_mqtt_payload_parse) and the detection settings
 * (mon_params_parse). The first byte picks the parser (its value mod 3)
 * and the commune's time zone; the rest is the input.
 *
 * Invariants: each parser accepts or refuses with GU_EINVAL/GU_ETOOBIG
 * (the CSV and the settings with a French message); accepted
 * measurements are at most MON_BATCH_MAX with finite values (an MQTT
 * payload at least one, each with a positive instant; a CSV may hold
 * none — a header alone —, which the push refuses itself); accepted settings have a sensitivity in
 * [0, 1], a night window inside the day, a threshold in (0, 1], and
 * format then parse back to the same settings.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/mon_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_refusal(int rc, const struct gu_err *err, int need_message)
{
    if (rc != GU_EINVAL && rc != GU_ETOOBIG && rc != GU_ENOMEM)
        abort();
    if (need_message && rc != GU_ENOMEM &&
        (err->user[0] == '\0' || !gu_utf8_valid(err->user, strlen(err->user))))
        abort();
}

static void
check_points(const struct mon_meas *m, size_t n, int mqtt)
{
    if ((mqtt && n == 0) || n > MON_BATCH_MAX)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(m[i].v))
            abort();
        if (mqtt && m[i].t <= 0)
            abort();
    }
}

static void
check_params(const char *json)
{
    struct mon_params p, q;
    struct gu_err err;
    char buf[512];
    double th;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = mon_params_parse(json, &p, &err);
    if (rc < 0) {
        check_refusal(rc, &err, 1);
        return;
    }
    if (!(p.sensitivity >= 0.0 && p.sensitivity <= 1.0))
        abort();
    if (p.night_start_min < 0 || p.night_start_min >= 1440 ||
        p.night_end_min < 0 || p.night_end_min > 1440 ||
        p.flat_min_seconds < 0)
        abort();
    th = mon_params_threshold(&p);
    if (!(th > 0.0 && th <= 1.0))
        abort();
    if (mon_params_format(&p, buf, sizeof(buf)) < 0)
        abort();
    if (mon_params_parse(buf, &q, &err) < 0)
        abort();
    /* the sensitivity is written with 6 significant digits */
    if (fabs(q.sensitivity - p.sensitivity) > 1e-5 ||
        memcmp(q.enabled, p.enabled, sizeof(p.enabled)) != 0 ||
        q.night_start_min != p.night_start_min ||
        q.night_end_min != p.night_end_min ||
        q.flat_min_seconds != p.flat_min_seconds)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gu_arena *a;
    struct mon_meas *m = NULL;
    struct gu_err err;
    enum gu_tz tz;
    size_t n = 0;
    char *text;
    int rc;

    if (size < 1 || size > (1u << 20))
        return 0;
    tz = (enum gu_tz)((data[0] / 3) % 5);
    a = gu_arena_new(0);
    if (!a)
        return 0;
    /* NUL-terminated copy: the settings parser reads a C string. */
    text = gu_arena_alloc(a, size);
    if (!text)
        goto out;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    memset(&err, 0, sizeof(err));
    switch (data[0] % 3) {
    case 0:
        rc = mon_csv_parse(a, text, size - 1, tz, &m, &n, &err);
        if (rc < 0)
            check_refusal(rc, &err, 1);
        else
            check_points(m, n, 0);
        break;
    case 1:
        rc = mon_mqtt_payload_parse(a, text, size - 1, tz, 1796119200, &m,
                                    &n);
        if (rc < 0)
            check_refusal(rc, &err, 0);
        else
            check_points(m, n, 1);
        break;
    default:
        check_params(text);
        break;
    }
out:
    gu_arena_free(a);
    return 0;
}
