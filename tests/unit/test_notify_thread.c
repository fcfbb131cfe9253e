/*
 * test_notify_thread.c - threading headers of outbound e-mails (the
 * request inbox's replies): Message-ID chosen at queueing, In-Reply-To
 * and References, Reply-To; stored in notify_outbox (migration notify 2)
 * and handed back by the claim; refused when they could inject a header.
 * The real SMTP round trip is tests/mail/test_tri_mail_smtp.sh.
 */
#include <stdlib.h>

#include "harness.h"
#include "app/app.h"
#include "notify/notify.h"
#include "notify/notify_internal.h"
#include "store_fix.h"

static struct notify_msg
sample(void)
{
    struct notify_msg m = {
        .from = "Mairie de Saint-Exemple <mairie@saint-exemple.fr>",
        .to = "jeanne.martin@exemple.fr",
        .subject = "[Demande 2026-00001] Réponse de la mairie",
        .text = "Bonjour,\n\nLes services techniques passeront jeudi.\n",
        .date = 1796079600,
        .message_id = "<rep-1@saint-exemple.fr>",
        .boundary = "=_guichet_abc",
        .in_reply_to = "<CAF7a1b2c3d4e5f6@mail.exemple.fr>",
        .reply_to = "Demandes de Saint-Étienne <demandes@saint-exemple.fr>",
    };
    return m;
}

static void
test_headers(void)
{
    struct notify_msg m = sample();
    struct gu_buf b;
    struct gu_err err;
    const char *body;

    gu_err_clear(&err);
    gu_buf_init(&b);
    CHECK_EQ(notify_mime_build(&m, &b, &err), 0);
    CHECK_CONTAINS(b.p, "\r\nMessage-ID: <rep-1@saint-exemple.fr>\r\n");
    CHECK_CONTAINS(b.p, "\r\nIn-Reply-To: <CAF7a1b2c3d4e5f6@mail.exemple.fr>"
                        "\r\n");
    CHECK_CONTAINS(b.p, "\r\nReferences: <CAF7a1b2c3d4e5f6@mail.exemple.fr>"
                        "\r\n");
    CHECK_CONTAINS(b.p, "\r\nReply-To: =?UTF-8?Q?Demandes_de_Saint-=C3=89"
                        "tienne?= <demandes@saint-exemple.fr>\r\n");
    body = strstr(b.p, "\r\n\r\n");
    /* the headers stay in the header block */
    CHECK(body && strstr(b.p, "In-Reply-To") < body &&
          strstr(b.p, "Reply-To") < body);
    gu_buf_fini(&b);

    /* a bare address as Reply-To; no In-Reply-To -> no References */
    m.reply_to = "demandes@saint-exemple.fr";
    m.in_reply_to = "";
    gu_buf_init(&b);
    CHECK_EQ(notify_mime_build(&m, &b, &err), 0);
    CHECK_CONTAINS(b.p, "\r\nReply-To: demandes@saint-exemple.fr\r\n");
    CHECK(!strstr(b.p, "In-Reply-To"));
    CHECK(!strstr(b.p, "References"));
    gu_buf_fini(&b);

    /* none of them: the message is as before */
    m.reply_to = NULL;
    m.in_reply_to = NULL;
    gu_buf_init(&b);
    CHECK_EQ(notify_mime_build(&m, &b, &err), 0);
    CHECK(!strstr(b.p, "Reply-To"));
    gu_buf_fini(&b);
}

static void
test_injection(void)
{
    static const struct {
        const char *field, *value, *errfield;
    } bad[] = {
        {"irt", "<a@b.fr>\r\nBcc: victime@exemple.fr", "in_reply_to"},
        {"irt", "<a@b.fr>\nX: y", "in_reply_to"},
        {"irt", "a@b.fr", "in_reply_to"},
        {"irt", "<a b@c.fr>", "in_reply_to"},
        {"irt", "<a@b.fr> <c@d.fr>", "in_reply_to"},
        {"irt", "<@b.fr>", "in_reply_to"},
        {"rt", "demandes@x.fr\r\nBcc: victime@exemple.fr", "reply_to"},
        {"rt", "Mairie <demandes@x.fr>\nBcc: v@x.fr", "reply_to"},
        {"rt", "pas une adresse", "reply_to"},
        {"rt", "a@x.fr, b@x.fr", "reply_to"},
        {"mid", "<rep@x.fr>\r\nBcc: v@x.fr", "message_id"},
        {"mid", "rep@x.fr", "message_id"},
        {"mid", "<r\"ep@x.fr>", "message_id"},
    };

    for (size_t k = 0; k < GU_ARRAY_LEN(bad); k++) {
        struct notify_msg m = sample();
        struct gu_buf b;
        struct gu_err err;
        int rc;

        if (strcmp(bad[k].field, "irt") == 0)
            m.in_reply_to = bad[k].value;
        else if (strcmp(bad[k].field, "rt") == 0)
            m.reply_to = bad[k].value;
        else
            m.message_id = bad[k].value;
        gu_err_clear(&err);
        gu_buf_init(&b);
        rc = notify_mime_build(&m, &b, &err);
        if (rc != GU_EINVAL || strcmp(err.field, bad[k].errfield) != 0)
            TH_FAIL("case %zu: rc=%d field=%s", k, rc, err.field);
        CHECK(!strstr(b.p ? b.p : "", "Bcc"));
        gu_buf_fini(&b);
    }
    CHECK(notify_msgid_valid("<a.b-c_d+e@f.g>"));
    CHECK(!notify_msgid_valid(NULL));
    CHECK(!notify_msgid_valid("<a@b@c>"));
    CHECK(!notify_msgid_valid("<a@b>x"));
}

struct fx {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg;
};

static int
fx_init(struct fx *f, const char *ini)
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
        gu_config_parse_string(f->cfg, ini, &err) < 0) {
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

static void
test_message_id(void)
{
    struct fx f;
    const char *a, *b;

    if (fx_init(&f, "[smtp]\nfrom = Mairie <mairie@saint-exemple.fr>\n") < 0) {
        TH_FAIL("fixture");
        return;
    }
    a = notify_message_id(f.a, f.cfg);
    b = notify_message_id(f.a, f.cfg);
    CHECK(a && b && strcmp(a, b) != 0);
    CHECK(notify_msgid_valid(a));
    CHECK(a && strlen(a) > 20);
    CHECK(a && strlen(a) > 18 &&
          strcmp(a + strlen(a) - 18, "@saint-exemple.fr>") == 0);
    fx_fini(&f);

    /* no smtp.from: a domain that can never clash */
    if (fx_init(&f, "") < 0) {
        TH_FAIL("fixture");
        return;
    }
    a = notify_message_id(f.a, f.cfg);
    CHECK(a && strstr(a, "@guichet.invalid>") && notify_msgid_valid(a));
    fx_fini(&f);
}

static void
test_queue_and_claim(void)
{
    struct fx f;
    struct notify_mail m = {
        .insee = "99001",
        .to = "jeanne.martin@exemple.fr",
        .subject = "[Demande 2026-00001] Réponse",
        .text = "Bonjour,\n",
        .kind = "triage.reply",
        .message_id = "<rep-2@saint-exemple.fr>",
        .in_reply_to = "<CAF7@mail.exemple.fr>",
        .reply_to = "Mairie <demandes@saint-exemple.fr>",
    };
    struct store_rows *r = NULL;
    struct gu_err err;
    int64_t id = 0, plain = 0;

    if (fx_init(&f, "") < 0) {
        TH_FAIL("fixture");
        return;
    }
    gu_err_clear(&err);
    CHECK_EQ(notify_mail_queue(f.c, &m, &id, &err), 0);
    m.message_id = NULL;
    m.in_reply_to = NULL;
    m.reply_to = NULL;
    CHECK_EQ(notify_mail_queue(f.c, &m, &plain, &err), 0);
    CHECK_EQ(notify_claim(f.c, f.a, id, 1, &r, &err), 0);
    CHECK(r && r->nrows == 1 && r->ncols == 11);
    if (r && r->nrows == 1 && r->ncols == 11) {
        CHECK_STR(store_text(r, 0, 8), "<rep-2@saint-exemple.fr>");
        CHECK_STR(store_text(r, 0, 9), "<CAF7@mail.exemple.fr>");
        CHECK_STR(store_text(r, 0, 10), "Mairie <demandes@saint-exemple.fr>");
    }
    CHECK_EQ(notify_claim(f.c, f.a, plain, 1, &r, &err), 0);
    if (r && r->nrows == 1 && r->ncols == 11) {
        CHECK_STR(store_text(r, 0, 8), "");
        CHECK_STR(store_text(r, 0, 9), "");
        CHECK_STR(store_text(r, 0, 10), "");
    }

    /* refused at the door, nothing queued */
    {
        static const struct {
            int which;
            const char *v, *field;
        } bad[] = {
            {0, "<x@y.fr>\r\nBcc: v@x.fr", "message_id"},
            {0, "pas-un-id", "message_id"},
            {1, "<x@y.fr>\nBcc: v@x.fr", "in_reply_to"},
            {2, "a@x.fr\r\nBcc: v@x.fr", "reply_to"},
            {2, "Mairie", "reply_to"},
        };
        struct store_rows *cnt = NULL;

        for (size_t k = 0; k < GU_ARRAY_LEN(bad); k++) {
            struct notify_mail b = m;

            if (bad[k].which == 0)
                b.message_id = bad[k].v;
            else if (bad[k].which == 1)
                b.in_reply_to = bad[k].v;
            else
                b.reply_to = bad[k].v;
            gu_err_clear(&err);
            if (notify_mail_queue(f.c, &b, NULL, &err) != GU_EINVAL ||
                strcmp(err.field, bad[k].field) != 0)
                TH_FAIL("queue case %zu: field=%s", k, err.field);
        }
        CHECK_EQ(store_query(f.c, f.a, "SELECT COUNT(*) FROM notify_outbox",
                             NULL, 0, &cnt, &err),
                 0);
        CHECK_EQ(store_int(cnt, 0, 0), 2);
    }
    fx_fini(&f);
}

/* A claimed row with a chosen Message-ID keeps it when sending fails
 * too (the retry must go out under the same identifier). */
static void
test_send_keeps_id(void)
{
    struct fx f;
    struct notify_mail m = {
        .insee = "99001",
        .to = "jeanne.martin@exemple.fr",
        .subject = "Réponse",
        .text = "Bonjour,\n",
        .message_id = "<garde@saint-exemple.fr>",
    };
    struct notify_mail_state st;
    struct gu_err err;
    int64_t id = 0;

    if (fx_init(&f, "[smtp]\nurl = smtp://127.0.0.1:1\n"
                    "from = Mairie <mairie@saint-exemple.fr>\n"
                    "starttls = false\ntimeout_ms = 2000\n") < 0) {
        TH_FAIL("fixture");
        return;
    }
    gu_err_clear(&err);
    CHECK_EQ(notify_mail_queue(f.c, &m, &id, &err), 0);
    CHECK_EQ(notify_mail_send_one(f.s, f.cfg, id, &err), GU_EIO);
    CHECK_EQ(notify_mail_get(f.c, f.a, id, &st, &err), 0);
    CHECK_STR(st.status, "queued");
    CHECK_STR(st.message_id, "<garde@saint-exemple.fr>");
    fx_fini(&f);
}

TESTS(T(test_headers), T(test_injection), T(test_message_id),
      T(test_queue_and_claim), T(test_send_keeps_id))
