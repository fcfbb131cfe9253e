/*
 * mon_http.c - the monitor domain's JSON API, /api/v1/monitor/...
 * (contract in docs/monitor-api.md, kept in sync with
 * /api/v1/openapi.json through the schemas of the route table below).
 *
 * Agents of the active commune only (session or API token): reads need
 * the role lecteur, writes the role agent, deleting an asset or a sensor
 * and setting an asset's webhook URL the role admin (only URLs an
 * administrator chose ever receive a POST). Handlers turn JSON (or a
 * text/csv body for points) into mon_service.h calls and results into
 * JSON; the rules live in mon_service.c, mon_ingest.c, mon_alerts.c and
 * mon_csv.c. Errors map as web/ does: GU_EINVAL with a field is a 422
 * with `champ`, GU_ENOTFOUND a 404 (another commune's ids are simply not
 * found), GU_ECONFLICT a 409, GU_ETOOBIG a 413, GU_ERATE a 429.
 *
 * Sensors are addressed by their code ("debit-sortant"), unique in the
 * commune: the same name a device publishes on MQTT.
 */
#include "monitor/mon_priv.h"
#include "web/http.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static json_t *
num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
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

/* A params text as JSON (null when empty or unreadable). */
static json_t *
params_json(const char *s)
{
    json_t *j;

    if (!s || !*s)
        return json_null();
    j = json_loads(s, 0, NULL);
    return j ? j : json_null();
}

static json_t *
asset_json(const struct mon_asset *a)
{
    json_t *j = json_object();

    if (!j)
        return NULL;
    json_object_set_new(j, "id", json_integer(a->id));
    json_object_set_new(j, "name", json_string(a->name));
    json_object_set_new(j, "kind", json_string(mon_asset_kind_name(a->kind)));
    json_object_set_new(j, "kind_label",
                        json_string(mon_asset_kind_label(a->kind)));
    json_object_set_new(j, "site", json_string(a->site));
    json_object_set_new(j, "notes", json_string(a->notes));
    json_object_set_new(j, "params", params_json(a->params));
    json_object_set_new(j, "alert_to", json_string(a->alert_to));
    json_object_set_new(j, "webhook_url", json_string(a->webhook_url));
    json_object_set_new(j, "created_at", gu_json_time(a->created_at));
    json_object_set_new(j, "sensors", json_integer(a->nsensors));
    json_object_set_new(j, "open_alerts", json_integer(a->open_alerts));
    json_object_set_new(j, "open_tickets", json_integer(a->open_tickets));
    return j;
}

static json_t *
sensor_json(const struct mon_sensor *s)
{
    json_t *j = json_object();

    if (!j)
        return NULL;
    json_object_set_new(j, "id", json_integer(s->id));
    json_object_set_new(j, "asset_id", json_integer(s->asset_id));
    json_object_set_new(j, "code", json_string(s->code));
    json_object_set_new(j, "name", json_string(s->name));
    json_object_set_new(j, "unit", json_string(s->unit));
    json_object_set_new(j, "quantity",
                        json_string(mon_quantity_name(s->quantity)));
    json_object_set_new(j, "topic", json_string(s->topic));
    json_object_set_new(j, "params", params_json(s->params));
    json_object_set_new(j, "rate_per_min", json_integer(s->rate_per_min));
    json_object_set_new(j, "active", json_boolean(s->active));
    json_object_set_new(j, "created_at", gu_json_time(s->created_at));
    json_object_set_new(j, "last_t", gu_json_time(s->last_t));
    json_object_set_new(j, "last_value", num_or_null(s->last_value));
    json_object_set_new(j, "points", json_integer(s->npoints));
    return j;
}

static json_t *
alert_json(const struct mon_alert *l)
{
    json_t *j = json_object();

    if (!j)
        return NULL;
    json_object_set_new(j, "id", json_integer(l->id));
    json_object_set_new(j, "asset_id", json_integer(l->asset_id));
    json_object_set_new(j, "sensor_id", json_integer(l->sensor_id));
    json_object_set_new(j, "asset", json_string(l->asset_name));
    json_object_set_new(j, "sensor", json_string(l->sensor_name));
    json_object_set_new(j, "unit", json_string(l->unit));
    json_object_set_new(j, "status",
                        json_string(mon_alert_status_name(l->status)));
    json_object_set_new(j, "detector",
                        json_string(mon_detector_code(l->detector)));
    json_object_set_new(j, "first_t", gu_json_time(l->first_t));
    json_object_set_new(j, "last_t", gu_json_time(l->last_t));
    json_object_set_new(j, "npoints", json_integer(l->npoints));
    json_object_set_new(j, "max_score", num_or_null(l->max_score));
    json_object_set_new(j, "value", num_or_null(l->value));
    json_object_set_new(j, "expected", num_or_null(l->expected));
    json_object_set_new(j, "deviation", num_or_null(l->deviation));
    json_object_set_new(j, "explanation", json_string(l->explanation));
    json_object_set_new(j, "opened_at", gu_json_time(l->opened_at));
    json_object_set_new(j, "ack_at", gu_json_time(l->ack_at));
    json_object_set_new(j, "resolved_at", gu_json_time(l->resolved_at));
    json_object_set_new(j, "comment", json_string(l->comment));
    json_object_set_new(j, "verdict",
                        l->verdict == MON_VERDICT_NONE
                            ? json_null()
                            : json_string(mon_alert_verdict_name(l->verdict)));
    return j;
}

static json_t *
ticket_json(const struct mon_ticket *t)
{
    json_t *j = json_object();

    if (!j)
        return NULL;
    json_object_set_new(j, "id", json_integer(t->id));
    json_object_set_new(j, "asset_id", json_integer(t->asset_id));
    json_object_set_new(j, "asset", json_string(t->asset_name));
    json_object_set_new(j, "alert_id",
                        t->alert_id ? json_integer(t->alert_id) : json_null());
    json_object_set_new(j, "title", json_string(t->title));
    json_object_set_new(j, "body", json_string(t->body));
    json_object_set_new(j, "status",
                        json_string(mon_ticket_status_name(t->status)));
    json_object_set_new(j, "created_at", gu_json_time(t->created_at));
    json_object_set_new(j, "updated_at", gu_json_time(t->updated_at));
    json_object_set_new(j, "closed_at", gu_json_time(t->closed_at));
    return j;
}

/* ------------------------------------------------------------------ */
/* Request helpers                                                     */
/* ------------------------------------------------------------------ */

static int
body_object(struct http_req *req, json_t **b)
{
    int rc = http_body_json(req, b);

    if (rc < 0)
        return rc;
    return 0;
}

/* A string member, untouched when absent/null. */
static int
jstr(struct http_req *req, json_t *b, const char *key, size_t max,
     const char **out)
{
    return gu_json_str(b, key, false, max, out, &req->err);
}

/* A params member: an object (stored as compact JSON, validated), null or
   "" to clear; untouched when absent. */
static int
jparams(struct http_req *req, json_t *b, const char **out)
{
    json_t *v = json_object_get(b, "params");
    struct mon_params p;
    char *s;
    int rc;

    if (!v)
        return 0;
    if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        *out = "";
        return 0;
    }
    if (!json_is_object(v))
        return gu_err_set(&req->err, GU_EINVAL, "params",
                          "Les paramètres de détection sont un objet JSON "
                          "(sensibilite, detecteurs, nuit, fige_secondes).",
                          "params not an object");
    if (!(s = json_dumps(v, JSON_COMPACT)))
        return GU_ENOMEM;
    *out = gu_arena_strdup(req->arena, s);
    free(s);
    if (!*out)
        return GU_ENOMEM;
    if (strlen(*out) > 4000)
        return gu_err_set(&req->err, GU_EINVAL, "params",
                          "Les paramètres de détection sont trop longs.",
                          "params too long");
    if ((rc = mon_params_parse(*out, &p, &req->err)) < 0)
        return rc;
    return 0;
}

static int
path_id(struct http_req *req, int64_t *id)
{
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    return http_param_id(req, "id", id);
}

static int
path_sensor(struct http_req *req, struct mon_sensor *s)
{
    const char *code = http_param(req, "code");
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (!mon_code_ok(code))
        return gu_err_set(&req->err, GU_ENOTFOUND, "code",
                          "Ce capteur n'existe pas.", "bad sensor code");
    return mon_sensor_by_code(req->conn, req->arena, req->who.insee, code, s,
                              &req->err);
}

/* An optional id in the query string (0 when absent). */
static int
query_id(struct http_req *req, const char *name, int64_t *out)
{
    const char *q = http_query(req, name);
    long v = 0;

    *out = 0;
    if (!q || !*q)
        return 0;
    if (gu_parse_long(q, 1, 0x7fffffffffffffffL, &v) < 0)
        return gu_err_set(&req->err, GU_EINVAL, name,
                          "Identifiant invalide dans l'adresse.",
                          "bad query id %s", name);
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Assets                                                              */
/* ------------------------------------------------------------------ */

static int
get_assets(struct http_req *req, struct http_resp *resp)
{
    struct mon_asset *a = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = mon_asset_list(req->conn, req->arena, req->who.insee, &a, &n,
                             &req->err)) < 0)
        return rc;
    if (!(arr = json_array()))
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, asset_json(&a[i]));
    return list_reply(resp, "assets", arr);
}

static int
asset_from_body(struct http_req *req, json_t *b, struct mon_asset *a,
                const char *old_webhook)
{
    const char *kind = NULL;
    int rc;

    if ((rc = jstr(req, b, "name", MON_NAME_MAX * 4, &a->name)) < 0 ||
        (rc = jstr(req, b, "kind", 40, &kind)) < 0 ||
        (rc = jstr(req, b, "site", MON_NAME_MAX * 4, &a->site)) < 0 ||
        (rc = jstr(req, b, "notes", MON_TEXT_MAX * 4, &a->notes)) < 0 ||
        (rc = jstr(req, b, "alert_to", 400, &a->alert_to)) < 0 ||
        (rc = jstr(req, b, "webhook_url", 4000, &a->webhook_url)) < 0 ||
        (rc = jparams(req, b, &a->params)) < 0)
        return rc;
    if (kind && mon_asset_kind_parse(kind, &a->kind) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "kind",
                          "Type d'équipement inconnu (pompe, compteur, "
                          "reservoir, batiment, chaudiere, eclairage, autre).",
                          "bad kind");
    if (strcmp(a->webhook_url ? a->webhook_url : "",
               old_webhook ? old_webhook : "") != 0 &&
        req->who.role < STORE_ROLE_ADMIN)
        return gu_err_set(&req->err, GU_EPERM, "webhook_url",
                          "Seul un administrateur peut choisir l'adresse du "
                          "webhook.",
                          "webhook_url needs admin");
    return 0;
}

static int
post_asset(struct http_req *req, struct http_resp *resp)
{
    struct mon_asset a;
    json_t *b = NULL;
    int64_t id = 0;
    int rc;

    memset(&a, 0, sizeof(a));
    if ((rc = http_need_commune(req)) < 0 || (rc = body_object(req, &b)) < 0)
        return rc;
    snprintf(a.insee, sizeof(a.insee), "%s", req->who.insee);
    if (!json_object_get(b, "name"))
        return gu_err_set(&req->err, GU_EINVAL, "name",
                          "Le nom est obligatoire.", "no name");
    if ((rc = asset_from_body(req, b, &a, "")) < 0 ||
        (rc = mon_asset_save(req->conn, &a, &id, &req->err)) < 0 ||
        (rc = mon_asset_get(req->conn, req->arena, req->who.insee, id, &a,
                            &req->err)) < 0)
        return rc;
    http_audit(req, "monitor.asset_create", "", "id=%lld", (long long)id);
    return http_json(resp, 201, asset_json(&a));
}

static int
get_asset(struct http_req *req, struct http_resp *resp)
{
    struct mon_asset a;
    int64_t id;
    int rc;

    if ((rc = path_id(req, &id)) < 0 ||
        (rc = mon_asset_get(req->conn, req->arena, req->who.insee, id, &a,
                            &req->err)) < 0)
        return rc;
    return http_json(resp, 200, asset_json(&a));
}

static int
put_asset(struct http_req *req, struct http_resp *resp)
{
    struct mon_asset a;
    const char *old;
    json_t *b = NULL;
    int64_t id;
    int rc;

    if ((rc = path_id(req, &id)) < 0 || (rc = body_object(req, &b)) < 0 ||
        (rc = mon_asset_get(req->conn, req->arena, req->who.insee, id, &a,
                            &req->err)) < 0)
        return rc;
    old = a.webhook_url;
    if ((rc = asset_from_body(req, b, &a, old)) < 0 ||
        (rc = mon_asset_save(req->conn, &a, NULL, &req->err)) < 0 ||
        (rc = mon_asset_get(req->conn, req->arena, req->who.insee, id, &a,
                            &req->err)) < 0)
        return rc;
    http_audit(req, "monitor.asset_update", "", "id=%lld", (long long)id);
    return http_json(resp, 200, asset_json(&a));
}

static int
delete_asset(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    int rc;

    if ((rc = path_id(req, &id)) < 0 ||
        (rc = mon_asset_delete(req->conn, req->who.insee, id, &req->err)) < 0)
        return rc;
    http_audit(req, "monitor.asset_delete", "", "id=%lld", (long long)id);
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* Parameters                                                          */
/* ------------------------------------------------------------------ */

static int
params_reply(struct http_resp *resp, const char *own,
             const struct mon_params *eff)
{
    char buf[512];
    json_t *o = json_object();

    if (!o)
        return GU_ENOMEM;
    mon_params_format(eff, buf, sizeof(buf));
    json_object_set_new(o, "params", params_json(own));
    json_object_set_new(o, "effective", params_json(buf));
    json_object_set_new(o, "threshold", json_real(mon_params_threshold(eff)));
    return http_json(resp, 200, o);
}

static int
get_asset_params(struct http_req *req, struct http_resp *resp)
{
    struct mon_asset a;
    struct mon_params p;
    int64_t id;
    int rc;

    if ((rc = path_id(req, &id)) < 0 ||
        (rc = mon_asset_get(req->conn, req->arena, req->who.insee, id, &a,
                            &req->err)) < 0 ||
        (rc = mon_params_effective("", a.params, MON_Q_AUTRE, &p, &req->err)) <
            0)
        return rc;
    return params_reply(resp, a.params, &p);
}

static int
put_asset_params(struct http_req *req, struct http_resp *resp)
{
    struct mon_asset a;
    json_t *b = NULL, *wrap;
    int64_t id;
    int rc;

    if ((rc = path_id(req, &id)) < 0 || (rc = body_object(req, &b)) < 0 ||
        (rc = mon_asset_get(req->conn, req->arena, req->who.insee, id, &a,
                            &req->err)) < 0)
        return rc;
    wrap = gu_json_arena(req->arena, json_pack("{s:O}", "params", b));
    if (!wrap)
        return GU_ENOMEM;
    if ((rc = jparams(req, wrap, &a.params)) < 0)
        return rc;
    if (json_object_size(b) == 0)
        a.params = "";
    if ((rc = mon_asset_save(req->conn, &a, NULL, &req->err)) < 0)
        return rc;
    http_audit(req, "monitor.asset_params", "", "id=%lld", (long long)id);
    return get_asset_params(req, resp);
}

static int
get_sensor_params(struct http_req *req, struct http_resp *resp)
{
    struct mon_sensor s;
    struct mon_params p;
    int rc;

    if ((rc = path_sensor(req, &s)) < 0 ||
        (rc = mon_sensor_params(req->conn, req->who.insee, s.id, &p,
                                &req->err)) < 0)
        return rc;
    return params_reply(resp, s.params, &p);
}

static int
put_sensor_params(struct http_req *req, struct http_resp *resp)
{
    struct mon_sensor s;
    json_t *b = NULL, *wrap;
    int rc;

    if ((rc = path_sensor(req, &s)) < 0 || (rc = body_object(req, &b)) < 0)
        return rc;
    wrap = gu_json_arena(req->arena, json_pack("{s:O}", "params", b));
    if (!wrap)
        return GU_ENOMEM;
    /* {} clears the sensor's own params: the asset's apply again */
    if ((rc = jparams(req, wrap, &s.params)) < 0)
        return rc;
    if (json_object_size(b) == 0)
        s.params = "";
    if ((rc = mon_sensor_save(req->conn, &s, NULL, &req->err)) < 0)
        return rc;
    http_audit(req, "monitor.sensor_params", s.code, "id=%lld",
               (long long)s.id);
    return get_sensor_params(req, resp);
}

/* ------------------------------------------------------------------ */
/* Sensors                                                             */
/* ------------------------------------------------------------------ */

static int
get_sensors(struct http_req *req, struct http_resp *resp)
{
    struct mon_sensor *s = NULL;
    size_t n = 0;
    int64_t asset = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = query_id(req, "asset", &asset)) < 0 ||
        (rc = mon_sensor_list(req->conn, req->arena, req->who.insee, asset, &s,
                              &n, &req->err)) < 0)
        return rc;
    if (!(arr = json_array()))
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, sensor_json(&s[i]));
    return list_reply(resp, "sensors", arr);
}

static int
sensor_from_body(struct http_req *req, json_t *b, struct mon_sensor *s)
{
    const char *q = NULL;
    long asset = s->asset_id, rate = s->rate_per_min;
    int rc;

    if ((rc = jstr(req, b, "code", MON_CODE_MAX * 4, &s->code)) < 0 ||
        (rc = jstr(req, b, "name", MON_NAME_MAX * 4, &s->name)) < 0 ||
        (rc = jstr(req, b, "unit", 200, &s->unit)) < 0 ||
        (rc = jstr(req, b, "quantity", 40, &q)) < 0 ||
        (rc = jstr(req, b, "topic", MON_NAME_MAX * 4, &s->topic)) < 0 ||
        (rc = gu_json_int(b, "asset_id", false, 1, 0x7fffffffffffffffL, &asset,
                          &req->err)) < 0 ||
        (rc = gu_json_int(b, "rate_per_min", false, 1, 6000, &rate,
                          &req->err)) < 0 ||
        (rc = gu_json_bool(b, "active", false, &s->active, &req->err)) < 0 ||
        (rc = jparams(req, b, &s->params)) < 0)
        return rc;
    if (q && mon_quantity_parse(q, &s->quantity) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "quantity",
                          "Grandeur inconnue (debit, niveau, pression, "
                          "courant, temperature, energie, autre).",
                          "bad quantity");
    s->asset_id = asset;
    s->rate_per_min = (int)rate;
    return 0;
}

static int
post_sensor(struct http_req *req, struct http_resp *resp)
{
    struct mon_sensor s;
    json_t *b = NULL;
    int64_t id = 0;
    int rc;

    memset(&s, 0, sizeof(s));
    s.active = true;
    if ((rc = http_need_commune(req)) < 0 || (rc = body_object(req, &b)) < 0)
        return rc;
    snprintf(s.insee, sizeof(s.insee), "%s", req->who.insee);
    if (!json_object_get(b, "asset_id"))
        return gu_err_set(&req->err, GU_EINVAL, "asset_id",
                          "L'équipement (asset_id) est obligatoire.",
                          "no asset_id");
    if ((rc = sensor_from_body(req, b, &s)) < 0 ||
        (rc = mon_sensor_save(req->conn, &s, &id, &req->err)) < 0 ||
        (rc = mon_sensor_get(req->conn, req->arena, req->who.insee, id, &s,
                             &req->err)) < 0)
        return rc;
    http_audit(req, "monitor.sensor_create", s.code, "id=%lld", (long long)id);
    return http_json(resp, 201, sensor_json(&s));
}

static int
get_sensor(struct http_req *req, struct http_resp *resp)
{
    struct mon_sensor s;
    int rc;

    if ((rc = path_sensor(req, &s)) < 0)
        return rc;
    return http_json(resp, 200, sensor_json(&s));
}

static int
put_sensor(struct http_req *req, struct http_resp *resp)
{
    struct mon_sensor s;
    json_t *b = NULL;
    int rc;

    if ((rc = path_sensor(req, &s)) < 0 || (rc = body_object(req, &b)) < 0 ||
        (rc = sensor_from_body(req, b, &s)) < 0 ||
        (rc = mon_sensor_save(req->conn, &s, NULL, &req->err)) < 0 ||
        (rc = mon_sensor_get(req->conn, req->arena, req->who.insee, s.id, &s,
                             &req->err)) < 0)
        return rc;
    http_audit(req, "monitor.sensor_update", s.code, "id=%lld",
               (long long)s.id);
    return http_json(resp, 200, sensor_json(&s));
}

static int
delete_sensor(struct http_req *req, struct http_resp *resp)
{
    struct mon_sensor s;
    int rc;

    if ((rc = path_sensor(req, &s)) < 0 ||
        (rc = mon_sensor_delete(req->conn, req->who.insee, s.id, &req->err)) <
            0)
        return rc;
    http_audit(req, "monitor.sensor_delete", s.code, "id=%lld",
               (long long)s.id);
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* Points                                                              */
/* ------------------------------------------------------------------ */

static bool
is_csv(const char *ctype)
{
    return ctype && (strncasecmp(ctype, "text/csv", 8) == 0 ||
                     strncasecmp(ctype, "text/plain", 10) == 0);
}

/* One JSON point {"t": ISO 8601 or unix seconds, "v": number}. */
static int
read_point(struct http_req *req, json_t *p, size_t i, enum gu_tz tz,
           struct mon_meas *out)
{
    json_t *t = json_object_get(p, "t"), *v = json_object_get(p, "v");
    char field[32], user[200];

    if (!v)
        v = json_object_get(p, "value");
    snprintf(field, sizeof(field), "points[%zu]", i);
    if (!json_is_object(p) || !t || !v || !json_is_number(v))
        goto bad;
    out->v = json_number_value(v);
    if (json_is_integer(t) && json_integer_value(t) > 0) {
        out->t = (int64_t)json_integer_value(t);
        return 0;
    }
    if (json_is_string(t) &&
        mon_time_parse(json_string_value(t), json_string_length(t), tz,
                       &out->t) == 0)
        return 0;
bad:
    snprintf(user, sizeof(user),
             "La mesure n° %zu doit être {\"t\": instant ISO 8601 ou "
             "secondes Unix, \"v\": nombre}.",
             i + 1);
    return gu_err_set(&req->err, GU_EINVAL, field, user, "bad point %zu", i);
}

static int
post_points(struct http_req *req, struct http_resp *resp)
{
    struct mon_sensor s;
    struct mon_meas *m = NULL;
    struct mon_ingest_result res;
    enum gu_tz tz;
    size_t n = 0, body_n = 0;
    const char *body;
    json_t *o;
    int rc;

    if ((rc = path_sensor(req, &s)) < 0)
        return rc;
    tz = mon_commune_tz(req->conn, req->who.insee);
    body = http_body(req, &body_n);
    if (body_n > MON_PUSH_MAX_BYTES)
        return gu_err_set(&req->err, GU_ETOOBIG, NULL,
                          "La requête est trop grosse (4 Mo au plus).",
                          "body too big");
    if (is_csv(http_header(req, "Content-Type"))) {
        if ((rc = mon_csv_parse(req->arena, body ? body : "", body_n, tz, &m,
                                &n, &req->err)) < 0)
            return rc;
    } else {
        json_error_t je;
        json_t *root, *arr;
        root =
            gu_json_arena(req->arena, json_loadb(body ? body : "", body_n,
                                                 JSON_REJECT_DUPLICATES, &je));
        if (!root)
            return gu_err_set(&req->err, GU_EINVAL, NULL,
                              "JSON invalide : envoyez {\"points\": [{\"t\": "
                              "…, \"v\": …}]}, ou un CSV avec Content-Type: "
                              "text/csv.",
                              "bad json: %s", je.text);
        arr = json_is_array(root) ? root : json_object_get(root, "points");
        if (!json_is_array(arr))
            return gu_err_set(&req->err, GU_EINVAL, "points",
                              "Le champ « points » (un tableau) est "
                              "obligatoire.",
                              "no points array");
        n = json_array_size(arr);
        if (n > MON_BATCH_MAX)
            return gu_err_set(&req->err, GU_ETOOBIG, "points",
                              "Trop de mesures en un envoi (10 000 au plus).",
                              "batch too big");
        if (n && !(m = gu_arena_alloc(req->arena, n * sizeof(*m))))
            return GU_ENOMEM;
        for (size_t i = 0; i < n; i++)
            if ((rc = read_point(req, json_array_get(arr, i), i, tz, &m[i])) <
                0)
                return rc;
    }
    if (n == 0)
        return gu_err_set(&req->err, GU_EINVAL, "points",
                          "Aucune mesure à enregistrer.", "no points");
    if ((rc = mon_ingest(req->conn, req->who.insee, s.id, m, n, gu_now(), &res,
                         &req->err)) < 0)
        return rc;
    if (!(o = json_object()))
        return GU_ENOMEM;
    json_object_set_new(o, "sensor", json_string(s.code));
    json_object_set_new(o, "accepted", json_integer((json_int_t)res.accepted));
    json_object_set_new(o, "late", json_integer((json_int_t)res.late));
    json_object_set_new(o, "duplicates",
                        json_integer((json_int_t)res.duplicates));
    json_object_set_new(o, "rejected", json_integer((json_int_t)res.rejected));
    json_object_set_new(o, "anomalies",
                        json_integer((json_int_t)res.anomalies));
    json_object_set_new(o, "alerts_opened", json_integer(res.alerts_opened));
    return http_json(resp, 200, o);
}

static int
query_time(struct http_req *req, const char *name, enum gu_tz tz, int64_t *out)
{
    const char *q = http_query(req, name);

    if (!q || !*q)
        return 0;
    if (mon_time_parse(q, strlen(q), tz, out) < 0)
        return gu_err_set(&req->err, GU_EINVAL, name,
                          "Instant invalide (ex. 2026-12-01T10:00:00Z ou "
                          "secondes Unix).",
                          "bad %s", name);
    return 0;
}

static int
get_points(struct http_req *req, struct http_resp *resp)
{
    struct mon_sensor s;
    struct mon_point *p = NULL;
    enum gu_tz tz;
    int64_t t1 = gu_now() + 86400, t0 = t1 - 8 * 86400;
    size_t n = 0;
    json_t *o, *arr;
    int rc;

    if ((rc = path_sensor(req, &s)) < 0)
        return rc;
    tz = mon_commune_tz(req->conn, req->who.insee);
    if ((rc = query_time(req, "from", tz, &t0)) < 0 ||
        (rc = query_time(req, "to", tz, &t1)) < 0 ||
        (rc = mon_points_range(req->conn, req->arena, req->who.insee, s.id, t0,
                               t1, &p, &n, &req->err)) < 0)
        return rc;
    if (!(o = json_object()) || !(arr = json_array())) {
        json_decref(o);
        return GU_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *pt = json_object();
        if (!pt)
            break;
        json_object_set_new(pt, "t", gu_json_time(p[i].t));
        json_object_set_new(pt, "v", json_real(p[i].value));
        json_object_set_new(pt, "score", num_or_null(p[i].score));
        json_array_append_new(arr, pt);
    }
    json_object_set_new(o, "sensor", json_string(s.code));
    json_object_set_new(o, "unit", json_string(s.unit));
    json_object_set_new(o, "from", gu_json_time(t0));
    json_object_set_new(o, "to", gu_json_time(t1));
    json_object_set_new(o, "count", json_integer((json_int_t)n));
    json_object_set_new(o, "points", arr);
    return http_json(resp, 200, o);
}

/* ------------------------------------------------------------------ */
/* Alerts                                                              */
/* ------------------------------------------------------------------ */

static int
get_alerts(struct http_req *req, struct http_resp *resp)
{
    struct mon_alert_filter f;
    struct mon_alert *l = NULL;
    const char *st = http_query(req, "status"), *lim = http_query(req, "limit"),
               *off = http_query(req, "offset");
    long v;
    size_t n = 0;
    json_t *arr;
    int rc;

    memset(&f, 0, sizeof(f));
    f.status = -1;
    if ((rc = http_need_commune(req)) < 0 ||
        (rc = query_id(req, "asset", &f.asset_id)) < 0 ||
        (rc = query_id(req, "sensor", &f.sensor_id)) < 0)
        return rc;
    if (st && *st) {
        enum mon_alert_status es;
        if (strcmp(st, "en_cours") == 0)
            f.status = -2;
        else if (mon_alert_status_parse(st, &es) == 0)
            f.status = (int)es;
        else
            return gu_err_set(&req->err, GU_EINVAL, "status",
                              "Statut inconnu (ouverte, acquittee, resolue, "
                              "en_cours).",
                              "bad status");
    }
    if (lim && *lim) {
        if (gu_parse_long(lim, 1, 500, &v) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "limit",
                              "limit va de 1 à 500.", "bad limit");
        f.limit = (size_t)v;
    }
    if (off && *off) {
        if (gu_parse_long(off, 0, 1000000, &v) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "offset",
                              "offset va de 0 à 1 000 000.", "bad offset");
        f.offset = (size_t)v;
    }
    if ((rc = mon_alert_list(req->conn, req->arena, req->who.insee, &f, &l, &n,
                             &req->err)) < 0)
        return rc;
    if (!(arr = json_array()))
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, alert_json(&l[i]));
    return list_reply(resp, "alerts", arr);
}

static int
get_alert(struct http_req *req, struct http_resp *resp)
{
    struct mon_alert l;
    int64_t id;
    int rc;

    struct store_commune com;
    json_t *j, *why;

    if ((rc = path_id(req, &id)) < 0 ||
        (rc = mon_alert_get(req->conn, req->arena, req->who.insee, id, &l,
                            &req->err)) < 0 ||
        (rc = store_commune_get(req->conn, req->arena, req->who.insee, &com,
                                &req->err)) < 0)
        return rc;
    j = alert_json(&l);
    why = mon_alert_why(req, &l, gu_tz_of_zone(com.zone));
    if (!j || !why) {
        json_decref(j);
        return GU_ENOMEM;
    }
    json_object_set(j, "pourquoi", why);
    return http_json(resp, 200, j);
}

static int
alert_move(struct http_req *req, struct http_resp *resp, bool resolve)
{
    const char *comment = "", *verdict = "";
    enum mon_alert_verdict v = MON_VERDICT_NONE;
    size_t body_n = 0;
    json_t *b = NULL;
    int64_t id;
    int rc;

    if ((rc = path_id(req, &id)) < 0)
        return rc;
    http_body(req, &body_n);
    if (body_n > 0) {
        if ((rc = body_object(req, &b)) < 0 ||
            (rc = jstr(req, b, "comment", MON_TEXT_MAX * 4, &comment)) < 0 ||
            (resolve && (rc = jstr(req, b, "verdict", 32, &verdict)) < 0))
            return rc;
        if (verdict && *verdict && mon_alert_verdict_parse(verdict, &v) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "verdict",
                              "« verdict » vaut « reelle » (un vrai problème) "
                              "ou « fausse_alerte ».",
                              "bad verdict");
    }
    rc = resolve ? mon_alert_resolve(req->conn, req->who.insee, id,
                                     req->who.agent_id, comment, v,
                                     &req->err)
                 : mon_alert_ack(req->conn, req->who.insee, id,
                                 req->who.agent_id, comment, &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, resolve ? "monitor.alert_resolve" : "monitor.alert_ack", "",
               "id=%lld", (long long)id);
    return get_alert(req, resp);
}

static int
post_alert_ack(struct http_req *req, struct http_resp *resp)
{
    return alert_move(req, resp, false);
}

static int
post_alert_resolve(struct http_req *req, struct http_resp *resp)
{
    return alert_move(req, resp, true);
}

/* ------------------------------------------------------------------ */
/* Tickets                                                             */
/* ------------------------------------------------------------------ */

static int
get_tickets(struct http_req *req, struct http_resp *resp)
{
    struct mon_ticket *t = NULL;
    const char *open = http_query(req, "open");
    int64_t asset = 0;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = query_id(req, "asset", &asset)) < 0 ||
        (rc = mon_ticket_list(req->conn, req->arena, req->who.insee, asset,
                              open && strcmp(open, "1") == 0, &t, &n,
                              &req->err)) < 0)
        return rc;
    if (!(arr = json_array()))
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, ticket_json(&t[i]));
    return list_reply(resp, "tickets", arr);
}

static int
ticket_from_body(struct http_req *req, json_t *b, struct mon_ticket *t)
{
    const char *st = NULL;
    int rc;

    if ((rc = jstr(req, b, "title", MON_NAME_MAX * 4, &t->title)) < 0 ||
        (rc = jstr(req, b, "body", MON_TEXT_MAX * 4, &t->body)) < 0 ||
        (rc = jstr(req, b, "status", 40, &st)) < 0)
        return rc;
    if (st && mon_ticket_status_parse(st, &t->status) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "status",
                          "Statut de ticket inconnu (ouvert, en_cours, clos).",
                          "bad ticket status");
    return 0;
}

static int
post_ticket(struct http_req *req, struct http_resp *resp)
{
    struct mon_ticket t;
    json_t *b = NULL;
    long asset = 0, alert = 0;
    int64_t id = 0;
    int rc;

    memset(&t, 0, sizeof(t));
    if ((rc = http_need_commune(req)) < 0 || (rc = body_object(req, &b)) < 0)
        return rc;
    snprintf(t.insee, sizeof(t.insee), "%s", req->who.insee);
    t.created_by = req->who.agent_id;
    if ((rc = gu_json_int(b, "alert_id", false, 1, 0x7fffffffffffffffL, &alert,
                          &req->err)) < 0 ||
        (rc = gu_json_int(b, "asset_id", false, 1, 0x7fffffffffffffffL, &asset,
                          &req->err)) < 0)
        return rc;
    if (alert && !asset) {
        /* from an alert: its asset, and its explanation as the body */
        struct mon_alert l;
        if ((rc = mon_alert_get(req->conn, req->arena, req->who.insee, alert,
                                &l, &req->err)) < 0)
            return rc;
        asset = l.asset_id;
        t.title = gu_arena_sprintf(req->arena, "%s — %s", l.asset_name,
                                   l.sensor_name);
        t.body = l.explanation;
    }
    if (!asset)
        return gu_err_set(&req->err, GU_EINVAL, "asset_id",
                          "Indiquez l'équipement (asset_id) ou l'alerte "
                          "(alert_id).",
                          "no asset");
    t.asset_id = asset;
    t.alert_id = alert;
    if ((rc = ticket_from_body(req, b, &t)) < 0 ||
        (rc = mon_ticket_save(req->conn, &t, &id, &req->err)) < 0 ||
        (rc = mon_ticket_get(req->conn, req->arena, req->who.insee, id, &t,
                             &req->err)) < 0)
        return rc;
    http_audit(req, "monitor.ticket_create", "", "id=%lld", (long long)id);
    return http_json(resp, 201, ticket_json(&t));
}

static int
get_ticket(struct http_req *req, struct http_resp *resp)
{
    struct mon_ticket t;
    int64_t id;
    int rc;

    if ((rc = path_id(req, &id)) < 0 ||
        (rc = mon_ticket_get(req->conn, req->arena, req->who.insee, id, &t,
                             &req->err)) < 0)
        return rc;
    return http_json(resp, 200, ticket_json(&t));
}

static int
put_ticket(struct http_req *req, struct http_resp *resp)
{
    struct mon_ticket t;
    json_t *b = NULL;
    int64_t id;
    int rc;

    if ((rc = path_id(req, &id)) < 0 || (rc = body_object(req, &b)) < 0 ||
        (rc = mon_ticket_get(req->conn, req->arena, req->who.insee, id, &t,
                             &req->err)) < 0 ||
        (rc = ticket_from_body(req, b, &t)) < 0 ||
        (rc = mon_ticket_save(req->conn, &t, NULL, &req->err)) < 0 ||
        (rc = mon_ticket_get(req->conn, req->arena, req->who.insee, id, &t,
                             &req->err)) < 0)
        return rc;
    http_audit(req, "monitor.ticket_update", "", "id=%lld status=%s",
               (long long)id, mon_ticket_status_name(t.status));
    return http_json(resp, 200, ticket_json(&t));
}

/* ------------------------------------------------------------------ */
/* Route table                                                         */
/* ------------------------------------------------------------------ */

#define S_STR "{\"type\":\"string\"}"
#define S_INT "{\"type\":\"integer\"}"
#define S_NUM "{\"type\":\"number\"}"
#define S_BOOL "{\"type\":\"boolean\"}"
#define S_WHEN "{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}"
#define S_OBJN "{\"type\":[\"object\",\"null\"]}"
#define LIST_OF(k, item)                                                       \
    "{\"type\":\"object\",\"properties\":{\"" k "\":{\"type\":\"array\","      \
    "\"items\":" item "}}}"

#define ASSET_FIELDS                                                           \
    "\"name\":" S_STR ",\"kind\":{\"enum\":[\"pompe\",\"compteur\","           \
    "\"reservoir\",\"batiment\",\"chaudiere\",\"eclairage\",\"autre\"]},"      \
    "\"site\":" S_STR ",\"notes\":" S_STR ",\"params\":" S_OBJN                \
    ",\"alert_to\":" S_STR ",\"webhook_url\":" S_STR
#define ASSET_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT "," ASSET_FIELDS      \
    ",\"kind_label\":" S_STR ",\"created_at\":" S_WHEN ",\"sensors\":" S_INT   \
    ",\"open_alerts\":" S_INT ",\"open_tickets\":" S_INT "}}"
#define ASSET_BODY                                                             \
    "{\"type\":\"object\",\"required\":[\"name\"],\"properties\":"             \
    "{" ASSET_FIELDS "}}"
#define SENSOR_FIELDS                                                          \
    "\"asset_id\":" S_INT ",\"code\":{\"type\":\"string\",\"pattern\":"        \
    "\"^[a-z0-9][a-z0-9-]{0,63}$\"},\"name\":" S_STR ",\"unit\":" S_STR        \
    ",\"quantity\":{\"enum\":[\"debit\",\"niveau\",\"pression\",\"courant\","  \
    "\"temperature\",\"energie\",\"autre\"]},\"topic\":" S_STR                 \
    ",\"params\":" S_OBJN ",\"rate_per_min\":" S_INT ",\"active\":" S_BOOL
#define SENSOR_SCHEMA                                                          \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT "," SENSOR_FIELDS     \
    ",\"created_at\":" S_WHEN ",\"last_t\":" S_WHEN                            \
    ",\"last_value\":{\"type\":[\"number\",\"null\"]},\"points\":" S_INT "}}"
#define SENSOR_BODY                                                            \
    "{\"type\":\"object\",\"required\":[\"asset_id\",\"code\",\"name\"],"      \
    "\"properties\":{" SENSOR_FIELDS "}}"
#define PARAMS_BODY                                                            \
    "{\"type\":\"object\",\"properties\":{\"sensibilite\":" S_NUM              \
    ",\"detecteurs\":{\"type\":\"array\",\"items\":{\"enum\":[\"gauss\","      \
    "\"saisonnier\",\"rupture\",\"nuit\",\"fige\"]}},\"nuit\":" S_STR          \
    ",\"fige_secondes\":" S_INT "}}"
#define PARAMS_SCHEMA                                                          \
    "{\"type\":\"object\",\"properties\":{\"params\":" S_OBJN                  \
    ",\"effective\":" S_OBJN ",\"threshold\":" S_NUM "}}"
#define POINTS_BODY                                                            \
    "{\"type\":\"object\",\"required\":[\"points\"],\"properties\":{"          \
    "\"points\":{\"type\":\"array\",\"maxItems\":10000,\"items\":{\"type\":"   \
    "\"object\",\"required\":[\"t\",\"v\"],\"properties\":{\"t\":{\"type\":"   \
    "[\"string\",\"integer\"]},\"v\":" S_NUM "}}}},\"description\":\"ou un "   \
    "CSV (Content-Type: text/csv) : instant;valeur\"}"
#define INGEST_SCHEMA                                                          \
    "{\"type\":\"object\",\"properties\":{\"sensor\":" S_STR                   \
    ",\"accepted\":" S_INT ",\"late\":" S_INT ",\"duplicates\":" S_INT         \
    ",\"rejected\":" S_INT ",\"anomalies\":" S_INT ",\"alerts_opened\":" S_INT \
    "}}"
#define POINTS_SCHEMA                                                          \
    "{\"type\":\"object\",\"properties\":{\"sensor\":" S_STR                   \
    ",\"unit\":" S_STR ",\"from\":" S_WHEN ",\"to\":" S_WHEN                   \
    ",\"count\":" S_INT                                                        \
    ",\"points\":{\"type\":\"array\",\"items\":{\"type\":\"object\","          \
    "\"properties\":{\"t\":" S_STR ",\"v\":" S_NUM ",\"score\":{\"type\":"     \
    "[\"number\",\"null\"]}}}}}}"
#define ALERT_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT                       \
    ",\"asset_id\":" S_INT ",\"sensor_id\":" S_INT ",\"asset\":" S_STR         \
    ",\"sensor\":" S_STR ",\"unit\":" S_STR                                    \
    ",\"status\":{\"enum\":[\"ouverte\",\"acquittee\","                        \
    "\"resolue\"]},\"detector\":" S_STR ",\"first_t\":" S_WHEN                 \
    ",\"last_t\":" S_WHEN ",\"npoints\":" S_INT ",\"max_score\":" S_NUM        \
    ",\"value\":" S_NUM ",\"expected\":" S_NUM ",\"deviation\":" S_NUM         \
    ",\"explanation\":" S_STR ",\"opened_at\":" S_WHEN ",\"ack_at\":" S_WHEN   \
    ",\"resolved_at\":" S_WHEN ",\"comment\":" S_STR "}}"
#define COMMENT_BODY                                                           \
    "{\"type\":\"object\",\"properties\":{\"comment\":" S_STR "}}"
#define RESOLVE_BODY                                                           \
    "{\"type\":\"object\",\"properties\":{\"comment\":" S_STR                \
    ",\"verdict\":{\"enum\":[\"reelle\",\"fausse_alerte\"]}}}"
#define TICKET_FIELDS                                                          \
    "\"title\":" S_STR ",\"body\":" S_STR ",\"status\":{\"enum\":["            \
    "\"ouvert\",\"en_cours\",\"clos\"]}"
#define TICKET_SCHEMA                                                          \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT                       \
    ",\"asset_id\":" S_INT ",\"asset\":" S_STR                                 \
    ",\"alert_id\":{\"type\":[\"integer\","                                    \
    "\"null\"]}," TICKET_FIELDS ",\"created_at\":" S_WHEN                      \
    ",\"updated_at\":" S_WHEN ",\"closed_at\":" S_WHEN "}}"
#define TICKET_BODY                                                            \
    "{\"type\":\"object\",\"properties\":{\"asset_id\":" S_INT                 \
    ",\"alert_id\":" S_INT "," TICKET_FIELDS "}}"

static const struct http_route routes[] = {
    {"GET", "/api/v1/monitor/assets", HTTP_LECTEUR, get_assets, "monitor",
     "Équipements surveillés de la commune active (capteurs, alertes et "
     "tickets en cours)",
     NULL, LIST_OF("assets", ASSET_SCHEMA)},
    {"POST", "/api/v1/monitor/assets", HTTP_AGENT, post_asset, "monitor",
     "Créer un équipement (webhook_url : administrateur)", ASSET_BODY,
     ASSET_SCHEMA},
    {"GET", "/api/v1/monitor/assets/{id}", HTTP_LECTEUR, get_asset, "monitor",
     "Un équipement", NULL, ASSET_SCHEMA},
    {"PUT", "/api/v1/monitor/assets/{id}", HTTP_AGENT, put_asset, "monitor",
     "Modifier un équipement (champs absents inchangés ; webhook_url : "
     "administrateur)",
     ASSET_BODY, ASSET_SCHEMA},
    {"DELETE", "/api/v1/monitor/assets/{id}", HTTP_ADMIN, delete_asset,
     "monitor",
     "Supprimer un équipement avec ses capteurs, mesures, alertes "
     "et tickets",
     NULL, NULL},
    {"GET", "/api/v1/monitor/assets/{id}/params", HTTP_LECTEUR,
     get_asset_params, "monitor",
     "Paramètres de détection d'un équipement (les siens et ceux en vigueur)",
     NULL, PARAMS_SCHEMA},
    {"PUT", "/api/v1/monitor/assets/{id}/params", HTTP_AGENT, put_asset_params,
     "monitor", "Régler la détection d'un équipement ({} : par défaut)",
     PARAMS_BODY, PARAMS_SCHEMA},
    {"GET", "/api/v1/monitor/sensors", HTTP_LECTEUR, get_sensors, "monitor",
     "Capteurs de la commune active (?asset=)", NULL,
     LIST_OF("sensors", SENSOR_SCHEMA)},
    {"POST", "/api/v1/monitor/sensors", HTTP_AGENT, post_sensor, "monitor",
     "Créer un capteur sur un équipement (code unique dans la commune)",
     SENSOR_BODY, SENSOR_SCHEMA},
    {"GET", "/api/v1/monitor/sensors/{code}", HTTP_LECTEUR, get_sensor,
     "monitor", "Un capteur (dernière mesure, nombre de mesures)", NULL,
     SENSOR_SCHEMA},
    {"PUT", "/api/v1/monitor/sensors/{code}", HTTP_AGENT, put_sensor, "monitor",
     "Modifier un capteur (champs absents inchangés)", SENSOR_BODY,
     SENSOR_SCHEMA},
    {"DELETE", "/api/v1/monitor/sensors/{code}", HTTP_ADMIN, delete_sensor,
     "monitor", "Supprimer un capteur avec ses mesures et alertes", NULL, NULL},
    {"GET", "/api/v1/monitor/sensors/{code}/params", HTTP_LECTEUR,
     get_sensor_params, "monitor",
     "Paramètres de détection d'un capteur (les siens et ceux en vigueur)",
     NULL, PARAMS_SCHEMA},
    {"PUT", "/api/v1/monitor/sensors/{code}/params", HTTP_AGENT,
     put_sensor_params, "monitor",
     "Régler la détection d'un capteur ({} : ceux de l'équipement)",
     PARAMS_BODY, PARAMS_SCHEMA},
    {"POST", "/api/v1/monitor/sensors/{code}/points", HTTP_AGENT, post_points,
     "monitor",
     "Envoyer des mesures (JSON ou CSV ; doublons ignorés, retards stockés ; "
     "429 au-delà du débit du capteur)",
     POINTS_BODY, INGEST_SCHEMA},
    {"GET", "/api/v1/monitor/sensors/{code}/points", HTTP_LECTEUR, get_points,
     "monitor",
     "Mesures d'un capteur sur une période (?from=, ?to= ; 8 derniers jours "
     "par défaut)",
     NULL, POINTS_SCHEMA},
    {"GET", "/api/v1/monitor/alerts", HTTP_LECTEUR, get_alerts, "monitor",
     "Alertes (?status=ouverte|acquittee|resolue|en_cours, ?asset=, "
     "?sensor=, ?limit=, ?offset=), les plus récentes d'abord",
     NULL, LIST_OF("alerts", ALERT_SCHEMA)},
    {"GET", "/api/v1/monitor/alerts/{id}", HTTP_LECTEUR, get_alert, "monitor",
     "Une alerte avec son explication", NULL, ALERT_SCHEMA},
    {"POST", "/api/v1/monitor/alerts/{id}/ack", HTTP_AGENT, post_alert_ack,
     "monitor", "Acquitter une alerte (commentaire facultatif)", COMMENT_BODY,
     ALERT_SCHEMA},
    {"POST", "/api/v1/monitor/alerts/{id}/resolve", HTTP_AGENT,
     post_alert_resolve, "monitor",
     "Résoudre une alerte (commentaire et verdict facultatifs : reelle ou "
     "fausse_alerte)",
     RESOLVE_BODY,
     ALERT_SCHEMA},
    {"GET", "/api/v1/monitor/tickets", HTTP_LECTEUR, get_tickets, "monitor",
     "Tickets de maintenance (?asset=, ?open=1), les plus récents d'abord",
     NULL, LIST_OF("tickets", TICKET_SCHEMA)},
    {"POST", "/api/v1/monitor/tickets", HTTP_AGENT, post_ticket, "monitor",
     "Ouvrir un ticket sur un équipement ou depuis une alerte", TICKET_BODY,
     TICKET_SCHEMA},
    {"GET", "/api/v1/monitor/tickets/{id}", HTTP_LECTEUR, get_ticket, "monitor",
     "Un ticket", NULL, TICKET_SCHEMA},
    {"PUT", "/api/v1/monitor/tickets/{id}", HTTP_AGENT, put_ticket, "monitor",
     "Modifier un ticket (titre, description, statut)", TICKET_BODY,
     TICKET_SCHEMA},
};

const struct http_routes mon_routes = {"monitor", routes, GU_ARRAY_LEN(routes)};
