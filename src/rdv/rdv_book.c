/*
 * rdv_book.c - bookings (see rdv.h): book, move, cancel, status, confirm,
 * tokens, reads and the agenda.
 *
 * The guarantee against double booking is the database's: a booking
 * inserts one rdv_units row per unit it holds, primary key (counter_id,
 * day, unit, lane), in the same transaction as the booking row, its
 * token, its e-mail (notify outbox), its ANTS declarations and its audit
 * entry. A unit already taken makes the insert fail with GU_ECONFLICT and
 * the whole transaction is rolled back: nothing half-done, no e-mail for
 * a booking that is not stored.
 *
 * Everything that can be checked before the transaction is (the rules of
 * the slot, the resident's details, the ANTS coordination API, the risk
 * score), so the write lock is held only for a handful of inserts.
 */
#include "rdv/rdv_internal.h"
#include "rdv/rdv_ants.h"
#include "rdv/rdv_risk.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define AGENDA_MAX 20000
#define MSG_TAKEN "Ce créneau vient d'être réservé par quelqu'un d'autre."
#define MSG_NOTFOUND "Ce lien n'est pas valide ou a expiré."

/* ------------------------------------------------------------------ */
/* Reading bookings                                                    */
/* ------------------------------------------------------------------ */

int
rdv_bookable_motif(struct store_conn *c, struct gu_arena *a,
                   const char *insee, int64_t motif_id, int people, bool agent,
                   struct rdv_motif *m, struct gu_err *err)
{
    int rc = rdv_motif_get(c, a, insee, motif_id, m, err);

    if (rc == GU_ENOTFOUND || (rc == 0 && !m->active) ||
        (rc == 0 && m->audience == RDV_AGENTS_ONLY && !agent))
        return gu_err_set(err, GU_EINVAL, "motif",
                          "Ce motif de rendez-vous n'existe pas ou ne se "
                          "réserve pas en ligne.",
                          "motif unknown, inactive or agents only");
    if (rc < 0)
        return rc;
    if (people < 1 || people > m->max_people) {
        char msg[160];

        snprintf(msg, sizeof(msg),
                 "Pour ce motif, un rendez-vous concerne de 1 à %d "
                 "personne%s.",
                 m->max_people, m->max_people > 1 ? "s" : "");
        return gu_err_set(err, GU_EINVAL, "people", msg, "bad people");
    }
    return 0;
}

/* Never NULL: a joined name may be missing (a row read by a LEFT JOIN). */
static const char *
nz(const char *s)
{
    return s ? s : "";
}

void
rdv_booking_row(const struct store_rows *r, size_t i, struct rdv_booking *b)
{
    memset(b, 0, sizeof(*b));
    b->id = store_int(r, i, 0);
    rdv_insee_copy(b->insee, nz(store_text(r, i, 1)));
    b->motif_id = store_int(r, i, 2);
    b->place_id = store_int(r, i, 3);
    b->counter_id = store_int(r, i, 4);
    b->day = store_int(r, i, 5);
    b->start_min = (int)store_int(r, i, 6);
    b->end_min = (int)store_int(r, i, 7);
    b->people = (int)store_int(r, i, 8);
    b->name = nz(store_text(r, i, 9));
    b->email = nz(store_text(r, i, 10));
    b->phone = nz(store_text(r, i, 11));
    b->ants_ids = nz(store_text(r, i, 12));
    b->status = (enum rdv_status)store_int(r, i, 13);
    b->channel = (enum rdv_channel)store_int(r, i, 14);
    b->created_by = nz(store_text(r, i, 15));
    b->created_at = store_int(r, i, 16);
    b->confirmed_at = store_int(r, i, 17);
    b->reminded_at = store_int(r, i, 18);
    b->reminders = (int)store_int(r, i, 19);
    b->risk = store_real(r, i, 20);
    b->moved_from = store_int(r, i, 21);
    b->lane = (int)store_int(r, i, 22);
    b->hold_until = store_int(r, i, 23);
    b->note = nz(store_text(r, i, 24));
    b->motif_name = nz(store_text(r, i, 25));
    b->place_name = nz(store_text(r, i, 26));
    b->counter_name = nz(store_text(r, i, 27));
}

int
rdv_get(struct store_conn *c, struct gu_arena *a, const char *insee, int64_t id,
        struct rdv_booking *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT " RDV_BOOKING_COLS RDV_BOOKING_FROM
                     " WHERE b.id = ? AND b.insee = ?",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "id", "Rendez-vous introuvable.",
                          "no booking %lld in %s", (long long)id,
                          insee ? insee : "");
    rdv_booking_row(r, 0, out);
    return 0;
}

int
rdv_agenda(struct store_conn *c, struct gu_arena *a,
           const struct rdv_agenda_query *q, struct rdv_booking **out,
           size_t *n, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct rdv_booking *v;
    int rc;

    *out = NULL;
    *n = 0;
    if (!q->insee || !store_insee_valid(q->insee))
        return gu_err_set(err, GU_EINVAL, "c", "Code de commune invalide.",
                          "bad insee");
    if (q->from_day > q->to_day)
        return gu_err_set(err, GU_EINVAL, "to",
                          "La fin de la période doit être après son début.",
                          "from > to");
    if (q->to_day - q->from_day >= RDV_SEARCH_DAYS_MAX)
        return gu_err_set(err, GU_EINVAL, "to",
                          "La période dépasse un an : choisissez des dates "
                          "plus proches.",
                          "period too long");
    struct store_val p[9] = {
        STORE_T(q->insee),       STORE_I(q->from_day),
        STORE_I(q->to_day),      STORE_I(q->place_id),
        STORE_I(q->place_id),    STORE_I(q->counter_id),
        STORE_I(q->counter_id),  STORE_I(q->with_cancelled ? 1 : 0),
        STORE_I(AGENDA_MAX + 1),
    };
    rc = store_query(c, a,
                     "SELECT " RDV_BOOKING_COLS RDV_BOOKING_FROM
                     " WHERE b.insee = ? AND b.day BETWEEN ? AND ?"
                     " AND (? = 0 OR b.place_id = ?)"
                     " AND (? = 0 OR b.counter_id = ?)"
                     " AND (? = 1 OR b.status <> 2)"
                     " ORDER BY b.day, b.start_min, p.name, k.name, b.lane,"
                     " b.id LIMIT ?",
                     p, 9, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows > AGENDA_MAX)
        return gu_err_set(err, GU_ETOOBIG, "to",
                          "Trop de rendez-vous sur cette période : "
                          "choisissez une période plus courte.",
                          "agenda too big");
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        rdv_booking_row(r, i, &v[i]);
    *out = v;
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */
/* ------------------------------------------------------------------ */

bool
rdv_token_shape(const char *t)
{
    return gu_token_shape(t, RDV_TOKEN_LEN);
}

int
rdv_token_new(struct store_conn *c, const char *insee, int64_t booking_id,
              int64_t wait_id, const char *kind, int64_t expires_at,
              char out[RDV_TOKEN_LEN + 1], struct gu_err *err)
{
    static const char *const kinds[] = {"gestion", "rappel", "offre",
                                        "attente"};
    char hash[65];
    bool known = false;
    int rc;

    out[0] = '\0';
    for (size_t i = 0; i < GU_ARRAY_LEN(kinds) && kind; i++)
        known = known || strcmp(kind, kinds[i]) == 0;
    if (!known || (booking_id == 0 && wait_id == 0) || !insee)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "rdv_token_new: bad kind or owner");
    /* 32 random bytes: 256 bits, 43 URL-safe characters. */
    rc = gu_random_token(out, RDV_TOKEN_LEN + 1, 32);
    if (rc < 0 || strlen(out) != RDV_TOKEN_LEN)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "random token");
    gu_token_hash(out, hash);
    struct store_val p[7] = {
        STORE_T(hash), STORE_T(insee),    STORE_I(booking_id), STORE_I(wait_id),
        STORE_T(kind), STORE_I(gu_now()), STORE_I(expires_at)};
    rc = store_exec(c,
                    "INSERT INTO rdv_tokens (hash, insee, booking_id, "
                    "wait_id, kind, created_at, expires_at) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?)",
                    p, 7, err);
    if (rc < 0)
        out[0] = '\0';
    return rc;
}

int
rdv_by_token(struct store_conn *c, struct gu_arena *a, const char *token,
             struct rdv_booking *out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    char hash[65];
    int rc;

    if (!rdv_token_shape(token))
        return gu_err_set(err, GU_ENOTFOUND, NULL, MSG_NOTFOUND,
                          "bad token shape");
    gu_token_hash(token, hash);
    struct store_val p[2] = {STORE_T(hash), STORE_I(gu_now())};
    /* Booking links only (gestion, rappel): an offer's token leads to the
       waiting-list entry, not to a booking that is not the person's yet. */
    rc = store_query(c, a,
                     "SELECT " RDV_BOOKING_COLS RDV_BOOKING_FROM
                     " JOIN rdv_tokens t ON t.booking_id = b.id"
                     " AND t.insee = b.insee"
                     " WHERE t.hash = ? AND t.kind IN ('gestion', 'rappel')"
                     " AND (t.expires_at = 0 OR t.expires_at > ?)"
                     " AND b.anonymised_at = 0",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL, MSG_NOTFOUND,
                          "unknown or expired token");
    rdv_booking_row(r, 0, out);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */
/* ------------------------------------------------------------------ */

int
rdv_ants_id_check(const char *in, char *out, size_t cap, struct gu_err *err)
{
    size_t k = 0;

    if (cap < 11)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "ants id cap");
    out[0] = '\0';
    for (const char *p = in ? in : ""; *p; p++) {
        unsigned char ch = (unsigned char)*p;

        if (ch == ' ' || ch == '\t' || ch == '-')
            continue;
        ch = (unsigned char)toupper(ch);
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) ||
            k >= 10) {
            k = 11;
            break;
        }
        out[k++] = (char)ch;
    }
    if (k != 10) {
        out[0] = '\0';
        return gu_err_set(err, GU_EINVAL, "ants_ids",
                          "Numéro de pré-demande invalide : il compte 10 "
                          "lettres ou chiffres (exemple : AB12CD34EF), "
                          "indiqué sur votre récapitulatif ANTS.",
                          "bad ants id");
    }
    out[10] = '\0';
    return 0;
}

/*
 * Parse a list of pré-demande numbers (commas, semicolons or new lines
 * between numbers; spaces inside one number ignored, or between numbers
 * when each piece is one). Canonical "AB12CD34EF,..." into buf; *n the
 * count; ids[] (may be NULL) the numbers.
 */
int
rdv_ants_list(const char *in, char *buf, size_t cap,
              char ids[RDV_ANTS_IDS_MAX][11], size_t *n, struct gu_err *err)
{
    const char *p = in ? in : "";
    size_t len = 0;
    int rc;

    *n = 0;
    buf[0] = '\0';
    if (strlen(p) > RDV_ANTS_IDS_MAX * 40)
        return gu_err_set(err, GU_EINVAL, "ants_ids",
                          "Liste de numéros de pré-demande trop longue.",
                          "ants list too long");
    while (*p) {
        char piece[RDV_ANTS_IDS_MAX * 40 + 1], one[11];
        size_t k = 0;

        while (*p && !strchr(",;\n\r", *p) && k + 1 < sizeof(piece))
            piece[k++] = *p++;
        piece[k] = '\0';
        if (*p)
            p++;
        if (gu_str_trim(gu_str_c(piece)).n == 0)
            continue;
        /* One number, spaces inside it, or several separated by spaces. */
        struct gu_err e1;
        const char *items[RDV_ANTS_IDS_MAX + 1];
        size_t nitems = 0;
        char *save = piece;

        gu_err_clear(&e1);
        if (rdv_ants_id_check(piece, one, sizeof(one), &e1) == 0) {
            items[0] = one;
            nitems = 1;
        } else {
            char *q = save;

            while (*q) {
                while (*q == ' ' || *q == '\t')
                    *q++ = '\0';
                if (!*q)
                    break;
                if (nitems >= RDV_ANTS_IDS_MAX)
                    return gu_err_set(err, GU_EINVAL, "ants_ids",
                                      "Au plus 10 numéros de pré-demande "
                                      "par rendez-vous.",
                                      "too many ants ids");
                items[nitems++] = q;
                while (*q && *q != ' ' && *q != '\t')
                    q++;
            }
        }
        for (size_t i = 0; i < nitems; i++) {
            char canon[11];

            rc = rdv_ants_id_check(items[i], canon, sizeof(canon), err);
            if (rc < 0)
                return rc;
            if (strstr(buf, canon))
                continue; /* the same number twice */
            if (*n >= RDV_ANTS_IDS_MAX)
                return gu_err_set(err, GU_EINVAL, "ants_ids",
                                  "Au plus 10 numéros de pré-demande par "
                                  "rendez-vous.",
                                  "too many ants ids");
            if (ids)
                memcpy(ids[*n], canon, 11);
            (*n)++;
            int w =
                snprintf(buf + len, cap - len, "%s%s", len ? "," : "", canon);
            if (w < 0 || (size_t)w >= cap - len)
                return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "ants buf");
            len += (size_t)w;
        }
    }
    return 0;
}

/* Candidate counters for (place, day, start): the rules, not bookings. */
static int
candidates(struct store_conn *c, struct gu_arena *a, const char *insee,
           int64_t motif_id, int64_t place_id, int64_t counter_id, int64_t day,
           int start_min, int people, bool agent, int64_t now, int64_t **out,
           size_t *n, struct gu_err *err)
{
    struct rdv_slot_query q;
    struct rdv_slot *v = NULL;
    size_t nv = 0;
    int64_t *ids;
    int rc;

    memset(&q, 0, sizeof(q));
    q.insee = insee;
    q.motif_id = motif_id;
    q.place_ids = &place_id;
    q.nplaces = 1;
    q.from_day = day;
    q.to_day = day;
    q.people = people;
    q.limit = RDV_SLOTS_MAX;
    q.agent = agent;
    q.now = now;
    rc = rdv_slots_find(c, a, &q, true, counter_id, &v, &nv, err);
    if (rc < 0)
        return rc;
    ids = gu_arena_alloc(a, (nv ? nv : 1) * sizeof(*ids));
    if (!ids)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    *n = 0;
    for (size_t i = 0; i < nv; i++) {
        if (v[i].start_min == start_min)
            ids[(*n)++] = v[i].counter_id;
    }
    *out = ids;
    return 0;
}

/* Why (place, day, start) is not a slot, in French, for the resident. */
static int
no_slot(struct store_conn *c, struct gu_arena *a, const char *insee,
        int64_t motif_id, int64_t place_id, int64_t day, int start_min,
        int64_t now, struct gu_err *err)
{
    struct rdv_commune_ctx cc;
    struct rdv_place *pl = NULL;
    size_t np = 0;
    bool offered = false;
    int rc;

    rc = rdv_motif_places(c, a, insee, motif_id, &pl, &np, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < np; i++)
        offered = offered || pl[i].id == place_id;
    if (!offered)
        return gu_err_set(err, GU_EINVAL, "place",
                          "Ce motif de rendez-vous n'est pas proposé dans ce "
                          "lieu.",
                          "motif not offered at place");
    rc = rdv_commune_ctx(c, a, insee, &cc, err);
    if (rc < 0)
        return rc;
    if (gu_tz_to_utc(cc.tz, day, start_min) < now)
        return gu_err_set(err, GU_EINVAL, "start",
                          "Ce créneau est déjà passé : choisissez-en un "
                          "autre.",
                          "slot in the past");
    return gu_err_set(err, GU_EINVAL, "start",
                      "Ce créneau n'est pas proposé pour ce motif (hors des "
                      "horaires d'ouverture, jour férié, fermeture ou délai "
                      "de réservation) : choisissez un créneau dans la "
                      "liste.",
                      "not a slot");
}

/*
 * Insert the units of booking `id` on `counter`, lane `lane`, in one
 * statement: GU_ECONFLICT if any is taken (the statement is undone, the
 * transaction goes on).
 */
int
rdv_units_insert(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t id, int64_t counter, int64_t day, int start_min,
                 int end_min, int lane, struct gu_err *err)
{
    int u0 = start_min / RDV_UNIT_MIN, u1 = rdv_units_of(end_min);
    int nu = u1 - u0;
    struct store_val *v;
    struct gu_buf sql;
    int rc;

    if (nu <= 0 || u1 > 1440 / RDV_UNIT_MIN)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "bad unit span");
    v = gu_arena_alloc(a, (size_t)nu * 6 * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    gu_buf_init(&sql);
    gu_buf_puts(&sql, "INSERT INTO rdv_units (counter_id, day, unit, lane, "
                      "booking_id, insee) VALUES ");
    for (int i = 0; i < nu; i++) {
        gu_buf_puts(&sql, i ? ", (?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?)");
        v[i * 6 + 0] = STORE_I(counter);
        v[i * 6 + 1] = STORE_I(day);
        v[i * 6 + 2] = STORE_I(u0 + i);
        v[i * 6 + 3] = STORE_I(lane);
        v[i * 6 + 4] = STORE_I(id);
        v[i * 6 + 5] = STORE_T(insee);
    }
    if (sql.oom) {
        gu_buf_fini(&sql);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    rc = store_exec(c, sql.p, v, (size_t)nu * 6, err);
    gu_buf_fini(&sql);
    return rc;
}

static int
set_counter(struct store_conn *c, int64_t id, int64_t counter, int lane,
            struct gu_err *err)
{
    struct store_val p[3] = {STORE_I(counter), STORE_I(lane), STORE_I(id)};

    return store_exec(c,
                      "UPDATE rdv_bookings SET counter_id = ?, lane = ? "
                      "WHERE id = ?",
                      p, 3, err);
}

/*
 * May an overbooking lane be used on (counter, day, span)? Only when each
 * lane-0 booking holding a unit of the span has a known no-show risk >=
 * rdv.overbook_risk %. Never used to refuse anyone: it only adds a place.
 */
static int
overbook_allowed(struct store_conn *c, struct gu_arena *a,
                 const struct gu_config *cfg, int64_t counter, int64_t day,
                 int start_min, int end_min, bool *ok, struct gu_err *err)
{
    double min_risk = (double)gu_config_int(cfg, "rdv.overbook_risk") / 100.0;
    struct store_val p[4] = {STORE_I(counter), STORE_I(day),
                             STORE_I(start_min / RDV_UNIT_MIN),
                             STORE_I(rdv_units_of(end_min) - 1)};
    struct store_rows *r = NULL;
    int rc;

    *ok = false;
    rc = store_query(c, a,
                     "SELECT DISTINCT b.risk FROM rdv_units u "
                     "JOIN rdv_bookings b ON b.id = u.booking_id "
                     "WHERE u.counter_id = ? AND u.day = ? AND u.lane = 0 "
                     "AND u.unit BETWEEN ? AND ?",
                     p, 4, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return 0;
    for (size_t i = 0; i < r->nrows; i++) {
        if (store_real(r, i, 0) < 0 || store_real(r, i, 0) < min_risk)
            return 0;
    }
    *ok = true;
    return 0;
}

/*
 * Take the units of booking `id` on the first candidate counter that has
 * them free (lane 0), else on an overbooking lane when the motif allows
 * it. On success the booking row says which counter and lane.
 */
static int
take_units(struct store_conn *c, struct gu_arena *a,
           const struct gu_config *cfg, const struct rdv_motif *m,
           const char *insee, int64_t id, const int64_t *cand, size_t ncand,
           int64_t day, int start_min, int end_min, int64_t *counter_out,
           int *lane_out, struct gu_err *err)
{
    int rc = GU_ECONFLICT;

    for (size_t i = 0; i < ncand; i++) {
        rc = rdv_units_insert(c, a, insee, id, cand[i], day, start_min, end_min,
                              0, err);
        if (rc == 0) {
            *counter_out = cand[i];
            *lane_out = 0;
            /* The row was written with the first candidate, lane 0. */
            return i == 0 ? 0 : set_counter(c, id, cand[i], 0, err);
        }
        if (rc != GU_ECONFLICT)
            return rc;
    }
    for (size_t i = 0; i < ncand && m->overbook_max > 0 && cfg; i++) {
        bool ok = false;

        rc = overbook_allowed(c, a, cfg, cand[i], day, start_min, end_min, &ok,
                              err);
        if (rc < 0)
            return rc;
        for (int lane = 1; ok && lane <= m->overbook_max; lane++) {
            rc = rdv_units_insert(c, a, insee, id, cand[i], day, start_min,
                                  end_min, lane, err);
            if (rc == 0) {
                *counter_out = cand[i];
                *lane_out = lane;
                return set_counter(c, id, cand[i], lane, err);
            }
            if (rc != GU_ECONFLICT)
                return rc;
        }
    }
    return gu_err_set(err, GU_ECONFLICT, "start", MSG_TAKEN, "slot taken");
}

const char *
rdv_manage_url(struct gu_arena *a, const struct gu_config *cfg,
               const char *public_url, const char *token)
{
    const char *base =
        public_url && *public_url
            ? public_url
            : (cfg ? gu_config_str(cfg, "server.public_url") : "");
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/')
        n--;
    return gu_arena_sprintf(a, "%.*s/rdv/r/%s", (int)n, base, token);
}

int
rdv_audit(struct store_conn *c, const char *insee, const char *actor,
          const char *action, int64_t id, const char *detail,
          struct gu_err *err)
{
    char target[32];

    snprintf(target, sizeof(target), "rdv:%lld", (long long)id);
    return store_audit_add(c, insee, actor && *actor ? actor : "public", action,
                           target, detail ? detail : "", gu_log_request_id(),
                           err);
}

/* ------------------------------------------------------------------ */
/* Book                                                                */
/* ------------------------------------------------------------------ */

static int
check_person(const char *name, const char *email, const char *phone,
             struct gu_err *err)
{
    int rc;

    if ((rc = rdv_check_text(name, "name", "Le nom", true, RDV_NAME_MAX, false,
                             err)) < 0 ||
        (rc = rdv_check_email(email, err)) < 0 ||
        (rc = rdv_check_phone(phone, err)) < 0)
        return rc;
    if ((!email || !*email) && (!phone || !*phone))
        return gu_err_set(err, GU_EINVAL, "email",
                          "Indiquez une adresse électronique ou un numéro "
                          "de téléphone, pour recevoir la confirmation et le "
                          "rappel.",
                          "no contact");
    return 0;
}

/* The ANTS coordination check, before any write (fail closed). */
int
rdv_ants_precheck(const struct gu_config *cfg, struct gu_arena *a,
                  char ids[RDV_ANTS_IDS_MAX][11], size_t n, bool override,
                  struct gu_err *err)
{
    const char *ptrs[RDV_ANTS_IDS_MAX];
    enum rdv_ants_state st = RDV_ANTS_OK;
    const char *detail = NULL;
    int rc;

    if (!cfg || n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        ptrs[i] = ids[i];
    rc = rdv_ants_check(cfg, a, ptrs, n, &st, &detail, err);
    /* rdv.h names it GU_EUNAVAILABLE; core's code for it is GU_EBUSY. */
    if (rc == GU_EBUSY || rc == GU_EIO) {
        return gu_err_set(err, GU_EBUSY, "ants_ids",
                          "La vérification de votre numéro de pré-demande "
                          "auprès de l'ANTS est impossible pour le moment : "
                          "merci de réessayer dans quelques minutes, ou "
                          "d'appeler la mairie.",
                          "ants check unavailable (%s)", err->msg);
    }
    if (rc < 0)
        return rc;
    if (st == RDV_ANTS_REFUSED) {
        char msg[256];

        snprintf(msg, sizeof(msg), "%s",
                 detail && *detail
                     ? detail
                     : "Ce numéro de pré-demande n'est pas valide auprès de "
                       "l'ANTS (inconnu, déjà utilisé ou expiré) : vérifiez-"
                       "le sur votre récapitulatif.");
        return gu_err_set(err, GU_EINVAL, "ants_ids", msg, "ants refused");
    }
    if (st == RDV_ANTS_ELSEWHERE && !override) {
        char msg[256];

        snprintf(msg, sizeof(msg), "%s",
                 detail && *detail
                     ? detail
                     : "Un rendez-vous existe déjà ailleurs pour ce numéro "
                       "de pré-demande. Confirmez si vous souhaitez tout de "
                       "même réserver celui-ci.");
        return gu_err_set(err, GU_ECONFLICT, "ants_override", msg,
                          "ants: appointment elsewhere");
    }
    return 0;
}

int
rdv_book(struct store_conn *c, const struct gu_config *cfg,
         const struct rdv_book_req *r, struct rdv_booked *out,
         struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    char ants[RDV_ANTS_IDS_MAX * 11 + 1], ids[RDV_ANTS_IDS_MAX][11];
    char hash[65] = "", detail[200];
    struct rdv_motif m;
    struct rdv_booking b;
    struct store_rows *rows = NULL;
    int64_t *cand = NULL, now, counter = 0;
    size_t ncand = 0, nids = 0;
    int minutes, lane = 0, rc;

    memset(out, 0, sizeof(*out));
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    now = r->now ? r->now : gu_now();
    if (!r->insee || !store_insee_valid(r->insee)) {
        rc = gu_err_set(err, GU_EINVAL, "c", "Code de commune invalide.",
                        "bad insee");
        goto out;
    }
    rc = rdv_bookable_motif(c, a, r->insee, r->motif_id, r->people, r->agent,
                            &m, err);
    if (rc < 0)
        goto out;
    if ((rc = check_person(r->name, r->email, r->phone, err)) < 0 ||
        (rc = rdv_check_text(r->note, "note", "La note", false, RDV_TEXT_MAX,
                             true, err)) < 0)
        goto out;
    if (!r->agent && !r->consent) {
        rc = gu_err_set(err, GU_EINVAL, "consent",
                        "Merci d'accepter l'utilisation de vos coordonnées "
                        "pour la gestion de ce rendez-vous.",
                        "no consent");
        goto out;
    }
    if (r->start_min < 0 || r->start_min >= 1440 ||
        r->start_min % RDV_UNIT_MIN != 0 || r->day < RDV_DAY_MIN ||
        r->day > RDV_DAY_MAX) {
        rc = gu_err_set(err, GU_EINVAL, "start",
                        "Date ou heure de rendez-vous invalide.", "bad start");
        goto out;
    }
    rc = rdv_ants_list(r->ants_ids, ants, sizeof(ants), ids, &nids, err);
    if (rc < 0)
        goto out;
    if (m.ants != RDV_ANTS_NONE && nids == 0 && r->channel == RDV_WEB &&
        !r->agent) {
        rc = gu_err_set(err, GU_EINVAL, "ants_ids",
                        "Indiquez le numéro de pré-demande ANTS (10 lettres "
                        "ou chiffres) de chaque personne : il figure sur le "
                        "récapitulatif de votre pré-demande en ligne.",
                        "ants id missing");
        goto out;
    }
    if (m.ants != RDV_ANTS_NONE && nids > (size_t)r->people) {
        rc = gu_err_set(err, GU_EINVAL, "ants_ids",
                        "Il y a plus de numéros de pré-demande que de "
                        "personnes : un numéro par personne.",
                        "more ants ids than people");
        goto out;
    }
    if (m.ants == RDV_ANTS_NONE) {
        ants[0] = '\0'; /* only CNI/passeport motifs keep them */
        nids = 0;
    }

    /* The slot, by the rules (bookings are settled by the database). */
    rc = candidates(c, a, r->insee, m.id, r->place_id, r->counter_id, r->day,
                    r->start_min, r->people, r->agent, now, &cand, &ncand, err);
    if (rc == GU_EINVAL && strcmp(err->field, "place") == 0)
        goto out;
    if (rc < 0)
        goto out;
    if (ncand == 0) {
        rc = no_slot(c, a, r->insee, m.id, r->place_id, r->day, r->start_min,
                     now, err);
        goto out;
    }

    /* ANTS anti-duplicate check, before writing: residents, whatever
       their channel (the web page, the assistant, the phone robot), when
       they gave numbers; agents at the counter check the papers. */
    if (m.ants != RDV_ANTS_NONE && nids > 0 && !r->agent) {
        rc = rdv_ants_precheck(cfg, a, ids, nids, r->ants_override, err);
        if (rc < 0)
            goto out;
    }

    minutes = rdv_booking_minutes(&m, r->people);
    memset(&b, 0, sizeof(b));
    rdv_insee_copy(b.insee, r->insee);
    b.motif_id = m.id;
    b.place_id = r->place_id;
    b.counter_id = cand[0];
    b.day = r->day;
    b.start_min = r->start_min;
    b.end_min = r->start_min + minutes;
    b.people = r->people;
    b.name = r->name;
    b.email = r->email ? r->email : "";
    b.phone = r->phone ? r->phone : "";
    b.ants_ids = ants;
    b.status = RDV_CONFIRMED;
    b.channel = r->channel;
    b.created_by = r->actor && *r->actor ? r->actor : "public";
    b.created_at = now;
    b.note = r->note ? r->note : "";
    b.risk = rdv_risk(c, a, &b, NULL);
    (void)rdv_person_hash(r->insee, b.email, b.phone, hash);

    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    struct store_val p[20] = {
        STORE_T(b.insee),      STORE_I(b.motif_id), STORE_I(b.place_id),
        STORE_I(b.counter_id), STORE_I(b.day),      STORE_I(b.start_min),
        STORE_I(b.end_min),    STORE_I(b.people),   STORE_T(b.name),
        STORE_T(b.email),      STORE_T(b.phone),    STORE_T(hash),
        STORE_T(b.ants_ids),   STORE_I(b.status),   STORE_I(b.channel),
        STORE_T(b.created_by), STORE_I(now),        STORE_I(now),
        STORE_D(b.risk),       STORE_T(b.note)};
    rc = store_query(c, a,
                     "INSERT INTO rdv_bookings (insee, motif_id, place_id, "
                     "counter_id, day, start_min, end_min, people, name, "
                     "email, phone, person_hash, ants_ids, status, channel, "
                     "created_by, created_at, updated_at, risk, note) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                     "?, ?, ?) RETURNING id",
                     p, 20, &rows, err);
    if (rc < 0)
        goto rollback;
    b.id = store_int(rows, 0, 0);
    rc = take_units(c, a, cfg, &m, r->insee, b.id, cand, ncand, b.day,
                    b.start_min, b.end_min, &counter, &lane, err);
    if (rc < 0)
        goto rollback;
    rc = rdv_token_new(c, r->insee, b.id, 0, "gestion", 0, out->token, err);
    if (rc < 0)
        goto rollback;
    rc = rdv_get(c, a, r->insee, b.id, &b, err);
    if (rc < 0)
        goto rollback;
    rc = rdv_notify(c, cfg, &b, "rdv.confirm", out->token, err);
    if (rc < 0)
        goto rollback;
    if (nids > 0 && cfg && rdv_ants_enabled(cfg)) {
        rc = rdv_ants_queue(c, &b, "declare",
                            rdv_manage_url(a, cfg, r->public_url, out->token),
                            err);
        if (rc < 0)
            goto rollback;
    }
    /* No personal data in the journal: ids, slot, lane, risk. */
    snprintf(detail, sizeof(detail),
             "motif=%s place=%lld counter=%lld day=%lld start=%d people=%d "
             "channel=%s lane=%d risk=%d",
             m.code, (long long)b.place_id, (long long)counter,
             (long long)b.day, b.start_min, b.people,
             rdv_channel_name(b.channel), lane,
             b.risk < 0 ? -1 : (int)(b.risk * 100 + 0.5));
    rc = rdv_audit(c, r->insee, b.created_by, "rdv.book", b.id, detail, err);
    if (rc < 0)
        goto rollback;
    rc = store_commit(c, err);
    if (rc < 0)
        goto rollback;
    out->id = b.id;
    goto out;
rollback:
    store_rollback(c);
    memset(out, 0, sizeof(*out));
out:
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Move, cancel, status, confirm                                       */
/* ------------------------------------------------------------------ */

/* May a resident still change this booking? (agents always may) */
static int
resident_may_change(struct store_conn *c, struct gu_arena *a,
                    const struct rdv_booking *b, const struct rdv_motif *m,
                    int64_t now, bool cancel, struct gu_err *err)
{
    struct rdv_commune_ctx cc;
    int64_t at;
    int rc;

    rc = rdv_commune_ctx(c, a, b->insee, &cc, err);
    if (rc < 0)
        return rc;
    at = gu_tz_to_utc(cc.tz, b->day, b->start_min);
    if (at <= now)
        return gu_err_set(err, GU_EINVAL, "start",
                          "Ce rendez-vous est déjà passé.", "booking past");
    if (!m->changeable)
        return gu_err_set(err, GU_EPERM, NULL,
                          "Ce rendez-vous ne peut pas être modifié ou annulé "
                          "en ligne : merci d'appeler la mairie.",
                          "motif not changeable");
    /* A late cancellation still frees the slot: only moves have a limit. */
    if (!cancel && at - (int64_t)m->change_until_h * 3600 < now) {
        char msg[200];

        snprintf(msg, sizeof(msg),
                 "Ce rendez-vous ne peut plus être déplacé en ligne moins de"
                 " %d heures avant : merci d'appeler la mairie.",
                 m->change_until_h);
        return gu_err_set(err, GU_EPERM, NULL, msg, "too late to move");
    }
    return 0;
}

static int
delete_units(struct store_conn *c, int64_t id, struct gu_err *err)
{
    struct store_val p[1] = {STORE_I(id)};

    return store_exec(c, "DELETE FROM rdv_units WHERE booking_id = ?", p, 1,
                      err);
}

int
rdv_move(struct store_conn *c, const struct gu_config *cfg, const char *insee,
         int64_t id, int64_t place_id, int64_t day, int start_min, bool agent,
         const char *actor, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_booking b, nb;
    struct rdv_motif m;
    int64_t *cand = NULL, now = gu_now(), counter = 0;
    size_t ncand = 0;
    char detail[160];
    int lane = 0, rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = rdv_get(c, a, insee, id, &b, err)) < 0 ||
        (rc = rdv_motif_get(c, a, insee, b.motif_id, &m, err)) < 0)
        goto out;
    if (b.status != RDV_CONFIRMED) {
        rc = gu_err_set(err, GU_EINVAL, "id",
                        "Seul un rendez-vous confirmé peut être déplacé.",
                        "move: status %d", (int)b.status);
        goto out;
    }
    if (!agent && (rc = resident_may_change(c, a, &b, &m, now, false, err)) < 0)
        goto out;
    if (start_min < 0 || start_min >= 1440 || start_min % RDV_UNIT_MIN ||
        day < RDV_DAY_MIN || day > RDV_DAY_MAX) {
        rc = gu_err_set(err, GU_EINVAL, "start",
                        "Date ou heure de rendez-vous invalide.", "bad start");
        goto out;
    }
    rc = candidates(c, a, insee, m.id, place_id, 0, day, start_min, b.people,
                    agent, now, &cand, &ncand, err);
    if (rc < 0)
        goto out;
    if (ncand == 0) {
        rc = no_slot(c, a, insee, m.id, place_id, day, start_min, now, err);
        goto out;
    }
    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    /* The old units go first, so a move by a few minutes can overlap. */
    if ((rc = delete_units(c, id, err)) < 0)
        goto rollback;
    {
        int end = start_min + (b.end_min - b.start_min);
        /* take_units() leaves the row alone when the first candidate
           counter is free: write it here, on lane 0. */
        struct store_val p[7] = {STORE_I(place_id), STORE_I(cand[0]),
                                 STORE_I(day),      STORE_I(start_min),
                                 STORE_I(end),      STORE_I(now),
                                 STORE_I(id)};

        rc = store_exec(c,
                        "UPDATE rdv_bookings SET place_id = ?, "
                        "counter_id = ?, lane = 0, day = ?, start_min = ?, "
                        "end_min = ?, updated_at = ?, confirmed_at = 0, "
                        "reminded_at = 0, reminders = 0 WHERE id = ?",
                        p, 7, err);
        if (rc < 0)
            goto rollback;
        rc = take_units(c, a, NULL, &m, insee, id, cand, ncand, day, start_min,
                        end, &counter, &lane, err);
        if (rc < 0)
            goto rollback;
    }
    if ((rc = rdv_get(c, a, insee, id, &nb, err)) < 0)
        goto rollback;
    if ((rc = rdv_notify(c, cfg, &nb, "rdv.move", NULL, err)) < 0)
        goto rollback;
    if (*b.ants_ids && cfg && rdv_ants_enabled(cfg)) {
        char tok[RDV_TOKEN_LEN + 1];

        rc = rdv_token_new(c, insee, id, 0, "gestion", 0, tok, err);
        if (rc == 0)
            rc = rdv_ants_queue(c, &b, "withdraw", "", err);
        if (rc == 0)
            rc = rdv_ants_queue(c, &nb, "declare",
                                rdv_manage_url(a, cfg, NULL, tok), err);
        if (rc < 0)
            goto rollback;
    }
    snprintf(detail, sizeof(detail),
             "from_day=%lld from_start=%d to_place=%lld to_counter=%lld "
             "to_day=%lld to_start=%d",
             (long long)b.day, b.start_min, (long long)place_id,
             (long long)counter, (long long)day, start_min);
    if ((rc = rdv_audit(c, insee, actor, "rdv.move", id, detail, err)) < 0)
        goto rollback;
    rc = store_commit(c, err);
    if (rc < 0)
        goto rollback;
    goto out;
rollback:
    store_rollback(c);
out:
    gu_arena_free(a);
    return rc;
}

int
rdv_cancel(struct store_conn *c, const struct gu_config *cfg, const char *insee,
           int64_t id, bool agent, const char *actor, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_booking b;
    struct rdv_motif m;
    int64_t now = gu_now();
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = rdv_get(c, a, insee, id, &b, err)) < 0 ||
        (rc = rdv_motif_get(c, a, insee, b.motif_id, &m, err)) < 0)
        goto out;
    if (b.status == RDV_CANCELLED) {
        rc = gu_err_set(err, GU_ECONFLICT, "id",
                        "Ce rendez-vous est déjà annulé.", "already cancelled");
        goto out;
    }
    if (b.status != RDV_CONFIRMED && b.status != RDV_HELD) {
        rc = gu_err_set(err, GU_EINVAL, "id",
                        "Ce rendez-vous a déjà eu lieu : il ne peut plus être "
                        "annulé.",
                        "cancel: status %d", (int)b.status);
        goto out;
    }
    if (!agent && (rc = resident_may_change(c, a, &b, &m, now, true, err)) < 0)
        goto out;
    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    {
        struct store_val p[3] = {STORE_I(RDV_CANCELLED), STORE_I(now),
                                 STORE_I(id)};

        rc = store_exec(c,
                        "UPDATE rdv_bookings SET status = ?, updated_at = ? "
                        "WHERE id = ?",
                        p, 3, err);
    }
    if (rc < 0 || (rc = delete_units(c, id, err)) < 0)
        goto rollback;
    if (b.status == RDV_HELD) {
        /* An agent withdrew a slot offered to the waiting list: the
           entry waits again instead of pointing at a dead offer. */
        struct store_val p[2] = {STORE_I(now), STORE_I(id)};

        rc = store_exec(c,
                        "UPDATE rdv_waitlist SET status = 'attente', "
                        "booking_id = 0, updated_at = ? WHERE booking_id = ? "
                        "AND status = 'proposé'",
                        p, 2, err);
        if (rc < 0)
            goto rollback;
    }
    /* A hold was never the person's booking: no mail, nothing declared. */
    bool was_held = b.status == RDV_HELD;
    b.status = RDV_CANCELLED;
    if (!was_held && (rc = rdv_notify(c, cfg, &b, "rdv.cancel", NULL, err)) < 0)
        goto rollback;
    if (!was_held && *b.ants_ids && cfg && rdv_ants_enabled(cfg) &&
        (rc = rdv_ants_queue(c, &b, "withdraw", "", err)) < 0)
        goto rollback;
    if ((rc = rdv_audit(c, insee, actor, "rdv.cancel", id,
                        agent ? "by=agent" : "by=resident", err)) < 0)
        goto rollback;
    rc = store_commit(c, err);
    if (rc < 0)
        goto rollback;
    goto out;
rollback:
    store_rollback(c);
out:
    gu_arena_free(a);
    return rc;
}

int
rdv_set_status(struct store_conn *c, const char *insee, int64_t id,
               enum rdv_status st, const char *actor, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_commune_ctx cc;
    struct rdv_booking b;
    int64_t today;
    int nowmin, rc;
    char detail[64];

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if (st != RDV_PRESENT && st != RDV_NOSHOW && st != RDV_EXCUSED) {
        rc = gu_err_set(err, GU_EINVAL, "status",
                        "Statut invalide : present, absent ou excuse.",
                        "bad status");
        goto out;
    }
    if ((rc = rdv_get(c, a, insee, id, &b, err)) < 0 ||
        (rc = rdv_commune_ctx(c, a, insee, &cc, err)) < 0)
        goto out;
    if (b.status != RDV_CONFIRMED && b.status != RDV_PRESENT &&
        b.status != RDV_NOSHOW && b.status != RDV_EXCUSED) {
        rc = gu_err_set(err, GU_EINVAL, "status",
                        "Ce rendez-vous est annulé ou n'est pas confirmé.",
                        "status change from %d", (int)b.status);
        goto out;
    }
    gu_tz_from_utc(cc.tz, gu_now(), &today, &nowmin);
    if (b.day > today) {
        rc = gu_err_set(err, GU_EINVAL, "status",
                        "La présence ne peut être notée que le jour du "
                        "rendez-vous ou après.",
                        "future booking");
        goto out;
    }
    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    {
        struct store_val p[3] = {STORE_I(st), STORE_I(gu_now()), STORE_I(id)};

        rc = store_exec(c,
                        "UPDATE rdv_bookings SET status = ?, updated_at = ? "
                        "WHERE id = ?",
                        p, 3, err);
    }
    snprintf(detail, sizeof(detail), "status=%s", rdv_status_name(st));
    if (rc == 0)
        rc = rdv_audit(c, insee, actor, "rdv.status", id, detail, err);
    if (rc == 0)
        rc = store_commit(c, err);
    if (rc < 0)
        store_rollback(c);
out:
    gu_arena_free(a);
    return rc;
}

int
rdv_confirm(struct store_conn *c, const char *insee, int64_t id,
            struct gu_err *err)
{
    int64_t now = gu_now(), changes = 0;
    struct store_val p[4] = {STORE_I(now), STORE_I(now), STORE_I(id),
                             STORE_T(insee)};
    int rc;

    /* Idempotent: the first confirmation's time is kept. */
    rc = store_exec_changes(c,
                            "UPDATE rdv_bookings SET confirmed_at = ?, "
                            "updated_at = ? WHERE id = ? AND insee = ? "
                            "AND status = 1 AND confirmed_at = 0",
                            p, 4, &changes, err);
    if (rc < 0 || changes > 0)
        return rc;
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_booking b;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = rdv_get(c, a, insee, id, &b, err);
    if (rc == 0 && b.status != RDV_CONFIRMED)
        rc = gu_err_set(err, GU_EINVAL, "id",
                        "Ce rendez-vous est annulé ou déjà passé.",
                        "confirm: status %d", (int)b.status);
    gu_arena_free(a);
    return rc;
}
