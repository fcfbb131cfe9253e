/*
 * text_internal.h - private to src/text/: the word lists and the string
 * interning map the pipeline and the vocabulary are built on.
 */
#ifndef TEXT_INTERNAL_H
#define TEXT_INTERNAL_H

#include "text/text.h"

extern const char *const text_stopwords[];
extern const size_t text_stopwords_len;
extern const char *const text_sms[];
extern const size_t text_sms_len;

/* FNV-1a, 32 bits: short keys, good spread, no seed needed. */
uint32_t text_hash(const char *s, size_t n);

/* text_map_find() with the key's text_hash() already computed. */
int32_t text_map_find_h(const struct text_map *m, const char *k, size_t n,
                        uint32_t h);

/* Damerau-Levenshtein (optimal string alignment) distance of two byte
 * strings, or max + 1 once it exceeds `max`. Both lengths < 64. */
int text_edit_distance(const char *a, size_t an, const char *b, size_t bn,
                       int max);

#endif
