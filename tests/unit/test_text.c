/*
 * test_text.c - the French text pipeline: folding, elisions, stopwords,
 * stems, numbers and dates, synonyms, SMS writing and typos, bad UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "text/text.h"

static struct text_pipeline *
pipeline(void)
{
    struct text_pipeline *p = NULL;
    struct gu_err err;

    if (text_pipeline_new(NULL, 0, &p, &err) < 0)
        return NULL;
    return p;
}

/* A vocabulary as an index over these words would build. */
static struct text_vocab *
vocab(const char *const *words, size_t n)
{
    struct text_vocab *v = text_vocab_new();

    for (size_t i = 0; v && i < n; i++) {
        char stem[64];
        size_t sn = text_stem(words[i], strlen(words[i]), stem, sizeof(stem));
        text_vocab_add(v, words[i], strlen(words[i]), false, 3);
        text_vocab_add(v, stem, sn, true, 0);
    }
    if (v)
        text_vocab_seal(v);
    return v;
}

/* Space-separated words (or stems) of the analysis of `s`, into buf. */
static const char *
analyze(const struct text_pipeline *p, const struct text_vocab *v,
        enum text_mode mode, const char *s, bool stems, char *buf,
        size_t cap)
{
    struct gu_arena *a = gu_arena_new(0);
    struct text_tokens t;
    size_t k = 0;

    buf[0] = '\0';
    if (!a)
        return buf;
    if (text_analyze(p, v, mode, a, s, strlen(s), &t) == 0) {
        for (size_t i = 0; i < t.n; i++) {
            const char *w = stems ? t.v[i].stem : t.v[i].word;
            int r = snprintf(buf + k, cap - k, "%s%s", k ? " " : "", w);
            if (r < 0 || (size_t)r >= cap - k)
                break;
            k += (size_t)r;
        }
    }
    gu_arena_free(a);
    return buf;
}

static void
test_fold(void)
{
    struct gu_arena *a = gu_arena_new(0);
    size_t n;

    const char *s = "ÉCOLE Élève";
    CHECK_STR(text_fold(a, s, strlen(s), &n), "ecole eleve");
    CHECK_EQ(n, 11);
    s = "Cœur ŒUVRE straße";
    CHECK_STR(text_fold(a, s, strlen(s), NULL), "coeur oeuvre strasse");
    s = "l’état « civil »";
    CHECK_STR(text_fold(a, s, strlen(s), NULL), "l'etat   civil  ");
    gu_arena_free(a);
}

static void
test_elisions_and_stopwords(void)
{
    struct text_pipeline *p = pipeline();
    char buf[256];

    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_STR(analyze(p, NULL, TEXT_MODE_INDEX,
                      "L'acte de naissance d’un enfant qu'il a", false, buf,
                      sizeof(buf)),
              "acte naissance enfant ~acte_de_naissance");
    CHECK_STR(analyze(p, NULL, TEXT_MODE_INDEX,
                      "jusqu'à aujourd'hui, lorsqu'on m'écrit", false, buf,
                      sizeof(buf)),
              "aujourdhui ecrit");
    CHECK(text_is_stopword(p, "les", 3));
    CHECK(!text_is_stopword(p, "mairie", 6));
    text_pipeline_free(p);
}

static void
test_stems(void)
{
    struct text_pipeline *p = pipeline();
    char buf[256];

    if (!p) {
        CHECK(p != NULL);
        return;
    }
    /* Singular, plural and accents share a stem. */
    CHECK_STR(analyze(p, NULL, TEXT_MODE_INDEX, "identité identites", true,
                      buf, sizeof(buf)),
              "identit identit");
    CHECK_STR(analyze(p, NULL, TEXT_MODE_INDEX, "renouvellement", true, buf,
                      sizeof(buf)),
              "renouvel");
    char s[64];
    CHECK_EQ(text_stem("passeports", 10, s, sizeof(s)), 9);
    CHECK_STR(s, "passeport");
    text_pipeline_free(p);
}

static void
test_numbers_dates(void)
{
    struct text_pipeline *p = pipeline();
    struct gu_arena *a = gu_arena_new(0);
    struct text_tokens t;
    const char *s = "Le 12/05/2024 puis 3-4-24, en 2024 : 12,5 € ; F1234.";

    if (!p || !a) {
        CHECK(p && a);
        goto out;
    }
    CHECK_EQ(text_analyze(p, NULL, TEXT_MODE_INDEX, a, s, strlen(s), &t), 0);
    CHECK_EQ(t.n, 5);
    if (t.n == 5) {
        CHECK_STR(t.v[0].word, "2024-05-12");
        CHECK(t.v[0].flags & TEXT_TERM_DATE);
        CHECK_EQ(t.v[0].off, 3);
        CHECK_EQ(t.v[0].len, 10);
        CHECK_STR(t.v[1].word, "2024-04-03");
        CHECK_STR(t.v[2].word, "2024");
        CHECK(t.v[2].flags & TEXT_TERM_NUMBER);
        CHECK_STR(t.v[3].word, "12.5");
        CHECK_STR(t.v[4].word, "f1234");
        CHECK(t.v[4].flags & TEXT_TERM_ALNUM);
    }
out:
    gu_arena_free(a);
    text_pipeline_free(p);
}

static void
test_synonyms(void)
{
    struct text_pipeline *p = pipeline();
    char buf[256];

    if (!p) {
        CHECK(p != NULL);
        return;
    }
    CHECK(text_pipeline_synonym_groups(p) > 20);
    /* Every variant carries the group's concept term. */
    CHECK_CONTAINS(analyze(p, NULL, TEXT_MODE_INDEX, "ma CNI", true, buf,
                           sizeof(buf)), "~cni");
    CHECK_CONTAINS(analyze(p, NULL, TEXT_MODE_INDEX,
                           "cartes nationales d'identité", true, buf,
                           sizeof(buf)), "~cni");
    CHECK_CONTAINS(analyze(p, NULL, TEXT_MODE_INDEX, "pièce d'identité",
                           true, buf, sizeof(buf)), "~cni");
    CHECK_CONTAINS(analyze(p, NULL, TEXT_MODE_INDEX, "le PACS", true, buf,
                           sizeof(buf)), "~pacs");
    CHECK_CONTAINS(analyze(p, NULL, TEXT_MODE_INDEX,
                           "plan local d'urbanisme", true, buf, sizeof(buf)),
                   "~plu");
    CHECK_CONTAINS(analyze(p, NULL, TEXT_MODE_INDEX, "ramassage des monstres",
                           true, buf, sizeof(buf)), "~encombrants");
    CHECK(!strstr(analyze(p, NULL, TEXT_MODE_INDEX, "carte grise", true, buf,
                          sizeof(buf)), "~cni"));
    text_pipeline_free(p);
}

static void
test_custom_table(void)
{
    struct text_pipeline *p = NULL;
    struct gu_err err;
    const char *t = "# table de la commune\n"
                    "fete | kermesse | fete du village\n";
    char buf[256];

    CHECK_EQ(text_pipeline_new(t, strlen(t), &p, &err), 0);
    if (p) {
        CHECK_EQ(text_pipeline_synonym_groups(p), 1);
        CHECK_CONTAINS(analyze(p, NULL, TEXT_MODE_INDEX, "la kermesse",
                               true, buf, sizeof(buf)), "~fete");
        text_pipeline_free(p);
    }
    t = "cni\n";
    CHECK_EQ(text_pipeline_new(t, strlen(t), &p, &err), GU_EINVAL);
    CHECK(p == NULL);
    CHECK_CONTAINS(err.msg, "line 1");
}

static void
test_sms_and_typos(void)
{
    static const char *const words[] = {
        "carte", "identite", "passeport", "perdu", "rendez", "vous",
        "demande", "mairie", "naissance", "acte", "sport",
    };
    struct text_pipeline *p = pipeline();
    struct text_vocab *v = vocab(words, GU_ARRAY_LEN(words));
    char buf[256];

    if (!p || !v) {
        CHECK(p && v);
        goto out;
    }
    /* Missing apostrophe: d + identite. */
    CHECK_STR(analyze(p, v, TEXT_MODE_QUERY, "jai perdu ma carte didentité",
                      false, buf, sizeof(buf)),
              "perdu carte identite ~perte ~cni");
    CHECK_STR(analyze(p, v, TEXT_MODE_QUERY, "kel pasport", false, buf,
                      sizeof(buf)),
              "passeport ~passeport");
    CHECK_STR(analyze(p, v, TEXT_MODE_QUERY, "jveux un rdv stp slt", false,
                      buf, sizeof(buf)),
              "veux rendez");
    CHECK_STR(analyze(p, v, TEXT_MODE_QUERY, "acte de naisance", false, buf,
                      sizeof(buf)),
              "acte naissance ~acte_de_naissance");
    /* Glued words. */
    CHECK_STR(analyze(p, v, TEXT_MODE_QUERY, "carteidentite", false, buf,
                      sizeof(buf)),
              "carte identite ~cni");
    /* Documents are not "corrected", and neither is a query without a
     * vocabulary. */
    CHECK_STR(analyze(p, v, TEXT_MODE_INDEX, "pasport", false, buf,
                      sizeof(buf)), "pasport");
    CHECK_STR(analyze(p, NULL, TEXT_MODE_QUERY, "pasport", false, buf,
                      sizeof(buf)), "pasport");
    CHECK_EQ(text_vocab_word_count(v, "carte", 5), 3);
    struct gu_arena *a = gu_arena_new(0);
    CHECK(a && text_vocab_closest(v, a, "zzzz", 4) == NULL);
    CHECK_STR(a ? text_vocab_closest(v, a, "mairi", 5) : NULL, "mairie");
    gu_arena_free(a);
out:
    text_vocab_free(v);
    text_pipeline_free(p);
}

/* Spelling repairs choose by edit distance, then by the start of the
 * word and shared trigrams, then by frequency. */
static void
test_closest_ranking(void)
{
    static const char *const words[] = {
        "sport",      "sports",     "port",       "passeport", "passeports",
        "transport",  "support",    "inscription", "inscrire", "identite",
        "cantine",    "cantines",   "encombrants", "combien",  "carte",
        "perdu",      "piscine",    "pass",        "passer",   "apport",
    };
    struct text_pipeline *p = pipeline();
    struct text_vocab *v = vocab(words, GU_ARRAY_LEN(words));
    struct gu_arena *a = gu_arena_new(0);
    char buf[256];

    if (!p || !v || !a) {
        CHECK(p && v && a);
        goto out;
    }
    CHECK_STR(text_vocab_closest(v, a, "pasport", 7), "passeport");
    CHECK_STR(text_vocab_closest(v, a, "pasepor", 7), "passeport");
    CHECK_STR(text_vocab_closest(v, a, "passport", 8), "passeport");
    CHECK_STR(text_vocab_closest(v, a, "inscrition", 10), "inscription");
    CHECK_STR(text_vocab_closest(v, a, "cantinne", 8), "cantine");
    CHECK_STR(text_vocab_closest(v, a, "encombrant", 10), "encombrants");
    CHECK_STR(text_vocab_closest(v, a, "spor", 4), "sport");
    CHECK_STR(text_vocab_closest(v, a, "transpor", 8), "transport");
    CHECK(text_vocab_closest(v, a, "dragon", 6) == NULL);
    /* A word seen once (« Pass'Sport » folds to passsport) comes after
     * words seen more often, even one edit closer. */
    {
        struct text_vocab *v2 = text_vocab_new();
        CHECK(v2 && text_vocab_add(v2, "passeport", 9, false, 40) == 0 &&
              text_vocab_add(v2, "passsport", 9, false, 1) == 0 &&
              text_vocab_add(v2, "sport", 5, false, 12) == 0 &&
              text_vocab_seal(v2) == 0);
        if (v2)
            CHECK_STR(text_vocab_closest(v2, a, "pasport", 7), "passeport");
        text_vocab_free(v2);
    }
    CHECK_STR(analyze(p, v, TEXT_MODE_QUERY, "pasport pour bébé", false, buf,
                      sizeof(buf)),
              "passeport bebe ~passeport ~bebe");
    CHECK_STR(analyze(p, v, TEXT_MODE_QUERY, "didentité", false, buf,
                      sizeof(buf)),
              "identite");
    CHECK_STR(analyze(p, v, TEXT_MODE_QUERY, "cb pour la cantinne", false,
                      buf, sizeof(buf)),
              "combien cantine ~cantine");
    CHECK_STR(analyze(p, v, TEXT_MODE_QUERY, "cbien pr 1 pasepor", false, buf,
                      sizeof(buf)),
              "combien 1 passeport ~passeport");
out:
    gu_arena_free(a);
    text_vocab_free(v);
    text_pipeline_free(p);
}

/* An empty vocabulary seals and repairs nothing (no memset of NULL). */
static void
test_empty_vocab(void)
{
    struct text_vocab *v = text_vocab_new();
    struct gu_arena *a = gu_arena_new(0);

    CHECK(v && a);
    if (v && a) {
        CHECK_EQ(text_vocab_seal(v), 0);
        CHECK(text_vocab_closest(v, a, "pasport", 7) == NULL);
        CHECK_EQ(text_vocab_word_count(v, "carte", 5), 0);
    }
    gu_arena_free(a);
    text_vocab_free(v);
}

static void
test_bad_utf8(void)
{
    struct text_pipeline *p = pipeline();
    struct gu_arena *a = gu_arena_new(0);
    struct text_tokens t;
    const char bad[] = "caf\xc3 \xff\xfe\xed\xa0\x80 mairie \xf4\x90\x80\x80"
                       "x \xe2\x82";

    if (!p || !a) {
        CHECK(p && a);
        goto out;
    }
    CHECK_EQ(text_analyze(p, NULL, TEXT_MODE_QUERY, a, bad, sizeof(bad) - 1,
                          &t), 0);
    bool found = false;
    for (size_t i = 0; i < t.n; i++)
        found |= strcmp(t.v[i].word, "mairie") == 0;
    CHECK(found);
    /* Empty input and a lone separator. */
    CHECK_EQ(text_analyze(p, NULL, TEXT_MODE_QUERY, a, "", 0, &t), 0);
    CHECK_EQ(t.n, 0);
    CHECK_EQ(text_analyze(p, NULL, TEXT_MODE_QUERY, a, " ' - ", 5, &t), 0);
    CHECK_EQ(t.n, 0);
    /* Every byte value, to shake the tokeniser. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)(255 - i);
    CHECK_EQ(text_analyze(p, NULL, TEXT_MODE_QUERY, a, all, sizeof(all), &t),
             0);
out:
    gu_arena_free(a);
    text_pipeline_free(p);
}

TESTS(T(test_fold), T(test_elisions_and_stopwords), T(test_stems),
      T(test_numbers_dates), T(test_synonyms), T(test_custom_table),
      T(test_sms_and_typos), T(test_closest_ranking),
      T(test_empty_vocab), T(test_bad_utf8))
