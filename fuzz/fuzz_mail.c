/*
 * fuzz_mail.c - libFuzzer target for the e-mail import of the request
 * inbox: any bytes as one RFC 5322 message through tri_mail_import_one()
 * on a real SQLite store (sqlite::memory:, every module migrated, the
 * demo commune), so GMime's parsing, the charset and HTML conversions,
 * the attachment checks, the quote trimming, threading and the intake
 * all see the input.
 *
 * Invariants: the message is counted exactly once (created, threaded,
 * skipped or failed) and a failure says why in French; importing the
 * same bytes again never creates anything (idempotence); the store still
 * answers after each input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "triage/tri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;
static struct store_conn *conn;
static struct gu_config *cfg;

static void
setup(void)
{
    struct store_commune m;
    struct gu_err err;
    int applied = 0;

    gu_err_clear(&err);
    gu_log_set_level(GU_LOG_ERROR);
    if (gu_crypto_init() < 0 || store_open("sqlite::memory:", &st, &err) < 0 ||
        app_migrate(st, &applied, &err) < 0 ||
        store_acquire(st, &conn, &err) < 0 ||
        gu_config_defaults(&cfg, &err) < 0 ||
        gu_config_parse_string(cfg,
                               "[smtp]\nfrom = Mairie <mairie@exemple.fr>\n",
                               &err) < 0) {
        fprintf(stderr, "fuzz_mail setup: %s\n", err.msg);
        abort();
    }
    memset(&m, 0, sizeof(m));
    memcpy(m.insee, "99001", 6);
    m.name = "Saint-Exemple-sur-Loire";
    m.zone = "B";
    if (store_commune_create(conn, &m, &err) < 0) {
        fprintf(stderr, "fuzz_mail setup: %s\n", err.msg);
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tri_mail_stats s1 = {0}, s2 = {0};
    struct gu_err err;
    struct gu_arena *a;
    struct store_rows *r = NULL;
    int rc;

    if (!st)
        setup();
    if (size > (1u << 20))
        return 0;
    gu_err_clear(&err);
    rc = tri_mail_import_one(st, conn, cfg, "99001", data, size, &s1, &err);
    if (s1.seen != 1 ||
        s1.created + s1.threaded + s1.skipped + s1.failed != 1)
        abort();
    if ((rc < 0) != (s1.failed == 1))
        abort();
    if ((rc == GU_EINVAL || rc == GU_ETOOBIG) && !err.user[0])
        abort();
    if (rc == GU_EDB || rc == GU_EINTERNAL)
        abort();
    gu_err_clear(&err);
    tri_mail_import_one(st, conn, cfg, "99001", data, size, &s2, &err);
    if (s2.created || s2.threaded)
        abort(); /* the same bytes twice made two requests */
    a = gu_arena_new(0);
    if (!a || store_query(conn, a, "SELECT COUNT(*) FROM tri_requests", NULL,
                          0, &r, &err) < 0 ||
        r->nrows != 1)
        abort();
    gu_arena_free(a);
    return 0;
}
