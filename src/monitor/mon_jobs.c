/*
 * mon_jobs.c - the monitor domain's background jobs (notify runner rows,
 * handed over by app.c):
 *
 *   mon.webhook  every 10 s: the alert webhooks of mon_outbox that are
 *                due, POSTed with libcurl (JSON body written by the
 *                ingest when the alert opened). A 2xx marks the row sent;
 *                anything else (refused, timeout, 3xx: redirects are not
 *                followed) retries after 1, 2, 4... minutes (at most an
 *                hour) until monitor.webhook_attempts, then gives up
 *                ('echec'). Only the URL an administrator set on the
 *                asset is ever called: a row whose URL is no longer any
 *                asset's of its commune is dropped. The body's relative
 *                "lien" gets server.public_url in front. Rows sent or
 *                failed are deleted after 30 days.
 *
 * The alert e-mails go through the notify queue (queued by the ingest,
 * sent by notify's mail.send job).
 *
 * Several processes may share a database: a row is claimed (its next_at
 * moved past the timeout) by a conditional UPDATE before it is sent, so
 * two runners never POST it twice at the same time. The store connection
 * is not held during the HTTP call.
 */
#include "monitor/mon_priv.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 20
#define BACKOFF_FIRST 60
#define BACKOFF_MAX 3600
#define KEEP_DAYS 30
#define REPLY_MAX 4096

struct due {
    int64_t id, next_at;
    int attempts;
    char insee[6];
    char *url, *body;
};

static size_t
on_data(char *p, size_t size, size_t n, void *ud)
{
    size_t *seen = ud;

    (void)p;
    *seen += size * n;
    /* a receiver's answer is not read: stop a huge one */
    return *seen > REPLY_MAX ? 0 : size * n;
}

/* POST body to url; 0 on a 2xx, else GU_EIO with a short reason. */
static int
post(const char *url, const char *body, long timeout_ms, char *why,
     size_t why_cap)
{
    struct curl_slist *hdr = NULL;
    CURL *h = curl_easy_init();
    size_t seen = 0;
    long status = 0;
    CURLcode cc;

    if (!h) {
        snprintf(why, why_cap, "curl_easy_init");
        return GU_EIO;
    }
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "X-Guichet-Event: alerte.ouverte");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &seen);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "guichet");
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (status >= 200 && status < 300 &&
        (cc == CURLE_OK || cc == CURLE_WRITE_ERROR))
        return 0;
    if (status > 0)
        snprintf(why, why_cap, "HTTP %ld", status);
    else
        snprintf(why, why_cap, "%s", curl_easy_strerror(cc));
    return GU_EIO;
}

/* The stored body with its relative "lien" made absolute with base
   (server.public_url); NULL when it cannot be read (sent as stored). */
static char *
with_base(const char *body, const char *base)
{
    json_t *j, *l;
    char *out = NULL;

    if (!base || !*base || !(j = json_loads(body, 0, NULL)))
        return NULL;
    l = json_object_get(j, "lien");
    if (json_is_string(l) && json_string_value(l)[0] == '/') {
        size_t n = strlen(base) + json_string_length(l) + 1;
        char *abs = gu_malloc(n);
        if (abs) {
            snprintf(abs, n, "%s%s", base, json_string_value(l));
            json_object_set_new(j, "lien", json_string(abs));
            gu_free(abs);
            out = json_dumps(j, JSON_COMPACT);
        }
    }
    json_decref(j);
    return out;
}

static int64_t
backoff(int attempts)
{
    int64_t d = BACKOFF_FIRST;

    for (int i = 1; i < attempts && d < BACKOFF_MAX; i++)
        d *= 2;
    return d < BACKOFF_MAX ? d : BACKOFF_MAX;
}

/* Claim a due row (0), or tell it is gone / taken by another (1). */
static int
claim(struct store_conn *c, const struct due *d, int64_t until,
      struct gu_err *err)
{
    struct store_val p[3] = {STORE_I(until), STORE_I(d->id),
                             STORE_I(d->next_at)};
    int64_t changes = 0;
    int rc = store_exec_changes(c,
                                "UPDATE mon_outbox SET next_at = ? WHERE"
                                " id = ? AND next_at = ? AND status ="
                                " 'en_attente'",
                                p, 3, &changes, err);

    return rc < 0 ? rc : changes == 1 ? 0 : 1;
}

/* Is url still the webhook of one of the commune's assets? */
static int
url_allowed(struct store_conn *c, struct gu_arena *a, const struct due *d,
            bool *ok, struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(d->insee), STORE_T(d->url)};
    struct store_rows *r = NULL;
    int rc = store_query(c, a,
                         "SELECT 1 FROM mon_assets WHERE insee = ? AND"
                         " webhook_url = ? LIMIT 1",
                         p, 2, &r, err);

    *ok = rc == 0 && r->nrows > 0;
    return rc;
}

static int
finish(struct store_conn *c, const struct due *d, const char *status,
       int attempts, int64_t next_at, const char *why, struct gu_err *err)
{
    struct store_val p[5] = {STORE_T(status), STORE_I(attempts),
                             STORE_I(next_at), STORE_T(why ? why : ""),
                             STORE_I(d->id)};

    return store_exec(c,
                      "UPDATE mon_outbox SET status = ?, attempts = ?,"
                      " next_at = ?, last_error = ? WHERE id = ?",
                      p, 5, err);
}

/* One row: claim, check, send, record. */
static int
deliver(struct store *s, struct due *d, const char *base, int64_t now,
        long timeout_ms, int max_attempts, int *sent, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_conn *c = NULL;
    char why[160] = "";
    bool ok = false;
    int rc, prc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = store_acquire(s, &c, err)) < 0)
        goto out;
    rc = claim(c, d, now + timeout_ms / 1000 + 60, err);
    if (rc != 0) {
        rc = rc > 0 ? 0 : rc;
        goto out;
    }
    if ((rc = url_allowed(c, a, d, &ok, err)) < 0)
        goto out;
    if (!ok) {
        gu_log_warn("mon.webhook_dropped", "id=%lld insee=%s why=url_removed",
                    (long long)d->id, d->insee);
        rc = finish(c, d, "echec", d->attempts, now,
                    "adresse retirée de l'équipement", err);
        goto out;
    }
    store_release(c);
    c = NULL;
    {
        char *full = with_base(d->body, base);
        prc = post(d->url, full ? full : d->body, timeout_ms, why, sizeof(why));
        free(full);
    }
    if ((rc = store_acquire(s, &c, err)) < 0)
        goto out;
    d->attempts++;
    if (prc == 0) {
        rc = finish(c, d, "envoye", d->attempts, now, "", err);
        (*sent)++;
        gu_log_info("mon.webhook_sent", "id=%lld insee=%s attempts=%d",
                    (long long)d->id, d->insee, d->attempts);
    } else if (d->attempts >= max_attempts) {
        rc = finish(c, d, "echec", d->attempts, now, why, err);
        gu_log_warn("mon.webhook_failed",
                    "id=%lld insee=%s attempts=%d "
                    "why=\"%s\" final=1",
                    (long long)d->id, d->insee, d->attempts, why);
    } else {
        rc = finish(c, d, "en_attente", d->attempts, now + backoff(d->attempts),
                    why, err);
        gu_log_warn("mon.webhook_retry",
                    "id=%lld insee=%s attempts=%d "
                    "why=\"%s\" next_s=%lld",
                    (long long)d->id, d->insee, d->attempts, why,
                    (long long)backoff(d->attempts));
    }
out:
    store_release(c);
    gu_arena_free(a);
    return rc;
}

int
mon_outbox_run(struct store *s, const struct gu_config *cfg, int64_t now,
               struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_conn *c = NULL;
    struct store_rows *r = NULL;
    struct due d[BATCH];
    long timeout_ms = gu_config_int(cfg, "monitor.webhook_timeout_ms");
    const char *base;
    int max_attempts = (int)gu_config_int(cfg, "monitor.webhook_attempts");
    size_t n = 0;
    int rc, sent = 0;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    base = gu_public_base(a, cfg);
    if (timeout_ms <= 0)
        timeout_ms = 10000;
    if (max_attempts <= 0)
        max_attempts = 6;
    if ((rc = store_acquire(s, &c, err)) < 0)
        goto out;
    /* A training sandbox's webhooks never leave (see store.h). */
    rc = store_exec(c,
                    "UPDATE mon_outbox SET status = 'echec', last_error ="
                    " 'bac à sable de formation : jamais envoyé' WHERE"
                    " status = 'en_attente' AND " STORE_SANDBOX_SQL("insee"),
                    NULL, 0, err);
    if (rc < 0)
        goto out;
    {
        struct store_val p[2] = {STORE_I(now), STORE_I(BATCH)};
        rc = store_query(c, a,
                         "SELECT id, insee, url, body, attempts, next_at FROM"
                         " mon_outbox WHERE status = 'en_attente' AND"
                         " next_at <= ? ORDER BY next_at, id LIMIT ?",
                         p, 2, &r, err);
    }
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < r->nrows; i++) {
        d[n].id = store_int(r, i, 0);
        snprintf(d[n].insee, sizeof(d[n].insee), "%s", store_text(r, i, 1));
        d[n].url = (char *)store_text(r, i, 2);
        d[n].body = (char *)store_text(r, i, 3);
        d[n].attempts = (int)store_int(r, i, 4);
        d[n].next_at = store_int(r, i, 5);
        if (d[n].url && d[n].body)
            n++;
    }
    {
        struct store_val p[1] = {STORE_I(now - KEEP_DAYS * 86400)};
        rc = store_exec(c,
                        "DELETE FROM mon_outbox WHERE status <> 'en_attente'"
                        " AND created_at < ?",
                        p, 1, err);
    }
    store_release(c);
    c = NULL;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (notify_job_should_stop())
            break;
        rc = deliver(s, &d[i], base, now, timeout_ms, max_attempts, &sent, err);
    }
out:
    store_release(c);
    gu_arena_free(a);
    return rc < 0 ? rc : sent;
}

static int
webhook_job(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    return mon_outbox_run(s, cfg, gu_now(), err);
}

static const struct notify_job jobs[] = {
    {"mon.webhook", 10, webhook_job, false},
};

const struct notify_job *
mon_jobs(size_t *count)
{
    *count = GU_ARRAY_LEN(jobs);
    return jobs;
}
