/*
 * test_asst_chat.c - the assistant's conversation engine on a small
 * knowledge base built in the test (local and national fiches) in an
 * in-memory store migrated with app_migrate(): answers with their section
 * and source, follow-ups keeping the topic, clarification then hand-off
 * offer, the « agent » choice, redaction of what is stored, local before
 * national, generation kept only with a citation (against a real HTTP
 * server, tests/assistant/fake_llm.py), the index rebuilt after a change,
 * feedback, hand-offs and the agents' side, purge, limits.
 */
#include "harness.h"
#include "rdv/rdv.h"

#include "app/app.h"
#include "assistant/asst.h"
#include "assistant/asst_eval.h"
#include "assistant/asst_internal.h"
#include "kb/kb.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "store_url.h"

struct fix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg;
    struct asst_engine *e;
    struct asst_ctx x;
};

static int
add_commune(struct fix *f, const char *insee, const char *name)
{
    struct store_commune m;
    struct gu_err err;

    memset(&m, 0, sizeof(m));
    memcpy(m.insee, insee, 6);
    m.name = name;
    m.zone = "B";
    m.hours = "du lundi au vendredi, 8 h 30 - 12 h\net le samedi matin";
    m.address = "1 place de la Mairie";
    m.phone = "01 99 00 12 34";
    m.email = "";
    return store_commune_create(f->c, &m, &err);
}

static int
add_local(struct fix *f, const char *insee, const char *md)
{
    struct kb_fiche k;
    struct gu_err err;
    const char *id = NULL;

    gu_err_clear(&err);
    memset(&k, 0, sizeof(k));
    if (kb_markdown_parse(f->a, md, strlen(md), &k, &err) < 0 ||
        kb_local_save(f->c, f->a, insee, &k, md, 0, "admin", "t", &id, &err) <
            0) {
        fprintf(stderr, "add_local: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static const struct kb_link links_passeport[] = {
    {KB_LINK_SERVICE, "Pré-demande de passeport", "https://ants.gouv.fr", ""},
    {KB_LINK_REFERENCE, "Décret n° 2005-1726", "https://www.legifrance.gouv.fr",
     ""},
    {KB_LINK_RELATED, "Passeport d'un mineur", "", "F1343"},
};

static int
add_national(struct fix *f, const char *id, const char *title, const char *desc,
             const struct kb_section *sec, size_t nsec)
{
    struct kb_fiche k;
    struct gu_err err;

    gu_err_clear(&err);
    memset(&k, 0, sizeof(k));
    k.id = id;
    k.origin = KB_NATIONAL;
    k.title = title;
    k.alt = "";
    k.description = desc;
    k.body = "";
    k.context = "Papiers - Citoyenneté";
    k.source_url = gu_arena_sprintf(
        f->a, "https://www.service-public.fr/particuliers/vosdroits/%s", id);
    k.source_date = "2026-03-02";
    k.sections = (struct kb_section *)sec;
    k.nsections = nsec;
    if (strcmp(id, "F21089") == 0) {
        k.links = (struct kb_link *)links_passeport;
        k.nlinks = GU_ARRAY_LEN(links_passeport);
    }
    /* The body is the sections' text (what the importer stores). */
    struct gu_buf b;
    gu_buf_init(&b);
    for (size_t i = 0; i < nsec; i++)
        gu_buf_printf(&b, "%s\n%s\n", sec[i].path, sec[i].text);
    k.body = gu_arena_strdup(f->a, b.p ? b.p : "");
    gu_buf_fini(&b);
    if (kb_national_upsert(f->c, &k, &err) < 0) {
        fprintf(stderr, "add_national: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static const char md_cni[] =
    "---\n"
    "titre: Carte nationale d'identité\n"
    "questions: Comment refaire ma carte d'identité ? | J'ai perdu ma CNI\n"
    "service: État civil\n"
    "lien: Prendre rendez-vous | /rdv?motif=cni\n"
    "lien: Pré-demande en ligne | https://ants.gouv.fr\n"
    "---\n"
    "La mairie délivre la carte nationale d'identité sur rendez-vous.\n\n"
    "## Pièces à fournir\n\n"
    "- Une photo d'identité de moins de 6 mois\n"
    "- Un justificatif de domicile\n\n"
    "## Pour un enfant mineur\n\n"
    "L'enfant mineur doit être présent, accompagné d'un parent qui exerce "
    "l'autorité parentale.\n\n"
    "## Coût\n\n"
    "La carte est gratuite. Un timbre fiscal de 25 euros est demandé en cas "
    "de perte ou de vol.\n";

static const char md_horaires[] =
    "---\n"
    "titre: Horaires d'ouverture de la mairie\n"
    "questions: Quand la mairie est-elle ouverte ?\n"
    "---\n"
    "Voici comment joindre la mairie et quand venir.\n\n"
    "## Nous contacter\n\n"
    "{{contacts_commune}}\n";

static const char md_recensement[] =
    "---\n"
    "titre: Recensement citoyen à 16 ans\n"
    "---\n"
    "Le recensement citoyen est obligatoire pour les jeunes de 16 ans : "
    "présentez-vous à la mairie avec une pièce d'identité et le livret de "
    "famille.\n";

static const char md_cantine[] =
    "---\n"
    "titre: Cantine scolaire\n"
    "questions: Comment inscrire mon enfant à la cantine ?\n"
    "---\n"
    "La cantine des écoles publiques accueille les enfants chaque midi. "
    "L'inscription se fait au service scolaire.\n\n"
    "## Tarifs\n\n"
    "Le prix du repas dépend du quotient familial.\n";

static const struct kb_section sec_passeport[] = {
    {0, "", "Le passeport est un titre de voyage."},
    {1, "Majeur > Pièces à fournir",
     "Pour un passeport, fournissez une photo d'identité, un justificatif "
     "de domicile et un timbre fiscal de 86 euros."},
    {2, "Majeur > Délais",
     "Les délais de fabrication dépendent de la période de l'année."},
};
static const struct kb_section sec_recens[] = {
    {0, "",
     "Le recensement citoyen est obligatoire pour les jeunes de 16 "
     "ans : présentez-vous à la mairie avec une pièce d'identité et "
     "le livret de famille."},
};
static const struct kb_section sec_naiss[] = {
    {0, "",
     "Vous pouvez demander une copie intégrale ou un extrait d'acte "
     "à la mairie du lieu de l'événement."},
};
static const struct kb_section sec_mariage[] = {
    {0, "",
     "Vous pouvez demander une copie intégrale ou un extrait d'acte "
     "à la mairie du lieu de l'événement."},
};

/* A migrated store with two communes and the little knowledge base. */
static int
fix_open(struct fix *f, const char *llm_url, int check_ms)
{
    struct asst_engine_opts o;
    struct gu_err err;
    int applied = 0;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    if (gu_crypto_init() < 0 || store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, &applied, &err) < 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    /* The assistant's schema, whether or not app.c lists it yet. */
    {
        size_t n = 0;
        const struct store_migration *m = asst_migrations(&n);
        if (store_migrate(f->s, &m, &n, 1, &applied, &err) < 0) {
            fprintf(stderr, "migrate: %s\n", err.msg);
            return -1;
        }
    }
    if (store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->cfg, &err) < 0)
        return -1;
    if (llm_url) {
        char *ini =
            gu_arena_sprintf(f->a = gu_arena_new(0),
                             "[llm]\nurl = %s\ntimeout_ms = 800\n", llm_url);
        if (!ini || gu_config_parse_string(f->cfg, ini, &err) < 0)
            return -1;
    }
    if (!f->a)
        f->a = gu_arena_new(0);
    if (!f->a || add_commune(f, "99001", "Saint-Exemple-sur-Loire") < 0 ||
        add_commune(f, "99002", "Autre-Commune") < 0)
        return -1;
    if (add_local(f, "99001", md_cni) < 0 ||
        add_local(f, "99001", md_horaires) < 0 ||
        add_local(f, "99001", md_recensement) < 0 ||
        add_local(f, "99001", md_cantine) < 0)
        return -1;
    if (add_national(f, "F21089", "Passeport",
                     "Comment obtenir un passeport biométrique.", sec_passeport,
                     GU_ARRAY_LEN(sec_passeport)) < 0 ||
        add_national(f, "F870", "Recensement citoyen à 16 ans", "", sec_recens,
                     GU_ARRAY_LEN(sec_recens)) < 0 ||
        add_national(f, "F1427", "Acte de naissance", "", sec_naiss,
                     GU_ARRAY_LEN(sec_naiss)) < 0 ||
        add_national(f, "F1428", "Acte de mariage", "", sec_mariage,
                     GU_ARRAY_LEN(sec_mariage)) < 0)
        return -1;
    asst_engine_opts_default(&o);
    /* Thresholds of this test, independent of the calibrated ones. */
    o.policy.abstain.min_score = 0.3f;
    o.policy.abstain.min_margin = 0.08f;
    o.check_ms = check_ms;
    if (asst_engine_new(&o, &f->e, &err) < 0)
        return -1;
    f->x.eng = f->e;
    f->x.conn = f->c;
    f->x.arena = f->a;
    f->x.cfg = f->cfg;
    f->x.request_id = "req-test";
    f->x.client_ip = NULL;
    return 0;
}

static void
fix_close(struct fix *f)
{
    asst_engine_free(f->e);
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
    gu_config_free(f->cfg);
}

/* One turn; the last reply in *last. */
static int
turn(struct fix *f, const char **conv, const char *msg, const char *choice,
     struct asst_chat_out *out, struct asst_reply **last)
{
    struct asst_chat_in in = {"99001", *conv, msg, choice};
    struct gu_err err;
    int rc;

    gu_err_clear(&err);
    rc = asst_chat(&f->x, &in, out, &err);
    if (rc < 0) {
        fprintf(stderr, "  turn(%s): %s %s\n", msg ? msg : choice,
                gu_status_name(rc), err.msg);
        if (last)
            *last = NULL;
        return rc;
    }
    *conv = out->conversation;
    if (last)
        *last = &out->replies[out->n - 1];
    return 0;
}

static bool
has_choice(const struct asst_reply *r, const char *id)
{
    for (size_t i = 0; r && i < r->nchoices; i++) {
        if (strcmp(r->choices[i].id, id) == 0)
            return true;
    }
    return false;
}

static int64_t
count(struct fix *f, const char *sql)
{
    struct store_rows *r = NULL;
    struct gu_err err;

    /* Turns are written behind their answer: wait for them. */
    asst_engine_sync(f->e, false);
    if (store_query(f->c, f->a, sql, NULL, 0, &r, &err) < 0)
        return -1;
    return store_int(r, 0, 0);
}

/* ----- tests ----- */

static void
test_answer_section_source(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r;
    const char *conv = NULL;

    CHECK(fix_open(&f, NULL, 3000) == 0);
    CHECK(turn(&f, &conv, "quelles pièces pour un passeport ?", NULL, &out,
               &r) == 0);
    if (!r)
        goto out;
    CHECK_EQ(out.n, 2);
    CHECK_STR(out.replies[0].type, "greeting");
    CHECK_CONTAINS(out.replies[0].text, "assistant automatique de la mairie "
                                        "de Saint-Exemple-sur-Loire");
    CHECK_CONTAINS(out.disclosure, "assistant automatique");
    CHECK(has_choice(&out.replies[0], "agent"));
    CHECK_STR(r->type, "answer");
    CHECK_STR(r->fiche.id, "F21089");
    CHECK_STR(r->fiche.origin, "national");
    CHECK_STR(r->fiche.section, "Majeur > Pièces à fournir");
    CHECK_CONTAINS(r->fiche.source_url, "service-public.fr");
    CHECK_STR(r->fiche.source_date, "2026-03-02");
    CHECK_CONTAINS(r->text, "86 euros");
    CHECK(strstr(r->text, "fabrication") == NULL); /* not the whole fiche */
    /* Next steps: the online service and the reference as links, the
     * related question as a quick reply. */
    CHECK_EQ(r->nlinks, 2);
    if (r->nlinks == 2) {
        CHECK_STR(r->links[0].kind, "service");
        CHECK_STR(r->links[0].url, "https://ants.gouv.fr");
        CHECK_STR(r->links[1].kind, "reference");
    }
    CHECK_EQ(r->nrelated, 1);
    if (r->nrelated == 1) {
        CHECK_STR(r->related[0].label, "Passeport d'un mineur");
        CHECK_STR(r->related[0].message, "Passeport d'un mineur");
    }
    CHECK(r->html && strstr(r->html, "<p>"));
    CHECK(has_choice(r, "agent"));
    CHECK(r->feedback);
    CHECK(r->id > 0);
    CHECK(strlen(conv) >= 43);
    /* Why it answered: in the row and in the audit log. */
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_messages WHERE fiche_id ="
                       " 'F21089' AND section LIKE 'Majeur%' AND score > 0"
                       " AND why LIKE '%candidates%'"),
             1);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM audit WHERE action ="
                       " 'asst.answer' AND actor = 'ia' AND insee = '99001'"
                       " AND detail LIKE '%F21089%'"),
             1);

    /* Local fiche: booking link, contacts replaced. */
    CHECK(turn(&f, &conv,
               "quelles sont les horaires d'ouverture de la "
               "mairie ?",
               NULL, &out, &r) == 0);
    if (r) {
        CHECK_EQ(out.n, 1);
        CHECK_STR(r->type, "answer");
        CHECK_STR(r->fiche.origin, "local");
        CHECK_CONTAINS(r->text, "01 99 00 12 34");
        CHECK_CONTAINS(r->text, "1 place de la Mairie");
        CHECK(strstr(r->text, "{{") == NULL);
        CHECK(r->fiche.source_date && strlen(r->fiche.source_date) == 10);
    }
    CHECK(turn(&f, &conv, "refaire ma carte d'identité", NULL, &out, &r) == 0);
    if (r) {
        bool booking = false;
        CHECK_STR(r->type, "answer");
        for (size_t i = 0; i < r->nlinks; i++)
            booking |= strcmp(r->links[i].kind, "booking") == 0 &&
                       strcmp(r->links[i].label, "Prendre rendez-vous") == 0 &&
                       strncmp(r->links[i].url, "/rdv?c=", 7) == 0 &&
                       strstr(r->links[i].url, "&motif=cni") != NULL;
        CHECK(booking);
    }
out:
    fix_close(&f);
}

static void
test_followup_keeps_topic(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r;
    const char *conv = NULL, *cni_id = NULL;

    CHECK(fix_open(&f, NULL, 3000) == 0);
    CHECK(turn(&f, &conv, "j'ai perdu ma carte d'identité", NULL, &out, &r) ==
          0);
    if (!r)
        goto out;
    CHECK_STR(r->type, "answer");
    CHECK_STR(r->fiche.title, "Carte nationale d'identité");
    cni_id = gu_arena_strdup(f.a, r->fiche.id);
    CHECK(turn(&f, &conv, "et pour un mineur ?", NULL, &out, &r) == 0);
    if (r) {
        CHECK_STR(r->type, "answer");
        CHECK_STR(r->fiche.id, cni_id);
        CHECK_STR(r->fiche.section, "Pour un enfant mineur");
    }
    CHECK(turn(&f, &conv, "combien ça coûte ?", NULL, &out, &r) == 0);
    if (r) {
        CHECK_STR(r->type, "answer");
        CHECK_STR(r->fiche.id, cni_id);
        CHECK_STR(r->fiche.section, "Coût");
        CHECK_CONTAINS(r->text, "gratuite");
    }
    /* A new full question resets the topic. */
    CHECK(turn(&f, &conv, "comment inscrire mon enfant à la cantine scolaire ?",
               NULL, &out, &r) == 0);
    if (r) {
        CHECK_STR(r->type, "answer");
        CHECK_STR(r->fiche.title, "Cantine scolaire");
    }
    CHECK(turn(&f, &conv, "et les tarifs ?", NULL, &out, &r) == 0);
    if (r) {
        CHECK_STR(r->fiche.title, "Cantine scolaire");
        CHECK_STR(r->fiche.section, "Tarifs");
    }
out:
    fix_close(&f);
}

static void
test_clarify_then_handoff(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r;
    const char *conv = NULL;

    CHECK(fix_open(&f, NULL, 3000) == 0);
    /* Two fiches with the same text: not clearly one of them. */
    CHECK(turn(&f, &conv, "copie intégrale d'acte", NULL, &out, &r) == 0);
    if (!r)
        goto out;
    CHECK_STR(r->type, "clarify");
    CHECK(r->nchoices >= 3 && r->nchoices <= 4);
    CHECK(has_choice(r, "c1") && has_choice(r, "c2") && has_choice(r, "agent"));
    CHECK_STR(r->choices[r->nchoices - 1].id, "agent");
    /* Asked once already: the next unsure turn offers an agent. */
    CHECK(turn(&f, &conv, "extrait d'acte", NULL, &out, &r) == 0);
    if (r) {
        CHECK_STR(r->type, "handoff_offer");
        CHECK(has_choice(r, "agent"));
    }
    /* A clarification answered by a choice. */
    conv = NULL;
    CHECK(turn(&f, &conv, "copie intégrale d'acte", NULL, &out, &r) == 0);
    if (r && strcmp(r->type, "clarify") == 0) {
        const char *label = gu_arena_strdup(f.a, r->choices[1].label);
        CHECK(turn(&f, &conv, NULL, "c2", &out, &r) == 0);
        if (r) {
            CHECK_STR(r->type, "answer");
            CHECK_STR(r->fiche.title, label);
        }
        /* The choice list is gone once answered. */
        struct gu_err err;
        struct asst_chat_in in = {"99001", conv, NULL, "c3"};
        gu_err_clear(&err);
        CHECK_EQ(asst_chat(&f.x, &in, &out, &err), GU_EINVAL);
        CHECK_STR(err.field, "choice");
    }
    /* Nothing matches at all: straight to the hand-off offer. */
    conv = NULL;
    CHECK(turn(&f, &conv, "xqzwv plorf", NULL, &out, &r) == 0);
    if (r)
        CHECK_STR(r->type, "handoff_offer");
    /* « Parler à un agent » is a choice that always works. */
    CHECK(turn(&f, &conv, NULL, "agent", &out, &r) == 0);
    if (r) {
        CHECK_STR(r->type, "handoff_offer");
        CHECK(has_choice(r, "agent"));
    }
out:
    fix_close(&f);
}

static void
test_redaction(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r;
    struct store_rows *rows = NULL;
    struct gu_err err;
    const char *conv = NULL;

    CHECK(fix_open(&f, NULL, 3000) == 0);
    CHECK(turn(&f, &conv,
               "je suis marie.dupont@example.org, tel 06 12 34 56 78, ma "
               "carte d'identité est perdue",
               NULL, &out, &r) == 0);
    CHECK(r && strcmp(r->type, "answer") == 0);
    asst_engine_sync(f.e, false);
    CHECK(store_query(f.c, f.a,
                      "SELECT question FROM asst_messages WHERE question <> ''",
                      NULL, 0, &rows, &err) == 0);
    if (rows && rows->nrows == 1) {
        const char *q = store_text(rows, 0, 0);
        CHECK(strstr(q, "marie.dupont") == NULL);
        CHECK(strstr(q, "example.org") == NULL);
        CHECK(strstr(q, "06 12") == NULL);
        CHECK(strstr(q, "56 78") == NULL);
        CHECK_CONTAINS(q, "carte d'identité");
    } else {
        CHECK(!"one stored question");
    }
    /* Nothing personal anywhere else either. */
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_conversations WHERE"
                       " topic_query LIKE '%example.org%'"
                       " OR topic_query LIKE '%06 12%'"),
             0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM audit WHERE"
                       " detail LIKE '%example.org%'"),
             0);
    /* Feedback comments are redacted too; a second rating replaces. */
    gu_err_clear(&err);
    CHECK(asst_feedback(&f.x, conv, r ? r->id : 0, false,
                        "rappelez-moi au 06 12 34 56 78", &err) == 0);
    CHECK(asst_feedback(&f.x, conv, r ? r->id : 0, true, "merci", &err) == 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_messages WHERE useful = 1"
                       " AND comment = 'merci'"),
             1);
    CHECK_EQ(asst_feedback(&f.x, conv, 999999, true, NULL, &err), GU_ENOTFOUND);
    CHECK(asst_feedback(&f.x, conv, r ? r->id : 0, false,
                        "rappelez-moi au 06 12 34 56 78", &err) == 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_messages WHERE"
                       " comment LIKE '%06 12%'"),
             0);
    fix_close(&f);
}

static void
test_local_beats_national(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r;
    const char *conv = NULL;

    CHECK(fix_open(&f, NULL, 3000) == 0);
    CHECK(turn(&f, &conv, "recensement citoyen à 16 ans", NULL, &out, &r) == 0);
    if (r) {
        CHECK_STR(r->type, "answer");
        CHECK_STR(r->fiche.origin, "local");
        CHECK_STR(r->fiche.title, "Recensement citoyen à 16 ans");
    }
    fix_close(&f);
}

static void
test_index_rebuilt(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r;
    const char *conv = NULL;
    int64_t g0, g1;

    CHECK(fix_open(&f, NULL, 0) == 0);
    CHECK(turn(&f, &conv, "piscine", NULL, &out, &r) == 0);
    CHECK(r && strcmp(r->type, "handoff_offer") == 0);
    g0 = asst_engine_generation(f.e, "99001");
    CHECK(g0 >= 0);
    CHECK(add_local(
              &f, "99001",
              "---\ntitre: Piscine municipale\n---\nLa piscine "
              "municipale est ouverte tous les jours de 10 h à 19 h.\n") == 0);
    conv = NULL;
    CHECK(turn(&f, &conv, "horaires de la piscine municipale", NULL, &out,
               &r) == 0);
    if (r) {
        CHECK_STR(r->type, "answer");
        CHECK_STR(r->fiche.title, "Piscine municipale");
    }
    g1 = asst_engine_generation(f.e, "99001");
    CHECK(g1 > g0);
    /* The reload hook rebuilds at once; the job finds nothing stale. */
    struct gu_err err;
    int n = -1;
    gu_err_clear(&err);
    CHECK(asst_engine_reload(f.e, f.c, "99001", &err) == 0);
    CHECK(asst_engine_refresh(f.e, f.c, &n, &err) == 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(asst_engine_reload(f.e, f.c, "99999", &err), GU_ENOTFOUND);
    /* The job of the store's engine builds every commune at its first
     * run, then only rebuilds what changed. */
    CHECK(asst_engine_generation(asst_engine_of(f.s), "99001") < 0);
    CHECK(asst_reindex_job(f.s, f.cfg, &err) == 0);
    CHECK(asst_engine_generation(asst_engine_of(f.s), "99001") == g1);
    CHECK(asst_engine_generation(asst_engine_of(f.s), "99002") >= 0);
    CHECK(asst_reindex_job(f.s, f.cfg, &err) == 0);
    fix_close(&f);
}

/* The fake model server: its port, and the pipe that keeps it alive. */
struct fake {
    pid_t pid;
    int in;  /* write end of its stdin */
    int out; /* read end of its stdout */
    int port;
};

static int
fake_start(struct fake *s)
{
    int pin[2], pout[2];
    char script[1024], buf[32];
    const char *file = __FILE__, *slash = strrchr(file, '/');
    ssize_t n;

    memset(s, 0, sizeof(*s));
    /* tests/unit/test_asst_chat.c -> tests/assistant/fake_llm.py */
    snprintf(script, sizeof(script), "%.*s/../assistant/fake_llm.py",
             slash ? (int)(slash - file) : 1, slash ? file : ".");
    if (access("/usr/bin/python3", X_OK) != 0 || access(script, R_OK) != 0 ||
        pipe(pin) < 0 || pipe(pout) < 0)
        return -1;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        close(pin[1]);
        close(pout[0]);
        execl("/usr/bin/python3", "python3", script, (char *)NULL);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    s->in = pin[1];
    /* Read up to the newline; keep the pipe open while it runs. */
    n = 0;
    while (n < (ssize_t)sizeof(buf) - 1) {
        ssize_t k = read(pout[0], buf + n, sizeof(buf) - 1 - (size_t)n);
        if (k <= 0)
            break;
        n += k;
        if (memchr(buf, '\n', (size_t)n))
            break;
    }
    s->out = pout[0];
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    s->port = (int)strtol(buf, NULL, 10);
    return s->port > 0 ? 0 : -1;
}

static void
fake_stop(struct fake *s)
{
    if (s->pid <= 0)
        return;
    close(s->in);
    close(s->out);
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

/* The passport answer with generation through `mode`. */
static void
generated(struct fake *s, const char *mode, bool expect_kept)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r;
    const char *conv = NULL;
    char url[128];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", s->port, mode);
    CHECK(fix_open(&f, url, 3000) == 0);
    CHECK(turn(&f, &conv, "quelles pièces pour un passeport ?", NULL, &out,
               &r) == 0);
    if (r) {
        CHECK_STR(r->type, "answer");
        CHECK_EQ(r->generated, expect_kept);
        if (expect_kept) {
            CHECK_CONTAINS(r->text, "Reformulation");
            CHECK_CONTAINS(r->text, "[1]");
        } else {
            CHECK(strstr(r->text, "Reformulation") == NULL);
            CHECK_CONTAINS(r->text, "86 euros"); /* the extractive answer */
        }
        /* The source is the fiche's either way. */
        CHECK_STR(r->fiche.id, "F21089");
    }
    fix_close(&f);
}

static void
test_generation(void)
{
    struct fake s;

    CHECK(asst_llm_citations("a [1] b [12]", 12) == ((1u << 0) | (1u << 11)));
    CHECK(asst_llm_citations("[0] [x] [", 9) == 0);
    if (fake_start(&s) < 0) {
        TH_FAIL("fake_llm.py did not start");
        return;
    }
    generated(&s, "cite", true);
    generated(&s, "nocite", false);
    generated(&s, "bogus", false);
    generated(&s, "error", false);
    generated(&s, "slow", false); /* llm.timeout_ms = 800 */
    fake_stop(&s);
    /* Nothing listening: dropped, never an error for the resident. */
    generated(&(struct fake){.port = 9}, "cite", false);
}

static void
test_handoff(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r;
    struct asst_handoff *list = NULL, h;
    struct asst_handoff_filter flt = {0};
    struct gu_err err;
    const char *conv = NULL, *ref = NULL, *tok = NULL, *fid = NULL;
    json_t *j = NULL;
    size_t n = 0;

    CHECK(fix_open(&f, NULL, 3000) == 0);
    CHECK(turn(&f, &conv, "xqzwv plorf, écrivez à jean@example.org", NULL, &out,
               &r) == 0);
    gu_err_clear(&err);
    /* No consent, no hand-off. */
    CHECK_EQ(asst_handoff_create(&f.x, conv, "jean@example.org", NULL, false,
                                 &ref, &tok, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "consent");
    CHECK_EQ(asst_handoff_create(&f.x, conv, "pas-une-adresse", NULL, true,
                                 &ref, &tok, &err),
             GU_EINVAL);
    CHECK_EQ(asst_handoff_create(&f.x, "inconnue-inconnue-inconnue",
                                 "jean@example.org", NULL, true, &ref, &tok,
                                 &err),
             GU_ENOTFOUND);
    CHECK(asst_handoff_create(&f.x, conv, "jean@example.org",
                              "Puis-je louer la salle des fêtes ? 06 12 34 56 "
                              "78",
                              true, &ref, &tok, &err) == 0);
    CHECK(ref && strncmp(ref, "Q-20", 4) == 0 && strlen(ref) == 13);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM notify_outbox WHERE"
                       " kind = 'asst.handoff'"),
             1);
    {
        /* A conversation sends at most 3 hand-offs (and e-mails). */
        const char *r2 = NULL, *t2 = NULL;
        CHECK(asst_handoff_create(&f.x, conv, "jean@example.org", "bis", true,
                                  &r2, &t2, &err) == 0);
        CHECK(asst_handoff_create(&f.x, conv, "jean@example.org", "ter", true,
                                  &r2, &t2, &err) == 0);
        CHECK_EQ(asst_handoff_create(&f.x, conv, "jean@example.org", "4", true,
                                     &r2, &t2, &err),
                 GU_ECONFLICT);
        CHECK(store_exec(f.c,
                         "DELETE FROM asst_handoffs WHERE question IN"
                         " ('bis', 'ter')",
                         NULL, 0, &err) == 0);
    }
    CHECK(tok && strlen(tok) >= 43);
    /* Agents of 99001 see it, those of 99002 do not. */
    CHECK(asst_handoff_list(f.c, f.a, "99002", &flt, &list, &n, &err) == 0);
    CHECK_EQ(n, 0);
    CHECK(asst_handoff_list(f.c, f.a, "99001", &flt, &list, &n, &err) == 0);
    CHECK_EQ(n, 1);
    if (n != 1)
        goto out;
    CHECK_STR(list[0].status, "nouveau");
    CHECK_STR(list[0].reference, ref);
    CHECK(strstr(list[0].question, "06 12") == NULL);
    CHECK_CONTAINS(list[0].question, "salle des fêtes");
    CHECK_CONTAINS(list[0].transcript, "Usager : xqzwv");
    CHECK(strstr(list[0].transcript, "jean@example.org") == NULL);
    CHECK_STR(list[0].email, "jean@example.org");
    CHECK_EQ(asst_handoff_get(f.c, f.a, "99002", list[0].id, &h, &err),
             GU_ENOTFOUND);
    CHECK_EQ(asst_handoff_set_status(f.c, "99002", list[0].id, "en cours",
                                     "admin2", "r", &err),
             GU_ENOTFOUND);
    CHECK(asst_handoff_set_status(f.c, "99001", list[0].id, "en cours", "agent",
                                  "r", &err) == 0);
    CHECK_EQ(asst_handoff_set_status(f.c, "99001", list[0].id, "fini", "agent",
                                     "r", &err),
             GU_EINVAL);
    /* Not answered yet: no fiche. */
    CHECK_EQ(asst_handoff_to_fiche(f.c, f.a, "99001", list[0].id, "agent", "r",
                                   &fid, &err),
             GU_EINVAL);
    CHECK(asst_handoff_answer(f.c, f.a, "99001", list[0].id,
                              "Oui, la salle se loue au service des fêtes.",
                              "agent", "r", "", &err) == 0);
    CHECK(asst_handoff_get(f.c, f.a, "99001", list[0].id, &h, &err) == 0);
    CHECK_STR(h.status, "répondu");
    CHECK_STR(h.answered_by, "agent");
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM notify_outbox WHERE"
                       " kind = 'asst.answer'"),
             1);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM audit WHERE action ="
                       " 'asst.handoff.answer' AND actor = 'agent'"),
             1);
    /* The resident's follow-up page and the conversation show it. */
    CHECK(asst_handoff_follow(&f.x, tok, &j, &err) == 0);
    if (j) {
        CHECK_STR(json_string_value(json_object_get(j, "status")), "répondu");
        CHECK_CONTAINS(json_string_value(json_object_get(j, "answer")),
                       "service des fêtes");
        CHECK(json_object_get(j, "email") == NULL);
        json_decref(j);
    }
    CHECK(asst_history(&f.x, conv, &j, &err) == 0);
    if (j) {
        char *s = json_dumps(j, 0);
        CHECK_CONTAINS(s, "\"type\": \"agent\"");
        CHECK_CONTAINS(s, "\"type\": \"user\"");
        CHECK_CONTAINS(s, "handoff_done");
        CHECK(strstr(s, "jean@example.org") == NULL);
        free(s);
        json_decref(j);
    }
    /* One click: a local fiche from question and answer. */
    CHECK(asst_handoff_to_fiche(f.c, f.a, "99001", list[0].id, "agent", "r",
                                &fid, &err) == 0);
    CHECK(fid && fid[0] == 'L');
    if (fid) {
        struct kb_fiche k;
        CHECK(kb_fiche_get(f.c, f.a, "99001", fid, &k, &err) == 0);
        CHECK_CONTAINS(k.title, "salle des fêtes");
        CHECK_CONTAINS(k.description, "service des fêtes");
    }
    CHECK_EQ(
        asst_handoff_follow(&f.x, "inconnu-inconnu-inconnu-inconnu", &j, &err),
        GU_ENOTFOUND);
    {
        struct asst_stats st;
        CHECK(asst_stats_get(f.c, "99001", 0, &st, &err) == 0);
        CHECK_EQ(st.handoffs_done, 1);
        CHECK(st.handoff_offers >= 1);
    }
out:
    fix_close(&f);
}

static void
test_limits_and_purge(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r;
    struct gu_err err;
    const char *conv = NULL;
    char big[1200 * 2 + 1];

    CHECK(fix_open(&f, NULL, 3000) == 0);
    gu_err_clear(&err);
    /* 1,001 characters (2 bytes each): too long. */
    for (size_t i = 0; i < 1001; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2);
    big[2002] = '\0';
    struct asst_chat_in in = {"99001", NULL, big, NULL};
    CHECK_EQ(asst_chat(&f.x, &in, &out, &err), GU_ETOOBIG);
    big[2000] = '\0'; /* 1,000: fine */
    CHECK_EQ(asst_chat(&f.x, &in, &out, &err), 0);
    in.message = "bonjour";
    in.insee = "98999";
    CHECK_EQ(asst_chat(&f.x, &in, &out, &err), GU_ENOTFOUND);
    in.insee = "99001";
    in.conversation = "k3JabcdefghijklmnopqrstuvwxyzABCDEFG0123456";
    CHECK_EQ(asst_chat(&f.x, &in, &out, &err), GU_ENOTFOUND);
    in.conversation = NULL;
    in.message = NULL;
    CHECK_EQ(asst_chat(&f.x, &in, &out, &err), GU_EINVAL);
    /* A conversation of another commune is not found from this one. */
    CHECK(turn(&f, &conv, "passeport", NULL, &out, &r) == 0);
    {
        struct asst_chat_in other = {"99002", conv, "passeport", NULL};
        CHECK_EQ(asst_chat(&f.x, &other, &out, &err), GU_ENOTFOUND);
    }
    /* Rate limit per IP. */
    {
        struct gu_err e2;
        const char *c2 = NULL;
        int last = 0;
        f.x.client_ip = "203.0.113.9";
        CHECK(gu_config_parse_string(
                  f.cfg, "[assistant]\nrate_per_minute = 3\n", &e2) == 0);
        for (int i = 0; i < 4; i++) {
            struct asst_chat_in ri = {"99001", c2, "passeport", NULL};
            gu_err_clear(&e2);
            last = asst_chat(&f.x, &ri, &out, &e2);
            if (last == 0)
                c2 = out.conversation;
        }
        CHECK_EQ(last, GU_ERATE);
        f.x.client_ip = NULL;
    }
    /* 50 turns at most (the table edited here: memory forgets). */
    asst_engine_sync(f.e, true);
    CHECK(store_exec(f.c, "UPDATE asst_conversations SET turns = 50", NULL, 0,
                     &err) == 0);
    CHECK(turn(&f, &conv, "passeport", NULL, &out, &r) == 0);
    CHECK(r && strcmp(r->type, "info") == 0 && has_choice(r, "agent"));
    CHECK(turn(&f, &conv, NULL, "agent", &out, &r) == 0);
    CHECK(r && strcmp(r->type, "handoff_offer") == 0);
    /* Nothing more is stored past the limit. */
    int64_t rows = count(&f, "SELECT COUNT(*) FROM asst_messages");
    CHECK(turn(&f, &conv, "passeport", NULL, &out, &r) == 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_messages"), rows);
    /* Retention: idle conversations go, with their messages. */
    int64_t before = count(&f, "SELECT COUNT(*) FROM asst_messages");
    CHECK(before > 0);
    CHECK(asst_purge(f.s, f.cfg, &err) == 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_messages"), before);
    CHECK(store_exec(f.c,
                     "UPDATE asst_conversations SET updated_at = updated_at"
                     " - 91 * 86400",
                     NULL, 0, &err) == 0);
    CHECK(asst_purge(f.s, f.cfg, &err) == 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_messages"), 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_conversations"), 0);
    /* Hand-offs (and their e-mail) too, answered or not. */
    struct store_val now[1] = {STORE_I(gu_now())};
    CHECK(store_exec(f.c,
                     "INSERT INTO asst_handoffs (insee, follow_hash, email,"
                     " question, created_at, updated_at) VALUES ('99001',"
                     " 'h1', 'a@example.org', 'q', 0, 0), ('99001', 'h2',"
                     " 'b@example.org', 'q', 0, ?)",
                     now, 1, &err) == 0);
    CHECK(asst_purge(f.s, f.cfg, &err) == 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_handoffs"), 1);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_handoffs WHERE"
                       " email = 'b@example.org'"),
             1);
    fix_close(&f);
}

/* Turns of several threads at once: written together (group commit),
 * every one stored once, each with its own ids. */
struct worker {
    struct fix *f;
    int turns;
    int ok;
    int64_t ids[20];
};

static void *
work(void *p)
{
    struct worker *w = p;
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    struct asst_ctx x = w->f->x;
    const char *conv = NULL;

    gu_err_clear(&err);
    if (!a || store_acquire(w->f->s, &c, &err) < 0)
        return NULL;
    x.conn = c;
    x.arena = a;
    for (int i = 0; i < w->turns; i++) {
        struct asst_chat_in in = {"99001", conv,
                                  i % 2 ? "et pour un mineur ?"
                                        : "refaire ma carte d'identité",
                                  NULL};
        struct asst_chat_out out;
        if (asst_chat(&x, &in, &out, &err) == 0) {
            conv = out.conversation;
            w->ids[i] = out.replies[out.n - 1].id;
            w->ok++;
        }
    }
    store_release(c);
    gu_arena_free(a);
    return NULL;
}

static void
test_concurrent_turns(void)
{
    struct fix f;
    struct worker w[6];
    pthread_t t[6];

    CHECK(fix_open(&f, NULL, 3000) == 0);
    for (int i = 0; i < 6; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].f = &f;
        w[i].turns = 20;
        CHECK(pthread_create(&t[i], NULL, work, &w[i]) == 0);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 6; i++)
        CHECK_EQ(w[i].ok, 20);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_conversations"), 6);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_conversations"
                       " WHERE turns = 20"),
             6);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_messages"), 120);
    CHECK_EQ(count(&f, "SELECT COUNT(DISTINCT id) FROM asst_messages"), 120);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM audit WHERE action ="
                       " 'asst.answer'"),
             120);
    /* The ids each thread got are its own rows. */
    for (int i = 0; i < 6; i++)
        for (int k = 1; k < 20; k++)
            CHECK(w[i].ids[k] > w[i].ids[k - 1]);
    fix_close(&f);
}

/* ----- the demo commune (data/demo, the engine's calibrated policy) ----- */

#ifndef GU_SOURCE_DIR
#define GU_SOURCE_DIR "."
#endif

/* A store with only the demo commune (99001) and, when `load`, its
 * embedded fiches. */
static int
demo_open(struct fix *f, bool load)
{
    struct gu_err err;
    int applied = 0;
    size_t n = 0, loaded = 0;
    const struct store_migration *m = asst_migrations(&n);

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    if (gu_crypto_init() < 0 || store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, &applied, &err) < 0 ||
        store_migrate(f->s, &m, &n, 1, &applied, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->cfg, &err) < 0 || !(f->a = gu_arena_new(0)) ||
        add_commune(f, "99001", "Saint-Exemple-sur-Loire") < 0 ||
        (load && kb_demo_load(f->c, "99001", "test", &loaded, &err) < 0) ||
        asst_engine_new(NULL, &f->e, &err) < 0) {
        fprintf(stderr, "demo_open: %s\n", err.msg);
        return -1;
    }
    f->x.eng = f->e;
    f->x.conn = f->c;
    f->x.arena = f->a;
    f->x.cfg = f->cfg;
    f->x.request_id = "req-demo";
    return !load || loaded >= 40 ? 0 : -1;
}

static void
test_demo_followup_section(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r;
    const char *conv = NULL;

    CHECK(demo_open(&f, true) == 0);
    CHECK(turn(&f, &conv, "jai perdu ma carte didentité", NULL, &out, &r) == 0);
    if (!r)
        goto out;
    CHECK_STR(r->type, "answer");
    CHECK_CONTAINS(r->fiche.title, "identité");
    CHECK(turn(&f, &conv, "et pour un mineur ?", NULL, &out, &r) == 0);
    if (r) {
        CHECK_STR(r->type, "answer");
        CHECK_CONTAINS(r->fiche.title, "identité");
        CHECK_STR(r->fiche.section, "Pour un enfant mineur");
        CHECK_CONTAINS(r->text, "mineur");
    }
    /* The topic is kept for the next follow-up too. */
    CHECK(turn(&f, &conv, "et ça coûte combien ?", NULL, &out, &r) == 0);
    if (r) {
        CHECK_STR(r->type, "answer");
        CHECK_CONTAINS(r->fiche.title, "identité");
    }
out:
    fix_close(&f);
}

/* A first message in a new conversation: the decisive reply's type and
 * fiche id (arena). */
static const char *
demo_ask(struct fix *f, const char *msg, const char **fiche)
{
    struct asst_chat_out out;
    struct asst_reply *r = NULL;
    const char *conv = NULL;

    *fiche = "";
    if (turn(f, &conv, msg, NULL, &out, &r) < 0 || !r)
        return "error";
    if (r->has_fiche)
        *fiche = r->fiche.id;
    if (getenv("ASST_DEBUG")) {
        struct store_rows *rw = NULL;
        struct gu_err err;
        asst_engine_sync(f->e, false);
        if (store_query(f->c, f->a,
                        "SELECT why FROM asst_messages ORDER BY id DESC"
                        " LIMIT 1",
                        NULL, 0, &rw, &err) == 0 &&
            rw->nrows) {
            json_t *j = json_loads(store_text(rw, 0, 0), 0, NULL);
            printf("  DBG %-8s cov %.3f conf %.3f margin %.3f | %s\n", r->type,
                   json_real_value(json_object_get(j, "coverage")),
                   json_real_value(json_object_get(j, "confidence")),
                   json_real_value(json_object_get(j, "margin")), msg);
            json_decref(j);
        }
    }
    return r->type;
}

static void
test_demo_spelling(void)
{
    struct fix f;
    const char *fiche, *type;

    CHECK(demo_open(&f, true) == 0);
    const char *want;
    /* The typo answers as the right spelling does, not the swimming pool
     * (pasport was repaired to sport). */
    CHECK_STR(demo_ask(&f, "passeport pour bébé de 6 mois", &want), "answer");
    type = demo_ask(&f, "pasport pour bébé de 6 mois", &fiche);
    CHECK_STR(type, "answer");
    CHECK_STR(fiche, want);
    {
        long i = -1;
        struct asst_bundle *b = NULL;
        struct gu_err err;
        if (asst_engine_acquire(f.e, f.c, "99001", &b, &err) == 0) {
            struct text_tokens tk;
            bool fixed_word = false;
            const char *q = "pasport pour bébé de 6 mois";
            /* The demo vocabulary repairs pasport to passeport. */
            CHECK(text_analyze(b->tp, asst_index_vocab(b->ix), TEXT_MODE_QUERY,
                               f.a, q, strlen(q), &tk) == 0);
            for (size_t k = 0; k < tk.n; k++) {
                fixed_word |= strcmp(tk.v[k].word, "passeport") == 0;
            }
            CHECK(fixed_word);
            i = asst_bundle_find(b, fiche);
            CHECK(i >= 0);
            if (i >= 0) {
                CHECK_CONTAINS(b->fiches[i].title, "passeport");
                CHECK(strstr(b->fiches[i].title, "iscine") == NULL);
            }
            asst_bundle_release(b);
        }
    }
    fix_close(&f);
}

/* A commune with no fiche has an (empty) index; questions get an offer
 * of an agent. */
static void
test_empty_commune(void)
{
    struct fix f;
    struct asst_bundle *b = NULL;
    struct gu_err err;
    struct asst_chat_in in = {"99001", NULL, "passeport perdu", NULL};
    struct asst_chat_out out;

    memset(&out, 0, sizeof(out));
    CHECK(demo_open(&f, false) == 0);
    CHECK(asst_engine_acquire(f.e, f.c, "99001", &b, &err) == 0);
    if (b) {
        CHECK_EQ(b->n, 0);
        CHECK(b->ix != NULL);
        asst_bundle_release(b);
    }
    CHECK(asst_chat(&f.x, &in, &out, &err) == 0);
    if (out.n)
        CHECK_STR(out.replies[out.n - 1].type, "handoff_offer");
    fix_close(&f);
}

/*
 * The demo question set (tests/data/demo_questions.tsv) through the whole
 * engine, each as a first message: the answers keep the floors of
 * test_asst_demo.c (the index alone) once the engine's own abstention
 * (coverage, trigram cosine) is applied.
 */
static void
test_demo_questions_engine(void)
{
    struct fix f;
    struct asst_questions q;
    struct asst_bundle *b = NULL;
    struct gu_err err;
    size_t nassets, right = 0, held = 0;
    const struct gu_asset *all = gu_demo_all(&nassets);

    CHECK(demo_open(&f, true) == 0);
    CHECK_EQ(asst_questions_load(GU_SOURCE_DIR "/tests/data/"
                                               "demo_questions.tsv",
                                 &q, &err),
             0);
    CHECK(asst_engine_acquire(f.e, f.c, "99001", &b, &err) == 0);
    if (!b || q.n == 0)
        goto out;
    for (size_t i = 0; i < q.n; i++) {
        const char *fiche, *type = demo_ask(&f, q.v[i].text, &fiche);
        bool ok = false;
        if (strcmp(type, "answer") != 0) {
            held++;
            printf("  held back « %s » (%s)\n", q.v[i].text, type);
            continue;
        }
        long fi = asst_bundle_find(b, fiche);
        /* The fiche's file name from its title: the demo assets. */
        for (size_t k = 0; fi >= 0 && k < nassets && !ok; k++) {
            struct kb_fiche kf;
            const char *path = all[k].path;
            size_t pn = strlen(path);
            if (strncmp(path, "fiches/", 7) != 0 || pn < 11 ||
                strcmp(path + pn - 3, ".md") != 0 ||
                kb_markdown_parse(f.a, (const char *)all[k].data, all[k].size,
                                  &kf, &err) < 0 ||
                strcmp(kf.title, b->fiches[fi].title) != 0)
                continue;
            for (size_t t = 0; t < q.v[i].ntargets && !ok; t++)
                ok = strlen(q.v[i].target[t]) == pn - 10 &&
                     strncmp(path + 7, q.v[i].target[t], pn - 10) == 0;
        }
        right += ok;
    }
    /* Measured 0.861 right and 0.091 held back (before the coverage
     * rule: 0.867 and 0.079); the index alone: test_asst_demo.c. */
    printf("  demo questions through the engine: %zu, answered right "
           "%.3f (floor 0.84), held back %.3f (ceiling 0.10)\n",
           q.n, (double)right / (double)q.n, (double)held / (double)q.n);
    CHECK((double)right / (double)q.n >= 0.84);
    CHECK((double)held / (double)q.n <= 0.10);
out:
    asst_bundle_release(b);
    asst_questions_fini(&q);
    fix_close(&f);
}

/* The commune's record is read at most once per check_ms. */
static void
test_commune_cache(void)
{
    struct fix f;
    struct store_commune m, upd;
    struct gu_err err;

    CHECK(fix_open(&f, NULL, 80) == 0);
    CHECK(asst_engine_commune(f.e, f.c, f.a, "99001", &m, &err) == 0);
    CHECK_STR(m.phone, "01 99 00 12 34");
    upd = m;
    upd.phone = "01 99 00 00 00";
    CHECK(store_commune_update(f.c, &upd, &err) == 0);
    CHECK(asst_engine_commune(f.e, f.c, f.a, "99001", &m, &err) == 0);
    CHECK_STR(m.phone, "01 99 00 12 34"); /* cached */
    usleep(120 * 1000);
    CHECK(asst_engine_commune(f.e, f.c, f.a, "99001", &m, &err) == 0);
    CHECK_STR(m.phone, "01 99 00 00 00");
    CHECK_EQ(asst_engine_commune(f.e, f.c, f.a, "98765", &m, &err),
             GU_ENOTFOUND);
    fix_close(&f);
}

struct rl_worker {
    struct fix *f;
    const char *ip;
    int turns, ok, rate;
};

static void *
rl_work(void *p)
{
    struct rl_worker *w = p;
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    struct asst_ctx x = w->f->x;
    const char *conv = NULL;

    gu_err_clear(&err);
    if (!a || store_acquire(w->f->s, &c, &err) < 0)
        return NULL;
    x.conn = c;
    x.arena = a;
    x.client_ip = w->ip;
    for (int i = 0; i < w->turns; i++) {
        struct asst_chat_in in = {"99001", conv, "refaire ma carte d'identité",
                                  NULL};
        struct asst_chat_out out;
        int rc = asst_chat(&x, &in, &out, &err);
        if (rc == 0) {
            conv = out.conversation;
            w->ok++;
        } else if (rc == GU_ERATE) {
            w->rate++;
        }
    }
    store_release(c);
    gu_arena_free(a);
    return NULL;
}

/* Turns written together: one resident over the rate limit is refused
 * alone, the others' turns are all stored. */
static void
test_batch_rate_limit(void)
{
    struct fix f;
    struct rl_worker w[5];
    pthread_t t[5];
    struct gu_err err;
    static const char *const ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3",
                                      "10.0.0.4", "10.0.0.5"};

    CHECK(fix_open(&f, NULL, 3000) == 0);
    CHECK(gu_config_parse_string(f.cfg, "[assistant]\nrate_per_minute = 4\n",
                                 &err) == 0);
    for (int i = 0; i < 5; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].f = &f;
        w[i].ip = ips[i];
        w[i].turns = i == 0 ? 10 : 4;
        CHECK(pthread_create(&t[i], NULL, rl_work, &w[i]) == 0);
    }
    for (int i = 0; i < 5; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(w[0].ok, 4);
    CHECK_EQ(w[0].rate, 6);
    for (int i = 1; i < 5; i++)
        CHECK_EQ(w[i].ok, 4);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_messages"), 20);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_conversations"), 5);
    CHECK_EQ(count(&f, "SELECT SUM(turns) FROM asst_conversations"), 20);
    fix_close(&f);
}

/* Turns are answered before they are written: ids given in memory, the
 * next turn reads the conversation from memory, the readers (feedback,
 * hand-off) wait for the writer, freeing the engine writes what is
 * queued, and a new engine reads the state and the ids back from the
 * database. */
static void
test_write_behind(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r = NULL;
    const char *conv = NULL, *keep = NULL, *ref = NULL, *tok = NULL;
    struct gu_err err;
    int64_t last = 0, prev = 0;
    bool ordered = true;

    CHECK(fix_open(&f, NULL, 3000) == 0);
    for (int c = 0; c < 10; c++) {
        conv = NULL;
        for (int i = 0; i < 3; i++) {
            CHECK(turn(&f, &conv,
                       i ? "et pour un mineur ?"
                         : "j'ai perdu ma carte d'identité",
                       NULL, &out, &r) == 0);
            if (!r)
                goto out;
            ordered = ordered && r->id > prev;
            prev = last = r->id;
        }
        keep = gu_arena_strdup(f.a, conv);
    }
    CHECK(ordered);
    /* The last reply, maybe not written yet, can be rated at once. */
    gu_err_clear(&err);
    CHECK(asst_feedback(&f.x, keep, last, true, "", &err) == 0);
    CHECK(asst_handoff_create(&f.x, keep, "jean@example.org", "et alors ?",
                              true, &ref, &tok, &err) == 0);
    /* Freeing the engine writes the queue; a new one starts from the
     * database. */
    struct asst_engine_opts o = *asst_engine_options(f.e);
    asst_engine_free(f.e);
    f.e = NULL;
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_conversations"), 10);
    CHECK_EQ(count(&f, "SELECT SUM(turns) FROM asst_conversations"), 30);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_messages WHERE type <>"
                       " 'handoff_done'"),
             30);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM asst_messages WHERE useful = 1"),
             1);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM audit WHERE action ="
                       " 'asst.answer'"),
             30);
    CHECK(asst_engine_new(&o, &f.e, &err) == 0);
    f.x.eng = f.e;
    conv = keep;
    CHECK(turn(&f, &conv, "combien ça coûte ?", NULL, &out, &r) == 0);
    if (r) {
        CHECK_STR(r->type, "answer");
        CHECK_STR(r->fiche.title, "Carte nationale d'identité");
        CHECK(r->id > last + 1); /* after the hand-off's message */
    }
    CHECK_EQ(count(&f, "SELECT COUNT(DISTINCT id) FROM asst_messages"), 32);
out:
    fix_close(&f);
}

/* The rate limit is counted in memory from the database's count: a
 * restart within the window keeps the hits already made; the hits are
 * still written to rate_limits. */
static void
test_rate_from_database(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct gu_err err;
    const char *conv = NULL;
    int64_t now = gu_now();

    CHECK(fix_open(&f, NULL, 3000) == 0);
    if (now % 60 > 56) { /* not across a window's end */
        sleep(5);
        now = gu_now();
    }
    CHECK(gu_config_parse_string(f.cfg, "[assistant]\nrate_per_minute = 3\n",
                                 &err) == 0);
    struct store_val p[] = {STORE_I(now - now % 60)};
    CHECK(store_exec(f.c,
                     "INSERT INTO rate_limits (key, window_start, hits)"
                     " VALUES ('asst:198.51.100.7:99001', ?, 2)",
                     p, 1, &err) == 0);
    f.x.client_ip = "198.51.100.7";
    CHECK(turn(&f, &conv, "passeport", NULL, &out, NULL) == 0);
    struct asst_chat_in in = {"99001", conv, "passeport", NULL};
    gu_err_clear(&err);
    CHECK_EQ(asst_chat(&f.x, &in, &out, &err), GU_ERATE);
    CHECK_CONTAINS(err.user, "Trop de demandes");
    /* Another address is not counted with it. */
    f.x.client_ip = "198.51.100.8";
    conv = NULL;
    CHECK(turn(&f, &conv, "passeport", NULL, &out, NULL) == 0);
    CHECK_EQ(count(&f, "SELECT hits FROM rate_limits WHERE key ="
                       " 'asst:198.51.100.7:99001'"),
             3);
    CHECK_EQ(count(&f, "SELECT hits FROM rate_limits WHERE key ="
                       " 'asst:198.51.100.8:99001'"),
             1);
    fix_close(&f);
}

/* Off-topic probes (tests/data/demo_offtopic.txt): at least 80 % get a
 * clarification or a hand-off offer, never most of them an answer. */
static void
test_demo_offtopic(void)
{
    struct fix f;
    char line[512];
    size_t n = 0, held = 0;
    FILE *fp = fopen(GU_SOURCE_DIR "/tests/data/demo_offtopic.txt", "r");

    CHECK(fp != NULL);
    if (!fp)
        return;
    CHECK(demo_open(&f, true) == 0);
    while (fgets(line, sizeof(line), fp)) {
        const char *fiche;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        const char *type = demo_ask(&f, line, &fiche);
        n++;
        if (strcmp(type, "answer") != 0)
            held++;
        else
            printf("  off-topic answered « %s » -> %s\n", line, fiche);
    }
    fclose(fp);
    printf("  off-topic probes: %zu, held back %zu\n", n, held);
    CHECK(n >= 15);
    CHECK(n > 0 && (double)held / (double)n >= 0.80);
    fix_close(&f);
}

/* How many links of `r` are of `kind` (0 for no reply). */
static size_t
count_kind(const struct asst_reply *r, const char *kind)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->nlinks; i++)
        n += strcmp(r->links[i].kind, kind) == 0;
    return n;
}

/* An answer whose fiche links to the booking page lists the motif's next
 * free slots right after that link, each a link to the booking page with
 * the slot chosen; without appointment setup, the booking link alone. */
static void
test_demo_slot_links(void)
{
    struct fix f;
    struct asst_chat_out out;
    struct asst_reply *r = NULL;
    const char *conv = NULL;
    struct gu_err err;

    CHECK(demo_open(&f, true) == 0);
    CHECK(turn(&f, &conv, "je veux me pacser", NULL, &out, &r) == 0);
    CHECK(r && r->nlinks >= 1);
    for (size_t i = 0; r && i < r->nlinks; i++)
        CHECK(strcmp(r->links[i].kind, "creneau") != 0);

    CHECK_EQ(rdv_demo_seed(f.c, "99001", &err), 0);
    conv = NULL;
    CHECK(turn(&f, &conv, "je veux me pacser", NULL, &out, &r) == 0);
    if (!r)
        goto out;
    CHECK_STR(r->type, "answer");
    size_t booking = r->nlinks, slots = 0;
    for (size_t i = 0; i < r->nlinks; i++) {
        if (strcmp(r->links[i].kind, "booking") == 0 && booking == r->nlinks)
            booking = i;
        if (strcmp(r->links[i].kind, "creneau") == 0) {
            slots++;
            CHECK_EQ(i, booking + slots);
            CHECK_CONTAINS(r->links[i].url, "/rdv?c=99001&motif=pacs&lieu=");
            CHECK_CONTAINS(r->links[i].url, "&creneau=");
            CHECK_CONTAINS(r->links[i].label, " à ");
            CHECK_CONTAINS(r->links[i].label, "Mairie");
        }
    }
    CHECK_EQ(slots, 3);
    if (booking < r->nlinks)
        CHECK_STR(r->links[booking].url, "/rdv?c=99001&motif=pacs");
    /* They are in the reply's JSON for the widget. */
    CHECK(out.n >= 1);
    CHECK_CONTAINS(out.raw[out.n - 1], "\"kind\":\"creneau\"");

    /* Remembered for the engine's check_ms (3 s here): a motif closed
     * meanwhile still shows them; an engine that reads every time
     * (check_ms 0) shows none. */
    CHECK_EQ(store_exec(f.c,
                        "UPDATE rdv_motifs SET active = 0 WHERE insee = "
                        "'99001' AND code = 'pacs'",
                        NULL, 0, &err),
             0);
    conv = NULL;
    CHECK(turn(&f, &conv, "je veux me pacser", NULL, &out, &r) == 0);
    CHECK_EQ(count_kind(r, "creneau"), 3);
    {
        struct asst_engine_opts o;
        asst_engine_free(f.e);
        f.e = NULL;
        asst_engine_opts_default(&o);
        o.check_ms = 0;
        CHECK(asst_engine_new(&o, &f.e, &err) == 0);
        f.x.eng = f.e;
    }
    conv = NULL;
    CHECK(turn(&f, &conv, "je veux me pacser", NULL, &out, &r) == 0);
    CHECK_EQ(count_kind(r, "creneau"), 0);
out:
    fix_close(&f);
}

TESTS(T(test_demo_slot_links), T(test_answer_section_source),
      T(test_followup_keeps_topic), T(test_clarify_then_handoff),
      T(test_redaction), T(test_local_beats_national), T(test_index_rebuilt),
      T(test_generation), T(test_handoff), T(test_limits_and_purge),
      T(test_concurrent_turns), T(test_demo_followup_section),
      T(test_demo_spelling), T(test_empty_commune),
      T(test_demo_questions_engine), T(test_demo_offtopic),
      T(test_commune_cache), T(test_batch_rate_limit), T(test_write_behind),
      T(test_rate_from_database))
