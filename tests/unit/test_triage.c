/*
 * test_triage.c - the request classifier: featurisation, training on a
 * small synthetic corpus written here, calibrated probabilities,
 * explanations, the model file (round trip, corrupted and truncated
 * files refused, version 2 files still read, unknown versions refused in
 * French), the fast folding of the character n-grams against
 * text_fold() itself, and the TSV reader's errors.
 */
#include "harness.h"

#include "core/core.h"
#include "triage/triage.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Four services, a few ways of asking, typos and SMS writing included. */
static const char *const corpus[][2] = {
    {"voirie", "Il y a un nid de poule énorme rue des Lilas"},
    {"voirie", "nid de poule dangereux devant l'école, la chaussée est défoncée"},
    {"voirie", "Le trottoir est cassé avenue Jean Jaurès"},
    {"voirie", "chaussée abîmée et trou dans la route près du rond-point"},
    {"voirie", "lampadaire en panne, la rue est dans le noir"},
    {"voirie", "un trou ds la chaussee rue du moulin svp"},
    {"voirie", "Le panneau stop est tombé au carrefour"},
    {"voirie", "nid de poule rue de la gare, ma voiture est abîmée"},
    {"voirie", "éclairage public éteint depuis trois jours"},
    {"voirie", "trottoir défoncé, les poussettes ne passent plus"},
    {"dechets", "Les poubelles n'ont pas été ramassées cette semaine"},
    {"dechets", "dépôt sauvage de déchets au bout du chemin"},
    {"dechets", "le bac jaune n'a pas été collecté"},
    {"dechets", "encombrants abandonnés sur le trottoir devant chez moi"},
    {"dechets", "kan passe la collecte des ordures stp"},
    {"dechets", "conteneur à verre plein et des déchets partout"},
    {"dechets", "demande d'un nouveau bac pour les ordures ménagères"},
    {"dechets", "ramassage des poubelles oublié rue des Lilas"},
    {"dechets", "sacs poubelles éventrés, déchets sur la place"},
    {"dechets", "horaires de la déchetterie pour les encombrants"},
    {"etat-civil", "Je voudrais un acte de naissance pour mon fils"},
    {"etat-civil", "demande de copie d'acte de mariage"},
    {"etat-civil", "comment déclarer une naissance à la mairie"},
    {"etat-civil", "jveux un acte de naissance intégral svp"},
    {"etat-civil", "rendez-vous pour un mariage civil l'été prochain"},
    {"etat-civil", "livret de famille perdu, comment en avoir un nouveau"},
    {"etat-civil", "acte de décès de ma grand-mère"},
    {"etat-civil", "changement de prénom à l'état civil"},
    {"etat-civil", "extrait d'acte de mariage avec filiation"},
    {"etat-civil", "pacs : quels papiers pour l'enregistrer en mairie"},
    {"cantine", "inscription de ma fille à la cantine scolaire"},
    {"cantine", "menu de la cantine de l'école cette semaine"},
    {"cantine", "ma facture de cantine est fausse"},
    {"cantine", "mon fils est allergique, repas adapté à la cantine"},
    {"cantine", "inscrire les enfants au périscolaire et à la garderie"},
    {"cantine", "tarif du repas à la cantine pour deux enfants"},
    {"cantine", "la cantine a servi un repas froid aux enfants"},
    {"cantine", "désinscription cantine pour le mois prochain"},
    {"cantine", "kel est le menu de la cantine demain"},
    {"cantine", "accueil périscolaire du mercredi et cantine"},
};

#define NCORPUS (sizeof(corpus) / sizeof(corpus[0]))

/* The corpus as triage_train() takes it. */
static void
corpus_columns(const char **texts, size_t *lens, const char **labels)
{
    for (size_t i = 0; i < NCORPUS; i++) {
        labels[i] = corpus[i][0];
        texts[i] = corpus[i][1];
        lens[i] = strlen(texts[i]);
    }
}

static struct triage_model *
train_small(void)
{
    const char *texts[NCORPUS], *labels[NCORPUS];
    size_t lens[NCORPUS];
    struct triage_train_opts o = {.bits = 14, .threads = 2};
    struct triage_train_info info;
    struct triage_model *m = NULL;
    struct gu_err err = {0};

    corpus_columns(texts, lens, labels);
    CHECK_EQ(triage_train(texts, lens, labels, NCORPUS, &o, &m, &info, &err),
             0);
    CHECK(m != NULL);
    if (m) {
        CHECK_EQ(info.nclasses, 4);
        CHECK(info.temperature > 0);
        CHECK(info.solver == TRIAGE_SOLVER_NBSVM);
    }
    return m;
}

/* glibc's rand() after srand(seed), drawn through random_r() (which
 * triage_model.c's rand() does not replace). */
static void
glibc_seq(unsigned seed, int *out, size_t n)
{
    struct random_data rd;
    char st[128];
    int32_t v;

    memset(&rd, 0, sizeof(rd));
    initstate_r(1, st, sizeof(st), &rd);
    srandom_r(seed, &rd);
    for (size_t i = 0; i < n; i++) {
        random_r(&rd, &v);
        out[i] = v;
    }
}

static void *
draw_other(void *arg)
{
    int *out = arg;

    srand(5);
    for (int i = 0; i < 1000; i++)
        out[i] = rand();
    return NULL;
}

/* rand() is glibc's sequence, one state per thread: what liblinear
 * draws in one fit does not depend on the fits of other threads. */
static void
test_rand_per_thread(void)
{
    static int want[2000], got[2000], other[1000];
    static const unsigned seeds[] = {1, 0, 5, 12345, 4294967295u};
    pthread_t th;

    for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
        glibc_seq(seeds[k], want, 2000);
        srand(seeds[k]);
        for (int i = 0; i < 2000; i++)
            got[i] = rand();
        CHECK(memcmp(want, got, sizeof(want)) == 0);
    }
    /* Another thread draws from the same seed in between: this thread's
     * sequence goes on as if it had not. */
    glibc_seq(5, want, 20);
    srand(5);
    for (int i = 0; i < 10; i++)
        got[i] = rand();
    CHECK_EQ(pthread_create(&th, NULL, draw_other, other), 0);
    pthread_join(th, NULL);
    for (int i = 10; i < 20; i++)
        got[i] = rand();
    CHECK(memcmp(want, got, 20 * sizeof(int)) == 0);
    CHECK(memcmp(want, other, 20 * sizeof(int)) == 0);
}

/* One or two threads: the same model, the same temperature, run after
 * run (the model's own fit runs beside the cross-validation's). */
static void
test_train_threads_same(void)
{
    const char *texts[NCORPUS], *labels[NCORPUS];
    size_t lens[NCORPUS];
    char id[64] = "";
    double temp = 0;

    corpus_columns(texts, lens, labels);
    for (int run = 0; run < 6; run++) {
        struct triage_train_opts o = {.bits = 14, .threads = 1 + run % 2};
        struct triage_train_info info;
        struct triage_model *m = NULL;
        struct gu_err err = {0};
        CHECK_EQ(triage_train(texts, lens, labels, NCORPUS, &o, &m, &info,
                              &err),
                 0);
        if (!m)
            return;
        if (run == 0) {
            snprintf(id, sizeof(id), "%s", triage_model_id(m));
            temp = info.temperature;
        }
        CHECK_STR(triage_model_id(m), id);
        CHECK(info.temperature == temp);
        triage_model_free(m);
    }
}

static void
test_featurize_deterministic(void)
{
    struct text_pipeline *tp = NULL;
    struct triage_scratch *s = triage_scratch_new();
    const char *t = "Nid de poule énorme rue des Lilas, svp réparez vite !";
    struct triage_fvec fv;
    uint32_t idx[4096];
    float val[4096];
    size_t n;
    double norm = 0;

    CHECK_EQ(text_pipeline_new(NULL, 0, &tp, NULL), 0);
    CHECK(s != NULL);
    if (!tp || !s)
        goto out;
    CHECK_EQ(triage_featurize(tp, 18, s, t, strlen(t), &fv), 0);
    n = fv.n;
    CHECK(n > 40 && n < 4096); /* words, bigrams and character n-grams */
    memcpy(idx, fv.idx, n * sizeof(*idx));
    memcpy(val, fv.val, n * sizeof(*val));
    for (size_t i = 0; i < n; i++) {
        CHECK(idx[i] < (1u << 18));
        norm += (double)val[i] * val[i];
    }
    CHECK(fabs(norm - 1) < 1e-4); /* unit vector */
    /* Another text in between, then the same text: the same vector. */
    CHECK_EQ(triage_featurize(tp, 18, s, "acte de naissance", 17, &fv), 0);
    CHECK(fv.n > 0 && fv.n != n);
    CHECK_EQ(triage_featurize(tp, 18, s, t, strlen(t), &fv), 0);
    CHECK_EQ(fv.n, n);
    CHECK(memcmp(fv.idx, idx, n * sizeof(*idx)) == 0);
    CHECK(memcmp(fv.val, val, n * sizeof(*val)) == 0);
    /* A case and accent variant shares its character n-grams. */
    CHECK_EQ(triage_featurize(tp, 18, s, "NID DE POULE ENORME", 19, &fv), 0);
    CHECK(fv.n > 10);
    /* Empty text, bad bits. */
    CHECK_EQ(triage_featurize(tp, 18, s, "", 0, &fv), 0);
    CHECK_EQ(triage_featurize(tp, 3, s, t, strlen(t), &fv), GU_EINVAL);
out:
    triage_scratch_free(s);
    text_pipeline_free(tp);
}

static void
test_train_predict(void)
{
    struct triage_model *m = train_small();
    struct triage_scratch *s = triage_scratch_new();
    static const char *const unseen[][2] = {
        {"voirie", "gros nid de poule sur la chaussée rue Victor Hugo"},
        {"dechets", "les poubelles ne sont pas ramassées"},
        {"etat-civil", "il me faut un acte de naissance"},
        {"cantine", "inscription à la cantine pour la rentrée"},
    };
    size_t ok = 0;

    if (!m || !s)
        goto out;
    CHECK_STR(triage_model_label(m, 0), "cantine"); /* sorted labels */
    CHECK_EQ(triage_model_class(m, "voirie"), 3);
    CHECK_EQ(triage_model_class(m, "inconnu"), -1);
    for (size_t i = 0; i < NCORPUS; i++) {
        struct triage_result r;
        CHECK_EQ(triage_predict(m, s, corpus[i][1], strlen(corpus[i][1]), 1,
                                0, &r, NULL),
                 0);
        ok += strcmp(r.label, corpus[i][0]) == 0;
    }
    CHECK(ok >= NCORPUS - 2); /* it learns its training set */
    for (size_t i = 0; i < GU_ARRAY_LEN(unseen); i++) {
        const char *t = unseen[i][1];
        size_t n = strlen(t);
        struct triage_result r;
        double p[TRIAGE_CLASSES_MAX], sum = 0;
        CHECK_EQ(triage_predict(m, s, t, n, 3, 5, &r, p), 0);
        CHECK_STR(r.label, unseen[i][0]);
        for (size_t j = 0; j < triage_model_nclasses(m); j++) {
            CHECK(p[j] >= 0 && p[j] <= 1);
            sum += p[j];
        }
        CHECK(fabs(sum - 1) < 1e-9);
        CHECK_EQ(r.ntop, 3);
        CHECK(r.top[0].id == r.id && r.top[0].p == r.p);
        CHECK(r.top[0].p >= r.top[1].p && r.top[1].p >= r.top[2].p);
        CHECK(r.p > 0.25); /* above chance among four */
        /* The explanation: words of this text, heaviest first. */
        CHECK(r.nwhy >= 1);
        for (size_t w = 0; w < r.nwhy; w++) {
            CHECK(r.why[w].len > 0 && r.why[w].off + r.why[w].len <= n);
            CHECK(r.why[w].weight > 0);
            if (w > 0)
                CHECK(r.why[w].weight <= r.why[w - 1].weight);
        }
    }
    {
        /* The word that names the service weighs most. */
        const char *t = "la cantine";
        struct triage_result r;
        CHECK_EQ(triage_predict(m, s, t, strlen(t), 1, 3, &r, NULL), 0);
        CHECK(r.nwhy >= 1);
        if (r.nwhy >= 1)
            CHECK(r.why[0].len == 7 && memcmp(t + r.why[0].off, "cantine", 7)
                                           == 0);
    }
out:
    triage_scratch_free(s);
    triage_model_free(m);
}

/* A model of the corpus with options o, labels relabelled by `two`
 * (true: two classes, "voirie ou dechets" against the rest, as an
 * urgency model has its own labels). */
static struct triage_model *
train_opts(const struct triage_train_opts *o, bool two)
{
    const char *texts[NCORPUS], *labels[NCORPUS];
    size_t lens[NCORPUS];
    struct triage_model *m = NULL;
    struct gu_err err = {0};

    for (size_t i = 0; i < NCORPUS; i++) {
        labels[i] = !two ? corpus[i][0]
                    : strcmp(corpus[i][0], "voirie") == 0 ||
                              strcmp(corpus[i][0], "dechets") == 0
                        ? "1"
                        : "0";
        texts[i] = corpus[i][1];
        lens[i] = strlen(texts[i]);
    }
    CHECK_EQ(triage_train(texts, lens, labels, NCORPUS, o, &m, NULL, &err), 0);
    return m;
}

/* Two results are the same, bit for bit. */
static void
check_same(const struct triage_result *a, const double *pa,
           const struct triage_result *b, const double *pb, size_t k)
{
    CHECK_EQ(a->id, b->id);
    CHECK(memcmp(&a->p, &b->p, sizeof(a->p)) == 0);
    CHECK(memcmp(pa, pb, k * sizeof(*pa)) == 0);
    CHECK_EQ(a->ntop, b->ntop);
    for (size_t t = 0; t < a->ntop && t < b->ntop; t++)
        CHECK_EQ(a->top[t].id, b->top[t].id);
    CHECK_EQ(a->nwhy, b->nwhy);
    for (size_t w = 0; w < a->nwhy && w < b->nwhy; w++) {
        CHECK_EQ(a->why[w].off, b->why[w].off);
        CHECK_EQ(a->why[w].len, b->why[w].len);
        CHECK(memcmp(&a->why[w].weight, &b->why[w].weight,
                     sizeof(double)) == 0);
    }
}

/* triage_predict_again() gives what triage_predict() gives: on the
 * counts of the last text (another model, other bits and labels), when
 * the n-gram lengths differ (counted again), and after
 * triage_featurize() (which spends the counts). */
static void
test_predict_again(void)
{
    struct triage_train_opts o1 = {.bits = 14, .threads = 1};
    struct triage_train_opts o2 = {.bits = 12, .threads = 1};
    struct triage_train_opts o3 = {.bits = 12, .threads = 1, .char_min = 3,
                                   .char_max = 5};
    struct triage_model *m1 = train_opts(&o1, false);
    struct triage_model *m2 = train_opts(&o2, true);
    struct triage_model *m3 = train_opts(&o3, true);
    struct triage_scratch *s = triage_scratch_new(), *f = triage_scratch_new();
    struct text_pipeline *tp = NULL;
    static const char *const texts[] = {
        "gros nid de poule sur la chaussée rue Victor Hugo",
        "les poubelles ne sont pas ramassées",
        "il me faut un acte de naissance",
        "inscription à la cantine pour la rentrée", "", "la cantine",
    };

    CHECK_EQ(text_pipeline_new(NULL, 0, &tp, NULL), 0);
    if (!m1 || !m2 || !m3 || !s || !f || !tp)
        goto out;
    for (size_t i = 0; i < GU_ARRAY_LEN(texts); i++) {
        const char *t = texts[i];
        size_t n = strlen(t);
        struct triage_result r1, ra, rb, rf;
        double p1[TRIAGE_CLASSES_MAX], pa[TRIAGE_CLASSES_MAX],
            pb[TRIAGE_CLASSES_MAX], pf[TRIAGE_CLASSES_MAX];
        struct triage_fvec fv;

        CHECK_EQ(triage_predict(m1, s, t, n, 3, 5, &r1, p1), 0);
        CHECK_EQ(triage_predict_again(m2, s, t, n, 2, 5, &ra, pa), 0);
        CHECK_EQ(triage_predict(m2, f, t, n, 2, 5, &rf, pf), 0);
        check_same(&ra, pa, &rf, pf, triage_model_nclasses(m2));
        /* the first model again, on the same counts */
        CHECK_EQ(triage_predict_again(m1, s, t, n, 3, 5, &rb, pb), 0);
        check_same(&rb, pb, &r1, p1, triage_model_nclasses(m1));
        /* 3-5-grams: the text is counted again */
        CHECK_EQ(triage_predict_again(m3, s, t, n, 2, 5, &ra, pa), 0);
        CHECK_EQ(triage_predict(m3, f, t, n, 2, 5, &rf, pf), 0);
        check_same(&ra, pa, &rf, pf, triage_model_nclasses(m3));
        /* triage_featurize() scales its counts: they are not reused */
        CHECK_EQ(triage_featurize(tp, 12, s, t, n, &fv), 0);
        CHECK_EQ(triage_predict_again(m1, s, t, n, 3, 5, &rb, pb), 0);
        check_same(&rb, pb, &r1, p1, triage_model_nclasses(m1));
    }
out:
    triage_scratch_free(s);
    triage_scratch_free(f);
    triage_model_free(m1);
    triage_model_free(m2);
    triage_model_free(m3);
    text_pipeline_free(tp);
}

struct worker {
    const struct triage_model *m;
    int mismatches;
    double p[NCORPUS];
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    struct triage_scratch *s = triage_scratch_new();

    if (!s) {
        w->mismatches = -1;
        return NULL;
    }
    for (int rep = 0; rep < 20; rep++) {
        for (size_t i = 0; i < NCORPUS; i++) {
            struct triage_result r;
            if (triage_predict(w->m, s, corpus[i][1], strlen(corpus[i][1]), 2,
                               2, &r, NULL) != 0) {
                w->mismatches++;
                continue;
            }
            if (rep == 0)
                w->p[i] = r.p;
            else if (w->p[i] != r.p)
                w->mismatches++;
        }
    }
    triage_scratch_free(s);
    return NULL;
}

static void
test_threads(void)
{
    struct triage_model *m = train_small();
    struct worker w[4];
    pthread_t th[4];

    if (!m)
        return;
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 4; i++) {
        w[i].m = m;
        CHECK_EQ(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(w[i].mismatches, 0);
        CHECK(memcmp(w[i].p, w[0].p, sizeof(w[0].p)) == 0);
    }
    triage_model_free(m);
}

static char *
slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    long sz;

    *n = 0;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)sz)) != NULL)
        *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static void
test_model_file(void)
{
    struct triage_model *m = train_small(), *m2 = NULL, *bad = NULL;
    struct triage_scratch *s = triage_scratch_new();
    struct gu_err err = {0};
    char path[] = "/tmp/test_triage_XXXXXX";
    int fd = mkstemp(path);
    char *buf = NULL;
    size_t n = 0;

    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    if (!m || !s || fd < 0)
        goto out;
    CHECK_EQ(triage_model_save(m, path, &err), 0);
    CHECK_EQ(triage_model_load(path, &m2, &err), 0);
    CHECK(m2 != NULL);
    if (!m2)
        goto out;
    CHECK_STR(triage_model_id(m2), triage_model_id(m));
    CHECK_EQ(triage_model_nclasses(m2), 4);
    CHECK_EQ(triage_model_bits(m2), 14);
    CHECK(triage_model_temperature(m2) == triage_model_temperature(m));
    for (size_t i = 0; i < NCORPUS; i++) {
        struct triage_result a, b;
        double pa[8], pb[8];
        triage_predict(m, s, corpus[i][1], strlen(corpus[i][1]), 2, 0, &a, pa);
        triage_predict(m2, s, corpus[i][1], strlen(corpus[i][1]), 2, 0, &b,
                       pb);
        CHECK_EQ(a.id, b.id);
        CHECK(memcmp(pa, pb, 4 * sizeof(double)) == 0);
    }

    buf = slurp(path, &n);
    CHECK(buf != NULL && n > 1000);
    if (!buf)
        goto out;
    CHECK_EQ(triage_model_read(buf, n, &bad, &err), 0);
    triage_model_free(bad);
    bad = NULL;
    /* Truncated anywhere: refused. */
    static const size_t cuts[] = {0, 1, 8, 12, 40, 100};
    for (size_t i = 0; i < GU_ARRAY_LEN(cuts); i++) {
        gu_err_clear(&err);
        CHECK_EQ(triage_model_read(buf, cuts[i], &bad, &err), GU_EINVAL);
        CHECK(bad == NULL);
        CHECK_CONTAINS(err.user, "modèle");
    }
    CHECK_EQ(triage_model_read(buf, n / 2, &bad, &err), GU_EINVAL);
    CHECK_EQ(triage_model_read(buf, n - 1, &bad, &err), GU_EINVAL);
    /* One flipped byte anywhere (header, labels, weights, checksum). */
    static const double at[] = {0.0, 0.001, 0.01, 0.5, 0.999};
    for (size_t i = 0; i < GU_ARRAY_LEN(at); i++) {
        size_t k = (size_t)(at[i] * (double)(n - 1));
        buf[k] ^= 0x40;
        CHECK_EQ(triage_model_read(buf, n, &bad, &err), GU_EINVAL);
        CHECK(bad == NULL);
        buf[k] ^= 0x40;
    }
    buf[n - 1] ^= 1; /* the checksum itself */
    CHECK_EQ(triage_model_read(buf, n, &bad, &err), GU_EINVAL);
    buf[n - 1] ^= 1;
    /* A truncated file on disk. */
    {
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        if (f) {
            fwrite(buf, 1, n - 100, f);
            fclose(f);
        }
        CHECK_EQ(triage_model_load(path, &bad, &err), GU_EINVAL);
        CHECK(bad == NULL);
    }
    CHECK_EQ(triage_model_load("/nonexistent/triage.bin", &bad, &err),
             GU_EIO);
out:
    free(buf);
    unlink(path);
    triage_scratch_free(s);
    triage_model_free(m);
    triage_model_free(m2);
}

/* What triage_char_text() must give: text_fold(), spaces collapsed,
 * padded by one space. */
static size_t
ref_char_text(struct gu_arena *a, const char *t, size_t n, char *out)
{
    size_t fn = 0, m = 0;
    const char *f = text_fold(a, t, n, &fn);

    out[m++] = ' ';
    for (size_t i = 0; f && i < fn; i++) {
        if (f[i] == ' ' && out[m - 1] == ' ')
            continue;
        out[m++] = f[i];
    }
    if (out[m - 1] != ' ')
        out[m++] = ' ';
    return m;
}

static int
char_text_same(struct triage_scratch *s, struct gu_arena *a, const char *t,
               size_t n)
{
    static char ref[8192];
    const char *got = NULL;
    size_t gn = 0, rn = ref_char_text(a, t, n, ref);

    if (triage_char_text(s, t, n, &got, &gn) != 0)
        return 0;
    return gn == rn && memcmp(got, ref, rn) == 0;
}

static void
test_char_text(void)
{
    struct triage_scratch *s = triage_scratch_new();
    struct gu_arena *a = gu_arena_new(1 << 16);
    static const char *const texts[] = {
        "Nid de poule énorme rue des Lilas, svp réparez vite !",
        "L’œuvre « Ça » coûte 12,5 € — à Noël… ÆSIR Straße ½ ﬁn",
        "  espaces   multiples\t\tet\r\nlignes  ",
        "Ελληνικά кириллица 中文 emoji 😀 fin",
        "e\xcc\x81t\xc3\xa9 (e + accent combinant)",
        "octets invalides \xff\xfe fin \x80 \xc3 x \xc0\xaf \xed\xa0\x80 z",
        "tronqué \xc3",
        "fin sur une apostrophe typographique \xe2\x80\x99",
        "fin sur un caractère hors table \xef\xb7\xba",
        /* U+FDFA folds to 18 letters: text_fold() caps a text at three
         * bytes of output per byte of input, across the whole text. */
        "\xef\xb7\xba\xef\xb7\xba\xef\xb7\xba abc",
        "abcdefghij \xef\xb7\xba",
        "",
    };
    char buf[8];
    int bad = 0;

    CHECK(s && a);
    if (!s || !a)
        goto out;
    for (size_t i = 0; i < GU_ARRAY_LEN(texts); i++)
        CHECK(char_text_same(s, a, texts[i], strlen(texts[i])));
    /* Every code point of one to three bytes (surrogates included, as
     * invalid bytes), between two letters, and alone at the end. */
    for (unsigned cp = 1; cp < 0x10000 && !bad; cp++) {
        size_t n = 0;
        buf[n++] = 'a';
        if (cp < 0x80) {
            buf[n++] = (char)cp;
        } else if (cp < 0x800) {
            buf[n++] = (char)(0xc0 | (cp >> 6));
            buf[n++] = (char)(0x80 | (cp & 0x3f));
        } else {
            buf[n++] = (char)(0xe0 | (cp >> 12));
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            buf[n++] = (char)(0x80 | (cp & 0x3f));
        }
        buf[n++] = 'b';
        if (!char_text_same(s, a, buf, n) ||
            !char_text_same(s, a, buf + 1, n - 2)) {
            printf("  code point U+%04X differs\n", cp);
            bad = 1;
        }
        if (gu_arena_used(a) > (1 << 15)) {
            gu_arena_free(a);
            a = gu_arena_new(1 << 16);
        }
    }
    CHECK(!bad);
    /* Random bytes: valid or not, the same as text_fold(). */
    {
        unsigned x = 12345;
        char r[300];
        for (int k = 0; k < 300 && !bad; k++) {
            for (size_t i = 0; i < sizeof(r); i++) {
                x = x * 1103515245u + 12345u;
                r[i] = (char)(x >> 16);
            }
            bad = !char_text_same(s, a, r, sizeof(r));
            gu_arena_free(a);
            a = gu_arena_new(1 << 16);
        }
        CHECK(!bad);
    }
out:
    gu_arena_free(a);
    triage_scratch_free(s);
}

/* FNV-1a 64, the model file's checksum. */
static uint64_t
fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void
put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Version 2 files (character 3-5-grams, no lengths in the header) still
 * load and predict the same; an unknown version is refused in French. */
static void
test_model_versions(void)
{
    const char *texts[NCORPUS], *labels[NCORPUS];
    size_t lens[NCORPUS];
    struct triage_train_opts o = {
        .bits = 12, .threads = 1, .char_min = 3, .char_max = 5};
    struct triage_model *m = NULL, *m2 = NULL;
    struct triage_scratch *s = triage_scratch_new();
    struct gu_err err = {0};
    char path[] = "/tmp/test_triage_v_XXXXXX";
    int fd = mkstemp(path);
    unsigned char *buf = NULL, *v2 = NULL;
    size_t n = 0;
    /* magic, version, bits, k, solver, C, temperature, gw, gc */
    const size_t at = 8 + 4 * 4 + 8 + 8 + 4 + 4;

    if (fd >= 0)
        close(fd);
    corpus_columns(texts, lens, labels);
    CHECK(fd >= 0 && s);
    CHECK_EQ(triage_train(texts, lens, labels, NCORPUS, &o, &m, NULL, &err),
             0);
    if (!m || fd < 0 || !s)
        goto out;
    CHECK_EQ(triage_model_save(m, path, &err), 0);
    buf = (unsigned char *)slurp(path, &n);
    CHECK(buf && n > at + 16);
    if (!buf || n <= at + 16)
        goto out;
    CHECK_EQ(buf[8], TRIAGE_MODEL_VERSION);
    CHECK_EQ(buf[at], 3); /* the lengths asked for */
    CHECK_EQ(buf[at + 4], 5);
    /* The same model as version 2 wrote it: no lengths, version 2. */
    v2 = malloc(n - 8);
    CHECK(v2 != NULL);
    if (!v2)
        goto out;
    memcpy(v2, buf, at);
    memcpy(v2 + at, buf + at + 8, n - 8 - at - 8);
    v2[8] = 2;
    put_le64(v2 + n - 16, fnv1a(v2, n - 16));
    CHECK_EQ(triage_model_read(v2, n - 8, &m2, &err), 0);
    if (m2) {
        CHECK(strncmp(triage_model_id(m2), "triage-2:", 9) == 0);
        for (size_t i = 0; i < NCORPUS; i++) {
            struct triage_result a, b;
            double pa[8], pb[8];
            triage_predict(m, s, corpus[i][1], lens[i], 1, 0, &a, pa);
            triage_predict(m2, s, corpus[i][1], lens[i], 1, 0, &b, pb);
            CHECK_EQ(a.id, b.id);
            CHECK(fabs(pa[a.id] - pb[b.id]) < 1e-6);
        }
    }
    triage_model_free(m2);
    m2 = NULL;
    /* A version this build does not know: refused, told how to fix it. */
    buf[8] = 1;
    put_le64(buf + n - 8, fnv1a(buf, n - 8));
    gu_err_clear(&err);
    CHECK_EQ(triage_model_read(buf, n, &m2, &err), GU_EINVAL);
    CHECK(m2 == NULL);
    CHECK_CONTAINS(err.user, "réentraînez");
    buf[8] = 99;
    put_le64(buf + n - 8, fnv1a(buf, n - 8));
    CHECK_EQ(triage_model_read(buf, n, &m2, &err), GU_EINVAL);
    /* Lengths out of bounds in a well-formed file: refused. */
    buf[8] = TRIAGE_MODEL_VERSION;
    buf[at] = 9;
    put_le64(buf + n - 8, fnv1a(buf, n - 8));
    CHECK_EQ(triage_model_read(buf, n, &m2, &err), GU_EINVAL);
    CHECK(m2 == NULL);
out:
    free(buf);
    free(v2);
    unlink(path);
    triage_scratch_free(s);
    triage_model_free(m);
    triage_model_free(m2);
}

static int
write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");

    if (!f)
        return -1;
    fputs(s, f);
    return fclose(f);
}

static void
test_tsv(void)
{
    char path[] = "/tmp/test_triage_tsv_XXXXXX";
    int fd = mkstemp(path);
    struct triage_set set;
    struct gu_err err = {0};

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    /* Columns in any order, extra columns ignored, CRLF and blank lines. */
    CHECK_EQ(write_file(path, "id\tlabel\ttext\r\n1\tvoirie\tnid de poule\r\n"
                              "\n2\tcantine\tmenu\n"),
             0);
    CHECK_EQ(triage_set_read(path, &set, &err), 0);
    CHECK_EQ(set.n, 2);
    if (set.n == 2) {
        CHECK_STR(set.text[0], "nid de poule");
        CHECK_STR(set.label[1], "cantine");
        CHECK_EQ(set.len[1], 4);
    }
    triage_set_fini(&set);
    /* A short row: its line number in French. */
    CHECK_EQ(write_file(path, "text\tlabel\na\tb\nc\n"), 0);
    CHECK_EQ(triage_set_read(path, &set, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 3");
    CHECK_EQ(set.n, 0);
    CHECK_EQ(write_file(path, "texte\tservice\na\tb\n"), 0);
    CHECK_EQ(triage_set_read(path, &set, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 1");
    CHECK_EQ(write_file(path, "text\tlabel\n\tb\n"), 0);
    CHECK_EQ(triage_set_read(path, &set, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "texte vide");
    CHECK_EQ(write_file(path, ""), 0);
    CHECK_EQ(triage_set_read(path, &set, &err), GU_EINVAL);
    CHECK_EQ(triage_set_read("/nonexistent.tsv", &set, &err), GU_EIO);
    unlink(path);
}

/* A long training text (over TRIAGE_DOC_BYTES: a fiche's body, a
 * service's page) is a document: the model learns its words, counting
 * its rows once on any number of threads gives the same model, and it
 * stays out of the cross-validation that calibrates requests. */
static void
test_documents(void)
{
    static const char *const doc_label[4] = {"voirie", "dechets",
                                             "etat-civil", "cantine"};
    static const char *const doc_words[4] = {
        "Le gravillonnage des chemins communaux et le marquage au sol. ",
        "Le compostage collectif et les biodéchets du quartier. ",
        "La transcription des actes et la reconnaissance anticipée. ",
        "Le goûter, la restauration scolaire et le quotient familial. "};
    static char docs[4][1400];
    const char *texts[NCORPUS + 4], *labels[NCORPUS + 4];
    size_t lens[NCORPUS + 4];
    char id[64] = "";

    corpus_columns(texts, lens, labels);
    for (size_t d = 0; d < 4; d++) {
        size_t m = 0, w = strlen(doc_words[d]);
        while (m + w < sizeof(docs[d]) - 1) {
            memcpy(docs[d] + m, doc_words[d], w);
            m += w;
        }
        docs[d][m] = 0;
        CHECK(m > TRIAGE_DOC_BYTES);
        labels[NCORPUS + d] = doc_label[d];
        texts[NCORPUS + d] = docs[d];
        lens[NCORPUS + d] = m;
    }
    for (int run = 0; run < 3; run++) {
        struct triage_train_opts o = {.bits = 14, .threads = 1 + run % 2};
        struct triage_train_info info;
        struct triage_model *m = NULL;
        struct triage_scratch *s = triage_scratch_new();
        struct triage_result r;
        struct gu_err err = {0};
        CHECK_EQ(triage_train(texts, lens, labels, NCORPUS + 4, &o, &m, &info,
                              &err),
                 0);
        if (!m || !s) {
            triage_scratch_free(s);
            triage_model_free(m);
            return;
        }
        if (run == 0)
            snprintf(id, sizeof(id), "%s", triage_model_id(m));
        CHECK_STR(triage_model_id(m), id);
        /* Words only the documents have route a request. */
        for (size_t d = 0; d < 4; d++) {
            static const char *const q[4] = {
                "gravillonnage du chemin", "compostage des biodéchets",
                "transcription d'un acte", "quotient familial et goûter"};
            CHECK_EQ(triage_predict(m, s, q[d], strlen(q[d]), 1, 0, &r, NULL),
                     0);
            CHECK_STR(r.label, doc_label[d]);
        }
        triage_scratch_free(s);
        triage_model_free(m);
    }
    /* Eight requests and four documents: twelve rows, but too few
     * requests (4 per fold) for a cross-validation: none, temperature 1. */
    {
        const char *t12[12], *l12[12];
        size_t n12[12];
        struct triage_train_info info;
        struct triage_model *m = NULL;
        struct gu_err err = {0};
        for (size_t i = 0; i < 8; i++) {
            t12[i] = corpus[(i / 2) * 10 + i % 2][1];
            l12[i] = corpus[(i / 2) * 10 + i % 2][0];
            n12[i] = strlen(t12[i]);
        }
        for (size_t d = 0; d < 4; d++) {
            t12[8 + d] = texts[NCORPUS + d];
            l12[8 + d] = labels[NCORPUS + d];
            n12[8 + d] = lens[NCORPUS + d];
        }
        CHECK_EQ(triage_train(t12, n12, l12, 12, NULL, &m, &info, &err), 0);
        CHECK(info.cv_accuracy == 0);
        CHECK(info.temperature == 1);
        /* The same rows as short requests: cross-validated. */
        for (size_t d = 0; d < 4; d++) {
            size_t w = strlen(doc_words[d]);
            n12[8 + d] = TRIAGE_DOC_BYTES / w * w; /* whole sentences */
        }
        triage_model_free(m);
        m = NULL;
        CHECK_EQ(triage_train(t12, n12, l12, 12, NULL, &m, &info, &err), 0);
        CHECK(info.cv_accuracy > 0);
        CHECK(info.temperature != 1);
        triage_model_free(m);
    }
}

static void
test_train_errors(void)
{
    const char *texts[] = {"a b c", "d e f"};
    const char *one[] = {"x", "x"};
    size_t lens[] = {5, 5};
    struct triage_model *m = NULL;
    struct gu_err err = {0};

    CHECK_EQ(triage_train(texts, lens, one, 2, NULL, &m, NULL, &err),
             GU_EINVAL);
    CHECK(m == NULL);
    CHECK_CONTAINS(err.user, "classes");
    /* Character n-gram lengths out of bounds. */
    {
        const char *four[] = {"a b c", "d e f", "g h i", "j k l"};
        const char *lab[] = {"x", "y", "x", "y"};
        size_t l4[] = {5, 5, 5, 5};
        struct triage_train_opts o = {.char_min = 1};
        CHECK_EQ(triage_train(four, l4, lab, 4, &o, &m, NULL, &err),
                 GU_EINVAL);
        o = (struct triage_train_opts){.char_min = 5, .char_max = 4};
        CHECK_EQ(triage_train(four, l4, lab, 4, &o, &m, NULL, &err),
                 GU_EINVAL);
        o = (struct triage_train_opts){.char_max = 9};
        CHECK_EQ(triage_train(four, l4, lab, 4, &o, &m, NULL, &err),
                 GU_EINVAL);
        CHECK(m == NULL);
    }
    /* Two examples, two classes: trains without cross-validation. */
    const char *two[] = {"x", "y"};
    CHECK_EQ(triage_train(texts, lens, two, 2, NULL, &m, NULL, &err), 0);
    triage_model_free(m);
}

/* The solvers: NB-SVM with C = TRIAGE_NB_C by default, the plain SVM
 * and NB-SVM on request (C given or searched), AUTO among the three.
 * Every model routes held-out requests, the solvers give different
 * weights, and the solver field of a file is checked on reading
 * (AUTO is a choice, not a model: refused). */
static void
test_solvers(void)
{
    const char *texts[NCORPUS], *labels[NCORPUS];
    size_t lens[NCORPUS];
    static const char *const held[][2] = {
        {"voirie", "nid de poule et trottoir cassé dans ma rue"},
        {"dechets", "les ordures ne sont pas ramassées, poubelles pleines"},
        {"etat-civil", "copie intégrale d'acte de naissance"},
        {"cantine", "inscription à la cantine et au périscolaire"},
    };
    static const struct {
        struct triage_train_opts o;
        int solver;
        double c; /* 0: searched */
    } cases[] = {
        {{.bits = 14, .threads = 2}, TRIAGE_SOLVER_NBSVM, TRIAGE_NB_C},
        {{.bits = 14, .threads = 2, .solver = TRIAGE_SOLVER_SVM, .c = 4},
         TRIAGE_SOLVER_SVM,
         4},
        {{.bits = 14, .threads = 2, .solver = TRIAGE_SOLVER_NBSVM},
         TRIAGE_SOLVER_NBSVM,
         0},
        {{.bits = 14, .threads = 2, .solver = TRIAGE_SOLVER_AUTO}, -1, 0},
    };
    struct triage_scratch *s = triage_scratch_new();
    char ids[4][64];

    CHECK(s != NULL);
    if (!s)
        return;
    corpus_columns(texts, lens, labels);
    for (size_t t = 0; t < 4; t++) {
        struct triage_train_info info;
        struct triage_model *m = NULL;
        struct gu_err err = {0};
        CHECK_EQ(triage_train(texts, lens, labels, NCORPUS, &cases[t].o, &m,
                              &info, &err),
                 0);
        if (!m)
            continue;
        snprintf(ids[t], sizeof(ids[t]), "%s", triage_model_id(m));
        if (cases[t].solver >= 0)
            CHECK_EQ(info.solver, cases[t].solver);
        else
            CHECK(info.solver == TRIAGE_SOLVER_NBSVM ||
                  info.solver == TRIAGE_SOLVER_SVM ||
                  info.solver == TRIAGE_SOLVER_LR);
        if (cases[t].c > 0)
            CHECK(info.c == cases[t].c);
        else
            CHECK(info.c == 4 || info.c == 1 || info.c == 0.25);
        for (size_t h = 0; h < 4; h++) {
            struct triage_result r;
            CHECK_EQ(triage_predict(m, s, held[h][1], strlen(held[h][1]), 1, 0,
                                    &r, NULL),
                     0);
            CHECK_STR(triage_model_label(m, r.id), held[h][0]);
        }
        if (t == 0) {
            /* The solver field (after magic, version, bits, k). */
            unsigned char *buf = NULL;
            size_t n = 0;
            struct triage_model *m2 = NULL;
            CHECK_EQ(triage_model_bytes(m, (void **)&buf, &n, &err), 0);
            CHECK(buf && n > 32);
            if (buf && n > 32) {
                CHECK_EQ(buf[20], TRIAGE_SOLVER_NBSVM);
                buf[20] = TRIAGE_SOLVER_AUTO;
                put_le64(buf + n - 8, fnv1a(buf, n - 8));
                CHECK_EQ(triage_model_read(buf, n, &m2, &err), GU_EINVAL);
                CHECK(m2 == NULL);
                buf[20] = TRIAGE_SOLVER_NBSVM;
                put_le64(buf + n - 8, fnv1a(buf, n - 8));
                CHECK_EQ(triage_model_read(buf, n, &m2, &err), 0);
                if (m2)
                    CHECK_STR(triage_model_id(m2), triage_model_id(m));
                triage_model_free(m2);
            }
            gu_free(buf);
        }
        triage_model_free(m);
    }
    /* NB-SVM and the SVM are different models. */
    CHECK(strcmp(ids[0], ids[1]) != 0);
    triage_scratch_free(s);
}

TESTS(T(test_rand_per_thread), T(test_train_threads_same),
      T(test_featurize_deterministic), T(test_char_text), T(test_train_predict),
      T(test_predict_again), T(test_threads), T(test_model_file),
      T(test_model_versions), T(test_tsv), T(test_train_errors),
      T(test_documents), T(test_solvers))
