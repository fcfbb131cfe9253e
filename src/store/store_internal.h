/*
 * store_internal.h - what the store's files share and nobody else sees.
 *
 * store.c is the backend-neutral layer (pool, query dispatch,
 * transactions, migrations). A backend (store_sqlite.c today, a
 * store_pg.c later) fills one `struct store_ops`; the tenancy files
 * (store_tenancy.c, store_session.c, store_audit.c) only ever call the
 * public store_query() family, so they work unchanged on any backend.
 */
#ifndef GU_STORE_INTERNAL_H
#define GU_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "store/store.h"

/* A migration token ("$PK") and its text for one backend. */
struct store_token_map {
    const char *token;
    const char *text;
};

/*
 * The backend vtable. `state` is the backend's per-store object made by
 * open(); `bc` is one backend connection made by conn_open(). A backend
 * call reports failures as GU_E* codes with err->msg set; the neutral
 * layer counts GU_EDB results for store_error_count().
 */
struct store_ops {
    const char *name; /* "sqlite"; also the "-- @name" migration section */

    /* `target` is the URL without its scheme ("/path/x.db", ":memory:"). */
    int (*open)(const char *target, void **state, struct gu_err *err);
    void (*close)(void *state);

    int (*conn_open)(void *state, void **bc, struct gu_err *err);
    void (*conn_close)(void *bc);

    /*
     * One statement. Rows go to `a` when `out` is non-NULL; the number
     * of rows changed by a write goes to *changes when non-NULL.
     */
    int (*query)(void *bc, struct gu_arena *a, const char *sql,
                 const struct store_val *params, size_t n,
                 struct store_rows **out, int64_t *changes, struct gu_err *err);

    /* Several statements, no parameters, no results (migrations). */
    int (*exec_script)(void *bc, const char *sql, struct gu_err *err);

    /* Copy the whole database to `path` (which must not be in use). */
    int (*backup)(void *bc, const char *path, struct gu_err *err);

    /*
     * Write-ahead log: `automatic` false stops this connection from
     * checkpointing at commit time (store_checkpoint_background());
     * checkpoint() copies the log into the database without blocking
     * readers or writers. Both may be NULL (no log to manage).
     */
    void (*auto_checkpoint)(void *bc, bool automatic);
    int (*checkpoint)(void *bc, struct gu_err *err);

    const char *begin_sql; /* starts a write transaction */
    /*
     * One writer at a time anyway (SQLite): store_begin() first queues on
     * an in-process mutex, so threads of one process hand the write lock
     * over at once instead of sleeping in the backend's busy handler
     * (which polls with sleeps of 1 to 100 ms); other processes still
     * meet the busy timeout.
     */
    bool serial_writes;
    const struct store_token_map *tokens;
    size_t ntokens;
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

struct store_conn {
    struct store *s;
    void *bc;                /* backend connection */
    bool in_tx;              /* store_begin() done, not yet ended */
    bool holds_write;        /* holds store.write_mu (serial_writes) */
    int savepoints;          /* nesting depth of store_tx_enter() */
    struct store_conn *next; /* idle list link */
    const void *thread;      /* the thread that released it last */
};

/*
 * Long-lived and shared by all threads; the pool fields are under `mu`.
 * Connections are opened lazily up to `max` and kept until store_close()
 * (keeping them is what keeps a :memory: database alive).
 */
/* One piece of state attached with store_ext(). */
struct store_ext {
    const char *key;
    void *p;
    store_ext_free_fn free_fn;
    struct store_ext *next;
};

struct store {
    const struct store_ops *ops;
    void *state;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct store_conn *idle; /* connections ready for store_acquire() */
    size_t nopen, nidle, max;
    atomic_uint_least64_t errors;
    atomic_bool bg_checkpoint; /* checkpoints by a job, not by commits */
    pthread_mutex_t ext_mu;    /* guards exts */
    pthread_mutex_t write_mu;  /* in-process writer queue (serial_writes) */
    struct store_ext *exts;    /* state attached by domains (store_ext) */
};

/*
 * Run a group of writes atomically whether or not the caller already
 * holds a transaction: outside one, store_tx_enter() begins a transaction;
 * inside one, it sets a savepoint, so a failure undoes only this group and
 * the caller's transaction stays usable. store_tx_leave() commits or
 * releases when rc is 0, rolls back otherwise, and returns the final
 * code. Always pair them.
 */
int store_tx_enter(struct store_conn *c, struct gu_err *err);
int store_tx_leave(struct store_conn *c, int rc, struct gu_err *err);

/*
 * Run a query whose first row's first column is an integer (a count, a
 * RETURNING id...). *found says whether there was a row; *out gets the
 * value (0 when none). Uses a private scratch arena.
 */
int store_query_int(struct store_conn *c, const char *sql,
                    const struct store_val *params, size_t n, bool *found,
                    int64_t *out, struct gu_err *err);

/* Number of code points of valid UTF-8, or -1 when not valid UTF-8. */
long store_utf8_len(const char *s);

/*
 * Check a text field: non-NULL, valid UTF-8, `min`..`max` code points.
 * On failure sets err (field + French `what` message) and returns
 * GU_EINVAL.
 */
int store_check_text(const char *s, long min, long max, const char *field,
                     const char *user, struct gu_err *err);

#endif
