/*
 * notify.c - the e-mail outbox: schema, queueing, claiming and sending
 * through libcurl's SMTP client.
 *
 * Life of a message: notify_mail_queue() inserts a row "queued". A
 * sender claims due rows in one write transaction (status "sending",
 * attempts + 1), so two nodes sharing the database never take the same
 * row; then it builds the MIME message and hands it to the SMTP server.
 * Success: "sent". Failure: back to "queued" with next_try_at pushed by
 * an exponential backoff (1, 4, 16, 64 minutes), and "failed" after
 * NOTIFY_MAX_ATTEMPTS. A row found "sending" long after its claim (the
 * node died mid-send) becomes "failed" rather than being sent twice:
 * each message goes out at most once.
 *
 * Logs carry the row id and the recipient's domain, never the address,
 * the subject or the text.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <string.h>

#include "notify/notify_internal.h"

#define NOTIFY_MAX_ATTEMPTS 5
#define NOTIFY_BACKOFF_S 60
#define NOTIFY_STALE_S 3600 /* a claim older than this was interrupted */
#define NOTIFY_TEXT_MAX (1 << 20)

static const char v1_outbox[] =
    "CREATE TABLE notify_outbox (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  kind TEXT NOT NULL DEFAULT '',\n"
    "  to_addr TEXT NOT NULL,\n"
    "  subject TEXT NOT NULL,\n"
    "  body TEXT NOT NULL,\n"
    "  attach_name TEXT,\n"
    "  attach_type TEXT,\n"
    "  attach_data TEXT,\n"
    "  status TEXT NOT NULL DEFAULT 'queued'\n"
    "    CHECK (status IN ('queued', 'sending', 'sent', 'failed')),\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  next_try_at BIGINT NOT NULL,\n"
    "  claimed_at BIGINT NOT NULL DEFAULT 0,\n"
    "  sent_at BIGINT NOT NULL DEFAULT 0,\n"
    "  last_error TEXT NOT NULL DEFAULT '',\n"
    "  message_id TEXT NOT NULL DEFAULT '',\n"
    "  created_at BIGINT NOT NULL DEFAULT ($NOW)\n"
    ");\n"
    "CREATE INDEX notify_outbox_due ON notify_outbox (status, next_try_at);\n"
    "CREATE INDEX notify_outbox_insee ON notify_outbox (insee, created_at);\n";

/* Threading of the request inbox's replies: the Message-ID (set at
 * queueing when the caller made one, else at sending) already has its
 * column. */
static const char v2_thread[] =
    "ALTER TABLE notify_outbox ADD COLUMN in_reply_to TEXT NOT NULL "
    "DEFAULT '';\n"
    "ALTER TABLE notify_outbox ADD COLUMN reply_to TEXT NOT NULL "
    "DEFAULT '';\n";

/* Jobs that one node of the instance runs per period (notify_job.once):
 * the next time any node may run each. */
static const char v3_job_runs[] =
    "CREATE TABLE job_runs (\n"
    "  name TEXT PRIMARY KEY,\n"
    "  next_at BIGINT NOT NULL\n"
    ");\n";

static const struct store_migration migrations[] = {
    {"notify", 1, v1_outbox},
    {"notify", 2, v2_thread},
    {"notify", 3, v3_job_runs},
};

const struct store_migration *
notify_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(migrations);
    return migrations;
}

/* ------------------------------------------------------------------ */
/* Queue                                                               */
/* ------------------------------------------------------------------ */

static bool
one_line(const char *s)
{
    return s && !strchr(s, '\r') && !strchr(s, '\n');
}

/* "a@b.fr" or "Name <a@b.fr>", one line. */
static bool
reply_to_valid(const char *s)
{
    struct gu_arena *a = gu_arena_new(512);
    const char *name, *addr;
    bool ok;

    if (!a)
        return false;
    ok = strlen(s) <= 300 && notify_from_parse(a, s, &name, &addr) == 0;
    gu_arena_free(a);
    return ok;
}

const char *
notify_message_id(struct gu_arena *a, const struct gu_config *cfg)
{
    const char *name, *addr, *dom = "guichet.invalid";
    char tok[32];

    if (cfg && notify_from_parse(a, gu_config_str(cfg, "smtp.from"), &name,
                                 &addr) == 0)
        dom = strchr(addr, '@') + 1;
    if (gu_random_token(tok, sizeof(tok), 16) < 0)
        return NULL;
    return gu_arena_sprintf(a, "<%s@%s>", tok, dom);
}

int
notify_mail_queue(struct store_conn *c, const struct notify_mail *m,
                  int64_t *id_out, struct gu_err *err)
{
    struct gu_arena *a;
    struct store_rows *r = NULL;
    bool att = m->attach_name || m->attach_type || m->attach_data;
    int rc;

    if (!m->insee || !store_insee_valid(m->insee))
        return gu_err_set(err, GU_EINVAL, "insee", "Commune invalide.",
                          "notify: bad insee");
    if (!m->to || !notify_addr_valid(m->to))
        return gu_err_set(err, GU_EINVAL, "to",
                          "Adresse e-mail invalide (ex. "
                          "prenom.nom@exemple.fr).",
                          "notify: bad address");
    if (!one_line(m->subject) || !*m->subject ||
        strlen(m->subject) > 900 ||
        !gu_utf8_valid(m->subject, strlen(m->subject)))
        return gu_err_set(err, GU_EINVAL, "subject",
                          "Objet invalide : une seule ligne, au plus 900 "
                          "octets.",
                          "notify: bad subject");
    if (!m->text || strlen(m->text) > NOTIFY_TEXT_MAX ||
        !gu_utf8_valid(m->text, strlen(m->text)))
        return gu_err_set(err, GU_EINVAL, "text",
                          "Texte invalide (UTF-8, 1 Mo au plus).",
                          "notify: bad text");
    if (m->kind && (!one_line(m->kind) || strlen(m->kind) > 64))
        return gu_err_set(err, GU_EINVAL, "kind", NULL, "notify: bad kind");
    if (m->message_id && *m->message_id && !notify_msgid_valid(m->message_id))
        return gu_err_set(err, GU_EINVAL, "message_id", NULL,
                          "notify: bad message_id");
    if (m->in_reply_to && *m->in_reply_to &&
        !notify_msgid_valid(m->in_reply_to))
        return gu_err_set(err, GU_EINVAL, "in_reply_to", NULL,
                          "notify: bad in_reply_to");
    if (m->reply_to && *m->reply_to && !reply_to_valid(m->reply_to))
        return gu_err_set(err, GU_EINVAL, "reply_to",
                          "Adresse de réponse invalide (ex. « Mairie "
                          "<demandes@exemple.fr> »).",
                          "notify: bad reply_to");
    if (att && (!m->attach_name || !m->attach_type || !m->attach_data ||
                !one_line(m->attach_name) || !one_line(m->attach_type) ||
                strlen(m->attach_data) > NOTIFY_TEXT_MAX))
        return gu_err_set(err, GU_EINVAL, "attachment",
                          "Pièce jointe incomplète (nom, type et contenu).",
                          "notify: bad attachment");
    a = gu_arena_new(0);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    {
        struct store_val p[] = {
            STORE_T(m->insee),       STORE_T(m->kind ? m->kind : ""),
            STORE_T(m->to),          STORE_T(m->subject),
            STORE_T(m->text),        STORE_T(att ? m->attach_name : NULL),
            STORE_T(att ? m->attach_type : NULL),
            STORE_T(att ? m->attach_data : NULL),
            STORE_I(gu_now()),       STORE_I(gu_now()),
            STORE_T(m->message_id ? m->message_id : ""),
            STORE_T(m->in_reply_to ? m->in_reply_to : ""),
            STORE_T(m->reply_to ? m->reply_to : "")};

        rc = store_query(c, a,
                         "INSERT INTO notify_outbox (insee, kind, to_addr, "
                         "subject, body, attach_name, attach_type, "
                         "attach_data, next_try_at, created_at, "
                         "message_id, in_reply_to, reply_to) VALUES "
                         "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                         "RETURNING id",
                         p, GU_ARRAY_LEN(p), &r, err);
    }
    if (rc == 0 && id_out)
        *id_out = store_int(r, 0, 0);
    if (rc == GU_ECONFLICT)
        gu_err_set(err, GU_EINVAL, "insee", "Commune inconnue.",
                   "notify: unknown commune");
    gu_arena_free(a);
    return rc == GU_ECONFLICT ? GU_EINVAL : rc;
}

int
notify_mail_get(struct store_conn *c, struct gu_arena *a, int64_t id,
                struct notify_mail_state *out, struct gu_err *err)
{
    struct store_val p[1] = {STORE_I(id)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT status, attempts, next_try_at, sent_at, "
                     "last_error, message_id FROM notify_outbox WHERE id = ?",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL, "Message inconnu.",
                          "notify: no message %lld", (long long)id);
    out->status = store_text(r, 0, 0);
    out->attempts = (int)store_int(r, 0, 1);
    out->next_try_at = store_int(r, 0, 2);
    out->sent_at = store_int(r, 0, 3);
    out->last_error = store_text(r, 0, 4);
    out->message_id = store_text(r, 0, 5);
    return 0;
}

/* ------------------------------------------------------------------ */
/* SMTP settings                                                       */
/* ------------------------------------------------------------------ */

struct smtp_cfg {
    const char *url, *from, *user, *password;
    const char *from_addr; /* envelope sender, from smtp.from */
    const char *from_domain;
    bool starttls;
    long timeout_ms;
};

static int
smtp_cfg_read(const struct gu_config *cfg, struct gu_arena *a,
              struct smtp_cfg *sc, struct gu_err *err)
{
    const char *name;

    sc->url = gu_config_str(cfg, "smtp.url");
    sc->from = gu_config_str(cfg, "smtp.from");
    sc->user = gu_config_str(cfg, "smtp.user");
    sc->password = gu_config_str(cfg, "smtp.password");
    sc->starttls = gu_config_bool(cfg, "smtp.starttls");
    sc->timeout_ms = gu_config_int(cfg, "smtp.timeout_ms");
    if (strncmp(sc->url, "smtp://", 7) != 0 &&
        strncmp(sc->url, "smtps://", 8) != 0)
        return gu_err_set(err, GU_ECONFIG, "smtp.url",
                          "smtp.url doit commencer par smtp:// ou smtps:// "
                          "(ex. smtp://127.0.0.1:25).",
                          "notify: bad smtp.url scheme");
    if (notify_from_parse(a, sc->from, &name, &sc->from_addr) < 0)
        return gu_err_set(err, GU_ECONFIG, "smtp.from",
                          "smtp.from doit être une adresse valide, ex. "
                          "« Mairie de Saint-Exemple <mairie@exemple.fr> ».",
                          "notify: bad smtp.from");
    sc->from_domain = strchr(sc->from_addr, '@') + 1;
    return 0;
}

int
notify_smtp_check(const struct gu_config *cfg, struct gu_err *err)
{
    struct gu_arena *a;
    struct smtp_cfg sc;
    int rc;

    if (!*gu_config_str(cfg, "smtp.url"))
        return gu_err_set(err, GU_ECONFIG, "smtp.url",
                          "Aucun serveur d'envoi configuré : renseignez "
                          "smtp.url (ex. smtp://127.0.0.1:25) et smtp.from.",
                          "notify: smtp off");
    a = gu_arena_new(0);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = smtp_cfg_read(cfg, a, &sc, err);
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Sending one message with libcurl                                    */
/* ------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void
curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

struct upload {
    const char *p;
    size_t left;
};

/* Abort a transfer when the runner is stopping (serve shuts down). */
static int
progress_cb(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
            curl_off_t un)
{
    (void)ud;
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return notify_job_should_stop() ? 1 : 0;
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    struct upload *u = ud;
    size_t n = size * nitems;

    if (n > u->left)
        n = u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

/*
 * Hand one built message to the SMTP server. On failure writes a short
 * English reason (curl's error and the SMTP reply code, never the
 * server's text, which may echo the address) into why.
 */
static int
smtp_send(const struct smtp_cfg *sc, const char *to, const struct gu_buf *msg,
          char *why, size_t cap)
{
    CURL *h;
    struct curl_slist *rcpt = NULL;
    struct upload u = {msg->p, msg->n};
    char from[300], rto[300];
    CURLcode cc;
    long code = 0;

    pthread_once(&curl_once, curl_init);
    if (curl_init_rc < 0 || !(h = curl_easy_init())) {
        snprintf(why, cap, "curl init failed");
        return GU_EINTERNAL;
    }
    snprintf(from, sizeof(from), "<%s>", sc->from_addr);
    snprintf(rto, sizeof(rto), "<%s>", to);
    rcpt = curl_slist_append(NULL, rto);
    if (!rcpt) {
        curl_easy_cleanup(h);
        snprintf(why, cap, "out of memory");
        return GU_ENOMEM;
    }
    curl_easy_setopt(h, CURLOPT_URL, sc->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->n);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, sc->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     sc->timeout_ms < 10000 ? sc->timeout_ms : 10000L);
    if (strncmp(sc->url, "smtp://", 7) == 0)
        curl_easy_setopt(h, CURLOPT_USE_SSL,
                         sc->starttls ? (long)CURLUSESSL_ALL
                                      : (long)CURLUSESSL_NONE);
    if (*sc->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, sc->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, sc->password);
    }
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    if (cc == CURLE_OK)
        return 0;
    snprintf(why, cap, "%s (smtp %ld)", curl_easy_strerror(cc), code);
    return GU_EIO;
}

/* ------------------------------------------------------------------ */
/* Claim, send, record                                                 */
/* ------------------------------------------------------------------ */

#define CLAIM_COLS                                                       \
    " RETURNING id, to_addr, subject, body, attach_name, attach_type, " \
    "attach_data, attempts, message_id, in_reply_to, reply_to"

/*
 * Claim due rows (or the one row `only`, due or not) in one write
 * transaction; rows land in *out. Interrupted claims are failed first.
 */
int
notify_claim(struct store_conn *c, struct gu_arena *a, int64_t only, int max,
             struct store_rows **out, struct gu_err *err)
{
    int64_t now = gu_now();
    int rc;

    rc = store_begin(c, err);
    if (rc < 0)
        return rc;
    {
        struct store_val p[1] = {STORE_I(now - NOTIFY_STALE_S)};

        rc = store_exec(c,
                        "UPDATE notify_outbox SET status = 'failed', "
                        "last_error = 'interrupted while sending' "
                        "WHERE status = 'sending' AND claimed_at < ?",
                        p, 1, err);
    }
    /* A training sandbox's messages never leave: its addresses are
     * fictitious, or typed by an agent practising. */
    if (rc == 0)
        rc = store_exec(c,
                        "UPDATE notify_outbox SET status = 'failed', "
                        "last_error = 'bac à sable de formation : jamais "
                        "envoyé' WHERE status = 'queued' AND "
                        STORE_SANDBOX_SQL("insee"),
                        NULL, 0, err);
    if (rc == 0 && only > 0) {
        struct store_val p[2] = {STORE_I(now), STORE_I(only)};

        rc = store_query(c, a,
                         "UPDATE notify_outbox SET status = 'sending', "
                         "attempts = attempts + 1, claimed_at = ? "
                         "WHERE id = ? AND status = 'queued'" CLAIM_COLS,
                         p, 2, out, err);
    } else if (rc == 0) {
        struct store_val p[3] = {STORE_I(now), STORE_I(now), STORE_I(max)};

        rc = store_query(c, a,
                         "UPDATE notify_outbox SET status = 'sending', "
                         "attempts = attempts + 1, claimed_at = ? "
                         "WHERE status = 'queued' AND id IN (SELECT id FROM "
                         "notify_outbox WHERE status = 'queued' AND "
                         "next_try_at <= ? ORDER BY next_try_at, id "
                         "LIMIT ?)" CLAIM_COLS,
                         p, 3, out, err);
    }
    if (rc < 0) {
        store_rollback(c);
        return rc;
    }
    return store_commit(c, err);
}

int64_t
notify_backoff_s(int attempts)
{
    int64_t d = NOTIFY_BACKOFF_S;

    for (int k = 1; k < attempts && d < 6 * 3600; k++)
        d *= 4;
    return d < 6 * 3600 ? d : 6 * 3600;
}

/* Record the outcome of one attempt. */
static int
record(struct store_conn *c, int64_t id, int attempts, int send_rc,
       bool permanent, const char *why, const char *msgid,
       struct gu_err *err)
{
    int64_t now = gu_now();

    if (send_rc == 0) {
        struct store_val p[3] = {STORE_I(now), STORE_T(msgid), STORE_I(id)};

        return store_exec(c,
                          "UPDATE notify_outbox SET status = 'sent', "
                          "sent_at = ?, message_id = ?, last_error = '' "
                          "WHERE id = ?",
                          p, 3, err);
    }
    if (permanent || attempts >= NOTIFY_MAX_ATTEMPTS) {
        struct store_val p[2] = {STORE_T(why), STORE_I(id)};

        return store_exec(c,
                          "UPDATE notify_outbox SET status = 'failed', "
                          "last_error = ? WHERE id = ?",
                          p, 2, err);
    }
    {
        struct store_val p[3] = {STORE_I(now + notify_backoff_s(attempts)),
                                 STORE_T(why), STORE_I(id)};

        return store_exec(c,
                          "UPDATE notify_outbox SET status = 'queued', "
                          "next_try_at = ?, last_error = ? WHERE id = ?",
                          p, 3, err);
    }
}

/* Give claimed rows [from, nrows) back to the queue, attempt not counted. */
static void
release(struct store_conn *c, const struct store_rows *r, size_t from)
{
    for (size_t i = from; i < r->nrows; i++) {
        struct store_val p[1] = {STORE_I(store_int(r, i, 0))};
        struct gu_err e2;

        gu_err_clear(&e2);
        if (store_exec(c,
                       "UPDATE notify_outbox SET status = 'queued', "
                       "attempts = attempts - 1 WHERE id = ? AND "
                       "status = 'sending'",
                       p, 1, &e2) < 0)
            gu_log_error("mail.release_fail", "err=\"%s\"", e2.msg);
    }
}

static const char *
domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at ? at + 1 : "";
}

/*
 * Build and send every claimed row, recording each outcome. *sent gets
 * how many went out; the return is the first send error (0 if none),
 * with a French err->user for the CLI.
 */
static int
send_rows(struct store_conn *c, const struct smtp_cfg *sc,
          const struct store_rows *r, int *sent, struct gu_err *err)
{
    int first = 0;

    for (size_t i = 0; i < r->nrows; i++) {
        int64_t id = store_int(r, i, 0), t0 = gu_now_ms();
        int attempts = (int)store_int(r, i, 7), rc;
        const char *to = store_text(r, i, 1);
        struct notify_msg m = {
            .from = sc->from,
            .to = to,
            .subject = store_text(r, i, 2),
            .text = store_text(r, i, 3),
            .attach_name = store_text(r, i, 4),
            .attach_type = store_text(r, i, 5),
            .attach_data = store_text(r, i, 6),
            .date = gu_now(),
            .in_reply_to = store_text(r, i, 9),
            .reply_to = store_text(r, i, 10),
        };
        const char *fixed_id = store_text(r, i, 8);
        char tok[32], bnd[48], msgid[320], why[300] = "";
        struct gu_buf b;
        struct gu_err e2;
        bool permanent = false;

        if (notify_job_should_stop()) {
            release(c, r, i);
            break;
        }
        gu_err_clear(&e2);
        /* a Message-ID chosen at queueing (threading) is kept; else one
         * is made now, with the sender's domain */
        if (fixed_id && *fixed_id) {
            snprintf(msgid, sizeof(msgid), "%s", fixed_id);
        } else {
            gu_random_token(tok, sizeof(tok), 16);
            snprintf(msgid, sizeof(msgid), "<%s@%s>", tok, sc->from_domain);
        }
        gu_random_token(tok, sizeof(tok), 12);
        snprintf(bnd, sizeof(bnd), "=_guichet_%s", tok);
        m.message_id = msgid;
        m.boundary = bnd;
        gu_buf_init(&b);
        rc = notify_mime_build(&m, &b, &e2);
        if (rc == GU_EINVAL) {
            permanent = true; /* the row itself is bad: no retry */
            snprintf(why, sizeof(why), "%.250s", e2.msg);
        } else if (rc < 0) {
            snprintf(why, sizeof(why), "%.250s", e2.msg);
        } else {
            rc = smtp_send(sc, to, &b, why, sizeof(why));
        }
        gu_buf_fini(&b);
        if (record(c, id, attempts, rc, permanent, why, msgid, &e2) < 0)
            gu_log_error("mail.record_fail", "id=%lld err=\"%s\"",
                         (long long)id, e2.msg);
        if (rc == 0) {
            (*sent)++;
            gu_log_info("mail.sent", "id=%lld domain=%s attempts=%d ms=%lld",
                        (long long)id, domain_of(to), attempts,
                        (long long)(gu_now_ms() - t0));
            continue;
        }
        {
            char q[256];
            bool last = permanent || attempts >= NOTIFY_MAX_ATTEMPTS;

            gu_log(last ? GU_LOG_ERROR : GU_LOG_WARN,
                   last ? "mail.failed" : "mail.retry",
                   "id=%lld domain=%s attempts=%d err=%s", (long long)id,
                   domain_of(to), attempts, gu_logq(q, sizeof(q), why));
        }
        if (!first) {
            first = rc;
            gu_err_set(err, rc, NULL, NULL, "send: %s", why);
            snprintf(err->user, sizeof(err->user),
                     "Échec de l'envoi (%s).", why);
        }
        /* the server is unreachable or refusing: the rest of the batch
         * would fail the same way, so it goes back untouched */
        if (!permanent) {
            release(c, r, i + 1);
            break;
        }
    }
    return first;
}

int
notify_mail_send_due(struct store *s, const struct gu_config *cfg, int max,
                     int *sent, struct gu_err *err)
{
    struct gu_arena *a;
    struct store_conn *c = NULL;
    struct store_rows *r = NULL;
    struct smtp_cfg sc;
    int rc;

    *sent = 0;
    if (!*gu_config_str(cfg, "smtp.url"))
        return 0;
    a = gu_arena_new(0);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = smtp_cfg_read(cfg, a, &sc, err);
    if (rc < 0)
        goto out;
    rc = store_acquire(s, &c, err);
    if (rc < 0)
        goto out;
    rc = notify_claim(c, a, 0, max > 0 ? max : 1, &r, err);
    if (rc == 0)
        rc = send_rows(c, &sc, r, sent, err);
out:
    store_release(c);
    gu_arena_free(a);
    return rc;
}

int
notify_mail_send_one(struct store *s, const struct gu_config *cfg,
                     int64_t id, struct gu_err *err)
{
    struct gu_arena *a;
    struct store_conn *c = NULL;
    struct store_rows *r = NULL;
    struct smtp_cfg sc;
    int rc, sent = 0;

    if (!*gu_config_str(cfg, "smtp.url"))
        return gu_err_set(err, GU_ECONFIG, "smtp.url",
                          "Aucun serveur d'envoi configuré (smtp.url est "
                          "vide) : le message reste en file.",
                          "notify: smtp off");
    a = gu_arena_new(0);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = smtp_cfg_read(cfg, a, &sc, err);
    if (rc < 0)
        goto out;
    rc = store_acquire(s, &c, err);
    if (rc < 0)
        goto out;
    rc = notify_claim(c, a, id, 1, &r, err);
    if (rc == 0 && r->nrows == 0)
        rc = gu_err_set(err, GU_ECONFLICT, NULL,
                        "Ce message n'est pas en attente d'envoi.",
                        "notify: %lld not queued", (long long)id);
    if (rc == 0)
        rc = send_rows(c, &sc, r, &sent, err);
out:
    store_release(c);
    gu_arena_free(a);
    return rc;
}

int
notify_mail_purge(struct store *s, int older_than_s, struct gu_err *err)
{
    struct store_conn *c = NULL;
    struct store_val p[1] = {STORE_I(gu_now() - older_than_s)};
    int64_t changes = 0;
    int rc;

    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
    rc = store_exec_changes(c,
                            "DELETE FROM notify_outbox WHERE status <> "
                            "'sending' AND created_at < ?",
                            p, 1, &changes, err);
    store_release(c);
    if (rc < 0)
        return rc;
    return changes > 0x7fffffff ? 0x7fffffff : (int)changes;
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                */
/* ------------------------------------------------------------------ */

static int
job_send(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    int sent = 0, rc;

    rc = notify_mail_send_due(s, cfg, 50, &sent, err);
    /* a failed message is recorded and retried: the run itself went
     * fine unless the store or the configuration failed */
    if (rc == GU_EIO)
        rc = 0;
    return rc < 0 ? rc : sent;
}

static int
job_purge(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    long days = gu_config_int(cfg, "notify.retention_days");

    return notify_mail_purge(s, (int)(days * 86400), err);
}

static const struct notify_job jobs[] = {
    {"mail.send", 10, job_send, false},
    {"mail.purge", 86400, job_purge, false},
};

const struct notify_job *
notify_jobs(size_t *count)
{
    *count = GU_ARRAY_LEN(jobs);
    return jobs;
}
