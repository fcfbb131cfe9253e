/*
 * app.c - the list of modules (see app.h).
 */
#include "app/app.h"
#include "admin/admin.h"
#include "kb/kb.h"
#include "portal/portal.h"

static const struct app_module modules[] = {
    {"core", store_core_migrations, NULL},
    {"portal", NULL, &portal_routes},
    {"admin", NULL, &admin_routes},
    {"kb", kb_migrations, &kb_routes},
};

_Static_assert(GU_ARRAY_LEN(modules) <= APP_MAX_MODULES, "APP_MAX_MODULES");

const struct app_module *
app_modules(size_t *count)
{
    *count = GU_ARRAY_LEN(modules);
    return modules;
}

size_t
app_route_tables(struct http_routes *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < GU_ARRAY_LEN(modules) && n < cap; i++) {
        if (modules[i].routes)
            out[n++] = *modules[i].routes;
    }
    return n;
}

size_t
app_migration_lists(const struct store_migration **lists, size_t *counts,
                    size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < GU_ARRAY_LEN(modules) && n < cap; i++) {
        if (!modules[i].migrations)
            continue;
        lists[n] = modules[i].migrations(&counts[n]);
        n++;
    }
    return n;
}

int
app_migrate(struct store *st, int *applied, struct gu_err *err)
{
    const struct store_migration *lists[APP_MAX_MODULES];
    size_t counts[APP_MAX_MODULES];
    size_t n = app_migration_lists(lists, counts, APP_MAX_MODULES);

    return store_migrate(st, lists, counts, n, applied, err);
}
