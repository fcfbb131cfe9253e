/*
 * test_pdata_http.c - the personal-data API where a case file is not
 * enough (the data-driven cases are tests/http/cases/45_personnes.http):
 * the bounds of POST /api/v1/pii/scan (64 KiB of text, 2,000 spans: 413
 * problem+json in French, the server keeps serving), and an erasure by
 * the API freeing the slot of a booking to come, in its commune only.
 */
#include "harness.h"
#include "http_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char INES[] = "{\"courriel\":\"ines.roy@exemple.fr\"}";
static const char JSON_TOKEN[] = "Content-Type: application/json\r\n"
                                 "Authorization: Bearer ";

static int
post(struct hs_server *s, const char *path, const char *token,
     const char *body, size_t n, struct hs_resp *r)
{
    char headers[256];

    snprintf(headers, sizeof(headers), "%s%s", JSON_TOKEN, token);
    return hs_request(s->port, "POST", path, headers, body, n, r);
}

/* {"texte":"<n bytes: `unit` repeated>"} on the heap. */
static char *
scan_body(const char *unit, size_t n, size_t *len)
{
    size_t ul = strlen(unit), k = 0;
    char *b = malloc(n + 32);

    if (!b)
        return NULL;
    k += (size_t)snprintf(b, 32, "{\"texte\":\"");
    for (size_t i = 0; i < n; i++)
        b[k++] = unit[i % ul];
    k += (size_t)snprintf(b + k, 8, "\"}");
    *len = k;
    return b;
}

static void
test_scan_bounds(void)
{
    struct hs_server s;
    struct hs_resp r;
    json_t *j;
    size_t n;
    char *body;

    if (hs_server_start(&s, NULL) != 0) {
        TH_FAIL("server did not start");
        return;
    }
    /* exactly 64 KiB of ordinary text: answered */
    body = scan_body("la mairie est ouverte le samedi. ", 64u << 10, &n);
    CHECK(body && post(&s, "/api/v1/pii/scan", s.seed.token_99001, body, n,
                       &r) == 0);
    CHECK_EQ(r.status, 200);
    j = hs_json(&r);
    CHECK(j && json_integer_value(json_object_get(j, "nombre")) == 0);
    json_decref(j);
    hs_resp_fini(&r);
    free(body);

    /* one byte more: 413, in French, nothing else */
    body = scan_body("la mairie est ouverte le samedi. ", (64u << 10) + 1, &n);
    CHECK(body && post(&s, "/api/v1/pii/scan", s.seed.token_99001, body, n,
                       &r) == 0);
    CHECK_EQ(r.status, 413);
    CHECK_CONTAINS(r.head, "application/problem+json");
    CHECK_CONTAINS(r.body, "64 Ko au plus");
    hs_resp_fini(&r);
    free(body);

    /* 2,001 e-mail addresses in 40 KB: too many spans to list */
    {
        size_t k = 0, cap = 2001 * 24 + 32;
        char *b = malloc(cap);

        CHECK(b != NULL);
        if (b) {
            k += (size_t)snprintf(b, cap, "{\"texte\":\"");
            for (int i = 0; i < 2001; i++)
                k += (size_t)snprintf(b + k, cap - k, "u%d@exemple.fr ", i);
            k += (size_t)snprintf(b + k, cap - k, "\"}");
            CHECK(post(&s, "/api/v1/pii/scan", s.seed.token_99001, b, k,
                       &r) == 0);
            CHECK_EQ(r.status, 413);
            CHECK_CONTAINS(r.body, "2 000 au plus");
            hs_resp_fini(&r);
            free(b);
        }
    }
    /* and the server still serves */
    CHECK(hs_healthy(s.port));
    hs_server_stop(&s);
}

/* A booking to come, written into the store, erased through the API. */
static void
test_erase_frees_slot(void)
{
    struct hs_server s;
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *rows = NULL;
    struct gu_err err;
    struct hs_resp r;
    int64_t day = gu_now() / 86400 + 10, bid = 0, units = -1, status = -1;
    json_t *j;

    if (!a || hs_server_start(&s, NULL) != 0) {
        TH_FAIL("server did not start");
        gu_arena_free(a);
        return;
    }
    if (store_acquire(s.store, &c, &err) == 0) {
        struct store_val p[] = {STORE_I(day)};

        if (store_exec(c,
                       "INSERT INTO rdv_places (id, insee, name, created_at)"
                       " VALUES (900, '99001', 'Mairie', 0)",
                       NULL, 0, &err) < 0 ||
            store_exec(c,
                       "INSERT INTO rdv_counters (id, insee, place_id, name,"
                       " created_at) VALUES (900, '99001', 900, 'G1', 0)",
                       NULL, 0, &err) < 0 ||
            store_exec(c,
                       "INSERT INTO rdv_motifs (id, insee, code, name,"
                       " duration_min, created_at) VALUES (900, '99001',"
                       " 'ec', 'État civil', 15, 0)",
                       NULL, 0, &err) < 0 ||
            store_query(c, a,
                        "INSERT INTO rdv_bookings (insee, motif_id, place_id,"
                        " counter_id, day, start_min, end_min, name, email,"
                        " phone, status, created_at, updated_at) VALUES"
                        " ('99001', 900, 900, 900, ?, 600, 615, 'Inès Roy',"
                        " 'ines.roy@exemple.fr', '', 1, 0, 0) RETURNING id",
                        p, 1, &rows, &err) < 0)
            TH_FAIL("seed: %s", err.msg);
        else
            bid = store_int(rows, 0, 0);
        for (int u = 120; bid && u < 123; u++) {
            struct store_val q[] = {STORE_I(day), STORE_I(u), STORE_I(bid)};

            if (store_exec(c,
                           "INSERT INTO rdv_units (counter_id, day, unit,"
                           " lane, booking_id, insee) VALUES (900, ?, ?, 0,"
                           " ?, '99001')",
                           q, 3, &err) < 0)
                TH_FAIL("units: %s", err.msg);
        }
    }
    store_release(c);
    c = NULL;
    /* the admin of another commune erases nothing of 99001 */
    CHECK(post(&s, "/api/v1/personnes/effacement", s.seed.token_99002,
               INES, strlen(INES), &r) == 0);
    CHECK_EQ(r.status, 200);
    j = hs_json(&r);
    CHECK(j && json_integer_value(json_object_get(j, "lignes")) == 0);
    json_decref(j);
    hs_resp_fini(&r);
    /* the commune's admin does */
    CHECK(post(&s, "/api/v1/personnes/effacement", s.seed.token_99001,
               INES, strlen(INES), &r) == 0);
    CHECK_EQ(r.status, 200);
    j = hs_json(&r);
    CHECK(j && json_integer_value(json_object_get(
                   json_object_get(j, "modules"), "rdv")) >= 2);
    json_decref(j);
    hs_resp_fini(&r);
    if (store_acquire(s.store, &c, &err) == 0) {
        struct store_val p[] = {STORE_I(bid)};

        if (store_query(c, a,
                        "SELECT (SELECT count(*) FROM rdv_units WHERE"
                        " booking_id = ?1), (SELECT status FROM rdv_bookings"
                        " WHERE id = ?1 AND email = '' AND name = '')",
                        p, 1, &rows, &err) == 0) {
            units = store_int(rows, 0, 0);
            status = store_int(rows, 0, 1);
        }
    }
    store_release(c);
    CHECK_EQ(units, 0);
    CHECK_EQ(status, 2); /* RDV_CANCELLED */
    gu_arena_free(a);
    hs_server_stop(&s);
}

TESTS(T(test_scan_bounds), T(test_erase_frees_slot))
