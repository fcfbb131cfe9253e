/*
 * test_kb.c - the knowledge base core: the Markdown fiche parser (every
 * front matter key, errors naming the line, sections and their paths,
 * bounds, bad UTF-8), safe HTML, local fiches (versions, conflicts,
 * archive), what a commune's view holds (hidden, replaced, expired),
 * listing, synonyms, the generation counter, the demo content, and the
 * load time of a large national base. In-memory SQLite.
 */
#include "harness.h"

#include "kb/kb.h"
#include "text/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store_fix.h"

static int
fix_open(struct th_fix *f)
{
    static const th_migrations_fn mods[] = {kb_migrations};

    if (th_fix_open(f, mods, GU_ARRAY_LEN(mods)) < 0 ||
        th_commune(f->c, "99001", "Saint-Exemple-sur-Loire") < 0 ||
        th_commune(f->c, "99002", "Autre-Exemple") < 0)
        return -1;
    return 0;
}

static size_t
audit_count(struct th_fix *f, const char *insee, const char *action)
{
    struct store_audit_filter flt;
    struct store_audit *e = NULL;
    struct gu_err err;
    size_t n = 0;

    memset(&flt, 0, sizeof(flt));
    flt.insee = insee;
    flt.action_prefix = action;
    flt.limit = 1000;
    if (store_audit_list(f->c, f->a, &flt, &e, &n, &err) < 0)
        return (size_t)-1;
    return n;
}

static int
parse(struct gu_arena *a, const char *md, struct kb_fiche *out,
      struct gu_err *err)
{
    gu_err_clear(err);
    return kb_markdown_parse(a, md, strlen(md), out, err);
}

/* Save `md` as a new (id NULL) or existing fiche of `insee`. */
static int
save(struct th_fix *f, const char *insee, const char *id, const char *md,
     int expect, const char **id_out, struct gu_err *err)
{
    struct kb_fiche k;
    int rc = parse(f->a, md, &k, err);

    if (rc < 0)
        return rc;
    k.id = id;
    return kb_local_save(f->c, f->a, insee, &k, md, expect, "agent", "req-1",
                         id_out, err);
}

static const struct kb_fiche *
find(const struct kb_fiche *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].id, id) == 0)
            return &v[i];
    }
    return NULL;
}

static const char full_md[] =
    "---\n"
    "titre: Carte nationale d'identité\n"
    "questions: Comment refaire ma carte d'identité ? | J'ai perdu ma CNI |"
    " \n"
    "service: État civil\n"
    "tags: identité ,papiers,, titres \n"
    "valide_jusqu_au: 31/12/2099\n"
    "contact: Accueil de la mairie, 01 99 00 12 34\n"
    "horaires: du lundi au vendredi, 8 h 30 - 12 h\n"
    "# a comment line\n"
    "remplace: f1342, F21089\n"
    "lien: Prendre rendez-vous | /rdv?motif=cni\n"
    "lien: Pré-demande en ligne | https://ants.gouv.fr/\n"
    "LIEN: Écrire | mailto:mairie@example.fr\n"
    "---\n"
    "\n"
    "La carte d'identité se demande\n"
    "en mairie, sur rendez-vous.\n"
    "\n"
    "Un second paragraphe d'introduction.\n"
    "\n"
    "## Majeur\n"
    "Texte majeur.\n"
    "### Pièces à fournir ##\n"
    "- photo\n"
    "- justificatif\n"
    "## Mineur\n"
    "\n"
    "```\n"
    "## pas un titre\n"
    "```\n"
    "### Délais\n"
    "Deux semaines.\n";

static void
test_parse_full(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    struct kb_fiche f;

    CHECK_EQ(parse(a, full_md, &f, &err), 0);
    CHECK_STR(f.title, "Carte nationale d'identité");
    CHECK_STR(f.alt, "Comment refaire ma carte d'identité ?\nJ'ai perdu ma CNI");
    CHECK_STR(f.service, "État civil");
    CHECK_STR(f.tags, "identité, papiers, titres");
    CHECK_EQ(f.valid_until, gu_day_from_ymd(2099, 12, 31));
    CHECK_STR(f.contact, "Accueil de la mairie, 01 99 00 12 34");
    CHECK_STR(f.hours, "du lundi au vendredi, 8 h 30 - 12 h");
    CHECK_STR(f.replaces, "F1342,F21089");
    CHECK_EQ(f.nlinks, 3);
    CHECK_EQ(f.links[0].kind, KB_LINK_BOOKING);
    CHECK_STR(f.links[0].label, "Prendre rendez-vous");
    CHECK_STR(f.links[0].url, "/rdv?motif=cni");
    CHECK_EQ(f.links[1].kind, KB_LINK_SERVICE);
    CHECK_STR(f.links[1].url, "https://ants.gouv.fr/");
    CHECK_STR(f.links[2].url, "mailto:mairie@example.fr");
    CHECK_EQ(f.origin, KB_LOCAL);
    CHECK(f.id == NULL);
    /* The description is one paragraph, lines joined. */
    CHECK_STR(f.description,
              "La carte d'identité se demande en mairie, sur rendez-vous.");
    /* The body starts after it. */
    CHECK(strncmp(f.body, "Un second paragraphe", 20) == 0);
    CHECK(strstr(f.body, "se demande") == NULL);
    /* Sections: intro, Majeur, Majeur > Pièces, Mineur (code), Délais. */
    CHECK_EQ(f.nsections, 5);
    if (f.nsections == 5) {
        CHECK_STR(f.sections[0].path, "");
        CHECK(strstr(f.sections[0].text, "se demande") != NULL);
        CHECK(strstr(f.sections[0].text, "second paragraphe") != NULL);
        CHECK_STR(f.sections[1].path, "Majeur");
        CHECK_STR(f.sections[1].text, "Texte majeur.");
        CHECK_STR(f.sections[2].path, "Majeur > Pièces à fournir");
        CHECK_STR(f.sections[2].text, "- photo\n- justificatif");
        CHECK_STR(f.sections[3].path, "Mineur");
        CHECK(strstr(f.sections[3].text, "## pas un titre") != NULL);
        CHECK_STR(f.sections[4].path, "Mineur > Délais");
        CHECK_EQ(f.sections[4].ord, 4);
    }

    /* Minimal: title only, ISO date, CRLF, BOM; ### without ##. */
    CHECK_EQ(parse(a,
                   "\xEF\xBB\xBF---\r\ntitre :  Horaires  \r\n"
                   "valide_jusqu_au: 2030-01-31\r\n---\r\n"
                   "### Été\r\nFermé en août.\r\n## \t Vide ##\r\n",
                   &f, &err),
             0);
    CHECK_STR(f.title, "Horaires");
    CHECK_EQ(f.valid_until, gu_day_from_ymd(2030, 1, 31));
    CHECK_STR(f.description, "");
    CHECK_STR(f.alt, "");
    CHECK_STR(f.replaces, "");
    CHECK_EQ(f.nlinks, 0);
    CHECK_EQ(f.nsections, 1); /* "Vide" has no text: dropped */
    if (f.nsections == 1) {
        CHECK_STR(f.sections[0].path, "Été");
        CHECK_STR(f.sections[0].text, "Fermé en août.");
    }
    gu_arena_free(a);
}

/* Parse `md`, expect `code` and a French message containing `want`. */
static void
expect_error(const char *md, int code, const char *want)
{
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    struct kb_fiche f;
    int rc = parse(a, md, &f, &err);

    if (rc != code)
        TH_FAIL("expected %d, got %d for: %.60s", code, rc, md);
    if (!strstr(err.user, want))
        TH_FAIL("message \"%s\" lacks \"%s\"", err.user, want);
    gu_arena_free(a);
}

static void
test_parse_errors(void)
{
    expect_error("---\ntitre: X\ntitr: Y\n---\n", GU_EINVAL,
                 "Ligne 3 : clé inconnue « titr ». Clés permises : titre, "
                 "questions,");
    expect_error("titre: X\n", GU_EINVAL, "Ligne 1 :");
    expect_error("", GU_EINVAL, "Ligne 1 :");
    expect_error("---\ntitre: X\n", GU_EINVAL, "n’est pas refermé");
    expect_error("---\ntitre: X\nservice État civil\n---\n", GU_EINVAL,
                 "Ligne 3 : « service État civil » n’est pas de la forme");
    expect_error("---\ntitre: X\ntitre: Y\n---\n", GU_EINVAL,
                 "Ligne 3 : la clé « titre » est déjà donnée ligne 2");
    expect_error("---\nservice: X\n---\nTexte\n", GU_EINVAL,
                 "il manque le titre");
    expect_error("---\ntitre:   \n---\n", GU_EINVAL, "Ligne 2 : le titre est vide");
    expect_error("---\ntitre: X\nvalide_jusqu_au: 31/02/2027\n---\n",
                 GU_EINVAL, "Ligne 3 : date invalide « 31/02/2027 »");
    expect_error("---\ntitre: X\nvalide_jusqu_au: demain\n---\n", GU_EINVAL,
                 "jj/mm/aaaa");
    expect_error("---\ntitre: X\nlien: Pas de barre\n---\n", GU_EINVAL,
                 "Ligne 3 : « lien » s’écrit");
    expect_error("---\ntitre: X\nlien: | /rdv\n---\n", GU_EINVAL,
                 "libellé et une adresse");
    expect_error("---\ntitre: X\nlien: Clic | javascript:alert(1)\n---\n",
                 GU_EINVAL, "Ligne 3 : adresse de lien refusée");
    expect_error("---\ntitre: X\nlien: Clic | //evil.example/x\n---\n",
                 GU_EINVAL, "adresse de lien refusée");
    expect_error("---\ntitre: X\nlien: Clic | data:text/html,x\n---\n",
                 GU_EINVAL, "adresse de lien refusée");
    expect_error("---\ntitre: X\nremplace: F1342, carte\n---\n", GU_EINVAL,
                 "Ligne 3 : « remplace » attend");
    expect_error("---\ntitre: X\nremplace: L12\n---\n", GU_EINVAL,
                 "remplace");
    expect_error("---\ntitre: X\n---\n## \nTexte\n", GU_EINVAL,
                 "Ligne 4 : titre de section vide");
}

static void
test_parse_bounds(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct gu_buf b;
    struct gu_err err;
    struct kb_fiche f;

    /* Title: 300 characters pass (multi-byte), 301 do not. */
    gu_buf_init(&b);
    gu_buf_puts(&b, "---\ntitre: ");
    for (int i = 0; i < KB_TITLE_MAX; i++)
        gu_buf_puts(&b, "é");
    gu_buf_puts(&b, "\n---\n");
    CHECK_EQ(kb_markdown_parse(a, b.p, b.n, &f, &err), 0);
    gu_buf_fini(&b);
    gu_buf_init(&b);
    gu_buf_puts(&b, "---\ntitre: ");
    for (int i = 0; i <= KB_TITLE_MAX; i++)
        gu_buf_puts(&b, "é");
    gu_buf_puts(&b, "\n---\n");
    CHECK_EQ(kb_markdown_parse(a, b.p, b.n, &f, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 2 :");
    gu_buf_fini(&b);

    /* Links: KB_LINKS_MAX pass, one more does not. */
    gu_buf_init(&b);
    gu_buf_puts(&b, "---\ntitre: X\n");
    for (int i = 0; i < KB_LINKS_MAX; i++)
        gu_buf_printf(&b, "lien: L%d | /page/%d\n", i, i);
    gu_buf_puts(&b, "---\n");
    CHECK_EQ(kb_markdown_parse(a, b.p, b.n, &f, &err), 0);
    CHECK_EQ(f.nlinks, KB_LINKS_MAX);
    b.n -= 4;
    gu_buf_puts(&b, "lien: trop | /x\n---\n");
    CHECK_EQ(kb_markdown_parse(a, b.p, b.n, &f, &err), GU_ETOOBIG);
    gu_buf_fini(&b);

    /* Sections: KB_SECTIONS_MAX pass, one more does not. */
    gu_buf_init(&b);
    gu_buf_puts(&b, "---\ntitre: X\n---\n");
    for (int i = 0; i < KB_SECTIONS_MAX; i++)
        gu_buf_printf(&b, "## S%d\nt\n", i);
    CHECK_EQ(kb_markdown_parse(a, b.p, b.n, &f, &err), 0);
    CHECK_EQ(f.nsections, KB_SECTIONS_MAX);
    gu_buf_puts(&b, "## encore\nt\n");
    CHECK_EQ(kb_markdown_parse(a, b.p, b.n, &f, &err), GU_ETOOBIG);
    gu_buf_fini(&b);

    /* Whole text: over KB_BODY_MAX bytes. */
    gu_buf_init(&b);
    gu_buf_puts(&b, "---\ntitre: X\n---\n");
    while (b.n <= KB_BODY_MAX)
        gu_buf_puts(&b, "Un texte très long pour dépasser la limite.\n");
    CHECK_EQ(kb_markdown_parse(a, b.p, b.n, &f, &err), GU_ETOOBIG);
    CHECK_CONTAINS(err.user, "512 Kio");
    gu_buf_fini(&b);

    /* Bad UTF-8 and control characters name their line. */
    CHECK_EQ(parse(a, "---\ntitre: X\n---\nok\nmal \xC3\x28 form\xE9\n", &f,
                   &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 5 :");
    CHECK_CONTAINS(err.user, "UTF-8");
    CHECK_EQ(parse(a, "---\ntitre: X\xED\xA0\x80\n---\n", &f, &err),
             GU_EINVAL); /* a surrogate */
    CHECK_CONTAINS(err.user, "Ligne 2 :");
    CHECK_EQ(parse(a, "---\ntitre: X\n---\nbip \x07\n", &f, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 4 : caractère de contrôle");
    CHECK_EQ(kb_markdown_parse(a, "---\ntitre: X\n---\na\0b", 19, &f, &err),
             GU_EINVAL);
    CHECK_EQ(parse(a, "---\ntitre: X\n---\n\ttab ok\n", &f, &err), 0);
    gu_arena_free(a);
}

static void
test_html_safety(void)
{
    struct gu_arena *a = gu_arena_new(0);
    const char *md =
        "Bonjour <script>alert(1)</script> **gras**\n\n"
        "<div onclick=\"x()\">bloc</div>\n\n"
        "[mal](javascript:alert(1)) [mal2](JavaScript:alert(2)) "
        "[data](data:text/html;base64,xx) [proto](//evil.example/) "
        "[vb](vbscript:msgbox) <javascript:alert(3)>\n\n"
        "[web](https://www.service-public.fr/) [mel](mailto:a@b.fr) "
        "[tel](tel:+33199001234) [rdv](/rdv?motif=cni) [rel](horaires)\n\n"
        "![photo](https://tracker.example/p.png) ![local](/static/img/x.svg)\n";
    char *html = kb_markdown_html(a, md, strlen(md));

    CHECK(html != NULL);
    if (!html) {
        gu_arena_free(a);
        return;
    }
    CHECK(strstr(html, "<script") == NULL);
    CHECK(strstr(html, "onclick") == NULL);
    CHECK(strstr(html, "<div") == NULL);
    CHECK(strstr(html, "javascript:") == NULL ||
          strstr(html, "href=\"javascript") == NULL);
    CHECK(strstr(html, "href=\"javascript") == NULL);
    CHECK(strstr(html, "href=\"JavaScript") == NULL);
    CHECK(strstr(html, "href=\"data:") == NULL);
    CHECK(strstr(html, "href=\"//evil") == NULL);
    CHECK(strstr(html, "href=\"vbscript") == NULL);
    CHECK(strstr(html, "tracker.example") == NULL);
    /* Text of removed links stays. */
    CHECK_CONTAINS(html, "mal2");
    CHECK_CONTAINS(html, "<strong>gras</strong>");
    CHECK_CONTAINS(html, "href=\"https://www.service-public.fr/\"");
    CHECK_CONTAINS(html, "href=\"mailto:a@b.fr\"");
    CHECK_CONTAINS(html, "href=\"tel:+33199001234\"");
    CHECK_CONTAINS(html, "href=\"/rdv?motif=cni\"");
    CHECK_CONTAINS(html, "href=\"horaires\"");
    CHECK_CONTAINS(html, "src=\"/static/img/x.svg\"");
    CHECK_CONTAINS(html, "photo");
    /* Bad UTF-8 does not break rendering. */
    html = kb_markdown_html(a, "a\xC3\x28", 3);
    CHECK(html != NULL);
    gu_arena_free(a);
}

static const char v1[] = "---\ntitre: Cantine\nservice: Scolaire\n---\n"
                         "Inscriptions en juin.\n## Tarifs\n3 euros.\n";
static const char v2[] = "---\ntitre: Cantine scolaire\n"
                         "lien: Inscrire | /demande\n---\n"
                         "Inscriptions en mai.\n## Tarifs\n3,20 euros.\n"
                         "## Menus\nAffichés.\n";

static void
test_save_versions_conflict(void)
{
    struct th_fix f;
    struct gu_err err;
    struct kb_fiche k;
    struct kb_version *v = NULL;
    const char *id = NULL, *md = NULL, *id2 = NULL;
    size_t n = 0;
    int version = 0;
    int64_t gen0, gen1;

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    gen0 = kb_generation(f.c, "99001");
    CHECK_EQ(save(&f, "99001", NULL, v1, 0, &id, &err), 0);
    CHECK(id && id[0] == 'L');
    gen1 = kb_generation(f.c, "99001");
    CHECK(gen1 > gen0);
    CHECK_EQ(kb_generation(f.c, "99002"), gen0);
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99001", id, &k, &err), 0);
    CHECK_EQ(k.version, 1);
    CHECK_STR(k.title, "Cantine");
    CHECK_STR(k.updated_by, "agent");
    CHECK_EQ(k.nsections, 2);
    CHECK_STR(k.insee, "99001");
    /* Update from version 1: version 2, sections and links replaced. */
    CHECK_EQ(save(&f, "99001", id, v2, 1, NULL, &err), 0);
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99001", id, &k, &err), 0);
    CHECK_EQ(k.version, 2);
    CHECK_STR(k.title, "Cantine scolaire");
    CHECK_EQ(k.nsections, 3);
    CHECK_EQ(k.nlinks, 1);
    CHECK(kb_generation(f.c, "99001") > gen1);
    /* Someone else saved meanwhile: our version 1 is stale. */
    CHECK_EQ(save(&f, "99001", id, v1, 1, NULL, &err), GU_ECONFLICT);
    CHECK_CONTAINS(err.user, "modifiée par « agent »");
    CHECK_CONTAINS(err.user, "version 2");
    CHECK_EQ(kb_local_markdown(f.c, f.a, "99001", id, &md, &version, &err),
             0);
    CHECK_STR(md, v2);
    CHECK_EQ(version, 2);
    /* expect_version 0: no check (restore, scripts). */
    CHECK_EQ(save(&f, "99001", id, v1, 0, NULL, &err), 0);
    CHECK_EQ(kb_local_versions(f.c, f.a, "99001", id, &v, &n, &err), 0);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_EQ(v[0].version, 3);
        CHECK_STR(v[0].markdown, v1);
        CHECK_STR(v[1].markdown, v2);
        CHECK_EQ(v[2].version, 1);
        CHECK_STR(v[2].by, "agent");
        CHECK(v[2].at > 0);
    }
    CHECK_EQ(audit_count(&f, "99001", "kb.save"), 4 - 1);
    /* Another commune sees nothing of it, and cannot write it. */
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99002", id, &k, &err), GU_ENOTFOUND);
    CHECK_EQ(kb_local_versions(f.c, f.a, "99002", id, &v, &n, &err),
             GU_ENOTFOUND);
    CHECK_EQ(kb_local_markdown(f.c, f.a, "99002", id, &md, NULL, &err),
             GU_ENOTFOUND);
    CHECK_EQ(save(&f, "99002", id, v2, 0, NULL, &err), GU_ENOTFOUND);
    CHECK_EQ(kb_local_delete(f.c, "99002", id, "x", "", &err), GU_ENOTFOUND);
    CHECK_EQ(audit_count(&f, "99002", "kb."), 0);
    /* Unknown and malformed ids. */
    CHECK_EQ(save(&f, "99001", "L999", v1, 0, NULL, &err), GU_ENOTFOUND);
    CHECK_EQ(save(&f, "99001", "L0", v1, 0, NULL, &err), GU_ENOTFOUND);
    CHECK_EQ(save(&f, "99001", "12", v1, 0, NULL, &err), GU_ENOTFOUND);
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99001", "L1x", &k, &err), GU_ENOTFOUND);
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99001", "", &k, &err), GU_ENOTFOUND);
    /* A second fiche gets its own id; a failed save writes nothing. */
    CHECK_EQ(save(&f, "99001", NULL, v2, 0, &id2, &err), 0);
    CHECK(id2 && strcmp(id, id2) != 0);
    {
        struct kb_fiche bad;

        memset(&bad, 0, sizeof(bad));
        bad.title = "  ";
        CHECK_EQ(kb_local_save(f.c, f.a, "99001", &bad, "x", 0, "agent", "",
                               NULL, &err),
                 GU_EINVAL);
    }
    CHECK_EQ(audit_count(&f, "99001", "kb.save"), 4);
    CHECK(!store_in_tx(f.c));
    th_fix_close(&f);
}

static void
test_delete(void)
{
    struct th_fix f;
    struct gu_err err;
    struct kb_fiche k, *v = NULL;
    struct kb_version *vs = NULL;
    const char *id = NULL;
    size_t n = 0;

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    CHECK_EQ(save(&f, "99001", NULL, v1, 0, &id, &err), 0);
    CHECK_EQ(kb_view_load(f.c, f.a, "99001", &v, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(kb_local_delete(f.c, "99001", id, "agent", "r", &err), 0);
    CHECK_EQ(audit_count(&f, "99001", "kb.delete"), 1);
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99001", id, &k, &err), GU_ENOTFOUND);
    CHECK_EQ(kb_view_load(f.c, f.a, "99001", &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    /* Versions are kept; the fiche cannot be saved nor deleted again. */
    CHECK_EQ(kb_local_versions(f.c, f.a, "99001", id, &vs, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(save(&f, "99001", id, v2, 1, NULL, &err), GU_ENOTFOUND);
    CHECK_EQ(kb_local_delete(f.c, "99001", id, "agent", "r", &err),
             GU_ENOTFOUND);
    CHECK_EQ(kb_local_delete(f.c, "99001", "F1342", "agent", "r", &err),
             GU_ENOTFOUND);
    CHECK_EQ(audit_count(&f, "99001", "kb.delete"), 1);
    th_fix_close(&f);
}

/* A national fiche with `nsec` sections and one link. */
static int
national(struct th_fix *f, const char *id, const char *title, size_t nsec,
         struct gu_err *err)
{
    struct kb_section secs[8];
    struct kb_link link = {KB_LINK_SERVICE, "Téléservice",
                           "https://www.service-public.fr/x", ""};
    struct kb_fiche k;

    memset(&k, 0, sizeof(k));
    k.id = id;
    k.origin = KB_NATIONAL;
    k.title = title;
    k.description = "Chapeau.";
    k.body = "Corps.";
    k.context = "Papiers > Identité";
    k.source_url = "https://www.service-public.fr/particuliers/vosdroits/F1";
    k.source_date = "2026-01-15";
    for (size_t i = 0; i < nsec && i < 8; i++) {
        secs[i].ord = (int)i;
        secs[i].path = i ? "Cas > Détail" : "";
        secs[i].text = "Texte de section.";
    }
    k.sections = secs;
    k.nsections = nsec;
    k.links = &link;
    k.nlinks = 1;
    return kb_national_upsert(f->c, &k, err);
}

static void
test_view_rules(void)
{
    struct th_fix f;
    struct gu_err err;
    struct kb_fiche *v = NULL, k;
    const struct kb_fiche *hit;
    const char *loc = NULL, *old = NULL;
    size_t n = 0;
    int64_t g1, g2;

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    CHECK_EQ(national(&f, "F1", "Passeport", 3, &err), 0);
    CHECK_EQ(national(&f, "F2", "Carte d'identité", 2, &err), 0);
    CHECK_EQ(national(&f, "F3", "Permis de conduire", 1, &err), 0);
    /* Upsert again with fewer sections: replaced, not added. */
    CHECK_EQ(national(&f, "F1", "Passeport (mis à jour)", 1, &err), 0);
    CHECK_EQ(national(&f, "L12", "Pas national", 1, &err), GU_EINVAL);
    CHECK_EQ(national(&f, "f1; DROP", "X", 1, &err), GU_EINVAL);

    g1 = kb_generation(f.c, "99002");
    CHECK_EQ(kb_national_hide(f.c, "99001", "F1", true, "admin", "r", &err),
             0);
    CHECK_EQ(kb_national_hide(f.c, "99001", "F1", true, "admin", "r", &err),
             0); /* twice is fine */
    CHECK_EQ(kb_national_hide(f.c, "99001", "F404", true, "admin", "r", &err),
             GU_ENOTFOUND);
    CHECK_EQ(audit_count(&f, "99001", "kb.hide"), 2);
    CHECK_EQ(kb_generation(f.c, "99002"), g1);
    /* A local fiche replaces F2; an expired one replaces F3 (no effect). */
    CHECK_EQ(save(&f, "99001", NULL,
                  "---\ntitre: CNI à Saint-Exemple\nremplace: F2\n"
                  "lien: RDV | /rdv?motif=cni\n---\nSur rendez-vous.\n"
                  "## Pièces\nPhoto.\n",
                  0, &loc, &err),
             0);
    CHECK_EQ(save(&f, "99001", NULL,
                  "---\ntitre: Ancienne fiche\nremplace: F3\n"
                  "valide_jusqu_au: 01/01/2020\n---\nPérimée.\n",
                  0, &old, &err),
             0);

    CHECK_EQ(kb_view_load(f.c, f.a, "99001", &v, &n, &err), 0);
    CHECK_EQ(n, 2); /* the local CNI fiche and F3 */
    CHECK(find(v, n, "F1") == NULL);
    CHECK(find(v, n, "F2") == NULL);
    CHECK(find(v, n, old) == NULL);
    hit = find(v, n, loc);
    CHECK(hit != NULL);
    if (hit) {
        CHECK_EQ(hit->origin, KB_LOCAL);
        CHECK_EQ(hit->nsections, 2);
        CHECK_EQ(hit->nlinks, 1);
        CHECK_EQ(hit->links[0].kind, KB_LINK_BOOKING);
        CHECK_STR(hit->sections[1].path, "Pièces");
    }
    hit = find(v, n, "F3");
    CHECK(hit != NULL);
    if (hit) {
        CHECK_EQ(hit->origin, KB_NATIONAL);
        CHECK_STR(hit->insee, "");
        CHECK_STR(hit->source_date, "2026-01-15");
        CHECK_EQ(hit->nsections, 1);
        CHECK_EQ(hit->nlinks, 1);
        CHECK_STR(hit->links[0].url, "https://www.service-public.fr/x");
    }
    /* 99002 hides nothing and has no local fiche: all three. */
    CHECK_EQ(kb_view_load(f.c, f.a, "99002", &v, &n, &err), 0);
    CHECK_EQ(n, 3);
    hit = find(v, n, "F1");
    CHECK(hit && hit->nsections == 1);
    CHECK(hit && strcmp(hit->title, "Passeport (mis à jour)") == 0);
    hit = find(v, n, "F2");
    CHECK(hit && hit->nsections == 2);
    /* kb_fiche_get still shows a hidden fiche, marked. */
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99001", "F1", &k, &err), 0);
    CHECK(k.hidden);
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99002", "F1", &k, &err), 0);
    CHECK(!k.hidden);
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99001", old, &k, &err), 0);
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99001", "F9", &k, &err), GU_ENOTFOUND);
    /* Showing again. */
    CHECK_EQ(kb_national_hide(f.c, "99001", "F1", false, "admin", "r", &err),
             0);
    CHECK_EQ(kb_view_load(f.c, f.a, "99001", &v, &n, &err), 0);
    CHECK(find(v, n, "F1") != NULL);
    /* A national import changes every commune's generation. */
    g1 = kb_generation(f.c, "99001");
    g2 = kb_generation(f.c, "99002");
    CHECK_EQ(national(&f, "F4", "Nouveau", 1, &err), 0);
    CHECK(kb_generation(f.c, "99001") > g1);
    CHECK(kb_generation(f.c, "99002") > g2);
    /* Inside the caller's transaction: rolled back with it. */
    CHECK_EQ(store_begin(f.c, &err), 0);
    CHECK_EQ(national(&f, "F5", "Annulé", 1, &err), 0);
    CHECK(store_in_tx(f.c));
    store_rollback(f.c);
    CHECK_EQ(kb_fiche_get(f.c, f.a, "99002", "F5", &k, &err), GU_ENOTFOUND);
    th_fix_close(&f);
}

static void
test_list(void)
{
    struct th_fix f;
    struct gu_err err;
    struct kb_list_filter flt;
    struct kb_summary *v = NULL;
    size_t n = 0, total = 0;
    const char *loc = NULL;

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    CHECK_EQ(national(&f, "F1", "Passeport", 1, &err), 0);
    CHECK_EQ(national(&f, "F2", "Carte d'identité", 1, &err), 0);
    CHECK_EQ(national(&f, "F3", "Élections", 1, &err), 0);
    CHECK_EQ(save(&f, "99001", NULL,
                  "---\ntitre: Carte d’identité en mairie\nremplace: F2\n"
                  "---\nTexte.\n",
                  0, &loc, &err),
             0);
    CHECK_EQ(save(&f, "99001", NULL,
                  "---\ntitre: Ancienne\nvalide_jusqu_au: 01/01/2020\n---\n",
                  0, NULL, &err),
             0);
    CHECK_EQ(kb_national_hide(f.c, "99001", "F3", true, "admin", "", &err), 0);

    memset(&flt, 0, sizeof(flt));
    flt.origin = -1;
    flt.hidden = -1;
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(total, 5);
    CHECK_EQ(n, 5);
    if (n == 5) {
        /* Locals first, by title. */
        CHECK_STR(v[0].title, "Ancienne");
        CHECK(v[0].expired);
        CHECK_EQ(v[1].origin, KB_LOCAL);
        CHECK_EQ(v[1].version, 1);
        CHECK_EQ(v[2].origin, KB_NATIONAL);
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].id, "F2") == 0)
            CHECK_STR(v[i].replaced_by, loc);
        if (strcmp(v[i].id, "F3") == 0)
            CHECK(v[i].hidden);
        if (strcmp(v[i].id, "F1") == 0)
            CHECK(v[i].replaced_by == NULL && !v[i].hidden);
    }
    /* Search folds case and accents, all words must match. */
    flt.q = "CARTE identite";
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(total, 2);
    flt.q = "elections";
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(total, 1);
    flt.q = "f1";
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(total, 1);
    flt.q = NULL;
    flt.origin = KB_LOCAL;
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(total, 2);
    flt.origin = KB_NATIONAL;
    flt.hidden = 1;
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(total, 1);
    CHECK(n == 1 && strcmp(v[0].id, "F3") == 0);
    flt.hidden = 0;
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(total, 2);
    /* Paging. */
    flt.origin = -1;
    flt.hidden = -1;
    flt.offset = 3;
    flt.limit = 1;
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(total, 5);
    CHECK_EQ(n, 1);
    flt.offset = 10;
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(n, 0);
    /* Another commune: only the national ones, none hidden. */
    CHECK_EQ(kb_list(f.c, f.a, "99002", NULL, &v, &n, &total, &err), 0);
    CHECK_EQ(total, 3);
    th_fix_close(&f);
}

static void
test_synonyms(void)
{
    struct th_fix f;
    struct gu_err err;
    const char *text = NULL;
    bool custom = true;
    int64_t g;

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    CHECK_EQ(kb_synonyms_get(f.c, f.a, "99001", &text, &err), 0);
    CHECK_STR(text, text_default_synonyms);
    CHECK_EQ(kb_synonyms_custom(f.c, "99001", &custom, &err), 0);
    CHECK(!custom);
    g = kb_generation(f.c, "99001");
    CHECK_EQ(kb_synonyms_set(f.c, "99001",
                             "# table de la commune\n"
                             "cni | carte d'identité | carte nationale\n"
                             "plu | plan local d'urbanisme\n",
                             "admin", "r", &err),
             0);
    CHECK(kb_generation(f.c, "99001") > g);
    CHECK_EQ(kb_synonyms_get(f.c, f.a, "99001", &text, &err), 0);
    CHECK_CONTAINS(text, "plan local d'urbanisme");
    CHECK_EQ(kb_synonyms_custom(f.c, "99001", &custom, &err), 0);
    CHECK(custom);
    CHECK_EQ(audit_count(&f, "99001", "kb.synonyms"), 1);
    /* A broken table is refused, in French, naming the line. */
    CHECK_EQ(kb_synonyms_set(f.c, "99001", "cni | carte\nseul\n", "admin", "r",
                             &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 2");
    CHECK_CONTAINS(err.user, "variantes");
    CHECK_EQ(kb_synonyms_set(f.c, "99001", "a | \xC3\x28\n", "admin", "r",
                             &err),
             GU_EINVAL);
    CHECK_EQ(kb_synonyms_get(f.c, f.a, "99001", &text, &err), 0);
    CHECK_CONTAINS(text, "plan local d'urbanisme");
    CHECK_EQ(audit_count(&f, "99001", "kb.synonyms"), 1);
    /* Empty: allowed (no synonyms at all). */
    CHECK_EQ(kb_synonyms_set(f.c, "99001", "", "admin", "r", &err), 0);
    CHECK_EQ(kb_synonyms_get(f.c, f.a, "99001", &text, &err), 0);
    CHECK_STR(text, "");
    /* 99002 untouched. */
    CHECK_EQ(kb_synonyms_get(f.c, f.a, "99002", &text, &err), 0);
    CHECK_STR(text, text_default_synonyms);
    th_fix_close(&f);
}

static bool
is_demo_fiche(const char *path)
{
    size_t n = strlen(path);

    return strncmp(path, "fiches/", 7) == 0 && n > 3 &&
           strcmp(path + n - 3, ".md") == 0;
}

static void
test_demo_load(void)
{
    struct th_fix f;
    struct gu_err err;
    struct kb_summary *v = NULL;
    struct kb_list_filter flt = {.origin = KB_LOCAL, .hidden = -1,
                                 .limit = 500};
    const struct gu_asset *files;
    size_t nfiles = 0, expect = 0, loaded = 99, n = 0, total = 0;
    bool custom = false;

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    files = gu_demo_all(&nfiles);
    for (size_t i = 0; i < nfiles; i++) {
        if (is_demo_fiche(files[i].path))
            expect++;
    }
    gu_err_clear(&err);
    CHECK_EQ(kb_demo_load(f.c, "99001", "cli", &loaded, &err), 0);
    if (err.user[0])
        fprintf(stderr, "  demo: %s\n", err.user);
    CHECK_EQ(loaded, expect);
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(total, expect);
    for (size_t i = 0; i < n; i++)
        CHECK_STR(v[i].updated_by, "cli");
    CHECK_EQ(kb_synonyms_custom(f.c, "99001", &custom, &err), 0);
    CHECK_EQ(custom, gu_demo_find("synonymes.txt") != NULL);
    /* Idempotent. */
    CHECK_EQ(kb_demo_load(f.c, "99001", "cli", &loaded, &err), 0);
    CHECK_EQ(loaded, 0);
    CHECK_EQ(kb_list(f.c, f.a, "99001", &flt, &v, &n, &total, &err), 0);
    CHECK_EQ(total, expect);
    CHECK(!store_in_tx(f.c));
    th_fix_close(&f);
}

static int64_t
cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 5,000 national fiches (8 sections, 1 link each) load well under 1 s. */
static void
test_view_load_time(void)
{
    struct th_fix f;
    struct gu_err err;
    struct kb_fiche *v = NULL;
    size_t n = 0;
    int64_t t0, ms;
    char id[16], title[32];

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    CHECK_EQ(store_begin(f.c, &err), 0);
    for (int i = 1; i <= 5000; i++) {
        snprintf(id, sizeof(id), "F%d", i);
        snprintf(title, sizeof(title), "Fiche %d", i);
        if (national(&f, id, title, 8, &err) < 0) {
            TH_FAIL("upsert %s: %s", id, err.msg);
            break;
        }
    }
    CHECK_EQ(store_commit(f.c, &err), 0);
    /* CPU time, not wall time: tests share a busy machine. */
    t0 = cpu_ms();
    CHECK_EQ(kb_view_load(f.c, f.a, "99001", &v, &n, &err), 0);
    ms = cpu_ms() - t0;
    CHECK_EQ(n, 5000);
    if (n == 5000) {
        const struct kb_fiche *x = find(v, n, "F4321");

        CHECK(x && x->nsections == 8 && x->nlinks == 1);
        CHECK(x && strcmp(x->title, "Fiche 4321") == 0);
    }
    if (ms >= 1000)
        TH_FAIL("kb_view_load of 5000 fiches took %lld ms", (long long)ms);
    th_fix_close(&f);
}

TESTS(T(test_parse_full), T(test_parse_errors), T(test_parse_bounds),
      T(test_html_safety), T(test_save_versions_conflict), T(test_delete),
      T(test_view_rules), T(test_list), T(test_synonyms), T(test_demo_load),
      T(test_view_load_time))
