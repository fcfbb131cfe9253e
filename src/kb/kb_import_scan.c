/*
 * kb_import_scan.c - find the fiche files of a service-public import
 * (a folder of .json/.xml fiches, DILA's zip, or one file), parse each one
 * in its own arena and hand the valid ones to a callback. The store side
 * (one transaction per fiche) is kb_import.c.
 *
 * Files are read in name order so that two runs log the same thing. A
 * file that is too big, unreadable, malformed or not a fiche is logged
 * and counted as skipped; it never reaches the callback.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <zip.h>

#include "kb/kb_import.h"

struct scan {
    const char *const *only; /* sorted copy, or NULL */
    size_t nonly;
    kb_sp_fiche_fn fn;
    void *ud;
    size_t done, skipped;
    struct gu_err *err;
};

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);

    return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* Fiche files: *.json or *.xml, not hidden ones (macOS "._F1.xml"...). */
static bool
fiche_file(const char *name)
{
    const char *base = strrchr(name, '/');

    base = base ? base + 1 : name;
    return base[0] != '.' && (has_ext(base, ".json") || has_ext(base, ".xml"));
}

/*
 * False when the file is named after a fiche id ("F1342.json") that the
 * `only` list leaves out: it is not even read. Files named otherwise are
 * read, and their id checked after parsing.
 */
static bool
wanted_name(const struct scan *s, const char *name)
{
    const char *base = strrchr(name, '/');
    char id[24];

    if (!s->only)
        return true;
    base = base ? base + 1 : name;
    size_t n = strcspn(base, ".");
    if (!kb_sp_id_valid(base, n) || n >= sizeof(id))
        return true;
    memcpy(id, base, n);
    id[n] = '\0';
    const char *key = id;
    return bsearch(&key, s->only, s->nonly, sizeof(*s->only), cmp_str) != NULL;
}

static bool
wanted_id(const struct scan *s, const char *id)
{
    return !s->only ||
           bsearch(&id, s->only, s->nonly, sizeof(*s->only), cmp_str) != NULL;
}

static void
skip(struct scan *s, const char *name, const struct gu_err *e)
{
    char q1[256], q2[300];

    s->skipped++;
    gu_log_warn("sp.skip", "file=%s code=%s err=%s",
                gu_logq(q1, sizeof(q1), name), gu_status_name(e->code),
                gu_logq(q2, sizeof(q2), e->msg));
}

/* One file's bytes: parse, filter, hand over. Negative = stop. */
static int
one(struct scan *s, const char *name, const char *buf, size_t n)
{
    struct gu_arena *a = gu_arena_new(64 * 1024);
    struct kb_fiche f;
    struct gu_err e;
    int rc;

    if (!a)
        return gu_err_set(s->err, GU_ENOMEM, NULL, NULL, "scan: no memory");
    gu_err_clear(&e);
    rc = has_ext(name, ".xml") ? kb_sp_parse_xml(a, buf, n, &f, &e)
                               : kb_sp_parse_json(a, buf, n, &f, &e);
    if (rc == GU_ENOMEM) {
        *s->err = e;
    } else if (rc == GU_ENOTFOUND) {
        char q[256];
        gu_log_info("sp.not_a_fiche", "file=%s", gu_logq(q, sizeof(q), name));
        rc = 0;
    } else if (rc < 0) {
        skip(s, name, &e);
        rc = 0;
    } else if (wanted_id(s, f.id)) {
        gu_err_clear(&e);
        rc = s->fn(s->ud, &f, &e);
        if (rc == 0) {
            s->done++;
        } else if (rc == GU_EINVAL || rc == GU_ETOOBIG || rc == GU_ECONFLICT) {
            skip(s, name, &e);
            rc = 0;
        } else {
            *s->err = e;
        }
    }
    gu_arena_free(a);
    return rc;
}

static void
too_big(struct scan *s, const char *name, size_t n)
{
    struct gu_err e;

    gu_err_set(&e, GU_ETOOBIG, NULL, NULL, "file of %zu bytes (max %u)", n,
               KB_SP_FILE_MAX);
    skip(s, name, &e);
}

static int
read_file(const char *path, char **out, size_t *n, struct gu_err *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf;

    *out = NULL;
    if (!f || fstat(fileno(f), &st) != 0) {
        int e = errno;
        if (f)
            fclose(f);
        return gu_err_set(err, GU_EIO, NULL, NULL, "open %.200s: %s", path,
                          strerror(e));
    }
    *n = (size_t)st.st_size;
    if (*n > KB_SP_FILE_MAX) {
        fclose(f);
        return GU_ETOOBIG;
    }
    buf = gu_malloc(*n + 1);
    if (!buf) {
        fclose(f);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "read: no memory");
    }
    size_t got = fread(buf, 1, *n, f);
    fclose(f);
    if (got != *n) {
        gu_free(buf);
        return gu_err_set(err, GU_EIO, NULL, NULL, "short read %.200s", path);
    }
    buf[*n] = '\0';
    *out = buf;
    return 0;
}

static int
one_file(struct scan *s, const char *path)
{
    char *buf;
    size_t n = 0;
    struct gu_err e;
    int rc;

    gu_err_clear(&e);
    rc = read_file(path, &buf, &n, &e);
    if (rc == GU_ETOOBIG) {
        too_big(s, path, n);
        return 0;
    }
    if (rc == GU_ENOMEM) {
        *s->err = e;
        return rc;
    }
    if (rc < 0) {
        skip(s, path, &e);
        return 0;
    }
    rc = one(s, path, buf, n);
    gu_free(buf);
    return rc;
}

static int
scan_dir(struct scan *s, const char *dir)
{
    DIR *dh = opendir(dir);
    char **names = NULL;
    size_t nn = 0, cap = 0;
    int rc = 0;

    if (!dh)
        return gu_err_set(s->err, GU_EIO, "path",
                          "Dossier de fiches illisible.", "opendir %.200s: %s",
                          dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        if (!fiche_file(de->d_name))
            continue;
        if (nn == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            char **nv = gu_realloc(names, ncap * sizeof(*nv));
            if (!nv) {
                rc = GU_ENOMEM;
                break;
            }
            names = nv;
            cap = ncap;
        }
        if (!(names[nn] = gu_strdup(de->d_name))) {
            rc = GU_ENOMEM;
            break;
        }
        nn++;
    }
    closedir(dh);
    if (rc == 0 && nn == 0)
        rc = gu_err_set(s->err, GU_ENOTFOUND, "path",
                        "Aucune fiche (.json ou .xml) dans ce dossier.",
                        "no fiche file in %.200s", dir);
    if (rc == 0)
        qsort(names, nn, sizeof(*names), cmp_str);
    for (size_t i = 0; rc == 0 && i < nn; i++) {
        if (!wanted_name(s, names[i]))
            continue;
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
            (int)sizeof(path)) {
            struct gu_err e;
            gu_err_set(&e, GU_EINVAL, NULL, NULL, "path too long");
            skip(s, names[i], &e);
            continue;
        }
        rc = one_file(s, path);
    }
    for (size_t i = 0; i < nn; i++)
        gu_free(names[i]);
    gu_free(names);
    if (rc == GU_ENOMEM && s->err->code != GU_ENOMEM)
        gu_err_set(s->err, rc, NULL, NULL, "scan: no memory");
    return rc;
}

static int
scan_zip(struct scan *s, const char *path)
{
    int zerr = 0, rc = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    size_t fiches = 0;

    if (!z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        rc = gu_err_set(s->err, GU_EIO, "path", "Archive zip illisible.",
                        "zip %.200s: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    zip_int64_t n = zip_get_num_entries(z, 0);
    /* Entries in name order, like a folder. */
    const char **names = gu_calloc(n > 0 ? (size_t)n : 1, sizeof(*names));
    zip_uint64_t *idx = gu_calloc(n > 0 ? (size_t)n : 1, sizeof(*idx));
    size_t nn = 0;
    if (!names || !idx) {
        rc = gu_err_set(s->err, GU_ENOMEM, NULL, NULL, "zip: no memory");
        goto out;
    }
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
        if (name && fiche_file(name))
            names[nn++] = name;
    }
    qsort(names, nn, sizeof(*names), cmp_str);
    for (size_t i = 0; i < nn; i++)
        idx[i] = (zip_uint64_t)zip_name_locate(z, names[i], 0);
    for (size_t i = 0; rc == 0 && i < nn; i++) {
        zip_stat_t st;
        fiches++;
        if (!wanted_name(s, names[i]))
            continue;
        if (zip_stat_index(z, idx[i], 0, &st) != 0 ||
            !(st.valid & ZIP_STAT_SIZE)) {
            struct gu_err e;
            gu_err_set(&e, GU_EIO, NULL, NULL, "zip stat failed");
            skip(s, names[i], &e);
            continue;
        }
        if (st.size > KB_SP_FILE_MAX) {
            too_big(s, names[i], (size_t)st.size);
            continue;
        }
        /* Never trust the header's size: read at most one byte more. */
        size_t want = (size_t)st.size;
        char *buf = gu_malloc(want + 2);
        zip_file_t *zf = buf ? zip_fopen_index(z, idx[i], 0) : NULL;
        if (!buf) {
            rc = gu_err_set(s->err, GU_ENOMEM, NULL, NULL, "zip: no memory");
            break;
        }
        zip_int64_t got = zf ? zip_fread(zf, buf, want + 1) : -1;
        if (zf)
            zip_fclose(zf);
        if (got < 0 || (size_t)got != want) {
            struct gu_err e;
            gu_err_set(&e, GU_EIO, NULL, NULL, "zip entry unreadable");
            skip(s, names[i], &e);
        } else {
            buf[want] = '\0';
            rc = one(s, names[i], buf, want);
        }
        gu_free(buf);
    }
    if (rc == 0 && fiches == 0)
        rc = gu_err_set(s->err, GU_ENOTFOUND, "path",
                        "Aucune fiche (.json ou .xml) dans cette archive.",
                        "no fiche file in %.200s", path);
out:
    gu_free(names);
    gu_free(idx);
    zip_discard(z);
    return rc;
}

int
kb_sp_scan(const char *path, const char *const *only, size_t nonly,
           kb_sp_fiche_fn fn, void *ud, size_t *done, size_t *skipped,
           struct gu_err *err)
{
    struct scan s = {.fn = fn, .ud = ud, .err = err};
    const char **sorted = NULL;
    struct stat st;
    int rc;

    *done = *skipped = 0;
    if (stat(path, &st) != 0)
        return gu_err_set(err, GU_ENOTFOUND, "path", "Chemin introuvable.",
                          "stat %.200s: %s", path, strerror(errno));
    if (only) {
        sorted = gu_malloc((nonly ? nonly : 1) * sizeof(*sorted));
        if (!sorted)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "scan: no memory");
        memcpy(sorted, only, nonly * sizeof(*sorted));
        qsort(sorted, nonly, sizeof(*sorted), cmp_str);
        s.only = sorted;
        s.nonly = nonly;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = scan_dir(&s, path);
    } else if (has_ext(path, ".zip")) {
        rc = scan_zip(&s, path);
    } else if (fiche_file(path)) {
        rc = one_file(&s, path);
    } else {
        rc = gu_err_set(err, GU_EINVAL, "path",
                        "Donnez un dossier de fiches, une archive .zip ou "
                        "une fiche .json ou .xml.",
                        "not a folder, zip or fiche: %.200s", path);
    }
    gu_free(sorted);
    *done = s.done;
    *skipped = s.skipped;
    return rc;
}
