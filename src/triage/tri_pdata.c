/*
 * tri_pdata.c - what the request inbox holds about a resident, for the
 * rights of access and erasure (app_rights.c).
 *
 * A person's requests are those whose contact e-mail or phone is theirs
 * (the phone compared after normalising what is stored: a LIKE on its
 * last eight digits narrows, pii_norm_phone() decides); their messages
 * are every message of those requests plus the messages they sent from
 * that address to other requests (a reply from a shared thread).
 *
 * Erasure anonymises like the retention purge (tri_jobs.c): contact,
 * address, place, original subject and text, status token, the e-mail
 * Message-ID of the origin, message originals and senders, attachment
 * bytes and names. The redacted copies stay for statistics and training,
 * but are made again WITHOUT the commune's keyed tags (plain
 * placeholders): a tag is linkable to the person by whoever holds the
 * key, so it is personal data too. The names the person gave are also
 * scrubbed from those copies, in case the scanner missed one.
 */
#include "triage/tri.h"
#include "privacy/privacy.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PDATA_MAX 5000               /* requests, or messages, of one person */
#define PDATA_ATTACH_BYTES (16u << 20) /* attachment bytes in one export */

static json_t *
jstr(const char *s)
{
    json_t *j = json_string(s ? s : "");

    return j ? j : json_string("");
}

static const char *
phone_like(struct gu_arena *a, const char *norm)
{
    size_t n = strlen(norm), k = n > 8 ? n - 8 : 0, o = 0;
    char *p = gu_arena_alloc(a, 2 * 8 + 2);

    if (!p)
        return NULL;
    for (; k < n; k++) {
        p[o++] = '%';
        p[o++] = norm[k];
    }
    p[o] = '\0';
    return p;
}

/* The person's request ids of `insee`, oldest first. */
static int
match_requests(struct store_conn *c, struct gu_arena *a, const char *insee,
               const char *email, const char *phone, int64_t **ids,
               size_t *n, struct gu_err *err)
{
    const char *like = phone ? phone_like(a, phone) : "";
    struct store_rows *r = NULL;
    size_t k = 0;
    int64_t *v;
    int rc;

    *ids = NULL;
    *n = 0;
    if (!like)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "tri pdata: oom");
    {
        struct store_val p[] = {STORE_T(insee), STORE_T(email ? email : ""),
                                STORE_T(email ? email : ""), STORE_T(like),
                                STORE_T(like)};

        rc = store_query(c, a,
                         "SELECT id, contact_email, contact_phone FROM"
                         " tri_requests WHERE insee = ? AND ((? <> '' AND"
                         " lower(trim(contact_email)) = ?) OR (? <> '' AND"
                         " contact_phone LIKE ?)) ORDER BY id LIMIT 5001",
                         p, GU_ARRAY_LEN(p), &r, err);
    }
    if (rc < 0)
        return rc;
    if (r->nrows > PDATA_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL,
                          "Trop de demandes correspondent à cette personne : "
                          "vérifiez l'adresse ou le numéro.",
                          "tri pdata: too many requests");
    if (!(v = gu_arena_alloc(a, (r->nrows + 1) * sizeof(*v))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "tri pdata: oom");
    for (size_t i = 0; i < r->nrows; i++) {
        const char *e = store_text(r, i, 1), *p = store_text(r, i, 2);
        const char *ne = email && e && *e ? pii_norm_email(a, e) : NULL;
        const char *np = phone && p && *p ? pii_norm_phone(a, p) : NULL;

        if ((ne && strcmp(ne, email) == 0) || (np && strcmp(np, phone) == 0))
            v[k++] = store_int(r, i, 0);
    }
    *ids = v;
    *n = k;
    return 0;
}

static bool
in_list(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/*
 * Messages about the person: those of their requests, and those sent
 * from their address to other requests (*other set for those).
 */
static int
person_messages(struct store_conn *c, struct gu_arena *a, const char *insee,
                const char *email, struct store_rows **r, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee), STORE_T(email ? email : "")};
    int rc = store_query(c, a,
                         "SELECT id, request_id, kind, author, from_addr,"
                         " body, created_at, body_redacted FROM tri_messages"
                         " WHERE insee = ? AND lower(trim(from_addr)) = ?"
                         " AND from_addr <> '' ORDER BY id LIMIT 5001",
                         p, 2, r, err);

    if (rc == 0 && (*r)->nrows > PDATA_MAX)
        rc = gu_err_set(err, GU_ETOOBIG, NULL,
                        "Trop de messages correspondent à cette adresse.",
                        "tri pdata: too many messages");
    return rc;
}

static json_t *
message_json(const struct store_rows *r, size_t i)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(store_int(r, i, 0)));
    json_object_set_new(o, "demande", json_integer(store_int(r, i, 1)));
    json_object_set_new(o, "type", jstr(store_text(r, i, 2)));
    json_object_set_new(o, "auteur", jstr(store_text(r, i, 3)));
    json_object_set_new(o, "expediteur", jstr(store_text(r, i, 4)));
    json_object_set_new(o, "texte", jstr(store_text(r, i, 5)));
    json_object_set_new(o, "date", gu_json_time(store_int(r, i, 6)));
    return o;
}

static int
export_request(struct store_conn *c, struct gu_arena *a, const char *insee,
               int64_t id, size_t *budget, json_t *arr, struct gu_err *err)
{
    struct tri_request q;
    struct store_rows *r = NULL;
    json_t *o, *msgs = json_array(), *pieces = json_array();
    int rc = tri_get(c, a, insee, id, &q, err);

    if (rc < 0) {
        json_decref(msgs);
        json_decref(pieces);
        return rc;
    }
    o = json_object();
    json_object_set_new(o, "id", json_integer(q.id));
    json_object_set_new(o, "numero", jstr(q.number));
    json_object_set_new(o, "canal", jstr(tri_channel_name(q.channel)));
    json_object_set_new(o, "statut", jstr(tri_status_name(q.status)));
    json_object_set_new(o, "service", jstr(q.service_name));
    json_object_set_new(o, "urgence", jstr(tri_urgency_label(q.urgency)));
    json_object_set_new(o, "objet", jstr(q.subject));
    json_object_set_new(o, "texte", jstr(q.body));
    json_object_set_new(o, "adresse", jstr(q.address));
    if (q.lat != 0 || q.lon != 0)
        json_object_set_new(o, "position",
                            json_pack("{s:f, s:f}", "lat", q.lat, "lon",
                                      q.lon));
    json_object_set_new(o, "nom", jstr(q.contact_name));
    json_object_set_new(o, "courriel", jstr(q.contact_email));
    json_object_set_new(o, "telephone", jstr(q.contact_phone));
    json_object_set_new(o, "avis_par_courriel", json_boolean(q.notify));
    json_object_set_new(o, "cree_le", gu_json_time(q.created_at));
    json_object_set_new(o, "modifie_le", gu_json_time(q.updated_at));
    json_object_set_new(o, "resolue_le", gu_json_time(q.resolved_at));
    json_object_set_new(o, "messages", msgs);
    json_object_set_new(o, "pieces_jointes", pieces);
    if (json_array_append_new(arr, o) < 0)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "tri pdata: oom");
    {
        struct store_val p[] = {STORE_I(id), STORE_T(insee)};

        rc = store_query(c, a,
                         "SELECT id, request_id, kind, author, from_addr,"
                         " body, created_at FROM tri_messages WHERE"
                         " request_id = ? AND insee = ? ORDER BY id"
                         " LIMIT 5000",
                         p, 2, &r, err);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < r->nrows; i++)
            json_array_append_new(msgs, message_json(r, i));
        /* the bytes too, as long as the export stays a sane size */
        rc = store_query(c, a,
                         "SELECT id, filename, ctype, size, sha256,"
                         " created_at, data FROM tri_attachments WHERE"
                         " request_id = ? AND insee = ? ORDER BY id"
                         " LIMIT 100",
                         p, 2, &r, err);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        const struct store_val *d = store_cell(r, i, 6);
        json_t *pj = json_object();

        json_object_set_new(pj, "id", json_integer(store_int(r, i, 0)));
        json_object_set_new(pj, "nom", jstr(store_text(r, i, 1)));
        json_object_set_new(pj, "type", jstr(store_text(r, i, 2)));
        json_object_set_new(pj, "taille", json_integer(store_int(r, i, 3)));
        json_object_set_new(pj, "sha256", jstr(store_text(r, i, 4)));
        json_object_set_new(pj, "date", gu_json_time(store_int(r, i, 5)));
        if (d && d->type == STORE_BLOB && d->n > 0 && d->n <= *budget) {
            size_t cap = sodium_base64_ENCODED_LEN(
                d->n, sodium_base64_VARIANT_ORIGINAL);
            char *b64 = gu_arena_alloc(a, cap);

            if (!b64) {
                json_decref(pj);
                return gu_err_set(err, GU_ENOMEM, NULL, NULL,
                                  "tri pdata: oom");
            }
            sodium_bin2base64(b64, cap, (const unsigned char *)d->s, d->n,
                              sodium_base64_VARIANT_ORIGINAL);
            json_object_set_new(pj, "contenu_base64", json_string(b64));
            *budget -= d->n;
        } else if (d && d->type == STORE_BLOB && d->n > 0) {
            /* the agent can download it from the request itself */
            json_object_set_new(pj, "contenu_omis", json_true());
        }
        json_array_append_new(pieces, pj);
    }
    return 0;
}

int
tri_pdata_export(struct store_conn *c, struct gu_arena *a, const char *insee,
                 const char *email, const char *phone, json_t *out,
                 struct gu_err *err)
{
    int64_t *ids = NULL;
    size_t n = 0, budget = PDATA_ATTACH_BYTES;
    struct store_rows *r = NULL;
    json_t *reqs = json_array(), *others = json_array(), *m = json_object();
    int rc;

    json_object_set_new(m, "demandes", reqs);
    json_object_set_new(m, "messages_sur_d_autres_demandes", others);
    if (json_object_set_new(out, "demandes", m) < 0)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "tri pdata: oom");
    if ((rc = match_requests(c, a, insee, email, phone, &ids, &n, err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = export_request(c, a, insee, ids[i], &budget, reqs, err)) <
            0)
            return rc;
    if (!email)
        return 0;
    if ((rc = person_messages(c, a, insee, email, &r, err)) < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++)
        if (!in_list(ids, n, store_int(r, i, 1)))
            json_array_append_new(others, message_json(r, i));
    return 0;
}

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

/* The plain redaction of `s` (no keyed tags), "" for "". */
static const char *
plain(struct gu_arena *a, const char *s)
{
    return s && *s ? pii_redact(a, s, strlen(s), NULL) : "";
}

/*
 * The names the person gave (contact_name of their requests), to be
 * scrubbed from what is kept: the scanner finds names from context and
 * may miss one (« Moi aussi, Camille Martin »), but here we know them.
 */
struct names {
    const char *v[16];
    size_t n;
};

static bool
word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

/* Every whole-word, ASCII-case-insensitive occurrence of w in s as
 * « [nom] ». */
static const char *
scrub_word(struct gu_arena *a, const char *s, const char *w, size_t wl)
{
    struct gu_buf b;
    const char *p = s, *out;
    bool hit = false;

    gu_buf_init(&b);
    for (const char *q = s; *q; q++) {
        if (strncasecmp(q, w, wl) != 0 ||
            (q > s && word_byte((unsigned char)q[-1])) ||
            word_byte((unsigned char)q[wl]))
            continue;
        gu_buf_append(&b, p, (size_t)(q - p));
        gu_buf_puts(&b, "[nom]");
        p = q + wl;
        q = p - 1;
        hit = true;
    }
    if (!hit) {
        gu_buf_fini(&b);
        return s;
    }
    gu_buf_puts(&b, p);
    out = b.oom ? NULL : gu_arena_strndup(a, b.p, b.n);
    gu_buf_fini(&b);
    return out;
}

static const char *
scrub(struct gu_arena *a, const char *s, const struct names *nm)
{
    /* whole names first, then each of their words of 3+ bytes */
    for (size_t i = 0; i < nm->n && s; i++)
        s = scrub_word(a, s, nm->v[i], strlen(nm->v[i]));
    for (size_t i = 0; i < nm->n && s; i++) {
        const char *w = nm->v[i];

        while (*w && s) {
            size_t l = 0;

            while (w[l] && w[l] != ' ' && w[l] != '-' && w[l] != '\'')
                l++;
            if (l >= 3)
                s = scrub_word(a, s, w, l);
            w += l;
            while (*w == ' ' || *w == '-' || *w == '\'')
                w++;
        }
    }
    return s;
}

/* Message `id`: original and sender cleared, redacted copy untagged. */
static int
erase_message(struct store_conn *c, struct gu_arena *a, int64_t id,
              const char *body, const char *redacted, const struct names *nm,
              int64_t *rows, struct gu_err *err)
{
    const char *red = body && *body ? plain(a, body) : redacted;

    red = red ? scrub(a, red, nm) : NULL;
    struct store_val p[] = {STORE_T(red ? red : ""), STORE_I(id)};

    if (!red)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "tri pdata: oom");
    return exec_n(c,
                  "UPDATE tri_messages SET body = '', from_addr = '',"
                  " body_redacted = ? WHERE id = ?",
                  p, 2, rows, err);
}

static int
erase_request(struct store_conn *c, struct gu_arena *a, const char *insee,
              int64_t id, int64_t now, const struct names *nm, int64_t *rows,
              struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val pi[] = {STORE_I(id), STORE_T(insee)};
    const char *subj, *body;
    int rc;

    rc = store_query(c, a,
                     "SELECT subject, body, subject_redacted, body_redacted"
                     " FROM tri_requests WHERE id = ? AND insee = ?",
                     pi, 2, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    /* from the originals when still there; else the stored copies
       (their tags cannot be recomputed without the values, and are
       then left: the originals are long gone) */
    subj = *store_text(r, 0, 0) ? plain(a, store_text(r, 0, 0))
                                : store_text(r, 0, 2);
    body = *store_text(r, 0, 1) ? plain(a, store_text(r, 0, 1))
                                : store_text(r, 0, 3);
    subj = subj ? scrub(a, subj, nm) : NULL;
    body = body ? scrub(a, body, nm) : NULL;
    if (!subj || !body)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "tri pdata: oom");
    {
        struct store_val p[] = {STORE_T(subj), STORE_T(body), STORE_I(now),
                                STORE_I(now), STORE_I(id)};

        rc = exec_n(c,
                    "UPDATE tri_requests SET subject = '', body = '',"
                    " address = '', lat = 0, lon = 0, contact_name = '',"
                    " contact_email = '', contact_phone = '',"
                    " token_hash = NULL, notify = 0,"
                    " origin = CASE WHEN origin LIKE 'mail:%' THEN 'mail'"
                    " ELSE origin END, subject_redacted = ?,"
                    " body_redacted = ?, anonymised_at = ?, updated_at = ?"
                    " WHERE id = ?",
                    p, GU_ARRAY_LEN(p), rows, err);
    }
    if (rc < 0)
        return rc;
    rc = store_query(c, a,
                     "SELECT id, body, body_redacted FROM tri_messages"
                     " WHERE request_id = ? AND insee = ? ORDER BY id",
                     pi, 2, &r, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++)
        if ((rc = erase_message(c, a, store_int(r, i, 0), store_text(r, i, 1),
                                store_text(r, i, 2), nm, rows, err)) < 0)
            return rc;
    rc = exec_n(c,
                "DELETE FROM tri_tokens WHERE request_id = ? AND insee = ?",
                pi, 2, rows, err);
    if (rc < 0)
        return rc;
    return exec_n(c,
                  "UPDATE tri_attachments SET data = NULL, filename = ''"
                  " WHERE request_id = ? AND insee = ?",
                  pi, 2, rows, err);
}

int
tri_pdata_erase(struct store_conn *c, const char *insee, const char *email,
                const char *phone, int64_t *rows, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    struct names nm = {{0}, 0};
    int64_t *ids = NULL, now = gu_now();
    size_t n = 0;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "tri pdata: oom");
    if ((rc = match_requests(c, a, insee, email, phone, &ids, &n, err)) < 0)
        goto out;
    /* the names they gave, before they are cleared */
    for (size_t i = 0; i < n && nm.n < GU_ARRAY_LEN(nm.v); i++) {
        struct store_val p[] = {STORE_I(ids[i])};
        const char *name;

        if ((rc = store_query(c, a,
                              "SELECT contact_name FROM tri_requests WHERE"
                              " id = ?",
                              p, 1, &r, err)) < 0)
            goto out;
        name = store_text(r, 0, 0);
        if (!name || strlen(name) < 3)
            continue;
        for (size_t k = 0; k < nm.n && name; k++)
            if (strcasecmp(nm.v[k], name) == 0)
                name = NULL;
        if (name)
            nm.v[nm.n++] = name;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = erase_request(c, a, insee, ids[i], now, &nm, rows, err)) <
            0)
            goto out;
    if (email) {
        if ((rc = person_messages(c, a, insee, email, &r, err)) < 0)
            goto out;
        for (size_t i = 0; i < r->nrows; i++)
            if ((rc = erase_message(c, a, store_int(r, i, 0),
                                    store_text(r, i, 5), store_text(r, i, 7),
                                    &nm, rows, err)) < 0)
                goto out;
    }
out:
    gu_arena_free(a);
    return rc;
}
