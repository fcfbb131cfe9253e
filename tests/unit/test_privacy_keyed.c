/*
 * test_privacy_keyed.c - linkable redaction, the communes' keys and the
 * normalised forms of e-mail addresses and phone numbers.
 */
#include <pthread.h>
#include <stdlib.h>

#include "harness.h"
#include "privacy/privacy.h"
#include "store/store.h"
#include "store_fix.h"

static const unsigned char key1[PII_KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};
static const unsigned char key2[PII_KEY_BYTES] = {9, 9, 9, 9, 9, 9, 9, 9};

/* The tag (8 hex) of the first keyed placeholder of `kind` in s. */
static int
tag_of(const char *s, const char *placeholder_words, char tag[9])
{
    const char *p = strstr(s, placeholder_words);

    if (!p)
        return -1;
    p += strlen(placeholder_words);
    if (strncmp(p, "\xc2\xb7", 2) != 0)
        return -1;
    p += 2;
    for (int i = 0; i < 8; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return -1;
        tag[i] = p[i];
    }
    tag[8] = '\0';
    return p[8] == ']' ? 0 : -1;
}

static const char *
keyed(struct gu_arena *a, const char *s, const unsigned char *k)
{
    return pii_redact_keyed(a, s, strlen(s), k, NULL);
}

static void
test_norm_phone(void)
{
    struct gu_arena *a = gu_arena_new(0);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"06 12 34 56 78", "0612345678"},
        {"06.12.34.56.78", "0612345678"},
        {"06-12-34-56-78", "0612345678"},
        {"0612345678", "0612345678"},
        {"+33 6 12 34 56 78", "0612345678"},
        {"+33612345678", "0612345678"},
        {"+33 (0)6 12 34 56 78", "0612345678"},
        {"0033 6 12 34 56 78", "0612345678"},
        {" (+33) 1 23 45 67 89 ", "0123456789"},
        {"+262 692 12 34 56", "0692123456"},
        {"+590 690 12 34 56", "0690123456"},
        {"02\xc2\xa0" "40\xc2\xa0" "12\xc2\xa0" "34\xc2\xa0" "56",
         "0240123456"},
        {"+33 06 12 34 56 78", "0612345678"},
        {"+41 22 123 45 67", "+41221234567"},
        {"0041 22 123 45 67", "+41221234567"},
    };
    static const char *const bad[] = {
        "",           "06 12 34 56",        "06 12 34 56 78 9", "0012",
        "6 12 34 56 78", "06 12 34 56 7a",  "+33 00 12 34 56 78",
        "+33 6 12 34 56", "marie@exemple.fr", "+", "00 00 00 00 00",
        "0612345678901234567890123456789012345678901234567890123456789012345",
    };

    for (size_t i = 0; i < GU_ARRAY_LEN(cases); i++)
        CHECK_STR(pii_norm_phone(a, cases[i].in), cases[i].out);
    for (size_t i = 0; i < GU_ARRAY_LEN(bad); i++) {
        const char *r = pii_norm_phone(a, bad[i]);

        if (r)
            TH_FAIL("pii_norm_phone(\"%s\") = \"%s\", want NULL", bad[i], r);
    }
    CHECK(pii_norm_phone(a, NULL) == NULL);
    gu_arena_free(a);
}

static void
test_norm_email(void)
{
    struct gu_arena *a = gu_arena_new(0);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"Marie.Dupont@Gmail.COM", "marie.dupont@gmail.com"},
        {"  marie@exemple.fr\n", "marie@exemple.fr"},
        {"<marie@exemple.fr>", "marie@exemple.fr"},
        {"mailto:Marie@Exemple.fr", "marie@exemple.fr"},
        {"jean-luc.martin+mairie@orange.fr", "jean-luc.martin+mairie@orange.fr"},
    };
    static const char *const bad[] = {
        "",          "marie",           "marie@",          "@exemple.fr",
        "marie@exemple", "a@b@c.fr",    "marie dupont@exemple.fr",
        "marie@.fr", "marie@exemple..fr", "marie@exemple.fr.", ".m@e.fr",
        "m.@e.fr",   "06 12 34 56 78",  "<script>@x.fr",
    };

    for (size_t i = 0; i < GU_ARRAY_LEN(cases); i++)
        CHECK_STR(pii_norm_email(a, cases[i].in), cases[i].out);
    for (size_t i = 0; i < GU_ARRAY_LEN(bad); i++) {
        const char *r = pii_norm_email(a, bad[i]);

        if (r)
            TH_FAIL("pii_norm_email(\"%s\") = \"%s\", want NULL", bad[i], r);
    }
    CHECK(pii_norm_email(a, NULL) == NULL);
    gu_arena_free(a);
}

/* Same value, any writing: same tag; another value or key: another. */
static void
test_keyed_links(void)
{
    struct gu_arena *a = gu_arena_new(0);
    static const struct {
        const char *words, *x, *y;
    } same[] = {
        {"[téléphone", "appelez le 06 12 34 56 78 svp",
         "appelez le +33 6 12 34 56 78 svp"},
        {"[téléphone", "tél. 06.12.34.56.78", "0033612345678 merci"},
        {"[courriel", "écrivez à Marie.Dupont@Gmail.com merci",
         "écrivez à marie.dupont@gmail.com merci"},
        {"[courriel", "mail : marie point dupont at gmail point com",
         "mail marie.dupont@gmail.com"},
        {"[IBAN", "IBAN FR76 3000 6000 0112 3456 7890 189",
         "IBAN fr7630006000011234567890189"},
        {"[PLAQUE", "garée AB-123-CD devant", "garée AB 123 CD devant"},
        {"[date de naissance", "je suis né le 12 mars 1980 à Blois",
         "je suis né le 12/03/1980 à Blois"},
    };
    char t1[9], t2[9], t3[9];

    for (size_t i = 0; i < GU_ARRAY_LEN(same); i++) {
        const char *r1 = keyed(a, same[i].x, key1);
        const char *r2 = keyed(a, same[i].y, key1);
        const char *r3 = keyed(a, same[i].x, key2);

        if (tag_of(r1, same[i].words, t1) < 0 ||
            tag_of(r2, same[i].words, t2) < 0 ||
            tag_of(r3, same[i].words, t3) < 0) {
            TH_FAIL("no tag in \"%s\" / \"%s\" / \"%s\"", r1, r2, r3);
            continue;
        }
        if (strcmp(t1, t2) != 0)
            TH_FAIL("\"%s\" and \"%s\" differ", r1, r2);
        if (strcmp(t1, t3) == 0)
            TH_FAIL("same tag under two keys: %s", r1);
    }
    /* two different numbers */
    CHECK(tag_of(keyed(a, "le 06 12 34 56 78", key1), "[téléphone", t1) == 0);
    CHECK(tag_of(keyed(a, "le 06 12 34 56 79", key1), "[téléphone", t2) == 0);
    CHECK(strcmp(t1, t2) != 0);
    gu_arena_free(a);
}

static void
test_keyed_text(void)
{
    struct gu_arena *a = gu_arena_new(0);
    const char *in = "Bonjour, je suis joignable au 06 12 34 56 78 ou "
                     "marie.dupont@gmail.com, merci.";
    unsigned kinds = 0;
    const char *r = pii_redact_keyed(a, in, strlen(in), key1, &kinds);
    const char *plain = pii_redact(a, in, strlen(in), NULL);

    CHECK(r != NULL);
    CHECK_EQ(kinds, PII_PHONE | PII_EMAIL);
    CHECK(strstr(r, "06 12") == NULL);
    CHECK(strstr(r, "dupont") == NULL);
    CHECK_CONTAINS(r, "Bonjour, je suis joignable au [téléphone\xc2\xb7");
    CHECK_CONTAINS(r, "] ou [courriel\xc2\xb7");
    CHECK_CONTAINS(r, "], merci.");
    /* key NULL: the plain redaction */
    CHECK_STR(pii_redact_keyed(a, in, strlen(in), NULL, NULL), plain);
    /* redacting again finds nothing: keyed placeholders are recognised */
    CHECK_STR(keyed(a, r, key1), r);
    CHECK_STR(pii_redact(a, r, strlen(r), &kinds), r);
    CHECK_EQ(kinds, 0);
    /* the scanner itself reports no span inside a keyed placeholder */
    {
        struct pii_span sp[4];
        size_t count = 9;

        CHECK_EQ(pii_scan(r, strlen(r), sp, 4, &count), 0);
        CHECK_EQ(count, 0);
    }
    /* a bracket that only looks like one is still scanned */
    r = keyed(a, "[téléphone·zzzz] 06 12 34 56 78", key1);
    CHECK_CONTAINS(r, "[téléphone·zzzz] [téléphone\xc2\xb7");
    /* empty and NULL input */
    CHECK_STR(keyed(a, "", key1), "");
    CHECK_STR(pii_redact_keyed(a, NULL, 0, key1, NULL), "");
    gu_arena_free(a);
}

/* Names and addresses link across case and accents. */
static void
test_keyed_words(void)
{
    struct gu_arena *a = gu_arena_new(0);
    char t1[9], t2[9];
    const char *r1 = keyed(a, "Je m'appelle Hélène Lefèvre et j'attends.", key1);
    const char *r2 = keyed(a, "Je m'appelle HELENE LEFEVRE et j'attends.", key1);

    if (tag_of(r1, "[nom", t1) == 0 && tag_of(r2, "[nom", t2) == 0)
        CHECK_STR(t1, t2);
    else
        TH_FAIL("no name tag: \"%s\" / \"%s\"", r1, r2);
    gu_arena_free(a);
}

struct fx {
    struct store *s;
    struct store_conn *c;
};

static int
fx_init(struct fx *f)
{
    struct gu_err err;
    const struct store_migration *lists[2];
    size_t counts[2];
    int applied = 0;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    /* only the tables this module needs: the core's and its own */
    lists[0] = store_core_migrations(&counts[0]);
    lists[1] = privacy_migrations(&counts[1]);
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        store_migrate(f->s, lists, counts, 2, &applied, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    if (th_commune(f->c, "99001", "Saint-Exemple-sur-Loire") < 0)
        return -1;
    if (th_commune(f->c, "99002", "Autre-Commune") < 0)
        return -1;
    return 0;
}

static void
fx_fini(struct fx *f)
{
    store_release(f->c);
    store_close(f->s);
}

static void
test_commune_key(void)
{
    struct fx f;
    struct gu_err err;
    unsigned char k1[PII_KEY_BYTES], k1b[PII_KEY_BYTES], k2[PII_KEY_BYTES];
    static const unsigned char zero[PII_KEY_BYTES];

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    gu_err_clear(&err);
    CHECK_EQ(pii_commune_key(f.c, "99001", k1, &err), 0);
    CHECK_EQ(pii_commune_key(f.c, "99001", k1b, &err), 0);
    CHECK_EQ(pii_commune_key(f.c, "99002", k2, &err), 0);
    CHECK(memcmp(k1, k1b, PII_KEY_BYTES) == 0); /* stable */
    CHECK(memcmp(k1, k2, PII_KEY_BYTES) != 0);  /* per commune */
    CHECK(memcmp(k1, zero, PII_KEY_BYTES) != 0);
    CHECK_EQ(pii_commune_key(f.c, "99003", k2, &err), GU_ENOTFOUND);
    CHECK_STR(err.user, "Commune inconnue.");
    CHECK_EQ(pii_commune_key(f.c, "abc", k2, &err), GU_EINVAL);
    CHECK_EQ(pii_commune_key(f.c, NULL, k2, &err), GU_EINVAL);
    /* the key goes with its commune */
    {
        struct store_val p[] = {STORE_T("99002")};
        struct gu_arena *a = gu_arena_new(0);
        struct store_rows *r = NULL;

        CHECK_EQ(store_exec(f.c, "DELETE FROM communes WHERE insee = ?", p, 1,
                            &err),
                 0);
        CHECK_EQ(store_query(f.c, a, "SELECT count(*) FROM privacy_keys", NULL,
                             0, &r, &err),
                 0);
        CHECK_EQ(r ? store_int(r, 0, 0) : -1, 1);
        gu_arena_free(a);
    }
    fx_fini(&f);
}

/* Concurrent first use: every thread gets the same key. */
struct race {
    struct store *s;
    unsigned char key[PII_KEY_BYTES];
    int rc;
};

static void *
race_run(void *p)
{
    struct race *r = p;
    struct store_conn *c = NULL;
    struct gu_err err;

    r->rc = store_acquire(r->s, &c, &err);
    if (r->rc == 0)
        r->rc = pii_commune_key(c, "99001", r->key, &err);
    store_release(c);
    return NULL;
}

static void
test_commune_key_race(void)
{
    struct fx f;
    struct race r[4];
    pthread_t th[4];

    if (fx_init(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    store_release(f.c); /* leave the connections to the threads */
    f.c = NULL;
    for (int i = 0; i < 4; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].s = f.s;
        pthread_create(&th[i], NULL, race_run, &r[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(r[i].rc, 0);
        CHECK(memcmp(r[i].key, r[0].key, PII_KEY_BYTES) == 0);
    }
    fx_fini(&f);
}

TESTS(T(test_norm_phone), T(test_norm_email), T(test_keyed_links),
      T(test_keyed_text), T(test_keyed_words), T(test_commune_key),
      T(test_commune_key_race))
