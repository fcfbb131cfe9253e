/*
 * mon_detect.c - streaming detectors and their ensemble (see
 * mon_detect.h). Pure computation on core only: the state is one flat
 * struct (no pointer), every step is O(window) at most with small fixed
 * windows, and the state is saved as a versioned, checksummed image.
 *
 * Scores. Each detector turns its evidence into a robust deviation z
 * (signed, in deviations of its own reference) and then into a score in
 * [0, 1] that is 0 for ordinary deviations (sparse output) and grows
 * linearly between two z levels. Five streams of evidence also go
 * through an "anomaly likelihood" (below), which calibrates each against
 * its own history:
 *   - the Gaussian deviation (gauss);
 *   - the residual against a time-of-day profile (saisonnier), used only
 *     once the profile explains the series at least as well as its mean;
 *   - the weekly profile's robust deviation (saisonnier), once ready;
 *   - the Gaussian deviation of the logarithm (gauss), for a positive
 *     quantity (no value <= 0 seen): a fall towards zero is many
 *     deviations away on the scale of ratios, a few on the linear one;
 *   - the novelty rate of the recent sequence of quantised values (part
 *     of gauss): the share of the last points whose (3 previous levels ->
 *     level) transition had never been seen, in the spirit of Numenta's
 *     contextual detectors (CAD OSE).
 * The ensemble takes the largest of the likelihoods and the weighted
 * detector scores. A deviation no larger than those seen at about the
 * same time of day (within the hour) on at least two of the previous
 * days (a nightly job) is not news, nor is a time-of-day residual that
 * the same hour of the week explains (a weekend's shape), nor a jump no
 * larger than those of the last week (a boiler's Monday start); the
 * novelty rate waits for a week of history. After a flagged point it
 * holds off for a while (the incident is already told) so that the
 * output marks onsets, which is what both an agent and NAB's scoring
 * reward.
 */
#include "monitor/mon_detect.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The shared configuration, chosen on the whole NAB corpus (41 files)
 * with one set of values for all (bench/monitor/README.md says what was
 * tried). CUSUM: slack SH_K and decision level SH_H in deviations; a
 * first difference flags from SH_D0 deviations. The ensemble's score is
 * the anomaly likelihood of the Gaussian evidence, or a detector's own
 * score times its weight (the seasonal profile only explains: on NAB it
 * cost 4 points). After a flagged point the next HOLD_POINTS points are
 * multiplied by HOLD_MUL (the incident is told once).
 */
#define SH_K 2.0
#define SH_H 30.0
#define SH_D0 20.0
#define W_FLAT 1.0
#define W_SHIFT 1.0
#define W_SEAS 0.0
#define HOLD_MUL 0.0
/*
 * A first difference no larger than JUMP_TOL times the largest one seen
 * on the last JUMP_DAYS days is not a rupture: a boiler that starts every
 * school morning jumps just as much on Monday, after a quiet weekend in
 * which the short spread of the differences forgot it (the demo's boiler:
 * four false « rupture » alerts; on NAB +0.1).
 */
#define JUMP_DAYS 7
#define JUMP_TOL 1.2
/*
 * The time-of-day residual is not news when the same hour of the week
 * explains at least half of it: |v - weekly| < WEEK_EXPLAINS x |v - daily|
 * (Saturday's late morning peak against the weekdays' profile). From the
 * first week on, while the weekly channel itself waits for SEAS_MIN weeks
 * (the demo's reservoir: two false alerts on Saturday mornings; on NAB
 * low FP +0.5, standard unchanged).
 */
#define WEEK_EXPLAINS 0.5

#define WARM_POINTS 150     /* verdicts are "warming" before this */
#define GAUSS_W 2000.0      /* windowed Gaussian: horizon in points */
#define SEAS_SLOTS (7 * 24) /* hours of the week */
#define SEAS_K 4            /* weeks kept per hour of the week */
#define SEAS_MIN 3          /* weeks needed before scoring */
#define NIGHT_K 14          /* nights kept for "nuit" */
#define NIGHT_MIN 5         /* nights needed before scoring */
#define FLAT_MIN_CHANGES 20 /* a sensor that never moved is not stuck */
#define HOLD_POINTS 90      /* hold-off after a flagged point */

/*
 * Time-of-day profile: DAY_SLOTS slots of the day, each an exponential
 * mean over about DAY_H days; its residual scores after DAY_READY_S of
 * history, spread by a variance winsorised at DAY_WIN deviations (a
 * spike does not blind the next days); the channel counts only while the
 * residual variance is below DAY_GAIN times the Gaussian's (the profile
 * explains the series at least as well as its mean). The slot means'
 * steps are winsorised the same way. DAY_GAIN was 0.5 ("clearly better")
 * before the weekly and habit gates existed; with them the stricter gate
 * only hid real time-of-day deviations: on NAB 0.5 / 0.6 / 0.7 / 0.75 /
 * 0.8 / 1 / 1.5 / 2 / no gate: 70.29 / 70.00 / 69.93 / 70.79 / 70.82 /
 * 70.78 / 70.73 / 70.57 / 70.49 (bench/monitor/README.md).
 */
#define DAY_SLOTS 96
#define DAY_H 5.0
#define DAY_WIN 6.0
#define DAY_READY_S (2 * 86400)
#define DAY_GAIN 1.0
/*
 * Recurrence: the largest short-mean Gaussian deviation seen in each
 * slot of the day, decayed by REC_DECAY a day; a deviation of at least
 * REC_MIN that stays within REC_TOL times the largest of the slots
 * within REC_NEAR of now, when such deviations were seen there on at
 * least two past days (a decayed count of REC_DAYS), is a daily habit,
 * not an anomaly. The decay counts the days elapsed, with or without
 * points (state version 6: before, a gap of several days decayed once).
 * REC_NEAR slots of 15 minutes on either side: a daily job is a habit
 * wherever it starts within the hour, as jobs do (a backup waiting for
 * another, a scheduler under load: NAB's ec2_cpu_utilization_c6585a
 * starts between 03:14 and 04:09). It was 2 (+-30 minutes) before state
 * version 7. On NAB 1 / 2 / 3 / 4 / 5 / 6 slots: 71.57 / 71.88 / 72.12 /
 * 72.20 / 71.01 / 71.01 standard, 4 the best on the development half
 * (bench/monitor/README.md); from 5 (+-75 minutes) a real incident near
 * a habit's time is hidden (ec2_network_in_5abac7's second window).
 */
#define REC_DECAY 0.85
#define REC_MIN 2.0
#define REC_TOL 1.2
#define REC_NEAR 4
#define REC_DAYS 1.5
#define REC_GAP_MAX 60
/*
 * Novelty: values cut into NOV_Q levels of the range seen so far
 * (restarted when a value falls NOV_GROW widths outside it); a point is
 * novel when the transition from its NOV_L previous levels to its level
 * was never seen; the evidence is the novel share of the last NOV_RECENT
 * points, once NOV_LEARN points were seen since the last restart.
 */
#define NOV_Q 8
#define NOV_L 3
#define NOV_KEYS (NOV_Q * NOV_Q * NOV_Q * NOV_Q) /* NOV_Q^(NOV_L+1) */
#define NOV_GROW 0.25
#define NOV_RECENT 32
#define NOV_LEARN 300
/*
 * The novelty rate speaks only once the sensor has NOV_WEEK of history:
 * before a whole week has been seen, a pattern of a weekday not yet met
 * (a pump's rare cycle, a boiler's Monday) is new to it but not an
 * anomaly. NAB does not score its first 15 % either. On NAB: +0.3
 * (5 days +0.2, 6 days +0.1, 8 days -1.1: a window falls there); on the
 * demo, two false alerts fewer (the pump and the boiler in their first
 * week).
 */
#define NOV_WEEK (7 * 86400)
/*
 * The same for the weekly profile's likelihood: its hours of the week
 * are ready after SEAS_MIN weeks, and its likelihood then calibrates on
 * one more week of its own history (every weekday once) before it
 * speaks. Before, a boiler's first Monday start or Wednesday noon seen
 * by a likelihood that had only met a weekend was news (the demo, run on
 * other days: up to three false alerts). On NAB +0.2 (only the long
 * files reach three weeks).
 */
#define WEEK_LIK_AGE ((SEAS_MIN + 1) * 7 * 86400)

/*
 * The logarithmic view: positive quantities (prices, traffic, CPU, flows
 * that never stop) vary by ratios, and a value falling to a tenth or a
 * hundredth of its level is one of the clearest anomalies there is,
 * though it is only two or three deviations below the mean on the
 * linear scale when the series is skewed (on NAB: exchange-2_cpm's price
 * falling to 0.001, 0.3 usual). Its deviation (the same exponential
 * window as the Gaussian's, on log v) goes through its own likelihood,
 * beside the others, once and as long as no value <= 0 was seen. On NAB
 * 70.78 -> 71.88 standard; weighting it 0.6-0.9 gives 71.96-72.10,
 * 0.3-0.5 loses it (70.78): it is kept unweighted, like every other
 * likelihood.
 */

#define STATE_MAGIC 0x534e444du /* "MDNS" */
#define STATE_VERSION 7u

struct ew {
    double mean, var;
    int n;
};

struct gauss {
    struct ew w;
};

struct seasonal {
    double slot[SEAS_SLOTS][SEAS_K]; /* hourly means, newest at idx */
    uint8_t slot_n[SEAS_SLOTS];
    uint8_t slot_idx[SEAS_SLOTS];
    int cur_slot;     /* -1 before the first point */
    int64_t cur_hour; /* t / 3600 of the hour being accumulated */
    double cur_sum;
    int cur_n;
    double wexp; /* the median of this hour of the week, when has_w */
    bool has_w;  /* this hour of the week has at least one past week */
};

struct shift {
    struct ew ref;  /* slow reference level and spread */
    struct ew diff; /* first differences */
    double gpos, gneg;
    double prev_v;
    double last_zd;         /* the last point's first-difference deviation */
    double jmax[JUMP_DAYS]; /* largest |first difference| of each last day */
    int64_t jday;           /* the day (t / 86400) of jmax[jidx] */
    int jidx;
};

struct night {
    double hist[NIGHT_K];
    int hist_n, hist_idx;
    double cur_min;
    bool cur_has;
    double held; /* the last finished night's score, reported once */
};

struct daily {
    double mean[DAY_SLOTS]; /* exponential mean per slot of the day */
    uint16_t n[DAY_SLOTS];  /* points seen per slot (saturates) */
    int64_t t0;             /* first point's time */
    double err_var;         /* winsorised residual variance */
    int err_n;
    double last_z;            /* the last point's residual deviation */
    double last_exp;          /* and its slot's mean before it */
    float rec[DAY_SLOTS];     /* recurrence: decayed largest deviation */
    float days[DAY_SLOTS];    /* decayed count of past days with one */
    uint8_t today[DAY_SLOTS]; /* a deviation in this slot today */
    int64_t rec_day;          /* day of the last decay */
};

struct novel {
    uint8_t seen[(NOV_KEYS + 7) / 8]; /* transitions seen (bitset) */
    double lo, hi;                    /* the range the levels are cut from */
    uint64_t recent; /* novelty of the last points, newest low */
    uint32_t ctx;    /* the last NOV_L levels, base NOV_Q */
    int nctx;
    int64_t since; /* points since the last restart */
    bool has_range;
};

struct flat {
    double prev_v;
    int64_t run_start_t;
    int64_t max_run_s; /* longest flat run seen that ended */
    int changes;
    struct ew dt; /* typical spacing of points */
    bool flagged;
};

/*
 * "Anomaly likelihood" (the idea of Numenta's HTM detector): the short
 * mean of the raw evidence against the distribution of that short mean
 * over a long history. A sensor whose deviations are always large gets
 * used to them; a sudden change of regime stands out.
 */
#define LIK_SHORT 4
#define LIK_LONG 500.0

struct lik {
    double ring[LIK_SHORT];
    int pos, n;
    double sum;
    struct ew hist;
};

struct mon_state {
    int64_t last_t;
    struct lik lk;      /* on the Gaussian deviation */
    struct lik lk_day;  /* on the time-of-day residual */
    struct lik lk_nov;  /* on the novelty rate */
    struct lik lk_week; /* on the weekly profile's deviation */
    struct lik lk_log;  /* on the deviation of log v */
    struct ew logw;     /* exponential window of log v */
    bool nonpos;        /* a value <= 0 was seen: no logarithmic view */
    int64_t n;
    int hold; /* points left in the hold-off */
    struct gauss g;
    struct seasonal se;
    struct shift sh;
    struct night ni;
    struct flat fl;
    struct daily dy;
    struct novel nv;
};

static const char *const codes[MON_DET_COUNT] = {"gauss", "saisonnier",
                                                 "rupture", "nuit", "fige"};
static const char *const labels[MON_DET_COUNT] = {
    "Moyenne glissante (gaussienne)", "Profil hebdomadaire robuste",
    "Rupture de niveau", "Débit minimum de nuit", "Capteur figé"};

const char *
mon_detector_code(enum mon_detector d)
{
    return (unsigned)d < MON_DET_COUNT ? codes[d] : "gauss";
}

const char *
mon_detector_label(enum mon_detector d)
{
    return (unsigned)d < MON_DET_COUNT ? labels[d] : labels[0];
}

int
mon_detector_parse(const char *s, enum mon_detector *out)
{
    for (int i = 0; i < MON_DET_COUNT; i++)
        if (s && strcmp(s, codes[i]) == 0) {
            *out = (enum mon_detector)i;
            return 0;
        }
    return GU_EINVAL;
}

void
mon_params_default(struct mon_params *p)
{
    memset(p, 0, sizeof *p);
    p->sensitivity = 0.5;
    for (int i = 0; i < MON_DET_COUNT; i++)
        p->enabled[i] = i != MON_DET_NIGHT;
    p->night_start_min = 120;
    p->night_end_min = 240;
}

unsigned
mon_detect_version(void)
{
    return STATE_VERSION;
}

double
mon_params_threshold(const struct mon_params *p)
{
    return 0.75 - 0.5 * p->sensitivity;
}

/* ------------------------------------------------------------------ */
/* Parameters as JSON                                                  */
/* ------------------------------------------------------------------ */

#define FLAT_SECONDS_MAX (30 * 86400)

static int
parse_hhmm(const char *s, int *out)
{
    if (strlen(s) != 5 || s[2] != ':')
        return GU_EINVAL;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return GU_EINVAL;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return GU_EINVAL;
    *out = h * 60 + m;
    return 0;
}

static int
parse_night(const char *s, int *start, int *end)
{
    char a[6], b[6];

    if (strlen(s) != 11 || s[5] != '-')
        return GU_EINVAL;
    memcpy(a, s, 5);
    a[5] = '\0';
    memcpy(b, s + 6, 5);
    b[5] = '\0';
    if (parse_hhmm(a, start) < 0 || parse_hhmm(b, end) < 0 || *start == *end)
        return GU_EINVAL;
    return 0;
}

int
mon_params_parse(const char *json, struct mon_params *out, struct gu_err *err)
{
    struct mon_params p;
    json_error_t jerr;
    json_t *root, *v;
    const char *key;
    int rc = 0;

    mon_params_default(&p);
    if (!json || !*json) {
        *out = p;
        return 0;
    }
    if (strlen(json) > 4096)
        return gu_err_set(err, GU_EINVAL, "parametres",
                          "Paramètres trop longs (4 096 caractères au plus).",
                          "mon params: too long");
    root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return gu_err_set(err, GU_EINVAL, "parametres",
                          "Paramètres illisibles : un objet JSON est attendu.",
                          "mon params: not a JSON object");
    }
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "sensibilite") == 0) {
            if (!json_is_number(v) || !(json_number_value(v) >= 0.0) ||
                json_number_value(v) > 1.0) {
                rc = gu_err_set(err, GU_EINVAL, "sensibilite",
                                "La sensibilité est un nombre entre 0 et 1.",
                                "mon params: bad sensibilite");
                goto out;
            }
            p.sensitivity = json_number_value(v);
        } else if (strcmp(key, "detecteurs") == 0) {
            size_t i;
            json_t *d;

            if (!json_is_array(v) || json_array_size(v) == 0 ||
                json_array_size(v) > MON_DET_COUNT) {
                rc = gu_err_set(err, GU_EINVAL, "detecteurs",
                                "Choisissez au moins un détecteur parmi "
                                "gauss, saisonnier, rupture, nuit, fige.",
                                "mon params: bad detecteurs");
                goto out;
            }
            for (i = 0; i < MON_DET_COUNT; i++)
                p.enabled[i] = false;
            json_array_foreach(v, i, d)
            {
                enum mon_detector det;

                if (mon_detector_parse(json_string_value(d), &det) < 0) {
                    rc = gu_err_set(err, GU_EINVAL, "detecteurs",
                                    "Détecteur inconnu : les détecteurs "
                                    "sont gauss, saisonnier, rupture, nuit "
                                    "et fige.",
                                    "mon params: unknown detector");
                    goto out;
                }
                p.enabled[det] = true;
            }
        } else if (strcmp(key, "nuit") == 0) {
            if (!json_is_string(v) ||
                parse_night(json_string_value(v), &p.night_start_min,
                            &p.night_end_min) < 0) {
                rc = gu_err_set(err, GU_EINVAL, "nuit",
                                "La plage de nuit s'écrit « HH:MM-HH:MM », "
                                "par exemple « 02:00-04:00 ».",
                                "mon params: bad nuit");
                goto out;
            }
        } else if (strcmp(key, "fige_secondes") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > FLAT_SECONDS_MAX) {
                rc = gu_err_set(err, GU_EINVAL, "fige_secondes",
                                "La durée « figé » est un nombre entier de "
                                "secondes entre 0 (apprise) et 2 592 000 "
                                "(30 jours).",
                                "mon params: bad fige_secondes");
                goto out;
            }
            p.flat_min_seconds = (int)json_integer_value(v);
        } else {
            rc = gu_err_set(err, GU_EINVAL, "parametres",
                            "Paramètre inconnu : les paramètres sont "
                            "sensibilite, detecteurs, nuit et fige_secondes.",
                            "mon params: unknown key");
            goto out;
        }
    }
    *out = p;
out:
    json_decref(root);
    return rc;
}

int
mon_params_format(const struct mon_params *p, char *buf, size_t cap)
{
    char dets[80] = "";
    size_t len = 0;
    int n;

    for (int i = 0; i < MON_DET_COUNT; i++) {
        if (!p->enabled[i])
            continue;
        n = snprintf(dets + len, sizeof dets - len, "%s\"%s\"", len ? ", " : "",
                     codes[i]);
        if (n < 0 || (size_t)n >= sizeof dets - len)
            return GU_EINTERNAL;
        len += (size_t)n;
    }
    n = snprintf(buf, cap,
                 "{\"sensibilite\": %.6g, \"detecteurs\": [%s], "
                 "\"nuit\": \"%02d:%02d-%02d:%02d\", \"fige_secondes\": %d}",
                 p->sensitivity, dets, p->night_start_min / 60,
                 p->night_start_min % 60, p->night_end_min / 60,
                 p->night_end_min % 60, p->flat_min_seconds);
    if (n < 0 || (size_t)n >= cap)
        return GU_ETOOBIG;
    return 0;
}

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

size_t
mon_state_size(void)
{
    return sizeof(struct mon_state);
}

void
mon_state_reset(struct mon_state *s, const struct mon_params *p)
{
    (void)p;
    memset(s, 0, sizeof *s);
    s->se.cur_slot = -1;
}

struct mon_state *
mon_state_new(const struct mon_params *p)
{
    struct mon_state *s = gu_malloc(sizeof *s);

    if (!s)
        abort();
    mon_state_reset(s, p);
    return s;
}

void
mon_state_free(struct mon_state *s)
{
    gu_free(s);
}

int64_t
mon_state_last_t(const struct mon_state *s)
{
    return s->last_t;
}

/* FNV-1a, 32 bits: catches a torn or foreign image, not an attacker. */
static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static void
put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t
get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

/* Image: magic, version, payload size, payload, FNV-1a of all before. */
size_t
mon_state_save(const struct mon_state *s, uint8_t *buf, size_t cap)
{
    size_t n = sizeof *s;

    if (cap < n + 16)
        return 0;
    put32(buf, STATE_MAGIC);
    put32(buf + 4, STATE_VERSION);
    put32(buf + 8, (uint32_t)n);
    memcpy(buf + 12, s, n);
    put32(buf + 12 + n, fnv1a(buf, 12 + n));
    return n + 16;
}

int
mon_state_load(struct mon_state *s, const uint8_t *buf, size_t len)
{
    size_t n = sizeof *s;

    if (!buf || len != n + 16 || get32(buf) != STATE_MAGIC ||
        get32(buf + 4) != STATE_VERSION || get32(buf + 8) != n ||
        get32(buf + 12 + n) != fnv1a(buf, 12 + n))
        return GU_EINVAL;
    memcpy(s, buf + 12, n);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Detectors                                                           */
/* ------------------------------------------------------------------ */

/* 0 below z0 deviations, 1 from z1, linear between. */
static double
ramp(double z, double z0, double z1)
{
    double a = fabs(z);

    if (!(a > z0))
        return 0.0;
    if (a >= z1)
        return 1.0;
    return (a - z0) / (z1 - z0);
}

/* A spread never below a small part of the level: a flat history must
 * not turn the smallest wobble into an infinite deviation. */
static double
floor_sd(double sd, double level)
{
    double f = 1e-3 * fabs(level) + 1e-9;

    return sd > f ? sd : f;
}

static void
ew_add(struct ew *e, double x, double alpha)
{
    if (e->n == 0) {
        e->mean = x;
        e->var = 0.0;
    } else {
        double d = x - e->mean;

        e->mean += alpha * d;
        e->var = (1.0 - alpha) * (e->var + alpha * d * d);
    }
    e->n++;
}

static double
gauss_step(struct gauss *g, double v, double *exp, double *dev)
{
    double score = 0.0;

    *exp = v;
    *dev = 0.0;
    if (g->w.n >= 16) {
        double sd = floor_sd(sqrt(g->w.var), g->w.mean);

        *exp = g->w.mean;
        *dev = (v - g->w.mean) / sd;
        score = ramp(*dev, 3.0, 7.0);
    }
    /* Exponential window: a cumulative mean for the first points, then
     * a fixed horizon of GAUSS_W points. */
    ew_add(&g->w, v, 1.0 / fmin((double)g->w.n + 1.0, GAUSS_W));
    return score;
}

/* Median of up to 16 values, by insertion sort of a copy. */
static double
median(const double *x, int n)
{
    double a[16] = {0};

    for (int i = 0; i < n; i++) {
        double t = x[i];
        int j = i;

        while (j > 0 && a[j - 1] > t) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = t;
    }
    return n % 2 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

static void
median_mad(const double *x, int n, double *med, double *mad)
{
    double d[16];

    *med = median(x, n);
    for (int i = 0; i < n; i++)
        d[i] = fabs(x[i] - *med);
    *mad = median(d, n);
}

static double
seasonal_step(struct seasonal *se, const struct mon_obs *o, double spread,
              double *exp, double *dev)
{
    int slot = o->local_weekday * 24 + o->local_minute / 60;
    int64_t hour = o->t / 3600;
    double score = 0.0;

    *exp = o->v;
    *dev = 0.0;
    if (slot < 0 || slot >= SEAS_SLOTS)
        return 0.0;
    /* Close the hour being accumulated when the hour changes. */
    if (se->cur_slot >= 0 && hour != se->cur_hour && se->cur_n > 0) {
        int cs = se->cur_slot;

        se->slot[cs][se->slot_idx[cs]] = se->cur_sum / se->cur_n;
        se->slot_idx[cs] = (uint8_t)((se->slot_idx[cs] + 1) % SEAS_K);
        if (se->slot_n[cs] < SEAS_K)
            se->slot_n[cs]++;
        se->cur_sum = 0;
        se->cur_n = 0;
    }
    se->cur_slot = slot;
    se->cur_hour = hour;
    se->cur_sum += o->v;
    se->cur_n++;
    se->has_w = se->slot_n[slot] >= 1;
    if (se->has_w)
        se->wexp = median(se->slot[slot], se->slot_n[slot]);
    if (se->slot_n[slot] >= SEAS_MIN) {
        double med, mad, sd;

        median_mad(se->slot[slot], se->slot_n[slot], &med, &mad);
        /* The hour-to-hour spread of one point is wider than the spread
         * of hourly means: never below a third of the recent spread. */
        sd = 1.4826 * mad;
        if (sd < spread / 3)
            sd = spread / 3;
        sd = floor_sd(sd, med);
        *exp = med;
        *dev = (o->v - med) / sd;
        score = ramp(*dev, 4.0, 8.0);
    }
    return score;
}

/* Largest |first difference| over the last JUMP_DAYS days, then records
 * d in today's slot (days are UTC days: a boundary, not a calendar). */
static double
jump_recent(struct shift *sh, int64_t t, double d)
{
    int64_t day = t / 86400;
    double m = 0.0;

    if (day != sh->jday) {
        for (int64_t k = sh->jday + 1; k <= day && k <= sh->jday + JUMP_DAYS;
             k++) {
            sh->jidx = (sh->jidx + 1) % JUMP_DAYS;
            sh->jmax[sh->jidx] = 0.0;
        }
        sh->jday = day;
    }
    for (int k = 0; k < JUMP_DAYS; k++)
        m = fmax(m, sh->jmax[k]);
    sh->jmax[sh->jidx] = fmax(sh->jmax[sh->jidx], fabs(d));
    return m;
}

static double
shift_step(struct shift *sh, double v, int64_t t, int64_t n, double *exp,
           double *dev)
{
    double score = 0.0;

    *exp = v;
    *dev = 0.0;
    if (sh->ref.n >= 32) {
        double sd = floor_sd(sqrt(sh->ref.var), sh->ref.mean);
        double z = (v - sh->ref.mean) / sd;
        double k = SH_K, h = SH_H;

        if (z > 8)
            z = 8;
        if (z < -8)
            z = -8;
        sh->gpos = fmax(0.0, sh->gpos + z - k);
        sh->gneg = fmax(0.0, sh->gneg - z - k);
        *exp = sh->ref.mean;
        double g = fmax(sh->gpos, sh->gneg);

        *dev = z;
        if (g >= h)
            score = fmin(1.0, 0.75 + (g - h) / 48);
        if (score > 0) {
            /* The new level becomes the reference (Page-Hinkley
             * restart). */
            sh->gpos = sh->gneg = 0;
            sh->ref.mean = v;
        }
    }
    /* First-difference evidence: a jump far outside the usual steps. */
    if (n > 0 && sh->diff.n >= 32) {
        double d = v - sh->prev_v;
        double sd = floor_sd(sqrt(sh->diff.var), sh->ref.mean);
        double zd = (d - sh->diff.mean) / sd;
        double s2 = ramp(zd, SH_D0, SH_D0 * 2);

        sh->last_zd = zd;
        if (fabs(d) <= JUMP_TOL * jump_recent(sh, t, d))
            s2 = 0.0;

        if (s2 > score) {
            score = s2;
            *exp = sh->prev_v + sh->diff.mean;
            *dev = zd;
        }
    } else if (n > 0) {
        (void)jump_recent(sh, t, v - sh->prev_v);
    }
    if (n > 0)
        ew_add(&sh->diff, v - sh->prev_v, 1.0 / 64);
    ew_add(&sh->ref, v, 1.0 / 128);
    sh->prev_v = v;
    return score;
}

static bool
in_night(const struct mon_params *p, int minute)
{
    if (p->night_start_min < p->night_end_min)
        return minute >= p->night_start_min && minute < p->night_end_min;
    return minute >= p->night_start_min || minute < p->night_end_min;
}

static double
night_step(struct night *ni, const struct mon_params *p,
           const struct mon_obs *o, double *exp, double *dev)
{
    double score = 0.0;

    *exp = o->v;
    *dev = 0.0;
    if (in_night(p, o->local_minute)) {
        if (!ni->cur_has || o->v < ni->cur_min)
            ni->cur_min = o->v;
        ni->cur_has = true;
        return 0.0;
    }
    if (!ni->cur_has)
        return 0.0;
    /* The night just ended: its minimum against the last nights'. */
    if (ni->hist_n >= NIGHT_MIN) {
        double med, mad, sd;

        median_mad(ni->hist, ni->hist_n, &med, &mad);
        sd = floor_sd(1.4826 * mad, med);
        if (sd < 0.05 * fabs(med))
            sd = 0.05 * fabs(med);
        *exp = med;
        *dev = (ni->cur_min - med) / sd;
        /* Only a higher minimum means a leak. */
        score = *dev > 0 ? ramp(*dev, 3.0, 6.0) : 0.0;
    }
    if (score < 0.5) {
        ni->hist[ni->hist_idx] = ni->cur_min;
        ni->hist_idx = (ni->hist_idx + 1) % NIGHT_K;
        if (ni->hist_n < NIGHT_K)
            ni->hist_n++;
    }
    ni->cur_has = false;
    return score;
}

static double
flat_step(struct flat *fl, const struct mon_params *p, const struct mon_obs *o,
          int64_t n, int64_t prev_t, double *exp, double *dev)
{
    double score = 0.0;

    *exp = o->v;
    *dev = 0.0;
    if (n == 0) {
        fl->prev_v = o->v;
        fl->run_start_t = o->t;
        return 0.0;
    }
    ew_add(&fl->dt, (double)(o->t - prev_t), 1.0 / 64);
    if (o->v != fl->prev_v) {
        int64_t run = prev_t - fl->run_start_t;

        /* A run that ended while flagged was the anomaly, not a
         * normal length. */
        if (!fl->flagged && run > fl->max_run_s)
            fl->max_run_s = run;
        fl->changes++;
        fl->run_start_t = o->t;
        fl->prev_v = o->v;
        fl->flagged = false;
        return 0.0;
    }
    if (fl->changes < FLAT_MIN_CHANGES)
        return 0.0;
    int64_t dur = o->t - fl->run_start_t;
    double limit = p->flat_min_seconds > 0
                       ? (double)p->flat_min_seconds
                       : fmax(2.0 * (double)fl->max_run_s, 10.0 * fl->dt.mean);

    if ((double)dur >= limit) {
        score = fmin(1.0, 0.75 + 0.25 * ((double)dur - limit) / limit);
        fl->flagged = true;
        *dev = (double)dur / fmax(limit, 1.0);
    }
    return score;
}

/*
 * Time-of-day profile: the residual of v against its slot's mean, in
 * winsorised deviations (|z|), or -1 while the profile is not ready.
 * dt: typical spacing of points, to turn DAY_H days into points.
 */
static double
daily_step(struct daily *dy, const struct mon_obs *o, double dt, int64_t n)
{
    int slot = o->local_minute / (1440 / DAY_SLOTS);
    double z = -1.0, per, a;

    dy->last_z = 0.0;
    dy->last_exp = o->v;
    if (n == 0)
        dy->t0 = o->t;
    if (slot < 0 || slot >= DAY_SLOTS)
        return -1.0;
    if (dy->n[slot] > 0 && o->t - dy->t0 >= DAY_READY_S) {
        double e = o->v - dy->mean[slot];

        if (dy->err_n >= 16) {
            double sd = floor_sd(sqrt(dy->err_var), dy->mean[slot]);

            z = fabs(e) / sd;
            dy->last_z = e / sd;
            dy->last_exp = dy->mean[slot];
            e = fmax(-DAY_WIN * sd, fmin(DAY_WIN * sd, e));
        }
        a = 1.0 / fmin((double)dy->err_n + 1.0, 1000.0);
        dy->err_var = dy->err_n ? (1 - a) * dy->err_var + a * e * e : e * e;
        dy->err_n++;
    }
    /* Points per slot and day, so that a slot's mean spans DAY_H days;
     * the step is winsorised too, so a spike does not bend the profile
     * (on NAB: +0.9; on a noisy sine with spikes, a third fewer alerts). */
    per = fmax(86400.0 / DAY_SLOTS / fmax(dt, 1.0), 1.0);
    a = 1.0 / fmin((double)dy->n[slot] + 1.0, DAY_H * per);
    if (dy->n[slot] == 0) {
        dy->mean[slot] = o->v;
    } else {
        double d = o->v - dy->mean[slot];

        if (dy->err_n >= 16) {
            double c = DAY_WIN * floor_sd(sqrt(dy->err_var), dy->mean[slot]);

            d = fmax(-c, fmin(c, d));
        }
        dy->mean[slot] += a * d;
    }
    if (dy->n[slot] < UINT16_MAX)
        dy->n[slot]++;
    return z;
}

/*
 * Recurrence of a deviation at this time of day: true when ez (the
 * Gaussian short-mean deviation) is large but no larger than what the
 * last days showed around the same time. Then records ez.
 */
static bool
daily_recurs(struct daily *dy, const struct mon_obs *o, double ez)
{
    int slot = o->local_minute / (1440 / DAY_SLOTS);
    int64_t day = o->t / 86400;
    double m = 0.0, c = 0.0;
    bool recurs;

    if (slot < 0 || slot >= DAY_SLOTS)
        return false;
    if (dy->rec_day != day) {
        /* One decay per day elapsed, not per day with points: a sensor
         * silent for three weeks (a gateway down) forgets its habits as
         * if it had read normal values all along, instead of keeping
         * them as fresh as yesterday's. Today's marks count as a past
         * day from the first of those days on. Capped at REC_GAP_MAX
         * days (every weight is below 1e-4 then). */
        int64_t gap = day - dy->rec_day;
        float f, f1; /* float as the weights: one day decays as before */

        if (dy->rec_day == 0 || gap < 1)
            gap = 1;
        if (gap > REC_GAP_MAX)
            gap = REC_GAP_MAX;
        f = (float)pow(REC_DECAY, (double)gap);
        f1 = (float)pow(REC_DECAY, (double)(gap - 1));
        for (int k = 0; k < DAY_SLOTS; k++) {
            dy->rec[k] *= f;
            dy->days[k] = dy->days[k] * f + dy->today[k] * f1;
            dy->today[k] = 0;
        }
        dy->rec_day = day;
    }
    for (int k = -REC_NEAR; k <= REC_NEAR; k++) {
        int j = (slot + k + DAY_SLOTS) % DAY_SLOTS;

        m = fmax(m, dy->rec[j]);
        c = fmax(c, dy->days[j]);
    }
    /* A habit: seen on at least two of the last days, not once. */
    recurs =
        m >= REC_MIN && ez >= REC_MIN && ez <= REC_TOL * m && c >= REC_DAYS;
    if (ez > dy->rec[slot])
        dy->rec[slot] = (float)ez;
    if (ez >= REC_MIN)
        dy->today[slot] = 1;
    return recurs;
}

/*
 * Novelty rate of the sequence of levels, in [0, 1], or -1 while
 * learning (the first NOV_LEARN points after a restart).
 */
static double
novel_step(struct novel *nv, double v)
{
    double w, r = -1.0;
    int b;

    if (!nv->has_range) {
        nv->lo = nv->hi = v;
        nv->has_range = true;
    }
    w = nv->hi - nv->lo;
    if (w <= 0 || v < nv->lo - NOV_GROW * w || v > nv->hi + NOV_GROW * w) {
        /* The range grew a lot (or is still empty): the levels mean
         * something else now, learn again. */
        nv->lo = fmin(nv->lo, v);
        nv->hi = fmax(nv->hi, v);
        memset(nv->seen, 0, sizeof nv->seen);
        nv->recent = 0;
        nv->ctx = 0;
        nv->nctx = 0;
        nv->since = 0;
        return -1.0;
    }
    nv->lo = fmin(nv->lo, v);
    nv->hi = fmax(nv->hi, v);
    w = nv->hi - nv->lo;
    b = (int)((v - nv->lo) / w * NOV_Q);
    b = b < 0 ? 0 : b >= NOV_Q ? NOV_Q - 1 : b;
    if (nv->nctx >= NOV_L) {
        uint32_t key = nv->ctx * NOV_Q + (uint32_t)b;
        bool seen = (nv->seen[key >> 3] >> (key & 7)) & 1;

        nv->recent = (nv->recent << 1) | (uint64_t)!seen;
        nv->seen[key >> 3] |= (uint8_t)(1u << (key & 7));
        if (nv->since >= NOV_LEARN)
            r = (double)__builtin_popcountll(
                    nv->recent & ((UINT64_C(1) << NOV_RECENT) - 1)) /
                NOV_RECENT;
    } else {
        nv->nctx++;
    }
    nv->ctx = (nv->ctx * NOV_Q + (uint32_t)b) % (NOV_KEYS / NOV_Q);
    nv->since++;
    return r;
}

/* Raw evidence of a point: the largest deviation among the enabled
 * value detectors, capped. */
static double
raw_evidence(const struct mon_params *p, const struct mon_verdict *v,
             const double *dev, double zdiff)
{
    double r = 0.0;

    (void)v;
    if (p->enabled[MON_DET_GAUSS])
        r = fmax(r, fabs(dev[MON_DET_GAUSS]));
    (void)zdiff;
    return fmin(r, 50.0);
}

static double
lik_step(struct lik *lk, double r, int64_t n)
{
    double mean, sd, z, tail, score = 0.0;

    if (lk->n == LIK_SHORT)
        lk->sum -= lk->ring[lk->pos];
    else
        lk->n++;
    lk->ring[lk->pos] = r;
    lk->sum += r;
    lk->pos = (lk->pos + 1) % LIK_SHORT;
    mean = lk->sum / lk->n;
    if (lk->hist.n >= 100) {
        sd = sqrt(lk->hist.var);
        if (sd < 1e-3)
            sd = 1e-3;
        z = (mean - lk->hist.mean) / sd;
        /* Sparse output: a tail probability above 10^-2.5 (z below
         * 2.74) is no evidence (the lowest threshold, at sensitivity 1,
         * is 0.25); skipping erfc and log there keeps the step cheap. */
        if (z > 2.7) {
            tail = 0.5 * erfc(z / sqrt(2.0));
            score = log(tail + 1e-10) / log(1e-10);
            if (score < 0.25)
                score = 0;
        }
    }
    (void)n;
    ew_add(&lk->hist, mean, 1.0 / fmin((double)lk->hist.n + 1.0, LIK_LONG));
    return score;
}

/* exp(), which mon_step's array of expected values hides. */
static double
unlog(double x)
{
    return exp(x);
}

int
mon_step(struct mon_state *s, const struct mon_params *p,
         const struct mon_obs *o, struct mon_verdict *out)
{
    double exp[MON_DET_COUNT], dev[MON_DET_COUNT];
    double spread;
    int64_t prev_t = s->last_t;

    if ((s->n > 0 && o->t <= s->last_t) || !isfinite(o->v))
        return GU_EINVAL;
    memset(out, 0, sizeof *out);
    spread = sqrt(s->g.w.var);
    /* Every detector learns on every point, enabled or not, so that
     * switching one on does not start it cold. */
    out->det[MON_DET_GAUSS] =
        gauss_step(&s->g, o->v, &exp[MON_DET_GAUSS], &dev[MON_DET_GAUSS]);
    out->det[MON_DET_SEASONAL] = seasonal_step(
        &s->se, o, spread, &exp[MON_DET_SEASONAL], &dev[MON_DET_SEASONAL]);
    out->det[MON_DET_SHIFT] = shift_step(
        &s->sh, o->v, o->t, s->n, &exp[MON_DET_SHIFT], &dev[MON_DET_SHIFT]);
    out->det[MON_DET_NIGHT] =
        night_step(&s->ni, p, o, &exp[MON_DET_NIGHT], &dev[MON_DET_NIGHT]);
    out->det[MON_DET_FLAT] = flat_step(&s->fl, p, o, s->n, prev_t,
                                       &exp[MON_DET_FLAT], &dev[MON_DET_FLAT]);
    double zday =
        daily_step(&s->dy, o, s->fl.dt.n ? s->fl.dt.mean : 300.0, s->n);
    double nov = novel_step(&s->nv, o->v);
    s->last_t = o->t;
    s->n++;

    out->top = MON_DET_GAUSS;
    double best = -1.0;
    for (int i = 0; i < MON_DET_COUNT; i++) {
        if (!p->enabled[i]) {
            out->det[i] = 0.0;
            continue;
        }
        if (out->det[i] > best) {
            best = out->det[i];
            out->top = (enum mon_detector)i;
        }
    }
    out->expected = exp[out->top];
    out->deviation = dev[out->top];
    out->warming = s->n <= WARM_POINTS;
    double lik =
        lik_step(&s->lk, raw_evidence(p, out, dev, s->sh.last_zd), s->n);
    /* Every likelihood learns on every point, as the detectors do. */
    double lik_day =
        zday >= 0 ? lik_step(&s->lk_day, fmin(zday, 50.0), s->n) : 0.0;
    double lik_nov = nov >= 0 ? lik_step(&s->lk_nov, nov, s->n) : 0.0;
    if (o->t - s->dy.t0 < NOV_WEEK)
        lik_nov = 0.0;
    bool day_explains = s->dy.err_var <= DAY_GAIN * s->g.w.var;

    /* Explained by the same hour of the week (a weekend's shape). */
    if (s->se.has_w &&
        fabs(o->v - s->se.wexp) < WEEK_EXPLAINS * fabs(o->v - s->dy.last_exp))
        lik_day = 0.0;
    if (p->enabled[MON_DET_SEASONAL] && day_explains && lik_day > lik) {
        lik = lik_day;
        /* Told by the time-of-day profile when no detector's own score
         * says more. */
        if (best < 0.5) {
            out->top = MON_DET_SEASONAL;
            out->expected = s->dy.last_exp;
            out->deviation = s->dy.last_z;
        }
    }
    /* The weekly profile's deviation, once its hour of the week has
     * SEAS_MIN weeks (on NAB: +1.1, nyc_taxi's holidays). */
    int wslot = o->local_weekday * 24 + o->local_minute / 60;

    if (wslot >= 0 && wslot < SEAS_SLOTS && s->se.slot_n[wslot] >= SEAS_MIN) {
        double lik_week = lik_step(
            &s->lk_week, fmin(fabs(dev[MON_DET_SEASONAL]), 50.0), s->n);

        if (o->t - s->dy.t0 < WEEK_LIK_AGE)
            lik_week = 0.0;
        if (p->enabled[MON_DET_SEASONAL] && lik_week > lik) {
            lik = lik_week;
            if (best < 0.5) {
                out->top = MON_DET_SEASONAL;
                out->expected = exp[MON_DET_SEASONAL];
                out->deviation = dev[MON_DET_SEASONAL];
            }
        }
    }
    if (p->enabled[MON_DET_GAUSS])
        lik = fmax(lik, lik_nov);
    /* The logarithmic view of a positive quantity (above). */
    if (o->v <= 0)
        s->nonpos = true;
    if (!s->nonpos) {
        double x = log(o->v), zl = 0.0, lik_log;

        /* The spread never below 1e-3, a change of 0.1 %: the linear
         * view's floor (floor_sd) on the log scale. */
        if (s->logw.n >= 16)
            zl = (x - s->logw.mean) / fmax(sqrt(s->logw.var), 1e-3);
        lik_log = lik_step(&s->lk_log, fmin(fabs(zl), 50.0), s->n);
        if (p->enabled[MON_DET_GAUSS] && lik_log > lik) {
            lik = lik_log;
            if (best < 0.5) {
                out->top = MON_DET_GAUSS;
                out->expected = unlog(s->logw.mean);
                out->deviation = zl;
            }
        }
        ew_add(&s->logw, x, 1.0 / fmin((double)s->logw.n + 1.0, GAUSS_W));
    }
    /* A daily habit (the same deviation at this time on the last days)
     * is neither a likelihood nor a jump worth telling. */
    bool habit = daily_recurs(&s->dy, o, s->lk.n ? s->lk.sum / s->lk.n : 0.0);
    if (habit)
        lik = 0.0;
    if (out->warming)
        out->score = 0.0;
    else
        out->score = fmax(lik, fmax(W_FLAT * out->det[MON_DET_FLAT],
                                    out->det[MON_DET_NIGHT]));
    out->score =
        fmax(out->score, fmax(habit ? 0.0 : W_SHIFT * out->det[MON_DET_SHIFT],
                              W_SEAS * out->det[MON_DET_SEASONAL]));
    if (out->warming)
        out->score = 0.0;
    /* Hold-off: once a point is flagged the incident is told; the next
     * points are scored down so an onset stands out. */
    if (s->hold > 0) {
        s->hold--;
        out->score *= HOLD_MUL;
        /* The night minimum speaks at most once a night, at its end: a
         * leak seen earlier by the day profile is still told as a leak. */
        if (!out->warming)
            out->score = fmax(out->score, out->det[MON_DET_NIGHT]);
    } else if (out->score >= mon_params_threshold(p)) {
        s->hold = HOLD_POINTS;
    }
    out->anomaly = !out->warming && out->score >= mon_params_threshold(p);
    return 0;
}
