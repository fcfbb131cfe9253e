/*
 * fuzz_triage.c - libFuzzer target for the triage classifier's inputs:
 * a model file (triage_model_read) when the input starts with the
 * model magic "GUTRIAGE", otherwise a resident's text (featurisation,
 * prediction and explanation on a tiny model trained once here).
 *
 * Invariants: a model is accepted or refused with GU_EINVAL and a French
 * message, never read out of bounds; a prediction's probabilities sum to
 * 1 and its explanation words lie inside the text.
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
    struct triage_train_opts o = {10, TRIAGE_SOLVER_SVM, 1, 0, 1};
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
    return 0;
}
