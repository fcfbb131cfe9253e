/*
 * test_isolation.c - many communes in one instance (issue 10): through
 * every route the server registers, an admin of commune B, by session and
 * by API token, can neither read nor change anything of commune A.
 *
 * How:
 * 1. A (99001) is seeded with every domain through the domains' own seed
 *    functions (the `guichet init --demo` seeders) and, over HTTP as A's
 *    own admin, the objects the seeders do not make (hand-off, internal
 *    note, reply template, mail source, API token, custom training
 *    scenario and an attempt in A's sandbox). Then A's rows get marker
 *    strings: "ZZPRIVA" in data only A's agents may see, "ZZPUBA" in data
 *    A publishes (portal, appointment motifs, public fiches). B (99002)
 *    gets the cheap seeders so that its own lists are not empty.
 * 2. A fingerprint of A's rows: for every table with an `insee` column,
 *    the rows of A and of A's training sandboxes (count and an
 *    order-independent hash); agents through agent_communes; other tables
 *    whole (shared reference data), except the instance's bookkeeping.
 * 3. Every route of every table (hs_tables() and web's own), never a hand
 *    list: path parameters are filled with A's object ids by a small rule
 *    table (a parameter no rule knows fails the test, so a new route must
 *    be taught here), then each route is called as B's admin session and
 *    as B's admin token, once plain and once naming A (query ?c=&insee=,
 *    and a body generated from the route's own JSON Schema with A's
 *    insee, A's ids in id-like fields and A's residents' e-mail).
 * 4. Asserted for each response: no "ZZPRIVA" ever; no "ZZPUBA" outside
 *    public routes; no 2xx on a non-public route addressing A's objects,
 *    unless the route answers the same for an id that exists nowhere (a
 *    page shell whose script then calls the API: it tells nothing of A).
 *    After each writing route A's fingerprint must be unchanged, so the
 *    route that changed A is named. The only writes to A allowed are
 *    those of public routes explicitly naming A (a resident of A filing a
 *    request); they are printed. The default commune is B, so a plain
 *    public request lands on B.
 * 5. A control pass as A's own admin token: A's markers must show in its
 *    own answers (the marker check can fail) and most requests on A's
 *    objects must get through (B's refusals come from tenancy, not from a
 *    malformed request); the routes where they do not are printed.
 * Then a summary (routes, requests, statuses). Swapping B's token for A's
 * makes this test report over 200 leaks: it can fail.
 *
 * Known limits: bodies are matched as bytes, so a marker inside a
 * compressed answer (XLSX) is not seen - such routes are still held to
 * the status rule; residents' capability URLs ({token}) get an unknown
 * token: a resident's link is a secret whoever holds it, not an agent's
 * right.
 */
#include "harness.h"
#include "http_support.h"

#include "forecast/fc.h"
#include "kb/kb.h"
#include "monitor/mon.h"
#include "rdv/rdv.h"
#include "rdv/rdv_risk.h"
#include "triage/tri.h"
#include "web/web_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSEE_A "99001"
#define INSEE_B "99002"
/* Markers in A's rows (matched case-insensitively). */
#define MARK_PRIV "ZZPRIVA"
#define MARK_PUB "ZZPUBA"
/* What B writes: never a marker, so an echo of B's own input is no leak. */
#define B_TEXT "ZZBRAVO"
#define BOGUS_TOKEN "k3JjetonInconnuMaisBienForme0123456789abcdef"

/* ------------------------------------------------------------------ */
/* A's objects                                                         */
/* ------------------------------------------------------------------ */

enum obj {
    O_INSEE,
    O_AGENT,
    O_TOKEN,
    O_FICHE,
    O_HANDOFF,
    O_SERIES,
    O_FC_EVENT,
    O_FC_ALERT,
    O_ASSET,
    O_SENSOR,
    O_MON_ALERT,
    O_TICKET,
    O_REQUEST,
    O_ATTACHMENT,
    O_SERVICE,
    O_TEMPLATE,
    O_MAILSRC,
    O_PLACE,
    O_COUNTER,
    O_MOTIF,
    O_RANGE,
    O_ABSENCE,
    O_BOOKING,
    O_ATTEMPT,
    O_SCENARIO,
    O_COUNT,
    /* Not A's: shared data or a capability nobody in B holds. */
    SHARED = -1,
    BOGUS = -2
};

static const char *const obj_names[O_COUNT] = {
    "commune",     "agent",      "token",          "fiche",
    "hand-off",    "series",     "forecast event", "forecast alert",
    "asset",       "sensor",     "sensor alert",   "ticket",
    "request",     "attachment", "service",        "reply template",
    "mail source", "place",      "counter",        "motif",
    "range",       "absence",    "booking",        "attempt",
    "scenario",
};

/* A's ids as text ("" when the object could not be made). */
static char a_obj[O_COUNT][80];
/* An e-mail and a phone of A's residents. */
static char a_email[256], a_phone[64];

/*
 * Path parameter rules, first match wins: `in` is a substring of the
 * route's pattern ("" = any), `param` the capture's name.
 */
struct fill_rule {
    const char *in;
    const char *param;
    int obj;             /* enum obj, or SHARED / BOGUS */
    const char *literal; /* the value for SHARED / BOGUS */
};

static const struct fill_rule fill_rules[] = {
    {"", "insee", O_INSEE, NULL},
    {"/api/v1/agents/", "id", O_AGENT, NULL},
    {"/api/v1/tokens/", "id", O_TOKEN, NULL},
    {"/kb/national/", "id", SHARED, "1"},
    {"fiches/", "id", O_FICHE, NULL},
    {"/handoffs/", "id", O_HANDOFF, NULL},
    {"/forecast/series/", "id", O_SERIES, NULL},
    {"/forecast/events/", "id", O_FC_EVENT, NULL},
    {"/forecast/alerts/", "id", O_FC_ALERT, NULL},
    {"/previsions/alertes/", "id", O_FC_ALERT, NULL},
    {"/previsions/", "id", O_SERIES, NULL},
    {"/monitor/assets/", "id", O_ASSET, NULL},
    {"/surveillance/equipements/", "id", O_ASSET, NULL},
    {"/monitor/sensors/", "code", O_SENSOR, NULL},
    {"/monitor/alerts/", "id", O_MON_ALERT, NULL},
    {"/surveillance/alertes/", "id", O_MON_ALERT, NULL},
    {"/monitor/tickets/", "id", O_TICKET, NULL},
    {"/surveillance/tickets/", "id", O_TICKET, NULL},
    {"/suivi/", "id", BOGUS, "1"},
    {"/demandes/", "pid", O_ATTACHMENT, NULL},
    {"/demandes/", "id", O_REQUEST, NULL},
    {"/triage/services/", "id", O_SERVICE, NULL},
    {"/modeles-reponse/", "id", O_TEMPLATE, NULL},
    {"/sources-courriel/", "id", O_MAILSRC, NULL},
    {"/rdv/places/", "id", O_PLACE, NULL},
    {"/rdv/counters/", "id", O_COUNTER, NULL},
    {"/rdv/motifs/", "id", O_MOTIF, NULL},
    {"/rdv/ranges/", "id", O_RANGE, NULL},
    {"/rdv/absences/", "id", O_ABSENCE, NULL},
    {"/rdv/bookings/", "id", O_BOOKING, NULL},
    {"/rdv/flux/", "file", BOGUS, "inconnu.ics"},
    {"", "token", BOGUS, BOGUS_TOKEN},
    {"", "conversation", BOGUS, BOGUS_TOKEN},
    {"/rapport/", "mois", SHARED, "2026-11"},
    {"/formation/modules/", "code", SHARED, "ce-que-fait-l-ia"},
    {"/formation/", "code", O_SCENARIO, NULL},
    {"/essais/", "id", O_ATTEMPT, NULL},
    {"/static/", "*", SHARED, "css/agent-demandes.css"},
};

/* JSON body keys (and query arguments) that name an object of A. */
static const struct {
    const char *key;
    int obj;
} id_keys[] = {
    {"motif", O_MOTIF},        {"place", O_PLACE},
    {"lieu", O_PLACE},         {"counter", O_COUNTER},
    {"guichet", O_COUNTER},    {"service", O_SERVICE},
    {"series", O_SERIES},      {"serie", O_SERIES},
    {"equipement", O_ASSET},   {"asset", O_ASSET},
    {"asset_id", O_ASSET},     {"alerte", O_MON_ALERT},
    {"alert_id", O_MON_ALERT}, {"fiche", O_FICHE},
    {"fiche_id", O_FICHE},     {"modele", O_TEMPLATE},
    {"agent", O_AGENT},        {"assigne", O_AGENT},
    {"assigned_to", O_AGENT},  {"booking", O_BOOKING},
    {"demande", O_REQUEST},    {"ids", O_REQUEST},
    {"demandes", O_REQUEST},   {"cible", O_REQUEST},
    {"capteur", O_SENSOR},     {"sensor", O_SENSOR},
    {"scenario", O_SCENARIO},  {"id", O_REQUEST},
};

/* ------------------------------------------------------------------ */
/* Store helpers                                                       */
/* ------------------------------------------------------------------ */

static struct hs_server srv;

/* Run a statement; returns the rows (in `a`) or NULL on failure. */
static struct store_rows *
db_rows(struct gu_arena *a, const char *sql, const struct store_val *p,
        size_t n)
{
    struct store_conn *c = NULL;
    struct store_rows *r = NULL;
    struct gu_err err;

    gu_err_clear(&err);
    if (store_acquire(srv.store, &c, &err) != 0 ||
        store_query(c, a, sql, p, n, &r, &err) != 0) {
        fprintf(stderr, "  sql failed: %s: %s\n", sql, err.msg);
        r = NULL;
    }
    store_release(c);
    return r;
}

static int
db_exec(const char *sql)
{
    struct store_conn *c = NULL;
    struct gu_err err;
    int rc;

    gu_err_clear(&err);
    rc = store_acquire(srv.store, &c, &err);
    if (rc == 0)
        rc = store_exec(c, sql, NULL, 0, &err);
    if (rc != 0)
        TH_FAIL("seed sql: %s: %s", sql, err.msg);
    store_release(c);
    return rc;
}

/* The first cell of a query with A's insee bound to every `?`, as text. */
static void
db_first(const char *sql, char *out, size_t cap)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_val p[] = {STORE_T(INSEE_A), STORE_T(INSEE_A)};
    size_t np = 0;
    struct store_rows *r;

    out[0] = '\0';
    for (const char *q = sql; *q; q++)
        np += *q == '?';
    r = a ? db_rows(a, sql, p, np) : NULL;
    if (r && r->nrows) {
        const struct store_val *v = store_cell(r, 0, 0);
        if (v->type == STORE_INT)
            snprintf(out, cap, "%lld", (long long)v->i);
        else if (v->type == STORE_TEXT)
            snprintf(out, cap, "%s", v->s);
    }
    gu_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* Fingerprint of A's rows                                             */
/* ------------------------------------------------------------------ */

#define MAX_TABLES 128

struct table_fp {
    char name[64];
    long rows;
    uint64_t sum, xr; /* order-independent: sum and xor of row hashes */
};

struct fingerprint {
    struct table_fp t[MAX_TABLES];
    size_t n;
    bool ok;
};

/* Instance bookkeeping, not a commune's data. */
static const char *const fp_skip[] = {"rate_limits", "schema_migrations",
                                      "sqlite_sequence"};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t
row_hash(const struct store_rows *r, size_t row)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t c = 0; c < r->ncols; c++) {
        const struct store_val *v = store_cell(r, row, c);
        unsigned char tag = (unsigned char)v->type;
        h = fnv(h, &tag, 1);
        switch (v->type) {
        case STORE_INT:
            h = fnv(h, &v->i, sizeof(v->i));
            break;
        case STORE_REAL:
            h = fnv(h, &v->d, sizeof(v->d));
            break;
        case STORE_TEXT:
        case STORE_BLOB:
            h = fnv(h, v->s, v->n);
            break;
        case STORE_NULL:
            break;
        }
    }
    return h;
}

static void
fingerprint_take(struct fingerprint *fp)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *cols;
    const char *list_sql =
        strcmp(store_backend(srv.store), "sqlite") == 0
            ? "SELECT m.name, p.name FROM sqlite_master m, "
              "pragma_table_info(m.name) p WHERE m.type = 'table' "
              "ORDER BY m.name"
            : "SELECT table_name, column_name FROM information_schema.columns"
              " WHERE table_schema = current_schema() ORDER BY table_name";

    memset(fp, 0, sizeof(*fp));
    cols = a ? db_rows(a, list_sql, NULL, 0) : NULL;
    if (!cols) {
        gu_arena_free(a);
        return;
    }
    fp->ok = true;
    for (size_t i = 0; i < cols->nrows; i++) {
        const char *tname = store_text(cols, i, 0);
        bool has_insee = false, skip = false;
        size_t j = i;
        char sql[512];
        struct store_rows *r;
        struct table_fp *t;

        while (j < cols->nrows && strcmp(store_text(cols, j, 0), tname) == 0) {
            has_insee |= strcmp(store_text(cols, j, 1), "insee") == 0;
            j++;
        }
        i = j - 1;
        for (size_t k = 0; k < GU_ARRAY_LEN(fp_skip); k++)
            skip |= strcmp(tname, fp_skip[k]) == 0;
        if (skip || fp->n == MAX_TABLES)
            continue;
        /* A and its training sandboxes. */
        if (has_insee)
            snprintf(sql, sizeof(sql),
                     "SELECT * FROM %s WHERE insee = ? OR insee IN (SELECT "
                     "insee FROM acad_sandboxes WHERE parent = ?)",
                     tname);
        else if (strcmp(tname, "agents") == 0)
            snprintf(sql, sizeof(sql),
                     "SELECT * FROM agents WHERE id IN (SELECT agent_id FROM "
                     "agent_communes WHERE insee = ? OR insee IN (SELECT "
                     "insee FROM acad_sandboxes WHERE parent = ?))");
        else
            snprintf(sql, sizeof(sql), "SELECT * FROM %s", tname);
        {
            struct store_val p[] = {STORE_T(INSEE_A), STORE_T(INSEE_A)};
            bool bound = has_insee || strcmp(tname, "agents") == 0;
            r = db_rows(a, sql, p, bound ? 2 : 0);
        }
        t = &fp->t[fp->n++];
        snprintf(t->name, sizeof(t->name), "%s", tname);
        if (!r) {
            fp->ok = false;
            continue;
        }
        t->rows = (long)r->nrows;
        for (size_t k = 0; k < r->nrows; k++) {
            uint64_t h = row_hash(r, k);
            t->sum += h;
            t->xr ^= h;
        }
    }
    gu_arena_free(a);
}

/* Names the tables of A that differ; returns how many. */
static int
fingerprint_diff(const struct fingerprint *before,
                 const struct fingerprint *after, const char *what)
{
    int diffs = 0;

    for (size_t i = 0; i < before->n; i++) {
        const struct table_fp *b = &before->t[i], *x = NULL;
        for (size_t k = 0; k < after->n && !x; k++)
            if (strcmp(after->t[k].name, b->name) == 0)
                x = &after->t[k];
        if (!x) {
            TH_FAIL("%s: table %s of %s disappeared", what, b->name, INSEE_A);
            diffs++;
        } else if (x->rows != b->rows || x->sum != b->sum || x->xr != b->xr) {
            TH_FAIL("LEAK (write) %s: rows of %s in %s changed (%ld -> %ld "
                    "rows)",
                    what, INSEE_A, b->name, b->rows, x->rows);
            diffs++;
        }
    }
    return diffs;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

/* One request on a fresh connection, 120 s timeout (retrains, fits). */
static int
send_req(const char *method, const char *path, const char *auth,
         const char *ctype, const char *body, struct hs_resp *out)
{
    struct hs_conn c;
    struct gu_buf b;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    gu_buf_init(&b);
    gu_buf_printf(&b,
                  "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Connection: close\r\n%s",
                  method, path, auth ? auth : "");
    if (body)
        gu_buf_printf(&b, "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype,
                      strlen(body));
    gu_buf_puts(&b, "\r\n");
    if (body)
        gu_buf_puts(&b, body);
    if (!b.oom && hs_conn_open(&c, srv.port, 120000) == 0) {
        if (hs_conn_send(&c, b.p, b.n) == 0)
            rc = hs_conn_read(&c, false, out);
        hs_conn_close(&c);
    }
    gu_buf_fini(&b);
    return rc;
}

/* A JSON request as A's admin token: the answer's JSON or NULL. */
static json_t *
as_a(const char *method, const char *path, json_t *body, int *status)
{
    char auth[160];
    char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct hs_resp r;
    json_t *j = NULL;

    json_decref(body);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n",
             srv.seed.token_99001);
    *status = 0;
    if (send_req(method, path, auth, "application/json", txt, &r) == 0) {
        *status = r.status;
        j = hs_json(&r);
        hs_resp_fini(&r);
    }
    free(txt);
    return j;
}

/* ASCII case-insensitive strstr over n bytes. */
static bool
has_marker(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);

    if (!hay)
        return false;
    for (size_t i = 0; i + m <= n; i++) {
        size_t k = 0;
        while (k < m) {
            char c = hay[i + k];
            if (c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            if (c != needle[k])
                break;
            k++;
        }
        if (k == m)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Seeding                                                             */
/* ------------------------------------------------------------------ */

static void
seed_in_process(void)
{
    struct store_conn *c = NULL;
    struct gu_err err;
    size_t loaded = 0;

    gu_err_clear(&err);
    if (store_acquire(srv.store, &c, &err) != 0) {
        TH_FAIL("acquire: %s", err.msg);
        return;
    }
    if (kb_demo_load(c, INSEE_A, "admin", &loaded, &err) < 0 ||
        rdv_demo_seed(c, INSEE_A, &err) < 0 ||
        rdv_risk_demo_history(c, INSEE_A, 60, 0, &err) < 0 ||
        tri_demo_seed(srv.store, c, srv.cfg, INSEE_A, &err) < 0 ||
        fc_demo_seed(c, INSEE_A, &err) < 0 ||
        mon_demo_seed(c, INSEE_A, &err) < 0)
        TH_FAIL("seed of %s: %s", INSEE_A, err.msg);
    /* B: its own lists are not empty (no monitor: sensor codes would
       collide with A's and a code is only unique per commune). */
    gu_err_clear(&err);
    if (kb_demo_load(c, INSEE_B, "admin2", &loaded, &err) < 0 ||
        rdv_demo_seed(c, INSEE_B, &err) < 0 ||
        tri_services_seed(c, INSEE_B, &err) < 0)
        TH_FAIL("seed of %s: %s", INSEE_B, err.msg);
    store_release(c);
}

/* The objects the demo seeders do not make, over HTTP as A's admin. */
static void
seed_over_http(void)
{
    json_t *j;
    int st;
    char path[256], rid[32], conv[128] = "";

    db_first("SELECT min(id) FROM tri_requests WHERE insee = ?", rid,
             sizeof(rid));
    snprintf(path, sizeof(path), "/api/v1/demandes/%s/notes", rid);
    json_decref(as_a(
        "POST", path,
        json_pack("{s:s}", "texte", MARK_PRIV "-NOTE note interne de A"), &st));
    if (st / 100 != 2)
        fprintf(stderr, "  seed: note -> %d\n", st);
    json_decref(as_a("POST", "/api/v1/triage/modeles-reponse",
                     json_pack("{s:s, s:s}", "nom", MARK_PRIV "-TPL modele",
                               "texte", MARK_PRIV "-TPL Bonjour {nom}"),
                     &st));
    if (st / 100 != 2)
        fprintf(stderr, "  seed: template -> %d\n", st);
    json_decref(
        as_a("POST", "/api/v1/triage/sources-courriel",
             json_pack("{s:s, s:s, s:i, s:b}", "type", "maildir", "emplacement",
                       "/tmp/zzpriva-maildir", "periode_s", 3600, "actif", 0),
             &st));
    if (st / 100 != 2)
        fprintf(stderr, "  seed: mail source -> %d\n", st);
    json_decref(
        as_a("POST", "/api/v1/tokens",
             json_pack("{s:s, s:s}", "name", "zzpriva-robot", "role", "agent"),
             &st));
    if (st / 100 != 2)
        fprintf(stderr, "  seed: token -> %d\n", st);
    /* A resident's conversation and its hand-off to A's agents. */
    j = as_a("POST", "/api/v1/chat",
             json_pack("{s:s, s:s}", "commune", INSEE_A, "message",
                       "Puis-je louer la salle des fêtes ?"),
             &st);
    if (j && json_is_string(json_object_get(j, "conversation")))
        snprintf(conv, sizeof(conv), "%s",
                 json_string_value(json_object_get(j, "conversation")));
    json_decref(j);
    if (conv[0]) {
        json_decref(as_a(
            "POST", "/api/v1/chat/handoff",
            json_pack("{s:s, s:s, s:s, s:b}", "conversation", conv, "email",
                      "zzpriva.habitant@example.invalid", "question",
                      MARK_PRIV "-RELAIS salle des fetes", "consent", 1),
            &st));
        if (st / 100 != 2)
            fprintf(stderr, "  seed: handoff -> %d\n", st);
    } else {
        fprintf(stderr, "  seed: chat -> %d (no conversation)\n", st);
    }
    /* A custom training scenario of A (a copy of a shipped one). */
    j = as_a("GET", "/api/v1/formation/scenarios/demande-nid-de-poule", NULL,
             &st);
    if (j && json_is_object(j)) {
        json_t *s = json_is_object(json_object_get(j, "scenario"))
                        ? json_object_get(j, "scenario")
                        : j;
        json_incref(s);
        json_object_set_new(s, "code", json_string("alpha-scenario"));
        json_object_set_new(s, "titre",
                            json_string(MARK_PRIV "-SCENARIO de A"));
        json_decref(as_a("POST", "/api/v1/formation/scenarios", s, &st));
        if (st / 100 != 2)
            fprintf(stderr, "  seed: scenario -> %d\n", st);
    }
    json_decref(j);
}

/*
 * An attempt in A's training sandbox, as A's admin by session. The
 * sandbox is seeded by a background thread: wait until it is ready
 * ("pret"), or its rows would still be moving when A is fingerprinted.
 */
static void
seed_attempt(void)
{
    char *cookie = NULL, *csrf = NULL, auth[512], state[32] = "";
    struct hs_resp r;

    if (hs_login(srv.port, "admin", HS_PASSWORD, &cookie, &csrf) != 0) {
        TH_FAIL("login of A's admin");
        return;
    }
    snprintf(auth, sizeof(auth), "Cookie: %s\r\nX-CSRF-Token: %s\r\n", cookie,
             csrf);
    if (send_req("POST", "/api/v1/formation/bac-a-sable/entrer", auth,
                 "application/json", "{}", &r) == 0) {
        if (r.status / 100 != 2)
            fprintf(stderr, "  seed: sandbox -> %d %s\n", r.status, r.body);
        hs_resp_fini(&r);
    }
    for (int i = 0; i < 1200 && strcmp(state, "pret") != 0; i++) {
        hs_sleep_ms(250);
        db_first("SELECT state FROM acad_sandboxes WHERE parent = ?", state,
                 sizeof(state));
    }
    if (strcmp(state, "pret") != 0)
        TH_FAIL("A's sandbox is not ready after 5 minutes (%s)", state);
    if (send_req("POST", "/api/v1/formation/scenarios/alpha-scenario/lancer",
                 auth, "application/json", "{}", &r) == 0) {
        if (r.status / 100 != 2)
            fprintf(stderr, "  seed: attempt -> %d %s\n", r.status, r.body);
        hs_resp_fini(&r);
    }
    if (send_req("POST", "/api/v1/formation/bac-a-sable/sortir", auth,
                 "application/json", "{}", &r) == 0)
        hs_resp_fini(&r);
    gu_free(cookie);
    gu_free(csrf);
}

/* Markers in A's rows, then A's ids. */
static void
mark_and_collect(void)
{
    static const char *const marks[] = {
        /* What only A's agents may see. */
        "UPDATE agents SET name = name || ' " MARK_PRIV "-AGENT' WHERE id IN "
        "(SELECT agent_id FROM agent_communes WHERE insee = '" INSEE_A "')"
        " AND id NOT IN (SELECT agent_id FROM agent_communes WHERE insee ="
        " '" INSEE_B "')",
        "UPDATE api_tokens SET name = '" MARK_PRIV
        "-' || name WHERE insee = '" INSEE_A "'",
        "UPDATE rdv_bookings SET name = '" MARK_PRIV
        "-RDV ' || name, note = '" MARK_PRIV "-RDVNOTE' WHERE insee = '" INSEE_A
        "'",
        "UPDATE tri_requests SET subject = '" MARK_PRIV "-DEM ' || "
        "coalesce(subject, ''), body = '" MARK_PRIV "-DEM ' || body, "
        "subject_redacted = '" MARK_PRIV "-DEM ' || coalesce(subject_redacted,"
        " ''), body_redacted = '" MARK_PRIV "-DEM ' || coalesce(body_redacted,"
        " ''), contact_name = '" MARK_PRIV "-HABITANT' WHERE insee = '" INSEE_A
        "'",
        "UPDATE tri_messages SET body = '" MARK_PRIV "-MSG ' || body, "
        "body_redacted = '" MARK_PRIV "-MSG ' || coalesce(body_redacted, '') "
        "WHERE insee = '" INSEE_A "'",
        "UPDATE fc_events SET label = '" MARK_PRIV "-EVT ' || label WHERE "
        "insee = '" INSEE_A "'",
        "UPDATE mon_assets SET name = name || ' " MARK_PRIV
        "-EQUIP', notes = '" MARK_PRIV "-EQUIPNOTE' WHERE insee = '" INSEE_A
        "'",
        "UPDATE mon_sensors SET name = name || ' " MARK_PRIV "-CAPTEUR' WHERE "
        "insee = '" INSEE_A "'",
        "UPDATE mon_tickets SET title = '" MARK_PRIV "-TICKET ' || title WHERE"
        " insee = '" INSEE_A "'",
        "UPDATE mon_alerts SET comment = '" MARK_PRIV
        "-ALERTE' WHERE insee = '" INSEE_A "'",
        /* One archived fiche and one inactive motif: not public either. */
        "UPDATE kb_fiches SET archived = 1, title = '" MARK_PRIV "-ARCHIVE "
        "' || title WHERE id = (SELECT max(id) FROM kb_fiches WHERE insee = "
        "'" INSEE_A "')",
        "UPDATE rdv_motifs SET active = 0, name = '" MARK_PRIV "-MOTIF ' || "
        "name WHERE id = (SELECT max(id) FROM rdv_motifs WHERE insee = "
        "'" INSEE_A "')",
        /* What A publishes (its portal, motifs, public fiches). */
        "UPDATE communes SET address = '" MARK_PUB "-ADRESSE 1 place' WHERE "
        "insee = '" INSEE_A "'",
        "UPDATE kb_fiches SET title = title || ' " MARK_PUB "-FICHE' WHERE "
        "insee = '" INSEE_A "' AND archived = 0",
        "UPDATE rdv_places SET name = name || ' " MARK_PUB "-LIEU' WHERE insee"
        " = '" INSEE_A "'",
        "UPDATE rdv_motifs SET name = name || ' " MARK_PUB "-MOTIF' WHERE "
        "insee = '" INSEE_A "' AND active = 1",
        "UPDATE rdv_counters SET name = name || ' " MARK_PUB "-GUICHET' WHERE"
        " insee = '" INSEE_A "'",
        "UPDATE tri_services SET name = name || ' " MARK_PUB "-SERVICE' WHERE"
        " insee = '" INSEE_A "'",
        /* The transparency page names the canteens and their methods. */
        "UPDATE fc_series SET name = name || ' " MARK_PUB "-SERIE' WHERE insee"
        " = '" INSEE_A "'",
    };
    static const struct {
        int obj;
        const char *sql;
    } ids[] = {
        {O_INSEE, "SELECT insee FROM communes WHERE insee = ?"},
        {O_AGENT, "SELECT min(agent_id) FROM agent_communes WHERE insee = ? "
                  "AND agent_id NOT IN (SELECT agent_id FROM agent_communes"
                  " WHERE insee = '" INSEE_B "')"},
        /* Not the token this test uses as A (the control revokes it). */
        {O_TOKEN, "SELECT max(id) FROM api_tokens WHERE insee = ? AND "
                  "revoked_at = 0"},
        /* Local fiches are named "L<id>" in routes. */
        {O_FICHE, "SELECT 'L' || min(id) FROM kb_fiches WHERE insee = ? AND "
                  "archived = 0"},
        {O_HANDOFF, "SELECT min(id) FROM asst_handoffs WHERE insee = ?"},
        {O_SERIES, "SELECT min(id) FROM fc_series WHERE insee = ?"},
        {O_FC_EVENT, "SELECT min(id) FROM fc_events WHERE insee = ?"},
        {O_FC_ALERT, "SELECT min(id) FROM fc_alerts WHERE insee = ?"},
        {O_ASSET, "SELECT min(id) FROM mon_assets WHERE insee = ?"},
        {O_SENSOR, "SELECT min(code) FROM mon_sensors WHERE insee = ?"},
        {O_MON_ALERT, "SELECT min(id) FROM mon_alerts WHERE insee = ?"},
        {O_TICKET, "SELECT min(id) FROM mon_tickets WHERE insee = ?"},
        {O_REQUEST, "SELECT min(id) FROM tri_requests WHERE insee = ?"},
        {O_ATTACHMENT, "SELECT min(id) FROM tri_attachments WHERE insee = ?"},
        {O_SERVICE, "SELECT min(id) FROM tri_services WHERE insee = ?"},
        {O_TEMPLATE, "SELECT min(id) FROM tri_templates WHERE insee = ?"},
        {O_MAILSRC, "SELECT min(id) FROM tri_mail_sources WHERE insee = ?"},
        {O_PLACE, "SELECT min(id) FROM rdv_places WHERE insee = ?"},
        {O_COUNTER, "SELECT min(id) FROM rdv_counters WHERE insee = ?"},
        {O_MOTIF, "SELECT min(id) FROM rdv_motifs WHERE insee = ? AND "
                  "active = 1"},
        {O_RANGE, "SELECT min(id) FROM rdv_ranges WHERE insee = ?"},
        {O_ABSENCE, "SELECT min(id) FROM rdv_absences WHERE insee = ?"},
        {O_BOOKING, "SELECT max(id) FROM rdv_bookings WHERE insee = ?"},
        {O_ATTEMPT, "SELECT min(id) FROM acad_attempts WHERE insee = ? OR "
                    "insee IN (SELECT insee FROM acad_sandboxes WHERE parent"
                    " = ?)"},
        {O_SCENARIO, "SELECT min(code) FROM acad_scenarios WHERE insee = ?"},
    };

    for (size_t i = 0; i < GU_ARRAY_LEN(marks); i++)
        db_exec(marks[i]);
    for (size_t i = 0; i < GU_ARRAY_LEN(ids); i++)
        db_first(ids[i].sql, a_obj[ids[i].obj], sizeof(a_obj[0]));
    db_first("SELECT min(contact_email) FROM tri_requests WHERE insee = ? AND"
             " contact_email LIKE '%@%'",
             a_email, sizeof(a_email));
    if (!a_email[0])
        db_first("SELECT min(email) FROM rdv_bookings WHERE insee = ? AND "
                 "email LIKE '%@%'",
                 a_email, sizeof(a_email));
    db_first("SELECT min(phone) FROM rdv_bookings WHERE insee = ? AND phone "
             "<> ''",
             a_phone, sizeof(a_phone));
    for (int i = 0; i < O_COUNT; i++)
        if (!a_obj[i][0])
            fprintf(stderr,
                    "  note: A has no %s: its routes get id 999999"
                    " and are not held to the status rule\n",
                    obj_names[i]);
}

/* ------------------------------------------------------------------ */
/* Requests as B                                                       */
/* ------------------------------------------------------------------ */

/* B's identities. */
struct who {
    const char *name;
    const char *own; /* its commune */
    bool session;
    char *cookie, *csrf;
    char auth[512];
};

static int
who_login(struct who *w)
{
    gu_free(w->cookie);
    gu_free(w->csrf);
    w->cookie = w->csrf = NULL;
    if (hs_login(srv.port, "admin2", HS_PASSWORD, &w->cookie, &w->csrf) != 0)
        return -1;
    snprintf(w->auth, sizeof(w->auth), "Cookie: %s\r\nX-CSRF-Token: %s\r\n",
             w->cookie, w->csrf);
    return 0;
}

/* Is B's session still a session of B? (routes may log out, enter a
   sandbox...) Logs in again when not; -1 when that fails. */
static int
who_check(struct who *w, int *relogins)
{
    struct hs_resp r;
    json_t *j = NULL;
    bool fine = false;

    if (send_req("GET", "/api/v1/session", w->auth, NULL, NULL, &r) == 0) {
        const char *insee;
        j = r.status == 200 ? hs_json(&r) : NULL;
        insee = json_string_value(
            json_object_get(json_object_get(j, "commune"), "insee"));
        fine = insee && strcmp(insee, INSEE_B) == 0;
        json_decref(j);
        hs_resp_fini(&r);
    }
    if (fine)
        return 0;
    (*relogins)++;
    return who_login(w);
}

static const char *
obj_value(int obj)
{
    return a_obj[obj][0] ? a_obj[obj] : "999999";
}

static int
id_key_obj(const char *key)
{
    for (size_t i = 0; i < GU_ARRAY_LEN(id_keys); i++)
        if (strcmp(id_keys[i].key, key) == 0)
            return id_keys[i].obj;
    return SHARED;
}

static bool
is_insee_key(const char *key)
{
    return strcmp(key, "c") == 0 || strcmp(key, "insee") == 0 ||
           strcmp(key, "commune") == 0;
}

/* A string that fits the fragment's maxLength. */
static json_t *
fit(json_t *schema, const char *v)
{
    json_t *max = json_object_get(schema, "maxLength");
    size_t n = strlen(v);

    if (json_is_integer(max) && json_integer_value(max) >= 1 &&
        (size_t)json_integer_value(max) < n)
        n = (size_t)json_integer_value(max);
    return json_stringn(v, n);
}

/*
 * A plausible value for a JSON Schema fragment, so that a request passes
 * validation and reaches the tenancy check: consts and enums as given,
 * numbers within their bounds, id-like keys as A's ids, insee-like keys as
 * `insee`, e-mail and phone as A's residents', codes as slugs, times as
 * "HH:MM", strings within maxLength. The caller owns the result.
 */
static json_t *
gen_value(const char *key, json_t *schema, const char *insee, int depth)
{
    json_t *type = json_object_get(schema, "type"), *v;
    const char *t = json_string_value(type), *fmt;
    int obj = key ? id_key_obj(key) : SHARED;

    if ((v = json_object_get(schema, "const")))
        return json_deep_copy(v);
    v = json_object_get(schema, "enum");
    if (json_is_array(v) && json_array_size(v))
        return json_deep_copy(json_array_get(v, 0));
    if (json_is_array(type)) {
        t = NULL;
        for (size_t i = 0; i < json_array_size(type) && !t; i++) {
            const char *x = json_string_value(json_array_get(type, i));
            if (x && strcmp(x, "null") != 0)
                t = x;
        }
    }
    if (!t)
        t = json_object_get(schema, "properties") ? "object" : "string";
    if (strcmp(t, "object") == 0) {
        json_t *o = json_object(),
               *props = json_object_get(schema, "properties");
        const char *k;
        json_t *sub;

        if (depth < 4)
            json_object_foreach(props, k, sub)
                json_object_set_new(o, k, gen_value(k, sub, insee, depth + 1));
        return o;
    }
    if (strcmp(t, "array") == 0) {
        json_t *a = json_array();
        json_t *items = json_object_get(schema, "items");
        json_array_append_new(
            a, gen_value(key, items ? items : json_object(), insee, depth + 1));
        return a;
    }
    if (strcmp(t, "integer") == 0 || strcmp(t, "number") == 0) {
        json_t *min = json_object_get(schema, "minimum");
        json_t *max = json_object_get(schema, "maximum");
        if (obj >= 0 && obj != O_SENSOR && obj != O_SCENARIO) {
            const char *id = obj_value(obj);
            return json_integer(
                strtoll(id + strcspn(id, "0123456789"), NULL, 10));
        }
        if (json_is_number(min) && json_is_number(max)) {
            double mid = (json_number_value(min) + json_number_value(max)) / 2;
            return strcmp(t, "integer") == 0 ? json_integer((json_int_t)mid)
                                             : json_real(mid);
        }
        if (json_is_number(min))
            return json_deep_copy(min);
        /* a number without bounds is often a rate or a share */
        return strcmp(t, "integer") == 0 ? json_integer(1) : json_real(0.1);
    }
    if (strcmp(t, "boolean") == 0)
        return json_true();
    /* strings */
    if (key && is_insee_key(key))
        return json_string(insee);
    if (key && (strstr(key, "mail") || strcmp(key, "courriel") == 0 ||
                strcmp(key, "alert_to") == 0))
        return json_string(a_email[0] ? a_email : "zz@example.invalid");
    if (key && (strstr(key, "phone") || strstr(key, "telephone")))
        return json_string(a_phone[0] ? a_phone : "0612345678");
    if (obj >= 0)
        return json_string(obj_value(obj));
    fmt = json_string_value(json_object_get(schema, "format"));
    if (fmt && strcmp(fmt, "date") == 0)
        return json_string("2026-12-15");
    if (fmt && strcmp(fmt, "date-time") == 0)
        return json_string("2026-12-15T10:00:00+01:00");
    if (key && (strcmp(key, "code") == 0 || json_object_get(schema, "pattern")))
        return fit(schema, "zzbravo-essai");
    if (key && (strstr(key, "night") || strstr(key, "nuit")))
        return json_string("22:00-06:00");
    if (key && (strcmp(key, "start") == 0 || strcmp(key, "debut") == 0))
        return json_string("09:00");
    if (key && (strcmp(key, "end") == 0 || strcmp(key, "fin") == 0))
        return json_string("11:00");
    return fit(schema, B_TEXT);
}

/* The body of a writing request (heap) and its content type. */
static char *
make_body(const struct http_route *rt, const struct who *w, bool name_a,
          const char **ctype)
{
    json_t *o = NULL;
    char *out;

    if (rt->body) {
        json_t *schema = json_loads(rt->body, 0, NULL);
        o = gen_value(NULL, schema ? schema : json_object(),
                      name_a ? INSEE_A : w->own, 0);
        json_decref(schema);
        if (!json_is_object(o)) {
            json_decref(o);
            o = json_object();
        }
    } else if (strncmp(rt->pattern, "/api/", 5) == 0) {
        o = json_object();
    }
    if (o) {
        if (name_a) {
            json_object_set_new(o, "c", json_string(INSEE_A));
            json_object_set_new(o, "insee", json_string(INSEE_A));
            if (!json_object_get(o, "commune"))
                json_object_set_new(o, "commune", json_string(INSEE_A));
        }
        out = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        *ctype = "application/json";
        return out;
    }
    /* An HTML form: the page routes' usual fields. */
    {
        struct gu_buf b;
        gu_buf_init(&b);
        gu_buf_printf(&b, "csrf=%s&texte=ZZBRAVO&nom=ZZBRAVO&titre=ZZBRAVO",
                      w->csrf ? w->csrf : "");
        if (name_a)
            gu_buf_printf(&b,
                          "&c=%s&insee=%s&commune=%s&id=%s&equipement=%s"
                          "&alerte=%s&serie=%s&series=%s&date=2026-12-01"
                          "&kg=1&cout=1&action=ack&courriel=%s",
                          INSEE_A, INSEE_A, INSEE_A, obj_value(O_REQUEST),
                          obj_value(O_ASSET), obj_value(O_MON_ALERT),
                          obj_value(O_SERIES), obj_value(O_SERIES), a_email);
        out = b.oom ? NULL : strdup(b.p);
        gu_buf_fini(&b);
        *ctype = "application/x-www-form-urlencoded";
        return out;
    }
}

/*
 * The path of a route with A's values (or, with `unknown`, ids that exist
 * nowhere in their place); *owned when a parameter addresses an object of
 * A. -1 (test failed) when a parameter has no rule.
 */
static int
make_path(const struct http_route *rt, bool name_a, bool unknown, char *out,
          size_t cap, bool *owned)
{
    struct gu_buf b;
    const char *p = rt->pattern;
    int rc = 0;

    *owned = false;
    gu_buf_init(&b);
    while (*p) {
        if (*p == '{' || (*p == '*' && p[1] == '\0')) {
            char param[64];
            const char *end = *p == '*' ? p + 1 : strchr(p, '}');
            const struct fill_rule *fr = NULL;
            if (!end)
                break;
            snprintf(param, sizeof(param), "%.*s",
                     (int)(*p == '*' ? 1 : end - p - 1), *p == '*' ? p : p + 1);
            for (size_t i = 0; i < GU_ARRAY_LEN(fill_rules) && !fr; i++)
                if (strcmp(fill_rules[i].param, param) == 0 &&
                    strstr(rt->pattern, fill_rules[i].in))
                    fr = &fill_rules[i];
            if (!fr) {
                TH_FAIL("route %s %s: no rule to fill {%s}: teach "
                        "fill_rules[] which object of A it names",
                        rt->method, rt->pattern, param);
                rc = -1;
                break;
            }
            if (fr->obj >= 0 && unknown && fr->obj != O_INSEE) {
                gu_buf_puts(&b, "999999");
            } else if (fr->obj >= 0) {
                gu_buf_puts(&b, obj_value(fr->obj));
                *owned |= a_obj[fr->obj][0] != '\0';
            } else {
                gu_buf_puts(&b, fr->literal);
            }
            p = *p == '*' ? end : end + 1;
        } else {
            gu_buf_append(&b, p, 1);
            p++;
        }
    }
    if (rc == 0 && name_a)
        gu_buf_printf(&b,
                      "?c=%s&insee=%s&commune=%s&limit=1000&tous=1&toutes=1"
                      "&series=%s&equipement=%s&motif=%s&place=%s&lieu=%s"
                      "&service=%s&alerte=%s&counter=%s&scenario=%s"
                      "&from=2025-01-01&to=2027-12-31&q=carte",
                      INSEE_A, INSEE_A, INSEE_A, obj_value(O_SERIES),
                      obj_value(O_ASSET), obj_value(O_MOTIF),
                      obj_value(O_PLACE), obj_value(O_PLACE),
                      obj_value(O_SERVICE), obj_value(O_MON_ALERT),
                      obj_value(O_COUNTER), obj_value(O_SCENARIO));
    if (rc == 0 && !b.oom)
        snprintf(out, cap, "%s", b.p);
    else if (rc == 0)
        rc = -1;
    gu_buf_fini(&b);
    return rc;
}

static bool
is_write(const char *method)
{
    return strcmp(method, "GET") != 0;
}

struct stats {
    int routes, requests, relogins, leaks, write_checks, shells,
        resident_writes, redirects;
    int status[600];
};

/* One route, one identity, one variant. */
static void
exercise(const struct http_route *rt, struct who *w, bool name_a,
         struct stats *st)
{
    char path[2048], what[2300];
    const char *ctype = NULL;
    char *body = NULL;
    bool owned = false;
    struct hs_resp r;

    if (make_path(rt, name_a, false, path, sizeof(path), &owned) != 0)
        return;
    if (is_write(rt->method) && strcmp(rt->method, "DELETE") != 0)
        body = make_body(rt, w, name_a, &ctype);
    snprintf(what, sizeof(what), "%s %s (as B's %s%s)", rt->method, path,
             w->name, name_a ? ", naming A" : "");
    if (send_req(rt->method, path, w->auth, ctype, body, &r) != 0) {
        TH_FAIL("%s: no answer", what);
        free(body);
        return;
    }
    st->requests++;
    if (r.status > 0 && r.status < 600)
        st->status[r.status]++;
    if (has_marker(r.head, r.head ? strlen(r.head) : 0, MARK_PRIV) ||
        has_marker(r.body, r.body_n, MARK_PRIV)) {
        const char *at = NULL;
        for (size_t i = 0; r.body && i + 7 <= r.body_n && !at; i++)
            if (has_marker(r.body + i, 7, MARK_PRIV))
                at = r.body + i;
        TH_FAIL("LEAK (read) %s: status %d, A's private data: %.80s", what,
                r.status, at ? at : "(in headers)");
        st->leaks++;
    }
    if (rt->access != HTTP_PUBLIC && has_marker(r.body, r.body_n, MARK_PUB)) {
        TH_FAIL("LEAK (read) %s: status %d, A's data on B's non-public route",
                what, r.status);
        st->leaks++;
    }
    if (owned && rt->access != HTTP_PUBLIC && r.status / 100 == 2) {
        /* A page that answers the same for an id that exists nowhere (a
           shell whose script then calls the API) tells nothing of A. */
        struct hs_resp u;
        char upath[2048];
        bool dummy, shell = false;
        if (strcmp(rt->method, "GET") == 0 &&
            make_path(rt, name_a, true, upath, sizeof(upath), &dummy) == 0 &&
            send_req("GET", upath, w->auth, NULL, NULL, &u) == 0) {
            shell = u.status == r.status;
            hs_resp_fini(&u);
        }
        if (shell) {
            st->shells++;
            fprintf(stderr,
                    "  note: %s -> %d, the same as for an unknown "
                    "id\n",
                    what, r.status);
        } else {
            TH_FAIL("LEAK (status) %s: %d on an object of %s", what, r.status,
                    INSEE_A);
            st->leaks++;
        }
    }
    if (owned && rt->access != HTTP_PUBLIC && r.status / 100 == 3) {
        char loc[512];
        st->redirects++;
        fprintf(stderr, "  note: %s -> %d %s\n", what, r.status,
                hs_header(&r, "Location", 0, loc, sizeof(loc)) ? loc : "");
    }
    if (r.status >= 500)
        fprintf(stderr, "  note: %s -> %d\n", what, r.status);
    hs_resp_fini(&r);
    free(body);
    if (w->session && who_check(w, &st->relogins) != 0)
        TH_FAIL("after %s: B's admin cannot log in again", what);
}

/*
 * A's fingerprint after a writing route must equal `base`: when it does
 * not, the route is named (as a leak, or as a note for `allowed` writes)
 * and the new state becomes the base, so the next route is judged alone.
 */
static void
check_writes(struct fingerprint *base, struct stats *st, const char *what,
             bool allowed)
{
    struct fingerprint *now = gu_malloc(sizeof(*now));

    if (!now) {
        TH_FAIL("out of memory");
        return;
    }
    fingerprint_take(now);
    st->write_checks++;
    if (allowed) {
        for (size_t i = 0; i < base->n && i < now->n; i++)
            if (base->t[i].rows != now->t[i].rows ||
                base->t[i].sum != now->t[i].sum ||
                base->t[i].xr != now->t[i].xr) {
                fprintf(stderr,
                        "  note: %s wrote %s of %s (%ld -> %ld "
                        "rows), as any resident may\n",
                        what, now->t[i].name, INSEE_A, base->t[i].rows,
                        now->t[i].rows);
                st->resident_writes++;
            }
        *base = *now;
    } else if (fingerprint_diff(base, now, what)) {
        st->leaks++;
        *base = *now;
    }
    gu_free(now);
}

/*
 * Every route of a table, as each of B's identities, plain then naming A.
 * A public route named A is a resident of A's action (filing a request,
 * asking for an explanation): its writes to A are allowed and noted; a
 * plain request (the default commune is B) and every non-public route
 * must leave A as it was.
 */
static void
exercise_table(const struct http_routes *t, struct who *ws, size_t nw,
               struct fingerprint *base, struct stats *st)
{
    for (size_t i = 0; i < t->count; i++) {
        const struct http_route *rt = &t->routes[i];
        bool pub = rt->access == HTTP_PUBLIC, wr = is_write(rt->method);
        char what[256];

        /* Logging out and in is B's own session business, done last. */
        if (strcmp(rt->pattern, "/api/v1/session") == 0 &&
            strcmp(rt->method, "DELETE") == 0)
            continue;
        st->routes++;
        snprintf(what, sizeof(what), "%s %s", rt->method, rt->pattern);
        for (size_t k = 0; k < nw; k++)
            exercise(rt, &ws[k], false, st);
        if (wr && pub)
            check_writes(base, st, what, false);
        for (size_t k = 0; k < nw; k++)
            exercise(rt, &ws[k], true, st);
        if (wr)
            check_writes(base, st, what, pub);
    }
}

/*
 * The control: the same requests as A's own admin token, after B's pass.
 * B's refusals prove something only where A's own request gets through,
 * and the marker check can fail only if A's answers carry the markers:
 * count both, and name the routes where A itself is refused (there, B's
 * refusal may come from validation, not from tenancy).
 */
struct control {
    int owned, owned_ok, lists, lists_marked;
};

static void
control_table(const struct http_routes *t, struct who *a, struct control *c)
{
    for (size_t i = 0; i < t->count; i++) {
        const struct http_route *rt = &t->routes[i];
        char path[2048];
        const char *ctype = NULL;
        char *body = NULL;
        bool owned = false;
        struct hs_resp r;

        if (rt->access == HTTP_PUBLIC ||
            strncmp(rt->pattern, "/api/v1/session", 15) == 0)
            continue;
        if (make_path(rt, false, false, path, sizeof(path), &owned) != 0)
            continue;
        /* DELETE would take later routes' objects away: B's DELETEs are
           judged by A's fingerprint alone. */
        if ((!owned && strcmp(rt->method, "GET") != 0) ||
            strcmp(rt->method, "DELETE") == 0)
            continue;
        if (is_write(rt->method) && strcmp(rt->method, "DELETE") != 0)
            body = make_body(rt, a, false, &ctype);
        if (send_req(rt->method, path, a->auth, ctype, body, &r) != 0) {
            free(body);
            continue;
        }
        if (owned) {
            c->owned++;
            if (r.status / 100 == 2 || r.status / 100 == 3)
                c->owned_ok++;
            else
                fprintf(stderr,
                        "  control: %s %s as A's admin -> %d %.160s"
                        "\n",
                        rt->method, path, r.status,
                        getenv("ISO_VERBOSE") && r.body ? r.body : "");
        } else {
            c->lists++;
            c->lists_marked += has_marker(r.body, r.body_n, MARK_PRIV) ||
                               has_marker(r.body, r.body_n, MARK_PUB);
        }
        hs_resp_fini(&r);
        free(body);
    }
}

static void
test_every_route_isolated(void)
{
    static struct fingerprint before, base, after;
    struct who ws[2];
    struct stats *st = gu_calloc(1, sizeof(*st));
    const struct http_routes *tables;
    size_t ntables;
    struct hs_resp r;

    /* A plain public request lands on B; naming A is explicit. */
    static const char *const ov[] = {"commune.default=" INSEE_B, NULL};

    if (!st || hs_server_start(&srv, ov) != 0) {
        TH_FAIL("server did not start");
        gu_free(st);
        return;
    }
    seed_in_process();
    seed_over_http();
    seed_attempt();
    mark_and_collect();
    fingerprint_take(&before);
    CHECK(before.ok);
    {
        long arows = 0;
        for (size_t i = 0; i < before.n; i++)
            arows += before.t[i].rows;
        fprintf(stderr, "  A's fingerprint: %zu tables, %ld rows\n", before.n,
                arows);
    }

    memset(ws, 0, sizeof(ws));
    ws[0].name = "admin session";
    ws[0].own = ws[1].own = INSEE_B;
    ws[0].session = true;
    ws[1].name = "admin token";
    snprintf(ws[1].auth, sizeof(ws[1].auth), "Authorization: Bearer %s\r\n",
             srv.seed.token_99002);
    if (who_login(&ws[0]) != 0) {
        TH_FAIL("login of B's admin");
        goto out;
    }

    tables = hs_tables(&ntables);
    base = before;
    exercise_table(web_builtin_routes(), ws, 2, &base, st);
    for (size_t i = 0; i < ntables; i++)
        exercise_table(&tables[i], ws, 2, &base, st);
    /* Last, B logs out: its own session only. */
    if (send_req("DELETE", "/api/v1/session", ws[0].auth, NULL, NULL, &r) ==
        0) {
        st->requests++;
        st->routes++;
        if (r.status > 0 && r.status < 600)
            st->status[r.status]++;
        hs_resp_fini(&r);
    }

    fingerprint_take(&after);
    CHECK(after.ok);
    /* Residents' writes moved the base; B's never did. */
    if (fingerprint_diff(&base, &after, "after every route"))
        st->leaks++;

    {
        struct who a;
        struct control ctl = {0};
        memset(&a, 0, sizeof(a));
        a.name = "A's admin token";
        a.own = INSEE_A;
        snprintf(a.auth, sizeof(a.auth), "Authorization: Bearer %s\r\n",
                 srv.seed.token_99001);
        control_table(web_builtin_routes(), &a, &ctl);
        for (size_t i = 0; i < ntables; i++)
            control_table(&tables[i], &a, &ctl);
        printf("isolation: control as A's admin: %d of %d requests on A's "
               "objects get through, A's markers in %d of %d of its "
               "non-public GET answers\n",
               ctl.owned_ok, ctl.owned, ctl.lists_marked, ctl.lists);
        /* The markers are seen when they are there. */
        CHECK(ctl.lists_marked >= 10);
        CHECK(ctl.owned_ok * 2 >= ctl.owned);
    }

    printf("isolation: %d routes, %d requests as B (session and token, "
           "plain and naming %s), %d write checks of A's %zu tables, "
           "%d re-logins, %d 2xx shells (same answer for an unknown id), "
           "%d redirects on A's ids, %d tables written by public routes "
           "naming %s, %d leaks\n",
           st->routes, st->requests, INSEE_A, st->write_checks, before.n,
           st->relogins, st->shells, st->redirects, st->resident_writes,
           INSEE_A, st->leaks);
    printf("isolation: statuses:");
    for (int s = 100; s < 600; s++)
        if (st->status[s])
            printf(" %d:%d", s, st->status[s]);
    printf("\n");
    CHECK(st->routes > 200);
    CHECK_EQ(st->leaks, 0);
out:
    gu_free(ws[0].cookie);
    gu_free(ws[0].csrf);
    gu_free(st);
    hs_server_stop(&srv);
}

TESTS(T(test_every_route_isolated))
