/*
 * ins_pages.c - the pages of the insight module, rendered by the server
 * so that they work without script and print cleanly:
 *
 *   GET  /agent/rapport               this month's report (?mois=AAAA-MM)
 *   GET  /agent/rapport/{mois}        the report of a month
 *   GET  /api/v1/rapport.csv          the same figures as CSV (?mois=)
 *   GET  /agent/rapport/reglages      the commune's costs (admin edits)
 *   POST /agent/rapport/reglages      saves them (admin)
 *   GET  /transparence                the public transparency notice
 *   POST /transparence/explication    a resident asks for an individual
 *                                     explanation: filed in the inbox
 *
 * The report is one table per domain with the month and the month before,
 * the 12 months' trend as a table, and the method in words; nothing is
 * carried by colour, and the print stylesheet (agent-rapport.css) drops
 * the navigation so that « Enregistrer en PDF » gives the report alone.
 */
#include "insight/ins_priv.h"
#include "assistant/asst.h"
#include "portal/portal.h"
#include "triage/tri.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TREND_MONTHS 12
#define EXPLAIN_MAX 4000 /* bytes of a resident's explanation request */

static void
html(struct gu_buf *b, const char *s)
{
    if (s)
        gu_buf_html(b, s, strlen(s));
}

static const char *
take(struct http_req *req, struct gu_buf *b)
{
    const char *s = NULL;

    if (!b->oom)
        s = gu_arena_strndup(req->arena, b->p ? b->p : "", b->n);
    gu_buf_fini(b);
    return s;
}

static int
render(struct http_req *req, struct http_resp *resp, int status,
       const char *tpl, const char *title, const char *content,
       const char *message)
{
    json_t *vars = json_pack("{s:s, s:s, s:s}", "titre", title, "contenu",
                             content ? content : "", "message",
                             message ? message : "");

    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, status, tpl, vars);
}

/* The commune of the session and the month asked (?mois= or {mois}),
   this month by default. */
static int
month_of_req(struct http_req *req, struct store_commune *com,
             struct ins_month *m, const char *s)
{
    int rc = http_need_commune(req);

    if (rc < 0)
        return rc;
    rc = store_commune_get(req->conn, req->arena, req->who.insee, com,
                           &req->err);
    if (rc < 0)
        return rc;
    if (s && *s)
        return ins_month_parse(s, com->zone, m, &req->err);
    ins_month_of(gu_now(), com->zone, m);
    return 0;
}

/* Chat turns are written behind the answer: wait for the queued ones so
   that this month's figures count every turn answered so far. */
static void
sync_chat(struct http_req *req)
{
    struct asst_engine *e = asst_engine_of(store_conn_store(req->conn));

    if (e)
        asst_engine_sync(e, false);
}

int
ins_report_pair(struct http_req *req, const struct store_commune *com,
                const struct ins_month *m, int64_t now, struct ins_costs *k,
                struct ins_report *r, struct ins_report *prev)
{
    struct ins_month pm;
    int rc;

    sync_chat(req);
    rc = ins_costs_get(req->conn, req->arena, req->cfg, com->insee, k,
                       &req->err);
    ins_month_make(m->year, m->month - 1, com->zone, &pm);
    if (rc == 0)
        rc = ins_report_compute(req->conn, req->arena, com->insee, com->zone,
                                m, k, now, r, &req->err);
    if (rc == 0)
        rc = ins_report_compute(req->conn, req->arena, com->insee, com->zone,
                                &pm, k, now, prev, &req->err);
    return rc;
}

static void
cell(struct gu_buf *b, const struct ins_line *l)
{
    char v[96];

    html(b, ins_value_fr(l->kind, l->v, v, sizeof(v)));
}

static void
month_heading(struct gu_buf *b, const struct ins_month *m)
{
    char label[40];

    ins_month_label(m, label, sizeof(label));
    html(b, label);
}

/* Whether a section of the report has anything to count in the month:
   a section without activity says so instead of showing zeros. */
static bool
section_active(const struct ins_report *r, const char *section)
{
    if (strcmp(section, "Assistant") == 0)
        return r->asst.answers + r->asst.abstentions +
                   r->asst.clarifications + r->asst.handoffs >
               0;
    if (strcmp(section, "Demandes") == 0)
        return r->tri.received > 0;
    if (strcmp(section, "Rendez-vous") == 0)
        return r->rdv.held + r->rdv.cancelled + r->rdv.online +
                   r->rdv.recovered >
               0;
    if (strcmp(section, "Cantines") == 0)
        return r->cant.days > 0;
    if (strcmp(section, "Alertes") == 0)
        return r->mon.opened > 0;
    return !r->empty;
}

static const char *
section_none(const char *section)
{
    if (strcmp(section, "Assistant") == 0)
        return "Aucune question posée à l’assistant ce mois-ci ni le mois "
               "précédent.";
    if (strcmp(section, "Demandes") == 0)
        return "Aucune demande reçue ce mois-ci ni le mois précédent.";
    if (strcmp(section, "Rendez-vous") == 0)
        return "Aucun rendez-vous ce mois-ci ni le mois précédent.";
    if (strcmp(section, "Cantines") == 0)
        return "Aucun jour de cantine comparable ce mois-ci ni le mois "
               "précédent : il faut, pour un même jour, le nombre de repas "
               "servis, la prévision de l’équipe et la recommandation de "
               "Guichet enregistrée avant ce jour.";
    if (strcmp(section, "Alertes") == 0)
        return "Aucune alerte ouverte ce mois-ci ni le mois précédent.";
    return "Rien à compter.";
}

static void
report_tables(struct gu_buf *b, const struct ins_report *r,
              const struct ins_report *prev)
{
    struct ins_line a[INS_LINES_MAX], p[INS_LINES_MAX];
    size_t n = ins_report_lines(r, a, INS_LINES_MAX);
    const char *section = NULL;
    bool skip = false;

    ins_report_lines(prev, p, INS_LINES_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!section || strcmp(section, a[i].section) != 0) {
            if (section && !skip)
                gu_buf_puts(b, "</tbody></table></div></section>\n");
            section = a[i].section;
            skip = !section_active(r, section) &&
                   !section_active(prev, section);
            if (skip) {
                gu_buf_puts(b, "<section class=\"ins-section\"><h2>");
                html(b, section);
                gu_buf_puts(b, "</h2><p class=\"ins-none\">");
                html(b, section_none(section));
                gu_buf_puts(b, "</p></section>\n");
            }
        }
        if (skip)
            continue;
        if (i == 0 || strcmp(a[i - 1].section, a[i].section) != 0) {
            gu_buf_puts(b, "<section class=\"ins-section\"><h2>");
            html(b, section);
            gu_buf_puts(b, "</h2><div class=\"table-scroll\" tabindex=\"0\" "
                           "role=\"region\" aria-label=\"");
            html(b, section);
            gu_buf_puts(b, "\"><table class=\"ins-table\"><caption "
                           "class=\"visually-hidden\">");
            html(b, section);
            gu_buf_puts(b, " : ");
            month_heading(b, &r->month);
            gu_buf_puts(b, " et mois précédent</caption><thead><tr>"
                           "<th scope=\"col\">Indicateur</th>"
                           "<th scope=\"col\" class=\"num\">");
            month_heading(b, &r->month);
            gu_buf_puts(b, "</th><th scope=\"col\" class=\"num\">");
            month_heading(b, &prev->month);
            gu_buf_puts(b, "</th></tr></thead><tbody>\n");
        }
        gu_buf_printf(b, "<tr data-cle=\"%s\"><th scope=\"row\">", a[i].key);
        html(b, a[i].label);
        if (isfinite(a[i].v))
            gu_buf_printf(b, "</th><td class=\"num\" data-valeur=\"%.6g\">",
                          a[i].v);
        else
            gu_buf_puts(b, "</th><td class=\"num\" data-valeur=\"\">");
        cell(b, &a[i]);
        gu_buf_puts(b, "</td><td class=\"num\">");
        if (prev->empty)
            gu_buf_puts(b, "—");
        else
            cell(b, &p[i]);
        gu_buf_puts(b, "</td></tr>\n");
    }
    if (section && !skip)
        gu_buf_puts(b, "</tbody></table></div></section>\n");
}

static void
method(struct gu_buf *b, const struct ins_costs *k)
{
    char n1[32], n2[32], n3[32], n4[32], n5[32], n6[32];

    gu_num_fr(k->min_answer, 1, GU_NUM_TRIM, "—", n1, sizeof(n1));
    gu_num_fr(k->min_routed, 1, GU_NUM_TRIM, "—", n2, sizeof(n2));
    gu_num_fr(k->min_booking, 1, GU_NUM_TRIM, "—", n3, sizeof(n3));
    gu_num_fr(k->hourly_cost, 2, GU_NUM_TRIM, "—", n4, sizeof(n4));
    gu_num_fr(k->meal_cost, 2, GU_NUM_TRIM, "—", n5, sizeof(n5));
    gu_num_fr(k->meal_kg, 3, GU_NUM_TRIM, "—", n6, sizeof(n6));
    gu_buf_printf(
        b,
        "<section class=\"ins-section ins-method\" id=\"methode\">"
        "<h2>Méthode</h2>"
        "<h3>Ce qui est compté</h3><ul>"
        "<li>Assistant : chaque réponse donnée à partir d’une fiche est une "
        "réponse automatique ; quand l’assistant n’est pas sûr, il propose un "
        "agent (abstention). Les avis « utile » et « pas utile » sont ceux "
        "des usagers sur les réponses du mois.</li>"
        "<li>Demandes : une demande est orientée automatiquement quand le "
        "modèle l’a envoyée à un service dès son arrivée ; elle est corrigée "
        "quand un agent a ensuite choisi un autre service. Le délai de "
        "réponse va de l’arrivée à la première réponse écrite à "
        "l’usager.</li>"
        "<li>Rendez-vous : les rendez-vous des jours passés du mois, selon le "
        "pointage des agents ; « en ligne » compte les rendez-vous pris dans "
        "le mois sur le site, par l’assistant ou par le standard "
        "automatique ; un créneau est réattribué quand une personne de la "
        "liste d’attente l’a accepté.</li>"
        "<li>Cantines : pour chaque jour de service où l’on connaît le "
        "nombre de repas servis, la prévision de l’équipe et la commande "
        "recommandée par Guichet la veille, on compare les repas en trop "
        "des deux : repas non gaspillés = surplus de la prévision de "
        "l’équipe − surplus de la recommandation. Les jours où la "
        "recommandation aurait été trop courte sont comptés à part. Pour "
        "les jours d’avant la mise en service (et pour la démonstration), "
        "la recommandation est recalculée après coup par rétro-test : la "
        "prévision du jour faite avec les seules données connues avant lui, "
        "au même risque de manque ; ces jours sont comptés à part.</li>"
        "<li>Alertes : une fausse alerte est une alerte que l’agent a "
        "résolue avec le constat « fausse alerte » ; une alerte résolue sans "
        "constat (par l’API) est comptée à part, « non précisé » ; le délai "
        "de prise en compte va de l’ouverture au premier acquittement (ou à "
        "la résolution).</li></ul>"
        "<h3>Ce qui est supposé</h3><ul>"
        "<li>Une réponse automatique épargne <strong>%s min</strong> "
        "d’agent ; une demande orientée sans correction, <strong>%s "
        "min</strong> ; un rendez-vous pris en ligne, <strong>%s "
        "min</strong>.</li>"
        "<li>Une heure d’agent coûte <strong>%s €</strong> (coût "
        "complet).</li>"
        "<li>Un repas coûte <strong>%s €</strong> et pèse <strong>%s "
        "kg</strong> quand la cantine n’a pas ses propres valeurs.</li>"
        "</ul><p><a href=\"/agent/rapport/reglages\">Voir ou modifier ces "
        "hypothèses</a></p>"
        "<h3>Ce qui n’est pas compté</h3><ul>"
        "<li>Le temps passé par les agents à relire, corriger et répondre ; "
        "les questions auxquelles l’usager aurait trouvé seul la "
        "réponse.</li>"
        "<li>Les demandes corrigées (aucun temps épargné) ; le temps de "
        "guichet réutilisé grâce à la liste d’attente, montré à part et "
        "exclu du total.</li>"
        "<li>Les absences évitées par les rappels (on ne sait pas qui serait "
        "venu sans rappel) et les fuites ou pannes évitées par les "
        "alertes.</li></ul>"
        "<p>Chaque chiffre et sa formule sont décrits dans la documentation "
        "(docs/rapport.md).</p></section>\n",
        n1, n2, n3, n4, n5, n6);
}

static int
trend(struct http_req *req, struct gu_buf *b, const struct store_commune *com,
      const struct ins_month *m, const struct ins_costs *k, int64_t now)
{
    gu_buf_puts(b, "<section class=\"ins-section\"><h2>Évolution sur 12 "
                   "mois</h2><div class=\"table-scroll\" tabindex=\"0\" "
                   "role=\"region\" aria-label=\"Évolution sur 12 mois\">"
                   "<table "
                   "class=\"ins-table\"><caption class=\"visually-hidden\">"
                   "Évolution sur 12 mois</caption><thead><tr>"
                   "<th scope=\"col\">Mois</th>"
                   "<th scope=\"col\" class=\"num\">Réponses automatiques"
                   "</th><th scope=\"col\" class=\"num\">Demandes orientées"
                   "</th><th scope=\"col\" class=\"num\">Taux d’absence"
                   "</th><th scope=\"col\" class=\"num\">Heures épargnées"
                   "</th><th scope=\"col\" class=\"num\">Total estimé</th>"
                   "</tr></thead><tbody>\n");
    for (int i = TREND_MONTHS - 1; i >= 0; i--) {
        struct ins_month mi;
        struct ins_report r;
        char v[96];
        int rc;

        ins_month_make(m->year, m->month - i, com->zone, &mi);
        rc = ins_report_compute(req->conn, req->arena, com->insee, com->zone,
                                &mi, k, now, &r, &req->err);
        if (rc < 0)
            return rc;
        gu_buf_puts(b, "<tr><th scope=\"row\">");
        month_heading(b, &mi);
        if (r.empty) {
            gu_buf_puts(b, "</th><td colspan=\"5\">Aucune activité "
                           "enregistrée</td></tr>\n");
            continue;
        }
        gu_buf_puts(b, "</th><td class=\"num\">");
        html(b, ins_value_fr(INS_K_COUNT, (double)r.asst.answers, v,
                             sizeof(v)));
        gu_buf_puts(b, "</td><td class=\"num\">");
        html(b, ins_value_fr(INS_K_COUNT, (double)r.tri.auto_routed, v,
                             sizeof(v)));
        gu_buf_puts(b, "</td><td class=\"num\">");
        html(b, ins_value_fr(INS_K_PCT,
                             ins_share(r.rdv.noshow,
                                       r.rdv.kept + r.rdv.noshow),
                             v, sizeof(v)));
        gu_buf_puts(b, "</td><td class=\"num\">");
        html(b, ins_value_fr(INS_K_HOURS, r.sav.hours_total, v, sizeof(v)));
        gu_buf_puts(b, "</td><td class=\"num\">");
        html(b, ins_value_fr(INS_K_EUR, r.sav.euros_total, v, sizeof(v)));
        gu_buf_puts(b, "</td></tr>\n");
    }
    gu_buf_puts(b, "</tbody></table></div></section>\n");
    return 0;
}

static int
report_page(struct http_req *req, struct http_resp *resp, const char *mois)
{
    struct store_commune com;
    struct ins_month m, pm;
    struct ins_costs k;
    struct ins_report r, prev;
    struct gu_buf b;
    char key[16], pkey[16], nkey[16], label[40];
    const char *content, *title;
    int64_t now = gu_now();
    int rc;

    rc = month_of_req(req, &com, &m, mois);
    if (rc == GU_EINVAL) {
        /* a person typed the address: the back-office's error page */
        json_t *vars = json_pack("{s:s, s:s, s:s}", "status", "400", "title",
                                 "Mois invalide", "detail", req->err.user);
        if (!vars)
            return GU_ENOMEM;
        gu_json_arena(req->arena, vars);
        return http_template(req, resp, 400, "erreur.html", vars);
    }
    if (rc < 0)
        return rc;
    rc = ins_report_pair(req, &com, &m, now, &k, &r, &prev);
    if (rc < 0)
        return rc;
    ins_month_make(m.year, m.month - 1, com.zone, &pm);
    ins_month_key(&m, key, sizeof(key));
    ins_month_key(&pm, pkey, sizeof(pkey));
    {
        struct ins_month nm;
        ins_month_make(m.year, m.month + 1, com.zone, &nm);
        ins_month_key(&nm, nkey, sizeof(nkey));
    }
    ins_month_label(&m, label, sizeof(label));
    title = gu_arena_sprintf(req->arena, "Rapport d’impact — %s", label);

    gu_buf_init(&b);
    gu_buf_puts(&b, "<p class=\"ins-commune\">Commune de ");
    html(&b, com.name);
    gu_buf_puts(&b, " (INSEE ");
    html(&b, com.insee);
    gu_buf_puts(&b, ")</p>\n<nav class=\"ins-months ins-noprint\" "
                    "aria-label=\"Mois du rapport\"><ul>");
    gu_buf_printf(&b,
                  "<li><a href=\"/agent/rapport/%s\" rel=\"prev\">&larr; "
                  "Mois précédent</a></li>"
                  "<li><a href=\"/agent/rapport/%s\" rel=\"next\">Mois "
                  "suivant &rarr;</a></li></ul></nav>\n",
                  pkey, nkey);
    gu_buf_printf(
        &b,
        "<form class=\"panel filters ins-noprint\" method=\"get\" "
        "action=\"/agent/rapport\"><div class=\"field\"><label "
        "for=\"ins-mois\">Mois <span class=\"hint\">AAAA-MM</span></label>"
        "<input type=\"month\" id=\"ins-mois\" name=\"mois\" value=\"%s\" "
        "pattern=\"[0-9]{4}-[0-9]{2}\"></div><div class=\"field actions\">"
        "<button type=\"submit\" class=\"btn\">Afficher</button></div>"
        "</form>\n"
        "<ul class=\"ins-actions ins-noprint\">"
        "<li><a class=\"btn btn-secondary\" "
        "href=\"/api/v1/rapport.csv?mois=%s\" download>Exporter en CSV</a>"
        "</li><li><button type=\"button\" class=\"btn btn-secondary\" "
        "id=\"ins-print\" hidden>Imprimer ou enregistrer en PDF</button></li>"
        "<li><a class=\"btn btn-secondary\" href=\"/agent/rapport/reglages\">"
        "Hypothèses de coût</a></li></ul>\n"
        "<p class=\"hint ins-noprint\">Pour un PDF : menu « Imprimer » du "
        "navigateur, puis « Enregistrer au format PDF ».</p>\n",
        key, key);
    if (r.empty) {
        gu_buf_puts(&b, "<div class=\"alert alert-warn\" role=\"status\" "
                        "id=\"ins-vide\"><p><strong>Aucune activité "
                        "enregistrée pour ");
        html(&b, label);
        gu_buf_puts(&b, ".</strong> Ce mois n’a ni question, ni demande, ni "
                        "rendez-vous, ni comptage de cantine, ni alerte : il "
                        "n’y a rien à chiffrer, et aucune économie n’est "
                        "affichée.</p></div>\n");
    } else {
        char v1[96], v2[96], v3[96], v4[96];
        gu_buf_printf(
            &b,
            "<div class=\"ins-tiles\" role=\"group\" aria-label=\"En "
            "résumé\">"
            "<p class=\"ins-tile\" id=\"ins-heures\"><span "
            "class=\"ins-big\">%s</span> d’agent épargnées, soit %s de "
            "temps d’agent</p>",
            ins_value_fr(INS_K_HOURS, r.sav.hours_total, v1, sizeof(v1)),
            ins_value_fr(INS_K_EUR, r.sav.euros_time, v2, sizeof(v2)));
        if (r.cant.days == 0)
            gu_buf_puts(&b, "<p class=\"ins-tile\" id=\"ins-repas\"><span "
                            "class=\"ins-big\">—</span> cantines : aucun "
                            "jour comparable</p>");
        else
            gu_buf_printf(
                &b,
                "<p class=\"ins-tile\" id=\"ins-repas\"><span "
                "class=\"ins-big\">%s</span> %s (%s) ; jours à court : "
                "%lld avec Guichet, %lld avec l’équipe</p>",
                ins_value_fr(INS_K_MEALS, fabs(r.cant.meals_saved), v3,
                             sizeof(v3)),
                r.cant.meals_saved >= 0
                    ? "repas non gaspillés par rapport à la prévision de "
                      "l’équipe"
                    : "repas de plus que la prévision de l’équipe : la "
                      "recommandation aurait jeté davantage",
                ins_value_fr(INS_K_EUR, fabs(r.cant.euros_saved), v4,
                             sizeof(v4)),
                (long long)r.cant.reco_short, (long long)r.cant.staff_short);
        gu_buf_printf(
            &b,
            "<p class=\"ins-tile\" id=\"ins-auto\"><span "
            "class=\"ins-big\">%s</span> des questions répondues "
            "automatiquement</p></div>\n",
            ins_value_fr(INS_K_PCT,
                         ins_share(r.asst.answers,
                                   r.asst.answers + r.asst.abstentions),
                         v1, sizeof(v1)));
        report_tables(&b, &r, &prev);
    }
    rc = trend(req, &b, &com, &m, &k, now);
    if (rc < 0) {
        gu_buf_fini(&b);
        return rc;
    }
    method(&b, &k);
    content = take(req, &b);
    if (!content)
        return GU_ENOMEM;
    return render(req, resp, 200, "agent-rapport.html", title, content, NULL);
}

int
ins_page_report(struct http_req *req, struct http_resp *resp)
{
    return report_page(req, resp, http_query(req, "mois"));
}

int
ins_page_month(struct http_req *req, struct http_resp *resp)
{
    return report_page(req, resp, http_param(req, "mois"));
}

int
ins_page_csv(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    struct ins_month m;
    struct ins_costs k;
    struct ins_report r, prev;
    struct gu_buf b;
    char key[16], disp[80];
    int64_t now = gu_now();
    int rc;

    rc = month_of_req(req, &com, &m, http_query(req, "mois"));
    if (rc < 0)
        return rc;
    rc = ins_report_pair(req, &com, &m, now, &k, &r, &prev);
    if (rc < 0)
        return rc;
    gu_buf_init(&b);
    ins_report_csv(&b, &r, &prev, &k);
    if (b.oom) {
        gu_buf_fini(&b);
        return GU_ENOMEM;
    }
    ins_month_key(&m, key, sizeof(key));
    snprintf(disp, sizeof(disp),
             "attachment; filename=\"rapport-%s-%s.csv\"", com.insee, key);
    rc = http_add_header(resp, "Content-Disposition", disp);
    if (rc == 0)
        rc = http_send(resp, 200, "text/csv; charset=utf-8", b.p, b.n);
    gu_buf_fini(&b);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Settings                                                            */
/* ------------------------------------------------------------------ */

static const struct {
    const char *name, *label, *hint;
    size_t off;
} fields[] = {
    {"min_answer", "Minutes épargnées par une réponse automatique",
     "temps d’un appel ou d’un passage à l’accueil évité",
     offsetof(struct ins_costs, min_answer)},
    {"min_routed", "Minutes épargnées par une demande orientée",
     "lecture et transmission au bon service",
     offsetof(struct ins_costs, min_routed)},
    {"min_booking", "Minutes épargnées par un rendez-vous pris en ligne",
     "appel de prise de rendez-vous évité",
     offsetof(struct ins_costs, min_booking)},
    {"hourly_cost", "Coût complet d’une heure d’agent (€)",
     "salaire chargé et frais de structure",
     offsetof(struct ins_costs, hourly_cost)},
    {"meal_cost", "Coût d’un repas de cantine (€)",
     "quand la série de la cantine n’a pas le sien",
     offsetof(struct ins_costs, meal_cost)},
    {"meal_kg", "Poids d’un repas (kg)",
     "quand la série de la cantine n’a pas le sien",
     offsetof(struct ins_costs, meal_kg)},
};

static double *
field_of(struct ins_costs *k, size_t i)
{
    return (double *)(void *)((char *)k + fields[i].off);
}

static int
settings_page(struct http_req *req, struct http_resp *resp, int status,
              struct ins_costs *k, const char **typed, const char *bad,
              const char *bad_msg, const char *message)
{
    bool admin = !req->who.is_token && req->who.role >= STORE_ROLE_ADMIN;
    struct ins_costs def;
    struct gu_buf b;
    const char *content;

    ins_costs_default(req->cfg, &def);
    gu_buf_init(&b);
    gu_buf_puts(&b, "<p><a href=\"/agent/rapport\">&larr; Rapport "
                    "d’impact</a></p>\n");
    if (bad) {
        gu_buf_puts(&b, "<div class=\"alert alert-error ins-summary\" "
                        "role=\"alert\" tabindex=\"-1\" autofocus><p>Rien "
                        "n’a été enregistré :</p><ul><li><a href=\"#f-");
        html(&b, bad);
        gu_buf_puts(&b, "\">");
        html(&b, bad_msg);
        gu_buf_puts(&b, "</a></li></ul></div>\n");
    }
    gu_buf_puts(&b, "<p>Ces valeurs convertissent les chiffres du rapport en "
                    "heures et en euros. Elles sont propres à la commune ; "
                    "sans réglage, les valeurs par défaut de l’instance "
                    "s’appliquent.</p>\n");
    if (k->custom) {
        char when[32];
        int64_t day;
        int minute, y, mo, d;
        gu_tz_from_utc(GU_TZ_PARIS, k->updated_at, &day, &minute);
        gu_day_to_ymd(day, &y, &mo, &d);
        snprintf(when, sizeof(when), "%02d/%02d/%04d", d, mo, y);
        gu_buf_puts(&b, "<p id=\"ins-custom\">Valeurs de la commune, "
                        "modifiées le ");
        html(&b, when);
        gu_buf_puts(&b, " par ");
        html(&b, k->updated_by);
        gu_buf_puts(&b, ".</p>\n");
    } else {
        gu_buf_puts(&b, "<p id=\"ins-custom\">Valeurs par défaut de "
                        "l’instance.</p>\n");
    }
    if (admin) {
        gu_buf_puts(&b, "<form method=\"post\" action=\"/agent/rapport/"
                        "reglages\" class=\"panel\" novalidate>"
                        "<input type=\"hidden\" name=\"csrf\" value=\"");
        html(&b, req->who.csrf);
        gu_buf_puts(&b, "\">\n");
    } else {
        gu_buf_puts(&b, "<p>Seul un administrateur de la commune peut les "
                        "modifier.</p><dl class=\"ins-costs\">\n");
    }
    for (size_t i = 0; i < GU_ARRAY_LEN(fields); i++) {
        char v[64], dv[64];
        const char *shown;

        gu_num_fr(*field_of(k, i), 3, GU_NUM_TRIM, "", v, sizeof(v));
        gu_num_fr(*field_of(&def, i), 3, GU_NUM_TRIM, "", dv, sizeof(dv));
        shown = typed && typed[i] ? typed[i] : v;
        if (!admin) {
            gu_buf_puts(&b, "<dt>");
            html(&b, fields[i].label);
            gu_buf_puts(&b, "</dt><dd>");
            html(&b, v);
            gu_buf_puts(&b, "</dd>\n");
            continue;
        }
        bool err = bad && strcmp(bad, fields[i].name) == 0;
        gu_buf_printf(&b, "<div class=\"field\"><label for=\"f-%s\">",
                      fields[i].name);
        html(&b, fields[i].label);
        gu_buf_printf(&b, " <span class=\"hint\" id=\"f-%s-hint\">",
                      fields[i].name);
        html(&b, fields[i].hint);
        gu_buf_puts(&b, " ; défaut ");
        html(&b, dv);
        gu_buf_puts(&b, "</span></label>");
        if (err) {
            gu_buf_printf(&b, "<span class=\"field-error\" id=\"f-%s-error\">",
                          fields[i].name);
            html(&b, bad_msg);
            gu_buf_puts(&b, "</span>");
        }
        gu_buf_printf(&b,
                      "<input type=\"text\" inputmode=\"decimal\" id=\"f-%s\" "
                      "name=\"%s\" aria-describedby=\"f-%s-hint%s%s%s\"%s "
                      "value=\"",
                      fields[i].name, fields[i].name, fields[i].name,
                      err ? " f-" : "", err ? fields[i].name : "",
                      err ? "-error" : "",
                      err ? " aria-invalid=\"true\"" : "");
        html(&b, shown);
        gu_buf_puts(&b, "\"></div>\n");
    }
    if (admin)
        gu_buf_puts(&b, "<div class=\"field actions\"><button type=\"submit\" "
                        "class=\"btn\" name=\"action\" value=\"enregistrer\">"
                        "Enregistrer</button> <button type=\"submit\" "
                        "class=\"btn btn-secondary\" name=\"action\" "
                        "value=\"defaut\">Revenir aux valeurs par défaut"
                        "</button></div></form>\n");
    else
        gu_buf_puts(&b, "</dl>\n");
    content = take(req, &b);
    if (!content)
        return GU_ENOMEM;
    return render(req, resp, status, "agent-rapport.html",
                  "Hypothèses de coût du rapport d’impact", content, message);
}

int
ins_page_settings(struct http_req *req, struct http_resp *resp)
{
    struct ins_costs k;
    int rc = http_need_commune(req);

    if (rc == 0)
        rc = ins_costs_get(req->conn, req->arena, req->cfg, req->who.insee, &k,
                           &req->err);
    if (rc < 0)
        return rc;
    return settings_page(req, resp, 200, &k, NULL, NULL, NULL,
                         http_query(req, "enregistre")
                             ? "Hypothèses enregistrées."
                             : NULL);
}

/* "12,5" or "12.5" -> 12.5; false on anything else. */
static bool
parse_fr(const char *s, double *out)
{
    char buf[64], *end;
    size_t n = 0;

    if (!s)
        return false;
    while (*s == ' ')
        s++;
    for (; *s && n + 1 < sizeof(buf); s++)
        buf[n++] = *s == ',' ? '.' : *s;
    while (n && buf[n - 1] == ' ')
        n--;
    buf[n] = 0;
    if (n == 0 || *s)
        return false;
    *out = strtod(buf, &end);
    return *end == 0 && isfinite(*out);
}

int
ins_post_settings(struct http_req *req, struct http_resp *resp)
{
    struct ins_costs k;
    /* NULL past a field that fails to parse: settings_page reads them all. */
    const char *typed[GU_ARRAY_LEN(fields)] = {NULL};
    const char *action = http_form(req, "action");
    int rc = http_need_commune(req);

    if (rc < 0)
        return rc;
    if (action && strcmp(action, "defaut") == 0) {
        rc = ins_costs_reset(req->conn, req->who.insee, &req->err);
        if (rc < 0)
            return rc;
        http_audit(req, "insight.costs", req->who.insee, "defaut");
        return http_redirect(resp, "/agent/rapport/reglages?enregistre=1");
    }
    rc = ins_costs_get(req->conn, req->arena, req->cfg, req->who.insee, &k,
                       &req->err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < GU_ARRAY_LEN(fields); i++) {
        typed[i] = http_form(req, fields[i].name);
        if (!parse_fr(typed[i], field_of(&k, i)))
            return settings_page(req, resp, 400, &k, typed, fields[i].name,
                                 "Indiquez un nombre, par exemple 4,5.", NULL);
    }
    rc = ins_costs_save(req->conn, req->who.insee, &k, http_actor(req),
                        gu_now(), &req->err);
    if (rc == GU_EINVAL) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", req->err.user);
        return settings_page(req, resp, 400, &k, typed, req->err.field, msg,
                             NULL);
    }
    if (rc < 0)
        return rc;
    http_audit(req, "insight.costs", req->who.insee,
               "min_answer=%g min_routed=%g min_booking=%g hourly=%g "
               "meal_cost=%g meal_kg=%g",
               k.min_answer, k.min_routed, k.min_booking, k.hourly_cost,
               k.meal_cost, k.meal_kg);
    return http_redirect(resp, "/agent/rapport/reglages?enregistre=1");
}

/* ------------------------------------------------------------------ */
/* Transparency                                                        */
/* ------------------------------------------------------------------ */

static void
transparency_html(struct gu_buf *b, json_t *j, const char *insee)
{
    json_t *list = json_object_get(j, "algorithmes"), *al;
    size_t i;

    gu_buf_puts(b, "<nav aria-label=\"Sommaire\"><ul>");
    json_array_foreach(list, i, al)
    {
        gu_buf_puts(b, "<li><a href=\"#algo-");
        html(b, json_string_value(json_object_get(al, "id")));
        gu_buf_puts(b, "\">");
        html(b, json_string_value(json_object_get(al, "nom")));
        gu_buf_puts(b, "</a></li>");
    }
    gu_buf_puts(b, "<li><a href=\"#explication\">Demander une explication"
                   "</a></li></ul></nav>\n");
    json_array_foreach(list, i, al)
    {
        json_t *ps = json_object_get(al, "parametres"), *p;
        size_t k;

        gu_buf_puts(b, "<section class=\"tr-algo\" id=\"algo-");
        html(b, json_string_value(json_object_get(al, "id")));
        gu_buf_puts(b, "\"><h2>");
        html(b, json_string_value(json_object_get(al, "nom")));
        gu_buf_puts(b, "</h2>");
        if (!json_is_true(json_object_get(al, "actif")))
            gu_buf_puts(b, "<p><strong>Pas en service pour la commune "
                           "actuellement.</strong></p>");
        gu_buf_puts(b, "<dl><dt>Finalité</dt><dd>");
        html(b, json_string_value(json_object_get(al, "finalite")));
        gu_buf_puts(b, "</dd><dt>Données utilisées</dt><dd>");
        html(b, json_string_value(json_object_get(al, "donnees")));
        gu_buf_puts(b, "</dd><dt>Principaux paramètres</dt><dd><ul>");
        json_array_foreach(ps, k, p)
        {
            gu_buf_puts(b, "<li>");
            html(b, json_string_value(json_object_get(p, "nom")));
            gu_buf_puts(b, " : ");
            html(b, json_string_value(json_object_get(p, "valeur")));
            gu_buf_puts(b, "</li>");
        }
        gu_buf_puts(b, "</ul></dd><dt>Contrôle humain</dt><dd>");
        html(b, json_string_value(json_object_get(al, "controle_humain")));
        gu_buf_puts(b, "</dd><dt>Décision individuelle</dt><dd>");
        html(b, json_string_value(
                    json_object_get(al, "decision_individuelle_texte")));
        gu_buf_puts(b, "</dd></dl></section>\n");
    }
    gu_buf_puts(b, "<section id=\"assistant-mention\"><h2>Ce que dit "
                   "l’assistant en ligne</h2><p>Au premier message, "
                   "l’assistant se présente ainsi (règlement européen sur "
                   "l’IA, article 50) :</p><blockquote><p>");
    html(b, json_string_value(json_object_get(j, "mention_assistant")));
    gu_buf_puts(b, "</p></blockquote></section>\n<section><h2>Cadre "
                   "légal</h2><ul><li>");
    json_t *law = json_object_get(j, "cadre_legal");
    html(b, json_string_value(json_object_get(law, "publication")));
    gu_buf_puts(b, "</li><li>");
    html(b, json_string_value(json_object_get(law, "explication")));
    gu_buf_puts(b, "</li><li>");
    html(b, json_string_value(json_object_get(law, "ia")));
    gu_buf_puts(b, "</li></ul></section>\n");
    gu_buf_puts(b,
                "<section id=\"explication\"><h2>Demander une explication "
                "individuelle</h2><p>Si une décision vous concernant a été "
                "prise avec l’aide d’un de ces traitements, vous pouvez "
                "demander qu’on vous en explique les règles et la façon dont "
                "ils ont été appliqués à votre situation. Votre demande est "
                "transmise aux agents de la mairie, qui vous répondent par "
                "courriel.</p>"
                "<form method=\"post\" action=\"/transparence/explication\" "
                "class=\"panel\">");
    gu_buf_puts(b, "<input type=\"hidden\" name=\"c\" value=\"");
    html(b, insee);
    gu_buf_puts(
        b, "\"><div class=\"field\"><label for=\"x-texte\">Votre demande "
           "<span class=\"hint\" id=\"x-texte-hint\">la décision concernée, "
           "sa date, votre numéro de demande ou de rendez-vous</span></label>"
           "<textarea id=\"x-texte\" name=\"texte\" rows=\"5\" required "
           "aria-describedby=\"x-texte-hint\" maxlength=\"4000\"></textarea>"
           "</div><div class=\"field\"><label for=\"x-nom\">Nom <span "
           "class=\"hint\">facultatif</span></label><input type=\"text\" "
           "id=\"x-nom\" name=\"nom\" autocomplete=\"name\"></div>"
           "<div class=\"field\"><label for=\"x-courriel\">Adresse "
           "électronique <span class=\"hint\" id=\"x-courriel-hint\">pour "
           "recevoir la réponse</span></label><input type=\"email\" "
           "id=\"x-courriel\" name=\"courriel\" autocomplete=\"email\" "
           "required aria-describedby=\"x-courriel-hint\"></div>"
           "<div class=\"field actions\"><button type=\"submit\" "
           "class=\"btn\">Envoyer ma demande</button></div></form>"
           "</section>\n");
}

static int
transparency_page(struct http_req *req, struct http_resp *resp, int status,
                  const char *message, const char *error)
{
    struct store_commune m;
    const char *dflt = req->cfg ? gu_config_str(req->cfg, "commune.default")
                                : "";
    struct gu_buf b;
    const char *content;
    json_t *j = NULL, *vars;
    int rc;

    rc = portal_commune_load(req->conn, req->arena, http_query(req, "c"), dflt,
                             &m, &req->err);
    if (rc < 0)
        return rc;
    rc = ins_transparency_json(req->conn, req->arena, req->cfg, m.insee, &j,
                               &req->err);
    if (rc < 0)
        return rc;
    gu_json_arena(req->arena, j);
    gu_buf_init(&b);
    transparency_html(&b, j, m.insee);
    content = take(req, &b);
    if (!content)
        return GU_ENOMEM;
    vars = json_pack("{s:s, s:s, s:s, s:s, s:s}", "commune", m.name, "insee",
                     m.insee, "contenu", content, "message",
                     message ? message : "", "erreur", error ? error : "");
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, status, "transparence.html", vars);
}

int
ins_page_transparency(struct http_req *req, struct http_resp *resp)
{
    const char *n = http_query(req, "envoye");
    const char *msg = NULL;

    if (n && *n && strlen(n) < 32)
        msg = gu_arena_sprintf(req->arena,
                               "Votre demande d’explication est enregistrée "
                               "sous le numéro %s. Un agent vous répondra par "
                               "courriel.",
                               n);
    return transparency_page(req, resp, 200, msg, NULL);
}

int
ins_post_explain(struct http_req *req, struct http_resp *resp)
{
    struct store_commune m;
    struct tri_intake_req in;
    struct tri_intake_res out;
    const char *insee = http_form(req, "c"), *text = http_form(req, "texte");
    const char *email = http_form(req, "courriel"), *name = http_form(req,
                                                                     "nom");
    const char *dflt = req->cfg ? gu_config_str(req->cfg, "commune.default")
                                : "";
    char key[96], loc[96];
    int retry = 0, rc;

    rc = portal_commune_load(req->conn, req->arena, insee, dflt, &m,
                             &req->err);
    if (rc < 0)
        return rc;
    snprintf(key, sizeof(key), "ins.explain:%s",
             req->client_ip ? req->client_ip : "");
    rc = store_rate_hit(req->conn, key, 5, 3600, &retry, &req->err);
    if (rc < 0)
        return rc;
    if (!text || !*text || strlen(text) > EXPLAIN_MAX)
        return transparency_page(req, resp, 400, NULL,
                                 "Décrivez votre demande (4 000 caractères "
                                 "au plus).");
    if (!email || !*email)
        return transparency_page(req, resp, 400, NULL,
                                 "Indiquez votre adresse électronique pour "
                                 "recevoir la réponse.");
    memset(&in, 0, sizeof(in));
    in.insee = m.insee;
    in.channel = TRI_WEB;
    in.subject = "Demande d’explication d’une décision (art. R311-3-1-2 "
                 "CRPA)";
    in.body = text;
    in.contact_name = name && *name ? name : NULL;
    in.contact_email = email;
    in.notify = true;
    in.origin = "transparence";
    in.actor = "usager";
    rc = tri_intake(store_conn_store(req->conn), req->conn, req->cfg, &in,
                    req->arena, &out, &req->err);
    if (rc == GU_EINVAL || rc == GU_ETOOBIG)
        return transparency_page(req, resp, 400, NULL, req->err.user);
    if (rc < 0)
        return rc;
    snprintf(loc, sizeof(loc), "/transparence?c=%s&envoye=%s#contenu",
             m.insee, out.number ? out.number : "");
    return http_redirect(resp, loc);
}
