/*
 * mon_detect_series.h - what the detector tests share to build synthetic
 * series: a fixed start, deterministic noise and an observation at an
 * instant (UTC taken as local time). Included by test_mon_detect*.c.
 */
#ifndef TESTS_MON_DETECT_SERIES_H
#define TESTS_MON_DETECT_SERIES_H

#include "monitor/mon_detect.h"

#include <stdint.h>

#define T0 1704067200 /* Monday 2024-01-01 00:00 UTC */

/* Deterministic noise in [-1, 1]; set rng_state to restart a series. */
static uint32_t rng_state;

static double
noise(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (double)(rng_state >> 8) / (double)(1u << 23) - 1.0;
}

static void
obs_at(struct mon_obs *o, int64_t t, double v)
{
    o->t = t;
    o->v = v;
    o->local_minute = (int)((t % 86400) / 60);
    o->local_weekday = (int)((t / 86400 + 3) % 7); /* 1970-01-01: Thursday */
}

#endif
