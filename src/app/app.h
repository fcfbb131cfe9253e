/*
 * app.h - the list of modules: the one place that knows every domain.
 *
 * Each module brings its schema migrations and/or its HTTP route table.
 * main.c (serve, init, migrate) and the HTTP tests read this list, so a
 * server under test is exactly the server in production. Adding a domain
 * is one row in app.c.
 *
 * Layering: app sits on top (it includes every module's public header);
 * nothing includes app but main.c and tests.
 */
#ifndef APP_APP_H
#define APP_APP_H

#include "core/core.h"
#include "store/store.h"
#include "web/http.h"
#include "notify/notify.h"

/*
 * Residents' rights (RGPD art. 15 and 17): who is asking. Both strings
 * are normalised (pii_norm_email / pii_norm_phone) or NULL; at least one
 * is set.
 */
struct app_subject {
    const char *insee;
    const char *email;
    const char *phone;
};

/* What a module holds about a person, and how it forgets it. */
struct app_pdata {
    /*
     * Add to `out` (a JSON object) one member named after the module
     * ("rdv", "demandes"...) holding every row about `who`, in French
     * field names. Read only.
     */
    int (*export_fn)(struct store_conn *c, struct gu_arena *a,
                     const struct app_subject *who, json_t *out,
                     struct gu_err *err);
    /*
     * Erase or anonymise those rows, inside the caller's transaction;
     * *rows (added to) counts the rows touched. Rows that must be kept
     * by law (audit) keep no personal data in the first place.
     */
    int (*erase_fn)(struct store_conn *c, const struct app_subject *who,
                    int64_t *rows, struct gu_err *err);
};

struct app_module {
    const char *name;
    /* The module's migrations, or NULL. */
    const struct store_migration *(*migrations)(size_t *count);
    /* The module's route table, or NULL. */
    const struct http_routes *routes;
    /* The module's background jobs (purges, sending...), or NULL. */
    const struct notify_job *(*jobs)(size_t *count);
    /* What the module holds about residents, or NULL. */
    const struct app_pdata *pdata;
};

/* Every module, in dependency order (a module's tables may reference
 * those of the modules above it). */
const struct app_module *app_modules(size_t *count);

/* The route tables of every module, for web_server_new(). */
size_t app_route_tables(struct http_routes *out, size_t cap);

/* Maximum number of modules (array sizes for the functions below). */
#define APP_MAX_MODULES 32

/* Every module's migration list, in module order; returns how many. */
size_t app_migration_lists(const struct store_migration **lists, size_t *counts,
                           size_t cap);

/* Apply every module's pending migrations in order. */
int app_migrate(struct store *st, int *applied, struct gu_err *err);

/* Maximum number of background jobs of all modules together. */
#define APP_MAX_JOBS 64

/* Every module's jobs, in module order, for notify_runner_start(). */
size_t app_jobs(struct notify_job *out, size_t cap);

#endif
