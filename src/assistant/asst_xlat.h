/*
 * asst_xlat.h - a question-to-answer word translation model (IBM model 1,
 * Berger & Lafferty 1999) learnt from pairs of a question-like text and
 * the text that answers it: a fiche's section heading (« Coût », « Quel
 * justificatif fournir ? ») and the section under it, a fiche's title or
 * alternative question and its body. The index uses it in its second
 * stage: a candidate whose words translate the question's words gets a
 * bonus (asst_index.c, second_stage()).
 *
 * Trained once when the index is built, from the caller's pairs; only the
 * index's own terms are kept. Private to the assistant module.
 */
#ifndef ASST_XLAT_H
#define ASST_XLAT_H

#include <stddef.h>
#include <stdint.h>

#include "assistant/asst_index.h"
#include "kb/kb.h"
#include "text/text.h"

/* Bytes of an answer the training reads (its start): a long section's
 * words are mostly its nested sections', which are pairs of their own.
 * Callers may keep no more than this of each answer. */
#define ASST_XLAT_ANSWER_BYTES 1000

/*
 * The model, restricted to index terms: for query term a, its best
 * `k` source terms b (index term ids) and t(a | b), in CSR form
 * (start[a] .. start[a + 1]). Owned by the index (asst_xlat_fini).
 */
struct asst_xlat {
    uint32_t nterms;
    uint32_t *start; /* nterms + 1 */
    uint32_t *src;
    float *p;
};

/*
 * Learn t(a | b) from `pairs[0..n)`: question words (stems, synonym
 * concepts left out) a, answer words b with their counts, plus a null
 * word, `iters` EM iterations from uniform. Identical pairs count once;
 * a question text shared by several pairs spreads one unit of weight over
 * them (« Qui est concerné ? » heads hundreds of sections), and one shared
 * by more than `max_same` pairs is dropped. Words unknown to `terms` are
 * ignored. Keeps the best `k` sources per question term. Returns 0 or
 * GU_ENOMEM; *out is empty (start NULL) when no pair is usable.
 */
int asst_xlat_train(const struct text_pipeline *tp,
                    const struct text_map *terms,
                    const struct asst_xlat_pair *pairs, size_t n, uint32_t k,
                    uint32_t iters, uint32_t max_same, struct asst_xlat *out);
void asst_xlat_fini(struct asst_xlat *x);

/*
 * Training pairs being collected, for asst_index_build_xlat(): `v[0..n)`,
 * every string in the arena `a`. Owned by the caller; _fini frees all.
 */
struct asst_xlat_pairs {
    struct gu_arena *a;
    struct asst_xlat_pair *v;
    size_t n, cap;
};

/* Returns 0 or GU_ENOMEM. */
int asst_xlat_pairs_init(struct asst_xlat_pairs *p);
void asst_xlat_pairs_fini(struct asst_xlat_pairs *p);

/*
 * The pairs a fiche gives, appended to `p`: THE one rule that the engine
 * (asst_engine.c, from kb_view_load()) and the evaluation (asst_eval.c,
 * from the JSON fiches under the title-masked protocol) share, so that the
 * evaluated model is the product's. `what` is asst_params.xlat_pairs:
 *   - ASST_XLAT_SECTIONS: for every titled section (`sections` in
 *     document order, title paths « A > B » as kb gives them, the
 *     intro's path ""), its heading -> its text with the sections under
 *     it (each one's heading on a line, then its text), the first
 *     ASST_XLAT_ANSWER_BYTES; a heading with no text of its own (its
 *     path only appears as a prefix) still heads its sub-sections. An
 *     answer of 20 bytes or less gives no pair (« Où s'adresser »'s
 *     placeholder, a one-word case).
 *   - ASST_XLAT_TITLES: a local fiche's title and each alternative
 *     question -> its description and body. Never a national fiche's
 *     title: the evaluation masks those, and the engine must run the
 *     evaluated configuration.
 * Returns 0 or GU_ENOMEM (pairs added so far stay).
 */
int asst_xlat_pairs_add(struct asst_xlat_pairs *p, const struct kb_fiche *f,
                        uint32_t what);

#endif
