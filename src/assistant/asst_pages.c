/*
 * asst_pages.c - the assistant's public pages (see asst_pages.h).
 *
 * /assistant?c=INSEE renders web/pages/assistant.html, which loads the
 * widget (web/js/widget.js) in page mode; without ?c the default commune
 * (commune.default, else the first one) is shown, like the portal.
 */
#include <stdio.h>
#include <string.h>

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

static const struct http_route routes[] = {
    {"GET", "/assistant", HTTP_PUBLIC, get_assistant, "assistant",
     "Assistant de la commune en pleine page", NULL, NULL},
};

const struct http_routes asst_page_routes = {"assistant-pages", routes,
                                             GU_ARRAY_LEN(routes)};
