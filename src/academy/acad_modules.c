/*
 * acad_modules.c - the short AI-literacy modules (EU AI Act art. 4) and
 * their quizzes, and each agent's progress: the record an admin shows
 * when asked how the commune trained its agents.
 *
 * Modules ship with the binary (data/demo/formation/modules/NN-code.json:
 * code, titre, duree, texte: [paragraphs], seuil, questions: [{question,
 * choix: [{texte, juste?, retour}]}]). A module is passed when a quiz
 * result reaches its pass mark (seuil); every submission is recorded.
 */
#include "academy/acad.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODULES_DIR "formation/modules/"

static int
bad_module(const char *path, const char *what, struct gu_err *err)
{
    return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                      "shipped module %s: %s", path, what);
}

static int
load_module(struct gu_arena *a, const struct gu_asset *as,
            struct acad_module *m, struct gu_err *err)
{
    json_error_t je;
    json_t *j = gu_json_arena(
        a, json_loadb((const char *)as->data, as->size, 0, &je));
    json_t *tx, *qs, *q;
    size_t i;

    memset(m, 0, sizeof(*m));
    if (!j)
        return bad_module(as->path, je.text, err);
    m->code = json_string_value(json_object_get(j, "code"));
    m->title = json_string_value(json_object_get(j, "titre"));
    m->duration = json_string_value(json_object_get(j, "duree"));
    m->pass = (int)json_integer_value(json_object_get(j, "seuil"));
    tx = json_object_get(j, "texte");
    qs = json_object_get(j, "questions");
    if (!m->code || !m->title || !json_is_array(tx) || !json_is_array(qs) ||
        json_array_size(qs) == 0 ||
        json_array_size(qs) > ACAD_QUESTIONS_MAX || m->pass < 1 ||
        (size_t)m->pass > json_array_size(qs))
        return bad_module(as->path, "shape", err);
    if (!m->duration)
        m->duration = "";
    m->nparagraphs = json_array_size(tx);
    m->paragraphs = gu_arena_zalloc(a, (m->nparagraphs + 1) * sizeof(char *));
    m->nquestions = json_array_size(qs);
    m->questions = gu_arena_zalloc(a, m->nquestions * sizeof(*m->questions));
    if (!m->paragraphs || !m->questions)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (i = 0; i < m->nparagraphs; i++) {
        m->paragraphs[i] = json_string_value(json_array_get(tx, i));
        if (!m->paragraphs[i])
            return bad_module(as->path, "texte", err);
    }
    json_array_foreach(qs, i, q) {
        struct acad_question *dq = &m->questions[i];
        json_t *ch = json_object_get(q, "choix"), *c;
        size_t k, right = 0;

        dq->text = json_string_value(json_object_get(q, "question"));
        dq->nchoices = json_array_size(ch);
        if (!dq->text || dq->nchoices < 2 || dq->nchoices > 8)
            return bad_module(as->path, "question", err);
        dq->choices = gu_arena_zalloc(a, dq->nchoices * sizeof(*dq->choices));
        if (!dq->choices)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        json_array_foreach(ch, k, c) {
            dq->choices[k].text =
                json_string_value(json_object_get(c, "texte"));
            dq->choices[k].feedback =
                json_string_value(json_object_get(c, "retour"));
            dq->choices[k].right = json_is_true(json_object_get(c, "juste"));
            if (!dq->choices[k].text || !dq->choices[k].feedback)
                return bad_module(as->path, "choix", err);
            right += dq->choices[k].right;
        }
        if (right != 1)
            return bad_module(as->path, "one right choice", err);
    }
    return 0;
}

static int
cmp_path(const void *x, const void *y)
{
    const struct gu_asset *const *a = x, *const *b = y;

    return strcmp((*a)->path, (*b)->path);
}

int
acad_module_list(struct gu_arena *a, struct acad_module **out, size_t *n,
                 struct gu_err *err)
{
    size_t count = 0, k = 0;
    const struct gu_asset *all = gu_demo_all(&count);
    const struct gu_asset **sel = gu_arena_zalloc(a, (count + 1) *
                                                         sizeof(*sel));
    struct acad_module *v;

    *out = NULL;
    *n = 0;
    if (!sel)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < count; i++) {
        size_t pl = strlen(all[i].path);
        if (strncmp(all[i].path, MODULES_DIR, strlen(MODULES_DIR)) == 0 &&
            pl > 5 && strcmp(all[i].path + pl - 5, ".json") == 0)
            sel[k++] = &all[i];
    }
    qsort(sel, k, sizeof(*sel), cmp_path);
    v = gu_arena_zalloc(a, (k + 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < k; i++) {
        int rc = load_module(a, sel[i], &v[i], err);
        if (rc < 0)
            return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

int
acad_module_get(struct gu_arena *a, const char *code, struct acad_module *out,
                struct gu_err *err)
{
    struct acad_module *v = NULL;
    size_t n = 0;
    int rc = acad_module_list(a, &v, &n, err);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].code, code) == 0) {
            *out = v[i];
            return 0;
        }
    }
    return gu_err_set(err, GU_ENOTFOUND, NULL, "Module introuvable.",
                      "no module %s", code);
}

int
acad_quiz_submit(struct store_conn *c, struct gu_arena *a, const char *home,
                 int64_t agent_id, const struct acad_module *m,
                 const int *answers, size_t n, struct acad_quiz_result *out,
                 struct gu_err *err)
{
    struct gu_buf b;
    int *copy;
    int rc;

    if (n != m->nquestions)
        return gu_err_set(err, GU_EINVAL, "reponses",
                          "Le questionnaire compte un autre nombre de "
                          "questions : rechargez la page.",
                          "answers %zu != questions %zu", n, m->nquestions);
    {
        struct store_rows *r = NULL;
        struct store_val p[] = {STORE_T(home), STORE_I(agent_id),
                                STORE_I(gu_now() - 86400)};
        rc = store_query(c, a,
                         "SELECT COUNT(*) FROM acad_quiz WHERE insee = ? AND"
                         " agent_id = ? AND created_at > ?",
                         p, 3, &r, err);
        if (rc < 0)
            return rc;
        if (store_int(r, 0, 0) >= ACAD_DAILY_MAX)
            return gu_err_set(err, GU_ERATE, NULL,
                              "Vous avez répondu à 200 questionnaires en 24 "
                              "heures : c’est le maximum, reprenez demain.",
                              "too many quizzes");
    }
    copy = gu_arena_alloc(a, (n + 1) * sizeof(int));
    if (!copy)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    memset(out, 0, sizeof(*out));
    gu_buf_init(&b);
    gu_buf_puts(&b, "[");
    for (size_t i = 0; i < n; i++) {
        int k = answers[i];
        if (k < -1 || k >= (int)m->questions[i].nchoices) {
            gu_buf_fini(&b);
            return gu_err_set(err, GU_EINVAL, "reponses",
                              "Réponse invalide : choisissez une des "
                              "propositions.",
                              "answer %zu out of range", i);
        }
        copy[i] = k;
        if (k >= 0 && m->questions[i].choices[k].right)
            out->score++;
        gu_buf_printf(&b, "%s%d", i ? "," : "", k);
    }
    gu_buf_puts(&b, "]");
    out->total = (int)n;
    out->passed = out->score >= m->pass;
    out->answers = copy;
    if (b.oom) {
        gu_buf_fini(&b);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    {
        struct store_val p[] = {STORE_T(home),       STORE_I(agent_id),
                                STORE_T(m->code),    STORE_I(out->score),
                                STORE_I(out->total), STORE_I(out->passed),
                                STORE_TN(b.p, b.n),  STORE_I(gu_now())};
        rc = store_exec(c,
                        "INSERT INTO acad_quiz (insee, agent_id, module,"
                        " score, total, passed, answers, created_at) VALUES"
                        " (?, ?, ?, ?, ?, ?, ?, ?)",
                        p, 8, err);
    }
    gu_buf_fini(&b);
    return rc;
}

int
acad_quiz_best(struct store_conn *c, const char *home, int64_t agent_id,
               const char *module, struct acad_quiz_result *out,
               struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(512);
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(home), STORE_I(agent_id),
                            STORE_T(module)};
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    memset(out, 0, sizeof(*out));
    rc = store_query(c, a,
                     "SELECT score, total, passed FROM acad_quiz WHERE insee"
                     " = ? AND agent_id = ? AND module = ? ORDER BY passed"
                     " DESC, score DESC, id LIMIT 1",
                     p, 3, &r, err);
    if (rc == 0 && r->nrows == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL, NULL, "never taken");
    if (rc == 0) {
        out->score = (int)store_int(r, 0, 0);
        out->total = (int)store_int(r, 0, 1);
        out->passed = store_int(r, 0, 2) != 0;
    }
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Progress                                                            */
/* ------------------------------------------------------------------ */

int
acad_progress_list(struct store_conn *c, struct gu_arena *a, const char *home,
                   struct acad_progress **out, size_t *n, struct gu_err *err)
{
    struct store_agent *ag = NULL;
    struct acad_module *mods = NULL;
    struct acad_scenario *sc = NULL;
    struct acad_progress *v;
    size_t nag = 0, nmods = 0, nsc = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if ((rc = store_agent_list(c, a, home, &ag, &nag, err)) < 0 ||
        (rc = acad_module_list(a, &mods, &nmods, err)) < 0 ||
        (rc = acad_scenario_list(c, a, home, false, &sc, &nsc, err)) < 0)
        return rc;
    v = gu_arena_zalloc(a, (nag + 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < nag; i++) {
        struct store_rows *r = NULL;
        struct store_val p[] = {STORE_T(home), STORE_I(ag[i].id)};
        struct acad_progress *g = &v[i];

        g->agent_id = ag[i].id;
        g->login = ag[i].login;
        g->name = ag[i].name && *ag[i].name ? ag[i].name : ag[i].login;
        g->role = store_agent_role(c, ag[i].id, home);
        g->modules_total = (int)nmods;
        g->scenarios_total = (int)nsc;
        /* first time each module was passed */
        rc = store_query(c, a,
                         "SELECT module, MIN(created_at) FROM acad_quiz"
                         " WHERE insee = ? AND agent_id = ? AND passed = 1"
                         " GROUP BY module",
                         p, 2, &r, err);
        if (rc < 0)
            return rc;
        for (size_t k = 0; k < r->nrows; k++) {
            for (size_t m = 0; m < nmods; m++) {
                if (strcmp(mods[m].code, store_text(r, k, 0)) == 0) {
                    g->modules_passed++;
                    if (store_int(r, k, 1) > g->completed_at)
                        g->completed_at = store_int(r, k, 1);
                }
            }
        }
        g->complete = nmods > 0 && g->modules_passed == (int)nmods;
        if (!g->complete)
            g->completed_at = 0;
        rc = store_query(c, a,
                         "SELECT scenario, MAX(passed) FROM acad_attempts"
                         " WHERE insee = ? AND agent_id = ? AND status ="
                         " 'verifie' GROUP BY scenario",
                         p, 2, &r, err);
        if (rc < 0)
            return rc;
        for (size_t k = 0; k < r->nrows; k++) {
            for (size_t m = 0; m < nsc; m++) {
                if (store_int(r, k, 1) &&
                    strcmp(sc[m].code, store_text(r, k, 0)) == 0)
                    g->scenarios_passed++;
            }
        }
        rc = store_query(c, a,
                         "SELECT COUNT(*), COALESCE(MAX(created_at), 0) FROM"
                         " acad_attempts WHERE insee = ? AND agent_id = ?",
                         p, 2, &r, err);
        if (rc < 0)
            return rc;
        g->attempts = (int)store_int(r, 0, 0);
        g->last_at = store_int(r, 0, 1);
        rc = store_query(c, a,
                         "SELECT COALESCE(MAX(created_at), 0) FROM acad_quiz"
                         " WHERE insee = ? AND agent_id = ?",
                         p, 2, &r, err);
        if (rc < 0)
            return rc;
        if (store_int(r, 0, 0) > g->last_at)
            g->last_at = store_int(r, 0, 0);
    }
    *out = v;
    *n = nag;
    return 0;
}

/* A quoted CSV field; a leading = + - @ is neutralised with a ' so that
   a spreadsheet never reads a name as a formula. */
static void
csv_field(struct gu_buf *b, const char *s)
{
    gu_buf_puts(b, "\"");
    if (s && (*s == '=' || *s == '+' || *s == '-' || *s == '@'))
        gu_buf_puts(b, "'");
    for (; s && *s; s++) {
        if (*s == '"')
            gu_buf_puts(b, "\"\"");
        else
            gu_buf_append(b, s, 1);
    }
    gu_buf_puts(b, "\"");
}

static void
csv_date(struct gu_buf *b, enum gu_tz tz, int64_t t)
{
    int64_t day;
    int minute, y, m, d;

    if (t <= 0)
        return;
    gu_tz_from_utc(tz, t, &day, &minute);
    gu_day_to_ymd(day, &y, &m, &d);
    gu_buf_printf(b, "%02d/%02d/%04d", d, m, y);
}

int
acad_progress_csv(struct store_conn *c, struct gu_arena *a, const char *home,
                  struct gu_buf *out, struct gu_err *err)
{
    struct acad_progress *v = NULL;
    struct store_commune com;
    enum gu_tz tz;
    size_t n = 0;
    int rc = store_commune_get(c, a, home, &com, err);

    if (rc == 0)
        rc = acad_progress_list(c, a, home, &v, &n, err);
    if (rc < 0)
        return rc;
    tz = gu_tz_of_zone(com.zone);
    /* a BOM so that spreadsheet software reads UTF-8 */
    gu_buf_puts(out, "\xEF\xBB\xBF");
    gu_buf_puts(out, "Identifiant;Nom;Rôle;Modules validés;Modules;"
                     "Scénarios réussis;Scénarios;Essais;"
                     "Formation IA terminée;Terminée le;Dernière activité"
                     "\r\n");
    for (size_t i = 0; i < n; i++) {
        csv_field(out, v[i].login);
        gu_buf_puts(out, ";");
        csv_field(out, v[i].name);
        gu_buf_printf(out, ";%s;%d;%d;%d;%d;%d;%s;",
                      store_role_name(v[i].role), v[i].modules_passed,
                      v[i].modules_total, v[i].scenarios_passed,
                      v[i].scenarios_total, v[i].attempts,
                      v[i].complete ? "oui" : "non");
        csv_date(out, tz, v[i].completed_at);
        gu_buf_puts(out, ";");
        csv_date(out, tz, v[i].last_at);
        gu_buf_puts(out, "\r\n");
    }
    if (out->oom)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    return 0;
}
