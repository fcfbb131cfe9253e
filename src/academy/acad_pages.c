/*
 * acad_pages.c - the training workspace's pages (/agent/formation...),
 * rendered by the server so that they work without script:
 *
 *   GET  /agent/formation                       the sandbox (enter, leave,
 *                                               reset), the modules, the
 *                                               scenarios and the agent's
 *                                               results
 *   POST /agent/formation/bac-a-sable/entrer|sortir|reinitialiser
 *   GET  /agent/formation/scenarios/{code}      context, instructions,
 *                                               « Lancer », the attempt in
 *                                               progress with « Vérifier »,
 *                                               and the feedback
 *   POST /agent/formation/scenarios/{code}/lancer
 *   POST /agent/formation/essais/{id}/verifier  (reponse for forecasts)
 *   GET  /agent/formation/modules/{code}        text and quiz
 *   POST /agent/formation/modules/{code}        the quiz graded, with the
 *                                               feedback of each answer
 *   admins:
 *   GET  /agent/formation/suivi                 every agent's progress
 *   GET  /agent/formation/suivi.csv             the same as CSV
 *   GET  /agent/formation/banque                every scenario, enabled
 *                                               or not, with its actions
 *   GET  /agent/formation/banque/nouveau        the scenario form, empty
 *   POST /agent/formation/banque                creates one
 *   GET  /agent/formation/banque/{code}         the form of one scenario
 *   POST /agent/formation/banque/{code}         saves it
 *   POST /agent/formation/banque/{code}/etat    actif=1|0
 *   POST /agent/formation/banque/{code}/retablir  back to the default
 *
 * Forms carry the session's CSRF token (web/ checks it). Errors re-render
 * the page (400) with a focused summary and the field's message;
 * successes redirect (303) to a page that says what was done. Results are
 * never told by colour alone: each item says « Réussi » or « À revoir »
 * in words.
 */
#include "academy/acad_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE "agent-formation-page.html"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static void
html(struct gu_buf *b, const char *s)
{
    if (s)
        gu_buf_html(b, s, strlen(s));
}

static int
render(struct http_req *req, struct http_resp *resp, int status,
       const char *title, const char *back_href, const char *back_label,
       const char *message, struct gu_buf *content)
{
    struct gu_buf back;
    json_t *vars;
    int rc;

    gu_buf_init(&back);
    if (back_href) {
        gu_buf_puts(&back, "<p><a href=\"");
        html(&back, back_href);
        gu_buf_puts(&back, "\">&larr; ");
        html(&back, back_label);
        gu_buf_puts(&back, "</a></p>");
    }
    if (content->oom || back.oom) {
        gu_buf_fini(&back);
        gu_buf_fini(content);
        return GU_ENOMEM;
    }
    vars = json_pack("{s:s, s:s, s:s, s:s%}", "titre", title, "retour",
                     back.p ? back.p : "", "message", message ? message : "",
                     "contenu", content->p ? content->p : "", content->n);
    gu_buf_fini(&back);
    gu_buf_fini(content);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    rc = http_template(req, resp, status, TEMPLATE, vars);
    return rc;
}

static int
not_found(struct http_req *req, struct http_resp *resp, const char *title,
          const char *detail)
{
    json_t *vars = json_pack("{s:s, s:s, s:s}", "status", "404", "title", title,
                             "detail", detail);

    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 404, "erreur.html", vars);
}

static void
csrf(struct http_req *req, struct gu_buf *b)
{
    gu_buf_puts(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
    html(b, req->who.csrf);
    gu_buf_puts(b, "\">\n");
}

/* A one-button form. */
static void
button_form(struct http_req *req, struct gu_buf *b, const char *action,
            const char *label, const char *cls, const char *hidden_name,
            const char *hidden_value)
{
    gu_buf_puts(b, "<form method=\"post\" class=\"inline-form\" action=\"");
    html(b, action);
    gu_buf_puts(b, "\">");
    csrf(req, b);
    if (hidden_name) {
        gu_buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"",
                      hidden_name);
        html(b, hidden_value);
        gu_buf_puts(b, "\">");
    }
    gu_buf_printf(b, "<button type=\"submit\" class=\"btn %s\">", cls);
    html(b, label);
    gu_buf_puts(b, "</button></form>\n");
}

static void
date_fr(struct gu_buf *b, int64_t t)
{
    char s[64];

    if (t <= 0) {
        gu_buf_puts(b, "—");
        return;
    }
    gu_time_fr(t, s, sizeof(s));
    html(b, s);
}

/* « Réussi » / « À revoir » in words, with a badge. */
static void
verdict(struct gu_buf *b, bool ok)
{
    gu_buf_puts(b, ok ? "<span class=\"badge badge-ok\">Réussi</span>"
                      : "<span class=\"badge badge-off\">À revoir</span>");
}

/* The error summary of a form (one message). */
static void
error_box(struct gu_buf *b, const char *intro, const char *anchor,
          const char *msg)
{
    gu_buf_puts(b, "<div class=\"alert alert-error form-summary\" "
                   "role=\"alert\" tabindex=\"-1\" id=\"erreurs\"><p>");
    html(b, intro);
    gu_buf_puts(b, "</p><ul><li>");
    if (anchor) {
        gu_buf_printf(b, "<a href=\"#%s\">", anchor);
        html(b, msg);
        gu_buf_puts(b, "</a>");
    } else {
        html(b, msg);
    }
    gu_buf_puts(b, "</li></ul></div>\n");
}

static const char *
user_msg(struct http_req *req)
{
    return req->err.user[0] ? gu_arena_strdup(req->arena, req->err.user)
                            : gu_status_user(req->err.code);
}

/* ------------------------------------------------------------------ */
/* Home page                                                           */
/* ------------------------------------------------------------------ */

static const char *
home_message(struct http_req *req)
{
    static const struct {
        const char *key, *msg;
    } m[] = {
        {"entree", "Vous êtes dans le bac à sable de formation. Les pages de "
                   "l’espace agents travaillent maintenant sur ses données "
                   "fictives."},
        {"sortie", "Vous êtes revenu à votre commune."},
        {"reinitialise", "Le bac à sable a été vidé et rempli à nouveau."},
    };
    const char *what = http_query(req, "fait");

    for (size_t i = 0; what && i < GU_ARRAY_LEN(m); i++) {
        if (strcmp(what, m[i].key) == 0)
            return m[i].msg;
    }
    return "";
}

static void
sandbox_panel(struct http_req *req, struct gu_buf *b,
              const struct acad_who *w)
{
    gu_buf_puts(b, "<section class=\"panel\" aria-labelledby=\"bas-titre\">\n"
                   "<h2 id=\"bas-titre\">Bac à sable</h2>\n");
    gu_buf_puts(b, "<p>Le bac à sable est une copie fictive de la commune "
                   "(fiches, rendez-vous, demandes, prévisions, "
                   "surveillance) : vous y utilisez les vraies pages de "
                   "l’espace agents sans toucher aux vraies données. Rien "
                   "n’y est envoyé aux habitants.</p>\n");
    if (w->has_sandbox && strcmp(w->sb.state, "pret") != 0) {
        char step[96];
        acad_sandbox_progress(store_conn_store(req->conn), w->sb.insee, step,
                              sizeof(step));
        gu_buf_puts(b, "<div class=\"alert alert-warn\" id=\"preparation\" "
                       "role=\"status\"><p>Le bac à sable est en préparation "
                       "(fiches, rendez-vous, demandes, prévisions, "
                       "surveillance) : quelques secondes. Cette page se met "
                       "à jour d’elle-même ; sinon, <a "
                       "href=\"/agent/formation\">actualisez-la</a>.</p>");
        if (*step) {
            gu_buf_puts(b, "<p>Étape en cours : <span id=\"etape\">");
            html(b, step);
            gu_buf_puts(b, "</span></p>");
        }
        gu_buf_puts(b, "</div>\n");
    }
    if (w->in_sandbox) {
        gu_buf_puts(b, "<p><strong>Vous êtes dans le bac à sable.</strong> "
                       "Commune active : ");
        html(b, w->sb.insee);
        gu_buf_puts(b, ".</p>\n<p class=\"actions\">");
        button_form(req, b, "/agent/formation/bac-a-sable/sortir",
                    "Revenir à ma commune", "", NULL, NULL);
    } else {
        gu_buf_puts(b, w->has_sandbox
                           ? "<p>Vous travaillez sur votre commune réelle.</p>"
                           : "<p>La commune n’a pas encore de bac à sable : "
                             "il est créé à la première entrée et rempli en "
                             "quelques secondes.</p>");
        gu_buf_puts(b, "\n<p class=\"actions\">");
        button_form(req, b, "/agent/formation/bac-a-sable/entrer",
                    "Entrer dans le bac à sable", "", NULL, NULL);
    }
    if (w->has_sandbox && w->role >= STORE_ROLE_AGENT &&
        strcmp(w->sb.state, "pret") == 0)
        button_form(req, b, "/agent/formation/bac-a-sable/reinitialiser",
                    "Réinitialiser le bac à sable", "btn-secondary", NULL,
                    NULL);
    gu_buf_puts(b, "</p>\n");
    if (w->has_sandbox) {
        gu_buf_puts(b, "<p class=\"hint\">Créé le ");
        date_fr(b, w->sb.created_at);
        if (w->sb.reset_at > 0) {
            gu_buf_puts(b, ", réinitialisé le ");
            date_fr(b, w->sb.reset_at);
        }
        gu_buf_puts(b, ". Réinitialiser efface tout ce qui a été fait dans "
                       "le bac à sable, par tous les agents.</p>\n");
    }
    gu_buf_puts(b, "</section>\n");
}

static int
page_home(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_module *m = NULL;
    struct acad_scenario *s = NULL;
    size_t nm = 0, ns = 0;
    struct gu_buf b;
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = acad_module_list(req->arena, &m, &nm, &req->err);
    if (rc == 0)
        rc = acad_scenario_list(req->conn, req->arena, w.home, false, &s, &ns,
                                &req->err);
    if (rc < 0)
        return rc;
    gu_buf_init(&b);
    gu_buf_puts(&b, "<p>Entraînez-vous sur des situations réelles dans un "
                    "bac à sable, et suivez les modules courts sur ce que "
                    "fait l’IA de Guichet (obligation de culture de l’IA, "
                    "règlement européen sur l’IA, article 4).</p>\n");
    if (!req->who.is_token)
        sandbox_panel(req, &b, &w);
    /* modules */
    gu_buf_puts(&b, "<section aria-labelledby=\"modules-titre\">\n<h2 "
                    "id=\"modules-titre\">Modules</h2>\n<div "
                    "class=\"table-scroll\" role=\"region\" tabindex=\"0\" "
                    "aria-labelledby=\"modules-legende\"><table>\n<caption "
                    "id=\"modules-legende\">Modules de culture de l’IA et "
                    "votre résultat</caption>\n<thead><tr><th "
                    "scope=\"col\">Module</th><th scope=\"col\">Durée</th>"
                    "<th scope=\"col\">Votre résultat</th></tr></thead>"
                    "<tbody>\n");
    for (size_t i = 0; i < nm; i++) {
        struct acad_quiz_result best;
        struct gu_err e = {0};
        bool taken = acad_quiz_best(req->conn, w.home, req->who.agent_id,
                                    m[i].code, &best, &e) == 0;
        gu_buf_puts(&b, "<tr><th scope=\"row\"><a href=\"/agent/formation/"
                        "modules/");
        html(&b, m[i].code);
        gu_buf_puts(&b, "\">");
        html(&b, m[i].title);
        gu_buf_puts(&b, "</a></th><td>");
        html(&b, m[i].duration);
        gu_buf_puts(&b, "</td><td>");
        if (!taken) {
            gu_buf_puts(&b, "Pas encore fait");
        } else {
            verdict(&b, best.passed);
            gu_buf_printf(&b, " meilleur score %d sur %d", best.score,
                          best.total);
        }
        gu_buf_puts(&b, "</td></tr>\n");
    }
    gu_buf_puts(&b, "</tbody></table></div>\n</section>\n");
    /* scenarios */
    gu_buf_puts(&b, "<section aria-labelledby=\"scenarios-titre\">\n<h2 "
                    "id=\"scenarios-titre\">Scénarios d’entraînement</h2>\n"
                    "<p>Chaque scénario met une situation en place dans le "
                    "bac à sable ; vous la traitez sur les vraies pages, "
                    "puis « Vérifier » compare ce que vous avez fait avec le "
                    "traitement attendu.</p>\n<div class=\"table-scroll\" "
                    "role=\"region\" tabindex=\"0\" "
                    "aria-labelledby=\"scenarios-legende\"><table>\n"
                    "<caption id=\"scenarios-legende\">Scénarios et vos "
                    "résultats</caption>\n<thead><tr><th "
                    "scope=\"col\">Scénario</th><th scope=\"col\">Type</th>"
                    "<th scope=\"col\">Vos essais</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < ns; i++) {
        struct acad_attempt *t = NULL;
        size_t nt = 0;
        bool passed = false, checked = false;

        rc = acad_attempt_list(req->conn, req->arena, w.home,
                               req->who.agent_id, s[i].code, 200, &t, &nt,
                               &req->err);
        if (rc < 0) {
            gu_buf_fini(&b);
            return rc;
        }
        for (size_t k = 0; k < nt; k++) {
            passed |= t[k].passed;
            checked |= strcmp(t[k].status, "verifie") == 0;
        }
        gu_buf_puts(&b, "<tr><th scope=\"row\"><a href=\"/agent/formation/"
                        "scenarios/");
        html(&b, s[i].code);
        gu_buf_puts(&b, "\">");
        html(&b, s[i].title);
        gu_buf_puts(&b, "</a></th><td>");
        html(&b, acad_kind_label(s[i].kind));
        gu_buf_puts(&b, "</td><td>");
        if (nt == 0) {
            gu_buf_puts(&b, "Aucun");
        } else {
            if (checked)
                verdict(&b, passed);
            gu_buf_printf(&b, " %zu essai%s", nt, nt > 1 ? "s" : "");
        }
        gu_buf_puts(&b, "</td></tr>\n");
    }
    gu_buf_puts(&b, "</tbody></table></div>\n</section>\n");
    if (w.role >= STORE_ROLE_ADMIN)
        gu_buf_puts(&b, "<section aria-labelledby=\"admin-titre\">\n<h2 "
                        "id=\"admin-titre\">Administration</h2>\n<ul>"
                        "<li><a href=\"/agent/formation/suivi\">Suivi des "
                        "agents (registre de formation à l’IA)</a></li>"
                        "<li><a href=\"/agent/formation/banque\">Banque de "
                        "scénarios : modifier, désactiver, ajouter</a></li>"
                        "</ul>\n</section>\n");
    return render(req, resp, 200, "Formation", NULL, NULL, home_message(req),
                  &b);
}

/* ------------------------------------------------------------------ */
/* Sandbox actions                                                     */
/* ------------------------------------------------------------------ */

static int
action_error(struct http_req *req, struct http_resp *resp, int rc)
{
    struct gu_buf b;

    if (rc == GU_ENOMEM || rc == GU_EDB || rc == GU_EINTERNAL)
        return rc;
    gu_buf_init(&b);
    error_box(&b, "L’action n’a pas abouti :", NULL, user_msg(req));
    gu_buf_puts(&b, "<p><a href=\"/agent/formation\">Revenir à la "
                    "formation</a></p>\n");
    return render(req, resp, rc == GU_EPERM ? 403 : 409, "Formation", NULL,
                  NULL, "", &b);
}

static int
sandbox_post(struct http_req *req, struct http_resp *resp,
             int (*fn)(struct http_req *, struct acad_who *),
             const char *done)
{
    struct acad_who w;
    char loc[64];
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = fn(req, &w);
    if (rc < 0)
        return action_error(req, resp, rc);
    snprintf(loc, sizeof(loc), "/agent/formation?fait=%s", done);
    return http_redirect(resp, loc);
}

static int
post_enter(struct http_req *req, struct http_resp *resp)
{
    return sandbox_post(req, resp, acad_enter, "entree");
}

static int
post_leave(struct http_req *req, struct http_resp *resp)
{
    return sandbox_post(req, resp, acad_leave, "sortie");
}

static int
post_reset(struct http_req *req, struct http_resp *resp)
{
    return sandbox_post(req, resp, acad_reset, "reinitialise");
}

/* ------------------------------------------------------------------ */
/* A scenario                                                          */
/* ------------------------------------------------------------------ */

/* Where, on the real pages, the agent works on a scenario. */
static void
where_to_work(struct gu_buf *b, const struct acad_attempt *t)
{
    json_t *l = t->launch;
    const char *s;

    gu_buf_puts(b, "<p>");
    if (strcmp(t->kind, "demande") == 0) {
        gu_buf_puts(b, "La demande n° <strong>");
        html(b, json_string_value(json_object_get(l, "numero")));
        gu_buf_printf(b, "</strong> est arrivée dans la boîte des demandes "
                         "du bac à sable. <a href=\"/agent/demandes/%" PRId64
                         "\">Ouvrir la demande</a> · <a "
                         "href=\"/agent/demandes\">Boîte des demandes</a>",
                      t->target_id);
    } else if (strcmp(t->kind, "question") == 0) {
        gu_buf_puts(b, "La question <strong>");
        html(b, json_string_value(json_object_get(l, "reference")));
        gu_buf_puts(b, "</strong> attend une réponse dans les questions "
                       "transmises. <a href=\"/agent/assistant\">Ouvrir les "
                       "questions transmises</a>");
    } else if (strcmp(t->kind, "rdv") == 0) {
        gu_buf_puts(b, "Le rendez-vous « ");
        html(b, json_string_value(json_object_get(l, "motif")));
        gu_buf_puts(b, " » du <strong>");
        html(b, json_string_value(json_object_get(l, "quand")));
        {
            char iso[16];
            gu_day_iso(json_integer_value(json_object_get(l, "jour")), iso,
                       sizeof(iso));
            gu_buf_printf(b, "</strong> est dans l’agenda du bac à sable. <a "
                             "href=\"/agent/rdv?vue=jour&amp;date=%s\">Ouvrir "
                             "l’agenda de ce jour</a>",
                          iso);
        }
    } else if (strcmp(t->kind, "prevision") == 0) {
        json_t *days = json_object_get(l, "jours");
        gu_buf_puts(b, "Série : <strong>");
        html(b, json_string_value(json_object_get(l, "serie")));
        gu_buf_printf(b, "</strong>. <a href=\"/agent/previsions/%" PRId64
                         "\">Ouvrir la série</a> · <a "
                         "href=\"/agent/previsions\">Prévisions</a>",
                      (int64_t)json_integer_value(
                          json_object_get(l, "serie_id")));
        if (json_array_size(days) == 1) {
            gu_buf_puts(b, "</p><p>Jour concerné : <strong>");
            html(b, json_string_value(
                        json_object_get(json_array_get(days, 0), "libelle")));
            gu_buf_puts(b, "</strong>");
        }
    } else {
        s = json_string_value(json_object_get(l, "capteur"));
        gu_buf_puts(b, "Alerte sur « ");
        html(b, s);
        gu_buf_puts(b, " » (");
        html(b, json_string_value(json_object_get(l, "equipement")));
        gu_buf_printf(b, "). <a href=\"/agent/surveillance/alertes/%" PRId64
                         "\">Ouvrir l’alerte</a>",
                      t->target_id);
    }
    gu_buf_puts(b, "</p>\n");
}

/* The « Vérifier » form; forecasts ask for the answer here. */
static void
verify_form(struct http_req *req, struct gu_buf *b,
            const struct acad_attempt *t, const struct acad_scenario *s,
            const char *error)
{
    json_t *sit = json_object_get(s->spec, "situation");

    gu_buf_printf(b, "<form method=\"post\" action=\"/agent/formation/essais/"
                     "%" PRId64 "/verifier\" novalidate>\n",
                  t->id);
    csrf(req, b);
    if (strcmp(t->kind, "prevision") == 0) {
        const char *want = json_string_value(json_object_get(sit, "reponse"));
        const char *q = json_string_value(json_object_get(sit, "question"));
        if (want && strcmp(want, "jour_max") == 0) {
            json_t *days = json_object_get(t->launch, "jours"), *d;
            size_t i;
            gu_buf_puts(b, "<fieldset class=\"field\" id=\"reponse\"><legend>");
            html(b, q);
            gu_buf_puts(b, "</legend>\n");
            json_array_foreach(days, i, d) {
                gu_buf_printf(b,
                              "<div><input type=\"radio\" name=\"reponse\" "
                              "id=\"reponse-%zu\" value=\"%" PRId64 "\">"
                              "<label for=\"reponse-%zu\">",
                              i,
                              (int64_t)json_integer_value(
                                  json_object_get(d, "jour")),
                              i);
                html(b, json_string_value(json_object_get(d, "libelle")));
                gu_buf_puts(b, "</label></div>\n");
            }
            gu_buf_puts(b, "</fieldset>\n");
        } else {
            gu_buf_puts(b, "<div class=\"field\"><label for=\"reponse\">");
            html(b, q);
            gu_buf_printf(b, "</label><input type=\"text\" id=\"reponse\" "
                             "name=\"reponse\" inputmode=\"decimal\" "
                             "maxlength=\"%d\" aria-describedby=\"reponse-"
                             "erreur\"%s><span class=\"field-error\" "
                             "id=\"reponse-erreur\">",
                          ACAD_ANSWER_MAX,
                          error ? " aria-invalid=\"true\"" : "");
            html(b, error);
            gu_buf_puts(b, "</span></div>\n");
        }
    }
    gu_buf_puts(b, "<p class=\"actions\"><button type=\"submit\" "
                   "class=\"btn\">Vérifier</button></p>\n</form>\n");
}

static void
feedback_html(struct gu_buf *b, const struct acad_attempt *t,
              const struct acad_scenario *s)
{
    json_t *it;
    size_t i;
    const char *ex = json_string_value(
        json_object_get(json_object_get(s->spec, "attendu"), "explication"));

    gu_buf_puts(b, "<section class=\"panel\" aria-labelledby=\"retours-titre\" "
                   "id=\"retours\">\n<h2 id=\"retours-titre\">Retours sur "
                   "votre essai</h2>\n<p>");
    verdict(b, t->passed);
    gu_buf_printf(b, " <strong>%d point%s sur %d</strong> — vérifié le ",
                  t->score, t->score > 1 ? "s" : "", t->total);
    date_fr(b, t->checked_at);
    gu_buf_puts(b, ".</p>\n<ul class=\"feedback\">\n");
    json_array_foreach(t->feedback, i, it) {
        bool ok = json_is_true(json_object_get(it, "ok"));
        bool counts = json_is_true(json_object_get(it, "compte"));
        const char *want = json_string_value(json_object_get(it, "attendu"));
        const char *seen = json_string_value(json_object_get(it, "constate"));
        const char *adv = json_string_value(json_object_get(it, "conseil"));

        gu_buf_puts(b, "<li><p><strong>");
        html(b, json_string_value(json_object_get(it, "libelle")));
        gu_buf_puts(b, "</strong> ");
        if (counts)
            verdict(b, ok);
        else
            gu_buf_puts(b, "<span class=\"badge\">Pour information</span>");
        gu_buf_puts(b, "</p>");
        if (want && *want) {
            gu_buf_puts(b, "<p>Attendu : ");
            html(b, want);
            gu_buf_puts(b, "</p>");
        }
        if (seen && *seen) {
            gu_buf_puts(b, counts ? "<p>Constaté : " : "<p>");
            html(b, seen);
            gu_buf_puts(b, "</p>");
        }
        if (adv && *adv) {
            gu_buf_puts(b, "<p>Conseil : ");
            html(b, adv);
            gu_buf_puts(b, "</p>");
        }
        gu_buf_puts(b, "</li>\n");
    }
    gu_buf_puts(b, "</ul>\n");
    if (ex && *ex) {
        gu_buf_puts(b, "<p><strong>Le traitement attendu :</strong> ");
        html(b, ex);
        gu_buf_puts(b, "</p>\n");
    }
    gu_buf_puts(b, "</section>\n");
}

static int
render_scenario(struct http_req *req, struct http_resp *resp, int status,
                const char *code, const char *message, const char *error,
                const char *answer_error)
{
    struct acad_who w;
    struct acad_scenario s;
    struct acad_attempt *t = NULL;
    size_t nt = 0;
    struct gu_buf b;
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = acad_scenario_get(req->conn, req->arena, w.home, code, &s,
                               &req->err);
    if (rc == GU_ENOTFOUND || (rc == 0 && !s.active))
        return not_found(req, resp, "Scénario introuvable",
                         "Ce scénario n’existe pas, ou il a été désactivé.");
    if (rc == 0)
        rc = acad_attempt_list(req->conn, req->arena, w.home,
                               req->who.agent_id, code, 20, &t, &nt,
                               &req->err);
    if (rc < 0)
        return rc;
    gu_buf_init(&b);
    if (error)
        error_box(&b, "L’action n’a pas abouti :",
                  answer_error ? "reponse" : NULL, error);
    gu_buf_puts(&b, "<p><span class=\"badge\">");
    html(&b, acad_kind_label(s.kind));
    gu_buf_puts(&b, "</span></p>\n<h2>Contexte</h2>\n<p>");
    html(&b, s.context);
    gu_buf_puts(&b, "</p>\n<h2>Consignes</h2>\n<p>");
    html(&b, s.instructions);
    gu_buf_puts(&b, "</p>\n");
    if (w.role >= STORE_ROLE_AGENT && !req->who.is_token) {
        gu_buf_puts(&b, "<form method=\"post\" action=\"/agent/formation/"
                        "scenarios/");
        html(&b, s.code);
        gu_buf_puts(&b, "/lancer\">");
        csrf(req, &b);
        gu_buf_printf(&b, "<p class=\"actions\"><button type=\"submit\" "
                          "class=\"btn%s\">%s</button>%s</p></form>\n",
                      nt && strcmp(t[0].status, "lance") == 0
                          ? " btn-secondary"
                          : "",
                      nt ? "Relancer le scénario" : "Lancer le scénario",
                      w.in_sandbox ? ""
                                   : " <span class=\"hint\">Lancer vous "
                                     "fait entrer dans le bac à sable.</span>");
    } else {
        gu_buf_puts(&b, "<p class=\"hint\">Lancer un scénario demande le rôle "
                        "agent.</p>\n");
    }
    if (nt > 0 && strcmp(t[0].status, "lance") == 0) {
        gu_buf_puts(&b, "<section class=\"panel\" aria-labelledby=\"essai-"
                        "titre\" id=\"essai\">\n<h2 id=\"essai-titre\">Votre "
                        "essai en cours</h2>\n");
        where_to_work(&b, &t[0]);
        if (!w.in_sandbox)
            gu_buf_puts(&b, "<p class=\"hint\">Vous n’êtes pas dans le bac à "
                            "sable : entrez-y pour retrouver la situation "
                            "(page Formation).</p>\n");
        gu_buf_puts(&b, "<p>Quand vous avez terminé, revenez ici et "
                        "vérifiez.</p>\n");
        verify_form(req, &b, &t[0], &s, answer_error);
        gu_buf_puts(&b, "</section>\n");
    }
    for (size_t i = 0; i < nt; i++) {
        if (strcmp(t[i].status, "verifie") == 0) {
            if (i > 0)
                gu_buf_puts(&b, "<h2>Votre dernier essai vérifié</h2>\n");
            feedback_html(&b, &t[i], &s);
            break;
        }
    }
    return render(req, resp, status, s.title, "/agent/formation",
                  "Formation", message, &b);
}

static int
page_scenario(struct http_req *req, struct http_resp *resp)
{
    const char *what = http_query(req, "fait");
    const char *msg = "";

    if (what && strcmp(what, "lance") == 0)
        msg = "Scénario lancé dans le bac à sable : la situation vous "
              "attend sur les pages indiquées.";
    else if (what && strcmp(what, "verifie") == 0)
        msg = "Essai vérifié : voici les retours.";
    return render_scenario(req, resp, 200, http_param(req, "code"), msg, NULL,
                           NULL);
}

static int
post_launch(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    const char *code = http_param(req, "code");
    int64_t id = 0;
    char *loc;
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = acad_launch_req(req, &w, code, &id);
    if (rc == GU_ENOTFOUND)
        return not_found(req, resp, "Scénario introuvable",
                         "Ce scénario n’existe pas, ou il a été désactivé.");
    if (rc == GU_ECONFLICT || rc == GU_EPERM || rc == GU_EINVAL ||
        rc == GU_ERATE)
        return render_scenario(req, resp,
                               rc == GU_EPERM   ? 403
                               : rc == GU_ERATE ? 429
                                                : 409,
                               code, "", user_msg(req), NULL);
    if (rc < 0)
        return rc;
    loc = gu_arena_sprintf(req->arena, "/agent/formation/scenarios/%s?fait="
                                       "lance#essai",
                           code);
    return loc ? http_redirect(resp, loc) : GU_ENOMEM;
}

static int
post_verify(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_attempt t;
    const char *answer = http_form(req, "reponse");
    int64_t id;
    char *loc;
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = http_param_id(req, "id", &id);
    if (rc == 0)
        rc = acad_attempt_get(req->conn, req->arena, w.home,
                              req->who.agent_id, id, &t, &req->err);
    if (rc == GU_ENOTFOUND || rc == GU_EINVAL)
        return not_found(req, resp, "Essai introuvable",
                         "Cet essai n’existe pas, ou il n’est pas le vôtre.");
    if (rc < 0)
        return rc;
    if (strcmp(t.kind, "prevision") == 0 && (!answer || !*answer))
        return render_scenario(req, resp, 400, t.scenario, "",
                               "Donnez votre réponse avant de vérifier.",
                               "Donnez votre réponse.");
    rc = acad_verify(req->conn, req->arena, w.home, req->who.agent_id, id,
                     answer, &t, &req->err);
    if (rc == GU_ECONFLICT || rc == GU_ETOOBIG || rc == GU_EINVAL)
        return render_scenario(req, resp, rc == GU_ECONFLICT ? 409 : 400,
                               t.scenario, "", user_msg(req), NULL);
    if (rc < 0)
        return rc;
    http_audit(req, "formation.verification", t.scenario, "essai=%lld %d/%d",
               (long long)id, t.score, t.total);
    loc = gu_arena_sprintf(req->arena, "/agent/formation/scenarios/%s?fait="
                                       "verifie#retours",
                           t.scenario);
    return loc ? http_redirect(resp, loc) : GU_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Modules                                                             */
/* ------------------------------------------------------------------ */

static int
render_module(struct http_req *req, struct http_resp *resp, int status,
              const struct acad_module *m,
              const struct acad_quiz_result *res, const char *error)
{
    struct gu_buf b;

    gu_buf_init(&b);
    if (error)
        error_box(&b, "Le questionnaire n’a pas été corrigé :", "q-0", error);
    if (res) {
        gu_buf_puts(&b, "<section class=\"panel\" aria-labelledby=\"res-"
                        "titre\" id=\"resultat\" tabindex=\"-1\">\n<h2 "
                        "id=\"res-titre\">Votre résultat</h2>\n<p>");
        verdict(&b, res->passed);
        gu_buf_printf(&b, " <strong>%d bonne%s réponse%s sur %d</strong> "
                          "(il en faut %d pour valider le module).</p>\n",
                      res->score, res->score > 1 ? "s" : "",
                      res->score > 1 ? "s" : "", res->total, m->pass);
        gu_buf_puts(&b, "<ol>\n");
        for (size_t i = 0; i < m->nquestions; i++) {
            const struct acad_question *q = &m->questions[i];
            int k = res->answers[i], right = 0;
            for (size_t c = 0; c < q->nchoices; c++) {
                if (q->choices[c].right)
                    right = (int)c;
            }
            gu_buf_puts(&b, "<li><p><strong>");
            html(&b, q->text);
            gu_buf_puts(&b, "</strong> ");
            verdict(&b, k == right);
            gu_buf_puts(&b, "</p><p>Votre réponse : ");
            html(&b, k >= 0 ? q->choices[k].text : "aucune");
            gu_buf_puts(&b, "</p><p>");
            html(&b, k >= 0 ? q->choices[k].feedback
                            : q->choices[right].feedback);
            gu_buf_puts(&b, "</p>");
            if (k != right) {
                gu_buf_puts(&b, "<p>La bonne réponse : ");
                html(&b, q->choices[right].text);
                gu_buf_puts(&b, "</p>");
            }
            gu_buf_puts(&b, "</li>\n");
        }
        gu_buf_puts(&b, "</ol>\n<p><a href=\"#quiz-titre\">Refaire le "
                        "questionnaire</a></p>\n</section>\n");
    }
    gu_buf_puts(&b, "<p class=\"hint\">Durée : ");
    html(&b, m->duration);
    gu_buf_puts(&b, "</p>\n");
    for (size_t i = 0; i < m->nparagraphs; i++) {
        gu_buf_puts(&b, "<p>");
        html(&b, m->paragraphs[i]);
        gu_buf_puts(&b, "</p>\n");
    }
    gu_buf_puts(&b, "<section aria-labelledby=\"quiz-titre\">\n<h2 "
                    "id=\"quiz-titre\">Questionnaire</h2>\n");
    gu_buf_printf(&b, "<p>%zu questions ; %d bonnes réponses valident le "
                      "module. Vous pouvez le refaire autant de fois que "
                      "vous voulez.</p>\n",
                  m->nquestions, m->pass);
    gu_buf_puts(&b, "<form method=\"post\" action=\"/agent/formation/"
                    "modules/");
    html(&b, m->code);
    gu_buf_puts(&b, "#resultat\" novalidate>\n");
    csrf(req, &b);
    for (size_t i = 0; i < m->nquestions; i++) {
        gu_buf_printf(&b, "<fieldset class=\"field\" id=\"q-%zu\"><legend>"
                          "%zu. ",
                      i, i + 1);
        html(&b, m->questions[i].text);
        gu_buf_puts(&b, "</legend>\n");
        for (size_t k = 0; k < m->questions[i].nchoices; k++) {
            gu_buf_printf(&b,
                          "<div><input type=\"radio\" name=\"q%zu\" "
                          "id=\"q-%zu-%zu\" value=\"%zu\"><label "
                          "for=\"q-%zu-%zu\">",
                          i, i, k, k, i, k);
            html(&b, m->questions[i].choices[k].text);
            gu_buf_puts(&b, "</label></div>\n");
        }
        gu_buf_puts(&b, "</fieldset>\n");
    }
    gu_buf_puts(&b, "<p class=\"actions\"><button type=\"submit\" "
                    "class=\"btn\">Valider mes réponses</button></p>\n"
                    "</form>\n</section>\n");
    return render(req, resp, status, m->title, "/agent/formation",
                  "Formation", "", &b);
}

static int
page_module(struct http_req *req, struct http_resp *resp)
{
    struct acad_module m;
    int rc = acad_module_get(req->arena, http_param(req, "code"), &m,
                             &req->err);

    if (rc == GU_ENOTFOUND)
        return not_found(req, resp, "Module introuvable",
                         "Ce module de formation n’existe pas.");
    if (rc < 0)
        return rc;
    return render_module(req, resp, 200, &m, NULL, NULL);
}

static int
post_module(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_module m;
    struct acad_quiz_result res;
    int answers[ACAD_QUESTIONS_MAX];
    size_t unanswered = 0;
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = acad_module_get(req->arena, http_param(req, "code"), &m,
                             &req->err);
    if (rc == GU_ENOTFOUND)
        return not_found(req, resp, "Module introuvable",
                         "Ce module de formation n’existe pas.");
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < m.nquestions; i++) {
        char name[32];
        long v;
        const char *s;
        snprintf(name, sizeof(name), "q%zu", i);
        s = http_form(req, name);
        if (s && gu_parse_long(s, 0, (long)m.questions[i].nchoices - 1, &v) ==
                     0)
            answers[i] = (int)v;
        else {
            answers[i] = -1;
            unanswered++;
        }
    }
    if (unanswered == m.nquestions)
        return render_module(req, resp, 400, &m, NULL,
                             "Répondez aux questions avant de valider.");
    rc = acad_quiz_submit(req->conn, req->arena, w.home, req->who.agent_id, &m,
                          answers, m.nquestions, &res, &req->err);
    if (rc == GU_ERATE)
        return render_module(req, resp, 429, &m, NULL, user_msg(req));
    if (rc < 0)
        return rc;
    http_audit(req, "formation.quiz", m.code, "%d/%d", res.score, res.total);
    return render_module(req, resp, 200, &m, &res, NULL);
}

/* ------------------------------------------------------------------ */
/* Admins: progress                                                    */
/* ------------------------------------------------------------------ */

static int
page_progress(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_progress *v = NULL;
    size_t n = 0, done = 0;
    struct gu_buf b;
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = acad_progress_list(req->conn, req->arena, w.home, &v, &n,
                                &req->err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        done += v[i].complete;
    gu_buf_init(&b);
    gu_buf_printf(&b, "<p>Le registre de formation à l’IA de la commune "
                      "(règlement européen sur l’IA, article 4) : "
                      "<strong>%zu agent%s sur %zu</strong> %s validé tous "
                      "les modules.</p>\n<p class=\"actions\"><a "
                      "class=\"btn btn-secondary\" href=\"/agent/formation/"
                      "suivi.csv\" download>Télécharger le registre (CSV)"
                      "</a></p>\n",
                  done, done > 1 ? "s" : "", n, done > 1 ? "ont" : "a");
    gu_buf_puts(&b, "<div class=\"table-scroll\" role=\"region\" "
                    "tabindex=\"0\" aria-labelledby=\"suivi-legende\"><table>"
                    "\n<caption id=\"suivi-legende\">Progression de chaque "
                    "agent</caption>\n<thead><tr><th scope=\"col\">Agent</th>"
                    "<th scope=\"col\">Rôle</th><th scope=\"col\">Modules "
                    "validés</th><th scope=\"col\">Scénarios réussis</th>"
                    "<th scope=\"col\">Essais</th><th scope=\"col\">Formation "
                    "à l’IA</th><th scope=\"col\">Dernière activité</th></tr>"
                    "</thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        gu_buf_puts(&b, "<tr><th scope=\"row\">");
        html(&b, v[i].name);
        gu_buf_puts(&b, " <span class=\"hint\">(");
        html(&b, v[i].login);
        gu_buf_puts(&b, ")</span></th><td>");
        html(&b, store_role_name(v[i].role));
        gu_buf_printf(&b, "</td><td>%d sur %d</td><td>%d sur %d</td><td>%d"
                          "</td><td>",
                      v[i].modules_passed, v[i].modules_total,
                      v[i].scenarios_passed, v[i].scenarios_total,
                      v[i].attempts);
        if (v[i].complete) {
            gu_buf_puts(&b, "<span class=\"badge badge-ok\">Terminée</span> "
                            "le ");
            date_fr(&b, v[i].completed_at);
        } else {
            gu_buf_puts(&b, "<span class=\"badge badge-off\">Non "
                            "terminée</span>");
        }
        gu_buf_puts(&b, "</td><td>");
        date_fr(&b, v[i].last_at);
        gu_buf_puts(&b, "</td></tr>\n");
    }
    gu_buf_puts(&b, "</tbody></table></div>\n");
    return render(req, resp, 200, "Suivi de la formation", "/agent/formation",
                  "Formation", "", &b);
}

/* ------------------------------------------------------------------ */
/* Admins: the scenario bank                                           */
/* ------------------------------------------------------------------ */

static const char *
bank_message(struct http_req *req)
{
    static const struct {
        const char *key, *msg;
    } m[] = {
        {"cree", "Scénario créé."},
        {"enregistre", "Scénario enregistré."},
        {"active", "Scénario activé."},
        {"desactive", "Scénario désactivé : les agents ne le voient plus."},
        {"retabli", "Version livrée rétablie (ou scénario propre supprimé)."},
    };
    const char *what = http_query(req, "fait");

    for (size_t i = 0; what && i < GU_ARRAY_LEN(m); i++) {
        if (strcmp(what, m[i].key) == 0)
            return m[i].msg;
    }
    return "";
}

static int
page_bank(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_scenario *s = NULL;
    size_t n = 0;
    struct gu_buf b;
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = acad_scenario_list(req->conn, req->arena, w.home, true, &s, &n,
                                &req->err);
    if (rc < 0)
        return rc;
    gu_buf_init(&b);
    gu_buf_puts(&b, "<p>Les scénarios livrés avec Guichet servent de base : "
                    "vous pouvez les modifier (la commune garde sa version, "
                    "« Rétablir » revient à la version livrée), les "
                    "désactiver, ou ajouter les vôtres.</p>\n<p "
                    "class=\"actions\"><a class=\"btn\" href=\"/agent/"
                    "formation/banque/nouveau\">Nouveau scénario</a></p>\n"
                    "<div class=\"table-scroll\" role=\"region\" "
                    "tabindex=\"0\" aria-labelledby=\"banque-legende\"><table>"
                    "\n<caption id=\"banque-legende\">Banque de scénarios de "
                    "la commune</caption>\n<thead><tr><th "
                    "scope=\"col\">Scénario</th><th scope=\"col\">Type</th>"
                    "<th scope=\"col\">Origine</th><th scope=\"col\">État</th>"
                    "<th scope=\"col\">Actions</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        char *act;
        gu_buf_puts(&b, "<tr><th scope=\"row\"><a href=\"/agent/formation/"
                        "banque/");
        html(&b, s[i].code);
        gu_buf_puts(&b, "\">");
        html(&b, s[i].title);
        gu_buf_puts(&b, "</a> <span class=\"hint\">(");
        html(&b, s[i].code);
        gu_buf_puts(&b, ")</span></th><td>");
        html(&b, acad_kind_label(s[i].kind));
        gu_buf_puts(&b, "</td><td>");
        gu_buf_puts(&b, !s[i].shipped  ? "Propre à la commune"
                        : s[i].edited ? "Livré, modifié"
                                      : "Livré");
        gu_buf_puts(&b, "</td><td>");
        gu_buf_puts(&b, s[i].active
                            ? "<span class=\"badge badge-ok\">Actif</span>"
                            : "<span class=\"badge badge-off\">Désactivé"
                              "</span>");
        gu_buf_puts(&b, "</td><td>");
        act = gu_arena_sprintf(req->arena, "/agent/formation/banque/%s/etat",
                               s[i].code);
        if (act)
            button_form(req, &b, act, s[i].active ? "Désactiver" : "Activer",
                        "btn-small btn-secondary", "actif",
                        s[i].active ? "0" : "1");
        if (s[i].edited) {
            act = gu_arena_sprintf(req->arena,
                                   "/agent/formation/banque/%s/retablir",
                                   s[i].code);
            if (act)
                button_form(req, &b, act,
                            s[i].shipped ? "Rétablir la version livrée"
                                         : "Supprimer",
                            "btn-small btn-secondary", NULL, NULL);
        }
        gu_buf_puts(&b, "</td></tr>\n");
    }
    gu_buf_puts(&b, "</tbody></table></div>\n");
    return render(req, resp, 200, "Banque de scénarios", "/agent/formation",
                  "Formation", bank_message(req), &b);
}

/* The values of the scenario form. */
struct sform {
    const char *code, *type, *titre, *contexte, *consignes, *situation,
        *attendu;
};

static char *
pretty(struct gu_arena *a, json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    char *r = s ? gu_arena_strdup(a, s) : NULL;

    free(s);
    return r;
}

static void
form_text(struct gu_buf *b, const char *id, const char *label,
          const char *hint, const char *value, bool area, bool ro,
          const char *err_field, const char *err)
{
    bool bad = err && err_field && strncmp(err_field, id, strlen(id)) == 0;

    gu_buf_printf(b, "<div class=\"field\"><label for=\"f-%s\">", id);
    html(b, label);
    gu_buf_puts(b, "</label>");
    if (hint) {
        gu_buf_printf(b, "<span class=\"hint\" id=\"f-%s-aide\">", id);
        html(b, hint);
        gu_buf_puts(b, "</span>");
    }
    if (area)
        gu_buf_printf(b, "<textarea id=\"f-%s\" name=\"%s\" rows=\"%d\"", id,
                      id, strcmp(id, "situation") == 0 ||
                                  strcmp(id, "attendu") == 0
                              ? 12
                              : 4);
    else
        gu_buf_printf(b, "<input type=\"text\" id=\"f-%s\" name=\"%s\"%s"
                         " value=\"",
                      id, id, ro ? " readonly" : "");
    if (!area) {
        html(b, value);
        gu_buf_puts(b, "\"");
    }
    gu_buf_printf(b, " aria-describedby=\"%s%s%sf-%s-erreur\"%s>",
                  hint ? "f-" : "", hint ? id : "", hint ? "-aide " : "", id,
                  bad ? " aria-invalid=\"true\"" : "");
    if (area) {
        html(b, value);
        gu_buf_puts(b, "</textarea>");
    }
    gu_buf_printf(b, "<span class=\"field-error\" id=\"f-%s-erreur\">", id);
    if (bad)
        html(b, err);
    gu_buf_puts(b, "</span></div>\n");
}

static int
render_form(struct http_req *req, struct http_resp *resp, int status,
            bool create, const struct sform *f, const char *err_field,
            const char *err)
{
    struct gu_buf b;
    static const char *const types[] = {"demande", "question", "rdv",
                                        "prevision", "alerte"};
    char anchor[80];

    gu_buf_init(&b);
    if (err) {
        snprintf(anchor, sizeof(anchor), "f-%.60s",
                 err_field && *err_field ? err_field : "titre");
        /* "situation.texte" -> the situation box */
        for (char *p = anchor; *p; p++) {
            if (*p == '.')
                *p = '\0';
        }
        error_box(&b, "Le scénario n’a pas été enregistré :", anchor, err);
    }
    gu_buf_puts(&b, "<form method=\"post\" action=\"/agent/formation/banque");
    if (!create) {
        gu_buf_puts(&b, "/");
        html(&b, f->code);
    }
    gu_buf_puts(&b, "\" novalidate>\n");
    csrf(req, &b);
    form_text(&b, "code", "Code", "Lettres minuscules, chiffres et tirets ; "
                                  "ne change plus ensuite.",
              f->code, false, !create, err_field, err);
    gu_buf_puts(&b, "<div class=\"field\"><label for=\"f-type\">Type</label>"
                    "<select id=\"f-type\" name=\"type\">");
    for (size_t i = 0; i < GU_ARRAY_LEN(types); i++) {
        gu_buf_printf(&b, "<option value=\"%s\"%s>", types[i],
                      f->type && strcmp(f->type, types[i]) == 0 ? " selected"
                                                                : "");
        html(&b, acad_kind_label(types[i]));
        gu_buf_puts(&b, "</option>");
    }
    gu_buf_puts(&b, "</select></div>\n");
    form_text(&b, "titre", "Titre", NULL, f->titre, false, false, err_field,
              err);
    form_text(&b, "contexte", "Contexte", "Ce qui s’est passé, du point de "
                                          "vue de l’agent.",
              f->contexte, true, false, err_field, err);
    form_text(&b, "consignes", "Consignes", "Ce que l’agent doit faire, et "
                                            "sur quelle page.",
              f->consignes, true, false, err_field, err);
    form_text(&b, "situation", "Situation (JSON)",
              "Ce que « Lancer » met en place dans le bac à sable ; les "
              "membres selon le type sont décrits dans docs/formation.md.",
              f->situation, true, false, err_field, err);
    form_text(&b, "attendu", "Traitement attendu (JSON)",
              "Ce que « Vérifier » compare, et une « explication » montrée "
              "avec les retours.",
              f->attendu, true, false, err_field, err);
    gu_buf_puts(&b, "<p class=\"actions\"><button type=\"submit\" "
                    "class=\"btn\">Enregistrer</button></p>\n</form>\n");
    return render(req, resp, status,
                  create ? "Nouveau scénario" : "Modifier un scénario",
                  "/agent/formation/banque", "Banque de scénarios", "", &b);
}

static int
page_new(struct http_req *req, struct http_resp *resp)
{
    struct sform f = {"", "demande", "", "", "", "{\n  \"objet\": \"\",\n  "
                                                 "\"texte\": \"\"\n}",
                      "{\n  \"service\": \"\",\n  \"urgence\": 0,\n  "
                      "\"explication\": \"\"\n}"};

    return render_form(req, resp, 200, true, &f, NULL, NULL);
}

static int
page_edit(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_scenario s;
    struct sform f;
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = acad_scenario_get(req->conn, req->arena, w.home,
                               http_param(req, "code"), &s, &req->err);
    if (rc == GU_ENOTFOUND)
        return not_found(req, resp, "Scénario introuvable",
                         "Ce scénario n’existe pas dans votre commune.");
    if (rc < 0)
        return rc;
    f.code = s.code;
    f.type = s.kind;
    f.titre = s.title;
    f.contexte = s.context;
    f.consignes = s.instructions;
    f.situation = pretty(req->arena, json_object_get(s.spec, "situation"));
    f.attendu = pretty(req->arena, json_object_get(s.spec, "attendu"));
    if (!f.situation || !f.attendu)
        return GU_ENOMEM;
    return render_form(req, resp, 200, false, &f, NULL, NULL);
}

static const char *
form_val(struct http_req *req, const char *name)
{
    const char *s = http_form(req, name);

    return s ? s : "";
}

static int
save_form(struct http_req *req, struct http_resp *resp, bool create)
{
    struct acad_who w;
    struct sform f;
    json_t *o, *sit, *att;
    json_error_t je;
    char *loc;
    int rc = acad_who_get(req, &w);

    if (rc < 0)
        return rc;
    f.code = create ? form_val(req, "code") : http_param(req, "code");
    f.type = form_val(req, "type");
    f.titre = form_val(req, "titre");
    f.contexte = form_val(req, "contexte");
    f.consignes = form_val(req, "consignes");
    f.situation = form_val(req, "situation");
    f.attendu = form_val(req, "attendu");
    if (!create) {
        struct acad_scenario cur;
        rc = acad_scenario_get(req->conn, req->arena, w.home, f.code, &cur,
                               &req->err);
        if (rc == GU_ENOTFOUND)
            return not_found(req, resp, "Scénario introuvable",
                             "Ce scénario n’existe pas dans votre commune.");
        if (rc < 0)
            return rc;
    }
    sit = gu_json_arena(req->arena, json_loads(f.situation, 0, &je));
    if (!json_is_object(sit))
        return render_form(req, resp, 400, create, &f, "situation",
                           "La situation n’est pas un objet JSON valide "
                           "(accolades, guillemets droits, virgules).");
    att = gu_json_arena(req->arena, json_loads(f.attendu, 0, &je));
    if (!json_is_object(att))
        return render_form(req, resp, 400, create, &f, "attendu",
                           "Le traitement attendu n’est pas un objet JSON "
                           "valide (accolades, guillemets droits, virgules).");
    o = gu_json_arena(req->arena,
                      json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O}", "code",
                                f.code, "type", f.type, "titre", f.titre,
                                "contexte", f.contexte, "consignes",
                                f.consignes, "situation", sit, "attendu",
                                att));
    if (!o)
        return GU_ENOMEM;
    rc = acad_scenario_save(req->conn, w.home, o, create, http_actor(req),
                            &req->err);
    if (rc == GU_EINVAL || rc == GU_ETOOBIG || rc == GU_ECONFLICT)
        return render_form(req, resp, rc == GU_ECONFLICT ? 409 : 400, create,
                           &f, req->err.field, user_msg(req));
    if (rc < 0)
        return rc;
    http_audit(req,
               create ? "formation.scenario.creation"
                      : "formation.scenario.modification",
               f.code, NULL);
    loc = gu_arena_sprintf(req->arena, "/agent/formation/banque?fait=%s",
                           create ? "cree" : "enregistre");
    return loc ? http_redirect(resp, loc) : GU_ENOMEM;
}

static int
post_new(struct http_req *req, struct http_resp *resp)
{
    return save_form(req, resp, true);
}

static int
post_edit(struct http_req *req, struct http_resp *resp)
{
    return save_form(req, resp, false);
}

static int
post_state(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    const char *code = http_param(req, "code");
    const char *v = http_form(req, "actif");
    bool on = v && strcmp(v, "1") == 0;
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = acad_scenario_set_active(req->conn, req->arena, w.home, code, on,
                                      http_actor(req), &req->err);
    if (rc == GU_ENOTFOUND)
        return not_found(req, resp, "Scénario introuvable",
                         "Ce scénario n’existe pas dans votre commune.");
    if (rc < 0)
        return rc;
    http_audit(req,
               on ? "formation.scenario.activation"
                  : "formation.scenario.desactivation",
               code, NULL);
    return http_redirect(resp, on ? "/agent/formation/banque?fait=active"
                                  : "/agent/formation/banque?fait=desactive");
}

static int
post_restore(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    const char *code = http_param(req, "code");
    int rc = acad_who_get(req, &w);

    if (rc == 0)
        rc = acad_scenario_restore(req->conn, w.home, code, &req->err);
    if (rc == GU_ENOTFOUND)
        return not_found(req, resp, "Rien à rétablir",
                         "Ce scénario n’a pas de version propre à la "
                         "commune.");
    if (rc < 0)
        return rc;
    http_audit(req, "formation.scenario.retablissement", code, NULL);
    return http_redirect(resp, "/agent/formation/banque?fait=retabli");
}

/* ------------------------------------------------------------------ */
/* Routes                                                              */
/* ------------------------------------------------------------------ */

static const struct http_route routes[] = {
    {"GET", "/agent/formation", HTTP_LECTEUR, page_home, "agent",
     "Formation", NULL, NULL},
    {"POST", "/agent/formation/bac-a-sable/entrer", HTTP_LECTEUR, post_enter,
     "agent", "Entrer dans le bac à sable", NULL, NULL},
    {"POST", "/agent/formation/bac-a-sable/sortir", HTTP_LECTEUR, post_leave,
     "agent", "Revenir à ma commune", NULL, NULL},
    {"POST", "/agent/formation/bac-a-sable/reinitialiser", HTTP_AGENT,
     post_reset, "agent", "Réinitialiser le bac à sable", NULL, NULL},
    {"GET", "/agent/formation/scenarios/{code}", HTTP_LECTEUR, page_scenario,
     "agent", "Un scénario", NULL, NULL},
    {"POST", "/agent/formation/scenarios/{code}/lancer", HTTP_AGENT,
     post_launch, "agent", "Lancer un scénario", NULL, NULL},
    {"POST", "/agent/formation/essais/{id}/verifier", HTTP_LECTEUR,
     post_verify, "agent", "Vérifier un essai", NULL, NULL},
    {"GET", "/agent/formation/modules/{code}", HTTP_LECTEUR, page_module,
     "agent", "Un module", NULL, NULL},
    {"POST", "/agent/formation/modules/{code}", HTTP_LECTEUR, post_module,
     "agent", "Répondre au questionnaire", NULL, NULL},
    {"GET", "/agent/formation/suivi", HTTP_ADMIN, page_progress, "agent",
     "Suivi de la formation", NULL, NULL},
    {"GET", "/agent/formation/suivi.csv", HTTP_ADMIN,
     acad_progress_csv_reply,
     "agent", "Suivi de la formation (CSV)", NULL, NULL},
    {"GET", "/agent/formation/banque", HTTP_ADMIN, page_bank, "agent",
     "Banque de scénarios", NULL, NULL},
    {"GET", "/agent/formation/banque/nouveau", HTTP_ADMIN, page_new, "agent",
     "Nouveau scénario", NULL, NULL},
    {"POST", "/agent/formation/banque", HTTP_ADMIN, post_new, "agent",
     "Créer un scénario", NULL, NULL},
    {"GET", "/agent/formation/banque/{code}", HTTP_ADMIN, page_edit, "agent",
     "Modifier un scénario", NULL, NULL},
    {"POST", "/agent/formation/banque/{code}", HTTP_ADMIN, post_edit, "agent",
     "Enregistrer un scénario", NULL, NULL},
    {"POST", "/agent/formation/banque/{code}/etat", HTTP_ADMIN, post_state,
     "agent", "Activer ou désactiver un scénario", NULL, NULL},
    {"POST", "/agent/formation/banque/{code}/retablir", HTTP_ADMIN,
     post_restore, "agent", "Rétablir un scénario", NULL, NULL},
};

const struct http_routes acad_page_routes = {"academy-pages", routes,
                                             GU_ARRAY_LEN(routes)};
