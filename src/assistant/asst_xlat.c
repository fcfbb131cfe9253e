/*
 * asst_xlat.c - IBM model 1 between question words and answer words.
 *
 * EM without a hash table: the (a, b) pairs that co-occur are numbered
 * question term by question term (a dense scratch array over the index
 * terms gives b's number within a), so the pairs of one `a` are
 * contiguous, each training pair's links are a flat array of pair
 * numbers, and an iteration is two linear passes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assistant/asst_xlat.h"

/* A growable array of 32-bit values (build time only). */
struct u32v {
    uint32_t *v;
    size_t n, cap;
};

static int
u32_push(struct u32v *a, uint32_t x)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 4096;
        uint32_t *nv = gu_realloc(a->v, nc * sizeof(*nv));
        if (!nv)
            return GU_ENOMEM;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = x;
    return 0;
}

#define FNV64_BASIS 14695981039346656037ull

static uint64_t
fnv64(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* A pair's index with the hash of its texts, for finding duplicates. */
struct keyed {
    uint64_t h;
    uint32_t i;
};

static int
cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Training pairs after analysis: question terms (distinct) and answer
 * terms (distinct, with counts), as offsets into flat arrays. */
struct corpus {
    struct u32v qoff, qterm; /* qoff: npairs + 1 */
    struct u32v doff, dterm, dcnt;
    float *w;
    size_t np;
};

static void
corpus_fini(struct corpus *c)
{
    gu_free(c->qoff.v);
    gu_free(c->qterm.v);
    gu_free(c->doff.v);
    gu_free(c->dterm.v);
    gu_free(c->dcnt.v);
    gu_free(c->w);
}

/* Known term ids of `s`, sorted; concepts left out when `words_only`. */
static int
analyse(const struct text_pipeline *tp, const struct text_map *terms,
        struct gu_arena *a, const char *s, size_t n, bool words_only,
        uint32_t **out, size_t *nout)
{
    struct text_tokens tk;
    int rc = text_analyze(tp, NULL, TEXT_MODE_INDEX, a, s, n, &tk);

    if (rc < 0)
        return rc;
    uint32_t *v = gu_arena_alloc(a, (tk.n + 1) * sizeof(uint32_t));
    if (!v)
        return GU_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < tk.n; i++) {
        if (words_only && (tk.v[i].flags & TEXT_TERM_CONCEPT))
            continue;
        int32_t id = text_map_find(terms, tk.v[i].stem, strlen(tk.v[i].stem));
        if (id >= 0)
            v[m++] = (uint32_t)id;
    }
    qsort(v, m, sizeof(*v), cmp_u32);
    *out = v;
    *nout = m;
    return 0;
}

/* Dedupe the pairs, weigh them by their question text, analyse them. */
static int
load_pairs(const struct text_pipeline *tp, const struct text_map *terms,
           const struct asst_xlat_pair *pairs, size_t n, uint32_t max_same,
           struct corpus *c)
{
    struct text_map qtext;
    uint32_t *qid = NULL, *qcount = NULL;
    struct gu_arena *a = NULL;
    int rc = GU_ENOMEM;

    text_map_init(&qtext);
    qid = gu_malloc((n + 1) * sizeof(uint32_t));
    qcount = gu_calloc(n + 1, sizeof(uint32_t));
    c->w = gu_malloc((n + 1) * sizeof(float));
    if (!qid || !qcount || !c->w)
        goto out;
    /* Identical (question, answer) pairs count once (UINT32_MAX): the
     * later ones of a run of equal 64-bit hashes of both texts. */
    struct keyed *ks = gu_malloc((n + 1) * sizeof(*ks));
    if (!ks)
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = fnv64(FNV64_BASIS, pairs[i].q, pairs[i].qn);
        h = fnv64(h ^ 0x1f, pairs[i].a, pairs[i].an);
        ks[i] = (struct keyed){h, (uint32_t)i};
    }
    qsort(ks, n, sizeof(*ks), cmp_keyed);
    for (size_t i = 0; i < n; i++)
        qid[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && ks[i].h == ks[i - 1].h)
            continue;
        const struct asst_xlat_pair *p = &pairs[ks[i].i];
        if (p->qn == 0 || p->an == 0)
            continue;
        int32_t q = text_map_intern(&qtext, p->q, p->qn, NULL);
        if (q < 0) {
            gu_free(ks);
            goto out;
        }
        qid[ks[i].i] = (uint32_t)q;
        qcount[q]++;
    }
    gu_free(ks);
    if (u32_push(&c->qoff, 0) < 0 || u32_push(&c->doff, 0) < 0)
        goto out;
    for (size_t i = 0, used = 0; i < n; i++) {
        if (qid[i] == UINT32_MAX || qcount[qid[i]] > max_same)
            continue;
        uint32_t *qv, *dv;
        size_t qn, dn;
        /* One arena for many pairs: malloc/free per pair cost more than
         * the analysis of short sections. */
        if (!a || ++used % 256 == 0) {
            gu_arena_free(a);
            a = gu_arena_new(1024 * 1024);
            if (!a)
                goto out;
        }
        size_t an = pairs[i].an;
        if (an > ASST_XLAT_ANSWER_BYTES) {
            an = ASST_XLAT_ANSWER_BYTES;
            while (an > 0 && (pairs[i].a[an] & 0xC0) == 0x80)
                an--; /* not inside a UTF-8 sequence */
        }
        rc = analyse(tp, terms, a, pairs[i].q, pairs[i].qn, true, &qv, &qn);
        if (rc == 0)
            rc = analyse(tp, terms, a, pairs[i].a, an, false, &dv, &dn);
        if (rc < 0)
            goto out;
        rc = GU_ENOMEM;
        size_t q0 = c->qterm.n, d0 = c->dterm.n;
        for (size_t j = 0; j < qn; j++) {
            if ((j == 0 || qv[j] != qv[j - 1]) && u32_push(&c->qterm, qv[j]))
                goto out;
        }
        for (size_t j = 0; j < dn;) {
            size_t e = j;
            while (e < dn && dv[e] == dv[j])
                e++;
            if (u32_push(&c->dterm, dv[j]) < 0 ||
                u32_push(&c->dcnt, (uint32_t)(e - j)) < 0)
                goto out;
            j = e;
        }
        if (c->qterm.n == q0 || c->dterm.n == d0) {
            c->qterm.n = q0; /* nothing to learn from */
            c->dterm.n = c->dcnt.n = d0;
        } else {
            if (u32_push(&c->qoff, (uint32_t)c->qterm.n) < 0 ||
                u32_push(&c->doff, (uint32_t)c->dterm.n) < 0)
                goto out;
            c->w[c->np++] = 1.0f / (float)qcount[qid[i]];
        }
    }
    rc = 0;
out:
    gu_arena_free(a);
    text_map_fini(&qtext);
    gu_free(qid);
    gu_free(qcount);
    return rc;
}

/* The `k` largest t[lo..hi) with their sources, best first, into
 * osrc/op; returns how many (t = 0 left out). */
static uint32_t
top_k(const uint32_t *ksrc, const float *t, uint32_t lo, uint32_t hi,
      uint32_t k, uint32_t *osrc, float *op)
{
    uint32_t m = 0;

    for (uint32_t i = lo; i < hi; i++) {
        if (t[i] <= 0)
            continue;
        if (m == k && t[i] <= op[m - 1])
            continue;
        uint32_t j = m < k ? m++ : m - 1;
        while (j > 0 && op[j - 1] < t[i]) {
            op[j] = op[j - 1];
            osrc[j] = osrc[j - 1];
            j--;
        }
        op[j] = t[i];
        osrc[j] = ksrc[i];
    }
    return m;
}

int
asst_xlat_train(const struct text_pipeline *tp, const struct text_map *terms,
                const struct asst_xlat_pair *pairs, size_t n, uint32_t k,
                uint32_t iters, uint32_t max_same, struct asst_xlat *out)
{
    struct corpus c;
    uint32_t nt = terms->n;
    uint32_t *astart = NULL, *apair = NULL, *scratch = NULL, *kstart = NULL;
    uint32_t *link = NULL;
    struct u32v ksrc = {0};
    float *t = NULL, *cnt = NULL, *tot = NULL, *tnull = NULL, *cnull = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    if (n == 0 || nt == 0 || k == 0)
        return 0;
    rc = load_pairs(tp, terms, pairs, n, max_same, &c);
    if (rc < 0 || c.np == 0)
        goto out;
    rc = GU_ENOMEM;
    /* Question term -> the training pairs it occurs in. */
    astart = gu_calloc((size_t)nt + 1, sizeof(uint32_t));
    apair = gu_malloc((c.qterm.n + 1) * sizeof(uint32_t));
    scratch = gu_malloc(((size_t)nt + 1) * sizeof(uint32_t));
    kstart = gu_calloc((size_t)nt + 1, sizeof(uint32_t));
    if (!astart || !apair || !scratch || !kstart)
        goto out;
    size_t nlink = 0;
    for (size_t i = 0; i < c.qterm.n; i++)
        astart[c.qterm.v[i] + 1]++;
    for (uint32_t a = 0; a < nt; a++)
        astart[a + 1] += astart[a];
    {
        uint32_t *cur = gu_malloc(((size_t)nt + 1) * sizeof(uint32_t));
        if (!cur)
            goto out;
        memcpy(cur, astart, ((size_t)nt + 1) * sizeof(uint32_t));
        for (size_t p = 0; p < c.np; p++) {
            for (uint32_t j = c.qoff.v[p]; j < c.qoff.v[p + 1]; j++) {
                apair[cur[c.qterm.v[j]]++] = (uint32_t)p;
                nlink += c.doff.v[p + 1] - c.doff.v[p];
            }
        }
        gu_free(cur);
    }
    if (nlink >= UINT32_MAX) {
        rc = GU_ETOOBIG;
        goto out;
    }
    /* Number the co-occurring (a, b), a by a; each link is one. */
    link = gu_malloc((nlink + 1) * sizeof(uint32_t));
    if (!link)
        goto out;
    memset(scratch, 0xff, ((size_t)nt + 1) * sizeof(uint32_t));
    size_t l = 0;
    for (uint32_t a = 0; a < nt; a++) {
        kstart[a] = (uint32_t)ksrc.n;
        for (uint32_t i = astart[a]; i < astart[a + 1]; i++) {
            uint32_t p = apair[i];
            for (uint32_t j = c.doff.v[p]; j < c.doff.v[p + 1]; j++) {
                uint32_t b = c.dterm.v[j];
                if (scratch[b] == UINT32_MAX) {
                    scratch[b] = (uint32_t)ksrc.n;
                    if (u32_push(&ksrc, b) < 0)
                        goto out;
                }
                link[l++] = scratch[b];
            }
        }
        for (uint32_t i = kstart[a]; i < ksrc.n; i++)
            scratch[ksrc.v[i]] = UINT32_MAX;
    }
    kstart[nt] = (uint32_t)ksrc.n;
    size_t nk = ksrc.n;
    t = gu_malloc((nk + 1) * sizeof(float));
    cnt = gu_malloc((nk + 1) * sizeof(float));
    tot = gu_malloc(((size_t)nt + 1) * sizeof(float));
    tnull = gu_malloc(((size_t)nt + 1) * sizeof(float));
    cnull = gu_malloc(((size_t)nt + 1) * sizeof(float));
    if (!t || !cnt || !tot || !tnull || !cnull)
        goto out;
    for (size_t i = 0; i < nk; i++)
        t[i] = 1;
    for (uint32_t a = 0; a < nt; a++)
        tnull[a] = 1;
    for (uint32_t it = 0; it < iters; it++) {
        memset(cnt, 0, nk * sizeof(float));
        memset(cnull, 0, (size_t)nt * sizeof(float));
        l = 0;
        /* E step: each question word's unit of weight spread over the
         * answer's words (and the null word) in proportion to t. */
        for (uint32_t a = 0; a < nt; a++) {
            for (uint32_t i = astart[a]; i < astart[a + 1]; i++) {
                uint32_t p = apair[i];
                uint32_t d0 = c.doff.v[p], d1 = c.doff.v[p + 1];
                double z = tnull[a];
                for (uint32_t j = d0, x = 0; j < d1; j++, x++)
                    z += c.dcnt.v[j] * (double)t[link[l + x]];
                double f = c.w[p] / z;
                for (uint32_t j = d0; j < d1; j++, l++)
                    cnt[link[l]] += (float)(f * c.dcnt.v[j] * t[link[l]]);
                cnull[a] += (float)(f * tnull[a]);
            }
        }
        /* M step: t(a | b) = count(a, b) / count(b). */
        memset(tot, 0, (size_t)nt * sizeof(float));
        double tn = 0;
        for (size_t i = 0; i < nk; i++)
            tot[ksrc.v[i]] += cnt[i];
        for (uint32_t a = 0; a < nt; a++)
            tn += cnull[a];
        for (size_t i = 0; i < nk; i++)
            t[i] = tot[ksrc.v[i]] > 0 ? cnt[i] / tot[ksrc.v[i]] : 0;
        for (uint32_t a = 0; a < nt; a++)
            tnull[a] = tn > 0 ? (float)(cnull[a] / tn) : 0;
    }
    /* The best k sources of each question term. */
    out->start = gu_calloc((size_t)nt + 1, sizeof(uint32_t));
    out->src = gu_malloc((nk + 1) * sizeof(uint32_t));
    out->p = gu_malloc((nk + 1) * sizeof(float));
    if (!out->start || !out->src || !out->p)
        goto out;
    uint32_t m = 0;
    for (uint32_t a = 0; a < nt; a++) {
        out->start[a] = m;
        m += top_k(ksrc.v, t, kstart[a], kstart[a + 1], k, out->src + m,
                   out->p + m);
    }
    out->start[nt] = m;
    out->nterms = nt;
    /* Shrink to what is kept. */
    uint32_t *ns = gu_realloc(out->src, ((size_t)m + 1) * sizeof(uint32_t));
    float *np = gu_realloc(out->p, ((size_t)m + 1) * sizeof(float));
    if (ns)
        out->src = ns;
    if (np)
        out->p = np;
    rc = 0;
out:
    corpus_fini(&c);
    gu_free(astart);
    gu_free(apair);
    gu_free(scratch);
    gu_free(kstart);
    gu_free(link);
    gu_free(ksrc.v);
    gu_free(t);
    gu_free(cnt);
    gu_free(tot);
    gu_free(tnull);
    gu_free(cnull);
    if (rc < 0)
        asst_xlat_fini(out);
    return rc;
}

void
asst_xlat_fini(struct asst_xlat *x)
{
    if (!x)
        return;
    gu_free(x->start);
    gu_free(x->src);
    gu_free(x->p);
    memset(x, 0, sizeof(*x));
}

/* ------------------------------------------------------------------ */
/* Training pairs from fiches                                         */
/* ------------------------------------------------------------------ */

int
asst_xlat_pairs_init(struct asst_xlat_pairs *p)
{
    memset(p, 0, sizeof(*p));
    p->a = gu_arena_new(1 << 20);
    return p->a ? 0 : GU_ENOMEM;
}

void
asst_xlat_pairs_fini(struct asst_xlat_pairs *p)
{
    if (!p)
        return;
    gu_arena_free(p->a);
    gu_free(p->v);
    memset(p, 0, sizeof(*p));
}

/* Append (q[0..qn), the answer in `ans`, cut to ASST_XLAT_ANSWER_BYTES)
 * unless one of them is too short to teach anything. */
static int
pair_push(struct asst_xlat_pairs *p, const char *q, size_t qn,
          struct gu_buf *ans)
{
    size_t an = ans->n;

    if (ans->oom)
        return GU_ENOMEM;
    while (qn > 0 && (q[qn - 1] == ' ' || q[qn - 1] == '\n'))
        qn--;
    if (an > ASST_XLAT_ANSWER_BYTES) {
        an = ASST_XLAT_ANSWER_BYTES;
        while (an > 0 && (ans->p[an] & 0xC0) == 0x80)
            an--; /* not inside a UTF-8 sequence */
    }
    while (an > 0 && (ans->p[an - 1] == ' ' || ans->p[an - 1] == '\n'))
        an--;
    if (qn == 0 || an <= 20)
        return 0;
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 256;
        struct asst_xlat_pair *nv = gu_realloc(p->v, ncap * sizeof(*nv));
        if (!nv)
            return GU_ENOMEM;
        p->v = nv;
        p->cap = ncap;
    }
    char *qs = gu_arena_strndup(p->a, q, qn);
    char *as = gu_arena_strndup(p->a, ans->p, an);
    if (!qs || !as)
        return GU_ENOMEM;
    p->v[p->n++] = (struct asst_xlat_pair){qs, qn, as, an};
    return 0;
}

/* Is `path` the section `node` (its first `nl` bytes) or one under it? */
static bool
path_under(const char *path, const char *node, size_t nl)
{
    return path && strncmp(path, node, nl) == 0 &&
           (path[nl] == '\0' || strncmp(path + nl, " > ", 3) == 0);
}

/* The last heading of a title path. */
static const char *
path_last(const char *path)
{
    const char *s = path, *h;

    while ((h = strstr(s, " > ")) != NULL)
        s = h + 3;
    return s;
}

static void
put_text(struct gu_buf *b, const char *s)
{
    if (!s || !*s)
        return;
    gu_buf_puts(b, s);
    if (b->n && b->p[b->n - 1] != '\n')
        gu_buf_puts(b, "\n");
}

/* The section node that starts at section `i` with the first `nl` bytes
 * of its path: heading [h, nl) -> its own text and its sub-sections'. */
static int
section_pair(struct asst_xlat_pairs *p, const struct kb_fiche *f, size_t i,
             size_t h, size_t nl, uint32_t what)
{
    const char *node = f->sections[i].path;
    struct gu_buf ans;
    int rc;

    gu_buf_init(&ans);
    for (size_t j = i; j < f->nsections && ans.n <= ASST_XLAT_ANSWER_BYTES;
         j++) {
        const char *pj = f->sections[j].path;
        if (!path_under(pj, node, nl))
            break;
        if (pj[nl])
            put_text(&ans, path_last(pj)); /* a sub-section's heading */
        put_text(&ans, f->sections[j].text);
    }
    rc = (what & ASST_XLAT_SECTIONS) ? pair_push(p, node + h, nl - h, &ans) : 0;
    if (rc == 0 && (what & ASST_XLAT_PATHS) && h > 0)
        rc = pair_push(p, node, nl, &ans); /* « A > B » too */
    gu_buf_fini(&ans);
    return rc;
}

int
asst_xlat_pairs_add(struct asst_xlat_pairs *p, const struct kb_fiche *f,
                    uint32_t what)
{
    int rc = 0;

    for (size_t i = 0; (what & (ASST_XLAT_SECTIONS | ASST_XLAT_PATHS)) &&
                       i < f->nsections;
         i++) {
        const char *path = f->sections[i].path;
        const char *prev = i > 0 ? f->sections[i - 1].path : NULL;
        size_t h = 0, len = path ? strlen(path) : 0;

        /* One node per heading of the path that the previous section
         * did not already open (a parent with no text of its own has no
         * section: its first sub-section opens it). */
        while (h < len) {
            const char *sep = strstr(path + h, " > ");
            size_t nl = sep ? (size_t)(sep - path) : len;
            if (!path_under(prev, path, nl)) {
                rc = section_pair(p, f, i, h, nl, what);
                if (rc < 0)
                    return rc;
            }
            h = nl + 3;
        }
    }
    if ((what & ASST_XLAT_TITLES) && f->origin == KB_LOCAL) {
        struct gu_buf ans;
        const char *q = f->title ? f->title : "";
        const char *alt = f->alt ? f->alt : "";

        gu_buf_init(&ans);
        put_text(&ans, f->description);
        put_text(&ans, f->body);
        rc = pair_push(p, q, strlen(q), &ans);
        while (rc == 0 && *alt) {
            size_t n = strcspn(alt, "\n");
            rc = pair_push(p, alt, n, &ans);
            alt += n + (alt[n] == '\n');
        }
        gu_buf_fini(&ans);
    }
    return rc;
}
