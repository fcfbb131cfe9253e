/*
 * web.h - the HTTP server, as main.c sees it.
 *
 * libmicrohttpd with a thread pool. web/ owns the request's life: arena,
 * input limits, request id, authentication (session cookie or Bearer
 * token), role and CSRF checks, routing through the tables each module
 * registers, problem+json errors, static assets, /healthz, /metrics,
 * /api/v1/openapi.json, security headers and the access log.
 */
#ifndef GU_WEB_H
#define GU_WEB_H

#include "core/core.h"
#include "store/store.h"
#include "web/http.h"

struct web_server;

/*
 * Long-lived state the server serves with: swapped atomically on reload
 * (SIGHUP). Owned by the caller until handed to web_server_swap().
 */
struct web_state {
    struct gu_config *cfg;
};

/*
 * Create a server on cfg's server.listen (or `listen` if non-NULL, e.g.
 * "127.0.0.1:0") with the given module route tables (copied). Does not
 * start listening. The store must outlive the server.
 */
int web_server_new(struct gu_config *cfg, const char *listen,
                   struct store *st, const struct http_routes *tables,
                   size_t ntables, struct web_server **out,
                   struct gu_err *err);

/* Start the daemon (thread pool). */
int web_server_start(struct web_server *srv, struct gu_err *err);

/* The actual bound port (useful with port 0). */
int web_server_port(const struct web_server *srv);

/*
 * Replace the configuration atomically: new requests see `cfg`, requests
 * in flight keep the old one, which is freed once they finish. Takes
 * ownership of cfg.
 */
void web_server_swap_config(struct web_server *srv, struct gu_config *cfg);

/*
 * Graceful stop: stop accepting, let in-flight requests finish (up to
 * `grace_ms`), then close. Frees the server. NULL ok.
 */
void web_server_free(struct web_server *srv, int grace_ms);

/*
 * The OpenAPI 3.1 document for the given tables (also served at
 * /api/v1/openapi.json). Caller owns the result.
 */
json_t *web_openapi(const struct http_routes *tables, size_t ntables);

/*
 * Block until SIGTERM/SIGINT (returns 0) or SIGHUP (returns 1). Installs
 * the signal mask for the calling thread; call web_signals_init() before
 * creating threads so that workers do not receive these signals.
 */
void web_signals_init(void);
int web_signals_wait(void);

#endif
