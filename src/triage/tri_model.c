/*
 * tri_model.c - the communes' models (see tri.h, Models): the service
 * model and the urgency model of each commune, stored in tri_models,
 * loaded once per store and cached (store_ext "triage.models") with a
 * reference count, swapped when a retrain - here, in another process or
 * on another node - makes a new row active.
 *
 * A commune without a model gets the default one at its first request:
 * trained on the seed corpus embedded into the binary (data/triage/
 * seed.tsv), restricted to the commune's active service codes. Communes
 * with the same services get the same default model, so it is trained
 * once per process (a small memo keyed by the label set) - an instance
 * serving a few hundred communes would otherwise spend seconds on each
 * one's first request.
 *
 * Retraining adds the requests agents routed or confirmed (redacted
 * text only) and their urgency corrections. Each correction counts three
 * times against the seed, so that a commune's own way of routing wins
 * over the generic corpus after a few examples.
 */
#include "triage/tri_engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLES_MAX 20000  /* agents' examples read for a retrain */
#define CORRECTION_WEIGHT 3 /* copies of a correction in the training set */
#define MODELS_KEPT 4        /* inactive models whose bytes are kept */

struct tri_model_ref {
    int refs; /* under the cache's mutex */
    char insee[6];
    int64_t svc_row, urg_row; /* tri_models ids (0 = none) */
    struct triage_model *svc, *urg;
};

struct model_cache {
    pthread_mutex_t mu;
    struct text_pipeline *tp; /* for duplicates' features, made once */
    pthread_mutex_t train_mu; /* one training at a time per store */
    struct tri_model_ref **v;
    size_t n, cap;
};

/* ------------------------------------------------------------------ */
/* The embedded seed                                                   */
/* ------------------------------------------------------------------ */

int
tri_seed_rows(struct gu_arena *a, struct tri_seed_row **out, size_t *n,
              struct gu_err *err)
{
    const struct gu_asset *f = tri_seed_find("seed.tsv");
    char *buf, *line, *end;
    int col_text = -1, col_label = -1, col_urg = -1, ncols = 0;
    struct tri_seed_row *v;
    size_t cap = 1024, k = 0;

    *out = NULL;
    *n = 0;
    if (!f)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "no embedded seed");
    buf = gu_arena_strndup(a, (const char *)f->data, f->size);
    v = gu_arena_alloc(a, cap * sizeof(*v));
    if (!buf || !v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    line = buf;
    for (bool header = true; *line; line = end, header = false) {
        char *cols[8];
        int nc = 0;

        end = strchr(line, '\n');
        if (end)
            *end++ = '\0';
        else
            end = line + strlen(line);
        if (*line == '\0')
            continue;
        cols[nc++] = line;
        for (char *p = line; *p && nc < 8; p++) {
            if (*p == '\t') {
                *p = '\0';
                cols[nc++] = p + 1;
            }
        }
        if (header) {
            for (int i = 0; i < nc; i++) {
                if (strcmp(cols[i], "text") == 0)
                    col_text = i;
                else if (strcmp(cols[i], "label") == 0)
                    col_label = i;
                else if (strcmp(cols[i], "urgence") == 0)
                    col_urg = i;
            }
            ncols = nc;
            if (col_text < 0 || col_label < 0)
                return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                                  "seed header");
            continue;
        }
        if (nc != ncols)
            return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                              "seed row %zu has %d columns", k + 2, nc);
        if (k == cap) {
            struct tri_seed_row *w = gu_arena_alloc(a, 2 * cap * sizeof(*w));

            if (!w)
                return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            memcpy(w, v, cap * sizeof(*v));
            v = w;
            cap *= 2;
        }
        v[k].text = cols[col_text];
        v[k].len = strlen(cols[col_text]);
        v[k].label = cols[col_label];
        v[k].urgency = -1;
        if (col_urg >= 0 && cols[col_urg][0] >= '0' &&
            cols[col_urg][0] <= '2' && cols[col_urg][1] == '\0')
            v[k].urgency = cols[col_urg][0] - '0';
        k++;
    }
    *out = v;
    *n = k;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Model bytes                                                         */
/* ------------------------------------------------------------------ */


/* ------------------------------------------------------------------ */
/* The default models, memoised per label set                          */
/* ------------------------------------------------------------------ */

struct memo {
    char *key;
    void *svc, *urg; /* model bytes (urg may be NULL) */
    size_t nsvc, nurg;
    double cv;
};

static pthread_mutex_t memo_mu = PTHREAD_MUTEX_INITIALIZER;
static struct memo memo_v[8];
static size_t memo_n;

static int
train_set(const char *const *texts, const size_t *lens,
          const char *const *labels, size_t n,
          const struct triage_train_opts *o, void **bytes, size_t *nb,
          struct triage_train_info *info, struct gu_err *err)
{
    struct triage_model *m = NULL;
    int rc;

    rc = triage_train(texts, lens, labels, n, o, &m, info, err);
    if (rc < 0)
        return rc;
    rc = triage_model_bytes(m, bytes, nb, err);
    triage_model_free(m);
    return rc;
}

/* Train the urgency model on the seed's `urgence` column plus extra
   rows. Nothing (0, *bytes NULL) when the column is missing. */
static int
train_urgency(const struct tri_seed_row *seed, size_t ns,
              const char *const *xt, const size_t *xl, const int *xu,
              size_t nx, void **bytes, size_t *nb, struct gu_err *err)
{
    static const char *const ulab[] = {"0", "1", "2"};
    size_t cap = ns + nx * CORRECTION_WEIGHT + 1;
    const char **texts = gu_calloc(cap, sizeof(*texts));
    const char **labels = gu_calloc(cap, sizeof(*labels));
    size_t *lens = gu_calloc(cap, sizeof(*lens));
    size_t k = 0;
    bool seen[3] = {false, false, false};
    int rc = 0;

    *bytes = NULL;
    *nb = 0;
    if (!texts || !labels || !lens) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    for (size_t i = 0; i < ns; i++) {
        if (seed[i].urgency < 0)
            continue;
        texts[k] = seed[i].text;
        lens[k] = seed[i].len;
        labels[k] = ulab[seed[i].urgency];
        seen[seed[i].urgency] = true;
        k++;
    }
    for (size_t i = 0; i < nx; i++) {
        for (int w = 0; w < CORRECTION_WEIGHT; w++) {
            texts[k] = xt[i];
            lens[k] = xl[i];
            labels[k] = ulab[xu[i]];
            k++;
        }
        seen[xu[i]] = true;
    }
    static const struct triage_train_opts urg = TRI_URGENCY_TRAIN_OPTS;
    if ((int)seen[0] + (int)seen[1] + (int)seen[2] >= 2)
        rc = train_set(texts, lens, labels, k, &urg, bytes, nb, NULL, err);
out:
    gu_free(texts);
    gu_free(labels);
    gu_free(lens);
    return rc;
}

/* Seed rows whose label is one of `codes` (n codes). */
static size_t
seed_subset(const struct tri_seed_row *seed, size_t ns,
            const struct tri_service *svc, size_t nsvc, const char **texts,
            size_t *lens, const char **labels)
{
    size_t k = 0;

    for (size_t i = 0; i < ns; i++) {
        for (size_t j = 0; j < nsvc; j++) {
            if (strcmp(seed[i].label, svc[j].code) == 0) {
                texts[k] = seed[i].text;
                lens[k] = seed[i].len;
                labels[k] = seed[i].label;
                k++;
                break;
            }
        }
    }
    return k;
}

static char *
label_key(struct gu_arena *a, const struct tri_service *svc, size_t n)
{
    struct gu_buf b;
    char *k;

    /* services come sorted by position: sort codes for a stable key */
    const char **codes = gu_arena_alloc(a, (n ? n : 1) * sizeof(*codes));

    if (!codes)
        return NULL;
    for (size_t i = 0; i < n; i++)
        codes[i] = svc[i].code;
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && strcmp(codes[j - 1], codes[j]) > 0; j--) {
            const char *t = codes[j];

            codes[j] = codes[j - 1];
            codes[j - 1] = t;
        }
    }
    gu_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        gu_buf_puts(&b, codes[i]);
        gu_buf_puts(&b, "|");
    }
    k = b.oom ? NULL : gu_arena_strdup(a, b.p ? b.p : "");
    gu_buf_fini(&b);
    return k;
}

/* ------------------------------------------------------------------ */
/* Rows of tri_models                                                  */
/* ------------------------------------------------------------------ */

static int
store_model_row(struct store_conn *c, const char *insee, const char *kind,
                const void *bytes, size_t n, size_t examples,
                size_t corrections, double cv, struct gu_err *err)
{
    struct triage_model *m = NULL;
    struct gu_err e2;
    int rc;

    /* its version is the model's own id */
    rc = triage_model_read(bytes, n, &m, &e2);
    if (rc < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "model reread: %s",
                          e2.msg);
    struct store_val d[2] = {STORE_T(insee), STORE_T(kind)};
    struct store_val v[8] = {STORE_T(insee),
                             STORE_T(triage_model_id(m)),
                             STORE_T(kind),
                             STORE_I((int64_t)examples),
                             STORE_I((int64_t)corrections),
                             STORE_D(cv),
                             STORE_B(bytes, n),
                             STORE_I(gu_now())};

    rc = store_exec(c,
                    "UPDATE tri_models SET active = 0 WHERE insee = ? AND "
                    "kind = ? AND active = 1",
                    d, 2, err);
    if (rc == 0)
        rc = store_exec(c,
                        "INSERT INTO tri_models (insee, version, kind, "
                        "trained_on, corrections, cv_accuracy, active, data, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                        v, 8, err);
    /* A model is megabytes and a commune may retrain every night: keep
       the last MODELS_KEPT inactive ones of each kind (to compare, or go
       back by hand), drop the bytes of older ones, keep their rows (the
       version, counts and figures stay for the history). */
    if (rc == 0) {
        /* The empty blob as a parameter: x'' is a bit string elsewhere. */
        struct store_val q[6] = {STORE_B("", 0),  STORE_T(insee),
                                 STORE_T(kind),   STORE_T(insee),
                                 STORE_T(kind),   STORE_I(MODELS_KEPT)};

        rc = store_exec(c,
                        "UPDATE tri_models SET data = ? WHERE insee = ? AND "
                        "kind = ? AND active = 0 AND length(data) > 0 AND id "
                        "NOT IN (SELECT id FROM tri_models WHERE insee = ? AND "
                        "kind = ? AND active = 0 ORDER BY id DESC LIMIT ?)",
                        q, 6, err);
    }
    triage_model_free(m);
    return rc;
}

static int
active_rows(struct store_conn *c, const char *insee, int64_t *svc,
            int64_t *urg, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(512);
    struct store_rows *r = NULL;
    struct store_val p[1] = {STORE_T(insee)};
    int rc;

    *svc = *urg = 0;
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_query(c, a,
                     "SELECT kind, MAX(id) FROM tri_models WHERE insee = ? "
                     "AND active = 1 GROUP BY kind",
                     p, 1, &r, err);
    for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
        if (strcmp(store_text(r, i, 0), "service") == 0)
            *svc = store_int(r, i, 1);
        else
            *urg = store_int(r, i, 1);
    }
    gu_arena_free(a);
    return rc;
}

static int
load_row(struct store_conn *c, int64_t id, struct triage_model **out,
         struct gu_err *err)
{
    struct gu_arena *a;
    struct store_rows *r = NULL;
    struct store_val p[1] = {STORE_I(id)};
    const struct store_val *cell;
    int rc;

    *out = NULL;
    if (id == 0)
        return 0;
    a = gu_arena_new(4096);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_query(c, a, "SELECT data FROM tri_models WHERE id = ?", p, 1,
                     &r, err);
    if (rc == 0) {
        cell = store_cell(r, 0, 0);
        if (!cell || cell->type != STORE_BLOB)
            rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL, "model row %lld",
                            (long long)id);
        else
            rc = triage_model_read(cell->s, cell->n, out, err);
    }
    gu_arena_free(a);
    return rc;
}

/* Train and store the default models of a commune (no active row yet). */
static int
train_default(struct store_conn *c, const char *insee, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(1 << 16);
    struct tri_seed_row *seed = NULL;
    struct tri_service *svc = NULL;
    const char **texts = NULL, **labels = NULL;
    size_t *lens = NULL, ns = 0, nsvc = 0, k;
    struct memo *mm = NULL;
    char *key;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = tri_services_seed(c, insee, err)) < 0 ||
        (rc = tri_service_list(c, a, insee, true, &svc, &nsvc, err)) < 0 ||
        (rc = tri_seed_rows(a, &seed, &ns, err)) < 0)
        goto out;
    key = label_key(a, svc, nsvc);
    if (!key) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    pthread_mutex_lock(&memo_mu);
    for (size_t i = 0; i < memo_n; i++) {
        if (strcmp(memo_v[i].key, key) == 0)
            mm = &memo_v[i];
    }
    if (!mm) {
        struct memo fresh = {0};
        struct triage_train_info info;

        texts = gu_calloc(ns + 1, sizeof(*texts));
        labels = gu_calloc(ns + 1, sizeof(*labels));
        lens = gu_calloc(ns + 1, sizeof(*lens));
        if (!texts || !labels || !lens) {
            pthread_mutex_unlock(&memo_mu);
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            goto out;
        }
        k = seed_subset(seed, ns, svc, nsvc, texts, lens, labels);
        memset(&info, 0, sizeof(info));
        rc = train_set(texts, lens, labels, k, NULL, &fresh.svc, &fresh.nsvc,
                       &info, err);
        if (rc == 0)
            rc = train_urgency(seed, ns, NULL, NULL, NULL, 0, &fresh.urg,
                               &fresh.nurg, err);
        fresh.cv = info.cv_accuracy;
        fresh.key = rc == 0 ? gu_strdup(key) : NULL;
        if (rc == 0 && fresh.key && memo_n < GU_ARRAY_LEN(memo_v)) {
            memo_v[memo_n] = fresh;
            mm = &memo_v[memo_n++];
        } else if (rc == 0) {
            /* memo full: use it once, do not keep it */
            pthread_mutex_unlock(&memo_mu);
            if ((rc = store_begin(c, err)) == 0) {
                rc = store_model_row(c, insee, "service", fresh.svc,
                                     fresh.nsvc, k, 0, fresh.cv, err);
                if (rc == 0 && fresh.urg)
                    rc = store_model_row(c, insee, "urgence", fresh.urg,
                                         fresh.nurg, ns, 0, 0, err);
                if (rc == 0)
                    rc = store_commit(c, err);
                else
                    store_rollback(c);
            }
            gu_free(fresh.key);
            gu_free(fresh.svc);
            gu_free(fresh.urg);
            goto out;
        }
        if (rc < 0) {
            gu_free(fresh.svc);
            gu_free(fresh.urg);
            if (rc == GU_EINVAL) {
                /* fewer than two active services with seed examples: no
                   model; every request waits for an agent */
                gu_err_clear(err);
                rc = 0;
            }
            pthread_mutex_unlock(&memo_mu);
            goto out;
        }
    }
    /* Memo entries are never changed nor freed once published: the
       lock is not needed to read them, and is not held across the
       database's own lock. */
    pthread_mutex_unlock(&memo_mu);
    {
        size_t examples = 0;
        const char **tt = gu_calloc(ns + 1, sizeof(*tt));
        const char **ll = gu_calloc(ns + 1, sizeof(*ll));
        size_t *nn = gu_calloc(ns + 1, sizeof(*nn));

        if (tt && ll && nn)
            examples = seed_subset(seed, ns, svc, nsvc, tt, nn, ll);
        gu_free(tt);
        gu_free(ll);
        gu_free(nn);
        if ((rc = store_begin(c, err)) == 0) {
            rc = store_model_row(c, insee, "service", mm->svc, mm->nsvc,
                                 examples, 0, mm->cv, err);
            if (rc == 0 && mm->urg)
                rc = store_model_row(c, insee, "urgence", mm->urg, mm->nurg,
                                     ns, 0, 0, err);
            if (rc == 0)
                rc = store_commit(c, err);
            else
                store_rollback(c);
        }
    }
    if (rc == 0)
        gu_log_info("triage.model.default", "insee=%s", insee);
out:
    gu_free(texts);
    gu_free(labels);
    gu_free(lens);
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The cache                                                           */
/* ------------------------------------------------------------------ */

static void
ref_free(struct tri_model_ref *r)
{
    if (!r)
        return;
    triage_model_free(r->svc);
    triage_model_free(r->urg);
    gu_free(r);
}

static void *
cache_make(struct store *s)
{
    struct model_cache *mc = gu_calloc(1, sizeof(*mc));

    (void)s;
    if (!mc)
        return NULL;
    pthread_mutex_init(&mc->mu, NULL);
    pthread_mutex_init(&mc->train_mu, NULL);
    return mc;
}

static void
cache_free(void *p)
{
    struct model_cache *mc = p;

    if (!mc)
        return;
    for (size_t i = 0; i < mc->n; i++) {
        /* references still held at store_close() are a caller's bug;
           the cache's own one goes here */
        ref_free(mc->v[i]);
    }
    gu_free(mc->v);
    text_pipeline_free(mc->tp);
    pthread_mutex_destroy(&mc->mu);
    pthread_mutex_destroy(&mc->train_mu);
    gu_free(mc);
}

static struct model_cache *
cache_of(struct store *st)
{
    return store_ext(st, "triage.models", cache_make, cache_free);
}

const struct text_pipeline *
tri_pipeline(struct store *st, struct gu_err *err)
{
    struct model_cache *mc = cache_of(st);
    struct text_pipeline *tp;

    if (!mc) {
        gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom cache");
        return NULL;
    }
    pthread_mutex_lock(&mc->mu);
    if (!mc->tp && text_pipeline_new(NULL, 0, &mc->tp, err) < 0)
        mc->tp = NULL;
    tp = mc->tp;
    pthread_mutex_unlock(&mc->mu);
    return tp;
}

void
tri_model_put(struct tri_model_ref *r)
{
    /* the mutex lives in the cache; refs are only touched under it, so
       the ref keeps a pointer to nothing else: find the cache by the
       global list of stores is not possible - use an atomic instead */
    if (!r)
        return;
    if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0)
        ref_free(r);
}

/* Put `r` in the cache for its commune (replacing an older one). */
static int
cache_insert(struct model_cache *mc, struct tri_model_ref *r)
{
    pthread_mutex_lock(&mc->mu);
    for (size_t i = 0; i < mc->n; i++) {
        if (strcmp(mc->v[i]->insee, r->insee) == 0) {
            struct tri_model_ref *old = mc->v[i];

            mc->v[i] = r;
            pthread_mutex_unlock(&mc->mu);
            tri_model_put(old);
            return 0;
        }
    }
    if (mc->n == mc->cap) {
        size_t cap = mc->cap ? 2 * mc->cap : 16;
        struct tri_model_ref **v = gu_realloc(mc->v, cap * sizeof(*v));

        if (!v) {
            pthread_mutex_unlock(&mc->mu);
            return GU_ENOMEM;
        }
        mc->v = v;
        mc->cap = cap;
    }
    mc->v[mc->n++] = r;
    pthread_mutex_unlock(&mc->mu);
    return 0;
}

/* Load the active rows into a new reference (refs = 2: cache + caller). */
static int
load_ref(struct store_conn *c, const char *insee, int64_t svc_row,
         int64_t urg_row, struct tri_model_ref **out, struct gu_err *err)
{
    struct tri_model_ref *r = gu_calloc(1, sizeof(*r));
    int rc;

    *out = NULL;
    if (!r)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    tri_insee_copy(r->insee, insee);
    r->svc_row = svc_row;
    r->urg_row = urg_row;
    r->refs = 2;
    if ((rc = load_row(c, svc_row, &r->svc, err)) < 0 ||
        (rc = load_row(c, urg_row, &r->urg, err)) < 0) {
        ref_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int
tri_model_get(struct store *st, struct store_conn *c, const char *insee,
              struct tri_model_ref **out, struct gu_err *err)
{
    struct model_cache *mc = cache_of(st);
    struct tri_model_ref *r = NULL;
    int64_t svc = 0, urg = 0;
    int rc;

    *out = NULL;
    if (!mc)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom cache");
    if ((rc = tri_check_insee(insee, err)) < 0)
        return rc;
    if (store_in_tx(c))
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "tri_model_get inside a transaction");
    if ((rc = active_rows(c, insee, &svc, &urg, err)) < 0)
        return rc;
    pthread_mutex_lock(&mc->mu);
    for (size_t i = 0; i < mc->n; i++) {
        if (strcmp(mc->v[i]->insee, insee) == 0 && mc->v[i]->svc_row == svc &&
            mc->v[i]->urg_row == urg && svc != 0) {
            r = mc->v[i];
            __atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
            break;
        }
    }
    pthread_mutex_unlock(&mc->mu);
    if (r) {
        *out = r;
        return 0;
    }
    if (svc == 0) {
        pthread_mutex_lock(&mc->train_mu);
        rc = active_rows(c, insee, &svc, &urg, err);
        if (rc == 0 && svc == 0) {
            rc = train_default(c, insee, err);
            if (rc == 0)
                rc = active_rows(c, insee, &svc, &urg, err);
        }
        pthread_mutex_unlock(&mc->train_mu);
        if (rc < 0)
            return rc;
    }
    if ((rc = load_ref(c, insee, svc, urg, &r, err)) < 0)
        return rc;
    if (cache_insert(mc, r) < 0) {
        r->refs = 1; /* only the caller's */
    }
    *out = r;
    return 0;
}

const struct triage_model *
tri_model_service(const struct tri_model_ref *r)
{
    return r ? r->svc : NULL;
}

const struct triage_model *
tri_model_urgency(const struct tri_model_ref *r)
{
    return r ? r->urg : NULL;
}

/* ------------------------------------------------------------------ */
/* Classification                                                      */
/* ------------------------------------------------------------------ */

int
tri_classify(struct store *st, struct store_conn *c, struct gu_arena *a,
             const char *insee, const char *text, const char *hint,
             struct tri_classified *out, struct gu_err *err)
{
    struct tri_model_ref *ref = NULL;
    struct triage_scratch *sc = NULL;
    struct tri_service *svc = NULL;
    size_t nsvc = 0, n = strlen(text);
    const struct triage_model *m;
    struct triage_result res;
    double *probs = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    out->service = "";
    out->why = "[]";
    out->version = "";
    out->urgency = -1;
    if ((rc = tri_model_get(st, c, insee, &ref, err)) < 0)
        return rc;
    if ((rc = tri_service_list(c, a, insee, true, &svc, &nsvc, err)) < 0)
        goto out;
    sc = triage_scratch_new();
    if (!sc) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    m = ref->svc;
    if (m) {
        size_t nc = triage_model_nclasses(m);
        int best = -1;

        out->version = gu_arena_strdup(a, triage_model_id(m));
        probs = gu_arena_alloc(a, nc * sizeof(*probs));
        if (!probs || !out->version) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            goto out;
        }
        if (triage_predict(m, sc, text, n, TRIAGE_TOP_MAX, TRIAGE_WHY_MAX,
                           &res, probs) < 0) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom predict");
            goto out;
        }
        /* the best class that is still an active service */
        for (size_t i = 0; i < nc; i++) {
            const char *lab = triage_model_label(m, i);
            bool active = false;

            for (size_t j = 0; j < nsvc && !active; j++)
                active = strcmp(svc[j].code, lab) == 0;
            if (active && (best < 0 || probs[i] > probs[best]))
                best = (int)i;
        }
        if (best >= 0) {
            json_t *why = json_array();
            char *w;

            out->service =
                gu_arena_strdup(a, triage_model_label(m, (size_t)best));
            out->p = probs[best];
            /* the words that weighed most, when they are the winner's */
            for (size_t i = 0; why && best == res.id && i < res.nwhy; i++) {
                json_t *o = json_pack("{s:s%,s:f}", "mot",
                                      text + res.why[i].off,
                                      (size_t)res.why[i].len, "poids",
                                      (double)((int)(res.why[i].weight * 1000 +
                                                     0.5)) /
                                          1000.0);

                if (o)
                    json_array_append_new(why, o);
            }
            w = why ? json_dumps(why, JSON_COMPACT) : NULL;
            json_decref(why);
            out->why = w ? gu_arena_strdup(a, w) : "[]";
            free(w);
            if (!out->service || !out->why) {
                rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
                goto out;
            }
        }
        if (hint && *hint) {
            int k = triage_model_class(m, hint);

            out->hint_p = k >= 0 ? probs[k] : 0;
        }
    }
    if (ref->urg) {
        struct triage_result ur;

        /* The service model's counts of this text, scored again (the
         * text is analysed once per request). */
        if (triage_predict_again(ref->urg, sc, text, n, 3, 0, &ur, NULL) ==
                0 &&
            ur.label) {
            out->urgency = ur.label[0] - '0';
            out->urgency_p = ur.p;
        }
    }
out:
    triage_scratch_free(sc);
    tri_model_put(ref);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Retraining                                                          */
/* ------------------------------------------------------------------ */

static int
retrain_conn(struct store *st, struct store_conn *c, const char *insee,
             struct gu_arena *a, struct tri_retrain_info *info,
             struct gu_err *err)
{
    struct model_cache *mc = cache_of(st);
    struct tri_seed_row *seed = NULL;
    struct tri_service *svc = NULL;
    struct store_rows *r = NULL, *u = NULL;
    size_t ns = 0, nsvc = 0, k, cap, corrections = 0;
    const char **texts = NULL, **labels = NULL, **xt = NULL;
    size_t *lens = NULL, *xl = NULL;
    int *xu = NULL;
    void *sb = NULL, *ub = NULL;
    size_t nsb = 0, nub = 0;
    struct triage_train_info ti;
    struct tri_model_ref *ref = NULL;
    int64_t svc_row = 0, urg_row = 0, t0 = gu_now_ms();
    struct store_val p[2] = {STORE_T(insee), STORE_I(EXAMPLES_MAX)};
    int rc;

    if (!mc)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom cache");
    if ((rc = tri_check_insee(insee, err)) < 0)
        return rc;
    if ((rc = tri_services_seed(c, insee, err)) < 0 ||
        (rc = tri_service_list(c, a, insee, true, &svc, &nsvc, err)) < 0 ||
        (rc = tri_seed_rows(a, &seed, &ns, err)) < 0)
        return rc;
    /* Requests whose service an agent set, or that an agent worked to
       the end under the service they had (confirmed): redacted text. */
    rc = store_query(
        c, a,
        "SELECT r.subject_redacted || char(10) || r.body_redacted, s.code, "
        "EXISTS (SELECT 1 FROM tri_decisions d WHERE d.request_id = r.id "
        "AND d.kind = 'service' AND d.source = 'agent') OR r.service_source "
        "= 'agent' FROM tri_requests r JOIN tri_services s ON s.id = "
        "r.service_id AND s.insee = r.insee AND s.active = 1 WHERE r.insee "
        "= ? AND r.body_redacted <> '' AND (r.service_source = 'agent' OR "
        "r.status = 'resolue' OR EXISTS (SELECT 1 FROM tri_decisions d "
        "WHERE d.request_id = r.id AND d.kind = 'service' AND d.source = "
        "'agent')) ORDER BY r.id DESC LIMIT ?",
        p, 2, &r, err);
    if (rc < 0)
        return rc;
    /* Urgencies an agent set (the request's current urgency). */
    rc = store_query(
        c, a,
        "SELECT r.subject_redacted || char(10) || r.body_redacted, "
        "r.urgency FROM tri_requests r WHERE r.insee = ? AND "
        "r.body_redacted <> '' AND EXISTS (SELECT 1 FROM tri_decisions d "
        "WHERE d.request_id = r.id AND d.kind = 'urgence' AND d.source = "
        "'agent') ORDER BY r.id DESC LIMIT ?",
        p, 2, &u, err);
    if (rc < 0)
        return rc;
    cap = ns + r->nrows * CORRECTION_WEIGHT + 1;
    texts = gu_calloc(cap, sizeof(*texts));
    labels = gu_calloc(cap, sizeof(*labels));
    lens = gu_calloc(cap, sizeof(*lens));
    xt = gu_calloc(u->nrows + 1, sizeof(*xt));
    xl = gu_calloc(u->nrows + 1, sizeof(*xl));
    xu = gu_calloc(u->nrows + 1, sizeof(*xu));
    if (!texts || !labels || !lens || !xt || !xl || !xu) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    k = seed_subset(seed, ns, svc, nsvc, texts, lens, labels);
    for (size_t i = 0; i < r->nrows; i++) {
        bool corrected = store_int(r, i, 2) != 0;
        int copies = corrected ? CORRECTION_WEIGHT : 1;

        for (int w = 0; w < copies; w++) {
            texts[k] = store_text(r, i, 0);
            lens[k] = strlen(texts[k]);
            labels[k] = store_text(r, i, 1);
            k++;
        }
        if (corrected)
            corrections++;
    }
    memset(&ti, 0, sizeof(ti));
    pthread_mutex_lock(&mc->train_mu);
    rc = train_set(texts, lens, labels, k, NULL, &sb, &nsb, &ti, err);
    if (rc == 0) {
        size_t nx = 0;

        for (size_t i = 0; i < u->nrows; i++) {
            int v = (int)store_int(u, i, 1);

            if (v < 0 || v > TRI_URGENCY_MAX)
                continue;
            xt[nx] = store_text(u, i, 0);
            xl[nx] = strlen(xt[nx]);
            xu[nx] = v;
            nx++;
        }
        rc = train_urgency(seed, ns, xt, xl, xu, nx, &ub, &nub, err);
    }
    pthread_mutex_unlock(&mc->train_mu);
    if (rc == GU_EINVAL)
        gu_err_set(err, GU_EINVAL, "services",
                   "Apprentissage impossible : il faut au moins deux "
                   "services actifs ayant des exemples.",
                   "fewer than two classes");
    if (rc < 0)
        goto out;
    if ((rc = store_begin(c, err)) < 0)
        goto out;
    rc = store_model_row(c, insee, "service", sb, nsb, k, corrections,
                         ti.cv_accuracy, err);
    if (rc == 0 && ub)
        rc = store_model_row(c, insee, "urgence", ub, nub, ns + u->nrows, 0, 0,
                             err);
    if (rc == 0) {
        char *detail = gu_arena_sprintf(
            a, "{\"exemples\":%zu,\"corrections\":%zu,\"cv\":%.3f}", k,
            corrections, ti.cv_accuracy);

        rc = store_audit_add(c, insee, "systeme", "triage.model.train", "",
                             detail ? detail : "", gu_log_request_id(), err);
    }
    if (rc == 0)
        rc = store_commit(c, err);
    else
        store_rollback(c);
    if (rc < 0)
        goto out;
    /* swap the cache now rather than at the next request */
    if ((rc = active_rows(c, insee, &svc_row, &urg_row, err)) < 0 ||
        (rc = load_ref(c, insee, svc_row, urg_row, &ref, err)) < 0)
        goto out;
    if (info) {
        memset(info, 0, sizeof(*info));
        info->version = gu_arena_strdup(a, triage_model_id(ref->svc));
        info->examples = k;
        info->corrections = corrections;
        info->cv_accuracy = ti.cv_accuracy;
        info->seconds = (double)(gu_now_ms() - t0) / 1000.0;
    }
    if (cache_insert(mc, ref) < 0)
        ref->refs = 1;
    tri_model_put(ref);
    gu_log_info("triage.model.train",
                "insee=%s examples=%zu corrections=%zu cv=%.3f ms=%lld", insee,
                k, corrections, ti.cv_accuracy,
                (long long)(gu_now_ms() - t0));
out:
    gu_free(texts);
    gu_free(labels);
    gu_free(lens);
    gu_free(xt);
    gu_free(xl);
    gu_free(xu);
    gu_free(sb);
    gu_free(ub);
    return rc;
}

int
tri_retrain(struct store *st, const char *insee, struct gu_arena *a,
            struct tri_retrain_info *info, struct gu_err *err)
{
    struct store_conn *c = NULL;
    int rc;

    if ((rc = store_acquire(st, &c, err)) < 0)
        return rc;
    rc = retrain_conn(st, c, insee, a, info, err);
    store_release(c);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The nightly job                                                     */
/* ------------------------------------------------------------------ */

/*
 * Every commune that has a model is retrained once a day, at
 * triage.retrain_hour of its local time (or in the three hours after,
 * when the server was down then), when agents made corrections since its
 * current model. A commune with services and no model yet gets its
 * default one (trained from the seed) at the job's first run.
 */
int
tri_job_retrain(struct store *st, const struct gu_config *cfg,
                struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(8192);
    struct store_conn *c = NULL;
    struct store_commune *cm = NULL;
    size_t n = 0;
    int hour = (int)gu_config_int(cfg, "triage.retrain_hour"), done = 0, rc;
    int64_t now = gu_now();

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = store_acquire(st, &c, err)) < 0)
        goto out;
    if ((rc = store_commune_list(c, a, &cm, &n, err)) < 0)
        goto out;
    for (size_t i = 0; i < n && !notify_job_should_stop(); i++) {
        enum gu_tz tz = gu_tz_of_zone(cm[i].zone);
        int64_t day, at;
        int minute;
        struct store_rows *r = NULL;

        /* A commune with services but no model yet (created since the
           last start): train its default one now rather than make its
           first resident wait for it. */
        {
            int64_t svc_row = 0, urg_row = 0;
            struct store_val q[1] = {STORE_T(cm[i].insee)};
            struct store_rows *has = NULL;

            rc = active_rows(c, cm[i].insee, &svc_row, &urg_row, err);
            if (rc == 0 && svc_row == 0)
                rc = store_query(c, a,
                                 "SELECT COUNT(*) FROM tri_services WHERE "
                                 "insee = ? AND active = 1",
                                 q, 1, &has, err);
            if (rc < 0)
                goto out;
            if (svc_row == 0 && has && store_int(has, 0, 0) >= 2) {
                struct tri_model_ref *ref = NULL;

                if (tri_model_get(st, c, cm[i].insee, &ref, err) == 0) {
                    tri_model_put(ref);
                    done++;
                } else {
                    gu_err_clear(err);
                }
                continue;
            }
        }
        gu_tz_from_utc(tz, now, &day, &minute);
        at = gu_tz_to_utc(tz, day, hour * 60);
        if (now < at || now >= at + 3 * 3600)
            continue;
        struct store_val p[3] = {STORE_T(cm[i].insee), STORE_I(at),
                                 STORE_T(cm[i].insee)};

        rc = store_query(
            c, a,
            "SELECT m.created_at, (SELECT COUNT(*) FROM tri_decisions d "
            "WHERE d.insee = m.insee AND d.source = 'agent' AND d.kind IN "
            "('service', 'urgence') AND d.created_at > m.created_at) FROM "
            "tri_models m WHERE m.insee = ? AND m.kind = 'service' AND "
            "m.active = 1 AND m.created_at < ? AND ? <> '' ORDER BY m.id "
            "DESC LIMIT 1",
            p, 3, &r, err);
        if (rc < 0)
            goto out;
        if (r->nrows == 0 || store_int(r, 0, 1) == 0)
            continue;
        rc = retrain_conn(st, c, cm[i].insee, a, NULL, err);
        if (rc < 0) {
            gu_log_warn("triage.model.retrain_failed", "insee=%s err=%s",
                        cm[i].insee, gu_status_name(rc));
            gu_err_clear(err);
            rc = 0;
            continue;
        }
        done++;
    }
out:
    store_release(c);
    gu_arena_free(a);
    return rc < 0 ? rc : done;
}
