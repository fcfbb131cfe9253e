/*
 * test_acad.c - the training workspace (src/academy) over a real
 * in-memory SQLite with every module's schema: the sandbox range, the
 * shipped scenario bank and modules, scenario validation and a commune's
 * overrides, the sandbox's life (created and seeded once, one per
 * commune, the real commune untouched, a reset that cascades through
 * every domain table), a routing scenario launched and verified, a
 * question scenario's key points, quizzes and the progress record.
 *
 * Seeding a sandbox runs the demo seeders (a few seconds under ASan):
 * the sandbox is made once and shared by the tests that need it.
 */
#include "harness.h"

#include "academy/acad.h"
#include "app/app.h"
#include "assistant/asst.h"
#include "monitor/mon_service.h"
#include "rdv/rdv.h"
#include "triage/tri.h"

#include <stdlib.h>
#include <string.h>
#include "store_url.h"

struct fix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg;
    int64_t agent, admin;
    bool ok;
};

static struct fix F;

static int
commune(const char *insee, const char *name)
{
    struct store_commune m;
    struct gu_err err;

    memset(&m, 0, sizeof(m));
    memcpy(m.insee, insee, 6);
    m.name = name;
    m.zone = "B";
    m.hours = "Lundi : 9 h – 12 h";
    m.address = "1 place de la Mairie";
    m.phone = "01 99 00 00 01";
    m.email = "mairie@exemple.invalid";
    return store_commune_create(F.c, &m, &err);
}

static struct fix *
fix(void)
{
    struct gu_err err = {0};

    if (F.s)
        return F.ok ? &F : NULL;
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &F.s, &err) < 0 ||
        app_migrate(F.s, NULL, &err) < 0 ||
        store_acquire(F.s, &F.c, &err) < 0 ||
        gu_config_defaults(&F.cfg, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return NULL;
    }
    F.a = gu_arena_new(0);
    if (!F.a || commune("99001", "Saint-Exemple-sur-Loire") < 0 ||
        commune("44109", "Nantes") < 0)
        return NULL;
    if (store_agent_create(F.c, "agent", "Agent Exemple", "", "une phrase de "
                           "passe assez longue", false, "99001",
                           STORE_ROLE_AGENT, &F.agent, &err) < 0 ||
        store_agent_create(F.c, "admin", "Admin Exemple", "", "une phrase de "
                           "passe assez longue", false, "99001",
                           STORE_ROLE_ADMIN, &F.admin, &err) < 0) {
        fprintf(stderr, "fixture agents: %s\n", err.msg);
        return NULL;
    }
    F.ok = true;
    return &F;
}

static int64_t
count(const char *sql, const char *arg)
{
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(arg)};
    struct gu_err err;

    if (store_query(F.c, F.a, sql, p, arg ? 1 : 0, &r, &err) < 0) {
        fprintf(stderr, "count: %s\n", err.msg);
        return -1;
    }
    return store_int(r, 0, 0);
}

/* The sandbox of 99001, made once. */
static const char *
sandbox(void)
{
    static struct acad_sandbox sb;
    struct gu_err err = {0};

    if (sb.insee[0])
        return sb.insee;
    if (!fix() || acad_sandbox_ensure(F.s, F.c, F.cfg, F.a, "99001", F.agent,
                                      STORE_ROLE_AGENT, true, &sb, &err) < 0) {
        fprintf(stderr, "sandbox: %s %s\n", err.msg, err.user);
        return NULL;
    }
    return sb.insee;
}

/* ------------------------------------------------------------------ */

static void
test_range(void)
{
    CHECK(acad_insee_is_sandbox("99900"));
    CHECK(acad_insee_is_sandbox("99999"));
    CHECK(!acad_insee_is_sandbox("99001"));
    CHECK(!acad_insee_is_sandbox("99899"));
    CHECK(!acad_insee_is_sandbox("2A004"));
    CHECK(!acad_insee_is_sandbox("9990"));
    CHECK(!acad_insee_is_sandbox("999000"));
    CHECK(!acad_insee_is_sandbox(NULL));
}

static void
test_shipped_bank(void)
{
    struct acad_scenario *v = NULL;
    struct acad_module *m = NULL;
    size_t n = 0, nm = 0;
    struct gu_err err = {0};
    const char *kinds[] = {"demande", "question", "rdv", "prevision",
                           "alerte"};

    if (!fix())
        return;
    CHECK_EQ(acad_scenario_list(F.c, F.a, "99001", false, &v, &n, &err), 0);
    CHECK(n >= 10);
    for (size_t k = 0; k < GU_ARRAY_LEN(kinds); k++) {
        bool seen = false;
        for (size_t i = 0; i < n; i++)
            seen |= strcmp(v[i].kind, kinds[k]) == 0;
        CHECK(seen);
    }
    for (size_t i = 0; i < n; i++) {
        CHECK(v[i].shipped && v[i].active && !v[i].edited);
        CHECK_EQ(acad_scenario_check(v[i].spec, &err), 0);
        if (i > 0)
            CHECK(strcmp(v[i - 1].code, v[i].code) < 0);
    }
    CHECK_EQ(acad_module_list(F.a, &m, &nm, &err), 0);
    CHECK(nm >= 4);
    for (size_t i = 0; i < nm; i++) {
        CHECK(m[i].nquestions >= 3);
        CHECK(m[i].pass >= 1 && (size_t)m[i].pass <= m[i].nquestions);
        CHECK(m[i].nparagraphs >= 2);
    }
    CHECK_STR(m[0].code, "ce-que-fait-l-ia");
}

static json_t *
scenario(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);

    if (!j)
        fprintf(stderr, "json: %s\n", je.text);
    return gu_json_arena(F.a, j);
}

static void
test_check(void)
{
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"code\":\"A b\",\"type\":\"demande\"}", "code"},
        {"{\"code\":\"x\",\"type\":\"autre\"}", "type"},
        {"{\"code\":\"x\",\"type\":\"demande\",\"titre\":\"\"}", "titre"},
        {"{\"code\":\"x\",\"type\":\"demande\",\"titre\":\"T\",\"contexte\":"
         "\"C\",\"consignes\":\"K\",\"situation\":[],\"attendu\":{}}",
         "situation"},
        {"{\"code\":\"x\",\"type\":\"demande\",\"titre\":\"T\",\"contexte\":"
         "\"C\",\"consignes\":\"K\",\"situation\":{\"texte\":\"t\"},"
         "\"attendu\":{\"service\":\"voirie\",\"urgence\":3}}",
         "attendu.urgence"},
        {"{\"code\":\"x\",\"type\":\"question\",\"titre\":\"T\",\"contexte\":"
         "\"C\",\"consignes\":\"K\",\"situation\":{\"question\":\"q\"},"
         "\"attendu\":{\"points\":[]}}",
         "attendu.points"},
        {"{\"code\":\"x\",\"type\":\"rdv\",\"titre\":\"T\",\"contexte\":"
         "\"C\",\"consignes\":\"K\",\"situation\":{\"cas\":\"absence\","
         "\"motif\":\"cni\",\"jour\":2,\"heure\":\"10:00\",\"nom\":\"N\"},"
         "\"attendu\":{\"statut\":\"absent\"}}",
         "situation.jour"},
        {"{\"code\":\"x\",\"type\":\"rdv\",\"titre\":\"T\",\"contexte\":"
         "\"C\",\"consignes\":\"K\",\"situation\":{\"cas\":\"absence\","
         "\"motif\":\"cni\",\"jour\":-1,\"heure\":\"10h\",\"nom\":\"N\"},"
         "\"attendu\":{\"statut\":\"absent\"}}",
         "situation.heure"},
        {"{\"code\":\"x\",\"type\":\"prevision\",\"titre\":\"T\","
         "\"contexte\":\"C\",\"consignes\":\"K\",\"situation\":{\"serie\":"
         "\"s\",\"question\":\"Q\",\"reponse\":\"autre\"},\"attendu\":{}}",
         "situation.reponse"},
        {"{\"code\":\"x\",\"type\":\"alerte\",\"titre\":\"T\",\"contexte\":"
         "\"C\",\"consignes\":\"K\",\"situation\":{},\"attendu\":{}}",
         "situation.capteur"},
        {"{\"code\":\"x\",\"type\":\"alerte\",\"titre\":\"T\",\"contexte\":"
         "\"C\",\"consignes\":\"K\",\"situation\":{\"capteur\":\"c\","
         "\"detecteur\":\"fuite\"},\"attendu\":{}}",
         "situation.detecteur"},
    };

    if (!fix())
        return;
    for (size_t i = 0; i < GU_ARRAY_LEN(bad); i++) {
        struct gu_err err = {0};
        json_t *j = scenario(bad[i].json);
        int rc = acad_scenario_check(j, &err);
        CHECK(rc == GU_EINVAL || rc == GU_ETOOBIG);
        CHECK_STR(err.field, bad[i].field);
        CHECK(err.user[0] != '\0');
    }
}

static void
test_overrides(void)
{
    struct acad_scenario s, *v = NULL;
    struct gu_err err = {0};
    size_t n0 = 0, n = 0;
    json_t *own;

    if (!fix())
        return;
    CHECK_EQ(acad_scenario_list(F.c, F.a, "44109", false, &v, &n0, &err), 0);
    own = scenario("{\"code\":\"eclairage\",\"type\":\"demande\",\"titre\":"
                   "\"Lampadaire\",\"contexte\":\"C\",\"consignes\":\"K\","
                   "\"situation\":{\"texte\":\"Le lampadaire est éteint.\"},"
                   "\"attendu\":{\"service\":\"voirie\",\"urgence\":0}}");
    CHECK_EQ(acad_scenario_save(F.c, "44109", own, true, "admin", &err), 0);
    CHECK_EQ(acad_scenario_save(F.c, "44109", own, true, "admin", &err),
             GU_ECONFLICT);
    CHECK_EQ(acad_scenario_list(F.c, F.a, "44109", false, &v, &n, &err), 0);
    CHECK_EQ(n, n0 + 1);
    /* another commune does not see it */
    CHECK_EQ(acad_scenario_get(F.c, F.a, "99001", "eclairage", &s, &err),
             GU_ENOTFOUND);
    /* a shipped one disabled, then back */
    CHECK_EQ(acad_scenario_set_active(F.c, F.a, "44109", "rdv-absence", false,
                                      "admin", &err),
             0);
    CHECK_EQ(acad_scenario_list(F.c, F.a, "44109", false, &v, &n, &err), 0);
    CHECK_EQ(n, n0);
    CHECK_EQ(acad_scenario_get(F.c, F.a, "44109", "rdv-absence", &s, &err), 0);
    CHECK(!s.active && s.shipped && s.edited);
    CHECK_EQ(acad_scenario_restore(F.c, "44109", "rdv-absence", &err), 0);
    CHECK_EQ(acad_scenario_get(F.c, F.a, "44109", "rdv-absence", &s, &err), 0);
    CHECK(s.active && !s.edited);
    CHECK_EQ(acad_scenario_restore(F.c, "44109", "rdv-absence", &err),
             GU_ENOTFOUND);
    /* updating an unknown code is not a creation */
    own = scenario("{\"code\":\"inconnu\",\"type\":\"alerte\",\"titre\":"
                   "\"T\",\"contexte\":\"C\",\"consignes\":\"K\","
                   "\"situation\":{\"capteur\":\"x\"},\"attendu\":{}}");
    CHECK_EQ(acad_scenario_save(F.c, "44109", own, false, "admin", &err),
             GU_ENOTFOUND);
}

static void
test_sandbox(void)
{
    const char *sb = sandbox();
    struct acad_sandbox again, other;
    struct store_commune m;
    struct gu_err err = {0};
    char parent[6], home[6];

    if (!sb)
        return;
    CHECK_STR(sb, "99900");
    CHECK_EQ(store_commune_get(F.c, F.a, sb, &m, &err), 0);
    CHECK_STR(m.name, "Saint-Exemple-sur-Loire — bac à sable de formation");
    /* public settings only: hours copied, no address, phone or e-mail */
    CHECK_STR(m.hours, "Lundi : 9 h – 12 h");
    CHECK_STR(m.email, "");
    CHECK_STR(m.phone, "");
    CHECK_EQ(store_agent_role(F.c, F.agent, sb), STORE_ROLE_AGENT);
    CHECK_EQ(acad_sandbox_parent(F.c, sb, parent, &err), 0);
    CHECK_STR(parent, "99001");
    CHECK_EQ(acad_home(F.c, sb, home, &err), 0);
    CHECK_STR(home, "99001");
    CHECK_EQ(acad_home(F.c, "99001", home, &err), 0);
    CHECK_STR(home, "99001");
    /* seeded: demo requests, fiches, assets in the sandbox only */
    CHECK(count("SELECT COUNT(*) FROM tri_requests WHERE insee = ?", sb) > 0);
    CHECK(count("SELECT COUNT(*) FROM mon_alerts WHERE insee = ?", sb) > 0);
    CHECK(count("SELECT COUNT(*) FROM fc_series WHERE insee = ?", sb) > 0);
    CHECK(count("SELECT COUNT(*) FROM rdv_motifs WHERE insee = ?", sb) > 0);
    CHECK_EQ(count("SELECT COUNT(*) FROM tri_requests WHERE insee = ?",
                   "99001"),
             0);
    /* once per commune: the same one again, no reseeding */
    CHECK_EQ(acad_sandbox_ensure(F.s, F.c, F.cfg, F.a, "99001", F.admin,
                                 STORE_ROLE_ADMIN, true, &again, &err),
             0);
    CHECK_STR(again.insee, sb);
    CHECK_EQ(store_agent_role(F.c, F.admin, sb), STORE_ROLE_ADMIN);
    /* a sandbox has no sandbox */
    CHECK_EQ(acad_sandbox_ensure(F.s, F.c, F.cfg, F.a, sb, 0, STORE_ROLE_NONE,
                                 true, &other, &err),
             GU_EINVAL);
    CHECK_EQ(acad_sandbox_get(F.c, F.a, "44109", &other, &err), GU_ENOTFOUND);
}

/* A commune deleted: every row of every table with an insee column goes,
   and no foreign key is left dangling. */
static void
test_cascade(void)
{
    struct store_rows *fk = NULL;
    struct acad_sandbox sb;
    struct gu_err err = {0};
    size_t tables = 0;

    if (!fix() || !sandbox())
        return;
    /* a second sandbox, for 44109, seeded then deleted whole */
    CHECK_EQ(acad_sandbox_ensure(F.s, F.c, F.cfg, F.a, "44109", F.admin,
                                 STORE_ROLE_ADMIN, true, &sb, &err),
             0);
    CHECK_STR(sb.insee, "99901");
    {
        struct store_val p[] = {STORE_T(sb.insee)};
        CHECK_EQ(store_exec(F.c, "DELETE FROM communes WHERE insee = ?", p, 1,
                            &err),
                 0);
    }
    const char **tabs = NULL, **cols = NULL;
    size_t ntabs = 0, ncols = 0;
    CHECK_EQ(store_tables(F.c, F.a, &tabs, &ntabs, &err), 0);
    for (size_t i = 0; i < ntabs; i++) {
        const char *name = tabs[i];
        bool has_insee = false;
        char sql[256];
        CHECK_EQ(store_columns(F.c, F.a, name, &cols, &ncols, &err), 0);
        for (size_t k = 0; k < ncols; k++)
            has_insee |= strcmp(cols[k], "insee") == 0;
        /* kb_generation is a change counter keyed by commune, without a
           foreign key: surviving a reset keeps it increasing, which is
           what tells the assistant's cached index to rebuild. The audit
           log outlives communes by design. */
        if (!has_insee || strcmp(name, "kb_generation") == 0 ||
            strcmp(name, "audit") == 0)
            continue;
        tables++;
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE insee = ?",
                 name);
        if (count(sql, sb.insee) != 0)
            TH_FAIL("table %s keeps rows of a deleted commune", name);
    }
    CHECK(tables > 20);
    /* PostgreSQL checks every foreign key as it goes; SQLite on request. */
    if (strcmp(store_backend(F.s), "sqlite") == 0) {
        CHECK_EQ(store_query(F.c, F.a, "PRAGMA foreign_key_check", NULL, 0,
                             &fk, &err),
                 0);
        CHECK(fk && fk->nrows == 0);
    }
    CHECK_EQ(count("SELECT COUNT(*) FROM acad_sandboxes WHERE parent = ?",
                   "44109"),
             0);
}

static void
test_routing_scenario(void)
{
    const char *sb = sandbox();
    struct acad_attempt at;
    struct tri_request r;
    struct tri_service *sv = NULL;
    struct tri_change ch = {-1, -1, -1, -1, -1};
    struct gu_err err = {0};
    int64_t id = 0, voirie = 0;
    size_t n = 0;

    if (!sb)
        return;
    CHECK_EQ(acad_launch(F.s, F.c, F.cfg, F.a, "99001", sb, F.agent, "agent",
                         "demande-nid-de-poule", &id, &err),
             0);
    CHECK(id > 0);
    CHECK_EQ(acad_attempt_get(F.c, F.a, "99001", F.agent, id, &at, &err), 0);
    CHECK_STR(at.status, "lance");
    CHECK(json_string_value(json_object_get(at.launch, "numero")) != NULL);
    /* only the agent's own attempts */
    CHECK_EQ(acad_attempt_get(F.c, F.a, "99001", F.admin, id, &at, &err),
             GU_ENOTFOUND);
    CHECK_EQ(acad_attempt_get(F.c, F.a, "99001", F.agent, id, &at, &err), 0);
    CHECK_EQ(tri_get(F.c, F.a, sb, at.target_id, &r, &err), 0);
    CHECK_EQ(tri_get(F.c, F.a, "99001", at.target_id, &r, &err), GU_ENOTFOUND);
    /* set the wrong urgency on purpose */
    ch.urgency = 0;
    CHECK_EQ(tri_update(F.c, F.cfg, sb, at.target_id, &ch, "agent", &err), 0);
    CHECK_EQ(acad_verify(F.c, F.a, "99001", F.agent, id, NULL, &at, &err), 0);
    CHECK(!at.passed);
    CHECK_EQ(at.total, 2);
    CHECK(!json_is_true(json_object_get(json_array_get(at.feedback, 1),
                                        "ok")));
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(at.feedback, 1), "conseil")),
              "Relisez la demande : un danger immédiat est « Urgente », une "
              "date proche « Prioritaire ».");
    /* route it as expected */
    CHECK_EQ(tri_service_list(F.c, F.a, sb, true, &sv, &n, &err), 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sv[i].code, "voirie") == 0)
            voirie = sv[i].id;
    }
    CHECK(voirie > 0);
    ch.service_id = voirie;
    ch.urgency = 2;
    CHECK_EQ(tri_update(F.c, F.cfg, sb, at.target_id, &ch, "agent", &err), 0);
    CHECK_EQ(acad_verify(F.c, F.a, "99001", F.agent, id, NULL, &at, &err), 0);
    CHECK(at.passed);
    CHECK_EQ(at.score, 2);
    CHECK_STR(at.status, "verifie");
    /* the AI's proposal is there, not counted */
    CHECK(!json_is_true(json_object_get(json_array_get(at.feedback, 2),
                                        "compte")));
    CHECK_EQ(count("SELECT COUNT(*) FROM tri_requests WHERE insee = ?",
                   "99001"),
             0);
}

static void
test_question_scenario(void)
{
    const char *sb = sandbox();
    struct acad_attempt at;
    struct gu_err err = {0};
    int64_t id = 0;

    if (!sb)
        return;
    CHECK_EQ(acad_launch(F.s, F.c, F.cfg, F.a, "99001", sb, F.agent, "agent",
                         "question-acte-naissance", &id, &err),
             0);
    CHECK_EQ(acad_attempt_get(F.c, F.a, "99001", F.agent, id, &at, &err), 0);
    CHECK(at.target_id > 0);
    /* two of the three key points, accents and case aside */
    CHECK_EQ(asst_handoff_answer(F.c, F.a, sb, at.target_id,
                                 "Bonjour, l'acte est délivré par la mairie "
                                 "du LIEU DE NAISSANCE (Ville-Exemple). La "
                                 "demande est GRATUITE.",
                                 "agent", NULL, "", &err),
             0);
    CHECK_EQ(acad_verify(F.c, F.a, "99001", F.agent, id, NULL, &at, &err), 0);
    CHECK_EQ(at.total, 4);
    CHECK_EQ(at.score, 3);
    CHECK(!at.passed);
    CHECK(!json_is_true(json_object_get(json_array_get(at.feedback, 3),
                                        "ok")));
}

static void
test_forecast_scenario(void)
{
    const char *sb = sandbox();
    struct acad_attempt at;
    struct gu_err err = {0};
    int64_t id = 0;
    json_t *days;
    char answer[32];

    if (!sb)
        return;
    CHECK_EQ(acad_launch(F.s, F.c, F.cfg, F.a, "99001", sb, F.agent, "agent",
                         "prevision-jour-fort", &id, &err),
             0);
    CHECK_EQ(acad_attempt_get(F.c, F.a, "99001", F.agent, id, &at, &err), 0);
    days = json_object_get(at.launch, "jours");
    CHECK(json_array_size(days) >= 2);
    /* try each offered day: exactly one is right */
    {
        int right = 0;
        for (size_t i = 0; i < json_array_size(days); i++) {
            snprintf(answer, sizeof(answer), "%lld",
                     (long long)json_integer_value(
                         json_object_get(json_array_get(days, i), "jour")));
            CHECK_EQ(acad_verify(F.c, F.a, "99001", F.agent, id, answer, &at,
                                 &err),
                     0);
            right += at.passed;
        }
        CHECK_EQ(right, 1);
    }
}

static void
test_quiz_progress(void)
{
    struct acad_module m;
    struct acad_quiz_result res, best;
    struct acad_progress *v = NULL;
    struct gu_err err = {0};
    struct gu_buf csv;
    size_t n = 0;
    int all_right[ACAD_QUESTIONS_MAX], none[ACAD_QUESTIONS_MAX];

    if (!fix())
        return;
    CHECK_EQ(acad_module_get(F.a, "donnees-personnelles", &m, &err), 0);
    CHECK_EQ(acad_module_get(F.a, "inconnu", &m, &err), GU_ENOTFOUND);
    CHECK_EQ(acad_module_get(F.a, "donnees-personnelles", &m, &err), 0);
    for (size_t i = 0; i < m.nquestions; i++) {
        none[i] = -1;
        for (size_t k = 0; k < m.questions[i].nchoices; k++) {
            if (m.questions[i].choices[k].right)
                all_right[i] = (int)k;
        }
    }
    CHECK_EQ(acad_quiz_best(F.c, "99001", F.admin, m.code, &best, &err),
             GU_ENOTFOUND);
    CHECK_EQ(acad_quiz_submit(F.c, F.a, "99001", F.admin, &m, none,
                              m.nquestions, &res, &err),
             0);
    CHECK(!res.passed);
    CHECK_EQ(res.score, 0);
    none[0] = 99;
    CHECK_EQ(acad_quiz_submit(F.c, F.a, "99001", F.admin, &m, none,
                              m.nquestions, &res, &err),
             GU_EINVAL);
    none[0] = -1;
    CHECK_EQ(acad_quiz_submit(F.c, F.a, "99001", F.admin, &m, all_right,
                              m.nquestions - 1, &res, &err),
             GU_EINVAL);
    CHECK_EQ(acad_quiz_submit(F.c, F.a, "99001", F.admin, &m, all_right,
                              m.nquestions, &res, &err),
             0);
    CHECK(res.passed);
    CHECK_EQ(res.score, (int)m.nquestions);
    CHECK_EQ(acad_quiz_best(F.c, "99001", F.admin, m.code, &best, &err), 0);
    CHECK(best.passed);
    CHECK_EQ(acad_progress_list(F.c, F.a, "99001", &v, &n, &err), 0);
    CHECK_EQ(n, 2);
    for (size_t i = 0; i < n; i++) {
        if (v[i].agent_id == F.admin) {
            CHECK_EQ(v[i].modules_passed, 1);
            CHECK(!v[i].complete);
            CHECK(v[i].last_at > 0);
            CHECK_EQ(v[i].role, STORE_ROLE_ADMIN);
        }
    }
    /* at most ACAD_DAILY_MAX answers a day */
    {
        int rc = 0, k = 0;
        while (k < ACAD_DAILY_MAX + 5 &&
               (rc = acad_quiz_submit(F.c, F.a, "99001", F.admin, &m, none,
                                      m.nquestions, &res, &err)) == 0)
            k++;
        CHECK_EQ(rc, GU_ERATE);
        CHECK_EQ(k + 2, ACAD_DAILY_MAX); /* 2 recorded above */
        CHECK_CONTAINS(err.user, "reprenez demain");
    }
    gu_buf_init(&csv);
    CHECK_EQ(acad_progress_csv(F.c, F.a, "99001", &csv, &err), 0);
    gu_buf_append(&csv, "", 1);
    CHECK_CONTAINS(csv.p, "Identifiant;Nom;Rôle;Modules validés;Modules;");
    CHECK_CONTAINS(csv.p, "\"admin\";\"Admin Exemple\";admin;1;4;");
    gu_buf_fini(&csv);
    /* a name that a spreadsheet would run as a formula */
    CHECK_EQ(store_agent_update(F.c, F.admin, "=HYPERLINK(\"x\")", "", &err),
             0);
    gu_buf_init(&csv);
    CHECK_EQ(acad_progress_csv(F.c, F.a, "99001", &csv, &err), 0);
    gu_buf_append(&csv, "", 1);
    CHECK_CONTAINS(csv.p, "\"admin\";\"'=HYPERLINK(\"\"x\"\")\";admin;");
    gu_buf_fini(&csv);
    CHECK_EQ(store_agent_update(F.c, F.admin, "Admin Exemple", "", &err), 0);
}

/* Launch `code` for the agent and return the attempt (target filled). */
static int64_t
launch(const char *code, struct acad_attempt *at)
{
    const char *sb = sandbox();
    struct gu_err err = {0};
    int64_t id = 0;

    if (!sb || acad_launch(F.s, F.c, F.cfg, F.a, "99001", sb, F.agent,
                           "agent", code, &id, &err) < 0 ||
        acad_attempt_get(F.c, F.a, "99001", F.agent, id, at, &err) < 0) {
        TH_FAIL("launch %s: %s %s", code, err.msg, err.user);
        return 0;
    }
    return id;
}

static bool
verify(int64_t id, struct acad_attempt *at)
{
    struct gu_err err = {0};

    if (acad_verify(F.c, F.a, "99001", F.agent, id, NULL, at, &err) < 0) {
        TH_FAIL("verify: %s %s", err.msg, err.user);
        return false;
    }
    return at->passed;
}

static void
test_rdv_scenarios(void)
{
    const char *sb = sandbox();
    struct acad_attempt at;
    struct rdv_booking b;
    struct gu_err err = {0};
    int64_t id;

    if (!sb)
        return;
    /* a no-show yesterday */
    id = launch("rdv-absence", &at);
    CHECK(id > 0);
    CHECK_EQ(rdv_get(F.c, F.a, sb, at.target_id, &b, &err), 0);
    CHECK(b.status == RDV_CONFIRMED);
    CHECK(!verify(id, &at));
    CHECK_EQ(rdv_set_status(F.c, sb, at.target_id, RDV_EXCUSED, "agent", &err),
             0);
    CHECK(!verify(id, &at));
    CHECK_STR(json_string_value(json_object_get(json_array_get(at.feedback, 0),
                                                "constate")),
              "excuse");
    CHECK_EQ(rdv_set_status(F.c, sb, at.target_id, RDV_NOSHOW, "agent", &err),
             0);
    CHECK(verify(id, &at));

    /* moved a week later, not cancelled */
    id = launch("rdv-deplacer", &at);
    CHECK(id > 0);
    CHECK(!verify(id, &at));
    CHECK_EQ(at.score, 1); /* kept, not moved */
    CHECK_EQ(rdv_get(F.c, F.a, sb, at.target_id, &b, &err), 0);
    {
        struct rdv_slot_query q = {0};
        struct rdv_slot *slots = NULL;
        size_t n = 0;
        q.insee = sb;
        q.motif_id = b.motif_id;
        q.from_day = b.day + 6;
        q.to_day = b.day + 30;
        q.people = 1;
        q.limit = 5;
        q.agent = true;
        CHECK_EQ(rdv_slots(F.c, F.a, &q, &slots, &n, &err), 0);
        CHECK(n > 0);
        if (n > 0)
            CHECK_EQ(rdv_move(F.c, F.cfg, sb, at.target_id, slots[0].place_id,
                              slots[0].day, slots[0].start_min, true, "agent",
                              &err),
                     0);
    }
    CHECK(verify(id, &at));

    /* a minor's passport: the note for the colleague */
    id = launch("rdv-passeport-mineur", &at);
    CHECK(id > 0);
    CHECK(!verify(id, &at));
    CHECK_EQ(rdv_set_note(F.c, sb, at.target_id,
                          "Léo doit être présent, avec un parent qui exerce "
                          "l'autorité parentale (pièce d'identité). Timbre "
                          "fiscal : 17 €.",
                          &err),
             0);
    CHECK(verify(id, &at));
    CHECK_EQ(at.total, 5);
}

static void
test_alert_scenario(void)
{
    const char *sb = sandbox();
    struct acad_attempt at;
    struct mon_alert al;
    struct mon_ticket t;
    struct gu_err err = {0};
    int64_t id, tid = 0, again = 0;

    if (!sb)
        return;
    id = launch("alerte-fuite-nuit", &at);
    CHECK(id > 0);
    CHECK(!verify(id, &at));
    CHECK_EQ(at.score, 0);
    CHECK_EQ(mon_alert_ack(F.c, sb, at.target_id, F.agent,
                           "Débit de nuit vérifié : fuite probable, équipe "
                           "réseau prévenue.",
                           &err),
             0);
    CHECK(!verify(id, &at));
    CHECK_EQ(at.score, 2);
    CHECK_EQ(mon_alert_get(F.c, F.a, sb, at.target_id, &al, &err), 0);
    memset(&t, 0, sizeof(t));
    snprintf(t.insee, sizeof(t.insee), "%s", sb);
    t.asset_id = al.asset_id;
    t.alert_id = al.id;
    t.title = "Recherche de fuite";
    t.body = "Débit de nuit anormal à la sortie du réservoir.";
    t.status = MON_TICKET_OUVERT;
    t.created_by = F.agent;
    CHECK_EQ(mon_ticket_save(F.c, &t, &tid, &err), 0);
    CHECK(verify(id, &at));
    /* handled: the sandbox has no open alert left on that sensor */
    CHECK_EQ(acad_launch(F.s, F.c, F.cfg, F.a, "99001", sb, F.agent, "agent",
                         "alerte-fuite-nuit", &again, &err),
             GU_ECONFLICT);
    CHECK_CONTAINS(err.user, "réinitialisez");
}

static void
test_reset(void)
{
    const char *sb = sandbox();
    struct acad_sandbox after;
    struct gu_err err = {0};
    int64_t id = 0, before;
    struct acad_attempt at;

    if (!sb)
        return;
    CHECK_EQ(acad_launch(F.s, F.c, F.cfg, F.a, "99001", sb, F.agent, "agent",
                         "demande-depot-sauvage", &id, &err),
             0);
    before = count("SELECT COUNT(*) FROM tri_requests WHERE insee = ?", sb);
    CHECK(before > 12);
    CHECK_EQ(acad_sandbox_reset(F.s, F.c, F.cfg, F.a, "99001", F.agent,
                                STORE_ROLE_AGENT, true, &after, &err),
             0);
    CHECK_STR(after.insee, sb);
    CHECK(after.reset_at > 0);
    CHECK_STR(after.state, "pret");
    CHECK_EQ(count("SELECT COUNT(*) FROM tri_requests WHERE insee = ?", sb),
             12);
    /* the resetting agent keeps its role; the admin's went with the rows */
    CHECK_EQ(store_agent_role(F.c, F.agent, sb), STORE_ROLE_AGENT);
    CHECK_EQ(store_agent_role(F.c, F.admin, sb), STORE_ROLE_NONE);
    /* the record survives; the old attempt can no longer be verified */
    CHECK_EQ(acad_attempt_get(F.c, F.a, "99001", F.agent, id, &at, &err), 0);
    CHECK_EQ(acad_verify(F.c, F.a, "99001", F.agent, id, NULL, &at, &err),
             GU_ECONFLICT);
    CHECK_CONTAINS(err.user, "réinitialisé");
}

static void
test_done(void)
{
    if (F.s) {
        gu_arena_free(F.a);
        gu_config_free(F.cfg);
        store_release(F.c);
        store_close(F.s);
        memset(&F, 0, sizeof(F));
    }
}

TESTS(T(test_range), T(test_shipped_bank), T(test_check), T(test_overrides),
      T(test_sandbox), T(test_cascade), T(test_routing_scenario),
      T(test_question_scenario), T(test_forecast_scenario),
      T(test_quiz_progress), T(test_rdv_scenarios), T(test_alert_scenario),
      T(test_reset), T(test_done))
