/*
 * http.h - the small request/response API that domains' <domain>_http.c
 * files use. It is all a handler sees of the web layer: no
 * libmicrohttpd type leaks through here.
 *
 * A handler receives a request whose arena, store connection, config and
 * authenticated identity are ready, fills the response, and returns 0 or a
 * negative GU_E* code. On a negative return with no body set, web/ turns
 * req->err into an RFC 9457 problem+json (French title/detail).
 */
#ifndef GU_WEB_HTTP_H
#define GU_WEB_HTTP_H

#include "core/core.h"
#include "store/store.h"

struct http_req;
struct http_resp;

typedef int (*http_handler_fn)(struct http_req *req, struct http_resp *resp);

/* Who may call a route. */
enum http_access {
    HTTP_PUBLIC = 0,  /* anyone */
    HTTP_LECTEUR = 1, /* an agent or token with role >= lecteur */
    HTTP_AGENT = 2,   /* role >= agent */
    HTTP_ADMIN = 3,   /* role >= admin */
    HTTP_SESSION = 4  /* any logged-in browser session, no role needed */
};

/*
 * One row of a route table. Patterns are literal segments and `{name}`
 * captures ("/api/v1/users/{id}"); a final "*" segment matches any rest
 * (captured as "*"). Routes under /api/ are documented in the OpenAPI
 * document from `summary`, `tag`, `body` and `response` (JSON Schema
 * fragments as JSON text, may be NULL).
 */
struct http_route {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern;
    enum http_access access;
    http_handler_fn fn;
    const char *tag;      /* OpenAPI tag: "admin", "socle"... */
    const char *summary;  /* French one-line summary */
    const char *body;     /* JSON Schema of the request body, or NULL */
    const char *response; /* JSON Schema of the 2xx body, or NULL */
};

/* A module's table, handed to the server by main.c. */
struct http_routes {
    const char *module;
    const struct http_route *routes;
    size_t count;
};

/* The caller's identity, filled by web/ before the handler runs. */
struct http_identity {
    bool authenticated;
    bool is_token;             /* API token rather than a browser session */
    int64_t agent_id;          /* 0 for tokens */
    const char *login;         /* agent login, or token name */
    char insee[6];             /* active commune ("" if none) */
    enum store_role role;      /* role in that commune */
    const char *csrf;          /* session CSRF token (sessions only) */
    const char *session_token; /* cookie value (sessions only) */
    bool must_change_password; /* session of an agent on a temporary
                                  password: only HTTP_SESSION routes */
};

/*
 * The request. Everything hanging off it lives until the response is
 * sent, in `arena`. `conn` is the store connection of this thread.
 */
struct http_req {
    struct gu_arena *arena;
    struct store_conn *conn;
    const struct gu_config *cfg;
    struct http_identity who;
    const char *method;
    const char *path;       /* decoded path, no query */
    const char *request_id; /* also in the X-Request-Id response header */
    const char *client_ip;
    bool tls;          /* behind TLS (direct or trusted proxy) */
    struct gu_err err; /* set by handlers on failure */
    void *priv;        /* web/'s private data */
};

/* A {name} capture of the matched pattern, or NULL. */
const char *http_param(struct http_req *r, const char *name);
/* A {name} capture parsed as a positive int64; GU_EINVAL (err set) else. */
int http_param_id(struct http_req *r, const char *name, int64_t *out);
/* A query-string argument (decoded), or NULL. */
const char *http_query(struct http_req *r, const char *name);
/*
 * Every value of a query argument repeated without "[]" (?a=1&a=2, as the
 * ANTS hub sends them), in order: the first `cap` go to out (pointers
 * into the request). Returns how many there are, which may exceed cap so
 * that a caller can refuse too many. (web_query.c)
 */
size_t http_query_all(struct http_req *r, const char *name, const char **out,
                      size_t cap);
/* A request header (case-insensitive name), or NULL. */
const char *http_header(struct http_req *r, const char *name);
/* A cookie value, or NULL. */
const char *http_cookie(struct http_req *r, const char *name);

/* Raw body (NUL-terminated copy in the arena; n excludes the NUL). */
const char *http_body(struct http_req *r, size_t *n);
/*
 * Body parsed as a JSON object (Content-Type must be application/json).
 * GU_EINVAL with a French message (line/column) on malformed JSON, invalid
 * UTF-8 or a non-object. The json_t is released with the arena.
 */
int http_body_json(struct http_req *r, json_t **out);
/*
 * Body as application/x-www-form-urlencoded: value of `name` or NULL.
 */
const char *http_form(struct http_req *r, const char *name);

/*
 * Append an audit entry for the current caller (actor, commune and
 * request id taken from the request). Failures are logged, not returned:
 * but see the domain's own transaction if the audit must be atomic.
 */
void http_audit(struct http_req *r, const char *action, const char *target,
                const char *detail_fmt, ...) GU_PRINTF(4, 5);

/*
 * The caller as the audit log names it: the agent's login, or
 * "token:<name>" for an API token ("anonyme" when nobody). In the arena.
 */
const char *http_actor(struct http_req *r);

/*
 * 0 when the caller has an active commune, else GU_EPERM with a French
 * message (a session or token without a commune cannot act on one).
 */
int http_need_commune(struct http_req *r);

/* ----- responses ----- */

/* JSON body; takes ownership of `j` (decref'd with the arena). */
int http_json(struct http_resp *resp, int status, json_t *j);
/* Body bytes copied into the response with a content type. */
int http_send(struct http_resp *resp, int status, const char *ctype,
              const char *body, size_t n);
/*
 * A problem+json with a French title (NULL = the standard one for the
 * status) and detail. Returns the GU_E* code matching `status` (e.g.
 * GU_ENOTFOUND for 404) so a handler can `return http_problem(...)`, or
 * GU_ENOMEM.
 */
int http_problem(struct http_resp *resp, int status, const char *title,
                 const char *detail);
/*
 * The problem+json web/ makes from req->err for `code` (status, French
 * detail, `champ`), plus extension members (RFC 9457 section 3.2) taken
 * from the object `ext` (stolen; members named like a standard one are
 * ignored), e.g. {"creneaux": [...]} on a 409. Returns `code` so a
 * handler can `return http_problem_ext(...)`, or GU_ENOMEM.
 */
int http_problem_ext(struct http_req *req, struct http_resp *resp, int code,
                     json_t *ext);
/* 303 See Other to `location`. */
int http_redirect(struct http_resp *resp, const char *location);
/* 204 No Content. */
int http_no_content(struct http_resp *resp);
/* Add a response header (copied). */
int http_add_header(struct http_resp *resp, const char *name,
                    const char *value);
/*
 * Set a cookie with HttpOnly (if http_only), SameSite=Strict, Path=/ and
 * Secure when the request came over TLS. max_age_s < 0 = session cookie,
 * 0 = delete.
 */
int http_set_cookie(struct http_req *req, struct http_resp *resp,
                    const char *name, const char *value, long max_age_s,
                    bool http_only);

/*
 * Render an embedded HTML template (web/pages/<name>) replacing
 * {{key}} with HTML-escaped values from `vars` (a JSON object of strings)
 * and {{{key}}} with raw values. Unknown keys render empty. Does NOT take
 * ownership of `vars` (attach it to the arena with gu_json_arena()).
 * A template that is not embedded gives GU_EINTERNAL.
 */
int http_template(struct http_req *req, struct http_resp *resp, int status,
                  const char *name, json_t *vars);

/* ----- « Pourquoi ? »: the explanation of an AI output (web_why.c) ----- */

/*
 * A new explanation object: a one-sentence French summary, the model's
 * name and version ("" if none) and when the output was produced (unix
 * seconds, 0 = unknown). NULL on OOM. The caller owns the reference.
 */
json_t *http_why_new(const char *summary, const char *model,
                     const char *version, int64_t at);
/* Append a « libellé : valeur » line. GU_EINVAL without why/label. */
int http_why_add(json_t *why, const char *label, const char *value);
/* Append a source (title, url "" if none, score < 0 = not shown). */
int http_why_source(json_t *why, const char *title, const char *url,
                    double score);
/*
 * The explanation as HTML, the markup web/js/pourquoi.js makes: a
 * <details class="pourquoi"> (open if `open`) whose summary reads
 * « Pourquoi ? ». Nothing for a non-object.
 */
void http_why_html(struct gu_buf *b, const json_t *why, bool open);

/* ----- embedded assets (generated at build time from web/) ----- */

/* Lookup by relative path; NULL if absent. */
const struct gu_asset *gu_asset_find(const char *path);
const struct gu_asset *gu_assets(size_t *count);

#endif
