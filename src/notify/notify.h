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
};

/* Queue one e-mail; *id_out (may be NULL) gets its id. */
int notify_mail_queue(struct store_conn *c, const struct notify_mail *m,
                      int64_t *id_out, struct gu_err *err);

/*
 * Send up to `max` due e-mails through cfg's smtp.* settings. *sent gets
 * how many left. A no-op returning 0 when smtp.url is empty.
 */
int notify_mail_send_due(struct store *s, const struct gu_config *cfg,
                         int max, int *sent, struct gu_err *err);

/* ----- job runner ----- */

typedef int (*notify_job_fn)(struct store *s, const struct gu_config *cfg,
                             struct gu_err *err);

struct notify_job {
    const char *name;
    int period_s;
    notify_job_fn fn;
};

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

#endif
