/*
 * tri_engine_fixture.h - what the engine's inbox tests share: an
 * in-memory store with every module's schema (app_migrate), two
 * communes (99001 Saint-Exemple-sur-Loire, 99002 Autre-Exemple), the
 * default configuration, and a helper filing a request.
 *
 * Included by one test file each (static functions, no link clash).
 */
#ifndef TESTS_UNIT_TRI_ENGINE_FIXTURE_H
#define TESTS_UNIT_TRI_ENGINE_FIXTURE_H

#include "app/app.h"
#include "triage/tri_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_url.h"

struct tfix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg;
};

static inline int
tfix_commune(struct tfix *f, const char *insee, const char *name)
{
    struct store_commune m;
    struct gu_err err;

    memset(&m, 0, sizeof(m));
    memcpy(m.insee, insee, 6);
    m.name = name;
    m.zone = "B";
    m.hours = m.address = m.phone = m.email = "";
    return store_commune_create(f->c, &m, &err);
}

static inline int
tfix_open(struct tfix *f)
{
    struct gu_err err;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, NULL, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->cfg, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->a = gu_arena_new(0);
    if (!f->a || tfix_commune(f, "99001", "Saint-Exemple-sur-Loire") < 0 ||
        tfix_commune(f, "99002", "Autre-Exemple") < 0)
        return -1;
    return 0;
}

static inline void
tfix_close(struct tfix *f)
{
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
    gu_config_free(f->cfg);
}

/* A web request with a text (and optionally an e-mail); 0 on failure. */
static inline int64_t
tfix_file(struct tfix *f, const char *insee, const char *body,
          const char *email, struct tri_intake_res *res)
{
    struct tri_intake_req r;
    struct tri_intake_res tmp;
    struct gu_err err;

    memset(&r, 0, sizeof(r));
    r.insee = insee;
    r.channel = TRI_WEB;
    r.subject = "";
    r.body = body;
    r.contact_email = email;
    r.notify = true;
    r.actor = "usager";
    if (!res)
        res = &tmp;
    if (tri_intake(f->s, f->c, f->cfg, &r, f->a, res, &err) < 0) {
        fprintf(stderr, "intake: %s / %s\n", err.msg, err.user);
        return 0;
    }
    return res->id;
}

static inline int64_t
tfix_count(struct tfix *f, const char *sql)
{
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a, sql, NULL, 0, &r, &err) < 0)
        return -1;
    return store_int(r, 0, 0);
}

#endif
