/*
 * store_tenancy.c - communes, agents, their roles, and password login.
 *
 * Input is validated here, at the edge of the database, with French
 * messages for people. Only the neutral store_query() family is used, so
 * this file works on any backend. Passwords are hashed with core's
 * argon2id (gu_password_hash) outside any transaction: hashing is slow by
 * design and must not hold the write lock (when the caller already holds
 * a transaction, as the admin module does, it still runs inside it).
 * store_commune_create() keeps a non-zero m->created_at (imports) and
 * stamps the current time otherwise.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

#define NAME_MAX_CHARS 120
#define PASSWORD_MIN_CHARS 12
#define PASSWORD_MAX_BYTES 1024

static const char msg_insee[] =
    "Le code INSEE doit comporter 5 caractères (ex. 44109).";
static const char msg_name[] =
    "Le nom doit comporter entre 1 et 120 caractères.";
static const char msg_zone[] =
    "La zone doit être l'une de : A, B, C, corse, guadeloupe, martinique, "
    "guyane, reunion, mayotte.";
static const char msg_email[] = "Adresse e-mail invalide.";
static const char msg_login[] =
    "L'identifiant doit comporter de 2 à 64 caractères : lettres "
    "minuscules sans accent, chiffres, point, tiret ou tiret bas.";
static const char msg_password[] =
    "Le mot de passe doit comporter au moins 12 caractères.";
static const char msg_bad_login[] = "Identifiant ou mot de passe incorrect.";
static const char msg_no_commune[] = "Commune inconnue.";
static const char msg_no_agent[] = "Agent inconnu.";

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

static bool
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

bool
store_insee_valid(const char *insee)
{
    if (!insee || strlen(insee) != 5)
        return false;
    for (int i = 2; i < 5; i++) {
        if (!is_digit(insee[i]))
            return false;
    }
    if (!is_digit(insee[0]))
        return false;
    /* Corsica: 2A (Corse-du-Sud) and 2B (Haute-Corse). */
    return is_digit(insee[1]) ||
           (insee[0] == '2' && (insee[1] == 'A' || insee[1] == 'B'));
}

bool
store_insee_sandbox(const char *insee)
{
    return store_insee_valid(insee) &&
           strcmp(insee, STORE_SANDBOX_FIRST) >= 0 &&
           strcmp(insee, STORE_SANDBOX_LAST) <= 0;
}

bool
store_login_valid(const char *login)
{
    size_t n;

    if (!login)
        return false;
    n = strlen(login);
    if (n < 2 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = login[i];
        if (!((ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '.' ||
              ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static bool
zone_valid(const char *zone)
{
    const char *p = STORE_ZONES;
    size_t n;

    if (!zone || !*zone)
        return false;
    n = strlen(zone);
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && memcmp(p, zone, n) == 0)
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

/* A display name: 1..120 characters, not only blanks. */
static int
check_name(const char *name, struct gu_err *err)
{
    int rc = store_check_text(name, 1, NAME_MAX_CHARS, "name", msg_name, err);

    if (rc == 0 && gu_str_trim(gu_str_c(name)).n == 0)
        rc = gu_err_set(err, GU_EINVAL, "name", msg_name, "store: blank name");
    return rc;
}

/* Empty, or one '@' with text on both sides, no blanks, <= 254 bytes. */
static int
check_email(const char *email, struct gu_err *err)
{
    const char *at;
    size_t n;

    if (!email || !*email)
        return 0;
    n = strlen(email);
    at = strchr(email, '@');
    if (n > 254 || !at || at == email || !at[1] || strchr(at + 1, '@'))
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)email[i] <= ' ' || email[i] == 0x7f)
            goto bad;
    }
    if (!gu_utf8_valid(email, n))
        goto bad;
    return 0;
bad:
    return gu_err_set(err, GU_EINVAL, "email", msg_email,
                      "store: invalid email");
}

static int
check_password(const char *pw, struct gu_err *err)
{
    long n;

    if (!pw || strlen(pw) > PASSWORD_MAX_BYTES)
        return gu_err_set(err, GU_EINVAL, "password",
                          "Le mot de passe est trop long (1024 octets au "
                          "plus).",
                          "store: password missing or too long");
    n = store_utf8_len(pw);
    if (n < PASSWORD_MIN_CHARS)
        return gu_err_set(err, GU_EINVAL, "password", msg_password,
                          "store: password too short or not UTF-8");
    return 0;
}

static int
check_insee(const char *insee, struct gu_err *err)
{
    if (!store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "insee", msg_insee,
                          "store: invalid insee");
    return 0;
}

static const char *
or_empty(const char *s)
{
    return s ? s : "";
}

/* ------------------------------------------------------------------ */
/* Communes                                                            */
/* ------------------------------------------------------------------ */

static int
check_commune(const struct store_commune *m, struct gu_err *err)
{
    int rc;

    rc = check_insee(m->insee, err);
    if (rc == 0)
        rc = check_name(m->name, err);
    if (rc == 0 && !zone_valid(m->zone))
        rc =
            gu_err_set(err, GU_EINVAL, "zone", msg_zone, "store: invalid zone");
    if (rc == 0)
        rc = store_check_text(m->hours, 0, 2000, "hours",
                              "Les horaires sont trop longs (2000 caractères "
                              "au plus).",
                              err);
    if (rc == 0)
        rc = store_check_text(m->address, 0, 500, "address",
                              "L'adresse est trop longue (500 caractères au "
                              "plus).",
                              err);
    if (rc == 0)
        rc = store_check_text(m->phone, 0, 40, "phone",
                              "Le numéro de téléphone est trop long.", err);
    if (rc == 0)
        rc = check_email(m->email, err);
    return rc;
}

int
store_commune_create(struct store_conn *c, const struct store_commune *m,
                     struct gu_err *err)
{
    int rc = check_commune(m, err);

    if (rc < 0)
        return rc;
    struct store_val p[] = {
        STORE_T(m->insee),
        STORE_T(m->name),
        STORE_T(m->zone),
        STORE_T(or_empty(m->hours)),
        STORE_T(or_empty(m->address)),
        STORE_T(or_empty(m->phone)),
        STORE_T(or_empty(m->email)),
        STORE_I(m->created_at ? m->created_at : gu_now()),
    };
    rc = store_exec(c,
                    "INSERT INTO communes (insee, name, zone, hours, address,"
                    " phone, email, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    p, GU_ARRAY_LEN(p), err);
    if (rc == GU_ECONFLICT)
        gu_err_set(err, rc, "insee",
                   "Une commune avec ce code INSEE existe déjà.",
                   "store: commune %s exists", m->insee);
    return rc;
}

int
store_commune_update(struct store_conn *c, const struct store_commune *m,
                     struct gu_err *err)
{
    int64_t changes = 0;
    int rc = check_commune(m, err);

    if (rc < 0)
        return rc;
    struct store_val p[] = {
        STORE_T(m->name),
        STORE_T(m->zone),
        STORE_T(or_empty(m->hours)),
        STORE_T(or_empty(m->address)),
        STORE_T(or_empty(m->phone)),
        STORE_T(or_empty(m->email)),
        STORE_T(m->insee),
    };
    rc = store_exec_changes(c,
                            "UPDATE communes SET name = ?, zone = ?,"
                            " hours = ?, address = ?, phone = ?, email = ?"
                            " WHERE insee = ?",
                            p, GU_ARRAY_LEN(p), &changes, err);
    if (rc == 0 && changes == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, "insee", msg_no_commune,
                        "store: no commune %s", m->insee);
    return rc;
}

#define COMMUNE_COLS                                                           \
    "insee, name, zone, hours, address, phone, email, created_at"

static void
fill_commune(const struct store_rows *r, size_t i, struct store_commune *m)
{
    snprintf(m->insee, sizeof(m->insee), "%s", or_empty(store_text(r, i, 0)));
    m->name = or_empty(store_text(r, i, 1));
    m->zone = or_empty(store_text(r, i, 2));
    m->hours = or_empty(store_text(r, i, 3));
    m->address = or_empty(store_text(r, i, 4));
    m->phone = or_empty(store_text(r, i, 5));
    m->email = or_empty(store_text(r, i, 6));
    m->created_at = store_int(r, i, 7);
}

int
store_commune_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                  struct store_commune *out, struct gu_err *err)
{
    struct store_val p[1] = {STORE_T(insee)};
    struct store_rows *r;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!store_insee_valid(insee))
        return gu_err_set(err, GU_ENOTFOUND, "insee", msg_no_commune,
                          "store: invalid insee");
    rc = store_query(c, a,
                     "SELECT " COMMUNE_COLS " FROM communes WHERE insee = ?", p,
                     1, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "insee", msg_no_commune,
                          "store: no commune %s", insee);
    fill_commune(r, 0, out);
    return 0;
}

int
store_commune_list(struct store_conn *c, struct gu_arena *a,
                   struct store_commune **out, size_t *count,
                   struct gu_err *err)
{
    struct store_commune *v;
    struct store_rows *r;
    int rc;

    *out = NULL;
    *count = 0;
    rc = store_query(
        c, a, "SELECT " COMMUNE_COLS " FROM communes ORDER BY name, insee",
        NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    for (size_t i = 0; i < r->nrows; i++)
        fill_commune(r, i, &v[i]);
    *out = v;
    *count = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Roles                                                               */
/* ------------------------------------------------------------------ */

static const char *const role_names[] = {"none", "lecteur", "agent", "admin"};

const char *
store_role_name(enum store_role r)
{
    if ((int)r < 0 || (size_t)r >= GU_ARRAY_LEN(role_names))
        return "none";
    return role_names[r];
}

int
store_role_parse(const char *s, enum store_role *out)
{
    *out = STORE_ROLE_NONE;
    if (!s)
        return GU_EINVAL;
    for (size_t i = 1; i < GU_ARRAY_LEN(role_names); i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum store_role)i;
            return 0;
        }
    }
    return GU_EINVAL;
}

static int
check_role(enum store_role role, struct gu_err *err)
{
    if (role < STORE_ROLE_LECTEUR || role > STORE_ROLE_ADMIN)
        return gu_err_set(err, GU_EINVAL, "role",
                          "Le rôle doit être lecteur, agent ou admin.",
                          "store: invalid role %d", (int)role);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Agents                                                              */
/* ------------------------------------------------------------------ */

static int
commune_exists(struct store_conn *c, const char *insee, struct gu_err *err)
{
    struct store_val p[1] = {STORE_T(insee)};
    bool found = false;
    int rc;

    rc = store_query_int(c, "SELECT 1 FROM communes WHERE insee = ?", p, 1,
                         &found, NULL, err);
    if (rc == 0 && !found)
        rc = gu_err_set(err, GU_ENOTFOUND, "insee", msg_no_commune,
                        "store: no commune %s", insee);
    return rc;
}

static int
agent_exists(struct store_conn *c, int64_t id, struct gu_err *err)
{
    struct store_val p[1] = {STORE_I(id)};
    bool found = false;
    int rc;

    rc = store_query_int(c, "SELECT 1 FROM agents WHERE id = ?", p, 1, &found,
                         NULL, err);
    if (rc == 0 && !found)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL, msg_no_agent,
                        "store: no agent %lld", (long long)id);
    return rc;
}

static int
hash_password(const char *pw, char *out, size_t cap, struct gu_err *err)
{
    int rc = gu_password_hash(pw, out, cap);

    if (rc < 0)
        return gu_err_set(err, rc, NULL, NULL, "store: password hash: %s",
                          gu_status_name(rc));
    return 0;
}

int
store_password_hash(const char *password, char *out, size_t cap,
                    struct gu_err *err)
{
    int rc = check_password(password, err);

    return rc < 0 ? rc : hash_password(password, out, cap, err);
}

int
store_agent_create(struct store_conn *c, const char *login, const char *name,
                   const char *email, const char *password, bool must_change,
                   const char *insee, enum store_role role, int64_t *id_out,
                   struct gu_err *err)
{
    char hash[256];
    int rc;

    if (id_out)
        *id_out = 0;
    if (!store_login_valid(login))
        return gu_err_set(err, GU_EINVAL, "login", msg_login,
                          "store: invalid login");
    rc = check_name(name, err);
    if (rc == 0)
        rc = check_email(email, err);
    if (rc == 0)
        rc = check_insee(insee, err);
    if (rc == 0)
        rc = check_role(role, err);
    if (rc == 0)
        rc = store_password_hash(password, hash, sizeof(hash), err);
    if (rc < 0)
        return rc;
    return store_agent_create_hashed(c, login, name, email, hash, must_change,
                                     insee, role, id_out, err);
}

int
store_agent_create_hashed(struct store_conn *c, const char *login,
                          const char *name, const char *email,
                          const char *password_hash, bool must_change,
                          const char *insee, enum store_role role,
                          int64_t *id_out, struct gu_err *err)
{
    int64_t id = 0;
    int rc;

    if (id_out)
        *id_out = 0;
    if (!store_login_valid(login))
        return gu_err_set(err, GU_EINVAL, "login", msg_login,
                          "store: invalid login");
    rc = check_name(name, err);
    if (rc == 0)
        rc = check_email(email, err);
    if (rc == 0)
        rc = check_insee(insee, err);
    if (rc == 0)
        rc = check_role(role, err);
    if (rc == 0 && (!password_hash || strncmp(password_hash, "$argon2", 7)))
        rc = gu_err_set(err, GU_EINVAL, NULL, NULL,
                        "store: not a password hash");
    if (rc < 0)
        return rc;

    rc = store_tx_enter(c, err);
    if (rc < 0)
        return rc;
    rc = commune_exists(c, insee, err);
    if (rc == 0) {
        struct store_val p[] = {
            STORE_T(login),         STORE_T(name),
            STORE_T(or_empty(email)), STORE_T(password_hash),
            STORE_I(must_change),   STORE_I(gu_now()),
        };
        rc = store_query_int(c,
                             "INSERT INTO agents (login, name, email,"
                             " password_hash, must_change_password,"
                             " created_at) VALUES (?, ?, ?, ?, ?, ?)"
                             " RETURNING id",
                             p, GU_ARRAY_LEN(p), NULL, &id, err);
        if (rc == GU_ECONFLICT)
            gu_err_set(err, rc, "login", "Cet identifiant est déjà utilisé.",
                       "store: login %s exists", login);
    }
    if (rc == 0) {
        struct store_val p[] = {STORE_I(id), STORE_T(insee),
                                STORE_T(store_role_name(role))};
        rc = store_exec(c,
                        "INSERT INTO agent_communes (agent_id, insee, role)"
                        " VALUES (?, ?, ?)",
                        p, 3, err);
    }
    rc = store_tx_leave(c, rc, err);
    if (rc == 0 && id_out)
        *id_out = id;
    return rc;
}

#define AGENT_COLS                                                             \
    "id, login, name, email, disabled, must_change_password, created_at,"      \
    " last_login_at"

static void
fill_agent(const struct store_rows *r, size_t i, struct store_agent *a)
{
    a->id = store_int(r, i, 0);
    a->login = or_empty(store_text(r, i, 1));
    a->name = or_empty(store_text(r, i, 2));
    a->email = or_empty(store_text(r, i, 3));
    a->disabled = store_int(r, i, 4) != 0;
    a->must_change_password = store_int(r, i, 5) != 0;
    a->created_at = store_int(r, i, 6);
    a->last_login_at = store_int(r, i, 7);
}

static int
agent_one(struct store_conn *c, struct gu_arena *a, const char *sql,
          struct store_val key, struct store_agent *out, struct gu_err *err)
{
    struct store_rows *r;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_query(c, a, sql, &key, 1, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL, msg_no_agent,
                          "store: no such agent");
    fill_agent(r, 0, out);
    return 0;
}

int
store_agent_get(struct store_conn *c, struct gu_arena *a, int64_t id,
                struct store_agent *out, struct gu_err *err)
{
    return agent_one(c, a, "SELECT " AGENT_COLS " FROM agents WHERE id = ?",
                     STORE_I(id), out, err);
}

int
store_agent_by_login(struct store_conn *c, struct gu_arena *a,
                     const char *login, struct store_agent *out,
                     struct gu_err *err)
{
    if (!login) {
        memset(out, 0, sizeof(*out));
        return gu_err_set(err, GU_ENOTFOUND, NULL, msg_no_agent,
                          "store: no login");
    }
    return agent_one(c, a, "SELECT " AGENT_COLS " FROM agents WHERE login = ?",
                     STORE_T(login), out, err);
}

int
store_agent_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                 struct store_agent **out, size_t *count, struct gu_err *err)
{
    struct store_val p[1] = {STORE_T(insee)};
    struct store_agent *v;
    struct store_rows *r;
    int rc;

    *out = NULL;
    *count = 0;
    if (insee)
        rc = store_query(c, a,
                         "SELECT " AGENT_COLS " FROM agents WHERE id IN"
                         " (SELECT agent_id FROM agent_communes"
                         " WHERE insee = ?) ORDER BY login",
                         p, 1, &r, err);
    else
        rc = store_query(c, a,
                         "SELECT " AGENT_COLS " FROM agents ORDER BY login",
                         NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    for (size_t i = 0; i < r->nrows; i++)
        fill_agent(r, i, &v[i]);
    *out = v;
    *count = r->nrows;
    return 0;
}

/* An UPDATE of one agent by id: ENOTFOUND when no row changed. */
static int
agent_update(struct store_conn *c, const char *sql, const struct store_val *p,
             size_t n, struct gu_err *err)
{
    int64_t changes = 0;
    int rc;

    rc = store_exec_changes(c, sql, p, n, &changes, err);
    if (rc == 0 && changes == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL, msg_no_agent,
                        "store: no such agent");
    return rc;
}

int
store_agent_set_password(struct store_conn *c, int64_t id, const char *password,
                         bool must_change, struct gu_err *err)
{
    char hash[256];
    int rc = store_password_hash(password, hash, sizeof(hash), err);

    return rc < 0 ? rc
                  : store_agent_set_password_hashed(c, id, hash, must_change,
                                                    err);
}

int
store_agent_set_password_hashed(struct store_conn *c, int64_t id,
                                const char *password_hash, bool must_change,
                                struct gu_err *err)
{
    if (!password_hash || strncmp(password_hash, "$argon2", 7))
        return gu_err_set(err, GU_EINVAL, NULL, NULL,
                          "store: not a password hash");
    /* A new password also lifts a lockout: an admin reset unlocks. */
    struct store_val p[] = {STORE_T(password_hash), STORE_I(must_change),
                            STORE_I(id)};
    return agent_update(c,
                        "UPDATE agents SET password_hash = ?,"
                        " must_change_password = ?, failed_logins = 0,"
                        " locked_until = 0 WHERE id = ?",
                        p, GU_ARRAY_LEN(p), err);
}

int
store_agent_set_disabled(struct store_conn *c, int64_t id, bool disabled,
                         struct gu_err *err)
{
    struct store_val p[] = {STORE_I(disabled), STORE_I(id)};

    return agent_update(c, "UPDATE agents SET disabled = ? WHERE id = ?", p, 2,
                        err);
}

int
store_agent_update(struct store_conn *c, int64_t id, const char *name,
                   const char *email, struct gu_err *err)
{
    int rc = check_name(name, err);

    if (rc == 0)
        rc = check_email(email, err);
    if (rc < 0)
        return rc;
    struct store_val p[] = {STORE_T(name), STORE_T(or_empty(email)),
                            STORE_I(id)};
    return agent_update(c, "UPDATE agents SET name = ?, email = ? WHERE id = ?",
                        p, GU_ARRAY_LEN(p), err);
}

int
store_agent_set_role(struct store_conn *c, int64_t id, const char *insee,
                     enum store_role role, struct gu_err *err)
{
    int rc = check_insee(insee, err);

    if (rc < 0)
        return rc;
    if (role == STORE_ROLE_NONE) {
        struct store_val p[] = {STORE_I(id), STORE_T(insee)};
        /* Removing a membership that does not exist is not an error. */
        return store_exec(c,
                          "DELETE FROM agent_communes"
                          " WHERE agent_id = ? AND insee = ?",
                          p, 2, err);
    }
    rc = check_role(role, err);
    if (rc < 0)
        return rc;
    rc = agent_exists(c, id, err);
    if (rc == 0)
        rc = commune_exists(c, insee, err);
    if (rc == 0) {
        struct store_val p[] = {STORE_I(id), STORE_T(insee),
                                STORE_T(store_role_name(role))};
        rc = store_exec(c,
                        "INSERT INTO agent_communes (agent_id, insee, role)"
                        " VALUES (?, ?, ?) ON CONFLICT (agent_id, insee)"
                        " DO UPDATE SET role = excluded.role",
                        p, 3, err);
    }
    return rc;
}

int
store_agent_memberships(struct store_conn *c, struct gu_arena *a, int64_t id,
                        struct store_membership **out, size_t *count,
                        struct gu_err *err)
{
    struct store_val p[1] = {STORE_I(id)};
    struct store_membership *v;
    struct store_rows *r;
    int rc;

    *out = NULL;
    *count = 0;
    rc = store_query(c, a,
                     "SELECT m.insee, c.name, m.role FROM agent_communes m"
                     " JOIN communes c ON c.insee = m.insee"
                     " WHERE m.agent_id = ? ORDER BY c.name, m.insee",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
    for (size_t i = 0; i < r->nrows; i++) {
        snprintf(v[i].insee, sizeof(v[i].insee), "%s",
                 or_empty(store_text(r, i, 0)));
        v[i].commune_name = or_empty(store_text(r, i, 1));
        (void)store_role_parse(store_text(r, i, 2), &v[i].role);
    }
    *out = v;
    *count = r->nrows;
    return 0;
}

enum store_role
store_agent_role(struct store_conn *c, int64_t id, const char *insee)
{
    struct gu_arena *a;
    struct store_rows *r = NULL;
    enum store_role role = STORE_ROLE_NONE;
    struct gu_err err;

    if (!store_insee_valid(insee))
        return STORE_ROLE_NONE;
    a = gu_arena_new(512);
    if (!a)
        return STORE_ROLE_NONE;
    struct store_val p[] = {STORE_I(id), STORE_T(insee)};
    /* A disabled agent has no rights anywhere, whatever its memberships. */
    if (store_query(c, a,
                    "SELECT m.role FROM agent_communes m"
                    " JOIN agents a ON a.id = m.agent_id"
                    " WHERE m.agent_id = ? AND m.insee = ?"
                    " AND a.disabled = 0",
                    p, 2, &r, &err) == 0 &&
        r->nrows == 1)
        (void)store_role_parse(store_text(r, 0, 0), &role);
    gu_arena_free(a);
    return role;
}

/* ------------------------------------------------------------------ */
/* Authentication                                                      */
/* ------------------------------------------------------------------ */

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[256];

static void
dummy_init(void)
{
    if (gu_password_hash("guichet: no such account", dummy_hash,
                         sizeof(dummy_hash)) < 0)
        dummy_hash[0] = '\0';
}

/*
 * Spend the time of one password check on a login that does not exist,
 * so response times do not reveal which logins exist.
 */
static void
dummy_check(const char *password)
{
    pthread_once(&dummy_once, dummy_init);
    if (dummy_hash[0])
        (void)gu_password_check(dummy_hash, password ? password : "");
}

int
store_agent_authenticate(struct store_conn *c, struct gu_arena *a,
                         const char *login, const char *password,
                         int max_failures, int lockout_s,
                         struct store_agent *out, struct gu_err *err)
{
    struct store_rows *r;
    int64_t now, locked_until, id;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!store_login_valid(login) || !password) {
        dummy_check(password);
        return gu_err_set(err, GU_EAUTH, "login", msg_bad_login,
                          "auth: malformed login");
    }
    struct store_val key[1] = {STORE_T(login)};
    rc = store_query(c, a,
                     "SELECT " AGENT_COLS ", password_hash, locked_until"
                     " FROM agents WHERE login = ?",
                     key, 1, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0) {
        dummy_check(password);
        return gu_err_set(err, GU_EAUTH, "login", msg_bad_login,
                          "auth: unknown login");
    }
    id = store_int(r, 0, 0);
    locked_until = store_int(r, 0, 9);
    now = gu_now();
    if (locked_until > now) {
        int64_t min = (locked_until - now + 59) / 60;
        char user[160];
        snprintf(user, sizeof(user),
                 "Compte temporairement verrouillé après trop d'échecs. "
                 "Réessayez dans %lld minute%s.",
                 (long long)min, min > 1 ? "s" : "");
        return gu_err_set(err, GU_ERATE, "login", user,
                          "auth: account %lld locked for %llds", (long long)id,
                          (long long)(locked_until - now));
    }
    if (!gu_password_check(or_empty(store_text(r, 0, 8)), password)) {
        if (max_failures > 0) {
            /*
             * One atomic statement, so concurrent attempts all count.
             * Reaching the limit locks and restarts the count, so the
             * next lock needs another max_failures failures.
             */
            struct store_val p[] = {
                STORE_I(max_failures),
                STORE_I(max_failures),
                STORE_I(now + (lockout_s > 0 ? lockout_s : 0)),
                STORE_I(id),
            };
            rc = store_exec(c,
                            "UPDATE agents SET"
                            " failed_logins = CASE WHEN failed_logins + 1 >= ?"
                            " THEN 0 ELSE failed_logins + 1 END,"
                            " locked_until = CASE WHEN failed_logins + 1 >= ?"
                            " THEN ? ELSE locked_until END"
                            " WHERE id = ?",
                            p, GU_ARRAY_LEN(p), err);
            if (rc < 0)
                return rc;
        }
        return gu_err_set(err, GU_EAUTH, "login", msg_bad_login,
                          "auth: wrong password for %lld", (long long)id);
    }
    if (store_int(r, 0, 4))
        return gu_err_set(err, GU_EAUTH, "login", msg_bad_login,
                          "auth: account %lld disabled", (long long)id);
    struct store_val p[] = {STORE_I(now), STORE_I(id)};
    rc = store_exec(c,
                    "UPDATE agents SET failed_logins = 0, locked_until = 0,"
                    " last_login_at = ? WHERE id = ?",
                    p, 2, err);
    if (rc < 0)
        return rc;
    /* last_login_at stays the previous one, for "dernière connexion". */
    fill_agent(r, 0, out);
    return 0;
}
