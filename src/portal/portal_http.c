/*
 * portal_http.c - HTTP face of the public portal: the commune's home page
 * (server-rendered, works without JavaScript), the placeholders of the
 * services still to come, and the public JSON of a commune. Booking
 * (/rdv) is the rdv domain's (src/rdv/rdv_pages.c).
 *
 * Registered by main.c through `portal_routes`.
 */
#include "portal/portal.h"
#include "web/http.h"

#include <stdio.h>
#include <string.h>

/* The "commune.default" setting ("" = the first commune). */
static const char *
default_insee(const struct gu_config *cfg)
{
    return cfg ? gu_config_str(cfg, "commune.default") : "";
}

/* A French error page; status 404 or 500 (anything else is 500). */
static int
error_page(struct http_req *req, struct http_resp *resp, int code)
{
    const char *title, *detail;
    char num[16];
    int status;
    json_t *vars;

    if (code == GU_ENOTFOUND) {
        status = 404;
        title = "Page introuvable";
        detail = req->err.user[0] ? req->err.user : "Cette page n’existe pas.";
    } else {
        status = 500;
        title = "Service momentanément indisponible";
        detail = "Une erreur est survenue de notre côté. "
                 "Merci de réessayer dans quelques instants.";
        gu_log_error("portal.error", "code=%s", gu_status_name(code));
    }
    snprintf(num, sizeof(num), "%d", status);
    vars = json_pack("{s:s, s:s, s:s}", "status", num, "title", title, "detail",
                     detail);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, status, "erreur.html", vars);
}

static int
home(struct http_req *req, struct http_resp *resp, const char *insee)
{
    struct store_commune m;
    const char *hours, *contact;
    json_t *vars;
    int rc;

    rc = portal_commune_load(req->conn, req->arena, insee,
                             default_insee(req->cfg), &m, &req->err);
    if (rc < 0)
        return error_page(req, resp, rc);
    hours = portal_hours_html(req->arena, m.hours);
    contact = portal_contact_html(req->arena, &m);
    if (!hours || !contact)
        return GU_ENOMEM;
    vars = json_pack("{s:s, s:s, s:s, s:s}", "commune", m.name, "insee",
                     m.insee, "hours_html", hours, "contact_html", contact);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, "portail.html", vars);
}

static int
get_home(struct http_req *req, struct http_resp *resp)
{
    return home(req, resp, NULL);
}

static int
get_commune_home(struct http_req *req, struct http_resp *resp)
{
    return home(req, resp, http_param(req, "insee"));
}

/*
 * A page of the commune chosen by ?c=<insee> (default commune otherwise):
 * a placeholder of a service still to come, or a static page.
 */
static int
commune_page(struct http_req *req, struct http_resp *resp, const char *tpl,
             const char *title, const char *text)
{
    struct store_commune m;
    const char *insee = http_query(req, "c");
    json_t *vars;
    int rc;

    rc = portal_commune_load(req->conn, req->arena, insee,
                             default_insee(req->cfg), &m, &req->err);
    if (rc < 0)
        return error_page(req, resp, rc);
    vars = json_pack("{s:s, s:s, s:s, s:s}", "commune", m.name, "insee",
                     m.insee, "title", title, "text", text);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, tpl, vars);
}

static int
get_accessibility(struct http_req *req, struct http_resp *resp)
{
    return commune_page(req, resp, "accessibilite.html",
                        "Déclaration d’accessibilité", "");
}

static int
get_legal(struct http_req *req, struct http_resp *resp)
{
    return commune_page(req, resp, "mentions-legales.html", "Mentions légales",
                        "");
}

static int
get_commune_json(struct http_req *req, struct http_resp *resp)
{
    struct store_commune m;
    const char *insee = http_param(req, "insee");
    json_t *j;
    int rc;

    rc = portal_commune_load(req->conn, req->arena, insee ? insee : "", NULL,
                             &m, &req->err);
    if (rc < 0)
        return rc;
    j = portal_commune_json(&m);
    if (!j)
        return GU_ENOMEM;
    return http_json(resp, 200, j);
}

#define COMMUNE_SCHEMA                                                         \
    "{\"type\":\"object\",\"properties\":{"                                    \
    "\"insee\":{\"type\":\"string\",\"pattern\":\"^[0-9][0-9AB][0-9]{3}$\"},"  \
    "\"name\":{\"type\":\"string\"},\"zone\":{\"type\":\"string\"},"           \
    "\"hours\":{\"type\":\"string\"},\"address\":{\"type\":\"string\"},"       \
    "\"phone\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"}},"        \
    "\"required\":[\"insee\",\"name\"]}"

static const struct http_route routes[] = {
    {"GET", "/", HTTP_PUBLIC, get_home, "portail",
     "Page d’accueil de la commune par défaut", NULL, NULL},
    {"GET", "/c/{insee}", HTTP_PUBLIC, get_commune_home, "portail",
     "Page d’accueil d’une commune", NULL, NULL},
    {"GET", "/accessibilite", HTTP_PUBLIC, get_accessibility, "portail",
     "Déclaration d’accessibilité", NULL, NULL},
    {"GET", "/mentions-legales", HTTP_PUBLIC, get_legal, "portail",
     "Mentions légales et données personnelles", NULL, NULL},
    {"GET", "/api/v1/communes/{insee}", HTTP_PUBLIC, get_commune_json,
     "portail", "Informations publiques d’une commune", NULL, COMMUNE_SCHEMA},
};

const struct http_routes portal_routes = {"portal", routes,
                                          GU_ARRAY_LEN(routes)};
