/*
 * rdv_pdata.c - what the appointment domain holds about a resident, for
 * the rights of access and erasure (RGPD art. 15 and 17; app_rights.c
 * calls these through the module list).
 *
 * A person is found by e-mail address (compared lowercased and trimmed)
 * or phone number (written any way: "06 12 34 56 78", "+33 6...", so a
 * LIKE on the last eight digits narrows the rows and pii_norm_phone()
 * decides), in bookings and waiting-list entries of one commune; the SMS
 * queue, the notification log, the tokens and the ANTS queue follow from
 * those rows.
 *
 * Erasure, inside the caller's transaction:
 *   - a booking still to come (confirmed or held) is cancelled properly:
 *     its units are freed (the slot goes back to the calendar and the
 *     waiting list), its ANTS declarations withdrawn; no e-mail goes out
 *     (the address is being forgotten);
 *   - every booking and entry is anonymised like the retention purge does
 *     (name, e-mail, phone, pré-demande numbers, note and person hash
 *     cleared, anonymised_at set): the row stays for statistics;
 *     open waiting-list entries are withdrawn;
 *   - tokens, queued SMS and the notification log of those rows are
 *     deleted; the ANTS queue keeps only what still has to be sent.
 */
#include "rdv/rdv_internal.h"
#include "privacy/privacy.h"

#include <stdio.h>
#include <string.h>

/* Rows of one table about one person: beyond this, something is wrong
 * (a shared address such as the mairie's own) and an agent must look. */
#define PDATA_MAX 5000

/* ------------------------------------------------------------------ */
/* Matching                                                            */
/* ------------------------------------------------------------------ */

/* "%1%2%3%4%5%6%7%8": the last eight digits, any separators between. */
static const char *
phone_like(struct gu_arena *a, const char *norm)
{
    size_t n = strlen(norm), k = n > 8 ? n - 8 : 0;
    char *p = gu_arena_alloc(a, 2 * 8 + 2);
    size_t o = 0;

    if (!p)
        return NULL;
    for (; k < n; k++) {
        p[o++] = '%';
        p[o++] = norm[k];
    }
    p[o] = '\0';
    return p;
}

/*
 * Ids of `table`'s rows of `insee` whose email/phone columns are the
 * person's (both columns read as `ecol`, `pcol`), in *ids.
 */
static int
match_rows(struct store_conn *c, struct gu_arena *a, const char *table,
           const char *insee, const char *email, const char *phone,
           int64_t **ids, size_t *n, struct gu_err *err)
{
    char sql[320];
    const char *like = phone ? phone_like(a, phone) : "";
    struct store_rows *r = NULL;
    int64_t *v;
    size_t k = 0;
    int rc;

    *ids = NULL;
    *n = 0;
    if (!like)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
    snprintf(sql, sizeof(sql),
             "SELECT id, email, phone FROM %s WHERE insee = ? AND "
             "((? <> '' AND lower(trim(email)) = ?) OR "
             "(? <> '' AND phone LIKE ?)) ORDER BY id LIMIT %d",
             table, PDATA_MAX + 1);
    {
        struct store_val p[] = {STORE_T(insee), STORE_T(email ? email : ""),
                                STORE_T(email ? email : ""),
                                STORE_T(like), STORE_T(like)};

        rc = store_query(c, a, sql, p, GU_ARRAY_LEN(p), &r, err);
    }
    if (rc < 0)
        return rc;
    if (r->nrows > PDATA_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL,
                          "Trop de rendez-vous correspondent à cette "
                          "personne : vérifiez l'adresse ou le numéro.",
                          "rdv pdata: over %d rows in %s", PDATA_MAX, table);
    v = gu_arena_alloc(a, (r->nrows + 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
    for (size_t i = 0; i < r->nrows; i++) {
        const char *e = store_text(r, i, 1), *p = store_text(r, i, 2);
        bool hit = false;

        if (email && e && *e) {
            const char *ne = pii_norm_email(a, e);

            hit = ne && strcmp(ne, email) == 0;
        }
        if (!hit && phone && p && *p) {
            const char *np = pii_norm_phone(a, p);

            hit = np && strcmp(np, phone) == 0;
        }
        if (hit)
            v[k++] = store_int(r, i, 0);
    }
    *ids = v;
    *n = k;
    return 0;
}

/* "(12,15)", a SQL IN list: ids are integers we read ourselves. */
static const char *
id_list(struct gu_arena *a, const int64_t *ids, size_t n)
{
    struct gu_buf b;
    char *s;

    gu_buf_init(&b);
    gu_buf_puts(&b, "(");
    for (size_t i = 0; i < n; i++)
        gu_buf_printf(&b, "%s%lld", i ? "," : "", (long long)ids[i]);
    if (n == 0)
        gu_buf_puts(&b, "-1"); /* matches nothing: not even the 0 that
                                  means "none" in link columns */
    gu_buf_puts(&b, ")");
    s = b.oom ? NULL : gu_arena_strndup(a, b.p, b.n);
    gu_buf_fini(&b);
    return s;
}

/* ------------------------------------------------------------------ */
/* Export                                                              */
/* ------------------------------------------------------------------ */

static json_t *
jstr(const char *s)
{
    json_t *j = json_string(s ? s : "");

    return j ? j : json_string("");
}

static json_t *
jday(int64_t day)
{
    char buf[16];

    if (day <= 0)
        return json_null();
    gu_day_iso(day, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *
jhm(int minute)
{
    char buf[8];

    snprintf(buf, sizeof(buf), "%02d:%02d", (minute / 60) % 100, minute % 60);
    return json_string(buf);
}

static int
export_bookings(struct store_conn *c, struct gu_arena *a, const char *insee,
                const int64_t *ids, size_t n, json_t *arr, struct gu_err *err)
{
    for (size_t i = 0; i < n; i++) {
        struct rdv_booking b;
        json_t *o;
        int rc = rdv_get(c, a, insee, ids[i], &b, err);

        if (rc < 0)
            return rc;
        o = json_object();
        json_object_set_new(o, "id", json_integer(b.id));
        json_object_set_new(o, "motif", jstr(b.motif_name));
        json_object_set_new(o, "lieu", jstr(b.place_name));
        json_object_set_new(o, "guichet", jstr(b.counter_name));
        json_object_set_new(o, "date", jday(b.day));
        json_object_set_new(o, "heure", jhm(b.start_min));
        json_object_set_new(o, "fin", jhm(b.end_min));
        json_object_set_new(o, "personnes", json_integer(b.people));
        json_object_set_new(o, "nom", jstr(b.name));
        json_object_set_new(o, "courriel", jstr(b.email));
        json_object_set_new(o, "telephone", jstr(b.phone));
        json_object_set_new(o, "numeros_predemande", jstr(b.ants_ids));
        json_object_set_new(o, "statut", jstr(rdv_status_name(b.status)));
        json_object_set_new(o, "canal", jstr(rdv_channel_name(b.channel)));
        json_object_set_new(o, "pris_par", jstr(b.created_by));
        json_object_set_new(o, "note", jstr(b.note));
        json_object_set_new(o, "cree_le", gu_json_time(b.created_at));
        json_object_set_new(o, "confirme_le", gu_json_time(b.confirmed_at));
        json_object_set_new(o, "rappels", json_integer(b.reminders));
        if (json_array_append_new(arr, o) < 0)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
    }
    return 0;
}

static int
export_waitlist(struct store_conn *c, struct gu_arena *a, const int64_t *ids,
                size_t n, json_t *arr, struct gu_err *err)
{
    struct store_rows *r = NULL;
    const char *in = id_list(a, ids, n);
    char *sql;
    int rc;

    if (!in)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
    sql = gu_arena_sprintf(
        a,
        "SELECT w.id, m.name, w.people, w.name, w.email, w.phone, "
        "w.ants_ids, w.before_day, w.status, w.offers, w.created_at, "
        "w.updated_at, coalesce(p.name, '') FROM rdv_waitlist w "
        "JOIN rdv_motifs m ON m.id = w.motif_id "
        "LEFT JOIN rdv_places p ON p.id = w.place_id WHERE w.id IN %s "
        "ORDER BY w.id",
        in);
    if (!sql)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
    if ((rc = store_query(c, a, sql, NULL, 0, &r, err)) < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++) {
        json_t *o = json_object();

        json_object_set_new(o, "id", json_integer(store_int(r, i, 0)));
        json_object_set_new(o, "motif", jstr(store_text(r, i, 1)));
        json_object_set_new(o, "lieu", jstr(store_text(r, i, 12)));
        json_object_set_new(o, "personnes", json_integer(store_int(r, i, 2)));
        json_object_set_new(o, "nom", jstr(store_text(r, i, 3)));
        json_object_set_new(o, "courriel", jstr(store_text(r, i, 4)));
        json_object_set_new(o, "telephone", jstr(store_text(r, i, 5)));
        json_object_set_new(o, "numeros_predemande",
                            jstr(store_text(r, i, 6)));
        json_object_set_new(o, "avant_le", jday(store_int(r, i, 7)));
        json_object_set_new(o, "statut", jstr(store_text(r, i, 8)));
        json_object_set_new(o, "propositions",
                            json_integer(store_int(r, i, 9)));
        json_object_set_new(o, "cree_le", gu_json_time(store_int(r, i, 10)));
        json_object_set_new(o, "modifie_le",
                            gu_json_time(store_int(r, i, 11)));
        if (json_array_append_new(arr, o) < 0)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
    }
    return 0;
}

/* SMS rows: the person's number, or one of their bookings. */
static int
sms_rows(struct store_conn *c, struct gu_arena *a, const char *insee,
         const char *phone, const char *bookings, struct store_rows **r,
         struct gu_err *err)
{
    const char *like = phone ? phone_like(a, phone) : "";
    char *sql = gu_arena_sprintf(
        a,
        "SELECT id, booking_id, phone, text, status, created_at FROM "
        "rdv_sms_queue WHERE insee = ? AND (booking_id IN %s OR "
        "(? <> '' AND phone LIKE ?)) ORDER BY id LIMIT %d",
        bookings, PDATA_MAX + 1);
    struct store_val p[] = {STORE_T(insee), STORE_T(like), STORE_T(like)};
    int rc;

    if (!sql || !like)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
    rc = store_query(c, a, sql, p, GU_ARRAY_LEN(p), r, err);
    if (rc < 0)
        return rc;
    if ((*r)->nrows > PDATA_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL,
                          "Trop de SMS correspondent à cette personne.",
                          "rdv pdata: too many sms");
    return 0;
}

/* Is SMS row i the person's (its number, or one of their bookings)? */
static bool
sms_is_theirs(struct gu_arena *a, const struct store_rows *r, size_t i,
              const char *phone, const int64_t *bids, size_t nb)
{
    const char *p = store_text(r, i, 2), *np;
    int64_t bid = store_int(r, i, 1);

    for (size_t k = 0; k < nb && bid; k++)
        if (bids[k] == bid)
            return true;
    np = phone && p ? pii_norm_phone(a, p) : NULL;
    return np && strcmp(np, phone) == 0;
}

int
rdv_pdata_export(struct store_conn *c, struct gu_arena *a, const char *insee,
                 const char *email, const char *phone, json_t *out,
                 struct gu_err *err)
{
    int64_t *bids = NULL, *wids = NULL;
    size_t nb = 0, nw = 0;
    struct store_rows *r = NULL;
    const char *bin;
    json_t *m = json_object(), *bk = json_array(), *wl = json_array(),
           *sms = json_array(), *log = json_array(), *ants = json_array();
    int rc;

    json_object_set_new(m, "rendez_vous", bk);
    json_object_set_new(m, "liste_attente", wl);
    json_object_set_new(m, "sms", sms);
    json_object_set_new(m, "notifications", log);
    json_object_set_new(m, "declarations_ants", ants);
    if (json_object_set_new(out, "rdv", m) < 0)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
    if ((rc = match_rows(c, a, "rdv_bookings", insee, email, phone, &bids,
                         &nb, err)) < 0 ||
        (rc = match_rows(c, a, "rdv_waitlist", insee, email, phone, &wids,
                         &nw, err)) < 0 ||
        (rc = export_bookings(c, a, insee, bids, nb, bk, err)) < 0 ||
        (rc = export_waitlist(c, a, wids, nw, wl, err)) < 0)
        return rc;
    if (!(bin = id_list(a, bids, nb)))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
    if ((rc = sms_rows(c, a, insee, phone, bin, &r, err)) < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++) {
        if (!sms_is_theirs(a, r, i, phone, bids, nb))
            continue;
        json_array_append_new(
            sms, json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "id",
                           (json_int_t)store_int(r, i, 0), "rendez_vous",
                           (json_int_t)store_int(r, i, 1), "telephone",
                           jstr(store_text(r, i, 2)), "texte",
                           jstr(store_text(r, i, 3)), "statut",
                           jstr(store_text(r, i, 4)), "cree_le",
                           gu_json_time(store_int(r, i, 5))));
    }
    {
        char *sql = gu_arena_sprintf(
            a,
            "SELECT booking_id, kind, channel, at FROM rdv_notify_log "
            "WHERE booking_id IN %s ORDER BY id",
            bin);

        if (!sql || (rc = store_query(c, a, sql, NULL, 0, &r, err)) < 0)
            return sql ? rc
                       : gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        for (size_t i = 0; i < r->nrows; i++)
            json_array_append_new(
                log, json_pack("{s:I, s:o, s:o, s:o}", "rendez_vous",
                               (json_int_t)store_int(r, i, 0), "type",
                               jstr(store_text(r, i, 1)), "canal",
                               jstr(store_text(r, i, 2)), "envoye_le",
                               gu_json_time(store_int(r, i, 3))));
        sql = gu_arena_sprintf(
            a,
            "SELECT booking_id, op, application_id, appointment_date, "
            "status, created_at FROM rdv_ants_queue WHERE booking_id IN %s "
            "ORDER BY id",
            bin);
        if (!sql || (rc = store_query(c, a, sql, NULL, 0, &r, err)) < 0)
            return sql ? rc
                       : gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        for (size_t i = 0; i < r->nrows; i++)
            json_array_append_new(
                ants, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}",
                                "rendez_vous", (json_int_t)store_int(r, i, 0),
                                "operation", jstr(store_text(r, i, 1)),
                                "numero_predemande", jstr(store_text(r, i, 2)),
                                "date_rendez_vous", jstr(store_text(r, i, 3)),
                                "statut", jstr(store_text(r, i, 4)),
                                "cree_le", gu_json_time(store_int(r, i, 5))));
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Erasure                                                             */
/* ------------------------------------------------------------------ */

static int
exec_n(struct store_conn *c, const char *sql, const struct store_val *p,
       size_t n, int64_t *rows, struct gu_err *err)
{
    int64_t ch = 0;
    int rc = store_exec_changes(c, sql, p, n, &ch, err);

    if (rc == 0)
        *rows += ch;
    return rc;
}

/*
 * Cancel booking `id` if it is still to come (confirmed or held): status,
 * units, the waiting-list entry a hold was offered to, ANTS withdrawal.
 */
static int
cancel_if_future(struct store_conn *c, struct gu_arena *a, const char *insee,
                 const struct rdv_commune_ctx *cc, int64_t id, int64_t now,
                 int64_t *rows, struct gu_err *err)
{
    struct rdv_booking b;
    int rc = rdv_get(c, a, insee, id, &b, err);

    if (rc < 0)
        return rc;
    if (b.status != RDV_CONFIRMED && b.status != RDV_HELD)
        return 0;
    if (gu_tz_to_utc(cc->tz, b.day, b.end_min) <= now)
        return 0; /* it took place (or is under way): history */
    {
        struct store_val p[] = {STORE_I(RDV_CANCELLED), STORE_I(now),
                                STORE_I(id)};

        if ((rc = exec_n(c,
                         "UPDATE rdv_bookings SET status = ?, updated_at = ? "
                         "WHERE id = ?",
                         p, 3, rows, err)) < 0)
            return rc;
    }
    {
        struct store_val p[] = {STORE_I(id)};

        if ((rc = exec_n(c, "DELETE FROM rdv_units WHERE booking_id = ?", p,
                         1, rows, err)) < 0)
            return rc;
    }
    if (b.status == RDV_HELD) {
        /* offered to a waiting-list entry: if that entry is someone
           else's, it waits again */
        struct store_val p[] = {STORE_I(now), STORE_I(id)};

        if ((rc = exec_n(c,
                         "UPDATE rdv_waitlist SET status = 'attente', "
                         "booking_id = 0, updated_at = ? WHERE booking_id = ? "
                         "AND status = 'proposé'",
                         p, 2, rows, err)) < 0)
            return rc;
    } else if (*b.ants_ids) {
        /* withdraws exactly what was declared, nothing otherwise */
        if ((rc = rdv_ants_queue(c, &b, "withdraw", "", err)) < 0)
            return rc;
    }
    return rdv_audit(c, insee, "systeme", "rdv.cancel", id, "by=erasure",
                     err);
}

int
rdv_pdata_erase(struct store_conn *c, const char *insee, const char *email,
                const char *phone, int64_t *rows, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_commune_ctx cc;
    struct store_rows *r = NULL;
    int64_t *bids = NULL, *wids = NULL, now = gu_now();
    size_t nb = 0, nw = 0;
    const char *bin, *win;
    char *sql;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
    if ((rc = rdv_commune_ctx(c, a, insee, &cc, err)) < 0 ||
        (rc = match_rows(c, a, "rdv_bookings", insee, email, phone, &bids,
                         &nb, err)) < 0 ||
        (rc = match_rows(c, a, "rdv_waitlist", insee, email, phone, &wids,
                         &nw, err)) < 0)
        goto out;
    /* Open waiting-list entries first: their held offers are cancelled
       with the bookings below (a hold carries the person's contact). */
    for (size_t i = 0; i < nb; i++)
        if ((rc = cancel_if_future(c, a, insee, &cc, bids[i], now, rows,
                                   err)) < 0)
            goto out;
    bin = id_list(a, bids, nb);
    win = id_list(a, wids, nw);
    if (!bin || !win) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
        goto out;
    }
    /* held offers of the person's entries that carried no contact */
    sql = gu_arena_sprintf(a,
                           "SELECT booking_id FROM rdv_waitlist WHERE id IN "
                           "%s AND status = 'proposé' AND booking_id > 0",
                           win);
    if (!sql || (rc = store_query(c, a, sql, NULL, 0, &r, err)) < 0) {
        rc = sql ? rc : gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    for (size_t i = 0; i < r->nrows; i++)
        if ((rc = cancel_if_future(c, a, insee, &cc, store_int(r, i, 0), now,
                                   rows, err)) < 0)
            goto out;

    {
        struct store_val p[] = {STORE_I(now)};
        /* the SMS queue before the bookings lose their link to it */
        struct store_rows *s = NULL;

        if ((rc = sms_rows(c, a, insee, phone, bin, &s, err)) < 0)
            goto out;
        for (size_t i = 0; i < s->nrows; i++) {
            struct store_val q[] = {STORE_I(store_int(s, i, 0))};

            if (sms_is_theirs(a, s, i, phone, bids, nb) &&
                (rc = exec_n(c, "DELETE FROM rdv_sms_queue WHERE id = ?", q,
                             1, rows, err)) < 0)
                goto out;
        }
        if (!(sql = gu_arena_sprintf(
                  a,
                  "UPDATE rdv_bookings SET name = '', email = '', phone = '',"
                  " ants_ids = '', note = '', person_hash = '',"
                  " anonymised_at = ? WHERE id IN %s",
                  bin)) ||
            (rc = exec_n(c, sql, p, 1, rows, err)) < 0)
            goto fail;
        if (!(sql = gu_arena_sprintf(
                  a,
                  "UPDATE rdv_waitlist SET name = '', email = '', phone = '',"
                  " ants_ids = '', status = CASE WHEN status IN ('attente',"
                  " 'proposé') THEN 'retiré' ELSE status END,"
                  " booking_id = CASE WHEN status = 'proposé' THEN 0 ELSE"
                  " booking_id END, updated_at = ? WHERE id IN %s",
                  win)) ||
            (rc = exec_n(c, sql, p, 1, rows, err)) < 0)
            goto fail;
        if (!(sql = gu_arena_sprintf(a,
                                     "DELETE FROM rdv_tokens WHERE booking_id"
                                     " IN %s OR wait_id IN %s",
                                     bin, win)) ||
            (rc = exec_n(c, sql, NULL, 0, rows, err)) < 0)
            goto fail;
        if (!(sql = gu_arena_sprintf(a,
                                     "DELETE FROM rdv_notify_log WHERE "
                                     "booking_id IN %s",
                                     bin)) ||
            (rc = exec_n(c, sql, NULL, 0, rows, err)) < 0)
            goto fail;
        /* what ANTS was told is history; what it must still be told
           (the withdrawals just queued) stays until sent */
        if (!(sql = gu_arena_sprintf(a,
                                     "DELETE FROM rdv_ants_queue WHERE "
                                     "booking_id IN %s AND status <> "
                                     "'queued'",
                                     bin)) ||
            (rc = exec_n(c, sql, NULL, 0, rows, err)) < 0)
            goto fail;
    }
    goto out;
fail:
    if (!sql)
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv pdata: oom");
out:
    gu_arena_free(a);
    return rc;
}
