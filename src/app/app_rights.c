/*
 * app_rights.c - residents' rights across modules and the personal-data
 * API (see app_rights.h).
 */
#include "app/app_rights.h"
#include "assistant/asst.h"
#include "privacy/privacy.h"
#include "rdv/rdv.h"
#include "triage/tri.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The modules' pdata rows: adapters from struct app_subject to each   */
/* domain's plain arguments (domains do not include app.h).            */
/* ------------------------------------------------------------------ */

static int
notify_export(struct store_conn *c, struct gu_arena *a,
              const struct app_subject *who, json_t *out, struct gu_err *err)
{
    return notify_pdata_export(c, a, who->insee, who->email, out, err);
}

static int
notify_erase(struct store_conn *c, const struct app_subject *who,
             int64_t *rows, struct gu_err *err)
{
    return notify_pdata_erase(c, who->insee, who->email, rows, err);
}

static int
rdv_export(struct store_conn *c, struct gu_arena *a,
           const struct app_subject *who, json_t *out, struct gu_err *err)
{
    return rdv_pdata_export(c, a, who->insee, who->email, who->phone, out,
                            err);
}

static int
rdv_erase(struct store_conn *c, const struct app_subject *who, int64_t *rows,
          struct gu_err *err)
{
    return rdv_pdata_erase(c, who->insee, who->email, who->phone, rows, err);
}

static int
tri_export(struct store_conn *c, struct gu_arena *a,
           const struct app_subject *who, json_t *out, struct gu_err *err)
{
    return tri_pdata_export(c, a, who->insee, who->email, who->phone, out,
                            err);
}

static int
tri_erase(struct store_conn *c, const struct app_subject *who, int64_t *rows,
          struct gu_err *err)
{
    return tri_pdata_erase(c, who->insee, who->email, who->phone, rows, err);
}

static int
asst_export(struct store_conn *c, struct gu_arena *a,
            const struct app_subject *who, json_t *out, struct gu_err *err)
{
    return asst_pdata_export(c, a, who->insee, who->email, out, err);
}

static int
asst_erase(struct store_conn *c, const struct app_subject *who, int64_t *rows,
           struct gu_err *err)
{
    return asst_pdata_erase(c, who->insee, who->email, rows, err);
}

const struct app_pdata app_pdata_notify = {notify_export, notify_erase};
const struct app_pdata app_pdata_rdv = {rdv_export, rdv_erase};
const struct app_pdata app_pdata_triage = {tri_export, tri_erase};
const struct app_pdata app_pdata_assistant = {asst_export, asst_erase};

/* ------------------------------------------------------------------ */
/* The subject                                                         */
/* ------------------------------------------------------------------ */

int
app_subject_make(struct gu_arena *a, const char *insee, const char *email,
                 const char *phone, struct app_subject *out,
                 struct gu_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!insee || !store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "commune",
                          "Code INSEE de commune invalide.",
                          "rights: bad insee");
    out->insee = insee;
    if (email && *email) {
        out->email = pii_norm_email(a, email);
        if (!out->email)
            return gu_err_set(err, GU_EINVAL, "courriel",
                              "Adresse e-mail invalide (ex. "
                              "prenom.nom@exemple.fr).",
                              "rights: bad email");
    }
    if (phone && *phone) {
        out->phone = pii_norm_phone(a, phone);
        if (!out->phone)
            return gu_err_set(err, GU_EINVAL, "telephone",
                              "Numéro de téléphone invalide (ex. 06 12 34 56 "
                              "78 ou +33 6 12 34 56 78).",
                              "rights: bad phone");
    }
    if (!out->email && !out->phone)
        return gu_err_set(err, GU_EINVAL, "courriel",
                          "Indiquez l'adresse e-mail ou le numéro de "
                          "téléphone de la personne.",
                          "rights: nobody");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Export                                                              */
/* ------------------------------------------------------------------ */

/* Items in a module's member: an array's length, or the sum of the
 * lengths of an object's arrays (one level). */
static size_t
items(json_t *v)
{
    const char *k;
    json_t *x;
    size_t n = 0;

    if (json_is_array(v))
        return json_array_size(v);
    json_object_foreach(v, k, x)
    {
        if (json_is_array(x))
            n += json_array_size(x);
    }
    return n;
}

static const char about[] =
    "Ce document rassemble les données que la mairie détient dans Guichet "
    "sur la personne recherchée (adresse e-mail ou numéro de téléphone "
    "indiqués), à la date indiquée : rendez-vous, liste d'attente, SMS, "
    "demandes et leurs messages et pièces jointes, questions transmises "
    "depuis l'assistant, courriels envoyés. Les conversations avec "
    "l'assistant sans adresse e-mail ne sont pas nominatives (les données "
    "personnelles y sont masquées) et ne peuvent pas être rattachées à une "
    "personne. Le journal d'audit ne contient pas de données personnelles.";

int
app_rights_export(struct store_conn *c, struct gu_arena *a,
                  const struct app_subject *who, const char *actor,
                  const char *request_id, json_t **out, struct gu_err *err)
{
    const struct app_module *mods;
    struct store_commune m;
    size_t nmods, total = 0;
    json_t *doc, *data, *summary;
    struct gu_buf det;
    const char *k;
    json_t *v;
    int rc;

    *out = NULL;
    rc = store_commune_get(c, a, who->insee, &m, err);
    if (rc == GU_ENOTFOUND)
        return gu_err_set(err, GU_ENOTFOUND, "commune", "Commune inconnue.",
                          "rights: no commune %s", who->insee);
    if (rc < 0)
        return rc;
    doc = gu_json_arena(a, json_object());
    data = json_object();
    summary = json_object();
    if (!doc || !data || !summary) {
        json_decref(data);
        json_decref(summary);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rights: oom");
    }
    json_object_set_new(doc, "commune",
                        json_pack("{s:s, s:s}", "insee", m.insee, "nom",
                                  m.name ? m.name : ""));
    json_object_set_new(doc, "date", gu_json_time(gu_now()));
    json_object_set_new(
        doc, "recherche",
        json_pack("{s:o, s:o}", "courriel",
                  who->email ? json_string(who->email) : json_null(),
                  "telephone",
                  who->phone ? json_string(who->phone) : json_null()));
    json_object_set_new(doc, "donnees", data);
    mods = app_modules(&nmods);
    for (size_t i = 0; i < nmods; i++) {
        if (!mods[i].pdata || !mods[i].pdata->export_fn)
            continue;
        rc = mods[i].pdata->export_fn(c, a, who, data, err);
        if (rc < 0) {
            json_decref(summary);
            return rc;
        }
    }
    json_object_foreach(data, k, v)
    {
        size_t n = items(v);

        json_object_set_new(summary, k, json_integer((json_int_t)n));
        total += n;
    }
    json_object_set_new(doc, "resume", summary);
    json_object_set_new(doc, "total", json_integer((json_int_t)total));
    json_object_set_new(doc, "a_savoir", json_string(about));

    /* the audit names nobody: which keys were searched, what was found */
    gu_buf_init(&det);
    gu_buf_printf(&det, "courriel=%s telephone=%s total=%zu",
                  who->email ? "oui" : "non", who->phone ? "oui" : "non",
                  total);
    json_object_foreach(summary, k, v)
    {
        gu_buf_printf(&det, " %s=%lld", k, (long long)json_integer_value(v));
    }
    rc = det.oom ? gu_err_set(err, GU_ENOMEM, NULL, NULL, "rights: oom")
                 : store_audit_add(c, who->insee, actor ? actor : "systeme",
                                   "personne.export", "", det.p, request_id,
                                   err);
    gu_buf_fini(&det);
    if (rc < 0)
        return rc;
    *out = doc;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Erasure                                                             */
/* ------------------------------------------------------------------ */

int
app_rights_erase(struct store_conn *c, const struct app_subject *who,
                 const char *actor, const char *request_id,
                 struct app_erase_result *res, struct gu_err *err)
{
    const struct app_module *mods;
    struct gu_arena *a = gu_arena_new(512);
    struct store_commune m;
    struct gu_buf det;
    size_t nmods;
    int rc;

    memset(res, 0, sizeof(*res));
    gu_buf_init(&det);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rights: oom");
    rc = store_commune_get(c, a, who->insee, &m, err);
    if (rc == GU_ENOTFOUND)
        rc = gu_err_set(err, GU_ENOTFOUND, "commune", "Commune inconnue.",
                        "rights: no commune %s", who->insee);
    if (rc < 0 || (rc = store_begin(c, err)) < 0)
        goto out;
    mods = app_modules(&nmods);
    for (size_t i = 0; i < nmods; i++) {
        int64_t rows = 0;

        if (!mods[i].pdata || !mods[i].pdata->erase_fn)
            continue;
        rc = mods[i].pdata->erase_fn(c, who, &rows, err);
        if (rc < 0)
            goto rollback;
        res->per[res->n].module = mods[i].name;
        res->per[res->n].rows = rows;
        res->n++;
        res->rows += rows;
    }
    gu_buf_printf(&det, "courriel=%s telephone=%s lignes=%lld",
                  who->email ? "oui" : "non", who->phone ? "oui" : "non",
                  (long long)res->rows);
    for (size_t i = 0; i < res->n; i++)
        gu_buf_printf(&det, " %s=%lld", res->per[i].module,
                      (long long)res->per[i].rows);
    if (det.oom) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "rights: oom");
        goto rollback;
    }
    if ((rc = store_audit_add(c, who->insee, actor ? actor : "systeme",
                              "personne.effacement", "", det.p, request_id,
                              err)) < 0 ||
        (rc = store_commit(c, err)) < 0)
        goto rollback;
    goto out;
rollback:
    store_rollback(c);
    memset(res, 0, sizeof(*res));
out:
    gu_buf_fini(&det);
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

static int
subject_of(struct http_req *req, struct app_subject *who)
{
    const char *email = NULL, *phone = NULL;
    json_t *body;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_body_json(req, &body)) < 0 ||
        (rc = gu_json_str(body, "courriel", false, 320, &email, &req->err)) <
            0 ||
        (rc = gu_json_str(body, "telephone", false, 64, &phone, &req->err)) <
            0)
        return rc;
    return app_subject_make(req->arena, req->who.insee, email, phone, who,
                            &req->err);
}

static int
post_export(struct http_req *req, struct http_resp *resp)
{
    struct app_subject who;
    json_t *doc = NULL;
    int rc;

    if ((rc = subject_of(req, &who)) < 0 ||
        (rc = app_rights_export(req->conn, req->arena, &who, http_actor(req),
                                req->request_id, &doc, &req->err)) < 0)
        return rc;
    http_add_header(resp, "Cache-Control", "no-store");
    return http_json(resp, 200, json_incref(doc));
}

static int
post_erase(struct http_req *req, struct http_resp *resp)
{
    struct app_subject who;
    struct app_erase_result res;
    json_t *o, *per;
    int rc;

    if ((rc = subject_of(req, &who)) < 0 ||
        (rc = app_rights_erase(req->conn, &who, http_actor(req),
                               req->request_id, &res, &req->err)) < 0)
        return rc;
    per = json_object();
    for (size_t i = 0; i < res.n; i++)
        json_object_set_new(per, res.per[i].module,
                            json_integer((json_int_t)res.per[i].rows));
    o = json_pack("{s:I, s:o, s:s}", "lignes", (json_int_t)res.rows,
                  "modules", per, "message",
                  res.rows ? "Les données de cette personne ont été effacées "
                             "ou anonymisées ; ses rendez-vous à venir sont "
                             "annulés."
                           : "Aucune donnée ne correspondait à cette "
                             "personne : rien n'a été modifié.");
    http_add_header(resp, "Cache-Control", "no-store");
    return http_json(resp, 200, o);
}

/* A byte offset of s as UTF-16 code units (JavaScript string indexes). */
static size_t
utf16_at(const char *s, size_t off, size_t *from, size_t *acc)
{
    for (; *from < off; (*from)++) {
        unsigned char c = (unsigned char)s[*from];

        if ((c & 0xC0) == 0x80)
            continue; /* continuation byte */
        *acc += c >= 0xF0 ? 2 : 1;
    }
    return *acc;
}

static int
post_scan(struct http_req *req, struct http_resp *resp)
{
    const char *text = NULL, *red;
    json_t *body, *arr, *kinds, *o;
    struct pii_span *sp;
    size_t n, count = 0, from = 0, acc = 0;
    unsigned found = 0;
    bool link = false;
    int rc;

    if ((rc = http_body_json(req, &body)) < 0 ||
        (rc = gu_json_str(body, "texte", true, (size_t)-1, &text,
                          &req->err)) < 0 ||
        (rc = gu_json_bool(body, "lier", false, &link, &req->err)) < 0)
        return rc;
    n = strlen(text);
    if (n > APP_SCAN_MAX)
        return gu_err_set(&req->err, GU_ETOOBIG, "texte",
                          "Texte trop long : 64 Ko au plus par analyse.",
                          "pii scan: %zu bytes", n);
    sp = gu_arena_alloc(req->arena, APP_SCAN_SPANS * sizeof(*sp));
    if (!sp)
        return GU_ENOMEM;
    if ((rc = pii_scan(text, n, sp, APP_SCAN_SPANS, &count)) < 0)
        return rc;
    if (count > APP_SCAN_SPANS)
        return gu_err_set(&req->err, GU_ETOOBIG, "texte",
                          "Trop de données personnelles dans ce texte (2 000 "
                          "au plus par analyse) : découpez-le.",
                          "pii scan: %zu spans", count);
    if (link) {
        unsigned char key[PII_KEY_BYTES];

        if ((rc = http_need_commune(req)) < 0 ||
            (rc = pii_commune_key(req->conn, req->who.insee, key,
                                  &req->err)) < 0)
            return rc;
        red = pii_redact_keyed(req->arena, text, n, key, &found);
        sodium_memzero(key, sizeof(key));
    } else {
        red = pii_redact(req->arena, text, n, &found);
    }
    if (!red)
        return GU_ENOMEM;
    arr = json_array();
    for (size_t k = 0; k < count; k++) {
        size_t b = sp[k].off, e = sp[k].off + sp[k].len;
        size_t ub = utf16_at(text, b, &from, &acc);
        size_t ue = utf16_at(text, e, &from, &acc);

        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s%}", "type",
                           pii_kind_name(sp[k].kind), "libelle",
                           pii_placeholder(sp[k].kind), "debut",
                           (json_int_t)b, "fin", (json_int_t)e,
                           "debut_utf16", (json_int_t)ub, "fin_utf16",
                           (json_int_t)ue, "texte", text + b, sp[k].len));
    }
    kinds = json_array();
    for (unsigned k = 1; k <= PII_KIND_LAST; k <<= 1)
        if (found & k)
            json_array_append_new(
                kinds, json_string(pii_kind_name((enum pii_kind)k)));
    o = json_pack("{s:o, s:I, s:o, s:s}", "elements", arr, "nombre",
                  (json_int_t)count, "types", kinds, "texte_masque", red);
    http_add_header(resp, "Cache-Control", "no-store");
    return http_json(resp, 200, o);
}

#define S_STR "{\"type\":\"string\"}"
#define S_INT "{\"type\":\"integer\"}"
#define SUBJECT_BODY                                                           \
    "{\"type\":\"object\",\"properties\":{\"courriel\":{\"type\":\"string\","  \
    "\"format\":\"email\",\"maxLength\":320},\"telephone\":{\"type\":"         \
    "\"string\",\"maxLength\":64}},\"anyOf\":[{\"required\":[\"courriel\"]},"  \
    "{\"required\":[\"telephone\"]}]}"
#define EXPORT_SCHEMA                                                          \
    "{\"type\":\"object\",\"properties\":{\"commune\":{\"type\":\"object\","   \
    "\"properties\":{\"insee\":" S_STR ",\"nom\":" S_STR "}},\"date\":"        \
    "{\"type\":\"string\",\"format\":\"date-time\"},\"recherche\":{\"type\":"  \
    "\"object\"},\"donnees\":{\"type\":\"object\",\"description\":\"Un "      \
    "membre par module : rdv, demandes, assistant, courriels\"},"              \
    "\"resume\":{\"type\":\"object\",\"additionalProperties\":" S_INT "},"     \
    "\"total\":" S_INT ",\"a_savoir\":" S_STR "}}"
#define ERASE_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"lignes\":" S_INT ",\"modules\":"   \
    "{\"type\":\"object\",\"additionalProperties\":" S_INT "},\"message\":"    \
    S_STR "}}"
#define SCAN_BODY                                                              \
    "{\"type\":\"object\",\"required\":[\"texte\"],\"properties\":{\"texte\":" \
    "{\"type\":\"string\",\"maxLength\":65536,\"description\":\"64 Ko au "     \
    "plus\"},\"lier\":{\"type\":\"boolean\",\"description\":\"Masquage avec "  \
    "une empreinte par valeur, propre à la commune (« [téléphone·3f9a1c2b] "   \
    "»)\"}}}"
#define SCAN_SCHEMA                                                            \
    "{\"type\":\"object\",\"properties\":{\"elements\":{\"type\":\"array\","   \
    "\"items\":{\"type\":\"object\",\"properties\":{\"type\":" S_STR           \
    ",\"libelle\":" S_STR ",\"debut\":" S_INT ",\"fin\":" S_INT                \
    ",\"debut_utf16\":" S_INT ",\"fin_utf16\":" S_INT ",\"texte\":" S_STR      \
    "}}},\"nombre\":" S_INT ",\"types\":{\"type\":\"array\",\"items\":"        \
    S_STR "},\"texte_masque\":" S_STR "}}"

static const struct http_route routes[] = {
    {"POST", "/api/v1/personnes/export", HTTP_ADMIN, post_export, "personnes",
     "Droit d’accès (RGPD, art. 15) : tout ce que la commune détient sur une "
     "personne, par adresse e-mail ou téléphone (audité)",
     SUBJECT_BODY, EXPORT_SCHEMA},
    {"POST", "/api/v1/personnes/effacement", HTTP_ADMIN, post_erase,
     "personnes",
     "Droit à l’effacement (RGPD, art. 17) : efface ou anonymise tout ce qui "
     "concerne une personne, en une transaction ; ses rendez-vous à venir "
     "sont annulés (audité)",
     SUBJECT_BODY, ERASE_SCHEMA},
    {"POST", "/api/v1/pii/scan", HTTP_AGENT, post_scan, "personnes",
     "Repère les données personnelles d’un texte (type, début et fin en "
     "octets et en UTF-16) et le rend masqué ; rien n’est enregistré",
     SCAN_BODY, SCAN_SCHEMA},
};

const struct http_routes app_rights_routes = {"personnes", routes,
                                              GU_ARRAY_LEN(routes)};
