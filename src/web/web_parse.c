/*
 * web_parse.c - the pure parsers of the HTTP layer: request target,
 * query strings and forms, cookies, request ids, content types, origins,
 * JSON bodies and HTML templates.
 *
 * They read outside input, so each one bounds what it reads, decodes
 * exactly once, refuses NUL and invalid UTF-8, and is fuzzed
 * (fuzz/fuzz_http.c, fuzz/fuzz_json.c). No socket, no global state.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "web/web_internal.h"

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decode s[0..n) into a fresh arena string. `plus` turns '+' into
 * a space (forms and query strings). Refuses bad escapes and NUL.
 */
static int
pct_decode(struct gu_arena *a, const char *s, size_t n, bool plus, char **out,
           size_t *outn)
{
    char *d = gu_arena_alloc(a, n + 1);
    size_t j = 0;

    if (!d)
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return GU_EINVAL;
            hi = hexval((unsigned char)s[i + 1]);
            lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return GU_EINVAL;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (c == 0)
            return GU_EINVAL;
        d[j++] = (char)c;
    }
    d[j] = 0;
    *out = d;
    *outn = j;
    return 0;
}

int
web_target_parse(struct gu_arena *a, const char *raw, size_t n,
                 const char **path, const char **query, struct gu_err *err)
{
    const char *q = memchr(raw, '?', n);
    size_t pn = q ? (size_t)(q - raw) : n;
    char *d;
    size_t dn;
    int rc;

    if (pn == 0 || raw[0] != '/')
        goto bad;
    /* A fragment is never sent by a browser; refuse it rather than guess. */
    if (memchr(raw, '#', n))
        goto bad;
    rc = pct_decode(a, raw, pn, false, &d, &dn);
    if (rc == GU_ENOMEM)
        return rc;
    if (rc < 0 || !gu_utf8_valid(d, dn))
        goto bad;
    for (size_t i = 0; i < dn; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            goto bad;
    }
    /* Segment checks: no "//", no "." or ".." (after decoding). */
    for (size_t i = 0; i < dn;) {
        size_t j = i + 1;
        while (j < dn && d[j] != '/')
            j++;
        size_t len = j - i - 1;
        const char *seg = d + i + 1;
        if (len == 0 && j < dn)
            goto bad;
        if ((len == 1 && seg[0] == '.') ||
            (len == 2 && seg[0] == '.' && seg[1] == '.'))
            goto bad;
        i = j;
    }
    *path = d;
    if (q) {
        char *qs = gu_arena_strndup(a, q + 1, n - pn - 1);
        if (!qs)
            return GU_ENOMEM;
        *query = qs;
    } else {
        *query = "";
    }
    return 0;
bad:
    return gu_err_set(err, GU_EINVAL, NULL, "Chemin de la requête invalide.",
                      "bad request target");
}

int
web_urlencoded_parse(struct gu_arena *a, const char *s, size_t n,
                     struct web_kv **out, size_t *count, struct gu_err *err)
{
    size_t cap = 1, k = 0;
    struct web_kv *kv;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '&')
            cap++;
    }
    if (cap > WEB_MAX_PARAMS)
        return gu_err_set(err, GU_ETOOBIG, NULL,
                          "Trop de paramètres dans la requête.",
                          "too many parameters (%zu)", cap);
    kv = gu_arena_alloc(a, cap * sizeof(*kv));
    if (!kv)
        return GU_ENOMEM;
    for (size_t i = 0; i <= n;) {
        const char *p = s + i;
        const char *amp = memchr(p, '&', n - i);
        size_t len = amp ? (size_t)(amp - p) : n - i;
        const char *eq = memchr(p, '=', len);
        size_t kn = eq ? (size_t)(eq - p) : len;
        char *dk, *dv;
        size_t dkn, dvn;
        int rc;

        i += len + 1;
        if (len == 0)
            continue;
        rc = pct_decode(a, p, kn, true, &dk, &dkn);
        if (rc == 0 && eq)
            rc = pct_decode(a, eq + 1, len - kn - 1, true, &dv, &dvn);
        else if (rc == 0) {
            dv = gu_arena_strdup(a, "");
            dvn = 0;
            rc = dv ? 0 : GU_ENOMEM;
        }
        if (rc == GU_ENOMEM)
            return rc;
        if (rc < 0 || !gu_utf8_valid(dk, dkn) || !gu_utf8_valid(dv, dvn))
            return gu_err_set(err, GU_EINVAL, NULL,
                              "Paramètres de la requête mal encodés.",
                              "bad urlencoded data");
        kv[k].k = dk;
        kv[k].v = dv;
        k++;
    }
    *out = kv;
    *count = k;
    return 0;
}

const char *
web_kv_get(const struct web_kv *kv, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kv[i].k, name) == 0)
            return kv[i].v;
    }
    return NULL;
}

const char *
web_kv_getcase(const struct web_kv *kv, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(kv[i].k, name) == 0)
            return kv[i].v;
    }
    return NULL;
}

static bool
is_cookie_space(char c)
{
    return c == ' ' || c == '\t';
}

const char *
web_cookie_find(struct gu_arena *a, const char *header, const char *name)
{
    size_t nl;
    const char *p = header;

    if (!header || !name)
        return NULL;
    nl = strlen(name);
    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq;

        while (len > 0 && is_cookie_space(*p)) {
            p++;
            len--;
        }
        eq = memchr(p, '=', len);
        if (eq) {
            size_t kn = (size_t)(eq - p);
            while (kn > 0 && is_cookie_space(p[kn - 1]))
                kn--;
            if (kn == nl && memcmp(p, name, nl) == 0) {
                const char *v = eq + 1;
                size_t vn = len - (size_t)(v - p);
                while (vn > 0 && is_cookie_space(*v)) {
                    v++;
                    vn--;
                }
                while (vn > 0 && is_cookie_space(v[vn - 1]))
                    vn--;
                if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
                    v++;
                    vn -= 2;
                }
                for (size_t i = 0; i < vn; i++) {
                    unsigned char c = (unsigned char)v[i];
                    if (c < 0x21 || c == 0x7f || c == '"' || c == ',' ||
                        c == '\\')
                        return NULL;
                }
                return gu_arena_strndup(a, v, vn);
            }
        }
        if (!end)
            break;
        p = end + 1;
    }
    return NULL;
}

bool
web_reqid_valid(const char *s)
{
    size_t n = 0;

    if (!s)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || n >= WEB_MAX_REQID)
            return false;
    }
    return n > 0;
}

void
web_ip_truncate(const char *ip, char *out, size_t cap)
{
    unsigned a, b, c, d;
    char tail;

    if (cap == 0)
        return;
    snprintf(out, cap, "-");
    if (!ip)
        return;
    if (sscanf(ip, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) == 4) {
        if (a < 256 && b < 256 && c < 256 && d < 256)
            snprintf(out, cap, "%u.%u.%u.0", a, b, c);
        return;
    }
    if (strchr(ip, ':')) {
        /* Keep the first three groups (a /48 when they are written). */
        size_t groups = 0, i = 0;
        char buf[64];
        for (; ip[i] && i < sizeof(buf) - 4; i++) {
            char ch = ip[i];
            bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                       (ch >= 'A' && ch <= 'F');
            if (ch == ':') {
                if (++groups == 3 || ip[i + 1] == ':')
                    break;
            } else if (!hex) {
                return;
            }
            buf[i] = ch;
        }
        buf[i] = 0;
        snprintf(out, cap, "%s::", buf);
    }
}

bool
web_ctype_is(const char *header, const char *mime)
{
    size_t n;

    if (!header)
        return false;
    while (*header == ' ' || *header == '\t')
        header++;
    n = strlen(mime);
    if (strncasecmp(header, mime, n) != 0)
        return false;
    header += n;
    while (*header == ' ' || *header == '\t')
        header++;
    return *header == 0 || *header == ';';
}

bool
web_origin_ok(const char *origin, const char *host, const char *public_url)
{
    const char *o;

    if (!origin)
        return true;
    if (public_url && *public_url) {
        size_t pn = strlen(public_url);
        while (pn > 0 && public_url[pn - 1] == '/')
            pn--;
        if (pn > 0 && strlen(origin) == pn &&
            strncasecmp(origin, public_url, pn) == 0)
            return true;
    }
    if (!host || !*host)
        return false;
    if (strncasecmp(origin, "http://", 7) == 0)
        o = origin + 7;
    else if (strncasecmp(origin, "https://", 8) == 0)
        o = origin + 8;
    else
        return false;
    return strcasecmp(o, host) == 0;
}

int
web_json_parse(const char *body, size_t n, const char *ctype, json_t **out,
               struct gu_err *err)
{
    json_error_t je;
    json_t *j;

    *out = NULL;
    if (ctype && !web_ctype_is(ctype, "application/json"))
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Le corps de la requête doit être du JSON "
                          "(Content-Type: application/json).",
                          "content type is not json");
    if (!body || n == 0)
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Le corps de la requête est vide.", "empty body");
    if (!gu_utf8_valid(body, n))
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Le corps de la requête n'est pas en UTF-8 valide.",
                          "invalid utf-8 in body");
    j = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        char user[128];
        snprintf(user, sizeof(user), "JSON invalide (ligne %d, colonne %d).",
                 je.line, je.column);
        return gu_err_set(err, GU_EINVAL, NULL, user, "bad json: %s", je.text);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Le corps de la requête doit être un objet JSON.",
                          "json body is not an object");
    }
    *out = j;
    return 0;
}

static bool
is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Text of a scalar JSON value into buf, or NULL for anything else. */
static const char *
scalar_text(json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, cap, "%g", json_real_value(v));
        return buf;
    }
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    return NULL;
}

/* Partials nest at most this deep (a partial including itself stops). */
#define PARTIAL_DEPTH 4

static int render(const char *tpl, size_t n, json_t *vars, struct gu_buf *out,
                  int depth);

/*
 * {{> name}}: the embedded template pages/_name.html, rendered with the
 * same variables. Unknown partials render empty, like unknown keys.
 */
static void
render_partial(const char *name, size_t n, json_t *vars, struct gu_buf *out,
               int depth)
{
    char path[160];
    const struct gu_asset *as;

    if (depth >= PARTIAL_DEPTH || n == 0 ||
        (size_t)snprintf(path, sizeof(path), "pages/_%.*s.html", (int)n,
                         name) >= sizeof(path))
        return;
    as = gu_asset_find(path);
    if (as)
        render((const char *)as->data, as->size, vars, out, depth + 1);
}

int
web_template_render(const char *tpl, size_t n, json_t *vars, struct gu_buf *out)
{
    return render(tpl, n, vars, out, 0);
}

static int
render(const char *tpl, size_t n, json_t *vars, struct gu_buf *out, int depth)
{
    size_t i = 0;

    while (i < n) {
        const char *open = NULL;
        for (size_t k = i; k + 1 < n; k++) {
            if (tpl[k] == '{' && tpl[k + 1] == '{') {
                open = tpl + k;
                break;
            }
        }
        if (!open) {
            gu_buf_append(out, tpl + i, n - i);
            break;
        }
        size_t at = (size_t)(open - tpl);
        bool raw = at + 2 < n && tpl[at + 2] == '{';
        size_t ks = at + (raw ? 3 : 2), ke, close;
        bool partial = false;
        gu_buf_append(out, tpl + i, at - i);
        while (ks < n && tpl[ks] == ' ')
            ks++;
        if (!raw && ks < n && tpl[ks] == '>') {
            partial = true;
            ks++;
            while (ks < n && tpl[ks] == ' ')
                ks++;
        }
        ke = ks;
        while (ke < n && is_key_char(tpl[ke]))
            ke++;
        close = ke;
        while (close < n && tpl[close] == ' ')
            close++;
        size_t cl = raw ? 3 : 2;
        if (ke == ks || close + cl > n || memcmp(tpl + close, "}}}", cl) != 0) {
            /* Not a tag: copy the braces and go on after them. */
            gu_buf_append(out, tpl + at, 2);
            i = at + 2;
            continue;
        }
        char key[128], num[64];
        size_t kn = ke - ks;
        if (partial) {
            render_partial(tpl + ks, kn, vars, out, depth);
        } else if (kn < sizeof(key)) {
            memcpy(key, tpl + ks, kn);
            key[kn] = 0;
            json_t *v = vars ? json_object_get(vars, key) : NULL;
            const char *s = v ? scalar_text(v, num, sizeof(num)) : NULL;
            if (s && raw)
                gu_buf_puts(out, s);
            else if (s)
                gu_buf_html(out, s, strlen(s));
        }
        i = close + cl;
    }
    return out->oom ? GU_ENOMEM : 0;
}

/* Parse an IPv4 or IPv6 address into 16 bytes (IPv4 mapped into
 * ::ffff:a.b.c.d) so both families compare with one prefix rule. */
static bool
ip_bytes(const char *s, unsigned char out[16], int *bits)
{
    struct in_addr v4;
    struct in6_addr v6;

    if (inet_pton(AF_INET, s, &v4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &v4, 4);
        *bits = 32;
        return true;
    }
    if (inet_pton(AF_INET6, s, &v6) == 1) {
        memcpy(out, &v6, 16);
        *bits = 128;
        return true;
    }
    return false;
}

static bool
entry_matches(const unsigned char ip[16], const char *entry)
{
    char addr[64];
    const char *slash = strchr(entry, '/');
    size_t n = slash ? (size_t)(slash - entry) : strlen(entry);
    unsigned char net[16];
    int bits, prefix;
    long v;

    if (n == 0 || n >= sizeof(addr))
        return false;
    memcpy(addr, entry, n);
    addr[n] = '\0';
    if (!ip_bytes(addr, net, &bits))
        return false;
    prefix = bits;
    if (slash) {
        if (gu_parse_long(slash + 1, 0, bits, &v) != 0)
            return false;
        prefix = (int)v;
    }
    prefix += 128 - bits; /* IPv4 prefixes count from the mapped part */
    for (int i = 0; i < 16 && prefix > 0; i++, prefix -= 8) {
        unsigned char mask =
            prefix >= 8 ? 0xff : (unsigned char)(0xff << (8 - prefix));
        if ((ip[i] & mask) != (net[i] & mask))
            return false;
    }
    return true;
}

bool
web_ip_allowed(const char *ip, const char *list)
{
    unsigned char a[16];
    int bits;
    char entry[80];

    if (!ip || !list || !ip_bytes(ip, a, &bits))
        return false;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ", \t");
        if (n > 0 && n < sizeof(entry)) {
            memcpy(entry, p, n);
            entry[n] = '\0';
            if (strcmp(entry, "*") == 0 || entry_matches(a, entry))
                return true;
        }
        p += n;
        p += strspn(p, ", \t");
    }
    return false;
}
