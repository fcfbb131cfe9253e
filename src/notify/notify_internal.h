/*
 * notify_internal.h - the pieces of notify that tests reach directly:
 * address checks and the MIME message builder (notify_mime.c).
 *
 * Not for other modules: they queue with notify_mail_queue().
 */
#ifndef NOTIFY_NOTIFY_INTERNAL_H
#define NOTIFY_NOTIFY_INTERNAL_H

#include "notify/notify.h"

/* Longest line we write in a header or body (RFC 5322 recommends 78). */
#define NOTIFY_LINE_MAX 76

/*
 * An address we accept: ASCII local@domain, no spaces, quotes, angle
 * brackets or control characters, a dotted domain, <= 254 bytes.
 */
bool notify_addr_valid(const char *addr);

/*
 * Split smtp.from ("Mairie <mairie@ex.fr>" or "mairie@ex.fr") into its
 * display name (may be empty) and address, copied into the arena.
 * GU_EINVAL when the address is not valid or a CR/LF is present.
 */
int notify_from_parse(struct gu_arena *a, const char *from,
                      const char **name, const char **addr);

/*
 * Append `text` as a header value to b: as is when it is short printable
 * ASCII, else as RFC 2047 encoded words ("=?UTF-8?Q?...?=") of at most 75
 * characters, folded with CRLF SP so that no line exceeds 76 characters.
 * `used` is how many characters the line already holds ("Subject: ").
 */
int notify_hdr_encode(struct gu_buf *b, const char *text, size_t used);

/* Append text as quoted-printable with CRLF line ends, lines <= 76. */
int notify_qp_encode(struct gu_buf *b, const char *text, size_t n);

/* Append bytes as base64, lines of 76 characters ending in CRLF. */
int notify_b64_encode(struct gu_buf *b, const unsigned char *p, size_t n);

/* The fields of one message to build. */
struct notify_msg {
    const char *from;     /* smtp.from as configured */
    const char *to;
    const char *subject;
    const char *text;
    const char *attach_name; /* NULL = no attachment */
    const char *attach_type;
    const char *attach_data;
    int64_t date;            /* unix seconds for the Date header */
    const char *message_id;  /* "<...@domain>" */
    const char *boundary;    /* for multipart, random */
    /* Threading, each NULL or "" when absent: the "<...@...>" this
     * message answers (In-Reply-To, and References), and a Reply-To
     * ("a@b.fr" or "Name <a@b.fr>"). */
    const char *in_reply_to;
    const char *reply_to;
};

/*
 * A Message-ID as we accept it in a header we write: "<left@right>"
 * ("<id>" without '@' too: some mailers send that), printable ASCII
 * without spaces, quotes, angle brackets, backslashes, parentheses,
 * commas, colons, semicolons, square brackets or a second '@', 3..250
 * bytes.
 */
bool notify_msgid_valid(const char *id);

/*
 * Build the whole message (headers and body, CRLF line ends) into b.
 * GU_EINVAL (err->field names the field) on CR or LF in a header field,
 * an invalid address, a bad attachment name or type, a malformed
 * Message-ID / In-Reply-To / Reply-To, or text that is not UTF-8.
 */
int notify_mime_build(const struct notify_msg *m, struct gu_buf *b,
                      struct gu_err *err);

/*
 * Claim due rows (at most max), or the one row `only` (due or not), in
 * one write transaction: status "sending", attempts + 1. Rows in *out
 * (columns id, to_addr, subject, body, attach_name, attach_type,
 * attach_data, attempts, message_id, in_reply_to, reply_to). Claims
 * interrupted long ago become "failed".
 */
int notify_claim(struct store_conn *c, struct gu_arena *a, int64_t only,
                 int max, struct store_rows **out, struct gu_err *err);

/* Delay before the next attempt after `attempts` failed ones (60 s x 4^k,
 * at most 6 h). */
int64_t notify_backoff_s(int attempts);

#endif
