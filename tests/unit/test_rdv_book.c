/*
 * test_rdv_book.c - bookings: a booking's rows (units, token, e-mail,
 * audit without personal data), every validation error in French with its
 * field, conflicts on a slot (one counter, any counter), the thread race
 * (16 threads, one file database, one slot: exactly one wins), move and
 * cancel releasing units, residents' limits, tokens (43 characters,
 * unknown, malformed, expired), status and confirmation, the agenda, and
 * overbooking lanes. In-memory SQLite except the race.
 */
#include "harness.h"

#include "rdv_fixture.h"
#include "rdv/rdv_internal.h"

#include <pthread.h>
#include <unistd.h>

/*
 * Bookings are checked against the real clock by move and cancel, so the
 * tests book on a weekday at least a week ahead that is not a holiday.
 */
static int64_t
future_monday(void)
{
    int64_t d = gu_now() / 86400 + 8;

    while (gu_day_weekday(d) != 1 || gu_holiday(d, GU_HOL_METROPOLE) ||
           gu_holiday(d + 1, GU_HOL_METROPOLE))
        d++;
    return d;
}

static struct rdv_book_req
req(struct rfix *f, int64_t motif, int64_t day, int start)
{
    struct rdv_book_req r;

    memset(&r, 0, sizeof(r));
    r.insee = "99001";
    r.motif_id = motif;
    r.place_id = f->place;
    r.day = day;
    r.start_min = start;
    r.people = 1;
    r.name = "Camille Martin";
    r.email = "camille.martin@exemple.fr";
    r.phone = "";
    r.ants_ids = "";
    r.consent = true;
    r.channel = RDV_WEB;
    r.actor = "public";
    return r;
}

static int64_t
count(struct rfix *f, const char *sql, int64_t arg)
{
    struct store_val p[1] = {STORE_I(arg)};
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a, sql, p, 1, &r, &err) < 0)
        return -1;
    return store_int(r, 0, 0);
}

static void
test_book_rows(void)
{
    struct rfix f;
    struct rdv_booked out;
    struct rdv_booking b;
    struct gu_err err;
    int64_t day = future_monday();

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_book_req r = req(&f, f.motif, day, 600);
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    CHECK(out.id > 0);
    CHECK_EQ(strlen(out.token), RDV_TOKEN_LEN);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM rdv_units WHERE booking_id = ?",
                   out.id),
             3);
    CHECK_EQ(count(&f,
                   "SELECT COUNT(*) FROM rdv_tokens WHERE booking_id = ? "
                   "AND kind = 'gestion'",
                   out.id),
             1);
    CHECK_EQ(count(&f,
                   "SELECT COUNT(*) FROM notify_outbox WHERE kind = "
                   "'rdv.confirm' AND ? > 0",
                   1),
             1);
    CHECK_EQ(rdv_by_token(f.c, f.a, out.token, &b, &err), 0);
    CHECK_EQ(b.id, out.id);
    CHECK_EQ(b.day, day);
    CHECK_EQ(b.start_min, 600);
    CHECK_EQ(b.end_min, 615);
    CHECK_EQ(b.counter_id, f.k1);
    CHECK_EQ(b.status, RDV_CONFIRMED);
    CHECK_STR(b.motif_name, "etat-civil");
    CHECK_STR(b.place_name, "Mairie");
    CHECK_STR(b.counter_name, "Guichet 1");
    CHECK_STR(b.name, "Camille Martin");
    /* the audit entry names no one */
    struct store_audit_filter flt = {.insee = "99001",
                                     .action_prefix = "rdv.book"};
    struct store_audit *e = NULL;
    size_t ne = 0;
    CHECK_EQ(store_audit_list(f.c, f.a, &flt, &e, &ne, &err), 0);
    CHECK_EQ(ne, 1);
    if (ne == 1) {
        CHECK(!strstr(e[0].detail, "Camille"));
        CHECK(!strstr(e[0].detail, "exemple.fr"));
        CHECK_CONTAINS(e[0].detail, "motif=etat-civil");
    }
    /* person hash stored for the no-show statistics */
    CHECK_EQ(count(&f,
                   "SELECT COUNT(*) FROM rdv_bookings WHERE id = ? AND "
                   "length(person_hash) = 64",
                   out.id),
             1);
    /* the slot is gone from the search for k1, k2 still has it */
    struct rdv_slot_query q = {.insee = "99001",
                               .motif_id = f.motif,
                               .from_day = day,
                               .to_day = day,
                               .people = 1,
                               .limit = 100};
    struct rdv_slot *v = NULL;
    size_t n = 0;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 24 - 1);
    rfix_close(&f);
}

static void
test_book_validation(void)
{
    struct rfix f;
    struct rdv_booked out;
    struct gu_err err;
    int64_t day = future_monday(), elu;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_book_req r = req(&f, f.motif, day, 600);
    r.name = " ";
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "name");
    r = req(&f, f.motif, day, 600);
    r.email = "pas-une-adresse";
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "email");
    r.email = "";
    r.phone = "";
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "téléphone");
    r.phone = "06 12 34 56 78"; /* a phone alone is enough */
    r.consent = false;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "consent");
    r.consent = true;
    r.people = 3; /* etat-civil: at most 2 */
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "people");
    CHECK_CONTAINS(err.user, "2 personnes");
    r.people = 1;
    r.start_min = 607;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "start");
    r.start_min = 600;
    r.day = (int64_t)1 << 50; /* absurd day: refused, no overflow */
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "start");
    r.day = day;
    r.start_min = 13 * 60; /* closed at lunch */
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "start");
    CHECK_CONTAINS(err.user, "n'est pas proposé");
    r.start_min = 605; /* not aligned on the 15-minute steps */
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    r.start_min = 600;
    r.day = gu_now() / 86400 - 7; /* past */
    while (gu_day_weekday(r.day) > 5)
        r.day--;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "déjà passé");
    r.day = day;
    r.place_id = 777777;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "place");
    /* a motif the annexe does not offer */
    char list[32];
    snprintf(list, sizeof(list), "%lld", (long long)f.motif_pp);
    struct rdv_range *g = NULL;
    size_t ng = 0;
    CHECK_EQ(rdv_range_list(f.c, f.a, "99001", f.k3, &g, &ng, &err), 0);
    g[0].motifs = list;
    CHECK_EQ(rdv_range_save(f.c, &g[0], NULL, &err), 0);
    r = req(&f, f.motif, day + 1, 14 * 60);
    r.place_id = f.place2;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "place");
    CHECK_CONTAINS(err.user, "pas proposé dans ce lieu");
    /* agents-only motif: refused to residents, fine for agents */
    elu = rfix_motif(&f, "99001", "rencontre-elu", 30, false, 2, 0, 90,
                     RDV_ANTS_NONE);
    struct rdv_motif m;
    CHECK_EQ(rdv_motif_get(f.c, f.a, "99001", elu, &m, &err), 0);
    m.audience = RDV_AGENTS_ONLY;
    CHECK_EQ(rdv_motif_save(f.c, &m, NULL, &err), 0);
    r = req(&f, elu, day, 600);
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "motif");
    r.agent = true;
    r.channel = RDV_PHONE;
    r.consent = false;
    r.actor = "agent1";
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    /* ANTS motif: the pré-demande number is asked and checked */
    r = req(&f, f.motif_pp, day, 11 * 60);
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "ants_ids");
    CHECK_CONTAINS(err.user, "pré-demande");
    r.ants_ids = "AB12CD34E";
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "ants_ids");
    r.ants_ids = "AB12CD34EF, 1234567890";
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "un numéro par personne");
    r.people = 2;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    struct rdv_booking b;
    CHECK_EQ(rdv_get(f.c, f.a, "99001", out.id, &b, &err), 0);
    CHECK_STR(b.ants_ids, "AB12CD34EF,1234567890");
    CHECK_EQ(b.end_min - b.start_min, 40); /* 20 min per person */
    /* nothing was written by the refused attempts */
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM rdv_bookings WHERE ? > 0", 1), 2);
    rfix_close(&f);
}

static void
test_ants_id_check(void)
{
    char out[16];
    struct gu_err err;

    CHECK_EQ(rdv_ants_id_check("ab12 cd34 ef", out, sizeof(out), &err), 0);
    CHECK_STR(out, "AB12CD34EF");
    CHECK_EQ(rdv_ants_id_check("AB12CD34EF1", out, sizeof(out), &err),
             GU_EINVAL);
    CHECK_EQ(rdv_ants_id_check("AB12CD34É1", out, sizeof(out), &err),
             GU_EINVAL);
    CHECK_EQ(rdv_ants_id_check("", out, sizeof(out), &err), GU_EINVAL);
    CHECK_STR(err.field, "ants_ids");
    CHECK_CONTAINS(err.user, "10 lettres ou chiffres");

    /* lists: one number with spaces, several with spaces, duplicates */
    char buf[RDV_ANTS_IDS_MAX * 11 + 1], ids[RDV_ANTS_IDS_MAX][11];
    size_t n = 0;
    CHECK_EQ(rdv_ants_list("ab12 cd34 ef", buf, sizeof(buf), ids, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_STR(buf, "AB12CD34EF");
    CHECK_EQ(rdv_ants_list("AB12CD34EF 1234567890\nab12cd34ef; ", buf,
                           sizeof(buf), ids, &n, &err),
             0);
    CHECK_EQ(n, 2);
    CHECK_STR(buf, "AB12CD34EF,1234567890");
    CHECK_STR(ids[1], "1234567890");
    CHECK_EQ(rdv_ants_list("A A A A A A A A A A A 1234567890", buf, sizeof(buf),
                           ids, &n, &err),
             GU_EINVAL);
    CHECK_EQ(rdv_ants_list("0000000000 1111111111 2222222222 3333333333 "
                           "4444444444 5555555555 6666666666 7777777777 "
                           "8888888888 9999999999 AAAAAAAAAA",
                           buf, sizeof(buf), ids, &n, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "Au plus 10");
    CHECK_EQ(rdv_ants_list("", buf, sizeof(buf), ids, &n, &err), 0);
    CHECK_EQ(n, 0);
}

static void
test_conflicts(void)
{
    struct rfix f;
    struct rdv_booked out;
    struct gu_err err;
    int64_t day = future_monday();

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_book_req r = req(&f, f.motif, day, 540);
    r.counter_id = f.k1;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_ECONFLICT);
    CHECK_STR(err.user, "Ce créneau vient d'être réservé par quelqu'un "
                        "d'autre.");
    CHECK_EQ(out.id, 0);
    /* any counter: k2 takes it, then nobody */
    r.counter_id = 0;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    struct rdv_booking b;
    CHECK_EQ(rdv_get(f.c, f.a, "99001", out.id, &b, &err), 0);
    CHECK_EQ(b.counter_id, f.k2);
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_ECONFLICT);
    /* a per-person booking overlapping a taken unit conflicts too:
       cni 2 people 9:00-9:40 on k1 where 9:00-9:15 is taken */
    r = req(&f, f.motif_pp, day, 540);
    r.ants_ids = "AB12CD34EF";
    r.counter_id = f.k1;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_ECONFLICT);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM rdv_bookings WHERE ? > 0", 1), 2);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM notify_outbox WHERE ? > 0", 1), 2);
    rfix_close(&f);
}

/* ----- the race: 16 threads, one slot ----- */

struct racer {
    struct rfix *f;
    const char *url;
    int64_t day;
    int rc;
    pthread_barrier_t *go;
};

/*
 * Each racer opens its own store on the file (its own SQLite connection,
 * as another server process would) so the pool of the fixture's store
 * does not serialise them.
 */
static void *
race_one(void *p)
{
    struct racer *x = p;
    struct store *s = NULL;
    struct store_conn *c = NULL;
    struct rdv_booked out;
    struct gu_err err;
    bool ready;

    x->rc = -100;
    ready =
        store_open(x->url, &s, &err) == 0 && store_acquire(s, &c, &err) == 0;
    struct rdv_book_req r = req(x->f, x->f->motif, x->day, 630);
    r.counter_id = x->f->k1;
    pthread_barrier_wait(x->go);
    if (ready)
        x->rc = rdv_book(c, x->f->cfg, &r, &out, &err);
    store_release(c);
    store_close(s);
    return NULL;
}

static void
test_thread_race(void)
{
    char dir[] = "/tmp/gu-rdv-race-XXXXXX", url[128], path[96];
    struct rfix f;
    struct racer x[16];
    pthread_t t[16];
    pthread_barrier_t go;
    int wins = 0, conflicts = 0;

    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    snprintf(path, sizeof(path), "%s/race.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    if (rfix_open_url(&f, url) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    int64_t day = future_monday();
    pthread_barrier_init(&go, NULL, 16);
    for (int i = 0; i < 16; i++) {
        x[i].f = &f;
        x[i].url = url;
        x[i].day = day;
        x[i].go = &go;
        pthread_create(&t[i], NULL, race_one, &x[i]);
    }
    for (int i = 0; i < 16; i++) {
        pthread_join(t[i], NULL);
        wins += x[i].rc == 0;
        conflicts += x[i].rc == GU_ECONFLICT;
        if (x[i].rc != 0 && x[i].rc != GU_ECONFLICT)
            fprintf(stderr, "racer %d: %d\n", i, x[i].rc);
    }
    pthread_barrier_destroy(&go);
    CHECK_EQ(wins, 1);
    CHECK_EQ(conflicts, 15);
    CHECK_EQ(count(&f,
                   "SELECT COUNT(*) FROM rdv_units WHERE counter_id = ? AND "
                   "unit BETWEEN 126 AND 128",
                   f.k1),
             3);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM rdv_bookings WHERE ? > 0", 1), 1);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM notify_outbox WHERE ? > 0", 1), 1);
    rfix_close(&f);
    unlink(path);
    snprintf(url, sizeof(url), "%s-wal", path);
    unlink(url);
    snprintf(url, sizeof(url), "%s-shm", path);
    unlink(url);
    rmdir(dir);
}

static void
test_move_cancel(void)
{
    struct rfix f;
    struct rdv_booked out, other;
    struct rdv_booking b;
    struct gu_err err;
    int64_t day = future_monday();

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_book_req r = req(&f, f.motif, day, 540);
    r.counter_id = f.k1;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    r.start_min = 570;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &other, &err), 0);
    /* move onto a taken slot of the same place: k2 is free there */
    CHECK_EQ(rdv_move(f.c, f.cfg, "99001", out.id, f.place, day, 570, false,
                      "public", &err),
             0);
    CHECK_EQ(rdv_get(f.c, f.a, "99001", out.id, &b, &err), 0);
    CHECK_EQ(b.start_min, 570);
    CHECK_EQ(b.counter_id, f.k2);
    /* 9:00 is free again on both counters */
    CHECK_EQ(count(&f,
                   "SELECT COUNT(*) FROM rdv_units WHERE unit = 108 AND ? > 0",
                   1),
             0);
    /* now 9:30 is full everywhere: moving the other there conflicts */
    r.start_min = 600;
    r.counter_id = 0;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &other, &err), 0);
    CHECK_EQ(rdv_move(f.c, f.cfg, "99001", other.id, f.place, day, 570, false,
                      "public", &err),
             GU_ECONFLICT);
    CHECK_EQ(rdv_get(f.c, f.a, "99001", other.id, &b, &err), 0);
    CHECK_EQ(b.start_min, 600); /* intact */
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM rdv_units WHERE booking_id = ?",
                   other.id),
             3);
    /* move to the annexe on Tuesday afternoon (another place) */
    CHECK_EQ(rdv_move(f.c, f.cfg, "99001", other.id, f.place2, day + 1, 840,
                      true, "agent1", &err),
             0);
    CHECK_EQ(rdv_get(f.c, f.a, "99001", other.id, &b, &err), 0);
    CHECK_EQ(b.counter_id, f.k3);
    CHECK_EQ(b.day, day + 1);
    /* the management token still leads to the moved booking */
    CHECK_EQ(rdv_by_token(f.c, f.a, out.token, &b, &err), 0);
    CHECK_EQ(b.start_min, 570);
    /* cancel releases the units, twice is a conflict */
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99001", out.id, false, "public", &err), 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM rdv_units WHERE booking_id = ?",
                   out.id),
             0);
    CHECK_EQ(rdv_get(f.c, f.a, "99001", out.id, &b, &err), 0);
    CHECK_EQ(b.status, RDV_CANCELLED);
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99001", out.id, false, "public", &err),
             GU_ECONFLICT);
    CHECK_EQ(rdv_move(f.c, f.cfg, "99001", out.id, f.place, day, 540, true,
                      "agent1", &err),
             GU_EINVAL);
    CHECK_EQ(count(&f,
                   "SELECT COUNT(*) FROM notify_outbox WHERE kind = "
                   "'rdv.cancel' AND ? > 0",
                   1),
             1);
    /* another commune cannot touch it */
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99002", other.id, true, "x", &err),
             GU_ENOTFOUND);
    rfix_close(&f);
}

static void
test_resident_limits(void)
{
    struct rfix f;
    struct rdv_booked out;
    struct rdv_motif m;
    struct gu_err err;
    int64_t day = gu_now() / 86400 + 1, fixed;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    /* tomorrow or the next weekday: within the 24 h change limit */
    while (gu_day_weekday(day) > 5 || gu_holiday(day, GU_HOL_METROPOLE))
        day++;
    fixed = rfix_motif(&f, "99001", "fixe", 15, false, 1, 0, 90, RDV_ANTS_NONE);
    CHECK_EQ(rdv_motif_get(f.c, f.a, "99001", fixed, &m, &err), 0);
    m.changeable = false;
    CHECK_EQ(rdv_motif_save(f.c, &m, NULL, &err), 0);
    struct rdv_book_req r = req(&f, f.motif, day, 11 * 60 + 45);
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    int64_t hours_left = (rfix_at(day, 705) - gu_now()) / 3600;
    int rc = rdv_move(f.c, f.cfg, "99001", out.id, f.place, day + 7, 540, false,
                      "public", &err);
    if (hours_left < 24) {
        CHECK_EQ(rc, GU_EPERM);
        CHECK_CONTAINS(err.user, "24 heures");
    } else {
        CHECK_EQ(rc, 0); /* a weekend in between: still allowed */
    }
    /* an agent may always move; a resident may always cancel */
    CHECK_EQ(rdv_move(f.c, f.cfg, "99001", out.id, f.place, day, 705, true,
                      "agent1", &err),
             0);
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99001", out.id, false, "public", &err), 0);
    r = req(&f, fixed, day, 600);
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99001", out.id, false, "public", &err),
             GU_EPERM);
    CHECK_CONTAINS(err.user, "appeler la mairie");
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99001", out.id, true, "agent1", &err), 0);
    rfix_close(&f);
}

static void
test_tokens(void)
{
    struct rfix f;
    struct rdv_booked out;
    struct rdv_booking b;
    struct gu_err err;
    char tok[RDV_TOKEN_LEN + 1], tok2[RDV_TOKEN_LEN + 1];
    int64_t day = future_monday();

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_book_req r = req(&f, f.motif, day, 540);
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    CHECK_EQ(rdv_token_new(f.c, "99001", out.id, 0, "rappel", 0, tok, &err), 0);
    CHECK_EQ(strlen(tok), RDV_TOKEN_LEN);
    CHECK(strcmp(tok, out.token) != 0);
    CHECK_EQ(rdv_by_token(f.c, f.a, tok, &b, &err), 0);
    CHECK_EQ(b.id, out.id);
    /* expired */
    CHECK_EQ(rdv_token_new(f.c, "99001", out.id, 0, "rappel", gu_now() - 1,
                           tok2, &err),
             0);
    CHECK_EQ(rdv_by_token(f.c, f.a, tok2, &b, &err), GU_ENOTFOUND);
    CHECK_STR(err.user, "Ce lien n'est pas valide ou a expiré.");
    /* unknown, malformed: the same answer */
    tok[0] = tok[0] == 'A' ? 'B' : 'A';
    CHECK_EQ(rdv_by_token(f.c, f.a, tok, &b, &err), GU_ENOTFOUND);
    CHECK_STR(err.user, "Ce lien n'est pas valide ou a expiré.");
    CHECK_EQ(rdv_by_token(f.c, f.a, "court", &b, &err), GU_ENOTFOUND);
    CHECK_EQ(rdv_by_token(f.c, f.a, NULL, &b, &err), GU_ENOTFOUND);
    CHECK_EQ(rdv_by_token(f.c, f.a,
                          "'; DROP TABLE rdv_tokens; --xxxxxxxxxxxxxxxxx", &b,
                          &err),
             GU_ENOTFOUND);
    /* an offer token does not open the booking */
    CHECK_EQ(rdv_token_new(f.c, "99001", out.id, 0, "offre", 0, tok2, &err), 0);
    CHECK_EQ(rdv_by_token(f.c, f.a, tok2, &b, &err), GU_ENOTFOUND);
    CHECK_EQ(rdv_token_new(f.c, "99001", out.id, 0, "n'importe", 0, tok2, &err),
             GU_EINTERNAL);
    /* only hashes are stored */
    CHECK_EQ(count(&f,
                   "SELECT COUNT(*) FROM rdv_tokens WHERE booking_id = ? AND "
                   "length(hash) = 64",
                   out.id),
             4);
    rfix_close(&f);
}

static void
test_status_confirm_agenda(void)
{
    struct rfix f;
    struct rdv_booked out;
    struct rdv_booking b, *v = NULL;
    struct gu_err err;
    int64_t day = future_monday(), past;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_book_req r = req(&f, f.motif, day, 540);
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    CHECK_EQ(rdv_set_status(f.c, "99001", out.id, RDV_PRESENT, "agent1", &err),
             GU_EINVAL); /* not yet */
    CHECK_EQ(
        rdv_set_status(f.c, "99001", out.id, RDV_CANCELLED, "agent1", &err),
        GU_EINVAL);
    CHECK_EQ(rdv_confirm(f.c, "99001", out.id, &err), 0);
    CHECK_EQ(rdv_get(f.c, f.a, "99001", out.id, &b, &err), 0);
    CHECK(b.confirmed_at > 0);
    CHECK_EQ(rdv_confirm(f.c, "99001", out.id, &err), 0);
    CHECK_EQ(rdv_confirm(f.c, "99002", out.id, &err), GU_ENOTFOUND);
    past = rfix_book_raw(&f, f.motif, f.place, f.k2, RFIX_MONDAY - 7, 540, 555);
    CHECK_EQ(rdv_set_status(f.c, "99001", past, RDV_NOSHOW, "agent1", &err), 0);
    CHECK_EQ(rdv_get(f.c, f.a, "99001", past, &b, &err), 0);
    CHECK_EQ(b.status, RDV_NOSHOW);
    CHECK_EQ(rdv_set_status(f.c, "99001", past, RDV_EXCUSED, "agent1", &err),
             0);
    /* agenda: joined names, cancelled only on request */
    r.start_min = 600;
    struct rdv_booked second;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &second, &err), 0);
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99001", second.id, true, "agent1", &err),
             0);
    struct rdv_agenda_query q = {
        .insee = "99001", .from_day = day, .to_day = day + 6};
    CHECK_EQ(rdv_agenda(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 1);
    if (n == 1) {
        CHECK_STR(v[0].counter_name, "Guichet 1");
        CHECK_STR(v[0].place_name, "Mairie");
    }
    q.with_cancelled = true;
    CHECK_EQ(rdv_agenda(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 2);
    q.counter_id = f.k2;
    CHECK_EQ(rdv_agenda(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    q.insee = "99002";
    q.counter_id = 0;
    CHECK_EQ(rdv_agenda(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    q.to_day = q.from_day - 1;
    CHECK_EQ(rdv_agenda(f.c, f.a, &q, &v, &n, &err), GU_EINVAL);
    rfix_close(&f);
}

static void
test_overbooking(void)
{
    struct rfix f;
    struct rdv_booked first, out;
    struct rdv_motif m;
    struct rdv_booking b;
    struct gu_err err;
    int64_t day = future_monday();

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(rdv_motif_get(f.c, f.a, "99001", f.motif, &m, &err), 0);
    m.overbook_max = 1;
    CHECK_EQ(rdv_motif_save(f.c, &m, NULL, &err), 0);
    struct rdv_book_req r = req(&f, f.motif, day, 540);
    r.counter_id = f.k1;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &first, &err), 0);
    /* risk unknown (-1): no overbooking */
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_ECONFLICT);
    /* a high risk (>= rdv.overbook_risk, 60 % by default) opens lane 1 */
    struct store_val p[1] = {STORE_I(first.id)};
    CHECK_EQ(store_exec(f.c,
                        "UPDATE rdv_bookings SET risk = 0.75 WHERE "
                        "id = ?",
                        p, 1, &err),
             0);
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    CHECK_EQ(rdv_get(f.c, f.a, "99001", out.id, &b, &err), 0);
    CHECK_EQ(b.lane, 1);
    CHECK_EQ(b.counter_id, f.k1);
    /* only one extra */
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_ECONFLICT);
    /* the search still shows the slot as taken for k1 */
    struct rdv_slot_query q = {.insee = "99001",
                               .motif_id = f.motif,
                               .from_day = day,
                               .to_day = day,
                               .people = 1,
                               .limit = 1};
    struct rdv_slot *v = NULL;
    size_t n = 0;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 1);
    if (n == 1)
        CHECK_EQ(v[0].counter_id, f.k2);
    rfix_close(&f);
}

TESTS(T(test_book_rows), T(test_book_validation), T(test_ants_id_check),
      T(test_conflicts), T(test_thread_race), T(test_move_cancel),
      T(test_resident_limits), T(test_tokens), T(test_status_confirm_agenda),
      T(test_overbooking))
