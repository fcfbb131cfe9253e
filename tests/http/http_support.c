/*
 * http_support.c - in-process server and raw HTTP client for the HTTP
 * tests (see http_support.h).
 */
#include "http_support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "app/app.h"
#include "store_url.h"

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

const struct http_routes *
hs_tables(size_t *n)
{
    static struct http_routes tables[APP_MAX_MODULES];

    *n = app_route_tables(tables, APP_MAX_MODULES);
    return tables;
}

/* Test defaults; callers' overrides come after and win. */
static const char *const base_overrides[] = {
    "log.access=false",           "log.level=error",
    "server.threads=4",           "security.login_max_failures=3",
    "security.lockout_minutes=5", "security.login_ip_per_minute=1000",
    "commune.default=99001",
    /* The widget's site for the CORS cases (22_cors.http). */
    "assistant.widget_origins=https://www.saint-exemple.fr",
};

static int
seed_agent(struct store_conn *c, const char *login, const char *name,
           const char *insee, enum store_role role, int64_t *id)
{
    struct gu_err err;

    gu_err_clear(&err);
    if (store_agent_create(c, login, name, "", HS_PASSWORD, false, insee, role,
                           id, &err) != 0) {
        fprintf(stderr, "seed agent %s: %s\n", login, err.msg);
        return -1;
    }
    return 0;
}

static int
seed_token(struct store_conn *c, const char *insee, enum store_role role,
           const char *name, char *secret, int64_t *id)
{
    struct gu_err err;

    gu_err_clear(&err);
    if (store_token_create(c, insee, role, name, secret, 64, id, &err) != 0) {
        fprintf(stderr, "seed token %s: %s\n", name, err.msg);
        return -1;
    }
    return 0;
}

static int
seed(struct store *st, struct hs_seed *sd)
{
    struct store_conn *c = NULL;
    struct gu_err err;
    struct store_session sess;
    int64_t revoked_id = 0, lect_id = 0;
    int rc = -1;
    struct store_commune c1 = {
        .insee = "99001",
        .name = "Saint-Exemple-sur-Loire",
        .zone = "B",
        .hours = "Lundi au vendredi, 8 h 30 - 12 h",
        .address = "1 place de la Mairie",
        .phone = "",
        .email = "",
    };
    struct store_commune c2 = {
        .insee = "99002",
        .name = "Autre-Exemple-les-Bains",
        .zone = "A",
        .hours = "",
        .address = "",
        .phone = "",
        .email = "",
    };

    gu_err_clear(&err);
    if (store_acquire(st, &c, &err) != 0)
        goto out;
    if (store_commune_create(c, &c1, &err) != 0 ||
        store_commune_create(c, &c2, &err) != 0) {
        fprintf(stderr, "seed commune: %s\n", err.msg);
        goto out;
    }
    if (seed_agent(c, "admin", "Alice Admin", "99001", STORE_ROLE_ADMIN,
                   &sd->admin_id) ||
        seed_agent(c, "agent", "Bruno Agent", "99001", STORE_ROLE_AGENT,
                   &sd->agent_id) ||
        seed_agent(c, "lecteur", "Chloé Lecteur", "99001", STORE_ROLE_LECTEUR,
                   &sd->lecteur_id) ||
        seed_agent(c, "multi", "Denis Multi", "99001", STORE_ROLE_ADMIN,
                   &sd->multi_id) ||
        seed_agent(c, "verrou", "Eve Verrou", "99001", STORE_ROLE_AGENT,
                   &sd->verrou_id) ||
        seed_agent(c, "admin2", "Farid Admin2", "99002", STORE_ROLE_ADMIN,
                   &sd->admin2_id) ||
        seed_agent(c, "agent2", "Gaëlle Agent2", "99002", STORE_ROLE_AGENT,
                   &sd->agent2_id))
        goto out;
    if (store_agent_set_role(c, sd->multi_id, "99002", STORE_ROLE_LECTEUR,
                             &err) != 0) {
        fprintf(stderr, "seed role: %s\n", err.msg);
        goto out;
    }
    if (seed_token(c, "99001", STORE_ROLE_ADMIN, "robot-99001", sd->token_99001,
                   &sd->token_99001_id) ||
        seed_token(c, "99001", STORE_ROLE_LECTEUR, "robot-lecteur",
                   sd->token_lecteur, &lect_id) ||
        seed_token(c, "99002", STORE_ROLE_ADMIN, "robot-99002", sd->token_99002,
                   &sd->token_99002_id) ||
        seed_token(c, "99001", STORE_ROLE_ADMIN, "robot-revoque",
                   sd->token_revoked, &revoked_id))
        goto out;
    if (store_token_revoke(c, "99001", revoked_id, &err) != 0) {
        fprintf(stderr, "seed revoke: %s\n", err.msg);
        goto out;
    }
    /* A session that expired a minute ago. */
    if (store_session_create(c, sd->admin_id, "99001", -60, sd->expired_session,
                             sizeof(sd->expired_session), &sess, &err) != 0) {
        fprintf(stderr, "seed session: %s\n", err.msg);
        goto out;
    }
    rc = 0;
out:
    if (rc && err.msg[0])
        fprintf(stderr, "seed: %s\n", err.msg);
    store_release(c);
    return rc;
}

int
hs_server_start(struct hs_server *s, const char *const *overrides)
{
    static char *const env[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL};
    const char *ov[64];
    size_t n = 0;
    struct gu_err err;

    memset(s, 0, sizeof(*s));
    gu_err_clear(&err);
    if (gu_crypto_init() != 0) {
        fprintf(stderr, "gu_crypto_init failed\n");
        return -1;
    }
    for (size_t i = 0; i < GU_ARRAY_LEN(base_overrides); i++)
        ov[n++] = base_overrides[i];
    for (size_t i = 0; overrides && overrides[i] && n < 62; i++)
        ov[n++] = overrides[i];
    ov[n] = NULL;
    if (gu_config_load(NULL, env, ov, &s->cfg, &err) != 0) {
        fprintf(stderr, "config: %s (%s) %s\n", err.msg, err.field, err.user);
        return -1;
    }
    if (store_open(th_store_url(), &s->store, &err) != 0) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        goto fail;
    }
    if (app_migrate(s->store, NULL, &err) != 0) {
        fprintf(stderr, "store_migrate: %s\n", err.msg);
        goto fail;
    }
    if (seed(s->store, &s->seed) != 0)
        goto fail;
    s->tables = hs_tables(&s->ntables);
    if (web_server_new(s->cfg, "127.0.0.1:0", s->store, s->tables, s->ntables,
                       &s->srv, &err) != 0) {
        fprintf(stderr, "web_server_new: %s\n", err.msg);
        goto fail;
    }
    if (web_server_start(s->srv, &err) != 0) {
        fprintf(stderr, "web_server_start: %s\n", err.msg);
        goto fail;
    }
    s->port = web_server_port(s->srv);
    if (s->port <= 0) {
        fprintf(stderr, "web_server_port: %d\n", s->port);
        goto fail;
    }
    return 0;
fail:
    hs_server_stop(s);
    return -1;
}

void
hs_server_stop(struct hs_server *s)
{
    if (s->srv) {
        /* web_server_new does not say it takes the config: we keep it. */
        web_server_free(s->srv, 2000);
        s->srv = NULL;
    }
    store_close(s->store);
    s->store = NULL;
    gu_config_free(s->cfg);
    s->cfg = NULL;
}

long
hs_count(struct hs_server *s, const char *table)
{
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *rows = NULL;
    struct gu_err err;
    char sql[128];
    long n = -1;

    gu_err_clear(&err);
    if (!a)
        return -1;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    if (store_acquire(s->store, &c, &err) == 0 &&
        store_query(c, a, sql, NULL, 0, &rows, &err) == 0 && rows->nrows)
        n = (long)store_int(rows, 0, 0);
    else
        fprintf(stderr, "hs_count(%s): %s\n", table, err.msg);
    store_release(c);
    gu_arena_free(a);
    return n;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

void
hs_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int
hs_conn_open(struct hs_conn *c, int port, int timeout_ms)
{
    struct sockaddr_in sa;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int one = 1;

    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

void
hs_conn_close(struct hs_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->n = c->cap = 0;
}

int
hs_conn_send(struct hs_conn *c, const void *p, size_t n)
{
    const char *q = p;

    while (n > 0) {
        ssize_t k = send(c->fd, q, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        q += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Read more bytes into the buffer: >0 bytes read, 0 EOF, -1 error. */
static ssize_t
fill(struct hs_conn *c)
{
    ssize_t k;

    if (c->cap - c->n < 4096) {
        size_t cap = c->cap ? c->cap * 2 : 16384;
        char *nb = realloc(c->buf, cap + 1);
        if (!nb)
            return -1;
        c->buf = nb;
        c->cap = cap;
    }
    do {
        k = recv(c->fd, c->buf + c->n, c->cap - c->n, 0);
    } while (k < 0 && errno == EINTR);
    if (k > 0)
        c->n += (size_t)k;
    return k;
}

/* Drop the first n bytes of the buffer. */
static void
consume(struct hs_conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->n - n);
    c->n -= n;
}

static char *
find_crlf2(struct hs_conn *c)
{
    if (!c->buf)
        return NULL;
    c->buf[c->n] = '\0';
    return memmem(c->buf, c->n, "\r\n\r\n", 4);
}

/* Ensure at least `need` bytes are buffered: 0 ok, -1 not possible. */
static int
need_bytes(struct hs_conn *c, size_t need)
{
    while (c->n < need) {
        if (fill(c) <= 0)
            return -1;
    }
    return 0;
}

static int
parse_hex(const char *s, size_t n, size_t *out)
{
    size_t v = 0, i = 0;

    for (; i < n; i++) {
        char ch = s[i];
        int d;
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F')
            d = ch - 'A' + 10;
        else
            break;
        if (v > (SIZE_MAX >> 4))
            return -1;
        v = (v << 4) | (size_t)d;
    }
    if (i == 0)
        return -1;
    *out = v;
    return 0;
}

/* Append to a growing heap body. */
static int
body_add(struct hs_resp *r, size_t *cap, const char *p, size_t n)
{
    if (r->body_n + n + 1 > *cap) {
        size_t nc = (*cap ? *cap : 1024);
        while (nc < r->body_n + n + 1)
            nc *= 2;
        char *nb = realloc(r->body, nc);
        if (!nb)
            return -1;
        r->body = nb;
        *cap = nc;
    }
    memcpy(r->body + r->body_n, p, n);
    r->body_n += n;
    r->body[r->body_n] = '\0';
    return 0;
}

/* Wait for a full line; returns its length (without CRLF) or -1. */
static long
line_len(struct hs_conn *c)
{
    for (;;) {
        char *eol = c->buf ? memmem(c->buf, c->n, "\r\n", 2) : NULL;
        if (eol)
            return (long)(eol - c->buf);
        if (fill(c) <= 0)
            return -1;
    }
}

static int
read_chunked(struct hs_conn *c, struct hs_resp *r)
{
    size_t cap = 0;

    if (body_add(r, &cap, "", 0) != 0)
        return -1;
    for (;;) {
        long l = line_len(c);
        size_t len;

        if (l < 0 || parse_hex(c->buf, (size_t)l, &len) != 0)
            return -1;
        consume(c, (size_t)l + 2);
        if (len == 0) {
            /* Trailers (normally none) up to the blank line. */
            while ((l = line_len(c)) > 0)
                consume(c, (size_t)l + 2);
            if (l < 0)
                return -1;
            consume(c, 2);
            return 0;
        }
        if (need_bytes(c, len + 2) != 0)
            return -1;
        if (body_add(r, &cap, c->buf, len) != 0)
            return -1;
        consume(c, len + 2);
    }
}

int
hs_conn_read(struct hs_conn *c, bool head_only, struct hs_resp *out)
{
    char *end;
    char cl[32], te[64];
    size_t hlen, len = 0;
    long v;

    memset(out, 0, sizeof(*out));
again:
    while (!(end = find_crlf2(c))) {
        if (fill(c) <= 0)
            return -1;
    }
    hlen = (size_t)(end - c->buf) + 4;
    free(out->head);
    out->head = malloc(hlen + 1);
    if (!out->head)
        return -1;
    memcpy(out->head, c->buf, hlen);
    out->head[hlen] = '\0';
    consume(c, hlen);
    if (strncmp(out->head, "HTTP/1.", 7) != 0 || strlen(out->head) < 12)
        return -1;
    out->status = (out->head[9] - '0') * 100 + (out->head[10] - '0') * 10 +
                  (out->head[11] - '0');
    if (out->status >= 100 && out->status < 200)
        goto again; /* 100 Continue */
    if (head_only || out->status == 204 || out->status == 304) {
        out->body = calloc(1, 1);
        return out->body ? 0 : -1;
    }
    if (hs_header(out, "Transfer-Encoding", 0, te, sizeof(te)) &&
        strcasestr(te, "chunked"))
        return read_chunked(c, out);
    if (hs_header(out, "Content-Length", 0, cl, sizeof(cl))) {
        if (gu_parse_long(cl, 0, 1L << 30, &v) != 0)
            return -1;
        len = (size_t)v;
        if (need_bytes(c, len) != 0)
            return -1;
    } else {
        /* Delimited by the close. */
        while (fill(c) > 0)
            ;
        len = c->n;
    }
    out->body = malloc(len + 1);
    if (!out->body)
        return -1;
    memcpy(out->body, c->buf ? c->buf : "", len);
    out->body[len] = '\0';
    out->body_n = len;
    consume(c, len);
    return 0;
}

bool
hs_conn_wait_closed(struct hs_conn *c, int timeout_ms)
{
    int64_t deadline = gu_now_ms() + timeout_ms;
    char tmp[4096];

    for (;;) {
        int64_t left = deadline - gu_now_ms();
        struct pollfd p = {c->fd, POLLIN, 0};
        ssize_t k;

        if (left <= 0)
            return false;
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        k = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (k == 0)
            return true;
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return true;
    }
}

void
hs_resp_fini(struct hs_resp *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

const char *
hs_header(const struct hs_resp *r, const char *name, int nth, char *buf,
          size_t cap)
{
    const char *p;
    size_t nl = strlen(name);

    if (!r->head)
        return NULL;
    p = strstr(r->head, "\r\n");
    while (p && p[2] != '\r' && p[2] != '\0') {
        const char *line = p + 2;
        const char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - line) > nl && line[nl] == ':' &&
            strncasecmp(line, name, nl) == 0 && nth-- == 0) {
            const char *v = line + nl + 1;
            size_t n;
            while (*v == ' ' || *v == '\t')
                v++;
            n = (size_t)(eol - v);
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            if (n >= cap)
                n = cap - 1;
            memcpy(buf, v, n);
            buf[n] = '\0';
            return buf;
        }
        p = eol;
    }
    return NULL;
}

int
hs_request_raw(int port, const void *raw, size_t n, struct hs_resp *out)
{
    struct hs_conn c;
    int rc = -1;
    bool head = n >= 5 && memcmp(raw, "HEAD ", 5) == 0;

    memset(out, 0, sizeof(*out));
    if (hs_conn_open(&c, port, 10000) != 0)
        return -1;
    if (hs_conn_send(&c, raw, n) == 0)
        rc = hs_conn_read(&c, head, out);
    hs_conn_close(&c);
    return rc;
}

int
hs_request(int port, const char *method, const char *path, const char *headers,
           const char *body, size_t body_n, struct hs_resp *out)
{
    struct gu_buf b;
    int rc;

    memset(out, 0, sizeof(*out));
    gu_buf_init(&b);
    gu_buf_printf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", method, path,
                  port);
    if (headers && headers[0]) {
        gu_buf_puts(&b, headers);
        if (b.n < 2 || memcmp(b.p + b.n - 2, "\r\n", 2) != 0)
            gu_buf_puts(&b, "\r\n");
    }
    if (body)
        gu_buf_printf(&b, "Content-Length: %zu\r\n", body_n);
    gu_buf_puts(&b, "\r\n");
    if (body)
        gu_buf_append(&b, body, body_n);
    if (b.oom) {
        gu_buf_fini(&b);
        return -1;
    }
    rc = hs_request_raw(port, b.p, b.n, out);
    gu_buf_fini(&b);
    return rc;
}

bool
hs_healthy(int port)
{
    struct hs_resp r;
    bool ok;

    ok = hs_request(port, "GET", "/healthz", NULL, NULL, 0, &r) == 0 &&
         r.status == 200;
    hs_resp_fini(&r);
    return ok;
}

json_t *
hs_json(const struct hs_resp *r)
{
    if (!r->body)
        return NULL;
    return json_loadb(r->body, r->body_n, JSON_DECODE_ANY, NULL);
}

int
hs_gunzip(const char *p, size_t n, char **out, size_t *out_n)
{
    z_stream z;
    size_t cap = n * 4 + 1024, len = 0;
    char *buf = malloc(cap + 1);
    int zr;

    if (!buf)
        return -1;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        free(buf);
        return -1;
    }
    z.next_in = (unsigned char *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    do {
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        z.next_out = (unsigned char *)buf + len;
        z.avail_out = (uInt)(cap - len);
        zr = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
    } while (zr == Z_OK);
    inflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    buf[len] = '\0';
    *out = buf;
    *out_n = len;
    return 0;
}

int
hs_login(int port, const char *login, const char *password, char **cookie,
         char **csrf)
{
    struct hs_resp r;
    json_t *body, *j = NULL;
    char *txt;
    char sc[512];
    int rc = -1;

    *cookie = *csrf = NULL;
    body = json_pack("{ssss}", "login", login, "password", password);
    txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!txt)
        return -1;
    if (hs_request(port, "POST", "/api/v1/session",
                   "Content-Type: application/json", txt, strlen(txt),
                   &r) != 0 ||
        r.status < 200 || r.status > 299) {
        fprintf(stderr, "login %s: status %d %s\n", login, r.status,
                r.body ? r.body : "");
        goto out;
    }
    if (!hs_header(&r, "Set-Cookie", 0, sc, sizeof(sc))) {
        fprintf(stderr, "login %s: no Set-Cookie\n", login);
        goto out;
    }
    sc[strcspn(sc, ";")] = '\0';
    *cookie = gu_strdup(sc);
    j = hs_json(&r);
    if (json_is_string(json_object_get(j, "csrf")))
        *csrf = gu_strdup(json_string_value(json_object_get(j, "csrf")));
    if (!*csrf && hs_header(&r, "X-CSRF-Token", 0, sc, sizeof(sc)))
        *csrf = gu_strdup(sc);
    if (!*cookie || !*csrf) {
        fprintf(stderr, "login %s: no csrf in %s\n", login, r.body);
        gu_free(*cookie);
        gu_free(*csrf);
        *cookie = *csrf = NULL;
        goto out;
    }
    rc = 0;
out:
    json_decref(j);
    free(txt);
    hs_resp_fini(&r);
    return rc;
}
