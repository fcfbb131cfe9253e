/*
 * store.c - the backend-neutral half of the storage module.
 *
 * Parses the store URL and picks a backend, runs the connection pool,
 * dispatches queries and transactions to the backend's `struct store_ops`,
 * counts backend errors, and applies migrations (token rewrite, backend
 * sections, one transaction per version). Nothing here knows SQLite.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store_internal.h"

/* How long store_acquire() waits for a free connection before EBUSY. */
#define POOL_WAIT_S 30

/* Its address names the calling thread (store_acquire's preference). */
static _Thread_local char thread_token;

/* ------------------------------------------------------------------ */
/* Values and rows                                                     */
/* ------------------------------------------------------------------ */

struct store_val
STORE_T(const char *s) {
    if (!s)
        return STORE_NUL;
    return STORE_TN(s, strlen(s));
}

const struct store_val *
store_cell(const struct store_rows *r, size_t row, size_t col)
{
    if (!r || row >= r->nrows || col >= r->ncols)
        return NULL;
    return &r->vals[row * r->ncols + col];
}

int64_t
store_int(const struct store_rows *r, size_t row, size_t col)
{
    const struct store_val *v = store_cell(r, row, col);

    if (!v)
        return 0;
    if (v->type == STORE_INT)
        return v->i;
    if (v->type == STORE_REAL)
        return (int64_t)v->d;
    return 0;
}

double
store_real(const struct store_rows *r, size_t row, size_t col)
{
    const struct store_val *v = store_cell(r, row, col);

    if (!v)
        return 0;
    if (v->type == STORE_REAL)
        return v->d;
    if (v->type == STORE_INT)
        return (double)v->i;
    return 0;
}

const char *
store_text(const struct store_rows *r, size_t row, size_t col)
{
    const struct store_val *v = store_cell(r, row, col);

    if (!v || (v->type != STORE_TEXT && v->type != STORE_BLOB))
        return NULL;
    return v->s;
}

/* ------------------------------------------------------------------ */
/* Open, close, pool                                                   */
/* ------------------------------------------------------------------ */

static int
pool_max(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        n = 1;
    if (n > 64)
        n = 64;
    return (int)(2 * n + 2);
}

/* Open one backend connection and wrap it (pool lock NOT held). */
static int
conn_new(struct store *s, struct store_conn **out, struct gu_err *err)
{
    struct store_conn *c = gu_calloc(1, sizeof(*c));
    int rc;

    *out = NULL;
    if (!c)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    c->s = s;
    rc = s->ops->conn_open(s->state, &c->bc, err);
    if (rc < 0) {
        gu_free(c);
        if (rc == GU_EDB)
            atomic_fetch_add(&s->errors, 1);
        return rc;
    }
    if (atomic_load(&s->bg_checkpoint) && s->ops->auto_checkpoint)
        s->ops->auto_checkpoint(c->bc, false);
    *out = c;
    return 0;
}

static void
conn_free(struct store_conn *c)
{
    if (!c)
        return;
    c->s->ops->conn_close(c->bc);
    gu_free(c);
}

int
store_open(const char *url, struct store **out, struct gu_err *err)
{
    const struct store_ops *ops = NULL;
    const char *target = NULL;
    struct store *s = NULL;
    struct store_conn *first = NULL;
    bool locks = false;
    int rc;

    *out = NULL;
    if (!url)
        return gu_err_set(err, GU_EINVAL, "store.url",
                          "L'adresse de la base de données est vide.",
                          "store: no url");
    if (strncmp(url, "sqlite:", 7) == 0 && url[7]) {
        ops = &store_sqlite_ops;
        target = url + 7;
    } else if (strncmp(url, "postgres://", 11) == 0 ||
               strncmp(url, "postgresql://", 13) == 0) {
        /* A libpq URI is a conninfo as it stands. */
        ops = &store_pg_ops;
        target = url;
    } else if (strncmp(url, "postgres:", 9) == 0 && url[9]) {
        ops = &store_pg_ops;
        target = url + 9;
    } else {
        return gu_err_set(err, GU_EINVAL, "store.url",
                          "L'adresse de la base doit commencer par "
                          "« sqlite: » (ex. sqlite:/var/lib/guichet/"
                          "guichet.db) ou « postgres: » (ex. postgres:"
                          "dbname=guichet host=/run/postgresql).",
                          "store: unsupported url");
    }

    s = gu_calloc(1, sizeof(*s));
    if (!s) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
        goto out;
    }
    s->ops = ops;
    s->max = (size_t)pool_max();
    atomic_init(&s->errors, 0);
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL, "store: mutex init");
        goto out;
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL, "store: cond init");
        goto out;
    }
    if (pthread_mutex_init(&s->ext_mu, NULL) != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL, "store: mutex init");
        goto out;
    }
    if (pthread_mutex_init(&s->write_mu, NULL) != 0) {
        pthread_mutex_destroy(&s->ext_mu);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL, "store: mutex init");
        goto out;
    }
    locks = true;
    rc = ops->open(target, &s->state, err);
    if (rc < 0)
        goto out;
    /*
     * Open the first connection now: a wrong path fails at start rather
     * than on the first request, and this connection, kept in the pool
     * until store_close(), holds a :memory: database alive.
     */
    rc = conn_new(s, &first, err);
    if (rc < 0)
        goto out;
    s->nopen = 1;
    s->idle = first;
    s->nidle = 1;
    *out = s;
    s = NULL;
out:
    if (s) {
        if (s->state)
            ops->close(s->state);
        if (locks) {
            pthread_mutex_destroy(&s->write_mu);
            pthread_mutex_destroy(&s->ext_mu);
            pthread_cond_destroy(&s->cv);
            pthread_mutex_destroy(&s->mu);
        }
        gu_free(s);
    }
    return rc;
}

void
store_close(struct store *s)
{
    if (!s)
        return;
    /* Attached state goes first: it may hold what it read from us, and
     * may still write (the assistant's queued turns) with a connection
     * it releases before returning. */
    while (s->exts) {
        struct store_ext *x = s->exts;
        s->exts = x->next;
        if (x->free_fn)
            x->free_fn(x->p);
        gu_free(x);
    }
    pthread_mutex_lock(&s->mu);
    if (s->nidle != s->nopen)
        gu_log_error("store.close", "busy=%zu",
                     s->nopen - s->nidle); /* a caller forgot to release */
    /* Only idle connections can be closed safely; busy ones are leaked. */
    while (s->idle) {
        struct store_conn *c = s->idle;
        s->idle = c->next;
        conn_free(c);
    }
    pthread_mutex_unlock(&s->mu);
    s->ops->close(s->state);
    pthread_mutex_destroy(&s->write_mu);
    pthread_mutex_destroy(&s->ext_mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    gu_free(s);
}

void
store_checkpoint_background(struct store *s)
{
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->bg_checkpoint, true);
    if (s->ops->auto_checkpoint) {
        for (struct store_conn *c = s->idle; c; c = c->next)
            s->ops->auto_checkpoint(c->bc, false);
    }
    pthread_mutex_unlock(&s->mu);
}

int
store_checkpoint(struct store *s, struct gu_err *err)
{
    struct store_conn *c = NULL;
    int rc;

    if (!s->ops->checkpoint)
        return 0;
    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
    rc = s->ops->checkpoint(c->bc, err);
    if (rc == GU_EDB)
        atomic_fetch_add(&s->errors, 1);
    store_release(c);
    return rc;
}

struct store *
store_conn_store(struct store_conn *c)
{
    return c ? c->s : NULL;
}

void *
store_ext(struct store *s, const char *key, store_ext_make_fn make,
          store_ext_free_fn free_fn)
{
    struct store_ext *x;
    void *p = NULL;

    pthread_mutex_lock(&s->ext_mu);
    for (x = s->exts; x; x = x->next) {
        if (strcmp(x->key, key) == 0) {
            p = x->p;
            goto out;
        }
    }
    x = gu_calloc(1, sizeof(*x));
    if (!x)
        goto out;
    x->p = make(s);
    if (!x->p) {
        gu_free(x);
        goto out;
    }
    x->key = key;
    x->free_fn = free_fn;
    x->next = s->exts;
    s->exts = x;
    p = x->p;
out:
    pthread_mutex_unlock(&s->ext_mu);
    return p;
}

const char *
store_backend(const struct store *s)
{
    return s ? s->ops->name : "";
}

uint64_t
store_error_count(const struct store *s)
{
    /* atomic_load takes a non-const pointer in C11. */
    return s ? atomic_load(&((struct store *)s)->errors) : 0;
}

int
store_acquire(struct store *s, struct store_conn **out, struct gu_err *err)
{
    struct store_conn *c = NULL;
    struct timespec deadline;
    int rc = 0;

    *out = NULL;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += POOL_WAIT_S;
    pthread_mutex_lock(&s->mu);
    while (!s->idle && s->nopen >= s->max) {
        int w = pthread_cond_timedwait(&s->cv, &s->mu, &deadline);
        if (w == ETIMEDOUT && !s->idle && s->nopen >= s->max) {
            pthread_mutex_unlock(&s->mu);
            return gu_err_set(err, GU_EBUSY, NULL, NULL,
                              "store: no free connection after %ds",
                              POOL_WAIT_S);
        }
    }
    if (s->idle) {
        /* The one this thread used last, if idle, else the last released.
         * SQLite keeps a connection's page cache and statements' memory in
         * the heap of the thread that allocated them; glibc's free or
         * realloc of another thread's memory takes that thread's heap
         * lock, so a connection passed from thread to thread made the
         * threads wait for each other in malloc. */
        struct store_conn **link = &s->idle;
        for (struct store_conn **l = &s->idle; *l; l = &(*l)->next) {
            if ((*l)->thread == &thread_token) {
                link = l;
                break;
            }
        }
        c = *link;
        *link = c->next;
        s->nidle--;
        c->next = NULL;
        pthread_mutex_unlock(&s->mu);
        *out = c;
        return 0;
    }
    /* Reserve a slot, then open outside the lock (opening does I/O). */
    s->nopen++;
    pthread_mutex_unlock(&s->mu);
    rc = conn_new(s, &c, err);
    pthread_mutex_lock(&s->mu);
    if (rc < 0) {
        s->nopen--;
        pthread_cond_signal(&s->cv);
    } else {
        *out = c;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void
store_release(struct store_conn *c)
{
    struct store *s;

    if (!c)
        return;
    s = c->s;
    if (c->in_tx) {
        gu_log_warn("store.release", "rollback=open_transaction");
        store_rollback(c);
    }
    c->savepoints = 0;
    c->thread = &thread_token;
    pthread_mutex_lock(&s->mu);
    c->next = s->idle;
    s->idle = c;
    s->nidle++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ */
/* Queries and transactions                                            */
/* ------------------------------------------------------------------ */

static int
dispatch(struct store_conn *c, struct gu_arena *a, const char *sql,
         const struct store_val *params, size_t n, struct store_rows **out,
         int64_t *changes, struct gu_err *err)
{
    int rc;

    if (out)
        *out = NULL;
    if (changes)
        *changes = 0;
    /* Caller bugs, but checked at run time: asserts vanish in release. */
    if (!c || !sql || (out && !a))
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "store: query without %s",
                          !c     ? "connection"
                          : !sql ? "SQL"
                                 : "arena");
    if (n && !params)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "store: %zu params but none given", n);
    rc = c->s->ops->query(c->bc, a, sql, params, n, out, changes, err);
    if (rc == GU_EDB)
        atomic_fetch_add(&c->s->errors, 1);
    return rc;
}

int
store_query(struct store_conn *c, struct gu_arena *a, const char *sql,
            const struct store_val *params, size_t n, struct store_rows **out,
            struct gu_err *err)
{
    return dispatch(c, a, sql, params, n, out, NULL, err);
}

int
store_exec(struct store_conn *c, const char *sql,
           const struct store_val *params, size_t n, struct gu_err *err)
{
    return dispatch(c, NULL, sql, params, n, NULL, NULL, err);
}

int
store_exec_changes(struct store_conn *c, const char *sql,
                   const struct store_val *params, size_t n, int64_t *changes,
                   struct gu_err *err)
{
    return dispatch(c, NULL, sql, params, n, NULL, changes, err);
}

bool
store_in_tx(const struct store_conn *c)
{
    return c && c->in_tx;
}

/* Seconds a writer waits for its turn (as SQLite's busy timeout). */
#define WRITE_WAIT_S 5

/* Let the next in-process writer in (serial_writes). */
static void
write_turn_end(struct store_conn *c)
{
    if (c->holds_write) {
        c->holds_write = false;
        pthread_mutex_unlock(&c->s->write_mu);
    }
}

int
store_begin(struct store_conn *c, struct gu_err *err)
{
    int rc;

    if (c->in_tx)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "store: nested store_begin");
    if (c->s->ops->serial_writes) {
        /* As long as the backend's own busy timeout would have waited. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += WRITE_WAIT_S;
        if (pthread_mutex_timedlock(&c->s->write_mu, &until) != 0)
            return gu_err_set(err, GU_EBUSY, NULL,
                              "Le service est très chargé : réessayez dans "
                              "un instant.",
                              "store: no write turn after %d s", WRITE_WAIT_S);
        c->holds_write = true;
    }
    rc = store_exec(c, c->s->ops->begin_sql, NULL, 0, err);
    if (rc == 0)
        c->in_tx = true;
    else
        write_turn_end(c);
    return rc;
}

int
store_commit(struct store_conn *c, struct gu_err *err)
{
    int rc;

    if (!c->in_tx)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "store: commit without begin");
    rc = store_exec(c, "COMMIT", NULL, 0, err);
    if (rc < 0) {
        /* A failed commit must not leave a half-open transaction. */
        store_rollback(c);
        return rc;
    }
    c->in_tx = false;
    c->savepoints = 0;
    write_turn_end(c);
    return 0;
}

void
store_rollback(struct store_conn *c)
{
    struct gu_err e;

    if (!c || !c->in_tx)
        return;
    /*
     * Errors are ignored: some failures (a full disk, RAISE(ROLLBACK))
     * already ended the transaction, and then ROLLBACK has nothing to do.
     */
    gu_err_clear(&e);
    (void)c->s->ops->query(c->bc, NULL, "ROLLBACK", NULL, 0, NULL, NULL, &e);
    c->in_tx = false;
    c->savepoints = 0;
    write_turn_end(c);
}

int
store_tx_enter(struct store_conn *c, struct gu_err *err)
{
    int rc;

    if (!c->in_tx) {
        rc = store_begin(c, err);
        if (rc == 0)
            c->savepoints = 0;
        return rc;
    }
    /* One fixed name is enough: nested savepoints shadow each other. */
    rc = store_exec(c, "SAVEPOINT gu_sp", NULL, 0, err);
    if (rc == 0)
        c->savepoints++;
    return rc;
}

int
store_tx_leave(struct store_conn *c, int rc, struct gu_err *err)
{
    struct gu_err e;

    if (c->savepoints == 0) {
        if (rc == 0)
            return store_commit(c, err);
        store_rollback(c);
        return rc;
    }
    c->savepoints--;
    if (rc == 0)
        return store_exec(c, "RELEASE SAVEPOINT gu_sp", NULL, 0, err);
    gu_err_clear(&e);
    (void)store_exec(c, "ROLLBACK TO SAVEPOINT gu_sp", NULL, 0, &e);
    (void)store_exec(c, "RELEASE SAVEPOINT gu_sp", NULL, 0, &e);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Migrations                                                          */
/* ------------------------------------------------------------------ */

static const char *
section_name(const char *line, const char *end, size_t *len)
{
    const char *p = line;

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (end - p < 4 || memcmp(p, "-- @", 4) != 0)
        return NULL;
    p += 4;
    *len = 0;
    while (p + *len < end && p[*len] != ' ' && p[*len] != '\t' &&
           p[*len] != '\r' && p[*len] != '\n')
        (*len)++;
    return p;
}

/*
 * Turn a migration's portable SQL into this backend's SQL: lines between
 * "-- @<backend>" and the next "-- @..." marker are kept only for that
 * backend ("-- @all" returns to common SQL), and $TOKENs are replaced.
 * An unknown $TOKEN is a bug in the migration, reported as EINTERNAL.
 */
static int
rewrite(const struct store_ops *ops, const char *sql, struct gu_buf *b,
        struct gu_err *err)
{
    const char *p = sql;
    bool keep = true;

    while (*p) {
        const char *eol = strchr(p, '\n');
        const char *end = eol ? eol + 1 : p + strlen(p);
        const char *name;
        size_t nlen = 0;

        name = section_name(p, end, &nlen);
        if (name) {
            if (nlen == 3 && memcmp(name, "all", 3) == 0)
                keep = true;
            else
                keep = strlen(ops->name) == nlen &&
                       memcmp(name, ops->name, nlen) == 0;
            p = end;
            continue;
        }
        while (keep && p < end) {
            const char *q = p;
            size_t tlen = 1;
            size_t i;

            if (*q != '$') {
                while (q < end && *q != '$')
                    q++;
                gu_buf_append(b, p, (size_t)(q - p));
                p = q;
                continue;
            }
            while (q + tlen < end &&
                   ((q[tlen] >= 'A' && q[tlen] <= 'Z') || q[tlen] == '_'))
                tlen++;
            for (i = 0; i < ops->ntokens; i++) {
                if (strlen(ops->tokens[i].token) == tlen &&
                    memcmp(ops->tokens[i].token, q, tlen) == 0)
                    break;
            }
            if (tlen == 1) {
                /* "$$" or "$1" (PostgreSQL bodies): not a token. */
                gu_buf_append(b, q, 1);
                p = q + 1;
                continue;
            }
            if (i == ops->ntokens)
                return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                                  "store: unknown migration token %.*s",
                                  (int)tlen, q);
            gu_buf_puts(b, ops->tokens[i].text);
            p = q + tlen;
        }
        p = end;
    }
    if (b->oom)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    return 0;
}

/* Versions must be >= 1 and increase per module across all lists. */
static int
check_order(const struct store_migration *const *lists, const size_t *counts,
            size_t n, struct gu_err *err)
{
    for (size_t l = 0; l < n; l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            const struct store_migration *m = &lists[l][i];
            if (!m->module || !m->sql || m->version < 1)
                return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                                  "store: bad migration entry");
            /* The previous entry of the same module, if any. */
            for (size_t l2 = 0; l2 <= l; l2++) {
                size_t lim = l2 == l ? i : counts[l2];
                for (size_t j = 0; j < lim; j++) {
                    const struct store_migration *o = &lists[l2][j];
                    if (strcmp(o->module, m->module) == 0 &&
                        o->version >= m->version)
                        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                                          "store: migrations of %s out of "
                                          "order at version %d",
                                          m->module, m->version);
                }
            }
        }
    }
    return 0;
}

static int
migration_applied(struct store_conn *c, struct gu_arena *a,
                  const struct store_migration *m, bool *yes,
                  struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(m->module), STORE_I(m->version)};
    struct store_rows *r;
    int rc;

    rc = store_query(c, a,
                     "SELECT 1 FROM schema_migrations"
                     " WHERE module = ? AND version = ?",
                     p, 2, &r, err);
    if (rc == 0)
        *yes = r->nrows > 0;
    return rc;
}

static int
apply_one(struct store_conn *c, const struct store_migration *m, bool *ran,
          struct gu_err *err)
{
    struct gu_arena *a = NULL;
    struct gu_buf b;
    bool done = false;
    int rc;

    *ran = false;
    gu_buf_init(&b);
    a = gu_arena_new(1024);
    if (!a) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
        goto out;
    }
    rc = migration_applied(c, a, m, &done, err);
    if (rc < 0 || done)
        goto out;
    rc = rewrite(c->s->ops, m->sql, &b, err);
    if (rc < 0)
        goto out;
    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    /* Checked again under the write lock: another node may have won. */
    rc = migration_applied(c, a, m, &done, err);
    if (rc == 0 && !done)
        rc = c->s->ops->exec_script(c->bc, b.p ? b.p : "", err);
    if (rc == 0 && !done) {
        struct store_val p[3] = {STORE_T(m->module), STORE_I(m->version),
                                 STORE_I(gu_now())};
        rc = store_exec(c,
                        "INSERT INTO schema_migrations"
                        " (module, version, applied_at) VALUES (?, ?, ?)",
                        p, 3, err);
    }
    if (rc < 0) {
        store_rollback(c);
        goto out;
    }
    rc = store_commit(c, err);
    if (rc == 0 && !done) {
        *ran = true;
        gu_log_info("store.migrate", "module=%s version=%d", m->module,
                    m->version);
    }
out:
    if (rc == GU_EDB)
        atomic_fetch_add(&c->s->errors, 1);
    if (rc < 0)
        gu_log_error("store.migrate", "module=%s version=%d status=%s",
                     m->module, m->version, gu_status_name(rc));
    gu_buf_fini(&b);
    gu_arena_free(a);
    return rc;
}

int
store_migrate(struct store *s, const struct store_migration *const *lists,
              const size_t *counts, size_t n, int *applied, struct gu_err *err)
{
    struct store_conn *c = NULL;
    int rc, count = 0;

    if (applied)
        *applied = 0;
    rc = check_order(lists, counts, n, err);
    if (rc < 0)
        return rc;
    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
    rc = store_exec(c,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " module TEXT NOT NULL,"
                    " version INTEGER NOT NULL,"
                    " applied_at BIGINT NOT NULL,"
                    " PRIMARY KEY (module, version))",
                    NULL, 0, err);
    for (size_t l = 0; rc == 0 && l < n; l++) {
        for (size_t i = 0; rc == 0 && i < counts[l]; i++) {
            bool ran = false;
            rc = apply_one(c, &lists[l][i], &ran, err);
            count += ran;
        }
    }
    store_release(c);
    if (applied)
        *applied = count;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Backup                                                              */
/* ------------------------------------------------------------------ */

int
store_backup(struct store *s, const char *dest_path, struct gu_err *err)
{
    struct store_conn *c = NULL;
    int rc;

    if (!dest_path || !*dest_path)
        return gu_err_set(err, GU_EINVAL, "path",
                          "Chemin de sauvegarde manquant.",
                          "store: empty backup path");
    if (!s->ops->backup)
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Sur PostgreSQL, sauvegardez avec les outils de "
                          "PostgreSQL (pg_dump, ou pg_basebackup et "
                          "l'archivage des journaux).",
                          "store: backend %s has no backup", s->ops->name);
    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
    rc = s->ops->backup(c->bc, dest_path, err);
    if (rc == GU_EDB)
        atomic_fetch_add(&s->errors, 1);
    store_release(c);
    return rc;
}

int
store_query_int(struct store_conn *c, const char *sql,
                const struct store_val *params, size_t n, bool *found,
                int64_t *out, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(1024);
    struct store_rows *r = NULL;
    int rc;

    if (found)
        *found = false;
    if (out)
        *out = 0;
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    rc = store_query(c, a, sql, params, n, &r, err);
    if (rc == 0 && r->nrows > 0) {
        if (found)
            *found = true;
        if (out)
            *out = store_int(r, 0, 0);
    }
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Text checks shared by the tenancy files                             */
/* ------------------------------------------------------------------ */

long
store_utf8_len(const char *s)
{
    size_t n = strlen(s);
    long count = 0;

    if (!gu_utf8_valid(s, n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    }
    return count;
}

int
store_check_text(const char *s, long min, long max, const char *field,
                 const char *user, struct gu_err *err)
{
    long n;

    if (!s)
        s = "";
    n = store_utf8_len(s);
    if (n < min || n > max)
        return gu_err_set(err, GU_EINVAL, field, user,
                          "store: %s has %ld characters (%ld..%ld)", field, n,
                          min, max);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Catalogue                                                           */
/* ------------------------------------------------------------------ */

static int
text_column(struct store_rows *r, struct gu_arena *a, const char ***names,
            size_t *count, struct gu_err *err)
{
    const char **v = gu_arena_alloc(a, (r->nrows + 1) * sizeof(*v));

    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    for (size_t i = 0; i < r->nrows; i++)
        v[i] = store_text(r, i, 0) ? store_text(r, i, 0) : "";
    v[r->nrows] = NULL;
    *names = v;
    *count = r->nrows;
    return 0;
}

int
store_tables(struct store_conn *c, struct gu_arena *a, const char ***names,
             size_t *count, struct gu_err *err)
{
    bool pg = strcmp(c->s->ops->name, "postgres") == 0;
    struct store_rows *r = NULL;
    int rc;

    *names = NULL;
    *count = 0;
    rc = store_query(c, a,
                     pg ? "SELECT table_name FROM information_schema.tables"
                          " WHERE table_schema = current_schema()"
                          " AND table_type = 'BASE TABLE' ORDER BY 1"
                        : "SELECT name FROM sqlite_master WHERE type = 'table'"
                          " AND substr(name, 1, 7) <> 'sqlite_' ORDER BY 1",
                     NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    return text_column(r, a, names, count, err);
}

int
store_columns(struct store_conn *c, struct gu_arena *a, const char *table,
              const char ***names, size_t *count, struct gu_err *err)
{
    bool pg = strcmp(c->s->ops->name, "postgres") == 0;
    struct store_val p[1] = {STORE_T(table)};
    struct store_rows *r = NULL;
    int rc;

    *names = NULL;
    *count = 0;
    rc = store_query(c, a,
                     pg ? "SELECT column_name FROM information_schema.columns"
                          " WHERE table_schema = current_schema()"
                          " AND table_name = ? ORDER BY ordinal_position"
                        : "SELECT name FROM pragma_table_info(?) ORDER BY cid",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    return text_column(r, a, names, count, err);
}
