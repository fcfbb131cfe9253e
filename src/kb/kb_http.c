/*
 * kb_http.c - HTTP face of the knowledge base: the back-office page shells
 * (/agent/fiches..., their data comes from the JSON API through fetch)
 * and the JSON API under /api/v1/kb/ for the active commune.
 *
 * Roles: a lecteur reads, an agent writes local fiches, an admin hides
 * national fiches and edits the synonym table. Every query is scoped to
 * the caller's active commune: another commune's fiche is a 404.
 * Handlers only turn JSON into kb.c calls and their results into JSON.
 */
#include "kb/kb_internal.h"
#include "text/text.h"
#include "web/http.h"

#include <stdio.h>
#include <string.h>

static json_t *
day_json(int64_t day)
{
    char iso[16];

    if (day <= 0)
        return json_null();
    gu_day_iso(day, iso, sizeof(iso));
    return json_string(iso);
}

static const char *
link_kind(enum kb_link_kind k)
{
    switch (k) {
    case KB_LINK_REFERENCE:
        return "reference";
    case KB_LINK_RELATED:
        return "related";
    case KB_LINK_BOOKING:
        return "booking";
    case KB_LINK_SERVICE:
    default:
        return "service";
    }
}

/* Non-empty lines of `s` as a JSON array of strings. */
static json_t *
lines_json(const char *s)
{
    json_t *arr = json_array();

    for (const char *p = s ? s : ""; arr && *p;) {
        size_t k = strcspn(p, "\n");
        struct gu_str t = gu_str_trim((struct gu_str){p, k});

        if (t.n)
            json_array_append_new(arr, json_stringn(t.p, t.n));
        p += k;
        if (*p == '\n')
            p++;
    }
    return arr;
}

/* A fiche as JSON (parsed fields, sections, links). */
static json_t *
fiche_json(const struct kb_fiche *f)
{
    json_t *secs = json_array(), *links = json_array(), *o;

    for (size_t i = 0; secs && i < f->nsections; i++)
        json_array_append_new(secs, json_pack("{s:s, s:s}", "path",
                                              f->sections[i].path, "text",
                                              f->sections[i].text));
    for (size_t i = 0; links && i < f->nlinks; i++)
        json_array_append_new(
            links, json_pack("{s:s, s:s, s:s, s:s}", "kind",
                             link_kind(f->links[i].kind), "label",
                             f->links[i].label ? f->links[i].label : "", "url",
                             f->links[i].url ? f->links[i].url : "", "target",
                             f->links[i].target ? f->links[i].target : ""));
    o = json_pack(
        "{s:s?, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:s, s:o, s:b, s:i, s:o, s:s, s:o, s:o}",
        "id", f->id, "origin", f->origin == KB_LOCAL ? "local" : "national",
        "title", f->title ? f->title : "", "questions", lines_json(f->alt),
        "description", f->description ? f->description : "", "body",
        f->body ? f->body : "", "service", f->service ? f->service : "", "tags",
        f->tags ? f->tags : "", "context", f->context ? f->context : "",
        "replaces", f->replaces ? f->replaces : "", "contact",
        f->contact ? f->contact : "", "hours", f->hours ? f->hours : "",
        "source_url", f->source_url ? f->source_url : "", "source_date",
        f->source_date ? f->source_date : "", "valid_until",
        day_json(f->valid_until), "hidden", f->hidden, "version", f->version,
        "updated_at", gu_json_time(f->updated_at), "updated_by",
        f->updated_by ? f->updated_by : "", "sections", secs, "links", links);
    return o;
}

/* HTML of a local fiche: its description and body. */
static const char *
fiche_html(struct gu_arena *a, const char *md, size_t n)
{
    size_t off = kb_body_offset(md, n);

    return kb_markdown_html(a, md + off, n - off);
}

/* ----- the public page of a local fiche ----- */

/* A French 404 page for residents. */
static int
public_not_found(struct http_req *req, struct http_resp *resp,
                 const char *detail)
{
    json_t *vars = json_pack("{s:s, s:s, s:s}", "status", "404", "title",
                             "Page introuvable", "detail", detail);

    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 404, "erreur.html", vars);
}

/* The fiche's links as an escaped HTML list ("" when none). */
static const char *
links_html(struct gu_arena *a, const struct kb_fiche *f)
{
    struct gu_buf b;
    const char *out;

    gu_buf_init(&b);
    for (size_t i = 0; i < f->nlinks; i++) {
        const struct kb_link *l = &f->links[i];
        if (l->kind == KB_LINK_RELATED || !l->url ||
            !kb_url_allowed(l->url, strlen(l->url)))
            continue;
        gu_buf_puts(&b, b.n ? "<li><a href=\""
                            : "<h2>Liens utiles</h2><ul><li><a href=\"");
        gu_buf_html(&b, l->url, strlen(l->url));
        gu_buf_puts(&b, "\">");
        gu_buf_html(&b, l->label ? l->label : l->url,
                    strlen(l->label ? l->label : l->url));
        gu_buf_puts(&b, "</a></li>");
    }
    if (b.n)
        gu_buf_puts(&b, "</ul>");
    out = b.oom ? NULL : gu_arena_strdup(a, b.p ? b.p : "");
    gu_buf_fini(&b);
    return out;
}

/*
 * GET /c/{insee}/fiches/{id}: the public page of a local fiche, the
 * source the assistant cites for it. A national fiche's source is
 * service-public.fr: redirect there. Hidden, expired or unknown: 404.
 */
static int
public_fiche(struct http_req *req, struct http_resp *resp)
{
    const char *insee = http_param(req, "insee"), *id = http_param(req, "id");
    struct store_commune m;
    struct kb_fiche f;
    const char *md = NULL, *html, *links;
    char when[32];
    int version, rc;
    json_t *vars;

    rc = store_commune_get(req->conn, req->arena, insee ? insee : "", &m,
                           &req->err);
    if (rc == GU_ENOTFOUND || rc == GU_EINVAL)
        return public_not_found(req, resp, "Cette commune n’existe pas.");
    if (rc < 0)
        return rc;
    rc = kb_fiche_get(req->conn, req->arena, m.insee, id ? id : "", &f,
                      &req->err);
    if (rc == GU_ENOTFOUND || rc == GU_EINVAL ||
        (rc == 0 &&
         (f.hidden || (f.valid_until && f.valid_until < kb_today()))))
        return public_not_found(req, resp,
                                "Cette fiche n’existe pas ou "
                                "n’est plus en ligne.");
    if (rc < 0)
        return rc;
    if (f.origin == KB_NATIONAL)
        return http_redirect(resp, f.source_url);
    rc = kb_local_markdown(req->conn, req->arena, m.insee, f.id, &md, &version,
                           &req->err);
    if (rc < 0)
        return rc;
    html = fiche_html(req->arena, md, strlen(md));
    links = links_html(req->arena, &f);
    if (!html || !links)
        return GU_ENOMEM;
    gu_time_fr(f.updated_at, when, sizeof(when));
    when[10] = '\0'; /* the date, without the time */
    vars = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "commune", m.name,
        "insee", m.insee, "title", f.title, "html", html, "links", links,
        "date", when, "service", f.service ? f.service : "", "contact",
        f.contact ? f.contact : "", "hours", f.hours ? f.hours : "");
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, "fiche.html", vars);
}

/* ----- page shells ----- */

static int
shell(struct http_req *req, struct http_resp *resp, const char *tpl,
      const char *id)
{
    json_t *vars;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    vars = json_pack("{s:s, s:s}", "insee", req->who.insee, "id", id ? id : "");
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, tpl, vars);
}

static int
page_list(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "kb-fiches.html", NULL);
}

static int
page_new(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "kb-fiche.html", "");
}

static int
page_edit(struct http_req *req, struct http_resp *resp)
{
    const char *id = http_param(req, "id");
    size_t n = id ? strlen(id) : 0;

    /* Only ids pass into the page (the template escapes anyway). */
    if (n == 0 || n > 20 ||
        strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789") != n)
        return gu_err_set(&req->err, GU_ENOTFOUND, NULL,
                          "Cette fiche n’existe pas.", "bad fiche id");
    return shell(req, resp, "kb-fiche.html", id);
}

static int
page_synonyms(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "kb-synonymes.html", NULL);
}

/* ----- fiches ----- */

static int
get_fiches(struct http_req *req, struct http_resp *resp)
{
    struct kb_list_filter f = {.origin = -1, .hidden = -1};
    struct kb_summary *v = NULL;
    size_t n = 0, total = 0;
    const char *s;
    json_t *arr;
    long x;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    f.q = http_query(req, "q");
    if (f.q && strlen(f.q) > 200)
        return gu_err_set(&req->err, GU_EINVAL, "q",
                          "La recherche est trop longue (200 caractères au "
                          "plus).",
                          "q too long");
    s = http_query(req, "origin");
    if (s && s[0]) {
        if (strcmp(s, "local") == 0)
            f.origin = KB_LOCAL;
        else if (strcmp(s, "national") == 0)
            f.origin = KB_NATIONAL;
        else
            return gu_err_set(&req->err, GU_EINVAL, "origin",
                              "Le paramètre « origin » vaut local ou "
                              "national.",
                              "bad origin");
    }
    s = http_query(req, "hidden");
    if (s && s[0]) {
        if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0)
            f.hidden = 1;
        else if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0)
            f.hidden = 0;
        else
            return gu_err_set(&req->err, GU_EINVAL, "hidden",
                              "Le paramètre « hidden » vaut 0 ou 1.",
                              "bad hidden");
    }
    s = http_query(req, "offset");
    if (s && s[0]) {
        if (gu_parse_long(s, 0, 1000000, &x) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "offset",
                              "Le paramètre « offset » doit être un entier "
                              "positif.",
                              "bad offset");
        f.offset = (size_t)x;
    }
    f.limit = 50;
    s = http_query(req, "limit");
    if (s && s[0]) {
        if (gu_parse_long(s, 1, 500, &x) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "limit",
                              "Le paramètre « limit » doit être compris "
                              "entre 1 et 500.",
                              "bad limit");
        f.limit = (size_t)x;
    }
    rc = kb_list(req->conn, req->arena, req->who.insee, &f, &v, &n, &total,
                 &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const struct kb_summary *m = &v[i];
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:b, s:b, s:s?,"
            " s:o, s:s}",
            "id", m->id, "origin", m->origin == KB_LOCAL ? "local" : "national",
            "title", m->title, "service", m->service, "tags", m->tags,
            "context", m->context, "source_date", m->source_date, "version",
            m->version, "valid_until", day_json(m->valid_until), "expired",
            m->expired, "hidden", m->hidden, "replaced_by", m->replaced_by,
            "updated_at", gu_json_time(m->updated_at), "updated_by",
            m->updated_by ? m->updated_by : "");

        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return GU_ENOMEM;
        }
    }
    if (!arr)
        return GU_ENOMEM;
    return http_json(resp, 200,
                     json_pack("{s:o, s:I, s:I, s:I}", "fiches", arr, "total",
                               (json_int_t)total, "offset",
                               (json_int_t)f.offset, "limit",
                               (json_int_t)f.limit));
}

/* The full fiche `id` of the commune as the API returns it. */
static int
fiche_reply(struct http_req *req, struct http_resp *resp, int status,
            const char *id)
{
    struct kb_fiche f;
    const char *md = NULL;
    json_t *j;
    int version = 0, rc;

    rc = kb_fiche_get(req->conn, req->arena, req->who.insee, id, &f, &req->err);
    if (rc < 0)
        return rc;
    j = fiche_json(&f);
    if (!j)
        return GU_ENOMEM;
    gu_json_arena(req->arena, j);
    if (f.origin == KB_LOCAL) {
        const char *html;

        rc = kb_local_markdown(req->conn, req->arena, req->who.insee, id, &md,
                               &version, &req->err);
        if (rc < 0)
            return rc;
        html = fiche_html(req->arena, md, strlen(md));
        json_object_set_new(j, "markdown", json_string(md));
        json_object_set_new(j, "html", html ? json_string(html) : json_null());
    }
    return http_json(resp, status, json_incref(j));
}

static int
get_fiche(struct http_req *req, struct http_resp *resp)
{
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    return fiche_reply(req, resp, 200, http_param(req, "id"));
}

/* Parse the "markdown" member of the body into *f. */
static int
read_markdown(struct http_req *req, json_t *body, struct kb_fiche *f,
              const char **md)
{
    int rc;

    rc = gu_json_str(body, "markdown", true, KB_BODY_MAX, md, &req->err);
    if (rc < 0)
        return rc;
    return kb_markdown_parse(req->arena, *md, strlen(*md), f, &req->err);
}

static int
post_fiche(struct http_req *req, struct http_resp *resp)
{
    struct kb_fiche f;
    const char *md = NULL, *id = NULL;
    json_t *body;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if ((rc = http_body_json(req, &body)) < 0)
        return rc;
    if ((rc = read_markdown(req, body, &f, &md)) < 0)
        return rc;
    rc = kb_local_save(req->conn, req->arena, req->who.insee, &f, md, 0,
                       http_actor(req), req->request_id, &id, &req->err);
    if (rc < 0)
        return rc;
    return fiche_reply(req, resp, 201, id);
}

/*
 * A national fiche cannot be changed through the local-fiche routes: 404
 * when the commune cannot see `id` at all, else GU_EINVAL with `msg`.
 */
static int
national_refused(struct http_req *req, const char *id, const char *msg)
{
    struct kb_fiche f;
    int rc;

    rc = kb_fiche_get(req->conn, req->arena, req->who.insee, id, &f, &req->err);
    if (rc < 0)
        return rc;
    return gu_err_set(&req->err, GU_EINVAL, "id", msg,
                      "national fiche %s is read-only", id);
}

static int
put_fiche(struct http_req *req, struct http_resp *resp)
{
    struct kb_fiche f;
    const char *md = NULL, *id = http_param(req, "id");
    json_t *body;
    long version = 0;
    int64_t fid;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (!kb_local_id(id, &fid))
        return national_refused(req, id,
                                "Une fiche service-public ne se modifie "
                                "pas : écrivez une fiche locale qui la "
                                "remplace (« remplace : » dans l’en-tête).");
    if ((rc = http_body_json(req, &body)) < 0)
        return rc;
    if ((rc = gu_json_int(body, "version", true, 1, 1000000000L, &version,
                          &req->err)) < 0)
        return rc;
    if ((rc = read_markdown(req, body, &f, &md)) < 0)
        return rc;
    f.id = id;
    rc = kb_local_save(req->conn, req->arena, req->who.insee, &f, md,
                       (int)version, http_actor(req), req->request_id, NULL,
                       &req->err);
    if (rc < 0)
        return rc;
    return fiche_reply(req, resp, 200, id);
}

static int
delete_fiche(struct http_req *req, struct http_resp *resp)
{
    const char *id = http_param(req, "id");
    int64_t fid;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (!kb_local_id(id, &fid))
        return national_refused(req, id,
                                "Une fiche service-public ne se supprime "
                                "pas : un administrateur peut la masquer.");
    rc = kb_local_delete(req->conn, req->who.insee, id, http_actor(req),
                         req->request_id, &req->err);
    if (rc < 0)
        return rc;
    return http_no_content(resp);
}

static int
get_versions(struct http_req *req, struct http_resp *resp)
{
    struct kb_version *v = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    rc = kb_local_versions(req->conn, req->arena, req->who.insee,
                           http_param(req, "id"), &v, &n, &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = json_pack("{s:i, s:o, s:s, s:s}", "version", v[i].version,
                              "at", gu_json_time(v[i].at), "by", v[i].by,
                              "markdown", v[i].markdown);

        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return GU_ENOMEM;
        }
    }
    if (!arr)
        return GU_ENOMEM;
    return http_json(resp, 200, json_pack("{s:o}", "versions", arr));
}

/*
 * Preview: always 200 with the HTML of whatever follows the front matter,
 * the parsed fields when the fiche is valid, and the errors otherwise, so
 * the editor can show both while the agent types.
 */
static int
post_preview(struct http_req *req, struct http_resp *resp)
{
    struct kb_fiche f;
    struct gu_err perr;
    const char *md = NULL, *html;
    json_t *body, *errors, *fj = NULL;
    size_t n;
    int line = 0, rc;

    if ((rc = http_body_json(req, &body)) < 0)
        return rc;
    rc = gu_json_str(body, "markdown", false, KB_BODY_MAX, &md, &req->err);
    if (rc < 0)
        return rc;
    if (!md)
        md = "";
    n = strlen(md);
    html = fiche_html(req->arena, md, n);
    errors = json_array();
    gu_err_clear(&perr);
    rc = kb_parse(req->arena, md, n, &f, &line, &perr);
    if (rc == GU_ENOMEM)
        return rc;
    if (rc < 0) {
        json_array_append_new(
            errors, json_pack("{s:o, s:s}", "line",
                              line > 0 ? json_integer(line) : json_null(),
                              "message", perr.user));
    } else {
        fj = fiche_json(&f);
    }
    return http_json(resp, 200,
                     json_pack("{s:s, s:o, s:o}", "html", html ? html : "",
                               "fiche", fj ? fj : json_null(), "errors",
                               errors));
}

/* ----- national fiches ----- */

static int
put_hidden(struct http_req *req, struct http_resp *resp)
{
    const char *id = http_param(req, "id");
    json_t *body;
    bool hidden = false;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if ((rc = http_body_json(req, &body)) < 0)
        return rc;
    if ((rc = gu_json_bool(body, "hidden", true, &hidden, &req->err)) < 0)
        return rc;
    rc = kb_national_hide(req->conn, req->who.insee, id, hidden,
                          http_actor(req), req->request_id, &req->err);
    if (rc < 0)
        return rc;
    return http_json(resp, 200,
                     json_pack("{s:s, s:b}", "id", id, "hidden", hidden));
}

/* ----- synonyms ----- */

static int
synonyms_reply(struct http_req *req, struct http_resp *resp)
{
    const char *text = NULL;
    bool custom = false;
    int rc;

    rc = kb_synonyms_get(req->conn, req->arena, req->who.insee, &text,
                         &req->err);
    if (rc == 0)
        rc = kb_synonyms_custom(req->conn, req->who.insee, &custom, &req->err);
    if (rc < 0)
        return rc;
    return http_json(resp, 200,
                     json_pack("{s:s, s:b}", "text", text, "custom", custom));
}

static int
get_synonyms(struct http_req *req, struct http_resp *resp)
{
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    return synonyms_reply(req, resp);
}

static int
put_synonyms(struct http_req *req, struct http_resp *resp)
{
    const char *text = NULL;
    json_t *body;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if ((rc = http_body_json(req, &body)) < 0)
        return rc;
    /* Empty is allowed: a commune may want no synonyms at all. */
    rc = gu_json_str(body, "text", false, KB_SYNONYMS_MAX, &text, &req->err);
    if (rc < 0)
        return rc;
    if (!text)
        return gu_err_set(&req->err, GU_EINVAL, "text",
                          "Le champ « text » est obligatoire.", "no text");
    rc = kb_synonyms_set(req->conn, req->who.insee, text, http_actor(req),
                         req->request_id, &req->err);
    if (rc < 0)
        return rc;
    return synonyms_reply(req, resp);
}

/* ----- table ----- */

#define S_STR "{\"type\":\"string\"}"
#define S_STRN "{\"type\":[\"string\",\"null\"]}"

#define FICHE_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{"                                    \
    "\"id\":" S_STR ",\"origin\":{\"enum\":[\"local\",\"national\"]},"         \
    "\"title\":" S_STR ",\"questions\":{\"type\":\"array\",\"items\":" S_STR   \
    "},\"description\":" S_STR ",\"body\":" S_STR ",\"service\":" S_STR        \
    ",\"tags\":" S_STR ",\"context\":" S_STR ",\"replaces\":" S_STR            \
    ",\"contact\":" S_STR ",\"hours\":" S_STR ",\"source_url\":" S_STR         \
    ",\"source_date\":" S_STR ",\"valid_until\":" S_STRN                       \
    ",\"hidden\":{\"type\":\"boolean\"},"                                      \
    "\"version\":{\"type\":\"integer\"},\"updated_at\":" S_STRN                \
    ",\"updated_by\":" S_STR ",\"markdown\":" S_STR ",\"html\":" S_STRN        \
    ",\"sections\":{\"type\":\"array\",\"items\":{\"type\":\"object\","        \
    "\"properties\":{\"path\":" S_STR ",\"text\":" S_STR "}}},"                \
    "\"links\":{\"type\":\"array\",\"items\":{\"type\":\"object\","            \
    "\"properties\":{\"kind\":{\"enum\":[\"service\",\"reference\","           \
    "\"related\",\"booking\"]},\"label\":" S_STR ",\"url\":" S_STR             \
    ",\"target\":" S_STR "}}}}}"

#define MARKDOWN_PROP                                                          \
    "\"markdown\":{\"type\":\"string\",\"maxLength\":524288,"                  \
    "\"description\":\"Fiche en Markdown avec en-tête (titre, questions, "    \
    "service, tags, valide_jusqu_au, contact, horaires, remplace, lien)\"}"

static const struct http_route routes[] = {
    {"GET", "/c/{insee}/fiches/{id}", HTTP_PUBLIC, public_fiche, "portail",
     "Page publique d'une fiche locale (source citée par l'assistant)", NULL,
     NULL},
    /* Page shells (HTML; data comes from the API below). */
    {"GET", "/agent/fiches", HTTP_LECTEUR, page_list, "agent",
     "Base de connaissances : liste des fiches", NULL, NULL},
    {"GET", "/agent/fiches/nouvelle", HTTP_AGENT, page_new, "agent",
     "Base de connaissances : nouvelle fiche", NULL, NULL},
    {"GET", "/agent/fiches/{id}", HTTP_LECTEUR, page_edit, "agent",
     "Base de connaissances : éditeur d’une fiche", NULL, NULL},
    {"GET", "/agent/synonymes", HTTP_LECTEUR, page_synonyms, "agent",
     "Base de connaissances : synonymes de la commune", NULL, NULL},

    {"GET", "/api/v1/kb/fiches", HTTP_LECTEUR, get_fiches, "kb",
     "Fiches de la commune active, locales puis service-public (filtres : "
     "q, origin, hidden, offset, limit)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"fiches\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"properties\":{"
     "\"id\":" S_STR ",\"origin\":{\"enum\":[\"local\",\"national\"]},"
     "\"title\":" S_STR ",\"service\":" S_STR ",\"tags\":" S_STR
     ",\"context\":" S_STR ",\"source_date\":" S_STR
     ",\"version\":{\"type\":\"integer\"},\"valid_until\":" S_STRN
     ",\"expired\":{\"type\":\"boolean\"},\"hidden\":{\"type\":\"boolean\"},"
     "\"replaced_by\":" S_STRN ",\"updated_at\":" S_STRN
     ",\"updated_by\":" S_STR "}}},\"total\":{\"type\":\"integer\"},"
     "\"offset\":{\"type\":\"integer\"},\"limit\":{\"type\":\"integer\"}}}"},
    {"POST", "/api/v1/kb/fiches", HTTP_AGENT, post_fiche, "kb",
     "Créer une fiche locale à partir de son Markdown",
     "{\"type\":\"object\",\"required\":[\"markdown\"],\"properties\":"
     "{" MARKDOWN_PROP "}}",
     FICHE_SCHEMA},
    {"GET", "/api/v1/kb/fiches/{id}", HTTP_LECTEUR, get_fiche, "kb",
     "Une fiche (locale avec son Markdown, ou service-public)", NULL,
     FICHE_SCHEMA},
    {"PUT", "/api/v1/kb/fiches/{id}", HTTP_AGENT, put_fiche, "kb",
     "Enregistrer une nouvelle version d’une fiche locale (409 si la "
     "version a changé entre-temps)",
     "{\"type\":\"object\",\"required\":[\"markdown\",\"version\"],"
     "\"properties\":{" MARKDOWN_PROP ",\"version\":{\"type\":\"integer\","
     "\"minimum\":1,\"description\":\"Version éditée (contrôle des "
     "modifications concurrentes)\"}}}",
     FICHE_SCHEMA},
    {"DELETE", "/api/v1/kb/fiches/{id}", HTTP_AGENT, delete_fiche, "kb",
     "Supprimer (archiver) une fiche locale ; ses versions sont gardées", NULL,
     NULL},
    {"GET", "/api/v1/kb/fiches/{id}/versions", HTTP_LECTEUR, get_versions, "kb",
     "Versions d’une fiche locale, de la plus récente à la plus "
     "ancienne",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"versions\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"properties\":{"
     "\"version\":{\"type\":\"integer\"},\"at\":" S_STRN ",\"by\":" S_STR
     ",\"markdown\":" S_STR "}}}}}"},
    {"POST", "/api/v1/kb/preview", HTTP_AGENT, post_preview, "kb",
     "Aperçu d’une fiche en cours d’écriture : HTML, champs lus, erreurs",
     "{\"type\":\"object\",\"properties\":{" MARKDOWN_PROP "}}",
     "{\"type\":\"object\",\"properties\":{\"html\":" S_STR ","
     "\"fiche\":{\"oneOf\":[" FICHE_SCHEMA ",{\"type\":\"null\"}]},"
     "\"errors\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
     "\"properties\":{\"line\":{\"type\":[\"integer\",\"null\"]},"
     "\"message\":" S_STR "}}}}}"},
    {"PUT", "/api/v1/kb/national/{id}/hidden", HTTP_ADMIN, put_hidden, "kb",
     "Masquer ou réafficher une fiche service-public pour la commune",
     "{\"type\":\"object\",\"required\":[\"hidden\"],\"properties\":{"
     "\"hidden\":{\"type\":\"boolean\"}}}",
     "{\"type\":\"object\",\"properties\":{\"id\":" S_STR ","
     "\"hidden\":{\"type\":\"boolean\"}}}"},
    {"GET", "/api/v1/kb/synonyms", HTTP_LECTEUR, get_synonyms, "kb",
     "Table des synonymes et sigles de la commune (table par défaut si "
     "elle n’a jamais été modifiée)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"text\":" S_STR ","
     "\"custom\":{\"type\":\"boolean\"}}}"},
    {"PUT", "/api/v1/kb/synonyms", HTTP_ADMIN, put_synonyms, "kb",
     "Remplacer la table des synonymes (une ligne par groupe, variantes "
     "séparées par |)",
     "{\"type\":\"object\",\"required\":[\"text\"],\"properties\":{"
     "\"text\":{\"type\":\"string\",\"maxLength\":262144}}}",
     "{\"type\":\"object\",\"properties\":{\"text\":" S_STR ","
     "\"custom\":{\"type\":\"boolean\"}}}"},
};

const struct http_routes kb_routes = {"kb", routes, GU_ARRAY_LEN(routes)};
