/*
 * asst_pages.c - the assistant's public pages (see asst_pages.h).
 *
 * /assistant?c=INSEE renders web/pages/assistant.html, which loads the
 * widget (web/js/widget.js) in page mode; without ?c the default commune
 * (commune.default, else the first one) is shown, like the portal.
 *
 * /assistant/suivi/{token} is rendered on the server from
 * asst_handoff_follow() (the same data as GET /api/v1/chat/suivi/{token}),
 * so that a resident following the link of an e-mail needs no script.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "assistant/asst.h"
#include "assistant/asst_pages.h"
#include "web/http.h"

/* The commune of ?c=, or the default one; GU_ENOTFOUND (err set) else. */
static int
page_commune(struct http_req *req, struct store_commune *m)
{
    const char *insee = http_query(req, "c");
    struct store_commune *list = NULL;
    size_t count = 0;
    int rc;

    if (!insee || !*insee) {
        const char *def =
            req->cfg ? gu_config_str(req->cfg, "commune.default") : "";
        insee = def && *def ? def : NULL;
    }
    if (insee) {
        char msg[64];

        if (store_insee_valid(insee)) {
            rc = store_commune_get(req->conn, req->arena, insee, m, &req->err);
            if (rc != GU_ENOTFOUND)
                return rc;
        }
        if (strlen(insee) <= 16)
            snprintf(msg, sizeof(msg), "Commune inconnue : %s.", insee);
        else
            snprintf(msg, sizeof(msg), "Commune inconnue.");
        return gu_err_set(&req->err, GU_ENOTFOUND, "c", msg, "unknown commune");
    }
    rc = store_commune_list(req->conn, req->arena, &list, &count, &req->err);
    if (rc < 0)
        return rc;
    if (count == 0)
        return gu_err_set(&req->err, GU_ENOTFOUND, NULL,
                          "Aucune commune n’est encore configurée.",
                          "no commune configured");
    *m = list[0];
    return 0;
}

/* A French error page for GU_ENOTFOUND (404) or anything else (500). */
static int
error_page(struct http_req *req, struct http_resp *resp, int code)
{
    bool nf = code == GU_ENOTFOUND;
    json_t *vars;

    if (!nf)
        gu_log_error("asst.page", "code=%s", gu_status_name(code));
    vars = json_pack(
        "{s:s, s:s, s:s}", "status", nf ? "404" : "500", "title",
        nf ? "Page introuvable" : "Service momentanément indisponible",
        "detail",
        nf ? (req->err.user[0] ? req->err.user : "Cette page n’existe pas.")
           : "Une erreur est survenue de notre côté. Merci de réessayer "
             "dans quelques instants.");
    if (!vars || !gu_json_arena(req->arena, vars))
        return GU_ENOMEM;
    return http_template(req, resp, nf ? 404 : 500, "erreur.html", vars);
}

static int
get_assistant(struct http_req *req, struct http_resp *resp)
{
    struct store_commune m;
    json_t *vars;
    int rc;

    rc = page_commune(req, &m);
    if (rc < 0)
        return error_page(req, resp, rc);
    vars = json_pack("{s:s, s:s}", "commune", m.name, "insee", m.insee);
    if (!vars || !gu_json_arena(req->arena, vars))
        return GU_ENOMEM;
    return http_template(req, resp, 200, "assistant.html", vars);
}

/* "2026-11-30T22:50:00Z" -> "30/11/2026 23:50" (Paris); "" if unreadable. */
static void
iso_fr(const char *iso, char *out, size_t cap)
{
    struct tm tm;
    const char *end;

    out[0] = 0;
    if (!iso || !*iso)
        return;
    memset(&tm, 0, sizeof(tm));
    end = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return;
    gu_time_fr((int64_t)timegm(&tm), out, cap);
}

/* The resident's words for the inbox status of a hand-off. */
static void
status_words(const char *status, const char **label, const char **cls)
{
    if (status && strcmp(status, "répondu") == 0) {
        *label = "Répondue";
        *cls = "badge-ok";
    } else if (status && strcmp(status, "en cours") == 0) {
        *label = "En cours de traitement";
        *cls = "";
    } else {
        *label = "Transmise, en attente d’un agent";
        *cls = "";
    }
}

static const char *
jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static int
get_follow_page(struct http_req *req, struct http_resp *resp)
{
    struct asst_ctx x;
    json_t *j = NULL, *commune, *vars;
    const char *label, *cls, *answer;
    char created[32], answered[32];
    int rc;

    memset(&x, 0, sizeof(x));
    x.eng = asst_engine_of(store_conn_store(req->conn));
    x.conn = req->conn;
    x.arena = req->arena;
    x.cfg = req->cfg;
    x.request_id = req->request_id;
    x.client_ip = req->client_ip;
    rc = asst_handoff_follow(&x, http_param(req, "token"), &j, &req->err);
    if (rc < 0)
        return error_page(req, resp, rc);
    gu_json_arena(req->arena, j);
    commune = json_object_get(j, "commune");
    status_words(jstr(j, "status"), &label, &cls);
    iso_fr(jstr(j, "created_at"), created, sizeof(created));
    iso_fr(jstr(j, "answered_at"), answered, sizeof(answered));
    answer = jstr(j, "answer_html");
    vars = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "commune",
        jstr(commune, "name"), "insee", jstr(commune, "insee"), "reference",
        jstr(j, "reference"), "status", label, "status_class", cls, "question",
        jstr(j, "question"), "created", created[0] ? created : "—", "answered",
        answered, "answer_html",
        *answer ? answer
                : "<p>Un agent de la mairie va vous répondre par courriel. "
                  "Sa réponse s’affichera aussi sur cette page.</p>");
    if (!vars || !gu_json_arena(req->arena, vars))
        return GU_ENOMEM;
    return http_template(req, resp, 200, "assistant-suivi.html", vars);
}

static const struct http_route routes[] = {
    {"GET", "/assistant", HTTP_PUBLIC, get_assistant, "assistant",
     "Assistant de la commune en pleine page", NULL, NULL},
    {"GET", "/assistant/suivi/{token}", HTTP_PUBLIC, get_follow_page,
     "assistant", "Suivi d’une question transmise à un agent", NULL, NULL},
};

const struct http_routes asst_page_routes = {"assistant-pages", routes,
                                             GU_ARRAY_LEN(routes)};
