/*
 * test_tri_engine_model.c - the inbox's judgement against a real SQLite
 * store: urgency rules and their reasons (danger, hygiene, distress,
 * deadlines with a fixed « today »), repeated reports, duplicates (five
 * differently worded reports of one pothole become one case, an
 * unrelated report and a pothole elsewhere stay alone), the model cache,
 * the default models restricted to the commune's services, a retrain on
 * agents' corrections changing a prediction and the new version recorded
 * with the next decisions, the nightly job, and the demo inbox.
 */
#include "harness.h"

#include "tri_engine_fixture.h"

/* Monday 2026-11-30 */
#define MONDAY 20787

static int
rules(const char *text, json_t **reasons)
{
    *reasons = json_array();
    return tri_urgency_rules_at(text, strlen(text), MONDAY, *reasons);
}

static bool
has_reason(json_t *reasons, const char *want)
{
    for (size_t i = 0; i < json_array_size(reasons); i++) {
        if (strcmp(json_string_value(json_array_get(reasons, i)), want) == 0)
            return true;
    }
    return false;
}

static void
test_urgency_combine(void)
{
    CHECK_EQ(tri_urgency_combine(0, 0, 0.99), 0);
    CHECK_EQ(tri_urgency_combine(0, 1, 0.59), 0); /* not sure enough */
    CHECK_EQ(tri_urgency_combine(0, 1, 0.61), 1);
    CHECK_EQ(tri_urgency_combine(0, 2, 0.7), 1);  /* urgente needs 0.8 */
    CHECK_EQ(tri_urgency_combine(0, 2, 0.85), 2);
    CHECK_EQ(tri_urgency_combine(2, 0, 0.99), 2); /* never lowers */
    CHECK_EQ(tri_urgency_combine(1, 2, 0.7), 1);
}

static void
test_urgency_rules(void)
{
    json_t *r = NULL;

    CHECK_EQ(gu_day_weekday(MONDAY), 1);
    CHECK_EQ(rules("Ça sent la FUITE DE GAZ dans l'immeuble !", &r), 2);
    CHECK(has_reason(r, "danger:fuite de gaz"));
    json_decref(r);
    CHECK_EQ(rules("Un câble électrique pend sur le trottoir.", &r), 2);
    CHECK(has_reason(r, "danger:cable electrique"));
    json_decref(r);
    CHECK_EQ(rules("Un arbre tombé bloque la route de Cluny.", &r), 2);
    json_decref(r);
    CHECK_EQ(rules("Il y a des rats dans la cour.", &r), 1);
    CHECK(has_reason(r, "hygiene:rat"));
    json_decref(r);
    /* who is exposed raises a danger by one, not a nuisance */
    CHECK_EQ(rules("Il y a des rats dans la cour de l'école.", &r), 1);
    CHECK(has_reason(r, "hygiene:rat"));
    CHECK(has_reason(r, "vulnerable:ecole"));
    json_decref(r);
    CHECK_EQ(rules("Le trottoir est glissant.", &r), 1);
    json_decref(r);
    CHECK_EQ(rules("Le trottoir devant l'école est glissant.", &r), 2);
    json_decref(r);
    /* « dès » folds to « des »: not a deadline word; « depuis ce matin »
       is no deadline either */
    CHECK_EQ(rules("Ça sent le gaz rue des Forges depuis ce matin.", &r), 2);
    CHECK(!has_reason(r, "echeance:ce matin (0 j)"));
    json_decref(r);
    /* ...but a child alone is no emergency */
    CHECK_EQ(rules("Inscription de mon enfant à l'école en septembre.", &r), 0);
    json_decref(r);
    CHECK_EQ(rules("Des seringues traînent au parc.", &r), 1);
    json_decref(r);
    CHECK_EQ(rules("L'égout qui déborde devant chez moi.", &r), 1);
    json_decref(r);
    CHECK_EQ(rules("Je suis à la rue depuis hier avec mes enfants.", &r), 2);
    CHECK(has_reason(r, "detresse:a la rue"));
    json_decref(r);
    /* the resident's own word: prioritaire, never urgente alone */
    CHECK_EQ(rules("URGENT : je veux changer de bac.", &r), 1);
    CHECK(has_reason(r, "mention:urgent"));
    json_decref(r);
    /* deadlines, from Monday 30 November 2026 */
    CHECK_EQ(rules("J'ai besoin de l'acte pour demain, svp.", &r), 2);
    CHECK(has_reason(r, "echeance:demain (1 j)"));
    json_decref(r);
    CHECK_EQ(rules("Il me le faut avant vendredi.", &r), 1);
    CHECK(has_reason(r, "echeance:vendredi (4 j)"));
    json_decref(r);
    CHECK_EQ(rules("Mon vol part le 2 décembre, et ma carte est perdue.", &r),
             2);
    CHECK(has_reason(r, "echeance:2 decembre (2 j)"));
    json_decref(r);
    CHECK_EQ(rules("Dossier à rendre avant le 04/12/2026.", &r), 1);
    json_decref(r);
    CHECK_EQ(rules("Mariage prévu le 20/12, que faut-il ?", &r), 0);
    json_decref(r);
    /* a date without a deadline word, a past date */
    CHECK_EQ(rules("Je passerai demain à la mairie.", &r), 0);
    CHECK_EQ(json_array_size(r), 0);
    json_decref(r);
    CHECK_EQ(rules("Il me le faut avant le 12/11/2026.", &r), 0);
    json_decref(r);
    CHECK_EQ(rules("Bonjour, quels sont vos horaires ?", &r), 0);
    CHECK_EQ(json_array_size(r), 0);
    json_decref(r);
    /* bounded: a huge text is read up to TRI_BODY_MAX */
    {
        char *big = malloc(60000);

        memset(big, 'a', 59999);
        big[59999] = '\0';
        memcpy(big + 59000, " incendie ", 10);
        CHECK_EQ(rules(big, &r), 0);
        json_decref(r);
        free(big);
    }
}

/* Residents write anything: dates that do not exist, digits without end,
   bytes that are not text. The rules answer 0..2 and never read out of
   bounds (ASan in CI). */
static void
test_urgency_rules_garbage(void)
{
    static const char *const odd[] = {
        "avant le 31/02/2026", "pour le 99/99", "avant le 00/00/0000",
        "avant le 1/1/1", "d'ici le 12/12/123456", "pour le 29/02/2027",
        "avant le 29/02/2028 svp", "avant le 3", "avant le 3 ", "pour 1er",
        "pour le 1er decembr", "avant le 12.", "avant le 12/", "avant",
        "pour demain", "demain", "'", "\xff\xfe avant demain \xc3",
        "avant le 31 fevrier", "avant le 0 decembre", "avant le 32 mai",
        "avant le 2 décembre 2", "12345678901234567890/12/2026",
    };
    json_t *r = NULL;
    unsigned seed = 7;

    for (size_t i = 0; i < GU_ARRAY_LEN(odd); i++) {
        int u = rules(odd[i], &r);

        CHECK(u >= 0 && u <= 2);
        json_decref(r);
    }
    CHECK_EQ(rules("avant le 31/02/2026", &r), 0);
    json_decref(r);
    CHECK_EQ(rules("avant le 29/02/2028", &r), 0); /* far, but a real day */
    json_decref(r);
    for (int k = 0; k < 300; k++) {
        char buf[97];
        size_t n = (size_t)(rand_r(&seed) % 96);

        for (size_t i = 0; i < n; i++) {
            static const char pool[] = "0123456789/. avantpourdemainlejeudi"
                                       "\xc3\xa9'-";

            buf[i] = rand_r(&seed) % 4 == 0
                         ? (char)(rand_r(&seed) % 256)
                         : pool[(size_t)rand_r(&seed) % (sizeof(pool) - 1)];
        }
        buf[n] = '\0';
        r = json_array();
        {
            int u = tri_urgency_rules_at(buf, n, MONDAY, r);

            CHECK(u >= 0 && u <= 2);
        }
        json_decref(r);
    }
}

/* The urgency lands in the request, with its reasons and a shorter SLA. */
static void
test_urgency_intake(void)
{
    struct tfix f;
    struct tri_intake_res res, calm;
    struct tri_request q, qc;
    struct gu_err err;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK(tfix_file(&f, "99001",
                    "Une forte odeur de gaz rue des Forges, fuite de gaz "
                    "devant l'école !",
                    NULL, &res) > 0);
    CHECK_EQ(res.urgency, 2);
    CHECK_EQ(tri_get(f.c, f.a, "99001", res.id, &q, &err), 0);
    CHECK_EQ(q.urgency, 2);
    CHECK_CONTAINS(q.urgency_reasons, "danger:fuite de gaz");
    CHECK(tfix_file(&f, "99001",
                    "Bonjour, je voudrais une copie de mon acte de mariage.",
                    NULL, &calm) > 0);
    CHECK_EQ(calm.urgency, 0);
    CHECK_EQ(tri_get(f.c, f.a, "99001", calm.id, &qc, &err), 0);
    /* urgent: at most a day */
    CHECK(q.due_at - q.created_at <= 24 * 3600);
    CHECK(qc.due_at - qc.created_at >= 48 * 3600);
    tfix_close(&f);
}

static const char *const pothole[5] = {
    "Énorme nid-de-poule devant le 14 rue Victor Hugo, deux voitures ont "
    "crevé.",
    "Il y a un trou dans la chaussée rue Victor Hugo au niveau du 14, c'est "
    "dangereux pour les vélos.",
    "Rue Victor Hugo, la route est défoncée devant le numéro 14, un trou "
    "énorme dans le goudron.",
    "nid de poule rue victor hugo svp reboucher",
    "Message vocal : bonjour, le trou sur la route devant chez moi au 14 rue "
    "Victor Hugo s'agrandit avec la pluie.",
};

static int64_t
file_at(struct tfix *f, const char *body, double lat, double lon,
        const char *address, struct tri_intake_res *res)
{
    struct tri_intake_req r;
    struct gu_err err;

    memset(&r, 0, sizeof(r));
    r.insee = "99001";
    r.channel = TRI_WEB;
    r.body = body;
    r.lat = lat;
    r.lon = lon;
    r.address = address;
    if (tri_intake(f->s, f->c, f->cfg, &r, f->a, res, &err) < 0) {
        fprintf(stderr, "intake: %s\n", err.msg);
        return 0;
    }
    return res->id;
}

static void
test_duplicates(void)
{
    struct tfix f;
    struct tri_intake_res res, first, lamp, far, other_addr;
    struct tri_request q;
    struct tri_decision *dec = NULL;
    struct tri_filter flt;
    struct tri_request *v = NULL;
    struct gu_err err;
    size_t nd = 0, n = 0;
    /* five reports within a few metres of each other */
    const double lat = 47.39021, lon = 0.68912;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK(file_at(&f, pothole[0], lat, lon, "14 rue Victor Hugo", &first) > 0);
    CHECK_EQ(first.case_id, 0);
    /* an unrelated report at the same place stays alone */
    CHECK(file_at(&f,
                  "Les poubelles jaunes n'ont pas été ramassées cette "
                  "semaine.",
                  lat, lon, "14 rue Victor Hugo", &lamp) > 0);
    CHECK_EQ(lamp.case_id, 0);
    /* ...and so does another road matter there: a streetlight */
    CHECK(file_at(&f,
                  "Le lampadaire devant le 14 rue Victor Hugo clignote "
                  "toute la nuit.",
                  lat, lon, "14 rue Victor Hugo", &lamp) > 0);
    CHECK_STR(lamp.service, "voirie");
    CHECK_EQ(lamp.case_id, 0);
    for (int i = 1; i < 5; i++) {
        CHECK(file_at(&f, pothole[i], lat + 0.00005 * i, lon - 0.00003 * i,
                      "", &res) > 0);
        CHECK_EQ(res.case_id, first.id);
    }
    /* the fifth report raised the case's urgency, with the reason */
    CHECK(res.urgency >= 1);
    CHECK_EQ(tri_get(f.c, f.a, "99001", res.id, &q, &err), 0);
    CHECK_EQ(q.case_size, 5);
    CHECK_CONTAINS(q.urgency_reasons, "signalements:5");
    CHECK_EQ(tri_decisions(f.c, f.a, "99001", res.id, &dec, &nd, &err), 0);
    CHECK_STR(dec[nd - 1].kind, "doublon");
    CHECK_EQ(tri_get(f.c, f.a, "99001", first.id, &q, &err), 0);
    CHECK_EQ(q.case_id, 0);
    CHECK_EQ(q.case_size, 5);
    CHECK(q.urgency >= 1);
    CHECK_CONTAINS(q.urgency_reasons, "signalements:");
    /* the case as a list */
    memset(&flt, 0, sizeof(flt));
    flt.status = -2;
    flt.case_id = first.id;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 5);
    /* the same words two kilometres away: another pothole */
    CHECK(file_at(&f, pothole[0], lat + 0.02, lon, "", &far) > 0);
    CHECK_EQ(far.case_id, 0);
    /* without coordinates, the same address joins by its text */
    CHECK(file_at(&f, "Le nid de poule devant chez nous n'est toujours pas "
                      "rebouché.",
                  0, 0, "14, rue Victor-Hugo", &other_addr) > 0);
    CHECK_EQ(other_addr.case_id, first.id);
    /* a closed case takes no more reports */
    {
        struct store_val p[2] = {STORE_I(first.id), STORE_I(first.id)};

        CHECK_EQ(store_exec(f.c,
                            "UPDATE tri_requests SET status = 'resolue' "
                            "WHERE id = ? OR case_id = ?",
                            p, 2, &err),
                 0);
    }
    CHECK(file_at(&f, pothole[3], lat, lon, "", &res) > 0);
    CHECK(res.case_id != first.id);
    tfix_close(&f);
}

static void
test_duplicates_off(void)
{
    struct tfix f;
    struct tri_intake_res a, b;
    struct gu_err err;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(gu_config_parse_string(f.cfg, "[triage]\nduplicate_days = 0\n",
                                    &err),
             0);
    CHECK(file_at(&f, pothole[0], 47.39, 0.689, "", &a) > 0);
    CHECK(file_at(&f, pothole[0], 47.39, 0.689, "", &b) > 0);
    CHECK_EQ(b.case_id, 0);
    tfix_close(&f);
}

static void
test_model_cache(void)
{
    struct tfix f;
    struct tri_model_ref *r1 = NULL, *r2 = NULL;
    const struct triage_model *m, *u;
    struct store_rows *rows = NULL;
    struct gu_err err;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(tri_model_get(f.s, f.c, "99001", &r1, &err), 0);
    CHECK_EQ(tri_model_get(f.s, f.c, "99001", &r2, &err), 0);
    CHECK(r1 == r2);
    m = tri_model_service(r1);
    u = tri_model_urgency(r1);
    CHECK(m != NULL);
    CHECK(u != NULL);
    if (m && u) {
        CHECK_EQ(triage_model_nclasses(m), 13);
        CHECK(triage_model_class(m, "voirie") >= 0);
        CHECK_EQ(triage_model_nclasses(u), 3);
        CHECK(triage_model_class(u, "2") >= 0);
    }
    CHECK_EQ(store_query(f.c, f.a,
                         "SELECT version, kind, trained_on, corrections, "
                         "active FROM tri_models WHERE insee = '99001' ORDER "
                         "BY id",
                         NULL, 0, &rows, &err),
             0);
    CHECK_EQ(rows->nrows, 2);
    if (m && rows->nrows == 2) {
        CHECK_STR(store_text(rows, 0, 0), triage_model_id(m));
        CHECK_STR(store_text(rows, 0, 1), "service");
        CHECK_EQ(store_int(rows, 0, 2), 633);
        CHECK_STR(store_text(rows, 1, 1), "urgence");
    }
    tri_model_put(r2);
    tri_model_put(r1);
    /* inside a transaction: a caller's bug, refused */
    CHECK_EQ(store_begin(f.c, &err), 0);
    CHECK_EQ(tri_model_get(f.s, f.c, "99001", &r1, &err), GU_EINTERNAL);
    store_rollback(f.c);
    tfix_close(&f);
}

/* The default model learns only the commune's active services. */
static void
test_default_restricted(void)
{
    struct tfix f;
    struct tri_service s;
    struct tri_model_ref *r = NULL;
    struct tri_intake_res res;
    struct gu_err err;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(tri_services_seed(f.c, "99002", &err), 0);
    CHECK_EQ(tri_service_by_code(f.c, f.a, "99002", "elections", &s, &err), 0);
    s.active = false;
    CHECK_EQ(tri_service_save(f.c, &s, NULL, &err), 0);
    CHECK_EQ(tri_model_get(f.s, f.c, "99002", &r, &err), 0);
    CHECK(tri_model_service(r) != NULL);
    if (tri_model_service(r)) {
        CHECK_EQ(triage_model_nclasses(tri_model_service(r)), 12);
        CHECK_EQ(triage_model_class(tri_model_service(r), "elections"), -1);
    }
    tri_model_put(r);
    CHECK(tfix_file(&f, "99002",
                    "Je voudrais faire une procuration pour voter aux "
                    "élections municipales.",
                    NULL, &res) > 0);
    CHECK(strcmp(res.service, "elections") != 0);
    /* the other commune keeps all thirteen */
    CHECK_EQ(tri_model_get(f.s, f.c, "99001", &r, &err), 0);
    CHECK_EQ(triage_model_nclasses(tri_model_service(r)), 13);
    tri_model_put(r);
    tfix_close(&f);
}

/* An agent corrects a request: service_id changed, one decision. */
static void
correct(struct tfix *f, int64_t id, const char *code)
{
    struct tri_service s;
    struct tri_request q;
    struct gu_err err;

    if (tri_service_by_code(f->c, f->a, "99001", code, &s, &err) < 0 ||
        tri_get(f->c, f->a, "99001", id, &q, &err) < 0) {
        CHECK(0);
        return;
    }
    struct store_val p[2] = {STORE_I(s.id), STORE_I(id)};

    CHECK_EQ(store_exec(f->c,
                        "UPDATE tri_requests SET service_id = ?, "
                        "service_source = 'agent', status = 'en_cours' WHERE "
                        "id = ?",
                        p, 2, &err),
             0);
    CHECK_EQ(tri_decision_add(f->c, "99001", id, "service", code,
                              q.service_code, 0, "", "agent", "agent1", &err),
             0);
}

static void
test_retrain(void)
{
    static const char *const lines[] = {
        "La fontaine Wallace de la place a besoin d'une révision.",
        "Qui s'occupe de la fontaine Wallace ? Elle est couverte de mousse.",
        "La fontaine Wallace est tombée en panne depuis mardi.",
        "Le bassin de la fontaine Wallace fuit, pouvez-vous passer ?",
        "La peinture de la fontaine Wallace s'écaille.",
        "Fontaine Wallace : le robinet est arraché.",
    };
    const char *probe = "La fontaine Wallace ne coule plus du tout.";
    struct tfix f;
    struct tri_intake_res res, before, after;
    struct tri_retrain_info info;
    struct tri_decision *dec = NULL;
    struct tri_request q;
    struct store_rows *rows = NULL;
    struct gu_err err;
    size_t nd = 0;
    char v1[96];

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK(tfix_file(&f, "99001", probe, NULL, &before) > 0);
    CHECK_EQ(tri_get(f.c, f.a, "99001", before.id, &q, &err), 0);
    snprintf(v1, sizeof(v1), "%s", q.model_version);
    /* this commune's fountains belong to culture (its heritage team) */
    CHECK(strcmp(before.service, "culture-sport-associations") != 0);
    for (size_t i = 0; i < GU_ARRAY_LEN(lines); i++) {
        CHECK(tfix_file(&f, "99001", lines[i], NULL, &res) > 0);
        correct(&f, res.id, "culture-sport-associations");
    }
    /* and their urgency: agents raised it on three of them */
    {
        struct store_rows *ids = NULL;

        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT id FROM tri_requests WHERE "
                             "service_source = 'agent' ORDER BY id LIMIT 3",
                             NULL, 0, &ids, &err),
                 0);
        for (size_t i = 0; ids && i < ids->nrows; i++) {
            struct store_val p[1] = {STORE_I(store_int(ids, i, 0))};

            CHECK_EQ(store_exec(f.c,
                                "UPDATE tri_requests SET urgency = 2 WHERE "
                                "id = ?",
                                p, 1, &err),
                     0);
            CHECK_EQ(tri_decision_add(f.c, "99001", store_int(ids, i, 0),
                                      "urgence", "2", "0", 0, "", "agent",
                                      "agent1", &err),
                     0);
        }
    }
    CHECK_EQ(tri_retrain(f.s, "99001", f.a, &info, &err), 0);
    CHECK_EQ(info.corrections, 6);
    CHECK_EQ(info.examples, 633 + 6 * 3);
    CHECK(info.cv_accuracy > 0.5);
    CHECK(strcmp(info.version, v1) != 0);
    /* the same text now goes where the agents put its kind */
    CHECK(tfix_file(&f, "99001", probe, NULL, &after) > 0);
    CHECK_STR(after.service, "culture-sport-associations");
    /* the new version is recorded with the new decisions, the old one
       stays with the old */
    CHECK_EQ(tri_get(f.c, f.a, "99001", after.id, &q, &err), 0);
    CHECK_STR(q.model_version, info.version);
    CHECK_EQ(tri_decisions(f.c, f.a, "99001", after.id, &dec, &nd, &err), 0);
    CHECK_STR(dec[0].model_version, info.version);
    CHECK_EQ(tri_decisions(f.c, f.a, "99001", before.id, &dec, &nd, &err), 0);
    CHECK_STR(dec[0].model_version, v1);
    CHECK_EQ(store_query(f.c, f.a,
                         "SELECT version, active, corrections, trained_on, "
                         "cv_accuracy FROM tri_models WHERE insee = '99001' "
                         "AND kind = 'service' ORDER BY id",
                         NULL, 0, &rows, &err),
             0);
    CHECK_EQ(rows->nrows, 2);
    if (rows->nrows == 2) {
        CHECK_EQ(store_int(rows, 0, 1), 0);
        CHECK_EQ(store_int(rows, 1, 1), 1);
        CHECK_STR(store_text(rows, 1, 0), info.version);
        CHECK_EQ(store_int(rows, 1, 2), 6);
        CHECK_EQ(store_int(rows, 1, 3), 651);
    }
    /* another commune's model did not move */
    CHECK(tfix_file(&f, "99002", probe, NULL, &res) > 0);
    CHECK_EQ(tri_get(f.c, f.a, "99002", res.id, &q, &err), 0);
    CHECK_STR(q.model_version, v1);
    CHECK_EQ(tri_retrain(f.s, "ABCDE", f.a, &info, &err), GU_EINVAL);
    tfix_close(&f);
}

/* A retrain in another process is seen at the next request. */
static void
test_model_swap_from_db(void)
{
    struct tfix f;
    struct tri_model_ref *r1 = NULL, *r2 = NULL;
    struct gu_err err;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(tri_model_get(f.s, f.c, "99001", &r1, &err), 0);
    /* another node makes a copy of the row the active one */
    CHECK_EQ(store_exec(f.c,
                        "INSERT INTO tri_models (insee, version, kind, "
                        "trained_on, corrections, cv_accuracy, active, data, "
                        "created_at) SELECT insee, version, kind, trained_on, "
                        "corrections, cv_accuracy, 1, data, created_at FROM "
                        "tri_models WHERE kind = 'service' AND insee = "
                        "'99001'",
                        NULL, 0, &err),
             0);
    CHECK_EQ(store_exec(f.c,
                        "UPDATE tri_models SET active = 0 WHERE id = (SELECT "
                        "MIN(id) FROM tri_models WHERE kind = 'service' AND "
                        "insee = '99001')",
                        NULL, 0, &err),
             0);
    CHECK_EQ(tri_model_get(f.s, f.c, "99001", &r2, &err), 0);
    CHECK(r1 != r2);
    /* the old reference stays valid until put */
    CHECK(triage_model_nclasses(tri_model_service(r1)) == 13);
    tri_model_put(r1);
    tri_model_put(r2);
    tfix_close(&f);
}

static void
test_job_retrain(void)
{
    struct tfix f;
    struct tri_intake_res res;
    struct gu_err err;
    char conf[64];
    int64_t day;
    int minute;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &minute);
    CHECK(tfix_file(&f, "99001", "La fontaine de la place fuit.", NULL,
                    &res) > 0);
    /* the model is older than tonight's hour; make it so */
    CHECK_EQ(store_exec(f.c,
                        "UPDATE tri_models SET created_at = created_at - "
                        "86400 * 2",
                        NULL, 0, &err),
             0);
    /* not the hour: nothing */
    snprintf(conf, sizeof(conf), "[triage]\nretrain_hour = %d\n",
             (minute / 60 + 12) % 24);
    CHECK_EQ(gu_config_parse_string(f.cfg, conf, &err), 0);
    CHECK_EQ(tri_job_retrain(f.s, f.cfg, &err), 0);
    /* the hour, but no correction: nothing */
    snprintf(conf, sizeof(conf), "[triage]\nretrain_hour = %d\n", minute / 60);
    CHECK_EQ(gu_config_parse_string(f.cfg, conf, &err), 0);
    CHECK_EQ(tri_job_retrain(f.s, f.cfg, &err), 0);
    /* six old models: only the last four inactive ones keep their bytes */
    for (int i = 0; i < 6; i++)
        CHECK_EQ(store_exec(f.c,
                            "INSERT INTO tri_models (insee, version, kind, "
                            "active, data, created_at) VALUES ('99001', "
                            "'old', 'service', 0, x'0102', 1)",
                            NULL, 0, &err),
                 0);
    /* a correction: one commune retrained, once */
    correct(&f, res.id, "eau-assainissement");
    CHECK_EQ(tri_job_retrain(f.s, f.cfg, &err), 1);
    CHECK_EQ(tri_job_retrain(f.s, f.cfg, &err), 0);
    /* a commune with services and no model gets its default one */
    CHECK_EQ(tri_services_seed(f.c, "99002", &err), 0);
    CHECK_EQ(tri_job_retrain(f.s, f.cfg, &err), 1);
    CHECK_EQ(tfix_count(&f, "SELECT COUNT(*) FROM tri_models WHERE insee = "
                            "'99002' AND active = 1"),
             2);
    CHECK_EQ(tri_job_retrain(f.s, f.cfg, &err), 0);
    CHECK_EQ(tfix_count(&f, "SELECT COUNT(*) FROM tri_models WHERE kind = "
                            "'service' AND insee = '99001'"),
             8);
    CHECK_EQ(tfix_count(&f, "SELECT COUNT(*) FROM tri_models WHERE kind = "
                            "'service' AND active = 0 AND length(data) > 0 "
                            "AND insee = '99001'"),
             4);
    CHECK_EQ(tfix_count(&f, "SELECT COUNT(*) FROM tri_models WHERE kind = "
                            "'service' AND active = 1 AND length(data) > 0 "
                            "AND insee = '99001'"),
             1);
    tfix_close(&f);
}

static void
test_demo(void)
{
    struct tfix f;
    struct tri_filter flt;
    struct tri_request *v = NULL;
    struct gu_err err;
    size_t n = 0;
    int made;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    made = tri_demo_seed(f.s, f.c, f.cfg, "99001", &err);
    CHECK(made >= 10);
    CHECK_EQ(tri_demo_seed(f.s, f.c, f.cfg, "99001", &err), 0);
    memset(&flt, 0, sizeof(flt));
    flt.status = -2;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, (size_t)made);
    /* various states, a case, an urgent one; nothing to send */
    CHECK(tfix_count(&f, "SELECT COUNT(DISTINCT status) FROM tri_requests") >=
          4);
    CHECK(tfix_count(&f, "SELECT COUNT(*) FROM tri_requests WHERE case_id > "
                         "0") >= 1);
    CHECK(tfix_count(&f, "SELECT COUNT(*) FROM tri_requests WHERE urgency = "
                         "2") >= 1);
    {
        char sql[120];
        snprintf(sql, sizeof(sql),
                 "SELECT COUNT(*) FROM tri_requests WHERE created_at < %lld",
                 (long long)gu_now() - 86400);
        CHECK(tfix_count(&f, sql) >= 3);
    }
    CHECK_EQ(tfix_count(&f, "SELECT COUNT(*) FROM notify_outbox"), 0);
    tfix_close(&f);
}

TESTS(T(test_urgency_combine), T(test_urgency_rules),
      T(test_urgency_rules_garbage), T(test_urgency_intake), T(test_duplicates),
      T(test_duplicates_off), T(test_model_cache), T(test_default_restricted),
      T(test_retrain), T(test_model_swap_from_db), T(test_job_retrain),
      T(test_demo))
