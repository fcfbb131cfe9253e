/*
 * web_server.c - the libmicrohttpd daemon and the life of a request.
 *
 * MHD calls us three ways per request: the URI log callback (we create
 * the request context: arena, config snapshot, start time), the access
 * handler (first call: headers are in, check the declared body size;
 * next calls: body chunks; last call: route, authenticate, check role and
 * CSRF, run the handler, queue the response) and the completion callback
 * (we free everything in one go).
 *
 * Threads: MHD's pool; a request is served by one thread from start to
 * end, which holds one store connection while the handler runs. The
 * configuration is refcounted so a reload never pulls it from under a
 * request in flight.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "web/web.h"
#include "web/web_internal.h"

/* Per-IP connection limit: max(this, server.max_connections / 4). */
#define PER_IP_LIMIT 64
/* A body over the limit is drained (to answer 413) up to this factor,
 * then the connection is cut. */
#define DRAIN_FACTOR 2

/* One request, from the URI callback to the completion callback. */
struct web_ctx {
    struct web_server *srv;
    struct gu_arena *arena;
    struct web_cfgref *cfgref;
    struct http_req req;
    struct http_resp resp;
    struct web_reqdata d;
    const char *raw_uri;
    int64_t t0_ms;
    bool started;   /* first access-handler call done */
    bool responded; /* a response was queued */
    bool body_over; /* body bigger than server.max_body */
    size_t max_body;
    size_t body_seen;
    struct gu_buf body;
    size_t route_ix; /* for metrics; router->n = other */
    const char *allow;
    const char *query;
    int target_rc; /* web_target_parse's result */
    int fd;        /* the connection's socket, for the watchdog */
    bool watched;  /* linked in srv->watch (srv->watch_mu) */
    struct web_ctx *wprev, *wnext;
    char reqid[WEB_MAX_REQID + 1];
    char ip[INET6_ADDRSTRLEN + 1];
};

/* ------------------------------------------------------------------ */
/* Configuration snapshots                                            */
/* ------------------------------------------------------------------ */

static struct web_cfgref *
cfg_acquire(struct web_server *srv)
{
    struct web_cfgref *r;

    pthread_mutex_lock(srv->cfg_mu);
    r = srv->cfg;
    atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(srv->cfg_mu);
    return r;
}

static void
cfg_release(struct web_cfgref *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    if (r->owned)
        gu_config_free(r->cfg);
    gu_free(r);
}

static struct web_cfgref *
cfgref_new(struct gu_config *cfg, bool owned)
{
    struct web_cfgref *r = gu_calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->cfg = cfg;
    r->owned = owned;
    atomic_store(&r->refs, 1);
    return r;
}

void
web_server_swap_config(struct web_server *srv, struct gu_config *cfg)
{
    struct web_cfgref *nr = cfgref_new(cfg, true), *old;

    if (!nr) {
        gu_log_error("web.reload", "err=ENOMEM");
        gu_config_free(cfg);
        return;
    }
    pthread_mutex_lock(srv->cfg_mu);
    old = srv->cfg;
    srv->cfg = nr;
    pthread_mutex_unlock(srv->cfg_mu);
    cfg_release(old);
    gu_log_info("web.reload", "config=swapped");
}

/* ------------------------------------------------------------------ */
/* Listening address                                                  */
/* ------------------------------------------------------------------ */

/* "host:port", "[v6]:port", ":port" -> a socket address. */
static int
parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
             struct gu_err *err)
{
    char host[256], port[16];
    const char *colon;
    struct addrinfo hints, *res = NULL;
    size_t hn;
    int rc;

    if (!listen || !*listen)
        goto bad;
    if (listen[0] == '[') {
        const char *rb = strchr(listen, ']');
        if (!rb || rb[1] != ':')
            goto bad;
        hn = (size_t)(rb - listen - 1);
        if (hn >= sizeof(host))
            goto bad;
        memcpy(host, listen + 1, hn);
        host[hn] = 0;
        colon = rb + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            goto bad;
        hn = (size_t)(colon - listen);
        if (hn >= sizeof(host) || memchr(listen, ':', hn))
            goto bad;
        memcpy(host, listen, hn);
        host[hn] = 0;
    }
    if (snprintf(port, sizeof(port), "%s", colon + 1) >= (int)sizeof(port))
        goto bad;
    {
        long p;
        if (gu_parse_long(port, 0, 65535, &p) < 0)
            goto bad;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] && strcmp(host, "*") != 0 ? host : NULL, port,
                     &hints, &res);
    if (rc != 0 || !res)
        goto bad;
    if (res->ai_addrlen > sizeof(*ss)) {
        freeaddrinfo(res);
        goto bad;
    }
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
bad:
    return gu_err_set(err, GU_ECONFIG, "server.listen",
                      "Adresse d'écoute invalide : attendu « hôte:port » "
                      "ou « [adresse IPv6]:port ».",
                      "bad listen address %s", listen ? listen : "(null)");
}

/* ------------------------------------------------------------------ */
/* Responses                                                          */
/* ------------------------------------------------------------------ */

/* A CSP directive value must not break out of its directive. */
static const char *
frame_ancestors(const struct gu_config *cfg)
{
    const char *v =
        cfg ? gu_config_str(cfg, "server.frame_ancestors") : "'self'";

    for (const char *p = v; *p; p++) {
        if (*p == ';' || *p == ',' || (unsigned char)*p < 0x20)
            return "'self'";
    }
    return *v ? v : "'self'";
}

static bool
is_api(const char *path)
{
    return strncmp(path, "/api/", 5) == 0;
}

static bool
wants_html(struct http_req *req)
{
    const char *acc = http_header(req, "Accept");

    return acc && strstr(acc, "text/html");
}

static void
add_headers(struct web_ctx *x, struct MHD_Response *r)
{
    struct http_req *req = &x->req;
    const struct gu_config *cfg = x->cfgref ? x->cfgref->cfg : NULL;
    const char *fa = frame_ancestors(cfg);
    char *csp;

    csp = gu_arena_sprintf(x->arena,
                           "default-src 'self'; script-src 'self'; "
                           "style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors %s",
                           fa);
    MHD_add_response_header(r, "X-Request-Id", x->reqid);
    /* A page may set a narrower-purpose policy of its own (the /demande
     * form asks for the position, or shows a configured map). */
    if (csp && !web_resp_header(&x->resp, "Content-Security-Policy"))
        MHD_add_response_header(r, "Content-Security-Policy", csp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    if (!web_resp_header(&x->resp, "Permissions-Policy"))
        MHD_add_response_header(r, "Permissions-Policy",
                                "camera=(), geolocation=(), payment=(), "
                                "usb=(), interest-cohort=()");
    if (strcmp(fa, "'none'") == 0)
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
    else if (strcmp(fa, "'self'") == 0)
        MHD_add_response_header(r, "X-Frame-Options", "SAMEORIGIN");
    if (x->resp.ctype)
        MHD_add_response_header(r, "Content-Type", x->resp.ctype);
    for (struct web_hdr *h = x->resp.hdrs; h; h = h->next)
        MHD_add_response_header(r, h->name, h->value);
    if (!web_resp_header(&x->resp, "Cache-Control"))
        MHD_add_response_header(r, "Cache-Control", "no-store");
    if (x->resp.status == 429 && !web_resp_header(&x->resp, "Retry-After"))
        MHD_add_response_header(r, "Retry-After", "60");
    if (x->resp.status == 401 && is_api(req->path))
        MHD_add_response_header(r, "WWW-Authenticate",
                                "Bearer realm=\"guichet\"");
    if (x->resp.status == 405 && x->allow)
        MHD_add_response_header(r, "Allow", x->allow);
    if (web_cors_path(req->path)) {
        const char *o = web_cors_allow_origin(
            req, cfg ? gu_config_str(cfg, "assistant.widget_origins") : "");
        /* The answer depends on Origin even when it carries no CORS
         * header: caches must keep the two apart. */
        MHD_add_response_header(r, "Vary", "Origin");
        if (o)
            MHD_add_response_header(r, "Access-Control-Allow-Origin", o);
    }
}

static void account(struct web_ctx *x);

static enum MHD_Result
queue(struct web_ctx *x, struct MHD_Connection *c)
{
    struct MHD_Response *r;
    enum MHD_Result ok;

    if (!x->resp.set) {
        /* Last resort: nothing usable was produced. */
        x->resp.set = true;
        x->resp.status = 500;
        x->resp.ctype = "application/problem+json";
        x->resp.body = "{\"type\":\"about:blank\",\"title\":\"Erreur "
                       "interne\",\"status\":500}";
        x->resp.n = strlen(x->resp.body);
        x->resp.body_static = true;
    }
    r = MHD_create_response_from_buffer(
        x->resp.n, (void *)x->resp.body,
        x->resp.body_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    add_headers(x, r);
    ok = MHD_queue_response(c, (unsigned)x->resp.status, r);
    MHD_destroy_response(r);
    if (ok != MHD_YES)
        return ok;
    x->responded = true;
    account(x);
    return ok;
}

/* Metrics and the access log line of a finished request. */
static void
account(struct web_ctx *x)
{
    struct web_server *srv = x->srv;
    const struct gu_config *cfg = x->cfgref ? x->cfgref->cfg : NULL;
    double secs;

    secs = (double)(gu_now_ms() - x->t0_ms) / 1000.0;
    if (srv->metrics)
        web_metrics_record(srv->metrics, x->route_ix, x->req.method,
                           x->resp.status, secs);
    if (!cfg || gu_config_bool(cfg, "log.access")) {
        char ip[INET6_ADDRSTRLEN + 4];
        const char *route = x->route_ix < srv->router->n
                                ? srv->router->v[x->route_ix].route->pattern
                                : "other";
        web_ip_truncate(x->ip, ip, sizeof(ip));
        gu_log_info("http",
                    "method=%s route=%s status=%d duration_ms=%.1f "
                    "bytes=%zu ip=%s",
                    x->req.method, route, x->resp.status, secs * 1000.0,
                    x->resp.n, ip);
    }
}

/* Fill the response with a problem for (status, detail). */
static void
problem(struct web_ctx *x, int status, const char *detail)
{
    x->resp.hdrs = NULL;
    x->resp.tail = &x->resp.hdrs;
    if (http_problem(&x->resp, status, NULL, detail) == GU_ENOMEM)
        x->resp.set = false;
}

/* 413: a French page for a browser's form (photos of /demande), the
 * problem+json otherwise. */
static void
too_big(struct web_ctx *x)
{
    struct http_req *req = &x->req;

    if (req->path && !is_api(req->path) && wants_html(req)) {
        json_t *vars = json_pack(
            "{s:s, s:s, s:s}", "status", "413", "title",
            "Envoi trop volumineux", "detail",
            "Le contenu envoyé dépasse la taille autorisée. Si vous avez "
            "joint des photos ou des fichiers, retirez-en ou réduisez-les, "
            "puis envoyez à nouveau.");
        x->resp.hdrs = NULL;
        x->resp.tail = &x->resp.hdrs;
        if (vars && gu_json_arena(x->arena, vars) &&
            http_template(req, &x->resp, 413, "erreur.html", vars) == 0)
            return;
    }
    problem(x, 413, "Le contenu envoyé dépasse la taille autorisée.");
}

/* ------------------------------------------------------------------ */
/* Header deadline                                                    */
/* ------------------------------------------------------------------ */

/*
 * MHD's connection timeout is an idle timeout: a client sending one
 * header byte per second (slowloris) would hold a connection forever.
 * Requests whose headers are not complete within server.timeout seconds
 * of their request line get their socket shut down by this thread; MHD
 * then sees the connection fail and cleans it up as usual. A request is
 * unlinked (under watch_mu) when its headers are in or it completes, and
 * MHD closes the socket only after the completion callback, so the fd we
 * shut down is always still this connection's.
 */
static void
watch_add(struct web_server *srv, struct web_ctx *x)
{
    pthread_mutex_lock(&srv->watch_mu);
    x->wprev = NULL;
    x->wnext = srv->watch;
    if (srv->watch)
        srv->watch->wprev = x;
    srv->watch = x;
    x->watched = true;
    pthread_mutex_unlock(&srv->watch_mu);
}

static void
watch_del(struct web_server *srv, struct web_ctx *x)
{
    pthread_mutex_lock(&srv->watch_mu);
    if (x->watched) {
        if (x->wprev)
            x->wprev->wnext = x->wnext;
        else
            srv->watch = x->wnext;
        if (x->wnext)
            x->wnext->wprev = x->wprev;
        x->watched = false;
    }
    pthread_mutex_unlock(&srv->watch_mu);
}

static void *
watchdog_run(void *arg)
{
    struct web_server *srv = arg;

    pthread_mutex_lock(&srv->watch_mu);
    while (!srv->watch_stop) {
        struct timespec ts;
        int64_t now = gu_now_ms();
        int64_t limit = (int64_t)srv->timeout_s * 1000;

        for (struct web_ctx *x = srv->watch; x; x = x->wnext) {
            if (now - x->t0_ms > limit && x->fd >= 0) {
                shutdown(x->fd, SHUT_RDWR);
                x->fd = -1;
                gu_log_warn("web.slow", "err=\"headers too slow\"");
            }
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&srv->watch_cv, &srv->watch_mu, &ts);
    }
    pthread_mutex_unlock(&srv->watch_mu);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* MHD callbacks                                                      */
/* ------------------------------------------------------------------ */

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct web_server *srv = cls;
    struct web_ctx *x = gu_calloc(1, sizeof(*x));

    if (!x)
        return NULL;
    x->arena = gu_arena_new(0);
    if (!x->arena) {
        gu_free(x);
        return NULL;
    }
    x->srv = srv;
    x->t0_ms = gu_now_ms();
    x->raw_uri = gu_arena_strdup(x->arena, uri ? uri : "/");
    x->cfgref = cfg_acquire(srv);
    x->route_ix = srv->router->n;
    gu_buf_init(&x->body);
    web_req_init(&x->req, &x->resp, x->arena, &x->d);
    x->d.srv = srv;
    x->req.cfg = x->cfgref->cfg;
    x->fd = -1;
    {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci)
            x->fd = ci->connect_fd;
    }
    atomic_fetch_add(&srv->inflight, 1);
    watch_add(srv, x);
    return x;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct web_server *srv = cls;
    struct web_ctx *x = *con_cls;

    (void)c;
    (void)toe;
    if (!x)
        return;
    *con_cls = NULL;
    watch_del(srv, x);
    if (x->req.conn)
        store_release(x->req.conn);
    cfg_release(x->cfgref);
    gu_buf_fini(&x->body);
    gu_arena_free(x->arena);
    gu_free(x);
    atomic_fetch_sub(&srv->inflight, 1);
}

struct hdr_fill {
    struct web_kv *kv;
    size_t n, cap;
    struct gu_arena *a;
};

static enum MHD_Result
hdr_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct hdr_fill *f = cls;

    (void)kind;
    if (f->n >= f->cap)
        return MHD_NO;
    f->kv[f->n].k = gu_arena_strdup(f->a, key ? key : "");
    f->kv[f->n].v = gu_arena_strdup(f->a, value ? value : "");
    if (!f->kv[f->n].k || !f->kv[f->n].v)
        return MHD_NO;
    f->n++;
    return MHD_YES;
}

static void
random_reqid(char *out, size_t cap)
{
    /* Not security relevant: an id only correlates log lines. Drawn
       from a per-thread sequence seeded once by getrandom (a system call
       per request was measurable under load), mixed by splitmix64 so
       that consecutive ids do not look alike. */
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    static const char hex[] = "0123456789abcdef";
    unsigned char b[8];

    if (!seeded) {
        if (getrandom(&state, sizeof(state), 0) != (ssize_t)sizeof(state))
            state = (uint64_t)gu_now_ms() ^ (uint64_t)(uintptr_t)out;
        seeded = true;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    memcpy(b, &z, sizeof(b));
    for (size_t i = 0; i < sizeof(b) && 2 * i + 2 < cap; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
        out[2 * i + 2] = 0;
    }
}

/* The rightmost X-Forwarded-For entry: the one our proxy added. */
static void
forwarded_ip(const char *xff, char *out, size_t cap)
{
    const char *p = strrchr(xff, ',');
    char ip[INET6_ADDRSTRLEN + 1];
    unsigned char bin[16];
    size_t n;

    p = p ? p + 1 : xff;
    while (*p == ' ' || *p == '\t')
        p++;
    n = strcspn(p, " \t");
    if (n == 0 || n >= sizeof(ip))
        return;
    memcpy(ip, p, n);
    ip[n] = 0;
    if (inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1)
        snprintf(out, cap, "%s", ip);
}

/* First call: headers are in, the body is not. */
static int
begin(struct web_ctx *x, struct MHD_Connection *c, const char *method)
{
    struct http_req *req = &x->req;
    const struct gu_config *cfg = x->cfgref->cfg;
    const union MHD_ConnectionInfo *ci;
    struct hdr_fill f;
    const char *v;
    int nh;

    req->method = gu_arena_strdup(x->arena, method ? method : "");
    if (!req->method)
        return GU_ENOMEM;
    x->target_rc = web_target_parse(x->arena, x->raw_uri, strlen(x->raw_uri),
                                    &req->path, &x->query, &req->err);
    if (x->target_rc == GU_ENOMEM)
        return GU_ENOMEM;
    nh = MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL);
    f.cap = nh > 0 ? (size_t)nh : 0;
    f.n = 0;
    f.a = x->arena;
    f.kv = gu_arena_alloc(x->arena, (f.cap + 1) * sizeof(*f.kv));
    if (!f.kv)
        return GU_ENOMEM;
    MHD_get_connection_values(c, MHD_HEADER_KIND, hdr_iter, &f);
    x->d.headers = f.kv;
    x->d.nheaders = f.n;

    v = http_header(req, "X-Request-Id");
    if (web_reqid_valid(v))
        snprintf(x->reqid, sizeof(x->reqid), "%s", v);
    else
        random_reqid(x->reqid, sizeof(x->reqid));
    req->request_id = x->reqid;
    gu_log_set_request_id(x->reqid);

    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
                      x->ip, sizeof(x->ip));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                      x->ip, sizeof(x->ip));
    }
    if (gu_config_bool(cfg, "server.trust_proxy")) {
        v = http_header(req, "X-Forwarded-For");
        if (v)
            forwarded_ip(v, x->ip, sizeof(x->ip));
        v = http_header(req, "X-Forwarded-Proto");
        req->tls = v && strcasecmp(v, "https") == 0;
    }
    req->client_ip = x->ip;

    x->max_body = (size_t)gu_config_int(cfg, "server.max_body");
    /* Photos sent with a form (/demande) get the larger upload bound. */
    if (web_ctype_is(http_header(req, "Content-Type"), "multipart/form-data"))
        x->max_body = (size_t)gu_config_int(cfg, "server.max_upload");
    v = http_header(req, "Content-Length");
    if (v) {
        long cl;
        if (gu_parse_long(v, 0, LONG_MAX, &cl) < 0 || (size_t)cl > x->max_body)
            return GU_ETOOBIG;
    }
    return 0;
}

/* Resolve the caller from a Bearer token or the session cookie. */
static int
authenticate(struct web_ctx *x, bool *bad_token)
{
    struct http_req *req = &x->req;
    struct http_identity *who = &req->who;
    const char *auth = http_header(req, "Authorization");
    struct gu_err err;
    const char *cookie;
    int rc;

    gu_err_clear(&err);
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        struct store_token tok;
        const char *secret = auth + 7;
        while (*secret == ' ')
            secret++;
        rc = store_token_check(req->conn, x->arena, secret, &tok, &err);
        if (rc == GU_EAUTH || rc == GU_ENOTFOUND || rc == GU_EINVAL) {
            *bad_token = true;
            return 0;
        }
        if (rc < 0)
            return rc;
        who->authenticated = true;
        who->is_token = true;
        who->login = tok.name ? tok.name : "";
        memcpy(who->insee, tok.insee, sizeof(who->insee));
        who->role = tok.role;
        return 0;
    }
    cookie = http_cookie(req, WEB_SESSION_COOKIE);
    if (cookie && *cookie) {
        struct store_session sess;
        struct store_agent ag;
        rc = store_session_get(req->conn, cookie, &sess, &err);
        if (rc == GU_EAUTH || rc == GU_ENOTFOUND)
            return 0;
        if (rc < 0)
            return rc;
        rc = store_agent_get(req->conn, x->arena, sess.agent_id, &ag, &err);
        if (rc == GU_ENOTFOUND)
            return 0;
        if (rc < 0)
            return rc;
        if (ag.disabled)
            return 0;
        who->authenticated = true;
        who->agent_id = sess.agent_id;
        who->login = ag.login ? ag.login : "";
        memcpy(who->insee, sess.insee, sizeof(who->insee));
        who->insee[5] = 0;
        who->role = who->insee[0]
                        ? store_agent_role(req->conn, sess.agent_id, who->insee)
                        : STORE_ROLE_NONE;
        who->csrf = gu_arena_strndup(x->arena, sess.csrf,
                                     strnlen(sess.csrf, sizeof(sess.csrf)));
        who->session_token = cookie;
        who->must_change_password = ag.must_change_password;
        if (!who->csrf)
            return GU_ENOMEM;
    }
    return 0;
}

static bool
state_changing(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 &&
           strcmp(m, "OPTIONS") != 0;
}

static bool
csrf_ok(struct web_ctx *x)
{
    struct http_req *req = &x->req;
    const struct gu_config *cfg = x->cfgref->cfg;
    const char *tok = http_header(req, "X-CSRF-Token");

    if (!tok)
        tok = http_form(req, "csrf");
    if (!tok || !*tok || !req->who.csrf || !*req->who.csrf ||
        !gu_const_eq(tok, req->who.csrf))
        return false;
    return web_origin_ok(http_header(req, "Origin"), http_header(req, "Host"),
                         gu_config_str(cfg, "server.public_url"));
}

static void
anonymous(struct http_identity *who)
{
    memset(who, 0, sizeof(*who));
    who->login = "";
    who->csrf = "";
    who->session_token = "";
}

static void
not_found(struct web_ctx *x)
{
    struct http_req *req = &x->req;

    if (!is_api(req->path) && wants_html(req)) {
        json_t *vars =
            json_pack("{s:s, s:s, s:s}", "status", "404", "title",
                      "Page introuvable", "detail", "Cette page n’existe pas.");
        if (vars && gu_json_arena(x->arena, vars) &&
            http_template(req, &x->resp, 404, "erreur.html", vars) == 0)
            return;
        if (http_send(&x->resp, 404, "text/html; charset=utf-8",
                      "<!doctype html><html lang=\"fr\"><meta "
                      "charset=\"utf-8\"><title>Page introuvable</title>"
                      "<h1>Page introuvable</h1></html>",
                      strlen("<!doctype html><html lang=\"fr\"><meta "
                             "charset=\"utf-8\"><title>Page introuvable"
                             "</title><h1>Page introuvable</h1></html>")) == 0)
            return;
    }
    problem(x, 404, "Cette ressource n'existe pas.");
}

/*
 * Refuse a protected route: an HTML page for a browser under /agent (so a
 * person never lands on raw JSON), problem+json otherwise.
 */
static void
refuse(struct web_ctx *x, int status, const char *title, const char *detail)
{
    struct http_req *req = &x->req;

    if (!is_api(req->path) && strcmp(req->method, "GET") == 0 &&
        wants_html(req)) {
        json_t *vars = json_pack("{s:s, s:s, s:s}", "status",
                                 status == 401 ? "401" : "403", "title", title,
                                 "detail", detail);
        if (vars && gu_json_arena(x->arena, vars) &&
            http_template(req, &x->resp, status, "erreur.html", vars) == 0)
            return;
    }
    problem(x, status, detail);
}

/* Last call: the whole request is in. Fills x->resp. */
static void
serve(struct web_ctx *x)
{
    struct web_server *srv = x->srv;
    struct http_req *req = &x->req;
    struct web_match m;
    const struct http_route *rt;
    bool bad_token = false;
    int rc;

    rc = x->target_rc;
    if (rc == 0)
        rc = web_urlencoded_parse(x->arena, x->query, strlen(x->query),
                                  &x->d.query, &x->d.nquery, &req->err);
    if (rc < 0) {
        if (rc == GU_ETOOBIG)
            rc = GU_EINVAL;
        web_problem_from_err(req, &x->resp, rc, &req->err);
        return;
    }
    rc = web_router_match(srv->router, x->arena, req->method, req->path, &m);
    if (rc == GU_ENOMEM) {
        problem(x, 500, NULL);
        return;
    }
    /* CORS preflight of the chat API (web_cors.c): never a 405. */
    if (rc < 0 && m.allow[0] && strcmp(req->method, "OPTIONS") == 0 &&
        web_cors_path(req->path)) {
        if (web_cors_preflight(
                req, &x->resp, m.allow,
                gu_config_str(x->cfgref->cfg, "assistant.widget_origins")) < 0)
            problem(x, 500, NULL);
        return;
    }
    if (rc < 0 && m.allow[0]) {
        x->allow = gu_arena_strdup(x->arena, m.allow);
        problem(x, 405,
                "Cette méthode n'est pas autorisée sur cette "
                "ressource.");
        return;
    }
    if (rc < 0) {
        not_found(x);
        return;
    }
    x->route_ix = m.route->index;
    rt = m.route->route;
    x->d.caps = gu_arena_alloc(x->arena, (m.ncaps + 1) * sizeof(*m.caps));
    if (!x->d.caps) {
        problem(x, 500, NULL);
        return;
    }
    memcpy(x->d.caps, m.caps, m.ncaps * sizeof(*m.caps));
    x->d.ncaps = m.ncaps;
    if (x->body_over) {
        too_big(x);
        return;
    }
    if (x->body.p) {
        x->d.body = x->body.p;
        x->d.body_n = x->body.n;
    }
    if (x->d.body && web_ctype_is(http_header(req, "Content-Type"),
                                  "application/x-www-form-urlencoded")) {
        x->d.form_parsed = true;
        rc = web_urlencoded_parse(x->arena, x->d.body, x->d.body_n, &x->d.form,
                                  &x->d.nform, &req->err);
        if (rc < 0) {
            web_problem_from_err(req, &x->resp,
                                 rc == GU_ENOMEM ? rc : GU_EINVAL, &req->err);
            return;
        }
    }

    if (rt->fn == web_static_get) {
        rc = rt->fn(req, &x->resp);
        goto done;
    }
    rc = store_acquire(srv->st, &req->conn, &req->err);
    if (rc < 0) {
        req->conn = NULL;
        gu_log_error("web.store", "err=%s", gu_status_name(rc));
        problem(x, 503, "Le service est momentanément indisponible.");
        return;
    }
    rc = authenticate(x, &bad_token);
    if (rc < 0) {
        web_problem_from_err(req, &x->resp, rc, &req->err);
        return;
    }
    if (state_changing(req->method) && req->who.authenticated &&
        !req->who.is_token && !csrf_ok(x)) {
        if (rt->access == HTTP_PUBLIC) {
            /* A public form needs no identity: drop it, no ambient
             * authority reaches the handler without a CSRF token. */
            anonymous(&req->who);
        } else {
            problem(x, 403,
                    "Jeton CSRF invalide ou absent. Rechargez la "
                    "page.");
            return;
        }
    }
    if (rt->access != HTTP_PUBLIC) {
        if (!req->who.authenticated) {
            if (!is_api(req->path) && strcmp(req->method, "GET") == 0 &&
                strncmp(req->path, "/agent", 6) == 0 && wants_html(req)) {
                http_redirect(&x->resp, "/agent/connexion");
                return;
            }
            problem(x, 401,
                    bad_token ? "Jeton d'accès invalide ou révoqué."
                              : "Vous devez être connecté pour accéder à "
                                "cette ressource.");
            return;
        }
        if (rt->access == HTTP_SESSION && req->who.is_token) {
            problem(x, 403,
                    "Cette opération nécessite une session "
                    "ouverte dans un navigateur.");
            return;
        }
        /* A temporary password opens the session routes only (the
         * password change among them), whatever the role. */
        if (rt->access != HTTP_SESSION && req->who.must_change_password) {
            if (!is_api(req->path) && strcmp(req->method, "GET") == 0 &&
                wants_html(req)) {
                http_redirect(&x->resp, "/agent/mot-de-passe");
                return;
            }
            problem(x, 403,
                    "Changez d'abord votre mot de passe "
                    "temporaire (page « Mot de passe »).");
            return;
        }
        if (rt->access != HTTP_SESSION &&
            (int)req->who.role < (int)rt->access) {
            refuse(x, 403, "Accès refusé",
                   "Votre rôle ne permet pas cette opération.");
            return;
        }
    }
    rc = rt->fn(req, &x->resp);
done:
    if (rc < 0 && !x->resp.set) {
        if (req->err.code == 0)
            req->err.code = rc;
        if (web_status_of(rc, req->err.field) >= 500) {
            char q[300];
            gu_log_error("web.handler", "route=%s code=%s err=%s", rt->pattern,
                         gu_status_name(rc),
                         gu_logq(q, sizeof(q), req->err.msg));
        }
        if (web_problem_from_err(req, &x->resp, rc, &req->err) < 0)
            x->resp.set = false;
    } else if (rc >= 0 && !x->resp.set) {
        gu_log_error("web.handler", "route=%s err=\"no response\"",
                     rt->pattern);
        problem(x, 500, NULL);
    }
}

/*
 * libmicrohttpd 0.9.75 refuses MHD_queue_response() while a body is
 * being received, so a client streaming an endless body could only be
 * cut off. Instead we write a small 413 ourselves on the socket (MHD has
 * sent nothing yet on this request), half-close, and let MHD drop the
 * connection: the client reads a real problem+json before the reset.
 */
static void
send_raw_413(struct web_ctx *x, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci;
    const struct gu_config *cfg = x->cfgref->cfg;
    char *msg;
    size_t n, off = 0;

    problem(x, 413, "Le contenu envoyé dépasse la taille autorisée.");
    if (!x->resp.set)
        return;
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    msg = gu_arena_sprintf(x->arena,
                           "HTTP/1.1 413 Content Too Large\r\n"
                           "Connection: close\r\n"
                           "Content-Type: application/problem+json\r\n"
                           "Content-Length: %zu\r\n"
                           "X-Request-Id: %s\r\n"
                           "X-Content-Type-Options: nosniff\r\n"
                           "Cache-Control: no-store\r\n"
                           "Content-Security-Policy: default-src 'none'; "
                           "frame-ancestors %s\r\n\r\n%s",
                           x->resp.n, x->reqid, frame_ancestors(cfg),
                           x->resp.body);
    if (!msg)
        return;
    n = strlen(msg);
    while (off < n) {
        ssize_t w = send(ci->connect_fd, msg + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(ci->connect_fd, SHUT_WR);
    x->responded = true;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
           const char *method, const char *version, const char *upload,
           size_t *upload_size, void **con_cls)
{
    struct web_ctx *x = *con_cls;
    enum MHD_Result ok = MHD_YES;
    int rc;

    (void)cls;
    (void)url;
    (void)version;
    if (!x)
        return MHD_NO;
    if (x->responded) {
        /* Answered early (413): drop whatever still comes. */
        *upload_size = 0;
        return MHD_YES;
    }
    gu_log_set_request_id(x->reqid);
    if (!x->started) {
        x->started = true;
        watch_del(x->srv, x);
        rc = begin(x, c, method);
        if (rc == GU_ETOOBIG) {
            too_big(x);
            ok = queue(x, c);
        } else if (rc < 0) {
            ok = MHD_NO;
        }
        goto out;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        x->body_seen += n;
        if (x->body_seen > x->max_body) {
            x->body_over = true;
            gu_buf_fini(&x->body);
            if (x->body_seen / DRAIN_FACTOR > x->max_body) {
                send_raw_413(x, c);
                account(x);
                gu_log_warn("web.body", "err=\"endless body, cut\"");
                ok = MHD_NO;
            }
        } else if (gu_buf_append(&x->body, upload, n) < 0) {
            ok = MHD_NO;
        }
        goto out;
    }
    serve(x);
    /* Give the connection back before the bytes go out. */
    if (x->req.conn) {
        store_release(x->req.conn);
        x->req.conn = NULL;
    }
    ok = queue(x, c);
out:
    gu_log_set_request_id("");
    return ok;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256], q[300];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = 0;
    gu_log_warn("mhd", "msg=%s", gu_logq(q, sizeof(q), msg));
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */
/* ------------------------------------------------------------------ */

int
web_server_new(struct gu_config *cfg, const char *listen, struct store *st,
               const struct http_routes *tables, size_t ntables,
               struct web_server **out, struct gu_err *err)
{
    struct web_server *srv;
    const struct http_routes *own = web_builtin_routes();
    json_t *doc;
    long threads;
    int rc = 0;

    *out = NULL;
    if (!cfg || !st || (ntables && !tables))
        return gu_err_set(err, GU_EINVAL, NULL, NULL,
                          "web_server_new: missing argument");
    srv = gu_calloc(1, sizeof(*srv));
    if (!srv)
        return GU_ENOMEM;
    srv->st = st;
    srv->cfg_mu = gu_malloc(sizeof(pthread_mutex_t));
    srv->gz_mu = gu_malloc(sizeof(pthread_mutex_t));
    srv->tables = gu_calloc(ntables + 1, sizeof(*srv->tables));
    srv->cfg = cfgref_new(cfg, false);
    if (!srv->cfg_mu || !srv->gz_mu || !srv->tables || !srv->cfg) {
        gu_free(srv->cfg_mu);
        gu_free(srv->gz_mu);
        gu_free(srv->tables);
        gu_free(srv->cfg);
        gu_free(srv);
        return GU_ENOMEM;
    }
    pthread_mutex_init(srv->cfg_mu, NULL);
    pthread_mutex_init(srv->gz_mu, NULL);
    pthread_mutex_init(&srv->watch_mu, NULL);
    pthread_cond_init(&srv->watch_cv, NULL);
    srv->tables[0] = *own;
    if (ntables)
        memcpy(srv->tables + 1, tables, ntables * sizeof(*tables));
    srv->ntables = ntables + 1;
    snprintf(srv->listen, sizeof(srv->listen), "%s",
             listen ? listen : gu_config_str(cfg, "server.listen"));
    threads = gu_config_int(cfg, "server.threads");
    if (threads <= 0)
        threads = sysconf(_SC_NPROCESSORS_ONLN);
    srv->threads = threads > 0 ? (unsigned)threads : 1;
    srv->max_conn = (unsigned)gu_config_int(cfg, "server.max_connections");
    srv->timeout_s = (unsigned)gu_config_int(cfg, "server.timeout");
    /* Behind a trusted proxy every connection has the proxy's address:
     * the proxy limits per client, not us. */
    srv->per_ip = gu_config_bool(cfg, "server.trust_proxy")
                      ? 0
                      : (srv->max_conn / 4 > PER_IP_LIMIT ? srv->max_conn / 4
                                                          : PER_IP_LIMIT);
    srv->mem_limit = (size_t)gu_config_int(cfg, "server.max_header_bytes");
    if (srv->mem_limit < 4096)
        srv->mem_limit = 4096;
    srv->started_at = gu_now();
    {
        struct sockaddr_storage ss;
        socklen_t len;
        rc = parse_listen(srv->listen, &ss, &len, err);
        if (rc < 0)
            goto out;
    }
    rc = web_router_new(srv->tables, srv->ntables, &srv->router, err);
    if (rc < 0)
        goto out;
    srv->metrics = web_metrics_new(srv->router);
    doc = web_openapi(srv->tables, srv->ntables);
    srv->openapi = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!srv->metrics || !srv->openapi) {
        rc = GU_ENOMEM;
        goto out;
    }
    srv->openapi_n = strlen(srv->openapi);
    gu_assets(&srv->ngz);
    srv->gz = NULL; /* allocated by web_gzip_asset on first use */
out:
    if (rc < 0) {
        web_server_free(srv, 0);
        return rc;
    }
    *out = srv;
    return 0;
}

int
web_server_start(struct web_server *srv, struct gu_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    unsigned flags =
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *di;
    int rc;

    rc = parse_listen(srv->listen, &ss, &len, err);
    if (rc < 0)
        return rc;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, srv->threads, MHD_OPTION_CONNECTION_LIMIT,
        srv->max_conn, MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->per_ip,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, srv->mem_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, srv->timeout_s,
        MHD_OPTION_URI_LOG_CALLBACK,
        on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_END);
    if (!srv->daemon)
        return gu_err_set(err, GU_EIO, "server.listen",
                          "Impossible d'écouter sur cette adresse (port "
                          "déjà utilisé ?).",
                          "MHD_start_daemon failed on %s: %s", srv->listen,
                          strerror(errno));
    if (pthread_create(&srv->watchdog, NULL, watchdog_run, srv) == 0)
        srv->watchdog_on = true;
    else
        gu_log_warn("web.start", "err=\"no header watchdog thread\"");
    di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : 0;
    if (srv->port == 0) {
        di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_LISTEN_FD);
        if (di) {
            struct sockaddr_storage b;
            socklen_t bl = sizeof(b);
            if (getsockname(di->listen_fd, (struct sockaddr *)&b, &bl) == 0)
                srv->port = ntohs(b.ss_family == AF_INET6
                                      ? ((struct sockaddr_in6 *)&b)->sin6_port
                                      : ((struct sockaddr_in *)&b)->sin_port);
        }
    }
    gu_log_info("web.start", "listen=%s port=%d threads=%u", srv->listen,
                srv->port, srv->threads);
    return 0;
}

int
web_server_port(const struct web_server *srv)
{
    return srv ? srv->port : 0;
}

void
web_server_free(struct web_server *srv, int grace_ms)
{
    if (!srv)
        return;
    if (srv->daemon) {
        MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
        int64_t until = gu_now_ms() + (grace_ms > 0 ? grace_ms : 0);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        while (atomic_load(&srv->inflight) > 0 && gu_now_ms() < until) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (atomic_load(&srv->inflight) > 0)
            gu_log_warn("web.stop", "inflight=%ld grace_ms=%d",
                        (long)atomic_load(&srv->inflight), grace_ms);
        if (srv->watchdog_on) {
            pthread_mutex_lock(&srv->watch_mu);
            srv->watch_stop = true;
            pthread_cond_signal(&srv->watch_cv);
            pthread_mutex_unlock(&srv->watch_mu);
            pthread_join(srv->watchdog, NULL);
            srv->watchdog_on = false;
        }
        MHD_stop_daemon(srv->daemon);
        gu_log_info("web.stop", "port=%d", srv->port);
    }
    web_gz_free(srv);
    web_metrics_free(srv->metrics);
    free(srv->openapi);
    web_router_free(srv->router);
    if (srv->cfg)
        cfg_release(srv->cfg);
    if (srv->cfg_mu)
        pthread_mutex_destroy(srv->cfg_mu);
    if (srv->gz_mu)
        pthread_mutex_destroy(srv->gz_mu);
    pthread_mutex_destroy(&srv->watch_mu);
    pthread_cond_destroy(&srv->watch_cv);
    gu_free(srv->cfg_mu);
    gu_free(srv->gz_mu);
    gu_free(srv->tables);
    gu_free(srv);
}

/* ------------------------------------------------------------------ */
/* Signals                                                            */
/* ------------------------------------------------------------------ */

static void
signal_set(sigset_t *s)
{
    sigemptyset(s);
    sigaddset(s, SIGTERM);
    sigaddset(s, SIGINT);
    sigaddset(s, SIGHUP);
}

void
web_signals_init(void)
{
    sigset_t s;

    signal_set(&s);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    /* MHD sends with MSG_NOSIGNAL; this covers every other write. */
    signal(SIGPIPE, SIG_IGN);
}

int
web_signals_wait(void)
{
    sigset_t s;
    int sig = 0;

    signal_set(&s);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    while (sigwait(&s, &sig) != 0)
        ;
    gu_log_info("web.signal", "sig=%d", sig);
    return sig == SIGHUP ? 1 : 0;
}
