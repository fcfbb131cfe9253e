/*
 * web_http.c - the request/response API of http.h, as handlers see it,
 * and the mapping of GU_E* codes to HTTP statuses and problem+json.
 *
 * Everything here works on a request whose parsed input hangs off
 * req->priv (struct web_reqdata) and allocates from the request's arena,
 * so it runs the same under the server, in unit tests and in fuzzers.
 *
 * Status mapping (documented in docs and OpenAPI):
 *   EINVAL without field -> 400 (malformed input), with a field -> 422
 *   (a named value failed validation); ENOTFOUND 404; ECONFLICT 409;
 *   EAUTH 401; EPERM 403; ETOOBIG 413; ERATE 429; EBUSY 503; anything
 *   else 500 with a generic detail (the English message goes to logs).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

static const struct {
    int status;
    const char *title;
    const char *slug;
} statuses[] = {
    {400, "Requête invalide", "requete-invalide"},
    {401, "Authentification requise", "authentification-requise"},
    {403, "Accès refusé", "acces-refuse"},
    {404, "Introuvable", "introuvable"},
    {405, "Méthode non autorisée", "methode-non-autorisee"},
    {409, "Conflit", "conflit"},
    {413, "Contenu trop volumineux", "trop-volumineux"},
    {415, "Type de contenu non pris en charge", "type-non-pris-en-charge"},
    {422, "Données invalides", "donnees-invalides"},
    {429, "Trop de requêtes", "trop-de-requetes"},
    {431, "En-têtes trop volumineux", "en-tetes-trop-volumineux"},
    {500, "Erreur interne", "erreur-interne"},
    {503, "Service indisponible", "service-indisponible"},
};

static const char *
status_slug(int status)
{
    for (size_t i = 0; i < GU_ARRAY_LEN(statuses); i++) {
        if (statuses[i].status == status)
            return statuses[i].slug;
    }
    return NULL;
}

const char *
web_status_title(int status)
{
    for (size_t i = 0; i < GU_ARRAY_LEN(statuses); i++) {
        if (statuses[i].status == status)
            return statuses[i].title;
    }
    return status >= 500 ? "Erreur interne" : "Requête refusée";
}

int
web_status_of(int code, const char *field)
{
    switch (code) {
    case GU_OK:
        return 200;
    case GU_EINVAL:
        return (field && *field) ? 422 : 400;
    case GU_ENOTFOUND:
        return 404;
    case GU_ECONFLICT:
        return 409;
    case GU_EAUTH:
        return 401;
    case GU_EPERM:
        return 403;
    case GU_ETOOBIG:
        return 413;
    case GU_ERATE:
        return 429;
    case GU_EBUSY:
        return 503;
    default:
        return 500;
    }
}

int
web_code_of_status(int status)
{
    switch (status) {
    case 401:
        return GU_EAUTH;
    case 403:
        return GU_EPERM;
    case 404:
        return GU_ENOTFOUND;
    case 409:
        return GU_ECONFLICT;
    case 413:
    case 431:
        return GU_ETOOBIG;
    case 429:
        return GU_ERATE;
    case 503:
        return GU_EBUSY;
    default:
        if (status < 400)
            return 0;
        return status >= 500 ? GU_EINTERNAL : GU_EINVAL;
    }
}

void
web_req_init(struct http_req *req, struct http_resp *resp, struct gu_arena *a,
             struct web_reqdata *d)
{
    memset(req, 0, sizeof(*req));
    memset(resp, 0, sizeof(*resp));
    req->arena = a;
    req->priv = d;
    req->method = "GET";
    req->path = "/";
    req->request_id = "";
    req->client_ip = "";
    req->who.login = "";
    req->who.csrf = "";
    req->who.session_token = "";
    gu_err_clear(&req->err);
    resp->arena = a;
    resp->req = req;
    resp->tail = &resp->hdrs;
}

static struct web_reqdata *
data(struct http_req *r)
{
    return r->priv;
}

const char *
http_param(struct http_req *r, const char *name)
{
    struct web_reqdata *d = data(r);

    return d ? web_kv_get(d->caps, d->ncaps, name) : NULL;
}

int
http_param_id(struct http_req *r, const char *name, int64_t *out)
{
    const char *s = http_param(r, name);
    long v;

    if (!s || gu_parse_long(s, 1, LONG_MAX, &v) < 0)
        return gu_err_set(&r->err, GU_EINVAL, NULL,
                          "Identifiant invalide dans l'adresse.",
                          "bad id in path parameter %s", name);
    *out = (int64_t)v;
    return 0;
}

const char *
http_query(struct http_req *r, const char *name)
{
    struct web_reqdata *d = data(r);

    return d ? web_kv_get(d->query, d->nquery, name) : NULL;
}

const char *
http_header(struct http_req *r, const char *name)
{
    struct web_reqdata *d = data(r);

    return d ? web_kv_getcase(d->headers, d->nheaders, name) : NULL;
}

const char *
http_cookie(struct http_req *r, const char *name)
{
    return web_cookie_find(r->arena, http_header(r, "Cookie"), name);
}

const char *
http_body(struct http_req *r, size_t *n)
{
    struct web_reqdata *d = data(r);

    if (n)
        *n = d && d->body ? d->body_n : 0;
    return d && d->body ? d->body : "";
}

int
http_body_json(struct http_req *r, json_t **out)
{
    struct web_reqdata *d = data(r);
    json_t *j = NULL;
    int rc;

    *out = NULL;
    rc = web_json_parse(d ? d->body : NULL, d ? d->body_n : 0,
                        http_header(r, "Content-Type"), &j, &r->err);
    if (rc < 0)
        return rc;
    if (!gu_json_arena(r->arena, j))
        return GU_ENOMEM;
    *out = j;
    return 0;
}

const char *
http_form(struct http_req *r, const char *name)
{
    struct web_reqdata *d = data(r);

    if (!d)
        return NULL;
    if (!d->form_parsed) {
        struct gu_err err;
        d->form_parsed = true;
        if (!web_ctype_is(http_header(r, "Content-Type"),
                          "application/x-www-form-urlencoded") ||
            !d->body)
            return NULL;
        if (web_urlencoded_parse(r->arena, d->body, d->body_n, &d->form,
                                 &d->nform, &err) < 0) {
            d->form = NULL;
            d->nform = 0;
        }
    }
    return web_kv_get(d->form, d->nform, name);
}

void
http_audit(struct http_req *r, const char *action, const char *target,
           const char *detail_fmt, ...)
{
    struct gu_err err;
    const char *actor, *detail = "";
    va_list ap;

    if (detail_fmt) {
        va_start(ap, detail_fmt);
        detail = gu_arena_vsprintf(r->arena, detail_fmt, ap);
        va_end(ap);
        if (!detail)
            detail = "";
    }
    actor = http_actor(r);
    if (!actor || !r->conn) {
        gu_log_warn("audit.skip", "action=%s", action);
        return;
    }
    gu_err_clear(&err);
    if (store_audit_add(r->conn, r->who.insee, actor, action,
                        target ? target : "", detail, r->request_id,
                        &err) < 0) {
        char q[300];
        gu_log_error("audit.fail", "action=%s err=%s", action,
                     gu_logq(q, sizeof(q), err.msg));
    }
}

const char *
http_actor(struct http_req *r)
{
    const char *login = r->who.login ? r->who.login : "";

    if (!r->who.authenticated)
        return "anonyme";
    if (r->who.is_token)
        return gu_arena_sprintf(r->arena, "token:%s", login);
    return login;
}

int
http_need_commune(struct http_req *r)
{
    if (r->who.insee[0])
        return 0;
    return gu_err_set(&r->err, GU_EPERM, NULL,
                      "Aucune commune active pour cette session.",
                      "no active commune");
}

/* ----- responses ----- */

static void
free_cb(void *p)
{
    free(p);
}

int
http_json(struct http_resp *resp, int status, json_t *j)
{
    char *s;

    if (!j)
        return GU_ENOMEM;
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s || gu_arena_defer(resp->arena, free_cb, s) < 0)
        return GU_ENOMEM;
    resp->set = true;
    resp->status = status;
    resp->ctype = "application/json";
    resp->body = s;
    resp->n = strlen(s);
    resp->body_static = false;
    return 0;
}

int
http_send(struct http_resp *resp, int status, const char *ctype,
          const char *body, size_t n)
{
    char *b = gu_arena_alloc(resp->arena, n + 1);

    if (!b)
        return GU_ENOMEM;
    if (n)
        memcpy(b, body, n);
    b[n] = 0;
    resp->set = true;
    resp->status = status;
    resp->ctype = gu_arena_strdup(resp->arena, ctype ? ctype : "text/plain");
    resp->body = b;
    resp->n = n;
    resp->body_static = false;
    return resp->ctype ? 0 : GU_ENOMEM;
}

/* `ext` (stolen, may be NULL): extension members added to the object. */
static int
problem_fill(struct http_resp *resp, int status, const char *title,
             const char *detail, const char *field, json_t *ext)
{
    struct http_req *req = resp->req;
    const char *slug = status_slug(status);
    char type[96];
    json_t *j;
    int rc;

    if (slug)
        snprintf(type, sizeof(type), "https://guichet.local/problemes/%s",
                 slug);
    else
        snprintf(type, sizeof(type), "about:blank");
    j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "type", type, "title",
                  title ? title : web_status_title(status), "status", status,
                  "detail", detail ? detail : "", "instance",
                  req && req->path ? req->path : "/", "request_id",
                  req && req->request_id ? req->request_id : "");
    if (j && field && *field)
        json_object_set_new(j, "champ", json_string(field));
    if (j && ext)
        json_object_update_missing(j, ext);
    json_decref(ext);
    rc = http_json(resp, status, j);
    if (rc == 0)
        resp->ctype = "application/problem+json";
    return rc;
}

int
http_problem(struct http_resp *resp, int status, const char *title,
             const char *detail)
{
    int rc = problem_fill(resp, status, title, detail, NULL, NULL);

    return rc < 0 ? rc : web_code_of_status(status);
}

/* The problem+json of an error code, with extension members `ext`. */
static int
problem_from_err(struct http_req *req, struct http_resp *resp, int code,
                 const struct gu_err *err, json_t *ext)
{
    int status = web_status_of(code, err ? err->field : NULL);
    const char *detail;

    if (status >= 500 && status != 503)
        detail = "Une erreur interne est survenue. Réessayez dans un "
                 "instant ; si le problème persiste, prévenez le "
                 "service informatique.";
    else if (err && err->user[0])
        detail = err->user;
    else
        detail = gu_status_user(code);
    (void)req;
    return problem_fill(resp, status, NULL, detail,
                        status < 500 && err ? err->field : NULL, ext);
}

int
web_problem_from_err(struct http_req *req, struct http_resp *resp, int code,
                     const struct gu_err *err)
{
    return problem_from_err(req, resp, code, err, NULL);
}

int
http_problem_ext(struct http_req *req, struct http_resp *resp, int code,
                 json_t *ext)
{
    int rc = problem_from_err(req, resp, code, &req->err, ext);

    return rc < 0 ? rc : code;
}

int
http_redirect(struct http_resp *resp, const char *location)
{
    int rc = http_add_header(resp, "Location", location);

    if (rc < 0)
        return rc;
    resp->set = true;
    resp->status = 303;
    resp->ctype = NULL;
    resp->body = "";
    resp->n = 0;
    resp->body_static = true;
    return 0;
}

int
http_no_content(struct http_resp *resp)
{
    resp->set = true;
    resp->status = 204;
    resp->ctype = NULL;
    resp->body = "";
    resp->n = 0;
    resp->body_static = true;
    return 0;
}

static bool
header_safe(const char *s, bool name)
{
    if (!s || (name && !*s))
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\r' || c == '\n' || c == 0x7f || (c < 0x20 && c != '\t'))
            return false;
        if (name && (c == ':' || c == ' ' || c == '\t'))
            return false;
    }
    return true;
}

int
http_add_header(struct http_resp *resp, const char *name, const char *value)
{
    struct web_hdr *h;

    if (!header_safe(name, true) || !header_safe(value, false))
        return GU_EINVAL;
    h = gu_arena_alloc(resp->arena, sizeof(*h));
    if (!h)
        return GU_ENOMEM;
    h->name = gu_arena_strdup(resp->arena, name);
    h->value = gu_arena_strdup(resp->arena, value);
    h->next = NULL;
    if (!h->name || !h->value)
        return GU_ENOMEM;
    if (!resp->tail)
        resp->tail = &resp->hdrs;
    *resp->tail = h;
    resp->tail = &h->next;
    return 0;
}

const char *
web_resp_header(const struct http_resp *resp, const char *name)
{
    for (const struct web_hdr *h = resp->hdrs; h; h = h->next) {
        if (strcasecmp(h->name, name) == 0)
            return h->value;
    }
    return NULL;
}

static bool
cookie_token_ok(const char *s, bool value)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c > 0x7e || c == ';' || c == ',' || c == '"' ||
            c == '\\' || (!value && c == '='))
            return false;
    }
    return true;
}

int
http_set_cookie(struct http_req *req, struct http_resp *resp, const char *name,
                const char *value, long max_age_s, bool http_only)
{
    const char *mode =
        req->cfg ? gu_config_str(req->cfg, "security.cookie_secure") : "auto";
    bool secure =
        strcmp(mode, "on") == 0 || (strcmp(mode, "auto") == 0 && req->tls);
    char age[48] = "";
    const char *c;

    if (!name || !*name || !value || !cookie_token_ok(name, false) ||
        !cookie_token_ok(value, true))
        return GU_EINVAL;
    if (max_age_s >= 0)
        snprintf(age, sizeof(age), "; Max-Age=%ld", max_age_s);
    c = gu_arena_sprintf(req->arena, "%s=%s; Path=/%s%s; SameSite=Strict%s",
                         name, value, age, http_only ? "; HttpOnly" : "",
                         secure ? "; Secure" : "");
    if (!c)
        return GU_ENOMEM;
    return http_add_header(resp, "Set-Cookie", c);
}

int
http_template(struct http_req *req, struct http_resp *resp, int status,
              const char *name, json_t *vars)
{
    const struct gu_asset *as;
    struct gu_buf b;
    char path[160];
    int rc;

    if (!name || strstr(name, "..") || strchr(name, '/') == name ||
        snprintf(path, sizeof(path), "pages/%s", name) >= (int)sizeof(path))
        return gu_err_set(&req->err, GU_EINTERNAL, NULL, NULL,
                          "bad template name");
    as = gu_asset_find(path);
    if (!as)
        return gu_err_set(&req->err, GU_EINTERNAL, NULL, NULL,
                          "template %s not embedded", path);
    gu_buf_init(&b);
    rc = web_template_render((const char *)as->data, as->size, vars, &b);
    if (rc == 0)
        rc = http_send(resp, status, "text/html; charset=utf-8", b.p ? b.p : "",
                       b.n);
    gu_buf_fini(&b);
    return rc;
}
