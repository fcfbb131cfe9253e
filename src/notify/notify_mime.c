/*
 * notify_mime.c - building an Internet message (RFC 5322 + MIME).
 *
 * What we write is deliberately narrow: one text/plain UTF-8 part in
 * quoted-printable, optionally followed by one attachment in base64
 * inside multipart/mixed. Threaded messages (replies of the request
 * inbox) carry In-Reply-To and References (the message answered) and a
 * Reply-To (the mailbox the e-mail import reads), so that the
 * resident's answer comes back to the same request. Header values from
 * callers are refused when they hold CR or LF (no header injection) or
 * do not have their field's syntax, non-ASCII header text goes
 * into RFC 2047 encoded words, and every line ends in CRLF and stays
 * within 76 characters, far below SMTP's 998.
 */
#include <string.h>
#include <time.h>

#include "notify/notify_internal.h"

static bool
has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static bool
ascii_only(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

bool
notify_addr_valid(const char *addr)
{
    const char *at, *p;
    size_t n;
    bool dot = false;

    if (!addr)
        return false;
    n = strlen(addr);
    at = strchr(addr, '@');
    if (n == 0 || n > 254 || !at || at == addr || at - addr > 64 ||
        strchr(at + 1, '@'))
        return false;
    for (p = addr; p < at; p++) {
        unsigned char c = (unsigned char)*p;

        if (c <= 0x20 || c >= 0x7f || strchr("()<>[]\\,;:\"", c))
            return false;
    }
    if (addr[0] == '.' || at[-1] == '.' || strstr(addr, ".."))
        return false;
    p = at + 1;
    if (*p == '.' || *p == '-' || *p == '\0')
        return false;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '.') {
            if (p[1] == '.' || p[1] == '\0' || p[1] == '-' || p[-1] == '-')
                return false;
            dot = true;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return dot;
}

int
notify_from_parse(struct gu_arena *a, const char *from, const char **name,
                  const char **addr)
{
    const char *lt, *gt;
    size_t nl;

    *name = "";
    *addr = "";
    if (!from || has_ctl(from))
        return GU_EINVAL;
    lt = strrchr(from, '<');
    if (!lt) {
        struct gu_str t = gu_str_trim(gu_str_c(from));

        *addr = gu_arena_strndup(a, t.p, t.n);
    } else {
        struct gu_str nm;

        gt = strchr(lt, '>');
        if (!gt || gt[1] != '\0')
            return GU_EINVAL;
        *addr = gu_arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
        nm = gu_str_trim((struct gu_str){from, (size_t)(lt - from)});
        nl = nm.n;
        if (nl >= 2 && nm.p[0] == '"' && nm.p[nl - 1] == '"') {
            nm.p++;
            nl -= 2;
        }
        *name = gu_arena_strndup(a, nm.p, nl);
    }
    if (!*addr || !*name)
        return GU_ENOMEM;
    return notify_addr_valid(*addr) ? 0 : GU_EINVAL;
}

/* ------------------------------------------------------------------ */
/* RFC 2047 encoded words                                              */
/* ------------------------------------------------------------------ */

static const char hexd[] = "0123456789ABCDEF";

/* Characters written as themselves inside a Q encoded word (RFC 2047
 * 5(3), the strictest set, valid in every header). */
static bool
q_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
           c == '-' || c == '/';
}

/* Length of the UTF-8 sequence starting with byte c (1 if invalid). */
static size_t
u8len(unsigned char c)
{
    if (c >= 0xF0 && c < 0xF8)
        return 4;
    if (c >= 0xE0)
        return 3;
    if (c >= 0xC0)
        return 2;
    return 1;
}

/* Is the value plain enough to be written as is? */
static bool
hdr_plain(const char *text, size_t used)
{
    size_t n = strlen(text);

    if (used + n > NOTIFY_LINE_MAX || strstr(text, "=?"))
        return false;
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            return false;
    return true;
}

int
notify_hdr_encode(struct gu_buf *b, const char *text, size_t used)
{
    static const char pre[] = "=?UTF-8?Q?", post[] = "?=";
    const unsigned char *p = (const unsigned char *)text;
    size_t col = used, n = strlen(text);

    if (hdr_plain(text, used))
        return gu_buf_puts(b, text);
    if (n == 0)
        return 0;
    while (*p) {
        /* one encoded word: as many whole characters as fit the line */
        size_t room = NOTIFY_LINE_MAX - col - (sizeof(pre) - 1) -
                      (sizeof(post) - 1);

        gu_buf_puts(b, pre);
        while (*p) {
            size_t cl = u8len(*p), enc = 0;

            for (size_t k = 0; k < cl; k++) {
                if (!p[k]) {
                    cl = k;
                    break;
                }
                enc += (q_plain(p[k]) || p[k] == ' ') ? 1 : 3;
            }
            if (cl == 0 || enc > room)
                break;
            for (size_t k = 0; k < cl; k++) {
                if (p[k] == ' ') {
                    gu_buf_append(b, "_", 1);
                } else if (q_plain(p[k])) {
                    gu_buf_append(b, p + k, 1);
                } else {
                    char h[3] = {'=', hexd[p[k] >> 4], hexd[p[k] & 15]};

                    gu_buf_append(b, h, 3);
                }
            }
            room -= enc;
            p += cl;
        }
        gu_buf_puts(b, post);
        if (*p) {
            gu_buf_puts(b, "\r\n ");
            col = 1;
        }
    }
    return b->oom ? GU_ENOMEM : 0;
}

/* ------------------------------------------------------------------ */
/* Quoted-printable and base64                                         */
/* ------------------------------------------------------------------ */

int
notify_qp_encode(struct gu_buf *b, const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t col = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        char tok[3];
        size_t tl = 1;
        bool eol;

        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
                i++;
            gu_buf_puts(b, "\r\n");
            col = 0;
            continue;
        }
        /* whitespace before a line end would be stripped in transit */
        eol = i + 1 == n || s[i + 1] == '\r' || s[i + 1] == '\n';
        tok[0] = (char)c;
        if ((c < 33 && !(c == ' ' || c == '\t')) || c > 126 || c == '=' ||
            ((c == ' ' || c == '\t') && eol) || (c == '.' && col == 0) ||
            (c == 'F' && col == 0 && n - i >= 5 &&
             memcmp(s + i, "From ", 5) == 0)) {
            tok[0] = '=';
            tok[1] = hexd[c >> 4];
            tok[2] = hexd[c & 15];
            tl = 3;
        }
        /* soft break: "=" ends the line, so 75 + 1 <= 76 */
        if (col + tl > NOTIFY_LINE_MAX - 1) {
            gu_buf_puts(b, "=\r\n");
            col = 0;
            if (tl == 1 && c == '.') {
                tok[0] = '=';
                tok[1] = '2';
                tok[2] = 'E';
                tl = 3;
            }
        }
        gu_buf_append(b, tok, tl);
        col += tl;
    }
    if (n > 0 && s[n - 1] != '\n' && s[n - 1] != '\r')
        gu_buf_puts(b, "\r\n");
    return b->oom ? GU_ENOMEM : 0;
}

int
notify_b64_encode(struct gu_buf *b, const unsigned char *p, size_t n)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t col = 0;

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        char q[4];

        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = al[(v >> 18) & 63];
        q[1] = al[(v >> 12) & 63];
        q[2] = i + 1 < n ? al[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? al[v & 63] : '=';
        gu_buf_append(b, q, 4);
        col += 4;
        if (col >= NOTIFY_LINE_MAX) {
            gu_buf_puts(b, "\r\n");
            col = 0;
        }
    }
    if (col)
        gu_buf_puts(b, "\r\n");
    return b->oom ? GU_ENOMEM : 0;
}

/* ------------------------------------------------------------------ */
/* The message                                                         */
/* ------------------------------------------------------------------ */

/* "Mon, 30 Nov 2026 23:10:00 +0000", independent of the locale. */
static void
rfc5322_date(int64_t t, char *buf, size_t cap)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed",
                                     "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr",
                                     "May", "Jun", "Jul", "Aug",
                                     "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000",
             wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A display name: atoms as is, other ASCII quoted, else encoded words. */
static int
put_name(struct gu_buf *b, const char *name, size_t used)
{
    bool atoms = true;

    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || strchr(" !#$%&'*+-/=?^_`{|}~", *p)))
            atoms = false;
    if (atoms && used + strlen(name) < 50)
        return gu_buf_puts(b, name);
    if (ascii_only(name) && used + strlen(name) < 50) {
        gu_buf_puts(b, "\"");
        for (const char *p = name; *p; p++) {
            if (*p == '"' || *p == '\\')
                gu_buf_puts(b, "\\");
            gu_buf_append(b, p, 1);
        }
        return gu_buf_puts(b, "\"");
    }
    return notify_hdr_encode(b, name, used);
}

static bool
token_ok(const char *s, const char *extra, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr(extra, *s)))
            return false;
    return true;
}

bool
notify_msgid_valid(const char *id)
{
    size_t n;
    const char *at;

    if (!id)
        return false;
    n = strlen(id);
    if (n < 3 || n > 250 || id[0] != '<' || id[n - 1] != '>')
        return false;
    /* RFC 5322 wants "left@right", but real mailers (Exchange among
     * them) send ids without '@': harmless, so accepted */
    at = strchr(id, '@');
    if (at && (at == id + 1 || at == id + n - 2 || strchr(at + 1, '@')))
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)id[i];

        if (c <= 0x20 || c >= 0x7f || strchr("<>\\\"(),;:[]", c))
            return false;
    }
    return true;
}

/* Empty or NULL: the optional header is absent. */
static bool
absent(const char *s)
{
    return !s || !*s;
}

static int
bad(struct gu_err *err, const char *field, const char *user, const char *msg)
{
    return gu_err_set(err, GU_EINVAL, field, user, "mime: %s", msg);
}

int
notify_mime_build(const struct notify_msg *m, struct gu_buf *b,
                  struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(1024);
    const char *name, *addr, *rname = "", *raddr = "";
    char date[64];
    bool multi = m->attach_name != NULL;
    int rc;
    size_t used;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = notify_from_parse(a, m->from, &name, &addr);
    if (rc == GU_ENOMEM)
        goto oom;
    if (rc < 0) {
        rc = bad(err, "smtp.from",
                 "Expéditeur invalide (smtp.from), ex. « Mairie "
                 "<mairie@exemple.fr> ».",
                 "bad from");
        goto out;
    }
    if (!m->to || has_ctl(m->to) || !notify_addr_valid(m->to)) {
        rc = bad(err, "to", "Adresse du destinataire invalide.", "bad to");
        goto out;
    }
    if (!m->subject || has_ctl(m->subject) ||
        !gu_utf8_valid(m->subject, strlen(m->subject)) ||
        strlen(m->subject) > 900) {
        rc = bad(err, "subject",
                 "Objet invalide : une seule ligne de texte, sans "
                 "caractère de contrôle.",
                 "bad subject");
        goto out;
    }
    if (!m->text || !gu_utf8_valid(m->text, strlen(m->text))) {
        rc = bad(err, "text", "Texte du message invalide (UTF-8 attendu).",
                 "bad text");
        goto out;
    }
    if (multi && (!token_ok(m->attach_name, "._-", 100) ||
                  m->attach_name[0] == '.' || !m->attach_type ||
                  !strchr(m->attach_type, '/') ||
                  !token_ok(m->attach_type, "/.+-", 100) ||
                  !m->attach_data)) {
        rc = bad(err, "attachment",
                 "Pièce jointe invalide (nom de fichier simple, type "
                 "MIME, contenu).",
                 "bad attachment");
        goto out;
    }
    if (!notify_msgid_valid(m->message_id) || !m->boundary ||
        !token_ok(m->boundary, "_-=.", 70)) {
        rc = bad(err, "message_id", NULL, "bad message id or boundary");
        goto out;
    }
    if (!absent(m->in_reply_to) && !notify_msgid_valid(m->in_reply_to)) {
        rc = bad(err, "in_reply_to",
                 "Identifiant du message auquel on répond invalide "
                 "(forme <identifiant@domaine>).",
                 "bad in_reply_to");
        goto out;
    }
    if (!absent(m->reply_to)) {
        rc = notify_from_parse(a, m->reply_to, &rname, &raddr);
        if (rc == GU_ENOMEM)
            goto oom;
        if (rc < 0) {
            rc = bad(err, "reply_to",
                     "Adresse de réponse (Reply-To) invalide, ex. "
                     "« Mairie <demandes@exemple.fr> ».",
                     "bad reply_to");
            goto out;
        }
    }

    rfc5322_date(m->date, date, sizeof(date));
    gu_buf_printf(b, "Date: %s\r\n", date);
    gu_buf_puts(b, "From: ");
    if (*name) {
        put_name(b, name, 6);
        gu_buf_printf(b, " <%s>\r\n", addr);
    } else {
        gu_buf_printf(b, "%s\r\n", addr);
    }
    gu_buf_printf(b, "To: %s\r\n", m->to);
    gu_buf_puts(b, "Subject: ");
    used = strlen("Subject: ");
    notify_hdr_encode(b, m->subject, used);
    gu_buf_printf(b, "\r\nMessage-ID: %s\r\n", m->message_id);
    if (!absent(m->in_reply_to))
        gu_buf_printf(b, "In-Reply-To: %s\r\nReferences: %s\r\n",
                      m->in_reply_to, m->in_reply_to);
    if (*raddr) {
        gu_buf_puts(b, "Reply-To: ");
        if (*rname) {
            put_name(b, rname, 10);
            gu_buf_printf(b, " <%s>\r\n", raddr);
        } else {
            gu_buf_printf(b, "%s\r\n", raddr);
        }
    }
    gu_buf_puts(b, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
    if (multi) {
        gu_buf_printf(b,
                      "Content-Type: multipart/mixed; boundary=\"%s\"\r\n"
                      "\r\n"
                      "--%s\r\n",
                      m->boundary, m->boundary);
    }
    gu_buf_puts(b, "Content-Type: text/plain; charset=UTF-8\r\n"
                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    notify_qp_encode(b, m->text, strlen(m->text));
    if (multi) {
        bool text = strncmp(m->attach_type, "text/", 5) == 0;

        gu_buf_printf(b,
                      "--%s\r\n"
                      "Content-Type: %s%s; name=\"%s\"\r\n"
                      "Content-Disposition: attachment; filename=\"%s\"\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n",
                      m->boundary, m->attach_type,
                      text ? "; charset=UTF-8" : "", m->attach_name,
                      m->attach_name);
        notify_b64_encode(b, (const unsigned char *)m->attach_data,
                          strlen(m->attach_data));
        gu_buf_printf(b, "--%s--\r\n", m->boundary);
    }
    rc = 0;
    if (b->oom)
        goto oom;
    goto out;
oom:
    rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
out:
    gu_arena_free(a);
    return rc;
}
