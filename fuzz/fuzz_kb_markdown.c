/*
 * fuzz_kb_markdown.c - libFuzzer target for local fiches written by
 * agents: kb_markdown_parse() (front matter, sections, bounds) and
 * kb_markdown_html() (cmark with raw HTML and unsafe links removed).
 *
 * Invariants: the parser returns 0, GU_EINVAL or GU_ETOOBIG, and a
 * refusal always carries a French message; a parsed fiche has a title,
 * at most KB_SECTIONS_MAX sections numbered 0.. in order and at most
 * KB_LINKS_MAX links with allowed URLs; the HTML never holds raw HTML
 * (script, iframe, div), a javascript: or //host link, nor an image
 * loaded from another site.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kb/kb_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Case-insensitive search for `needle` in NUL-terminated `hay`. */
static bool
has(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (const char *p = hay; *p; p++) {
        if (strncasecmp(p, needle, n) == 0)
            return true;
    }
    return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gu_arena *a = gu_arena_new(0);
    struct kb_fiche f;
    struct gu_err err;
    const char *md = (const char *)data;
    char *html;
    int rc, line = 0;

    if (!a)
        return 0;
    gu_err_clear(&err);
    rc = kb_parse(a, md, size, &f, &line, &err);
    if (rc != 0 && rc != GU_EINVAL && rc != GU_ETOOBIG && rc != GU_ENOMEM)
        abort();
    if (rc < 0 && rc != GU_ENOMEM && !err.user[0])
        abort();
    if (rc == 0) {
        if (!f.title || !f.title[0] || f.nsections > KB_SECTIONS_MAX ||
            f.nlinks > KB_LINKS_MAX || !f.description || !f.body)
            abort();
        for (size_t i = 0; i < f.nsections; i++) {
            if (f.sections[i].ord != (int)i || !f.sections[i].text[0])
                abort();
        }
        for (size_t i = 0; i < f.nlinks; i++) {
            if (!kb_url_allowed(f.links[i].url, strlen(f.links[i].url)))
                abort();
        }
    }
    html = kb_markdown_html(a, md, size);
    if (html && (has(html, "<script") || has(html, "<iframe") ||
                 has(html, "<div") || has(html, "href=\"javascript:") ||
                 has(html, "href=\"//") || has(html, "src=\"http")))
        abort();
    gu_arena_free(a);
    return 0;
}
