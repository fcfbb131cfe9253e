/*
 * monitor_bench - figures for the detectors (bench/monitor/run.sh runs
 * it; figures, never pass/fail).
 *
 *   monitor_bench speed [POINTS]    points/s through the whole ensemble
 *                                   (every detector on) on one core, and
 *                                   the state's size per series
 *   monitor_bench nab DATA OUT      NAB result files for the ensemble
 *                                   (OUT/guichet) and for each detector
 *                                   alone (OUT/guichet_<code>)
 */
#include "monitor/mon_detect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
speed(long n)
{
    struct mon_params p;
    struct mon_state *s;
    struct mon_verdict vd;
    struct mon_obs o;
    uint32_t r = 12345;
    double t0, c0, dt, dc, sum = 0;
    long flagged = 0;
    enum { SERIES = 64 };
    struct mon_state *many[SERIES];

    mon_params_default(&p);
    for (int i = 0; i < MON_DET_COUNT; i++)
        p.enabled[i] = true;
    /* 64 series fed round-robin, as a server sees them: the states do
     * not all sit in L1. */
    for (int k = 0; k < SERIES; k++)
        many[k] = mon_state_new(&p);
    s = many[0];
    (void)s;
    t0 = clock_s(CLOCK_MONOTONIC);
    c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < n; i++) {
        long step = i / SERIES;
        int k = (int)(i % SERIES);

        r = r * 1664525u + 1013904223u;
        o.t = 1704067200 + step * 60;
        o.v = 50 + 10 * sin((double)step * 0.0043633) +
              (double)(r >> 8) / (double)(1u << 24);
        if (step % 5000 == 4999)
            o.v += 40;
        o.local_minute = (int)((o.t % 86400) / 60);
        o.local_weekday = (int)((o.t / 86400 + 3) % 7);
        if (mon_step(many[k], &p, &o, &vd) < 0)
            return 1;
        sum += vd.score;
        flagged += vd.anomaly;
    }
    dt = clock_s(CLOCK_MONOTONIC) - t0;
    dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    /* Wall clock, and the CPU time this process got: on a shared
     * machine the core also runs others, the second figure is the
     * detectors' own rate. */
    printf("points %ld, series %d, seconds %.3f, points/s %.0f, "
           "cpu seconds %.3f, points per cpu second %.0f, "
           "flagged %ld (checksum %.3f)\n",
           n, SERIES, dt, (double)n / dt, dc, (double)n / dc, flagged, sum);
    printf("state bytes per series %zu (saved image %zu)\n", mon_state_size(),
           mon_state_size() + 16);
    for (int k = 0; k < SERIES; k++)
        mon_state_free(many[k]);
    return 0;
}

static int
nab(const char *data, const char *out)
{
    struct mon_params p;
    struct gu_err err;
    size_t files;
    char name[64];

    mon_params_default(&p);
    if (mon_nab_run_with(data, out, "guichet", &p, &files, &err) < 0) {
        fprintf(stderr, "%s\n", err.user);
        return 1;
    }
    for (int d = 0; d < MON_DET_COUNT; d++) {
        mon_params_default(&p);
        for (int i = 0; i < MON_DET_COUNT; i++)
            p.enabled[i] = i == d;
        snprintf(name, sizeof name, "guichet_%s",
                 mon_detector_code((enum mon_detector)d));
        if (mon_nab_run_with(data, out, name, &p, &files, &err) < 0) {
            fprintf(stderr, "%s\n", err.user);
            return 1;
        }
    }
    printf("%zu files per detector in %s\n", files, out);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "speed") == 0)
        return speed(argc >= 3 ? strtol(argv[2], NULL, 10) : 20000000L);
    if (argc == 4 && strcmp(argv[1], "nab") == 0)
        return nab(argv[2], argv[3]);
    fprintf(stderr, "usage: monitor_bench speed [POINTS] | nab DATA OUT\n");
    return 2;
}
