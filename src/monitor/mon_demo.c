/*
 * mon_demo.c - the demo commune's assets and sensors (mon.h:
 * mon_demo_seed), so that `guichet init --demo` shows the monitoring
 * pages with measurements, alerts and a ticket right away.
 *
 * Three assets and four sensors, with DEMO_DAYS of synthetic
 * measurements up to now, generated here deterministically (the value at
 * an instant depends only on that instant and on where now falls):
 *
 *   Réservoir des Hauts: its outflow (m³/h every 15 minutes: low at
 *     night, a morning and an evening peak, later on weekends) with a
 *     leak that starts LEAK_DAYS ago at night and adds a steady flow, the
 *     classic raised minimum night flow; its level (m, hourly), normal.
 *   Pompe de relevage du Port: its current (A every 15 minutes: the pump
 *     cycles), whose level shifts up by a third SHIFT_HOURS ago (a
 *     clogged impeller or a worn bearing).
 *   Chaudière de l'école Jules-Ferry: its flow temperature (°C every 15
 *     minutes: heating on school days from 6 to 18 h, off at night and
 *     on Wednesday afternoons and weekends), stuck on at night for the
 *     last BOILER_NIGHTS nights.
 *
 * The points go through mon_ingest hour by hour, with the clock of each
 * hour, as a gateway would push them: the detectors learn, flag the
 * anomalies, and the alerts open with the time they would have opened
 * (the leak is one alert over its nights: mon_ingest.c, MON_NIGHT_GAP).
 * The few alerts the detectors raise while they learn, before any fault
 * (two to four depending on the hour of the seed, scores 0.50 to 0.55),
 * are resolved as « Fausse alerte » as an agent would have: the open
 * alerts are the three faults, and the history shows a verdict.
 * One transaction per simulated day (the write lock is the whole
 * instance's on PostgreSQL, and a training sandbox is seeded while the
 * others work): a seed cut short keeps the days already written, and the
 * sandbox's « Réinitialiser » makes it again. No alert e-mail or webhook
 * is set on the demo's assets, so nothing is queued for sending.
 */
#include "monitor/mon_service.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DEMO_DAYS 28   /* days of history (four weeks) */
#define STEP 900       /* 15 minutes */
#define LEAK_DAYS 4    /* the leak started on the night this many days ago */
#define LEAK_FLOW 6.5  /* m³/h */
#define SHIFT_HOURS 40 /* the pump's current shifted up */
#define SHIFT_FACTOR 1.35
#define BOILER_NIGHTS 2 /* nights the boiler stayed on */
#define CHUNK 3600      /* seconds of points per mon_ingest */
#define PI2 6.283185307179586

enum demo_gen { GEN_FLOW, GEN_LEVEL, GEN_CURRENT, GEN_BOILER };

struct demo_sensor {
    int asset; /* index in assets[] */
    const char *code, *name, *unit;
    enum mon_quantity q;
    int period; /* seconds between points */
    enum demo_gen gen;
};

struct demo_asset {
    const char *name, *site, *notes;
    enum mon_asset_kind kind;
};

static const struct demo_asset assets[] = {
    {"Réservoir des Hauts", "Château d’eau, chemin des Hauts",
     "Capacité 1 500 m³. Alimente le bourg et le lotissement des Lilas. "
     "Clés à l’accueil des services techniques.",
     MON_ASSET_RESERVOIR},
    {"Pompe de relevage du Port", "Poste de relevage, quai du Port",
     "Deux pompes en alternance ; contrat d’entretien avec l’exploitant "
     "(visite annuelle en mars).",
     MON_ASSET_POMPE},
    {"Chaudière de l’école Jules-Ferry", "École Jules-Ferry, chaufferie",
     "Chaudière gaz à condensation. Programme : chauffage de 6 h à 18 h "
     "les jours d’école.",
     MON_ASSET_CHAUDIERE},
};

static const struct demo_sensor sensors[] = {
    {0, "reservoir-hauts-debit", "Débit sortant du réservoir", "m³/h",
     MON_Q_DEBIT, STEP, GEN_FLOW},
    {0, "reservoir-hauts-niveau", "Niveau du réservoir", "m", MON_Q_NIVEAU,
     3600, GEN_LEVEL},
    {1, "pompe-port-courant", "Courant de la pompe", "A", MON_Q_COURANT, STEP,
     GEN_CURRENT},
    {2, "chaudiere-jules-ferry-depart", "Température de départ", "°C",
     MON_Q_TEMPERATURE, STEP, GEN_BOILER},
};
#define NSENSORS GU_ARRAY_LEN(sensors)

/* ------------------------------------------------------------------ */
/* Deterministic noise                                                 */
/* ------------------------------------------------------------------ */

static uint64_t
mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* A uniform in (0, 1) from (stream, t, k). */
static double
uniform(uint64_t stream, int64_t t, unsigned k)
{
    uint64_t h = mix(stream * 1000003u ^ mix((uint64_t)t * 4u + k));

    return ((double)(h >> 11) + 0.5) / 9007199254740992.0;
}

/* A standard normal (Box-Muller) from (stream, t). */
static double
gauss(uint64_t stream, int64_t t)
{
    double u1 = uniform(stream, t, 0), u2 = uniform(stream, t, 1);

    return sqrt(-2.0 * log(u1)) * cos(PI2 * u2);
}

/* A bump centred on hour c (local, fractional) of width w hours. */
static double
bump(double h, double c, double w)
{
    double d = (h - c) / w;

    return exp(-0.5 * d * d);
}

/* ------------------------------------------------------------------ */
/* The generators                                                      */
/* ------------------------------------------------------------------ */

/* Where the anomalies start (set once from now). */
struct demo_clock {
    enum gu_tz tz;
    int64_t leak_t, shift_t, boiler_day; /* boiler: first local day whose
                                            night (from 18 h) stays on */
};

/* Water drawn by the town (m³/h), without the leak. */
static double
flow_base(double h, int weekday)
{
    bool weekend = weekday >= 6;
    double v = 3.2;

    v += (weekend ? 17.0 : 22.0) * bump(h, weekend ? 9.5 : 7.75, 1.3);
    v += 9.0 * bump(h, 12.5, 1.2);
    v += 18.0 * bump(h, 20.0, 1.6);
    v += 6.0 * bump(h, 15.5, 2.5);
    return v;
}

/* A school day for the boiler: not Wednesday afternoon, not the weekend
   (holidays are left out: the demo is about its nights). */
static bool
heating_on(double h, int weekday)
{
    if (weekday >= 6)
        return false;
    if (weekday == 3)
        return h >= 6 && h < 12.5;
    return h >= 6 && h < 18;
}

static double
value_at(const struct demo_sensor *s, size_t si, const struct demo_clock *k,
         int64_t t)
{
    int64_t day;
    int minute, weekday;
    double h, v, e = gauss(si + 11, t);

    gu_tz_from_utc(k->tz, t, &day, &minute);
    weekday = gu_day_weekday(day);
    h = minute / 60.0;
    switch (s->gen) {
    case GEN_FLOW:
        v = flow_base(h, weekday) * (1.0 + 0.06 * e);
        if (t >= k->leak_t)
            v += LEAK_FLOW * (1.0 + 0.03 * gauss(51, t));
        return floor(v * 100 + 0.5) / 100;
    case GEN_LEVEL:
        /* refilled at night, drawn down by day */
        v = 6.1 - 0.9 * bump(h, 21.0, 4.0) - 0.5 * bump(h, 10.0, 3.0) +
            0.04 * e;
        return floor(v * 100 + 0.5) / 100;
    case GEN_CURRENT: {
        /* the pump runs about a quarter of each hour */
        bool running = uniform(77, t / STEP, 2) < 0.25 + 0.15 * bump(h, 8, 3);
        v = running ? 11.8 + 0.35 * e : 0.4 + 0.05 * fabs(e);
        if (running && t >= k->shift_t)
            v *= SHIFT_FACTOR;
        return floor(v * 100 + 0.5) / 100;
    }
    case GEN_BOILER: {
        /* the night from 18 h of day d to 6 h of day d + 1 belongs to d */
        int64_t night = h >= 18 ? day : day - 1;
        bool stuck = night >= k->boiler_day && (h >= 18 || h < 6);
        if (stuck)
            return 64.0; /* the regulator stuck: the same reading */
        if (heating_on(h, weekday))
            v = 64.0 + 1.2 * e;
        else
            v = 19.0 + 6.0 * exp(-fmod(h + 24 - 18, 24) / 3.0) + 0.4 * e;
        return floor(v * 10 + 0.5) / 10;
    }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The seed                                                            */
/* ------------------------------------------------------------------ */

static int
create_rows(struct store_conn *c, const char *insee, int64_t *asset_ids,
            int64_t *sensor_ids, struct gu_err *err)
{
    int rc;

    for (size_t i = 0; i < GU_ARRAY_LEN(assets); i++) {
        struct mon_asset a;
        memset(&a, 0, sizeof(a));
        memcpy(a.insee, insee, sizeof(a.insee));
        a.name = assets[i].name;
        a.kind = assets[i].kind;
        a.site = assets[i].site;
        a.notes = assets[i].notes;
        a.params = "";
        a.alert_to = "";
        a.webhook_url = "";
        if ((rc = mon_asset_save(c, &a, &asset_ids[i], err)) < 0)
            return rc;
    }
    for (size_t i = 0; i < NSENSORS; i++) {
        struct mon_sensor s;
        memset(&s, 0, sizeof(s));
        memcpy(s.insee, insee, sizeof(s.insee));
        s.asset_id = asset_ids[sensors[i].asset];
        s.code = sensors[i].code;
        s.name = sensors[i].name;
        s.unit = sensors[i].unit;
        s.quantity = sensors[i].q;
        s.topic = "";
        s.params = "";
        s.active = true;
        if ((rc = mon_sensor_save(c, &s, &sensor_ids[i], err)) < 0)
            return rc;
    }
    return 0;
}

/* The pump's past maintenance, closed (a ticket list is never empty). */
static int
past_ticket(struct store_conn *c, const char *insee, int64_t asset_id,
            struct gu_err *err)
{
    struct mon_ticket t;
    int64_t id;
    int rc;

    memset(&t, 0, sizeof(t));
    memcpy(t.insee, insee, sizeof(t.insee));
    t.asset_id = asset_id;
    t.title = "Visite annuelle de la pompe n° 2";
    t.body = "Visite de l’exploitant : garniture mécanique contrôlée, "
             "clapet anti-retour nettoyé. Rien à signaler.";
    t.status = MON_TICKET_OUVERT;
    if ((rc = mon_ticket_save(c, &t, &id, err)) < 0)
        return rc;
    t.id = id;
    t.status = MON_TICKET_CLOS;
    return mon_ticket_save(c, &t, NULL, err);
}

/* When sensor `gen`'s injected fault begins (INT64_MAX: none). */
static int64_t
fault_start(enum demo_gen gen, const struct demo_clock *k)
{
    switch (gen) {
    case GEN_FLOW:
        return k->leak_t;
    case GEN_CURRENT:
        return k->shift_t;
    case GEN_BOILER:
        return gu_tz_to_utc(k->tz, k->boiler_day, 18 * 60);
    case GEN_LEVEL:
        break;
    }
    return INT64_MAX;
}

/*
 * What the agents did with the alerts that ended before their sensor's
 * fault began (the detectors' rare false alarms while they learn, two to
 * four depending on the hour of the seed): checked on site, nothing
 * found, resolved as « Fausse alerte ». The open alerts are then the
 * three faults, and the history shows a verdict.
 */
static int
resolve_false_alarms(struct store_conn *c, const char *insee,
                     const int64_t *sensor_ids, const struct demo_clock *k,
                     struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(4096);
    struct mon_alert_filter f = {.status = -2, .limit = 500};
    struct mon_alert *al = NULL;
    size_t n = 0;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = mon_alert_list(c, a, insee, &f, &al, &n, err);
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        for (size_t s = 0; s < NSENSORS; s++) {
            if (al[i].sensor_id != sensor_ids[s] ||
                al[i].last_t >= fault_start(sensors[s].gen, k))
                continue;
            rc = mon_alert_resolve(c, insee, al[i].id, 0,
                                   "Contrôle sur place : rien d’anormal.",
                                   MON_VERDICT_FAUSSE, err);
            break;
        }
    }
    gu_arena_free(a);
    return rc < 0 ? rc : 0;
}

/* The commune's time zone (the demo commune exists: GU_ENOTFOUND else). */
static int
commune_tz(struct store_conn *c, const char *insee, enum gu_tz *tz,
           struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(1024);
    struct store_commune com;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_commune_get(c, a, insee, &com, err);
    if (rc == 0)
        *tz = gu_tz_of_zone(com.zone);
    gu_arena_free(a);
    return rc;
}

int
mon_demo_seed(struct store_conn *c, const char *insee, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(4096);
    struct mon_asset *existing = NULL;
    struct mon_meas m[CHUNK / STEP + 1]; /* periods are >= STEP */
    struct demo_clock k;
    int64_t asset_ids[GU_ARRAY_LEN(assets)], sensor_ids[NSENSORS];
    int64_t now = gu_now(), end, start, today;
    size_t nexisting = 0;
    int minute, rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = mon_asset_list(c, a, insee, &existing, &nexisting, err);
    gu_arena_free(a);
    if (rc < 0)
        return rc;
    if (nexisting > 0)
        return 0;

    memset(&k, 0, sizeof(k));
    if ((rc = commune_tz(c, insee, &k.tz, err)) < 0)
        return rc;
    end = now - now % STEP;
    start = end - (int64_t)DEMO_DAYS * 86400;
    gu_tz_from_utc(k.tz, end, &today, &minute);
    k.leak_t = gu_tz_to_utc(k.tz, today - LEAK_DAYS, 1 * 60);
    k.shift_t = end - (int64_t)SHIFT_HOURS * 3600;
    k.shift_t -= k.shift_t % STEP;
    /* the last BOILER_NIGHTS nights that have begun */
    k.boiler_day =
        today - (minute >= 18 * 60 ? BOILER_NIGHTS - 1 : BOILER_NIGHTS);

    if ((rc = store_begin(c, err)) < 0)
        return rc;
    rc = create_rows(c, insee, asset_ids, sensor_ids, err);
    if (rc == 0)
        rc = past_ticket(c, insee, asset_ids[1], err);
    /* hour by hour, every sensor, with the clock of the hour; one
       transaction per day, so that the write lock (the whole instance's
       on PostgreSQL) is never held for the whole history */
    for (int64_t t0 = start; rc == 0 && t0 <= end; t0 += CHUNK) {
        int64_t t1 = t0 + CHUNK - 1 < end ? t0 + CHUNK - 1 : end;
        if (t0 > start && (t0 - start) % 86400 == 0) {
            rc = store_commit(c, err);
            if (rc == 0)
                rc = store_begin(c, err);
            if (rc < 0)
                return rc;
        }
        for (size_t i = 0; i < NSENSORS && rc == 0; i++) {
            struct mon_ingest_result res;
            size_t n = 0;
            int64_t p = sensors[i].period;
            for (int64_t t = t0 + (p - t0 % p) % p; t <= t1; t += p)
                m[n++] = (struct mon_meas){t, value_at(&sensors[i], i, &k, t)};
            if (n == 0)
                continue;
            rc = mon_ingest(c, insee, sensor_ids[i], m, n,
                            m[n - 1].t + 60 < now ? m[n - 1].t + 60 : now, &res,
                            err);
        }
    }
    if (rc == 0)
        rc = resolve_false_alarms(c, insee, sensor_ids, &k, err);
    if (rc < 0) {
        store_rollback(c);
        return rc;
    }
    if ((rc = store_commit(c, err)) < 0) {
        store_rollback(c);
        return rc;
    }
    return (int)NSENSORS;
}
