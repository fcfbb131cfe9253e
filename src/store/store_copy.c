/*
 * store_copy.c - copy a Guichet database from SQLite into any store, and
 * prove the copy (see store_copy.h for the steps and the guarantees).
 *
 * Only the public store_query() family is used, on both sides: the
 * destination's backend is whatever store_open() gave. Rows are read in
 * pages and written with multi-row INSERTs whose parameters are the
 * source's result cells as they come (INT, REAL, TEXT, BLOB, NULL), so a
 * value is never turned into text and back.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/store_copy.h"

#define DEFAULT_BATCH 500
/* Parameters of one INSERT: under SQLite's historical 999 and libpq's
 * limits, whatever the table's width. */
#define MAX_PARAMS 900
/* Bytes of text and blobs in one INSERT before it is sent. */
#define MAX_INSERT_BYTES (1u << 20)
/*
 * A page is materialised whole in memory: pages start small and grow up
 * to the batch size while their rows stay under this many bytes, so a
 * table of attachments or models never loads hundreds of them at once.
 */
#define PAGE_BYTES (16u << 20)
#define FIRST_PAGE 16

/* A table to copy, as read from the source's catalogue. Arena-owned. */
struct tdef {
    const char *name;
    const char **cols;
    size_t ncols;
    const char **key; /* primary key columns, in key order */
    size_t nkey;
    const char *serial; /* the single INTEGER key column, or NULL */
    const char **deps;  /* tables it references (foreign keys) */
    size_t ndeps;
    bool placed;
    int64_t seed_rows; /* rows the migrations themselves insert */
    unsigned char seed_sum[STORE_COPY_SUM_LEN];
    bool seeded; /* the destination holds exactly those: replace them */
};

/*
 * A French message in err->user, keeping the backend's English err->msg
 * (for logs) and appending it as a detail: the reader is the town's IT
 * running a one-off tool, who needs the database's own words.
 */
static int fail(struct gu_err *err, int code, bool detail, const char *fmt, ...)
    GU_PRINTF(4, 5);

static int
fail(struct gu_err *err, int code, bool detail, const char *fmt, ...)
{
    char what[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    /* A long detail is cut: the log line keeps all of err->msg. */
    if (detail && err->msg[0]) {
        if (snprintf(err->user, sizeof(err->user), "%s (détail : %.120s)", what,
                     err->msg) >= (int)sizeof(err->user))
            err->user[sizeof(err->user) - 1] = '\0';
    } else {
        snprintf(err->user, sizeof(err->user), "%s", what);
    }
    if (!err->msg[0])
        snprintf(err->msg, sizeof(err->msg), "store_copy: %s",
                 gu_status_name(code));
    err->code = code;
    return code;
}

/* "name" with embedded quotes doubled, in the arena. */
static const char *
quote(struct gu_arena *a, const char *name)
{
    size_t n = strlen(name), k = 0;
    char *q = gu_arena_alloc(a, 2 * n + 3);

    if (!q)
        return NULL;
    q[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"')
            q[k++] = '"';
        q[k++] = name[i];
    }
    q[k++] = '"';
    q[k] = '\0';
    return q;
}

/* Append `"a", "b"` for n names to b. */
static void
put_names(struct gu_buf *b, struct gu_arena *a, const char *const *names,
          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *q = quote(a, names[i]);

        if (i)
            gu_buf_puts(b, ", ");
        if (!q)
            b->oom = true;
        else
            gu_buf_puts(b, q);
    }
}

static int
oom(struct gu_err *err)
{
    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store_copy: out of memory");
}

/* ------------------------------------------------------------------ */
/* Fingerprints                                                        */
/* ------------------------------------------------------------------ */

static void
put_u64(crypto_generichash_state *h, uint64_t v)
{
    unsigned char b[8];

    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    crypto_generichash_update(h, b, sizeof(b));
}

static void
put_cell(crypto_generichash_state *h, const struct store_val *v)
{
    unsigned char tag;
    uint64_t bits;

    switch (v->type) {
    case STORE_INT:
        tag = 'I';
        crypto_generichash_update(h, &tag, 1);
        put_u64(h, (uint64_t)v->i);
        break;
    case STORE_REAL:
        /* The bit pattern: 0.1 + 0.2 and -0.0 must come back exactly. */
        tag = 'R';
        memcpy(&bits, &v->d, sizeof(bits));
        crypto_generichash_update(h, &tag, 1);
        put_u64(h, bits);
        break;
    case STORE_TEXT:
    case STORE_BLOB:
        tag = v->type == STORE_TEXT ? 'T' : 'B';
        crypto_generichash_update(h, &tag, 1);
        put_u64(h, (uint64_t)v->n);
        if (v->n)
            crypto_generichash_update(h, (const unsigned char *)v->s, v->n);
        break;
    case STORE_NULL:
    default:
        tag = 'N';
        crypto_generichash_update(h, &tag, 1);
        break;
    }
}

/* acc += d modulo 2^256, both little-endian. */
static void
add256(unsigned char acc[32], const unsigned char d[32])
{
    unsigned carry = 0;

    for (int i = 0; i < 32; i++) {
        unsigned s = (unsigned)acc[i] + d[i] + carry;

        acc[i] = (unsigned char)(s & 0xff);
        carry = s >> 8;
    }
}

/* Bytes of text and blobs in one result row. */
static size_t
row_bytes(const struct store_rows *r, size_t row)
{
    size_t n = 0;

    for (size_t k = 0; k < r->ncols; k++) {
        const struct store_val *v = &r->vals[row * r->ncols + k];

        if (v->type == STORE_TEXT || v->type == STORE_BLOB)
            n += v->n;
    }
    return n;
}

/* The next page's size after a page of r's rows: PAGE_BYTES at most. */
static size_t
next_page(const struct store_rows *r, size_t batch)
{
    size_t bytes = 0, avg, n;

    for (size_t i = 0; i < r->nrows; i++)
        bytes += row_bytes(r, i) + 16 * r->ncols;
    if (r->nrows == 0)
        return batch;
    avg = bytes / r->nrows + 1;
    n = PAGE_BYTES / avg;
    return n < 1 ? 1 : n > batch ? batch : n;
}

/* SELECT cols FROM t ORDER BY key LIMIT ? OFFSET ?, in the arena. */
static const char *
page_sql(struct gu_arena *a, const char *table, const char *const *cols,
         size_t ncols, const char *const *key, size_t nkey)
{
    struct gu_buf b;
    const char *qt = quote(a, table), *out = NULL;

    if (!qt)
        return NULL;
    gu_buf_init(&b);
    gu_buf_puts(&b, "SELECT ");
    put_names(&b, a, cols, ncols);
    gu_buf_printf(&b, " FROM %s ORDER BY ", qt);
    if (nkey)
        put_names(&b, a, key, nkey);
    else
        put_names(&b, a, cols, ncols);
    gu_buf_puts(&b, " LIMIT ? OFFSET ?");
    if (!b.oom && b.p)
        out = gu_arena_strdup(a, b.p);
    gu_buf_fini(&b);
    return out;
}

int
store_copy_sum(struct store_conn *c, const char *table, const char *const *cols,
               size_t ncols, const char *const *key, size_t nkey, size_t batch,
               int64_t *rows, unsigned char sum[STORE_COPY_SUM_LEN],
               struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(4096);
    unsigned char acc[32] = {0}, d[32];
    crypto_generichash_state h;
    const char *sql;
    int64_t n = 0;
    int rc = 0;

    *rows = 0;
    memset(sum, 0, STORE_COPY_SUM_LEN);
    if (!a)
        return oom(err);
    if (batch == 0)
        batch = DEFAULT_BATCH;
    sql = page_sql(a, table, cols, ncols, key, nkey);
    if (!sql) {
        rc = oom(err);
        goto out;
    }
    for (size_t page = batch < FIRST_PAGE ? batch : FIRST_PAGE;;) {
        struct gu_arena *pa = gu_arena_new(64 * 1024);
        struct store_val p[2] = {STORE_I(page), STORE_I(n)};
        struct store_rows *r = NULL;
        size_t got;

        if (!pa) {
            rc = oom(err);
            goto out;
        }
        rc = store_query(c, pa, sql, p, 2, &r, err);
        if (rc < 0) {
            gu_arena_free(pa);
            goto out;
        }
        for (size_t i = 0; i < r->nrows; i++) {
            crypto_generichash_init(&h, NULL, 0, sizeof(d));
            for (size_t k = 0; k < r->ncols; k++)
                put_cell(&h, &r->vals[i * r->ncols + k]);
            crypto_generichash_final(&h, d, sizeof(d));
            add256(acc, d);
        }
        got = r->nrows;
        n += (int64_t)got;
        if (got < page) {
            gu_arena_free(pa);
            break;
        }
        page = next_page(r, batch);
        gu_arena_free(pa);
    }
    crypto_generichash_init(&h, NULL, 0, STORE_COPY_SUM_LEN);
    crypto_generichash_update(&h, acc, sizeof(acc));
    put_u64(&h, (uint64_t)n);
    crypto_generichash_final(&h, sum, STORE_COPY_SUM_LEN);
    *rows = n;
out:
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The source                                                          */
/* ------------------------------------------------------------------ */

static bool
migration_known(const struct store_copy_opts *o, const char *module,
                int64_t version)
{
    for (size_t l = 0; l < o->nlists; l++)
        for (size_t i = 0; i < o->counts[l]; i++)
            if (o->lists[l][i].version == version &&
                strcmp(o->lists[l][i].module, module) == 0)
                return true;
    return false;
}

/* The source has applied exactly the program's migrations. */
static int
check_migrations(struct store_conn *c, struct gu_arena *a,
                 const struct store_copy_opts *o, struct gu_err *err)
{
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                     "AND name = 'schema_migrations'",
                     NULL, 0, &r, err);
    if (rc < 0)
        return fail(err, GU_EIO, true,
                    "La source n'est pas une base SQLite lisible");
    if (store_int(r, 0, 0) == 0)
        return fail(err, GU_ENOTFOUND, false,
                    "La source n'est pas une base Guichet (aucune table "
                    "schema_migrations).");
    rc = store_query(c, a, "SELECT module, version FROM schema_migrations",
                     NULL, 0, &r, err);
    if (rc < 0)
        return fail(err, GU_EIO, true,
                    "La table schema_migrations de la source est illisible");
    for (size_t i = 0; i < r->nrows; i++)
        if (!migration_known(o, store_text(r, i, 0), store_int(r, i, 1)))
            return fail(err, GU_ECONFLICT, false,
                        "La source vient d'une version plus récente de "
                        "Guichet (migration %s v%lld inconnue de ce "
                        "programme) : utilisez le programme de cette "
                        "version.",
                        store_text(r, i, 0), (long long)store_int(r, i, 1));
    for (size_t l = 0; l < o->nlists; l++)
        for (size_t k = 0; k < o->counts[l]; k++) {
            const struct store_migration *m = &o->lists[l][k];
            bool found = false;

            for (size_t i = 0; i < r->nrows && !found; i++)
                found = store_int(r, i, 1) == m->version &&
                        strcmp(store_text(r, i, 0), m->module) == 0;
            if (!found)
                return fail(err, GU_ECONFLICT, false,
                            "La source n'est pas à jour (migration %s v%d "
                            "en attente) : appliquez d'abord « guichet --set "
                            "store.url=sqlite:CHEMIN migrate » sur la "
                            "source, service arrêté.",
                            m->module, m->version);
        }
    return 0;
}

/* Columns, key and foreign keys of one table. */
static int
load_table(struct store_conn *c, struct gu_arena *a, struct tdef *t,
           struct gu_err *err)
{
    struct store_val p = STORE_T(t->name);
    struct store_rows *r = NULL, *f = NULL;
    size_t npk = 0;
    int rc;

    rc = store_query(c, a,
                     "SELECT name, type, pk FROM pragma_table_info(?) "
                     "ORDER BY cid",
                     &p, 1, &r, err);
    if (rc == 0)
        rc = store_query(c, a,
                         "SELECT DISTINCT \"table\" FROM "
                         "pragma_foreign_key_list(?) ORDER BY 1",
                         &p, 1, &f, err);
    if (rc < 0)
        return fail(err, rc, true,
                    "Lecture du schéma de la table « %s » de la source "
                    "impossible",
                    t->name);
    t->ncols = r->nrows;
    t->cols = gu_arena_zalloc(a, (r->nrows + 1) * sizeof(*t->cols));
    t->key = gu_arena_zalloc(a, (r->nrows + 1) * sizeof(*t->key));
    t->deps = gu_arena_zalloc(a, (f->nrows + 1) * sizeof(*t->deps));
    if (!t->cols || !t->key || !t->deps)
        return oom(err);
    for (size_t i = 0; i < r->nrows; i++) {
        int64_t pk = store_int(r, i, 2);

        t->cols[i] = store_text(r, i, 0);
        if (pk > 0 && (size_t)pk <= r->nrows) {
            t->key[pk - 1] = t->cols[i];
            npk++;
        }
    }
    for (size_t i = 0; i < npk; i++)
        if (!t->key[i])
            npk = 0; /* holes: should not happen; order by every column */
    t->nkey = npk;
    if (npk == 1)
        for (size_t i = 0; i < r->nrows; i++)
            if (store_int(r, i, 2) == 1 && store_text(r, i, 1) &&
                strcasecmp(store_text(r, i, 1), "INTEGER") == 0)
                t->serial = t->cols[i];
    for (size_t i = 0; i < f->nrows; i++)
        if (strcmp(store_text(f, i, 0), t->name) != 0)
            t->deps[t->ndeps++] = store_text(f, i, 0);
    return t->ncols ? 0
                    : fail(err, GU_ECONFLICT, false,
                           "La table « %s » de la source n'a aucune colonne.",
                           t->name);
}

static struct tdef *
find_table(struct tdef *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

/*
 * Order the tables so that every table comes after those it references
 * (ties by name, so the order is stable). References to tables outside
 * the set and to itself are ignored: a self-reference is satisfied by
 * copying in key order, parents having the smaller ids.
 */
static int
order_tables(struct tdef *t, size_t n, struct tdef **out, struct gu_err *err)
{
    size_t done = 0;

    while (done < n) {
        size_t before = done;

        for (size_t i = 0; i < n; i++) {
            bool ready = !t[i].placed;

            for (size_t d = 0; ready && d < t[i].ndeps; d++) {
                struct tdef *p = find_table(t, n, t[i].deps[d]);

                ready = !p || p->placed;
            }
            if (ready) {
                t[i].placed = true;
                out[done++] = &t[i];
            }
        }
        if (done == before) {
            struct gu_buf b;

            gu_buf_init(&b);
            for (size_t i = 0; i < n; i++)
                if (!t[i].placed)
                    gu_buf_printf(&b, "%s%s", b.n ? ", " : "", t[i].name);
            fail(err, GU_ECONFLICT, false,
                 "Références circulaires entre les tables %.150s : copie "
                 "impossible dans l'ordre des clés étrangères.",
                 b.p ? b.p : "?");
            gu_buf_fini(&b);
            return GU_ECONFLICT;
        }
    }
    return 0;
}

/*
 * Every table of the source but SQLite's own and schema_migrations; also
 * without virtual tables (a full-text index a SQLite-only migration
 * section might make) and their shadow tables: derived data that the
 * destination's own migrations rebuild their way, or have no use for.
 */
static int
load_source(struct store_conn *c, struct gu_arena *a,
            const struct store_copy_opts *o, struct tdef ***out, size_t *count,
            struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct tdef *t, **ord;
    int rc;

    rc = check_migrations(c, a, o, err);
    if (rc < 0)
        return rc;
    rc = store_query(c, a,
                     "SELECT name FROM sqlite_master m WHERE type = 'table' "
                     "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                     "AND name <> 'schema_migrations' "
                     "AND sql NOT LIKE 'CREATE VIRTUAL %' "
                     "AND NOT EXISTS (SELECT 1 FROM sqlite_master v "
                     " WHERE v.type = 'table' "
                     " AND v.sql LIKE 'CREATE VIRTUAL %' "
                     " AND substr(m.name, 1, length(v.name) + 1) = "
                     "  v.name || '_') "
                     "ORDER BY name",
                     NULL, 0, &r, err);
    if (rc < 0)
        return fail(err, rc, true,
                    "Lecture des tables de la source "
                    "impossible");
    t = gu_arena_zalloc(a, (r->nrows + 1) * sizeof(*t));
    ord = gu_arena_zalloc(a, (r->nrows + 1) * sizeof(*ord));
    if (!t || !ord)
        return oom(err);
    for (size_t i = 0; i < r->nrows; i++) {
        t[i].name = store_text(r, i, 0);
        rc = load_table(c, a, &t[i], err);
        if (rc < 0)
            return rc;
    }
    rc = order_tables(t, r->nrows, ord, err);
    if (rc < 0)
        return rc;
    *out = ord;
    *count = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The destination                                                     */
/* ------------------------------------------------------------------ */

/*
 * What the migrations alone put in each table (a counter row seeded at 1,
 * say): migrate a private in-memory SQLite and fingerprint it. A
 * destination table holding exactly that is as good as empty.
 */
static int
seed_sums(const struct store_copy_opts *o, struct tdef *const *t, size_t n,
          struct gu_err *err)
{
    enum gu_log_level lvl = gu_log_get_level();
    struct store *m = NULL;
    struct store_conn *c = NULL;
    int rc;

    rc = store_open("sqlite::memory:", &m, err);
    if (rc < 0)
        return rc;
    /* Its migration steps are not news: keep them out of the log. */
    if (lvl > GU_LOG_WARN)
        gu_log_set_level(GU_LOG_WARN);
    rc = store_migrate(m, o->lists, o->counts, o->nlists, NULL, err);
    gu_log_set_level(lvl);
    if (rc == 0)
        rc = store_acquire(m, &c, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = store_copy_sum(c, t[i]->name, t[i]->cols, t[i]->ncols, t[i]->key,
                            t[i]->nkey, 0, &t[i]->seed_rows, t[i]->seed_sum,
                            err);
    store_release(c);
    store_close(m);
    return rc < 0 ? fail(err, rc, true, "Préparation de la copie impossible")
                  : 0;
}

/*
 * Every table exists with every source column, and is empty (or holds
 * only what the migrations seeded, marked `seeded`). All tables are
 * checked before saying no, so the message names every one.
 */
static int
check_destination(struct store_conn *c, struct gu_arena *a,
                  struct tdef *const *t, size_t n, struct gu_err *err)
{
    struct gu_buf full;
    size_t nfull = 0;
    int rc = 0;

    gu_buf_init(&full);
    for (size_t i = 0; i < n; i++) {
        const char *qt = quote(a, t[i]->name);
        struct store_rows *r = NULL;
        const char *sql;

        sql = qt ? gu_arena_sprintf(a, "SELECT * FROM %s LIMIT 0", qt) : NULL;
        if (!sql) {
            rc = oom(err);
            goto out;
        }
        if (store_query(c, a, sql, NULL, 0, &r, err) < 0) {
            rc = fail(err, GU_ECONFLICT, true,
                      "La table « %s » manque dans la destination", t[i]->name);
            goto out;
        }
        for (size_t k = 0; k < t[i]->ncols; k++) {
            bool found = false;

            for (size_t j = 0; j < r->ncols && !found; j++)
                found = strcasecmp(r->names[j], t[i]->cols[k]) == 0;
            if (!found) {
                rc = fail(err, GU_ECONFLICT, false,
                          "La colonne « %s.%s » manque dans la destination : "
                          "son schéma n'est pas celui de la source.",
                          t[i]->name, t[i]->cols[k]);
                goto out;
            }
        }
        sql = gu_arena_sprintf(a, "SELECT 1 FROM %s LIMIT 1", qt);
        if (!sql) {
            rc = oom(err);
            goto out;
        }
        rc = store_query(c, a, sql, NULL, 0, &r, err);
        if (rc == 0 && r->nrows > 0 && t[i]->seed_rows > 0) {
            unsigned char sum[STORE_COPY_SUM_LEN];
            int64_t rows = 0;

            rc = store_copy_sum(c, t[i]->name, t[i]->cols, t[i]->ncols,
                                t[i]->key, t[i]->nkey, 0, &rows, sum, err);
            t[i]->seeded = rc == 0 && rows == t[i]->seed_rows &&
                           memcmp(sum, t[i]->seed_sum, sizeof(sum)) == 0;
        }
        if (rc < 0) {
            rc = fail(err, rc, true,
                      "Lecture de la table « %s » de la "
                      "destination impossible",
                      t[i]->name);
            goto out;
        }
        if (r->nrows > 0 && !t[i]->seeded) {
            if (nfull < 6)
                gu_buf_printf(&full, "%s%s", nfull ? ", " : "", t[i]->name);
            nfull++;
        }
    }
    if (nfull > 0)
        rc = fail(err, GU_ECONFLICT, false,
                  "La destination contient déjà des données (%zu table%s "
                  "non vide%s : %s%s) : la copie ne se fait que vers une "
                  "base neuve, où guichet n'a jamais tourné (elle en crée "
                  "le schéma). Rien n'a été copié.",
                  nfull, nfull > 1 ? "s" : "", nfull > 1 ? "s" : "",
                  full.p ? full.p : "", nfull > 6 ? "…" : "");
out:
    gu_buf_fini(&full);
    return rc;
}

/* INSERT INTO t (cols) VALUES (?, ...), ... for `rows` rows. */
static const char *
insert_sql(struct gu_arena *a, const struct tdef *t, size_t rows)
{
    struct gu_buf b;
    const char *qt = quote(a, t->name), *out = NULL;

    if (!qt)
        return NULL;
    gu_buf_init(&b);
    gu_buf_printf(&b, "INSERT INTO %s (", qt);
    put_names(&b, a, t->cols, t->ncols);
    gu_buf_puts(&b, ") VALUES ");
    for (size_t i = 0; i < rows; i++) {
        gu_buf_puts(&b, i ? ", (" : "(");
        for (size_t k = 0; k < t->ncols; k++)
            gu_buf_puts(&b, k ? ", ?" : "?");
        gu_buf_puts(&b, ")");
    }
    if (!b.oom && b.p)
        out = gu_arena_strdup(a, b.p);
    gu_buf_fini(&b);
    return out;
}

/* Copy one table's rows, page by page, in the caller's transaction. */
static int
copy_table(struct store_conn *src, struct store_conn *dst, const struct tdef *t,
           size_t batch, int64_t *copied, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(4096);
    size_t per = MAX_PARAMS / t->ncols;
    const char *sel, *ins_full;
    int64_t off = 0;
    int rc = 0;

    *copied = 0;
    if (!a)
        return oom(err);
    if (per == 0)
        per = 1;
    if (per > batch)
        per = batch;
    sel = page_sql(a, t->name, t->cols, t->ncols, t->key, t->nkey);
    ins_full = insert_sql(a, t, per);
    if (!sel || !ins_full) {
        rc = oom(err);
        goto out;
    }
    for (size_t page = batch < FIRST_PAGE ? batch : FIRST_PAGE;;) {
        struct gu_arena *pa = gu_arena_new(64 * 1024);
        struct store_val p[2] = {STORE_I(page), STORE_I(off)};
        struct store_rows *r = NULL;
        size_t got, i = 0;

        if (!pa) {
            rc = oom(err);
            goto out;
        }
        rc = store_query(src, pa, sel, p, 2, &r, err);
        if (rc < 0) {
            gu_arena_free(pa);
            rc = fail(err, rc, true,
                      "Lecture de la table « %s » de la "
                      "source impossible",
                      t->name);
            goto out;
        }
        if (r->ncols != t->ncols) {
            gu_arena_free(pa);
            rc = fail(err, GU_EINTERNAL, false,
                      "Colonnes inattendues dans la table « %s ».", t->name);
            goto out;
        }
        while (i < r->nrows) {
            size_t g = 0, bytes = 0;
            const char *ins;

            /* As many rows as fit, and at least one. */
            while (i + g < r->nrows && g < per &&
                   (g == 0 || bytes + row_bytes(r, i + g) <= MAX_INSERT_BYTES))
                bytes += row_bytes(r, i + g++);
            ins = g == per ? ins_full : insert_sql(pa, t, g);
            if (!ins) {
                gu_arena_free(pa);
                rc = oom(err);
                goto out;
            }
            rc =
                store_exec(dst, ins, &r->vals[i * r->ncols], g * r->ncols, err);
            if (rc < 0) {
                gu_arena_free(pa);
                rc = fail(err, rc, true,
                          "Écriture dans la table « %s » de la destination "
                          "impossible",
                          t->name);
                goto out;
            }
            i += g;
            *copied += (int64_t)g;
        }
        got = r->nrows;
        off += (int64_t)got;
        if (got < page) {
            gu_arena_free(pa);
            break;
        }
        page = next_page(r, batch);
        gu_arena_free(pa);
    }
out:
    gu_arena_free(a);
    return rc;
}

/*
 * PostgreSQL: move each identity column's sequence past the copied ids
 * (explicit ids do not advance it). SQLite's AUTOINCREMENT counter
 * follows explicit ids by itself.
 */
static int
reset_sequences(struct store_conn *dst, struct gu_arena *a,
                struct tdef *const *t, size_t n, int64_t *moved,
                struct gu_err *err)
{
    *moved = 0;
    for (size_t i = 0; i < n; i++) {
        struct store_val p[2] = {STORE_T(t[i]->name), STORE_T(t[i]->serial)};
        struct store_rows *r = NULL;
        const char *seq, *sql, *qt, *qc;
        int rc;

        if (!t[i]->serial)
            continue;
        rc = store_query(dst, a, "SELECT pg_get_serial_sequence(?, ?)", p, 2,
                         &r, err);
        if (rc < 0)
            return fail(err, rc, true,
                        "Lecture du compteur d'identifiants de « %s » "
                        "impossible",
                        t[i]->name);
        seq = store_text(r, 0, 0);
        if (!seq)
            continue; /* a plain integer key, no sequence behind it */
        qt = quote(a, t[i]->name);
        qc = quote(a, t[i]->serial);
        sql =
            qt && qc
                ? gu_arena_sprintf(a,
                                   "SELECT setval(CAST(? AS regclass), "
                                   "COALESCE((SELECT MAX(%s) FROM %s), 0) + 1, "
                                   "false)",
                                   qc, qt)
                : NULL;
        if (!sql)
            return oom(err);
        p[0] = STORE_T(seq);
        rc = store_query(dst, a, sql, p, 1, &r, err);
        if (rc < 0)
            return fail(err, rc, true,
                        "Remise à niveau du compteur d'identifiants de « %s » "
                        "impossible",
                        t[i]->name);
        (*moved)++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The whole copy                                                      */
/* ------------------------------------------------------------------ */

static int
verify(struct store_conn *src, struct store_conn *dst, struct tdef *const *t,
       size_t n, size_t batch, struct store_copy_report *rep,
       struct gu_err *err)
{
    rep->verified = true;
    for (size_t i = 0; i < n; i++) {
        struct store_copy_table *x = &rep->tables[i];
        int rc;

        rc = store_copy_sum(src, t[i]->name, t[i]->cols, t[i]->ncols, t[i]->key,
                            t[i]->nkey, batch, &x->src_rows, x->src_sum, err);
        if (rc < 0)
            return fail(err, rc, true,
                        "Vérification de la table « %s » (source) impossible",
                        t[i]->name);
        rc = store_copy_sum(dst, t[i]->name, t[i]->cols, t[i]->ncols, t[i]->key,
                            t[i]->nkey, batch, &x->dst_rows, x->dst_sum, err);
        if (rc < 0)
            return fail(err, rc, true,
                        "Vérification de la table « %s » (destination) "
                        "impossible",
                        t[i]->name);
        x->ok = x->src_rows == x->dst_rows &&
                memcmp(x->src_sum, x->dst_sum, STORE_COPY_SUM_LEN) == 0;
        rep->verified = rep->verified && x->ok;
    }
    return 0;
}

int
store_copy(struct store *from, struct store *to, struct gu_arena *a,
           const struct store_copy_opts *o, struct store_copy_report *rep,
           struct gu_err *err)
{
    struct store_conn *src = NULL, *dst = NULL;
    size_t batch = o->batch_rows ? o->batch_rows : DEFAULT_BATCH;
    struct tdef **t = NULL;
    size_t n = 0;
    int64_t t0 = gu_now_ms(), t1;
    int rc;

    memset(rep, 0, sizeof(*rep));
    rep->stage = STORE_COPY_SOURCE;
    if (strcmp(store_backend(from), "sqlite") != 0)
        return fail(err, GU_EINVAL, false,
                    "La source doit être une base SQLite (sqlite:CHEMIN).");
    rc = store_acquire(from, &src, err);
    if (rc < 0) {
        rc = fail(err, GU_EIO, true,
                  "La source n'est pas une base SQLite lisible");
        goto out;
    }
    /*
     * A write transaction on the source: one consistent snapshot for the
     * copy and the verification, and no writer can slip in between (a
     * running server would wait, then fail: stop it first). Nothing is
     * written; it ends with a rollback.
     */
    rc = store_begin(src, err);
    if (rc < 0) {
        rc = fail(err, rc, true,
                  "La source est occupée ou en lecture seule : arrêtez "
                  "« guichet serve » sur cette base puis relancez");
        goto out;
    }
    rc = load_source(src, a, o, &t, &n, err);
    if (rc < 0)
        goto out;
    rep->tables = gu_arena_zalloc(a, (n + 1) * sizeof(*rep->tables));
    if (!rep->tables) {
        rc = oom(err);
        goto out;
    }
    rep->ntables = n;
    for (size_t i = 0; i < n; i++)
        rep->tables[i].name = t[i]->name;

    rep->stage = STORE_COPY_SCHEMA;
    rc = store_migrate(to, o->lists, o->counts, o->nlists, NULL, err);
    if (rc < 0) {
        rc = fail(err, rc, true,
                  "Création du schéma dans la destination impossible");
        goto out;
    }
    rc = store_acquire(to, &dst, err);
    if (rc < 0) {
        rc = fail(err, rc, true, "Connexion à la destination impossible");
        goto out;
    }
    rc = seed_sums(o, t, n, err);
    if (rc < 0)
        goto out;
    rc = check_destination(dst, a, t, n, err);
    if (rc < 0)
        goto out;

    rep->stage = STORE_COPY_DATA;
    t1 = gu_now_ms();
    rep->ms_schema = t1 - t0;
    rc = store_begin(dst, err);
    if (rc < 0) {
        rc = fail(err, rc, true, "Transaction impossible dans la destination");
        goto out;
    }
    /* Seeded rows make way for the source's (children first). */
    for (size_t i = n; i-- > 0;) {
        const char *sql;

        if (!t[i]->seeded)
            continue;
        rep->table = t[i]->name;
        sql = gu_arena_sprintf(a, "DELETE FROM %s", quote(a, t[i]->name));
        rc = sql ? store_exec(dst, sql, NULL, 0, err) : oom(err);
        if (rc < 0) {
            rc = fail(err, rc, true,
                      "Préparation de la table « %s » de la destination "
                      "impossible",
                      t[i]->name);
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int64_t rows = 0;

        rep->table = t[i]->name;
        rc = copy_table(src, dst, t[i], batch, &rows, err);
        if (rc < 0)
            goto out;
        rep->rows += rows;
        if (o->progress)
            o->progress(o->progress_arg, t[i]->name, rows);
    }
    rep->table = NULL;
    if (strcmp(store_backend(to), "postgres") == 0) {
        rc = reset_sequences(dst, a, t, n, &rep->sequences, err);
        if (rc < 0)
            goto out;
    }
    rc = store_commit(dst, err);
    if (rc < 0) {
        rc = fail(err, rc, true, "Validation de la copie impossible");
        goto out;
    }
    t0 = gu_now_ms();
    rep->ms_copy = t0 - t1;

    rep->stage = STORE_COPY_VERIFY;
    rc = verify(src, dst, t, n, batch, rep, err);
    if (rc < 0)
        goto out;
    rep->ms_verify = gu_now_ms() - t0;
    rep->stage = STORE_COPY_DONE;
out:
    /* Rolls back whatever is still open: never a half-written copy. */
    if (dst && store_in_tx(dst))
        store_rollback(dst);
    if (src && store_in_tx(src))
        store_rollback(src); /* the source's snapshot: nothing written */
    store_release(dst);
    store_release(src);
    return rc;
}
