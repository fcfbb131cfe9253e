/*
 * acad_bank.c - the scenario bank: the shipped scenarios
 * (data/demo/formation/scenarios/NN-code.json, embedded) merged with a
 * commune's own versions (acad_scenarios), and their validation.
 *
 * A scenario is one JSON object, the same in the shipped files, the
 * table and the API (French member names, as admins write them):
 *   code       [a-z0-9-]{1,64}
 *   type       demande | question | rdv | prevision | alerte
 *   titre, contexte, consignes   French text
 *   situation  what « Lancer » injects (members per type, see check_*)
 *   attendu    the expected handling (members per type)
 * and optionally "explication" in attendu, shown with the feedback.
 */
#include "academy/acad.h"
#include "monitor/mon_detect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHIPPED_DIR "formation/scenarios/"
#define TITLE_MAX 200
#define SITUATION_TEXT_MAX 5000

static const struct {
    const char *kind, *label;
} kinds[] = {
    {"demande", "Demande à orienter"},
    {"question", "Question transmise par l’assistant"},
    {"rdv", "Rendez-vous"},
    {"prevision", "Prévision à lire"},
    {"alerte", "Alerte à traiter"},
};

bool
acad_kind_valid(const char *kind)
{
    for (size_t i = 0; kind && i < GU_ARRAY_LEN(kinds); i++) {
        if (strcmp(kind, kinds[i].kind) == 0)
            return true;
    }
    return false;
}

const char *
acad_kind_label(const char *kind)
{
    for (size_t i = 0; kind && i < GU_ARRAY_LEN(kinds); i++) {
        if (strcmp(kind, kinds[i].kind) == 0)
            return kinds[i].label;
    }
    return "Scénario";
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

static bool
code_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > ACAD_CODE_MAX || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-'))
            return false;
    }
    return true;
}

static int
bad(struct gu_err *err, const char *field, const char *msg)
{
    return gu_err_set(err, GU_EINVAL, field, msg, "bad scenario: %s", field);
}

/* A required text member of `o` of 1..max bytes of valid UTF-8. */
static int
text(json_t *o, const char *key, const char *field, size_t max,
     const char *what, struct gu_err *err)
{
    json_t *v = json_object_get(o, key);
    const char *s = json_string_value(v);
    char msg[200];

    if (!s || !*s) {
        snprintf(msg, sizeof(msg), "%s est obligatoire.", what);
        return bad(err, field, msg);
    }
    if (strlen(s) > max) {
        snprintf(msg, sizeof(msg), "%s est trop long (%zu octets au plus).",
                 what, max);
        return gu_err_set(err, GU_ETOOBIG, field, msg, "too long: %s", field);
    }
    return 0;
}

static int
code_member(json_t *o, const char *key, const char *field, const char *what,
            struct gu_err *err)
{
    const char *s = json_string_value(json_object_get(o, key));
    char msg[200];

    if (!code_valid(s)) {
        snprintf(msg, sizeof(msg),
                 "%s : un code de 1 à 64 caractères parmi a-z, 0-9 et - "
                 "est attendu.",
                 what);
        return bad(err, field, msg);
    }
    return 0;
}

static int
int_member(json_t *o, const char *key, const char *field, long min, long max,
           const char *what, struct gu_err *err)
{
    json_t *v = json_object_get(o, key);
    char msg[200];

    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max) {
        snprintf(msg, sizeof(msg), "%s : un nombre entier de %ld à %ld est "
                 "attendu.", what, min, max);
        return bad(err, field, msg);
    }
    return 0;
}

/* attendu.points: [{libelle, mots: [..]}], 1..ACAD_POINTS_MAX. */
static int
check_points(json_t *att, struct gu_err *err)
{
    json_t *pts = json_object_get(att, "points"), *p;
    size_t i;

    if (!json_is_array(pts) || json_array_size(pts) == 0)
        return bad(err, "attendu.points",
                   "Indiquez au moins un point attendu dans la réponse.");
    if (json_array_size(pts) > ACAD_POINTS_MAX)
        return gu_err_set(err, GU_ETOOBIG, "attendu.points",
                          "Douze points attendus au plus.", "too many points");
    json_array_foreach(pts, i, p) {
        json_t *mots = json_object_get(p, "mots"), *m;
        size_t k;
        int rc = text(p, "libelle", "attendu.points", TITLE_MAX,
                      "Le libellé d’un point attendu", err);
        if (rc < 0)
            return rc;
        if (!json_is_array(mots) || json_array_size(mots) == 0 ||
            json_array_size(mots) > 20)
            return bad(err, "attendu.points",
                       "Chaque point attendu donne de 1 à 20 mots ou "
                       "expressions qui le reconnaissent (« mots »).");
        json_array_foreach(mots, k, m) {
            const char *s = json_string_value(m);
            if (!s || !*s || strlen(s) > 100)
                return bad(err, "attendu.points",
                           "Chaque mot d’un point attendu est un texte de 1 "
                           "à 100 octets.");
        }
    }
    return 0;
}

static int
check_demande(json_t *sit, json_t *att, struct gu_err *err)
{
    int rc = text(sit, "texte", "situation.texte", SITUATION_TEXT_MAX,
                  "Le texte de la demande", err);

    if (rc == 0 && json_object_get(sit, "objet"))
        rc = text(sit, "objet", "situation.objet", TITLE_MAX,
                  "L’objet de la demande", err);
    if (rc == 0)
        rc = code_member(att, "service", "attendu.service",
                         "Le service attendu", err);
    if (rc == 0)
        rc = int_member(att, "urgence", "attendu.urgence", 0, 2,
                        "L’urgence attendue (0 normale, 1 prioritaire, 2 "
                        "urgente)",
                        err);
    return rc;
}

static int
check_question(json_t *sit, json_t *att, struct gu_err *err)
{
    int rc = text(sit, "question", "situation.question", 1000,
                  "La question de l’habitant", err);

    if (rc == 0 && json_object_get(att, "fiche"))
        rc = code_member(att, "fiche", "attendu.fiche",
                         "La fiche attendue", err);
    return rc < 0 ? rc : check_points(att, err);
}

static int
check_rdv(json_t *sit, json_t *att, struct gu_err *err)
{
    const char *cas = json_string_value(json_object_get(sit, "cas"));
    const char *hm = json_string_value(json_object_get(sit, "heure"));
    int rc;

    if (!cas || (strcmp(cas, "absence") != 0 && strcmp(cas, "deplacer") != 0 &&
                 strcmp(cas, "mineur") != 0))
        return bad(err, "situation.cas",
                   "Le cas est « absence », « deplacer » ou « mineur ».");
    if ((rc = code_member(sit, "motif", "situation.motif", "Le motif",
                          err)) < 0)
        return rc;
    if ((rc = int_member(sit, "jour", "situation.jour", -30, 60,
                         "Le jour (relatif à aujourd’hui)", err)) < 0)
        return rc;
    if (!hm || strlen(hm) != 5 || hm[2] != ':' || hm[0] < '0' || hm[0] > '2' ||
        hm[3] < '0' || hm[3] > '5')
        return bad(err, "situation.heure",
                   "L’heure s’écrit HH:MM, par exemple 10:00.");
    if ((rc = text(sit, "nom", "situation.nom", TITLE_MAX,
                   "Le nom de la personne", err)) < 0)
        return rc;
    if (strcmp(cas, "absence") == 0) {
        const char *st = json_string_value(json_object_get(att, "statut"));
        if (!st || (strcmp(st, "absent") != 0 && strcmp(st, "excuse") != 0 &&
                    strcmp(st, "present") != 0))
            return bad(err, "attendu.statut",
                       "Le statut attendu est « absent », « excuse » ou "
                       "« present ».");
        if (json_integer_value(json_object_get(sit, "jour")) >= 0)
            return bad(err, "situation.jour",
                       "Une absence se constate sur un jour passé (jour "
                       "négatif).");
    } else if (strcmp(cas, "deplacer") == 0) {
        rc = int_member(att, "deplace_jours_min", "attendu.deplace_jours_min",
                        1, 60, "L’écart minimal du déplacement (jours)", err);
    } else {
        rc = check_points(att, err);
    }
    return rc;
}

static int
check_prevision(json_t *sit, json_t *att, struct gu_err *err)
{
    const char *r = json_string_value(json_object_get(sit, "reponse"));
    json_t *tol = json_object_get(att, "tolerance");
    int rc = code_member(sit, "serie", "situation.serie", "La série", err);

    if (rc == 0)
        rc = text(sit, "question", "situation.question", TITLE_MAX,
                  "La question posée", err);
    if (rc < 0)
        return rc;
    if (!r || (strcmp(r, "commande") != 0 && strcmp(r, "mediane") != 0 &&
               strcmp(r, "jour_max") != 0))
        return bad(err, "situation.reponse",
                   "La réponse attendue est « commande », « mediane » ou "
                   "« jour_max ».");
    if (tol && (!json_is_number(tol) || json_number_value(tol) < 0 ||
                json_number_value(tol) > 1000))
        return bad(err, "attendu.tolerance",
                   "La tolérance est un nombre de 0 à 1000.");
    return 0;
}

static int
check_alerte(json_t *sit, json_t *att, struct gu_err *err)
{
    json_t *det = json_object_get(sit, "detecteur");
    enum mon_detector d;

    (void)att;
    if (det && (!json_is_string(det) ||
                mon_detector_parse(json_string_value(det), &d) < 0))
        return bad(err, "situation.detecteur",
                   "Le détecteur est « gauss », « saisonnier », « rupture », "
                   "« nuit » ou « fige ».");
    return code_member(sit, "capteur", "situation.capteur",
                       "Le code du capteur", err);
}

int
acad_scenario_check(json_t *obj, struct gu_err *err)
{
    json_t *sit, *att, *ex;
    const char *kind;
    int rc;

    if (!json_is_object(obj))
        return bad(err, "", "Un scénario est un objet JSON.");
    if ((rc = code_member(obj, "code", "code", "Le code du scénario", err)) <
        0)
        return rc;
    kind = json_string_value(json_object_get(obj, "type"));
    if (!acad_kind_valid(kind))
        return bad(err, "type",
                   "Le type est « demande », « question », « rdv », "
                   "« prevision » ou « alerte ».");
    if ((rc = text(obj, "titre", "titre", TITLE_MAX, "Le titre", err)) < 0 ||
        (rc = text(obj, "contexte", "contexte", ACAD_TEXT_MAX, "Le contexte",
                   err)) < 0 ||
        (rc = text(obj, "consignes", "consignes", ACAD_TEXT_MAX,
                   "Les consignes", err)) < 0)
        return rc;
    sit = json_object_get(obj, "situation");
    att = json_object_get(obj, "attendu");
    if (!json_is_object(sit))
        return bad(err, "situation",
                   "La situation (ce que « Lancer » met en place) est un "
                   "objet JSON.");
    if (!json_is_object(att))
        return bad(err, "attendu",
                   "Le traitement attendu est un objet JSON.");
    ex = json_object_get(att, "explication");
    if (ex && (!json_is_string(ex) ||
               strlen(json_string_value(ex)) > ACAD_TEXT_MAX))
        return bad(err, "attendu.explication",
                   "L’explication est un texte de 4 000 octets au plus.");
    if (strcmp(kind, "demande") == 0)
        return check_demande(sit, att, err);
    if (strcmp(kind, "question") == 0)
        return check_question(sit, att, err);
    if (strcmp(kind, "rdv") == 0)
        return check_rdv(sit, att, err);
    if (strcmp(kind, "prevision") == 0)
        return check_prevision(sit, att, err);
    return check_alerte(sit, att, err);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

static int
parse(struct gu_arena *a, const char *text_, size_t n, json_t **out,
      struct gu_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(text_, n, JSON_REJECT_DUPLICATES, &je);

    if (!j)
        return gu_err_set(err, GU_EINVAL, NULL, NULL,
                          "scenario json: %s line %d", je.text, je.line);
    if (!gu_json_arena(a, j))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    *out = j;
    return 0;
}

static void
fill(json_t *j, struct acad_scenario *s)
{
    s->spec = j;
    s->code = json_string_value(json_object_get(j, "code"));
    s->kind = json_string_value(json_object_get(j, "type"));
    s->title = json_string_value(json_object_get(j, "titre"));
    s->context = json_string_value(json_object_get(j, "contexte"));
    s->instructions = json_string_value(json_object_get(j, "consignes"));
}

/* The shipped scenario `code` (NULL = count them into *n and fill
   out[0..] when out). A shipped file that does not validate is a bug of
   the release: GU_EINTERNAL naming it. */
static int
shipped(struct gu_arena *a, const char *code, struct acad_scenario *out,
        size_t cap, size_t *n, struct gu_err *err)
{
    size_t count = 0, k = 0;
    const struct gu_asset *all = gu_demo_all(&count);
    const size_t dl = strlen(SHIPPED_DIR);

    for (size_t i = 0; i < count; i++) {
        const char *p = all[i].path;
        size_t pl = strlen(p);
        json_t *j;
        int rc;

        if (strncmp(p, SHIPPED_DIR, dl) != 0 || pl < 6 ||
            strcmp(p + pl - 5, ".json") != 0)
            continue;
        rc = parse(a, (const char *)all[i].data, all[i].size, &j, err);
        if (rc == 0)
            rc = acad_scenario_check(j, err);
        if (rc < 0)
            return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                              "shipped scenario %s: %s %s", p, err->msg,
                              err->field);
        if (code && strcmp(code,
                           json_string_value(json_object_get(j, "code"))) != 0)
            continue;
        if (out && k < cap) {
            memset(&out[k], 0, sizeof(out[k]));
            fill(j, &out[k]);
            out[k].shipped = true;
            out[k].active = true;
        }
        k++;
        if (code)
            break;
    }
    *n = k;
    return 0;
}

static int
cmp_code(const void *x, const void *y)
{
    const struct acad_scenario *a = x, *b = y;

    return strcmp(a->code, b->code);
}

int
acad_scenario_list(struct store_conn *c, struct gu_arena *a,
                   const char *insee, bool all, struct acad_scenario **out,
                   size_t *n, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(insee)};
    struct acad_scenario *v;
    size_t ns = 0, k = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if ((rc = shipped(a, NULL, NULL, 0, &ns, err)) < 0)
        return rc;
    rc = store_query(c, a,
                     "SELECT code, body, active, updated_at FROM"
                     " acad_scenarios WHERE insee = ? ORDER BY code",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (ns + r->nrows + 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = shipped(a, NULL, v, ns, &ns, err)) < 0)
        return rc;
    k = ns;
    for (size_t i = 0; i < r->nrows; i++) {
        const char *code = store_text(r, i, 0);
        const char *body = store_text(r, i, 1);
        struct acad_scenario *s = NULL;
        json_t *j;

        for (size_t m = 0; m < ns; m++) {
            if (strcmp(v[m].code, code) == 0)
                s = &v[m];
        }
        if (!s) {
            s = &v[k++];
            s->shipped = false;
        }
        if ((rc = parse(a, body, strlen(body), &j, err)) < 0)
            return rc;
        fill(j, s);
        s->active = store_int(r, i, 2) != 0;
        s->edited = true;
        s->updated_at = store_int(r, i, 3);
    }
    qsort(v, k, sizeof(*v), cmp_code);
    if (!all) {
        size_t w = 0;
        for (size_t i = 0; i < k; i++) {
            if (v[i].active)
                v[w++] = v[i];
        }
        k = w;
    }
    *out = v;
    *n = k;
    return 0;
}

int
acad_scenario_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const char *code, struct acad_scenario *out,
                  struct gu_err *err)
{
    struct acad_scenario *v = NULL;
    size_t n = 0;
    int rc = acad_scenario_list(c, a, insee, true, &v, &n, err);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].code, code) == 0) {
            *out = v[i];
            return 0;
        }
    }
    return gu_err_set(err, GU_ENOTFOUND, NULL, "Scénario introuvable.",
                      "no scenario %s", code);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

int
acad_scenario_save(struct store_conn *c, const char *insee, json_t *obj,
                   bool create, const char *actor, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(4096);
    struct acad_scenario cur;
    const char *code;
    char *body = NULL;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = acad_scenario_check(obj, err)) < 0)
        goto out;
    code = json_string_value(json_object_get(obj, "code"));
    body = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (!body) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    if (strlen(body) > ACAD_SCENARIO_BYTES) {
        rc = gu_err_set(err, GU_ETOOBIG, NULL,
                        "Le scénario est trop long (20 000 octets au plus).",
                        "scenario too big");
        goto out;
    }
    rc = acad_scenario_get(c, a, insee, code, &cur, err);
    if (rc == 0 && create) {
        rc = gu_err_set(err, GU_ECONFLICT, "code",
                        "Un scénario porte déjà ce code.", "duplicate");
        goto out;
    }
    if (rc == GU_ENOTFOUND && !create)
        goto out;
    if (rc == GU_ENOTFOUND) {
        struct store_rows *r = NULL;
        struct store_val p[] = {STORE_T(insee)};
        gu_err_clear(err);
        rc = store_query(c, a,
                         "SELECT COUNT(*) FROM acad_scenarios WHERE insee = ?",
                         p, 1, &r, err);
        if (rc == 0 && store_int(r, 0, 0) >= ACAD_SCENARIOS_MAX)
            rc = gu_err_set(err, GU_ETOOBIG, NULL,
                            "Nombre maximal de scénarios de la commune "
                            "atteint (200).",
                            "too many scenarios");
        cur.active = true;
    }
    if (rc < 0)
        goto out;
    {
        struct store_val p[] = {STORE_T(insee), STORE_T(code), STORE_T(body),
                                STORE_I(cur.active ? 1 : 0), STORE_I(gu_now()),
                                STORE_T(actor ? actor : "")};
        rc = store_exec(c,
                        "INSERT INTO acad_scenarios (insee, code, body, active,"
                        " updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (insee, code) DO UPDATE SET"
                        " body = excluded.body, updated_at ="
                        " excluded.updated_at, updated_by ="
                        " excluded.updated_by",
                        p, 6, err);
    }
out:
    free(body);
    gu_arena_free(a);
    return rc;
}

int
acad_scenario_set_active(struct store_conn *c, struct gu_arena *a,
                         const char *insee, const char *code, bool active,
                         const char *actor, struct gu_err *err)
{
    struct acad_scenario cur;
    char *body;
    int rc = acad_scenario_get(c, a, insee, code, &cur, err);

    if (rc < 0)
        return rc;
    body = json_dumps(cur.spec, JSON_COMPACT | JSON_SORT_KEYS);
    if (!body)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    {
        /* A shipped scenario disabled keeps its shipped text (the row
           then only says "disabled"). */
        struct store_val p[] = {STORE_T(insee), STORE_T(code), STORE_T(body),
                                STORE_I(active ? 1 : 0), STORE_I(gu_now()),
                                STORE_T(actor ? actor : "")};
        rc = store_exec(c,
                        "INSERT INTO acad_scenarios (insee, code, body, active,"
                        " updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (insee, code) DO UPDATE SET"
                        " active = excluded.active, updated_at ="
                        " excluded.updated_at, updated_by ="
                        " excluded.updated_by",
                        p, 6, err);
    }
    free(body);
    return rc;
}

int
acad_scenario_restore(struct store_conn *c, const char *insee,
                      const char *code, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee), STORE_T(code)};
    int64_t changes = 0;
    int rc = store_exec_changes(c,
                                "DELETE FROM acad_scenarios WHERE insee = ?"
                                " AND code = ?",
                                p, 2, &changes, err);

    if (rc == 0 && changes == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL,
                        "Ce scénario n’a pas de version propre à la commune.",
                        "nothing to restore");
    return rc;
}
