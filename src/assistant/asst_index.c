/*
 * asst_index.c - BM25F posting lists and trigram vectors in flat arrays.
 *
 * Layout (all CSR: an offsets array and a values array):
 *   term id -> postings (doc ids ascending, BM25F pseudo frequencies)
 *   doc id  -> trigram vector (trigram ids ascending, L2-normalised)
 * Term and trigram ids come from text_map dictionaries.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assistant/asst_index.h"
#include "assistant/asst_xlat.h"

/* A (term, field) occurrence while a document is being analysed. */
struct occ {
    uint32_t term;
    uint16_t field;
    uint16_t lead; /* in the description or the body's first words */
};

/* Tokens at the start of the body that count as its lead. */
#define LEAD_TOKENS 30
/* Bit of a posting's field mask: the term is in the lead. */
#define MASK_LEAD (1u << ASST_NFIELDS)

/* One posting before the build knows average lengths. */
struct rawpost {
    uint32_t term;
    uint32_t doc;
    uint16_t tf[ASST_NFIELDS];
    uint8_t mask; /* fields holding the term (bit per field), MASK_LEAD */
};

/*
 * Words that frame a question rather than name its topic (« quelles sont
 * les règles », « que faire », « quelles conséquences »): they keep a
 * reduced query weight, `soft`, so the topic words lead the ranking.
 * Folded forms, matched on their stems. Written from French question
 * patterns, not from the evaluation's misses.
 */
static const char *const soft_words[] = {
    "faire",     "regle",    "consequence", "demarche", "difference",
    "different", "possible", "obligatoire", "toujours", "encore",
    "existe",    "savoir",   "condition",   "modalite", "quoi",
    "devenir",   "passe",
};

struct asst_index {
    const struct text_pipeline *tp;
    struct text_map soft; /* stems of soft_words */
    struct asst_params prm;
    uint32_t ndocs;
    char **ids;
    struct text_map terms;
    uint8_t *term_soft;   /* per term: its stem is in `soft` */
    float *idf;           /* per term */
    uint32_t *post_start; /* nterms + 1 */
    uint32_t *post_doc;
    float *post_tf;     /* BM25F pseudo frequency */
    uint8_t *post_mask; /* fields holding the term, MASK_LEAD */
    struct text_vocab *vocab;
    /* Trigram vectors of the short fields. */
    struct text_map tri;
    float *tri_idf;
    uint32_t *vec_start; /* ndocs + 1 */
    uint32_t *vec_tri;
    float *vec_w;
    /* Translation model, empty without training pairs. */
    struct asst_xlat xl;
    /* With xl only: each document's distinct terms, sorted (CSR, a
     * forward copy of the postings), and the postings' count. */
    uint32_t *fwd_start; /* ndocs + 1 */
    uint32_t *fwd_term;
    uint8_t *fwd_mask; /* the posting's field mask, beside fwd_term */
    double npost;
};

void
asst_params_default(struct asst_params *p)
{
    memset(p, 0, sizeof(*p));
    p->k1 = 1.6f;
    p->weight[ASST_FIELD_TITLE] = 4.0f;
    p->weight[ASST_FIELD_ALT] = 3.0f;
    p->weight[ASST_FIELD_DESC] = 2.0f;
    p->weight[ASST_FIELD_BODY] = 1.0f;
    p->weight[ASST_FIELD_CONTEXT] = 0.5f;
    p->b[ASST_FIELD_TITLE] = 0.5f;
    p->b[ASST_FIELD_ALT] = 0.5f;
    p->b[ASST_FIELD_DESC] = 0.5f;
    p->b[ASST_FIELD_BODY] = 0.75f;
    p->b[ASST_FIELD_CONTEXT] = 0.5f;
    p->concept_weight = 0.7f;
    p->soft = 0.3f;
    p->ngram = 0.8f;
    p->rerank = 50;
    p->pool = 30;
    p->cov[ASST_FIELD_DESC] = 0.0f;
    p->cov[ASST_FIELD_BODY] = 0.0f;
    p->cov[ASST_FIELD_CONTEXT] = 0.4f;
    p->cov_lead = 0.2f;
    p->cov_any = 0.0f;
    p->xlat = 0.15f;
    p->xlat_mix = 0.5f;
    p->xlat_k = 20;
    p->xlat_iters = 8;
    p->xlat_pairs = ASST_XLAT_SECTIONS;
}

/* ------------------------------------------------------------------ */
/* Small growable arrays for the build                                */
/* ------------------------------------------------------------------ */

struct vec {
    void *p;
    size_t n, cap, size;
};

static void *
vec_push(struct vec *v)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 1024;
        void *np = gu_realloc(v->p, ncap * v->size);
        if (!np)
            return NULL;
        v->p = np;
        v->cap = ncap;
    }
    return (char *)v->p + v->size * v->n++;
}

static int
cmp_occ(const void *a, const void *b)
{
    const struct occ *x = a, *y = b;

    if (x->term != y->term)
        return x->term < y->term ? -1 : 1;
    return x->field < y->field ? -1 : x->field > y->field;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------ */
/* Character trigrams                                                 */
/* ------------------------------------------------------------------ */

/*
 * Trigram keys of the kept words of an analysis, each word padded with
 * spaces (" carte " -> " ca", "car", "art", "rte", "te "), so that a
 * query word and a document word that share a root still overlap when
 * stems or spellings differ. Concepts and numbers are skipped.
 */
static size_t
term_trigrams(const struct text_tokens *tk, char (*out)[3], size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < tk->n; i++) {
        const struct text_term *t = &tk->v[i];
        if (t->flags & (TEXT_TERM_CONCEPT | TEXT_TERM_NUMBER | TEXT_TERM_DATE))
            continue;
        size_t n = strlen(t->word);
        char buf[TEXT_WORD_MAX + 3];
        if (n > TEXT_WORD_MAX)
            n = TEXT_WORD_MAX;
        buf[0] = ' ';
        memcpy(buf + 1, t->word, n);
        buf[n + 1] = ' ';
        for (size_t j = 0; j + 3 <= n + 2 && k < max; j++)
            memcpy(out[k++], buf + j, 3);
    }
    return k;
}

/* ------------------------------------------------------------------ */
/* Build                                                              */
/* ------------------------------------------------------------------ */

struct build {
    struct asst_index *ix;
    struct vec occ;                /* struct occ, one document at a time */
    struct vec posts;              /* struct rawpost */
    struct vec tris;               /* uint32_t trigram ids, one document */
    struct vec dvec_tri, dvec_cnt; /* per document trigram counts */
    uint32_t *tri_df;
    size_t tri_df_cap;
    uint32_t *flen; /* ndocs * NFIELDS */
    double lensum[ASST_NFIELDS];
};

static int
add_doc(struct build *b, const struct asst_doc *d, uint32_t doc)
{
    struct asst_index *ix = b->ix;
    struct gu_arena *a = gu_arena_new(64 * 1024);
    int rc = GU_ENOMEM;
    char(*tg)[3] = NULL;
    size_t ntg = 0, tgcap = 0;

    if (!a)
        return GU_ENOMEM;
    b->occ.n = 0;
    for (int f = 0; f < ASST_NFIELDS; f++) {
        struct text_tokens tk;
        if (!d->text[f] || d->len[f] == 0)
            continue;
        rc = text_analyze(ix->tp, NULL, TEXT_MODE_INDEX, a, d->text[f],
                          d->len[f], &tk);
        if (rc < 0)
            goto out;
        rc = GU_ENOMEM;
        uint32_t len = 0;
        for (size_t i = 0; i < tk.n; i++) {
            const struct text_term *t = &tk.v[i];
            int32_t id =
                text_map_intern(&ix->terms, t->stem, strlen(t->stem), NULL);
            if (id < 0)
                goto out;
            struct occ *o = vec_push(&b->occ);
            if (!o)
                goto out;
            o->term = (uint32_t)id;
            o->field = (uint16_t)f;
            o->lead = f == ASST_FIELD_DESC ||
                      (f == ASST_FIELD_BODY && i < LEAD_TOKENS);
            if (t->flags & TEXT_TERM_CONCEPT)
                continue;
            len++;
            if (!(t->flags &
                  (TEXT_TERM_NUMBER | TEXT_TERM_DATE | TEXT_TERM_ALNUM))) {
                if (text_vocab_add(ix->vocab, t->word, strlen(t->word), false,
                                   1) < 0 ||
                    text_vocab_add(ix->vocab, t->stem, strlen(t->stem), true,
                                   0) < 0)
                    goto out;
            }
        }
        b->flen[(size_t)doc * ASST_NFIELDS + f] = len;
        b->lensum[f] += len;
        /* Short fields feed the trigram vector. */
        if (f == ASST_FIELD_TITLE || f == ASST_FIELD_ALT ||
            f == ASST_FIELD_DESC) {
            size_t want = ntg + tk.n * (TEXT_WORD_MAX + 2);
            if (want > tgcap) {
                char(*ng)[3] = gu_arena_alloc(a, want * 3);
                if (!ng)
                    goto out;
                if (ntg)
                    memcpy(ng, tg, ntg * 3);
                tg = ng;
                tgcap = want;
            }
            ntg += term_trigrams(&tk, tg + ntg, tgcap - ntg);
        }
    }
    /* Postings: one per distinct term, tf per field. */
    if (b->occ.n)
        qsort(b->occ.p, b->occ.n, sizeof(struct occ), cmp_occ);
    const struct occ *oc = b->occ.p;
    for (size_t i = 0; i < b->occ.n;) {
        struct rawpost *p = vec_push(&b->posts);
        if (!p)
            goto out;
        memset(p, 0, sizeof(*p));
        p->term = oc[i].term;
        p->doc = doc;
        size_t j = i;
        for (; j < b->occ.n && oc[j].term == oc[i].term; j++) {
            if (p->tf[oc[j].field] < UINT16_MAX)
                p->tf[oc[j].field]++;
            p->mask |= (uint8_t)(1u << oc[j].field);
            if (oc[j].lead)
                p->mask |= MASK_LEAD;
        }
        i = j;
    }
    /* Trigram counts of this document, sorted by trigram id. */
    b->tris.n = 0;
    for (size_t i = 0; i < ntg; i++) {
        int32_t t = text_map_intern(&ix->tri, tg[i], 3, NULL);
        uint32_t *slot = vec_push(&b->tris);
        if (t < 0 || !slot)
            goto out;
        *slot = (uint32_t)t;
    }
    if (b->tris.n) /* no trigram yet: p may be NULL */
        qsort(b->tris.p, b->tris.n, sizeof(uint32_t), cmp_u32);
    const uint32_t *tv = b->tris.p;
    if (ix->tri.n > b->tri_df_cap) {
        size_t ncap = ix->tri.n * 2;
        uint32_t *nd = gu_realloc(b->tri_df, ncap * sizeof(*nd));
        if (!nd)
            goto out;
        memset(nd + b->tri_df_cap, 0, (ncap - b->tri_df_cap) * sizeof(*nd));
        b->tri_df = nd;
        b->tri_df_cap = ncap;
    }
    ix->vec_start[doc] = (uint32_t)b->dvec_tri.n;
    for (size_t i = 0; i < b->tris.n;) {
        size_t j = i;
        while (j < b->tris.n && tv[j] == tv[i])
            j++;
        uint32_t *t = vec_push(&b->dvec_tri);
        uint32_t *c = vec_push(&b->dvec_cnt);
        if (!t || !c)
            goto out;
        *t = tv[i];
        *c = (uint32_t)(j - i);
        b->tri_df[tv[i]]++;
        i = j;
    }
    rc = 0;
out:
    gu_arena_free(a);
    return rc;
}

/* Turn raw postings into CSR arrays with BM25F pseudo frequencies. */
static int
finish_postings(struct build *b)
{
    struct asst_index *ix = b->ix;
    const struct rawpost *rp = b->posts.p;
    size_t np = b->posts.n;
    uint32_t nt = ix->terms.n;
    double avg[ASST_NFIELDS];

    if (np >= INT32_MAX)
        return GU_ETOOBIG;
    for (int f = 0; f < ASST_NFIELDS; f++) {
        avg[f] = ix->ndocs ? b->lensum[f] / ix->ndocs : 0;
        if (avg[f] <= 0)
            avg[f] = 1;
    }
    ix->post_start = gu_calloc(nt + 1, sizeof(uint32_t));
    ix->post_doc = gu_malloc((np + 1) * sizeof(uint32_t));
    ix->post_tf = gu_malloc((np + 1) * sizeof(float));
    ix->idf = gu_malloc((nt + 1) * sizeof(float));
    ix->post_mask = gu_malloc(np + 1);
    if (!ix->post_start || !ix->post_doc || !ix->post_tf || !ix->idf ||
        !ix->post_mask)
        return GU_ENOMEM;
    for (size_t i = 0; i < np; i++)
        ix->post_start[rp[i].term + 1]++;
    for (uint32_t t = 0; t < nt; t++) {
        uint32_t df = ix->post_start[t + 1];
        ix->idf[t] = (float)log(1.0 + (ix->ndocs - df + 0.5) / (df + 0.5));
        ix->post_start[t + 1] += ix->post_start[t];
    }
    uint32_t *cur = gu_malloc((nt + 1) * sizeof(uint32_t));
    if (!cur)
        return GU_ENOMEM;
    memcpy(cur, ix->post_start, (nt + 1) * sizeof(uint32_t));
    /* Raw postings are in document order, so each list ends up sorted. */
    for (size_t i = 0; i < np; i++) {
        const struct rawpost *p = &rp[i];
        const uint32_t *fl = &b->flen[(size_t)p->doc * ASST_NFIELDS];
        double tf = 0;
        for (int f = 0; f < ASST_NFIELDS; f++) {
            if (!p->tf[f])
                continue;
            double norm = 1 - ix->prm.b[f] + ix->prm.b[f] * fl[f] / avg[f];
            tf += ix->prm.weight[f] * p->tf[f] / norm;
        }
        uint32_t at = cur[p->term]++;
        ix->post_doc[at] = p->doc;
        ix->post_tf[at] = (float)tf;
        ix->post_mask[at] = p->mask;
    }
    gu_free(cur);
    return 0;
}

/* Trigram counts -> TF-IDF weights, L2-normalised per document. */
static int
finish_vectors(struct build *b)
{
    struct asst_index *ix = b->ix;
    size_t nv = b->dvec_tri.n;

    ix->vec_start[ix->ndocs] = (uint32_t)nv;
    ix->tri_idf = gu_malloc((ix->tri.n + 1) * sizeof(float));
    ix->vec_tri = gu_malloc((nv + 1) * sizeof(uint32_t));
    ix->vec_w = gu_malloc((nv + 1) * sizeof(float));
    if (!ix->tri_idf || !ix->vec_tri || !ix->vec_w)
        return GU_ENOMEM;
    for (uint32_t t = 0; t < ix->tri.n; t++)
        ix->tri_idf[t] =
            (float)log((ix->ndocs + 1.0) / (b->tri_df[t] + 1.0)) + 1.0f;
    if (nv)
        memcpy(ix->vec_tri, b->dvec_tri.p, nv * sizeof(uint32_t));
    const uint32_t *cnt = b->dvec_cnt.p;
    for (uint32_t d = 0; d < ix->ndocs; d++) {
        double norm = 0;
        for (uint32_t i = ix->vec_start[d]; i < ix->vec_start[d + 1]; i++) {
            double w = (1 + log(cnt[i])) * ix->tri_idf[ix->vec_tri[i]];
            ix->vec_w[i] = (float)w;
            norm += w * w;
        }
        norm = norm > 0 ? 1 / sqrt(norm) : 0;
        for (uint32_t i = ix->vec_start[d]; i < ix->vec_start[d + 1]; i++)
            ix->vec_w[i] = (float)(ix->vec_w[i] * norm);
    }
    return 0;
}

/* Which terms are soft words' stems, so that a query need not look its
 * known terms up in `soft`. */
static int
finish_soft(struct asst_index *ix)
{
    ix->term_soft = gu_calloc((size_t)ix->terms.n + 1, 1);
    if (!ix->term_soft)
        return GU_ENOMEM;
    for (uint32_t i = 0; i < ix->soft.n; i++) {
        size_t n;
        const char *s = text_map_key(&ix->soft, i, &n);
        int32_t t = text_map_find(&ix->terms, s, n);
        if (t >= 0)
            ix->term_soft[t] = 1;
    }
    return 0;
}

int
asst_index_build(const struct text_pipeline *tp, const struct asst_doc *docs,
                 size_t n, const struct asst_params *prm,
                 struct asst_index **out, struct gu_err *err)
{
    return asst_index_build_xlat(tp, docs, n, NULL, 0, prm, out, err);
}

/* Learn the translation model from `pairs` over the index's terms, and
 * what its score needs: each document's distinct terms. */
static int
finish_xlat(struct asst_index *ix, const struct asst_xlat_pair *pairs,
            size_t npairs)
{
    int rc = asst_xlat_train(ix->tp, &ix->terms, pairs, npairs, ix->prm.xlat_k,
                             ix->prm.xlat_iters, 50, &ix->xl);
    if (rc < 0 || !ix->xl.start)
        return rc;
    uint32_t np = ix->post_start[ix->terms.n];
    ix->fwd_start = gu_calloc(ix->ndocs + 1, sizeof(uint32_t));
    ix->fwd_term = gu_malloc(((size_t)np + 1) * sizeof(uint32_t));
    ix->fwd_mask = gu_malloc((size_t)np + 1);
    uint32_t *cur = gu_malloc(((size_t)ix->ndocs + 1) * sizeof(uint32_t));
    if (!ix->fwd_start || !ix->fwd_term || !ix->fwd_mask || !cur) {
        gu_free(cur);
        return GU_ENOMEM;
    }
    for (uint32_t i = 0; i < np; i++)
        ix->fwd_start[ix->post_doc[i] + 1]++;
    for (uint32_t d = 0; d < ix->ndocs; d++)
        ix->fwd_start[d + 1] += ix->fwd_start[d];
    memcpy(cur, ix->fwd_start, ix->ndocs * sizeof(uint32_t));
    /* Terms in id order, so each document's list comes out sorted. */
    for (uint32_t t = 0; t < ix->terms.n; t++) {
        for (uint32_t i = ix->post_start[t]; i < ix->post_start[t + 1]; i++) {
            uint32_t at = cur[ix->post_doc[i]]++;
            ix->fwd_term[at] = t;
            ix->fwd_mask[at] = ix->post_mask[i];
        }
    }
    gu_free(cur);
    ix->npost = np;
    return 0;
}

int
asst_index_build_xlat(const struct text_pipeline *tp,
                      const struct asst_doc *docs, size_t n,
                      const struct asst_xlat_pair *pairs, size_t npairs,
                      const struct asst_params *prm, struct asst_index **out,
                      struct gu_err *err)
{
    struct build b;
    struct asst_index *ix;
    int rc = GU_ENOMEM;

    *out = NULL;
    memset(&b, 0, sizeof(b));
    if (n >= INT32_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL, NULL,
                          "index: %zu documents is too many", n);
    ix = gu_calloc(1, sizeof(*ix));
    if (!ix)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "index: no memory");
    b.ix = ix;
    ix->tp = tp;
    if (prm)
        ix->prm = *prm;
    else
        asst_params_default(&ix->prm);
    ix->ndocs = (uint32_t)n;
    text_map_init(&ix->terms);
    text_map_init(&ix->tri);
    text_map_init(&ix->soft);
    for (size_t i = 0; i < GU_ARRAY_LEN(soft_words); i++) {
        char sb[TEXT_WORD_MAX + 1];
        size_t sn =
            text_stem(soft_words[i], strlen(soft_words[i]), sb, sizeof(sb));
        if (text_map_intern(&ix->soft, sb, sn, NULL) < 0)
            goto out;
    }
    b.occ.size = sizeof(struct occ);
    b.posts.size = sizeof(struct rawpost);
    b.tris.size = sizeof(uint32_t);
    b.dvec_tri.size = sizeof(uint32_t);
    b.dvec_cnt.size = sizeof(uint32_t);
    ix->vocab = text_vocab_new();
    ix->ids = gu_calloc(n + 1, sizeof(char *));
    ix->vec_start = gu_calloc(n + 1, sizeof(uint32_t));
    b.flen = gu_calloc(n * ASST_NFIELDS + 1, sizeof(uint32_t));
    if (!ix->vocab || !ix->ids || !ix->vec_start || !b.flen)
        goto out;
    for (size_t i = 0; i < n; i++) {
        ix->ids[i] = gu_strdup(docs[i].id ? docs[i].id : "");
        if (!ix->ids[i])
            goto out;
        rc = add_doc(&b, &docs[i], (uint32_t)i);
        if (rc < 0)
            goto out;
    }
    rc = finish_postings(&b);
    if (rc == 0)
        rc = finish_vectors(&b);
    if (rc == 0)
        rc = finish_soft(ix);
    if (rc == 0)
        rc = text_vocab_seal(ix->vocab);
    if (rc == 0 && npairs > 0 && ix->prm.xlat > 0 && ix->prm.xlat_pairs)
        rc = finish_xlat(ix, pairs, npairs);
out:
    gu_free(b.occ.p);
    gu_free(b.posts.p);
    gu_free(b.tris.p);
    gu_free(b.dvec_tri.p);
    gu_free(b.dvec_cnt.p);
    gu_free(b.tri_df);
    gu_free(b.flen);
    if (rc < 0) {
        asst_index_free(ix);
        if (rc == GU_ETOOBIG)
            return gu_err_set(err, rc, NULL, NULL, "index: too many postings");
        return gu_err_set(err, rc, NULL, NULL, "index: no memory");
    }
    *out = ix;
    return 0;
}

void
asst_index_free(struct asst_index *ix)
{
    if (!ix)
        return;
    if (ix->ids) {
        for (uint32_t i = 0; i < ix->ndocs; i++)
            gu_free(ix->ids[i]);
    }
    gu_free(ix->ids);
    text_map_fini(&ix->terms);
    text_map_fini(&ix->tri);
    text_map_fini(&ix->soft);
    gu_free(ix->term_soft);
    gu_free(ix->idf);
    gu_free(ix->post_start);
    gu_free(ix->post_doc);
    gu_free(ix->post_tf);
    gu_free(ix->post_mask);
    gu_free(ix->tri_idf);
    gu_free(ix->vec_start);
    gu_free(ix->vec_tri);
    gu_free(ix->vec_w);
    text_vocab_free(ix->vocab);
    asst_xlat_fini(&ix->xl);
    gu_free(ix->fwd_start);
    gu_free(ix->fwd_term);
    gu_free(ix->fwd_mask);
    gu_free(ix);
}

size_t
asst_index_ndocs(const struct asst_index *ix)
{
    return ix->ndocs;
}

const char *
asst_index_doc_id(const struct asst_index *ix, uint32_t doc)
{
    return doc < ix->ndocs ? ix->ids[doc] : NULL;
}

size_t
asst_index_nterms(const struct asst_index *ix)
{
    return ix->terms.n;
}

const struct text_vocab *
asst_index_vocab(const struct asst_index *ix)
{
    return ix->vocab;
}

size_t
asst_index_bytes(const struct asst_index *ix)
{
    size_t np = ix->post_start[ix->terms.n];
    size_t nv = ix->vec_start[ix->ndocs];

    size_t nx = ix->xl.start ? ix->xl.start[ix->xl.nterms] : 0;

    if (ix->xl.start)
        nx = nx * (sizeof(uint32_t) + sizeof(float)) +
             (ix->xl.nterms + 1u + ix->ndocs + np) * sizeof(uint32_t) + np;
    return nx + np * (sizeof(uint32_t) + sizeof(float) + 1) +
           nv * (sizeof(uint32_t) + sizeof(float)) + ix->terms.pool_cap +
           ix->terms.cap * 12u + (ix->terms.mask + 1u) * 4u + ix->tri.pool_cap;
}

/* ------------------------------------------------------------------ */
/* Search                                                             */
/* ------------------------------------------------------------------ */

struct qterm {
    uint32_t term;
    float w;
};

/*
 * The query's short arrays are sorted by insertion (a few dozen items,
 * no call per comparison), longer ones by qsort as before. Insertion is
 * stable, as glibc's qsort (a merge sort) is, for the query terms, whose
 * duplicates' weights are summed in query order.
 */
#define SORT_SHORT 64

static int
cmp_qterm(const void *a, const void *b)
{
    const struct qterm *x = a, *y = b;
    return x->term < y->term ? -1 : x->term > y->term;
}

static void
sort_qterms(struct qterm *v, size_t n)
{
    if (n > SORT_SHORT) {
        qsort(v, n, sizeof(*v), cmp_qterm);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct qterm x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1].term > x.term; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static void
sort_u32(uint32_t *v, size_t n)
{
    if (n > SORT_SHORT) {
        qsort(v, n, sizeof(*v), cmp_u32);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint32_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* Is hit x ranked before hit y? Higher score first, ties by document
 * number: a total order, so any sort gives the same list. */
static bool
hit_before(const struct asst_hit *x, const struct asst_hit *y)
{
    if (x->score != y->score)
        return x->score > y->score;
    return x->doc < y->doc;
}

static int
cmp_hit(const void *a, const void *b)
{
    return hit_before(a, b) ? -1 : hit_before(b, a);
}

static void
sort_hits(struct asst_hit *h, size_t n)
{
    if (n > SORT_SHORT) {
        qsort(h, n, sizeof(*h), cmp_hit);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct asst_hit x = h[i];
        size_t j = i;
        for (; j > 0 && hit_before(&x, &h[j - 1]); j--)
            h[j] = h[j - 1];
        h[j] = x;
    }
}

/* Sift-down for a min-heap of hits keyed by bm25: the item goes down to
 * the smaller child while that child is smaller than it (the right one
 * when strictly smaller than the left), as by swaps, but moved once and
 * with the child chosen without a branch. */
static void
heap_down(struct asst_hit *h, size_t n, size_t i)
{
    struct asst_hit x = h[i];

    for (;;) {
        size_t l = 2 * i + 1, r = l + 1;
        if (l >= n)
            break;
        size_t c = r < n && h[r].bm25 < h[l].bm25 ? r : l;
        if (!(h[c].bm25 < x.bm25))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

/* The query's trigram vector by trigram id: w[id] its weight, 0 for
 * the trigrams it does not hold (query weights are positive). */
struct qvec {
    float *w;
};

/* Cosine of the query trigram vector (norm 1) with document `d`'s. The
 * products of the trigrams both hold are summed in trigram id order, as
 * a merge of the two sorted lists would: gathered first without a
 * branch per trigram, then summed. */
static float
cosine(const struct asst_index *ix, const struct qvec *qv, uint32_t d)
{
    float prod[64];
    size_t k = 0;
    double s = 0;

    for (uint32_t i = ix->vec_start[d]; i < ix->vec_start[d + 1]; i++) {
        float q = qv->w[ix->vec_tri[i]];
        prod[k] = ix->vec_w[i] * q;
        k += q != 0;
        if (k == GU_ARRAY_LEN(prod)) {
            for (size_t j = 0; j < k; j++)
                s += prod[j];
            k = 0;
        }
    }
    for (size_t j = 0; j < k; j++)
        s += prod[j];
    return (float)s;
}

/* The query's trigram vector, TF-IDF and normalised; unknown trigrams
 * count in the norm (they are evidence the documents lack). */
static size_t
query_vector(const struct asst_index *ix, struct gu_arena *a,
             const struct text_tokens *tk, struct qvec *qv)
{
    size_t cap = 0;

    for (size_t i = 0; i < tk->n; i++)
        cap += TEXT_WORD_MAX + 2;
    char(*tg)[3] = gu_arena_alloc(a, cap * 3 + 3);
    uint32_t *ids = gu_arena_alloc(a, (cap + 1) * sizeof(uint32_t));
    float *w = gu_arena_alloc(a, (cap + 1) * sizeof(float));
    if (!tg || !ids || !w)
        return 0;
    size_t k = term_trigrams(tk, tg, cap);
    size_t nk = 0, unknown = 0;
    for (size_t i = 0; i < k; i++) {
        int32_t t = text_map_find(&ix->tri, tg[i], 3);
        if (t < 0)
            unknown++;
        else
            ids[nk++] = (uint32_t)t;
    }
    sort_u32(ids, nk);
    size_t m = 0;
    double norm = 0;
    for (size_t i = 0; i < nk;) {
        size_t j = i;
        while (j < nk && ids[j] == ids[i])
            j++;
        double wt = (1 + log((double)(j - i))) * ix->tri_idf[ids[i]];
        ids[m] = ids[i];
        w[m++] = (float)wt;
        norm += wt * wt;
        i = j;
    }
    /* An unknown trigram weighs like the rarest known one. */
    double rare = log(ix->ndocs + 1.0) + 1.0;
    norm += unknown * rare * rare;
    norm = norm > 0 ? 1 / sqrt(norm) : 0;
    qv->w = gu_arena_zalloc(a, ((size_t)ix->tri.n + 1) * sizeof(float));
    if (!qv->w)
        return 0;
    for (size_t i = 0; i < m; i++)
        qv->w[ids[i]] = (float)(w[i] * norm);
    return m;
}

/* The field mask of term `t` in document `d` with bit 7 set, 0 when
 * the term is absent. Postings are sorted by doc. */
static unsigned
posting_mask(const struct asst_index *ix, uint32_t t, uint32_t d)
{
    uint32_t lo = ix->post_start[t], hi = ix->post_start[t + 1];

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix->post_doc[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ix->post_start[t + 1] && ix->post_doc[lo] == d)
        return 0x80u | ix->post_mask[lo];
    return 0;
}

/* Does term `t` occur in document `d`? */
static bool
has_posting(const struct asst_index *ix, uint32_t t, uint32_t d)
{
    return posting_mask(ix, t, d) != 0;
}

/* The share of the query's weight (query weight times idf) carried by
 * the terms that occur in document `d`; `unknown` is the weight of the
 * query words no fiche has. */
static float
coverage(const struct asst_index *ix, const struct qterm *qt, size_t nq,
         double unknown, uint32_t d)
{
    double all = unknown, in = 0;

    for (size_t i = 0; i < nq; i++) {
        double w = qt[i].w * ix->idf[qt[i].term];
        all += w;
        if (has_posting(ix, qt[i].term, d))
            in += w;
    }
    return all > 0 ? (float)(in / all) : 0;
}

/*
 * Calibrated on the service-public dev questions (bench/assistant/
 * README.md, « Abstention »), with the translation model the engine
 * uses: the margin is what separates right from wrong first hits there
 * (ROC AUC 0.83 on the tune half). 0.021 is, on the tune half, the
 * threshold of highest abstention recall that keeps at most 15 % of the
 * questions abstained and a precision of at least 0.6 with one question
 * to spare on each (tune 11.6 % abstained, 63 % of them wrong; held-out
 * half 10.4 %, 54 %). Those questions are all answerable, so the
 * confidence threshold is a guard for questions off the knowledge base:
 * 0.30 is the highest value that changes nothing on the dev set and
 * abstains on under 5 % of the demo commune's (answerable) questions.
 */
void
asst_abstain_default(struct asst_abstain *out)
{
    out->min_score = 0.30f;
    out->min_margin = 0.021f;
}

bool
asst_result_abstains(const struct asst_result *r, const struct asst_abstain *ab)
{
    struct asst_abstain d;

    if (!ab) {
        asst_abstain_default(&d);
        ab = &d;
    }
    return r->n == 0 || r->confidence < ab->min_score ||
           r->margin < ab->min_margin;
}

/* What xlat_gain() needs of a query, prepared once per query. Every term
 * that is a query term or translates one is "marked": a bit in `bits`
 * and, at slot[term] (only marked terms' slots are written), its entry:
 * which query term it is (-1 if none) and the query terms it translates,
 * sj[s0..s1) with t(a | b) in sp[]. */
struct xent {
    int32_t qj;
    uint32_t s0, s1;
};

struct xquery {
    uint64_t *bits;
    uint32_t *slot;
    struct xent *ent;
    uint32_t *sj;
    float *sp;
    double *bg;  /* per query term: its background share c_a */
    double *lbg; /* log(c_a) */
    double *tr;  /* per query term, scratch */
    bool *ml;
    unsigned *mk; /* per query term: 0x80 | field mask in the document, or 0 */
};

/* Mark term `t` (once) and return its entry. */
static struct xent *
xquery_mark(struct xquery *xq, uint32_t t, size_t *nent)
{
    if (!(xq->bits[t / 64] & (1ull << (t % 64)))) {
        xq->bits[t / 64] |= 1ull << (t % 64);
        xq->slot[t] = (uint32_t)*nent;
        xq->ent[(*nent)++] = (struct xent){-1, 0, 0};
    }
    return &xq->ent[xq->slot[t]];
}

static int
xquery_make(const struct asst_index *ix, struct gu_arena *a,
            const struct qterm *qt, size_t nq, struct xquery *xq)
{
    const struct asst_xlat *x = &ix->xl;
    size_t words = ix->terms.n / 64 + 1, ns = 0, nent = 0;

    for (size_t j = 0; j < nq; j++)
        ns += x->start[qt[j].term + 1] - x->start[qt[j].term];
    xq->bits = gu_arena_zalloc(a, words * sizeof(uint64_t));
    xq->slot = gu_arena_alloc(a, ((size_t)ix->terms.n + 1) * sizeof(uint32_t));
    xq->ent = gu_arena_alloc(a, (nq + ns + 1) * sizeof(*xq->ent));
    xq->sj = gu_arena_alloc(a, (ns + 1) * sizeof(uint32_t));
    xq->sp = gu_arena_alloc(a, (ns + 1) * sizeof(float));
    xq->bg = gu_arena_alloc(a, (nq + 1) * sizeof(double));
    xq->lbg = gu_arena_alloc(a, (nq + 1) * sizeof(double));
    xq->tr = gu_arena_alloc(a, (nq + 1) * sizeof(double));
    xq->ml = gu_arena_alloc(a, nq + 1);
    xq->mk = gu_arena_alloc(a, (nq + 1) * sizeof(unsigned));
    if (!xq->bits || !xq->slot || !xq->ent || !xq->sj || !xq->sp ||
        !xq->bg || !xq->lbg || !xq->tr || !xq->ml || !xq->mk)
        return GU_ENOMEM;
    /* Entries, then each one's count of sources, then their ranges. */
    for (size_t j = 0; j < nq; j++) {
        uint32_t t = qt[j].term;
        xquery_mark(xq, t, &nent)->qj = (int32_t)j;
        xq->bg[j] =
            (ix->post_start[t + 1] - ix->post_start[t] + 1.0) / ix->npost;
        xq->lbg[j] = log(xq->bg[j]);
    }
    for (size_t j = 0; j < nq; j++) {
        uint32_t t = qt[j].term;
        for (uint32_t e = x->start[t]; e < x->start[t + 1]; e++)
            xquery_mark(xq, x->src[e], &nent)->s1++;
    }
    for (size_t i = 0, at = 0; i < nent; i++) {
        size_t c = xq->ent[i].s1;
        xq->ent[i].s0 = xq->ent[i].s1 = (uint32_t)at;
        at += c;
    }
    for (size_t j = 0; j < nq; j++) {
        uint32_t t = qt[j].term;
        for (uint32_t e = x->start[t]; e < x->start[t + 1]; e++) {
            struct xent *en = &xq->ent[xq->slot[x->src[e]]];
            xq->sj[en->s1] = (uint32_t)j;
            xq->sp[en->s1++] = x->p[e];
        }
    }
    return 0;
}

/* The translation bonus of document `d` before the division by the
 * query's weight (see second_stage()): one pass over the document's
 * distinct terms, a bit test each. Also fills xq->mk, the field mask of
 * each query term in `d` (what posting_mask() would say). */
static double
xlat_gain(const struct asst_index *ix, const struct xquery *xq,
          const struct qterm *qt, size_t nq, uint32_t d)
{
    uint32_t f0 = ix->fwd_start[d];
    const uint32_t *dt = ix->fwd_term + f0;
    uint32_t dn = ix->fwd_start[d + 1] - f0;
    double mix = ix->prm.xlat_mix, len = dn, gain = 0;

    for (size_t j = 0; j < nq; j++) {
        xq->tr[j] = 0;
        xq->ml[j] = false;
        xq->mk[j] = 0;
    }
    if (dn == 0)
        return 0;
    /* Few terms are marked: blocks of 8 are tested without a branch per
     * term, and the terms of a block with a marked one in order. */
    for (uint32_t i0 = 0; i0 < dn; i0 += 8) {
        uint32_t e = dn - i0 > 8 ? i0 + 8 : dn;
        uint64_t any = 0;
        for (uint32_t i = i0; i < e; i++)
            any |= xq->bits[dt[i] / 64] >> (dt[i] % 64);
        if (!(any & 1))
            continue;
        for (uint32_t i = i0; i < e; i++) {
            uint32_t b = dt[i];
            if (!(xq->bits[b / 64] & (1ull << (b % 64))))
                continue;
            const struct xent *en = &xq->ent[xq->slot[b]];
            if (en->qj >= 0) { /* a query term itself */
                xq->ml[en->qj] = true;
                xq->mk[en->qj] = 0x80u | ix->fwd_mask[f0 + i];
            }
            /* The query terms b translates, b by b in term order. */
            for (uint32_t s = en->s0; s < en->s1; s++)
                xq->tr[xq->sj[s]] += xq->sp[s];
        }
    }
    for (size_t j = 0; j < nq; j++) {
        uint32_t a = qt[j].term;
        if (xq->tr[j] <= 0 && !xq->ml[j])
            continue; /* log(bg) - log(bg) */
        double ml = xq->ml[j] ? 1 / len : 0;
        double bg = xq->bg[j];
        gain += qt[j].w * ix->idf[a] *
                (log(mix * xq->tr[j] / len + (1 - mix) * ml + bg) -
                 (xq->ml[j] ? log(ml + bg) : xq->lbg[j]));
    }
    return gain;
}

/*
 * Second stage over the first `pool` hits of the fused ranking: each gets
 * a linear bonus from what the posting lists already hold (weights in
 * asst_params, fitted on the tune half of the dev questions, see
 * bench/assistant/README.md): the idf-weighted share of the query's terms
 * that each field holds, that the lead (the description and the body's
 * first words) holds and that the whole fiche holds. Presence, not frequency:
 * BM25F saturates and length-normalises a field's words together with the
 * others', while a question word found in the fiche's folders (the context
 * field) or in its first sentence says what the fiche is about. Then the pool
 * is sorted again; hits past it keep their order behind it.
 *
 * With a translation model, one more bonus (Berger & Lafferty's
 * translation language model, over word presence): per query term a,
 * log(mix * sum_b t(a|b) [b in d] / |d| + (1 - mix) * [a in d] / |d| + c_a)
 * minus the same without translation, c_a = (df_a + 1) / postings the
 * collection's share, weighted like the coverages and divided by the
 * query's weight: what the fiche's other words add to its explaining the
 * question, as answers explain the questions they were paired with.
 */
static int
second_stage(const struct asst_index *ix, struct gu_arena *a,
             const struct qterm *qt, size_t nq, double unknown,
             struct asst_hit *h, size_t nh)
{
    const struct asst_params *p = &ix->prm;
    size_t m = nh < p->pool ? nh : p->pool;
    double all = unknown;
    struct xquery xq = {0};
    bool xlat = ix->xl.start && p->xlat > 0;

    for (size_t j = 0; j < nq; j++)
        all += qt[j].w * ix->idf[qt[j].term];
    if (all <= 0)
        return 0;
    if (xlat && xquery_make(ix, a, qt, nq, &xq) < 0)
        return GU_ENOMEM;
    for (size_t i = 0; i < m; i++) {
        double cov[ASST_NFIELDS] = {0}, lead = 0, any = 0, gain = 0;
        /* With the model, its pass over the document's terms also gives
         * the query terms' field masks (xq.mk). */
        if (xlat)
            gain = xlat_gain(ix, &xq, qt, nq, h[i].doc);
        for (size_t j = 0; j < nq; j++) {
            unsigned mk = xlat ? xq.mk[j]
                               : posting_mask(ix, qt[j].term, h[i].doc);
            if (!mk)
                continue;
            double w = qt[j].w * ix->idf[qt[j].term];
            any += w;
            for (int f = 0; f < ASST_NFIELDS; f++) {
                if (mk & (1u << f))
                    cov[f] += w;
            }
            if (mk & MASK_LEAD)
                lead += w;
        }
        double bonus = p->cov_lead * lead / all + p->cov_any * any / all;
        if (xlat)
            bonus += p->xlat * gain / all;
        for (int f = 0; f < ASST_NFIELDS; f++)
            bonus += p->cov[f] * cov[f] / all;
        h[i].score += (float)bonus;
    }
    sort_hits(h, m);
    return 0;
}

int
asst_index_search(const struct asst_index *ix, struct gu_arena *a,
                  const char *q, size_t qn, size_t k, struct asst_result *out)
{
    struct text_tokens tk;
    int rc;

    memset(out, 0, sizeof(*out));
    if (k == 0 || ix->ndocs == 0)
        return 0;
    rc = text_analyze(ix->tp, ix->vocab, TEXT_MODE_QUERY, a, q, qn, &tk);
    if (rc < 0)
        return rc;
    /* Distinct known terms with their query weights. */
    struct qterm *qt = gu_arena_alloc(a, (tk.n + 1) * sizeof(*qt));
    if (!qt)
        return GU_ENOMEM;
    size_t nq = 0;
    double unknown = 0;
    for (size_t i = 0; i < tk.n; i++) {
        const char *s = tk.v[i].stem;
        int32_t id = text_map_find(&ix->terms, s, strlen(s));
        if (id < 0) {
            /* A word no fiche has weighs like the rarest possible term
             * in the confidence: the question may be off the knowledge
             * base. Numbers and dates are details, not topics. */
            if (!(tk.v[i].flags &
                  (TEXT_TERM_CONCEPT | TEXT_TERM_NUMBER | TEXT_TERM_DATE)))
                unknown +=
                    (text_map_find(&ix->soft, s, strlen(s)) >= 0 ? ix->prm.soft
                                                                 : 1.0) *
                    log(1.0 + (ix->ndocs + 0.5) / 0.5);
            continue;
        }
        qt[nq].term = (uint32_t)id;
        qt[nq].w =
            tk.v[i].flags & TEXT_TERM_CONCEPT ? ix->prm.concept_weight : 1.0f;
        if (ix->term_soft[id])
            qt[nq].w *= ix->prm.soft;
        nq++;
    }
    sort_qterms(qt, nq);
    size_t m = 0;
    for (size_t i = 0; i < nq;) {
        size_t j = i;
        float w = 0;
        for (; j < nq && qt[j].term == qt[i].term; j++)
            w += qt[j].w;
        qt[m].term = qt[i].term;
        qt[m++].w = w;
        i = j;
    }
    nq = m;
    out->nterms = nq;
    if (nq == 0)
        return 0;
    float *score = gu_arena_zalloc(a, ix->ndocs * sizeof(float));
    if (!score)
        return GU_ENOMEM;
    const float k1 = ix->prm.k1;
    for (size_t i = 0; i < nq; i++) {
        uint32_t t = qt[i].term;
        float wi = qt[i].w * ix->idf[t] * (k1 + 1);
        for (uint32_t p = ix->post_start[t]; p < ix->post_start[t + 1]; p++) {
            float tf = ix->post_tf[p];
            score[ix->post_doc[p]] += wi * tf / (k1 + tf);
        }
    }
    /* The best `depth` by BM25F, kept in a min-heap. */
    size_t depth = ix->prm.rerank > k ? ix->prm.rerank : k;
    struct asst_hit *h = gu_arena_alloc(a, depth * sizeof(*h));
    if (!h)
        return GU_ENOMEM;
    size_t nh = 0;
    uint32_t d = 0;
    for (; d < ix->ndocs && nh < depth; d++) {
        if (score[d] <= 0)
            continue;
        h[nh] = (struct asst_hit){d, score[d], score[d], 0};
        if (++nh == depth) {
            for (size_t i = depth / 2 + 1; i-- > 0;)
                heap_down(h, nh, i);
        }
    }
    /* Heap full: a document enters when it beats the heap's least
     * (positive) score. Most do not: blocks of 16 are tested without a
     * branch per document, documents in the same order as one by one. */
    while (d < ix->ndocs) {
        uint32_t e = ix->ndocs - d > 16 ? d + 16 : ix->ndocs;
        float bar = h[0].bm25;
        int beats = 0;
        for (uint32_t i = d; i < e; i++)
            beats |= score[i] > bar;
        if (!beats) {
            d = e;
            continue;
        }
        for (; d < e; d++) {
            if (score[d] > h[0].bm25) {
                h[0] = (struct asst_hit){d, score[d], score[d], 0};
                heap_down(h, nh, 0);
            }
        }
    }
    if (nh == 0)
        return 0;
    float top = 0;
    for (size_t i = 0; i < nh; i++)
        top = h[i].bm25 > top ? h[i].bm25 : top;
    if (ix->prm.ngram > 0) {
        struct qvec qv;
        size_t vn = query_vector(ix, a, &tk, &qv);
        for (size_t i = 0; i < nh; i++) {
            h[i].ngram = vn ? cosine(ix, &qv, h[i].doc) : 0;
            h[i].score = h[i].bm25 / top + ix->prm.ngram * h[i].ngram;
        }
    } else {
        for (size_t i = 0; i < nh; i++)
            h[i].score = h[i].bm25 / top;
    }
    sort_hits(h, nh);
    if (ix->prm.pool > 0) {
        rc = second_stage(ix, a, qt, nq, unknown, h, nh);
        if (rc < 0)
            return rc;
    }
    out->confidence = coverage(ix, qt, nq, unknown, h[0].doc);
    out->hits = h;
    out->n = nh < k ? nh : k;
    if (nh == 1)
        out->margin = 1;
    else if (h[0].score > 0)
        out->margin = (h[0].score - h[1].score) / h[0].score;
    return 0;
}
