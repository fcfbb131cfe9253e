/*
 * tri_mail.c - the e-mail import of the request inbox: one RFC 5322
 * message, a Maildir, an mbox file, or an IMAP mailbox (libcurl).
 *
 * Parsing is GMime 3's: multipart, quoted-printable, base64, RFC 2047
 * headers and charsets (ISO-8859-1, Windows-1252, UTF-8...) all end as
 * UTF-8 here. The text comes from the first text/plain part, else from
 * the HTML part turned into text (libxml2's forgiving HTML parser).
 * Attachments the inbox keeps (JPEG, PNG, PDF, WAV: tri_attach_store)
 * are handed over, bounded in count and size; the others are named in a
 * note at the end of the text so that the agent knows they existed.
 *
 * What happens to a message:
 *   - already imported (tri_mail_seen: its Message-ID, or the SHA-256 of
 *     its bytes when it has none) -> skipped;
 *   - an auto-reply (Auto-Submitted, X-Autoreply, Precedence: bulk,
 *     « Réponse automatique »...), a bounce (multipart/report,
 *     MAILER-DAEMON, null Return-Path) or our own sender -> skipped;
 *   - a reply: In-Reply-To / References naming a message of a request
 *     (tri_messages.mail_message_id, or an imported e-mail of it in
 *     tri_mail_seen), or « [Demande 2026-00042] » in the subject when the
 *     sender is the request's own contact -> tri_message_add() on that
 *     request, its quoted text and signature moved below a marker line
 *     (MAIL_QUOTE_MARK) instead of being lost;
 *   - anything else -> tri_intake(), channel "courriel".
 * Every message that was handled, or deliberately skipped, is recorded
 * in tri_mail_seen, so a second run imports nothing twice. A message
 * that fails (unusable, refused by the intake) is not recorded: it stays
 * where it was (new/ of the Maildir, unread on the IMAP server) for a
 * person to look at, and is counted as failed.
 *
 * Logs carry counts, sizes and the source id, never addresses, subjects
 * or text.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <libxml/HTMLparser.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "triage/tri.h"

#define MAIL_REFS_MAX 20       /* Message-IDs of a reply looked up */
#define MAIL_MSGID_MAX 250     /* longer ones are treated as absent */
#define MAIL_NOTE_MAX 1500     /* note on attachments not kept */
#define MAIL_DIR_MAX 100000    /* files of one Maildir run */
#define MAIL_QUOTE_MARK "-------- Texte cité --------"

/* ------------------------------------------------------------------ */
/* Small text helpers                                                  */
/* ------------------------------------------------------------------ */

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void
gmime_start(void)
{
    g_mime_init();
}

void
tri_gmime_init(void)
{
    pthread_once(&gmime_once, gmime_start);
}

/* Length of the valid UTF-8 sequence at p (0 when invalid). */
static size_t
u8_seq(const unsigned char *p, size_t left)
{
    size_t n;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        n = 3;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4;
    else
        return 0;
    if (n > left)
        return 0;
    return gu_utf8_valid((const char *)p, n) ? n : 0;
}

/*
 * Clean text for the inbox: valid UTF-8 (U+FFFD for bad bytes), LF line
 * ends, no control characters but LF and TAB (others become spaces; in
 * `one_line` mode LF and TAB too), trailing blanks of each line removed,
 * at most two empty lines in a row, trimmed. Cut at `max` bytes on a
 * character boundary with a French mark when longer.
 */
static char *
text_clean(struct gu_arena *a, const char *s, size_t n, size_t max,
           bool one_line)
{
    struct gu_buf b;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, blank = 0;
    char *out;

    gu_buf_init(&b);
    while (i < n) {
        unsigned char c = p[i];
        size_t k;

        if (c == '\r') {
            i++;
            if (i < n && p[i] == '\n')
                continue;
            c = '\n';
        } else {
            k = u8_seq(p + i, n - i);
            if (k == 0) {
                gu_buf_puts(&b, "\xEF\xBF\xBD");
                i++;
                continue;
            }
            if (k > 1) {
                /* C1 controls are noise; a no-break space is a space
                 * for everything downstream (search, classifier) */
                if (p[i] == 0xC2 && p[i + 1] <= 0xA0)
                    gu_buf_puts(&b, " ");
                else
                    gu_buf_append(&b, p + i, k);
                blank = 0;
                i += k;
                continue;
            }
            i++;
        }
        if (c == '\n' && !one_line) {
            /* trailing blanks go; three line ends in a row at most */
            while (b.n > 0 && (b.p[b.n - 1] == ' ' || b.p[b.n - 1] == '\t'))
                b.p[--b.n] = '\0';
            if (++blank > 3)
                continue;
            gu_buf_puts(&b, "\n");
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            c = (c == '\t' && !one_line) ? '\t' : ' ';
        if (one_line && c == ' ' && b.n > 0 && b.p[b.n - 1] == ' ')
            continue;
        if (c != ' ' && c != '\t')
            blank = 0;
        gu_buf_append(&b, &c, 1);
    }
    if (b.oom) {
        gu_buf_fini(&b);
        return NULL;
    }
    {
        struct gu_str t = gu_str_trim((struct gu_str){b.p ? b.p : "", b.n});
        static const char cut[] = "\n[…] (texte tronqué à l'import)";
        size_t keep = t.n;

        if (keep > max) {
            size_t room = one_line ? max : max - (sizeof(cut) - 1);

            keep = room;
            while (keep > 0 && ((unsigned char)t.p[keep] & 0xC0) == 0x80)
                keep--;
            out = gu_arena_alloc(a, keep + sizeof(cut));
            if (out) {
                memcpy(out, t.p, keep);
                if (one_line)
                    out[keep] = '\0';
                else
                    memcpy(out + keep, cut, sizeof(cut));
            }
        } else {
            out = gu_arena_strndup(a, t.p, keep);
        }
    }
    gu_buf_fini(&b);
    return out;
}

/* ASCII case-insensitive prefix test. */
static bool
starts_ci(const char *s, const char *prefix)
{
    return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* ------------------------------------------------------------------ */
/* HTML to text (libxml2)                                              */
/* ------------------------------------------------------------------ */

static bool
html_block(const char *name)
{
    static const char *const blocks[] = {
        "p",  "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5",
        "h6", "ul",  "ol", "table", "blockquote", "pre", "hr", "dd",
        "dt", "section", "article", "header", "footer", "address"};

    for (size_t i = 0; i < GU_ARRAY_LEN(blocks); i++)
        if (strcasecmp(name, blocks[i]) == 0)
            return true;
    return false;
}

static void
html_walk(xmlNode *n, struct gu_buf *b, int depth)
{
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            const char *t = (const char *)n->content;

            /* runs of whitespace in HTML text are one space */
            for (; t && *t; t++) {
                bool sp = *t == ' ' || *t == '\n' || *t == '\r' || *t == '\t';

                if (sp) {
                    if (b->n > 0 && b->p[b->n - 1] != ' ' &&
                        b->p[b->n - 1] != '\n')
                        gu_buf_puts(b, " ");
                } else {
                    gu_buf_append(b, t, 1);
                }
            }
            continue;
        }
        if (n->type != XML_ELEMENT_NODE || depth > 200)
            continue;
        {
            const char *name = (const char *)n->name;
            bool block = html_block(name);

            if (strcasecmp(name, "script") == 0 ||
                strcasecmp(name, "style") == 0 ||
                strcasecmp(name, "head") == 0 ||
                strcasecmp(name, "title") == 0)
                continue;
            if (block && b->n > 0 && b->p[b->n - 1] != '\n')
                gu_buf_puts(b, "\n");
            size_t start;

            if (strcasecmp(name, "li") == 0)
                gu_buf_puts(b, "- ");
            if (strcasecmp(name, "blockquote") == 0)
                gu_buf_puts(b, "> ");
            start = b->n;
            html_walk(n->children, b, depth + 1);
            if (strcasecmp(name, "a") == 0) {
                xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
                size_t hl = href ? strlen((const char *)href) : 0;

                /* keep a link's target when it is not its own text */
                if (href && strncmp((const char *)href, "http", 4) == 0 &&
                    hl < 500 &&
                    !(b->n - start >= hl && b->p &&
                      memmem(b->p + start, b->n - start, href, hl)))
                    gu_buf_printf(b, " (%s)", (const char *)href);
                xmlFree(href);
            }
            if (block && (strcasecmp(name, "p") == 0 ||
                          strncasecmp(name, "h", 1) == 0))
                gu_buf_puts(b, "\n");
            if (block && b->n > 0 && b->p[b->n - 1] != '\n')
                gu_buf_puts(b, "\n");
        }
    }
}

/* The text of an HTML document (UTF-8 in and out), in the arena. */
static char *
html_to_text(struct gu_arena *a, const char *html, size_t n)
{
    htmlDocPtr doc;
    struct gu_buf b;
    char *out = NULL;

    if (n > INT32_MAX)
        return NULL;
    doc = htmlReadMemory(html, (int)n, NULL, "UTF-8",
                         HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                             HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    if (!doc)
        return gu_arena_strdup(a, "");
    gu_buf_init(&b);
    html_walk(xmlDocGetRootElement(doc), &b, 0);
    xmlFreeDoc(doc);
    if (!b.oom)
        out = gu_arena_strndup(a, b.p ? b.p : "", b.n);
    gu_buf_fini(&b);
    return out;
}

/* ------------------------------------------------------------------ */
/* Parsing one message with GMime                                      */
/* ------------------------------------------------------------------ */

enum mail_kind { MAIL_NORMAL = 0, MAIL_AUTO, MAIL_BOUNCE, MAIL_OWN };

struct parsed {
    const char *key;        /* tri_mail_seen key: "<id>" or "sha256:..." */
    const char *msgid;      /* "<id>" or "" when the message has none */
    const char *subject;    /* one line, UTF-8, <= TRI_SUBJECT_MAX */
    const char *from_addr;  /* lowercased, "" when none or invalid */
    const char *from_name;  /* "" */
    const char *refs[MAIL_REFS_MAX]; /* "<id>", most relevant first */
    size_t nrefs;
    const char *text;       /* the body text, UTF-8, not yet bounded */
    bool from_html;
    struct tri_attach_in att[TRI_ATTACH_MAX];
    size_t natt;
    struct gu_buf dropped;  /* names of attachments not kept */
    size_t ndropped;
    enum mail_kind kind;
};

/* Is s (without its angle brackets) a Message-ID we can store, compare
 * and send back in In-Reply-To: printable ASCII, no space or special,
 * one '@' at most and not at an end (notify_msgid_valid's rules)? */
static bool
msgid_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0, ats = 0;

    if (n < 1 || n > MAIL_MSGID_MAX - 2 || s[0] == '@' || s[n - 1] == '@')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c >= 0x7f || strchr("<>\\\"(),;:[]", c))
            return false;
        ats += c == '@';
    }
    return ats <= 1;
}

/* A sender's address we accept as a contact: ASCII local@domain.tld. */
static bool
addr_ok(const char *s)
{
    const char *at = s ? strrchr(s, '@') : NULL;
    size_t n = s ? strlen(s) : 0;

    if (!at || at == s || n > 254 || !strchr(at, '.') || at[1] == '.' ||
        s[n - 1] == '.')
        return false;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c <= 0x20 || c >= 0x7f || strchr("()<>[]\\,;:\"", c) ||
            (c == '@' && p != at))
            return false;
    }
    return true;
}

/* Magic bytes of the attachment types the inbox keeps. */
static const char *
att_type(const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "image/jpeg";
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 5 && memcmp(p, "%PDF-", 5) == 0)
        return "application/pdf";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0)
        return "audio/wav";
    return NULL;
}

/* Decoded bytes of a leaf part (transfer encoding undone), in `a`. */
static int
part_bytes(struct gu_arena *a, GMimePart *part, const char **out, size_t *n)
{
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    GMimeStream *mem;
    GByteArray *ba;
    int rc = 0;

    *out = "";
    *n = 0;
    if (!w)
        return 0;
    mem = g_mime_stream_mem_new();
    if (g_mime_data_wrapper_write_to_stream(w, mem) < 0) {
        g_object_unref(mem);
        return GU_EINVAL;
    }
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    if (ba->len > TRI_MAIL_BYTES) {
        rc = GU_ETOOBIG;
    } else {
        char *p = gu_arena_alloc(a, ba->len + 1);

        if (!p) {
            rc = GU_ENOMEM;
        } else {
            if (ba->len)
                memcpy(p, ba->data, ba->len);
            p[ba->len] = '\0';
            *out = p;
            *n = ba->len;
        }
    }
    g_object_unref(mem);
    return rc;
}

/* Any byte in the C1 control range? (ISO-8859-1 text never uses
 * 0x80-0x9F; Windows-1252 puts €, œ, ’, … there.) */
static bool
has_c1(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80 && (unsigned char)p[i] <= 0x9F)
            return true;
    return false;
}

/*
 * A text part's bytes to UTF-8 by its charset: UTF-8 kept when valid;
 * ISO-8859-1 and US-ASCII read as Windows-1252 (its superset, which mail
 * clients send under those names); an unknown or wrong charset falls
 * back to UTF-8 when valid, else Windows-1252.
 */
static const char *
to_utf8(struct gu_arena *a, const char *p, size_t n, const char *charset)
{
    const char *cs = charset ? g_mime_charset_canon_name(charset) : NULL;
    gchar *conv = NULL;
    gsize outn = 0;
    const char *out;

    if ((!cs || strcasecmp(cs, "utf-8") == 0 ||
         strcasecmp(cs, "us-ascii") == 0) &&
        gu_utf8_valid(p, n))
        return gu_arena_strndup(a, p, n);
    if (cs && (strcasecmp(cs, "iso-8859-1") == 0 ||
               strcasecmp(cs, "us-ascii") == 0) &&
        has_c1(p, n))
        cs = "windows-1252";
    if (cs && strcasecmp(cs, "utf-8") != 0)
        conv = g_convert(p, (gssize)n, "UTF-8", cs, NULL, &outn, NULL);
    if (!conv)
        conv = g_convert(p, (gssize)n, "UTF-8", "windows-1252", NULL, &outn,
                         NULL);
    if (!conv) /* undefined Windows-1252 bytes: Latin-1 never fails */
        conv = g_convert(p, (gssize)n, "UTF-8", "iso-8859-1", NULL, &outn,
                         NULL);
    if (!conv)
        return gu_arena_strndup(a, p, n); /* cleaned later (U+FFFD) */
    out = gu_arena_strndup(a, conv, outn);
    g_free(conv);
    return out;
}

struct walk {
    struct gu_arena *a;
    struct parsed *m;
    const char *plain, *html; /* first of each, UTF-8 */
    int depth;
    int rc;
};

static void
note_dropped(struct parsed *m, const char *name, const char *why)
{
    m->ndropped++;
    if (m->dropped.n > MAIL_NOTE_MAX)
        return;
    gu_buf_printf(&m->dropped, "\n- %s (%s)", name && *name ? name : "sans nom",
                  why);
}

static void walk_object(struct walk *w, GMimeObject *o);

static void
walk_part(struct walk *w, GMimePart *part)
{
    GMimeObject *o = GMIME_OBJECT(part);
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    const char *fname = g_mime_part_get_filename(part);
    bool attach = g_mime_part_is_attachment(part) || (fname && *fname);
    const char *bytes;
    size_t n;
    int rc;

    if (!attach && ct && g_mime_content_type_is_type(ct, "text", "*")) {
        const char *sub = g_mime_content_type_get_media_subtype(ct);
        bool plain = sub && strcasecmp(sub, "plain") == 0;
        bool html = sub && strcasecmp(sub, "html") == 0;

        if (plain || html) {
            const char **slot = plain ? &w->plain : &w->html;

            rc = part_bytes(w->a, part, &bytes, &n);
            if (rc < 0) {
                w->rc = rc;
                return;
            }
            bytes = to_utf8(w->a, bytes, n,
                            g_mime_object_get_content_type_parameter(
                                o, "charset"));
            /* text split around inline pictures comes in several
             * parts: they follow each other (an alternative holds one of
             * each kind, so nothing is doubled) */
            if (bytes && *slot)
                bytes = gu_arena_sprintf(w->a, "%s\n%s", *slot, bytes);
            if (!bytes) {
                w->rc = GU_ENOMEM;
                return;
            }
            *slot = bytes;
            return;
        }
    }
    /* an attachment, or an inline part we cannot show as text */
    {
        const char *type;
        struct tri_attach_in *at;
        char *name;

        if (!fname || !*fname)
            fname = ct && g_mime_content_type_is_type(ct, "image", "*")
                        ? "image"
                        : "piece-jointe";
        name = text_clean(w->a, fname, strlen(fname), 120, true);
        if (!name) {
            w->rc = GU_ENOMEM;
            return;
        }
        rc = part_bytes(w->a, part, &bytes, &n);
        if (rc == GU_ENOMEM) {
            w->rc = rc;
            return;
        }
        if (rc < 0 || n > TRI_ATTACH_BYTES) {
            note_dropped(w->m, name, "trop volumineux");
            return;
        }
        if (n == 0)
            return;
        type = att_type((const unsigned char *)bytes, n);
        if (!type) {
            note_dropped(w->m, name, "format non conservé");
            return;
        }
        if (w->m->natt >= TRI_ATTACH_MAX) {
            note_dropped(w->m, name, "trop de pièces jointes");
            return;
        }
        at = &w->m->att[w->m->natt++];
        at->filename = name;
        at->ctype = type;
        at->data = bytes;
        at->size = n;
    }
}

static void
walk_object(struct walk *w, GMimeObject *o)
{
    if (w->rc < 0 || !o)
        return;
    if (w->depth > 20) { /* nesting bomb: the rest is not looked at */
        note_dropped(w->m, "parties imbriquées", "trop profondes");
        return;
    }
    w->depth++;
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int count = g_mime_multipart_get_count(mp);

        for (int i = 0; i < count && i < 200 && w->rc == 0; i++)
            walk_object(w, g_mime_multipart_get_part(mp, i));
    } else if (GMIME_IS_MESSAGE_PART(o)) {
        /* a forwarded message: its text and attachments count too */
        GMimeMessage *inner =
            g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));

        if (inner)
            walk_object(w, g_mime_message_get_mime_part(inner));
    } else if (GMIME_IS_PART(o)) {
        walk_part(w, GMIME_PART(o));
    }
    w->depth--;
}

/* Trimmed, lowercased value of a header, or NULL. */
static const char *
hdr(struct gu_arena *a, GMimeObject *o, const char *name)
{
    const char *v = g_mime_object_get_header(o, name);
    struct gu_str t;
    char *out;

    if (!v)
        return NULL;
    t = gu_str_trim(gu_str_c(v));
    out = gu_arena_strndup(a, t.p, t.n > 200 ? 200 : t.n);
    for (char *p = out; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* Auto-replies (RFC 3834 and the usual vendor headers and subjects). */
static bool
is_auto(struct gu_arena *a, GMimeObject *o, const char *subject)
{
    static const char *const subjects[] = {
        "réponse automatique", "reponse automatique", "re: réponse automatique",
        "absence du bureau", "absent du bureau", "auto:",
        "automatic reply", "autoreply", "auto-reply", "out of office",
        "message d'absence", "absence :", "absence:"};
    const char *v = hdr(a, o, "Auto-Submitted");

    if (v && !starts_ci(v, "no"))
        return true;
    if (g_mime_object_get_header(o, "X-Autoreply") ||
        g_mime_object_get_header(o, "X-Autorespond") ||
        g_mime_object_get_header(o, "X-Autoresponder"))
        return true;
    v = hdr(a, o, "Precedence");
    if (v && (strcmp(v, "bulk") == 0 || strcmp(v, "junk") == 0 ||
              strcmp(v, "list") == 0 || strcmp(v, "auto_reply") == 0))
        return true;
    for (size_t i = 0; i < GU_ARRAY_LEN(subjects); i++)
        if (starts_ci(subject, subjects[i]))
            return true;
    /* "Réponse automatique" also comes in capitals: fold the É */
    if (starts_ci(subject, "RÉPONSE AUTOMATIQUE"))
        return true;
    return false;
}

/* Non-delivery reports. */
static bool
is_bounce(struct gu_arena *a, GMimeMessage *msg, const char *from_addr,
          const char *subject)
{
    static const char *const subjects[] = {
        "undelivered mail", "undeliverable", "delivery status notification",
        "mail delivery failed", "mail delivery failure", "returned mail",
        "non remis", "échec de la remise", "echec de la remise",
        "message non délivré", "delivery failure", "failure notice"};
    GMimeObject *o = GMIME_OBJECT(msg);
    GMimeObject *body = g_mime_message_get_mime_part(msg);
    const char *rp = hdr(a, o, "Return-Path");

    if (body) {
        GMimeContentType *ct = g_mime_object_get_content_type(body);

        if (ct && g_mime_content_type_is_type(ct, "multipart", "report"))
            return true;
    }
    if (rp && strcmp(rp, "<>") == 0)
        return true;
    if (starts_ci(from_addr, "mailer-daemon@") ||
        starts_ci(from_addr, "postmaster@"))
        return true;
    for (size_t i = 0; i < GU_ARRAY_LEN(subjects); i++)
        if (starts_ci(subject, subjects[i]))
            return true;
    return false;
}

static void
add_ref(struct parsed *m, struct gu_arena *a, const char *id)
{
    const char *full;

    if (!msgid_ok(id) || m->nrefs >= MAIL_REFS_MAX)
        return;
    full = gu_arena_sprintf(a, "<%s>", id);
    if (!full)
        return;
    for (size_t i = 0; i < m->nrefs; i++)
        if (strcmp(m->refs[i], full) == 0)
            return;
    m->refs[m->nrefs++] = full;
}

/* In-Reply-To first, then References from the most recent. */
static void
collect_refs(struct parsed *m, struct gu_arena *a, GMimeObject *o,
             GMimeParserOptions *opts)
{
    const char *names[] = {"In-Reply-To", "References"};

    for (size_t k = 0; k < 2; k++) {
        const char *v = g_mime_object_get_header(o, names[k]);
        GMimeReferences *refs;
        int n;

        if (!v || strlen(v) > 20000)
            continue;
        refs = g_mime_references_parse(opts, v);
        if (!refs)
            continue;
        n = g_mime_references_length(refs);
        for (int i = n - 1; i >= 0; i--)
            add_ref(m, a, g_mime_references_get_message_id(refs, i));
        g_mime_references_free(refs);
    }
}

/* The key of a message with no usable Message-ID: its bytes' digest. */
static const char *
hash_key(struct gu_arena *a, const void *msg, size_t n)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * sizeof(h) + 1];

    crypto_hash_sha256(h, msg, n);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    return gu_arena_sprintf(a, "sha256:%s", hex);
}

/*
 * Parse `msg` into *m (strings in `a`). GU_EINVAL (French err->user)
 * when it is not a message at all.
 */
static int
mail_parse(struct gu_arena *a, const struct gu_config *cfg, const void *msg,
           size_t n, struct parsed *m, struct gu_err *err)
{
    static const char *fallback[] = {"UTF-8", "windows-1252", NULL};
    GMimeParserOptions *opts;
    GMimeStream *st;
    GMimeParser *parser;
    GMimeMessage *gm;
    GMimeObject *o;
    InternetAddressList *from;
    struct walk w = {.a = a, .m = m};
    const char *v;
    int rc = 0;

    tri_gmime_init();
    memset(m, 0, sizeof(*m));
    gu_buf_init(&m->dropped);
    opts = g_mime_parser_options_new();
    g_mime_parser_options_set_fallback_charsets(opts, fallback);
    g_mime_parser_options_set_address_compliance_mode(
        opts, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_rfc2047_compliance_mode(
        opts, GMIME_RFC_COMPLIANCE_LOOSE);
    st = g_mime_stream_mem_new_with_buffer(msg, n);
    parser = g_mime_parser_new_with_stream(st);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    gm = g_mime_parser_construct_message(parser, opts);
    g_object_unref(parser);
    g_object_unref(st);
    if (!gm) {
        g_mime_parser_options_free(opts);
        return gu_err_set(err, GU_EINVAL, "message",
                          "Ce fichier n'est pas un courriel lisible.",
                          "mail: not a message");
    }
    o = GMIME_OBJECT(gm);

    v = g_mime_message_get_message_id(gm);
    if (msgid_ok(v)) {
        m->msgid = gu_arena_sprintf(a, "<%s>", v);
        m->key = m->msgid;
    } else {
        m->msgid = "";
        m->key = hash_key(a, msg, n);
    }
    v = g_mime_message_get_subject(gm);
    m->subject = text_clean(a, v ? v : "", v ? strlen(v) : 0,
                            TRI_SUBJECT_MAX, true);
    m->from_addr = "";
    m->from_name = "";
    from = g_mime_message_get_from(gm);
    if (from && internet_address_list_length(from) > 0) {
        InternetAddress *ia = internet_address_list_get_address(from, 0);

        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *addr = internet_address_mailbox_get_addr(
                INTERNET_ADDRESS_MAILBOX(ia));
            const char *name = internet_address_get_name(ia);
            char *lc = gu_arena_strdup(a, addr ? addr : "");

            for (char *p = lc; p && *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
            if (lc && addr_ok(lc))
                m->from_addr = lc;
            if (name)
                m->from_name = text_clean(a, name, strlen(name),
                                          TRI_NAME_MAX, true);
        }
    }
    if (!m->subject || !m->from_addr || !m->from_name || !m->key ||
        !m->msgid) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    collect_refs(m, a, o, opts);

    if (is_bounce(a, gm, m->from_addr, m->subject)) {
        m->kind = MAIL_BOUNCE;
    } else if (is_auto(a, o, m->subject)) {
        m->kind = MAIL_AUTO;
    } else if (cfg) {
        const char *own = gu_config_str(cfg, "smtp.from");
        const char *lt = strrchr(own, '<');
        size_t on = lt ? strcspn(lt + 1, ">") : strlen(own);

        if (*m->from_addr && on == strlen(m->from_addr) &&
            strncasecmp(lt ? lt + 1 : own, m->from_addr, on) == 0)
            m->kind = MAIL_OWN;
    }
    if (m->kind != MAIL_NORMAL)
        goto out; /* not read further */

    walk_object(&w, g_mime_message_get_mime_part(gm));
    if (w.rc < 0) {
        rc = gu_err_set(err, w.rc, NULL, NULL, "mail: body %s",
                        gu_status_name(w.rc));
        goto out;
    }
    if (w.plain && *gu_str_trim(gu_str_c(w.plain)).p) {
        m->text = w.plain;
    } else if (w.html) {
        m->text = html_to_text(a, w.html, strlen(w.html));
        m->from_html = true;
    } else {
        m->text = w.plain ? w.plain : "";
    }
    if (!m->text)
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
out:
    g_object_unref(gm);
    g_mime_parser_options_free(opts);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Quoted text and signatures of a reply                               */
/* ------------------------------------------------------------------ */

/* Does the line [p, p+n) start the quoted part of a reply? */
static bool
quote_header(const char *p, size_t n)
{
    static const char *const starts[] = {
        "-----Original Message-----", "----- Original Message -----",
        "-------- Message d'origine --------", "-------- Original Message",
        "----- Mail original -----", "-----Message d'origine-----",
        "________________________________", "-------- Message transféré"};
    char line[400];
    size_t k = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
    struct gu_str t;

    memcpy(line, p, k);
    line[k] = '\0';
    t = gu_str_trim(gu_str_c(line));
    for (size_t i = 0; i < GU_ARRAY_LEN(starts); i++)
        if (t.n >= strlen(starts[i]) &&
            strncasecmp(t.p, starts[i], strlen(starts[i])) == 0)
            return true;
    /* « Le lun. 30 nov. 2026 à 10:12, Mairie <...> a écrit : » and
     * "On Mon, Nov 30, 2026 at 10:12 AM X <...> wrote:" (the attribution
     * line, sometimes wrapped: its end is checked on this line) */
    if ((starts_ci(t.p, "le ") || starts_ci(t.p, "on ")) &&
        (strstr(line, "a écrit") || strstr(line, "wrote:") ||
         strstr(line, "a ecrit")))
        return true;
    /* Outlook's « De : X » then « Envoyé : ... » block: outlook_block(),
     * which sees the next line too */
    return false;
}

static bool
outlook_block(const char *line, const char *next)
{
    return (starts_ci(line, "de :") || starts_ci(line, "de:") ||
            starts_ci(line, "from:")) &&
           next &&
           (starts_ci(next, "envoyé :") || starts_ci(next, "envoyé:") ||
            starts_ci(next, "sent:") || starts_ci(next, "date :") ||
            starts_ci(next, "date:") || starts_ci(next, "à :"));
}

static bool
signature_start(const char *line, size_t n)
{
    return (n == 3 && memcmp(line, "-- ", 3) == 0) ||
           (n == 2 && memcmp(line, "--", 2) == 0) ||
           starts_ci(line, "Envoyé de mon ") ||
           starts_ci(line, "Envoyé depuis mon ") ||
           starts_ci(line, "Sent from my ") ||
           starts_ci(line, "Obtenir Outlook pour");
}

/*
 * Split a reply into what the resident wrote and what follows: the
 * attribution line and the quoted message, a « -- » signature, « Envoyé
 * de mon iPhone ». Lines starting with '>' are quoted wherever they are.
 * The result keeps the removed part after MAIL_QUOTE_MARK, so nothing is
 * lost and the new text comes first. In the arena.
 */
static const char *
reply_trim(struct gu_arena *a, const char *raw)
{
    struct gu_buf own, rest;
    const char *text = text_clean(a, raw, strlen(raw), (size_t)-1 / 2, false);
    const char *p;

    if (!text)
        return raw;
    p = text;
    bool in_rest = false;
    const char *out = text;

    gu_buf_init(&own);
    gu_buf_init(&rest);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        const char *next = nl ? nl + 1 : NULL;
        struct gu_str t = gu_str_trim((struct gu_str){p, n});

        if (!in_rest) {
            const char *nl2 = next ? strchr(next, '\n') : NULL;
            size_t n2 = next ? (nl2 ? (size_t)(nl2 - next) : strlen(next)) : 0;

            /* an attribution line wrapped by the mailer: « Le ..., X »
             * then « <x@y.fr> a écrit : » */
            if (quote_header(p, n) || signature_start(p, n) ||
                (t.n > 0 && outlook_block(t.p, next)) ||
                (next && (starts_ci(t.p, "le ") || starts_ci(t.p, "on ")) &&
                 n2 < 300 &&
                 (memmem(next, n2, "a écrit", strlen("a écrit")) ||
                  memmem(next, n2, "wrote:", 6))))
                in_rest = true;
        }
        if (in_rest || (t.n > 0 && t.p[0] == '>'))
            gu_buf_append(&rest, p, n + (nl ? 1 : 0));
        else
            gu_buf_append(&own, p, n + (nl ? 1 : 0));
        p = nl ? nl + 1 : p + n;
    }
    if (!own.oom && !rest.oom && rest.n > 0 &&
        gu_str_trim((struct gu_str){own.p ? own.p : "", own.n}).n > 0) {
        struct gu_str o = gu_str_trim((struct gu_str){own.p, own.n});
        struct gu_str r = gu_str_trim((struct gu_str){rest.p, rest.n});

        out = gu_arena_sprintf(a, "%.*s\n\n" MAIL_QUOTE_MARK "\n%.*s",
                               (int)o.n, o.p, (int)r.n, r.p);
    }
    gu_buf_fini(&own);
    gu_buf_fini(&rest);
    return out ? out : text;
}

/* ------------------------------------------------------------------ */
/* Threading and idempotence                                           */
/* ------------------------------------------------------------------ */

static int
seen_get(struct store_conn *c, struct gu_arena *a, const char *insee,
         const char *key, bool *seen, struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_T(key)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT request_id FROM tri_mail_seen WHERE insee = ? "
                     "AND message_id = ?",
                     p, 2, &r, err);
    if (rc == 0)
        *seen = r->nrows > 0;
    return rc;
}

static int
seen_add(struct store_conn *c, const char *insee, const char *key,
         int64_t request_id, struct gu_err *err)
{
    struct store_val p[4] = {STORE_T(insee), STORE_T(key), STORE_I(request_id),
                             STORE_I(gu_now())};
    int rc;

    rc = store_exec(c,
                    "INSERT INTO tri_mail_seen (insee, message_id, "
                    "request_id, seen_at) VALUES (?, ?, ?, ?)",
                    p, 4, err);
    return rc == GU_ECONFLICT ? 0 : rc; /* a concurrent import won */
}

/* « [Demande 2026-00042] » (also « [Demande n° 2026-00042] ») in s. */
static bool
subject_number(const char *s, char *num, size_t cap)
{
    const char *p = s;

    while ((p = strchr(p, '[')) != NULL) {
        const char *q = p + 1, *d;
        size_t nd = 0;

        p++;
        if (strncasecmp(q, "demande", 7) != 0)
            continue;
        q += 7;
        while (*q == ' ')
            q++;
        if (strncmp(q, "n°", 3) == 0)
            q += 3;
        else if (strncasecmp(q, "no", 2) == 0 && (q[2] == ' ' || q[2] == '.'))
            q += 2;
        while (*q == ' ' || *q == '.')
            q++;
        d = q;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q - d != 4 || *q != '-')
            continue;
        q++;
        while (q[nd] >= '0' && q[nd] <= '9')
            nd++;
        if (nd < 1 || nd > 9 || q[nd] != ']')
            continue;
        if ((size_t)(q + nd - d) + 1 > cap)
            return false;
        memcpy(num, d, (size_t)(q + nd - d));
        num[q + nd - d] = '\0';
        return true;
    }
    return false;
}

/*
 * The request this message answers, 0 when none: by its references
 * (unguessable identifiers the mairie or the resident sent), else by the
 * number in its subject when the sender is the request's contact (a
 * number alone is public enough to be guessed).
 */
static int
thread_find(struct store_conn *c, struct gu_arena *a, const char *insee,
            const struct parsed *m, int64_t *req, struct gu_err *err)
{
    char num[32];
    int rc;

    *req = 0;
    for (size_t i = 0; i < m->nrefs; i++) {
        struct store_val p[4] = {STORE_T(insee), STORE_T(m->refs[i]),
                                 STORE_T(insee), STORE_T(m->refs[i])};
        struct store_rows *r = NULL;

        rc = store_query(c, a,
                         "SELECT request_id FROM tri_messages WHERE "
                         "insee = ? AND mail_message_id = ? UNION ALL "
                         "SELECT request_id FROM tri_mail_seen WHERE "
                         "insee = ? AND message_id = ? AND request_id > 0 "
                         "LIMIT 1",
                         p, 4, &r, err);
        if (rc < 0)
            return rc;
        if (r->nrows > 0 && store_int(r, 0, 0) > 0) {
            *req = store_int(r, 0, 0);
            return 0;
        }
    }
    if (*m->from_addr && subject_number(m->subject, num, sizeof(num))) {
        struct tri_request tr;
        struct gu_err e2;

        gu_err_clear(&e2);
        rc = tri_get_by_number(c, a, insee, num, &tr, &e2);
        if (rc == 0 && tr.contact_email &&
            strcasecmp(tr.contact_email, m->from_addr) == 0)
            *req = tr.id;
        else if (rc < 0 && rc != GU_ENOTFOUND) {
            *err = e2;
            return rc;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* One message                                                         */
/* ------------------------------------------------------------------ */

/* The text handed to the inbox: body (or subject), then the note on
 * attachments not kept. NULL when there is nothing at all. */
static const char *
compose_body(struct gu_arena *a, const struct parsed *m, const char *body,
             bool with_attach)
{
    const char *t, *note = "";

    if (m->ndropped > 0 || !with_attach) {
        size_t lost = m->ndropped + (with_attach ? 0 : m->natt);

        note = gu_arena_sprintf(
            a, "\n\n[%zu pièce%s jointe%s non conservée%s à l'import :%s%s]",
            lost, lost > 1 ? "s" : "", lost > 1 ? "s" : "",
            lost > 1 ? "s" : "", m->dropped.p ? m->dropped.p : "",
            with_attach ? "" : "\n- pièces refusées par la vérification");
        if (!note)
            return NULL;
    }
    /* the text is cut so that the note always fits after it */
    t = text_clean(a, body, strlen(body), TRI_BODY_MAX - strlen(note) - 64,
                   false);
    if (!t)
        return NULL;
    if (!*t && !*note && m->natt > 0 && with_attach)
        t = "(Courriel sans texte : voir les pièces jointes.)";
    if (!*t && !*note)
        return "";
    t = gu_arena_sprintf(a, "%s%s", *t ? t : "(Courriel sans texte.)", note);
    return t ? text_clean(a, t, strlen(t), TRI_BODY_MAX, false) : NULL;
}

static int
import_new(struct store *st, struct store_conn *c, const struct gu_config *cfg,
           struct gu_arena *a, const char *insee, const struct parsed *m,
           int64_t *req, struct gu_err *err)
{
    struct tri_intake_req r;
    struct tri_intake_res res;
    bool with_attach = true, with_contact = *m->from_addr != '\0';
    int rc;

    for (int attempt = 0; attempt < 3; attempt++) {
        const char *body = compose_body(a, m, m->text, with_attach);

        if (!body)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        if (!*body && *m->subject)
            body = m->subject;
        if (!*body)
            return gu_err_set(err, GU_EINVAL, "body",
                              "Courriel vide : ni objet, ni texte, ni pièce "
                              "jointe.",
                              "mail: empty message");
        memset(&r, 0, sizeof(r));
        r.insee = insee;
        r.channel = TRI_COURRIEL;
        r.subject = m->subject;
        r.body = body;
        r.contact_name = *m->from_name && with_contact ? m->from_name : NULL;
        r.contact_email = with_contact ? m->from_addr : NULL;
        r.notify = with_contact;
        r.origin = gu_arena_sprintf(a, "mail:%s", m->key);
        r.mail_message_id = *m->msgid ? m->msgid : NULL;
        r.attach = with_attach && m->natt ? m->att : NULL;
        r.nattach = with_attach ? m->natt : 0;
        r.actor = "courriel";
        gu_err_clear(err);
        rc = tri_intake(st, c, cfg, &r, a, &res, err);
        if (rc == 0) {
            *req = res.id;
            return 0;
        }
        /* a broken photo or a strange sender must not lose the request:
         * try again without what was refused */
        if (rc == GU_EINVAL && with_attach && m->natt) {
            with_attach = false;
            continue;
        }
        if (rc == GU_EINVAL && with_contact &&
            (strcmp(err->field, "courriel") == 0 ||
             strcmp(err->field, "nom") == 0 ||
             strncmp(err->field, "contact", 7) == 0)) {
            with_contact = false;
            continue;
        }
        return rc;
    }
    return rc;
}

static int
import_reply(struct store_conn *c, struct gu_arena *a, const char *insee,
             const struct parsed *m, int64_t req, struct gu_err *err)
{
    bool with_attach = true;
    int rc = 0;

    for (int attempt = 0; attempt < 2; attempt++) {
        const char *body = compose_body(a, m, reply_trim(a, m->text),
                                        with_attach);

        if (!body)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        if (!*body)
            body = *m->subject ? m->subject : "(Réponse sans texte.)";
        gu_err_clear(err);
        /* the message and its seen row together, or neither */
        rc = store_begin(c, err);
        if (rc < 0)
            return rc;
        rc = tri_message_add(c, insee, req, TRI_MSG_IN, "usager", m->from_addr,
                             body, *m->msgid ? m->msgid : "",
                             with_attach && m->natt ? m->att : NULL,
                             with_attach ? m->natt : 0, NULL, err);
        if (rc == 0)
            rc = seen_add(c, insee, m->key, req, err);
        if (rc == 0)
            rc = store_commit(c, err);
        else
            store_rollback(c);
        if (rc == GU_EINVAL && with_attach && m->natt) {
            with_attach = false;
            continue;
        }
        break;
    }
    return rc;
}

/*
 * The Message-ID of a message whose header is exactly "Message-ID:
 * <id>" (one line, the usual case), found without parsing the message;
 * NULL otherwise. Re-reading a Maildir's cur/, an mbox or a renumbered
 * IMAP mailbox then costs one lookup per known message, not a parse.
 */
static const char *
quick_msgid(struct gu_arena *a, const char *p, size_t n)
{
    const char *end = p + (n < 65536 ? n : 65536);

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);

        if (ln > 0 && p[ln - 1] == '\r')
            ln--;
        if (ln == 0)
            return NULL; /* end of the header block */
        if (ln > 11 && strncasecmp(p, "Message-ID:", 11) == 0) {
            const char *q = p + 11, *e = p + ln, *lt, *gt;
            char id[MAIL_MSGID_MAX + 1];

            /* a folded value is left to the real parser */
            if (nl && nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t'))
                return NULL;
            while (q < e && (*q == ' ' || *q == '\t'))
                q++;
            while (e > q && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            lt = q;
            gt = e - 1;
            if (e - q < 3 || *lt != '<' || *gt != '>' ||
                (size_t)(gt - lt - 1) > MAIL_MSGID_MAX - 2 ||
                memchr(lt + 1, '<', (size_t)(gt - lt - 1)))
                return NULL;
            memcpy(id, lt + 1, (size_t)(gt - lt - 1));
            id[gt - lt - 1] = '\0';
            return msgid_ok(id) ? gu_arena_sprintf(a, "<%s>", id) : NULL;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL;
}

/* What import_one did, for the callers that move files. */
enum outcome { OUT_FAILED = 0, OUT_CREATED, OUT_THREADED, OUT_SKIPPED };

static int
import_one(struct store *st, struct store_conn *c, const struct gu_config *cfg,
           const char *insee, const void *msg, size_t n, enum outcome *what,
           struct gu_err *err)
{
    struct gu_arena *a;
    struct parsed m;
    bool seen = false;
    int64_t req = 0;
    int rc;

    *what = OUT_FAILED;
    if (!insee || !store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "commune", "Commune invalide.",
                          "mail: bad insee");
    if (n > TRI_MAIL_BYTES)
        return gu_err_set(err, GU_ETOOBIG, "message",
                          "Courriel trop volumineux (25 Mo au plus).",
                          "mail: %zu bytes", n);
    if (n == 0)
        return gu_err_set(err, GU_EINVAL, "message", "Courriel vide.",
                          "mail: empty");
    a = gu_arena_new(n + 16384);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    memset(&m, 0, sizeof(m));
    gu_buf_init(&m.dropped);
    {
        const char *key = quick_msgid(a, msg, n);

        if (key) {
            rc = seen_get(c, a, insee, key, &seen, err);
            if (rc < 0)
                goto out;
            if (seen) {
                *what = OUT_SKIPPED;
                goto out;
            }
        }
    }
    rc = mail_parse(a, cfg, msg, n, &m, err);
    if (rc < 0)
        goto out;
    rc = seen_get(c, a, insee, m.key, &seen, err);
    if (rc < 0)
        goto out;
    if (seen) {
        *what = OUT_SKIPPED;
        goto out;
    }
    if (m.kind != MAIL_NORMAL) {
        gu_log_info("mail.skip", "insee=%s why=%s", insee,
                    m.kind == MAIL_BOUNCE ? "bounce"
                    : m.kind == MAIL_AUTO ? "auto_reply"
                                          : "own_sender");
        rc = seen_add(c, insee, m.key, 0, err);
        if (rc == 0)
            *what = OUT_SKIPPED;
        goto out;
    }
    rc = thread_find(c, a, insee, &m, &req, err);
    if (rc < 0)
        goto out;
    if (req > 0) {
        rc = import_reply(c, a, insee, &m, req, err);
        if (rc == 0)
            *what = OUT_THREADED;
    } else {
        /* tri_intake has its own transaction: a crash between it and
         * the seen row may import this message twice, never lose it */
        rc = import_new(st, c, cfg, a, insee, &m, &req, err);
        if (rc == 0)
            rc = seen_add(c, insee, m.key, req, err);
        if (rc == 0)
            *what = OUT_CREATED;
    }
    if (rc == 0)
        gu_log_info("mail.imported", "insee=%s request=%lld threaded=%d "
                    "bytes=%zu attachments=%zu dropped=%zu html=%d",
                    insee, (long long)req, *what == OUT_THREADED, n, m.natt,
                    m.ndropped, m.from_html);
out:
    if (rc < 0) {
        char q[300];

        *what = OUT_FAILED;
        gu_log_warn("mail.failed", "insee=%s bytes=%zu code=%s err=%s", insee,
                    n, gu_status_name(rc), gu_logq(q, sizeof(q), err->msg));
    }
    gu_buf_fini(&m.dropped);
    gu_arena_free(a);
    return rc;
}

static void
count(struct tri_mail_stats *s, enum outcome o)
{
    if (!s)
        return;
    s->seen++;
    if (o == OUT_CREATED)
        s->created++;
    else if (o == OUT_THREADED)
        s->threaded++;
    else if (o == OUT_SKIPPED)
        s->skipped++;
    else
        s->failed++;
}

int
tri_mail_import_one(struct store *st, struct store_conn *c,
                    const struct gu_config *cfg, const char *insee,
                    const void *msg, size_t n, struct tri_mail_stats *stats,
                    struct gu_err *err)
{
    enum outcome o;
    int rc = import_one(st, c, cfg, insee, msg, n, &o, err);

    count(stats, o);
    return rc;
}

/* A store failure stops a batch; anything else is this message's own. */
static bool
fatal(int rc)
{
    return rc == GU_EDB || rc == GU_ENOMEM || rc == GU_EBUSY ||
           rc == GU_EINTERNAL;
}

/* ------------------------------------------------------------------ */
/* Maildir                                                             */
/* ------------------------------------------------------------------ */

/* Read a whole regular file (at most max bytes) into a heap buffer. */
static int
read_file(const char *path, size_t max, char **out, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat sb;
    char *p;
    size_t got = 0;

    *out = NULL;
    *n = 0;
    if (fd < 0)
        return GU_EIO;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return GU_EIO;
    }
    if ((uint64_t)sb.st_size > max) {
        close(fd);
        return GU_ETOOBIG;
    }
    p = gu_malloc((size_t)sb.st_size + 1);
    if (!p) {
        close(fd);
        return GU_ENOMEM;
    }
    while (got < (size_t)sb.st_size) {
        ssize_t k = read(fd, p + got, (size_t)sb.st_size - got);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    p[got] = '\0';
    *out = p;
    *n = got;
    return 0;
}

/* "name:2,FLAGS" with S added (flags kept sorted, as Maildir wants). */
static void
seen_name(const char *name, char *out, size_t cap)
{
    const char *info = strstr(name, ":2,");
    char flags[32] = "";
    size_t base = info ? (size_t)(info - name) : strlen(name), k = 0;

    if (info) {
        for (const char *f = info + 3; *f && k + 2 < sizeof(flags); f++)
            if (*f >= 'A' && *f <= 'Z' && *f != 'S')
                flags[k++] = *f;
    }
    flags[k++] = 'S';
    flags[k] = '\0';
    /* insertion sort of a handful of letters */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && flags[j - 1] > flags[j]; j--) {
            char t = flags[j];

            flags[j] = flags[j - 1];
            flags[j - 1] = t;
        }
    snprintf(out, cap, "%.*s:2,%s", (int)base, name, flags);
}

static int
maildir_one(struct store *st, struct store_conn *c, const struct gu_config *cfg,
            const char *insee, const char *dir, const char *sub,
            const char *name, struct tri_mail_stats *stats,
            struct gu_err *err)
{
    char path[4096], dest[4096], nm[1024];
    char *data = NULL;
    size_t n = 0;
    enum outcome o = OUT_FAILED;
    const char *info = strstr(name, ":2,");
    int rc;

    if (snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name) >=
        (int)sizeof(path))
        return 0;
    rc = read_file(path, TRI_MAIL_BYTES, &data, &n);
    if (rc == GU_ENOMEM)
        return gu_err_set(err, rc, NULL, NULL, "oom");
    if (rc < 0) {
        gu_err_set(err, rc, "message",
                   rc == GU_ETOOBIG ? "Courriel trop volumineux (25 Mo au "
                                      "plus) : laissé dans la boîte."
                                    : "Courriel illisible : laissé dans la "
                                      "boîte.",
                   "maildir: %s %s", sub, gu_status_name(rc));
        count(stats, OUT_FAILED);
        return rc;
    }
    rc = import_one(st, c, cfg, insee, data, n, &o, err);
    gu_free(data);
    count(stats, o);
    if (rc < 0)
        return rc;
    if (strcmp(sub, "cur") == 0 && info && strchr(info + 3, 'S'))
        return 0;
    seen_name(name, nm, sizeof(nm));
    if (snprintf(dest, sizeof(dest), "%s/cur/%s", dir, nm) <
            (int)sizeof(dest) &&
        rename(path, dest) < 0)
        gu_log_warn("mail.maildir_rename", "errno=%d", errno);
    return 0;
}

static int
cmp_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static void
names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gu_free(names[i]);
    gu_free(names);
}

/* The file names of dir/sub (no dot files), sorted: Maildir names start
 * with the delivery time, so the oldest comes first. */
static int
list_dir(const char *dir, const char *sub, char ***out, size_t *n,
         struct gu_err *err)
{
    char path[4096];
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t nn = 0, cap = 0;

    *out = NULL;
    *n = 0;
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    d = opendir(path);
    if (!d)
        return gu_err_set(err, GU_EIO, "maildir",
                          "Dossier Maildir illisible : il doit contenir "
                          "new/ et cur/.",
                          "maildir: opendir %s errno=%d", sub, errno);
    while ((e = readdir(d)) != NULL && nn < MAIL_DIR_MAX) {
        if (e->d_name[0] == '.')
            continue;
        if (nn == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nv = gu_realloc(names, nc * sizeof(*nv));

            if (!nv)
                break;
            names = nv;
            cap = nc;
        }
        names[nn] = gu_strdup(e->d_name);
        if (names[nn])
            nn++;
    }
    closedir(d);
    if (nn)
        qsort(names, nn, sizeof(*names), cmp_name);
    *out = names;
    *n = nn;
    return 0;
}

static int
import_maildir(struct store *st, const struct gu_config *cfg,
               const char *insee, const char *dir,
               struct tri_mail_stats *stats, struct gu_err *err)
{
    static const char *const subs[] = {"new", "cur"};
    struct store_conn *c = NULL;
    char **names[2] = {NULL, NULL};
    size_t nn[2] = {0, 0};
    int rc, first = 0;

    /* both listings before anything moves: a file imported from new/
     * lands in cur/ and must not be read twice in one run */
    rc = list_dir(dir, "new", &names[0], &nn[0], err);
    if (rc == 0)
        rc = list_dir(dir, "cur", &names[1], &nn[1], err);
    if (rc == 0)
        rc = store_acquire(st, &c, err);
    for (size_t s = 0; rc == 0 && s < 2; s++) {
        for (size_t i = 0; i < nn[s]; i++) {
            struct gu_err e2;
            int k;

            if (fatal(first) || notify_job_should_stop())
                break;
            gu_err_clear(&e2);
            k = maildir_one(st, c, cfg, insee, dir, subs[s], names[s][i],
                            stats, &e2);
            if (k < 0 && (!first || fatal(k))) {
                first = k;
                *err = e2;
            }
        }
    }
    store_release(c);
    names_free(names[0], nn[0]);
    names_free(names[1], nn[1]);
    if (rc < 0)
        return rc;
    return fatal(first) ? first : 0;
}

/* ------------------------------------------------------------------ */
/* mbox                                                                */
/* ------------------------------------------------------------------ */

/* Is p (at a line start) an mbox separator "From " line? */
static bool
from_line(const char *p, const char *end)
{
    return end - p >= 5 && memcmp(p, "From ", 5) == 0;
}

/*
 * One message of an mbox: the bytes between its "From " line and the
 * next one, ">From " lines unquoted (mboxrd: one '>' less on ">+From ";
 * the same on mboxo's ">From ").
 */
static int
mbox_message(struct store *st, struct store_conn *c,
             const struct gu_config *cfg, const char *insee, const char *p,
             size_t n, struct tri_mail_stats *stats, struct gu_err *err)
{
    struct gu_buf b;
    const char *end = p + n;
    enum outcome o = OUT_FAILED;
    int rc;

    if (n > TRI_MAIL_BYTES + 1024 * 1024) {
        count(stats, OUT_FAILED);
        return gu_err_set(err, GU_ETOOBIG, "message",
                          "Courriel trop volumineux (25 Mo au plus).",
                          "mbox: %zu bytes", n);
    }
    gu_buf_init(&b);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ln = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        const char *q = p;

        while (q < p + ln && *q == '>')
            q++;
        if (q > p && from_line(q, end))
            gu_buf_append(&b, p + 1, ln - 1); /* drop one '>' */
        else
            gu_buf_append(&b, p, ln);
        p += ln;
    }
    if (b.oom) {
        gu_buf_fini(&b);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    /* the blank line before the next separator belongs to the mbox */
    if (b.n > 0 && b.p[b.n - 1] == '\n')
        b.n--;
    rc = import_one(st, c, cfg, insee, b.p ? b.p : "", b.n, &o, err);
    count(stats, o);
    gu_buf_fini(&b);
    return rc;
}

static int
import_mbox(struct store *st, const struct gu_config *cfg, const char *insee,
            const char *path, struct tri_mail_stats *stats,
            struct gu_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    struct store_conn *c = NULL;
    const char *map, *p, *end, *start = NULL;
    int rc, first = 0;

    if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        return gu_err_set(err, GU_EIO, "mbox",
                          "Fichier mbox illisible.", "mbox: open errno=%d",
                          errno);
    }
    if (sb.st_size == 0) {
        close(fd);
        return 0;
    }
    map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return gu_err_set(err, GU_EIO, "mbox", "Fichier mbox illisible.",
                          "mbox: mmap errno=%d", errno);
    end = map + sb.st_size;
    if (!from_line(map, end)) {
        munmap((void *)map, (size_t)sb.st_size);
        return gu_err_set(err, GU_EINVAL, "mbox",
                          "Ce fichier n'est pas au format mbox (il doit "
                          "commencer par une ligne « From »).",
                          "mbox: no From line");
    }
    rc = store_acquire(st, &c, err);
    if (rc < 0) {
        munmap((void *)map, (size_t)sb.st_size);
        return rc;
    }
    p = map;
    while (p < end && !fatal(first)) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        bool sep = from_line(p, end) &&
                   (p == map || (p >= map + 2 && p[-1] == '\n' &&
                                 (p[-2] == '\n' ||
                                  (p >= map + 3 && p[-2] == '\r' &&
                                   p[-3] == '\n'))));

        if (sep || next == end) {
            const char *stop = sep ? p : end;

            if (start && stop > start) {
                struct gu_err e2;

                gu_err_clear(&e2);
                if (notify_job_should_stop())
                    break;
                rc = mbox_message(st, c, cfg, insee, start,
                                  (size_t)(stop - start), stats, &e2);
                if (rc < 0 && (!first || fatal(rc))) {
                    first = rc;
                    *err = e2;
                }
            }
            if (sep)
                start = next; /* the message starts after "From ..." */
        }
        p = next;
    }
    store_release(c);
    munmap((void *)map, (size_t)sb.st_size);
    return fatal(first) ? first : 0;
}

int
tri_mail_import_path(struct store *st, const struct gu_config *cfg,
                     const char *insee, const char *path,
                     struct tri_mail_stats *stats, struct gu_err *err)
{
    struct stat sb;

    if (!path || stat(path, &sb) < 0)
        return gu_err_set(err, GU_EIO, "chemin",
                          "Chemin introuvable : ni dossier Maildir ni "
                          "fichier mbox.",
                          "mail: stat errno=%d", errno);
    if (S_ISDIR(sb.st_mode))
        return import_maildir(st, cfg, insee, path, stats, err);
    return import_mbox(st, cfg, insee, path, stats, err);
}

/* ------------------------------------------------------------------ */
/* IMAP (libcurl)                                                      */
/* ------------------------------------------------------------------ */

struct imap_out {
    struct gu_buf b;
    size_t max;
    bool too_big;
};

static size_t
imap_write(char *p, size_t size, size_t nm, void *ud)
{
    struct imap_out *o = ud;
    size_t n = size * nm;

    if (o->b.n + n > o->max) {
        o->too_big = true;
        return 0; /* aborts the transfer */
    }
    return gu_buf_append(&o->b, p, n) == 0 ? n : 0;
}

static int
imap_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
              curl_off_t un)
{
    (void)ud;
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return notify_job_should_stop() ? 1 : 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void
curl_start(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* A source's IMAP address split: "imaps://host:993/" and the mailbox. */
struct imap_src {
    const char *url;     /* as configured, mailbox included */
    const char *root;    /* scheme://authority/ */
    const char *mailbox; /* decoded, "INBOX" by default */
    bool loopback;
};

static int
imap_split(struct gu_arena *a, const char *url, struct imap_src *s,
           struct gu_err *err)
{
    const char *auth, *slash, *host_end;
    size_t hn;
    char *box = NULL;
    int blen = 0;

    memset(s, 0, sizeof(*s));
    if (strncmp(url, "imap://", 7) == 0)
        auth = url + 7;
    else if (strncmp(url, "imaps://", 8) == 0)
        auth = url + 8;
    else
        return gu_err_set(err, GU_EINVAL, "location",
                          "L'adresse IMAP doit commencer par imap:// ou "
                          "imaps:// (ex. imaps://imap.exemple.fr/INBOX).",
                          "imap: bad scheme");
    if (strchr(url, '\r') || strchr(url, '\n') || strchr(url, ' ') ||
        strlen(url) > 500)
        return gu_err_set(err, GU_EINVAL, "location", "Adresse IMAP invalide.",
                          "imap: bad url");
    slash = strchr(auth, '/');
    s->url = url;
    s->root = gu_arena_strndup(a, url,
                               (size_t)((slash ? slash : auth + strlen(auth)) -
                                        url));
    s->root = s->root ? gu_arena_sprintf(a, "%s/", s->root) : NULL;
    if (slash && slash[1]) {
        box = curl_easy_unescape(NULL, slash + 1, 0, &blen);
        s->mailbox = box ? gu_arena_strndup(a, box, (size_t)blen) : NULL;
        curl_free(box);
    } else {
        s->mailbox = "INBOX";
        s->url = gu_arena_sprintf(a, "%s%sINBOX", url, slash ? "" : "/");
    }
    if (!s->root || !s->mailbox || !s->url)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if (!*s->mailbox || strpbrk(s->mailbox, "\"\\;/\r\n") ||
        strlen(s->mailbox) > 200)
        return gu_err_set(err, GU_EINVAL, "location",
                          "Nom de dossier IMAP invalide.",
                          "imap: bad mailbox");
    /* host, without user info and port, for the loopback test */
    {
        const char *at = memchr(auth, '@', (size_t)((slash ? slash
                                                           : auth +
                                                                 strlen(auth)) -
                                                     auth));
        const char *h = at ? at + 1 : auth;

        host_end = h;
        if (*h == '[')
            host_end = strchr(h, ']') ? strchr(h, ']') + 1 : h;
        else
            while (*host_end && *host_end != ':' && *host_end != '/')
                host_end++;
        hn = (size_t)(host_end - h);
        s->loopback = (hn == 9 && memcmp(h, "127.0.0.1", 9) == 0) ||
                      (hn == 9 && memcmp(h, "localhost", 9) == 0) ||
                      (hn == 5 && memcmp(h, "[::1]", 5) == 0);
    }
    return 0;
}

struct imap {
    CURL *h;
    struct imap_src src;
    char errbuf[CURL_ERROR_SIZE];
    long timeout_ms;
};

static int
imap_open(struct imap *im, const char *user, const char *secret,
          long timeout_ms, struct gu_err *err)
{
    pthread_once(&curl_once, curl_start);
    if (!curl_ok || !(im->h = curl_easy_init()))
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "curl init");
    im->timeout_ms = timeout_ms;
    curl_easy_setopt(im->h, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(im->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(im->h, CURLOPT_ERRORBUFFER, im->errbuf);
    curl_easy_setopt(im->h, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < 10000 ? timeout_ms : 10000L);
    curl_easy_setopt(im->h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(im->h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(im->h, CURLOPT_XFERINFOFUNCTION, imap_progress);
    curl_easy_setopt(im->h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(im->h, CURLOPT_SSL_VERIFYHOST, 2L);
    /* imap:// to another machine must not send the password in clear:
     * STARTTLS is required; on the machine itself nothing travels, and
     * a local server's self-signed certificate must not stop the import
     * (imaps:// is always verified) */
    if (strncmp(im->src.url, "imap://", 7) == 0)
        curl_easy_setopt(im->h, CURLOPT_USE_SSL,
                         im->src.loopback ? (long)CURLUSESSL_NONE
                                          : (long)CURLUSESSL_ALL);
    if (user && *user) {
        curl_easy_setopt(im->h, CURLOPT_USERNAME, user);
        curl_easy_setopt(im->h, CURLOPT_PASSWORD, secret ? secret : "");
    }
    return 0;
}

/*
 * One IMAP exchange on the source's connection (kept open between
 * calls): `custom` a command (its untagged answers land in *out), or
 * NULL to fetch `url`. GU_EIO with a French err->user on failure.
 */
static int
imap_do(struct imap *im, const char *url, const char *custom, size_t max,
        struct imap_out *out, struct gu_err *err)
{
    CURLcode cc;

    gu_buf_init(&out->b);
    out->max = max;
    out->too_big = false;
    im->errbuf[0] = '\0';
    curl_easy_setopt(im->h, CURLOPT_URL, url);
    curl_easy_setopt(im->h, CURLOPT_CUSTOMREQUEST, custom);
    curl_easy_setopt(im->h, CURLOPT_WRITEFUNCTION, imap_write);
    curl_easy_setopt(im->h, CURLOPT_WRITEDATA, out);
    cc = curl_easy_perform(im->h);
    if (cc == CURLE_OK && !out->b.oom)
        return 0;
    if (out->too_big)
        return gu_err_set(err, GU_ETOOBIG, "message",
                          "Courriel trop volumineux (25 Mo au plus) : "
                          "laissé sur le serveur.",
                          "imap: message over %zu bytes", max);
    if (cc == CURLE_LOGIN_DENIED)
        return gu_err_set(err, GU_EIO, "username",
                          "Connexion IMAP refusée : identifiant ou mot de "
                          "passe incorrect.",
                          "imap: login denied");
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return gu_err_set(err, GU_EIO, "location",
                          "Le serveur IMAP ne répond pas (délai dépassé).",
                          "imap: timeout");
    if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CONNECT_ERROR ||
        cc == CURLE_USE_SSL_FAILED)
        return gu_err_set(err, GU_EIO, "location",
                          "Connexion IMAP non sécurisée ou certificat du "
                          "serveur invalide : import refusé.",
                          "imap: tls %s", curl_easy_strerror(cc));
    if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST)
        return gu_err_set(err, GU_EIO, "location",
                          "Serveur IMAP injoignable.", "imap: %s",
                          curl_easy_strerror(cc));
    return gu_err_set(err, GU_EIO, "location",
                      "Échec de l'échange avec le serveur IMAP.",
                      "imap: %s (%s)", curl_easy_strerror(cc), im->errbuf);
}

/* The number after `key` in an IMAP answer ("UIDVALIDITY 42"), or -1. */
static int64_t
imap_num(const char *s, const char *key)
{
    const char *p = s ? strstr(s, key) : NULL;
    int64_t v = 0;
    int digits = 0;

    if (!p)
        return -1;
    p += strlen(key);
    while (*p == ' ')
        p++;
    for (; *p >= '0' && *p <= '9' && digits < 12; p++, digits++)
        v = v * 10 + (*p - '0');
    return digits ? v : -1;
}

static int
cmp_u64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return a < b ? -1 : a > b;
}

/*
 * UIDs above last_uid from "* SEARCH 3 4 5" lines, ascending, at most
 * max (the oldest first: the next run takes the rest).
 */
static size_t
imap_uids(const char *s, int64_t last_uid, int64_t *uids, size_t max,
          size_t *total)
{
    size_t n = 0;
    const char *p = s;

    while (p && (p = strstr(p, "* SEARCH")) != NULL) {
        const char *eol = strchr(p, '\n');

        p += 8;
        while (*p && p != eol) {
            int64_t v = 0;
            int d = 0;

            while (*p == ' ')
                p++;
            for (; *p >= '0' && *p <= '9' && d < 12; p++, d++)
                v = v * 10 + (*p - '0');
            if (d == 0)
                break;
            if (v > last_uid && n < 100000)
                uids[n++] = v;
        }
    }
    qsort(uids, n, sizeof(*uids), cmp_u64);
    *total = n;
    return n < max ? n : max;
}

struct source_row {
    int64_t id;
    const char *kind, *location, *username, *secret;
    int64_t last_uid, uidvalidity;
    bool active;
};

static int
source_get(struct store_conn *c, struct gu_arena *a, const char *insee,
           int64_t id, struct source_row *s, struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_I(id)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT kind, location, username, secret, last_uid, "
                     "uidvalidity, active FROM tri_mail_sources WHERE "
                     "insee = ? AND id = ?",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "source",
                          "Source de courriels inconnue pour cette commune.",
                          "mail: no source %lld", (long long)id);
    s->id = id;
    s->kind = store_text(r, 0, 0);
    s->location = store_text(r, 0, 1);
    s->username = store_text(r, 0, 2);
    s->secret = store_text(r, 0, 3);
    s->last_uid = store_int(r, 0, 4);
    s->uidvalidity = store_int(r, 0, 5);
    s->active = store_int(r, 0, 6) != 0;
    return 0;
}

static int
source_progress(struct store_conn *c, const char *insee, int64_t id,
                int64_t last_uid, int64_t uidvalidity, struct gu_err *err)
{
    struct store_val p[4] = {STORE_I(last_uid), STORE_I(uidvalidity),
                             STORE_T(insee), STORE_I(id)};

    return store_exec(c,
                      "UPDATE tri_mail_sources SET last_uid = ?, "
                      "uidvalidity = ? WHERE insee = ? AND id = ?",
                      p, 4, err);
}

static int
import_imap(struct store *st, const struct gu_config *cfg, const char *insee,
            const struct source_row *src, struct tri_mail_stats *stats,
            struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_conn *c = NULL;
    struct imap im;
    struct imap_out out;
    int64_t uidvalidity, uidnext, last_uid = src->last_uid, *uids = NULL;
    long batch = gu_config_int(cfg, "triage.mail_batch");
    size_t n, total = 0, i = 0;
    bool first_mode;
    int rc, first = 0;
    const char *cmd;

    memset(&im, 0, sizeof(im));
    memset(&out, 0, sizeof(out));
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = imap_split(a, src->location, &im.src, err);
    if (rc == 0)
        rc = imap_open(&im, src->username, src->secret,
                       gu_config_int(cfg, "triage.mail_timeout_ms"), err);
    if (rc < 0)
        goto out;

    /* 1. UIDVALIDITY and UIDNEXT, without selecting */
    cmd = gu_arena_sprintf(a, "STATUS \"%s\" (UIDVALIDITY UIDNEXT)",
                           im.src.mailbox);
    rc = imap_do(&im, im.src.root, cmd, 65536, &out, err);
    if (rc < 0)
        goto out;
    uidvalidity = imap_num(out.b.p, "UIDVALIDITY");
    uidnext = imap_num(out.b.p, "UIDNEXT");
    gu_buf_fini(&out.b);
    if (uidvalidity <= 0) {
        rc = gu_err_set(err, GU_EIO, "location",
                        "Réponse du serveur IMAP incomprise (UIDVALIDITY "
                        "absent) ou dossier inexistant.",
                        "imap: no uidvalidity");
        goto out;
    }
    if (src->uidvalidity != 0 && src->uidvalidity != uidvalidity) {
        /* the server renumbered the mailbox: every message is looked at
         * again, and tri_mail_seen keeps the known ones out */
        gu_log_warn("mail.uidvalidity", "source=%lld old=%lld new=%lld",
                    (long long)src->id, (long long)src->uidvalidity,
                    (long long)uidvalidity);
        last_uid = 0;
    }
    rc = store_acquire(st, &c, err);
    if (rc < 0)
        goto out;
    if (uidnext > 0 && uidnext <= last_uid + 1) {
        rc = source_progress(c, insee, src->id, last_uid, uidvalidity, err);
        goto out; /* nothing new */
    }

    first_mode = last_uid == 0;
    /* 2. the new UIDs. The first run of a mailbox (or after the
     * server renumbered it) takes the unread messages only: what people
     * read there before Guichet relieved them is not turned into
     * requests, and what it imported already carries \Seen */
    cmd = last_uid == 0 ? "UID SEARCH UNSEEN"
                        : gu_arena_sprintf(a, "UID SEARCH UID %lld:*",
                                           (long long)(last_uid + 1));
    rc = imap_do(&im, im.src.url, cmd, 4u << 20, &out, err);
    if (rc < 0)
        goto out;
    uids = gu_malloc(100000 * sizeof(*uids));
    if (!uids) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    n = imap_uids(out.b.p, last_uid, uids, batch > 0 ? (size_t)batch : 1,
                  &total);
    gu_buf_fini(&out.b);
    if (first_mode) { /* the UIDVALIDITY is known from now on */
        rc = source_progress(c, insee, src->id, 0, uidvalidity, err);
        if (rc < 0)
            goto out;
    }

    /* 3. each message: fetch (which sets \Seen), import, then \Seen
     * confirmed, or taken back when the import failed */
    for (i = 0; i < n && !notify_job_should_stop(); i++) {
        const char *url = gu_arena_sprintf(a, "%s;UIDVALIDITY=%lld/;UID=%lld",
                                           im.src.url, (long long)uidvalidity,
                                           (long long)uids[i]);
        enum outcome o = OUT_FAILED;
        struct gu_err e2;

        gu_err_clear(&e2);
        if (!url) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            break;
        }
        rc = imap_do(&im, url, NULL, TRI_MAIL_BYTES, &out, &e2);
        if (rc == 0)
            rc = import_one(st, c, cfg, insee, out.b.p ? out.b.p : "",
                            out.b.n, &o, &e2);
        gu_buf_fini(&out.b);
        count(stats, o);
        if (rc == GU_EIO) { /* the connection failed: stop, retry later */
            *err = e2;
            first = rc;
            break;
        }
        if (fatal(rc)) {
            *err = e2;
            first = rc;
            break;
        }
        if (rc < 0 && !first) {
            first = rc;
            *err = e2;
        }
        cmd = gu_arena_sprintf(a, "UID STORE %lld %cFLAGS (\\Seen)",
                               (long long)uids[i], rc == 0 ? '+' : '-');
        gu_err_clear(&e2);
        if (imap_do(&im, im.src.url, cmd, 65536, &out, &e2) < 0)
            gu_log_warn("mail.imap_flag", "source=%lld uid=%lld err=\"%s\"",
                        (long long)src->id, (long long)uids[i], e2.msg);
        gu_buf_fini(&out.b);
        if (first_mode)
            continue; /* progress is the \Seen flag until caught up */
        last_uid = uids[i];
        {
            struct gu_err e3;

            gu_err_clear(&e3);
            if (source_progress(c, insee, src->id, last_uid, uidvalidity,
                                &e3) < 0) {
                *err = e3;
                first = e3.code;
                break;
            }
        }
    }
    /* every unread message looked at: from now on, UIDs above what the
     * mailbox held at the start of this run */
    if (first_mode && i == n && n == total && !fatal(first) &&
        first != GU_EIO) {
        struct gu_err e3;
        int64_t upto = uidnext > 0 ? uidnext - 1 : 0;

        if (n > 0 && uids[n - 1] > upto)
            upto = uids[n - 1];
        gu_err_clear(&e3);
        if (source_progress(c, insee, src->id, upto, uidvalidity, &e3) < 0) {
            *err = e3;
            first = e3.code;
        }
    }
    rc = first && (fatal(first) || first == GU_EIO) ? first : 0;
    if (first && rc == 0)
        gu_log_info("mail.imap_partial", "source=%lld", (long long)src->id);
out:
    gu_buf_fini(&out.b);
    gu_free(uids);
    if (im.h)
        curl_easy_cleanup(im.h);
    store_release(c);
    gu_arena_free(a);
    return rc;
}

/*
 * One run per source at a time in this process: the scheduled job and an
 * administrator's « Relever maintenant » would otherwise fetch the same
 * new messages together, and both could pass the tri_mail_seen check
 * before either records it.
 */
#define RUNNING_MAX 64
static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const struct store *st;
    int64_t id;
} running[RUNNING_MAX];

static bool
source_claim(const struct store *st, int64_t id)
{
    bool ok = false;
    int free_slot = -1;

    pthread_mutex_lock(&running_mu);
    for (int i = 0; i < RUNNING_MAX; i++) {
        if (running[i].st == st && running[i].id == id)
            goto out;
        if (!running[i].st && free_slot < 0)
            free_slot = i;
    }
    if (free_slot >= 0) {
        running[free_slot].st = st;
        running[free_slot].id = id;
        ok = true;
    }
out:
    pthread_mutex_unlock(&running_mu);
    return ok;
}

static void
source_unclaim(const struct store *st, int64_t id)
{
    pthread_mutex_lock(&running_mu);
    for (int i = 0; i < RUNNING_MAX; i++)
        if (running[i].st == st && running[i].id == id)
            running[i].st = NULL;
    pthread_mutex_unlock(&running_mu);
}

static int import_source(struct store *st, const struct gu_config *cfg,
                         const char *insee, int64_t source_id,
                         struct tri_mail_stats *stats, struct gu_err *err);

int
tri_mail_import_source(struct store *st, const struct gu_config *cfg,
                       const char *insee, int64_t source_id,
                       struct tri_mail_stats *stats, struct gu_err *err)
{
    int rc;

    if (!source_claim(st, source_id))
        return gu_err_set(err, GU_EBUSY, "source",
                          "Relève de cette boîte déjà en cours : réessayez "
                          "dans un instant.",
                          "mail: source %lld already running",
                          (long long)source_id);
    rc = import_source(st, cfg, insee, source_id, stats, err);
    source_unclaim(st, source_id);
    return rc;
}

static int
import_source(struct store *st, const struct gu_config *cfg,
              const char *insee, int64_t source_id,
              struct tri_mail_stats *stats, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_conn *c = NULL;
    struct source_row src = {0};
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_acquire(st, &c, err);
    if (rc == 0)
        rc = source_get(c, a, insee, source_id, &src, err);
    store_release(c);
    c = NULL;
    if (rc < 0)
        goto out;
    if (strcmp(src.kind, "imap") == 0)
        rc = import_imap(st, cfg, insee, &src, stats, err);
    else
        rc = tri_mail_import_path(st, cfg, insee, src.location, stats, err);
    /* the outcome, for the administrators' page */
    {
        struct gu_err e2;
        const char *why = rc < 0 ? (*err->user ? err->user : err->msg) : "";
        struct store_val p[4] = {STORE_I(gu_now()), STORE_T(why),
                                 STORE_T(insee), STORE_I(source_id)};

        gu_err_clear(&e2);
        if (store_acquire(st, &c, &e2) == 0)
            store_exec(c,
                       "UPDATE tri_mail_sources SET last_run_at = ?, "
                       "last_error = ? WHERE insee = ? AND id = ?",
                       p, 4, &e2);
        store_release(c);
    }
out:
    gu_arena_free(a);
    return rc;
}
