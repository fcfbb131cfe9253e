/*
 * asst_engine.c - one retrieval index per commune, cached and swapped.
 *
 * A bundle (pipeline with the commune's synonyms, index, fiches) is built
 * from kb_view_load() the first time a commune is asked, then reused. The
 * index learns its translation model from the pairs the fiches give
 * (asst_xlat_pairs_add(), the rule `guichet eval assistant` uses too).
 * The reindex job (every 5 s under `guichet serve`) compares each
 * bundle's generation with kb_generation(); when it moved, it builds a
 * new bundle off the request path while requests keep answering from the
 * old one, and swaps the pointer under the engine's mutex. Without the
 * job (tests, tools), a request checks every `check_ms` at most and
 * rebuilds itself (one request; the others keep the old bundle). Bundles are
 * refcounted, so a request in flight keeps the bundle it started with and the
 * last one out frees it.
 *
 * The hot path is a mutex, a table scan over the cached communes (a
 * handful) and an atomic increment.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "assistant/asst_internal.h"
#include "assistant/asst_xlat.h"
#include "notify/notify.h"

struct entry {
    char insee[6];
    struct asst_bundle *cur; /* NULL while the first build runs */
    int64_t checked_ms;
    bool building;
};

/* A commune's record as read at `at_ms` (name, contacts for answers). */
struct ccache {
    char insee[6];
    int64_t at_ms;
    struct gu_arena *a;
    struct store_commune m;
};

struct asst_engine {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct asst_engine_opts opts;
    struct entry *v;
    size_t n, cap;
    atomic_bool warmed; /* every commune built once by the job */
    struct ccache *cc;  /* communes read lately (asst_engine_commune) */
    size_t ncc, capcc;
    struct asst_writer *wr; /* the chat's turns to the database */
};

void
asst_engine_opts_default(struct asst_engine_opts *o)
{
    memset(o, 0, sizeof(*o));
    asst_params_default(&o->params);
    asst_policy_default(&o->policy);
    o->check_ms = 3000;
}

int
asst_engine_new(const struct asst_engine_opts *o, struct asst_engine **out,
                struct gu_err *err)
{
    struct asst_engine *e = gu_calloc(1, sizeof(*e));

    *out = NULL;
    if (!e)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: out of memory");
    e->wr = asst_writer_new();
    if (!e->wr) {
        gu_free(e);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: out of memory");
    }
    if (o)
        e->opts = *o;
    else
        asst_engine_opts_default(&e->opts);
    atomic_init(&e->warmed, false);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    *out = e;
    return 0;
}

static void
bundle_free(struct asst_bundle *b)
{
    if (!b)
        return;
    if (b->terms) {
        for (size_t i = 0; i < b->n; i++) {
            struct asst_ficheterms *ft = atomic_load(&b->terms[i]);
            if (!ft)
                continue;
            for (size_t k = 0; k < ft->n; k++) {
                gu_free(ft->sec[k].text);
                gu_free(ft->sec[k].tf);
                gu_free(ft->sec[k].path);
            }
            gu_free(ft->sec);
            gu_free(ft->all);
            gu_free(ft);
        }
        gu_free((void *)b->terms);
    }
    asst_index_free(b->ix);
    text_pipeline_free(b->tp);
    gu_arena_free(b->arena);
    gu_free(b);
}

void
asst_bundle_release(struct asst_bundle *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        bundle_free(b);
}

void
asst_engine_free(struct asst_engine *e)
{
    if (!e)
        return;
    asst_writer_free(e->wr); /* writes what is queued first */
    for (size_t i = 0; i < e->n; i++)
        asst_bundle_release(e->v[i].cur);
    gu_free(e->v);
    for (size_t i = 0; i < e->ncc; i++)
        gu_arena_free(e->cc[i].a);
    gu_free(e->cc);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    gu_free(e);
}

/* A deep copy of `m` in `a`; false on OOM. */
static bool
commune_copy(struct gu_arena *a, const struct store_commune *m,
             struct store_commune *out)
{
    *out = *m;
    out->name = gu_arena_strdup(a, m->name ? m->name : "");
    out->zone = gu_arena_strdup(a, m->zone ? m->zone : "");
    out->hours = gu_arena_strdup(a, m->hours ? m->hours : "");
    out->address = gu_arena_strdup(a, m->address ? m->address : "");
    out->phone = gu_arena_strdup(a, m->phone ? m->phone : "");
    out->email = gu_arena_strdup(a, m->email ? m->email : "");
    return out->name && out->zone && out->hours && out->address && out->phone &&
           out->email;
}

int
asst_engine_commune(struct asst_engine *e, struct store_conn *c,
                    struct gu_arena *a, const char *insee,
                    struct store_commune *out, struct gu_err *err)
{
    int64_t now = gu_now_ms();
    struct gu_arena *na;
    struct store_commune m;
    int rc;

    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; e->opts.check_ms > 0 && i < e->ncc; i++) {
        struct ccache *k = &e->cc[i];
        if (strcmp(k->insee, insee) != 0 || now - k->at_ms >= e->opts.check_ms)
            continue;
        bool ok = commune_copy(a, &k->m, out);
        pthread_mutex_unlock(&e->mu);
        return ok ? 0 : gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    pthread_mutex_unlock(&e->mu);
    rc = store_commune_get(c, a, insee, out, err);
    if (rc < 0 || e->opts.check_ms <= 0)
        return rc;
    /* Remember it (a failure to do so only costs the next read). */
    na = gu_arena_new(1024);
    if (!na || !commune_copy(na, out, &m)) {
        gu_arena_free(na);
        return 0;
    }
    pthread_mutex_lock(&e->mu);
    size_t i = 0;
    while (i < e->ncc && strcmp(e->cc[i].insee, insee) != 0)
        i++;
    if (i == e->ncc && e->ncc == e->capcc) {
        size_t ncap = e->capcc ? e->capcc * 2 : 8;
        struct ccache *nv = gu_realloc(e->cc, ncap * sizeof(*nv));
        if (!nv) {
            pthread_mutex_unlock(&e->mu);
            gu_arena_free(na);
            return 0;
        }
        e->cc = nv;
        e->capcc = ncap;
    }
    if (i == e->ncc)
        e->ncc++;
    else
        gu_arena_free(e->cc[i].a);
    memset(&e->cc[i], 0, sizeof(e->cc[i]));
    memcpy(e->cc[i].insee, insee, strnlen(insee, 5));
    e->cc[i].at_ms = now;
    e->cc[i].a = na;
    e->cc[i].m = m;
    pthread_mutex_unlock(&e->mu);
    return 0;
}

const struct asst_engine_opts *
asst_engine_options(const struct asst_engine *e)
{
    return &e->opts;
}

long
asst_bundle_find(const struct asst_bundle *b, const char *id)
{
    if (!id || !*id)
        return -1;
    for (size_t i = 0; i < b->n; i++) {
        if (strcmp(b->fiches[i].id, id) == 0)
            return (long)i;
    }
    return -1;
}

/*
 * The pipeline with the commune's synonym table. kb gives the built-in
 * table when the commune never edited its own, and an edited table is a
 * full table that started as a copy of the built-in one, so it replaces
 * it (a group the commune removed stays removed).
 */
static int
pipeline_for(struct store_conn *c, struct gu_arena *a, const char *insee,
             struct text_pipeline **out, struct gu_err *err)
{
    const char *own = NULL;
    struct gu_err e2;
    int rc;

    gu_err_clear(&e2);
    rc = kb_synonyms_get(c, a, insee, &own, &e2);
    if (rc < 0 && rc != GU_ENOTFOUND)
        return gu_err_set(err, rc, NULL, NULL, "asst: synonyms: %s", e2.msg);
    if (!own)
        return text_pipeline_new(NULL, 0, out, err);
    rc = text_pipeline_new(own, strlen(own), out, &e2);
    if (rc == GU_EINVAL) {
        /* A bad line must not take the assistant down (kb checks tables
         * on save; this is for tables written before that check). */
        gu_log_warn("asst.synonyms", "insee=%s err=bad_table", insee);
        return text_pipeline_new(NULL, 0, out, err);
    }
    if (rc < 0)
        return gu_err_set(err, rc, NULL, NULL, "asst: pipeline: %s", e2.msg);
    return 0;
}

/* A copy in `a` of s ("" for NULL); NULL on OOM. */
static const char *
dup(struct gu_arena *a, const char *s)
{
    return gu_arena_strdup(a, s ? s : "");
}

/*
 * Keep only what answers need (title, description, alternative
 * questions, tags, themes, sections, links, source) in a new arena and
 * free kb's: the bodies served the index build only. For the 4,874
 * service-public fiches this is most of the memory.
 */
static int
compact(struct asst_bundle *b, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(1 << 16);
    struct kb_fiche *nf =
        a ? gu_arena_zalloc(a, (b->n + 1) * sizeof(*nf)) : NULL;
    bool ok = nf != NULL;

    for (size_t i = 0; ok && i < b->n; i++) {
        const struct kb_fiche *f = &b->fiches[i];
        struct kb_fiche *g = &nf[i];

        g->id = dup(a, f->id);
        g->origin = f->origin;
        memcpy(g->insee, f->insee, sizeof(g->insee));
        g->title = dup(a, f->title);
        g->description = dup(a, f->description);
        /* Alternative questions, tags and themes are short and tell
         * what a fiche covers (asst_coverage). */
        g->alt = dup(a, f->alt);
        g->tags = dup(a, f->tags);
        g->context = dup(a, f->context);
        g->body = g->service = "";
        g->replaces = g->contact = g->hours = g->updated_by = "";
        /* A local fiche's source is its public page on this server. */
        if (f->origin == KB_LOCAL && (!f->source_url || !*f->source_url))
            g->source_url =
                gu_arena_sprintf(a, "/c/%s/fiches/%s", f->insee, f->id);
        else
            g->source_url = dup(a, f->source_url);
        g->source_date = dup(a, f->source_date);
        g->valid_until = f->valid_until;
        g->version = f->version;
        g->updated_at = f->updated_at;
        g->sections =
            gu_arena_zalloc(a, (f->nsections + 1) * sizeof(*g->sections));
        g->links = gu_arena_zalloc(a, (f->nlinks + 1) * sizeof(*g->links));
        ok = g->id && g->title && g->description && g->source_url &&
             g->source_date && g->sections && g->links && g->alt && g->tags &&
             g->context;
        for (size_t k = 0; ok && k < f->nsections; k++) {
            g->sections[k].ord = f->sections[k].ord;
            g->sections[k].path = dup(a, f->sections[k].path);
            g->sections[k].text = dup(a, f->sections[k].text);
            ok = g->sections[k].path && g->sections[k].text;
        }
        g->nsections = f->nsections;
        for (size_t k = 0; ok && k < f->nlinks; k++) {
            g->links[k].kind = f->links[k].kind;
            g->links[k].label = dup(a, f->links[k].label);
            g->links[k].url = dup(a, f->links[k].url);
            g->links[k].target = dup(a, f->links[k].target);
            ok = g->links[k].label && g->links[k].url && g->links[k].target;
        }
        g->nlinks = f->nlinks;
    }
    if (!ok) {
        gu_arena_free(a);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    gu_arena_free(b->arena);
    b->arena = a;
    b->fiches = nf;
    return 0;
}

static int
bundle_build(struct store_conn *c, const struct asst_engine_opts *o,
             const char *insee, struct asst_bundle **out, struct gu_err *err)
{
    struct asst_bundle *b;
    struct store_commune m;
    struct asst_doc *docs = NULL;
    struct asst_xlat_pairs xp;
    int64_t t0 = gu_now_ms();
    int rc;

    memset(&xp, 0, sizeof(xp));
    *out = NULL;
    b = gu_calloc(1, sizeof(*b));
    if (!b)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: out of memory");
    atomic_init(&b->refs, 1);
    memcpy(b->insee, insee, strnlen(insee, 5));
    b->arena = gu_arena_new(1 << 16);
    if (!b->arena) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: out of memory");
        goto fail;
    }
    rc = store_commune_get(c, b->arena, insee, &m, err);
    if (rc < 0)
        goto fail;
    /* Read the generation first: a change during the load is seen by the
     * next check and rebuilds. */
    b->generation = kb_generation(c, insee);
    rc = pipeline_for(c, b->arena, insee, &b->tp, err);
    if (rc < 0)
        goto fail;
    rc = kb_view_load(c, b->arena, insee, &b->fiches, &b->n, err);
    if (rc < 0)
        goto fail;
    docs = gu_calloc(b->n ? b->n : 1, sizeof(*docs));
    b->terms = gu_calloc(b->n ? b->n : 1, sizeof(*b->terms));
    if (!docs || !b->terms) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct kb_fiche *f = &b->fiches[i];
        const char *t[ASST_NFIELDS] = {f->title, f->alt, f->description,
                                       f->body, f->context};

        docs[i].id = f->id;
        for (int k = 0; k < ASST_NFIELDS; k++) {
            docs[i].text[k] = t[k];
            docs[i].len[k] = t[k] ? strlen(t[k]) : 0;
        }
        atomic_init(&b->terms[i], NULL);
    }
    /* The translation model's pairs, by the rule the evaluation uses
     * (asst_xlat_pairs_add), so that the product ranks as evaluated. */
    if (o->params.xlat > 0 && o->params.xlat_pairs) {
        rc = asst_xlat_pairs_init(&xp);
        for (size_t i = 0; rc == 0 && i < b->n; i++)
            rc = asst_xlat_pairs_add(&xp, &b->fiches[i], o->params.xlat_pairs);
        if (rc < 0) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: out of memory");
            goto fail;
        }
    }
    /* Also with no fiche: an empty index finds nothing. */
    rc = asst_index_build_xlat(b->tp, docs, b->n, xp.v, xp.n, &o->params,
                               &b->ix, err);
    if (rc < 0)
        goto fail;
    gu_free(docs);
    docs = NULL;
    size_t npairs = xp.n;
    asst_xlat_pairs_fini(&xp);
    rc = compact(b, err);
    if (rc < 0)
        goto fail;
    b->built_ms = gu_now_ms() - t0;
    gu_log_info("asst.index",
                "insee=%s fiches=%zu pairs=%zu terms=%zu kib=%zu ms=%lld "
                "generation=%lld",
                b->insee, b->n, npairs, b->ix ? asst_index_nterms(b->ix) : 0,
                b->ix ? asst_index_bytes(b->ix) / 1024 : 0,
                (long long)b->built_ms, (long long)b->generation);
    *out = b;
    return 0;
fail:
    gu_free(docs);
    asst_xlat_pairs_fini(&xp);
    bundle_free(b);
    return rc;
}

static struct entry *
find(struct asst_engine *e, const char *insee)
{
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->v[i].insee, insee) == 0)
            return &e->v[i];
    }
    return NULL;
}

static struct entry *
add(struct asst_engine *e, const char *insee)
{
    if (e->n == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 8;
        struct entry *nv = gu_realloc(e->v, ncap * sizeof(*nv));
        if (!nv)
            return NULL;
        e->v = nv;
        e->cap = ncap;
    }
    struct entry *x = &e->v[e->n++];
    memset(x, 0, sizeof(*x));
    memcpy(x->insee, insee, strnlen(insee, 5));
    return x;
}

static void
drop(struct asst_engine *e, const char *insee)
{
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->v[i].insee, insee) == 0) {
            e->v[i] = e->v[--e->n];
            return;
        }
    }
}

/*
 * Build and install a bundle for `insee`; the caller set x->building.
 * Called without the lock. Returns a new reference in *out (may be NULL).
 */
static int
rebuild(struct asst_engine *e, struct store_conn *c, const char *insee,
        struct asst_bundle **out, struct gu_err *err)
{
    struct asst_bundle *nb = NULL, *old = NULL;
    int rc = bundle_build(c, &e->opts, insee, &nb, err);

    pthread_mutex_lock(&e->mu);
    struct entry *x = find(e, insee);
    if (rc == 0 && x) {
        old = x->cur;
        x->cur = nb;
        x->checked_ms = gu_now_ms();
        x->building = false;
        if (out) {
            atomic_fetch_add(&nb->refs, 1);
            *out = nb;
        }
    } else if (x) {
        x->building = false;
        if (!x->cur)
            drop(e, insee);
    }
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    asst_bundle_release(old);
    if (rc == 0 && !x)
        asst_bundle_release(nb);
    return rc;
}

int
asst_engine_acquire(struct asst_engine *e, struct store_conn *c,
                    const char *insee, struct asst_bundle **out,
                    struct gu_err *err)
{
    struct asst_bundle *b;
    struct entry *x;
    int64_t now = gu_now_ms();

    *out = NULL;
    if (!store_insee_valid(insee))
        return gu_err_set(err, GU_ENOTFOUND, "commune", "Commune inconnue.",
                          "bad insee");
    pthread_mutex_lock(&e->mu);
    for (;;) {
        x = find(e, insee);
        if (!x || x->cur || !x->building)
            break;
        /* The first build of this commune runs elsewhere: wait for it. */
        pthread_cond_wait(&e->cv, &e->mu);
    }
    if (!x || !x->cur) {
        if (!x && !(x = add(e, insee))) {
            pthread_mutex_unlock(&e->mu);
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
        }
        x->building = true;
        pthread_mutex_unlock(&e->mu);
        return rebuild(e, c, insee, out, err);
    }
    b = x->cur;
    atomic_fetch_add(&b->refs, 1);
    /* Once the reindex job runs (it set `warmed`), it alone rebuilds:
     * requests never wait for a build, they keep the current bundle. */
    if (x->building || now - x->checked_ms < e->opts.check_ms ||
        atomic_load(&e->warmed)) {
        pthread_mutex_unlock(&e->mu);
        *out = b;
        return 0;
    }
    x->checked_ms = now;
    pthread_mutex_unlock(&e->mu);

    int64_t gen = kb_generation(c, insee);
    if (gen < 0 || gen == b->generation) {
        *out = b;
        return 0;
    }
    /* Stale: this request rebuilds (unless someone already does), the
     * others keep the old bundle meanwhile. */
    pthread_mutex_lock(&e->mu);
    x = find(e, insee);
    if (!x || x->building) {
        pthread_mutex_unlock(&e->mu);
        *out = b;
        return 0;
    }
    x->building = true;
    pthread_mutex_unlock(&e->mu);
    struct asst_bundle *nb = NULL;
    struct gu_err e2;
    gu_err_clear(&e2);
    if (rebuild(e, c, insee, &nb, &e2) < 0) {
        gu_log_error("asst.index", "insee=%s err=%s", insee,
                     gu_status_name(e2.code));
        *out = b; /* keep answering from the old one */
        return 0;
    }
    asst_bundle_release(b);
    *out = nb;
    return 0;
}

int
asst_engine_reload(struct asst_engine *e, struct store_conn *c,
                   const char *insee, struct gu_err *err)
{
    char(*list)[6] = NULL;
    size_t n = 0;
    int rc = 0;

    pthread_mutex_lock(&e->mu);
    if (insee) {
        struct entry *x = find(e, insee);
        if (x && x->building) {
            /* Wait for the running build, then rebuild after it. */
            while ((x = find(e, insee)) && x->building)
                pthread_cond_wait(&e->cv, &e->mu);
        }
        if (!x && !(x = add(e, insee))) {
            pthread_mutex_unlock(&e->mu);
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
        }
        x->building = true;
        pthread_mutex_unlock(&e->mu);
        return rebuild(e, c, insee, NULL, err);
    }
    list = gu_calloc(e->n ? e->n : 1, sizeof(*list));
    if (!list) {
        pthread_mutex_unlock(&e->mu);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    for (size_t i = 0; i < e->n; i++)
        memcpy(list[n++], e->v[i].insee, 6);
    pthread_mutex_unlock(&e->mu);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = asst_engine_reload(e, c, list[i], err);
    gu_free(list);
    return rc;
}

int
asst_engine_refresh(struct asst_engine *e, struct store_conn *c, int *rebuilt,
                    struct gu_err *err)
{
    struct {
        char insee[6];
        int64_t gen;
    } *list = NULL;
    size_t n = 0;
    int rc = 0, count = 0;

    if (rebuilt)
        *rebuilt = 0;
    pthread_mutex_lock(&e->mu);
    list = gu_calloc(e->n ? e->n : 1, sizeof(*list));
    if (!list) {
        pthread_mutex_unlock(&e->mu);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    for (size_t i = 0; i < e->n; i++) {
        if (!e->v[i].cur || e->v[i].building)
            continue;
        memcpy(list[n].insee, e->v[i].insee, 6);
        list[n++].gen = e->v[i].cur->generation;
    }
    pthread_mutex_unlock(&e->mu);
    for (size_t i = 0; i < n; i++) {
        int64_t gen = kb_generation(c, list[i].insee);
        if (gen < 0 || gen == list[i].gen)
            continue;
        pthread_mutex_lock(&e->mu);
        struct entry *x = find(e, list[i].insee);
        bool mine = x && !x->building;
        if (mine)
            x->building = true;
        pthread_mutex_unlock(&e->mu);
        if (!mine)
            continue;
        rc = rebuild(e, c, list[i].insee, NULL, err);
        if (rc < 0)
            break;
        count++;
    }
    gu_free(list);
    if (rebuilt)
        *rebuilt = count;
    return rc;
}

int64_t
asst_engine_generation(struct asst_engine *e, const char *insee)
{
    int64_t g = -1;

    pthread_mutex_lock(&e->mu);
    struct entry *x = find(e, insee);
    if (x && x->cur)
        g = x->cur->generation;
    pthread_mutex_unlock(&e->mu);
    return g;
}

struct asst_writer *
asst_engine_writer(struct asst_engine *e)
{
    return e ? e->wr : NULL;
}

int
asst_engine_check_ms(const struct asst_engine *e)
{
    return e ? e->opts.check_ms : 0;
}

/* ----- the engine of a database ----- */

static void *
engine_make(struct store *s)
{
    struct asst_engine *e = NULL;
    struct gu_err err;

    (void)s;
    gu_err_clear(&err);
    if (asst_engine_new(NULL, &e, &err) < 0)
        return NULL;
    return e;
}

static void
engine_free(void *p)
{
    asst_engine_free(p);
}

/*
 * The indexes are derived from one database, so the engine is attached to
 * its store: two stores in one process (tests, tools) never share an
 * index, and store_close() frees it.
 */
struct asst_engine *
asst_engine_of(struct store *s)
{
    return s ? store_ext(s, "asst.engine", engine_make, engine_free) : NULL;
}

int
asst_reindex_job(struct store *s, const struct gu_config *cfg,
                 struct gu_err *err)
{
    struct asst_engine *e = asst_engine_of(s);
    struct store_conn *c = NULL;
    int rc, n = 0, warm = 0;

    (void)cfg;
    if (!e)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: no engine");
    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
    if (!atomic_exchange(&e->warmed, true)) {
        /* First run, at start: build every commune's index now, so that
         * no resident waits for it. */
        struct gu_arena *a = gu_arena_new(0);
        struct store_commune *list = NULL;
        size_t nc = 0;
        if (a && store_commune_list(c, a, &list, &nc, err) == 0) {
            for (size_t i = 0; i < nc; i++) {
                if (asst_engine_generation(e, list[i].insee) >= 0)
                    continue;
                if (asst_engine_reload(e, c, list[i].insee, err) == 0)
                    warm++;
            }
        }
        gu_arena_free(a);
    }
    rc = asst_engine_refresh(e, c, &n, err);
    store_release(c);
    if (n > 0 || warm > 0)
        gu_log_info("asst.reindex", "built=%d rebuilt=%d", warm, n);
    return rc;
}

static const struct notify_job jobs[] = {
    {"asst.reindex", 5, asst_reindex_job, false},
    {"asst.purge", 3600, asst_purge, true},
    {"asst.inbox", 5, asst_handoff_inbox_job, false}, /* hand-offs to the inbox */
};

const struct notify_job *
asst_jobs(size_t *count)
{
    *count = GU_ARRAY_LEN(jobs);
    return jobs;
}
