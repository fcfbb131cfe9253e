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

struct fix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
};

static int
commune(struct fix *f, const char *insee, const char *name)
{
    struct store_commune m;
    struct gu_err err;

    memset(&m, 0, sizeof(m));
    memcpy(m.insee, insee, 6);
    m.name = name;
    m.zone = "B";
    m.hours = m.address = m.phone = m.email = "";
    return store_commune_create(f->c, &m, &err);
}

static int
fix_open(struct fix *f)
{
    const struct store_migration *lists[3];
    size_t counts[3];
    struct gu_err err;

    memset(f, 0, sizeof(*f));
    lists[0] = store_core_migrations(&counts[0]);
    lists[1] = notify_migrations(&counts[1]);
    lists[2] = mon_migrations(&counts[2]);
    if (gu_crypto_init() < 0 ||
        store_open("sqlite::memory:", &f->s, &err) < 0 ||
        store_migrate(f->s, lists, counts, 3, NULL, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->a = gu_arena_new(0);
    if (!f->a || commune(f, "44109", "Nantes") < 0 ||
        commune(f, "99002", "Autre-Exemple") < 0)
        return -1;
    return 0;
}

static void
fix_close(struct fix *f)
{
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
}

static int64_t
make_asset(struct fix *f, const char *insee, const char *name,
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
make_sensor(struct fix *f, const char *insee, int64_t asset, const char *code,
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
    struct fix f;
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
    fix_close(&f);
}

static void
test_sensors(void)
{
    struct fix f;
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
    fix_close(&f);
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

TESTS(T(test_names), T(test_assets), T(test_sensors), T(test_explain))
