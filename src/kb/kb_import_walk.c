/*
 * kb_import_walk.c - the one walker over a co-marquage fiche, whatever
 * its form (JSON or XML: see kb_import.h for the node interface).
 *
 * What it makes of a fiche (struct kb_fiche):
 *   - id: the root's ID attribute; title, description: dc:title and
 *     dc:description; tags: dc:subject; source_date: dc:date ("modified
 *     2020-07-21" -> "2020-07-21"); source_url: KB_SP_URL + id;
 *   - context: the FilDAriane levels between the home page and the fiche
 *     itself (« Papiers - Citoyenneté > Carte d'identité »), else
 *     dc:subject;
 *   - body: the readable text, one block per line: paragraphs, list items
 *     as "- item" (nested ones indented by two spaces), table rows as
 *     "cell | cell", « À savoir : ... » for the ANoter/ASavoir/Attention/
 *     Rappel boxes, section titles on their own line after a blank one;
 *   - sections: one per Situation, Chapitre, SousChapitre and Cas that has
 *     a title, holding the text that is not in a deeper one, with its
 *     title path (« Majeur > En mairie > Pièces à fournir »); the intro
 *     (Introduction and what precedes the first titled block) has path
 *     "" and is the description when the fiche has no text of its own;
 *     an Avertissement is a section "Avertissement"; empty sections are
 *     dropped; OuSAdresser blocks are never copied: their presence adds
 *     one last section KB_SP_WHERE_PATH whose text is KB_SP_CONTACTS;
 *   - links, without duplicates: ServiceEnLigne and LienWeb (service),
 *     Reference and PourEnSavoirPlus (reference), QuestionReponse and
 *     FicheLiee (related: target = the fiche id). When more than
 *     KB_LINKS_MAX remain, related ones are dropped first (logged).
 *
 * Everything else at the top (metadata, navigation, glossary, guided
 * searches) is left out. Unknown elements inside the text are walked as
 * plain blocks, so new DILA tags lose no text.
 */
#include <string.h>

#include "kb/kb_import.h"

#define DEPTH_MAX 64
#define SLOTS_MAX (8 * KB_SECTIONS_MAX) /* sections before dropping empties */
#define LINKS_HARD (4 * KB_LINKS_MAX)   /* distinct links collected */
#define URL_MAX 2048

struct slot {
    const char *path; /* arena */
    struct gu_buf text;
};

struct walk {
    struct gu_arena *a;
    const struct kb_sp_ops *ops;
    struct gu_err *err;
    int rc; /* first error, sticky: the walk stops */

    const char *id, *title, *desc, *subject, *date, *context;
    struct gu_buf body;
    struct slot *slots;
    size_t nslots, slotcap;
    size_t cur;         /* slot receiving lines */
    size_t last;        /* slot of the body's last line */
    const char *prefix; /* « À savoir » pending for the next line */
    bool where;         /* an OuSAdresser was seen */
    struct kb_link *links;
    size_t nlinks, linkcap;
    size_t links_dropped;
    int depth;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* Record the first error (the walk stops) and return it. */
#define FAIL(w, code, user, ...)                                               \
    ((w)->rc ? (w)->rc                                                         \
             : ((w)->rc = gu_err_set((w)->err, (code), "fiche", (user),        \
                                     __VA_ARGS__)))

static int
oom(struct walk *w)
{
    return FAIL(w, GU_ENOMEM, NULL, "service-public fiche: no memory");
}

static void
too_deep(struct walk *w)
{
    FAIL(w, GU_EINVAL, "Fiche trop imbriquée.",
         "service-public fiche nested deeper than %d", DEPTH_MAX);
}

static const char *
ename(struct walk *w, const void *n, char *buf, size_t cap)
{
    if (w->ops->kind(n) != KB_SP_ELEM)
        return "";
    const char *s = w->ops->name(n, buf, cap);
    return s ? s : "";
}

static bool
in_set(const char *name, const char *const *set)
{
    for (; *set; set++) {
        if (strcmp(name, *set) == 0)
            return true;
    }
    return false;
}

/* ASCII whitespace and control characters: one space between words. */
static bool
is_space(unsigned char c)
{
    return c <= 0x20 || c == 0x7f;
}

static bool
blank(const char *s)
{
    for (; *s; s++) {
        if (!is_space((unsigned char)*s))
            return false;
    }
    return true;
}

/* Collapse runs of spaces and controls, trim, copy into the arena. */
static const char *
norm(struct walk *w, const char *p, size_t n)
{
    char *out = gu_arena_alloc(w->a, n + 1);
    size_t k = 0;
    bool sp = false;

    if (!out) {
        oom(w);
        return "";
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (is_space(c)) {
            sp = k > 0;
            continue;
        }
        if (sp)
            out[k++] = ' ';
        sp = false;
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return out;
}

/* Cut a label to `max` bytes on a UTF-8 boundary, with an ellipsis. */
static const char *
clip(struct walk *w, const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return s;
    n = max - 3; /* room for "…" (3 bytes) */
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    const char *r = gu_arena_sprintf(w->a, "%.*s…", (int)n, s);
    if (!r)
        oom(w);
    return r ? r : "";
}

/* ------------------------------------------------------------------ */
/* Inline text                                                         */
/* ------------------------------------------------------------------ */

/* Elements whose content is never text of the fiche. */
static const char *const no_text[] = {
    "Condition",   "OuSAdresser",   "estVrai",     "estFaux",
    "estIndefini", "SiSelectionne", "affecteVrai", "affecteFaux",
    "Source",      "Colonne",       "Credits",     NULL,
};

static void
gather(struct walk *w, const void *n, struct gu_buf *b)
{
    struct kb_sp_cur c;
    char nb[64];

    if (w->rc)
        return;
    if (w->ops->kind(n) == KB_SP_TEXT) {
        const char *t = w->ops->text(n);
        if (t && !blank(t) && gu_buf_puts(b, t) < 0)
            oom(w);
        return;
    }
    if (w->ops->kind(n) != KB_SP_ELEM)
        return;
    const char *name = ename(w, n, nb, sizeof(nb));
    if (in_set(name, no_text)) {
        if (strcmp(name, "OuSAdresser") == 0)
            w->where = true;
        return;
    }
    if (++w->depth > DEPTH_MAX) {
        too_deep(w);
        w->depth--;
        return;
    }
    for (bool ok = w->ops->first(n, &c); ok && !w->rc; ok = w->ops->next(&c))
        gather(w, c.node, b);
    w->depth--;
}

/* The normalised text under `n` (arena, "" if none). */
static const char *
inline_text(struct walk *w, const void *n)
{
    struct gu_buf b;
    const char *s;

    gu_buf_init(&b);
    gather(w, n, &b);
    if (b.oom)
        oom(w);
    s = b.p ? norm(w, b.p, b.n) : "";
    gu_buf_fini(&b);
    return s;
}

/* The text of the first child element called `name` ("" if none). */
static const char *
child_text(struct walk *w, const void *n, const char *name)
{
    struct kb_sp_cur c;
    char nb[64];

    for (bool ok = w->ops->first(n, &c); ok; ok = w->ops->next(&c)) {
        if (strcmp(ename(w, c.node, nb, sizeof(nb)), name) == 0)
            return inline_text(w, c.node);
    }
    return "";
}

/* ------------------------------------------------------------------ */
/* Lines and sections                                                  */
/* ------------------------------------------------------------------ */

static void
put_line(struct walk *w, struct gu_buf *b, const char *lead, const char *pfx,
         const char *s)
{
    if (b->n)
        gu_buf_puts(b, "\n");
    gu_buf_puts(b, lead);
    if (pfx) {
        gu_buf_puts(b, pfx);
        gu_buf_puts(b, " : ");
    }
    gu_buf_puts(b, s);
    if (b->oom)
        oom(w);
}

/* One line of text, to the body and to the current section. */
static void
line(struct walk *w, const char *lead, const char *s)
{
    if (w->rc || !*s)
        return;
    /* Back in a parent section after a sub-section: a blank line. */
    if (w->cur != w->last && w->body.n)
        gu_buf_puts(&w->body, "\n");
    w->last = w->cur;
    put_line(w, &w->body, lead, w->prefix, s);
    put_line(w, &w->slots[w->cur].text, lead, w->prefix, s);
    w->prefix = NULL;
    if (w->body.n + strlen(w->desc) > KB_BODY_MAX)
        FAIL(w, GU_ETOOBIG, "Fiche trop longue.",
             "service-public fiche body over %d bytes", KB_BODY_MAX);
}

/* A new section slot under the current one; returns its index. */
static size_t
open_slot(struct walk *w, const char *title)
{
    const char *parent = w->slots[w->cur].path;
    const char *path;

    if (w->nslots >= SLOTS_MAX) {
        FAIL(w, GU_ETOOBIG, "Fiche trop découpée.",
             "service-public fiche: over %d section slots", SLOTS_MAX);
        return w->cur;
    }
    if (w->nslots == w->slotcap) {
        size_t ncap = w->slotcap * 2;
        struct slot *ns = gu_realloc(w->slots, ncap * sizeof(*ns));
        if (!ns) {
            oom(w);
            return w->cur;
        }
        w->slots = ns;
        w->slotcap = ncap;
    }
    path = *parent ? gu_arena_sprintf(w->a, "%s > %s", parent, title)
                   : gu_arena_strdup(w->a, title);
    if (!path) {
        oom(w);
        return w->cur;
    }
    w->slots[w->nslots].path = path;
    gu_buf_init(&w->slots[w->nslots].text);
    return w->nslots++;
}

/* The title line of a section: in the body only, after a blank line. */
static void
body_title(struct walk *w, const char *title, size_t slot)
{
    if (w->body.n)
        gu_buf_puts(&w->body, "\n");
    put_line(w, &w->body, "", NULL, title);
    w->last = slot;
}

/* ------------------------------------------------------------------ */
/* Links                                                               */
/* ------------------------------------------------------------------ */

static bool
url_ok(const char *u)
{
    size_t n = strlen(u);

    if (n > URL_MAX ||
        (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (is_space((unsigned char)u[i]))
            return false;
    }
    return true;
}

static void
add_link(struct walk *w, enum kb_link_kind kind, const char *label,
         const char *url, const char *target)
{
    if (w->rc)
        return;
    for (size_t i = 0; i < w->nlinks; i++) {
        const struct kb_link *l = &w->links[i];
        if (l->kind == kind && strcmp(l->url, url) == 0 &&
            strcmp(l->target, target) == 0)
            return; /* the same service is often linked in several cases */
    }
    if (w->nlinks >= LINKS_HARD) {
        w->links_dropped++;
        return;
    }
    if (w->nlinks == w->linkcap) {
        size_t ncap = w->linkcap ? w->linkcap * 2 : 16;
        struct kb_link *nl = gu_realloc(w->links, ncap * sizeof(*nl));
        if (!nl) {
            oom(w);
            return;
        }
        w->links = nl;
        w->linkcap = ncap;
    }
    w->links[w->nlinks++] = (struct kb_link){
        .kind = kind,
        .label = clip(w, label, KB_TITLE_MAX),
        .url = url,
        .target = target,
    };
}

/* ServiceEnLigne, Reference, PourEnSavoirPlus: label Titre (else
 * `fallback`), URL attribute. Returns the Titre, "" if none. */
static const char *
url_link(struct walk *w, const void *n, enum kb_link_kind kind,
         const char *fallback)
{
    const char *url = w->ops->attr(w->a, n, "URL");
    const char *title = child_text(w, n, "Titre");

    if (url && url_ok(url))
        add_link(w, kind, *title ? title : fallback, url, "");
    return title;
}

/* QuestionReponse (text is the question) and FicheLiee (Titre). */
static void
related_link(struct walk *w, const void *n, bool question)
{
    const char *id = w->ops->attr(w->a, n, "ID");
    const char *label =
        question ? inline_text(w, n) : child_text(w, n, "Titre");

    if (!id || !kb_sp_id_valid(id, strlen(id)) || !*label ||
        strcmp(id, w->id) == 0)
        return;
    const char *url = gu_arena_sprintf(w->a, "%s%s", KB_SP_URL, id);
    if (!url) {
        oom(w);
        return;
    }
    add_link(w, KB_LINK_RELATED, label, url, id);
}

/* ------------------------------------------------------------------ */
/* Blocks                                                              */
/* ------------------------------------------------------------------ */

static void block(struct walk *w, const void *n);

/* Walk the children of `n` as blocks, skipping its Titre. */
static void
children(struct walk *w, const void *n, bool skip_title)
{
    struct kb_sp_cur c;
    char nb[64];

    for (bool ok = w->ops->first(n, &c); ok && !w->rc; ok = w->ops->next(&c)) {
        if (skip_title &&
            strcmp(ename(w, c.node, nb, sizeof(nb)), "Titre") == 0)
            continue;
        block(w, c.node);
    }
}

/* Situation, Chapitre, SousChapitre, Cas, SousDossier. */
static void
section(struct walk *w, const void *n)
{
    const char *title = child_text(w, n, "Titre");
    size_t saved = w->cur;

    if (!*title) {
        children(w, n, true);
        return;
    }
    size_t s = open_slot(w, title);
    if (w->rc)
        return;
    body_title(w, title, s);
    w->cur = s;
    w->prefix = NULL;
    children(w, n, true);
    w->cur = saved;
}

/* ANoter, ASavoir, Attention, Rappel: « À savoir : first line ». */
static void
callout(struct walk *w, const void *n)
{
    const char *title = child_text(w, n, "Titre");

    w->prefix = *title ? title : NULL;
    children(w, n, true);
    w->prefix = NULL;
}

static void
list(struct walk *w, const void *n, size_t level)
{
    struct kb_sp_cur c, d;
    char nb[64], lead[2 * 8 + 3];
    size_t ind = level < 8 ? level : 8;

    memset(lead, ' ', 2 * ind);
    memcpy(lead + 2 * ind, "- ", 3);
    for (bool ok = w->ops->first(n, &c); ok && !w->rc; ok = w->ops->next(&c)) {
        if (strcmp(ename(w, c.node, nb, sizeof(nb)), "Item") != 0) {
            block(w, c.node);
            continue;
        }
        /* The item's own text on one line, its sub-lists after it. */
        struct gu_buf b;
        gu_buf_init(&b);
        for (bool k = w->ops->first(c.node, &d); k && !w->rc;
             k = w->ops->next(&d)) {
            if (strcmp(ename(w, d.node, nb, sizeof(nb)), "Liste") == 0)
                continue;
            if (b.n)
                gu_buf_puts(&b, " ");
            gather(w, d.node, &b);
        }
        if (b.oom)
            oom(w);
        if (b.p)
            line(w, lead, norm(w, b.p, b.n));
        gu_buf_fini(&b);
        for (bool k = w->ops->first(c.node, &d); k && !w->rc;
             k = w->ops->next(&d)) {
            if (strcmp(ename(w, d.node, nb, sizeof(nb)), "Liste") == 0)
                list(w, d.node, level + 1);
        }
    }
}

static void
table(struct walk *w, const void *n)
{
    struct kb_sp_cur c, d;
    char nb[64];

    for (bool ok = w->ops->first(n, &c); ok && !w->rc; ok = w->ops->next(&c)) {
        const char *name = ename(w, c.node, nb, sizeof(nb));
        if (strcmp(name, "Rangée") != 0) {
            block(w, c.node);
            continue;
        }
        struct gu_buf b;
        gu_buf_init(&b);
        bool any = false;
        for (bool k = w->ops->first(c.node, &d); k && !w->rc;
             k = w->ops->next(&d)) {
            if (w->ops->kind(d.node) != KB_SP_ELEM)
                continue; /* blanks between cells */
            const char *cell = inline_text(w, d.node);
            if (any)
                gu_buf_puts(&b, " | ");
            gu_buf_puts(&b, cell);
            any = true;
        }
        if (b.oom)
            oom(w);
        if (b.p)
            line(w, "", norm(w, b.p, b.n));
        gu_buf_fini(&b);
    }
}

/* Elements that hold no text of the fiche, wherever they are. */
static const char *const skipped[] = {
    "Condition",       "Source",
    "Colonne",         "TitreAlternatif",
    "Image",           "Credits",
    "Definition",      "Abreviation",
    "RechercheGuidee", "Problematiques",
    "Questionnaire",   "PivotLocal",
    "RessourceWeb",    "ServiceEnLigneAnnexe",
    "NoticeLiee",      "Audience",
    "Theme",           NULL,
};

static void block_el(struct walk *w, const void *n, const char *name);

/* Every recursion of the walk goes through here: the depth is bounded. */
static void
block(struct walk *w, const void *n)
{
    char nb[64];
    enum kb_sp_kind k = w->ops->kind(n);

    if (w->rc)
        return;
    if (k == KB_SP_TEXT) {
        const char *t = w->ops->text(n);
        if (t && !blank(t))
            line(w, "", norm(w, t, strlen(t)));
        return;
    }
    if (k != KB_SP_ELEM)
        return;
    if (++w->depth > DEPTH_MAX) {
        too_deep(w);
    } else {
        block_el(w, n, ename(w, n, nb, sizeof(nb)));
    }
    w->depth--;
}

static void
block_el(struct walk *w, const void *n, const char *name)
{
    if (in_set(name, skipped))
        return;
    if (strcmp(name, "OuSAdresser") == 0) {
        w->where = true;
    } else if (strcmp(name, "Paragraphe") == 0 || strcmp(name, "Titre") == 0) {
        line(w, "", inline_text(w, n));
    } else if (strcmp(name, "Liste") == 0) {
        list(w, n, 0);
    } else if (strcmp(name, "Tableau") == 0) {
        table(w, n);
    } else if (strcmp(name, "Situation") == 0 ||
               strcmp(name, "Chapitre") == 0 ||
               strcmp(name, "SousChapitre") == 0 || strcmp(name, "Cas") == 0 ||
               strcmp(name, "SousDossier") == 0) {
        section(w, n);
    } else if (strcmp(name, "ANoter") == 0 || strcmp(name, "ASavoir") == 0 ||
               strcmp(name, "Attention") == 0 || strcmp(name, "Rappel") == 0) {
        callout(w, n);
    } else if (strcmp(name, "ServiceEnLigne") == 0) {
        const char *label = url_link(w, n, KB_LINK_SERVICE, "Service en ligne");
        if (*label) {
            w->prefix = "Service en ligne";
            line(w, "", label);
            w->prefix = NULL;
        }
    } else if (strcmp(name, "Reference") == 0 ||
               strcmp(name, "PourEnSavoirPlus") == 0) {
        url_link(w, n, KB_LINK_REFERENCE, "Texte de référence");
    } else if (strcmp(name, "QuestionReponse") == 0) {
        related_link(w, n, true);
    } else if (strcmp(name, "FicheLiee") == 0) {
        related_link(w, n, false);
    } else if (strcmp(name, "Fiche") == 0) {
        line(w, "- ", inline_text(w, n));
    } else {
        children(w, n, false);
    }
}

/* ------------------------------------------------------------------ */
/* The fiche                                                           */
/* ------------------------------------------------------------------ */

/* « Papiers - Citoyenneté > Carte d'identité »: levels between home and
 * the fiche itself. */
static const char *
breadcrumb(struct walk *w, const void *n)
{
    struct kb_sp_cur c;
    struct gu_buf b;
    char nb[64];
    const char *s;

    gu_buf_init(&b);
    for (bool ok = w->ops->first(n, &c); ok && !w->rc; ok = w->ops->next(&c)) {
        if (strcmp(ename(w, c.node, nb, sizeof(nb)), "Niveau") != 0)
            continue;
        const char *id = w->ops->attr(w->a, c.node, "ID");
        if (id && (strcmp(id, "Particuliers") == 0 ||
                   strcmp(id, "Professionnels") == 0 ||
                   strcmp(id, "Associations") == 0 || strcmp(id, w->id) == 0))
            continue;
        const char *t = inline_text(w, c.node);
        if (!*t)
            continue;
        if (b.n)
            gu_buf_puts(&b, " > ");
        gu_buf_puts(&b, t);
    }
    if (b.oom)
        oom(w);
    s = b.p ? gu_arena_strndup(w->a, b.p, b.n) : "";
    if (!s) {
        oom(w);
        s = "";
    }
    gu_buf_fini(&b);
    return s;
}

/* "modified 2020-07-21" (or a bare date) -> "2020-07-21", NULL if bad. */
static const char *
parse_date(struct walk *w, const char *s)
{
    const char *p = strrchr(s, ' ');
    int64_t day;
    char iso[16];

    p = p ? p + 1 : s;
    if (strlen(p) != 10 || gu_date_parse(p, &day) < 0)
        return NULL;
    gu_day_iso(day, iso, sizeof(iso));
    return gu_arena_strdup(w->a, iso);
}

static void
top(struct walk *w, const void *n)
{
    char nb[64];
    const char *name = ename(w, n, nb, sizeof(nb));

    if (strcmp(name, "dc:title") == 0) {
        w->title = inline_text(w, n);
    } else if (strcmp(name, "dc:description") == 0) {
        w->desc = inline_text(w, n);
    } else if (strcmp(name, "dc:subject") == 0) {
        w->subject = inline_text(w, n);
    } else if (strcmp(name, "dc:date") == 0) {
        w->date = parse_date(w, inline_text(w, n));
    } else if (strcmp(name, "FilDAriane") == 0) {
        w->context = breadcrumb(w, n);
    } else if (strcmp(name, "Introduction") == 0 ||
               strcmp(name, "Texte") == 0 ||
               strcmp(name, "ListeSituations") == 0) {
        w->cur = 0;
        children(w, n, false);
    } else if (strcmp(name, "Avertissement") == 0) {
        size_t s = open_slot(w, "Avertissement");
        if (w->rc)
            return;
        body_title(w, "Avertissement", s);
        w->cur = s;
        line(w, "", child_text(w, n, "Titre"));
        children(w, n, true);
        w->cur = 0;
    } else if (strcmp(name, "NumeroCerfa") == 0) {
        w->prefix = "Cerfa";
        line(w, "", inline_text(w, n));
        w->prefix = NULL;
    } else if (strcmp(name, "LienWeb") == 0) {
        const char *url = w->ops->attr(w->a, n, "URL");
        if (url && url_ok(url))
            add_link(w, KB_LINK_SERVICE,
                     *w->title ? w->title : "Service en ligne", url, "");
    } else if (strcmp(name, "ServiceEnLigne") == 0) {
        url_link(w, n, KB_LINK_SERVICE, "Service en ligne");
    } else if (strcmp(name, "Reference") == 0 ||
               strcmp(name, "PourEnSavoirPlus") == 0 ||
               strcmp(name, "QuestionReponse") == 0 ||
               strcmp(name, "FicheLiee") == 0 ||
               strcmp(name, "OuSAdresser") == 0 ||
               strcmp(name, "SousDossier") == 0 || strcmp(name, "Fiche") == 0) {
        w->cur = 0;
        block(w, n);
    }
    /* Anything else at the top is metadata or navigation. */
}

/* Keep at most KB_LINKS_MAX links: services, references, then related. */
static void
cap_links(struct walk *w)
{
    static const enum kb_link_kind order[] = {
        KB_LINK_SERVICE, KB_LINK_BOOKING, KB_LINK_REFERENCE, KB_LINK_RELATED};
    size_t keep = 0;
    bool *take;

    if (w->nlinks <= KB_LINKS_MAX)
        return;
    take = gu_arena_zalloc(w->a, w->nlinks * sizeof(*take));
    if (!take) {
        oom(w);
        return;
    }
    for (size_t o = 0; o < GU_ARRAY_LEN(order); o++) {
        for (size_t i = 0; i < w->nlinks && keep < KB_LINKS_MAX; i++) {
            if (w->links[i].kind == order[o]) {
                take[i] = true;
                keep++;
            }
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < w->nlinks; i++) {
        if (take[i])
            w->links[k++] = w->links[i];
    }
    w->links_dropped += w->nlinks - k;
    w->nlinks = k;
}

/* Characters, as kb.h counts KB_TITLE_MAX (the text is valid UTF-8). */
static size_t
utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int
finish(struct walk *w, struct kb_fiche *out)
{
    size_t nsec = 0;
    struct kb_section *secs;
    char q[96];

    if (!w->title || !*w->title)
        return FAIL(w, GU_EINVAL, "Fiche sans titre.",
                    "service-public fiche %s: no dc:title", w->id);
    if (utf8_chars(w->title) > KB_TITLE_MAX)
        return FAIL(w, GU_ETOOBIG, "Titre de fiche trop long.",
                    "service-public fiche %s: title too long", w->id);
    if (w->body.n + strlen(w->desc) > KB_BODY_MAX)
        return FAIL(w, GU_ETOOBIG, "Fiche trop longue.",
                    "service-public fiche %s: over KB_BODY_MAX", w->id);
    if (!w->date)
        return FAIL(w, GU_EINVAL, "Fiche sans date de mise à jour.",
                    "service-public fiche %s: no valid dc:date", w->id);
    if (w->slots[0].text.n == 0 && *w->desc) {
        bool other = false;
        for (size_t i = 1; i < w->nslots; i++)
            other = other || w->slots[i].text.n > 0;
        if (!other && gu_buf_puts(&w->slots[0].text, w->desc) < 0)
            return oom(w);
    }
    secs = gu_arena_zalloc(w->a, (w->nslots + 1) * sizeof(*secs));
    if (!secs)
        return oom(w);
    for (size_t i = 0; i < w->nslots; i++) {
        if (w->slots[i].text.n == 0)
            continue;
        secs[nsec].ord = (int)nsec;
        secs[nsec].path = w->slots[i].path;
        secs[nsec].text =
            gu_arena_strndup(w->a, w->slots[i].text.p, w->slots[i].text.n);
        if (!secs[nsec].text)
            return oom(w);
        nsec++;
    }
    if (w->where) {
        secs[nsec].ord = (int)nsec;
        secs[nsec].path = KB_SP_WHERE_PATH;
        secs[nsec].text = KB_SP_CONTACTS;
        nsec++;
    }
    if (nsec > KB_SECTIONS_MAX)
        return FAIL(w, GU_ETOOBIG, "Fiche trop découpée.",
                    "service-public fiche %s: too many sections", w->id);
    cap_links(w);
    if (w->rc)
        return w->rc;
    if (w->links_dropped)
        gu_log_warn("sp.links_capped", "id=%s dropped=%zu",
                    gu_logq(q, sizeof(q), w->id), w->links_dropped);
    struct kb_link *links = NULL;
    if (w->nlinks) {
        links = gu_arena_alloc(w->a, w->nlinks * sizeof(*links));
        if (!links)
            return oom(w);
        memcpy(links, w->links, w->nlinks * sizeof(*links));
    }
    const char *body =
        w->body.p ? gu_arena_strndup(w->a, w->body.p, w->body.n) : "";
    const char *url = gu_arena_sprintf(w->a, "%s%s", KB_SP_URL, w->id);
    if (!body || !url)
        return oom(w);

    memset(out, 0, sizeof(*out));
    out->id = w->id;
    out->origin = KB_NATIONAL;
    out->title = w->title;
    out->alt = "";
    out->description = w->desc;
    out->body = body;
    out->service = "";
    out->tags = w->subject;
    out->context = *w->context ? w->context : w->subject;
    out->replaces = "";
    out->contact = "";
    out->hours = "";
    out->source_url = url;
    out->source_date = w->date;
    out->updated_by = "";
    out->sections = secs;
    out->nsections = nsec;
    out->links = links;
    out->nlinks = w->nlinks;
    return 0;
}

bool
kb_sp_id_valid(const char *s, size_t n)
{
    if (n < 2 || n > 16 || s[0] < 'A' || s[0] > 'Z')
        return false;
    for (size_t i = 1; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

int
kb_sp_walk(struct gu_arena *a, const struct kb_sp_ops *ops, const void *root,
           struct kb_fiche *out, struct gu_err *err)
{
    struct walk w = {
        .a = a,
        .ops = ops,
        .err = err,
        .title = "",
        .desc = "",
        .subject = "",
        .context = "",
    };
    struct kb_sp_cur c;
    char nb[64];
    int rc;

    memset(out, 0, sizeof(*out));
    const char *name = ename(&w, root, nb, sizeof(nb));
    if (strcmp(name, "Publication") != 0 &&
        strcmp(name, "ServiceComplementaire") != 0)
        return gu_err_set(err, GU_ENOTFOUND, "fiche",
                          "Ce fichier n'est pas une fiche service-public.",
                          "not a co-marquage fiche (root <%.40s>)", name);
    w.id = ops->attr(a, root, "ID");
    if (!w.id || !kb_sp_id_valid(w.id, strlen(w.id)))
        return gu_err_set(err, GU_EINVAL, "fiche",
                          "Fiche sans identifiant valide.",
                          "co-marquage fiche without a valid ID");
    gu_buf_init(&w.body);
    w.slotcap = 32;
    w.slots = gu_malloc(w.slotcap * sizeof(*w.slots));
    if (!w.slots) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "walk: no memory");
        goto out;
    }
    w.slots[0].path = ""; /* the intro */
    gu_buf_init(&w.slots[0].text);
    w.nslots = 1;
    for (bool ok = ops->first(root, &c); ok && !w.rc; ok = ops->next(&c))
        top(&w, c.node);
    rc = w.rc ? w.rc : finish(&w, out);
out:
    for (size_t i = 0; i < w.nslots; i++)
        gu_buf_fini(&w.slots[i].text);
    gu_free(w.slots);
    gu_free(w.links);
    gu_buf_fini(&w.body);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
