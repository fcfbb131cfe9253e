/*
 * web_metrics.c - Prometheus counters of the HTTP layer, served at
 * /metrics in the text exposition format.
 *
 * Label cardinality is bounded by construction: the route label is the
 * route's pattern (or "other" for unknown paths), the method one of a
 * fixed list, the status what the server produces; the counter table
 * has a fixed capacity and anything beyond it is counted in
 * guichet_http_metrics_dropped_total instead of growing.
 */
#include <pthread.h>
#include <string.h>

#include "web/web_internal.h"

#define MAX_SERIES 4096

#ifndef GUICHET_VERSION
#define GUICHET_VERSION "dev"
#endif

static const double buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,   1,    2.5,   5,    10};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static const char *const meths[] = {"GET",   "HEAD",   "POST",  "PUT",
                                    "PATCH", "DELETE", "other"};
#define NMETHS (sizeof(meths) / sizeof(meths[0]))

struct series {
    size_t route;
    unsigned meth;
    int status;
    uint64_t count;
};

struct hist {
    uint64_t b[NBUCKETS];
    uint64_t count;
    double sum;
};

struct web_metrics {
    pthread_mutex_t mu;
    const struct web_router *router;
    struct series *s;
    size_t ns;
    uint64_t dropped;
    struct hist *h; /* router->n + 1 ("other") */
};

struct web_metrics *
web_metrics_new(const struct web_router *r)
{
    struct web_metrics *m = gu_calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->router = r;
    m->s = gu_calloc(MAX_SERIES, sizeof(*m->s));
    m->h = gu_calloc(r->n + 1, sizeof(*m->h));
    if (!m->s || !m->h) {
        gu_free(m->s);
        gu_free(m->h);
        gu_free(m);
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void
web_metrics_free(struct web_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    gu_free(m->s);
    gu_free(m->h);
    gu_free(m);
}

static unsigned
meth_index(const char *m)
{
    for (unsigned i = 0; i + 1 < NMETHS; i++) {
        if (m && strcmp(m, meths[i]) == 0)
            return i;
    }
    return NMETHS - 1;
}

void
web_metrics_record(struct web_metrics *m, size_t route, const char *meth,
                   int status, double seconds)
{
    unsigned mi = meth_index(meth);
    size_t i;
    struct hist *h;

    if (route > m->router->n)
        route = m->router->n;
    pthread_mutex_lock(&m->mu);
    for (i = 0; i < m->ns; i++) {
        struct series *s = &m->s[i];
        if (s->route == route && s->meth == mi && s->status == status)
            break;
    }
    if (i == m->ns && m->ns < MAX_SERIES) {
        m->s[i].route = route;
        m->s[i].meth = mi;
        m->s[i].status = status;
        m->ns++;
    }
    if (i < m->ns)
        m->s[i].count++;
    else
        m->dropped++;
    h = &m->h[route];
    for (size_t b = 0; b < NBUCKETS; b++) {
        if (seconds <= buckets[b])
            h->b[b]++;
    }
    h->count++;
    h->sum += seconds;
    pthread_mutex_unlock(&m->mu);
}

static const char *
route_name(const struct web_metrics *m, size_t route)
{
    return route < m->router->n ? m->router->v[route].route->pattern
                                : "other";
}

/* Label values: patterns are ours, but escape anyway. */
static void
label(struct gu_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            gu_buf_append(b, "\\", 1);
        if (*s == '\n')
            gu_buf_puts(b, "\\n");
        else
            gu_buf_append(b, s, 1);
    }
}

int
web_metrics_render(struct web_server *srv, struct gu_buf *b)
{
    struct web_metrics *m = srv->metrics;

    pthread_mutex_lock(&m->mu);
    gu_buf_puts(b, "# HELP guichet_http_requests_total HTTP requests "
                   "served.\n# TYPE guichet_http_requests_total counter\n");
    for (size_t i = 0; i < m->ns; i++) {
        gu_buf_puts(b, "guichet_http_requests_total{route=\"");
        label(b, route_name(m, m->s[i].route));
        gu_buf_printf(b, "\",method=\"%s\",status=\"%d\"} %llu\n",
                      meths[m->s[i].meth], m->s[i].status,
                      (unsigned long long)m->s[i].count);
    }
    gu_buf_printf(b,
                  "# HELP guichet_http_metrics_dropped_total Requests not "
                  "counted by route (series limit).\n"
                  "# TYPE guichet_http_metrics_dropped_total counter\n"
                  "guichet_http_metrics_dropped_total %llu\n",
                  (unsigned long long)m->dropped);
    gu_buf_puts(b, "# HELP guichet_http_request_duration_seconds Time to "
                   "serve a request.\n"
                   "# TYPE guichet_http_request_duration_seconds "
                   "histogram\n");
    for (size_t r = 0; r <= m->router->n; r++) {
        const struct hist *h = &m->h[r];
        if (!h->count)
            continue;
        for (size_t k = 0; k < NBUCKETS; k++) {
            gu_buf_puts(b, "guichet_http_request_duration_seconds_bucket"
                           "{route=\"");
            label(b, route_name(m, r));
            gu_buf_printf(b, "\",le=\"%g\"} %llu\n", buckets[k],
                          (unsigned long long)h->b[k]);
        }
        gu_buf_puts(b, "guichet_http_request_duration_seconds_bucket"
                       "{route=\"");
        label(b, route_name(m, r));
        gu_buf_printf(b, "\",le=\"+Inf\"} %llu\n",
                      (unsigned long long)h->count);
        gu_buf_puts(b, "guichet_http_request_duration_seconds_sum{route=\"");
        label(b, route_name(m, r));
        gu_buf_printf(b, "\"} %.6f\n", h->sum);
        gu_buf_puts(b,
                    "guichet_http_request_duration_seconds_count{route=\"");
        label(b, route_name(m, r));
        gu_buf_printf(b, "\"} %llu\n", (unsigned long long)h->count);
    }
    pthread_mutex_unlock(&m->mu);
    gu_buf_printf(b,
                  "# HELP guichet_db_errors_total Storage errors since "
                  "start.\n# TYPE guichet_db_errors_total counter\n"
                  "guichet_db_errors_total %llu\n",
                  (unsigned long long)store_error_count(srv->st));
    gu_buf_printf(b,
                  "# HELP guichet_uptime_seconds Seconds since start.\n"
                  "# TYPE guichet_uptime_seconds gauge\n"
                  "guichet_uptime_seconds %lld\n",
                  (long long)(gu_now() - srv->started_at));
    gu_buf_printf(b,
                  "# HELP guichet_http_inflight Requests being served.\n"
                  "# TYPE guichet_http_inflight gauge\n"
                  "guichet_http_inflight %ld\n",
                  (long)srv->inflight);
    gu_buf_printf(b,
                  "# HELP guichet_build_info Build information.\n"
                  "# TYPE guichet_build_info gauge\n"
                  "guichet_build_info{version=\"%s\"} 1\n",
                  GUICHET_VERSION);
    return b->oom ? GU_ENOMEM : 0;
}
