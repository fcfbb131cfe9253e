/*
 * text_vocab.c - an index's vocabulary: folded words with their counts,
 * the set of stems, and a character-trigram lookup for spelling repairs.
 *
 * Trigrams are taken over "^word$" so that the first and last letters,
 * where residents rarely err, weigh in. A word within edit distance d of
 * the query shares at least (trigrams - 3d) of them: that bound prunes
 * the candidates before the exact distance is computed. Candidates are
 * then ranked by distance, common start, shared trigrams and frequency
 * (text_vocab_closest).
 */
#include <string.h>

#include "text/text_internal.h"

#define VOCAB_WORD 1u
#define VOCAB_STEM 2u

struct text_vocab {
    struct text_map words; /* words and stems share ids */
    uint32_t *count;       /* per id: occurrences as a word */
    uint8_t *kind;         /* per id: VOCAB_WORD | VOCAB_STEM */
    uint32_t cap;
    /* After sealing: trigram -> word ids, flat (CSR). */
    struct text_map tri;
    uint32_t *tri_start; /* tri.n + 1 offsets */
    uint32_t *tri_ids;
    bool sealed;
};

struct text_vocab *
text_vocab_new(void)
{
    struct text_vocab *v = gu_calloc(1, sizeof(*v));

    if (!v)
        return NULL;
    text_map_init(&v->words);
    text_map_init(&v->tri);
    return v;
}

void
text_vocab_free(struct text_vocab *v)
{
    if (!v)
        return;
    text_map_fini(&v->words);
    text_map_fini(&v->tri);
    gu_free(v->count);
    gu_free(v->kind);
    gu_free(v->tri_start);
    gu_free(v->tri_ids);
    gu_free(v);
}

int
text_vocab_add(struct text_vocab *v, const char *w, size_t n, bool is_stem,
               uint32_t count)
{
    if (v->sealed || n == 0)
        return v->sealed ? GU_EINVAL : 0;
    bool added;
    int32_t id = text_map_intern(&v->words, w, n, &added);
    if (id < 0)
        return GU_ENOMEM;
    if ((uint32_t)id >= v->cap) {
        uint32_t ncap = v->cap ? v->cap * 2 : 1024;
        uint32_t *c = gu_realloc(v->count, ncap * sizeof(*c));
        if (!c)
            return GU_ENOMEM;
        v->count = c;
        uint8_t *k = gu_realloc(v->kind, ncap);
        if (!k)
            return GU_ENOMEM;
        v->kind = k;
        v->cap = ncap;
    }
    if (added) {
        v->count[id] = 0;
        v->kind[id] = 0;
    }
    if (is_stem) {
        v->kind[id] |= VOCAB_STEM;
    } else {
        v->kind[id] |= VOCAB_WORD;
        v->count[id] += count;
    }
    return 0;
}

/* Spelling candidates: plain words of 3 to 40 bytes. */
static bool
candidate(const struct text_vocab *v, uint32_t id)
{
    size_t n = v->words.len[id];
    return (v->kind[id] & VOCAB_WORD) && n >= 3 && n <= 40;
}

/* Trigrams of "^w$" into out[] (3 bytes each); returns their number. */
static size_t
trigrams(const char *w, size_t n, char out[][3], size_t max)
{
    char buf[64];
    size_t k = 0;

    if (n + 2 > sizeof(buf))
        return 0;
    buf[0] = '^';
    memcpy(buf + 1, w, n);
    buf[n + 1] = '$';
    for (size_t i = 0; i + 3 <= n + 2 && k < max; i++, k++)
        memcpy(out[k], buf + i, 3);
    return k;
}

int
text_vocab_seal(struct text_vocab *v)
{
    char tg[64][3];
    uint32_t *cnt = NULL;
    int rc = GU_ENOMEM;

    if (v->sealed)
        return 0;
    /* Pass 1: intern trigrams and count postings. */
    size_t cap = 0;
    for (uint32_t id = 0; id < v->words.n; id++) {
        if (!candidate(v, id))
            continue;
        size_t k = trigrams(text_map_key(&v->words, id, NULL),
                            v->words.len[id], tg, 64);
        for (size_t i = 0; i < k; i++) {
            bool added;
            int32_t t = text_map_intern(&v->tri, tg[i], 3, &added);
            if (t < 0)
                goto out;
            if ((size_t)t >= cap) {
                size_t ncap = cap ? cap * 2 : 4096;
                uint32_t *nc = gu_realloc(cnt, ncap * sizeof(*nc));
                if (!nc)
                    goto out;
                memset(nc + cap, 0, (ncap - cap) * sizeof(*nc));
                cnt = nc;
                cap = ncap;
            }
            cnt[t]++;
        }
    }
    v->tri_start = gu_calloc(v->tri.n + 1, sizeof(*v->tri_start));
    if (!v->tri_start)
        goto out;
    for (uint32_t t = 0; t < v->tri.n; t++)
        v->tri_start[t + 1] = v->tri_start[t] + cnt[t];
    v->tri_ids = gu_malloc((v->tri_start[v->tri.n] + 1) * sizeof(uint32_t));
    if (!v->tri_ids)
        goto out;
    /* Pass 2: fill; cnt becomes the fill cursor. */
    if (cnt) /* an empty vocabulary has no trigram */
        memset(cnt, 0, cap * sizeof(*cnt));
    for (uint32_t id = 0; id < v->words.n; id++) {
        if (!candidate(v, id))
            continue;
        size_t k = trigrams(text_map_key(&v->words, id, NULL),
                            v->words.len[id], tg, 64);
        for (size_t i = 0; i < k; i++) {
            int32_t t = text_map_find(&v->tri, tg[i], 3);
            /* A word repeating a trigram lists itself once per repeat;
             * harmless, it only counts as more shared trigrams. */
            v->tri_ids[v->tri_start[t] + cnt[t]++] = id;
        }
    }
    v->sealed = true;
    rc = 0;
out:
    gu_free(cnt);
    return rc;
}

uint32_t
text_vocab_word_count(const struct text_vocab *v, const char *w, size_t n)
{
    int32_t id = text_map_find(&v->words, w, n);
    return id >= 0 ? v->count[id] : 0;
}

bool
text_vocab_has_stem(const struct text_vocab *v, const char *s, size_t n)
{
    int32_t id = text_map_find(&v->words, s, n);
    return id >= 0 && (v->kind[id] & VOCAB_STEM);
}

const char *
text_vocab_closest(const struct text_vocab *v, struct gu_arena *a,
                   const char *w, size_t n)
{
    char tg[64][3];

    if (!v->sealed || n < 4 || n > 40 || v->words.n == 0)
        return NULL;
    int maxd = n <= 5 ? 1 : 2;
    size_t k = trigrams(w, n, tg, 64);
    /* Shared-trigram counts per word id, only for the ids touched. */
    uint16_t *shared = gu_arena_zalloc(a, v->words.n * sizeof(*shared));
    size_t touched_cap = 1024, ntouched = 0;
    uint32_t *touched = gu_arena_alloc(a, touched_cap * sizeof(*touched));
    if (!shared || !touched)
        return NULL;
    for (size_t i = 0; i < k; i++) {
        int32_t t = text_map_find(&v->tri, tg[i], 3);
        if (t < 0)
            continue;
        for (uint32_t j = v->tri_start[t]; j < v->tri_start[t + 1]; j++) {
            uint32_t id = v->tri_ids[j];
            size_t len = v->words.len[id];
            if ((len > n ? len - n : n - len) > (size_t)maxd)
                continue;
            if (shared[id] == 0) {
                if (ntouched == touched_cap) {
                    uint32_t *nt = gu_arena_alloc(
                        a, 2 * touched_cap * sizeof(*nt));
                    if (!nt)
                        return NULL;
                    memcpy(nt, touched, ntouched * sizeof(*nt));
                    touched = nt;
                    touched_cap *= 2;
                }
                touched[ntouched++] = id;
            }
            if (shared[id] < UINT16_MAX)
                shared[id]++;
        }
    }
    int need = (int)k - 3 * maxd;
    if (need < 1)
        need = 1;
    /*
     * Candidates by (0) words seen more than once first: a word seen once
     * in the whole corpus is often itself a slip or an odd join
     * (« Pass'Sport » folds to passsport, one letter from pasport), (1)
     * Damerau-Levenshtein distance, (2) the length of
     * the common start, up to 4 letters (residents rarely get the start
     * of a word wrong: pasport is passeport, not sport), (3) shared
     * trigrams, (4) frequency.
     */
    const char *best = NULL;
    int best_d = maxd + 1, best_pre = -1, best_sh = -1, best_rare = 2;
    uint32_t best_cnt = 0;
    for (size_t i = 0; i < ntouched; i++) {
        uint32_t id = touched[i];
        if (shared[id] < need)
            continue;
        const char *cw = text_map_key(&v->words, id, NULL);
        size_t cn = v->words.len[id];
        /* A short word keeps its first letter: tatin is not matin. */
        if (n <= 5 && cw[0] != w[0])
            continue;
        int d = text_edit_distance(w, n, cw, cn, maxd);
        if (d > maxd || d == 0)
            continue;
        int pre = 0;
        while (pre < 4 && (size_t)pre < n && (size_t)pre < cn &&
               w[pre] == cw[pre])
            pre++;
        int sh = shared[id];
        int rare = v->count[id] <= 1;
        bool better = rare != best_rare ? rare < best_rare
                      : d != best_d     ? d < best_d
                      : pre != best_pre ? pre > best_pre
                      : sh != best_sh   ? sh > best_sh
                                        : v->count[id] > best_cnt;
        if (better) {
            best = cw;
            best_rare = rare;
            best_d = d;
            best_pre = pre;
            best_sh = sh;
            best_cnt = v->count[id];
        }
    }
    return best;
}
