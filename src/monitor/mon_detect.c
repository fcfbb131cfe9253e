/*
 * mon_detect.c - streaming detectors (see mon_detect.h). PLACEHOLDER of
 * the contract: the detectors helper replaces this file.
 */
#include "monitor/mon_detect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct mon_state {
    int64_t last_t;
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

double
mon_params_threshold(const struct mon_params *p)
{
    return 1.0 - 0.5 * p->sensitivity;
}

int
mon_params_parse(const char *json, struct mon_params *out, struct gu_err *err)
{
    (void)json;
    (void)err;
    mon_params_default(out);
    return 0;
}

int
mon_params_format(const struct mon_params *p, char *buf, size_t cap)
{
    (void)p;
    if (cap > 0)
        buf[0] = '\0';
    return 0;
}

size_t
mon_state_size(void)
{
    return sizeof(struct mon_state);
}

struct mon_state *
mon_state_new(const struct mon_params *p)
{
    (void)p;
    struct mon_state *s = calloc(1, sizeof *s);

    if (!s)
        abort();
    return s;
}

void
mon_state_free(struct mon_state *s)
{
    free(s);
}

void
mon_state_reset(struct mon_state *s, const struct mon_params *p)
{
    (void)p;
    memset(s, 0, sizeof *s);
}

int
mon_step(struct mon_state *s, const struct mon_params *p,
         const struct mon_obs *o, struct mon_verdict *out)
{
    (void)p;
    if (o->t <= s->last_t || !isfinite(o->v))
        return GU_EINVAL;
    s->last_t = o->t;
    memset(out, 0, sizeof *out);
    out->expected = o->v;
    return 0;
}

int64_t
mon_state_last_t(const struct mon_state *s)
{
    return s->last_t;
}

size_t
mon_state_save(const struct mon_state *s, uint8_t *buf, size_t cap)
{
    if (cap < sizeof *s)
        return 0;
    memcpy(buf, s, sizeof *s);
    return sizeof *s;
}

int
mon_state_load(struct mon_state *s, const uint8_t *buf, size_t len)
{
    if (len != sizeof *s)
        return GU_EINVAL;
    memcpy(s, buf, sizeof *s);
    return 0;
}

int
mon_nab_run(const char *data_dir, const char *out_dir, size_t *files,
            struct gu_err *err)
{
    (void)data_dir;
    (void)out_dir;
    (void)err;
    *files = 0;
    return GU_EINTERNAL;
}
