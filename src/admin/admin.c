/*
 * admin.c - rules of commune administration (see admin.h). Each change
 * runs in one transaction together with its audit entry; on any failure
 * the transaction is rolled back, so nothing is half-done.
 */
#include "admin/admin.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_CHARS 100
#define EMAIL_MAX 254
#define TOKEN_NAME_MAX 64

/* Number of UTF-8 code points in a valid UTF-8 string. */
static size_t
utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    }
    return n;
}

static bool
has_control(const char *s, bool allow_newline)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '\n' && allow_newline)
            continue;
        if (ch == '\r' && allow_newline)
            continue;
        if (ch < 0x20 || ch == 0x7F)
            return true;
    }
    return false;
}

/* A text field: valid UTF-8, no control characters, within max chars. */
static int
check_text(const char *s, const char *field, const char *label, bool required,
           size_t max, bool multiline, struct gu_err *err)
{
    char msg[160];

    if (!gu_utf8_valid(s, strlen(s)) || has_control(s, multiline)) {
        snprintf(msg, sizeof(msg),
                 "%s contient des caractères non "
                 "autorisés.",
                 label);
        return gu_err_set(err, GU_EINVAL, field, msg, "bad chars in %s", field);
    }
    if (required && gu_str_trim(gu_str_c(s)).n == 0) {
        snprintf(msg, sizeof(msg), "%s est obligatoire.", label);
        return gu_err_set(err, GU_EINVAL, field, msg, "empty %s", field);
    }
    if (utf8_chars(s) > max) {
        snprintf(msg, sizeof(msg),
                 "%s ne doit pas dépasser %zu "
                 "caractères.",
                 label, max);
        return gu_err_set(err, GU_EINVAL, field, msg, "%s too long", field);
    }
    return 0;
}

/* A plausible address: one @, something on each side, a dot after it. */
static int
check_email(const char *s, struct gu_err *err)
{
    const char *at = strchr(s, '@');
    size_t n = strlen(s);

    if (n == 0)
        return 0;
    if (n > EMAIL_MAX || !at || at == s || strchr(at + 1, '@') ||
        !strchr(at + 1, '.') || at[1] == '.' || s[n - 1] == '.')
        goto bad;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;

        if (ch <= 0x20 || ch >= 0x7F || strchr("<>()[]\\,;:\"", ch))
            goto bad;
    }
    return 0;
bad:
    return gu_err_set(err, GU_EINVAL, "email",
                      "Adresse électronique invalide (exemple : "
                      "prenom.nom@mairie.fr).",
                      "bad email");
}

static int
check_role(enum store_role role, struct gu_err *err)
{
    if (role == STORE_ROLE_LECTEUR || role == STORE_ROLE_AGENT ||
        role == STORE_ROLE_ADMIN)
        return 0;
    return gu_err_set(err, GU_EINVAL, "role",
                      "Rôle invalide : choisissez lecteur, agent ou admin.",
                      "bad role %d", (int)role);
}

static int
audit(const struct admin_ctx *x, const char *action, const char *target,
      const char *detail, struct gu_err *err)
{
    return store_audit_add(x->conn, x->insee, x->actor ? x->actor : "", action,
                           target ? target : "", detail ? detail : "",
                           x->request_id ? x->request_id : "", err);
}

int
admin_agent_list(const struct admin_ctx *x, struct admin_agent **out,
                 size_t *count, struct gu_err *err)
{
    struct store_agent *list = NULL;
    struct admin_agent *res;
    size_t n = 0;
    int rc;

    rc = store_agent_list(x->conn, x->arena, x->insee, &list, &n, err);
    if (rc < 0)
        return rc;
    res = gu_arena_zalloc(x->arena, (n ? n : 1) * sizeof(*res));
    if (!res)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < n; i++) {
        res[i].agent = list[i];
        res[i].role = store_agent_role(x->conn, list[i].id, x->insee);
    }
    *out = res;
    *count = n;
    return 0;
}

int
admin_agent_get(const struct admin_ctx *x, int64_t id, struct admin_agent *out,
                struct gu_err *err)
{
    enum store_role role = store_agent_role(x->conn, id, x->insee);
    int rc;

    if (role == STORE_ROLE_NONE)
        return gu_err_set(err, GU_ENOTFOUND, "id",
                          "Cet agent n’existe pas dans cette commune.",
                          "agent %lld not in %s", (long long)id, x->insee);
    rc = store_agent_get(x->conn, x->arena, id, &out->agent, err);
    if (rc < 0)
        return rc;
    out->role = role;
    return 0;
}

int
admin_agent_create(const struct admin_ctx *x, const char *login,
                   const char *name, const char *email, enum store_role role,
                   char *pw_out, size_t cap, int64_t *id_out,
                   struct gu_err *err)
{
    int64_t id = 0;
    char detail[64];
    char hash[256];
    int rc;

    if (!email)
        email = "";
    if (!login || !store_login_valid(login))
        return gu_err_set(err, GU_EINVAL, "login",
                          "Identifiant invalide : 2 à 64 caractères parmi "
                          "minuscules, chiffres, point, tiret et tiret bas.",
                          "bad login");
    rc = check_text(name ? name : "", "name", "Le nom", true, NAME_MAX_CHARS,
                    false, err);
    if (rc < 0)
        return rc;
    rc = check_email(email, err);
    if (rc < 0)
        return rc;
    rc = check_role(role, err);
    if (rc < 0)
        return rc;
    rc = gu_password_generate(pw_out, cap);
    if (rc < 0)
        return gu_err_set(err, rc, NULL, NULL, "password generation");
    /* The slow hash happens before the write transaction takes the lock. */
    rc = store_password_hash(pw_out, hash, sizeof(hash), err);
    if (rc < 0) {
        memset(pw_out, 0, cap);
        return rc;
    }

    rc = store_begin(x->conn, err);
    if (rc < 0)
        return rc;
    rc = store_agent_create_hashed(x->conn, login, name, email, hash, true,
                                   x->insee, role, &id, err);
    if (rc == GU_ECONFLICT) {
        gu_err_set(err, GU_ECONFLICT, "login",
                   "Cet identifiant est déjà utilisé.", "login taken");
        goto out;
    }
    if (rc < 0)
        goto out;
    snprintf(detail, sizeof(detail), "role=%s", store_role_name(role));
    rc = audit(x, "user.create", login, detail, err);
    if (rc < 0)
        goto out;
    rc = store_commit(x->conn, err);
out:
    if (rc < 0) {
        store_rollback(x->conn);
        memset(pw_out, 0, cap);
        return rc;
    }
    if (id_out)
        *id_out = id;
    return 0;
}

/*
 * Active admins of the commune once agent `id` has `role` and
 * `disabled`.
 */
static int
admins_after(const struct admin_ctx *x, int64_t id, enum store_role role,
             bool disabled, size_t *out, struct gu_err *err)
{
    struct admin_agent *list = NULL;
    size_t n = 0, admins = 0;
    int rc;

    rc = admin_agent_list(x, &list, &n, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        enum store_role r = list[i].role;
        bool off = list[i].agent.disabled;

        if (list[i].agent.id == id) {
            r = role;
            off = disabled;
        }
        if (r == STORE_ROLE_ADMIN && !off)
            admins++;
    }
    *out = admins;
    return 0;
}

int
admin_agent_update(const struct admin_ctx *x, int64_t id,
                   const struct admin_agent_change *ch, struct gu_err *err)
{
    struct admin_agent cur;
    enum store_role role;
    bool disabled;
    size_t admins = 0;
    char detail[128];
    int rc;

    rc = admin_agent_get(x, id, &cur, err);
    if (rc < 0)
        return rc;
    if (ch->name) {
        rc = check_text(ch->name, "name", "Le nom", true, NAME_MAX_CHARS, false,
                        err);
        if (rc < 0)
            return rc;
    }
    if (ch->email) {
        rc = check_email(ch->email, err);
        if (rc < 0)
            return rc;
    }
    if (ch->set_role) {
        rc = check_role(ch->role, err);
        if (rc < 0)
            return rc;
    }
    role = ch->set_role ? ch->role : cur.role;
    disabled = ch->set_disabled ? ch->disabled : cur.agent.disabled;

    rc = store_begin(x->conn, err);
    if (rc < 0)
        return rc;
    /* Counted inside the transaction so two admins cannot race. */
    rc = admins_after(x, id, role, disabled, &admins, err);
    if (rc < 0)
        goto out;
    if (admins == 0) {
        rc = gu_err_set(err, GU_EPERM, ch->set_role ? "role" : "disabled",
                        id == x->actor_id
                            ? "Vous êtes le dernier administrateur actif "
                              "de la commune : nommez d’abord un autre "
                              "administrateur."
                            : "La commune doit garder au moins un "
                              "administrateur actif.",
                        "last admin of %s", x->insee);
        goto out;
    }
    if (ch->name || ch->email) {
        rc = store_agent_update(x->conn, id,
                                ch->name ? ch->name : cur.agent.name,
                                ch->email ? ch->email : cur.agent.email, err);
        if (rc < 0)
            goto out;
        /* Which fields, not their values: no personal data in audit. */
        snprintf(detail, sizeof(detail), "champs=%s%s%s",
                 ch->name ? "name" : "", ch->name && ch->email ? "," : "",
                 ch->email ? "email" : "");
        rc = audit(x, "user.update", cur.agent.login, detail, err);
        if (rc < 0)
            goto out;
    }
    if (role != cur.role) {
        rc = store_agent_set_role(x->conn, id, x->insee, role, err);
        if (rc < 0)
            goto out;
        snprintf(detail, sizeof(detail), "avant=%s apres=%s",
                 store_role_name(cur.role), store_role_name(role));
        rc = audit(x, "user.role", cur.agent.login, detail, err);
        if (rc < 0)
            goto out;
    }
    if (disabled != cur.agent.disabled) {
        rc = store_agent_set_disabled(x->conn, id, disabled, err);
        if (rc == 0 && disabled)
            rc = store_session_delete_agent(x->conn, id, err);
        if (rc < 0)
            goto out;
        rc = audit(x, disabled ? "user.disable" : "user.enable",
                   cur.agent.login, "", err);
        if (rc < 0)
            goto out;
    }
    rc = store_commit(x->conn, err);
out:
    if (rc < 0)
        store_rollback(x->conn);
    return rc;
}

int
admin_agent_reset_password(const struct admin_ctx *x, int64_t id, char *pw_out,
                           size_t cap, struct gu_err *err)
{
    struct admin_agent cur;
    char hash[256];
    int rc;

    rc = admin_agent_get(x, id, &cur, err);
    if (rc < 0)
        return rc;
    rc = gu_password_generate(pw_out, cap);
    if (rc < 0)
        return gu_err_set(err, rc, NULL, NULL, "password generation");
    rc = store_password_hash(pw_out, hash, sizeof(hash), err);
    if (rc < 0)
        goto out;
    rc = store_begin(x->conn, err);
    if (rc < 0)
        goto out;
    rc = store_agent_set_password_hashed(x->conn, id, hash, true, err);
    if (rc < 0)
        goto out;
    rc = store_session_delete_agent(x->conn, id, err);
    if (rc < 0)
        goto out;
    rc = audit(x, "user.password_reset", cur.agent.login, "", err);
    if (rc < 0)
        goto out;
    rc = store_commit(x->conn, err);
out:
    if (rc < 0) {
        store_rollback(x->conn);
        memset(pw_out, 0, cap);
    }
    return rc;
}

int
admin_password_policy(const char *login, const char *pw, struct gu_err *err)
{
    size_t n;

    if (!pw || !gu_utf8_valid(pw, strlen(pw)) || has_control(pw, false))
        return gu_err_set(err, GU_EINVAL, "new",
                          "Le mot de passe contient des caractères non "
                          "autorisés.",
                          "bad chars in password");
    n = utf8_chars(pw);
    if (n < ADMIN_PASSWORD_MIN)
        return gu_err_set(err, GU_EINVAL, "new",
                          "Le mot de passe doit contenir au moins 12 "
                          "caractères.",
                          "password too short");
    if (n > ADMIN_PASSWORD_MAX)
        return gu_err_set(err, GU_EINVAL, "new",
                          "Le mot de passe ne doit pas dépasser 128 "
                          "caractères.",
                          "password too long");
    if (login && strcmp(login, pw) == 0)
        return gu_err_set(err, GU_EINVAL, "new",
                          "Le mot de passe ne doit pas être votre "
                          "identifiant.",
                          "password equals login");
    return 0;
}

int
admin_password_change(const struct admin_ctx *x, const char *current,
                      const char *next, int max_failures, int lockout_s,
                      struct gu_err *err)
{
    struct store_agent me;
    int rc;

    if (x->actor_id <= 0 || !x->actor)
        return gu_err_set(err, GU_EPERM, NULL, NULL, "not an agent");
    rc = store_agent_authenticate(x->conn, x->arena, x->actor,
                                  current ? current : "", max_failures,
                                  lockout_s, &me, err);
    if (rc == GU_EAUTH) {
        /*
         * The caller is logged in, so say exactly what is wrong, and as
         * invalid input (422): a 401 would mean "session gone".
         */
        return gu_err_set(err, GU_EINVAL, "current",
                          "Le mot de passe actuel est incorrect.",
                          "wrong current password");
    }
    if (rc < 0)
        return rc;
    if (me.id != x->actor_id)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "id mismatch");
    rc = admin_password_policy(x->actor, next, err);
    if (rc < 0)
        return rc;
    if (strcmp(current, next) == 0)
        return gu_err_set(err, GU_EINVAL, "new",
                          "Le nouveau mot de passe doit être différent de "
                          "l’actuel.",
                          "same password");
    rc = store_begin(x->conn, err);
    if (rc < 0)
        return rc;
    rc = store_agent_set_password(x->conn, x->actor_id, next, false, err);
    if (rc < 0)
        goto out;
    /* Whoever knew the old password is logged out everywhere else. */
    rc = store_session_delete_agent_except(x->conn, x->actor_id,
                                           x->session_token, err);
    if (rc < 0)
        goto out;
    rc = audit(x, "password.change", x->actor, "", err);
    if (rc < 0)
        goto out;
    rc = store_commit(x->conn, err);
out:
    if (rc < 0)
        store_rollback(x->conn);
    return rc;
}

/* Phone numbers: digits, spaces, dots, dashes, parentheses, leading +. */
static int
check_phone(const char *s, struct gu_err *err)
{
    size_t digits = 0;

    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!strchr(" .-()", *p) && !(*p == '+' && p == s))
            goto bad;
    }
    if (s[0] == '\0' || (digits >= 3 && digits <= 15 && strlen(s) <= 40))
        return 0;
bad:
    return gu_err_set(err, GU_EINVAL, "phone",
                      "Numéro de téléphone invalide (exemple : "
                      "02 47 00 00 00).",
                      "bad phone");
}

int
admin_commune_update(const struct admin_ctx *x, const struct store_commune *m,
                     struct gu_err *err)
{
    struct store_commune cur;
    int rc;

    rc = store_commune_get(x->conn, x->arena, x->insee, &cur, err);
    if (rc < 0)
        return rc;
    if (m->name) {
        rc = check_text(m->name, "name", "Le nom de la commune", true, 120,
                        false, err);
        if (rc < 0)
            return rc;
        cur.name = m->name;
    }
    if (m->hours) {
        rc = check_text(m->hours, "hours", "Les horaires", false, 2000, true,
                        err);
        if (rc < 0)
            return rc;
        cur.hours = m->hours;
    }
    if (m->address) {
        rc = check_text(m->address, "address", "L’adresse", false, 300, true,
                        err);
        if (rc < 0)
            return rc;
        cur.address = m->address;
    }
    if (m->phone) {
        rc = check_phone(m->phone, err);
        if (rc < 0)
            return rc;
        cur.phone = m->phone;
    }
    if (m->email) {
        rc = check_email(m->email, err);
        if (rc < 0)
            return rc;
        cur.email = m->email;
    }
    if (m->zone)
        cur.zone = m->zone; /* checked by the store against STORE_ZONES */
    rc = store_begin(x->conn, err);
    if (rc < 0)
        return rc;
    rc = store_commune_update(x->conn, &cur, err);
    if (rc < 0)
        goto out;
    rc = audit(x, "commune.update", x->insee, "", err);
    if (rc < 0)
        goto out;
    rc = store_commit(x->conn, err);
out:
    if (rc < 0)
        store_rollback(x->conn);
    return rc;
}

int
admin_token_create(const struct admin_ctx *x, const char *name,
                   enum store_role role, char *secret_out, size_t cap,
                   int64_t *id_out, struct gu_err *err)
{
    char detail[64];
    int64_t id = 0;
    int rc;

    rc = check_text(name ? name : "", "name", "Le nom du jeton", true,
                    TOKEN_NAME_MAX, false, err);
    if (rc < 0)
        return rc;
    rc = check_role(role, err);
    if (rc < 0)
        return rc;
    rc = store_begin(x->conn, err);
    if (rc < 0)
        return rc;
    rc = store_token_create(x->conn, x->insee, role, name, secret_out, cap, &id,
                            err);
    if (rc < 0)
        goto out;
    snprintf(detail, sizeof(detail), "id=%lld role=%s", (long long)id,
             store_role_name(role));
    rc = audit(x, "token.create", name, detail, err);
    if (rc < 0)
        goto out;
    rc = store_commit(x->conn, err);
out:
    if (rc < 0) {
        store_rollback(x->conn);
        memset(secret_out, 0, cap);
        return rc;
    }
    if (id_out)
        *id_out = id;
    return 0;
}

int
admin_token_revoke(const struct admin_ctx *x, int64_t id, struct gu_err *err)
{
    char target[32];
    int rc;

    rc = store_begin(x->conn, err);
    if (rc < 0)
        return rc;
    rc = store_token_revoke(x->conn, x->insee, id, err);
    if (rc == GU_ENOTFOUND)
        gu_err_set(err, rc, "id", "Ce jeton n’existe pas.",
                   "token %lld not in %s", (long long)id, x->insee);
    if (rc < 0)
        goto out;
    snprintf(target, sizeof(target), "%lld", (long long)id);
    rc = audit(x, "token.revoke", target, "", err);
    if (rc < 0)
        goto out;
    rc = store_commit(x->conn, err);
out:
    if (rc < 0)
        store_rollback(x->conn);
    return rc;
}

/* One CSV cell: quoted when needed, formula-looking text defused. */
static void
csv_cell(struct gu_buf *b, const char *s)
{
    bool quote = false;

    if (!s)
        s = "";
    for (const char *p = s; *p; p++) {
        if (*p == ';' || *p == '"' || *p == '\n' || *p == '\r')
            quote = true;
    }
    if (quote)
        gu_buf_puts(b, "\"");
    /* A spreadsheet would evaluate =, +, -, @ at the start of a cell. */
    if (strchr("=+-@\t", s[0]) && s[0] != '\0')
        gu_buf_puts(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            gu_buf_puts(b, "\"\"");
        else
            gu_buf_append(b, p, 1);
    }
    if (quote)
        gu_buf_puts(b, "\"");
}

int
admin_audit_csv(struct gu_buf *b, const struct store_audit *e, size_t n,
                bool header)
{
    if (header)
        gu_buf_puts(b, "\xEF\xBB\xBF"
                       "date;commune;acteur;action;cible;détail;requête\r\n");
    for (size_t i = 0; i < n; i++) {
        char when[32];

        gu_time_fr(e[i].at, when, sizeof(when));
        csv_cell(b, when);
        gu_buf_puts(b, ";");
        csv_cell(b, e[i].insee);
        gu_buf_puts(b, ";");
        csv_cell(b, e[i].actor);
        gu_buf_puts(b, ";");
        csv_cell(b, e[i].action);
        gu_buf_puts(b, ";");
        csv_cell(b, e[i].target);
        gu_buf_puts(b, ";");
        csv_cell(b, e[i].detail);
        gu_buf_puts(b, ";");
        csv_cell(b, e[i].request_id);
        gu_buf_puts(b, "\r\n");
    }
    return b->oom ? GU_ENOMEM : 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Unix time of the last Sunday of `month` of `year`, 01:00 UTC. */
static int64_t
last_sunday_1h(int64_t year, int month)
{
    int64_t last = days_from_civil(year, month, 31);
    /* 1970-01-01 was a Thursday: (days + 4) % 7 == 0 is a Sunday. */
    int64_t wd = ((last + 4) % 7 + 7) % 7;

    return (last - wd) * 86400 + 3600;
}

int
admin_parse_time(const char *s, bool end_of_day, const char *field,
                 int64_t *out, struct gu_err *err)
{
    long v, y, m, d;
    char part[8];
    int64_t t, off;

    if (!s || !s[0])
        goto bad;
    if (gu_parse_long(s, 0, 4102444800L, &v) == 0) {
        *out = v;
        return 0;
    }
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        goto bad;
    memcpy(part, s, 4);
    part[4] = '\0';
    if (gu_parse_long(part, 1970, 2100, &y) < 0)
        goto bad;
    memcpy(part, s + 5, 2);
    part[2] = '\0';
    if (gu_parse_long(part, 1, 12, &m) < 0)
        goto bad;
    memcpy(part, s + 8, 2);
    part[2] = '\0';
    if (gu_parse_long(part, 1, 31, &d) < 0)
        goto bad;
    t = days_from_civil(y, (int)m, (int)d) * 86400;
    if (end_of_day)
        t += 86399;
    /* Paris is UTC+1, UTC+2 in summer time (EU rule since 1996). */
    off = 3600;
    if (t - 3600 >= last_sunday_1h(y, 3) && t - 7200 < last_sunday_1h(y, 10))
        off = 7200;
    *out = t - off;
    return 0;
bad:
    return gu_err_set(err, GU_EINVAL, field,
                      "Date invalide : utilisez le format aaaa-mm-jj.",
                      "bad date");
}
