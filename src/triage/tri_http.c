/*
 * tri_http.c - the JSON API of the request inbox (tri.h, « HTTP
 * surface »; contract in docs/triage-api.md, kept in sync with
 * /api/v1/openapi.json through the schemas of the route table at the end
 * of this file).
 *
 * Two faces:
 *  - residents (public): file a request (POST /api/v1/demandes, limited
 *    per client IP by triage.rate_ip per hour), follow it with the token
 *    of the link they received, and write to the mairie about it. Every
 *    unknown, malformed or outdated token gets the same 404;
 *  - agents (session or API token, active commune): the inbox with its
 *    filters and cursor, one request with its thread, attachments,
 *    decisions and case, the actions of tri_inbox.c, the taxonomy
 *    (admin writes), reply templates, the model (retrain: admin) and a
 *    dry-run classification, and the e-mail sources (admin; their secret
 *    is write-only).
 *
 * Who sees what: role lecteur gets the redacted subject, text and
 * messages, and neither contact, address nor place; agents and admins
 * get the originals. A request of another commune is a 404, as is any id
 * that does not exist. Handlers only turn JSON into tri.h calls and
 * results into JSON; errors are problem+json with a French detail and,
 * for a bad field, its name in `champ` (422).
 */
#include "portal/portal.h"
#include "privacy/privacy.h"
#include "triage/tri.h"
#include "web/http.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define BODY_MAX (64 * 1024)  /* bytes of a JSON body */
#define LIST_DEFAULT 50
#define EXCERPT_MAX 240       /* bytes of the text in list rows */
#define SOURCES_MAX 20        /* mail sources of one commune */
#define LOCATION_MAX 1024
#define RETRAIN_PER_HOUR 6    /* retrains of one commune */
#define CLASSIFY_MAX 5000     /* bytes classified in a dry run */

static const char LINK_GONE[] =
    "Ce lien de suivi n’est pas valide ou a expiré. Utilisez le lien du "
    "dernier courriel reçu de la mairie, ou contactez-la en rappelant le "
    "numéro de votre demande.";

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int
read_body(struct http_req *req, json_t **out)
{
    size_t n = 0;

    http_body(req, &n);
    if (n > BODY_MAX)
        return gu_err_set(&req->err, GU_ETOOBIG, NULL,
                          "La requête dépasse 64 Kio.", "body too large");
    return http_body_json(req, out);
}

/* "" for NULL (strings of an arena that ran out). */
static const char *
nz(const char *s)
{
    return s ? s : "";
}

static json_t *
jstr(const char *s)
{
    return json_string(s ? s : "");
}

/* Add to o; a NULL value (allocation failure) is simply skipped. */
static void
put(json_t *o, const char *k, json_t *v)
{
    if (v)
        json_object_set_new(o, k, v);
}

/* A JSON array stored as text, parsed; [] when absent or broken. */
static json_t *
jtext(const char *s)
{
    json_t *j = s && *s ? json_loads(s, 0, NULL) : NULL;
    return j ? j : json_array();
}

/* Agents and admins read the originals; readers the redacted copies. */
static bool
sees_originals(struct http_req *req)
{
    return req->who.role >= STORE_ROLE_AGENT;
}

static const char *
public_base(struct http_req *req)
{
    return gu_public_base(req->arena, req->cfg);
}

/*
 * One hit of a per-hour limit on `key` (limit `limit`, 0 = none);
 * GU_ERATE with Retry-After beyond it.
 */
static int
rate(struct http_req *req, struct http_resp *resp, long limit,
     const char *key)
{
    int retry = 0, rc;
    char v[16];

    if (limit <= 0)
        return 0;
    rc = store_rate_hit(req->conn, key, (int)limit, 3600, &retry, &req->err);
    if (rc == GU_ERATE) {
        snprintf(v, sizeof(v), "%d", retry > 0 ? retry : 60);
        http_add_header(resp, "Retry-After", v);
        gu_err_set(&req->err, GU_ERATE, NULL,
                   "Trop d’envois depuis votre connexion : réessayez dans "
                   "une heure, ou contactez directement la mairie.",
                   "triage: rate limit %s", key);
    }
    return rc;
}

static int
rate_ip(struct http_req *req, struct http_resp *resp, const char *what)
{
    char key[128];

    snprintf(key, sizeof(key), "tri.%s:%s", what,
             req->client_ip ? req->client_ip : "");
    return rate(req, resp,
                req->cfg ? gu_config_int(req->cfg, "triage.rate_ip") : 0, key);
}

/* An optional integer query argument in [min, max], default def. */
static int
query_long(struct http_req *req, const char *name, long min, long max,
           long def, long *out)
{
    const char *s = http_query(req, name);
    char user[200];

    *out = def;
    if (!s || !*s)
        return 0;
    if (gu_parse_long(s, min, max, out) < 0) {
        snprintf(user, sizeof(user),
                 "Le paramètre « %s » doit être un nombre entier entre %ld et "
                 "%ld.",
                 name, min, max);
        return gu_err_set(&req->err, GU_EINVAL, name, user, "bad %s", name);
    }
    return 0;
}

/* The first `max` bytes of s cut on a character boundary, with « … ». */
static const char *
excerpt(struct gu_arena *a, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n <= max)
        return s ? s : "";
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return gu_arena_sprintf(a, "%.*s…", (int)max, s);
}

/* ------------------------------------------------------------------ */
/* Requests as JSON                                                    */
/* ------------------------------------------------------------------ */

static json_t *
service_json(int64_t id, const char *code, const char *name)
{
    if (id <= 0)
        return json_null();
    return json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "code",
                     code ? code : "", "nom", name ? name : "");
}

/* A request for agents (`full`: the whole text, else an excerpt). */
static json_t *
request_json(struct http_req *req, const struct tri_request *r, bool full)
{
    bool orig = sees_originals(req);
    json_t *o = json_object();
    const char *subject = orig ? r->subject : r->subject_redacted;
    const char *body = orig ? r->body : r->body_redacted;
    int64_t now = gu_now();

    if (!o)
        return NULL;
    put(o, "id", json_integer(r->id));
    put(o, "numero", jstr(r->number));
    put(o, "canal", jstr(tri_channel_name(r->channel)));
    put(o, "statut", jstr(tri_status_name(r->status)));
    put(o, "statut_libelle", jstr(tri_status_label(r->status)));
    put(o, "objet", jstr(subject));
    if (full)
        put(o, "texte", jstr(body));
    else
        put(o, "extrait", jstr(excerpt(req->arena, body, EXCERPT_MAX)));
    put(o, "service",
        service_json(r->service_id, r->service_code, r->service_name));
    put(o, "service_source", jstr(r->service_source));
    put(o, "categorie_usager", jstr(r->category_hint));
    put(o, "confiance", json_real(r->confidence));
    put(o, "version_modele", jstr(r->model_version));
    put(o, "urgence", json_integer(r->urgency));
    put(o, "urgence_libelle", jstr(tri_urgency_label(r->urgency)));
    if (full) {
        put(o, "pourquoi", jtext(r->why));
        put(o, "raisons_urgence", jtext(r->urgency_reasons));
    }
    put(o, "cas", r->case_id > 0 ? json_integer(r->case_id) : json_null());
    put(o, "taille_cas", json_integer((json_int_t)r->case_size));
    if (orig) {
        put(o, "adresse", jstr(r->address));
        if (r->lat != 0 || r->lon != 0) {
            put(o, "lat", json_real(r->lat));
            put(o, "lon", json_real(r->lon));
        }
        put(o, "contact",
            json_pack("{s:s, s:s, s:s}", "nom",
                      r->contact_name ? r->contact_name : "", "courriel",
                      r->contact_email ? r->contact_email : "", "telephone",
                      r->contact_phone ? r->contact_phone : ""));
        put(o, "origine", jstr(r->origin));
    }
    put(o, "notifier", json_boolean(r->notify));
    put(o, "assigne",
        r->assigned_to > 0
            ? json_pack("{s:I, s:s}", "id", (json_int_t)r->assigned_to,
                        "login", r->assigned_login ? r->assigned_login : "")
            : json_null());
    put(o, "echeance", gu_json_time(r->due_at));
    put(o, "en_retard",
        json_boolean(r->due_at > 0 && r->due_at < now &&
                     r->status != TRI_RESOLUE && r->status != TRI_REJETEE));
    put(o, "premiere_reponse_le", gu_json_time(r->first_reply_at));
    put(o, "resolue_le", gu_json_time(r->resolved_at));
    put(o, "cree_le", gu_json_time(r->created_at));
    put(o, "mis_a_jour_le", gu_json_time(r->updated_at));
    put(o, "anonymisee", json_boolean(r->anonymised_at > 0));
    return o;
}

/* The agent's commune, or an error. */
static int
need_commune(struct http_req *req)
{
    return http_need_commune(req);
}

/* One request with its thread, attachments, decisions and case. */
static int
detail_reply(struct http_req *req, struct http_resp *resp, int64_t id,
             int status)
{
    const char *insee = req->who.insee;
    struct tri_request r, *members = NULL;
    struct tri_message *msgs = NULL;
    struct tri_attachment *atts = NULL;
    struct tri_decision *decs = NULL;
    size_t nm = 0, na = 0, nd = 0, nc = 0;
    bool orig = sees_originals(req);
    json_t *o, *arr;
    int rc;

    if ((rc = tri_get(req->conn, req->arena, insee, id, &r, &req->err)) < 0 ||
        (rc = tri_messages(req->conn, req->arena, insee, id, &msgs, &nm,
                           &req->err)) < 0 ||
        (rc = tri_attachments(req->conn, req->arena, insee, id, &atts, &na,
                              &req->err)) < 0 ||
        (rc = tri_decisions(req->conn, req->arena, insee, id, &decs, &nd,
                            &req->err)) < 0)
        return rc;
    if (r.case_size > 1) {
        struct tri_filter f;
        memset(&f, 0, sizeof(f));
        f.status = -2;
        f.case_id = r.case_id > 0 ? r.case_id : r.id;
        f.limit = TRI_LIST_MAX;
        rc = tri_list(req->conn, req->arena, insee, &f, &members, &nc,
                      &req->err);
        if (rc < 0)
            return rc;
    }
    o = gu_json_arena(req->arena, request_json(req, &r, true));
    if (!o)
        return GU_ENOMEM;
    json_incref(o);
    arr = json_array();
    for (size_t i = 0; arr && i < nm; i++) {
        const struct tri_message *m = &msgs[i];
        json_t *j = json_pack(
            "{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)m->id, "type",
            tri_msg_kind_name(m->kind), "auteur", m->author ? m->author : "",
            "texte", (orig ? m->body : m->body_redacted) ? (orig ? m->body
                                                                 : m->body_redacted)
                                                         : "",
            "le", gu_json_time(m->created_at));
        if (j && orig)
            put(j, "de", jstr(m->from_addr));
        if (j)
            put(j, "courriel", json_boolean(m->mail_id > 0 ||
                                            (m->mail_message_id &&
                                             *m->mail_message_id)));
        if (j)
            json_array_append_new(arr, j);
    }
    put(o, "messages", arr);
    arr = json_array();
    for (size_t i = 0; arr && i < na; i++) {
        const struct tri_attachment *t = &atts[i];
        json_t *j = json_pack(
            "{s:I, s:s, s:s, s:I, s:s, s:o, s:s}", "id", (json_int_t)t->id,
            "nom", orig && t->filename ? t->filename : "", "type",
            t->ctype ? t->ctype : "", "taille", (json_int_t)t->size, "sha256",
            t->sha256 ? t->sha256 : "", "le", gu_json_time(t->created_at),
            "url",
            nz(gu_arena_sprintf(req->arena,
                                "/api/v1/demandes/%lld/pieces/%lld",
                                (long long)id, (long long)t->id)));
        if (j)
            json_array_append_new(arr, j);
    }
    put(o, "pieces", arr);
    arr = json_array();
    for (size_t i = 0; arr && i < nd; i++) {
        const struct tri_decision *d = &decs[i];
        json_t *j = json_pack(
            "{s:s, s:s, s:s, s:f, s:s, s:s, s:s, s:o}", "type",
            d->kind ? d->kind : "", "valeur", d->value ? d->value : "",
            "precedent", d->previous ? d->previous : "", "confiance",
            d->confidence, "version_modele",
            d->model_version ? d->model_version : "", "source",
            d->source ? d->source : "", "acteur", d->actor ? d->actor : "",
            "le", gu_json_time(d->created_at));
        if (j)
            json_array_append_new(arr, j);
    }
    put(o, "decisions", arr);
    arr = json_array();
    for (size_t i = 0; arr && i < nc; i++) {
        json_t *j = json_pack("{s:I, s:s, s:s, s:o}", "id",
                              (json_int_t)members[i].id, "numero",
                              members[i].number ? members[i].number : "",
                              "statut", tri_status_name(members[i].status),
                              "cree_le", gu_json_time(members[i].created_at));
        if (j)
            json_array_append_new(arr, j);
    }
    put(o, "membres_cas", arr);
    return http_json(resp, status, o);
}

/* ------------------------------------------------------------------ */
/* Residents                                                           */
/* ------------------------------------------------------------------ */

/* An optional string member, NULL when absent or null. */
static int
opt_str(struct http_req *req, json_t *b, const char *k, size_t max,
        const char **out)
{
    *out = NULL;
    return gu_json_str(b, k, false, max, out, &req->err);
}

static int
post_demande(struct http_req *req, struct http_resp *resp)
{
    struct tri_intake_req in;
    struct tri_intake_res res;
    struct store_commune m;
    json_t *b = NULL, *o;
    const char *insee = http_query(req, "c"), *def;
    bool notify_set = false;
    int rc;

    if ((rc = rate_ip(req, resp, "intake")) < 0 ||
        (rc = read_body(req, &b)) < 0)
        return rc;
    memset(&in, 0, sizeof(in));
    if ((!insee || !*insee) &&
        (rc = opt_str(req, b, "c", 5, &insee)) < 0)
        return rc;
    def = req->cfg ? gu_config_str(req->cfg, "commune.default") : "";
    rc = portal_commune_load(req->conn, req->arena,
                             insee && *insee ? insee : NULL, def, &m,
                             &req->err);
    if (rc < 0)
        return rc;
    in.insee = m.insee;
    in.channel = TRI_WEB;
    in.actor = "usager";
    if ((rc = opt_str(req, b, "objet", TRI_SUBJECT_MAX, &in.subject)) < 0 ||
        (rc = gu_json_str(b, "texte", true, TRI_BODY_MAX, &in.body,
                          &req->err)) < 0 ||
        (rc = opt_str(req, b, "categorie", 64, &in.category_hint)) < 0 ||
        (rc = opt_str(req, b, "adresse", TRI_ADDRESS_MAX, &in.address)) < 0 ||
        (rc = opt_str(req, b, "nom", TRI_NAME_MAX, &in.contact_name)) < 0 ||
        (rc = opt_str(req, b, "courriel", 254, &in.contact_email)) < 0 ||
        (rc = opt_str(req, b, "telephone", 32, &in.contact_phone)) < 0)
        return rc;
    if (!in.subject)
        in.subject = "";
    {
        json_t *jn = json_object_get(b, "notifier");
        if (jn && !json_is_null(jn)) {
            if (!json_is_boolean(jn))
                return gu_err_set(&req->err, GU_EINVAL, "notifier",
                                  "« notifier » vaut true ou false.",
                                  "bad notifier");
            in.notify = json_is_true(jn);
            notify_set = true;
        }
    }
    if (!notify_set)
        in.notify = in.contact_email && *in.contact_email;
    {
        json_t *la = json_object_get(b, "lat"), *lo = json_object_get(b, "lon");
        bool has_la = la && !json_is_null(la), has_lo = lo && !json_is_null(lo);
        if (has_la != has_lo || (has_la && (!json_is_number(la) ||
                                            !json_is_number(lo))))
            return gu_err_set(&req->err, GU_EINVAL, has_la ? "lon" : "lat",
                              "Donnez la latitude et la longitude ensemble, "
                              "en nombres décimaux.",
                              "bad lat/lon");
        if (has_la) {
            in.lat = json_number_value(la);
            in.lon = json_number_value(lo);
            if (!isfinite(in.lat) || !isfinite(in.lon) || in.lat < -90 ||
                in.lat > 90 || in.lon < -180 || in.lon > 180)
                return gu_err_set(&req->err, GU_EINVAL, "lat",
                                  "Position invalide : latitude entre -90 et "
                                  "90, longitude entre -180 et 180.",
                                  "lat/lon out of range");
        }
    }
    rc = tri_intake(store_conn_store(req->conn), req->conn, req->cfg, &in,
                    req->arena, &res, &req->err);
    if (rc < 0)
        return rc;
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "numero",
                  res.number ? res.number : "", "jeton",
                  res.token ? res.token : "", "suivi_url",
                  nz(gu_arena_sprintf(req->arena, "%s/demande/suivi/%s",
                                      nz(public_base(req)), nz(res.token))),
                  "statut", tri_status_name(res.status), "statut_libelle",
                  tri_status_label(res.status), "commune", m.insee, "message",
                  nz(gu_arena_sprintf(req->arena,
                                      "Votre demande n° %s est enregistrée. "
                                      "Gardez le lien de suivi : il permet "
                                      "de la suivre et d’écrire à la "
                                      "mairie.",
                                      nz(res.number))));
    return http_json(resp, 201, o);
}

static int
resident_request(struct http_req *req, struct tri_request *r)
{
    const char *tok = http_param(req, "token");
    int rc = gu_token_shape(tok, TRI_TOKEN_LEN)
                 ? tri_get_by_token(req->conn, req->arena, tok, r, &req->err)
                 : GU_ENOTFOUND;

    if (rc == GU_EDB || rc == GU_ENOMEM)
        return rc; /* a failure, not an unknown link */
    if (rc < 0 || r->anonymised_at > 0) {
        gu_err_clear(&req->err);
        return gu_err_set(&req->err, GU_ENOTFOUND, NULL, LINK_GONE,
                          "triage: unknown status token");
    }
    return 0;
}

static int
get_suivi(struct http_req *req, struct http_resp *resp)
{
    struct tri_request r;
    struct tri_message *msgs = NULL;
    struct store_commune m;
    size_t nm = 0;
    json_t *o, *arr;
    int rc;

    if ((rc = resident_request(req, &r)) < 0 ||
        (rc = tri_messages(req->conn, req->arena, r.insee, r.id, &msgs, &nm,
                           &req->err)) < 0 ||
        (rc = store_commune_get(req->conn, req->arena, r.insee, &m,
                                &req->err)) < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < nm; i++) {
        /* The resident sees the conversation, not internal notes. */
        if (msgs[i].kind != TRI_MSG_IN && msgs[i].kind != TRI_MSG_OUT)
            continue;
        json_t *j = json_pack("{s:s, s:s, s:o}", "de",
                              msgs[i].kind == TRI_MSG_IN ? "usager" : "mairie",
                              "texte", msgs[i].body ? msgs[i].body : "", "le",
                              gu_json_time(msgs[i].created_at));
        if (j)
            json_array_append_new(arr, j);
    }
    o = json_object();
    if (!o) {
        json_decref(arr);
        return GU_ENOMEM;
    }
    put(o, "numero", jstr(r.number));
    put(o, "statut", jstr(tri_status_name(r.status)));
    put(o, "statut_libelle", jstr(tri_status_label(r.status)));
    put(o, "service", r.service_id > 0 ? jstr(r.service_name) : json_null());
    put(o, "objet", jstr(r.subject));
    put(o, "texte", jstr(r.body));
    put(o, "cree_le", gu_json_time(r.created_at));
    put(o, "mis_a_jour_le", gu_json_time(r.updated_at));
    put(o, "resolue_le", gu_json_time(r.resolved_at));
    put(o, "messages", arr);
    put(o, "commune", json_pack("{s:s, s:s}", "insee", m.insee, "nom",
                                m.name ? m.name : ""));
    return http_json(resp, 200, o);
}

static int
post_suivi_message(struct http_req *req, struct http_resp *resp)
{
    struct tri_request r;
    json_t *b = NULL;
    const char *text = NULL;
    int64_t mid = 0;
    int rc;

    if ((rc = rate_ip(req, resp, "message")) < 0 ||
        (rc = resident_request(req, &r)) < 0 ||
        (rc = read_body(req, &b)) < 0 ||
        (rc = gu_json_str(b, "texte", true, TRI_BODY_MAX, &text,
                          &req->err)) < 0)
        return rc;
    if (r.status == TRI_REJETEE)
        return gu_err_set(&req->err, GU_ECONFLICT, NULL,
                          "Cette demande a été classée sans suite : pour une "
                          "nouvelle demande, utilisez le formulaire.",
                          "triage: message to rejected");
    rc = tri_message_add(req->conn, r.insee, r.id, TRI_MSG_IN, "usager", "",
                         text, NULL, NULL, 0, &mid, &req->err);
    if (rc < 0)
        return rc;
    if ((rc = tri_get(req->conn, req->arena, r.insee, r.id, &r,
                      &req->err)) < 0)
        return rc;
    return http_json(resp, 201,
                     json_pack("{s:I, s:s, s:s}", "id", (json_int_t)mid,
                               "statut", tri_status_name(r.status),
                               "statut_libelle", tri_status_label(r.status)));
}

/* ------------------------------------------------------------------ */
/* Agents: the inbox                                                   */
/* ------------------------------------------------------------------ */

/* A service given as an id or a code (JSON); *out 0 for null. Codes are
 * looked up among the active services, or all of them for a filter
 * (`any`: old requests keep a deactivated service). */
static int
service_ref_in(struct http_req *req, json_t *v, const char *field, bool any,
               int64_t *out)
{
    if (json_is_null(v)) {
        *out = 0;
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        struct tri_service *s = NULL;
        size_t n = 0;
        const char *code = json_string_value(v);
        int rc = tri_service_list(req->conn, req->arena, req->who.insee,
                                  !any, &s, &n, &req->err);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(s[i].code, code) == 0) {
                *out = s[i].id;
                return 0;
            }
        }
    }
    return gu_err_set(&req->err, GU_EINVAL, field,
                      "Service inconnu ou désactivé dans cette commune "
                      "(identifiant ou code).",
                      "bad service ref");
}

static int
service_ref(struct http_req *req, json_t *v, const char *field, int64_t *out)
{
    return service_ref_in(req, v, field, false, out);
}

/*
 * The members of `b` a change may hold into *ch (absent = unchanged):
 * statut, service (id, code or null), urgence, assigne (id, "moi" or
 * null) and, when with_case, cas (id, or null to leave).
 */
static int
parse_change(struct http_req *req, json_t *b, bool with_case,
             struct tri_change *ch)
{
    json_t *v;
    int rc;

    ch->status = ch->urgency = -1;
    ch->service_id = ch->assigned_to = ch->case_id = -1;
    if ((v = json_object_get(b, "statut"))) {
        enum tri_status st;
        if (!json_is_string(v) ||
            tri_status_parse(json_string_value(v), &st) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "statut",
                              "Statut inconnu : a_trier, nouvelle, en_cours, "
                              "attente, resolue ou rejetee.",
                              "bad statut");
        ch->status = (int)st;
    }
    if ((v = json_object_get(b, "service")) &&
        (rc = service_ref(req, v, "service", &ch->service_id)) < 0)
        return rc;
    if ((v = json_object_get(b, "urgence"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > TRI_URGENCY_MAX)
            return gu_err_set(&req->err, GU_EINVAL, "urgence",
                              "L’urgence vaut 0 (normale), 1 (prioritaire) "
                              "ou 2 (urgente).",
                              "bad urgence");
        ch->urgency = (int)json_integer_value(v);
    }
    if ((v = json_object_get(b, "assigne"))) {
        if (json_is_null(v))
            ch->assigned_to = 0;
        else if (json_is_integer(v) && json_integer_value(v) > 0)
            ch->assigned_to = json_integer_value(v);
        else if (json_is_string(v) && strcmp(json_string_value(v), "moi") == 0 &&
                 req->who.agent_id > 0)
            ch->assigned_to = req->who.agent_id;
        else
            return gu_err_set(&req->err, GU_EINVAL, "assigne",
                              "« assigne » est l’identifiant d’un agent, "
                              "« moi » (session d’un agent) ou null.",
                              "bad assigne");
    }
    if (with_case && (v = json_object_get(b, "cas"))) {
        if (json_is_null(v))
            ch->case_id = 0;
        else if (json_is_integer(v) && json_integer_value(v) > 0)
            ch->case_id = json_integer_value(v);
        else
            return gu_err_set(&req->err, GU_EINVAL, "cas",
                              "« cas » est l’identifiant d’une demande, ou "
                              "null pour sortir du cas.",
                              "bad cas");
    }
    return 0;
}

static int
get_demandes(struct http_req *req, struct http_resp *resp)
{
    struct tri_filter f;
    struct tri_request *rows = NULL;
    size_t n = 0;
    const char *s;
    long v;
    json_t *o, *arr;
    int rc;

    if ((rc = need_commune(req)) < 0)
        return rc;
    memset(&f, 0, sizeof(f));
    f.status = -1;
    s = http_query(req, "statut");
    if (s && *s) {
        enum tri_status st;
        if (strcmp(s, "ouvertes") == 0)
            f.status = -1;
        else if (strcmp(s, "toutes") == 0)
            f.status = -2;
        else if (tri_status_parse(s, &st) == 0)
            f.status = (int)st;
        else
            return gu_err_set(&req->err, GU_EINVAL, "statut",
                              "Statut inconnu : ouvertes, toutes, a_trier, "
                              "nouvelle, en_cours, attente, resolue ou "
                              "rejetee.",
                              "bad statut filter");
    }
    s = http_query(req, "service");
    if (s && *s) {
        if (strcmp(s, "aucun") == 0) {
            f.service_id = -1;
        } else {
            json_t *j = gu_json_arena(req->arena, json_string(s));
            if (gu_parse_long(s, 1, LONG_MAX, &v) == 0)
                f.service_id = v;
            else if (!j || (rc = service_ref_in(req, j, "service", true,
                                                &f.service_id)) < 0)
                return j ? rc : GU_ENOMEM;
        }
    }
    if ((rc = query_long(req, "urgence", 0, TRI_URGENCY_MAX, 0, &v)) < 0)
        return rc;
    f.urgency_min = (int)v;
    if ((rc = query_long(req, "age_min_h", 0, 87600, 0, &v)) < 0)
        return rc;
    f.age_min_h = (int)v;
    s = http_query(req, "assigne");
    if (s && *s) {
        if (strcmp(s, "personne") == 0)
            f.assigned_to = -1;
        else if (strcmp(s, "moi") == 0 && req->who.agent_id > 0)
            f.assigned_to = req->who.agent_id;
        else if (gu_parse_long(s, 1, LONG_MAX, &v) == 0)
            f.assigned_to = v;
        else
            return gu_err_set(&req->err, GU_EINVAL, "assigne",
                              "« assigne » vaut un identifiant d’agent, "
                              "« moi » ou « personne ».",
                              "bad assigne filter");
    }
    f.q = http_query(req, "q");
    if (f.q && !*f.q)
        f.q = NULL;
    if ((rc = query_long(req, "cas", 1, LONG_MAX, 0, &v)) < 0)
        return rc;
    f.case_id = v;
    s = http_query(req, "en_retard");
    f.overdue = s && (strcmp(s, "1") == 0 || strcmp(s, "true") == 0);
    if ((rc = query_long(req, "avant", 1, LONG_MAX, 0, &v)) < 0)
        return rc;
    f.before_id = v;
    if ((rc = query_long(req, "limite", 1, TRI_LIST_MAX, LIST_DEFAULT, &v)) <
        0)
        return rc;
    f.limit = (size_t)v;
    rc = tri_list(req->conn, req->arena, req->who.insee, &f, &rows, &n,
                  &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        /* A reader's words must be in what a reader sees: searching the
           originals would tell whether a name or a number is in a
           request (the page may then hold fewer rows than `limite`). */
        if (f.q && !sees_originals(req) &&
            !strcasestr(rows[i].subject_redacted ? rows[i].subject_redacted
                                                 : "",
                        f.q) &&
            !strcasestr(rows[i].body_redacted ? rows[i].body_redacted : "",
                        f.q) &&
            strcmp(rows[i].number ? rows[i].number : "", f.q) != 0)
            continue;
        json_t *j = request_json(req, &rows[i], false);
        if (j)
            json_array_append_new(arr, j);
    }
    o = json_pack("{s:o, s:o}", "demandes", arr ? arr : json_array(),
                  "suivant",
                  n == f.limit && n > 0 ? json_integer(rows[n - 1].id)
                                        : json_null());
    return http_json(resp, 200, o);
}

static int
get_demande(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    return detail_reply(req, resp, id, 200);
}

static int
patch_demande(struct http_req *req, struct http_resp *resp)
{
    struct tri_change ch;
    json_t *b = NULL;
    int64_t id;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = read_body(req, &b)) < 0 ||
        (rc = parse_change(req, b, false, &ch)) < 0 ||
        (rc = tri_update(req->conn, req->cfg, req->who.insee, id, &ch,
                         http_actor(req), &req->err)) < 0)
        return rc;
    return detail_reply(req, resp, id, 200);
}

static int
post_note(struct http_req *req, struct http_resp *resp)
{
    json_t *b = NULL;
    const char *text = NULL;
    int64_t id, nid = 0;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = read_body(req, &b)) < 0 ||
        (rc = gu_json_str(b, "texte", true, TRI_BODY_MAX, &text,
                          &req->err)) < 0 ||
        (rc = tri_note(req->conn, req->who.insee, id, text, http_actor(req),
                       &nid, &req->err)) < 0)
        return rc;
    return http_json(resp, 201,
                     json_pack("{s:I, s:s}", "id", (json_int_t)nid, "type",
                               "note"));
}

static int
post_reply(struct http_req *req, struct http_resp *resp)
{
    json_t *b = NULL, *v;
    const char *text = NULL;
    int64_t id, mid = 0, tpl = 0;
    int status = -1, rc;
    bool no_mail = false;
    struct tri_request r;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = read_body(req, &b)) < 0 ||
        (rc = gu_json_str(b, "texte", false, TRI_BODY_MAX, &text,
                          &req->err)) < 0 ||
        (rc = gu_json_bool(b, "sans_courriel", false, &no_mail, &req->err)) <
            0)
        return rc;
    if ((v = json_object_get(b, "modele")) && !json_is_null(v)) {
        struct tri_template *ts = NULL;
        size_t n = 0;
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return gu_err_set(&req->err, GU_EINVAL, "modele",
                              "« modele » est l’identifiant d’un modèle de "
                              "réponse.",
                              "bad modele");
        tpl = json_integer_value(v);
        if ((rc = tri_template_list(req->conn, req->arena, req->who.insee,
                                    &ts, &n, &req->err)) < 0)
            return rc;
        const char *body = NULL;
        for (size_t i = 0; i < n; i++)
            if (ts[i].id == tpl)
                body = ts[i].body;
        if (!body)
            return gu_err_set(&req->err, GU_EINVAL, "modele",
                              "Ce modèle de réponse n’existe pas dans la "
                              "commune.",
                              "no template");
        if (!text || !*text)
            text = body;
    }
    if ((v = json_object_get(b, "statut")) && !json_is_null(v)) {
        enum tri_status st;
        if (!json_is_string(v) ||
            tri_status_parse(json_string_value(v), &st) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "statut",
                              "Statut inconnu : a_trier, nouvelle, en_cours, "
                              "attente, resolue ou rejetee.",
                              "bad statut");
        status = (int)st;
    }
    if (!text)
        text = "";
    rc = tri_reply(req->conn, req->cfg, req->who.insee, id, text, status,
                   no_mail, http_actor(req), &mid, &req->err);
    if (rc < 0)
        return rc;
    if ((rc = tri_get(req->conn, req->arena, req->who.insee, id, &r,
                      &req->err)) < 0)
        return rc;
    return http_json(resp, 201,
                     json_pack("{s:I, s:s, s:b, s:s}", "id", (json_int_t)mid,
                               "type", "sortant", "courriel",
                               r.contact_email && *r.contact_email,
                               "statut", tri_status_name(r.status)));
}

static int
post_fusion(struct http_req *req, struct http_resp *resp)
{
    struct tri_change ch = {-1, -1, -1, -1, -1};
    json_t *b = NULL, *v;
    int64_t id;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = read_body(req, &b)) < 0)
        return rc;
    v = json_object_get(b, "cas");
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return gu_err_set(&req->err, GU_EINVAL, "cas",
                          "« cas » est l’identifiant de la demande à laquelle "
                          "rattacher celle-ci.",
                          "bad cas");
    ch.case_id = json_integer_value(v);
    if ((rc = tri_update(req->conn, req->cfg, req->who.insee, id, &ch,
                         http_actor(req), &req->err)) < 0)
        return rc;
    return detail_reply(req, resp, id, 200);
}

static int
delete_fusion(struct http_req *req, struct http_resp *resp)
{
    struct tri_change ch = {-1, -1, -1, -1, 0};
    int64_t id;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = tri_update(req->conn, req->cfg, req->who.insee, id, &ch,
                         http_actor(req), &req->err)) < 0)
        return rc;
    return detail_reply(req, resp, id, 200);
}

static int
post_lot(struct http_req *req, struct http_resp *resp)
{
    struct tri_change ch;
    json_t *b = NULL, *ids, *v;
    int64_t *vals;
    size_t n, i;
    int rc;

    if ((rc = need_commune(req)) < 0 || (rc = read_body(req, &b)) < 0)
        return rc;
    ids = json_object_get(b, "ids");
    if (!json_is_array(ids) || json_array_size(ids) == 0)
        return gu_err_set(&req->err, GU_EINVAL, "ids",
                          "« ids » est la liste des demandes choisies (au "
                          "moins une).",
                          "bad ids");
    n = json_array_size(ids);
    if (n > TRI_BULK_MAX)
        return gu_err_set(&req->err, GU_ETOOBIG, "ids",
                          "Une action groupée porte sur 500 demandes au plus.",
                          "bulk of %zu", n);
    vals = gu_arena_alloc(req->arena, n * sizeof(*vals));
    if (!vals)
        return GU_ENOMEM;
    json_array_foreach(ids, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return gu_err_set(&req->err, GU_EINVAL, "ids",
                              "Chaque élément de « ids » est l’identifiant "
                              "d’une demande.",
                              "bad id in ids");
        vals[i] = json_integer_value(v);
    }
    if ((rc = parse_change(req, b, true, &ch)) < 0 ||
        (rc = tri_bulk(req->conn, req->cfg, req->who.insee, vals, n, &ch,
                       http_actor(req), &req->err)) < 0)
        return rc;
    return http_json(resp, 200,
                     json_pack("{s:I}", "modifiees", (json_int_t)n));
}

/* Quote-safe ASCII file name for Content-Disposition's filename="". */
static const char *
ascii_name(struct gu_arena *a, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    char *o = gu_arena_alloc(a, n + 16);
    size_t k = 0;

    if (!o)
        return "piece";
    for (size_t i = 0; i < n && k < 120; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_')
            o[k++] = (char)ch;
        else if (ch < 0x80 || (ch & 0xC0) == 0xC0)
            o[k++] = '_';
    }
    if (k == 0 || o[0] == '.') {
        memcpy(o, "piece", 5);
        k = 5;
    }
    o[k] = '\0';
    return o;
}

/* RFC 5987 percent-encoding of a UTF-8 name. */
static const char *
pct_name(struct gu_arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = s ? strlen(s) : 0;
    char *o = gu_arena_alloc(a, 3 * n + 1);
    size_t k = 0;

    if (!o)
        return "";
    for (size_t i = 0; i < n && i < 200; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_') {
            o[k++] = (char)ch;
        } else {
            o[k++] = '%';
            o[k++] = hex[ch >> 4];
            o[k++] = hex[ch & 15];
        }
    }
    o[k] = '\0';
    return o;
}

static int
get_piece(struct http_req *req, struct http_resp *resp)
{
    struct tri_attachment meta;
    const void *data = NULL;
    int64_t id, pid;
    const char *ct, *an;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = http_param_id(req, "pid", &pid)) < 0 ||
        (rc = tri_attachment_data(req->conn, req->arena, req->who.insee, id,
                                  pid, &meta, &data, &req->err)) < 0)
        return rc;
    /* Only types we checked by their bytes are named as such. */
    ct = meta.ctype && (strcmp(meta.ctype, "image/jpeg") == 0 ||
                        strcmp(meta.ctype, "image/png") == 0 ||
                        strcmp(meta.ctype, "application/pdf") == 0 ||
                        strcmp(meta.ctype, "audio/wav") == 0)
             ? meta.ctype
             : "application/octet-stream";
    an = ascii_name(req->arena, meta.filename);
    http_add_header(resp, "Content-Disposition",
                    gu_arena_sprintf(req->arena,
                                     "attachment; filename=\"%s\"; "
                                     "filename*=UTF-8''%s",
                                     an, pct_name(req->arena, meta.filename)));
    http_add_header(resp, "X-Content-Type-Options", "nosniff");
    http_add_header(resp, "Cache-Control", "private, no-store");
    http_add_header(resp, "Content-Security-Policy", "sandbox");
    http_audit(req, "tri.piece", gu_arena_sprintf(req->arena,
                                                  "tri_attachments:%lld",
                                                  (long long)pid),
               "demande %lld", (long long)id);
    return http_send(resp, 200, ct, data, (size_t)meta.size);
}

/* ------------------------------------------------------------------ */
/* Services                                                            */
/* ------------------------------------------------------------------ */

static json_t *
svc_json(const struct tri_service *s)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:f, s:i, s:i, s:b}", "id",
                     (json_int_t)s->id, "code", s->code ? s->code : "", "nom",
                     s->name ? s->name : "", "description",
                     s->description ? s->description : "", "courriel",
                     s->email ? s->email : "", "seuil", s->threshold,
                     "delai_h", s->sla_hours, "position", s->position, "actif",
                     s->active);
}

static int
get_services(struct http_req *req, struct http_resp *resp)
{
    struct tri_service *s = NULL;
    size_t n = 0;
    const char *act = http_query(req, "actifs");
    json_t *arr;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = tri_service_list(req->conn, req->arena, req->who.insee,
                               act && strcmp(act, "1") == 0, &s, &n,
                               &req->err)) < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *j = svc_json(&s[i]);
        if (j)
            json_array_append_new(arr, j);
    }
    return http_json(resp, 200, json_pack("{s:o}", "services",
                                          arr ? arr : json_array()));
}

static int
get_service(struct http_req *req, struct http_resp *resp)
{
    struct tri_service s;
    int64_t id;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = tri_service_get(req->conn, req->arena, req->who.insee, id, &s,
                              &req->err)) < 0)
        return rc;
    return http_json(resp, 200, svc_json(&s));
}

/* Overlay the members of b on *s (absent = unchanged). */
static int
svc_from_json(struct http_req *req, json_t *b, struct tri_service *s)
{
    json_t *v;
    long l;
    int rc;

    if ((rc = gu_json_str(b, "code", false, 64, &s->code, &req->err)) < 0 ||
        (rc = gu_json_str(b, "nom", false, 200, &s->name, &req->err)) < 0 ||
        (rc = gu_json_str(b, "description", false, 2000, &s->description,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "courriel", false, 254, &s->email, &req->err)) <
            0 ||
        (rc = gu_json_bool(b, "actif", false, &s->active, &req->err)) < 0)
        return rc;
    if ((v = json_object_get(b, "seuil")) && !json_is_null(v)) {
        if (!json_is_number(v) || json_number_value(v) < 0 ||
            json_number_value(v) > 1)
            return gu_err_set(&req->err, GU_EINVAL, "seuil",
                              "Le seuil est un nombre entre 0 et 1 (par "
                              "exemple 0,6).",
                              "bad seuil");
        s->threshold = json_number_value(v);
    }
    l = s->sla_hours;
    if ((rc = gu_json_int(b, "delai_h", false, 1, 2160, &l, &req->err)) < 0)
        return rc;
    s->sla_hours = (int)l;
    l = s->position;
    if ((rc = gu_json_int(b, "position", false, 0, 10000, &l, &req->err)) < 0)
        return rc;
    s->position = (int)l;
    return 0;
}

static int
post_service(struct http_req *req, struct http_resp *resp)
{
    struct tri_service s;
    json_t *b = NULL;
    int64_t id = 0;
    int rc;

    if ((rc = need_commune(req)) < 0 || (rc = read_body(req, &b)) < 0)
        return rc;
    memset(&s, 0, sizeof(s));
    memcpy(s.insee, req->who.insee, sizeof(s.insee));
    s.code = s.name = s.description = s.email = "";
    s.threshold = 0.6;
    s.sla_hours = 72;
    s.active = true;
    if ((rc = svc_from_json(req, b, &s)) < 0 ||
        (rc = tri_service_save(req->conn, &s, &id, &req->err)) < 0 ||
        (rc = tri_service_get(req->conn, req->arena, req->who.insee, id, &s,
                              &req->err)) < 0)
        return rc;
    http_audit(req, "tri.service.create",
               gu_arena_sprintf(req->arena, "tri_services:%lld",
                                (long long)id),
               "%s", s.code);
    return http_json(resp, 201, svc_json(&s));
}

static int
put_service(struct http_req *req, struct http_resp *resp)
{
    struct tri_service s;
    json_t *b = NULL;
    int64_t id, out = 0;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = read_body(req, &b)) < 0 ||
        (rc = tri_service_get(req->conn, req->arena, req->who.insee, id, &s,
                              &req->err)) < 0 ||
        (rc = svc_from_json(req, b, &s)) < 0)
        return rc;
    s.id = id;
    if ((rc = tri_service_save(req->conn, &s, &out, &req->err)) < 0 ||
        (rc = tri_service_get(req->conn, req->arena, req->who.insee, id, &s,
                              &req->err)) < 0)
        return rc;
    http_audit(req, "tri.service.update",
               gu_arena_sprintf(req->arena, "tri_services:%lld",
                                (long long)id),
               "%s", s.code);
    return http_json(resp, 200, svc_json(&s));
}

static int
delete_service(struct http_req *req, struct http_resp *resp)
{
    struct tri_service s;
    int64_t id, out = 0;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = tri_service_get(req->conn, req->arena, req->who.insee, id, &s,
                              &req->err)) < 0)
        return rc;
    /* Requests refer to services: they are deactivated, never deleted. */
    s.id = id;
    s.active = false;
    if ((rc = tri_service_save(req->conn, &s, &out, &req->err)) < 0)
        return rc;
    http_audit(req, "tri.service.deactivate",
               gu_arena_sprintf(req->arena, "tri_services:%lld",
                                (long long)id),
               "%s", s.code);
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* Reply templates                                                     */
/* ------------------------------------------------------------------ */

static json_t *
tpl_json(const struct tri_template *t)
{
    return json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)t->id, "nom",
                     t->name ? t->name : "", "texte", t->body ? t->body : "",
                     "service",
                     t->service_id > 0 ? json_integer(t->service_id)
                                       : json_null());
}

static int
find_template(struct http_req *req, int64_t id, struct tri_template *out)
{
    struct tri_template *ts = NULL;
    size_t n = 0;
    int rc = tri_template_list(req->conn, req->arena, req->who.insee, &ts, &n,
                               &req->err);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (ts[i].id == id) {
            *out = ts[i];
            return 0;
        }
    }
    return gu_err_set(&req->err, GU_ENOTFOUND, NULL,
                      "Ce modèle de réponse n’existe pas dans la commune.",
                      "no template %lld", (long long)id);
}

static int
get_templates(struct http_req *req, struct http_resp *resp)
{
    struct tri_template *ts = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = tri_template_list(req->conn, req->arena, req->who.insee, &ts, &n,
                                &req->err)) < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *j = tpl_json(&ts[i]);
        if (j)
            json_array_append_new(arr, j);
    }
    return http_json(resp, 200, json_pack("{s:o}", "modeles",
                                          arr ? arr : json_array()));
}

static int
get_template(struct http_req *req, struct http_resp *resp)
{
    struct tri_template t;
    int64_t id;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = find_template(req, id, &t)) < 0)
        return rc;
    return http_json(resp, 200, tpl_json(&t));
}

static int
tpl_from_json(struct http_req *req, json_t *b, struct tri_template *t)
{
    json_t *v;
    int rc;

    if ((rc = gu_json_str(b, "nom", false, 400, &t->name, &req->err)) < 0 ||
        (rc = gu_json_str(b, "texte", false, TRI_TEMPLATE_MAX + 100, &t->body,
                          &req->err)) < 0)
        return rc;
    if ((v = json_object_get(b, "service"))) {
        if (json_is_null(v))
            t->service_id = 0;
        else if ((rc = service_ref(req, v, "service", &t->service_id)) < 0)
            return rc;
    }
    return 0;
}

static int
save_template_reply(struct http_req *req, struct http_resp *resp,
                    struct tri_template *t, int status, const char *action)
{
    int64_t id = 0;
    int rc;

    if ((rc = tri_template_save(req->conn, t, &id, &req->err)) < 0 ||
        (rc = find_template(req, id, t)) < 0)
        return rc;
    http_audit(req, action,
               gu_arena_sprintf(req->arena, "tri_templates:%lld",
                                (long long)id),
               "modèle de réponse");
    return http_json(resp, status, tpl_json(t));
}

static int
post_template(struct http_req *req, struct http_resp *resp)
{
    struct tri_template t;
    json_t *b = NULL;
    int rc;

    if ((rc = need_commune(req)) < 0 || (rc = read_body(req, &b)) < 0)
        return rc;
    memset(&t, 0, sizeof(t));
    memcpy(t.insee, req->who.insee, sizeof(t.insee));
    t.name = t.body = "";
    if ((rc = tpl_from_json(req, b, &t)) < 0)
        return rc;
    return save_template_reply(req, resp, &t, 201, "tri.template.create");
}

static int
put_template(struct http_req *req, struct http_resp *resp)
{
    struct tri_template t;
    json_t *b = NULL;
    int64_t id;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = read_body(req, &b)) < 0 || (rc = find_template(req, id, &t)) < 0 ||
        (rc = tpl_from_json(req, b, &t)) < 0)
        return rc;
    return save_template_reply(req, resp, &t, 200, "tri.template.update");
}

static int
delete_template(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = tri_template_delete(req->conn, req->who.insee, id, &req->err)) <
            0)
        return rc;
    http_audit(req, "tri.template.delete",
               gu_arena_sprintf(req->arena, "tri_templates:%lld",
                                (long long)id),
               "modèle de réponse");
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* Model                                                               */
/* ------------------------------------------------------------------ */

static int
get_model(struct http_req *req, struct http_resp *resp)
{
    struct store_rows *r = NULL, *k = NULL;
    json_t *o;
    int64_t since = 0;
    int rc;

    if ((rc = need_commune(req)) < 0)
        return rc;
    struct store_val p[] = {STORE_T(req->who.insee)};
    rc = store_query(req->conn, req->arena,
                     "SELECT version, created_at, trained_on, corrections,"
                     " cv_accuracy, kind FROM tri_models WHERE insee = ? AND"
                     " active = 1 ORDER BY kind = 'service' DESC, id DESC",
                     p, 1, &r, &req->err);
    if (rc < 0)
        return rc;
    o = json_object();
    if (!o)
        return GU_ENOMEM;
    gu_json_arena(req->arena, o);
    put(o, "version", json_null());
    for (size_t i = 0; i < r->nrows; i++) {
        const char *kind = store_text(r, i, 5);
        if (strcmp(kind, "service") == 0 && !json_is_string(json_object_get(
                                                 o, "version"))) {
            put(o, "version", jstr(store_text(r, i, 0)));
            put(o, "entraine_le", gu_json_time(store_int(r, i, 1)));
            put(o, "exemples", json_integer(store_int(r, i, 2)));
            put(o, "corrections", json_integer(store_int(r, i, 3)));
            put(o, "precision_cv", json_real(store_real(r, i, 4)));
            since = store_int(r, i, 1);
        } else if (strcmp(kind, "urgence") == 0 &&
                   !json_object_get(o, "version_urgence")) {
            put(o, "version_urgence", jstr(store_text(r, i, 0)));
        }
    }
    struct store_val q[] = {STORE_T(req->who.insee), STORE_I(since)};
    rc = store_query(req->conn, req->arena,
                     "SELECT COUNT(*) FROM tri_decisions WHERE insee = ? AND"
                     " kind = 'service' AND source = 'agent' AND"
                     " created_at >= ?",
                     q, 2, &k, &req->err);
    if (rc < 0)
        return rc;
    put(o, "corrections_depuis", json_integer(store_int(k, 0, 0)));
    /* Default: only the seed corpus so far, no agent's correction. */
    put(o, "par_defaut",
        json_boolean(!json_is_string(json_object_get(o, "version")) ||
                     json_integer_value(json_object_get(o, "corrections")) ==
                         0));
    json_incref(o);
    return http_json(resp, 200, o);
}

static int
post_model(struct http_req *req, struct http_resp *resp)
{
    struct tri_retrain_info info;
    char key[64];
    int rc;

    if ((rc = need_commune(req)) < 0)
        return rc;
    snprintf(key, sizeof(key), "tri.retrain:%s", req->who.insee);
    if ((rc = rate(req, resp, RETRAIN_PER_HOUR, key)) < 0) {
        gu_err_set(&req->err, GU_ERATE, NULL,
                   "Le modèle a déjà été réentraîné plusieurs fois cette "
                   "heure-ci : réessayez plus tard.",
                   "triage: retrain rate");
        return rc;
    }
    memset(&info, 0, sizeof(info));
    rc = tri_retrain(store_conn_store(req->conn), req->who.insee, req->arena,
                     &info, &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "tri.retrain", "tri_models", "%s exemples=%zu",
               info.version ? info.version : "", info.examples);
    return http_json(
        resp, 200,
        json_pack("{s:s, s:I, s:I, s:f, s:f}", "version",
                  info.version ? info.version : "", "exemples",
                  (json_int_t)info.examples, "corrections",
                  (json_int_t)info.corrections, "precision_cv",
                  info.cv_accuracy, "secondes", info.seconds));
}

static int
post_classer(struct http_req *req, struct http_resp *resp)
{
    struct tri_model_ref *ref = NULL;
    const struct triage_model *mdl;
    struct triage_scratch *sc = NULL;
    struct triage_result res;
    struct tri_service *svcs = NULL;
    unsigned char key[PII_KEY_BYTES];
    size_t ns = 0;
    json_t *b = NULL, *o = NULL, *top, *why;
    const char *text = NULL, *red;
    int rc;

    if ((rc = need_commune(req)) < 0 || (rc = read_body(req, &b)) < 0 ||
        (rc = gu_json_str(b, "texte", true, CLASSIFY_MAX, &text, &req->err)) <
            0)
        return rc;
    if (gu_str_trim(gu_str_c(text)).n == 0)
        return gu_err_set(&req->err, GU_EINVAL, "texte",
                          "Écrivez le texte à classer.", "empty texte");
    if ((rc = pii_commune_key(req->conn, req->who.insee, key, &req->err)) < 0)
        return rc;
    red = pii_redact_keyed(req->arena, text, strlen(text), key, NULL);
    if (!red)
        return GU_ENOMEM;
    if ((rc = tri_service_list(req->conn, req->arena, req->who.insee, true,
                               &svcs, &ns, &req->err)) < 0 ||
        (rc = tri_model_get(store_conn_store(req->conn), req->conn,
                            req->who.insee, &ref, &req->err)) < 0)
        return rc;
    mdl = tri_model_service(ref);
    sc = triage_scratch_new();
    if (!mdl || !sc) {
        rc = mdl ? GU_ENOMEM
                 : gu_err_set(&req->err, GU_EBUSY, NULL,
                              "Le modèle de tri n’est pas disponible.",
                              "no model");
        goto out;
    }
    rc = triage_predict(mdl, sc, red, strlen(red), TRIAGE_TOP_MAX,
                        TRIAGE_WHY_MAX, &res, NULL);
    if (rc < 0)
        goto out;
    top = json_array();
    for (size_t i = 0; top && i < res.ntop; i++) {
        const struct tri_service *s = NULL;
        for (size_t k = 0; k < ns; k++)
            if (res.top[i].label && strcmp(svcs[k].code, res.top[i].label) == 0)
                s = &svcs[k];
        json_t *j = json_pack("{s:s, s:s, s:o, s:f}", "code",
                              res.top[i].label ? res.top[i].label : "", "nom",
                              s ? s->name : "", "id",
                              s ? json_integer(s->id) : json_null(),
                              "probabilite", res.top[i].p);
        if (j)
            json_array_append_new(top, j);
    }
    why = json_array();
    for (size_t i = 0; why && i < res.nwhy; i++) {
        const struct triage_why *w = &res.why[i];
        if ((size_t)w->off + w->len > strlen(red))
            continue;
        json_t *j = json_pack("{s:s%, s:f}", "mot", red + w->off,
                              (size_t)w->len, "poids", w->weight);
        if (j)
            json_array_append_new(why, j);
    }
    {
        const struct tri_service *best = NULL;
        for (size_t k = 0; k < ns; k++)
            if (res.label && strcmp(svcs[k].code, res.label) == 0)
                best = &svcs[k];
        o = json_pack("{s:o, s:f, s:f, s:b, s:o, s:o, s:s, s:s}", "service",
                      best ? service_json(best->id, best->code, best->name)
                           : json_null(),
                      "probabilite", res.p, "seuil",
                      best ? best->threshold : 1.0, "routee",
                      best && res.p >= best->threshold, "autres",
                      top ? top : json_array(), "pourquoi",
                      why ? why : json_array(), "version_modele",
                      triage_model_id(mdl) ? triage_model_id(mdl) : "",
                      "texte_expurge", red);
    }
    rc = 0;
out:
    triage_scratch_free(sc);
    tri_model_put(ref);
    if (rc < 0)
        return rc;
    return http_json(resp, 200, o);
}

/* ------------------------------------------------------------------ */
/* E-mail sources (admin)                                              */
/* ------------------------------------------------------------------ */

#define SRC_COLS                                                               \
    "id, kind, location, username, secret <> '', period_s, last_uid,"          \
    " last_run_at, last_error, active, created_at"

static json_t *
src_json(const struct store_rows *r, size_t i)
{
    /* The secret never leaves: only whether one is set. */
    return json_pack("{s:I, s:s, s:s, s:s, s:b, s:I, s:I, s:o, s:s, s:b, "
                     "s:o}",
                     "id", (json_int_t)store_int(r, i, 0), "type",
                     store_text(r, i, 1), "emplacement", store_text(r, i, 2),
                     "identifiant", store_text(r, i, 3), "secret_defini",
                     store_int(r, i, 4) != 0, "periode_s",
                     (json_int_t)store_int(r, i, 5), "dernier_uid",
                     (json_int_t)store_int(r, i, 6), "derniere_releve",
                     gu_json_time(store_int(r, i, 7)), "derniere_erreur",
                     store_text(r, i, 8), "actif", store_int(r, i, 9) != 0,
                     "cree_le", gu_json_time(store_int(r, i, 10)));
}

static int
src_load(struct http_req *req, int64_t id, struct store_rows **out)
{
    struct store_val p[] = {STORE_I(id), STORE_T(req->who.insee)};
    int rc = store_query(req->conn, req->arena,
                         "SELECT " SRC_COLS " FROM tri_mail_sources"
                         " WHERE id = ? AND insee = ?",
                         p, 2, out, &req->err);

    if (rc == 0 && (*out)->nrows == 0)
        rc = gu_err_set(&req->err, GU_ENOTFOUND, NULL,
                        "Cette source de courriels n’existe pas dans la "
                        "commune.",
                        "no mail source %lld", (long long)id);
    return rc;
}

static bool
has_ctl(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* The fields of a source, checked; absent ones keep *kind etc. */
struct src_in {
    const char *kind, *location, *username, *secret;
    long period;
    bool active;
};

static int
src_from_json(struct http_req *req, json_t *b, struct src_in *s)
{
    int rc;

    if ((rc = gu_json_str(b, "type", false, 16, &s->kind, &req->err)) < 0 ||
        (rc = gu_json_str(b, "emplacement", false, LOCATION_MAX, &s->location,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "identifiant", false, 200, &s->username,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "secret", false, 1024, &s->secret, &req->err)) <
            0 ||
        (rc = gu_json_int(b, "periode_s", false, 60, 86400, &s->period,
                          &req->err)) < 0 ||
        (rc = gu_json_bool(b, "actif", false, &s->active, &req->err)) < 0)
        return rc;
    if (strcmp(s->kind, "maildir") != 0 && strcmp(s->kind, "mbox") != 0 &&
        strcmp(s->kind, "imap") != 0)
        return gu_err_set(&req->err, GU_EINVAL, "type",
                          "Type de source inconnu : maildir, mbox ou imap.",
                          "bad kind");
    if (!*s->location || has_ctl(s->location))
        return gu_err_set(&req->err, GU_EINVAL, "emplacement",
                          "Indiquez l’emplacement : un chemin absolu pour "
                          "maildir et mbox, imaps://serveur/INBOX pour imap.",
                          "bad location");
    if (strcmp(s->kind, "imap") == 0
            ? strncmp(s->location, "imaps://", 8) != 0 &&
                  strncmp(s->location, "imap://", 7) != 0
            : s->location[0] != '/')
        return gu_err_set(&req->err, GU_EINVAL, "emplacement",
                          strcmp(s->kind, "imap") == 0
                              ? "Une source IMAP s’écrit imaps://serveur/"
                                "INBOX (ou imap:// sur la machine locale)."
                              : "Le chemin d’une source maildir ou mbox est "
                                "absolu (il commence par /).",
                          "bad location for kind");
    if (has_ctl(s->username) || has_ctl(s->secret))
        return gu_err_set(&req->err, GU_EINVAL, "identifiant",
                          "L’identifiant et le mot de passe tiennent sur une "
                          "ligne.",
                          "control chars");
    return 0;
}

static int
src_reply(struct http_req *req, struct http_resp *resp, int64_t id,
          int status)
{
    struct store_rows *r = NULL;
    int rc = src_load(req, id, &r);

    if (rc < 0)
        return rc;
    return http_json(resp, status, src_json(r, 0));
}

static int
get_sources(struct http_req *req, struct http_resp *resp)
{
    struct store_rows *r = NULL;
    json_t *arr;
    int rc;

    if ((rc = need_commune(req)) < 0)
        return rc;
    struct store_val p[] = {STORE_T(req->who.insee)};
    rc = store_query(req->conn, req->arena,
                     "SELECT " SRC_COLS " FROM tri_mail_sources"
                     " WHERE insee = ? ORDER BY id",
                     p, 1, &r, &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < r->nrows; i++) {
        json_t *j = src_json(r, i);
        if (j)
            json_array_append_new(arr, j);
    }
    return http_json(resp, 200, json_pack("{s:o}", "sources",
                                          arr ? arr : json_array()));
}

static int
get_source(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    return src_reply(req, resp, id, 200);
}

static int
post_source(struct http_req *req, struct http_resp *resp)
{
    struct src_in s = {"", "", "", "", 300, true};
    struct store_rows *r = NULL;
    json_t *b = NULL;
    int rc;

    if ((rc = need_commune(req)) < 0 || (rc = read_body(req, &b)) < 0 ||
        (rc = src_from_json(req, b, &s)) < 0)
        return rc;
    struct store_val q[] = {STORE_T(req->who.insee)};
    rc = store_query(req->conn, req->arena,
                     "SELECT COUNT(*) FROM tri_mail_sources WHERE insee = ?",
                     q, 1, &r, &req->err);
    if (rc < 0)
        return rc;
    if (store_int(r, 0, 0) >= SOURCES_MAX)
        return gu_err_set(&req->err, GU_ETOOBIG, NULL,
                          "La commune a déjà 20 sources de courriels.",
                          "too many sources");
    struct store_val p[] = {STORE_T(req->who.insee), STORE_T(s.kind),
                            STORE_T(s.location),     STORE_T(s.username),
                            STORE_T(s.secret),       STORE_I(s.period),
                            STORE_I(s.active),       STORE_I(gu_now())};
    rc = store_query(req->conn, req->arena,
                     "INSERT INTO tri_mail_sources (insee, kind, location,"
                     " username, secret, period_s, active, created_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                     p, GU_ARRAY_LEN(p), &r, &req->err);
    if (rc < 0)
        return rc;
    int64_t id = store_int(r, 0, 0);
    http_audit(req, "tri.source.create",
               gu_arena_sprintf(req->arena, "tri_mail_sources:%lld",
                                (long long)id),
               "%s", s.kind);
    return src_reply(req, resp, id, 201);
}

static int
put_source(struct http_req *req, struct http_resp *resp)
{
    struct store_rows *r = NULL, *sec = NULL;
    struct src_in s;
    json_t *b = NULL;
    int64_t id;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = read_body(req, &b)) < 0 || (rc = src_load(req, id, &r)) < 0)
        return rc;
    struct store_val ps[] = {STORE_I(id)};
    rc = store_query(req->conn, req->arena,
                     "SELECT secret FROM tri_mail_sources WHERE id = ?", ps, 1,
                     &sec, &req->err);
    if (rc < 0)
        return rc;
    s.kind = store_text(r, 0, 1);
    s.location = store_text(r, 0, 2);
    s.username = store_text(r, 0, 3);
    s.secret = store_text(sec, 0, 0); /* kept unless a new one is given */
    s.period = store_int(r, 0, 5);
    s.active = store_int(r, 0, 9) != 0;
    if ((rc = src_from_json(req, b, &s)) < 0)
        return rc;
    struct store_val p[] = {STORE_T(s.kind),     STORE_T(s.location),
                            STORE_T(s.username), STORE_T(s.secret),
                            STORE_I(s.period),   STORE_I(s.active),
                            STORE_I(id),         STORE_T(req->who.insee)};
    rc = store_exec(req->conn,
                    "UPDATE tri_mail_sources SET kind = ?, location = ?,"
                    " username = ?, secret = ?, period_s = ?, active = ?,"
                    " last_error = '' WHERE id = ? AND insee = ?",
                    p, GU_ARRAY_LEN(p), &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "tri.source.update",
               gu_arena_sprintf(req->arena, "tri_mail_sources:%lld",
                                (long long)id),
               "%s", s.kind);
    return src_reply(req, resp, id, 200);
}

static int
delete_source(struct http_req *req, struct http_resp *resp)
{
    int64_t id, changes = 0;
    int rc;

    if ((rc = need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    struct store_val p[] = {STORE_I(id), STORE_T(req->who.insee)};
    rc = store_exec_changes(req->conn,
                            "DELETE FROM tri_mail_sources WHERE id = ? AND"
                            " insee = ?",
                            p, 2, &changes, &req->err);
    if (rc < 0)
        return rc;
    if (changes == 0)
        return gu_err_set(&req->err, GU_ENOTFOUND, NULL,
                          "Cette source de courriels n’existe pas dans la "
                          "commune.",
                          "no mail source");
    http_audit(req, "tri.source.delete",
               gu_arena_sprintf(req->arena, "tri_mail_sources:%lld",
                                (long long)id),
               "source de courriels");
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* The route table                                                     */
/* ------------------------------------------------------------------ */

#define S_STR "{\"type\":\"string\"}"
#define S_INT "{\"type\":\"integer\"}"
#define S_NUM "{\"type\":\"number\"}"
#define S_BOOL "{\"type\":\"boolean\"}"
#define S_TIME "{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}"
#define S_STATUS                                                               \
    "{\"enum\":[\"a_trier\",\"nouvelle\",\"en_cours\",\"attente\","            \
    "\"resolue\",\"rejetee\"]}"
#define S_SVC_REF                                                              \
    "{\"type\":[\"integer\",\"string\",\"null\"],\"description\":"             \
    "\"identifiant ou code du service ; null = à trier\"}"
#define S_SVC                                                                  \
    "{\"type\":[\"object\",\"null\"],\"properties\":{\"id\":" S_INT            \
    ",\"code\":" S_STR ",\"nom\":" S_STR "}}"
#define REQ_PROPS                                                              \
    "\"id\":" S_INT ",\"numero\":" S_STR ",\"canal\":" S_STR                   \
    ",\"statut\":" S_STATUS ",\"statut_libelle\":" S_STR ",\"objet\":" S_STR   \
    ",\"service\":" S_SVC ",\"service_source\":" S_STR                         \
    ",\"categorie_usager\":" S_STR ",\"confiance\":" S_NUM                     \
    ",\"version_modele\":" S_STR ",\"urgence\":{\"type\":\"integer\","         \
    "\"minimum\":0,\"maximum\":2},\"urgence_libelle\":" S_STR                  \
    ",\"cas\":{\"type\":[\"integer\",\"null\"]},\"taille_cas\":" S_INT         \
    ",\"adresse\":" S_STR ",\"lat\":" S_NUM ",\"lon\":" S_NUM                  \
    ",\"contact\":{\"type\":\"object\",\"description\":\"agents seulement\","  \
    "\"properties\":{\"nom\":" S_STR ",\"courriel\":" S_STR                    \
    ",\"telephone\":" S_STR "}},\"origine\":" S_STR ",\"notifier\":" S_BOOL    \
    ",\"assigne\":{\"type\":[\"object\",\"null\"]},\"echeance\":" S_TIME       \
    ",\"en_retard\":" S_BOOL ",\"premiere_reponse_le\":" S_TIME                \
    ",\"resolue_le\":" S_TIME ",\"cree_le\":" S_TIME                           \
    ",\"mis_a_jour_le\":" S_TIME ",\"anonymisee\":" S_BOOL
#define REQ_ROW                                                                \
    "{\"type\":\"object\",\"properties\":{" REQ_PROPS ",\"extrait\":" S_STR "}}"
#define REQ_DETAIL                                                             \
    "{\"type\":\"object\",\"properties\":{" REQ_PROPS ",\"texte\":" S_STR      \
    ",\"pourquoi\":{\"type\":\"array\"},\"raisons_urgence\":{\"type\":"        \
    "\"array\"},\"messages\":{\"type\":\"array\",\"items\":{\"type\":"         \
    "\"object\",\"properties\":{\"id\":" S_INT ",\"type\":{\"enum\":["         \
    "\"entrant\",\"sortant\",\"note\",\"evenement\"]},\"auteur\":" S_STR       \
    ",\"texte\":" S_STR ",\"le\":" S_TIME ",\"courriel\":" S_BOOL "}}},"       \
    "\"pieces\":{\"type\":\"array\",\"items\":{\"type\":\"object\","           \
    "\"properties\":{\"id\":" S_INT ",\"nom\":" S_STR ",\"type\":" S_STR       \
    ",\"taille\":" S_INT ",\"url\":" S_STR "}}},\"decisions\":{\"type\":"      \
    "\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"type\":"       \
    S_STR ",\"valeur\":" S_STR ",\"precedent\":" S_STR ",\"source\":" S_STR    \
    ",\"acteur\":" S_STR ",\"le\":" S_TIME "}}},\"membres_cas\":{\"type\":"    \
    "\"array\"}}}"
#define INTAKE_BODY                                                            \
    "{\"type\":\"object\",\"required\":[\"texte\"],\"properties\":{\"c\":"     \
    "{\"type\":\"string\",\"pattern\":\"^[0-9][0-9AB][0-9]{3}$\"},"            \
    "\"objet\":{\"type\":\"string\",\"maxLength\":200},\"texte\":{\"type\":"   \
    "\"string\",\"maxLength\":20000},\"categorie\":" S_STR                     \
    ",\"adresse\":{\"type\":\"string\",\"maxLength\":300},\"lat\":" S_NUM      \
    ",\"lon\":" S_NUM ",\"nom\":{\"type\":\"string\",\"maxLength\":200},"      \
    "\"courriel\":{\"type\":\"string\",\"maxLength\":254},\"telephone\":"      \
    "{\"type\":\"string\",\"maxLength\":32},\"notifier\":" S_BOOL "}}"
#define INTAKE_RESP                                                            \
    "{\"type\":\"object\",\"properties\":{\"numero\":" S_STR ",\"jeton\":"     \
    S_STR ",\"suivi_url\":" S_STR ",\"statut\":" S_STATUS                      \
    ",\"statut_libelle\":" S_STR ",\"commune\":" S_STR ",\"message\":" S_STR   \
    "}}"
#define SUIVI_RESP                                                             \
    "{\"type\":\"object\",\"properties\":{\"numero\":" S_STR ",\"statut\":"    \
    S_STATUS ",\"statut_libelle\":" S_STR ",\"service\":{\"type\":["           \
    "\"string\",\"null\"]},\"objet\":" S_STR ",\"texte\":" S_STR               \
    ",\"cree_le\":" S_TIME ",\"mis_a_jour_le\":" S_TIME ",\"resolue_le\":"     \
    S_TIME ",\"messages\":{\"type\":\"array\",\"items\":{\"type\":"            \
    "\"object\",\"properties\":{\"de\":{\"enum\":[\"usager\",\"mairie\"]},"    \
    "\"texte\":" S_STR ",\"le\":" S_TIME "}}},\"commune\":{\"type\":"          \
    "\"object\"}}}"
#define TEXT_BODY                                                              \
    "{\"type\":\"object\",\"required\":[\"texte\"],\"properties\":{"           \
    "\"texte\":{\"type\":\"string\",\"maxLength\":20000}}}"
#define MSG_RESP                                                               \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT ",\"statut\":"        \
    S_STATUS ",\"statut_libelle\":" S_STR "}}"
#define PATCH_BODY                                                             \
    "{\"type\":\"object\",\"properties\":{\"statut\":" S_STATUS                \
    ",\"service\":" S_SVC_REF ",\"urgence\":{\"type\":\"integer\","            \
    "\"minimum\":0,\"maximum\":2},\"assigne\":{\"type\":[\"integer\","         \
    "\"string\",\"null\"],\"description\":\"identifiant d’agent, « moi » ou "  \
    "null\"}}}"
#define REPLY_BODY                                                             \
    "{\"type\":\"object\",\"properties\":{\"texte\":{\"type\":\"string\","     \
    "\"maxLength\":20000},\"modele\":" S_INT ",\"statut\":" S_STATUS           \
    ",\"sans_courriel\":{\"type\":\"boolean\",\"description\":\"accepter "   \
    "une réponse sur la seule page de suivi quand l’usager n’a pas "       \
    "d’adresse\"}}}"
#define REPLY_RESP                                                             \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT ",\"type\":" S_STR    \
    ",\"courriel\":" S_BOOL ",\"statut\":" S_STATUS "}}"
#define LOT_BODY                                                               \
    "{\"type\":\"object\",\"required\":[\"ids\"],\"properties\":{\"ids\":"     \
    "{\"type\":\"array\",\"minItems\":1,\"maxItems\":500,\"items\":" S_INT     \
    "},\"statut\":" S_STATUS ",\"service\":" S_SVC_REF ",\"urgence\":"         \
    "{\"type\":\"integer\",\"minimum\":0,\"maximum\":2},\"assigne\":"          \
    "{\"type\":[\"integer\",\"string\",\"null\"]},\"cas\":{\"type\":["         \
    "\"integer\",\"null\"]}}}"
#define SVC_PROPS                                                              \
    "\"code\":{\"type\":\"string\",\"maxLength\":64},\"nom\":{\"type\":"       \
    "\"string\",\"maxLength\":200},\"description\":" S_STR ",\"courriel\":"    \
    S_STR ",\"seuil\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"      \
    "\"delai_h\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":2160},"       \
    "\"position\":" S_INT ",\"actif\":" S_BOOL
#define SVC_SCHEMA                                                             \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT "," SVC_PROPS "}}"
#define SVC_BODY "{\"type\":\"object\",\"properties\":{" SVC_PROPS "}}"
#define TPL_SCHEMA                                                             \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT ",\"nom\":" S_STR     \
    ",\"texte\":" S_STR ",\"service\":{\"type\":[\"integer\",\"null\"]}}}"
#define TPL_BODY                                                               \
    "{\"type\":\"object\",\"properties\":{\"nom\":{\"type\":\"string\","       \
    "\"maxLength\":200},\"texte\":{\"type\":\"string\",\"maxLength\":10000,"   \
    "\"description\":\"{numero}, {nom}, {service}, {commune} remplacés à "     \
    "l’envoi\"},\"service\":" S_SVC_REF "}}"
#define MODEL_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"version\":{\"type\":[\"string\","  \
    "\"null\"]},\"entraine_le\":" S_TIME ",\"exemples\":" S_INT                \
    ",\"corrections\":" S_INT ",\"precision_cv\":" S_NUM                       \
    ",\"corrections_depuis\":" S_INT ",\"version_urgence\":" S_STR             \
    ",\"par_defaut\":" S_BOOL "}}"
#define RETRAIN_SCHEMA                                                         \
    "{\"type\":\"object\",\"properties\":{\"version\":" S_STR ",\"exemples\":" \
    S_INT ",\"corrections\":" S_INT ",\"precision_cv\":" S_NUM                 \
    ",\"secondes\":" S_NUM "}}"
#define CLASSIFY_SCHEMA                                                        \
    "{\"type\":\"object\",\"properties\":{\"service\":" S_SVC                  \
    ",\"probabilite\":" S_NUM ",\"seuil\":" S_NUM ",\"routee\":" S_BOOL        \
    ",\"autres\":{\"type\":\"array\"},\"pourquoi\":{\"type\":\"array\","       \
    "\"items\":{\"type\":\"object\",\"properties\":{\"mot\":" S_STR            \
    ",\"poids\":" S_NUM "}}},\"version_modele\":" S_STR                        \
    ",\"texte_expurge\":" S_STR "}}"
#define SRC_PROPS                                                              \
    "\"type\":{\"enum\":[\"maildir\",\"mbox\",\"imap\"]},\"emplacement\":"     \
    "{\"type\":\"string\",\"maxLength\":1024},\"identifiant\":" S_STR          \
    ",\"periode_s\":{\"type\":\"integer\",\"minimum\":60,\"maximum\":86400},"  \
    "\"actif\":" S_BOOL
#define SRC_SCHEMA                                                             \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT "," SRC_PROPS         \
    ",\"secret_defini\":" S_BOOL ",\"dernier_uid\":" S_INT                     \
    ",\"derniere_releve\":" S_TIME ",\"derniere_erreur\":" S_STR               \
    ",\"cree_le\":" S_TIME "}}"
#define SRC_BODY                                                               \
    "{\"type\":\"object\",\"properties\":{" SRC_PROPS ",\"secret\":{\"type\":" \
    "\"string\",\"writeOnly\":true,\"maxLength\":1024}}}"
#define LIST_OF(key, item)                                                     \
    "{\"type\":\"object\",\"properties\":{\"" key "\":{\"type\":\"array\","    \
    "\"items\":" item "}}}"

static const struct http_route routes[] = {
    /* Residents. */
    {"POST", "/api/v1/demandes", HTTP_PUBLIC, post_demande, "demandes",
     "Déposer une demande ou un signalement (limité par adresse IP)",
     INTAKE_BODY, INTAKE_RESP},
    {"GET", "/api/v1/demandes/suivi/{token}", HTTP_PUBLIC, get_suivi,
     "demandes", "Suivre sa demande (lien reçu par courriel)", NULL,
     SUIVI_RESP},
    {"POST", "/api/v1/demandes/suivi/{token}/messages", HTTP_PUBLIC,
     post_suivi_message, "demandes",
     "Écrire à la mairie au sujet de sa demande", TEXT_BODY, MSG_RESP},

    /* Agents: the inbox. */
    {"GET", "/api/v1/demandes", HTTP_LECTEUR, get_demandes, "demandes",
     "Demandes de la commune (statut, service, urgence, age_min_h, assigne, "
     "q, cas, en_retard, avant, limite)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"demandes\":{\"type\":\"array\","
     "\"items\":" REQ_ROW "},\"suivant\":{\"type\":[\"integer\",\"null\"]}}}"},
    {"POST", "/api/v1/demandes/lot", HTTP_AGENT, post_lot, "demandes",
     "Même changement sur plusieurs demandes (tout ou rien, 500 au plus)",
     LOT_BODY,
     "{\"type\":\"object\",\"properties\":{\"modifiees\":" S_INT "}}"},
    {"GET", "/api/v1/demandes/{id}", HTTP_LECTEUR, get_demande, "demandes",
     "Une demande, ses messages, pièces jointes, décisions et son cas", NULL,
     REQ_DETAIL},
    {"PATCH", "/api/v1/demandes/{id}", HTTP_AGENT, patch_demande, "demandes",
     "Changer statut, service (correction), urgence ou attribution",
     PATCH_BODY, REQ_DETAIL},
    {"POST", "/api/v1/demandes/{id}/notes", HTTP_AGENT, post_note, "demandes",
     "Ajouter une note interne", TEXT_BODY,
     "{\"type\":\"object\",\"properties\":{\"id\":" S_INT ",\"type\":" S_STR
     "}}"},
    {"POST", "/api/v1/demandes/{id}/reponses", HTTP_AGENT, post_reply,
     "demandes",
     "Répondre à l’usager par courriel (texte ou modèle, statut facultatif)",
     REPLY_BODY, REPLY_RESP},
    {"POST", "/api/v1/demandes/{id}/fusion", HTTP_AGENT, post_fusion,
     "demandes", "Rattacher la demande au cas d’une autre (doublon)",
     "{\"type\":\"object\",\"required\":[\"cas\"],\"properties\":{\"cas\":"
     S_INT "}}",
     REQ_DETAIL},
    {"DELETE", "/api/v1/demandes/{id}/fusion", HTTP_AGENT, delete_fusion,
     "demandes", "Sortir la demande de son cas", NULL, REQ_DETAIL},
    {"GET", "/api/v1/demandes/{id}/pieces/{pid}", HTTP_AGENT, get_piece,
     "demandes", "Télécharger une pièce jointe", NULL, NULL},

    /* Taxonomy. */
    {"GET", "/api/v1/triage/services", HTTP_LECTEUR, get_services, "demandes",
     "Services de la commune (?actifs=1)", NULL,
     LIST_OF("services", SVC_SCHEMA)},
    {"POST", "/api/v1/triage/services", HTTP_ADMIN, post_service, "demandes",
     "Créer un service", SVC_BODY, SVC_SCHEMA},
    {"GET", "/api/v1/triage/services/{id}", HTTP_LECTEUR, get_service,
     "demandes", "Un service", NULL, SVC_SCHEMA},
    {"PUT", "/api/v1/triage/services/{id}", HTTP_ADMIN, put_service,
     "demandes", "Modifier un service (champs absents inchangés)", SVC_BODY,
     SVC_SCHEMA},
    {"DELETE", "/api/v1/triage/services/{id}", HTTP_ADMIN, delete_service,
     "demandes", "Désactiver un service (jamais supprimé)", NULL, NULL},

    /* Reply templates. */
    {"GET", "/api/v1/triage/modeles-reponse", HTTP_LECTEUR, get_templates,
     "demandes", "Modèles de réponse de la commune", NULL,
     LIST_OF("modeles", TPL_SCHEMA)},
    {"POST", "/api/v1/triage/modeles-reponse", HTTP_AGENT, post_template,
     "demandes", "Créer un modèle de réponse", TPL_BODY, TPL_SCHEMA},
    {"GET", "/api/v1/triage/modeles-reponse/{id}", HTTP_LECTEUR, get_template,
     "demandes", "Un modèle de réponse", NULL, TPL_SCHEMA},
    {"PUT", "/api/v1/triage/modeles-reponse/{id}", HTTP_AGENT, put_template,
     "demandes", "Modifier un modèle de réponse (champs absents inchangés)",
     TPL_BODY, TPL_SCHEMA},
    {"DELETE", "/api/v1/triage/modeles-reponse/{id}", HTTP_AGENT,
     delete_template, "demandes", "Supprimer un modèle de réponse", NULL,
     NULL},

    /* Model. */
    {"GET", "/api/v1/triage/modele", HTTP_LECTEUR, get_model, "demandes",
     "Modèle de tri actif : version, date, exemples, corrections", NULL,
     MODEL_SCHEMA},
    {"POST", "/api/v1/triage/modele", HTTP_ADMIN, post_model, "demandes",
     "Réentraîner le modèle avec les corrections des agents", NULL,
     RETRAIN_SCHEMA},
    {"POST", "/api/v1/triage/classer", HTTP_LECTEUR, post_classer, "demandes",
     "Essayer le tri sur un texte (rien n’est enregistré)",
     "{\"type\":\"object\",\"required\":[\"texte\"],\"properties\":{"
     "\"texte\":{\"type\":\"string\",\"maxLength\":5000}}}",
     CLASSIFY_SCHEMA},

    /* E-mail sources. */
    {"GET", "/api/v1/triage/sources-courriel", HTTP_ADMIN, get_sources,
     "demandes", "Sources de courriels relevées (le secret n’est jamais rendu)",
     NULL, LIST_OF("sources", SRC_SCHEMA)},
    {"POST", "/api/v1/triage/sources-courriel", HTTP_ADMIN, post_source,
     "demandes", "Ajouter une source de courriels (maildir, mbox, imap)",
     SRC_BODY, SRC_SCHEMA},
    {"GET", "/api/v1/triage/sources-courriel/{id}", HTTP_ADMIN, get_source,
     "demandes", "Une source de courriels", NULL, SRC_SCHEMA},
    {"PUT", "/api/v1/triage/sources-courriel/{id}", HTTP_ADMIN, put_source,
     "demandes",
     "Modifier une source de courriels (secret absent = inchangé)", SRC_BODY,
     SRC_SCHEMA},
    {"DELETE", "/api/v1/triage/sources-courriel/{id}", HTTP_ADMIN,
     delete_source, "demandes", "Supprimer une source de courriels", NULL,
     NULL},
};

const struct http_routes tri_routes = {"triage", routes, GU_ARRAY_LEN(routes)};
