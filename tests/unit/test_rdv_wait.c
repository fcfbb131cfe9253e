/*
 * test_rdv_wait.c - the waiting list (join and its validation, an offer
 * held when a slot frees up, accept, expiry handing the slot to the next
 * person, the bounded number of offers, leaving releases the hold) and
 * retention (rdv_purge anonymises old bookings and drops their links,
 * deletes the notification log after six months). In-memory SQLite.
 */
#include "harness.h"

#include "rdv_fixture.h"
#include "rdv/rdv_internal.h"

static int64_t
future_monday(void)
{
    int64_t d = gu_now() / 86400 + 8;

    while (gu_day_weekday(d) != 1 || gu_holiday(d, GU_HOL_METROPOLE) ||
           gu_holiday(d + 7, GU_HOL_METROPOLE))
        d++;
    return d;
}

/*
 * A scarce motif in 99002: one counter open Monday 9:00-10:00 on two
 * Mondays only (day and day + 7), 60-minute appointments: two slots.
 */
struct scarce {
    int64_t place, counter, motif, day;
};

static int
scarce_setup(struct rfix *f, struct scarce *x)
{
    struct gu_err err;

    memset(x, 0, sizeof(*x));
    x->day = future_monday();
    struct rdv_place p = {.name = "Mairie",
                          .address = "",
                          .zip = "",
                          .city = "",
                          .phone = "",
                          .active = true};
    memcpy(p.insee, "99002", 6);
    if (rdv_place_save(f->c, &p, &x->place, &err) < 0)
        return -1;
    struct rdv_counter k = {
        .place_id = x->place, .name = "Accueil", .active = true};
    memcpy(k.insee, "99002", 6);
    if (rdv_counter_save(f->c, &k, &x->counter, &err) < 0)
        return -1;
    x->motif =
        rfix_motif(f, "99002", "mariage", 60, false, 2, 0, 90, RDV_ANTS_NONE);
    if (!x->motif || !rfix_range(f, "99002", x->counter, 1, 540, 600, 1, x->day,
                                 x->day + 7, ""))
        return -1;
    return 0;
}

static int64_t
book(struct rfix *f, struct scarce *x, int64_t day, const char *email)
{
    struct rdv_book_req r;
    struct rdv_booked out;
    struct gu_err err;

    memset(&r, 0, sizeof(r));
    r.insee = "99002";
    r.motif_id = x->motif;
    r.place_id = x->place;
    r.day = day;
    r.start_min = 540;
    r.people = 1;
    r.name = "Résident";
    r.email = email;
    r.consent = true;
    r.actor = "public";
    if (rdv_book(f->c, f->cfg, &r, &out, &err) < 0) {
        fprintf(stderr, "book: %s\n", err.msg);
        return 0;
    }
    return out.id;
}

static struct rdv_wait_req
wreq(struct scarce *x, const char *email)
{
    struct rdv_wait_req w;

    memset(&w, 0, sizeof(w));
    w.insee = "99002";
    w.motif_id = x->motif;
    w.people = 1;
    w.name = "Dominique Petit";
    w.email = email;
    w.phone = "";
    w.ants_ids = "";
    w.consent = true;
    return w;
}

static const char *
wait_status(struct rfix *f, int64_t id)
{
    struct store_val p[1] = {STORE_I(id)};
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a, "SELECT status FROM rdv_waitlist WHERE id = ?",
                    p, 1, &r, &err) < 0 ||
        r->nrows == 0)
        return "";
    return store_text(r, 0, 0);
}

static int64_t
scalar(struct rfix *f, const char *sql, int64_t arg)
{
    struct store_val p[1] = {STORE_I(arg)};
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a, sql, p, 1, &r, &err) < 0)
        return -1;
    return store_int(r, 0, 0);
}

static void
test_join_validation(void)
{
    struct rfix f;
    struct scarce x;
    struct rdv_booked out;
    struct gu_err err;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0 || scarce_setup(&f, &x) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_wait_req w = wreq(&x, "");
    w.phone = "0612345678";
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "email");
    CHECK_CONTAINS(err.user, "courriel");
    w = wreq(&x, "d.petit@exemple.fr");
    w.consent = false;
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "consent");
    w.consent = true;
    w.people = 3;
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "people");
    w.people = 1;
    w.place_id = f.place; /* a place of 99001 */
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "place");
    w.place_id = 0;
    w.before_day = gu_now() / 86400;
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "before_day");
    w.before_day = 0;
    /* ANTS motif of 99001: numbers asked */
    struct rdv_wait_req wa = wreq(&x, "d.petit@exemple.fr");
    wa.insee = "99001";
    wa.motif_id = f.motif_pp;
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &wa, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "ants_ids");
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &out, &err), 0);
    CHECK(out.id > 0);
    CHECK_EQ(strlen(out.token), RDV_TOKEN_LEN);
    CHECK_STR(wait_status(&f, out.id), "attente");
    /* before_day 0 = earlier than the first free slot now: day */
    CHECK_EQ(
        scalar(&f, "SELECT before_day FROM rdv_waitlist WHERE id = ?", out.id),
        x.day);
    /* five active entries per address at most */
    for (int i = 0; i < 4; i++)
        CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &out, &err), 0);
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &out, &err), GU_ETOOBIG);
    rfix_close(&f);
}

static void
test_offer_accept(void)
{
    struct rfix f;
    struct scarce x;
    struct rdv_booked joined, acc;
    struct rdv_booking b;
    struct gu_err err;
    int64_t a1, held;

    if (rfix_open(&f) < 0 || scarce_setup(&f, &x) < 0) {
        CHECK(0);
        return;
    }
    a1 = book(&f, &x, x.day, "a@exemple.fr");
    CHECK(a1 > 0);
    CHECK(book(&f, &x, x.day + 7, "b@exemple.fr") > 0);
    struct rdv_wait_req w = wreq(&x, "c@exemple.fr");
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &joined, &err), 0);
    /* nothing free: no offer */
    CHECK_EQ(rdv_wait_run(f.s, f.cfg, &err), 0);
    CHECK_STR(wait_status(&f, joined.id), "attente");
    /* A cancels: the slot is held for C and offered by e-mail */
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99002", a1, true, "agent1", &err), 0);
    CHECK_EQ(rdv_wait_run(f.s, f.cfg, &err), 1);
    CHECK_STR(wait_status(&f, joined.id), "proposé");
    held = scalar(&f, "SELECT booking_id FROM rdv_waitlist WHERE id = ?",
                  joined.id);
    CHECK(held > 0);
    CHECK_EQ(rdv_get(f.c, f.a, "99002", held, &b, &err), 0);
    CHECK_EQ(b.status, RDV_HELD);
    CHECK_EQ(b.day, x.day);
    CHECK(b.hold_until > gu_now() + 23 * 3600);
    CHECK_EQ(
        scalar(&f, "SELECT COUNT(*) FROM rdv_units WHERE booking_id = ?", held),
        12);
    CHECK_EQ(scalar(&f,
                    "SELECT COUNT(*) FROM notify_outbox WHERE kind = "
                    "'rdv.offer' AND ? > 0",
                    1),
             1);
    /* the held slot is not offered to anyone else */
    struct rdv_slot_query q = {.insee = "99002",
                               .motif_id = x.motif,
                               .from_day = x.day,
                               .to_day = x.day + 7,
                               .people = 1,
                               .limit = 10};
    struct rdv_slot *v = NULL;
    size_t n = 0;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    /* a second run does not offer twice */
    CHECK_EQ(rdv_wait_run(f.s, f.cfg, &err), 0);
    /* an agent withdraws the held slot: the entry waits again, and the
       next run offers the slot anew */
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99002", held, true, "agent1", &err), 0);
    CHECK_STR(wait_status(&f, joined.id), "attente");
    CHECK_EQ(scalar(&f,
                    "SELECT COUNT(*) FROM notify_outbox WHERE kind = "
                    "'rdv.cancel' AND to_addr = 'c@exemple.fr' AND ? > 0",
                    1),
             0);
    CHECK_EQ(rdv_wait_run(f.s, f.cfg, &err), 1);
    CHECK_STR(wait_status(&f, joined.id), "proposé");
    held = scalar(&f, "SELECT booking_id FROM rdv_waitlist WHERE id = ?",
                  joined.id);
    /* accept: confirmed, with its own management link */
    CHECK_EQ(rdv_wait_accept(f.c, f.cfg, joined.token, &acc, &err), 0);
    CHECK_EQ(acc.id, held);
    CHECK_EQ(strlen(acc.token), RDV_TOKEN_LEN);
    CHECK_EQ(rdv_by_token(f.c, f.a, acc.token, &b, &err), 0);
    CHECK_EQ(b.status, RDV_CONFIRMED);
    CHECK_EQ(b.hold_until, 0);
    CHECK_STR(b.email, "c@exemple.fr");
    CHECK_STR(wait_status(&f, joined.id), "accepté");
    CHECK_EQ(rdv_wait_accept(f.c, f.cfg, joined.token, &acc, &err),
             GU_ECONFLICT);
    CHECK_EQ(rdv_wait_accept(f.c, f.cfg, "x", &acc, &err), GU_ENOTFOUND);
    rfix_close(&f);
}

static void
test_expiry_next_person(void)
{
    struct rfix f;
    struct scarce x;
    struct rdv_booked e1, e2, acc;
    struct gu_err err;
    int64_t a1, h1, h2, now = gu_now();

    if (rfix_open(&f) < 0 || scarce_setup(&f, &x) < 0 ||
        gu_config_parse_string(f.own_cfg, "[rdv]\nmax_offers = 1\n", &err) <
            0) {
        CHECK(0);
        return;
    }
    a1 = book(&f, &x, x.day, "a@exemple.fr");
    CHECK(book(&f, &x, x.day + 7, "b@exemple.fr") > 0);
    struct rdv_wait_req w = wreq(&x, "c@exemple.fr");
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &e1, &err), 0);
    w.email = "d@exemple.fr";
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &e2, &err), 0);
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99002", a1, true, "agent1", &err), 0);
    /* the oldest entry gets it */
    CHECK_EQ(rdv_wait_run_at(f.s, f.cfg, now, &err), 1);
    CHECK_STR(wait_status(&f, e1.id), "proposé");
    CHECK_STR(wait_status(&f, e2.id), "attente");
    h1 = scalar(&f, "SELECT booking_id FROM rdv_waitlist WHERE id = ?", e1.id);
    /* 24 h later, unanswered: released; with max_offers = 1 the first
       entry is over, and the slot goes to the next person */
    CHECK_EQ(rdv_wait_run_at(f.s, f.cfg, now + 24 * 3600 + 1, &err), 1);
    CHECK_STR(wait_status(&f, e1.id), "expiré");
    CHECK_STR(wait_status(&f, e2.id), "proposé");
    CHECK_EQ(scalar(&f, "SELECT status FROM rdv_bookings WHERE id = ?", h1),
             RDV_CANCELLED);
    CHECK_EQ(
        scalar(&f, "SELECT COUNT(*) FROM rdv_units WHERE booking_id = ?", h1),
        0);
    h2 = scalar(&f, "SELECT booking_id FROM rdv_waitlist WHERE id = ?", e2.id);
    CHECK(h2 > 0 && h2 != h1);
    /* the first person's link now says there is nothing to accept */
    CHECK_EQ(rdv_wait_accept(f.c, f.cfg, e1.token, &acc, &err), GU_EINVAL);
    /* the second declines by leaving: the hold is released at once */
    CHECK_EQ(rdv_wait_leave(f.c, e2.token, &err), 0);
    CHECK_STR(wait_status(&f, e2.id), "retiré");
    CHECK_EQ(
        scalar(&f, "SELECT COUNT(*) FROM rdv_units WHERE booking_id = ?", h2),
        0);
    CHECK_EQ(rdv_wait_leave(f.c, e2.token, &err), GU_ENOTFOUND);
    CHECK_STR(err.user, "Ce lien n'est pas valide ou a expiré.");
    rfix_close(&f);
}

static void
test_expiry_requeues(void)
{
    struct rfix f;
    struct scarce x;
    struct rdv_booked e1;
    struct gu_err err;
    int64_t a1, now = gu_now();

    if (rfix_open(&f) < 0 || scarce_setup(&f, &x) < 0) {
        CHECK(0);
        return;
    }
    a1 = book(&f, &x, x.day, "a@exemple.fr");
    CHECK(book(&f, &x, x.day + 7, "b@exemple.fr") > 0);
    struct rdv_wait_req w = wreq(&x, "c@exemple.fr");
    CHECK_EQ(rdv_wait_join(f.c, f.cfg, &w, &e1, &err), 0);
    CHECK_EQ(rdv_cancel(f.c, f.cfg, "99002", a1, true, "agent1", &err), 0);
    CHECK_EQ(rdv_wait_run_at(f.s, f.cfg, now, &err), 1);
    /* default max_offers = 3: after the lapse, back in the queue (not in
       the same run), offered again at the next run */
    CHECK_EQ(rdv_wait_run_at(f.s, f.cfg, now + 24 * 3600 + 1, &err), 0);
    CHECK_STR(wait_status(&f, e1.id), "attente");
    CHECK_EQ(rdv_wait_run_at(f.s, f.cfg, now + 24 * 3600 + 61, &err), 1);
    CHECK_STR(wait_status(&f, e1.id), "proposé");
    CHECK_EQ(scalar(&f, "SELECT offers FROM rdv_waitlist WHERE id = ?", e1.id),
             2);
    rfix_close(&f);
}

static void
test_purge(void)
{
    struct rfix f;
    struct rdv_booked out;
    struct rdv_booking b;
    struct gu_err err;
    char tok[RDV_TOKEN_LEN + 1];
    int64_t now = gu_now(), old, recent;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    /* a booking 800 days ago (retention 730), one 100 days ago */
    old =
        rfix_book_raw(&f, f.motif, f.place, f.k1, now / 86400 - 800, 540, 555);
    recent =
        rfix_book_raw(&f, f.motif, f.place, f.k1, now / 86400 - 100, 540, 555);
    struct store_val p[1] = {STORE_I(0)};
    CHECK_EQ(store_exec(f.c,
                        "UPDATE rdv_bookings SET name = 'Jean Dupont', "
                        "email = 'jean@exemple.fr', phone = '0612345678', "
                        "ants_ids = 'AB12CD34EF', note = 'allergie', "
                        "person_hash = 'h' WHERE id > ?",
                        p, 1, &err),
             0);
    CHECK_EQ(rdv_token_new(f.c, "99001", old, 0, "gestion", 0, tok, &err), 0);
    CHECK_EQ(rdv_by_token(f.c, f.a, tok, &b, &err), 0);
    struct store_val lg[4] = {STORE_I(old), STORE_I(now - 200 * 86400),
                              STORE_I(recent), STORE_I(now - 100 * 86400)};
    CHECK_EQ(store_exec(f.c,
                        "INSERT INTO rdv_notify_log (insee, booking_id, "
                        "kind, channel, at) VALUES ('99001', ?, "
                        "'rdv.remind', 'courriel', ?), ('99001', ?, "
                        "'rdv.remind', 'courriel', ?)",
                        lg, 4, &err),
             0);
    int n = rdv_purge(f.s, f.cfg, now, &err);
    CHECK(n >= 3); /* one booking, its token, one log row */
    CHECK_EQ(rdv_get(f.c, f.a, "99001", old, &b, &err), 0);
    CHECK_STR(b.name, "");
    CHECK_STR(b.email, "");
    CHECK_STR(b.phone, "");
    CHECK_STR(b.ants_ids, "");
    CHECK_STR(b.note, "");
    CHECK_EQ(scalar(&f,
                    "SELECT COUNT(*) FROM rdv_bookings WHERE id = ? AND "
                    "person_hash = '' AND anonymised_at > 0",
                    old),
             1);
    CHECK_EQ(rdv_by_token(f.c, f.a, tok, &b, &err), GU_ENOTFOUND);
    CHECK_EQ(rdv_get(f.c, f.a, "99001", recent, &b, &err), 0);
    CHECK_STR(b.name, "Jean Dupont");
    CHECK_EQ(scalar(&f, "SELECT COUNT(*) FROM rdv_notify_log WHERE ? > 0", 1),
             1);
    CHECK_EQ(scalar(&f,
                    "SELECT COUNT(*) FROM rdv_notify_log WHERE booking_id = ?",
                    recent),
             1);
    /* again: nothing left to do */
    CHECK_EQ(rdv_purge(f.s, f.cfg, now, &err), 0);
    /* a shorter log retention takes the other row too */
    CHECK_EQ(gu_config_parse_string(f.own_cfg,
                                    "[rdv]\nlog_retention_days = 30\n", &err),
             0);
    CHECK_EQ(rdv_purge(f.s, f.cfg, now, &err), 1);
    CHECK_EQ(scalar(&f, "SELECT COUNT(*) FROM rdv_notify_log WHERE ? > 0", 1),
             0);
    (void)out;
    rfix_close(&f);
}

TESTS(T(test_join_validation), T(test_offer_accept), T(test_expiry_next_person),
      T(test_expiry_requeues), T(test_purge))
