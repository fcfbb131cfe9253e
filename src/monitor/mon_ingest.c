/*
 * mon_ingest.c - measurements in (mon_ingest) and the alerts they open
 * (mon_service.h).
 *
 * One push is one transaction: the points, the detectors' state that they
 * advanced, the alerts and their mail and webhook rows are written
 * together or not at all, so a crash or a concurrent push never leaves a
 * state that has seen points the table lacks.
 *
 * Rate. A sliding window of one minute per sensor, kept in the store's
 * rate_limits table (keys "mon:<sensor>:<minute start>"), so it holds
 * across restarts, threads and processes: the hits of the current minute
 * plus the previous minute's weighted by how much of it still falls in
 * the last 60 s. A push costs the number of its points taken within the
 * last 10 minutes of `now` (live measurements), at least 1: a backfill of
 * history in one push costs 1, a flood of live points costs each point.
 *
 * Alerts. An anomalous point extends the sensor's latest alert that is
 * not resolved when it comes within the gap of that alert's last point
 * (MON_ALERT_GAP, or 4 sampling periods of the sensor when longer), else
 * opens a new alert. A raised night flow (« nuit ») or a sensor stuck
 * at night (« fige ») is seen one night after another, not in the day:
 * when the point or the open alert comes from one of those detectors, the
 * gap is MON_NIGHT_GAP (a leak is one incident until a night passes clean
 * or an agent resolves it). The alert keeps the values at its strongest point.
 * Opening queues a mail (the asset's alert_to) and a webhook delivery (its
 * webhook_url), unless the point is more than a day old (history
 * imported after the fact is not mailed).
 */
#include "monitor/mon_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE_WINDOW 60
#define LIVE_WINDOW 600
#define FUTURE_MAX 300
#define NOTIFY_MAX_AGE 86400

/* What the ingest needs of the sensor, its asset and its commune. */
struct ingest_ctx {
    const char *insee;
    int64_t sensor_id, asset_id;
    const char *sensor_code, *sensor_name, *unit, *asset_name;
    const char *alert_to, *webhook_url;
    enum gu_tz tz;
    int64_t now;
    /* the sensor's open incident, loaded on first need */
    bool cur_loaded;
    int64_t cur_id, cur_last_t;
    double cur_max;
    bool cur_nightly; /* opened or strongest by « nuit » or « fige » */
};

struct sorted {
    int64_t t;
    double v;
    size_t idx;
};

static int
cmp_sorted(const void *pa, const void *pb)
{
    const struct sorted *a = pa, *b = pb;

    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int
oom(struct gu_err *err)
{
    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
}

/* ------------------------------------------------------------------ */
/* Rate                                                                */
/* ------------------------------------------------------------------ */

static int
rate_take(struct store_conn *c, struct gu_arena *a, int64_t sensor_id,
          int limit, int64_t cost, int64_t now, struct gu_err *err)
{
    int64_t cur = now - now % RATE_WINDOW, prev = cur - RATE_WINDOW;
    char kcur[64], kprev[64], klo[48], khi[48];
    struct store_rows *r = NULL;
    double estimate;
    int64_t hcur = 0, hprev = 0;
    int rc;

    snprintf(kcur, sizeof(kcur), "mon:%lld:%lld", (long long)sensor_id,
             (long long)cur);
    snprintf(kprev, sizeof(kprev), "mon:%lld:%lld", (long long)sensor_id,
             (long long)prev);
    {
        struct store_val p[2] = {STORE_T(kcur), STORE_T(kprev)};
        rc = store_query(
            c, a, "SELECT key, hits FROM rate_limits WHERE key IN (?, ?)", p, 2,
            &r, err);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        if (strcmp(store_text(r, i, 0), kcur) == 0)
            hcur = store_int(r, i, 1);
        else
            hprev = store_int(r, i, 1);
    }
    estimate = (double)hcur + (double)hprev *
                                  (double)(RATE_WINDOW - (now - cur)) /
                                  RATE_WINDOW;
    if (estimate + (double)cost > (double)limit) {
        char user[200];
        snprintf(user, sizeof(user),
                 "Trop de mesures pour ce capteur (%d par minute au plus). "
                 "Réessayez dans une minute.",
                 limit);
        return gu_err_set(err, GU_ERATE, NULL, user,
                          "sensor %lld over its rate (%d/min)",
                          (long long)sensor_id, limit);
    }
    {
        struct store_val p[3] = {STORE_T(kcur), STORE_I(cur), STORE_I(cost)};
        rc = store_exec(c,
                        "INSERT INTO rate_limits (key, window_start, hits)"
                        " VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                        " hits = rate_limits.hits + excluded.hits",
                        p, 3, err);
        if (rc < 0)
            return rc;
    }
    /* Older windows of this sensor: the primary key's range, cheap. */
    snprintf(klo, sizeof(klo), "mon:%lld:", (long long)sensor_id);
    snprintf(khi, sizeof(khi), "mon:%lld;", (long long)sensor_id);
    {
        struct store_val p[3] = {STORE_T(klo), STORE_T(khi), STORE_I(prev)};
        rc = store_exec(c,
                        "DELETE FROM rate_limits WHERE key > ? AND key < ?"
                        " AND window_start < ?",
                        p, 3, err);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Alerts                                                              */
/* ------------------------------------------------------------------ */

static int
notify_open(struct store_conn *c, struct gu_arena *a,
            const struct ingest_ctx *x, int64_t alert_id, int64_t t, double v,
            const struct mon_verdict *vd, const char *expl, struct gu_err *err)
{
    char link[80], tiso[32];
    int rc = 0;

    snprintf(link, sizeof(link), "/agent/surveillance/alertes/%lld",
             (long long)alert_id);
    if (x->alert_to && *x->alert_to) {
        struct notify_mail m;
        memset(&m, 0, sizeof(m));
        m.insee = x->insee;
        m.to = x->alert_to;
        m.subject = gu_arena_sprintf(a, "Alerte : %s — %s", x->asset_name,
                                     x->sensor_name);
        m.text = gu_arena_sprintf(
            a,
            "Bonjour,\n\nGuichet a détecté une anomalie sur l'équipement "
            "« %s ».\n\n%s\n\nVoir l'alerte dans Guichet : %s%s\n\n"
            "Ce message est envoyé automatiquement ; les alertes suivantes du "
            "même incident ne sont pas renvoyées.\n",
            x->asset_name, expl, mon_public_base(store_conn_store(c)), link);
        m.kind = "mon.alert";
        if (!m.subject || !m.text)
            return oom(err);
        if ((rc = notify_mail_queue(c, &m, NULL, err)) < 0)
            return rc;
    }
    if (x->webhook_url && *x->webhook_url) {
        json_t *j;
        char *body;
        gu_time_iso(t, tiso, sizeof(tiso));
        j = json_pack(
            "{s:s, s:I, s:s, s:{s:I, s:s}, s:{s:I, s:s, s:s, s:s}, s:s, s:f,"
            " s:f, s:f, s:f, s:s, s:s, s:s}",
            "type", "alerte.ouverte", "id", (json_int_t)alert_id, "commune",
            x->insee, "equipement", "id", (json_int_t)x->asset_id, "nom",
            x->asset_name, "capteur", "id", (json_int_t)x->sensor_id, "code",
            x->sensor_code, "nom", x->sensor_name, "unite", x->unit, "debut",
            tiso, "valeur", v, "attendu",
            isfinite(vd->expected) ? vd->expected : 0.0, "ecart",
            isfinite(vd->deviation) ? vd->deviation : 0.0, "score", vd->score,
            "detecteur", mon_detector_code(vd->top), "explication", expl,
            "lien", link);
        if (!j)
            return oom(err);
        body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (!body)
            return oom(err);
        {
            struct store_val p[5] = {STORE_T(x->insee), STORE_T(x->webhook_url),
                                     STORE_T(body), STORE_I(x->now),
                                     STORE_I(x->now)};
            rc = store_exec(c,
                            "INSERT INTO mon_outbox (insee, url, body, next_at,"
                            " created_at) VALUES (?, ?, ?, ?, ?)",
                            p, 5, err);
        }
        free(body);
    }
    return rc;
}

/* Detectors whose incidents come back night after night. */
static bool
nightly(enum mon_detector d)
{
    return d == MON_DET_NIGHT || d == MON_DET_FLAT;
}

/* Record one anomalous point: extend the open incident or open one. */
static int
alert_note(struct store_conn *c, struct ingest_ctx *x, int64_t t, double v,
           int64_t period, const struct mon_verdict *vd, bool *opened,
           struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(2048);
    struct store_rows *r = NULL;
    char expl[512];
    int64_t gap = MON_ALERT_GAP;
    int rc = 0;

    *opened = false;
    if (!a)
        return oom(err);
    if (period > 0 && period < 86400 && 4 * period > gap)
        gap = 4 * period;
    if (!x->cur_loaded) {
        struct store_val p[1] = {STORE_I(x->sensor_id)};
        rc = store_query(c, a,
                         "SELECT id, last_t, max_score, detector FROM"
                         " mon_alerts WHERE"
                         " sensor_id = ? AND status <> 'resolue' ORDER BY"
                         " last_t DESC, id DESC LIMIT 1",
                         p, 1, &r, err);
        if (rc < 0)
            goto out;
        x->cur_loaded = true;
        x->cur_id = r->nrows ? store_int(r, 0, 0) : 0;
        x->cur_last_t = r->nrows ? store_int(r, 0, 1) : 0;
        x->cur_max = r->nrows ? store_real(r, 0, 2) : 0;
        {
            enum mon_detector d;
            x->cur_nightly = r->nrows && store_text(r, 0, 3) &&
                             mon_detector_parse(store_text(r, 0, 3), &d) == 0 &&
                             nightly(d);
        }
    }
    if ((nightly(vd->top) || (x->cur_id && x->cur_nightly)) &&
        gap < MON_NIGHT_GAP)
        gap = MON_NIGHT_GAP;
    mon_explain(x->tz, x->sensor_name, x->unit, t, v, vd->expected,
                vd->deviation, vd->top, expl, sizeof(expl));
    if (x->cur_id && t >= x->cur_last_t && t - x->cur_last_t <= gap) {
        bool stronger = vd->score > x->cur_max;
        struct store_val p[] = {
            STORE_I(t),
            STORE_I(stronger ? 1 : 0),
            STORE_D(vd->score),
            STORE_D(v),
            STORE_D(isfinite(vd->expected) ? vd->expected : 0),
            STORE_D(isfinite(vd->deviation) ? vd->deviation : 0),
            STORE_T(mon_detector_code(vd->top)),
            STORE_T(expl),
            STORE_I(x->cur_id)};
        rc = store_exec(c,
                        "UPDATE mon_alerts SET last_t = ?1, npoints ="
                        " npoints + 1, max_score = CASE WHEN ?2 <> 0 THEN ?3 ELSE"
                        " max_score END, value = CASE WHEN ?2 <> 0 THEN ?4 ELSE"
                        " value END, expected = CASE WHEN ?2 <> 0 THEN ?5 ELSE"
                        " expected END, deviation = CASE WHEN ?2 <> 0 THEN ?6 ELSE"
                        " deviation END, detector = CASE WHEN ?2 <> 0 THEN ?7"
                        " ELSE detector END, explanation = CASE WHEN ?2 <> 0 THEN"
                        " ?8 ELSE explanation END WHERE id = ?9",
                        p, GU_ARRAY_LEN(p), err);
        if (rc == 0) {
            x->cur_last_t = t;
            if (stronger)
                x->cur_max = vd->score;
            if (stronger && nightly(vd->top))
                x->cur_nightly = true;
        }
        goto out;
    }
    {
        struct store_val p[] = {
            STORE_T(x->insee),
            STORE_I(x->sensor_id),
            STORE_I(x->asset_id),
            STORE_T(mon_detector_code(vd->top)),
            STORE_I(t),
            STORE_I(t),
            STORE_D(vd->score),
            STORE_D(v),
            STORE_D(isfinite(vd->expected) ? vd->expected : 0),
            STORE_D(isfinite(vd->deviation) ? vd->deviation : 0),
            STORE_T(expl),
            STORE_I(x->now)};
        rc = store_query(c, a,
                         "INSERT INTO mon_alerts (insee, sensor_id, asset_id,"
                         " detector, first_t, last_t, max_score, value,"
                         " expected, deviation, explanation, opened_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                         " RETURNING id",
                         p, GU_ARRAY_LEN(p), &r, err);
    }
    if (rc < 0)
        goto out;
    x->cur_id = store_int(r, 0, 0);
    x->cur_last_t = t;
    x->cur_max = vd->score;
    x->cur_nightly = nightly(vd->top);
    *opened = true;
    if (t >= x->now - NOTIFY_MAX_AGE)
        rc = notify_open(c, a, x, x->cur_id, t, v, vd, expl, err);
out:
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Ingest                                                              */
/* ------------------------------------------------------------------ */

static int
check_points(const struct mon_meas *m, size_t n, struct gu_err *err)
{
    char field[32], user[160];

    if (n > MON_BATCH_MAX)
        return gu_err_set(err, GU_ETOOBIG, "points",
                          "Trop de mesures en un envoi (10 000 au plus).",
                          "batch of %zu", n);
    for (size_t i = 0; i < n; i++) {
        if (isfinite(m[i].v) && fabs(m[i].v) <= 1e12 && m[i].t > 0 &&
            m[i].t < 100000000000LL)
            continue;
        snprintf(field, sizeof(field), "points[%zu]", i);
        snprintf(user, sizeof(user),
                 "La mesure n° %zu est invalide : il faut un instant et une "
                 "valeur finie (au plus 10^12 en valeur absolue).",
                 i + 1);
        return gu_err_set(err, GU_EINVAL, field, user, "bad point %zu", i);
    }
    return 0;
}

/* Load the sensor's row with its asset and commune into x; state blob. */
static int
load_ctx(struct store_conn *c, struct gu_arena *a, const char *insee,
         int64_t sensor_id, struct ingest_ctx *x, struct store_rows **row,
         struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(sensor_id), STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT s.asset_id, s.code, s.name, s.unit, s.quantity,"
                     " s.params, s.rate_per_min, s.active, s.state, s.last_t,"
                     " a.params, a.name, a.alert_to, a.webhook_url, m.zone"
                     " FROM mon_sensors s JOIN mon_assets a ON a.id ="
                     " s.asset_id JOIN communes m ON m.insee = s.insee"
                     " WHERE s.id = ? AND s.insee = ?",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "sensor_id",
                          "Ce capteur n'existe pas.", "no sensor %lld",
                          (long long)sensor_id);
    x->insee = insee;
    x->sensor_id = sensor_id;
    x->asset_id = store_int(r, 0, 0);
    x->sensor_code = store_text(r, 0, 1);
    x->sensor_name = store_text(r, 0, 2);
    x->unit = store_text(r, 0, 3) ? store_text(r, 0, 3) : "";
    x->asset_name = store_text(r, 0, 11);
    x->alert_to = store_text(r, 0, 12);
    x->webhook_url = store_text(r, 0, 13);
    x->tz = gu_tz_of_zone(store_text(r, 0, 14) ? store_text(r, 0, 14) : "");
    *row = r;
    return 0;
}

int
mon_ingest(struct store_conn *c, const char *insee, int64_t sensor_id,
           const struct mon_meas *m, size_t n, int64_t now,
           struct mon_ingest_result *res, struct gu_err *err)
{
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    struct ingest_ctx x;
    struct mon_params params;
    struct mon_state *st = NULL;
    struct sorted *pts = NULL;
    enum mon_quantity q = MON_Q_AUTRE;
    uint8_t *img = NULL;
    size_t img_cap;
    int64_t last_fed, sensor_last, live = 0, stored = 0, prev_t = 0;
    double last_v = NAN;
    bool mine = false, fed_any = false;
    int rc;

    memset(res, 0, sizeof(*res));
    memset(&x, 0, sizeof(x));
    x.now = now;
    if ((rc = mon_check_insee(insee, err)) < 0 ||
        (rc = check_points(m, n, err)) < 0)
        return rc;
    if (!(a = gu_arena_new(4096)))
        return oom(err);
    if ((rc = mon_tx_begin(c, &mine, err)) < 0)
        goto out;
    if ((rc = load_ctx(c, a, insee, sensor_id, &x, &r, err)) < 0)
        goto out;
    if (store_int(r, 0, 7) == 0) {
        rc = gu_err_set(err, GU_ECONFLICT, "sensor_id",
                        "Ce capteur est désactivé : ses mesures ne sont pas "
                        "acceptées.",
                        "sensor %lld inactive", (long long)sensor_id);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (m[i].t >= now - LIVE_WINDOW)
            live++;
    rc = rate_take(c, a, sensor_id,
                   store_int(r, 0, 6) > 0 ? (int)store_int(r, 0, 6)
                                          : MON_RATE_DEFAULT,
                   live > 0 ? live : 1, now, err);
    if (rc < 0)
        goto out;
    if (n == 0)
        goto out;
    if (mon_quantity_parse(store_text(r, 0, 4), &q) < 0)
        q = MON_Q_AUTRE;
    if (mon_params_effective(store_text(r, 0, 5), store_text(r, 0, 10), q,
                             &params, err) < 0) {
        /* A stored params text that no longer parses: defaults, logged. */
        gu_log_warn("mon.params", "sensor=%lld code=%s", (long long)sensor_id,
                    gu_status_name(err->code));
        mon_params_default(&params);
        if (q == MON_Q_DEBIT)
            params.enabled[MON_DET_NIGHT] = true;
    }
    st = mon_state_new(&params);
    {
        const struct store_val *b = store_cell(r, 0, 8);
        if (b && b->type == STORE_BLOB && b->n > 0 &&
            mon_state_load(st, (const uint8_t *)b->s, b->n) < 0) {
            gu_log_warn("mon.state_bad", "sensor=%lld bytes=%zu",
                        (long long)sensor_id, b->n);
            mon_state_reset(st, &params);
        }
    }
    sensor_last = store_int(r, 0, 9);
    last_fed = mon_state_last_t(st);
    if (sensor_last > last_fed)
        last_fed = sensor_last;
    prev_t = last_fed;
    if (!(pts = gu_malloc(n * sizeof(*pts)))) {
        rc = oom(err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        pts[i].t = m[i].t;
        pts[i].v = m[i].v;
        pts[i].idx = i;
    }
    qsort(pts, n, sizeof(*pts), cmp_sorted);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct mon_verdict vd;
        struct store_val p[4];
        int64_t t = pts[i].t, changes = 0;
        bool in_order;

        if (i > 0 && pts[i - 1].t == t) {
            res->duplicates++;
            continue;
        }
        if (t > now + FUTURE_MAX ||
            (last_fed > 0 && t < last_fed - MON_LATE_MAX)) {
            res->rejected++;
            continue;
        }
        in_order = t > last_fed;
        memset(&vd, 0, sizeof(vd));
        p[0] = STORE_I(sensor_id);
        p[1] = STORE_I(t);
        p[2] = STORE_D(pts[i].v);
        p[3] = STORE_T(insee);
        /* Stored first: a point already there is a duplicate and must not
           advance the detectors. */
        rc = store_exec_changes(c,
                                "INSERT INTO mon_points (sensor_id, t, value,"
                                " insee) VALUES (?, ?, ?, ?) ON CONFLICT"
                                " (sensor_id, t) DO NOTHING",
                                p, 4, &changes, err);
        if (rc < 0)
            break;
        if (changes == 0) {
            res->duplicates++;
            continue;
        }
        stored++;
        if (!in_order) {
            res->late++;
            continue;
        }
        {
            struct mon_obs o;
            int64_t day;
            int minute;
            gu_tz_from_utc(x.tz, t, &day, &minute);
            o.t = t;
            o.v = pts[i].v;
            o.local_minute = minute;
            o.local_weekday = gu_day_weekday(day) - 1;
            if (mon_step(st, &params, &o, &vd) < 0) {
                rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                                "mon_step refused t=%lld", (long long)t);
                break;
            }
        }
        if (isfinite(vd.score)) {
            struct store_val u[3] = {STORE_D(vd.score), STORE_I(sensor_id),
                                     STORE_I(t)};
            rc = store_exec(c,
                            "UPDATE mon_points SET score = ? WHERE"
                            " sensor_id = ? AND t = ?",
                            u, 3, err);
            if (rc < 0)
                break;
        }
        res->accepted++;
        fed_any = true;
        if (vd.anomaly) {
            bool opened = false;
            res->anomalies++;
            rc = alert_note(c, &x, t, pts[i].v, prev_t ? t - prev_t : 0, &vd,
                            &opened, err);
            if (opened)
                res->alerts_opened++;
        }
        prev_t = t;
        last_fed = t;
        last_v = pts[i].v;
    }
    if (rc < 0)
        goto out;
    img_cap = mon_state_size() + 16;
    if (!(img = gu_malloc(img_cap))) {
        rc = oom(err);
        goto out;
    }
    {
        size_t len = mon_state_save(st, img, img_cap);
        struct store_val p[6] = {STORE_B((const char *)img, len),
                                 STORE_I(fed_any ? 1 : 0),
                                 STORE_I(last_fed),
                                 fed_any ? STORE_D(last_v) : STORE_NUL,
                                 STORE_I(stored),
                                 STORE_I(sensor_id)};
        rc = store_exec(c,
                        "UPDATE mon_sensors SET state = ?1, last_t = CASE"
                        " WHEN ?2 <> 0 THEN ?3 ELSE last_t END, last_value = CASE"
                        " WHEN ?2 <> 0 THEN ?4 ELSE last_value END, npoints ="
                        " npoints + ?5 WHERE id = ?6",
                        p, 6, err);
    }
out:
    rc = mon_tx_end(c, mine, rc, err);
    gu_free(img);
    gu_free(pts);
    mon_state_free(st);
    gu_arena_free(a);
    return rc;
}
