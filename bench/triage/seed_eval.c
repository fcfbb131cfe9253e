/*
 * seed_eval.c - the inbox's judgement on the seed corpus
 * (data/triage/seed.tsv), by 5-fold cross-validation (one shuffle, seed
 * 5), with the default taxonomy's thresholds:
 *   - routing: the share of requests routed automatically (p >= the
 *     service's threshold) and how often those are right, the share left
 *     « à trier » and how often the model's suggestion is right there;
 *   - urgency on the hand-annotated `urgence` column: the rules alone (tri_urgency_rules_at, nothing learnt; note
 * their lexicons were written by someone who had read the corpus), the
 * urgency model alone (trained on the other folds), and both as
 * tri_intake() combines them (tri_urgency_combine: the model raises the
 * rules' level at p >= 0.6, to « urgente » only at p >= 0.8). Prints accuracy, macro-F1, the recall of
 * « urgente » and how often an urgent request is called normal.
 * Run by bench/triage/seed_eval.sh.
 */
#include "app/app.h"
#include "triage/tri_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K 5

struct score {
    unsigned conf[3][3]; /* [truth][guess] */
};

static void
report(const char *name, const struct score *s)
{
    unsigned n = 0, ok = 0;
    double f1 = 0;

    for (int t = 0; t < 3; t++) {
        for (int g = 0; g < 3; g++) {
            n += s->conf[t][g];
            if (t == g)
                ok += s->conf[t][g];
        }
    }
    for (int c = 0; c < 3; c++) {
        unsigned tp = s->conf[c][c], row = 0, col = 0;

        for (int k = 0; k < 3; k++) {
            row += s->conf[c][k];
            col += s->conf[k][c];
        }
        f1 += row + col ? 2.0 * tp / (row + col) : 0;
    }
    printf("%-22s exactitude %.3f  F1 macro %.3f  rappel urgente %.3f  "
           "urgentes vues normales %u/%u\n",
           name, (double)ok / n, f1 / 3,
           (double)s->conf[2][2] /
               (s->conf[2][0] + s->conf[2][1] + s->conf[2][2]),
           s->conf[2][0], s->conf[2][0] + s->conf[2][1] + s->conf[2][2]);
}

int
main(void)
{
    static const char *const lab[] = {"0", "1", "2"};
    struct gu_arena *a = gu_arena_new(0);
    struct tri_seed_row *seed = NULL;
    struct score rules = {0}, model = {0}, both = {0};
    struct triage_scratch *sc = triage_scratch_new();
    struct gu_err err;
    size_t n = 0, *order;
    const int64_t monday = 20787; /* a fixed « today »: 2026-11-30 */

    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct tri_service *svc = NULL;
    size_t nsvc = 0, routed = 0, routed_ok = 0, held = 0, held_ok = 0;
    size_t curve_n[10] = {0}, curve_ok[10] = {0};
    struct store_commune cm = {.insee = "99001", .name = "Bench",
                               .zone = "B", .hours = "", .address = "",
                               .phone = "", .email = ""};

    gu_log_set_level(GU_LOG_WARN);
    if (!a || !sc || tri_seed_rows(a, &seed, &n, &err) < 0 || n == 0 ||
        gu_crypto_init() < 0 ||
        store_open("sqlite::memory:", &st, &err) < 0 ||
        app_migrate(st, NULL, &err) < 0 || store_acquire(st, &c, &err) < 0 ||
        store_commune_create(c, &cm, &err) < 0 ||
        tri_services_seed(c, "99001", &err) < 0 ||
        tri_service_list(c, a, "99001", true, &svc, &nsvc, &err) < 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    order = calloc(n, sizeof(*order));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    srand(5);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1), t = order[i];

        order[i] = order[j];
        order[j] = t;
    }
    for (int k = 0; k < K; k++) {
        const char **tx = calloc(n, sizeof(*tx)), **lb = calloc(n, sizeof(*lb));
        size_t *ln = calloc(n, sizeof(*ln)), m = 0;
        struct triage_model *um = NULL;

        for (size_t i = 0; i < n; i++) {
            const struct tri_seed_row *r = &seed[order[i]];

            if ((int)(i % K) == k || r->urgency < 0)
                continue;
            tx[m] = r->text;
            ln[m] = r->len;
            lb[m] = lab[r->urgency];
            m++;
        }
        const struct triage_train_opts uo = TRI_URGENCY_TRAIN_OPTS;
        if (triage_train(tx, ln, lb, m, &uo, &um, NULL, &err) < 0) {
            fprintf(stderr, "train: %s\n", err.msg);
            return 1;
        }
        /* the service model of the same folds */
        {
            struct triage_model *sm = NULL;
            size_t q = 0;

            for (size_t i = 0; i < n; i++) {
                if ((int)(i % K) == k)
                    continue;
                tx[q] = seed[order[i]].text;
                ln[q] = seed[order[i]].len;
                lb[q] = seed[order[i]].label;
                q++;
            }
            if (triage_train(tx, ln, lb, q, NULL, &sm, NULL, &err) < 0) {
                fprintf(stderr, "train: %s\n", err.msg);
                return 1;
            }
            for (size_t i = 0; i < n; i++) {
                const struct tri_seed_row *r = &seed[order[i]];
                struct triage_result res;
                double th = 1;

                if ((int)(i % K) != k ||
                    triage_predict(sm, sc, r->text, r->len, 1, 0, &res,
                                   NULL) < 0)
                    continue;
                for (size_t j = 0; j < nsvc; j++) {
                    if (strcmp(svc[j].code, res.label) == 0)
                        th = svc[j].threshold;
                }
                for (int c10 = 0; c10 < 10; c10++) {
                    if (res.p >= c10 / 10.0) {
                        curve_n[c10]++;
                        curve_ok[c10] += strcmp(res.label, r->label) == 0;
                    }
                }
                if (res.p >= th) {
                    routed++;
                    routed_ok += strcmp(res.label, r->label) == 0;
                } else {
                    held++;
                    held_ok += strcmp(res.label, r->label) == 0;
                }
            }
            triage_model_free(sm);
        }
        for (size_t i = 0; i < n; i++) {
            const struct tri_seed_row *r = &seed[order[i]];
            struct triage_result res;
            json_t *reasons = json_array();
            int ru, mu = 0, bu;
            double p = 0;

            if ((int)(i % K) != k || r->urgency < 0)
                continue;
            ru = tri_urgency_rules_at(r->text, r->len, monday, reasons);
            json_decref(reasons);
            if (triage_predict(um, sc, r->text, r->len, 3, 0, &res, NULL) ==
                0) {
                mu = res.label[0] - '0';
                p = res.p;
            }
            bu = tri_urgency_combine(ru, mu, p);
            rules.conf[r->urgency][ru]++;
            model.conf[r->urgency][mu]++;
            both.conf[r->urgency][bu]++;
        }
        triage_model_free(um);
        free(tx);
        free(lb);
        free(ln);
    }
    printf("%zu demandes, validation croisée en %d plis, seuils par "
           "défaut\n",
           n, K);
    printf("orientées automatiquement : %.1f %% (justes : %.3f) ; à trier : "
           "%.1f %% (suggestion juste : %.3f)\n",
           100.0 * routed / n, routed ? (double)routed_ok / routed : 0,
           100.0 * held / n, held ? (double)held_ok / held : 0);
    printf("un même seuil pour tous les services :\n");
    for (int c10 = 3; c10 < 10; c10++)
        printf("  seuil %.1f : %5.1f %% orientées, justes %.3f\n",
               c10 / 10.0, 100.0 * curve_n[c10] / n,
               curve_n[c10] ? (double)curve_ok[c10] / curve_n[c10] : 0);
    report("règles seules", &rules);
    report("modèle seul", &model);
    report("règles + modèle", &both);
    triage_scratch_free(sc);
    free(order);
    store_release(c);
    store_close(st);
    gu_arena_free(a);
    return 0;
}
