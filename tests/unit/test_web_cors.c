/*
 * test_web_cors.c - cross-origin access to the chat API (web_cors.c):
 * which paths, which origins, and the preflight answer.
 */
#include <string.h>

#include "harness.h"
#include "web/web_internal.h"

static void
test_cors_path(void)
{
    CHECK(web_cors_path("/api/v1/chat"));
    CHECK(web_cors_path("/api/v1/chat/feedback"));
    CHECK(web_cors_path("/api/v1/chat/handoff"));
    CHECK(web_cors_path("/api/v1/chat/k3J-x_9"));
    CHECK(!web_cors_path("/api/v1/chats"));
    CHECK(!web_cors_path("/api/v1/chatbot/x"));
    CHECK(!web_cors_path("/api/v1/session"));
    CHECK(!web_cors_path("/api/v1/communes/99001"));
    CHECK(!web_cors_path("/assistant"));
    CHECK(!web_cors_path("/API/v1/chat"));
    CHECK(!web_cors_path(""));
    CHECK(!web_cors_path(NULL));
}

static void
test_cors_origin_match(void)
{
    const char *list = "https://www.ma-commune.fr  http://localhost:8081,"
                       "https://mairie.example.org/";

    CHECK(web_cors_origin_allowed("https://www.ma-commune.fr", list));
    CHECK(web_cors_origin_allowed("http://localhost:8081", list));
    /* A trailing slash in the setting is forgiven. */
    CHECK(web_cors_origin_allowed("https://mairie.example.org", list));
    /* Scheme and host are case-insensitive. */
    CHECK(web_cors_origin_allowed("HTTPS://WWW.Ma-Commune.FR", list));
    /* The default port is the same origin. */
    CHECK(web_cors_origin_allowed("https://www.ma-commune.fr:443", list));
    CHECK(web_cors_origin_allowed("https://www.ma-commune.fr",
                                  "https://www.ma-commune.fr:443"));
    CHECK(web_cors_origin_allowed("http://a.fr", "http://a.fr:80"));

    /* Another scheme, port, host, or a look-alike: no. */
    CHECK(!web_cors_origin_allowed("http://www.ma-commune.fr", list));
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.fr:8443", list));
    CHECK(!web_cors_origin_allowed("http://localhost:8082", list));
    CHECK(!web_cors_origin_allowed("http://localhost", list));
    CHECK(!web_cors_origin_allowed("https://ma-commune.fr", list));
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.fr.evil.com", list));
    CHECK(!web_cors_origin_allowed("https://evil-www.ma-commune.fr", list));
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.f", list));
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.fr@evil.com", list));
    /* Never anything but a bare origin. */
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.fr/", list));
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.fr/x", list));
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.fr ", list));
    CHECK(!web_cors_origin_allowed("null", list));
    CHECK(!web_cors_origin_allowed("null", "null"));
    CHECK(!web_cors_origin_allowed("file://", "file://"));
    CHECK(!web_cors_origin_allowed("", list));
    CHECK(!web_cors_origin_allowed(NULL, list));
    CHECK(!web_cors_origin_allowed("https://", "https://"));
    CHECK(!web_cors_origin_allowed("https://:443", "https://:443"));
    /* "*" is not a wildcard here: the list names origins. */
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.fr", "*"));
    /* Empty setting: same origin only, nobody else. */
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.fr", ""));
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.fr", NULL));
    CHECK(!web_cors_origin_allowed("https://www.ma-commune.fr", " , "));
    /* A malformed entry matches nothing and spoils nothing else. */
    CHECK(web_cors_origin_allowed("https://b.fr",
                                  "https://a.fr/path ftp://x https://b.fr"));
    CHECK(!web_cors_origin_allowed("https://a.fr", "https://a.fr/path"));
}

struct fake {
    struct http_req req;
    struct http_resp resp;
    struct web_reqdata d;
    struct web_kv hdr[2];
};

static void
fake_init(struct fake *f, struct gu_arena *a, const char *path,
          const char *origin)
{
    memset(f, 0, sizeof(*f));
    web_req_init(&f->req, &f->resp, a, &f->d);
    f->req.method = "OPTIONS";
    f->req.path = path;
    f->req.request_id = "abcd";
    f->hdr[0].k = "Origin";
    f->hdr[0].v = origin;
    f->d.headers = f->hdr;
    f->d.nheaders = origin ? 1 : 0;
}

static void
test_cors_allow_origin(void)
{
    struct gu_arena *a = gu_arena_new(0);
    const char *list = "https://www.ma-commune.fr";
    struct fake f;

    fake_init(&f, a, "/api/v1/chat", "https://www.ma-commune.fr");
    CHECK_STR(web_cors_allow_origin(&f.req, list), "https://www.ma-commune.fr");
    CHECK(web_cors_allow_origin(&f.req, "") == NULL);
    fake_init(&f, a, "/api/v1/session", "https://www.ma-commune.fr");
    CHECK(web_cors_allow_origin(&f.req, list) == NULL);
    fake_init(&f, a, "/api/v1/chat", "https://autre.fr");
    CHECK(web_cors_allow_origin(&f.req, list) == NULL);
    fake_init(&f, a, "/api/v1/chat", NULL);
    CHECK(web_cors_allow_origin(&f.req, list) == NULL);
    CHECK(web_cors_allow_origin(NULL, list) == NULL);
    gu_arena_free(a);
}

static void
test_cors_preflight(void)
{
    struct gu_arena *a = gu_arena_new(0);
    const char *list = "https://www.ma-commune.fr";
    struct fake f;

    fake_init(&f, a, "/api/v1/chat", "https://www.ma-commune.fr");
    CHECK_EQ(web_cors_preflight(&f.req, &f.resp, "POST", list), 0);
    CHECK(f.resp.set);
    CHECK_EQ(f.resp.status, 204);
    CHECK_STR(web_resp_header(&f.resp, "Allow"), "POST, OPTIONS");
    CHECK_STR(web_resp_header(&f.resp, "Access-Control-Allow-Methods"),
              "POST, GET");
    CHECK_STR(web_resp_header(&f.resp, "Access-Control-Allow-Headers"),
              "Content-Type");
    CHECK(web_resp_header(&f.resp, "Access-Control-Max-Age") != NULL);
    /* Never credentials; the Allow-Origin comes with every response. */
    CHECK(web_resp_header(&f.resp, "Access-Control-Allow-Credentials") == NULL);

    fake_init(&f, a, "/api/v1/chat", "https://autre.fr");
    CHECK_EQ(web_cors_preflight(&f.req, &f.resp, "GET", list), 0);
    CHECK_EQ(f.resp.status, 204);
    CHECK_STR(web_resp_header(&f.resp, "Allow"), "GET, OPTIONS");
    CHECK(web_resp_header(&f.resp, "Access-Control-Allow-Methods") == NULL);
    CHECK(web_resp_header(&f.resp, "Access-Control-Allow-Headers") == NULL);
    gu_arena_free(a);
}

TESTS(T(test_cors_path), T(test_cors_origin_match), T(test_cors_allow_origin),
      T(test_cors_preflight))
