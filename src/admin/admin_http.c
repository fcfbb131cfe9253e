/*
 * admin_http.c - HTTP face of the administration: the back-office page
 * shells (/agent/...; their data comes from the JSON API below through
 * fetch) and the JSON API under /api/v1/ for agents, passwords, the
 * commune's public information, API tokens and the audit log.
 *
 * Handlers only read JSON with the gu_json_* readers, call admin.c and
 * write JSON; the rules are in admin.c. Registered by main.c through
 * `admin_routes`.
 */
#include "admin/admin.h"
#include "web/http.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define CSV_MAX_ROWS 100000 /* an export larger than this is cut */

/* The admin context of a request: its commune, its caller. */
static void
ctx_init(struct admin_ctx *x, struct http_req *req)
{
    memset(x, 0, sizeof(*x));
    x->conn = req->conn;
    x->arena = req->arena;
    x->insee = req->who.insee;
    x->actor_id = req->who.is_token ? 0 : req->who.agent_id;
    x->actor = http_actor(req);
    x->request_id = req->request_id;
    x->session_token = req->who.is_token ? NULL : req->who.session_token;
}

static json_t *
agent_json(const struct admin_agent *a)
{
    const struct store_agent *g = &a->agent;

    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:b, s:o, s:o}", "id",
                     (json_int_t)g->id, "login", g->login, "name",
                     g->name ? g->name : "", "email", g->email ? g->email : "",
                     "role", store_role_name(a->role), "disabled", g->disabled,
                     "must_change_password", g->must_change_password,
                     "created_at", gu_json_time(g->created_at), "last_login_at",
                     gu_json_time(g->last_login_at));
}

/* Read "role" (required or not) into *out. */
static int
read_role(json_t *body, bool required, bool *present, enum store_role *out,
          struct gu_err *err)
{
    const char *s = NULL;
    int rc;

    *present = false;
    rc = gu_json_str(body, "role", required, 16, &s, err);
    if (rc < 0 || !s)
        return rc;
    if (store_role_parse(s, out) < 0 || *out == STORE_ROLE_NONE)
        return gu_err_set(err, GU_EINVAL, "role",
                          "Rôle invalide : choisissez lecteur, agent ou "
                          "admin.",
                          "bad role");
    *present = true;
    return 0;
}

/* ----- page shells ----- */

/*
 * A back-office page. Agents who must change their password are sent to
 * /agent/mot-de-passe first, whatever page they asked for.
 */
static int
shell(struct http_req *req, struct http_resp *resp, const char *tpl,
      bool allow_must_change)
{
    json_t *vars;

    if (!allow_must_change && req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    vars = json_pack("{s:s}", "insee", req->who.insee);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, tpl, vars);
}

/*
 * The login page. The form posts to /agent/connexion (web/ handles it and
 * re-renders the same template with "erreur" and "login" on failure).
 */
static int
page_login(struct http_req *req, struct http_resp *resp)
{
    json_t *vars;

    if (req->who.authenticated && !req->who.is_token)
        return http_redirect(resp, "/agent");
    vars = json_pack("{s:s, s:s}", "erreur", "", "login", "");
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, "connexion.html", vars);
}

static int
page_dashboard(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "agent.html", false);
}

static int
page_users(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "utilisateurs.html", false);
}

static int
page_journal(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "journal.html", false);
}

static int
page_commune(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "commune.html", false);
}

static int
page_password(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "mot-de-passe.html", true);
}

/* ----- the caller ----- */

static int
put_password(struct http_req *req, struct http_resp *resp)
{
    struct admin_ctx x;
    const char *cur = NULL, *next = NULL;
    json_t *body;
    int rc;

    if (req->who.is_token || req->who.agent_id <= 0)
        return gu_err_set(&req->err, GU_EPERM, NULL,
                          "Réservé aux sessions d’agents.", "token");
    rc = http_body_json(req, &body);
    if (rc < 0)
        return rc;
    rc = gu_json_str(body, "current", true, 1024, &cur, &req->err);
    if (rc < 0)
        return rc;
    rc = gu_json_str(body, "new", true, 1024, &next, &req->err);
    if (rc < 0)
        return rc;
    ctx_init(&x, req);
    rc = admin_password_change(
        &x, cur, next,
        (int)gu_config_int(req->cfg, "security.login_max_failures"),
        (int)gu_config_int(req->cfg, "security.lockout_minutes") * 60,
        &req->err);
    if (rc < 0)
        return rc;
    return http_no_content(resp);
}

/* ----- agents ----- */

static int
get_agents(struct http_req *req, struct http_resp *resp)
{
    struct admin_ctx x;
    struct admin_agent *list = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    ctx_init(&x, req);
    rc = admin_agent_list(&x, &list, &n, &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *a = agent_json(&list[i]);

        if (!a || json_array_append_new(arr, a) < 0) {
            json_decref(arr);
            return GU_ENOMEM;
        }
    }
    if (!arr)
        return GU_ENOMEM;
    return http_json(resp, 200, json_pack("{s:o}", "agents", arr));
}

/*
 * Accounts and API tokens are real, instance-wide things: never made or
 * changed from a training sandbox (an agent practising there is admin of
 * a fictitious commune only).
 */
static int
not_in_sandbox(struct http_req *req)
{
    if (!store_insee_sandbox(req->who.insee))
        return 0;
    return gu_err_set(&req->err, GU_EPERM, NULL,
                      "Impossible dans le bac à sable de formation : les "
                      "comptes et les jetons d’API sont réels. Revenez à "
                      "votre commune pour les gérer.",
                      "admin: refused in sandbox %s", req->who.insee);
}

static int
post_agents(struct http_req *req, struct http_resp *resp)
{
    struct admin_ctx x;
    const char *login = NULL, *name = NULL, *email = "";
    enum store_role role = STORE_ROLE_AGENT;
    char pw[ADMIN_OTP_CAP];
    bool has_role;
    int64_t id = 0;
    json_t *body, *j;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = not_in_sandbox(req)) < 0)
        return rc;
    rc = http_body_json(req, &body);
    if (rc < 0)
        return rc;
    if ((rc = gu_json_str(body, "login", true, 64, &login, &req->err)) < 0 ||
        (rc = gu_json_str(body, "name", true, 400, &name, &req->err)) < 0 ||
        (rc = gu_json_str(body, "email", false, 254, &email, &req->err)) < 0 ||
        (rc = read_role(body, false, &has_role, &role, &req->err)) < 0)
        return rc;
    ctx_init(&x, req);
    rc = admin_agent_create(&x, login, name, email, role, pw, sizeof(pw), &id,
                            &req->err);
    if (rc < 0)
        return rc;
    j = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "login", login,
                  "role", store_role_name(role), "password", pw);
    memset(pw, 0, sizeof(pw));
    if (!j)
        return GU_ENOMEM;
    return http_json(resp, 201, j);
}

static int
patch_agent(struct http_req *req, struct http_resp *resp)
{
    struct admin_ctx x;
    struct admin_agent_change ch;
    struct admin_agent a;
    json_t *body, *j;
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = not_in_sandbox(req)) < 0)
        return rc;
    if ((rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    rc = http_body_json(req, &body);
    if (rc < 0)
        return rc;
    memset(&ch, 0, sizeof(ch));
    if ((rc = gu_json_str(body, "name", false, 400, &ch.name, &req->err)) < 0 ||
        (rc = gu_json_str(body, "email", false, 254, &ch.email, &req->err)) <
            0 ||
        (rc = read_role(body, false, &ch.set_role, &ch.role, &req->err)) < 0)
        return rc;
    if (json_object_get(body, "disabled") &&
        !json_is_null(json_object_get(body, "disabled"))) {
        rc = gu_json_bool(body, "disabled", true, &ch.disabled, &req->err);
        if (rc < 0)
            return rc;
        ch.set_disabled = true;
    }
    ctx_init(&x, req);
    rc = admin_agent_update(&x, id, &ch, &req->err);
    if (rc < 0)
        return rc;
    rc = admin_agent_get(&x, id, &a, &req->err);
    if (rc < 0)
        return rc;
    j = agent_json(&a);
    if (!j)
        return GU_ENOMEM;
    return http_json(resp, 200, j);
}

static int
post_agent_password(struct http_req *req, struct http_resp *resp)
{
    struct admin_ctx x;
    struct admin_agent a;
    char pw[ADMIN_OTP_CAP];
    json_t *j;
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = not_in_sandbox(req)) < 0)
        return rc;
    if ((rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    ctx_init(&x, req);
    rc = admin_agent_reset_password(&x, id, pw, sizeof(pw), &req->err);
    if (rc < 0)
        return rc;
    rc = admin_agent_get(&x, id, &a, &req->err);
    if (rc < 0) {
        memset(pw, 0, sizeof(pw));
        return rc;
    }
    j = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "login",
                  a.agent.login, "password", pw);
    memset(pw, 0, sizeof(pw));
    if (!j)
        return GU_ENOMEM;
    return http_json(resp, 200, j);
}

/* ----- commune ----- */

static int
commune_reply(struct http_req *req, struct http_resp *resp)
{
    struct store_commune m;
    json_t *j;
    int rc;

    rc =
        store_commune_get(req->conn, req->arena, req->who.insee, &m, &req->err);
    if (rc < 0)
        return rc;
    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "insee", m.insee,
                  "name", m.name ? m.name : "", "zone", m.zone ? m.zone : "",
                  "hours", m.hours ? m.hours : "", "address",
                  m.address ? m.address : "", "phone", m.phone ? m.phone : "",
                  "email", m.email ? m.email : "");
    if (!j)
        return GU_ENOMEM;
    return http_json(resp, 200, j);
}

static int
get_commune(struct http_req *req, struct http_resp *resp)
{
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    return commune_reply(req, resp);
}

static int
put_commune(struct http_req *req, struct http_resp *resp)
{
    struct admin_ctx x;
    struct store_commune m;
    json_t *body;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    rc = http_body_json(req, &body);
    if (rc < 0)
        return rc;
    memset(&m, 0, sizeof(m));
    if ((rc = gu_json_str(body, "name", false, 600, &m.name, &req->err)) < 0 ||
        (rc = gu_json_str(body, "zone", false, 16, &m.zone, &req->err)) < 0 ||
        (rc = gu_json_str(body, "hours", false, 8000, &m.hours, &req->err)) <
            0 ||
        (rc = gu_json_str(body, "address", false, 1200, &m.address,
                          &req->err)) < 0 ||
        (rc = gu_json_str(body, "phone", false, 40, &m.phone, &req->err)) < 0 ||
        (rc = gu_json_str(body, "email", false, 254, &m.email, &req->err)) < 0)
        return rc;
    ctx_init(&x, req);
    rc = admin_commune_update(&x, &m, &req->err);
    if (rc < 0)
        return rc;
    return commune_reply(req, resp);
}

/* ----- API tokens ----- */

static int
get_tokens(struct http_req *req, struct http_resp *resp)
{
    struct store_token *list = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    rc = store_token_list(req->conn, req->arena, req->who.insee, &list, &n,
                          &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *t = json_pack(
            "{s:I, s:s, s:s, s:o, s:o, s:b}", "id", (json_int_t)list[i].id,
            "name", list[i].name ? list[i].name : "", "role",
            store_role_name(list[i].role), "created_at",
            gu_json_time(list[i].created_at), "last_used_at",
            gu_json_time(list[i].last_used_at), "revoked", list[i].revoked);

        if (!t || json_array_append_new(arr, t) < 0) {
            json_decref(arr);
            return GU_ENOMEM;
        }
    }
    if (!arr)
        return GU_ENOMEM;
    return http_json(resp, 200, json_pack("{s:o}", "tokens", arr));
}

static int
post_tokens(struct http_req *req, struct http_resp *resp)
{
    struct admin_ctx x;
    const char *name = NULL;
    enum store_role role = STORE_ROLE_LECTEUR;
    char secret[128];
    bool has_role;
    int64_t id = 0;
    json_t *body, *j;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = not_in_sandbox(req)) < 0)
        return rc;
    rc = http_body_json(req, &body);
    if (rc < 0)
        return rc;
    if ((rc = gu_json_str(body, "name", true, 256, &name, &req->err)) < 0 ||
        (rc = read_role(body, false, &has_role, &role, &req->err)) < 0)
        return rc;
    ctx_init(&x, req);
    rc = admin_token_create(&x, name, role, secret, sizeof(secret), &id,
                            &req->err);
    if (rc < 0)
        return rc;
    j = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "name", name,
                  "role", store_role_name(role), "secret", secret);
    memset(secret, 0, sizeof(secret));
    if (!j)
        return GU_ENOMEM;
    return http_json(resp, 201, j);
}

static int
delete_token(struct http_req *req, struct http_resp *resp)
{
    struct admin_ctx x;
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if ((rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    ctx_init(&x, req);
    rc = admin_token_revoke(&x, id, &req->err);
    if (rc < 0)
        return rc;
    return http_no_content(resp);
}

/* ----- audit log ----- */

/* The filter from the query string, always scoped to the commune. */
static int
audit_filter(struct http_req *req, struct store_audit_filter *f)
{
    const char *s;
    long v;
    int rc;

    memset(f, 0, sizeof(*f));
    f->insee = req->who.insee;
    f->limit = 100;
    s = http_query(req, "actor");
    if (s && s[0])
        f->actor = s;
    s = http_query(req, "action");
    if (s && s[0])
        f->action_prefix = s;
    s = http_query(req, "since");
    if (s && s[0]) {
        rc = admin_parse_time(s, false, "since", &f->since, &req->err);
        if (rc < 0)
            return rc;
    }
    s = http_query(req, "until");
    if (s && s[0]) {
        rc = admin_parse_time(s, true, "until", &f->until, &req->err);
        if (rc < 0)
            return rc;
    }
    s = http_query(req, "before");
    if (s && s[0]) {
        if (gu_parse_long(s, 1, LONG_MAX, &v) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "before",
                              "Le paramètre « before » doit être un "
                              "identifiant d’entrée.",
                              "bad before");
        f->before_id = v;
    }
    s = http_query(req, "limit");
    if (s && s[0]) {
        if (gu_parse_long(s, 1, 1000, &v) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "limit",
                              "Le paramètre « limit » doit être compris "
                              "entre 1 et 1000.",
                              "bad limit");
        f->limit = (int)v;
    }
    return 0;
}

static int
get_audit(struct http_req *req, struct http_resp *resp)
{
    struct store_audit_filter f;
    struct store_audit *e = NULL;
    size_t n = 0;
    json_t *arr, *j;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if ((rc = audit_filter(req, &f)) < 0)
        return rc;
    rc = store_audit_list(req->conn, req->arena, &f, &e, &n, &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                              (json_int_t)e[i].id, "at", gu_json_time(e[i].at),
                              "insee", e[i].insee ? e[i].insee : "", "actor",
                              e[i].actor ? e[i].actor : "", "action",
                              e[i].action ? e[i].action : "", "target",
                              e[i].target ? e[i].target : "", "detail",
                              e[i].detail ? e[i].detail : "", "request_id",
                              e[i].request_id ? e[i].request_id : "");

        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return GU_ENOMEM;
        }
    }
    if (!arr)
        return GU_ENOMEM;
    /* A full page may have a next one: its cursor is the last id. */
    j = json_pack("{s:o, s:o}", "entries", arr, "next_before",
                  n == (size_t)f.limit && n > 0
                      ? json_integer((json_int_t)e[n - 1].id)
                      : json_null());
    if (!j)
        return GU_ENOMEM;
    return http_json(resp, 200, j);
}

static int
get_audit_csv(struct http_req *req, struct http_resp *resp)
{
    struct store_audit_filter f;
    struct gu_buf b;
    size_t total = 0;
    char disp[80], day[16];
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if ((rc = audit_filter(req, &f)) < 0)
        return rc;
    f.limit = 1000;
    gu_buf_init(&b);
    rc = admin_audit_csv(&b, NULL, 0, true);
    while (rc == 0 && total < CSV_MAX_ROWS) {
        struct store_audit *e = NULL;
        size_t n = 0;

        rc = store_audit_list(req->conn, req->arena, &f, &e, &n, &req->err);
        if (rc < 0)
            break;
        rc = admin_audit_csv(&b, e, n, false);
        total += n;
        if (n < (size_t)f.limit)
            break;
        f.before_id = e[n - 1].id;
    }
    if (rc < 0)
        goto out;
    gu_time_iso(gu_now(), day, sizeof(day));
    day[10] = '\0';
    snprintf(disp, sizeof(disp), "attachment; filename=\"journal-%s-%s.csv\"",
             req->who.insee, day);
    rc = http_add_header(resp, "Content-Disposition", disp);
    if (rc == 0)
        rc = http_send(resp, 200, "text/csv; charset=utf-8", b.p, b.n);
out:
    gu_buf_fini(&b);
    return rc;
}

/* ----- table ----- */

#define AGENT_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{"                                    \
    "\"id\":{\"type\":\"integer\"},\"login\":{\"type\":\"string\"},"           \
    "\"name\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"},"          \
    "\"role\":{\"enum\":[\"lecteur\",\"agent\",\"admin\"]},"                   \
    "\"disabled\":{\"type\":\"boolean\"},"                                     \
    "\"must_change_password\":{\"type\":\"boolean\"},"                         \
    "\"created_at\":{\"type\":[\"string\",\"null\"]},"                         \
    "\"last_login_at\":{\"type\":[\"string\",\"null\"]}}}"

#define ROLE_ENUM "{\"enum\":[\"lecteur\",\"agent\",\"admin\"]}"

static const struct http_route routes[] = {
    /* Page shells (HTML; data comes from the API below). */
    {"GET", "/agent/connexion", HTTP_PUBLIC, page_login, "agent",
     "Page de connexion de l’espace agents", NULL, NULL},
    {"GET", "/agent", HTTP_SESSION, page_dashboard, "agent",
     "Tableau de bord de l’espace agents", NULL, NULL},
    {"GET", "/agent/utilisateurs", HTTP_ADMIN, page_users, "agent",
     "Gestion des utilisateurs", NULL, NULL},
    {"GET", "/agent/journal", HTTP_ADMIN, page_journal, "agent",
     "Journal d’audit", NULL, NULL},
    {"GET", "/agent/commune", HTTP_ADMIN, page_commune, "agent",
     "Informations de la commune et jetons d’API", NULL, NULL},
    {"GET", "/agent/mot-de-passe", HTTP_SESSION, page_password, "agent",
     "Changement de mot de passe", NULL, NULL},

    /* The caller. */
    {"PUT", "/api/v1/session/password", HTTP_SESSION, put_password, "admin",
     "Changer son propre mot de passe (12 caractères au moins)",
     "{\"type\":\"object\",\"required\":[\"current\",\"new\"],"
     "\"properties\":{\"current\":{\"type\":\"string\"},"
     "\"new\":{\"type\":\"string\",\"minLength\":12,\"maxLength\":128}}}",
     NULL},

    /* Agents of the active commune. */
    {"GET", "/api/v1/agents", HTTP_ADMIN, get_agents, "admin",
     "Liste des agents de la commune active", NULL,
     "{\"type\":\"object\",\"properties\":{\"agents\":{\"type\":\"array\","
     "\"items\":" AGENT_SCHEMA "}}}"},
    {"POST", "/api/v1/agents", HTTP_ADMIN, post_agents, "admin",
     "Créer un agent (mot de passe à usage unique renvoyé une seule fois)",
     "{\"type\":\"object\",\"required\":[\"login\",\"name\"],"
     "\"properties\":{\"login\":{\"type\":\"string\","
     "\"pattern\":\"^[a-z0-9._-]{2,64}$\"},"
     "\"name\":{\"type\":\"string\",\"maxLength\":100},"
     "\"email\":{\"type\":\"string\",\"maxLength\":254},"
     "\"role\":" ROLE_ENUM "}}",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"login\":{\"type\":\"string\"},\"role\":" ROLE_ENUM ","
     "\"password\":{\"type\":\"string\"}}}"},
    {"PATCH", "/api/v1/agents/{id}", HTTP_ADMIN, patch_agent, "admin",
     "Modifier un agent : nom, courriel, rôle, désactivation",
     "{\"type\":\"object\",\"properties\":{"
     "\"name\":{\"type\":\"string\",\"maxLength\":100},"
     "\"email\":{\"type\":\"string\",\"maxLength\":254},"
     "\"role\":" ROLE_ENUM ",\"disabled\":{\"type\":\"boolean\"}}}",
     AGENT_SCHEMA},
    {"POST", "/api/v1/agents/{id}/password", HTTP_ADMIN, post_agent_password,
     "admin",
     "Réinitialiser le mot de passe d’un agent (usage unique, à changer)", NULL,
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"login\":{\"type\":\"string\"},\"password\":{\"type\":\"string\"}}}"},

    /* The commune's public information. */
    {"GET", "/api/v1/commune", HTTP_ADMIN, get_commune, "admin",
     "Informations publiques de la commune active", NULL,
     "{\"type\":\"object\",\"properties\":{\"insee\":{\"type\":\"string\"},"
     "\"name\":{\"type\":\"string\"},\"zone\":{\"type\":\"string\"},"
     "\"hours\":{\"type\":\"string\"},\"address\":{\"type\":\"string\"},"
     "\"phone\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"}}}"},
    {"PUT", "/api/v1/commune", HTTP_ADMIN, put_commune, "admin",
     "Modifier les informations publiques de la commune active",
     "{\"type\":\"object\",\"properties\":{"
     "\"name\":{\"type\":\"string\",\"maxLength\":120},"
     "\"zone\":{\"type\":\"string\"},"
     "\"hours\":{\"type\":\"string\",\"maxLength\":2000},"
     "\"address\":{\"type\":\"string\",\"maxLength\":300},"
     "\"phone\":{\"type\":\"string\",\"maxLength\":40},"
     "\"email\":{\"type\":\"string\",\"maxLength\":254}}}",
     "{\"type\":\"object\"}"},

    /* API tokens. */
    {"GET", "/api/v1/tokens", HTTP_ADMIN, get_tokens, "admin",
     "Jetons d’API de la commune active", NULL,
     "{\"type\":\"object\",\"properties\":{\"tokens\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"properties\":{"
     "\"id\":{\"type\":\"integer\"},\"name\":{\"type\":\"string\"},"
     "\"role\":" ROLE_ENUM ",\"created_at\":{\"type\":\"string\"},"
     "\"last_used_at\":{\"type\":[\"string\",\"null\"]},"
     "\"revoked\":{\"type\":\"boolean\"}}}}}}"},
    {"POST", "/api/v1/tokens", HTTP_ADMIN, post_tokens, "admin",
     "Créer un jeton d’API (secret renvoyé une seule fois)",
     "{\"type\":\"object\",\"required\":[\"name\"],\"properties\":{"
     "\"name\":{\"type\":\"string\",\"maxLength\":64},"
     "\"role\":" ROLE_ENUM "}}",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"name\":{\"type\":\"string\"},\"role\":" ROLE_ENUM ","
     "\"secret\":{\"type\":\"string\"}}}"},
    {"DELETE", "/api/v1/tokens/{id}", HTTP_ADMIN, delete_token, "admin",
     "Révoquer un jeton d’API", NULL, NULL},

    /* Audit log. */
    {"GET", "/api/v1/audit", HTTP_ADMIN, get_audit, "admin",
     "Journal d’audit de la commune (filtres : actor, action, since, "
     "until, before, limit)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"entries\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"properties\":{"
     "\"id\":{\"type\":\"integer\"},\"at\":{\"type\":\"string\"},"
     "\"insee\":{\"type\":\"string\"},\"actor\":{\"type\":\"string\"},"
     "\"action\":{\"type\":\"string\"},\"target\":{\"type\":\"string\"},"
     "\"detail\":{\"type\":\"string\"},"
     "\"request_id\":{\"type\":\"string\"}}}},"
     "\"next_before\":{\"type\":[\"integer\",\"null\"]}}}"},
    {"GET", "/api/v1/audit.csv", HTTP_ADMIN, get_audit_csv, "admin",
     "Export CSV du journal d’audit (séparateur ;, UTF-8 avec BOM)", NULL,
     NULL},
};

const struct http_routes admin_routes = {"admin", routes, GU_ARRAY_LEN(routes)};
