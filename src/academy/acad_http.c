/*
 * acad_http.c - the training workspace's JSON API (/api/v1/formation...),
 * problem+json errors with French messages (web/ maps the codes):
 *
 *   GET    /api/v1/formation                    the caller's overview
 *   GET    /api/v1/formation/bac-a-sable         the commune's sandbox
 *                                                (?attendre=1..5: until ready)
 *   POST   /api/v1/formation/bac-a-sable/entrer  create if needed (seeded
 *                                                in the background: etat
 *                                                "creation" then "pret"),
 *                                                switch the session to it
 *   POST   /api/v1/formation/bac-a-sable/sortir  back to the real commune
 *   POST   /api/v1/formation/bac-a-sable/reinitialiser   wipe and reseed
 *   GET    /api/v1/formation/scenarios           ?tous=1 (admin): disabled
 *   POST   /api/v1/formation/scenarios           (admin) create
 *   GET    /api/v1/formation/scenarios/{code}
 *   PUT    /api/v1/formation/scenarios/{code}    (admin) replace
 *   PATCH  /api/v1/formation/scenarios/{code}    (admin) {actif}
 *   DELETE /api/v1/formation/scenarios/{code}    (admin) back to the
 *                                                shipped default / delete
 *   POST   /api/v1/formation/scenarios/{code}/lancer   201 {essai}
 *   GET    /api/v1/formation/essais              the caller's attempts
 *   GET    /api/v1/formation/essais/{id}
 *   POST   /api/v1/formation/essais/{id}/verifier     {reponse?}
 *   GET    /api/v1/formation/modules
 *   GET    /api/v1/formation/modules/{code}      text and quiz (without
 *                                                the answers)
 *   POST   /api/v1/formation/modules/{code}/quiz {reponses: [index|null]}
 *   GET    /api/v1/formation/progression         (admin) every agent
 *   GET    /api/v1/formation/progression.csv     (admin) the same, CSV
 */
#include "academy/acad_priv.h"

#include <stdio.h>
#include <string.h>

#define BODY_MAX (ACAD_SCENARIO_BYTES + 1000)

/* ------------------------------------------------------------------ */
/* JSON of the domain's structs                                        */
/* ------------------------------------------------------------------ */

/* The sandbox; while it is prepared, "etape" says what is being done. */
static json_t *
sandbox_json(struct http_req *req, const struct acad_who *w)
{
    char step[96] = "";

    if (!w->has_sandbox)
        return json_null();
    if (strcmp(w->sb.state, "pret") != 0)
        acad_sandbox_progress(store_conn_store(req->conn), w->sb.insee, step,
                              sizeof(step));
    return json_pack("{s:s, s:s, s:s, s:b, s:o, s:o}", "insee", w->sb.insee,
                     "etat", w->sb.state, "etape", step, "actif",
                     w->in_sandbox, "cree_le", gu_json_time(w->sb.created_at),
                     "reinitialise_le", gu_json_time(w->sb.reset_at));
}

static json_t *
attempt_json(const struct acad_attempt *t)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:O, s:s, s:i, s:i, s:b,"
                     " s:O, s:s, s:o, s:o}",
                     "id", (json_int_t)t->id, "scenario", t->scenario, "type",
                     t->kind, "titre", t->title, "bac_a_sable", t->sandbox,
                     "situation", t->launch, "statut", t->status, "score",
                     t->score, "total", t->total, "reussi", t->passed,
                     "retours", t->feedback, "reponse", t->answer,
                     "lance_le", gu_json_time(t->created_at), "verifie_le",
                     gu_json_time(t->checked_at));
}

static json_t *
scenario_json(const struct acad_scenario *s, bool full)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b}", "code",
                          s->code, "type", s->kind, "type_libelle",
                          acad_kind_label(s->kind), "titre", s->title, "actif",
                          s->active, "livre", s->shipped, "modifie",
                          s->edited);

    if (o && full) {
        json_object_set_new(o, "contexte", json_string(s->context));
        json_object_set_new(o, "consignes", json_string(s->instructions));
        json_object_set(o, "situation",
                        json_object_get(s->spec, "situation"));
        json_object_set(o, "attendu", json_object_get(s->spec, "attendu"));
    }
    return o;
}

static int
reply(struct http_resp *resp, int status, json_t *o)
{
    if (!o)
        return GU_ENOMEM;
    return http_json(resp, status, o);
}

static int
who(struct http_req *req, struct acad_who *w)
{
    return acad_who_get(req, w);
}

/* ------------------------------------------------------------------ */
/* Overview and sandbox                                                */
/* ------------------------------------------------------------------ */

static int
get_overview(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_module *m = NULL;
    struct acad_scenario *s = NULL;
    size_t nm = 0, ns = 0;
    json_t *o, *mods, *scs;
    int rc;

    if ((rc = who(req, &w)) < 0 ||
        (rc = acad_module_list(req->arena, &m, &nm, &req->err)) < 0 ||
        (rc = acad_scenario_list(req->conn, req->arena, w.home, false, &s, &ns,
                                 &req->err)) < 0)
        return rc;
    mods = json_array();
    scs = json_array();
    o = json_pack("{s:s, s:o, s:o, s:o}", "commune", w.home, "bac_a_sable",
                  sandbox_json(req, &w), "modules", mods, "scenarios", scs);
    if (!o)
        return GU_ENOMEM;
    for (size_t i = 0; i < nm; i++) {
        struct acad_quiz_result best;
        struct gu_err e = {0};
        bool taken = acad_quiz_best(req->conn, w.home, req->who.agent_id,
                                    m[i].code, &best, &e) == 0;
        json_array_append_new(
            mods, json_pack("{s:s, s:s, s:s, s:b, s:o}", "code", m[i].code,
                            "titre", m[i].title, "duree", m[i].duration,
                            "valide", taken && best.passed, "meilleur_score",
                            taken ? json_integer(best.score) : json_null()));
    }
    for (size_t i = 0; i < ns; i++) {
        struct acad_attempt *t = NULL;
        size_t nt = 0;
        bool passed = false;
        json_t *so;

        rc = acad_attempt_list(req->conn, req->arena, w.home,
                               req->who.agent_id, s[i].code, 200, &t, &nt,
                               &req->err);
        if (rc < 0) {
            json_decref(o);
            return rc;
        }
        for (size_t k = 0; k < nt; k++)
            passed |= t[k].passed;
        so = scenario_json(&s[i], false);
        if (so) {
            json_object_set_new(so, "essais", json_integer((json_int_t)nt));
            json_object_set_new(so, "reussi", json_boolean(passed));
        }
        json_array_append_new(scs, so);
    }
    return reply(resp, 200, o);
}

/* ?attendre=N (1..5 s): answer once the sandbox is ready or after N s,
   so that a client (a test) needs no loop to wait for the preparation. */
static int
get_sandbox(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    const char *wait = http_query(req, "attendre");
    long secs = 0;
    int rc = who(req, &w);

    if (rc < 0)
        return rc;
    if (wait && gu_parse_long(wait, 1, 5, &secs) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "attendre",
                          "« attendre » est un nombre de secondes de 1 à 5.",
                          "bad wait");
    if (secs > 0 && w.has_sandbox && strcmp(w.sb.state, "pret") != 0) {
        struct acad_sandbox sb;
        rc = acad_sandbox_wait(req->conn, w.home, (int)secs * 1000, &sb,
                               &req->err);
        if (rc < 0)
            return rc;
        w.sb.state = sb.state;
    }
    return reply(resp, 200,
                 json_pack("{s:s, s:o}", "commune", w.home, "bac_a_sable",
                           sandbox_json(req, &w)));
}

static int
sandbox_action(struct http_req *req, struct http_resp *resp,
               int (*fn)(struct http_req *, struct acad_who *))
{
    struct acad_who w;
    int rc = who(req, &w);

    if (rc == 0)
        rc = fn(req, &w);
    if (rc < 0)
        return rc;
    return reply(resp, 200,
                 json_pack("{s:s, s:s, s:o}", "commune", w.home,
                           "commune_active", req->who.insee, "bac_a_sable",
                           sandbox_json(req, &w)));
}

static int
post_enter(struct http_req *req, struct http_resp *resp)
{
    return sandbox_action(req, resp, acad_enter);
}

static int
post_leave(struct http_req *req, struct http_resp *resp)
{
    return sandbox_action(req, resp, acad_leave);
}

static int
post_reset(struct http_req *req, struct http_resp *resp)
{
    return sandbox_action(req, resp, acad_reset);
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */
/* ------------------------------------------------------------------ */

static int
get_scenarios(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_scenario *s = NULL;
    size_t n = 0;
    const char *all = http_query(req, "tous");
    json_t *arr;
    int rc = who(req, &w);

    if (rc < 0)
        return rc;
    rc = acad_scenario_list(req->conn, req->arena, w.home,
                            all && strcmp(all, "1") == 0 &&
                                w.role >= STORE_ROLE_ADMIN,
                            &s, &n, &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    if (!arr)
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, scenario_json(&s[i], false));
    return reply(resp, 200, json_pack("{s:o}", "scenarios", arr));
}

static int
get_scenario(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_scenario s;
    int rc = who(req, &w);

    if (rc == 0)
        rc = acad_scenario_get(req->conn, req->arena, w.home,
                               http_param(req, "code"), &s, &req->err);
    if (rc < 0)
        return rc;
    if (!s.active && w.role < STORE_ROLE_ADMIN)
        return gu_err_set(&req->err, GU_ENOTFOUND, NULL,
                          "Scénario introuvable.", "disabled");
    return reply(resp, 200, scenario_json(&s, true));
}

/* The scenario object of the body: only the members a scenario has. */
static int
scenario_body(struct http_req *req, json_t **out)
{
    static const char *const keys[] = {"code",      "type",      "titre",
                                       "contexte",  "consignes", "situation",
                                       "attendu"};
    size_t n = 0;
    json_t *body, *o;
    int rc;

    (void)http_body(req, &n);
    if (n > BODY_MAX)
        return gu_err_set(&req->err, GU_ETOOBIG, NULL,
                          "Le scénario est trop long (20 000 octets au "
                          "plus).",
                          "body too big");
    rc = http_body_json(req, &body);
    if (rc < 0)
        return rc;
    o = gu_json_arena(req->arena, json_object());
    if (!o)
        return GU_ENOMEM;
    for (size_t i = 0; i < GU_ARRAY_LEN(keys); i++) {
        json_t *v = json_object_get(body, keys[i]);
        if (v)
            json_object_set(o, keys[i], v);
    }
    *out = o;
    return 0;
}

static int
post_scenario(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_scenario s;
    json_t *o;
    int rc = who(req, &w);

    if (rc == 0)
        rc = scenario_body(req, &o);
    if (rc == 0)
        rc = acad_scenario_save(req->conn, w.home, o, true, http_actor(req),
                                &req->err);
    if (rc == 0)
        rc = acad_scenario_get(req->conn, req->arena, w.home,
                               json_string_value(json_object_get(o, "code")),
                               &s, &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "formation.scenario.creation", s.code, NULL);
    return reply(resp, 201, scenario_json(&s, true));
}

static int
put_scenario(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_scenario s;
    const char *code = http_param(req, "code");
    json_t *o;
    int rc = who(req, &w);

    if (rc == 0)
        rc = scenario_body(req, &o);
    if (rc < 0)
        return rc;
    if (!json_object_get(o, "code"))
        json_object_set_new(o, "code", json_string(code));
    if (!json_is_string(json_object_get(o, "code")) ||
        strcmp(json_string_value(json_object_get(o, "code")), code) != 0)
        return gu_err_set(&req->err, GU_EINVAL, "code",
                          "Le code d’un scénario ne change pas : créez-en "
                          "un autre.",
                          "code changed");
    rc = acad_scenario_save(req->conn, w.home, o, false, http_actor(req),
                            &req->err);
    if (rc == 0)
        rc = acad_scenario_get(req->conn, req->arena, w.home, code, &s,
                               &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "formation.scenario.modification", code, NULL);
    return reply(resp, 200, scenario_json(&s, true));
}

static int
patch_scenario(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_scenario s;
    const char *code = http_param(req, "code");
    json_t *body;
    bool active = true;
    int rc = who(req, &w);

    if (rc == 0)
        rc = http_body_json(req, &body);
    if (rc == 0)
        rc = gu_json_bool(body, "actif", true, &active, &req->err);
    if (rc == 0)
        rc = acad_scenario_set_active(req->conn, req->arena, w.home, code,
                                      active, http_actor(req), &req->err);
    if (rc == 0)
        rc = acad_scenario_get(req->conn, req->arena, w.home, code, &s,
                               &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, active ? "formation.scenario.activation"
                           : "formation.scenario.desactivation",
               code, NULL);
    return reply(resp, 200, scenario_json(&s, true));
}

static int
delete_scenario(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    const char *code = http_param(req, "code");
    int rc = who(req, &w);

    if (rc == 0)
        rc = acad_scenario_restore(req->conn, w.home, code, &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "formation.scenario.retablissement", code, NULL);
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* Attempts                                                            */
/* ------------------------------------------------------------------ */

static int
post_launch(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_attempt t;
    int64_t id = 0;
    int rc = who(req, &w);

    if (rc == 0)
        rc = acad_launch_req(req, &w, http_param(req, "code"), &id);
    if (rc == 0)
        rc = acad_attempt_get(req->conn, req->arena, w.home, req->who.agent_id,
                              id, &t, &req->err);
    if (rc < 0)
        return rc;
    return reply(resp, 201, json_pack("{s:o, s:s}", "essai", attempt_json(&t),
                                      "commune_active", req->who.insee));
}

static int
get_attempts(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_attempt *t = NULL;
    size_t n = 0;
    json_t *arr;
    int rc = who(req, &w);

    if (rc == 0)
        rc = acad_attempt_list(req->conn, req->arena, w.home,
                               req->who.agent_id, http_query(req, "scenario"),
                               100, &t, &n, &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    if (!arr)
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, attempt_json(&t[i]));
    return reply(resp, 200, json_pack("{s:o}", "essais", arr));
}

static int
get_attempt(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_attempt t;
    int64_t id;
    int rc = who(req, &w);

    if (rc == 0)
        rc = http_param_id(req, "id", &id);
    if (rc == 0)
        rc = acad_attempt_get(req->conn, req->arena, w.home, req->who.agent_id,
                              id, &t, &req->err);
    if (rc < 0)
        return rc;
    return reply(resp, 200, attempt_json(&t));
}

static int
post_verify(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_attempt t;
    const char *answer = NULL;
    size_t n = 0;
    json_t *body = NULL;
    int64_t id;
    int rc = who(req, &w);

    if (rc == 0)
        rc = http_param_id(req, "id", &id);
    if (rc == 0 && http_body(req, &n) && n > 0) {
        rc = http_body_json(req, &body);
        if (rc == 0)
            rc = gu_json_str(body, "reponse", false, ACAD_ANSWER_MAX, &answer,
                             &req->err);
    }
    if (rc == 0)
        rc = acad_verify(req->conn, req->arena, w.home, req->who.agent_id, id,
                         answer, &t, &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "formation.verification", t.scenario, "essai=%lld %d/%d",
               (long long)id, t.score, t.total);
    return reply(resp, 200, attempt_json(&t));
}

/* ------------------------------------------------------------------ */
/* Modules                                                             */
/* ------------------------------------------------------------------ */

static int
get_modules(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_module *m = NULL;
    size_t n = 0;
    json_t *arr;
    int rc = who(req, &w);

    if (rc == 0)
        rc = acad_module_list(req->arena, &m, &n, &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    if (!arr)
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct acad_quiz_result best;
        struct gu_err e = {0};
        bool taken = acad_quiz_best(req->conn, w.home, req->who.agent_id,
                                    m[i].code, &best, &e) == 0;
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:i, s:i, s:b}", "code", m[i].code,
                           "titre", m[i].title, "duree", m[i].duration,
                           "questions", (int)m[i].nquestions, "seuil",
                           m[i].pass, "valide", taken && best.passed));
    }
    return reply(resp, 200, json_pack("{s:o}", "modules", arr));
}

static int
get_module(struct http_req *req, struct http_resp *resp)
{
    struct acad_module m;
    json_t *texte, *qs, *o;
    int rc = acad_module_get(req->arena, http_param(req, "code"), &m,
                             &req->err);

    if (rc < 0)
        return rc;
    texte = json_array();
    qs = json_array();
    o = json_pack("{s:s, s:s, s:s, s:i, s:o, s:o}", "code", m.code, "titre",
                  m.title, "duree", m.duration, "seuil", m.pass, "texte",
                  texte, "questions", qs);
    if (!o)
        return GU_ENOMEM;
    for (size_t i = 0; i < m.nparagraphs; i++)
        json_array_append_new(texte, json_string(m.paragraphs[i]));
    for (size_t i = 0; i < m.nquestions; i++) {
        json_t *ch = json_array();
        for (size_t k = 0; k < m.questions[i].nchoices; k++)
            json_array_append_new(ch,
                                  json_string(m.questions[i].choices[k].text));
        json_array_append_new(qs, json_pack("{s:s, s:o}", "question",
                                            m.questions[i].text, "choix", ch));
    }
    return reply(resp, 200, o);
}

static int
post_quiz(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_module m;
    struct acad_quiz_result res;
    json_t *body, *ans, *v, *details, *o;
    int answers[ACAD_QUESTIONS_MAX];
    size_t i;
    int rc = who(req, &w);

    if (rc == 0)
        rc = acad_module_get(req->arena, http_param(req, "code"), &m,
                             &req->err);
    if (rc == 0)
        rc = http_body_json(req, &body);
    if (rc < 0)
        return rc;
    ans = json_object_get(body, "reponses");
    if (!json_is_array(ans) || json_array_size(ans) != m.nquestions)
        return gu_err_set(&req->err, GU_EINVAL, "reponses",
                          "« reponses » est une liste d’une réponse par "
                          "question (l’indice du choix, ou null).",
                          "bad answers");
    json_array_foreach(ans, i, v) {
        if (json_is_null(v))
            answers[i] = -1;
        else if (json_is_integer(v) && json_integer_value(v) >= 0 &&
                 json_integer_value(v) < 100)
            answers[i] = (int)json_integer_value(v);
        else
            return gu_err_set(&req->err, GU_EINVAL, "reponses",
                              "Chaque réponse est l’indice du choix (0, 1…) "
                              "ou null.",
                              "bad answer");
    }
    rc = acad_quiz_submit(req->conn, req->arena, w.home, req->who.agent_id, &m,
                          answers, m.nquestions, &res, &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "formation.quiz", m.code, "%d/%d", res.score, res.total);
    details = json_array();
    o = json_pack("{s:s, s:i, s:i, s:i, s:b, s:o}", "module", m.code, "score",
                  res.score, "total", res.total, "seuil", m.pass, "valide",
                  res.passed, "corrections", details);
    if (!o)
        return GU_ENOMEM;
    for (i = 0; i < m.nquestions; i++) {
        const struct acad_question *q = &m.questions[i];
        int k = res.answers[i], right = 0;
        for (size_t c = 0; c < q->nchoices; c++) {
            if (q->choices[c].right)
                right = (int)c;
        }
        json_array_append_new(
            details,
            json_pack("{s:s, s:b, s:o, s:i, s:s}", "question", q->text, "juste",
                      k == right, "choix",
                      k >= 0 ? json_integer(k) : json_null(), "bonne_reponse",
                      right, "retour",
                      k >= 0 ? q->choices[k].feedback
                             : q->choices[right].feedback));
    }
    return reply(resp, 200, o);
}

/* ------------------------------------------------------------------ */
/* Progress (admins)                                                   */
/* ------------------------------------------------------------------ */

static int
get_progress(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct acad_progress *v = NULL;
    size_t n = 0;
    json_t *arr;
    int rc = who(req, &w);

    if (rc == 0)
        rc = acad_progress_list(req->conn, req->arena, w.home, &v, &n,
                                &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    if (!arr)
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr,
            json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:b, s:o,"
                      " s:o}",
                      "login", v[i].login, "nom", v[i].name, "role",
                      store_role_name(v[i].role), "modules_valides",
                      v[i].modules_passed, "modules", v[i].modules_total,
                      "scenarios_reussis", v[i].scenarios_passed, "scenarios",
                      v[i].scenarios_total, "essais", v[i].attempts,
                      "termine", v[i].complete, "termine_le",
                      gu_json_time(v[i].completed_at), "derniere_activite",
                      gu_json_time(v[i].last_at)));
    return reply(resp, 200,
                 json_pack("{s:s, s:o}", "commune", w.home, "agents", arr));
}

int
acad_progress_csv_reply(struct http_req *req, struct http_resp *resp)
{
    struct acad_who w;
    struct gu_buf b;
    char disp[96];
    int rc = who(req, &w);

    if (rc < 0)
        return rc;
    gu_buf_init(&b);
    rc = acad_progress_csv(req->conn, req->arena, w.home, &b, &req->err);
    snprintf(disp, sizeof(disp),
             "attachment; filename=\"formation-ia-%s.csv\"", w.home);
    if (rc == 0)
        rc = http_add_header(resp, "Content-Disposition", disp);
    if (rc == 0)
        rc = http_send(resp, 200, "text/csv; charset=utf-8", b.p ? b.p : "",
                       b.n);
    gu_buf_fini(&b);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Routes                                                              */
/* ------------------------------------------------------------------ */

#define SCENARIO_SCHEMA                                                        \
    "{\"type\":\"object\",\"required\":[\"code\",\"type\",\"titre\","          \
    "\"contexte\",\"consignes\",\"situation\",\"attendu\"],\"properties\":{"   \
    "\"code\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9-]{1,64}$\"},"        \
    "\"type\":{\"enum\":[\"demande\",\"question\",\"rdv\",\"prevision\","      \
    "\"alerte\"]},\"titre\":{\"type\":\"string\",\"maxLength\":200},"          \
    "\"contexte\":{\"type\":\"string\"},\"consignes\":{\"type\":\"string\"},"  \
    "\"situation\":{\"type\":\"object\"},\"attendu\":{\"type\":\"object\"}}}"

static const struct http_route routes[] = {
    {"GET", "/api/v1/formation", HTTP_LECTEUR, get_overview, "formation",
     "Formation : bac à sable, modules et scénarios de l’agent", NULL, NULL},
    {"GET", "/api/v1/formation/bac-a-sable", HTTP_LECTEUR, get_sandbox,
     "formation", "Le bac à sable de formation de la commune", NULL, NULL},
    {"POST", "/api/v1/formation/bac-a-sable/entrer", HTTP_LECTEUR, post_enter,
     "formation",
     "Entrer dans le bac à sable (créé et rempli au premier usage)", NULL,
     NULL},
    {"POST", "/api/v1/formation/bac-a-sable/sortir", HTTP_LECTEUR, post_leave,
     "formation", "Revenir à la commune réelle", NULL, NULL},
    {"POST", "/api/v1/formation/bac-a-sable/reinitialiser", HTTP_AGENT,
     post_reset, "formation", "Vider et remplir à nouveau le bac à sable",
     NULL, NULL},
    {"GET", "/api/v1/formation/scenarios", HTTP_LECTEUR, get_scenarios,
     "formation", "Scénarios d’entraînement de la commune", NULL, NULL},
    {"POST", "/api/v1/formation/scenarios", HTTP_ADMIN, post_scenario,
     "formation", "Créer un scénario", SCENARIO_SCHEMA, NULL},
    {"GET", "/api/v1/formation/scenarios/{code}", HTTP_LECTEUR, get_scenario,
     "formation", "Un scénario", NULL, NULL},
    {"PUT", "/api/v1/formation/scenarios/{code}", HTTP_ADMIN, put_scenario,
     "formation", "Modifier un scénario", SCENARIO_SCHEMA, NULL},
    {"PATCH", "/api/v1/formation/scenarios/{code}", HTTP_ADMIN, patch_scenario,
     "formation", "Activer ou désactiver un scénario",
     "{\"type\":\"object\",\"required\":[\"actif\"],\"properties\":{"
     "\"actif\":{\"type\":\"boolean\"}}}",
     NULL},
    {"DELETE", "/api/v1/formation/scenarios/{code}", HTTP_ADMIN,
     delete_scenario, "formation",
     "Rétablir le scénario livré (ou supprimer un scénario propre)", NULL,
     NULL},
    {"POST", "/api/v1/formation/scenarios/{code}/lancer", HTTP_AGENT,
     post_launch, "formation", "Lancer un scénario dans le bac à sable", NULL,
     NULL},
    {"GET", "/api/v1/formation/essais", HTTP_LECTEUR, get_attempts,
     "formation", "Mes essais", NULL, NULL},
    {"GET", "/api/v1/formation/essais/{id}", HTTP_LECTEUR, get_attempt,
     "formation", "Un de mes essais", NULL, NULL},
    {"POST", "/api/v1/formation/essais/{id}/verifier", HTTP_LECTEUR,
     post_verify, "formation", "Vérifier un essai et obtenir les retours",
     "{\"type\":\"object\",\"properties\":{\"reponse\":{\"type\":"
     "\"string\",\"maxLength\":200}}}",
     NULL},
    {"GET", "/api/v1/formation/modules", HTTP_LECTEUR, get_modules,
     "formation", "Modules de formation à l’IA", NULL, NULL},
    {"GET", "/api/v1/formation/modules/{code}", HTTP_LECTEUR, get_module,
     "formation", "Un module : texte et questionnaire", NULL, NULL},
    {"POST", "/api/v1/formation/modules/{code}/quiz", HTTP_LECTEUR, post_quiz,
     "formation", "Répondre au questionnaire d’un module",
     "{\"type\":\"object\",\"required\":[\"reponses\"],\"properties\":{"
     "\"reponses\":{\"type\":\"array\",\"items\":{\"type\":[\"integer\","
     "\"null\"]}}}}",
     NULL},
    {"GET", "/api/v1/formation/progression", HTTP_ADMIN, get_progress,
     "formation", "Progression de chaque agent (culture de l’IA)", NULL, NULL},
    {"GET", "/api/v1/formation/progression.csv", HTTP_ADMIN,
     acad_progress_csv_reply,
     "formation", "Progression de chaque agent, en CSV", NULL, NULL},
};

const struct http_routes acad_routes = {"academy", routes,
                                        GU_ARRAY_LEN(routes)};
