/*
 * tri_pages.c - the residents' pages of the request inbox (see tri.h).
 *
 *   GET  /demande                  the form: what it is about, an optional
 *                                  category (the commune's active
 *                                  services), an address and optionally a
 *                                  point, up to TRI_ATTACH_MAX photos, the
 *                                  contact and « être prévenu(e) ».
 *                                  ?c=INSEE picks the commune.
 *   POST /demande                  multipart/form-data (or urlencoded when
 *                                  no photo): checked field by field with
 *                                  French messages (the form comes back
 *                                  filled, with an error summary), then
 *                                  tri_intake(); 303 to the status page
 *                                  with ?fait=depose (the confirmation:
 *                                  number and the link to keep).
 *   GET  /demande/suivi/{token}    status, public history (status changes,
 *                                  the mairie's replies, the resident's
 *                                  own messages), a form to add a message
 *                                  or photos. Internal notes never show.
 *   POST /demande/suivi/{token}    the resident adds a message / photos.
 *   GET  /demande/suivi/{token}/photos/{id}   one of the request's photos
 *                                  (already cleaned of metadata), for the
 *                                  resident who holds the link.
 *
 * Everything works without JavaScript; web/js/demande*.js only improves
 * (previews, sizes, the position button, the optional map, checks as
 * typed). The body of a multipart POST is bounded by server.max_upload
 * (web/), each photo by TRI_ATTACH_BYTES, their count by TRI_ATTACH_MAX,
 * and photos are re-encoded by tri_image_clean() here (a precise error
 * per file) and again inside tri_intake().
 *
 * Cross-site requests: the residents have no session, so the form carries
 * a random token that must equal the SameSite=Strict cookie set with the
 * form (double submit; a cross-site POST never carries the cookie), and a
 * POST whose Sec-Fetch-Site says cross-site is refused too. Submissions
 * are limited per client IP (triage.rate_ip per hour); unknown status
 * tokens are counted per client and all get the same 404 page.
 *
 * multipart/form-data is parsed by GMime (the body is given to its parser
 * behind the request's Content-Type header), not by hand.
 */
#include "triage/tri.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#define FORM_COOKIE "guichet_demande"
#define FORM_TOKEN_BYTES 24
#define PARTS_MAX 40   /* parts of one multipart body */
#define FIELD_MAX 1024 /* a short text field, bytes */
#define MISS_LIMIT 30  /* unknown tokens per client and minute */
#define ERRORS_MAX 16

static const char NOT_FOUND_TEXT[] =
    "Ce lien de suivi n’existe pas ou n’est plus valable. Utilisez le lien "
    "complet reçu après le dépôt ou dans le dernier courriel de la mairie, "
    "ou contactez la mairie en donnant le numéro de votre demande.";

static const char *
nz(const char *s)
{
    return s ? s : "";
}

/* ------------------------------------------------------------------ */
/* multipart/form-data (GMime)                                         */
/* ------------------------------------------------------------------ */

struct form_part {
    const char *name;     /* field name */
    const char *filename; /* NULL for a plain field */
    const char *ctype;    /* declared type ("" when none) */
    const char *data;     /* NUL-terminated copy in the arena */
    size_t n;
};


/*
 * Parse a multipart/form-data body (`ctype` is the request's Content-Type
 * header, with its boundary). Parts are copied into `a`. GU_EINVAL
 * (French) for a body that is not a readable multipart; GU_ETOOBIG over
 * PARTS_MAX parts.
 */
static int
multipart_parse(struct gu_arena *a, const char *ctype, const char *body,
                size_t n, struct form_part **out, size_t *nout,
                struct gu_err *err)
{
    GByteArray *ba;
    GMimeStream *s;
    GMimeParser *p;
    GMimeObject *obj;
    GMimeMultipart *mp;
    struct form_part *parts;
    size_t np = 0;
    int count, rc = 0;
    char *hdr;

    *out = NULL;
    *nout = 0;
    tri_gmime_init();
    if (!ctype || strpbrk(ctype, "\r\n") || !strcasestr(ctype, "boundary="))
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Formulaire illisible : renvoyez-le.",
                          "multipart: bad content type");
    hdr = gu_arena_sprintf(a, "Content-Type: %s\r\n\r\n", ctype);
    if (!hdr)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    ba = g_byte_array_sized_new((guint)(strlen(hdr) + n));
    g_byte_array_append(ba, (const guint8 *)hdr, (guint)strlen(hdr));
    g_byte_array_append(ba, (const guint8 *)body, (guint)n);
    s = g_mime_stream_mem_new_with_byte_array(ba); /* owns ba */
    p = g_mime_parser_new_with_stream(s);
    g_object_unref(s);
    obj = g_mime_parser_construct_part(p, NULL);
    g_object_unref(p);
    if (!obj || !GMIME_IS_MULTIPART(obj)) {
        rc = gu_err_set(err, GU_EINVAL, NULL,
                        "Formulaire illisible : renvoyez-le.",
                        "multipart: not a multipart body");
        goto out;
    }
    mp = GMIME_MULTIPART(obj);
    count = g_mime_multipart_get_count(mp);
    {
        /* Nothing between the boundaries: not a form. (GMime's
         * get_boundary would invent one, so the header is checked
         * before parsing.) */
        if (count == 0) {
            rc = gu_err_set(err, GU_EINVAL, NULL,
                            "Formulaire illisible : renvoyez-le.",
                            "multipart: no boundary or no part");
            goto out;
        }
    }
    if (count > PARTS_MAX) {
        rc = gu_err_set(err, GU_ETOOBIG, NULL,
                        "Le formulaire envoyé compte trop de champs.",
                        "multipart: %d parts", count);
        goto out;
    }
    parts =
        gu_arena_zalloc(a, sizeof(*parts) * (size_t)(count > 0 ? count : 1));
    if (!parts) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    for (int i = 0; i < count; i++) {
        GMimeObject *po = g_mime_multipart_get_part(mp, i);
        GMimeDataWrapper *w;
        GMimeStream *ms;
        GByteArray *oba;
        const char *name, *fname;
        GMimeContentType *ct;
        char *mime = NULL;
        struct form_part *fp;

        if (!GMIME_IS_PART(po))
            continue;
        name = g_mime_object_get_content_disposition_parameter(po, "name");
        if (!name || !*name)
            continue;
        fname = g_mime_object_get_content_disposition_parameter(po, "filename");
        fp = &parts[np];
        fp->name = gu_arena_strdup(a, name);
        fp->filename = fname ? gu_arena_strdup(a, fname) : NULL;
        ct = g_mime_object_get_content_type(po);
        if (ct)
            mime = g_mime_content_type_get_mime_type(ct);
        fp->ctype = gu_arena_strdup(a, mime ? mime : "");
        g_free(mime);
        w = g_mime_part_get_content(GMIME_PART(po));
        ms = g_mime_stream_mem_new();
        if (w)
            g_mime_data_wrapper_write_to_stream(w, ms);
        oba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
        fp->n = oba ? oba->len : 0;
        fp->data = gu_arena_alloc(a, fp->n + 1);
        if (fp->data) {
            if (fp->n)
                memcpy((char *)fp->data, oba->data, fp->n);
            ((char *)fp->data)[fp->n] = 0;
        }
        g_object_unref(ms);
        if (!fp->name || !fp->ctype || !fp->data || (fname && !fp->filename)) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            goto out;
        }
        np++;
    }
    *out = parts;
    *nout = np;
out:
    if (obj)
        g_object_unref(obj);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The submitted form                                                  */
/* ------------------------------------------------------------------ */

struct photo {
    const char *filename;
    const void *data;
    size_t n;
};

struct fform {
    const char *objet, *texte, *categorie, *adresse, *lat, *lon;
    const char *nom, *courriel, *telephone, *jeton, *commune;
    bool prevenir, accord;
    struct photo photos[TRI_ATTACH_MAX];
    size_t nphotos;
    size_t photos_sent; /* may exceed TRI_ATTACH_MAX */
    size_t photos_bytes;
};

struct ferrs {
    size_t n;
    struct {
        const char *field; /* the input's id */
        const char *msg;
    } e[ERRORS_MAX];
};

static void
ferr_add(struct ferrs *fe, const char *field, const char *msg)
{
    for (size_t i = 0; i < fe->n; i++)
        if (strcmp(fe->e[i].field, field) == 0)
            return; /* first message per field */
    if (fe->n < ERRORS_MAX) {
        fe->e[fe->n].field = field;
        fe->e[fe->n].msg = msg;
        fe->n++;
    }
}

static const char *
ferr_get(const struct ferrs *fe, const char *field)
{
    for (size_t i = 0; i < fe->n; i++)
        if (strcmp(fe->e[i].field, field) == 0)
            return fe->e[i].msg;
    return NULL;
}

/* A text field: trimmed of surrounding blanks (in the arena). */
static const char *
trimmed(struct gu_arena *a, const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return gu_arena_strndup(a, s, n);
}

/* Text fields from the parts; the photos kept aside. */
static int
form_from_parts(struct gu_arena *a, const struct form_part *parts, size_t np,
                struct fform *f, struct ferrs *fe)
{
    static const struct {
        const char *name;
        size_t off;
        size_t max;
    } texts[] = {
        {"objet", offsetof(struct fform, objet), FIELD_MAX},
        {"texte", offsetof(struct fform, texte), TRI_BODY_MAX * 2},
        {"categorie", offsetof(struct fform, categorie), FIELD_MAX},
        {"adresse", offsetof(struct fform, adresse), FIELD_MAX},
        {"lat", offsetof(struct fform, lat), 64},
        {"lon", offsetof(struct fform, lon), 64},
        {"nom", offsetof(struct fform, nom), FIELD_MAX},
        {"courriel", offsetof(struct fform, courriel), FIELD_MAX},
        {"telephone", offsetof(struct fform, telephone), FIELD_MAX},
        {"jeton", offsetof(struct fform, jeton), 128},
        {"c", offsetof(struct fform, commune), 16},
    };

    for (size_t i = 0; i < np; i++) {
        const struct form_part *p = &parts[i];
        bool done = false;

        if (strcmp(p->name, "photos") == 0) {
            if (!p->filename && p->n == 0)
                continue;
            if (p->n == 0 && (!p->filename || !*p->filename))
                continue; /* the empty file input of a browser */
            f->photos_sent++;
            f->photos_bytes += p->n;
            if (f->nphotos < TRI_ATTACH_MAX) {
                f->photos[f->nphotos].filename = p->filename;
                f->photos[f->nphotos].data = p->data;
                f->photos[f->nphotos].n = p->n;
                f->nphotos++;
            }
            continue;
        }
        if (strcmp(p->name, "prevenir") == 0) {
            f->prevenir = true;
            continue;
        }
        if (strcmp(p->name, "accord") == 0) {
            f->accord = true;
            continue;
        }
        for (size_t k = 0; k < GU_ARRAY_LEN(texts) && !done; k++) {
            const char **slot;
            if (strcmp(p->name, texts[k].name) != 0)
                continue;
            done = true;
            slot = (const char **)((char *)f + texts[k].off);
            if (*slot)
                break; /* first value wins */
            if (p->filename) {
                ferr_add(fe, texts[k].name, "Ce champ attend du texte.");
                break;
            }
            if (p->n > texts[k].max) {
                ferr_add(fe, texts[k].name, "Ce texte est trop long.");
                *slot = "";
                break;
            }
            *slot = trimmed(a, p->data, p->n);
            if (!*slot)
                return GU_ENOMEM;
        }
    }
    return 0;
}

/* The same from an urlencoded body (a form sent without photos). */
static int
form_from_urlencoded(struct http_req *req, struct fform *f)
{
    struct gu_arena *a = req->arena;
    const char *v;

#define TAKE(field, name)                                                      \
    do {                                                                       \
        v = http_form(req, name);                                              \
        if (v && !(f->field = trimmed(a, v, strlen(v))))                       \
            return GU_ENOMEM;                                                  \
    } while (0)
    TAKE(objet, "objet");
    TAKE(texte, "texte");
    TAKE(categorie, "categorie");
    TAKE(adresse, "adresse");
    TAKE(lat, "lat");
    TAKE(lon, "lon");
    TAKE(nom, "nom");
    TAKE(courriel, "courriel");
    TAKE(telephone, "telephone");
    TAKE(jeton, "jeton");
    TAKE(commune, "c");
#undef TAKE
    f->prevenir = http_form(req, "prevenir") != NULL;
    f->accord = http_form(req, "accord") != NULL;
    return 0;
}

/* Read the POSTed form, multipart or urlencoded. */
static int
read_form(struct http_req *req, struct fform *f, struct ferrs *fe)
{
    const char *ctype = http_header(req, "Content-Type");
    struct form_part *parts;
    size_t np, n;
    const char *body;
    int rc;

    memset(f, 0, sizeof(*f));
    if (ctype && strncasecmp(ctype, "multipart/form-data", 19) == 0) {
        body = http_body(req, &n);
        rc = multipart_parse(req->arena, ctype, body ? body : "", n, &parts,
                             &np, &req->err);
        if (rc < 0)
            return rc;
        return form_from_parts(req->arena, parts, np, f, fe);
    }
    return form_from_urlencoded(req, f);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A French page with a status (404, 429...). */
static int
message_page(struct http_req *req, struct http_resp *resp, int status,
             const char *title, const char *detail)
{
    char num[8];
    json_t *vars;

    snprintf(num, sizeof(num), "%d", status);
    vars = json_pack("{s:s, s:s, s:s}", "status", num, "title", title, "detail",
                     detail);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, status, "erreur.html", vars);
}

/* The commune of a public page: `insee`, else commune.default, else the
 * first one. 1 when the 404 page was rendered. */
static int
load_commune(struct http_req *req, struct http_resp *resp, const char *insee,
             struct store_commune *m)
{
    struct store_commune *list = NULL;
    size_t n = 0;
    int rc;

    if (!insee || !insee[0])
        insee = req->cfg ? gu_config_str(req->cfg, "commune.default") : "";
    if (insee && insee[0]) {
        if (store_insee_valid(insee)) {
            rc = store_commune_get(req->conn, req->arena, insee, m, &req->err);
            if (rc != GU_ENOTFOUND)
                return rc;
        }
        rc = message_page(req, resp, 404, "Commune introuvable",
                          "Cette commune n’existe pas sur ce service.");
        return rc < 0 ? rc : 1;
    }
    rc = store_commune_list(req->conn, req->arena, &list, &n, &req->err);
    if (rc < 0)
        return rc;
    if (n == 0) {
        rc = message_page(req, resp, 404, "Aucune commune",
                          "Aucune commune n’est encore configurée.");
        return rc < 0 ? rc : 1;
    }
    *m = list[0];
    return 0;
}

/* triage.retention_days in words: « 1 an », « 400 jours ». */
static const char *
retention_text(struct gu_arena *a, const struct gu_config *cfg)
{
    long days = cfg ? gu_config_int(cfg, "triage.retention_days") : 365;

    if (days > 0 && days % 365 == 0)
        return gu_arena_sprintf(a, "%ld an%s", days / 365,
                                days / 365 > 1 ? "s" : "");
    return gu_arena_sprintf(a, "%ld jours", days);
}

/* « 1,2 Mo », « 350 ko » (arena). */
static const char *
size_text(struct gu_arena *a, size_t n)
{
    if (n >= 1000 * 1000)
        return gu_arena_sprintf(a, "%zu,%zu Mo", n / 1000000,
                                n % 1000000 / 100000);
    if (n >= 1000)
        return gu_arena_sprintf(a, "%zu ko", (n + 500) / 1000);
    return gu_arena_sprintf(a, "%zu octets", n);
}

static const char *
html_esc(struct gu_arena *a, const char *s)
{
    struct gu_buf b;
    const char *out;

    gu_buf_init(&b);
    gu_buf_html(&b, s ? s : "", s ? strlen(s) : 0);
    out = b.oom ? NULL : gu_arena_strndup(a, b.p ? b.p : "", b.n);
    gu_buf_fini(&b);
    return out;
}

/* « le 3 décembre 2026 à 9 h 30 » in the commune's time (arena). */
static const char *
when_text(struct gu_arena *a, const struct store_commune *m, int64_t t)
{
    int64_t day;
    int min;
    char buf[96];

    gu_tz_from_utc(gu_tz_of_zone(m->zone), t, &day, &min);
    gu_when_fr(day, min, buf, sizeof(buf));
    return gu_arena_strdup(a, buf);
}

/* The status page's absolute address, for residents to keep. */
static const char *
absolute_link(struct http_req *req, const char *token)
{
    const char *base = gu_public_base(req->arena, req->cfg);
    const char *host = http_header(req, "Host");

    if (base && base[0])
        return gu_arena_sprintf(req->arena, "%s/demande/suivi/%s", base,
                                nz(token));
    if (!host || !host[0] || strlen(host) > 255 || strpbrk(host, " \"<>\\/@"))
        return gu_arena_sprintf(req->arena, "/demande/suivi/%s", nz(token));
    return gu_arena_sprintf(req->arena, "%s://%s/demande/suivi/%s",
                            req->tls ? "https" : "http", host, nz(token));
}

/* Per-client hourly limit on submissions (triage.rate_ip). 0 when
 * allowed, 1 when the 429 page was rendered. */
static int
post_rate(struct http_req *req, struct http_resp *resp)
{
    long limit = req->cfg ? gu_config_int(req->cfg, "triage.rate_ip") : 0;
    char key[96];
    struct gu_err err = {0};
    int retry = 0, rc;

    if (limit <= 0)
        return 0;
    snprintf(key, sizeof(key), "tri.web:%.60s",
             req->client_ip ? req->client_ip : "");
    if (store_rate_hit(req->conn, key, (int)limit, 3600, &retry, &err) ==
        GU_ERATE) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", retry > 0 ? retry : 600);
        http_add_header(resp, "Retry-After", ra);
        rc = message_page(req, resp, 429, "Trop de demandes",
                          "Trop de demandes envoyées depuis votre connexion "
                          "en peu de temps. Patientez puis réessayez, ou "
                          "contactez la mairie par téléphone.");
        return rc < 0 ? rc : 1;
    }
    return 0;
}

/* The one answer to a token that leads nowhere (counted per client). */
static int
token_miss(struct http_req *req, struct http_resp *resp)
{
    char key[96];
    struct gu_err err = {0};
    int rc;

    snprintf(key, sizeof(key), "tri.token:%.60s",
             req->client_ip ? req->client_ip : "");
    if (store_rate_hit(req->conn, key, MISS_LIMIT, 60, NULL, &err) ==
        GU_ERATE) {
        http_add_header(resp, "Retry-After", "60");
        rc = message_page(req, resp, 429, "Trop de demandes",
                          "Trop de liens inconnus en peu de temps. Patientez "
                          "une minute puis réessayez.");
    } else {
        rc =
            message_page(req, resp, 404, "Demande introuvable", NOT_FOUND_TEXT);
    }
    return rc < 0 ? rc : 1;
}

/*
 * The form token: the cookie's value when the browser already has one
 * (several tabs share it), else a new one set on the response.
 */
static const char *
form_token(struct http_req *req, struct http_resp *resp)
{
    const char *have = http_cookie(req, FORM_COOKIE);
    char tok[64];

    if (have && strlen(have) >= 32 && strlen(have) < sizeof(tok) &&
        strspn(have, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_") == strlen(have))
        return have;
    if (gu_random_token(tok, sizeof(tok), FORM_TOKEN_BYTES) < 0)
        return NULL;
    if (http_set_cookie(req, resp, FORM_COOKIE, tok, 6 * 3600, true) < 0)
        return NULL;
    return gu_arena_strdup(req->arena, tok);
}

/* The POST comes from our own page: same token in cookie and form, and no
 * cross-site fetch. */
static bool
form_token_ok(struct http_req *req, const char *sent)
{
    const char *have = http_cookie(req, FORM_COOKIE);
    const char *site = http_header(req, "Sec-Fetch-Site");

    if (site && strcmp(site, "cross-site") == 0)
        return false;
    return have && sent && *have && gu_const_eq(have, sent);
}

/* ------------------------------------------------------------------ */
/* GET/POST /demande                                                   */
/* ------------------------------------------------------------------ */

/* Form fields and their labels, in the page's order (error summary). */
static const struct {
    const char *id;
    const char *label;
} FIELDS[] = {
    {"texte", "Votre demande"},
    {"objet", "Objet"},
    {"categorie", "Catégorie"},
    {"adresse", "Adresse ou lieu"},
    {"position", "Position"},
    {"photos", "Photos"},
    {"nom", "Nom"},
    {"courriel", "Adresse électronique"},
    {"telephone", "Téléphone"},
    {"prevenir", "Être prévenu(e)"},
    {"accord", "Votre accord"},
};

/*
 * The tile server's URL template (triage.map_tiles), or "" when none or
 * malformed: http(s), {z} {x} {y}, nothing that could break out of an
 * attribute or a CSP source.
 */
static const char *
map_tiles(struct http_req *req)
{
    const struct gu_setting *set;
    size_t n;
    const char *t;
    bool known = false;

    set = gu_settings(&n);
    for (size_t i = 0; i < n && !known; i++)
        known = strcmp(set[i].key, "triage.map_tiles") == 0;
    if (!known || !req->cfg)
        return "";
    t = gu_config_str(req->cfg, "triage.map_tiles");
    if (!t ||
        (strncmp(t, "https://", 8) != 0 && strncmp(t, "http://", 7) != 0) ||
        !strstr(t, "{z}") || !strstr(t, "{x}") || !strstr(t, "{y}") ||
        strpbrk(t, " \t\r\n\"'<>;,\\") || strlen(t) > 500)
        return "";
    return t;
}

/* <option>s of the active services, `sel` selected (arena). */
static const char *
service_options(struct http_req *req, const struct tri_service *sv, size_t n,
                const char *sel)
{
    struct gu_buf b;
    const char *out;

    gu_buf_init(&b);
    gu_buf_printf(&b,
                  "<option value=\"\"%s>Je ne sais pas : la mairie "
                  "orientera ma demande</option>",
                  sel && *sel ? "" : " selected");
    for (size_t i = 0; i < n; i++) {
        gu_buf_puts(&b, "<option value=\"");
        gu_buf_html(&b, nz(sv[i].code), strlen(nz(sv[i].code)));
        gu_buf_puts(&b, "\"");
        if (sel && strcmp(sel, nz(sv[i].code)) == 0)
            gu_buf_puts(&b, " selected");
        gu_buf_puts(&b, ">");
        gu_buf_html(&b, nz(sv[i].name), strlen(nz(sv[i].name)));
        gu_buf_puts(&b, "</option>");
    }
    out = b.oom ? NULL : gu_arena_strndup(req->arena, b.p, b.n);
    gu_buf_fini(&b);
    return out;
}

static int
services_of(struct http_req *req, const char *insee, struct tri_service **sv,
            size_t *n)
{
    int rc =
        tri_service_list(req->conn, req->arena, insee, true, sv, n, &req->err);

    if (rc == 0 && *n == 0) {
        /* A commune that never had a request: its default taxonomy. */
        rc = tri_services_seed(req->conn, insee, &req->err);
        if (rc == 0)
            rc = tri_service_list(req->conn, req->arena, insee, true, sv, n,
                                  &req->err);
    }
    return rc;
}

/* Render the form, filled with `f` (may be NULL) and its errors. */
static int
render_form(struct http_req *req, struct http_resp *resp, int status,
            const struct store_commune *m, const struct fform *f,
            const struct ferrs *fe, const char *general)
{
    struct gu_arena *a = req->arena;
    struct tri_service *sv = NULL;
    size_t nsv = 0;
    const char *tok, *opts, *tiles;
    struct gu_buf sum;
    json_t *vars;
    int rc;

    rc = services_of(req, m->insee, &sv, &nsv);
    if (rc < 0)
        return rc;
    tok = form_token(req, resp);
    opts = service_options(req, sv, nsv, f ? f->categorie : NULL);
    if (!tok || !opts)
        return GU_ENOMEM;
    tiles = map_tiles(req);
    vars = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s}", "commune",
                     m->name, "insee", m->insee, "jeton", tok, "options", opts,
                     "retention", nz(retention_text(a, req->cfg)), "max_photos",
                     TRI_ATTACH_MAX, "max_mo", (int)(TRI_ATTACH_BYTES >> 20),
                     "tiles", nz(tiles));
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(a, vars);
    if (f) {
        json_object_set_new(vars, "v_objet", json_string(nz(f->objet)));
        json_object_set_new(vars, "v_texte", json_string(nz(f->texte)));
        json_object_set_new(vars, "v_adresse", json_string(nz(f->adresse)));
        json_object_set_new(vars, "v_lat", json_string(nz(f->lat)));
        json_object_set_new(vars, "v_lon", json_string(nz(f->lon)));
        json_object_set_new(vars, "v_nom", json_string(nz(f->nom)));
        json_object_set_new(vars, "v_courriel", json_string(nz(f->courriel)));
        json_object_set_new(vars, "v_telephone", json_string(nz(f->telephone)));
        json_object_set_new(vars, "prevenir_checked",
                            json_string(f->prevenir ? "checked" : ""));
        json_object_set_new(vars, "accord_checked",
                            json_string(f->accord ? "checked" : ""));
        if (f->lat && *f->lat && f->lon && *f->lon)
            json_object_set_new(
                vars, "position_text",
                json_string(gu_arena_sprintf(a,
                                             "Position enregistrée : "
                                             "%s, %s",
                                             f->lat, f->lon)));
        if (f->nphotos > 0 && fe && fe->n > 0)
            json_object_set_new(
                vars, "photos_again",
                json_string("Pour votre sécurité, les photos ne sont pas "
                            "gardées quand le formulaire revient avec une "
                            "erreur : joignez-les à nouveau."));
    }
    /* Errors: each field's message and aria-invalid, and the summary. */
    gu_buf_init(&sum);
    for (size_t i = 0; i < GU_ARRAY_LEN(FIELDS); i++) {
        const char *msg = fe ? ferr_get(fe, FIELDS[i].id) : NULL;
        char key[48];
        if (!msg)
            continue;
        snprintf(key, sizeof(key), "e_%s", FIELDS[i].id);
        json_object_set_new(vars, key, json_string(msg));
        snprintf(key, sizeof(key), "inv_%s", FIELDS[i].id);
        json_object_set_new(vars, key, json_string("aria-invalid=\"true\""));
        gu_buf_printf(&sum, "<li><a href=\"#%s\">", FIELDS[i].id);
        gu_buf_html(&sum, FIELDS[i].label, strlen(FIELDS[i].label));
        gu_buf_puts(&sum, "&nbsp;: ");
        gu_buf_html(&sum, msg, strlen(msg));
        gu_buf_puts(&sum, "</a></li>");
    }
    if (general && *general) {
        gu_buf_puts(&sum, "<li>");
        gu_buf_html(&sum, general, strlen(general));
        gu_buf_puts(&sum, "</li>");
    }
    if (sum.n) {
        size_t ne = (fe ? fe->n : 0) + (general && *general ? 1 : 0);
        json_object_set_new(
            vars, "summary_title",
            json_string(ne > 1 ? gu_arena_sprintf(a,
                                                  "Le formulaire contient %zu "
                                                  "erreurs",
                                                  ne)
                               : "Le formulaire contient une erreur"));
        json_object_set_new(vars, "summary_items",
                            json_string(gu_arena_strndup(a, sum.p, sum.n)));
        json_object_set_new(vars, "summary_attrs", json_string("autofocus"));
    } else {
        json_object_set_new(vars, "summary_attrs", json_string("hidden"));
    }
    gu_buf_fini(&sum);
    /* The page asks for the position itself: allow it here only. */
    http_add_header(resp, "Permissions-Policy",
                    "camera=(), geolocation=(self), payment=(), usb=(), "
                    "interest-cohort=()");
    if (tiles && *tiles) {
        /* Map tiles come from the server the admin configured. */
        const char *origin = NULL;
        const char *p = strstr(tiles, "://");
        if (p) {
            const char *end = strchr(p + 3, '/');
            origin =
                end ? gu_arena_strndup(a, tiles, (size_t)(end - tiles)) : tiles;
        }
        if (origin && !strpbrk(origin, " ;,'\"\r\n{}"))
            http_add_header(
                resp, "Content-Security-Policy",
                gu_arena_sprintf(a,
                                 "default-src 'self'; script-src 'self'; "
                                 "style-src 'self'; img-src 'self' data: %s; "
                                 "object-src 'none'; base-uri 'none'; "
                                 "form-action 'self'; frame-ancestors 'none'",
                                 origin));
    }
    return http_template(req, resp, status, "demande.html", vars);
}

static int
get_form(struct http_req *req, struct http_resp *resp)
{
    struct store_commune m;
    int rc = load_commune(req, resp, http_query(req, "c"), &m);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    return render_form(req, resp, 200, &m, NULL, NULL, NULL);
}

/* Parse a coordinate with a dot or a comma. */
static bool
coord(const char *s, double lo, double hi, double *out)
{
    char buf[64], *end;
    size_t n = strlen(s);

    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n + 1);
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = '.';
    errno = 0;
    *out = strtod(buf, &end);
    return errno == 0 && *end == 0 && isfinite(*out) && *out >= lo &&
           *out <= hi;
}

static bool
email_shape(const char *s)
{
    const char *at = strchr(s, '@');

    return at && at != s && strchr(at + 1, '.') && !strchr(at + 1, '@') &&
           strlen(s) <= 254 && !strpbrk(s, " \t<>,;\"");
}

/* Field-by-field checks (the intake checks again). */
static void
check_form(struct http_req *req, struct fform *f, const struct tri_service *sv,
           size_t nsv, struct ferrs *fe, double *lat, double *lon)
{
    bool contact;

    *lat = *lon = 0;
    if (!f->texte || !*f->texte)
        ferr_add(fe, "texte",
                 "Décrivez votre demande ou ce que vous "
                 "signalez.");
    else if (strlen(f->texte) > TRI_BODY_MAX)
        ferr_add(fe, "texte",
                 "Votre texte dépasse 20 000 caractères ; "
                 "raccourcissez-le.");
    else if (!gu_utf8_valid(f->texte, strlen(f->texte)))
        ferr_add(fe, "texte", "Ce texte contient des caractères illisibles.");
    if (f->objet && strlen(f->objet) > TRI_SUBJECT_MAX)
        ferr_add(fe, "objet", "L’objet dépasse 200 caractères.");
    if (f->adresse && strlen(f->adresse) > TRI_ADDRESS_MAX)
        ferr_add(fe, "adresse", "L’adresse dépasse 300 caractères.");
    if (f->categorie && *f->categorie) {
        bool found = false;
        for (size_t i = 0; i < nsv && !found; i++)
            found = strcmp(nz(sv[i].code), f->categorie) == 0;
        if (!found)
            ferr_add(fe, "categorie",
                     "Choisissez une catégorie de la liste, ou « Je ne sais "
                     "pas ».");
    }
    if ((f->lat && *f->lat) || (f->lon && *f->lon)) {
        if (!f->lat || !f->lon || !coord(f->lat, -90, 90, lat) ||
            !coord(f->lon, -180, 180, lon) || (*lat == 0 && *lon == 0))
            ferr_add(fe, "position",
                     "Position illisible : utilisez à nouveau le bouton, ou "
                     "indiquez seulement l’adresse.");
    }
    if (f->nom && strlen(f->nom) > TRI_NAME_MAX)
        ferr_add(fe, "nom", "Le nom dépasse 200 caractères.");
    if (f->courriel && *f->courriel && !email_shape(f->courriel))
        ferr_add(fe, "courriel",
                 "Adresse électronique invalide (exemple : "
                 "prenom.nom@exemple.fr).");
    if (f->prevenir && (!f->courriel || !*f->courriel))
        ferr_add(fe, "courriel",
                 "Indiquez votre adresse électronique pour "
                 "être prévenu(e), ou décochez la case.");
    if (f->telephone && *f->telephone &&
        (strlen(f->telephone) > 30 ||
         strspn(f->telephone, "0123456789 +.-()") != strlen(f->telephone)))
        ferr_add(fe, "telephone",
                 "Numéro de téléphone invalide (exemple : "
                 "06 12 34 56 78).");
    contact = (f->nom && *f->nom) || (f->courriel && *f->courriel) ||
              (f->telephone && *f->telephone);
    if (contact && !f->accord)
        ferr_add(fe, "accord",
                 "Cochez la case pour que la mairie puisse "
                 "utiliser vos coordonnées, ou laissez-les "
                 "vides.");
    if (f->photos_sent > TRI_ATTACH_MAX)
        ferr_add(fe, "photos",
                 gu_arena_sprintf(req->arena,
                                  "Vous avez joint %zu photos : "
                                  "%d au plus.",
                                  f->photos_sent, TRI_ATTACH_MAX));
}

/*
 * Check and clean each photo (tri_image_clean): the message names the
 * file. Cleaned bytes replace the originals.
 */
static void
check_photos(struct http_req *req, struct fform *f, struct ferrs *fe)
{
    for (size_t i = 0; i < f->nphotos; i++) {
        struct photo *p = &f->photos[i];
        const void *out;
        size_t out_n;
        const char *ct;
        struct gu_err err;
        const char *name = p->filename && *p->filename
                               ? p->filename
                               : gu_arena_sprintf(req->arena, "n° %zu", i + 1);

        gu_err_clear(&err);
        if (p->n > TRI_ATTACH_BYTES) {
            ferr_add(fe, "photos",
                     gu_arena_sprintf(req->arena,
                                      "La photo « %s » pèse %s : 8 Mo au "
                                      "plus par photo.",
                                      name, size_text(req->arena, p->n)));
            return;
        }
        if (tri_image_clean(req->arena, p->data, p->n, &out, &out_n, &ct,
                            &err) < 0) {
            ferr_add(
                fe, "photos",
                gu_arena_sprintf(req->arena, "Photo « %s » : %s", name,
                                 err.user[0] ? err.user : "fichier refusé."));
            return;
        }
        p->data = out;
        p->n = out_n;
    }
}

/* The intake's field names to the form's. */
static const char *
form_field_of(const char *f)
{
    if (!f || !*f)
        return NULL;
    if (strcmp(f, "pieces") == 0)
        return "photos";
    if (strcmp(f, "lat") == 0 || strcmp(f, "lon") == 0)
        return "position";
    for (size_t i = 0; i < GU_ARRAY_LEN(FIELDS); i++)
        if (strcmp(FIELDS[i].id, f) == 0)
            return FIELDS[i].id;
    return NULL;
}

static int
post_form(struct http_req *req, struct http_resp *resp)
{
    struct gu_arena *a = req->arena;
    struct store_commune m;
    struct fform f;
    struct ferrs fe = {0};
    struct tri_service *sv = NULL;
    size_t nsv = 0;
    struct tri_intake_req in;
    struct tri_intake_res res;
    struct tri_attach_in att[TRI_ATTACH_MAX];
    struct gu_err err;
    double lat, lon;
    const char *field;
    int rc;

    /* Every post counts, before any parsing or decoding is paid for. */
    if ((rc = post_rate(req, resp)) != 0)
        return rc < 0 ? rc : 0;
    rc = read_form(req, &f, &fe);
    if (rc == GU_ENOMEM)
        return rc;
    if (rc < 0) {
        /* Not a readable form at all: a page, not a half-filled form. */
        return message_page(
            req, resp, rc == GU_ETOOBIG ? 413 : 400, "Formulaire illisible",
            req->err.user[0] ? req->err.user : "Renvoyez le formulaire.");
    }
    rc = load_commune(req, resp, f.commune ? f.commune : http_query(req, "c"),
                      &m);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (!form_token_ok(req, f.jeton)) {
        gu_log_info("tri.form", "err=\"form token missing or wrong\"");
        return render_form(req, resp, 403, &m, &f, &fe,
                           "Le formulaire a expiré ou a été envoyé depuis un "
                           "autre site. Vérifiez vos réponses et envoyez-le à "
                           "nouveau.");
    }
    rc = services_of(req, m.insee, &sv, &nsv);
    if (rc < 0)
        return rc;
    check_form(req, &f, sv, nsv, &fe, &lat, &lon);
    if (!ferr_get(&fe, "photos"))
        check_photos(req, &f, &fe);
    if (fe.n > 0)
        return render_form(req, resp, 422, &m, &f, &fe, NULL);

    memset(&in, 0, sizeof(in));
    in.insee = m.insee;
    in.channel = TRI_WEB;
    in.subject = f.objet ? f.objet : "";
    in.body = f.texte;
    in.category_hint = f.categorie && *f.categorie ? f.categorie : NULL;
    in.address = f.adresse && *f.adresse ? f.adresse : NULL;
    in.lat = lat;
    in.lon = lon;
    in.contact_name = f.nom && *f.nom ? f.nom : NULL;
    in.contact_email = f.courriel && *f.courriel ? f.courriel : NULL;
    in.contact_phone = f.telephone && *f.telephone ? f.telephone : NULL;
    in.notify = f.prevenir;
    in.origin = "formulaire";
    for (size_t i = 0; i < f.nphotos; i++) {
        att[i].filename = f.photos[i].filename;
        att[i].ctype = NULL;
        att[i].data = f.photos[i].data;
        att[i].size = f.photos[i].n;
        att[i].cleaned = true; /* check_photos() did it */
    }
    in.attach = att;
    in.nattach = f.nphotos;
    in.actor = "usager";
    gu_err_clear(&err);
    rc = tri_intake(store_conn_store(req->conn), req->conn, req->cfg, &in, a,
                    &res, &err);
    if (rc == GU_EINVAL || rc == GU_ETOOBIG) {
        field = form_field_of(err.field);
        if (field) {
            ferr_add(&fe, field,
                     err.user[0] ? gu_arena_strdup(a, err.user)
                                 : "Valeur refusée.");
            return render_form(req, resp, 422, &m, &f, &fe, NULL);
        }
        return render_form(req, resp, 422, &m, &f, &fe,
                           err.user[0] ? gu_arena_strdup(a, err.user)
                                       : "Votre demande n’a pas pu être "
                                         "enregistrée.");
    }
    if (rc < 0) {
        req->err = err;
        return rc;
    }
    gu_log_info("tri.web", "id=%lld number=%s photos=%zu", (long long)res.id,
                res.number, f.nphotos);
    return http_redirect(
        resp, gu_arena_sprintf(a, "/demande/suivi/%s?fait=depose", res.token));
}

/* ------------------------------------------------------------------ */
/* The status page                                                     */
/* ------------------------------------------------------------------ */

/* Resolve {token}: 0 with *r filled, 1 when the 404 page was rendered. */
static int
request_of(struct http_req *req, struct http_resp *resp, struct tri_request *r)
{
    const char *token = http_param(req, "token");
    int rc;

    if (!token || strlen(token) != TRI_TOKEN_LEN)
        return token_miss(req, resp);
    rc = tri_get_by_token(req->conn, req->arena, token, r, &req->err);
    if (rc == GU_ENOTFOUND || rc == GU_EINVAL)
        return token_miss(req, resp);
    if (rc == 0 && r->anonymised_at)
        return token_miss(req, resp);
    return rc;
}

/* What a resident reads for a status. */
static const char *
status_public(enum tri_status s, const char **cls)
{
    *cls = "";
    switch (s) {
    case TRI_A_TRIER:
    case TRI_NOUVELLE:
        return "Reçue, en attente de traitement";
    case TRI_EN_COURS:
        return "En cours de traitement";
    case TRI_ATTENTE:
        *cls = "badge-warn";
        return "En attente d’une précision de votre part";
    case TRI_RESOLUE:
        *cls = "badge-ok";
        return "Traitée";
    case TRI_REJETEE:
        *cls = "badge-off";
        return "Close sans suite";
    }
    return "";
}

struct hist {
    int64_t at;
    size_t seq; /* order of the rows at the same second */
    const char *html;
};

static int
hist_cmp(const void *x, const void *y)
{
    const struct hist *a = x, *b = y;

    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Paragraphs of a message (escaped, line breaks kept). */
static void
put_text(struct gu_buf *b, const char *s)
{
    for (const char *p = s; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        gu_buf_html(b, p, n);
        if (!nl)
            break;
        gu_buf_puts(b, "<br>");
        p = nl + 1;
    }
}

static int
render_status(struct http_req *req, struct http_resp *resp, int status,
              const struct tri_request *r, const char *done,
              const struct ferrs *fe, const char *v_message)
{
    struct gu_arena *a = req->arena;
    struct store_commune m;
    struct tri_message *msgs = NULL;
    struct tri_attachment *atts = NULL;
    struct tri_decision *decs = NULL;
    struct tri_service *sv = NULL;
    size_t nm = 0, na = 0, nd = 0, nh = 0, nsv = 0;
    struct hist *h;
    struct gu_buf b;
    const char *cls, *label, *token = http_param(req, "token");
    const char *link, *tok;
    json_t *vars;
    int rc;

    rc = store_commune_get(req->conn, a, r->insee, &m, &req->err);
    if (rc == 0)
        rc = tri_messages(req->conn, a, r->insee, r->id, &msgs, &nm, &req->err);
    if (rc == 0)
        rc = tri_attachments(req->conn, a, r->insee, r->id, &atts, &na,
                             &req->err);
    if (rc == 0)
        rc =
            tri_decisions(req->conn, a, r->insee, r->id, &decs, &nd, &req->err);
    if (rc == 0)
        rc = tri_service_list(req->conn, a, r->insee, false, &sv, &nsv,
                              &req->err);
    if (rc < 0)
        return rc;
    tok = form_token(req, resp);
    if (!tok)
        return GU_ENOMEM;

    /* The public history: reception, status changes, replies, the
     * resident's messages (and which photos came with each). Notes and
     * internal events never show. */
    h = gu_arena_zalloc(a, sizeof(*h) * (nm + nd + 1));
    if (!h)
        return GU_ENOMEM;
    h[nh].at = r->created_at;
    h[nh++].html = gu_arena_sprintf(
        a, "<p class=\"dm-event\"><strong>Demande reçue</strong> (n° %s)</p>",
        nz(html_esc(a, r->number)));
    for (size_t i = 0; i < nd; i++) {
        enum tri_status st;
        const char *c2;
        if (strcmp(nz(decs[i].kind), "service") == 0 &&
            strcmp(nz(decs[i].source), "agent") == 0 && *nz(decs[i].value) &&
            strcmp(nz(decs[i].value), nz(decs[i].previous)) != 0) {
            /* An agent sent it to (another) service: say which. */
            const char *name = NULL;
            for (size_t k = 0; k < nsv && !name; k++)
                if (strcmp(nz(sv[k].code), decs[i].value) == 0)
                    name = sv[k].name;
            if (!name)
                continue;
            h[nh].at = decs[i].created_at;
            h[nh].seq = nh;
            h[nh++].html = gu_arena_sprintf(
                a, "<p class=\"dm-event\">Confiée au service %s</p>",
                nz(html_esc(a, name)));
            continue;
        }
        if (strcmp(nz(decs[i].kind), "statut") != 0 ||
            tri_status_parse(nz(decs[i].value), &st) < 0 || st == TRI_A_TRIER ||
            st == TRI_NOUVELLE)
            continue;
        h[nh].at = decs[i].created_at;
        h[nh].seq = nh;
        h[nh++].html = gu_arena_sprintf(
            a, "<p class=\"dm-event\"><strong>État&nbsp;:</strong> %s</p>",
            status_public(st, &c2));
    }
    for (size_t i = 0; i < nm; i++) {
        struct gu_buf mb;
        size_t nph = 0;
        if (msgs[i].kind != TRI_MSG_IN && msgs[i].kind != TRI_MSG_OUT)
            continue;
        if (msgs[i].kind == TRI_MSG_OUT &&
            strcmp(nz(msgs[i].author), "systeme") == 0) {
            /* An automatic e-mail (acknowledgement): an event. */
            h[nh].at = msgs[i].created_at;
            h[nh].seq = nh;
            h[nh++].html =
                strncmp(nz(msgs[i].body), "Accusé", 7) == 0
                    ? "<p class=\"dm-event\">Accusé de réception envoyé par "
                      "courriel</p>"
                    : "<p class=\"dm-event\">Courriel de suivi envoyé</p>";
            continue;
        }
        gu_buf_init(&mb);
        gu_buf_printf(&mb,
                      "<div class=\"dm-msg %s\"><p class=\"dm-who\">%s</p>"
                      "<p>",
                      msgs[i].kind == TRI_MSG_OUT ? "dm-out" : "dm-in",
                      msgs[i].kind == TRI_MSG_OUT ? "Réponse de la mairie"
                                                  : "Votre message");
        put_text(&mb, nz(msgs[i].body));
        gu_buf_puts(&mb, "</p>");
        for (size_t k = 0; k < na; k++)
            if (atts[k].message_id == msgs[i].id)
                nph++;
        if (nph)
            gu_buf_printf(&mb, "<p class=\"hint\">%zu photo%s jointe%s</p>",
                          nph, nph > 1 ? "s" : "", nph > 1 ? "s" : "");
        gu_buf_puts(&mb, "</div>");
        h[nh].at = msgs[i].created_at;
        h[nh].seq = nh;
        h[nh++].html = mb.oom ? "" : gu_arena_strndup(a, mb.p, mb.n);
        gu_buf_fini(&mb);
    }
    qsort(h, nh, sizeof(*h), hist_cmp);
    gu_buf_init(&b);
    for (size_t i = nh; i-- > 0;) {
        gu_buf_printf(&b, "<li><p class=\"dm-when\">%s</p>%s</li>",
                      nz(html_esc(a, when_text(a, &m, h[i].at))),
                      nz(h[i].html));
    }
    vars = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i}",
                     "commune", m.name, "insee", m.insee, "token", nz(token),
                     "number", nz(r->number), "jeton", tok, "created",
                     nz(when_text(a, &m, r->created_at)), "history",
                     b.oom ? "" : gu_arena_strndup(a, b.p, b.n), "retention",
                     nz(retention_text(a, req->cfg)), "max_photos",
                     TRI_ATTACH_MAX, "max_mo", (int)(TRI_ATTACH_BYTES >> 20));
    gu_buf_fini(&b);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(a, vars);
    label = status_public(r->status, &cls);
    json_object_set_new(vars, "status", json_string(label));
    json_object_set_new(vars, "status_class", json_string(cls));
    json_object_set_new(vars, "service",
                        json_string(r->service_name && *r->service_name &&
                                            r->status != TRI_A_TRIER
                                        ? r->service_name
                                        : "en cours d’orientation"));
    json_object_set_new(
        vars, "subject",
        json_string(r->subject && *r->subject ? r->subject : "(sans objet)"));
    json_object_set_new(vars, "body", json_string(nz(r->body)));
    json_object_set_new(
        vars, "address",
        json_string(r->address && *r->address ? r->address : "non indiquée"));
    /* The request's own photos (message_id 0), with a thumbnail each. */
    {
        struct gu_buf pb;
        gu_buf_init(&pb);
        for (size_t k = 0; k < na; k++) {
            if (strncmp(nz(atts[k].ctype), "image/", 6) != 0)
                continue;
            gu_buf_printf(&pb,
                          "<li><a href=\"/demande/suivi/%s/photos/%lld\">"
                          "<img src=\"/demande/suivi/%s/photos/%lld\" "
                          "alt=\"\" loading=\"lazy\"> ",
                          nz(token), (long long)atts[k].id, nz(token),
                          (long long)atts[k].id);
            gu_buf_html(&pb, nz(atts[k].filename),
                        strlen(nz(atts[k].filename)));
            gu_buf_printf(&pb, " <span class=\"hint\">(%s)</span></a></li>",
                          nz(size_text(a, (size_t)atts[k].size)));
        }
        json_object_set_new(
            vars, "photos",
            json_string(pb.oom ? ""
                               : gu_arena_strndup(a, pb.p ? pb.p : "", pb.n)));
        json_object_set_new(vars, "photos_hidden",
                            json_string(pb.n ? "" : "hidden"));
        gu_buf_fini(&pb);
    }
    json_object_set_new(
        vars, "contact_note",
        json_string(r->contact_email && *r->contact_email && r->notify
                        ? "Vous êtes prévenu(e) par courriel "
                          "à chaque étape."
                        : "Revenez sur cette page pour suivre "
                          "votre demande : la mairie n’a pas "
                          "d’adresse électronique pour vous "
                          "prévenir."));
    link = absolute_link(req, token);
    json_object_set_new(vars, "link", json_string(nz(link)));
    json_object_set_new(vars, "done_hidden", json_string(done ? "" : "hidden"));
    json_object_set_new(vars, "done_title", json_string(nz(done)));
    json_object_set_new(vars, "done_attrs",
                        json_string(done && !(fe && fe->n) ? "autofocus" : ""));
    json_object_set_new(vars, "v_message", json_string(nz(v_message)));
    if (fe && fe->n) {
        struct gu_buf sum;
        gu_buf_init(&sum);
        for (size_t i = 0; i < fe->n; i++) {
            char key[48];
            snprintf(key, sizeof(key), "e_%s", fe->e[i].field);
            json_object_set_new(vars, key, json_string(fe->e[i].msg));
            snprintf(key, sizeof(key), "inv_%s", fe->e[i].field);
            json_object_set_new(vars, key,
                                json_string("aria-invalid=\"true\""));
            gu_buf_printf(&sum, "<li><a href=\"#%s\">", fe->e[i].field);
            gu_buf_html(&sum, fe->e[i].msg, strlen(fe->e[i].msg));
            gu_buf_puts(&sum, "</a></li>");
        }
        json_object_set_new(
            vars, "summary_items",
            json_string(sum.oom ? "" : gu_arena_strndup(a, sum.p, sum.n)));
        json_object_set_new(vars, "summary_attrs", json_string("autofocus"));
        gu_buf_fini(&sum);
    } else {
        json_object_set_new(vars, "summary_attrs", json_string("hidden"));
    }
    json_object_set_new(
        vars, "closed_note",
        json_string(r->status == TRI_RESOLUE || r->status == TRI_REJETEE
                        ? "Cette demande est close. Si le "
                          "problème continue, écrivez ici : "
                          "votre message la rouvrira."
                        : ""));
    return http_template(req, resp, status, "demande-suivi.html", vars);
}

static int
get_status(struct http_req *req, struct http_resp *resp)
{
    struct tri_request r;
    const char *fait = http_query(req, "fait");
    const char *done = NULL;
    int rc = request_of(req, resp, &r);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (fait && strcmp(fait, "depose") == 0)
        done = gu_arena_sprintf(req->arena,
                                "Votre demande est enregistrée sous le "
                                "numéro %s.",
                                nz(r.number));
    else if (fait && strcmp(fait, "message") == 0)
        done = "Votre message a été transmis à la mairie.";
    return render_status(req, resp, 200, &r, done, NULL, NULL);
}

static int
post_status(struct http_req *req, struct http_resp *resp)
{
    struct gu_arena *a = req->arena;
    struct tri_request r;
    struct fform f;
    struct ferrs fe = {0};
    struct tri_attach_in att[TRI_ATTACH_MAX];
    const char *body, *token = http_param(req, "token");
    struct gu_err err;
    int rc = request_of(req, resp, &r);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    if ((rc = post_rate(req, resp)) != 0)
        return rc < 0 ? rc : 0;
    rc = read_form(req, &f, &fe);
    if (rc == GU_ENOMEM)
        return rc;
    if (rc < 0)
        return message_page(
            req, resp, rc == GU_ETOOBIG ? 413 : 400, "Formulaire illisible",
            req->err.user[0] ? req->err.user : "Renvoyez le formulaire.");
    /* The message travels in the field « texte ». */
    if (!form_token_ok(req, f.jeton)) {
        ferr_add(&fe, "message",
                 "Le formulaire a expiré ou vient d’un autre "
                 "site : envoyez-le à nouveau.");
        return render_status(req, resp, 403, &r, NULL, &fe, f.texte);
    }
    if ((!f.texte || !*f.texte) && f.nphotos == 0)
        ferr_add(&fe, "message", "Écrivez un message ou joignez une photo.");
    else if (f.texte && strlen(f.texte) > TRI_BODY_MAX)
        ferr_add(&fe, "message", "Votre message dépasse 20 000 caractères.");
    if (f.photos_sent > TRI_ATTACH_MAX)
        ferr_add(&fe, "photos-message",
                 gu_arena_sprintf(a,
                                  "Vous avez joint %zu photos : %d au "
                                  "plus.",
                                  f.photos_sent, TRI_ATTACH_MAX));
    if (fe.n == 0) {
        struct ferrs pe = {0};
        check_photos(req, &f, &pe);
        if (pe.n)
            ferr_add(&fe, "photos-message", pe.e[0].msg);
    }
    if (fe.n)
        return render_status(req, resp, 422, &r, NULL, &fe, f.texte);
    for (size_t i = 0; i < f.nphotos; i++) {
        att[i].filename = f.photos[i].filename;
        att[i].ctype = NULL;
        att[i].data = f.photos[i].data;
        att[i].size = f.photos[i].n;
        att[i].cleaned = true; /* check_photos() did it */
    }
    body = f.texte && *f.texte
               ? f.texte
               : (f.nphotos > 1 ? "(photos jointes)" : "(photo jointe)");
    gu_err_clear(&err);
    rc = tri_message_add(req->conn, r.insee, r.id, TRI_MSG_IN, "usager",
                         nz(r.contact_email), body, NULL, att, f.nphotos, NULL,
                         &err);
    if (rc == GU_EINVAL || rc == GU_ETOOBIG) {
        ferr_add(
            &fe,
            strcmp(err.field, "pieces") == 0 ? "photos-message" : "message",
            err.user[0] ? gu_arena_strdup(a, err.user) : "Message refusé.");
        return render_status(req, resp, 422, &r, NULL, &fe, f.texte);
    }
    if (rc < 0) {
        req->err = err;
        return rc;
    }
    return http_redirect(
        resp, gu_arena_sprintf(a, "/demande/suivi/%s?fait=message", token));
}

/* GET /demande/suivi/{token}/photos/{id}: a photo of the request. */
static int
get_photo(struct http_req *req, struct http_resp *resp)
{
    struct tri_request r;
    struct tri_attachment meta;
    const void *data;
    int64_t id;
    int rc = request_of(req, resp, &r);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (http_param_id(req, "id", &id) < 0)
        return token_miss(req, resp) < 0 ? GU_ENOMEM : 0;
    rc = tri_attachment_data(req->conn, req->arena, r.insee, r.id, id, &meta,
                             &data, &req->err);
    if (rc == GU_ENOTFOUND ||
        (rc == 0 && strcmp(nz(meta.ctype), "image/jpeg") != 0 &&
         strcmp(nz(meta.ctype), "image/png") != 0)) {
        rc = message_page(req, resp, 404, "Photo introuvable",
                          "Cette photo n’existe pas ou a été effacée.");
        return rc < 0 ? rc : 0;
    }
    if (rc < 0)
        return rc;
    http_add_header(resp, "Cache-Control", "private, max-age=3600");
    http_add_header(resp, "Content-Disposition", "inline");
    return http_send(resp, 200, meta.ctype, data, (size_t)meta.size);
}

static const struct http_route routes[] = {
    {"GET", "/demande", HTTP_PUBLIC, get_form, "demandes",
     "Formulaire de demande ou de signalement", NULL, NULL},
    {"POST", "/demande", HTTP_PUBLIC, post_form, "demandes",
     "Dépôt d’une demande (multipart/form-data, photos)", NULL, NULL},
    {"GET", "/demande/suivi/{token}", HTTP_PUBLIC, get_status, "demandes",
     "Suivi d’une demande", NULL, NULL},
    {"POST", "/demande/suivi/{token}", HTTP_PUBLIC, post_status, "demandes",
     "Message ou photo ajouté par l’usager", NULL, NULL},
    {"GET", "/demande/suivi/{token}/photos/{id}", HTTP_PUBLIC, get_photo,
     "demandes", "Photo jointe à une demande (sans métadonnées)", NULL, NULL},
};

const struct http_routes tri_page_routes = {"triage-pages", routes,
                                            GU_ARRAY_LEN(routes)};
