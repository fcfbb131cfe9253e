/*
 * test_store_copy.c - unit tests of src/store/store_copy.c: the table
 * fingerprint's sensitivity (a real's last bit, a value's type, a value
 * moved between columns) and insensitivity to row order; a copy of a
 * small schema with foreign keys, reals, blobs and a seeded counter row
 * between two in-memory SQLite databases (the copy into PostgreSQL is
 * tests/cli/test_migrate.sh's, with GUICHET_TEST_PG); the refusals
 * (destination not empty, source's migrations older or newer than the
 * program's).
 */
#include <string.h>

#include "core/core.h"
#include "harness.h"
#include "store/store.h"
#include "store/store_copy.h"

/* Names sort as kids < parents: only the foreign-key order is right. */
#define T_V1                                                                   \
    "CREATE TABLE parents (id $PK, name TEXT NOT NULL, score REAL,"            \
    " data BLOB);\n"                                                           \
    "CREATE TABLE kids (id $PK,"                                               \
    " parent_id BIGINT NOT NULL REFERENCES parents(id), note TEXT);\n"         \
    "CREATE TABLE counters (name TEXT PRIMARY KEY, next_id BIGINT NOT NULL);\n" \
    "INSERT INTO counters (name, next_id) VALUES ('a', 1);\n"
static const struct store_migration v1[] = {
    {"t", 1, T_V1},
};
/* The same first version, spelt again: an array element is not a
   constant expression for every compiler (clang refuses v1[0] here). */
static const struct store_migration v2[] = {
    {"t", 1, T_V1},
    {"t", 2, "CREATE TABLE later (id $PK);\n"},
};

static struct store *
open_migrated(const char *url, const struct store_migration *m, size_t n)
{
    const struct store_migration *lists[1] = {m};
    size_t counts[1] = {n};
    struct store *s = NULL;
    struct gu_err err;

    CHECK_EQ(gu_crypto_init(), 0);
    gu_log_set_level(GU_LOG_WARN); /* no line per migration */
    gu_err_clear(&err);
    CHECK_EQ(store_open(url, &s, &err), 0);
    if (s)
        CHECK_EQ(store_migrate(s, lists, counts, 1, NULL, &err), 0);
    return s;
}

static void
exec(struct store *s, const char *sql, const struct store_val *p, size_t n)
{
    struct store_conn *c = NULL;
    struct gu_err err;

    gu_err_clear(&err);
    CHECK_EQ(store_acquire(s, &c, &err), 0);
    if (c && store_exec(c, sql, p, n, &err) < 0)
        TH_FAIL("%s: %s", sql, err.msg);
    store_release(c);
}

static int64_t
query_int(struct store *s, const char *sql)
{
    struct gu_arena *a = gu_arena_new(1024);
    struct store_conn *c = NULL;
    struct store_rows *r = NULL;
    struct gu_err err;
    int64_t v = -1;

    gu_err_clear(&err);
    CHECK_EQ(store_acquire(s, &c, &err), 0);
    if (c && store_query(c, a, sql, NULL, 0, &r, &err) == 0 && r->nrows)
        v = store_int(r, 0, 0);
    store_release(c);
    gu_arena_free(a);
    return v;
}

/* The source: three parents (odd reals, blobs), kids, a moved counter. */
static struct store *
source(void)
{
    static const unsigned char bytes[] = {0, 1, 0xff, 0x80};
    struct store *s = open_migrated("sqlite::memory:", v1, 1);
    struct store_val p[3];

    if (!s)
        return NULL;
    p[0] = STORE_T("Zoé « l'été » \"");
    p[1] = STORE_D(0.1 + 0.2);
    p[2] = STORE_B((const char *)bytes, sizeof(bytes));
    exec(s, "INSERT INTO parents (name, score, data) VALUES (?, ?, ?)", p, 3);
    p[0] = STORE_T("");
    p[1] = STORE_D(4.9406564584124654e-324);
    p[2] = STORE_NUL;
    exec(s, "INSERT INTO parents (name, score, data) VALUES (?, ?, ?)", p, 3);
    p[0] = STORE_T("trois");
    p[1] = STORE_NUL;
    p[2] = STORE_B((const char *)bytes, 1);
    exec(s, "INSERT INTO parents (name, score, data) VALUES (?, ?, ?)", p, 3);
    exec(s, "DELETE FROM parents WHERE id = 2", NULL, 0); /* a hole */
    exec(s,
         "INSERT INTO kids (parent_id, note) VALUES (1, 'a'), (3, NULL),"
         " (3, 'c')",
         NULL, 0);
    exec(s, "UPDATE counters SET next_id = 42", NULL, 0);
    /* A full-text index (and its shadow tables) is not copied. */
    exec(s, "CREATE VIRTUAL TABLE ftx USING fts5(body)", NULL, 0);
    exec(s, "INSERT INTO ftx (body) VALUES ('bonjour')", NULL, 0);
    return s;
}

static void
opts_v(struct store_copy_opts *o, const struct store_migration *const *lists,
       const size_t *counts)
{
    memset(o, 0, sizeof(*o));
    o->lists = lists;
    o->counts = counts;
    o->nlists = 1;
    o->batch_rows = 2; /* several pages even for tiny tables */
}

static void
test_copy_roundtrip(void)
{
    const struct store_migration *lists[1] = {v1};
    size_t counts[1] = {1};
    struct gu_arena *a = gu_arena_new(4096);
    struct store *src = source(), *dst = NULL;
    struct store_copy_opts o;
    struct store_copy_report rep;
    struct gu_err err;
    int ip = -1, ik = -1;

    gu_err_clear(&err);
    CHECK_EQ(store_open("sqlite::memory:", &dst, &err), 0);
    opts_v(&o, lists, counts);
    CHECK_EQ(store_copy(src, dst, a, &o, &rep, &err), 0);
    CHECK(rep.verified);
    CHECK_EQ(rep.stage, STORE_COPY_DONE);
    CHECK_EQ(rep.ntables, 3);
    CHECK_EQ(rep.rows, 2 + 3 + 1);
    for (size_t i = 0; i < rep.ntables; i++) {
        CHECK(rep.tables[i].ok);
        if (strcmp(rep.tables[i].name, "parents") == 0)
            ip = (int)i;
        if (strcmp(rep.tables[i].name, "kids") == 0)
            ik = (int)i;
    }
    CHECK(ip >= 0 && ik > ip);
    /* The seeded counter row gave way to the source's. */
    CHECK_EQ(query_int(dst, "SELECT next_id FROM counters"), 42);
    CHECK_EQ(query_int(dst, "SELECT count(*) FROM counters"), 1);
    /* Exact real, and new ids continue after the copied ones. */
    CHECK_EQ(query_int(dst, "SELECT count(*) FROM parents WHERE score = "
                            "0.30000000000000004"),
             1);
    exec(dst, "INSERT INTO parents (name) VALUES ('nouveau')", NULL, 0);
    CHECK_EQ(query_int(dst, "SELECT id FROM parents WHERE name = 'nouveau'"),
             4);

    /* Again: the destination now holds rows. */
    CHECK_EQ(store_copy(src, dst, a, &o, &rep, &err), GU_ECONFLICT);
    CHECK_EQ(rep.stage, STORE_COPY_SCHEMA);
    CHECK_CONTAINS(err.user, "contient déjà des données");
    CHECK_CONTAINS(err.user, "parents");
    store_close(dst);
    store_close(src);
    gu_arena_free(a);
}

static void
test_copy_versions(void)
{
    const struct store_migration *l1[1] = {v1}, *l2[1] = {v2};
    size_t c1[1] = {1}, c2[1] = {2};
    struct gu_arena *a = gu_arena_new(4096);
    struct store *old = source(), *newer = NULL, *dst = NULL;
    struct store_copy_opts o;
    struct store_copy_report rep;
    struct gu_err err;

    gu_err_clear(&err);
    CHECK_EQ(store_open("sqlite::memory:", &dst, &err), 0);
    opts_v(&o, l2, c2); /* the program knows v2, the source has v1 */
    CHECK_EQ(store_copy(old, dst, a, &o, &rep, &err), GU_ECONFLICT);
    CHECK_CONTAINS(err.user, "pas à jour");
    CHECK_CONTAINS(err.user, "t v2");
    newer = open_migrated("sqlite::memory:", v2, 2);
    opts_v(&o, l1, c1); /* the source has v2, the program only v1 */
    CHECK_EQ(store_copy(newer, dst, a, &o, &rep, &err), GU_ECONFLICT);
    CHECK_CONTAINS(err.user, "plus récente");
    CHECK_EQ(query_int(dst, "SELECT count(*) FROM sqlite_master"), 0);
    store_close(newer);
    store_close(old);
    store_close(dst);
    gu_arena_free(a);
}

/* Two tables referencing each other: no order fits, said up front. */
static void
test_copy_cycle(void)
{
    static const struct store_migration cyc[] = {
        {"c", 1,
         "CREATE TABLE a (id $PK, b_id BIGINT REFERENCES b(id));\n"
         "CREATE TABLE b (id $PK, a_id BIGINT REFERENCES a(id));\n"},
    };
    const struct store_migration *lists[1] = {cyc};
    size_t counts[1] = {1};
    struct gu_arena *a = gu_arena_new(4096);
    struct store *src = open_migrated("sqlite::memory:", cyc, 1), *dst = NULL;
    struct store_copy_opts o;
    struct store_copy_report rep;
    struct gu_err err;

    gu_err_clear(&err);
    CHECK_EQ(store_open("sqlite::memory:", &dst, &err), 0);
    opts_v(&o, lists, counts);
    CHECK_EQ(store_copy(src, dst, a, &o, &rep, &err), GU_ECONFLICT);
    CHECK_EQ(rep.stage, STORE_COPY_SOURCE);
    CHECK_CONTAINS(err.user, "circulaires");
    store_close(dst);
    store_close(src);
    gu_arena_free(a);
}

/* Fingerprint of table `t` (columns k, v, w; key k). */
static void
sum_of(struct store_conn *c, const char *t, unsigned char out[32],
       int64_t *rows)
{
    static const char *const cols[] = {"k", "v", "w"};
    static const char *const key[] = {"k"};
    struct gu_err err;

    gu_err_clear(&err);
    CHECK_EQ(store_copy_sum(c, t, cols, 3, key, 1, 2, rows, out, &err), 0);
}

static void
test_sum(void)
{
    static const char *const ins[][3] = {
        /* reference, then one change each: must differ */
        {"a", "(1, 0.1 + 0.2, 'x'), (2, NULL, 'ab')", "same"},
        {"b", "(1, 0.3, 'x'), (2, NULL, 'ab')", "diff"},         /* last bit */
        {"c", "(1, 0.1 + 0.2, 'x'), (2, '', 'ab')", "diff"},     /* NULL/'' */
        {"d", "(1, 0.1 + 0.2, x'78'), (2, NULL, 'ab')", "diff"}, /* blob */
        {"e", "(1, 0.1 + 0.2, 'x'), (2, 'a', 'b')", "diff"},     /* moved */
        {"f", "(1, 0.1 + 0.2, 'x'), (2, NULL, 'ab'), (3, 1, 1)", "diff"},
        {"g", "(1, 0.1 + 0.2, 'x'), (2, NULL, 'ab'), (3, 1, 1.0)", "diff"},
        /* same rows, other insertion order: must be equal */
        {"h", "(2, NULL, 'ab'), (1, 0.1 + 0.2, 'x')", "same"},
    };
    unsigned char ref[32], s[32];
    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct gu_err err;
    int64_t n = 0;

    CHECK_EQ(gu_crypto_init(), 0);
    gu_err_clear(&err);
    CHECK_EQ(store_open("sqlite::memory:", &st, &err), 0);
    CHECK_EQ(store_acquire(st, &c, &err), 0);
    for (size_t i = 0; i < GU_ARRAY_LEN(ins); i++) {
        char sql[256];

        /* No declared types: SQLite keeps each value's own type. */
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE %s (k INTEGER PRIMARY KEY, v, w)", ins[i][0]);
        CHECK_EQ(store_exec(c, sql, NULL, 0, &err), 0);
        snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES %s", ins[i][0],
                 ins[i][1]);
        CHECK_EQ(store_exec(c, sql, NULL, 0, &err), 0);
    }
    sum_of(c, "a", ref, &n);
    CHECK_EQ(n, 2);
    for (size_t i = 1; i < GU_ARRAY_LEN(ins); i++) {
        bool same;

        sum_of(c, ins[i][0], s, &n);
        same = memcmp(ref, s, sizeof(s)) == 0;
        if (same != (strcmp(ins[i][2], "same") == 0))
            TH_FAIL("table %s: fingerprint %s", ins[i][0],
                    same ? "unchanged" : "changed");
    }
    store_release(c);
    store_close(st);
}

TESTS(T(test_sum), T(test_copy_roundtrip), T(test_copy_versions),
      T(test_copy_cycle))
