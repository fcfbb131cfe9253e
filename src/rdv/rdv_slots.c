/*
 * rdv_slots.c - free slots (see rdv_slots() in rdv.h).
 *
 * Four indexed queries load what the period needs: the active counters of
 * the places asked, their ranges valid in the period, the absences and
 * closures overlapping it, and the lane-0 units booked on those counters
 * in it (primary key prefix counter_id, day). A bitmap per counter and
 * day (288 bits of RDV_UNIT_MIN minutes) marks the unavailable units;
 * then each day, each range that applies to it (weekday, from/until,
 * every other week anchored on from_day's week, motif list, no holiday)
 * is walked from its start in steps of the booking's length, and a start
 * whose units are all free is a slot. Days are walked in order, in chunks
 * of CHUNK_DAYS whose bookings are loaded when the walk reaches them, and
 * the walk stops at the limit, so a search for the first slots stays
 * cheap. A day's candidates are put in time order by a counting sort on
 * their start unit (ranges are pre-sorted by place and counter, so each
 * bucket is already in place, counter order).
 */
#include "rdv/rdv_internal.h"

#include <stdlib.h>
#include <string.h>

#define UNITS_PER_DAY (1440 / RDV_UNIT_MIN)
#define WORDS ((UNITS_PER_DAY + 63) / 64)
#define PLACES_MAX 100
#define CHUNK_DAYS 14

/* One counter considered by the search. */
struct kslot {
    int64_t id, place_id;
};

struct krange {
    size_t k;                     /* index in the counters array */
    int64_t place_id, counter_id; /* sort keys */
    int weekday, start, end, every;
    int64_t from, until, anchor; /* anchor: Monday of from's week */
};

/* A candidate start of a day: its unit and its range. */
struct cand {
    int unit;
    size_t g;
};

struct search {
    struct kslot *k;
    size_t nk;
    struct krange *g;
    size_t ng;
    int64_t from, to;   /* clamped period */
    int64_t cfrom, cto; /* the chunk whose bookings are loaded */
    uint64_t *busy;     /* nk * CHUNK_DAYS * WORDS */
};

static uint64_t *
busy_row(struct search *s, size_t k, int64_t day)
{
    return s->busy + (k * CHUNK_DAYS + (size_t)(day - s->cfrom)) * WORDS;
}

static void
mark(uint64_t *row, int u0, int u1)
{
    if (u0 < 0)
        u0 = 0;
    if (u1 > UNITS_PER_DAY)
        u1 = UNITS_PER_DAY;
    for (int u = u0; u < u1; u++)
        row[u / 64] |= (uint64_t)1 << (u % 64);
}

static bool
all_free(const uint64_t *row, int u0, int n)
{
    for (int u = u0; u < u0 + n; u++) {
        if (row[u / 64] & ((uint64_t)1 << (u % 64)))
            return false;
    }
    return true;
}

static int
counter_index(const struct search *s, int64_t id)
{
    size_t lo = 0, hi = s->nk;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (s->k[mid].id == id)
            return (int)mid;
        if (s->k[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int
cmp_kslot(const void *a, const void *b)
{
    const struct kslot *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

static int
cmp_krange(const void *a, const void *b)
{
    const struct krange *x = a, *y = b;

    if (x->place_id != y->place_id)
        return (x->place_id > y->place_id) - (x->place_id < y->place_id);
    if (x->counter_id != y->counter_id)
        return (x->counter_id > y->counter_id) -
               (x->counter_id < y->counter_id);
    return x->start - y->start;
}

static int
check_query(const struct rdv_slot_query *q, struct gu_err *err)
{
    if (!q->insee || !store_insee_valid(q->insee))
        return gu_err_set(err, GU_EINVAL, "c", "Code de commune invalide.",
                          "bad insee");
    if (q->limit < 1 || q->limit > RDV_SLOTS_MAX)
        return gu_err_set(err, GU_EINVAL, "limit",
                          "Le nombre de créneaux demandés doit être compris "
                          "entre 1 et 5000.",
                          "bad limit %d", q->limit);
    if (q->from_day < RDV_DAY_MIN || q->to_day > RDV_DAY_MAX)
        return gu_err_set(err, GU_EINVAL, "from",
                          "Dates de recherche invalides : entre 2000 et "
                          "2099.",
                          "days out of range");
    if (q->from_day > q->to_day)
        return gu_err_set(err, GU_EINVAL, "to",
                          "La fin de la période doit être après son début.",
                          "from > to");
    /* No limit on the span asked: it is clamped to [today, today +
       max_delay_d] (at most RDV_SEARCH_DAYS_MAX days), so a search that
       starts in the past or ends in two years costs what the window
       costs. */
    if (q->nplaces > PLACES_MAX || (q->nplaces > 0 && !q->place_ids))
        return gu_err_set(err, GU_EINVAL, "place",
                          "Trop de lieux demandés (100 au plus).",
                          "too many places");
    return 0;
}

/* Active counters of the commune at the places asked (all if none). */
static int
load_counters(struct store_conn *c, struct gu_arena *a,
              const struct rdv_slot_query *q, int64_t counter_id,
              struct search *s, struct gu_err *err)
{
    struct store_val p[1] = {STORE_T(q->insee)};
    struct store_rows *r = NULL;
    int rc;

    /* Places asked for must be places of the commune. */
    if (q->nplaces > 0) {
        rc = store_query(c, a, "SELECT id FROM rdv_places WHERE insee = ?", p,
                         1, &r, err);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < q->nplaces; i++) {
            bool found = false;

            for (size_t j = 0; j < r->nrows && !found; j++)
                found = store_int(r, j, 0) == q->place_ids[i];
            if (!found)
                return gu_err_set(err, GU_EINVAL, "place",
                                  "Ce lieu n'existe pas dans la commune.",
                                  "place %lld not in %s",
                                  (long long)q->place_ids[i], q->insee);
        }
    }
    rc = store_query(c, a,
                     "SELECT k.id, k.place_id FROM rdv_counters k "
                     "JOIN rdv_places p ON p.id = k.place_id "
                     "WHERE k.insee = ? AND k.active = 1 AND p.active = 1 "
                     "ORDER BY k.id",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    s->k = gu_arena_alloc(a, (r->nrows ? r->nrows : 1) * sizeof(*s->k));
    if (!s->k)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    s->nk = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        int64_t id = store_int(r, i, 0), place = store_int(r, i, 1);
        bool keep = q->nplaces == 0;

        for (size_t j = 0; j < q->nplaces && !keep; j++)
            keep = q->place_ids[j] == place;
        if (counter_id && id != counter_id)
            keep = false;
        if (keep) {
            s->k[s->nk].id = id;
            s->k[s->nk].place_id = place;
            s->nk++;
        }
    }
    qsort(s->k, s->nk, sizeof(*s->k), cmp_kslot);
    return 0;
}

static int
load_ranges(struct store_conn *c, struct gu_arena *a,
            const struct rdv_slot_query *q, struct search *s,
            struct gu_err *err)
{
    struct store_val p[3] = {STORE_T(q->insee), STORE_I(s->to),
                             STORE_I(s->from)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT counter_id, weekday, start_min, end_min, "
                     "every_weeks, from_day, until_day, motifs "
                     "FROM rdv_ranges WHERE insee = ? AND from_day <= ? "
                     "AND (until_day = 0 OR until_day >= ?)",
                     p, 3, &r, err);
    if (rc < 0)
        return rc;
    s->g = gu_arena_alloc(a, (r->nrows ? r->nrows : 1) * sizeof(*s->g));
    if (!s->g)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    s->ng = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        int k = counter_index(s, store_int(r, i, 0));
        struct krange *g;

        if (k < 0 || !rdv_motif_listed(store_text(r, i, 7), q->motif_id))
            continue;
        g = &s->g[s->ng++];
        g->k = (size_t)k;
        g->place_id = s->k[k].place_id;
        g->counter_id = s->k[k].id;
        g->weekday = (int)store_int(r, i, 1);
        g->start = (int)store_int(r, i, 2);
        g->end = (int)store_int(r, i, 3);
        g->every = (int)store_int(r, i, 4);
        g->from = store_int(r, i, 5);
        g->until = store_int(r, i, 6);
        g->anchor = g->from - (gu_day_weekday(g->from) - 1);
    }
    qsort(s->g, s->ng, sizeof(*s->g), cmp_krange);
    return 0;
}

/* Unavailable units of the days [s->cfrom, s->cto] into s->busy. */
static int
load_busy(struct store_conn *c, struct gu_arena *a,
          const struct rdv_slot_query *q, bool rules_only, struct search *s,
          struct gu_err *err)
{
    struct store_val p[3] = {STORE_T(q->insee), STORE_I(s->cfrom),
                             STORE_I(s->cto)};
    struct store_rows *r = NULL;
    int rc;

    memset(s->busy, 0, s->nk * CHUNK_DAYS * WORDS * sizeof(uint64_t));
    /* Absences of a counter, closures of a place (counter_id 0). */
    rc = store_query(c, a,
                     "SELECT place_id, counter_id, start_day, start_min, "
                     "end_day, end_min FROM rdv_absences WHERE insee = ? "
                     "AND end_day >= ? AND start_day <= ?",
                     p, 3, &r, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++) {
        int64_t place = store_int(r, i, 0), counter = store_int(r, i, 1);
        int64_t sd = store_int(r, i, 2), ed = store_int(r, i, 4);
        int sm = (int)store_int(r, i, 3), em = (int)store_int(r, i, 5);

        for (size_t k = 0; k < s->nk; k++) {
            if (counter ? s->k[k].id != counter : s->k[k].place_id != place)
                continue;
            for (int64_t d = sd > s->cfrom ? sd : s->cfrom;
                 d <= ed && d <= s->cto; d++) {
                int m0 = d == sd ? sm : 0, m1 = d == ed ? em : 1440;

                mark(busy_row(s, k, d), m0 / RDV_UNIT_MIN, rdv_units_of(m1));
            }
        }
    }
    if (rules_only || s->nk == 0)
        return 0;

    /* Booked units of lane 0, on the counters searched (PK prefix). */
    struct gu_buf sql;
    struct store_val *v = gu_arena_alloc(a, (s->nk + 2) * sizeof(*v));

    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    gu_buf_init(&sql);
    gu_buf_puts(&sql, "SELECT counter_id, day, unit FROM rdv_units WHERE "
                      "lane = 0 AND day BETWEEN ? AND ? AND counter_id IN (");
    v[0] = STORE_I(s->cfrom);
    v[1] = STORE_I(s->cto);
    for (size_t k = 0; k < s->nk; k++) {
        gu_buf_puts(&sql, k ? ", ?" : "?");
        v[k + 2] = STORE_I(s->k[k].id);
    }
    gu_buf_puts(&sql, ")");
    if (sql.oom) {
        gu_buf_fini(&sql);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    rc = store_query(c, a, sql.p, v, s->nk + 2, &r, err);
    gu_buf_fini(&sql);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++) {
        int k = counter_index(s, store_int(r, i, 0));
        int64_t d = store_int(r, i, 1);
        int u = (int)store_int(r, i, 2);

        if (k < 0 || d < s->cfrom || d > s->cto || u < 0 || u >= UNITS_PER_DAY)
            continue;
        mark(busy_row(s, (size_t)k, d), u, u + 1);
    }
    return 0;
}

static bool
range_applies(const struct krange *g, int64_t day, int weekday)
{
    if (g->weekday != weekday || day < g->from ||
        (g->until != 0 && day > g->until))
        return false;
    if (g->every == 2 && ((day - g->anchor) / 7) % 2 != 0)
        return false;
    return true;
}

int
rdv_slots_find(struct store_conn *c, struct gu_arena *a,
               const struct rdv_slot_query *q, bool rules_only,
               int64_t counter_id, struct rdv_slot **out, size_t *n,
               struct gu_err *err)
{
    struct rdv_commune_ctx cc;
    struct rdv_motif m;
    struct search s;
    struct rdv_slot *res = NULL;
    struct cand *cands = NULL, *sorted = NULL;
    size_t nres = 0, cap_res, cap_cand = 0;
    int64_t now, today, earliest, eday, last_day;
    int nowmin, emin, minutes, need, step;
    int rc;

    *out = NULL;
    *n = 0;
    memset(&s, 0, sizeof(s));
    if ((rc = check_query(q, err)) < 0)
        return rc;
    rc = rdv_motif_get(c, a, q->insee, q->motif_id, &m, err);
    if (rc < 0)
        return rc;
    if (!m.active || (m.audience == RDV_AGENTS_ONLY && !q->agent))
        return gu_err_set(err, GU_ENOTFOUND, "motif", "Motif introuvable.",
                          "motif %lld inactive or agents only",
                          (long long)m.id);
    if (q->people < 1 || q->people > m.max_people) {
        char msg[160];

        snprintf(msg, sizeof(msg),
                 "Pour ce motif, un rendez-vous concerne de 1 à %d "
                 "personne%s.",
                 m.max_people, m.max_people > 1 ? "s" : "");
        return gu_err_set(err, GU_EINVAL, "people", msg, "bad people %d",
                          q->people);
    }
    if ((rc = rdv_commune_ctx(c, a, q->insee, &cc, err)) < 0)
        return rc;

    now = q->now ? q->now : gu_now();
    gu_tz_from_utc(cc.tz, now, &today, &nowmin);
    earliest = now + (q->agent ? 0 : (int64_t)m.min_delay_h * 3600);
    gu_tz_from_utc(cc.tz, earliest, &eday, &emin);
    last_day = today + m.max_delay_d;
    s.from = q->from_day > eday ? q->from_day : eday;
    s.to = q->to_day < last_day ? q->to_day : last_day;
    /* Results grow as found: a search for 5,000 slots that finds 20
       does not pay for 5,000. */
    cap_res = q->limit < 256 ? (size_t)q->limit : 256;
    res = gu_arena_alloc(a, sizeof(*res) * cap_res);
    if (!res)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    *out = res;
    if (s.from > s.to)
        return 0;

    minutes = rdv_booking_minutes(&m, q->people);
    need = rdv_units_of(minutes);
    step = need * RDV_UNIT_MIN;
    if ((rc = load_counters(c, a, q, counter_id, &s, err)) < 0 ||
        (rc = load_ranges(c, a, q, &s, err)) < 0)
        return rc;
    s.busy = gu_arena_alloc(a, (s.nk ? s.nk : 1) * CHUNK_DAYS * WORDS *
                                   sizeof(uint64_t));
    if (!s.busy)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    s.cfrom = s.from;
    s.cto = s.from - 1; /* no chunk loaded yet */

    for (int64_t day = s.from; day <= s.to && nres < (size_t)q->limit; day++) {
        int wd = gu_day_weekday(day);
        size_t nd = 0, bucket[UNITS_PER_DAY + 1];

        if (gu_holiday(day, cc.rules))
            continue;
        if (day > s.cto) {
            s.cfrom = day;
            s.cto = day + CHUNK_DAYS - 1 < s.to ? day + CHUNK_DAYS - 1 : s.to;
            if ((rc = load_busy(c, a, q, rules_only, &s, err)) < 0)
                return rc;
        }
        for (size_t i = 0; i < s.ng; i++) {
            const struct krange *g = &s.g[i];
            const uint64_t *row;

            if (!range_applies(g, day, wd))
                continue;
            row = busy_row(&s, g->k, day);
            for (int st = g->start; st + minutes <= g->end; st += step) {
                if (day == eday && gu_tz_to_utc(cc.tz, day, st) < earliest)
                    continue;
                if (!all_free(row, st / RDV_UNIT_MIN, need))
                    continue;
                if (nd == cap_cand) {
                    size_t ncap = cap_cand ? cap_cand * 2 : 256;
                    struct cand *nv = gu_arena_alloc(a, ncap * sizeof(*nv));
                    struct cand *ns = gu_arena_alloc(a, ncap * sizeof(*ns));

                    if (!nv || !ns)
                        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
                    if (nd)
                        memcpy(nv, cands, nd * sizeof(*nv));
                    cands = nv;
                    sorted = ns;
                    cap_cand = ncap;
                }
                cands[nd].unit = st / RDV_UNIT_MIN;
                cands[nd].g = i;
                nd++;
            }
        }
        if (nd == 0)
            continue;
        /* Counting sort on the start unit; stable, so each bucket keeps
           the ranges' (place, counter) order. */
        memset(bucket, 0, sizeof(bucket));
        for (size_t i = 0; i < nd; i++)
            bucket[cands[i].unit + 1]++;
        for (int u = 0; u < UNITS_PER_DAY; u++)
            bucket[u + 1] += bucket[u];
        for (size_t i = 0; i < nd; i++)
            sorted[bucket[cands[i].unit]++] = cands[i];
        for (size_t i = 0; i < nd && nres < (size_t)q->limit; i++) {
            const struct krange *g = &s.g[sorted[i].g];
            struct rdv_slot x = {.place_id = g->place_id,
                                 .counter_id = g->counter_id,
                                 .day = day,
                                 .start_min = sorted[i].unit * RDV_UNIT_MIN,
                                 .end_min =
                                     sorted[i].unit * RDV_UNIT_MIN + minutes};

            if (nres > 0) {
                const struct rdv_slot *y = &res[nres - 1];

                if (y->day == x.day && y->start_min == x.start_min &&
                    y->place_id == x.place_id &&
                    (q->one_per_time || y->counter_id == x.counter_id))
                    continue;
            }
            if (nres == cap_res) {
                size_t ncap = cap_res * 2 < (size_t)q->limit ? cap_res * 2
                                                             : (size_t)q->limit;
                struct rdv_slot *nv = gu_arena_alloc(a, ncap * sizeof(*nv));

                if (!nv)
                    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
                memcpy(nv, res, nres * sizeof(*nv));
                res = nv;
                cap_res = ncap;
                *out = res;
            }
            res[nres++] = x;
        }
    }
    *out = res;
    *n = nres;
    return 0;
}

int
rdv_slots(struct store_conn *c, struct gu_arena *a,
          const struct rdv_slot_query *q, struct rdv_slot **out, size_t *n,
          struct gu_err *err)
{
    return rdv_slots_find(c, a, q, false, 0, out, n, err);
}
