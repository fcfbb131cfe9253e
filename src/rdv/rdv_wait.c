/*
 * rdv_wait.c - the waiting list (see rdv.h).
 *
 * A resident who wants an earlier slot joins the list (an "attente" token
 * manages the entry). The job rdv.waitlist (rdv_wait_run, every minute):
 *   1. releases expired offers: a HELD booking whose hold_until passed
 *      loses its units and is cancelled; its entry goes back to 'attente',
 *      or to 'expiré' once it had rdv.max_offers offers;
 *   2. for each waiting entry, oldest first, looks for the first free
 *      slot before the day the resident asked for and HOLDS it: a booking
 *      with status RDV_HELD, hold_until = now + rdv.offer_hours, and its
 *      units (so nobody else takes it meanwhile), then e-mails the offer
 *      with an "offre" token valid until hold_until.
 * Accepting turns the hold into a confirmed booking (its own "gestion"
 * token, the confirmation e-mail, ANTS declarations); leaving releases a
 * hold. Each step is one transaction, so the job and a resident acting at
 * the same moment never both win: the one whose UPDATE still finds the
 * hold does.
 *
 * Waiting-list statuses are the schema's French words: attente, proposé,
 * accepté, expiré, retiré.
 */
#include "rdv/rdv_internal.h"
#include "rdv/rdv_ants.h"

#include <stdio.h>
#include <string.h>

#define WAIT_PER_EMAIL_MAX 5 /* active entries of one address */
#define WAIT_PER_COMMUNE_MAX 20000
#define RUN_BATCH 500 /* entries looked at per run */
#define MSG_NOTFOUND "Ce lien n'est pas valide ou a expiré."

/* ------------------------------------------------------------------ */
/* Join                                                                */
/* ------------------------------------------------------------------ */

static int
count1(struct store_conn *c, struct gu_arena *a, const char *sql,
       const struct store_val *p, size_t n, int64_t *out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    int rc = store_query(c, a, sql, p, n, &r, err);

    if (rc == 0)
        *out = store_int(r, 0, 0);
    return rc;
}

int
rdv_wait_join(struct store_conn *c, const struct gu_config *cfg,
              const struct rdv_wait_req *r, struct rdv_booked *out,
              struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    char ants[RDV_ANTS_IDS_MAX * 11 + 1];
    struct rdv_commune_ctx cc;
    struct rdv_motif m;
    struct store_rows *rows = NULL;
    int64_t now = gu_now(), today, before, count = 0;
    size_t nids = 0;
    int nowmin, rc;

    (void)cfg;
    memset(out, 0, sizeof(*out));
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if (!r->insee || !store_insee_valid(r->insee)) {
        rc = gu_err_set(err, GU_EINVAL, "c", "Code de commune invalide.",
                        "bad insee");
        goto out;
    }
    /* The waiting list is for residents: public motifs only. */
    rc = rdv_bookable_motif(c, a, r->insee, r->motif_id, r->people, false, &m,
                            err);
    if (rc < 0)
        goto out;
    if ((rc = rdv_check_text(r->name, "name", "Le nom", true, RDV_NAME_MAX,
                             false, err)) < 0 ||
        (rc = rdv_check_email(r->email, err)) < 0 ||
        (rc = rdv_check_phone(r->phone, err)) < 0)
        goto out;
    if (!r->email || !*r->email) {
        rc = gu_err_set(err, GU_EINVAL, "email",
                        "Indiquez votre adresse électronique : c'est par "
                        "courriel que le créneau libéré vous sera proposé.",
                        "wait: no email");
        goto out;
    }
    if (!r->consent) {
        rc = gu_err_set(err, GU_EINVAL, "consent",
                        "Merci d'accepter l'utilisation de vos coordonnées "
                        "pour la liste d'attente.",
                        "no consent");
        goto out;
    }
    if ((rc = rdv_ants_list(r->ants_ids, ants, sizeof(ants), NULL, &nids,
                            err)) < 0)
        goto out;
    if (m.ants != RDV_ANTS_NONE && nids == 0) {
        rc = gu_err_set(err, GU_EINVAL, "ants_ids",
                        "Indiquez le numéro de pré-demande ANTS (10 lettres "
                        "ou chiffres) de chaque personne.",
                        "wait: ants id missing");
        goto out;
    }
    if (m.ants == RDV_ANTS_NONE)
        ants[0] = '\0';
    if (r->place_id != 0) {
        struct rdv_place pl;

        rc = rdv_place_get(c, a, r->insee, r->place_id, &pl, err);
        if (rc == GU_ENOTFOUND)
            rc = gu_err_set(err, GU_EINVAL, "place",
                            "Ce lieu n'existe pas dans la commune.",
                            "wait: bad place");
        if (rc < 0)
            goto out;
    }
    if ((rc = rdv_commune_ctx(c, a, r->insee, &cc, err)) < 0)
        goto out;
    gu_tz_from_utc(cc.tz, now, &today, &nowmin);
    before = r->before_day;
    if (before == 0) {
        /* "Earlier than what the search shows now": the first free day
           today, or any slot at all when there is none. */
        struct rdv_slot_query q = {.insee = r->insee,
                                   .motif_id = m.id,
                                   .place_ids =
                                       r->place_id ? &r->place_id : NULL,
                                   .nplaces = r->place_id ? 1 : 0,
                                   .from_day = today,
                                   .to_day = today + m.max_delay_d,
                                   .people = r->people,
                                   .limit = 1,
                                   .one_per_time = true,
                                   .now = now};
        struct rdv_slot *v = NULL;
        size_t n = 0;

        rc = rdv_slots(c, a, &q, &v, &n, err);
        if (rc < 0)
            goto out;
        before = n ? v[0].day : today + m.max_delay_d + 1;
    }
    if (before <= today + 1 && r->before_day != 0) {
        rc = gu_err_set(err, GU_EINVAL, "before_day",
                        "La date souhaitée doit être au moins après-demain.",
                        "wait: before_day too early");
        goto out;
    }
    if (before > today + RDV_SEARCH_DAYS_MAX) {
        rc = gu_err_set(err, GU_EINVAL, "before_day",
                        "La date souhaitée doit être dans moins d'un an.",
                        "wait: before_day too far");
        goto out;
    }

    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    {
        struct store_val p[2] = {STORE_T(r->insee), STORE_T(r->email)};

        rc = count1(c, a,
                    "SELECT COUNT(*) FROM rdv_waitlist WHERE insee = ? AND "
                    "email = ? AND status IN ('attente', 'proposé')",
                    p, 2, &count, err);
        if (rc == 0 && count >= WAIT_PER_EMAIL_MAX)
            rc = gu_err_set(err, GU_ETOOBIG, "email",
                            "Cette adresse est déjà inscrite cinq fois sur la"
                            " liste d'attente.",
                            "wait: too many entries for one address");
        if (rc == 0)
            rc = count1(c, a,
                        "SELECT COUNT(*) FROM rdv_waitlist WHERE insee = ? "
                        "AND status IN ('attente', 'proposé')",
                        p, 1, &count, err);
        if (rc == 0 && count >= WAIT_PER_COMMUNE_MAX)
            rc = gu_err_set(err, GU_ETOOBIG, NULL,
                            "La liste d'attente est complète pour le moment :"
                            " merci d'appeler la mairie.",
                            "wait: list full");
        if (rc < 0)
            goto rollback;
    }
    {
        struct store_val p[12] = {STORE_T(r->insee),
                                  STORE_I(m.id),
                                  STORE_I(r->place_id),
                                  STORE_I(r->people),
                                  STORE_T(r->name),
                                  STORE_T(r->email),
                                  STORE_T(r->phone ? r->phone : ""),
                                  STORE_T(ants),
                                  STORE_I(before),
                                  STORE_I(now),
                                  STORE_I(now)};
        rc = store_query(c, a,
                         "INSERT INTO rdv_waitlist (insee, motif_id, "
                         "place_id, people, name, email, phone, ants_ids, "
                         "before_day, created_at, updated_at) VALUES "
                         "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                         p, 11, &rows, err);
        if (rc < 0)
            goto rollback;
        out->id = store_int(rows, 0, 0);
    }
    if ((rc = rdv_token_new(c, r->insee, 0, out->id, "attente", 0, out->token,
                            err)) < 0)
        goto rollback;
    {
        char detail[80];

        snprintf(detail, sizeof(detail), "wait=%lld motif=%s before=%lld",
                 (long long)out->id, m.code, (long long)before);
        if ((rc = store_audit_add(c, r->insee, "public", "rdv.wait.join", "",
                                  detail, gu_log_request_id(), err)) < 0)
            goto rollback;
    }
    rc = store_commit(c, err);
    if (rc < 0)
        goto rollback;
    goto out;
rollback:
    store_rollback(c);
    memset(out, 0, sizeof(*out));
out:
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Entries by token                                                    */
/* ------------------------------------------------------------------ */

struct entry {
    int64_t id, motif_id, place_id, before_day, booking_id;
    char insee[6];
    int people, offers;
    const char *status, *name, *email, *phone, *ants_ids;
};

#define ENTRY_COLS                                                             \
    "w.id, w.insee, w.motif_id, w.place_id, w.people, w.before_day, "          \
    "w.status, w.offers, w.booking_id, w.name, w.email, w.phone, w.ants_ids"

static void
entry_row(const struct store_rows *r, size_t i, struct entry *e)
{
    memset(e, 0, sizeof(*e));
    e->id = store_int(r, i, 0);
    rdv_insee_copy(e->insee, store_text(r, i, 1));
    e->motif_id = store_int(r, i, 2);
    e->place_id = store_int(r, i, 3);
    e->people = (int)store_int(r, i, 4);
    e->before_day = store_int(r, i, 5);
    e->status = store_text(r, i, 6);
    e->offers = (int)store_int(r, i, 7);
    e->booking_id = store_int(r, i, 8);
    e->name = store_text(r, i, 9);
    e->email = store_text(r, i, 10);
    e->phone = store_text(r, i, 11);
    e->ants_ids = store_text(r, i, 12);
}

static int
entry_by_token(struct store_conn *c, struct gu_arena *a, const char *token,
               struct entry *e, struct gu_err *err)
{
    struct store_rows *r = NULL;
    char hash[65];
    int rc;

    if (!token || strlen(token) != RDV_TOKEN_LEN)
        return gu_err_set(err, GU_ENOTFOUND, NULL, MSG_NOTFOUND,
                          "wait: bad token");
    gu_token_hash(token, hash);
    struct store_val p[2] = {STORE_T(hash), STORE_I(gu_now())};
    rc = store_query(c, a,
                     "SELECT " ENTRY_COLS " FROM rdv_tokens t "
                     "JOIN rdv_waitlist w ON w.id = t.wait_id "
                     "AND w.insee = t.insee WHERE t.hash = ? "
                     "AND t.wait_id <> 0 AND t.kind IN ('attente', 'offre') "
                     "AND (t.expires_at = 0 OR t.expires_at > ?) "
                     "AND w.status <> 'retiré'",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL, MSG_NOTFOUND,
                          "wait: unknown token");
    entry_row(r, 0, e);
    return 0;
}

/* Release a hold: units deleted, booking cancelled (if still held). */
static int
release_hold(struct store_conn *c, int64_t booking_id, int64_t now,
             struct gu_err *err)
{
    struct store_val p[1] = {STORE_I(booking_id)};
    struct store_val q[3] = {STORE_I(RDV_CANCELLED), STORE_I(now),
                             STORE_I(booking_id)};
    int64_t changes = 0;
    int rc;

    rc = store_exec_changes(c,
                            "UPDATE rdv_bookings SET status = ?, "
                            "updated_at = ?, hold_until = 0 WHERE id = ? "
                            "AND status = 0",
                            q, 3, &changes, err);
    if (rc == 0 && changes > 0)
        rc = store_exec(c, "DELETE FROM rdv_units WHERE booking_id = ?", p, 1,
                        err);
    return rc;
}

int
rdv_wait_accept(struct store_conn *c, const struct gu_config *cfg,
                const char *token, struct rdv_booked *out, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct entry e;
    struct rdv_booking b;
    int64_t now = gu_now(), changes = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = entry_by_token(c, a, token, &e, err)) < 0)
        goto out;
    if (strcmp(e.status, "proposé") != 0 || e.booking_id == 0) {
        rc = gu_err_set(
            err, strcmp(e.status, "accepté") == 0 ? GU_ECONFLICT : GU_EINVAL,
            NULL,
            strcmp(e.status, "accepté") == 0
                ? "Vous avez déjà accepté ce rendez-vous : le "
                  "lien pour le gérer est dans votre courriel."
                : "Aucun créneau ne vous est proposé pour le "
                  "moment : vous recevrez un courriel dès qu'un "
                  "créneau se libère.",
            "wait accept: status %s", e.status);
        goto out;
    }
    if ((rc = rdv_get(c, a, e.insee, e.booking_id, &b, err)) < 0)
        goto out;
    /* ANTS: numbers refused or a check that cannot be made block; an
       appointment elsewhere does not (the resident asked to be here). */
    if (*b.ants_ids && cfg && rdv_ants_enabled(cfg)) {
        char ids[RDV_ANTS_IDS_MAX][11], canon[RDV_ANTS_IDS_MAX * 11 + 1];
        size_t n = 0;

        rc = rdv_ants_list(b.ants_ids, canon, sizeof(canon), ids, &n, err);
        if (rc == 0)
            rc = rdv_ants_precheck(cfg, a, ids, n, true, err);
        if (rc < 0)
            goto out;
    }
    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    {
        struct store_val p[4] = {STORE_I(RDV_CONFIRMED), STORE_I(now),
                                 STORE_I(e.booking_id), STORE_I(now)};

        rc = store_exec_changes(c,
                                "UPDATE rdv_bookings SET status = ?, "
                                "hold_until = 0, updated_at = ? WHERE id = ? "
                                "AND status = 0 AND hold_until > ?",
                                p, 4, &changes, err);
    }
    if (rc < 0)
        goto rollback;
    if (changes == 0) {
        rc = gu_err_set(err, GU_ECONFLICT, NULL,
                        "Cette proposition a expiré : le créneau a été "
                        "proposé à une autre personne. Vous restez sur la "
                        "liste d'attente si vous n'avez pas atteint le "
                        "nombre maximal de propositions.",
                        "wait accept: hold expired");
        goto rollback;
    }
    {
        struct store_val p[2] = {STORE_I(now), STORE_I(e.id)};

        rc = store_exec(c,
                        "UPDATE rdv_waitlist SET status = 'accepté', "
                        "updated_at = ? WHERE id = ?",
                        p, 2, err);
    }
    if (rc < 0 ||
        (rc = rdv_token_new(c, e.insee, e.booking_id, 0, "gestion", 0,
                            out->token, err)) < 0 ||
        (rc = rdv_get(c, a, e.insee, e.booking_id, &b, err)) < 0 ||
        (rc = rdv_notify(c, cfg, &b, "rdv.confirm", out->token, err)) < 0)
        goto rollback;
    if (*b.ants_ids && cfg && rdv_ants_enabled(cfg) &&
        (rc = rdv_ants_queue(c, &b, "declare",
                             rdv_manage_url(a, cfg, NULL, out->token), err)) <
            0)
        goto rollback;
    if ((rc = rdv_audit(c, e.insee, "public", "rdv.wait.accept", e.booking_id,
                        "", err)) < 0)
        goto rollback;
    rc = store_commit(c, err);
    if (rc < 0)
        goto rollback;
    out->id = e.booking_id;
    goto out;
rollback:
    store_rollback(c);
    memset(out, 0, sizeof(*out));
out:
    gu_arena_free(a);
    return rc;
}

int
rdv_wait_leave(struct store_conn *c, const char *token, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct entry e;
    int64_t now = gu_now();
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = entry_by_token(c, a, token, &e, err)) < 0)
        goto out;
    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    /* An offer being declined frees its slot at once. */
    if (strcmp(e.status, "proposé") == 0 && e.booking_id &&
        (rc = release_hold(c, e.booking_id, now, err)) < 0)
        goto rollback;
    {
        struct store_val p[2] = {STORE_I(now), STORE_I(e.id)};

        rc = store_exec(c,
                        "UPDATE rdv_waitlist SET status = 'retiré', "
                        "updated_at = ? WHERE id = ?",
                        p, 2, err);
    }
    if (rc < 0)
        goto rollback;
    {
        char detail[40];

        snprintf(detail, sizeof(detail), "wait=%lld", (long long)e.id);
        rc = store_audit_add(c, e.insee, "public", "rdv.wait.leave", "", detail,
                             gu_log_request_id(), err);
    }
    if (rc < 0)
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

/* ------------------------------------------------------------------ */
/* The job                                                             */
/* ------------------------------------------------------------------ */

/* 1. Offers whose time is up: release, then back to the queue or out. */
static int
expire_holds(struct store_conn *c, struct gu_arena *a, int max_offers,
             int64_t now, int64_t **expired, size_t *count, struct gu_err *err)
{
    struct store_val p[1] = {STORE_I(now)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT id, wait_id FROM rdv_bookings WHERE status = 0 "
                     "AND hold_until <= ? ORDER BY id LIMIT 1000",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    *expired = gu_arena_alloc(a, (r->nrows ? r->nrows : 1) * sizeof(int64_t));
    if (!*expired)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++) {
        int64_t bid = store_int(r, i, 0), wid = store_int(r, i, 1);

        if ((rc = store_begin(c, err)) < 0)
            return rc;
        rc = release_hold(c, bid, now, err);
        if (rc == 0 && wid) {
            struct store_val q[4] = {STORE_I(max_offers), STORE_I(now),
                                     STORE_I(wid), STORE_I(bid)};

            rc = store_exec(c,
                            "UPDATE rdv_waitlist SET status = CASE WHEN "
                            "offers >= ? THEN 'expiré' ELSE 'attente' END, "
                            "booking_id = 0, updated_at = ? WHERE id = ? "
                            "AND booking_id = ? AND status = 'proposé'",
                            q, 4, err);
        }
        if (rc == 0)
            rc = store_commit(c, err);
        if (rc < 0) {
            store_rollback(c);
            return rc;
        }
        (*expired)[(*count)++] = wid;
    }
    return 0;
}

/* 2. One waiting entry: hold the first free slot before its day. */
static int
offer_one(struct store_conn *c, struct gu_arena *a, const struct gu_config *cfg,
          const struct entry *e, int max_offers, int64_t now, bool *offered,
          struct gu_err *err)
{
    int hours = (int)gu_config_int(cfg, "rdv.offer_hours");
    struct rdv_commune_ctx cc;
    struct rdv_motif m;
    struct rdv_slot *v = NULL;
    struct rdv_booking b;
    struct store_rows *rows = NULL;
    char token[RDV_TOKEN_LEN + 1], detail[120];
    int64_t today, hold_until = now + (int64_t)hours * 3600, bid;
    size_t n = 0;
    int nowmin, rc;

    *offered = false;
    if ((rc = rdv_commune_ctx(c, a, e->insee, &cc, err)) < 0)
        return rc;
    gu_tz_from_utc(cc.tz, now, &today, &nowmin);
    rc = rdv_motif_get(c, a, e->insee, e->motif_id, &m, err);
    if (rc == GU_ENOTFOUND || (rc == 0 && !m.active) ||
        e->offers >= max_offers || e->before_day <= today) {
        /* Nothing can be offered any more: the entry ends. */
        struct store_val p[2] = {STORE_I(now), STORE_I(e->id)};

        return store_exec(c,
                          "UPDATE rdv_waitlist SET status = 'expiré', "
                          "updated_at = ? WHERE id = ? AND status = "
                          "'attente'",
                          p, 2, err);
    }
    if (rc < 0)
        return rc;
    struct rdv_slot_query q = {.insee = e->insee,
                               .motif_id = m.id,
                               .place_ids = e->place_id ? &e->place_id : NULL,
                               .nplaces = e->place_id ? 1 : 0,
                               .from_day = today,
                               .to_day = e->before_day - 1,
                               .people = e->people,
                               .limit = 1,
                               .one_per_time = true,
                               .now = now};
    if (q.to_day - q.from_day >= RDV_SEARCH_DAYS_MAX)
        q.to_day = q.from_day + RDV_SEARCH_DAYS_MAX - 1;
    rc = rdv_slots(c, a, &q, &v, &n, err);
    if (rc == GU_EINVAL) {
        gu_err_clear(err);
        return 0; /* e.g. more people than the motif now allows: wait */
    }
    if (rc < 0 || n == 0)
        return rc;

    if ((rc = store_begin(c, err)) < 0)
        return rc;
    {
        struct store_val p[17] = {
            STORE_T(e->insee),      STORE_I(m.id),
            STORE_I(v[0].place_id), STORE_I(v[0].counter_id),
            STORE_I(v[0].day),      STORE_I(v[0].start_min),
            STORE_I(v[0].end_min),  STORE_I(e->people),
            STORE_T(e->name),       STORE_T(e->email),
            STORE_T(e->phone),      STORE_T(e->ants_ids),
            STORE_I(RDV_HELD),      STORE_I(now),
            STORE_I(now),           STORE_I(hold_until),
            STORE_I(e->id)};
        rc = store_query(c, a,
                         "INSERT INTO rdv_bookings (insee, motif_id, "
                         "place_id, counter_id, day, start_min, end_min, "
                         "people, name, email, phone, ants_ids, status, "
                         "channel, created_by, created_at, updated_at, "
                         "hold_until, wait_id) VALUES (?, ?, ?, ?, ?, ?, ?, "
                         "?, ?, ?, ?, ?, ?, 0, 'liste-attente', ?, ?, ?, ?) "
                         "RETURNING id",
                         p, 17, &rows, err);
    }
    if (rc < 0)
        goto rollback;
    bid = store_int(rows, 0, 0);
    rc = rdv_units_insert(c, a, e->insee, bid, v[0].counter_id, v[0].day,
                          v[0].start_min, v[0].end_min, 0, err);
    if (rc == GU_ECONFLICT) {
        /* Booked between the search and now: next run. */
        store_rollback(c);
        gu_err_clear(err);
        return 0;
    }
    if (rc < 0)
        goto rollback;
    {
        struct store_val p[3] = {STORE_I(bid), STORE_I(now), STORE_I(e->id)};
        int64_t changes = 0;

        /* The entry is ours only if it still waits: another node's run
         * (several share the database) may have made its offer since our
         * read, or the resident left the list. */
        rc = store_exec_changes(c,
                                "UPDATE rdv_waitlist SET status = 'proposé', "
                                "offers = offers + 1, booking_id = ?, "
                                "updated_at = ? WHERE id = ? AND status = "
                                "'attente'",
                                p, 3, &changes, err);
        if (rc == 0 && changes != 1) {
            store_rollback(c);
            return 0;
        }
    }
    if (rc < 0 ||
        (rc = rdv_token_new(c, e->insee, bid, e->id, "offre", hold_until, token,
                            err)) < 0 ||
        (rc = rdv_get(c, a, e->insee, bid, &b, err)) < 0 ||
        (rc = rdv_notify(c, cfg, &b, "rdv.offer", token, err)) < 0)
        goto rollback;
    snprintf(detail, sizeof(detail), "wait=%lld offer=%d hold_until=%lld",
             (long long)e->id, e->offers + 1, (long long)hold_until);
    if ((rc = rdv_audit(c, e->insee, "systeme", "rdv.wait.offer", bid, detail,
                        err)) < 0)
        goto rollback;
    rc = store_commit(c, err);
    if (rc < 0)
        goto rollback;
    *offered = true;
    return 0;
rollback:
    store_rollback(c);
    return rc;
}

int
rdv_wait_run_at(struct store *s, const struct gu_config *cfg, int64_t now,
                struct gu_err *err)
{
    int max_offers = (int)gu_config_int(cfg, "rdv.max_offers");
    struct store_conn *c = NULL;
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    int64_t *expired = NULL;
    size_t nexpired = 0;
    int offers = 0, rc;

    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
    a = gu_arena_new(0);
    if (!a) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    if ((rc = expire_holds(c, a, max_offers, now, &expired, &nexpired, err)) <
        0)
        goto out;
    struct store_val lim[1] = {STORE_I(RUN_BATCH)};
    rc = store_query(c, a,
                     "SELECT " ENTRY_COLS " FROM rdv_waitlist w WHERE "
                     "w.status = 'attente' ORDER BY w.id LIMIT ?",
                     lim, 1, &r, err);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < r->nrows && !notify_job_should_stop(); i++) {
        struct gu_arena *one = gu_arena_new(0);
        struct entry e;
        bool offered = false;

        if (!one) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            goto out;
        }
        entry_row(r, i, &e);
        /* An offer that just lapsed goes to the next person first: its
           entry waits for the next run. */
        bool lapsed = false;
        for (size_t k = 0; k < nexpired && !lapsed; k++)
            lapsed = expired[k] == e.id;
        if (lapsed) {
            gu_arena_free(one);
            continue;
        }
        rc = offer_one(c, one, cfg, &e, max_offers, now, &offered, err);
        gu_arena_free(one);
        if (rc < 0)
            goto out;
        offers += offered;
    }
    rc = offers;
out:
    gu_arena_free(a);
    store_release(c);
    return rc;
}

int
rdv_wait_run(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    return rdv_wait_run_at(s, cfg, gu_now(), err);
}
