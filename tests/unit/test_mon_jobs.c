/*
 * test_mon_jobs.c - the alert webhook job (mon_jobs.c) against a real
 * HTTP receiver started here (libmicrohttpd on 127.0.0.1, a free port):
 * a delivery posts the JSON with an absolute link, a 500 is retried with
 * a backoff then delivered, a receiver that keeps failing is given up
 * after monitor.webhook_attempts, a URL no asset has any more is never
 * called. The store is a real in-memory SQLite.
 */
#include "harness.h"

#include "monitor/mon_priv.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "store_url.h"

/* What the receiver saw; it answers `status` (changed by the tests). */
static struct {
    pthread_mutex_t mu;
    int status;
    int hits;
    char body[4096];
    size_t n;
} rx = {PTHREAD_MUTEX_INITIALIZER, 200, 0, "", 0};

static enum MHD_Result
on_req(void *cls, struct MHD_Connection *conn, const char *url,
       const char *method, const char *version, const char *data, size_t *size,
       void **state)
{
    static int mark;
    struct MHD_Response *r;
    enum MHD_Result ret;
    int status;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    if (*state == NULL) {
        *state = &mark;
        pthread_mutex_lock(&rx.mu);
        rx.n = 0;
        pthread_mutex_unlock(&rx.mu);
        return MHD_YES;
    }
    if (*size > 0) {
        pthread_mutex_lock(&rx.mu);
        if (rx.n + *size < sizeof(rx.body)) {
            memcpy(rx.body + rx.n, data, *size);
            rx.n += *size;
            rx.body[rx.n] = '\0';
        }
        pthread_mutex_unlock(&rx.mu);
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&rx.mu);
    rx.hits++;
    status = rx.status;
    pthread_mutex_unlock(&rx.mu);
    r = MHD_create_response_from_buffer(2, (void *)"ok",
                                        MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

struct fix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg;
    struct MHD_Daemon *d;
    char url[128];
    notify_job_fn job;
};

static int
fix_open(struct fix *f)
{
    const struct store_migration *lists[3];
    size_t counts[3], nj = 0;
    const struct notify_job *jobs;
    const union MHD_DaemonInfo *info;
    struct store_commune m;
    struct gu_err err;

    memset(f, 0, sizeof(*f));
    lists[0] = store_core_migrations(&counts[0]);
    lists[1] = notify_migrations(&counts[1]);
    lists[2] = mon_migrations(&counts[2]);
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        store_migrate(f->s, lists, counts, 3, NULL, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->cfg, &err) < 0 ||
        gu_config_parse_string(f->cfg,
                               "[server]\npublic_url = https://guichet.test/\n"
                               "[monitor]\nwebhook_attempts = 3\n"
                               "webhook_timeout_ms = 5000\n",
                               &err) < 0)
        return -1;
    memset(&m, 0, sizeof(m));
    memcpy(m.insee, "44109", 6);
    m.name = "Nantes";
    m.zone = "B";
    m.hours = m.address = m.phone = m.email = "";
    if (store_commune_create(f->c, &m, &err) < 0)
        return -1;
    f->a = gu_arena_new(0);
    f->d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_req,
                         NULL, MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
    if (!f->d)
        return -1;
    info = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/hook",
             info ? info->port : 0);
    jobs = mon_jobs(&nj);
    for (size_t i = 0; i < nj; i++)
        if (strcmp(jobs[i].name, "mon.webhook") == 0)
            f->job = jobs[i].fn;
    return f->job && f->a ? 0 : -1;
}

static void
fix_close(struct fix *f)
{
    if (f->d)
        MHD_stop_daemon(f->d);
    gu_config_free(f->cfg);
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
}

static int64_t
asset_with_hook(struct fix *f, const char *url)
{
    struct mon_asset a;
    struct gu_err err;
    int64_t id = 0;

    memset(&a, 0, sizeof(a));
    snprintf(a.insee, sizeof(a.insee), "44109");
    a.name = "Réservoir";
    a.webhook_url = url;
    if (mon_asset_save(f->c, &a, &id, &err) < 0)
        fprintf(stderr, "asset: %s\n", err.msg);
    return id;
}

static int64_t
queue(struct fix *f, const char *url)
{
    struct store_val p[2] = {STORE_T(url), STORE_I(gu_now())};
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a,
                    "INSERT INTO mon_outbox (insee, url, body, next_at,"
                    " created_at) VALUES ('44109', ?, '{\"type\":"
                    "\"alerte.ouverte\",\"id\":7,\"lien\":"
                    "\"/agent/surveillance/alertes/7\"}', 0, ?) RETURNING id",
                    p, 2, &r, &err) < 0)
        return 0;
    return store_int(r, 0, 0);
}

static const char *
row(struct fix *f, int64_t id, int *attempts)
{
    struct store_val p[1] = {STORE_I(id)};
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a,
                    "SELECT status, attempts FROM mon_outbox WHERE id = ?", p,
                    1, &r, &err) < 0 ||
        r->nrows == 0)
        return "";
    *attempts = (int)store_int(r, 0, 1);
    return store_text(r, 0, 0);
}

static void
make_due(struct fix *f)
{
    struct gu_err err;

    store_exec(f->c, "UPDATE mon_outbox SET next_at = 0", NULL, 0, &err);
}

static void
test_deliver_retry_give_up(void)
{
    struct fix f;
    struct gu_err err;
    int64_t id, gone;
    int att = 0;

    if (fix_open(&f) < 0) {
        CHECK(0);
        fix_close(&f);
        return;
    }
    asset_with_hook(&f, f.url);
    /* delivered: the body arrives with an absolute link */
    id = queue(&f, f.url);
    CHECK_EQ(f.job(f.s, f.cfg, &err), 1);
    CHECK_STR(row(&f, id, &att), "envoye");
    CHECK_EQ(att, 1);
    CHECK_EQ(rx.hits, 1);
    CHECK_CONTAINS(rx.body,
                   "\"lien\":\"https://guichet.test/agent/surveillance/"
                   "alertes/7\"");
    CHECK_CONTAINS(rx.body, "\"type\":\"alerte.ouverte\"");
    /* not sent twice */
    CHECK_EQ(f.job(f.s, f.cfg, &err), 0);
    CHECK_EQ(rx.hits, 1);
    /* a 500 is retried later, not at once */
    rx.status = 500;
    id = queue(&f, f.url);
    CHECK_EQ(f.job(f.s, f.cfg, &err), 0);
    CHECK_STR(row(&f, id, &att), "en_attente");
    CHECK_EQ(att, 1);
    CHECK_EQ(f.job(f.s, f.cfg, &err), 0); /* backoff: not due yet */
    CHECK_EQ(rx.hits, 2);
    rx.status = 204;
    make_due(&f);
    CHECK_EQ(f.job(f.s, f.cfg, &err), 1);
    CHECK_STR(row(&f, id, &att), "envoye");
    CHECK_EQ(att, 2);
    /* a receiver that keeps failing: given up after 3 attempts */
    rx.status = 503;
    id = queue(&f, f.url);
    for (int i = 0; i < 4; i++) {
        make_due(&f);
        f.job(f.s, f.cfg, &err);
    }
    CHECK_STR(row(&f, id, &att), "echec");
    CHECK_EQ(att, 3);
    CHECK_EQ(rx.hits, 6);
    /* a URL no asset has: never called */
    gone = queue(&f, "http://127.0.0.1:9/ailleurs");
    make_due(&f);
    f.job(f.s, f.cfg, &err);
    CHECK_STR(row(&f, gone, &att), "echec");
    CHECK_EQ(att, 0);
    CHECK_EQ(rx.hits, 6);
    fix_close(&f);
}

TESTS(T(test_deliver_retry_give_up))
