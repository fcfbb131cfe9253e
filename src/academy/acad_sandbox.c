/*
 * acad_sandbox.c - the sandbox commune of a real commune (see acad.h):
 * allocation of its code in 99900..99999, creation, seeding with the
 * demo seeders of `guichet init --demo`, reset.
 *
 * Seeding takes seconds (the forecasts are fitted, weeks of sensor data
 * run through the detectors), too long for a request: a request writes
 * the commune and the sandbox row in state "creation" and queues the
 * sandbox; one preparer thread per store (store_ext "acad.preparer",
 * joined by store_close) runs the seeders outside any transaction (they
 * open their own: tri_intake does, per request) and sets the state to
 * "pret". A seeding cut short (a crash, an error) is queued again by the
 * next acad_sandbox_ensure(), each seeder being idempotent. Several nodes
 * on one database each have a preparer: the one that seeds a sandbox
 * holds a lease in its row (`seeding_at`, renewed at each step), so the
 * others leave it alone, and take it over once a crashed node's lease
 * has run out. The preparer
 * uses the default configuration, not the server's: the sandbox is
 * fictitious and nothing in it may reach an outside service.
 */
#include "academy/acad.h"

#include "forecast/fc.h"
#include "kb/kb.h"
#include "monitor/mon.h"
#include "rdv/rdv.h"
#include "rdv/rdv_risk.h"
#include "triage/tri.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SUFFIX " — bac à sable de formation"
#define NAME_KEEP 90 /* bytes of the real name kept before the suffix */
/* Past appointments seeded for the no-show statistics: fewer than the
   demo's 700, enough for the statistics page, quick in a request. */
#define RDV_HISTORY 120

bool
acad_insee_is_sandbox(const char *insee)
{
    return store_insee_sandbox(insee);
}

static int
row_to_sandbox(struct gu_arena *a, const struct store_rows *r,
               struct acad_sandbox *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->insee, sizeof(out->insee), "%s", store_text(r, 0, 0));
    snprintf(out->parent, sizeof(out->parent), "%s", store_text(r, 0, 1));
    out->state = gu_arena_strdup(a, store_text(r, 0, 2));
    out->created_at = store_int(r, 0, 3);
    out->reset_at = store_int(r, 0, 4);
    return out->state ? 0 : GU_ENOMEM;
}

int
acad_sandbox_get(struct store_conn *c, struct gu_arena *a, const char *parent,
                 struct acad_sandbox *out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(parent)};
    int rc = store_query(c, a,
                         "SELECT insee, parent, state, created_at, reset_at"
                         " FROM acad_sandboxes WHERE parent = ?",
                         p, 1, &r, err);

    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL,
                          "Cette commune n’a pas encore de bac à sable.",
                          "no sandbox");
    return row_to_sandbox(a, r, out);
}

int
acad_sandbox_parent(struct store_conn *c, const char *insee, char parent[6],
                    struct gu_err *err)
{
    struct gu_arena *a;
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(insee)};
    int rc;

    parent[0] = '\0';
    if (!acad_insee_is_sandbox(insee))
        return gu_err_set(err, GU_ENOTFOUND, NULL, NULL, "not a sandbox");
    a = gu_arena_new(512);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_query(c, a, "SELECT parent FROM acad_sandboxes WHERE insee = ?",
                     p, 1, &r, err);
    if (rc == 0 && r->nrows == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL, NULL, "not a sandbox");
    if (rc == 0)
        snprintf(parent, 6, "%s", store_text(r, 0, 0));
    gu_arena_free(a);
    return rc;
}

int
acad_home(struct store_conn *c, const char *insee, char home[6],
          struct gu_err *err)
{
    int rc = acad_sandbox_parent(c, insee, home, err);

    if (rc == GU_ENOTFOUND) {
        gu_err_clear(err);
        snprintf(home, 6, "%s", insee);
        return 0;
    }
    return rc;
}

/* The first free code of the range; GU_ETOOBIG when all are taken. */
static int
free_code(struct store_conn *c, struct gu_arena *a, char out[6],
          struct gu_err *err)
{
    struct store_rows *r = NULL;
    bool used[ACAD_SANDBOX_LAST - ACAD_SANDBOX_FIRST + 1];
    int rc;

    memset(used, 0, sizeof(used));
    rc = store_query(c, a,
                     "SELECT insee FROM communes WHERE "
                     STORE_SANDBOX_SQL("insee"),
                     NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++) {
        long v;
        if (gu_parse_long(store_text(r, i, 0), ACAD_SANDBOX_FIRST,
                          ACAD_SANDBOX_LAST, &v) == 0)
            used[v - ACAD_SANDBOX_FIRST] = true;
    }
    for (int i = 0; i <= ACAD_SANDBOX_LAST - ACAD_SANDBOX_FIRST; i++) {
        if (!used[i]) {
            snprintf(out, 6, "%d", ACAD_SANDBOX_FIRST + i);
            return 0;
        }
    }
    return gu_err_set(err, GU_ETOOBIG, NULL,
                      "Plus aucun code de bac à sable libre (99900 à "
                      "99999) : supprimez des bacs à sable inutilisés.",
                      "sandbox codes exhausted");
}

/* The sandbox's commune row from the real one's public settings. */
static int
sandbox_commune(struct store_conn *c, struct gu_arena *a, const char *parent,
                const char *insee, struct store_commune *m,
                struct gu_err *err)
{
    struct store_commune p;
    size_t keep;
    int rc = store_commune_get(c, a, parent, &p, err);

    if (rc < 0)
        return rc;
    keep = strlen(p.name);
    if (keep > NAME_KEEP) {
        keep = NAME_KEEP;
        /* cut on a character boundary */
        while (keep > 0 && ((unsigned char)p.name[keep] & 0xC0) == 0x80)
            keep--;
    }
    memset(m, 0, sizeof(*m));
    snprintf(m->insee, sizeof(m->insee), "%s", insee);
    m->name = gu_arena_sprintf(a, "%.*s%s", (int)keep, p.name, SUFFIX);
    m->zone = p.zone;
    m->hours = p.hours;
    /* No address, phone or e-mail: nothing in the sandbox may send a
       resident (or the real mairie) a message in the commune's name. */
    m->address = "";
    m->phone = "";
    m->email = "";
    return m->name ? 0 : gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
}

struct preparer;
static void preparer_step(struct preparer *p, const char *step);
static void beat(struct preparer *p, struct store_conn *c, const char *insee,
                 const char *step);

/* Seconds a node's claim on a seeding holds without being renewed. */
#define SEED_LEASE_S 120

/*
 * Take (or renew, `renew`) the lease on seeding `insee`: *mine says
 * whether this node may seed it now. A sandbox that is ready, or that
 * another node seeds, is not ours.
 */
static int
seed_claim(struct store_conn *c, const char *insee, bool renew, bool *mine,
           struct gu_err *err)
{
    int64_t now = gu_now(), changes = 0;
    struct store_val p[] = {STORE_I(now), STORE_T(insee),
                            STORE_I(renew ? INT64_MAX : now - SEED_LEASE_S)};
    int rc = store_exec_changes(c,
                                "UPDATE acad_sandboxes SET seeding_at = ?"
                                " WHERE insee = ? AND state = 'creation'"
                                " AND seeding_at < ?",
                                p, 3, &changes, err);

    *mine = rc == 0 && changes == 1;
    return rc;
}

/* Every demo seeder on the sandbox, each idempotent; `p` (may be NULL)
   hears which one runs. */
static int
seed(struct store *st, struct store_conn *c, const struct gu_config *cfg,
     const char *insee, struct preparer *pp, struct gu_err *err)
{
    size_t loaded = 0;
    int64_t t0 = gu_now_ms();
    struct store_val p[] = {STORE_T(insee)};
    int rc;

    preparer_step(pp, "fiches de la base de connaissances");
    rc = kb_demo_load(c, insee, "formation", &loaded, err);
    beat(pp, c, insee, "lieux, motifs et historique des rendez-vous");
    if (rc >= 0)
        rc = rdv_demo_seed(c, insee, err);
    if (rc >= 0)
        rc = rdv_risk_demo_history(c, insee, RDV_HISTORY, 0, err);
    beat(pp, c, insee, "services et demandes de la boîte");
    if (rc >= 0)
        rc = tri_demo_seed(st, c, cfg, insee, err);
    beat(pp, c, insee, "séries de prévision (calcul des modèles)");
    if (rc >= 0)
        rc = fc_demo_seed(c, insee, err);
    beat(pp, c, insee, "équipements surveillés et leurs alertes");
    if (rc >= 0)
        rc = mon_demo_seed(c, insee, err);
    if (rc >= 0)
        rc = store_exec(c,
                        "UPDATE acad_sandboxes SET state = 'pret',"
                        " seeding_at = 0 WHERE insee = ?",
                        p, 1, err);
    preparer_step(pp, "");
    if (rc < 0)
        return rc;
    gu_log(GU_LOG_INFO, "acad.seeded", "insee=%s fiches=%zu ms=%lld", insee,
           loaded, (long long)(gu_now_ms() - t0));
    return 0;
}

int
acad_sandbox_seed(struct store *st, struct store_conn *c,
                  const struct gu_config *cfg, const char *insee,
                  struct gu_err *err)
{
    return seed(st, c, cfg, insee, NULL, err);
}

/* ------------------------------------------------------------------ */
/* The preparer: one thread per store seeding queued sandboxes         */
/* ------------------------------------------------------------------ */

#define QUEUE_MAX 16

struct preparer {
    struct store *st;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool started, stop;
    char queue[QUEUE_MAX][6];
    size_t n;
    char busy[6]; /* being seeded now, "" when idle */
    char step[96]; /* what busy's seeding is doing, French */
};

static void
preparer_step(struct preparer *p, const char *step)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    snprintf(p->step, sizeof(p->step), "%s", step);
    pthread_mutex_unlock(&p->mu);
}

/* A step of the preparer's seeding: say it, and renew the lease. */
static void
beat(struct preparer *p, struct store_conn *c, const char *insee,
     const char *step)
{
    struct gu_err err;
    bool mine;

    preparer_step(p, step);
    if (p)
        (void)seed_claim(c, insee, true, &mine, &err);
}

static void *
preparer_main(void *arg)
{
    struct preparer *p = arg;
    struct gu_config *cfg = NULL;
    struct gu_err err = {0};

    if (gu_config_defaults(&cfg, &err) < 0) {
        gu_log_error("acad.preparer", "err=\"%s\"", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct store_conn *c = NULL;
        char insee[6];
        int rc;

        while (!p->stop && p->n == 0)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop)
            break;
        memcpy(insee, p->queue[0], sizeof(insee));
        memmove(p->queue[0], p->queue[1], (p->n - 1) * sizeof(p->queue[0]));
        p->n--;
        memcpy(p->busy, insee, sizeof(insee));
        pthread_mutex_unlock(&p->mu);
        gu_err_clear(&err);
        rc = store_acquire(p->st, &c, &err);
        if (rc == 0) {
            bool mine = false;
            rc = seed_claim(c, insee, false, &mine, &err);
            if (rc == 0 && mine) {
                struct store_val q[] = {STORE_T(insee)};
                struct gu_err e2;
                rc = seed(p->st, c, cfg, insee, p, &err);
                if (rc < 0) /* let the next ensure (any node) try again */
                    (void)store_exec(c,
                                     "UPDATE acad_sandboxes SET seeding_at"
                                     " = 0 WHERE insee = ?",
                                     q, 1, &e2);
            }
        }
        store_release(c);
        if (rc < 0)
            gu_log_error("acad.seed", "insee=%s err=\"%s\"", insee, err.msg);
        pthread_mutex_lock(&p->mu);
        p->busy[0] = '\0';
    }
    pthread_mutex_unlock(&p->mu);
    gu_config_free(cfg);
    return NULL;
}

static void *
preparer_make(struct store *s)
{
    struct preparer *p = gu_calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->st = s;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    return p;
}

/* store_close(): the seeding in progress ends, the queue is dropped (its
   sandboxes stay in "creation" and are queued again on next entry). */
static void
preparer_free(void *arg)
{
    struct preparer *p = arg;

    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (p->started)
        pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    gu_free(p);
}

/* Queue `insee` unless it is queued or being seeded. */
static int
preparer_queue(struct store *st, const char *insee, struct gu_err *err)
{
    struct preparer *p = store_ext(st, "acad.preparer", preparer_make,
                                   preparer_free);
    int rc = 0;

    if (!p)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    pthread_mutex_lock(&p->mu);
    if (strcmp(p->busy, insee) == 0)
        goto out;
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->queue[i], insee) == 0)
            goto out;
    }
    if (p->n == QUEUE_MAX) {
        rc = gu_err_set(err, GU_EBUSY, NULL,
                        "Trop de bacs à sable en préparation : réessayez "
                        "dans une minute.",
                        "preparer queue full");
        goto out;
    }
    if (!p->started) {
        if (pthread_create(&p->thread, NULL, preparer_main, p) != 0) {
            rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                            "preparer thread");
            goto out;
        }
        p->started = true;
    }
    snprintf(p->queue[p->n++], 6, "%s", insee);
    pthread_cond_broadcast(&p->cv);
out:
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int
acad_sandbox_prepare(struct store *st, const char *insee, struct gu_err *err)
{
    return preparer_queue(st, insee, err);
}

void
acad_sandbox_progress(struct store *st, const char *insee, char *out,
                      size_t cap)
{
    struct preparer *p = store_ext(st, "acad.preparer", preparer_make,
                                   preparer_free);

    out[0] = '\0';
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    if (strcmp(p->busy, insee) == 0)
        snprintf(out, cap, "%s", p->step);
    else {
        for (size_t i = 0; i < p->n; i++) {
            if (strcmp(p->queue[i], insee) == 0)
                snprintf(out, cap, "en attente (%zu avant)", i + 1);
        }
    }
    pthread_mutex_unlock(&p->mu);
}

int
acad_sandbox_wait(struct store_conn *c, const char *parent, int timeout_ms,
                  struct acad_sandbox *out, struct gu_err *err)
{
    int64_t until = gu_now_ms() + timeout_ms;
    int rc;

    for (;;) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        struct gu_arena *a = gu_arena_new(1024);
        bool ready;

        if (!a)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        rc = acad_sandbox_get(c, a, parent, out, err);
        if (rc == GU_EDB) {
            /* the preparer holds the database (a shared in-memory one
               locks tables): not ready yet */
            gu_err_clear(err);
            rc = 0;
            out->state = "creation";
        }
        ready = rc == 0 && strcmp(out->state, "pret") == 0;
        if (rc == 0) /* the state string lived in `a` */
            out->state = ready ? "pret" : "creation";
        gu_arena_free(a);
        if (rc < 0 || ready || gu_now_ms() >= until)
            return rc;
        nanosleep(&ts, NULL);
    }
}

/* Create the commune and the sandbox row (state "creation") in one
   transaction, under `code` (a reset reuses it) or a free one. */
static int
create_rows(struct store_conn *c, struct gu_arena *a, const char *parent,
            const char *code, int64_t created_at, int64_t reset_at,
            struct gu_err *err)
{
    struct store_commune m;
    char insee[6];
    int rc = store_begin(c, err);

    if (rc < 0)
        return rc;
    if (code)
        snprintf(insee, sizeof(insee), "%s", code);
    else
        rc = free_code(c, a, insee, err);
    if (rc == 0)
        rc = sandbox_commune(c, a, parent, insee, &m, err);
    if (rc == 0)
        rc = store_commune_create(c, &m, err);
    if (rc == 0) {
        struct store_val p[] = {STORE_T(insee), STORE_T(parent),
                                STORE_I(created_at), STORE_I(reset_at)};
        rc = store_exec(c,
                        "INSERT INTO acad_sandboxes (insee, parent, state,"
                        " created_at, reset_at) VALUES (?, ?, 'creation', ?,"
                        " ?)",
                        p, 4, err);
    }
    if (rc == 0)
        rc = store_commit(c, err);
    if (rc < 0)
        store_rollback(c);
    return rc;
}

int
acad_sandbox_ensure(struct store *st, struct store_conn *c,
                    const struct gu_config *cfg, struct gu_arena *a,
                    const char *parent, int64_t agent_id,
                    enum store_role role, bool wait,
                    struct acad_sandbox *out, struct gu_err *err)
{
    int rc;

    if (acad_insee_is_sandbox(parent))
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Un bac à sable n’a pas lui-même de bac à sable.",
                          "parent is a sandbox");
    rc = acad_sandbox_get(c, a, parent, out, err);
    if (rc == GU_ENOTFOUND) {
        gu_err_clear(err);
        rc = create_rows(c, a, parent, NULL, gu_now(), 0, err);
        if (rc == GU_ECONFLICT) {
            /* another request created it at the same time */
            gu_err_clear(err);
            rc = 0;
        }
        if (rc == 0)
            rc = acad_sandbox_get(c, a, parent, out, err);
    }
    if (rc < 0)
        return rc;
    if (agent_id > 0 && role != STORE_ROLE_NONE)
        rc = store_agent_set_role(c, agent_id, out->insee, role, err);
    if (rc < 0 || strcmp(out->state, "pret") == 0)
        return rc;
    if (!wait)
        return preparer_queue(st, out->insee, err);
    rc = acad_sandbox_seed(st, c, cfg, out->insee, err);
    if (rc == 0)
        out->state = "pret";
    return rc;
}

int
acad_sandbox_reset(struct store *st, struct store_conn *c,
                   const struct gu_config *cfg, struct gu_arena *a,
                   const char *parent, int64_t agent_id,
                   enum store_role role, bool wait,
                   struct acad_sandbox *out, struct gu_err *err)
{
    struct acad_sandbox old;
    char code[6];
    int rc = acad_sandbox_get(c, a, parent, &old, err);

    if (rc < 0)
        return rc;
    if (strcmp(old.state, "pret") != 0)
        return gu_err_set(err, GU_ECONFLICT, NULL,
                          "Le bac à sable est en cours de préparation : "
                          "réessayez dans quelques secondes.",
                          "sandbox being prepared");
    snprintf(code, sizeof(code), "%s", old.insee);
    rc = store_begin(c, err);
    if (rc < 0)
        return rc;
    /* Sessions on the sandbox would go with its commune row: they go
       back to the real commune instead (agents stay logged in). */
    rc = store_session_move_commune(c, code, parent, NULL, err);
    if (rc == 0) {
        /* Every domain row of the sandbox goes with it (ON DELETE
           CASCADE, foreign keys on: store_sqlite.c). */
        struct store_val p[] = {STORE_T(code)};
        rc = store_exec(c, "DELETE FROM communes WHERE insee = ?", p, 1, err);
    }
    if (rc == 0)
        rc = store_commit(c, err);
    if (rc < 0) {
        store_rollback(c);
        return rc;
    }
    rc = create_rows(c, a, parent, code, old.created_at, gu_now(), err);
    if (rc < 0)
        return rc;
    return acad_sandbox_ensure(st, c, cfg, a, parent, agent_id, role, wait,
                               out, err);
}
