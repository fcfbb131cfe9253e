/*
 * tri_request.c - reading the inbox (see tri.h): one request, lists with
 * every filter and cursor paging, lookups by status token and by number,
 * a request's thread, attachments and decisions; adding a message to a
 * thread; the names of statuses, channels and urgencies.
 *
 * Every query filters on the commune: an id of another commune is
 * GU_ENOTFOUND exactly like an unknown id.
 */
#include "triage/tri_engine.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define Q_MAX 200     /* bytes of a search */
#define Q_WORDS_MAX 8 /* words of a search, each must match */
#define LIST_DEFAULT 50

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

static const char *const status_names[] = {"a_trier",  "nouvelle", "en_cours",
                                           "attente",  "resolue",  "rejetee"};
static const char *const status_labels[] = {
    "À trier", "Nouvelle", "En cours", "En attente de votre réponse",
    "Résolue", "Rejetée"};
static const char *const channel_names[] = {"web",       "courriel", "chat",
                                            "telephone", "guichet",  "api"};
static const char *const urgency_labels[] = {"Normale", "Prioritaire",
                                             "Urgente"};
static const char *const msg_kind_names[] = {"entrant", "sortant", "note",
                                             "evenement"};

const char *
tri_status_name(enum tri_status s)
{
    if ((unsigned)s < GU_ARRAY_LEN(status_names))
        return status_names[s];
    return "";
}

const char *
tri_status_label(enum tri_status s)
{
    if ((unsigned)s < GU_ARRAY_LEN(status_labels))
        return status_labels[s];
    return "";
}

int
tri_status_parse(const char *s, enum tri_status *out)
{
    for (size_t i = 0; s && i < GU_ARRAY_LEN(status_names); i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum tri_status)i;
            return 0;
        }
    }
    return GU_EINVAL;
}

const char *
tri_channel_name(enum tri_channel c)
{
    if ((unsigned)c < GU_ARRAY_LEN(channel_names))
        return channel_names[c];
    return "";
}

int
tri_channel_parse(const char *s, enum tri_channel *out)
{
    for (size_t i = 0; s && i < GU_ARRAY_LEN(channel_names); i++) {
        if (strcmp(s, channel_names[i]) == 0) {
            *out = (enum tri_channel)i;
            return 0;
        }
    }
    return GU_EINVAL;
}

const char *
tri_urgency_label(int u)
{
    if (u >= 0 && (size_t)u < GU_ARRAY_LEN(urgency_labels))
        return urgency_labels[u];
    return "";
}

const char *
tri_msg_kind_name(enum tri_msg_kind k)
{
    if ((unsigned)k < GU_ARRAY_LEN(msg_kind_names))
        return msg_kind_names[k];
    return "";
}

static enum tri_msg_kind
msg_kind_of(const char *s)
{
    for (size_t i = 0; s && i < GU_ARRAY_LEN(msg_kind_names); i++) {
        if (strcmp(s, msg_kind_names[i]) == 0)
            return (enum tri_msg_kind)i;
    }
    return TRI_MSG_EVENT;
}

/* ------------------------------------------------------------------ */
/* Shared writers                                                      */
/* ------------------------------------------------------------------ */

int
tri_redact(struct store_conn *c, struct gu_arena *a, const char *insee,
           const char *s, const char **out, struct gu_err *err)
{
    unsigned char key[PII_KEY_BYTES];
    char *r;
    int rc;

    /* The commune's key keeps two mentions of one phone or address
       linkable (duplicates, an agent's search) without the value. */
    rc = pii_commune_key(c, insee, key, err);
    if (rc < 0)
        return rc;
    r = pii_redact_keyed(a, s ? s : "", s ? strlen(s) : 0, key, NULL);
    sodium_memzero(key, sizeof(key));
    if (!r)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom redact");
    *out = r;
    return 0;
}

int
tri_decision_add(struct store_conn *c, const char *insee, int64_t request_id,
                 const char *kind, const char *value, const char *previous,
                 double confidence, const char *model_version,
                 const char *source, const char *actor, struct gu_err *err)
{
    struct store_val v[10] = {
        STORE_T(insee),         STORE_I(request_id),
        STORE_T(kind),          STORE_T(value ? value : ""),
        STORE_T(previous ? previous : ""), STORE_D(confidence),
        STORE_T(model_version ? model_version : ""),
        STORE_T(source),        STORE_T(actor ? actor : ""),
        STORE_I(gu_now())};

    return store_exec(c,
                      "INSERT INTO tri_decisions (insee, request_id, kind, "
                      "value, previous, confidence, model_version, source, "
                      "actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                      "?)",
                      v, 10, err);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/*
 * The columns of struct tri_request. The case of a request is its
 * case_id, or itself when it leads one; case_size counts its members:
 * the lead (requests are never deleted) and the rows pointing to it,
 * found through the (insee, case_id) index.
 */
#define REQ_COLS                                                               \
    "r.id, r.insee, r.number, r.channel, r.status, r.subject, r.body, "       \
    "r.subject_redacted, r.body_redacted, r.category_hint, r.service_id, "    \
    "COALESCE(s.code, ''), COALESCE(s.name, ''), r.service_source, "          \
    "r.confidence, r.model_version, r.why, r.urgency, r.urgency_reasons, "    \
    "r.case_id, 1 + (SELECT COUNT(*) FROM tri_requests x WHERE x.insee = "    \
    "r.insee AND x.case_id = CASE WHEN r.case_id > 0 THEN r.case_id ELSE "    \
    "r.id END), r.address, r.lat, r.lon, r.contact_name, r.contact_email, "   \
    "r.contact_phone, r.notify, r.origin, r.assigned_to, "                    \
    "COALESCE(ag.login, ''), r.due_at, r.first_reply_at, r.resolved_at, "     \
    "r.created_at, r.updated_at, r.anonymised_at"

#define REQ_FROM                                                               \
    " FROM tri_requests r LEFT JOIN tri_services s ON s.id = r.service_id "   \
    "AND s.insee = r.insee LEFT JOIN agents ag ON ag.id = r.assigned_to "

static void
request_row(const struct store_rows *r, size_t i, struct tri_request *q)
{
    enum tri_status st = TRI_A_TRIER;
    enum tri_channel ch = TRI_WEB;
    size_t k = 0;

    memset(q, 0, sizeof(*q));
    q->id = store_int(r, i, k++);
    tri_insee_copy(q->insee, store_text(r, i, k++));
    q->number = store_text(r, i, k++);
    tri_channel_parse(store_text(r, i, k++), &ch);
    q->channel = ch;
    tri_status_parse(store_text(r, i, k++), &st);
    q->status = st;
    q->subject = store_text(r, i, k++);
    q->body = store_text(r, i, k++);
    q->subject_redacted = store_text(r, i, k++);
    q->body_redacted = store_text(r, i, k++);
    q->category_hint = store_text(r, i, k++);
    q->service_id = store_int(r, i, k++);
    q->service_code = store_text(r, i, k++);
    q->service_name = store_text(r, i, k++);
    q->service_source = store_text(r, i, k++);
    q->confidence = store_real(r, i, k++);
    q->model_version = store_text(r, i, k++);
    q->why = store_text(r, i, k++);
    q->urgency = (int)store_int(r, i, k++);
    q->urgency_reasons = store_text(r, i, k++);
    q->case_id = store_int(r, i, k++);
    q->case_size = (size_t)store_int(r, i, k++);
    q->address = store_text(r, i, k++);
    q->lat = store_real(r, i, k++);
    q->lon = store_real(r, i, k++);
    q->contact_name = store_text(r, i, k++);
    q->contact_email = store_text(r, i, k++);
    q->contact_phone = store_text(r, i, k++);
    q->notify = store_int(r, i, k++) != 0;
    q->origin = store_text(r, i, k++);
    q->assigned_to = store_int(r, i, k++);
    q->assigned_login = store_text(r, i, k++);
    q->due_at = store_int(r, i, k++);
    q->first_reply_at = store_int(r, i, k++);
    q->resolved_at = store_int(r, i, k++);
    q->created_at = store_int(r, i, k++);
    q->updated_at = store_int(r, i, k++);
    q->anonymised_at = store_int(r, i, k++);
    if (!q->service_code)
        q->service_code = "";
    if (!q->service_name)
        q->service_name = "";
    if (!q->assigned_login)
        q->assigned_login = "";
}

static int
get_where(struct store_conn *c, struct gu_arena *a, const char *where,
          const struct store_val *p, size_t n, struct tri_request *out,
          const char *user_msg, struct gu_err *err)
{
    struct store_rows *r = NULL;
    char *sql;
    int rc;

    sql = gu_arena_sprintf(a, "SELECT " REQ_COLS REQ_FROM "WHERE %s", where);
    if (!sql)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_query(c, a, sql, p, n, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "id", user_msg, "no request");
    request_row(r, 0, out);
    return 0;
}

int
tri_get(struct store_conn *c, struct gu_arena *a, const char *insee,
        int64_t id, struct tri_request *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};

    return get_where(c, a, "r.id = ? AND r.insee = ?", p, 2, out,
                     "Demande introuvable.", err);
}

#define TOKEN_UNKNOWN                                                          \
    "Demande introuvable : ce lien de suivi n'est pas valide. Vérifiez "      \
    "qu'il est complet, tel que reçu dans le courriel d'accusé de réception."

int
tri_get_by_token(struct store_conn *c, struct gu_arena *a, const char *token,
                 struct tri_request *out, struct gu_err *err)
{
    char hash[65];

    if (!gu_token_shape(token, TRI_TOKEN_LEN))
        return gu_err_set(err, GU_ENOTFOUND, "token", TOKEN_UNKNOWN,
                          "bad token shape");
    gu_token_hash(token, hash);
    struct store_val p[1] = {STORE_T(hash)};

    return get_where(c, a,
                     "r.id = (SELECT request_id FROM tri_tokens"
                     " WHERE hash = ?)",
                     p, 1, out, TOKEN_UNKNOWN, err);
}

int
tri_token_add(struct store_conn *c, const char *insee, int64_t request_id,
              const char *hash, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(hash), STORE_T(insee),
                            STORE_I(request_id), STORE_I(gu_now())};

    return store_exec(c,
                      "INSERT INTO tri_tokens (hash, insee, request_id,"
                      " created_at) VALUES (?, ?, ?, ?)",
                      p, GU_ARRAY_LEN(p), err);
}

int
tri_get_by_number(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const char *number, struct tri_request *out,
                  struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(number ? number : ""), STORE_T(insee)};

    if (!number || strlen(number) > 20)
        return gu_err_set(err, GU_ENOTFOUND, "number", "Demande introuvable.",
                          "bad number");
    return get_where(c, a, "r.number = ? AND r.insee = ?", p, 2, out,
                     "Demande introuvable.", err);
}

/* « 2026-00042 » (or a prefix of digits and one dash) */
static bool
looks_like_number(const char *q)
{
    size_t n = strlen(q), dash = 0;

    if (n < 6 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (q[i] == '-')
            dash++;
        else if (q[i] < '0' || q[i] > '9')
            return false;
    }
    return dash == 1 && q[4] == '-';
}

/* Append LIKE-escaped `w` (n bytes) between % signs. */
static char *
like_pattern(struct gu_arena *a, const char *w, size_t n)
{
    char *p = gu_arena_alloc(a, 2 * n + 3), *o = p;

    if (!p)
        return NULL;
    *o++ = '%';
    for (size_t i = 0; i < n; i++) {
        if (w[i] == '%' || w[i] == '_' || w[i] == '\\')
            *o++ = '\\';
        *o++ = w[i];
    }
    *o++ = '%';
    *o = '\0';
    return p;
}

/* 10 for the filters, 3 per search word */
#define LIST_PARAMS_MAX (10 + 3 * Q_WORDS_MAX)

int
tri_list(struct store_conn *c, struct gu_arena *a, const char *insee,
         const struct tri_filter *f, struct tri_request **out, size_t *n,
         struct gu_err *err)
{
    struct store_val p[LIST_PARAMS_MAX];
    struct store_rows *r = NULL;
    struct tri_request *v;
    struct gu_buf sql;
    size_t np = 0, limit;
    int64_t now = gu_now();
    int rc;

    *out = NULL;
    *n = 0;
    if ((rc = tri_check_insee(insee, err)) < 0)
        return rc;
    limit = f->limit ? f->limit : LIST_DEFAULT;
    if (limit > TRI_LIST_MAX)
        return gu_err_set(err, GU_EINVAL, "limite",
                          "Au plus 200 demandes par page.", "limit %zu",
                          limit);
    if (f->status < -2 || f->status > TRI_REJETEE)
        return gu_err_set(err, GU_EINVAL, "statut", "Statut inconnu.",
                          "bad status filter %d", f->status);
    if (f->urgency_min < 0 || f->urgency_min > TRI_URGENCY_MAX)
        return gu_err_set(err, GU_EINVAL, "urgence",
                          "L'urgence doit être 0, 1 ou 2.", "bad urgency");
    if (f->age_min_h < 0 || f->age_min_h > 24 * 3660)
        return gu_err_set(err, GU_EINVAL, "age_min_h",
                          "L'âge minimal doit être un nombre d'heures "
                          "positif.",
                          "bad age");
    if (f->q && (strlen(f->q) > Q_MAX || !gu_utf8_valid(f->q, strlen(f->q))))
        return gu_err_set(err, GU_EINVAL, "q",
                          "La recherche doit faire au plus 200 caractères.",
                          "bad q");

    gu_buf_init(&sql);
    /* The page's ids first (filters, order and limit on the narrow
       rows), then their columns: sorting whole rows and counting every
       request's case before the limit cost 18 ms for 1,000 open
       requests, against under 1 ms this way. */
    gu_buf_puts(&sql, "SELECT " REQ_COLS REQ_FROM
                      "WHERE r.id IN (SELECT r.id FROM tri_requests r "
                      "WHERE r.insee = ?");
    p[np++] = STORE_T(insee);
    if (f->status == -1) {
        gu_buf_puts(&sql, " AND r.status NOT IN ('resolue', 'rejetee')");
    } else if (f->status >= 0) {
        gu_buf_puts(&sql, " AND r.status = ?");
        p[np++] = STORE_T(tri_status_name((enum tri_status)f->status));
    }
    if (f->service_id == -1) {
        gu_buf_puts(&sql, " AND r.service_id = 0");
    } else if (f->service_id > 0) {
        gu_buf_puts(&sql, " AND r.service_id = ?");
        p[np++] = STORE_I(f->service_id);
    }
    if (f->urgency_min > 0) {
        gu_buf_puts(&sql, " AND r.urgency >= ?");
        p[np++] = STORE_I(f->urgency_min);
    }
    if (f->age_min_h > 0) {
        gu_buf_puts(&sql, " AND r.created_at <= ?");
        p[np++] = STORE_I(now - (int64_t)f->age_min_h * 3600);
    }
    if (f->assigned_to == -1) {
        gu_buf_puts(&sql, " AND r.assigned_to = 0");
    } else if (f->assigned_to > 0) {
        gu_buf_puts(&sql, " AND r.assigned_to = ?");
        p[np++] = STORE_I(f->assigned_to);
    }
    if (f->case_id > 0) {
        gu_buf_puts(&sql, " AND (r.id = ? OR r.case_id = ?)");
        p[np++] = STORE_I(f->case_id);
        p[np++] = STORE_I(f->case_id);
    }
    if (f->overdue) {
        gu_buf_puts(&sql, " AND r.due_at > 0 AND r.due_at < ? AND r.status "
                          "NOT IN ('resolue', 'rejetee')");
        p[np++] = STORE_I(now);
    }
    if (f->before_id > 0) {
        gu_buf_puts(&sql, " AND r.id < ?");
        p[np++] = STORE_I(f->before_id);
    }
    if (f->q && gu_str_trim(gu_str_c(f->q)).n > 0) {
        struct gu_str q = gu_str_trim(gu_str_c(f->q));
        char *qs = gu_arena_strndup(a, q.p, q.n);

        if (!qs) {
            gu_buf_fini(&sql);
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        }
        if (looks_like_number(qs)) {
            gu_buf_puts(&sql, " AND r.number = ?");
            p[np++] = STORE_T(qs);
        } else {
            size_t words = 0;
            const char *s = qs;

            while (*s && words < Q_WORDS_MAX) {
                const char *e;
                char *pat;

                while (*s == ' ' || *s == '\t')
                    s++;
                if (!*s)
                    break;
                for (e = s; *e && *e != ' ' && *e != '\t'; e++)
                    ;
                pat = like_pattern(a, s, (size_t)(e - s));
                if (!pat) {
                    gu_buf_fini(&sql);
                    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
                }
                gu_buf_puts(&sql, " AND (r.subject LIKE ? ESCAPE '\\' OR "
                                  "r.body LIKE ? ESCAPE '\\' OR "
                                  "r.number = ?)");
                p[np++] = STORE_T(pat);
                p[np++] = STORE_T(pat);
                p[np++] = STORE_TN(s, (size_t)(e - s));
                words++;
                s = e;
            }
        }
    }
    gu_buf_printf(&sql, " ORDER BY r.id DESC LIMIT %zu) ORDER BY r.id DESC",
                  limit);
    if (sql.oom) {
        gu_buf_fini(&sql);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    rc = store_query(c, a, sql.p, p, np, &r, err);
    gu_buf_fini(&sql);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        request_row(r, i, &v[i]);
    *out = v;
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Thread, attachments, decisions                                      */
/* ------------------------------------------------------------------ */

static int
request_exists(struct store_conn *c, const char *insee, int64_t id,
               struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee ? insee : "")};
    struct gu_arena *a = gu_arena_new(256);
    struct store_rows *r = NULL;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_query(c, a,
                     "SELECT id FROM tri_requests WHERE id = ? AND insee = ?",
                     p, 2, &r, err);
    if (rc == 0 && r->nrows == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, "id", "Demande introuvable.",
                        "no request %lld", (long long)id);
    gu_arena_free(a);
    return rc;
}

int
tri_messages(struct store_conn *c, struct gu_arena *a, const char *insee,
             int64_t request_id, struct tri_message **out, size_t *n,
             struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(request_id), STORE_T(insee)};
    struct store_rows *r = NULL;
    struct tri_message *v;
    int rc;

    *out = NULL;
    *n = 0;
    if ((rc = request_exists(c, insee, request_id, err)) < 0)
        return rc;
    rc = store_query(c, a,
                     "SELECT id, request_id, kind, author, from_addr, body, "
                     "body_redacted, mail_message_id, mail_id, created_at "
                     "FROM tri_messages WHERE request_id = ? AND insee = ? "
                     "ORDER BY id",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++) {
        v[i].id = store_int(r, i, 0);
        v[i].request_id = store_int(r, i, 1);
        v[i].kind = msg_kind_of(store_text(r, i, 2));
        v[i].author = store_text(r, i, 3);
        v[i].from_addr = store_text(r, i, 4);
        v[i].body = store_text(r, i, 5);
        v[i].body_redacted = store_text(r, i, 6);
        v[i].mail_message_id = store_text(r, i, 7);
        v[i].mail_id = store_int(r, i, 8);
        v[i].created_at = store_int(r, i, 9);
    }
    *out = v;
    *n = r->nrows;
    return 0;
}

#define ATT_COLS                                                               \
    "id, request_id, message_id, filename, ctype, sha256, size, created_at"

static void
attachment_row(const struct store_rows *r, size_t i, struct tri_attachment *t)
{
    memset(t, 0, sizeof(*t));
    t->id = store_int(r, i, 0);
    t->request_id = store_int(r, i, 1);
    t->message_id = store_int(r, i, 2);
    t->filename = store_text(r, i, 3);
    t->ctype = store_text(r, i, 4);
    t->sha256 = store_text(r, i, 5);
    t->size = store_int(r, i, 6);
    t->created_at = store_int(r, i, 7);
}

int
tri_attachments(struct store_conn *c, struct gu_arena *a, const char *insee,
                int64_t request_id, struct tri_attachment **out, size_t *n,
                struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(request_id), STORE_T(insee)};
    struct store_rows *r = NULL;
    struct tri_attachment *v;
    int rc;

    *out = NULL;
    *n = 0;
    if ((rc = request_exists(c, insee, request_id, err)) < 0)
        return rc;
    rc = store_query(c, a,
                     "SELECT " ATT_COLS " FROM tri_attachments WHERE "
                     "request_id = ? AND insee = ? ORDER BY id",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        attachment_row(r, i, &v[i]);
    *out = v;
    *n = r->nrows;
    return 0;
}

int
tri_attachment_data(struct store_conn *c, struct gu_arena *a,
                    const char *insee, int64_t request_id, int64_t id,
                    struct tri_attachment *meta, const void **data,
                    struct gu_err *err)
{
    struct store_val p[3] = {STORE_I(id), STORE_I(request_id), STORE_T(insee)};
    struct store_rows *r = NULL;
    const struct store_val *cell;
    int rc;

    rc = store_query(c, a,
                     "SELECT " ATT_COLS ", data FROM tri_attachments WHERE "
                     "id = ? AND request_id = ? AND insee = ?",
                     p, 3, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "piece", "Pièce jointe introuvable.",
                          "no attachment %lld", (long long)id);
    attachment_row(r, 0, meta);
    cell = store_cell(r, 0, 8);
    if (!cell || cell->type == STORE_NULL) {
        /* Cleared by an anonymisation: the row stays, the bytes are gone. */
        return gu_err_set(err, GU_ENOTFOUND, "piece",
                          "Cette pièce jointe a été effacée.",
                          "attachment %lld erased", (long long)id);
    }
    meta->size = (int64_t)cell->n;
    *data = cell->s;
    return 0;
}

int
tri_decisions(struct store_conn *c, struct gu_arena *a, const char *insee,
              int64_t request_id, struct tri_decision **out, size_t *n,
              struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(request_id), STORE_T(insee)};
    struct store_rows *r = NULL;
    struct tri_decision *v;
    int rc;

    *out = NULL;
    *n = 0;
    if ((rc = request_exists(c, insee, request_id, err)) < 0)
        return rc;
    rc = store_query(c, a,
                     "SELECT id, kind, value, previous, model_version, "
                     "source, actor, confidence, created_at FROM "
                     "tri_decisions WHERE request_id = ? AND insee = ? "
                     "ORDER BY id",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++) {
        v[i].id = store_int(r, i, 0);
        v[i].kind = store_text(r, i, 1);
        v[i].value = store_text(r, i, 2);
        v[i].previous = store_text(r, i, 3);
        v[i].model_version = store_text(r, i, 4);
        v[i].source = store_text(r, i, 5);
        v[i].actor = store_text(r, i, 6);
        v[i].confidence = store_real(r, i, 7);
        v[i].created_at = store_int(r, i, 8);
    }
    *out = v;
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Adding a message                                                    */
/* ------------------------------------------------------------------ */

static int
message_add_tx(struct store_conn *c, struct gu_arena *a, const char *insee,
               int64_t request_id, enum tri_msg_kind kind, const char *author,
               const char *from_addr, const char *body,
               const char *mail_message_id, const struct tri_attach_in *attach,
               size_t nattach, int64_t *id_out, struct gu_err *err)
{
    struct tri_request req;
    struct store_rows *r = NULL;
    const char *redacted = "";
    int64_t now = gu_now(), mid;
    int rc;

    rc = tri_get(c, a, insee, request_id, &req, err);
    if (rc < 0)
        return rc;
    if (req.anonymised_at > 0)
        return gu_err_set(err, GU_ECONFLICT, "id",
                          "Cette demande a été anonymisée : elle ne peut plus "
                          "recevoir de message.",
                          "request anonymised");
    rc = tri_redact(c, a, insee, body, &redacted, err);
    if (rc < 0)
        return rc;
    {
        struct store_val v[9] = {STORE_T(insee),
                                 STORE_I(request_id),
                                 STORE_T(tri_msg_kind_name(kind)),
                                 STORE_T(author ? author : ""),
                                 STORE_T(from_addr ? from_addr : ""),
                                 STORE_T(body),
                                 STORE_T(redacted),
                                 STORE_T(mail_message_id ? mail_message_id
                                                         : ""),
                                 STORE_I(now)};

        rc = store_query(c, a,
                         "INSERT INTO tri_messages (insee, request_id, kind, "
                         "author, from_addr, body, body_redacted, "
                         "mail_message_id, created_at) VALUES (?, ?, ?, ?, ?, "
                         "?, ?, ?, ?) RETURNING id",
                         v, 9, &r, err);
        if (rc < 0)
            return rc;
        mid = store_int(r, 0, 0);
    }
    if (nattach > 0) {
        rc = tri_attach_store(c, a, insee, request_id, mid, attach, nattach,
                              err);
        if (rc < 0)
            return rc;
    }
    /* A resident who writes again reopens what waited for them or was
       closed as solved; a rejected request (spam, not for the mairie)
       stays rejected. */
    if (kind == TRI_MSG_IN &&
        (req.status == TRI_ATTENTE || req.status == TRI_RESOLUE)) {
        struct store_val u[3] = {STORE_I(now), STORE_I(request_id),
                                 STORE_T(insee)};
        const char *ev =
            req.status == TRI_RESOLUE
                ? "Demande rouverte : nouveau message de l'usager."
                : "Réponse de l'usager reçue : la demande reprend.";
        struct store_val e[5] = {STORE_T(insee), STORE_I(request_id),
                                 STORE_T(ev), STORE_T(ev), STORE_I(now)};

        rc = store_exec(c,
                        "UPDATE tri_requests SET status = 'en_cours', "
                        "resolved_at = 0, updated_at = ? WHERE id = ? AND "
                        "insee = ?",
                        u, 3, err);
        if (rc == 0)
            rc = tri_decision_add(c, insee, request_id, "statut", "en_cours",
                                  tri_status_name(req.status), 0, "", "usager",
                                  author ? author : "usager", err);
        if (rc == 0)
            rc = store_exec(c,
                            "INSERT INTO tri_messages (insee, request_id, "
                            "kind, author, body, body_redacted, created_at) "
                            "VALUES (?, ?, 'evenement', 'systeme', ?, ?, ?)",
                            e, 5, err);
    } else {
        struct store_val u[3] = {STORE_I(now), STORE_I(request_id),
                                 STORE_T(insee)};

        rc = store_exec(c,
                        "UPDATE tri_requests SET updated_at = ? WHERE id = ? "
                        "AND insee = ?",
                        u, 3, err);
    }
    if (rc == 0 && id_out)
        *id_out = mid;
    return rc;
}

int
tri_message_add(struct store_conn *c, const char *insee, int64_t request_id,
                enum tri_msg_kind kind, const char *author,
                const char *from_addr, const char *body,
                const char *mail_message_id,
                const struct tri_attach_in *attach, size_t nattach,
                int64_t *id_out, struct gu_err *err)
{
    struct gu_arena *a;
    bool own = false;
    int rc;

    if ((rc = tri_check_insee(insee, err)) < 0)
        return rc;
    if ((unsigned)kind > TRI_MSG_EVENT)
        return gu_err_set(err, GU_EINVAL, "kind", "Type de message inconnu.",
                          "bad kind");
    if ((rc = tri_check_text(body, "texte", "Le message", true, TRI_BODY_MAX,
                             true, err)) < 0 ||
        (rc = tri_check_text(author, "auteur", "L'auteur", false,
                             TRI_NAME_MAX, false, err)) < 0 ||
        (rc = tri_check_text(from_addr, "de", "L'adresse de l'expéditeur",
                             false, TRI_NAME_MAX + 100, false, err)) < 0 ||
        (rc = tri_check_text(mail_message_id, "message_id",
                             "L'identifiant du courriel", false, 998, false,
                             err)) < 0)
        return rc;
    if (nattach > TRI_ATTACH_MAX * 4)
        return gu_err_set(err, GU_ETOOBIG, "pieces",
                          "Trop de pièces jointes (20 au plus par message).",
                          "too many attachments");
    a = gu_arena_new(16384);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if (!store_in_tx(c)) {
        if ((rc = store_begin(c, err)) < 0)
            goto out;
        own = true;
    }
    rc = message_add_tx(c, a, insee, request_id, kind, author, from_addr, body,
                        mail_message_id, attach, nattach, id_out, err);
    if (own) {
        if (rc == 0)
            rc = store_commit(c, err);
        else
            store_rollback(c);
    }
out:
    gu_arena_free(a);
    return rc;
}
