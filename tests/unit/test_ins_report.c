/*
 * test_ins_report.c - the impact report's figures (src/insight) on a
 * small store seeded by hand in every domain's tables, whose expected
 * values are worked out below next to the rows: months and their
 * boundaries, each domain's figure function, the savings from the costs,
 * the empty month, tenancy, the costs' validation, the CSV and the
 * transparency notice.
 */
#include "harness.h"

#include "app/app.h"
#include "forecast/fc_service.h"
#include "insight/ins_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "store_fix.h"

#define NEAR(a, b) (fabs((double)(a) - (double)(b)) < 1e-6)

struct fix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct ins_month nov;
    int64_t now; /* 20 November 2026, 12:00 in Paris */
};

/* Unix time of 2026-11-d at minute `min` (Paris), or of month m. */
static int64_t
at(int m, int d, int min)
{
    return gu_tz_to_utc(GU_TZ_PARIS, gu_day_from_ymd(2026, m, d), min);
}

static int64_t
day(int m, int d)
{
    return gu_day_from_ymd(2026, m, d);
}

/* COUNT(*) of "table WHERE ..." */
static int64_t
hs_count(struct fix *f, const char *from)
{
    struct store_rows *r = NULL;
    struct gu_err err;
    char sql[512];

    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", from);
    if (store_query(f->c, f->a, sql, NULL, 0, &r, &err) < 0) {
        fprintf(stderr, "count: %s\n", err.msg);
        return -1;
    }
    return store_int(r, 0, 0);
}

static int
ex(struct fix *f, const char *sql, const struct store_val *p, size_t n)
{
    struct gu_err err;
    int rc = store_exec(f->c, sql, p, n, &err);

    if (rc < 0)
        fprintf(stderr, "seed: %s: %s\n", sql, err.msg);
    return rc;
}

#define EX(f, sql, ...)                                                        \
    do {                                                                       \
        struct store_val p_[] = {__VA_ARGS__};                                 \
        if (ex(f, sql, p_, GU_ARRAY_LEN(p_)) < 0)                              \
            return -1;                                                         \
    } while (0)

static int
seed_assistant(struct fix *f)
{
    EX(f,
       "INSERT INTO asst_conversations (id, insee, token_hash, created_at,"
       " updated_at) VALUES (1, '99001', 'h1', ?, ?)",
       STORE_I(at(11, 2, 600)), STORE_I(at(11, 2, 600)));
    /* November: 3 answers (useful, useful, not useful), 1 abstention, 1
       clarification, 1 greeting; one answer in October, one in December */
    static const struct {
        int m, d;
        const char *type;
        int useful; /* -1 = no rating */
    } msg[] = {
        {11, 2, "answer", 1},      {11, 3, "answer", 1},
        {11, 4, "answer", 0},      {11, 5, "handoff_offer", -1},
        {11, 6, "clarify", -1},    {11, 7, "greeting", -1},
        {10, 30, "answer", 1},     {12, 1, "answer", 0},
    };
    for (size_t i = 0; i < GU_ARRAY_LEN(msg); i++)
        EX(f,
           "INSERT INTO asst_messages (conversation_id, insee, at, type,"
           " payload, useful) VALUES (1, '99001', ?, ?, '{}', ?)",
           STORE_I(at(msg[i].m, msg[i].d, 600)), STORE_T(msg[i].type),
           msg[i].useful < 0 ? STORE_NUL : STORE_I(msg[i].useful));
    /* hand-offs: answered after 1 h and 2 h, one unanswered: median
       5400 s over 2 answered out of 3 */
    static const struct {
        const char *hash;
        int d, after;
    } ho[] = {{"f1", 3, 3600}, {"f2", 4, 7200}, {"f3", 5, 0}};
    for (size_t i = 0; i < GU_ARRAY_LEN(ho); i++) {
        int64_t t = at(11, ho[i].d, 600);
        EX(f,
           "INSERT INTO asst_handoffs (insee, conversation_id, follow_hash,"
           " email, question, created_at, updated_at, answered_at) VALUES"
           " ('99001', 1, ?, 'x@example.invalid', 'q', ?, ?, ?)",
           STORE_T(ho[i].hash), STORE_I(t), STORE_I(t),
           STORE_I(ho[i].after ? t + ho[i].after : 0));
    }
    return 0;
}

static int
request(struct fix *f, int id, int m, int d, int reply_after)
{
    int64_t t = at(m, d, 540);
    char num[16];

    snprintf(num, sizeof(num), "2026-%05d", id);
    EX(f,
       "INSERT INTO tri_requests (id, insee, number, channel, status,"
       " created_at, updated_at, first_reply_at) VALUES (?, '99001', ?,"
       " 'web', 'nouvelle', ?, ?, ?)",
       STORE_I(id), STORE_T(num), STORE_I(t), STORE_I(t),
       STORE_I(reply_after ? t + reply_after : 0));
    return 0;
}

static int
decision(struct fix *f, int rid, const char *value, const char *previous,
         const char *source)
{
    EX(f,
       "INSERT INTO tri_decisions (insee, request_id, kind, value, previous,"
       " source, created_at) VALUES ('99001', ?, 'service', ?, ?, ?, ?)",
       STORE_I(rid), STORE_T(value), STORE_T(previous), STORE_T(source),
       STORE_I(at(11, 15, 0)));
    return 0;
}

static int
seed_triage(struct fix *f)
{
    /* r1 routed, replied after 1 h; r2 routed then corrected, replied
       after 3 h; r3 left « à trier » then routed by an agent; r4 routed,
       the agent confirmed the same service; r5 in October.
       November: received 4, auto-routed 3, corrected 1, replied 2,
       median 7200 s. */
    if (request(f, 1, 11, 3, 3600) < 0 || request(f, 2, 11, 4, 10800) < 0 ||
        request(f, 3, 11, 5, 0) < 0 || request(f, 4, 11, 6, 0) < 0 ||
        request(f, 5, 10, 6, 600) < 0)
        return -1;
    if (decision(f, 1, "voirie", "", "modele") < 0 ||
        decision(f, 2, "voirie", "", "modele") < 0 ||
        decision(f, 2, "proprete", "voirie", "agent") < 0 ||
        decision(f, 3, "", "voirie", "modele") < 0 ||
        decision(f, 3, "voirie", "", "agent") < 0 ||
        decision(f, 4, "voirie", "", "regle") < 0 ||
        decision(f, 4, "voirie", "voirie", "agent") < 0 ||
        decision(f, 5, "voirie", "", "modele") < 0)
        return -1;
    return 0;
}

static int
booking(struct fix *f, int m, int d, int status, int channel, int cm, int cd,
        int wait_id)
{
    EX(f,
       "INSERT INTO rdv_bookings (insee, motif_id, place_id, counter_id, day,"
       " start_min, end_min, status, channel, created_at, updated_at,"
       " wait_id) VALUES ('99001', 1, 1, 1, ?, 600, 630, ?, ?, ?, ?, ?)",
       STORE_I(day(m, d)), STORE_I(status), STORE_I(channel),
       STORE_I(at(cm, cd, 600)), STORE_I(at(cm, cd, 600)), STORE_I(wait_id));
    return 0;
}

static int
seed_rdv(struct fix *f)
{
    EX(f,
       "INSERT INTO rdv_places (id, insee, name, created_at) VALUES (1,"
       " '99001', 'Mairie', ?)",
       STORE_I(0));
    EX(f,
       "INSERT INTO rdv_counters (id, insee, place_id, name, created_at)"
       " VALUES (1, '99001', 1, 'Guichet 1', ?)",
       STORE_I(0));
    EX(f,
       "INSERT INTO rdv_motifs (id, insee, code, name, duration_min,"
       " created_at) VALUES (1, '99001', 'cni', 'CNI', 30, ?)",
       STORE_I(0));
    /* Past days of November (today is the 20th): held 5, kept 2, no-show
       1, excused 1, unmarked 1, cancelled 1. Online in November: b2 (chat)
       and b7 (web) = 2. Recovered from the waiting list: b7, 30 min. */
    if (booking(f, 11, 5, 3, 0, 10, 20, 0) < 0 ||  /* b1 present, web */
        booking(f, 11, 5, 3, 3, 11, 1, 0) < 0 ||   /* b2 present, chat */
        booking(f, 11, 5, 4, 1, 10, 20, 0) < 0 ||  /* b3 no-show, desk */
        booking(f, 11, 5, 5, 1, 11, 2, 0) < 0 ||   /* b4 excused, desk */
        booking(f, 11, 5, 1, 0, 10, 20, 0) < 0 ||  /* b5 unmarked */
        booking(f, 11, 5, 2, 0, 10, 20, 0) < 0 ||  /* b6 cancelled */
        booking(f, 11, 25, 1, 0, 11, 10, 7) < 0 || /* b7 recovered */
        booking(f, 11, 25, 0, 0, 11, 12, 8) < 0 || /* b8 offer pending */
        booking(f, 10, 5, 4, 0, 9, 1, 0) < 0)      /* b9 October */
        return -1;
    return 0;
}

static int
point(struct fix *f, int sid, int m, int d, double v, double staff,
      double reco)
{
    EX(f,
       "INSERT INTO fc_points (series_id, t, value, staff, insee, updated_at)"
       " VALUES (?, ?, ?, ?, '99001', 0)",
       STORE_I(sid), STORE_I(day(m, d)), STORE_D(v),
       isnan(staff) ? STORE_NUL : STORE_D(staff));
    if (!isnan(reco))
        EX(f,
           "INSERT INTO ins_canteen_recos (series_id, day, insee, reco, p50,"
           " risk, made_at) VALUES (?, ?, '99001', ?, ?, 0.05, 0)",
           STORE_I(sid), STORE_I(day(m, d)), STORE_D(reco), STORE_D(reco));
    return 0;
}

static int
seed_canteens(struct fix *f)
{
    EX(f,
       "INSERT INTO fc_series (id, insee, code, name, freq, kind, meal_cost,"
       " meal_kg, created_at) VALUES (1, '99001', 'c1', 'Cantine 1', 'jour',"
       " 'cantine', 2.5, 0.5, 0), (2, '99001', 'c2', 'Cantine 2', 'jour',"
       " 'cantine', 0, 0, 0), (3, '99001', 'eau', 'Eau', 'jour', 'eau', 0,"
       " 0, ?)",
       STORE_I(0));
    /* c1: 3/11 surplus 20 vs 5 (+15); 4/11 staff short, Guichet 5 over
       (-5); 5/11 no recommendation (not compared); 30/10 outside.
       c2 (commune's defaults 3 € and 0.4 kg): 6/11 surplus 10 vs Guichet
       short (+10). Compared 3 days, staff surplus 30, Guichet 10, saved
       20 meals, 15*0.5 - 5*0.5 + 10*0.4 = 9 kg, 15*2.5 - 5*2.5 + 10*3 =
       55 €; 4 days with an actual; the water series is ignored. */
    if (point(f, 1, 11, 3, 100, 120, 105) < 0 ||
        point(f, 1, 11, 4, 110, 105, 115) < 0 ||
        point(f, 1, 11, 5, 90, 100, NAN) < 0 ||
        point(f, 1, 10, 30, 90, 200, 90) < 0 ||
        point(f, 2, 11, 6, 50, 60, 48) < 0 ||
        point(f, 3, 11, 6, 500, 900, 100) < 0)
        return -1;
    return 0;
}

static int
seed_alerts(struct fix *f)
{
    EX(f,
       "INSERT INTO mon_assets (id, insee, name, created_at) VALUES (1,"
       " '99001', 'Pompe', ?)",
       STORE_I(0));
    EX(f,
       "INSERT INTO mon_sensors (id, insee, asset_id, code, name, created_at)"
       " VALUES (1, '99001', 1, 'p1', 'Courant', ?)",
       STORE_I(0));
    /* a1 acknowledged after 600 s, resolved as real with a ticket; a2
       resolved after 1800 s as a false alarm; a3 still open; a5 resolved
       after 3000 s through the API, no verdict; a4 in October (false).
       November: opened 4, taken up 3 (median 1800 s), resolved 3, false
       alarms 1, without verdict 1. */
    static const struct {
        int id, m, d;
        const char *status, *verdict;
        int ack, res;
    } al[] = {{1, 11, 8, "resolue", "reelle", 600, 4000},
              {2, 11, 9, "resolue", "fausse_alerte", 0, 1800},
              {3, 11, 10, "ouverte", "", 0, 0},
              {5, 11, 11, "resolue", "", 0, 3000},
              {4, 10, 10, "resolue", "fausse_alerte", 60, 120}};
    for (size_t i = 0; i < GU_ARRAY_LEN(al); i++) {
        int64_t t = at(al[i].m, al[i].d, 120);
        EX(f,
           "INSERT INTO mon_alerts (id, insee, sensor_id, asset_id, status,"
           " detector, first_t, last_t, max_score, value, expected,"
           " deviation, explanation, opened_at, ack_at, resolved_at,"
           " verdict) VALUES (?, '99001', 1, 1, ?, 'gauss', ?, ?, 0.9, 1, 1,"
           " 1, '', ?, ?, ?, ?)",
           STORE_I(al[i].id), STORE_T(al[i].status), STORE_I(t), STORE_I(t),
           STORE_I(t), al[i].ack ? STORE_I(t + al[i].ack) : STORE_NUL,
           al[i].res ? STORE_I(t + al[i].res) : STORE_NUL,
           STORE_T(al[i].verdict));
    }
    EX(f,
       "INSERT INTO mon_tickets (insee, asset_id, alert_id, title, created_at,"
       " updated_at) VALUES ('99001', 1, 1, 'Changer la pompe', 0, ?)",
       STORE_I(0));
    return 0;
}

static int
fix_open(struct fix *f)
{
    struct gu_err err;
    int applied = 0;

    memset(f, 0, sizeof(*f));
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, &applied, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->a = gu_arena_new(0);
    if (!f->a || th_commune(f->c, "99001", "Saint-Exemple-sur-Loire") < 0 ||
        th_commune(f->c, "99002", "Autre-Exemple") < 0)
        return -1;
    ins_month_make(2026, 11, "B", &f->nov);
    f->now = at(11, 20, 720);
    if (seed_assistant(f) < 0 || seed_triage(f) < 0 || seed_rdv(f) < 0 ||
        seed_canteens(f) < 0 || seed_alerts(f) < 0)
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

/* ------------------------------------------------------------------ */

static void
test_months(void)
{
    struct ins_month m;
    struct gu_err err;
    char buf[40];

    CHECK_EQ(ins_month_parse("2026-11", "B", &m, &err), 0);
    CHECK_EQ(m.year, 2026);
    CHECK_EQ(m.month, 11);
    CHECK_EQ(m.day0, gu_day_from_ymd(2026, 11, 1));
    CHECK_EQ(m.day1, gu_day_from_ymd(2026, 12, 1));
    /* local midnight in winter: 23:00 UTC the day before */
    CHECK_EQ(m.t0, m.day0 * 86400 - 3600);
    ins_month_label(&m, buf, sizeof(buf));
    CHECK_STR(buf, "novembre 2026");
    ins_month_make(2026, 0, "B", &m);
    ins_month_key(&m, buf, sizeof(buf));
    CHECK_STR(buf, "2025-12");
    ins_month_make(2026, 13, "B", &m);
    ins_month_key(&m, buf, sizeof(buf));
    CHECK_STR(buf, "2027-01");
    CHECK_EQ(ins_month_parse("2026-13", "B", &m, &err), GU_EINVAL);
    CHECK_STR(err.field, "mois");
    CHECK_EQ(ins_month_parse("26-11", "B", &m, &err), GU_EINVAL);
    CHECK_EQ(ins_month_parse("2026/11", "B", &m, &err), GU_EINVAL);
    CHECK_EQ(ins_month_parse("2026-1a", "B", &m, &err), GU_EINVAL);
    CHECK_EQ(ins_month_parse(NULL, "B", &m, &err), GU_EINVAL);
}

static void
test_median(void)
{
    double a[] = {5, 1, 3}, b[] = {4, 1, 3, 2};

    CHECK(isnan(ins_median(NULL, 0)));
    CHECK(NEAR(ins_median(a, 3), 3));
    CHECK(NEAR(ins_median(b, 4), 2.5));
}

static void
test_assistant(void)
{
    struct fix f;
    struct ins_assistant r;
    struct gu_err err;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(ins_assistant_month(f.c, f.a, "99001", &f.nov, &r, &err), 0);
    CHECK_EQ(r.answers, 3);
    CHECK_EQ(r.abstentions, 1);
    CHECK_EQ(r.clarifications, 1);
    CHECK_EQ(r.useful, 2);
    CHECK_EQ(r.not_useful, 1);
    CHECK_EQ(r.handoffs, 3);
    CHECK_EQ(r.handoffs_answered, 2);
    CHECK(NEAR(r.handoff_median_s, 5400));
    /* another commune sees nothing */
    CHECK_EQ(ins_assistant_month(f.c, f.a, "99002", &f.nov, &r, &err), 0);
    CHECK_EQ(r.answers, 0);
    CHECK_EQ(r.handoffs, 0);
    CHECK(isnan(r.handoff_median_s));
    fix_close(&f);
}

static void
test_triage(void)
{
    struct fix f;
    struct ins_triage r;
    struct gu_err err;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(ins_triage_month(f.c, f.a, "99001", &f.nov, &r, &err), 0);
    CHECK_EQ(r.received, 4);
    CHECK_EQ(r.auto_routed, 3);
    CHECK_EQ(r.corrected, 1);
    CHECK_EQ(r.replied, 2);
    CHECK(NEAR(r.reply_median_s, 7200));
    fix_close(&f);
}

static void
test_rdv(void)
{
    struct fix f;
    struct ins_rdv r;
    struct gu_err err;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(ins_rdv_month(f.c, f.a, "99001", &f.nov, day(11, 20), &r, &err),
             0);
    CHECK_EQ(r.held, 5);
    CHECK_EQ(r.kept, 2);
    CHECK_EQ(r.noshow, 1);
    CHECK_EQ(r.excused, 1);
    CHECK_EQ(r.unmarked, 1);
    CHECK_EQ(r.cancelled, 1);
    CHECK_EQ(r.online, 2);
    CHECK_EQ(r.recovered, 1);
    CHECK_EQ(r.recovered_min, 30);
    /* seen from 1 November, no day of the month is past yet */
    CHECK_EQ(ins_rdv_month(f.c, f.a, "99001", &f.nov, day(11, 1), &r, &err),
             0);
    CHECK_EQ(r.held, 0);
    CHECK_EQ(r.online, 2);
    fix_close(&f);
}

static void
test_canteen(void)
{
    struct fix f;
    struct ins_canteen r;
    struct ins_costs k;
    struct gu_err err;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    ins_costs_default(NULL, &k);
    CHECK_EQ(ins_canteen_month(f.c, f.a, "99001", &f.nov, &k, &r, &err), 0);
    CHECK_EQ(r.series, 2);
    CHECK_EQ(r.days, 3);
    CHECK_EQ(r.days_actual, 4);
    CHECK(NEAR(r.staff_surplus, 30));
    CHECK(NEAR(r.reco_surplus, 10));
    CHECK_EQ(r.staff_short, 1);
    CHECK_EQ(r.reco_short, 1);
    CHECK(NEAR(r.meals_saved, 20));
    CHECK(NEAR(r.kg_saved, 9));
    CHECK(NEAR(r.euros_saved, 55));
    fix_close(&f);
}

static void
test_alerts(void)
{
    struct fix f;
    struct ins_alerts r;
    struct gu_err err;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(ins_alerts_month(f.c, f.a, "99001", &f.nov, &r, &err), 0);
    CHECK_EQ(r.opened, 4);
    CHECK_EQ(r.acknowledged, 3);
    CHECK_EQ(r.resolved, 3);
    CHECK_EQ(r.false_alarms, 1);
    CHECK_EQ(r.unqualified, 1);
    CHECK(NEAR(r.ack_median_s, 1800));
    fix_close(&f);
}

static void
test_report_and_savings(void)
{
    struct fix f;
    struct ins_report r;
    struct ins_costs k;
    struct ins_month jan;
    struct gu_err err;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    ins_costs_default(NULL, &k);
    CHECK_EQ(ins_report_compute(f.c, f.a, "99001", "B", &f.nov, &k, f.now,
                                &r, &err),
             0);
    CHECK(!r.empty);
    /* 3 answers x 5 min + (3 - 1) routed x 3 min + 2 online x 4 min =
       29 min; at 30 €/h: 14,50 €; plus 55 € of meals */
    CHECK(NEAR(r.sav.hours_answers, 0.25));
    CHECK(NEAR(r.sav.hours_routed, 0.1));
    CHECK(NEAR(r.sav.hours_booking, 8.0 / 60.0));
    CHECK(NEAR(r.sav.hours_total, 29.0 / 60.0));
    CHECK(NEAR(r.sav.euros_time, 14.5));
    CHECK(NEAR(r.sav.euros_meals, 55));
    CHECK(NEAR(r.sav.euros_total, 69.5));
    CHECK(NEAR(r.sav.hours_recovered, 0.5));
    /* the commune's own costs change the euros, not the counts */
    k.hourly_cost = 60;
    ins_savings_compute(&r, &k, &r.sav);
    CHECK(NEAR(r.sav.euros_time, 29));
    /* a month with nothing says so */
    ins_month_make(2026, 1, "B", &jan);
    CHECK_EQ(ins_report_compute(f.c, f.a, "99001", "B", &jan, &k, f.now, &r,
                                &err),
             0);
    CHECK(r.empty);
    CHECK(NEAR(r.sav.euros_total, 0));
    /* and another commune's November is empty too */
    CHECK_EQ(ins_report_compute(f.c, f.a, "99002", "B", &f.nov, &k, f.now,
                                &r, &err),
             0);
    CHECK(r.empty);
    fix_close(&f);
}

static void
test_costs(void)
{
    struct fix f;
    struct ins_costs k;
    struct gu_err err;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(ins_costs_get(f.c, f.a, NULL, "99001", &k, &err), 0);
    CHECK(!k.custom);
    CHECK(NEAR(k.min_answer, 5));
    CHECK(NEAR(k.hourly_cost, 30));
    k.hourly_cost = 41.5;
    k.meal_kg = 0.35;
    CHECK_EQ(ins_costs_save(f.c, "99001", &k, "admin", 1000, &err), 0);
    CHECK_EQ(ins_costs_get(f.c, f.a, NULL, "99001", &k, &err), 0);
    CHECK(k.custom);
    CHECK(NEAR(k.hourly_cost, 41.5));
    CHECK(NEAR(k.meal_kg, 0.35));
    CHECK_STR(k.updated_by, "admin");
    CHECK_EQ(k.updated_at, 1000);
    /* the other commune keeps the defaults */
    CHECK_EQ(ins_costs_get(f.c, f.a, NULL, "99002", &k, &err), 0);
    CHECK(!k.custom);
    /* out of bounds: refused, field named, nothing changed */
    k.min_routed = -1;
    CHECK_EQ(ins_costs_save(f.c, "99002", &k, "admin", 1000, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "min_routed");
    k.min_routed = 3;
    k.hourly_cost = NAN;
    CHECK_EQ(ins_costs_save(f.c, "99002", &k, "admin", 1000, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "hourly_cost");
    CHECK_EQ(ins_costs_get(f.c, f.a, NULL, "99002", &k, &err), 0);
    CHECK(!k.custom);
    CHECK_EQ(ins_costs_reset(f.c, "99001", &err), 0);
    CHECK_EQ(ins_costs_get(f.c, f.a, NULL, "99001", &k, &err), 0);
    CHECK(!k.custom);
    fix_close(&f);
}

static void
test_csv_and_json(void)
{
    struct fix f;
    struct ins_report r, prev;
    struct ins_costs k;
    struct ins_month oct;
    struct gu_err err;
    struct gu_buf b;
    json_t *j;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    ins_costs_default(NULL, &k);
    ins_month_make(2026, 10, "B", &oct);
    CHECK_EQ(ins_report_compute(f.c, f.a, "99001", "B", &f.nov, &k, f.now,
                                &r, &err),
             0);
    CHECK_EQ(ins_report_compute(f.c, f.a, "99001", "B", &oct, &k, f.now,
                                &prev, &err),
             0);
    gu_buf_init(&b);
    ins_report_csv(&b, &r, &prev, &k);
    gu_buf_append(&b, "", 1);
    CHECK(!b.oom);
    CHECK(strncmp(b.p, "\xEF\xBB\xBFRubrique;Indicateur;Unité;2026-11;2026-10",
                  strlen("\xEF\xBB\xBFRubrique;Indicateur;Unité;2026-11;"
                         "2026-10")) == 0);
    CHECK(strstr(b.p, "\"Cantines\";\"Repas non gaspillés\";\"repas\";20;110\r\n"));
    CHECK(strstr(b.p, "\"Économies\";\"Heures d’agent épargnées\";\"h\";0,48;"));
    CHECK(strstr(b.p, "\"Assistant\";\"Satisfaction (utiles parmi les "
                      "avis)\";\"%\";66,7;100\r\n"));
    CHECK(strstr(b.p, "\"Demandes\";\"Délai médian de première réponse à "
                      "l’usager\";\"h\";2;0,17\r\n"));
    CHECK(strstr(b.p, "\"Hypothèses\";\"Coût horaire d’un agent\";\"€\";30\r\n"));
    gu_buf_fini(&b);

    j = ins_report_json(&r);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "mois")), "2026-11");
    CHECK_EQ(json_integer_value(json_object_get(
                 json_object_get(j, "rendez_vous"), "absents")),
             1);
    CHECK(NEAR(json_real_value(json_object_get(json_object_get(j, "cantines"),
                                               "euros_evites")),
               55));
    CHECK(NEAR(json_real_value(json_object_get(
                   json_object_get(j, "assistant"),
                   "delai_median_transmises_s")),
               5400));
    json_decref(j);
    /* nothing to take a median of: null, not 0 */
    j = ins_report_json(&prev);
    CHECK(json_is_null(json_object_get(json_object_get(j, "assistant"),
                                       "delai_median_transmises_s")));
    CHECK(json_is_null(json_object_get(json_object_get(j, "assistant"),
                                       "taux_automatique")) == 0);
    json_decref(j);
    fix_close(&f);
}

static void
test_snapshot(void)
{
    struct fix f;
    struct gu_err err;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    /* no fit stored: nothing to record, and no error */
    CHECK_EQ(ins_canteen_snapshot(f.c, f.a, "99001", f.now, &err), 0);
    fix_close(&f);
}

/* 200 weekdays of a canteen of 99002 with a weekly pattern, fitted by
   the forecast module: the rétro-test fills the last 30 days once, keeps
   a real snapshot, and the month's figure counts those days apart. */
static void
test_backfill(void)
{
    struct fix f;
    struct gu_err err;
    struct fc_fit fit;
    struct ins_costs k;
    struct ins_canteen cant;
    struct ins_month m;
    int64_t today = day(11, 20), added = 0, n0, retro;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(ex(&f,
                "INSERT INTO fc_series (id, insee, code, name, freq, kind,"
                " closed_weekdays, meal_cost, meal_kg, created_at) VALUES"
                " (10, '99002', 'c', 'Cantine', 'jour', 'cantine', '3,6,7',"
                " 3, 0.4, 0)",
                NULL, 0),
             0);
    for (int64_t d = today - 200; d < today; d++) {
        int wd = gu_day_weekday(d);
        if (wd == 3 || wd >= 6)
            continue;
        double v = 100 + 10 * wd + (double)((d * 7) % 5);
        struct store_val p[] = {STORE_I(d), STORE_D(v), STORE_D(v + 8)};
        CHECK_EQ(ex(&f,
                    "INSERT INTO fc_points (series_id, t, value, staff, insee,"
                    " updated_at) VALUES (10, ?, ?, ?, '99002', 0)",
                    p, 3),
                 0);
    }
    /* a real snapshot for the last day: never replaced */
    struct store_val ps[] = {STORE_I(today - 1)};
    CHECK_EQ(ex(&f,
                "INSERT INTO ins_canteen_recos (series_id, day, insee, reco,"
                " p50, risk, method, made_at) VALUES (10, ?, '99002', 999,"
                " 999, 0.05, 'theta', 1)",
                ps, 1),
             0);
    CHECK_EQ(fc_fit_series(f.c, f.a, "99002", 10, &fit, &err), 0);
    CHECK_EQ(ins_canteen_backfill(f.c, f.a, "99002", f.now, 30, &added, &err),
             0);
    CHECK(added > 10);
    n0 = hs_count(&f, "ins_canteen_recos WHERE series_id = 10");
    retro = hs_count(&f, "ins_canteen_recos WHERE series_id = 10 AND method"
                         " LIKE 'retro:%' AND made_at = 0");
    CHECK_EQ(retro, added);
    CHECK_EQ(n0, added + 1);
    CHECK_EQ(hs_count(&f, "ins_canteen_recos WHERE series_id = 10 AND"
                          " reco = 999"),
             1);
    /* closed weekdays get nothing */
    CHECK_EQ(hs_count(&f, "ins_canteen_recos WHERE series_id = 10 AND"
                          " ((day + 3) % 7) IN (2, 5, 6)"),
             0);
    /* once only */
    CHECK_EQ(ins_canteen_backfill(f.c, f.a, "99002", f.now, 30, &added, &err),
             0);
    CHECK_EQ(added, 0);
    ins_costs_default(NULL, &k);
    ins_month_make(2026, 11, "B", &m);
    CHECK_EQ(ins_canteen_month(f.c, f.a, "99002", &m, &k, &cant, &err), 0);
    CHECK(cant.days > 0);
    CHECK(cant.days_retro > 0);
    CHECK_EQ(cant.days_retro, cant.days - 1); /* all but the real one */
    fix_close(&f);
}

static void
test_transparency(void)
{
    struct fix f;
    struct gu_err err;
    json_t *j = NULL, *list, *al;
    size_t i;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(ins_transparency_json(f.c, f.a, NULL, "99001", &j, &err), 0);
    CHECK(j != NULL);
    list = json_object_get(j, "algorithmes");
    CHECK_EQ(json_array_size(list), 6);
    json_array_foreach(list, i, al)
    {
        CHECK(json_string_value(json_object_get(al, "finalite")) != NULL);
        CHECK(json_string_value(json_object_get(al, "donnees")) != NULL);
        CHECK(json_is_array(json_object_get(al, "parametres")));
        CHECK(json_array_size(json_object_get(al, "parametres")) > 0);
        CHECK(json_string_value(json_object_get(al, "controle_humain")));
        CHECK(json_is_boolean(json_object_get(al, "decision_individuelle")));
    }
    CHECK(strstr(json_string_value(json_object_get(j, "mention_assistant")),
                 "assistant automatique de la mairie de "
                 "Saint-Exemple-sur-Loire") != NULL);
    CHECK(strstr(json_string_value(json_object_get(
                     json_object_get(j, "cadre_legal"), "publication")),
                 "L312-1-3") != NULL);
    json_decref(j);
    j = NULL;
    CHECK_EQ(ins_transparency_json(f.c, f.a, NULL, "12345", &j, &err),
             GU_ENOTFOUND);
    CHECK(j == NULL);
    fix_close(&f);
}

TESTS(T(test_months), T(test_median), T(test_assistant), T(test_triage),
      T(test_rdv), T(test_canteen), T(test_alerts),
      T(test_report_and_savings), T(test_costs), T(test_csv_and_json),
      T(test_snapshot), T(test_backfill), T(test_transparency))
