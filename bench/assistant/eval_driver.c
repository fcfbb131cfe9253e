/*
 * eval_driver.c - the tuning bench of the assistant's retrieval: loads
 * the fiches and questions once, then builds and evaluates one index per
 * parameter set (`guichet eval assistant` does one run with defaults).
 *
 *   eval_driver --fiches DIR --questions FILE [--mask-titles] [--json]
 *               [--set NAME=VALUE]... [--grid] [--dump FILE]
 *               [--export DIR]
 *
 * --set overrides a ranking parameter: k1, concept, soft, ngram,
 * rerank, w.title w.alt w.desc w.body w.context, b.title ... b.context,
 * and the second stage's: pool, c.title ... c.context (field coverage
 * weights), lead, any, and the translation model's: xlat (weight, 0 =
 * off), xlat.mix, xlat.k, xlat.iters, xlat.pairs (ASST_XLAT_* flags,
 * 0 = no model; the pairs are made by asst_xlat_pairs_add() as in the
 * engine, asst_corpus.xp; a --set xlat.pairs also chooses the pairs the
 * fiches are loaded with, a --grid one can only turn them off).
 * --grid reads more parameter sets from stdin, one per line
 * ("k1=1.2 soft=0.5"), each applied over the --set ones; one line of
 * figures per set, all questions / tune half / held-out half.
 * --dump writes one line per question (half, rank of the first valid
 * target, confidence, margin, fused score of the first hit, query terms)
 * for calibrating abstention.
 * --export writes DIR/docs.tsv (every field of every fiche, analysed:
 * stem:position) and DIR/queries.tsv (per question: half, targets,
 * analysed terms, first 50 hits with BM25F, trigram cosine and fused
 * score), to try second-stage features offline before writing them in C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

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
    if (kn == 4 && strncmp(kv, "soft", 4) == 0) {
        p->soft = (float)v;
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
    if (kn == 4 && strncmp(kv, "pool", 4) == 0) {
        p->pool = (uint32_t)v;
        return 0;
    }
    if (kn == 4 && strncmp(kv, "lead", 4) == 0) {
        p->cov_lead = (float)v;
        return 0;
    }
    if (kn == 3 && strncmp(kv, "any", 3) == 0) {
        p->cov_any = (float)v;
        return 0;
    }
    if (kn == 4 && strncmp(kv, "xlat", 4) == 0) {
        p->xlat = (float)v;
        return 0;
    }
    if (kn == 8 && strncmp(kv, "xlat.mix", 8) == 0) {
        p->xlat_mix = (float)v;
        return 0;
    }
    if (kn == 6 && strncmp(kv, "xlat.k", 6) == 0) {
        p->xlat_k = (uint32_t)v;
        return 0;
    }
    if (kn == 10 && strncmp(kv, "xlat.iters", 10) == 0) {
        p->xlat_iters = (uint32_t)v;
        return 0;
    }
    if (kn == 10 && strncmp(kv, "xlat.pairs", 10) == 0) {
        p->xlat_pairs = (uint32_t)v;
        return 0;
    }
    for (int f = 0; f < ASST_NFIELDS; f++) {
        size_t fl = strlen(field_names[f]);
        if (kn == fl + 2 && strncmp(kv + 2, field_names[f], fl) == 0) {
            if (kv[0] == 'w' && kv[1] == '.') {
                p->weight[f] = (float)v;
                return 0;
            }
            if (kv[0] == 'c' && kv[1] == '.') {
                p->cov[f] = (float)v;
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

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
cpu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
num(json_t *o, const char *k)
{
    return json_real_value(json_object_get(o, k));
}

static void
print_line(const char *label, json_t *r, double build_ms, size_t bytes)
{
    json_t *t = json_object_get(r, "tune"), *h = json_object_get(r, "heldout");

    printf("%s | all R@1 %.3f R@5 %.3f R@10 %.3f MRR %.3f | tune %.3f %.3f "
           "%.3f | held %.3f %.3f %.3f | cpu %.3f/%.3f ms build cpu %.0f ms %.1f MB "
           "| abst %.3f p %.3f r %.3f\n",
           label, num(r, "recall_at_1"), num(r, "recall_at_5"),
           num(r, "recall_at_10"), num(r, "mrr_at_10"), num(t, "recall_at_1"),
           num(t, "recall_at_5"), num(t, "mrr_at_10"), num(h, "recall_at_1"),
           num(h, "recall_at_5"), num(h, "mrr_at_10"), num(r, "cpu_mean_ms"),
           num(r, "cpu_p99_ms"), build_ms, bytes / (1024.0 * 1024.0),
           num(r, "abstain_rate"), num(r, "abstain_precision"),
           num(r, "abstain_recall"));
    fflush(stdout);
}

/* One line per question: features for calibrating abstention. */
static int
dump(const struct asst_index *ix, const struct asst_questions *q,
     const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    fprintf(f, "half\trank\tconfidence\tmargin\tscore\tngram\tnterms\n");
    for (size_t i = 0; i < q->n; i++) {
        struct gu_arena *a = gu_arena_new(256 * 1024);
        struct asst_result r;
        if (!a || asst_index_search(ix, a, q->v[i].text, strlen(q->v[i].text),
                                    10, &r) < 0) {
            gu_arena_free(a);
            fclose(f);
            return -1;
        }
        size_t rank = 0;
        for (size_t k = 0; k < r.n && !rank; k++) {
            const char *id = asst_index_doc_id(ix, r.hits[k].doc);
            for (size_t t = 0; t < q->v[i].ntargets; t++)
                if (strcmp(id, q->v[i].target[t]) == 0)
                    rank = k + 1;
        }
        fprintf(f, "%d\t%zu\t%.4f\t%.4f\t%.4f\t%.4f\t%zu\n", q->v[i].half, rank,
                r.confidence, r.margin, r.n ? r.hits[0].score : 0,
                r.n ? r.hits[0].ngram : 0, r.nterms);
        gu_arena_free(a);
    }
    return fclose(f);
}

/* --export DIR: the analysed fields of every document and, per question,
 * its analysed terms and first 50 hits, for fitting rerankers offline. */
static int
export_run(const struct asst_corpus *c, const struct asst_questions *q,
           const struct text_pipeline *tp, const struct asst_params *prm,
           const char *dir)
{
    struct asst_index *ix;
    struct gu_err err;
    char path[4096];

    if (asst_index_build_xlat(tp, c->docs, c->n, c->xp.v, c->xp.n, prm,
                              &ix, &err) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/docs.tsv", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        asst_index_free(ix);
        return -1;
    }
    for (size_t d = 0; d < c->n; d++) {
        for (int fl = 0; fl < ASST_NFIELDS; fl++) {
            struct gu_arena *a;
            struct text_tokens tk;
            if (!c->docs[d].text[fl])
                continue;
            a = gu_arena_new(64 * 1024);
            if (!a ||
                text_analyze(tp, NULL, TEXT_MODE_INDEX, a, c->docs[d].text[fl],
                             c->docs[d].len[fl], &tk) < 0) {
                gu_arena_free(a);
                fclose(f);
                asst_index_free(ix);
                return -1;
            }
            fprintf(f, "%zu\t%s\t%d\t", d, c->docs[d].id, fl);
            for (size_t i = 0; i < tk.n; i++)
                fprintf(f, "%s%s:%u", i ? " " : "", tk.v[i].stem, tk.v[i].pos);
            fprintf(f, "\n");
            gu_arena_free(a);
        }
    }
    fclose(f);
    snprintf(path, sizeof(path), "%s/queries.tsv", dir);
    f = fopen(path, "w");
    if (!f) {
        asst_index_free(ix);
        return -1;
    }
    for (size_t i = 0; i < q->n; i++) {
        struct gu_arena *a = gu_arena_new(256 * 1024);
        struct asst_result r;
        struct text_tokens tk;
        const char *t = q->v[i].text;
        if (!a ||
            text_analyze(tp, asst_index_vocab(ix), TEXT_MODE_QUERY, a, t,
                         strlen(t), &tk) < 0 ||
            asst_index_search(ix, a, t, strlen(t), 50, &r) < 0) {
            gu_arena_free(a);
            fclose(f);
            asst_index_free(ix);
            return -1;
        }
        fprintf(f, "%zu\t%d\t", i, q->v[i].half);
        for (size_t k = 0; k < q->v[i].ntargets; k++)
            fprintf(f, "%s%s", k ? "," : "", q->v[i].target[k]);
        fprintf(f, "\t");
        for (size_t k = 0; k < tk.n; k++)
            fprintf(f, "%s%s:%u:%u", k ? " " : "", tk.v[k].stem, tk.v[k].pos,
                    tk.v[k].flags);
        fprintf(f, "\t");
        for (size_t k = 0; k < r.n; k++)
            fprintf(f, "%s%u:%.5f:%.5f:%.5f", k ? " " : "", r.hits[k].doc,
                    r.hits[k].bm25, r.hits[k].ngram, r.hits[k].score);
        fprintf(f, "\t%s\n", t);
        gu_arena_free(a);
    }
    fclose(f);
    asst_index_free(ix);
    return 0;
}

/* Build and evaluate with `prm`; prints a line or the JSON. */
static int
run(const struct asst_corpus *c, const struct asst_questions *q,
    const struct text_pipeline *tp, const struct asst_params *prm,
    const char *label, bool as_json, const char *dump_path)
{
    struct asst_index *ix;
    struct gu_err err;
    json_t *res;

    double t0 = now_ms(), c0 = cpu_now_ms();
    if (asst_index_build_xlat(tp, c->docs, c->n, c->xp.v, c->xp.n, prm,
                              &ix, &err) < 0) {
        fprintf(stderr, "index : %s\n", err.msg);
        return 1;
    }
    double build_ms = now_ms() - t0, build_cpu = cpu_now_ms() - c0;
    if (asst_eval_index(ix, q, NULL, &res, &err) < 0) {
        fprintf(stderr, "eval : %s\n", err.msg);
        asst_index_free(ix);
        return 1;
    }
    if (dump_path && dump(ix, q, dump_path) < 0)
        fprintf(stderr, "dump : %s illisible\n", dump_path);
    if (as_json) {
        json_object_set_new(res, "build_ms", json_real(build_ms));
        json_object_set_new(res, "build_cpu_ms", json_real(build_cpu));
        char *s = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(6));
        if (s)
            puts(s);
        free(s);
    } else {
        print_line(label, res, build_cpu, asst_index_bytes(ix));
    }
    json_decref(res);
    asst_index_free(ix);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *fiches = NULL, *questions = NULL, *dump_path = NULL;
    const char *export_dir = NULL;
    bool mask = false, as_json = false, grid = false;
    struct asst_params prm;
    struct asst_corpus corpus;
    struct asst_questions qs;
    struct text_pipeline *tp;
    struct gu_err err;
    int rc = 0;

    asst_params_default(&prm);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fiches") == 0 && i + 1 < argc) {
            fiches = argv[++i];
        } else if (strcmp(argv[i], "--questions") == 0 && i + 1 < argc) {
            questions = argv[++i];
        } else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
            dump_path = argv[++i];
        } else if (strcmp(argv[i], "--export") == 0 && i + 1 < argc) {
            export_dir = argv[++i];
        } else if (strcmp(argv[i], "--mask-titles") == 0) {
            mask = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "--grid") == 0) {
            grid = true;
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            if (set_param(&prm, argv[++i]) < 0) {
                fprintf(stderr, "paramètre inconnu : %s\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage : eval_driver --fiches DIR --questions "
                            "FICHIER [--mask-titles] [--json] "
                            "[--set NOM=VALEUR]... [--grid] "
                            "[--dump FICHIER]\n");
            return 2;
        }
    }
    if (!fiches || !questions) {
        fprintf(stderr, "--fiches et --questions sont obligatoires\n");
        return 2;
    }
    gu_err_clear(&err);
    if (asst_questions_load(questions, &qs, &err) < 0) {
        fprintf(stderr, "questions : %s\n", err.msg);
        return 1;
    }
    if (asst_corpus_load_sp_pairs(fiches, mask, prm.xlat_pairs, &corpus,
                                  &err) < 0) {
        fprintf(stderr, "fiches : %s\n", err.msg);
        asst_questions_fini(&qs);
        return 1;
    }
    if (text_pipeline_new(NULL, 0, &tp, &err) < 0) {
        fprintf(stderr, "texte : %s\n", err.msg);
        rc = 1;
        goto out;
    }
    if (export_dir) {
        rc = export_run(&corpus, &qs, tp, &prm, export_dir) < 0;
    } else if (!grid) {
        rc = run(&corpus, &qs, tp, &prm, "defaults", as_json, dump_path);
    } else {
        char line[1024];
        while (rc == 0 && fgets(line, sizeof(line), stdin)) {
            struct asst_params p = prm;
            char *save = NULL, *label = gu_strdup(line);
            line[strcspn(line, "\n")] = '\0';
            if (label)
                label[strcspn(label, "\n")] = '\0';
            for (char *tok = strtok_r(line, " ", &save); tok;
                 tok = strtok_r(NULL, " ", &save)) {
                if (set_param(&p, tok) < 0) {
                    fprintf(stderr, "paramètre inconnu : %s\n", tok);
                    rc = 2;
                }
            }
            if (rc == 0)
                rc = run(&corpus, &qs, tp, &p, label ? label : "?", as_json,
                         NULL);
            gu_free(label);
        }
    }
    text_pipeline_free(tp);
out:
    asst_corpus_fini(&corpus);
    asst_questions_fini(&qs);
    return rc;
}
