/*
 * web_openapi.c - the OpenAPI 3.1 document built from the route tables,
 * so that the documentation can never drift from what is served.
 *
 * Documented: every route under /api/ plus /healthz and /metrics. One
 * path item per pattern ("{id}" parameters are path parameters; "id" or
 * "*_id" are integers), one operation per method with its summary, tag,
 * security (public, session cookie or Bearer token), request body schema
 * (`body`), 2xx schema (`response`) and the problem+json errors.
 */
#include <ctype.h>
#include <string.h>

#include "web/web.h"
#include "web/web_internal.h"

#ifndef GUICHET_VERSION
#define GUICHET_VERSION "dev"
#endif

static bool
documented(const char *pattern)
{
    return strncmp(pattern, "/api/", 5) == 0 ||
           strcmp(pattern, "/healthz") == 0 ||
           strcmp(pattern, "/metrics") == 0;
}

/* A JSON Schema fragment from text; a bad fragment becomes {}. */
static json_t *
schema(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;

    return j ? j : json_object();
}

static json_t *
problem_ref(const char *desc)
{
    return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", desc,
                     "content", "application/problem+json", "schema",
                     "$ref", "#/components/schemas/Probleme");
}

static bool
int_param(const char *name)
{
    size_t n = strlen(name);

    return strcmp(name, "id") == 0 ||
           (n > 3 && strcmp(name + n - 3, "_id") == 0);
}

static json_t *
operation(const struct http_route *rt, const char *module)
{
    json_t *op = json_object(), *params = json_array(), *resps;
    const char *p = rt->pattern;
    char opid[192];
    size_t k = 0;
    bool changes = strcmp(rt->method, "GET") != 0;

    if (!op || !params) {
        json_decref(op);
        json_decref(params);
        return NULL;
    }
    json_object_set_new(op, "summary", json_string(rt->summary ? rt->summary
                                                               : ""));
    json_object_set_new(op, "tags",
                        json_pack("[s]", rt->tag ? rt->tag
                                  : module ? module
                                           : "socle"));
    /* operationId: method + pattern letters ("get_api_v1_users_id"). */
    for (const char *m = rt->method; *m && k + 1 < sizeof(opid); m++)
        opid[k++] = (char)tolower((unsigned char)*m);
    for (; *p && k + 1 < sizeof(opid); p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c))
            opid[k++] = (char)tolower(c);
        else if (c == '/' && k && opid[k - 1] != '_')
            opid[k++] = '_';
    }
    opid[k] = 0;
    json_object_set_new(op, "operationId", json_string(opid));

    for (p = strchr(rt->pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *e = strchr(p, '}');
        char name[64];
        size_t n;
        if (!e)
            break;
        n = (size_t)(e - p - 1);
        if (n == 0 || n >= sizeof(name))
            continue;
        memcpy(name, p + 1, n);
        name[n] = 0;
        json_array_append_new(
            params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", name, "in",
                              "path", "required", 1, "schema", "type",
                              int_param(name) ? "integer" : "string"));
    }
    if (rt->access != HTTP_PUBLIC && changes)
        json_array_append_new(
            params,
            json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", "X-CSRF-Token",
                      "in", "header", "required", 0, "description",
                      "Obligatoire avec une session (cookie) ; inutile "
                      "avec un jeton Bearer.",
                      "schema", "type", "string"));
    json_object_set_new(op, "parameters", params);

    if (rt->access == HTTP_PUBLIC)
        json_object_set_new(op, "security", json_array());
    else if (rt->access == HTTP_SESSION)
        json_object_set_new(op, "security", json_pack("[{s:[]}]", "session"));
    else
        json_object_set_new(op, "security",
                            json_pack("[{s:[]}, {s:[]}]", "session",
                                      "bearer"));
    if (rt->access >= HTTP_LECTEUR && rt->access <= HTTP_ADMIN)
        json_object_set_new(
            op, "x-role-minimum",
            json_string(store_role_name((enum store_role)rt->access)));

    if (rt->body)
        json_object_set_new(
            op, "requestBody",
            json_pack("{s:b, s:{s:{s:o}}}", "required", 1, "content",
                      "application/json", "schema", schema(rt->body)));

    resps = json_object();
    if (rt->response)
        json_object_set_new(
            resps, "200",
            json_pack("{s:s, s:{s:{s:o}}}", "description", "Succès",
                      "content", "application/json", "schema",
                      schema(rt->response)));
    else if (strcmp(rt->method, "DELETE") == 0)
        json_object_set_new(resps, "204",
                            json_pack("{s:s}", "description", "Fait"));
    else
        json_object_set_new(resps, "200",
                            json_pack("{s:s}", "description", "Succès"));
    json_object_set_new(resps, "400",
                        problem_ref("Requête mal formée"));
    if (rt->body)
        json_object_set_new(resps, "422",
                            problem_ref("Données invalides (champ "
                                        "indiqué dans « champ »)"));
    if (rt->access != HTTP_PUBLIC) {
        json_object_set_new(resps, "401", problem_ref("Non authentifié"));
        json_object_set_new(resps, "403",
                            problem_ref("Rôle insuffisant ou jeton CSRF "
                                        "invalide"));
    }
    if (strchr(rt->pattern, '{'))
        json_object_set_new(resps, "404", problem_ref("Introuvable"));
    json_object_set_new(resps, "429", problem_ref("Trop de requêtes"));
    json_object_set_new(resps, "500", problem_ref("Erreur interne"));
    json_object_set_new(op, "responses", resps);
    return op;
}

static json_t *
components(void)
{
    return json_pack(
        "{s:{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}, "
        "s:{s:{s:s, s:[s,s,s], s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, "
        "s:{s:s}, s:{s:s}, s:{s:s}}}}}",
        "securitySchemes", "session", "type", "apiKey", "in", "cookie",
        "name", WEB_SESSION_COOKIE, "bearer", "type", "http", "scheme",
        "bearer", "bearerFormat", "gu_...",
        "schemas", "Probleme", "type", "object", "required", "type",
        "title", "status", "properties", "type", "type", "string", "title",
        "type", "string", "status", "type", "integer", "detail", "type",
        "string", "instance", "type", "string", "request_id", "type",
        "string", "champ", "type", "string");
}

json_t *
web_openapi(const struct http_routes *tables, size_t ntables)
{
    json_t *doc, *paths;

    doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s}]}", "openapi",
                    "3.1.0", "info", "title", "Guichet API", "version",
                    GUICHET_VERSION, "description",
                    "API du guichet numérique de la mairie. Erreurs au "
                    "format RFC 9457 (application/problem+json) : 400 "
                    "requête mal formée, 422 champ invalide (« champ »), "
                    "401, 403, 404, 409, 413, 429 (Retry-After), 500, "
                    "503.",
                    "servers", "url", "/");
    paths = json_object();
    if (!doc || !paths) {
        json_decref(doc);
        json_decref(paths);
        return NULL;
    }
    for (size_t t = 0; t < ntables; t++) {
        for (size_t i = 0; i < tables[t].count; i++) {
            const struct http_route *rt = &tables[t].routes[i];
            json_t *item, *op;
            char meth[16];
            size_t k = 0;

            if (!rt->pattern || !rt->method || !documented(rt->pattern))
                continue;
            item = json_object_get(paths, rt->pattern);
            if (!item) {
                item = json_object();
                json_object_set_new(paths, rt->pattern, item);
            }
            for (const char *m = rt->method; *m && k + 1 < sizeof(meth); m++)
                meth[k++] = (char)tolower((unsigned char)*m);
            meth[k] = 0;
            op = operation(rt, tables[t].module);
            if (!op || !item) {
                json_decref(op);
                json_decref(doc);
                json_decref(paths);
                return NULL;
            }
            json_object_set_new(item, meth, op);
        }
    }
    json_object_set_new(doc, "paths", paths);
    json_object_set_new(doc, "components", components());
    return doc;
}
