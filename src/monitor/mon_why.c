/*
 * mon_why.c - an alert's « Pourquoi ? » (see mon_priv.h).
 *
 * One explanation object (src/web/web_why.c) serves the JSON API
 * (GET /api/v1/monitor/alerts/{id}, member "pourquoi") and the alert's
 * page, so the two never tell different stories.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "monitor/mon_service.h"
#include "web/http.h"

static const char *
num(struct http_req *req, double v, int dec)
{
    char buf[64];

    return gu_arena_strdup(req->arena,
                           gu_num_fr(v, dec, GU_NUM_TRIM | GU_NUM_GROUP, "—",
                                     buf, sizeof(buf)));
}

/* « 12,5 m³/h »: decimals that suit the value's size. */
static const char *
value_unit(struct http_req *req, double v, const char *unit)
{
    double a = fabs(v);
    int dec = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;

    if (!unit || !*unit || !isfinite(v))
        return num(req, v, dec);
    return gu_arena_sprintf(req->arena, "%s\xC2\xA0%s", num(req, v, dec),
                            unit);
}

/* « jeudi 26/11/2026 à 3 h 10 » in the commune's zone, in the arena. */
static const char *
when(struct http_req *req, enum gu_tz tz, int64_t t)
{
    struct gu_buf b;
    const char *s = NULL;

    gu_buf_init(&b);
    mon_when_fr(&b, tz, t);
    if (!b.oom && b.p)
        s = gu_arena_strndup(req->arena, b.p, b.n);
    gu_buf_fini(&b);
    return s ? s : "";
}

json_t *
mon_alert_why(struct http_req *req, const struct mon_alert *al,
              enum gu_tz tz)
{
    struct mon_params p;
    struct gu_err e;
    struct gu_buf on;
    const char *dets;
    json_t *o;

    gu_err_clear(&e);
    if (mon_sensor_params(req->conn, req->who.insee, al->sensor_id, &p, &e) <
        0)
        mon_params_default(&p);
    o = http_why_new(al->explanation,
                     "ensemble de détecteurs statistiques en continu",
                     gu_arena_sprintf(req->arena, "détecteurs v%u",
                                      mon_detect_version()),
                     al->opened_at);
    if (!o)
        return NULL;
    gu_json_arena(req->arena, o);
    gu_buf_init(&on);
    for (int d = 0; d < MON_DET_COUNT; d++) {
        if (!p.enabled[d])
            continue;
        if (on.n)
            gu_buf_puts(&on, ", ");
        gu_buf_puts(&on, mon_detector_label((enum mon_detector)d));
    }
    dets = on.oom || !on.p ? "aucun" : gu_arena_strndup(req->arena, on.p, on.n);
    gu_buf_fini(&on);

    http_why_add(o, "Détecteur", mon_detector_label(al->detector));
    http_why_add(o, "Valeur mesurée", value_unit(req, al->value, al->unit));
    http_why_add(o, "Valeur attendue", value_unit(req, al->expected, al->unit));
    http_why_add(o, "Écart",
                 gu_arena_sprintf(req->arena,
                                  "%s écart(s) type robuste(s) %s la normale",
                                  num(req, fabs(al->deviation), 1),
                                  al->deviation >= 0 ? "au-dessus de"
                                                     : "au-dessous de"));
    http_why_add(o, "Score le plus fort",
                 gu_arena_sprintf(req->arena,
                                  "%s sur 1 (seuil d’alerte du capteur : %s, "
                                  "sensibilité %s)",
                                  num(req, al->max_score, 2),
                                  num(req, mon_params_threshold(&p), 2),
                                  num(req, p.sensitivity, 2)));
    http_why_add(o, "Détecteurs actifs sur ce capteur", dets);
    if (p.enabled[MON_DET_NIGHT])
        http_why_add(o, "Fenêtre de nuit (débit minimum)",
                     gu_arena_sprintf(req->arena, "%02d:%02d – %02d:%02d",
                                      p.night_start_min / 60,
                                      p.night_start_min % 60,
                                      p.night_end_min / 60,
                                      p.night_end_min % 60));
    http_why_add(o, "Points anormaux",
                 gu_arena_sprintf(req->arena, "%d, du %s au %s", al->npoints,
                                  when(req, tz, al->first_t),
                                  when(req, tz, al->last_t)));
    return o;
}
