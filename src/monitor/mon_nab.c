/*
 * mon_nab.c - the offline runner over the Numenta Anomaly Benchmark's
 * layout (see mon_detect.h: mon_nab_run). Reads DATA_DIR/<category>/
 * <file>.csv (timestamp,value with NAB's "YYYY-MM-DD HH:MM:SS" local
 * timestamps), streams each file through a fresh detector state with one
 * shared configuration, and writes OUT_DIR/<name>/<category>/
 * <name>_<file>.csv with timestamp,value,anomaly_score. The score at a
 * row only depends on the rows before it (the detectors are streaming).
 */
#include "monitor/mon_detect.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NAB_LINE_MAX 512
#define NAB_ROWS_MAX 5000000L
#define NAB_FILES_MAX 10000

static int
mkdir_one(const char *path, struct gu_err *err)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    return gu_err_set(err, GU_EIO, "sortie",
                      "Impossible de créer le dossier de résultats.",
                      "mkdir %s: %s", path, strerror(errno));
}

/* "YYYY-MM-DD HH:MM:SS" (optionally ".ffffff") -> t, minute, weekday. */
static int
parse_ts(const char *s, size_t n, struct mon_obs *o)
{
    int y, mo, d, h, mi, se;

    if (n < 19 || s[4] != '-' || s[7] != '-' ||
        (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
        return -1;
    for (int i = 0; i < 19; i++)
        if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 &&
            (s[i] < '0' || s[i] > '9'))
            return -1;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
        (s[3] - '0');
    mo = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    h = (s[11] - '0') * 10 + (s[12] - '0');
    mi = (s[14] - '0') * 10 + (s[15] - '0');
    se = (s[17] - '0') * 10 + (s[18] - '0');
    if (!gu_date_valid(y, mo, d) || h > 23 || mi > 59 || se > 60)
        return -1;
    int64_t day = gu_day_from_ymd(y, mo, d);
    o->t = day * 86400 + h * 3600 + mi * 60 + se;
    o->local_minute = h * 60 + mi;
    o->local_weekday = gu_day_weekday(day) - 1;
    return 0;
}

static int
run_file(const char *in, const char *out, const char *rel,
         const struct mon_params *p, struct gu_err *err)
{
    FILE *f = fopen(in, "r"), *g = NULL;
    struct mon_state *st = NULL;
    char line[NAB_LINE_MAX];
    long lineno = 0;
    int rc = 0;

    if (!f)
        return gu_err_set(err, GU_EIO, "fichier", "Fichier illisible.",
                          "open %s: %s", in, strerror(errno));
    if (!(g = fopen(out, "w"))) {
        rc = gu_err_set(err, GU_EIO, "sortie",
                        "Impossible d'écrire le fichier de résultats.",
                        "open %s: %s", out, strerror(errno));
        goto out;
    }
    st = mon_state_new(p);
    fputs("timestamp,value,anomaly_score\n", g);
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        struct mon_obs o;
        struct mon_verdict vd;
        char *comma, *end;
        char msg[256];

        lineno++;
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            snprintf(msg, sizeof msg, "%.150s, ligne %ld : ligne trop longue.",
                     rel, lineno);
            rc = gu_err_set(err, GU_EINVAL, "fichier", msg, "%s:%ld long", rel,
                            lineno);
            goto out;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (lineno == 1) {
            if (strcmp(line, "timestamp,value") != 0) {
                snprintf(msg, sizeof msg,
                         "%.150s, ligne 1 : l'en-tête doit être "
                         "« timestamp,value ».",
                         rel);
                rc = gu_err_set(err, GU_EINVAL, "fichier", msg,
                                "%s: bad header", rel);
                goto out;
            }
            continue;
        }
        if (n == 0)
            continue;
        if (lineno > NAB_ROWS_MAX) {
            snprintf(msg, sizeof msg, "%.160s : plus de %ld lignes.", rel,
                     NAB_ROWS_MAX);
            rc =
                gu_err_set(err, GU_EINVAL, "fichier", msg, "%s: too many", rel);
            goto out;
        }
        comma = strchr(line, ',');
        memset(&o, 0, sizeof o);
        if (!comma || parse_ts(line, (size_t)(comma - line), &o) < 0) {
            snprintf(msg, sizeof msg,
                     "%.150s, ligne %ld : date illisible "
                     "(attendu « AAAA-MM-JJ HH:MM:SS »).",
                     rel, lineno);
            rc = gu_err_set(err, GU_EINVAL, "fichier", msg, "%s:%ld date", rel,
                            lineno);
            goto out;
        }
        errno = 0;
        o.v = strtod(comma + 1, &end);
        if (end == comma + 1 || *end != '\0' || errno == ERANGE ||
            !isfinite(o.v)) {
            snprintf(msg, sizeof msg,
                     "%.150s, ligne %ld : valeur numérique "
                     "illisible.",
                     rel, lineno);
            rc = gu_err_set(err, GU_EINVAL, "fichier", msg, "%s:%ld value", rel,
                            lineno);
            goto out;
        }
        /* NAB's files repeat timestamps (clock changes, gaps filled by
         * the collector): the row is kept and fed one second after the
         * previous one, as the detectors need increasing times. */
        if (lineno > 2 && o.t <= mon_state_last_t(st))
            o.t = mon_state_last_t(st) + 1;
        if (mon_step(st, p, &o, &vd) < 0) {
            snprintf(msg, sizeof msg,
                     "%.150s, ligne %ld : valeur refusée par "
                     "les détecteurs.",
                     rel, lineno);
            rc = gu_err_set(err, GU_EINVAL, "fichier", msg, "%s:%ld order", rel,
                            lineno);
            goto out;
        }
        fprintf(g, "%.*s,%s,%.6f\n", (int)(comma - line), line, comma + 1,
                vd.score);
    }
    if (ferror(f) || lineno == 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "%.160s : fichier vide ou illisible.", rel);
        rc = gu_err_set(err, GU_EINVAL, "fichier", msg, "%s: empty", rel);
    }
out:
    mon_state_free(st);
    fclose(f);
    if (g && fclose(g) != 0 && rc == 0)
        rc = gu_err_set(err, GU_EIO, "sortie",
                        "Impossible d'écrire le fichier de résultats.",
                        "close %s", out);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of dir's entries ending in suffix ("" = directories). */
static int
list_dir(const char *dir, bool dirs, char ***out, size_t *n, struct gu_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL;
    size_t k = 0;

    *out = NULL;
    *n = 0;
    if (!d)
        return gu_err_set(err, GU_EIO, "donnees",
                          "Dossier de données illisible.", "opendir %s: %s",
                          dir, strerror(errno));
    while ((e = readdir(d))) {
        char path[4096];
        struct stat sb;
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
                (int)sizeof path ||
            stat(path, &sb) != 0)
            continue;
        if (dirs ? !S_ISDIR(sb.st_mode)
                 : (!S_ISREG(sb.st_mode) || len < 5 ||
                    strcmp(e->d_name + len - 4, ".csv") != 0))
            continue;
        if (k >= NAB_FILES_MAX)
            break;
        char **nv = gu_realloc(v, (k + 1) * sizeof *v);
        if (!nv || !(nv[k] = gu_strdup(e->d_name))) {
            v = nv ? nv : v;
            closedir(d);
            for (size_t i = 0; i < k; i++)
                gu_free(v[i]);
            gu_free(v);
            return GU_ENOMEM;
        }
        v = nv;
        k++;
    }
    closedir(d);
    if (k)
        qsort(v, k, sizeof *v, cmp_str);
    *out = v;
    *n = k;
    return 0;
}

static void
free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gu_free(v[i]);
    gu_free(v);
}

int
mon_nab_run_with(const char *data_dir, const char *out_dir, const char *name,
                 const struct mon_params *p, size_t *files, struct gu_err *err)
{
    char **cats = NULL, **csvs = NULL;
    size_t nc = 0, nf = 0;
    char base[4096];
    int rc;

    *files = 0;
    if (!name || !*name || strlen(name) > 64 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_-") != strlen(name))
        return gu_err_set(err, GU_EINVAL, "nom",
                          "Nom de détecteur invalide (lettres, chiffres, _ "
                          "et -).",
                          "bad name");
    if ((rc = list_dir(data_dir, true, &cats, &nc, err)) < 0)
        return rc;
    if ((rc = mkdir_one(out_dir, err)) < 0)
        goto out;
    if (snprintf(base, sizeof base, "%s/%s", out_dir, name) >=
        (int)sizeof base) {
        rc = gu_err_set(err, GU_EINVAL, "sortie", "Chemin trop long.",
                        "path too long");
        goto out;
    }
    if ((rc = mkdir_one(base, err)) < 0)
        goto out;
    for (size_t c = 0; c < nc; c++) {
        char cdir[4096], odir[4096];
        if (snprintf(cdir, sizeof cdir, "%s/%s", data_dir, cats[c]) >=
                (int)sizeof cdir ||
            snprintf(odir, sizeof odir, "%s/%s", base, cats[c]) >=
                (int)sizeof odir) {
            rc = gu_err_set(err, GU_EINVAL, "sortie", "Chemin trop long.",
                            "path too long");
            goto out;
        }
        if ((rc = list_dir(cdir, false, &csvs, &nf, err)) < 0)
            goto out;
        if (nf && (rc = mkdir_one(odir, err)) < 0)
            goto out;
        for (size_t i = 0; i < nf; i++) {
            char in[4096], outp[4096], rel[512];
            if (snprintf(in, sizeof in, "%s/%s", cdir, csvs[i]) >=
                    (int)sizeof in ||
                snprintf(rel, sizeof rel, "%s/%s", cats[c], csvs[i]) >=
                    (int)sizeof rel ||
                snprintf(outp, sizeof outp, "%s/%s_%s", odir, name, csvs[i]) >=
                    (int)sizeof outp) {
                rc = gu_err_set(err, GU_EINVAL, "sortie", "Chemin trop long.",
                                "path too long");
                goto out;
            }
            if ((rc = run_file(in, outp, rel, p, err)) < 0)
                goto out;
            (*files)++;
        }
        free_list(csvs, nf);
        csvs = NULL;
        nf = 0;
    }
    if (*files == 0)
        rc = gu_err_set(err, GU_EINVAL, "donnees",
                        "Aucun fichier CSV trouvé dans DOSSIER/<catégorie>/.",
                        "no csv in %s", data_dir);
out:
    free_list(csvs, nf);
    free_list(cats, nc);
    return rc;
}

int
mon_nab_run(const char *data_dir, const char *out_dir, size_t *files,
            struct gu_err *err)
{
    struct mon_params p;

    mon_params_default(&p);
    return mon_nab_run_with(data_dir, out_dir, "guichet", &p, files, err);
}
