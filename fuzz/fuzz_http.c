/*
 * fuzz_http.c - libFuzzer target for web/'s request parsing: request
 * line, target normalisation, query string, headers, cookies, request id,
 * content type, origin, forwarded IP, urlencoded forms, templates, and
 * route matching against the real route tables (web, portal, admin).
 *
 * Input: an HTTP/1.1 request as bytes ("GET /a?b=c HTTP/1.1\r\nH: v\r\n
 * \r\nbody"). Invariants checked: a target that is accepted decodes to a
 * valid UTF-8 path starting with '/', with no "//", "." or ".." segment,
 * no NUL, no backslash; a static-file capture never climbs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "portal/portal.h"
#include "web/web.h"
#include "web/web_internal.h"

#define MAX_HEADERS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct web_router *
router(void)
{
    static struct web_router *r;
    struct http_routes t[3];
    struct gu_err err;

    if (r)
        return r;
    t[0] = *web_builtin_routes();
    t[1] = portal_routes;
    t[2] = admin_routes;
    if (web_router_new(t, 3, &r, &err) < 0)
        abort(); /* the real tables must compile */
    return r;
}

static void
check_path(const char *p)
{
    size_t n = strlen(p);

    if (p[0] != '/' || strstr(p, "//") || strstr(p, "/../") ||
        strstr(p, "/./") || strchr(p, '\\') || !gu_utf8_valid(p, n))
        abort();
    if ((n >= 3 && strcmp(p + n - 3, "/..") == 0) ||
        (n >= 2 && strcmp(p + n - 2, "/.") == 0))
        abort();
}

static void
one_request(struct gu_arena *a, const char *in, size_t n)
{
    const char *head_end = NULL, *body = "", *line_end, *sp1, *sp2;
    char method[16] = "GET";
    struct web_kv hdr[MAX_HEADERS];
    size_t nh = 0, body_n = 0;
    const char *path = NULL, *query = NULL;
    struct gu_err err;

    for (size_t i = 0; i + 3 < n; i++) {
        if (memcmp(in + i, "\r\n\r\n", 4) == 0) {
            head_end = in + i;
            body = in + i + 4;
            body_n = n - i - 4;
            break;
        }
    }
    if (!head_end)
        head_end = in + n;
    line_end = memchr(in, '\n', (size_t)(head_end - in));
    if (!line_end)
        line_end = head_end;
    sp1 = memchr(in, ' ', (size_t)(line_end - in));
    if (sp1 && (size_t)(sp1 - in) < sizeof(method)) {
        memcpy(method, in, (size_t)(sp1 - in));
        method[sp1 - in] = 0;
    }
    sp1 = sp1 ? sp1 + 1 : in;
    sp2 = memchr(sp1, ' ', (size_t)(line_end - sp1));
    if (!sp2)
        sp2 = line_end;

    /* Headers: "Name: value" lines, copied NUL-terminated. */
    for (const char *p = line_end < head_end ? line_end + 1 : head_end;
         p < head_end && nh < MAX_HEADERS;) {
        const char *e = memchr(p, '\n', (size_t)(head_end - p));
        const char *colon;
        size_t len = e ? (size_t)(e - p) : (size_t)(head_end - p);
        if (len && p[len - 1] == '\r')
            len--;
        colon = memchr(p, ':', len);
        if (colon) {
            const char *v = colon + 1;
            while (v < p + len && *v == ' ')
                v++;
            hdr[nh].k = gu_arena_strndup(a, p, (size_t)(colon - p));
            hdr[nh].v = gu_arena_strndup(a, v, (size_t)(p + len - v));
            if (!hdr[nh].k || !hdr[nh].v)
                return;
            nh++;
        }
        p = e ? e + 1 : head_end;
    }

    gu_err_clear(&err);
    if (web_target_parse(a, sp1, (size_t)(sp2 - sp1), &path, &query,
                         &err) == 0) {
        struct web_kv *qkv = NULL;
        size_t nq = 0;
        struct web_match m;
        check_path(path);
        if (web_urlencoded_parse(a, query, strlen(query), &qkv, &nq, &err) ==
            0) {
            for (size_t i = 0; i < nq; i++) {
                if (!gu_utf8_valid(qkv[i].k, strlen(qkv[i].k)) ||
                    !gu_utf8_valid(qkv[i].v, strlen(qkv[i].v)))
                    abort();
            }
        }
        if (web_router_match(router(), a, method, path, &m) == 0) {
            for (size_t i = 0; i < m.ncaps; i++) {
                if (strcmp(m.caps[i].k, "*") == 0 &&
                    (strstr(m.caps[i].v, "..") &&
                     (strcmp(m.caps[i].v, "..") == 0 ||
                      strncmp(m.caps[i].v, "../", 3) == 0 ||
                      strstr(m.caps[i].v, "/../"))))
                    abort();
            }
        }
    } else if (!err.user[0]) {
        abort(); /* every refusal explains itself */
    }

    /* What web/ reads from headers. */
    {
        struct http_req req;
        struct http_resp resp;
        struct web_reqdata d;
        const char *v;
        char ip[64];
        memset(&d, 0, sizeof(d));
        web_req_init(&req, &resp, a, &d);
        d.headers = hdr;
        d.nheaders = nh;
        d.body = gu_arena_strndup(a, body, body_n);
        d.body_n = d.body ? strlen(d.body) : 0;
        v = http_cookie(&req, WEB_SESSION_COOKIE);
        if (v && (strchr(v, ';') || strchr(v, ' ')))
            abort();
        web_reqid_valid(http_header(&req, "X-Request-Id"));
        web_ctype_is(http_header(&req, "Content-Type"), "application/json");
        web_origin_ok(http_header(&req, "Origin"), http_header(&req, "Host"),
                      "https://mairie.example");
        web_ip_truncate(http_header(&req, "X-Forwarded-For"), ip,
                        sizeof(ip));
        http_form(&req, "login");
        http_form(&req, "csrf");
        if (d.body) {
            struct gu_buf b;
            json_t *vars = json_pack("{s:s, s:i}", "nom", "<Zoé & Léa>",
                                     "n", 3);
            gu_buf_init(&b);
            web_template_render(d.body, d.body_n, vars, &b);
            gu_buf_fini(&b);
            json_decref(vars);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gu_arena *a;

    if (size > 65536)
        return 0;
    a = gu_arena_new(0);
    if (!a)
        return 0;
    one_request(a, (const char *)data, size);
    gu_arena_free(a);
    return 0;
}
