/*
 * text.h - the French text pipeline shared by the assistant and triage.
 *
 * From raw UTF-8 to index terms:
 *   normalise (utf8proc NFKD, case fold, accents stripped, oe/ae ligatures
 *   expanded) -> tokenise (elisions l' d' qu'..., hyphens, numbers and
 *   dd/mm/yyyy dates) -> SMS lexicon (query side: kel, jveux, stp, rdv)
 *   -> vocabulary repairs (query side: didentite -> d identite,
 *   carteidentite -> carte identite, pasport -> passeport) -> stopwords ->
 *   Snowball French stems -> synonym/acronym concepts (CNI = carte
 *   nationale d'identite = piece d'identite...).
 *
 * Ownership and threads:
 *   - struct text_pipeline is built once (stopwords, SMS lexicon, synonym
 *     table), then read-only: any number of threads may call
 *     text_analyze() on it concurrently.
 *   - Snowball stemmers are not thread-safe per instance, so each thread
 *     lazily gets its own stemmer (and a stem cache of 16384 words, ~850 KB,
 *     which also remembers stopwords and SMS shorthands) through a
 *     pthread key; it is freed when the thread exits. No mutex.
 *   - struct text_vocab is the vocabulary of an index (folded words and
 *     stems), built by the index, then read-only and shared like the
 *     pipeline. The pipeline never owns a vocabulary.
 *   - text_analyze() allocates only from the caller's arena.
 */
#ifndef TEXT_TEXT_H
#define TEXT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Longest word kept, in bytes of folded UTF-8; longer runs are cut. */
#define TEXT_WORD_MAX 48

/* Term flags (a bit set). */
enum text_term_flag {
    TEXT_TERM_NUMBER = 1 << 0,    /* digits only ("2024", "12.5") */
    TEXT_TERM_DATE = 1 << 1,      /* a date, word is "yyyy-mm-dd" */
    TEXT_TERM_CONCEPT = 1 << 2,   /* synonym group token, not a word */
    TEXT_TERM_SMS = 1 << 3,       /* came from the SMS lexicon */
    TEXT_TERM_SPLIT = 1 << 4,     /* from splitting a glued word */
    TEXT_TERM_CORRECTED = 1 << 5, /* spelling corrected to the vocab */
    TEXT_TERM_ALNUM = 1 << 6      /* letters and digits ("f1234") */
};

/*
 * One term. Strings are NUL-terminated and live in the arena given to
 * text_analyze(). `word` is the folded surface form ("identite"), `stem`
 * the index key ("identit"; equal to word for numbers, dates and
 * concepts, which start with '~'). `pos` counts kept tokens (a concept
 * takes the position of the phrase's first word); `off`/`len` locate the
 * source bytes in the input.
 */
struct text_term {
    const char *word;
    const char *stem;
    uint32_t pos;
    uint32_t off;
    uint32_t len;
    uint32_t flags;
};

/* The output of text_analyze(); `v` lives in the arena. */
struct text_tokens {
    struct text_term *v;
    size_t n;
};

/* Analysis modes for text_analyze(). */
enum text_mode {
    /* Documents: no SMS lexicon, no spelling repairs. */
    TEXT_MODE_INDEX = 0,
    /* Resident input: SMS lexicon, and repairs when a vocab is given. */
    TEXT_MODE_QUERY = 1
};

struct text_pipeline;
struct text_vocab;

/*
 * The built-in synonym and acronym table, in the text format read by
 * text_pipeline_new(): one group per line, variants separated by '|',
 * '#' starts a comment. The first variant names the group.
 */
extern const char text_default_synonyms[];

/*
 * Build a pipeline. `synonyms` (length `n`) is a table in the format of
 * text_default_synonyms; NULL uses the default table, "" none. A commune's
 * edited table replaces the default (it usually starts as a copy).
 * Returns 0, GU_ENOMEM, or GU_EINVAL with err naming the bad line.
 * Free with text_pipeline_free().
 */
int text_pipeline_new(const char *synonyms, size_t n,
                      struct text_pipeline **out, struct gu_err *err);
void text_pipeline_free(struct text_pipeline *p);

/* Number of synonym groups loaded (for logs and tests). */
size_t text_pipeline_synonym_groups(const struct text_pipeline *p);

/*
 * Analyse `s` (`n` bytes of UTF-8; invalid bytes count as spaces) into
 * terms. `vocab` may be NULL; in TEXT_MODE_QUERY it enables the spelling
 * and agglutination repairs against an index's vocabulary. Stopwords are
 * dropped. Returns 0 or GU_ENOMEM (then *out is empty).
 */
int text_analyze(const struct text_pipeline *p, const struct text_vocab *vocab,
                 enum text_mode mode, struct gu_arena *a, const char *s,
                 size_t n, struct text_tokens *out);

/*
 * text_analyze(), also giving the folded text it tokenised: *fold (in
 * the arena, not NUL-terminated) and *fold_n hold the bytes text_fold()
 * returns for `s` (empty when n is 0 or on error). For callers that need
 * both, e.g. character n-grams beside the terms, without folding twice.
 */
int text_analyze_folded(const struct text_pipeline *p,
                        const struct text_vocab *vocab, enum text_mode mode,
                        struct gu_arena *a, const char *s, size_t n,
                        struct text_tokens *out, const char **fold,
                        size_t *fold_n);

/*
 * Fold `s` (case, accents, ligatures, apostrophes; other punctuation
 * becomes spaces, except . , / - : between characters kept as is) into a
 * NUL-terminated arena string. *out_n gets its length. NULL on OOM.
 */
char *text_fold(struct gu_arena *a, const char *s, size_t n, size_t *out_n);

/* Is the folded word `w` a French stopword? */
bool text_is_stopword(const struct text_pipeline *p, const char *w, size_t n);

/*
 * Snowball French stem of the folded word `w` into `buf` (NUL-terminated,
 * cut to cap - 1). Returns the stem length. Thread-safe (per-thread
 * stemmer). When no stemmer can be made, copies the word.
 */
size_t text_stem(const char *w, size_t n, char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* Vocabulary of an index                                             */
/* ------------------------------------------------------------------ */

/*
 * Build in two phases: text_vocab_new(), text_vocab_add() for every folded
 * word and stem seen in the documents (counts add up), then
 * text_vocab_seal() which builds the character-trigram lookup. After
 * sealing, the vocabulary is read-only and may be shared by threads.
 */
struct text_vocab *text_vocab_new(void);
void text_vocab_free(struct text_vocab *v);
/* `is_stem` marks a stem (looked up only), else a surface word (also a
 * spelling candidate). Returns 0 or GU_ENOMEM. */
int text_vocab_add(struct text_vocab *v, const char *w, size_t n,
                   bool is_stem, uint32_t count);
int text_vocab_seal(struct text_vocab *v);
/* Count of surface word `w` (0 = unknown). */
uint32_t text_vocab_word_count(const struct text_vocab *v, const char *w,
                               size_t n);
/* Is `s` a known stem? */
bool text_vocab_has_stem(const struct text_vocab *v, const char *s, size_t n);
/*
 * Closest surface word to `w` within Damerau-Levenshtein distance 1
 * (words of 4-5 bytes) or 2 (6 and more); NULL when none. Ties go to more
 * shared trigrams, then to the more frequent word. The result points into
 * the vocabulary.
 */
const char *text_vocab_closest(const struct text_vocab *v, struct gu_arena *a,
                               const char *w, size_t n);

/* ------------------------------------------------------------------ */
/* String interning map                                               */
/* ------------------------------------------------------------------ */

/*
 * Byte strings -> dense ids 0, 1, 2... in insertion order. Keys are
 * copied into the map's pool (NUL-terminated). Used by the pipeline's
 * word lists, by text_vocab and by indexes built on this pipeline for
 * their term dictionaries. Caller-owned storage (_init/_fini); not
 * thread-safe while growing, safe for concurrent lookups afterwards.
 */
struct text_map {
    /* (hash << 32) | (id + 1), 0 = empty; capacity mask + 1. The hash
     * beside the id rejects most other keys without touching them. */
    uint64_t *slots;
    uint32_t mask;
    uint32_t n;      /* keys */
    uint32_t cap;    /* capacity of off/len/hash */
    uint32_t *off;   /* key offsets into pool */
    uint32_t *len;
    uint32_t *hash;
    char *pool;
    size_t pool_n, pool_cap;
};

void text_map_init(struct text_map *m);
void text_map_fini(struct text_map *m);
/* Id of `k`, or -1 when absent. */
int32_t text_map_find(const struct text_map *m, const char *k, size_t n);
/* Id of `k`, added when absent (*added set when not NULL); -1 on OOM. */
int32_t text_map_intern(struct text_map *m, const char *k, size_t n,
                        bool *added);
/* The key of `id` (NUL-terminated); its length in *n when not NULL. */
const char *text_map_key(const struct text_map *m, uint32_t id, size_t *n);

#endif
