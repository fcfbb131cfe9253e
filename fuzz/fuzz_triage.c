/*
 * fuzz_triage.c - libFuzzer target for the triage classifier's inputs:
 * a model file (triage_model_read) when the input starts with the
 * model magic "GUTRIAGE", otherwise a resident's text (featurisation,
 * prediction and explanation on a tiny model trained once here).
 *
 * Invariants: a model is accepted or refused with GU_EINVAL and a French
 * message, never read out of bounds; a prediction's probabilities sum to
 * 1 and its explanation words lie inside the text; the fast folding of
 * the character n-grams gives exactly what text_fold() gives.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "triage/triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct triage_model *small;
static struct triage_scratch *scratch;

static void
setup(void)
{
    static const char *const texts[] = {
        "nid de poule rue des Lilas", "trottoir cassé avenue",
        "poubelles pas ramassées", "dépôt sauvage de déchets",
        "acte de naissance", "copie d'acte de mariage"};
    static const char *const labels[] = {"voirie",  "voirie",
                                         "dechets", "dechets",
                                         "etat-civil", "etat-civil"};
    size_t lens[6];
    struct triage_train_opts o = {
        .bits = 10, .solver = TRIAGE_SOLVER_SVM, .c = 1, .threads = 1};
    struct gu_err err;

    for (int i = 0; i < 6; i++)
        lens[i] = strlen(texts[i]);
    if (triage_train(texts, lens, labels, 6, &o, &small, NULL, &err) != 0)
        abort();
    scratch = triage_scratch_new();
    if (!scratch)
        abort();
}

static void
predict(const struct triage_model *m, const char *s, size_t n)
{
    struct triage_result r;
    double p[TRIAGE_CLASSES_MAX], sum = 0;

    if (triage_predict(m, scratch, s, n, TRIAGE_TOP_MAX, TRIAGE_WHY_MAX, &r,
                       p) != 0)
        return; /* out of memory */
    for (size_t i = 0; i < triage_model_nclasses(m); i++)
        sum += p[i];
    if (!(fabs(sum - 1) < 1e-6) || r.id < 0 ||
        (size_t)r.id >= triage_model_nclasses(m))
        abort();
    for (size_t w = 0; w < r.nwhy; w++)
        if ((size_t)r.why[w].off + r.why[w].len > n)
            abort();
}

/* triage_char_text() against text_fold() with spaces collapsed. */
static void
fold_same(const char *s, size_t n)
{
    static char ref[4 * TRIAGE_TEXT_MAX + 8];
    struct gu_arena *a;
    const char *got = NULL, *f;
    size_t gn = 0, fn = 0, m = 0;

    if (n > TRIAGE_TEXT_MAX)
        return; /* the cap's cut is tested in the unit tests */
    a = gu_arena_new(4 * n + 1024);
    if (!a || triage_char_text(scratch, s, n, &got, &gn) != 0) {
        gu_arena_free(a);
        return; /* out of memory */
    }
    f = text_fold(a, s, n, &fn);
    if (!f) {
        gu_arena_free(a);
        return;
    }
    ref[m++] = ' ';
    for (size_t i = 0; i < fn && m < sizeof(ref) - 1; i++) {
        if (f[i] == ' ' && ref[m - 1] == ' ')
            continue;
        ref[m++] = f[i];
    }
    if (ref[m - 1] != ' ')
        ref[m++] = ' ';
    if (gn != m || memcmp(got, ref, m) != 0)
        abort();
    gu_arena_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!small)
        setup();
    if (size >= 8 && memcmp(data, "GUTRIAGE", 8) == 0) {
        struct triage_model *m = NULL;
        struct gu_err err = {0};
        int rc = triage_model_read(data, size, &m, &err);
        if (rc == 0) {
            predict(m, "nid de poule", 12);
            triage_model_free(m);
        } else if (rc != GU_EINVAL && rc != GU_ENOMEM) {
            abort();
        } else if (rc == GU_EINVAL && !err.user[0]) {
            abort();
        }
        return 0;
    }
    predict(small, (const char *)data, size);
    fold_same((const char *)data, size);
    return 0;
}
