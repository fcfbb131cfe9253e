/*
 * test_web.c - unit tests of web/'s pure pieces: router, request target
 * normalisation, query/cookie/form parsing, JSON bodies, problem+json
 * mapping, templates, cookies and headers, and the OpenAPI document.
 * No socket here: tests/http/ drives the real server.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "web/web.h"
#include "web/web_internal.h"
#include "store_url.h"

static int
h_ok(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    return http_no_content(resp);
}

static int
h_other(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    return http_no_content(resp);
}

static const struct http_route troutes[] = {
    {"GET", "/api/v1/users/{id}", HTTP_ADMIN, h_ok, "admin", "Un agent", NULL,
     "{\"type\":\"object\"}"},
    {"DELETE", "/api/v1/users/{id}", HTTP_ADMIN, h_ok, "admin", "Supprimer",
     NULL, NULL},
    {"GET", "/api/v1/users/moi", HTTP_SESSION, h_other, "admin", "Moi", NULL,
     NULL},
    {"POST", "/api/v1/users", HTTP_ADMIN, h_ok, "admin", "Créer",
     "{\"type\":\"object\",\"required\":[\"login\"]}", NULL},
    {"GET", "/api/v1/c/{insee}/kb/{slug}", HTTP_PUBLIC, h_ok, "kb", "Fiche",
     NULL, NULL},
    {"GET", "/files/*", HTTP_PUBLIC, h_other, NULL, NULL, NULL, NULL},
    {"GET", "/", HTTP_PUBLIC, h_ok, NULL, NULL, NULL, NULL},
};

static const struct http_routes ttable = {"test", troutes,
                                          GU_ARRAY_LEN(troutes)};

static void
test_router_match(void)
{
    struct web_router *r = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    struct web_match m;

    CHECK_EQ(web_router_new(&ttable, 1, &r, &err), 0);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_EQ(web_router_match(r, a, "GET", "/api/v1/users/42", &m), 0);
    CHECK_STR(m.route->route->pattern, "/api/v1/users/{id}");
    CHECK_EQ(m.ncaps, 1);
    CHECK_STR(m.caps[0].k, "id");
    CHECK_STR(m.caps[0].v, "42");
    /* Literal beats capture even though it comes later in the table. */
    CHECK_EQ(web_router_match(r, a, "GET", "/api/v1/users/moi", &m), 0);
    CHECK(m.route->route->fn == h_other);
    CHECK_EQ(web_router_match(r, a, "GET", "/api/v1/c/99001/kb/etat-civil", &m),
             0);
    CHECK_EQ(m.ncaps, 2);
    CHECK_STR(m.caps[0].v, "99001");
    CHECK_STR(m.caps[1].k, "slug");
    CHECK_STR(m.caps[1].v, "etat-civil");
    CHECK_EQ(web_router_match(r, a, "GET", "/files/a/b/c.css", &m), 0);
    CHECK_STR(m.caps[0].k, "*");
    CHECK_STR(m.caps[0].v, "a/b/c.css");
    CHECK_EQ(web_router_match(r, a, "GET", "/files", &m), GU_ENOTFOUND);
    CHECK_EQ(web_router_match(r, a, "GET", "/", &m), 0);
    CHECK_EQ(web_router_match(r, a, "HEAD", "/api/v1/users/7", &m), 0);
    CHECK_EQ(web_router_match(r, a, "GET", "/api/v1/users/", &m), GU_ENOTFOUND);
    CHECK_EQ(web_router_match(r, a, "GET", "/api/v1/nope", &m), GU_ENOTFOUND);
    CHECK_STR(m.allow, "");
    CHECK_EQ(web_router_match(r, a, "GET", "/api/v1/users/7/x", &m),
             GU_ENOTFOUND);
    web_router_free(r);
    gu_arena_free(a);
}

static void
test_router_405(void)
{
    struct web_router *r = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    struct web_match m;

    CHECK_EQ(web_router_new(&ttable, 1, &r, &err), 0);
    if (!r)
        return;
    CHECK_EQ(web_router_match(r, a, "PUT", "/api/v1/users/7", &m),
             GU_ENOTFOUND);
    CHECK_STR(m.allow, "GET, DELETE");
    CHECK_EQ(web_router_match(r, a, "GET", "/api/v1/users", &m), GU_ENOTFOUND);
    CHECK_STR(m.allow, "POST");
    web_router_free(r);
    gu_arena_free(a);
}

static void
test_router_bad_patterns(void)
{
    static const char *const bad[] = {"nope",  "/a/*/b", "/a/{}",     "/a/{x",
                                      "/a/x}", "/a//b",  "/a/{x}{y}", "/a/b*"};
    struct gu_err err;

    for (size_t i = 0; i < GU_ARRAY_LEN(bad); i++) {
        struct http_route rt = {"GET", bad[i], HTTP_PUBLIC, h_ok,
                                NULL,  NULL,   NULL,        NULL};
        struct http_routes t = {"bad", &rt, 1};
        struct web_router *r = NULL;
        gu_err_clear(&err);
        if (web_router_new(&t, 1, &r, &err) != GU_EINVAL)
            TH_FAIL("pattern %s accepted", bad[i]);
        web_router_free(r);
    }
    {
        struct http_route rt = {"BREW", "/x", HTTP_PUBLIC, h_ok,
                                NULL,   NULL, NULL,        NULL};
        struct http_routes t = {"bad", &rt, 1};
        struct web_router *r = NULL;
        CHECK_EQ(web_router_new(&t, 1, &r, &err), GU_EINVAL);
        CHECK(r == NULL);
    }
}

static void
test_builtin_routes_compile(void)
{
    struct web_router *r = NULL;
    struct gu_err err;

    CHECK_EQ(web_router_new(web_builtin_routes(), 1, &r, &err), 0);
    CHECK(r && r->n == web_builtin_routes()->count);
    web_router_free(r);
}

static void
test_target_parse(void)
{
    static const struct {
        const char *raw, *path, *query;
    } good[] = {
        {"/", "/", ""},
        {"/a/b?x=1", "/a/b", "x=1"},
        {"/caf%C3%A9", "/café", ""},
        {"/a/", "/a/", ""},
        {"/a%2Fb", "/a/b", ""},
        {"/%252e%252e/x", "/%2e%2e/x", ""},
        {"/a?", "/a", ""},
        {"/a.b/..c", "/a.b/..c", ""},
    };
    static const char *const bad[] = {
        "",          "a/b",       "/../etc/passwd", "/a/../b", "/a/./b",
        "/%2e%2e/x", "/a/%2E%2E", "//etc",          "/a//b",   "/a%00b",
        "/a%",       "/a%4",      "/a%zz",          "/%ff",    "/%c3%28",
        "/a\\b",     "/a%5cb",    "/a%0d%0ab",      "/a#frag", "/.",
        "/%ed%a0%80"};
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;

    for (size_t i = 0; i < GU_ARRAY_LEN(good); i++) {
        const char *p = NULL, *q = NULL;
        int rc =
            web_target_parse(a, good[i].raw, strlen(good[i].raw), &p, &q, &err);
        if (rc != 0) {
            TH_FAIL("target %s refused", good[i].raw);
            continue;
        }
        CHECK_STR(p, good[i].path);
        CHECK_STR(q, good[i].query);
    }
    for (size_t i = 0; i < GU_ARRAY_LEN(bad); i++) {
        const char *p = NULL, *q = NULL;
        gu_err_clear(&err);
        if (web_target_parse(a, bad[i], strlen(bad[i]), &p, &q, &err) !=
            GU_EINVAL)
            TH_FAIL("target %s accepted as %s", bad[i], p ? p : "?");
        else
            CHECK(err.user[0] != 0);
    }
    gu_arena_free(a);
}

static void
test_query_parse(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    struct web_kv *kv = NULL;
    size_t n = 0;
    const char *q = "a=1&b=x+y%21&&c&d=%C3%A9t%C3%A9&a=2&e=%2B";

    CHECK_EQ(web_urlencoded_parse(a, q, strlen(q), &kv, &n, &err), 0);
    CHECK_EQ(n, 6);
    CHECK_STR(web_kv_get(kv, n, "a"), "1");
    CHECK_STR(web_kv_get(kv, n, "b"), "x y!");
    CHECK_STR(web_kv_get(kv, n, "c"), "");
    CHECK_STR(web_kv_get(kv, n, "d"), "été");
    CHECK_STR(web_kv_get(kv, n, "e"), "+");
    CHECK(web_kv_get(kv, n, "z") == NULL);
    CHECK_EQ(web_urlencoded_parse(a, "", 0, &kv, &n, &err), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(web_urlencoded_parse(a, "a=%", 3, &kv, &n, &err), GU_EINVAL);
    CHECK_EQ(web_urlencoded_parse(a, "a=%00", 5, &kv, &n, &err), GU_EINVAL);
    CHECK_EQ(web_urlencoded_parse(a, "a=%ff", 5, &kv, &n, &err), GU_EINVAL);
    {
        struct gu_buf b;
        gu_buf_init(&b);
        for (int i = 0; i < WEB_MAX_PARAMS + 1; i++)
            gu_buf_puts(&b, "x=1&");
        CHECK_EQ(web_urlencoded_parse(a, b.p, b.n, &kv, &n, &err), GU_ETOOBIG);
        gu_buf_fini(&b);
    }
    gu_arena_free(a);
}

static void
test_cookie_parse(void)
{
    struct gu_arena *a = gu_arena_new(0);

    CHECK_STR(
        web_cookie_find(a, "a=1; guichet_session=abc; b=2", "guichet_session"),
        "abc");
    CHECK_STR(web_cookie_find(a, "guichet_session=\"q\"", "guichet_session"),
              "q");
    CHECK_STR(web_cookie_find(a, "  x = y ;z=w", "x"), "y");
    CHECK(web_cookie_find(a, "xguichet_session=1", "guichet_session") == NULL);
    CHECK(web_cookie_find(a, "a=1", "b") == NULL);
    CHECK(web_cookie_find(a, "a", "a") == NULL);
    CHECK(web_cookie_find(a, "a=b\\c", "a") == NULL);
    CHECK(web_cookie_find(a, NULL, "a") == NULL);
    CHECK_STR(web_cookie_find(a, "a=; b=2", "a"), "");
    CHECK_STR(web_cookie_find(a, "a=1; a=2", "a"), "1");
    gu_arena_free(a);
}

static void
test_small_parsers(void)
{
    char ip[64];

    CHECK(web_reqid_valid("abc-DEF_123"));
    CHECK(!web_reqid_valid(""));
    CHECK(!web_reqid_valid("a b"));
    CHECK(!web_reqid_valid("a\nb"));
    CHECK(!web_reqid_valid(NULL));
    CHECK(web_reqid_valid("0123456789012345678901234567890123456789012345"
                          "678901234567890123"));
    CHECK(!web_reqid_valid("0123456789012345678901234567890123456789012345"
                           "6789012345678901234"));
    web_ip_truncate("192.0.2.77", ip, sizeof(ip));
    CHECK_STR(ip, "192.0.2.0");
    web_ip_truncate("2001:db8:abcd:12::1", ip, sizeof(ip));
    CHECK_STR(ip, "2001:db8:abcd::");
    web_ip_truncate("::1", ip, sizeof(ip));
    CHECK_STR(ip, "::");
    web_ip_truncate("nonsense", ip, sizeof(ip));
    CHECK_STR(ip, "-");
    CHECK(web_ctype_is("application/json", "application/json"));
    CHECK(web_ctype_is("Application/JSON; charset=utf-8", "application/json"));
    CHECK(!web_ctype_is("application/jsonx", "application/json"));
    CHECK(!web_ctype_is(NULL, "application/json"));
    CHECK(web_origin_ok(NULL, "h", ""));
    CHECK(web_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080", ""));
    CHECK(web_origin_ok("https://mairie.fr", "interne:8080",
                        "https://mairie.fr/"));
    CHECK(!web_origin_ok("https://evil.example", "mairie.fr", ""));
    CHECK(!web_origin_ok("null", "mairie.fr", ""));
    CHECK(!web_origin_ok("http://mairie.fr.evil", "mairie.fr", ""));
}

static void
test_json_body(void)
{
    struct gu_err err;
    json_t *j = NULL;
    const char *s;

    CHECK_EQ(web_json_parse("{\"a\":1}", 7, "application/json", &j, &err), 0);
    CHECK(json_is_object(j));
    json_decref(j);
    gu_err_clear(&err);
    CHECK_EQ(web_json_parse("{\"a\":1}", 7, "text/plain", &j, &err), GU_EINVAL);
    CHECK_EQ(web_json_parse("[1]", 3, NULL, &j, &err), GU_EINVAL);
    CHECK(j == NULL);
    gu_err_clear(&err);
    CHECK_EQ(web_json_parse("{\"a\":", 5, NULL, &j, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "JSON invalide");
    CHECK_EQ(web_json_parse("{\"a\":\"\xff\"}", 8, NULL, &j, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "UTF-8");
    CHECK_EQ(web_json_parse("{\"a\":1,\"a\":2}", 13, NULL, &j, &err),
             GU_EINVAL);
    CHECK_EQ(web_json_parse("", 0, NULL, &j, &err), GU_EINVAL);
    s = "{\"login\":\"admin\",\"n\":3}";
    CHECK_EQ(web_json_parse(s, strlen(s), NULL, &j, &err), 0);
    {
        const char *login = NULL;
        long n = 0;
        CHECK_EQ(gu_json_str(j, "login", true, 64, &login, &err), 0);
        CHECK_STR(login, "admin");
        CHECK_EQ(gu_json_int(j, "n", true, 0, 10, &n, &err), 0);
        CHECK_EQ(n, 3);
    }
    json_decref(j);
}

static void
test_status_mapping(void)
{
    CHECK_EQ(web_status_of(GU_EINVAL, NULL), 400);
    CHECK_EQ(web_status_of(GU_EINVAL, ""), 400);
    CHECK_EQ(web_status_of(GU_EINVAL, "email"), 422);
    CHECK_EQ(web_status_of(GU_ENOTFOUND, NULL), 404);
    CHECK_EQ(web_status_of(GU_ECONFLICT, NULL), 409);
    CHECK_EQ(web_status_of(GU_EAUTH, NULL), 401);
    CHECK_EQ(web_status_of(GU_EPERM, NULL), 403);
    CHECK_EQ(web_status_of(GU_ETOOBIG, NULL), 413);
    CHECK_EQ(web_status_of(GU_ERATE, NULL), 429);
    CHECK_EQ(web_status_of(GU_EBUSY, NULL), 503);
    CHECK_EQ(web_status_of(GU_EDB, NULL), 500);
    CHECK_EQ(web_status_of(GU_ENOMEM, NULL), 500);
    CHECK_EQ(web_status_of(GU_EINTERNAL, NULL), 500);
    CHECK_EQ(web_code_of_status(404), GU_ENOTFOUND);
    CHECK_EQ(web_code_of_status(200), 0);
    CHECK_STR(web_status_title(404), "Introuvable");
}

/* A fake request over `a` with the given headers and body. */
struct fake {
    struct http_req req;
    struct http_resp resp;
    struct web_reqdata d;
    struct web_kv hdr[4];
};

static void
fake_init(struct fake *f, struct gu_arena *a, const char *ctype,
          const char *body)
{
    memset(f, 0, sizeof(*f));
    web_req_init(&f->req, &f->resp, a, &f->d);
    f->req.path = "/api/v1/x";
    f->req.request_id = "abcd";
    f->hdr[0].k = "Content-Type";
    f->hdr[0].v = ctype;
    f->hdr[1].k = "Cookie";
    f->hdr[1].v = "guichet_session=tok; theme=sombre";
    f->d.headers = f->hdr;
    f->d.nheaders = 2;
    f->d.body = body;
    f->d.body_n = body ? strlen(body) : 0;
}

static void
test_problem_json(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct fake f;
    struct gu_err err;
    json_t *j;

    fake_init(&f, a, "application/json", NULL);
    gu_err_set(&err, GU_EINVAL, "email", "Adresse e-mail invalide.",
               "bad email");
    CHECK_EQ(web_problem_from_err(&f.req, &f.resp, GU_EINVAL, &err), 0);
    CHECK_EQ(f.resp.status, 422);
    CHECK_STR(f.resp.ctype, "application/problem+json");
    j = json_loadb(f.resp.body, f.resp.n, 0, NULL);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "detail")),
              "Adresse e-mail invalide.");
    CHECK_STR(json_string_value(json_object_get(j, "champ")), "email");
    CHECK_STR(json_string_value(json_object_get(j, "instance")), "/api/v1/x");
    CHECK_STR(json_string_value(json_object_get(j, "request_id")), "abcd");
    CHECK_EQ(json_integer_value(json_object_get(j, "status")), 422);
    CHECK_CONTAINS(json_string_value(json_object_get(j, "type")),
                   "https://guichet.local/problemes/");
    json_decref(j);

    /* 5xx: never leak the English message. */
    fake_init(&f, a, "application/json", NULL);
    gu_err_set(&err, GU_EDB, NULL, "secret", "SQLITE_CORRUPT in table x");
    CHECK_EQ(web_problem_from_err(&f.req, &f.resp, GU_EDB, &err), 0);
    CHECK_EQ(f.resp.status, 500);
    CHECK(strstr(f.resp.body, "SQLITE") == NULL);
    CHECK(strstr(f.resp.body, "secret") == NULL);

    fake_init(&f, a, "application/json", NULL);
    CHECK_EQ(http_problem(&f.resp, 404, NULL, "Pas là."), GU_ENOTFOUND);
    CHECK_CONTAINS(f.resp.body, "\"title\":\"Introuvable\"");
    gu_arena_free(a);
}

static void
test_request_accessors(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct fake f;
    struct web_kv caps[1] = {{"id", "12"}};
    int64_t id = 0;
    json_t *j = NULL;

    fake_init(&f, a, "application/x-www-form-urlencoded",
              "login=marie&password=a+b%26c&csrf=xyz");
    f.d.caps = caps;
    f.d.ncaps = 1;
    CHECK_STR(http_header(&f.req, "content-type"),
              "application/x-www-form-urlencoded");
    CHECK_STR(http_cookie(&f.req, "theme"), "sombre");
    CHECK_STR(http_cookie(&f.req, "guichet_session"), "tok");
    CHECK_STR(http_form(&f.req, "login"), "marie");
    CHECK_STR(http_form(&f.req, "password"), "a b&c");
    CHECK(http_form(&f.req, "nope") == NULL);
    CHECK_EQ(http_param_id(&f.req, "id", &id), 0);
    CHECK_EQ(id, 12);
    CHECK_EQ(http_param_id(&f.req, "x", &id), GU_EINVAL);
    CHECK_EQ(http_body_json(&f.req, &j), GU_EINVAL);
    caps[0].v = "-3";
    CHECK_EQ(http_param_id(&f.req, "id", &id), GU_EINVAL);
    caps[0].v = "12abc";
    CHECK_EQ(http_param_id(&f.req, "id", &id), GU_EINVAL);

    fake_init(&f, a, "application/json", "{\"a\":\"b\"}");
    CHECK_EQ(http_body_json(&f.req, &j), 0);
    CHECK(http_form(&f.req, "a") == NULL);
    gu_arena_free(a);
}

static void
test_response_headers(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct fake f;

    fake_init(&f, a, "text/plain", NULL);
    CHECK_EQ(http_add_header(&f.resp, "X-A", "1"), 0);
    CHECK_EQ(http_add_header(&f.resp, "X-B", "a\r\nSet-Cookie: x=1"),
             GU_EINVAL);
    CHECK_EQ(http_add_header(&f.resp, "X B", "1"), GU_EINVAL);
    CHECK_STR(web_resp_header(&f.resp, "x-a"), "1");
    CHECK_EQ(
        http_set_cookie(&f.req, &f.resp, "guichet_session", "tok", 60, true),
        0);
    CHECK_STR(web_resp_header(&f.resp, "Set-Cookie"),
              "guichet_session=tok; Path=/; Max-Age=60; HttpOnly; "
              "SameSite=Strict");
    CHECK_EQ(http_set_cookie(&f.req, &f.resp, "a", "b;c", -1, false),
             GU_EINVAL);
    f.req.tls = true;
    fake_init(&f, a, "text/plain", NULL);
    f.req.tls = true;
    CHECK_EQ(http_set_cookie(&f.req, &f.resp, "s", "", 0, true), 0);
    CHECK_CONTAINS(web_resp_header(&f.resp, "Set-Cookie"), "; Secure");
    CHECK_CONTAINS(web_resp_header(&f.resp, "Set-Cookie"), "Max-Age=0");
    CHECK_EQ(http_redirect(&f.resp, "/agent"), 0);
    CHECK_EQ(f.resp.status, 303);
    CHECK_STR(web_resp_header(&f.resp, "Location"), "/agent");
    gu_arena_free(a);
}

static void
test_template(void)
{
    const char *tpl = "<p>{{ nom }}</p>{{{html}}}{{absent}}|{{n}}|{{b}}"
                      "|{{ pas une clé }}|{{x";
    json_t *vars = json_pack("{s:s, s:s, s:i, s:b}", "nom", "<Zoé & \"Léa\">",
                             "html", "<b>gras</b>", "n", 42, "b", 1);
    struct gu_buf b;

    gu_buf_init(&b);
    CHECK_EQ(web_template_render(tpl, strlen(tpl), vars, &b), 0);
    CHECK_STR(b.p, "<p>&lt;Zoé &amp; &quot;Léa&quot;&gt;</p><b>gras</b>|42|"
                   "true|{{ pas une clé }}|{{x");
    gu_buf_fini(&b);
    gu_buf_init(&b);
    CHECK_EQ(web_template_render("{{{a}}", 6, vars, &b), 0);
    CHECK_STR(b.p, "{{{a}}");
    gu_buf_fini(&b);
    /* Partials: the embedded pages/_agent-head.html, unknown ones empty. */
    gu_buf_init(&b);
    tpl = "[{{> agent-head}}|{{>inconnu}}|{{> ..}}]";
    CHECK_EQ(web_template_render(tpl, strlen(tpl), vars, &b), 0);
    CHECK(strncmp(b.p, "[<!doctype html>", 16) == 0);
    CHECK_CONTAINS(b.p, "lang=\"fr\"");
    CHECK(strstr(b.p, "||]") != NULL);
    gu_buf_fini(&b);
    json_decref(vars);
}

static void
test_openapi(void)
{
    json_t *doc = web_openapi(&ttable, 1);
    json_t *paths = json_object_get(doc, "paths");
    size_t documented = 0;

    CHECK(doc != NULL);
    CHECK_STR(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    for (size_t i = 0; i < ttable.count; i++) {
        const struct http_route *rt = &ttable.routes[i];
        char meth[16];
        size_t k = 0;
        json_t *op;
        if (strncmp(rt->pattern, "/api/", 5) != 0) {
            CHECK(json_object_get(paths, rt->pattern) == NULL);
            continue;
        }
        for (; rt->method[k] && k < 15; k++)
            meth[k] = (char)(rt->method[k] | 0x20);
        meth[k] = 0;
        op = json_object_get(json_object_get(paths, rt->pattern), meth);
        if (!op) {
            TH_FAIL("%s %s missing", rt->method, rt->pattern);
            continue;
        }
        documented++;
        CHECK_STR(json_string_value(json_object_get(op, "summary")),
                  rt->summary);
        CHECK(json_object_get(op, "responses") != NULL);
        CHECK(json_object_get(op, "security") != NULL);
        if (rt->body)
            CHECK(json_object_get(op, "requestBody") != NULL);
    }
    CHECK_EQ(documented, 5);
    {
        json_t *op = json_object_get(
            json_object_get(paths, "/api/v1/users/{id}"), "get");
        json_t *p0 = json_array_get(json_object_get(op, "parameters"), 0);
        CHECK_STR(json_string_value(json_object_get(p0, "name")), "id");
        CHECK_STR(json_string_value(json_object_get(p0, "in")), "path");
    }
    json_decref(doc);

    /* The built-in table is documented too. */
    doc = web_openapi(web_builtin_routes(), 1);
    paths = json_object_get(doc, "paths");
    CHECK(json_object_get(paths, "/healthz") != NULL);
    CHECK(json_object_get(paths, "/metrics") != NULL);
    CHECK(json_object_get(json_object_get(paths, "/api/v1/session"),
                          "delete") != NULL);
    CHECK(json_object_get(paths, "/static/*") == NULL);
    json_decref(doc);
}

/* One request over a socket; the status code or -1. */
static int
http_get(int family, int port, const char *path)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    char req[256], buf[512];
    int fd = socket(family, SOCK_STREAM, 0), status = -1;
    ssize_t n;

    if (fd < 0)
        return -1;
    memset(&a4, 0, sizeof(a4));
    memset(&a6, 0, sizeof(a6));
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)port);
    a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)port);
    a6.sin6_addr = in6addr_loopback;
    if ((family == AF_INET
             ? connect(fd, (struct sockaddr *)&a4, sizeof(a4))
             : connect(fd, (struct sockaddr *)&a6, sizeof(a6))) != 0)
        goto out;
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
        goto out;
    n = read(fd, buf, sizeof(buf) - 1);
    if (n > 12) {
        buf[n] = 0;
        status = (int)strtol(buf + 9, NULL, 10);
    }
out:
    close(fd);
    return status;
}

static void
test_server_lifecycle(void)
{
    static char *envp[] = {NULL};
    static const char *const ov[] = {"server.threads=2", "log.access=false",
                                     NULL};
    struct gu_config *cfg = NULL, *cfg2 = NULL;
    struct store *st = NULL;
    struct web_server *srv = NULL;
    const struct store_migration *m;
    struct gu_err err;
    size_t n;
    int port;

    gu_crypto_init();
    if (gu_config_load(NULL, envp, ov, &cfg, &err) != 0 ||
        store_open(th_store_url(), &st, &err) != 0) {
        TH_FAIL("setup: %s", err.msg);
        goto out;
    }
    m = store_core_migrations(&n);
    CHECK_EQ(store_migrate(st, &m, &n, 1, NULL, &err), 0);
    CHECK_EQ(web_server_new(cfg, "127.0.0.1:0", st, NULL, 0, &srv, &err), 0);
    if (!srv)
        goto out;
    CHECK_EQ(web_server_start(srv, &err), 0);
    port = web_server_port(srv);
    CHECK(port > 0);
    CHECK_EQ(http_get(AF_INET, port, "/healthz"), 200);
    CHECK_EQ(http_get(AF_INET, port, "/api/v1/rien"), 404);
    CHECK_EQ(http_get(AF_INET, port, "/static/../x"), 400);
    CHECK_EQ(gu_config_load(NULL, envp, ov, &cfg2, &err), 0);
    web_server_swap_config(srv, cfg2); /* the server owns cfg2 now */
    CHECK_EQ(http_get(AF_INET, port, "/healthz"), 200);
    web_server_free(srv, 1000);
    srv = NULL;

    /* IPv6 loopback, when the machine has one. */
    if (web_server_new(cfg, "[::1]:0", st, NULL, 0, &srv, &err) == 0 &&
        web_server_start(srv, &err) == 0) {
        CHECK(web_server_port(srv) > 0);
        CHECK_EQ(http_get(AF_INET6, web_server_port(srv), "/healthz"), 200);
    }
    web_server_free(srv, 1000);
    srv = NULL;

    CHECK_EQ(web_server_new(cfg, "pas-une-adresse", st, NULL, 0, &srv, &err),
             GU_ECONFIG);
    CHECK_STR(err.field, "server.listen");
out:
    web_server_free(srv, 0);
    store_close(st);
    gu_config_free(cfg);
}

static void
test_ip_allowed(void)
{
    const char *def = "127.0.0.1/8, ::1";
    CHECK(web_ip_allowed("127.0.0.1", def));
    CHECK(web_ip_allowed("127.3.4.5", def));
    CHECK(web_ip_allowed("::1", def));
    CHECK(!web_ip_allowed("10.0.0.1", def));
    CHECK(!web_ip_allowed("::2", def));
    CHECK(web_ip_allowed("10.0.0.200", "192.168.1.1 10.0.0.0/24"));
    CHECK(!web_ip_allowed("10.0.1.1", "10.0.0.0/24"));
    CHECK(web_ip_allowed("10.0.1.1", "10.0.0.0/23"));
    CHECK(web_ip_allowed("2001:db8::5", "2001:db8::/32"));
    CHECK(!web_ip_allowed("2001:db9::5", "2001:db8::/32"));
    CHECK(web_ip_allowed("203.0.113.9", "*"));
    CHECK(web_ip_allowed("0.0.0.0", "0.0.0.0/0"));
    /* Malformed entries and addresses match nothing. */
    CHECK(!web_ip_allowed("10.0.0.1", "10.0.0.0/33, bad, /8, 10.0.0.0/x"));
    CHECK(!web_ip_allowed("pas une ip", "*"));
    CHECK(!web_ip_allowed(NULL, "*"));
    CHECK(!web_ip_allowed("127.0.0.1", ""));
}

TESTS(T(test_ip_allowed), T(test_router_match), T(test_router_405),
      T(test_router_bad_patterns), T(test_builtin_routes_compile),
      T(test_target_parse), T(test_query_parse), T(test_cookie_parse),
      T(test_small_parsers), T(test_json_body), T(test_status_mapping),
      T(test_problem_json), T(test_request_accessors), T(test_response_headers),
      T(test_template), T(test_openapi), T(test_server_lifecycle))
