/*
 * store_session.c - browser sessions, API tokens and rate-limit counters.
 *
 * Secrets (session cookies, API tokens) are random (gu_random_token) and
 * only their SHA-256 (gu_token_hash) reaches the database, so a stolen
 * backup does not hold usable credentials. Rate limits live in the
 * database so every node of a cluster counts the same hits. Only the
 * neutral store_query() family is used here.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

#define TOKEN_BYTES 32
#define TOKEN_PREFIX "gu_"
/* last_used_at is refreshed at most this often, to spare writes. */
#define TOKEN_TOUCH_S 60

static const char msg_session[] =
    "Votre session a expiré. Veuillez vous reconnecter.";
static const char msg_token[] = "Jeton d'accès invalide ou révoqué.";
static const char msg_unknown[] = "Agent ou commune inconnu.";

static const char *
or_empty(const char *s)
{
    return s ? s : "";
}

static int
random_token(char *out, size_t cap, struct gu_err *err)
{
    int rc = gu_random_token(out, cap, TOKEN_BYTES);

    if (rc < 0)
        return gu_err_set(err, rc, NULL, NULL, "store: random token: %s",
                          gu_status_name(rc));
    return 0;
}

/* ------------------------------------------------------------------ */
/* Sessions                                                            */
/* ------------------------------------------------------------------ */

int
store_session_create(struct store_conn *c, int64_t agent_id, const char *insee,
                     int ttl_s, char *token_out, size_t cap,
                     struct store_session *out, struct gu_err *err)
{
    struct store_session s;
    char token[64], hash[65];
    int rc;

    if (token_out && cap)
        token_out[0] = '\0';
    memset(&s, 0, sizeof(s));
    if (!token_out || cap < sizeof(token))
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "store: session token buffer too small");
    if (!store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "insee",
                          "Le code INSEE doit comporter 5 caractères "
                          "(ex. 44109).",
                          "store: invalid insee");
    rc = random_token(token, sizeof(token), err);
    if (rc == 0)
        rc = random_token(s.csrf, sizeof(s.csrf), err);
    if (rc < 0)
        return rc;
    gu_token_hash(token, hash);
    s.agent_id = agent_id;
    snprintf(s.insee, sizeof(s.insee), "%s", insee);
    s.created_at = gu_now();
    s.expires_at = s.created_at + ttl_s;
    struct store_val p[] = {
        STORE_T(hash),   STORE_I(agent_id),     STORE_T(insee),
        STORE_T(s.csrf), STORE_I(s.created_at), STORE_I(s.expires_at),
    };
    rc = store_exec(c,
                    "INSERT INTO sessions (token_hash, agent_id, insee, csrf,"
                    " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                    p, GU_ARRAY_LEN(p), err);
    /* A random 256-bit hash cannot collide: a conflict is a foreign key. */
    if (rc == GU_ECONFLICT)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL, msg_unknown,
                        "store: session for unknown agent %lld or commune",
                        (long long)agent_id);
    if (rc < 0)
        return rc;
    snprintf(token_out, cap, "%s", token);
    if (out)
        *out = s;
    return 0;
}

int
store_session_get(struct store_conn *c, const char *token,
                  struct store_session *out, struct gu_err *err)
{
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    char hash[65];
    int rc;

    memset(out, 0, sizeof(*out));
    if (!token || !*token)
        return gu_err_set(err, GU_EAUTH, NULL, msg_session,
                          "store: no session token");
    gu_token_hash(token, hash);
    a = gu_arena_new(1024);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    struct store_val p[1] = {STORE_T(hash)};
    rc = store_query(c, a,
                     "SELECT agent_id, insee, csrf, created_at, expires_at"
                     " FROM sessions WHERE token_hash = ?",
                     p, 1, &r, err);
    if (rc < 0)
        goto out;
    if (r->nrows == 0) {
        rc = gu_err_set(err, GU_EAUTH, NULL, msg_session,
                        "store: unknown session");
        goto out;
    }
    if (store_int(r, 0, 4) <= gu_now()) {
        rc = store_exec(c, "DELETE FROM sessions WHERE token_hash = ?", p, 1,
                        err);
        if (rc == 0)
            rc = gu_err_set(err, GU_EAUTH, NULL, msg_session,
                            "store: expired session");
        goto out;
    }
    out->agent_id = store_int(r, 0, 0);
    snprintf(out->insee, sizeof(out->insee), "%s",
             or_empty(store_text(r, 0, 1)));
    snprintf(out->csrf, sizeof(out->csrf), "%s", or_empty(store_text(r, 0, 2)));
    out->created_at = store_int(r, 0, 3);
    out->expires_at = store_int(r, 0, 4);
out:
    gu_arena_free(a);
    return rc;
}

int
store_session_set_commune(struct store_conn *c, const char *token,
                          const char *insee, struct gu_err *err)
{
    int64_t changes = 0;
    char hash[65];
    int rc;

    if (!store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "insee",
                          "Le code INSEE doit comporter 5 caractères "
                          "(ex. 44109).",
                          "store: invalid insee");
    if (!token || !*token)
        return gu_err_set(err, GU_EAUTH, NULL, msg_session,
                          "store: no session token");
    gu_token_hash(token, hash);
    struct store_val p[] = {STORE_T(insee), STORE_T(hash), STORE_I(gu_now())};
    rc = store_exec_changes(c,
                            "UPDATE sessions SET insee = ?"
                            " WHERE token_hash = ? AND expires_at > ?",
                            p, GU_ARRAY_LEN(p), &changes, err);
    if (rc == GU_ECONFLICT)
        return gu_err_set(err, GU_ENOTFOUND, "insee", "Commune inconnue.",
                          "store: no commune %s", insee);
    if (rc == 0 && changes == 0)
        rc = gu_err_set(err, GU_EAUTH, NULL, msg_session,
                        "store: unknown or expired session");
    return rc;
}

int
store_session_move_commune(struct store_conn *c, const char *from,
                           const char *to, int64_t *moved, struct gu_err *err)
{
    int64_t changes = 0;
    int rc;

    if (!store_insee_valid(from) || !store_insee_valid(to))
        return gu_err_set(err, GU_EINVAL, "insee",
                          "Le code INSEE doit comporter 5 caractères "
                          "(ex. 44109).",
                          "store: invalid insee");
    struct store_val p[] = {STORE_T(to), STORE_T(from)};
    rc = store_exec_changes(c, "UPDATE sessions SET insee = ? WHERE insee = ?",
                            p, GU_ARRAY_LEN(p), &changes, err);
    if (rc == GU_ECONFLICT)
        return gu_err_set(err, GU_ENOTFOUND, "insee", "Commune inconnue.",
                          "store: no commune %s", to);
    if (rc == 0 && moved)
        *moved = changes;
    return rc;
}

int
store_session_delete(struct store_conn *c, const char *token,
                     struct gu_err *err)
{
    char hash[65];

    /* Logging out twice, or with no cookie, is not an error. */
    if (!token || !*token)
        return 0;
    gu_token_hash(token, hash);
    struct store_val p[1] = {STORE_T(hash)};
    return store_exec(c, "DELETE FROM sessions WHERE token_hash = ?", p, 1,
                      err);
}

int
store_session_delete_agent(struct store_conn *c, int64_t agent_id,
                           struct gu_err *err)
{
    struct store_val p[1] = {STORE_I(agent_id)};

    return store_exec(c, "DELETE FROM sessions WHERE agent_id = ?", p, 1, err);
}

int
store_session_delete_agent_except(struct store_conn *c, int64_t agent_id,
                                  const char *keep, struct gu_err *err)
{
    char hash[65];

    if (!keep || !*keep)
        return store_session_delete_agent(c, agent_id, err);
    gu_token_hash(keep, hash);
    struct store_val p[2] = {STORE_I(agent_id), STORE_T(hash)};
    return store_exec(c,
                      "DELETE FROM sessions WHERE agent_id = ? AND "
                      "token_hash <> ?",
                      p, 2, err);
}

int
store_session_purge(struct store_conn *c, struct gu_err *err)
{
    struct store_val p[1] = {STORE_I(gu_now())};
    int64_t changes = 0;
    int rc;

    rc = store_exec_changes(c, "DELETE FROM sessions WHERE expires_at <= ?", p,
                            1, &changes, err);
    if (rc < 0)
        return rc;
    return changes > 0x7fffffff ? 0x7fffffff : (int)changes;
}

/* ------------------------------------------------------------------ */
/* API tokens                                                          */
/* ------------------------------------------------------------------ */

int
store_token_create(struct store_conn *c, const char *insee,
                   enum store_role role, const char *name, char *secret_out,
                   size_t cap, int64_t *id_out, struct gu_err *err)
{
    char secret[64], hash[65];
    int64_t id = 0;
    size_t plen = strlen(TOKEN_PREFIX);
    int rc;

    if (id_out)
        *id_out = 0;
    if (secret_out && cap)
        secret_out[0] = '\0';
    if (!secret_out || cap < sizeof(secret))
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "store: token buffer too small");
    if (!store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "insee",
                          "Le code INSEE doit comporter 5 caractères "
                          "(ex. 44109).",
                          "store: invalid insee");
    if (role < STORE_ROLE_LECTEUR || role > STORE_ROLE_ADMIN)
        return gu_err_set(err, GU_EINVAL, "role",
                          "Le rôle doit être lecteur, agent ou admin.",
                          "store: invalid role %d", (int)role);
    rc = store_check_text(name, 1, 120, "name",
                          "Le nom doit comporter entre 1 et 120 caractères.",
                          err);
    if (rc < 0)
        return rc;
    memcpy(secret, TOKEN_PREFIX, plen);
    rc = random_token(secret + plen, sizeof(secret) - plen, err);
    if (rc < 0)
        return rc;
    gu_token_hash(secret, hash);
    struct store_val p[] = {
        STORE_T(insee),    STORE_T(store_role_name(role)),
        STORE_T(name),     STORE_T(hash),
        STORE_I(gu_now()),
    };
    rc = store_query_int(c,
                         "INSERT INTO api_tokens (insee, role, name,"
                         " token_hash, created_at) VALUES (?, ?, ?, ?, ?)"
                         " RETURNING id",
                         p, GU_ARRAY_LEN(p), NULL, &id, err);
    if (rc == GU_ECONFLICT)
        rc = gu_err_set(err, GU_ENOTFOUND, "insee", "Commune inconnue.",
                        "store: token for unknown commune %s", insee);
    if (rc < 0)
        return rc;
    snprintf(secret_out, cap, "%s", secret);
    if (id_out)
        *id_out = id;
    return 0;
}

#define TOKEN_COLS "id, insee, role, name, created_at, last_used_at, revoked_at"

static void
fill_token(const struct store_rows *r, size_t i, struct store_token *t)
{
    t->id = store_int(r, i, 0);
    snprintf(t->insee, sizeof(t->insee), "%s", or_empty(store_text(r, i, 1)));
    (void)store_role_parse(store_text(r, i, 2), &t->role);
    t->name = or_empty(store_text(r, i, 3));
    t->created_at = store_int(r, i, 4);
    t->last_used_at = store_int(r, i, 5);
    t->revoked = store_int(r, i, 6) != 0;
}

int
store_token_check(struct store_conn *c, struct gu_arena *a, const char *secret,
                  struct store_token *out, struct gu_err *err)
{
    struct store_rows *r;
    char hash[65];
    int64_t now;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!secret || strncmp(secret, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
        return gu_err_set(err, GU_EAUTH, NULL, msg_token,
                          "store: malformed token");
    gu_token_hash(secret, hash);
    struct store_val p[1] = {STORE_T(hash)};
    rc = store_query(c, a,
                     "SELECT " TOKEN_COLS " FROM api_tokens"
                     " WHERE token_hash = ?",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_EAUTH, NULL, msg_token,
                          "store: unknown token");
    fill_token(r, 0, out);
    if (out->revoked) {
        int64_t id = out->id;
        memset(out, 0, sizeof(*out));
        return gu_err_set(err, GU_EAUTH, NULL, msg_token,
                          "store: token %lld revoked", (long long)id);
    }
    now = gu_now();
    if (now - out->last_used_at >= TOKEN_TOUCH_S) {
        struct store_val q[] = {STORE_I(now), STORE_I(out->id)};
        rc = store_exec(c,
                        "UPDATE api_tokens SET last_used_at = ?"
                        " WHERE id = ?",
                        q, 2, err);
        if (rc < 0) {
            memset(out, 0, sizeof(*out));
            return rc;
        }
        out->last_used_at = now;
    }
    return 0;
}

int
store_token_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                 struct store_token **out, size_t *count, struct gu_err *err)
{
    struct store_val p[1] = {STORE_T(insee)};
    struct store_token *v;
    struct store_rows *r;
    int rc;

    *out = NULL;
    *count = 0;
    /* Two statements rather than "? IS NULL": PostgreSQL cannot type it. */
    if (insee)
        rc = store_query(c, a,
                         "SELECT " TOKEN_COLS " FROM api_tokens"
                         " WHERE insee = ? ORDER BY id",
                         p, 1, &r, err);
    else
        rc = store_query(c, a,
                         "SELECT " TOKEN_COLS " FROM api_tokens ORDER BY id",
                         NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    for (size_t i = 0; i < r->nrows; i++)
        fill_token(r, i, &v[i]);
    *out = v;
    *count = r->nrows;
    return 0;
}

int
store_token_revoke(struct store_conn *c, const char *insee, int64_t id,
                   struct gu_err *err)
{
    int64_t changes = 0;
    int rc;

    /* Revoking twice keeps the first date and succeeds. */
    struct store_val p[] = {STORE_I(gu_now()), STORE_I(id), STORE_T(insee)};
    if (insee)
        rc = store_exec_changes(c,
                                "UPDATE api_tokens SET revoked_at ="
                                " CASE WHEN revoked_at = 0 THEN ?"
                                " ELSE revoked_at END"
                                " WHERE id = ? AND insee = ?",
                                p, 3, &changes, err);
    else
        rc = store_exec_changes(c,
                                "UPDATE api_tokens SET revoked_at ="
                                " CASE WHEN revoked_at = 0 THEN ?"
                                " ELSE revoked_at END WHERE id = ?",
                                p, 2, &changes, err);
    if (rc == 0 && changes == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL, "Jeton inconnu.",
                        "store: no token %lld", (long long)id);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Rate limits                                                         */
/* ------------------------------------------------------------------ */

int
store_rate_hit(struct store_conn *c, const char *key, int limit, int window_s,
               int *retry_after_s, struct gu_err *err)
{
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    int64_t now, start, hits, retry;
    int rc;

    if (retry_after_s)
        *retry_after_s = 0;
    if (!key || !*key || limit < 0 || window_s <= 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "store: bad rate limit arguments");
    /* Windows aligned on multiples of window_s: the classic fixed window. */
    now = gu_now();
    start = now - now % window_s;
    a = gu_arena_new(512);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    struct store_val p[] = {STORE_T(key), STORE_I(start)};
    rc = store_query(c, a,
                     "INSERT INTO rate_limits (key, window_start, hits)"
                     " VALUES (?, ?, 1) ON CONFLICT (key) DO UPDATE SET"
                     " hits = CASE WHEN rate_limits.window_start ="
                     " excluded.window_start THEN rate_limits.hits + 1"
                     " ELSE 1 END,"
                     " window_start = excluded.window_start"
                     " RETURNING hits",
                     p, GU_ARRAY_LEN(p), &r, err);
    if (rc < 0)
        goto out;
    hits = store_int(r, 0, 0);
    retry = start + window_s - now;
    if (retry_after_s)
        *retry_after_s = (int)retry;
    if (hits > limit) {
        char user[128];
        snprintf(user, sizeof(user),
                 "Trop de demandes. Réessayez dans %lld seconde%s.",
                 (long long)retry, retry > 1 ? "s" : "");
        rc = gu_err_set(err, GU_ERATE, NULL, user,
                        "store: rate limit %d/%ds exceeded", limit, window_s);
    }
out:
    gu_arena_free(a);
    return rc;
}

int
store_rate_purge(struct store_conn *c, int older_than_s, struct gu_err *err)
{
    struct store_val p[1] = {STORE_I(gu_now() - older_than_s)};
    int64_t changes = 0;
    int rc;

    rc = store_exec_changes(c, "DELETE FROM rate_limits WHERE window_start < ?",
                            p, 1, &changes, err);
    if (rc < 0)
        return rc;
    return changes > 0x7fffffff ? 0x7fffffff : (int)changes;
}
