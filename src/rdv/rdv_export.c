/*
 * rdv_export.c - CSV and iCalendar exports of a period, and the secret
 * per-counter iCalendar feed (see rdv_export.h). The iCalendar text
 * itself is rdv_ics_store() (rdv_ics.c); this file picks the bookings,
 * writes the CSV, and keeps the feed tokens (only their SHA-256 is
 * stored, in rdv_counters.feed_hash).
 */
#include "rdv/rdv_export.h"
#include "rdv/rdv_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *
nz(const char *s)
{
    return s ? s : "";
}

int
rdv_export_bookings(struct store_conn *c, struct gu_arena *a,
                    const struct rdv_export_query *q, struct rdv_booking **out,
                    size_t *n, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct rdv_booking *v;
    int rc;

    *out = NULL;
    *n = 0;
    if (!q->insee || !store_insee_valid(q->insee))
        return gu_err_set(err, GU_EINVAL, NULL, NULL, "export: bad insee");
    if (q->to_day < q->from_day)
        return gu_err_set(err, GU_EINVAL, "to",
                          "La date de fin doit suivre la date de début.",
                          "export: to < from");
    if (q->to_day - q->from_day + 1 > RDV_EXPORT_DAYS_MAX)
        return gu_err_set(err, GU_EINVAL, "to",
                          "La période est trop longue : 366 jours au plus.",
                          "export: period too long");
    {
        /* LIMIT one more than allowed, to tell "too many" from "all". */
        struct store_val p[] = {
            STORE_T(q->insee),
            STORE_I(q->from_day),
            STORE_I(q->to_day),
            STORE_I(RDV_HELD),
            STORE_I(q->with_cancelled ? -1 : RDV_CANCELLED),
            STORE_I(q->place_id),
            STORE_I(q->place_id),
            STORE_I(q->counter_id),
            STORE_I(q->counter_id),
            STORE_I(RDV_EXPORT_ROWS_MAX + 1),
        };
        rc = store_query(
            c, a,
            "SELECT " RDV_BOOKING_COLS RDV_BOOKING_FROM " "
            "WHERE b.insee = ? AND b.day BETWEEN ? AND ? "
            "AND b.status <> ? AND b.status <> ? "
            "AND (? = 0 OR b.place_id = ?) AND (? = 0 OR b.counter_id = ?) "
            "ORDER BY b.day, b.start_min, k.name, b.lane, b.id LIMIT ?",
            p, GU_ARRAY_LEN(p), &r, err);
    }
    if (rc < 0)
        return rc;
    if (r->nrows > RDV_EXPORT_ROWS_MAX)
        return gu_err_set(err, GU_ETOOBIG, "to",
                          "Trop de rendez-vous sur cette période (plus de "
                          "20 000) : choisissez une période plus courte.",
                          "export: too many rows");
    if (r->nrows == 0)
        return 0;
    v = gu_arena_alloc(a, r->nrows * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        rdv_booking_row(r, i, &v[i]);
    *out = v;
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */
/* ------------------------------------------------------------------ */

void
rdv_csv_cell(struct gu_buf *b, const char *s)
{
    bool quote = false;

    if (!s)
        s = "";
    for (const char *p = s; *p; p++) {
        if (*p == ';' || *p == '"' || *p == '\n' || *p == '\r')
            quote = true;
    }
    if (quote)
        gu_buf_puts(b, "\"");
    /* A spreadsheet would evaluate a cell starting with = + - @ (and tab
       or CR, which some strip first): make it text. */
    if (s[0] && strchr("=+-@\t\r", s[0]))
        gu_buf_puts(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            gu_buf_puts(b, "\"\"");
        else
            gu_buf_append(b, p, 1);
    }
    if (quote)
        gu_buf_puts(b, "\"");
}

static const char *
status_label(enum rdv_status s)
{
    switch (s) {
    case RDV_HELD:
        return "Proposé (liste d’attente)";
    case RDV_CONFIRMED:
        return "Confirmé";
    case RDV_CANCELLED:
        return "Annulé";
    case RDV_PRESENT:
        return "Présent";
    case RDV_NOSHOW:
        return "Absent";
    case RDV_EXCUSED:
        return "Excusé";
    }
    return "";
}

static const char *
channel_label(enum rdv_channel ch)
{
    switch (ch) {
    case RDV_WEB:
        return "Internet";
    case RDV_AGENT_DESK:
        return "Guichet";
    case RDV_PHONE:
        return "Téléphone";
    case RDV_ASSISTANT:
        return "Assistant";
    case RDV_VOICE:
        return "Serveur vocal";
    }
    return "";
}

int
rdv_export_csv(struct gu_buf *b, const struct rdv_booking *v, size_t n)
{
    static const char *const head[] = {
        "Date",
        "Début",
        "Fin",
        "Lieu",
        "Guichet",
        "Motif",
        "Personnes",
        "Nom",
        "Courriel",
        "Téléphone",
        "Numéros de pré-demande",
        "Statut",
        "Canal",
        "Créé par",
        "Créé le",
        "Venue confirmée",
        "Risque d’absence (%)",
        "Note",
    };

    gu_buf_puts(b, "\xEF\xBB\xBF");
    for (size_t i = 0; i < GU_ARRAY_LEN(head); i++) {
        if (i)
            gu_buf_puts(b, ";");
        rdv_csv_cell(b, head[i]);
    }
    gu_buf_puts(b, "\r\n");
    for (size_t i = 0; i < n; i++) {
        const struct rdv_booking *k = &v[i];
        char date[16], t1[8], t2[8], num[32], created[32];
        int y, m, d;

        gu_day_to_ymd(k->day, &y, &m, &d);
        snprintf(date, sizeof(date), "%02d/%02d/%04d", d, m, y);
        snprintf(t1, sizeof(t1), "%02d:%02d", k->start_min / 60 % 100,
                 k->start_min % 60);
        snprintf(t2, sizeof(t2), "%02d:%02d", k->end_min / 60 % 100,
                 k->end_min % 60);
        rdv_csv_cell(b, date);
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, t1);
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, t2);
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, k->place_name);
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, k->counter_name);
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, k->motif_name);
        gu_buf_puts(b, ";");
        snprintf(num, sizeof(num), "%d", k->people);
        rdv_csv_cell(b, num);
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, k->name);
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, k->email);
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, k->phone);
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, k->ants_ids);
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, status_label(k->status));
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, channel_label(k->channel));
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, k->created_by);
        gu_buf_puts(b, ";");
        gu_time_fr(k->created_at, created, sizeof(created));
        rdv_csv_cell(b, k->created_at > 0 ? created : "");
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, k->confirmed_at > 0 ? "oui" : "non");
        gu_buf_puts(b, ";");
        if (k->risk >= 0) {
            snprintf(num, sizeof(num), "%d", (int)(k->risk * 100 + 0.5));
            rdv_csv_cell(b, num);
        }
        gu_buf_puts(b, ";");
        rdv_csv_cell(b, k->note);
        gu_buf_puts(b, "\r\n");
    }
    return b->oom ? GU_ENOMEM : 0;
}

/* ------------------------------------------------------------------ */
/* Feeds                                                               */
/* ------------------------------------------------------------------ */

static int
counter_check(struct store_conn *c, const char *insee, int64_t id,
              struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(512);
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_I(id), STORE_T(insee)};
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_query(c, a,
                     "SELECT id FROM rdv_counters WHERE id = ? AND insee = ?",
                     p, 2, &r, err);
    if (rc == 0 && r->nrows != 1)
        rc = gu_err_set(err, GU_ENOTFOUND, "counter", "Guichet inconnu.",
                        "feed: no counter %" PRId64, id);
    gu_arena_free(a);
    return rc;
}

/* Set (hash != NULL) or clear a counter's feed hash, with its audit. */
static int
feed_set(struct store_conn *c, const char *insee, int64_t counter_id,
         const char *hash, const char *actor, const char *request_id,
         struct gu_err *err)
{
    char target[40];
    int rc;

    rc = store_begin(c, err);
    if (rc < 0)
        return rc;
    rc = counter_check(c, insee, counter_id, err);
    if (rc < 0)
        goto fail;
    {
        struct store_val p[] = {hash ? STORE_T(hash) : STORE_NUL,
                                STORE_I(counter_id), STORE_T(insee)};
        rc = store_exec(c,
                        "UPDATE rdv_counters SET feed_hash = ? "
                        "WHERE id = ? AND insee = ?",
                        p, GU_ARRAY_LEN(p), err);
        if (rc < 0)
            goto fail;
    }
    snprintf(target, sizeof(target), "guichet:%" PRId64, counter_id);
    rc = store_audit_add(c, insee, actor ? actor : "systeme",
                         hash ? "rdv.feed.new" : "rdv.feed.revoke", target,
                         hash ? "nouvelle adresse secrète du flux iCalendar"
                              : "flux iCalendar désactivé",
                         request_id ? request_id : "", err);
    if (rc < 0)
        goto fail;
    return store_commit(c, err);
fail:
    store_rollback(c);
    return rc;
}

int
rdv_feed_new(struct store_conn *c, const char *insee, int64_t counter_id,
             const char *actor, const char *request_id,
             char token[RDV_TOKEN_LEN + 1], struct gu_err *err)
{
    char hash[65];
    int rc;

    token[0] = '\0';
    if (gu_random_token(token, RDV_TOKEN_LEN + 1, 32) < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "feed: random");
    gu_token_hash(token, hash);
    rc = feed_set(c, insee, counter_id, hash, actor, request_id, err);
    if (rc < 0)
        token[0] = '\0';
    return rc;
}

int
rdv_feed_revoke(struct store_conn *c, const char *insee, int64_t counter_id,
                const char *actor, const char *request_id, struct gu_err *err)
{
    return feed_set(c, insee, counter_id, NULL, actor, request_id, err);
}

int
rdv_feed_list(struct store_conn *c, struct gu_arena *a, const char *insee,
              int64_t **ids, size_t *n, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(insee)};
    int rc;

    *ids = NULL;
    *n = 0;
    rc = store_query(c, a,
                     "SELECT id FROM rdv_counters WHERE insee = ? "
                     "AND feed_hash IS NOT NULL ORDER BY id",
                     p, 1, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    *ids = gu_arena_alloc(a, r->nrows * sizeof(**ids));
    if (!*ids)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        (*ids)[i] = store_int(r, i, 0);
    *n = r->nrows;
    return 0;
}

int
rdv_feed_ics(struct store_conn *c, struct gu_arena *a,
             const struct gu_config *cfg, const char *token, int64_t now,
             const char **ics, struct gu_err *err)
{
    static const char unknown[] = "Ce lien n’existe pas ou n’est plus valable.";
    struct store_rows *r = NULL;
    struct rdv_export_query q;
    struct rdv_booking *v = NULL;
    size_t n = 0;
    char hash[65], insee[6];
    int64_t counter, today;
    int minute;
    const char *calname;
    char *text;
    int rc;

    *ics = NULL;
    if (!rdv_token_shape(token))
        return gu_err_set(err, GU_ENOTFOUND, NULL, unknown, "feed: shape");
    gu_token_hash(token, hash);
    {
        struct store_val p[] = {STORE_T(hash)};
        rc = store_query(c, a,
                         "SELECT k.id, k.insee, k.name, p.name, m.zone "
                         "FROM rdv_counters k "
                         "JOIN rdv_places p ON p.id = k.place_id "
                         "JOIN communes m ON m.insee = k.insee "
                         "WHERE k.feed_hash = ?",
                         p, 1, &r, err);
    }
    if (rc < 0)
        return rc;
    if (r->nrows != 1)
        return gu_err_set(err, GU_ENOTFOUND, NULL, unknown, "feed: unknown");
    counter = store_int(r, 0, 0);
    snprintf(insee, sizeof(insee), "%s", nz(store_text(r, 0, 1)));
    calname = gu_arena_sprintf(a, "%s — %s", nz(store_text(r, 0, 2)),
                               nz(store_text(r, 0, 3)));
    gu_tz_from_utc(gu_tz_of_zone(nz(store_text(r, 0, 4))),
                   now > 0 ? now : gu_now(), &today, &minute);

    memset(&q, 0, sizeof(q));
    q.insee = insee;
    q.from_day = today - RDV_FEED_PAST_DAYS;
    q.to_day = today + RDV_FEED_NEXT_DAYS;
    q.counter_id = counter;
    rc = rdv_export_bookings(c, a, &q, &v, &n, err);
    if (rc < 0)
        return rc;
    text = rdv_ics_store(c, a, cfg, insee, v, n, true, calname, err);
    if (!text)
        return err && err->code ? err->code : GU_ENOMEM;
    *ics = text;
    return 0;
}
