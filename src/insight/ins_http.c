/*
 * ins_http.c - the impact report's and transparency page's routes, the
 * JSON API and the module's job.
 *
 *   GET /api/v1/rapport?mois=AAAA-MM   the month's figures, the month
 *                                      before, the 12 months' trend and
 *                                      the costs used (lecteur)
 *   GET /api/v1/rapport/couts          the commune's costs (lecteur)
 *   GET /api/v1/transparence?c=INSEE   the transparency notice (public)
 * and the pages of ins_pages.c.
 */
#include "insight/ins_priv.h"
#include "assistant/asst.h"
#include "notify/notify.h"
#include "portal/portal.h"

#include <math.h>
#include <string.h>

static json_t *
costs_json(const struct ins_costs *k)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:b}",
                     "minutes_reponse", k->min_answer, "minutes_orientation",
                     k->min_routed, "minutes_rendez_vous", k->min_booking,
                     "cout_horaire", k->hourly_cost, "cout_repas",
                     k->meal_cost, "kg_repas", k->meal_kg, "propres",
                     k->custom);
}

static int
api_report(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    struct ins_month m;
    struct ins_costs k;
    struct ins_report r, prev;
    const char *mois = http_query(req, "mois");
    int64_t now = gu_now();
    json_t *j, *trend;
    int rc = http_need_commune(req);

    if (rc == 0)
        rc = store_commune_get(req->conn, req->arena, req->who.insee, &com,
                               &req->err);
    if (rc < 0)
        return rc;
    if (mois && *mois) {
        rc = ins_month_parse(mois, com.zone, &m, &req->err);
        if (rc < 0)
            return rc;
    } else {
        ins_month_of(now, com.zone, &m);
    }
    rc = ins_report_pair(req, &com, &m, now, &k, &r, &prev);
    if (rc < 0)
        return rc;
    j = ins_report_json(&r);
    trend = json_array();
    if (!j || !trend) {
        json_decref(j);
        json_decref(trend);
        return GU_ENOMEM;
    }
    for (int i = 11; i >= 0; i--) {
        struct ins_month mi;
        struct ins_report ri;
        char key[16];

        ins_month_make(m.year, m.month - i, com.zone, &mi);
        rc = ins_report_compute(req->conn, req->arena, com.insee, com.zone,
                                &mi, &k, now, &ri, &req->err);
        if (rc < 0) {
            json_decref(j);
            json_decref(trend);
            return rc;
        }
        ins_month_key(&mi, key, sizeof(key));
        json_array_append_new(
            trend,
            json_pack("{s:s, s:b, s:I, s:I, s:f, s:f}", "mois", key, "vide",
                      ri.empty, "reponses_automatiques",
                      (json_int_t)ri.asst.answers, "orientees_auto",
                      (json_int_t)ri.tri.auto_routed, "heures_total",
                      ri.sav.hours_total, "euros_total", ri.sav.euros_total));
    }
    json_object_set_new(j, "commune", json_string(com.insee));
    json_object_set_new(j, "couts", costs_json(&k));
    json_object_set_new(j, "mois_precedent", ins_report_json(&prev));
    json_object_set_new(j, "tendance", trend);
    return http_json(resp, 200, j);
}

static int
api_costs(struct http_req *req, struct http_resp *resp)
{
    struct ins_costs k;
    int rc = http_need_commune(req);

    if (rc == 0)
        rc = ins_costs_get(req->conn, req->arena, req->cfg, req->who.insee, &k,
                           &req->err);
    if (rc < 0)
        return rc;
    return http_json(resp, 200, costs_json(&k));
}

static int
api_transparency(struct http_req *req, struct http_resp *resp)
{
    struct store_commune m;
    const char *dflt = req->cfg ? gu_config_str(req->cfg, "commune.default")
                                : "";
    json_t *j = NULL;
    int rc;

    rc = portal_commune_load(req->conn, req->arena, http_query(req, "c"), dflt,
                             &m, &req->err);
    if (rc == 0)
        rc = ins_transparency_json(req->conn, req->arena, req->cfg, m.insee,
                                   &j, &req->err);
    if (rc < 0)
        return rc;
    return http_json(resp, 200, j);
}

static const struct http_route routes[] = {
    {"GET", "/agent/rapport", HTTP_LECTEUR, ins_page_report, "agent",
     "Rapport d’impact du mois (?mois=AAAA-MM)", NULL, NULL},
    {"GET", "/agent/rapport/reglages", HTTP_LECTEUR, ins_page_settings,
     "agent", "Rapport d’impact : hypothèses de coût de la commune", NULL,
     NULL},
    {"POST", "/agent/rapport/reglages", HTTP_ADMIN, ins_post_settings, "agent",
     "Rapport d’impact : enregistrer les hypothèses de coût (formulaire)",
     NULL, NULL},
    {"GET", "/agent/rapport/{mois}", HTTP_LECTEUR, ins_page_month, "agent",
     "Rapport d’impact d’un mois (AAAA-MM), imprimable", NULL, NULL},
    {"GET", "/api/v1/rapport", HTTP_LECTEUR, api_report, "rapport",
     "Chiffres d’impact d’un mois (?mois=AAAA-MM), mois précédent, tendance "
     "sur 12 mois et hypothèses de coût",
     NULL, "{\"type\": \"object\"}"},
    {"GET", "/api/v1/rapport.csv", HTTP_LECTEUR, ins_page_csv, "rapport",
     "Rapport d’impact d’un mois en CSV (« ; », décimales à virgule)", NULL,
     NULL},
    {"GET", "/api/v1/rapport/couts", HTTP_LECTEUR, api_costs, "rapport",
     "Hypothèses de coût de la commune", NULL, "{\"type\": \"object\"}"},
    {"GET", "/transparence", HTTP_PUBLIC, ins_page_transparency, "portail",
     "Transparence des algorithmes publics (CRPA L312-1-3)", NULL, NULL},
    {"POST", "/transparence/explication", HTTP_PUBLIC, ins_post_explain,
     "portail",
     "Demander une explication individuelle (R311-3-1-2) : versée aux "
     "demandes (formulaire)",
     NULL, NULL},
    {"GET", "/api/v1/transparence", HTTP_PUBLIC, api_transparency, "rapport",
     "Algorithmes en service pour la commune (?c=INSEE) : finalité, données, "
     "paramètres, contrôle humain",
     NULL, "{\"type\": \"object\"}"},
};

const struct http_routes ins_routes = {"insight", routes,
                                       GU_ARRAY_LEN(routes)};

/* ------------------------------------------------------------------ */
/* Job                                                                 */
/* ------------------------------------------------------------------ */

/* The rétro-test covers the 12 months of the report's trend and more. */
#define INS_BACKFILL_DAYS 400

static int
canteen_job(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    struct store_conn *c = NULL;
    struct store_commune *com = NULL;
    struct gu_arena *a = gu_arena_new(0);
    size_t n = 0;
    int rc;

    (void)cfg;
    if (!a)
        return GU_ENOMEM;
    rc = store_acquire(s, &c, err);
    if (rc == 0)
        rc = store_commune_list(c, a, &com, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int64_t added = 0;
        rc = ins_canteen_backfill(c, a, com[i].insee, gu_now(),
                                  INS_BACKFILL_DAYS, &added, err);
        if (rc == 0 && added > 0)
            gu_log_info("insight.retrotest", "insee=%s days=%lld",
                        com[i].insee, (long long)added);
        if (rc == 0)
            rc = ins_canteen_snapshot(c, a, com[i].insee, gu_now(), err);
    }
    store_release(c);
    gu_arena_free(a);
    return rc;
}

static const struct notify_job job_list[] = {
    {"insight.canteen", 3600, canteen_job, true},
};

const struct notify_job *
ins_jobs(size_t *count)
{
    *count = GU_ARRAY_LEN(job_list);
    return job_list;
}
