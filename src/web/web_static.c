/*
 * web_static.c - GET /static/(path) from the assets embedded at build time
 * (tools/embed.c), with ETag/If-None-Match and a gzip copy made once per
 * asset and kept for the server's life.
 *
 * There is no filesystem access at all: a path either names an embedded
 * asset or gets a 404, so traversal cannot reach anything else.
 * Templates (pages/...) are not served raw.
 */
#include <pthread.h>
#include <string.h>
#include <zlib.h>

#include "web/web_internal.h"

#define GZIP_MIN 1024

struct web_gz {
    unsigned char *data; /* NULL when compression does not pay */
    size_t n;
    bool done;
};

static bool
compressible(const char *ctype)
{
    return strncmp(ctype, "text/", 5) == 0 ||
           strncmp(ctype, "image/svg", 9) == 0 ||
           strncmp(ctype, "application/json", 16) == 0 ||
           strncmp(ctype, "application/manifest", 20) == 0 ||
           strstr(ctype, "javascript") != NULL;
}

static void
compress_one(const struct gu_asset *as, struct web_gz *e)
{
    z_stream z;
    uLong bound;
    unsigned char *out;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return;
    bound = deflateBound(&z, (uLong)as->size) + 32;
    out = gu_malloc(bound);
    if (!out) {
        deflateEnd(&z);
        return;
    }
    z.next_in = (Bytef *)as->data;
    z.avail_in = (uInt)as->size;
    z.next_out = out;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out >= as->size) {
        gu_free(out);
        deflateEnd(&z);
        return;
    }
    e->data = out;
    e->n = z.total_out;
    deflateEnd(&z);
}

int
web_gzip_asset(struct web_server *srv, const struct gu_asset *as,
               const unsigned char **data, size_t *n)
{
    size_t count;
    const struct gu_asset *all = gu_assets(&count);
    size_t idx;
    struct web_gz *e;
    int rc = GU_ENOTFOUND;

    if (!srv || as < all || as >= all + count)
        return GU_ENOTFOUND;
    idx = (size_t)(as - all);
    pthread_mutex_lock(srv->gz_mu);
    if (!srv->gz) {
        srv->gz = gu_calloc(count, sizeof(*srv->gz));
        srv->ngz = count;
    }
    if (!srv->gz) {
        rc = GU_ENOMEM;
        goto out;
    }
    e = &srv->gz[idx];
    if (!e->done) {
        compress_one(as, e);
        e->done = true;
    }
    if (e->data) {
        *data = e->data;
        *n = e->n;
        rc = 0;
    }
out:
    pthread_mutex_unlock(srv->gz_mu);
    return rc;
}

void
web_gz_free(struct web_server *srv)
{
    if (!srv || !srv->gz)
        return;
    for (size_t i = 0; i < srv->ngz; i++)
        gu_free(srv->gz[i].data);
    gu_free(srv->gz);
    srv->gz = NULL;
}

static bool
accepts_gzip(const char *ae)
{
    const char *p;

    if (!ae)
        return false;
    p = strstr(ae, "gzip");
    if (!p)
        return false;
    p += 4;
    while (*p == ' ')
        p++;
    if (strncmp(p, ";q=0", 4) == 0 &&
        (p[4] == 0 || p[4] == ',' || strspn(p + 4, ".0") == strlen(p + 4)))
        return false;
    return true;
}

/* Does an If-None-Match list contain `etag` (weak comparison)? */
static bool
etag_match(const char *inm, const char *etag)
{
    size_t en = strlen(etag);
    const char *p = inm;

    if (!inm)
        return false;
    while (*p) {
        size_t n;
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == en && memcmp(p, etag, en) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

int
web_static_get(struct http_req *req, struct http_resp *resp)
{
    struct web_reqdata *d = req->priv;
    const char *rest = http_param(req, "*");
    const struct gu_asset *as;
    const unsigned char *body;
    size_t n;
    const char *etag;
    bool gz = false, vary;
    int rc;

    if (!rest || !*rest || strncmp(rest, "pages/", 6) == 0)
        goto missing;
    as = gu_asset_find(rest);
    if (!as)
        goto missing;
    body = as->data;
    n = as->size;
    etag = as->etag;
    vary = compressible(as->ctype) && as->size > GZIP_MIN;
    if (vary && accepts_gzip(http_header(req, "Accept-Encoding")) &&
        web_gzip_asset(d ? d->srv : NULL, as, &body, &n) == 0) {
        size_t en = strlen(as->etag);
        gz = true;
        /* A different representation needs a different strong ETag. */
        etag = gu_arena_sprintf(req->arena, "%.*s-gz\"", (int)(en - 1),
                                as->etag);
        if (!etag)
            return GU_ENOMEM;
    }
    if ((rc = http_add_header(resp, "ETag", etag)) < 0 ||
        (rc = http_add_header(resp, "Cache-Control",
                              "public, max-age=3600")) < 0)
        return rc;
    if (vary && (rc = http_add_header(resp, "Vary", "Accept-Encoding")) < 0)
        return rc;
    if (etag_match(http_header(req, "If-None-Match"), etag)) {
        resp->set = true;
        resp->status = 304;
        resp->ctype = NULL;
        resp->body = "";
        resp->n = 0;
        resp->body_static = true;
        return 0;
    }
    if (gz && (rc = http_add_header(resp, "Content-Encoding", "gzip")) < 0)
        return rc;
    resp->set = true;
    resp->status = 200;
    resp->ctype = as->ctype;
    resp->body = (const char *)body;
    resp->n = n;
    resp->body_static = true;
    return 0;
missing:
    return gu_err_set(&req->err, GU_ENOTFOUND, NULL,
                      "Ce fichier n'existe pas.", "no asset");
}
