/*
 * kb_markdown.c - local fiches as Markdown: the front matter parser, the
 * cut into sections, and the safe HTML rendering (libcmark).
 *
 * The parser reads agents' input, so it checks everything (UTF-8, control
 * characters, sizes, counts) and every message names the line in French.
 * It never allocates outside the caller's arena; the renderer frees
 * cmark's tree before returning.
 */
#include "kb/kb_internal.h"

#include <cmark.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 1000     /* characters of service, contact, horaires... */
#define QUESTIONS_MAX 4000 /* characters of the questions line */
#define LABEL_MAX 200      /* characters of a link label */
#define URL_MAX 2000       /* bytes of a link URL */
#define NATIONAL_ID_MAX 16

static const char keys_allowed[] = "titre, questions, service, tags, "
                                   "valide_jusqu_au, contact, horaires, "
                                   "remplace, lien";

/* A line of the input: [p, p + n), without its '\n' and trailing '\r'. */
struct line {
    const char *p;
    size_t n;
    size_t off;  /* offset of p in the text */
    size_t next; /* offset of the following line */
    int no;      /* 1-based */
};

struct parser {
    struct gu_arena *a;
    const char *md;
    size_t n;
    size_t pos;
    int no;
    int *err_line;
    struct gu_err *err;
};

static bool
next_line(struct parser *ps, struct line *l)
{
    const char *nl;

    if (ps->pos >= ps->n)
        return false;
    l->p = ps->md + ps->pos;
    l->off = ps->pos;
    nl = memchr(l->p, '\n', ps->n - ps->pos);
    l->n = nl ? (size_t)(nl - l->p) : ps->n - ps->pos;
    l->next = ps->pos + l->n + (nl ? 1 : 0);
    if (l->n > 0 && l->p[l->n - 1] == '\r')
        l->n--;
    l->no = ++ps->no;
    ps->pos = l->next;
    return true;
}

/* French error tied to a line; always returns `code`. */
static int GU_PRINTF(4, 5)
    fail(struct parser *ps, int code, int line, const char *fmt, ...)
{
    char msg[256], head[32] = "";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(head, sizeof(head), "Ligne %d : ", line);
    if (ps->err_line)
        *ps->err_line = line;
    if (ps->err) {
        gu_err_set(ps->err, code, "markdown", NULL, "fiche markdown line %d",
                   line);
        snprintf(ps->err->user, sizeof(ps->err->user), "%s%s", head, msg);
    }
    return code;
}

static size_t
utf8_chars(const char *s, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            k++;
    }
    return k;
}

static struct gu_str
trim(const char *p, size_t n)
{
    return gu_str_trim((struct gu_str){p, n});
}

static char *
dup(struct parser *ps, struct gu_str s)
{
    return gu_arena_strndup(ps->a, s.p, s.n);
}

/* Every line valid UTF-8 without control characters (tab allowed). */
static int
check_text(struct parser *ps)
{
    struct parser scan = *ps;
    struct line l;

    scan.pos = 0;
    scan.no = 0;
    while (next_line(&scan, &l)) {
        if (!gu_utf8_valid(l.p, l.n))
            return fail(ps, GU_EINVAL, l.no,
                        "texte illisible (le fichier doit être enregistré "
                        "en UTF-8).");
        for (size_t i = 0; i < l.n; i++) {
            unsigned char ch = (unsigned char)l.p[i];

            if ((ch < 0x20 && ch != '\t') || ch == 0x7F)
                return fail(ps, GU_EINVAL, l.no,
                            "caractère de contrôle interdit (code %u).",
                            (unsigned)ch);
        }
    }
    return 0;
}

/* A line of only "---" (trailing spaces allowed). */
static bool
is_marker(const struct line *l)
{
    struct gu_str t = trim(l->p, l->n);

    return t.n == 3 && memcmp(t.p, "---", 3) == 0 && l->p[0] == '-';
}

size_t
kb_body_offset(const char *md, size_t n)
{
    struct parser ps = {.md = md, .n = n};
    struct line l;

    if (n >= 3 && memcmp(md, "\xEF\xBB\xBF", 3) == 0)
        ps.pos = 3;
    if (!next_line(&ps, &l) || !is_marker(&l))
        return 0;
    while (next_line(&ps, &l)) {
        if (is_marker(&l))
            return l.next;
    }
    return 0;
}

bool
kb_url_allowed(const char *url, size_t n)
{
    static const char *const schemes[] = {"http://", "https://", "mailto:",
                                          "tel:"};
    size_t i;

    if (n == 0 || n > URL_MAX)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)url[i];

        if (ch <= 0x20 || ch == 0x7F || ch == '\\' || ch == '"' ||
            ch == '<' || ch == '>')
            return false;
    }
    for (i = 0; i < GU_ARRAY_LEN(schemes); i++) {
        size_t k = strlen(schemes[i]);

        if (n > k && strncasecmp(url, schemes[i], k) == 0)
            return true;
    }
    if (n >= 2 && url[0] == '/' && url[1] == '/')
        return false;
    /* Relative: no scheme, i.e. no ':' before the first '/', '?', '#'. */
    for (i = 0; i < n; i++) {
        if (url[i] == '/' || url[i] == '?' || url[i] == '#')
            return true;
        if (url[i] == ':')
            return false;
    }
    return true;
}

/* ----- front matter values ----- */

static int
check_len(struct parser *ps, int line, const char *key, struct gu_str v,
          size_t max)
{
    if (utf8_chars(v.p, v.n) > max)
        return fail(ps, GU_EINVAL, line,
                    "la valeur de « %s » dépasse %zu caractères.", key, max);
    return 0;
}

/* Split on `sep`, trim items, drop empty ones, join with `join`. */
static char *
split_join(struct parser *ps, struct gu_str v, char sep, const char *join,
           bool upper)
{
    struct gu_buf b;
    const char *p = v.p, *end = v.p + v.n;
    char *out;

    gu_buf_init(&b);
    while (p <= end) {
        const char *q = memchr(p, sep, (size_t)(end - p));
        struct gu_str item;

        if (!q)
            q = end;
        item = trim(p, (size_t)(q - p));
        if (item.n) {
            if (b.n)
                gu_buf_puts(&b, join);
            gu_buf_append(&b, item.p, item.n);
        }
        p = q + 1;
    }
    if (b.oom) {
        gu_buf_fini(&b);
        return NULL;
    }
    out = gu_arena_strndup(ps->a, b.p ? b.p : "", b.n);
    gu_buf_fini(&b);
    if (out && upper) {
        for (char *c = out; *c; c++) {
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        }
    }
    return out;
}

/* "F1342, F21089" -> "F1342,F21089" after checking each id. */
static int
parse_replaces(struct parser *ps, int line, struct gu_str v, const char **out)
{
    char *s = split_join(ps, v, ',', ",", true);
    const char *p;

    if (!s)
        return fail(ps, GU_ENOMEM, 0, "mémoire insuffisante.");
    for (p = s; *p;) {
        size_t k = strcspn(p, ","), letters = 0, digits = 0;

        for (size_t i = 0; i < k; i++) {
            if (p[i] >= 'A' && p[i] <= 'Z' && digits == 0)
                letters++;
            else if (p[i] >= '0' && p[i] <= '9' && letters > 0)
                digits++;
            else
                letters = 99;
        }
        if (letters < 1 || letters > 3 || digits < 1 ||
            k > NATIONAL_ID_MAX || (letters == 1 && p[0] == 'L'))
            return fail(ps, GU_EINVAL, line,
                        "« remplace » attend des numéros de fiches "
                        "service-public séparés par des virgules "
                        "(ex. : F1342, F21089) ; « %.*s » n’en est pas un.",
                        (int)(k > 40 ? 40 : k), p);
        p += k;
        if (*p == ',')
            p++;
    }
    *out = s;
    return 0;
}

static int
parse_link(struct parser *ps, int line, struct gu_str v, struct kb_link *l)
{
    const char *bar = memchr(v.p, '|', v.n);
    struct gu_str label, url;

    if (!bar)
        return fail(ps, GU_EINVAL, line,
                    "« lien » s’écrit « lien : libellé | adresse » (ex. : "
                    "lien : Prendre rendez-vous | /rdv?motif=cni).");
    label = trim(v.p, (size_t)(bar - v.p));
    url = trim(bar + 1, (size_t)(v.p + v.n - bar - 1));
    if (label.n == 0 || url.n == 0)
        return fail(ps, GU_EINVAL, line,
                    "« lien » demande un libellé et une adresse séparés "
                    "par « | ».");
    if (utf8_chars(label.p, label.n) > LABEL_MAX)
        return fail(ps, GU_EINVAL, line,
                    "le libellé du lien dépasse %d caractères.", LABEL_MAX);
    if (!kb_url_allowed(url.p, url.n))
        return fail(ps, GU_EINVAL, line,
                    "adresse de lien refusée : utilisez http(s)://, "
                    "mailto:, tel: ou un chemin du site (/rdv...).");
    l->label = dup(ps, label);
    l->url = dup(ps, url);
    l->target = "";
    l->kind = KB_LINK_SERVICE;
    if (url.n >= 4 && memcmp(url.p, "/rdv", 4) == 0 &&
        (url.n == 4 || strchr("?/#", url.p[4])))
        l->kind = KB_LINK_BOOKING;
    if (!l->label || !l->url)
        return fail(ps, GU_ENOMEM, 0, "mémoire insuffisante.");
    return 0;
}

enum key_id {
    K_TITRE,
    K_QUESTIONS,
    K_SERVICE,
    K_TAGS,
    K_VALIDE,
    K_CONTACT,
    K_HORAIRES,
    K_REMPLACE,
    K_LIEN,
    K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "titre",   "questions", "service",  "tags", "valide_jusqu_au",
    "contact", "horaires",  "remplace", "lien"};

static int
front_matter(struct parser *ps, struct kb_fiche *f, struct kb_link *links,
             size_t *nlinks, int first)
{
    int seen[K_COUNT] = {0};
    struct line l;
    int rc;

    while (next_line(ps, &l)) {
        struct gu_str t = trim(l.p, l.n), key, v;
        const char *colon;
        int k;

        if (is_marker(&l)) {
            if (!seen[K_TITRE])
                return fail(ps, GU_EINVAL, l.no,
                            "il manque le titre : ajoutez une ligne "
                            "« titre : … » dans l’en-tête.");
            return 0;
        }
        if (t.n == 0 || t.p[0] == '#')
            continue;
        colon = memchr(t.p, ':', t.n);
        if (!colon)
            return fail(ps, GU_EINVAL, l.no,
                        "« %.*s » n’est pas de la forme « clé : valeur ».",
                        (int)(t.n > 40 ? 40 : t.n), t.p);
        key = trim(t.p, (size_t)(colon - t.p));
        v = trim(colon + 1, (size_t)(t.p + t.n - colon - 1));
        for (k = 0; k < K_COUNT; k++) {
            if (gu_str_casecmp_c(key, key_names[k]))
                break;
        }
        if (k == K_COUNT)
            return fail(ps, GU_EINVAL, l.no,
                        "clé inconnue « %.*s ». Clés permises : %s.",
                        (int)(key.n > 40 ? 40 : key.n), key.p, keys_allowed);
        if (seen[k] && k != K_LIEN)
            return fail(ps, GU_EINVAL, l.no,
                        "la clé « %s » est déjà donnée ligne %d.",
                        key_names[k], seen[k]);
        seen[k] = l.no;
        switch ((enum key_id)k) {
        case K_TITRE:
            if (v.n == 0)
                return fail(ps, GU_EINVAL, l.no, "le titre est vide.");
            if ((rc = check_len(ps, l.no, "titre", v, KB_TITLE_MAX)) < 0)
                return rc;
            f->title = dup(ps, v);
            break;
        case K_QUESTIONS:
            if ((rc = check_len(ps, l.no, "questions", v, QUESTIONS_MAX)) <
                0)
                return rc;
            f->alt = split_join(ps, v, '|', "\n", false);
            break;
        case K_SERVICE:
            if ((rc = check_len(ps, l.no, "service", v, FIELD_MAX)) < 0)
                return rc;
            f->service = dup(ps, v);
            break;
        case K_TAGS:
            if ((rc = check_len(ps, l.no, "tags", v, FIELD_MAX)) < 0)
                return rc;
            f->tags = split_join(ps, v, ',', ", ", false);
            break;
        case K_VALIDE: {
            char buf[32];
            int64_t day;

            if (v.n == 0 || v.n >= sizeof(buf))
                goto bad_date;
            memcpy(buf, v.p, v.n);
            buf[v.n] = '\0';
            if (gu_date_parse(buf, &day) < 0)
                goto bad_date;
            f->valid_until = day;
            break;
        bad_date:
            return fail(ps, GU_EINVAL, l.no,
                        "date invalide « %.*s » pour « valide_jusqu_au » "
                        "(attendu jj/mm/aaaa, ex. 31/12/2027).",
                        (int)(v.n > 40 ? 40 : v.n), v.p);
        }
        case K_CONTACT:
            if ((rc = check_len(ps, l.no, "contact", v, FIELD_MAX)) < 0)
                return rc;
            f->contact = dup(ps, v);
            break;
        case K_HORAIRES:
            if ((rc = check_len(ps, l.no, "horaires", v, FIELD_MAX)) < 0)
                return rc;
            f->hours = dup(ps, v);
            break;
        case K_REMPLACE:
            if ((rc = parse_replaces(ps, l.no, v, &f->replaces)) < 0)
                return rc;
            break;
        case K_LIEN:
            if (*nlinks >= KB_LINKS_MAX)
                return fail(ps, GU_ETOOBIG, l.no,
                            "plus de %d liens dans une fiche.", KB_LINKS_MAX);
            if ((rc = parse_link(ps, l.no, v, &links[*nlinks])) < 0)
                return rc;
            (*nlinks)++;
            break;
        case K_COUNT:
            break;
        }
        if (!f->title || !f->alt || !f->service || !f->tags || !f->contact ||
            !f->hours || !f->replaces)
            return fail(ps, GU_ENOMEM, 0, "mémoire insuffisante.");
    }
    return fail(ps, GU_EINVAL, first,
                "l’en-tête ouvert par « --- » n’est pas refermé par une "
                "ligne « --- ».");
}

/* "## Title ##" at level 2 or 3 -> level and title; 0 when not one. */
static int
heading(const struct line *l, struct gu_str *title)
{
    size_t i = 0, hashes = 0, k;
    struct gu_str t;

    while (i < 3 && i < l->n && l->p[i] == ' ')
        i++;
    while (i + hashes < l->n && l->p[i + hashes] == '#')
        hashes++;
    if (hashes != 2 && hashes != 3)
        return 0;
    i += hashes;
    if (i < l->n && l->p[i] != ' ' && l->p[i] != '\t')
        return 0;
    t = trim(l->p + i, l->n - i);
    /* A closing run of #s preceded by a space is not content. */
    k = t.n;
    while (k && t.p[k - 1] == '#')
        k--;
    if (k == 0)
        t.n = 0;
    else if (k < t.n && (t.p[k - 1] == ' ' || t.p[k - 1] == '\t'))
        t.n = k;
    *title = trim(t.p, t.n);
    return (int)hashes;
}

/* ``` or ~~~ opening or closing a fenced code block. */
static bool
fence(const struct line *l)
{
    struct gu_str t = trim(l->p, l->n);

    return t.n >= 3 && (memcmp(t.p, "```", 3) == 0 ||
                        memcmp(t.p, "~~~", 3) == 0);
}

struct cutter {
    struct kb_section *v;
    size_t n;
    char h2[KB_TITLE_MAX * 4 + 1];
    const char *path;
    size_t start; /* offset where the current section's text starts */
};

static int
close_section(struct parser *ps, struct cutter *c, size_t end, int line)
{
    struct gu_str t;

    if (end <= c->start)
        return 0;
    t = trim(ps->md + c->start, end - c->start);
    if (t.n == 0)
        return 0;
    if (c->n >= KB_SECTIONS_MAX)
        return fail(ps, GU_ETOOBIG, line, "plus de %d sections dans une fiche.",
                    KB_SECTIONS_MAX);
    c->v[c->n].ord = (int)c->n;
    c->v[c->n].path = c->path;
    c->v[c->n].text = dup(ps, t);
    if (!c->v[c->n].text)
        return fail(ps, GU_ENOMEM, 0, "mémoire insuffisante.");
    c->n++;
    return 0;
}

static int
body(struct parser *ps, struct kb_fiche *f)
{
    struct cutter *c;
    struct line l;
    bool in_code = false, desc_open = false, desc_done = false;
    size_t body_start = ps->pos, desc_s = 0, desc_e = 0;
    int rc;

    c = gu_arena_zalloc(ps->a, sizeof(*c));
    if (c)
        c->v = gu_arena_zalloc(ps->a, KB_SECTIONS_MAX * sizeof(*c->v));
    if (!c || !c->v)
        return fail(ps, GU_ENOMEM, 0, "mémoire insuffisante.");
    c->path = "";
    c->start = body_start;
    while (next_line(ps, &l)) {
        struct gu_str title, t = trim(l.p, l.n);
        int level = 0;

        if (fence(&l))
            in_code = !in_code;
        else if (!in_code)
            level = heading(&l, &title);
        if (level) {
            if (desc_open) {
                desc_open = false;
                desc_done = true;
            }
            if (title.n == 0)
                return fail(ps, GU_EINVAL, l.no, "titre de section vide.");
            if (utf8_chars(title.p, title.n) > KB_TITLE_MAX)
                return fail(ps, GU_EINVAL, l.no,
                            "titre de section de plus de %d caractères.",
                            KB_TITLE_MAX);
            if ((rc = close_section(ps, c, l.off, l.no)) < 0)
                return rc;
            if (level == 2) {
                memcpy(c->h2, title.p, title.n);
                c->h2[title.n] = '\0';
                c->path = dup(ps, title);
            } else if (c->h2[0]) {
                c->path = gu_arena_sprintf(ps->a, "%s > %.*s", c->h2,
                                           (int)title.n, title.p);
            } else {
                c->path = dup(ps, title);
            }
            if (!c->path)
                return fail(ps, GU_ENOMEM, 0, "mémoire insuffisante.");
            c->start = l.next;
            desc_done = true;
            continue;
        }
        if (desc_done)
            continue;
        if (desc_open) {
            if (t.n == 0 || in_code) {
                desc_open = false;
                desc_done = true;
            } else {
                desc_e = l.off + l.n;
            }
        } else if (t.n && !in_code && !fence(&l) && t.p[0] != '#') {
            desc_open = true;
            desc_s = l.off;
            desc_e = l.off + l.n;
        } else if (t.n) {
            desc_done = true; /* code or a title first: no description */
        }
    }
    if ((rc = close_section(ps, c, ps->n, ps->no)) < 0)
        return rc;
    if (desc_e > desc_s) {
        /* One paragraph: its lines joined by single spaces. */
        struct gu_buf b;
        struct parser sub = {.md = ps->md, .n = desc_e, .pos = desc_s};
        struct line dl;

        gu_buf_init(&b);
        while (next_line(&sub, &dl)) {
            struct gu_str dt = trim(dl.p, dl.n);

            if (b.n)
                gu_buf_puts(&b, " ");
            gu_buf_append(&b, dt.p, dt.n);
        }
        f->description = b.oom ? NULL : gu_arena_strndup(ps->a, b.p, b.n);
        gu_buf_fini(&b);
        f->body = dup(ps, trim(ps->md + desc_e, ps->n - desc_e));
    } else {
        f->description = "";
        f->body = dup(ps, trim(ps->md + body_start, ps->n - body_start));
    }
    if (!f->description || !f->body)
        return fail(ps, GU_ENOMEM, 0, "mémoire insuffisante.");
    f->sections = c->v;
    f->nsections = c->n;
    return 0;
}

int
kb_parse(struct gu_arena *a, const char *md, size_t n, struct kb_fiche *out,
         int *line, struct gu_err *err)
{
    struct parser ps = {
        .a = a, .md = md, .n = n, .err_line = line, .err = err};
    struct kb_link *links;
    struct line l;
    int rc;

    if (line)
        *line = 0;
    memset(out, 0, sizeof(*out));
    out->origin = KB_LOCAL;
    out->title = out->alt = out->service = out->tags = out->context = "";
    out->replaces = out->contact = out->hours = "";
    out->source_url = out->source_date = out->updated_by = "";
    if (!md)
        md = ps.md = "";
    if (n > KB_BODY_MAX)
        return fail(&ps, GU_ETOOBIG, 0,
                    "La fiche dépasse la taille permise (%d Kio).",
                    KB_BODY_MAX / 1024);
    if ((rc = check_text(&ps)) < 0)
        return rc;
    if (n >= 3 && memcmp(md, "\xEF\xBB\xBF", 3) == 0)
        ps.pos = 3;
    if (!next_line(&ps, &l) || !is_marker(&l))
        return fail(&ps, GU_EINVAL, 1,
                    "la fiche doit commencer par un en-tête entre deux "
                    "lignes « --- » (titre : …).");
    links = gu_arena_zalloc(a, KB_LINKS_MAX * sizeof(*links));
    if (!links)
        return fail(&ps, GU_ENOMEM, 0, "mémoire insuffisante.");
    if ((rc = front_matter(&ps, out, links, &out->nlinks, l.no)) < 0)
        return rc;
    out->links = links;
    return body(&ps, out);
}

int
kb_markdown_parse(struct gu_arena *a, const char *md, size_t n,
                  struct kb_fiche *out, struct gu_err *err)
{
    return kb_parse(a, md, n, out, NULL, err);
}

/* ----- HTML ----- */

/* Put `node`'s children in its place, then free it. */
static void
unwrap(cmark_node *node)
{
    cmark_node *ch;

    while ((ch = cmark_node_first_child(node)) != NULL)
        cmark_node_insert_before(node, ch);
    cmark_node_free(node);
}

/*
 * Remove raw HTML, unwrap links whose URL is not allowed, and turn images
 * into their text unless they are served by the instance itself (no
 * outside resource is ever loaded by a page).
 */
static int
sanitize(cmark_node *doc)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_node **todo = NULL;
    size_t n = 0, cap = 0;
    cmark_event_type ev;
    int rc = 0;

    if (!it)
        return GU_ENOMEM;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(node);

        if (ev != CMARK_EVENT_ENTER)
            continue;
        if (t != CMARK_NODE_HTML_BLOCK && t != CMARK_NODE_HTML_INLINE &&
            t != CMARK_NODE_LINK && t != CMARK_NODE_IMAGE)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            cmark_node **v = gu_realloc(todo, ncap * sizeof(*v));

            if (!v) {
                rc = GU_ENOMEM;
                break;
            }
            todo = v;
            cap = ncap;
        }
        todo[n++] = node;
    }
    cmark_iter_free(it);
    /* Document order: a link is handled before an image it contains. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cmark_node *node = todo[i];
        const char *url = cmark_node_get_url(node);
        size_t un = url ? strlen(url) : 0;

        switch (cmark_node_get_type(node)) {
        case CMARK_NODE_HTML_BLOCK:
        case CMARK_NODE_HTML_INLINE:
            cmark_node_free(node);
            break;
        case CMARK_NODE_LINK:
            if (!url || !kb_url_allowed(url, un))
                unwrap(node);
            break;
        case CMARK_NODE_IMAGE:
            if (!url || !kb_url_allowed(url, un) || url[0] != '/')
                unwrap(node);
            break;
        default:
            break;
        }
    }
    gu_free(todo);
    return rc;
}

char *
kb_markdown_html(struct gu_arena *a, const char *md, size_t n)
{
    cmark_node *doc;
    char *html, *out = NULL;

    if (!md)
        md = "";
    doc = cmark_parse_document(md, n, CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8);
    if (!doc)
        return NULL;
    if (sanitize(doc) == 0) {
        html = cmark_render_html(doc, CMARK_OPT_SAFE);
        if (html) {
            out = gu_arena_strdup(a, html);
            /* cmark's default allocator is libc's. */
            free(html); /* NOLINT(gu-alloc): allocated by cmark */
        }
    }
    cmark_node_free(doc);
    return out;
}
