/*
 * tri_inbox.c - what agents do on requests (see tri.h, « Agents'
 * actions »): status, service, urgency, assignment and case changes, one
 * at a time or in bulk (all or nothing), internal notes, replies by
 * e-mail, and the reply templates.
 *
 * Rules kept here:
 *   - statuses: an open request (à trier, nouvelle, en cours, attente)
 *     moves freely between open statuses and to a closed one (résolue,
 *     rejetée); « à trier » means « no service » and every other open
 *     status and « résolue » need a service; a closed request changes
 *     again only through an explicit status (it is « rouverte ») - a
 *     service correction is still allowed (training data), not an
 *     urgency, assignment or case change;
 *   - a service set by an agent is a correction: service_source becomes
 *     "agent" and a tri_decisions row keeps the previous value (the
 *     model's guess), which is what the retraining learns from; setting
 *     the service the model chose records a confirmation;
 *   - every change writes one tri_decisions row per field (source
 *     "agent") and one audit entry per request, in the same transaction;
 *   - bookkeeping: resolved_at when closed (cleared on reopening),
 *     first_reply_at at the first reply, due_at recomputed from the
 *     service's SLA when the service or the urgency changes;
 *   - the resident is e-mailed on a status change that concerns them
 *     (en cours, attente, résolue, rejetée, rouverte) when the request
 *     has an e-mail and asked for it. Only hashes of status-page tokens
 *     are stored, so each e-mail carries a fresh token, added to the
 *     request's others (tri_tokens): every link the resident received
 *     keeps working until the request is anonymised.
 *     The e-mail is threaded (Message-ID kept as an « evenement » message
 *     of the request, In-Reply-To the resident's last message, Reply-To
 *     triage.reply_to) so a reply to it lands back in the request.
 */
#include "triage/tri.h"
#include "triage/tri_engine.h"

#include "privacy/privacy.h"

#include <stdio.h>
#include <string.h>

#define TEMPLATES_MAX 200     /* reply templates of one commune */
#define TEMPLATE_NAME_MAX 200 /* bytes */

static const char NOT_FOUND[] = "Cette demande n’existe pas dans la commune.";

/* ------------------------------------------------------------------ */
/* The rows we work on                                                 */
/* ------------------------------------------------------------------ */

/* What the actions need of a request (strings in the call's arena). */
struct row {
    int64_t id;
    const char *number;
    int status;
    int64_t service_id;
    const char *service_code, *service_name, *service_source;
    int sla_hours;
    int urgency;
    int64_t assigned_to, case_id;
    const char *subject, *contact_name, *contact_email, *origin;
    bool notify;
    int64_t created_at, due_at, first_reply_at, resolved_at, anonymised_at;
};

static int
oom(struct gu_err *err)
{
    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "triage: out of memory");
}

static bool
is_closed(int s)
{
    return s == TRI_RESOLUE || s == TRI_REJETEE;
}

static int
load_row(struct store_conn *c, struct gu_arena *a, const char *insee,
         int64_t id, struct row *out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    enum tri_status st;
    int rc;

    struct store_val p[] = {STORE_I(id), STORE_T(insee)};
    rc = store_query(
        c, a,
        "SELECT r.id, r.number, r.status, r.service_id, COALESCE(s.code, ''),"
        " COALESCE(s.name, ''), r.service_source, COALESCE(s.sla_hours, 0),"
        " r.urgency, r.assigned_to, r.case_id, r.subject, r.contact_name,"
        " r.contact_email, r.origin, r.notify, r.created_at, r.due_at,"
        " r.first_reply_at, r.resolved_at, r.anonymised_at"
        " FROM tri_requests r LEFT JOIN tri_services s"
        " ON s.id = r.service_id AND s.insee = r.insee"
        " WHERE r.id = ? AND r.insee = ?",
        p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL, NOT_FOUND,
                          "triage: no request %lld in %s", (long long)id,
                          insee);
    memset(out, 0, sizeof(*out));
    out->id = store_int(r, 0, 0);
    out->number = store_text(r, 0, 1);
    if (tri_status_parse(store_text(r, 0, 2), &st) < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "triage: bad stored status");
    out->status = (int)st;
    out->service_id = store_int(r, 0, 3);
    out->service_code = store_text(r, 0, 4);
    out->service_name = store_text(r, 0, 5);
    out->service_source = store_text(r, 0, 6);
    out->sla_hours = (int)store_int(r, 0, 7);
    out->urgency = (int)store_int(r, 0, 8);
    out->assigned_to = store_int(r, 0, 9);
    out->case_id = store_int(r, 0, 10);
    out->subject = store_text(r, 0, 11);
    out->contact_name = store_text(r, 0, 12);
    out->contact_email = store_text(r, 0, 13);
    out->origin = store_text(r, 0, 14);
    out->notify = store_int(r, 0, 15) != 0;
    out->created_at = store_int(r, 0, 16);
    out->due_at = store_int(r, 0, 17);
    out->first_reply_at = store_int(r, 0, 18);
    out->resolved_at = store_int(r, 0, 19);
    out->anonymised_at = store_int(r, 0, 20);
    return 0;
}

/* An active service of the commune: its code and SLA. */
static int
load_service(struct store_conn *c, struct gu_arena *a, const char *insee,
             int64_t id, const char **code, const char **name, int *sla,
             struct gu_err *err)
{
    struct store_rows *r = NULL;
    int rc;

    struct store_val p[] = {STORE_I(id), STORE_T(insee)};
    rc = store_query(c, a,
                     "SELECT code, name, sla_hours FROM tri_services"
                     " WHERE id = ? AND insee = ? AND active = 1",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_EINVAL, "service",
                          "Service inconnu ou désactivé dans cette commune.",
                          "triage: no active service %lld", (long long)id);
    *code = store_text(r, 0, 0);
    *name = store_text(r, 0, 1);
    *sla = (int)store_int(r, 0, 2);
    return 0;
}

/*
 * The SLA deadline, as the intake sets it: the service's hours from the
 * request's creation, halved when prioritaire, a quarter (at most a day)
 * when urgente; at least an hour.
 */
static int64_t
due_from(int64_t created_at, int sla_hours, int urgency)
{
    int64_t h = sla_hours > 0 ? sla_hours : 72;

    if (urgency >= 2)
        h = h / 4 < 24 ? h / 4 : 24;
    else if (urgency == 1)
        h /= 2;
    if (h < 1)
        h = 1;
    return created_at + h * 3600;
}

static int
decision(struct store_conn *c, const char *insee, int64_t id, const char *kind,
         const char *value, const char *previous, const char *actor,
         struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee), STORE_I(id),
                            STORE_T(kind),  STORE_T(value),
                            STORE_T(previous ? previous : ""),
                            STORE_T(actor ? actor : ""),
                            STORE_I(gu_now())};
    return store_exec(c,
                      "INSERT INTO tri_decisions (insee, request_id, kind,"
                      " value, previous, confidence, model_version, source,"
                      " actor, created_at) VALUES (?, ?, ?, ?, ?, 0, '',"
                      " 'agent', ?, ?)",
                      p, GU_ARRAY_LEN(p), err);
}

static int
audit(struct store_conn *c, const char *insee, const char *actor,
      const char *action, int64_t id, const char *detail, struct gu_err *err)
{
    char target[48];

    snprintf(target, sizeof(target), "tri_requests:%lld", (long long)id);
    return store_audit_add(c, insee, actor ? actor : "", action, target,
                           detail ? detail : "", gu_log_request_id(), err);
}

/* ------------------------------------------------------------------ */
/* E-mails to the resident                                             */
/* ------------------------------------------------------------------ */

/*
 * A fresh status-page token: the link of the e-mail being written (in
 * the arena) and the hash that set_token() stores once the e-mail is
 * queued (beside the request's earlier ones).
 */
static int
fresh_link(struct gu_arena *a, const struct gu_config *cfg, const char **url,
           char hash[65], struct gu_err *err)
{
    char token[64];

    if (gu_random_token(token, sizeof(token), 32) < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "triage: random");
    gu_token_hash(token, hash);
    *url = gu_arena_sprintf(a, "%s/demande/suivi/%s", gu_public_base(a, cfg),
                            token);
    return *url ? 0 : oom(err);
}

static int
set_token(struct store_conn *c, const char *insee, int64_t id,
          const char *hash, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(hash), STORE_I(id), STORE_T(insee)};
    int rc = store_exec(c,
                        "UPDATE tri_requests SET token_hash = ?"
                        " WHERE id = ? AND insee = ?",
                        p, 3, err);

    return rc < 0 ? rc : tri_token_add(c, insee, id, hash, err);
}

/* "<left@right>" on one line: what a Message-ID may be to be reused. */
static bool
msgid_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n < 5 || n > 250 || s[0] != '<' || s[n - 1] != '>' ||
        !memchr(s, '@', n))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == '<' || s[i] == '>' ||
            (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

/* The Message-ID the resident wrote last (a message, or the e-mail the
 * request came from, kept on the reception event), or NULL. */
static const char *
last_incoming(struct store_conn *c, struct gu_arena *a, const char *insee,
              const struct row *w)
{
    struct store_rows *r = NULL;
    struct gu_err e;

    struct store_val p[] = {STORE_I(w->id), STORE_T(insee)};
    if (store_query(c, a,
                    "SELECT mail_message_id FROM tri_messages"
                    " WHERE request_id = ? AND insee = ? AND (kind ="
                    " 'entrant' OR (kind = 'evenement' AND author ="
                    " 'systeme')) AND mail_message_id <> ''"
                    " ORDER BY id DESC LIMIT 1",
                    p, 2, &r, &e) == 0 &&
        r->nrows == 1 && msgid_ok(store_text(r, 0, 0)))
        return store_text(r, 0, 0);
    /* The request itself came by e-mail: origin "mail:<id@host>". */
    if (w->origin && strncmp(w->origin, "mail:<", 6) == 0 &&
        msgid_ok(w->origin + 5))
        return w->origin + 5;
    return NULL;
}

static const char *
reply_to(const struct gu_config *cfg)
{
    const char *s = cfg ? gu_config_str(cfg, "triage.reply_to") : "";
    return s && *s ? s : NULL;
}

/* What a status means to the resident, as the end of « Votre demande… ». */
static const char *
status_phrase(int status, bool reopened)
{
    if (reopened)
        return "a été rouverte";
    switch (status) {
    case TRI_EN_COURS:
        return "est en cours de traitement";
    case TRI_ATTENTE:
        return "attend une réponse de votre part";
    case TRI_RESOLUE:
        return "est résolue";
    case TRI_REJETEE:
        return "a été classée sans suite";
    default:
        return "a bien été enregistrée";
    }
}

/*
 * Queue one threaded e-mail to the resident and keep its Message-ID as a
 * message of the request (kind `kind`; `body` is what the thread shows).
 * The request's status token becomes `token_hash` (the link in `text`).
 * In the caller's transaction; nothing is written when queueing fails.
 * *msg_id may be NULL.
 */
static int
mail_resident(struct store_conn *c, struct gu_arena *a,
              const struct gu_config *cfg, const char *insee,
              const struct row *w, const char *subject, const char *text,
              const char *kind_name, enum tri_msg_kind kind, const char *author,
              const char *thread_body, const char *thread_redacted,
              const char *token_hash, int64_t *msg_id, struct gu_err *err)
{
    struct notify_mail m;
    struct store_rows *r = NULL;
    int64_t mail_id = 0;
    int rc;

    memset(&m, 0, sizeof(m));
    m.insee = insee;
    m.to = w->contact_email;
    m.subject = subject;
    m.text = text;
    m.kind = kind_name;
    m.message_id = notify_message_id(a, cfg);
    m.in_reply_to = last_incoming(c, a, insee, w);
    m.reply_to = reply_to(cfg);
    if (!m.message_id)
        return oom(err);
    rc = notify_mail_queue(c, &m, &mail_id, err);
    if (rc == 0)
        rc = set_token(c, insee, w->id, token_hash, err);
    if (rc < 0)
        return rc;
    struct store_val p[] = {STORE_T(insee),
                            STORE_I(w->id),
                            STORE_T(tri_msg_kind_name(kind)),
                            STORE_T(author ? author : ""),
                            STORE_T(thread_body),
                            STORE_T(thread_redacted),
                            STORE_T(m.message_id),
                            STORE_I(mail_id),
                            STORE_I(gu_now())};
    rc = store_query(c, a,
                     "INSERT INTO tri_messages (insee, request_id, kind,"
                     " author, from_addr, body, body_redacted,"
                     " mail_message_id, mail_id, created_at) VALUES"
                     " (?, ?, ?, ?, '', ?, ?, ?, ?, ?) RETURNING id",
                     p, GU_ARRAY_LEN(p), &r, err);
    if (rc < 0)
        return rc;
    if (msg_id)
        *msg_id = store_int(r, 0, 0);
    return 0;
}

static const char *
commune_name(struct store_conn *c, struct gu_arena *a, const char *insee)
{
    struct store_commune m;
    struct gu_err e;

    if (store_commune_get(c, a, insee, &m, &e) == 0 && m.name && *m.name)
        return m.name;
    return "votre commune";
}

static const char *
greeting(struct gu_arena *a, const struct row *w)
{
    return w->contact_name && *w->contact_name
               ? gu_arena_sprintf(a, "Bonjour %s,", w->contact_name)
               : "Bonjour,";
}

/* The status e-mail (when the resident asked for e-mails). */
static int
mail_status(struct store_conn *c, struct gu_arena *a,
            const struct gu_config *cfg, const char *insee,
            const struct row *w, int status, bool reopened,
            const char *actor, struct gu_err *err)
{
    const char *url = NULL, *subject, *text, *town, *event;
    char hash[65];
    struct gu_err e2;
    int rc;

    if (!w->notify || !w->contact_email || !*w->contact_email ||
        w->anonymised_at > 0)
        return 0;
    rc = fresh_link(a, cfg, &url, hash, err);
    if (rc < 0)
        return rc;
    town = commune_name(c, a, insee);
    subject = gu_arena_sprintf(a, "[Demande %s] Votre demande %s", w->number,
                               status_phrase(status, reopened));
    text = gu_arena_sprintf(
        a,
        "%s\n\nVotre demande n° %s à la mairie de %s %s.\n\n"
        "%s"
        "Suivre votre demande : %s\n\nPour écrire à la mairie au sujet de cette demande, "
        "répondez à ce courriel en gardant « [Demande %s] » dans l’objet."
        "\n\n-- \nMairie de %s\n",
        greeting(a, w), w->number, town, status_phrase(status, reopened),
        status == TRI_ATTENTE
            ? "Un agent a besoin d’une précision : vous la trouverez sur la "
              "page de suivi.\n\n"
            : "",
        url, w->number, town);
    event = gu_arena_sprintf(a, "Courriel à l’usager : statut « %s ».",
                             tri_status_label((enum tri_status)status));
    if (!subject || !text || !event)
        return oom(err);
    /* The change stands even if the e-mail cannot be queued (an address
       the outbox refuses): the agent's work is not lost for it. */
    gu_err_clear(&e2);
    rc = mail_resident(c, a, cfg, insee, w, subject, text, "tri.status",
                       TRI_MSG_EVENT, actor, event, event, hash, NULL, &e2);
    if (rc == GU_EINVAL) {
        gu_log_warn("tri.status_mail", "request=%lld err=%s",
                    (long long)w->id, gu_status_name(rc));
        return 0;
    }
    if (rc < 0)
        *err = e2;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Changes                                                             */
/* ------------------------------------------------------------------ */

/* Checks that need no row: shapes and bounds of the change. */
static int
check_change(struct store_conn *c, const char *insee,
             const struct tri_change *ch, struct gu_err *err)
{
    if (ch->status < -1 || ch->status > TRI_REJETEE)
        return gu_err_set(err, GU_EINVAL, "statut",
                          "Statut inconnu : a_trier, nouvelle, en_cours, "
                          "attente, resolue ou rejetee.",
                          "triage: bad status %d", ch->status);
    if (ch->urgency < -1 || ch->urgency > TRI_URGENCY_MAX)
        return gu_err_set(err, GU_EINVAL, "urgence",
                          "L’urgence vaut 0 (normale), 1 (prioritaire) ou 2 "
                          "(urgente).",
                          "triage: bad urgency %d", ch->urgency);
    if (ch->service_id < -1 || ch->assigned_to < -1 || ch->case_id < -1)
        return gu_err_set(err, GU_EINVAL, NULL, "Identifiant invalide.",
                          "triage: negative id");
    if (ch->status == -1 && ch->urgency == -1 && ch->service_id == -1 &&
        ch->assigned_to == -1 && ch->case_id == -1)
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Rien à modifier : indiquez au moins un statut, un "
                          "service, une urgence, une attribution ou un cas.",
                          "triage: empty change");
    if (ch->assigned_to > 0) {
        struct gu_arena *a = gu_arena_new(512);
        struct store_agent ag;
        int rc;

        if (!a)
            return oom(err);
        rc = store_agent_get(c, a, ch->assigned_to, &ag, err);
        gu_arena_free(a);
        if (rc < 0 && rc != GU_ENOTFOUND)
            return rc;
        if (rc == GU_ENOTFOUND || ag.disabled ||
            store_agent_role(c, ch->assigned_to, insee) < STORE_ROLE_AGENT)
            return gu_err_set(err, GU_EINVAL, "assigne",
                              "Cet agent n’existe pas, est désactivé ou n’a "
                              "pas le rôle « agent » dans la commune.",
                              "triage: cannot assign to %lld",
                              (long long)ch->assigned_to);
    }
    return 0;
}

/* Move request `w` (and the requests of its case, if it leads one) into
 * the case of request `target`. */
static int
join_case(struct store_conn *c, struct gu_arena *a, const char *insee,
          const struct row *w, int64_t target, int64_t *root_out,
          struct gu_err *err)
{
    struct row t;
    int64_t root;
    int rc;

    rc = load_row(c, a, insee, target, &t, err);
    if (rc == GU_ENOTFOUND)
        return gu_err_set(err, GU_EINVAL, "cas",
                          "La demande à laquelle rattacher celle-ci n’existe "
                          "pas dans la commune.",
                          "triage: no case %lld", (long long)target);
    if (rc < 0)
        return rc;
    if (t.id == w->id)
        return gu_err_set(err, GU_EINVAL, "cas",
                          "Une demande ne peut pas être rattachée à "
                          "elle-même.",
                          "triage: self case");
    root = t.case_id > 0 ? t.case_id : t.id;
    if (root == w->id || root == w->case_id) {
        /* Already together (the target is in the case this one leads,
           or both are in the same case). */
        *root_out = w->case_id;
        return 0;
    }
    struct store_val p[] = {STORE_I(root), STORE_I(gu_now()), STORE_T(insee),
                            STORE_I(w->id), STORE_I(w->id)};
    rc = store_exec(c,
                    "UPDATE tri_requests SET case_id = ?, updated_at = ?"
                    " WHERE insee = ? AND (id = ? OR case_id = ?)",
                    p, GU_ARRAY_LEN(p), err);
    *root_out = root;
    return rc;
}

/* Take request `w` out of its case; when it leads one, the oldest other
 * request leads the rest. */
static int
leave_case(struct store_conn *c, struct gu_arena *a, const char *insee,
           const struct row *w, bool *changed, struct gu_err *err)
{
    struct store_rows *r = NULL;
    int64_t now = gu_now();
    int rc;

    *changed = false;
    if (w->case_id > 0) {
        struct store_val p[] = {STORE_I(now), STORE_I(w->id), STORE_T(insee)};
        *changed = true;
        return store_exec(c,
                          "UPDATE tri_requests SET case_id = 0, updated_at = ?"
                          " WHERE id = ? AND insee = ?",
                          p, 3, err);
    }
    struct store_val q[] = {STORE_T(insee), STORE_I(w->id)};
    rc = store_query(c, a,
                     "SELECT MIN(id) FROM tri_requests"
                     " WHERE insee = ? AND case_id = ?",
                     q, 2, &r, err);
    if (rc < 0 || r->nrows == 0 || store_int(r, 0, 0) <= 0)
        return rc;
    int64_t lead = store_int(r, 0, 0);
    struct store_val p1[] = {STORE_I(now), STORE_I(lead), STORE_T(insee)};
    rc = store_exec(c,
                    "UPDATE tri_requests SET case_id = 0, updated_at = ?"
                    " WHERE id = ? AND insee = ?",
                    p1, 3, err);
    struct store_val p2[] = {STORE_I(lead), STORE_I(now), STORE_T(insee),
                             STORE_I(w->id)};
    if (rc == 0)
        rc = store_exec(c,
                        "UPDATE tri_requests SET case_id = ?, updated_at = ?"
                        " WHERE insee = ? AND case_id = ?",
                        p2, 4, err);
    *changed = rc == 0;
    return rc;
}

static const char *
id_text(struct gu_arena *a, int64_t v)
{
    return gu_arena_sprintf(a, "%lld", (long long)v);
}

/*
 * Apply `ch` to one request inside the caller's transaction. `mail`
 * false: no status e-mail (a reply carries the news itself). *changed
 * (may be NULL) tells whether anything moved.
 */
static int
apply(struct store_conn *c, struct gu_arena *a, const struct gu_config *cfg,
      const char *insee, int64_t id, const struct tri_change *ch,
      const char *actor, bool mail, bool *changed, struct gu_err *err)
{
    struct row w;
    struct gu_buf det;
    int64_t now = gu_now(), sid, due, resolved, assigned;
    const char *scode, *sname, *ssource;
    int status, urgency, sla, rc;
    bool status_moved = false, reopened = false, any = false;

    if (changed)
        *changed = false;
    rc = load_row(c, a, insee, id, &w, err);
    if (rc < 0)
        return rc;
    if (w.anonymised_at > 0)
        return gu_err_set(err, GU_ECONFLICT, NULL,
                          "Cette demande a été anonymisée (durée de "
                          "conservation écoulée) : elle ne peut plus être "
                          "modifiée.",
                          "triage: request %lld anonymised", (long long)id);
    if (is_closed(w.status) && (ch->status < 0 || is_closed(ch->status)) &&
        (ch->urgency >= 0 || ch->assigned_to >= 0 || ch->case_id >= 0))
        return gu_err_set(err, GU_ECONFLICT, "statut",
                          "Cette demande est close : rouvrez-la (statut "
                          "« en_cours ») avant de changer son urgence, son "
                          "attribution ou son cas.",
                          "triage: request %lld closed", (long long)id);

    /* Service. */
    sid = w.service_id;
    scode = w.service_code;
    sname = w.service_name;
    ssource = w.service_source;
    sla = w.sla_hours;
    status = w.status;
    if (ch->service_id > 0) {
        rc = load_service(c, a, insee, ch->service_id, &scode, &sname, &sla,
                          err);
        if (rc < 0)
            return rc;
        sid = ch->service_id;
        ssource = "agent";
        if (status == TRI_A_TRIER && ch->status < 0)
            status = TRI_NOUVELLE;
    } else if (ch->service_id == 0) {
        sid = 0;
        scode = sname = "";
        ssource = "agent";
        if (!is_closed(status) && ch->status < 0)
            status = TRI_A_TRIER;
    }

    /* Status. */
    if (ch->status >= 0)
        status = ch->status;
    if (status == TRI_A_TRIER && sid != 0)
        return gu_err_set(err, GU_EINVAL, "statut",
                          "Une demande « à trier » n’a pas de service : "
                          "retirez le service (service: null) pour la "
                          "remettre à trier.",
                          "triage: a_trier with a service");
    if (sid == 0 && status != TRI_A_TRIER && status != TRI_REJETEE &&
        status != w.status)
        return gu_err_set(err, GU_EINVAL, "service",
                          "Choisissez d’abord le service de cette demande.",
                          "triage: status %d without a service", status);
    status_moved = status != w.status;
    reopened = status_moved && is_closed(w.status) && !is_closed(status);
    resolved = w.resolved_at;
    if (status_moved && is_closed(status))
        resolved = now;
    else if (reopened)
        resolved = 0;

    urgency = ch->urgency >= 0 ? ch->urgency : w.urgency;
    assigned = ch->assigned_to >= 0 ? ch->assigned_to : w.assigned_to;
    due = w.due_at;
    if (sid != 0 && (sid != w.service_id || urgency != w.urgency))
        due = due_from(w.created_at, sla, urgency);

    gu_buf_init(&det);
    if (sid != w.service_id ||
        (ch->service_id > 0 && strcmp(w.service_source, "agent") != 0)) {
        /* A correction, or the agent confirming the model's choice. */
        rc = decision(c, insee, id, "service", scode, w.service_code, actor,
                      err);
        if (rc < 0)
            goto out;
        gu_buf_printf(&det, " service=%s", *scode ? scode : "-");
        any = true;
    }
    if (status_moved) {
        rc = decision(c, insee, id, "statut", tri_status_name(status),
                      tri_status_name(w.status), actor, err);
        if (rc < 0)
            goto out;
        gu_buf_printf(&det, " statut=%s", tri_status_name(status));
        any = true;
    }
    if (urgency != w.urgency) {
        rc = decision(c, insee, id, "urgence", id_text(a, urgency),
                      id_text(a, w.urgency), actor, err);
        if (rc < 0)
            goto out;
        gu_buf_printf(&det, " urgence=%d", urgency);
        any = true;
    }
    if (assigned != w.assigned_to) {
        rc = decision(c, insee, id, "attribution", id_text(a, assigned),
                      id_text(a, w.assigned_to), actor, err);
        if (rc < 0)
            goto out;
        gu_buf_printf(&det, " assigne=%lld", (long long)assigned);
        any = true;
    }
    {
        struct store_val p[] = {STORE_I(sid),        STORE_T(ssource),
                                STORE_T(tri_status_name(status)),
                                STORE_I(urgency),    STORE_I(assigned),
                                STORE_I(due),        STORE_I(resolved),
                                STORE_I(now),        STORE_I(id),
                                STORE_T(insee)};
        if (any) {
            rc = store_exec(c,
                            "UPDATE tri_requests SET service_id = ?,"
                            " service_source = ?, status = ?, urgency = ?,"
                            " assigned_to = ?, due_at = ?, resolved_at = ?,"
                            " updated_at = ? WHERE id = ? AND insee = ?",
                            p, GU_ARRAY_LEN(p), err);
            if (rc < 0)
                goto out;
        }
    }
    if (ch->case_id > 0) {
        int64_t root = 0;
        rc = join_case(c, a, insee, &w, ch->case_id, &root, err);
        if (rc < 0)
            goto out;
        if (root != w.case_id) {
            rc = decision(c, insee, id, "doublon", id_text(a, root),
                          id_text(a, w.case_id), actor, err);
            if (rc < 0)
                goto out;
            gu_buf_printf(&det, " cas=%lld", (long long)root);
            any = true;
        }
    } else if (ch->case_id == 0) {
        bool moved = false;
        rc = leave_case(c, a, insee, &w, &moved, err);
        if (rc < 0)
            goto out;
        if (moved) {
            rc = decision(c, insee, id, "doublon", "0", id_text(a, w.case_id),
                          actor, err);
            if (rc < 0)
                goto out;
            gu_buf_puts(&det, " cas=0");
            any = true;
        }
    }
    if (!any)
        goto out;
    if (det.oom) {
        rc = oom(err);
        goto out;
    }
    rc = audit(c, insee, actor, "tri.update", id, det.p ? det.p + 1 : "",
               err);
    if (rc < 0)
        goto out;
    if (mail && status_moved &&
        (reopened || (status != TRI_A_TRIER && status != TRI_NOUVELLE)))
        rc = mail_status(c, a, cfg, insee, &w, status, reopened, actor, err);
    if (rc == 0 && changed)
        *changed = true;
out:
    gu_buf_fini(&det);
    return rc;
}

int
tri_update(struct store_conn *c, const struct gu_config *cfg,
           const char *insee, int64_t id, const struct tri_change *ch,
           const char *actor, struct gu_err *err)
{
    struct gu_arena *a;
    int rc;

    if (!ch || id <= 0)
        return gu_err_set(err, GU_EINVAL, NULL, NOT_FOUND, "triage: bad args");
    rc = check_change(c, insee, ch, err);
    if (rc < 0)
        return rc;
    a = gu_arena_new(4096);
    if (!a)
        return oom(err);
    rc = store_begin(c, err);
    if (rc == 0)
        rc = apply(c, a, cfg, insee, id, ch, actor, true, NULL, err);
    if (rc == 0)
        rc = store_commit(c, err);
    if (rc < 0 && store_in_tx(c))
        store_rollback(c);
    gu_arena_free(a);
    return rc;
}

int
tri_bulk(struct store_conn *c, const struct gu_config *cfg, const char *insee,
         const int64_t *ids, size_t n, const struct tri_change *ch,
         const char *actor, struct gu_err *err)
{
    struct gu_arena *a;
    size_t done = 0;
    int rc;

    if (!ch || (n > 0 && !ids) || n == 0)
        return gu_err_set(err, GU_EINVAL, "ids",
                          "Choisissez au moins une demande.",
                          "triage: empty bulk");
    if (n > TRI_BULK_MAX)
        return gu_err_set(err, GU_ETOOBIG, "ids",
                          "Une action groupée porte sur 500 demandes au plus.",
                          "triage: bulk of %zu", n);
    for (size_t i = 0; i < n; i++) {
        if (ids[i] <= 0)
            return gu_err_set(err, GU_EINVAL, "ids",
                              "Identifiant de demande invalide.",
                              "triage: bad id in bulk");
        for (size_t k = 0; k < i; k++)
            if (ids[k] == ids[i])
                return gu_err_set(err, GU_EINVAL, "ids",
                                  "La même demande figure deux fois dans la "
                                  "liste.",
                                  "triage: duplicate id %lld",
                                  (long long)ids[i]);
    }
    rc = check_change(c, insee, ch, err);
    if (rc < 0)
        return rc;
    a = gu_arena_new(16384);
    if (!a)
        return oom(err);
    rc = store_begin(c, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* The request a bulk « join » names is the case itself. */
        if (ch->case_id > 0 && ids[i] == ch->case_id &&
            ch->status < 0 && ch->service_id < 0 && ch->urgency < 0 &&
            ch->assigned_to < 0) {
            done++;
            continue;
        }
        if (ch->case_id > 0 && ids[i] == ch->case_id) {
            struct tri_change c2 = *ch;
            c2.case_id = -1;
            rc = apply(c, a, cfg, insee, ids[i], &c2, actor, true, NULL, err);
        } else {
            rc = apply(c, a, cfg, insee, ids[i], ch, actor, true, NULL, err);
        }
        if (rc < 0) {
            /* Say which one stopped the batch; nothing was kept. */
            struct gu_buf u;
            gu_buf_init(&u);
            gu_buf_printf(&u, "Demande %lld : %s Aucune demande n’a été "
                              "modifiée.",
                          (long long)ids[i],
                          err->user[0] ? err->user : gu_status_user(rc));
            if (u.p) {
                /* Cut on a character boundary if it does not fit. */
                size_t k = u.n < sizeof(err->user) ? u.n
                                                   : sizeof(err->user) - 1;
                while (k > 0 && k < u.n && ((unsigned char)u.p[k] & 0xC0) ==
                                               0x80)
                    k--;
                memcpy(err->user, u.p, k);
                err->user[k] = '\0';
            }
            gu_buf_fini(&u);
            break;
        }
        done++;
    }
    if (rc == 0) {
        char detail[64];
        snprintf(detail, sizeof(detail), "%zu demandes", done);
        rc = store_audit_add(c, insee, actor ? actor : "", "tri.bulk",
                             "tri_requests", detail, gu_log_request_id(), err);
    }
    if (rc == 0)
        rc = store_commit(c, err);
    if (rc < 0 && store_in_tx(c))
        store_rollback(c);
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Notes and replies                                                   */
/* ------------------------------------------------------------------ */

/* Trimmed text of 1..TRI_BODY_MAX bytes of valid UTF-8, or an error. */
static int
check_text(const char *text, const char *field, const char *empty_msg,
           struct gu_str *out, struct gu_err *err)
{
    struct gu_str s = gu_str_trim(gu_str_c(text));

    if (s.n == 0)
        return gu_err_set(err, GU_EINVAL, field, empty_msg,
                          "triage: empty text");
    if (s.n > TRI_BODY_MAX)
        return gu_err_set(err, GU_ETOOBIG, field,
                          "Le texte est trop long (20 000 octets au plus).",
                          "triage: text of %zu bytes", s.n);
    if (!gu_utf8_valid(s.p, s.n))
        return gu_err_set(err, GU_EINVAL, field,
                          "Le texte contient des caractères invalides "
                          "(UTF-8 attendu).",
                          "triage: bad utf-8");
    *out = s;
    return 0;
}

/* The commune's keyed redaction of s (a copy in a). */
static const char *
redact(struct store_conn *c, struct gu_arena *a, const char *insee,
       struct gu_str s, struct gu_err *err)
{
    unsigned char key[PII_KEY_BYTES];
    const char *r;

    if (pii_commune_key(c, insee, key, err) < 0)
        return NULL;
    r = pii_redact_keyed(a, s.p, s.n, key, NULL);
    if (!r)
        oom(err);
    return r;
}

int
tri_note(struct store_conn *c, const char *insee, int64_t id, const char *text,
         const char *actor, int64_t *note_id, struct gu_err *err)
{
    struct gu_arena *a;
    struct store_rows *r = NULL;
    struct gu_str s;
    struct row w;
    const char *body, *red;
    int rc;

    rc = check_text(text, "texte", "Écrivez la note.", &s, err);
    if (rc < 0)
        return rc;
    a = gu_arena_new(4096);
    if (!a)
        return oom(err);
    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    rc = load_row(c, a, insee, id, &w, err);
    if (rc < 0)
        goto out;
    body = gu_arena_strndup(a, s.p, s.n);
    red = redact(c, a, insee, s, err);
    if (!body || !red) {
        rc = body ? err->code : oom(err);
        goto out;
    }
    struct store_val p[] = {STORE_T(insee), STORE_I(id),
                            STORE_T(actor ? actor : ""), STORE_T(body),
                            STORE_T(red), STORE_I(gu_now())};
    rc = store_query(c, a,
                     "INSERT INTO tri_messages (insee, request_id, kind,"
                     " author, body, body_redacted, created_at) VALUES"
                     " (?, ?, 'note', ?, ?, ?, ?) RETURNING id",
                     p, GU_ARRAY_LEN(p), &r, err);
    if (rc < 0)
        goto out;
    if (note_id)
        *note_id = store_int(r, 0, 0);
    {
        struct store_val u[] = {STORE_I(gu_now()), STORE_I(id),
                                STORE_T(insee)};
        rc = store_exec(c,
                        "UPDATE tri_requests SET updated_at = ?"
                        " WHERE id = ? AND insee = ?",
                        u, 3, err);
    }
    if (rc == 0)
        rc = audit(c, insee, actor, "tri.note", id, "", err);
    if (rc == 0)
        rc = store_commit(c, err);
out:
    if (rc < 0 && store_in_tx(c))
        store_rollback(c);
    gu_arena_free(a);
    return rc;
}

/*
 * Placeholders of reply texts and templates: {numero}, {nom}, {service},
 * {commune}. Unknown {words} stay as they are.
 */
static char *
expand(struct gu_arena *a, struct gu_str s, const struct row *w,
       const char *town)
{
    struct gu_buf b;
    char *out;
    static const char *const names[] = {"{numero}", "{nom}", "{service}",
                                        "{commune}"};
    const char *vals[4];

    vals[0] = w->number ? w->number : "";
    vals[1] = w->contact_name && *w->contact_name ? w->contact_name
                                                   : "Madame, Monsieur";
    vals[2] = w->service_name && *w->service_name ? w->service_name
                                                   : "la mairie";
    vals[3] = town;
    gu_buf_init(&b);
    for (size_t i = 0; i < s.n;) {
        bool hit = false;
        if (s.p[i] == '{') {
            for (size_t k = 0; k < GU_ARRAY_LEN(names); k++) {
                size_t l = strlen(names[k]);
                if (i + l <= s.n && memcmp(s.p + i, names[k], l) == 0) {
                    gu_buf_puts(&b, vals[k]);
                    i += l;
                    hit = true;
                    break;
                }
            }
        }
        if (!hit) {
            size_t k = i + 1;
            while (k < s.n && s.p[k] != '{')
                k++;
            gu_buf_append(&b, s.p + i, k - i);
            i = k;
        }
    }
    out = b.oom ? NULL : gu_arena_strdup(a, b.p ? b.p : "");
    gu_buf_fini(&b);
    return out;
}

int
tri_reply(struct store_conn *c, const struct gu_config *cfg,
          const char *insee, int64_t id, const char *text, int new_status,
          bool allow_no_email, const char *actor, int64_t *msg_id,
          struct gu_err *err)
{
    struct gu_arena *a;
    struct store_rows *r = NULL;
    struct gu_str s;
    struct row w;
    const char *town, *body, *red, *url = NULL, *subject, *mail_text;
    int64_t mid = 0, now = gu_now();
    char hash[65];
    bool has_mail;
    int rc;

    rc = check_text(text, "texte", "Écrivez la réponse.", &s, err);
    if (rc < 0)
        return rc;
    if (new_status < -1 || new_status > TRI_REJETEE)
        return gu_err_set(err, GU_EINVAL, "statut",
                          "Statut inconnu : a_trier, nouvelle, en_cours, "
                          "attente, resolue ou rejetee.",
                          "triage: bad status %d", new_status);
    a = gu_arena_new(8192);
    if (!a)
        return oom(err);
    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    rc = load_row(c, a, insee, id, &w, err);
    if (rc < 0)
        goto out;
    if (w.anonymised_at > 0) {
        rc = gu_err_set(err, GU_ECONFLICT, NULL,
                        "Cette demande a été anonymisée : on ne peut plus y "
                        "répondre.",
                        "triage: reply to anonymised %lld", (long long)id);
        goto out;
    }
    has_mail = w.contact_email && *w.contact_email;
    if (!has_mail && !allow_no_email) {
        rc = gu_err_set(err, GU_EINVAL, "courriel",
                        "L’usager n’a pas laissé d’adresse électronique : la "
                        "réponse ne peut pas lui être envoyée par courriel "
                        "(elle peut l’être sur sa page de suivi).",
                        "triage: no e-mail for %lld", (long long)id);
        goto out;
    }
    town = commune_name(c, a, insee);
    body = expand(a, s, &w, town);
    if (!body) {
        rc = oom(err);
        goto out;
    }
    red = redact(c, a, insee, gu_str_c(body), err);
    if (!red) {
        rc = err->code ? err->code : oom(err);
        goto out;
    }
    if (new_status >= 0 && new_status != w.status) {
        struct tri_change ch = {new_status, -1, -1, -1, -1};
        rc = apply(c, a, cfg, insee, id, &ch, actor, false, NULL, err);
        if (rc < 0)
            goto out;
    }
    if (has_mail) {
        rc = fresh_link(a, cfg, &url, hash, err);
        if (rc < 0)
            goto out;
        subject = gu_arena_sprintf(a, "[Demande %s] %s", w.number,
                                   w.subject && *w.subject
                                       ? w.subject
                                       : "Réponse de la mairie");
        mail_text = gu_arena_sprintf(
            a,
            "%s\n\n%s\n\n%s"
            "Suivre votre demande : %s\n\nPour répondre, répondez simplement à ce "
            "courriel en gardant « [Demande %s] » dans l’objet.\n\n-- \n"
            "Mairie de %s\n",
            greeting(a, &w), body,
            new_status >= 0 && new_status != w.status
                ? gu_arena_sprintf(a, "Votre demande n° %s %s.\n\n", w.number,
                                   status_phrase(new_status,
                                                 is_closed(w.status) &&
                                                     !is_closed(new_status)))
                : "",
            url, w.number, town);
        if (!subject || !mail_text) {
            rc = oom(err);
            goto out;
        }
        rc = mail_resident(c, a, cfg, insee, &w, subject, mail_text,
                           "tri.reply", TRI_MSG_OUT, actor, body, red, hash,
                           &mid, err);
        if (rc < 0)
            goto out;
    } else {
        struct store_val p[] = {STORE_T(insee), STORE_I(id),
                                STORE_T(actor ? actor : ""), STORE_T(body),
                                STORE_T(red), STORE_I(now)};
        rc = store_query(c, a,
                         "INSERT INTO tri_messages (insee, request_id, kind,"
                         " author, body, body_redacted, created_at) VALUES"
                         " (?, ?, 'sortant', ?, ?, ?, ?) RETURNING id",
                         p, GU_ARRAY_LEN(p), &r, err);
        if (rc < 0)
            goto out;
        mid = store_int(r, 0, 0);
    }
    {
        struct store_val p[] = {STORE_I(now), STORE_I(now), STORE_I(id),
                                STORE_T(insee)};
        rc = store_exec(c,
                        "UPDATE tri_requests SET first_reply_at = CASE WHEN"
                        " first_reply_at = 0 THEN ? ELSE first_reply_at END,"
                        " updated_at = ? WHERE id = ? AND insee = ?",
                        p, 4, err);
        if (rc < 0)
            goto out;
    }
    rc = audit(c, insee, actor, "tri.reply", id,
               has_mail ? "courriel" : "page de suivi", err);
    if (rc == 0)
        rc = store_commit(c, err);
    if (rc == 0 && msg_id)
        *msg_id = mid;
out:
    if (rc < 0 && store_in_tx(c))
        store_rollback(c);
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reply templates                                                     */
/* ------------------------------------------------------------------ */

int
tri_template_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                  struct tri_template **out, size_t *n, struct gu_err *err)
{
    struct store_rows *r = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    struct store_val p[] = {STORE_T(insee)};
    rc = store_query(c, a,
                     "SELECT id, name, body, service_id FROM tri_templates"
                     " WHERE insee = ? ORDER BY name, id",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    *out = gu_arena_zalloc(a, (r->nrows + 1) * sizeof(**out));
    if (!*out)
        return oom(err);
    for (size_t i = 0; i < r->nrows; i++) {
        struct tri_template *t = &(*out)[i];
        t->id = store_int(r, i, 0);
        snprintf(t->insee, sizeof(t->insee), "%s", insee);
        t->name = store_text(r, i, 1);
        t->body = store_text(r, i, 2);
        t->service_id = store_int(r, i, 3);
    }
    *n = r->nrows;
    return 0;
}

int
tri_template_save(struct store_conn *c, const struct tri_template *t,
                  int64_t *id_out, struct gu_err *err)
{
    struct gu_arena *a;
    struct store_rows *r = NULL;
    struct gu_str name, body;
    int64_t changes = 0;
    int rc;

    if (!t || !store_insee_valid(t->insee))
        return gu_err_set(err, GU_EINVAL, NULL, "Commune invalide.",
                          "triage: template without commune");
    name = gu_str_trim(gu_str_c(t->name));
    body = gu_str_trim(gu_str_c(t->body));
    if (name.n == 0)
        return gu_err_set(err, GU_EINVAL, "nom", "Donnez un nom au modèle.",
                          "triage: template name empty");
    if (name.n > TEMPLATE_NAME_MAX || !gu_utf8_valid(name.p, name.n) ||
        memchr(name.p, '\n', name.n))
        return gu_err_set(err, GU_EINVAL, "nom",
                          "Le nom du modèle tient sur une ligne de 200 octets "
                          "au plus.",
                          "triage: template name bad");
    if (body.n == 0)
        return gu_err_set(err, GU_EINVAL, "texte",
                          "Écrivez le texte du modèle.",
                          "triage: template body empty");
    if (body.n > TRI_TEMPLATE_MAX || !gu_utf8_valid(body.p, body.n))
        return gu_err_set(err, GU_EINVAL, "texte",
                          "Le texte du modèle fait 10 000 octets au plus, en "
                          "UTF-8.",
                          "triage: template body bad");
    if (t->service_id < 0)
        return gu_err_set(err, GU_EINVAL, "service", "Service invalide.",
                          "triage: template service < 0");
    a = gu_arena_new(1024);
    if (!a)
        return oom(err);
    if (t->service_id > 0) {
        const char *code, *sname;
        int sla;
        rc = load_service(c, a, t->insee, t->service_id, &code, &sname, &sla,
                          err);
        if (rc < 0)
            goto out;
    }
    const char *nm = gu_arena_strndup(a, name.p, name.n);
    const char *bd = gu_arena_strndup(a, body.p, body.n);
    if (!nm || !bd) {
        rc = oom(err);
        goto out;
    }
    if (t->id == 0) {
        struct store_val q[] = {STORE_T(t->insee)};
        rc = store_query(c, a,
                         "SELECT COUNT(*) FROM tri_templates WHERE insee = ?",
                         q, 1, &r, err);
        if (rc < 0)
            goto out;
        if (store_int(r, 0, 0) >= TEMPLATES_MAX) {
            rc = gu_err_set(err, GU_ETOOBIG, NULL,
                            "La commune a déjà 200 modèles de réponse : "
                            "supprimez-en avant d’en créer.",
                            "triage: too many templates");
            goto out;
        }
        struct store_val p[] = {STORE_T(t->insee), STORE_T(nm), STORE_T(bd),
                                STORE_I(t->service_id), STORE_I(gu_now())};
        rc = store_query(c, a,
                         "INSERT INTO tri_templates (insee, name, body,"
                         " service_id, created_at) VALUES (?, ?, ?, ?, ?)"
                         " RETURNING id",
                         p, GU_ARRAY_LEN(p), &r, err);
        if (rc == 0 && id_out)
            *id_out = store_int(r, 0, 0);
    } else {
        struct store_val p[] = {STORE_T(nm), STORE_T(bd),
                                STORE_I(t->service_id), STORE_I(t->id),
                                STORE_T(t->insee)};
        rc = store_exec_changes(c,
                                "UPDATE tri_templates SET name = ?, body = ?,"
                                " service_id = ? WHERE id = ? AND insee = ?",
                                p, GU_ARRAY_LEN(p), &changes, err);
        if (rc == 0 && changes == 0)
            rc = gu_err_set(err, GU_ENOTFOUND, NULL,
                            "Ce modèle de réponse n’existe pas dans la "
                            "commune.",
                            "triage: no template %lld", (long long)t->id);
        if (rc == 0 && id_out)
            *id_out = t->id;
    }
    if (rc == GU_ECONFLICT)
        rc = gu_err_set(err, GU_ECONFLICT, "nom",
                        "Un modèle de réponse porte déjà ce nom.",
                        "triage: template name taken");
out:
    gu_arena_free(a);
    return rc;
}

int
tri_template_delete(struct store_conn *c, const char *insee, int64_t id,
                    struct gu_err *err)
{
    int64_t changes = 0;
    int rc;

    struct store_val p[] = {STORE_I(id), STORE_T(insee)};
    rc = store_exec_changes(c,
                            "DELETE FROM tri_templates WHERE id = ? AND"
                            " insee = ?",
                            p, 2, &changes, err);
    if (rc == 0 && changes == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL,
                        "Ce modèle de réponse n’existe pas dans la commune.",
                        "triage: no template %lld", (long long)id);
    return rc;
}
