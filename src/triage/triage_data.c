/*
 * triage_data.c - TSV data sets (text, label) and the evaluation of a
 * model on one: accuracy, macro-F1, confusion matrix, expected
 * calibration error and throughput. Used by `guichet triage train|eval`.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "triage/triage.h"

void
triage_set_fini(struct triage_set *set)
{
    if (!set)
        return;
    gu_free(set->text);
    gu_free(set->len);
    gu_free(set->label);
    gu_free(set->buf);
    memset(set, 0, sizeof(*set));
}

static int
bad_line(struct gu_err *err, size_t line, const char *what)
{
    gu_err_set(err, GU_EINVAL, "data", NULL, "tsv line %zu: %s", line, what);
    snprintf(err->user, sizeof(err->user), "Ligne %zu : %s", line, what);
    return GU_EINVAL;
}

/* Split `s` (NUL-terminated line) on tabs into at most cap fields. */
static size_t
split_tabs(char *s, char **f, size_t cap)
{
    size_t n = 0;

    f[n++] = s;
    for (char *p = s; *p; p++) {
        if (*p == '\t') {
            *p = 0;
            if (n == cap)
                return cap + 1;
            f[n++] = p + 1;
        }
    }
    return n;
}

#define COLS_MAX 32

int
triage_set_read(const char *path, struct triage_set *set, struct gu_err *err)
{
    FILE *f;
    struct stat sb;
    size_t got, rows = 0, line = 0, cap;
    char *p, *end, *cols[COLS_MAX + 1];
    int ti = -1, li = -1, rc = 0;
    size_t ncols = 0;

    memset(set, 0, sizeof(*set));
    f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &sb) != 0) {
        gu_err_set(err, GU_EIO, "data", NULL, "open %s: %s", path,
                   strerror(errno));
        snprintf(err->user, sizeof(err->user),
                 "Impossible de lire le fichier « %s ».", path);
        if (f)
            fclose(f);
        return GU_EIO;
    }
    if ((uint64_t)sb.st_size > TRIAGE_TSV_MAX_BYTES) {
        fclose(f);
        gu_err_set(err, GU_ETOOBIG, "data", NULL, "%s too big", path);
        snprintf(err->user, sizeof(err->user),
                 "Fichier trop gros (plus de %u Mo).",
                 TRIAGE_TSV_MAX_BYTES >> 20);
        return GU_ETOOBIG;
    }
    set->buf = gu_malloc((size_t)sb.st_size + 1);
    if (!set->buf) {
        fclose(f);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    }
    got = fread(set->buf, 1, (size_t)sb.st_size, f);
    fclose(f);
    set->buf[got] = 0;
    if (memchr(set->buf, 0, got)) {
        rc = gu_err_set(err, GU_EINVAL, "data",
                        "Le fichier contient un octet nul : ce n'est pas un "
                        "TSV texte.",
                        "NUL byte in %s", path);
        goto fail;
    }
    /* Rows: at most one per newline. */
    cap = 1;
    for (size_t i = 0; i < got; i++)
        cap += set->buf[i] == '\n';
    if (cap > TRIAGE_TSV_MAX_ROWS + 1) {
        rc = gu_err_set(err, GU_ETOOBIG, "data", NULL, "too many rows");
        snprintf(err->user, sizeof(err->user),
                 "Trop de lignes (au plus %u exemples).",
                 TRIAGE_TSV_MAX_ROWS);
        goto fail;
    }
    set->text = gu_malloc(cap * sizeof(char *));
    set->len = gu_malloc(cap * sizeof(size_t));
    set->label = gu_malloc(cap * sizeof(char *));
    if (!set->text || !set->len || !set->label) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
        goto fail;
    }
    p = set->buf;
    end = set->buf + got;
    if (got >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* a BOM from a spreadsheet */
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        line++;
        if (e > p && e[-1] == '\r')
            e[-1] = 0;
        *e = 0;
        char *ln = p;
        p = nl ? nl + 1 : end;
        if (line == 1) {
            ncols = split_tabs(ln, cols, COLS_MAX);
            if (ncols > COLS_MAX) {
                rc = bad_line(err, line, "trop de colonnes dans l'en-tête.");
                goto fail;
            }
            for (size_t c = 0; c < ncols; c++) {
                if (strcmp(cols[c], "text") == 0 && ti < 0)
                    ti = (int)c;
                else if (strcmp(cols[c], "label") == 0 && li < 0)
                    li = (int)c;
            }
            if (ti < 0 || li < 0) {
                rc = bad_line(err, line,
                              "l'en-tête doit nommer les colonnes « text » "
                              "et « label » (séparées par des tabulations).");
                goto fail;
            }
            continue;
        }
        if (*ln == 0)
            continue; /* blank line */
        size_t nf = split_tabs(ln, cols, COLS_MAX);
        if (nf != ncols) {
            char msg[160];
            snprintf(msg, sizeof(msg), "%zu colonne%s au lieu de %zu%s.",
                     nf > COLS_MAX ? (size_t)COLS_MAX + 1 : nf,
                     nf > 1 ? "s" : "", ncols,
                     nf > ncols ? " (une tabulation dans le texte ?)" : "");
            rc = bad_line(err, line, msg);
            goto fail;
        }
        if (*cols[ti] == 0) {
            rc = bad_line(err, line, "texte vide.");
            goto fail;
        }
        if (*cols[li] == 0 || strlen(cols[li]) > TRIAGE_LABEL_MAX) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "étiquette vide ou de plus de %d octets.",
                     TRIAGE_LABEL_MAX);
            rc = bad_line(err, line, msg);
            goto fail;
        }
        set->text[rows] = cols[ti];
        set->len[rows] = strlen(cols[ti]);
        set->label[rows] = cols[li];
        rows++;
    }
    if (ti < 0) {
        rc = bad_line(err, 1, "fichier vide (il faut un en-tête text, label).");
        goto fail;
    }
    set->n = rows;
    return 0;
fail:
    triage_set_fini(set);
    return rc;
}

void
triage_eval_fini(struct triage_eval *ev)
{
    if (!ev)
        return;
    gu_free(ev->conf);
    gu_free(ev->f1);
    memset(ev, 0, sizeof(*ev));
}

/* CPU time of the calling thread: the time one core spent on it. */
static double
thread_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
triage_eval_run(const struct triage_model *m, const struct triage_set *set,
                struct triage_eval *ev, struct gu_err *err)
{
    size_t k = triage_model_nclasses(m);
    struct triage_scratch *s = triage_scratch_new();
    int *pred = gu_malloc((set->n + 1) * sizeof(int));
    double *conf = gu_malloc((set->n + 1) * sizeof(double));
    double bin_n[10] = {0}, bin_p[10] = {0}, bin_ok[10] = {0}, t0, t;
    int rc = 0;

    memset(ev, 0, sizeof(*ev));
    ev->conf = gu_calloc(k * k, sizeof(uint32_t));
    ev->f1 = gu_calloc(k, sizeof(double));
    if (!s || !pred || !conf || !ev->conf || !ev->f1) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
        goto out;
    }
    ev->nclasses = k;
    ev->n = set->n;
    /* Timed passes: predictions only (label, probability, top 3), on
     * one thread, timed by that thread's CPU time — "texts per second on
     * one core" — so that other processes on a shared machine do not
     * count (wall time would). The best of up to five passes (fewer when
     * a pass takes over a second) is reported. Every pass gives the same
     * predictions. */
    for (int pass = 0; pass < 5; pass++) {
        t0 = thread_s();
        for (size_t i = 0; i < set->n; i++) {
            struct triage_result r;
            rc = triage_predict(m, s, set->text[i], set->len[i], 3, 0, &r,
                                NULL);
            if (rc < 0)
                goto out;
            pred[i] = r.id;
            conf[i] = r.p;
        }
        t = thread_s() - t0;
        if (t > 0 && (ev->texts_per_s == 0 ||
                      (double)set->n / t > ev->texts_per_s))
            ev->texts_per_s = (double)set->n / t;
        if (t > 1.0 || set->n == 0)
            break;
    }

    for (size_t i = 0; i < set->n; i++) {
        int y = triage_model_class(m, set->label[i]);
        int b = (int)(conf[i] * 10);
        bool ok = y == pred[i];
        if (b > 9)
            b = 9;
        if (b < 0)
            b = 0;
        bin_n[b] += 1;
        bin_p[b] += conf[i];
        bin_ok[b] += ok;
        if (y < 0) {
            ev->unknown++;
            continue;
        }
        ev->correct += ok;
        ev->conf[(size_t)y * k + (size_t)pred[i]]++;
    }
    ev->accuracy = set->n ? (double)ev->correct / (double)set->n : 0;
    {
        double sum = 0;
        size_t present = 0;
        for (size_t c = 0; c < k; c++) {
            double tp = ev->conf[c * k + c], fp = 0, fn = 0;
            for (size_t j = 0; j < k; j++) {
                if (j == c)
                    continue;
                fn += ev->conf[c * k + j];
                fp += ev->conf[j * k + c];
            }
            ev->f1[c] = tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0;
            /* Macro average over classes seen in the data or predicted. */
            if (tp + fp + fn > 0) {
                sum += ev->f1[c];
                present++;
            }
        }
        ev->macro_f1 = present ? sum / (double)present : 0;
    }
    for (int b = 0; b < 10; b++) {
        if (bin_n[b] > 0)
            ev->ece += fabs(bin_p[b] - bin_ok[b]) / (double)(set->n);
    }
out:
    triage_scratch_free(s);
    gu_free(pred);
    gu_free(conf);
    if (rc < 0)
        triage_eval_fini(ev);
    return rc;
}
