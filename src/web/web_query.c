/*
 * web_query.c - repeated query arguments (see http_query_all in http.h).
 */
#include "web/web_internal.h"

#include <string.h>

size_t
http_query_all(struct http_req *r, const char *name, const char **out,
               size_t cap)
{
    struct web_reqdata *d = r ? r->priv : NULL;
    size_t n = 0;

    for (size_t i = 0; d && i < d->nquery; i++) {
        if (strcmp(d->query[i].k, name) != 0)
            continue;
        if (n < cap)
            out[n] = d->query[i].v;
        n++;
    }
    return n;
}
