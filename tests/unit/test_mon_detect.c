/*
 * test_mon_detect.c - the streaming detectors on synthetic series: each
 * detector flags what it is for and not the normal pattern around it;
 * save/load resumes exactly; the parameters' JSON and its French errors.
 */
#include "harness.h"
#include "monitor/mon_detect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mon_detect_series.h"

static void
test_spike(void)
{
    struct mon_params p;
    struct mon_state *s;
    struct mon_verdict vd;
    struct mon_obs o;
    int before = 0;

    rng_state = 1;
    mon_params_default(&p);
    s = mon_state_new(&p);
    for (int i = 0; i < 1600; i++) {
        double v = 50 + 10 * sin(i * 2 * M_PI / 288) + noise();

        if (i == 1500)
            v += 30;
        obs_at(&o, T0 + i * 300, v);
        CHECK_EQ(mon_step(s, &p, &o, &vd), 0);
        if (i < 150)
            CHECK(vd.warming);
        if (i >= 300 && i < 1500 && vd.anomaly)
            before++;
        if (i == 1500) {
            CHECK(vd.anomaly);
            CHECK(vd.det[MON_DET_GAUSS] > 0.5);
            CHECK(vd.deviation > 3);
            CHECK(vd.score >= 0 && vd.score <= 1);
        }
    }
    CHECK(before <= 3);
    mon_state_free(s);
}

static void
test_level_shift(void)
{
    struct mon_params p;
    struct mon_state *s;
    struct mon_verdict vd;
    struct mon_obs o;
    bool shift = false, flagged = false;
    int before = 0;

    rng_state = 2;
    mon_params_default(&p);
    s = mon_state_new(&p);
    for (int i = 0; i < 1600; i++) {
        double v = 10 + noise() + (i >= 1500 ? 8 : 0);

        obs_at(&o, T0 + i * 60, v);
        CHECK_EQ(mon_step(s, &p, &o, &vd), 0);
        if (i >= 300 && i < 1500 && vd.det[MON_DET_SHIFT] >= 0.75)
            before++;
        if (i >= 1500 && i < 1540) {
            shift |= vd.det[MON_DET_SHIFT] >= 0.75;
            flagged |= vd.anomaly;
        }
    }
    CHECK(shift);
    CHECK(flagged);
    CHECK_EQ(before, 0);
    mon_state_free(s);
}

static void
test_stuck(void)
{
    struct mon_params p;
    struct mon_state *s;
    struct mon_verdict vd;
    struct mon_obs o;
    int before = 0, flat_at = -1;

    rng_state = 3;
    mon_params_default(&p);
    s = mon_state_new(&p);
    for (int i = 0; i < 1100; i++) {
        double v = i < 1000 ? 20 + 5 * noise() : 21.5;

        obs_at(&o, T0 + i * 60, v);
        CHECK_EQ(mon_step(s, &p, &o, &vd), 0);
        if (i < 1000 && vd.det[MON_DET_FLAT] > 0)
            before++;
        if (i >= 1000 && flat_at < 0 && vd.det[MON_DET_FLAT] >= 0.75 &&
            vd.anomaly) {
            flat_at = i;
            CHECK_EQ(vd.top, MON_DET_FLAT);
        }
    }
    CHECK_EQ(before, 0);
    CHECK(flat_at > 1000 && flat_at < 1030);
    mon_state_free(s);

    /* A sensor that never moved is not "stuck": no flag. */
    s = mon_state_new(&p);
    for (int i = 0; i < 500; i++) {
        obs_at(&o, T0 + i * 60, 3.0);
        CHECK_EQ(mon_step(s, &p, &o, &vd), 0);
        CHECK_EQ(vd.det[MON_DET_FLAT], 0.0);
    }
    mon_state_free(s);
}

/* Flow every 15 minutes: low at night, high by day; a leak adds to the
 * night minimum from day 25. */
static double
flow(int64_t t, int day)
{
    int m = (int)((t % 86400) / 60);
    double base = 5 + 20 * fmax(0.0, sin((m - 360) * M_PI / 960));

    return base + 0.3 * noise() + (day >= 25 ? 4.0 : 0.0);
}

static void
test_night_leak(void)
{
    struct mon_params p;
    struct mon_state *s;
    struct mon_verdict vd;
    struct mon_obs o;
    int before = 0, leak_day = -1;

    rng_state = 4;
    mon_params_default(&p);
    p.enabled[MON_DET_NIGHT] = true;
    s = mon_state_new(&p);
    for (int i = 0; i < 30 * 96; i++) {
        int64_t t = T0 + (int64_t)i * 900;
        int day = i / 96;

        obs_at(&o, t, flow(t, day));
        CHECK_EQ(mon_step(s, &p, &o, &vd), 0);
        if (day < 25 && vd.det[MON_DET_NIGHT] > 0)
            before++;
        if (day >= 25 && leak_day < 0 && vd.det[MON_DET_NIGHT] >= 0.75) {
            leak_day = day;
            CHECK(vd.anomaly);
            CHECK_EQ(vd.top, MON_DET_NIGHT);
            CHECK(vd.expected > 4 && vd.expected < 6);
        }
    }
    CHECK_EQ(before, 0);
    CHECK_EQ(leak_day, 25);
    mon_state_free(s);
}

/* Hourly, weekdays high with a noon peak, weekends low. */
static double
weekly(int64_t t)
{
    int wd = (int)((t / 86400 + 3) % 7), h = (int)((t % 86400) / 3600);
    double v = wd < 5 ? 40 + 20 * (h >= 8 && h < 18) + 10 * (h == 12) : 10;

    return v + 0.5 * noise();
}

static void
test_weekly_pattern(void)
{
    struct mon_params p;
    struct mon_state *s;
    struct mon_verdict vd;
    struct mon_obs o;
    int flagged = 0, seen = 0;
    bool caught = false;

    rng_state = 5;
    mon_params_default(&p);
    s = mon_state_new(&p);
    for (int i = 0; i < 7 * 24 * 6; i++) {
        int64_t t = T0 + (int64_t)i * 3600;
        double v = weekly(t);
        int week = i / 168;
        bool odd = week == 5 && i % 168 == 10; /* Monday 10:00 */

        if (odd)
            v = 10; /* a weekday looking like a Sunday */
        obs_at(&o, t, v);
        CHECK_EQ(mon_step(s, &p, &o, &vd), 0);
        if (week >= 3 && !odd) {
            seen++;
            if (vd.det[MON_DET_SEASONAL] >= 0.75)
                flagged++;
            if (vd.det[MON_DET_SEASONAL] == 0)
                CHECK(fabs(vd.det[MON_DET_SEASONAL]) < 1e-12);
        }
        if (odd) {
            caught = vd.det[MON_DET_SEASONAL] >= 0.75;
            CHECK(vd.deviation < 0 || vd.top != MON_DET_SEASONAL);
        }
    }
    CHECK(seen > 400);
    CHECK_EQ(flagged, 0);
    CHECK(caught);
    mon_state_free(s);
}

static double
mixed(int i)
{
    double v = 30 + 8 * sin(i * 2 * M_PI / 96) + noise();

    if (i == 2100)
        v += 40;
    if (i >= 2600)
        v += 15;
    if (i >= 2800 && i < 2900)
        v = 44.25;
    return v;
}

static void
test_save_load_resume(void)
{
    struct mon_params p;
    struct mon_state *a, *b;
    struct mon_obs o;
    struct mon_verdict va, vb;
    size_t cap = mon_state_size() + 16, len;
    uint8_t *img = malloc(cap);
    int differ = 0, anomalies = 0;

    mon_params_default(&p);
    p.enabled[MON_DET_NIGHT] = true;
    a = mon_state_new(&p);
    b = mon_state_new(&p);
    rng_state = 6;
    for (int i = 0; i < 3000; i++) {
        obs_at(&o, T0 + (int64_t)i * 900, mixed(i));
        CHECK_EQ(mon_step(a, &p, &o, &va), 0);
        if (i == 1233) {
            len = mon_state_save(a, img, cap);
            CHECK_EQ(len, cap);
            CHECK_EQ(mon_state_save(a, img, cap - 1), 0u);
        }
    }
    /* Replay: the first 1234 points in a, the rest from the image in b. */
    mon_state_reset(a, &p);
    rng_state = 6;
    for (int i = 0; i < 3000; i++) {
        double v = mixed(i);

        obs_at(&o, T0 + (int64_t)i * 900, v);
        if (i < 1234) {
            CHECK_EQ(mon_step(a, &p, &o, &va), 0);
            continue;
        }
        if (i == 1234) {
            CHECK_EQ(mon_state_load(b, img, cap), 0);
            CHECK_EQ(mon_state_last_t(b), mon_state_last_t(a));
        }
        CHECK_EQ(mon_step(a, &p, &o, &va), 0);
        CHECK_EQ(mon_step(b, &p, &o, &vb), 0);
        if (memcmp(&va.det, &vb.det, sizeof va.det) != 0 ||
            va.score != vb.score || va.anomaly != vb.anomaly ||
            va.top != vb.top || va.expected != vb.expected ||
            va.deviation != vb.deviation)
            differ++;
        anomalies += vb.anomaly;
    }
    CHECK_EQ(differ, 0);
    CHECK(anomalies >= 2); /* the run did meet anomalies */

    /* A damaged image is refused and leaves the state as it was. */
    int64_t last = mon_state_last_t(b);
    img[40] ^= 0x10;
    CHECK_EQ(mon_state_load(b, img, cap), GU_EINVAL);
    img[40] ^= 0x10;
    CHECK_EQ(mon_state_load(b, img, cap - 1), GU_EINVAL);
    img[4] = 99; /* version */
    CHECK_EQ(mon_state_load(b, img, cap), GU_EINVAL);
    CHECK_EQ(mon_state_last_t(b), last);
    free(img);
    mon_state_free(a);
    mon_state_free(b);
}

static void
test_step_refuses(void)
{
    struct mon_params p;
    struct mon_state *s;
    struct mon_verdict vd;
    struct mon_obs o;

    mon_params_default(&p);
    s = mon_state_new(&p);
    obs_at(&o, T0, 1.0);
    CHECK_EQ(mon_step(s, &p, &o, &vd), 0);
    CHECK_EQ(mon_step(s, &p, &o, &vd), GU_EINVAL); /* same t */
    obs_at(&o, T0 - 10, 1.0);
    CHECK_EQ(mon_step(s, &p, &o, &vd), GU_EINVAL);
    obs_at(&o, T0 + 10, NAN);
    CHECK_EQ(mon_step(s, &p, &o, &vd), GU_EINVAL);
    obs_at(&o, T0 + 10, INFINITY);
    CHECK_EQ(mon_step(s, &p, &o, &vd), GU_EINVAL);
    CHECK_EQ(mon_state_last_t(s), (int64_t)T0);
    mon_state_free(s);
}

static void
test_params_json(void)
{
    struct mon_params p, q;
    struct gu_err err;
    char buf[256];
    enum mon_detector d;

    CHECK_EQ(mon_params_parse("{\"sensibilite\": 0.8, \"detecteurs\": "
                              "[\"gauss\", \"nuit\"], \"nuit\": "
                              "\"23:30-04:15\", \"fige_secondes\": 3600}",
                              &p, &err),
             0);
    CHECK(fabs(p.sensitivity - 0.8) < 1e-12);
    CHECK(p.enabled[MON_DET_GAUSS] && p.enabled[MON_DET_NIGHT]);
    CHECK(!p.enabled[MON_DET_SHIFT] && !p.enabled[MON_DET_FLAT]);
    CHECK_EQ(p.night_start_min, 23 * 60 + 30);
    CHECK_EQ(p.night_end_min, 4 * 60 + 15);
    CHECK_EQ(p.flat_min_seconds, 3600);
    CHECK(mon_params_threshold(&p) < 0.5);
    CHECK_EQ(mon_params_format(&p, buf, sizeof buf), 0);
    CHECK_EQ(mon_params_parse(buf, &q, &err), 0);
    CHECK_EQ(memcmp(&p, &q, sizeof p), 0);

    /* Missing keys keep the defaults. */
    CHECK_EQ(mon_params_parse("{}", &p, &err), 0);
    mon_params_default(&q);
    CHECK_EQ(memcmp(&p, &q, sizeof p), 0);
    CHECK_EQ(mon_params_parse("{\"sensibilite\": 0.2}", &p, &err), 0);
    CHECK(!p.enabled[MON_DET_NIGHT] && p.enabled[MON_DET_GAUSS]);

    gu_err_clear(&err);
    CHECK_EQ(mon_params_parse("{\"sensibilite\": 2}", &p, &err), GU_EINVAL);
    CHECK_STR(err.field, "sensibilite");
    CHECK(strstr(err.user, "entre 0 et 1") != NULL);
    CHECK_EQ(mon_params_parse("{\"detecteurs\": [\"laser\"]}", &p, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "detecteurs");
    CHECK(strstr(err.user, "inconnu") != NULL);
    CHECK_EQ(mon_params_parse("{\"detecteurs\": []}", &p, &err), GU_EINVAL);
    CHECK_EQ(mon_params_parse("{\"nuit\": \"25:00-04:00\"}", &p, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "nuit");
    CHECK(strstr(err.user, "HH:MM-HH:MM") != NULL);
    CHECK_EQ(mon_params_parse("{\"fige_secondes\": -1}", &p, &err), GU_EINVAL);
    CHECK_STR(err.field, "fige_secondes");
    CHECK_EQ(mon_params_parse("{\"vitesse\": 1}", &p, &err), GU_EINVAL);
    CHECK(strstr(err.user, "inconnu") != NULL);
    CHECK_EQ(mon_params_parse("[1, 2]", &p, &err), GU_EINVAL);
    CHECK_EQ(mon_params_parse("{\"sensibilite\": ", &p, &err), GU_EINVAL);
    CHECK(strstr(err.user, "illisible") != NULL);
    /* A failed parse leaves *out alone. */
    mon_params_default(&p);
    p.sensitivity = 0.3;
    CHECK_EQ(mon_params_parse("{\"sensibilite\": 0.9, \"x\": 1}", &p, &err),
             GU_EINVAL);
    CHECK(fabs(p.sensitivity - 0.3) < 1e-12);

    CHECK_EQ(mon_detector_parse("fige", &d), 0);
    CHECK_EQ(d, MON_DET_FLAT);
    CHECK_EQ(mon_detector_parse("FIGE", &d), GU_EINVAL);
    CHECK_STR(mon_detector_code(MON_DET_SEASONAL), "saisonnier");
    CHECK_STR(mon_detector_label(MON_DET_FLAT), "Capteur figé");
}

TESTS(T(test_spike), T(test_level_shift), T(test_stuck), T(test_night_leak),
      T(test_weekly_pattern), T(test_save_load_resume), T(test_step_refuses),
      T(test_params_json))
