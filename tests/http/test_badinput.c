/*
 * test_badinput.c - the "Bad input" list of the socle issue, each one a
 * test against the real server in-process (127.0.0.1:0, raw sockets).
 *
 * Every test asserts a clear 4xx with a French detail (problem+json where
 * the API is concerned), that nothing was half-written (rows counted in
 * the database before and after), and that the server still answers
 * /healthz for another client afterwards.
 */
#include "harness.h"
#include "http_support.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct hs_server S;
static bool started, start_failed;
static char *admin_cookie, *admin_csrf;

static void
stop(void)
{
    hs_server_stop(&S);
    gu_free(admin_cookie);
    gu_free(admin_csrf);
}

/* Start the shared server once; false (and a failure) if impossible. */
static bool
up(void)
{
    static const char *const ov[] = {"server.timeout=2", "server.max_body=1M",
                                     "server.max_header_bytes=32k", NULL};

    if (!started && !start_failed) {
        if (hs_server_start(&S, ov) != 0 ||
            hs_login(S.port, "admin", HS_PASSWORD, &admin_cookie,
                     &admin_csrf) != 0) {
            start_failed = true;
        } else {
            started = true;
            atexit(stop);
        }
    }
    if (!started)
        TH_FAIL("server set-up failed");
    return started;
}

/* A JSON problem with a French detail, and the status in 400..499. */
static void
check_problem(const struct hs_resp *r, int lo, int hi)
{
    char ct[128];
    json_t *j;
    const char *detail;

    if (r->status < lo || r->status > hi) {
        TH_FAIL("status %d not in %d..%d: %.300s", r->status, lo, hi,
                r->body ? r->body : "");
        return;
    }
    if (!hs_header(r, "Content-Type", 0, ct, sizeof(ct)) ||
        strncmp(ct, "application/problem+json", 24) != 0) {
        TH_FAIL("Content-Type \"%s\", expected application/problem+json",
                hs_header(r, "Content-Type", 0, ct, sizeof(ct)) ? ct : "");
        return;
    }
    j = hs_json(r);
    CHECK(json_is_object(j));
    CHECK_EQ(json_integer_value(json_object_get(j, "status")), r->status);
    CHECK(json_is_string(json_object_get(j, "title")));
    detail = json_string_value(json_object_get(j, "detail"));
    CHECK(detail && strlen(detail) > 10);
    json_decref(j);
}

/* The problem's detail (copied into buf), or "". */
static const char *
detail_of(const struct hs_resp *r, char *buf, size_t cap)
{
    json_t *j = hs_json(r);
    const char *d = json_string_value(json_object_get(j, "detail"));

    snprintf(buf, cap, "%s", d ? d : "");
    json_decref(j);
    return buf;
}

static int
post_json(const char *path, const char *headers, const char *body, size_t n,
          struct hs_resp *r)
{
    char h[2048];

    snprintf(h, sizeof(h), "Content-Type: application/json%s%s",
             headers && headers[0] ? "\r\n" : "", headers ? headers : "");
    return hs_request(S.port, "POST", path, h, body, n, r);
}

/* Admin session headers (cookie + CSRF) into buf. */
static const char *
admin_headers(char *buf, size_t cap)
{
    snprintf(buf, cap, "Cookie: %s\r\nX-CSRF-Token: %s", admin_cookie,
             admin_csrf);
    return buf;
}

static void
check_still_serving(void)
{
    CHECK(hs_healthy(S.port));
}

/* ------------------------------------------------------------------ */

static void
test_malformed_json(void)
{
    static const char *const bodies[] = {
        "{\"login\": \"admin\",\n \"password\": }",
        "{\"login\": \"admin\"",
        "[1, 2",
        "pas du json",
        "",
    };
    struct hs_resp r;
    char h[1024], d[512];
    long agents, sessions;

    if (!up())
        return;
    agents = hs_count(&S, "agents");
    sessions = hs_count(&S, "sessions");
    for (size_t i = 0; i < GU_ARRAY_LEN(bodies); i++) {
        CHECK_EQ(post_json("/api/v1/session", NULL, bodies[i],
                           strlen(bodies[i]), &r),
                 0);
        check_problem(&r, 400, 400);
        hs_resp_fini(&r);
    }
    /* The detail says where it broke. */
    CHECK_EQ(
        post_json("/api/v1/session", NULL, bodies[0], strlen(bodies[0]), &r),
        0);
    detail_of(&r, d, sizeof(d));
    CHECK(strcasestr(d, "ligne 2") != NULL);
    CHECK(strcasestr(d, "colonne") != NULL);
    hs_resp_fini(&r);
    /* On an admin route too, and nothing is created. */
    CHECK_EQ(post_json("/api/v1/agents", admin_headers(h, sizeof(h)), bodies[0],
                       strlen(bodies[0]), &r),
             0);
    check_problem(&r, 400, 400);
    hs_resp_fini(&r);
    /* JSON that is not an object. */
    CHECK_EQ(post_json("/api/v1/agents", admin_headers(h, sizeof(h)), "[\"x\"]",
                       5, &r),
             0);
    check_problem(&r, 400, 422);
    hs_resp_fini(&r);
    /* A JSON body sent as a form. */
    CHECK_EQ(hs_request(S.port, "POST", "/api/v1/session",
                        "Content-Type: text/plain", "{}", 2, &r),
             0);
    check_problem(&r, 400, 415);
    hs_resp_fini(&r);
    CHECK_EQ(hs_count(&S, "agents"), agents);
    CHECK_EQ(hs_count(&S, "sessions"), sessions);
    check_still_serving();
}

static void
test_wrong_types(void)
{
    static const char *const logins[] = {
        "{\"login\": 12, \"password\": \"x\"}",
        "{\"login\": \"admin\", \"password\": [\"" HS_PASSWORD "\"]}",
        "{\"login\": null, \"password\": \"x\"}",
        "{\"login\": {\"$ne\": 1}, \"password\": true}",
    };
    static const char *const agents_bad[] = {
        "{\"login\": \"typage\", \"name\": 42, \"role\": \"agent\"}",
        "{\"login\": 3.5, \"name\": \"Nom\", \"role\": \"agent\"}",
        "{\"login\": \"typage\", \"name\": \"Nom\", \"role\": 2}",
        "{\"login\": \"typage\", \"name\": \"Nom\", \"role\": \"chef\"}",
        "{\"login\": \"typage\", \"name\": \"Nom\", \"role\": \"agent\","
        " \"email\": false}",
    };
    struct hs_resp r;
    char h[1024], d[512];
    long agents, sessions;

    if (!up())
        return;
    agents = hs_count(&S, "agents");
    sessions = hs_count(&S, "sessions");
    for (size_t i = 0; i < GU_ARRAY_LEN(logins); i++) {
        CHECK_EQ(post_json("/api/v1/session", NULL, logins[i],
                           strlen(logins[i]), &r),
                 0);
        check_problem(&r, 400, 422);
        hs_resp_fini(&r);
    }
    /* The detail names the field. */
    CHECK_EQ(
        post_json("/api/v1/session", NULL, logins[0], strlen(logins[0]), &r),
        0);
    CHECK(strstr(detail_of(&r, d, sizeof(d)), "login") != NULL);
    hs_resp_fini(&r);
    for (size_t i = 0; i < GU_ARRAY_LEN(agents_bad); i++) {
        CHECK_EQ(post_json("/api/v1/agents", admin_headers(h, sizeof(h)),
                           agents_bad[i], strlen(agents_bad[i]), &r),
                 0);
        check_problem(&r, 400, 422);
        hs_resp_fini(&r);
    }
    CHECK_EQ(hs_count(&S, "agents"), agents);
    CHECK_EQ(hs_count(&S, "sessions"), sessions);
    check_still_serving();
}

/* 10 MB announced: refused from the headers, without reading it all. */
static void
test_body_10mb_announced(void)
{
    struct hs_conn c;
    struct hs_resp r;
    char head[512];
    char *chunk;
    int n;
    size_t sent = 0;
    long sessions;

    if (!up())
        return;
    sessions = hs_count(&S, "sessions");
    n = snprintf(head, sizeof(head),
                 "POST /api/v1/session HTTP/1.1\r\nHost: x\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %d\r\n\r\n",
                 10 * 1024 * 1024);
    chunk = malloc(65536);
    if (!chunk || hs_conn_open(&c, S.port, 10000) != 0) {
        free(chunk);
        TH_FAIL("connect");
        return;
    }
    memset(chunk, ' ', 65536);
    chunk[0] = '{';
    CHECK_EQ(hs_conn_send(&c, head, (size_t)n), 0);
    /* Only 64 KiB of the 10 MB: the answer must come anyway. */
    if (hs_conn_send(&c, chunk, 65536) == 0)
        sent += 65536;
    if (hs_conn_read(&c, false, &r) != 0) {
        TH_FAIL("no response to a 10 MB Content-Length (sent %zu)", sent);
    } else {
        check_problem(&r, 413, 413);
    }
    hs_resp_fini(&r);
    hs_conn_close(&c);
    free(chunk);
    CHECK_EQ(hs_count(&S, "sessions"), sessions);
    check_still_serving();
}

/* Send `total` bytes of 32 KiB chunks; stop early when the server talks. */
static size_t
send_chunks(struct hs_conn *c, size_t total, bool *answered)
{
    static char chunk[32768 + 8];
    size_t sent = 0;

    memcpy(chunk, "8000\r\n", 6);
    memset(chunk + 6, ' ', 32768);
    memcpy(chunk + 6 + 32768, "\r\n", 2);
    *answered = false;
    while (sent < total) {
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 0) > 0) {
            *answered = true;
            break;
        }
        if (hs_conn_send(c, chunk, sizeof(chunk)) != 0)
            break;
        sent += 32768;
    }
    return sent;
}

/*
 * A chunked body past server.max_body (1M here), two ways: complete at
 * 1.5 MB, and never-ending (a client streaming up to 8 MB). Both must get
 * a 413, the second without the server reading all of it.
 */
static void
test_body_chunked_over_limit(void)
{
    struct hs_conn c;
    struct hs_resp r;
    const char head[] = "POST /api/v1/session HTTP/1.1\r\nHost: x\r\n"
                        "Content-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
    size_t sent;
    bool answered;
    long sessions;

    if (!up())
        return;
    sessions = hs_count(&S, "sessions");
    /* Complete, 1.5 MB. */
    if (hs_conn_open(&c, S.port, 10000) != 0) {
        TH_FAIL("connect");
        return;
    }
    CHECK_EQ(hs_conn_send(&c, head, sizeof(head) - 1), 0);
    sent = send_chunks(&c, 1536u * 1024, &answered);
    if (!answered)
        (void)hs_conn_send(&c, "0\r\n\r\n", 5);
    if (hs_conn_read(&c, false, &r) != 0)
        TH_FAIL("no response after a complete %zu-byte chunked body", sent);
    else
        check_problem(&r, 413, 413);
    hs_resp_fini(&r);
    hs_conn_close(&c);

    /* Never-ending. */
    if (hs_conn_open(&c, S.port, 10000) != 0) {
        TH_FAIL("connect");
        return;
    }
    CHECK_EQ(hs_conn_send(&c, head, sizeof(head) - 1), 0);
    sent = send_chunks(&c, 8u * 1024 * 1024, &answered);
    if (hs_conn_read(&c, false, &r) != 0)
        TH_FAIL("no 413 for an endless chunked body: connection cut "
                "after %zu bytes sent",
                sent);
    else
        check_problem(&r, 413, 413);
    hs_resp_fini(&r);
    hs_conn_close(&c);
    CHECK_EQ(hs_count(&S, "sessions"), sessions);
    check_still_serving();
}

static void
test_10000_headers(void)
{
    struct hs_conn c;
    struct hs_resp r;
    struct gu_buf b;

    if (!up())
        return;
    gu_buf_init(&b);
    gu_buf_puts(&b, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 10000; i++)
        gu_buf_printf(&b, "X-En-Tete-%d: valeur\r\n", i);
    gu_buf_puts(&b, "\r\n");
    if (b.oom || hs_conn_open(&c, S.port, 10000) != 0) {
        gu_buf_fini(&b);
        TH_FAIL("set-up");
        return;
    }
    /* The server may stop reading (and close) half-way: that is fine. */
    (void)hs_conn_send(&c, b.p, b.n);
    if (hs_conn_read(&c, false, &r) == 0) {
        if (r.status != 431 && r.status != 413 && r.status != 400)
            TH_FAIL("status %d for 10,000 headers", r.status);
    }
    hs_resp_fini(&r);
    hs_conn_close(&c);
    gu_buf_fini(&b);
    check_still_serving();
}

/*
 * Slowloris, the idle kind: half a request line, then nothing. With
 * server.timeout=2 the server must close within a few seconds, and serve
 * others meanwhile.
 */
static void
test_slowloris_idle(void)
{
    struct hs_conn c;
    int64_t t0;
    bool closed = false;
    int served = 0, asked = 0;

    if (!up())
        return;
    if (hs_conn_open(&c, S.port, 10000) != 0) {
        TH_FAIL("connect");
        return;
    }
    CHECK_EQ(hs_conn_send(&c, "GET /heal", 9), 0);
    t0 = gu_now_ms();
    while (gu_now_ms() - t0 < 8000 && !closed) {
        asked++;
        served += hs_healthy(S.port);
        closed = hs_conn_wait_closed(&c, 500);
    }
    CHECK(closed);
    CHECK(gu_now_ms() - t0 <= 8000);
    CHECK(asked > 0 && served == asked);
    hs_conn_close(&c);
    check_still_serving();
}

/*
 * Slowloris, the real kind: one header byte every second, each within
 * the idle timeout, never finishing the headers. A server that only has
 * an idle timeout keeps such connections forever; the headers must have
 * a deadline of their own.
 */
static void
test_slowloris_dribble(void)
{
    struct hs_conn c;
    const char start[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Lent: ";
    int64_t t0;
    bool closed = false;
    int served = 0, asked = 0;

    if (!up())
        return;
    if (hs_conn_open(&c, S.port, 10000) != 0) {
        TH_FAIL("connect");
        return;
    }
    CHECK_EQ(hs_conn_send(&c, start, sizeof(start) - 1), 0);
    t0 = gu_now_ms();
    while (gu_now_ms() - t0 < 15000 && !closed) {
        if (hs_conn_send(&c, "a", 1) != 0) {
            closed = true;
            break;
        }
        asked++;
        served += hs_healthy(S.port);
        closed = hs_conn_wait_closed(&c, 1000);
    }
    CHECK(closed);
    CHECK(asked > 0 && served == asked);
    hs_conn_close(&c);
    check_still_serving();
}

static void
test_invalid_utf8_json(void)
{
    static const char bad_login[] =
        "{\"login\": \"ad\xff\xfemin\", \"password\": \"x\"}";
    static const char bad_overlong[] =
        "{\"login\": \"\xc0\xaf\", \"password\": \"x\"}";
    static const char bad_agent[] = "{\"login\": \"utf8\", \"name\": "
                                    "\"Jos\xe9 \xed\xa0\x80\","
                                    " \"role\": \"agent\"}";
    struct hs_resp r;
    char h[1024];
    long agents;

    if (!up())
        return;
    agents = hs_count(&S, "agents");
    CHECK_EQ(post_json("/api/v1/session", NULL, bad_login,
                       sizeof(bad_login) - 1, &r),
             0);
    check_problem(&r, 400, 400);
    hs_resp_fini(&r);
    CHECK_EQ(post_json("/api/v1/session", NULL, bad_overlong,
                       sizeof(bad_overlong) - 1, &r),
             0);
    check_problem(&r, 400, 400);
    hs_resp_fini(&r);
    CHECK_EQ(post_json("/api/v1/agents", admin_headers(h, sizeof(h)), bad_agent,
                       sizeof(bad_agent) - 1, &r),
             0);
    check_problem(&r, 400, 400);
    hs_resp_fini(&r);
    CHECK_EQ(hs_count(&S, "agents"), agents);
    check_still_serving();
}

static void
test_invalid_utf8_path(void)
{
    static const char *const raws[] = {
        "GET /api/v1/communes/%FF%FE HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /api/v1/communes/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /api/v1/communes/%C0%AF HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /static/%ED%A0%80.css HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /api/v1/communes/99001%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    struct hs_resp r;

    if (!up())
        return;
    for (size_t i = 0; i < GU_ARRAY_LEN(raws); i++) {
        if (hs_request_raw(S.port, raws[i], strlen(raws[i]), &r) != 0) {
            TH_FAIL("no response to %s", raws[i]);
            hs_resp_fini(&r);
            continue;
        }
        if (strstr(raws[i], "/api/"))
            check_problem(&r, 400, 404);
        else if (r.status != 400 && r.status != 404)
            TH_FAIL("status %d for %s", r.status, raws[i]);
        hs_resp_fini(&r);
    }
    check_still_serving();
}

static void
test_path_traversal(void)
{
    static const char *const paths[] = {
        "/static/../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2fguichet.db",
        "/static/..%2f..%2f..%2fetc%2fpasswd",
        "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/..\\..\\etc\\passwd",
        "/static/%252e%252e/%252e%252e/etc/passwd",
        "/static//etc/passwd",
        "/static/./../CMakeLists.txt",
        "/static/css/../../../../../../etc/passwd",
        "/../../../../etc/passwd",
        "/static/%c0%ae%c0%ae/etc/passwd",
    };
    struct hs_resp r;
    char raw[512];

    if (!up())
        return;
    for (size_t i = 0; i < GU_ARRAY_LEN(paths); i++) {
        int n = snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
                         paths[i]);
        if (hs_request_raw(S.port, raw, (size_t)n, &r) != 0) {
            TH_FAIL("no response to %s", paths[i]);
            continue;
        }
        if (r.status != 400 && r.status != 404)
            TH_FAIL("%s: status %d", paths[i], r.status);
        CHECK(r.body && strstr(r.body, "root:") == NULL);
        CHECK(r.body && strstr(r.body, "SQLite format") == NULL);
        CHECK(r.body && strstr(r.body, "cmake_minimum_required") == NULL);
        hs_resp_fini(&r);
    }
    check_still_serving();
}

/* ------------------------------------------------------------------ */
/* SQL metacharacters in every field of agent creation                 */
/* ------------------------------------------------------------------ */

static const char *const metas[] = {
    "x'); DROP TABLE agents; --",
    "\" OR 1=1 --",
    "'; DELETE FROM audit; SELECT '",
    "%_\\' UNION SELECT password_hash FROM agents --",
};

/* The agent as stored, or false. */
static bool
stored_agent(const char *login, struct gu_arena *a, struct store_agent *out)
{
    struct store_conn *c = NULL;
    struct gu_err err;
    bool ok;

    gu_err_clear(&err);
    if (store_acquire(S.store, &c, &err) != 0)
        return false;
    ok = store_agent_by_login(c, a, login, out, &err) == 0;
    store_release(c);
    return ok;
}

/*
 * POST one agent; either 2xx and every field stored verbatim, or a 4xx
 * problem and nothing stored. `field` is the one carrying `meta`.
 */
static void
create_with(const char *field, const char *meta, int serial)
{
    char login[64], name[64], email[64];
    const char *role = "agent";
    json_t *j;
    char *body;
    char h[1024];
    struct hs_resp r;
    long before = hs_count(&S, "agents");
    long audit = hs_count(&S, "audit");
    struct gu_arena *a = gu_arena_new(0);
    struct store_agent ag;

    snprintf(login, sizeof(login), "meta%d", serial);
    snprintf(name, sizeof(name), "Agent %d", serial);
    snprintf(email, sizeof(email), "meta%d@exemple.fr", serial);
    j = json_pack("{ssssssss}", "login", login, "name", name, "email", email,
                  "role", role);
    json_object_set_new(j, field, json_string(meta));
    body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!a || !body) {
        TH_FAIL("oom");
        free(body);
        gu_arena_free(a);
        return;
    }
    if (post_json("/api/v1/agents", admin_headers(h, sizeof(h)), body,
                  strlen(body), &r) != 0) {
        TH_FAIL("no response for %s", body);
    } else if (r.status >= 200 && r.status < 300) {
        const char *look = strcmp(field, "login") == 0 ? meta : login;
        CHECK_EQ(hs_count(&S, "agents"), before + 1);
        if (!stored_agent(look, a, &ag)) {
            TH_FAIL("%s accepted but agent %s not found", body, look);
        } else if (strcmp(field, "name") == 0) {
            CHECK_STR(ag.name, meta);
        } else if (strcmp(field, "email") == 0) {
            CHECK_STR(ag.email, meta);
        } else if (strcmp(field, "login") == 0) {
            CHECK_STR(ag.login, meta);
        } else {
            TH_FAIL("role %s accepted", meta);
        }
        CHECK(hs_count(&S, "audit") > audit);
    } else {
        check_problem(&r, 400, 422);
        CHECK_EQ(hs_count(&S, "agents"), before);
        CHECK_EQ(hs_count(&S, "audit"), audit);
    }
    hs_resp_fini(&r);
    free(body);
    gu_arena_free(a);
}

static void
test_sql_metachars(void)
{
    static const char *const fields[] = {"login", "name", "email", "role"};
    int serial = 0;
    long communes;

    if (!up())
        return;
    communes = hs_count(&S, "communes");
    for (size_t f = 0; f < GU_ARRAY_LEN(fields); f++) {
        for (size_t m = 0; m < GU_ARRAY_LEN(metas); m++)
            create_with(fields[f], metas[m], serial++);
    }
    /* The tables are intact and still work. */
    CHECK(hs_count(&S, "agents") >= 7);
    CHECK(hs_count(&S, "audit") > 0);
    CHECK_EQ(hs_count(&S, "communes"), communes);
    {
        struct gu_arena *a = gu_arena_new(0);
        struct store_agent ag;
        CHECK(a && stored_agent("admin", a, &ag));
        gu_arena_free(a);
    }
    /* Metacharacters in the login form and in a query string. */
    {
        static const char body[] =
            "{\"login\":\"admin' --\",\"password\":\"' OR '1'='1\"}";
        struct hs_resp r;
        CHECK_EQ(post_json("/api/v1/session", NULL, body, sizeof(body) - 1, &r),
                 0);
        check_problem(&r, 400, 401);
        hs_resp_fini(&r);
    }
    {
        struct hs_resp r;
        char h[1024];
        snprintf(h, sizeof(h), "Cookie: %s", admin_cookie);
        CHECK_EQ(hs_request(S.port, "GET",
                            "/api/v1/audit?action=%27%20OR%201%3D1%20--"
                            "&actor=%22%3B%20DROP%20TABLE%20audit",
                            h, NULL, 0, &r),
                 0);
        CHECK(r.status == 200 || (r.status >= 400 && r.status < 500));
        hs_resp_fini(&r);
        CHECK(hs_count(&S, "audit") > 0);
    }
    check_still_serving();
}

/* ------------------------------------------------------------------ */

static void
test_wrong_csrf(void)
{
    static const char body[] =
        "{\"login\":\"csrf-test\",\"name\":\"Par CSRF\",\"role\":\"agent\"}";
    struct hs_resp r;
    char h[1024], d[512];
    long agents;

    if (!up())
        return;
    agents = hs_count(&S, "agents");
    snprintf(h, sizeof(h), "Cookie: %s\r\nX-CSRF-Token: %s-faux", admin_cookie,
             admin_csrf);
    CHECK_EQ(post_json("/api/v1/agents", h, body, sizeof(body) - 1, &r), 0);
    check_problem(&r, 403, 403);
    CHECK(strcasestr(detail_of(&r, d, sizeof(d)), "sécurité") ||
          strcasestr(d, "CSRF") || strcasestr(d, "jeton"));
    hs_resp_fini(&r);
    /* No token at all. */
    snprintf(h, sizeof(h), "Cookie: %s", admin_cookie);
    CHECK_EQ(post_json("/api/v1/agents", h, body, sizeof(body) - 1, &r), 0);
    check_problem(&r, 403, 403);
    hs_resp_fini(&r);
    /* Another session's token. */
    {
        char *c2 = NULL, *t2 = NULL;
        if (hs_login(S.port, "agent", HS_PASSWORD, &c2, &t2) == 0) {
            snprintf(h, sizeof(h), "Cookie: %s\r\nX-CSRF-Token: %s",
                     admin_cookie, t2);
            CHECK_EQ(post_json("/api/v1/agents", h, body, sizeof(body) - 1, &r),
                     0);
            check_problem(&r, 403, 403);
            hs_resp_fini(&r);
        } else {
            TH_FAIL("agent login");
        }
        gu_free(c2);
        gu_free(t2);
    }
    CHECK_EQ(hs_count(&S, "agents"), agents);
    check_still_serving();
}

static void
test_expired_session(void)
{
    static const char body[] =
        "{\"login\":\"expire\",\"name\":\"Expiré\",\"role\":\"agent\"}";
    struct hs_resp r;
    char h[1024], name[64];
    long agents;
    size_t k;

    if (!up())
        return;
    agents = hs_count(&S, "agents");
    k = strcspn(admin_cookie, "=");
    snprintf(name, sizeof(name), "%.*s", (int)k, admin_cookie);
    snprintf(h, sizeof(h), "Cookie: %s=%s", name, S.seed.expired_session);
    CHECK_EQ(hs_request(S.port, "GET", "/api/v1/session", h, NULL, 0, &r), 0);
    check_problem(&r, 401, 401);
    hs_resp_fini(&r);
    CHECK_EQ(hs_request(S.port, "GET", "/api/v1/agents", h, NULL, 0, &r), 0);
    check_problem(&r, 401, 401);
    hs_resp_fini(&r);
    snprintf(h, sizeof(h), "Cookie: %s=%s\r\nX-CSRF-Token: x", name,
             S.seed.expired_session);
    CHECK_EQ(post_json("/api/v1/agents", h, body, sizeof(body) - 1, &r), 0);
    check_problem(&r, 401, 403);
    hs_resp_fini(&r);
    /* A made-up session token is no better. */
    snprintf(h, sizeof(h), "Cookie: %s=invente", name);
    CHECK_EQ(hs_request(S.port, "GET", "/api/v1/agents", h, NULL, 0, &r), 0);
    check_problem(&r, 401, 401);
    hs_resp_fini(&r);
    CHECK_EQ(hs_count(&S, "agents"), agents);
    check_still_serving();
}

static void
test_unknown_commune(void)
{
    static const char put[] = "{\"commune\":\"12345\"}";
    struct hs_resp r;
    char h[1024], d[512];
    json_t *j;

    if (!up())
        return;
    CHECK_EQ(
        hs_request(S.port, "GET", "/api/v1/communes/12345", NULL, NULL, 0, &r),
        0);
    check_problem(&r, 404, 404);
    CHECK(strcasestr(detail_of(&r, d, sizeof(d)), "commune") != NULL);
    hs_resp_fini(&r);
    CHECK_EQ(
        hs_request(S.port, "GET", "/api/v1/communes/ABCDE", NULL, NULL, 0, &r),
        0);
    check_problem(&r, 400, 404);
    hs_resp_fini(&r);
    admin_headers(h, sizeof(h));
    snprintf(h + strlen(h), sizeof(h) - strlen(h),
             "\r\nContent-Type: application/json");
    CHECK_EQ(hs_request(S.port, "PUT", "/api/v1/session", h, put,
                        sizeof(put) - 1, &r),
             0);
    check_problem(&r, 404, 404);
    CHECK(strcasestr(detail_of(&r, d, sizeof(d)), "commune") != NULL);
    hs_resp_fini(&r);
    /* The session still points at 99001. */
    snprintf(h, sizeof(h), "Cookie: %s", admin_cookie);
    CHECK_EQ(hs_request(S.port, "GET", "/api/v1/session", h, NULL, 0, &r), 0);
    CHECK_EQ(r.status, 200);
    j = hs_json(&r);
    {
        char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
        CHECK(t && strstr(t, "99001"));
        CHECK(t && !strstr(t, "12345"));
        free(t);
    }
    json_decref(j);
    hs_resp_fini(&r);
    check_still_serving();
}

/* ------------------------------------------------------------------ */
/* 100 concurrent keep-alive connections                               */
/* ------------------------------------------------------------------ */

#define NCONN 100
#define NREQ 5

struct worker {
    pthread_t th;
    pthread_barrier_t *all_open;
    int ok;
};

/*
 * One client: connect, one request, wait until all NCONN clients hold
 * their connection open at once, then the other requests on the same
 * connection.
 */
static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    struct hs_conn c;
    const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const char req2[] =
        "GET /api/v1/communes/99001 HTTP/1.1\r\nHost: x\r\n\r\n";
    bool open = hs_conn_open(&c, S.port, 20000) == 0;

    for (int i = 0; i < NREQ; i++) {
        struct hs_resp r;
        const char *q = (i & 1) ? req2 : req;
        if (i == 1)
            pthread_barrier_wait(w->all_open);
        if (!open || hs_conn_send(&c, q, strlen(q)) != 0)
            continue;
        if (hs_conn_read(&c, false, &r) != 0) {
            hs_resp_fini(&r);
            continue;
        }
        if (r.status == 200)
            w->ok++;
        hs_resp_fini(&r);
    }
    if (open)
        hs_conn_close(&c);
    return NULL;
}

static void
test_concurrent_keepalive(void)
{
    static struct worker w[NCONN];
    pthread_barrier_t bar;
    int total = 0, started_n = 0;

    if (!up())
        return;
    if (pthread_barrier_init(&bar, NULL, NCONN) != 0) {
        TH_FAIL("barrier");
        return;
    }
    for (int i = 0; i < NCONN; i++) {
        w[i].ok = 0;
        w[i].all_open = &bar;
        if (pthread_create(&w[i].th, NULL, worker_run, &w[i]) == 0)
            started_n++;
    }
    /* Every thread must exist, or the barrier never opens. */
    if (started_n != NCONN) {
        TH_FAIL("only %d threads", started_n);
        abort();
    }
    for (int i = 0; i < NCONN; i++) {
        pthread_join(w[i].th, NULL);
        total += w[i].ok;
    }
    pthread_barrier_destroy(&bar);
    CHECK_EQ(total, NCONN * NREQ);
    check_still_serving();
}

TESTS(T(test_malformed_json), T(test_wrong_types), T(test_body_10mb_announced),
      T(test_body_chunked_over_limit), T(test_10000_headers),
      T(test_invalid_utf8_json), T(test_invalid_utf8_path),
      T(test_path_traversal), T(test_sql_metachars), T(test_wrong_csrf),
      T(test_expired_session), T(test_unknown_commune),
      T(test_concurrent_keepalive), T(test_slowloris_idle),
      T(test_slowloris_dribble))
