/*
 * notify.h - outbound messages to residents and agents (e-mail first) and
 * the background job runner that sends them.
 *
 * E-mails are queued in the database (table notify_outbox, one row per
 * message, with the commune), then sent by a job through the SMTP server
 * the administrator configured (libcurl, smtp:// or smtps://, STARTTLS).
 * Nothing is sent when smtp.url is empty: messages stay queued and the
 * back-office shows them. Retries with backoff; each message is sent at
 * most once (claimed in a transaction before sending).
 *
 * The job runner: main.c registers periodic jobs (name, period, function);
 * `guichet serve` runs them in one background thread, each run with its
 * own store connection and arena, one log line per run.
 */
#ifndef NOTIFY_NOTIFY_H
#define NOTIFY_NOTIFY_H

#include "core/core.h"
#include "store/store.h"

/* The schema of the notify module (store_migrate list). */
const struct store_migration *notify_migrations(size_t *count);

/* An e-mail to queue. Strings are copied. */
struct notify_mail {
    const char *insee;     /* commune the message belongs to */
    const char *to;        /* one address, validated */
    const char *subject;   /* French, UTF-8 (encoded per RFC 2047) */
    const char *text;      /* plain-text body, UTF-8 */
    const char *kind;      /* "asst.answer", "rdv.confirm"... for stats */
    const char *attach_name;  /* optional attachment file name ("rdv.ics") */
    const char *attach_type;  /* its content type ("text/calendar") */
    const char *attach_data;  /* its bytes (text), may be NULL */
    /*
     * Threading (the request inbox): when message_id is set ("<...@host>",
     * made by notify_message_id()) the e-mail is sent with that
     * Message-ID instead of one made at sending; in_reply_to (the
     * "<...>" it answers, also sent as References) and reply_to (an
     * address) may be NULL.
     */
    const char *message_id;
    const char *in_reply_to;
    const char *reply_to;
};

/*
 * A fresh Message-ID "<random@domain>" for `from` (smtp.from of cfg; its
 * domain, "guichet.invalid" when unset), in the arena.
 */
const char *notify_message_id(struct gu_arena *a, const struct gu_config *cfg);

/* Queue one e-mail; *id_out (may be NULL) gets its id. */
int notify_mail_queue(struct store_conn *c, const struct notify_mail *m,
                      int64_t *id_out, struct gu_err *err);

/*
 * Send up to `max` due e-mails through cfg's smtp.* settings. *sent gets
 * how many left. A no-op returning 0 when smtp.url is empty.
 * GU_ECONFIG for a bad smtp.url or smtp.from; GU_EIO when a message
 * failed (it is recorded: retried later, or failed after 5 attempts) -
 * the batch then stops and its other messages stay queued, untouched.
 */
int notify_mail_send_due(struct store *s, const struct gu_config *cfg,
                         int max, int *sent, struct gu_err *err);

/*
 * Send the queued message `id` now, due or not (`guichet mail test`).
 * 0 when the server accepted it; GU_ECONFIG when smtp.url is empty (the
 * message stays queued), GU_ECONFLICT when it is not queued, GU_EIO when
 * sending failed (recorded like any attempt). err->user is French.
 */
int notify_mail_send_one(struct store *s, const struct gu_config *cfg,
                         int64_t id, struct gu_err *err);

/*
 * Check the smtp.* settings without sending: GU_ECONFIG (French
 * err->user, err->field = the key) when smtp.url is empty or not
 * smtp:// / smtps://, or smtp.from is not a valid sender.
 */
int notify_smtp_check(const struct gu_config *cfg, struct gu_err *err);

/* Where a message stands. Strings live in the arena of the call. */
struct notify_mail_state {
    const char *status; /* "queued", "sending", "sent", "failed" */
    int attempts;
    int64_t next_try_at; /* unix seconds of the next attempt */
    int64_t sent_at;     /* 0 until sent */
    const char *last_error; /* English, no personal data, may be "" */
    const char *message_id; /* "<...@domain>" once sent */
};

/* GU_ENOTFOUND for an unknown id. */
int notify_mail_get(struct store_conn *c, struct gu_arena *a, int64_t id,
                    struct notify_mail_state *out, struct gu_err *err);

/*
 * Delete messages created more than older_than_s seconds ago, sent,
 * failed or still queued (retention: notify.retention_days; a message
 * being sent is left alone). Returns the count or a negative code.
 */
int notify_mail_purge(struct store *s, int older_than_s, struct gu_err *err);

/* ----- job runner ----- */

/*
 * A job run: returns how many items it handled (>= 0; 0 logs at debug
 * level, more at info) or a negative code (logged as a warning). It
 * takes its own store connection and must not keep `cfg` after return.
 */
typedef int (*notify_job_fn)(struct store *s, const struct gu_config *cfg,
                             struct gu_err *err);

struct notify_job {
    const char *name;
    int period_s;
    notify_job_fn fn;
    /*
     * Heavy, idempotent work (retraining, refits, purges): with several
     * nodes on one database, one node runs it per period (a claim in
     * table job_runs), instead of every node. Queues whose items are
     * claimed one by one (e-mails, reminders, ANTS) and per-node work
     * (index reloads, checkpoints) leave it false.
     */
    bool once;
};

/*
 * For a job with `once`: may this node run it now? Claims the period
 * for this node (*mine true) unless another node already has it.
 * Always true for a job without `once`.
 */
int notify_job_claim(struct store *s, const struct notify_job *j, bool *mine,
                     struct gu_err *err);

struct notify_runner;

/*
 * Start a thread running `jobs` (copied) every period_s. `cfg_get` is
 * called before each run to get the current configuration (it changes on
 * SIGHUP); it returns a reference the runner releases with `cfg_put`.
 */
int notify_runner_start(struct store *s, const struct notify_job *jobs,
                        size_t n,
                        const struct gu_config *(*cfg_get)(void *ctx),
                        void (*cfg_put)(void *ctx,
                                        const struct gu_config *cfg),
                        void *ctx, struct notify_runner **out,
                        struct gu_err *err);
/* Stop after the current run finishes; frees the runner. NULL ok. */
void notify_runner_stop(struct notify_runner *r);

/*
 * Inside a job: true once notify_runner_stop() was called, so a long job
 * (a batch of e-mails, a big purge) can end early and leave the rest for
 * the next start. False outside a runner thread.
 */
bool notify_job_should_stop(void);

/* The notify module's own jobs (mail.send every 10 s, mail.purge daily). */
const struct notify_job *notify_jobs(size_t *count);

/*
 * A configuration shared by the reload path and the runner: the current
 * one is swapped on SIGHUP, and a replaced one is freed when its last
 * reader puts it back. notify_cfgref_get/put fit notify_runner_start's
 * cfg_get/cfg_put with the cfgref as ctx.
 */
struct notify_cfgref;

/* Takes ownership of cfg (freed on failure too). */
int notify_cfgref_new(struct gu_config *cfg, struct notify_cfgref **out);
/* Takes ownership of cfg. */
void notify_cfgref_swap(struct notify_cfgref *r, struct gu_config *cfg);
const struct gu_config *notify_cfgref_get(void *r);
void notify_cfgref_put(void *r, const struct gu_config *cfg);
/* After the runner has stopped. NULL ok. */
void notify_cfgref_free(struct notify_cfgref *r);

/*
 * Residents' rights (notify_pdata.c, called by app_rights.c): the
 * e-mails of `insee` to `email` (normalised: pii_norm_email; NULL = none).
 * Export adds the member "courriels" to `out`; erase deletes them inside
 * the caller's transaction, adding to *rows.
 */
int notify_pdata_export(struct store_conn *c, struct gu_arena *a,
                        const char *insee, const char *email, json_t *out,
                        struct gu_err *err);
int notify_pdata_erase(struct store_conn *c, const char *insee,
                       const char *email, int64_t *rows, struct gu_err *err);

#endif
