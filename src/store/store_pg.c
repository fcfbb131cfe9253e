/*
 * store_pg.c - the PostgreSQL backend of the store (libpq).
 *
 * URL: "postgres:<libpq conninfo>" ("postgres:dbname=guichet host=/run/
 * postgresql") or a libpq URI ("postgres://user@host/db"). Each pool
 * connection is one PGconn, in UTF-8 and UTC, with a 5 s lock timeout
 * (as SQLite's busy timeout).
 *
 * The domains write one portable SQL subset (store.h); this file turns it
 * into PostgreSQL's, outside quotes and comments:
 *   - `?` placeholders become $1, $2...;
 *   - type names keep SQLite's meaning: INTEGER is 64-bit (BIGINT), REAL
 *     is a double (DOUBLE PRECISION), BLOB is BYTEA;
 *   - LIKE is case-insensitive for ASCII in SQLite: ILIKE here; instr()
 *     is strpos(), char() chr(), a blob literal X'CAFE' '\xCAFE'::bytea;
 *   - SQLite's numbered parameters ?N are PostgreSQL's $N.
 * Parameters are sent typed (int8, float8, text, bytea in binary), and
 * results read back by column type: integers and integral NUMERICs (what
 * SUM() of integers gives) as STORE_INT, floats and other NUMERICs as
 * STORE_REAL, bytea as STORE_BLOB, booleans as 0/1, everything else as
 * text. Statements are prepared once per connection and cached, keyed by
 * the SQL and the parameter types.
 *
 * Semantics kept from SQLite:
 *   - one writer at a time: store_begin() takes a transaction-scoped
 *     advisory lock, so a read-then-write inside a transaction (a slot's
 *     remaining capacity, a queue item's claim) is exactly as safe across
 *     nodes as SQLite's BEGIN IMMEDIATE is across threads;
 *   - a failed statement does not end the caller's transaction: inside
 *     one, every statement runs under a savepoint (sent with it in one
 *     round trip) and a failure rolls back to it (PostgreSQL would
 *     otherwise refuse every later statement);
 *   - constraint violations (and a trigger's RAISE, such as the audit
 *     log's append-only guard) are GU_ECONFLICT; a lock wait beyond the
 *     timeout, a deadlock or a serialisation failure are GU_EBUSY.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define CACHE_SLOTS 512 /* power of two */
#define CACHE_MAX 384   /* deallocate everything beyond this many */
#define MAX_PARAMS 4096

/*
 * The advisory lock that serialises write transactions: one per schema
 * (the nodes of one instance share it; two instances, or two tests, in
 * schemas of one database do not wait for each other).
 */
#define WRITE_LOCK_KEY "7165431"

/* PostgreSQL type OIDs (pg_type.dat; stable across versions). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700,
};

struct pg_state {
    char *conninfo;
};

struct pg_ent {
    char *key; /* SQL + "\x01" + parameter type letters; NULL = empty */
    uint64_t hash;
    char *sql;        /* rewritten SQL (inside key's allocation) */
    unsigned id;      /* prepared statement "gu_<id>" */
    int nparams;      /* $n placeholders in sql */
    bool returns_changes; /* INSERT/UPDATE/DELETE */
    bool untyped;         /* text parameters sent in text form, untyped */
};

struct pg_conn {
    PGconn *db;
    struct pg_ent *ents;
    size_t used;
    unsigned next_id;
};

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static int
code_of_state(const char *state)
{
    if (!state)
        return GU_EDB;
    /* Class 23: integrity constraint violation; P0001: RAISE EXCEPTION. */
    if (strncmp(state, "23", 2) == 0 || strcmp(state, "P0001") == 0)
        return GU_ECONFLICT;
    /* Lock timeout, deadlock, serialisation failure: try again later. */
    if (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "40001") == 0)
        return GU_EBUSY;
    if (strcmp(state, "53200") == 0) /* out of memory */
        return GU_ENOMEM;
    return GU_EDB;
}

static int
fail_res(struct pg_conn *c, PGresult *res, const char *what, struct gu_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    int code = code_of_state(state);
    size_t n;

    if (!msg || !*msg)
        msg = PQerrorMessage(c->db);
    n = strcspn(msg, "\n");
    gu_err_set(err, code, NULL, NULL, "postgres %s: %.*s (%s)", what, (int)n,
               msg, state ? state : "-");
    if (code == GU_EBUSY && err)
        snprintf(err->user, sizeof(err->user), "%s",
                 "Le service est très chargé : réessayez dans un instant.");
    return code;
}

/* ------------------------------------------------------------------ */
/* SQL dialect                                                         */
/* ------------------------------------------------------------------ */

static bool
word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || (unsigned char)ch >= 0x80;
}

/* Case-insensitive "is the word at p exactly w" (w upper-case). */
static bool
word_is(const char *p, size_t len, const char *w)
{
    size_t k;

    for (k = 0; k < len; k++) {
        char ch = p[k];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (!w[k] || ch != w[k])
            return false;
    }
    return w[k] == '\0';
}

static const struct {
    const char *word; /* upper-case */
    const char *pg;
    bool call; /* only as a function name (followed by '(') */
} word_map[] = {
    {"INTEGER", "BIGINT", false}, {"REAL", "DOUBLE PRECISION", false},
    {"BLOB", "BYTEA", false},     {"LIKE", "ILIKE", false},
    {"INSTR", "STRPOS", true},    {"CHAR", "CHR", true},
};

/*
 * Rewrite the portable SQL into PostgreSQL's. `nparams` (may be NULL) gets
 * the number of parameters; NULL `nparams` means a script: `?` and `;`
 * are left alone. Returns -1 when out of memory or too many parameters,
 * -2 when a query holds several statements. Quoted
 * strings, quoted identifiers, comments and $$ bodies are copied as is.
 */
static int
rewrite(const char *sql, struct gu_buf *b, int *nparams)
{
    const char *p = sql;
    int n = 0, numbered = 0;

    while (*p) {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            const char *e = p + 1;
            for (;;) {
                if (!*e)
                    break;
                if (*e == q) {
                    if (e[1] == q) { /* doubled quote */
                        e += 2;
                        continue;
                    }
                    e++;
                    break;
                }
                e++;
            }
            gu_buf_append(b, p, (size_t)(e - p));
            p = e;
        } else if (p[0] == '-' && p[1] == '-') {
            size_t k = strcspn(p, "\n");
            gu_buf_append(b, p, k);
            p += k;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            size_t k = e ? (size_t)(e + 2 - p) : strlen(p);
            gu_buf_append(b, p, k);
            p += k;
        } else if (p[0] == '$' && p[1] == '$') {
            const char *e = strstr(p + 2, "$$");
            size_t k = e ? (size_t)(e + 2 - p) : strlen(p);
            gu_buf_append(b, p, k);
            p += k;
        } else if (*p == ';' && nparams) {
            /* One statement per query: only blanks may follow. */
            if (p[strspn(p, " \t\r\n;")] != '\0')
                return -2;
            p++;
        } else if (*p == '?' && nparams && p[1] >= '1' && p[1] <= '9') {
            /* SQLite's numbered form ?N, the same as $N. */
            long k = strtol(p + 1, (char **)&p, 10);
            if (k > MAX_PARAMS)
                return -1;
            if (k > numbered)
                numbered = (int)k;
            gu_buf_printf(b, "$%ld", k);
        } else if (*p == '?' && nparams) {
            if (n >= MAX_PARAMS)
                return -1;
            gu_buf_printf(b, "$%d", ++n);
            p++;
        } else if ((*p == 'X' || *p == 'x') && p[1] == '\'' &&
                   (p == sql || !word_char(p[-1]))) {
            /* A blob literal X'CAFE' is bytea '\xCAFE' (X'' is a bit string). */
            const char *e = strchr(p + 2, '\'');
            if (!e)
                e = p + strlen(p);
            gu_buf_puts(b, "'\\x");
            gu_buf_append(b, p + 2, (size_t)(e - p - 2));
            gu_buf_puts(b, "'::bytea");
            p = *e ? e + 1 : e;
        } else if (word_char(*p) && !(*p >= '0' && *p <= '9')) {
            const char *e = p;
            size_t i;
            while (word_char(*e))
                e++;
            for (i = 0; i < GU_ARRAY_LEN(word_map); i++) {
                if (word_is(p, (size_t)(e - p), word_map[i].word) &&
                    (!word_map[i].call || *e == '('))
                    break;
            }
            if (i < GU_ARRAY_LEN(word_map))
                gu_buf_puts(b, word_map[i].pg);
            else
                gu_buf_append(b, p, (size_t)(e - p));
            p = e;
        } else {
            gu_buf_append(b, p, 1);
            p++;
        }
    }
    if (nparams)
        *nparams = n > numbered ? n : numbered;
    return b->oom ? -1 : 0;
}

/* The first keyword of a statement, upper-cased into w (cap bytes). */
static void
first_word(const char *sql, char *w, size_t cap)
{
    size_t k = 0;

    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '\r' ||
           *sql == '(')
        sql++;
    while (word_char(*sql) && k + 1 < cap) {
        char ch = *sql++;
        w[k++] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
    }
    w[k] = '\0';
}

/* ------------------------------------------------------------------ */
/* Store and connections                                               */
/* ------------------------------------------------------------------ */

static int
pg_open(const char *target, void **state, struct gu_err *err)
{
    struct pg_state *st;

    *state = NULL;
    st = gu_calloc(1, sizeof(*st));
    if (!st || !(st->conninfo = gu_strdup(target))) {
        gu_free(st);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    }
    *state = st;
    return 0;
}

static void
pg_close(void *state)
{
    struct pg_state *st = state;

    if (!st)
        return;
    gu_free(st->conninfo);
    gu_free(st);
}

static void
cache_forget(struct pg_conn *c)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        gu_free(c->ents[i].key);
        c->ents[i].key = NULL;
    }
    c->used = 0;
}

/* Forget every prepared statement, on the server too. */
static void
cache_flush(struct pg_conn *c)
{
    PGresult *res;

    cache_forget(c);
    if (PQstatus(c->db) == CONNECTION_OK &&
        PQtransactionStatus(c->db) == PQTRANS_IDLE) {
        res = PQexec(c->db, "DEALLOCATE ALL");
        PQclear(res);
    }
}

static void
pg_conn_close(void *bc)
{
    struct pg_conn *c = bc;

    if (!c)
        return;
    if (c->ents) {
        cache_forget(c);
        gu_free(c->ents);
    }
    PQfinish(c->db);
    gu_free(c);
}

static int
pg_conn_open(void *state, void **bc, struct gu_err *err)
{
    struct pg_state *st = state;
    struct pg_conn *c;
    PGresult *res;
    int rc;

    *bc = NULL;
    c = gu_calloc(1, sizeof(*c));
    if (!c)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    c->ents = gu_calloc(CACHE_SLOTS, sizeof(*c->ents));
    if (!c->ents) {
        gu_free(c);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    }
    c->db = PQconnectdb(st->conninfo);
    if (!c->db || PQstatus(c->db) != CONNECTION_OK) {
        const char *m = c->db ? PQerrorMessage(c->db) : "out of memory";
        rc = gu_err_set(err, GU_EDB, NULL,
                        "Impossible d'ouvrir la base de données.",
                        "postgres connect: %.*s", (int)strcspn(m, "\n"), m);
        pg_conn_close(c);
        return rc;
    }
    res = PQexec(c->db, "SET client_encoding = 'UTF8';"
                        "SET TIME ZONE 'UTC';"
                        "SET lock_timeout = '5s';"
                        "SET client_min_messages = warning");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = fail_res(c, res, "setup", err);
        PQclear(res);
        pg_conn_close(c);
        return rc;
    }
    PQclear(res);
    *bc = c;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Statement cache                                                     */
/* ------------------------------------------------------------------ */

static uint64_t
fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static char
type_letter(enum store_type t)
{
    switch (t) {
    case STORE_INT:
        return 'i';
    case STORE_REAL:
        return 'd';
    case STORE_TEXT:
        return 't';
    case STORE_BLOB:
        return 'b';
    default:
        return 'n';
    }
}

static Oid
type_oid(enum store_type t)
{
    switch (t) {
    case STORE_INT:
        return OID_INT8;
    case STORE_REAL:
        return OID_FLOAT8;
    case STORE_TEXT:
        return OID_TEXT;
    case STORE_BLOB:
        return OID_BYTEA;
    default:
        return 0; /* NULL: let the server infer */
    }
}

static int simple(struct pg_conn *c, const char *sql, ExecStatusType want,
                  struct gu_err *err);

static bool
has_text(const struct store_val *params, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (params[k].type == STORE_TEXT)
            return true;
    return false;
}

/* Undefined function or operator, or mismatched types (42883, 42804). */
static bool
retry_untyped(PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    return state &&
           (strcmp(state, "42883") == 0 || strcmp(state, "42804") == 0);
}

/*
 * The prepared statement for `sql` with these parameter types, preparing
 * it on a miss.
 */
static int
stmt_get(struct pg_conn *c, const char *sql, const struct store_val *params,
         size_t n, struct pg_ent **out, struct gu_err *err)
{
    size_t slen = strlen(sql), klen = slen + 1 + n;
    struct gu_buf b;
    struct pg_ent *e;
    char word[16], name[24];
    Oid types[64], *tp = types;
    bool untyped = false, in_tx;
    PGresult *res;
    char *key;
    uint64_t h;
    size_t i;
    int np = 0, rc;

    gu_buf_init(&b);
    key = gu_malloc(klen + 1);
    if (!key)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    memcpy(key, sql, slen);
    key[slen] = '\x01';
    for (size_t k = 0; k < n; k++)
        key[slen + 1 + k] = type_letter(params[k].type);
    key[klen] = '\0';
    h = fnv1a(key, klen);
    i = (size_t)h & (CACHE_SLOTS - 1);
    while (c->ents[i].key) {
        if (c->ents[i].hash == h && strcmp(c->ents[i].key, key) == 0) {
            gu_free(key);
            *out = &c->ents[i];
            return 0;
        }
        i = (i + 1) & (CACHE_SLOTS - 1);
    }
    rc = rewrite(sql, &b, &np);
    if (rc == -2) {
        rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                        "store: expected exactly one statement: %.80s", sql);
        goto out;
    }
    if (rc < 0) {
        rc = gu_err_set(err, b.oom ? GU_ENOMEM : GU_EINVAL, NULL, NULL,
                        "store: cannot rewrite SQL: %.80s", sql);
        goto out;
    }
    if ((size_t)np != n) {
        rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                        "store: statement wants %d parameters, got %zu", np, n);
        goto out;
    }
    if (n > GU_ARRAY_LEN(types)) {
        tp = gu_malloc(n * sizeof(*tp));
        if (!tp) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL,
                            "store: out of memory");
            goto out;
        }
    }
    for (size_t k = 0; k < n; k++)
        tp[k] = type_oid(params[k].type);
    if (c->used >= CACHE_MAX)
        cache_flush(c);
    snprintf(name, sizeof(name), "gu_%u", c->next_id);
    /*
     * A failed prepare inside a transaction would end it (PostgreSQL
     * refuses everything after an error): prepare under a savepoint
     * there. Once per statement and connection.
     */
    in_tx = PQtransactionStatus(c->db) == PQTRANS_INTRANS;
    if (in_tx && (rc = simple(c, "SAVEPOINT gu_p", PGRES_COMMAND_OK, err)) < 0)
        goto out;
    res = PQprepare(c->db, name, b.p ? b.p : "", (int)n, tp);
    if (in_tx && PQresultStatus(res) != PGRES_COMMAND_OK) {
        struct gu_err e2;
        gu_err_clear(&e2);
        (void)simple(c, "ROLLBACK TO SAVEPOINT gu_p", PGRES_COMMAND_OK, &e2);
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK && has_text(params, n) &&
        retry_untyped(res)) {
        /*
         * SQLite compares a text parameter with an integer column by
         * converting it; here the types must match. Let the server infer
         * the text parameters' types from their context instead (the
         * value is parsed as that type, or refused if it is not one).
         */
        PQclear(res);
        for (size_t k = 0; k < n; k++)
            if (params[k].type == STORE_TEXT)
                tp[k] = 0;
        res = PQprepare(c->db, name, b.p ? b.p : "", (int)n, tp);
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            untyped = true;
        } else if (in_tx) {
            struct gu_err e2;
            gu_err_clear(&e2);
            (void)simple(c, "ROLLBACK TO SAVEPOINT gu_p", PGRES_COMMAND_OK,
                         &e2);
        }
    }
    if (in_tx) {
        struct gu_err e2;
        gu_err_clear(&e2);
        (void)simple(c, "RELEASE SAVEPOINT gu_p", PGRES_COMMAND_OK, &e2);
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        /* The statement's text (never its parameters) names the bug. */
        char what[200];
        snprintf(what, sizeof(what), "prepare [%.160s]", sql);
        rc = fail_res(c, res, what, err);
        PQclear(res);
        goto out;
    }
    PQclear(res);
    i = (size_t)h & (CACHE_SLOTS - 1);
    while (c->ents[i].key)
        i = (i + 1) & (CACHE_SLOTS - 1);
    e = &c->ents[i];
    /* One allocation: the key, then the rewritten SQL. */
    {
        size_t rlen = b.n;
        char *both = gu_malloc(klen + 1 + rlen + 1);
        if (!both) {
            /* Prepared but not cached: drop it on the server. */
            char dsql[48];
            snprintf(dsql, sizeof(dsql), "DEALLOCATE %s", name);
            PQclear(PQexec(c->db, dsql));
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL,
                            "store: out of memory");
            goto out;
        }
        memcpy(both, key, klen + 1);
        memcpy(both + klen + 1, b.p ? b.p : "", rlen);
        both[klen + 1 + rlen] = '\0';
        e->key = both;
        e->sql = both + klen + 1;
    }
    e->hash = h;
    e->untyped = untyped;
    e->id = c->next_id++;
    e->nparams = np;
    first_word(sql, word, sizeof(word));
    e->returns_changes = strcmp(word, "INSERT") == 0 ||
                         strcmp(word, "UPDATE") == 0 ||
                         strcmp(word, "DELETE") == 0;
    c->used++;
    *out = e;
    rc = 0;
out:
    if (tp != types)
        gu_free(tp);
    gu_free(key);
    gu_buf_fini(&b);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

/* A NUMERIC's text without a fractional part (or with only zeros). */
static bool
numeric_integral(const char *s)
{
    const char *dot = strchr(s, '.');

    if (strchr(s, 'e') || strchr(s, 'E') || strchr(s, 'N'))
        return false;
    if (dot) {
        for (const char *q = dot + 1; *q; q++)
            if (*q != '0')
                return false;
    }
    return strlen(s) < 19;
}

static int
copy_cell(PGresult *res, int row, int col, Oid type, struct gu_arena *a,
          struct store_val *v, struct gu_err *err)
{
    const char *s;
    int len;
    char *p;

    memset(v, 0, sizeof(*v));
    if (PQgetisnull(res, row, col)) {
        v->type = STORE_NULL;
        return 0;
    }
    s = PQgetvalue(res, row, col);
    len = PQgetlength(res, row, col);
    switch (type) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        v->type = STORE_INT;
        v->i = strtoll(s, NULL, 10);
        return 0;
    case OID_BOOL:
        v->type = STORE_INT;
        v->i = s[0] == 't';
        return 0;
    case OID_FLOAT4:
    case OID_FLOAT8:
        v->type = STORE_REAL;
        v->d = strtod(s, NULL);
        return 0;
    case OID_NUMERIC:
        if (numeric_integral(s)) {
            v->type = STORE_INT;
            v->i = strtoll(s, NULL, 10);
        } else {
            v->type = STORE_REAL;
            v->d = strtod(s, NULL);
        }
        return 0;
    case OID_BYTEA: {
        size_t n = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)s, &n);
        if (!raw)
            goto oom;
        p = gu_arena_alloc(a, n + 1);
        if (!p) {
            PQfreemem(raw);
            goto oom;
        }
        if (n)
            memcpy(p, raw, n);
        p[n] = '\0';
        PQfreemem(raw);
        v->type = STORE_BLOB;
        v->s = p;
        v->n = n;
        return 0;
    }
    default:
        p = gu_arena_alloc(a, (size_t)len + 1);
        if (!p)
            goto oom;
        memcpy(p, s, (size_t)len);
        p[len] = '\0';
        v->type = STORE_TEXT;
        v->s = p;
        v->n = (size_t)len;
        return 0;
    }
oom:
    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
}

static int
copy_result(PGresult *res, struct gu_arena *a, struct store_rows **out,
            struct gu_err *err)
{
    struct store_rows *r = gu_arena_zalloc(a, sizeof(*r));
    int nrows = PQntuples(res), ncols = PQnfields(res);

    if (!r)
        goto oom;
    r->ncols = (size_t)ncols;
    if (ncols) {
        r->names = gu_arena_alloc(a, (size_t)ncols * sizeof(*r->names));
        if (!r->names)
            goto oom;
        for (int k = 0; k < ncols; k++) {
            r->names[k] = gu_arena_strdup(a, PQfname(res, k));
            if (!r->names[k])
                goto oom;
        }
        if (nrows) {
            r->vals = gu_arena_alloc(a, (size_t)nrows * (size_t)ncols *
                                            sizeof(*r->vals));
            if (!r->vals)
                goto oom;
        }
        for (int row = 0; row < nrows; row++) {
            for (int k = 0; k < ncols; k++) {
                int rc = copy_cell(res, row, k, PQftype(res, k), a,
                                   &r->vals[(size_t)row * (size_t)ncols +
                                            (size_t)k],
                                   err);
                if (rc < 0)
                    return rc;
            }
        }
        r->nrows = (size_t)nrows;
    }
    *out = r;
    return 0;
oom:
    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

/* One parameterless command; its status must be `want`. */
static int
simple(struct pg_conn *c, const char *sql, ExecStatusType want,
       struct gu_err *err)
{
    PGresult *res = PQexec(c->db, sql);
    int rc = 0;

    if (PQresultStatus(res) != want)
        rc = fail_res(c, res, "exec", err);
    PQclear(res);
    return rc;
}

/* Transaction control runs as text, never prepared. */
static bool
is_tx_control(const char *word)
{
    return strcmp(word, "BEGIN") == 0 || strcmp(word, "COMMIT") == 0 ||
           strcmp(word, "ROLLBACK") == 0 || strcmp(word, "SAVEPOINT") == 0 ||
           strcmp(word, "RELEASE") == 0 || strcmp(word, "END") == 0;
}

/*
 * Run a prepared statement between SAVEPOINT and RELEASE in one round
 * trip (libpq's pipeline mode). Returns the statement's result; when it
 * failed, the savepoint is still open and the caller rolls back to it.
 * A failure of the savepoint commands themselves comes back as a
 * (fatal) result too.
 */
static PGresult *
exec_in_savepoint(struct pg_conn *c, const char *name, int n,
                  const char *const *vals, const int *lens, const int *fmts)
{
    PGresult *res = NULL, *r;
    int k = 0;

    if (!PQenterPipelineMode(c->db))
        return PQexecPrepared(c->db, name, n, vals, lens, fmts, 0);
    if (!PQsendQueryParams(c->db, "SAVEPOINT gu_q", 0, NULL, NULL, NULL, NULL,
                           0) ||
        !PQsendQueryPrepared(c->db, name, n, vals, lens, fmts, 0) ||
        !PQsendQueryParams(c->db, "RELEASE SAVEPOINT gu_q", 0, NULL, NULL,
                           NULL, NULL, 0) ||
        !PQpipelineSync(c->db)) {
        /* Nothing usable was sent: leave the pipeline and say why. */
        while ((r = PQgetResult(c->db)) != NULL)
            PQclear(r);
        (void)PQexitPipelineMode(c->db);
        return PQmakeEmptyPGresult(c->db, PGRES_FATAL_ERROR);
    }
    /* Three commands, each ended by a NULL, then the sync point. */
    while (k < 3) {
        r = PQgetResult(c->db);
        if (!r) {
            k++;
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (k == 1 && !res) {
            res = r; /* the statement's own result */
        } else if (PQresultStatus(r) == PGRES_FATAL_ERROR && (!res ||
                   PQresultStatus(res) == PGRES_COMMAND_OK ||
                   PQresultStatus(res) == PGRES_TUPLES_OK)) {
            /* SAVEPOINT or RELEASE failed: report that instead. */
            PQclear(res);
            res = r;
        } else {
            PQclear(r);
        }
    }
    if (k == 3) {
        r = PQgetResult(c->db); /* the sync point */
        PQclear(r);
    }
    (void)PQexitPipelineMode(c->db);
    return res ? res : PQmakeEmptyPGresult(c->db, PGRES_FATAL_ERROR);
}

static int
pg_query(void *bc, struct gu_arena *a, const char *sql,
         const struct store_val *params, size_t n, struct store_rows **out,
         int64_t *changes, struct gu_err *err)
{
    struct pg_conn *c = bc;
    const char *vals_small[32], **vals = vals_small;
    int lens_small[32], *lens = lens_small;
    int fmts_small[32], *fmts = fmts_small;
    char nums_small[32][32], (*nums)[32] = nums_small;
    char *owned_small[32], **owned = owned_small; /* untyped text copies */
    size_t nowned = 0;
    struct pg_ent *e = NULL;
    bool savepoint = false;
    PGresult *res = NULL;
    char word[16], name[24];
    ExecStatusType status;
    int rc;

    if (PQstatus(c->db) != CONNECTION_OK) {
        /* The server went away (restart, failover): try once more. */
        cache_forget(c);
        PQreset(c->db);
        if (PQstatus(c->db) != CONNECTION_OK)
            return gu_err_set(err, GU_EDB, NULL,
                              "La base de données ne répond pas.",
                              "postgres: connection lost");
    }
    first_word(sql, word, sizeof(word));
    if (n == 0 && is_tx_control(word)) {
        res = PQexec(c->db, sql);
        status = PQresultStatus(res);
        rc = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK
                 ? 0
                 : fail_res(c, res, "exec", err);
        /* COMMIT of a transaction a failure ended says ROLLBACK. */
        if (rc == 0 && (strcmp(word, "COMMIT") == 0 ||
                        strcmp(word, "END") == 0) &&
            strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
            rc = gu_err_set(err, GU_EDB, NULL, NULL,
                            "postgres: the transaction had failed and was "
                            "rolled back");
        PQclear(res);
        /*
         * BEGIN is sent with the lock that follows it: when the lock
         * times out the transaction is open but failed, and the store
         * does not know it began. End it here, or the connection would
         * refuse everything until its next ROLLBACK.
         */
        if (rc < 0 && strcmp(word, "BEGIN") == 0 &&
            PQtransactionStatus(c->db) != PQTRANS_IDLE)
            PQclear(PQexec(c->db, "ROLLBACK"));
        if (rc == 0 && out) {
            *out = gu_arena_zalloc(a, sizeof(**out));
            if (!*out)
                rc = gu_err_set(err, GU_ENOMEM, NULL, NULL,
                                "store: out of memory");
        }
        return rc;
    }
    rc = stmt_get(c, sql, params, n, &e, err);
    if (rc < 0)
        return rc;
    /* Most statements have few parameters: no allocation for them. */
    if (n > GU_ARRAY_LEN(vals_small)) {
        vals = gu_malloc(n * sizeof(*vals));
        lens = gu_malloc(n * sizeof(*lens));
        fmts = gu_malloc(n * sizeof(*fmts));
        nums = gu_malloc(n * sizeof(*nums));
        owned = gu_malloc(n * sizeof(*owned));
    }
    if (!vals || !lens || !fmts || !nums || !owned) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        const struct store_val *v = &params[k];
        fmts[k] = 0;
        lens[k] = 0;
        switch (v->type) {
        case STORE_INT:
            snprintf(nums[k], sizeof(nums[k]), "%lld", (long long)v->i);
            vals[k] = nums[k];
            break;
        case STORE_REAL:
            snprintf(nums[k], sizeof(nums[k]), "%.17g", v->d);
            vals[k] = nums[k];
            break;
        case STORE_TEXT:
            if (v->n > (size_t)0x3fffffff) {
                rc = gu_err_set(err, GU_ETOOBIG, NULL, NULL,
                                "store: parameter %zu too long", k + 1);
                goto out;
            }
            if (e->untyped) {
                /* Parsed by the server as its inferred type: text form. */
                char *t = gu_malloc(v->n + 1);
                if (!t) {
                    rc = gu_err_set(err, GU_ENOMEM, NULL, NULL,
                                    "store: out of memory");
                    goto out;
                }
                if (v->n)
                    memcpy(t, v->s, v->n);
                t[v->n] = '\0';
                owned[nowned++] = t;
                vals[k] = t;
                break;
            }
            /*
             * Sent in binary (a text's binary form is its bytes): the
             * length is then explicit, and STORE_TN() slices need no NUL.
             */
            vals[k] = v->s && v->n ? v->s : "";
            lens[k] = (int)v->n;
            fmts[k] = 1;
            break;
        case STORE_BLOB:
            if (v->n > (size_t)0x3fffffff) {
                rc = gu_err_set(err, GU_ETOOBIG, NULL, NULL,
                                "store: parameter %zu too long", k + 1);
                goto out;
            }
            vals[k] = v->n ? v->s : "";
            lens[k] = (int)v->n;
            fmts[k] = 1;
            break;
        default:
            vals[k] = NULL;
            break;
        }
    }
    /*
     * Inside a transaction every statement runs under a savepoint: a
     * failure (a conflict, a bad cast at execution) undoes only itself,
     * as on SQLite. A read takes no transaction id: cheap.
     */
    savepoint = PQtransactionStatus(c->db) == PQTRANS_INTRANS;
    snprintf(name, sizeof(name), "gu_%u", e->id);
    if (savepoint)
        res = exec_in_savepoint(c, name, (int)n, vals, lens, fmts);
    else
        res = PQexecPrepared(c->db, name, (int)n, vals, lens, fmts, 0);
    status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        rc = fail_res(c, res, "query", err);
        if (savepoint) {
            /* Only this statement is undone; the transaction goes on. */
            struct gu_err e2;
            gu_err_clear(&e2);
            (void)simple(c, "ROLLBACK TO SAVEPOINT gu_q", PGRES_COMMAND_OK,
                         &e2);
            (void)simple(c, "RELEASE SAVEPOINT gu_q", PGRES_COMMAND_OK, &e2);
        }
        goto out;
    }
    if (e->returns_changes) {
        int64_t ch = strtoll(PQcmdTuples(res), NULL, 10);
        if (changes)
            *changes = ch;
        if (out) {
            rc = copy_result(res, a, out, err);
            if (rc < 0)
                goto out;
            (*out)->changes = ch;
        }
    } else if (out) {
        rc = copy_result(res, a, out, err);
        if (rc < 0)
            goto out;
    }
    rc = 0;
out:
    PQclear(res);
    if (vals != vals_small)
        gu_free(vals);
    if (lens != lens_small)
        gu_free(lens);
    if (fmts != fmts_small)
        gu_free(fmts);
    if (nums != nums_small)
        gu_free(nums);
    for (size_t k = 0; k < nowned; k++)
        gu_free(owned[k]);
    if (owned != owned_small)
        gu_free(owned);
    return rc;
}

static int
pg_exec_script(void *bc, const char *sql, struct gu_err *err)
{
    struct pg_conn *c = bc;
    struct gu_buf b;
    PGresult *res;
    ExecStatusType status;
    int rc = 0;

    gu_buf_init(&b);
    if (rewrite(sql, &b, NULL) < 0) {
        gu_buf_fini(&b);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    }
    /* Several statements: PQexec stops at the first error. */
    res = PQexec(c->db, b.p ? b.p : "");
    status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
        status != PGRES_EMPTY_QUERY)
        rc = fail_res(c, res, "exec", err);
    PQclear(res);
    gu_buf_fini(&b);
    /* Tables changed: cached plans may no longer fit. */
    cache_forget(c);
    return rc;
}

static const struct store_token_map pg_tokens[] = {
    {"$PK", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
    {"$NOW", "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)"},
    {"$TEXT", "TEXT"},
    {"$BLOB", "BYTEA"},
    {"$REAL", "DOUBLE PRECISION"},
};

const struct store_ops store_pg_ops = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .conn_open = pg_conn_open,
    .conn_close = pg_conn_close,
    .query = pg_query,
    .exec_script = pg_exec_script,
    .backup = NULL, /* pg_dump does it better */
    .auto_checkpoint = NULL,
    .checkpoint = NULL,
    .begin_sql = "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY
                 ", hashtext(current_schema()))",
    .serial_writes = false,
    .tokens = pg_tokens,
    .ntokens = GU_ARRAY_LEN(pg_tokens),
};
