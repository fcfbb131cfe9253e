/*
 * store_copy.h - copy a whole Guichet database from SQLite into another
 * store (PostgreSQL, or another SQLite file), and prove the copy.
 *
 * `guichet migrate --from sqlite:PATH --to postgres:DSN` is the only
 * caller. The destination is written through the neutral store_query()
 * interface only, so any backend works; the source is SQLite by
 * definition and its catalogue (sqlite_master, pragma_table_info,
 * pragma_foreign_key_list) is read through store_query() too.
 *
 * Steps, each of which stops the whole copy on failure:
 *  1. the source must be a Guichet database whose applied migrations are
 *     exactly those of this program (neither older nor newer);
 *  2. the destination is migrated with the same migrations, then every
 *     table to copy must exist there with every source column, and be
 *     empty (one commune's data never lands on top of another's);
 *  3. tables are copied in foreign-key order (parents first; the
 *     schema_migrations bookkeeping table is not copied: step 2 wrote
 *     it), in batches, all inside ONE destination transaction: a failure
 *     anywhere leaves the destination with its empty schema and no row;
 *     the source is read inside one transaction too (a consistent
 *     snapshot; SQLite's write lock keeps writers out meanwhile);
 *  4. identity counters are moved past the copied ids (PostgreSQL:
 *     setval on each table's serial sequence; SQLite's AUTOINCREMENT
 *     counter follows explicit ids by itself);
 *  5. verification: per table, the row count and a fingerprint computed
 *     by the same code on both sides (see store_copy_sum()).
 */
#ifndef GU_STORE_COPY_H
#define GU_STORE_COPY_H

#include "store/store.h"

#define STORE_COPY_SUM_LEN 32 /* bytes of a table fingerprint */

/* Options; a zeroed struct gives the defaults. Caller-owned. */
struct store_copy_opts {
    /*
     * The program's migrations (app_migration_lists()): the source must
     * have applied exactly these, and the destination is migrated with
     * them. Required.
     */
    const struct store_migration *const *lists;
    const size_t *counts;
    size_t nlists;
    size_t batch_rows; /* most rows read per page; 0 = 500 */
    /* Called after each table is copied (may be NULL). */
    void (*progress)(void *arg, const char *table, int64_t rows);
    void *progress_arg;
};

/* One table of the report. Strings live in the arena given to store_copy. */
struct store_copy_table {
    const char *name;
    int64_t src_rows, dst_rows;
    unsigned char src_sum[STORE_COPY_SUM_LEN];
    unsigned char dst_sum[STORE_COPY_SUM_LEN];
    bool ok; /* same count and same fingerprint */
};

enum store_copy_stage {
    STORE_COPY_SOURCE = 0, /* reading or checking the source */
    STORE_COPY_SCHEMA,     /* migrating or checking the destination */
    STORE_COPY_DATA,       /* copying rows (rolled back) */
    STORE_COPY_VERIFY,     /* copy committed; verification failed to run */
    STORE_COPY_DONE        /* copied and verified (see `verified`) */
};

/* What happened. Filled as far as the copy went, even on failure. */
struct store_copy_report {
    struct store_copy_table *tables; /* copy order, arena array */
    size_t ntables;
    int64_t rows;                /* rows copied */
    int64_t sequences;           /* identity counters moved (PostgreSQL) */
    int64_t ms_schema;           /* checks and destination schema */
    int64_t ms_copy;             /* copy and commit */
    int64_t ms_verify;           /* both sides' fingerprints */
    enum store_copy_stage stage; /* where it stopped */
    const char *table; /* table being copied when it failed, or NULL */
    bool verified;     /* every table ok */
};

/*
 * Copy `from` (SQLite) into `to` (any backend) as described above. The
 * report's strings and table array are allocated in `a`. Returns 0 when
 * the copy is committed and verification ran (check rep->verified: a
 * mismatch is not an error code), or a negative GU_E* code with a French
 * err->user; rep->stage says whether anything was committed (only from
 * STORE_COPY_VERIFY on). GU_EIO: the source is not a readable SQLite
 * file; GU_ENOTFOUND: not a Guichet database; GU_ECONFLICT: the source's
 * migrations are not this program's, or the destination already holds
 * rows or lacks a table or column; GU_EINVAL: the source is not SQLite;
 * GU_EDB/GU_EBUSY: a database failed.
 */
int store_copy(struct store *from, struct store *to, struct gu_arena *a,
               const struct store_copy_opts *o, struct store_copy_report *rep,
               struct gu_err *err);

/*
 * The fingerprint of one table's rows: for each row, BLAKE2b-256 of a
 * canonical encoding of its cells in the order of `cols` (a type tag,
 * then an 8-byte big-endian integer, the 8 bytes of a double's IEEE-754
 * bit pattern, or an 8-byte length and the bytes of a text or blob);
 * the row digests are added modulo 2^256, so the result does not depend
 * on the order rows come back in (text collations differ between
 * backends), then hashed with the row count. *rows gets the count.
 * Reads pages ordered by the columns `key` (the primary key; nkey 0 =
 * every column): the first of 16 rows, the next ones of up to `batch`
 * rows (0 = 500) while a page stays under 16 MB. Names are unquoted.
 */
int store_copy_sum(struct store_conn *c, const char *table,
                   const char *const *cols, size_t ncols,
                   const char *const *key, size_t nkey, size_t batch,
                   int64_t *rows, unsigned char sum[STORE_COPY_SUM_LEN],
                   struct gu_err *err);

#endif
