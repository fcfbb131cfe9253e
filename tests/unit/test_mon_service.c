/*
 * test_mon_service.c - the monitor service (mon_service.h) over a real
 * in-memory SQLite: names and labels, asset and sensor CRUD with their
 * French errors and tenancy, the parameters in force for a sensor, and
 * deleting an asset with what hangs off it.
 */
#include "harness.h"

#include "monitor/mon_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "store_fix.h"

static int
fix_open(struct th_fix *f)
{
    static const th_migrations_fn mods[] = {notify_migrations, mon_migrations};

    if (th_fix_open(f, mods, GU_ARRAY_LEN(mods)) < 0 ||
        th_commune(f->c, "44109", "Nantes") < 0 ||
        th_commune(f->c, "99002", "Autre-Exemple") < 0)
        return -1;
    return 0;
}

static int64_t
make_asset(struct th_fix *f, const char *insee, const char *name,
           const char *params)
{
    struct mon_asset a;
    struct gu_err err;
    int64_t id = 0;

    memset(&a, 0, sizeof(a));
    snprintf(a.insee, sizeof(a.insee), "%s", insee);
    a.name = name;
    a.kind = MON_ASSET_COMPTEUR;
    a.params = params;
    a.alert_to = "astreinte@mairie.fr";
    if (mon_asset_save(f->c, &a, &id, &err) < 0)
        fprintf(stderr, "asset: %s\n", err.msg);
    return id;
}

static int64_t
make_sensor(struct th_fix *f, const char *insee, int64_t asset, const char *code,
            enum mon_quantity q)
{
    struct mon_sensor s;
    struct gu_err err;
    int64_t id = 0;

    memset(&s, 0, sizeof(s));
    snprintf(s.insee, sizeof(s.insee), "%s", insee);
    s.asset_id = asset;
    s.code = code;
    s.name = "Débit sortant";
    s.unit = "m³/h";
    s.quantity = q;
    s.active = true;
    if (mon_sensor_save(f->c, &s, &id, &err) < 0)
        fprintf(stderr, "sensor: %s\n", err.msg);
    return id;
}

static void
test_names(void)
{
    enum mon_asset_kind k;
    enum mon_quantity q;
    enum mon_alert_status as;
    enum mon_ticket_status ts;

    CHECK_STR(mon_asset_kind_name(MON_ASSET_RESERVOIR), "reservoir");
    CHECK_STR(mon_asset_kind_label(MON_ASSET_RESERVOIR), "Réservoir");
    CHECK_EQ(mon_asset_kind_parse("chaudiere", &k), 0);
    CHECK_EQ(k, MON_ASSET_CHAUDIERE);
    CHECK_EQ(mon_asset_kind_parse("Pompe", &k), GU_EINVAL);
    CHECK_EQ(mon_quantity_parse("debit", &q), 0);
    CHECK_EQ(q, MON_Q_DEBIT);
    CHECK_STR(mon_quantity_label(MON_Q_TEMPERATURE), "Température");
    CHECK_EQ(mon_alert_status_parse("acquittee", &as), 0);
    CHECK_STR(mon_alert_status_label(as), "Acquittée");
    CHECK_EQ(mon_ticket_status_parse("en_cours", &ts), 0);
    CHECK_STR(mon_ticket_status_label(ts), "En cours");
    CHECK_EQ(mon_ticket_status_parse(NULL, &ts), GU_EINVAL);
    CHECK_STR(mon_quantity_name((enum mon_quantity)99), "autre");
}

static void
test_assets(void)
{
    struct th_fix f;
    struct mon_asset a, *list = NULL;
    struct gu_err err;
    size_t n = 0;
    int64_t id, other;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    id = make_asset(&f, "44109", "Réservoir des Hauts", "");
    other = make_asset(&f, "99002", "Pompe d'ailleurs", "");
    CHECK(id > 0 && other > 0);
    CHECK_EQ(mon_asset_get(f.c, f.a, "44109", id, &a, &err), 0);
    CHECK_STR(a.name, "Réservoir des Hauts");
    CHECK_STR(a.alert_to, "astreinte@mairie.fr");
    CHECK_EQ(a.kind, MON_ASSET_COMPTEUR);
    /* another commune's asset is not found, read or written */
    CHECK_EQ(mon_asset_get(f.c, f.a, "44109", other, &a, &err), GU_ENOTFOUND);
    CHECK_EQ(mon_asset_delete(f.c, "44109", other, &err), GU_ENOTFOUND);
    memset(&a, 0, sizeof(a));
    snprintf(a.insee, sizeof(a.insee), "44109");
    a.id = other;
    a.name = "Volé";
    CHECK_EQ(mon_asset_save(f.c, &a, NULL, &err), GU_ENOTFOUND);
    /* validation */
    a.id = 0;
    a.name = "  ";
    CHECK_EQ(mon_asset_save(f.c, &a, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "name");
    CHECK_STR(err.user, "Le nom est obligatoire.");
    a.name = "Pompe";
    a.webhook_url = "ftp://x";
    CHECK_EQ(mon_asset_save(f.c, &a, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "webhook_url");
    a.webhook_url = "https://hooks.exemple.fr/guichet";
    a.alert_to = "pas une adresse";
    CHECK_EQ(mon_asset_save(f.c, &a, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "alert_to");
    a.alert_to = "";
    CHECK_EQ(mon_asset_save(f.c, &a, NULL, &err), 0);
    CHECK_EQ(mon_asset_list(f.c, f.a, "44109", &list, &n, &err), 0);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_STR(list[0].name, "Pompe");
        CHECK_STR(list[1].name, "Réservoir des Hauts");
    }
    th_fix_close(&f);
}

static void
test_sensors(void)
{
    struct th_fix f;
    struct mon_sensor s, *list = NULL;
    struct mon_params p;
    struct gu_err err;
    size_t n = 0;
    int64_t asset, sid, sid2, other_asset;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    asset = make_asset(&f, "44109", "Compteur", "");
    other_asset = make_asset(&f, "99002", "Ailleurs", "");
    sid = make_sensor(&f, "44109", asset, "debit-sortant", MON_Q_DEBIT);
    sid2 = make_sensor(&f, "44109", asset, "niveau", MON_Q_NIVEAU);
    CHECK(sid > 0 && sid2 > 0);
    CHECK_EQ(mon_sensor_get(f.c, f.a, "44109", sid, &s, &err), 0);
    CHECK_STR(s.code, "debit-sortant");
    CHECK_EQ(s.rate_per_min, MON_RATE_DEFAULT);
    CHECK_EQ(s.last_t, 0);
    CHECK(isnan(s.last_value));
    CHECK_EQ(mon_sensor_by_code(f.c, f.a, "44109", "niveau", &s, &err), 0);
    CHECK_EQ(s.id, sid2);
    CHECK_EQ(mon_sensor_by_code(f.c, f.a, "99002", "niveau", &s, &err),
             GU_ENOTFOUND);
    /* code taken, bad code, asset of another commune */
    CHECK_EQ(make_sensor(&f, "44109", asset, "niveau", MON_Q_NIVEAU), 0);
    CHECK_EQ(make_sensor(&f, "44109", asset, "Niveau 2", MON_Q_NIVEAU), 0);
    CHECK_EQ(make_sensor(&f, "44109", other_asset, "x", MON_Q_NIVEAU), 0);
    memset(&s, 0, sizeof(s));
    snprintf(s.insee, sizeof(s.insee), "44109");
    s.asset_id = asset;
    s.code = "niveau";
    s.name = "Niveau";
    CHECK_EQ(mon_sensor_save(f.c, &s, NULL, &err), GU_ECONFLICT);
    CHECK_STR(err.field, "code");
    s.code = "bad code";
    CHECK_EQ(mon_sensor_save(f.c, &s, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "code");
    s.code = "t";
    s.topic = "capteurs/#";
    CHECK_EQ(mon_sensor_save(f.c, &s, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "topic");
    s.topic = "$SYS/broker/load";
    CHECK_EQ(mon_sensor_save(f.c, &s, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "topic");
    /* another commune's namespace is refused at save, not ignored later */
    s.topic = "guichet/99001/capteurs/debit";
    CHECK_EQ(mon_sensor_save(f.c, &s, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "topic");
    s.topic = "guichet/441090/x";
    CHECK_EQ(mon_sensor_save(f.c, &s, NULL, &err), GU_EINVAL);
    CHECK_EQ(mon_sensor_list(f.c, f.a, "44109", asset, &list, &n, &err), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(mon_sensor_list(f.c, f.a, "99002", 0, &list, &n, &err), 0);
    CHECK_EQ(n, 0);
    /* params: the flow sensor gets "nuit" on top of the defaults */
    CHECK_EQ(mon_sensor_params(f.c, "44109", sid, &p, &err), 0);
    CHECK(p.enabled[MON_DET_NIGHT]);
    CHECK_EQ(mon_sensor_params(f.c, "44109", sid2, &p, &err), 0);
    CHECK(!p.enabled[MON_DET_NIGHT]);
    CHECK_EQ(mon_sensor_params(f.c, "99002", sid2, &p, &err), GU_ENOTFOUND);
    /* delete */
    CHECK_EQ(mon_sensor_delete(f.c, "99002", sid2, &err), GU_ENOTFOUND);
    CHECK_EQ(mon_sensor_delete(f.c, "44109", sid2, &err), 0);
    CHECK_EQ(mon_sensor_get(f.c, f.a, "44109", sid2, &s, &err), GU_ENOTFOUND);
    CHECK_EQ(mon_asset_delete(f.c, "44109", asset, &err), 0);
    CHECK_EQ(mon_sensor_get(f.c, f.a, "44109", sid, &s, &err), GU_ENOTFOUND);
    th_fix_close(&f);
}

static void
test_explain(void)
{
    char buf[300];
    /* 2026-12-01 02:15 UTC = 03 h 15 in Paris (winter) */
    int64_t t = gu_tz_to_utc(GU_TZ_PARIS, gu_day_from_ymd(2026, 12, 1), 195);

    mon_explain(GU_TZ_PARIS, "Débit sortant", "m³/h", t, 12.4, 3.1, 6.2,
                MON_DET_NIGHT, buf, sizeof(buf));
    CHECK_CONTAINS(buf, "Débit sortant : 12,4 m³/h le 01/12/2026 à 03 h 15");
    CHECK_CONTAINS(buf, "attendu 3,1 m³/h");
    CHECK_CONTAINS(buf, "6,2 écarts)");
}

static int64_t
count(struct th_fix *f, const char *sql)
{
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a, sql, NULL, 0, &r, &err) < 0)
        return -1;
    return store_int(r, 0, 0);
}

static void
test_ingest(void)
{
    struct th_fix f;
    struct mon_meas m[6];
    struct mon_ingest_result res;
    struct mon_sensor s;
    struct mon_point *pts = NULL;
    struct gu_err err;
    size_t n = 0;
    int64_t now = 1796000000, asset, sid;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    asset = make_asset(&f, "44109", "Compteur", "");
    sid = make_sensor(&f, "44109", asset, "debit", MON_Q_DEBIT);
    /* out of order within the batch, one duplicate, one in the future */
    m[0] = (struct mon_meas){now - 120, 2.0};
    m[1] = (struct mon_meas){now - 180, 1.0};
    m[2] = (struct mon_meas){now - 60, 3.0};
    m[3] = (struct mon_meas){now - 60, 9.0};
    m[4] = (struct mon_meas){now + 3600, 4.0};
    m[5] = (struct mon_meas){now, 5.0};
    CHECK_EQ(mon_ingest(f.c, "44109", sid, m, 6, now, &res, &err), 0);
    CHECK_EQ(res.accepted, 4);
    CHECK_EQ(res.duplicates, 1);
    CHECK_EQ(res.rejected, 1);
    CHECK_EQ(res.late, 0);
    CHECK_EQ(mon_sensor_get(f.c, f.a, "44109", sid, &s, &err), 0);
    CHECK_EQ(s.last_t, now);
    CHECK(s.last_value == 5.0);
    CHECK_EQ(s.npoints, 4);
    CHECK_EQ(mon_points_range(f.c, f.a, "44109", sid, 0, now, &pts, &n, &err),
             0);
    CHECK_EQ(n, 4);
    if (n == 4) {
        CHECK_EQ(pts[0].t, now - 180);
        CHECK(pts[2].value == 3.0); /* the first of the two at now - 60 */
        CHECK(!isnan(pts[3].score));
    }
    /* again: all duplicates; a late point; one too old */
    m[0] = (struct mon_meas){now - 120, 2.0};
    m[1] = (struct mon_meas){now - 90, 7.0};
    m[2] = (struct mon_meas){now - MON_LATE_MAX - 10, 1.0};
    CHECK_EQ(mon_ingest(f.c, "44109", sid, m, 3, now, &res, &err), 0);
    CHECK_EQ(res.duplicates, 1);
    CHECK_EQ(res.late, 1);
    CHECK_EQ(res.rejected, 1);
    CHECK_EQ(res.accepted, 0);
    CHECK_EQ(mon_points_range(f.c, f.a, "44109", sid, now - 90, now - 90, &pts,
                              &n, &err),
             0);
    CHECK_EQ(n, 1);
    if (n == 1)
        CHECK(isnan(pts[0].score)); /* late: not scored */
    /* a bad value: nothing written, the field named */
    m[0] = (struct mon_meas){now + 1, 1.0};
    m[1] = (struct mon_meas){now + 2, NAN};
    CHECK_EQ(mon_ingest(f.c, "44109", sid, m, 2, now + 5, &res, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "points[1]");
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM mon_points"), 5);
    /* another commune cannot push into this sensor */
    CHECK_EQ(mon_ingest(f.c, "99002", sid, m, 1, now + 5, &res, &err),
             GU_ENOTFOUND);
    /* the state image is stored; a bad one is replaced, not fatal */
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM mon_sensors WHERE state IS NOT"
                       " NULL"),
             1);
    store_exec(f.c, "UPDATE mon_sensors SET state = x'00'", NULL, 0, &err);
    m[0] = (struct mon_meas){now + 10, 6.0};
    CHECK_EQ(mon_ingest(f.c, "44109", sid, m, 1, now + 10, &res, &err), 0);
    CHECK_EQ(res.accepted, 1);
    th_fix_close(&f);
}

static void
test_rate(void)
{
    struct th_fix f;
    struct mon_meas m[10];
    struct mon_ingest_result res;
    struct mon_sensor s;
    struct gu_err err;
    int64_t now = 1796000040, asset, sid, id = 0;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    asset = make_asset(&f, "44109", "Pompe", "");
    sid = make_sensor(&f, "44109", asset, "courant", MON_Q_COURANT);
    CHECK_EQ(mon_sensor_get(f.c, f.a, "44109", sid, &s, &err), 0);
    s.rate_per_min = 12;
    CHECK_EQ(mon_sensor_save(f.c, &s, &id, &err), 0);
    for (int i = 0; i < 10; i++)
        m[i] = (struct mon_meas){now - 30 + i, (double)i};
    CHECK_EQ(mon_ingest(f.c, "44109", sid, m, 10, now, &res, &err), 0);
    for (int i = 0; i < 10; i++)
        m[i].t += 10;
    /* 10 + 10 > 12: refused, nothing written */
    CHECK_EQ(mon_ingest(f.c, "44109", sid, m, 10, now + 1, &res, &err),
             GU_ERATE);
    CHECK_CONTAINS(err.user, "12 par minute");
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM mon_points"), 10);
    /* two live points still fit */
    CHECK_EQ(mon_ingest(f.c, "44109", sid, m + 8, 2, now + 2, &res, &err), 0);
    /* history in one push costs one */
    for (int i = 0; i < 10; i++)
        m[i] = (struct mon_meas){now - 86400 + i * 60, (double)i};
    CHECK_EQ(mon_ingest(f.c, "44109", sid, m, 10, now + 200, &res, &err), 0);
    CHECK_EQ(res.late, 10);
    th_fix_close(&f);
}

static void
test_alerts_tickets(void)
{
    struct th_fix f;
    struct mon_alert *l = NULL, one;
    struct mon_alert_filter flt;
    struct mon_ticket t, *tl = NULL;
    struct gu_err err;
    size_t n = 0;
    int64_t asset, sid, aid, tid = 0, other_asset;
    char sql[400];

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    asset = make_asset(&f, "44109", "Réservoir", "");
    other_asset = make_asset(&f, "99002", "Ailleurs", "");
    sid = make_sensor(&f, "44109", asset, "niveau", MON_Q_NIVEAU);
    snprintf(sql, sizeof(sql),
             "INSERT INTO mon_alerts (insee, sensor_id, asset_id, detector,"
             " first_t, last_t, max_score, value, expected, deviation,"
             " explanation, opened_at) VALUES ('44109', %lld, %lld, 'gauss',"
             " 100, 200, 0.9, 5, 1, 4, 'Niveau : 5 m', 300)",
             (long long)sid, (long long)asset);
    CHECK_EQ(store_exec(f.c, sql, NULL, 0, &err), 0);
    memset(&flt, 0, sizeof(flt));
    flt.status = -2;
    CHECK_EQ(mon_alert_list(f.c, f.a, "44109", &flt, &l, &n, &err), 0);
    CHECK_EQ(n, 1);
    aid = n ? l[0].id : 0;
    if (n) {
        CHECK_STR(l[0].sensor_name, "Débit sortant");
        CHECK_STR(l[0].asset_name, "Réservoir");
        CHECK_EQ(l[0].detector, MON_DET_GAUSS);
    }
    CHECK_EQ(mon_alert_list(f.c, f.a, "99002", &flt, &l, &n, &err), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(mon_alert_ack(f.c, "99002", aid, 1, "", &err), GU_ENOTFOUND);
    CHECK_EQ(mon_alert_ack(f.c, "44109", aid, 0, "Vu", &err), 0);
    CHECK_EQ(mon_alert_ack(f.c, "44109", aid, 0, "", &err), GU_ECONFLICT);
    CHECK_EQ(mon_alert_resolve(f.c, "44109", aid, 0, "", 7, &err), GU_EINVAL);
    CHECK_EQ(mon_alert_resolve(f.c, "44109", aid, 0, "Vanne fermée",
                               MON_VERDICT_REELLE, &err),
             0);
    CHECK_EQ(mon_alert_resolve(f.c, "44109", aid, 0, "", MON_VERDICT_FAUSSE,
                               &err),
             GU_ECONFLICT);
    CHECK_STR(err.user, "Cette alerte est déjà résolue.");
    CHECK_EQ(mon_alert_get(f.c, f.a, "44109", aid, &one, &err), 0);
    CHECK_EQ(one.status, MON_ALERT_RESOLUE);
    CHECK_STR(one.comment, "Vu\nVanne fermée");
    CHECK_EQ(one.verdict, MON_VERDICT_REELLE); /* the second call changed nothing */
    CHECK(one.ack_at > 0 && one.resolved_at > 0);
    CHECK_EQ(mon_alert_list(f.c, f.a, "44109", &flt, &l, &n, &err), 0);
    CHECK_EQ(n, 0);
    /* tickets */
    memset(&t, 0, sizeof(t));
    snprintf(t.insee, sizeof(t.insee), "44109");
    t.asset_id = asset;
    t.alert_id = aid;
    t.title = "Changer la sonde";
    CHECK_EQ(mon_ticket_save(f.c, &t, &tid, &err), 0);
    t.asset_id = other_asset;
    CHECK_EQ(mon_ticket_save(f.c, &t, NULL, &err), GU_ENOTFOUND);
    t.asset_id = asset;
    t.title = "";
    CHECK_EQ(mon_ticket_save(f.c, &t, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "title");
    CHECK_EQ(mon_ticket_get(f.c, f.a, "44109", tid, &t, &err), 0);
    CHECK_EQ(t.alert_id, aid);
    CHECK_EQ(t.status, MON_TICKET_OUVERT);
    t.status = MON_TICKET_CLOS;
    CHECK_EQ(mon_ticket_save(f.c, &t, NULL, &err), 0);
    CHECK_EQ(mon_ticket_get(f.c, f.a, "44109", tid, &t, &err), 0);
    CHECK(t.closed_at > 0);
    CHECK_EQ(mon_ticket_list(f.c, f.a, "44109", asset, true, &tl, &n, &err), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(mon_ticket_list(f.c, f.a, "44109", 0, false, &tl, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(mon_ticket_get(f.c, f.a, "99002", tid, &t, &err), GU_ENOTFOUND);
    th_fix_close(&f);
}

static void
test_csv(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct mon_meas *m = NULL;
    struct gu_err err;
    size_t n = 0;
    const char *ok = "\xEF\xBB\xBFhorodatage;valeur\r\n"
                     "2026-12-01T10:00:00Z;1,5\r\n"
                     "01/12/2026 11:00;2\n"
                     "\n"
                     "1796000000;-3.25\n"
                     "2026-12-01T12:00:00+02:00;4e1\n";
    int64_t t;

    CHECK_EQ(mon_csv_parse(a, ok, strlen(ok), GU_TZ_PARIS, &m, &n, &err), 0);
    CHECK_EQ(n, 4);
    if (n == 4) {
        CHECK_EQ(m[0].t, 1796119200);
        CHECK(m[0].v == 1.5);
        CHECK_EQ(m[1].t, 1796119200); /* 11:00 in Paris = 10:00Z */
        CHECK(m[2].v == -3.25);
        CHECK_EQ(m[3].t, 1796119200);
        CHECK(m[3].v == 40.0);
    }
    CHECK_EQ(mon_csv_parse(a, "t,v\n1796000000,12,5\n", 20, GU_TZ_PARIS, &m, &n,
                           &err),
             0);
    CHECK(n == 1 && m[0].v == 12.5);
    CHECK_EQ(mon_csv_parse(a, "t;v\n1796000000;1\nhier;2\n", 24, GU_TZ_PARIS,
                           &m, &n, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 3 : instant illisible");
    CHECK_EQ(
        mon_csv_parse(a, "1796000000;nan\n", 15, GU_TZ_PARIS, &m, &n, &err),
        GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 1 : valeur illisible");
    CHECK_EQ(mon_time_parse("2026-02-30T10:00Z", 17, GU_TZ_PARIS, &t),
             GU_EINVAL);
    CHECK_EQ(mon_time_parse("2026-12-01T10:00:00.25Z", 23, GU_TZ_PARIS, &t), 0);
    CHECK_EQ(t, 1796119200);
    gu_arena_free(a);
}

/* Deterministic noise in [-1, 1]. */
static double
noise(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return ((double)((*state >> 8) & 0xFFFF) / 32767.5) - 1.0;
}

static void
test_spike_alert(void)
{
    struct th_fix f;
    struct mon_meas *m;
    struct mon_ingest_result res;
    struct mon_alert *l = NULL;
    struct mon_alert_filter flt;
    struct gu_err err;
    struct mon_asset a;
    size_t n = 0, np = 14 * 288;
    int64_t t0 = 1795000000 - 1795000000 % 86400, asset, sid, opened = 0;
    unsigned rng = 7;

    if (fix_open(&f) < 0 || !(m = calloc(np, sizeof(*m)))) {
        CHECK(0);
        return;
    }
    memset(&a, 0, sizeof(a));
    snprintf(a.insee, sizeof(a.insee), "44109");
    a.name = "Pompe du Port";
    a.kind = MON_ASSET_POMPE;
    a.alert_to = "astreinte@mairie.fr";
    a.webhook_url = "https://hooks.exemple.fr/guichet";
    CHECK_EQ(mon_asset_save(f.c, &a, &asset, &err), 0);
    sid = make_sensor(&f, "44109", asset, "courant", MON_Q_COURANT);
    /* two weeks every 5 minutes of a steady current with noise (a daily
       cycle is the detectors' business: test_mon_detect) */
    for (size_t i = 0; i < np; i++) {
        m[i].t = t0 + (int64_t)i * 300;
        m[i].v = 10.0 + 0.5 * noise(&rng);
    }
    /* one incident: 3 points at five times the level, 10 days in */
    for (size_t i = 10 * 288; i < 10 * 288 + 3; i++)
        m[i].v = 50.0;
    for (size_t k = 0; k < np; k += 1000) {
        size_t c = np - k < 1000 ? np - k : 1000;
        CHECK_EQ(mon_ingest(f.c, "44109", sid, m + k, c, t0 + (int64_t)np * 300,
                            &res, &err),
                 0);
        opened += res.alerts_opened;
    }
    CHECK_EQ(opened, 1);
    memset(&flt, 0, sizeof(flt));
    flt.status = -1;
    CHECK_EQ(mon_alert_list(f.c, f.a, "44109", &flt, &l, &n, &err), 0);
    CHECK_EQ(n, 1);
    if (n == 1) {
        CHECK_EQ(l[0].first_t, t0 + 10 * 288 * 300);
        CHECK(l[0].value == 50.0);
        CHECK(l[0].npoints >= 1 && l[0].npoints <= 3);
        CHECK_CONTAINS(l[0].explanation, "Débit sortant : 50 m³/h le ");
        CHECK_CONTAINS(l[0].explanation, "attendu ");
    }
    /* the incident is older than a day: not mailed, no webhook */
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM mon_outbox"), 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM notify_outbox"), 0);
    /* a live spike now: a new alert, its mail and its webhook queued */
    {
        struct mon_meas live[2] = {{t0 + (int64_t)np * 300, 10.0},
                                   {t0 + (int64_t)np * 300 + 300, 60.0}};
        CHECK_EQ(mon_ingest(f.c, "44109", sid, live, 2,
                            t0 + (int64_t)np * 300 + 300, &res, &err),
                 0);
        CHECK_EQ(res.alerts_opened, 1);
    }
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM mon_outbox WHERE body LIKE"
                       " '%alerte.ouverte%' AND url LIKE 'https://hooks%'"),
             1);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM notify_outbox"), 1);
    free(m);
    th_fix_close(&f);
}

/*
 * A leak on a water network: four weeks of a daily outflow cycle every
 * 15 minutes (low at night, two peaks by day), then a steady extra flow
 * from the night 4 days before the end. The raised minimum night flow is
 * seen night after night: one alert for the whole leak, not one a night.
 */
static void
test_leak_one_alert(void)
{
    struct th_fix f;
    struct mon_meas *m;
    struct mon_ingest_result res;
    struct mon_alert *l = NULL;
    struct mon_alert_filter flt;
    struct gu_err err;
    size_t n = 0, per_day = 96, np = 28 * 96, leak_from = 24 * 96 + 4;
    int64_t t0 = 1795000000 - 1795000000 % 86400, asset, sid, opened = 0;
    int64_t now;
    unsigned rng = 11;

    if (fix_open(&f) < 0 || !(m = calloc(np, sizeof(*m)))) {
        CHECK(0);
        return;
    }
    asset = make_asset(&f, "44109", "Réservoir des Hauts", NULL);
    sid = make_sensor(&f, "44109", asset, "debit-sortant", MON_Q_DEBIT);
    for (size_t i = 0; i < np; i++) {
        double h = (double)(i % per_day) / 4.0; /* hour of the day (UTC) */
        double v = 3.0 + 9.0 * exp(-0.5 * pow((h - 8.0) / 1.5, 2)) +
                   7.0 * exp(-0.5 * pow((h - 19.0) / 2.0, 2));
        m[i].t = t0 + (int64_t)i * 900;
        m[i].v = v * (1.0 + 0.05 * noise(&rng));
        if (i >= leak_from)
            m[i].v += 4.0;
    }
    now = t0 + (int64_t)np * 900;
    for (size_t k = 0; k < np; k += per_day) {
        CHECK_EQ(mon_ingest(f.c, "44109", sid, m + k, per_day, now, &res,
                            &err),
                 0);
        opened += res.alerts_opened;
        /* nothing before the leak */
        if (k + per_day <= leak_from)
            CHECK_EQ(opened, 0);
    }
    memset(&flt, 0, sizeof(flt));
    flt.status = -1;
    CHECK_EQ(mon_alert_list(f.c, f.a, "44109", &flt, &l, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(opened, 1);
    if (n >= 1) {
        /* it spans the leak's nights */
        CHECK(l[0].first_t >= m[leak_from].t);
        CHECK(l[0].last_t - l[0].first_t >= 2 * 86400);
    }
    free(m);
    th_fix_close(&f);
}

/*
 * The demo's history: its three injected faults (the reservoir's leak,
 * the pump's shifted current, the boiler stuck on at night, all within
 * the last five days) are the open alerts, one sensor each at least;
 * whatever the detectors flagged earlier while learning was resolved at
 * seed time as a false alarm, with the agent's comment. Seeding twice
 * adds nothing.
 */
static void
test_demo_seed(void)
{
    struct th_fix f;
    struct mon_alert *l = NULL;
    struct mon_alert_filter flt = {.status = -1, .limit = 500};
    struct mon_sensor *sv = NULL;
    struct gu_err err;
    size_t n = 0, ns = 0, nfalse = 0;
    int64_t recent = gu_now() - 5 * 86400;
    bool open_on[3] = {false, false, false};
    static const char *const faulty[3] = {"reservoir-hauts-debit",
                                          "pompe-port-courant",
                                          "chaudiere-jules-ferry-depart"};

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(mon_demo_seed(f.c, "44109", &err), 4);
    CHECK_EQ(mon_demo_seed(f.c, "44109", &err), 0);
    CHECK_EQ(mon_sensor_list(f.c, f.a, "44109", 0, &sv, &ns, &err), 0);
    CHECK_EQ(ns, 4);
    CHECK_EQ(mon_alert_list(f.c, f.a, "44109", &flt, &l, &n, &err), 0);
    for (size_t i = 0; i < n; i++) {
        const char *code = "";
        for (size_t j = 0; j < ns; j++)
            if (sv[j].id == l[i].sensor_id)
                code = sv[j].code;
        if (l[i].status == MON_ALERT_RESOLUE) {
            CHECK_EQ(l[i].verdict, MON_VERDICT_FAUSSE);
            CHECK_CONTAINS(l[i].comment, "rien d’anormal");
            nfalse++;
            continue;
        }
        CHECK(l[i].first_t >= recent);
        bool known = false;
        for (size_t k = 0; k < 3; k++)
            if (strcmp(code, faulty[k]) == 0)
                known = open_on[k] = true;
        CHECK(known);
    }
    for (size_t k = 0; k < 3; k++)
        CHECK(open_on[k]);
    fprintf(stderr, "demo: %zu alerts, %zu resolved as false alarms\n", n,
            nfalse);
    th_fix_close(&f);
}

TESTS(T(test_names), T(test_assets), T(test_sensors), T(test_explain),
      T(test_ingest), T(test_rate), T(test_alerts_tickets), T(test_csv),
      T(test_spike_alert), T(test_leak_one_alert), T(test_demo_seed))
