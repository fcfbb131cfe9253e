/*
 * text_data.c - the French word lists of the text pipeline.
 *
 * Written for Guichet (not copied from another project). All entries are
 * in folded form: lower case, no accents, apostrophes as ASCII '. They
 * are data, not code: a commune's synonym table replaces the default one
 * through text_pipeline_new().
 */
#include "text/text_internal.h"

/*
 * Function words that carry no topic: articles, pronouns, prepositions,
 * conjunctions, forms of etre/avoir and of the modal verbs questions
 * start with ("peut-on", "doit-on", "faut-il"), question words and
 * greetings ("bonjour", "merci", "s'il vous plait").
 * Elided forms (l d j m n s t c qu jusqu lorsqu puisqu) are here too, so
 * the tokeniser can keep them as tokens and let this list drop them.
 */
const char *const text_stopwords[] = {
    "a", "afin", "ai", "aie", "aient", "ainsi", "ait", "alors", "as", "au",
    "aucun", "aucune", "aupres", "auquel", "aura", "aurai", "auraient",
    "aurais", "aurait", "auras", "aurez", "aurons", "auront", "aussi", "aux",
    "auxquelles", "auxquels", "avaient", "avais", "avait", "avec", "avez",
    "aviez", "avoir", "avons", "ayant", "bonjour", "bonsoir", "c", "ca",
    "car", "ce", "ceci",
    "cela", "celle", "celles", "celui", "ces", "cet", "cette", "ceux",
    "chaque", "chez", "ci", "comme", "comment", "d", "dans", "de", "des",
    "desquelles", "desquels", "doit", "doivent", "donc", "dont", "du",
    "duquel", "elle", "elles", "en", "es", "est", "et", "etaient", "etais",
    "etait", "etant", "etc", "ete", "etes", "etre", "eu", "eux", "faut",
    "il", "ils", "j", "je", "jusqu", "jusque", "l", "la", "laquelle", "le",
    "lequel", "les", "lesquelles", "lesquels", "leur", "leurs", "lors",
    "lorsqu", "lorsque", "lui", "m", "ma", "madame", "mais", "me", "merci",
    "mes", "moi", "mon", "monsieur",
    "n", "ne", "ni", "nos", "notre", "nous", "on", "ont", "or", "ou", "par",
    "parce", "pas", "peut", "peuvent", "peux", "plait", "plus", "pour",
    "pouvez",
    "puis", "puisqu", "puisque", "qu", "quand", "que", "quel", "quelle",
    "quelles", "quels", "qui", "quoi", "quoiqu", "s", "sa", "salut", "sans",
    "se",
    "sera", "serai", "seraient", "serais", "serait", "seront", "ses", "si",
    "soi", "soient", "soit", "son", "sont", "sous", "suis", "sur", "t", "ta",
    "te", "tes", "toi", "ton", "tres", "tu", "un", "une", "unes", "uns",
    "vos", "votre", "vous", "y",
};
const size_t text_stopwords_len =
    sizeof(text_stopwords) / sizeof(text_stopwords[0]);

/*
 * SMS and chat shorthand residents type, with what they mean. Pairs:
 * shorthand, replacement (re-tokenised, so "j'ai" gives an elision).
 */
const char *const text_sms[] = {
    "kel", "quel",           "kelle", "quelle",
    "kels", "quels",         "keske", "qu'est-ce que",
    "koi", "quoi",           "ke", "que",
    "ki", "qui",             "kan", "quand",
    "kand", "quand",         "qd", "quand",
    "jveux", "je veux",      "jveu", "je veux",
    "veu", "veux",           "vx", "veux",
    "jvoudrais", "je voudrais", "jvoudrai", "je voudrais",
    "jpeux", "je peux",      "jpeu", "je peux",
    "jsuis", "je suis",      "jsui", "je suis",
    "chui", "je suis",       "jai", "j'ai",
    "jme", "je me",          "jdois", "je dois",
    "jsp", "je ne sais pas", "slt", "salut",
    "bjr", "bonjour",        "bsr", "bonsoir",
    "stp", "s'il te plait",  "svp", "s'il vous plait",
    "rdv", "rendez-vous",    "rdvs", "rendez-vous",
    "pk", "pourquoi",        "pq", "pourquoi",
    "pkoi", "pourquoi",      "pcq", "parce que",
    "psk", "parce que",      "paske", "parce que",
    "bcp", "beaucoup",       "tjs", "toujours",
    "tjrs", "toujours",      "qqn", "quelqu'un",
    "qqch", "quelque chose", "dc", "donc",
    "mm", "meme",            "pr", "pour",
    "ds", "dans",            "vs", "vous",
    "nn", "non",             "tt", "tout",
    "cmt", "comment",        "cmnt", "comment",
    "mrc", "merci",          "mci", "merci",
    "auj", "aujourd'hui",    "ajd", "aujourd'hui",
    "dmd", "demande",        "dmde", "demande",
    "dispo", "disponible",   "ct", "c'etait",
    "msg", "message",        "tel", "telephone",
    "num", "numero",         "ya", "il y a",
    "dacc", "d'accord",      "cad", "c'est-a-dire",
    "info", "information",   "infos", "informations",
    "doc", "document",       "docs", "documents",
    "appart", "appartement", "proprio", "proprietaire",
    "secu", "securite sociale", "alloc", "allocation",
    "allocs", "allocations", "mutu", "mutuelle",
    "cb", "combien",         "cbien", "combien",
    "cmb", "combien",        "cbn", "combien",
    "komben", "combien",     "kombien", "combien",
    "koman", "comment",      "komen", "comment",
    "komment", "comment",    "kom", "comme",
    "jpx", "je peux",        "jvx", "je veux",
    "jsais", "je sais",      "jcrois", "je crois",
    "jvais", "je vais",      "jfais", "je fais",
    "jpense", "je pense",    "jaimerais", "j'aimerais",
    "jaurais", "j'aurais",   "jarrive", "j'arrive",
    "pb", "probleme",        "pbm", "probleme",
    "pblm", "probleme",      "prblm", "probleme",
    "mtn", "maintenant",     "mnt", "maintenant",
    "tjr", "toujours",       "oj", "aujourd'hui",
    "ojd", "aujourd'hui",    "dem1", "demain",
    "qq", "quelque",         "qlq", "quelque",
    "qqs", "quelques",       "qlqs", "quelques",
    "nvx", "nouveau",        "nvl", "nouvelle",
    "bb", "bebe",            "enft", "enfant",
    "ptit", "petit",         "ptite", "petite",
    "pdt", "pendant",        "avt", "avant",
    "apr", "apres",          "ac", "avec",
    "avc", "avec",           "ss", "sans",
    "dsl", "desole",
};
const size_t text_sms_len = sizeof(text_sms) / sizeof(text_sms[0]);

/*
 * The default synonym and acronym table: administrative French as
 * residents say it and as the fiches write it.
 */
const char text_default_synonyms[] =
    "# Synonymes et sigles : une ligne par groupe, variantes separees\n"
    "# par |. Le premier terme nomme le groupe.\n"
    "cni | carte nationale d'identite | carte d'identite"
    " | piece d'identite\n"
    "passeport | passport\n"
    "ants | agence nationale des titres securises\n"
    "pacs | pacte civil de solidarite | pacse\n"
    "plu | plan local d'urbanisme\n"
    "jdc | journee defense et citoyennete | journee d'appel\n"
    "encombrants | objets encombrants | dechets volumineux | monstres\n"
    "decheterie | dechetterie | centre de recyclage\n"
    "mairie | hotel de ville\n"
    "acte de naissance | extrait de naissance\n"
    "permis de construire | pc\n"
    "declaration prealable | dp\n"
    "caf | caisse d'allocations familiales\n"
    "cpam | assurance maladie | securite sociale\n"
    "apl | aide personnalisee au logement | aide au logement\n"
    "rsa | revenu de solidarite active\n"
    "smic | salaire minimum\n"
    "cdd | contrat a duree determinee\n"
    "cdi | contrat a duree indeterminee\n"
    "rib | releve d'identite bancaire\n"
    "carte grise | certificat d'immatriculation\n"
    "impots | impot sur le revenu | fisc\n"
    "taxe d'habitation | th\n"
    "pole emploi | france travail\n"
    "chomage | allocation chomage | demandeur d'emploi\n"
    "cantine | restauration scolaire | restaurant scolaire\n"
    "periscolaire | garderie | accueil periscolaire\n"
    "listes electorales | inscription electorale\n"
    "recensement citoyen | recensement militaire\n"
    "ehpad | maison de retraite\n"
    "mdph | maison departementale des personnes handicapees\n"
    "aah | allocation aux adultes handicapes\n"
    "apa | allocation personnalisee d'autonomie\n"
    "perte | perdu | perdue | egare | egaree\n"
    "vol | vole | volee\n"
    "deces | mort | defunt | decede\n"
    "bebe | nourrisson | nouveau-ne\n"
    "voiture | vehicule | automobile\n"
    "logement | appartement | habitation\n"
    "bailleur | proprietaire\n"
    "salaire | remuneration | paie\n"
    "licenciement | licencie | renvoye\n"
    "demission | demissionner\n"
    "handicap | handicape | invalidite\n"
    "titre de sejour | carte de sejour\n"
    "amende | contravention | proces-verbal\n"
    "demenagement | changement d'adresse | demenager\n"
    "mariage | se marier | marie\n"
    "divorce | divorcer\n";
