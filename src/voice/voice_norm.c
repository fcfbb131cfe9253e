/*
 * voice_norm.c - the French text normaliser of the voice (voice.h):
 * written French to the words a person would say, before synthesis.
 *
 * A table-driven pipeline over the input. At each token start the rules
 * of `rules[]` are tried in order (e-mail and web addresses first, then
 * phone numbers, dates, hours, ordinals, numbers with their amount,
 * percentage or unit, abbreviations, acronyms); the first that
 * recognises the text there writes its spoken form and says how many
 * bytes it consumed. Anything no rule takes is copied (words,
 * punctuation) or mapped by the symbol table (& -> et, € -> euros) or
 * dropped (markdown's * # _ and other symbols). Line breaks become
 * sentence breaks so that lists are read as lists.
 *
 * The engines read the output as it is: everything here is plain words,
 * spaces and sentence punctuation. The output is bounded by
 * VOICE_SPOKEN_MAX (cut at a word boundary).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "voice/voice.h"

struct nctx {
    const char *s; /* input, NUL-terminated */
    size_t n;
    struct gu_buf *b;
};

/* ------------------------------------------------------------------ */
/* Characters                                                          */
/* ------------------------------------------------------------------ */

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_alpha_ascii(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_upper_ascii(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* Byte sequences of the symbols we know (all UTF-8). */
#define U_NBSP "\xc2\xa0"
#define U_NNBSP "\xe2\x80\xaf"
#define U_THIN "\xe2\x80\x89"
#define U_EURO "\xe2\x82\xac"
#define U_DEG "\xc2\xb0"
#define U_SUP2 "\xc2\xb2"
#define U_SUP3 "\xc2\xb3"
#define U_ORDO "\xc2\xba"

static bool
at(const struct nctx *x, size_t i, const char *lit)
{
    size_t k = strlen(lit);

    return i + k <= x->n && memcmp(x->s + i, lit, k) == 0;
}

/*
 * A letter: ASCII letters and any non-ASCII character that is not one of
 * the symbols or spaces below (French letters with accents, ligatures).
 */
static size_t
symbol_len(const struct nctx *x, size_t i);

static bool
is_letter_at(const struct nctx *x, size_t i)
{
    unsigned char c;

    if (i >= x->n)
        return false;
    c = (unsigned char)x->s[i];
    if (c < 0x80)
        return is_alpha_ascii((char)c);
    if ((c & 0xc0) == 0x80) /* continuation byte */
        return true;
    return symbol_len(x, i) == 0;
}

/* Is the byte before i part of a letter or digit? */
static bool
word_before(const struct nctx *x, size_t i)
{
    size_t j;

    if (i == 0)
        return false;
    if (is_digit(x->s[i - 1]) || is_alpha_ascii(x->s[i - 1]))
        return true;
    if (!((unsigned char)x->s[i - 1] & 0x80))
        return false;
    j = i - 1;
    while (j > 0 && ((unsigned char)x->s[j] & 0xc0) == 0x80)
        j--;
    return is_letter_at(x, j);
}

/* Not a letter nor a digit at i (end of input counts). */
static bool
boundary(const struct nctx *x, size_t i)
{
    return i >= x->n || (!is_digit(x->s[i]) && !is_letter_at(x, i));
}

/* A space inside a number: space, no-break space, narrow no-break. */
static size_t
group_space(const struct nctx *x, size_t i)
{
    if (at(x, i, " "))
        return 1;
    if (at(x, i, U_NBSP))
        return 2;
    if (at(x, i, U_NNBSP) || at(x, i, U_THIN))
        return 3;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static void
put(struct nctx *x, const char *s)
{
    gu_buf_puts(x->b, s);
}

/* A word: a space before it unless the output is at a space already. */
static void
word(struct nctx *x, const char *s)
{
    if (x->b->n && x->b->p[x->b->n - 1] != ' ' &&
        x->b->p[x->b->n - 1] != '\'')
        gu_buf_puts(x->b, " ");
    gu_buf_puts(x->b, s);
}

static void
space(struct nctx *x)
{
    if (x->b->n && x->b->p[x->b->n - 1] != ' ')
        gu_buf_puts(x->b, " ");
}

/* ------------------------------------------------------------------ */
/* Numbers in words                                                    */
/* ------------------------------------------------------------------ */

static const char *const small[17] = {
    "zéro", "un",       "deux",  "trois",    "quatre", "cinq",
    "six",  "sept",     "huit",  "neuf",     "dix",    "onze",
    "douze", "treize",  "quatorze", "quinze", "seize"};
static const char *const tens[7] = {"",        "dix",       "vingt",
                                    "trente",  "quarante",  "cinquante",
                                    "soixante"};

/* 1..99 (0 writes nothing). `fem`: une; `final`: quatre-vingts. */
static void
say_99(struct gu_buf *b, unsigned n, bool fem, bool final)
{
    unsigned u;

    if (n == 0)
        return;
    if (n == 1) {
        gu_buf_puts(b, fem ? "une" : "un");
        return;
    }
    if (n < 17) {
        gu_buf_puts(b, small[n]);
        return;
    }
    if (n < 20) {
        gu_buf_puts(b, "dix-");
        gu_buf_puts(b, small[n - 10]);
        return;
    }
    if (n < 70) {
        u = n % 10;
        gu_buf_puts(b, tens[n / 10]);
        if (u == 1)
            gu_buf_puts(b, fem ? " et une" : " et un");
        else if (u) {
            gu_buf_puts(b, "-");
            gu_buf_puts(b, small[u]);
        }
        return;
    }
    if (n < 80) {
        gu_buf_puts(b, "soixante");
        if (n == 71) {
            gu_buf_puts(b, " et onze");
            return;
        }
        gu_buf_puts(b, "-");
        say_99(b, n - 60, fem, final);
        return;
    }
    gu_buf_puts(b, "quatre-vingt");
    if (n == 80) {
        if (final)
            gu_buf_puts(b, "s");
        return;
    }
    gu_buf_puts(b, "-");
    say_99(b, n - 80, fem, final);
}

/* 1..999; `final`: cents and vingts take their s (not before mille). */
static void
say_999(struct gu_buf *b, unsigned n, bool fem, bool final)
{
    unsigned h = n / 100, r = n % 100;

    if (h) {
        if (h > 1) {
            gu_buf_puts(b, small[h]);
            gu_buf_puts(b, " ");
        }
        gu_buf_puts(b, "cent");
        if (r == 0 && h > 1 && final)
            gu_buf_puts(b, "s");
        if (r)
            gu_buf_puts(b, " ");
    }
    say_99(b, r, fem, final);
}

/* Any value below 10^12 in words. */
static void
say_int(struct gu_buf *b, uint64_t v, bool fem)
{
    static const struct {
        uint64_t unit;
        const char *one, *many;
    } big[] = {
        {1000000000ull, "milliard", "milliards"},
        {1000000ull, "million", "millions"},
    };

    if (v == 0) {
        gu_buf_puts(b, "zéro");
        return;
    }
    for (size_t k = 0; k < GU_ARRAY_LEN(big); k++) {
        uint64_t q = v / big[k].unit;

        if (q == 0)
            continue;
        say_999(b, (unsigned)q, false, true);
        gu_buf_puts(b, " ");
        gu_buf_puts(b, q == 1 ? big[k].one : big[k].many);
        v %= big[k].unit;
        if (v)
            gu_buf_puts(b, " ");
    }
    if (v >= 1000) {
        unsigned t = (unsigned)(v / 1000);

        if (t > 1) {
            say_999(b, t, false, false);
            gu_buf_puts(b, " ");
        }
        gu_buf_puts(b, "mille");
        v %= 1000;
        if (v)
            gu_buf_puts(b, " ");
    }
    if (v)
        say_999(b, (unsigned)v, fem, true);
}

static void
say_num(struct nctx *x, uint64_t v, bool fem)
{
    space(x);
    say_int(x->b, v, fem);
}

/* Digits one by one: "0 5" -> zéro cinq. */
static void
say_digits(struct nctx *x, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (is_digit(p[i]))
            word(x, small[p[i] - '0']);
    }
}

/*
 * The ordinal of a cardinal in words: un -> unième (premier is the
 * caller's), cinq -> cinquième, neuf -> neuvième, quatre -> quatrième,
 * quatre-vingts -> quatre-vingtième, mille -> millième.
 */
static void
say_ordinal(struct nctx *x, uint64_t v, bool fem)
{
    struct gu_buf t;
    size_t n;

    if (v == 1) {
        word(x, fem ? "première" : "premier");
        return;
    }
    gu_buf_init(&t);
    say_int(&t, v, false);
    if (t.oom || !t.p) {
        gu_buf_fini(&t);
        x->b->oom = true;
        return;
    }
    n = t.n;
    if (n >= 4 && memcmp(t.p + n - 4, "cinq", 4) == 0) {
        t.p[n] = '\0';
        space(x);
        put(x, t.p);
        put(x, "uième");
    } else if (n >= 4 && memcmp(t.p + n - 4, "neuf", 4) == 0) {
        t.p[n - 1] = '\0';
        space(x);
        put(x, t.p);
        put(x, "vième");
    } else {
        if (t.p[n - 1] == 's' && n >= 2 &&
            (t.p[n - 2] == 't')) /* vingts, cents */
            n--;
        if (t.p[n - 1] == 'e')
            n--;
        t.p[n] = '\0';
        space(x);
        put(x, t.p);
        put(x, "ième");
    }
    gu_buf_fini(&t);
}

/* Parse up to `max` digits at i into *v; returns the count (0 = none). */
static size_t
digits_at(const struct nctx *x, size_t i, size_t max, uint64_t *v)
{
    size_t k = 0;
    uint64_t r = 0;

    while (i + k < x->n && is_digit(x->s[i + k]) && k < max) {
        r = r * 10 + (uint64_t)(x->s[i + k] - '0');
        k++;
    }
    if (v)
        *v = r;
    return k;
}

static size_t
digit_run(const struct nctx *x, size_t i)
{
    size_t k = 0;

    while (i + k < x->n && is_digit(x->s[i + k]))
        k++;
    return k;
}

/* ------------------------------------------------------------------ */
/* Spelling (e-mail and web addresses, acronyms)                       */
/* ------------------------------------------------------------------ */

static const char *const letter_names[26] = {
    "a",  "bé", "cé",   "dé",   "e",    "effe",      "gé",   "ache", "i",
    "ji", "ka", "elle", "emme", "enne", "o",         "pé",   "ku",   "erre",
    "esse", "té", "u",  "vé",   "double vé", "ixe", "i grec", "zède"};

static void
spell(struct nctx *x, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];

        if (is_alpha_ascii(c))
            word(x, letter_names[(c | 0x20) - 'a']);
        else if (is_digit(c))
            word(x, small[c - '0']);
    }
}

/* Parts of addresses said as words even when short. */
static const char *const sayable[] = {
    "com",   "org",    "net",   "gouv",   "info",   "mairie", "ville",
    "agglo", "paris",  "lyon",  "nantes", "contact", "accueil", "www"};

static bool acronym_spoken(struct nctx *x, const char *p, size_t n);

/* One part of an address between separators. */
static void
say_part(struct nctx *x, const char *p, size_t n)
{
    size_t i = 0;

    if (n == 3 && (memcmp(p, "www", 3) == 0 || memcmp(p, "WWW", 3) == 0)) {
        word(x, "double vé double vé double vé");
        return;
    }
    if (acronym_spoken(x, p, n))
        return;
    for (size_t k = 0; k < GU_ARRAY_LEN(sayable); k++) {
        if (strlen(sayable[k]) == n && strncasecmp(p, sayable[k], n) == 0) {
            space(x);
            for (size_t j = 0; j < n; j++) {
                char c = p[j];
                gu_buf_append(x->b, &c, 1);
            }
            return;
        }
    }
    while (i < n) {
        size_t j = i;

        if (is_digit(p[i])) {
            while (j < n && is_digit(p[j]))
                j++;
            if (j - i <= 4 && p[i] != '0') {
                uint64_t v = 0;
                for (size_t k = i; k < j; k++)
                    v = v * 10 + (uint64_t)(p[k] - '0');
                say_num(x, v, false);
            } else {
                spell(x, p + i, j - i);
            }
        } else {
            bool vowel = false;
            while (j < n && !is_digit(p[j])) {
                if (strchr("aeiouyAEIOUY", p[j]))
                    vowel = true;
                j++;
            }
            /* A word of 3 letters or more with a vowel is read (sur,
             * vie, gouv); shorter ones and consonant clusters are spelt
             * (fr, www). */
            if (j - i >= 3 && vowel) {
                space(x);
                for (size_t k = i; k < j; k++) {
                    char c = (char)(is_upper_ascii(p[k]) ? p[k] | 0x20 : p[k]);
                    gu_buf_append(x->b, &c, 1);
                }
            } else {
                spell(x, p + i, j - i);
            }
        }
        i = j;
    }
}

/* An address from i to end: parts and their separators said. */
static void
say_address(struct nctx *x, size_t i, size_t end)
{
    while (i < end) {
        size_t j = i;
        char c = x->s[i];

        if (is_alpha_ascii(c) || is_digit(c)) {
            while (j < end && (is_alpha_ascii(x->s[j]) || is_digit(x->s[j])))
                j++;
            say_part(x, x->s + i, j - i);
            i = j;
            continue;
        }
        switch (c) {
        case '.': word(x, "point"); break;
        case '-': word(x, "tiret"); break;
        case '_': word(x, "tiret bas"); break;
        case '@': word(x, "arobase"); break;
        case '/': word(x, "barre oblique"); break;
        case '+': word(x, "plus"); break;
        case '?': word(x, "point d'interrogation"); break;
        case '=': word(x, "égale"); break;
        case '&': word(x, "et commercial"); break;
        case '#': word(x, "dièse"); break;
        case '~': word(x, "tilde"); break;
        case ':': word(x, "deux-points"); break;
        case '%': word(x, "pour cent"); break;
        default: break;
        }
        i++;
    }
}

static bool
addr_char(char c)
{
    return is_alpha_ascii(c) || is_digit(c) || c == '.' || c == '-' ||
           c == '_';
}

/* Top-level domains we recognise an address by, without http or www. */
static const char *const tlds[] = {"fr",  "com", "org", "net", "eu",
                                   "info", "bzh", "paris", "re", "gp",
                                   "mq",  "gf",  "yt",  "nc",  "pf", "io"};

static bool
known_tld(const char *p, size_t n)
{
    for (size_t k = 0; k < GU_ARRAY_LEN(tlds); k++) {
        if (strlen(tlds[k]) == n && strncasecmp(p, tlds[k], n) == 0)
            return true;
    }
    return false;
}

/* Trailing sentence punctuation is not part of an address. */
static size_t
trim_addr_end(const struct nctx *x, size_t start, size_t end)
{
    while (end > start && strchr(".,;:!?-_", x->s[end - 1]))
        end--;
    return end;
}

/* ------------------------------------------------------------------ */
/* The rules                                                           */
/* ------------------------------------------------------------------ */

/* prenom.nom@commune.fr */
static size_t
r_email(struct nctx *x, size_t i)
{
    size_t j = i, at_pos, end, last_dot = 0;

    if (!is_alpha_ascii(x->s[i]) && !is_digit(x->s[i]))
        return 0;
    while (j < x->n && (addr_char(x->s[j]) || x->s[j] == '+'))
        j++;
    if (j >= x->n || x->s[j] != '@' || j == i)
        return 0;
    at_pos = j++;
    while (j < x->n && addr_char(x->s[j]))
        j++;
    end = trim_addr_end(x, at_pos + 1, j);
    for (size_t k = at_pos + 1; k < end; k++) {
        if (x->s[k] == '.')
            last_dot = k;
    }
    if (last_dot >= end || last_dot <= at_pos + 1 || end - last_dot < 3)
        return 0;
    if (!boundary(x, end) && x->s[end] != '@')
        return 0;
    say_address(x, i, end);
    return end - i;
}

/* https://www.service-public.fr/particuliers, www.ville.fr, ville.fr */
static size_t
r_url(struct nctx *x, size_t i)
{
    size_t j = i, host, end, last_dot = 0;
    bool scheme = false;

    if (at(x, i, "https://"))
        j = i + 8, scheme = true;
    else if (at(x, i, "http://"))
        j = i + 7, scheme = true;
    else if (!is_alpha_ascii(x->s[i]) && !is_digit(x->s[i]))
        return 0;
    host = j;
    while (j < x->n && addr_char(x->s[j]))
        j++;
    end = trim_addr_end(x, host, j);
    for (size_t k = host; k < end; k++) {
        if (x->s[k] == '.')
            last_dot = k;
    }
    if (last_dot >= end || last_dot <= host)
        return 0;
    if (!scheme && !at(x, host, "www.") &&
        !known_tld(x->s + last_dot + 1, end - last_dot - 1))
        return 0;
    /* Numbers like 3.5 or 1.200 are not addresses. */
    if (!scheme && is_digit(x->s[host]) && is_digit(x->s[end - 1]))
        return 0;
    if (end < x->n && x->s[end] == '/' && end == j) {
        /* a path: up to a space or a closing bracket */
        j = end;
        while (j < x->n && (unsigned char)x->s[j] > ' ' &&
               !strchr("()[]<>\"'", x->s[j]) && !(x->s[j] & 0x80))
            j++;
        end = trim_addr_end(x, host, j);
    } else if (!boundary(x, end)) {
        return 0;
    }
    say_address(x, host, end);
    return end - i;
}

/*
 * A phone number: 0X XX XX XX XX (spaces, dots, dashes or none) or
 * +33 X XX XX XX XX, read in pairs with a pause between them.
 */
static size_t
r_phone(struct nctx *x, size_t i)
{
    char d[12];
    size_t nd = 0, j = i, want;
    bool intl = false;
    char sep = 0;

    if (at(x, i, "+33")) {
        intl = true;
        j = i + 3;
        if (j < x->n && (x->s[j] == ' ' || x->s[j] == '.' || x->s[j] == '-'))
            j++;
        if (at(x, j, "(0)"))
            j += 3;
        while (j < x->n && x->s[j] == ' ')
            j++;
        want = 9;
    } else {
        if (x->s[i] != '0' || i + 1 >= x->n || !is_digit(x->s[i + 1]) ||
            x->s[i + 1] == '0')
            return 0;
        want = 10;
    }
    while (nd < want && j < x->n) {
        size_t gs;

        if (is_digit(x->s[j])) {
            d[nd++] = x->s[j++];
            continue;
        }
        /* one separator, between digit groups, the same all along */
        gs = group_space(x, j);
        if (gs == 0 && (x->s[j] == '.' || x->s[j] == '-'))
            gs = 1;
        if (gs == 0 || nd == 0 || j + gs >= x->n || !is_digit(x->s[j + gs]))
            break;
        if (sep && sep != x->s[j])
            break;
        sep = x->s[j];
        j += gs;
    }
    if (nd != want || (j < x->n && is_digit(x->s[j])) || !boundary(x, j))
        return 0;
    if (intl) {
        word(x, "plus trente-trois,");
        word(x, small[d[0] - '0']);
        for (size_t k = 1; k < 9; k += 2) {
            put(x, ",");
            if (d[k] == '0')
                word(x, "zéro"), word(x, small[d[k + 1] - '0']);
            else
                say_num(x, (uint64_t)((d[k] - '0') * 10 + d[k + 1] - '0'),
                        false);
        }
    } else {
        for (size_t k = 0; k < 10; k += 2) {
            if (k)
                put(x, ",");
            if (d[k] == '0')
                word(x, "zéro"), word(x, small[d[k + 1] - '0']);
            else
                say_num(x, (uint64_t)((d[k] - '0') * 10 + d[k + 1] - '0'),
                        false);
        }
    }
    return j - i;
}

static void
say_date(struct nctx *x, unsigned day, unsigned month, int year)
{
    if (day == 1)
        word(x, "premier");
    else
        say_num(x, day, false);
    word(x, gu_month_fr((int)month));
    if (year >= 0)
        say_num(x, (uint64_t)year, false);
}

/* 2026-12-03 */
static size_t
r_date_iso(struct nctx *x, size_t i)
{
    uint64_t y, m, d;

    if (digit_run(x, i) != 4 || !at(x, i + 4, "-") ||
        digit_run(x, i + 5) != 2 || !at(x, i + 7, "-") ||
        digit_run(x, i + 8) != 2 || !boundary(x, i + 10))
        return 0;
    digits_at(x, i, 4, &y);
    digits_at(x, i + 5, 2, &m);
    digits_at(x, i + 8, 2, &d);
    if (!gu_date_valid((int)y, (int)m, (int)d))
        return 0;
    say_date(x, (unsigned)d, (unsigned)m, (int)y);
    return 10;
}

/* 3/12/2026, 03/12, 3.12.2026, 03-12-2026 (the year required with - or .) */
static size_t
r_date(struct nctx *x, size_t i)
{
    uint64_t d, m, y = 0;
    size_t nd, nm, ny = 0, j;
    char sep;

    nd = digits_at(x, i, 3, &d);
    if (nd < 1 || nd > 2)
        return 0;
    j = i + nd;
    if (j >= x->n || !strchr("/.-", x->s[j]))
        return 0;
    sep = x->s[j++];
    nm = digits_at(x, j, 3, &m);
    if (nm < 1 || nm > 2)
        return 0;
    j += nm;
    if (j + 1 < x->n && x->s[j] == sep && is_digit(x->s[j + 1])) {
        ny = digits_at(x, j + 1, 5, &y);
        if (ny != 2 && ny != 4)
            return 0;
        j += 1 + ny;
        if (ny == 2)
            y += 2000;
    } else if (sep != '/') {
        return 0;
    }
    if (!boundary(x, j) || (j < x->n && x->s[j] == sep && sep != '.'))
        return 0;
    if (d < 1 || d > 31 || m < 1 || m > 12)
        return 0;
    if (ny && !gu_date_valid((int)y, (int)m, (int)d))
        return 0;
    say_date(x, (unsigned)d, (unsigned)m, ny ? (int)y : -1);
    return j - i;
}

/* 14h30, 14 h 30, 9h, 9 h, 14:30, 12h00 */
static size_t
r_time(struct nctx *x, size_t i)
{
    uint64_t h, m = 0;
    size_t nh, j, nm = 0;
    bool colon = false;

    nh = digits_at(x, i, 3, &h);
    if (nh < 1 || nh > 2 || h > 24)
        return 0;
    j = i + nh;
    if (j < x->n && x->s[j] == ':') {
        colon = true;
        j++;
        nm = digits_at(x, j, 3, &m);
        if (nm != 2)
            return 0;
        j += nm;
        /* 14:30:00 */
        if (j + 2 < x->n && x->s[j] == ':' && digit_run(x, j + 1) == 2)
            j += 3;
    } else {
        j += group_space(x, j); /* 9 h, 9\u00a0h */
        if (j >= x->n || (x->s[j] != 'h' && x->s[j] != 'H'))
            return 0;
        j++;
        if (j < x->n && is_digit(x->s[j])) {
            nm = digits_at(x, j, 3, &m);
            if (nm != 2)
                return 0;
            j += nm;
        } else if (group_space(x, j) &&
                   digit_run(x, j + group_space(x, j)) == 2 &&
                   boundary(x, j + group_space(x, j) + 2)) {
            /* 14 h 30 */
            j += group_space(x, j);
            digits_at(x, j, 2, &m);
            j += 2;
        }
    }
    if (m > 59 || !boundary(x, j) || (colon && h > 23))
        return 0;
    say_num(x, h, true);
    word(x, h > 1 ? "heures" : "heure");
    if (m)
        say_num(x, m, true);
    return j - i;
}

/* 1er, 1re, 1ère, 2e, 2ème, 2nd, 2nde, 3è, 21e */
static size_t
r_ordinal(struct nctx *x, size_t i)
{
    static const struct {
        const char *suf;
        bool fem;
    } sufs[] = {{"ère", true}, {"ème", false}, {"eme", false},
                {"er", false}, {"re", true},   {"nde", true},
                {"nd", false}, {"è", false},   {"e", false}};
    uint64_t v;
    size_t nd = digits_at(x, i, 16, &v), j = i + nd;

    if (nd == 0 || nd > 12 || v == 0)
        return 0;
    for (size_t k = 0; k < GU_ARRAY_LEN(sufs); k++) {
        size_t sl = strlen(sufs[k].suf);

        if (!at(x, j, sufs[k].suf) || !boundary(x, j + sl))
            continue;
        /* 1er/1re only for 1; nd/nde only for 2 (second, seconde) */
        if ((strcmp(sufs[k].suf, "er") == 0 || strcmp(sufs[k].suf, "re") == 0 ||
             strcmp(sufs[k].suf, "ère") == 0) &&
            v != 1)
            return 0;
        if (sufs[k].suf[0] == 'n') {
            if (v != 2)
                return 0;
            word(x, sufs[k].fem ? "seconde" : "second");
            return nd + sl;
        }
        say_ordinal(x, v, sufs[k].fem);
        return nd + sl;
    }
    return 0;
}

/* XXIe, XIXe, IIIe, Ier, Ve (I, V, X only: Le, Ce, Me are words) */
static size_t
r_roman(struct nctx *x, size_t i)
{
    static const struct {
        char c;
        int v;
    } val[] = {{'I', 1}, {'V', 5}, {'X', 10}};
    size_t j = i, sl;
    int total = 0, prev = 0;
    bool er = false;

    while (j < x->n && x->s[j] && strchr("IVX", x->s[j]))
        j++;
    if (j == i || j - i > 7)
        return 0;
    if (at(x, j, "er") && boundary(x, j + 2))
        sl = 2, er = true;
    else if (at(x, j, "ème") && boundary(x, j + 4))
        sl = 4;
    else if (at(x, j, "e") && boundary(x, j + 1))
        sl = 1;
    else
        return 0;
    for (size_t k = j; k > i; k--) {
        int v = 0;

        for (size_t t = 0; t < GU_ARRAY_LEN(val); t++) {
            if (val[t].c == x->s[k - 1])
                v = val[t].v;
        }
        total += v < prev ? -v : v;
        if (v > prev)
            prev = v;
    }
    if (total <= 0 || (er && total != 1))
        return 0;
    /* Only before the nouns roman ordinals go with: « Vie » is a word. */
    {
        static const char *const nouns[] = {
            " siècle", " République", " arrondissement", " Empire",
            " millénaire", " régiment", " circonscription", " Plan"};
        bool ok = false;

        for (size_t t = 0; t < GU_ARRAY_LEN(nouns) && !ok; t++)
            ok = at(x, j + sl, nouns[t]);
        if (!ok)
            return 0;
    }
    say_ordinal(x, (uint64_t)total, false);
    return j - i + sl;
}

/* Units after a number: singular, plural (from 2). */
static const struct unit {
    const char *sym;
    const char *one, *many;
} units[] = {
    {"km/h", "kilomètre heure", "kilomètres heure"},
    {"km" U_SUP2, "kilomètre carré", "kilomètres carrés"},
    {"m" U_SUP2, "mètre carré", "mètres carrés"},
    {"m" U_SUP3, "mètre cube", "mètres cubes"},
    {"m2", "mètre carré", "mètres carrés"},
    {"m3", "mètre cube", "mètres cubes"},
    {"kWh", "kilowattheure", "kilowattheures"},
    {"kW", "kilowatt", "kilowatts"},
    {"km", "kilomètre", "kilomètres"},
    {"cm", "centimètre", "centimètres"},
    {"mm", "millimètre", "millimètres"},
    {"kg", "kilo", "kilos"},
    {"mg", "milligramme", "milligrammes"},
    {"ha", "hectare", "hectares"},
    {"min", "minute", "minutes"},
    {"mn", "minute", "minutes"},
    {"ms", "milliseconde", "millisecondes"},
    {"Mo", "mégaoctet", "mégaoctets"},
    {"Go", "gigaoctet", "gigaoctets"},
    {"ko", "kilooctet", "kilooctets"},
    {U_DEG "C", "degré", "degrés"},
    {U_DEG, "degré", "degrés"},
    {"m", "mètre", "mètres"},
    {"g", "gramme", "grammes"},
    {"l", "litre", "litres"},
    {"L", "litre", "litres"},
    {"j", "jour", "jours"},
    {"s", "seconde", "secondes"},
    {"t", "tonne", "tonnes"},
};

/*
 * An integer with optional thousands groups (1 200, 1 200 000 with
 * spaces or no-break spaces) and decimals (3,5). *ip gets the integer
 * (digits string bounds), *dp the decimals; returns bytes.
 */
struct num {
    uint64_t ival;
    bool big;        /* too many digits for words: read one by one */
    bool lead_zero;  /* "05": digits read one by one */
    size_t ib, ie;   /* integer digits span (without group spaces) */
    size_t db, de;   /* decimal digits span, db == de if none */
};

static size_t
parse_num(const struct nctx *x, size_t i, struct num *nm)
{
    size_t j = i, nd = digit_run(x, i), total = nd;

    memset(nm, 0, sizeof(*nm));
    nm->ib = i;
    j = i + nd;
    /* groups of exactly three after a first group of 1..3 */
    if (nd <= 3) {
        for (;;) {
            size_t gs = group_space(x, j);

            if (gs == 0 || digit_run(x, j + gs) != 3 ||
                !boundary(x, j + gs + 3))
                break;
            /* "14 h 30" and phone pairs never reach here (3 digits) */
            j += gs + 3;
            total += 3;
        }
    }
    nm->ie = j;
    nm->big = total > 12;
    nm->lead_zero = nd > 1 && x->s[i] == '0' && j == i + nd;
    if (!nm->big) {
        uint64_t v = 0;
        for (size_t k = i; k < j; k++) {
            if (is_digit(x->s[k]))
                v = v * 10 + (uint64_t)(x->s[k] - '0');
        }
        nm->ival = v;
    }
    if (j + 1 < x->n && x->s[j] == ',' && is_digit(x->s[j + 1])) {
        nm->db = j + 1;
        nm->de = j + 1 + digit_run(x, j + 1);
        j = nm->de;
    } else {
        nm->db = nm->de = j;
    }
    return j - i;
}

static void
say_parsed(struct nctx *x, const struct num *nm, bool fem)
{
    if (nm->big || nm->lead_zero)
        say_digits(x, x->s + nm->ib, nm->ie - nm->ib);
    else
        say_num(x, nm->ival, fem);
    if (nm->de > nm->db) {
        size_t k = nm->db, nd = nm->de - nm->db;

        word(x, "virgule");
        if (nd > 3) {
            say_digits(x, x->s + k, nd);
            return;
        }
        while (k < nm->de - 1 && x->s[k] == '0') {
            word(x, "zéro");
            k++;
        }
        uint64_t v = 0;
        for (; k < nm->de; k++)
            v = v * 10 + (uint64_t)(x->s[k] - '0');
        say_num(x, v, false);
    }
}

/* The spoken form of a plain integer value (for amounts). */
static void
say_euros(struct nctx *x, const struct num *nm)
{
    uint64_t cents = 0;
    size_t nd = nm->de - nm->db;

    if (nd == 1)
        cents = (uint64_t)(x->s[nm->db] - '0') * 10;
    else if (nd >= 2)
        cents = (uint64_t)(x->s[nm->db] - '0') * 10 +
                (uint64_t)(x->s[nm->db + 1] - '0');
    if (nm->big) {
        say_digits(x, x->s + nm->ib, nm->ie - nm->ib);
        word(x, "euros");
        return;
    }
    if (nm->ival == 0 && cents) {
        say_num(x, cents, false);
        word(x, cents > 1 ? "centimes" : "centime");
        return;
    }
    say_num(x, nm->ival, false);
    if (nm->ival >= 1000000 && nm->ival % 1000000 == 0)
        word(x, "d'euros");
    else
        word(x, nm->ival >= 2 ? "euros" : "euro");
    if (cents)
        say_num(x, cents, false);
}

/* Numbers, with what follows them: €, %, a unit, "/" -> sur. */
static size_t
r_number(struct nctx *x, size_t i)
{
    struct num nm;
    size_t len = parse_num(x, i, &nm), j = i + len, k, gs;
    bool plural;

    if (len == 0)
        return 0;
    k = j;
    gs = group_space(x, k);
    k += gs;
    /* amounts */
    if (at(x, k, U_EURO)) {
        say_euros(x, &nm);
        return k + 3 - i;
    }
    if ((at(x, k, "euros") && boundary(x, k + 5)) ||
        (at(x, k, "euro") && boundary(x, k + 4)) ||
        (at(x, k, "EUR") && boundary(x, k + 3))) {
        say_euros(x, &nm);
        return (at(x, k, "euros") ? k + 5 : at(x, k, "euro") ? k + 4 : k + 3) -
               i;
    }
    if (at(x, k, "%")) {
        say_parsed(x, &nm, false);
        word(x, "pour cent");
        return k + 1 - i;
    }
    plural = nm.big || nm.ival >= 2;
    for (size_t u = 0; u < GU_ARRAY_LEN(units); u++) {
        size_t ul = strlen(units[u].sym);

        if (at(x, k, units[u].sym) && boundary(x, k + ul)) {
            /* "le 3 m" is rare; "3 s" may be "3 s'": need no apostrophe */
            if (k + ul < x->n && x->s[k + ul] == '\'')
                break;
            say_parsed(x, &nm, false);
            word(x, plural ? units[u].many : units[u].one);
            return k + ul - i;
        }
    }
    say_parsed(x, &nm, false);
    return len;
}

/* Abbreviations: exact text, then a word boundary. */
static const struct abbrev {
    const char *text;
    const char *spoken;
    bool ci;      /* ASCII case-insensitive */
    bool keep_dot; /* its final dot may also end the sentence */
} abbrevs[] = {
    {"M.", "monsieur", false, false},
    {"MM.", "messieurs", false, false},
    {"Mme", "madame", false, false},
    {"Mmes", "mesdames", false, false},
    {"Mlle", "mademoiselle", false, false},
    {"Mlles", "mesdemoiselles", false, false},
    {"Dr", "docteur", false, false},
    {"Pr", "professeur", false, false},
    {"Me", "maître", false, false},
    {"St", "saint", false, false},
    {"Ste", "sainte", false, false},
    {"n" U_DEG, "numéro", true, false},
    {"n" U_ORDO, "numéro", true, false},
    {"N" U_DEG, "numéro", true, false},
    {"rdv", "rendez-vous", true, false},
    {"RDV", "rendez-vous", false, false},
    {"av.", "avenue", true, false},
    {"bd.", "boulevard", true, false},
    {"bd", "boulevard", true, false},
    {"bld", "boulevard", true, false},
    {"pl.", "place", false, false},
    {"imp.", "impasse", false, false},
    {"chem.", "chemin", false, false},
    {"rte", "route", false, false},
    {"etc.", "et cetera", false, true},
    {"tél.", "téléphone", true, false},
    {"Tél.", "téléphone", false, false},
    {"tel.", "téléphone", true, false},
    {"tél", "téléphone", false, false},
    {"env.", "environ", false, false},
    {"cf.", "voir", true, false},
    {"ex.", "par exemple", false, false},
    {"hab.", "habitants", false, false},
    {"CNI", "cé enne i", false, false},
    {"ANTS", "a enne té esse", false, false},
    {"CCAS", "cé cé a esse", false, false},
    {"CAF", "caf", false, false},
    {"CPAM", "cé pé a emme", false, false},
    {"TVA", "té vé a", false, false},
    {"RSA", "erre esse a", false, false},
    {"APL", "a pé elle", false, false},
    {"PLU", "pé elle u", false, false},
    {"PACS", "pacse", false, false},
    {"EHPAD", "é pade", false, false},
    {"URSSAF", "urssaf", false, false},
    {"SAMU", "samu", false, false},
    {"FAQ", "effe a ku", false, false},
    {"PMR", "pé emme erre", false, false},
    {"SIRET", "siret", false, false},
    {"IBAN", "i banne", false, false},
    {"RIB", "rib", false, false},
};

static bool
prefix_eq(const char *a, const char *b, size_t n, bool ci)
{
    return ci ? strncasecmp(a, b, n) == 0 : memcmp(a, b, n) == 0;
}

/* An acronym of the table (ants, CNI) in any case: its spoken form. */
static bool
acronym_spoken(struct nctx *x, const char *p, size_t n)
{
    for (size_t k = 0; k < GU_ARRAY_LEN(abbrevs); k++) {
        const char *t = abbrevs[k].text;

        if (strlen(t) != n || !is_upper_ascii(t[0]) || !is_upper_ascii(t[1]))
            continue;
        if (strncasecmp(p, t, n) == 0) {
            word(x, abbrevs[k].spoken);
            return true;
        }
    }
    return false;
}

static size_t
r_abbrev(struct nctx *x, size_t i)
{
    for (size_t k = 0; k < GU_ARRAY_LEN(abbrevs); k++) {
        const struct abbrev *ab = &abbrevs[k];
        size_t l = strlen(ab->text);
        bool dot = ab->text[l - 1] == '.';

        if (i + l > x->n || !prefix_eq(x->s + i, ab->text, l, ab->ci))
            continue;
        if (!dot && !boundary(x, i + l))
            continue;
        /* "M." only before a name: "M. Dupont" */
        if (strcmp(ab->text, "M.") == 0 || strcmp(ab->text, "MM.") == 0) {
            if (!(at(x, i + l, " ") && i + l + 1 < x->n &&
                  is_upper_ascii(x->s[i + l + 1])))
                continue;
        }
        /* "Me" (maître) likewise, else it is the pronoun */
        if (strcmp(ab->text, "Me") == 0 &&
            !(at(x, i + l, " ") && i + l + 1 < x->n &&
              is_upper_ascii(x->s[i + l + 1])))
            continue;
        word(x, ab->spoken);
        if (ab->keep_dot) {
            size_t j = i + l;

            while (j < x->n && x->s[j] == ' ')
                j++;
            if (j >= x->n || x->s[j] == '\n' || is_upper_ascii(x->s[j]))
                put(x, ".");
        }
        return l;
    }
    return 0;
}

/* Short words that a text in capitals may hold: read, not spelt. */
static const char *const caps_words[] = {
    "LE",  "LA",  "LES", "DE",  "DU",  "DES", "UN",  "UNE", "ET",  "OU",
    "EN",  "AU",  "AUX", "SUR", "PAR", "QUI", "QUE", "NE",  "PAS", "EST",
    "SON", "SES", "VOS", "NOS", "MON", "MES", "CE",  "SE",  "SA",  "IL",
    "ON",  "NON", "OUI", "VOUS", "POUR", "AVEC", "DANS", "SANS"};

/*
 * An acronym in capitals is spelt when it has two or three letters (PAI,
 * QF) or no vowel (SMS, PDF); longer ones with a vowel are read as words
 * (SAMU, CNIL). The table of abbreviations has the exceptions (CAF).
 */
static size_t
r_acronym(struct nctx *x, size_t i)
{
    size_t j = i;
    bool vowel = false;

    while (j < x->n && is_upper_ascii(x->s[j]))
        j++;
    if (j - i < 2 || j - i > 6 || !boundary(x, j))
        return 0;
    /* a capitalised word with accents (ÉTAT) is not an acronym */
    if (j < x->n && ((unsigned char)x->s[j] & 0x80) && is_letter_at(x, j))
        return 0;
    for (size_t k = 0; k < GU_ARRAY_LEN(caps_words); k++) {
        if (strlen(caps_words[k]) == j - i &&
            memcmp(caps_words[k], x->s + i, j - i) == 0)
            return 0;
    }
    for (size_t k = i; k < j; k++) {
        if (strchr("AEIOUY", x->s[k]))
            vowel = true;
    }
    if (vowel && j - i > 3)
        return 0;
    spell(x, x->s + i, j - i);
    return j - i;
}

typedef size_t (*rule_fn)(struct nctx *x, size_t i);

/*
 * Order matters: an address may hold digits and dots, a phone number
 * and a date are numbers, an hour is a number then h.
 */
static const struct rule {
    const char *name;
    rule_fn fn;
    bool digit; /* starts at a digit (else at a letter or +) */
} rules[] = {
    {"email", r_email, false},   {"url", r_url, false},
    {"phone", r_phone, true},    {"date_iso", r_date_iso, true},
    {"date", r_date, true},      {"time", r_time, true},
    {"ordinal", r_ordinal, true}, {"number", r_number, true},
    {"roman", r_roman, false},   {"abbrev", r_abbrev, false},
    {"acronym", r_acronym, false},
};

/* ------------------------------------------------------------------ */
/* Symbols                                                             */
/* ------------------------------------------------------------------ */

/* Symbols that are spoken, dropped or kept; by their bytes. */
static const struct sym {
    const char *bytes;
    const char *spoken; /* NULL = dropped (read as a space) */
} syms[] = {
    {U_EURO, "euros"},   {U_NBSP, NULL},      {U_NNBSP, NULL},
    {U_THIN, NULL},      {U_DEG, "degrés"},   {U_SUP2, NULL},
    {U_SUP3, NULL},      {U_ORDO, NULL},
    {"\xc2\xab", NULL},  /* « */
    {"\xc2\xbb", NULL},  /* » */
    {"\xe2\x80\xa6", "..."}, /* … */
    {"\xe2\x80\x99", "'"},   /* ’ */
    {"\xe2\x80\x98", "'"},   /* ‘ */
    {"\xe2\x80\x9c", NULL},  /* “ */
    {"\xe2\x80\x9d", NULL},  /* ” */
    {"\xe2\x80\x93", NULL},  /* – (other() says « à » or pauses) */
    {"\xe2\x80\x94", NULL},  /* — */
    {"\xe2\x80\xa2", NULL},  /* • */
    {"\xc3\x97", "fois"},    /* × */
    {"\xe2\x86\x92", NULL},  /* → */
    {"\xc2\xa7", "paragraphe"}, /* § */
};

static size_t
symbol_len(const struct nctx *x, size_t i)
{
    for (size_t k = 0; k < GU_ARRAY_LEN(syms); k++) {
        if (at(x, i, syms[k].bytes))
            return strlen(syms[k].bytes);
    }
    return 0;
}

static void trim_out(struct nctx *x);

/* A sentence break, unless the output already ends one. */
static void
sentence_break(struct nctx *x)
{
    trim_out(x);
    if (x->b->n && x->b->p[x->b->n - 1] == ',')
        x->b->p[--x->b->n] = '\0';
    if (x->b->n && !strchr(".!?:;", x->b->p[x->b->n - 1]))
        put(x, ".");
    space(x);
}

static void
trim_out(struct nctx *x)
{
    while (x->b->n && x->b->p[x->b->n - 1] == ' ')
        x->b->p[--x->b->n] = '\0';
}

/* A short pause (brackets, a dash between words): a comma, once. */
static void
pause_here(struct nctx *x)
{
    trim_out(x);
    if (x->b->n && !strchr(".,;:!?", x->b->p[x->b->n - 1]))
        put(x, ",");
    space(x);
}

/* Sentence punctuation: no space before it, no comma left before it. */
static void
punct(struct nctx *x, char c)
{
    trim_out(x);
    if (c == ',') {
        if (x->b->n && strchr(".,;:!?", x->b->p[x->b->n - 1]))
            return;
    } else if (x->b->n && x->b->p[x->b->n - 1] == ',') {
        x->b->p[--x->b->n] = '\0';
    }
    if (x->b->n || c != ',')
        gu_buf_append(x->b, &c, 1);
}

/* The length of a space (as group_space) that ends right before b. */
static size_t
space_before(const struct nctx *x, size_t b)
{
    if (b >= 1 && group_space(x, b - 1) == 1)
        return 1;
    if (b >= 2 && group_space(x, b - 2) == 2)
        return 2;
    if (b >= 3 && group_space(x, b - 3) == 3)
        return 3;
    return 0;
}

/*
 * A dash of `len` bytes at i between two numbers or hours (9h-12h,
 * 14 h – 18 h, 2024-2025, 3-6 ans) is said « à ».
 */
static bool
range_dash(const struct nctx *x, size_t i, size_t len)
{
    size_t b = i, f = i + len, g;

    while ((g = space_before(x, b)) != 0)
        b -= g;
    if (b > 1 && (x->s[b - 1] == 'h' || x->s[b - 1] == 'H')) {
        b--;
        while ((g = space_before(x, b)) != 0)
            b -= g;
    }
    if (b == 0 || !is_digit(x->s[b - 1]))
        return false;
    while (f < x->n && (g = group_space(x, f)) != 0)
        f += g;
    return f < x->n && is_digit(x->s[f]);
}

/* ASCII symbols read as a word. */
static const struct {
    char c;
    const char *spoken;
} ascii_words[] = {
    {'&', "et"}, {'+', "plus"}, {'=', "égale"}, {'%', "pour cent"},
    {'@', "arobase"},
};

/* One byte or symbol nothing recognised: copied, spoken or dropped. */
static size_t
other(struct nctx *x, size_t i)
{
    char c = x->s[i];
    size_t l = symbol_len(x, i);

    if (at(x, i, "\xe2\x80\x93") || at(x, i, "\xe2\x80\x94")) {
        /* – and —: a range between numbers, else a pause */
        if (range_dash(x, i, 3)) {
            word(x, "à");
            space(x);
        } else {
            pause_here(x);
        }
        return 3;
    }
    if (l) {
        for (size_t k = 0; k < GU_ARRAY_LEN(syms); k++) {
            if (at(x, i, syms[k].bytes)) {
                if (syms[k].spoken && strchr(".,'", syms[k].spoken[0]))
                    put(x, syms[k].spoken);
                else if (syms[k].spoken)
                    word(x, syms[k].spoken);
                else
                    space(x);
                break;
            }
        }
        return l;
    }
    if ((unsigned char)c >= 0x80 || is_alpha_ascii(c) || is_digit(c)) {
        gu_buf_append(x->b, &c, 1);
        return 1;
    }
    for (size_t k = 0; k < GU_ARRAY_LEN(ascii_words); k++) {
        if (c == ascii_words[k].c) {
            word(x, ascii_words[k].spoken);
            space(x);
            return 1;
        }
    }
    switch (c) {
    case '\n':
    case '\r':
        sentence_break(x);
        /* a list item's dash or star at the start of a line */
        {
            size_t j = i + 1;
            while (j < x->n && (x->s[j] == ' ' || x->s[j] == '\t'))
                j++;
            if (j + 1 < x->n && strchr("-*+", x->s[j]) && x->s[j + 1] == ' ')
                return j + 2 - i;
        }
        return 1;
    case ' ':
    case '\t':
        space(x);
        return 1;
    case '/':
        /* 24h/24, 7j/7: "sur" between a number and a number */
        if (i > 0 && (is_digit(x->s[i - 1]) || x->s[i - 1] == 'h' ||
                      x->s[i - 1] == 'j') &&
            i + 1 < x->n && is_digit(x->s[i + 1])) {
            word(x, "sur");
            space(x);
        } else {
            space(x);
        }
        return 1;
    case '-':
        /* 9h-12h, 2024-2025: "à" between numbers */
        if (range_dash(x, i, 1)) {
            word(x, "à");
            space(x);
            return 1;
        }
        if (i == 0 || x->s[i - 1] == ' ' || i + 1 >= x->n ||
            x->s[i + 1] == ' ') {
            /* a dash between spaces is a pause */
            if (i > 0 && x->s[i - 1] == ' ' && i + 1 < x->n &&
                x->s[i + 1] == ' ')
                pause_here(x);
            else
                space(x);
            return 1;
        }
        gu_buf_append(x->b, &c, 1); /* compound word: rendez-vous */
        return 1;
    case '.':
        if (i > 0 && is_digit(x->s[i - 1]) && i + 1 < x->n &&
            is_digit(x->s[i + 1])) {
            word(x, "point");
            space(x);
            return 1;
        }
        /* fall through */
    case ',':
    case ';':
    case ':':
    case '!':
    case '?':
        punct(x, c);
        return 1;
    case '\'':
        trim_out(x);
        gu_buf_append(x->b, &c, 1);
        return 1;
    case '(':
    case ')':
        pause_here(x);
        return 1;
    default:
        /* markdown and other symbols: * _ # ~ ^ ` | \ { } [ ] < > " $ */
        space(x);
        return 1;
    }
}

/* Can a rule start at i? After a non-word byte; a digit run may also
 * start right after letters (CM2) and letters after digits are the
 * rules' business (14h, 1er). */
static bool
token_start(const struct nctx *x, size_t i)
{
    if (i == 0)
        return true;
    if (is_digit(x->s[i]))
        return !is_digit(x->s[i - 1]);
    return !word_before(x, i);
}

int
voice_normalize(struct gu_arena *a, const char *text, char **spoken,
                struct gu_err *err)
{
    struct gu_buf b;
    struct nctx x;
    size_t i = 0, n;
    int rc = 0;

    *spoken = NULL;
    if (!text)
        return gu_err_set(err, GU_EINVAL, "texte", "Le texte est vide.",
                          "normalize: no text");
    n = strlen(text);
    if (n > VOICE_TEXT_MAX)
        return gu_err_set(err, GU_EINVAL, "texte",
                          "Le texte dépasse 2000 octets.",
                          "normalize: %zu bytes", n);
    if (!gu_utf8_valid(text, n))
        return gu_err_set(err, GU_EINVAL, "texte",
                          "Le texte n'est pas de l'UTF-8 valide.",
                          "normalize: invalid UTF-8");
    gu_buf_init(&b);
    x.s = text;
    x.n = n;
    x.b = &b;
    while (i < n && !b.oom) {
        size_t used = 0;

        if (token_start(&x, i)) {
            bool dig = is_digit(text[i]) ||
                       (text[i] == '+' && i + 1 < n && is_digit(text[i + 1]));
            for (size_t r = 0; r < GU_ARRAY_LEN(rules) && !used; r++) {
                if (rules[r].digit == dig || !rules[r].digit)
                    used = rules[r].fn(&x, i);
            }
        }
        if (used) {
            /* words glued to what a rule said: 2x, 10kmh */
            if (i + used < n && !boundary(&x, i + used))
                space(&x);
        } else {
            used = other(&x, i);
        }
        i += used;
        if (b.n > VOICE_SPOKEN_MAX)
            break;
    }
    if (b.oom) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "normalize: oom");
        goto out;
    }
    /* bounded: cut at the last space before the limit */
    if (b.n > VOICE_SPOKEN_MAX) {
        size_t cut = VOICE_SPOKEN_MAX;

        while (cut > 0 && b.p[cut] != ' ')
            cut--;
        b.n = cut;
        b.p[cut] = '\0';
    }
    /* trim */
    {
        size_t s0 = 0, e = b.n;

        while (s0 < e && b.p && b.p[s0] == ' ')
            s0++;
        /* a pause left at the very end (a closing bracket) is dropped */
        while (e > s0 && (b.p[e - 1] == ' ' || b.p[e - 1] == ','))
            e--;
        *spoken = gu_arena_strndup(a, b.p ? b.p + s0 : "", e - s0);
    }
    if (!*spoken)
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "normalize: oom");
out:
    gu_buf_fini(&b);
    return rc;
}
