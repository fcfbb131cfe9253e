/*
 * test_tri_mail.c - the e-mail import of the request inbox against a real
 * SQLite store (sqlite::memory:, every module migrated) and the French
 * e-mails of tests/data/mail/: plain UTF-8, multipart with a photo and a
 * .docx, ISO-8859-1 quoted-printable with a Windows-1252 euro sign,
 * HTML only in Windows-1252 base64, a reply quoting the mairie's message,
 * an auto-reply, a bounce, a message with no Message-ID and a malformed
 * one. Threading by In-Reply-To, by References and by the number in the
 * subject (sender checked); idempotence; Maildir moves; mbox unescaping
 * and read-only; bounds.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "app/app.h"
#include "triage/tri.h"
#include "store_url.h"

#ifndef GU_SOURCE_DIR
#define GU_SOURCE_DIR "."
#endif
#define MAILDATA GU_SOURCE_DIR "/tests/data/mail/"
#define INSEE "99001"

struct fx {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg;
};

static int
fx_init(struct fx *f)
{
    struct store_commune m;
    struct gu_err err;
    int applied = 0;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    gu_log_set_level(GU_LOG_ERROR);
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, &applied, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->cfg, &err) < 0 ||
        gu_config_parse_string(
            f->cfg,
            "[server]\npublic_url = https://saint-exemple.example\n"
            "[smtp]\nfrom = Mairie <mairie@saint-exemple-sur-loire.fr>\n",
            &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->a = gu_arena_new(0);
    memset(&m, 0, sizeof(m));
    memcpy(m.insee, INSEE, 6);
    m.name = "Saint-Exemple-sur-Loire";
    m.zone = "B";
    if (!f->a || store_commune_create(f->c, &m, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
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

/* A file of tests/data/mail in the arena (size in *n). */
static const char *
load(struct fx *f, const char *name, size_t *n)
{
    char path[1024];
    FILE *fp;
    char *p;
    long sz;

    snprintf(path, sizeof(path), MAILDATA "%s", name);
    fp = fopen(path, "rb");
    if (!fp) {
        TH_FAIL("cannot open %s", path);
        *n = 0;
        return "";
    }
    fseek(fp, 0, SEEK_END);
    sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    p = gu_arena_alloc(f->a, (size_t)sz + 1);
    *n = fread(p, 1, (size_t)sz, fp);
    p[*n] = '\0';
    fclose(fp);
    return p;
}

static int
import(struct fx *f, const char *name, struct tri_mail_stats *st)
{
    struct gu_err err;
    size_t n;
    const char *msg = load(f, name, &n);
    int rc;

    gu_err_clear(&err);
    rc = tri_mail_import_one(f->s, f->c, f->cfg, INSEE, msg, n, st, &err);
    if (rc < 0)
        fprintf(stderr, "  import %s: %s / %s\n", name, err.msg, err.user);
    return rc;
}

static int64_t
count_sql(struct fx *f, const char *sql)
{
    struct store_rows *r = NULL;
    struct gu_err err;

    gu_err_clear(&err);
    if (store_query(f->c, f->a, sql, NULL, 0, &r, &err) < 0) {
        TH_FAIL("sql: %s", err.msg);
        return -1;
    }
    return store_int(r, 0, 0);
}

/* The newest request (id), read back through tri_get. */
static int
last_request(struct fx *f, struct tri_request *out)
{
    struct gu_err err;
    int64_t id = count_sql(f, "SELECT MAX(id) FROM tri_requests");

    gu_err_clear(&err);
    return tri_get(f->c, f->a, INSEE, id, out, &err);
}

static void
test_plain(void)
{
    struct fx f;
    struct tri_mail_stats st = {0};
    struct tri_request r;

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    CHECK_EQ(import(&f, "01-texte.eml", &st), 0);
    CHECK_EQ(st.seen, 1);
    CHECK_EQ(st.created, 1);
    CHECK_EQ(last_request(&f, &r), 0);
    CHECK_EQ(r.channel, TRI_COURRIEL);
    CHECK_STR(r.subject, "Nid-de-poule dangereux rue des Tilleuls");
    CHECK_CONTAINS(r.body, "gros nid-de-poule devant le 14 rue des Tilleuls");
    CHECK_CONTAINS(r.body, "passage piéton de l'école");
    CHECK(!strstr(r.body, "\r"));
    CHECK_STR(r.contact_email, "jeanne.martin@exemple.fr");
    CHECK_STR(r.contact_name, "Jeanne Martin");
    CHECK_STR(r.origin, "mail:<CAF7a1b2c3d4e5f6@mail.exemple.fr>");
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_mail_seen WHERE "
                           "message_id = '<CAF7a1b2c3d4e5f6@mail.exemple.fr>'"
                           " AND request_id > 0"),
             1);
    /* the resident gets the acknowledgement, threaded to their e-mail */
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM notify_outbox WHERE "
                           "to_addr = 'jeanne.martin@exemple.fr' AND "
                           "in_reply_to = "
                           "'<CAF7a1b2c3d4e5f6@mail.exemple.fr>'"),
             1);

    /* twice: nothing new */
    memset(&st, 0, sizeof(st));
    CHECK_EQ(import(&f, "01-texte.eml", &st), 0);
    CHECK_EQ(st.skipped, 1);
    CHECK_EQ(st.created, 0);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_requests"), 1);
    fx_fini(&f);
}

static void
test_photo(void)
{
    struct fx f;
    struct tri_mail_stats st = {0};
    struct tri_request r;
    struct tri_attachment *att = NULL;
    size_t na = 0;
    struct gu_err err;

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    CHECK_EQ(import(&f, "02-photo.eml", &st), 0);
    CHECK_EQ(st.created, 1);
    CHECK_EQ(last_request(&f, &r), 0);
    CHECK_STR(r.subject, "Dépôt sauvage derrière le gymnase");
    CHECK_STR(r.contact_name, "François Léger");
    /* text/plain preferred to the HTML alternative; QP soft breaks */
    CHECK_CONTAINS(r.body, "ont été déposés derrière le gymnase municipal");
    CHECK(!strstr(r.body, "version HTML"));
    /* the .docx is named, not kept */
    CHECK_CONTAINS(r.body, "courrier.docx (format non conservé)");
    gu_err_clear(&err);
    CHECK_EQ(tri_attachments(f.c, f.a, INSEE, r.id, &att, &na, &err), 0);
    CHECK_EQ(na, 1);
    if (na == 1) {
        CHECK_STR(att[0].ctype, "image/jpeg");
        CHECK(att[0].size > 100);
        CHECK_CONTAINS(att[0].filename, "IMG_20261130_0912");
    }
    fx_fini(&f);
}

static void
test_charsets(void)
{
    struct fx f;
    struct tri_mail_stats st = {0};
    struct tri_request r;

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    CHECK_EQ(import(&f, "03-latin1-qp.eml", &st), 0);
    CHECK_EQ(last_request(&f, &r), 0);
    CHECK_STR(r.subject, "Facture cantine élevée pour décembre");
    /* raw 8-bit Latin-1 in From: decoded by the fallback charsets */
    CHECK_STR(r.contact_name, "André Dupré");
    CHECK_CONTAINS(r.body, "s'élève à 145 € pour le mois de décembre");
    CHECK_CONTAINS(r.body, "n'a déjeuné que neuf fois");

    CHECK_EQ(import(&f, "04-html.eml", &st), 0);
    CHECK_EQ(last_request(&f, &r), 0);
    CHECK_STR(r.subject, "Lampadaire en panne");
    CHECK_CONTAINS(r.body, "Le lampadaire situé au 3 allée des Chênes ne "
                           "fonctionne plus");
    CHECK_CONTAINS(r.body, "complètement dans le noir à partir de 18 h.");
    CHECK_CONTAINS(r.body, "- poteau n° A-127\n- côté pair");
    CHECK_CONTAINS(r.body, "Merci – Sophie Bernard");
    CHECK(!strstr(r.body, "alert"));
    CHECK(!strstr(r.body, "margin"));
    CHECK(!strstr(r.body, "<"));

    CHECK_EQ(import(&f, "08-sans-message-id.eml", &st), 0);
    CHECK_EQ(last_request(&f, &r), 0);
    CHECK_STR(r.subject, "Inscription sur les listes électorales");
    CHECK(strncmp(r.origin, "mail:sha256:", 12) == 0);
    CHECK_EQ(st.created, 3);
    /* no Message-ID: its bytes identify it */
    CHECK_EQ(import(&f, "08-sans-message-id.eml", &st), 0);
    CHECK_EQ(st.skipped, 1);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_requests"), 3);
    fx_fini(&f);
}

static void
test_skipped(void)
{
    struct fx f;
    struct tri_mail_stats st = {0};
    static const char own[] =
        "Message-ID: <ack-1@saint-exemple-sur-loire.fr>\r\n"
        "From: Mairie <MAIRIE@saint-exemple-sur-loire.fr>\r\n"
        "To: demandes@saint-exemple-sur-loire.fr\r\n"
        "Subject: [Demande 2026-00001] Votre demande a bien été reçue\r\n"
        "\r\nBonjour,\r\n";
    struct gu_err err;

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    CHECK_EQ(import(&f, "06-reponse-auto.eml", &st), 0);
    CHECK_EQ(import(&f, "07-non-remise.eml", &st), 0);
    gu_err_clear(&err);
    CHECK_EQ(tri_mail_import_one(f.s, f.c, f.cfg, INSEE, own, strlen(own), &st,
                                 &err),
             0);
    CHECK_EQ(st.seen, 3);
    CHECK_EQ(st.skipped, 3);
    CHECK_EQ(st.created, 0);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_requests"), 0);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_mail_seen WHERE "
                           "request_id = 0"),
             3);
    fx_fini(&f);
}

static void
test_malformed(void)
{
    struct fx f;
    struct tri_mail_stats st = {0};
    struct tri_request r;
    struct gu_err err;
    static const char junk[] = "\x01\x02\x03 ceci n'a rien d'un courriel";
    static const char empty[] = "From: a@b.fr\r\n\r\n";

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    /* broken but readable: the text is salvaged, the broken photo is
     * refused and named, the request exists */
    CHECK_EQ(import(&f, "09-malforme.eml", &st), 0);
    CHECK_EQ(st.created, 1);
    CHECK_EQ(last_request(&f, &r), 0);
    CHECK_STR(r.subject, "Arbre tombé sur la chaussée");
    CHECK_CONTAINS(r.body, "Un arbre est tombé sur la route de la Forêt "
                           "après la tempête, la route est barrée.");
    CHECK_CONTAINS(r.body, "non conservée");

    /* nothing to make a request of: a clear failure, nothing stored */
    memset(&st, 0, sizeof(st));
    gu_err_clear(&err);
    CHECK(tri_mail_import_one(f.s, f.c, f.cfg, INSEE, junk, sizeof(junk) - 1,
                              &st, &err) < 0 ||
          count_sql(&f, "SELECT COUNT(*) FROM tri_requests") == 2);
    gu_err_clear(&err);
    CHECK(tri_mail_import_one(f.s, f.c, f.cfg, INSEE, empty, strlen(empty),
                              &st, &err) == GU_EINVAL);
    CHECK_CONTAINS(err.user, "Courriel vide");
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_mail_seen WHERE "
                           "message_id LIKE 'sha256:%'"),
             count_sql(&f, "SELECT COUNT(*) FROM tri_requests WHERE origin "
                           "LIKE 'mail:sha256:%'"));
    gu_err_clear(&err);
    CHECK_EQ(tri_mail_import_one(f.s, f.c, f.cfg, INSEE, "", 0, &st, &err),
             GU_EINVAL);
    gu_err_clear(&err);
    CHECK_EQ(tri_mail_import_one(f.s, f.c, f.cfg, "99x", empty, strlen(empty),
                                 &st, &err),
             GU_EINVAL);
    gu_err_clear(&err);
    CHECK_EQ(tri_mail_import_one(f.s, f.c, f.cfg, INSEE, empty,
                                 TRI_MAIL_BYTES + 1, &st, &err),
             GU_ETOOBIG);
    CHECK(st.failed >= 4);
    fx_fini(&f);
}

/* Threading: In-Reply-To on the mairie's message, References on the
 * resident's first e-mail, the number in the subject from the same
 * sender only. */
static void
test_threading(void)
{
    struct fx f;
    struct tri_mail_stats st = {0};
    struct tri_request r;
    struct tri_message *msgs = NULL;
    size_t nm = 0;
    struct gu_err err;
    int64_t req;
    const char *in = NULL, *mark;

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    CHECK_EQ(import(&f, "01-texte.eml", &st), 0);
    CHECK_EQ(last_request(&f, &r), 0);
    req = r.id;
    gu_err_clear(&err);
    CHECK_EQ(tri_message_add(f.c, INSEE, req, TRI_MSG_OUT, "agent1", "",
                             "Bonjour Madame, les services passeront.",
                             "<reponse-agent-1@saint-exemple-sur-loire.fr>",
                             NULL, 0, NULL, &err),
             0);
    CHECK_EQ(import(&f, "05-reponse.eml", &st), 0);
    CHECK_EQ(st.threaded, 1);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_requests"), 1);
    CHECK_EQ(tri_messages(f.c, f.a, INSEE, req, &msgs, &nm, &err), 0);
    for (size_t i = 0; i < nm; i++)
        if (msgs[i].kind == TRI_MSG_IN &&
            strcmp(msgs[i].mail_message_id,
                   "<CAF7a1b2c3d4e5f6-reply@mail.exemple.fr>") == 0)
            in = msgs[i].body;
    CHECK(in != NULL);
    if (in) {
        /* what she wrote first; the signature and the quote kept below */
        CHECK(strncmp(in, "Merci pour votre réponse rapide.", 33) == 0);
        mark = strstr(in, "-------- Texte cité --------");
        CHECK(mark != NULL);
        CHECK(mark && strstr(in, "balisage.") < mark);
        CHECK(mark && strstr(mark, "> Bonjour Madame,"));
        CHECK(mark && strstr(mark, "a écrit :"));
        CHECK(mark && strstr(mark, "Jeanne Martin"));
    }

    /* References alone (her first e-mail), In-Reply-To unknown */
    {
        static const char refs[] =
            "Message-ID: <refs-only@mail.exemple.fr>\r\n"
            "In-Reply-To: <inconnu@ailleurs.fr>\r\n"
            "References: <CAF7a1b2c3d4e5f6@mail.exemple.fr>\r\n"
            "From: jeanne.martin@exemple.fr\r\n"
            "Subject: Re: nid-de-poule\r\n"
            "\r\nJ'ajoute que le panneau est tombé.\r\n";

        gu_err_clear(&err);
        CHECK_EQ(tri_mail_import_one(f.s, f.c, f.cfg, INSEE, refs,
                                     strlen(refs), &st, &err),
                 0);
        CHECK_EQ(st.threaded, 2);
    }

    /* the number in the subject: the contact's own address only */
    {
        char msg[600];

        snprintf(msg, sizeof(msg),
                 "Message-ID: <par-numero@mail.exemple.fr>\r\n"
                 "From: Jeanne Martin <jeanne.martin@exemple.fr>\r\n"
                 "Subject: Re: [Demande %s] Votre demande a bien été "
                 "reçue\r\n\r\nEt il y a maintenant de l'eau dedans.\r\n",
                 r.number);
        gu_err_clear(&err);
        CHECK_EQ(tri_mail_import_one(f.s, f.c, f.cfg, INSEE, msg, strlen(msg),
                                     &st, &err),
                 0);
        CHECK_EQ(st.threaded, 3);
        snprintf(msg, sizeof(msg),
                 "Message-ID: <usurpe@ailleurs.fr>\r\n"
                 "From: quelqu.un@ailleurs.fr\r\n"
                 "Subject: Re: [Demande %s] fermez la demande\r\n"
                 "\r\nMerci de clore cette demande.\r\n",
                 r.number);
        gu_err_clear(&err);
        CHECK_EQ(tri_mail_import_one(f.s, f.c, f.cfg, INSEE, msg, strlen(msg),
                                     &st, &err),
                 0);
        CHECK_EQ(st.threaded, 3);
        CHECK_EQ(st.created, 2);
    }
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_messages WHERE "
                           "kind = 'entrant'"),
             3);
    fx_fini(&f);
}

/* ----- Maildir and mbox --------------------------------------------- */

static const char *const ALL[] = {
    "01-texte.eml",       "02-photo.eml",          "03-latin1-qp.eml",
    "04-html.eml",        "05-reponse.eml",        "06-reponse-auto.eml",
    "07-non-remise.eml",  "08-sans-message-id.eml", "09-malforme.eml"};

static void
write_file(const char *path, const char *p, size_t n)
{
    FILE *fp = fopen(path, "wb");

    if (!fp) {
        TH_FAIL("cannot write %s", path);
        return;
    }
    fwrite(p, 1, n, fp);
    fclose(fp);
}

static size_t
dir_count(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);

        if (e->d_name[0] == '.')
            continue;
        if (!suffix || (l > strlen(suffix) &&
                        strcmp(e->d_name + l - strlen(suffix), suffix) == 0))
            n++;
    }
    closedir(d);
    return n;
}

static void
rm_rf(const char *dir)
{
    char cmd[1200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        TH_FAIL("rm -rf %s", dir);
}

static void
test_maildir(void)
{
    struct fx f;
    struct tri_mail_stats st = {0};
    struct gu_err err;
    char tmpl[] = "/tmp/guichet-maildir.XXXXXX", path[1200];
    const char *dir;

    if (fx_init(&f) < 0 || !(dir = mkdtemp(tmpl))) {
        TH_FAIL("fixture");
        return;
    }
    snprintf(path, sizeof(path), "%s/new", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/cur", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/tmp", dir);
    mkdir(path, 0700);
    for (size_t i = 0; i < GU_ARRAY_LEN(ALL); i++) {
        size_t n;
        const char *p = load(&f, ALL[i], &n);

        /* delivery order = name order, as Maildir names start with time */
        snprintf(path, sizeof(path), "%s/new/17329%05zu.M%zuP1.mx", dir, i, i);
        write_file(path, p, n);
    }
    /* one already read in a mail client: in cur/ with flags */
    {
        size_t n;
        const char *p = load(&f, "01-texte.eml", &n);

        snprintf(path, sizeof(path), "%s/cur/1732900000.M0P1.mx:2,RS", dir);
        write_file(path, p, n);
    }
    gu_err_clear(&err);
    CHECK_EQ(tri_mail_import_path(f.s, f.cfg, INSEE, dir, &st, &err), 0);
    CHECK_EQ(st.seen, 10);
    CHECK_EQ(st.created, 6); /* 01 02 03 04 08 09 */
    CHECK_EQ(st.threaded, 1); /* 05, by References */
    CHECK_EQ(st.skipped, 3);  /* 06 07, and 01's copy in cur/ */
    CHECK_EQ(st.failed, 0);
    snprintf(path, sizeof(path), "%s/new", dir);
    CHECK_EQ(dir_count(path, NULL), 0);
    snprintf(path, sizeof(path), "%s/cur", dir);
    CHECK_EQ(dir_count(path, ":2,S"), 9);
    CHECK_EQ(dir_count(path, ":2,RS"), 1);

    /* again: nothing new, nothing moved */
    memset(&st, 0, sizeof(st));
    CHECK_EQ(tri_mail_import_path(f.s, f.cfg, INSEE, dir, &st, &err), 0);
    CHECK_EQ(st.seen, 10);
    CHECK_EQ(st.skipped, 10);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_requests"), 6);

    /* a new one arrives */
    {
        static const char m[] =
            "Message-ID: <nouveau@exemple.fr>\r\nFrom: x@exemple.fr\r\n"
            "Subject: Chien errant\r\n\r\nUn chien errant place de "
            "l'église depuis ce matin.\r\n";

        snprintf(path, sizeof(path), "%s/new/1733000000.M9P1.mx", dir);
        write_file(path, m, sizeof(m) - 1);
        memset(&st, 0, sizeof(st));
        CHECK_EQ(tri_mail_import_path(f.s, f.cfg, INSEE, dir, &st, &err), 0);
        CHECK_EQ(st.created, 1);
        CHECK_EQ(st.skipped, 10);
    }

    /* not a Maildir */
    snprintf(path, sizeof(path), "%s/cur", dir);
    gu_err_clear(&err);
    CHECK_EQ(tri_mail_import_path(f.s, f.cfg, INSEE, path, &st, &err),
             GU_EIO);
    CHECK_CONTAINS(err.user, "Maildir");
    rm_rf(dir);
    fx_fini(&f);
}

static void
test_mbox(void)
{
    struct fx f;
    struct tri_mail_stats st = {0};
    struct gu_err err;
    struct gu_buf b;
    char tmpl[] = "/tmp/guichet-mbox.XXXXXX", path[1200];
    const char *dir;
    struct tri_request r;
    static const char escaped[] =
        "From lucas@exemple.fr Mon Nov 30 12:00:00 2026\n"
        "Message-ID: <mboxrd-1@exemple.fr>\n"
        "From: Lucas Garnier <lucas@exemple.fr>\n"
        "Subject: Horaires de la piscine\n"
        "\n"
        "Bonjour,\n"
        ">From the beginning of December, is the pool open on Sunday?\n"
        ">>From quoted twice stays quoted once.\n"
        "Merci.\n"
        "\n";

    if (fx_init(&f) < 0 || !(dir = mkdtemp(tmpl))) {
        TH_FAIL("fixture");
        return;
    }
    gu_buf_init(&b);
    for (size_t i = 0; i < 3; i++) {
        static const char *const pick[] = {"01-texte.eml", "03-latin1-qp.eml",
                                           "06-reponse-auto.eml"};
        size_t n;
        const char *p = load(&f, pick[i], &n);

        gu_buf_puts(&b, "From MAILER-DAEMON Mon Nov 30 08:00:00 2026\n");
        /* mbox files hold LF lines */
        for (size_t k = 0; k < n; k++)
            if (p[k] != '\r')
                gu_buf_append(&b, p + k, 1);
        gu_buf_puts(&b, "\n");
    }
    gu_buf_puts(&b, escaped);
    snprintf(path, sizeof(path), "%s/boite.mbox", dir);
    write_file(path, b.p, b.n);

    gu_err_clear(&err);
    CHECK_EQ(tri_mail_import_path(f.s, f.cfg, INSEE, path, &st, &err), 0);
    CHECK_EQ(st.seen, 4);
    CHECK_EQ(st.created, 3);
    CHECK_EQ(st.skipped, 1);
    CHECK_EQ(last_request(&f, &r), 0);
    CHECK_STR(r.subject, "Horaires de la piscine");
    CHECK_CONTAINS(r.body, "\nFrom the beginning of December");
    CHECK_CONTAINS(r.body, "\n>From quoted twice");
    CHECK(!strstr(r.body, "Merci.\n\n\n"));
    /* read only, and idempotent */
    memset(&st, 0, sizeof(st));
    CHECK_EQ(tri_mail_import_path(f.s, f.cfg, INSEE, path, &st, &err), 0);
    CHECK_EQ(st.skipped, 4);
    {
        size_t n;
        FILE *fp = fopen(path, "rb");
        char *back = gu_arena_alloc(f.a, b.n + 1);

        n = fp ? fread(back, 1, b.n + 1, fp) : 0;
        if (fp)
            fclose(fp);
        CHECK(n == b.n && memcmp(back, b.p, n) == 0);
    }
    /* not an mbox */
    snprintf(path, sizeof(path), MAILDATA "01-texte.eml");
    gu_err_clear(&err);
    CHECK_EQ(tri_mail_import_path(f.s, f.cfg, INSEE, path, &st, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "mbox");
    gu_buf_fini(&b);
    rm_rf(dir);
    fx_fini(&f);
}

/* More attachments than the inbox keeps: the first ones are kept, the
 * others named in the text. */
static void
test_attachment_bounds(void)
{
    struct fx f;
    struct tri_mail_stats st = {0};
    struct tri_request r;
    struct tri_attachment *att = NULL;
    size_t na = 0, n;
    struct gu_buf b;
    struct gu_err err;
    const char *photo, *s, *e;

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    photo = load(&f, "02-photo.eml", &n);
    /* the base64 of the JPEG inside 02-photo.eml */
    s = strstr(photo, "filename=\"IMG_20261130_0912.jpg\"\r\n\r\n");
    e = s ? strstr(s, "\r\n------=_Part") : NULL;
    if (!s || !e) {
        TH_FAIL("02-photo.eml layout");
        fx_fini(&f);
        return;
    }
    s += strlen("filename=\"IMG_20261130_0912.jpg\"\r\n\r\n");
    gu_buf_init(&b);
    gu_buf_puts(&b, "Message-ID: <sept-photos@exemple.fr>\r\n"
                    "From: Nadia <nadia@exemple.fr>\r\n"
                    "Subject: Photos du mur tagué\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                    "--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
                    "Voici les photos du mur de l'école.\r\n");
    for (int i = 1; i <= 7; i++) {
        gu_buf_printf(&b,
                      "--b\r\nContent-Type: image/jpeg\r\n"
                      "Content-Transfer-Encoding: base64\r\n"
                      "Content-Disposition: attachment; "
                      "filename=\"photo%d.jpg\"\r\n\r\n",
                      i);
        gu_buf_append(&b, s, (size_t)(e - s));
        gu_buf_puts(&b, "\r\n");
    }
    gu_buf_puts(&b, "--b--\r\n");
    gu_err_clear(&err);
    CHECK_EQ(tri_mail_import_one(f.s, f.c, f.cfg, INSEE, b.p, b.n, &st, &err),
             0);
    CHECK_EQ(st.created, 1);
    CHECK_EQ(last_request(&f, &r), 0);
    CHECK_EQ(tri_attachments(f.c, f.a, INSEE, r.id, &att, &na, &err), 0);
    CHECK_EQ(na, TRI_ATTACH_MAX);
    CHECK_CONTAINS(r.body, "2 pièces jointes non conservées");
    CHECK_CONTAINS(r.body, "photo7.jpg (trop de pièces jointes)");
    gu_buf_fini(&b);
    fx_fini(&f);
}

/* The scheduled job: a due Maildir source is read, its run recorded; not
 * due, it is left alone; an unreadable one gets its French error. */
static void
test_job(void)
{
    struct fx f;
    struct gu_err err;
    char tmpl[] = "/tmp/guichet-mailjob.XXXXXX", path[1200];
    const char *dir;
    const struct notify_job *jobs;
    const struct notify_job *job = NULL;
    size_t nj = 0, n;
    const char *p;

    if (fx_init(&f) < 0 || !(dir = mkdtemp(tmpl))) {
        TH_FAIL("fixture");
        return;
    }
    jobs = tri_jobs(&nj);
    for (size_t i = 0; i < nj; i++)
        if (jobs[i].name && strcmp(jobs[i].name, "tri.mail") == 0)
            job = &jobs[i];
    CHECK(job != NULL);
    if (!job) {
        fx_fini(&f);
        return;
    }
    CHECK(job->period_s > 0 && job->period_s <= 60);
    snprintf(path, sizeof(path), "%s/new", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/cur", dir);
    mkdir(path, 0700);
    p = load(&f, "01-texte.eml", &n);
    snprintf(path, sizeof(path), "%s/new/1733000000.M1P1.mx", dir);
    write_file(path, p, n);
    {
        struct store_val v[2] = {STORE_T(dir), STORE_I(gu_now())};

        gu_err_clear(&err);
        CHECK_EQ(store_exec(f.c,
                            "INSERT INTO tri_mail_sources (insee, kind, "
                            "location, period_s, created_at) VALUES "
                            "('99001', 'maildir', ?, 300, ?)",
                            v, 2, &err),
                 0);
        CHECK_EQ(store_exec(f.c,
                            "INSERT INTO tri_mail_sources (insee, kind, "
                            "location, period_s, created_at) VALUES "
                            "('99001', 'mbox', '/nexiste/pas.mbox', 300, ?)",
                            v + 1, 1, &err),
                 0);
    }
    gu_err_clear(&err);
    CHECK_EQ(job->fn(f.s, f.cfg, &err), 1);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_requests"), 1);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_mail_sources WHERE "
                           "last_run_at > 0"),
             2);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_mail_sources WHERE "
                           "kind = 'mbox' AND last_error LIKE 'Chemin introuvable%'"),
             1);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_mail_sources WHERE "
                           "kind = 'maildir' AND last_error = ''"),
             1);
    /* a new e-mail, but the source is not due for 300 s */
    snprintf(path, sizeof(path), "%s/new/1733000001.M2P1.mx", dir);
    p = load(&f, "03-latin1-qp.eml", &n);
    write_file(path, p, n);
    CHECK_EQ(job->fn(f.s, f.cfg, &err), 0);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_requests"), 1);
    /* due again */
    CHECK_EQ(store_exec(f.c, "UPDATE tri_mail_sources SET last_run_at = 0",
                        NULL, 0, &err),
             0);
    CHECK_EQ(job->fn(f.s, f.cfg, &err), 1);
    CHECK_EQ(count_sql(&f, "SELECT COUNT(*) FROM tri_requests"), 2);
    rm_rf(dir);
    fx_fini(&f);
}

TESTS(T(test_job), T(test_plain), T(test_photo), T(test_charsets), T(test_skipped),
      T(test_malformed), T(test_threading), T(test_maildir), T(test_mbox),
      T(test_attachment_bounds))
