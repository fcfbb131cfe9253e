/*
 * store_fix.h - the store fixture most unit tests start from: the test
 * database (th_store_url(): SQLite in memory, or a fresh PostgreSQL schema
 * on the `*_pg` run) with the core migrations and the modules' own, one
 * connection, an arena, and communes created with th_commune().
 *
 *     static const th_migrations_fn mods[] = {notify_migrations,
 *                                             fc_migrations};
 *     struct th_fix f;
 *     if (th_fix_open(&f, mods, GU_ARRAY_LEN(mods)) < 0 ||
 *         th_commune(f.c, "99001", "Saint-Exemple-sur-Loire") < 0) ...
 *     th_fix_close(&f);
 */
#ifndef GU_TEST_STORE_FIX_H
#define GU_TEST_STORE_FIX_H

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "store/store.h"
#include "store_url.h"

#define TH_FIX_MODULES_MAX 15

typedef const struct store_migration *(*th_migrations_fn)(size_t *count);

struct th_fix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
};

/* A commune with this INSEE code and name, zone B, no contacts. */
static inline int
th_commune(struct store_conn *c, const char *insee, const char *name)
{
    struct store_commune m;
    struct gu_err err;

    memset(&m, 0, sizeof(m));
    gu_err_clear(&err);
    snprintf(m.insee, sizeof(m.insee), "%s", insee);
    m.name = name;
    m.zone = "B";
    m.hours = m.address = m.phone = m.email = "";
    if (store_commune_create(c, &m, &err) < 0) {
        fprintf(stderr, "commune %s: %s\n", insee, err.msg);
        return -1;
    }
    return 0;
}

/*
 * Opens the test database migrated with the core's migrations then the
 * `n` modules' (in that order), acquires a connection and makes an arena.
 * Says why on stderr and returns -1 on failure; th_fix_close() is safe
 * after either.
 */
static inline int
th_fix_open(struct th_fix *f, const th_migrations_fn *mods, size_t n)
{
    const struct store_migration *lists[TH_FIX_MODULES_MAX + 1];
    size_t counts[TH_FIX_MODULES_MAX + 1];
    struct gu_err err;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    if (n > TH_FIX_MODULES_MAX) {
        fprintf(stderr, "fixture: %zu modules, at most %d\n", n,
                TH_FIX_MODULES_MAX);
        return -1;
    }
    lists[0] = store_core_migrations(&counts[0]);
    for (size_t i = 0; i < n; i++)
        lists[i + 1] = mods[i](&counts[i + 1]);
    if (gu_crypto_init() < 0 || store_open(th_store_url(), &f->s, &err) < 0 ||
        store_migrate(f->s, lists, counts, n + 1, NULL, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->a = gu_arena_new(0);
    if (!f->a) {
        fprintf(stderr, "fixture: out of memory\n");
        return -1;
    }
    return 0;
}

static inline void
th_fix_close(struct th_fix *f)
{
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
    memset(f, 0, sizeof(*f));
}

#endif
