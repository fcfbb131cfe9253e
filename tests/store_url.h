/*
 * store_url.h - the database a test opens.
 *
 * th_store_url() gives "sqlite::memory:" (a fresh private database per
 * store_open) unless this is the PostgreSQL run (th_pg_conninfo()): then each
 * call creates a fresh PostgreSQL schema in that database and returns a
 * "postgres:" URL whose search_path is that schema, so the test sees an
 * empty database of its own, exactly as with :memory:. The schemas are
 * dropped when the process exits. CMake registers the store and HTTP
 * tests twice, the second time (`*_pg`) with GUICHET_TEST_PG set.
 *
 * Only for tests: the URL lives in a static buffer until the next call.
 */
#ifndef GU_TEST_STORE_URL_H
#define GU_TEST_STORE_URL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define TH_PG_SCHEMAS_MAX 64

static char th_pg_schemas[TH_PG_SCHEMAS_MAX][48];
static int th_pg_nschemas;

/*
 * The conninfo of the PostgreSQL test database when this run is the
 * PostgreSQL variant (GUICHET_TEST_BACKEND=postgres, set by CMake on the
 * `*_pg` tests), else NULL. GUICHET_TEST_PG (scripts/pgtest.sh prints
 * it) defaults to "dbname=guichet_test".
 */
static inline const char *
th_pg_conninfo(void)
{
    const char *b = getenv("GUICHET_TEST_BACKEND");
    const char *ci = getenv("GUICHET_TEST_PG");

    if (!b || strcmp(b, "postgres") != 0)
        return NULL;
    return ci && *ci ? ci : "dbname=guichet_test";
}

/* Run one statement on the test database itself (no schema). */
static inline int
th_pg_exec(const char *sql)
{
    char url[1024];
    struct store *s = NULL;
    struct store_conn *c = NULL;
    struct gu_err err;
    int rc;

    gu_err_clear(&err);
    snprintf(url, sizeof(url), "postgres:%s", th_pg_conninfo());
    rc = store_open(url, &s, &err);
    if (rc == 0)
        rc = store_acquire(s, &c, &err);
    if (rc == 0)
        rc = store_exec(c, sql, NULL, 0, &err);
    if (rc != 0)
        fprintf(stderr, "test store: %s: %s\n", sql, err.msg);
    store_release(c);
    store_close(s);
    return rc;
}

static inline void
th_pg_drop_schemas(void)
{
    char sql[96];

    for (int i = 0; i < th_pg_nschemas; i++) {
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %.47s CASCADE",
                 th_pg_schemas[i]);
        (void)th_pg_exec(sql);
    }
    th_pg_nschemas = 0;
}

static inline const char *
th_store_url(void)
{
    static char url[1200];
    static unsigned seq;
    char name[48], sql[96];

    if (!th_pg_conninfo())
        return "sqlite::memory:";
    if (th_pg_nschemas == TH_PG_SCHEMAS_MAX) {
        fprintf(stderr, "test store: too many schemas\n");
        abort();
    }
    snprintf(name, sizeof(name), "gu_t%ld_%u_%u", (long)getpid(), seq++,
             (unsigned)rand() % 100000u);
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", name);
    if (th_pg_exec(sql) != 0) {
        fprintf(stderr, "test store: cannot create a schema in \"%s\"\n",
                th_pg_conninfo());
        abort();
    }
    if (th_pg_nschemas == 0)
        atexit(th_pg_drop_schemas);
    snprintf(th_pg_schemas[th_pg_nschemas++], sizeof(th_pg_schemas[0]), "%s",
             name);
    snprintf(url, sizeof(url), "postgres:%s options='-c search_path=%s'",
             th_pg_conninfo(), name);
    return url;
}

/*
 * Make every `event` ("INSERT", "UPDATE", "DELETE") on `table` fail from
 * now on, on either backend (a trigger named `name`), to test that a
 * caller's transaction undoes all its work; th_drop_trigger() removes it.
 */
static inline int
th_fail_trigger(struct store_conn *c, const char *name, const char *event,
                const char *table)
{
    char sql[400];
    struct gu_err err;
    int rc;

    if (strcmp(store_backend(store_conn_store(c)), "postgres") == 0) {
        snprintf(sql, sizeof(sql),
                 "CREATE FUNCTION %s() RETURNS trigger AS $$ BEGIN RAISE"
                 " EXCEPTION '%s'; END; $$ LANGUAGE plpgsql",
                 name, name);
        rc = store_exec(c, sql, NULL, 0, &err);
        if (rc == 0) {
            snprintf(sql, sizeof(sql),
                     "CREATE TRIGGER %s BEFORE %s ON %s FOR EACH ROW EXECUTE"
                     " FUNCTION %s()",
                     name, event, table, name);
            rc = store_exec(c, sql, NULL, 0, &err);
        }
    } else {
        snprintf(sql, sizeof(sql),
                 "CREATE TRIGGER %s BEFORE %s ON %s BEGIN SELECT"
                 " RAISE(ABORT, '%s'); END",
                 name, event, table, name);
        rc = store_exec(c, sql, NULL, 0, &err);
    }
    if (rc != 0)
        fprintf(stderr, "test store: trigger %s: %s\n", name, err.msg);
    return rc;
}

static inline int
th_drop_trigger(struct store_conn *c, const char *name, const char *table)
{
    char sql[200];
    struct gu_err err;
    bool pg = strcmp(store_backend(store_conn_store(c)), "postgres") == 0;
    int rc;

    if (pg)
        snprintf(sql, sizeof(sql), "DROP TRIGGER %s ON %s", name, table);
    else
        snprintf(sql, sizeof(sql), "DROP TRIGGER %s", name);
    rc = store_exec(c, sql, NULL, 0, &err);
    if (rc == 0 && pg) {
        snprintf(sql, sizeof(sql), "DROP FUNCTION %s()", name);
        rc = store_exec(c, sql, NULL, 0, &err);
    }
    if (rc != 0)
        fprintf(stderr, "test store: drop trigger %s: %s\n", name, err.msg);
    return rc;
}

#endif
