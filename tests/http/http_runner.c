/*
 * http_runner.c - the HTTP test suite against the real server.
 *
 * Starts the server in-process on 127.0.0.1:0 over a seeded in-memory
 * store (http_support.c), logs the seeded accounts in through the real
 * API, then:
 *  - runs the C tests below (OpenAPI <-> route tables sync, security
 *    headers, static assets with ETag/304 and gzip, keep-alive,
 *    pipelining, partial sends, audit of logins);
 *  - replays every case file given on the command line (or found in the
 *    directory given with -d): a data-driven request / expected-response
 *    format, described in tests/http/cases/README.
 * Each C test and each case counts as one test; the last line printed is
 * "N passed, N failed" and the exit status is non-zero on any failure.
 *
 * usage: http_runner [-d CASES_DIR] [FILE.http...] [-k FILTER]
 */
#include "harness.h"
#include "http_support.h"
#include "triage/tri.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct hs_server S;
static int n_passed, n_failed;

/* ------------------------------------------------------------------ */
/* Variables                                                           */
/* ------------------------------------------------------------------ */

struct var {
    char *name;
    char *value;
};

struct vars {
    struct var *v;
    size_t n, cap;
};

static struct vars globals;

static void
vars_set(struct vars *vs, const char *name, const char *value)
{
    for (size_t i = 0; i < vs->n; i++) {
        if (strcmp(vs->v[i].name, name) == 0) {
            gu_free(vs->v[i].value);
            vs->v[i].value = gu_strdup(value);
            return;
        }
    }
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 32;
        struct var *nv = gu_realloc(vs->v, cap * sizeof(*nv));
        if (!nv)
            return;
        vs->v = nv;
        vs->cap = cap;
    }
    vs->v[vs->n].name = gu_strdup(name);
    vs->v[vs->n].value = gu_strdup(value);
    vs->n++;
}

static const char *
vars_get(const struct vars *vs, const char *name, size_t n)
{
    for (size_t i = 0; i < vs->n; i++) {
        if (strlen(vs->v[i].name) == n && memcmp(vs->v[i].name, name, n) == 0)
            return vs->v[i].value;
    }
    return NULL;
}

static void
vars_fini(struct vars *vs)
{
    for (size_t i = 0; i < vs->n; i++) {
        gu_free(vs->v[i].name);
        gu_free(vs->v[i].value);
    }
    gu_free(vs->v);
    memset(vs, 0, sizeof(*vs));
}

static void
set_int(const char *name, int64_t v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%" PRId64, v);
    vars_set(&globals, name, buf);
}

/*
 * Replace {{name}} by its value (file-local first, then global) into a
 * new heap string. On an unknown name returns NULL and names it in
 * `missing`.
 */
static char *
expand(const struct vars *local, const char *s, size_t n, char *missing,
       size_t mcap)
{
    struct gu_buf b;
    size_t i = 0;

    gu_buf_init(&b);
    gu_buf_append(&b, "", 0);
    while (i < n) {
        const char *open = memmem(s + i, n - i, "{{", 2);
        const char *close;
        const char *val;
        size_t k;

        if (!open) {
            gu_buf_append(&b, s + i, n - i);
            break;
        }
        gu_buf_append(&b, s + i, (size_t)(open - (s + i)));
        close = memmem(open, n - (size_t)(open - s), "}}", 2);
        if (!close) {
            gu_buf_append(&b, open, n - (size_t)(open - s));
            break;
        }
        k = (size_t)(close - open - 2);
        val = vars_get(local, open + 2, k);
        if (!val)
            val = vars_get(&globals, open + 2, k);
        if (!val) {
            snprintf(missing, mcap, "%.*s", (int)k, open + 2);
            gu_buf_fini(&b);
            return NULL;
        }
        gu_buf_puts(&b, val);
        i = (size_t)(close + 2 - s);
    }
    if (b.oom) {
        gu_buf_fini(&b);
        return NULL;
    }
    return b.p;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int case_failures;
static const char *cur_file;
static int cur_line;
static bool quiet; /* an attempt that `retry:` will send again */

static void fail(const char *fmt, ...) GU_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;

    case_failures++;
    if (quiet)
        return;
    fprintf(stderr, "  %s:%d: ", cur_file, cur_line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *
skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static bool
starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Case-insensitive substring search. */
static bool
icontains(const char *hay, const char *needle)
{
    return strcasestr(hay, needle) != NULL;
}

/*
 * A JSON path: "." is the root, ".a.b[0].c" walks objects and arrays.
 * Keys are any characters up to '.', '[' or the end.
 */
static json_t *
jpath(json_t *root, const char *path)
{
    const char *p = path;
    json_t *j = root;

    if (*p != '.')
        return NULL;
    if (p[1] == '\0')
        return root;
    while (*p && j) {
        if (*p == '.') {
            char key[256];
            size_t k = strcspn(p + 1, ".[");
            if (k >= sizeof(key))
                return NULL;
            memcpy(key, p + 1, k);
            key[k] = '\0';
            j = json_object_get(j, key);
            p += 1 + k;
        } else if (*p == '[') {
            char *end;
            unsigned long idx = strtoul(p + 1, &end, 10);
            if (*end != ']')
                return NULL;
            j = json_array_get(j, idx);
            p = end + 1;
        } else {
            return NULL;
        }
    }
    return j;
}

/* A JSON literal, or the text itself as a JSON string. New reference. */
static json_t *
literal(const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);

    return j ? j : json_string(text);
}

static char *
compact(json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* ------------------------------------------------------------------ */
/* Case files                                                          */
/* ------------------------------------------------------------------ */

/* One case as read from the file; pointers into the file's text. */
struct kase {
    const char *title;
    size_t title_n;
    int line;         /* of the ### line */
    char *request;    /* request line + headers, "\n" separated */
    char *body;       /* may be "" */
    char **expect;    /* expectation lines */
    int *expect_line; /* their line numbers */
    size_t nexpect;
};

/* Does the raw header text have a header `name`? */
static bool
has_header(const char *headers, const char *name)
{
    size_t nl = strlen(name);
    const char *p = headers;

    while (p && *p) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':')
            return true;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return false;
}

/* Build the raw request bytes from the expanded request and body. */
static int
build_request(const char *req, const char *body, struct gu_buf *out, bool *head)
{
    const char *nl = strchr(req, '\n');
    const char *headers = nl ? nl + 1 : "";
    size_t rl = nl ? (size_t)(nl - req) : strlen(req);
    const char *p;

    *head = starts(req, "HEAD ");
    gu_buf_append(out, req, rl);
    gu_buf_puts(out, " HTTP/1.1\r\n");
    if (!has_header(headers, "Host"))
        gu_buf_printf(out, "Host: 127.0.0.1:%d\r\n", S.port);
    for (p = headers; *p;) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l > 0) {
            gu_buf_append(out, p, l);
            gu_buf_puts(out, "\r\n");
        }
        p += l + (e ? 1 : 0);
    }
    if (body[0] && !has_header(headers, "Content-Length") &&
        !has_header(headers, "Transfer-Encoding"))
        gu_buf_printf(out, "Content-Length: %zu\r\n", strlen(body));
    gu_buf_puts(out, "\r\n");
    gu_buf_puts(out, body);
    return out->oom ? -1 : 0;
}

/* Value of a header in the response, or NULL. Static buffer per call. */
static const char *
resp_header(const struct hs_resp *r, const char *name, char *buf, size_t cap)
{
    return hs_header(r, name, 0, buf, cap);
}

/* `status: 200` or `status: 400|404`. */
static void
expect_status(const struct hs_resp *r, const char *arg)
{
    const char *p = arg;

    while (*p) {
        size_t k = strcspn(p, "|");
        char one[16];
        long v;
        snprintf(one, sizeof(one), "%.*s", (int)k, p);
        if (gu_parse_long(skip_ws(one), 100, 599, &v) == 0 && v == r->status)
            return;
        p += k + (p[k] == '|');
    }
    fail("status %d, expected %s; body: %.300s", r->status, arg,
         r->body ? r->body : "");
}

/* Split "Name: text" into name (buf) and text. */
static const char *
split_header(const char *arg, char *name, size_t cap)
{
    const char *colon = strchr(arg, ':');
    size_t n = colon ? (size_t)(colon - arg) : strlen(arg);

    if (n >= cap)
        n = cap - 1;
    memcpy(name, arg, n);
    name[n] = '\0';
    while (n > 0 && name[n - 1] == ' ')
        name[--n] = '\0';
    return colon ? skip_ws(colon + 1) : "";
}

static void
expect_json(const struct hs_resp *r, json_t *body, const char *arg)
{
    char path[256];
    size_t k = strcspn(arg, " :");
    const char *rest;
    json_t *j;

    if (!body) {
        fail("body is not JSON: %.300s", r->body ? r->body : "");
        return;
    }
    if (k >= sizeof(path)) {
        fail("path too long");
        return;
    }
    memcpy(path, arg, k);
    path[k] = '\0';
    rest = skip_ws(arg + k);
    j = jpath(body, path);
    if (strcmp(rest, "exists") == 0) {
        if (!j)
            fail("json %s: absent in %.300s", path, r->body);
        return;
    }
    if (strcmp(rest, "absent") == 0) {
        if (j)
            fail("json %s: present in %.300s", path, r->body);
        return;
    }
    if (!j) {
        fail("json %s: absent in %.300s", path, r->body);
        return;
    }
    if (starts(rest, "contains:") || starts(rest, "icontains:")) {
        bool ci = rest[0] == 'i';
        const char *t = skip_ws(strchr(rest, ':') + 1);
        const char *s = json_string_value(j);
        if (!s || !(ci ? icontains(s, t) : strstr(s, t) != NULL))
            fail("json %s: \"%s\" does not contain \"%s\"", path,
                 s ? s : "(not a string)", t);
    } else if (starts(rest, "length:")) {
        long want;
        size_t have = json_is_array(j)    ? json_array_size(j)
                      : json_is_object(j) ? json_object_size(j)
                      : json_is_string(j) ? json_string_length(j)
                                          : (size_t)-1;
        if (gu_parse_long(skip_ws(rest + 7), 0, 1L << 30, &want) != 0)
            fail("bad length");
        else if (have != (size_t)want)
            fail("json %s: length %zu, expected %ld", path, have, want);
    } else if (starts(rest, "type:")) {
        static const char *const names[] = {"object",  "array", "string",
                                            "integer", "real",  "true",
                                            "false",   "null"};
        const char *t = skip_ws(rest + 5);
        const char *have = names[json_typeof(j)];
        bool ok = strcmp(t, have) == 0 ||
                  (strcmp(t, "number") == 0 && json_is_number(j)) ||
                  (strcmp(t, "boolean") == 0 && json_is_boolean(j));
        if (!ok)
            fail("json %s: type %s, expected %s", path, have, t);
    } else if (rest[0] == ':') {
        json_t *want = literal(skip_ws(rest + 1));
        if (!json_equal(j, want)) {
            char *h = compact(j);
            fail("json %s: %s, expected %s", path, h ? h : "?",
                 skip_ws(rest + 1));
            free(h);
        }
        json_decref(want);
    } else {
        fail("unknown json expectation \"%s\"", rest);
    }
}

static void
capture(struct vars *local, const struct hs_resp *r, json_t *body,
        const char *arg)
{
    char name[64];
    char buf[1024];
    size_t k = strcspn(arg, " =");
    const char *src;

    if (k == 0 || k >= sizeof(name)) {
        fail("bad capture");
        return;
    }
    memcpy(name, arg, k);
    name[k] = '\0';
    src = skip_ws(arg + k);
    if (*src != '=') {
        fail("capture: expected '='");
        return;
    }
    src = skip_ws(src + 1);
    if (starts(src, "json ")) {
        json_t *j = body ? jpath(body, skip_ws(src + 5)) : NULL;
        if (json_is_string(j)) {
            vars_set(local, name, json_string_value(j));
        } else if (j) {
            char *t = compact(j);
            vars_set(local, name, t ? t : "");
            free(t);
        } else {
            fail("capture %s: %s absent in %.300s", name, src,
                 r->body ? r->body : "");
        }
    } else if (starts(src, "header ")) {
        if (resp_header(r, skip_ws(src + 7), buf, sizeof(buf)))
            vars_set(local, name, buf);
        else
            fail("capture %s: no header %s", name, src + 7);
    } else if (strcmp(src, "cookie") == 0) {
        if (resp_header(r, "Set-Cookie", buf, sizeof(buf))) {
            buf[strcspn(buf, ";")] = '\0';
            vars_set(local, name, buf);
        } else {
            fail("capture %s: no Set-Cookie", name);
        }
    } else {
        fail("capture: unknown source \"%s\"", src);
    }
}

/* Check one expectation line (already expanded). */
static void
expect_one(struct vars *local, const struct hs_resp *r, json_t *body,
           char *compact_body, const char *e)
{
    char name[128];
    char buf[4096];
    const char *arg;

    if (starts(e, "status:")) {
        expect_status(r, skip_ws(e + 7));
    } else if (starts(e, "no header ")) {
        if (resp_header(r, skip_ws(e + 10), buf, sizeof(buf)))
            fail("unexpected header %s: %s", e + 10, buf);
    } else if (starts(e, "header-lacks ")) {
        arg = split_header(skip_ws(e + 13), name, sizeof(name));
        if (resp_header(r, name, buf, sizeof(buf)) && strstr(buf, arg))
            fail("header %s: \"%s\" contains \"%s\"", name, buf, arg);
    } else if (starts(e, "header ")) {
        arg = split_header(skip_ws(e + 7), name, sizeof(name));
        if (!resp_header(r, name, buf, sizeof(buf)))
            fail("no header %s", name);
        else if (!strstr(buf, arg))
            fail("header %s: \"%s\" lacks \"%s\"", name, buf, arg);
    } else if (starts(e, "body contains:")) {
        arg = skip_ws(e + 14);
        if (!r->body || !strstr(r->body, arg))
            fail("body lacks \"%s\": %.300s", arg, r->body ? r->body : "");
    } else if (starts(e, "body lacks:")) {
        arg = skip_ws(e + 11);
        if (r->body && strstr(r->body, arg))
            fail("body contains \"%s\"", arg);
    } else if (starts(e, "compact contains:")) {
        arg = skip_ws(e + 17);
        if (!compact_body || !strstr(compact_body, arg))
            fail("JSON lacks %s: %.400s", arg,
                 compact_body ? compact_body : "(not JSON)");
    } else if (starts(e, "compact lacks:")) {
        arg = skip_ws(e + 14);
        if (!compact_body)
            fail("body is not JSON");
        else if (strstr(compact_body, arg))
            fail("JSON contains %s: %.400s", arg, compact_body);
    } else if (starts(e, "json ")) {
        expect_json(r, body, skip_ws(e + 5));
    } else if (starts(e, "capture ")) {
        capture(local, r, body, skip_ws(e + 8));
    } else {
        fail("unknown expectation \"%s\"", e);
    }
}

/* Checks made on every response, whatever the case says. */
static void
expect_always(const struct hs_resp *r)
{
    char buf[256];

    if (!resp_header(r, "X-Request-Id", buf, sizeof(buf)) || !buf[0])
        fail("no X-Request-Id");
    if (!resp_header(r, "X-Content-Type-Options", buf, sizeof(buf)) ||
        strcmp(buf, "nosniff") != 0)
        fail("no X-Content-Type-Options: nosniff");
    if (r->status >= 400 && r->status != 405 &&
        resp_header(r, "Content-Type", buf, sizeof(buf)) &&
        starts(buf, "application/json"))
        fail("error %d as plain JSON, expected problem+json", r->status);
}

static void
run_once(struct vars *local, const struct kase *k)
{
    char missing[64] = "";
    char *req = NULL, *body = NULL, *cbody = NULL;
    struct gu_buf raw;
    struct hs_resp r;
    json_t *jbody = NULL;
    bool head = false;

    memset(&r, 0, sizeof(r));
    gu_buf_init(&raw);
    cur_line = k->line;
    req =
        expand(local, k->request, strlen(k->request), missing, sizeof(missing));
    body =
        req ? expand(local, k->body, strlen(k->body), missing, sizeof(missing))
            : NULL;
    if (!req || !body) {
        fail("unknown variable {{%s}}", missing);
        goto out;
    }
    if (build_request(req, body, &raw, &head) != 0 ||
        hs_request_raw(S.port, raw.p, raw.n, &r) != 0) {
        fail("no response to %s", req);
        goto out;
    }
    jbody = hs_json(&r);
    cbody = compact(jbody);
    expect_always(&r);
    for (size_t i = 0; i < k->nexpect; i++) {
        char *e;
        cur_line = k->expect_line[i];
        e = expand(local, k->expect[i], strlen(k->expect[i]), missing,
                   sizeof(missing));
        if (!e) {
            fail("unknown variable {{%s}}", missing);
            continue;
        }
        if (!starts(e, "retry:"))
            expect_one(local, &r, jbody, cbody, e);
        gu_free(e);
    }
out:
    free(cbody);
    json_decref(jbody);
    hs_resp_fini(&r);
    gu_buf_fini(&raw);
    gu_free(req);
    gu_free(body);
}

/*
 * `retry: N` among the expectations: the request is sent again, up to N
 * more times, until every expectation holds (a state reached in the
 * background: a sandbox being prepared, a job's result). Only the last
 * attempt's failures are printed.
 */
static void
run_case(struct vars *local, const struct kase *k)
{
    long retries = 0;
    int before = case_failures;

    for (size_t i = 0; i < k->nexpect; i++) {
        if (starts(k->expect[i], "retry:")) {
            char *end;
            retries = strtol(skip_ws(k->expect[i] + 6), &end, 10);
            if (*skip_ws(end) || retries < 0 || retries > 1000) {
                cur_line = k->expect_line[i];
                fail("retry: a count from 0 to 1000 expected");
                return;
            }
        }
    }
    for (long attempt = 0;; attempt++) {
        quiet = attempt < retries;
        run_once(local, k);
        quiet = false;
        if (case_failures == before || attempt >= retries)
            return;
        case_failures = before;
    }
}

static void
kase_fini(struct kase *k)
{
    gu_free(k->request);
    gu_free(k->body);
    for (size_t i = 0; i < k->nexpect; i++)
        gu_free(k->expect[i]);
    gu_free(k->expect);
    gu_free(k->expect_line);
    memset(k, 0, sizeof(*k));
}

static void
kase_expect_add(struct kase *k, const char *s, size_t n, int line)
{
    char **ne = gu_realloc(k->expect, (k->nexpect + 1) * sizeof(*ne));
    int *nl;

    if (!ne)
        return;
    k->expect = ne;
    nl = gu_realloc(k->expect_line, (k->nexpect + 1) * sizeof(*nl));
    if (!nl)
        return;
    k->expect_line = nl;
    k->expect[k->nexpect] = gu_strndup(s, n);
    k->expect_line[k->nexpect] = line;
    k->nexpect++;
}

static void
report_case(const char *file, const struct kase *k, const char *filter)
{
    (void)filter;
    if (case_failures) {
        n_failed++;
        fprintf(stderr, "FAIL %s: %.*s\n", file, (int)k->title_n, k->title);
    } else {
        n_passed++;
        fprintf(stderr, "ok   %s: %.*s\n", file, (int)k->title_n, k->title);
    }
}

static char *
slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    struct gu_buf b;
    char tmp[8192];
    size_t k;

    if (!f)
        return NULL;
    gu_buf_init(&b);
    gu_buf_append(&b, "", 0);
    while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
        gu_buf_append(&b, tmp, k);
    fclose(f);
    if (b.oom) {
        gu_buf_fini(&b);
        return NULL;
    }
    *n = b.n;
    return b.p;
}

enum part { P_NONE, P_REQLINE, P_HEADERS, P_BODY, P_EXPECT };

/*
 * Run every case of one file, in order, with file-local variables
 * (captures) that later cases of the same file can use.
 */
static void
run_file(const char *path, const char *filter)
{
    size_t n = 0;
    char *text = slurp(path, &n);
    struct vars local = {0};
    struct kase k;
    struct gu_buf req, body;
    enum part part = P_NONE;
    const char *p;
    int line = 0;
    const char *base = strrchr(path, '/');

    base = base ? base + 1 : path;
    cur_file = base;
    if (!text) {
        fprintf(stderr, "FAIL %s: cannot read\n", path);
        n_failed++;
        return;
    }
    memset(&k, 0, sizeof(k));
    gu_buf_init(&req);
    gu_buf_init(&body);
    for (p = text;;) {
        const char *eol = strchr(p, '\n');
        size_t l = eol ? (size_t)(eol - p) : strlen(p);
        bool end = !eol && l == 0;
        bool new_case = l >= 4 && memcmp(p, "### ", 4) == 0;

        line++;
        if (l > 0 && p[l - 1] == '\r')
            l--;
        if ((end || new_case) && part != P_NONE) {
            bool wanted;
            /* Strip trailing newlines of the body. */
            while (body.n > 0 && body.p[body.n - 1] == '\n')
                body.p[--body.n] = '\0';
            k.request = gu_strdup(req.p ? req.p : "");
            k.body = gu_strdup(body.p ? body.p : "");
            wanted = !filter ||
                     memmem(k.title, k.title_n, filter, strlen(filter)) ||
                     strstr(base, filter);
            if (wanted) {
                case_failures = 0;
                if (part != P_EXPECT) {
                    cur_line = k.line;
                    fail("case has no '--- expect' section");
                } else {
                    run_case(&local, &k);
                }
                report_case(base, &k, filter);
            }
            kase_fini(&k);
            gu_buf_fini(&req);
            gu_buf_fini(&body);
            gu_buf_init(&req);
            gu_buf_init(&body);
            part = P_NONE;
        }
        if (end)
            break;
        if (new_case) {
            k.title = p + 4;
            k.title_n = l - 4;
            k.line = line;
            part = P_REQLINE;
        } else if (part == P_REQLINE) {
            if (l > 0 && p[0] != '#') {
                gu_buf_append(&req, p, l);
                part = P_HEADERS;
            }
        } else if (part == P_HEADERS) {
            if (l == 0) {
                part = P_BODY;
            } else if (l == 10 && memcmp(p, "--- expect", 10) == 0) {
                part = P_EXPECT;
            } else {
                gu_buf_puts(&req, "\n");
                gu_buf_append(&req, p, l);
            }
        } else if (part == P_BODY) {
            if (l == 10 && memcmp(p, "--- expect", 10) == 0) {
                part = P_EXPECT;
            } else {
                gu_buf_append(&body, p, l);
                gu_buf_puts(&body, "\n");
            }
        } else if (part == P_EXPECT) {
            const char *s = skip_ws(p);
            size_t sl = l - (size_t)(s - p);
            if (sl > 0 && s[0] != '#')
                kase_expect_add(&k, s, sl, line);
        }
        if (!eol)
            p += l;
        else
            p = eol + 1;
    }
    kase_fini(&k);
    gu_buf_fini(&req);
    gu_buf_fini(&body);
    vars_fini(&local);
    gu_free(text);
}

/* ------------------------------------------------------------------ */
/* C tests                                                             */
/* ------------------------------------------------------------------ */

static int
get(const char *path, const char *headers, struct hs_resp *r)
{
    return hs_request(S.port, "GET", path, headers, NULL, 0, r);
}

/* Value of one CSP directive ("script-src ...;") into buf, or NULL. */
static const char *
csp_directive(const char *csp, const char *name, char *buf, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = csp;

    while (p && *p) {
        p = skip_ws(p);
        if (strncmp(p, name, nl) == 0 &&
            (p[nl] == ' ' || p[nl] == ';' || p[nl] == '\0')) {
            size_t l = strcspn(p, ";");
            snprintf(buf, cap, "%.*s", (int)l, p);
            return buf;
        }
        p = strchr(p, ';');
        if (p)
            p++;
    }
    return NULL;
}

static void
check_security_headers(const char *path)
{
    struct hs_resp r;
    char csp[1024], dir[512], buf[256];

    if (get(path, NULL, &r) != 0) {
        TH_FAIL("%s: no response", path);
        return;
    }
    if (!hs_header(&r, "Content-Security-Policy", 0, csp, sizeof(csp))) {
        TH_FAIL("%s: no Content-Security-Policy", path);
    } else {
        const char *src = csp_directive(csp, "script-src", dir, sizeof(dir));
        if (!src)
            src = csp_directive(csp, "default-src", dir, sizeof(dir));
        if (!src)
            TH_FAIL("%s: CSP has neither script-src nor default-src: %s", path,
                    csp);
        else if (strstr(src, "'unsafe-inline'") || strstr(src, "'unsafe-eval'"))
            TH_FAIL("%s: CSP allows inline/eval script: %s", path, src);
        if (!csp_directive(csp, "frame-ancestors", dir, sizeof(dir)))
            TH_FAIL("%s: CSP lacks frame-ancestors: %s", path, csp);
        else
            CHECK_CONTAINS(dir, "'self'");
    }
    if (!hs_header(&r, "X-Content-Type-Options", 0, buf, sizeof(buf)))
        TH_FAIL("%s: no X-Content-Type-Options", path);
    else
        CHECK_STR(buf, "nosniff");
    if (!hs_header(&r, "Referrer-Policy", 0, buf, sizeof(buf)))
        TH_FAIL("%s: no Referrer-Policy", path);
    if (!hs_header(&r, "X-Request-Id", 0, buf, sizeof(buf)) || !buf[0])
        TH_FAIL("%s: no X-Request-Id", path);
    hs_resp_fini(&r);
}

static void
test_security_headers(void)
{
    static const char *const paths[] = {"/",
                                        "/healthz",
                                        "/api/v1/communes/99001",
                                        "/api/v1/openapi.json",
                                        "/n-existe-pas",
                                        "/api/v1/n-existe-pas",
                                        "/agent"};

    for (size_t i = 0; i < GU_ARRAY_LEN(paths); i++)
        check_security_headers(paths[i]);
}

/* server.frame_ancestors reaches the CSP of a second server. */
static void
test_frame_ancestors_config(void)
{
    static const char *const ov[] = {
        "server.frame_ancestors='self' https://www.saint-exemple.fr", NULL};
    struct hs_server s2;
    struct hs_resp r;
    char csp[1024];

    if (hs_server_start(&s2, ov) != 0) {
        TH_FAIL("second server did not start");
        return;
    }
    if (hs_request(s2.port, "GET", "/", NULL, NULL, 0, &r) != 0) {
        TH_FAIL("no response");
    } else if (!hs_header(&r, "Content-Security-Policy", 0, csp, sizeof(csp))) {
        TH_FAIL("no CSP");
    } else {
        CHECK_CONTAINS(csp, "frame-ancestors 'self' "
                            "https://www.saint-exemple.fr");
    }
    hs_resp_fini(&r);
    hs_server_stop(&s2);
}

/*
 * server.metrics_from: a server that lets only 10.0.0.0/8 read /metrics
 * refuses a loopback client with a French problem; a trusted proxy's
 * X-Forwarded-For decides on a third server.
 */
static void
test_metrics_allowlist(void)
{
    static const char *const ov[] = {"server.metrics_from=10.0.0.0/8", NULL};
    static const char *const ov_proxy[] = {"server.metrics_from=10.0.0.0/8",
                                           "server.trust_proxy=true", NULL};
    struct hs_server s2;
    struct hs_resp r;

    if (hs_server_start(&s2, ov) != 0) {
        TH_FAIL("second server did not start");
        return;
    }
    if (hs_request(s2.port, "GET", "/metrics", NULL, NULL, 0, &r) != 0) {
        TH_FAIL("no response");
    } else {
        CHECK_EQ(r.status, 403);
        CHECK_CONTAINS(r.body, "server.metrics_from");
        CHECK(strstr(r.body, "guichet_http_requests_total") == NULL);
    }
    hs_resp_fini(&r);
    /* Without trust_proxy, a forged X-Forwarded-For changes nothing. */
    if (hs_request(s2.port, "GET", "/metrics", "X-Forwarded-For: 10.1.2.3",
                   NULL, 0, &r) == 0)
        CHECK_EQ(r.status, 403);
    hs_resp_fini(&r);
    hs_server_stop(&s2);

    if (hs_server_start(&s2, ov_proxy) != 0) {
        TH_FAIL("third server did not start");
        return;
    }
    if (hs_request(s2.port, "GET", "/metrics", "X-Forwarded-For: 10.1.2.3",
                   NULL, 0, &r) == 0) {
        CHECK_EQ(r.status, 200);
        CHECK_CONTAINS(r.body, "guichet_uptime_seconds");
    }
    hs_resp_fini(&r);
    if (hs_request(s2.port, "GET", "/metrics", "X-Forwarded-For: 203.0.113.7",
                   NULL, 0, &r) == 0)
        CHECK_EQ(r.status, 403);
    hs_resp_fini(&r);
    hs_server_stop(&s2);
}

/*
 * assistant.rate_per_minute: on a server of its own with a limit of 5,
 * a burst of chat messages gets 200s then a French 429 with Retry-After.
 * The window is a fixed minute, so a burst that straddles its end may
 * need up to 2 x limit + 1 messages: the test allows that, never more.
 * It chats with 99001 on a second database in this process: the main
 * server's 99001 assistant (21_chat.http) must not see that one's index.
 */
static void
test_chat_rate_limit(void)
{
    static const char *const ov[] = {"assistant.rate_per_minute=5", NULL};
    static const char body[] =
        "{\"commune\":\"99001\",\"message\":\"bonjour\"}";
    struct hs_server s2;
    struct hs_resp r;
    int ok = 0, limited = 0;
    char retry[32] = "";

    if (hs_server_start(&s2, ov) != 0) {
        TH_FAIL("rate-limit server did not start");
        return;
    }
    for (int i = 0; i < 11 && !limited; i++) {
        if (hs_request(s2.port, "POST", "/api/v1/chat",
                       "Content-Type: application/json", body, sizeof(body) - 1,
                       &r) != 0) {
            TH_FAIL("no response to message %d", i + 1);
            break;
        }
        if (r.status == 200) {
            ok++;
        } else {
            CHECK_EQ(r.status, 429);
            CHECK_CONTAINS(r.body, "Trop de demandes");
            CHECK(hs_header(&r, "Retry-After", 0, retry, sizeof(retry)) !=
                  NULL);
            limited = 1;
        }
        hs_resp_fini(&r);
    }
    CHECK(limited);
    CHECK(ok >= 5 && ok <= 10);
    /* Another commune's assistant is not limited by this one's count. */
    static const char other[] =
        "{\"commune\":\"99002\",\"message\":\"bonjour\"}";
    if (hs_request(s2.port, "POST", "/api/v1/chat",
                   "Content-Type: application/json", other, sizeof(other) - 1,
                   &r) == 0)
        CHECK_EQ(r.status, 200);
    hs_resp_fini(&r);
    hs_server_stop(&s2);
}

static void
test_request_ids_unique(void)
{
    struct hs_resp a, b;
    char ia[128] = "", ib[128] = "";

    CHECK_EQ(get("/healthz", NULL, &a), 0);
    CHECK_EQ(get("/healthz", NULL, &b), 0);
    CHECK(hs_header(&a, "X-Request-Id", 0, ia, sizeof(ia)) != NULL);
    CHECK(hs_header(&b, "X-Request-Id", 0, ib, sizeof(ib)) != NULL);
    CHECK(ia[0] && strcmp(ia, ib) != 0);
    hs_resp_fini(&a);
    hs_resp_fini(&b);
    /* A well-formed incoming id is echoed (for tracing across proxies). */
    CHECK_EQ(get("/healthz", "X-Request-Id: trace-abc-123", &a), 0);
    CHECK(hs_header(&a, "X-Request-Id", 0, ia, sizeof(ia)) != NULL);
    CHECK_STR(ia, "trace-abc-123");
    hs_resp_fini(&a);
    /* A malformed one is replaced, never echoed. */
    CHECK_EQ(get("/healthz", "X-Request-Id: <script>", &a), 0);
    CHECK(hs_header(&a, "X-Request-Id", 0, ia, sizeof(ia)) != NULL);
    CHECK(strstr(ia, "<") == NULL && ia[0]);
    hs_resp_fini(&a);
}

static bool
route_documented(json_t *paths, const struct http_route *rt, char *why,
                 size_t cap)
{
    char method[16];
    json_t *item = json_object_get(paths, rt->pattern);
    json_t *op;
    size_t i;

    for (i = 0; rt->method[i] && i + 1 < sizeof(method); i++)
        method[i] = (char)tolower((unsigned char)rt->method[i]);
    method[i] = '\0';
    if (!json_is_object(item)) {
        snprintf(why, cap, "path %s absent", rt->pattern);
        return false;
    }
    op = json_object_get(item, method);
    if (!json_is_object(op)) {
        snprintf(why, cap, "%s %s: method absent", rt->method, rt->pattern);
        return false;
    }
    if (!json_is_object(json_object_get(op, "responses"))) {
        snprintf(why, cap, "%s %s: no responses", rt->method, rt->pattern);
        return false;
    }
    if (rt->summary &&
        (!json_is_string(json_object_get(op, "summary")) ||
         strcmp(json_string_value(json_object_get(op, "summary")),
                rt->summary) != 0)) {
        snprintf(why, cap, "%s %s: summary differs", rt->method, rt->pattern);
        return false;
    }
    return true;
}

/*
 * The sync test: every /api/ route of every table the server got is in
 * the served document under the right method, with the same summary; and
 * nothing under the modules' API prefixes is documented that no table has.
 */
static void
test_openapi_sync(void)
{
    struct hs_resp r;
    json_t *doc, *paths, *item;
    const char *v, *p;
    char why[256];
    size_t nroutes = 0;

    if (get("/api/v1/openapi.json", NULL, &r) != 0) {
        TH_FAIL("no response");
        return;
    }
    CHECK_EQ(r.status, 200);
    doc = hs_json(&r);
    CHECK(json_is_object(doc));
    v = json_string_value(json_object_get(doc, "openapi"));
    CHECK(v && starts(v, "3.1."));
    CHECK(json_is_object(json_object_get(doc, "info")));
    paths = json_object_get(doc, "paths");
    CHECK(json_is_object(paths));
    for (size_t t = 0; t < S.ntables; t++) {
        for (size_t i = 0; i < S.tables[t].count; i++) {
            const struct http_route *rt = &S.tables[t].routes[i];
            if (!starts(rt->pattern, "/api/"))
                continue;
            nroutes++;
            if (!route_documented(paths, rt, why, sizeof(why)))
                TH_FAIL("%s: %s", S.tables[t].module, why);
        }
    }
    CHECK(nroutes >= 10);
    /* web's own API routes. */
    static const struct http_route own[] = {
        {"POST", "/api/v1/session", HTTP_PUBLIC, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/v1/session", HTTP_SESSION, NULL, NULL, NULL, NULL, NULL},
        {"PUT", "/api/v1/session", HTTP_SESSION, NULL, NULL, NULL, NULL, NULL},
        {"DELETE", "/api/v1/session", HTTP_SESSION, NULL, NULL, NULL, NULL,
         NULL},
    };
    for (size_t i = 0; i < GU_ARRAY_LEN(own); i++) {
        if (!route_documented(paths, &own[i], why, sizeof(why)))
            TH_FAIL("web: %s", why);
    }
    /* The other way round: no stale entry for a route that is gone. */
    json_object_foreach(paths, p, item)
    {
        const char *m;
        json_t *op;
        json_object_foreach(item, m, op)
        {
            bool found = false;
            (void)op;
            if (strcmp(m, "parameters") == 0 || strcmp(m, "summary") == 0 ||
                strcmp(m, "description") == 0)
                continue;
            for (size_t t = 0; t < S.ntables && !found; t++) {
                for (size_t i = 0; i < S.tables[t].count && !found; i++) {
                    const struct http_route *rt = &S.tables[t].routes[i];
                    found = strcmp(rt->pattern, p) == 0 &&
                            strcasecmp(rt->method, m) == 0;
                }
            }
            if (!found &&
                (starts(p, "/api/v1/agents") || starts(p, "/api/v1/tokens") ||
                 starts(p, "/api/v1/audit") || starts(p, "/api/v1/commune")))
                TH_FAIL("documented but not routed: %s %s", m, p);
        }
    }
    /* It is what web_openapi() builds from the same tables. */
    json_t *built = web_openapi(S.tables, S.ntables);
    CHECK(built != NULL);
    if (built) {
        json_t *bp = json_object_get(built, "paths");
        json_object_foreach(bp, p, item)
        {
            if (!json_object_get(paths, p))
                TH_FAIL("web_openapi has %s, the served document not", p);
        }
    }
    json_decref(built);
    json_decref(doc);
    hs_resp_fini(&r);
}

/* A compressible asset of at least 1 KiB, preferably CSS or JS. */
static const struct gu_asset *
pick_asset(bool big)
{
    size_t n = 0;
    const struct gu_asset *a = gu_assets(&n);
    const struct gu_asset *best = NULL;

    for (size_t i = 0; i < n; i++) {
        bool text = strstr(a[i].ctype, "css") || strstr(a[i].ctype, "java");
        if (!text)
            continue;
        if (!big || a[i].size >= 1024) {
            if (!best || a[i].size > best->size)
                best = &a[i];
        }
    }
    return best;
}

#define STATIC_PREFIX "/static/"

static void
test_static_etag_304(void)
{
    const struct gu_asset *a = pick_asset(false);
    char path[512], hdr[600], buf[256];
    struct hs_resp r;

    if (!a) {
        TH_FAIL("no CSS/JS asset embedded");
        return;
    }
    snprintf(path, sizeof(path), STATIC_PREFIX "%s", a->path);
    CHECK_EQ(get(path, NULL, &r), 0);
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.body_n, a->size);
    CHECK(r.body && memcmp(r.body, a->data, a->size) == 0);
    CHECK(hs_header(&r, "Content-Type", 0, buf, sizeof(buf)) != NULL);
    CHECK_STR(buf, a->ctype);
    CHECK(hs_header(&r, "ETag", 0, buf, sizeof(buf)) != NULL);
    CHECK_STR(buf, a->etag);
    CHECK(hs_header(&r, "Cache-Control", 0, buf, sizeof(buf)) != NULL);
    hs_resp_fini(&r);

    snprintf(hdr, sizeof(hdr), "If-None-Match: %s", a->etag);
    CHECK_EQ(get(path, hdr, &r), 0);
    CHECK_EQ(r.status, 304);
    CHECK_EQ(r.body_n, 0);
    CHECK(hs_header(&r, "ETag", 0, buf, sizeof(buf)) != NULL);
    hs_resp_fini(&r);

    /* A list containing the tag, and a stale tag. */
    snprintf(hdr, sizeof(hdr), "If-None-Match: \"autre\", %s", a->etag);
    CHECK_EQ(get(path, hdr, &r), 0);
    CHECK_EQ(r.status, 304);
    hs_resp_fini(&r);
    CHECK_EQ(get(path, "If-None-Match: \"perime\"", &r), 0);
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.body_n, a->size);
    hs_resp_fini(&r);

    /* HEAD: headers only. */
    {
        char raw[700];
        int n = snprintf(raw, sizeof(raw),
                         "HEAD %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
        CHECK_EQ(hs_request_raw(S.port, raw, (size_t)n, &r), 0);
        CHECK_EQ(r.status, 200);
        hs_resp_fini(&r);
    }

    CHECK_EQ(get(STATIC_PREFIX "n-existe-pas.css", NULL, &r), 0);
    CHECK_EQ(r.status, 404);
    hs_resp_fini(&r);
}

static void
test_gzip(void)
{
    const struct gu_asset *a = pick_asset(true);
    char path[512], buf[256];
    struct hs_resp r;
    char *plain = NULL;
    size_t plain_n = 0;

    if (!a) {
        TH_FAIL("no CSS/JS asset of 1 KiB or more");
        return;
    }
    snprintf(path, sizeof(path), STATIC_PREFIX "%s", a->path);
    CHECK_EQ(get(path, "Accept-Encoding: gzip, deflate, br", &r), 0);
    CHECK_EQ(r.status, 200);
    CHECK(hs_header(&r, "Content-Encoding", 0, buf, sizeof(buf)) != NULL);
    CHECK_STR(buf, "gzip");
    CHECK(hs_header(&r, "Vary", 0, buf, sizeof(buf)) != NULL);
    CHECK(icontains(buf, "Accept-Encoding"));
    CHECK(r.body_n < a->size);
    CHECK_EQ(hs_gunzip(r.body, r.body_n, &plain, &plain_n), 0);
    CHECK_EQ(plain_n, a->size);
    CHECK(plain && memcmp(plain, a->data, a->size) == 0);
    free(plain);
    hs_resp_fini(&r);

    /* Not asked, not compressed. */
    CHECK_EQ(get(path, NULL, &r), 0);
    CHECK(hs_header(&r, "Content-Encoding", 0, buf, sizeof(buf)) == NULL);
    CHECK_EQ(r.body_n, a->size);
    hs_resp_fini(&r);
    /* Refused explicitly. */
    CHECK_EQ(get(path, "Accept-Encoding: gzip;q=0, identity", &r), 0);
    CHECK(hs_header(&r, "Content-Encoding", 0, buf, sizeof(buf)) == NULL);
    hs_resp_fini(&r);
}

/* Several requests on one connection, then pipelined in one write. */
static void
test_keepalive_pipelining(void)
{
    struct hs_conn c;
    struct hs_resp r;
    char ids[3][128];
    char buf[64];
    const char one[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const char three[] =
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /api/v1/communes/99001 HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /api/v1/communes/12345 HTTP/1.1\r\nHost: x\r\n\r\n";

    if (hs_conn_open(&c, S.port, 10000) != 0) {
        TH_FAIL("connect");
        return;
    }
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(hs_conn_send(&c, one, sizeof(one) - 1), 0);
        CHECK_EQ(hs_conn_read(&c, false, &r), 0);
        CHECK_EQ(r.status, 200);
        CHECK(hs_header(&r, "Connection", 0, buf, sizeof(buf)) == NULL ||
              !icontains(buf, "close"));
        hs_resp_fini(&r);
    }
    CHECK_EQ(hs_conn_send(&c, three, sizeof(three) - 1), 0);
    for (int i = 0; i < 3; i++) {
        static const int want[] = {200, 200, 404};
        ids[i][0] = '\0';
        if (hs_conn_read(&c, false, &r) != 0) {
            TH_FAIL("pipelined response %d missing", i);
            break;
        }
        CHECK_EQ(r.status, want[i]);
        if (i == 1)
            CHECK_CONTAINS(r.body, "Saint-Exemple-sur-Loire");
        hs_header(&r, "X-Request-Id", 0, ids[i], sizeof(ids[i]));
        hs_resp_fini(&r);
    }
    CHECK(strcmp(ids[0], ids[1]) != 0 && strcmp(ids[1], ids[2]) != 0);
    /* Connection: close is honoured. */
    {
        const char bye[] =
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        CHECK_EQ(hs_conn_send(&c, bye, sizeof(bye) - 1), 0);
        CHECK_EQ(hs_conn_read(&c, false, &r), 0);
        CHECK_EQ(r.status, 200);
        hs_resp_fini(&r);
        CHECK(hs_conn_wait_closed(&c, 5000));
    }
    hs_conn_close(&c);
}

/* A request sent in small pieces, including a JSON body, still works. */
static void
test_partial_sends(void)
{
    struct hs_conn c;
    struct hs_resp r;
    char req[512];
    const char *body =
        "{\"login\":\"lecteur\",\"password\":\"" HS_PASSWORD "\"}";
    int n = snprintf(req, sizeof(req),
                     "POST /api/v1/session HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(body), body);

    if (hs_conn_open(&c, S.port, 10000) != 0) {
        TH_FAIL("connect");
        return;
    }
    for (int i = 0; i < n; i += 7) {
        size_t k = (size_t)(n - i < 7 ? n - i : 7);
        CHECK_EQ(hs_conn_send(&c, req + i, k), 0);
        hs_sleep_ms(2);
    }
    CHECK_EQ(hs_conn_read(&c, false, &r), 0);
    CHECK_EQ(r.status, 200);
    hs_resp_fini(&r);
    hs_conn_close(&c);
}

/*
 * Logins, their failures and the lockout leave audit entries (checked in
 * the database). Runs after the case files: 03_lockout.http locked
 * "verrou" out.
 */
static void
test_login_audit(void)
{
    struct hs_resp r;
    const char *bad = "{\"login\":\"agent\",\"password\":\"pas-le-bon\"}";
    long before = hs_count(&S, "audit WHERE action LIKE 'login%'");
    long fails = hs_count(&S, "audit WHERE action = 'login.fail'");
    /* A failure is written once per commune of the account: "agent" may
     * have gained one in a case file (a training sandbox). */
    long communes = hs_count(&S, "agent_communes WHERE agent_id = (SELECT id"
                                 " FROM agents WHERE login = 'agent')");

    CHECK(before > 0); /* the start-up logins */
    CHECK(hs_count(&S, "audit WHERE action = 'login.ok'") >= 5);
    CHECK_EQ(hs_request(S.port, "POST", "/api/v1/session",
                        "Content-Type: application/json", bad, strlen(bad), &r),
             0);
    CHECK_EQ(r.status, 401);
    hs_resp_fini(&r);
    CHECK(communes >= 1);
    CHECK_EQ(hs_count(&S, "audit WHERE action = 'login.fail'"),
             fails + communes);
    CHECK_EQ(hs_count(&S, "audit WHERE action LIKE 'login%'"),
             before + communes);
    /* The lockout of 03_lockout.http, in the account's commune, where
     * its admins read the journal. */
    CHECK(hs_count(&S, "audit WHERE action = 'login.fail' AND "
                       "target = 'verrou' AND insee = '99001'") >= 2);
    CHECK(hs_count(&S, "audit WHERE action = 'login.locked' AND "
                       "target = 'verrou' AND insee = '99001'") >= 1);
    /* An account of two communes: the failure is seen in both. */
    const char *bad2 = "{\"login\":\"multi\",\"password\":\"pas-le-bon\"}";
    CHECK_EQ(hs_request(S.port, "POST", "/api/v1/session",
                        "Content-Type: application/json", bad2, strlen(bad2),
                        &r),
             0);
    CHECK_EQ(r.status, 401);
    hs_resp_fini(&r);
    CHECK_EQ(hs_count(&S, "audit WHERE action = 'login.fail' AND "
                          "target = 'multi' AND insee IN ('99001', '99002')"),
             2);
    /* An unknown login has no commune: instance-wide. */
    const char *bad3 = "{\"login\":\"inconnu\",\"password\":\"x\"}";
    CHECK_EQ(hs_request(S.port, "POST", "/api/v1/session",
                        "Content-Type: application/json", bad3, strlen(bad3),
                        &r),
             0);
    CHECK_EQ(r.status, 401);
    hs_resp_fini(&r);
    CHECK_EQ(hs_count(&S, "audit WHERE action = 'login.fail' AND "
                          "target = 'inconnu' AND insee = ''"),
             1);
    /* No password ever reaches the audit log. */
    CHECK_EQ(hs_count(&S, "audit WHERE detail LIKE '%faux-1%' OR "
                          "detail LIKE '%" HS_PASSWORD "%'"),
             0);
}

/* /metrics reflects the requests made so far, by route. */
static void
test_metrics(void)
{
    struct hs_resp r;

    CHECK_EQ(get("/metrics", NULL, &r), 0);
    CHECK_EQ(r.status, 200);
    CHECK_CONTAINS(r.body, "# TYPE guichet_http_requests_total counter");
    CHECK_CONTAINS(r.body, "guichet_http_requests_total{");
    CHECK_CONTAINS(r.body, "route=\"/healthz\"");
    CHECK_CONTAINS(r.body, "route=\"/api/v1/communes/{insee}\"");
    CHECK_CONTAINS(r.body, "status=\"404\"");
    CHECK_CONTAINS(r.body, "guichet_uptime_seconds ");
    CHECK_CONTAINS(r.body, "_bucket{");
    /* Raw paths never become labels (unbounded cardinality). */
    CHECK(strstr(r.body, "/api/v1/communes/12345") == NULL);
    hs_resp_fini(&r);
}

struct ctest {
    const char *name;
    void (*fn)(void);
};

/*
 * The public booking limit (rdv.rate_book_ip) counts every POST of an
 * address, valid or not, and answers 429 in French with Retry-After once
 * it is reached; the resident's link routes have their own counter
 * (rdv.rate_manage_ip), and reads are not limited.
 */
static void
test_rdv_rate_limit(void)
{
    static const char *const ov[] = {"rdv.rate_book_ip=2",
                                     "rdv.rate_manage_ip=1", NULL};
    static const char body[] = "{\"c\":\"99001\",\"motif\":\"inconnu\","
                               "\"place\":1,\"start\":\"2030-01-07T09:00\","
                               "\"name\":\"X\",\"email\":\"x@exemple.fr\","
                               "\"consent\":true}";
    static const char tok[] = "/api/v1/rdv/manage/"
                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/cancel";
    struct hs_server s2;
    struct hs_resp r;
    char retry[32] = "";

    if (hs_server_start(&s2, ov) != 0) {
        TH_FAIL("rdv rate-limit server did not start");
        return;
    }
    for (int i = 0; i < 3; i++) {
        if (hs_request(s2.port, "POST", "/api/v1/rdv/bookings",
                       "Content-Type: application/json", body, sizeof(body) - 1,
                       &r) != 0) {
            TH_FAIL("no response to booking %d", i + 1);
            break;
        }
        if (i < 2) {
            CHECK_EQ(r.status, 422);
        } else {
            CHECK_EQ(r.status, 429);
            CHECK_CONTAINS(r.body, "Trop de demandes");
            CHECK(hs_header(&r, "Retry-After", 0, retry, sizeof(retry)) !=
                  NULL);
        }
        hs_resp_fini(&r);
    }
    /* Searching is still served. */
    if (hs_request(s2.port, "GET", "/api/v1/rdv/motifs?c=99001", NULL, NULL, 0,
                   &r) == 0)
        CHECK_EQ(r.status, 200);
    hs_resp_fini(&r);
    /* The link routes count apart: one answer (404), then 429. */
    if (hs_request(s2.port, "POST", tok, NULL, NULL, 0, &r) == 0) {
        CHECK_EQ(r.status, 404);
        hs_resp_fini(&r);
    }
    if (hs_request(s2.port, "POST", tok, NULL, NULL, 0, &r) == 0) {
        CHECK_EQ(r.status, 429);
        hs_resp_fini(&r);
    }
    hs_server_stop(&s2);
}

/* POST/PUT JSON with a Bearer token on `port`; the reply's "id" (or 0). */
static int64_t
rdv_post(int port, const char *token, const char *path, const char *body)
{
    char hdr[256];
    struct hs_resp r;
    json_t *j;
    int64_t id = 0;

    snprintf(hdr, sizeof(hdr),
             "Authorization: Bearer %s\r\nContent-Type: application/json",
             token);
    if (hs_request(port, "POST", path, hdr, body, strlen(body), &r) != 0)
        return 0;
    j = hs_json(&r);
    if (r.status == 201 && j)
        id = (int64_t)json_integer_value(json_object_get(j, "id"));
    else
        TH_FAIL("POST %s: %d %s", path, r.status, r.body);
    json_decref(j);
    hs_resp_fini(&r);
    return id;
}

/*
 * The ANTS coordination API not answering (nothing listens on its port)
 * refuses a CNI booking with a 503 in French, without `champ` and without
 * a token: fail closed. The same booking on a motif without ANTS goes
 * through.
 */
static void
test_rdv_ants_down(void)
{
    static const char *const ov[] = {"ants.url=http://127.0.0.1:9/api",
                                     "ants.token=essai",
                                     "ants.timeout_ms=500", NULL};
    struct hs_server s2;
    struct hs_resp r;
    char body[512], path[160], start[40] = "";
    int64_t place, counter, motif;
    json_t *j;

    if (hs_server_start(&s2, ov) != 0) {
        TH_FAIL("ANTS server did not start");
        return;
    }
    place = rdv_post(s2.port, s2.seed.token_99001, "/api/v1/rdv/places",
                     "{\"name\":\"Mairie ANTS\"}");
    snprintf(body, sizeof(body), "{\"place_id\":%lld,\"name\":\"Station\"}",
             (long long)place);
    counter = rdv_post(s2.port, s2.seed.token_99001, "/api/v1/rdv/counters",
                       body);
    motif = rdv_post(s2.port, s2.seed.token_99001, "/api/v1/rdv/motifs",
                     "{\"code\":\"cni\",\"name\":\"CNI\","
                     "\"duration_min\":20,\"min_delay_h\":0,"
                     "\"ants_reason\":\"CNI\"}");
    for (int wd = 1; wd <= 7 && counter; wd++) {
        snprintf(body, sizeof(body),
                 "{\"counter_id\":%lld,\"weekday\":%d,\"start\":\"08:00\","
                 "\"end\":\"18:00\"}",
                 (long long)counter, wd);
        rdv_post(s2.port, s2.seed.token_99001, "/api/v1/rdv/ranges", body);
    }
    snprintf(path, sizeof(path),
             "/api/v1/rdv/slots?c=99001&motif=%lld&limit=1", (long long)motif);
    if (hs_request(s2.port, "GET", path, NULL, NULL, 0, &r) == 0) {
        j = hs_json(&r);
        const char *st = json_string_value(json_object_get(
            json_array_get(json_object_get(j, "slots"), 0), "start"));
        if (st)
            snprintf(start, sizeof(start), "%s", st);
        json_decref(j);
        hs_resp_fini(&r);
    }
    CHECK(start[0] != '\0');
    snprintf(body, sizeof(body),
             "{\"c\":\"99001\",\"motif\":\"cni\",\"place\":%lld,"
             "\"start\":\"%s\",\"name\":\"Marie Dupont\","
             "\"email\":\"marie@exemple.fr\",\"ants_ids\":[\"AB12CD34EF\"],"
             "\"consent\":true}",
             (long long)place, start);
    if (hs_request(s2.port, "POST", "/api/v1/rdv/bookings",
                   "Content-Type: application/json", body, strlen(body),
                   &r) == 0) {
        CHECK_EQ(r.status, 503);
        CHECK_CONTAINS(r.head, "application/problem+json");
        CHECK_CONTAINS(r.body, "ANTS");
        CHECK(strstr(r.body, "\"token\"") == NULL);
        CHECK(strstr(r.body, "\"champ\"") == NULL);
        hs_resp_fini(&r);
    } else
        TH_FAIL("no answer to the booking");
    CHECK_EQ(hs_count(&s2, "rdv_bookings"), 0);
    hs_server_stop(&s2);
}

static const struct ctest ctests[] = {
    {"test_openapi_sync", test_openapi_sync},
    {"test_security_headers", test_security_headers},
    {"test_frame_ancestors_config", test_frame_ancestors_config},
    {"test_metrics_allowlist", test_metrics_allowlist},
    {"test_chat_rate_limit", test_chat_rate_limit},
    {"test_rdv_rate_limit", test_rdv_rate_limit},
    {"test_rdv_ants_down", test_rdv_ants_down},
    {"test_request_ids_unique", test_request_ids_unique},
    {"test_static_etag_304", test_static_etag_304},
    {"test_gzip", test_gzip},
    {"test_keepalive_pipelining", test_keepalive_pipelining},
    {"test_partial_sends", test_partial_sends},
};

/* After the case files: they see what the cases did. */
static const struct ctest late[] = {
    {"test_login_audit", test_login_audit},
    {"test_metrics", test_metrics},
};

static void
run_ctests(const struct ctest *t, size_t n, const char *filter)
{
    for (size_t i = 0; i < n; i++) {
        if (filter && !strstr(t[i].name, filter))
            continue;
        th_failures_in_test = 0;
        t[i].fn();
        if (th_failures_in_test) {
            n_failed++;
            fprintf(stderr, "FAIL %s\n", t[i].name);
        } else {
            n_passed++;
            fprintf(stderr, "ok   %s\n", t[i].name);
        }
    }
}

/*
 * Train the triage models once, before any request: a commune's first
 * request trains them (memoised for the process), which on a loaded
 * machine under the sanitizers outlasts the client's 10 s timeout.
 */
static void
warm_triage(void)
{
    struct store_conn *c = NULL;
    struct tri_model_ref *ref = NULL;
    struct gu_err err;

    gu_err_clear(&err);
    if (store_acquire(S.store, &c, &err) == 0 &&
        tri_services_seed(c, "99001", &err) == 0 &&
        tri_model_get(S.store, c, "99001", &ref, &err) == 0)
        tri_model_put(ref);
    else
        fprintf(stderr, "warning: triage warm-up: %s\n", err.msg);
    store_release(c);
}

/* Log the seeded accounts in and fill the global variables. */
static int
setup_globals(void)
{
    static const char *const who[] = {"admin", "agent", "lecteur", "multi",
                                      "admin2"};
    char name[64], buf[128];
    char *cookie, *csrf;

    for (size_t i = 0; i < GU_ARRAY_LEN(who); i++) {
        if (hs_login(S.port, who[i], HS_PASSWORD, &cookie, &csrf) != 0)
            return -1;
        snprintf(name, sizeof(name), "%s_cookie", who[i]);
        vars_set(&globals, name, cookie);
        snprintf(name, sizeof(name), "%s_csrf", who[i]);
        vars_set(&globals, name, csrf);
        if (i == 0) {
            /* The expired session, under the same cookie name. */
            size_t k = strcspn(cookie, "=");
            snprintf(buf, sizeof(buf), "%.*s", (int)k, cookie);
            vars_set(&globals, "cookie_name", buf);
            snprintf(buf, sizeof(buf), "%.*s=%s", (int)k, cookie,
                     S.seed.expired_session);
            vars_set(&globals, "expired_cookie", buf);
        }
        gu_free(cookie);
        gu_free(csrf);
    }
    vars_set(&globals, "password", HS_PASSWORD);
    vars_set(&globals, "token_99001", S.seed.token_99001);
    vars_set(&globals, "token_lecteur", S.seed.token_lecteur);
    vars_set(&globals, "token_99002", S.seed.token_99002);
    vars_set(&globals, "token_revoked", S.seed.token_revoked);
    set_int("admin_id", S.seed.admin_id);
    set_int("agent_id", S.seed.agent_id);
    set_int("lecteur_id", S.seed.lecteur_id);
    set_int("multi_id", S.seed.multi_id);
    set_int("verrou_id", S.seed.verrou_id);
    set_int("admin2_id", S.seed.admin2_id);
    set_int("agent2_id", S.seed.agent2_id);
    set_int("token_99001_id", S.seed.token_99001_id);
    set_int("token_99002_id", S.seed.token_99002_id);
    {
        /* The test communes' tomorrow (civil day in Paris), for cases
           that must not depend on the time of day they run at. */
        int64_t day;
        int min, y, m, d;
        char day_iso[16];

        gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &min);
        gu_day_to_ymd(day + 1, &y, &m, &d);
        snprintf(day_iso, sizeof(day_iso), "%04d-%02d-%02d", y, m, d);
        vars_set(&globals, "tomorrow", day_iso);
    }
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.http file of dir, sorted, run in order. */
static void
run_dir(const char *dir, const char *filter)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;

    if (!d) {
        fprintf(stderr, "FAIL cannot open %s\n", dir);
        n_failed++;
        return;
    }
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        char **nn;
        if (l < 6 || strcmp(e->d_name + l - 5, ".http") != 0)
            continue;
        nn = gu_realloc(names, (n + 1) * sizeof(*nn));
        if (!nn)
            break;
        names = nn;
        {
            struct gu_buf b;
            gu_buf_init(&b);
            gu_buf_printf(&b, "%s/%s", dir, e->d_name);
            names[n++] = b.p;
        }
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "FAIL no .http file in %s\n", dir);
        n_failed++;
    }
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        run_file(names[i], filter);
        gu_free(names[i]);
    }
    gu_free(names);
}

int
main(int argc, char **argv)
{
    const char *dir = NULL, *filter = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "-k") == 0 && i + 1 < argc)
            filter = argv[++i];
    }
    if (hs_server_start(&S, NULL) != 0 || setup_globals() != 0) {
        fprintf(stderr, "FAIL server set-up\n");
        printf("0 passed, 1 failed\n");
        hs_server_stop(&S);
        vars_fini(&globals);
        return 1;
    }
    warm_triage();
    fprintf(stderr, "server on 127.0.0.1:%d\n", S.port);
    run_ctests(ctests, GU_ARRAY_LEN(ctests), filter);
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "-k") == 0) &&
            i + 1 < argc) {
            i++;
            continue;
        }
        run_file(argv[i], filter);
    }
    if (dir)
        run_dir(dir, filter);
    run_ctests(late, GU_ARRAY_LEN(late), filter);
    hs_server_stop(&S);
    vars_fini(&globals);
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
