/*
 * test_tri_http.c - the request inbox's JSON API where a case file is not
 * enough (the data-driven cases are tests/http/cases/40_triage.http):
 * the per-IP limits of residents' routes, the bound of a bulk action,
 * attachment downloads (headers, roles, tenancy), and the assistant's
 * hand-offs landing in the inbox - an agent's reply there reaches the
 * resident's hand-off follow-up link.
 *
 * Each test starts its own server (127.0.0.1:0, seeded in-memory store)
 * with the settings it needs.
 */
#include "harness.h"
#include "http_support.h"

#include "assistant/asst.h"
#include "notify/notify.h"
#include "triage/tri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char JSON[] = "Content-Type: application/json";

/*
 * Start a server and train the triage model of 99001 in-process first:
 * a commune's first request trains it (a second or two, much more under
 * a sanitizer on a loaded machine), which must not count against the
 * client's timeout.
 */
static int
start(struct hs_server *s, const char *const *ov)
{
    struct store_conn *c = NULL;
    struct tri_model_ref *ref = NULL;
    struct gu_err err;

    if (hs_server_start(s, ov) != 0) {
        TH_FAIL("server did not start");
        return -1;
    }
    gu_err_clear(&err);
    if (store_acquire(s->store, &c, &err) < 0 ||
        tri_services_seed(c, "99001", &err) < 0 ||
        tri_model_get(s->store, c, "99001", &ref, &err) < 0)
        TH_FAIL("model warm-up: %s", err.msg);
    tri_model_put(ref);
    store_release(c);
    return 0;
}

/* Run the module job called `name` once, as the job runner would. */
static int
run_job(struct hs_server *s, const struct notify_job *jobs, size_t n,
        const char *name)
{
    struct gu_err err;

    gu_err_clear(&err);
    for (size_t i = 0; i < n; i++)
        if (strcmp(jobs[i].name, name) == 0)
            return jobs[i].fn(s->store, s->cfg, &err);
    TH_FAIL("no job %s", name);
    return -1;
}

/* POST/GET/... with an optional bearer token; 0 when answered. */
static int
call(struct hs_server *s, const char *method, const char *path,
     const char *token, const char *body, struct hs_resp *r)
{
    char headers[256];

    snprintf(headers, sizeof(headers), "%s%s%s%s", body ? JSON : "",
             body && token ? "\r\n" : "", token ? "Authorization: Bearer " : "",
             token ? token : "");
    return hs_request(s->port, method, path, headers, body,
                      body ? strlen(body) : 0, r);
}

/*
 * The same with a 120 s timeout, for a retrain (cross-validated training:
 * seconds, many more under a sanitizer on a loaded machine).
 */
static int
call_slow(struct hs_server *s, const char *method, const char *path,
          const char *token, struct hs_resp *r)
{
    struct hs_conn c;
    struct gu_buf b;
    int rc = -1;

    gu_buf_init(&b);
    gu_buf_printf(&b,
                  "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
                  "Bearer %s\r\nContent-Length: 0\r\nConnection: close"
                  "\r\n\r\n",
                  method, path, token);
    if (!b.oom && hs_conn_open(&c, s->port, 120000) == 0) {
        if (hs_conn_send(&c, b.p, b.n) == 0)
            rc = hs_conn_read(&c, false, r);
        hs_conn_close(&c);
    }
    gu_buf_fini(&b);
    return rc;
}

/* One integer from the store (or -1). */
static int64_t
db_int(struct hs_server *s, const char *sql, const char *arg)
{
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    struct gu_err err;
    int64_t v = -1;
    struct store_val p[] = {STORE_T(arg)};

    if (a && store_acquire(s->store, &c, &err) == 0 &&
        store_query(c, a, sql, p, arg ? 1 : 0, &r, &err) == 0 && r->nrows)
        v = store_int(r, 0, 0);
    store_release(c);
    gu_arena_free(a);
    return v;
}

static char *
db_text(struct hs_server *s, const char *sql, const char *arg)
{
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    struct gu_err err;
    char *v = NULL;
    struct store_val p[] = {STORE_T(arg)};

    if (a && store_acquire(s->store, &c, &err) == 0 &&
        store_query(c, a, sql, p, arg ? 1 : 0, &r, &err) == 0 && r->nrows)
        v = gu_strdup(store_text(r, 0, 0));
    store_release(c);
    gu_arena_free(a);
    return v;
}

static int
db_exec(struct hs_server *s, const char *sql, const struct store_val *p,
        size_t n)
{
    struct store_conn *c = NULL;
    struct gu_err err;
    int rc = store_acquire(s->store, &c, &err);

    if (rc == 0)
        rc = store_exec(c, sql, p, n, &err);
    if (rc < 0)
        fprintf(stderr, "db_exec: %s\n", err.msg);
    store_release(c);
    return rc;
}

/* A string member of a JSON body (heap copy) or NULL. */
static char *
member(const struct hs_resp *r, const char *key)
{
    json_t *j = hs_json(r);
    const char *v = j ? json_string_value(json_object_get(j, key)) : NULL;
    char *out = v ? gu_strdup(v) : NULL;

    json_decref(j);
    return out;
}

/* File a request for 99001; its id (from the store) or -1. */
static int64_t
file_request(struct hs_server *s, const char *text)
{
    struct hs_resp r;
    char body[512], *number = NULL;
    int64_t id = -1;

    snprintf(body, sizeof(body), "{\"c\":\"99001\",\"texte\":\"%s\"}", text);
    if (call(s, "POST", "/api/v1/demandes", NULL, body, &r) != 0)
        return -1;
    if (r.status == 201)
        number = member(&r, "numero");
    hs_resp_fini(&r);
    if (number)
        id = db_int(s,
                    "SELECT id FROM tri_requests WHERE insee = '99001' AND"
                    " number = ?",
                    number);
    gu_free(number);
    return id;
}

/* ------------------------------------------------------------------ */

/*
 * triage.rate_ip bounds residents' filings per client IP and hour, and,
 * separately, their messages on status pages; agents are not limited.
 */
static void
test_resident_rate_limit(void)
{
    static const char *const ov[] = {"triage.rate_ip=2", NULL};
    struct hs_server s;
    struct hs_resp r;
    char retry[32] = "", *token = NULL, path[160];
    int created = 0;

    if (start(&s, ov) < 0)
        return;
    for (int i = 0; i < 3; i++) {
        char body[160];
        snprintf(body, sizeof(body),
                 "{\"c\":\"99001\",\"texte\":\"Banc cassé au square, n° %d\"}",
                 i);
        if (call(&s, "POST", "/api/v1/demandes", NULL, body, &r) != 0) {
            TH_FAIL("no answer to filing %d", i);
            break;
        }
        if (i < 2) {
            CHECK_EQ(r.status, 201);
            created += r.status == 201;
            if (!token)
                token = member(&r, "jeton");
        } else {
            CHECK_EQ(r.status, 429);
            CHECK(hs_header(&r, "Retry-After", 0, retry, sizeof(retry)) !=
                  NULL);
            long secs = 0;
            CHECK(gu_parse_long(retry, 1, 3600, &secs) == 0);
            CHECK(strstr(r.body, "problem") || r.body[0] == '{');
            CHECK_CONTAINS(r.body, "réessayez");
        }
        hs_resp_fini(&r);
    }
    CHECK_EQ(created, 2);
    /* Nothing stored by the refused one. */
    CHECK_EQ(hs_count(&s, "tri_requests"), 2);
    /* Reading one's status is not limited; writing has its own count. */
    CHECK(token != NULL);
    if (token) {
        snprintf(path, sizeof(path), "/api/v1/demandes/suivi/%s", token);
        for (int i = 0; i < 4; i++) {
            if (call(&s, "GET", path, NULL, NULL, &r) == 0) {
                CHECK_EQ(r.status, 200);
                hs_resp_fini(&r);
            }
        }
        snprintf(path, sizeof(path), "/api/v1/demandes/suivi/%s/messages",
                 token);
        int codes[3] = {0, 0, 0};
        for (int i = 0; i < 3; i++) {
            if (call(&s, "POST", path, NULL, "{\"texte\":\"Une précision.\"}",
                     &r) == 0) {
                codes[i] = r.status;
                hs_resp_fini(&r);
            }
        }
        CHECK_EQ(codes[0], 201);
        CHECK_EQ(codes[1], 201);
        CHECK_EQ(codes[2], 429);
    }
    /* An agent's work is not counted. */
    if (call(&s, "GET", "/api/v1/demandes", s.seed.token_99001, NULL, &r) ==
        0) {
        CHECK_EQ(r.status, 200);
        hs_resp_fini(&r);
    }
    gu_free(token);
    hs_server_stop(&s);
}

/* A bulk action names at most TRI_BULK_MAX requests. */
static void
test_bulk_bound(void)
{
    struct hs_server s;
    struct hs_resp r;
    struct gu_buf b;

    if (start(&s, NULL) < 0)
        return;
    gu_buf_init(&b);
    gu_buf_puts(&b, "{\"statut\":\"rejetee\",\"ids\":[");
    for (int i = 1; i <= 501; i++)
        gu_buf_printf(&b, "%s%d", i > 1 ? "," : "", i);
    gu_buf_puts(&b, "]}");
    CHECK(!b.oom);
    if (!b.oom &&
        call(&s, "POST", "/api/v1/demandes/lot", s.seed.token_99001, b.p,
             &r) == 0) {
        CHECK_EQ(r.status, 413);
        CHECK_CONTAINS(r.body, "500 demandes au plus");
        hs_resp_fini(&r);
    }
    gu_buf_fini(&b);
    hs_server_stop(&s);
}

/*
 * An attachment is sent as a download: its checked type, or
 * application/octet-stream for anything else; Content-Disposition with
 * an ASCII name and the UTF-8 one; nosniff; not cached. Agents only,
 * their commune only.
 */
static void
test_attachment_download(void)
{
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n',
                                        0x1a, '\n', 0, 0, 0, 0};
    struct hs_server s;
    struct hs_resp r;
    char path[128], buf[256];
    int64_t id, pid, hid;

    if (start(&s, NULL) < 0)
        return;
    id = file_request(&s, "Dépôt sauvage derrière le gymnase, photo jointe.");
    CHECK(id > 0);
    if (id <= 0)
        goto out;
    {
        struct store_val p[] = {STORE_I(id), STORE_B((const char *)png, sizeof(png))};
        CHECK_EQ(db_exec(&s,
                         "INSERT INTO tri_attachments (insee, request_id,"
                         " filename, ctype, size, sha256, data, created_at)"
                         " VALUES ('99001', ?, 'dépôt \"sauvage\".png',"
                         " 'image/png', 12, 'x', ?, 0)",
                         p, 2),
                 0);
        struct store_val q[] = {STORE_I(id),
                                STORE_B("<script>alert(1)</script>", 25)};
        CHECK_EQ(db_exec(&s,
                         "INSERT INTO tri_attachments (insee, request_id,"
                         " filename, ctype, size, sha256, data, created_at)"
                         " VALUES ('99001', ?, 'page.html', 'text/html', 25,"
                         " 'y', ?, 0)",
                         q, 2),
                 0);
    }
    pid = db_int(&s, "SELECT MIN(id) FROM tri_attachments", NULL);
    hid = db_int(&s, "SELECT MAX(id) FROM tri_attachments", NULL);
    snprintf(path, sizeof(path), "/api/v1/demandes/%lld/pieces/%lld",
             (long long)id, (long long)pid);
    if (call(&s, "GET", path, s.seed.token_99001, NULL, &r) == 0) {
        CHECK_EQ(r.status, 200);
        CHECK_EQ(r.body_n, sizeof(png));
        CHECK(r.body_n == sizeof(png) && memcmp(r.body, png, sizeof(png)) == 0);
        CHECK(hs_header(&r, "Content-Type", 0, buf, sizeof(buf)) &&
              strcmp(buf, "image/png") == 0);
        CHECK(hs_header(&r, "Content-Disposition", 0, buf, sizeof(buf)) != NULL);
        CHECK_CONTAINS(buf, "attachment; filename=\"");
        CHECK(strstr(buf, "\"sauvage\"") == NULL); /* quotes neutralised */
        CHECK_CONTAINS(buf, "filename*=UTF-8''d%C3%A9p%C3%B4t");
        CHECK(hs_header(&r, "X-Content-Type-Options", 0, buf, sizeof(buf)) &&
              strcmp(buf, "nosniff") == 0);
        CHECK(hs_header(&r, "Cache-Control", 0, buf, sizeof(buf)) &&
              strstr(buf, "no-store"));
        hs_resp_fini(&r);
    }
    /* A type we did not check is never served as itself. */
    snprintf(path, sizeof(path), "/api/v1/demandes/%lld/pieces/%lld",
             (long long)id, (long long)hid);
    if (call(&s, "GET", path, s.seed.token_99001, NULL, &r) == 0) {
        CHECK_EQ(r.status, 200);
        CHECK(hs_header(&r, "Content-Type", 0, buf, sizeof(buf)) &&
              strcmp(buf, "application/octet-stream") == 0);
        hs_resp_fini(&r);
    }
    /* Readers, other communes, other requests: no. */
    snprintf(path, sizeof(path), "/api/v1/demandes/%lld/pieces/%lld",
             (long long)id, (long long)pid);
    if (call(&s, "GET", path, s.seed.token_lecteur, NULL, &r) == 0) {
        CHECK_EQ(r.status, 403);
        hs_resp_fini(&r);
    }
    if (call(&s, "GET", path, s.seed.token_99002, NULL, &r) == 0) {
        CHECK_EQ(r.status, 404);
        hs_resp_fini(&r);
    }
    snprintf(path, sizeof(path), "/api/v1/demandes/%lld/pieces/%lld",
             (long long)id + 1000, (long long)pid);
    if (call(&s, "GET", path, s.seed.token_99001, NULL, &r) == 0) {
        CHECK_EQ(r.status, 404);
        hs_resp_fini(&r);
    }
    /* Each download is audited. */
    CHECK(hs_count(&s, "audit WHERE action = 'tri.piece'") >= 2);
out:
    hs_server_stop(&s);
}

/*
 * A question handed over by the assistant lands in the inbox (channel
 * chat, origin asst_handoffs:<id>, the resident's e-mail kept to answer,
 * no second acknowledgement); the agent's reply from the inbox is
 * e-mailed and shown on the hand-off's follow-up link.
 */
static void
test_handoff_to_inbox(void)
{
    struct hs_server s;
    struct hs_resp r;
    char *conv = NULL, *follow = NULL, path[200], body[512];
    char origin[64];
    int64_t hid, id;

    if (start(&s, NULL) < 0)
        return;
    if (call(&s, "POST", "/api/v1/chat", NULL,
             "{\"commune\":\"99001\",\"message\":\"xqzwv plorf\"}", &r) == 0) {
        CHECK_EQ(r.status, 200);
        conv = member(&r, "conversation");
        hs_resp_fini(&r);
    }
    CHECK(conv != NULL);
    if (!conv)
        goto out;
    snprintf(body, sizeof(body),
             "{\"conversation\":\"%s\",\"email\":\"Jean.Dupont@Example.org\","
             "\"question\":\"Puis-je louer la salle des fêtes pour un "
             "mariage ? Appelez le 06 12 34 56 78\",\"consent\":true}",
             conv);
    if (call(&s, "POST", "/api/v1/chat/handoff", NULL, body, &r) == 0) {
        CHECK_EQ(r.status, 201);
        follow = member(&r, "token");
        hs_resp_fini(&r);
    }
    CHECK(follow != NULL);
    /* The inbox takes it in the background (job asst.inbox). */
    CHECK_EQ(hs_count(&s, "tri_requests WHERE channel = 'chat'"), 0);
    {
        size_t nj = 0;
        const struct notify_job *jobs = asst_jobs(&nj);
        CHECK_EQ(run_job(&s, jobs, nj, "asst.inbox"), 1);
        /* Once only. */
        CHECK_EQ(run_job(&s, jobs, nj, "asst.inbox"), 0);
    }
    hid = db_int(&s, "SELECT MAX(id) FROM asst_handoffs", NULL);
    snprintf(origin, sizeof(origin), "asst_handoffs:%lld", (long long)hid);
    id = db_int(&s,
                "SELECT id FROM tri_requests WHERE insee = '99001' AND"
                " origin = ? AND channel = 'chat'",
                origin);
    CHECK(id > 0);
    if (id <= 0 || !follow)
        goto out;
    {
        char *email = db_text(&s,
                              "SELECT contact_email FROM tri_requests WHERE"
                              " origin = ?",
                              origin);
        char *text = db_text(&s, "SELECT body FROM tri_requests WHERE origin = ?",
                             origin);
        CHECK_STR(email, "jean.dupont@example.org");
        CHECK_CONTAINS(text, "salle des fêtes");
        CHECK(text && !strstr(text, "06 12 34 56 78"));
        gu_free(email);
        gu_free(text);
    }
    CHECK_EQ(db_int(&s, "SELECT notify FROM tri_requests WHERE origin = ?",
                    origin),
             0);
    /* One acknowledgement: the assistant's, with the follow-up link. */
    CHECK_EQ(hs_count(&s, "notify_outbox WHERE kind = 'asst.handoff'"), 1);
    CHECK_EQ(hs_count(&s, "notify_outbox WHERE kind LIKE 'tri%'"), 0);

    /* The agent files it under the service that rents the hall (the
     * model may have routed it or left it « à trier »: a reply that
     * closes a request needs a service) and answers from the inbox. */
    snprintf(path, sizeof(path), "/api/v1/demandes/%lld", (long long)id);
    if (call(&s, "PATCH", path, s.seed.token_99001,
             "{\"service\":\"culture-sport-associations\"}", &r) == 0) {
        CHECK_EQ(r.status, 200);
        hs_resp_fini(&r);
    }
    snprintf(path, sizeof(path), "/api/v1/demandes/%lld/reponses",
             (long long)id);
    if (call(&s, "POST", path, s.seed.token_99001,
             "{\"texte\":\"Oui : réservez-la auprès du service des fêtes, au "
             "moins un mois avant.\",\"statut\":\"resolue\"}",
             &r) == 0) {
        CHECK_EQ(r.status, 201);
        CHECK_CONTAINS(r.body, "\"courriel\":true");
        hs_resp_fini(&r);
    }
    CHECK_EQ(hs_count(&s, "notify_outbox WHERE kind = 'tri.reply' AND"
                          " to_addr = 'jean.dupont@example.org'"),
             1);
    /* The resident's hand-off link shows the answer. */
    snprintf(path, sizeof(path), "/api/v1/chat/suivi/%s", follow);
    if (call(&s, "GET", path, NULL, NULL, &r) == 0) {
        CHECK_EQ(r.status, 200);
        CHECK_CONTAINS(r.body, "réservez-la auprès du service des fêtes");
        CHECK_CONTAINS(r.body, "répondu");
        CHECK(strstr(r.body, "jean.dupont") == NULL);
        hs_resp_fini(&r);
    }
out:
    gu_free(conv);
    gu_free(follow);
    hs_server_stop(&s);
}

/*
 * An admin retrains the commune's model with the agents' corrections;
 * the model's page then shows the new version. (A retrain takes a
 * second or two, so it lives here rather than in the case files.)
 */
static void
test_retrain(void)
{
    struct hs_server s;
    struct hs_resp r;
    char path[128], *version = NULL, *now = NULL;
    int64_t id;

    if (start(&s, NULL) < 0)
        return;
    static const char *const texts[] = {
        "Le caniveau de la rue Pasteur est bouché, l'eau stagne devant les "
        "maisons.",
        "Odeur d'égout très forte place de la Mairie depuis trois jours.",
        "Plus d'eau au robinet depuis ce matin rue des Écoles.",
        "La bouche d'égout du chemin du Moulin déborde à chaque pluie."};
    /* Several corrections: each weighs more than a seed example. */
    for (size_t i = 0; i < GU_ARRAY_LEN(texts); i++) {
        id = file_request(&s, texts[i]);
        CHECK(id > 0);
        snprintf(path, sizeof(path), "/api/v1/demandes/%lld", (long long)id);
        if (id > 0 && call(&s, "PATCH", path, s.seed.token_99001,
                           "{\"service\":\"eau-assainissement\","
                           "\"urgence\":1}",
                           &r) == 0) {
            CHECK_EQ(r.status, 200);
            hs_resp_fini(&r);
        }
    }
    if (call(&s, "POST", "/api/v1/triage/modele", s.seed.token_lecteur, NULL,
             &r) == 0) {
        CHECK_EQ(r.status, 403);
        hs_resp_fini(&r);
    }
    if (call_slow(&s, "POST", "/api/v1/triage/modele", s.seed.token_99001,
                  &r) != 0) {
        TH_FAIL("no answer to the retrain");
    } else {
        CHECK_EQ(r.status, 200);
        json_t *j = hs_json(&r);
        CHECK(j && json_integer_value(json_object_get(j, "corrections")) >= 4);
        CHECK(j && json_integer_value(json_object_get(j, "exemples")) > 100);
        json_decref(j);
        version = member(&r, "version");
        hs_resp_fini(&r);
    }
    CHECK(version && *version);
    if (call(&s, "GET", "/api/v1/triage/modele", s.seed.token_lecteur, NULL,
             &r) == 0) {
        CHECK_EQ(r.status, 200);
        now = member(&r, "version");
        hs_resp_fini(&r);
    }
    CHECK_STR(now, version);
    CHECK_EQ(hs_count(&s, "audit WHERE action = 'tri.retrain'"), 1);
    gu_free(version);
    gu_free(now);
    hs_server_stop(&s);
}

/*
 * Bad bodies get a French problem+json and store nothing; the server
 * keeps serving.
 */
static void
test_bad_bodies(void)
{
    struct hs_server s;
    struct hs_resp r;
    struct gu_buf b;
    int64_t id;
    char path[64];

    if (start(&s, NULL) < 0)
        return;
    id = file_request(&s, "Un arbre menace de tomber sur le parking du "
                          "stade.");
    CHECK(id > 0);
    /* Over 64 KiB. */
    gu_buf_init(&b);
    gu_buf_puts(&b, "{\"c\":\"99001\",\"texte\":\"");
    for (int i = 0; i < 70000; i++)
        gu_buf_append(&b, "a", 1);
    gu_buf_puts(&b, "\"}");
    if (!b.oom &&
        call(&s, "POST", "/api/v1/demandes", NULL, b.p, &r) == 0) {
        CHECK_EQ(r.status, 413);
        CHECK_CONTAINS(r.body, "64 Kio");
        hs_resp_fini(&r);
    }
    gu_buf_fini(&b);
    /* A text over 20,000 bytes but a body under 64 KiB. */
    gu_buf_init(&b);
    gu_buf_puts(&b, "{\"c\":\"99001\",\"texte\":\"");
    for (int i = 0; i < 20001; i++)
        gu_buf_append(&b, "b", 1);
    gu_buf_puts(&b, "\"}");
    if (!b.oom &&
        call(&s, "POST", "/api/v1/demandes", NULL, b.p, &r) == 0) {
        CHECK(r.status == 422 || r.status == 413);
        CHECK_CONTAINS(r.body, "texte");
        hs_resp_fini(&r);
    }
    gu_buf_fini(&b);
    /* Invalid UTF-8, a JSON array, a number where text goes. */
    if (call(&s, "POST", "/api/v1/demandes", NULL,
             "{\"c\":\"99001\",\"texte\":\"caf\xc3\x28\"}", &r) == 0) {
        CHECK_EQ(r.status, 400);
        hs_resp_fini(&r);
    }
    snprintf(path, sizeof(path), "/api/v1/demandes/%lld", (long long)id);
    if (call(&s, "PATCH", path, s.seed.token_99001, "[1,2]", &r) == 0) {
        CHECK_EQ(r.status, 400);
        hs_resp_fini(&r);
    }
    if (call(&s, "PATCH", path, s.seed.token_99001, "{\"urgence\":\"2\"}",
             &r) == 0) {
        CHECK_EQ(r.status, 422);
        CHECK_CONTAINS(r.body, "\"champ\":\"urgence\"");
        hs_resp_fini(&r);
    }
    if (call(&s, "POST", "/api/v1/demandes", NULL,
             "{\"c\":\"99001\",\"texte\":42}", &r) == 0) {
        CHECK_EQ(r.status, 422);
        hs_resp_fini(&r);
    }
    /* Only the first request was stored; the server still answers. */
    CHECK_EQ(hs_count(&s, "tri_requests"), 1);
    CHECK(hs_healthy(s.port));
    hs_server_stop(&s);
}

TESTS(T(test_resident_rate_limit), T(test_bulk_bound), T(test_bad_bodies),
      T(test_attachment_download), T(test_handoff_to_inbox), T(test_retrain))
