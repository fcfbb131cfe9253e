/*
 * asst_handoff.c - questions the assistant could not settle, handed to
 * the commune's agents.
 *
 * The resident leaves an e-mail (with consent) and the question; the
 * hand-off keeps the question and a transcript of the conversation, both
 * redacted, and the e-mail (kept to answer, purged with the hand-off). An
 * acknowledgment with the follow-up link is queued at once (the link's
 * token is stored only as a hash, so it can be given only then). The
 * agent's answer is stored, shown on the follow-up page and e-mailed;
 * « Créer une fiche » turns question and answer into a local fiche.
 * Every agent-side change is audited; every query is scoped to a commune.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assistant/asst_internal.h"
#include "notify/notify.h"
#include "privacy/privacy.h"
#include "triage/tri.h"

#define TRANSCRIPT_MAX (16 * 1024)

const char *
asst_handoff_reference(struct gu_arena *a, int64_t id, int64_t created_at)
{
    char day[32];
    gu_time_iso(created_at > 0 ? created_at : gu_now(), day, sizeof(day));
    return gu_arena_sprintf(a, "Q-%.4s-%06lld", day, (long long)id);
}

/* A plausible single address: local@domain.tld, no spaces or controls. */
static bool
email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    size_t n = strlen(s);

    if (!at || at == s || strchr(at + 1, '@') || n > ASST_EMAIL_MAX)
        return false;
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == ',' ||
            *p == ';' || *p == '"' || *p == '\\')
            return false;
    }
    const char *dot = strrchr(at, '.');
    return dot && dot > at + 1 && dot[1] != '\0';
}

/* The redacted transcript of a conversation, one line a message. */
static int
transcript(struct store_conn *c, struct gu_arena *a, int64_t conv_id,
           const char **out, const char **last_question, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct gu_buf b;
    int rc;

    *out = "";
    *last_question = "";
    struct store_val p[] = {STORE_I(conv_id)};
    rc = store_query(c, a,
                     "SELECT question, payload FROM asst_messages"
                     " WHERE conversation_id = ? ORDER BY id",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    gu_buf_init(&b);
    for (size_t i = 0; i < r->nrows && b.n < TRANSCRIPT_MAX; i++) {
        const char *q = store_text(r, i, 0);
        json_t *j = json_loads(store_text(r, i, 1), 0, NULL);
        const char *type =
            j ? json_string_value(json_object_get(j, "type")) : NULL;
        const char *text =
            j ? json_string_value(json_object_get(j, "text")) : NULL;
        if (q && *q) {
            gu_buf_printf(&b, "Usager : %s\n", q);
            *last_question = gu_arena_strdup(a, q);
        }
        if (text && type && strcmp(type, "greeting") != 0)
            gu_buf_printf(&b, "Assistant (%s) : %s\n", type, text);
        json_decref(j);
    }
    if (b.oom) {
        gu_buf_fini(&b);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    *out = gu_arena_strdup(a, b.p ? b.p : "");
    gu_buf_fini(&b);
    return *out && *last_question
               ? 0
               : gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
}

/*
 * Hand-offs land in the request inbox (triage) too, through the job
 * "asst.inbox" (asst_handoff_inbox_job, every 5 s) rather than inside
 * asst_handoff_create(): the resident's hand-off never waits for the
 * inbox (its first request of a commune trains the triage model) nor
 * fails because of it. Each one becomes a request with channel "chat",
 * origin "asst_handoffs:<id>" (which also marks it as done), the
 * redacted question and transcript as its text. The resident was
 * acknowledged by the assistant (with the hand-off's follow link), so
 * the request is created without an e-mail (no second acknowledgement)
 * and the address is set on it afterwards, with status e-mails off: an
 * agent replying from the inbox reaches the resident by e-mail, and
 * asst_handoff_follow() shows that reply.
 */
#define INBOX_WINDOW (2 * 86400) /* how far back a run looks */
/*
 * Several nodes run this job on one database: a node files a hand-off
 * only after claiming it (inbox_claimed_at moved to now, if older than
 * INBOX_LEASE_S), so each becomes one request. A node that dies after its
 * claim leaves the hand-off to another one INBOX_LEASE_S later.
 */
#define INBOX_LEASE_S 300

static int
to_inbox(struct store *st, struct store_conn *c, struct gu_arena *a,
         const struct gu_config *cfg, const char *insee, int64_t id,
         int64_t created_at, const char *email, const char *question,
         const char *transcript, struct gu_err *err)
{
    struct tri_intake_req in;
    struct tri_intake_res res;
    const char *origin, *body, *norm;
    size_t n;
    int rc;

    origin = gu_arena_sprintf(a, "asst_handoffs:%lld", (long long)id);
    body = gu_arena_sprintf(a, "%s\n\n--- Conversation avec l’assistant ---\n%s",
                            question ? question : "",
                            transcript ? transcript : "");
    if (!origin || !body)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    n = strlen(body);
    if (n > TRI_BODY_MAX) {
        n = TRI_BODY_MAX;
        while (n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
            n--;
        body = gu_arena_strndup(a, body, n);
        if (!body)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    memset(&in, 0, sizeof(in));
    in.insee = insee;
    in.channel = TRI_CHAT;
    in.subject = gu_arena_sprintf(a, "Question transmise par l’assistant (%s)",
                                  asst_handoff_reference(a, id, created_at));
    in.body = body;
    in.origin = origin;
    in.actor = "usager";
    in.notify = false;
    if (!in.subject)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    rc = tri_intake(st, c, cfg, &in, a, &res, err);
    if (rc < 0 || !email || !*email)
        return rc;
    norm = pii_norm_email(a, email);
    struct store_val p[] = {STORE_T(norm ? norm : email), STORE_I(res.id),
                            STORE_T(insee)};
    return store_exec(c,
                      "UPDATE tri_requests SET contact_email = ?, notify = 0"
                      " WHERE id = ? AND insee = ?",
                      p, GU_ARRAY_LEN(p), err);
}

int
asst_handoff_inbox_job(struct store *s, const struct gu_config *cfg,
                       struct gu_err *err)
{
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    int rc, done = 0;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    rc = store_acquire(s, &c, err);
    struct store_val p[] = {STORE_I(gu_now() - INBOX_WINDOW)};
    if (rc == 0)
        rc = store_query(
            c, a,
            "SELECT h.id, h.insee, h.email, h.question, h.transcript,"
            " h.created_at FROM asst_handoffs h WHERE h.created_at >= ?"
            " AND h.status <> 'répondu' AND NOT EXISTS (SELECT 1 FROM"
            " tri_requests t WHERE t.insee = h.insee AND t.origin ="
            " 'asst_handoffs:' || h.id) ORDER BY h.id LIMIT 20",
            p, 1, &r, err);
    for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
        struct gu_err e2;
        int k;

        if (notify_job_should_stop())
            break;
        int64_t now = gu_now(), changes = 0;
        struct store_val q[] = {STORE_I(now), STORE_I(store_int(r, i, 0)),
                                STORE_I(now - INBOX_LEASE_S)};
        rc = store_exec_changes(c,
                                "UPDATE asst_handoffs SET inbox_claimed_at = ?"
                                " WHERE id = ? AND inbox_claimed_at < ?",
                                q, GU_ARRAY_LEN(q), &changes, err);
        if (rc < 0)
            break;
        if (changes != 1)
            continue; /* another node files it */
        gu_err_clear(&e2);
        k = to_inbox(s, c, a, cfg, store_text(r, i, 1), store_int(r, i, 0),
                     store_int(r, i, 5), store_text(r, i, 2),
                     store_text(r, i, 3), store_text(r, i, 4), &e2);
        if (k == GU_EDB) {
            *err = e2;
            rc = k;
        } else if (k < 0) {
            /* Left for the next runs (the window bounds the retries). */
            gu_log_warn("asst.inbox", "handoff=%lld code=%s",
                        (long long)store_int(r, i, 0), gu_status_name(k));
        } else {
            done++;
        }
    }
    store_release(c);
    gu_arena_free(a);
    return rc < 0 ? rc : done;
}

int
asst_handoff_create(const struct asst_ctx *x, const char *conversation,
                    const char *email, const char *question, bool consent,
                    const char **reference, const char **follow_token,
                    struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_commune m;
    const char *tr = "", *lastq = "", *q = NULL;
    char insee[6], token[64], h[65];
    int64_t conv_id = 0, id, now = gu_now();
    int rc;

    *reference = *follow_token = NULL;
    rc =
        asst_conv_lookup(x->eng, x->conn, x->arena, conversation, &conv_id,
                         insee, err);
    if (rc < 0)
        return rc;
    if (!consent)
        return gu_err_set(err, GU_EINVAL, "consent",
                          "Pour vous répondre, nous devons conserver votre "
                          "adresse électronique : cochez la case « J’accepte "
                          "».",
                          "no consent");
    if (!email || !email_ok(email))
        return gu_err_set(err, GU_EINVAL, "email",
                          "Adresse électronique invalide (exemple : "
                          "prenom.nom@exemple.fr).",
                          "bad email");
    if (question && *question) {
        struct gu_str s = gu_str_trim(gu_str_c(question));
        if (asst_utf8_len(s.p, s.n) > ASST_MESSAGE_MAX)
            return gu_err_set(err, GU_ETOOBIG, "question",
                              "La question est trop longue (1 000 "
                              "caractères au plus).",
                              "question too long");
        q = pii_redact(x->arena, s.p, s.n, NULL);
        if (!q)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    {
        /* Each hand-off e-mails an acknowledgment: a conversation may
         * not be used to send many (the rate limit bounds the rest). */
        struct store_rows *cnt = NULL;
        struct store_val p[] = {STORE_I(conv_id)};
        rc = store_query(x->conn, x->arena,
                         "SELECT COUNT(*) FROM asst_handoffs"
                         " WHERE conversation_id = ?",
                         p, 1, &cnt, err);
        if (rc < 0)
            return rc;
        if (store_int(cnt, 0, 0) >= ASST_HANDOFFS_MAX)
            return gu_err_set(err, GU_ECONFLICT, NULL,
                              "Votre question a déjà été transmise aux "
                              "agents de la mairie.",
                              "too many handoffs");
    }
    rc = transcript(x->conn, x->arena, conv_id, &tr, &lastq, err);
    if (rc < 0)
        return rc;
    if (!q || !*q)
        q = lastq;
    if (!*q)
        return gu_err_set(err, GU_EINVAL, "question",
                          "Écrivez la question à transmettre à un agent.",
                          "no question");
    if (gu_random_token(token, sizeof(token), 32) < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "asst: random");
    gu_token_hash(token, h);
    rc = store_commune_get(x->conn, x->arena, insee, &m, err);
    if (rc < 0)
        return rc;
    /* The id of the conversation's « transmise » message, from the chat's
     * writer (ids ahead of its inserts), taken before the transaction:
     * ids are reserved in the database, never inside a transaction. */
    int64_t mid = 0;
    rc = asst_message_id(asst_engine_writer(x->eng), x->conn, &mid, err);
    if (rc < 0)
        return rc;

    rc = store_begin(x->conn, err);
    if (rc < 0)
        return rc;
    {
        struct store_val p[] = {STORE_T(insee), STORE_I(conv_id), STORE_T(h),
                                STORE_T(email), STORE_T(q),       STORE_T(tr),
                                STORE_I(now),   STORE_I(now)};
        rc = store_query(x->conn, x->arena,
                         "INSERT INTO asst_handoffs (insee, conversation_id,"
                         " follow_hash, email, question, transcript,"
                         " created_at, updated_at) VALUES"
                         " (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                         p, GU_ARRAY_LEN(p), &r, err);
        if (rc < 0)
            goto fail;
    }
    id = store_int(r, 0, 0);
    *reference = asst_handoff_reference(x->arena, id, now);
    *follow_token = gu_arena_strdup(x->arena, token);
    if (!*reference || !*follow_token) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
        goto fail;
    }
    {
        /* The conversation shows the hand-off. */
        struct asst_reply d;
        memset(&d, 0, sizeof(d));
        d.type = "handoff_done";
        d.text = gu_arena_sprintf(
            x->arena,
            "Votre question a été transmise aux agents de la mairie "
            "(référence %s). Vous recevrez la réponse par courriel ; vous "
            "pouvez aussi la suivre à l’adresse /assistant/suivi/%s.",
            *reference, token);
        json_t *j = d.text ? asst_reply_json(&d) : NULL;
        char *payload = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!payload) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
            goto fail;
        }
        struct store_val p[] = {STORE_I(mid), STORE_I(conv_id), STORE_T(insee),
                                STORE_I(now), STORE_T(payload)};
        rc = store_exec(x->conn,
                        "INSERT INTO asst_messages (id, conversation_id,"
                        " insee, at, type, payload) VALUES (?, ?, ?, ?,"
                        " 'handoff_done', ?)",
                        p, GU_ARRAY_LEN(p), err);
        free(payload);
        if (rc < 0)
            goto fail;
    }
    {
        char target[48];
        snprintf(target, sizeof(target), "asst_handoffs:%lld", (long long)id);
        rc = store_audit_add(x->conn, insee, "usager", "asst.handoff", target,
                             *reference, x->request_id, err);
        if (rc < 0)
            goto fail;
    }
    rc = store_commit(x->conn, err);
    if (rc < 0)
        goto fail;

    /* The acknowledgment, with the only copy of the follow-up link. */
    {
        const char *base =
            x->cfg ? gu_config_str(x->cfg, "server.public_url") : "";
        struct notify_mail mail;
        struct gu_err e2;
        memset(&mail, 0, sizeof(mail));
        mail.insee = insee;
        mail.to = email;
        mail.kind = "asst.handoff";
        mail.subject =
            gu_arena_sprintf(x->arena, "Votre question à la mairie de %s (%s)",
                             m.name, *reference);
        mail.text = gu_arena_sprintf(
            x->arena,
            "Bonjour,\n\nNous avons bien reçu votre question :\n\n« %s »\n\n"
            "Un agent de la mairie de %s vous répondra par courriel. Vous "
            "pouvez suivre votre demande à l’adresse :\n%s/assistant/suivi/"
            "%s\n\nRéférence : %s\n\nCe message est envoyé automatiquement, "
            "merci de ne pas y répondre.\n",
            q, m.name, base ? base : "", token, *reference);
        gu_err_clear(&e2);
        if (!mail.subject || !mail.text ||
            notify_mail_queue(x->conn, &mail, NULL, &e2) < 0)
            gu_log_warn("asst.handoff", "mail=not_queued err=%s",
                        gu_status_name(e2.code));
    }
    return 0;
fail:
    store_rollback(x->conn);
    return rc;
}

/*
 * An agent may answer the hand-off from the request inbox instead: the
 * last reply written there (not the automatic messages) is the answer
 * the follow-up page shows, with the status « répondu ». Nothing changes
 * when the inbox has no such request or reply.
 */
static void
inbox_answer(const struct asst_ctx *x, const char *insee, int64_t id,
             const char **ans, int64_t *at, const char **status)
{
    struct store_rows *r = NULL;
    struct tri_message *msgs = NULL;
    size_t n = 0;
    struct gu_err e;
    const char *origin =
        gu_arena_sprintf(x->arena, "asst_handoffs:%lld", (long long)id);

    if (!origin)
        return;
    struct store_val p[] = {STORE_T(insee), STORE_T(origin)};
    if (store_query(x->conn, x->arena,
                    "SELECT id FROM tri_requests WHERE insee = ? AND"
                    " origin = ? ORDER BY id LIMIT 1",
                    p, 2, &r, &e) < 0 ||
        r->nrows == 0 ||
        tri_messages(x->conn, x->arena, insee, store_int(r, 0, 0), &msgs, &n,
                     &e) < 0)
        return;
    for (size_t i = n; i-- > 0;) {
        if (msgs[i].kind == TRI_MSG_OUT && msgs[i].body && *msgs[i].body &&
            msgs[i].author && strcmp(msgs[i].author, "systeme") != 0) {
            *ans = msgs[i].body;
            *at = msgs[i].created_at;
            *status = "répondu";
            return;
        }
    }
}

int
asst_handoff_follow(const struct asst_ctx *x, const char *token, json_t **out,
                    struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_commune m;
    char h[65];
    int rc;

    *out = NULL;
    if (!token || strlen(token) < 20 || strlen(token) > 128)
        goto notfound;
    gu_token_hash(token, h);
    struct store_val p[] = {STORE_T(h)};
    rc = store_query(x->conn, x->arena,
                     "SELECT id, insee, status, question, answer, created_at,"
                     " answered_at, updated_at FROM asst_handoffs"
                     " WHERE follow_hash = ?",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        goto notfound;
    rc = store_commune_get(x->conn, x->arena, store_text(r, 0, 1), &m, err);
    if (rc < 0)
        return rc;
    char c_at[32], a_at[32];
    const char *ans = store_text(r, 0, 4);
    const char *status = store_text(r, 0, 2);
    int64_t answered_at = store_int(r, 0, 6);
    if (!ans || !*ans)
        inbox_answer(x, m.insee, store_int(r, 0, 0), &ans, &answered_at,
                     &status);
    gu_time_iso(store_int(r, 0, 5), c_at, sizeof(c_at));
    gu_time_iso(answered_at, a_at, sizeof(a_at));
    *out = json_pack(
        "{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:{s:s, s:s}}", "reference",
        asst_handoff_reference(x->arena, store_int(r, 0, 0),
                               store_int(r, 0, 5)),
        "status", status, "question", store_text(r, 0, 3),
        "created_at", c_at, "answer", ans && *ans ? ans : NULL, "answer_html",
        ans && *ans ? asst_text_html(x->arena, ans) : NULL, "answered_at",
        answered_at > 0 ? a_at : "", "commune", "insee", m.insee, "name",
        m.name);
    if (!*out)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    return 0;
notfound:
    return gu_err_set(err, GU_ENOTFOUND, "token",
                      "Ce lien de suivi n’existe pas ou a expiré.",
                      "unknown follow token");
}

/* ------------------------------------------------------------------ */
/* Agents' side                                                        */
/* ------------------------------------------------------------------ */

#define HANDOFF_COLS                                                           \
    "id, status, question, transcript, email, answer, answered_by,"            \
    " fiche_id, created_at, updated_at, answered_at"

static void
row_handoff(struct gu_arena *a, const struct store_rows *r, size_t i,
            struct asst_handoff *h)
{
    h->id = store_int(r, i, 0);
    h->status = store_text(r, i, 1);
    h->question = store_text(r, i, 2);
    h->transcript = store_text(r, i, 3);
    h->email = store_text(r, i, 4);
    h->answer = store_text(r, i, 5);
    h->answered_by = store_text(r, i, 6);
    h->fiche_id = store_text(r, i, 7);
    h->created_at = store_int(r, i, 8);
    h->updated_at = store_int(r, i, 9);
    h->answered_at = store_int(r, i, 10);
    h->reference = asst_handoff_reference(a, h->id, h->created_at);
}

static bool
status_ok(const char *s)
{
    return s && (strcmp(s, "nouveau") == 0 || strcmp(s, "en cours") == 0 ||
                 strcmp(s, "répondu") == 0);
}

int
asst_handoff_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const struct asst_handoff_filter *f,
                  struct asst_handoff **out, size_t *count, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val p[5];
    size_t np = 0;
    struct gu_buf sql;
    int limit = f && f->limit > 0 && f->limit <= 200 ? f->limit : 50;
    int rc;

    *out = NULL;
    *count = 0;
    if (f && f->status && *f->status && !status_ok(f->status))
        return gu_err_set(err, GU_EINVAL, "status",
                          "Statut inconnu : nouveau, en cours ou répondu.",
                          "bad status");
    gu_buf_init(&sql);
    gu_buf_puts(&sql,
                "SELECT " HANDOFF_COLS " FROM asst_handoffs WHERE insee = ?");
    p[np++] = STORE_T(insee);
    if (f && f->status && *f->status) {
        gu_buf_puts(&sql, " AND status = ?");
        p[np++] = STORE_T(f->status);
    }
    if (f && f->q && *f->q) {
        /* instr() is SQLite's; PostgreSQL gets strpos() from its
         * backend's rewrite later. Plain and injection-free. */
        gu_buf_puts(&sql, " AND instr(lower(question), lower(?)) > 0");
        p[np++] = STORE_T(f->q);
    }
    if (f && f->before_id > 0) {
        gu_buf_puts(&sql, " AND id < ?");
        p[np++] = STORE_I(f->before_id);
    }
    gu_buf_printf(&sql, " ORDER BY id DESC LIMIT %d", limit);
    if (sql.oom) {
        gu_buf_fini(&sql);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    rc = store_query(c, a, sql.p, p, np, &r, err);
    gu_buf_fini(&sql);
    if (rc < 0)
        return rc;
    *out = gu_arena_zalloc(a, (r->nrows + 1) * sizeof(**out));
    if (!*out)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    for (size_t i = 0; i < r->nrows; i++)
        row_handoff(a, r, i, &(*out)[i]);
    *count = r->nrows;
    return 0;
}

int
asst_handoff_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t id, struct asst_handoff *out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    struct store_val p[] = {STORE_I(id), STORE_T(insee)};
    rc = store_query(c, a,
                     "SELECT " HANDOFF_COLS
                     " FROM asst_handoffs WHERE id = ? AND insee = ?",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL,
                          "Cette question n’existe pas dans la commune.",
                          "no handoff %lld", (long long)id);
    row_handoff(a, r, 0, out);
    return 0;
}

int
asst_handoff_set_status(struct store_conn *c, const char *insee, int64_t id,
                        const char *status, const char *actor,
                        const char *request_id, struct gu_err *err)
{
    int64_t changes = 0;
    char target[48];
    int rc;

    if (!status_ok(status))
        return gu_err_set(err, GU_EINVAL, "status",
                          "Statut inconnu : nouveau, en cours ou répondu.",
                          "bad status");
    rc = store_begin(c, err);
    if (rc < 0)
        return rc;
    struct store_val p[] = {STORE_T(status), STORE_I(gu_now()), STORE_I(id),
                            STORE_T(insee)};
    rc = store_exec_changes(c,
                            "UPDATE asst_handoffs SET status = ?,"
                            " updated_at = ? WHERE id = ? AND insee = ?",
                            p, 4, &changes, err);
    if (rc == 0 && changes == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL,
                        "Cette question n’existe pas dans la commune.",
                        "no handoff");
    snprintf(target, sizeof(target), "asst_handoffs:%lld", (long long)id);
    if (rc == 0)
        rc = store_audit_add(c, insee, actor, "asst.handoff.status", target,
                             status, request_id, err);
    if (rc == 0)
        rc = store_commit(c, err);
    if (rc < 0)
        store_rollback(c);
    return rc;
}

int
asst_handoff_answer(struct store_conn *c, struct gu_arena *a, const char *insee,
                    int64_t id, const char *answer, const char *actor,
                    const char *request_id, const char *public_url,
                    struct gu_err *err)
{
    struct asst_handoff h;
    struct store_commune m;
    struct gu_str s = gu_str_trim(gu_str_c(answer));
    char target[48];
    int rc;

    (void)public_url;
    if (s.n == 0)
        return gu_err_set(err, GU_EINVAL, "answer", "Écrivez la réponse.",
                          "empty answer");
    if (asst_utf8_len(s.p, s.n) > ASST_HANDOFF_ANSWER_MAX)
        return gu_err_set(err, GU_EINVAL, "answer",
                          "La réponse est trop longue (20 000 caractères au "
                          "plus).",
                          "answer too long");
    const char *ans = gu_arena_strndup(a, s.p, s.n);
    if (!ans)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    rc = asst_handoff_get(c, a, insee, id, &h, err);
    if (rc < 0)
        return rc;
    rc = store_commune_get(c, a, insee, &m, err);
    if (rc < 0)
        return rc;
    int64_t now = gu_now();
    rc = store_begin(c, err);
    if (rc < 0)
        return rc;
    struct store_val p[] = {STORE_T(ans), STORE_T(actor), STORE_I(now),
                            STORE_I(now), STORE_I(id),    STORE_T(insee)};
    rc = store_exec(c,
                    "UPDATE asst_handoffs SET answer = ?, answered_by = ?,"
                    " answered_at = ?, updated_at = ?, status = 'répondu'"
                    " WHERE id = ? AND insee = ?",
                    p, GU_ARRAY_LEN(p), err);
    snprintf(target, sizeof(target), "asst_handoffs:%lld", (long long)id);
    if (rc == 0)
        rc = store_audit_add(c, insee, actor, "asst.handoff.answer", target,
                             h.reference, request_id, err);
    if (rc == 0)
        rc = store_commit(c, err);
    if (rc < 0) {
        store_rollback(c);
        return rc;
    }
    struct notify_mail mail;
    struct gu_err e2;
    memset(&mail, 0, sizeof(mail));
    mail.insee = insee;
    mail.to = h.email;
    mail.kind = "asst.answer";
    mail.subject = gu_arena_sprintf(a, "Réponse de la mairie de %s (%s)",
                                    m.name, h.reference);
    mail.text = gu_arena_sprintf(
        a,
        "Bonjour,\n\nVoici la réponse de la mairie de %s à votre question :"
        "\n\n« %s »\n\n%s\n\nVous retrouverez aussi cette réponse sur la "
        "page de suivi indiquée dans notre premier courriel.\n\nRéférence : "
        "%s\n",
        m.name, h.question, ans, h.reference);
    gu_err_clear(&e2);
    if (!mail.subject || !mail.text)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    rc = notify_mail_queue(c, &mail, NULL, &e2);
    if (rc < 0) {
        gu_log_error("asst.answer", "mail=not_queued err=%s",
                     gu_status_name(rc));
        return gu_err_set(err, rc, NULL,
                          "La réponse est enregistrée, mais le courriel n’a "
                          "pas pu être mis en file d’envoi.",
                          "mail queue: %s", e2.msg);
    }
    return 0;
}

/* One line of front matter: no newline, no '|'. */
static const char *
fm_value(struct gu_arena *a, const char *s, size_t max)
{
    char *o = gu_arena_strdup(a, s);
    size_t n = 0, k = 0;

    if (!o)
        return NULL;
    for (size_t i = 0; o[i]; i++) {
        char ch = o[i];
        if (ch == '\n' || ch == '\r' || ch == '\t' || ch == '|')
            ch = ' ';
        if (((unsigned char)ch & 0xC0) != 0x80) {
            if (k >= max)
                break;
            k++;
        }
        o[n++] = ch;
    }
    o[n] = '\0';
    return o;
}

int
asst_handoff_to_fiche(struct store_conn *c, struct gu_arena *a,
                      const char *insee, int64_t id, const char *actor,
                      const char *request_id, const char **fiche_id,
                      struct gu_err *err)
{
    struct asst_handoff h;
    struct kb_fiche f;
    char target[48];
    int rc;

    *fiche_id = NULL;
    rc = asst_handoff_get(c, a, insee, id, &h, err);
    if (rc < 0)
        return rc;
    if (!h.answer || !*h.answer)
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Répondez d’abord à la question : la fiche reprend "
                          "votre réponse.",
                          "no answer yet");
    const char *title = fm_value(a, h.question, 200);
    const char *md = title ? gu_arena_sprintf(a,
                                              "---\ntitre: %s\nquestions: "
                                              "%s\n---\n%s\n",
                                              title, title, h.answer)
                           : NULL;
    if (!md)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    memset(&f, 0, sizeof(f));
    rc = kb_markdown_parse(a, md, strlen(md), &f, err);
    if (rc < 0)
        return rc;
    rc =
        kb_local_save(c, a, insee, &f, md, 0, actor, request_id, fiche_id, err);
    if (rc < 0)
        return rc;
    struct store_val p[] = {STORE_T(*fiche_id ? *fiche_id : ""),
                            STORE_I(gu_now()), STORE_I(id), STORE_T(insee)};
    rc = store_exec(c,
                    "UPDATE asst_handoffs SET fiche_id = ?, updated_at = ?"
                    " WHERE id = ? AND insee = ?",
                    p, GU_ARRAY_LEN(p), err);
    if (rc < 0)
        return rc;
    snprintf(target, sizeof(target), "asst_handoffs:%lld", (long long)id);
    return store_audit_add(c, insee, actor, "asst.handoff.fiche", target,
                           *fiche_id ? *fiche_id : "", request_id, err);
}

int
asst_stats_get(struct store_conn *c, const char *insee, int64_t since,
               struct asst_stats *out, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(2048);
    struct store_rows *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    /* The figures count every turn answered so far. */
    asst_writer_flush(asst_engine_writer(asst_engine_of(store_conn_store(c))), c);
    struct store_val p[] = {STORE_T(insee)};
    rc = store_query(c, a,
                     "SELECT status, COUNT(*) FROM asst_handoffs"
                     " WHERE insee = ? GROUP BY status",
                     p, 1, &r, err);
    for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
        const char *s = store_text(r, i, 0);
        int64_t n = store_int(r, i, 1);
        if (strcmp(s, "nouveau") == 0)
            out->handoffs_new = n;
        else if (strcmp(s, "en cours") == 0)
            out->handoffs_open = n;
        else
            out->handoffs_done = n;
    }
    struct store_val p2[] = {STORE_T(insee), STORE_I(since)};
    if (rc == 0)
        rc = store_query(
            c, a,
            "SELECT COALESCE(SUM(CASE WHEN useful = 1 THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN useful = 0 THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN type = 'answer' THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN type = 'clarify' THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN type = 'handoff_offer' THEN 1 ELSE 0"
            " END), 0),"
            " COALESCE(SUM(CASE WHEN type = 'greeting' THEN 1 ELSE 0 END), 0)"
            " FROM asst_messages WHERE insee = ? AND at >= ?",
            p2, 2, &r, err);
    if (rc == 0 && r->nrows) {
        out->useful = store_int(r, 0, 0);
        out->not_useful = store_int(r, 0, 1);
        out->answers = store_int(r, 0, 2);
        out->clarifications = store_int(r, 0, 3);
        out->handoff_offers = store_int(r, 0, 4);
        out->conversations = store_int(r, 0, 5);
    }
    gu_arena_free(a);
    return rc;
}

int
asst_logged_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t handoff_id, int64_t before_id, const char *type,
                 size_t limit, struct asst_logged **out, size_t *count,
                 struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct asst_logged *v;
    int64_t conv = 0;
    int rc;

    *out = NULL;
    *count = 0;
    if (limit == 0 || limit > ASST_LOGGED_MAX)
        limit = ASST_LOGGED_MAX;
    asst_writer_flush(asst_engine_writer(asst_engine_of(store_conn_store(c))),
                      c);
    if (handoff_id > 0) {
        struct store_val p[] = {STORE_I(handoff_id), STORE_T(insee)};
        rc = store_query(c, a,
                         "SELECT COALESCE(conversation_id, 0) FROM"
                         " asst_handoffs WHERE id = ? AND insee = ?",
                         p, 2, &r, err);
        if (rc < 0)
            return rc;
        if (r->nrows == 0)
            return gu_err_set(err, GU_ENOTFOUND, NULL, "Question introuvable.",
                              "asst: handoff %lld not found",
                              (long long)handoff_id);
        conv = store_int(r, 0, 0);
        if (conv == 0)
            return 0; /* the conversation was purged */
    }
    struct store_val p[] = {STORE_T(insee),
                            STORE_I(conv),
                            STORE_I(conv),
                            STORE_I(before_id),
                            STORE_I(before_id),
                            STORE_T(type ? type : ""),
                            STORE_T(type ? type : ""),
                            STORE_I((int64_t)limit)};
    rc = store_query(
        c, a,
        "SELECT id, at, question, type, fiche_id, section, why, score, margin,"
        " COALESCE(useful, -1), comment FROM asst_messages"
        " WHERE insee = ? AND type <> 'greeting'"
        " AND (? = 0 OR conversation_id = ?) AND (? = 0 OR id < ?)"
        " AND (? = '' OR type = ?) ORDER BY id DESC LIMIT ?",
        p, GU_ARRAY_LEN(p), &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return 0;
    v = gu_arena_zalloc(a, r->nrows * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    for (size_t i = 0; i < r->nrows; i++) {
        v[i].id = store_int(r, i, 0);
        v[i].at = store_int(r, i, 1);
        v[i].question = store_text(r, i, 2);
        v[i].type = store_text(r, i, 3);
        v[i].fiche_id = store_text(r, i, 4);
        v[i].section = store_text(r, i, 5);
        v[i].why = store_text(r, i, 6);
        v[i].score = store_real(r, i, 7);
        v[i].margin = store_real(r, i, 8);
        v[i].useful = (int)store_int(r, i, 9);
        v[i].comment = store_text(r, i, 10);
    }
    *out = v;
    *count = r->nrows;
    return 0;
}

int
asst_top_fiches(struct store_conn *c, struct gu_arena *a, const char *insee,
                int64_t since, int min_answers, size_t limit,
                const char ***ids, size_t *count, struct gu_err *err)
{
    struct store_rows *r = NULL;
    const char **v;
    int rc;

    *ids = NULL;
    *count = 0;
    if (limit == 0)
        return 0;
    if (limit > ASST_LOGGED_MAX)
        limit = ASST_LOGGED_MAX;
    struct store_val p[] = {STORE_T(insee), STORE_I(since),
                            STORE_I(min_answers), STORE_I((int64_t)limit)};
    rc = store_query(c, a,
                     "SELECT fiche_id FROM asst_messages WHERE insee = ? AND"
                     " type = 'answer' AND fiche_id <> '' AND at >= ?"
                     " GROUP BY fiche_id HAVING COUNT(*) >= ?"
                     " ORDER BY COUNT(*) DESC, fiche_id LIMIT ?",
                     p, GU_ARRAY_LEN(p), &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    if (!(v = gu_arena_zalloc(a, r->nrows * sizeof(*v))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    for (size_t i = 0; i < r->nrows; i++)
        v[i] = store_text(r, i, 0);
    *ids = v;
    *count = r->nrows;
    return 0;
}
