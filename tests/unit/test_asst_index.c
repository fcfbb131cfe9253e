/*
 * test_asst_index.c - the assistant's BM25F + trigram index on a small
 * corpus of mairie fiches: clean, typo'd and SMS queries find the right
 * fiche first; empty and unknown queries give nothing; margins.
 */
#include <string.h>

#include "assistant/asst_index.h"
#include "harness.h"

struct fiche {
    const char *id, *title, *alt, *desc, *body;
};

static const struct fiche corpus[] = {
    {"cni", "Carte nationale d'identité",
     "Comment refaire ma carte d'identité ?\nCarte d'identité perdue",
     "Demande ou renouvellement de la carte d'identité d'un majeur.",
     "La demande se fait sur rendez-vous en mairie avec une pré-demande "
     "en ligne sur le site de l'ANTS. En cas de perte ou de vol, "
     "déclarez-la. La carte est gratuite sauf perte."},
    {"passeport", "Passeport", "Faire un passeport",
     "Obtenir ou renouveler un passeport biométrique.",
     "Le passeport se demande en mairie sur rendez-vous. Timbre fiscal de "
     "86 euros pour un majeur. Délai de plusieurs semaines en été."},
    {"naissance", "Acte de naissance", "Obtenir un extrait de naissance",
     "Demander une copie ou un extrait d'acte de naissance.",
     "La mairie du lieu de naissance délivre l'acte gratuitement. La "
     "demande peut se faire en ligne ou par courrier."},
    {"encombrants", "Collecte des encombrants",
     "Se débarrasser d'un canapé\nRamassage des monstres",
     "Enlèvement des objets volumineux sur rendez-vous.",
     "Les encombrants (meubles, électroménager) sont collectés le premier "
     "lundi du mois après inscription auprès de la mairie. Sinon, "
     "déposez-les à la déchetterie."},
    {"cantine", "Cantine scolaire", "Inscrire mon enfant à la cantine",
     "Inscription à la restauration scolaire et tarifs.",
     "Les repas sont facturés selon le quotient familial. Les menus sont "
     "publiés chaque mois. Signalez les allergies au directeur."},
    {"pacs", "PACS", "Se pacser en mairie",
     "Conclure un pacte civil de solidarité.",
     "Les partenaires font enregistrer leur convention à l'officier "
     "d'état civil de la mairie, sur rendez-vous."},
    {"mariage", "Mariage civil", "Se marier à la mairie",
     "Célébration du mariage et dossier à déposer.",
     "Le dossier de mariage est déposé à la mairie au moins un mois avant "
     "la célébration. Publication des bans pendant dix jours."},
    {"listes", "Inscription sur les listes électorales", "Voter",
     "S'inscrire pour voter aux élections.",
     "L'inscription se fait en ligne ou en mairie avec un justificatif de "
     "domicile et une pièce d'identité, jusqu'au sixième vendredi avant "
     "le scrutin."},
    {"plu", "Plan local d'urbanisme", "Consulter le PLU",
     "Règles de construction de la commune.",
     "Le PLU fixe les zones constructibles. Un permis de construire ou une "
     "déclaration préalable est nécessaire pour les travaux."},
    {"horaires", "Horaires de la mairie", "Quand la mairie est-elle ouverte",
     "Jours et heures d'ouverture de l'accueil.",
     "L'accueil est ouvert du lundi au vendredi de 8h30 à 12h et de 13h30 "
     "à 17h, le samedi matin de 9h à 12h."},
};

static struct text_pipeline *tp;
static struct asst_index *ix;

static bool
setup(void)
{
    struct asst_doc docs[GU_ARRAY_LEN(corpus)];
    struct gu_err err;

    if (ix)
        return true;
    if (text_pipeline_new(NULL, 0, &tp, &err) < 0)
        return false;
    for (size_t i = 0; i < GU_ARRAY_LEN(corpus); i++) {
        const struct fiche *f = &corpus[i];
        memset(&docs[i], 0, sizeof(docs[i]));
        docs[i].id = f->id;
        docs[i].text[ASST_FIELD_TITLE] = f->title;
        docs[i].text[ASST_FIELD_ALT] = f->alt;
        docs[i].text[ASST_FIELD_DESC] = f->desc;
        docs[i].text[ASST_FIELD_BODY] = f->body;
        for (int k = 0; k < ASST_NFIELDS; k++)
            docs[i].len[k] = docs[i].text[k] ? strlen(docs[i].text[k]) : 0;
    }
    return asst_index_build(tp, docs, GU_ARRAY_LEN(docs), NULL, &ix,
                            &err) == 0;
}

/* Id of the first hit for `q`, "" when there is none. */
static const char *
first(const char *q, struct asst_result *r)
{
    static char id[64];
    struct gu_arena *a = gu_arena_new(0);
    struct asst_result tmp;

    if (!r)
        r = &tmp;
    id[0] = '\0';
    if (a && asst_index_search(ix, a, q, strlen(q), 5, r) == 0 && r->n) {
        snprintf(id, sizeof(id), "%s", asst_index_doc_id(ix, r->hits[0].doc));
    }
    gu_arena_free(a);
    return id;
}

static void
test_build(void)
{
    CHECK(setup());
    if (!ix)
        return;
    CHECK_EQ(asst_index_ndocs(ix), GU_ARRAY_LEN(corpus));
    CHECK(asst_index_nterms(ix) > 50);
    CHECK_STR(asst_index_doc_id(ix, 0), "cni");
    CHECK(asst_index_doc_id(ix, 1000) == NULL);
}

static void
test_clean_queries(void)
{
    if (!setup())
        return;
    CHECK_STR(first("Comment renouveler ma carte nationale d'identité ?",
                    NULL), "cni");
    CHECK_STR(first("passeport pour un majeur", NULL), "passeport");
    CHECK_STR(first("extrait d'acte de naissance", NULL), "naissance");
    CHECK_STR(first("ramassage des encombrants", NULL), "encombrants");
    CHECK_STR(first("tarifs de la cantine", NULL), "cantine");
    CHECK_STR(first("se pacser", NULL), "pacs");
    CHECK_STR(first("Quels sont les horaires d'ouverture ?", NULL),
              "horaires");
    CHECK_STR(first("s'inscrire sur les listes électorales", NULL), "listes");
}

static void
test_synonym_queries(void)
{
    if (!setup())
        return;
    CHECK_STR(first("pièce d'identité perdue", NULL), "cni");
    CHECK_STR(first("CNI", NULL), "cni");
    CHECK_STR(first("pacte civil de solidarité", NULL), "pacs");
    CHECK_STR(first("plan local d'urbanisme", NULL), "plu");
    CHECK_STR(first("enlèvement des monstres", NULL), "encombrants");
}

static void
test_typo_and_sms_queries(void)
{
    if (!setup())
        return;
    CHECK_STR(first("jai perdu ma carte didentité", NULL), "cni");
    CHECK_STR(first("kel pasport pour un majeur", NULL), "passeport");
    CHECK_STR(first("jveux un rdv pour le pasport stp", NULL), "passeport");
    CHECK_STR(first("acte de naisance", NULL), "naissance");
    CHECK_STR(first("incription a la cantinne", NULL), "cantine");
    CHECK_STR(first("HORAIRES DE LA MAIRIE", NULL), "horaires");
}

static void
test_empty_and_unknown(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct asst_result r;

    if (!setup() || !a) {
        CHECK(a != NULL);
        gu_arena_free(a);
        return;
    }
    CHECK_EQ(asst_index_search(ix, a, "", 0, 5, &r), 0);
    CHECK_EQ(r.n, 0);
    CHECK(r.margin == 0);
    CHECK_EQ(asst_index_search(ix, a, "le la les de", 12, 5, &r), 0);
    CHECK_EQ(r.n, 0);
    CHECK_EQ(asst_index_search(ix, a, "xyzzy qwfp", 10, 5, &r), 0);
    CHECK_EQ(r.n, 0);
    CHECK_EQ(asst_index_search(ix, a, "mairie", 6, 0, &r), 0);
    CHECK_EQ(r.n, 0);
    gu_arena_free(a);
}

static void
test_margin_and_order(void)
{
    struct asst_result r;
    struct gu_arena *a = gu_arena_new(0);

    if (!setup() || !a) {
        CHECK(a != NULL);
        gu_arena_free(a);
        return;
    }
    /* A precise question leads clearly; a vague one does not. */
    CHECK_STR(first("collecte des encombrants le premier lundi", &r),
              "encombrants");
    float clear = r.margin;
    CHECK_EQ(asst_index_search(ix, a, "mairie", 6, 5, &r), 0);
    CHECK(clear > 0.2f);
    CHECK(r.margin < clear);
    CHECK(r.n > 1);
    for (size_t i = 1; i < r.n; i++)
        CHECK(r.hits[i - 1].score >= r.hits[i].score);
    CHECK(clear >= 0 && clear <= 1);
    gu_arena_free(a);
}

static void
test_free_null(void)
{
    asst_index_free(NULL);
    text_pipeline_free(NULL);
    text_vocab_free(NULL);
    /* Last test: release the shared index. */
    asst_index_free(ix);
    text_pipeline_free(tp);
    ix = NULL;
    tp = NULL;
    CHECK(1);
}

TESTS(T(test_build), T(test_clean_queries), T(test_synonym_queries),
      T(test_typo_and_sms_queries), T(test_empty_and_unknown),
      T(test_margin_and_order), T(test_free_null))
