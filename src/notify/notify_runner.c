/*
 * notify_runner.c - the background job runner and the shared
 * configuration reference it reads.
 *
 * One thread runs every job in turn when it is due, one at a time, each
 * run with the configuration current at that moment (taken with cfg_get,
 * given back with cfg_put) and the store; jobs take their own connection.
 * Between runs the thread sleeps on a condition variable (monotonic
 * clock) until the next due time or until notify_runner_stop() wakes it,
 * so stopping never waits for a period to end, only for the run in
 * progress.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "notify/notify_internal.h"

/* Delay before the first run of every job after start. */
#define FIRST_RUN_MS 1000

struct notify_runner {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stop; /* written under mu; read by jobs without it */
    struct store *st;
    struct notify_job *jobs;
    int64_t *due_ms; /* next run, monotonic ms */
    size_t n;
    const struct gu_config *(*cfg_get)(void *ctx);
    void (*cfg_put)(void *ctx, const struct gu_config *cfg);
    void *ctx;
};

/* The stop flag of the runner this thread belongs to, if any. */
static _Thread_local atomic_bool *cur_stop;

bool
notify_job_should_stop(void)
{
    return cur_stop && atomic_load(cur_stop);
}

int
notify_job_claim(struct store *s, const struct notify_job *j, bool *mine,
                 struct gu_err *err)
{
    struct store_conn *c = NULL;
    int64_t now = gu_now(), changes = 0;
    int rc;

    *mine = true;
    if (!j->once)
        return 0;
    *mine = false;
    rc = store_acquire(s, &c, err);
    if (rc == 0) {
        struct store_val p[1] = {STORE_T(j->name)};
        rc = store_exec(c,
                        "INSERT INTO job_runs (name, next_at) VALUES (?, 0)"
                        " ON CONFLICT (name) DO NOTHING",
                        p, 1, err);
    }
    if (rc == 0) {
        /* Free again a second before this node's own next turn. */
        struct store_val p[3] = {STORE_I(now + j->period_s - 1),
                                 STORE_T(j->name), STORE_I(now)};
        rc = store_exec_changes(c,
                                "UPDATE job_runs SET next_at = ?"
                                " WHERE name = ? AND next_at <= ?",
                                p, 3, &changes, err);
    }
    store_release(c);
    *mine = rc == 0 && changes == 1;
    return rc;
}

static void
run_job(struct notify_runner *r, const struct notify_job *j)
{
    const struct gu_config *cfg = NULL;
    int64_t t0 = gu_now_ms();
    struct gu_err err;
    bool mine = false;
    char q[300];
    int rc;

    gu_err_clear(&err);
    if (notify_job_claim(r->st, j, &mine, &err) < 0) {
        gu_log_warn("job", "name=%s claim=failed err=%s", j->name,
                    gu_logq(q, sizeof(q), err.msg));
        return;
    }
    if (!mine) {
        gu_log(GU_LOG_DEBUG, "job", "name=%s skipped=another_node", j->name);
        return;
    }
    cfg = r->cfg_get(r->ctx);
    gu_err_clear(&err);
    rc = cfg ? j->fn(r->st, cfg, &err)
             : gu_err_set(&err, GU_EINTERNAL, NULL, NULL, "no config");
    if (cfg)
        r->cfg_put(r->ctx, cfg);
    if (rc < 0)
        gu_log_warn("job", "name=%s ms=%lld rc=%s err=%s", j->name,
                    (long long)(gu_now_ms() - t0), gu_status_name(rc),
                    gu_logq(q, sizeof(q), err.msg));
    else
        gu_log(rc > 0 ? GU_LOG_INFO : GU_LOG_DEBUG, "job",
               "name=%s ms=%lld done=%d", j->name,
               (long long)(gu_now_ms() - t0), rc);
}

static void
deadline(int64_t ms, struct timespec *ts)
{
    struct timespec now;
    int64_t wait = ms - gu_now_ms();

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (wait < 0)
        wait = 0;
    ts->tv_sec = now.tv_sec + (time_t)(wait / 1000);
    ts->tv_nsec = now.tv_nsec + (long)(wait % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *
runner_main(void *arg)
{
    struct notify_runner *r = arg;

    gu_log_set_request_id("jobs");
    cur_stop = &r->stop;
    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->stop)) {
        int64_t now = gu_now_ms(), next = INT64_MAX;
        size_t due = r->n;

        for (size_t k = 0; k < r->n; k++) {
            if (r->due_ms[k] <= now && due == r->n)
                due = k;
            if (r->due_ms[k] < next)
                next = r->due_ms[k];
        }
        if (due < r->n) {
            pthread_mutex_unlock(&r->mu);
            run_job(r, &r->jobs[due]);
            pthread_mutex_lock(&r->mu);
            r->due_ms[due] = gu_now_ms() + (int64_t)r->jobs[due].period_s * 1000;
            continue;
        }
        if (next == INT64_MAX) {
            pthread_cond_wait(&r->cv, &r->mu);
        } else {
            struct timespec ts;

            deadline(next, &ts);
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int
notify_runner_start(struct store *s, const struct notify_job *jobs, size_t n,
                    const struct gu_config *(*cfg_get)(void *ctx),
                    void (*cfg_put)(void *ctx, const struct gu_config *cfg),
                    void *ctx, struct notify_runner **out,
                    struct gu_err *err)
{
    struct notify_runner *r;
    pthread_condattr_t ca;
    int64_t now = gu_now_ms();

    *out = NULL;
    for (size_t k = 0; k < n; k++)
        if (!jobs[k].name || !jobs[k].fn || jobs[k].period_s <= 0)
            return gu_err_set(err, GU_EINVAL, NULL, NULL,
                              "runner: bad job %zu", k);
    r = gu_calloc(1, sizeof(*r));
    if (!r)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    r->jobs = gu_calloc(n ? n : 1, sizeof(*r->jobs));
    r->due_ms = gu_calloc(n ? n : 1, sizeof(*r->due_ms));
    if (!r->jobs || !r->due_ms) {
        gu_free(r->jobs);
        gu_free(r->due_ms);
        gu_free(r);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    if (n)
        memcpy(r->jobs, jobs, n * sizeof(*jobs));
    for (size_t k = 0; k < n; k++)
        r->due_ms[k] = now + FIRST_RUN_MS;
    r->n = n;
    r->st = s;
    r->cfg_get = cfg_get;
    r->cfg_put = cfg_put;
    r->ctx = ctx;
    atomic_init(&r->stop, false);
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&r->thread, NULL, runner_main, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        gu_free(r->jobs);
        gu_free(r->due_ms);
        gu_free(r);
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "runner: pthread_create failed");
    }
    gu_log_info("jobs.start", "jobs=%zu", n);
    *out = r;
    return 0;
}

void
notify_runner_stop(struct notify_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->stop, true);
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    gu_log_info("jobs.stop", "jobs=%zu", r->n);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    gu_free(r->jobs);
    gu_free(r->due_ms);
    gu_free(r);
}

/* ------------------------------------------------------------------ */
/* Shared configuration                                                */
/* ------------------------------------------------------------------ */

#define CFGREF_SLOTS 8

struct notify_cfgref {
    pthread_mutex_t mu;
    struct {
        struct gu_config *cfg;
        int refs;
    } slot[CFGREF_SLOTS]; /* slot[cur] is current, others retired */
    int cur;
};

int
notify_cfgref_new(struct gu_config *cfg, struct notify_cfgref **out)
{
    struct notify_cfgref *r = gu_calloc(1, sizeof(*r));

    *out = NULL;
    if (!r) {
        gu_config_free(cfg);
        return GU_ENOMEM;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->slot[0].cfg = cfg;
    *out = r;
    return 0;
}

void
notify_cfgref_swap(struct notify_cfgref *r, struct gu_config *cfg)
{
    int k, free_slot = -1;
    struct gu_config *drop = NULL;

    pthread_mutex_lock(&r->mu);
    for (k = 0; k < CFGREF_SLOTS; k++)
        if (!r->slot[k].cfg) {
            free_slot = k;
            break;
        }
    if (free_slot < 0) {
        /* every slot holds a retired config still in use: keep the
         * current one rather than free a config someone reads */
        pthread_mutex_unlock(&r->mu);
        gu_config_free(cfg);
        gu_log_warn("cfgref.full", "slots=%d", CFGREF_SLOTS);
        return;
    }
    if (r->slot[r->cur].refs == 0) {
        drop = r->slot[r->cur].cfg;
        r->slot[r->cur].cfg = NULL;
    }
    r->slot[free_slot].cfg = cfg;
    r->slot[free_slot].refs = 0;
    r->cur = free_slot;
    pthread_mutex_unlock(&r->mu);
    gu_config_free(drop);
}

const struct gu_config *
notify_cfgref_get(void *ctx)
{
    struct notify_cfgref *r = ctx;
    const struct gu_config *cfg;

    pthread_mutex_lock(&r->mu);
    r->slot[r->cur].refs++;
    cfg = r->slot[r->cur].cfg;
    pthread_mutex_unlock(&r->mu);
    return cfg;
}

void
notify_cfgref_put(void *ctx, const struct gu_config *cfg)
{
    struct notify_cfgref *r = ctx;
    struct gu_config *drop = NULL;

    pthread_mutex_lock(&r->mu);
    for (int k = 0; k < CFGREF_SLOTS; k++) {
        if (r->slot[k].cfg != cfg)
            continue;
        if (--r->slot[k].refs == 0 && k != r->cur) {
            drop = r->slot[k].cfg;
            r->slot[k].cfg = NULL;
        }
        break;
    }
    pthread_mutex_unlock(&r->mu);
    gu_config_free(drop);
}

void
notify_cfgref_free(struct notify_cfgref *r)
{
    if (!r)
        return;
    for (int k = 0; k < CFGREF_SLOTS; k++)
        gu_config_free(r->slot[k].cfg);
    pthread_mutex_destroy(&r->mu);
    gu_free(r);
}
