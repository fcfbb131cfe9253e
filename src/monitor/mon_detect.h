/*
 * mon_detect.h - streaming anomaly detectors and their ensemble (see
 * mon.h). Pure computation: no storage, no clock, no allocation per
 * point.
 *
 * Each sensor has one struct mon_state; mon_step() feeds it one
 * measurement at a time, in time order, and returns a verdict: the
 * ensemble score in [0, 1], each detector's own score, which detector
 * weighed most and how far the value is from what it expected. Cost per
 * point is O(1) or O(window) with small fixed windows; the state has a
 * fixed size (no pointer inside) so it is saved as bytes
 * (mon_state_save) with the sensor and loaded after a restart to resume
 * exactly where it left off.
 *
 * Detectors:
 *   gauss      windowed Gaussian: z-score against the mean and deviation
 *              of the last points (the floor); with it, the novelty of
 *              the recent sequence of quantised values (a new pattern
 *              inside the usual range) and, for a positive quantity,
 *              the deviation of its logarithm (a fall towards zero);
 *   saisonnier seasonal robust z-score: median / MAD of the same hour of
 *              the week over the last weeks, and the residual against a
 *              time-of-day profile (a normal value at the wrong time);
 *   rupture    level shifts: two-sided CUSUM / Page-Hinkley;
 *   nuit       minimum night flow (water networks, leaks): the minimum
 *              over the night window against its own history;
 *   fige       flatline / stuck sensor: the same value too long for
 *              this sensor.
 * The ensemble combines them with weights and the sensitivity an agent
 * sets per asset (the Gaussian deviation, the deviation of the logarithm
 * of a positive quantity, the time-of-day residual, the weekly profile's
 * deviation and the novelty rate each through an anomaly likelihood; a
 * deviation that recurs at the same time every day
 * is not told); mon_params_default() is the configuration used for every
 * file of the Numenta benchmark and the product's default.
 */
#ifndef MONITOR_MON_DETECT_H
#define MONITOR_MON_DETECT_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mon_detector {
    MON_DET_GAUSS = 0,
    MON_DET_SEASONAL,
    MON_DET_SHIFT,
    MON_DET_NIGHT,
    MON_DET_FLAT,
    MON_DET_COUNT
};

/* "gauss", "saisonnier", "rupture", "nuit", "fige"; parse: GU_EINVAL. */
const char *mon_detector_code(enum mon_detector d);
int mon_detector_parse(const char *s, enum mon_detector *out);
/* French label for users: « Moyenne glissante (gaussienne) »... */
const char *mon_detector_label(enum mon_detector d);

/* The ensemble's configuration, per sensor (an agent tunes it per asset). */
struct mon_params {
    double sensitivity;              /* 0 (calm) .. 1 (alert early);
                                        default 0.5 */
    bool enabled[MON_DET_COUNT];     /* "nuit" only makes sense for flows */
    int night_start_min;             /* local minutes of day: night window */
    int night_end_min;               /*   for "nuit", default 02:00-04:00 */
    int flat_min_seconds;            /* "fige": shortest flat run flagged;
                                        0 = learnt from the sensor */
};
void mon_params_default(struct mon_params *p);
/* The score at or above which a point is anomalous, from sensitivity. */
double mon_params_threshold(const struct mon_params *p);
/*
 * JSON form stored with the sensor and used by the API:
 *   {"sensibilite": 0.5, "detecteurs": ["gauss", "saisonnier", ...],
 *    "nuit": "02:00-04:00", "fige_secondes": 0}
 * Missing keys keep the defaults. Parse: GU_EINVAL with err->field and a
 * French err->user. Format writes into buf (>= 256 bytes), NUL-terminated.
 */
int mon_params_parse(const char *json, struct mon_params *out,
                     struct gu_err *err);
int mon_params_format(const struct mon_params *p, char *buf, size_t cap);

/* One measurement as the detectors see it. */
struct mon_obs {
    int64_t t;          /* unix seconds (UTC) */
    double v;           /* finite */
    int local_minute;   /* minutes since local midnight, 0..1439 */
    int local_weekday;  /* 0 = Monday .. 6 = Sunday */
};

struct mon_verdict {
    double score;                /* ensemble, [0, 1] */
    double det[MON_DET_COUNT];   /* each detector, [0, 1]; 0 when off */
    enum mon_detector top;       /* the detector that weighed most */
    double expected;             /* what `top` expected here */
    double deviation;            /* how far, in robust deviations (signed) */
    bool anomaly;                /* score >= threshold and not warming */
    bool warming;                /* still learning (first points) */
};

/* Opaque, fixed size, no pointers: memcpy-able. */
struct mon_state;
size_t mon_state_size(void);
/* Allocate and initialise (gu_xmalloc: aborts on memory exhaustion). */
struct mon_state *mon_state_new(const struct mon_params *p);
void mon_state_free(struct mon_state *s);
/* Reset to the freshly initialised state (params changed a lot). */
void mon_state_reset(struct mon_state *s, const struct mon_params *p);

/*
 * Feed one measurement (o->t >= the last fed t; an earlier or equal t
 * returns GU_EINVAL and changes nothing; a non-finite value too). Fills
 * *out. Params may change between calls (tuning): the state adapts.
 */
int mon_step(struct mon_state *s, const struct mon_params *p,
             const struct mon_obs *o, struct mon_verdict *out);

/* The detectors' version: the state image's format, bumped whenever
 * their behaviour changes (shown in an alert's « Pourquoi ? »). */
unsigned mon_detect_version(void);

/* Last fed t, 0 before the first point. */
int64_t mon_state_last_t(const struct mon_state *s);

/*
 * Save: a versioned, checksummed byte image of the state into buf
 * (cap >= mon_state_size() + 16); returns the bytes written. Load:
 * GU_EINVAL on a wrong version, size or checksum (the caller then starts
 * from a fresh state and logs it), the state untouched.
 */
size_t mon_state_save(const struct mon_state *s, uint8_t *buf, size_t cap);
int mon_state_load(struct mon_state *s, const uint8_t *buf, size_t len);

/*
 * The offline runner behind `guichet monitor nab DATA_DIR OUT_DIR`: for
 * every DATA_DIR/<category>/<file>.csv (columns timestamp,value; NAB's
 * "YYYY-MM-DD HH:MM:SS" local timestamps) writes
 * OUT_DIR/guichet/<category>/guichet_<file>.csv with the columns
 * timestamp,value,anomaly_score (scores in [0, 1], one row per input
 * row), with mon_params_default(). *files gets the number of files
 * written. GU_EIO / GU_EINVAL with a French err->user naming the file and
 * line.
 */
int mon_nab_run(const char *data_dir, const char *out_dir, size_t *files,
                struct gu_err *err);

/*
 * The same with given parameters, writing OUT_DIR/<name>/<category>/
 * <name>_<file>.csv (bench/monitor scores single detectors this way).
 * name: [A-Za-z0-9_-], at most 64 bytes; GU_EINVAL otherwise.
 */
int mon_nab_run_with(const char *data_dir, const char *out_dir,
                     const char *name, const struct mon_params *p,
                     size_t *files, struct gu_err *err);

#endif
