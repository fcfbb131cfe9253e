/*
 * text.c - the French analysis pipeline: fold, tokenise, repair, stem,
 * and tag synonym concepts. See text.h for the stages and the threading
 * contract.
 */
#include <pthread.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "text/text_internal.h"

/* Longest synonym phrase, in terms. */
#define PHRASE_MAX 8
/* Per-thread stem cache: direct-mapped, short words only. */
#define STEM_CACHE 16384
#define STEM_CACHE_WORD 24

struct phrase {
    uint32_t group;
    uint32_t nterms;
    uint32_t next;       /* next phrase with the same first stem + 1 */
    uint32_t stem[PHRASE_MAX]; /* ids in pipeline->phrase_stems */
};

struct text_pipeline {
    struct text_map stop;
    struct text_map sms; /* shorthand -> id; replacement in sms_rep[id] */
    const char **sms_rep;
    struct text_map phrase_stems; /* every stem used in a phrase */
    /* Bit stem_prefix(s) set for every stem s of phrase_stems: most
     * terms start otherwise and skip the lookup (a strlen, a hash and a
     * probe per term, for a few hundred phrases). */
    uint64_t phrase_prefix[65536 / 64];
    uint32_t *first_head;         /* phrase_stems id -> phrase + 1 */
    struct phrase *phrases;
    size_t nphrases;
    struct text_map groups; /* concept token ("~cni") -> group id */
};

/* ------------------------------------------------------------------ */
/* Per-thread stemmer                                                 */
/* ------------------------------------------------------------------ */

/* What a slot knows of its word besides the stem (fl). Stopwords and the
 * SMS lexicon are the same fixed lists in every pipeline, so a thread's
 * cache may keep them for all pipelines. */
enum {
    SLOT_KNOWN = 1, /* the two bits below are set */
    SLOT_STOP = 2,  /* a stopword */
    SLOT_SMS = 4    /* a shorthand of the SMS lexicon */
};

struct stem_slot {
    uint8_t wn, sn, fl;
    char w[STEM_CACHE_WORD];
    char s[STEM_CACHE_WORD];
};

struct stem_ctx {
    struct sb_stemmer *sb;
    struct stem_slot cache[STEM_CACHE];
};

static pthread_key_t stem_key;
static _Thread_local struct stem_ctx *stem_tls;
static pthread_once_t stem_once = PTHREAD_ONCE_INIT;
static int stem_key_ok;

static void
stem_ctx_free(void *p)
{
    struct stem_ctx *c = p;

    if (stem_tls == c)
        stem_tls = NULL;
    if (c && c->sb)
        sb_stemmer_delete(c->sb);
    gu_free(c);
}

static void
stem_key_make(void)
{
    stem_key_ok = pthread_key_create(&stem_key, stem_ctx_free) == 0;
}

/* stem_tls: this thread's context, once got, so that a word costs no
 * library call; the pthread key still owns it (its destructor, run in
 * the exiting thread, clears the pointer). */
/* This thread's stemmer, made on first use; NULL when none can be. */
static struct stem_ctx *
stem_ctx_get(void)
{
    if (stem_tls)
        return stem_tls;
    pthread_once(&stem_once, stem_key_make);
    if (!stem_key_ok)
        return NULL;
    struct stem_ctx *c = pthread_getspecific(stem_key);
    if (c)
        return c;
    c = gu_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->sb = sb_stemmer_new("french", "UTF_8");
    if (!c->sb || pthread_setspecific(stem_key, c) != 0) {
        stem_ctx_free(c);
        return NULL;
    }
    stem_tls = c;
    return c;
}

/* text_stem() of a word whose text_hash() is h. */
/* memcmp() == 0 for the short keys of the hot path, without a call. */
static inline bool
bytes_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* text_stem() of a word whose text_hash() is h; *held (when not NULL)
 * gets the cache slot now holding the word, or NULL. */
static size_t
stem_slot(const char *w, size_t n, uint32_t h, char *buf, size_t cap,
          struct stem_slot **held)
{
    struct stem_ctx *c = stem_ctx_get();
    struct stem_slot *slot = NULL;
    const char *r = w;
    size_t rn = n;

    if (held)
        *held = NULL;
    if (cap == 0)
        return 0;
    if (c && n < STEM_CACHE_WORD) {
        /* Two ways: the word's slot and its neighbour, the newer word in
         * its own slot (direct-mapped, a fifth of the fiches' words
         * evicted each other and were stemmed again at every text). */
        slot = &c->cache[h & (STEM_CACHE - 1)];
        struct stem_slot *old = &c->cache[(h & (STEM_CACHE - 1)) ^ 1];
        if (slot->wn == n && bytes_eq(slot->w, w, n)) {
            r = slot->s;
            rn = slot->sn;
            if (held)
                *held = slot;
            goto copy;
        }
        if (old->wn == n && bytes_eq(old->w, w, n)) {
            r = old->s;
            rn = old->sn;
            if (held)
                *held = old;
            goto copy;
        }
        if (slot->wn)
            *old = *slot; /* the word about to be replaced, kept */
    }
    if (c) {
        const sb_symbol *s = sb_stemmer_stem(c->sb, (const sb_symbol *)w,
                                             (int)n);
        if (s) {
            r = (const char *)s;
            rn = (size_t)sb_stemmer_length(c->sb);
        }
    }
    if (slot && rn < STEM_CACHE_WORD) {
        /* Copy before sb's buffer is reused by the next call. */
        memcpy(slot->s, r, rn);
        slot->sn = (uint8_t)rn;
        memcpy(slot->w, w, n);
        slot->wn = (uint8_t)n;
        slot->fl = 0;
        if (held)
            *held = slot;
    }
copy:
    if (rn >= cap)
        rn = cap - 1;
    memmove(buf, r, rn);
    buf[rn] = '\0';
    return rn;
}

static size_t
stem_h(const char *w, size_t n, uint32_t h, char *buf, size_t cap)
{
    return stem_slot(w, n, h, buf, cap, NULL);
}

size_t
text_stem(const char *w, size_t n, char *buf, size_t cap)
{
    return stem_h(w, n, text_hash(w, n), buf, cap);
}

/* ------------------------------------------------------------------ */
/* Folding                                                            */
/* ------------------------------------------------------------------ */

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A byte of a folded word: ASCII letter or digit, or any non-ASCII byte
 * (folding keeps only letters and numbers outside ASCII). */
static bool
is_wordc(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || is_digit(c) || u >= 0x80;
}

/* Byte classes of folded text: CL_ALPHA (a-z and any non-ASCII byte),
 * CL_DIGIT (0-9); 0 = not a word byte. */
enum { CL_ALPHA = 1, CL_DIGIT = 2 };

static const uint8_t char_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

struct fold_out {
    char *p;
    uint32_t *map; /* source offset of each byte, may be NULL */
    size_t n, cap;
};

static inline void
put(struct fold_out *o, char c, uint32_t src)
{
    if (o->n < o->cap) {
        o->p[o->n] = c;
        if (o->map)
            o->map[o->n] = src;
        o->n++;
    }
}

/* The folding of each ASCII character, the punctuation policy of
 * text_fold(): letters lowered, digits kept, ' and ` an apostrophe,
 * . , / - : kept, anything else a space. */
static const char ascii_fold[129] =
    "                                "
    "       '    ,-./0123456789:     "
    " abcdefghijklmnopqrstuvwxyz     "
    "'abcdefghijklmnopqrstuvwxyz     ";

/* One folded ASCII character. */
static inline void
put_ascii(struct fold_out *o, int32_t c, uint32_t src)
{
    put(o, ascii_fold[c & 0x7f], src);
}

static void
put_cp(struct fold_out *o, int32_t cp, uint32_t src)
{
    if (cp < 0x80) {
        put_ascii(o, cp, src);
        return;
    }
    utf8proc_category_t cat = utf8proc_category(cp);
    if (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME)
        return; /* a combining mark left by decomposition */
    if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO) {
        utf8proc_uint8_t b[4];
        utf8proc_ssize_t k = utf8proc_encode_char(cp, b);
        for (utf8proc_ssize_t i = 0; i < k; i++)
            put(o, (char)b[i], src);
        return;
    }
    put(o, ' ', src);
}

/*
 * The folding of each two-byte sequence (U+0080-U+07FF: accented Latin
 * letters, « », ligatures...), made once by the general path below on
 * that sequence alone: a code point folds the same wherever it is, so
 * a text's accented letters are copied from here instead of going
 * through utf8proc each time. An output longer than FOLD2_OUT bytes is
 * not kept (n = 0xff: the general path).
 */
#define FOLD2_OUT 7

struct fold2_entry {
    uint8_t n;
    char b[FOLD2_OUT];
};

static struct fold2_entry fold2_tab[0x800];
static pthread_once_t fold2_once = PTHREAD_ONCE_INIT;

static void fold_slow(struct fold_out *o, const char *s, size_t n);

static void
fold2_init(void)
{
    for (uint32_t cp = 0x80; cp < 0x800; cp++) {
        char in[2] = {(char)(0xc0 | (cp >> 6)), (char)(0x80 | (cp & 0x3f))};
        char out[FOLD2_OUT + 1];
        struct fold_out o = {.p = out, .cap = sizeof(out)};
        fold_slow(&o, in, 2);
        fold2_tab[cp].n = 0xff;
        if (o.n <= FOLD2_OUT) {
            memcpy(fold2_tab[cp].b, out, o.n);
            fold2_tab[cp].n = (uint8_t)o.n;
        }
    }
}

/* fold_into(), with ASCII and two-byte sequences from tables. */
static void
fold_into(struct fold_out *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    pthread_once(&fold2_once, fold2_init);
    while (i < n) {
        unsigned char c = u[i];
        if (c < 0x80) {
            put_ascii(o, c, (uint32_t)i);
            i++;
            continue;
        }
        if (c >= 0xc2 && c < 0xe0 && i + 1 < n && (u[i + 1] & 0xc0) == 0x80) {
            const struct fold2_entry *e =
                &fold2_tab[((c & 0x1f) << 6) | (u[i + 1] & 0x3f)];
            if (e->n != 0xff) {
                for (uint8_t j = 0; j < e->n; j++)
                    put(o, e->b[j], (uint32_t)i);
                i += 2;
                continue;
            }
        }
        /* Anything else: this code point by the general path, its
         * output bytes mapped to its first byte as there. */
        size_t k = 1;
        while (i + k < n && k < 4 && (u[i + k] & 0xc0) == 0x80)
            k++;
        size_t o0 = o->n;
        fold_slow(o, s + i, k);
        if (o->map)
            for (size_t j = o0; j < o->n; j++)
                o->map[j] += (uint32_t)i;
        i += k;
    }
}

/* The general folding: utf8proc for every non-ASCII code point. */
static void
fold_slow(struct fold_out *o, const char *s, size_t n)
{
    const utf8proc_option_t opt = UTF8PROC_CASEFOLD | UTF8PROC_COMPAT |
                                  UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK |
                                  UTF8PROC_IGNORE;
    size_t i = 0;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        uint32_t src = (uint32_t)i;
        if (c < 0x80) {
            put_ascii(o, c, src);
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0 || cp < 0) {
            put(o, ' ', src); /* invalid byte: a separator, never a crash */
            i++;
            continue;
        }
        i += (size_t)k;
        switch (cp) {
        case 0x152: case 0x153: /* oe ligature */
            put(o, 'o', src);
            put(o, 'e', src);
            continue;
        case 0xC6: case 0xE6: /* ae ligature */
            put(o, 'a', src);
            put(o, 'e', src);
            continue;
        case 0x2018: case 0x2019: case 0x2BC: case 0xB4: case 0x2032:
            put(o, '\'', src); /* typographic apostrophes */
            continue;
        case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014:
            put(o, '-', src);
            continue;
        default:
            break;
        }
        utf8proc_int32_t d[8];
        int last = 0;
        utf8proc_ssize_t m = utf8proc_decompose_char(cp, d, 8, opt, &last);
        if (m < 0 || m > 8) {
            put(o, ' ', src);
            continue;
        }
        for (utf8proc_ssize_t j = 0; j < m; j++)
            put_cp(o, d[j], src);
    }
}

/* Folding never grows text by more than this factor (ligatures, ß). */
#define FOLD_GROWTH 3

char *
text_fold(struct gu_arena *a, const char *s, size_t n, size_t *out_n)
{
    struct fold_out o = {0};

    o.cap = n * FOLD_GROWTH;
    o.p = gu_arena_alloc(a, o.cap + 1);
    if (!o.p)
        return NULL;
    fold_into(&o, s, n);
    o.p[o.n] = '\0';
    if (out_n)
        *out_n = o.n;
    return o.p;
}

/* ------------------------------------------------------------------ */
/* Tokens                                                             */
/* ------------------------------------------------------------------ */

enum tok_kind { TOK_WORD, TOK_NUMBER, TOK_DATE, TOK_ALNUM };

/* A raw token before stopwords and stemming. */
struct rawtok {
    char w[TEXT_WORD_MAX + 1];
    size_t n;
    uint32_t off, len; /* source bytes */
    enum tok_kind kind;
    uint32_t flags;
};

/* A growable term list in the arena. */
struct terms {
    struct gu_arena *a;
    struct text_term *v;
    size_t n, cap;
    uint32_t pos;
    bool oom;
};

static struct text_term *
terms_push(struct terms *t)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 32;
        struct text_term *nv = gu_arena_alloc(t->a, ncap * sizeof(*nv));
        if (!nv) {
            t->oom = true;
            return NULL;
        }
        if (t->n)
            memcpy(nv, t->v, t->n * sizeof(*nv));
        t->v = nv;
        t->cap = ncap;
    }
    return &t->v[t->n++];
}

/* Elided words: l d j m n s t c qu jusqu lorsqu puisqu quoiqu presqu. */
static bool
is_elision(const char *w, size_t n)
{
    switch (n) {
    case 1:
        return strchr("ldjmnstc", w[0]) != NULL && w[0] != '\0';
    case 2:
        return w[0] == 'q' && w[1] == 'u';
    case 5:
        return memcmp(w, "jusqu", 5) == 0;
    case 6:
        return memcmp(w, "lorsqu", 6) == 0 || memcmp(w, "puisqu", 6) == 0 ||
               memcmp(w, "quoiqu", 6) == 0 || memcmp(w, "presqu", 6) == 0;
    default:
        return false;
    }
}

/* Digits at f[i..]: count them (at most `max`). */
static size_t
digits_at(const char *f, size_t n, size_t i, size_t max)
{
    size_t k = 0;

    while (i + k < n && is_digit(f[i + k]) && k <= max)
        k++;
    return k;
}

static unsigned
num2(const char *p, size_t k)
{
    unsigned v = 0;

    for (size_t i = 0; i < k; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    return v;
}

/*
 * A date dd/mm/yyyy (or dd-mm-yyyy, dd.mm.yyyy, two-digit years) at f[i].
 * On success writes "yyyy-mm-dd" into t and returns the bytes consumed.
 */
static size_t
date_at(const char *f, size_t n, size_t i, struct rawtok *t)
{
    size_t k1 = digits_at(f, n, i, 2);
    if (k1 < 1 || k1 > 2 || i + k1 >= n)
        return 0;
    char sep = f[i + k1];
    if (sep != '/' && sep != '-' && sep != '.')
        return 0;
    size_t j = i + k1 + 1;
    size_t k2 = digits_at(f, n, j, 2);
    if (k2 < 1 || k2 > 2 || j + k2 >= n || f[j + k2] != sep)
        return 0;
    size_t y = j + k2 + 1;
    size_t k3 = digits_at(f, n, y, 4);
    if (k3 != 2 && k3 != 4)
        return 0;
    if (y + k3 < n && is_wordc(f[y + k3]))
        return 0;
    unsigned d = num2(f + i, k1), m = num2(f + j, k2);
    unsigned yr = num2(f + y, k3);
    if (d < 1 || d > 31 || m < 1 || m > 12)
        return 0;
    if (k3 == 2)
        yr += yr < 70 ? 2000 : 1900; /* residents write 05/03/24 */
    char buf[16];
    int w = snprintf(buf, sizeof(buf), "%04u-%02u-%02u", yr, m, d);
    if (w != 10)
        return 0;
    memcpy(t->w, buf, 10);
    t->n = 10;
    t->kind = TOK_DATE;
    return y + k3 - i;
}

typedef void (*tok_fn)(void *ctx, struct rawtok *t);

/*
 * Split folded text f[0..n) into raw tokens. `map` gives source offsets
 * (NULL: use `base_off`/`base_len` for every token, for re-tokenised SMS
 * replacements).
 */
static void
tokenise(const char *f, size_t n, const uint32_t *map, size_t src_n,
         uint32_t base_off, uint32_t base_len, uint32_t flags, tok_fn fn,
         void *ctx)
{
    size_t i = 0;

    while (i < n) {
        if (!is_wordc(f[i])) {
            i++;
            continue;
        }
        struct rawtok t;
        size_t start = i;
        t.n = 0;
        t.flags = flags;
        size_t used = is_digit(f[i]) ? date_at(f, n, i, &t) : 0;
        if (used) {
            i += used;
        } else {
            bool digit = false, alpha = false;
            for (;;) {
                /* The run of word bytes, its classes, then one copy. */
                size_t e = i;
                unsigned cls = 0, k;
                while (e < n &&
                       (k = char_class[(unsigned char)f[e]]) != 0) {
                    cls |= k;
                    e++;
                }
                size_t take = e - i;
                if (take > TEXT_WORD_MAX - t.n)
                    take = TEXT_WORD_MAX - t.n;
                memcpy(t.w + t.n, f + i, take);
                t.n += take;
                i = e;
                digit |= (cls & CL_DIGIT) != 0;
                alpha |= (cls & CL_ALPHA) != 0;
                /* Decimal numbers: "12,5" and "3.14" stay one token. */
                if (digit && !alpha && i + 1 < n &&
                    (f[i] == ',' || f[i] == '.') && is_digit(f[i + 1]) &&
                    t.n < TEXT_WORD_MAX) {
                    t.w[t.n++] = '.';
                    i++;
                    continue;
                }
                /* An apostrophe inside a word: elision or join. */
                if (alpha && !digit && i + 1 < n && f[i] == '\'' &&
                    is_wordc(f[i + 1]) && !is_elision(t.w, t.n)) {
                    i++; /* aujourd'hui -> aujourdhui */
                    continue;
                }
                break;
            }
            t.kind = digit ? (alpha ? TOK_ALNUM : TOK_NUMBER) : TOK_WORD;
        }
        t.w[t.n] = '\0';
        if (map) {
            t.off = map[start];
            uint32_t end = i < n ? map[i] : (uint32_t)src_n;
            t.len = end > t.off ? end - t.off : 0;
        } else {
            t.off = base_off;
            t.len = base_len;
        }
        fn(ctx, &t);
    }
}

/* ------------------------------------------------------------------ */
/* Analysis                                                           */
/* ------------------------------------------------------------------ */

struct actx {
    const struct text_pipeline *p;
    const struct text_vocab *vocab;
    enum text_mode mode;
    struct terms t;
};

bool
text_is_stopword(const struct text_pipeline *p, const char *w, size_t n)
{
    return text_map_find(&p->stop, w, n) >= 0;
}

/*
 * Keep one word: stem, append. `h` is text_hash(w, n) of a TOK_WORD
 * already known not to be a stopword (emit_word() checks); `st` its stem
 * (`sn` bytes) when known, else NULL.
 */
static void
emit_checked(struct actx *c, const char *w, size_t n, uint32_t h,
             const char *st, size_t sn, uint32_t off, uint32_t len,
             enum tok_kind kind, uint32_t flags)
{
    struct text_term *tm = terms_push(&c->t);
    char buf[TEXT_WORD_MAX + 1];
    if (!tm)
        return;
    if (kind == TOK_WORD && !st) {
        sn = stem_h(w, n, h, buf, sizeof(buf));
        st = buf;
    }
    /* The word and its stem, two strings in one allocation. */
    size_t need = n + 1 + (kind == TOK_WORD ? sn + 1 : 0);
    char *word = gu_arena_alloc(c->t.a, need);
    if (!word) {
        c->t.oom = true;
        c->t.n--;
        return;
    }
    memcpy(word, w, n);
    word[n] = '\0';
    const char *stem = word;
    if (kind == TOK_WORD) {
        char *sp = word + n + 1;
        memcpy(sp, st, sn);
        sp[sn] = '\0';
        stem = sp;
    }
    if (kind == TOK_NUMBER)
        flags |= TEXT_TERM_NUMBER;
    else if (kind == TOK_DATE)
        flags |= TEXT_TERM_DATE;
    else if (kind == TOK_ALNUM)
        flags |= TEXT_TERM_ALNUM;
    tm->word = word;
    tm->stem = stem;
    tm->pos = c->t.pos++;
    tm->off = off;
    tm->len = len;
    tm->flags = flags;
}

/* Keep one word: stopword filter, stem, append. */
static void
emit_word(struct actx *c, const char *w, size_t n, uint32_t off,
          uint32_t len, enum tok_kind kind, uint32_t flags)
{
    uint32_t h = 0;

    if (n == 0)
        return;
    if (kind == TOK_WORD) {
        h = text_hash(w, n);
        if (text_map_find_h(&c->p->stop, w, n, h) >= 0)
            return;
    }
    emit_checked(c, w, n, h, NULL, 0, off, len, kind, flags);
}

/* Is `w` known to the vocabulary, as a word or through its stem? */
static bool
known(const struct text_vocab *v, const char *w, size_t n)
{
    if (text_vocab_word_count(v, w, n) > 0)
        return true;
    char buf[TEXT_WORD_MAX + 1];
    size_t sn = text_stem(w, n, buf, sizeof(buf));
    return text_vocab_has_stem(v, buf, sn);
}

/*
 * Repairs for a query word the index has never seen: a missing
 * apostrophe (didentite), two glued words (carteidentite), a spelling
 * slip (pasport). Returns true when the word was replaced.
 */
static bool
repair(struct actx *c, const struct rawtok *t)
{
    const struct text_vocab *v = c->vocab;
    const char *w = t->w;
    size_t n = t->n;

    if (n < 4 || known(v, w, n))
        return false;
    /* An elided article or pronoun glued to a known word. */
    size_t pre = 0;
    if (strchr("ldjmnstc", w[0]))
        pre = 1;
    if (n > 5 && w[0] == 'q' && w[1] == 'u')
        pre = 2;
    if (pre && n - pre >= 3 && text_vocab_word_count(v, w + pre, n - pre)) {
        emit_word(c, w + pre, n - pre, t->off, t->len, TOK_WORD,
                  t->flags | TEXT_TERM_SPLIT);
        return true;
    }
    /* Two known content words, the split whose rarer half is commonest. */
    size_t best = 0;
    uint32_t best_min = 0;
    for (size_t i = 3; i + 3 <= n; i++) {
        if (text_is_stopword(c->p, w, i) ||
            text_is_stopword(c->p, w + i, n - i))
            continue;
        uint32_t l = text_vocab_word_count(v, w, i);
        uint32_t r = text_vocab_word_count(v, w + i, n - i);
        uint32_t m = l < r ? l : r;
        if (m > best_min) {
            best_min = m;
            best = i;
        }
    }
    const char *fix = text_vocab_closest(v, c->t.a, w, n);
    /* A one-letter slip beats a split; a split beats a two-letter one. */
    if (fix && text_edit_distance(w, n, fix, strlen(fix), 1) <= 1)
        best = 0;
    if (best) {
        emit_word(c, w, best, t->off, t->len, TOK_WORD,
                  t->flags | TEXT_TERM_SPLIT);
        emit_word(c, w + best, n - best, t->off, t->len, TOK_WORD,
                  t->flags | TEXT_TERM_SPLIT);
        return true;
    }
    if (fix) {
        emit_word(c, fix, strlen(fix), t->off, t->len, TOK_WORD,
                  t->flags | TEXT_TERM_CORRECTED);
        return true;
    }
    return false;
}

static void on_token(void *ctx, struct rawtok *t);

static void
on_token(void *ctx, struct rawtok *t)
{
    struct actx *c = ctx;

    if (t->kind != TOK_WORD) {
        emit_word(c, t->w, t->n, t->off, t->len, t->kind, t->flags);
        return;
    }
    if (t->n == 0)
        return;
    /* One hash for the SMS lexicon, the stopwords and the stem cache;
     * the word's slot in this thread's cache (stemmed on a miss) tells
     * whether it is in the two lists, after their first lookup. */
    uint32_t h = text_hash(t->w, t->n);
    char sbuf[TEXT_WORD_MAX + 1];
    struct stem_slot *slot;
    size_t sn = stem_slot(t->w, t->n, h, sbuf, sizeof(sbuf), &slot);
    unsigned fl;
    if (slot && (slot->fl & SLOT_KNOWN)) {
        fl = slot->fl;
    } else {
        fl = SLOT_KNOWN;
        if (text_map_find_h(&c->p->stop, t->w, t->n, h) >= 0)
            fl |= SLOT_STOP;
        if (text_map_find_h(&c->p->sms, t->w, t->n, h) >= 0)
            fl |= SLOT_SMS;
        if (slot)
            slot->fl = (uint8_t)fl;
    }
    if (c->mode == TEXT_MODE_QUERY && !(t->flags & TEXT_TERM_SMS) &&
        (fl & SLOT_SMS)) {
        int32_t id = text_map_find_h(&c->p->sms, t->w, t->n, h);
        if (id >= 0) {
            const char *rep = c->p->sms_rep[id];
            tokenise(rep, strlen(rep), NULL, 0, t->off, t->len,
                     TEXT_TERM_SMS, on_token, c);
            return;
        }
    }
    if (fl & SLOT_STOP)
        return;
    if (c->mode == TEXT_MODE_QUERY && c->vocab && !(t->flags & TEXT_TERM_SMS)
        && repair(c, t))
        return;
    emit_checked(c, t->w, t->n, h, sbuf, sn, t->off, t->len, TOK_WORD,
                 t->flags);
}

/* The first two bytes of a NUL-terminated stem, as a 16-bit number. */
static inline uint32_t
stem_prefix(const char *s)
{
    unsigned char a = (unsigned char)s[0];

    return (uint32_t)a << 8 | (a ? (unsigned char)s[1] : 0);
}

static inline bool
phrase_prefix_has(const struct text_pipeline *p, const char *s)
{
    uint32_t k = stem_prefix(s);

    return (p->phrase_prefix[k >> 6] >> (k & 63)) & 1;
}

/* Append a concept term for every synonym phrase found in the terms. */
static void
tag_concepts(struct actx *c)
{
    const struct text_pipeline *p = c->p;
    size_t nterms = c->t.n;

    if (!p->nphrases)
        return;
    for (size_t i = 0; i < nterms; i++) {
        const char *s0 = c->t.v[i].stem;
        if (!phrase_prefix_has(p, s0))
            continue;
        int32_t sid = text_map_find(&p->phrase_stems, s0, strlen(s0));
        if (sid < 0)
            continue;
        uint32_t last_group = UINT32_MAX;
        for (uint32_t ph = p->first_head[sid]; ph;
             ph = p->phrases[ph - 1].next) {
            const struct phrase *f = &p->phrases[ph - 1];
            if (i + f->nterms > nterms || f->group == last_group)
                continue;
            bool ok = true;
            for (uint32_t k = 1; k < f->nterms && ok; k++) {
                const char *sk = c->t.v[i + k].stem;
                int32_t id = text_map_find(&p->phrase_stems, sk, strlen(sk));
                ok = id >= 0 && (uint32_t)id == f->stem[k];
            }
            if (!ok)
                continue;
            last_group = f->group;
            struct text_term *tm = terms_push(&c->t);
            if (!tm)
                return;
            /* The vector may have moved: re-read the anchor term. */
            const struct text_term *at = &c->t.v[i];
            const struct text_term *end = &c->t.v[i + f->nterms - 1];
            tm->word = text_map_key(&p->groups, f->group, NULL);
            tm->stem = tm->word;
            tm->pos = at->pos;
            tm->off = at->off;
            tm->len = end->off + end->len - at->off;
            tm->flags = TEXT_TERM_CONCEPT;
        }
    }
}

int
text_analyze_folded(const struct text_pipeline *p,
                    const struct text_vocab *vocab, enum text_mode mode,
                    struct gu_arena *a, const char *s, size_t n,
                    struct text_tokens *out, const char **fold,
                    size_t *fold_n)
{
    struct actx c = {.p = p, .vocab = vocab, .mode = mode};
    struct fold_out o = {0};

    out->v = NULL;
    out->n = 0;
    *fold = "";
    *fold_n = 0;
    c.t.a = a;
    if (n == 0)
        return 0;
    if (n > UINT32_MAX / FOLD_GROWTH)
        return GU_ETOOBIG;
    o.cap = n * FOLD_GROWTH;
    o.p = gu_arena_alloc(a, o.cap);
    o.map = gu_arena_alloc(a, o.cap * sizeof(*o.map));
    if (!o.p || !o.map)
        return GU_ENOMEM;
    fold_into(&o, s, n);
    *fold = o.p;
    *fold_n = o.n;
    tokenise(o.p, o.n, o.map, n, 0, 0, 0, on_token, &c);
    if (!c.t.oom)
        tag_concepts(&c);
    if (c.t.oom)
        return GU_ENOMEM;
    out->v = c.t.v;
    out->n = c.t.n;
    return 0;
}

int
text_analyze(const struct text_pipeline *p, const struct text_vocab *vocab,
             enum text_mode mode, struct gu_arena *a, const char *s,
             size_t n, struct text_tokens *out)
{
    const char *f;
    size_t fn;

    return text_analyze_folded(p, vocab, mode, a, s, n, out, &f, &fn);
}

/* ------------------------------------------------------------------ */
/* Building the pipeline                                              */
/* ------------------------------------------------------------------ */

/* Add one synonym variant (already a single trimmed phrase). */
static int
add_phrase(struct text_pipeline *p, struct gu_arena *a, uint32_t group,
           const char *s, size_t n)
{
    struct text_tokens tk;
    /* Analyse without concepts: the table is being built. */
    size_t saved = p->nphrases;
    p->nphrases = 0;
    int rc = text_analyze(p, NULL, TEXT_MODE_INDEX, a, s, n, &tk);
    p->nphrases = saved;
    if (rc < 0)
        return rc;
    if (tk.n == 0 || tk.n > PHRASE_MAX)
        return GU_EINVAL;
    struct phrase *np = gu_realloc(p->phrases,
                                   (p->nphrases + 1) * sizeof(*np));
    if (!np)
        return GU_ENOMEM;
    p->phrases = np;
    struct phrase *f = &np[p->nphrases];
    memset(f, 0, sizeof(*f));
    f->group = group;
    f->nterms = (uint32_t)tk.n;
    for (size_t i = 0; i < tk.n; i++) {
        bool added;
        int32_t id = text_map_intern(&p->phrase_stems, tk.v[i].stem,
                                     strlen(tk.v[i].stem), &added);
        if (id < 0)
            return GU_ENOMEM;
        if (added) {
            uint32_t k = stem_prefix(tk.v[i].stem);
            p->phrase_prefix[k >> 6] |= (uint64_t)1 << (k & 63);
            uint32_t *nh = gu_realloc(p->first_head,
                                      p->phrase_stems.n * sizeof(*nh));
            if (!nh)
                return GU_ENOMEM;
            p->first_head = nh;
            nh[id] = 0;
        }
        f->stem[i] = (uint32_t)id;
    }
    /* Longer phrases first in each chain, so they win over a prefix. */
    uint32_t *link = &p->first_head[f->stem[0]];
    while (*link && p->phrases[*link - 1].nterms >= f->nterms)
        link = &p->phrases[*link - 1].next;
    f->next = *link;
    *link = (uint32_t)(p->nphrases + 1);
    p->nphrases++;
    return 0;
}

/* Concept token for a group: '~' + the folded first variant, '_' for
 * spaces ("~carte_grise"). '~' never occurs in a folded word. */
static int
add_group(struct text_pipeline *p, struct gu_arena *a, const char *s,
          size_t n, uint32_t *group)
{
    size_t fn;
    char *f = text_fold(a, s, n, &fn);
    if (!f)
        return GU_ENOMEM;
    char *name = gu_arena_alloc(a, fn + 2);
    if (!name)
        return GU_ENOMEM;
    size_t k = 0;
    name[k++] = '~';
    for (size_t i = 0; i < fn; i++) {
        if (is_wordc(f[i]))
            name[k++] = f[i];
        else if (k > 1 && name[k - 1] != '_')
            name[k++] = '_';
    }
    while (k > 1 && name[k - 1] == '_')
        k--;
    bool added;
    int32_t id = text_map_intern(&p->groups, name, k, &added);
    if (id < 0)
        return GU_ENOMEM;
    *group = (uint32_t)id;
    return 0;
}

static int
load_synonyms(struct text_pipeline *p, const char *s, size_t n,
              struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    int rc = 0;
    size_t lineno = 0;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "synonyms: no memory");
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && s[e] != '\n')
            e++;
        lineno++;
        struct gu_str line = gu_str_trim((struct gu_str){s + i, e - i});
        i = e + 1;
        if (line.n == 0 || line.p[0] == '#')
            continue;
        uint32_t group = UINT32_MAX;
        size_t nvar = 0;
        for (size_t j = 0; j <= line.n;) {
            size_t k = j;
            while (k < line.n && line.p[k] != '|')
                k++;
            struct gu_str v = gu_str_trim((struct gu_str){line.p + j, k - j});
            j = k + 1;
            if (v.n == 0)
                continue;
            if (group == UINT32_MAX) {
                rc = add_group(p, a, v.p, v.n, &group);
                if (rc < 0)
                    goto bad;
            }
            rc = add_phrase(p, a, group, v.p, v.n);
            if (rc < 0)
                goto bad;
            nvar++;
        }
        if (nvar < 2) {
            rc = GU_EINVAL;
            goto bad;
        }
    }
    gu_arena_free(a);
    return 0;
bad:
    gu_arena_free(a);
    if (rc == GU_ENOMEM)
        return gu_err_set(err, rc, NULL, NULL, "synonyms: no memory");
    return gu_err_set(err, GU_EINVAL, "synonymes",
                      "Table de synonymes invalide : chaque ligne doit "
                      "donner au moins deux variantes séparées par |, "
                      "de huit mots au plus.",
                      "synonyms: bad line %zu", lineno);
}

int
text_pipeline_new(const char *synonyms, size_t n, struct text_pipeline **out,
                  struct gu_err *err)
{
    struct text_pipeline *p = gu_calloc(1, sizeof(*p));
    int rc;

    *out = NULL;
    if (!p)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "pipeline: no memory");
    text_map_init(&p->stop);
    text_map_init(&p->sms);
    text_map_init(&p->phrase_stems);
    text_map_init(&p->groups);
    for (size_t i = 0; i < text_stopwords_len; i++) {
        const char *w = text_stopwords[i];
        if (text_map_intern(&p->stop, w, strlen(w), NULL) < 0)
            goto oom;
    }
    p->sms_rep = gu_calloc(text_sms_len / 2 + 1, sizeof(*p->sms_rep));
    if (!p->sms_rep)
        goto oom;
    for (size_t i = 0; i + 1 < text_sms_len; i += 2) {
        int32_t id = text_map_intern(&p->sms, text_sms[i],
                                     strlen(text_sms[i]), NULL);
        if (id < 0)
            goto oom;
        p->sms_rep[id] = text_sms[i + 1];
    }
    if (!synonyms) {
        synonyms = text_default_synonyms;
        n = strlen(text_default_synonyms);
    }
    rc = load_synonyms(p, synonyms, n, err);
    if (rc < 0) {
        text_pipeline_free(p);
        return rc;
    }
    *out = p;
    return 0;
oom:
    text_pipeline_free(p);
    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "pipeline: no memory");
}

void
text_pipeline_free(struct text_pipeline *p)
{
    if (!p)
        return;
    text_map_fini(&p->stop);
    text_map_fini(&p->sms);
    text_map_fini(&p->phrase_stems);
    text_map_fini(&p->groups);
    gu_free(p->sms_rep);
    gu_free(p->first_head);
    gu_free(p->phrases);
    gu_free(p);
}

size_t
text_pipeline_synonym_groups(const struct text_pipeline *p)
{
    return p->groups.n;
}
