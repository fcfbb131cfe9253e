/*
 * acad_attempt.c - « Lancer » and « Vérifier »: a scenario's situation
 * injected into the caller's sandbox through the domains' own functions,
 * then the sandbox's state read back and compared with the expected
 * handling, item by item.
 *
 * Every injection goes through the path a real one takes (tri_intake for
 * a request, the assistant's chat and hand-off for a question, rdv_book
 * for an appointment), so what the agent finds on the real pages is what
 * a resident's message would have produced, AI proposal included. No
 * e-mail address of a real person is ever used: the hand-off's is in the
 * reserved .invalid domain, appointments carry a fictitious phone number
 * (ARCEP's 01 99 00 range), requests no contact at all.
 *
 * Feedback items are JSON objects {libelle, ok, compte, attendu,
 * constate, conseil}; `compte` false marks an item that informs (what
 * the AI proposed) without counting in the score.
 */
#include "academy/acad.h"

#include "assistant/asst.h"
#include "forecast/fc_service.h"
#include "forecast/fc_store.h"
#include "monitor/mon_service.h"
#include "rdv/rdv.h"
#include "text/text.h"
#include "triage/tri.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDOFF_EMAIL "habitant.formation@guichet.invalid"
#define FICTION_PHONE "0199001299"
#define REQUEST_NAME "Habitant fictif (formation)"
#define FORECAST_HORIZON 21 /* days searched for a forecast */
#define CHOICES 5           /* days offered by a jour_max question */

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static const char *
jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

/* The commune's today (its time zone). */
static int
today_of(struct store_conn *c, struct gu_arena *a, const char *insee,
         int64_t *day, struct gu_err *err)
{
    struct store_commune m;
    int minute;
    int rc = store_commune_get(c, a, insee, &m, err);

    if (rc < 0)
        return rc;
    gu_tz_from_utc(gu_tz_of_zone(m.zone), gu_now(), day, &minute);
    return 0;
}

static json_t *
item(const char *label, bool ok, bool counts, const char *expected,
     const char *seen, const char *advice)
{
    return json_pack("{s:s, s:b, s:b, s:s, s:s, s:s}", "libelle", label, "ok",
                     ok, "compte", counts, "attendu", expected ? expected : "",
                     "constate", seen ? seen : "", "conseil",
                     advice ? advice : "");
}

static int
push(json_t *items, json_t *it, struct gu_err *err)
{
    if (!it || json_array_append_new(items, it) < 0)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    return 0;
}

/* `s` folded for matching: lower case, no accents, punctuation as
   spaces, surrounded by one space. */
static char *
fold(struct gu_arena *a, const char *s)
{
    size_t n = 0;
    char *f = text_fold(a, s, strlen(s), &n), *o;

    if (!f)
        return NULL;
    o = gu_arena_alloc(a, n + 3);
    if (!o)
        return NULL;
    o[0] = ' ';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)f[i];
        o[i + 1] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                           ch >= 0x80
                       ? (char)ch
                       : ' ';
    }
    o[n + 1] = ' ';
    o[n + 2] = '\0';
    return o;
}

/* Does folded `hay` hold one of the key point's words (as words)? */
static bool
point_found(struct gu_arena *a, const char *hay, json_t *point)
{
    json_t *mots = json_object_get(point, "mots"), *m;
    size_t i;

    json_array_foreach(mots, i, m) {
        char *w = fold(a, json_string_value(m));
        size_t n = w ? strlen(w) : 0;
        if (n <= 2)
            continue;
        /* at the start of a word, any ending: « gratuit » finds
           « gratuite », « parent » finds « parentale » */
        w[n - 1] = '\0';
        if (strstr(hay, w))
            return true;
    }
    return false;
}

/* One item per key point of attendu.points found in `text_`. */
static int
check_points(struct gu_arena *a, json_t *att, const char *text_,
             json_t *items, struct gu_err *err)
{
    char *hay = fold(a, text_ ? text_ : "");
    json_t *pts = json_object_get(att, "points"), *p;
    size_t i;
    int rc = 0;

    if (!hay)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    json_array_foreach(pts, i, p) {
        bool ok = point_found(a, hay, p);
        char *label = gu_arena_sprintf(a, "Point attendu : %s",
                                       jstr(p, "libelle"));
        rc = push(items,
                  item(label ? label : "Point attendu", ok, true,
                       jstr(p, "libelle"),
                       ok ? "Présent dans votre texte."
                          : "Absent de votre texte.",
                       ok ? "" : "Ajoutez-le : l’habitant en a besoin."),
                  err);
        if (rc < 0)
            break;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Launch                                                              */
/* ------------------------------------------------------------------ */

struct launch {
    struct store *st;
    struct store_conn *c;
    const struct gu_config *cfg;
    struct gu_arena *a;
    const char *sandbox, *actor;
    json_t *sit;
    int64_t target;
    json_t *info; /* goes to acad_attempts.launch */
};

static int
launch_demande(struct launch *l, struct gu_err *err)
{
    struct tri_intake_req in;
    struct tri_intake_res res;
    int rc;

    memset(&in, 0, sizeof(in));
    in.insee = l->sandbox;
    in.channel = TRI_WEB;
    in.subject = jstr(l->sit, "objet");
    in.body = jstr(l->sit, "texte");
    in.address = *jstr(l->sit, "adresse") ? jstr(l->sit, "adresse") : NULL;
    in.contact_name = REQUEST_NAME;
    in.notify = false;
    in.origin = "formation";
    in.actor = l->actor;
    rc = tri_intake(l->st, l->c, l->cfg, &in, l->a, &res, err);
    if (rc < 0)
        return rc;
    l->target = res.id;
    l->info = json_pack("{s:s, s:s, s:i, s:f, s:s}", "numero", res.number,
                        "ia_service", res.service ? res.service : "",
                        "ia_urgence", res.urgency, "ia_confiance",
                        res.confidence, "ia_statut",
                        tri_status_name(res.status));
    return l->info ? 0 : gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
}

static int
launch_question(struct launch *l, struct gu_err *err)
{
    struct asst_ctx x = {0};
    struct asst_chat_in in = {0};
    struct asst_chat_out out;
    struct asst_handoff *v = NULL;
    struct asst_handoff_filter f = {0};
    const char *ref = NULL, *follow = NULL;
    size_t n = 0;
    int rc;

    x.eng = asst_engine_of(l->st);
    if (!x.eng)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    x.conn = l->c;
    x.arena = l->a;
    x.cfg = l->cfg;
    in.insee = l->sandbox;
    in.message = jstr(l->sit, "question");
    memset(&out, 0, sizeof(out));
    rc = asst_chat(&x, &in, &out, err);
    /* the turn's rows are written by the engine's thread: wait for them
       before the hand-off looks the conversation up */
    if (rc == 0)
        rc = asst_engine_sync(x.eng, false);
    if (rc == 0)
        rc = asst_handoff_create(&x, out.conversation, HANDOFF_EMAIL,
                                 in.message, true, &ref, &follow, err);
    if (rc < 0)
        return rc;
    f.limit = 20;
    rc = asst_handoff_list(l->c, l->a, l->sandbox, &f, &v, &n, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].reference, ref) == 0)
            l->target = v[i].id;
    }
    if (l->target == 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "hand-off %s not listed", ref);
    l->info = json_pack("{s:s}", "reference", ref);
    return l->info ? 0 : gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
}

/* Minutes of "HH:MM". */
static int
hm_minutes(const char *s)
{
    return ((s[0] - '0') * 10 + (s[1] - '0')) * 60 + (s[3] - '0') * 10 +
           (s[4] - '0');
}

static int
launch_rdv(struct launch *l, struct gu_err *err)
{
    struct rdv_motif m;
    struct rdv_slot_query q = {0};
    struct rdv_slot *slots = NULL;
    struct rdv_book_req b = {0};
    struct rdv_booked booked;
    struct store_commune com;
    int64_t today, day, now;
    size_t n = 0, best = 0;
    int want, rc, minute;
    char when[96];

    rc = rdv_motif_by_code(l->c, l->a, l->sandbox, jstr(l->sit, "motif"), &m,
                           err);
    if (rc < 0)
        return rc;
    if ((rc = store_commune_get(l->c, l->a, l->sandbox, &com, err)) < 0)
        return rc;
    gu_tz_from_utc(gu_tz_of_zone(com.zone), gu_now(), &today, &minute);
    day = today + json_integer_value(json_object_get(l->sit, "jour"));
    want = hm_minutes(jstr(l->sit, "heure"));
    /* A past day is booked « as of » that morning (how else would a
       no-show exist); a future one as of now. */
    now = day < today ? gu_tz_to_utc(gu_tz_of_zone(com.zone), day, 0)
                      : gu_now();
    for (int tries = 0; tries < 10 && n == 0; tries++) {
        q.insee = l->sandbox;
        q.motif_id = m.id;
        q.from_day = q.to_day = day;
        q.people = 1;
        q.limit = 200;
        q.agent = true;
        q.now = now;
        rc = rdv_slots(l->c, l->a, &q, &slots, &n, err);
        if (rc < 0)
            return rc;
        if (n == 0) {
            /* a closed day (week-end, holiday): the day before, for a
               past situation; the next one otherwise */
            day += day < today ? -1 : 1;
            if (day < today)
                now = gu_tz_to_utc(gu_tz_of_zone(com.zone), day, 0);
        }
    }
    if (n == 0)
        return gu_err_set(err, GU_ECONFLICT, NULL,
                          "Aucun créneau libre pour ce scénario dans le bac à "
                          "sable : réinitialisez-le puis relancez.",
                          "no slot");
    for (size_t i = 1; i < n; i++) {
        if (abs(slots[i].start_min - want) < abs(slots[best].start_min - want))
            best = i;
    }
    b.insee = l->sandbox;
    b.motif_id = m.id;
    b.place_id = slots[best].place_id;
    b.counter_id = slots[best].counter_id;
    b.day = slots[best].day;
    b.start_min = slots[best].start_min;
    b.people = 1;
    b.name = jstr(l->sit, "nom");
    b.phone = FICTION_PHONE;
    b.channel = RDV_AGENT_DESK;
    b.actor = l->actor;
    b.agent = true;
    b.public_url = "";
    b.now = now;
    rc = rdv_book(l->c, l->cfg, &b, &booked, err);
    if (rc < 0)
        return rc;
    l->target = booked.id;
    gu_when_fr(b.day, b.start_min, when, sizeof(when));
    l->info = json_pack("{s:s, s:s, s:I, s:i}", "quand", when, "motif",
                        m.name, "jour", (json_int_t)b.day, "debut",
                        b.start_min);
    return l->info ? 0 : gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
}

static int
launch_prevision(struct launch *l, struct gu_err *err)
{
    struct fc_series s;
    struct fc_day *d = NULL;
    const char *want = jstr(l->sit, "reponse");
    json_t *days;
    int64_t today;
    size_t n = 0;
    int rc;

    rc = fc_series_by_code(l->c, l->a, l->sandbox, jstr(l->sit, "serie"), &s,
                           err);
    if (rc == 0)
        rc = today_of(l->c, l->a, l->sandbox, &today, err);
    if (rc == 0)
        rc = fc_days(l->c, l->a, l->sandbox, s.id, today + 1,
                     today + FORECAST_HORIZON, NAN, &d, &n, err);
    if (rc < 0)
        return rc;
    days = json_array();
    l->info = json_pack("{s:s, s:I, s:o}", "serie", s.name, "serie_id",
                        (json_int_t)s.id, "jours", days);
    if (!l->info)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < n && json_array_size(days) < CHOICES; i++) {
        bool usable = strcmp(want, "commande") == 0 ? isfinite(d[i].reco.order)
                                                    : isfinite(d[i].p50);
        char label[64];
        if (!usable)
            continue;
        gu_day_fr(d[i].t, label, sizeof(label));
        if (json_array_append_new(days,
                                  json_pack("{s:I, s:s}", "jour",
                                            (json_int_t)d[i].t, "libelle",
                                            label)) < 0)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        if (strcmp(want, "jour_max") != 0)
            break; /* one day: the next one that has it */
    }
    if (json_array_size(days) == 0)
        return gu_err_set(err, GU_ECONFLICT, NULL,
                          "La série n’a pas de prévision pour les jours à "
                          "venir dans le bac à sable : réinitialisez-le.",
                          "no forecast");
    return 0;
}

static int
launch_alerte(struct launch *l, struct gu_err *err)
{
    struct mon_sensor s;
    struct mon_alert_filter f = {0};
    struct mon_alert *v = NULL;
    size_t n = 0;
    int rc = mon_sensor_by_code(l->c, l->a, l->sandbox,
                                jstr(l->sit, "capteur"), &s, err);

    if (rc < 0)
        return rc;
    f.sensor_id = s.id;
    f.status = MON_ALERT_OUVERTE;
    f.limit = 50;
    rc = mon_alert_list(l->c, l->a, l->sandbox, &f, &v, &n, err);
    if (rc < 0)
        return rc;
    /* A scenario about one kind of anomaly (situation.detecteur, e.g.
     * "nuit" for a night-flow leak) targets that alert, not another one
     * the sensor may have open beside it. */
    const char *det = jstr(l->sit, "detecteur");
    if (det && *det) {
        size_t k = 0;
        while (k < n && strcmp(mon_detector_code(v[k].detector), det) != 0)
            k++;
        v += k;
        n -= k;
    }
    if (n == 0)
        return gu_err_set(err, GU_ECONFLICT, NULL,
                          "Plus aucune alerte ouverte sur ce capteur dans le "
                          "bac à sable (déjà traitée) : réinitialisez le bac "
                          "à sable pour retrouver la situation de départ.",
                          "no open alert");
    l->target = v[0].id;
    l->info = json_pack("{s:I, s:s, s:s}", "alerte", (json_int_t)v[0].id,
                        "capteur", v[0].sensor_name ? v[0].sensor_name : "",
                        "equipement",
                        v[0].asset_name ? v[0].asset_name : "");
    return l->info ? 0 : gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
}

int
acad_launch(struct store *st, struct store_conn *c,
            const struct gu_config *cfg, struct gu_arena *a, const char *home,
            const char *sandbox, int64_t agent_id, const char *actor,
            const char *code, int64_t *attempt_id, struct gu_err *err)
{
    struct acad_scenario sc;
    struct launch l = {0};
    struct store_rows *r = NULL;
    char *info;
    int rc = acad_scenario_get(c, a, home, code, &sc, err);

    if (rc < 0)
        return rc;
    if (!sc.active)
        return gu_err_set(err, GU_ENOTFOUND, NULL,
                          "Ce scénario est désactivé.", "disabled");
    {
        /* every launch writes into the sandbox: bounded per agent */
        struct store_val p[] = {STORE_T(home), STORE_I(agent_id),
                                STORE_I(gu_now() - 86400)};
        rc = store_query(c, a,
                         "SELECT COUNT(*) FROM acad_attempts WHERE insee = ?"
                         " AND agent_id = ? AND created_at > ?",
                         p, 3, &r, err);
        if (rc < 0)
            return rc;
        if (store_int(r, 0, 0) >= ACAD_DAILY_MAX)
            return gu_err_set(err, GU_ERATE, NULL,
                              "Vous avez lancé 200 scénarios en 24 heures : "
                              "c’est le maximum, reprenez demain.",
                              "too many launches");
    }
    l.st = st;
    l.c = c;
    l.cfg = cfg;
    l.a = a;
    l.sandbox = sandbox;
    l.actor = actor;
    l.sit = json_object_get(sc.spec, "situation");
    if (strcmp(sc.kind, "demande") == 0)
        rc = launch_demande(&l, err);
    else if (strcmp(sc.kind, "question") == 0)
        rc = launch_question(&l, err);
    else if (strcmp(sc.kind, "rdv") == 0)
        rc = launch_rdv(&l, err);
    else if (strcmp(sc.kind, "prevision") == 0)
        rc = launch_prevision(&l, err);
    else
        rc = launch_alerte(&l, err);
    if (rc < 0) {
        json_decref(l.info);
        return rc;
    }
    info = json_dumps(l.info, JSON_COMPACT);
    json_decref(l.info);
    if (!info)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    {
        struct store_val p[] = {STORE_T(home),     STORE_I(agent_id),
                                STORE_T(sc.code),  STORE_T(sc.kind),
                                STORE_T(sc.title), STORE_T(sandbox),
                                STORE_I(l.target), STORE_T(info),
                                STORE_I(gu_now())};
        rc = store_query(c, a,
                         "INSERT INTO acad_attempts (insee, agent_id,"
                         " scenario, kind, title, sandbox, target_id, launch,"
                         " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                         " RETURNING id",
                         p, 9, &r, err);
    }
    free(info);
    if (rc == 0)
        *attempt_id = store_int(r, 0, 0);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Attempts                                                            */
/* ------------------------------------------------------------------ */

#define ATTEMPT_COLS                                                           \
    "id, agent_id, scenario, kind, title, sandbox, target_id, launch,"         \
    " status, score, total, passed, feedback, answer, created_at, checked_at"

static int
row_attempt(struct gu_arena *a, const struct store_rows *r, size_t i,
            struct acad_attempt *o, struct gu_err *err)
{
    json_error_t je;
    const char *l = store_text(r, i, 7), *f = store_text(r, i, 12);

    memset(o, 0, sizeof(*o));
    o->id = store_int(r, i, 0);
    o->agent_id = store_int(r, i, 1);
    o->scenario = store_text(r, i, 2);
    o->kind = store_text(r, i, 3);
    o->title = store_text(r, i, 4);
    snprintf(o->sandbox, sizeof(o->sandbox), "%s", store_text(r, i, 5));
    o->target_id = store_int(r, i, 6);
    o->status = store_text(r, i, 8);
    o->score = (int)store_int(r, i, 9);
    o->total = (int)store_int(r, i, 10);
    o->passed = store_int(r, i, 11) != 0;
    o->answer = store_text(r, i, 13);
    o->created_at = store_int(r, i, 14);
    o->checked_at = store_int(r, i, 15);
    o->launch = gu_json_arena(a, json_loads(l ? l : "{}", 0, &je));
    o->feedback = gu_json_arena(a, json_loads(f ? f : "[]", 0, &je));
    if (!o->launch || !o->feedback)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "attempt json");
    return 0;
}

int
acad_attempt_get(struct store_conn *c, struct gu_arena *a, const char *home,
                 int64_t agent_id, int64_t id, struct acad_attempt *out,
                 struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(home), STORE_I(agent_id), STORE_I(id)};
    int rc = store_query(c, a,
                         "SELECT " ATTEMPT_COLS " FROM acad_attempts WHERE"
                         " insee = ? AND agent_id = ? AND id = ?",
                         p, 3, &r, err);

    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL, "Essai introuvable.",
                          "no attempt");
    return row_attempt(a, r, 0, out, err);
}

int
acad_attempt_list(struct store_conn *c, struct gu_arena *a, const char *home,
                  int64_t agent_id, const char *scenario, size_t limit,
                  struct acad_attempt **out, size_t *n, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(home), STORE_I(agent_id),
                            STORE_T(scenario ? scenario : ""),
                            STORE_T(scenario ? scenario : ""),
                            STORE_I(limit < 1 || limit > 200 ? 200 : limit)};
    struct acad_attempt *v;
    int rc = store_query(c, a,
                         "SELECT " ATTEMPT_COLS " FROM acad_attempts WHERE"
                         " insee = ? AND agent_id = ? AND (? = '' OR"
                         " scenario = ?) ORDER BY id DESC LIMIT ?",
                         p, 5, &r, err);

    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows + 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++) {
        if ((rc = row_attempt(a, r, i, &v[i], err)) < 0)
            return rc;
    }
    *out = v;
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Verify                                                              */
/* ------------------------------------------------------------------ */

struct verify {
    struct store_conn *c;
    struct gu_arena *a;
    const struct acad_attempt *at;
    json_t *att; /* attendu */
    json_t *sit; /* situation */
    const char *answer;
    json_t *items;
};

static const char *
service_label(struct verify *v, const char *code)
{
    struct tri_service *s = NULL;
    size_t n = 0;
    struct gu_err e = {0};

    if (!code || !*code)
        return "aucun (« À trier »)";
    if (tri_service_list(v->c, v->a, v->at->sandbox, false, &s, &n, &e) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(s[i].code, code) == 0)
                return s[i].name;
        }
    }
    return code;
}

static int
verify_demande(struct verify *v, struct gu_err *err)
{
    struct tri_request r;
    const char *want = jstr(v->att, "service");
    const char *ai = jstr(v->at->launch, "ia_service");
    int want_u = (int)json_integer_value(json_object_get(v->att, "urgence"));
    int ai_u = (int)json_integer_value(json_object_get(v->at->launch,
                                                       "ia_urgence"));
    bool svc_ok, urg_ok;
    char *s;
    int rc = tri_get(v->c, v->a, v->at->sandbox, v->at->target_id, &r, err);

    if (rc < 0)
        return rc;
    svc_ok = strcmp(r.service_code, want) == 0;
    urg_ok = r.urgency == want_u;
    rc = push(v->items,
              item("Service", svc_ok, true, service_label(v, want),
                   service_label(v, r.service_code),
                   svc_ok ? ""
                          : "Ouvrez la demande et choisissez le service "
                            "attendu dans « Service »."),
              err);
    if (rc == 0)
        rc = push(v->items,
                  item("Urgence", urg_ok, true, tri_urgency_label(want_u),
                       tri_urgency_label(r.urgency),
                       urg_ok ? ""
                              : "Relisez la demande : un danger immédiat est "
                                "« Urgente », une date proche "
                                "« Prioritaire »."),
                  err);
    if (rc < 0)
        return rc;
    /* what the AI proposed, against the expected and the agent's choice */
    if (strcmp(ai, want) == 0 && ai_u == want_u)
        s = gu_arena_sprintf(v->a,
                             "L’IA proposait déjà « %s » et « %s » : la bonne "
                             "attitude était de vérifier puis de confirmer.",
                             service_label(v, ai), tri_urgency_label(ai_u));
    else
        s = gu_arena_sprintf(
            v->a,
            "L’IA proposait « %s » et « %s »%s : %s", service_label(v, ai),
            tri_urgency_label(ai_u),
            strcmp(jstr(v->at->launch, "ia_statut"), "a_trier") == 0
                ? " (pas assez sûre : demande « À trier »)"
                : "",
            svc_ok && urg_ok ? "vous l’avez corrigée à juste titre."
                             : "il fallait corriger sa proposition.");
    return push(v->items,
                item("Proposition de l’IA", svc_ok && urg_ok, false, "",
                     s ? s : "", ""),
                err);
}

static int
verify_question(struct verify *v, struct gu_err *err)
{
    struct asst_handoff h;
    bool answered;
    int rc = asst_handoff_get(v->c, v->a, v->at->sandbox, v->at->target_id,
                              &h, err);

    if (rc < 0)
        return rc;
    answered = strcmp(h.status, "répondu") == 0 && *h.answer;
    rc = push(v->items,
              item("Réponse envoyée à l’habitant", answered, true, "Répondu",
                   h.status,
                   answered ? ""
                            : "Ouvrez la question dans « Assistant », "
                              "rédigez la réponse et envoyez-la."),
              err);
    if (rc == 0)
        rc = check_points(v->a, v->att, h.answer, v->items, err);
    if (rc == 0 && *jstr(v->att, "fiche")) {
        char *s = gu_arena_sprintf(v->a,
                                   "La fiche « %s » de la base de "
                                   "connaissances contient ces éléments.",
                                   jstr(v->att, "fiche"));
        rc = push(v->items,
                  item("Fiche de référence", true, false, "", s ? s : "", ""),
                  err);
    }
    return rc;
}

static int
verify_rdv(struct verify *v, struct gu_err *err)
{
    struct rdv_booking b;
    const char *cas = jstr(v->sit, "cas");
    int rc = rdv_get(v->c, v->a, v->at->sandbox, v->at->target_id, &b, err);

    if (rc < 0)
        return rc;
    if (strcmp(cas, "absence") == 0) {
        const char *want = jstr(v->att, "statut");
        bool ok = strcmp(rdv_status_name(b.status), want) == 0;
        return push(v->items,
                    item("Statut du rendez-vous", ok, true, want,
                         rdv_status_name(b.status),
                         ok ? ""
                            : "Dans l’agenda du jour, marquez le "
                              "rendez-vous « absent » : la personne n’a pas "
                              "prévenu."),
                    err);
    }
    if (strcmp(cas, "deplacer") == 0) {
        int64_t from = json_integer_value(json_object_get(v->at->launch,
                                                          "jour"));
        int64_t min = json_integer_value(json_object_get(v->att,
                                                         "deplace_jours_min"));
        bool kept = b.status == RDV_CONFIRMED;
        bool moved = b.day - from >= min;
        char seen[96], want[96];

        gu_when_fr(b.day, b.start_min, seen, sizeof(seen));
        snprintf(want, sizeof(want), "au moins %lld jours plus tard",
                 (long long)min);
        rc = push(v->items,
                  item("Rendez-vous conservé (pas annulé)", kept, true,
                       "confirme", rdv_status_name(b.status),
                       kept ? ""
                            : "Utilisez « Déplacer » plutôt qu’annuler : "
                              "l’habitante garde son rendez-vous et son "
                              "lien."),
                  err);
        if (rc == 0)
            rc = push(v->items,
                      item("Nouveau créneau", moved, true, want, seen,
                           moved ? ""
                                 : "Choisissez un créneau libre de la "
                                   "semaine suivante."),
                      err);
        return rc;
    }
    /* mineur */
    {
        bool kept = b.status == RDV_CONFIRMED;
        rc = push(v->items,
                  item("Rendez-vous maintenu", kept, true, "confirme",
                       rdv_status_name(b.status),
                       kept ? "" : "Le rendez-vous d’un mineur se maintient."),
                  err);
        if (rc == 0)
            rc = push(v->items,
                      item("Note pour le collègue", b.note && *b.note, true,
                           "une note sur le rendez-vous",
                           b.note && *b.note ? b.note : "aucune note",
                           b.note && *b.note
                               ? ""
                               : "Ajoutez une note au rendez-vous dans "
                                 "l’agenda."),
                      err);
        if (rc == 0)
            rc = check_points(v->a, v->att, b.note, v->items, err);
        return rc;
    }
}

/* "12", "12,5", " 12.5 " -> number; false when not one. */
static bool
parse_number(const char *s, double *out)
{
    char buf[64], *end;
    size_t k = 0;

    for (; *s && k + 1 < sizeof(buf); s++) {
        if (*s == ' ')
            continue;
        buf[k++] = *s == ',' ? '.' : *s;
    }
    buf[k] = '\0';
    if (k == 0)
        return false;
    *out = strtod(buf, &end);
    return *end == '\0' && isfinite(*out);
}

static int
verify_prevision(struct verify *v, struct gu_err *err)
{
    json_t *days = json_object_get(v->at->launch, "jours");
    int64_t sid = json_integer_value(json_object_get(v->at->launch,
                                                     "serie_id"));
    int64_t d0 = json_integer_value(json_object_get(json_array_get(days, 0),
                                                    "jour"));
    int64_t d1 = d0 + FORECAST_HORIZON;
    const char *want = jstr(v->sit, "reponse");
    struct fc_day *d = NULL;
    size_t n = 0;
    char exp[64], seen[128];
    int rc = fc_days(v->c, v->a, v->at->sandbox, sid, d0, d1, NAN, &d, &n,
                     err);

    if (rc < 0)
        return rc;
    if (strcmp(want, "jour_max") == 0) {
        int64_t best = 0, got = 0;
        double bv = -INFINITY;
        json_t *o;
        size_t i;
        const char *got_label = "aucune réponse", *best_label = "";
        long lv;

        if (v->answer && gu_parse_long(v->answer, 0, 1000000, &lv) == 0)
            got = lv;
        json_array_foreach(days, i, o) {
            int64_t t = json_integer_value(json_object_get(o, "jour"));
            for (size_t k = 0; k < n; k++) {
                if (d[k].t == t && isfinite(d[k].p50) && d[k].p50 > bv) {
                    bv = d[k].p50;
                    best = t;
                    best_label = jstr(o, "libelle");
                }
            }
            if (t == got)
                got_label = jstr(o, "libelle");
        }
        return push(v->items,
                    item(jstr(v->sit, "question"), got == best && best != 0,
                         true, best_label, got_label,
                         got == best ? ""
                                     : "Comparez la colonne « prévision "
                                       "médiane » jour par jour."),
                    err);
    }
    {
        double expected = NAN, got = NAN,
               tol = json_is_number(json_object_get(v->att, "tolerance"))
                         ? json_number_value(json_object_get(v->att,
                                                             "tolerance"))
                         : 0;
        bool have = v->answer && parse_number(v->answer, &got), ok;

        for (size_t k = 0; k < n; k++) {
            if (d[k].t == d0)
                expected = strcmp(want, "commande") == 0 ? d[k].reco.order
                                                         : d[k].p50;
        }
        if (!isfinite(expected))
            return gu_err_set(err, GU_ECONFLICT, NULL,
                              "La prévision de ce jour n’existe plus dans le "
                              "bac à sable : relancez le scénario.",
                              "forecast gone");
        ok = have && fabs(got - expected) <= tol + 1e-9;
        gu_num_fr(expected, 0, GU_NUM_GROUP, "—", exp, sizeof(exp));
        if (have)
            gu_num_fr(got, 1, GU_NUM_TRIM | GU_NUM_GROUP, "—", seen,
                      sizeof(seen));
        else
            snprintf(seen, sizeof(seen), "%s",
                     v->answer && *v->answer ? "pas un nombre"
                                             : "aucune réponse");
        return push(v->items,
                    item(jstr(v->sit, "question"), ok, true, exp, seen,
                         ok ? ""
                            : "Relisez la ligne du jour concerné dans le "
                              "tableau de la série (colonne « commande "
                              "recommandée » ou « prévision médiane »)."),
                    err);
    }
}

static int
verify_alerte(struct verify *v, struct gu_err *err)
{
    struct mon_alert al;
    struct mon_ticket *t = NULL;
    size_t n = 0;
    bool acked, commented, ticket = false;
    int rc = mon_alert_get(v->c, v->a, v->at->sandbox, v->at->target_id, &al,
                           err);

    if (rc < 0)
        return rc;
    rc = mon_ticket_list(v->c, v->a, v->at->sandbox, al.asset_id, false, &t,
                         &n, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (t[i].alert_id == al.id)
            ticket = true;
    }
    acked = al.status != MON_ALERT_OUVERTE;
    commented = al.comment && *al.comment;
    rc = push(v->items,
              item("Alerte acquittée", acked, true, "acquittée",
                   mon_alert_status_label(al.status),
                   acked ? ""
                         : "Ouvrez l’alerte et cliquez « Acquitter » : vos "
                           "collègues savent que quelqu’un s’en occupe."),
              err);
    if (rc == 0)
        rc = push(v->items,
                  item("Commentaire", commented, true,
                       "ce que vous avez vérifié ou décidé",
                       commented ? al.comment : "aucun commentaire",
                       commented ? ""
                                 : "Écrivez un commentaire en acquittant "
                                   "l’alerte."),
                  err);
    if (rc == 0)
        rc = push(v->items,
                  item("Ticket de maintenance", ticket, true,
                       "un ticket ouvert depuis l’alerte",
                       ticket ? "ticket ouvert" : "aucun ticket",
                       ticket ? ""
                              : "Depuis l’alerte, « Ouvrir un ticket » "
                                "prérempli."),
                  err);
    return rc;
}

int
acad_verify(struct store_conn *c, struct gu_arena *a, const char *home,
            int64_t agent_id, int64_t id, const char *answer,
            struct acad_attempt *out, struct gu_err *err)
{
    struct acad_attempt at;
    struct acad_scenario sc;
    struct verify v = {0};
    struct acad_sandbox sb;
    int score = 0, total = 0, rc;
    char *fb;
    json_t *it;
    size_t i;

    if ((rc = acad_attempt_get(c, a, home, agent_id, id, &at, err)) < 0)
        return rc;
    if (answer && strlen(answer) > ACAD_ANSWER_MAX)
        return gu_err_set(err, GU_ETOOBIG, "reponse",
                          "La réponse est trop longue (200 caractères au "
                          "plus).",
                          "answer too long");
    if ((rc = acad_scenario_get(c, a, home, at.scenario, &sc, err)) < 0)
        return rc;
    rc = acad_sandbox_get(c, a, home, &sb, err);
    if (rc == 0 && (strcmp(sb.insee, at.sandbox) != 0 ||
                    sb.reset_at >= at.created_at))
        rc = GU_ENOTFOUND;
    if (rc < 0)
        return gu_err_set(err, GU_ECONFLICT, NULL,
                          "Le bac à sable a été réinitialisé depuis le "
                          "lancement de cet essai : relancez le scénario.",
                          "sandbox reset since launch");
    v.c = c;
    v.a = a;
    v.at = &at;
    v.att = json_object_get(sc.spec, "attendu");
    v.sit = json_object_get(sc.spec, "situation");
    v.answer = answer;
    v.items = gu_json_arena(a, json_array());
    if (!v.items)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if (strcmp(at.kind, "demande") == 0)
        rc = verify_demande(&v, err);
    else if (strcmp(at.kind, "question") == 0)
        rc = verify_question(&v, err);
    else if (strcmp(at.kind, "rdv") == 0)
        rc = verify_rdv(&v, err);
    else if (strcmp(at.kind, "prevision") == 0)
        rc = verify_prevision(&v, err);
    else
        rc = verify_alerte(&v, err);
    if (rc == GU_ENOTFOUND)
        return gu_err_set(err, GU_ECONFLICT, NULL,
                          "La situation de cet essai n’existe plus dans le "
                          "bac à sable : relancez le scénario.",
                          "target gone");
    if (rc < 0)
        return rc;
    json_array_foreach(v.items, i, it) {
        if (!json_is_true(json_object_get(it, "compte")))
            continue;
        total++;
        if (json_is_true(json_object_get(it, "ok")))
            score++;
    }
    fb = json_dumps(v.items, JSON_COMPACT);
    if (!fb)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    {
        struct store_val p[] = {STORE_I(score),
                                STORE_I(total),
                                STORE_I(score == total ? 1 : 0),
                                STORE_T(fb),
                                STORE_T(answer ? answer : ""),
                                STORE_I(gu_now()),
                                STORE_I(id),
                                STORE_T(home)};
        rc = store_exec(c,
                        "UPDATE acad_attempts SET status = 'verifie', score ="
                        " ?, total = ?, passed = ?, feedback = ?, answer = ?,"
                        " checked_at = ? WHERE id = ? AND insee = ?",
                        p, 8, err);
    }
    free(fb);
    if (rc < 0)
        return rc;
    return acad_attempt_get(c, a, home, agent_id, id, out, err);
}
