/*
 * core_str.c - string views, UTF-8 validation, number parsing and growable
 * buffers.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct gu_str
gu_str_c(const char *s)
{
    struct gu_str r = {s ? s : "", s ? strlen(s) : 0};
    return r;
}

bool
gu_str_eq(struct gu_str a, struct gu_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool
gu_str_eq_c(struct gu_str a, const char *b)
{
    return gu_str_eq(a, gu_str_c(b));
}

bool
gu_str_casecmp_c(struct gu_str a, const char *b)
{
    size_t n = strlen(b);
    if (n != a.n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (tolower((unsigned char)a.p[i]) != tolower((unsigned char)b[i]))
            return false;
    }
    return true;
}

bool
gu_str_starts(struct gu_str a, const char *prefix)
{
    size_t n = strlen(prefix);
    return a.n >= n && memcmp(a.p, prefix, n) == 0;
}

struct gu_str
gu_str_trim(struct gu_str a)
{
    while (a.n && isspace((unsigned char)a.p[0])) {
        a.p++;
        a.n--;
    }
    while (a.n && isspace((unsigned char)a.p[a.n - 1]))
        a.n--;
    return a;
}

/*
 * Strict UTF-8 per RFC 3629: shortest form only, no surrogates, nothing
 * above U+10FFFF. NUL bytes are accepted here (callers that build C
 * strings reject them separately).
 */
bool
gu_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned int cp, min;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

int
gu_parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return GU_EINVAL;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end != '\0' || v < min || v > max)
        return GU_EINVAL;
    *out = v;
    return 0;
}

void
gu_buf_init(struct gu_buf *b)
{
    b->p = NULL;
    b->n = 0;
    b->cap = 0;
    b->oom = false;
}

void
gu_buf_fini(struct gu_buf *b)
{
    gu_free(b->p);
    gu_buf_init(b);
}

static int
reserve(struct gu_buf *b, size_t extra)
{
    if (b->oom)
        return GU_ENOMEM;
    if (extra > SIZE_MAX / 2 - b->n)
        goto fail;
    size_t need = b->n + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = gu_realloc(b->p, cap);
    if (!p)
        goto fail;
    b->p = p;
    b->cap = cap;
    return 0;
fail:
    b->oom = true;
    return GU_ENOMEM;
}

int
gu_buf_append(struct gu_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

int
gu_buf_puts(struct gu_buf *b, const char *s)
{
    return gu_buf_append(b, s, strlen(s));
}

int
gu_buf_printf(struct gu_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return GU_EINVAL;
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
    return 0;
}

int
gu_buf_html(struct gu_buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        if (gu_buf_append(b, s + start, i - start) || gu_buf_puts(b, rep))
            return GU_ENOMEM;
        start = i + 1;
    }
    return gu_buf_append(b, s + start, n - start);
}
