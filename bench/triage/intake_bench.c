/*
 * intake_bench.c - figures of the inbox engine (never pass/fail):
 *   - the default models' training at a commune's first request (seed
 *     corpus, service and urgency models), and a second commune with the
 *     same services (memoised: only the rows are written);
 *   - tri_intake() requests per second on a SQLite file (WAL), each one
 *     redacted, classified, checked for urgency and duplicates against
 *     the open requests (up to 400), numbered, stored with its decisions,
 *     its audit entry and, one in two, an acknowledgement e-mail queued;
 *   - tri_list() of an inbox page (50 rows) and tri_get() per second.
 * The texts are the seed corpus's, cycled. Run by bench/triage/intake.sh.
 */
#include "app/app.h"
#include "triage/tri_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double
secs(int64_t ms)
{
    return (double)ms / 1000.0;
}

static int
commune(struct store_conn *c, const char *insee, const char *name)
{
    struct store_commune m;
    struct gu_err err;

    memset(&m, 0, sizeof(m));
    memcpy(m.insee, insee, 6);
    m.name = name;
    m.zone = "B";
    m.hours = m.address = m.phone = m.email = "";
    return store_commune_create(c, &m, &err);
}

int
main(int argc, char **argv)
{
    int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 1000;
    char path[] = "/tmp/guichet-intake-bench-XXXXXX";
    char url[128];
    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct gu_config *cfg = NULL;
    struct gu_arena *a = gu_arena_new(0), *seed_a = gu_arena_new(0);
    struct tri_seed_row *seed = NULL;
    struct tri_model_ref *ref = NULL;
    struct gu_err err;
    size_t ns = 0;
    int64_t t0;
    int fd;

    gu_log_set_level(GU_LOG_WARN);
    fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    unlink(path);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    if (gu_crypto_init() < 0 || store_open(url, &st, &err) < 0 ||
        app_migrate(st, NULL, &err) < 0 || store_acquire(st, &c, &err) < 0 ||
        gu_config_defaults(&cfg, &err) < 0 ||
        commune(c, "99001", "Saint-Exemple-sur-Loire") < 0 ||
        commune(c, "99002", "Autre-Exemple") < 0 ||
        tri_seed_rows(seed_a, &seed, &ns, &err) < 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    t0 = gu_now_ms();
    if (tri_model_get(st, c, "99001", &ref, &err) < 0) {
        fprintf(stderr, "model: %s\n", err.msg);
        return 1;
    }
    tri_model_put(ref);
    printf("modèles par défaut (service + urgence, %zu exemples) : %.2f s\n",
           ns, secs(gu_now_ms() - t0));
    t0 = gu_now_ms();
    if (tri_model_get(st, c, "99002", &ref, &err) < 0)
        return 1;
    tri_model_put(ref);
    printf("deuxième commune, mêmes services (mémoïsé) : %.3f s\n",
           secs(gu_now_ms() - t0));

    t0 = gu_now_ms();
    for (int i = 0; i < n; i++) {
        struct tri_intake_req r;
        struct tri_intake_res res;

        memset(&r, 0, sizeof(r));
        r.insee = "99001";
        r.channel = (enum tri_channel)(i % 6);
        r.body = seed[(size_t)i % ns].text;
        r.contact_email = i % 2 ? "habitant@example.org" : NULL;
        r.lat = 47.39 + 0.001 * (i % 50);
        r.lon = 0.68 + 0.001 * (i % 37);
        if (tri_intake(st, c, cfg, &r, a, &res, &err) < 0) {
            fprintf(stderr, "intake %d: %s\n", i, err.msg);
            return 1;
        }
        if (i % 64 == 63) {
            gu_arena_free(a);
            a = gu_arena_new(0);
        }
    }
    {
        double s = secs(gu_now_ms() - t0);

        printf("tri_intake : %d demandes en %.2f s, %.0f demandes/s "
               "(%.2f ms chacune)\n",
               n, s, n / s, 1000.0 * s / n);
    }
    {
        struct tri_filter f;
        struct tri_request *v = NULL, q;
        size_t k = 0;
        int rounds = 200;

        memset(&f, 0, sizeof(f));
        f.status = -1;
        t0 = gu_now_ms();
        for (int i = 0; i < rounds; i++) {
            if (tri_list(c, a, "99001", &f, &v, &k, &err) < 0)
                return 1;
            gu_arena_free(a);
            a = gu_arena_new(0);
        }
        printf("tri_list (50 demandes ouvertes) : %.0f pages/s\n",
               rounds / secs(gu_now_ms() - t0 + 1));
        t0 = gu_now_ms();
        for (int i = 0; i < n; i++) {
            if (tri_get(c, a, "99001", 1 + i % n, &q, &err) < 0)
                return 1;
            if (i % 64 == 63) {
                gu_arena_free(a);
                a = gu_arena_new(0);
            }
        }
        printf("tri_get : %.0f demandes/s\n", n / secs(gu_now_ms() - t0 + 1));
    }
    gu_arena_free(a);
    gu_arena_free(seed_a);
    store_release(c);
    store_close(st);
    gu_config_free(cfg);
    if (getenv("KEEP")) {
        printf("base gardée : %s\n", path);
        return 0;
    }
    unlink(path);
    {
        char side[200];

        snprintf(side, sizeof(side), "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", path);
        unlink(side);
    }
    return 0;
}
