/*
 * web_internal.h - private to src/web/, the unit tests and the fuzz
 * targets.
 *
 * The pure pieces of the HTTP layer live behind these declarations so
 * that they can be tested and fuzzed without a socket: path decoding and
 * normalisation, query/form/cookie parsing, the router, JSON body
 * parsing, template rendering and the error -> HTTP status mapping.
 * Everything allocates from the caller's arena; nothing here keeps state.
 *
 * Nothing outside src/web/, tests/ and fuzz/ may include this file.
 */
#ifndef GU_WEB_INTERNAL_H
#define GU_WEB_INTERNAL_H

#include <pthread.h>

#include "core/core.h"
#include "web/http.h"

struct web_server;

/* Bounds of request parsing; over them a request is refused (400). */
#define WEB_MAX_PARAMS 256   /* query or form arguments */
#define WEB_MAX_SEGMENTS 64  /* path segments */
#define WEB_MAX_CAPTURES 8   /* {captures} in one pattern */
#define WEB_MAX_REQID 64     /* accepted incoming X-Request-Id length */
#define WEB_SESSION_COOKIE "guichet_session"

/* A decoded name/value pair; both NUL-terminated, in an arena. */
struct web_kv {
    const char *k;
    const char *v;
};

/* ------------------------------------------------------------------ */
/* Parsing (web_parse.c)                                              */
/* ------------------------------------------------------------------ */

/*
 * Split a raw request target ("/a%20b?x=1") into a decoded, normalised
 * path and the raw query (without '?', "" when absent). %xx sequences are
 * decoded exactly once. GU_EINVAL (err set, French) when the target does
 * not start with '/', has a bad %xx, decodes to NUL, a control character,
 * a backslash, invalid UTF-8, an empty segment ("//") or a "." / ".."
 * segment. A trailing '/' is kept.
 */
int web_target_parse(struct gu_arena *a, const char *raw, size_t n,
                     const char **path, const char **query,
                     struct gu_err *err);

/*
 * Parse "a=1&b=x+y%21" (query string or urlencoded form): '+' is a
 * space, %xx decoded once, empty pairs skipped, a name without '=' gets
 * "". GU_EINVAL on bad %xx, NUL or invalid UTF-8; GU_ETOOBIG over
 * WEB_MAX_PARAMS pairs. *out is an arena array of *count pairs.
 */
int web_urlencoded_parse(struct gu_arena *a, const char *s, size_t n,
                         struct web_kv **out, size_t *count,
                         struct gu_err *err);

/* First value of `name` in kv (exact match), or NULL. */
const char *web_kv_get(const struct web_kv *kv, size_t n, const char *name);
/* First value of `name` in kv (ASCII case-insensitive), or NULL. */
const char *web_kv_getcase(const struct web_kv *kv, size_t n,
                           const char *name);

/*
 * Value of cookie `name` in a Cookie header ("a=1; b=\"2\""), copied into
 * the arena without quotes, or NULL when absent or malformed.
 */
const char *web_cookie_find(struct gu_arena *a, const char *header,
                            const char *name);

/* An incoming X-Request-Id we accept: 1..64 of [A-Za-z0-9_-]. */
bool web_reqid_valid(const char *s);

/*
 * "ip" truncated for logs: IPv4 keeps /24 ("192.0.2.0"), IPv6 keeps /48.
 * Anything else becomes "-".
 */
void web_ip_truncate(const char *ip, char *out, size_t cap);

/*
 * Does the Content-Type header name `mime` ("application/json")? Case
 * insensitive, parameters after ';' ignored. NULL header -> false.
 */
bool web_ctype_is(const char *header, const char *mime);

/*
 * Origin header check for session requests: true when `origin` is NULL,
 * or its host[:port] equals `host` (case-insensitive), or it equals
 * `public_url` (ignoring a trailing slash).
 */
bool web_origin_ok(const char *origin, const char *host,
                   const char *public_url);

/*
 * True when `ip` (textual IPv4 or IPv6) is in `list`: comma- or
 * space-separated addresses or networks ("10.0.0.0/24", "::1", "*").
 * Malformed entries match nothing.
 */
bool web_ip_allowed(const char *ip, const char *list);

/*
 * Parse a request body as a JSON object: Content-Type must be
 * application/json (NULL ctype skips the check), UTF-8 valid, no
 * duplicate keys, an object at top level. Caller owns *out. GU_EINVAL
 * with a French err->user otherwise.
 */
int web_json_parse(const char *body, size_t n, const char *ctype,
                   json_t **out, struct gu_err *err);

/*
 * Render a template: {{key}} -> HTML-escaped value of vars[key],
 * {{{key}}} -> raw value. Keys are [A-Za-z0-9_.-], spaces around them
 * allowed; unknown keys and non-scalar values render empty; numbers and
 * booleans render as text. An unterminated tag is copied as is.
 * {{> name}} renders the partial pages/_name.html with the same variables
 * (nesting bounded; unknown partials render empty): page layouts share
 * their header, navigation and footer that way.
 */
int web_template_render(const char *tpl, size_t n, json_t *vars,
                        struct gu_buf *out);

/* ------------------------------------------------------------------ */
/* Cross-origin access to the chat API (web_cors.c)                   */
/* ------------------------------------------------------------------ */

/* Is `path` under the chat API (/api/v1/chat, /api/v1/chat/...)? */
bool web_cors_path(const char *path);

/*
 * Is `origin` (an Origin header) one of `list` (assistant.widget_origins:
 * "https://a.fr https://b.fr", spaces or commas)? Scheme and host compare
 * case-insensitively, a default port (:443, :80) is the same origin as
 * none; "null", paths, user info and anything malformed never match.
 */
bool web_cors_origin_allowed(const char *origin, const char *list);

/*
 * The Origin to echo in Access-Control-Allow-Origin for this request (a
 * chat path and an allowed origin), or NULL for no CORS header at all.
 */
const char *web_cors_allow_origin(const struct http_req *req,
                                  const char *list);

/*
 * Answer an OPTIONS request on a chat path whose other methods are
 * `allow` ("GET, POST"): 204 with Allow, plus the preflight headers
 * (methods POST and GET, header Content-Type, max age) when the origin is
 * allowed. The Allow-Origin header itself is added with every response.
 */
int web_cors_preflight(struct http_req *req, struct http_resp *resp,
                       const char *allow, const char *list);

/* ------------------------------------------------------------------ */
/* Router (web_router.c)                                              */
/* ------------------------------------------------------------------ */

enum web_seg_kind { WEB_SEG_LIT, WEB_SEG_CAP, WEB_SEG_REST };

struct web_seg {
    enum web_seg_kind kind;
    const char *s; /* literal text or capture name */
    size_t n;
};

/* A compiled route. `route` points into the caller's (static) table. */
struct web_route {
    const struct http_route *route;
    const char *module;
    size_t index; /* position after sorting, for metrics */
    struct web_seg *segs;
    size_t nsegs;
};

/* Heap-allocated, read-only after creation, freed by web_router_free. */
struct web_router {
    struct web_route *v;
    size_t n;
    char *strings; /* backing store of every segment */
};

/*
 * Compile the tables. Routes are sorted so that, position by position, a
 * literal segment comes before a {capture}, which comes before a final "*";
 * ties keep table order. GU_EINVAL (err names the pattern) on a bad
 * pattern: not starting with '/', empty or unbalanced capture, '*' not
 * last, an unknown method, too many segments or captures.
 */
int web_router_new(const struct http_routes *tables, size_t ntables,
                   struct web_router **out, struct gu_err *err);
void web_router_free(struct web_router *r);

/* Result of a lookup. */
struct web_match {
    const struct web_route *route; /* NULL: no route for this method */
    struct web_kv caps[WEB_MAX_CAPTURES + 1];
    size_t ncaps;
    char allow[64]; /* path matched other methods: "GET, POST" */
};

/*
 * Look `method` (HEAD is served by GET) and decoded `path` up. Captures
 * are copied into the arena. Returns 0 with m->route set; GU_ENOTFOUND
 * with m->allow non-empty when only other methods match (405), or empty
 * (404); GU_ENOMEM.
 */
int web_router_match(const struct web_router *r, struct gu_arena *a,
                     const char *method, const char *path,
                     struct web_match *m);

/* ------------------------------------------------------------------ */
/* Requests and responses (web_http.c)                                */
/* ------------------------------------------------------------------ */

/* What http_req.priv points to: parsed input, filled by web/. */
struct web_reqdata {
    struct web_kv *caps;
    size_t ncaps;
    struct web_kv *query;
    size_t nquery;
    struct web_kv *headers;
    size_t nheaders;
    struct web_kv *form; /* parsed lazily from the body */
    size_t nform;
    bool form_parsed;
    const char *body; /* NUL-terminated, may be NULL */
    size_t body_n;
    struct web_server *srv; /* the serving server; NULL in tests */
};

struct web_hdr {
    const char *name;
    const char *value;
    struct web_hdr *next;
};

/* The response being built; lives in the request's arena. */
struct http_resp {
    struct gu_arena *arena;
    struct http_req *req;
    bool set;                 /* a status and body were chosen */
    int status;
    const char *ctype;
    const char *body;
    size_t n;
    bool body_static;         /* body outlives the request (assets) */
    struct web_hdr *hdrs;     /* extra headers, in order added */
    struct web_hdr **tail;
};

/* Prepare req/resp for a request owning `a`; d is the parsed input. */
void web_req_init(struct http_req *req, struct http_resp *resp,
                  struct gu_arena *a, struct web_reqdata *d);

/* Header value already set on the response (case-insensitive) or NULL. */
const char *web_resp_header(const struct http_resp *resp, const char *name);

/* HTTP status for a GU_E* code; `field` non-empty turns EINVAL into 422. */
int web_status_of(int code, const char *field);
/* French title of a status ("Introuvable"). Never NULL. */
const char *web_status_title(int status);
/* GU_E* code for an HTTP status (0 under 400). */
int web_code_of_status(int status);

/*
 * Fill resp with a problem+json from (code, err): status from
 * web_status_of, detail from err->user or gu_status_user (a generic
 * sentence for 5xx), "champ" = err->field. Returns 0 or GU_ENOMEM.
 */
int web_problem_from_err(struct http_req *req, struct http_resp *resp,
                         int code, const struct gu_err *err);

/* ------------------------------------------------------------------ */
/* The server (web_server.c), shared with the built-in routes         */
/* ------------------------------------------------------------------ */

/* Current configuration, refcounted: requests in flight keep theirs. */
struct web_cfgref {
    struct gu_config *cfg;
    bool owned; /* freed with the ref (swapped in) or not (caller's) */
    _Atomic long refs;
};

struct web_metrics;
struct web_gz;
struct web_ctx;
struct MHD_Daemon;

/* Long-lived; built by web_server_new, read-only while serving except
 * for the fields marked (locked) or (atomic). */
struct web_server {
    struct MHD_Daemon *daemon;
    struct store *st;
    struct http_routes *tables; /* web's own first, then the modules' */
    size_t ntables;
    struct web_router *router;
    char *openapi;              /* the OpenAPI document, compact JSON */
    size_t openapi_n;
    struct web_metrics *metrics;
    struct web_gz *gz;          /* gzip cache, one slot per asset */
    size_t ngz;
    void *gz_mu;                /* pthread_mutex_t * (locked) */
    void *cfg_mu;               /* pthread_mutex_t * (locked) */
    struct web_cfgref *cfg;     /* (locked) */
    _Atomic long inflight;      /* (atomic) requests being served */
    int64_t started_at;         /* unix seconds */
    char listen[256];
    int port;
    unsigned threads, max_conn, timeout_s, per_ip;
    size_t mem_limit;
    /* Header deadline watchdog (see web_server.c). */
    pthread_mutex_t watch_mu;
    pthread_cond_t watch_cv;
    struct web_ctx *watch; /* requests whose headers are not all in */
    pthread_t watchdog;
    bool watchdog_on;
    bool watch_stop; /* (locked) */
};

/* Record one finished request (route index n = "other"). */
void web_metrics_record(struct web_metrics *m, size_t route, const char *meth,
                        int status, double seconds);
struct web_metrics *web_metrics_new(const struct web_router *r);
void web_metrics_free(struct web_metrics *m);
/* Prometheus text exposition into b. */
int web_metrics_render(struct web_server *srv, struct gu_buf *b);

/*
 * Gzipped copy of an asset, compressed once and cached in srv. 0 with
 * *data and *n set, GU_ENOTFOUND when compression does not pay, GU_ENOMEM.
 */
int web_gzip_asset(struct web_server *srv, const struct gu_asset *as,
                   const unsigned char **data, size_t *n);
/* Free the gzip cache (server shutdown). */
void web_gz_free(struct web_server *srv);

/* ------------------------------------------------------------------ */
/* Built-in routes (web_routes.c)                                     */
/* ------------------------------------------------------------------ */

/* web's own table: /healthz, /metrics, openapi, session, static. */
const struct http_routes *web_builtin_routes(void);

/* The static-file handler (served without a store connection). */
int web_static_get(struct http_req *req, struct http_resp *resp);

#endif
