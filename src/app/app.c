/*
 * app.c - the list of modules (see app.h).
 */
#include "app/app.h"
#include "app/app_rights.h"
#include "admin/admin.h"
#include "assistant/asst.h"
#include "assistant/asst_pages.h"
#include "kb/kb.h"
#include "portal/portal.h"
#include "privacy/privacy.h"
#include "rdv/rdv.h"
#include "triage/tri.h"
#include "forecast/fc.h"
#include "monitor/mon.h"
#include "voice/voice.h"
#include "academy/acad.h"
#include "insight/ins.h"

/* ----- the core's jobs: log checkpoints, purges of the tenancy tables ----- */

static int
purge_sessions(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    struct store_conn *c = NULL;
    int rc;

    (void)cfg;
    rc = store_acquire(s, &c, err);
    if (rc == 0)
        rc = store_session_purge(c, err);
    store_release(c);
    return rc;
}

static int
purge_rates(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    struct store_conn *c = NULL;
    int rc;

    (void)cfg;
    rc = store_acquire(s, &c, err);
    /* a day covers the longest rate-limit window in use */
    if (rc == 0)
        rc = store_rate_purge(c, 86400, err);
    store_release(c);
    return rc;
}

static int
checkpoint(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    (void)cfg;
    return store_checkpoint(s, err);
}

static const struct notify_job core_job_list[] = {
    {"store.checkpoint", 1, checkpoint, false},
    {"session.purge", 3600, purge_sessions, true},
    {"rate.purge", 3600, purge_rates, true},
};

static const struct notify_job *
core_jobs(size_t *count)
{
    *count = GU_ARRAY_LEN(core_job_list);
    return core_job_list;
}

/*
 * The modules. Columns: name, migrations, routes, jobs, personal data. A domain's jobs
 * (asst purge, rdv reminders...) plug in as its row's fourth column.
 */
static const struct app_module modules[] = {
    {"core", store_core_migrations, NULL, core_jobs, NULL},
    {"notify", notify_migrations, NULL, notify_jobs, &app_pdata_notify},
    {"privacy", privacy_migrations, NULL, NULL, NULL},
    {"portal", NULL, &portal_routes, NULL, NULL},
    {"admin", NULL, &admin_routes, NULL, NULL},
    {"kb", kb_migrations, &kb_routes, NULL, NULL},
    {"rdv", rdv_migrations, &rdv_routes, rdv_jobs, &app_pdata_rdv},
    {"rdv-pages", NULL, &rdv_page_routes, NULL, NULL},
    {"rdv-agent", NULL, &rdv_agent_routes, NULL, NULL},
    {"rdv-ants", NULL, &rdv_ants_routes, NULL, NULL},
    {"triage", tri_migrations, &tri_routes, tri_jobs, &app_pdata_triage},
    {"triage-pages", NULL, &tri_page_routes, NULL, NULL},
    {"triage-agent", NULL, &tri_agent_routes, NULL, NULL},
    {"forecast", fc_migrations, &fc_routes, fc_jobs, NULL},
    {"forecast-pages", NULL, &fc_page_routes, NULL, NULL},
    {"monitor", mon_migrations, &mon_routes, mon_jobs, NULL},
    {"monitor-pages", NULL, &mon_page_routes, NULL, NULL},
    {"voice", NULL, &voice_routes, NULL, NULL},
    {"assistant", asst_migrations, &asst_routes, asst_jobs,
     &app_pdata_assistant},
    {"assistant-pages", NULL, &asst_page_routes, NULL, NULL},
    {"personnes", NULL, &app_rights_routes, NULL, NULL},
    {"academy", acad_migrations, &acad_routes, NULL, NULL},
    {"academy-pages", NULL, &acad_page_routes, NULL, NULL},
    {"insight", ins_migrations, &ins_routes, ins_jobs, NULL},
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

size_t
app_jobs(struct notify_job *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < GU_ARRAY_LEN(modules); i++) {
        const struct notify_job *j;
        size_t count = 0;

        if (!modules[i].jobs)
            continue;
        j = modules[i].jobs(&count);
        for (size_t k = 0; k < count && n < cap; k++)
            out[n++] = j[k];
    }
    return n;
}
