/*
 * asst_eval.c - load service-public JSON fiches, index them, run the
 * question set, compute Recall@k, MRR@10 and latency.
 *
 * The JSON is the xml-js "non-compact" form of the co-marquage XML:
 * {"id": "F1234", "children": [{"type": "element", "name": "Publication",
 * "attributes": {...}, "children": [...]}]}, text in {"type": "text",
 * "text": "..."} nodes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assistant/asst_eval.h"
#include "assistant/asst_xlat.h"

/* ------------------------------------------------------------------ */
/* Fiches                                                             */
/* ------------------------------------------------------------------ */

static int
own(struct asst_corpus *c, char *s)
{
    if (c->nowned == c->owned_cap) {
        size_t ncap = c->owned_cap ? c->owned_cap * 2 : 1024;
        char **no = gu_realloc(c->owned, ncap * sizeof(*no));
        if (!no) {
            gu_free(s);
            return GU_ENOMEM;
        }
        c->owned = no;
        c->owned_cap = ncap;
    }
    c->owned[c->nowned++] = s;
    return 0;
}

static const char *
attr(json_t *node, const char *key)
{
    json_t *a = json_object_get(node, "attributes");
    return json_string_value(json_object_get(a, key));
}

/* Append every text node under `node`, elements separated by a newline
 * (so words of adjacent elements never glue), skipping the subtrees whose
 * ID is `skip_id` (NULL: skip nothing). */
static void
collect(json_t *node, const char *skip_id, struct gu_buf *b)
{
    const char *type = json_string_value(json_object_get(node, "type"));

    if (type && strcmp(type, "text") == 0) {
        const char *t = json_string_value(json_object_get(node, "text"));
        if (t)
            gu_buf_puts(b, t);
        return;
    }
    const char *id = attr(node, "ID");
    if (skip_id && id && strcmp(id, skip_id) == 0)
        return;
    json_t *kids = json_object_get(node, "children");
    size_t i;
    json_t *k;
    json_array_foreach(kids, i, k)
    {
        collect(k, skip_id, b);
    }
    if (b->n && b->p[b->n - 1] != '\n')
        gu_buf_puts(b, "\n");
}

/* Which field an element of the fiche's root goes to; -1 = none. */
static int
field_of(const char *name, bool mask)
{
    static const char *const context[] = {
        "FilDAriane",  "Theme",           "SousThemePere",
        "DossierPere", "SousDossierPere",
    };
    static const char *const meta[] = {"SurTitre", "Audience", "Canal"};

    if (strcmp(name, "dc:title") == 0)
        return mask ? -1 : ASST_FIELD_TITLE;
    if (strcmp(name, "dc:description") == 0)
        return ASST_FIELD_DESC;
    if (strncmp(name, "dc:", 3) == 0)
        return -1; /* creator, dates, rights... */
    if (strcmp(name, "TitreAlternatif") == 0)
        return mask ? -1 : ASST_FIELD_ALT;
    if (strcmp(name, "QuestionReponse") == 0)
        return mask ? -1 : ASST_FIELD_CONTEXT;
    for (size_t i = 0; i < GU_ARRAY_LEN(meta); i++) {
        if (strcmp(name, meta[i]) == 0)
            return -1;
    }
    for (size_t i = 0; i < GU_ARRAY_LEN(context); i++) {
        if (strcmp(name, context[i]) == 0)
            return ASST_FIELD_CONTEXT;
    }
    return ASST_FIELD_BODY;
}

/* The first element child of `node`, NULL when none. */
static json_t *
first_element(json_t *node)
{
    size_t j;
    json_t *e;

    json_array_foreach(json_object_get(node, "children"), j, e)
    {
        const char *t = json_string_value(json_object_get(e, "type"));
        if (t && strcmp(t, "element") == 0)
            return e;
    }
    return NULL;
}

/*
 * A fiche's titled sections as kb's importer cuts them (kb_import_walk.c):
 * title paths « A > B », each section's own text (not its sub-sections'),
 * in document order, slot 0 the untitled text (path ""). The translation
 * model's pairs come from them through asst_xlat_pairs_add(), the
 * engine's rule.
 */
struct sslot {
    char *path;
    struct gu_buf text;
};

struct swalk {
    struct sslot *v;
    size_t n, cap;
    const char *skip_id;
    bool oom;
};

static size_t
slot_open(struct swalk *w, size_t parent, const char *title, size_t tn)
{
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        struct sslot *nv = gu_realloc(w->v, ncap * sizeof(*nv));
        if (!nv) {
            w->oom = true;
            return parent;
        }
        w->v = nv;
        w->cap = ncap;
    }
    struct gu_buf p;
    gu_buf_init(&p);
    if (w->n > 0 && w->v[parent].path && *w->v[parent].path) {
        gu_buf_puts(&p, w->v[parent].path);
        gu_buf_puts(&p, " > ");
    }
    gu_buf_append(&p, title, tn);
    if (p.oom || !p.p) {
        gu_buf_fini(&p);
        if (w->n > 0) {
            w->oom = true;
            return parent;
        }
        p.p = gu_strdup("");
        if (!p.p) {
            w->oom = true;
            return parent;
        }
    }
    w->v[w->n].path = p.p;
    gu_buf_init(&w->v[w->n].text);
    return w->n++;
}

/* Walk `node` into slot `cur`: text goes to the current section; a
 * Chapitre, SousChapitre, Cas or Situation whose first element is its
 * Titre opens a section under it. Subtrees with the fiche's own ID are
 * skipped (masked protocol). */
static void
walk_sections(struct swalk *w, json_t *node, size_t cur)
{
    static const char *const sect[] = {"Chapitre", "SousChapitre", "Cas",
                                       "Situation"};
    const char *type = json_string_value(json_object_get(node, "type"));
    size_t i;
    json_t *k;

    if (w->oom)
        return;
    if (type && strcmp(type, "text") == 0) {
        const char *t = json_string_value(json_object_get(node, "text"));
        if (t)
            gu_buf_puts(&w->v[cur].text, t);
        return;
    }
    const char *id = attr(node, "ID");
    if (w->skip_id && id && strcmp(id, w->skip_id) == 0)
        return;
    const char *name = json_string_value(json_object_get(node, "name"));
    bool is_sect = false;
    for (size_t s = 0; name && s < GU_ARRAY_LEN(sect); s++)
        is_sect |= strcmp(name, sect[s]) == 0;
    json_t *first = is_sect ? first_element(node) : NULL;
    const char *fname =
        first ? json_string_value(json_object_get(first, "name")) : NULL;
    size_t into = cur;
    if (fname && strcmp(fname, "Titre") == 0) {
        struct gu_buf t;
        gu_buf_init(&t);
        collect(first, w->skip_id, &t);
        /* One line: the heading's own line breaks become spaces. */
        size_t tn = t.n;
        for (size_t j = 0; j < tn; j++) {
            if (t.p[j] == '\n')
                t.p[j] = ' ';
        }
        while (tn > 0 && t.p[tn - 1] == ' ')
            tn--;
        if (t.oom)
            w->oom = true;
        else if (tn > 0)
            into = slot_open(w, cur, t.p, tn);
        gu_buf_fini(&t);
    } else {
        first = NULL;
    }
    json_array_foreach(json_object_get(node, "children"), i, k)
    {
        if (k != first)
            walk_sections(w, k, into);
    }
    struct gu_buf *b = &w->v[into].text;
    if (b->n && b->p[b->n - 1] != '\n')
        gu_buf_puts(b, "\n");
}

static void
swalk_fini(struct swalk *w)
{
    for (size_t i = 0; i < w->n; i++) {
        gu_free(w->v[i].path);
        gu_buf_fini(&w->v[i].text);
    }
    gu_free(w->v);
}

/* The translation model's pairs of the fiche walked into `w`. */
static int
add_pairs(struct asst_corpus *c, struct swalk *w)
{
    struct kb_section *secs = gu_calloc(w->n + 1, sizeof(*secs));
    struct kb_fiche f;
    int rc;

    if (!secs)
        return GU_ENOMEM;
    for (size_t i = 0; i < w->n; i++) {
        if (w->v[i].text.oom) {
            gu_free(secs);
            return GU_ENOMEM;
        }
        secs[i].ord = (int)i;
        secs[i].path = w->v[i].path;
        secs[i].text = w->v[i].text.p ? w->v[i].text.p : "";
    }
    memset(&f, 0, sizeof(f));
    f.origin = KB_NATIONAL;
    f.sections = secs;
    f.nsections = w->n;
    rc = asst_xlat_pairs_add(&c->xp, &f, c->xlat_pairs);
    gu_free(secs);
    return rc;
}

static int
load_fiche(struct asst_corpus *c, json_t *root, bool mask)
{
    const char *id = json_string_value(json_object_get(root, "id"));
    json_t *top = json_array_get(json_object_get(root, "children"), 0);
    struct gu_buf f[ASST_NFIELDS];
    int rc = GU_ENOMEM;

    struct swalk sw;

    if (!id || !json_is_object(top))
        return 1; /* not a fiche: skipped */
    for (int i = 0; i < ASST_NFIELDS; i++)
        gu_buf_init(&f[i]);
    memset(&sw, 0, sizeof(sw));
    sw.skip_id = mask ? id : NULL;
    slot_open(&sw, 0, "", 0); /* the untitled text */
    if (sw.oom)
        goto out;
    size_t i;
    json_t *el;
    json_array_foreach(json_object_get(top, "children"), i, el)
    {
        const char *name = json_string_value(json_object_get(el, "name"));
        if (!name)
            continue;
        int fld = field_of(name, mask);
        if (fld < 0)
            continue;
        collect(el, mask ? id : NULL, &f[fld]);
        if (fld == ASST_FIELD_BODY)
            walk_sections(&sw, el, 0);
    }
    if (sw.oom)
        goto out;
    rc = add_pairs(c, &sw);
    if (rc < 0)
        goto out;
    rc = GU_ENOMEM;
    struct asst_doc *d = &c->docs[c->n];
    memset(d, 0, sizeof(*d));
    char *sid = gu_strdup(id);
    if (!sid || own(c, sid) < 0)
        goto out;
    d->id = sid;
    for (int k = 0; k < ASST_NFIELDS; k++) {
        if (f[k].oom)
            goto out;
        if (!f[k].p)
            continue;
        char *t = f[k].p;
        d->len[k] = f[k].n;
        f[k].p = NULL; /* ownership moves to the corpus */
        if (own(c, t) < 0)
            goto out;
        d->text[k] = t;
    }
    c->n++;
    rc = 0;
out:
    for (int k = 0; k < ASST_NFIELDS; k++)
        gu_buf_fini(&f[k]);
    swalk_fini(&sw);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
asst_corpus_load_sp(const char *dir, bool mask_titles, struct asst_corpus *out,
                    struct gu_err *err)
{
    struct asst_params dp;

    asst_params_default(&dp);
    return asst_corpus_load_sp_pairs(dir, mask_titles, dp.xlat_pairs, out,
                                     err);
}

int
asst_corpus_load_sp_pairs(const char *dir, bool mask_titles, uint32_t pairs,
                          struct asst_corpus *out, struct gu_err *err)
{
    DIR *dh = opendir(dir);
    char **names = NULL;
    size_t nn = 0, cap = 0;
    int rc = GU_ENOMEM;

    memset(out, 0, sizeof(*out));
    if (!dh)
        return gu_err_set(err, GU_EIO, "fiches", "Dossier de fiches illisible.",
                          "opendir %s: %s", dir, strerror(errno));
    out->xlat_pairs = pairs;
    if (asst_xlat_pairs_init(&out->xp) < 0)
        goto out;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        if (nn == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            char **nv = gu_realloc(names, ncap * sizeof(*nv));
            if (!nv)
                goto out;
            names = nv;
            cap = ncap;
        }
        names[nn] = gu_strdup(de->d_name);
        if (!names[nn])
            goto out;
        nn++;
    }
    /* Sorted, so document numbers are the same on every run. */
    qsort(names, nn, sizeof(*names), cmp_str);
    out->docs = gu_calloc(nn + 1, sizeof(*out->docs));
    if (!out->docs)
        goto out;
    for (size_t i = 0; i < nn; i++) {
        char path[4096];
        json_error_t je;
        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
            (int)sizeof(path)) {
            rc = gu_err_set(err, GU_EINVAL, "fiches", "Chemin trop long.",
                            "path too long: %s", names[i]);
            goto out;
        }
        json_t *root = json_load_file(path, 0, &je);
        if (!root) {
            rc = gu_err_set(err, GU_EINVAL, "fiches", "Fiche JSON invalide.",
                            "%s:%d: %s", path, je.line, je.text);
            goto out;
        }
        int r = json_is_object(root) ? load_fiche(out, root, mask_titles) : 1;
        json_decref(root);
        if (r < 0)
            goto out;
    }
    if (out->n == 0) {
        rc = gu_err_set(err, GU_EIO, "fiches",
                        "Aucune fiche trouvée dans ce dossier.",
                        "no fiche in %s", dir);
        goto out;
    }
    rc = 0;
out:
    closedir(dh);
    for (size_t i = 0; i < nn; i++)
        gu_free(names[i]);
    gu_free(names);
    if (rc == GU_ENOMEM)
        gu_err_set(err, rc, NULL, NULL, "corpus: no memory");
    if (rc < 0)
        asst_corpus_fini(out);
    return rc;
}

void
asst_corpus_fini(struct asst_corpus *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nowned; i++)
        gu_free(c->owned[i]);
    gu_free(c->owned);
    gu_free(c->docs);
    asst_xlat_pairs_fini(&c->xp);
    memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ */
/* Questions                                                          */
/* ------------------------------------------------------------------ */

void
asst_questions_fini(struct asst_questions *q)
{
    if (!q)
        return;
    gu_free(q->v);
    gu_free(q->file);
    memset(q, 0, sizeof(*q));
}

int
asst_eval_half(const char *text)
{
    uint32_t h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return (int)(h % 2);
}

static int
read_file(const char *path, char **out, size_t *outn, struct gu_err *err)
{
    FILE *f = fopen(path, "rb");
    struct gu_buf b;
    char chunk[65536];
    size_t k;

    if (!f)
        return gu_err_set(err, GU_EIO, "questions",
                          "Fichier de questions illisible.", "open %s: %s",
                          path, strerror(errno));
    gu_buf_init(&b);
    while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
        gu_buf_append(&b, chunk, k);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        gu_buf_fini(&b);
        return gu_err_set(err, GU_EIO, "questions",
                          "Fichier de questions illisible.", "read %s", path);
    }
    if (b.oom) {
        gu_buf_fini(&b);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "read: no memory");
    }
    if (!b.p) {
        b.p = gu_strdup("");
        if (!b.p)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "read: no memory");
    }
    *out = b.p;
    *outn = b.n;
    return 0;
}

int
asst_questions_load(const char *path, struct asst_questions *q,
                    struct gu_err *err)
{
    size_t n;
    int rc;

    memset(q, 0, sizeof(*q));
    rc = read_file(path, &q->file, &n, err);
    if (rc < 0)
        return rc;
    char *s = q->file;
    bool header = true;
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && s[e] != '\n')
            e++;
        s[e] = '\0';
        char *line = s + i;
        size_t ll = e - i;
        i = e + 1;
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        if (header) {
            header = false;
            continue;
        }
        char *tab1 = strchr(line, '\t');
        if (!tab1 || tab1 == line)
            continue;
        *tab1 = '\0';
        char *target = tab1 + 1;
        char *tab2 = strchr(target, '\t');
        if (tab2)
            *tab2 = '\0';
        if (!*target)
            continue;
        struct asst_question *qu = NULL;
        for (size_t j = q->n; !qu && j-- > 0;) {
            if (strcmp(q->v[j].text, line) == 0)
                qu = &q->v[j];
        }
        if (!qu) {
            if (q->n == q->cap) {
                size_t ncap = q->cap ? q->cap * 2 : 256;
                struct asst_question *nv = gu_realloc(q->v, ncap * sizeof(*nv));
                if (!nv) {
                    asst_questions_fini(q);
                    return gu_err_set(err, GU_ENOMEM, NULL, NULL,
                                      "questions: no memory");
                }
                q->v = nv;
                q->cap = ncap;
            }
            qu = &q->v[q->n++];
            memset(qu, 0, sizeof(*qu));
            qu->text = line;
            qu->half = asst_eval_half(line);
        }
        if (qu->ntargets < ASST_EVAL_MAX_TARGETS)
            qu->target[qu->ntargets++] = target;
    }
    if (q->n == 0) {
        asst_questions_fini(q);
        return gu_err_set(err, GU_EINVAL, "questions",
                          "Aucune question dans le fichier.",
                          "no question in %s", path);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Run                                                                */
/* ------------------------------------------------------------------ */

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* 1-based rank of the first valid target in the hits, 0 if absent. */
static size_t
rank_of(const struct asst_index *ix, const struct asst_result *r,
        const struct asst_question *q)
{
    for (size_t i = 0; i < r->n; i++) {
        const char *id = asst_index_doc_id(ix, r->hits[i].doc);
        for (size_t t = 0; t < q->ntargets; t++) {
            if (strcmp(id, q->target[t]) == 0)
                return i + 1;
        }
    }
    return 0;
}

/* One question's outcome. */
struct outcome {
    size_t rank;
    bool abstained;
    double ms;     /* wall clock */
    double cpu_ms; /* this thread's CPU time: immune to preemption */
};

/* The figures of the questions whose half is `half` (-1 = all). */
static json_t *
figures(const struct outcome *o, const struct asst_questions *q, int half,
        double *lat)
{
    size_t n = 0, h1 = 0, h5 = 0, h10 = 0, nab = 0, ab_wrong = 0, wrong = 0;
    double mrr = 0, total = 0, cpu_total = 0;

    for (size_t i = 0; i < q->n; i++) {
        if (half >= 0 && q->v[i].half != half)
            continue;
        size_t rk = o[i].rank;
        lat[n++] = o[i].ms;
        total += o[i].ms;
        cpu_total += o[i].cpu_ms;
        h1 += rk == 1;
        h5 += rk >= 1 && rk <= 5;
        h10 += rk >= 1 && rk <= 10;
        mrr += rk ? 1.0 / rk : 0;
        wrong += rk != 1;
        nab += o[i].abstained;
        ab_wrong += o[i].abstained && rk != 1;
    }
    if (n == 0)
        return json_pack("{s:I}", "n", (json_int_t)0);
    size_t p99 = (size_t)(0.99 * (n - 1) + 0.5);
    qsort(lat, n, sizeof(*lat), cmp_double);
    double wall99 = lat[p99];
    n = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (half < 0 || q->v[i].half == half)
            lat[n++] = o[i].cpu_ms;
    }
    qsort(lat, n, sizeof(*lat), cmp_double);
    double dn = (double)n;
    return json_pack(
        "{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "n",
        (json_int_t)n, "recall_at_1", h1 / dn, "recall_at_5", h5 / dn,
        "recall_at_10", h10 / dn, "mrr_at_10", mrr / dn, "mean_ms", total / dn,
        "p99_ms", wall99, "cpu_mean_ms", cpu_total / dn, "cpu_p99_ms", lat[p99],
        "abstain_rate", nab / dn, "abstain_precision",
        nab ? (double)ab_wrong / nab : 0.0, "abstain_recall",
        wrong ? (double)ab_wrong / wrong : 0.0);
}

int
asst_eval_index(const struct asst_index *ix, const struct asst_questions *q,
                const struct asst_abstain *ab, json_t **result,
                struct gu_err *err)
{
    struct asst_abstain dab;
    struct outcome *o = gu_calloc(q->n + 1, sizeof(*o));
    double *lat = gu_calloc(q->n + 1, sizeof(*lat));
    json_t *res = NULL;
    int rc = GU_ENOMEM;

    *result = NULL;
    if (!ab) {
        asst_abstain_default(&dab);
        ab = &dab;
    }
    if (!o || !lat)
        goto out;
    for (size_t i = 0; i < q->n; i++) {
        struct gu_arena *a = gu_arena_new(256 * 1024);
        struct asst_result r;
        if (!a)
            goto out;
        const char *t = q->v[i].text;
        double s = now_ms(), c = cpu_ms();
        rc = asst_index_search(ix, a, t, strlen(t), 10, &r);
        o[i].cpu_ms = cpu_ms() - c;
        o[i].ms = now_ms() - s;
        if (rc < 0) {
            gu_arena_free(a);
            goto out;
        }
        o[i].rank = rank_of(ix, &r, &q->v[i]);
        o[i].abstained = asst_result_abstains(&r, ab);
        if (getenv("GUICHET_EVAL_TRACE") && o[i].rank != 1)
            fprintf(stderr, "miss rank=%zu q=\"%s\" want=%s got=%s\n",
                    o[i].rank, t, q->v[i].target[0],
                    r.n ? asst_index_doc_id(ix, r.hits[0].doc) : "-");
        gu_arena_free(a);
    }
    rc = GU_ENOMEM;
    res = figures(o, q, -1, lat);
    json_t *tune = figures(o, q, 0, lat);
    json_t *held = figures(o, q, 1, lat);
    if (!res || !tune || !held ||
        json_object_set_new(res, "abstain_min_score",
                            json_real(ab->min_score)) < 0 ||
        json_object_set_new(res, "abstain_min_margin",
                            json_real(ab->min_margin)) < 0 ||
        json_object_set_new(res, "tune", tune) < 0 ||
        json_object_set_new(res, "heldout", held) < 0) {
        json_decref(res);
        res = NULL;
        goto out;
    }
    *result = res;
    rc = 0;
out:
    gu_free(o);
    gu_free(lat);
    if (rc < 0)
        return gu_err_set(err, rc, NULL, NULL, "eval: %s",
                          rc == GU_ENOMEM ? "no memory" : "search failed");
    return 0;
}

int
asst_eval_run_params(const char *fiches_dir, const char *questions_tsv,
                     bool mask_titles, const struct asst_params *prm,
                     json_t **result, struct gu_err *err)
{
    struct asst_corpus corpus;
    struct asst_questions qs;
    struct text_pipeline *tp = NULL;
    struct asst_index *ix = NULL;
    int rc;

    *result = NULL;
    rc = asst_questions_load(questions_tsv, &qs, err);
    if (rc < 0)
        return rc;
    rc = asst_corpus_load_sp(fiches_dir, mask_titles, &corpus, err);
    if (rc < 0) {
        asst_questions_fini(&qs);
        return rc;
    }
    rc = text_pipeline_new(NULL, 0, &tp, err);
    if (rc < 0)
        goto out;
    double t0 = now_ms(), c0 = cpu_ms();
    rc = asst_index_build_xlat(tp, corpus.docs, corpus.n, corpus.xp.v,
                               corpus.xp.n, prm, &ix, err);
    if (rc < 0)
        goto out;
    double build_ms = now_ms() - t0, build_cpu_ms = cpu_ms() - c0;
    rc = asst_eval_index(ix, &qs, NULL, result, err);
    if (rc < 0)
        goto out;
    if (json_object_set_new(*result, "docs",
                            json_integer((json_int_t)asst_index_ndocs(ix))) <
            0 ||
        json_object_set_new(*result, "terms",
                            json_integer((json_int_t)asst_index_nterms(ix))) <
            0 ||
        json_object_set_new(*result, "build_ms", json_real(build_ms)) < 0 ||
        json_object_set_new(*result, "build_cpu_ms", json_real(build_cpu_ms)) <
            0 ||
        json_object_set_new(
            *result, "index_mb",
            json_real(asst_index_bytes(ix) / (1024.0 * 1024.0))) < 0 ||
        json_object_set_new(*result, "mask_titles", json_boolean(mask_titles)) <
            0) {
        json_decref(*result);
        *result = NULL;
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "eval: json");
    }
out:
    asst_index_free(ix);
    text_pipeline_free(tp);
    asst_corpus_fini(&corpus);
    asst_questions_fini(&qs);
    return rc;
}

int
asst_eval_run(const char *fiches_dir, const char *questions_tsv,
              bool mask_titles, json_t **result, struct gu_err *err)
{
    return asst_eval_run_params(fiches_dir, questions_tsv, mask_titles, NULL,
                                result, err);
}
