/*
 * tri_agent_pages.c - the agents' side of the request inbox over HTTP:
 * the back-office pages (see tri.h, "HTTP surface"):
 *   /agent/demandes            the inbox (filters, counts, bulk actions)
 *   /agent/demandes/{id}       one request: text, « Pourquoi ? », actions,
 *                              reply, thread, decisions, its case
 *   /agent/demandes/modeles    reply templates
 *   /agent/demandes/services   taxonomy, thresholds, SLA, model card (admin)
 *   /agent/demandes/courriel   e-mail sources (admin)
 * and the JSON routes the pages need besides the inbox's own API
 * (tri_http.c): the agents a request can be assigned to (GET
 * /api/v1/triage/agents, readable by every role, unlike the admin's
 * /api/v1/agents), the inbox's counts (GET /api/v1/triage/compteurs)
 * and « Relever maintenant » for an e-mail source (POST
 * /api/v1/triage/sources-courriel/{id}/releve).
 *
 * The pages are server-rendered shells (web/pages/agent-demandes*.html);
 * their data come from the JSON API through web/js/agent-demandes*.js.
 */
#include "triage/tri.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/*
 * A back-office page of the inbox; agents on a temporary password change
 * it first. Template variables: insee, role (the caller's role in the
 * commune, so that a script hides what the API would refuse anyway),
 * moi (the caller's agent id, for « à moi ») and id (a request's id, or
 * "").
 */
static int
shell(struct http_req *req, struct http_resp *resp, const char *tpl,
      int64_t id)
{
    char me[24], ids[24];
    json_t *vars;
    int rc;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if ((rc = http_need_commune(req)) < 0)
        return rc;
    snprintf(me, sizeof(me), "%" PRId64, req->who.agent_id);
    if (id > 0)
        snprintf(ids, sizeof(ids), "%" PRId64, id);
    else
        ids[0] = '\0';
    vars = json_pack("{s:s, s:s, s:s, s:s}", "insee", req->who.insee, "role",
                     store_role_name(req->who.role), "moi", me, "id", ids);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, tpl, vars);
}

static int
page_inbox(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "agent-demandes.html", 0);
}

/* The back-office's French 404 page (a person never lands on JSON). */
static int
not_found(struct http_req *req, struct http_resp *resp)
{
    json_t *vars = json_pack(
        "{s:s, s:s, s:s}", "status", "404", "title", "Demande introuvable",
        "detail", "Cette demande n’existe pas dans votre commune, ou plus.");

    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 404, "erreur.html", vars);
}

/*
 * GET /agent/demandes/{id}: the request's page. A request of another
 * commune, or none, gets the same 404 as the API (its existence is not
 * disclosed).
 */
static int
page_request(struct http_req *req, struct http_resp *resp)
{
    struct tri_request r;
    int64_t id;
    int rc;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (http_param_id(req, "id", &id) < 0)
        return not_found(req, resp);
    rc = tri_get(req->conn, req->arena, req->who.insee, id, &r, &req->err);
    if (rc == GU_ENOTFOUND)
        return not_found(req, resp);
    if (rc < 0)
        return rc;
    return shell(req, resp, "agent-demandes-detail.html", id);
}

static int
page_templates(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "agent-demandes-modeles.html", 0);
}

static int
page_services(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "agent-demandes-services.html", 0);
}

static int
page_mail(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "agent-demandes-courriel.html", 0);
}

/*
 * GET /api/v1/triage/agents: who a request can be assigned to - the
 * enabled agents with role agent or admin in the active commune (readers
 * cannot work a request). Logins and display names only.
 */
static int
get_agents(struct http_req *req, struct http_resp *resp)
{
    struct store_agent *v = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    rc = store_agent_list(req->conn, req->arena, req->who.insee, &v, &n,
                          &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        enum store_role role;
        if (v[i].disabled)
            continue;
        role = store_agent_role(req->conn, v[i].id, req->who.insee);
        if (role < STORE_ROLE_AGENT)
            continue;
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:s, s:s, s:b}", "id",
                           (json_int_t)v[i].id, "login", v[i].login, "nom",
                           v[i].name && *v[i].name ? v[i].name : v[i].login,
                           "role", store_role_name(role), "moi",
                           v[i].id == req->who.agent_id));
    }
    if (!arr)
        return GU_ENOMEM;
    return http_json(resp, 200, json_pack("{s:o}", "agents", arr));
}

#define OPEN_SQL "status IN ('a_trier', 'nouvelle', 'en_cours', 'attente')"

/*
 * GET /api/v1/triage/compteurs: the inbox's counts - requests per status
 * (all of the commune's), open ones per service (service_id 0 = none, à
 * trier) with how many of them are overdue, and the open ones overdue,
 * assigned to the caller and assigned to nobody (the sums of the service
 * rows). Two grouped reads on the tri_requests_inbox index; nothing
 * personal.
 */
static int
get_counts(struct http_req *req, struct http_resp *resp)
{
    struct store_rows *st = NULL, *sv = NULL;
    int64_t now = gu_now(), open = 0, late = 0, mine = 0, nobody = 0;
    json_t *statuses, *svcs, *j;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    {
        struct store_val p[] = {STORE_T(req->who.insee)};
        rc = store_query(req->conn, req->arena,
                         "SELECT status, COUNT(*) FROM tri_requests"
                         " WHERE insee = ? GROUP BY status",
                         p, 1, &st, &req->err);
    }
    if (rc == 0) {
        struct store_val p[] = {STORE_I(now), STORE_I(req->who.agent_id),
                                STORE_T(req->who.insee)};
        rc = store_query(req->conn, req->arena,
                         "SELECT service_id, COUNT(*), SUM(CASE WHEN"
                         " due_at > 0 AND due_at < ? THEN 1 ELSE 0 END),"
                         " SUM(CASE WHEN assigned_to = ? THEN 1 ELSE 0"
                         " END), SUM(CASE WHEN assigned_to = 0 THEN 1 ELSE"
                         " 0 END) FROM tri_requests WHERE insee = ? AND "
                         OPEN_SQL " GROUP BY service_id",
                         p, 3, &sv, &req->err);
    }
    if (rc < 0)
        return rc;
    statuses = json_object();
    for (int s = TRI_A_TRIER; statuses && s <= TRI_REJETEE; s++)
        json_object_set_new(statuses, tri_status_name((enum tri_status)s),
                            json_integer(0));
    for (size_t i = 0; statuses && i < st->nrows; i++) {
        const char *name = store_text(st, i, 0);
        if (name)
            json_object_set_new(statuses, name,
                                json_integer(store_int(st, i, 1)));
    }
    svcs = json_array();
    for (size_t i = 0; svcs && i < sv->nrows; i++) {
        open += store_int(sv, i, 1);
        late += store_int(sv, i, 2);
        mine += req->who.agent_id > 0 ? store_int(sv, i, 3) : 0;
        nobody += store_int(sv, i, 4);
        json_array_append_new(
            svcs, json_pack("{s:I, s:I, s:I}", "service_id",
                            (json_int_t)store_int(sv, i, 0), "ouvertes",
                            (json_int_t)store_int(sv, i, 1), "en_retard",
                            (json_int_t)store_int(sv, i, 2)));
    }
    if (!statuses || !svcs) {
        json_decref(statuses);
        json_decref(svcs);
        return GU_ENOMEM;
    }
    j = json_pack("{s:o, s:o, s:I, s:I, s:I, s:I}", "statuts", statuses,
                  "services", svcs, "ouvertes", (json_int_t)open,
                  "en_retard", (json_int_t)late, "a_moi", (json_int_t)mine,
                  "sans_attribution", (json_int_t)nobody);
    if (!j)
        return GU_ENOMEM;
    return http_json(resp, 200, j);
}

/*
 * POST /api/v1/triage/sources-courriel/{id}/releve: « Relever maintenant »
 * - one run of an e-mail source now, as the scheduled job does it
 * (tri_mail_import_source records the run and its error on the source).
 * IMAP is bounded by tri_mail.c's timeouts and per-run message count.
 */
static int
post_source_run(struct http_req *req, struct http_resp *resp)
{
    struct tri_mail_stats stats;
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    memset(&stats, 0, sizeof(stats));
    rc = tri_mail_import_source(store_conn_store(req->conn), req->cfg,
                                req->who.insee, id, &stats, &req->err);
    http_audit(req, "tri.mail.releve", "tri_mail_sources",
               "source=%lld vus=%zu crees=%zu rattaches=%zu echecs=%zu%s",
               (long long)id, stats.seen, stats.created, stats.threaded,
               stats.failed, rc < 0 ? " erreur" : "");
    if (rc == GU_ENOTFOUND || rc == GU_ENOMEM || rc == GU_EPERM)
        return rc;
    if (rc < 0) {
        /* The mailbox could not be read (path, server, password): the
         * source's own fault, said in French, not a 500 of Guichet. */
        const char *why = req->err.user[0]
                              ? req->err.user
                              : "la boîte n’a pas pu être lue.";
        const char *detail =
            gu_arena_sprintf(req->arena, "Le relevé a échoué : %s", why);
        if (!detail)
            return GU_ENOMEM;
        return http_problem(resp, 502, "Relevé impossible", detail);
    }
    return http_json(resp, 200,
                     json_pack("{s:I, s:I, s:I, s:I, s:I}", "vus",
                               (json_int_t)stats.seen, "crees",
                               (json_int_t)stats.created, "rattaches",
                               (json_int_t)stats.threaded, "ignores",
                               (json_int_t)stats.skipped, "echecs",
                               (json_int_t)stats.failed));
}

/* ------------------------------------------------------------------ */
/* Table                                                               */
/* ------------------------------------------------------------------ */

static const struct http_route routes[] = {
    /* Pages (HTML; their data come from the JSON API). */
    {"GET", "/agent/demandes", HTTP_LECTEUR, page_inbox, "agent",
     "Demandes : la boîte de réception des agents", NULL, NULL},
    {"GET", "/agent/demandes/modeles", HTTP_LECTEUR, page_templates, "agent",
     "Demandes : modèles de réponse", NULL, NULL},
    {"GET", "/agent/demandes/services", HTTP_ADMIN, page_services, "agent",
     "Demandes : services, seuils, délais et modèle de tri", NULL, NULL},
    {"GET", "/agent/demandes/courriel", HTTP_ADMIN, page_mail, "agent",
     "Demandes : boîtes aux lettres relevées", NULL, NULL},
    {"GET", "/agent/demandes/{id}", HTTP_LECTEUR, page_request, "agent",
     "Demandes : une demande, son fil et ses décisions", NULL, NULL},

    /* What the pages need besides the inbox's API. */
    {"GET", "/api/v1/triage/agents", HTTP_LECTEUR, get_agents, "demandes",
     "Agents de la commune à qui une demande peut être attribuée (rôle "
     "agent ou administrateur, comptes actifs)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"agents\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
     "\"integer\"},\"login\":{\"type\":\"string\"},\"nom\":{\"type\":"
     "\"string\"},\"role\":{\"type\":\"string\"},\"moi\":{\"type\":"
     "\"boolean\"}}}}}}"},
    {"GET", "/api/v1/triage/compteurs", HTTP_LECTEUR, get_counts, "demandes",
     "Nombre de demandes par statut, demandes ouvertes par service (et en "
     "retard), en retard, attribuées à soi et sans attribution",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"statuts\":{\"type\":"
     "\"object\"},\"services\":{\"type\":\"array\",\"items\":{\"type\":"
     "\"object\",\"properties\":{\"service_id\":{\"type\":\"integer\"},"
     "\"ouvertes\":{\"type\":\"integer\"},\"en_retard\":{\"type\":"
     "\"integer\"}}}},\"ouvertes\":{\"type\":\"integer\"},\"en_retard\":"
     "{\"type\":\"integer\"},\"a_moi\":{\"type\":\"integer\"},"
     "\"sans_attribution\":{\"type\":\"integer\"}}}"},
    {"POST", "/api/v1/triage/sources-courriel/{id}/releve", HTTP_ADMIN,
     post_source_run, "demandes",
     "Relever maintenant une source de courriels (bilan : messages vus, "
     "demandes créées, réponses rattachées, ignorés, en échec)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"vus\":{\"type\":"
     "\"integer\"},\"crees\":{\"type\":\"integer\"},\"rattaches\":"
     "{\"type\":\"integer\"},\"ignores\":{\"type\":\"integer\"},"
     "\"echecs\":{\"type\":\"integer\"}}}"},
};

const struct http_routes tri_agent_routes = {"triage-agent", routes,
                                             GU_ARRAY_LEN(routes)};
