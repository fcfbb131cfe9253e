/*
 * store.h - storage interface.
 *
 * Two layers:
 *  1. A small backend-neutral SQL interface (connections from a pool,
 *     parameterised queries with results materialised in an arena,
 *     transactions, migrations). SQL is written in a portable subset:
 *     `?` placeholders, INTEGER unix-second timestamps, `RETURNING` for
 *     generated ids, and migration tokens ($PK, $TEXT...) rewritten per
 *     backend. Only store_sqlite.c knows SQLite; a store_pg.c can be added
 *     behind the same `struct store_ops` without touching the domains.
 *  2. Tenancy primitives every domain relies on: communes, agents and
 *     their roles, sessions, API tokens, rate limits and the append-only
 *     audit log.
 *
 * Ownership: `struct store` is long-lived (built at start, freed at
 * shutdown) and thread-safe; a `struct store_conn` belongs to one thread
 * between store_acquire() and store_release(). Query results live in the
 * arena passed to the query.
 */
#ifndef GU_STORE_H
#define GU_STORE_H

#include "core/core.h"

/* ------------------------------------------------------------------ */
/* Values and rows                                                     */
/* ------------------------------------------------------------------ */

enum store_type { STORE_NULL, STORE_INT, STORE_REAL, STORE_TEXT, STORE_BLOB };

/* A parameter or a result cell. Text/blob bytes are not owned. */
struct store_val {
    enum store_type type;
    int64_t i;
    double d;
    const char *s; /* TEXT (NUL-terminated in results) or BLOB */
    size_t n;      /* length of s */
};

#define STORE_I(x) ((struct store_val){.type = STORE_INT, .i = (int64_t)(x)})
#define STORE_D(x) ((struct store_val){.type = STORE_REAL, .d = (x)})
/* Text from a C string; NULL becomes SQL NULL. */
struct store_val STORE_T(const char *s);
#define STORE_TN(p_, n_)                                                       \
    ((struct store_val){.type = STORE_TEXT, .s = (p_), .n = (n_)})
#define STORE_NUL ((struct store_val){.type = STORE_NULL})
/* Blob of n bytes at p (added by store). */
#define STORE_B(p_, n_)                                                        \
    ((struct store_val){.type = STORE_BLOB, .s = (p_), .n = (n_)})

/* A materialised result, allocated in the query's arena. */
struct store_rows {
    size_t nrows, ncols;
    const char **names;     /* ncols column names */
    struct store_val *vals; /* nrows * ncols, row-major */
    int64_t changes;        /* rows changed by INSERT/UPDATE/DELETE */
};

/* Cell accessors; out-of-range or NULL cells give 0 / NULL. */
const struct store_val *store_cell(const struct store_rows *r, size_t row,
                                   size_t col);
int64_t store_int(const struct store_rows *r, size_t row, size_t col);
double store_real(const struct store_rows *r, size_t row, size_t col);
const char *store_text(const struct store_rows *r, size_t row, size_t col);

/* ------------------------------------------------------------------ */
/* Connections and queries                                            */
/* ------------------------------------------------------------------ */

struct store;
struct store_conn;

/*
 * Open a store from a URL: "sqlite:/path/to/guichet.db", "sqlite::memory:"
 * (each connection of a :memory: store shares one in-memory database).
 * Does not migrate. On failure returns GU_EDB/GU_EINVAL with err set.
 */
int store_open(const char *url, struct store **out, struct gu_err *err);
void store_close(struct store *s); /* NULL ok; all conns released first */

/* Backend name: "sqlite" (later "postgres"). */
const char *store_backend(const struct store *s);

/*
 * Take a connection for the calling thread (opened lazily, reused; SQLite
 * connections cache prepared statements). Blocks while the pool is empty.
 */
int store_acquire(struct store *s, struct store_conn **out, struct gu_err *err);
void store_release(struct store_conn *c); /* NULL ok; rolls back open tx */

/*
 * Run one statement with `n` parameters bound to its `?` placeholders.
 * If `out` is non-NULL, all rows are copied into `a` and *out is set.
 * Constraint violations return GU_ECONFLICT, other failures GU_EDB; the
 * database error goes to err->msg (never to users). `a` may be NULL when
 * out is NULL.
 */
int store_query(struct store_conn *c, struct gu_arena *a, const char *sql,
                const struct store_val *params, size_t n,
                struct store_rows **out, struct gu_err *err);

/* Convenience: a statement with no result. */
int store_exec(struct store_conn *c, const char *sql,
               const struct store_val *params, size_t n, struct gu_err *err);

/*
 * Like store_exec, and *changes (may be NULL) gets the number of rows an
 * INSERT/UPDATE/DELETE changed (0 for reads), without needing an arena.
 */
int store_exec_changes(struct store_conn *c, const char *sql,
                       const struct store_val *params, size_t n,
                       int64_t *changes, struct gu_err *err);

/*
 * Transactions. store_begin() starts a write transaction (SQLite: BEGIN
 * IMMEDIATE, so writers serialise up front instead of failing late).
 * Not nestable.
 */
int store_begin(struct store_conn *c, struct gu_err *err);
int store_commit(struct store_conn *c, struct gu_err *err);
void store_rollback(struct store_conn *c);
/* True between store_begin() and its commit/rollback. */
bool store_in_tx(const struct store_conn *c);

/*
 * Checkpoints of SQLite's write-ahead log happen, by default, inside the
 * commit that crosses the threshold: that request then waits for the
 * copy and an fsync. A server calls store_checkpoint_background() once,
 * then store_checkpoint() from a job every second or so, and no request
 * waits for it. Tools (one-off commands) keep the default.
 */
void store_checkpoint_background(struct store *s);
int store_checkpoint(struct store *s, struct gu_err *err);

/* The store a connection belongs to. */
struct store *store_conn_store(struct store_conn *c);

/*
 * Long-lived state derived from this database (a domain's indexes, its
 * caches) is attached to the store, so that two stores in one process
 * (tests, tools) never share it and store_close() frees it. The first
 * caller for `key` (a static string naming the owner, "asst.engine")
 * creates it with make(s); later callers get the same pointer. make() must
 * be quick and must not call store_ext(). Returns NULL if make() did.
 */
typedef void *(*store_ext_make_fn)(struct store *s);
typedef void (*store_ext_free_fn)(void *p);
void *store_ext(struct store *s, const char *key, store_ext_make_fn make,
                store_ext_free_fn free_fn);

/* Counter of backend errors since start (for /metrics). */
uint64_t store_error_count(const struct store *s);

/* ------------------------------------------------------------------ */
/* Migrations                                                          */
/* ------------------------------------------------------------------ */

/*
 * A versioned schema change of one module. SQL may hold several
 * statements and these tokens, rewritten per backend:
 *   $PK   -> an auto-increment integer primary key column type
 *   $NOW  -> current unix time expression
 * Versions of a module start at 1 and are applied in order, each in its
 * own transaction, recorded in table schema_migrations(module, version).
 */
struct store_migration {
    const char *module;
    int version;
    const char *sql;
};

/* The core tenancy schema (communes, agents, sessions, audit...). */
const struct store_migration *store_core_migrations(size_t *count);

/*
 * Apply every pending migration of `lists` (n lists of counts[i] items).
 * Logs each applied step. `applied` (may be NULL) receives how many ran.
 */
int store_migrate(struct store *s, const struct store_migration *const *lists,
                  const size_t *counts, size_t n, int *applied,
                  struct gu_err *err);

/*
 * The catalogue, on any backend: the application's tables in name order
 * (not the backend's own), and a table's columns in order. Arrays and
 * names live in `a`. For tools and tests (a copy, an audit of every
 * table); domains know their own tables.
 */
int store_tables(struct store_conn *c, struct gu_arena *a,
                 const char ***names, size_t *count, struct gu_err *err);
int store_columns(struct store_conn *c, struct gu_arena *a, const char *table,
                  const char ***names, size_t *count, struct gu_err *err);

/* Online backup of the whole database to a file (SQLite backup API). */
int store_backup(struct store *s, const char *dest_path, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Tenancy: communes                                                   */
/* ------------------------------------------------------------------ */

/* School-holiday zone of a commune. */
#define STORE_ZONES "A|B|C|corse|guadeloupe|martinique|guyane|reunion|mayotte"

/* A commune. Strings live in the arena of the call that returned it. */
struct store_commune {
    char insee[6]; /* 5 characters: 2A/2B for Corsica, 97x overseas */
    const char *name;
    const char *zone;
    const char *hours;   /* opening hours as text, French, may be "" */
    const char *address; /* may be "" */
    const char *phone;   /* may be "" */
    const char *email;   /* may be "" */
    int64_t created_at;
};

/* Check an INSEE code's shape (5 chars, digits or 2A/2B). */
bool store_insee_valid(const char *insee);

/*
 * Training sandboxes (src/academy) are communes whose code lies in
 * 99900..99999 (department 99 is fictitious). Nothing addressed to the
 * outside world leaves for them (e-mails, SMS), and accounts or API
 * tokens are never created from them. The SQL form compares the 5-char
 * codes as text.
 */
#define STORE_SANDBOX_FIRST "99900"
#define STORE_SANDBOX_LAST "99999"
#define STORE_SANDBOX_SQL(col)                                                 \
    "(" col " >= '" STORE_SANDBOX_FIRST "' AND " col " <= '"                   \
    STORE_SANDBOX_LAST "')"
bool store_insee_sandbox(const char *insee);

/* Create; GU_ECONFLICT if it exists, GU_EINVAL on bad insee/name/zone. */
int store_commune_create(struct store_conn *c, const struct store_commune *m,
                         struct gu_err *err);
/* Update name, zone, hours, address, phone, email. */
int store_commune_update(struct store_conn *c, const struct store_commune *m,
                         struct gu_err *err);
/* GU_ENOTFOUND if unknown. */
int store_commune_get(struct store_conn *c, struct gu_arena *a,
                      const char *insee, struct store_commune *out,
                      struct gu_err *err);
/* All communes ordered by name; *out is an arena array. */
int store_commune_list(struct store_conn *c, struct gu_arena *a,
                       struct store_commune **out, size_t *count,
                       struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Tenancy: agents and roles                                          */
/* ------------------------------------------------------------------ */

enum store_role {
    STORE_ROLE_NONE = 0,
    STORE_ROLE_LECTEUR = 1, /* reads */
    STORE_ROLE_AGENT = 2,   /* works */
    STORE_ROLE_ADMIN = 3    /* manages users and settings */
};

const char *store_role_name(enum store_role r);            /* "admin"... */
int store_role_parse(const char *s, enum store_role *out); /* GU_EINVAL */

struct store_agent {
    int64_t id;
    const char *login; /* lower-case, [a-z0-9._-]{2,64} */
    const char *name;  /* display name */
    const char *email; /* may be "" */
    bool disabled;
    bool must_change_password;
    int64_t created_at;
    int64_t last_login_at; /* 0 = never */
};

/* A membership: agent has `role` in commune `insee`. */
struct store_membership {
    char insee[6];
    const char *commune_name;
    enum store_role role;
};

bool store_login_valid(const char *login);

/*
 * Create an agent with a password (hashed here with argon2id) and a first
 * membership. *id_out (may be NULL) gets the new id. GU_ECONFLICT if the
 * login exists.
 */
int store_agent_create(struct store_conn *c, const char *login,
                       const char *name, const char *email,
                       const char *password, bool must_change,
                       const char *insee, enum store_role role, int64_t *id_out,
                       struct gu_err *err);
/*
 * Hashing a password (argon2id) is slow on purpose: a caller that holds a
 * write transaction hashes first with store_password_hash() (checks the
 * password's rules too), then calls the _hashed variants inside it, so
 * the database's write lock is never held during the hash.
 */
int store_password_hash(const char *password, char *out, size_t cap,
                        struct gu_err *err);
int store_agent_create_hashed(struct store_conn *c, const char *login,
                              const char *name, const char *email,
                              const char *password_hash, bool must_change,
                              const char *insee, enum store_role role,
                              int64_t *id_out, struct gu_err *err);
int store_agent_set_password_hashed(struct store_conn *c, int64_t id,
                                    const char *password_hash,
                                    bool must_change, struct gu_err *err);
int store_agent_get(struct store_conn *c, struct gu_arena *a, int64_t id,
                    struct store_agent *out, struct gu_err *err);
int store_agent_by_login(struct store_conn *c, struct gu_arena *a,
                         const char *login, struct store_agent *out,
                         struct gu_err *err);
/* Agents having any role in `insee` (NULL = all agents). */
int store_agent_list(struct store_conn *c, struct gu_arena *a,
                     const char *insee, struct store_agent **out, size_t *count,
                     struct gu_err *err);
int store_agent_set_password(struct store_conn *c, int64_t id,
                             const char *password, bool must_change,
                             struct gu_err *err);
int store_agent_set_disabled(struct store_conn *c, int64_t id, bool disabled,
                             struct gu_err *err);
int store_agent_update(struct store_conn *c, int64_t id, const char *name,
                       const char *email, struct gu_err *err);
/* Set (or with STORE_ROLE_NONE remove) the agent's role in a commune. */
int store_agent_set_role(struct store_conn *c, int64_t id, const char *insee,
                         enum store_role role, struct gu_err *err);
int store_agent_memberships(struct store_conn *c, struct gu_arena *a,
                            int64_t id, struct store_membership **out,
                            size_t *count, struct gu_err *err);
/* The agent's role in a commune, STORE_ROLE_NONE if none. */
enum store_role store_agent_role(struct store_conn *c, int64_t id,
                                 const char *insee);

/*
 * Check a login and password. Applies the lockout policy: after
 * `max_failures` consecutive failures the account is locked for
 * `lockout_s` seconds (GU_ERATE while locked, even with the right
 * password). Unknown login, wrong password and disabled account all give
 * GU_EAUTH with the same French message (no account enumeration); the
 * English err->msg says which. On success fills *out and resets failures.
 */
int store_agent_authenticate(struct store_conn *c, struct gu_arena *a,
                             const char *login, const char *password,
                             int max_failures, int lockout_s,
                             struct store_agent *out, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Sessions                                                            */
/* ------------------------------------------------------------------ */

/* A logged-in browser session. Only the token's hash is stored. */
struct store_session {
    int64_t agent_id;
    char insee[6]; /* active commune */
    char csrf[48]; /* CSRF token sent back by the page */
    int64_t created_at;
    int64_t expires_at;
};

/*
 * Create a session for an agent in a commune; writes the cookie token
 * (43 chars, URL-safe) into token_out (>= 64 bytes) and fills *out.
 */
int store_session_create(struct store_conn *c, int64_t agent_id,
                         const char *insee, int ttl_s, char *token_out,
                         size_t cap, struct store_session *out,
                         struct gu_err *err);
/* Look a token up; GU_EAUTH if unknown or expired (expired ones deleted). */
int store_session_get(struct store_conn *c, const char *token,
                      struct store_session *out, struct gu_err *err);
int store_session_set_commune(struct store_conn *c, const char *token,
                              const char *insee, struct gu_err *err);
/*
 * Move every session whose active commune is `from` to `to` (a commune
 * about to be deleted, such as a training sandbox being reset, would
 * otherwise log its agents out through the cascade). *moved (may be
 * NULL) gets the count. GU_EINVAL on a malformed code.
 */
int store_session_move_commune(struct store_conn *c, const char *from,
                               const char *to, int64_t *moved,
                               struct gu_err *err);
int store_session_delete(struct store_conn *c, const char *token,
                         struct gu_err *err);
/* Delete every session of an agent (password change, disable). */
int store_session_delete_agent(struct store_conn *c, int64_t agent_id,
                               struct gu_err *err);
/* Delete every session of an agent but `keep` (a token; NULL = none). */
int store_session_delete_agent_except(struct store_conn *c, int64_t agent_id,
                                      const char *keep, struct gu_err *err);
/* Delete expired sessions; returns count or negative code. */
int store_session_purge(struct store_conn *c, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* API tokens (machine clients)                                       */
/* ------------------------------------------------------------------ */

struct store_token {
    int64_t id;
    char insee[6];
    enum store_role role;
    const char *name;
    int64_t created_at;
    int64_t last_used_at;
    bool revoked;
};

/*
 * Create a token scoped to a commune and a role. The secret ("gu_" + 43
 * chars) is written once into secret_out (>= 64 bytes) and only its hash
 * is stored.
 */
int store_token_create(struct store_conn *c, const char *insee,
                       enum store_role role, const char *name, char *secret_out,
                       size_t cap, int64_t *id_out, struct gu_err *err);
/* Resolve a secret; GU_EAUTH if unknown or revoked. Updates last_used. */
int store_token_check(struct store_conn *c, struct gu_arena *a,
                      const char *secret, struct store_token *out,
                      struct gu_err *err);
int store_token_list(struct store_conn *c, struct gu_arena *a,
                     const char *insee, struct store_token **out, size_t *count,
                     struct gu_err *err);
int store_token_revoke(struct store_conn *c, const char *insee, int64_t id,
                       struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Rate limits (shared by all nodes through the database)             */
/* ------------------------------------------------------------------ */

/*
 * Count one hit on `key` in a fixed window of `window_s` seconds. Returns
 * 0 while hits <= limit, GU_ERATE beyond; *retry_after_s (may be NULL)
 * gets the seconds until the window ends.
 */
int store_rate_hit(struct store_conn *c, const char *key, int limit,
                   int window_s, int *retry_after_s, struct gu_err *err);
/*
 * Delete counters whose window started more than `older_than_s` seconds
 * ago (run it from the purge job with the longest window in use).
 * Returns the count or a negative code.
 */
int store_rate_purge(struct store_conn *c, int older_than_s,
                     struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Audit log (append-only: the schema refuses UPDATE and DELETE)      */
/* ------------------------------------------------------------------ */

struct store_audit {
    int64_t id;
    int64_t at;
    const char *insee;      /* "" for instance-wide events */
    const char *actor;      /* agent login, "token:<name>", "systeme", "ia" */
    const char *action;     /* "user.create", "login.fail", "asst.answer"... */
    const char *target;     /* what it acted on, may be "" */
    const char *detail;     /* free text or JSON, no personal data */
    const char *request_id; /* may be "" */
};

/* Append one entry (at = now). */
int store_audit_add(struct store_conn *c, const char *insee, const char *actor,
                    const char *action, const char *target, const char *detail,
                    const char *request_id, struct gu_err *err);

/* Filter for listing; NULL/0 fields are ignored. */
struct store_audit_filter {
    const char *insee; /* required for agents: their commune */
    const char *actor;
    const char *action_prefix;
    int64_t since, until;
    int64_t before_id; /* paging: entries with id < before_id */
    int limit;         /* 1..1000, default 100 */
};

/* Newest first. */
int store_audit_list(struct store_conn *c, struct gu_arena *a,
                     const struct store_audit_filter *f,
                     struct store_audit **out, size_t *count,
                     struct gu_err *err);

#endif
