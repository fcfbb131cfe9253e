/*
 * test_voice_norm.c - the French normaliser of the voice (voice_norm.c):
 * numbers, hours, dates, amounts, phone numbers, abbreviations,
 * ordinals, addresses, percentages and units, on real sentences.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "voice/voice.h"

/* The spoken form of `in` (in `a`), or "(erreur)". */
static const char *
say(struct gu_arena *a, const char *in)
{
    struct gu_err err;
    char *out = NULL;

    gu_err_clear(&err);
    if (voice_normalize(a, in, &out, &err) < 0)
        return "(erreur)";
    return out;
}

struct pair {
    const char *in, *want;
};

static void
check_all(const struct pair *p, size_t n)
{
    struct gu_arena *a = gu_arena_new(0);

    for (size_t i = 0; i < n; i++) {
        const char *got = say(a, p[i].in);

        if (strcmp(got, p[i].want) != 0)
            TH_FAIL("« %s » -> « %s », attendu « %s »", p[i].in, got,
                    p[i].want);
    }
    gu_arena_free(a);
}

#define CHECK_ALL(arr) check_all(arr, sizeof(arr) / sizeof(arr[0]))

static void
test_cardinals(void)
{
    static const struct pair p[] = {
        {"0", "zéro"},
        {"1", "un"},
        {"16", "seize"},
        {"17", "dix-sept"},
        {"21", "vingt et un"},
        {"22", "vingt-deux"},
        {"61", "soixante et un"},
        {"70", "soixante-dix"},
        {"71", "soixante et onze"},
        {"72", "soixante-douze"},
        {"79", "soixante-dix-neuf"},
        {"80", "quatre-vingts"},
        {"81", "quatre-vingt-un"},
        {"90", "quatre-vingt-dix"},
        {"91", "quatre-vingt-onze"},
        {"99", "quatre-vingt-dix-neuf"},
        {"100", "cent"},
        {"101", "cent un"},
        {"180", "cent quatre-vingts"},
        {"200", "deux cents"},
        {"201", "deux cent un"},
        {"1000", "mille"},
        {"1001", "mille un"},
        {"2026", "deux mille vingt-six"},
        {"80000", "quatre-vingt mille"},
        {"200000", "deux cent mille"},
        {"1000000", "un million"},
        {"2500000", "deux millions cinq cent mille"},
        {"200000000", "deux cents millions"},
        {"3000000000", "trois milliards"},
        {"1 200", "mille deux cents"},
        {"12\xc2\xa0" "345", "douze mille trois cent quarante-cinq"},
        {"1\xe2\x80\xaf" "000\xe2\x80\xaf" "000", "un million"},
        {"3,5", "trois virgule cinq"},
        {"3,05", "trois virgule zéro cinq"},
        {"0,75", "zéro virgule soixante-quinze"},
        {"12,50", "douze virgule cinquante"},
        {"007", "zéro zéro sept"},
        {"il y a 3 guichets et 12 agents",
         "il y a trois guichets et douze agents"},
    };
    CHECK_ALL(p);
}

static void
test_hours(void)
{
    static const struct pair p[] = {
        {"14h30", "quatorze heures trente"},
        {"14 h 30", "quatorze heures trente"},
        {"9h", "neuf heures"},
        {"9 h", "neuf heures"},
        {"1h", "une heure"},
        {"21h", "vingt et une heures"},
        {"12h00", "douze heures"},
        {"8h05", "huit heures cinq"},
        {"14:30", "quatorze heures trente"},
        {"0h15", "zéro heure quinze"},
        {"10h01", "dix heures une"},
        {"ouvert de 9h à 12h et de 14h à 17h30",
         "ouvert de neuf heures à douze heures et de quatorze heures à "
         "dix-sept heures trente"},
        {"9h-12h", "neuf heures à douze heures"},
        {"24h/24", "vingt-quatre heures sur vingt-quatre"},
        {"7j/7", "sept jours sur sept"},
        {"3 heures", "trois heures"},
    };
    CHECK_ALL(p);
}

static void
test_dates(void)
{
    static const struct pair p[] = {
        {"3/12/2026", "trois décembre deux mille vingt-six"},
        {"03/12/2026", "trois décembre deux mille vingt-six"},
        {"03/12", "trois décembre"},
        {"1/5", "premier mai"},
        {"le 1er janvier", "le premier janvier"},
        {"2026-12-03", "trois décembre deux mille vingt-six"},
        {"le 14.07.2026", "le quatorze juillet deux mille vingt-six"},
        {"31/12/26", "trente et un décembre deux mille vingt-six"},
        {"RDV le 3/12 à 14h30",
         "rendez-vous le trois décembre à quatorze heures trente"},
        /* impossible dates stay numbers */
        {"32/12", "trente-deux sur douze"},
        {"le 31/02/2026",
         "le trente et un sur zéro deux sur deux mille vingt-six"},
    };
    CHECK_ALL(p);
}

static void
test_amounts(void)
{
    static const struct pair p[] = {
        {"12,50 €", "douze euros cinquante"},
        {"12,50\xc2\xa0\xe2\x82\xac", "douze euros cinquante"},
        {"12 €", "douze euros"},
        {"1 €", "un euro"},
        {"0,50 €", "cinquante centimes"},
        {"12,5 €", "douze euros cinquante"},
        {"1 200 €", "mille deux cents euros"},
        {"1\xe2\x80\xaf" "200\xe2\x80\xaf\xe2\x82\xac", "mille deux cents euros"},
        {"86 euros", "quatre-vingt-six euros"},
        {"2 000 000 €", "deux millions d'euros"},
        {"le passeport coûte 86 € pour un adulte",
         "le passeport coûte quatre-vingt-six euros pour un adulte"},
        {"25€", "vingt-cinq euros"},
    };
    CHECK_ALL(p);
}

static void
test_phones(void)
{
    static const struct pair p[] = {
        {"01 23 45 67 89",
         "zéro un, vingt-trois, quarante-cinq, soixante-sept, "
         "quatre-vingt-neuf"},
        {"0123456789",
         "zéro un, vingt-trois, quarante-cinq, soixante-sept, "
         "quatre-vingt-neuf"},
        {"01.23.45.67.89",
         "zéro un, vingt-trois, quarante-cinq, soixante-sept, "
         "quatre-vingt-neuf"},
        {"02 40 00 07 10",
         "zéro deux, quarante, zéro zéro, zéro sept, dix"},
        {"+33 1 23 45 67 89",
         "plus trente-trois, un, vingt-trois, quarante-cinq, soixante-sept, "
         "quatre-vingt-neuf"},
        {"+33123456789",
         "plus trente-trois, un, vingt-trois, quarante-cinq, soixante-sept, "
         "quatre-vingt-neuf"},
        {"appelez le 06 12 34 56 78.",
         "appelez le zéro six, douze, trente-quatre, cinquante-six, "
         "soixante-dix-huit."},
        /* a short number is a number */
        {"le 3939", "le trois mille neuf cent trente-neuf"},
    };
    CHECK_ALL(p);
}

static void
test_abbreviations(void)
{
    static const struct pair p[] = {
        {"M. Dupont", "monsieur Dupont"},
        {"Mme Martin", "madame Martin"},
        {"Mlle Petit", "mademoiselle Petit"},
        {"MM. Durand", "messieurs Durand"},
        {"votre CNI", "votre cé enne i"},
        {"le site de l'ANTS", "le site de l'a enne té esse"},
        {"n° 12", "numéro douze"},
        {"N° 4", "numéro quatre"},
        {"prenez RDV", "prenez rendez-vous"},
        {"un rdv", "un rendez-vous"},
        {"12 av. de la Gare", "douze avenue de la Gare"},
        {"3 bd Victor Hugo", "trois boulevard Victor Hugo"},
        {"pièces, photos, etc. Merci", "pièces, photos, et cetera. Merci"},
        {"par SMS", "par esse emme esse"},
        {"le QF et le PAI", "le ku effe et le pé a i"},
        {"appelez le SAMU", "appelez le samu"},
        {"saisir la CNIL", "saisir la CNIL"},
        {"LE GUICHET EST OUVERT", "LE GUICHET EST OUVERT"},
        {"votre QR code", "votre ku erre code"},
        {"CD et DVD", "cé dé et dé vé dé"},
        {"un PDF", "un pé dé effe"},
        {"le CCAS", "le cé cé a esse"},
        {"St-Nazaire", "saint-Nazaire"},
        /* a capital M alone is not an abbreviation */
        {"M", "M"},
    };
    CHECK_ALL(p);
}

static void
test_ordinals(void)
{
    static const struct pair p[] = {
        {"1er", "premier"},
        {"1re", "première"},
        {"1ère", "première"},
        {"2e", "deuxième"},
        {"2ème", "deuxième"},
        {"2nd", "second"},
        {"3e étage", "troisième étage"},
        {"4e", "quatrième"},
        {"5e", "cinquième"},
        {"9e", "neuvième"},
        {"11e", "onzième"},
        {"21e", "vingt et unième"},
        {"80e", "quatre-vingtième"},
        {"100e", "centième"},
        {"le XXIe siècle", "le vingt et unième siècle"},
        {"la Ve République", "la cinquième République"},
        {"le XVIe arrondissement", "le seizième arrondissement"},
        /* roman numerals only before their nouns: « Vie » is a word */
        {"Vie associative", "Vie associative"},
    };
    CHECK_ALL(p);
}

static void
test_addresses(void)
{
    static const struct pair p[] = {
        {"mairie@saint-exemple.fr",
         "mairie arobase saint tiret exemple point effe erre"},
        {"écrivez à etat-civil@ville.fr.",
         "écrivez à etat tiret civil arobase ville point effe erre."},
        {"mairie@saint-exemple-sur-loire.fr",
         "mairie arobase saint tiret exemple tiret sur tiret loire point "
         "effe erre"},
        {"jean.dupont2@exemple.com",
         "jean point dupont deux arobase exemple point com"},
        {"www.service-public.fr",
         "double vé double vé double vé point service tiret public point "
         "effe erre"},
        {"https://www.ants.gouv.fr/",
         "double vé double vé double vé point a enne té esse point gouv "
         "point effe erre barre oblique"},
        {"sur service-public.fr, rubrique",
         "sur service tiret public point effe erre, rubrique"},
        {"https://exemple.fr/demarches/cni",
         "exemple point effe erre barre oblique demarches barre oblique cé "
         "enne i"},
    };
    CHECK_ALL(p);
}

static void
test_percent_units(void)
{
    static const struct pair p[] = {
        {"12 %", "douze pour cent"},
        {"12%", "douze pour cent"},
        {"12,5 %", "douze virgule cinq pour cent"},
        {"3 km", "trois kilomètres"},
        {"1 km", "un kilomètre"},
        {"10km", "dix kilomètres"},
        {"2 kg", "deux kilos"},
        {"50 m²", "cinquante mètres carrés"},
        {"50 m2", "cinquante mètres carrés"},
        {"30 min", "trente minutes"},
        {"19 °C", "dix-neuf degrés"},
        {"5 L", "cinq litres"},
        /* "s'" is not a unit */
        {"3 s'inscrivent", "trois s'inscrivent"},
    };
    CHECK_ALL(p);
}

static void
test_text_shape(void)
{
    static const struct pair p[] = {
        /* markdown is dropped, lines become sentences */
        {"**Pièces à fournir**\n- une photo\n- un justificatif",
         "Pièces à fournir. une photo. un justificatif"},
        {"Bonjour !  Comment   allez-vous ?",
         "Bonjour! Comment allez-vous?"},
        {"« Guichet » répond", "Guichet répond"},
        {"Dupont & fils", "Dupont et fils"},
        /* brackets are pauses, never doubled commas */
        {"des conditions normales (surface, confort). Puis",
         "des conditions normales, surface, confort. Puis"},
        {"films (avec votre carte)", "films, avec votre carte"},
        {"(voir la fiche).", "voir la fiche."},
        {"mardi 14 h – 18 h ; samedi 10 h – 12 h 30",
         "mardi quatorze heures à dix-huit heures; samedi dix heures à "
         "douze heures trente"},
        {"de 9\xc2\xa0h à 12\xe2\x80\xafh", "de neuf heures à douze heures"},
        {"pour les 3-6 ans", "pour les trois à six ans"},
        {"Paris – Nantes", "Paris, Nantes"},
        {"1. Faites la demande\n2. Venez",
         "un. Faites la demande. deux. Venez"},
        {"version 3.5", "version trois point cinq"},
        {"", ""},
        {"CM2", "CM deux"},
        {"2x", "deux x"},
    };
    CHECK_ALL(p);
}

/* The example of the contract, word for word. */
static void
test_contract_example(void)
{
    static const struct pair p[] = {
        {"RDV le 3/12 à 14h30, 12,50 €",
         "rendez-vous le trois décembre à quatorze heures trente, douze "
         "euros cinquante"},
    };
    CHECK_ALL(p);
}

static void
test_errors_and_bounds(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    char *out = NULL, *big;

    gu_err_clear(&err);
    CHECK_EQ(voice_normalize(a, "caf\xc3", &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "texte");
    gu_err_clear(&err);
    CHECK_EQ(voice_normalize(a, NULL, &out, &err), GU_EINVAL);

    /* too long a text */
    big = malloc(VOICE_TEXT_MAX + 2);
    memset(big, 'a', VOICE_TEXT_MAX + 1);
    big[VOICE_TEXT_MAX + 1] = '\0';
    gu_err_clear(&err);
    CHECK_EQ(voice_normalize(a, big, &out, &err), GU_EINVAL);

    /* the worst expansion stays under VOICE_SPOKEN_MAX, cut at a word */
    for (size_t i = 0; i < VOICE_TEXT_MAX; i += 2) {
        big[i] = 'W';
        big[i + 1] = ' ';
    }
    big[VOICE_TEXT_MAX] = '\0';
    CHECK_EQ(voice_normalize(a, big, &out, &err), 0);
    CHECK(strlen(out) <= VOICE_SPOKEN_MAX);
    CHECK(strlen(out) > 1000);
    for (size_t i = 0; i < VOICE_TEXT_MAX; i++)
        big[i] = (char)('0' + (i % 10));
    CHECK_EQ(voice_normalize(a, big, &out, &err), 0);
    CHECK(strlen(out) <= VOICE_SPOKEN_MAX);
    CHECK(strlen(out) > 0);
    free(big);

    /* odd input never fails: symbols dropped, digits read */
    CHECK_EQ(voice_normalize(a, "<>{}[]|\\^`~$#*_", &out, &err), 0);
    CHECK_STR(out, "");
    CHECK_EQ(voice_normalize(a, "99999999999999999999", &out, &err), 0);
    CHECK_CONTAINS(out, "neuf neuf");
    gu_arena_free(a);
}

/* Any byte string that is valid UTF-8 gives valid UTF-8, bounded. */
static void
test_random_input(void)
{
    static const char *const bits[] = {
        "1", "0", "12", "h", "/", "-", " ", ",", ".", "€", "%", "@", "M.",
        "er", "e", "X", "I", "fr", "www", ":", "+33", "\xc2\xa0", "é", "\n",
        "km", "²", "RDV", "n°", "'", "*"};
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    unsigned seed = 12345;
    char buf[256];

    for (int t = 0; t < 3000; t++) {
        size_t n = 0;
        char *out = NULL;

        while (n < 200) {
            const char *b;

            seed = seed * 1103515245u + 12345u;
            b = bits[(seed >> 16) % (sizeof(bits) / sizeof(bits[0]))];
            if (n + strlen(b) >= sizeof(buf))
                break;
            memcpy(buf + n, b, strlen(b));
            n += strlen(b);
            if (((seed >> 8) & 7) == 0)
                break;
        }
        buf[n] = '\0';
        if (voice_normalize(a, buf, &out, &err) != 0) {
            TH_FAIL("failed on « %s »", buf);
            continue;
        }
        if (!gu_utf8_valid(out, strlen(out)))
            TH_FAIL("invalid UTF-8 out of « %s »", buf);
    }
    gu_arena_free(a);
}

TESTS(T(test_cardinals), T(test_hours), T(test_dates), T(test_amounts),
      T(test_phones), T(test_abbreviations), T(test_ordinals),
      T(test_addresses), T(test_percent_units), T(test_text_shape),
      T(test_contract_example), T(test_errors_and_bounds),
      T(test_random_input))
