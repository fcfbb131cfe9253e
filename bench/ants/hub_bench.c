/*
 * hub_bench.c - how fast the ANTS hub endpoints answer with many places.
 * The national search engine gives an editor 15 s; this measures
 * availableTimeSlots for 50 meeting points over 90 days (the widest we
 * answer) against the real server in-process, on SQLite in memory.
 *
 * Setup: 50 places in two communes, 2 counters each, open Monday to
 * Friday 8:30-12:00 and 13:30-17:00, a CNI motif of 20 minutes; one
 * 20-minute slot in three already taken on the first counter of each
 * place (units rows, as bookings hold them). Prints figures, never
 * pass/fail. Build and run: bench/ants/run.sh
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_support.h"
#include "rdv/rdv_ants.h"

#define PLACES 50
#define RUNS 30
#define TOKEN "jeton-bench"

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int
seed(struct hs_server *s, int64_t *ids, int64_t *units)
{
    struct store_conn *c = NULL;
    struct gu_err err;
    int64_t today = gu_now() / 86400, motif[2] = {0, 0}, booking = 0;
    int rc;

    gu_err_clear(&err);
    if ((rc = store_acquire(s->store, &c, &err)) < 0)
        goto out;
    for (int k = 0; k < 2; k++) {
        struct rdv_motif m = {.code = "cni",
                              .name = "Carte d'identité",
                              .duration_min = 20,
                              .per_person = true,
                              .max_people = 5,
                              .max_delay_d = 90,
                              .instructions = "",
                              .changeable = true,
                              .change_until_h = 24,
                              .ants = RDV_ANTS_CNI,
                              .active = true};

        memcpy(m.insee, k ? "99002" : "99001", 6);
        if ((rc = rdv_motif_save(c, &m, &motif[k], &err)) < 0)
            goto out;
    }
    if ((rc = store_begin(c, &err)) < 0)
        goto out;
    for (int i = 0; i < PLACES; i++) {
        const char *insee = i % 5 == 4 ? "99002" : "99001";
        char name[64];
        struct rdv_place p = {.name = name,
                              .address = "1 rue de la Paix",
                              .zip = insee,
                              .city = "Ville",
                              .lat = 45 + i * 0.01,
                              .lon = 2 + i * 0.01,
                              .phone = "",
                              .active = true};

        snprintf(name, sizeof(name), "Mairie %d", i + 1);
        memcpy(p.insee, insee, 6);
        if ((rc = rdv_place_save(c, &p, &ids[i], &err)) < 0)
            goto fail;
        for (int k = 0; k < 2; k++) {
            struct rdv_counter kc = {
                .place_id = ids[i], .name = "Guichet", .active = true};
            int64_t kid = 0, gid = 0;

            memcpy(kc.insee, insee, 6);
            if ((rc = rdv_counter_save(c, &kc, &kid, &err)) < 0)
                goto fail;
            for (int wd = 1; wd <= 5; wd++) {
                static const int span[2][2] = {{510, 720}, {810, 1020}};

                for (int h = 0; h < 2; h++) {
                    struct rdv_range g = {.counter_id = kid,
                                          .weekday = wd,
                                          .start_min = span[h][0],
                                          .end_min = span[h][1],
                                          .every_weeks = 1,
                                          .from_day = today - 7,
                                          .motifs = ""};

                    memcpy(g.insee, insee, 6);
                    if ((rc = rdv_range_save(c, &g, &gid, &err)) < 0)
                        goto fail;
                }
            }
            if (k != 0)
                continue;
            if (!booking) {
                struct store_rows *r = NULL;
                struct gu_arena *a = gu_arena_new(0);
                struct store_val bp[] = {STORE_I(motif[0]), STORE_I(ids[i]),
                                         STORE_I(kid), STORE_I(today),
                                         STORE_I(gu_now())};

                rc = store_query(c, a,
                                 "INSERT INTO rdv_bookings (insee, motif_id, "
                                 "place_id, counter_id, day, start_min, "
                                 "end_min, status, created_at, updated_at) "
                                 "VALUES ('99001', ?, ?, ?, ?, 0, 20, 1, ?, 0) "
                                 "RETURNING id",
                                 bp, 5, &r, &err);
                if (rc == 0)
                    booking = store_int(r, 0, 0);
                gu_arena_free(a);
                if (rc < 0)
                    goto fail;
            }
            /* One 20-minute slot in three taken, every day for 92 days. */
            for (int64_t d = today; d < today + 92; d++) {
                for (int u = 102; u < 204; u += 12) {
                    for (int x = 0; x < 4; x++) {
                        struct store_val up[] = {
                            STORE_I(kid), STORE_I(d), STORE_I(u + x),
                            STORE_I(booking), STORE_T(insee)};

                        if ((rc = store_exec(c,
                                             "INSERT INTO rdv_units "
                                             "(counter_id, day, unit, lane, "
                                             "booking_id, insee) VALUES "
                                             "(?, ?, ?, 0, ?, ?)",
                                             up, 5, &err)) < 0)
                            goto fail;
                        (*units)++;
                    }
                }
            }
        }
    }
    rc = store_commit(c, &err);
    goto out;
fail:
    store_rollback(c);
out:
    if (rc < 0)
        fprintf(stderr, "seed: %s (%s)\n", err.msg, err.user);
    store_release(c);
    return rc < 0 ? -1 : 0;
}

int
main(void)
{
    static const char *const ov[] = {"ants.hub_token=" TOKEN,
                                     "server.public_url=https://rdv.example.fr",
                                     NULL};
    struct hs_server s;
    int64_t ids[PLACES], units = 0, ms[RUNS];
    char path[4096], from[11], to[11];
    size_t o, bytes = 0, slots = 0;

    if (hs_server_start(&s, ov) != 0 || seed(&s, ids, &units) != 0)
        return 1;
    gu_day_iso(gu_now() / 86400, from, sizeof(from));
    gu_day_iso(gu_now() / 86400 + 90, to, sizeof(to));
    o = (size_t)snprintf(path, sizeof(path), "/api/ants/availableTimeSlots?");
    for (int i = 0; i < PLACES; i++)
        o += (size_t)snprintf(path + o, sizeof(path) - o,
                              "meeting_point_ids=%lld&", (long long)ids[i]);
    snprintf(path + o, sizeof(path) - o,
             "start_date=%s&end_date=%s&reason=CNI&documents_number=1", from,
             to);
    for (int r = 0; r < RUNS; r++) {
        struct hs_resp resp;
        int64_t t0 = gu_now_ms();

        if (hs_request(s.port, "GET", path, "X-HUB-RDV-AUTH-TOKEN: " TOKEN,
                       NULL, 0, &resp) != 0 ||
            resp.status != 200) {
            fprintf(stderr, "request failed\n");
            return 1;
        }
        ms[r] = gu_now_ms() - t0;
        if (r == 0) {
            json_t *j = hs_json(&resp);
            const char *k;
            json_t *v;

            bytes = resp.body_n;
            json_object_foreach(j, k, v) slots += json_array_size(v);
            json_decref(j);
        }
        hs_resp_fini(&resp);
    }
    qsort(ms, RUNS, sizeof(ms[0]), cmp_i64);
    printf("availableTimeSlots: %d places, 90 days, %lld units taken, "
           "%zu slots, %zu bytes\n",
           PLACES, (long long)units, slots, bytes);
    printf("  %d runs: min %lld ms, median %lld ms, p90 %lld ms, max %lld "
           "ms\n",
           RUNS, (long long)ms[0], (long long)ms[RUNS / 2],
           (long long)ms[RUNS * 9 / 10], (long long)ms[RUNS - 1]);
    hs_server_stop(&s);
    return 0;
}
