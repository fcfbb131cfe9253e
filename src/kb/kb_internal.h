/*
 * kb_internal.h - what the kb files share and nobody else needs.
 */
#ifndef KB_KB_INTERNAL_H
#define KB_KB_INTERNAL_H

#include "kb/kb.h"

/*
 * kb_markdown_parse() that also says where it failed: *line (may be NULL)
 * gets the 1-based line of the error, 0 when the error is not tied to one
 * line (size, missing title).
 */
int kb_parse(struct gu_arena *a, const char *md, size_t n,
             struct kb_fiche *out, int *line, struct gu_err *err);

/*
 * Byte offset where the text after the front matter starts (0 when the
 * text has no closed front matter), so a preview can render the body of a
 * fiche whose front matter is still wrong.
 */
size_t kb_body_offset(const char *md, size_t n);

/* Is `url` allowed in a fiche: http(s)://, mailto:, tel:, or a local
 * path ("/x", "x/y", "#a", "?q"), never "//host" nor another scheme. */
bool kb_url_allowed(const char *url, size_t n);

/* "L12" -> 12; false for anything else. */
bool kb_local_id(const char *id, int64_t *out);

/* Today's day number in Europe/Paris. */
int64_t kb_today(void);

#endif
