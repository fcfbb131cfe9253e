/*
 * web_routes.c - the routes web/ serves itself: health, metrics, the
 * OpenAPI document, static assets, and the agent session (login, who am
 * I, switch commune, logout) as JSON and as the HTML login form.
 *
 * web_server_new() puts this table first, before the modules' tables.
 */
#include <stdio.h>
#include <string.h>

#include "web/web_internal.h"

#define SESSION_SCHEMA                                                         \
    "{\"type\":\"object\",\"properties\":{"                                    \
    "\"login\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"          \
    "\"commune\":{\"type\":\"object\",\"properties\":{"                        \
    "\"insee\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"}}},"        \
    "\"role\":{\"type\":\"string\",\"enum\":[\"lecteur\",\"agent\","           \
    "\"admin\"]},\"csrf\":{\"type\":\"string\"},"                              \
    "\"must_change_password\":{\"type\":\"boolean\"},"                         \
    "\"communes\":{\"type\":\"array\",\"items\":{\"type\":\"object\","         \
    "\"properties\":{\"insee\":{\"type\":\"string\"},"                         \
    "\"name\":{\"type\":\"string\"},\"role\":{\"type\":\"string\"}}}}}}"

#define LOGIN_SCHEMA                                                           \
    "{\"type\":\"object\",\"required\":[\"login\",\"password\"],"              \
    "\"properties\":{\"login\":{\"type\":\"string\",\"maxLength\":64},"        \
    "\"password\":{\"type\":\"string\",\"maxLength\":1024},"                   \
    "\"commune\":{\"type\":\"string\",\"pattern\":\"^[0-9AB]{5}$\"}}}"

#define COMMUNE_SCHEMA                                                         \
    "{\"type\":\"object\",\"required\":[\"commune\"],\"properties\":{"         \
    "\"commune\":{\"type\":\"string\"}}}"

#define LOGIN_PAGE "connexion.html"

/* ------------------------------------------------------------------ */
/* Health, metrics, OpenAPI                                           */
/* ------------------------------------------------------------------ */

static int
get_healthz(struct http_req *req, struct http_resp *resp)
{
    struct gu_err err;
    struct store_rows *rows = NULL;

    gu_err_clear(&err);
    if (!req->conn ||
        store_query(req->conn, req->arena, "SELECT 1", NULL, 0, &rows, &err) <
            0 ||
        !rows || rows->nrows != 1) {
        char q[300];
        gu_log_error("healthz", "err=%s", gu_logq(q, sizeof(q), err.msg));
        return http_json(resp, 503,
                         json_pack("{s:s}", "status", "indisponible"));
    }
    return http_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static int
get_metrics(struct http_req *req, struct http_resp *resp)
{
    struct web_reqdata *d = req->priv;
    struct gu_buf b;
    int rc;

    if (!d || !d->srv)
        return GU_EINTERNAL;
    if (!web_ip_allowed(req->client_ip,
                        gu_config_str(req->cfg, "server.metrics_from")))
        return gu_err_set(&req->err, GU_EPERM, NULL,
                          "Les métriques ne sont lisibles que depuis les "
                          "adresses de server.metrics_from.",
                          "metrics refused for this address");
    gu_buf_init(&b);
    rc = web_metrics_render(d->srv, &b);
    if (rc == 0)
        rc = http_send(resp, 200, "text/plain; version=0.0.4; charset=utf-8",
                       b.p ? b.p : "", b.n);
    gu_buf_fini(&b);
    return rc;
}

static int
get_openapi(struct http_req *req, struct http_resp *resp)
{
    struct web_reqdata *d = req->priv;

    if (!d || !d->srv)
        return GU_EINTERNAL;
    resp->set = true;
    resp->status = 200;
    resp->ctype = "application/json";
    resp->body = d->srv->openapi;
    resp->n = d->srv->openapi_n;
    resp->body_static = true; /* lives as long as the server */
    return 0;
}

/* ------------------------------------------------------------------ */
/* Sessions                                                           */
/* ------------------------------------------------------------------ */

/* {login, name, commune:{insee,name}, role, csrf, must_change_password,
 * communes:[...]} for an agent and its active commune. */
static int
identity_json(struct http_req *req, const struct store_agent *ag,
              const char *insee, const char *csrf, json_t **out)
{
    struct store_membership *ms = NULL;
    size_t n = 0;
    const char *cname = "";
    enum store_role role = STORE_ROLE_NONE;
    json_t *list, *j;
    int rc;

    rc = store_agent_memberships(req->conn, req->arena, ag->id, &ms, &n,
                                 &req->err);
    if (rc < 0)
        return rc;
    list = json_array();
    if (!list)
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ms[i].insee, insee) == 0) {
            cname = ms[i].commune_name ? ms[i].commune_name : "";
            role = ms[i].role;
        }
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s}", "insee", ms[i].insee, "name",
                            ms[i].commune_name ? ms[i].commune_name : "",
                            "role", store_role_name(ms[i].role)));
    }
    j = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:b, s:o}", "login",
                  ag->login, "name", ag->name ? ag->name : "", "commune",
                  "insee", insee, "name", cname, "role", store_role_name(role),
                  "csrf", csrf, "must_change_password",
                  ag->must_change_password, "communes", list);
    if (!j)
        return GU_ENOMEM;
    *out = j;
    return 0;
}

/* Outcome of a login attempt, shared by the JSON and HTML forms. */
struct login_result {
    struct store_agent agent;
    char insee[6];
    char token[64];
    struct store_session sess;
    int retry_after;
};

/*
 * A failed or locked login is audited in every commune of the account, so
 * that each of its communes' admins sees it in their journal; an unknown
 * login has no commune and is audited instance-wide. Nothing of this
 * reaches the caller (no account enumeration).
 */
static void
audit_login_failure(struct http_req *req, const char *login, const char *action)
{
    const char *target = store_login_valid(login) ? login : "";
    struct store_membership *ms = NULL;
    struct store_agent ag;
    struct gu_err e;
    size_t n = 0;

    gu_err_clear(&e);
    if (!*target ||
        store_agent_by_login(req->conn, req->arena, login, &ag, &e) < 0 ||
        store_agent_memberships(req->conn, req->arena, ag.id, &ms, &n, &e) <
            0 ||
        n == 0) {
        http_audit(req, action, target, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (store_audit_add(req->conn, ms[i].insee, "anonyme", action, target,
                            "", req->request_id, &e) < 0)
            gu_log_error("audit.fail", "action=%s", action);
    }
}

static int
login_do(struct http_req *req, const char *login, const char *password,
         const char *want, struct login_result *lr)
{
    const struct gu_config *cfg = req->cfg;
    struct store_membership *ms = NULL;
    size_t n = 0;
    char key[96];
    const char *pick = NULL;
    const char *def;
    int rc;

    memset(lr, 0, sizeof(*lr));
    snprintf(key, sizeof(key), "login-ip:%s", req->client_ip);
    rc = store_rate_hit(req->conn, key,
                        (int)gu_config_int(cfg, "security.login_ip_per_minute"),
                        60, &lr->retry_after, &req->err);
    if (rc == GU_ERATE) {
        /* Logged, not audited: an attack must not flood the audit. */
        gu_log_warn("login.ratelimit", "retry_after=%d", lr->retry_after);
        gu_err_set(&req->err, GU_ERATE, NULL,
                   "Trop de tentatives de connexion. Réessayez dans une "
                   "minute.",
                   "login rate limit for ip");
        return GU_ERATE;
    }
    if (rc < 0)
        return rc;
    rc = store_agent_authenticate(
        req->conn, req->arena, login, password,
        (int)gu_config_int(cfg, "security.login_max_failures"),
        (int)gu_config_int(cfg, "security.lockout_minutes") * 60, &lr->agent,
        &req->err);
    if (rc == GU_EAUTH || rc == GU_ERATE) {
        audit_login_failure(req, login,
                            rc == GU_ERATE ? "login.locked" : "login.fail");
        if (rc == GU_ERATE) {
            lr->retry_after =
                (int)gu_config_int(cfg, "security.lockout_minutes") * 60;
            if (!req->err.user[0])
                gu_err_set(&req->err, GU_ERATE, NULL,
                           "Compte temporairement verrouillé après trop "
                           "d'échecs. Réessayez plus tard.",
                           "account locked");
        }
        return rc;
    }
    if (rc < 0)
        return rc;
    rc = store_agent_memberships(req->conn, req->arena, lr->agent.id, &ms, &n,
                                 &req->err);
    if (rc < 0)
        return rc;
    if (want && *want) {
        struct store_commune m;
        if (store_commune_get(req->conn, req->arena, want, &m, &req->err) < 0) {
            char user[96];
            snprintf(user, sizeof(user), "Commune inconnue : %.5s.", want);
            return gu_err_set(&req->err, GU_ENOTFOUND, NULL, user,
                              "unknown commune at login");
        }
        for (size_t i = 0; i < n; i++) {
            if (strcmp(ms[i].insee, want) == 0 && ms[i].role != STORE_ROLE_NONE)
                pick = ms[i].insee;
        }
        if (!pick)
            return gu_err_set(&req->err, GU_EPERM, NULL,
                              "Vous n'êtes pas membre de cette commune.",
                              "not a member of requested commune");
    }
    def = gu_config_str(cfg, "commune.default");
    for (size_t i = 0; !pick && def && *def && i < n; i++) {
        if (strcmp(ms[i].insee, def) == 0 && ms[i].role != STORE_ROLE_NONE)
            pick = ms[i].insee;
    }
    for (size_t i = 0; !pick && i < n; i++) {
        if (ms[i].role != STORE_ROLE_NONE)
            pick = ms[i].insee;
    }
    if (!pick)
        return gu_err_set(&req->err, GU_EPERM, NULL,
                          "Aucune commune n'est associée à ce compte.",
                          "agent has no membership");
    snprintf(lr->insee, sizeof(lr->insee), "%s", pick);
    rc = store_session_create(req->conn, lr->agent.id, lr->insee,
                              (int)gu_config_int(cfg, "security.session_ttl"),
                              lr->token, sizeof(lr->token), &lr->sess,
                              &req->err);
    if (rc < 0)
        return rc;
    /* From here the request acts as the new session. */
    req->who.authenticated = true;
    req->who.is_token = false;
    req->who.agent_id = lr->agent.id;
    req->who.login = lr->agent.login;
    memcpy(req->who.insee, lr->insee, sizeof(req->who.insee));
    req->who.role = store_agent_role(req->conn, lr->agent.id, lr->insee);
    req->who.csrf = lr->sess.csrf;
    req->who.session_token = lr->token;
    http_audit(req, "login.ok", lr->agent.login, NULL);
    return 0;
}

static void
retry_after(struct http_resp *resp, int secs)
{
    char v[24];

    snprintf(v, sizeof(v), "%d", secs > 0 ? secs : 60);
    http_add_header(resp, "Retry-After", v);
}

static int
post_session(struct http_req *req, struct http_resp *resp)
{
    struct login_result lr;
    const char *login = NULL, *password = NULL, *commune = NULL;
    json_t *body, *out;
    int rc;

    rc = http_body_json(req, &body);
    if (rc < 0)
        return rc;
    if ((rc = gu_json_str(body, "login", true, 64, &login, &req->err)) < 0 ||
        (rc = gu_json_str(body, "password", true, 1024, &password, &req->err)) <
            0 ||
        (rc = gu_json_str(body, "commune", false, 5, &commune, &req->err)) < 0)
        return rc;
    rc = login_do(req, login, password, commune, &lr);
    if (rc == GU_ERATE)
        retry_after(resp, lr.retry_after);
    if (rc < 0)
        return rc;
    rc = http_set_cookie(req, resp, WEB_SESSION_COOKIE, lr.token,
                         gu_config_int(req->cfg, "security.session_ttl"), true);
    if (rc < 0)
        return rc;
    rc = identity_json(req, &lr.agent, lr.insee, lr.sess.csrf, &out);
    if (rc < 0)
        return rc;
    return http_json(resp, 200, out);
}

static int
get_session(struct http_req *req, struct http_resp *resp)
{
    struct store_agent ag;
    json_t *out;
    int rc;

    rc = store_agent_get(req->conn, req->arena, req->who.agent_id, &ag,
                         &req->err);
    if (rc < 0)
        return rc;
    rc = identity_json(req, &ag, req->who.insee, req->who.csrf, &out);
    if (rc < 0)
        return rc;
    return http_json(resp, 200, out);
}

static int
put_session(struct http_req *req, struct http_resp *resp)
{
    struct store_commune m;
    struct store_agent ag;
    const char *insee = NULL;
    json_t *body, *out;
    int rc;

    rc = http_body_json(req, &body);
    if (rc < 0)
        return rc;
    rc = gu_json_str(body, "commune", true, 5, &insee, &req->err);
    if (rc < 0)
        return rc;
    if (store_commune_get(req->conn, req->arena, insee, &m, &req->err) < 0) {
        char user[96];
        snprintf(user, sizeof(user), "Commune inconnue : %.5s.", insee);
        return gu_err_set(&req->err, GU_ENOTFOUND, NULL, user,
                          "unknown commune");
    }
    if (store_agent_role(req->conn, req->who.agent_id, insee) ==
        STORE_ROLE_NONE)
        return gu_err_set(&req->err, GU_EPERM, NULL,
                          "Vous n'êtes pas membre de cette commune.",
                          "not a member");
    rc = store_session_set_commune(req->conn, req->who.session_token, insee,
                                   &req->err);
    if (rc < 0)
        return rc;
    memcpy(req->who.insee, m.insee, sizeof(req->who.insee));
    req->who.role = store_agent_role(req->conn, req->who.agent_id, insee);
    http_audit(req, "session.commune", m.insee, NULL);
    rc = store_agent_get(req->conn, req->arena, req->who.agent_id, &ag,
                         &req->err);
    if (rc < 0)
        return rc;
    rc = identity_json(req, &ag, req->who.insee, req->who.csrf, &out);
    if (rc < 0)
        return rc;
    return http_json(resp, 200, out);
}

static int
delete_session(struct http_req *req, struct http_resp *resp)
{
    int rc;

    rc = store_session_delete(req->conn, req->who.session_token, &req->err);
    if (rc < 0 && rc != GU_ENOTFOUND)
        return rc;
    http_audit(req, "logout", req->who.login, NULL);
    rc = http_set_cookie(req, resp, WEB_SESSION_COOKIE, "", 0, true);
    if (rc < 0)
        return rc;
    return http_no_content(resp);
}

/* Re-render the login page with a French error. */
static int
login_page(struct http_req *req, struct http_resp *resp, int status,
           const char *error, const char *login)
{
    json_t *vars = json_pack("{s:s, s:s}", "erreur", error ? error : "",
                             "login", login ? login : "");
    int rc;

    if (!vars || !gu_json_arena(req->arena, vars))
        return GU_ENOMEM;
    rc = http_template(req, resp, status, LOGIN_PAGE, vars);
    if (rc == 0)
        return 0;
    /* No template embedded (yet): a minimal, accessible page. */
    {
        struct gu_buf b;
        gu_buf_init(&b);
        gu_buf_puts(&b, "<!doctype html><html lang=\"fr\"><head>"
                        "<meta charset=\"utf-8\"><title>Connexion - "
                        "Guichet</title></head><body><main><h1>Connexion"
                        "</h1><p role=\"alert\">");
        gu_buf_html(&b, error ? error : "", strlen(error ? error : ""));
        gu_buf_puts(&b, "</p><form method=\"post\" action=\"/agent/"
                        "connexion\"><label for=\"login\">Identifiant"
                        "</label><input id=\"login\" name=\"login\" "
                        "autocomplete=\"username\" value=\"");
        gu_buf_html(&b, login ? login : "", strlen(login ? login : ""));
        gu_buf_puts(&b, "\"><label for=\"password\">Mot de passe</label>"
                        "<input id=\"password\" name=\"password\" "
                        "type=\"password\" autocomplete=\"current-"
                        "password\"><button>Se connecter</button></form>"
                        "</main></body></html>");
        rc = b.oom ? GU_ENOMEM
                   : http_send(resp, status, "text/html; charset=utf-8", b.p,
                               b.n);
        gu_buf_fini(&b);
    }
    return rc;
}

static int
post_login_form(struct http_req *req, struct http_resp *resp)
{
    struct login_result lr;
    const char *login = http_form(req, "login");
    const char *password = http_form(req, "password");
    const char *msg;
    int rc;

    if (!login || !*login || !password || !*password || strlen(login) > 64 ||
        strlen(password) > 1024)
        return login_page(req, resp, 200,
                          "Saisissez votre identifiant et votre mot de "
                          "passe.",
                          login && strlen(login) <= 64 ? login : "");
    rc = login_do(req, login, password, NULL, &lr);
    if (rc == 0) {
        rc = http_set_cookie(req, resp, WEB_SESSION_COOKIE, lr.token,
                             gu_config_int(req->cfg, "security.session_ttl"),
                             true);
        if (rc < 0)
            return rc;
        return http_redirect(resp, "/agent");
    }
    if (web_status_of(rc, NULL) >= 500)
        return rc;
    msg = gu_arena_strdup(req->arena, req->err.user[0] ? req->err.user
                                                       : gu_status_user(rc));
    if (!msg)
        return GU_ENOMEM;
    if (rc == GU_ERATE)
        retry_after(resp, lr.retry_after);
    gu_err_clear(&req->err);
    return login_page(req, resp, rc == GU_ERATE ? 429 : 200, msg, login);
}

static const struct http_route routes[] = {
    {"GET", "/healthz", HTTP_PUBLIC, get_healthz, "socle",
     "État du service (base de données comprise)", NULL,
     "{\"type\":\"object\",\"properties\":{\"status\":{\"type\":"
     "\"string\",\"enum\":[\"ok\",\"indisponible\"]}}}"},
    {"GET", "/metrics", HTTP_PUBLIC, get_metrics, "socle",
     "Métriques Prometheus (format texte)", NULL, NULL},
    {"GET", "/api/v1/openapi.json", HTTP_PUBLIC, get_openapi, "socle",
     "Ce document OpenAPI", NULL, "{\"type\":\"object\"}"},
    {"POST", "/api/v1/session", HTTP_PUBLIC, post_session, "session",
     "Ouvrir une session (connexion d'un agent)", LOGIN_SCHEMA, SESSION_SCHEMA},
    {"GET", "/api/v1/session", HTTP_SESSION, get_session, "session",
     "Identité de la session courante et jeton CSRF", NULL, SESSION_SCHEMA},
    {"PUT", "/api/v1/session", HTTP_SESSION, put_session, "session",
     "Changer de commune active", COMMUNE_SCHEMA, SESSION_SCHEMA},
    {"DELETE", "/api/v1/session", HTTP_SESSION, delete_session, "session",
     "Fermer la session (déconnexion)", NULL, NULL},
    {"POST", "/agent/connexion", HTTP_PUBLIC, post_login_form, "session",
     "Connexion par formulaire HTML", NULL, NULL},
    {"GET", "/static/*", HTTP_PUBLIC, web_static_get, "socle",
     "Fichiers statiques embarqués", NULL, NULL},
};

static const struct http_routes table = {"web", routes, GU_ARRAY_LEN(routes)};

const struct http_routes *
web_builtin_routes(void)
{
    return &table;
}
