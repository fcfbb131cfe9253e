/*
 * test_rdv_slots.c - free slots: alignment on the range start in steps of
 * the booking's length, per-person durations, one slot per time or per
 * counter, the minimum delay against a fixed `now` (and across the
 * spring-forward night), the maximum delay, holidays (Christmas, the
 * Alsace-Moselle Good Friday), every other week anchored on from_day,
 * until_day, absences and closures spanning days, booked units, motif
 * lists of ranges, agents-only motifs, bad queries. In-memory SQLite.
 */
#include "harness.h"

#include "rdv_fixture.h"
#include "rdv/rdv_internal.h"

/* Sunday before RFIX_MONDAY, noon: every slot of the week is bookable. */
#define NOW_SUNDAY (rfix_at(RFIX_MONDAY - 1, 12 * 60))

static struct rdv_slot_query
query(struct rfix *f, int64_t motif, int64_t from, int64_t to, int people)
{
    struct rdv_slot_query q;

    (void)f;
    memset(&q, 0, sizeof(q));
    q.insee = "99001";
    q.motif_id = motif;
    q.from_day = from;
    q.to_day = to;
    q.people = people;
    q.limit = RDV_SLOTS_MAX;
    q.one_per_time = true;
    q.now = NOW_SUNDAY;
    return q;
}

static size_t
count_day(const struct rdv_slot *v, size_t n, int64_t day)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += v[i].day == day;
    return k;
}

static void
test_basic_alignment(void)
{
    struct rfix f;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_slot_query q = query(&f, f.motif, RFIX_MONDAY, RFIX_MONDAY, 1);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 12); /* 9:00 .. 11:45 every 15 min, one per time */
    if (n == 12) {
        CHECK_EQ(v[0].start_min, 540);
        CHECK_EQ(v[0].end_min, 555);
        CHECK_EQ(v[1].start_min, 555);
        CHECK_EQ(v[11].start_min, 705);
        CHECK_EQ(v[0].place_id, f.place);
        CHECK_EQ(v[0].counter_id, f.k1); /* the first counter */
    }
    q.one_per_time = false;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 24);
    if (n == 24) {
        CHECK_EQ(v[0].counter_id, f.k1);
        CHECK_EQ(v[1].counter_id, f.k2);
        CHECK_EQ(v[1].start_min, 540);
    }
    /* Tuesday: the annexe's afternoon comes after the mairie's morning */
    q = query(&f, f.motif, RFIX_MONDAY + 1, RFIX_MONDAY + 1, 1);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 12 + 8);
    if (n == 20) {
        CHECK_EQ(v[12].place_id, f.place2);
        CHECK_EQ(v[12].start_min, 840);
    }
    /* one place only; limit */
    q.place_ids = &f.place2;
    q.nplaces = 1;
    q.limit = 3;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(v[0].counter_id, f.k3);
    /* a whole week, time order across days */
    q = query(&f, f.motif, RFIX_MONDAY, RFIX_MONDAY + 6, 1);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 5 * 12 + 8);
    for (size_t i = 1; i < n; i++)
        CHECK(
            v[i - 1].day < v[i].day ||
            (v[i - 1].day == v[i].day && v[i - 1].start_min <= v[i].start_min));
    CHECK_EQ(count_day(v, n, RFIX_MONDAY + 5), 0); /* Saturday */
    rfix_close(&f);
}

static void
test_per_person(void)
{
    struct rfix f;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    /* cni: 20 min per person; 3 people = 60 min, starts every hour */
    struct rdv_slot_query q =
        query(&f, f.motif_pp, RFIX_MONDAY, RFIX_MONDAY, 3);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_EQ(v[0].start_min, 540);
        CHECK_EQ(v[0].end_min, 600);
        CHECK_EQ(v[2].start_min, 660);
        CHECK_EQ(v[2].end_min, 720);
    }
    /* 4 people = 80 min: 9:00 and 10:20 fit, 11:40 would end at 13:00 */
    q.people = 4;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 2);
    if (n == 2)
        CHECK_EQ(v[1].start_min, 620);
    q.people = 6;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_EINVAL);
    CHECK_STR(err.field, "people");
    CHECK_CONTAINS(err.user, "5 personnes");
    q.people = 0;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_EINVAL);
    /* not per person: etat-civil stays 15 min for 2 people */
    q = query(&f, f.motif, RFIX_MONDAY, RFIX_MONDAY, 2);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 12);
    rfix_close(&f);
}

static void
test_delays(void)
{
    struct rfix f;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    int64_t m2h, m10d;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    m2h = rfix_motif(&f, "99001", "deux-heures", 15, false, 1, 2, 90,
                     RDV_ANTS_NONE);
    m10d = rfix_motif(&f, "99001", "dix-jours", 15, false, 1, 0, 10,
                      RDV_ANTS_NONE);
    /* now Monday 9:40: with a 2-hour delay, the first start is 11:45 */
    struct rdv_slot_query q = query(&f, m2h, RFIX_MONDAY - 3, RFIX_MONDAY, 1);
    q.now = rfix_at(RFIX_MONDAY, 9 * 60 + 40);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 1);
    if (n == 1)
        CHECK_EQ(v[0].start_min, 705);
    /* an agent has no minimum delay, but the past stays closed */
    q.agent = true;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 9); /* 9:45 .. 11:45 */
    if (n > 0)
        CHECK_EQ(v[0].start_min, 585);
    /* maximum delay: 10 days from Monday = the Thursday after next */
    q = query(&f, m10d, RFIX_MONDAY, RFIX_MONDAY + 60, 1);
    q.now = rfix_at(RFIX_MONDAY, 8 * 60);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK(n > 0);
    if (n > 0)
        CHECK_EQ(v[n - 1].day, RFIX_MONDAY + 10);
    /* a search wholly in the past gives nothing, without error */
    q = query(&f, f.motif, RFIX_MONDAY - 14, RFIX_MONDAY - 8, 1);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    rfix_close(&f);
}

static void
test_dst_day(void)
{
    struct rfix f;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    int64_t m12h, sunday = 20541; /* 2026-03-29, summer time starts */
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    m12h = rfix_motif(&f, "99001", "douze-heures", 30, false, 1, 12, 90,
                      RDV_ANTS_NONE);
    CHECK(rfix_range(&f, "99001", f.k1, 7, 8 * 60, 12 * 60, 1, sunday - 30, 0,
                     "") > 0);
    /* Saturday 21:00 (UTC+1) + 12 h = Sunday 09:00 UTC = 10:00 (UTC+2):
       the clock skips an hour, so 9:00 and 9:30 are too early. */
    struct rdv_slot_query q = query(&f, m12h, sunday, sunday, 1);
    q.now = rfix_at(sunday - 1, 21 * 60);
    CHECK_EQ(gu_tz_offset_min(GU_TZ_PARIS, q.now), 60);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 4);
    if (n > 0)
        CHECK_EQ(v[0].start_min, 10 * 60);
    rfix_close(&f);
}

static void
test_holidays(void)
{
    struct rfix f;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    int64_t xmas = 20812, good_friday = 20903, metz_place = 0, metz_k = 0;
    int64_t metz_motif;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    /* Christmas (Friday 2026-12-25): the Thursday before has slots */
    struct rdv_slot_query q = query(&f, f.motif, xmas - 1, xmas + 3, 1);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(count_day(v, n, xmas - 1), 12);
    CHECK_EQ(count_day(v, n, xmas), 0);
    CHECK_EQ(count_day(v, n, xmas + 3), 12);

    /* Good Friday 2027: open in 99001, closed in Metz (Alsace-Moselle) */
    struct rdv_place p = {.name = "Hôtel de ville",
                          .address = "",
                          .zip = "",
                          .city = "",
                          .phone = "",
                          .active = true};
    memcpy(p.insee, "57463", 6);
    CHECK_EQ(rdv_place_save(f.c, &p, &metz_place, &err), 0);
    struct rdv_counter k = {
        .place_id = metz_place, .name = "Accueil", .active = true};
    memcpy(k.insee, "57463", 6);
    CHECK_EQ(rdv_counter_save(f.c, &k, &metz_k, &err), 0);
    metz_motif = rfix_motif(&f, "57463", "etat-civil", 15, false, 1, 0, 90,
                            RDV_ANTS_NONE);
    CHECK(rfix_range(&f, "57463", metz_k, 5, 540, 720, 1, RFIX_MONDAY, 0, "") >
          0);
    q = query(&f, f.motif, good_friday, good_friday, 1);
    q.now = rfix_at(good_friday - 6, 12 * 60);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 12);
    q.insee = "57463";
    q.motif_id = metz_motif;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    q.from_day = good_friday - 7; /* the Friday before is open */
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 0); /* now is after it: past */
    q.now = rfix_at(good_friday - 8, 12 * 60);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 12);
    CHECK_EQ(count_day(v, n, good_friday - 7), 12);
    rfix_close(&f);
}

static void
test_every_other_week_until(void)
{
    struct rfix f;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    int64_t sat = RFIX_MONDAY + 5;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    /* Saturday mornings every other week, anchored on RFIX_MONDAY's week;
       Wednesday afternoons until the second Wednesday only. */
    CHECK(rfix_range(&f, "99001", f.k1, 6, 540, 720, 2, RFIX_MONDAY, 0, "") >
          0);
    CHECK(rfix_range(&f, "99001", f.k1, 3, 840, 900, 1, RFIX_MONDAY,
                     RFIX_MONDAY + 9, "") > 0);
    struct rdv_slot_query q =
        query(&f, f.motif, RFIX_MONDAY, RFIX_MONDAY + 27, 1);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(count_day(v, n, sat), 12);
    CHECK_EQ(count_day(v, n, sat + 7), 0);
    CHECK_EQ(count_day(v, n, sat + 14), 12);
    CHECK_EQ(count_day(v, n, sat + 21), 0);
    CHECK_EQ(count_day(v, n, RFIX_MONDAY + 2), 12 + 4);
    CHECK_EQ(count_day(v, n, RFIX_MONDAY + 9), 12 + 4);
    CHECK_EQ(count_day(v, n, RFIX_MONDAY + 16), 12);
    /* parity stays anchored when the search starts on an odd week */
    q.from_day = RFIX_MONDAY + 7;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(count_day(v, n, sat + 7), 0);
    CHECK_EQ(count_day(v, n, sat + 14), 12);
    rfix_close(&f);
}

static void
test_absences_closures(void)
{
    struct rfix f;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    /* k1 away Monday 10:00-11:00; the Mairie closed Wednesday 11:00
       until Friday 10:00 (spanning days). */
    struct rdv_absence x = {.place_id = f.place,
                            .counter_id = f.k1,
                            .start_day = RFIX_MONDAY,
                            .start_min = 600,
                            .end_day = RFIX_MONDAY,
                            .end_min = 660,
                            .reason = "Formation"};
    memcpy(x.insee, "99001", 6);
    CHECK_EQ(rdv_absence_save(f.c, &x, NULL, &err), 0);
    x.counter_id = 0;
    x.start_day = RFIX_MONDAY + 2;
    x.start_min = 660;
    x.end_day = RFIX_MONDAY + 4;
    x.end_min = 600;
    x.reason = "Fermeture";
    CHECK_EQ(rdv_absence_save(f.c, &x, NULL, &err), 0);
    struct rdv_slot_query q =
        query(&f, f.motif, RFIX_MONDAY, RFIX_MONDAY + 4, 1);
    q.one_per_time = false;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(count_day(v, n, RFIX_MONDAY), 24 - 4);
    CHECK_EQ(count_day(v, n, RFIX_MONDAY + 1), 24 + 8);
    CHECK_EQ(count_day(v, n, RFIX_MONDAY + 2), 2 * 8); /* 9:00-11:00 */
    CHECK_EQ(count_day(v, n, RFIX_MONDAY + 3), 0);
    CHECK_EQ(count_day(v, n, RFIX_MONDAY + 4), 2 * 8); /* 10:00-12:00 */
    /* one per time: k2 still serves Monday 10:00 */
    q.one_per_time = true;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(count_day(v, n, RFIX_MONDAY), 12);
    rfix_close(&f);
}

/* How many slots the rules alone give (bookings ignored). */
static size_t
rules_count(struct rfix *f, const struct rdv_slot_query *q)
{
    struct rdv_slot *v = NULL;
    struct gu_err err;
    size_t n = 0;

    if (rdv_slots_find(f->c, f->a, q, true, 0, &v, &n, &err) < 0)
        return 0;
    return n;
}

static void
test_booked_units(void)
{
    struct rfix f;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    /* k1 booked 9:00-9:20 and k2 9:10-9:25 on Monday */
    CHECK(rfix_book_raw(&f, f.motif_pp, f.place, f.k1, RFIX_MONDAY, 540, 560) >
          0);
    CHECK(rfix_book_raw(&f, f.motif, f.place, f.k2, RFIX_MONDAY, 550, 565) > 0);
    struct rdv_slot_query q = query(&f, f.motif, RFIX_MONDAY, RFIX_MONDAY, 1);
    q.one_per_time = false;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    /* k1 loses 9:00 and 9:15, k2 loses 9:00 and 9:15 */
    CHECK_EQ(n, 24 - 4);
    if (n > 0) {
        CHECK_EQ(v[0].start_min, 570);
    }
    /* rules only (for booking): the bookings are not looked at */
    CHECK_EQ(rules_count(&f, &q), 24);
    rfix_close(&f);
}

static void
test_motif_lists_and_audience(void)
{
    struct rfix f;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    char list[32];
    int64_t elu;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    elu = rfix_motif(&f, "99001", "rencontre-elu", 30, false, 2, 0, 90,
                     RDV_ANTS_NONE);
    struct rdv_motif m;
    CHECK_EQ(rdv_motif_get(f.c, f.a, "99001", elu, &m, &err), 0);
    m.audience = RDV_AGENTS_ONLY;
    CHECK_EQ(rdv_motif_save(f.c, &m, NULL, &err), 0);
    /* a Saturday range of k2 for this motif only */
    snprintf(list, sizeof(list), "%lld", (long long)elu);
    CHECK(rfix_range(&f, "99001", f.k2, 6, 600, 720, 1, RFIX_MONDAY, 0, list) >
          0);
    struct rdv_slot_query q =
        query(&f, elu, RFIX_MONDAY + 5, RFIX_MONDAY + 5, 1);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_ENOTFOUND);
    q.agent = true;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 4);
    /* the other motifs do not open on that Saturday */
    q = query(&f, f.motif, RFIX_MONDAY + 5, RFIX_MONDAY + 5, 1);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    /* an inactive motif is not found */
    CHECK_EQ(rdv_motif_get(f.c, f.a, "99001", f.motif, &m, &err), 0);
    m.active = false;
    CHECK_EQ(rdv_motif_save(f.c, &m, NULL, &err), 0);
    q = query(&f, f.motif, RFIX_MONDAY, RFIX_MONDAY, 1);
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_ENOTFOUND);
    rfix_close(&f);
}

static void
test_bad_queries(void)
{
    struct rfix f;
    struct rdv_slot *v = NULL;
    struct gu_err err;
    int64_t bad_place = 424242;
    size_t n = 0;

    if (rfix_open(&f) < 0 || rfix_setup(&f) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_slot_query q = query(&f, f.motif, RFIX_MONDAY, RFIX_MONDAY, 1);
    q.limit = 0;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_EINVAL);
    CHECK_STR(err.field, "limit");
    q.limit = RDV_SLOTS_MAX + 1;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_EINVAL);
    q.limit = 10;
    q.from_day = RFIX_MONDAY + 1;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_EINVAL);
    CHECK_STR(err.field, "to");
    /* a wide span is clamped to the motif's window, not refused */
    q.from_day = RFIX_MONDAY - 400;
    q.to_day = RFIX_MONDAY + 400;
    q.limit = RDV_SLOTS_MAX;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), 0);
    CHECK(n > 0);
    if (n > 0) {
        CHECK(v[0].day >= RFIX_MONDAY);
        CHECK(v[n - 1].day <= RFIX_MONDAY - 1 + 90);
    }
    q.limit = 10;
    q.from_day = -((int64_t)1 << 60);
    q.to_day = RFIX_MONDAY;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_EINVAL);
    q.from_day = RFIX_MONDAY;
    q.to_day = RFIX_MONDAY;
    q.place_ids = &bad_place;
    q.nplaces = 1;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_EINVAL);
    CHECK_STR(err.field, "place");
    q.nplaces = 0;
    q.motif_id = 999999;
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_ENOTFOUND);
    /* another commune's motif */
    q.motif_id = f.motif;
    q.insee = "99002";
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_ENOTFOUND);
    q.insee = "9900";
    CHECK_EQ(rdv_slots(f.c, f.a, &q, &v, &n, &err), GU_EINVAL);
    rfix_close(&f);
}

TESTS(T(test_basic_alignment), T(test_per_person), T(test_delays),
      T(test_dst_day), T(test_holidays), T(test_every_other_week_until),
      T(test_absences_closures), T(test_booked_units),
      T(test_motif_lists_and_audience), T(test_bad_queries))
