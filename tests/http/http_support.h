/*
 * http_support.h - what the HTTP test programs share: an in-process
 * server on 127.0.0.1:0 over a seeded in-memory store, and a raw HTTP/1.1
 * client over POSIX sockets (no client library, so that tests control the
 * bytes exactly: keep-alive, pipelining, partial sends, broken input).
 *
 * Test code only. Everything returned is heap memory owned by the caller
 * unless said otherwise; the server and store live until hs_server_stop().
 */
#ifndef GU_TESTS_HTTP_SUPPORT_H
#define GU_TESTS_HTTP_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "store/store.h"
#include "web/http.h"
#include "web/web.h"

/* Passwords of the seeded accounts (test fixtures, never real). */
#define HS_PASSWORD "Mot-de-passe-de-test-2026"

/* Seeded identities and secrets, filled by hs_server_start(). */
struct hs_seed {
    int64_t admin_id, agent_id, lecteur_id, multi_id, verrou_id;
    int64_t admin2_id, agent2_id;
    int64_t token_99001_id, token_99002_id;
    char token_99001[64];     /* admin token of 99001 */
    char token_lecteur[64];   /* lecteur token of 99001 */
    char token_99002[64];     /* admin token of 99002 */
    char token_revoked[64];   /* admin token of 99001, revoked */
    char expired_session[64]; /* session token of admin, already expired */
};

struct hs_server {
    struct gu_config *cfg;
    struct store *store;
    struct web_server *srv;
    int port;
    const struct http_routes *tables; /* the module tables main.c uses */
    size_t ntables;
    struct hs_seed seed;
};

/*
 * The module route tables, exactly those main.c hands to the server
 * (web's own routes are added by web_server_new itself).
 */
const struct http_routes *hs_tables(size_t *n);

/*
 * Load a config from defaults + a fixed environment (no GUICHET_* leaks
 * in from the caller) + `overrides` (NULL-terminated, may be NULL; they
 * come after the test defaults so they win), open sqlite::memory:,
 * migrate, seed (communes 99001 and 99002, agents, tokens, an expired
 * session), start the server on 127.0.0.1:0. 0 on success; on failure
 * prints why and returns -1.
 */
int hs_server_start(struct hs_server *s, const char *const *overrides);
void hs_server_stop(struct hs_server *s);

/* Count rows of a table (or -1): "agents", "audit"... */
long hs_count(struct hs_server *s, const char *table);

/* ----- raw client ----- */

/* A parsed response. Heap owned; release with hs_resp_fini(). */
struct hs_resp {
    int status;
    char *head; /* status line + headers, NUL-terminated */
    char *body; /* body, de-chunked (not decompressed), NUL-terminated */
    size_t body_n;
};

/* A connection with its read buffer (responses may be pipelined). */
struct hs_conn {
    int fd;
    char *buf;
    size_t n, cap;
};

/* Connect to 127.0.0.1:port with a receive timeout of `timeout_ms`. */
int hs_conn_open(struct hs_conn *c, int port, int timeout_ms);
void hs_conn_close(struct hs_conn *c);
/* Send all bytes (MSG_NOSIGNAL). 0, or -1 when the peer is gone. */
int hs_conn_send(struct hs_conn *c, const void *p, size_t n);
/*
 * Read one response. `head_only` for HEAD requests (no body).
 * 0 on success; -1 on timeout, error or a close before a full response.
 */
int hs_conn_read(struct hs_conn *c, bool head_only, struct hs_resp *out);
/*
 * true when the server closed the connection (EOF or reset) within
 * `timeout_ms`, discarding whatever it sent first.
 */
bool hs_conn_wait_closed(struct hs_conn *c, int timeout_ms);

void hs_resp_fini(struct hs_resp *r);

/*
 * The value of the `nth` (0-based) header called `name` (ASCII
 * case-insensitive) copied into buf; NULL when absent.
 */
const char *hs_header(const struct hs_resp *r, const char *name, int nth,
                      char *buf, size_t cap);

/*
 * One request on a fresh connection: METHOD path, `headers` (CRLF
 * separated lines without the final blank line, may be NULL or ""),
 * `body` (may be NULL; Content-Length is added when body is non-NULL).
 * 0 when a response was read.
 */
int hs_request(int port, const char *method, const char *path,
               const char *headers, const char *body, size_t body_n,
               struct hs_resp *out);

/* The same with raw bytes sent as they are. */
int hs_request_raw(int port, const void *raw, size_t n, struct hs_resp *out);

/* Is GET /healthz answered 200 on a fresh connection? */
bool hs_healthy(int port);

/* Parse the body as JSON (NULL if it is not). Caller decrefs. */
json_t *hs_json(const struct hs_resp *r);

/*
 * Gunzip `p` (gzip format) into a heap buffer *out (NUL-terminated).
 * 0 on success, -1 on a bad stream.
 */
int hs_gunzip(const char *p, size_t n, char **out, size_t *out_n);

/*
 * Log in through POST /api/v1/session: *cookie gets "name=value" of the
 * session cookie, *csrf the CSRF token (both heap). 0 on success.
 */
int hs_login(int port, const char *login, const char *password, char **cookie,
             char **csrf);

/* Sleep for ms milliseconds. */
void hs_sleep_ms(int ms);

#endif
