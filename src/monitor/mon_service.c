/*
 * mon_service.c - names and labels, assets, sensors, their detector
 * parameters and the stored points (mon_service.h). Ingest lives in
 * mon_ingest.c, alerts and tickets in mon_alerts.c, CSV in mon_csv.c.
 *
 * Validation happens here, at the domain's edge, so the JSON API, the
 * pages, MQTT and the demo give the same French messages.
 */
#include "monitor/mon_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Names and labels                                                    */
/* ------------------------------------------------------------------ */

static const char *const kind_names[] = {"autre",     "pompe",    "compteur",
                                         "reservoir", "batiment", "chaudiere",
                                         "eclairage"};
static const char *const kind_labels[] = {"Autre",     "Pompe",    "Compteur",
                                          "Réservoir", "Bâtiment", "Chaudière",
                                          "Éclairage"};
static const char *const q_names[] = {"autre",    "debit",   "niveau",
                                      "pression", "courant", "temperature",
                                      "energie"};
static const char *const q_labels[] = {"Autre",    "Débit",   "Niveau",
                                       "Pression", "Courant", "Température",
                                       "Énergie"};
static const char *const alert_names[] = {"ouverte", "acquittee", "resolue"};
static const char *const alert_labels[] = {"Ouverte", "Acquittée", "Résolue"};
static const char *const verdict_names[] = {"", "reelle", "fausse_alerte"};
static const char *const verdict_labels[] = {"Non précisé", "Problème réel",
                                             "Fausse alerte"};
static const char *const ticket_names[] = {"ouvert", "en_cours", "clos"};
static const char *const ticket_labels[] = {"Ouvert", "En cours", "Clos"};

static int
parse_name(const char *const *names, size_t n, const char *s, int *out)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0) {
            *out = (int)i;
            return 0;
        }
    return GU_EINVAL;
}

#define NAME_OF(arr, v) ((unsigned)(v) < GU_ARRAY_LEN(arr) ? arr[v] : arr[0])

const char *
mon_asset_kind_name(enum mon_asset_kind k)
{
    return NAME_OF(kind_names, k);
}

const char *
mon_asset_kind_label(enum mon_asset_kind k)
{
    return NAME_OF(kind_labels, k);
}

int
mon_asset_kind_parse(const char *s, enum mon_asset_kind *out)
{
    int v = 0;

    if (parse_name(kind_names, GU_ARRAY_LEN(kind_names), s, &v) < 0)
        return GU_EINVAL;
    *out = (enum mon_asset_kind)v;
    return 0;
}

const char *
mon_quantity_name(enum mon_quantity q)
{
    return NAME_OF(q_names, q);
}

const char *
mon_quantity_label(enum mon_quantity q)
{
    return NAME_OF(q_labels, q);
}

int
mon_quantity_parse(const char *s, enum mon_quantity *out)
{
    int v = 0;

    if (parse_name(q_names, GU_ARRAY_LEN(q_names), s, &v) < 0)
        return GU_EINVAL;
    *out = (enum mon_quantity)v;
    return 0;
}

const char *
mon_alert_status_name(enum mon_alert_status s)
{
    return NAME_OF(alert_names, s);
}

const char *
mon_alert_status_label(enum mon_alert_status s)
{
    return NAME_OF(alert_labels, s);
}

int
mon_alert_status_parse(const char *s, enum mon_alert_status *out)
{
    int v = 0;

    if (parse_name(alert_names, GU_ARRAY_LEN(alert_names), s, &v) < 0)
        return GU_EINVAL;
    *out = (enum mon_alert_status)v;
    return 0;
}

const char *
mon_alert_verdict_name(enum mon_alert_verdict v)
{
    return NAME_OF(verdict_names, v);
}

const char *
mon_alert_verdict_label(enum mon_alert_verdict v)
{
    return NAME_OF(verdict_labels, v);
}

int
mon_alert_verdict_parse(const char *s, enum mon_alert_verdict *out)
{
    int v = 0;

    if (parse_name(verdict_names, GU_ARRAY_LEN(verdict_names), s, &v) < 0)
        return GU_EINVAL;
    *out = (enum mon_alert_verdict)v;
    return 0;
}

const char *
mon_ticket_status_name(enum mon_ticket_status s)
{
    return NAME_OF(ticket_names, s);
}

const char *
mon_ticket_status_label(enum mon_ticket_status s)
{
    return NAME_OF(ticket_labels, s);
}

int
mon_ticket_status_parse(const char *s, enum mon_ticket_status *out)
{
    int v = 0;

    if (parse_name(ticket_names, GU_ARRAY_LEN(ticket_names), s, &v) < 0)
        return GU_EINVAL;
    *out = (enum mon_ticket_status)v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Shared helpers (mon_priv.h)                                         */
/* ------------------------------------------------------------------ */

int
mon_check_insee(const char *insee, struct gu_err *err)
{
    if (!insee || !store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "insee", "Code de commune invalide.",
                          "bad insee");
    return 0;
}

int
mon_check_text(const char *s, const char *field, const char *label,
               bool required, size_t max, bool multiline, struct gu_err *err)
{
    char msg[200];
    size_t n = s ? strlen(s) : 0;
    struct gu_str t = gu_str_trim(gu_str_c(s));

    if (required && t.n == 0) {
        snprintf(msg, sizeof(msg), "%s est obligatoire.", label);
        return gu_err_set(err, GU_EINVAL, field, msg, "%s empty", field);
    }
    if (n > max) {
        snprintf(msg, sizeof(msg), "%s ne doit pas dépasser %zu caractères.",
                 label, max);
        return gu_err_set(err, GU_EINVAL, field, msg, "%s too long", field);
    }
    if (!gu_utf8_valid(s ? s : "", n))
        goto bad;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 &&
             !(multiline && (ch == '\n' || ch == '\r' || ch == '\t'))) ||
            ch == 0x7F)
            goto bad;
    }
    return 0;
bad:
    snprintf(msg, sizeof(msg), "%s contient des caractères invalides.", label);
    return gu_err_set(err, GU_EINVAL, field, msg, "%s bad chars", field);
}

bool
mon_email_ok(const char *s)
{
    const char *at = strchr(s, '@'), *dot;
    size_t n = strlen(s);

    if (!at || at == s || strchr(at + 1, '@') || n > 254)
        return false;
    dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || dot[1] == '\0')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch == 0x7F || ch == '"' || ch == '<' || ch == '>' ||
            ch == ',' || ch == ';' || ch == '(' || ch == ')' || ch == '\\')
            return false;
    }
    return gu_utf8_valid(s, n);
}

bool
mon_url_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0, skip;

    if (n > MON_URL_MAX)
        return false;
    if (strncmp(s, "https://", 8) == 0)
        skip = 8;
    else if (strncmp(s, "http://", 7) == 0)
        skip = 7;
    else
        return false;
    if (n <= skip || s[skip] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7F || ch == '"' || ch == '<' || ch == '>' ||
            ch == '\\')
            return false;
    }
    return true;
}

bool
mon_code_ok(const char *code)
{
    size_t n = code ? strlen(code) : 0;

    if (n == 0 || n > MON_CODE_MAX || code[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = code[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-'))
            return false;
    }
    return true;
}

int
mon_tx_begin(struct store_conn *c, bool *mine, struct gu_err *err)
{
    *mine = !store_in_tx(c);
    return *mine ? store_begin(c, err) : 0;
}

int
mon_tx_end(struct store_conn *c, bool mine, int rc, struct gu_err *err)
{
    if (!mine)
        return rc;
    if (rc < 0) {
        store_rollback(c);
        return rc;
    }
    rc = store_commit(c, err);
    if (rc < 0)
        store_rollback(c);
    return rc;
}

enum gu_tz
mon_commune_tz(struct store_conn *c, const char *insee)
{
    struct gu_arena *a = gu_arena_new(512);
    struct store_commune m;
    struct gu_err e;
    enum gu_tz tz = GU_TZ_PARIS;

    if (!a)
        return tz;
    gu_err_clear(&e);
    if (store_commune_get(c, a, insee, &m, &e) == 0)
        tz = gu_tz_of_zone(m.zone ? m.zone : "");
    gu_arena_free(a);
    return tz;
}

/* Whether a params JSON names its detectors (then the agent chose). */
static bool
names_detectors(const char *json)
{
    json_t *j;
    bool has;

    if (!json || !*json)
        return false;
    j = json_loads(json, 0, NULL);
    has = json_is_object(j) && json_object_get(j, "detecteurs") != NULL;
    json_decref(j);
    return has;
}

int
mon_params_effective(const char *sensor_json, const char *asset_json,
                     enum mon_quantity q, struct mon_params *out,
                     struct gu_err *err)
{
    const char *json = NULL;
    int rc;

    if (sensor_json && *sensor_json)
        json = sensor_json;
    else if (asset_json && *asset_json)
        json = asset_json;
    if (json) {
        if ((rc = mon_params_parse(json, out, err)) < 0)
            return rc;
    } else {
        mon_params_default(out);
    }
    if (q == MON_Q_DEBIT && !names_detectors(json))
        out->enabled[MON_DET_NIGHT] = true;
    return 0;
}

/* First letter lower-cased when it is ASCII (« Débit » stays). */
static void
lower_first(char *s)
{
    if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
        s[0] = (char)(s[0] - 'A' + 'a');
}

void
mon_explain(enum gu_tz tz, const char *sensor_name, const char *unit, int64_t t,
            double value, double expected, double deviation,
            enum mon_detector det, char *buf, size_t cap)
{
    char v[64], e[64], d[64], hm[16], day[16], label[96];
    const char *u = unit && *unit ? unit : "";
    const char *sp = *u ? " " : "";
    int64_t dn;
    int minute, y, mo, dd;

    gu_tz_from_utc(tz, t, &dn, &minute);
    gu_day_to_ymd(dn, &y, &mo, &dd);
    snprintf(day, sizeof(day), "%02d/%02d/%04d", dd, mo, y);
    snprintf(hm, sizeof(hm), "%02d h %02d", minute / 60, minute % 60);
    gu_num_fr(value, 2, GU_NUM_TRIM, "?", v, sizeof(v));
    gu_num_fr(expected, 2, GU_NUM_TRIM, "?", e, sizeof(e));
    gu_num_fr(fabs(deviation), 1, GU_NUM_TRIM, "?", d, sizeof(d));
    snprintf(label, sizeof(label), "%s", mon_detector_label(det));
    lower_first(label);
    snprintf(buf, cap,
             "%s : %s%s%s le %s à %s, attendu %s%s%s (%s, %s écart%s)",
             sensor_name ? sensor_name : "", v, sp, u, day, hm, e, sp, u, label,
             d, fabs(deviation) >= 2 ? "s" : "");
}

/* ------------------------------------------------------------------ */
/* Assets                                                              */
/* ------------------------------------------------------------------ */

static int
asset_missing(struct gu_err *err, int64_t id)
{
    return gu_err_set(err, GU_ENOTFOUND, "asset_id",
                      "Cet équipement n'existe pas.", "no asset %lld",
                      (long long)id);
}

static int
check_params(const char *json, struct gu_err *err)
{
    struct mon_params p;

    if (!json || !*json)
        return 0;
    if (strlen(json) > 4000)
        return gu_err_set(err, GU_EINVAL, "params",
                          "Les paramètres de détection sont trop longs.",
                          "params too long");
    return mon_params_parse(json, &p, err);
}

static int
check_asset(const struct mon_asset *a, struct gu_err *err)
{
    int rc;

    if ((rc = mon_check_insee(a->insee, err)) < 0)
        return rc;
    if ((rc = mon_check_text(a->name, "name", "Le nom", true, MON_NAME_MAX,
                             false, err)) < 0 ||
        (rc = mon_check_text(a->site, "site", "Le site", false, MON_NAME_MAX,
                             false, err)) < 0 ||
        (rc = mon_check_text(a->notes, "notes", "Les notes", false,
                             MON_TEXT_MAX, true, err)) < 0)
        return rc;
    if ((unsigned)a->kind >= GU_ARRAY_LEN(kind_names))
        return gu_err_set(err, GU_EINVAL, "kind",
                          "Type d'équipement inconnu (pompe, compteur, "
                          "reservoir, batiment, chaudiere, eclairage, autre).",
                          "bad kind");
    if (a->alert_to && *a->alert_to && !mon_email_ok(a->alert_to))
        return gu_err_set(err, GU_EINVAL, "alert_to",
                          "Adresse e-mail des alertes invalide (ex. "
                          "astreinte@mairie.fr, ou vide).",
                          "bad alert_to");
    if (a->webhook_url && *a->webhook_url && !mon_url_ok(a->webhook_url))
        return gu_err_set(err, GU_EINVAL, "webhook_url",
                          "L'adresse du webhook doit commencer par http:// "
                          "ou https:// et ne contenir ni espace ni guillemet.",
                          "bad webhook_url");
    return check_params(a->params, err);
}

static const char *
nz(const char *s)
{
    return s ? s : "";
}

int
mon_asset_save(struct store_conn *c, const struct mon_asset *a, int64_t *id_out,
               struct gu_err *err)
{
    struct gu_arena *ar = NULL;
    struct store_rows *r = NULL;
    int rc;

    if ((rc = check_asset(a, err)) < 0)
        return rc;
    if (!(ar = gu_arena_new(512)))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if (a->id == 0) {
        struct store_val cp[1] = {STORE_T(a->insee)};
        rc = store_query(c, ar,
                         "SELECT COUNT(*) FROM mon_assets WHERE insee = ?", cp,
                         1, &r, err);
        if (rc == 0 && store_int(r, 0, 0) >= MON_ASSETS_MAX)
            rc = gu_err_set(err, GU_ETOOBIG, NULL,
                            "Nombre maximal d'équipements atteint (5 000).",
                            "too many assets");
        if (rc == 0) {
            struct store_val p[] = {STORE_T(a->insee),
                                    STORE_T(a->name),
                                    STORE_T(mon_asset_kind_name(a->kind)),
                                    STORE_T(nz(a->site)),
                                    STORE_T(nz(a->notes)),
                                    STORE_T(nz(a->params)),
                                    STORE_T(nz(a->alert_to)),
                                    STORE_T(nz(a->webhook_url)),
                                    STORE_I(gu_now())};
            rc = store_query(c, ar,
                             "INSERT INTO mon_assets (insee, name, kind, site,"
                             " notes, params, alert_to, webhook_url,"
                             " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                             " RETURNING id",
                             p, GU_ARRAY_LEN(p), &r, err);
            if (rc == 0 && id_out)
                *id_out = store_int(r, 0, 0);
        }
    } else {
        struct store_val p[] = {STORE_T(a->name),
                                STORE_T(mon_asset_kind_name(a->kind)),
                                STORE_T(nz(a->site)),
                                STORE_T(nz(a->notes)),
                                STORE_T(nz(a->params)),
                                STORE_T(nz(a->alert_to)),
                                STORE_T(nz(a->webhook_url)),
                                STORE_I(a->id),
                                STORE_T(a->insee)};
        int64_t changes = 0;
        rc = store_exec_changes(c,
                                "UPDATE mon_assets SET name = ?, kind = ?,"
                                " site = ?, notes = ?, params = ?,"
                                " alert_to = ?, webhook_url = ?"
                                " WHERE id = ? AND insee = ?",
                                p, GU_ARRAY_LEN(p), &changes, err);
        if (rc == 0 && changes == 0)
            rc = asset_missing(err, a->id);
        if (rc == 0 && id_out)
            *id_out = a->id;
    }
    gu_arena_free(ar);
    return rc;
}

#define ASSET_COLS                                                             \
    "a.id, a.insee, a.name, a.kind, a.site, a.notes, a.params, a.alert_to, "   \
    "a.webhook_url, a.created_at, "                                            \
    "(SELECT COUNT(*) FROM mon_sensors s WHERE s.asset_id = a.id), "           \
    "(SELECT COUNT(*) FROM mon_alerts l WHERE l.asset_id = a.id AND "          \
    "l.status <> 'resolue'), "                                                 \
    "(SELECT COUNT(*) FROM mon_tickets k WHERE k.asset_id = a.id AND "         \
    "k.status <> 'clos')"

static void
asset_row(const struct store_rows *r, size_t i, struct mon_asset *a)
{
    memset(a, 0, sizeof(*a));
    a->id = store_int(r, i, 0);
    snprintf(a->insee, sizeof(a->insee), "%s", nz(store_text(r, i, 1)));
    a->name = nz(store_text(r, i, 2));
    if (mon_asset_kind_parse(store_text(r, i, 3), &a->kind) < 0)
        a->kind = MON_ASSET_AUTRE;
    a->site = nz(store_text(r, i, 4));
    a->notes = nz(store_text(r, i, 5));
    a->params = nz(store_text(r, i, 6));
    a->alert_to = nz(store_text(r, i, 7));
    a->webhook_url = nz(store_text(r, i, 8));
    a->created_at = store_int(r, i, 9);
    a->nsensors = (int)store_int(r, i, 10);
    a->open_alerts = (int)store_int(r, i, 11);
    a->open_tickets = (int)store_int(r, i, 12);
}

int
mon_asset_get(struct store_conn *c, struct gu_arena *a, const char *insee,
              int64_t id, struct mon_asset *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT " ASSET_COLS
                     " FROM mon_assets a WHERE a.id = ? AND a.insee = ?",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return asset_missing(err, id);
    asset_row(r, 0, out);
    return 0;
}

int
mon_asset_list(struct store_conn *c, struct gu_arena *a, const char *insee,
               struct mon_asset **out, size_t *n, struct gu_err *err)
{
    struct store_val p[1] = {STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    rc = store_query(c, a,
                     "SELECT " ASSET_COLS " FROM mon_assets a WHERE a.insee = ?"
                     " ORDER BY a.name, a.id",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return 0;
    if (!(*out = gu_arena_zalloc(a, r->nrows * sizeof(**out))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        asset_row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

/* Rows hanging off sensors chosen by `where` (one ? bound to `key`). */
static int
delete_sensor_rows(struct store_conn *c, const char *insee, const char *where,
                   int64_t key, struct gu_err *err)
{
    static const char *const tables[] = {"mon_points", "mon_alerts"};
    char sql[256];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < GU_ARRAY_LEN(tables); i++) {
        struct store_val p[2] = {STORE_T(insee), STORE_I(key)};
        snprintf(sql, sizeof(sql),
                 "DELETE FROM %s WHERE insee = ? AND sensor_id IN (SELECT id"
                 " FROM mon_sensors WHERE %s)",
                 tables[i], where);
        rc = store_exec(c, sql, p, 2, err);
    }
    return rc;
}

int
mon_asset_delete(struct store_conn *c, const char *insee, int64_t id,
                 struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_I(id)};
    int64_t changes = 0;
    bool mine = false;
    int rc;

    if ((rc = mon_tx_begin(c, &mine, err)) < 0)
        return rc;
    rc = delete_sensor_rows(c, insee, "asset_id = ?", id, err);
    if (rc == 0)
        rc = store_exec(
            c, "DELETE FROM mon_alerts WHERE insee = ? AND asset_id = ?", p, 2,
            err);
    if (rc == 0)
        rc = store_exec(c,
                        "DELETE FROM mon_tickets WHERE insee = ? AND"
                        " asset_id = ?",
                        p, 2, err);
    if (rc == 0)
        rc = store_exec(c,
                        "DELETE FROM mon_sensors WHERE insee = ? AND"
                        " asset_id = ?",
                        p, 2, err);
    if (rc == 0)
        rc = store_exec_changes(c,
                                "DELETE FROM mon_assets WHERE insee = ? AND"
                                " id = ?",
                                p, 2, &changes, err);
    if (rc == 0 && changes == 0)
        rc = asset_missing(err, id);
    return mon_tx_end(c, mine, rc, err);
}

/* ------------------------------------------------------------------ */
/* Sensors                                                             */
/* ------------------------------------------------------------------ */

static int
sensor_missing(struct gu_err *err, int64_t id)
{
    return gu_err_set(err, GU_ENOTFOUND, "sensor_id",
                      "Ce capteur n'existe pas.", "no sensor %lld",
                      (long long)id);
}

/*
 * An MQTT topic of our own: no wildcard, no control character, not a
 * broker's reserved $ topic.
 */
static bool
topic_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > MON_NAME_MAX || !gu_utf8_valid(s, n) || s[0] == '$')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7F || ch == '+' || ch == '#')
            return false;
    }
    return true;
}

static int
check_sensor(const struct mon_sensor *s, struct gu_err *err)
{
    int rc;

    if ((rc = mon_check_insee(s->insee, err)) < 0)
        return rc;
    if (!mon_code_ok(s->code))
        return gu_err_set(err, GU_EINVAL, "code",
                          "Le code du capteur s'écrit en minuscules, chiffres "
                          "et tirets (64 caractères au plus), ex. "
                          "« debit-sortant ».",
                          "bad code");
    if ((rc = mon_check_text(s->name, "name", "Le nom", true, MON_NAME_MAX,
                             false, err)) < 0 ||
        (rc = mon_check_text(s->unit, "unit", "L'unité", false, 32, false,
                             err)) < 0)
        return rc;
    if ((unsigned)s->quantity >= GU_ARRAY_LEN(q_names))
        return gu_err_set(err, GU_EINVAL, "quantity",
                          "Grandeur inconnue (debit, niveau, pression, "
                          "courant, temperature, energie, autre).",
                          "bad quantity");
    if (s->topic && *s->topic && !topic_ok(s->topic))
        return gu_err_set(err, GU_EINVAL, "topic",
                          "Le sujet MQTT ne doit contenir ni « + » ni « # » "
                          "ni caractère de contrôle, ni commencer par « $ » "
                          "(200 caractères au plus).",
                          "bad topic");
    /* guichet/{insee}/... belongs to that commune: the subscription would
       ignore another commune's, so say it now. */
    if (s->topic && strncmp(s->topic, "guichet/", 8) == 0 &&
        (strncmp(s->topic + 8, s->insee, 5) != 0 ||
         (s->topic[13] != '/' && s->topic[13] != '\0')))
        return gu_err_set(err, GU_EINVAL, "topic",
                          "Un sujet qui commence par « guichet/ » doit "
                          "continuer par le code INSEE de la commune.",
                          "topic of another commune");
    if (s->rate_per_min < 0 || s->rate_per_min > 6000)
        return gu_err_set(err, GU_EINVAL, "rate_per_min",
                          "Le débit maximal doit être compris entre 1 et "
                          "6 000 mesures par minute.",
                          "bad rate");
    return check_params(s->params, err);
}

int
mon_sensor_save(struct store_conn *c, const struct mon_sensor *s,
                int64_t *id_out, struct gu_err *err)
{
    struct gu_arena *ar = NULL;
    struct store_rows *r = NULL;
    int rate = s->rate_per_min ? s->rate_per_min : MON_RATE_DEFAULT;
    int rc;

    if ((rc = check_sensor(s, err)) < 0)
        return rc;
    if (!(ar = gu_arena_new(512)))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    {
        struct store_val p[2] = {STORE_I(s->asset_id), STORE_T(s->insee)};
        rc = store_query(c, ar,
                         "SELECT (SELECT COUNT(*) FROM mon_assets WHERE id = ?"
                         " AND insee = ?), (SELECT COUNT(*) FROM mon_sensors"
                         " WHERE insee = ?)",
                         (struct store_val[]){p[0], p[1], p[1]}, 3, &r, err);
    }
    if (rc == 0 && store_int(r, 0, 0) == 0)
        rc = asset_missing(err, s->asset_id);
    if (rc == 0 && s->id == 0 && store_int(r, 0, 1) >= MON_SENSORS_MAX)
        rc = gu_err_set(err, GU_ETOOBIG, NULL,
                        "Nombre maximal de capteurs atteint (20 000).",
                        "too many sensors");
    if (rc < 0)
        goto out;
    if (s->id == 0) {
        struct store_val p[] = {
            STORE_T(s->insee),     STORE_I(s->asset_id),
            STORE_T(s->code),      STORE_T(s->name),
            STORE_T(nz(s->unit)),  STORE_T(mon_quantity_name(s->quantity)),
            STORE_T(nz(s->topic)), STORE_T(nz(s->params)),
            STORE_I(rate),         STORE_I(s->active ? 1 : 0),
            STORE_I(gu_now())};
        rc = store_query(c, ar,
                         "INSERT INTO mon_sensors (insee, asset_id, code, name,"
                         " unit, quantity, topic, params, rate_per_min, active,"
                         " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                         " RETURNING id",
                         p, GU_ARRAY_LEN(p), &r, err);
        if (rc == 0 && id_out)
            *id_out = store_int(r, 0, 0);
    } else {
        struct store_val p[] = {STORE_I(s->asset_id),
                                STORE_T(s->code),
                                STORE_T(s->name),
                                STORE_T(nz(s->unit)),
                                STORE_T(mon_quantity_name(s->quantity)),
                                STORE_T(nz(s->topic)),
                                STORE_T(nz(s->params)),
                                STORE_I(rate),
                                STORE_I(s->active ? 1 : 0),
                                STORE_I(s->id),
                                STORE_T(s->insee)};
        int64_t changes = 0;
        rc = store_exec_changes(c,
                                "UPDATE mon_sensors SET asset_id = ?, code = ?,"
                                " name = ?, unit = ?, quantity = ?, topic = ?,"
                                " params = ?, rate_per_min = ?, active = ?"
                                " WHERE id = ? AND insee = ?",
                                p, GU_ARRAY_LEN(p), &changes, err);
        if (rc == 0 && changes == 0)
            rc = sensor_missing(err, s->id);
        if (rc == 0 && id_out)
            *id_out = s->id;
    }
    if (rc == GU_ECONFLICT)
        rc = gu_err_set(err, GU_ECONFLICT, "code",
                        "Ce code de capteur est déjà utilisé dans la commune.",
                        "sensor code taken");
out:
    gu_arena_free(ar);
    return rc;
}

#define SENSOR_COLS                                                            \
    "s.id, s.insee, s.asset_id, s.code, s.name, s.unit, s.quantity, s.topic, " \
    "s.params, s.rate_per_min, s.active, s.created_at, s.last_t, "             \
    "s.last_value, s.npoints"

static void
sensor_row(const struct store_rows *r, size_t i, struct mon_sensor *s)
{
    const struct store_val *lv;

    memset(s, 0, sizeof(*s));
    s->id = store_int(r, i, 0);
    snprintf(s->insee, sizeof(s->insee), "%s", nz(store_text(r, i, 1)));
    s->asset_id = store_int(r, i, 2);
    s->code = nz(store_text(r, i, 3));
    s->name = nz(store_text(r, i, 4));
    s->unit = nz(store_text(r, i, 5));
    if (mon_quantity_parse(store_text(r, i, 6), &s->quantity) < 0)
        s->quantity = MON_Q_AUTRE;
    s->topic = nz(store_text(r, i, 7));
    s->params = nz(store_text(r, i, 8));
    s->rate_per_min = (int)store_int(r, i, 9);
    s->active = store_int(r, i, 10) != 0;
    s->created_at = store_int(r, i, 11);
    s->last_t = store_int(r, i, 12);
    lv = store_cell(r, i, 13);
    s->last_value = lv && lv->type != STORE_NULL ? store_real(r, i, 13) : NAN;
    s->npoints = store_int(r, i, 14);
}

static int
sensor_one(struct store_conn *c, struct gu_arena *a, const char *sql,
           struct store_val *p, struct mon_sensor *out, int64_t id,
           struct gu_err *err)
{
    struct store_rows *r = NULL;
    int rc = store_query(c, a, sql, p, 2, &r, err);

    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return sensor_missing(err, id);
    sensor_row(r, 0, out);
    return 0;
}

int
mon_sensor_get(struct store_conn *c, struct gu_arena *a, const char *insee,
               int64_t id, struct mon_sensor *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};

    return sensor_one(c, a,
                      "SELECT " SENSOR_COLS
                      " FROM mon_sensors s WHERE s.id = ? AND s.insee = ?",
                      p, out, id, err);
}

int
mon_sensor_by_code(struct store_conn *c, struct gu_arena *a, const char *insee,
                   const char *code, struct mon_sensor *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(code ? code : ""), STORE_T(insee)};

    return sensor_one(c, a,
                      "SELECT " SENSOR_COLS
                      " FROM mon_sensors s WHERE s.code = ? AND s.insee = ?",
                      p, out, 0, err);
}

int
mon_sensor_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                int64_t asset_id, struct mon_sensor **out, size_t *n,
                struct gu_err *err)
{
    struct store_val p[3] = {STORE_T(insee), STORE_I(asset_id),
                             STORE_I(asset_id)};
    struct store_rows *r = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    rc = store_query(c, a,
                     "SELECT " SENSOR_COLS " FROM mon_sensors s WHERE"
                     " s.insee = ? AND (? = 0 OR s.asset_id = ?)"
                     " ORDER BY s.name, s.id",
                     p, 3, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    if (!(*out = gu_arena_zalloc(a, r->nrows * sizeof(**out))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        sensor_row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

int
mon_sensor_delete(struct store_conn *c, const char *insee, int64_t id,
                  struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_I(id)};
    int64_t changes = 0;
    bool mine = false;
    int rc;

    if ((rc = mon_tx_begin(c, &mine, err)) < 0)
        return rc;
    rc = delete_sensor_rows(c, insee, "id = ?", id, err);
    if (rc == 0)
        rc = store_exec_changes(c,
                                "DELETE FROM mon_sensors WHERE insee = ? AND"
                                " id = ?",
                                p, 2, &changes, err);
    if (rc == 0 && changes == 0)
        rc = sensor_missing(err, id);
    return mon_tx_end(c, mine, rc, err);
}

int
mon_sensor_params(struct store_conn *c, const char *insee, int64_t id,
                  struct mon_params *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    struct gu_arena *a = gu_arena_new(1024);
    struct store_rows *r = NULL;
    enum mon_quantity q = MON_Q_AUTRE;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_query(c, a,
                     "SELECT s.params, a.params, s.quantity FROM mon_sensors s"
                     " JOIN mon_assets a ON a.id = s.asset_id WHERE s.id = ?"
                     " AND s.insee = ?",
                     p, 2, &r, err);
    if (rc == 0 && r->nrows == 0)
        rc = sensor_missing(err, id);
    if (rc == 0) {
        if (mon_quantity_parse(store_text(r, 0, 2), &q) < 0)
            q = MON_Q_AUTRE;
        rc = mon_params_effective(store_text(r, 0, 0), store_text(r, 0, 1), q,
                                  out, err);
    }
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Points                                                              */
/* ------------------------------------------------------------------ */

int
mon_points_range(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t sensor_id, int64_t t0, int64_t t1,
                 struct mon_point **out, size_t *n, struct gu_err *err)
{
    struct store_val p[4] = {STORE_I(sensor_id), STORE_T(insee), STORE_I(t0),
                             STORE_I(t1)};
    struct store_rows *r = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    {
        struct store_val q[2] = {STORE_I(sensor_id), STORE_T(insee)};
        rc = store_query(c, a,
                         "SELECT COUNT(*) FROM mon_sensors WHERE id = ? AND"
                         " insee = ?",
                         q, 2, &r, err);
        if (rc < 0)
            return rc;
        if (store_int(r, 0, 0) == 0)
            return sensor_missing(err, sensor_id);
    }
    rc =
        store_query(c, a,
                    "SELECT t, value, score FROM mon_points WHERE sensor_id = ?"
                    " AND insee = ? AND t >= ? AND t <= ? ORDER BY t LIMIT "
                    "100001",
                    p, 4, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows > MON_RANGE_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL,
                          "Trop de mesures dans cette période (100 000 au "
                          "plus) : réduisez-la.",
                          "range too big");
    if (r->nrows == 0)
        return 0;
    if (!(*out = gu_arena_alloc(a, r->nrows * sizeof(**out))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++) {
        const struct store_val *sc = store_cell(r, i, 2);
        (*out)[i].t = store_int(r, i, 0);
        (*out)[i].value = store_real(r, i, 1);
        (*out)[i].score =
            sc && sc->type != STORE_NULL ? store_real(r, i, 2) : NAN;
    }
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Public base of links                                                */
/* ------------------------------------------------------------------ */

struct base_ext {
    char base[512];
};

static void *
base_make(struct store *s)
{
    (void)s;
    return gu_calloc(1, sizeof(struct base_ext));
}

void
mon_public_base_set(struct store *s, const char *base)
{
    struct base_ext *b = store_ext(s, "mon.base", base_make, gu_free);

    if (b)
        snprintf(b->base, sizeof(b->base), "%s", base ? base : "");
}

const char *
mon_public_base(struct store *s)
{
    struct base_ext *b = store_ext(s, "mon.base", base_make, gu_free);

    return b ? b->base : "";
}
