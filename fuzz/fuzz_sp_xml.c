/*
 * fuzz_sp_xml.c - libFuzzer target for one service-public fiche in XML
 * form through kb_sp_parse_xml() and the shared walker (kb_import_walk.c).
 * The same bytes also go through the JSON reader, which the walker shares,
 * so the corpus (XML fiches and a few JSON ones) exercises both.
 *
 * Invariants: the parse returns 0, GU_EINVAL, GU_ENOTFOUND (not a
 * fiche), GU_ETOOBIG or GU_ENOMEM; an
 * error leaves the fiche zeroed; a parsed fiche respects the kb.h bounds,
 * has an id, a title, a yyyy-mm-dd date and its source URL, every string
 * is valid UTF-8, sections are numbered 0..n-1 and links have a label
 * and an http(s) URL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/kb_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s)
{
    if (!s || !gu_utf8_valid(s, strlen(s)))
        abort();
}

static void
check(int rc, const struct kb_fiche *f, const struct gu_err *err)
{
    if (rc != 0) {
        if (rc != GU_EINVAL && rc != GU_ENOTFOUND && rc != GU_ETOOBIG &&
            rc != GU_ENOMEM)
            abort();
        if (f->id || f->title || f->nsections || f->nlinks || !err->msg[0])
            abort();
        return;
    }
    check_str(f->id);
    check_str(f->title);
    check_str(f->description);
    check_str(f->body);
    check_str(f->context);
    check_str(f->tags);
    check_str(f->source_url);
    check_str(f->source_date);
    if (!kb_sp_id_valid(f->id, strlen(f->id)) || !f->title[0] ||
        strlen(f->source_date) != 10 ||
        strncmp(f->source_url, KB_SP_URL, strlen(KB_SP_URL)) != 0)
        abort();
    if (f->nsections > KB_SECTIONS_MAX || f->nlinks > KB_LINKS_MAX ||
        strlen(f->body) + strlen(f->description) > KB_BODY_MAX)
        abort();
    for (size_t i = 0; i < f->nsections; i++) {
        if (f->sections[i].ord != (int)i)
            abort();
        check_str(f->sections[i].path);
        check_str(f->sections[i].text);
        if (!f->sections[i].text[0])
            abort();
    }
    for (size_t i = 0; i < f->nlinks; i++) {
        check_str(f->links[i].label);
        check_str(f->links[i].url);
        check_str(f->links[i].target);
        if (strncmp(f->links[i].url, "http", 4) != 0 || !f->links[i].label[0])
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gu_arena *a;
    struct kb_fiche f;
    struct gu_err err;

    if (size > 256 * 1024)
        return 0;
    gu_log_set_level(GU_LOG_ERROR);
    a = gu_arena_new(0);
    if (!a)
        return 0;
    gu_err_clear(&err);
    check(kb_sp_parse_xml(a, (const char *)data, size, &f, &err), &f, &err);
    gu_err_clear(&err);
    check(kb_sp_parse_json(a, (const char *)data, size, &f, &err), &f, &err);
    gu_arena_free(a);
    return 0;
}
