/*
 * privacy_keyed.c - linkable redaction, the communes' redaction keys and
 * the normalised forms of e-mail addresses and phone numbers.
 *
 * pii_redact_keyed() finds the same spans as pii_redact() (it plugs its
 * placeholder writer into the same loop, privacy_int.h) and appends to
 * each placeholder 32 bits of a keyed BLAKE2b of the span's normalised
 * value: « [téléphone·3f9a1c2b] ». Normalising first is what makes two
 * writings of one value link ("06 12 34 56 78", "+33 6 12 34 56 78");
 * the key (one per commune, table privacy_keys) is what keeps the tags of
 * two communes apart and a small value space (phone numbers) from being
 * enumerated by whoever reads a log.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <utf8proc.h>

#include "privacy/privacy_int.h"
#include "store/store.h"

/* A span longer than this is hashed on its first bytes only: spans are
 * short in practice (addresses are the longest), this only bounds work. */
#define NORM_MAX 512

/* ------------------------------------------------------------------ */
/* Normalisation                                                       */
/* ------------------------------------------------------------------ */

static int
lower_ascii(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int
upper_ascii(int c)
{
    return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

static bool
digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool
alnum_ascii(int c)
{
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Separators a phone number may be written with. */
static bool
phone_sep(int c)
{
    return c == ' ' || c == '.' || c == '-' || c == '/' || c == '\t' ||
           c == '(' || c == ')';
}

/*
 * Overseas departments dial as +262/+590/+594/+596 followed by the
 * national number without its 0 (9 digits): their national form is
 * then 0 + those 9 digits, like the mainland's +33.
 */
static const char *const fr_codes[] = {"33", "262", "590", "594", "596",
                                       "269"};

const char *
pii_norm_phone(struct gu_arena *a, const char *s)
{
    char d[24];
    size_t nd = 0, len;
    bool plus = false, paren0 = false;
    const char *p;

    if (!s)
        return NULL;
    len = strlen(s);
    if (len > 64)
        return NULL;
    for (p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;

        /* "+33...", "(+33) ..." */
        if (c == '+' && nd == 0 && !plus) {
            plus = true;
            continue;
        }

        /* "+33 (0)6 ...": the trunk 0 in brackets is not dialled */
        if (c == '(' && p[1] == '0' && p[2] == ')' && plus && !paren0) {
            paren0 = true;
            p += 2;
            continue;
        }
        /* no-break and thin spaces (U+00A0, U+202F) */
        if (c == 0xC2 && (unsigned char)p[1] == 0xA0) {
            p++;
            continue;
        }
        if (c == 0xE2 && (unsigned char)p[1] == 0x80 &&
            (unsigned char)p[2] == 0xAF) {
            p += 2;
            continue;
        }
        if (phone_sep(c))
            continue;
        if (!digit(c) || nd + 1 >= sizeof(d))
            return NULL;
        d[nd++] = (char)c;
    }
    d[nd] = '\0';
    /* "0033 6 12 ..." is "+33 6 12 ..." */
    if (!plus && nd > 2 && d[0] == '0' && d[1] == '0') {
        memmove(d, d + 2, nd - 1);
        nd -= 2;
        plus = true;
    }
    if (!plus) {
        if (nd == 10 && d[0] == '0' && d[1] != '0')
            return gu_arena_strndup(a, d, nd);
        return NULL;
    }
    for (size_t k = 0; k < GU_ARRAY_LEN(fr_codes); k++) {
        size_t cl = strlen(fr_codes[k]);

        size_t skip;
        char out[11];

        if (memcmp(d, fr_codes[k], cl) != 0 || nd < cl + 9)
            continue;
        /* "+33 06 12 34 56 78", a common slip, is unambiguous too */
        skip = nd == cl + 10 && d[cl] == '0' ? 1 : 0;
        if (nd == cl + 9 + skip && d[cl + skip] != '0') {
            out[0] = '0';
            memcpy(out + 1, d + cl + skip, 9);
            out[10] = '\0';
            return gu_arena_strndup(a, out, 10);
        }
    }
    /* Another country's number: its E.164 form ("+4930123456"). A
     * French code with the wrong length is no number at all. */
    if (nd >= 8 && nd <= 15 && d[0] != '0' && !(d[0] == '3' && d[1] == '3'))
        return gu_arena_sprintf(a, "+%s", d);
    return NULL;
}

const char *
pii_norm_email(struct gu_arena *a, const char *s)
{
    size_t b, e, at = 0, ats = 0;
    char *out;

    if (!s)
        return NULL;
    e = strlen(s);
    if (e > 1024)
        return NULL;
    b = 0;
    while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' ||
                     s[b] == '\n'))
        b++;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' ||
                     s[e - 1] == '\r' || s[e - 1] == '\n'))
        e--;
    /* "mailto:" and angle brackets as pasted from a mail client */
    if (e - b > 7 && strncasecmp(s + b, "mailto:", 7) == 0)
        b += 7;
    if (e - b >= 2 && s[b] == '<' && s[e - 1] == '>') {
        b++;
        e--;
    }
    if (e - b < 3 || e - b > 254)
        return NULL;
    for (size_t i = b; i < e; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= ' ' || c == 0x7F || c == '<' || c == '>' || c == '(' ||
            c == ')' || c == ',' || c == ';' || c == ':' || c == '"' ||
            c == '\\' || c == '[' || c == ']')
            return NULL;
        if (c == '@') {
            at = i;
            ats++;
        }
    }
    if (ats != 1 || at == b || at + 1 >= e || at - b > 64)
        return NULL;
    /* the domain: labels separated by single dots, a dot somewhere */
    if (s[at + 1] == '.' || s[e - 1] == '.' || !memchr(s + at + 1, '.',
                                                       e - at - 1))
        return NULL;
    for (size_t i = at + 1; i + 1 < e; i++)
        if (s[i] == '.' && s[i + 1] == '.')
            return NULL;
    if (s[b] == '.' || s[at - 1] == '.')
        return NULL;
    out = gu_arena_strndup(a, s + b, e - b);
    if (!out)
        return NULL;
    for (char *q = out; *q; q++)
        *q = (char)lower_ascii((unsigned char)*q);
    return out;
}

/* Bytes of v[0..n) with ASCII letters and digits only, uppercased. */
static size_t
norm_alnum(const char *v, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n && o < cap; i++)
        if (alnum_ascii((unsigned char)v[i]))
            out[o++] = (char)upper_ascii((unsigned char)v[i]);
    return o;
}

/*
 * An e-mail address as the scanner found it, obfuscations included
 * ("marie point dupont arobase gmail [dot] com"): lowercased, the words
 * for '@' and '.' turned into the characters, spaces and brackets gone.
 */
static size_t
norm_email_span(const char *v, size_t n, char *out, size_t cap)
{
    static const struct {
        const char *w;
        char c;
    } words[] = {{"at", '@'},    {"arobase", '@'}, {"arobas", '@'},
                 {"point", '.'}, {"dot", '.'}};
    size_t o = 0, i = 0;

    while (i < n && o < cap) {
        size_t j = i;
        unsigned char c = (unsigned char)v[i];

        if (c == ' ' || c == '(' || c == ')' || c == '[' || c == ']' ||
            c == '{' || c == '}') {
            i++;
            continue;
        }
        if (c == 0xEF && i + 2 < n && (unsigned char)v[i + 1] == 0xBC &&
            (unsigned char)v[i + 2] == 0xA0) { /* full-width '@' */
            out[o++] = '@';
            i += 3;
            continue;
        }
        while (j < n && v[j] != ' ' && v[j] != '(' && v[j] != ')' &&
               v[j] != '[' && v[j] != ']' && v[j] != '{' && v[j] != '}')
            j++;
        /* a whole token spelling '@' or '.' */
        for (size_t k = 0; k < GU_ARRAY_LEN(words); k++) {
            size_t l = strlen(words[k].w);

            if (j - i == l && strncasecmp(v + i, words[k].w, l) == 0) {
                out[o++] = words[k].c;
                goto next;
            }
        }
        for (; i < j && o < cap; i++)
            out[o++] = (char)lower_ascii((unsigned char)v[i]);
    next:
        i = j;
    }
    return o;
}

static const char *const month_names[] = {
    "janvier", "fevrier", "mars",      "avril",   "mai",      "juin",
    "juillet", "aout",    "septembre", "octobre", "novembre", "decembre"};

/*
 * Case-folded, accents stripped (utf8proc), every run of anything but
 * letters and digits one space. Names and addresses: « DUPONT-Lefèvre »
 * and « dupont lefevre » are one value.
 */
static size_t
norm_words(const char *v, size_t n, char *out, size_t cap)
{
    utf8proc_uint8_t *f = NULL;
    utf8proc_ssize_t fl;
    size_t o = 0;
    bool space = false;

    fl = utf8proc_map((const utf8proc_uint8_t *)v, (utf8proc_ssize_t)n, &f,
                      UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                          UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);
    if (fl < 0) { /* invalid UTF-8: the bytes, ASCII-folded */
        for (size_t i = 0; i < n && o < cap; i++)
            out[o++] = (char)lower_ascii((unsigned char)v[i]);
        return o;
    }
    for (utf8proc_ssize_t i = 0; i < fl && o < cap; i++) {
        unsigned char c = f[i];

        if (c < 0x80 && !alnum_ascii(c)) {
            space = o > 0;
            continue;
        }
        if (space && o + 1 < cap)
            out[o++] = ' ';
        space = false;
        out[o++] = (char)c;
    }
    free(f);
    return o;
}

/* A date as day/month/year numbers ("12 mars 1980" = "12/03/1980"). */
static size_t
norm_date(const char *v, size_t n, char *out, size_t cap)
{
    char w[NORM_MAX];
    size_t wl = norm_words(v, n, w, sizeof(w)), i = 0, o = 0;

    while (i < wl) {
        size_t j = i;
        long num = -1;

        while (j < wl && w[j] != ' ')
            j++;
        if (digit((unsigned char)w[i])) {
            num = 0;
            for (size_t k = i; k < j && digit((unsigned char)w[k]) &&
                               num < 100000;
                 k++)
                num = num * 10 + (w[k] - '0');
        } else {
            for (size_t k = 0; k < GU_ARRAY_LEN(month_names); k++)
                if (strlen(month_names[k]) == j - i &&
                    memcmp(w + i, month_names[k], j - i) == 0)
                    num = (long)k + 1;
        }
        if (num >= 0 && o + 8 < cap) {
            int l = snprintf(out + o, cap - o, "%s%ld", o ? "/" : "", num);

            if (l > 0)
                o += (size_t)l;
        }
        i = j + 1;
    }
    return o;
}

/* The normalised value of a span of `kind` into out[0..cap). */
static size_t
norm_value(enum pii_kind kind, const char *v, size_t n, char *out,
           size_t cap)
{
    char tmp[72];

    if (n > NORM_MAX)
        n = NORM_MAX;
    switch (kind) {
    case PII_EMAIL:
        return norm_email_span(v, n, out, cap);
    case PII_PHONE:
        if (n < sizeof(tmp)) {
            struct gu_arena *a;
            const char *p = NULL;
            size_t l = 0;

            memcpy(tmp, v, n);
            tmp[n] = '\0';
            a = gu_arena_new(256);
            if (a && (p = pii_norm_phone(a, tmp)) != NULL) {
                l = strlen(p);
                if (l > cap)
                    l = cap;
                memcpy(out, p, l);
            }
            gu_arena_free(a);
            if (p)
                return l;
        }
        return norm_alnum(v, n, out, cap);
    case PII_NAME:
    case PII_ADDRESS:
        return norm_words(v, n, out, cap);
    case PII_BIRTHDATE:
        return norm_date(v, n, out, cap);
    default:
        /* numbers, IBAN, plates, identity documents: the characters that
         * carry the value, whatever the grouping ("AB-123-CD", "ab 123
         * cd"; "FR76 3000..." and "fr7630000...") */
        return norm_alnum(v, n, out, cap);
    }
}

/* ------------------------------------------------------------------ */
/* Keyed redaction                                                     */
/* ------------------------------------------------------------------ */

static void
tag_keyed(const void *ctx, enum pii_kind kind, const char *v, size_t n,
          struct gu_buf *b)
{
    const unsigned char *key = ctx;
    const char *ph = pii_placeholder(kind);
    const char *kn = pii_kind_name(kind);
    char norm[NORM_MAX + 8];
    unsigned char h[crypto_generichash_BYTES_MIN];
    crypto_generichash_state st;
    char hex[PII_TAG_HEX + 1];
    size_t nl = norm_value(kind, v, n, norm, sizeof(norm));

    /* the kind is part of the input: a SIREN and a number with the same
     * digits are two values */
    crypto_generichash_init(&st, key, PII_KEY_BYTES, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)kn, strlen(kn) + 1);
    crypto_generichash_update(&st, (const unsigned char *)norm, nl);
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_bin2hex(hex, sizeof(hex), h, PII_TAG_HEX / 2);
    gu_buf_append(b, ph, strlen(ph) - 1); /* without its ']' */
    gu_buf_puts(b, PII_TAG_SEP);
    gu_buf_append(b, hex, PII_TAG_HEX);
    gu_buf_puts(b, "]");
}

char *
pii_redact_keyed(struct gu_arena *a, const char *s, size_t n,
                 const unsigned char key[PII_KEY_BYTES], unsigned *kinds)
{
    return pii_redact_with(a, s, n, kinds, key ? tag_keyed : NULL, key);
}

/* ------------------------------------------------------------------ */
/* The communes' keys                                                  */
/* ------------------------------------------------------------------ */

static const char v1_keys[] =
    "CREATE TABLE privacy_keys (\n"
    "  insee TEXT PRIMARY KEY REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  key BLOB NOT NULL,\n"
    "  created_at BIGINT NOT NULL DEFAULT ($NOW)\n"
    ");\n";

static const struct store_migration migrations[] = {
    {"privacy", 1, v1_keys},
};

const struct store_migration *
privacy_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(migrations);
    return migrations;
}

static int
key_read(struct store_conn *c, const char *insee,
         unsigned char key[PII_KEY_BYTES], bool *found, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(512);
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(insee)};
    int rc;

    *found = false;
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "privacy: no memory");
    rc = store_query(c, a, "SELECT key FROM privacy_keys WHERE insee = ?", p,
                     1, &r, err);
    if (rc == 0 && r->nrows == 1) {
        const struct store_val *v = store_cell(r, 0, 0);

        if (!v || v->type != STORE_BLOB || v->n != PII_KEY_BYTES) {
            rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                            "privacy: key of %s is malformed", insee);
        } else {
            memcpy(key, v->s, PII_KEY_BYTES);
            *found = true;
        }
    }
    gu_arena_free(a);
    return rc;
}

int
pii_commune_key(struct store_conn *c, const char *insee,
                unsigned char key[PII_KEY_BYTES], struct gu_err *err)
{
    unsigned char fresh[PII_KEY_BYTES];
    bool found = false;
    int rc;

    if (!insee || !store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "insee", "Commune invalide.",
                          "privacy: bad insee");
    rc = key_read(c, insee, key, &found, err);
    if (rc < 0 || found)
        return rc;
    /* First use. Two processes may get here at once: both insert, one
     * wins, and both read the winner's key back. */
    randombytes_buf(fresh, sizeof(fresh));
    {
        struct store_val p[] = {STORE_T(insee),
                                STORE_B((const char *)fresh, sizeof(fresh)),
                                STORE_I(time(NULL))};

        rc = store_exec(c,
                        "INSERT INTO privacy_keys (insee, key, created_at) "
                        "VALUES (?, ?, ?) ON CONFLICT (insee) DO NOTHING",
                        p, 3, err);
    }
    sodium_memzero(fresh, sizeof(fresh));
    if (rc == GU_ECONFLICT) /* the foreign key: no such commune */
        return gu_err_set(err, GU_ENOTFOUND, "insee", "Commune inconnue.",
                          "privacy: no commune %s", insee);
    if (rc < 0)
        return rc;
    rc = key_read(c, insee, key, &found, err);
    if (rc == 0 && !found)
        rc = gu_err_set(err, GU_ENOTFOUND, "insee", "Commune inconnue.",
                        "privacy: no key for %s", insee);
    return rc;
}
