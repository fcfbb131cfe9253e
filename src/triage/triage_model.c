/*
 * triage_model.c - featurisation, training, calibration, model file and
 * prediction of the request classifier. The contract is in triage.h.
 *
 * Hot path (triage_predict): text_analyze() and text_fold() into the
 * scratch's reused arena, features counted in an open-addressing table
 * with generation stamps (never cleared), one dot product per feature
 * with the K weights of its bucket stored side by side (one cache line
 * for up to 16 classes). No heap allocation per call.
 */
#include <errno.h>
#include <fcntl.h>
#include <linear.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "triage/triage.h"

#define TAB_BITS 14
#define TAB_SIZE (1u << TAB_BITS)
#define FEAT_MAX 8192   /* distinct features per text; < TAB_SIZE / 2 */
#define TERMS_MAX 1024  /* word terms featurised per text */
#define FOLD_MAX (2 * TRIAGE_TEXT_MAX + 4)
#define ARENA_RENEW (1u << 20)
#define WEIGHTS_MAX (1u << 26) /* buckets x classes, in a model file */

#define SEED_W1 0x9e3779b97f4a7c15ull
#define SEED_W2 0xc2b2ae3d27d4eb4full
#define SEED_C 0x165667b19e3779f9ull

/* One distinct feature of the current text. */
struct feat {
    uint64_t h;
    float tf;
    uint8_t word; /* 1 = word group, 0 = character group */
    int16_t t1, t2; /* word terms (explanation), -1 = none */
};

struct triage_scratch {
    uint32_t mask;           /* table size - 1 for the current text */
    uint32_t shift;          /* 64 - log2(table size) */
    uint32_t slot[TAB_SIZE]; /* feature index + 1, 0 = empty */
    struct feat f[FEAT_MAX];
    size_t nf;
    uint32_t idx[FEAT_MAX];
    float val[FEAT_MAX];
    char fold[FOLD_MAX];
    struct text_term *terms; /* of the last text, in the arena */
    size_t nterms;
    double contrib[TERMS_MAX];
    struct gu_arena *a;
};

struct triage_model {
    int bits;
    uint32_t nb;   /* buckets */
    uint32_t k;    /* classes */
    int solver;
    double c, temp;
    float gw, gc;  /* word / character group weights */
    float *idf;    /* nb: smoothed IDF of each bucket, 0 = never seen */
    char (*labels)[TRIAGE_LABEL_MAX + 1];
    float *bias;   /* k */
    float *w;      /* nb * k, bucket-major */
    struct text_pipeline *tp;
    char id[40];
};

/* ------------------------------------------------------------------ */
/* Hashing and featurisation                                          */
/* ------------------------------------------------------------------ */

static inline uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static inline uint64_t
fnv(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#define FNV0 0xcbf29ce484222325ull

struct triage_scratch *
triage_scratch_new(void)
{
    struct triage_scratch *s = gu_calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->a = gu_arena_new(256 * 1024);
    if (!s->a) {
        gu_free(s);
        return NULL;
    }
    return s;
}

void
triage_scratch_free(struct triage_scratch *s)
{
    if (!s)
        return;
    gu_arena_free(s->a);
    gu_free(s);
}

/* Count feature h; returns false when the text has too many features. */
static inline bool
add_feat(struct triage_scratch *s, uint64_t h, int word, int t1, int t2)
{
    uint32_t i = (uint32_t)(h >> s->shift);

    for (;;) {
        if (s->slot[i] == 0) {
            /* Full: keeps the table at most half full (probes end). */
            if (s->nf >= FEAT_MAX || s->nf > s->mask / 2)
                return false;
            s->slot[i] = (uint32_t)s->nf + 1;
            struct feat *f = &s->f[s->nf++];
            f->h = h;
            f->tf = 1;
            f->word = (uint8_t)word;
            f->t1 = (int16_t)t1;
            f->t2 = (int16_t)t2;
            return true;
        }
        if (s->f[s->slot[i] - 1].h == h) {
            s->f[s->slot[i] - 1].tf += 1;
            return true;
        }
        i = (i + 1) & s->mask;
    }
}

/* The group mix of triage_model (1, 1): both groups weigh the same. */
static int
featurize(const struct text_pipeline *tp, int bits, const float *idf,
          float gw, float gc,
          struct triage_scratch *s, const char *text, size_t n,
          struct triage_fvec *out)
{
    struct text_tokens tk;
    uint64_t hs[TERMS_MAX];
    size_t nt, fn = 0, m = 0;
    char *folded;
    double nw = 0, nc = 0, sw, sc;
    bool full = false;

    if (n > TRIAGE_TEXT_MAX) {
        n = TRIAGE_TEXT_MAX;
        /* Do not cut a UTF-8 sequence in two. */
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
    }
    if (gu_arena_used(s->a) > ARENA_RENEW) {
        struct gu_arena *na = gu_arena_new(256 * 1024);
        if (!na)
            return GU_ENOMEM;
        gu_arena_free(s->a);
        s->a = na;
    }
    /* A table at least twice the most features this text can give
     * (3 per byte, 2 per word; 4 per byte at most), cleared over that size only: a short
     * request touches a few kilobytes that stay in L1. */
    {
        size_t want = 8 * n + 64, tb = 10;
        while (tb < TAB_BITS && ((size_t)1 << tb) < want)
            tb++;
        s->mask = (1u << tb) - 1;
        s->shift = 64 - (uint32_t)tb;
        memset(s->slot, 0, ((size_t)1 << tb) * sizeof(uint32_t));
    }
    s->nf = 0;
    s->terms = NULL;
    s->nterms = 0;
    if (text_analyze(tp, NULL, TEXT_MODE_QUERY, s->a, text, n, &tk) < 0)
        return GU_ENOMEM;
    nt = tk.n < TERMS_MAX ? tk.n : TERMS_MAX;
    s->terms = tk.v;
    s->nterms = nt;
    for (size_t i = 0; i < nt && !full; i++) {
        const char *st = tk.v[i].stem;
        hs[i] = fnv(st, strlen(st), FNV0);
        full = !add_feat(s, mix64(hs[i] ^ SEED_W1), 1, (int)i, -1);
        if (i > 0 && !full)
            full = !add_feat(s, mix64(hs[i - 1] * 31 + hs[i] + SEED_W2), 1,
                             (int)i - 1, (int)i);
    }

    /* Character 3-5-grams of the folded text, spaces collapsed, padded. */
    folded = text_fold(s->a, text, n, &fn);
    if (!folded)
        return GU_ENOMEM;
    s->fold[m++] = ' ';
    for (size_t i = 0; i < fn && m < FOLD_MAX - 1; i++) {
        char ch = folded[i];
        if (ch == ' ' && s->fold[m - 1] == ' ')
            continue;
        s->fold[m++] = ch;
    }
    if (s->fold[m - 1] != ' ')
        s->fold[m++] = ' ';
    for (size_t i = 0; i + 3 <= m && !full; i++) {
        uint64_t h = FNV0 ^ SEED_C;
        for (size_t j = 0; j < 5 && i + j < m; j++) {
            h ^= (unsigned char)s->fold[i + j];
            h *= 0x100000001b3ull;
            if (j >= 2 && !add_feat(s, mix64(h + j), 0, -1, -1)) {
                full = true;
                break;
            }
        }
    }

    /* Sublinear TF, per-group L2 norms, signed buckets. */
    for (size_t i = 0; i < s->nf; i++) {
        float v = s->f[i].tf == 1 ? 1.0f : 1.0f + logf(s->f[i].tf);
        if (idf)
            v *= idf[(uint32_t)(s->f[i].h >> (64 - bits))];
        s->f[i].tf = v;
        if (s->f[i].word)
            nw += (double)v * v;
        else
            nc += (double)v * v;
    }
    {
        double a = nw > 0 ? gw : 0, b = nc > 0 ? gc : 0;
        double z = sqrt(a * a + b * b);
        sw = nw > 0 && z > 0 ? a / z / sqrt(nw) : 0;
        sc = nc > 0 && z > 0 ? b / z / sqrt(nc) : 0;
    }
    for (size_t i = 0; i < s->nf; i++) {
        uint64_t h = s->f[i].h;
        float v = s->f[i].tf * (float)(s->f[i].word ? sw : sc);
        s->idx[i] = (uint32_t)(h >> (64 - bits));
        s->val[i] = (h & 1) ? -v : v;
    }
    out->idx = s->idx;
    out->val = s->val;
    out->n = s->nf;
    return 0;
}

int
triage_featurize(const struct text_pipeline *tp, int bits,
                 struct triage_scratch *s, const char *text, size_t n,
                 struct triage_fvec *out)
{
    out->n = 0;
    if (bits < TRIAGE_BITS_MIN || bits > TRIAGE_BITS_MAX)
        return GU_EINVAL;
    return featurize(tp, bits, NULL, 1, 1, s, text, n, out);
}

/* ------------------------------------------------------------------ */
/* Model basics                                                       */
/* ------------------------------------------------------------------ */

void
triage_model_free(struct triage_model *m)
{
    if (!m)
        return;
    text_pipeline_free(m->tp);
    gu_free(m->labels);
    gu_free(m->bias);
    gu_free(m->w);
    gu_free(m->idf);
    gu_free(m);
}

size_t
triage_model_nclasses(const struct triage_model *m)
{
    return m->k;
}

const char *
triage_model_label(const struct triage_model *m, size_t i)
{
    return i < m->k ? m->labels[i] : NULL;
}

int
triage_model_class(const struct triage_model *m, const char *label)
{
    for (uint32_t i = 0; i < m->k; i++) {
        if (strcmp(m->labels[i], label) == 0)
            return (int)i;
    }
    return -1;
}

const char *
triage_model_id(const struct triage_model *m)
{
    return m->id;
}

int
triage_model_bits(const struct triage_model *m)
{
    return m->bits;
}

double
triage_model_temperature(const struct triage_model *m)
{
    return m->temp;
}

/* A model with its arrays allocated (weights zeroed). */
static struct triage_model *
model_alloc(int bits, uint32_t k)
{
    struct triage_model *m = gu_calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->bits = bits;
    m->nb = 1u << bits;
    m->k = k;
    m->temp = 1;
    m->gw = m->gc = 1;
    m->labels = gu_calloc(k, sizeof(*m->labels));
    m->bias = gu_calloc(k, sizeof(float));
    m->w = gu_calloc((size_t)m->nb * k, sizeof(float));
    m->idf = gu_calloc(m->nb, sizeof(float));
    if (!m->labels || !m->bias || !m->w || !m->idf ||
        text_pipeline_new(NULL, 0, &m->tp, NULL) < 0) {
        triage_model_free(m);
        return NULL;
    }
    return m;
}

/* ------------------------------------------------------------------ */
/* Prediction                                                         */
/* ------------------------------------------------------------------ */

/* Decision values of a featurised text into sc[k]. Accumulated in
 * float over a bucket's row (the compiler vectorises it), then widened. */
static void
scores_of(const float *w, const float *bias, uint32_t k,
          const struct triage_fvec *fv, double *sc)
{
    float acc[TRIAGE_CLASSES_MAX];

    memcpy(acc, bias, k * sizeof(float));
    if (k == 10) { /* the default taxonomy's size class: unrolled */
        for (size_t i = 0; i < fv->n; i++) {
            const float *r = w + (size_t)fv->idx[i] * 10;
            float v = fv->val[i];
            /* Buckets are random: ask for the next rows early. */
            if (i + 8 < fv->n)
                __builtin_prefetch(w + (size_t)fv->idx[i + 8] * 10);
            for (int j = 0; j < 10; j++)
                acc[j] += v * r[j];
        }
    } else {
        for (size_t i = 0; i < fv->n; i++) {
            const float *r = w + (size_t)fv->idx[i] * k;
            float v = fv->val[i];
            for (uint32_t j = 0; j < k; j++)
                acc[j] += v * r[j];
        }
    }
    for (uint32_t j = 0; j < k; j++)
        sc[j] = acc[j];
}

/* Softmax of sc[k] / t into p[k]. */
static void
softmax(const double *sc, uint32_t k, double t, double *p)
{
    double mx = sc[0], z = 0;

    for (uint32_t j = 1; j < k; j++)
        if (sc[j] > mx)
            mx = sc[j];
    for (uint32_t j = 0; j < k; j++) {
        p[j] = exp((sc[j] - mx) / t);
        z += p[j];
    }
    for (uint32_t j = 0; j < k; j++)
        p[j] /= z;
}

int
triage_predict(const struct triage_model *m, struct triage_scratch *s,
               const char *text, size_t n, size_t ntop, size_t nwhy,
               struct triage_result *out, double *probs)
{
    struct triage_fvec fv;
    double sc[TRIAGE_CLASSES_MAX], p[TRIAGE_CLASSES_MAX];
    uint32_t k = m->k, best = 0;
    int rc;

    out->ntop = out->nwhy = 0;
    rc = featurize(m->tp, m->bits, m->idf, m->gw, m->gc, s, text, n, &fv);
    if (rc < 0)
        return rc;
    sc[0] = 0; /* k >= 2 always; this only quiets -Wmaybe-uninitialized */
    scores_of(m->w, m->bias, k, &fv, sc);
    softmax(sc, k, m->temp, p);
    for (uint32_t j = 1; j < k; j++)
        if (p[j] > p[best])
            best = j;
    out->id = (int)best;
    out->label = m->labels[best];
    out->p = p[best];
    if (probs)
        memcpy(probs, p, k * sizeof(double));

    /* Top classes: repeated selection (ntop is small). */
    if (ntop > TRIAGE_TOP_MAX)
        ntop = TRIAGE_TOP_MAX;
    if (ntop > k)
        ntop = k;
    for (size_t t = 0; t < ntop; t++) {
        int bj = -1;
        for (uint32_t j = 0; j < k; j++) {
            bool taken = false;
            for (size_t u = 0; u < t; u++)
                taken |= out->top[u].id == (int)j;
            if (!taken && (bj < 0 || p[j] > p[bj]))
                bj = (int)j;
        }
        out->top[t].id = bj;
        out->top[t].label = m->labels[bj];
        out->top[t].p = p[bj];
    }
    out->ntop = ntop;

    /* Explanation: each word's share of the winning class's score
     * (its unigram, and half of each bigram it is part of). */
    if (nwhy > TRIAGE_WHY_MAX)
        nwhy = TRIAGE_WHY_MAX;
    if (nwhy == 0 || s->nterms == 0)
        return 0;
    for (size_t i = 0; i < s->nterms; i++)
        s->contrib[i] = 0;
    for (size_t i = 0; i < s->nf; i++) {
        const struct feat *f = &s->f[i];
        double c;
        if (!f->word)
            continue;
        c = s->val[i] * m->w[(size_t)s->idx[i] * k + best];
        if (f->t2 < 0) {
            s->contrib[f->t1] += c;
        } else {
            s->contrib[f->t1] += c / 2;
            s->contrib[f->t2] += c / 2;
        }
    }
    for (size_t t = 0; t < nwhy; t++) {
        int bi = -1;
        for (size_t i = 0; i < s->nterms; i++) {
            if (s->contrib[i] > 0 && (bi < 0 || s->contrib[i] > s->contrib[bi]))
                bi = (int)i;
        }
        if (bi < 0)
            break;
        out->why[t].off = s->terms[bi].off;
        out->why[t].len = s->terms[bi].len;
        out->why[t].weight = s->contrib[bi];
        s->contrib[bi] = 0;
        out->nwhy = t + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Training                                                           */
/* ------------------------------------------------------------------ */

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
quiet(const char *s)
{
    (void)s;
}

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void
quiet_init(void)
{
    set_print_string_function(quiet);
}

static int
by_index(const void *x, const void *y)
{
    const struct feature_node *a = x, *b = y;

    return (a->index > b->index) - (a->index < b->index);
}

/* The featurised training set, in liblinear's form. */
struct tset {
    size_t n;
    uint32_t k, nb;
    struct feature_node **x; /* rows, each ended by bias then -1 */
    struct feature_node *nodes;
    double *y;
    uint32_t *fold;
};

/* One configuration tried by cross-validation. */
struct trial {
    const struct tset *ts;
    int solver;
    double c;
    int folds;
    double *dec; /* n * k out-of-fold decision values */
    size_t correct;
    int rc;
};

/*
 * Fit on the rows whose fold != skip (skip < 0: all) and write bucket-
 * major weights w[nb * k] and bias[k]. Classes absent from the rows get
 * zero weights and a very low bias. Returns 0 or GU_ENOMEM/GU_EINTERNAL.
 */
static int
fit(const struct tset *ts, int solver, double c, int skip, float *w,
    float *bias)
{
    struct problem prob;
    struct parameter par;
    struct model *mdl = NULL;
    size_t n = 0;
    int rc = 0;
    struct feature_node **x = gu_malloc(ts->n * sizeof(*x));
    double *y = gu_malloc(ts->n * sizeof(*y));

    if (!x || !y) {
        rc = GU_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < ts->n; i++) {
        if (skip >= 0 && ts->fold[i] == (uint32_t)skip)
            continue;
        x[n] = ts->x[i];
        y[n++] = ts->y[i];
    }
    memset(&prob, 0, sizeof(prob));
    prob.l = (int)n;
    prob.n = (int)ts->nb + 1;
    prob.x = x;
    prob.y = y;
    prob.bias = 1;
    memset(&par, 0, sizeof(par));
    par.solver_type = solver == TRIAGE_SOLVER_LR ? L2R_LR : L2R_L2LOSS_SVC_DUAL;
    par.eps = solver == TRIAGE_SOLVER_LR ? 0.01 : 0.1;
    par.C = c;
    if (check_parameter(&prob, &par)) {
        rc = GU_EINTERNAL;
        goto out;
    }
    mdl = train(&prob, &par);
    if (!mdl) {
        rc = GU_EINTERNAL;
        goto out;
    }
    memset(w, 0, (size_t)ts->nb * ts->k * sizeof(float));
    for (uint32_t j = 0; j < ts->k; j++)
        bias[j] = -1e3f;
    {
        int nrc = get_nr_class(mdl), nrw = nrc == 2 ? 1 : nrc;
        for (int q = 0; q < nrc; q++) {
            int cls = mdl->label[q];
            float sign = (nrc == 2 && q == 1) ? -1.0f : 1.0f;
            int col = nrc == 2 ? 0 : q;
            if (cls < 0 || (uint32_t)cls >= ts->k)
                continue;
            if (nrc == 1) { /* one class only: it always wins */
                bias[cls] = 1;
                continue;
            }
            for (uint32_t b = 0; b < ts->nb; b++)
                w[(size_t)b * ts->k + cls] =
                    sign * (float)mdl->w[(size_t)b * nrw + col];
            bias[cls] = sign * (float)mdl->w[(size_t)ts->nb * nrw + col];
        }
    }
out:
    if (mdl)
        free_and_destroy_model(&mdl);
    gu_free(x);
    gu_free(y);
    return rc;
}

/* Decision values of training row i with weights w, bias. */
static void
row_scores(const struct tset *ts, size_t i, const float *w, const float *bias,
           double *sc)
{
    for (uint32_t j = 0; j < ts->k; j++)
        sc[j] = bias[j];
    for (const struct feature_node *f = ts->x[i]; f->index > 0; f++) {
        if ((uint32_t)f->index > ts->nb)
            continue; /* the bias node */
        const float *r = w + (size_t)(f->index - 1) * ts->k;
        for (uint32_t j = 0; j < ts->k; j++)
            sc[j] += f->value * r[j];
    }
}

static void *
run_trial(void *arg)
{
    struct trial *t = arg;
    const struct tset *ts = t->ts;
    float *w = gu_malloc((size_t)ts->nb * ts->k * sizeof(float));
    float *bias = gu_malloc(ts->k * sizeof(float));

    t->rc = 0;
    t->correct = 0;
    if (!w || !bias) {
        t->rc = GU_ENOMEM;
        goto out;
    }
    for (int f = 0; f < t->folds; f++) {
        t->rc = fit(ts, t->solver, t->c, f, w, bias);
        if (t->rc < 0)
            goto out;
        for (size_t i = 0; i < ts->n; i++) {
            if (ts->fold[i] != (uint32_t)f)
                continue;
            double *sc = t->dec + i * ts->k;
            uint32_t bj = 0;
            row_scores(ts, i, w, bias, sc);
            for (uint32_t j = 1; j < ts->k; j++)
                if (sc[j] > sc[bj])
                    bj = j;
            t->correct += bj == (uint32_t)ts->y[i];
        }
    }
out:
    gu_free(w);
    gu_free(bias);
    return NULL;
}

/* Mean negative log-likelihood of softmax(dec / t). */
static double
nll(const struct tset *ts, const double *dec, double t)
{
    double s = 0, p[TRIAGE_CLASSES_MAX];

    for (size_t i = 0; i < ts->n; i++) {
        softmax(dec + i * ts->k, ts->k, t, p);
        s -= log(fmax(p[(uint32_t)ts->y[i]], 1e-300));
    }
    return s / (double)ts->n;
}

/* Temperature minimising the NLL (golden section on ln t). */
static double
fit_temperature(const struct tset *ts, const double *dec)
{
    const double g = (sqrt(5.0) - 1) / 2;
    double a = log(0.01), b = log(100.0);
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = nll(ts, dec, exp(c)), fd = nll(ts, dec, exp(d));

    for (int it = 0; it < 50; it++) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = nll(ts, dec, exp(c));
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = nll(ts, dec, exp(d));
        }
    }
    return exp((a + b) / 2);
}

static int
by_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void
model_set_id(struct triage_model *m)
{
    uint64_t h = FNV0;

    h = fnv((const char *)m->bias, m->k * sizeof(float), h);
    h = fnv((const char *)m->w, (size_t)m->nb * m->k * sizeof(float), h);
    h = fnv((const char *)m->idf, (size_t)m->nb * sizeof(float), h);
    snprintf(m->id, sizeof(m->id), "triage-%d:%016llx", TRIAGE_MODEL_VERSION,
             (unsigned long long)h);
}

int
triage_train(const char *const *texts, const size_t *lens,
             const char *const *labels, size_t n,
             const struct triage_train_opts *o, struct triage_model **out,
             struct triage_train_info *info, struct gu_err *err)
{
    struct triage_train_opts def = {0, TRIAGE_SOLVER_DEFAULT, 0, 0, 0};
    struct tset ts = {0};
    struct triage_model *m = NULL;
    struct triage_scratch *s = NULL;
    const char **uniq = NULL;
    struct trial trials[16];
    size_t ntrials = 0, nnodes = 0, cap = 0, nu = 0;
    double t0 = now_s();
    int rc = 0, bits, folds;

    *out = NULL;
    if (!o)
        o = &def;
    bits = o->bits ? o->bits : TRIAGE_BITS_DEFAULT;
    folds = o->folds ? o->folds : 3;
    memset(trials, 0, sizeof(trials));
    if (bits < TRIAGE_BITS_MIN || bits > TRIAGE_BITS_MAX || folds < 2 ||
        folds > 10 || o->solver < 0 || o->solver > TRIAGE_SOLVER_AUTO)
        return gu_err_set(err, GU_EINVAL, "bits", "Paramètres invalides.",
                          "bad bits %d or folds %d", bits, folds);
    pthread_once(&quiet_once, quiet_init);

    /* Classes: the sorted distinct labels. */
    uniq = gu_malloc((n + 1) * sizeof(*uniq));
    if (!uniq)
        return GU_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t ln = strlen(labels[i]);
        if (ln == 0 || ln > TRIAGE_LABEL_MAX) {
            rc = gu_err_set(err, GU_EINVAL, "label", NULL,
                            "bad label length at row %zu", i + 1);
            snprintf(err->user, sizeof(err->user),
                     "Étiquette vide ou de plus de %d octets (exemple %zu).",
                     TRIAGE_LABEL_MAX, i + 1);
            goto out;
        }
        uniq[i] = labels[i];
    }
    qsort(uniq, n, sizeof(*uniq), by_str);
    for (size_t i = 0; i < n; i++)
        if (nu == 0 || strcmp(uniq[nu - 1], uniq[i]) != 0)
            uniq[nu++] = uniq[i];
    if (nu < 2 || nu > TRIAGE_CLASSES_MAX) {
        rc = gu_err_set(err, GU_EINVAL, "label", NULL, "%zu classes", nu);
        snprintf(err->user, sizeof(err->user),
                 "Il faut entre 2 et %d classes différentes (il y en a %zu).",
                 TRIAGE_CLASSES_MAX, nu);
        goto out;
    }
    m = model_alloc(bits, (uint32_t)nu);
    s = triage_scratch_new();
    if (!m || !s) {
        rc = GU_ENOMEM;
        goto out;
    }
    for (size_t j = 0; j < nu; j++)
        memcpy(m->labels[j], uniq[j], strlen(uniq[j]) + 1);

    /* Featurise every text into liblinear rows (sorted, merged). */
    ts.n = n;
    ts.k = (uint32_t)nu;
    ts.nb = m->nb;
    ts.x = gu_malloc(n * sizeof(*ts.x));
    ts.y = gu_malloc(n * sizeof(*ts.y));
    ts.fold = gu_malloc(n * sizeof(*ts.fold));
    size_t *start = gu_malloc((n + 1) * sizeof(size_t));
    if (!ts.x || !ts.y || !ts.fold || !start) {
        gu_free(start);
        rc = GU_ENOMEM;
        goto out;
    }
    /* IDF of each bucket over the training texts (smoothed as
     * ln((1 + n) / (1 + df)) + 1); a bucket no training text has gets 0,
     * so an unknown word neither scores nor dilutes the known ones. */
    {
        uint32_t *df = gu_calloc(m->nb, sizeof(uint32_t));
        if (!df) {
            rc = GU_ENOMEM;
            gu_free(start);
            goto out;
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            struct triage_fvec fv;
            rc = featurize(m->tp, bits, NULL, 1, 1, s, texts[i], lens[i], &fv);
            for (size_t j = 0; rc == 0 && j < fv.n; j++)
                df[fv.idx[j]]++; /* a collision in one text counts twice */
        }
        for (uint32_t b = 0; b < m->nb; b++)
            m->idf[b] = df[b] ? (float)(log((1.0 + (double)n) /
                                            (1.0 + (double)df[b])) +
                                        1)
                              : 0;
        gu_free(df);
        if (rc < 0) {
            gu_free(start);
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct triage_fvec fv;
        const char **hit = bsearch(&labels[i], uniq, nu, sizeof(*uniq), by_str);
        ts.y[i] = (double)(hit - uniq);
        rc = featurize(m->tp, bits, m->idf, m->gw, m->gc, s, texts[i],
                       lens[i], &fv);
        if (rc < 0)
            break;
        if (nnodes + fv.n + 2 > cap) {
            size_t nc = (cap ? cap * 2 : 65536) + fv.n + 2;
            struct feature_node *nn =
                gu_realloc(ts.nodes, nc * sizeof(*ts.nodes));
            if (!nn) {
                rc = GU_ENOMEM;
                break;
            }
            ts.nodes = nn;
            cap = nc;
        }
        struct feature_node *row = ts.nodes + nnodes;
        for (size_t j = 0; j < fv.n; j++) {
            row[j].index = (int)fv.idx[j] + 1;
            row[j].value = fv.val[j];
        }
        qsort(row, fv.n, sizeof(*row), by_index);
        size_t r = 0;
        for (size_t j = 0; j < fv.n; j++) {
            if (r > 0 && row[r - 1].index == row[j].index)
                row[r - 1].value += row[j].value;
            else
                row[r++] = row[j];
        }
        row[r].index = (int)ts.nb + 1; /* bias */
        row[r].value = 1;
        row[r + 1].index = -1;
        row[r + 1].value = 0;
        start[i] = nnodes;
        nnodes += r + 2;
        /* Folds from a hash of the text: deterministic, order-free. */
        ts.fold[i] = (uint32_t)(mix64(fnv(texts[i], lens[i], FNV0)) %
                                (uint64_t)folds);
    }
    if (rc == 0)
        for (size_t i = 0; i < n; i++)
            ts.x[i] = ts.nodes + start[i];
    gu_free(start);
    if (rc < 0)
        goto out;

    /* Cross-validation over solvers and C (small data: fixed choice). */
    {
        static const double cs[] = {1, 4, 0.25};
        int solvers[2] = {TRIAGE_SOLVER_SVM, TRIAGE_SOLVER_LR};
        int nsolv = o->solver == TRIAGE_SOLVER_AUTO ? 2 : 1;
        /* The default searches two values of C (training time). */
        size_t ncs = o->solver == TRIAGE_SOLVER_DEFAULT ? 2 : 3;
        if (o->solver == TRIAGE_SOLVER_LR)
            solvers[0] = TRIAGE_SOLVER_LR;
        for (int a = 0; a < nsolv; a++) {
            for (size_t b = 0; b < ncs; b++) {
                if (o->c > 0 && b > 0)
                    break;
                struct trial *t = &trials[ntrials++];
                t->ts = &ts;
                t->solver = solvers[a];
                t->c = o->c > 0 ? o->c : cs[b];
                t->folds = folds;
                t->dec = gu_malloc(n * nu * sizeof(double));
                if (!t->dec) {
                    rc = GU_ENOMEM;
                    goto out;
                }
            }
        }
    }
    if (n >= (size_t)folds * 4) {
        int nth = o->threads > 1 ? (o->threads > 16 ? 16 : o->threads) : 1;
        for (size_t i = 0; i < ntrials; i += (size_t)nth) {
            pthread_t th[16];
            bool started[16] = {0};
            for (size_t j = i; j < ntrials && j < i + (size_t)nth; j++)
                started[j - i] = pthread_create(&th[j - i], NULL, run_trial,
                                                &trials[j]) == 0;
            for (size_t j = i; j < ntrials && j < i + (size_t)nth; j++) {
                if (started[j - i])
                    pthread_join(th[j - i], NULL);
                else
                    run_trial(&trials[j]);
            }
        }
        size_t best = 0;
        for (size_t i = 0; i < ntrials; i++) {
            if (trials[i].rc < 0) {
                rc = trials[i].rc;
                goto out;
            }
            if (trials[i].correct > trials[best].correct)
                best = i;
        }
        m->solver = trials[best].solver;
        m->c = trials[best].c;
        m->temp = fit_temperature(&ts, trials[best].dec);
        if (info)
            info->cv_accuracy = (double)trials[best].correct / (double)n;
    } else {
        m->solver = trials[0].solver;
        m->c = trials[0].c;
        m->temp = 1;
        if (info)
            info->cv_accuracy = 0;
    }

    /* liblinear's solvers shuffle with rand(): seed it so the same data
     * gives the same model (the threads of the cross-validation above
     * share rand()'s state, so its choice of C may still vary). */
    srand(1);
    rc = fit(&ts, m->solver, m->c, -1, m->w, m->bias);
    if (rc < 0) {
        gu_err_set(err, rc, NULL, "L'apprentissage a échoué.",
                   "liblinear training failed");
        goto out;
    }
    model_set_id(m);
    if (info) {
        info->solver = m->solver;
        info->c = m->c;
        info->temperature = m->temp;
        info->nclasses = nu;
        info->seconds = now_s() - t0;
    }
    *out = m;
    m = NULL;
out:
    for (size_t i = 0; i < ntrials; i++)
        gu_free(trials[i].dec);
    gu_free(ts.x);
    gu_free(ts.y);
    gu_free(ts.fold);
    gu_free(ts.nodes);
    gu_free(uniq);
    triage_scratch_free(s);
    triage_model_free(m);
    if (rc == GU_ENOMEM)
        gu_err_set(err, rc, NULL, NULL, "out of memory in triage_train");
    return rc;
}

/* ------------------------------------------------------------------ */
/* Model file                                                         */
/* ------------------------------------------------------------------ */

#define MAGIC "GUTRIAGE"

struct wbuf {
    unsigned char *p;
    size_t n, cap;
    bool oom;
};

static void
put(struct wbuf *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 4096) + n;
        unsigned char *np = gu_realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void
put_u32(struct wbuf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                          (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    put(b, c, 4);
}

static void
put_u64(struct wbuf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void
put_f32(struct wbuf *b, float f)
{
    uint32_t u;

    memcpy(&u, &f, 4);
    put_u32(b, u);
}

static void
put_f64(struct wbuf *b, double d)
{
    uint64_t u;

    memcpy(&u, &d, 8);
    put_u64(b, u);
}

int
triage_model_save(const struct triage_model *m, const char *path,
                   struct gu_err *err)
{
    struct wbuf b = {0};
    char tmp[4096];
    FILE *f = NULL;
    int rc = 0;

    put(&b, MAGIC, 8);
    put_u32(&b, TRIAGE_MODEL_VERSION);
    put_u32(&b, (uint32_t)m->bits);
    put_u32(&b, m->k);
    put_u32(&b, (uint32_t)m->solver);
    put_f64(&b, m->c);
    put_f64(&b, m->temp);
    put_f32(&b, m->gw);
    put_f32(&b, m->gc);
    for (uint32_t j = 0; j < m->k; j++) {
        size_t ln = strlen(m->labels[j]);
        unsigned char c = (unsigned char)ln;
        put(&b, &c, 1);
        put(&b, m->labels[j], ln);
    }
    for (uint32_t j = 0; j < m->k; j++)
        put_f32(&b, m->bias[j]);
    for (size_t i = 0; i < (size_t)m->nb * m->k; i++)
        put_f32(&b, m->w[i]);
    for (uint32_t i = 0; i < m->nb; i++)
        put_f32(&b, m->idf[i]);
    if (b.oom) {
        gu_free(b.p);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    }
    put_u64(&b, fnv((const char *)b.p, b.n, FNV0));
    if (b.oom) {
        gu_free(b.p);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    }
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        gu_free(b.p);
        return gu_err_set(err, GU_EIO, NULL, "Chemin trop long.",
                          "path too long");
    }
    f = fopen(tmp, "wb");
    if (!f || fwrite(b.p, 1, b.n, f) != b.n || fflush(f) != 0 ||
        fsync(fileno(f)) != 0) {
        rc = gu_err_set(err, GU_EIO, NULL, NULL, "write %s: %s", tmp,
                        strerror(errno));
        snprintf(err->user, sizeof(err->user),
                 "Impossible d'écrire le modèle « %s ».", path);
    }
    if (f && fclose(f) != 0 && rc == 0)
        rc = gu_err_set(err, GU_EIO, NULL, "Écriture du modèle impossible.",
                        "close %s", tmp);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = gu_err_set(err, GU_EIO, NULL, "Écriture du modèle impossible.",
                        "rename %s: %s", tmp, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    gu_free(b.p);
    return rc;
}

struct rbuf {
    const unsigned char *p;
    size_t n, off;
    bool bad;
};

static const unsigned char *
take(struct rbuf *r, size_t n)
{
    if (r->bad || n > r->n - r->off) {
        r->bad = true;
        return NULL;
    }
    r->off += n;
    return r->p + r->off - n;
}

static uint32_t
get_u32(struct rbuf *r)
{
    const unsigned char *c = take(r, 4);

    if (!c)
        return 0;
    return (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
           (uint32_t)c[3] << 24;
}

static uint64_t
get_u64(struct rbuf *r)
{
    uint64_t lo = get_u32(r);

    return lo | (uint64_t)get_u32(r) << 32;
}

static float
get_f32(struct rbuf *r)
{
    uint32_t u = get_u32(r);
    float f;

    memcpy(&f, &u, 4);
    if (!isfinite(f))
        r->bad = true;
    return f;
}

static double
get_f64(struct rbuf *r)
{
    uint64_t u = get_u64(r);
    double d;

    memcpy(&d, &u, 8);
    if (!isfinite(d))
        r->bad = true;
    return d;
}

static int
bad_model(struct gu_err *err, const char *why)
{
    return gu_err_set(err, GU_EINVAL, "model",
                      "Fichier de modèle invalide, tronqué ou corrompu.",
                      "bad triage model: %s", why);
}

int
triage_model_read(const void *buf, size_t n, struct triage_model **out,
                  struct gu_err *err)
{
    struct rbuf r = {buf, n, 0, false};
    struct triage_model *m = NULL;
    const unsigned char *mg;
    uint32_t ver, bits, k, solver;
    uint64_t sum;

    *out = NULL;
    if (n < 8 + 8)
        return bad_model(err, "too short");
    {
        struct rbuf t = {(const unsigned char *)buf + n - 8, 8, 0, false};
        sum = get_u64(&t);
    }
    mg = take(&r, 8);
    if (!mg || memcmp(mg, MAGIC, 8) != 0)
        return bad_model(err, "magic");
    if (fnv(buf, n - 8, FNV0) != sum)
        return bad_model(err, "checksum");
    r.n = n - 8;
    ver = get_u32(&r);
    bits = get_u32(&r);
    k = get_u32(&r);
    solver = get_u32(&r);
    if (r.bad || ver != TRIAGE_MODEL_VERSION)
        return bad_model(err, "version");
    if (bits < TRIAGE_BITS_MIN || bits > TRIAGE_BITS_MAX || k < 2 ||
        k > TRIAGE_CLASSES_MAX || solver < 1 || solver > 2 ||
        ((size_t)1 << bits) * k > WEIGHTS_MAX)
        return bad_model(err, "header bounds");
    /* The exact size must match before anything big is allocated. */
    if (((size_t)1 << bits) * (k + 1) * 4 + (size_t)k * 4 > n)
        return bad_model(err, "size");
    m = model_alloc((int)bits, k);
    if (!m)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    m->solver = (int)solver;
    m->c = get_f64(&r);
    m->temp = get_f64(&r);
    m->gw = get_f32(&r);
    m->gc = get_f32(&r);
    if (r.bad || !(m->temp > 0) || !(m->c > 0) || m->gw < 0 || m->gc < 0) {
        triage_model_free(m);
        return bad_model(err, "parameters");
    }
    for (uint32_t j = 0; j < k && !r.bad; j++) {
        const unsigned char *lp = take(&r, 1);
        size_t ln = lp ? *lp : 0;
        const unsigned char *s = take(&r, ln);
        if (!s || ln == 0 || ln > TRIAGE_LABEL_MAX || memchr(s, 0, ln)) {
            r.bad = true;
            break;
        }
        memcpy(m->labels[j], s, ln);
        m->labels[j][ln] = 0;
    }
    for (uint32_t j = 0; j < k && !r.bad; j++)
        m->bias[j] = get_f32(&r);
    for (size_t i = 0; i < (size_t)m->nb * k && !r.bad; i++)
        m->w[i] = get_f32(&r);
    for (uint32_t i = 0; i < m->nb && !r.bad; i++) {
        m->idf[i] = get_f32(&r);
        if (m->idf[i] < 0)
            r.bad = true;
    }
    if (r.bad || r.off != r.n) {
        triage_model_free(m);
        return bad_model(err, "body");
    }
    model_set_id(m);
    *out = m;
    return 0;
}

int
triage_model_load(const char *path, struct triage_model **out,
                  struct gu_err *err)
{
    struct stat sb;
    unsigned char *buf = NULL;
    size_t got = 0;
    int rc, fd;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        rc = gu_err_set(err, GU_EIO, "model", NULL, "open %s: %s", path,
                        strerror(errno));
        snprintf(err->user, sizeof(err->user),
                 "Impossible de lire le modèle « %s ».", path);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size < 0 ||
        (uint64_t)sb.st_size > (uint64_t)WEIGHTS_MAX * 8 + (1u << 20)) {
        close(fd);
        return bad_model(err, "file size");
    }
    buf = gu_malloc((size_t)sb.st_size + 1);
    if (!buf) {
        close(fd);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    }
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    rc = triage_model_read(buf, got, out, err);
    gu_free(buf);
    return rc;
}
