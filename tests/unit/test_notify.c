/*
 * test_notify.c - the e-mail outbox and the job runner.
 *
 * MIME building: RFC 2047 encoded words (decoded back here), quoted-
 * printable (decoded back), base64 vectors, CRLF everywhere, line
 * lengths (76 for what we encode, 998 for any line), and header
 * injection refused. The queue on sqlite::memory: migrated with
 * app_migrate(): validation, claim and retry with backoff against a
 * closed port, failure after 5 attempts, two threads never sending the
 * same row, purge. The runner: runs, config get/put balanced, prompt
 * stop; the shared configuration reference.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "app/app.h"
#include "notify/notify.h"
#include "notify/notify_internal.h"
#include "store_fix.h"

/* ------------------------------------------------------------------ */
/* Decoders used to check what we encode                               */
/* ------------------------------------------------------------------ */

static int
hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode a header value made of =?UTF-8?Q?...?= words (folded). */
static void
decode_q(const char *v, char *out, size_t cap)
{
    size_t o = 0;

    while (*v && o + 1 < cap) {
        const char *end;

        if (strncmp(v, "=?UTF-8?Q?", 10) != 0) {
            v++; /* folding whitespace between words is dropped */
            continue;
        }
        v += 10;
        end = strstr(v, "?=");
        if (!end)
            break;
        for (; v < end && o + 1 < cap; v++) {
            if (*v == '_') {
                out[o++] = ' ';
            } else if (*v == '=' && v + 2 < end + 1) {
                out[o++] = (char)(hexv(v[1]) * 16 + hexv(v[2]));
                v += 2;
            } else {
                out[o++] = *v;
            }
        }
        v = end + 2;
    }
    out[o] = '\0';
}

/* Decode quoted-printable with CRLF line ends into LF text. */
static void
decode_qp(const char *s, char *out, size_t cap)
{
    size_t o = 0;

    while (*s && o + 1 < cap) {
        if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
            s += 3;
        } else if (s[0] == '=' && hexv(s[1]) >= 0 && hexv(s[2]) >= 0) {
            out[o++] = (char)(hexv(s[1]) * 16 + hexv(s[2]));
            s += 3;
        } else if (s[0] == '\r' && s[1] == '\n') {
            out[o++] = '\n';
            s += 2;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
}

/* Every LF preceded by CR, every CR followed by LF; max line length. */
static bool
crlf_only(const char *s, size_t *maxline)
{
    size_t col = 0;

    *maxline = 0;
    for (; *s; s++) {
        if (*s == '\r' && s[1] != '\n')
            return false;
        if (*s == '\n') {
            if (s[-1] != '\r')
                return false;
            col = 0;
            continue;
        }
        if (*s != '\r' && ++col > *maxline)
            *maxline = col;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* MIME                                                                */
/* ------------------------------------------------------------------ */

static void
test_addr(void)
{
    static const char *const good[] = {"marie.dupont@exemple.fr",
                                       "a+b@mairie-x.fr", "x_y@a.b.c.org",
                                       "1@2.fr"};
    static const char *const bad[] = {
        "",           "marie",          "@exemple.fr", "marie@",
        "marie@fr",   "a b@exemple.fr", "a@b@c.fr",    "a..b@exemple.fr",
        "a@-x.fr",    "a@x..fr",        "\"a\"@x.fr",  "a@x.fr\r\nBcc: z@y.fr",
        "a<b@x.fr",   "rené@exemple.fr", "a@exemple.fr."};

    for (size_t k = 0; k < GU_ARRAY_LEN(good); k++)
        if (!notify_addr_valid(good[k]))
            TH_FAIL("good address refused: %s", good[k]);
    for (size_t k = 0; k < GU_ARRAY_LEN(bad); k++)
        if (notify_addr_valid(bad[k]))
            TH_FAIL("bad address accepted: %s", bad[k]);
}

static void
test_hdr_encode(void)
{
    static const char *const subjects[] = {
        "Votre demande",
        "Réservation confirmée — mardi 3 décembre à 14 h 30",
        "Ça marche : « été » ?_=",
        "Un objet très long qui dépasse largement la longueur d'une ligne "
        "d'en-tête et doit être replié en plusieurs mots encodés, avec des "
        "accents éèàùç et des symboles €…",
        "日本語のテキスト、絵文字 😀 も"};

    for (size_t k = 0; k < GU_ARRAY_LEN(subjects); k++) {
        struct gu_buf b;
        char dec[1024];
        size_t maxl;

        gu_buf_init(&b);
        gu_buf_puts(&b, "Subject: ");
        CHECK_EQ(notify_hdr_encode(&b, subjects[k], 9), 0);
        CHECK(crlf_only(b.p, &maxl));
        CHECK(maxl <= 76);
        for (size_t i = 0; i < b.n; i++)
            if ((unsigned char)b.p[i] >= 0x80)
                TH_FAIL("raw 8-bit byte in header %zu", k);
        if (k == 0) {
            CHECK_STR(b.p, "Subject: Votre demande");
        } else {
            decode_q(b.p + 9, dec, sizeof(dec));
            CHECK_STR(dec, subjects[k]);
        }
        gu_buf_fini(&b);
    }
}

static void
test_qp(void)
{
    static const char *const texts[] = {
        "Bonjour,\nvotre rendez-vous est confirmé.\n",
        "ligne avec espaces à la fin   \nsuite\t\n",
        ".point en début de ligne\nFrom the start\n",
        "=égal= et 100 % d'accents éèêëàâîïôöùûüç\r\nfin sans retour",
        "une très longue ligne sans retour qui dépasse soixante-seize "
        "caractères de loin, et qui doit donc être coupée par des sauts "
        "doux (=) aux bons endroits sans couper les séquences =XX"};

    for (size_t k = 0; k < GU_ARRAY_LEN(texts); k++) {
        struct gu_buf b;
        char dec[1024], want[1024];
        size_t maxl, o = 0;

        gu_buf_init(&b);
        CHECK_EQ(notify_qp_encode(&b, texts[k], strlen(texts[k])), 0);
        CHECK(crlf_only(b.p, &maxl));
        CHECK(maxl <= 76);
        for (size_t i = 0; i < b.n; i++)
            if ((unsigned char)b.p[i] >= 0x80)
                TH_FAIL("raw 8-bit byte in QP %zu", k);
        /* no whitespace before a line end */
        CHECK(!strstr(b.p, " \r\n") && !strstr(b.p, "\t\r\n"));
        /* no line starts with a dot */
        CHECK(b.p[0] != '.' && !strstr(b.p, "\n."));
        decode_qp(b.p, dec, sizeof(dec));
        for (const char *s = texts[k]; *s; s++)
            if (*s != '\r')
                want[o++] = *s;
        if (o && want[o - 1] != '\n')
            want[o++] = '\n';
        want[o] = '\0';
        CHECK_STR(dec, want);
        gu_buf_fini(&b);
    }
}

static void
test_b64(void)
{
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},
             {"f", "Zg==\r\n"},
             {"fo", "Zm8=\r\n"},
             {"foo", "Zm9v\r\n"},
             {"foobar", "Zm9vYmFy\r\n"}};
    struct gu_buf b;
    char big[200];
    size_t maxl;

    for (size_t k = 0; k < GU_ARRAY_LEN(v); k++) {
        gu_buf_init(&b);
        notify_b64_encode(&b, (const unsigned char *)v[k].in,
                          strlen(v[k].in));
        CHECK_STR(b.p ? b.p : "", v[k].out);
        gu_buf_fini(&b);
    }
    memset(big, 'x', sizeof(big));
    gu_buf_init(&b);
    notify_b64_encode(&b, (const unsigned char *)big, sizeof(big));
    CHECK(crlf_only(b.p, &maxl));
    CHECK_EQ(maxl, 76);
    gu_buf_fini(&b);
}

static struct notify_msg
sample_msg(void)
{
    struct notify_msg m = {
        .from = "Mairie de Saint-Exemple <mairie@saint-exemple.fr>",
        .to = "marie.dupont@exemple.fr",
        .subject = "Réservation confirmée",
        .text = "Bonjour,\n\nVotre rendez-vous est confirmé.\n",
        .date = 1796079600, /* Mon, 30 Nov 2026 23:00:00 UTC */
        .message_id = "<abc@saint-exemple.fr>",
        .boundary = "=_guichet_abc",
    };
    return m;
}

static void
test_mime_build(void)
{
    struct notify_msg m = sample_msg();
    struct gu_buf b;
    struct gu_err err;
    size_t maxl;
    const char *body;

    gu_err_clear(&err);
    gu_buf_init(&b);
    CHECK_EQ(notify_mime_build(&m, &b, &err), 0);
    CHECK(strncmp(b.p, "Date: Mon, 30 Nov 2026 23:00:00 +0000\r\n", 39) == 0);
    CHECK_CONTAINS(b.p, "\r\nFrom: Mairie de Saint-Exemple "
                        "<mairie@saint-exemple.fr>\r\n");
    CHECK_CONTAINS(b.p, "\r\nTo: marie.dupont@exemple.fr\r\n");
    CHECK_CONTAINS(b.p, "\r\nSubject: =?UTF-8?Q?R=C3=A9servation_confirm"
                        "=C3=A9e?=\r\n");
    CHECK_CONTAINS(b.p, "\r\nMessage-ID: <abc@saint-exemple.fr>\r\n");
    CHECK_CONTAINS(b.p, "\r\nMIME-Version: 1.0\r\n");
    CHECK_CONTAINS(b.p, "Content-Type: text/plain; charset=UTF-8\r\n");
    CHECK_CONTAINS(b.p, "Content-Transfer-Encoding: quoted-printable\r\n");
    CHECK(!strstr(b.p, "multipart"));
    CHECK(crlf_only(b.p, &maxl));
    CHECK(maxl <= 998);
    body = strstr(b.p, "\r\n\r\n");
    CHECK(body && crlf_only(body, &maxl) && maxl <= 76);
    CHECK_CONTAINS(body, "Votre rendez-vous est confirm=C3=A9.\r\n");
    gu_buf_fini(&b);

    /* with an attachment: multipart/mixed, base64 part */
    m.attach_name = "rdv.ics";
    m.attach_type = "text/calendar";
    m.attach_data = "BEGIN:VCALENDAR\r\nSUMMARY:Réunion\r\nEND:VCALENDAR\r\n";
    gu_buf_init(&b);
    CHECK_EQ(notify_mime_build(&m, &b, &err), 0);
    CHECK_CONTAINS(b.p, "Content-Type: multipart/mixed; "
                        "boundary=\"=_guichet_abc\"\r\n");
    CHECK_CONTAINS(b.p, "\r\n--=_guichet_abc\r\nContent-Type: text/plain");
    CHECK_CONTAINS(b.p, "\r\n--=_guichet_abc\r\nContent-Type: "
                        "text/calendar; charset=UTF-8; name=\"rdv.ics\"\r\n"
                        "Content-Disposition: attachment; "
                        "filename=\"rdv.ics\"\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\n"
                        "QkVHSU46VkNBTEVOREFS");
    CHECK(b.n > 17 && strcmp(b.p + b.n - 19, "--=_guichet_abc--\r\n") == 0);
    CHECK(crlf_only(b.p, &maxl));
    body = strstr(b.p, "\r\n\r\n");
    CHECK(body && crlf_only(body, &maxl) && maxl <= 76);
    gu_buf_fini(&b);

    /* a non-ASCII display name is encoded too */
    m = sample_msg();
    m.from = "Mairie de Saint-Étienne <mairie@saint-etienne.fr>";
    gu_buf_init(&b);
    CHECK_EQ(notify_mime_build(&m, &b, &err), 0);
    CHECK_CONTAINS(b.p, "From: =?UTF-8?Q?Mairie_de_Saint-=C3=89tienne?= "
                        "<mairie@saint-etienne.fr>\r\n");
    gu_buf_fini(&b);
}

static void
test_header_injection(void)
{
    static const struct {
        const char *field, *value, *errfield;
    } bad[] = {
        {"subject", "Objet\r\nBcc: victime@exemple.fr", "subject"},
        {"subject", "Objet\nBcc: victime@exemple.fr", "subject"},
        {"subject", "Objet\rX: y", "subject"},
        {"to", "marie@exemple.fr\r\nBcc: victime@exemple.fr", "to"},
        {"to", "marie@exemple.fr\n", "to"},
        {"to", "marie@exemple.fr, autre@exemple.fr", "to"},
        {"from", "Mairie <m@x.fr>\r\nBcc: v@x.fr", "smtp.from"},
        {"from", "Mairie\n <m@x.fr>", "smtp.from"},
        {"attach", "rdv.ics\"\r\nX-Evil: 1", "attachment"},
        {"attach", "../etc/passwd", "attachment"},
    };

    for (size_t k = 0; k < GU_ARRAY_LEN(bad); k++) {
        struct notify_msg m = sample_msg();
        struct gu_buf b;
        struct gu_err err;
        int rc;

        if (strcmp(bad[k].field, "subject") == 0)
            m.subject = bad[k].value;
        else if (strcmp(bad[k].field, "to") == 0)
            m.to = bad[k].value;
        else if (strcmp(bad[k].field, "from") == 0)
            m.from = bad[k].value;
        else {
            m.attach_name = bad[k].value;
            m.attach_type = "text/calendar";
            m.attach_data = "x";
        }
        gu_err_clear(&err);
        gu_buf_init(&b);
        rc = notify_mime_build(&m, &b, &err);
        if (rc != GU_EINVAL || strcmp(err.field, bad[k].errfield) != 0)
            TH_FAIL("case %zu: rc=%d field=%s", k, rc, err.field);
        CHECK(err.user[0] != '\0');
        gu_buf_fini(&b);
    }
}

/* ------------------------------------------------------------------ */
/* Queue on sqlite::memory:                                            */
/* ------------------------------------------------------------------ */

struct fx {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg; /* smtp.url points at a closed port */
};

static int
fx_init(struct fx *f)
{
    struct gu_err err;
    int applied = 0;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, &applied, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->cfg, &err) < 0 ||
        gu_config_parse_string(f->cfg,
                               "[smtp]\nurl = smtp://127.0.0.1:1\n"
                               "from = Mairie <mairie@exemple.fr>\n"
                               "starttls = false\ntimeout_ms = 2000\n",
                               &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->a = gu_arena_new(0);
    if (!f->a || th_commune(f->c, "99001", "Saint-Exemple-sur-Loire") < 0)
        return -1;
    return 0;
}

static void
fx_fini(struct fx *f)
{
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
    gu_config_free(f->cfg);
}

static int64_t
queue_one(struct fx *f, const char *to)
{
    struct notify_mail m = {.insee = "99001",
                            .to = to,
                            .subject = "Votre demande n° 12",
                            .text = "Bonjour,\nmerci.\n",
                            .kind = "test"};
    struct gu_err err;
    int64_t id = 0;

    gu_err_clear(&err);
    if (notify_mail_queue(f->c, &m, &id, &err) < 0)
        TH_FAIL("queue: %s", err.msg);
    return id;
}

static int64_t
count_status(struct fx *f, const char *status)
{
    struct store_val p[1] = {STORE_T(status)};
    struct store_rows *r = NULL;
    struct gu_err err;

    gu_err_clear(&err);
    if (store_query(f->c, f->a,
                    "SELECT count(*) FROM notify_outbox WHERE status = ?", p,
                    1, &r, &err) < 0)
        return -1;
    return store_int(r, 0, 0);
}

static void
test_queue_validation(void)
{
    struct fx f;
    struct gu_err err;
    struct notify_mail m = {.insee = "99001",
                            .to = "marie@exemple.fr",
                            .subject = "Objet",
                            .text = "Texte"};
    struct notify_mail bad;

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    gu_err_clear(&err);
    CHECK_EQ(notify_mail_queue(f.c, &m, NULL, &err), 0);
    bad = m;
    bad.to = "pas une adresse";
    CHECK_EQ(notify_mail_queue(f.c, &bad, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "to");
    bad = m;
    bad.subject = "a\r\nBcc: x@y.fr";
    CHECK_EQ(notify_mail_queue(f.c, &bad, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "subject");
    bad = m;
    bad.text = "\xff\xfe";
    CHECK_EQ(notify_mail_queue(f.c, &bad, NULL, &err), GU_EINVAL);
    bad = m;
    bad.insee = "12345"; /* no such commune */
    CHECK_EQ(notify_mail_queue(f.c, &bad, NULL, &err), GU_EINVAL);
    bad = m;
    bad.attach_name = "rdv.ics"; /* without type and data */
    CHECK_EQ(notify_mail_queue(f.c, &bad, NULL, &err), GU_EINVAL);
    CHECK_EQ(count_status(&f, "queued"), 1);
    fx_fini(&f);
}

static void
test_retry_backoff(void)
{
    struct fx f;
    struct gu_err err;
    struct notify_mail_state st;
    struct gu_config *off = NULL;
    int64_t id, now;
    int sent = -1, rc;

    CHECK_EQ(notify_backoff_s(1), 60);
    CHECK_EQ(notify_backoff_s(2), 240);
    CHECK_EQ(notify_backoff_s(3), 960);
    CHECK_EQ(notify_backoff_s(4), 3840);
    CHECK_EQ(notify_backoff_s(9), 6 * 3600);
    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    id = queue_one(&f, "marie@exemple.fr");
    gu_err_clear(&err);

    /* smtp.url empty: a no-op, the message stays queued untouched */
    CHECK_EQ(gu_config_defaults(&off, &err), 0);
    CHECK_EQ(notify_mail_send_due(f.s, off, 10, &sent, &err), 0);
    CHECK_EQ(sent, 0);
    CHECK_EQ(notify_mail_send_one(f.s, off, id, &err), GU_ECONFIG);
    gu_config_free(off);
    CHECK_EQ(notify_mail_get(f.c, f.a, id, &st, &err), 0);
    CHECK_EQ(st.attempts, 0);

    /* closed port: attempt 1 fails, back to queued with a backoff */
    now = gu_now();
    rc = notify_mail_send_due(f.s, f.cfg, 10, &sent, &err);
    CHECK_EQ(rc, GU_EIO);
    CHECK_EQ(sent, 0);
    CHECK_EQ(notify_mail_get(f.c, f.a, id, &st, &err), 0);
    CHECK_STR(st.status, "queued");
    CHECK_EQ(st.attempts, 1);
    CHECK(st.next_try_at >= now + 60 && st.next_try_at <= gu_now() + 60);
    CHECK(st.last_error[0] != '\0');
    CHECK(!strstr(st.last_error, "marie")); /* no address in errors */

    /* not due yet: nothing is claimed */
    CHECK_EQ(notify_mail_send_due(f.s, f.cfg, 10, &sent, &err), 0);
    CHECK_EQ(notify_mail_get(f.c, f.a, id, &st, &err), 0);
    CHECK_EQ(st.attempts, 1);

    /* make it due again until the 5th attempt fails it for good */
    for (int k = 2; k <= 5; k++) {
        CHECK_EQ(store_exec(f.c,
                            "UPDATE notify_outbox SET next_try_at = 0", NULL,
                            0, &err),
                 0);
        notify_mail_send_due(f.s, f.cfg, 10, &sent, &err);
        CHECK_EQ(notify_mail_get(f.c, f.a, id, &st, &err), 0);
        CHECK_EQ(st.attempts, k);
        CHECK_STR(st.status, k < 5 ? "queued" : "failed");
    }
    CHECK_EQ(notify_mail_send_one(f.s, f.cfg, id, &err), GU_ECONFLICT);
    CHECK_EQ(notify_mail_get(f.c, f.a, 4242, &st, &err), GU_ENOTFOUND);
    fx_fini(&f);
}

struct racer {
    struct fx *f;
    int64_t ids[64];
    int n, rc;
};

static void *
race(void *arg)
{
    struct racer *r = arg;
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;

    gu_err_clear(&err);
    r->rc = a ? store_acquire(r->f->s, &c, &err) : GU_ENOMEM;
    while (r->rc == 0) {
        struct store_rows *rows = NULL;

        r->rc = notify_claim(c, a, 0, 3, &rows, &err);
        if (r->rc < 0 || rows->nrows == 0)
            break;
        for (size_t k = 0; k < rows->nrows && r->n < 64; k++)
            r->ids[r->n++] = store_int(rows, k, 0);
    }
    store_release(c);
    gu_arena_free(a);
    return NULL;
}

/* Two senders at once (two nodes on one database): each row once. */
static void
test_claim_once(void)
{
    struct fx f;
    struct racer r[2];
    pthread_t th[2];
    int seen[41] = {0};

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    for (int k = 0; k < 40; k++)
        queue_one(&f, "paul@exemple.fr");
    memset(r, 0, sizeof(r));
    for (int k = 0; k < 2; k++) {
        r[k].f = &f;
        pthread_create(&th[k], NULL, race, &r[k]);
    }
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    CHECK_EQ(r[0].rc, 0);
    CHECK_EQ(r[1].rc, 0);
    CHECK_EQ(r[0].n + r[1].n, 40);
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < r[k].n; j++)
            if (r[k].ids[j] >= 1 && r[k].ids[j] <= 40)
                seen[r[k].ids[j]]++;
    for (int id = 1; id <= 40; id++)
        if (seen[id] != 1)
            TH_FAIL("row %d claimed %d times", id, seen[id]);
    CHECK_EQ(count_status(&f, "sending"), 40);
    fx_fini(&f);
}

/* A training sandbox's mail never leaves: failed with its reason at the
 * next send, without touching the SMTP server; a real commune's row
 * beside it is still tried. */
static void
test_sandbox_never_sent(void)
{
    struct fx f;
    struct gu_err err;
    struct store_commune m;
    struct store_rows *rows = NULL;
    int sent = 0;

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    memset(&m, 0, sizeof(m));
    memcpy(m.insee, "99901", 6);
    m.name = "Bac à sable";
    m.zone = "B";
    gu_err_clear(&err);
    CHECK(store_insee_sandbox("99901"));
    CHECK(!store_insee_sandbox("99001"));
    CHECK(!store_insee_sandbox("2A004"));
    CHECK(!store_insee_sandbox("999"));
    CHECK_EQ(store_commune_create(f.c, &m, &err), 0);
    {
        struct notify_mail nm = {.insee = "99901",
                                 .to = "habitant@exemple.fr",
                                 .subject = "Formation",
                                 .text = "Bonjour.\n",
                                 .kind = "test"};
        int64_t id = 0;
        CHECK_EQ(notify_mail_queue(f.c, &nm, &id, &err), 0);
    }
    queue_one(&f, "paul@exemple.fr");
    CHECK_EQ(notify_mail_send_due(f.s, f.cfg, 50, &sent, &err), GU_EIO);
    CHECK_EQ(store_query(f.c, f.a,
                         "SELECT insee, status, attempts, last_error FROM"
                         " notify_outbox ORDER BY id",
                         NULL, 0, &rows, &err),
             0);
    CHECK_EQ(rows ? rows->nrows : 0, 2);
    if (rows && rows->nrows == 2) {
        CHECK_STR(store_text(rows, 0, 1), "failed");
        CHECK_EQ(store_int(rows, 0, 2), 0); /* never tried */
        CHECK_CONTAINS(store_text(rows, 0, 3), "bac à sable");
        CHECK_STR(store_text(rows, 1, 1), "queued"); /* tried, refused */
        CHECK_EQ(store_int(rows, 1, 2), 1);
    }
    fx_fini(&f);
}

/* A refused connection ends the batch: the others stay untouched. */
static void
test_batch_stops(void)
{
    struct fx f;
    struct gu_err err;
    struct store_rows *rows = NULL;
    int sent = 0;

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    for (int k = 0; k < 5; k++)
        queue_one(&f, "paul@exemple.fr");
    gu_err_clear(&err);
    CHECK_EQ(notify_mail_send_due(f.s, f.cfg, 50, &sent, &err), GU_EIO);
    CHECK_EQ(store_query(f.c, f.a,
                         "SELECT sum(attempts), count(*) FROM notify_outbox "
                         "WHERE status = 'queued'",
                         NULL, 0, &rows, &err),
             0);
    CHECK_EQ(store_int(rows, 0, 0), 1);
    CHECK_EQ(store_int(rows, 0, 1), 5);
    fx_fini(&f);
}

static void
test_purge_and_stale(void)
{
    struct fx f;
    struct gu_err err;
    struct notify_mail_state st;
    int64_t a, b, c;
    int sent;

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    a = queue_one(&f, "a@exemple.fr");
    b = queue_one(&f, "b@exemple.fr");
    c = queue_one(&f, "c@exemple.fr");
    gu_err_clear(&err);
    /* a: sent long ago; b: a claim from a node that died mid-send */
    {
        struct store_val p[2] = {STORE_I(a), STORE_I(b)};

        CHECK_EQ(store_exec(f.c,
                            "UPDATE notify_outbox SET status = 'sent', "
                            "created_at = 1000 WHERE id = ?",
                            p, 1, &err),
                 0);
        CHECK_EQ(store_exec(f.c,
                            "UPDATE notify_outbox SET status = 'sending', "
                            "claimed_at = 1000, next_try_at = 4000000000 "
                            "WHERE id = ?",
                            p + 1, 1, &err),
                 0);
    }
    {
        struct store_val p[1] = {STORE_I(c)};

        CHECK_EQ(store_exec(f.c,
                            "UPDATE notify_outbox SET next_try_at = "
                            "4000000000 WHERE id = ?",
                            p, 1, &err),
                 0);
    }
    /* the next sender fails the interrupted one rather than resend it */
    CHECK_EQ(notify_mail_send_due(f.s, f.cfg, 10, &sent, &err), 0);
    CHECK_EQ(notify_mail_get(f.c, f.a, b, &st, &err), 0);
    CHECK_STR(st.status, "failed");
    CHECK_EQ(notify_mail_purge(f.s, 86400, &err), 1); /* a only */
    CHECK_EQ(notify_mail_get(f.c, f.a, a, &st, &err), GU_ENOTFOUND);
    CHECK_EQ(notify_mail_get(f.c, f.a, c, &st, &err), 0);
    fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Runner                                                              */
/* ------------------------------------------------------------------ */

static int runs_fast, runs_slow, gets, puts_;
static pthread_mutex_t counter_mu = PTHREAD_MUTEX_INITIALIZER;

static int
job_fast(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    (void)s;
    (void)err;
    pthread_mutex_lock(&counter_mu);
    runs_fast++;
    pthread_mutex_unlock(&counter_mu);
    return gu_config_int(cfg, "smtp.timeout_ms") > 0 ? 1 : 0;
}

static int
job_slow(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    (void)s;
    (void)cfg;
    pthread_mutex_lock(&counter_mu);
    runs_slow++;
    pthread_mutex_unlock(&counter_mu);
    return gu_err_set(err, GU_EIO, NULL, NULL, "failing job");
}

static int
job_long(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    int64_t t0 = gu_now_ms();

    (void)s;
    (void)cfg;
    (void)err;
    while (!notify_job_should_stop() && gu_now_ms() - t0 < 20000) {
        struct timespec ts = {0, 10000000L};

        nanosleep(&ts, NULL);
    }
    return 0;
}

static const struct gu_config *
get_cfg(void *ctx)
{
    pthread_mutex_lock(&counter_mu);
    gets++;
    pthread_mutex_unlock(&counter_mu);
    return ctx;
}

static void
put_cfg(void *ctx, const struct gu_config *cfg)
{
    pthread_mutex_lock(&counter_mu);
    if (cfg == ctx)
        puts_++;
    pthread_mutex_unlock(&counter_mu);
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void
test_runner(void)
{
    static const struct notify_job jobs[] = {{"fast", 1, job_fast, false},
                                             {"slow", 3600, job_slow, false}};
    struct notify_runner *r = NULL;
    struct gu_config *cfg = NULL;
    struct gu_err err;
    int64_t t0;

    gu_err_clear(&err);
    CHECK_EQ(gu_config_defaults(&cfg, &err), 0);
    CHECK_EQ(notify_runner_start(NULL, jobs, 2, get_cfg, put_cfg, cfg, &r,
                                 &err),
             0);
    sleep_ms(2600); /* first runs at ~1 s, the fast one again at ~2 s */
    t0 = gu_now_ms();
    notify_runner_stop(r);
    /* stopping does not wait for the hour-long period */
    CHECK(gu_now_ms() - t0 < 500);
    pthread_mutex_lock(&counter_mu);
    CHECK(runs_fast >= 2 && runs_fast <= 3);
    CHECK_EQ(runs_slow, 1);
    CHECK_EQ(gets, runs_fast + runs_slow);
    CHECK_EQ(puts_, gets);
    pthread_mutex_unlock(&counter_mu);
    /* stopping right after start, and stop(NULL) */
    CHECK_EQ(notify_runner_start(NULL, jobs, 2, get_cfg, put_cfg, cfg, &r,
                                 &err),
             0);
    t0 = gu_now_ms();
    notify_runner_stop(r);
    CHECK(gu_now_ms() - t0 < 500);
    notify_runner_stop(NULL);
    /* a long job sees the stop request and ends early */
    {
        struct notify_job longj = {"long", 60, job_long, false};

        CHECK(!notify_job_should_stop());
        CHECK_EQ(notify_runner_start(NULL, &longj, 1, get_cfg, put_cfg, cfg,
                                     &r, &err),
                 0);
        sleep_ms(1300); /* inside the first run */
        t0 = gu_now_ms();
        notify_runner_stop(r);
        CHECK(gu_now_ms() - t0 < 500);
    }
    /* a bad job is refused */
    {
        struct notify_job bad = {"bad", 0, job_fast, false};

        CHECK_EQ(notify_runner_start(NULL, &bad, 1, get_cfg, put_cfg, cfg, &r,
                                     &err),
                 GU_EINVAL);
        CHECK(r == NULL);
    }
    gu_config_free(cfg);
}

static void
test_cfgref(void)
{
    struct notify_cfgref *ref = NULL;
    struct gu_config *c1 = NULL, *c2 = NULL, *c3 = NULL;
    const struct gu_config *held, *now;
    struct gu_err err;

    gu_err_clear(&err);
    CHECK_EQ(gu_config_defaults(&c1, &err), 0);
    CHECK_EQ(gu_config_defaults(&c2, &err), 0);
    CHECK_EQ(gu_config_defaults(&c3, &err), 0);
    CHECK_EQ(notify_cfgref_new(c1, &ref), 0);
    held = notify_cfgref_get(ref);
    CHECK(held == c1);
    /* swapped while held: c1 stays alive until put (ASan checks) */
    notify_cfgref_swap(ref, c2);
    now = notify_cfgref_get(ref);
    CHECK(now == c2);
    CHECK_EQ(gu_config_int(held, "smtp.timeout_ms"), 30000);
    notify_cfgref_put(ref, held);
    notify_cfgref_put(ref, now);
    notify_cfgref_swap(ref, c3); /* c2 not held: freed now */
    CHECK(notify_cfgref_get(ref) == c3);
    notify_cfgref_put(ref, c3);
    notify_cfgref_free(ref);
    notify_cfgref_free(NULL);
}

/* The jobs the app registers: the core purges and the mail jobs. */
static void
test_app_jobs(void)
{
    struct notify_job jobs[APP_MAX_JOBS];
    size_t n = app_jobs(jobs, APP_MAX_JOBS);
    bool send = false, sess = false, rate = false;

    for (size_t k = 0; k < n; k++) {
        if (strcmp(jobs[k].name, "mail.send") == 0)
            send = jobs[k].period_s == 10;
        if (strcmp(jobs[k].name, "session.purge") == 0)
            sess = jobs[k].period_s == 3600;
        if (strcmp(jobs[k].name, "rate.purge") == 0)
            rate = jobs[k].period_s == 3600;
        CHECK(jobs[k].fn != NULL && jobs[k].period_s > 0);
    }
    CHECK(send && sess && rate);
}

/*
 * A heavy job (`once`) runs on one node per period: two nodes on one
 * database (two stores on the same URL would do; one store's claims are
 * the same SQL) get the period once; the next period is free again; a
 * per-node job is always run.
 */
static void
test_job_once(void)
{
    struct fx f;
    struct gu_err err;
    bool mine = false;
    struct notify_job heavy = {"t.heavy", 60, job_fast, true};
    struct notify_job each = {"t.each", 60, job_fast, false};

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        fx_fini(&f);
        return;
    }
    CHECK_EQ(notify_job_claim(f.s, &heavy, &mine, &err), 0);
    CHECK(mine);
    CHECK_EQ(notify_job_claim(f.s, &heavy, &mine, &err), 0);
    CHECK(!mine); /* another node asking in the same period */
    CHECK_EQ(store_exec(f.c,
                        "UPDATE job_runs SET next_at = 0"
                        " WHERE name = 't.heavy'",
                        NULL, 0, &err),
             0); /* the period is over */
    CHECK_EQ(notify_job_claim(f.s, &heavy, &mine, &err), 0);
    CHECK(mine);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(notify_job_claim(f.s, &each, &mine, &err), 0);
        CHECK(mine);
    }
    fx_fini(&f);
}

TESTS(T(test_addr), T(test_hdr_encode), T(test_qp), T(test_b64),
      T(test_mime_build), T(test_header_injection),
      T(test_queue_validation), T(test_retry_backoff), T(test_claim_once), T(test_sandbox_never_sent),
      T(test_batch_stops),
      T(test_purge_and_stale), T(test_runner), T(test_cfgref),
      T(test_app_jobs), T(test_job_once))
