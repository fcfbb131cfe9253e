/*
 * test_kb_import.c - the service-public importer (src/kb/kb_import*.c):
 * the JSON and XML forms of the hand-written fixtures of
 * tests/data/service-public/ give identical fiches; sections keep their
 * title path; links; OuSAdresser becomes the contacts marker; a folder, a
 * zip built here with libzip, one file; malformed fiches skipped and
 * counted; `only`; the kb.h bounds; hostile JSON and XML; allocation
 * failures; and the store side (idempotent rows, JSON and XML alike).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

#include "app/app.h"
#include "harness.h"
#include "kb/kb_import.h"
#include "store_url.h"

/* tests/ of the source tree, from this file's path (CMake passes it
 * absolute), so the test runs from any build directory. */
static const char *
tests_dir(void)
{
    static char dir[1024];
    const char *f = __FILE__;
    const char *cut = strstr(f, "/unit/test_kb_import.c");

    if (!dir[0])
        snprintf(dir, sizeof(dir), "%.*s", cut ? (int)(cut - f) : 1,
                 cut ? f : ".");
    return dir;
}

static const char *
fixture(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/data/service-public/%s", tests_dir(), rel);
    return buf;
}

static char *
slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long sz;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    rewind(f);
    p = malloc((size_t)sz + 1);
    if (p && fread(p, 1, (size_t)sz, f) != (size_t)sz) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[sz] = '\0';
        *n = (size_t)sz;
    }
    return p;
}

/* Parse one fixture ("F90001", "json" or "xml") into the arena. */
static int
parse_fixture(struct gu_arena *a, const char *id, const char *form,
              struct kb_fiche *f)
{
    char rel[64], path[1200];
    struct gu_err err;
    size_t n = 0;
    int rc;

    snprintf(rel, sizeof(rel), "%s/%s.%s", form, id, form);
    char *buf = slurp(fixture(path, sizeof(path), rel), &n);
    CHECK(buf != NULL);
    if (!buf)
        return GU_EIO;
    gu_err_clear(&err);
    rc = strcmp(form, "xml") == 0 ? kb_sp_parse_xml(a, buf, n, f, &err)
                                  : kb_sp_parse_json(a, buf, n, f, &err);
    if (rc != 0)
        fprintf(stderr, "  %s: %s\n", rel, err.msg);
    free(buf);
    return rc;
}

static const struct kb_section *
section(const struct kb_fiche *f, const char *path)
{
    for (size_t i = 0; i < f->nsections; i++) {
        if (strcmp(f->sections[i].path, path) == 0)
            return &f->sections[i];
    }
    return NULL;
}

/* Every field of two fiches, strings compared byte for byte. */
static void
check_same(const struct kb_fiche *x, const struct kb_fiche *y)
{
    CHECK_STR(x->id, y->id);
    CHECK_EQ(x->origin, y->origin);
    CHECK_STR(x->title, y->title);
    CHECK_STR(x->alt, y->alt);
    CHECK_STR(x->description, y->description);
    CHECK_STR(x->body, y->body);
    CHECK_STR(x->service, y->service);
    CHECK_STR(x->tags, y->tags);
    CHECK_STR(x->context, y->context);
    CHECK_STR(x->source_url, y->source_url);
    CHECK_STR(x->source_date, y->source_date);
    CHECK_EQ(x->nsections, y->nsections);
    for (size_t i = 0; i < x->nsections && i < y->nsections; i++) {
        CHECK_EQ(x->sections[i].ord, y->sections[i].ord);
        CHECK_STR(x->sections[i].path, y->sections[i].path);
        CHECK_STR(x->sections[i].text, y->sections[i].text);
    }
    CHECK_EQ(x->nlinks, y->nlinks);
    for (size_t i = 0; i < x->nlinks && i < y->nlinks; i++) {
        CHECK_EQ(x->links[i].kind, y->links[i].kind);
        CHECK_STR(x->links[i].label, y->links[i].label);
        CHECK_STR(x->links[i].url, y->links[i].url);
        CHECK_STR(x->links[i].target, y->links[i].target);
    }
}

static void
test_json_xml_identical(void)
{
    static const char *const ids[] = {"F90001", "F90002", "R90003"};

    for (size_t i = 0; i < GU_ARRAY_LEN(ids); i++) {
        struct gu_arena *a = gu_arena_new(0);
        struct kb_fiche fj, fx;
        CHECK_EQ(parse_fixture(a, ids[i], "json", &fj), 0);
        CHECK_EQ(parse_fixture(a, ids[i], "xml", &fx), 0);
        if (fj.id && fx.id)
            check_same(&fj, &fx);
        gu_arena_free(a);
    }
}

static void
test_fiche_content(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct kb_fiche f;
    const struct kb_section *s;

    CHECK_EQ(parse_fixture(a, "F90001", "xml", &f), 0);
    if (!f.id) {
        gu_arena_free(a);
        return;
    }
    CHECK_STR(f.id, "F90001");
    CHECK_EQ(f.origin, KB_NATIONAL);
    CHECK_STR(f.insee, "");
    CHECK_STR(f.title, "Carte d'identité : première demande (fiche "
                       "d'exemple)");
    CHECK_CONTAINS(f.description, "sur rendez-vous");
    CHECK_STR(f.context, "Papiers - Citoyenneté > Carte d'identité");
    CHECK_STR(f.tags, "Papiers - Citoyenneté");
    CHECK_STR(f.source_url,
              "https://www.service-public.fr/particuliers/vosdroits/F90001");
    CHECK_STR(f.source_date, "2026-03-14");
    /* Sections in document order, with their title paths. */
    CHECK_EQ(f.nsections, 8);
    CHECK_STR(f.sections[0].path, "");
    CHECK_STR(f.sections[0].text, "Cette fiche d'exemple décrit une "
                                  "démarche imaginaire, écrite pour les "
                                  "tests.");
    for (size_t i = 0; i < f.nsections; i++)
        CHECK_EQ(f.sections[i].ord, (long long)i);
    s = section(&f, "Majeur > En mairie > Pièces à fournir");
    CHECK(s != NULL);
    if (s) {
        CHECK_STR(s->text, "Apportez les originaux :\n"
                           "- Une photo de moins de 6 mois\n"
                           "- Un justificatif de domicile, par exemple :\n"
                           "  - une facture d'eau\n"
                           "  - un avis d'imposition\n"
                           "À noter : la photo doit être conforme aux "
                           "normes.");
    }
    s = section(&f, "Majeur > En mairie > Pièces à fournir > Vous n'avez "
                    "pas de passeport");
    CHECK(s != NULL);
    if (s)
        CHECK_CONTAINS(s->text, "commune de naissance est dématérialisée.");
    CHECK(section(&f, "Majeur > En mairie > Pièces à fournir > Vous avez "
                      "un passeport valide") != NULL);
    s = section(&f, "Majeur > En mairie");
    CHECK(s != NULL);
    if (s)
        CHECK_STR(s->text, "Vous prenez rendez-vous dans une mairie équipée "
                           "d'une station de recueil, quelle que soit votre "
                           "commune de domicile.\n"
                           "Service en ligne : Pré-demande en ligne "
                           "(exemple)");
    s = section(&f, "Mineur > En mairie");
    CHECK(s != NULL);
    if (s)
        CHECK_CONTAINS(s->text, "Attention : les empreintes");
    CHECK(section(&f, "Mineur > Coût") != NULL);
    CHECK(section(&f, "Majeur") == NULL); /* no text of its own */
    /* OuSAdresser: never copied, one marker section at the end. */
    s = &f.sections[f.nsections - 1];
    CHECK_STR(s->path, KB_SP_WHERE_PATH);
    CHECK_STR(s->text, KB_SP_CONTACTS);
    CHECK_STR(s->path, "Où s'adresser");
    CHECK_STR(s->text, "{{contacts_commune}}");
    CHECK(strstr(f.body, "station\n") == NULL);
    CHECK(strstr(f.body, "Mairie équipée") == NULL);
    CHECK(strstr(f.body, "Annuaire fictif") == NULL);
    CHECK(strstr(f.body, "accroche") == NULL); /* ServiceEnLigne intro */
    CHECK(strstr(f.body, "T90001") == NULL);   /* Condition */
    CHECK_CONTAINS(f.body, "Majeur\n\nEn mairie\nVous prenez");
    /* Links: the service linked twice is kept once. */
    CHECK_EQ(f.nlinks, 6);
    if (f.nlinks == 6) {
        CHECK_EQ(f.links[0].kind, KB_LINK_SERVICE);
        CHECK_STR(f.links[0].label, "Pré-demande en ligne (exemple)");
        CHECK_STR(f.links[0].url, "https://exemple.invalid/pre-demande");
        CHECK_STR(f.links[0].target, "");
        CHECK_EQ(f.links[1].kind, KB_LINK_REFERENCE);
        CHECK_STR(f.links[1].label, "Décret fictif n° 0000-000 : article 2");
        CHECK_EQ(f.links[2].kind, KB_LINK_REFERENCE);
        CHECK_EQ(f.links[3].kind, KB_LINK_SERVICE);
        CHECK_STR(f.links[3].url, "https://exemple.invalid/suivi");
        CHECK_EQ(f.links[4].kind, KB_LINK_RELATED);
        CHECK_STR(f.links[4].label,
                  "Comment obtenir un duplicata du livret de famille ?");
        CHECK_STR(f.links[4].target, "F90002");
        CHECK_STR(f.links[4].url, "https://www.service-public.fr/"
                                  "particuliers/vosdroits/F90002");
        CHECK_EQ(f.links[5].kind, KB_LINK_RELATED);
        CHECK_STR(f.links[5].target, "F90003");
    }

    CHECK_EQ(parse_fixture(a, "F90002", "json", &f), 0);
    if (f.id) {
        CHECK_STR(f.context, "Famille, Papiers - Citoyenneté"); /* subject */
        s = section(&f, "");
        CHECK(s != NULL);
        if (s) {
            CHECK_CONTAINS(s->text, "Le duplicata est demandé par l'un des "
                                    "titulaires du livret.\n- Remplir");
            CHECK_CONTAINS(s->text, "- Le déposer en mairie\n"
                                    "  - ou l'envoyer par courrier");
            CHECK_CONTAINS(s->text, "Délais indicatifs\nSituation | Délai\n"
                                    "Naissances dans la commune | 2 "
                                    "semaines");
            CHECK_CONTAINS(s->text, "À savoir : le duplicata remplace");
        }
        s = section(&f, "Avertissement");
        CHECK(s != NULL);
        if (s)
            CHECK_STR(s->text, "Réforme imaginaire en cours\nLes délais "
                               "indiqués peuvent changer.");
        s = section(&f, "Parents mariés");
        CHECK(s != NULL);
        if (s)
            CHECK_STR(s->text, "Le livret mentionne le mariage & les "
                               "naissances.");
        /* Two OuSAdresser, one marker. */
        size_t where = 0;
        for (size_t i = 0; i < f.nsections; i++)
            where += strcmp(f.sections[i].path, KB_SP_WHERE_PATH) == 0;
        CHECK_EQ(where, 1);
        /* The Reference without URL is dropped. */
        CHECK_EQ(f.nlinks, 1);
        CHECK_EQ(f.links[0].kind, KB_LINK_RELATED);
        CHECK_STR(f.links[0].target, "F90001");
    }

    CHECK_EQ(parse_fixture(a, "R90003", "xml", &f), 0);
    if (f.id) {
        CHECK_STR(f.context, "Services en ligne et formulaires");
        CHECK_EQ(f.nsections, 1);
        CHECK_STR(f.sections[0].path, "");
        CHECK_EQ(f.nlinks, 3);
        if (f.nlinks == 3) {
            CHECK_EQ(f.links[0].kind, KB_LINK_SERVICE);
            CHECK_STR(f.links[0].label, f.title); /* LienWeb */
            CHECK_STR(f.links[0].url,
                      "https://exemple.invalid/inscription-electorale");
            CHECK_EQ(f.links[1].kind, KB_LINK_RELATED); /* FicheLiee */
            CHECK_STR(f.links[1].target, "F90001");
            CHECK_STR(f.links[2].label, "Élections : qui peut voter ?");
        }
    }
    gu_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* Scanning folders, zips and single files                            */
/* ------------------------------------------------------------------ */

struct seen {
    char ids[16][16];
    size_t n;
};

static int
collect(void *ud, const struct kb_fiche *f, struct gu_err *err)
{
    struct seen *s = ud;

    (void)err;
    if (s->n < 16)
        snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s", f->id);
    return 0;
}

static void
scan_expect(const char *path, const char *const *only, size_t nonly,
            size_t want_done, size_t want_skipped, const char *first)
{
    struct seen s = {0};
    struct gu_err err;
    size_t done = 99, skipped = 99;

    gu_err_clear(&err);
    CHECK_EQ(kb_sp_scan(path, only, nonly, collect, &s, &done, &skipped, &err),
             0);
    CHECK_EQ(done, want_done);
    CHECK_EQ(skipped, want_skipped);
    CHECK_EQ(s.n, want_done);
    if (first && s.n)
        CHECK_STR(s.ids[0], first);
}

static void
test_scan_folders(void)
{
    char p[1200];

    gu_log_set_level(GU_LOG_ERROR); /* the skips are expected */
    /* 3 good fiches, a truncated one and one without title or date. */
    scan_expect(fixture(p, sizeof(p), "json"), NULL, 0, 3, 2, "F90001");
    scan_expect(fixture(p, sizeof(p), "xml"), NULL, 0, 3, 2, "F90001");
    scan_expect(fixture(p, sizeof(p), "xml/R90003.xml"), NULL, 0, 1, 0,
                "R90003");
    scan_expect(fixture(p, sizeof(p), "json/F90004.json"), NULL, 0, 0, 1, NULL);
    gu_log_set_level(GU_LOG_WARN);
}

static void
test_scan_errors(void)
{
    char p[1200];
    struct seen s = {0};
    struct gu_err err;
    size_t done, skipped;

    gu_err_clear(&err);
    CHECK_EQ(kb_sp_scan("/nonexistent/fiches", NULL, 0, collect, &s, &done,
                        &skipped, &err),
             GU_ENOTFOUND);
    CHECK(err.user[0] != '\0');
    /* A folder without fiche files. */
    gu_err_clear(&err);
    CHECK_EQ(
        kb_sp_scan(tests_dir(), NULL, 0, collect, &s, &done, &skipped, &err),
        GU_ENOTFOUND);
    CHECK_CONTAINS(err.user, "Aucune fiche");
    /* Neither a folder, a zip nor a fiche. */
    gu_err_clear(&err);
    CHECK_EQ(kb_sp_scan(fixture(p, sizeof(p), "xml2json.py"), NULL, 0, collect,
                        &s, &done, &skipped, &err),
             GU_EINVAL);
    CHECK(err.user[0] != '\0');
}

/* A callback that refuses one fiche (skipped) or fails (stops). */
static int
picky(void *ud, const struct kb_fiche *f, struct gu_err *err)
{
    int *mode = ud;

    if (strcmp(f->id, "F90002") != 0)
        return 0;
    return gu_err_set(err, *mode, NULL, NULL, "refused %s", f->id);
}

static void
test_scan_callback_errors(void)
{
    char p[1200];
    struct gu_err err;
    size_t done, skipped;
    int mode = GU_ETOOBIG;

    gu_log_set_level(GU_LOG_ERROR);
    gu_err_clear(&err);
    CHECK_EQ(kb_sp_scan(fixture(p, sizeof(p), "json"), NULL, 0, picky, &mode,
                        &done, &skipped, &err),
             0);
    CHECK_EQ(done, 2);
    CHECK_EQ(skipped, 3);
    mode = GU_EDB;
    gu_err_clear(&err);
    CHECK_EQ(kb_sp_scan(fixture(p, sizeof(p), "json"), NULL, 0, picky, &mode,
                        &done, &skipped, &err),
             GU_EDB);
    CHECK_EQ(done, 1); /* F90001 before F90002, nothing after */
    CHECK_CONTAINS(err.msg, "refused F90002");
    gu_log_set_level(GU_LOG_WARN);
}

static void
test_only(void)
{
    static const char *const only[] = {"R90003", "F90001", "F99999"};
    static const char *const bad_only[] = {"F90004", "F90005"};
    char p[1200];

    gu_log_set_level(GU_LOG_ERROR);
    scan_expect(fixture(p, sizeof(p), "json"), only, 3, 2, 0, "F90001");
    scan_expect(fixture(p, sizeof(p), "xml"), only, 3, 2, 0, "F90001");
    /* Files not named like a fiche are read, then filtered by id. */
    scan_expect(fixture(p, sizeof(p), "xml/R90003.xml"), only + 1, 2, 0, 0,
                NULL);
    /* Listed but malformed: still skipped and counted. */
    scan_expect(fixture(p, sizeof(p), "xml"), bad_only, 2, 0, 2, NULL);
    /* An empty list keeps nothing. */
    scan_expect(fixture(p, sizeof(p), "xml"), only, 0, 0, 0, NULL);
    gu_log_set_level(GU_LOG_WARN);
}

/* DILA's zip, built here from the XML fixtures (no binary committed). */
static void
make_zip(const char *zpath)
{
    static const char *const names[] = {"F90001", "F90002", "R90003", "F90004",
                                        "F90005"};
    char src[1200], rel[64], in_zip[64];
    int zerr = 0;

    unlink(zpath);
    zip_t *z = zip_open(zpath, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    CHECK(z != NULL);
    if (!z)
        return;
    for (size_t i = 0; i < GU_ARRAY_LEN(names); i++) {
        snprintf(rel, sizeof(rel), "xml/%s.xml", names[i]);
        snprintf(in_zip, sizeof(in_zip), "vosdroits/%s.xml", names[i]);
        zip_source_t *zs =
            zip_source_file(z, fixture(src, sizeof(src), rel), 0, -1);
        CHECK(zs != NULL);
        CHECK(zip_file_add(z, in_zip, zs, ZIP_FL_ENC_UTF_8) >= 0);
    }
    zip_source_t *txt = zip_source_buffer(z, "pas une fiche", 13, 0);
    CHECK(zip_file_add(z, "LISEZMOI.txt", txt, 0) >= 0);
    /* An XML file that is not a fiche: neither imported nor counted. */
    static const char arbo[] = "<Arborescence><Item ID=\"N1\"/></Arborescence>";
    zip_source_t *ax = zip_source_buffer(z, arbo, sizeof(arbo) - 1, 0);
    CHECK(zip_file_add(z, "vosdroits/arborescence.xml", ax, 0) >= 0);
    CHECK_EQ(zip_close(z), 0);
}

static void
test_zip(void)
{
    static const char *const only[] = {"F90002"};
    char zpath[64];

    gu_log_set_level(GU_LOG_ERROR);
    snprintf(zpath, sizeof(zpath), "/tmp/gu_sp_test_%d.zip", (int)getpid());
    make_zip(zpath);
    scan_expect(zpath, NULL, 0, 3, 2, "F90001");
    scan_expect(zpath, only, 1, 1, 0, "F90002");
    unlink(zpath);

    /* A file named .zip that is not one. */
    struct gu_err err;
    size_t done, skipped;
    struct seen s = {0};
    FILE *f = fopen(zpath, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("ceci n'est pas une archive", f);
        fclose(f);
    }
    gu_err_clear(&err);
    CHECK_EQ(kb_sp_scan(zpath, NULL, 0, collect, &s, &done, &skipped, &err),
             GU_EIO);
    CHECK_CONTAINS(err.user, "zip");
    unlink(zpath);
    gu_log_set_level(GU_LOG_WARN);
}

/* ------------------------------------------------------------------ */
/* Bounds and hostile input                                            */
/* ------------------------------------------------------------------ */

#define HEAD                                                                   \
    "<Publication xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "              \
    "ID=\"F1\"><dc:date>modified 2024-02-29</dc:date>"

static int
parse_xml_str(const char *xml, struct kb_fiche *f, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    int rc;

    gu_err_clear(err);
    rc = kb_sp_parse_xml(a, xml, strlen(xml), f, err);
    gu_arena_free(a); /* *f dangles: callers only look at counts */
    return rc;
}

static void
test_bounds(void)
{
    struct gu_buf b;
    struct kb_fiche f;
    struct gu_err err;

    /* Title: 300 characters (accented: 600 bytes) pass, 301 do not. */
    gu_buf_init(&b);
    gu_buf_puts(&b, HEAD "<dc:title>");
    for (int i = 0; i < 300; i++)
        gu_buf_puts(&b, "é");
    gu_buf_puts(&b, "</dc:title></Publication>");
    CHECK_EQ(parse_xml_str(b.p, &f, &err), 0);
    b.n -= strlen("</dc:title></Publication>");
    gu_buf_puts(&b, "e</dc:title></Publication>");
    CHECK_EQ(parse_xml_str(b.p, &f, &err), GU_ETOOBIG);
    CHECK(err.user[0] != '\0');
    gu_buf_fini(&b);

    /* Sections: 400 pass, 401 do not (the marker counts). */
    for (int n = 399; n <= 400; n++) {
        gu_buf_init(&b);
        gu_buf_puts(&b, HEAD "<dc:title>T</dc:title><Texte>");
        for (int i = 0; i < n; i++)
            gu_buf_printf(&b,
                          "<Chapitre><Titre>C%d</Titre><Paragraphe>p"
                          "</Paragraphe></Chapitre>",
                          i);
        gu_buf_puts(&b, "</Texte><OuSAdresser/></Publication>");
        CHECK_EQ(parse_xml_str(b.p, &f, &err), n == 399 ? 0 : GU_ETOOBIG);
        gu_buf_fini(&b);
    }

    /* Body: over KB_BODY_MAX is refused whole. */
    gu_buf_init(&b);
    gu_buf_puts(&b, HEAD "<dc:title>T</dc:title><Texte>");
    for (int i = 0; i < 600; i++) {
        gu_buf_puts(&b, "<Paragraphe>");
        for (int k = 0; k < 10; k++)
            gu_buf_puts(&b, "Lorem ipsum dolor sit amet, consectetur "
                            "adipiscing elit, sed do eiusmod tempor ut "
                            "labore et dolore magna aliqua. ");
        gu_buf_puts(&b, "</Paragraphe>");
    }
    gu_buf_puts(&b, "</Texte></Publication>");
    CHECK(b.n > KB_BODY_MAX);
    CHECK_EQ(parse_xml_str(b.p, &f, &err), GU_ETOOBIG);
    gu_buf_fini(&b);

    /* Links: deduplicated, then capped at KB_LINKS_MAX, related ones
     * dropped first. */
    gu_buf_init(&b);
    gu_buf_puts(&b, HEAD "<dc:title>T</dc:title>");
    for (int i = 0; i < 130; i++)
        gu_buf_printf(&b,
                      "<FicheLiee ID=\"F%d\"><Titre>Fiche %d</Titre>"
                      "</FicheLiee>",
                      1000 + i, i);
    for (int i = 0; i < 3; i++)
        gu_buf_printf(&b,
                      "<ServiceEnLigne URL=\"https://s.invalid/%d\">"
                      "<Titre>S%d</Titre></ServiceEnLigne>"
                      "<ServiceEnLigne URL=\"https://s.invalid/%d\">"
                      "<Titre>S%d</Titre></ServiceEnLigne>",
                      i, i, i, i);
    gu_buf_puts(&b, "<Reference URL=\"javascript:alert(1)\"><Titre>x"
                    "</Titre></Reference>"
                    "<QuestionReponse ID=\"F1\">Elle-même ?"
                    "</QuestionReponse></Publication>");
    {
        struct gu_arena *a = gu_arena_new(0);
        gu_log_set_level(GU_LOG_ERROR);
        gu_err_clear(&err);
        CHECK_EQ(kb_sp_parse_xml(a, b.p, b.n, &f, &err), 0);
        gu_log_set_level(GU_LOG_WARN);
        CHECK_EQ(f.nlinks, KB_LINKS_MAX);
        size_t svc = 0;
        for (size_t i = 0; i < f.nlinks; i++)
            svc += f.links[i].kind == KB_LINK_SERVICE;
        CHECK_EQ(svc, 3);
        /* Document order is kept: 97 related ones, then the services. */
        CHECK_STR(f.links[96].target, "F1096");
        CHECK_EQ(f.links[97].kind, KB_LINK_SERVICE);
        CHECK_EQ(f.nsections, 0); /* nothing to say: no description */
        gu_arena_free(a);
    }
    gu_buf_fini(&b);
}

/* Links without a title get a French label; a box without a title adds
 * no line; a description stands in for a fiche without text. */
static void
test_untitled_links(void)
{
    const char *xml =
        HEAD "<dc:title>T</dc:title><dc:description>Résumé.</dc:description>"
             "<Texte><ServiceEnLigne URL=\"https://s.invalid/a\"/></Texte>"
             "<Reference URL=\"https://r.invalid/b\"/>"
             "<LienWeb URL=\"https://s.invalid/c\"/></Publication>";
    struct gu_arena *a = gu_arena_new(0);
    struct kb_fiche f;
    struct gu_err err;

    gu_err_clear(&err);
    CHECK_EQ(kb_sp_parse_xml(a, xml, strlen(xml), &f, &err), 0);
    CHECK_EQ(f.nlinks, 3);
    if (f.nlinks == 3) {
        CHECK_STR(f.links[0].label, "Service en ligne");
        CHECK_STR(f.links[1].label, "Texte de référence");
        CHECK_STR(f.links[2].label, "T"); /* LienWeb: the fiche's title */
    }
    CHECK_STR(f.body, "");
    CHECK_EQ(f.nsections, 1);
    if (f.nsections == 1) {
        CHECK_STR(f.sections[0].path, "");
        CHECK_STR(f.sections[0].text, "Résumé.");
    }
    gu_arena_free(a);
}

static void
test_invalid_xml(void)
{
    static const char *const bad[] = {
        "",
        "<Publication ID=\"F1\">",
        HEAD "</Publication>", /* no title */
        "<Publication ID=\"F1\"><dc:title>T</dc:title></Publication>",
        "<Publication ID=\"F1\"><dc:title>T</dc:title><dc:date>modified "
        "2024-02-30</dc:date></Publication>", /* bad date */
        "<Publication ID=\"1F\"><dc:title>T</dc:title><dc:date>modified "
        "2024-02-28</dc:date></Publication>", /* bad id */
        "<Publication ID=\"L12x\"><dc:title>T</dc:title></Publication>",
        "<Publication><dc:title>T</dc:title></Publication>", /* no id */
    };
    struct kb_fiche f;
    struct gu_err err;

    for (size_t i = 0; i < GU_ARRAY_LEN(bad); i++) {
        int rc = parse_xml_str(bad[i], &f, &err);
        if (rc != GU_EINVAL)
            fprintf(stderr, "  input %zu: rc %d\n", i, rc);
        CHECK_EQ(rc, GU_EINVAL);
        CHECK(err.msg[0] != '\0');
    }

    /* Well-formed, but not a fiche. */
    CHECK_EQ(parse_xml_str("<Autre ID=\"F1\"><dc:title>T</dc:title></Autre>",
                           &f, &err),
             GU_ENOTFOUND);

    /* Too deep: refused, not a stack overflow. */
    struct gu_buf b;
    gu_buf_init(&b);
    gu_buf_puts(&b, HEAD "<dc:title>T</dc:title><Texte>");
    for (int i = 0; i < 200; i++)
        gu_buf_puts(&b, "<Bloc>");
    gu_buf_puts(&b, "<Paragraphe>x</Paragraphe>");
    for (int i = 0; i < 200; i++)
        gu_buf_puts(&b, "</Bloc>");
    gu_buf_puts(&b, "</Texte></Publication>");
    CHECK_EQ(parse_xml_str(b.p, &f, &err), GU_EINVAL);
    CHECK_CONTAINS(err.msg, "nested");
    gu_buf_fini(&b);

    /* No entity expansion, no external entity. */
    const char *xxe =
        "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY x SYSTEM "
        "\"file:///etc/passwd\"><!ENTITY y \"YYY\">]>"
        "<Publication ID=\"F1\"><dc:title>T&x;&y;</dc:title><dc:date>"
        "modified 2024-02-28</dc:date></Publication>";
    struct gu_arena *a = gu_arena_new(0);
    gu_err_clear(&err);
    CHECK_EQ(kb_sp_parse_xml(a, xxe, strlen(xxe), &f, &err), 0);
    if (f.id)
        CHECK_STR(f.title, "T");
    gu_arena_free(a);
}

static int
parse_json_str(struct gu_arena *a, const char *js, struct kb_fiche *f,
               struct gu_err *err)
{
    gu_err_clear(err);
    return kb_sp_parse_json(a, js, strlen(js), f, err);
}

#define JROOT(kids)                                                            \
    "{\"type\":\"element\",\"name\":\"Publication\",\"attributes\":"           \
    "{\"ID\":\"F7\"},\"children\":[{\"type\":\"element\",\"name\":"            \
    "\"dc:date\",\"children\":[{\"type\":\"text\",\"text\":\"modified "        \
    "2020-01-02\"}]}" kids "]}"
#define JTITLE(t)                                                              \
    ",{\"type\":\"element\",\"name\":\"dc:title\",\"children\":[{\"type\""     \
    ":\"text\",\"text\":\"" t "\"}]}"

static void
test_json_reader(void)
{
    static const char *const bad[] = {
        "",
        JROOT(JTITLE("T")) " x",    /* trailing data */
        JROOT(JTITLE("\\ud800")),   /* lone surrogate */
        JROOT(JTITLE("a\\u0000b")), /* NUL */
        JROOT(JTITLE("tab\there")), /* raw control */
        JROOT(JTITLE("\\x")),       /* bad escape */
        JROOT(JTITLE("T")) ",",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":tru}",
        "{\"a\" 1}",
        "{\"a\":[1,]}",
        "\"\xc3\x28\"",             /* invalid UTF-8 */
        "{\"a\":\"\xed\xa0\x80\"}", /* UTF-8 surrogate */
    };
    struct gu_arena *a = gu_arena_new(0);
    struct kb_fiche f;
    struct gu_err err;

    for (size_t i = 0; i < GU_ARRAY_LEN(bad); i++) {
        int rc = parse_json_str(a, bad[i], &f, &err);
        if (rc != GU_EINVAL)
            fprintf(stderr, "  input %zu: rc %d\n", i, rc);
        CHECK_EQ(rc, GU_EINVAL);
    }
    /* Valid JSON that is not a fiche (the package's index.json). */
    CHECK_EQ(parse_json_str(a, "[\"F1\"]", &f, &err), GU_ENOTFOUND);
    CHECK_EQ(parse_json_str(a, "{\"id\":\"F7\"}", &f, &err), GU_ENOTFOUND);
    CHECK_EQ(parse_json_str(a, "\"x\"", &f, &err), GU_ENOTFOUND);

    /* Escapes, a bare root element, numbers and literals anywhere,
     * unknown node types ignored, the first of duplicate keys wins. */
    const char *ok = JROOT(JTITLE("Caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\/ "
                                  "a\\\\b") ",{\"type\":\"comment\","
                                            "\"comment\":\"x\"},"
                                            "{\"type\":\"element\",\"name\":"
                                            "\"Texte\",\"n\":-1.5e+3,"
                                            "\"b\":[true,false,null],"
                                            "\"children\":[{\"type\":"
                                            "\"element\","
                                            "\"name\":\"Paragraphe\","
                                            "\"children\":[{\"type\":\"text\","
                                            "\"text\":\"un\",\"text\":\"deux\"}"
                                            "]}]}");
    CHECK_EQ(parse_json_str(a, ok, &f, &err), 0);
    if (f.id) {
        CHECK_STR(f.id, "F7");
        CHECK_STR(f.title, "Café \xf0\x9f\x98\x80 \"q\" / a\\b");
        CHECK_STR(f.body, "un");
        CHECK_STR(f.source_date, "2020-01-02");
    }
    /* Deep nesting is refused by the reader itself. */
    struct gu_buf b;
    gu_buf_init(&b);
    for (int i = 0; i < 5000; i++)
        gu_buf_puts(&b, "[");
    CHECK_EQ(parse_json_str(a, b.p, &f, &err), GU_EINVAL);
    CHECK_CONTAINS(err.msg, "deep");
    gu_buf_fini(&b);
    gu_arena_free(a);
}

/* Every allocation failing in turn: ENOMEM or success, never a crash or
 * a half-filled fiche. */
static void
test_alloc_failures(void)
{
    static const char *const forms[] = {"json", "xml"};

    for (size_t k = 0; k < GU_ARRAY_LEN(forms); k++) {
        char rel[64], path[1200];
        size_t n = 0;
        snprintf(rel, sizeof(rel), "%s/F90001.%s", forms[k], forms[k]);
        char *buf = slurp(fixture(path, sizeof(path), rel), &n);
        CHECK(buf != NULL);
        if (!buf)
            continue;
        int rc = GU_ENOMEM;
        long i;
        for (i = 1; i < 5000 && rc == GU_ENOMEM; i++) {
            struct gu_arena *a = gu_arena_new(0);
            struct kb_fiche f;
            struct gu_err err;
            if (!a)
                continue;
            gu_err_clear(&err);
            gu_alloc_fail_after(i);
            rc = k == 0 ? kb_sp_parse_json(a, buf, n, &f, &err)
                        : kb_sp_parse_xml(a, buf, n, &f, &err);
            gu_alloc_fail_reset();
            if (rc == GU_ENOMEM)
                CHECK(f.id == NULL && f.nsections == 0);
            gu_arena_free(a);
        }
        CHECK_EQ(rc, 0);
        CHECK(i > 10);
        free(buf);
    }
}

/* ------------------------------------------------------------------ */
/* The mairie list                                                     */
/* ------------------------------------------------------------------ */

static void
test_mairie_list(void)
{
    char path[1200];
    size_t n = 0, count = 0;

    snprintf(path, sizeof(path), "%s/../data/service-public/mairie.txt",
             tests_dir());
    char *txt = slurp(path, &n);
    const char *const *ids = kb_sp_mairie_ids(&count);
    CHECK(txt != NULL);
    if (!txt)
        return;
    CHECK(count >= 200 && count <= 600);
    /* Same ids, same order; each line "ID # comment". */
    size_t k = 0;
    for (char *p = txt; p && *p;) {
        char *e = strchr(p, '\n');
        if (e)
            *e = '\0';
        if (*p >= 'A' && *p <= 'Z') {
            size_t idn = strcspn(p, " #");
            CHECK(kb_sp_id_valid(p, idn));
            CHECK_CONTAINS(p + idn, "# ");
            CHECK(k < count);
            if (k < count) {
                CHECK(strlen(ids[k]) == idn && memcmp(ids[k], p, idn) == 0);
                k++;
            }
        } else {
            CHECK(*p == '\0' || *p == '#');
        }
        p = e ? e + 1 : NULL;
    }
    CHECK_EQ(k, count);
    for (size_t i = 0; i < count; i++) {
        for (size_t j = i + 1; j < count; j++)
            CHECK(strcmp(ids[i], ids[j]) != 0);
    }
    free(txt);
}

/* ------------------------------------------------------------------ */
/* Into the store                                                      */
/* ------------------------------------------------------------------ */

static struct store *
mem_store(struct store_conn **c)
{
    struct store *st = NULL;
    struct gu_err err;

    gu_log_set_level(GU_LOG_ERROR);
    CHECK_EQ(store_open(th_store_url(), &st, &err), 0);
    if (!st)
        return NULL;
    CHECK_EQ(app_migrate(st, NULL, &err), 0);
    CHECK_EQ(store_acquire(st, c, &err), 0);
    return st;
}

/* Every national row, as text, in a stable order. */
static char *
snapshot(struct store_conn *c)
{
    static const char *const q[] = {
        "SELECT id, title, alt, description, body, context, source_url, "
        "source_date, updated_at FROM kb_national ORDER BY id",
        "SELECT national_id, ord, path, body FROM kb_national_sections "
        "ORDER BY national_id, ord",
        "SELECT national_id, ord, kind, label, url, target FROM "
        "kb_national_links ORDER BY national_id, ord",
    };
    struct gu_buf b;

    gu_buf_init(&b);
    for (size_t i = 0; i < GU_ARRAY_LEN(q); i++) {
        struct gu_arena *a = gu_arena_new(0);
        struct store_rows *r = NULL;
        struct gu_err err;
        CHECK_EQ(store_query(c, a, q[i], NULL, 0, &r, &err), 0);
        for (size_t row = 0; r && row < r->nrows; row++) {
            for (size_t col = 0; col < r->ncols; col++) {
                const struct store_val *v = store_cell(r, row, col);
                if (v->type == STORE_INT)
                    gu_buf_printf(&b, "%lld|", (long long)v->i);
                else
                    gu_buf_printf(&b, "%s|", v->s ? v->s : "");
            }
            gu_buf_puts(&b, "\n");
        }
        gu_arena_free(a);
    }
    return b.p;
}

static long long
count(struct store_conn *c, const char *sql)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    struct gu_err err;
    long long n = -1;

    if (store_query(c, a, sql, NULL, 0, &r, &err) == 0)
        n = store_int(r, 0, 0);
    gu_arena_free(a);
    return n;
}

static void
test_store_import(void)
{
    struct store_conn *c = NULL;
    struct store *st = mem_store(&c);
    char p[1200];
    struct gu_err err;
    size_t imported = 0, skipped = 0;

    if (!st || !c)
        return;
    gu_err_clear(&err);
    CHECK_EQ(kb_import_service_public(c, fixture(p, sizeof(p), "json"), NULL, 0,
                                      &imported, &skipped, &err),
             0);
    CHECK_EQ(imported, 3);
    CHECK_EQ(skipped, 2);
    CHECK_EQ(count(c, "SELECT COUNT(*) FROM kb_national"), 3);
    CHECK_EQ(count(c, "SELECT COUNT(*) FROM kb_national_sections WHERE "
                      "national_id = 'F90001'"),
             8);
    CHECK_EQ(count(c, "SELECT COUNT(*) FROM kb_national_links"), 10);
    CHECK_EQ(count(c, "SELECT COUNT(*) FROM kb_national_sections WHERE "
                      "path = 'Où s''adresser' AND body = "
                      "'{{contacts_commune}}'"),
             2);
    /* updated_at is the fiche's own date, so rows do not depend on when
     * the import ran. */
    CHECK_EQ(count(c, "SELECT updated_at FROM kb_national WHERE id = "
                      "'F90001'"),
             gu_day_from_ymd(2026, 3, 14) * 86400);
    CHECK(!store_in_tx(c));
    char *first = snapshot(c);

    /* Same files again, then the XML twins: the same rows. */
    CHECK_EQ(kb_import_service_public(c, fixture(p, sizeof(p), "json"), NULL, 0,
                                      &imported, &skipped, &err),
             0);
    char *again = snapshot(c);
    CHECK_EQ(imported, 3);
    CHECK_STR(first, again);
    CHECK_EQ(kb_import_service_public(c, fixture(p, sizeof(p), "xml"), NULL, 0,
                                      &imported, &skipped, &err),
             0);
    char *xml = snapshot(c);
    CHECK_STR(first, xml);
    CHECK(first && strlen(first) > 1000);

    /* `only`, and a bad path leaves the rows alone. */
    static const char *const only[] = {"F90002"};
    CHECK_EQ(kb_import_service_public(c, fixture(p, sizeof(p), "xml"), only, 1,
                                      &imported, &skipped, &err),
             0);
    CHECK_EQ(imported, 1);
    CHECK_EQ(skipped, 0);
    CHECK_EQ(kb_import_service_public(c, "/nonexistent", NULL, 0, &imported,
                                      &skipped, &err),
             GU_ENOTFOUND);
    CHECK_EQ(imported, 0);
    CHECK_EQ(count(c, "SELECT COUNT(*) FROM kb_national"), 3);

    gu_free(first);
    gu_free(again);
    gu_free(xml);
    store_release(c);
    store_close(st);
    gu_log_set_level(GU_LOG_WARN);
}

TESTS(T(test_json_xml_identical), T(test_fiche_content), T(test_scan_folders),
      T(test_scan_errors), T(test_scan_callback_errors), T(test_only),
      T(test_zip), T(test_bounds), T(test_untitled_links), T(test_invalid_xml),
      T(test_json_reader), T(test_alloc_failures), T(test_mairie_list),
      T(test_store_import))
