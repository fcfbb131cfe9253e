/*
 * web_router.c - route tables compiled once at server creation, matched
 * per request.
 *
 * A pattern is split into segments: literals, {captures} and a final "*"
 * that takes the rest of the path. The compiled list is sorted so that
 * the most specific route wins (literal before capture before rest,
 * position by position); a linear scan is then enough for the few
 * hundred routes we will ever have.
 */
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH",
                                      "DELETE"};

static bool
method_known(const char *m)
{
    for (size_t i = 0; i < GU_ARRAY_LEN(methods); i++) {
        if (m && strcmp(m, methods[i]) == 0)
            return true;
    }
    return false;
}

/* Segments of a pattern; 0 or GU_EINVAL. Strings point into `store`. */
static int
compile(const char *pat, char **store, struct web_seg *segs, size_t *nsegs)
{
    size_t n = 0, ncap = 0;
    const char *p = pat;

    if (!pat || pat[0] != '/')
        return GU_EINVAL;
    if (strcmp(pat, "/") == 0) {
        *nsegs = 0;
        return 0;
    }
    while (*p == '/') {
        const char *s = p + 1;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        struct web_seg *g;

        if (n >= WEB_MAX_SEGMENTS)
            return GU_EINVAL;
        g = &segs[n++];
        if (len == 1 && s[0] == '*') {
            if (e)
                return GU_EINVAL;
            g->kind = WEB_SEG_REST;
            g->s = "*";
            g->n = 1;
        } else if (len >= 1 && s[0] == '{') {
            if (len < 3 || s[len - 1] != '}' ||
                memchr(s + 1, '{', len - 2) || memchr(s + 1, '}', len - 2))
                return GU_EINVAL;
            if (++ncap > WEB_MAX_CAPTURES)
                return GU_EINVAL;
            g->kind = WEB_SEG_CAP;
            memcpy(*store, s + 1, len - 2);
            (*store)[len - 2] = 0;
            g->s = *store;
            g->n = len - 2;
            *store += len - 1;
        } else {
            /* Empty literal only allowed as a trailing slash ("/x/"). */
            if (memchr(s, '{', len) || memchr(s, '}', len) ||
                memchr(s, '*', len) || (len == 0 && e))
                return GU_EINVAL;
            g->kind = WEB_SEG_LIT;
            memcpy(*store, s, len);
            (*store)[len] = 0;
            g->s = *store;
            g->n = len;
            *store += len + 1;
        }
        if (!e)
            break;
        p = e;
    }
    *nsegs = n;
    return 0;
}

static int
cmp_route(const void *pa, const void *pb)
{
    const struct web_route *a = pa, *b = pb;
    size_t n = a->nsegs < b->nsegs ? a->nsegs : b->nsegs;

    for (size_t i = 0; i < n; i++) {
        if (a->segs[i].kind != b->segs[i].kind)
            return (int)a->segs[i].kind - (int)b->segs[i].kind;
    }
    if (a->nsegs != b->nsegs)
        return a->nsegs < b->nsegs ? -1 : 1;
    /* Stable: keep table order. */
    return a->index < b->index ? -1 : (a->index > b->index ? 1 : 0);
}

int
web_router_new(const struct http_routes *tables, size_t ntables,
               struct web_router **out, struct gu_err *err)
{
    struct web_router *r;
    size_t total = 0, bytes = 0, k = 0;
    char *store;
    int rc = 0;

    *out = NULL;
    for (size_t t = 0; t < ntables; t++) {
        total += tables[t].count;
        for (size_t i = 0; i < tables[t].count; i++) {
            const char *pat = tables[t].routes[i].pattern;
            bytes += (pat ? strlen(pat) : 0) + 2;
        }
    }
    r = gu_calloc(1, sizeof(*r));
    if (!r)
        return GU_ENOMEM;
    r->v = gu_calloc(total ? total : 1, sizeof(*r->v));
    r->strings = gu_malloc(bytes + 1);
    if (!r->v || !r->strings) {
        rc = GU_ENOMEM;
        goto out;
    }
    store = r->strings;
    for (size_t t = 0; t < ntables; t++) {
        for (size_t i = 0; i < tables[t].count; i++, k++) {
            const struct http_route *hr = &tables[t].routes[i];
            struct web_seg segs[WEB_MAX_SEGMENTS];
            struct web_route *w = &r->v[k];
            size_t nsegs = 0;

            if (!method_known(hr->method) || !hr->fn ||
                compile(hr->pattern, &store, segs, &nsegs) < 0) {
                rc = gu_err_set(err, GU_EINVAL, tables[t].module,
                                "Table de routes invalide.",
                                "bad route %s %s in module %s",
                                hr->method ? hr->method : "(null)",
                                hr->pattern ? hr->pattern : "(null)",
                                tables[t].module ? tables[t].module : "?");
                goto out;
            }
            w->route = hr;
            w->module = tables[t].module;
            w->index = k;
            w->nsegs = nsegs;
            w->segs = gu_calloc(nsegs ? nsegs : 1, sizeof(*w->segs));
            if (!w->segs) {
                rc = GU_ENOMEM;
                goto out;
            }
            memcpy(w->segs, segs, nsegs * sizeof(*segs));
            r->n++;
        }
    }
    qsort(r->v, r->n, sizeof(*r->v), cmp_route);
    for (size_t i = 0; i < r->n; i++)
        r->v[i].index = i;
out:
    if (rc < 0) {
        web_router_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void
web_router_free(struct web_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        gu_free(r->v[i].segs);
    gu_free(r->v);
    gu_free(r->strings);
    gu_free(r);
}

/* Does route w match the split path? Fills captures (views) on success. */
static bool
match_one(const struct web_route *w, const struct gu_str *ps, size_t np,
          struct gu_str *caps, size_t *ncaps)
{
    size_t nc = 0;

    for (size_t i = 0; i < w->nsegs; i++) {
        const struct web_seg *g = &w->segs[i];
        if (g->kind == WEB_SEG_REST) {
            if (i >= np)
                return false;
            caps[nc].p = ps[i].p;
            caps[nc].n = strlen(ps[i].p);
            *ncaps = nc + 1;
            return true;
        }
        if (i >= np)
            return false;
        if (g->kind == WEB_SEG_LIT) {
            if (ps[i].n != g->n || memcmp(ps[i].p, g->s, g->n) != 0)
                return false;
        } else {
            if (ps[i].n == 0)
                return false;
            caps[nc++] = ps[i];
        }
    }
    *ncaps = nc;
    return w->nsegs == np;
}

int
web_router_match(const struct web_router *r, struct gu_arena *a,
                 const char *method, const char *path, struct web_match *m)
{
    struct gu_str ps[WEB_MAX_SEGMENTS + 1];
    size_t np = 0;
    const char *p = path;
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    size_t alen = 0;

    memset(m, 0, sizeof(*m));
    if (!path || path[0] != '/')
        return GU_ENOTFOUND;
    /* "/" has no segment; "/a/b/" has three, the last one empty. */
    if (p[1] != 0) {
        while (*p == '/') {
            const char *s = p + 1;
            const char *e = strchr(s, '/');
            if (np > WEB_MAX_SEGMENTS)
                return GU_ENOTFOUND;
            ps[np].p = s;
            ps[np].n = e ? (size_t)(e - s) : strlen(s);
            np++;
            if (!e)
                break;
            p = e;
        }
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct web_route *w = &r->v[i];
        struct gu_str caps[WEB_MAX_CAPTURES + 1];
        size_t nc = 0;

        if (!match_one(w, ps, np, caps, &nc))
            continue;
        if (strcmp(w->route->method, want) != 0) {
            /* Remember the method for a 405's Allow header, once. */
            const char *meth = w->route->method;
            size_t ml = strlen(meth);
            bool seen = false;
            for (const char *q = m->allow; *q;) {
                if (strncmp(q, meth, ml) == 0 && (q[ml] == ',' || !q[ml]))
                    seen = true;
                q = strchr(q, ',');
                if (!q)
                    break;
                q += 2;
            }
            if (!seen && alen + ml + 3 < sizeof(m->allow)) {
                if (alen) {
                    memcpy(m->allow + alen, ", ", 2);
                    alen += 2;
                }
                memcpy(m->allow + alen, meth, ml + 1);
                alen += ml;
            }
            continue;
        }
        for (size_t c = 0, k = 0; c < w->nsegs && k < nc; c++) {
            if (w->segs[c].kind == WEB_SEG_LIT)
                continue;
            m->caps[k].k = w->segs[c].s;
            m->caps[k].v = gu_arena_strndup(a, caps[k].p, caps[k].n);
            if (!m->caps[k].v)
                return GU_ENOMEM;
            k++;
        }
        m->ncaps = nc;
        m->route = w;
        m->allow[0] = 0;
        return 0;
    }
    return GU_ENOTFOUND;
}
