/*
 * eval_driver.c - standalone driver for asst_eval_run() until the CLI
 * command `guichet eval assistant` is wired in src/main.c.
 *
 *   eval_driver --fiches DIR --questions FILE [--mask-titles] [--json]
 *               [--set NAME=VALUE]...
 *
 * --set overrides a ranking parameter for experiments: k1, concept,
 * ngram, rerank, w.title w.alt w.desc w.body w.context, b.title ... b.context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assistant/asst_eval.h"

static const char *const field_names[ASST_NFIELDS] = {
    "title", "alt", "desc", "body", "context",
};

static int
set_param(struct asst_params *p, const char *kv)
{
    const char *eq = strchr(kv, '=');
    char *end;

    if (!eq)
        return -1;
    double v = strtod(eq + 1, &end);
    if (*end)
        return -1;
    size_t kn = (size_t)(eq - kv);
    if (kn == 2 && strncmp(kv, "k1", 2) == 0) {
        p->k1 = (float)v;
        return 0;
    }
    if (kn == 7 && strncmp(kv, "concept", 7) == 0) {
        p->concept_weight = (float)v;
        return 0;
    }
    if (kn == 5 && strncmp(kv, "ngram", 5) == 0) {
        p->ngram = (float)v;
        return 0;
    }
    if (kn == 6 && strncmp(kv, "rerank", 6) == 0) {
        p->rerank = (uint32_t)v;
        return 0;
    }
    for (int f = 0; f < ASST_NFIELDS; f++) {
        size_t fl = strlen(field_names[f]);
        if (kn == fl + 2 && strncmp(kv + 2, field_names[f], fl) == 0) {
            if (kv[0] == 'w' && kv[1] == '.') {
                p->weight[f] = (float)v;
                return 0;
            }
            if (kv[0] == 'b' && kv[1] == '.') {
                p->b[f] = (float)v;
                return 0;
            }
        }
    }
    return -1;
}

int
main(int argc, char **argv)
{
    const char *fiches = NULL, *questions = NULL;
    bool mask = false, as_json = false;
    struct asst_params prm;
    struct gu_err err;
    json_t *res;

    asst_params_default(&prm);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fiches") == 0 && i + 1 < argc) {
            fiches = argv[++i];
        } else if (strcmp(argv[i], "--questions") == 0 && i + 1 < argc) {
            questions = argv[++i];
        } else if (strcmp(argv[i], "--mask-titles") == 0) {
            mask = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            if (set_param(&prm, argv[++i]) < 0) {
                fprintf(stderr, "paramètre inconnu : %s\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage : eval_driver --fiches DIR --questions "
                            "FICHIER [--mask-titles] [--json] "
                            "[--set NOM=VALEUR]...\n");
            return 2;
        }
    }
    if (!fiches || !questions) {
        fprintf(stderr, "--fiches et --questions sont obligatoires\n");
        return 2;
    }
    gu_err_clear(&err);
    if (asst_eval_run_params(fiches, questions, mask, &prm, &res, &err) < 0) {
        fprintf(stderr, "eval: %s\n", err.msg);
        return 1;
    }
    if (as_json) {
        char *s = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(6));
        if (s)
            puts(s);
        free(s);
    } else {
        printf("n=%lld R@1=%.3f R@5=%.3f R@10=%.3f MRR@10=%.3f "
               "mean=%.3fms p99=%.3fms build=%.0fms docs=%lld terms=%lld "
               "index=%.1fMB\n",
               (long long)json_integer_value(json_object_get(res, "n")),
               json_real_value(json_object_get(res, "recall_at_1")),
               json_real_value(json_object_get(res, "recall_at_5")),
               json_real_value(json_object_get(res, "recall_at_10")),
               json_real_value(json_object_get(res, "mrr_at_10")),
               json_real_value(json_object_get(res, "mean_ms")),
               json_real_value(json_object_get(res, "p99_ms")),
               json_real_value(json_object_get(res, "build_ms")),
               (long long)json_integer_value(json_object_get(res, "docs")),
               (long long)json_integer_value(json_object_get(res, "terms")),
               json_real_value(json_object_get(res, "index_mb")));
    }
    json_decref(res);
    return 0;
}
