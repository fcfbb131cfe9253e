/*
 * test_rdv_risk.c - the no-show statistics and the risk model
 * (rdv_risk.c): training on a synthetic history where long lead times and
 * past no-shows drive absences (the model must find it: AUC on the
 * hold-out above the base rate, a risky booking ranked above a safe one,
 * an explanation in French), too few outcomes (no model, -1), a history
 * without signal (model saved but not used), versions and reload, the
 * statistics by dimension, and the person hash.
 *
 * The history is written with plain SQL so this test depends only on the
 * schema, not on the booking code.
 */
#include "harness.h"

#include "app/app.h"
#include "rdv/rdv_risk.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "store_fix.h"

struct fix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg;
    int64_t place, counter, motif, motif2;
};

static int64_t
insert_id(struct fix *f, const char *sql, const struct store_val *p, size_t n)
{
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a, sql, p, n, &r, &err) < 0 || r->nrows != 1) {
        fprintf(stderr, "insert: %s\n", err.msg);
        return 0;
    }
    return store_int(r, 0, 0);
}

static int
fix_open(struct fix *f, const char *insee)
{
    struct gu_err err;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, NULL, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->cfg, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->a = gu_arena_new(0);
    if (!f->a || th_commune(f->c, insee, "Saint-Exemple-sur-Loire") < 0)
        return -1;
    {
        struct store_val p[] = {STORE_T(insee)};
        f->place = insert_id(f,
                             "INSERT INTO rdv_places (insee, name, created_at)"
                             " VALUES (?, 'Mairie', 0) RETURNING id",
                             p, 1);
    }
    {
        struct store_val p[] = {STORE_T(insee), STORE_I(f->place)};
        f->counter = insert_id(f,
                               "INSERT INTO rdv_counters (insee, place_id, "
                               "name, created_at) VALUES (?, ?, 'Guichet 1', "
                               "0) RETURNING id",
                               p, 2);
    }
    {
        struct store_val p[] = {STORE_T(insee)};
        f->motif = insert_id(f,
                             "INSERT INTO rdv_motifs (insee, code, name, "
                             "duration_min, created_at) VALUES (?, 'cni', "
                             "'Carte d''identité', 20, 0) RETURNING id",
                             p, 1);
        f->motif2 = insert_id(f,
                              "INSERT INTO rdv_motifs (insee, code, name, "
                              "duration_min, created_at) VALUES (?, 'urba', "
                              "'Urbanisme', 30, 0) RETURNING id",
                              p, 1);
    }
    return f->place && f->counter && f->motif && f->motif2 ? 0 : -1;
}

static void
fix_close(struct fix *f)
{
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
    gu_config_free(f->cfg);
}

/* One past booking with its outcome. */
static int64_t
add_booking(struct fix *f, const char *insee, int64_t motif, int64_t day,
            int start_min, int64_t created_at, const char *email, int status,
            int64_t confirmed_at)
{
    char hash[65];
    rdv_person_hash(insee, email, "", hash);
    struct store_val p[] = {
        STORE_T(insee),          STORE_I(motif),      STORE_I(f->place),
        STORE_I(f->counter),     STORE_I(day),        STORE_I(start_min),
        STORE_I(start_min + 20), STORE_T(email),      STORE_T(hash),
        STORE_I(status),         STORE_I(created_at), STORE_I(created_at),
        STORE_I(confirmed_at),
    };
    return insert_id(f,
                     "INSERT INTO rdv_bookings (insee, motif_id, place_id, "
                     "counter_id, day, start_min, end_min, name, email, "
                     "person_hash, status, created_at, updated_at, "
                     "confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'X', ?, ?, "
                     "?, ?, ?, ?) RETURNING id",
                     p, GU_ARRAY_LEN(p));
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state;

static double
rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) /
           9007199254740992.0;
}

#define PEOPLE 400

/*
 * `n` bookings over ~400 days, oldest first. With `signal`, the chance of
 * a no-show grows with the lead time and the person's past no-shows and
 * falls when the reminder was confirmed; without, it is a flat 15 %.
 */
static void
make_history(struct fix *f, const char *insee, int n, bool signal)
{
    static int past_noshow[PEOPLE];
    static int64_t last_day[PEOPLE];
    int64_t day0 = gu_day_from_ymd(2025, 1, 6);

    memset(past_noshow, 0, sizeof(past_noshow));
    memset(last_day, 0, sizeof(last_day));
    store_begin(f->c, NULL);
    for (int i = 0; i < n; i++) {
        int64_t day = day0 + (int64_t)i * 400 / n;
        int who = (int)(rnd() * PEOPLE);
        int lead = (int)(rnd() * 60);
        int start = 9 * 60 + 20 * (int)(rnd() * 20);
        bool confirmed = rnd() < 0.4;
        int64_t created = (day - lead) * 86400 + 8 * 3600;
        double logit, p;
        bool noshow;
        char email[64];

        if (gu_day_weekday(day) >= 6)
            day += 2;
        /* Past no-shows known when booking: the model's definition; the
           generator's own count is close enough (same person, earlier). */
        if (signal)
            logit = -3.2 + 0.06 * lead + 1.1 * past_noshow[who] -
                    1.0 * (confirmed ? 1 : 0);
        else
            logit = log(0.15 / 0.85);
        p = 1.0 / (1.0 + exp(-logit));
        noshow = rnd() < p;
        snprintf(email, sizeof(email), "Personne%d@Example.fr", who);
        add_booking(f, insee, i % 3 ? f->motif : f->motif2, day, start, created,
                    email, noshow ? RDV_NOSHOW : RDV_PRESENT,
                    confirmed ? created + 3600 : 0);
        if (noshow && last_day[who] < day)
            past_noshow[who]++;
        last_day[who] = day;
    }
    store_commit(f->c, NULL);
}

static int
model_count(struct fix *f, const char *insee)
{
    struct store_rows *r = NULL;
    struct gu_err err;
    struct store_val p[] = {STORE_T(insee)};

    if (store_query(f->c, f->a,
                    "SELECT COUNT(*) FROM rdv_models WHERE insee = ?", p, 1, &r,
                    &err) < 0)
        return -1;
    return (int)store_int(r, 0, 0);
}

/* A future booking to score. */
static struct rdv_booking
future(const char *insee, const char *email, int lead_days, int64_t day,
       bool confirmed)
{
    struct rdv_booking b;

    memset(&b, 0, sizeof(b));
    memcpy(b.insee, insee, 6);
    b.day = day;
    b.start_min = 10 * 60;
    b.end_min = b.start_min + 20;
    b.email = email;
    b.phone = "";
    b.name = "Y";
    b.created_at = (day - lead_days) * 86400 + 8 * 3600;
    b.confirmed_at = confirmed ? b.created_at + 60 : 0;
    b.risk = -1;
    return b;
}

static void
test_train_finds_signal(void)
{
    struct fix f;
    struct gu_err err;
    struct rdv_risk_model info;
    struct rdv_booking risky, safe;
    const char *why_risky = NULL, *why_safe = NULL;
    double pr, ps;
    int64_t day = gu_day_from_ymd(2026, 3, 2); /* after the history */

    rng_state = 0x9E3779B97F4A7C15ULL;
    CHECK_EQ(fix_open(&f, "99001"), 0);
    make_history(&f, "99001", 3000, true);
    /* A person with several no-shows in the history. */
    for (int k = 0; k < 3; k++)
        add_booking(&f, "99001", f.motif, gu_day_from_ymd(2025, 12, 1) + k * 7,
                    600, gu_day_from_ymd(2025, 11, 1) * 86400, "absent@ex.fr",
                    RDV_NOSHOW, 0);

    gu_err_clear(&err);
    CHECK_EQ(rdv_risk_train(f.s, f.cfg, &err), 1);
    CHECK_EQ(model_count(&f, "99001"), 1);
    CHECK_EQ(rdv_risk_model_get(f.c, f.a, "99001", &info, &err), 0);
    CHECK_EQ(info.version, 1);
    CHECK(info.samples >= 3000);
    CHECK(info.holdout > 0);
    /* The model finds the signal on the most recent, unseen bookings. */
    CHECK(info.auc > 0.7);
    CHECK(info.logloss < info.base_logloss);
    CHECK(info.base_rate > 0.05 && info.base_rate < 0.6);
    CHECK(info.useful);

    /* Its weights point the right way (saved JSON, by feature name). */
    {
        struct store_rows *r = NULL;
        json_t *w, *names, *ws;
        double wl = 0, wn = 0, wc = 0;
        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT weights FROM rdv_models WHERE "
                             "version = 1",
                             NULL, 0, &r, &err),
                 0);
        w = json_loads(store_text(r, 0, 0), 0, NULL);
        CHECK(w != NULL);
        names = json_object_get(w, "features");
        ws = json_object_get(w, "weights");
        for (size_t i = 0; i < json_array_size(names); i++) {
            const char *nm = json_string_value(json_array_get(names, i));
            double v = json_number_value(json_array_get(ws, i));
            if (strcmp(nm, "log_delai_jours") == 0)
                wl = v;
            else if (strcmp(nm, "absences_passees") == 0)
                wn = v;
            else if (strcmp(nm, "venue_confirmee") == 0)
                wc = v;
        }
        CHECK(wl > 0);
        CHECK(wn > 0);
        CHECK(wc < 0);
        CHECK(json_object_get(w, "mean") != NULL);
        CHECK(json_object_get(w, "scale") != NULL);
        json_decref(w);
    }

    /* A long lead time and past no-shows rank above a short, confirmed,
       first booking. */
    risky = future("99001", "absent@ex.fr", 55, day, false);
    safe = future("99001", "nouveau@ex.fr", 1, day, true);
    pr = rdv_risk(f.c, f.a, &risky, &why_risky);
    ps = rdv_risk(f.c, f.a, &safe, &why_safe);
    CHECK(pr >= 0 && pr <= 1);
    CHECK(ps >= 0 && ps <= 1);
    CHECK(pr > ps);
    CHECK(pr > 0.5);
    CHECK(ps < 0.2);
    CHECK_CONTAINS(why_risky, "délai long (55 jours)");
    CHECK_CONTAINS(why_risky, "absences passées : 3");
    CHECK(why_safe != NULL);
    if (why_safe)
        CHECK(strstr(why_safe, "absences passées") == NULL);
    /* Scoring without an arena works and gives the same number. */
    CHECK(fabs(rdv_risk(f.c, NULL, &risky, NULL) - pr) < 1e-12);
    /* An e-mail written differently is the same person. */
    risky.email = "  ABSENT@ex.fr ";
    CHECK(fabs(rdv_risk(f.c, f.a, &risky, NULL) - pr) < 1e-12);

    /* Retraining makes version 2, which rdv_risk loads. */
    CHECK_EQ(rdv_risk_train(f.s, f.cfg, &err), 1);
    CHECK_EQ(rdv_risk_model_get(f.c, f.a, "99001", &info, &err), 0);
    CHECK_EQ(info.version, 2);
    CHECK(rdv_risk(f.c, f.a, &risky, NULL) > 0.5);

    /* Another commune has no model. */
    {
        struct rdv_booking other =
            future("99002", "absent@ex.fr", 55, day, false);
        const char *why = "x";
        CHECK(rdv_risk(f.c, f.a, &other, &why) == -1);
        CHECK(why == NULL);
    }
    /* The training is in the audit log, without personal data. */
    {
        struct store_rows *r = NULL;
        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT detail FROM audit WHERE action = "
                             "'rdv.risk.train' ORDER BY id",
                             NULL, 0, &r, &err),
                 0);
        CHECK_EQ(r ? r->nrows : 0, 2);
        if (r && r->nrows)
            CHECK(strstr(store_text(r, 0, 0), "@") == NULL);
    }
    fix_close(&f);
}

static void
test_too_few_samples(void)
{
    struct fix f;
    struct gu_err err;
    struct rdv_risk_model info;
    struct rdv_booking b;
    const char *why = "x";

    rng_state = 42;
    CHECK_EQ(fix_open(&f, "99001"), 0);
    make_history(&f, "99001", 150, true);
    gu_err_clear(&err);
    CHECK_EQ(rdv_risk_train(f.s, f.cfg, &err), 0);
    CHECK_EQ(model_count(&f, "99001"), 0);
    CHECK_EQ(rdv_risk_model_get(f.c, f.a, "99001", &info, &err), GU_ENOTFOUND);
    CHECK_CONTAINS(err.user, "Aucun modèle");
    b = future("99001", "Personne1@example.fr", 40, gu_day_from_ymd(2026, 3, 2),
               false);
    CHECK(rdv_risk(f.c, f.a, &b, &why) == -1);
    CHECK(why == NULL);
    /* No booking at all: nothing to do, no error. */
    CHECK(rdv_risk(f.c, f.a, NULL, NULL) == -1);
    fix_close(&f);
}

static void
test_no_signal_not_used(void)
{
    struct fix f;
    struct gu_err err;
    struct rdv_risk_model info;
    struct rdv_booking b;

    rng_state = 7;
    CHECK_EQ(fix_open(&f, "99001"), 0);
    make_history(&f, "99001", 2000, false);
    gu_err_clear(&err);
    CHECK_EQ(rdv_risk_train(f.s, f.cfg, &err), 1);
    CHECK_EQ(rdv_risk_model_get(f.c, f.a, "99001", &info, &err), 0);
    /* Saved so the statistics page can say so, but not better than the
       base rate, hence not used. */
    CHECK(!info.useful);
    CHECK(info.auc < 0.6);
    b = future("99001", "Personne1@example.fr", 40, gu_day_from_ymd(2026, 3, 2),
               false);
    CHECK(rdv_risk(f.c, f.a, &b, NULL) == -1);
    fix_close(&f);
}

static const struct rdv_noshow_row *
row_of(const struct rdv_noshow_row *rows, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].key, key) == 0)
            return &rows[i];
    }
    return NULL;
}

static void
test_noshow_stats(void)
{
    struct fix f;
    struct gu_err err;
    struct rdv_noshow_row *rows = NULL;
    const struct rdv_noshow_row *r;
    size_t n = 0;
    int64_t mon = gu_day_from_ymd(2026, 11, 2); /* a Monday */
    int64_t tue = mon + 1;

    CHECK_EQ(fix_open(&f, "99001"), 0);
    CHECK_EQ(gu_day_weekday(mon), 1);
    /* Monday 9:00, booked 1 day before: 3 present, 1 no-show. */
    for (int i = 0; i < 4; i++)
        add_booking(&f, "99001", f.motif, mon, 9 * 60, (mon - 1) * 86400,
                    "a@ex.fr", i ? RDV_PRESENT : RDV_NOSHOW, 0);
    /* Tuesday 14:00, booked 20 days before: 2 no-shows (other motif). */
    for (int i = 0; i < 2; i++)
        add_booking(&f, "99001", f.motif2, tue, 14 * 60, (tue - 20) * 86400,
                    "b@ex.fr", RDV_NOSHOW, 0);
    /* Excused, cancelled and still confirmed ones do not count. */
    add_booking(&f, "99001", f.motif, tue, 14 * 60, (tue - 20) * 86400,
                "c@ex.fr", RDV_EXCUSED, 0);
    add_booking(&f, "99001", f.motif, tue, 14 * 60, (tue - 20) * 86400,
                "c@ex.fr", RDV_CANCELLED, 0);
    add_booking(&f, "99001", f.motif, tue + 30, 14 * 60, (tue - 20) * 86400,
                "c@ex.fr", RDV_CONFIRMED, 0);

    CHECK_EQ(rdv_noshow_stats(f.c, f.a, "99001", "jour", 0, 0, &rows, &n, &err),
             0);
    CHECK_EQ(n, 2);
    r = row_of(rows, n, "lundi");
    CHECK(r && r->booked == 4 && r->noshow == 1 && fabs(r->rate - 0.25) < 1e-9);
    r = row_of(rows, n, "mardi");
    CHECK(r && r->booked == 2 && r->noshow == 2 && fabs(r->rate - 1) < 1e-9);

    CHECK_EQ(
        rdv_noshow_stats(f.c, f.a, "99001", "motif", 0, 0, &rows, &n, &err), 0);
    CHECK_EQ(n, 2);
    r = row_of(rows, n, "Carte d'identité");
    CHECK(r && r->booked == 4 && r->noshow == 1);
    r = row_of(rows, n, "Urbanisme");
    CHECK(r && r->booked == 2 && r->noshow == 2);

    CHECK_EQ(
        rdv_noshow_stats(f.c, f.a, "99001", "heure", 0, 0, &rows, &n, &err), 0);
    CHECK_EQ(n, 2);
    CHECK(row_of(rows, n, "9 h") && row_of(rows, n, "9 h")->booked == 4);
    CHECK(row_of(rows, n, "14 h") && row_of(rows, n, "14 h")->noshow == 2);

    CHECK_EQ(
        rdv_noshow_stats(f.c, f.a, "99001", "delai", 0, 0, &rows, &n, &err), 0);
    CHECK_EQ(n, 2);
    CHECK(row_of(rows, n, "0 à 2 jours") &&
          row_of(rows, n, "0 à 2 jours")->booked == 4);
    CHECK(row_of(rows, n, "15 à 30 jours") &&
          row_of(rows, n, "15 à 30 jours")->booked == 2);

    /* A period: only Tuesday. */
    CHECK_EQ(
        rdv_noshow_stats(f.c, f.a, "99001", "jour", tue, tue, &rows, &n, &err),
        0);
    CHECK_EQ(n, 1);
    CHECK_STR(rows[0].key, "mardi");
    /* Another commune sees nothing. */
    CHECK_EQ(rdv_noshow_stats(f.c, f.a, "99002", "jour", 0, 0, &rows, &n, &err),
             0);
    CHECK_EQ(n, 0);
    /* Bad input: French errors. */
    CHECK_EQ(rdv_noshow_stats(f.c, f.a, "99001", "lune", 0, 0, &rows, &n, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "dim");
    CHECK_CONTAINS(err.user, "Dimension inconnue");
    CHECK_EQ(
        rdv_noshow_stats(f.c, f.a, "99001", "jour", tue, mon, &rows, &n, &err),
        GU_EINVAL);
    CHECK_CONTAINS(err.user, "précéder");
    fix_close(&f);
}

static void
test_demo_history(void)
{
    struct fix f;
    struct gu_err err;
    struct rdv_risk_model info;
    struct rdv_noshow_row *rows = NULL;
    size_t n = 0;
    int64_t now =
        gu_tz_to_utc(GU_TZ_PARIS, gu_day_from_ymd(2026, 12, 1), 10 * 60);
    int added;

    CHECK_EQ(fix_open(&f, "99001"), 0);
    gu_err_clear(&err);
    added = rdv_risk_demo_history(f.c, "99001", 900, now, &err);
    CHECK(added > 600); /* some fall on an hour already taken */
    /* Idempotent: a second call adds nothing. */
    CHECK_EQ(rdv_risk_demo_history(f.c, "99001", 900, now, &err), 0);
    /* All in the past, on weekdays, with an outcome. */
    {
        struct store_rows *r = NULL;
        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT MAX(day), COUNT(*) FROM rdv_bookings",
                             NULL, 0, &r, &err),
                 0);
        CHECK(store_int(r, 0, 0) < gu_day_from_ymd(2026, 12, 1));
        CHECK_EQ(store_int(r, 0, 1), added);
        /* Like real bookings: no two overlap on a counter, and each
           holds exactly its units. */
        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT COUNT(*) FROM rdv_bookings a "
                             "JOIN rdv_bookings b ON a.counter_id = "
                             "b.counter_id AND a.day = b.day AND a.id < b.id "
                             "AND a.start_min < b.end_min AND b.start_min < "
                             "a.end_min",
                             NULL, 0, &r, &err),
                 0);
        CHECK_EQ(store_int(r, 0, 0), 0);
        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT COUNT(*) FROM rdv_bookings b WHERE "
                             "(SELECT COUNT(*) FROM rdv_units u WHERE "
                             "u.booking_id = b.id) <> (b.end_min - "
                             "b.start_min + 4) / 5",
                             NULL, 0, &r, &err),
                 0);
        CHECK_EQ(store_int(r, 0, 0), 0);
    }
    CHECK_EQ(rdv_noshow_stats(f.c, f.a, "99001", "jour", 0, 0, &rows, &n, &err),
             0);
    CHECK_EQ(n, 5);
    /* The model learns from it and is put in service. */
    CHECK_EQ(rdv_risk_train(f.s, f.cfg, &err), 1);
    CHECK_EQ(rdv_risk_model_get(f.c, f.a, "99001", &info, &err), 0);
    CHECK(info.useful);
    CHECK(info.auc > 0.6);
    fix_close(&f);
}

static void
test_person_hash(void)
{
    char h1[65], h2[65], h3[65];

    CHECK(rdv_person_hash("99001", "Marie@Example.fr ", "", h1));
    CHECK(rdv_person_hash("99001", " marie@example.fr", "0600000000", h2));
    CHECK_STR(h1, h2);
    CHECK_EQ(strlen(h1), 64);
    CHECK(rdv_person_hash("99002", "marie@example.fr", "", h3));
    CHECK(strcmp(h1, h3) != 0);
    CHECK(rdv_person_hash("99001", "", "+33 6 12 34 56 78", h1));
    CHECK(rdv_person_hash("99001", NULL, "06.12.34.56.78", h2));
    CHECK_STR(h1, h2);
    CHECK(rdv_person_hash("99001", "", "0033612345678", h3));
    CHECK_STR(h1, h3);
    CHECK(!rdv_person_hash("99001", "", "", h1));
    CHECK_STR(h1, "");
    CHECK(!rdv_person_hash("99001", "   ", NULL, h1));
}

TESTS(T(test_train_finds_signal), T(test_too_few_samples),
      T(test_no_signal_not_used), T(test_noshow_stats), T(test_demo_history),
      T(test_person_hash))
