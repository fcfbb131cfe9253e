/*
 * kb_import_xml.c - the XML form of a co-marquage fiche (DILA's
 * "vosdroits" files: <Publication ID="F1342" xmlns:dc=...><dc:title>...).
 *
 * Only node access lives here; the walk is kb_import_walk.c, shared with
 * the JSON form. libxml2 parses without network access, without loading
 * a DTD and without substituting entities (an entity reference is simply
 * not text); its own limits bound depth and sizes. The document is
 * released with the arena, so the fiche's strings may point into it.
 */
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "kb/kb_import.h"

static enum kb_sp_kind
x_kind(const void *node)
{
    const xmlNode *n = node;

    switch (n->type) {
    case XML_ELEMENT_NODE:
        return KB_SP_ELEM;
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        return n->content ? KB_SP_TEXT : KB_SP_OTHER;
    default:
        return KB_SP_OTHER;
    }
}

/* "dc:title": the prefix as written, as in the JSON form. */
static const char *
x_name(const void *node, char *buf, size_t cap)
{
    const xmlNode *n = node;

    if (n->ns && n->ns->prefix) {
        int k = snprintf(buf, cap, "%s:%s", (const char *)n->ns->prefix,
                         (const char *)n->name);
        return k > 0 && (size_t)k < cap ? buf : "";
    }
    return (const char *)n->name;
}

static const char *
x_attr(struct gu_arena *a, const void *node, const char *key)
{
    const xmlNode *n = node;

    for (const xmlAttr *p = n->properties; p; p = p->next) {
        if (strcmp((const char *)p->name, key) != 0)
            continue;
        const xmlNode *v = p->children;
        if (!v)
            return "";
        if (v->type == XML_TEXT_NODE && !v->next && v->content)
            return (const char *)v->content;
        xmlChar *s = xmlNodeListGetString(n->doc, v, 1);
        const char *r = s ? gu_arena_strdup(a, (const char *)s) : NULL;
        xmlFree(s);
        return r;
    }
    return NULL;
}

static const char *
x_text(const void *node)
{
    const xmlNode *n = node;

    return x_kind(n) == KB_SP_TEXT ? (const char *)n->content : NULL;
}

static bool
x_first(const void *node, struct kb_sp_cur *c)
{
    const xmlNode *n = node;

    c->node = n->children;
    return c->node != NULL;
}

static bool
x_next(struct kb_sp_cur *c)
{
    const xmlNode *n = c->node;

    c->node = n->next;
    return c->node != NULL;
}

static const struct kb_sp_ops xml_ops = {
    .kind = x_kind,
    .name = x_name,
    .attr = x_attr,
    .text = x_text,
    .first = x_first,
    .next = x_next,
};

static void
free_doc(void *p)
{
    xmlFreeDoc(p);
}

int
kb_sp_parse_xml(struct gu_arena *a, const char *buf, size_t n,
                struct kb_fiche *out, struct gu_err *err)
{
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    int rc;

    memset(out, 0, sizeof(*out));
    if (n > KB_SP_FILE_MAX)
        return gu_err_set(err, GU_ETOOBIG, "fiche", "Fiche trop volumineuse.",
                          "xml fiche of %zu bytes", n);
    xmlInitParser();
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "xml: no memory");
    doc = xmlCtxtReadMemory(ctxt, buf, (int)n, "fiche.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (!doc || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char msg[160];
        snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "?");
        msg[strcspn(msg, "\n")] = '\0';
        rc = gu_err_set(err, GU_EINVAL, "fiche", "Fiche XML invalide.",
                        "xml line %d: %s", e ? e->line : 0, msg);
        xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return rc;
    }
    xmlFreeParserCtxt(ctxt);
    if (gu_arena_defer(a, free_doc, doc) < 0)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "xml: no memory");
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root)
        return gu_err_set(err, GU_EINVAL, "fiche", "Fiche XML vide.",
                          "xml: no root element");
    return kb_sp_walk(a, &xml_ops, root, out, err);
}
