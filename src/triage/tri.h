/*
 * tri.h - the request inbox of the « Triage » domain (issue 5): intake
 * from every channel, routing to the commune's services, urgency,
 * duplicates, the agents' work on a request, and the e-mail import.
 *
 * Data flow. Every channel ends in tri_intake(): the web form /demande
 * (tri_pages.c), the e-mail import (tri_mail.c: Maildir, mbox, IMAP;
 * a reply to a request is threaded as a message of it instead), the
 * assistant's hand-offs (asst_handoff.c calls tri_intake with channel
 * "chat" and origin "asst_handoffs:<id>"), the phone bot's voicemails
 * (issue 8: channel "telephone", the WAV as an attachment), agents at the
 * counter and the API. tri_intake, in ONE transaction:
 *   1. validates and bounds the input (French errors per field);
 *   2. redacts subject and body through privacy/ (pii_redact_keyed: the
 *      commune's keyed hash keeps two mentions of one phone linkable);
 *   3. classifies the REDACTED text with the commune's active model
 *      (tri_models; the default one trained on data/triage/seed.tsv at
 *      first use): service + calibrated confidence + explanation words;
 *      routed (status "nouvelle") when p >= the service's threshold, else
 *      status "a_trier" with the model's guess kept as a suggestion; a
 *      resident's category_hint is recorded, never trusted blindly;
 *   4. urgency 0..2 from rules (danger, hygiene, deadlines in the text,
 *      repeated reports) and the urgency model, with reasons;
 *   5. duplicates: an open request of the same commune in the last
 *      triage.duplicate_days whose text is close (cosine of the triage
 *      features) and, when both have one, whose place is within
 *      triage.duplicate_meters - the new request joins its case (case_id =
 *      the case's first request); a case reported often gets urgency +1;
 *   6. number (« 2026-00042 », per commune and year: tri_counters), status
 *      token (256 bits, only its SHA-256 stored), SLA deadline from the
 *      service (shorter when urgent), one tri_decisions row per decision
 *      with the model version, an audit entry, and the acknowledgement
 *      e-mail with the status-page link when the resident gave an e-mail.
 *
 * Who sees what. Agents (role >= agent) of the commune see the original
 * text and contact; readers (lecteur) and everything outside the request
 * itself (logs, analytics, training files, webhooks) get the redacted
 * columns. Every function takes the commune and never touches another
 * commune's rows.
 *
 * HTTP surface (implemented in tri_http.c, tri_pages.c, tri_agent_pages.c;
 * JSON under /api/v1, problem+json errors; documented in
 * docs/triage-api.md):
 *   residents (public, rate-limited per IP):
 *     GET  /demande                       the form (no JS needed)
 *     POST /demande                       multipart/form-data (photos)
 *     GET  /demande/suivi/{token}         status page
 *     POST /api/v1/demandes               JSON intake (channel "web")
 *     GET  /api/v1/demandes/suivi/{token} status as JSON
 *     POST /api/v1/demandes/suivi/{token}/messages   resident adds a message
 *   agents (session or token, commune's role):
 *     GET    /api/v1/demandes             list: ?statut= &service= &urgence=
 *                                          &age_min_h= &assigne= &q= &cas=
 *                                          &avant= (cursor) &limite=
 *     GET    /api/v1/demandes/{id}        request + messages + attachments
 *                                          list + decisions + case members
 *     PATCH  /api/v1/demandes/{id}        {statut, service, urgence,
 *                                          assigne} (each optional; a
 *                                          service change is a correction)
 *     POST   /api/v1/demandes/{id}/notes    {texte}
 *     POST   /api/v1/demandes/{id}/reponses {texte, modele?, statut?}
 *     POST   /api/v1/demandes/{id}/fusion   {cas}      join a case
 *     DELETE /api/v1/demandes/{id}/fusion              leave it
 *     POST   /api/v1/demandes/lot          {ids:[], statut?, service?,
 *                                          assigne?, cas?}
 *     GET    /api/v1/demandes/{id}/pieces/{pid}   attachment bytes
 *     GET/POST/PUT/DELETE /api/v1/triage/services[/{id}]  (admin writes)
 *     GET/POST/PUT/DELETE /api/v1/triage/modeles-reponse[/{id}]
 *     GET    /api/v1/triage/modele         active model: version, date,
 *                                          examples, corrections, figures
 *     POST   /api/v1/triage/modele         retrain now (admin)
 *     POST   /api/v1/triage/classer        {texte} -> service, p, why
 *                                          (nothing stored; dry run)
 *     GET/POST/PUT/DELETE /api/v1/triage/sources-courriel[/{id}] (admin)
 *   back-office pages: /agent/demandes, /agent/demandes/{id},
 *     /agent/demandes/services (admin: taxonomy, thresholds, SLA),
 *     /agent/demandes/courriel (admin: mail sources).
 *
 * Layering: triage sits on store, notify, privacy, text and core.
 */
#ifndef TRIAGE_TRI_H
#define TRIAGE_TRI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "notify/notify.h"
#include "store/store.h"
#include "triage/triage.h"
#include "web/http.h"

/* Bounds on what enters. */
#define TRI_SUBJECT_MAX 200        /* bytes */
#define TRI_BODY_MAX 20000         /* bytes of one request or message */
#define TRI_NAME_MAX 200
#define TRI_ADDRESS_MAX 300
#define TRI_ATTACH_MAX 5           /* attachments of one web request */
#define TRI_ATTACH_BYTES (8u << 20) /* one attachment */
#define TRI_MAIL_BYTES (25u << 20) /* one imported e-mail */
#define TRI_TEMPLATE_MAX 10000
#define TRI_SERVICES_MAX 64        /* services of one commune */
#define TRI_BULK_MAX 500           /* requests of one bulk action */
#define TRI_LIST_MAX 200           /* rows of one list page */
#define TRI_TOKEN_LEN 43           /* status-page token, characters */

/* Schema of the triage module (store_migrate list; tri_schema.c). */
const struct store_migration *tri_migrations(size_t *count);

/* ------------------------------------------------------------------ */
/* Taxonomy (tri_services.c)                                           */
/* ------------------------------------------------------------------ */

struct tri_service {
    int64_t id;
    char insee[6];
    const char *code;        /* slug, the model's label: "voirie" */
    const char *name;        /* « Voirie » */
    const char *description; /* what goes there, shown to residents */
    const char *email;       /* "" or the service's mailbox */
    double threshold;        /* 0..1: routed automatically at p >= this */
    int sla_hours;           /* 1..2160 */
    int position;            /* order in lists */
    bool active;
};

/*
 * The default taxonomy (the 13 labels of data/triage/seed.tsv, with their
 * French names), created for a commune that has none. Idempotent.
 */
int tri_services_seed(struct store_conn *c, const char *insee,
                      struct gu_err *err);
/*
 * The demo commune's inbox (tri_demo.c): the default services, the
 * default model and a dozen realistic requests through the intake.
 * Used by `guichet init --demo` and to seed a training sandbox.
 */
int tri_demo_seed(struct store *st, struct store_conn *c,
                  const struct gu_config *cfg, const char *insee,
                  struct gu_err *err);
int tri_service_list(struct store_conn *c, struct gu_arena *a,
                     const char *insee, bool active_only,
                     struct tri_service **out, size_t *n, struct gu_err *err);
int tri_service_get(struct store_conn *c, struct gu_arena *a,
                    const char *insee, int64_t id, struct tri_service *out,
                    struct gu_err *err);
/* id 0: create (*id_out); else update. Validated (err->field, French).
 * GU_ECONFLICT on a duplicate code. Services are deactivated, never
 * deleted (requests refer to them). */
int tri_service_save(struct store_conn *c, const struct tri_service *s,
                     int64_t *id_out, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

enum tri_status {
    TRI_A_TRIER = 0,  /* "a_trier": no service confident enough */
    TRI_NOUVELLE,     /* "nouvelle": routed, nobody on it yet */
    TRI_EN_COURS,     /* "en_cours" */
    TRI_ATTENTE,      /* "attente": waiting for the resident */
    TRI_RESOLUE,      /* "resolue" */
    TRI_REJETEE       /* "rejetee": not for the mairie, spam */
};
const char *tri_status_name(enum tri_status s); /* "a_trier" */
const char *tri_status_label(enum tri_status s); /* « À trier » */
int tri_status_parse(const char *s, enum tri_status *out);

enum tri_channel {
    TRI_WEB = 0, TRI_COURRIEL, TRI_CHAT, TRI_TELEPHONE, TRI_GUICHET, TRI_API
};
const char *tri_channel_name(enum tri_channel c); /* "courriel" */
int tri_channel_parse(const char *s, enum tri_channel *out);

/* Urgency: 0 normale, 1 prioritaire, 2 urgente. */
#define TRI_URGENCY_MAX 2
const char *tri_urgency_label(int u); /* « Urgente » */

/* An attachment entering with a request or a message. */
struct tri_attach_in {
    const char *filename; /* sanitised by the callee */
    const char *ctype;    /* checked against the bytes (magic) */
    const void *data;
    size_t size;
    bool cleaned; /* an image already through tri_image_clean() by the
                     caller (the form names the bad file): not re-encoded
                     a second time */
};

struct tri_intake_req {
    const char *insee;
    enum tri_channel channel;
    const char *subject;       /* may be "" */
    const char *body;          /* required, 1..TRI_BODY_MAX bytes */
    const char *category_hint; /* service code chosen by the resident, or NULL */
    const char *address;       /* may be NULL */
    double lat, lon;           /* 0,0 = none */
    const char *contact_name;  /* may be NULL */
    const char *contact_email; /* may be NULL; validated */
    const char *contact_phone; /* may be NULL; French numbers normalised */
    bool notify;               /* e-mail the resident on status changes */
    const char *origin;        /* "asst_handoffs:12", "mail:<message-id>" */
    const char *mail_message_id; /* for threading replies (e-mail) */
    const struct tri_attach_in *attach; /* images are re-encoded without
                                           metadata (tri_image.c) */
    size_t nattach;
    const char *actor;         /* audit: "usager", agent login, "courriel" */
};

struct tri_intake_res {
    int64_t id;
    const char *number;   /* « 2026-00042 » */
    const char *token;    /* status-page token (only returned here) */
    enum tri_status status;
    const char *service;  /* code, "" when à trier */
    double confidence;
    int urgency;
    int64_t case_id;      /* 0 or the case it joined */
};

/*
 * The whole intake (see the top of this file), in one transaction on `c`
 * (the caller must not be in one). GU_EINVAL with err->field and a French
 * err->user on bad input; GU_ETOOBIG over a bound; nothing is stored then.
 */
int tri_intake(struct store *st, struct store_conn *c,
               const struct gu_config *cfg, const struct tri_intake_req *r,
               struct gu_arena *a, struct tri_intake_res *out,
               struct gu_err *err);

struct tri_request {
    int64_t id;
    char insee[6];
    const char *number;
    enum tri_channel channel;
    enum tri_status status;
    const char *subject, *body;                   /* originals */
    const char *subject_redacted, *body_redacted;
    const char *category_hint;
    int64_t service_id;
    const char *service_code, *service_name;      /* "" when none */
    const char *service_source;                   /* "modele", "agent"... */
    double confidence;
    const char *model_version;
    const char *why;             /* JSON array text */
    int urgency;
    const char *urgency_reasons; /* JSON array text */
    int64_t case_id;
    size_t case_size;            /* requests in its case (1 = alone) */
    const char *address;
    double lat, lon;
    const char *contact_name, *contact_email, *contact_phone;
    bool notify;
    const char *origin;
    int64_t assigned_to;
    const char *assigned_login;  /* "" */
    int64_t due_at, first_reply_at, resolved_at, created_at, updated_at;
    int64_t anonymised_at;
};

struct tri_filter {
    int status;          /* -1 = open ones (not resolue/rejetee), -2 = all */
    int64_t service_id;  /* 0 = all, -1 = none (à trier) */
    int urgency_min;     /* 0 = all */
    int age_min_h;       /* 0 = all */
    int64_t assigned_to; /* 0 = all, -1 = nobody */
    const char *q;       /* words in subject/body, or a number */
    int64_t case_id;     /* 0 = all */
    bool overdue;        /* due_at passed */
    int64_t before_id;   /* cursor: rows with id < this (0 = newest) */
    size_t limit;        /* 1..TRI_LIST_MAX */
};

int tri_list(struct store_conn *c, struct gu_arena *a, const char *insee,
             const struct tri_filter *f, struct tri_request **out, size_t *n,
             struct gu_err *err);
int tri_get(struct store_conn *c, struct gu_arena *a, const char *insee,
            int64_t id, struct tri_request *out, struct gu_err *err);
/* By status-page token; GU_ENOTFOUND (same French message) otherwise. */
int tri_get_by_token(struct store_conn *c, struct gu_arena *a,
                     const char *token, struct tri_request *out,
                     struct gu_err *err);
/* By number in the commune (e-mail subjects carry « [Demande 2026-00042] »). */
int tri_get_by_number(struct store_conn *c, struct gu_arena *a,
                      const char *insee, const char *number,
                      struct tri_request *out, struct gu_err *err);

/* A message of a request's thread. */
enum tri_msg_kind { TRI_MSG_IN = 0, TRI_MSG_OUT, TRI_MSG_NOTE, TRI_MSG_EVENT };
const char *tri_msg_kind_name(enum tri_msg_kind k); /* "entrant" */

struct tri_message {
    int64_t id;
    int64_t request_id;
    enum tri_msg_kind kind;
    const char *author, *from_addr;
    const char *body, *body_redacted;
    const char *mail_message_id;
    int64_t mail_id;
    int64_t created_at;
};

struct tri_attachment {
    int64_t id;
    int64_t request_id, message_id;
    const char *filename, *ctype, *sha256;
    int64_t size;
    int64_t created_at;
};

struct tri_decision {
    int64_t id;
    const char *kind, *value, *previous, *model_version, *source, *actor;
    double confidence;
    int64_t created_at;
};

int tri_messages(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t request_id, struct tri_message **out, size_t *n,
                 struct gu_err *err);
int tri_attachments(struct store_conn *c, struct gu_arena *a,
                    const char *insee, int64_t request_id,
                    struct tri_attachment **out, size_t *n,
                    struct gu_err *err);
/* One attachment's bytes (in the arena). */
int tri_attachment_data(struct store_conn *c, struct gu_arena *a,
                        const char *insee, int64_t request_id, int64_t id,
                        struct tri_attachment *meta, const void **data,
                        struct gu_err *err);
int tri_decisions(struct store_conn *c, struct gu_arena *a, const char *insee,
                  int64_t request_id, struct tri_decision **out, size_t *n,
                  struct gu_err *err);

/*
 * Add a message to a request's thread (a resident's reply by e-mail or on
 * the status page: TRI_MSG_IN; redacted copy made here; reopens a
 * request that was "attente" or "resolue" to "en_cours"). Attachments
 * as in intake. *id_out may be NULL.
 */
int tri_message_add(struct store_conn *c, const char *insee,
                    int64_t request_id, enum tri_msg_kind kind,
                    const char *author, const char *from_addr,
                    const char *body, const char *mail_message_id,
                    const struct tri_attach_in *attach, size_t nattach,
                    int64_t *id_out, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Agents' actions (tri_inbox.c). `actor` is the audit name. Each writes */
/* a tri_decisions row (corrections have source "agent") and an audit    */
/* entry, and e-mails the resident on a status change when asked.       */
/* ------------------------------------------------------------------ */

struct tri_change {
    int status;          /* -1 = unchanged */
    int64_t service_id;  /* -1 = unchanged; 0 = back to à trier */
    int urgency;         /* -1 = unchanged */
    int64_t assigned_to; /* -1 = unchanged; 0 = nobody */
    int64_t case_id;     /* -1 = unchanged; 0 = leave the case; else join */
};

int tri_update(struct store_conn *c, const struct gu_config *cfg,
               const char *insee, int64_t id, const struct tri_change *ch,
               const char *actor, struct gu_err *err);
/* The same change on many requests, all or nothing. */
int tri_bulk(struct store_conn *c, const struct gu_config *cfg,
             const char *insee, const int64_t *ids, size_t n,
             const struct tri_change *ch, const char *actor,
             struct gu_err *err);
int tri_note(struct store_conn *c, const char *insee, int64_t id,
             const char *text, const char *actor, int64_t *note_id,
             struct gu_err *err);
/*
 * Reply to the resident: a TRI_MSG_OUT message and an e-mail (subject
 * « [Demande 2026-00042] … », Message-ID recorded, In-Reply-To the last
 * incoming message, Reply-To triage.reply_to when set) queued in the
 * same transaction. GU_EINVAL when the request has no e-mail address
 * (the reply is then still visible on the status page when
 * `allow_no_email`). new_status -1 = unchanged.
 */
int tri_reply(struct store_conn *c, const struct gu_config *cfg,
              const char *insee, int64_t id, const char *text, int new_status,
              bool allow_no_email, const char *actor, int64_t *msg_id,
              struct gu_err *err);

struct tri_template {
    int64_t id;
    char insee[6];
    const char *name, *body;
    int64_t service_id; /* 0 = every service */
};
int tri_template_list(struct store_conn *c, struct gu_arena *a,
                      const char *insee, struct tri_template **out, size_t *n,
                      struct gu_err *err);
int tri_template_save(struct store_conn *c, const struct tri_template *t,
                      int64_t *id_out, struct gu_err *err);
int tri_template_delete(struct store_conn *c, const char *insee, int64_t id,
                        struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Models (tri_model.c)                                                */
/* ------------------------------------------------------------------ */

/*
 * The commune's active service model, loaded once per store and cached
 * (store_ext) until a retrain swaps it; trained from the embedded seed
 * corpus (data/triage/seed.tsv, mapped onto the commune's active service
 * codes) at first use when the commune has none. The returned reference
 * is valid until tri_model_put().
 */
struct tri_model_ref;
int tri_model_get(struct store *st, struct store_conn *c, const char *insee,
                  struct tri_model_ref **out, struct gu_err *err);
const struct triage_model *tri_model_service(const struct tri_model_ref *r);
const struct triage_model *tri_model_urgency(const struct tri_model_ref *r);
void tri_model_put(struct tri_model_ref *r);

/*
 * Retrain the commune's models on the seed corpus plus every request
 * whose service an agent set or confirmed (redacted text), store them as
 * the new active rows and swap the cache. *info may be NULL. This is
 * `guichet triage train --commune` and the nightly job.
 */
struct tri_retrain_info {
    const char *version;  /* in the arena */
    size_t examples, corrections;
    double cv_accuracy, seconds;
};
int tri_retrain(struct store *st, const char *insee, struct gu_arena *a,
                struct tri_retrain_info *info, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* E-mail import (tri_mail.c)                                          */
/* ------------------------------------------------------------------ */

struct tri_mail_stats {
    size_t seen, created, threaded, skipped, failed;
};

/*
 * Import one RFC 5322 message (GMime: multipart, quoted-printable,
 * base64, charsets to UTF-8, attachments kept). A reply (In-Reply-To /
 * References matching a message of a request, or « [Demande N] » in the
 * subject) becomes a message of that request; anything else a new
 * request, channel "courriel". A Message-ID already imported is skipped
 * (tri_mail_seen). Auto-replies and bounces are skipped.
 */
int tri_mail_import_one(struct store *st, struct store_conn *c,
                        const struct gu_config *cfg, const char *insee,
                        const void *msg, size_t n,
                        struct tri_mail_stats *stats, struct gu_err *err);
/* A Maildir (new/ and cur/; imported files are moved to cur/ with the S
 * flag) or an mbox file (read only; idempotence by Message-ID). */
int tri_mail_import_path(struct store *st, const struct gu_config *cfg,
                         const char *insee, const char *path,
                         struct tri_mail_stats *stats, struct gu_err *err);
/* One configured source (tri_mail_sources row); IMAP by libcurl, new UIDs
 * since last_uid (UIDVALIDITY checked), marked \Seen. */
int tri_mail_import_source(struct store *st, const struct gu_config *cfg,
                           const char *insee, int64_t source_id,
                           struct tri_mail_stats *stats, struct gu_err *err);

/*
 * GMime's process-wide initialisation (g_mime_init is not thread-safe):
 * every user of GMime (the mail import, the multipart form parser) calls
 * this first. Idempotent, thread-safe.
 */
void tri_gmime_init(void);

/* ------------------------------------------------------------------ */
/* Images (tri_image.c)                                                */
/* ------------------------------------------------------------------ */

/*
 * Check that `data` is a JPEG or PNG image (decoded by libjpeg / libpng,
 * limits on dimensions) and re-encode it without any metadata (EXIF, GPS,
 * XMP, comments, text chunks): JPEG losslessly (DCT coefficients copied,
 * no marker kept but JFIF; EXIF orientation applied first when it is not
 * 1), PNG re-encoded. *ctype gets "image/jpeg" or "image/png". GU_EINVAL
 * (French) for anything else or a broken image.
 */
int tri_image_clean(struct gu_arena *a, const void *data, size_t n,
                    const void **out, size_t *out_n, const char **ctype,
                    struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Module rows (app.c)                                                 */
/* ------------------------------------------------------------------ */

extern const struct http_routes tri_routes;       /* tri_http.c: JSON API */
extern const struct http_routes tri_page_routes;  /* tri_pages.c: /demande */
extern const struct http_routes tri_agent_routes; /* tri_agent_pages.c */
const struct notify_job *tri_jobs(size_t *count); /* tri_jobs.c */

/*
 * Residents' rights (tri_pdata.c, called by app_rights.c): the requests
 * of `insee` whose contact is this normalised e-mail and/or phone (either
 * may be NULL), with their messages and attachments, and the messages
 * sent from that address to other requests. Export adds the member
 * "demandes" to `out` (attachment bytes in base64 up to 16 MiB in all);
 * erase anonymises them like the retention purge, inside the caller's
 * transaction (redacted copies made again without keyed tags), adding
 * to *rows. GU_ETOOBIG beyond 5,000 requests or messages.
 */
int tri_pdata_export(struct store_conn *c, struct gu_arena *a,
                     const char *insee, const char *email, const char *phone,
                     json_t *out, struct gu_err *err);
int tri_pdata_erase(struct store_conn *c, const char *insee,
                    const char *email, const char *phone, int64_t *rows,
                    struct gu_err *err);

#endif
