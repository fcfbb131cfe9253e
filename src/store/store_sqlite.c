/*
 * store_sqlite.c - the SQLite backend of the store (the default).
 *
 * Each pool connection is one sqlite3 handle opened with NOMUTEX (a
 * connection belongs to one thread at a time), WAL for files, foreign
 * keys on, a 5 s busy timeout and synchronous=NORMAL (durable at
 * checkpoints, never corrupt: the usual trade-off for WAL). Prepared
 * statements are cached per connection in a small open-addressing table
 * keyed by the SQL text. Results are copied into the caller's arena, and
 * every statement is reset right after use so no read transaction
 * lingers between calls.
 *
 * "sqlite::memory:" uses the memdb VFS with a name unique to the store
 * ("file:/gu_mem_<pid>_<n>?vfs=memdb"): all connections of the store share
 * the database, two stores never do. memdb was preferred over a
 * shared-cache URI because shared cache reports table locks as
 * SQLITE_LOCKED, which busy_timeout does not retry; memdb uses ordinary
 * file-style locks, so concurrent writers wait instead of failing.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store_internal.h"

#define BUSY_TIMEOUT_MS 5000
#define CACHE_SLOTS 256      /* power of two */
#define CACHE_MAX 192        /* flush the cache beyond this many */
#define BACKUP_PAGES 256     /* pages copied per backup step */
#define BACKUP_WAIT_MS 30000 /* give up a backup blocked this long */

struct sq_state {
    char *path; /* file name, or the memdb URI */
    bool memory;
};

struct sq_ent {
    char *sql; /* owned key; NULL = empty slot */
    uint64_t hash;
    sqlite3_stmt *st;
};

struct sq_conn {
    sqlite3 *db;
    struct sq_ent *ents; /* CACHE_SLOTS entries */
    size_t used;
};

static atomic_uint memory_seq;

/* Map a SQLite result to a GU code; the SQLite message goes to err->msg. */
static int
fail(sqlite3 *db, int rc, const char *what, const char *msg, struct gu_err *err)
{
    int code = GU_EDB;

    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        code = GU_ECONFLICT;
    else if (rc == SQLITE_NOMEM)
        code = GU_ENOMEM;
    if (!msg)
        msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return gu_err_set(err, code, NULL, NULL, "sqlite %s: %s (%d)", what, msg,
                      rc);
}

static void
set_user(struct gu_err *err, const char *user)
{
    if (err)
        snprintf(err->user, sizeof(err->user), "%s", user);
}

/* ------------------------------------------------------------------ */
/* Store and connections                                               */
/* ------------------------------------------------------------------ */

/*
 * Before SQLite initialises (the first open does): no memory statistics.
 * With them on (the library's default) every sqlite3_malloc and
 * sqlite3_free takes one process-wide mutex; under the chat's load the
 * request threads and the assistant's writer met there on a quarter of
 * the server's futex calls. Nothing here reads sqlite3_memory_used() or
 * sets a soft heap limit, which are all the statistics serve. A call
 * after SQLite started (another library opened a database first) is
 * refused by SQLite and changes nothing.
 */
static pthread_once_t sq_once = PTHREAD_ONCE_INIT;

static void
sq_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int
sq_open(const char *target, void **state, struct gu_err *err)
{
    struct sq_state *st;
    char uri[96];

    *state = NULL;
    pthread_once(&sq_once, sq_configure);
    st = gu_calloc(1, sizeof(*st));
    if (!st)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    if (strcmp(target, ":memory:") == 0) {
        snprintf(uri, sizeof(uri), "file:/gu_mem_%ld_%u?vfs=memdb",
                 (long)getpid(), atomic_fetch_add(&memory_seq, 1));
        st->memory = true;
        st->path = gu_strdup(uri);
    } else {
        st->path = gu_strdup(target);
    }
    if (!st->path) {
        gu_free(st);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    }
    *state = st;
    return 0;
}

static void
sq_close(void *state)
{
    struct sq_state *st = state;

    if (!st)
        return;
    gu_free(st->path);
    gu_free(st);
}

static void
cache_flush(struct sq_conn *c)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (c->ents[i].sql) {
            sqlite3_finalize(c->ents[i].st);
            gu_free(c->ents[i].sql);
            c->ents[i].sql = NULL;
            c->ents[i].st = NULL;
        }
    }
    c->used = 0;
}

static void
sq_conn_close(void *bc)
{
    struct sq_conn *c = bc;

    if (!c)
        return;
    if (c->ents) {
        cache_flush(c);
        gu_free(c->ents);
    }
    sqlite3_close_v2(c->db);
    gu_free(c);
}

static int
sq_conn_open(void *state, void **bc, struct gu_err *err)
{
    struct sq_state *st = state;
    struct sq_conn *c = NULL;
    char *msg = NULL;
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc;

    *bc = NULL;
    c = gu_calloc(1, sizeof(*c));
    if (!c)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    c->ents = gu_calloc(CACHE_SLOTS, sizeof(*c->ents));
    if (!c->ents) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
        goto out;
    }
    if (st->memory)
        flags |= SQLITE_OPEN_URI;
    rc = sqlite3_open_v2(st->path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        rc = fail(c->db, rc, "open", NULL, err);
        set_user(err, "Impossible d'ouvrir la base de données.");
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    rc = sqlite3_exec(c->db,
                      st->memory ? "PRAGMA foreign_keys = ON;"
                                   "PRAGMA synchronous = NORMAL;"
                                 : "PRAGMA journal_mode = WAL;"
                                   "PRAGMA foreign_keys = ON;"
                                   "PRAGMA synchronous = NORMAL;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        rc = fail(c->db, rc, "setup", msg, err);
        set_user(err, "Impossible d'ouvrir la base de données.");
        goto out;
    }
    *bc = c;
    c = NULL;
    rc = 0;
out:
    sqlite3_free(msg);
    sq_conn_close(c);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Statement cache                                                     */
/* ------------------------------------------------------------------ */

static uint64_t
fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Only blanks and semicolons may follow the one statement. */
static bool
tail_empty(const char *t)
{
    for (; t && *t; t++) {
        if (*t != ' ' && *t != '\t' && *t != '\n' && *t != '\r' && *t != ';')
            return false;
    }
    return true;
}

/* The cached statement for `sql`, preparing and caching it on a miss. */
static int
stmt_get(struct sq_conn *c, const char *sql, sqlite3_stmt **out,
         struct gu_err *err)
{
    uint64_t h = fnv1a(sql);
    size_t i = (size_t)h & (CACHE_SLOTS - 1);
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    char *key;
    int rc;

    *out = NULL;
    while (c->ents[i].sql) {
        if (c->ents[i].hash == h && strcmp(c->ents[i].sql, sql) == 0) {
            *out = c->ents[i].st;
            return 0;
        }
        i = (i + 1) & (CACHE_SLOTS - 1);
    }
    rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                            &tail);
    if (rc != SQLITE_OK)
        return fail(c->db, rc, "prepare", NULL, err);
    if (!st || !tail_empty(tail)) {
        sqlite3_finalize(st);
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "store: expected exactly one statement: %.80s", sql);
    }
    key = gu_strdup(sql);
    if (!key) {
        sqlite3_finalize(st);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    }
    /*
     * A bounded cache: when full, start again. Programs use a fixed set of
     * statements, so this only happens with generated SQL.
     */
    if (c->used >= CACHE_MAX) {
        cache_flush(c);
        i = (size_t)h & (CACHE_SLOTS - 1);
    }
    while (c->ents[i].sql)
        i = (i + 1) & (CACHE_SLOTS - 1);
    c->ents[i].sql = key;
    c->ents[i].hash = h;
    c->ents[i].st = st;
    c->used++;
    *out = st;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

static int
bind_params(sqlite3_stmt *st, const struct store_val *params, size_t n,
            struct gu_err *err)
{
    int want = sqlite3_bind_parameter_count(st);
    int rc = SQLITE_OK;

    if ((size_t)want != n)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "store: statement wants %d parameters, got %zu", want,
                          n);
    for (size_t k = 0; k < n && rc == SQLITE_OK; k++) {
        const struct store_val *v = &params[k];
        int i = (int)k + 1;

        if ((v->type == STORE_TEXT || v->type == STORE_BLOB) &&
            v->n > (size_t)0x7fffffff)
            return gu_err_set(err, GU_ETOOBIG, NULL, NULL,
                              "store: parameter %d too long", i);
        /* SQLITE_STATIC: params outlive the statement's use (reset below). */
        switch (v->type) {
        case STORE_NULL:
            rc = sqlite3_bind_null(st, i);
            break;
        case STORE_INT:
            rc = sqlite3_bind_int64(st, i, v->i);
            break;
        case STORE_REAL:
            rc = sqlite3_bind_double(st, i, v->d);
            break;
        case STORE_TEXT:
            /* A NULL pointer would bind SQL NULL; empty text is wanted. */
            rc = sqlite3_bind_text(st, i, v->s ? v->s : "", (int)v->n,
                                   SQLITE_STATIC);
            break;
        case STORE_BLOB:
            if (v->n == 0)
                rc = sqlite3_bind_zeroblob(st, i, 0);
            else
                rc = sqlite3_bind_blob(st, i, v->s, (int)v->n, SQLITE_STATIC);
            break;
        default:
            return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                              "store: bad type of parameter %d", i);
        }
    }
    if (rc != SQLITE_OK)
        return fail(sqlite3_db_handle(st), rc, "bind", NULL, err);
    return 0;
}

/* Copy the current row into r (growing r->vals by doubling). */
static int
copy_row(sqlite3_stmt *st, struct gu_arena *a, struct store_rows *r,
         size_t *cap, struct gu_err *err)
{
    struct store_val *row;

    if (r->nrows == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct store_val *nv = gu_arena_alloc(a, ncap * r->ncols * sizeof(*nv));
        if (!nv)
            goto oom;
        if (r->nrows)
            memcpy(nv, r->vals, r->nrows * r->ncols * sizeof(*nv));
        r->vals = nv;
        *cap = ncap;
    }
    row = &r->vals[r->nrows * r->ncols];
    for (size_t k = 0; k < r->ncols; k++) {
        struct store_val *v = &row[k];
        int i = (int)k;
        const void *src;
        char *p;

        memset(v, 0, sizeof(*v));
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            v->type = STORE_INT;
            v->i = sqlite3_column_int64(st, i);
            break;
        case SQLITE_FLOAT:
            v->type = STORE_REAL;
            v->d = sqlite3_column_double(st, i);
            break;
        case SQLITE_TEXT:
        case SQLITE_BLOB:
            v->type = sqlite3_column_type(st, i) == SQLITE_TEXT ? STORE_TEXT
                                                                : STORE_BLOB;
            src = v->type == STORE_TEXT
                      ? (const void *)sqlite3_column_text(st, i)
                      : sqlite3_column_blob(st, i);
            v->n = (size_t)sqlite3_column_bytes(st, i);
            if (!src && v->n)
                return fail(sqlite3_db_handle(st), SQLITE_NOMEM, "column", NULL,
                            err);
            /* Blobs get a NUL too, so a cell is always safe to print. */
            p = gu_arena_alloc(a, v->n + 1);
            if (!p)
                goto oom;
            if (v->n)
                memcpy(p, src, v->n);
            p[v->n] = '\0';
            v->s = p;
            break;
        default:
            v->type = STORE_NULL;
            break;
        }
    }
    r->nrows++;
    return 0;
oom:
    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
}

static int
sq_query(void *bc, struct gu_arena *a, const char *sql,
         const struct store_val *params, size_t n, struct store_rows **out,
         int64_t *changes, struct gu_err *err)
{
    struct sq_conn *c = bc;
    struct store_rows *r = NULL;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    rc = stmt_get(c, sql, &st, err);
    if (rc < 0)
        return rc;
    rc = bind_params(st, params, n, err);
    if (rc < 0)
        goto out;
    if (out) {
        r = gu_arena_zalloc(a, sizeof(*r));
        if (!r) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
            goto out;
        }
        r->ncols = (size_t)sqlite3_column_count(st);
        if (r->ncols) {
            r->names = gu_arena_alloc(a, r->ncols * sizeof(*r->names));
            if (!r->names) {
                rc = gu_err_set(err, GU_ENOMEM, NULL, NULL,
                                "store: out of memory");
                goto out;
            }
        }
        for (size_t k = 0; k < r->ncols; k++) {
            const char *name = sqlite3_column_name(st, (int)k);
            r->names[k] = gu_arena_strdup(a, name ? name : "");
            if (!r->names[k]) {
                rc = gu_err_set(err, GU_ENOMEM, NULL, NULL,
                                "store: out of memory");
                goto out;
            }
        }
    }
    for (;;) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            rc = fail(c->db, s, "step", NULL, err);
            goto out;
        }
        if (r && r->ncols) {
            rc = copy_row(st, a, r, &cap, err);
            if (rc < 0)
                goto out;
        }
    }
    if (!sqlite3_stmt_readonly(st)) {
        if (changes)
            *changes = sqlite3_changes64(c->db);
        if (r)
            r->changes = sqlite3_changes64(c->db);
    }
    if (out)
        *out = r;
out:
    /* Reset now, not on next use: a live statement pins a read snapshot. */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int
sq_exec_script(void *bc, const char *sql, struct gu_err *err)
{
    struct sq_conn *c = bc;
    char *msg = NULL;
    int rc;

    rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        rc = fail(c->db, rc, "exec", msg, err);
    sqlite3_free(msg);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Backup                                                              */
/* ------------------------------------------------------------------ */

/* fsync the directory holding `path`, so the rename itself is durable. */
static void
sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    int fd;

    if (!slash) {
        snprintf(dir, sizeof(dir), ".");
    } else if (slash == path) {
        snprintf(dir, sizeof(dir), "/");
    } else {
        if ((size_t)(slash - path) >= sizeof(dir))
            return;
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static int
sq_backup(void *bc, const char *path, struct gu_err *err)
{
    struct sq_conn *c = bc;
    sqlite3 *dst = NULL;
    sqlite3_backup *b = NULL;
    size_t tlen = strlen(path) + 32;
    char *tmp = NULL;
    int waited = 0;
    int rc;

    tmp = gu_malloc(tlen);
    if (!tmp)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    /* A temp file beside the target: rename() is atomic on one fs. */
    snprintf(tmp, tlen, "%s.tmp-%ld", path, (long)getpid());
    (void)unlink(tmp);
    rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                         NULL);
    if (rc != SQLITE_OK) {
        rc = fail(dst, rc, "backup open", NULL, err);
        goto out;
    }
    b = sqlite3_backup_init(dst, "main", c->db, "main");
    if (!b) {
        rc = fail(dst, sqlite3_errcode(dst), "backup init", NULL, err);
        goto out;
    }
    /*
     * Copy in steps so writers are not blocked for the whole copy; a step
     * that finds the source locked waits and retries.
     */
    for (;;) {
        int s = sqlite3_backup_step(b, BACKUP_PAGES);
        if (s == SQLITE_DONE)
            break;
        if (s == SQLITE_OK)
            continue;
        if ((s & 0xff) == SQLITE_BUSY || (s & 0xff) == SQLITE_LOCKED) {
            if (waited >= BACKUP_WAIT_MS) {
                sqlite3_backup_finish(b);
                b = NULL;
                rc = fail(NULL, s, "backup step", "source stays locked", err);
                goto out;
            }
            sqlite3_sleep(20);
            waited += 20;
            continue;
        }
        sqlite3_backup_finish(b);
        b = NULL;
        rc = fail(dst, s, "backup step", NULL, err);
        goto out;
    }
    rc = sqlite3_backup_finish(b);
    b = NULL;
    if (rc != SQLITE_OK) {
        rc = fail(dst, rc, "backup finish", NULL, err);
        goto out;
    }
    rc = sqlite3_close(dst);
    dst = NULL;
    if (rc != SQLITE_OK) {
        rc = fail(NULL, rc, "backup close", NULL, err);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        rc = gu_err_set(err, GU_EIO, NULL, "Impossible d'écrire la sauvegarde.",
                        "store: rename backup to %s failed", path);
        goto out;
    }
    sync_dir(path);
    rc = 0;
out:
    if (dst)
        sqlite3_close(dst);
    if (rc < 0)
        (void)unlink(tmp);
    gu_free(tmp);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The vtable                                                          */
/* ------------------------------------------------------------------ */

static const struct store_token_map sq_tokens[] = {
    {"$PK", "INTEGER PRIMARY KEY AUTOINCREMENT"},
    {"$NOW", "CAST(strftime('%s','now') AS INTEGER)"},
    {"$TEXT", "TEXT"},
    {"$BLOB", "BLOB"},
    {"$REAL", "REAL"},
};

static void
sq_auto_checkpoint(void *bc, bool automatic)
{
    struct sq_conn *c = bc;

    /* 1000 pages is SQLite's default. */
    sqlite3_wal_autocheckpoint(c->db, automatic ? 1000 : 0);
}

static int
sq_checkpoint(void *bc, struct gu_err *err)
{
    struct sq_conn *c = bc;
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       NULL, NULL);

    /* BUSY only means another checkpoint runs: the next one will do. */
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return fail(c->db, rc, "checkpoint", NULL, err);
    return 0;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .conn_open = sq_conn_open,
    .conn_close = sq_conn_close,
    .query = sq_query,
    .exec_script = sq_exec_script,
    .backup = sq_backup,
    .auto_checkpoint = sq_auto_checkpoint,
    .checkpoint = sq_checkpoint,
    /* IMMEDIATE: take the write lock now, so busy_timeout applies. */
    .begin_sql = "BEGIN IMMEDIATE",
    .serial_writes = true,
    .tokens = sq_tokens,
    .ntokens = GU_ARRAY_LEN(sq_tokens),
};
