/*
 * asst_index.h - the assistant's retrieval index: BM25F over the fields
 * of a fiche, fused with character-trigram similarity for typos.
 *
 * Built once from a list of documents (at start or on a knowledge-base
 * reload), then read-only: any number of threads may search it at once.
 * A reload builds a new index and swaps the pointer atomically; the old
 * one is freed when no request uses it any more (the caller's job).
 *
 * Scoring, in two stages:
 *   1. BM25F (Robertson & Zaragoza): per term, a pseudo frequency
 *      sum_f w_f * tf_f / (1 - b_f + b_f * len_f / avglen_f), saturated by
 *      k1 and weighted by idf. Pseudo frequencies are computed at build
 *      time, so a query only walks flat posting arrays.
 *   2. The best `rerank` documents get a fused score: BM25F divided by the
 *      best BM25F, plus `ngram` times the cosine of character-trigram
 *      TF-IDF vectors of the query and of the document's short fields
 *      (title, alternative questions, description).
 *   3. The best `pool` of those get a bonus: per field, and for the lead
 *      (description and the body's first words) and the whole fiche, the
 * idf-weighted share of the query's terms found there, times a weight;
 *      and, with a translation model (asst_index_build_xlat), how much
 *      better the candidate explains the query when its words may
 *      translate the query's words (Berger & Lafferty). Queries allocate
 *      only from the caller's arena.
 */
#ifndef ASST_INDEX_H
#define ASST_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "text/text.h"

enum asst_field {
    ASST_FIELD_TITLE = 0,
    ASST_FIELD_ALT,     /* alternative questions, one per line */
    ASST_FIELD_DESC,    /* the short description (chapeau) */
    ASST_FIELD_BODY,    /* the text of the fiche */
    ASST_FIELD_CONTEXT, /* where the fiche sits: themes, parent folders */
    ASST_NFIELDS
};

/*
 * A document to index. Borrowed for the duration of asst_index_build()
 * only; the index copies the id. Any text may be NULL (empty field).
 */
struct asst_doc {
    const char *id;
    const char *text[ASST_NFIELDS];
    size_t len[ASST_NFIELDS];
};

/* Ranking parameters; asst_params_default() gives the tuned defaults. */
struct asst_params {
    float k1;
    float weight[ASST_NFIELDS];
    float b[ASST_NFIELDS];
    float concept_weight; /* query weight of a synonym concept term */
    float soft;           /* query weight of question-framing words */
    float ngram;          /* weight of the trigram cosine, 0 = off */
    uint32_t rerank;      /* documents rescored with trigrams */
    /* Second stage (stage 3 above): */
    uint32_t pool;           /* first hits rescored, 0 = off */
    float cov[ASST_NFIELDS]; /* weight of each field's query coverage */
    float cov_lead; /* ... of the lead's (description and the body's first
                       words) */
    float cov_any;  /* ... of the whole fiche's */
    /* Translation model (asst_index_build_xlat), in the second stage: */
    float xlat;         /* weight of the translation feature, 0 = off */
    float xlat_mix;     /* share of the translated words in the model */
    uint32_t xlat_k;    /* source words kept per question word */
    uint32_t xlat_iters; /* EM iterations */
    uint32_t xlat_pairs; /* ASST_XLAT_* flags: which pairs a fiche gives
                            (asst_xlat_pairs_add), 0 = no model */
};

/* asst_params.xlat_pairs: section heading -> section text; a local
 * fiche's title and alternative questions -> its text. */
#define ASST_XLAT_SECTIONS 1u
#define ASST_XLAT_TITLES 2u
#define ASST_XLAT_PATHS 4u /* a nested section's whole title path too */

void asst_params_default(struct asst_params *p);

struct asst_index;

/*
 * Build an index over `docs[0..n)` analysed with pipeline `tp`, which must
 * outlive the index. `prm` NULL = defaults. Returns 0, GU_ENOMEM or
 * GU_ETOOBIG (more than 2^31 documents or postings); *out is NULL on
 * failure. Free with asst_index_free().
 */
int asst_index_build(const struct text_pipeline *tp,
                     const struct asst_doc *docs, size_t n,
                     const struct asst_params *prm, struct asst_index **out,
                     struct gu_err *err);
void asst_index_free(struct asst_index *ix);

/*
 * Training data of the question-to-answer translation model: a text
 * worded like a question or a title (a section heading, a fiche's title
 * or alternative question) and the text that answers it (the section,
 * the fiche's body). Borrowed for the build only.
 */
struct asst_xlat_pair {
    const char *q;
    size_t qn;
    const char *a;
    size_t an;
};

/*
 * asst_index_build() that also learns a translation model from
 * `pairs[0..npairs)` (IBM model 1 between question words and answer
 * words, asst_xlat.h): a candidate of the second stage whose words
 * translate the query's words the way answers translate questions gets
 * a bonus (weight `xlat` of asst_params). No pair, xlat 0 or xlat_pairs
 * 0 gives the ranking of asst_index_build(). The engine and the
 * evaluation make their pairs with asst_xlat_pairs_add() (asst_xlat.h).
 * Same return values.
 */
int asst_index_build_xlat(const struct text_pipeline *tp,
                          const struct asst_doc *docs, size_t n,
                          const struct asst_xlat_pair *pairs, size_t npairs,
                          const struct asst_params *prm,
                          struct asst_index **out, struct gu_err *err);

size_t asst_index_ndocs(const struct asst_index *ix);
/* The id given at build time for document number `doc`. */
const char *asst_index_doc_id(const struct asst_index *ix, uint32_t doc);
/* Distinct index terms (stems, numbers, concepts). */
size_t asst_index_nterms(const struct asst_index *ix);
/* Bytes held by the index (postings, vectors, dictionaries), roughly. */
size_t asst_index_bytes(const struct asst_index *ix);
/* The vocabulary, for spelling help elsewhere (read-only). */
const struct text_vocab *asst_index_vocab(const struct asst_index *ix);

struct asst_hit {
    uint32_t doc;
    float score; /* fused score, the ranking key */
    float bm25;  /* raw BM25F */
    float ngram; /* trigram cosine in [0, 1] */
};

/*
 * Search results, best first; `hits` lives in the arena. `margin` is the
 * relative lead of the first hit, (s1 - s2) / s1 in [0, 1] (1 with a
 * single hit, 0 with none): with the top score it is what abstention
 * thresholds are calibrated on.
 */
struct asst_result {
    struct asst_hit *hits;
    size_t n;
    float margin;
    /*
     * How much of the question the first hit covers, in [0, 1]: the
     * idf-weighted share of the query's terms (words and synonym
     * concepts) that occur in that fiche, words unknown to the whole
     * index counting with the highest idf (numbers and dates aside). A
     * share, not a raw score: it does not grow with the corpus, so the
     * threshold carries from one knowledge base to another better than
     * BM25 would. 0 without a hit.
     */
    float confidence;
    size_t nterms; /* query terms found in the index */
};

/*
 * Abstention: answer only when the first hit is clearly the answer. The
 * rule is « abstain when result.confidence < min_score or result.margin <
 * min_margin » (and always when there is no hit); then the engine asks a
 * clarifying question with the first candidates, then offers an agent.
 */
struct asst_abstain {
    float min_score;  /* applies to asst_result.confidence */
    float min_margin; /* applies to asst_result.margin */
};

/* The thresholds calibrated on the service-public evaluation set (see
 * bench/assistant/README.md for the operating point). */
void asst_abstain_default(struct asst_abstain *out);

/* Should the engine abstain on `r` under `ab` (NULL = defaults)? */
bool asst_result_abstains(const struct asst_result *r,
                          const struct asst_abstain *ab);

/*
 * Top `k` documents for the query `q` (`qn` bytes of UTF-8). An empty
 * query, or one with no known term, gives n = 0. Returns 0 or GU_ENOMEM.
 */
int asst_index_search(const struct asst_index *ix, struct gu_arena *a,
                      const char *q, size_t qn, size_t k,
                      struct asst_result *out);

#endif
