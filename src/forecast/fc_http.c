/*
 * fc_http.c - the forecast domain's JSON API, /api/v1/forecast/...
 * (contract in docs/forecast-api.md, kept in sync with
 * /api/v1/openapi.json through the schemas of the route table below).
 *
 * Agents of the active commune only (session or API token): reads need
 * the role lecteur, writes the role agent, deleting a series admin.
 * Handlers turn JSON (or a text/csv body for points) into fc_store.h
 * calls and results into JSON; the rules are in fc_store.c and fc_csv.c.
 * Errors map as web/ does: GU_EINVAL with a field is a 422 with `champ`,
 * GU_ENOTFOUND a 404 (another commune's series is simply not found),
 * GU_ECONFLICT a 409, GU_ETOOBIG a 413.
 *
 * Times: daily series speak in dates ("2016-09-01"); hourly and
 * 15-minute ones in RFC 3339 instants with the commune's offset, and
 * accept "2016-12-01T08:00" in the commune's civil time.
 */
#include "forecast/fc_service.h"
#include "web/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BODY_JSON_MAX (8u << 20) /* the server's max_body bounds it first */

struct where {
    struct store_commune m;
    enum gu_tz tz;
};

static int
agent_where(struct http_req *req, struct where *w)
{
    int rc = http_need_commune(req);

    if (rc < 0)
        return rc;
    rc = store_commune_get(req->conn, req->arena, req->who.insee, &w->m,
                           &req->err);
    if (rc < 0)
        return rc;
    w->tz = gu_tz_of_zone(w->m.zone ? w->m.zone : "");
    return 0;
}

static json_t *
time_json(int64_t t, enum fc_freq f, enum gu_tz tz)
{
    char buf[48];

    fc_time_format(t, f, tz, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *
num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *
series_json(const struct fc_series *s, enum gu_tz tz)
{
    json_t *j = json_object();

    if (!j)
        return NULL;
    json_object_set_new(j, "id", json_integer(s->id));
    json_object_set_new(j, "code", json_string(s->code));
    json_object_set_new(j, "name", json_string(s->name));
    json_object_set_new(j, "unit", json_string(s->unit));
    json_object_set_new(j, "freq", json_string(fc_freq_name(s->freq)));
    json_object_set_new(j, "kind", json_string(fc_kind_name(s->kind)));
    json_object_set_new(j, "site", json_string(s->site));
    json_object_set_new(j, "closed_weekdays",
                        json_string(s->closed_weekdays));
    json_object_set_new(j, "meal_cost", json_real(s->meal_cost));
    json_object_set_new(j, "meal_kg", json_real(s->meal_kg));
    json_object_set_new(j, "risk", json_real(s->risk));
    json_object_set_new(j, "alert_to", json_string(s->alert_to));
    json_object_set_new(j, "active", json_boolean(s->active));
    json_object_set_new(j, "created_at", gu_json_time(s->created_at));
    json_object_set_new(j, "points", json_integer(s->npoints));
    json_object_set_new(j, "first", s->npoints
                                        ? time_json(s->first_t, s->freq, tz)
                                        : json_null());
    json_object_set_new(j, "last", s->npoints
                                       ? time_json(s->last_t, s->freq, tz)
                                       : json_null());
    return j;
}

static json_t *
event_json(const struct fc_event *e)
{
    json_t *j = json_object();
    char day[16];

    if (!j)
        return NULL;
    gu_day_iso(e->day, day, sizeof(day));
    json_object_set_new(j, "id", json_integer(e->id));
    json_object_set_new(j, "series_id", e->series_id
                                            ? json_integer(e->series_id)
                                            : json_null());
    json_object_set_new(j, "day", json_string(day));
    json_object_set_new(j, "kind", json_string(fc_event_kind_name(e->kind)));
    json_object_set_new(j, "label", json_string(e->label));
    json_object_set_new(j, "created_at", gu_json_time(e->created_at));
    return j;
}

static int
list_reply(struct http_resp *resp, const char *key, json_t *arr)
{
    json_t *o = json_object();

    if (!o || !arr) {
        json_decref(o);
        json_decref(arr);
        return GU_ENOMEM;
    }
    json_object_set_new(o, key, arr);
    return http_json(resp, 200, o);
}

/* A number member in [lo, hi], or untouched when absent/null. */
static int
json_num(struct http_req *req, json_t *b, const char *key, double lo,
         double hi, const char *msg, double *out)
{
    json_t *v = json_object_get(b, key);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v) || !(json_number_value(v) >= lo) ||
        !(json_number_value(v) <= hi))
        return gu_err_set(&req->err, GU_EINVAL, key, msg, "bad %s", key);
    *out = json_number_value(v);
    return 0;
}

/* A risk member: a number (0.05) or a string as cooks write it (« 1 sur
   20 », « 5 % »); untouched when absent/null. */
static int
json_risk(struct http_req *req, json_t *b, const char *key, double *out)
{
    json_t *v = json_object_get(b, key);
    double r = NAN;

    if (!v || json_is_null(v))
        return 0;
    if (json_is_number(v))
        r = json_number_value(v);
    else if (!json_is_string(v) || json_string_length(v) > 40 ||
             fcst_risk_parse(json_string_value(v), &r) < 0)
        r = NAN;
    if (!(r >= FCST_RISK_MIN && r <= FCST_RISK_MAX))
        return gu_err_set(&req->err, GU_EINVAL, key,
                          "Le risque de manque doit être entre 0,5 % et "
                          "50 % (ex. « 1 sur 20 », « 5 % » ou 0.05).",
                          "bad %s", key);
    *out = r;
    return 0;
}

static void scan_after_points(struct http_req *req,
                              const struct fc_series *s);

/* A series of the active commune by the {id} of the path. */
static int
path_series(struct http_req *req, struct fc_series *s)
{
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    return fc_series_get(req->conn, req->arena, req->who.insee, id, s,
                         &req->err);
}

/* ?from= and ?to= for a series (default: everything). */
static int
query_range(struct http_req *req, const struct fc_series *s, enum gu_tz tz,
            int64_t *t0, int64_t *t1)
{
    const char *from = http_query(req, "from"), *to = http_query(req, "to");
    int rc;

    *t0 = INT64_MIN / 2;
    *t1 = INT64_MAX / 2;
    if (from && *from &&
        (rc = fc_time_parse(from, s->freq, tz, "from", t0, &req->err)) < 0)
        return rc;
    if (to && *to &&
        (rc = fc_time_parse(to, s->freq, tz, "to", t1, &req->err)) < 0)
        return rc;
    if (*t1 < *t0)
        return gu_err_set(&req->err, GU_EINVAL, "to",
                          "La fin de la période précède son début.",
                          "to < from");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Series                                                              */
/* ------------------------------------------------------------------ */

static int
get_series_list(struct http_req *req, struct http_resp *resp)
{
    struct fc_series *v = NULL;
    struct where w;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 ||
        (rc = fc_series_list(req->conn, req->arena, w.m.insee, &v, &n,
                             &req->err)) < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, series_json(&v[i], w.tz));
    return list_reply(resp, "series", arr);
}

static int
get_series(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    struct where w;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 || (rc = path_series(req, &s)) < 0)
        return rc;
    return http_json(resp, 200, series_json(&s, w.tz));
}

/* Members of a series body over *s (absent members keep their value). */
static int
read_series(struct http_req *req, json_t *b, struct fc_series *s)
{
    const char *freq = NULL, *kind = NULL;
    int rc;

    if ((rc = gu_json_str(b, "code", s->id == 0, FC_CODE_MAX, &s->code,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "name", s->id == 0, FC_NAME_MAX, &s->name,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "unit", false, FC_NAME_MAX, &s->unit,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "site", false, FC_NAME_MAX, &s->site,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "closed_weekdays", false, 20,
                          &s->closed_weekdays, &req->err)) < 0 ||
        (rc = gu_json_str(b, "freq", false, 10, &freq, &req->err)) < 0 ||
        (rc = gu_json_str(b, "kind", false, 20, &kind, &req->err)) < 0 ||
        (rc = gu_json_bool(b, "active", false, &s->active, &req->err)) < 0 ||
        (rc = json_num(req, b, "meal_cost", 0, 1000,
                       "Le coût d'un repas doit être entre 0 et 1000 €.",
                       &s->meal_cost)) < 0 ||
        (rc = json_num(req, b, "meal_kg", 0, 100,
                       "Le poids d'un repas doit être entre 0 et 100 kg.",
                       &s->meal_kg)) < 0)
        return rc;
    if ((rc = gu_json_str(b, "alert_to", false, 254, &s->alert_to,
                          &req->err)) < 0 ||
        (rc = json_risk(req, b, "risk", &s->risk)) < 0)
        return rc;
    if (freq && fc_freq_parse(freq, &s->freq) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "freq",
                          "La fréquence doit être jour, heure ou 15min.",
                          "bad freq");
    if (kind && fc_kind_parse(kind, &s->kind) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "kind",
                          "Le type doit être cantine, eau, accueil, "
                          "telephone ou autre.",
                          "bad kind");
    return 0;
}

static int
save_series(struct http_req *req, struct http_resp *resp, bool create)
{
    struct fc_series s;
    struct where w;
    json_t *b = NULL;
    int64_t id = 0;
    int rc;

    if ((rc = agent_where(req, &w)) < 0)
        return rc;
    if (create) {
        memset(&s, 0, sizeof(s));
        snprintf(s.insee, sizeof(s.insee), "%s", w.m.insee);
        s.unit = s.site = s.closed_weekdays = "";
        s.active = true;
    } else if ((rc = path_series(req, &s)) < 0) {
        return rc;
    }
    if ((rc = http_body_json(req, &b)) < 0 || (rc = read_series(req, b, &s)) < 0 ||
        (rc = fc_series_save(req->conn, &s, &id, &req->err)) < 0)
        return rc;
    http_audit(req, create ? "forecast.series_create" : "forecast.series_update",
               s.code, "id=%lld", (long long)id);
    if ((rc = fc_series_get(req->conn, req->arena, w.m.insee, id, &s,
                            &req->err)) < 0)
        return rc;
    return http_json(resp, create ? 201 : 200, series_json(&s, w.tz));
}

static int
post_series(struct http_req *req, struct http_resp *resp)
{
    return save_series(req, resp, true);
}

static int
put_series(struct http_req *req, struct http_resp *resp)
{
    return save_series(req, resp, false);
}

static int
delete_series(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    int rc;

    if ((rc = path_series(req, &s)) < 0 ||
        (rc = fc_series_delete(req->conn, req->who.insee, s.id, &req->err)) <
            0)
        return rc;
    http_audit(req, "forecast.series_delete", s.code, "points=%lld",
               (long long)s.npoints);
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* Points                                                              */
/* ------------------------------------------------------------------ */

static int
get_points(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    struct fc_point *p = NULL;
    struct where w;
    int64_t t0, t1;
    size_t n = 0;
    json_t *o, *arr;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 || (rc = path_series(req, &s)) < 0 ||
        (rc = query_range(req, &s, w.tz, &t0, &t1)) < 0 ||
        (rc = fc_points_range(req->conn, req->arena, w.m.insee, s.id, t0, t1,
                              &p, &n, &req->err)) < 0)
        return rc;
    o = json_object();
    arr = json_array();
    if (!o || !arr) {
        json_decref(o);
        json_decref(arr);
        return GU_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_object();
        if (!j)
            break;
        json_object_set_new(j, s.freq == FC_FREQ_DAY ? "date" : "t",
                            time_json(p[i].t, s.freq, w.tz));
        json_object_set_new(j, "value", json_real(p[i].value));
        json_object_set_new(j, "staff", num_or_null(p[i].staff));
        json_array_append_new(arr, j);
    }
    json_object_set_new(o, "series_id", json_integer(s.id));
    json_object_set_new(o, "freq", json_string(fc_freq_name(s.freq)));
    json_object_set_new(o, "unit", json_string(s.unit));
    json_object_set_new(o, "count", json_integer((json_int_t)n));
    json_object_set_new(o, "points", arr);
    return http_json(resp, 200, o);
}

/* One JSON point: {"date"|"t": ..., "value": n, "staff": n|null}. */
static int
read_point(struct http_req *req, json_t *j, size_t i,
           const struct fc_series *s, enum gu_tz tz, struct fc_point *p)
{
    char field[40];
    json_t *t, *v, *st;

    snprintf(field, sizeof(field), "points[%zu]", i);
    if (!json_is_object(j))
        return gu_err_set(&req->err, GU_EINVAL, field,
                          "Chaque point est un objet {\"date\", \"value\"}.",
                          "point not an object");
    t = json_object_get(j, "date");
    if (!t)
        t = json_object_get(j, "t");
    v = json_object_get(j, "value");
    st = json_object_get(j, "staff");
    if (!json_is_string(t))
        return gu_err_set(&req->err, GU_EINVAL, field,
                          "Date du point manquante (« date » ou « t »).",
                          "point without date");
    if (fc_time_parse(json_string_value(t), s->freq, tz, field, &p->t,
                      &req->err) < 0)
        return GU_EINVAL;
    if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
        fabs(json_number_value(v)) > FC_VALUE_MAX)
        return gu_err_set(&req->err, GU_EINVAL, field,
                          "Valeur du point manquante ou invalide (un nombre "
                          "est attendu).",
                          "bad point value");
    p->value = json_number_value(v);
    p->staff = NAN;
    if (st && !json_is_null(st)) {
        if (!json_is_number(st) || fabs(json_number_value(st)) > FC_VALUE_MAX)
            return gu_err_set(&req->err, GU_EINVAL, field,
                              "Prévision invalide (un nombre ou null).",
                              "bad staff");
        p->staff = json_number_value(st);
    }
    return 0;
}

static bool
is_csv(const char *ctype)
{
    return ctype && (strncasecmp(ctype, "text/csv", 8) == 0 ||
                     strncasecmp(ctype, "text/plain", 10) == 0);
}

/*
 * POST points: a JSON array of points, an object {"points": [...]}, or a
 * CSV (Content-Type text/csv) with the import's rules (one site at most).
 * All or nothing; re-sending a date replaces its value.
 */
static int
post_points(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    struct fc_point *pts = NULL;
    struct where w;
    size_t n = 0, body_n = 0;
    const char *body;
    bool own_tx = !store_in_tx(req->conn);
    json_t *o;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 || (rc = path_series(req, &s)) < 0)
        return rc;
    body = http_body(req, &body_n);
    if (is_csv(http_header(req, "Content-Type"))) {
        struct fc_csv csv;
        if ((rc = fc_csv_parse(body ? body : "", body_n, s.freq, w.tz,
                               req->arena, &csv, &req->err)) < 0)
            return rc;
        for (size_t i = 1; i < csv.n; i++)
            if (strcmp(csv.rows[i].site, csv.rows[0].site) != 0)
                return gu_err_set(&req->err, GU_EINVAL, "fichier",
                                  "Le fichier contient plusieurs sites : "
                                  "envoyez les données de chaque site à sa "
                                  "série.",
                                  "several sites");
        pts = gu_arena_alloc(req->arena, csv.n * sizeof(*pts));
        if (!pts)
            return GU_ENOMEM;
        for (size_t i = 0; i < csv.n; i++) {
            pts[i].t = csv.rows[i].t;
            pts[i].value = csv.rows[i].value;
            pts[i].staff = csv.rows[i].staff;
        }
        n = csv.n;
    } else {
        json_error_t je;
        json_t *root, *arr;
        if (body_n > BODY_JSON_MAX)
            return gu_err_set(&req->err, GU_ETOOBIG, NULL,
                              "La requête est trop grosse.", "body too big");
        root = gu_json_arena(req->arena,
                             json_loadb(body ? body : "", body_n,
                                        JSON_REJECT_DUPLICATES, &je));
        if (!root)
            return gu_err_set(&req->err, GU_EINVAL, NULL,
                              "JSON invalide : envoyez un tableau de points "
                              "ou {\"points\": [...]}, ou un CSV avec "
                              "Content-Type: text/csv.",
                              "bad json: %s", je.text);
        arr = json_is_array(root) ? root : json_object_get(root, "points");
        if (!json_is_array(arr))
            return gu_err_set(&req->err, GU_EINVAL, "points",
                              "Le champ « points » (un tableau) est "
                              "obligatoire.",
                              "no points array");
        n = json_array_size(arr);
        if (n > FC_BATCH_MAX)
            return gu_err_set(&req->err, GU_ETOOBIG, "points",
                              "Trop de points en une fois (100 000 au plus).",
                              "batch too big");
        if (n == 0)
            return gu_err_set(&req->err, GU_EINVAL, "points",
                              "Aucun point à enregistrer.", "no points");
        pts = gu_arena_alloc(req->arena, n * sizeof(*pts));
        if (!pts)
            return GU_ENOMEM;
        for (size_t i = 0; i < n; i++)
            if ((rc = read_point(req, json_array_get(arr, i), i, &s, w.tz,
                                 &pts[i])) < 0)
                return rc;
    }
    if (own_tx && (rc = store_begin(req->conn, &req->err)) < 0)
        return rc;
    for (size_t k = 0; rc == 0 && k < n; k += FC_BATCH_MAX) {
        size_t m = n - k < FC_BATCH_MAX ? n - k : FC_BATCH_MAX;
        rc = fc_points_put(req->conn, w.m.insee, s.id, pts + k, m, FC_SRC_API,
                           &req->err);
    }
    if (own_tx) {
        if (rc == 0)
            rc = store_commit(req->conn, &req->err);
        else
            store_rollback(req->conn);
    }
    if (rc < 0)
        return rc;
    http_audit(req, "forecast.points", s.code, "n=%zu", n);
    scan_after_points(req, &s);
    o = json_object();
    if (!o)
        return GU_ENOMEM;
    json_object_set_new(o, "series_id", json_integer(s.id));
    json_object_set_new(o, "written", json_integer((json_int_t)n));
    return http_json(resp, 200, o);
}

static int
delete_points(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    struct where w;
    int64_t t0, t1, del = 0;
    json_t *o;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 || (rc = path_series(req, &s)) < 0)
        return rc;
    if (!http_query(req, "from") || !http_query(req, "to"))
        return gu_err_set(&req->err, GU_EINVAL, "from",
                          "Indiquez la période à effacer (from et to).",
                          "delete without range");
    if ((rc = query_range(req, &s, w.tz, &t0, &t1)) < 0 ||
        (rc = fc_points_delete(req->conn, w.m.insee, s.id, t0, t1, &del,
                               &req->err)) < 0)
        return rc;
    http_audit(req, "forecast.points_delete", s.code, "n=%lld",
               (long long)del);
    o = json_object();
    if (!o)
        return GU_ENOMEM;
    json_object_set_new(o, "deleted", json_integer(del));
    return http_json(resp, 200, o);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

static int
day_arg(struct http_req *req, const char *s, const char *field, int64_t *day)
{
    if (gu_date_parse(s, day) < 0)
        return gu_err_set(&req->err, GU_EINVAL, field,
                          "Date invalide (attendu aaaa-mm-jj ou jj/mm/aaaa).",
                          "bad date in %s", field);
    return 0;
}

static int
get_events(struct http_req *req, struct http_resp *resp)
{
    const char *from = http_query(req, "from"), *to = http_query(req, "to");
    const char *sid = http_query(req, "series");
    struct fc_event *v = NULL;
    int64_t d0 = -25567, d1 = 84000;
    long series = 0;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if ((from && *from && (rc = day_arg(req, from, "from", &d0)) < 0) ||
        (to && *to && (rc = day_arg(req, to, "to", &d1)) < 0))
        return rc;
    if (sid && *sid && gu_parse_long(sid, 1, INT32_MAX, &series) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "series",
                          "Identifiant de série invalide.", "bad series");
    if ((rc = fc_event_list(req->conn, req->arena, req->who.insee, series, d0,
                            d1, &v, &n, &req->err)) < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, event_json(&v[i]));
    return list_reply(resp, "events", arr);
}

static int
save_event(struct http_req *req, struct http_resp *resp, bool create)
{
    struct fc_event e;
    const char *day = NULL, *kind = NULL;
    json_t *b = NULL, *sid;
    int64_t id = 0;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    memset(&e, 0, sizeof(e));
    if (!create) {
        if ((rc = http_param_id(req, "id", &id)) < 0 ||
            (rc = fc_event_get(req->conn, req->arena, req->who.insee, id, &e,
                               &req->err)) < 0)
            return rc;
    } else {
        snprintf(e.insee, sizeof(e.insee), "%s", req->who.insee);
        e.label = "";
    }
    if ((rc = http_body_json(req, &b)) < 0 ||
        (rc = gu_json_str(b, "day", create, 10, &day, &req->err)) < 0 ||
        (rc = gu_json_str(b, "kind", create, 20, &kind, &req->err)) < 0 ||
        (rc = gu_json_str(b, "label", false, FC_LABEL_MAX, &e.label,
                          &req->err)) < 0)
        return rc;
    if (day && (rc = day_arg(req, day, "day", &e.day)) < 0)
        return rc;
    if (kind && fc_event_kind_parse(kind, &e.kind) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "kind",
                          "Le type doit être greve, evenement, fermeture ou "
                          "pont.",
                          "bad event kind");
    sid = json_object_get(b, "series_id");
    if (sid) {
        if (json_is_null(sid))
            e.series_id = 0;
        else if (json_is_integer(sid) && json_integer_value(sid) > 0)
            e.series_id = json_integer_value(sid);
        else
            return gu_err_set(&req->err, GU_EINVAL, "series_id",
                              "Identifiant de série invalide (ou null pour "
                              "toutes les séries).",
                              "bad series_id");
    }
    if ((rc = fc_event_save(req->conn, &e, &id, &req->err)) < 0)
        return rc;
    http_audit(req, create ? "forecast.event_create" : "forecast.event_update",
               fc_event_kind_name(e.kind), "id=%lld", (long long)id);
    if ((rc = fc_event_get(req->conn, req->arena, req->who.insee, id, &e,
                           &req->err)) < 0)
        return rc;
    return http_json(resp, create ? 201 : 200, event_json(&e));
}

static int
post_event(struct http_req *req, struct http_resp *resp)
{
    return save_event(req, resp, true);
}

static int
put_event(struct http_req *req, struct http_resp *resp)
{
    return save_event(req, resp, false);
}

static int
delete_event(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = fc_event_delete(req->conn, req->who.insee, id, &req->err)) < 0)
        return rc;
    http_audit(req, "forecast.event_delete", "", "id=%lld", (long long)id);
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* Headcounts and menus                                                */
/* ------------------------------------------------------------------ */

static int
get_headcounts(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    struct fc_headcount *v = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = path_series(req, &s)) < 0 ||
        (rc = fc_headcount_list(req->conn, req->arena, req->who.insee, s.id,
                                &v, &n, &req->err)) < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *j = json_object();
        if (!j)
            break;
        json_object_set_new(j, "school_year", json_integer(v[i].school_year));
        json_object_set_new(j, "pupils", json_integer(v[i].pupils));
        json_array_append_new(arr, j);
    }
    return list_reply(resp, "headcounts", arr);
}

static int
put_headcount(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    json_t *b = NULL;
    long year = 0, pupils = 0;
    int rc;

    if ((rc = path_series(req, &s)) < 0 ||
        (rc = http_body_json(req, &b)) < 0 ||
        (rc = gu_json_int(b, "school_year", true, 1990, 2100, &year,
                          &req->err)) < 0 ||
        (rc = gu_json_int(b, "pupils", true, 0, 100000, &pupils,
                          &req->err)) < 0 ||
        (rc = fc_headcount_set(req->conn, req->who.insee, s.id, (int)year,
                               (int)pupils, &req->err)) < 0)
        return rc;
    http_audit(req, "forecast.headcount", s.code, "year=%ld pupils=%ld", year,
               pupils);
    return get_headcounts(req, resp);
}

static json_t *
menu_json(const struct fc_menu *m)
{
    json_t *j = json_object(), *d = json_array();
    char day[16];

    if (!j || !d) {
        json_decref(j);
        json_decref(d);
        return NULL;
    }
    for (const char *p = m->dishes; p && *p;) {
        size_t k = strcspn(p, "\n");
        if (k)
            json_array_append_new(d, json_stringn(p, k));
        p += k;
        if (*p)
            p++;
    }
    gu_day_iso(m->day, day, sizeof(day));
    json_object_set_new(j, "day", json_string(day));
    json_object_set_new(j, "series_id",
                        m->series_id ? json_integer(m->series_id)
                                     : json_null());
    json_object_set_new(j, "dishes", d);
    return j;
}

static int
get_menus(struct http_req *req, struct http_resp *resp)
{
    const char *from = http_query(req, "from"), *to = http_query(req, "to");
    const char *sid = http_query(req, "series");
    struct fc_menu *v = NULL;
    int64_t d0 = -25567, d1 = 84000;
    long series = 0;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if ((from && *from && (rc = day_arg(req, from, "from", &d0)) < 0) ||
        (to && *to && (rc = day_arg(req, to, "to", &d1)) < 0))
        return rc;
    if (sid && *sid && gu_parse_long(sid, 1, INT32_MAX, &series) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "series",
                          "Identifiant de série invalide.", "bad series");
    if ((rc = fc_menu_list(req->conn, req->arena, req->who.insee, series, d0,
                           d1, &v, &n, &req->err)) < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, menu_json(&v[i]));
    return list_reply(resp, "menus", arr);
}

/* PUT a day's menu: {"day", "series_id" (null: every canteen), "dishes"
   (array of names; empty deletes)}. */
static int
put_menu(struct http_req *req, struct http_resp *resp)
{
    const char *day = NULL;
    struct gu_buf b;
    json_t *body = NULL, *dishes, *sid, *it;
    int64_t d = 0, series = 0;
    size_t i;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_body_json(req, &body)) < 0 ||
        (rc = gu_json_str(body, "day", true, 10, &day, &req->err)) < 0 ||
        (rc = day_arg(req, day, "day", &d)) < 0)
        return rc;
    sid = json_object_get(body, "series_id");
    if (sid && !json_is_null(sid)) {
        if (!json_is_integer(sid) || json_integer_value(sid) <= 0)
            return gu_err_set(&req->err, GU_EINVAL, "series_id",
                              "Identifiant de série invalide (ou null pour "
                              "toutes les cantines).",
                              "bad series_id");
        series = json_integer_value(sid);
    }
    dishes = json_object_get(body, "dishes");
    if (!json_is_array(dishes) || json_array_size(dishes) > 30)
        return gu_err_set(&req->err, GU_EINVAL, "dishes",
                          "« dishes » est une liste de plats (30 au plus).",
                          "bad dishes");
    gu_buf_init(&b);
    json_array_foreach(dishes, i, it)
    {
        const char *v = json_string_value(it);
        if (!v || strchr(v, '\n') || strlen(v) > FC_NAME_MAX) {
            gu_buf_fini(&b);
            return gu_err_set(&req->err, GU_EINVAL, "dishes",
                              "Chaque plat est un texte d'une ligne (200 "
                              "caractères au plus).",
                              "bad dish");
        }
        if (i > 0)
            gu_buf_puts(&b, "\n");
        gu_buf_puts(&b, v);
    }
    rc = fc_menu_set(req->conn, req->who.insee, series, d,
                     b.p ? gu_arena_strndup(req->arena, b.p, b.n) : "",
                     &req->err);
    gu_buf_fini(&b);
    if (rc < 0)
        return rc;
    http_audit(req, "forecast.menu", day, "series=%lld dishes=%zu",
               (long long)series, json_array_size(dishes));
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* Fits, forecasts, recommendations, alerts (fc_service.h)            */
/* ------------------------------------------------------------------ */

static json_t *
day_json(int64_t day)
{
    char buf[16];

    gu_day_iso(day, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *
metrics_json(const struct fc_score *sc)
{
    json_t *j = json_object();

    if (!j)
        return NULL;
    json_object_set_new(j, "method", json_string(sc->method));
    json_object_set_new(j, "label", json_string(sc->label));
    json_object_set_new(j, "n", json_integer((json_int_t)sc->m.n));
    json_object_set_new(j, "wape", num_or_null(sc->m.wape));
    json_object_set_new(j, "mape", num_or_null(sc->m.mape));
    json_object_set_new(j, "mae", num_or_null(sc->m.mae));
    json_object_set_new(j, "bias", num_or_null(sc->m.bias));
    json_object_set_new(j, "overproduction", num_or_null(sc->m.over));
    json_object_set_new(j, "short_days",
                        json_integer((json_int_t)sc->m.short_days));
    return j;
}

static json_t *
fit_json(const struct fc_fit *f)
{
    json_t *j = json_object(), *arr = json_array();

    if (!j || !arr) {
        json_decref(j);
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < f->nscores; i++)
        json_array_append_new(arr, metrics_json(&f->scores[i]));
    json_object_set_new(j, "series_id", json_integer(f->series_id));
    json_object_set_new(j, "method", json_string(f->method));
    json_object_set_new(j, "label", json_string(f->label));
    json_object_set_new(j, "horizon", json_integer(f->horizon));
    json_object_set_new(j, "fitted_at", gu_json_time(f->fitted_at));
    json_object_set_new(j, "data_end", day_json(f->data_end));
    json_object_set_new(j, "seconds", json_real(f->seconds));
    json_object_set_new(j, "errors", json_integer((json_int_t)f->nerrors));
    json_object_set_new(j, "scores", arr);
    return j;
}

/* Points just written: compare them with their intervals now (cheap);
   a failure is logged, the points stay written. */
static void
scan_after_points(struct http_req *req, const struct fc_series *s)
{
    struct gu_err e2;
    size_t created = 0;
    const char *base;

    if (s->kind != FC_KIND_EAU && !(s->alert_to && *s->alert_to))
        return;
    base = gu_public_base(req->arena, req->cfg);
    gu_err_clear(&e2);
    if (fc_alerts_scan_base(req->conn, req->arena, req->who.insee,
                            base ? base : "", &created, &e2) < 0)
        gu_log_warn("fc.alerts_scan", "insee=%s err=\"%s\"", req->who.insee,
                    e2.msg);
}

static int
post_fit(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    struct fc_fit f;
    int rc;

    if ((rc = path_series(req, &s)) < 0 ||
        (rc = fc_fit_series(req->conn, req->arena, req->who.insee, s.id, &f,
                            &req->err)) < 0)
        return rc;
    http_audit(req, "forecast.fit", s.code, "method=%s", f.method);
    return http_json(resp, 200, fit_json(&f));
}

static int
post_fit_commune(struct http_req *req, struct http_resp *resp)
{
    size_t fitted = 0, skipped = 0;
    json_t *o;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = fc_fit_commune(req->conn, req->arena, req->who.insee, &fitted,
                             &skipped, &req->err)) < 0)
        return rc;
    http_audit(req, "forecast.fit_commune", req->who.insee,
               "fitted=%zu skipped=%zu", fitted, skipped);
    o = json_object();
    if (!o)
        return GU_ENOMEM;
    json_object_set_new(o, "fitted", json_integer((json_int_t)fitted));
    json_object_set_new(o, "skipped", json_integer((json_int_t)skipped));
    return http_json(resp, 200, o);
}

static int
get_backtest(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    struct fc_fit f;
    int rc;

    if ((rc = path_series(req, &s)) < 0 ||
        (rc = fc_fit_get(req->conn, req->arena, req->who.insee, s.id, &f,
                         &req->err)) < 0)
        return rc;
    return http_json(resp, 200, fit_json(&f));
}

/* ?risque= (« 1 sur 20 », « 5 % », 0.05); NAN when absent. */
static int
query_risk(struct http_req *req, double *risk)
{
    const char *v = http_query(req, "risque");

    *risk = NAN;
    if (!v || !*v)
        return 0;
    if (strlen(v) > 40 || fcst_risk_parse(v, risk) < 0 ||
        !(*risk >= FCST_RISK_MIN && *risk <= FCST_RISK_MAX))
        return gu_err_set(&req->err, GU_EINVAL, "risque",
                          "Risque de manque invalide : écrivez par exemple "
                          "« 1 sur 20 », « 5 % » ou 0.05 (entre 0,5 % et "
                          "50 %).",
                          "bad risque");
    return 0;
}

static json_t *
reco_json(const struct fcst_reco *r)
{
    json_t *j = json_object();

    if (!j)
        return NULL;
    json_object_set_new(j, "order", num_or_null(r->order));
    json_object_set_new(j, "p_short", num_or_null(r->p_short));
    json_object_set_new(j, "surplus", num_or_null(r->surplus));
    json_object_set_new(j, "shortfall", num_or_null(r->shortfall));
    json_object_set_new(j, "surplus_kg", num_or_null(r->surplus_kg));
    json_object_set_new(j, "surplus_eur", num_or_null(r->surplus_eur));
    return j;
}

static json_t *
fday_json(const struct fc_day *d)
{
    json_t *j = json_object();

    if (!j)
        return NULL;
    json_object_set_new(j, "date", day_json(d->t));
    json_object_set_new(j, "actual", num_or_null(d->actual));
    json_object_set_new(j, "staff", num_or_null(d->staff));
    json_object_set_new(j, "p10", num_or_null(d->p10));
    json_object_set_new(j, "p50", num_or_null(d->p50));
    json_object_set_new(j, "p90", num_or_null(d->p90));
    json_object_set_new(j, "method",
                        d->method ? json_string(d->method) : json_null());
    json_object_set_new(j, "recommendation",
                        isnan(d->reco.order) ? json_null()
                                             : reco_json(&d->reco));
    json_object_set_new(j, "note", d->note ? json_string(d->note)
                                           : json_null());
    json_object_set_new(j, "alert", json_boolean(d->alert));
    json_object_set_new(j, "school_calendar_known",
                        json_boolean(!d->school_unknown));
    return j;
}

/* Default period: the four weeks before the last actual and the days
   ahead (from the fit, else from the data). */
static int
default_range(struct http_req *req, const struct fc_series *s, enum gu_tz tz,
              int64_t *d0, int64_t *d1)
{
    struct fc_fit f;
    struct gu_err e2;
    int64_t end;

    if (fc_fit_get(req->conn, req->arena, req->who.insee, s->id, &f, &e2) ==
        0)
        end = f.data_end;
    else if (s->npoints > 0)
        end = s->freq == FC_FREQ_DAY ? s->last_t : 0;
    else
        end = 0;
    if (end == 0 && s->npoints > 0) {
        int64_t day;
        int minute;
        gu_tz_from_utc(tz, s->last_t, &day, &minute);
        end = day;
    }
    if (end == 0)
        end = gu_now() / 86400;
    *d0 = end - 27;
    *d1 = end + FC_AHEAD_DAYS;
    return 0;
}

static int
get_forecast(struct http_req *req, struct http_resp *resp)
{
    const char *du = http_query(req, "du"), *au = http_query(req, "au");
    struct fc_series s;
    struct fc_day *days = NULL;
    struct where w;
    size_t n = 0;
    int64_t d0, d1;
    double risk;
    json_t *o, *arr;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 || (rc = path_series(req, &s)) < 0 ||
        (rc = query_risk(req, &risk)) < 0 ||
        (rc = default_range(req, &s, w.tz, &d0, &d1)) < 0)
        return rc;
    if ((du && *du && (rc = day_arg(req, du, "du", &d0)) < 0) ||
        (au && *au && (rc = day_arg(req, au, "au", &d1)) < 0))
        return rc;
    if (du && *du && !(au && *au) && d1 < d0)
        d1 = d0 + FC_AHEAD_DAYS;
    if ((rc = fc_days(req->conn, req->arena, w.m.insee, s.id, d0, d1, risk,
                      &days, &n, &req->err)) < 0)
        return rc;
    o = json_object();
    arr = json_array();
    if (!o || !arr) {
        json_decref(o);
        json_decref(arr);
        return GU_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, fday_json(&days[i]));
    json_object_set_new(o, "series_id", json_integer(s.id));
    json_object_set_new(o, "unit", json_string(s.unit));
    json_object_set_new(o, "risk", json_real(isnan(risk) ? s.risk : risk));
    json_object_set_new(o, "from", day_json(d0));
    json_object_set_new(o, "to", day_json(d1));
    json_object_set_new(o, "days", arr);
    return http_json(resp, 200, o);
}

static int
get_recommendation(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    struct fc_fit f;
    struct fc_day *days = NULL;
    size_t n = 0;
    double risk, t_units = 0, t_kg = 0, t_eur = 0;
    json_t *o, *arr;
    int rc;

    if ((rc = path_series(req, &s)) < 0 || (rc = query_risk(req, &risk)) < 0 ||
        (rc = fc_fit_get(req->conn, req->arena, req->who.insee, s.id, &f,
                         &req->err)) < 0 ||
        (rc = fc_days(req->conn, req->arena, req->who.insee, s.id,
                      f.data_end + 1, f.data_end + FC_AHEAD_DAYS, risk, &days,
                      &n, &req->err)) < 0)
        return rc;
    if (isnan(risk))
        risk = s.risk;
    o = json_object();
    arr = json_array();
    if (!o || !arr) {
        json_decref(o);
        json_decref(arr);
        return GU_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *j;
        if (isnan(days[i].reco.order))
            continue;
        j = reco_json(&days[i].reco);
        if (!j)
            break;
        json_object_set_new(j, "date", day_json(days[i].t));
        json_object_set_new(j, "p50", num_or_null(days[i].p50));
        json_object_set_new(j, "note", days[i].note
                                           ? json_string(days[i].note)
                                           : json_null());
        json_array_append_new(arr, j);
        t_units += days[i].reco.surplus;
        t_kg += days[i].reco.surplus_kg;
        t_eur += days[i].reco.surplus_eur;
    }
    json_object_set_new(o, "series_id", json_integer(s.id));
    json_object_set_new(o, "unit", json_string(s.unit));
    json_object_set_new(o, "risk", json_real(risk));
    json_object_set_new(o, "method", json_string(f.method));
    json_object_set_new(o, "meal_kg", json_real(s.meal_kg));
    json_object_set_new(o, "meal_cost", json_real(s.meal_cost));
    json_object_set_new(o, "surplus", json_real(t_units));
    json_object_set_new(o, "surplus_kg", json_real(t_kg));
    json_object_set_new(o, "surplus_eur", json_real(t_eur));
    json_object_set_new(o, "days", arr);
    return http_json(resp, 200, o);
}

static int
get_alerts(struct http_req *req, struct http_resp *resp)
{
    const char *all = http_query(req, "toutes");
    struct fc_alert *v = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (all && strcmp(all, "0") != 0 && strcmp(all, "1") != 0)
        return gu_err_set(&req->err, GU_EINVAL, "toutes",
                          "« toutes » vaut 0 (alertes ouvertes, par défaut) "
                          "ou 1 (aussi celles déjà vues).",
                          "bad toutes");
    if ((rc = fc_alert_list(req->conn, req->arena, req->who.insee,
                            !(all && strcmp(all, "1") == 0), &v, &n,
                            &req->err)) < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *j = json_object();
        if (!j)
            break;
        json_object_set_new(j, "id", json_integer(v[i].id));
        json_object_set_new(j, "series_id", json_integer(v[i].series_id));
        json_object_set_new(j, "series_name", json_string(v[i].series_name));
        json_object_set_new(j, "date", day_json(v[i].t));
        json_object_set_new(j, "value", json_real(v[i].value));
        json_object_set_new(j, "lo", json_real(v[i].lo));
        json_object_set_new(j, "hi", json_real(v[i].hi));
        json_object_set_new(j, "created_at", gu_json_time(v[i].created_at));
        json_object_set_new(j, "seen_at", gu_json_time(v[i].seen_at));
        json_array_append_new(arr, j);
    }
    return list_reply(resp, "alerts", arr);
}

static int
post_alert_seen(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = fc_alert_seen(req->conn, req->who.insee, id, &req->err)) < 0)
        return rc;
    http_audit(req, "forecast.alert_seen", "", "id=%lld", (long long)id);
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* The route table                                                     */
/* ------------------------------------------------------------------ */

#define S_STR "{\"type\":\"string\"}"
#define S_INT "{\"type\":\"integer\"}"
#define S_NUM "{\"type\":\"number\"}"
#define S_BOOL "{\"type\":\"boolean\"}"
#define S_FREQ "{\"enum\":[\"jour\",\"heure\",\"15min\"]}"
#define S_KIND                                                                 \
    "{\"enum\":[\"cantine\",\"eau\",\"accueil\",\"telephone\",\"autre\"]}"
#define S_EVKIND "{\"enum\":[\"greve\",\"evenement\",\"fermeture\",\"pont\"]}"
#define S_WHEN "{\"type\":[\"string\",\"null\"]}"
#define S_NUMN "{\"type\":[\"number\",\"null\"]}"

#define SERIES_FIELDS                                                          \
    "\"code\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9][a-z0-9-]{0,63}$\"}" \
    ",\"name\":" S_STR ",\"unit\":" S_STR ",\"freq\":" S_FREQ                   \
    ",\"kind\":" S_KIND ",\"site\":" S_STR ",\"closed_weekdays\":" S_STR      \
    ",\"meal_cost\":" S_NUM ",\"meal_kg\":" S_NUM ",\"active\":" S_BOOL   \
    ",\"risk\":{\"type\":[\"number\",\"string\"]},\"alert_to\":" S_STR

#define SERIES_SCHEMA                                                          \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT "," SERIES_FIELDS    \
    ",\"created_at\":" S_STR ",\"points\":" S_INT ",\"first\":" S_WHEN        \
    ",\"last\":" S_WHEN "}}"
#define SERIES_BODY                                                            \
    "{\"type\":\"object\",\"required\":[\"code\",\"name\"],"                  \
    "\"properties\":{" SERIES_FIELDS "}}"
#define SERIES_PUT                                                             \
    "{\"type\":\"object\",\"properties\":{" SERIES_FIELDS "}}"

#define POINT_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"date\":" S_STR ",\"t\":" S_STR    \
    ",\"value\":" S_NUM ",\"staff\":{\"type\":[\"number\",\"null\"]}}}"
#define POINTS_SCHEMA                                                          \
    "{\"type\":\"object\",\"properties\":{\"series_id\":" S_INT              \
    ",\"freq\":" S_FREQ ",\"unit\":" S_STR ",\"count\":" S_INT                \
    ",\"points\":{\"type\":\"array\",\"items\":" POINT_SCHEMA "}}}"
#define POINTS_BODY                                                            \
    "{\"oneOf\":[{\"type\":\"array\",\"items\":" POINT_SCHEMA "},"            \
    "{\"type\":\"object\",\"required\":[\"points\"],\"properties\":{"         \
    "\"points\":{\"type\":\"array\",\"maxItems\":100000,\"items\":"           \
    POINT_SCHEMA "}}}],\"description\":\"ou un CSV (Content-Type: "          \
    "text/csv) : date;valeur[;prevision]\"}"
#define WRITTEN_SCHEMA                                                         \
    "{\"type\":\"object\",\"properties\":{\"series_id\":" S_INT              \
    ",\"written\":" S_INT "}}"

#define EVENT_FIELDS                                                           \
    "\"series_id\":{\"type\":[\"integer\",\"null\"]},\"day\":{\"type\":"      \
    "\"string\",\"format\":\"date\"},\"kind\":" S_EVKIND ",\"label\":" S_STR
#define EVENT_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT "," EVENT_FIELDS     \
    ",\"created_at\":" S_STR "}}"
#define EVENT_BODY                                                             \
    "{\"type\":\"object\",\"required\":[\"day\",\"kind\"],\"properties\":{"   \
    EVENT_FIELDS "}}"
#define EVENT_PUT "{\"type\":\"object\",\"properties\":{" EVENT_FIELDS "}}"

#define HEADCOUNTS_SCHEMA                                                      \
    "{\"type\":\"object\",\"properties\":{\"headcounts\":{\"type\":"      \
    "\"array\",\"items\":{\"type\":\"object\",\"properties\":{"             \
    "\"school_year\":" S_INT ",\"pupils\":" S_INT "}}}}}"
#define MENU_SCHEMA                                                            \
    "{\"type\":\"object\",\"required\":[\"day\",\"dishes\"],"              \
    "\"properties\":{\"day\":{\"type\":\"string\",\"format\":\"date\"},"   \
    "\"series_id\":{\"type\":[\"integer\",\"null\"]},\"dishes\":{"         \
    "\"type\":\"array\",\"items\":" S_STR "}}}"

#define SCORE_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"method\":" S_STR             \
    ",\"label\":" S_STR ",\"n\":" S_INT ",\"wape\":" S_NUMN                \
    ",\"mape\":" S_NUMN ",\"mae\":" S_NUMN ",\"bias\":" S_NUMN             \
    ",\"overproduction\":" S_NUMN ",\"short_days\":" S_INT "}}"
#define FIT_SCHEMA                                                             \
    "{\"type\":\"object\",\"properties\":{\"series_id\":" S_INT          \
    ",\"method\":" S_STR ",\"label\":" S_STR ",\"horizon\":" S_INT        \
    ",\"fitted_at\":" S_STR ",\"data_end\":" S_STR ",\"seconds\":" S_NUM  \
    ",\"errors\":" S_INT ",\"scores\":{\"type\":\"array\",\"items\":"    \
    SCORE_SCHEMA "}}}"
#define RECO_FIELDS                                                            \
    "\"order\":" S_NUMN ",\"p_short\":" S_NUMN ",\"surplus\":" S_NUMN      \
    ",\"shortfall\":" S_NUMN ",\"surplus_kg\":" S_NUMN                      \
    ",\"surplus_eur\":" S_NUMN
#define FDAY_SCHEMA                                                            \
    "{\"type\":\"object\",\"properties\":{\"date\":" S_STR                \
    ",\"actual\":" S_NUMN ",\"staff\":" S_NUMN ",\"p10\":" S_NUMN          \
    ",\"p50\":" S_NUMN ",\"p90\":" S_NUMN ",\"method\":" S_WHEN            \
    ",\"recommendation\":{\"type\":[\"object\",\"null\"],"               \
    "\"properties\":{" RECO_FIELDS "}},\"note\":" S_WHEN                   \
    ",\"alert\":" S_BOOL "}}"
#define FORECAST_SCHEMA                                                        \
    "{\"type\":\"object\",\"properties\":{\"series_id\":" S_INT          \
    ",\"unit\":" S_STR ",\"risk\":" S_NUM ",\"from\":" S_STR              \
    ",\"to\":" S_STR ",\"days\":{\"type\":\"array\",\"items\":"         \
    FDAY_SCHEMA "}}}"
#define RECO_SCHEMA                                                            \
    "{\"type\":\"object\",\"properties\":{\"series_id\":" S_INT          \
    ",\"unit\":" S_STR ",\"risk\":" S_NUM ",\"method\":" S_STR            \
    ",\"meal_kg\":" S_NUM ",\"meal_cost\":" S_NUM ",\"surplus\":" S_NUM   \
    ",\"surplus_kg\":" S_NUM ",\"surplus_eur\":" S_NUM ",\"days\":{"      \
    "\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{" \
    "\"date\":" S_STR ",\"p50\":" S_NUM ",\"note\":" S_WHEN "," RECO_FIELDS \
    "}}}}}"
#define ALERT_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT                 \
    ",\"series_id\":" S_INT ",\"series_name\":" S_STR ",\"date\":" S_STR  \
    ",\"value\":" S_NUM ",\"lo\":" S_NUM ",\"hi\":" S_NUM                  \
    ",\"created_at\":" S_STR ",\"seen_at\":" S_WHEN "}}"

#define LIST_OF(key, item)                                                     \
    "{\"type\":\"object\",\"properties\":{\"" key "\":{\"type\":\"array\","   \
    "\"items\":" item "}}}"

static const struct http_route routes[] = {
    {"GET", "/api/v1/forecast/series", HTTP_LECTEUR, get_series_list,
     "forecast", "Séries de données de la commune active (nombre de points, "
     "première et dernière date)",
     NULL, LIST_OF("series", SERIES_SCHEMA)},
    {"POST", "/api/v1/forecast/series", HTTP_AGENT, post_series, "forecast",
     "Créer une série (code unique dans la commune)", SERIES_BODY,
     SERIES_SCHEMA},
    {"GET", "/api/v1/forecast/series/{id}", HTTP_LECTEUR, get_series,
     "forecast", "Une série", NULL, SERIES_SCHEMA},
    {"PUT", "/api/v1/forecast/series/{id}", HTTP_AGENT, put_series,
     "forecast",
     "Modifier une série (champs absents inchangés ; la fréquence d'une "
     "série qui a des données ne change pas)",
     SERIES_PUT, SERIES_SCHEMA},
    {"DELETE", "/api/v1/forecast/series/{id}", HTTP_ADMIN, delete_series,
     "forecast", "Supprimer une série avec ses données", NULL, NULL},
    {"GET", "/api/v1/forecast/series/{id}/points", HTTP_LECTEUR, get_points,
     "forecast", "Points d'une série sur une période (?from=, ?to=)", NULL,
     POINTS_SCHEMA},
    {"POST", "/api/v1/forecast/series/{id}/points", HTTP_AGENT, post_points,
     "forecast",
     "Enregistrer des points (JSON ou CSV ; tout ou rien ; une date déjà "
     "présente est remplacée)",
     POINTS_BODY, WRITTEN_SCHEMA},
    {"DELETE", "/api/v1/forecast/series/{id}/points", HTTP_AGENT,
     delete_points, "forecast", "Effacer les points d'une période (?from=, "
     "?to=)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"deleted\":" S_INT "}}"},
    {"GET", "/api/v1/forecast/events", HTTP_LECTEUR, get_events, "forecast",
     "Grèves, événements, fermetures et ponts (?from=, ?to=, ?series=)",
     NULL, LIST_OF("events", EVENT_SCHEMA)},
    {"POST", "/api/v1/forecast/events", HTTP_AGENT, post_event, "forecast",
     "Déclarer une grève, un événement, une fermeture ou un pont",
     EVENT_BODY, EVENT_SCHEMA},
    {"PUT", "/api/v1/forecast/events/{id}", HTTP_AGENT, put_event, "forecast",
     "Modifier un événement (champs absents inchangés)", EVENT_PUT,
     EVENT_SCHEMA},
    {"DELETE", "/api/v1/forecast/events/{id}", HTTP_AGENT, delete_event,
     "forecast", "Supprimer un événement", NULL, NULL},
    {"GET", "/api/v1/forecast/series/{id}/headcounts", HTTP_LECTEUR,
     get_headcounts, "forecast", "Effectifs scolaires d'une cantine par "
     "année scolaire",
     NULL, HEADCOUNTS_SCHEMA},
    {"PUT", "/api/v1/forecast/series/{id}/headcounts", HTTP_AGENT,
     put_headcount, "forecast",
     "Enregistrer l'effectif d'une année scolaire (2016 = 2016-2017)",
     "{\"type\":\"object\",\"required\":[\"school_year\",\"pupils\"],"
     "\"properties\":{\"school_year\":" S_INT ",\"pupils\":" S_INT "}}",
     HEADCOUNTS_SCHEMA},
    {"GET", "/api/v1/forecast/menus", HTTP_LECTEUR, get_menus, "forecast",
     "Menus des cantines (?from=, ?to=, ?series=)", NULL,
     LIST_OF("menus", MENU_SCHEMA)},
    {"PUT", "/api/v1/forecast/menus", HTTP_AGENT, put_menu, "forecast",
     "Enregistrer le menu d'un jour (liste vide : l'effacer)", MENU_SCHEMA,
     NULL},
    {"POST", "/api/v1/forecast/series/{id}/fit", HTTP_AGENT, post_fit,
     "forecast",
     "Calculer les prévisions d'une série : évaluation de chaque méthode, "
     "choix de la meilleure, jours à venir (tout ou rien)",
     NULL, FIT_SCHEMA},
    {"POST", "/api/v1/forecast/fit", HTTP_AGENT, post_fit_commune, "forecast",
     "Calculer les prévisions de toutes les séries actives de la commune",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"fitted\":" S_INT
     ",\"skipped\":" S_INT "}}"},
    {"GET", "/api/v1/forecast/series/{id}/forecast", HTTP_LECTEUR,
     get_forecast, "forecast",
     "Jours d'une série : réel, prévision des agents, P10/P50/P90, "
     "commande recommandée, note du calendrier, alerte (?du=, ?au=, "
     "?risque=)",
     NULL, FORECAST_SCHEMA},
    {"GET", "/api/v1/forecast/series/{id}/backtest", HTTP_LECTEUR,
     get_backtest, "forecast",
     "Évaluation des méthodes (WAPE, biais, surproduction, jours courts), "
     "la prévision des agents à côté",
     NULL, FIT_SCHEMA},
    {"GET", "/api/v1/forecast/series/{id}/recommendation", HTTP_LECTEUR,
     get_recommendation, "forecast",
     "Commandes recommandées des jours à venir pour un risque de manque "
     "(?risque=1 sur 20), surplus attendu en unités, kg et euros",
     NULL, RECO_SCHEMA},
    {"GET", "/api/v1/forecast/alerts", HTTP_LECTEUR, get_alerts, "forecast",
     "Alertes : valeurs sorties de l'intervalle prévu (ouvertes ; "
     "?toutes=1 pour aussi celles vues)",
     NULL, LIST_OF("alerts", ALERT_SCHEMA)},
    {"POST", "/api/v1/forecast/alerts/{id}/vue", HTTP_AGENT, post_alert_seen,
     "forecast", "Marquer une alerte comme vue", NULL, NULL},
};

const struct http_routes fc_routes = {"forecast", routes,
                                      GU_ARRAY_LEN(routes)};
