/*
 * kb.c - the knowledge base in the store: schema, local fiches and their
 * versions, national fiches, what a commune hides, its synonyms, and the
 * generation counter that tells serving nodes to rebuild their index.
 *
 * Every write runs in one transaction with its audit entry and its
 * generation bump. A write opens its own transaction unless the caller
 * already holds one (the importer, kb_demo_load), in which case the caller
 * commits or rolls back.
 */
#include "kb/kb_internal.h"
#include "text/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Schema                                                              */
/* ------------------------------------------------------------------ */

static const char v1_kb[] =
    "CREATE TABLE kb_fiches (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  markdown TEXT NOT NULL,\n"
    "  title TEXT NOT NULL,\n"
    "  alt TEXT NOT NULL DEFAULT '',\n"
    "  description TEXT NOT NULL DEFAULT '',\n"
    "  body TEXT NOT NULL DEFAULT '',\n"
    "  service TEXT NOT NULL DEFAULT '',\n"
    "  tags TEXT NOT NULL DEFAULT '',\n"
    "  replaces TEXT NOT NULL DEFAULT '',\n"
    "  contact TEXT NOT NULL DEFAULT '',\n"
    "  hours TEXT NOT NULL DEFAULT '',\n"
    "  valid_until BIGINT NOT NULL DEFAULT 0,\n"
    "  version INTEGER NOT NULL DEFAULT 1,\n"
    "  archived INTEGER NOT NULL DEFAULT 0,\n"
    "  updated_at BIGINT NOT NULL,\n"
    "  updated_by TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX kb_fiches_insee ON kb_fiches (insee, archived);\n"
    "CREATE TABLE kb_versions (\n"
    "  fiche_id BIGINT NOT NULL REFERENCES kb_fiches(id) ON DELETE CASCADE,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  version INTEGER NOT NULL,\n"
    "  markdown TEXT NOT NULL,\n"
    "  at BIGINT NOT NULL,\n"
    "  actor TEXT NOT NULL DEFAULT '',\n"
    "  PRIMARY KEY (fiche_id, version)\n"
    ");\n"
    "CREATE TABLE kb_sections (\n"
    "  fiche_id BIGINT NOT NULL REFERENCES kb_fiches(id) ON DELETE CASCADE,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  ord INTEGER NOT NULL,\n"
    "  path TEXT NOT NULL DEFAULT '',\n"
    "  body TEXT NOT NULL,\n"
    "  PRIMARY KEY (fiche_id, ord)\n"
    ");\n"
    "CREATE INDEX kb_sections_insee ON kb_sections (insee);\n"
    "CREATE TABLE kb_links (\n"
    "  fiche_id BIGINT NOT NULL REFERENCES kb_fiches(id) ON DELETE CASCADE,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  ord INTEGER NOT NULL,\n"
    "  kind INTEGER NOT NULL,\n"
    "  label TEXT NOT NULL,\n"
    "  url TEXT NOT NULL DEFAULT '',\n"
    "  target TEXT NOT NULL DEFAULT '',\n"
    "  PRIMARY KEY (fiche_id, ord)\n"
    ");\n"
    "CREATE INDEX kb_links_insee ON kb_links (insee);\n"
    /* Shared reference data: no insee. */
    "CREATE TABLE kb_national (\n"
    "  id TEXT PRIMARY KEY,\n"
    "  title TEXT NOT NULL,\n"
    "  alt TEXT NOT NULL DEFAULT '',\n"
    "  description TEXT NOT NULL DEFAULT '',\n"
    "  body TEXT NOT NULL DEFAULT '',\n"
    "  context TEXT NOT NULL DEFAULT '',\n"
    "  source_url TEXT NOT NULL DEFAULT '',\n"
    "  source_date TEXT NOT NULL DEFAULT '',\n"
    "  updated_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE TABLE kb_national_sections (\n"
    "  national_id TEXT NOT NULL REFERENCES kb_national(id)"
    " ON DELETE CASCADE,\n"
    "  ord INTEGER NOT NULL,\n"
    "  path TEXT NOT NULL DEFAULT '',\n"
    "  body TEXT NOT NULL,\n"
    "  PRIMARY KEY (national_id, ord)\n"
    ");\n"
    "CREATE TABLE kb_national_links (\n"
    "  national_id TEXT NOT NULL REFERENCES kb_national(id)"
    " ON DELETE CASCADE,\n"
    "  ord INTEGER NOT NULL,\n"
    "  kind INTEGER NOT NULL,\n"
    "  label TEXT NOT NULL,\n"
    "  url TEXT NOT NULL DEFAULT '',\n"
    "  target TEXT NOT NULL DEFAULT '',\n"
    "  PRIMARY KEY (national_id, ord)\n"
    ");\n"
    /* No foreign key on national_id: a re-import may drop and bring back
     * a fiche, the commune's choice stays. */
    "CREATE TABLE kb_hidden (\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  national_id TEXT NOT NULL,\n"
    "  at BIGINT NOT NULL,\n"
    "  actor TEXT NOT NULL DEFAULT '',\n"
    "  PRIMARY KEY (insee, national_id)\n"
    ");\n"
    "CREATE TABLE kb_synonyms (\n"
    "  insee TEXT PRIMARY KEY REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  body TEXT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL,\n"
    "  updated_by TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    /* One row per commune, and the row '' bumped by national imports. */
    "CREATE TABLE kb_generation (\n"
    "  insee TEXT PRIMARY KEY,\n"
    "  gen BIGINT NOT NULL\n"
    ");\n";

static const struct store_migration migrations[] = {
    {"kb", 1, v1_kb},
};

const struct store_migration *
kb_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(migrations);
    return migrations;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int
oom(struct gu_err *err)
{
    return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
}

static const char *
nz(const char *s)
{
    return s ? s : "";
}

bool
kb_local_id(const char *id, int64_t *out)
{
    long v;

    if (!id || id[0] != 'L' || id[1] < '1' || id[1] > '9')
        return false;
    if (gu_parse_long(id + 1, 1, 1L << 52, &v) < 0)
        return false;
    *out = v;
    return true;
}

int64_t
kb_today(void)
{
    char buf[32];
    int64_t day;

    /* "30/11/2026 23:11" in Paris: its date part is the commune's day. */
    gu_time_fr(gu_now(), buf, sizeof(buf));
    buf[10] = '\0';
    if (gu_date_parse(buf, &day) < 0)
        return gu_now() / 86400;
    return day;
}

static int
tx_open(struct store_conn *c, bool *own, struct gu_err *err)
{
    *own = !store_in_tx(c);
    return *own ? store_begin(c, err) : 0;
}

/* Commit or roll back what tx_open began; returns the final code. */
static int
tx_close(struct store_conn *c, bool own, int rc, struct gu_err *err)
{
    if (!own)
        return rc;
    if (rc == 0)
        rc = store_commit(c, err);
    if (rc < 0)
        store_rollback(c);
    return rc;
}

static int
bump(struct store_conn *c, const char *insee, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee)};

    return store_exec(c,
                      "INSERT INTO kb_generation (insee, gen) VALUES (?, 1) "
                      "ON CONFLICT (insee) DO UPDATE SET "
                      "gen = kb_generation.gen + 1",
                      p, 1, err);
}

static int
not_found(struct gu_err *err, const char *id)
{
    return gu_err_set(err, GU_ENOTFOUND, "id",
                      "Cette fiche n’existe pas (ou plus) dans la base de "
                      "connaissances de la commune.",
                      "fiche %.40s not found", nz(id));
}

static size_t
utf8_chars(const char *s)
{
    size_t k = 0;

    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80)
            k++;
    }
    return k;
}

/* What any fiche must satisfy before it is written. */
static int
check_fiche(const struct kb_fiche *f, struct gu_err *err)
{
    if (!f->title || gu_str_trim(gu_str_c(f->title)).n == 0)
        return gu_err_set(err, GU_EINVAL, "title",
                          "Le titre de la fiche est obligatoire.",
                          "empty title");
    if (utf8_chars(f->title) > KB_TITLE_MAX)
        return gu_err_set(err, GU_EINVAL, "title",
                          "Le titre de la fiche dépasse 300 caractères.",
                          "title too long");
    if (f->nsections > KB_SECTIONS_MAX || f->nlinks > KB_LINKS_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL,
                          "La fiche a trop de sections ou de liens.",
                          "too many sections (%zu) or links (%zu)",
                          f->nsections, f->nlinks);
    if (strlen(nz(f->body)) + strlen(nz(f->description)) > KB_BODY_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL,
                          "La fiche dépasse la taille permise (512 Kio).",
                          "fiche too big");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Local fiches                                                        */
/* ------------------------------------------------------------------ */

static int
write_parts(struct store_conn *c, int64_t fid, const char *insee,
            const struct kb_fiche *f, struct gu_err *err)
{
    struct store_val del[] = {STORE_I(fid)};
    int rc;

    rc = store_exec(c, "DELETE FROM kb_sections WHERE fiche_id = ?", del, 1,
                    err);
    if (rc == 0)
        rc = store_exec(c, "DELETE FROM kb_links WHERE fiche_id = ?", del, 1,
                        err);
    for (size_t i = 0; rc == 0 && i < f->nsections; i++) {
        struct store_val p[] = {STORE_I(fid), STORE_T(insee), STORE_I(i),
                                STORE_T(nz(f->sections[i].path)),
                                STORE_T(nz(f->sections[i].text))};

        rc = store_exec(c,
                        "INSERT INTO kb_sections (fiche_id, insee, ord, path, "
                        "body) VALUES (?, ?, ?, ?, ?)",
                        p, 5, err);
    }
    for (size_t i = 0; rc == 0 && i < f->nlinks; i++) {
        const struct kb_link *l = &f->links[i];
        struct store_val p[] = {STORE_I(fid),        STORE_T(insee),
                                STORE_I(i),          STORE_I(l->kind),
                                STORE_T(nz(l->label)), STORE_T(nz(l->url)),
                                STORE_T(nz(l->target))};

        rc = store_exec(c,
                        "INSERT INTO kb_links (fiche_id, insee, ord, kind, "
                        "label, url, target) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        p, 7, err);
    }
    return rc;
}

int
kb_local_save(struct store_conn *c, struct gu_arena *a, const char *insee,
              const struct kb_fiche *f, const char *markdown,
              int expect_version, const char *actor, const char *request_id,
              const char **id_out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    int64_t fid = 0, now = gu_now();
    int version = 1, rc;
    char target[32], detail[64];
    bool own = false;

    if (!markdown)
        return gu_err_set(err, GU_EINVAL, "markdown",
                          "Le texte de la fiche est vide.", "no markdown");
    if (strlen(markdown) > KB_BODY_MAX)
        return gu_err_set(err, GU_ETOOBIG, "markdown",
                          "La fiche dépasse la taille permise (512 Kio).",
                          "markdown too big");
    if ((rc = check_fiche(f, err)) < 0)
        return rc;
    if (f->id && !kb_local_id(f->id, &fid))
        return not_found(err, f->id);
    if ((rc = tx_open(c, &own, err)) < 0)
        return rc;
    if (f->id) {
        struct store_val p[] = {STORE_I(fid), STORE_T(insee)};

        rc = store_query(c, a,
                         "SELECT version, updated_by FROM kb_fiches "
                         "WHERE id = ? AND insee = ? AND archived = 0",
                         p, 2, &r, err);
        if (rc < 0)
            goto out;
        if (r->nrows == 0) {
            rc = not_found(err, f->id);
            goto out;
        }
        version = (int)store_int(r, 0, 0);
        if (expect_version > 0 && expect_version != version) {
            char msg[256];

            snprintf(msg, sizeof(msg),
                     "Cette fiche a été modifiée par « %.40s » pendant que "
                     "vous l’éditiez (version %d, la vôtre partait de la "
                     "version %d). Rechargez-la et reportez vos "
                     "modifications.",
                     nz(store_text(r, 0, 1)), version, expect_version);
            rc = gu_err_set(err, GU_ECONFLICT, "version", msg,
                            "version %d expected, %d current", expect_version,
                            version);
            goto out;
        }
        version++;
        struct store_val u[] = {
            STORE_T(markdown),          STORE_T(f->title),
            STORE_T(nz(f->alt)),        STORE_T(nz(f->description)),
            STORE_T(nz(f->body)),       STORE_T(nz(f->service)),
            STORE_T(nz(f->tags)),       STORE_T(nz(f->replaces)),
            STORE_T(nz(f->contact)),    STORE_T(nz(f->hours)),
            STORE_I(f->valid_until),    STORE_I(version),
            STORE_I(now),               STORE_T(nz(actor)),
            STORE_I(fid),               STORE_T(insee)};

        rc = store_exec(c,
                        "UPDATE kb_fiches SET markdown = ?, title = ?, "
                        "alt = ?, description = ?, body = ?, service = ?, "
                        "tags = ?, replaces = ?, contact = ?, hours = ?, "
                        "valid_until = ?, version = ?, updated_at = ?, "
                        "updated_by = ? WHERE id = ? AND insee = ?",
                        u, GU_ARRAY_LEN(u), err);
    } else {
        struct store_val p[] = {
            STORE_T(insee),          STORE_T(markdown),
            STORE_T(f->title),       STORE_T(nz(f->alt)),
            STORE_T(nz(f->description)), STORE_T(nz(f->body)),
            STORE_T(nz(f->service)), STORE_T(nz(f->tags)),
            STORE_T(nz(f->replaces)), STORE_T(nz(f->contact)),
            STORE_T(nz(f->hours)),   STORE_I(f->valid_until),
            STORE_I(now),            STORE_T(nz(actor))};

        rc = store_query(c, a,
                         "INSERT INTO kb_fiches (insee, markdown, title, alt, "
                         "description, body, service, tags, replaces, "
                         "contact, hours, valid_until, version, archived, "
                         "updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, "
                         "?, ?, ?, ?, ?, ?, 1, 0, ?, ?) RETURNING id",
                         p, GU_ARRAY_LEN(p), &r, err);
        if (rc == 0 && r->nrows == 1)
            fid = store_int(r, 0, 0);
        else if (rc == 0)
            rc = gu_err_set(err, GU_EDB, NULL, NULL, "no id returned");
    }
    if (rc < 0)
        goto out;
    {
        struct store_val p[] = {STORE_I(fid),     STORE_T(insee),
                                STORE_I(version), STORE_T(markdown),
                                STORE_I(now),     STORE_T(nz(actor))};

        rc = store_exec(c,
                        "INSERT INTO kb_versions (fiche_id, insee, version, "
                        "markdown, at, actor) VALUES (?, ?, ?, ?, ?, ?)",
                        p, 6, err);
    }
    if (rc < 0)
        goto out;
    if ((rc = write_parts(c, fid, insee, f, err)) < 0)
        goto out;
    snprintf(target, sizeof(target), "L%lld", (long long)fid);
    snprintf(detail, sizeof(detail), "version=%d", version);
    rc = store_audit_add(c, insee, nz(actor), "kb.save", target, detail,
                         nz(request_id), err);
    if (rc == 0)
        rc = bump(c, insee, err);
out:
    rc = tx_close(c, own, rc, err);
    if (rc == 0 && id_out) {
        *id_out = gu_arena_strdup(a, target);
        if (!*id_out)
            return oom(err);
    }
    return rc;
}

int
kb_local_delete(struct store_conn *c, const char *insee, const char *id,
                const char *actor, const char *request_id, struct gu_err *err)
{
    int64_t fid, changes = 0;
    bool own = false;
    int rc;

    if (!kb_local_id(id, &fid))
        return not_found(err, id);
    if ((rc = tx_open(c, &own, err)) < 0)
        return rc;
    {
        struct store_val p[] = {STORE_I(gu_now()), STORE_T(nz(actor)),
                                STORE_I(fid), STORE_T(insee)};

        rc = store_exec_changes(c,
                                "UPDATE kb_fiches SET archived = 1, "
                                "updated_at = ?, updated_by = ? WHERE id = ? "
                                "AND insee = ? AND archived = 0",
                                p, 4, &changes, err);
    }
    if (rc == 0 && changes == 0)
        rc = not_found(err, id);
    if (rc == 0)
        rc = store_audit_add(c, insee, nz(actor), "kb.delete", id, "",
                             nz(request_id), err);
    if (rc == 0)
        rc = bump(c, insee, err);
    return tx_close(c, own, rc, err);
}

int
kb_local_versions(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const char *id, struct kb_version **out, size_t *count,
                  struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct kb_version *v;
    int64_t fid;
    int rc;

    *out = NULL;
    *count = 0;
    if (!kb_local_id(id, &fid))
        return not_found(err, id);
    struct store_val p[] = {STORE_I(fid), STORE_T(insee)};
    rc = store_query(c, a,
                     "SELECT version, at, actor, markdown FROM kb_versions "
                     "WHERE fiche_id = ? AND insee = ? ORDER BY version DESC",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return not_found(err, id);
    v = gu_arena_zalloc(a, r->nrows * sizeof(*v));
    if (!v)
        return oom(err);
    for (size_t i = 0; i < r->nrows; i++) {
        v[i].version = (int)store_int(r, i, 0);
        v[i].at = store_int(r, i, 1);
        v[i].by = nz(store_text(r, i, 2));
        v[i].markdown = nz(store_text(r, i, 3));
    }
    *out = v;
    *count = r->nrows;
    return 0;
}

int
kb_local_markdown(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const char *id, const char **md, int *version,
                  struct gu_err *err)
{
    struct store_rows *r = NULL;
    int64_t fid;
    int rc;

    if (!kb_local_id(id, &fid))
        return not_found(err, id);
    struct store_val p[] = {STORE_I(fid), STORE_T(insee)};
    rc = store_query(c, a,
                     "SELECT markdown, version FROM kb_fiches WHERE id = ? "
                     "AND insee = ? AND archived = 0",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return not_found(err, id);
    *md = nz(store_text(r, 0, 0));
    if (version)
        *version = (int)store_int(r, 0, 1);
    return 0;
}

/* ------------------------------------------------------------------ */
/* National fiches                                                     */
/* ------------------------------------------------------------------ */

/* DILA ids: letters then digits ("F1342", "N19810", "R42"). */
static bool
national_id_valid(const char *id)
{
    size_t letters = 0, digits = 0, n;

    if (!id)
        return false;
    n = strlen(id);
    if (n == 0 || n > 16)
        return false;
    while (id[letters] >= 'A' && id[letters] <= 'Z')
        letters++;
    while (id[letters + digits] >= '0' && id[letters + digits] <= '9')
        digits++;
    if (letters < 1 || letters > 3 || digits < 1 || letters + digits != n)
        return false;
    return !(letters == 1 && id[0] == 'L'); /* "L12" is a local fiche */
}

int
kb_national_upsert(struct store_conn *c, const struct kb_fiche *f,
                   struct gu_err *err)
{
    bool own = false;
    int rc;

    if (!national_id_valid(f->id))
        return gu_err_set(err, GU_EINVAL, "id",
                          "Identifiant de fiche service-public invalide.",
                          "bad national id %.40s", nz(f->id));
    if ((rc = check_fiche(f, err)) < 0)
        return rc;
    if ((rc = tx_open(c, &own, err)) < 0)
        return rc;
    {
        struct store_val p[] = {
            STORE_T(f->id),          STORE_T(f->title),
            STORE_T(nz(f->alt)),     STORE_T(nz(f->description)),
            STORE_T(nz(f->body)),    STORE_T(nz(f->context)),
            STORE_T(nz(f->source_url)), STORE_T(nz(f->source_date)),
            STORE_I(f->updated_at > 0 ? f->updated_at : gu_now())};

        rc = store_exec(c,
                        "INSERT INTO kb_national (id, title, alt, "
                        "description, body, context, source_url, "
                        "source_date, updated_at) VALUES (?, ?, ?, ?, ?, ?, "
                        "?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                        "title = excluded.title, alt = excluded.alt, "
                        "description = excluded.description, "
                        "body = excluded.body, context = excluded.context, "
                        "source_url = excluded.source_url, "
                        "source_date = excluded.source_date, "
                        "updated_at = excluded.updated_at",
                        p, GU_ARRAY_LEN(p), err);
    }
    if (rc == 0) {
        struct store_val p[] = {STORE_T(f->id)};

        rc = store_exec(c,
                        "DELETE FROM kb_national_sections WHERE "
                        "national_id = ?",
                        p, 1, err);
        if (rc == 0)
            rc = store_exec(c,
                            "DELETE FROM kb_national_links WHERE "
                            "national_id = ?",
                            p, 1, err);
    }
    for (size_t i = 0; rc == 0 && i < f->nsections; i++) {
        struct store_val p[] = {STORE_T(f->id), STORE_I(i),
                                STORE_T(nz(f->sections[i].path)),
                                STORE_T(nz(f->sections[i].text))};

        rc = store_exec(c,
                        "INSERT INTO kb_national_sections (national_id, ord, "
                        "path, body) VALUES (?, ?, ?, ?)",
                        p, 4, err);
    }
    for (size_t i = 0; rc == 0 && i < f->nlinks; i++) {
        const struct kb_link *l = &f->links[i];
        struct store_val p[] = {STORE_T(f->id),      STORE_I(i),
                                STORE_I(l->kind),    STORE_T(nz(l->label)),
                                STORE_T(nz(l->url)), STORE_T(nz(l->target))};

        rc = store_exec(c,
                        "INSERT INTO kb_national_links (national_id, ord, "
                        "kind, label, url, target) VALUES (?, ?, ?, ?, ?, ?)",
                        p, 6, err);
    }
    if (rc == 0)
        rc = bump(c, "", err);
    return tx_close(c, own, rc, err);
}

int
kb_national_hide(struct store_conn *c, const char *insee, const char *id,
                 bool hidden, const char *actor, const char *request_id,
                 struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(1024);
    struct store_rows *r = NULL;
    bool own = false;
    int rc;

    if (!a)
        return oom(err);
    if (!national_id_valid(id)) {
        rc = not_found(err, id);
        goto done;
    }
    if ((rc = tx_open(c, &own, err)) < 0)
        goto done;
    {
        struct store_val p[] = {STORE_T(id)};

        rc = store_query(c, a, "SELECT 1 FROM kb_national WHERE id = ?", p, 1,
                         &r, err);
        if (rc == 0 && r->nrows == 0)
            rc = not_found(err, id);
    }
    if (rc == 0 && hidden) {
        struct store_val p[] = {STORE_T(insee), STORE_T(id),
                                STORE_I(gu_now()), STORE_T(nz(actor))};

        rc = store_exec(c,
                        "INSERT INTO kb_hidden (insee, national_id, at, "
                        "actor) VALUES (?, ?, ?, ?) ON CONFLICT "
                        "(insee, national_id) DO NOTHING",
                        p, 4, err);
    } else if (rc == 0) {
        struct store_val p[] = {STORE_T(insee), STORE_T(id)};

        rc = store_exec(c,
                        "DELETE FROM kb_hidden WHERE insee = ? AND "
                        "national_id = ?",
                        p, 2, err);
    }
    if (rc == 0)
        rc = store_audit_add(c, insee, nz(actor), "kb.hide", id,
                             hidden ? "hidden=1" : "hidden=0", nz(request_id),
                             err);
    if (rc == 0)
        rc = bump(c, insee, err);
    rc = tx_close(c, own, rc, err);
done:
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

#define LOCAL_COLS                                                         \
    "id, title, alt, description, body, service, tags, replaces, contact, " \
    "hours, valid_until, version, updated_at, updated_by"

static int
local_from_row(struct gu_arena *a, const struct store_rows *r, size_t i,
               const char *insee, struct kb_fiche *f)
{
    memset(f, 0, sizeof(*f));
    f->id = gu_arena_sprintf(a, "L%lld", (long long)store_int(r, i, 0));
    if (!f->id)
        return GU_ENOMEM;
    f->origin = KB_LOCAL;
    snprintf(f->insee, sizeof(f->insee), "%s", insee);
    f->title = nz(store_text(r, i, 1));
    f->alt = nz(store_text(r, i, 2));
    f->description = nz(store_text(r, i, 3));
    f->body = nz(store_text(r, i, 4));
    f->service = nz(store_text(r, i, 5));
    f->tags = nz(store_text(r, i, 6));
    f->replaces = nz(store_text(r, i, 7));
    f->contact = nz(store_text(r, i, 8));
    f->hours = nz(store_text(r, i, 9));
    f->valid_until = store_int(r, i, 10);
    f->version = (int)store_int(r, i, 11);
    f->updated_at = store_int(r, i, 12);
    f->updated_by = nz(store_text(r, i, 13));
    f->context = f->source_url = f->source_date = "";
    return 0;
}

#define NATIONAL_COLS                                                       \
    "id, title, alt, description, body, context, source_url, source_date, " \
    "updated_at"

static void
national_from_row(const struct store_rows *r, size_t i, struct kb_fiche *f)
{
    memset(f, 0, sizeof(*f));
    f->id = nz(store_text(r, i, 0));
    f->origin = KB_NATIONAL;
    f->title = nz(store_text(r, i, 1));
    f->alt = nz(store_text(r, i, 2));
    f->description = nz(store_text(r, i, 3));
    f->body = nz(store_text(r, i, 4));
    f->context = nz(store_text(r, i, 5));
    f->source_url = nz(store_text(r, i, 6));
    f->source_date = nz(store_text(r, i, 7));
    f->updated_at = store_int(r, i, 8);
    f->service = f->tags = f->replaces = f->contact = f->hours = "";
    f->updated_by = "";
}

/* Index of fiche `id` in `v` sorted by id (strcmp); -1 when absent. */
struct by_id {
    const char *id;
    size_t idx;
};

static int
by_id_cmp(const void *x, const void *y)
{
    return strcmp(((const struct by_id *)x)->id, ((const struct by_id *)y)->id);
}

static struct by_id *
by_id_make(struct gu_arena *a, struct kb_fiche *v, size_t n)
{
    struct by_id *k = gu_arena_alloc(a, (n ? n : 1) * sizeof(*k));

    if (!k)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        k[i].id = v[i].id;
        k[i].idx = i;
    }
    qsort(k, n, sizeof(*k), by_id_cmp);
    return k;
}

static long
by_id_find(const struct by_id *k, size_t n, const char *id)
{
    struct by_id key = {id, 0};
    const struct by_id *hit = bsearch(&key, k, n, sizeof(*k), by_id_cmp);

    return hit ? (long)hit->idx : -1;
}

/*
 * Attach sections (cols: owner, ord, path, body) and links (cols: owner,
 * ord, kind, label, url, target) to fiches, rows grouped by owner. The
 * owner column is turned into a fiche id by `local` ("L" + number) or
 * taken as is. Rows of fiches not in `v` are ignored.
 */
static int
attach(struct gu_arena *a, struct kb_fiche *v, size_t n, bool local,
       const struct store_rows *secs, const struct store_rows *links)
{
    struct by_id *k = by_id_make(a, v, n);
    const struct store_rows *rs[2] = {secs, links};

    if (!k)
        return GU_ENOMEM;
    for (int pass = 0; pass < 2; pass++) {
        const struct store_rows *r = rs[pass];
        size_t i = 0;

        if (!r)
            continue;
        while (i < r->nrows) {
            size_t j = i;
            char buf[32];
            const char *owner;
            long idx;

            if (local) {
                snprintf(buf, sizeof(buf), "L%lld",
                         (long long)store_int(r, i, 0));
                owner = buf;
            } else {
                owner = nz(store_text(r, i, 0));
            }
            /* The group of rows of this owner. */
            while (j < r->nrows &&
                   (local ? store_int(r, j, 0) == store_int(r, i, 0)
                          : strcmp(nz(store_text(r, j, 0)), owner) == 0))
                j++;
            idx = by_id_find(k, n, owner);
            if (idx >= 0 && pass == 0) {
                struct kb_section *s = gu_arena_alloc(a, (j - i) * sizeof(*s));

                if (!s)
                    return GU_ENOMEM;
                for (size_t m = i; m < j; m++) {
                    s[m - i].ord = (int)(m - i);
                    s[m - i].path = nz(store_text(r, m, 2));
                    s[m - i].text = nz(store_text(r, m, 3));
                }
                v[idx].sections = s;
                v[idx].nsections = j - i;
            } else if (idx >= 0) {
                struct kb_link *l = gu_arena_alloc(a, (j - i) * sizeof(*l));

                if (!l)
                    return GU_ENOMEM;
                for (size_t m = i; m < j; m++) {
                    l[m - i].kind = (enum kb_link_kind)store_int(r, m, 2);
                    l[m - i].label = nz(store_text(r, m, 3));
                    l[m - i].url = nz(store_text(r, m, 4));
                    l[m - i].target = nz(store_text(r, m, 5));
                }
                v[idx].links = l;
                v[idx].nlinks = j - i;
            }
            i = j;
        }
    }
    return 0;
}

/* Is national id `id` in the comma-separated `list`? */
static bool
in_list(const char *list, const char *id)
{
    size_t n = strlen(id);

    for (const char *p = list; p && *p;) {
        size_t k = strcspn(p, ",");

        if (k == n && memcmp(p, id, n) == 0)
            return true;
        p += k;
        if (*p == ',')
            p++;
    }
    return false;
}

/*
 * Local fiche of `locals` (n) still valid on `today` that replaces
 * national `id`, or NULL.
 */
static const char *
replaced_by(const struct kb_fiche *locals, size_t n, const char *id,
            int64_t today)
{
    for (size_t i = 0; i < n; i++) {
        if (locals[i].valid_until > 0 && locals[i].valid_until < today)
            continue;
        if (in_list(locals[i].replaces, id))
            return locals[i].id;
    }
    return NULL;
}

/* Local fiches not archived; `valid_only` keeps those still valid today. */
static int
load_locals(struct store_conn *c, struct gu_arena *a, const char *insee,
            bool valid_only, struct kb_fiche **out, size_t *count,
            struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct kb_fiche *v;
    int64_t today = kb_today();
    size_t n = 0;
    int rc;
    struct store_val p[] = {STORE_T(insee), STORE_I(valid_only ? 1 : 0),
                            STORE_I(today)};

    rc = store_query(c, a,
                     "SELECT " LOCAL_COLS " FROM kb_fiches WHERE insee = ? "
                     "AND archived = 0 AND (? = 0 OR valid_until = 0 OR "
                     "valid_until >= ?) ORDER BY id",
                     p, 3, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return oom(err);
    for (size_t i = 0; i < r->nrows; i++) {
        if (local_from_row(a, r, i, insee, &v[n]) < 0)
            return oom(err);
        n++;
    }
    *out = v;
    *count = n;
    return 0;
}

int
kb_view_load(struct store_conn *c, struct gu_arena *a, const char *insee,
             struct kb_fiche **out, size_t *count, struct gu_err *err)
{
    struct store_rows *nat = NULL, *secs = NULL, *links = NULL;
    struct kb_fiche *locals = NULL, *v;
    size_t nloc = 0, n = 0;
    int64_t today = kb_today();
    int rc;

    *out = NULL;
    *count = 0;
    rc = load_locals(c, a, insee, true, &locals, &nloc, err);
    if (rc < 0)
        return rc;
    {
        struct store_val p[] = {STORE_T(insee)};

        rc = store_query(c, a,
                         "SELECT fiche_id, ord, path, body FROM kb_sections "
                         "WHERE insee = ? ORDER BY fiche_id, ord",
                         p, 1, &secs, err);
        if (rc == 0)
            rc = store_query(c, a,
                             "SELECT fiche_id, ord, kind, label, url, target "
                             "FROM kb_links WHERE insee = ? "
                             "ORDER BY fiche_id, ord",
                             p, 1, &links, err);
        if (rc == 0)
            rc = store_query(c, a,
                             "SELECT " NATIONAL_COLS " FROM kb_national n "
                             "WHERE NOT EXISTS (SELECT 1 FROM kb_hidden h "
                             "WHERE h.insee = ? AND h.national_id = n.id) "
                             "ORDER BY id",
                             p, 1, &nat, err);
    }
    if (rc < 0)
        return rc;
    if (attach(a, locals, nloc, true, secs, links) < 0)
        return oom(err);
    v = gu_arena_zalloc(a, (nloc + nat->nrows + 1) * sizeof(*v));
    if (!v)
        return oom(err);
    memcpy(v, locals, nloc * sizeof(*v));
    n = nloc;
    for (size_t i = 0; i < nat->nrows; i++) {
        national_from_row(nat, i, &v[n]);
        if (!replaced_by(locals, nloc, v[n].id, today))
            n++;
    }
    if (n > nloc) {
        rc = store_query(c, a,
                         "SELECT national_id, ord, path, body FROM "
                         "kb_national_sections ORDER BY national_id, ord",
                         NULL, 0, &secs, err);
        if (rc == 0)
            rc = store_query(c, a,
                             "SELECT national_id, ord, kind, label, url, "
                             "target FROM kb_national_links "
                             "ORDER BY national_id, ord",
                             NULL, 0, &links, err);
        if (rc < 0)
            return rc;
        if (attach(a, v + nloc, n - nloc, false, secs, links) < 0)
            return oom(err);
    }
    *out = v;
    *count = n;
    return 0;
}

int
kb_fiche_get(struct store_conn *c, struct gu_arena *a, const char *insee,
             const char *id, struct kb_fiche *out, struct gu_err *err)
{
    struct store_rows *r = NULL, *secs = NULL, *links = NULL;
    int64_t fid;
    int rc;

    if (kb_local_id(id, &fid)) {
        struct store_val p[] = {STORE_I(fid), STORE_T(insee)};
        struct store_val q[] = {STORE_I(fid)};

        rc = store_query(c, a,
                         "SELECT " LOCAL_COLS " FROM kb_fiches WHERE id = ? "
                         "AND insee = ? AND archived = 0",
                         p, 2, &r, err);
        if (rc < 0)
            return rc;
        if (r->nrows == 0)
            return not_found(err, id);
        if (local_from_row(a, r, 0, insee, out) < 0)
            return oom(err);
        rc = store_query(c, a,
                         "SELECT fiche_id, ord, path, body FROM kb_sections "
                         "WHERE fiche_id = ? ORDER BY ord",
                         q, 1, &secs, err);
        if (rc == 0)
            rc = store_query(c, a,
                             "SELECT fiche_id, ord, kind, label, url, target "
                             "FROM kb_links WHERE fiche_id = ? ORDER BY ord",
                             q, 1, &links, err);
        if (rc < 0)
            return rc;
        return attach(a, out, 1, true, secs, links) < 0 ? oom(err) : 0;
    }
    if (!national_id_valid(id))
        return not_found(err, id);
    {
        struct store_val p[] = {STORE_T(id)};
        struct store_val h[] = {STORE_T(insee), STORE_T(id)};
        struct store_rows *hid = NULL;

        rc = store_query(c, a,
                         "SELECT " NATIONAL_COLS " FROM kb_national "
                         "WHERE id = ?",
                         p, 1, &r, err);
        if (rc < 0)
            return rc;
        if (r->nrows == 0)
            return not_found(err, id);
        national_from_row(r, 0, out);
        rc = store_query(c, a,
                         "SELECT 1 FROM kb_hidden WHERE insee = ? AND "
                         "national_id = ?",
                         h, 2, &hid, err);
        if (rc == 0)
            rc = store_query(c, a,
                             "SELECT national_id, ord, path, body FROM "
                             "kb_national_sections WHERE national_id = ? "
                             "ORDER BY ord",
                             p, 1, &secs, err);
        if (rc == 0)
            rc = store_query(c, a,
                             "SELECT national_id, ord, kind, label, url, "
                             "target FROM kb_national_links WHERE "
                             "national_id = ? ORDER BY ord",
                             p, 1, &links, err);
        if (rc < 0)
            return rc;
        out->hidden = hid->nrows > 0;
        return attach(a, out, 1, false, secs, links) < 0 ? oom(err) : 0;
    }
}

/* Do all words of the folded query appear in the folded haystack? */
static bool
matches(struct gu_arena *a, const char *q, size_t qn, const char *s)
{
    size_t hn = 0;
    char *h = text_fold(a, s, strlen(s), &hn);

    if (!h)
        return false;
    for (const char *p = q; p < q + qn;) {
        size_t k;
        char word[TEXT_WORD_MAX + 1];

        while (p < q + qn && *p == ' ')
            p++;
        k = strcspn(p, " ");
        if (k == 0)
            break;
        if (k > TEXT_WORD_MAX)
            k = TEXT_WORD_MAX;
        memcpy(word, p, k);
        word[k] = '\0';
        if (!strstr(h, word))
            return false;
        p += strcspn(p, " ");
    }
    return true;
}

static int
summary_cmp(const void *x, const void *y)
{
    const struct kb_summary *a = x, *b = y;

    if (a->origin != b->origin)
        return a->origin == KB_LOCAL ? -1 : 1;
    return strcmp(a->title, b->title);
}

int
kb_list(struct store_conn *c, struct gu_arena *a, const char *insee,
        const struct kb_list_filter *f, struct kb_summary **out,
        size_t *count, size_t *total, struct gu_err *err)
{
    struct kb_list_filter flt = {.origin = -1, .hidden = -1};
    struct store_rows *nat = NULL, *hid = NULL;
    struct kb_fiche *locals = NULL, *all = NULL;
    struct kb_summary *v;
    char *q = NULL;
    size_t qn = 0, nloc = 0, nall = 0, n = 0, limit;
    int64_t today = kb_today();
    int rc;

    if (f)
        flt = *f;
    limit = flt.limit == 0 ? 50 : flt.limit > 500 ? 500 : flt.limit;
    *out = NULL;
    *count = 0;
    *total = 0;
    if (flt.q && flt.q[0]) {
        q = text_fold(a, flt.q, strlen(flt.q), &qn);
        if (!q)
            return oom(err);
    }
    rc = load_locals(c, a, insee, false, &locals, &nloc, err);
    if (rc < 0)
        return rc;
    {
        struct store_val p[] = {STORE_T(insee)};

        if (flt.origin != KB_LOCAL)
            rc = store_query(c, a,
                             "SELECT id, title, context, source_date, "
                             "updated_at FROM kb_national ORDER BY id",
                             NULL, 0, &nat, err);
        if (rc == 0)
            rc = store_query(c, a,
                             "SELECT national_id FROM kb_hidden WHERE "
                             "insee = ? ORDER BY national_id",
                             p, 1, &hid, err);
    }
    if (rc < 0)
        return rc;
    nall = nloc + (nat ? nat->nrows : 0);
    v = gu_arena_zalloc(a, (nall ? nall : 1) * sizeof(*v));
    all = locals;
    if (!v)
        return oom(err);
    for (size_t i = 0; flt.origin != KB_NATIONAL && i < nloc; i++) {
        const struct kb_fiche *l = &all[i];
        struct kb_summary *s = &v[n];

        if (flt.hidden == 1)
            break;
        if (q && !matches(a, q, qn, l->title) && !matches(a, q, qn, l->id))
            continue;
        s->id = l->id;
        s->origin = KB_LOCAL;
        s->title = l->title;
        s->service = l->service;
        s->tags = l->tags;
        s->context = s->source_date = "";
        s->version = l->version;
        s->valid_until = l->valid_until;
        s->expired = l->valid_until > 0 && l->valid_until < today;
        s->updated_at = l->updated_at;
        s->updated_by = l->updated_by;
        n++;
    }
    for (size_t i = 0; nat && i < nat->nrows; i++) {
        struct kb_summary *s = &v[n];
        const char *id = nz(store_text(nat, i, 0));
        bool hidden = false;

        for (size_t j = 0; j < hid->nrows && !hidden; j++)
            hidden = strcmp(nz(store_text(hid, j, 0)), id) == 0;
        if ((flt.hidden == 0 && hidden) || (flt.hidden == 1 && !hidden))
            continue;
        if (q && !matches(a, q, qn, nz(store_text(nat, i, 1))) &&
            !matches(a, q, qn, id))
            continue;
        s->id = id;
        s->origin = KB_NATIONAL;
        s->title = nz(store_text(nat, i, 1));
        s->service = s->tags = s->updated_by = "";
        s->context = nz(store_text(nat, i, 2));
        s->source_date = nz(store_text(nat, i, 3));
        s->updated_at = store_int(nat, i, 4);
        s->hidden = hidden;
        s->replaced_by = replaced_by(locals, nloc, id, today);
        n++;
    }
    qsort(v, n, sizeof(*v), summary_cmp);
    *total = n;
    if (flt.offset >= n) {
        *out = v;
        return 0;
    }
    *out = v + flt.offset;
    *count = n - flt.offset < limit ? n - flt.offset : limit;
    return 0;
}

int64_t
kb_generation(struct store_conn *c, const char *insee)
{
    struct gu_arena *a = gu_arena_new(512);
    struct store_rows *r = NULL;
    struct gu_err err;
    int64_t gen;
    int rc;
    struct store_val p[] = {STORE_T(insee)};

    if (!a)
        return GU_ENOMEM;
    gu_err_clear(&err);
    rc = store_query(c, a,
                     "SELECT COALESCE(SUM(gen), 0) FROM kb_generation "
                     "WHERE insee = ? OR insee = ''",
                     p, 1, &r, &err);
    gen = rc < 0 ? rc : store_int(r, 0, 0);
    gu_arena_free(a);
    return gen;
}

/* ------------------------------------------------------------------ */
/* Synonyms                                                            */
/* ------------------------------------------------------------------ */

int
kb_synonyms_custom(struct store_conn *c, const char *insee, bool *custom,
                   struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(512);
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(insee)};
    int rc;

    if (!a)
        return oom(err);
    rc = store_query(c, a, "SELECT 1 FROM kb_synonyms WHERE insee = ?", p, 1,
                     &r, err);
    if (rc == 0)
        *custom = r->nrows > 0;
    gu_arena_free(a);
    return rc;
}

int
kb_synonyms_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                const char **text, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(insee)};
    int rc;

    rc = store_query(c, a, "SELECT body FROM kb_synonyms WHERE insee = ?", p,
                     1, &r, err);
    if (rc < 0)
        return rc;
    *text = r->nrows ? nz(store_text(r, 0, 0)) : text_default_synonyms;
    return 0;
}

int
kb_synonyms_set(struct store_conn *c, const char *insee, const char *text,
                const char *actor, const char *request_id, struct gu_err *err)
{
    struct text_pipeline *tp = NULL;
    struct gu_err perr;
    char detail[64];
    bool own = false;
    size_t n = text ? strlen(text) : 0;
    int rc;

    if (!text)
        text = "";
    if (n > KB_SYNONYMS_MAX)
        return gu_err_set(err, GU_ETOOBIG, "text",
                          "La table des synonymes dépasse 256 Kio.",
                          "synonyms too big");
    if (!gu_utf8_valid(text, n))
        return gu_err_set(err, GU_EINVAL, "text",
                          "La table des synonymes n’est pas en UTF-8.",
                          "synonyms not utf-8");
    gu_err_clear(&perr);
    rc = text_pipeline_new(text, n, &tp, &perr);
    if (rc < 0) {
        if (rc == GU_ENOMEM)
            return oom(err);
        size_t bad = 0;

        gu_err_set(err, GU_EINVAL, "text", NULL, "synonyms refused: %s",
                   perr.msg);
        /* The pipeline names the line in its log message only. */
        if (sscanf(perr.msg, "synonyms: bad line %zu", &bad) == 1 && bad)
            snprintf(err->user, sizeof(err->user), "Ligne %zu : %.200s", bad,
                     perr.user[0] ? perr.user : "ligne mal formée.");
        else
            snprintf(err->user, sizeof(err->user), "%.220s",
                     perr.user[0] ? perr.user
                                  : "La table des synonymes est mal formée.");
        return GU_EINVAL;
    }
    snprintf(detail, sizeof(detail), "groupes=%zu",
             text_pipeline_synonym_groups(tp));
    text_pipeline_free(tp);
    if ((rc = tx_open(c, &own, err)) < 0)
        return rc;
    {
        struct store_val p[] = {STORE_T(insee), STORE_T(text),
                                STORE_I(gu_now()), STORE_T(nz(actor))};

        rc = store_exec(c,
                        "INSERT INTO kb_synonyms (insee, body, updated_at, "
                        "updated_by) VALUES (?, ?, ?, ?) ON CONFLICT (insee) "
                        "DO UPDATE SET body = excluded.body, "
                        "updated_at = excluded.updated_at, "
                        "updated_by = excluded.updated_by",
                        p, 4, err);
    }
    if (rc == 0)
        rc = store_audit_add(c, insee, nz(actor), "kb.synonyms", insee, detail,
                             nz(request_id), err);
    if (rc == 0)
        rc = bump(c, insee, err);
    return tx_close(c, own, rc, err);
}

/* ------------------------------------------------------------------ */
/* Demo content                                                        */
/* ------------------------------------------------------------------ */

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

int
kb_demo_load(struct store_conn *c, const char *insee, const char *actor,
             size_t *loaded, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(64 * 1024);
    const struct gu_asset *files;
    struct kb_fiche *locals = NULL;
    size_t nfiles = 0, nloc = 0, done = 0;
    bool own = false, custom = false;
    int rc;

    if (loaded)
        *loaded = 0;
    if (!a)
        return oom(err);
    files = gu_demo_all(&nfiles);
    if ((rc = tx_open(c, &own, err)) < 0)
        goto done;
    rc = load_locals(c, a, insee, false, &locals, &nloc, err);
    for (size_t i = 0; rc == 0 && i < nfiles; i++) {
        const struct gu_asset *fa = &files[i];
        struct kb_fiche f;
        bool present = false;
        int line = 0;

        if (strncmp(fa->path, "fiches/", 7) != 0 || !ends_with(fa->path, ".md"))
            continue;
        rc = kb_parse(a, (const char *)fa->data, fa->size, &f, &line, err);
        if (rc < 0) {
            char user[sizeof(err->user)];

            snprintf(user, sizeof(user), "%s", err->user);
            snprintf(err->user, sizeof(err->user), "%.60s : %.180s", fa->path,
                     user);
            gu_log_error("kb.demo_bad_fiche", "file=%s line=%d", fa->path,
                         line);
            break;
        }
        for (size_t j = 0; j < nloc && !present; j++)
            present = strcmp(locals[j].title, f.title) == 0;
        if (present)
            continue;
        rc = kb_local_save(c, a, insee, &f, (const char *)fa->data, 0, actor,
                           "", NULL, err);
        if (rc == 0)
            done++;
        /* Later files with the same title are duplicates too. */
        if (rc == 0)
            rc = load_locals(c, a, insee, false, &locals, &nloc, err);
    }
    if (rc == 0)
        rc = kb_synonyms_custom(c, insee, &custom, err);
    if (rc == 0 && !custom) {
        const struct gu_asset *syn = gu_demo_find("synonymes.txt");

        if (syn)
            rc = kb_synonyms_set(c, insee, (const char *)syn->data, actor, "",
                                 err);
    }
    rc = tx_close(c, own, rc, err);
    if (rc == 0 && loaded)
        *loaded = done;
done:
    gu_arena_free(a);
    return rc;
}
