/*
 * rdv_fixture.h - what the rdv unit tests share: a store with every
 * module's schema (in memory, or a file for the race tests), two
 * communes (99001 zone B, 57463 Metz for Alsace-Moselle), and a small
 * setup of one place, two counters, a motif and week ranges.
 *
 * Included by one test file each (static functions, no link clash).
 */
#ifndef TESTS_UNIT_RDV_FIXTURE_H
#define TESTS_UNIT_RDV_FIXTURE_H

#include "rdv/rdv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_url.h"

struct rfix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    const struct gu_config *cfg;
    struct gu_config *own_cfg;
    /* the small setup (rfix_setup) */
    int64_t place, place2, k1, k2, k3, motif, motif_pp, motif_ants;
};

static inline int
rfix_commune(struct rfix *f, const char *insee, const char *name,
             const char *zone)
{
    struct store_commune m;
    struct gu_err err;

    memset(&m, 0, sizeof(m));
    memcpy(m.insee, insee, 6);
    m.name = name;
    m.zone = zone;
    m.hours = m.address = m.phone = m.email = "";
    return store_commune_create(f->c, &m, &err);
}

static inline int
rfix_open_url(struct rfix *f, const char *url)
{
    const struct store_migration *lists[3];
    size_t counts[3];
    struct gu_err err;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    /* The modules rdv sits on, not app's full list: the rdv tests link
       only what they use. */
    lists[0] = store_core_migrations(&counts[0]);
    lists[1] = notify_migrations(&counts[1]);
    lists[2] = rdv_migrations(&counts[2]);
    if (gu_crypto_init() < 0 || store_open(url, &f->s, &err) < 0 ||
        store_migrate(f->s, lists, counts, 3, NULL, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->own_cfg, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->cfg = f->own_cfg;
    f->a = gu_arena_new(0);
    if (!f->a || rfix_commune(f, "99001", "Saint-Exemple-sur-Loire", "B") < 0 ||
        rfix_commune(f, "57463", "Metz", "B") < 0 ||
        rfix_commune(f, "99002", "Autre-Exemple", "A") < 0)
        return -1;
    return 0;
}

static inline int
rfix_open(struct rfix *f)
{
    return rfix_open_url(f, th_store_url());
}

static inline void
rfix_close(struct rfix *f)
{
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
    gu_config_free(f->own_cfg);
}

static inline int64_t
rfix_motif(struct rfix *f, const char *insee, const char *code, int duration,
           bool per_person, int max_people, int min_delay_h, int max_delay_d,
           enum rdv_ants_reason ants)
{
    struct rdv_motif m;
    struct gu_err err;
    int64_t id = 0;

    memset(&m, 0, sizeof(m));
    memcpy(m.insee, insee, 6);
    m.code = code;
    m.name = code;
    m.duration_min = duration;
    m.per_person = per_person;
    m.max_people = max_people;
    m.min_delay_h = min_delay_h;
    m.max_delay_d = max_delay_d;
    m.instructions = "";
    m.changeable = true;
    m.change_until_h = 24;
    m.ants = ants;
    m.active = true;
    if (rdv_motif_save(f->c, &m, &id, &err) < 0)
        fprintf(stderr, "motif %s: %s\n", code, err.msg);
    return id;
}

static inline int64_t
rfix_range(struct rfix *f, const char *insee, int64_t counter, int weekday,
           int start, int end, int every, int64_t from, int64_t until,
           const char *motifs)
{
    struct rdv_range g;
    struct gu_err err;
    int64_t id = 0;

    memset(&g, 0, sizeof(g));
    memcpy(g.insee, insee, 6);
    g.counter_id = counter;
    g.weekday = weekday;
    g.start_min = start;
    g.end_min = end;
    g.every_weeks = every;
    g.from_day = from;
    g.until_day = until;
    g.motifs = motifs;
    if (rdv_range_save(f->c, &g, &id, &err) < 0)
        fprintf(stderr, "range: %s\n", err.msg);
    return id;
}

/* Monday 2026-11-30 is a reference day (not a holiday week). */
#define RFIX_MONDAY 20787

/*
 * In 99001: place "Mairie" with counters k1, k2; place "Annexe" with k3.
 * Motif "etat-civil" (15 min, no delay, 90 days), "cni" per person
 * (20 min, max 5, ANTS CNI, no delay). Ranges: k1 and k2 Monday–Friday
 * 9:00–12:00 from 2026-11-02; k3 Tuesday 14:00–16:00.
 */
static inline int
rfix_setup(struct rfix *f)
{
    struct rdv_place p;
    struct rdv_counter k;
    struct gu_err err;

    memset(&p, 0, sizeof(p));
    memcpy(p.insee, "99001", 6);
    p.name = "Mairie";
    p.address = p.zip = p.city = p.phone = "";
    p.active = true;
    if (rdv_place_save(f->c, &p, &f->place, &err) < 0)
        return -1;
    p.name = "Annexe";
    if (rdv_place_save(f->c, &p, &f->place2, &err) < 0)
        return -1;
    memset(&k, 0, sizeof(k));
    memcpy(k.insee, "99001", 6);
    k.place_id = f->place;
    k.active = true;
    k.name = "Guichet 1";
    if (rdv_counter_save(f->c, &k, &f->k1, &err) < 0)
        return -1;
    k.name = "Guichet 2";
    if (rdv_counter_save(f->c, &k, &f->k2, &err) < 0)
        return -1;
    k.place_id = f->place2;
    k.name = "Guichet annexe";
    if (rdv_counter_save(f->c, &k, &f->k3, &err) < 0)
        return -1;
    f->motif = rfix_motif(f, "99001", "etat-civil", 15, false, 2, 0, 90,
                          RDV_ANTS_NONE);
    f->motif_pp =
        rfix_motif(f, "99001", "cni", 20, true, 5, 0, 90, RDV_ANTS_CNI);
    f->motif_ants = f->motif_pp;
    if (!f->motif || !f->motif_pp)
        return -1;
    for (int wd = 1; wd <= 5; wd++) {
        if (!rfix_range(f, "99001", f->k1, wd, 540, 720, 1, RFIX_MONDAY - 28, 0,
                        "") ||
            !rfix_range(f, "99001", f->k2, wd, 540, 720, 1, RFIX_MONDAY - 28, 0,
                        ""))
            return -1;
    }
    if (!rfix_range(f, "99001", f->k3, 2, 840, 960, 1, RFIX_MONDAY - 28, 0, ""))
        return -1;
    return 0;
}

/* Unix seconds of a local Paris time (for `now`). */
static inline int64_t
rfix_at(int64_t day, int minute)
{
    return gu_tz_to_utc(GU_TZ_PARIS, day, minute);
}

/* A booking row and its lane-0 units written directly (slot tests). */
static inline int64_t
rfix_book_raw(struct rfix *f, int64_t motif, int64_t place, int64_t counter,
              int64_t day, int start, int end)
{
    struct store_val p[7] = {STORE_T("99001"), STORE_I(motif), STORE_I(place),
                             STORE_I(counter), STORE_I(day),   STORE_I(start),
                             STORE_I(end)};
    struct store_rows *r = NULL;
    struct gu_err err;
    int64_t id;

    if (store_query(f->c, f->a,
                    "INSERT INTO rdv_bookings (insee, motif_id, place_id, "
                    "counter_id, day, start_min, end_min, status, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1,"
                    " 0, 0) RETURNING id",
                    p, 7, &r, &err) < 0)
        return 0;
    id = store_int(r, 0, 0);
    for (int u = start / RDV_UNIT_MIN;
         u < (end + RDV_UNIT_MIN - 1) / RDV_UNIT_MIN; u++) {
        struct store_val q[4] = {STORE_I(counter), STORE_I(day), STORE_I(u),
                                 STORE_I(id)};

        if (store_exec(f->c,
                       "INSERT INTO rdv_units (counter_id, day, unit, lane, "
                       "booking_id, insee) VALUES (?, ?, ?, 0, ?, '99001')",
                       q, 4, &err) < 0)
            return 0;
    }
    return id;
}

#endif
