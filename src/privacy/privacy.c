/*
 * privacy.c - a hand-written scanner for personal data in French text.
 *
 * One left-to-right pass over the bytes. Detectors run only at token
 * starts (a word character or '+' whose previous code point is not a word
 * character); each reads a bounded window ahead (at most a few hundred
 * bytes) and returns either a span, a "keep" (a date, an amount, a year
 * range: skipped whole so that its inner groups are not re-read as
 * numbers) or nothing, after which the scanner skips the whole word. So
 * the cost is O(n) with a small constant and no backtracking.
 *
 * Spans start and end on code point boundaries (they are made of ASCII
 * characters and whole Latin letters), so redacting valid UTF-8 gives
 * valid UTF-8. Invalid bytes are treated as non-word punctuation.
 *
 * Order at a token start: e-mail, IBAN, NIR, card, phone, date (birth
 * date with context, else kept), mixed word (ANTS number, embedded run of
 * 6+ digits), other number. Strong validators (mod 97, Luhn, NIR key)
 * come before the generic "6+ digits" rule so that spans carry the most
 * precise kind.
 */
#include <string.h>

#include "privacy/privacy.h"
#include "privacy/privacy_int.h"
#include "privacy/privacy_prenoms.h"

/* ------------------------------------------------------------------ */
/* Characters                                                          */
/* ------------------------------------------------------------------ */

typedef const unsigned char uchar;

static bool
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool
is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_alnum(int c)
{
    return is_digit(c) || is_alpha(c);
}

static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/*
 * Decode the code point at s[i] (strict: no overlongs, surrogates or
 * values past U+10FFFF). Returns it and sets *len; an invalid byte gives
 * -1 with *len = 1.
 */
static long
u8dec(uchar *s, size_t n, size_t i, size_t *len)
{
    unsigned c = s[i];
    size_t l;
    unsigned long cp, min;

    *len = 1;
    if (c < 0x80)
        return (long)c;
    if ((c & 0xE0) == 0xC0) {
        l = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        l = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        l = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (n - i < l)
        return -1;
    for (size_t k = 1; k < l; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *len = l;
    return (long)cp;
}

/* Letters of the Latin, Greek and Cyrillic blocks (names, words). */
static bool
is_letter_cp(long cp)
{
    if (cp < 0x80)
        return is_alpha((int)cp);
    if (cp >= 0xC0 && cp <= 0x24F)
        return cp != 0xD7 && cp != 0xF7;
    return (cp >= 0x370 && cp <= 0x4FF) || (cp >= 0x1E00 && cp <= 0x1EFF);
}

/* Length of the word character (ASCII alnum or letter) at i, 0 if none. */
static size_t
word_len(uchar *s, size_t n, size_t i)
{
    size_t l;
    long cp;

    if (i >= n)
        return 0;
    if (s[i] < 0x80)
        return is_alnum(s[i]) ? 1 : 0;
    cp = u8dec(s, n, i, &l);
    return is_letter_cp(cp) ? l : 0;
}

/* Is the code point ending just before i a word character? */
static bool
word_before(uchar *s, size_t n, size_t i)
{
    size_t j = i, l;

    if (i == 0)
        return false;
    if (s[i - 1] < 0x80)
        return is_alnum(s[i - 1]);
    while (j > 0 && i - j < 4) {
        j--;
        if ((s[j] & 0xC0) != 0x80)
            break;
    }
    return is_letter_cp(u8dec(s, n, j, &l)) && j + l == i;
}

/*
 * End of the word (run of word characters) starting at i; *mix gets 1
 * if it holds a digit, 2 if a letter (ORed). The ASCII path is the hot
 * loop of the scanner.
 */
static size_t
word_scan(uchar *s, size_t n, size_t i, unsigned *mix)
{
    size_t l;
    unsigned m = 0;

    for (;;) {
        while (i < n && s[i] < 0x80) {
            unsigned c = s[i];

            if (c - '0' < 10u)
                m |= 1;
            else if ((c | 0x20) - 'a' < 26u)
                m |= 2;
            else
                goto done;
            i++;
        }
        if (i >= n || (l = word_len(s, n, i)) == 0)
            break;
        m |= 2;
        i += l;
    }
done:
    *mix = m;
    return i;
}

static size_t
word_end(uchar *s, size_t n, size_t i)
{
    unsigned mix;

    return word_scan(s, n, i, &mix);
}

/*
 * Case-insensitive match of the lower-case UTF-8 word `w` at s[i]; also
 * folds the upper-case Latin-1 letters (É -> é). Returns its length or 0.
 */
static size_t
ci_at_rest(uchar *s, size_t n, size_t i, const char *w)
{
    size_t k = 0;

    for (; w[k]; k++) {
        unsigned c;

        if (i + k >= n)
            return 0;
        c = s[i + k];
        if (k > 0 && s[i + k - 1] == 0xC3 && c >= 0x80 && c <= 0x9E &&
            c != 0x97)
            c += 0x20;
        else
            c = (unsigned)lower((int)c);
        if (c != (unsigned char)w[k])
            return 0;
    }
    return k;
}

/* The context-word lists are long and most words match none of them:
 * the first byte is compared inline, the rest only when it matches. */
static inline size_t
ci_at(uchar *s, size_t n, size_t i, const char *w)
{
    if (i >= n || (unsigned)lower(s[i]) != (unsigned char)w[0])
        return 0;
    return ci_at_rest(s, n, i, w);
}

/* Like ci_at, and the word must end there (no word character follows). */
static inline size_t
ci_word(uchar *s, size_t n, size_t i, const char *w)
{
    size_t k = ci_at(s, n, i, w);

    return k && !word_len(s, n, i + k) ? k : 0;
}

/* ------------------------------------------------------------------ */
/* Digit groups                                                        */
/* ------------------------------------------------------------------ */

#define SEP_SPACE 1u /* space, no-break spaces, thin space */
#define SEP_DOT 2u
#define SEP_DASH 4u
#define SEP_SLASH 8u

/* Length of a group separator of `mask` at i (0 if none). */
static size_t
sep_at(uchar *s, size_t n, size_t i, unsigned mask, unsigned *cls)
{
    if (i >= n)
        return 0;
    *cls = 0;
    if ((mask & SEP_SPACE) && s[i] == ' ')
        *cls = SEP_SPACE;
    else if ((mask & SEP_DOT) && s[i] == '.')
        *cls = SEP_DOT;
    else if ((mask & SEP_DASH) && s[i] == '-')
        *cls = SEP_DASH;
    else if ((mask & SEP_SLASH) && s[i] == '/')
        *cls = SEP_SLASH;
    if (*cls)
        return 1;
    if (!(mask & SEP_SPACE))
        return 0;
    if (i + 1 < n && s[i] == 0xC2 && s[i + 1] == 0xA0) { /* U+00A0 */
        *cls = SEP_SPACE;
        return 2;
    }
    if (i + 2 < n && s[i] == 0xE2 && s[i + 1] == 0x80 &&
        (s[i + 2] == 0xAF || s[i + 2] == 0x89)) { /* U+202F, U+2009 */
        *cls = SEP_SPACE;
        return 3;
    }
    return 0;
}

#define RUN_MAX 40
#define RUN_ALPHA 16u  /* letters are collected too (IBAN) */
#define RUN_PAREN0 32u /* "(0)" is skipped like a separator (+33 (0)6) */
#define RUN_NIR 64u    /* 'A'/'B' after a '2' at index 6 (Corsica) */

/*
 * A run of digit groups read from a token start: up to RUN_MAX
 * characters, single separators between groups. end[k] is the offset
 * just after character k, gend[k] says a group ends after it.
 */
struct run {
    int nd;
    char c[RUN_MAX];
    size_t end[RUN_MAX];
    unsigned char gend[RUN_MAX];
    unsigned seps; /* separator classes seen */
};

static bool
run_char(uchar *s, size_t n, size_t p, unsigned flags, int nd,
         const char *c)
{
    if (p >= n)
        return false;
    if (is_digit(s[p]))
        return true;
    if ((flags & RUN_ALPHA) && is_alpha(s[p]))
        return true;
    if ((flags & RUN_NIR) && nd == 6 && c[5] == '2' &&
        (lower(s[p]) == 'a' || lower(s[p]) == 'b'))
        return true;
    return false;
}

static void
run_read(uchar *s, size_t n, size_t i, unsigned flags, struct run *r)
{
    size_t p = i;

    r->nd = 0;
    r->seps = 0;
    while (r->nd < RUN_MAX) {
        size_t l;
        unsigned cls;

        if (run_char(s, n, p, flags, r->nd, r->c)) {
            r->c[r->nd] = (char)(is_alpha(s[p]) ? s[p] & ~0x20 : s[p]);
            r->gend[r->nd] = 0;
            r->end[r->nd++] = ++p;
            continue;
        }
        if (r->nd == 0)
            break;
        l = sep_at(s, n, p, flags & 15u, &cls);
        /* "(+33) 6 12..." */
        if ((flags & RUN_PAREN0) && l == 0 && p + 1 < n && s[p] == ')' &&
            s[p + 1] == ' ')
            l = 2;
        if ((flags & RUN_PAREN0) && p + l + 3 <= n &&
            memcmp(s + p + l, "(0)", 3) == 0) {
            l += 3;
            if (p + l < n && s[p + l] == ' ')
                l++;
        }
        if (l == 0 || !run_char(s, n, p + l, flags, r->nd, r->c))
            break;
        r->gend[r->nd - 1] = 1;
        r->seps |= cls;
        p += l;
    }
    if (r->nd > 0)
        r->gend[r->nd - 1] = 1;
}

/* A match ending at e is glued to a following word character. */
static bool
glued(uchar *s, size_t n, size_t e)
{
    return word_len(s, n, e) > 0;
}

/* Group lengths of the first `len` characters of r into g (<= cap). */
static int
run_groups(const struct run *r, int len, int *g, int cap)
{
    int ng = 0, cur = 0;

    for (int k = 0; k < len; k++) {
        cur++;
        if (r->gend[k] || k == len - 1) {
            if (ng < cap)
                g[ng] = cur;
            ng++;
            cur = 0;
        }
    }
    return ng;
}

/* ------------------------------------------------------------------ */
/* Validators                                                          */
/* ------------------------------------------------------------------ */

static bool
luhn_ok(const char *d, int len)
{
    int sum = 0;

    for (int k = 0; k < len; k++) {
        int v = d[len - 1 - k] - '0';

        if (k % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

/* NIR: 13 characters + a 2-digit key = 97 - (number mod 97). */
static bool
nir_ok(const char *c)
{
    uint64_t v = 0;
    int key;
    bool corsica = c[6] == 'A' || c[6] == 'B';

    if (!strchr("123478", c[0]))
        return false;
    for (int k = 0; k < 13; k++) {
        int d;

        if (k == 6 && corsica)
            d = 0;
        else if (is_digit(c[k]))
            d = c[k] - '0';
        else
            return false;
        v = v * 10 + (uint64_t)d;
    }
    /* Corsica: 2A counts as 19, 2B as 18 (20 - 1, 20 - 2). */
    if (corsica)
        v -= (c[6] == 'A' ? 1 : 2) * 1000000ull;
    if (!is_digit(c[13]) || !is_digit(c[14]))
        return false;
    key = (c[13] - '0') * 10 + (c[14] - '0');
    return key == 97 - (int)(v % 97);
}

/* IBAN lengths of the countries residents are likely to give. */
static int
iban_len(const char *cc)
{
    static const struct {
        char cc[3];
        int len;
    } t[] = {{"FR", 27}, {"MC", 27}, {"DE", 22}, {"BE", 16}, {"ES", 24},
             {"IT", 27}, {"LU", 20}, {"CH", 21}, {"GB", 22}, {"PT", 25},
             {"NL", 18}, {"IE", 22}, {"AT", 20}, {"PL", 28}, {"RO", 24}};

    for (size_t k = 0; k < GU_ARRAY_LEN(t); k++)
        if (cc[0] == t[k].cc[0] && cc[1] == t[k].cc[1])
            return t[k].len;
    return 0;
}

static unsigned
mod97_push(unsigned m, char ch)
{
    if (is_digit(ch))
        return (m * 10 + (unsigned)(ch - '0')) % 97;
    return (m * 100 + (unsigned)(ch - 'A' + 10)) % 97;
}

/* ------------------------------------------------------------------ */
/* Detectors: each returns the end of its match or 0                  */
/* ------------------------------------------------------------------ */

/* Countries of the IBAN registry (SWIFT), two letters each. */
static bool
iban_country(const char *cc)
{
    static const char list[] =
        "AD AE AL AT AZ BA BE BG BH BI BR BY CH CR CY CZ DE DJ DK DO EE EG "
        "ES FI FK FO FR GB GE GI GL GR GT HR HU IE IL IQ IS IT JO KW KZ LB "
        "LC LI LT LU LY LV MC MD ME MK MN MR MT MU NI NL NO OM PK PL PS PT "
        "QA RO RS RU SA SC SD SE SI SK SM SO ST SV TL TN TR UA VA VG XK ";

    for (const char *p = list; *p; p += 3)
        if (p[0] == cc[0] && p[1] == cc[1])
            return true;
    return false;
}

static size_t
match_iban(uchar *s, size_t n, size_t i)
{
    struct run r;
    unsigned m = 0;
    int want, best = 0, g[RUN_MAX];

    if (i + 4 > n || !is_alpha(s[i]) || !is_alpha(s[i + 1]) ||
        !is_digit(s[i + 2]) || !is_digit(s[i + 3]))
        return 0;
    run_read(s, n, i, SEP_SPACE | RUN_ALPHA, &r);
    if (r.nd < 15 || !iban_country(r.c))
        return 0;
    want = iban_len(r.c);
    /* The rearranged number is BBAN then "CCdd" with each letter as two
     * digits (A = 10): its value mod 97 is (bban * 10^6 + CCdd) mod 97. */
    for (int k = 4; k < r.nd && k < 34; k++) {
        m = mod97_push(m, r.c[k]);
        if (k + 1 < 15 || !r.gend[k] || glued(s, n, r.end[k]))
            continue;
        {
            unsigned long t = (unsigned long)m;

            for (int z = 0; z < 6; z++)
                t = t * 10 % 97;
            /* CCdd as digits: C1 C2 (2 digits each) d d. */
            t = (t + (unsigned long)((r.c[0] - 'A' + 10) * 10000 +
                                     (r.c[1] - 'A' + 10) * 100 +
                                     (r.c[2] - '0') * 10 + (r.c[3] - '0'))) %
                97;
            if (t == 1 && (!want || k + 1 == want)) {
                /* printed form: groups of 4, the last one shorter */
                int ng = run_groups(&r, k + 1, g, RUN_MAX), j;

                for (j = 0; j < ng - 1; j++)
                    if (g[j] != 4)
                        break;
                if (ng == 1 || (j == ng - 1 && g[ng - 1] <= 4))
                    best = k + 1;
            }
        }
    }
    return best ? r.end[best - 1] : 0;
}

static size_t
match_nir(uchar *s, size_t n, size_t i)
{
    struct run r;

    run_read(s, n, i, SEP_SPACE | SEP_DOT | SEP_DASH | RUN_NIR, &r);
    if (r.nd < 15 || !r.gend[14] || glued(s, n, r.end[14]))
        return 0;
    return nir_ok(r.c) ? r.end[14] : 0;
}

static size_t
match_card(uchar *s, size_t n, size_t i)
{
    struct run r;
    int g[RUN_MAX];

    run_read(s, n, i, SEP_SPACE | SEP_DASH | SEP_DOT, &r);
    if (r.nd < 13 || r.c[0] < '2' || r.c[0] > '6')
        return 0;
    for (int len = r.nd < 19 ? r.nd : 19; len >= 13; len--) {
        int ng;
        bool shape = true;

        if (!r.gend[len - 1] || glued(s, n, r.end[len - 1]) ||
            !luhn_ok(r.c, len))
            continue;
        ng = run_groups(&r, len, g, RUN_MAX);
        if (ng > 1) {
            /* groups of 4 (last one shorter), or Amex/Diners 4-6-5/4 */
            for (int k = 0; k < ng - 1; k++)
                if (g[k] != 4)
                    shape = false;
            if (g[ng - 1] > 4)
                shape = false;
            if (ng == 3 && g[0] == 4 && g[1] == 6 &&
                (g[2] == 5 || g[2] == 4))
                shape = true;
        }
        if (shape)
            return r.end[len - 1];
    }
    return 0;
}

/* A boundary prefix of r with exactly `len` digits, not glued. */
static size_t
run_prefix(uchar *s, size_t n, const struct run *r, int len)
{
    if (r->nd < len || !r->gend[len - 1] || glued(s, n, r->end[len - 1]))
        return 0;
    return r->end[len - 1];
}

/* "+33 6 12 34 56 78", "+33 (0)6 ...", "+41 22 ...": i is on '+'. */
static size_t
match_intl(uchar *s, size_t n, size_t i)
{
    struct run r;
    size_t e;

    if (i + 1 >= n || !is_digit(s[i + 1]) || s[i + 1] == '0')
        return 0;
    run_read(s, n, i + 1, SEP_SPACE | SEP_DOT | SEP_DASH | RUN_PAREN0, &r);
    if (r.nd >= 2 && r.c[0] == '3' && r.c[1] == '3') {
        if ((e = run_prefix(s, n, &r, 11)) && r.c[2] != '0')
            return e;
        if ((e = run_prefix(s, n, &r, 12)) && r.c[2] == '0')
            return e;
        return 0;
    }
    for (int len = r.nd < 15 ? r.nd : 15; len >= 8; len--)
        if ((e = run_prefix(s, n, &r, len)))
            return e;
    return 0;
}

/* "06 12 34 56 78", "06.12...", "0612345678", "0033 6 12 34 56 78". */
static size_t
match_phone(uchar *s, size_t n, size_t i)
{
    struct run r;
    size_t e;

    run_read(s, n, i, SEP_SPACE | SEP_DOT | SEP_DASH | RUN_PAREN0, &r);
    if (r.nd < 10 || r.c[0] != '0')
        return 0;
    if (r.c[1] == '0') {
        if (r.c[2] == '0')
            return 0;
        if (r.c[2] == '3' && r.c[3] == '3')
            return run_prefix(s, n, &r, r.c[4] == '0' ? 14 : 13);
        for (int len = r.nd < 17 ? r.nd : 17; len >= 10; len--)
            if ((e = run_prefix(s, n, &r, len)))
                return e;
        return 0;
    }
    return run_prefix(s, n, &r, 10);
}

static const char *const months[] = {
    "janvier", "février", "fevrier", "mars",     "avril",   "mai",
    "juin",    "juillet", "août",    "aout",     "septembre", "octobre",
    "novembre", "décembre", "decembre", "janv",  "févr",    "fevr",
    "avr",     "juil",    "sept",    "oct",      "nov",     "déc",
    "dec"};

/* Read 1..max digits at *p; returns the count (0 if none). */
static int
digits_at(uchar *s, size_t n, size_t *p, int max, int *val)
{
    int k = 0;

    *val = 0;
    while (*p < n && k < max && is_digit(s[*p])) {
        *val = *val * 10 + (s[*p] - '0');
        (*p)++;
        k++;
    }
    if (*p < n && is_digit(s[*p]))
        return 0; /* longer than max */
    return k;
}

/* A date separator at p: "/", ".", "-" (spaces around allowed), " ". */
static size_t
date_sep(uchar *s, size_t n, size_t p, unsigned *cls)
{
    unsigned c2;
    size_t l = sep_at(s, n, p, SEP_SPACE | SEP_DOT | SEP_DASH | SEP_SLASH, cls);

    /* "12 / 03 / 1985" */
    if (l == 1 && s[p] == ' ' && p + 2 < n && s[p + 2] == ' ' &&
        sep_at(s, n, p + 1, SEP_DOT | SEP_DASH | SEP_SLASH, &c2) == 1) {
        *cls = c2 | SEP_SPACE << 4;
        return 3;
    }
    return l;
}

/*
 * A date at i: "12/03/1985", "12.03.85", "12 03 1985", "1985-03-12",
 * "12 mars 1985", "1er mars 1985". Returns its end or 0.
 */
static size_t
match_date(uchar *s, size_t n, size_t i)
{
    size_t p = i, q, l;
    int a, b, c, na, nb, nc;
    unsigned cls, cls2;

    na = digits_at(s, n, &p, 4, &a);
    if (na == 0)
        return 0;
    /* textual month */
    q = p;
    if (na <= 2 && q + 2 <= n && lower(s[q]) == 'e' && lower(s[q + 1]) == 'r' &&
        a == 1)
        q += 2;
    if (na <= 2 && a >= 1 && a <= 31 && q < n && s[q] == ' ') {
        for (size_t k = 0; k < GU_ARRAY_LEN(months); k++) {
            size_t m = ci_at(s, n, q + 1, months[k]);

            if (!m)
                continue;
            q += 1 + m;
            if (q < n && s[q] == '.')
                q++;
            else if (word_len(s, n, q))
                return 0;
            p = q;
            if (q + 5 <= n && s[q] == ' ' &&
                digits_at(s, n, &(size_t){q + 1}, 4, &c) == 4)
                p = q + 5;
            return glued(s, n, p) ? 0 : p;
        }
        if (q != p)
            return 0; /* "1er" without a month */
    }
    if (na == 3)
        return 0;
    l = date_sep(s, n, p, &cls);
    if (!l)
        return 0;
    p += l;
    nb = digits_at(s, n, &p, 2, &b);
    if (nb == 0)
        return 0;
    l = date_sep(s, n, p, &cls2);
    if (!l || cls2 != cls)
        return 0;
    p += l;
    nc = digits_at(s, n, &p, 4, &c);
    if (na == 4) { /* ISO */
        if (nc == 0 || nc > 2 || a < 1900 || a > 2099 || b < 1 || b > 12 ||
            c < 1 || c > 31 || cls == SEP_SPACE)
            return 0;
    } else if (nc != 2 && nc != 4) {
        return 0;
    } else if (a < 1 || a > 31 || b < 1 || b > 12 ||
               (nc == 4 && (c < 1900 || c > 2099))) {
        return 0;
    }
    /* "12 03 1985 12" is a longer number, not a date */
    l = sep_at(s, n, p, SEP_SPACE | SEP_DOT | SEP_DASH | SEP_SLASH, &cls2);
    if (l && cls2 == cls && p + l < n && is_digit(s[p + l]))
        return 0;
    if (p < n && is_digit(s[p]))
        return 0;
    return p;
}

/* A currency or unit word after an amount at p ("€", "euros", "m²"). */
static bool
unit_after(uchar *s, size_t n, size_t p)
{
    static const char *const units[] = {
        "€", "euros", "euro", "eur", "d'euros", "d’euros", "habitants",
        "hab", "m²", "m2", "m3",
        "km", "kg", "litres", "litre", "tonnes", "personnes", "élèves",
        "eleves", "repas", "visiteurs", "exemplaires"};

    if (p + 1 < n && s[p] == ',' && is_digit(s[p + 1])) {
        p++;
        while (p < n && is_digit(s[p]))
            p++;
    }
    if (p < n && s[p] == ' ')
        p++;
    else if (p + 1 < n && s[p] == 0xC2 && s[p + 1] == 0xA0)
        p += 2;
    else if (p + 2 < n && s[p] == 0xE2 && s[p + 1] == 0x80 && s[p + 2] == 0xAF)
        p += 3;
    for (size_t k = 0; k < GU_ARRAY_LEN(units); k++) {
        size_t l = ci_at(s, n, p, units[k]);

        if (l && (k == 0 || !word_len(s, n, p + l)))
            return true;
    }
    return false;
}

enum verdict { V_NONE, V_SPAN, V_KEEP };

/*
 * Any run of digits with single spaces (or dots: "1.250.000",
 * "192.168.10.20") inside. 6+ digits is a span,
 * except amounts and quantities ("1 250 000 €"), year ranges ("2023
 * 2024") and a trailing postal code before a town ("... 44000 Nantes").
 */
static enum verdict
match_number(uchar *s, size_t n, size_t i, size_t *end)
{
    size_t p = i, prev_end = i;
    long digits = 0, last_digits = 0;
    int ngroups = 0, first = 0;
    bool thousands = true, years = true;

    for (;;) {
        size_t g0 = p, l;
        int len = 0;
        unsigned cls;

        while (p < n && is_digit(s[p]))
            p++, len++;
        if (ngroups == 0)
            first = len;
        else if (len != 3)
            thousands = false;
        if (len != 4 || !((s[g0] == '1' && s[g0 + 1] == '9') ||
                          (s[g0] == '2' && s[g0 + 1] == '0')))
            years = false;
        ngroups++;
        digits += len;
        last_digits = len;
        l = sep_at(s, n, p, SEP_SPACE | SEP_DOT, &cls);
        if (!l || p + l >= n || !is_digit(s[p + l]))
            break;
        prev_end = p;
        p += l;
    }
    *end = p;
    if (glued(s, n, p)) {
        /* "06 12 34 56 78abc": the glued word goes with the number */
        *end = word_end(s, n, p);
        return digits < 6 ? V_KEEP : V_SPAN;
    }
    if (digits < 6)
        return V_KEEP;
    if (years && ngroups <= 4)
        return V_KEEP;
    if (((ngroups == 1 && digits <= 9) ||
         (ngroups > 1 && first <= 3 && thousands)) &&
        unit_after(s, n, p))
        return V_KEEP;
    /* "... 44000 Nantes": the postal code is not part of the number */
    if (ngroups > 1 && last_digits == 5 && p + 1 < n && s[p] == ' ' &&
        s[p + 1] >= 'A' && s[p + 1] <= 'Z') {
        if (digits - last_digits < 6) {
            *end = p;
            return V_KEEP;
        }
        *end = prev_end;
    }
    return V_SPAN;
}

/* ------------------------------------------------------------------ */
/* E-mail addresses, plain and spelled out                             */
/* ------------------------------------------------------------------ */

static bool
local_char(int c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
           c == '-';
}

#define LOCAL_MAX 128
#define DOMAIN_MAX 255

/* End of a run of local-part characters (letters included) at i. */
static size_t
local_end(uchar *s, size_t n, size_t i)
{
    size_t p = i, l;

    while (p < n && p - i <= LOCAL_MAX) {
        if (s[p] < 0x80 && local_char(s[p])) {
            p++;
            continue;
        }
        /* « jean.o'connor@... »: an apostrophe between letters */
        if (s[p] == '\'' && p > i && p + 1 < n && is_alnum(s[p - 1]) &&
            is_alnum(s[p + 1])) {
            p++;
            continue;
        }
        if (s[p] >= 0x80 && (l = word_len(s, n, p)) > 0) {
            p += l;
            continue;
        }
        break;
    }
    return p - i > LOCAL_MAX ? i : p;
}

/* A spelled-out dot at p: " point ", " dot ", "(point)", " [.] "... */
static size_t
obf_dot(uchar *s, size_t n, size_t p)
{
    static const char *const dots[] = {" point ", " dot ", " (point) ",
                                       " [point] ", "(point)", "[point]",
                                       " . ", " [.] ", " (.) ", "[.]",
                                       "(.)", " (dot) ",
                                       "(dot)", "[dot]"};

    unsigned c0 = p < n ? s[p] : 0, c1 = p + 1 < n ? s[p + 1] : 0;

    if (c0 != ' ' && c0 != '(' && c0 != '[')
        return 0;
    if (c0 == ' ' && c1 != '(' && c1 != '[' && c1 != '.' &&
        ((lower((int)c1) != 'p' && lower((int)c1) != 'd') || p + 2 >= n ||
         lower(s[p + 2]) != 'o'))
        return 0;
    for (size_t k = 0; k < GU_ARRAY_LEN(dots); k++) {
        size_t l = ci_at(s, n, p, dots[k]);

        if (l)
            return l;
    }
    return 0;
}

/* The '@' at p, plain or spelled out; *strong when it cannot be English. */
static size_t
at_token(uchar *s, size_t n, size_t p, bool *strong)
{
    static const char *const strongs[] = {
        " @ ",        " @",          "@ ",        "@",         "\xef\xbc\xa0",
        " arobase ",  " arobas ",    "(at)",      "[at]",      "{at}",
        " (at) ",     " [at] ",      "(arobase)", "[arobase]", " (arobase) ",
        " [arobase] "};
    size_t l;
    unsigned c0 = p < n ? s[p] : 0, c1 = p + 1 < n ? s[p + 1] : 0;

    /* fast exit: most words are followed by a space and a plain word */
    if (c0 != '@' && c0 != ' ' && c0 != '(' && c0 != '[' && c0 != '{' &&
        c0 != 0xEF)
        return 0;
    if (c0 == ' ' && c1 != '@' && c1 != '(' && c1 != '[' &&
        (lower((int)c1) != 'a' || p + 2 >= n ||
         (lower(s[p + 2]) != 'r' && lower(s[p + 2]) != 't')))
        return 0;
    for (size_t k = 0; k < GU_ARRAY_LEN(strongs); k++)
        if ((l = ci_at(s, n, p, strongs[k]))) {
            *strong = true;
            return l;
        }
    *strong = false;
    return ci_at(s, n, p, " at ");
}

static bool
known_provider(uchar *s, size_t n, size_t p, size_t e)
{
    static const char *const prov[] = {
        "gmail", "hotmail", "yahoo", "outlook", "orange", "free", "sfr",
        "laposte", "wanadoo", "icloud", "live", "msn", "gmx", "protonmail",
        "bbox"};

    for (size_t k = 0; k < GU_ARRAY_LEN(prov); k++)
        if (ci_at(s, n, p, prov[k]) == e - p)
            return true;
    return false;
}

/* End of a domain label (letters, digits, '-') at p. */
static size_t
label_end(uchar *s, size_t n, size_t p)
{
    size_t l, start = p;

    while (p < n) {
        if (p - start > 63)
            return start; /* not a DNS label */
        if (is_alnum(s[p]) || (s[p] == '-' && p + 1 < n && is_alnum(s[p + 1])))
            p++;
        else if (s[p] >= 0x80 && (l = word_len(s, n, p)) > 0)
            p += l;
        else
            break;
    }
    return p;
}

static bool
tld_ok(uchar *s, size_t p, size_t e)
{
    if (e - p < 2 || e - p > 24)
        return false;
    for (size_t k = p; k < e; k++)
        if (!is_alpha(s[k]))
            return false;
    return true;
}

/* we: end of the word at i (the local part is often just that word) */
static size_t
match_email(uchar *s, size_t n, size_t i, size_t we)
{
    size_t p, a, d, best = 0, le, l;
    int labels = 0;
    bool strong;

    if (we < n && s[we] < 0x80 &&
        (local_char(s[we]) ||
         (s[we] == '\'' && we + 1 < n && is_alnum(s[we + 1]))))
        p = local_end(s, n, i);
    else
        p = we - i > LOCAL_MAX ? i : we;
    if (p == i)
        return 0;
    /* spelled-out dots inside the local part: "marie point dupont" */
    for (int k = 0; k < 8 && p - i <= LOCAL_MAX; k++) {
        size_t q;

        l = obf_dot(s, n, p);
        if (!l)
            break;
        q = local_end(s, n, p + l);
        if (q == p + l)
            break;
        p = q;
    }
    a = at_token(s, n, p, &strong);
    if (!a)
        return 0;
    d = p + a;
    le = label_end(s, n, d);
    if (le == d)
        return 0;
    if (strong && known_provider(s, n, d, le))
        best = le;
    for (labels = 1; labels < 16 && le - (p + a) <= DOMAIN_MAX; labels++) {
        size_t lab;

        l = (le < n && s[le] == '.') ? 1 : obf_dot(s, n, le);
        if (!l)
            break;
        lab = le + l;
        d = label_end(s, n, lab);
        if (d == lab)
            break;
        if (tld_ok(s, lab, d))
            best = d;
        le = d;
    }
    return best;
}

/* ------------------------------------------------------------------ */
/* Company, tax and identity numbers, plates, addresses               */
/* ------------------------------------------------------------------ */

/* SIRET: its SIREN and the whole number pass Luhn, except La Poste's
 * establishments (SIREN 356000000, not the head office) whose digit sum
 * is a multiple of 5 instead. */
static bool
siret_ok(const char *d)
{
    int sum = 0;

    if (!luhn_ok(d, 9))
        return false;
    if (memcmp(d, "356000000", 9) != 0 || memcmp(d, "35600000000048", 14) == 0)
        return luhn_ok(d, 14);
    for (int k = 0; k < 14; k++)
        sum += d[k] - '0';
    return sum % 5 == 0;
}

/* Numéro fiscal (SPI): 13 digits, the first 0-3, the last three = the
 * first ten mod 511. */
static bool
fiscal_ok(const char *d)
{
    uint64_t v = 0;
    int key = 0;

    if (d[0] > '3')
        return false;
    for (int k = 0; k < 10; k++)
        v = v * 10 + (uint64_t)(d[k] - '0');
    for (int k = 10; k < 13; k++)
        key = key * 10 + (d[k] - '0');
    return (int)(v % 511) == key;
}

/*
 * The first `len` digits of r at a boundary, written in one group or in
 * one of the group shapes (each a string of group lengths, "333").
 */
static size_t
run_shaped(uchar *s, size_t n, const struct run *r, int len,
           const char *const *shapes)
{
    int g[RUN_MAX], ng;
    size_t e = run_prefix(s, n, r, len);

    if (!e)
        return 0;
    ng = run_groups(r, len, g, RUN_MAX);
    if (ng == 1)
        return e;
    for (; *shapes; shapes++) {
        int k = 0;

        if ((int)strlen(*shapes) != ng)
            continue;
        while (k < ng && g[k] == (*shapes)[k] - '0')
            k++;
        if (k == ng)
            return e;
    }
    return 0;
}

/*
 * SIRET, numéro fiscal, SIREN and (after a context word) an old CNI
 * number of 12 digits. Sets *kind and returns the end, or 0.
 */
static size_t
match_ids(uchar *s, size_t n, size_t i, bool id_ctx, enum pii_kind *kind)
{
    static const char *const siret_shapes[] = {"3335", "95", NULL};
    static const char *const fiscal_shapes[] = {"22333", "4333", NULL};
    static const char *const cni_shapes[] = {"444", "3333", NULL};
    static const char *const siren_shapes[] = {"333", NULL};
    struct run r;
    size_t e;

    run_read(s, n, i, SEP_SPACE | SEP_DOT, &r);
    if (r.nd < 9)
        return 0;
    if ((e = run_shaped(s, n, &r, 14, siret_shapes)) && siret_ok(r.c)) {
        *kind = PII_SIRET;
        return e;
    }
    if ((e = run_shaped(s, n, &r, 13, fiscal_shapes)) && fiscal_ok(r.c)) {
        *kind = PII_FISCAL;
        return e;
    }
    /* the whole run: "4970 1012 3456 7893" after « n° » is a card */
    if (id_ctx && r.nd == 12 && (e = run_shaped(s, n, &r, 12, cni_shapes))) {
        *kind = PII_CNI;
        return e;
    }
    if ((e = run_shaped(s, n, &r, 9, siren_shapes)) && luhn_ok(r.c, 9)) {
        *kind = PII_SIREN;
        return e;
    }
    return 0;
}

static bool
is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

/* Letters of SIV plates: no I, O or U. */
static bool
siv_letter(int c)
{
    c = lower(c);
    return c >= 'a' && c <= 'z' && c != 'i' && c != 'o' && c != 'u';
}

/*
 * SIV plate at i: "AB-123-CD", "AB 123 CD", "AB123CD". Spaced or joined
 * forms in capitals only (lower case "ab123cd" is more often a code);
 * "000" and "SS" at either end are never issued.
 */
static size_t
match_siv(uchar *s, size_t n, size_t i)
{
    size_t p = i;
    unsigned char sep = 0;
    int up = 0;

    if (n - i < 7 || !siv_letter(s[p]) || !siv_letter(s[p + 1]))
        return 0;
    p += 2;
    if (s[p] == '-' || s[p] == ' ')
        sep = s[p++];
    if (p + 5 > n || !is_digit(s[p]) || !is_digit(s[p + 1]) ||
        !is_digit(s[p + 2]) || memcmp(s + p, "000", 3) == 0)
        return 0;
    p += 3;
    if (sep) {
        if (p >= n || s[p] != sep)
            return 0;
        p++;
    }
    if (p + 2 > n || !siv_letter(s[p]) || !siv_letter(s[p + 1]) ||
        glued(s, n, p + 2))
        return 0;
    up = is_upper(s[i]) + is_upper(s[i + 1]) + is_upper(s[p]) +
         is_upper(s[p + 1]);
    if (up != 4 && (up != 0 || sep != '-'))
        return 0;
    if ((lower(s[i]) == 's' && lower(s[i + 1]) == 's') ||
        (lower(s[p]) == 's' && lower(s[p + 1]) == 's'))
        return 0;
    return p + 2;
}

/* FNI plate at i (before 2009): "1234 AB 56", "123-ABC-2A", "12 AB 974". */
static size_t
match_fni(uchar *s, size_t n, size_t i)
{
    size_t p = i, q;
    int nd = 0, nl = 0;
    unsigned char sep;

    while (p < n && is_digit(s[p]) && nd < 5)
        p++, nd++;
    if (nd > 4 || p >= n || (s[p] != ' ' && s[p] != '-'))
        return 0;
    sep = s[p++];
    while (p < n && is_upper(s[p]) && nl < 4)
        p++, nl++;
    if (nl < 1 || nl > 3 || p + 3 > n || s[p] != sep)
        return 0;
    p++;
    if (!is_digit(s[p]))
        return 0;
    if (s[p] == '2' && (s[p + 1] == 'A' || s[p + 1] == 'B')) {
        q = p + 2;
    } else if (is_digit(s[p + 1])) {
        int d = (s[p] - '0') * 10 + (s[p + 1] - '0');

        q = p + 2;
        if (q < n && is_digit(s[q])) {
            if (d != 97 || s[q] < '1' || s[q] > '6')
                return 0;
            q++;
        } else if (d < 1 || d > 95) {
            return 0;
        }
    } else {
        return 0;
    }
    return glued(s, n, q) ? 0 : q;
}

/* Is the word at p capitalised (ASCII or Latin-1 capital)? */
static bool
cap_at(uchar *s, size_t n, size_t p)
{
    if (p >= n)
        return false;
    if (is_upper(s[p]))
        return true;
    return p + 1 < n && s[p] == 0xC3 && s[p + 1] >= 0x80 && s[p + 1] <= 0x9E &&
           s[p + 1] != 0x97;
}

/* End of a name-like word at p: word characters with inner '-' or '\''. */
static size_t
nameword_end(uchar *s, size_t n, size_t p)
{
    size_t e = word_end(s, n, p);

    while (e + 1 < n && (s[e] == '-' || s[e] == '\'') &&
           word_len(s, n, e + 1))
        e = word_end(s, n, e + 1);
    return e;
}

static const char *const street_types[] = {
    "rue", "avenue", "av", "bd", "boulevard", "chemin", "impasse", "allée",
    "allee", "place", "route", "quai", "cours", "square", "passage",
    "résidence", "residence", "lotissement", "chaussée", "sentier", "voie",
    "rond-point", "cité", "cite", "hameau", "lieu-dit", "faubourg", "fbg",
    "promenade", "esplanade", "ruelle", "venelle", "traverse", "montée",
    "mail", "villa", "parc", "domaine", "clos", "sente", "che", "imp", "rte"};

/* Street types that are also common nouns need a name that looks like
 * one (a capital or a particle), not just any word. */
static size_t
street_type_at(uchar *s, size_t n, size_t p, bool *common)
{
    /* "12 r. des Lilas": the one-letter abbreviation needs its dot */
    if (ci_word(s, n, p, "r") && p + 1 < n && s[p + 1] == '.') {
        *common = false;
        return 2;
    }
    for (size_t k = 0; k < GU_ARRAY_LEN(street_types); k++) {
        size_t l = ci_word(s, n, p, street_types[k]);

        if (l && p + l < n && s[p + l] == '.')
            l++;
        if (l) {
            *common = k > 8;
            return l;
        }
    }
    return 0;
}

/* After 1 to 3 spaces at p (typed twice, pasted): their end, or 0. */
static size_t
spaces_after(uchar *s, size_t n, size_t p)
{
    size_t q = p;

    while (q < n && q - p < 3 && s[q] == ' ')
        q++;
    return q > p ? q : 0;
}

static size_t
particle_at(uchar *s, size_t n, size_t p)
{
    static const char *const parts[] = {"de", "des", "du", "la", "le",
                                        "les", "l'", "d'", "l’", "d’",
                                        "au", "aux", "sur", "sous", "en"};

    for (size_t k = 0; k < GU_ARRAY_LEN(parts); k++) {
        size_t l = ci_at(s, n, p, parts[k]);
        size_t last = strlen(parts[k]);

        if (!l)
            continue;
        if (parts[k][last - 1] == '\'' || (unsigned char)parts[k][last - 1] ==
                                              0x99)
            return l;
        if (!word_len(s, n, p + l) && spaces_after(s, n, p + l))
            return spaces_after(s, n, p + l) - p;
    }
    return 0;
}

static bool
stop_word(uchar *s, size_t n, size_t p, size_t e)
{
    static const char *const stops[] = {
        "est", "et", "a", "à", "pour", "qui", "que", "dans", "avec", "sans",
        "mais", "ou", "où", "depuis", "il", "elle", "je", "on", "nous",
        "vous", "pas", "ne", "sont", "y", "ce", "cette", "car", "donc",
        "libre", "disponible", "svp", "merci", "le", "la", "les", "un",
        "une", "pour", "devant", "derrière", "près", "face", "entre"};

    for (size_t k = 0; k < GU_ARRAY_LEN(stops); k++)
        if (ci_at(s, n, p, stops[k]) == e - p)
            return true;
    return false;
}

/* Words that end a name written in lower case (« je m'appelle sandro
 * lefèvre et j'habite... »): the stop words and what usually follows. */
static bool
name_stop(uchar *s, size_t n, size_t p, size_t e)
{
    static const char *const stops[] = {
        "j", "c", "l", "d", "n", "s", "qu", "mon", "ma", "mes", "suis",
        "habite", "voudrais", "souhaite", "aimerais", "veux", "écris",
        "ecris", "ai", "au", "aux", "en", "sur", "chez", "par", "comme",
        "si", "aussi", "bonjour", "cordialement", "habitant", "habitante",
        "domicilié", "domiciliée", "locataire", "propriétaire", "résidant",
        "résidente", "du", "des", "de", "et", "tél", "tel", "mail",
        "parce", "puisque", "afin", "concernant", "car"};

    if (stop_word(s, n, p, e))
        return true;
    for (size_t k = 0; k < GU_ARRAY_LEN(stops); k++)
        if (ci_at(s, n, p, stops[k]) == e - p)
            return true;
    return false;
}

/* "route nationale", "place principale": names of common street types */
static bool
street_adjective(uchar *s, size_t n, size_t p, size_t e)
{
    static const char *const w[] = {
        "principale", "nationale", "départementale", "communale", "neuve",
        "haute", "basse", "grande", "vieille", "centrale", "royale"};

    for (size_t k = 0; k < GU_ARRAY_LEN(w); k++)
        if (ci_at(s, n, p, w[k]) == e - p)
            return true;
    return false;
}

/* ", 44000 Nantes", " 75011 PARIS Cedex": a postcode and a town at p. */
static size_t
postcode_town(uchar *s, size_t n, size_t p)
{
    size_t q = p, e;

    if (q < n && s[q] == ',')
        q++;
    if (q + 2 < n && s[q] == ' ' && s[q + 1] == '-' && s[q + 2] == ' ')
        q += 2;
    if (q >= n || (s[q] != ' ' && s[q] != '\n'))
        return p;
    q = s[q] == ' ' ? spaces_after(s, n, q) : q + 1; /* « ,  44000 » */
    for (int k = 0; k < 5; k++)
        if (q + k >= n || !is_digit(s[q + k]))
            return p;
    if (!spaces_after(s, n, q + 5) || !cap_at(s, n, spaces_after(s, n, q + 5)))
        return p;
    /* one word ("Saint-Exemple-sur-Loire"), after an article the next
     * one ("La Roche-sur-Yon"), then « Cedex »; not any capital word:
     * "44000 Nantes DDN 07/06/40" */
    q = spaces_after(s, n, q + 5);
    e = nameword_end(s, n, q);
    if (e + 1 < n && s[e] == ' ' && cap_at(s, n, e + 1) &&
        (ci_at(s, n, q, "le") == e - q || ci_at(s, n, q, "la") == e - q ||
         ci_at(s, n, q, "les") == e - q))
        e = nameword_end(s, n, e + 1);
    if (e + 1 < n && s[e] == ' ' && ci_word(s, n, e + 1, "cedex"))
        e += 6;
    return e;
}

/*
 * A postal address at i: "12 rue des Lilas", "3 bis, avenue de la
 * République", "8 chemin du Moulin 44000 Nantes". A number, a street
 * type, then the name: capitalised words and particles, or one lower
 * case word after a particle or a non-ambiguous type ("rue des lilas",
 * "rue principale"). The postcode and town that follow join the span.
 */
static size_t
match_address(uchar *s, size_t n, size_t i)
{
    static const char *const reps[] = {"bis", "ter", "quater", "b", "t"};
    size_t p = i, l, e = 0;
    int nd = 0, words = 0;
    bool common = false, after_part = true;

    while (p < n && is_digit(s[p]) && nd < 5)
        p++, nd++;
    if (nd > 4)
        return 0;
    for (size_t k = 0; k < GU_ARRAY_LEN(reps); k++) {
        size_t q = spaces_after(s, n, p) ? spaces_after(s, n, p) : p;

        if ((l = ci_word(s, n, q, reps[k]))) {
            p = q + l;
            break;
        }
    }
    if (p < n && s[p] == ',')
        p++;
    /* spaces may be doubled: « 12  rue de la  Paix » */
    if (!(l = spaces_after(s, n, p)))
        return 0;
    p = l;
    if (!(l = street_type_at(s, n, p, &common)))
        return 0;
    p += l;
    after_part = !common;
    while (words < 6 && p + 1 < n && spaces_after(s, n, p)) {
        size_t q = spaces_after(s, n, p), we;

        for (int pk = 0; pk < 2 && (l = particle_at(s, n, q)); pk++) {
            q += l; /* "de la", "de l'" */
            after_part = true;
        }
        if (q >= n)
            break;
        if (is_digit(s[q])) { /* "rue du 8 Mai 1945" */
            we = word_end(s, n, q);
            if (we - q > 4 ||
                (we - q != 4 && (we >= n || s[we] != ' ' ||
                                 !cap_at(s, n, we + 1))))
                break;
            e = p = we;
            continue;
        }
        if (!word_len(s, n, q))
            break;
        we = nameword_end(s, n, q);
        /* « ...de la Gare M. Idir Durand »: a title starts a name */
        if ((we - q == 1 && s[q] == 'M' && we < n && s[we] == '.') ||
            ci_word(s, n, q, "mme") || ci_word(s, n, q, "mlle") ||
            ci_word(s, n, q, "madame") || ci_word(s, n, q, "monsieur"))
            break;
        if (cap_at(s, n, q)) {
            e = p = we;
            words++;
            after_part = false;
            continue;
        }
        if ((after_part && !stop_word(s, n, q, we)) ||
            street_adjective(s, n, q, we)) {
            e = we; /* one lower-case word ends the name */
            words++;
        }
        break;
    }
    if (!e)
        return 0;
    return postcode_town(s, n, e);
}

/* ------------------------------------------------------------------ */
/* Context words                                                      */
/* ------------------------------------------------------------------ */

enum wkind { W_OTHER, W_DATE, W_DE };

struct scan {
    uchar *s;
    size_t n, i;
    size_t birth_until; /* a date starting before this is a birth date */
    size_t ants_until;  /* a 10-character code before this is ANTS */
    enum wkind w1, w2;  /* the previous two words */
    size_t span_end;    /* end of the last span (+ 1), 0 if none */
    size_t id_until;    /* a passport/CNI number starting before this */
    enum pii_kind id_kind; /* which document the context named, or 0 */
    size_t name_until;  /* a name starting before this (context word) */
    bool name_strict;   /* ... must start with a known first name */
    bool name_any;      /* ... may be in lower case and not in the list
                           (« je m'appelle sandro lefèvre ») */
    bool name_rel;      /* ... after a relation (« ma voisine », « de la
                           part de »): a capitalised word of letters */
    size_t je_end;      /* end of the last « je » */
    size_t street_end;  /* a word starting before this follows « rue » */
};

static size_t
skip_spaces(uchar *s, size_t n, size_t p)
{
    while (p < n && (s[p] == ' ' || s[p] == ':'))
        p++;
    return p;
}

/* Look at the word [i, e) and set the context windows it opens. */
static void
context_word(struct scan *sc, size_t i, size_t e)
{
    uchar *s = sc->s;
    size_t n = sc->n, len = e - i, p;
    enum wkind k = W_OTHER;

    static const struct {
        const char *w;
        unsigned char len;
        unsigned char act; /* 1 né, 2 naissance, 3 ddn, 4 date, 5 de, 6 ants */
    } words[] = {
        /* sorted by first letter, see `first` below */
        {"ants", 4, 6},       {"code", 4, 6},      {"ddn", 3, 3},
        {"date", 4, 4},       {"de", 2, 5},        {"d", 1, 5},
        {"demande", 7, 6},    {"dossier", 7, 6},   {"né", 3, 1},
        {"née", 4, 1},        {"nee", 3, 1},       {"ne", 2, 1},
        {"naissance", 9, 2},  {"numéro", 7, 6},    {"numero", 6, 6},
        {"num", 3, 6},        {"n", 1, 6},         {"no", 2, 6},
        {"prédemande", 11, 6}, {"predemande", 10, 6}, {"référence", 11, 6},
        {"reference", 9, 6},  {"ref", 3, 6},       {"réf", 4, 6}};
    size_t from, to;
    int act = 0;

    /* only words of the right first letter and length are compared */
    if (len > 11)
        goto out;
    switch (lower(s[i])) {
    case 'a':
        from = 0, to = 1;
        break;
    case 'c':
        from = 1, to = 2;
        break;
    case 'd':
        from = 2, to = 8;
        break;
    case 'n':
        from = 8, to = 18;
        break;
    case 'p':
        from = 18, to = 20;
        break;
    case 'r':
        from = 20, to = 24;
        break;
    default:
        goto out;
    }
    for (size_t w = from; w < to && !act; w++)
        if (words[w].len == len && ci_at(s, n, i, words[w].w) == len)
            act = words[w].act;
    switch (act) {
    case 1:
        p = e;
        if (ci_at(s, n, p, "(e)"))
            p += 3;
        else if (ci_at(s, n, p, "·e"))
            p += 3;
        p = skip_spaces(s, n, p);
        if (ci_word(s, n, p, "le"))
            sc->birth_until = skip_spaces(s, n, p + 2) + 1;
        break;
    case 2:
        /* "date de naissance", "naissance :", not "acte de naissance" */
        p = e;
        while (p < n && s[p] == ' ')
            p++;
        if (sc->w1 == W_DATE || (sc->w1 == W_DE && sc->w2 == W_DATE) ||
            (p < n && s[p] == ':'))
            sc->birth_until = e + 16;
        break;
    case 3:
        sc->birth_until = e + 8;
        break;
    case 4:
        k = W_DATE;
        break;
    case 5:
        k = W_DE;
        break;
    case 6:
        sc->ants_until = e + 40;
        break;
    default:
        break;
    }
out:
    sc->w2 = sc->w1;
    sc->w1 = k;
}


/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

/* Is [p, e) a first name of the list (case-insensitive)? The word is
 * folded (ASCII and Latin-1 capitals) and looked up by bisection: the
 * list is sorted in byte order. */
static bool
prenom_at(uchar *s, size_t n, size_t p, size_t e)
{
    char w[48];
    size_t len = e - p, lo = 0, hi = pii_prenoms_len;

    if (e > n || len == 0 || len >= sizeof(w))
        return false;
    for (size_t k = 0; k < len; k++) {
        unsigned c = s[p + k];

        if (k > 0 && s[p + k - 1] == 0xC3 && c >= 0x80 && c <= 0x9E &&
            c != 0x97)
            c += 0x20;
        else
            c = (unsigned)lower((int)c);
        w[k] = (char)c;
    }
    w[len] = '\0';
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(pii_prenoms[mid], w);

        if (d == 0)
            return true;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/*
 * A first name at p, simple or compound: « Jean-Pierre », « Tiphaine-
 * Marie » (one known part is enough), not « Saint-Pierre ».
 */
static bool
prenom_word(uchar *s, size_t n, size_t p)
{
    size_t e = word_end(s, n, p), end = nameword_end(s, n, p);

    if (prenom_at(s, n, p, e) || (end != e && prenom_at(s, n, p, end)))
        return true;
    if (e == end || ci_at(s, n, p, "saint") == e - p ||
        ci_at(s, n, p, "sainte") == e - p || ci_at(s, n, p, "st") == e - p ||
        ci_at(s, n, p, "ste") == e - p)
        return false;
    while (e < end && s[e] == '-') {
        size_t q = e + 1;

        e = word_end(s, n, q);
        if (prenom_at(s, n, q, e))
            return true;
    }
    return false;
}

/* Capitalised words that follow « M. », « Madame »... and are not names. */
static bool
title_word(uchar *s, size_t n, size_t p, size_t e)
{
    static const char *const w[] = {
        "le", "la", "les", "l", "de", "du", "des", "maire", "adjoint",
        "adjointe", "président", "présidente", "directeur", "directrice",
        "secrétaire", "conseiller", "conseillère", "préfet", "préfète",
        "responsable", "service", "mairie", "bonjour", "merci", "monsieur",
        "madame", "mademoiselle", "mme", "mr", "je", "nous", "vous", "il",
        "elle", "cordialement", "bien", "sincères", "salutations"};

    for (size_t k = 0; k < GU_ARRAY_LEN(w); k++)
        if (ci_at(s, n, p, w[k]) == e - p)
            return true;
    return false;
}

/*
 * A capitalised name word at p, or a surname particle and its word ("Le
 * Goff", "Da Silva", "de La Tour"); not a title ("Le Maire"). Returns
 * its end or 0.
 */
static size_t
name_word(uchar *s, size_t n, size_t p)
{
    static const char *const parts[] = {
        "le ", "la ", "de ", "da ", "du ", "van ", "von ", "di ", "dos ",
        "des ", "del ", "der ", "den ", "ben ", "mac ", "los ", "las ",
        "d'", "d’"};
    size_t e, q = p, l;

    /* « de La Tour », « van der Berg », « DE LA TOUR », « d'Almeida »:
     * particles (two at most) then the capitalised word */
    for (int round = 0; round < 2; round++) {
        l = 0;
        for (size_t k = 0; k < GU_ARRAY_LEN(parts) && !l; k++)
            l = ci_at(s, n, q, parts[k]);
        if (!l)
            break;
        q += l;
        if (cap_at(s, n, q)) {
            e = nameword_end(s, n, q);
            if (!title_word(s, n, q, e))
                return e;
        }
    }
    if (!cap_at(s, n, p))
        return 0;
    e = nameword_end(s, n, p);
    return title_word(s, n, p, e) ? 0 : e;
}

/*
 * A person's name at i: up to three capitalised words ("Jean-Pierre
 * Martin", "DUPONT Marie", "Hélène Le Goff"). `strict`: the first word
 * must be a known first name, or the name must have two words. Returns
 * the end, or 0.
 */
static size_t
match_name(uchar *s, size_t n, size_t i, bool strict)
{
    size_t e = name_word(s, n, i), first = e;

    if (!e)
        return 0;
    for (int k = 0; k < 2 && e + 1 < n && s[e] == ' '; k++) {
        size_t we = name_word(s, n, e + 1);

        if (!we)
            break;
        e = we;
    }
    if (strict && !prenom_word(s, n, i) && e == first)
        return 0;
    return e;
}

/* A signature opener at [i, e) followed by the end of its line. */
static size_t
signature_line(uchar *s, size_t n, size_t i, size_t e)
{
    static const char *const w[] = {"cordialement", "salutations", "vous",
                                    "avance", "remerciements", "sincèrement",
                                    "amicalement", "merci"};
    size_t p = e;
    bool hit = false;

    while (p < n && p - e < 8 && (s[p] == ',' || s[p] == '.' || s[p] == '!' ||
                                  s[p] == ' ' || s[p] == '\r'))
        p++;
    if (p >= n || s[p] != '\n')
        return 0;
    for (size_t k = 0; k < GU_ARRAY_LEN(w) && !hit; k++)
        hit = ci_at(s, n, i, w[k]) == e - i;
    if (!hit)
        return 0;
    p++;
    while (p < n && (s[p] == ' ' || s[p] == '\n' || s[p] == '\r'))
        p++;
    return p + 1;
}

/* Places named after people: « école Jules Ferry », « salle Jean Vilar ». */
static size_t
venue_at(uchar *s, size_t n, size_t p)
{
    static const char *const w[] = {
        "école", "ecole", "collège", "college", "lycée", "lycee", "salle",
        "stade", "gymnase", "espace", "centre", "médiathèque",
        "bibliothèque", "maison", "jardin", "pont", "quartier", "hôpital",
        "crèche", "creche", "scolaire", "halle", "théâtre", "piscine",
        "complexe", "foyer", "ehpad", "square", "parc", "rue", "avenue",
        "boulevard", "place", "quai", "allée", "impasse", "cours"};
    size_t l;

    for (size_t k = 0; k < GU_ARRAY_LEN(w); k++)
        if ((l = ci_word(s, n, p, w[k])))
            return l;
    return 0;
}

/* Words for a person that a name often follows: « ma voisine Yanis
 * Lambert », « mon fils Lucas », « la famille Benali ». */
static bool
relation_word(uchar *s, size_t n, size_t i, size_t e)
{
    static const char *const w[] = {
        "voisin", "voisine", "voisins", "voisines", "fils", "fille", "mari",
        "femme", "épouse", "epouse", "époux", "epoux", "mère", "mere",
        "père", "pere", "frère", "frere", "sœur", "soeur", "locataire",
        "locataires", "propriétaire", "proprietaire", "bailleur",
        "collègue", "collegue", "ami", "amie", "compagne", "compagnon",
        "conjoint", "conjointe", "enfant", "oncle", "tante", "neveu",
        "nièce", "niece", "cousin", "cousine", "gendre", "bru", "papa",
        "maman", "fiancé", "fiancée", "copain", "copine", "famille",
        "tuteur", "tutrice", "filleul", "filleule", "parrain", "marraine",
        "petit-fils", "petite-fille"};

    for (size_t k = 0; k < GU_ARRAY_LEN(w); k++)
        if (ci_at(s, n, i, w[k]) == e - i)
            return true;
    return false;
}

/* Open a window for a name starting before `until`. */
static void
name_window(struct scan *sc, size_t until, bool strict, bool any, bool rel)
{
    sc->name_until = until;
    sc->name_strict = strict;
    sc->name_any = any;
    sc->name_rel = rel;
}

/*
 * Context for names and identity documents opened by the word [i, e):
 * « je m'appelle », « je suis », « M. », « Mme », « Nom : », a signature;
 * « passeport », « CNI », « identité », « n° ».
 */
static void
name_context(struct scan *sc, size_t i, size_t e)
{
    uchar *s = sc->s;
    size_t n = sc->n, len = e - i, p, l;
    bool common;

    if (len > 13)
        return;
    /* the first letters of the words below; a street type or a place
     * only matters before a capitalised word */
    if (!strchr("japnsmcivr", lower(s[i])) &&
        !(e + 1 < n && s[e] == ' ' && cap_at(s, n, e + 1)))
        return;
    if (ci_word(s, n, i, "je")) {
        sc->je_end = e;
        return;
    }
    if (ci_word(s, n, i, "appelle") || ci_word(s, n, i, "prénom") ||
        ci_word(s, n, i, "prenom") ||
        (ci_word(s, n, i, "nom") && (p = skip_spaces(s, n, e)) > e &&
         memchr(s + e, ':', p - e))) {
        /* any word, even in lower case and unknown, only after « je
         * m'appelle », « il s'appelle » or a label with its colon, not
         * after « je vous appelle parce que » or « de prénom » */
        bool any = (i >= 2 && s[i - 1] == '\'' &&
                    (lower(s[i - 2]) == 'm' || lower(s[i - 2]) == 's')) ||
                   (i >= 4 && s[i - 3] == 0xE2 && s[i - 2] == 0x80 &&
                    s[i - 1] == 0x99 &&
                    (lower(s[i - 4]) == 'm' || lower(s[i - 4]) == 's'));

        p = skip_spaces(s, n, e);
        if (!any && !ci_word(s, n, i, "appelle"))
            any = memchr(s + e, ':', p - e) != NULL;
        name_window(sc, p + 1, false, any, false);
        return;
    }
    if (ci_word(s, n, i, "nom") && (l = ci_at(s, n, e, " est ")) &&
        word_len(s, n, e + l)) {
        /* « mon nom est Dupont » */
        name_window(sc, e + l + 1, false, true, false);
        return;
    }
    if (ci_word(s, n, i, "suis") && i == sc->je_end + 1) {
        name_window(sc, skip_spaces(s, n, e) + 1, true, false, false);
        return;
    }
    if ((len == 1 && s[i] == 'M' && e < n && s[e] == '.') ||
        ci_word(s, n, i, "mme") || ci_word(s, n, i, "mlle") ||
        (len == 2 && s[i] == 'M' && s[i + 1] == 'r') ||
        ci_word(s, n, i, "madame") || ci_word(s, n, i, "monsieur") ||
        ci_word(s, n, i, "mademoiselle")) {
        p = e < n && s[e] == '.' ? e + 1 : e;
        name_window(sc, skip_spaces(s, n, p) + 1, false, false, false);
        return;
    }
    if ((p = signature_line(s, n, i, e))) {
        name_window(sc, p, false, false, false);
        return;
    }
    if (e + 1 < n && s[e] == ' ' && cap_at(s, n, e + 1) &&
        relation_word(s, n, i, e) &&
        /* « le père Noël » is nobody's father */
        ci_at(s, n, e + 1, "noël") != nameword_end(s, n, e + 1) - e - 1) {
        name_window(sc, e + 2, false, false, true);
        return;
    }
    if (ci_word(s, n, i, "part") &&
        ((l = ci_at(s, n, e, " de ")) || (l = ci_at(s, n, e, " d'")) ||
         (l = ci_at(s, n, e, " d’")))) {
        /* « de la part de Jordan Moreau »; in lower case, only from a
         * known first name (« de la part de tous les habitants ») */
        name_window(sc, e + l + 1, false, false, cap_at(s, n, e + l));
        return;
    }
    if (ci_word(s, n, i, "passeport") || ci_word(s, n, i, "passeports")) {
        sc->id_until = e + 40;
        sc->id_kind = PII_PASSPORT;
    } else if (ci_word(s, n, i, "cni") || ci_word(s, n, i, "identité") ||
               ci_word(s, n, i, "identite")) {
        sc->id_until = e + 40;
        sc->id_kind = PII_CNI;
    } else if ((len == 1 && lower(s[i]) == 'n') || ci_word(s, n, i, "no") ||
               ci_word(s, n, i, "numéro") || ci_word(s, n, i, "numero")) {
        if (sc->id_until <= i)
            sc->id_kind = 0;
        sc->id_until = e + 40;
    } else if (e + 1 < n && s[e] == ' ' && cap_at(s, n, e + 1) &&
               ((l = street_type_at(s, n, i, &common)) ||
                (l = venue_at(s, n, i)))) {
        /* only a capitalised word next can be taken for a name */
        sc->street_end = i + l + 2;
    }
}

/* Passport ("12AB34567") or new CNI (9 letters and digits) after a
 * context word. */
static enum pii_kind
id_word(struct scan *sc, size_t i, size_t e)
{
    uchar *s = sc->s;
    bool passport;

    if (e - i != 9 || i >= sc->id_until)
        return 0;
    for (size_t p = i; p < e; p++)
        if (!is_alnum(s[p]))
            return 0;
    passport = is_digit(s[i]) && is_digit(s[i + 1]) && is_alpha(s[i + 2]) &&
               is_alpha(s[i + 3]);
    for (size_t p = i + 4; p < e; p++)
        passport = passport && is_digit(s[p]);
    if (sc->id_kind == PII_PASSPORT || (passport && sc->id_kind != PII_CNI))
        return passport ? PII_PASSPORT : 0;
    return PII_CNI;
}

/*
 * A word mixing letters and digits: an ANTS pre-application number (10
 * ASCII letters and digits, both present; with a context word nearby, or
 * at least 2 of each standalone), or a code holding 6+ digits in a row.
 */
static enum pii_kind
mixed_word(struct scan *sc, size_t i, size_t e)
{
    uchar *s = sc->s;
    int letters = 0, digits = 0, run = 0, maxrun = 0;
    bool ascii = true;
    enum pii_kind id = id_word(sc, i, e);

    if (id)
        return id;
    for (size_t p = i; p < e; p++) {
        if (is_digit(s[p])) {
            digits++;
            if (++run > maxrun)
                maxrun = run;
            continue;
        }
        run = 0;
        if (is_alpha(s[p]))
            letters++;
        else
            ascii = false;
    }
    if (e - i == 10 && ascii && letters && digits &&
        (i < sc->ants_until || (letters >= 2 && digits >= 2)))
        return PII_ANTS;
    if (maxrun >= 6)
        return PII_NUMBER;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The scanner                                                         */
/* ------------------------------------------------------------------ */

/* Is the name-like word at p made of letters only (no digit)? */
static bool
letters_only(uchar *s, size_t n, size_t p)
{
    size_t e = nameword_end(s, n, p);

    for (size_t k = p; k < e; k++)
        if (is_digit(s[k]))
            return false;
    return e > p;
}

/*
 * After a name ending at e (in lower case, or after « je m'appelle »):
 * the next word too when it is a lower-case name word and not an
 * ordinary one, and a third after a particle (« éric da silva »).
 */
static size_t
lower_rest(uchar *s, size_t n, size_t e)
{
    static const char *const parts[] = {"da", "de", "des", "du", "le", "la",
                                        "van", "von", "di", "dos", "del",
                                        "mac", "ben", "el", "ould"};
    size_t e2, e3;

    if (e + 1 >= n || s[e] != ' ' || !word_len(s, n, e + 1) ||
        cap_at(s, n, e + 1) || !letters_only(s, n, e + 1))
        return e;
    e2 = nameword_end(s, n, e + 1);
    for (size_t k = 0; k < GU_ARRAY_LEN(parts); k++) {
        if (ci_at(s, n, e + 1, parts[k]) != e2 - e - 1)
            continue;
        /* « de la tour », « van der berg »: a second particle */
        if (e2 + 1 < n && s[e2] == ' ' &&
            (ci_word(s, n, e2 + 1, "la") || ci_word(s, n, e2 + 1, "der") ||
             ci_word(s, n, e2 + 1, "den") || ci_word(s, n, e2 + 1, "los")))
            e2 = word_end(s, n, e2 + 1);
        if (e2 + 1 < n && s[e2] == ' ' && word_len(s, n, e2 + 1) &&
            letters_only(s, n, e2 + 1)) {
            e3 = nameword_end(s, n, e2 + 1);
            if (!name_stop(s, n, e2 + 1, e3) &&
                !title_word(s, n, e2 + 1, e3))
                return e3;
        }
        return e;
    }
    if (name_stop(s, n, e + 1, e2) || title_word(s, n, e + 1, e2))
        return e;
    return e2;
}

/* Words that open a sentence and are no one's name. */
static bool
sentence_word(uchar *s, size_t n, size_t p, size_t e)
{
    static const char *const w[] = {
        "selon", "est", "cette", "ces", "quand", "comment", "pourquoi",
        "puis", "alors", "ainsi", "voici", "voilà", "dans", "avec", "tous",
        "toutes", "chaque", "aucun", "aucune", "notre", "votre", "leur",
        "son", "sa", "ses", "ton", "ta", "ils", "elles", "hier", "demain",
        "aujourd", "peut", "pouvez", "pourriez", "serait", "faut", "il",
        "lors", "après", "avant", "ici", "là", "oui", "non", "excusez",
        "pardon", "attention", "urgent"};

    for (size_t k = 0; k < GU_ARRAY_LEN(w); k++)
        if (ci_at(s, n, p, w[k]) == e - p)
            return true;
    return false;
}

/*
 * The first word of a name after a relation word: a known first name,
 * or a word of letters that looks like a name (« Yanis », « DUPONT »),
 * not an acronym (« CP », « CM2 »).
 */
static bool
rel_shape(uchar *s, size_t n, size_t p)
{
    size_t e = nameword_end(s, n, p), k, lowers = 0, letters = 0;

    static const char *const when[] = {
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
        "dimanche", "janvier", "février", "fevrier", "mars", "mai", "juin",
        "juillet", "août", "aout", "septembre", "octobre", "novembre",
        "décembre", "decembre", "dernier", "prochain"};

    static const char *const acronyms[] = {
        "siren", "siret", "iban", "rib", "caf", "cpam", "edf", "gdf",
        "sncf", "ratp", "rsa", "apl", "cni", "ants", "urssaf", "msa",
        "pmi", "ccas", "ehpad", "hlm", "opac", "tva", "cdi", "cdd", "pacs",
        "bafa", "insee", "nir", "sms", "svp", "rdv", "tel", "tél"};

    if (!letters_only(s, n, p))
        return false;
    /* an elision is a verb's or an article's: « locataire J'ai déposé » */
    if (p + 1 < n && s[p + 1] == '\'' && s[p] != 'D' && s[p] != 'd')
        return false;
    for (k = 0; k < GU_ARRAY_LEN(acronyms); k++)
        if (ci_at(s, n, p, acronyms[k]) == e - p)
            return false;
    /* « mon voisin Lundi dernier », « ..., locataire Selon l'article » */
    for (k = 0; k < GU_ARRAY_LEN(when); k++)
        if (ci_at(s, n, p, when[k]) == e - p)
            return false;
    if (title_word(s, n, p, e) || name_stop(s, n, p, e) ||
        sentence_word(s, n, p, word_end(s, n, p)))
        return false;
    if (prenom_word(s, n, p))
        return true;
    for (k = p; k < e; k++) {
        if (s[k] >= 'a' && s[k] <= 'z')
            lowers++;
        if (is_alpha(s[k]) || s[k] >= 0x80)
            letters++;
    }
    if (lowers > 0)
        return true;
    /* in capitals (« DUPONT Marie »): with a second name word only, a
     * lone word in capitals is more often an acronym */
    return letters >= 3 && e + 1 < n && s[e] == ' ' && cap_at(s, n, e + 1);
}

/*
 * A name at the word [i, we): after a context word, or a known first name
 * followed by a capitalised word (not inside "Saint-Pierre").
 */
static size_t
name_at(struct scan *sc, size_t i, size_t we)
{
    uchar *s = sc->s;
    size_t n = sc->n, e;

    if (i < sc->name_until && !sc->name_strict && !sc->name_rel &&
        !cap_at(s, n, i) &&
        (prenom_word(s, n, i) ||
         (sc->name_any && letters_only(s, n, i) &&
          !name_stop(s, n, i, nameword_end(s, n, i)) &&
          !title_word(s, n, i, nameword_end(s, n, i))))) {
        /* « je m'appelle marie dupont »: a first name in lower case
         * (any word after « je m'appelle »), and the next word unless it
         * is an ordinary one */
        return lower_rest(s, n, nameword_end(s, n, i));
    }
    if (!cap_at(s, n, i)) {
        /* « M. de La Tour », « Madame d'Almeida » */
        if (i < sc->name_until && !sc->name_strict && !sc->name_rel &&
            (e = match_name(s, n, i, false)) > 0)
            return e;
        return 0;
    }
    if (i < sc->name_until) {
        if (sc->name_rel && !rel_shape(s, n, i))
            return 0;
        e = match_name(s, n, i, sc->name_strict);
        /* « je m'appelle Sandro lefèvre » */
        return e && sc->name_any ? lower_rest(s, n, e) : e;
    }
    we = nameword_end(s, n, i);
    if ((i > 0 && (s[i - 1] == '-' || s[i - 1] == '\'')) || we >= n ||
        s[we] != ' ' || !name_word(s, n, we + 1) ||
        !prenom_word(s, n, i))
        return 0;
    e = match_name(s, n, i, true);
    return e > nameword_end(s, n, i) ? e : 0;
}

/*
 * Length of the placeholder at s[i] (1 if there is none: skip '['): a
 * plain one (« [téléphone] ») or a keyed one (« [téléphone·3f9a1c2b] »,
 * pii_redact_keyed()).
 */
static size_t
placeholder_len(uchar *s, size_t n, size_t i)
{
    for (unsigned k = 1; k <= PII_KIND_LAST; k <<= 1) {
        const char *ph = pii_placeholder((enum pii_kind)k);
        size_t l = strlen(ph), t = l - 1, h;

        if (n - i >= l && memcmp(s + i, ph, l) == 0)
            return l;
        /* keyed: the placeholder without its ']', the middle dot, the
         * tag's hex digits, ']' */
        if (n - i < t + sizeof(PII_TAG_SEP) - 1 + PII_TAG_HEX + 1 ||
            memcmp(s + i, ph, t) != 0 ||
            memcmp(s + i + t, PII_TAG_SEP, sizeof(PII_TAG_SEP) - 1) != 0)
            continue;
        t += sizeof(PII_TAG_SEP) - 1;
        for (h = 0; h < PII_TAG_HEX; h++) {
            int c = s[i + t + h];

            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                break;
        }
        if (h == PII_TAG_HEX && s[i + t + h] == ']')
            return t + h + 1;
    }
    return 1;
}

/* Find the next span at or after sc->i; false at the end. */
static bool
scan_next(struct scan *sc, struct pii_span *out)
{
    uchar *s = sc->s;
    size_t n = sc->n;

    while (sc->i < n) {
        size_t i = sc->i, e, we, l;
        unsigned c = s[i];
        enum pii_kind kind = 0;
        bool has_digit, has_alpha;
        unsigned mix;

        if (c < 0x80 && !is_alnum((int)c) && c != '+') {
            /* our own placeholders carry words ("date de naissance")
             * that must not open a context when text is scanned again */
            sc->i += c == '[' ? placeholder_len(s, n, i) : 1;
            continue;
        }
        if (c >= 0x80 && word_len(s, n, i) == 0) {
            u8dec(s, n, i, &l);
            sc->i += l;
            continue;
        }
        /* right after a span counts as a token start: once redacted,
         * a placeholder (ending in ']') will stand before it */
        if (i + 1 != sc->span_end && word_before(s, n, i)) {
            sc->i = c == '+' ? i + 1 : word_end(s, n, i);
            continue;
        }
        if (c == '+') {
            e = match_intl(s, n, i);
            if (e) {
                kind = PII_PHONE;
                goto found;
            }
            sc->i++;
            continue;
        }
        we = word_scan(s, n, i, &mix);
        has_digit = mix & 1;
        has_alpha = mix & 2;
        if ((e = match_email(s, n, i, we))) {
            kind = PII_EMAIL;
            goto found;
        }
        if (is_digit((int)c)) {
            enum verdict v;

            if ((e = match_nir(s, n, i))) {
                kind = PII_NIR;
                goto found;
            }
            if ((e = match_ids(s, n, i, i < sc->id_until, &kind)))
                goto found;
            if ((e = match_card(s, n, i))) {
                kind = PII_CARD;
                goto found;
            }
            if ((e = match_phone(s, n, i))) {
                kind = PII_PHONE;
                goto found;
            }
            if ((e = match_fni(s, n, i))) {
                kind = PII_PLATE;
                goto found;
            }
            if ((e = match_address(s, n, i))) {
                kind = PII_ADDRESS;
                goto found;
            }
            if ((e = match_date(s, n, i))) {
                if (i < sc->birth_until) {
                    kind = PII_BIRTHDATE;
                    goto found;
                }
                sc->i = e;
                continue;
            }
            if (!has_alpha) {
                v = match_number(s, n, i, &e);
                if (v == V_SPAN) {
                    kind = PII_NUMBER;
                    goto found;
                }
                if (v == V_KEEP) {
                    sc->i = e > we ? e : we;
                    continue;
                }
            }
        } else {
            if ((e = match_siv(s, n, i))) {
                kind = PII_PLATE;
                goto found;
            }
            if ((e = match_iban(s, n, i))) {
                kind = PII_IBAN;
                goto found;
            }
            if (i >= sc->street_end && (e = name_at(sc, i, we))) {
                kind = PII_NAME;
                goto found;
            }
            context_word(sc, i, we);
            name_context(sc, i, we);
        }
        if (has_digit && has_alpha && (kind = mixed_word(sc, i, we))) {
            e = we;
            goto found;
        }
        sc->i = we > i ? we : i + 1;
        continue;
    found:
        out->kind = kind;
        out->off = i;
        out->len = e - i;
        sc->i = e;
        sc->span_end = e + 1;
        return true;
    }
    return false;
}

static void
scan_init(struct scan *sc, const char *s, size_t n)
{
    memset(sc, 0, sizeof(*sc));
    sc->s = (uchar *)s;
    sc->n = n;
}

int
pii_scan(const char *s, size_t n, struct pii_span *spans, size_t cap,
         size_t *count)
{
    struct scan sc;
    struct pii_span sp;
    size_t k = 0;

    if (!s && n)
        return GU_EINVAL;
    scan_init(&sc, s, n);
    while (scan_next(&sc, &sp)) {
        if (k < cap)
            spans[k] = sp;
        k++;
    }
    if (count)
        *count = k;
    return 0;
}

const char *
pii_placeholder(enum pii_kind k)
{
    switch (k) {
    case PII_EMAIL:
        return "[courriel]";
    case PII_PHONE:
        return "[téléphone]";
    case PII_NIR:
        return "[n° de sécurité sociale]";
    case PII_IBAN:
        return "[IBAN]";
    case PII_CARD:
        return "[carte bancaire]";
    case PII_ANTS:
        return "[n° de pré-demande]";
    case PII_BIRTHDATE:
        return "[date de naissance]";
    case PII_NUMBER:
        return "[numéro]";
    case PII_SIREN:
        return "[SIREN]";
    case PII_SIRET:
        return "[SIRET]";
    case PII_FISCAL:
        return "[n° fiscal]";
    case PII_PASSPORT:
        return "[n° de passeport]";
    case PII_CNI:
        return "[n° de CNI]";
    case PII_PLATE:
        return "[PLAQUE]";
    case PII_ADDRESS:
        return "[adresse]";
    case PII_NAME:
        return "[nom]";
    }
    return "[donnée personnelle]";
}

const char *
pii_kind_name(enum pii_kind k)
{
    switch (k) {
    case PII_EMAIL:
        return "email";
    case PII_PHONE:
        return "phone";
    case PII_NIR:
        return "nir";
    case PII_IBAN:
        return "iban";
    case PII_CARD:
        return "card";
    case PII_ANTS:
        return "ants";
    case PII_BIRTHDATE:
        return "birthdate";
    case PII_NUMBER:
        return "number";
    case PII_SIREN:
        return "siren";
    case PII_SIRET:
        return "siret";
    case PII_FISCAL:
        return "fiscal";
    case PII_PASSPORT:
        return "passport";
    case PII_CNI:
        return "cni";
    case PII_PLATE:
        return "plate";
    case PII_ADDRESS:
        return "address";
    case PII_NAME:
        return "name";
    }
    return "unknown";
}

/*
 * One redaction pass of s[0..n) into b; returns the number of spans.
 */
static size_t
redact_pass(const char *s, size_t n, struct gu_buf *b, unsigned *found,
            pii_tag_fn tag, const void *ctx)
{
    struct scan sc;
    struct pii_span sp;
    size_t from = 0, count = 0;

    scan_init(&sc, s, n);
    while (scan_next(&sc, &sp)) {
        *found |= (unsigned)sp.kind;
        gu_buf_append(b, s + from, sp.off - from);
        if (tag)
            tag(ctx, sp.kind, s + sp.off, sp.len, b);
        else
            gu_buf_puts(b, pii_placeholder(sp.kind));
        from = sp.off + sp.len;
        count++;
    }
    if (count)
        gu_buf_append(b, s + from, n - from);
    return count;
}

/*
 * A few detectors look at the right context (a postal code before a town
 * name, a unit after an amount), which a replacement may change; so
 * redaction repeats until a pass finds nothing. Placeholders are never
 * part of a span, so each pass only shrinks what is left: two passes in
 * practice, and only for text that had something to redact.
 */
#define REDACT_MAX_PASSES 16

char *
pii_redact(struct gu_arena *a, const char *s, size_t n, unsigned *kinds)
{
    return pii_redact_with(a, s, n, kinds, NULL, NULL);
}

char *
pii_redact_with(struct gu_arena *a, const char *s, size_t n, unsigned *kinds,
                pii_tag_fn tag, const void *ctx)
{
    struct gu_buf b[2];
    const char *cur = s ? s : "";
    size_t curn = s ? n : 0;
    unsigned found = 0;
    char *out = NULL;
    int k = 0;

    if (kinds)
        *kinds = 0;
    gu_buf_init(&b[0]);
    gu_buf_init(&b[1]);
    for (int pass = 0; pass < REDACT_MAX_PASSES; pass++) {
        b[k].n = 0;
        if (redact_pass(cur, curn, &b[k], &found, tag, ctx) == 0)
            break;
        if (b[k].oom)
            goto out;
        cur = b[k].p;
        curn = b[k].n;
        k ^= 1;
    }
    out = gu_arena_strndup(a, cur, curn);
    if (out && kinds)
        *kinds = found;
out:
    gu_buf_fini(&b[0]);
    gu_buf_fini(&b[1]);
    return out;
}
