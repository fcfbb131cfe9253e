/*
 * test_tri_engine.c - the heart of the inbox against a real SQLite store:
 * taxonomy (default services, validation), intake of every channel,
 * validation errors that store nothing, routing above and below the
 * service's threshold, « à trier » with the model's suggestion and the
 * resident's hint, numbers per commune and year, status tokens, the
 * thread (messages, reopening), attachments, lists with every filter and
 * cursor paging, and commune isolation.
 */
#include "harness.h"

#include "tri_engine_fixture.h"

static const char *const pothole =
    "Bonjour, il y a un énorme nid-de-poule sur la chaussée devant le 12 "
    "rue des Tilleuls, les voitures font des écarts pour l'éviter.";

static void
test_names(void)
{
    enum tri_status s = TRI_A_TRIER;
    enum tri_channel ch = TRI_WEB;

    CHECK_STR(tri_status_name(TRI_A_TRIER), "a_trier");
    CHECK_STR(tri_status_name(TRI_REJETEE), "rejetee");
    CHECK_STR(tri_status_label(TRI_A_TRIER), "À trier");
    CHECK_STR(tri_status_name((enum tri_status)42), "");
    CHECK_EQ(tri_status_parse("en_cours", &s), 0);
    CHECK_EQ(s, TRI_EN_COURS);
    CHECK_EQ(tri_status_parse("En cours", &s), GU_EINVAL);
    CHECK_STR(tri_channel_name(TRI_COURRIEL), "courriel");
    CHECK_STR(tri_channel_name(TRI_TELEPHONE), "telephone");
    CHECK_EQ(tri_channel_parse("guichet", &ch), 0);
    CHECK_EQ(ch, TRI_GUICHET);
    CHECK_EQ(tri_channel_parse("fax", &ch), GU_EINVAL);
    CHECK_STR(tri_urgency_label(0), "Normale");
    CHECK_STR(tri_urgency_label(2), "Urgente");
    CHECK_STR(tri_urgency_label(3), "");
    CHECK_STR(tri_msg_kind_name(TRI_MSG_IN), "entrant");
    CHECK_STR(tri_msg_kind_name(TRI_MSG_NOTE), "note");
}

static void
test_services(void)
{
    struct tfix f;
    struct tri_service *v = NULL, s, got;
    struct gu_err err;
    size_t n = 0;
    int64_t id = 0;
    char longdesc[700];

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(tri_services_seed(f.c, "99001", &err), 0);
    CHECK_EQ(tri_services_seed(f.c, "99001", &err), 0); /* idempotent */
    CHECK_EQ(tri_service_list(f.c, f.a, "99001", false, &v, &n, &err), 0);
    CHECK_EQ(n, 13);
    CHECK_STR(v[0].code, "etat-civil");
    CHECK_STR(v[0].name, "État civil");
    CHECK_STR(v[12].code, "autre");
    for (size_t i = 0; i < n; i++) {
        CHECK(v[i].active);
        CHECK(v[i].threshold > 0 && v[i].threshold < 1);
        CHECK(v[i].sla_hours >= 24);
        CHECK(strlen(v[i].description) > 40);
    }
    /* another commune has none until seeded */
    CHECK_EQ(tri_service_list(f.c, f.a, "99002", false, &v, &n, &err), 0);
    CHECK_EQ(n, 0);

    memset(&s, 0, sizeof(s));
    memcpy(s.insee, "99001", 6);
    s.code = "Cimetière";
    s.name = "Cimetière";
    s.threshold = 0.6;
    s.sla_hours = 72;
    s.active = true;
    CHECK_EQ(tri_service_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "code");
    CHECK_CONTAINS(err.user, "minuscules");
    s.code = "cimetiere";
    s.name = "  ";
    CHECK_EQ(tri_service_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "name");
    CHECK_CONTAINS(err.user, "obligatoire");
    s.name = "Cimetière";
    s.threshold = 1.5;
    CHECK_EQ(tri_service_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "threshold");
    s.threshold = 0.6;
    s.sla_hours = 0;
    CHECK_EQ(tri_service_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "sla_hours");
    s.sla_hours = 72;
    s.email = "cimetiere@";
    CHECK_EQ(tri_service_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "email");
    s.email = "cimetiere@mairie.example";
    memset(longdesc, 'x', sizeof(longdesc) - 1);
    longdesc[sizeof(longdesc) - 1] = '\0';
    s.description = longdesc;
    CHECK_EQ(tri_service_save(f.c, &s, &id, &err), GU_ETOOBIG);
    CHECK_STR(err.field, "description");
    s.description = "Concessions, inhumations, entretien des allées.";
    memcpy(s.insee, "ABCDE", 6);
    CHECK_EQ(tri_service_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "insee");
    memcpy(s.insee, "99001", 6);
    CHECK_EQ(tri_service_save(f.c, &s, &id, &err), 0);
    CHECK(id > 0);
    CHECK_EQ(tri_service_save(f.c, &s, NULL, &err), GU_ECONFLICT);
    CHECK_STR(err.field, "code");
    /* update: name, threshold; the code stays */
    CHECK_EQ(tri_service_get(f.c, f.a, "99001", id, &got, &err), 0);
    got.name = "Cimetières";
    got.threshold = 0.8;
    CHECK_EQ(tri_service_save(f.c, &got, NULL, &err), 0);
    CHECK_EQ(tri_service_get(f.c, f.a, "99001", id, &got, &err), 0);
    CHECK_STR(got.name, "Cimetières");
    CHECK(got.threshold > 0.79 && got.threshold < 0.81);
    got.code = "cimetieres";
    CHECK_EQ(tri_service_save(f.c, &got, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "code");
    /* another commune cannot touch it */
    got.code = "cimetiere";
    memcpy(got.insee, "99002", 6);
    CHECK_EQ(tri_service_save(f.c, &got, NULL, &err), GU_ENOTFOUND);
    CHECK_EQ(tri_service_get(f.c, f.a, "99002", id, &got, &err), GU_ENOTFOUND);
    CHECK_STR(err.user, "Service introuvable.");
    /* deactivated, never deleted; the list of active ones skips it */
    CHECK_EQ(tri_service_get(f.c, f.a, "99001", id, &got, &err), 0);
    got.active = false;
    CHECK_EQ(tri_service_save(f.c, &got, NULL, &err), 0);
    CHECK_EQ(tri_service_list(f.c, f.a, "99001", true, &v, &n, &err), 0);
    CHECK_EQ(n, 13);
    CHECK_EQ(tri_service_list(f.c, f.a, "99001", false, &v, &n, &err), 0);
    CHECK_EQ(n, 14);
    /* at most TRI_SERVICES_MAX */
    for (int i = 0; i < 60; i++) {
        char code[16];

        snprintf(code, sizeof(code), "svc-%d", i);
        s.code = code;
        if (tri_service_save(f.c, &s, NULL, &err) < 0)
            break;
    }
    CHECK_EQ(err.code, GU_ETOOBIG);
    CHECK_CONTAINS(err.user, "64");
    tfix_close(&f);
}

/* Two services left: the last active ones cannot be switched off. */
static void
test_services_last_active(void)
{
    struct tfix f;
    struct tri_service *v = NULL;
    struct gu_err err;
    size_t n = 0;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(tri_services_seed(f.c, "99002", &err), 0);
    CHECK_EQ(tri_service_list(f.c, f.a, "99002", false, &v, &n, &err), 0);
    for (size_t i = 0; i + 2 < n; i++) {
        v[i].active = false;
        CHECK_EQ(tri_service_save(f.c, &v[i], NULL, &err), 0);
    }
    v[n - 2].active = false;
    CHECK_EQ(tri_service_save(f.c, &v[n - 2], NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "active");
    CHECK_CONTAINS(err.user, "deux services");
    tfix_close(&f);
}

static void
test_intake_channels(void)
{
    static const struct {
        enum tri_channel ch;
        const char *body;
        const char *origin;
    } in[] = {
        {TRI_WEB, "Le lampadaire devant l'école est éteint depuis une "
                  "semaine, la rue est toute noire le soir.", ""},
        {TRI_COURRIEL, "Bonjour, je souhaite obtenir une copie intégrale de "
                       "mon acte de naissance pour mon mariage.",
         "mail:<a1@example.org>"},
        {TRI_CHAT, "Comment inscrire mon fils à la cantine de l'école "
                   "primaire pour la rentrée ?",
         "asst_handoffs:12"},
        {TRI_TELEPHONE, "Message vocal : bonjour, le bac jaune n'a pas été "
                        "ramassé ce matin dans notre rue, merci.", ""},
        {TRI_GUICHET, "Demande de procuration pour les élections "
                      "municipales, je serai absente.", ""},
        {TRI_API, "Je voudrais réserver la salle des fêtes pour un "
                  "anniversaire le samedi 14.", ""},
    };
    struct tfix f;
    struct gu_err err;
    char year[8];
    int64_t day;
    int minute, y, m, d;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &minute);
    gu_day_to_ymd(day, &y, &m, &d);
    snprintf(year, sizeof(year), "%04d-", y);
    for (size_t i = 0; i < GU_ARRAY_LEN(in); i++) {
        struct tri_intake_req r;
        struct tri_intake_res res;
        struct tri_request q;
        struct tri_message *msg = NULL;
        struct tri_decision *dec = NULL;
        size_t nm = 0, nd = 0;
        char want[16];

        memset(&r, 0, sizeof(r));
        r.insee = "99001";
        r.channel = in[i].ch;
        r.subject = i == 1 ? "Acte de naissance" : "";
        r.body = in[i].body;
        r.origin = in[i].origin;
        r.mail_message_id = i == 1 ? "<a1@example.org>" : NULL;
        r.contact_email = i == 1 ? "  Jeanne.Martin@Example.ORG " : NULL;
        r.contact_phone = i == 3 ? "+33 6 12 34 56 78" : NULL;
        r.actor = "usager";
        CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), 0);
        snprintf(want, sizeof(want), "%s%05zu", year, i + 1);
        CHECK_STR(res.number, want);
        CHECK_EQ(strlen(res.token), TRI_TOKEN_LEN);
        CHECK(res.confidence > 0 && res.confidence <= 1);
        CHECK_EQ(tri_get(f.c, f.a, "99001", res.id, &q, &err), 0);
        CHECK_EQ(q.channel, in[i].ch);
        CHECK_STR(q.body, in[i].body);
        CHECK_STR(q.number, want);
        CHECK_EQ(q.case_size, 1);
        CHECK(q.due_at > q.created_at);
        CHECK(strncmp(q.model_version, "triage-", 7) == 0);
        CHECK(q.why[0] == '[');
        if (res.status == TRI_NOUVELLE) {
            CHECK(*q.service_code);
            CHECK_STR(q.service_code, res.service);
            CHECK_STR(q.service_source, "modele");
        } else {
            CHECK_EQ(res.status, TRI_A_TRIER);
            CHECK_EQ(q.service_id, 0);
        }
        /* one decision per decision, each with the model's version */
        CHECK_EQ(tri_decisions(f.c, f.a, "99001", res.id, &dec, &nd, &err), 0);
        CHECK(nd >= 2);
        CHECK_STR(dec[0].kind, "service");
        CHECK_STR(dec[0].model_version, q.model_version);
        CHECK_STR(dec[1].kind, "urgence");
        CHECK_EQ(tri_messages(f.c, f.a, "99001", res.id, &msg, &nm, &err), 0);
        CHECK(nm >= 1);
        CHECK_EQ(msg[0].kind, TRI_MSG_EVENT);
        if (i == 1) {
            /* the e-mail: lowercased, acknowledged, thread keeps the id */
            CHECK_STR(q.contact_email, "jeanne.martin@example.org");
            CHECK_STR(msg[0].mail_message_id, "<a1@example.org>");
            CHECK_EQ(nm, 2);
            CHECK_EQ(msg[1].kind, TRI_MSG_OUT);
            CHECK(msg[1].mail_id > 0);
            CHECK(strstr(msg[1].body, res.token) == NULL);
            CHECK_STR(q.service_code, "etat-civil");
        }
        if (i == 3)
            CHECK_STR(q.contact_phone, "0612345678");
    }
    /* the acknowledgement carries the status link with the token */
    CHECK_EQ(tfix_count(&f, "SELECT COUNT(*) FROM notify_outbox"), 1);
    CHECK_EQ(tfix_count(&f, "SELECT COUNT(*) FROM audit WHERE action = "
                            "'triage.intake'"),
             6);
    tfix_close(&f);
}

static void
test_ack_mail(void)
{
    struct tfix f;
    struct tri_intake_res res;
    struct store_rows *r = NULL;
    struct gu_err err;
    char want[128];

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(gu_config_parse_string(
                 f.cfg, "[server]\npublic_url = https://mairie.example/\n",
                 &err),
             0);
    CHECK(tfix_file(&f, "99001", pothole, "paul@example.org", &res) > 0);
    CHECK_EQ(store_query(f.c, f.a,
                         "SELECT subject, body, to_addr FROM notify_outbox",
                         NULL, 0, &r, &err),
             0);
    if (r && r->nrows == 1) {
        snprintf(want, sizeof(want), "[Demande %s]", res.number);
        CHECK_CONTAINS(store_text(r, 0, 0), want);
        snprintf(want, sizeof(want),
                 "https://mairie.example/demande/suivi/%s", res.token);
        CHECK_CONTAINS(store_text(r, 0, 1), want);
        CHECK_CONTAINS(store_text(r, 0, 1), "Saint-Exemple-sur-Loire");
    } else {
        CHECK(0);
    }
    tfix_close(&f);
}

static int64_t
count_requests(struct tfix *f)
{
    return tfix_count(f, "SELECT COUNT(*) FROM tri_requests");
}

static void
test_intake_validation(void)
{
    static const unsigned char pdf[] = "%PDF-1.4\n%\xe2\xe3\n1 0 obj\n";
    struct tfix f;
    struct tri_intake_req r;
    struct tri_intake_res res;
    struct tri_attach_in att[6];
    struct gu_err err;
    char *big;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    memset(&r, 0, sizeof(r));
    r.insee = "99001";
    r.channel = TRI_WEB;
    r.body = "   ";
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    CHECK_STR(err.field, "texte");
    CHECK_CONTAINS(err.user, "obligatoire");
    big = gu_arena_alloc(f.a, TRI_BODY_MAX + 2);
    memset(big, 'a', TRI_BODY_MAX + 1);
    big[TRI_BODY_MAX + 1] = '\0';
    r.body = big;
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_ETOOBIG);
    CHECK_STR(err.field, "texte");
    r.body = "Bonjour\xff";
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    CHECK_STR(err.field, "texte");
    r.body = pothole;
    r.subject = "Objet\nsur deux lignes";
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    CHECK_STR(err.field, "objet");
    r.subject = "";
    r.contact_email = "paul@@example.org";
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    CHECK_STR(err.field, "courriel");
    CHECK_CONTAINS(err.user, "électronique");
    r.contact_email = NULL;
    r.contact_phone = "06 12 34";
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    CHECK_STR(err.field, "telephone");
    r.contact_phone = NULL;
    r.lat = 47.5;
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    CHECK_STR(err.field, "lon");
    r.lon = 200;
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    r.lat = r.lon = 0;
    r.category_hint = "piscine";
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    CHECK_STR(err.field, "categorie");
    r.category_hint = NULL;
    r.insee = "12";
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    r.insee = "98765";
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "Commune inconnue");
    r.insee = "99001";
    for (size_t i = 0; i < GU_ARRAY_LEN(att); i++) {
        att[i].filename = "devis.pdf";
        att[i].ctype = "application/pdf";
        att[i].data = pdf;
        att[i].size = sizeof(pdf) - 1;
    }
    r.attach = att;
    r.nattach = 6;
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_ETOOBIG);
    CHECK_STR(err.field, "pieces");
    r.nattach = 1;
    att[0].data = "MZ\x90\x00 this is an executable";
    att[0].size = 24;
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "Type de fichier non accepté");
    att[0].size = TRI_ATTACH_BYTES + 1;
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_ETOOBIG);
    /* nothing stored, no number used */
    CHECK_EQ(count_requests(&f), 0);
    CHECK_EQ(tfix_count(&f, "SELECT COUNT(*) FROM tri_counters"), 0);
    /* a transaction already open is a caller's bug */
    CHECK_EQ(store_begin(f.c, &err), 0);
    r.nattach = 0;
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), GU_EINTERNAL);
    store_rollback(f.c);
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), 0);
    CHECK_EQ(count_requests(&f), 1);
    /* a commune's very first request may already name a category */
    r.insee = "99002";
    r.category_hint = "voirie";
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), 0);
    CHECK_STR(res.service, "voirie");
    tfix_close(&f);
}

static void
test_attachments(void)
{
    static const unsigned char pdf[] = "%PDF-1.4\n%\xe2\xe3\n1 0 obj\n";
    unsigned char wav[64];
    struct tfix f;
    struct tri_intake_req r;
    struct tri_intake_res res;
    struct tri_attach_in att[2];
    struct tri_attachment *v = NULL, meta;
    const void *data = NULL;
    struct gu_err err;
    size_t n = 0;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    memset(wav, 0, sizeof(wav));
    memcpy(wav, "RIFF", 4);
    memcpy(wav + 8, "WAVEfmt ", 8);
    memset(&r, 0, sizeof(r));
    r.insee = "99001";
    r.channel = TRI_TELEPHONE;
    r.body = "Message vocal : la benne à verre de la place déborde.";
    att[0] = (struct tri_attach_in){"../../etc/passwd", "application/pdf", pdf,
                                    sizeof(pdf) - 1, false};
    att[1] = (struct tri_attach_in){"message vocal\x01.wav", "audio/x-wav", wav,
                                    sizeof(wav), false};
    r.attach = att;
    r.nattach = 2;
    CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), 0);
    CHECK_EQ(tri_attachments(f.c, f.a, "99001", res.id, &v, &n, &err), 0);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_STR(v[0].filename, "passwd.pdf");
        CHECK_STR(v[0].ctype, "application/pdf");
        CHECK_EQ(v[0].size, (int64_t)sizeof(pdf) - 1);
        CHECK_EQ(strlen(v[0].sha256), 64);
        CHECK_STR(v[1].filename, "message vocal_.wav");
        CHECK_STR(v[1].ctype, "audio/wav");
        CHECK_EQ(tri_attachment_data(f.c, f.a, "99001", res.id, v[1].id, &meta,
                                     &data, &err),
                 0);
        CHECK_EQ(meta.size, (int64_t)sizeof(wav));
        CHECK(data && memcmp(data, wav, sizeof(wav)) == 0);
        /* another commune, another request: not found */
        CHECK_EQ(tri_attachment_data(f.c, f.a, "99002", res.id, v[1].id, &meta,
                                     &data, &err),
                 GU_ENOTFOUND);
        CHECK_EQ(tri_attachment_data(f.c, f.a, "99001", res.id + 1, v[1].id,
                                     &meta, &data, &err),
                 GU_ENOTFOUND);
    }
    tfix_close(&f);
}

/* Routed at p >= the service's threshold, else à trier with the guess. */
static void
test_routing_threshold(void)
{
    struct tfix f;
    struct tri_intake_res res;
    struct tri_request q;
    struct tri_service s;
    struct tri_decision *dec = NULL;
    struct gu_err err;
    size_t nd = 0;
    const char *text = "Je souhaite m'inscrire sur les listes électorales de "
                       "la commune, je viens d'emménager.";

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK(tfix_file(&f, "99001", text, NULL, &res) > 0);
    CHECK_EQ(res.status, TRI_NOUVELLE);
    CHECK_STR(res.service, "elections");
    CHECK(res.confidence >= 0.5);
    /* the service now asks for certainty */
    CHECK_EQ(tri_service_by_code(f.c, f.a, "99001", "elections", &s, &err), 0);
    s.threshold = 1.0;
    CHECK_EQ(tri_service_save(f.c, &s, NULL, &err), 0);
    CHECK(tfix_file(&f, "99001", text, NULL, &res) > 0);
    CHECK_EQ(res.status, TRI_A_TRIER);
    CHECK_STR(res.service, "");
    CHECK_EQ(tri_get(f.c, f.a, "99001", res.id, &q, &err), 0);
    CHECK_EQ(q.service_id, 0);
    CHECK_STR(q.service_code, "");
    CHECK(q.confidence >= 0.5);
    /* the model's guess is kept as a suggestion in the decision */
    CHECK_EQ(tri_decisions(f.c, f.a, "99001", res.id, &dec, &nd, &err), 0);
    CHECK_STR(dec[0].kind, "service");
    CHECK_STR(dec[0].value, "");
    CHECK_STR(dec[0].previous, "elections");
    /* the resident's hint routes what the model finds plausible */
    {
        struct tri_intake_req r;

        memset(&r, 0, sizeof(r));
        r.insee = "99001";
        r.channel = TRI_WEB;
        r.body = text;
        r.category_hint = "elections";
        CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), 0);
        CHECK_EQ(res.status, TRI_NOUVELLE);
        CHECK_STR(res.service, "elections");
        CHECK_EQ(tri_get(f.c, f.a, "99001", res.id, &q, &err), 0);
        CHECK_STR(q.service_source, "usager");
        CHECK_STR(q.category_hint, "elections");
        /* ...never blindly: a hint the text does not support is only
           recorded */
        r.category_hint = "finances-taxes";
        CHECK_EQ(tri_intake(f.s, f.c, f.cfg, &r, f.a, &res, &err), 0);
        CHECK_EQ(res.status, TRI_A_TRIER);
        CHECK_EQ(tri_get(f.c, f.a, "99001", res.id, &q, &err), 0);
        CHECK_STR(q.category_hint, "finances-taxes");
        CHECK_EQ(q.service_id, 0);
    }
    tfix_close(&f);
}

static void
test_numbers(void)
{
    struct tfix f;
    struct tri_intake_res res;
    struct gu_err err;
    char want[16];
    int64_t day;
    int minute, y, m, d;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &minute);
    gu_day_to_ymd(day, &y, &m, &d);
    /* last year's counter does not matter; this year's continues */
    {
        struct store_val p[4] = {STORE_I(y - 1), STORE_I(977), STORE_I(y),
                                 STORE_I(41)};

        CHECK_EQ(store_exec(f.c,
                            "INSERT INTO tri_counters (insee, year, last) "
                            "VALUES ('99001', ?, ?), ('99001', ?, ?)",
                            p, 4, &err),
                 0);
    }
    CHECK(tfix_file(&f, "99001", pothole, NULL, &res) > 0);
    snprintf(want, sizeof(want), "%04d-00042", y);
    CHECK_STR(res.number, want);
    /* each commune counts its own */
    CHECK(tfix_file(&f, "99002", pothole, NULL, &res) > 0);
    snprintf(want, sizeof(want), "%04d-00001", y);
    CHECK_STR(res.number, want);
    {
        struct tri_request q;

        CHECK_EQ(tri_get_by_number(f.c, f.a, "99002", want, &q, &err), 0);
        CHECK_STR(q.insee, "99002");
        CHECK_EQ(tri_get_by_number(f.c, f.a, "99001", want, &q, &err),
                 GU_ENOTFOUND);
        CHECK_EQ(tri_get_by_number(f.c, f.a, "99001", "n'importe quoi", &q,
                                   &err),
                 GU_ENOTFOUND);
    }
    tfix_close(&f);
}

static void
test_token(void)
{
    struct tfix f;
    struct tri_intake_res res;
    struct tri_request q;
    struct gu_err err;
    char other[TRI_TOKEN_LEN + 1], msg[256];
    char hash[65];

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK(tfix_file(&f, "99001", pothole, NULL, &res) > 0);
    CHECK_EQ(tri_get_by_token(f.c, f.a, res.token, &q, &err), 0);
    CHECK_EQ(q.id, res.id);
    /* only the hash is stored */
    gu_token_hash(res.token, hash);
    {
        struct store_val p[2] = {STORE_T(res.token), STORE_T(res.token)};
        struct store_rows *r = NULL;

        CHECK_EQ(store_query(f.c, f.a,
                             "SELECT COUNT(*) FROM tri_requests WHERE "
                             "token_hash = ? OR instr(body, ?) > 0",
                             p, 2, &r, &err),
                 0);
        CHECK_EQ(store_int(r, 0, 0), 0);
    }
    memcpy(other, res.token, sizeof(other));
    other[0] = other[0] == 'A' ? 'B' : 'A';
    CHECK_EQ(tri_get_by_token(f.c, f.a, other, &q, &err), GU_ENOTFOUND);
    snprintf(msg, sizeof(msg), "%s", err.user);
    CHECK_CONTAINS(msg, "lien de suivi");
    CHECK_EQ(tri_get_by_token(f.c, f.a, "court", &q, &err), GU_ENOTFOUND);
    CHECK_STR(err.user, msg);
    CHECK_EQ(tri_get_by_token(f.c, f.a, NULL, &q, &err), GU_ENOTFOUND);
    CHECK_STR(err.user, msg);
    CHECK_EQ(tri_get_by_token(f.c, f.a, hash, &q, &err), GU_ENOTFOUND);
    CHECK_STR(err.user, msg);
    tfix_close(&f);
}

static int
set_status(struct tfix *f, int64_t id, const char *status)
{
    struct store_val p[2] = {STORE_T(status), STORE_I(id)};
    struct gu_err err;

    return store_exec(f->c, "UPDATE tri_requests SET status = ? WHERE id = ?",
                      p, 2, &err);
}

static void
test_messages_reopen(void)
{
    struct tfix f;
    struct tri_request q;
    struct tri_message *m = NULL;
    struct tri_decision *dec = NULL;
    struct gu_err err;
    size_t nm = 0, nd = 0;
    int64_t id, mid = 0;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    id = tfix_file(&f, "99001", pothole, NULL, NULL);
    CHECK(id > 0);
    /* a message on a new request: no status change */
    CHECK_EQ(tri_message_add(f.c, "99001", id, TRI_MSG_IN, "usager",
                             "paul@example.org",
                             "J'ajoute : appelez-moi au 06 12 34 56 78.",
                             "<r1@example.org>", NULL, 0, &mid, &err),
             0);
    CHECK(mid > 0);
    CHECK_EQ(tri_get(f.c, f.a, "99001", id, &q, &err), 0);
    CHECK_EQ(q.status, TRI_NOUVELLE);
    CHECK_EQ(tri_messages(f.c, f.a, "99001", id, &m, &nm, &err), 0);
    CHECK_EQ(nm, 2);
    CHECK_EQ(m[1].kind, TRI_MSG_IN);
    CHECK_CONTAINS(m[1].body, "06 12 34 56 78");
    CHECK(strstr(m[1].body_redacted, "06 12 34 56 78") == NULL);
    CHECK_STR(m[1].mail_message_id, "<r1@example.org>");
    /* resolved, then the resident writes: reopened, recorded */
    CHECK_EQ(set_status(&f, id, "resolue"), 0);
    CHECK_EQ(tri_message_add(f.c, "99001", id, TRI_MSG_IN, "usager", "",
                             "Le trou est revenu après la pluie.", NULL, NULL,
                             0, NULL, &err),
             0);
    CHECK_EQ(tri_get(f.c, f.a, "99001", id, &q, &err), 0);
    CHECK_EQ(q.status, TRI_EN_COURS);
    CHECK_EQ(q.resolved_at, 0);
    CHECK_EQ(tri_decisions(f.c, f.a, "99001", id, &dec, &nd, &err), 0);
    CHECK_STR(dec[nd - 1].kind, "statut");
    CHECK_STR(dec[nd - 1].value, "en_cours");
    CHECK_STR(dec[nd - 1].previous, "resolue");
    CHECK_STR(dec[nd - 1].source, "usager");
    CHECK_EQ(tri_messages(f.c, f.a, "99001", id, &m, &nm, &err), 0);
    CHECK_EQ(m[nm - 1].kind, TRI_MSG_EVENT);
    CHECK_CONTAINS(m[nm - 1].body, "rouverte");
    /* waiting for the resident: the answer resumes it */
    CHECK_EQ(set_status(&f, id, "attente"), 0);
    CHECK_EQ(tri_message_add(f.c, "99001", id, TRI_MSG_IN, "usager", "",
                             "Voici la photo demandée.", NULL, NULL, 0, NULL,
                             &err),
             0);
    CHECK_EQ(tri_get(f.c, f.a, "99001", id, &q, &err), 0);
    CHECK_EQ(q.status, TRI_EN_COURS);
    /* rejected stays rejected; an agent's note reopens nothing */
    CHECK_EQ(set_status(&f, id, "rejetee"), 0);
    CHECK_EQ(tri_message_add(f.c, "99001", id, TRI_MSG_IN, "usager", "",
                             "Et alors ?", NULL, NULL, 0, NULL, &err),
             0);
    CHECK_EQ(tri_get(f.c, f.a, "99001", id, &q, &err), 0);
    CHECK_EQ(q.status, TRI_REJETEE);
    CHECK_EQ(set_status(&f, id, "resolue"), 0);
    CHECK_EQ(tri_message_add(f.c, "99001", id, TRI_MSG_NOTE, "agent1", "",
                             "Vu avec la voirie.", NULL, NULL, 0, NULL, &err),
             0);
    CHECK_EQ(tri_get(f.c, f.a, "99001", id, &q, &err), 0);
    CHECK_EQ(q.status, TRI_RESOLUE);
    /* bad input, another commune */
    CHECK_EQ(tri_message_add(f.c, "99001", id, TRI_MSG_IN, "usager", "", "",
                             NULL, NULL, 0, NULL, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "texte");
    CHECK_EQ(tri_message_add(f.c, "99002", id, TRI_MSG_IN, "usager", "",
                             "Bonjour", NULL, NULL, 0, NULL, &err),
             GU_ENOTFOUND);
    CHECK_EQ(tri_messages(f.c, f.a, "99002", id, &m, &nm, &err), GU_ENOTFOUND);
    CHECK_EQ(tri_decisions(f.c, f.a, "99002", id, &dec, &nd, &err),
             GU_ENOTFOUND);
    tfix_close(&f);
}

static void
test_list_filters(void)
{
    struct tfix f;
    struct tri_filter flt;
    struct tri_request *v = NULL;
    struct tri_intake_res res;
    struct gu_err err;
    size_t n = 0;
    int64_t ids[6], other;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    ids[0] = tfix_file(&f, "99001",
                       "Inscription de ma fille à la cantine scolaire.", NULL,
                       NULL);
    ids[1] = tfix_file(&f, "99001",
                       "Fuite de gaz rue Pasteur, ça sent très fort !", NULL,
                       NULL);
    ids[2] = tfix_file(&f, "99001",
                       "Demande d'acte de naissance pour un passeport.", NULL,
                       NULL);
    ids[3] = tfix_file(&f, "99001",
                       "Les poubelles du quartier des Acacias n'ont pas été "
                       "ramassées.",
                       NULL, NULL);
    ids[4] = tfix_file(&f, "99001", "Bonjour, merci pour le beau feu "
                                    "d'artifice du 14 juillet !",
                       NULL, &res);
    ids[5] = tfix_file(&f, "99001",
                       "Mon voisin fait du bruit toutes les nuits.", NULL,
                       NULL);
    other = tfix_file(&f, "99002",
                      "Inscription de mon fils à la cantine scolaire.", NULL,
                      NULL);
    CHECK(other > 0);
    memset(&flt, 0, sizeof(flt));
    flt.status = -2;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 6);
    CHECK_EQ(v[0].id, ids[5]); /* newest first */
    for (size_t i = 0; i < n; i++)
        CHECK_STR(v[i].insee, "99001");
    /* cursor paging */
    flt.limit = 4;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 4);
    flt.before_id = v[3].id;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(v[1].id, ids[0]);
    flt.before_id = 0;
    flt.limit = TRI_LIST_MAX + 1;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), GU_EINVAL);
    CHECK_STR(err.field, "limite");
    flt.limit = 0;
    /* words (all must match), a number */
    flt.q = "cantine  scolaire";
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(v[0].id, ids[0]);
    flt.q = "cantine voisin";
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    /* every filter and eight words at once (the most parameters) */
    {
        struct tri_filter all = flt;

        all.status = -1;
        all.service_id = -1;
        all.urgency_min = 1;
        all.age_min_h = 1;
        all.assigned_to = -1;
        all.case_id = ids[0];
        all.overdue = true;
        all.before_id = 1000;
        all.q = "un deux trois quatre cinq six sept huit neuf dix";
        CHECK_EQ(tri_list(f.c, f.a, "99001", &all, &v, &n, &err), 0);
        CHECK_EQ(n, 0);
    }
    flt.q = "100%_";
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    flt.q = res.number;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(v[0].id, ids[4]);
    flt.q = NULL;
    /* urgency: the gas leak */
    flt.urgency_min = 2;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(v[0].id, ids[1]);
    flt.urgency_min = 0;
    /* status: open ones, one status; service; nobody assigned */
    CHECK_EQ(set_status(&f, ids[2], "resolue"), 0);
    flt.status = -1;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 5);
    flt.status = TRI_RESOLUE;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(v[0].id, ids[2]);
    flt.status = -2;
    {
        struct tri_request q;

        CHECK_EQ(tri_get(f.c, f.a, "99001", ids[0], &q, &err), 0);
        if (q.service_id > 0) {
            flt.service_id = q.service_id;
            CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
            CHECK(n >= 1);
            for (size_t i = 0; i < n; i++)
                CHECK_EQ(v[i].service_id, q.service_id);
        }
        flt.service_id = -1;
        CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
        for (size_t i = 0; i < n; i++) {
            CHECK_EQ(v[i].service_id, 0);
            CHECK_EQ(v[i].status, TRI_A_TRIER);
        }
        flt.service_id = 0;
    }
    {
        int64_t agent = 0;
        struct store_val p[2] = {STORE_I(0), STORE_I(ids[3])};

        CHECK_EQ(store_agent_create(f.c, "agent1", "Agent Un", "", 
                                    "motdepasse-solide-42", false, "99001",
                                    STORE_ROLE_AGENT, &agent, &err),
                 0);
        p[0] = STORE_I(agent);
        CHECK_EQ(store_exec(f.c,
                            "UPDATE tri_requests SET assigned_to = ? WHERE "
                            "id = ?",
                            p, 2, &err),
                 0);
        flt.assigned_to = agent;
        CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
        CHECK_EQ(n, 1);
        CHECK_EQ(v[0].id, ids[3]);
        CHECK_STR(v[0].assigned_login, "agent1");
        flt.assigned_to = -1;
        CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
        CHECK_EQ(n, 5);
        flt.assigned_to = 0;
    }
    /* age and overdue */
    {
        struct store_val p[3] = {STORE_I(gu_now() - 50 * 3600),
                                 STORE_I(gu_now() - 3600), STORE_I(ids[5])};

        CHECK_EQ(store_exec(f.c,
                            "UPDATE tri_requests SET created_at = ?, due_at "
                            "= ? WHERE id = ?",
                            p, 3, &err),
                 0);
        flt.age_min_h = 48;
        CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
        CHECK_EQ(n, 1);
        CHECK_EQ(v[0].id, ids[5]);
        flt.age_min_h = 0;
        flt.overdue = true;
        CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), 0);
        CHECK_EQ(n, 1);
        CHECK_EQ(v[0].id, ids[5]);
        flt.overdue = false;
    }
    /* bad filters */
    flt.status = 9;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), GU_EINVAL);
    flt.status = -2;
    flt.urgency_min = 3;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &v, &n, &err), GU_EINVAL);
    flt.urgency_min = 0;
    /* isolation: 99002 sees only its own; ids of the other are unknown */
    CHECK_EQ(tri_list(f.c, f.a, "99002", &flt, &v, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(v[0].id, other);
    {
        struct tri_request q;

        CHECK_EQ(tri_get(f.c, f.a, "99002", ids[0], &q, &err), GU_ENOTFOUND);
        CHECK_STR(err.user, "Demande introuvable.");
        CHECK_EQ(tri_get(f.c, f.a, "99001", other, &q, &err), GU_ENOTFOUND);
    }
    tfix_close(&f);
}

/* Every status link sent stays valid: a reply mints a new one, the
   acknowledgement's still opens the request; anonymisation kills both. */
static void
test_links_stay_valid(void)
{
    struct tfix f;
    struct tri_intake_res res;
    struct tri_request q;
    struct gu_err err;
    int64_t msg = 0;
    char first[TRI_TOKEN_LEN + 1];

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK(tfix_file(&f, "99001", pothole, "lea@example.org", &res) > 0);
    snprintf(first, sizeof(first), "%s", res.token);
    CHECK_EQ(tri_reply(f.c, f.cfg, "99001", res.id,
                       "Bonjour, nous passons demain.", -1, false, "agent1",
                       &msg, &err),
             0);
    CHECK(msg > 0);
    CHECK_EQ(tfix_count(&f, "SELECT COUNT(*) FROM tri_tokens"), 2);
    CHECK_EQ(tri_get_by_token(f.c, f.a, first, &q, &err), 0);
    CHECK_EQ(q.id, res.id);
    {
        struct store_val p[1] = {STORE_I(res.id)};
        int64_t rows = 0;

        CHECK_EQ(store_exec(f.c,
                            "UPDATE tri_requests SET status = 'resolue',"
                            " resolved_at = 1 WHERE id = ?",
                            p, 1, &err),
                 0);
        CHECK_EQ(tri_pdata_erase(f.c, "99001", "lea@example.org", NULL, &rows,
                                 &err),
                 0);
        CHECK(rows > 0);
    }
    CHECK_EQ(tfix_count(&f, "SELECT COUNT(*) FROM tri_tokens"), 0);
    CHECK_EQ(tri_get_by_token(f.c, f.a, first, &q, &err), GU_ENOTFOUND);
    tfix_close(&f);
}

/* Urgency rules read the redacted text: a street named after schools is
   no exposed school, while the same word outside an address still is. */
static void
test_urgency_not_from_address(void)
{
    struct tfix f;
    struct tri_intake_res res;
    struct tri_request q;
    struct gu_err err;

    if (tfix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK(tfix_file(&f, "99001",
                    "Bonjour, le lampadaire devant le 3 rue des Écoles ne "
                    "fonctionne plus depuis une semaine.",
                    NULL, &res) > 0);
    CHECK_EQ(tri_get(f.c, f.a, "99001", res.id, &q, &err), 0);
    CHECK(strstr(q.urgency_reasons, "ecole") == NULL);
    CHECK(tfix_file(&f, "99001",
                    "Une plaque d'égout est soulevée juste devant l'école "
                    "maternelle, les enfants passent à côté.",
                    NULL, &res) > 0);
    CHECK_EQ(tri_get(f.c, f.a, "99001", res.id, &q, &err), 0);
    CHECK(strstr(q.urgency_reasons, "vulnerable") != NULL);
    CHECK(q.urgency >= 1);
    tfix_close(&f);
}

TESTS(T(test_names), T(test_services), T(test_services_last_active),
      T(test_intake_channels), T(test_ack_mail), T(test_intake_validation),
      T(test_attachments), T(test_routing_threshold), T(test_numbers),
      T(test_token), T(test_links_stay_valid), T(test_urgency_not_from_address), T(test_messages_reopen), T(test_list_filters))
