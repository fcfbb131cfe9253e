/*
 * test_store.c - unit tests of src/store: the neutral query layer, the
 * pool, migrations, the SQLite backend (":memory:" and a file), and the
 * tenancy primitives (communes, agents, roles, login lockout, sessions,
 * API tokens, rate limits, audit), plus allocation-failure injection.
 *
 * Registered twice: on SQLite, and (unit/test_store_pg) on PostgreSQL
 * (tests/store_url.h), where the SQLite-only cases (files, backup, WAL,
 * :memory: sharing) skip and test_pg_dialect checks what the PostgreSQL
 * backend rewrites and keeps of SQLite's semantics.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "harness.h"
#include "store/store.h"
#include "store_url.h"

#define PW "correct horse battery"

/* A fresh in-memory store, migrated, with one commune "99001". */
static struct store *
mem_store(void)
{
    const struct store_migration *core;
    struct store *s = NULL;
    struct store_conn *c = NULL;
    struct gu_err err;
    size_t n;
    int applied = -1;

    CHECK_EQ(gu_crypto_init(), 0);
    gu_log_set_level(GU_LOG_WARN); /* no line per migration */
    CHECK_EQ(store_open(th_store_url(), &s, &err), 0);
    if (!s)
        return NULL;
    core = store_core_migrations(&n);
    CHECK_EQ(store_migrate(s, &core, &n, 1, &applied, &err), 0);
    CHECK_EQ(applied, (long long)n);
    CHECK_EQ(store_acquire(s, &c, &err), 0);
    struct store_commune m = {
        .insee = "99001", .name = "Saint-Exemple-sur-Loire", .zone = "B"};
    CHECK_EQ(store_commune_create(c, &m, &err), 0);
    store_release(c);
    return s;
}

/* The case only means something on SQLite (files, WAL, backup API). */
#define SQLITE_ONLY()                                                          \
    do {                                                                       \
        if (th_pg_conninfo())                                                  \
            return;                                                            \
    } while (0)

/* A temp directory for file databases; the caller removes it. */
static void
temp_dir(char *buf, size_t cap)
{
    snprintf(buf, cap, "/tmp/gu_store_test_XXXXXX");
    CHECK(mkdtemp(buf) != NULL);
}

static void
rm_db(const char *path)
{
    char p[512];

    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-journal", path);
    unlink(p);
}

static int64_t
count(struct store_conn *c, const char *sql)
{
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    int64_t v = -1;

    if (store_query(c, a, sql, NULL, 0, &r, &err) == 0 && r->nrows == 1)
        v = store_int(r, 0, 0);
    gu_arena_free(a);
    return v;
}

/* ------------------------------------------------------------------ */

static void
test_open_errors(void)
{
    struct store *s = (struct store *)1;
    struct gu_err err;

    CHECK_EQ(store_open("mysql://x", &s, &err), GU_EINVAL);
    CHECK(s == NULL);
    CHECK(err.user[0] != '\0');
    CHECK_EQ(store_open("sqlite:", &s, &err), GU_EINVAL);
    CHECK_EQ(store_open("postgres:", &s, &err), GU_EINVAL);
    /* A server that does not answer: refused at open, in French. */
    CHECK_EQ(store_open("postgres://127.0.0.1:1/x?connect_timeout=2", &s,
                        &err),
             GU_EDB);
    CHECK(s == NULL);
    CHECK_CONTAINS(err.user, "base de données");
    CHECK_EQ(store_open("sqlite:/nonexistent/dir/x.db", &s, &err), GU_EDB);
    CHECK(s == NULL);
    CHECK_CONTAINS(err.msg, "sqlite");
    store_close(NULL);
}

static const char mig_x1[] = "CREATE TABLE x (id $PK, v TEXT NOT NULL,\n"
                             "  at BIGINT NOT NULL DEFAULT ($NOW));\n"
                             "INSERT INTO x (v) VALUES ('one');\n";
static const char mig_x2[] = "ALTER TABLE x ADD COLUMN w TEXT;\n"
                             "-- @postgres\n"
                             "INSERT INTO x (v, w) VALUES ('two', 'pg');\n"
                             "-- @sqlite\n"
                             "INSERT INTO x (v, w) VALUES ('two', 'lite');\n"
                             "-- @all\n"
                             "UPDATE x SET w = 'all' WHERE w IS NULL;\n";

static void
test_migrations(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    const struct store_migration *core;
    size_t ncore;
    int applied = -1;

    core = store_core_migrations(&ncore);
    CHECK(ncore >= 2);
    /* Idempotent: the core schema is already there. */
    CHECK_EQ(store_migrate(s, &core, &ncore, 1, &applied, &err), 0);
    CHECK_EQ(applied, 0);

    static const struct store_migration xs[] = {
        {"x", 1, mig_x1},
        {"x", 2, mig_x2},
    };
    const struct store_migration *lists[2] = {core, xs};
    size_t counts[2] = {ncore, 2};
    CHECK_EQ(store_migrate(s, lists, counts, 2, &applied, &err), 0);
    CHECK_EQ(applied, 2);
    CHECK_EQ(store_migrate(s, lists, counts, 2, &applied, &err), 0);
    CHECK_EQ(applied, 0);

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(store_query(c, a, "SELECT id, v, w, at FROM x ORDER BY id", NULL,
                         0, &r, &err),
             0);
    CHECK_EQ(r->nrows, 2);
    CHECK_STR(store_text(r, 0, 1), "one");
    CHECK_STR(store_text(r, 0, 2), "all");
    CHECK_STR(store_text(r, 1, 2), th_pg_conninfo() ? "pg" : "lite");
    CHECK_EQ(store_int(r, 1, 0), 2); /* $PK auto-increments */
    CHECK(store_int(r, 0, 3) >= gu_now() - 5); /* $NOW */
    CHECK_EQ(store_query(c, a,
                         "SELECT module, version FROM schema_migrations"
                         " ORDER BY applied_at, module, version",
                         NULL, 0, &r, &err),
             0);
    CHECK_EQ(r->nrows, ncore + 2);
    CHECK_EQ(count(c, "SELECT max(version) FROM schema_migrations"
                      " WHERE module = 'x'"),
             2);
    store_release(c);

    /* Out of order, or a bad token: refused before anything runs. */
    static const struct store_migration bad[] = {
        {"y", 2, "CREATE TABLE y2 (a)"},
        {"y", 1, "CREATE TABLE y1 (a)"},
    };
    const struct store_migration *bl = bad;
    size_t bn = 2;
    CHECK_EQ(store_migrate(s, &bl, &bn, 1, &applied, &err), GU_EINTERNAL);
    static const struct store_migration tok[] = {
        {"z", 1, "CREATE TABLE z (a $NOPE)"},
    };
    const struct store_migration *tl = tok;
    size_t tn = 1;
    CHECK_EQ(store_migrate(s, &tl, &tn, 1, &applied, &err), GU_EINTERNAL);
    CHECK_CONTAINS(err.msg, "$NOPE");
    /* A failing migration leaves no trace (its own transaction). */
    static const struct store_migration fails[] = {
        {"w", 1, "CREATE TABLE w (a INTEGER); INSERT INTO nowhere VALUES (1);"},
    };
    const struct store_migration *fl = fails;
    size_t fnn = 1;
    CHECK_EQ(store_migrate(s, &fl, &fnn, 1, &applied, &err), GU_EDB);
    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(store_exec(c, "SELECT count(*) FROM w", NULL, 0, &err), GU_EDB);
    CHECK_EQ(count(c, "SELECT count(*) FROM schema_migrations"
                      " WHERE module = 'w'"),
             0);
    store_release(c);
    gu_arena_free(a);
    store_close(s);
}

static void
test_query_types(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    static const char evil[] = "'; DROP TABLE agents; --";
    static const char blob[] = {'a', 0, 'b', '\xff'};
    int64_t changes = -1;

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(store_exec(c,
                        "CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB,"
                        " n TEXT, e TEXT)",
                        NULL, 0, &err),
             0);
    struct store_val p[] = {
        STORE_I(INT64_MIN), STORE_D(12.5), STORE_T(evil),
        STORE_B(blob, 4),   STORE_T(NULL), STORE_TN("é\"x", 4),
    };
    CHECK_EQ(p[4].type, STORE_NULL);
    CHECK_EQ(store_exec_changes(c, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", p,
                                6, &changes, &err),
             0);
    CHECK_EQ(changes, 1);
    struct store_val p2[] = {STORE_I(42),      STORE_NUL,    STORE_T(""),
                             STORE_B(NULL, 0), STORE_T("x"), STORE_T("y")};
    CHECK_EQ(
        store_exec(c, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", p2, 6, &err),
        0);
    CHECK_EQ(store_query(c, a, "SELECT i, d, s, b, n, e FROM t ORDER BY i",
                         NULL, 0, &r, &err),
             0);
    CHECK_EQ(r->nrows, 2);
    CHECK_EQ(r->ncols, 6);
    CHECK_STR(r->names[2], "s");
    CHECK_EQ(store_int(r, 0, 0), INT64_MIN);
    CHECK(store_real(r, 0, 1) == 12.5);
    CHECK_STR(store_text(r, 0, 2), evil);
    CHECK_EQ(store_cell(r, 0, 3)->type, STORE_BLOB);
    CHECK_EQ(store_cell(r, 0, 3)->n, 4);
    CHECK(memcmp(store_cell(r, 0, 3)->s, blob, 4) == 0);
    CHECK_EQ(store_cell(r, 0, 4)->type, STORE_NULL);
    CHECK(store_text(r, 0, 4) == NULL);
    CHECK_STR(store_text(r, 0, 5), "é\"x");
    CHECK_EQ(store_cell(r, 1, 1)->type, STORE_NULL);
    CHECK_STR(store_text(r, 1, 2), "");
    CHECK_EQ(store_cell(r, 1, 2)->type, STORE_TEXT);
    /* Out of range cells. */
    CHECK(store_cell(r, 2, 0) == NULL);
    CHECK(store_cell(r, 0, 6) == NULL);
    CHECK_EQ(store_int(r, 9, 9), 0);
    /* The injection attempt was data: agents still exists. */
    CHECK_EQ(count(c, "SELECT count(*) FROM agents"), 0);
    /* Found through a bound parameter, read back verbatim. */
    struct store_val q[1] = {STORE_T(evil)};
    CHECK_EQ(store_query(c, a, "SELECT s FROM t WHERE s = ?", q, 1, &r, &err),
             0);
    CHECK_EQ(r->nrows, 1);
    /* Empty result still has its columns. */
    CHECK_EQ(store_query(c, a, "SELECT i, s FROM t WHERE 1 = 0", NULL, 0, &r,
                         &err),
             0);
    CHECK_EQ(r->nrows, 0);
    CHECK_EQ(r->ncols, 2);
    /* UPDATE reports changes through rows too. */
    CHECK_EQ(store_query(c, a, "UPDATE t SET n = 'z'", NULL, 0, &r, &err), 0);
    CHECK_EQ(r->changes, 2);
    /* Wrong parameter count, several statements, no arena: bugs. */
    CHECK_EQ(store_query(c, NULL, "SELECT 1", NULL, 0, &r, &err), GU_EINTERNAL);
    CHECK_EQ(store_exec(c, "SELECT ?", NULL, 0, &err), GU_EINTERNAL);
    CHECK_EQ(store_exec(c, "SELECT 1; SELECT 2", NULL, 0, &err), GU_EINTERNAL);
    /* Many rows (array growth) through the statement cache. */
    for (int i = 0; i < 300; i++) {
        struct store_val v[1] = {STORE_I(i)};
        CHECK_EQ(store_exec(c, "INSERT INTO t (i) VALUES (?)", v, 1, &err), 0);
    }
    CHECK_EQ(store_query(c, a, "SELECT i FROM t", NULL, 0, &r, &err), 0);
    CHECK_EQ(r->nrows, 302);
    /* More distinct statements than the cache holds. */
    for (int i = 0; i < 400; i++) {
        char sql[64];
        snprintf(sql, sizeof(sql), "SELECT %d", i);
        CHECK_EQ(store_query(c, a, sql, NULL, 0, &r, &err), 0);
        CHECK_EQ(store_int(r, 0, 0), i);
    }
    store_release(c);
    gu_arena_free(a);
    store_close(s);
}

static void
test_errors_and_conflict(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(
        store_exec(c, "CREATE TABLE u (k TEXT PRIMARY KEY)", NULL, 0, &err), 0);
    struct store_val p[1] = {STORE_T("a")};
    CHECK_EQ(store_exec(c, "INSERT INTO u VALUES (?)", p, 1, &err), 0);
    CHECK_EQ(store_error_count(s), 0);
    CHECK_EQ(store_exec(c, "INSERT INTO u VALUES (?)", p, 1, &err),
             GU_ECONFLICT);
    CHECK_CONTAINS(err.msg, th_pg_conninfo() ? "unique" : "UNIQUE");
    /* A foreign key violation is a conflict too: foreign_keys is on. */
    CHECK_EQ(store_exec(c,
                        "INSERT INTO agent_communes (agent_id, insee, role)"
                        " VALUES (999, '99001', 'admin')",
                        NULL, 0, &err),
             GU_ECONFLICT);
    CHECK_EQ(store_error_count(s), 0);
    CHECK_EQ(store_exec(c, "SELEKT 1", NULL, 0, &err), GU_EDB);
    CHECK_CONTAINS(err.msg, "syntax error");
    CHECK_EQ(store_exec(c, "SELECT * FROM nowhere", NULL, 0, &err), GU_EDB);
    CHECK_CONTAINS(err.msg,
                   th_pg_conninfo() ? "does not exist" : "no such table");
    CHECK_EQ(store_error_count(s), 2);
    CHECK_STR(store_backend(s), th_pg_conninfo() ? "postgres" : "sqlite");
    store_release(c);
    store_close(s);
}

static void
test_transactions(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(store_exec(c, "CREATE TABLE v (a INTEGER)", NULL, 0, &err), 0);
    CHECK_EQ(store_begin(c, &err), 0);
    CHECK(store_in_tx(c));
    CHECK_EQ(store_begin(c, &err), GU_EINTERNAL); /* not nestable */
    CHECK_EQ(store_exec(c, "INSERT INTO v VALUES (1)", NULL, 0, &err), 0);
    CHECK_EQ(store_exec(c, "INSERT INTO v VALUES (2)", NULL, 0, &err), 0);
    store_rollback(c);
    CHECK(!store_in_tx(c));
    CHECK_EQ(count(c, "SELECT count(*) FROM v"), 0);

    CHECK_EQ(store_begin(c, &err), 0);
    CHECK_EQ(store_exec(c, "INSERT INTO v VALUES (3)", NULL, 0, &err), 0);
    CHECK_EQ(store_commit(c, &err), 0);
    CHECK_EQ(count(c, "SELECT count(*) FROM v"), 1);
    CHECK_EQ(store_commit(c, &err), GU_EINTERNAL);

    /* Released with a transaction open: rolled back. */
    CHECK_EQ(store_begin(c, &err), 0);
    CHECK_EQ(store_exec(c, "INSERT INTO v VALUES (4)", NULL, 0, &err), 0);
    store_release(c);
    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK(!store_in_tx(c));
    CHECK_EQ(count(c, "SELECT count(*) FROM v"), 1);

    /*
     * A tenancy call that fails inside the caller's transaction undoes
     * only itself (savepoint); the caller can still commit its work.
     */
    CHECK_EQ(store_begin(c, &err), 0);
    CHECK_EQ(store_exec(c, "INSERT INTO v VALUES (5)", NULL, 0, &err), 0);
    CHECK_EQ(store_agent_create(c, "alice", "Alice", "", PW, false, "99001",
                                STORE_ROLE_AGENT, NULL, &err),
             0);
    CHECK_EQ(store_agent_create(c, "alice", "Alice 2", "", PW, false, "99001",
                                STORE_ROLE_AGENT, NULL, &err),
             GU_ECONFLICT);
    CHECK(store_in_tx(c));
    CHECK_EQ(store_commit(c, &err), 0);
    CHECK_EQ(count(c, "SELECT count(*) FROM v"), 2);
    CHECK_EQ(count(c, "SELECT count(*) FROM agents"), 1);
    CHECK_EQ(count(c, "SELECT count(*) FROM agent_communes"), 1);
    store_release(c);
    store_close(s);
}

static void
pool_shared_memory_sqlite(void)
{
    struct store *s = mem_store(), *s2 = NULL;
    struct store_conn *c[4] = {NULL};
    struct gu_err err;

    /* Several connections of one store see one database... */
    for (int i = 0; i < 4; i++)
        CHECK_EQ(store_acquire(s, &c[i], &err), 0);
    CHECK(c[0] != c[1] && c[1] != c[2] && c[2] != c[3]);
    CHECK_EQ(store_exec(c[0], "CREATE TABLE p (a)", NULL, 0, &err), 0);
    CHECK_EQ(store_exec(c[1], "INSERT INTO p VALUES (1)", NULL, 0, &err), 0);
    CHECK_EQ(count(c[3], "SELECT count(*) FROM p"), 1);
    CHECK_EQ(count(c[2], "PRAGMA foreign_keys"), 1);
    for (int i = 0; i < 4; i++)
        store_release(c[i]);
    store_release(NULL);
    /* ...and a second :memory: store is another database. */
    CHECK_EQ(store_open("sqlite::memory:", &s2, &err), 0);
    CHECK_EQ(store_acquire(s2, &c[0], &err), 0);
    CHECK_EQ(count(c[0], "SELECT count(*) FROM sqlite_master"), 0);
    store_release(c[0]);
    /* Released connections are reused. */
    struct store_conn *again = NULL;
    CHECK_EQ(store_acquire(s2, &again, &err), 0);
    CHECK(again == c[0]);
    store_release(again);
    store_close(s2);
    store_close(s);
}

struct waiter {
    struct store *s;
    struct store_conn *got;
    volatile int done;
};

static void *
waiter_main(void *arg)
{
    struct waiter *w = arg;
    struct gu_err err;

    if (store_acquire(w->s, &w->got, &err) == 0)
        w->done = 1;
    return NULL;
}

/* With every connection taken, store_acquire() waits for a release. */
static void
test_pool_exhausted(void)
{
    struct store *s = mem_store();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t max = (size_t)(2 * (cpus < 1 ? 1 : cpus > 64 ? 64 : cpus) + 2);
    struct store_conn *c[160] = {NULL};
    struct waiter w = {s, NULL, 0};
    struct gu_err err;
    pthread_t th;

    for (size_t i = 0; i < max; i++)
        CHECK_EQ(store_acquire(s, &c[i], &err), 0);
    CHECK_EQ(pthread_create(&th, NULL, waiter_main, &w), 0);
    usleep(100 * 1000);
    CHECK_EQ(w.done, 0);
    store_release(c[3]);
    pthread_join(th, NULL);
    CHECK_EQ(w.done, 1);
    CHECK(w.got == c[3]);
    c[3] = w.got;
    for (size_t i = 0; i < max; i++)
        store_release(c[i]);
    store_close(s);
}

/* A thread gets back the connection it released last when it is idle,
 * even when another was released after it (SQLite's memory stays in
 * the heap of the thread that made it). */
struct affine {
    struct store *s;
    struct store_conn *give, *got;
    pthread_barrier_t released, acquire;
};

static void *
affine_main(void *arg)
{
    struct affine *f = arg;
    struct gu_err err;

    store_release(f->give);
    pthread_barrier_wait(&f->released);
    pthread_barrier_wait(&f->acquire);
    if (store_acquire(f->s, &f->got, &err) < 0)
        f->got = NULL;
    return NULL;
}

static void
test_pool_thread_affinity(void)
{
    struct store *s = mem_store();
    struct store_conn *mine = NULL, *theirs = NULL, *again = NULL;
    struct affine f = {.s = s};
    struct gu_err err;
    pthread_t th;

    CHECK_EQ(store_acquire(s, &mine, &err), 0);
    CHECK_EQ(store_acquire(s, &theirs, &err), 0);
    CHECK(mine != theirs);
    f.give = theirs;
    pthread_barrier_init(&f.released, NULL, 2);
    pthread_barrier_init(&f.acquire, NULL, 2);
    CHECK_EQ(pthread_create(&th, NULL, affine_main, &f), 0);
    pthread_barrier_wait(&f.released);
    store_release(mine); /* released last: the head of the idle list */
    pthread_barrier_wait(&f.acquire);
    pthread_join(th, NULL);
    CHECK(f.got == theirs);
    CHECK_EQ(store_acquire(s, &again, &err), 0);
    CHECK(again == mine);
    store_release(again);
    store_release(f.got);
    pthread_barrier_destroy(&f.released);
    pthread_barrier_destroy(&f.acquire);
    store_close(s);
}

static void
test_communes(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct store_commune got, *list = NULL;
    size_t n = 0;

    CHECK(store_insee_valid("44109"));
    CHECK(store_insee_valid("2A004"));
    CHECK(store_insee_valid("2B033"));
    CHECK(store_insee_valid("97411"));
    CHECK(!store_insee_valid("4410"));
    CHECK(!store_insee_valid("441090"));
    CHECK(!store_insee_valid("2C004"));
    CHECK(!store_insee_valid("2a004"));
    CHECK(!store_insee_valid("3A004"));
    CHECK(!store_insee_valid("A4109"));
    CHECK(!store_insee_valid(NULL));

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    struct store_commune m = {.insee = "44109",
                              .name = "Nantes",
                              .zone = "B",
                              .hours = "Lundi 9h-17h",
                              .email = "mairie@nantes.fr"};
    CHECK_EQ(store_commune_create(c, &m, &err), 0);
    CHECK_EQ(store_commune_create(c, &m, &err), GU_ECONFLICT);
    CHECK_CONTAINS(err.user, "existe déjà");

    struct store_commune bad = m;
    snprintf(bad.insee, sizeof(bad.insee), "4410");
    CHECK_EQ(store_commune_create(c, &bad, &err), GU_EINVAL);
    CHECK_STR(err.user, "Le code INSEE doit comporter 5 caractères "
                        "(ex. 44109).");
    CHECK_STR(err.field, "insee");
    bad = m;
    snprintf(bad.insee, sizeof(bad.insee), "2A004");
    bad.zone = "D";
    CHECK_EQ(store_commune_create(c, &bad, &err), GU_EINVAL);
    CHECK_STR(err.field, "zone");
    bad.zone = "corse";
    bad.name = "";
    CHECK_EQ(store_commune_create(c, &bad, &err), GU_EINVAL);
    CHECK_STR(err.field, "name");
    char longname[200];
    memset(longname, 'x', 121);
    longname[121] = '\0';
    bad.name = longname;
    CHECK_EQ(store_commune_create(c, &bad, &err), GU_EINVAL);
    longname[120] = '\0';
    CHECK_EQ(store_commune_create(c, &bad, &err), 0);
    bad.email = "pas-une-adresse";
    CHECK_EQ(store_commune_create(c, &bad, &err), GU_EINVAL);
    CHECK_STR(err.field, "email");

    CHECK_EQ(store_commune_get(c, a, "44109", &got, &err), 0);
    CHECK_STR(got.insee, "44109");
    CHECK_STR(got.name, "Nantes");
    CHECK_STR(got.hours, "Lundi 9h-17h");
    CHECK_STR(got.address, "");
    CHECK(got.created_at > 0);
    CHECK_EQ(store_commune_get(c, a, "44110", &got, &err), GU_ENOTFOUND);

    m.name = "Nantes (Loire-Atlantique)";
    m.zone = "A";
    m.phone = "02 40 41 90 00";
    CHECK_EQ(store_commune_update(c, &m, &err), 0);
    CHECK_EQ(store_commune_get(c, a, "44109", &got, &err), 0);
    CHECK_STR(got.name, "Nantes (Loire-Atlantique)");
    CHECK_STR(got.zone, "A");
    CHECK_STR(got.phone, "02 40 41 90 00");
    struct store_commune ghost = m;
    snprintf(ghost.insee, sizeof(ghost.insee), "01001");
    CHECK_EQ(store_commune_update(c, &ghost, &err), GU_ENOTFOUND);

    CHECK_EQ(store_commune_list(c, a, &list, &n, &err), 0);
    CHECK_EQ(n, 3);
    CHECK_STR(list[0].name, "Nantes (Loire-Atlantique)");
    CHECK_STR(list[1].name, "Saint-Exemple-sur-Loire");
    CHECK_STR(list[2].insee, "2A004");
    store_release(c);
    gu_arena_free(a);
    store_close(s);
}

static void
test_agents(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct store_agent ag, *list = NULL;
    size_t n = 0;
    int64_t id = 0, id2 = 0;

    CHECK(store_login_valid("jean.dupont"));
    CHECK(store_login_valid("a_b-c9"));
    CHECK(!store_login_valid("J.Dupont"));
    CHECK(!store_login_valid("x"));
    CHECK(!store_login_valid("jean dupont"));
    CHECK(!store_login_valid("élodie"));

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(store_agent_create(c, "jean.dupont", "Jean Dupont",
                                "jean@example.fr", PW, true, "99001",
                                STORE_ROLE_ADMIN, &id, &err),
             0);
    CHECK(id > 0);
    CHECK_EQ(store_agent_create(c, "jean.dupont", "Autre", "", PW, false,
                                "99001", STORE_ROLE_AGENT, &id2, &err),
             GU_ECONFLICT);
    CHECK_EQ(id2, 0);
    CHECK_STR(err.field, "login");
    CHECK_EQ(store_agent_create(c, "Jean", "Jean", "", PW, false, "99001",
                                STORE_ROLE_AGENT, NULL, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "login");
    CHECK_EQ(store_agent_create(c, "marie", "Marie", "", "court", false,
                                "99001", STORE_ROLE_AGENT, NULL, &err),
             GU_EINVAL);
    CHECK_STR(err.user, "Le mot de passe doit comporter au moins 12 "
                        "caractères.");
    CHECK_EQ(store_agent_create(c, "marie", "Marie", "", PW, false, "01001",
                                STORE_ROLE_AGENT, NULL, &err),
             GU_ENOTFOUND);
    CHECK_EQ(store_agent_create(c, "marie", "Marie", "", PW, false, "99001",
                                STORE_ROLE_NONE, NULL, &err),
             GU_EINVAL);
    CHECK_EQ(count(c, "SELECT count(*) FROM agents"), 1);
    CHECK_EQ(store_agent_create(c, "marie", "Marie Curie", "", PW, false,
                                "99001", STORE_ROLE_LECTEUR, &id2, &err),
             0);

    /* Passwords are stored hashed. */
    CHECK_EQ(count(c, "SELECT count(*) FROM agents"
                      " WHERE password_hash LIKE '$argon2id$%'"),
             2);

    CHECK_EQ(store_agent_get(c, a, id, &ag, &err), 0);
    CHECK_STR(ag.login, "jean.dupont");
    CHECK_STR(ag.name, "Jean Dupont");
    CHECK_STR(ag.email, "jean@example.fr");
    CHECK(ag.must_change_password);
    CHECK(!ag.disabled);
    CHECK_EQ(ag.last_login_at, 0);
    CHECK_EQ(store_agent_get(c, a, 999, &ag, &err), GU_ENOTFOUND);
    CHECK_EQ(store_agent_by_login(c, a, "marie", &ag, &err), 0);
    CHECK_EQ(ag.id, id2);
    CHECK_EQ(store_agent_by_login(c, a, "nobody", &ag, &err), GU_ENOTFOUND);

    CHECK_EQ(store_agent_update(c, id2, "Marie Sklodowska-Curie",
                                "marie@example.fr", &err),
             0);
    CHECK_EQ(store_agent_update(c, id2, "", "", &err), GU_EINVAL);
    CHECK_EQ(store_agent_update(c, 999, "X", "", &err), GU_ENOTFOUND);
    CHECK_EQ(store_agent_get(c, a, id2, &ag, &err), 0);
    CHECK_STR(ag.name, "Marie Sklodowska-Curie");

    CHECK_EQ(store_agent_list(c, a, NULL, &list, &n, &err), 0);
    CHECK_EQ(n, 2);
    CHECK_STR(list[0].login, "jean.dupont");
    CHECK_STR(list[1].login, "marie");
    struct store_commune m = {.insee = "44109", .name = "Nantes", .zone = "B"};
    CHECK_EQ(store_commune_create(c, &m, &err), 0);
    CHECK_EQ(store_agent_list(c, a, "44109", &list, &n, &err), 0);
    CHECK_EQ(n, 0);

    CHECK_EQ(store_agent_set_disabled(c, id2, true, &err), 0);
    CHECK_EQ(store_agent_get(c, a, id2, &ag, &err), 0);
    CHECK(ag.disabled);
    CHECK_EQ(store_agent_set_disabled(c, 999, true, &err), GU_ENOTFOUND);
    CHECK_EQ(store_agent_set_password(c, id, "trop court", false, &err),
             GU_EINVAL);
    CHECK_EQ(
        store_agent_set_password(c, 999, "un autre mot de passe", false, &err),
        GU_ENOTFOUND);
    store_release(c);
    gu_arena_free(a);
    store_close(s);
}

static void
test_roles(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct store_membership *ms = NULL;
    struct store_agent *list = NULL;
    enum store_role r;
    size_t n = 0;
    int64_t id = 0;

    CHECK_STR(store_role_name(STORE_ROLE_ADMIN), "admin");
    CHECK_STR(store_role_name(STORE_ROLE_AGENT), "agent");
    CHECK_STR(store_role_name(STORE_ROLE_LECTEUR), "lecteur");
    CHECK_EQ(store_role_parse("agent", &r), 0);
    CHECK_EQ(r, STORE_ROLE_AGENT);
    CHECK_EQ(store_role_parse("chef", &r), GU_EINVAL);
    CHECK_EQ(store_role_parse(NULL, &r), GU_EINVAL);

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    struct store_commune m = {.insee = "44109", .name = "Nantes", .zone = "B"};
    CHECK_EQ(store_commune_create(c, &m, &err), 0);
    CHECK_EQ(store_agent_create(c, "paul", "Paul", "", PW, false, "99001",
                                STORE_ROLE_AGENT, &id, &err),
             0);
    CHECK_EQ(store_agent_role(c, id, "99001"), STORE_ROLE_AGENT);
    CHECK_EQ(store_agent_role(c, id, "44109"), STORE_ROLE_NONE);
    CHECK_EQ(store_agent_set_role(c, id, "44109", STORE_ROLE_LECTEUR, &err), 0);
    CHECK_EQ(store_agent_set_role(c, id, "99001", STORE_ROLE_ADMIN, &err), 0);
    CHECK_EQ(store_agent_role(c, id, "99001"), STORE_ROLE_ADMIN);
    CHECK_EQ(store_agent_memberships(c, a, id, &ms, &n, &err), 0);
    CHECK_EQ(n, 2);
    CHECK_STR(ms[0].insee, "44109"); /* ordered by commune name */
    CHECK_STR(ms[0].commune_name, "Nantes");
    CHECK_EQ(ms[0].role, STORE_ROLE_LECTEUR);
    CHECK_EQ(ms[1].role, STORE_ROLE_ADMIN);
    CHECK_EQ(store_agent_list(c, a, "44109", &list, &n, &err), 0);
    CHECK_EQ(n, 1);

    CHECK_EQ(store_agent_set_role(c, id, "01001", STORE_ROLE_AGENT, &err),
             GU_ENOTFOUND);
    CHECK_EQ(store_agent_set_role(c, 999, "44109", STORE_ROLE_AGENT, &err),
             GU_ENOTFOUND);
    CHECK_EQ(store_agent_set_role(c, id, "4410", STORE_ROLE_AGENT, &err),
             GU_EINVAL);
    CHECK_EQ(store_agent_set_role(c, id, "44109", (enum store_role)7, &err),
             GU_EINVAL);

    CHECK_EQ(store_agent_set_role(c, id, "44109", STORE_ROLE_NONE, &err), 0);
    CHECK_EQ(store_agent_set_role(c, id, "44109", STORE_ROLE_NONE, &err), 0);
    CHECK_EQ(store_agent_role(c, id, "44109"), STORE_ROLE_NONE);
    CHECK_EQ(store_agent_memberships(c, a, id, &ms, &n, &err), 0);
    CHECK_EQ(n, 1);

    /* A disabled agent has no role anywhere. */
    CHECK_EQ(store_agent_set_disabled(c, id, true, &err), 0);
    CHECK_EQ(store_agent_role(c, id, "99001"), STORE_ROLE_NONE);
    CHECK_EQ(store_agent_role(c, id, NULL), STORE_ROLE_NONE);
    store_release(c);
    gu_arena_free(a);
    store_close(s);
}

static void
test_auth_lockout(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct store_agent ag;
    int64_t id = 0;
    const char *bad = "Identifiant ou mot de passe incorrect.";

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(store_agent_create(c, "lea", "Léa", "", PW, false, "99001",
                                STORE_ROLE_AGENT, &id, &err),
             0);
    CHECK_EQ(store_agent_authenticate(c, a, "lea", PW, 2, 600, &ag, &err), 0);
    CHECK_EQ(ag.id, id);
    CHECK_STR(ag.login, "lea");
    CHECK_EQ(ag.last_login_at, 0); /* the previous login: none */
    CHECK(count(c, "SELECT last_login_at FROM agents") > 0);

    /* Unknown, malformed and wrong: one message, details in msg. */
    CHECK_EQ(store_agent_authenticate(c, a, "nobody", PW, 2, 600, &ag, &err),
             GU_EAUTH);
    CHECK_STR(err.user, bad);
    CHECK_CONTAINS(err.msg, "unknown");
    CHECK_EQ(store_agent_authenticate(c, a, "NOT VALID", PW, 2, 600, &ag, &err),
             GU_EAUTH);
    CHECK_STR(err.user, bad);
    CHECK_EQ(store_agent_authenticate(c, a, "lea", "mauvais mot de passe", 2,
                                      600, &ag, &err),
             GU_EAUTH);
    CHECK_STR(err.user, bad);
    CHECK_CONTAINS(err.msg, "wrong password");
    CHECK_EQ(ag.id, 0);
    /* A success in between resets the count. */
    CHECK_EQ(store_agent_authenticate(c, a, "lea", PW, 2, 600, &ag, &err), 0);
    CHECK(ag.last_login_at > 0);
    CHECK_EQ(count(c, "SELECT failed_logins FROM agents"), 0);

    /* Two failures in a row lock, even the right password then. */
    CHECK_EQ(
        store_agent_authenticate(c, a, "lea", "mauvais 1", 2, 600, &ag, &err),
        GU_EAUTH);
    CHECK_EQ(
        store_agent_authenticate(c, a, "lea", "mauvais 2", 2, 600, &ag, &err),
        GU_EAUTH);
    CHECK_EQ(store_agent_authenticate(c, a, "lea", PW, 2, 600, &ag, &err),
             GU_ERATE);
    CHECK_STR(err.user, "Compte temporairement verrouillé après trop "
                        "d'échecs. Réessayez dans 10 minutes.");
    /* The lock ends by itself... */
    CHECK_EQ(store_exec(c, "UPDATE agents SET locked_until = 1", NULL, 0, &err),
             0);
    CHECK_EQ(store_agent_authenticate(c, a, "lea", PW, 2, 600, &ag, &err), 0);
    /* ...or with a password reset by an admin. */
    CHECK_EQ(store_agent_authenticate(c, a, "lea", "x1", 2, 60, &ag, &err),
             GU_EAUTH);
    CHECK_EQ(store_agent_authenticate(c, a, "lea", "x2", 2, 60, &ag, &err),
             GU_EAUTH);
    CHECK_EQ(store_agent_authenticate(c, a, "lea", PW, 2, 60, &ag, &err),
             GU_ERATE);
    CHECK_CONTAINS(err.user, "Réessayez dans 1 minute.");
    CHECK_EQ(
        store_agent_set_password(c, id, "nouveau mot de passe", false, &err),
        0);
    CHECK_EQ(store_agent_authenticate(c, a, "lea", PW, 2, 60, &ag, &err),
             GU_EAUTH);
    CHECK_EQ(store_agent_authenticate(c, a, "lea", "nouveau mot de passe", 2,
                                      60, &ag, &err),
             0);
    /* Disabled: same message as a wrong password. */
    CHECK_EQ(store_agent_set_disabled(c, id, true, &err), 0);
    CHECK_EQ(store_agent_authenticate(c, a, "lea", "nouveau mot de passe", 2,
                                      60, &ag, &err),
             GU_EAUTH);
    CHECK_STR(err.user, bad);
    CHECK_CONTAINS(err.msg, "disabled");
    /* max_failures 0: no lockout at all. */
    CHECK_EQ(store_agent_set_disabled(c, id, false, &err), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(
            store_agent_authenticate(c, a, "lea", "faux", 0, 60, &ag, &err),
            GU_EAUTH);
    CHECK_EQ(store_agent_authenticate(c, a, "lea", "nouveau mot de passe", 0,
                                      60, &ag, &err),
             0);
    store_release(c);
    gu_arena_free(a);
    store_close(s);
}

static void
test_sessions(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    struct store_session ss, got;
    char tok[64], tok2[64], small[16];
    int64_t id = 0;

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    struct store_commune m = {.insee = "44109", .name = "Nantes", .zone = "B"};
    CHECK_EQ(store_commune_create(c, &m, &err), 0);
    CHECK_EQ(store_agent_create(c, "sam", "Sam", "", PW, false, "99001",
                                STORE_ROLE_AGENT, &id, &err),
             0);
    CHECK_EQ(
        store_session_create(c, id, "99001", 3600, tok, sizeof(tok), &ss, &err),
        0);
    CHECK_EQ(strlen(tok), 43);
    CHECK(strlen(ss.csrf) >= 43);
    CHECK_EQ(ss.expires_at - ss.created_at, 3600);
    /* Only the hash is stored. */
    struct store_val p[1] = {STORE_T(tok)};
    bool stored = false;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    CHECK_EQ(store_query(c, a, "SELECT 1 FROM sessions WHERE token_hash = ?", p,
                         1, &r, &err),
             0);
    stored = r->nrows > 0;
    CHECK(!stored);

    CHECK_EQ(store_session_get(c, tok, &got, &err), 0);
    CHECK_EQ(got.agent_id, id);
    CHECK_STR(got.insee, "99001");
    CHECK_STR(got.csrf, ss.csrf);
    CHECK_EQ(store_session_get(c, "forged", &got, &err), GU_EAUTH);
    CHECK_EQ(store_session_get(c, NULL, &got, &err), GU_EAUTH);

    CHECK_EQ(store_session_set_commune(c, tok, "44109", &err), 0);
    CHECK_EQ(store_session_get(c, tok, &got, &err), 0);
    CHECK_STR(got.insee, "44109");
    CHECK_EQ(store_session_set_commune(c, tok, "01001", &err), GU_ENOTFOUND);
    CHECK_EQ(store_session_set_commune(c, "forged", "44109", &err), GU_EAUTH);

    /* Every session of a commune moves to another one at once. */
    {
        int64_t moved = -1;
        CHECK_EQ(store_session_move_commune(c, "44109", "99001", &moved, &err),
                 0);
        CHECK_EQ(moved, 1);
        CHECK_EQ(store_session_get(c, tok, &got, &err), 0);
        CHECK_STR(got.insee, "99001");
        CHECK_EQ(store_session_move_commune(c, "44109", "99001", &moved, &err),
                 0);
        CHECK_EQ(moved, 0);
        CHECK_EQ(store_session_move_commune(c, "99001", "01001", NULL, &err),
                 GU_ENOTFOUND);
        CHECK_EQ(store_session_move_commune(c, "9900", "99001", NULL, &err),
                 GU_EINVAL);
        CHECK_EQ(store_session_get(c, tok, &got, &err), 0);
        CHECK_STR(got.insee, "99001");
    }

    CHECK_EQ(store_session_create(c, id, "99001", 60, small, sizeof(small),
                                  NULL, &err),
             GU_EINTERNAL);
    CHECK_EQ(store_session_create(c, 999, "99001", 60, tok2, sizeof(tok2), NULL,
                                  &err),
             GU_ENOTFOUND);

    /* Expired (ttl 0 and negative): refused and deleted on lookup. */
    CHECK_EQ(
        store_session_create(c, id, "99001", 0, tok2, sizeof(tok2), NULL, &err),
        0);
    CHECK_EQ(count(c, "SELECT count(*) FROM sessions"), 2);
    CHECK_EQ(store_session_get(c, tok2, &got, &err), GU_EAUTH);
    CHECK_EQ(count(c, "SELECT count(*) FROM sessions"), 1);
    CHECK_EQ(store_session_create(c, id, "99001", -10, tok2, sizeof(tok2), NULL,
                                  &err),
             0);
    CHECK_EQ(store_session_create(c, id, "99001", -10, tok2, sizeof(tok2), NULL,
                                  &err),
             0);
    CHECK_EQ(store_session_purge(c, &err), 2);
    CHECK_EQ(store_session_purge(c, &err), 0);

    CHECK_EQ(store_session_delete(c, tok, &err), 0);
    CHECK_EQ(store_session_get(c, tok, &got, &err), GU_EAUTH);
    CHECK_EQ(store_session_delete(c, tok, &err), 0);
    CHECK_EQ(store_session_delete(c, NULL, &err), 0);

    CHECK_EQ(
        store_session_create(c, id, "99001", 60, tok, sizeof(tok), NULL, &err),
        0);
    CHECK_EQ(store_session_create(c, id, "44109", 60, tok2, sizeof(tok2), NULL,
                                  &err),
             0);
    CHECK(strcmp(tok, tok2) != 0);
    CHECK_EQ(store_session_delete_agent(c, id, &err), 0);
    CHECK_EQ(count(c, "SELECT count(*) FROM sessions"), 0);
    gu_arena_free(a);
    store_release(c);
    store_close(s);
}

static void
test_tokens(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct store_token t, *list = NULL;
    char secret[64], secret2[64];
    int64_t id = 0, id2 = 0;
    size_t n = 0;

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    struct store_commune m = {.insee = "44109", .name = "Nantes", .zone = "B"};
    CHECK_EQ(store_commune_create(c, &m, &err), 0);
    CHECK_EQ(store_token_create(c, "99001", STORE_ROLE_AGENT, "import RDV",
                                secret, sizeof(secret), &id, &err),
             0);
    CHECK(id > 0);
    CHECK_EQ(strncmp(secret, "gu_", 3), 0);
    CHECK_EQ(strlen(secret), 46);
    CHECK_EQ(store_token_create(c, "44109", STORE_ROLE_LECTEUR, "stats",
                                secret2, sizeof(secret2), &id2, &err),
             0);
    CHECK_EQ(store_token_create(c, "01001", STORE_ROLE_LECTEUR, "x", secret2,
                                sizeof(secret2), NULL, &err),
             GU_ENOTFOUND);
    CHECK_EQ(store_token_create(c, "99001", STORE_ROLE_NONE, "x", secret2,
                                sizeof(secret2), NULL, &err),
             GU_EINVAL);
    CHECK_EQ(store_token_create(c, "99001", STORE_ROLE_AGENT, "", secret2,
                                sizeof(secret2), NULL, &err),
             GU_EINVAL);
    CHECK_EQ(count(c, "SELECT count(*) FROM api_tokens"
                      " WHERE token_hash LIKE 'gu_%'"),
             0);

    CHECK_EQ(store_token_check(c, a, secret, &t, &err), 0);
    CHECK_EQ(t.id, id);
    CHECK_STR(t.insee, "99001");
    CHECK_EQ(t.role, STORE_ROLE_AGENT);
    CHECK_STR(t.name, "import RDV");
    CHECK(t.last_used_at > 0);
    CHECK(!t.revoked);
    CHECK_EQ(store_token_check(c, a, "gu_forged", &t, &err), GU_EAUTH);
    CHECK_EQ(store_token_check(c, a, secret + 3, &t, &err), GU_EAUTH);
    CHECK_EQ(store_token_check(c, a, NULL, &t, &err), GU_EAUTH);

    CHECK_EQ(store_token_list(c, a, "99001", &list, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(list[0].id, id);
    CHECK_EQ(store_token_list(c, a, NULL, &list, &n, &err), 0);
    CHECK_EQ(n, 2);

    /* Another commune cannot revoke it. */
    CHECK_EQ(store_token_revoke(c, "44109", id, &err), GU_ENOTFOUND);
    CHECK_EQ(store_token_check(c, a, secret, &t, &err), 0);
    CHECK_EQ(store_token_revoke(c, "99001", id, &err), 0);
    CHECK_EQ(store_token_revoke(c, "99001", id, &err), 0);
    CHECK_EQ(store_token_check(c, a, secret, &t, &err), GU_EAUTH);
    CHECK_STR(err.user, "Jeton d'accès invalide ou révoqué.");
    CHECK_EQ(store_token_list(c, a, "99001", &list, &n, &err), 0);
    CHECK(list[0].revoked);
    CHECK_EQ(store_token_revoke(c, NULL, id2, &err), 0);
    CHECK_EQ(store_token_revoke(c, NULL, 999, &err), GU_ENOTFOUND);
    store_release(c);
    gu_arena_free(a);
    store_close(s);
}

static void
test_rate_limit(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    int retry = -1;

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(store_rate_hit(c, "login:1.2.3.4", 3, 3600, &retry, &err), 0);
        CHECK(retry > 0 && retry <= 3600);
    }
    CHECK_EQ(store_rate_hit(c, "login:1.2.3.4", 3, 3600, &retry, &err),
             GU_ERATE);
    CHECK(retry > 0 && retry <= 3600);
    CHECK_CONTAINS(err.user, "Réessayez dans");
    CHECK_EQ(store_rate_hit(c, "login:1.2.3.4", 3, 3600, NULL, &err), GU_ERATE);
    /* Keys count separately. */
    CHECK_EQ(store_rate_hit(c, "login:5.6.7.8", 3, 3600, &retry, &err), 0);
    /* A new window starts over. */
    CHECK_EQ(
        store_exec(c, "UPDATE rate_limits SET window_start = 0", NULL, 0, &err),
        0);
    CHECK_EQ(store_rate_hit(c, "login:1.2.3.4", 3, 3600, &retry, &err), 0);
    CHECK_EQ(count(c, "SELECT hits FROM rate_limits"
                      " WHERE key = 'login:1.2.3.4'"),
             1);
    CHECK_EQ(store_rate_hit(c, "", 3, 60, &retry, &err), GU_EINTERNAL);
    CHECK_EQ(store_rate_hit(c, "k", 3, 0, &retry, &err), GU_EINTERNAL);
    CHECK_EQ(
        store_exec(c, "UPDATE rate_limits SET window_start = 0", NULL, 0, &err),
        0);
    CHECK_EQ(store_rate_purge(c, 86400, &err), 2);
    store_release(c);
    store_close(s);
}

static void
test_audit(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct store_audit *v = NULL;
    size_t n = 0;

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    for (int i = 0; i < 30; i++) {
        char target[32];
        snprintf(target, sizeof(target), "agent:%d", i);
        CHECK_EQ(store_audit_add(c, i % 3 ? "99001" : "44109",
                                 i % 2 ? "admin" : "systeme",
                                 i % 5 ? "user.create" : "login.fail", target,
                                 "{\"x\":1}", "req-1", &err),
                 0);
    }
    CHECK_EQ(store_audit_add(c, NULL, "systeme", "instance.start", NULL, NULL,
                             NULL, &err),
             0);
    CHECK_EQ(store_audit_add(c, NULL, NULL, "x", NULL, NULL, NULL, &err),
             GU_EINTERNAL);

    /* Append-only, enforced by the database. */
    CHECK(store_exec(c, "UPDATE audit SET actor = 'x'", NULL, 0, &err) < 0);
    CHECK_CONTAINS(err.msg, "append-only");
    CHECK(store_exec(c, "DELETE FROM audit", NULL, 0, &err) < 0);
    CHECK_CONTAINS(err.msg, "append-only");
    CHECK_EQ(count(c, "SELECT count(*) FROM audit"), 31);

    CHECK_EQ(store_audit_list(c, a, NULL, &v, &n, &err), 0);
    CHECK_EQ(n, 31);
    CHECK_STR(v[0].action, "instance.start");
    CHECK_STR(v[0].insee, "");
    CHECK_STR(v[0].target, "");
    CHECK(v[0].id > v[1].id);
    CHECK(v[0].at > 0);

    struct store_audit_filter f = {.insee = "99001"};
    CHECK_EQ(store_audit_list(c, a, &f, &v, &n, &err), 0);
    CHECK_EQ(n, 20);
    for (size_t i = 0; i < n; i++)
        CHECK_STR(v[i].insee, "99001");
    f.actor = "admin";
    CHECK_EQ(store_audit_list(c, a, &f, &v, &n, &err), 0);
    CHECK_EQ(n, 10);
    f.action_prefix = "login.";
    CHECK_EQ(store_audit_list(c, a, &f, &v, &n, &err), 0);
    CHECK_EQ(n, 2); /* i = 5, 25 */
    CHECK_STR(v[0].target, "agent:25");
    CHECK_STR(v[0].detail, "{\"x\":1}");
    CHECK_STR(v[0].request_id, "req-1");

    /* Keyset paging: pages of 7 cover everything once, newest first. */
    struct store_audit_filter pg = {.limit = 7};
    size_t total = 0;
    int64_t last = INT64_MAX;
    for (int page = 0; page < 10; page++) {
        CHECK_EQ(store_audit_list(c, a, &pg, &v, &n, &err), 0);
        if (n == 0)
            break;
        CHECK(n <= 7);
        for (size_t i = 0; i < n; i++) {
            CHECK(v[i].id < last);
            last = v[i].id;
        }
        total += n;
        pg.before_id = v[n - 1].id;
    }
    CHECK_EQ(total, 31);

    struct store_audit_filter tf = {.since = gu_now() + 100};
    CHECK_EQ(store_audit_list(c, a, &tf, &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    tf.since = gu_now() - 100;
    tf.until = gu_now() + 100;
    CHECK_EQ(store_audit_list(c, a, &tf, &v, &n, &err), 0);
    CHECK_EQ(n, 31);
    tf.limit = 100000; /* clamped, not refused */
    CHECK_EQ(store_audit_list(c, a, &tf, &v, &n, &err), 0);
    CHECK_EQ(n, 31);
    struct store_audit_filter evil = {.action_prefix = "%"};
    CHECK_EQ(store_audit_list(c, a, &evil, &v, &n, &err), 0);
    CHECK_EQ(n, 0); /* a prefix, not a LIKE pattern */
    store_release(c);
    gu_arena_free(a);
    store_close(s);
}

static void
file_db_and_backup_sqlite(void)
{
    char dir[64], db[128], url[160], bak[128], burl[160];
    const struct store_migration *core;
    struct store *s = NULL, *b = NULL;
    struct store_conn *c = NULL;
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct store_commune got;
    size_t n;
    int applied = 0;

    CHECK_EQ(gu_crypto_init(), 0);
    temp_dir(dir, sizeof(dir));
    snprintf(db, sizeof(db), "%s/guichet.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", db);
    snprintf(bak, sizeof(bak), "%s/backup.db", dir);
    snprintf(burl, sizeof(burl), "sqlite:%s", bak);

    core = store_core_migrations(&n);
    CHECK_EQ(store_open(url, &s, &err), 0);
    CHECK_EQ(store_migrate(s, &core, &n, 1, &applied, &err), 0);
    CHECK_EQ(applied, (long long)n);
    CHECK_EQ(store_acquire(s, &c, &err), 0);
    struct gu_arena *t = gu_arena_new(0);
    struct store_rows *r = NULL;
    CHECK_EQ(store_query(c, t, "PRAGMA journal_mode", NULL, 0, &r, &err), 0);
    CHECK_STR(store_text(r, 0, 0), "wal");
    CHECK_EQ(count(c, "PRAGMA foreign_keys"), 1);
    CHECK_EQ(count(c, "PRAGMA synchronous"), 1); /* NORMAL */
    CHECK_EQ(count(c, "PRAGMA busy_timeout"), 5000);
    gu_arena_free(t);
    struct store_commune m = {
        .insee = "2A004", .name = "Ajaccio", .zone = "corse"};
    CHECK_EQ(store_commune_create(c, &m, &err), 0);
    store_release(c);
    store_close(s);

    /* Reopen: data and schema persist, migrations stay applied. */
    s = NULL;
    CHECK_EQ(store_open(url, &s, &err), 0);
    CHECK_EQ(store_migrate(s, &core, &n, 1, &applied, &err), 0);
    CHECK_EQ(applied, 0);
    CHECK_EQ(store_backup(s, bak, &err), 0);
    CHECK_EQ(store_backup(s, bak, &err), 0); /* replaces the old one */
    CHECK_EQ(store_backup(s, "/nonexistent/dir/x.db", &err), GU_EDB);
    store_close(s);

    CHECK(access(bak, R_OK) == 0);
    CHECK_EQ(store_open(burl, &b, &err), 0);
    CHECK_EQ(store_acquire(b, &c, &err), 0);
    CHECK_EQ(store_commune_get(c, a, "2A004", &got, &err), 0);
    CHECK_STR(got.name, "Ajaccio");
    struct gu_arena *ic = gu_arena_new(0);
    CHECK_EQ(store_query(c, ic, "PRAGMA integrity_check", NULL, 0, &r, &err),
             0);
    CHECK_STR(store_text(r, 0, 0), "ok");
    gu_arena_free(ic);
    store_release(c);
    store_close(b);

    /* A :memory: store backs up too. */
    s = mem_store();
    rm_db(bak);
    CHECK_EQ(store_backup(s, bak, &err), 0);
    store_close(s);
    b = NULL;
    CHECK_EQ(store_open(burl, &b, &err), 0);
    CHECK_EQ(store_acquire(b, &c, &err), 0);
    CHECK_EQ(store_commune_get(c, a, "99001", &got, &err), 0);
    store_release(c);
    store_close(b);

    rm_db(db);
    rm_db(bak);
    CHECK_EQ(rmdir(dir), 0);
    gu_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* Concurrency                                                         */
/* ------------------------------------------------------------------ */

#define WRITES 150

struct writer {
    struct store *s;
    int id;
    int failures;
};

static void *
writer_main(void *arg)
{
    struct writer *w = arg;
    struct gu_err err;

    for (int i = 0; i < WRITES; i++) {
        struct store_conn *c = NULL;
        if (store_acquire(w->s, &c, &err) < 0) {
            w->failures++;
            continue;
        }
        /* A transaction, a bare write, and a read, as requests do. */
        struct store_val p[2] = {STORE_I(w->id), STORE_I(i)};
        if (store_begin(c, &err) < 0 ||
            store_exec(c, "INSERT INTO cw (w, i) VALUES (?, ?)", p, 2, &err) <
                0 ||
            store_commit(c, &err) < 0) {
            fprintf(stderr, "writer %d: %s\n", w->id, err.msg);
            store_rollback(c);
            w->failures++;
        }
        if (store_audit_add(c, "99001", "test", "cw.write", NULL, NULL, NULL,
                            &err) < 0 ||
            store_rate_hit(c, "cw", 1000000, 3600, NULL, &err) < 0) {
            fprintf(stderr, "writer %d: %s\n", w->id, err.msg);
            w->failures++;
        }
        if (count(c, "SELECT count(*) FROM cw") < 0)
            w->failures++;
        store_release(c);
    }
    return NULL;
}

static void
run_writers(struct store *s)
{
    struct store_conn *c = NULL;
    struct writer w[2] = {{s, 1, 0}, {s, 2, 0}};
    pthread_t th[2];
    struct gu_err err;

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(
        store_exec(c, "CREATE TABLE cw (w INTEGER, i INTEGER)", NULL, 0, &err),
        0);
    store_release(c);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ(w[0].failures, 0);
    CHECK_EQ(w[1].failures, 0);
    CHECK_EQ(store_error_count(s), 0);
    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(count(c, "SELECT count(*) FROM cw"), 2 * WRITES);
    CHECK_EQ(count(c, "SELECT count(*) FROM audit"), 2 * WRITES);
    CHECK_EQ(count(c, "SELECT hits FROM rate_limits WHERE key = 'cw'"),
             2 * WRITES);
    store_release(c);
}

static void
test_concurrent_writers(void)
{
    char dir[64], db[128], url[160];
    const struct store_migration *core;
    struct store *s = NULL;
    struct gu_err err;
    size_t n;

    /* In memory... */
    s = mem_store();
    run_writers(s);
    store_close(s);
    if (th_pg_conninfo())
        return; /* the rest is SQLite's WAL file */

    /* ...and in a WAL file. */
    temp_dir(dir, sizeof(dir));
    snprintf(db, sizeof(db), "%s/cw.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", db);
    s = NULL;
    CHECK_EQ(store_open(url, &s, &err), 0);
    core = store_core_migrations(&n);
    CHECK_EQ(store_migrate(s, &core, &n, 1, NULL, &err), 0);
    run_writers(s);
    store_close(s);
    rm_db(db);
    CHECK_EQ(rmdir(dir), 0);
}

/* ------------------------------------------------------------------ */
/* Allocation failures                                                 */
/* ------------------------------------------------------------------ */

/*
 * Make the 1st, 2nd... allocation fail until the call succeeds: each
 * failing run must return GU_ENOMEM (never crash, never leak: ASan).
 */
static void
alloc_failures_sqlite(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_err err;
    int rc, k;

    /* store_open */
    for (k = 1; k < 100; k++) {
        struct store *t = NULL;
        gu_alloc_fail_after(k);
        rc = store_open("sqlite::memory:", &t, &err);
        gu_alloc_fail_reset();
        if (rc == 0) {
            store_close(t);
            break;
        }
        CHECK_EQ(rc, GU_ENOMEM);
        CHECK(t == NULL);
    }
    CHECK(k > 1 && k < 100);

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(store_audit_add(c, "99001", "a", "b.c", "t", "d", "r", &err), 0);

    /* Queries with results, through a new statement each round. */
    for (k = 1; k < 100; k++) {
        struct gu_arena *a = gu_arena_new(0);
        struct store_commune *list = NULL;
        size_t n = 0;
        CHECK(a != NULL);
        gu_alloc_fail_after(k);
        rc = store_commune_list(c, a, &list, &n, &err);
        gu_alloc_fail_reset();
        gu_arena_free(a);
        if (rc == 0) {
            CHECK_EQ(n, 1);
            break;
        }
        CHECK_EQ(rc, GU_ENOMEM);
    }
    CHECK(k > 1 && k < 100);

    for (k = 1; k < 100; k++) {
        struct gu_arena *a = gu_arena_new(0);
        struct store_audit *v = NULL;
        struct store_audit_filter f = {.insee = "99001", .action_prefix = "b."};
        size_t n = 0;
        gu_alloc_fail_after(k);
        rc = store_audit_list(c, a, &f, &v, &n, &err);
        gu_alloc_fail_reset();
        gu_arena_free(a);
        if (rc == 0) {
            CHECK_EQ(n, 1);
            break;
        }
        CHECK_EQ(rc, GU_ENOMEM);
    }
    CHECK(k > 1 && k < 100);

    /* Functions with their own scratch arena. */
    char tok[64];
    for (k = 1; k < 100; k++) {
        int retry = 0;
        gu_alloc_fail_after(k);
        rc = store_rate_hit(c, "oom", 1000, 60, &retry, &err);
        gu_alloc_fail_reset();
        if (rc == 0)
            break;
        CHECK_EQ(rc, GU_ENOMEM);
    }
    CHECK(k > 1 && k < 100);
    CHECK_EQ(
        store_session_create(c, 1, "99001", 60, tok, sizeof(tok), NULL, &err),
        GU_ENOTFOUND); /* no agent 1 yet */
    int64_t id = 0;
    CHECK_EQ(store_agent_create(c, "oom", "Oom", "", PW, false, "99001",
                                STORE_ROLE_AGENT, &id, &err),
             0);
    CHECK_EQ(
        store_session_create(c, id, "99001", 60, tok, sizeof(tok), NULL, &err),
        0);
    for (k = 1; k < 100; k++) {
        struct store_session ss;
        gu_alloc_fail_after(k);
        rc = store_session_get(c, tok, &ss, &err);
        gu_alloc_fail_reset();
        if (rc == 0) {
            CHECK_EQ(ss.agent_id, id);
            break;
        }
        CHECK_EQ(rc, GU_ENOMEM);
    }
    CHECK(k > 1 && k < 100);
    gu_alloc_fail_after(1);
    CHECK_EQ(store_agent_role(c, id, "99001"), STORE_ROLE_NONE);
    gu_alloc_fail_reset();
    CHECK_EQ(store_agent_role(c, id, "99001"), STORE_ROLE_AGENT);
    /* The connection is still sound after all this. */
    CHECK_EQ(count(c, "SELECT count(*) FROM audit"), 1);
    CHECK(!store_in_tx(c));
    store_release(c);
    store_close(s);
}

static int ext_made, ext_freed;

static void *
ext_make(struct store *s)
{
    (void)s;
    ext_made++;
    return &ext_made;
}

static void
ext_free(void *p)
{
    CHECK(p == &ext_made);
    ext_freed++;
}

static void *
ext_fail(struct store *s)
{
    (void)s;
    return NULL;
}

/* State attached to a store is per store, made once, freed on close. */
static void
test_ext(void)
{
    struct gu_err err;
    struct store *a = NULL, *b = NULL;
    struct store_conn *c = NULL;

    ext_made = ext_freed = 0;
    CHECK_EQ(store_open("sqlite::memory:", &a, &err), 0);
    CHECK_EQ(store_open("sqlite::memory:", &b, &err), 0);
    if (!a || !b)
        goto out;
    CHECK(store_ext(a, "t.ext", ext_make, ext_free) == &ext_made);
    CHECK(store_ext(a, "t.ext", ext_make, ext_free) == &ext_made);
    CHECK_EQ(ext_made, 1);
    CHECK(store_ext(b, "t.ext", ext_make, ext_free) == &ext_made);
    CHECK_EQ(ext_made, 2); /* another store gets its own */
    CHECK(store_ext(a, "t.none", ext_fail, ext_free) == NULL);
    CHECK_EQ(store_acquire(a, &c, &err), 0);
    CHECK(store_conn_store(c) == a);
    store_release(c);
out:
    store_close(a);
    CHECK_EQ(ext_freed, 1);
    store_close(b);
    CHECK_EQ(ext_freed, 2);
}

/*
 * Background checkpoints: after store_checkpoint_background(), commits
 * leave the write-ahead log alone and store_checkpoint() empties it into
 * the database (a file store; :memory: has no log and is a no-op).
 */
static void
checkpoint_sqlite(void)
{
    char dir[] = "/tmp/gu_ckptXXXXXX", url[300], wal[300];
    struct gu_err err;
    struct store *s = NULL;
    struct store_conn *c = NULL;
    struct stat st;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(url, sizeof(url), "sqlite:%s/g.db", dir);
    snprintf(wal, sizeof(wal), "%s/g.db-wal", dir);
    CHECK_EQ(store_open(url, &s, &err), 0);
    if (!s)
        return;
    store_checkpoint_background(s);
    CHECK_EQ(store_acquire(s, &c, &err), 0);
    CHECK_EQ(store_exec(c, "CREATE TABLE t (x TEXT)", NULL, 0, &err), 0);
    /* Well past the automatic threshold of 1,000 pages (4 MB). */
    for (int i = 0; i < 1500; i++) {
        struct store_val p[1] = {STORE_T("0123456789abcdef0123456789abcdef"
                                         "0123456789abcdef0123456789abcdef"
                                         "0123456789abcdef0123456789abcdef")};
        CHECK_EQ(store_begin(c, &err), 0);
        for (int k = 0; k < 20; k++)
            store_exec(c, "INSERT INTO t VALUES (?)", p, 1, &err);
        CHECK_EQ(store_commit(c, &err), 0);
    }
    store_release(c);
    CHECK_EQ(stat(wal, &st), 0);
    off_t before = st.st_size;
    /* About 3 frames a commit: with automatic checkpoints the log would
     * be reused from its start and stay near 1,000 frames (4 MB). */
    CHECK(before > 8 * 1024 * 1024);
    CHECK_EQ(store_checkpoint(s, &err), 0);
    /* The log is copied (then reused from its start by later writes). */
    CHECK_EQ(store_acquire(s, &c, &err), 0);
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    CHECK_EQ(
        store_query(c, a, "PRAGMA wal_checkpoint(PASSIVE)", NULL, 0, &r, &err),
        0);
    /* busy = 0, log frames = checkpointed frames */
    if (r && r->nrows == 1) {
        CHECK_EQ(store_int(r, 0, 0), 0);
        CHECK_EQ(store_int(r, 0, 1), store_int(r, 0, 2));
    }
    gu_arena_free(a);
    store_release(c);
    store_close(s);
    char path[300];
    snprintf(path, sizeof(path), "%s/g.db", dir);
    unlink(path);
    unlink(wal);
    snprintf(path, sizeof(path), "%s/g.db-shm", dir);
    unlink(path);
    rmdir(dir);
    /* A :memory: store has no log: nothing to do, no error. */
    CHECK_EQ(store_open("sqlite::memory:", &s, &err), 0);
    store_checkpoint_background(s);
    CHECK_EQ(store_checkpoint(s, &err), 0);
    store_close(s);
}

/* ------------------------------------------------------------------ */
/* The portable subset, the same on both backends                     */
/* ------------------------------------------------------------------ */

struct locker {
    const char *url;
    atomic_int *committed; /* set by the first writer just before COMMIT */
    int seen;              /* what the second writer saw once it got in */
    int rc;
};

static void *
second_writer(void *arg)
{
    struct locker *l = arg;
    struct store *s = NULL;
    struct store_conn *c = NULL;
    struct gu_err err;

    l->rc = store_open(l->url, &s, &err);
    if (l->rc == 0)
        l->rc = store_acquire(s, &c, &err);
    if (l->rc == 0)
        l->rc = store_begin(c, &err);
    if (l->rc == 0) {
        l->seen = atomic_load(l->committed);
        store_rollback(c);
    }
    store_release(c);
    store_close(s);
    return NULL;
}

static void
test_pg_dialect(void)
{
    struct store *s = mem_store();
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    struct gu_err err;
    const double tenth = 0.1 + 0.2;

    CHECK_EQ(store_acquire(s, &c, &err), 0);
    /* INTEGER is 64-bit, REAL a double, BLOB bytes. */
    CHECK_EQ(store_exec(c,
                        "CREATE TABLE d (k TEXT PRIMARY KEY, i INTEGER,"
                        " r REAL, b BLOB)",
                        NULL, 0, &err),
             0);
    struct store_val p[4] = {STORE_T("a"), STORE_I(INT64_C(1) << 40),
                             STORE_D(tenth), STORE_B("\0\1", 2)};
    CHECK_EQ(store_exec(c, "INSERT INTO d VALUES (?, ?, ?, ?)", p, 4, &err), 0);
    CHECK_EQ(store_query(c, a, "SELECT i, r, b, CAST(i AS INTEGER) FROM d",
                         NULL, 0, &r, &err),
             0);
    CHECK_EQ(store_int(r, 0, 0), INT64_C(1) << 40);
    CHECK(store_real(r, 0, 1) == tenth); /* bit for bit */
    CHECK_EQ(store_cell(r, 0, 2)->type, STORE_BLOB);
    CHECK_EQ(store_cell(r, 0, 2)->n, 2);
    CHECK_EQ(store_int(r, 0, 3), INT64_C(1) << 40);
    /* Numbered parameters, reused; char() and instr(). */
    struct store_val q[2] = {STORE_T("a"), STORE_T("b")};
    CHECK_EQ(store_query(c, a,
                         "SELECT ?2 || ?1 || char(10), ?1, instr('abc', 'c')",
                         q, 2, &r, &err),
             0);
    CHECK_STR(store_text(r, 0, 0), "ba\n");
    CHECK_STR(store_text(r, 0, 1), "a");
    CHECK_EQ(store_int(r, 0, 2), 3);
    /* LIKE ignores ASCII case; a '?' inside a string is not a parameter. */
    CHECK_EQ(count(c, "SELECT count(*) FROM d WHERE 'Mairie?' LIKE 'mai%?'"),
             1);
    /* A sum of integers is an integer; an average may not be. */
    CHECK_EQ(store_exec(c, "INSERT INTO d (k, i) VALUES ('b', 1)", NULL, 0,
                        &err),
             0);
    CHECK_EQ(store_query(c, a, "SELECT sum(i), avg(i * 1.0) FROM d", NULL, 0,
                         &r, &err),
             0);
    CHECK_EQ(store_cell(r, 0, 0)->type, STORE_INT);
    CHECK_EQ(store_int(r, 0, 0), (INT64_C(1) << 40) + 1);
    CHECK(store_real(r, 0, 1) > 5e11);
    /*
     * A failed statement inside a transaction undoes only itself: the
     * transaction goes on and commits the rest.
     */
    CHECK_EQ(store_begin(c, &err), 0);
    CHECK_EQ(store_exec(c, "INSERT INTO d (k) VALUES ('c')", NULL, 0, &err), 0);
    CHECK_EQ(store_exec(c, "INSERT INTO d (k) VALUES ('a')", NULL, 0, &err),
             GU_ECONFLICT);
    CHECK_EQ(store_exec(c, "INSERT INTO d (k) VALUES ('e')", NULL, 0, &err), 0);
    /*
     * A text parameter compared with an integer column (SQLite converts
     * it), first met inside the transaction; then a statement that is
     * wrong: neither ends the transaction.
     */
    {
        struct store_val one[1] = {STORE_T("1")};
        CHECK_EQ(store_query(c, a, "SELECT count(*) FROM d WHERE i = ?", one,
                             1, &r, &err),
                 0);
        CHECK_EQ(store_int(r, 0, 0), 1);
        CHECK_EQ(store_exec(c, "SELECT nothing FROM d", NULL, 0, &err),
                 GU_EDB);
        /* a read that fails only when it runs (a text that is no number,
           compared with an integer column) */
        struct store_val bad[1] = {STORE_T("pas un nombre")};
        if (th_pg_conninfo())
            CHECK_EQ(store_query(c, a, "SELECT count(*) FROM d WHERE i = ?",
                                 bad, 1, &r, &err),
                     GU_EDB);
    }
    CHECK_EQ(store_exec(c, "INSERT INTO d (k) VALUES ('f')", NULL, 0, &err), 0);
    CHECK_EQ(store_commit(c, &err), 0);
    CHECK_EQ(count(c, "SELECT count(*) FROM d"), 5);
    /* The audit log refuses changes on both backends, as a conflict. */
    CHECK_EQ(store_audit_add(c, "99001", "t", "x.y", "", "", "", &err), 0);
    CHECK_EQ(store_exec(c, "DELETE FROM audit", NULL, 0, &err), GU_ECONFLICT);
    store_release(c);

    /*
     * Write transactions take turns across stores on one database (two
     * nodes): the second begins only once the first has committed. A
     * PostgreSQL schema is shared by URL; SQLite's :memory: is not.
     */
    if (th_pg_conninfo()) {
        static char url[1200];
        atomic_int committed = 0;
        struct locker l = {url, &committed, -1, -1};
        pthread_t th;
        struct store *s2 = NULL;

        snprintf(url, sizeof(url), "%s", th_store_url());
        CHECK_EQ(store_open(url, &s2, &err), 0);
        CHECK_EQ(store_acquire(s2, &c, &err), 0);
        CHECK_EQ(store_begin(c, &err), 0);
        CHECK_EQ(pthread_create(&th, NULL, second_writer, &l), 0);
        usleep(300 * 1000); /* give it time to queue; correctness only */
        atomic_store(&committed, 1);
        CHECK_EQ(store_commit(c, &err), 0);
        pthread_join(th, NULL);
        CHECK_EQ(l.rc, 0);
        CHECK_EQ(l.seen, 1);
        store_release(c);
        store_close(s2);
    }
    gu_arena_free(a);
    store_close(s);
}

static void
test_pool_shared_memory(void)
{
    SQLITE_ONLY();
    pool_shared_memory_sqlite();
}

static void
test_file_db_and_backup(void)
{
    SQLITE_ONLY();
    file_db_and_backup_sqlite();
}

static void
test_checkpoint(void)
{
    SQLITE_ONLY();
    checkpoint_sqlite();
}

static void
test_alloc_failures(void)
{
    SQLITE_ONLY();
    alloc_failures_sqlite();
}

TESTS(T(test_ext), T(test_pg_dialect), T(test_checkpoint), T(test_open_errors), T(test_migrations),
      T(test_query_types), T(test_errors_and_conflict), T(test_transactions),
      T(test_pool_shared_memory), T(test_pool_exhausted),
      T(test_pool_thread_affinity), T(test_communes), T(test_agents), T(test_roles), T(test_auth_lockout), T(test_sessions),
      T(test_tokens), T(test_rate_limit), T(test_audit),
      T(test_file_db_and_backup), T(test_concurrent_writers),
      T(test_alloc_failures))
