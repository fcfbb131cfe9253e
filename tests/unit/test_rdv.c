/*
 * test_rdv.c - the appointment model: validation of places, counters,
 * motifs, ranges and absences (French messages naming the field),
 * tenancy (another commune's ids are refused), lists and lookups, enum
 * names, and the demo commune's setup (complete and idempotent).
 * In-memory SQLite.
 */
#include "harness.h"

#include "rdv_fixture.h"

static void
test_enum_names(void)
{
    enum rdv_ants_reason r = RDV_ANTS_NONE;
    enum rdv_status s = RDV_HELD;

    CHECK_STR(rdv_ants_reason_name(RDV_ANTS_CNI_PASSPORT), "CNI-PASSPORT");
    CHECK_STR(rdv_ants_reason_name(RDV_ANTS_NONE), "");
    CHECK_EQ(rdv_ants_reason_parse("PASSPORT", &r), 0);
    CHECK_EQ(r, RDV_ANTS_PASSPORT);
    CHECK_EQ(rdv_ants_reason_parse("passeport", &r), GU_EINVAL);
    CHECK_STR(rdv_status_name(RDV_CONFIRMED), "confirme");
    CHECK_STR(rdv_status_name(RDV_NOSHOW), "absent");
    CHECK_EQ(rdv_status_parse("présent", &s), 0);
    CHECK_EQ(s, RDV_PRESENT);
    CHECK_EQ(rdv_status_parse("excuse", &s), 0);
    CHECK_EQ(s, RDV_EXCUSED);
    CHECK_EQ(rdv_status_parse("venu", &s), GU_EINVAL);
    CHECK_STR(rdv_channel_name(RDV_PHONE), "telephone");
    CHECK_STR(rdv_channel_name(RDV_AGENT_DESK), "guichet");
}

static void
test_place_validation(void)
{
    struct rfix f;
    struct rdv_place p, got;
    struct gu_err err;
    char longname[RDV_NAME_MAX + 2];
    int64_t id = 0;

    if (rfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    memset(&p, 0, sizeof(p));
    memcpy(p.insee, "99001", 6);
    p.name = "   ";
    p.address = p.zip = p.city = p.phone = "";
    CHECK_EQ(rdv_place_save(f.c, &p, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "name");
    CHECK_CONTAINS(err.user, "obligatoire");
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    p.name = longname;
    CHECK_EQ(rdv_place_save(f.c, &p, &id, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "200 caractères");
    p.name = "Mairie\x01";
    CHECK_EQ(rdv_place_save(f.c, &p, &id, &err), GU_EINVAL);
    p.name = "Mairie";
    p.lat = 91;
    CHECK_EQ(rdv_place_save(f.c, &p, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "lat");
    p.lat = 47.5;
    p.lon = -200;
    CHECK_EQ(rdv_place_save(f.c, &p, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "lon");
    p.lon = 0.7;
    p.phone = "appelez-nous";
    CHECK_EQ(rdv_place_save(f.c, &p, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "phone");
    p.phone = "+33 1 99 00 12 34";
    memcpy(p.insee, "ABCDE", 6);
    CHECK_EQ(rdv_place_save(f.c, &p, &id, &err), GU_EINVAL);
    memcpy(p.insee, "99001", 6);
    p.active = true;
    CHECK_EQ(rdv_place_save(f.c, &p, &id, &err), 0);
    CHECK(id > 0);
    CHECK_EQ(rdv_place_get(f.c, f.a, "99001", id, &got, &err), 0);
    CHECK_STR(got.name, "Mairie");
    CHECK(got.lat > 47.4 && got.lat < 47.6);
    /* another commune neither sees nor updates it */
    CHECK_EQ(rdv_place_get(f.c, f.a, "99002", id, &got, &err), GU_ENOTFOUND);
    p.id = id;
    memcpy(p.insee, "99002", 6);
    CHECK_EQ(rdv_place_save(f.c, &p, NULL, &err), GU_ENOTFOUND);
    memcpy(p.insee, "99001", 6);
    p.name = "Hôtel de ville";
    CHECK_EQ(rdv_place_save(f.c, &p, NULL, &err), 0);
    CHECK_EQ(rdv_place_get(f.c, f.a, "99001", id, &got, &err), 0);
    CHECK_STR(got.name, "Hôtel de ville");
    rfix_close(&f);
}

static void
test_counter_validation(void)
{
    struct rfix f;
    struct rdv_counter k;
    struct rdv_counter *list = NULL;
    struct gu_err err;
    int64_t other_place = 0, id = 0;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_place p = {.name = "Mairie d'ailleurs",
                          .address = "",
                          .zip = "",
                          .city = "",
                          .phone = "",
                          .active = true};
    memcpy(p.insee, "99002", 6);
    CHECK_EQ(rdv_place_save(f.c, &p, &other_place, &err), 0);
    memset(&k, 0, sizeof(k));
    memcpy(k.insee, "99001", 6);
    k.name = "Guichet 3";
    k.place_id = other_place; /* a place of another commune */
    CHECK_EQ(rdv_counter_save(f.c, &k, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "place_id");
    CHECK_CONTAINS(err.user, "lieu");
    k.place_id = f.place;
    k.name = "";
    CHECK_EQ(rdv_counter_save(f.c, &k, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "name");
    k.name = "Guichet 3";
    k.active = true;
    CHECK_EQ(rdv_counter_save(f.c, &k, &id, &err), 0);
    CHECK_EQ(rdv_counter_list(f.c, f.a, "99001", f.place, &list, &n, &err), 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(rdv_counter_list(f.c, f.a, "99001", 0, &list, &n, &err), 0);
    CHECK_EQ(n, 4);
    CHECK_EQ(rdv_counter_list(f.c, f.a, "99002", 0, &list, &n, &err), 0);
    CHECK_EQ(n, 0);
    rfix_close(&f);
}

static void
test_motif_validation(void)
{
    struct rfix f;
    struct rdv_motif m, got;
    struct gu_err err;
    int64_t id = 0;

    if (rfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    memset(&m, 0, sizeof(m));
    memcpy(m.insee, "99001", 6);
    m.code = "Passeport";
    m.name = "Passeport";
    m.instructions = "";
    m.duration_min = 20;
    m.max_people = 5;
    m.max_delay_d = 90;
    m.active = true;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "code");
    m.code = "passeport";
    m.duration_min = 7;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "duration_min");
    CHECK_CONTAINS(err.user, "par pas de 5 minutes");
    m.duration_min = 485;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), GU_EINVAL);
    m.duration_min = 0;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), GU_EINVAL);
    m.duration_min = 20;
    m.max_people = RDV_PEOPLE_MAX + 1;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "max_people");
    m.max_people = 5;
    m.min_delay_h = 24 * 90;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "min_delay_h");
    m.min_delay_h = -1;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), GU_EINVAL);
    m.min_delay_h = 2;
    m.max_delay_d = 400;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "max_delay_d");
    m.max_delay_d = 90;
    m.overbook_max = 9;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "overbook_max");
    m.overbook_max = 0;
    m.change_until_h = -3;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), GU_EINVAL);
    m.change_until_h = 24;
    m.per_person = true;
    m.ants = RDV_ANTS_PASSPORT;
    CHECK_EQ(rdv_motif_save(f.c, &m, &id, &err), 0);
    CHECK(id > 0);
    /* duplicate code in the same commune; fine in another */
    CHECK_EQ(rdv_motif_save(f.c, &m, NULL, &err), GU_ECONFLICT);
    CHECK_STR(err.field, "code");
    memcpy(m.insee, "99002", 6);
    CHECK_EQ(rdv_motif_save(f.c, &m, NULL, &err), 0);
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "passeport", &got, &err), 0);
    CHECK_EQ(got.id, id);
    CHECK_EQ(got.ants, RDV_ANTS_PASSPORT);
    CHECK(got.per_person);
    CHECK_EQ(got.min_delay_h, 2);
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "cni", &got, &err),
             GU_ENOTFOUND);
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "../x", &got, &err),
             GU_ENOTFOUND);
    CHECK_EQ(rdv_motif_get(f.c, f.a, "99002", id, &got, &err), GU_ENOTFOUND);
    rfix_close(&f);
}

static void
test_range_validation(void)
{
    struct rfix f;
    struct rdv_range g, *list = NULL;
    struct gu_err err;
    char motifs[64];
    int64_t id = 0, foreign = 0;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    foreign =
        rfix_motif(&f, "99002", "autre", 15, false, 1, 0, 30, RDV_ANTS_NONE);
    memset(&g, 0, sizeof(g));
    memcpy(g.insee, "99001", 6);
    g.counter_id = f.k1;
    g.weekday = 6;
    g.start_min = 9 * 60 + 3;
    g.end_min = 12 * 60;
    g.every_weeks = 2;
    g.from_day = RFIX_MONDAY;
    g.motifs = "";
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "start_min");
    g.start_min = 9 * 60;
    g.end_min = 9 * 60;
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "end_min");
    g.end_min = 1445;
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), GU_EINVAL);
    g.end_min = 12 * 60;
    g.weekday = 8;
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "weekday");
    g.weekday = 6;
    g.every_weeks = 3;
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "every_weeks");
    g.every_weeks = 2;
    g.until_day = RFIX_MONDAY - 1;
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "until_day");
    g.until_day = 0;
    g.from_day = 5; /* 1970 */
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "from_day");
    g.from_day = RFIX_MONDAY;
    snprintf(motifs, sizeof(motifs), "%lld,%lld", (long long)f.motif,
             (long long)foreign);
    g.motifs = motifs; /* a motif of another commune */
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "motifs");
    g.motifs = "3;4";
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), GU_EINVAL);
    g.motifs = "";
    g.counter_id = 999999;
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "counter_id");
    g.counter_id = f.k1;
    snprintf(motifs, sizeof(motifs), " %lld, %lld ,%lld", (long long)f.motif,
             (long long)f.motif_pp, (long long)f.motif);
    g.motifs = motifs;
    CHECK_EQ(rdv_range_save(f.c, &g, &id, &err), 0);
    CHECK_EQ(rdv_range_list(f.c, f.a, "99001", f.k1, &list, &n, &err), 0);
    CHECK_EQ(n, 6);
    CHECK_EQ(list[5].id, id);
    snprintf(motifs, sizeof(motifs), "%lld,%lld", (long long)f.motif,
             (long long)f.motif_pp);
    CHECK_STR(list[5].motifs, motifs); /* canonical, no duplicate */
    CHECK_EQ(list[5].every_weeks, 2);
    CHECK_EQ(rdv_range_delete(f.c, "99002", id, &err), GU_ENOTFOUND);
    CHECK_EQ(rdv_range_delete(f.c, "99001", id, &err), 0);
    CHECK_EQ(rdv_range_delete(f.c, "99001", id, &err), GU_ENOTFOUND);
    rfix_close(&f);
}

static void
test_absence_validation(void)
{
    struct rfix f;
    struct rdv_absence x, *list = NULL;
    struct gu_err err;
    int64_t id = 0;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    memset(&x, 0, sizeof(x));
    memcpy(x.insee, "99001", 6);
    x.place_id = f.place;
    x.counter_id = f.k3; /* k3 is at the other place */
    x.start_day = RFIX_MONDAY;
    x.start_min = 600;
    x.end_day = RFIX_MONDAY;
    x.end_min = 660;
    x.reason = "Formation";
    CHECK_EQ(rdv_absence_save(f.c, &x, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "counter_id");
    x.counter_id = f.k1;
    x.end_min = 600;
    CHECK_EQ(rdv_absence_save(f.c, &x, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "end_day");
    CHECK_CONTAINS(err.user, "après son début");
    x.end_day = RFIX_MONDAY - 1;
    x.end_min = 700;
    CHECK_EQ(rdv_absence_save(f.c, &x, &id, &err), GU_EINVAL);
    x.end_day = RFIX_MONDAY;
    x.end_min = 662;
    CHECK_EQ(rdv_absence_save(f.c, &x, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "end_min");
    x.end_min = 660;
    CHECK_EQ(rdv_absence_save(f.c, &x, &id, &err), 0);
    /* a closure of the whole place spanning three days */
    x.counter_id = 0;
    x.start_day = RFIX_MONDAY + 7;
    x.start_min = 0;
    x.end_day = RFIX_MONDAY + 10;
    x.end_min = 0;
    x.reason = "Fermeture exceptionnelle";
    CHECK_EQ(rdv_absence_save(f.c, &x, NULL, &err), 0);
    CHECK_EQ(rdv_absence_list(f.c, f.a, "99001", RFIX_MONDAY + 8,
                              RFIX_MONDAY + 8, &list, &n, &err),
             0);
    CHECK_EQ(n, 1);
    CHECK_STR(list[0].reason, "Fermeture exceptionnelle");
    CHECK_EQ(rdv_absence_list(f.c, f.a, "99001", 0, 0, &list, &n, &err), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(rdv_absence_delete(f.c, "99001", id, &err), 0);
    CHECK_EQ(rdv_absence_list(f.c, f.a, "99001", 0, 0, &list, &n, &err), 0);
    CHECK_EQ(n, 1);
    rfix_close(&f);
}

static void
test_motif_places(void)
{
    struct rfix f;
    struct rdv_place *pl = NULL;
    struct gu_err err;
    char list[32];
    int64_t only = 0;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(rdv_motif_places(f.c, f.a, "99001", f.motif, &pl, &n, &err), 0);
    CHECK_EQ(n, 2); /* both places list every motif */
    only =
        rfix_motif(&f, "99001", "mariage", 45, false, 2, 0, 90, RDV_ANTS_NONE);
    CHECK_EQ(rdv_motif_places(f.c, f.a, "99001", only, &pl, &n, &err), 0);
    CHECK_EQ(n, 2); /* "" lists every motif, new ones too */
    /* restrict the annexe to etat-civil only */
    struct rdv_range *g = NULL;
    size_t ng = 0;
    CHECK_EQ(rdv_range_list(f.c, f.a, "99001", f.k3, &g, &ng, &err), 0);
    CHECK_EQ(ng, 1);
    snprintf(list, sizeof(list), "%lld", (long long)f.motif);
    g[0].motifs = list;
    CHECK_EQ(rdv_range_save(f.c, &g[0], NULL, &err), 0);
    CHECK_EQ(rdv_motif_places(f.c, f.a, "99001", only, &pl, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_STR(pl[0].name, "Mairie");
    CHECK_EQ(rdv_motif_places(f.c, f.a, "99002", only, &pl, &n, &err), 0);
    CHECK_EQ(n, 0);
    rfix_close(&f);
}

static void
test_demo_seed(void)
{
    struct rfix f;
    struct rdv_place *pl = NULL;
    struct rdv_counter *k = NULL;
    struct rdv_motif *m = NULL, cni, elu;
    struct rdv_range *g = NULL;
    struct rdv_absence *x = NULL;
    struct gu_err err;
    size_t np = 0, nk = 0, nm = 0, npub = 0, ng = 0, nx = 0;

    if (rfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(rdv_demo_seed(f.c, "99001", &err), 0);
    CHECK_EQ(rdv_place_list(f.c, f.a, "99001", true, &pl, &np, &err), 0);
    CHECK_EQ(np, 3);
    CHECK_STR(pl[0].name, "Mairie");
    CHECK_STR(pl[1].name, "Mairie annexe");
    CHECK_STR(pl[2].name, "Maison des solidarités (CCAS)");
    CHECK_EQ(rdv_counter_list(f.c, f.a, "99001", pl[0].id, &k, &nk, &err), 0);
    CHECK_EQ(nk, 2);
    CHECK_EQ(rdv_counter_list(f.c, f.a, "99001", pl[1].id, &k, &nk, &err), 0);
    CHECK_EQ(nk, 1);
    CHECK_EQ(rdv_motif_list(f.c, f.a, "99001", false, &m, &nm, &err), 0);
    CHECK_EQ(nm, 13);
    CHECK_EQ(rdv_motif_list(f.c, f.a, "99001", true, &m, &npub, &err), 0);
    CHECK_EQ(npub, 12); /* rencontre-elu is for agents */
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "cni-passeport", &cni, &err),
             0);
    CHECK_EQ(cni.ants, RDV_ANTS_CNI_PASSPORT);
    CHECK(cni.per_person);
    CHECK_EQ(cni.max_people, 5);
    CHECK_EQ(cni.min_delay_h, 2);
    CHECK_EQ(cni.max_delay_d, 90);
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "rencontre-elu", &elu, &err),
             0);
    CHECK_EQ(elu.audience, RDV_AGENTS_ONLY);
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "mariage", &elu, &err), 0);
    CHECK_EQ(elu.duration_min, 45);
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "urbanisme", &elu, &err), 0);
    CHECK_EQ(elu.audience, RDV_PUBLIC);
    CHECK_EQ(elu.duration_min, 30);
    /* CNI only at the Mairie (its station), état civil at both places */
    CHECK_EQ(rdv_motif_places(f.c, f.a, "99001", cni.id, &pl, &np, &err), 0);
    CHECK_EQ(np, 1);
    CHECK_STR(pl[0].name, "Mairie");
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "etat-civil", &elu, &err), 0);
    CHECK_EQ(rdv_motif_places(f.c, f.a, "99001", elu.id, &pl, &np, &err), 0);
    CHECK_EQ(np, 2);
    CHECK_EQ(rdv_range_list(f.c, f.a, "99001", 0, &g, &ng, &err), 0);
    CHECK_EQ(ng, 31); /* 2 × 10 week halves + 5 annexe mornings + 1 Saturday
                         + 5 CCAS afternoons */
    size_t saturdays = 0;
    for (size_t i = 0; i < ng; i++) {
        if (g[i].weekday == 6) {
            saturdays++;
            CHECK_EQ(g[i].every_weeks, 2);
        }
    }
    CHECK_EQ(saturdays, 1);
    CHECK_EQ(rdv_absence_list(f.c, f.a, "99001", 0, 0, &x, &nx, &err), 0);
    CHECK_EQ(nx, 2);
    /* idempotent */
    CHECK_EQ(rdv_demo_seed(f.c, "99001", &err), 0);
    CHECK_EQ(rdv_motif_list(f.c, f.a, "99001", false, &m, &nm, &err), 0);
    CHECK_EQ(nm, 13);
    CHECK_EQ(rdv_range_list(f.c, f.a, "99001", 0, &g, &ng, &err), 0);
    CHECK_EQ(ng, 31);
    rfix_close(&f);
}

/* The demo's slots: CNI at the station only, a Saturday every other
   week, the annexe's closure, agents-only motifs hidden. */
static void
test_demo_slots(void)
{
    struct rfix f;
    struct rdv_motif cni, ec, elu;
    struct rdv_place *pl = NULL;
    struct rdv_counter *k = NULL;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    size_t np = 0, nk = 0, n = 0;
    int64_t today = gu_now() / 86400;
    int64_t monday = today - (gu_day_weekday(today) - 1);

    if (rfix_open(&f) < 0 || rdv_demo_seed(f.c, "99001", &err) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(rdv_place_list(f.c, f.a, "99001", true, &pl, &np, &err), 0);
    CHECK_EQ(rdv_counter_list(f.c, f.a, "99001", pl[0].id, &k, &nk, &err), 0);
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "cni", &cni, &err), 0);
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "etat-civil", &ec, &err), 0);
    CHECK_EQ(rdv_motif_by_code(f.c, f.a, "99001", "rencontre-elu", &elu, &err),
             0);
    int64_t station = 0;
    for (size_t i = 0; i < nk; i++) {
        if (strcmp(k[i].name, "Station CNI/passeport") == 0)
            station = k[i].id;
    }
    CHECK(station > 0);
    struct rdv_slot_query q = {.insee = "99001",
                               .motif_id = cni.id,
                               .from_day = monday + 7,
                               .to_day = monday + 34,
                               .people = 1,
                               .limit = RDV_SLOTS_MAX,
                               .one_per_time = true};
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK(n > 100);
    bool sat_even = false, sat_odd = false;
    for (size_t i = 0; i < n; i++) {
        int64_t week = (v[i].day - monday) / 7;

        CHECK_EQ(v[i].counter_id, station);
        if (gu_day_weekday(v[i].day) == 6) {
            sat_even = sat_even || week % 2 == 0;
            sat_odd = sat_odd || week % 2 == 1;
        }
        CHECK(gu_day_weekday(v[i].day) != 7);
    }
    CHECK(sat_even);
    CHECK(!sat_odd);
    /* the annexe closes monday + 23 and + 24 (works) */
    q.motif_id = ec.id;
    q.place_ids = &pl[1].id;
    q.nplaces = 1;
    q.from_day = monday + 21;
    q.to_day = monday + 25;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    size_t closed = 0, open = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].day == monday + 23 || v[i].day == monday + 24)
            closed++;
        else
            open++;
    }
    CHECK_EQ(closed, 0);
    CHECK(open > 0);
    /* agents only */
    q.motif_id = elu.id;
    q.nplaces = 0;
    q.place_ids = NULL;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_ENOTFOUND);
    q.agent = true;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    rfix_close(&f);
}

/* Every booking link of the demo's fiches (/rdv?motif=CODE) leads to a
   public motif the demo offers somewhere. */
static void
test_demo_fiche_links(void)
{
    struct rfix f;
    struct gu_err err;
    size_t n = 0, links = 0;
    const struct gu_asset *all = gu_demo_all(&n);

    if (rfix_open(&f) < 0 || rdv_demo_seed(f.c, "99001", &err) < 0) {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *p = (const char *)all[i].data;
        const char *end = p + all[i].size;
        while ((p = memmem(p, (size_t)(end - p), "/rdv?motif=", 11))) {
            char code[64];
            size_t k = 0;
            p += 11;
            while (p < end && k + 1 < sizeof(code) &&
                   ((*p >= 'a' && *p <= 'z') || *p == '-' ||
                    (*p >= '0' && *p <= '9')))
                code[k++] = *p++;
            code[k] = '\0';
            struct rdv_motif m;
            struct rdv_place *pl = NULL;
            size_t np = 0;
            links++;
            if (rdv_motif_by_code(f.c, f.a, "99001", code, &m, &err) != 0) {
                TH_FAIL("%s: motif « %s » absent de la démo", all[i].path,
                        code);
                continue;
            }
            CHECK_EQ(m.audience, RDV_PUBLIC);
            CHECK_EQ(rdv_motif_places(f.c, f.a, "99001", m.id, &pl, &np, &err),
                     0);
            CHECK(np > 0);
        }
    }
    CHECK(links >= 10);
    rfix_close(&f);
}

TESTS(T(test_enum_names), T(test_demo_fiche_links), T(test_place_validation), T(test_counter_validation),
      T(test_motif_validation), T(test_range_validation),
      T(test_absence_validation), T(test_motif_places), T(test_demo_seed),
      T(test_demo_slots))
