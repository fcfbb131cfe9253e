/*
 * fc_csv.c - CSV files as agents have them, into series (fc_store.h).
 *
 * Two steps: fc_csv_parse() is pure (bytes -> rows, every check with the
 * line number), so the fuzz target drives it without a store;
 * fc_csv_import() writes the rows of a parsed file in one transaction.
 *
 * Why by hand rather than a CSV library: the French conventions (';'
 * with decimal commas, dd/mm/yyyy, Windows-1252 from Excel) and errors
 * naming the line are the whole job, and the format is small.
 */
#include "forecast/fc_store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64

struct field {
    const char *p;
    size_t n;
};

/* Unicode code points of Windows-1252 bytes 0x80..0x9F (0 = undefined). */
static const unsigned short cp1252_hi[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static size_t
put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

/* Windows-1252 to UTF-8 in the arena; undefined bytes become U+FFFD. */
static char *
from_cp1252(struct gu_arena *a, const char *s, size_t n, size_t *out_n)
{
    char *o = gu_arena_alloc(a, n * 3 + 1);
    size_t k = 0;

    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        unsigned cp = b;
        if (b >= 0x80 && b < 0xA0)
            cp = cp1252_hi[b - 0x80] ? cp1252_hi[b - 0x80] : 0xFFFD;
        k += put_utf8(o + k, cp);
    }
    o[k] = '\0';
    *out_n = k;
    return o;
}

static int
line_err(struct gu_err *err, int code, unsigned line, const char *fmt, ...)
    GU_PRINTF(4, 5);

static int
line_err(struct gu_err *err, int code, unsigned line, const char *fmt, ...)
{
    char msg[200];
    char user[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(user, sizeof(user), "Ligne %u : %s", line, msg);
    return gu_err_set(err, code, "fichier", user, "csv line %u", line);
}

/* Quote a field for a message: at most 40 bytes, cut on a UTF-8 boundary. */
static const char *
shown(struct field f, char *buf, size_t cap)
{
    size_t n = f.n < 40 ? f.n : 40;

    while (n > 0 && n < f.n && ((unsigned char)f.p[n] & 0xC0) == 0x80)
        n--;
    snprintf(buf, cap, "%.*s%s", (int)n, f.p, n < f.n ? "…" : "");
    return buf;
}

/*
 * Read one record from [*pp, end): fields split on sep, "quoted" fields
 * (with "" for a quote, and line breaks inside). *lines gets the number
 * of physical lines consumed. Quoted fields with "" are unescaped into the
 * arena. Returns the number of fields, or -1 on too many fields, -2 on an
 * unterminated quote, -3 on no memory.
 */
static int
read_record(const char **pp, const char *end, char sep, struct gu_arena *a,
            struct field *f, unsigned *lines)
{
    const char *p = *pp;
    int nf = 0;

    *lines = 1;
    for (;;) {
        struct field cur = {p, 0};
        if (nf == MAX_FIELDS)
            return -1;
        if (p < end && *p == '"') {
            bool escaped = false;
            const char *q = ++p;
            for (;;) {
                if (q >= end)
                    return -2;
                if (*q == '"') {
                    if (q + 1 < end && q[1] == '"') {
                        escaped = true;
                        q += 2;
                        continue;
                    }
                    break;
                }
                if (*q == '\n')
                    (*lines)++;
                q++;
            }
            cur.p = p;
            cur.n = (size_t)(q - p);
            if (escaped) {
                char *o = gu_arena_alloc(a, cur.n + 1);
                size_t k = 0;
                if (!o)
                    return -3;
                for (size_t i = 0; i < cur.n; i++) {
                    o[k++] = p[i];
                    if (p[i] == '"')
                        i++;
                }
                cur.p = o;
                cur.n = k;
            }
            p = q + 1;
            /* Anything after the closing quote up to the separator is
               kept out (spaces, mostly). */
            while (p < end && *p != sep && *p != '\n' && *p != '\r')
                p++;
        } else {
            while (p < end && *p != sep && *p != '\n' && *p != '\r')
                p++;
            cur.n = (size_t)(p - cur.p);
        }
        f[nf++] = cur;
        if (p < end && *p == sep) {
            p++;
            continue;
        }
        break;
    }
    if (p < end && *p == '\r')
        p++;
    if (p < end && *p == '\n')
        p++;
    *pp = p;
    return nf;
}

/*
 * A field, trimmed; the usual markers of a missing value (NA, N/A, ND,
 * #N/A, NaN, "-", null) read as empty, as R, Excel and agents write them.
 */
static struct field
trim(struct field f)
{
    static const char *const missing[] = {"NA", "N/A", "ND", "#N/A", "NaN",
                                          "-", "null", "NULL"};
    struct gu_str s = gu_str_trim((struct gu_str){f.p, f.n});

    for (size_t i = 0; i < GU_ARRAY_LEN(missing); i++)
        if (s.n == strlen(missing[i]) && memcmp(s.p, missing[i], s.n) == 0)
            return (struct field){s.p, 0};
    return (struct field){s.p, s.n};
}

/* Lower-case ASCII name with accents folded and '_' ' ' as '-'. */
static void
col_name(struct field f, char *buf, size_t cap)
{
    char tmp[128];

    snprintf(tmp, sizeof(tmp), "%.*s", (int)(f.n < 120 ? f.n : 120), f.p);
    fc_slug(tmp, buf, cap);
}

static bool
name_in(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return true;
    return false;
}

static const char *const date_names[] = {
    "date", "jour", "day", "horodatage", "datetime", "date-heure",
    "timestamp", "periode", "date-releve", NULL};
static const char *const value_names[] = {
    "valeur", "value", "reel", "realise", "nombre", "quantite", "volume",
    "repas", "visites", "appels", "total", "count", "consommation", "mesure",
    NULL};
static const char *const staff_names[] = {"prevision", "prevu", "forecast",
                                          "previsionnel", NULL};
static const char *const site_names[] = {"site", "site-nom", "nom-site",
                                         "cantine", "lieu", "restaurant",
                                         NULL};
static const char *const site_type_names[] = {"site-type", "type-site",
                                              NULL};

/*
 * A number as agents write it: "12", "-3", "12.5", "12,5" (when ',' is
 * not the separator or the field was quoted), thousands separated by
 * spaces or no-break spaces ("1 234,5"). No exponent, no NaN, no inf.
 */
static int
parse_number(struct field f, double *out)
{
    char buf[64];
    size_t k = 0;
    bool digits = false, dot = false;
    double v = 0, scale = 1;
    bool neg = false;

    for (size_t i = 0; i < f.n; i++) {
        unsigned char ch = (unsigned char)f.p[i];
        if (ch == ' ' || ch == '\t')
            continue;
        if (ch == 0xC2 && i + 1 < f.n && (unsigned char)f.p[i + 1] == 0xA0) {
            i++;
            continue;
        }
        if (ch == 0xE2 && i + 2 < f.n && (unsigned char)f.p[i + 1] == 0x80 &&
            (unsigned char)f.p[i + 2] == 0xAF) {
            i += 2;
            continue;
        }
        if (k + 1 >= sizeof(buf))
            return GU_EINVAL;
        buf[k++] = (char)ch;
    }
    buf[k] = '\0';
    for (size_t i = 0; i < k; i++) {
        char ch = buf[i];
        if (i == 0 && (ch == '-' || ch == '+')) {
            neg = ch == '-';
        } else if (ch >= '0' && ch <= '9') {
            digits = true;
            if (dot) {
                scale /= 10;
                v += (ch - '0') * scale;
            } else {
                v = v * 10 + (ch - '0');
            }
        } else if ((ch == '.' || ch == ',') && !dot) {
            dot = true;
        } else {
            return GU_EINVAL;
        }
    }
    if (!digits || !isfinite(v) || v > FC_VALUE_MAX)
        return GU_EINVAL;
    *out = neg ? -v : v;
    return 0;
}

/*
 * A date or date-time for the frequency. Daily: "2016-09-01",
 * "01/09/2016" (also with a midnight time, as spreadsheets export).
 * Hourly and 15-minute: ISO date-times (space or T, optional seconds and
 * offset) or "01/09/2016 08:00"; a bare date is midnight.
 */
static int
parse_when(struct field f, enum fc_freq freq, enum gu_tz tz, int64_t *t,
           bool *misaligned)
{
    char buf[48], iso[64];
    const char *time = NULL;
    int64_t day = 0;
    int minute = 0;

    *misaligned = false;
    if (f.n == 0 || f.n >= sizeof(buf))
        return GU_EINVAL;
    memcpy(buf, f.p, f.n);
    buf[f.n] = '\0';
    if (f.n > 10 && (buf[10] == ' ' || buf[10] == 'T')) {
        time = buf + 11;
        buf[10] = '\0';
    }
    if (gu_date_parse(buf, &day) < 0)
        return GU_EINVAL;
    if (freq == FC_FREQ_DAY) {
        if (time && strcmp(time, "00:00") != 0 &&
            strcmp(time, "00:00:00") != 0)
            return GU_EINVAL;
        *t = day;
        return 0;
    }
    if (time) {
        char d[12];
        gu_day_iso(day, d, sizeof(d));
        snprintf(iso, sizeof(iso), "%sT%s", d, time);
        if (gu_tz_parse(tz, iso, &day, &minute) < 0)
            return GU_EINVAL;
    }
    *t = gu_tz_to_utc(tz, day, minute);
    if (*t % fc_freq_seconds(freq) != 0)
        *misaligned = true;
    return 0;
}

int
fc_time_parse(const char *s, enum fc_freq freq, enum gu_tz tz,
              const char *field, int64_t *t, struct gu_err *err)
{
    struct field f = {s ? s : "", s ? strlen(s) : 0};
    bool mis = false;

    f = trim(f);
    if (parse_when(f, freq, tz, t, &mis) < 0)
        return gu_err_set(err, GU_EINVAL, field,
                          freq == FC_FREQ_DAY
                              ? "Date invalide (attendu aaaa-mm-jj ou "
                                "jj/mm/aaaa)."
                              : "Date et heure invalides (attendu "
                                "aaaa-mm-jjThh:mm).",
                          "bad time in %s", field);
    if (mis)
        return gu_err_set(err, GU_EINVAL, field,
                          freq == FC_FREQ_HOUR
                              ? "L'heure doit être une heure pleine."
                              : "L'heure doit tomber sur un quart d'heure.",
                          "misaligned time in %s", field);
    return 0;
}

void
fc_time_format(int64_t t, enum fc_freq freq, enum gu_tz tz, char *buf,
               size_t cap)
{
    int64_t day;
    int minute;

    if (freq == FC_FREQ_DAY) {
        gu_day_iso(t, buf, cap);
        return;
    }
    gu_tz_from_utc(tz, t, &day, &minute);
    gu_tz_iso(tz, day, minute, buf, cap);
}

/* Does the field look like a date (for header detection)? */
static bool
looks_like_date(struct field f)
{
    int64_t t;
    bool mis;

    return parse_when(f, FC_FREQ_15MIN, GU_TZ_PARIS, &t, &mis) == 0;
}

struct cols {
    int date, value, staff, site, site_type;
    size_t need; /* fields a row must have */
};

static int
map_header(const struct field *f, int nf, struct cols *c, struct gu_err *err)
{
    char name[80];

    c->date = c->value = c->staff = c->site = c->site_type = -1;
    for (int i = 0; i < nf; i++) {
        col_name(trim(f[i]), name, sizeof(name));
        if (c->date < 0 && name_in(name, date_names))
            c->date = i;
        else if (c->value < 0 && name_in(name, value_names))
            c->value = i;
        else if (c->staff < 0 && name_in(name, staff_names))
            c->staff = i;
        else if (c->site < 0 && name_in(name, site_names))
            c->site = i;
        else if (c->site_type < 0 && name_in(name, site_type_names))
            c->site_type = i;
    }
    if (c->date < 0)
        return line_err(err, GU_EINVAL, 1,
                        "aucune colonne de date (nommez-la « date »).");
    if (c->value < 0) {
        /* Two columns: the other one is the value whatever its name. */
        if (nf == 2)
            c->value = 1 - c->date;
        else
            return line_err(err, GU_EINVAL, 1,
                            "aucune colonne de valeur (nommez-la « valeur » "
                            "ou « reel »).");
    }
    if (c->site < 0)
        c->site_type = -1;
    return 0;
}

static size_t
max_col(const struct cols *c)
{
    int m = c->date;

    if (c->value > m)
        m = c->value;
    if (c->staff > m)
        m = c->staff;
    if (c->site > m)
        m = c->site;
    if (c->site_type > m)
        m = c->site_type;
    return (size_t)m + 1;
}

/* Rows ordered by site, then t, then line (duplicates side by side). */
static int
cmp_row(const void *x, const void *y)
{
    const struct fc_csv_row *a = *(const struct fc_csv_row *const *)x;
    const struct fc_csv_row *b = *(const struct fc_csv_row *const *)y;
    int s = strcmp(a->site, b->site);

    if (s)
        return s;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

static void
when_text(int64_t t, enum fc_freq freq, enum gu_tz tz, char *buf, size_t cap)
{
    fc_time_format(t, freq, tz, buf, cap);
}

static int
check_duplicates(struct fc_csv *out, enum fc_freq freq, enum gu_tz tz,
                 struct gu_arena *a, struct gu_err *err)
{
    const struct fc_csv_row **v;

    if (out->n < 2)
        return 0;
    v = gu_arena_alloc(a, out->n * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < out->n; i++)
        v[i] = &out->rows[i];
    qsort(v, out->n, sizeof(*v), cmp_row);
    for (size_t i = 1; i < out->n; i++)
        if (v[i]->t == v[i - 1]->t && strcmp(v[i]->site, v[i - 1]->site) == 0) {
            char w[40], sb[48];
            when_text(v[i]->t, freq, tz, w, sizeof(w));
            if (v[i]->site[0]) {
                struct field sf = {v[i]->site, strlen(v[i]->site)};
                return line_err(err, GU_EINVAL, v[i]->line,
                                "%s en double pour le site « %s » (déjà "
                                "ligne %u).",
                                w, shown(sf, sb, sizeof(sb)), v[i - 1]->line);
            }
            return line_err(err, GU_EINVAL, v[i]->line,
                            "%s en double (déjà ligne %u).", w,
                            v[i - 1]->line);
        }
    return 0;
}

int
fc_csv_parse(const char *data, size_t n, enum fc_freq freq, enum gu_tz tz,
             struct gu_arena *a, struct fc_csv *out, struct gu_err *err)
{
    struct field f[MAX_FIELDS];
    const char *p, *end;
    struct cols cols;
    size_t lines = 0, cap;
    unsigned line = 1, used;
    bool first = true;
    char shown_buf[64];
    int nf;

    gu_err_clear(err);
    memset(out, 0, sizeof(*out));
    if (n > FC_CSV_MAX_BYTES)
        return gu_err_set(err, GU_ETOOBIG, "fichier",
                          "Fichier trop gros (64 Mo au plus).",
                          "csv too big: %zu bytes", n);
    if (n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        n -= 3;
    }
    if (memchr(data, '\0', n))
        return gu_err_set(err, GU_EINVAL, "fichier",
                          "Ce fichier n'est pas un fichier texte CSV.",
                          "NUL byte in csv");
    if (!gu_utf8_valid(data, n)) {
        data = from_cp1252(a, data, n, &n);
        if (!data)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        out->cp1252 = true;
    }
    end = data + n;
    /* Line ends as the reader sees them: "\n", "\r\n" and a lone "\r"
       (old Mac exports); rows can never outnumber them. */
    for (p = data; p < end; p++)
        if (*p == '\n' || (*p == '\r' && (p + 1 >= end || p[1] != '\n')))
            lines++;
    if (lines > FC_CSV_MAX_ROWS + 1)
        return gu_err_set(err, GU_ETOOBIG, "fichier",
                          "Trop de lignes (2 millions au plus).",
                          "csv too many lines");
    cap = lines + 1;
    out->rows = gu_arena_alloc(a, cap * sizeof(*out->rows));
    if (!out->rows)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    memset(&cols, 0, sizeof(cols));
    for (p = data; p < end; line += used) {
        const char *start = p;
        struct fc_csv_row *row;
        struct field fd, fv;
        bool mis;

        /* Blank lines are ignored. */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end && (*p == '\n' || *p == '\r')) {
            if (*p == '\r' && p + 1 < end && p[1] == '\n')
                p++;
            p++;
            used = 1;
            continue;
        }
        if (p >= end)
            break;
        p = start;
        if (first) {
            /* The separator: ';' wins (then ',' is the decimal mark),
               then a tab, else ','. Counted outside quotes. */
            size_t semi = 0, tab = 0;
            bool q = false;
            for (const char *s = p; s < end && (q || *s != '\n'); s++) {
                if (*s == '"')
                    q = !q;
                else if (!q && *s == ';')
                    semi++;
                else if (!q && *s == '\t')
                    tab++;
            }
            out->sep = semi ? ';' : tab ? '\t' : ',';
        }
        nf = read_record(&p, end, out->sep, a, f, &used);
        if (nf == -1)
            return line_err(err, GU_EINVAL, line,
                            "trop de colonnes (64 au plus).");
        if (nf == -2)
            return line_err(err, GU_EINVAL, line,
                            "guillemet ouvrant sans guillemet fermant.");
        if (nf < 0)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        if (first) {
            first = false;
            if (!looks_like_date(trim(f[0])) &&
                !(nf > 1 && looks_like_date(trim(f[1])))) {
                int rc = map_header(f, nf, &cols, err);
                if (rc < 0)
                    return rc;
                out->header = true;
                cols.need = max_col(&cols);
                out->has_site = cols.site >= 0;
                out->has_staff = cols.staff >= 0;
                continue;
            }
            /* No header: date, value[, forecast]. */
            cols.date = 0;
            cols.value = 1;
            cols.staff = nf >= 3 ? 2 : -1;
            cols.site = cols.site_type = -1;
            cols.need = 2;
            out->has_staff = cols.staff >= 0;
        }
        if ((size_t)nf < cols.need)
            return line_err(err, GU_EINVAL, line,
                            "%zu colonnes attendues, %d trouvée%s "
                            "(séparateur « %c »).",
                            cols.need, nf, nf > 1 ? "s" : "",
                            out->sep == '\t' ? ' ' : out->sep);
        if (out->n + out->skipped >= FC_CSV_MAX_ROWS)
            return gu_err_set(err, GU_ETOOBIG, "fichier",
                              "Trop de lignes (2 millions au plus).",
                              "csv too many rows");
        fd = trim(f[cols.date]);
        fv = trim(f[cols.value]);
        row = &out->rows[out->n];
        if (fd.n == 0)
            return line_err(err, GU_EINVAL, line, "date manquante.");
        if (parse_when(fd, freq, tz, &row->t, &mis) < 0)
            return line_err(err, GU_EINVAL, line,
                            freq == FC_FREQ_DAY
                                ? "date « %s » invalide (attendu "
                                  "jj/mm/aaaa ou aaaa-mm-jj)."
                                : "date « %s » invalide (attendu "
                                  "aaaa-mm-jj hh:mm ou jj/mm/aaaa hh:mm).",
                            shown(fd, shown_buf, sizeof(shown_buf)));
        if (mis)
            return line_err(err, GU_EINVAL, line,
                            "l'heure de « %s » ne tombe pas sur %s.",
                            shown(fd, shown_buf, sizeof(shown_buf)),
                            freq == FC_FREQ_HOUR ? "une heure pleine"
                                                 : "un quart d'heure");
        if (row->t < -25567 * (freq == FC_FREQ_DAY ? 1 : 86400LL) ||
            row->t > 84000 * (freq == FC_FREQ_DAY ? 1 : 86400LL))
            return line_err(err, GU_EINVAL, line,
                            "date hors de 1900-2199.");
        if (fv.n == 0) {
            out->skipped++;
            continue;
        }
        if (parse_number(fv, &row->value) < 0)
            return line_err(err, GU_EINVAL, line,
                            "valeur « %s » invalide : un nombre est attendu "
                            "(ex. 12,5).",
                            shown(fv, shown_buf, sizeof(shown_buf)));
        row->staff = NAN;
        if (cols.staff >= 0) {
            struct field fs = trim(f[cols.staff]);
            if (fs.n && parse_number(fs, &row->staff) < 0)
                return line_err(err, GU_EINVAL, line,
                                "prévision « %s » invalide : un nombre est "
                                "attendu.",
                                shown(fs, shown_buf, sizeof(shown_buf)));
        }
        row->site = "";
        if (cols.site >= 0) {
            struct field fs = trim(f[cols.site]);
            struct field ft = cols.site_type >= 0 ? trim(f[cols.site_type])
                                                  : (struct field){"", 0};
            if (fs.n == 0)
                return line_err(err, GU_EINVAL, line, "site manquant.");
            if (fs.n + ft.n > FC_NAME_MAX - 8)
                return line_err(err, GU_EINVAL, line,
                                "nom de site trop long (%d caractères au "
                                "plus).",
                                FC_NAME_MAX - 8);
            row->site = ft.n ? gu_arena_sprintf(a, "%.*s (%.*s)", (int)fs.n,
                                                fs.p, (int)ft.n, ft.p)
                             : gu_arena_strndup(a, fs.p, fs.n);
            if (!row->site)
                return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            for (const char *s = row->site; *s; s++)
                if ((unsigned char)*s < 0x20)
                    return line_err(err, GU_EINVAL, line,
                                    "nom de site invalide.");
        }
        /* The autumn hour that happens twice (02:00-02:59 on the last
           Sunday of October in Paris): a local time there is read as its
           first occurrence, so when the file, in time order, comes back
           to it, the second pass is the later instant. */
        if (freq != FC_FREQ_DAY && out->n > 0 &&
            strcmp(out->rows[out->n - 1].site, row->site) == 0 &&
            out->rows[out->n - 1].t >= row->t) {
            int64_t d1, d2;
            int m1, m2;
            gu_tz_from_utc(tz, row->t, &d1, &m1);
            gu_tz_from_utc(tz, row->t + 3600, &d2, &m2);
            if (d1 == d2 && m1 == m2)
                row->t += 3600;
        }
        row->line = line;
        out->n++;
    }
    if (out->n == 0)
        return gu_err_set(err, GU_EINVAL, "fichier",
                          out->skipped ? "Aucune valeur dans le fichier : "
                                         "toutes les lignes sont vides."
                                       : "Le fichier ne contient aucune "
                                         "ligne de données.",
                          "csv without data");
    return check_duplicates(out, freq, tz, a, err);
}

/* ------------------------------------------------------------------ */
/* Import                                                              */
/* ------------------------------------------------------------------ */

/* Cut s to at most max bytes on a UTF-8 boundary (copy in the arena). */
static const char *
cut_utf8(struct gu_arena *a, const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return s;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return gu_arena_strndup(a, s, n);
}

/* The series of one group: found by code, or created. */
static int
group_series(struct store_conn *c, struct gu_arena *a, const char *insee,
             const struct fc_import_opts *o, const char *code,
             const char *site, int64_t *id, bool *created, struct gu_err *err)
{
    struct fc_series s;
    int rc;

    *created = false;
    rc = fc_series_by_code(c, a, insee, code, &s, err);
    if (rc == 0) {
        if (s.freq != o->freq) {
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "La série « %.64s » existe déjà avec la fréquence %s.",
                     code, fc_freq_name(s.freq));
            return gu_err_set(err, GU_ECONFLICT, "frequence", msg,
                              "series %s other freq", code);
        }
        *id = s.id;
        return 0;
    }
    if (rc != GU_ENOTFOUND)
        return rc;
    memset(&s, 0, sizeof(s));
    snprintf(s.insee, sizeof(s.insee), "%s", insee);
    s.code = code;
    if (o->per_site)
        s.name = gu_arena_sprintf(a, "%s — %s",
                                  cut_utf8(a, o->name ? o->name : o->code, 60),
                                  site);
    else
        s.name = o->name ? o->name : code;
    if (!s.name)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    s.unit = o->unit ? o->unit : "";
    s.freq = o->freq;
    s.kind = o->kind;
    s.site = site;
    s.closed_weekdays = "";
    s.active = true;
    if ((rc = fc_series_save(c, &s, id, err)) < 0)
        return rc;
    *created = true;
    return 0;
}

int
fc_csv_import(struct store_conn *c, struct gu_arena *a, const char *insee,
              enum gu_tz tz, const struct fc_import_opts *o, const char *data,
              size_t n, struct fc_import_report *rep, struct gu_err *err)
{
    struct fc_csv csv;
    const struct fc_csv_row **v = NULL;
    const char **codes = NULL;
    size_t ngroups = 0;
    bool own_tx = !store_in_tx(c);
    int rc;

    memset(rep, 0, sizeof(*rep));
    gu_err_clear(err);
    if (!insee || !store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "commune",
                          "Code de commune invalide.", "bad insee");
    if (!fc_code_valid(o->code))
        return gu_err_set(err, GU_EINVAL, "serie",
                          "Le code de la série est obligatoire : lettres "
                          "minuscules sans accent, chiffres et tirets (ex. "
                          "« cantine-jules-ferry »).",
                          "bad code");
    if ((rc = fc_csv_parse(data, n, o->freq, tz, a, &csv, err)) < 0)
        return rc;
    if (o->per_site && !csv.has_site)
        return gu_err_set(err, GU_EINVAL, "par-site",
                          "Le fichier n'a pas de colonne « site » : une "
                          "série par site est impossible.",
                          "per_site without site column");
    v = gu_arena_alloc(a, csv.n * sizeof(*v));
    codes = gu_arena_alloc(a, csv.n * sizeof(*codes));
    if (!v || !codes)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < csv.n; i++)
        v[i] = &csv.rows[i];
    qsort(v, csv.n, sizeof(*v), cmp_row);
    if (!o->per_site && csv.has_site && strcmp(v[0]->site, v[csv.n - 1]->site))
        return gu_err_set(err, GU_EINVAL, "par-site",
                          "Le fichier contient plusieurs sites : importez-le "
                          "avec une série par site (--par-site).",
                          "several sites");
    rep->sep = csv.sep;
    rep->header = csv.header;
    rep->cp1252 = csv.cp1252;
    rep->has_staff = csv.has_staff;
    rep->skipped = csv.skipped;
    rep->first_t = INT64_MAX;
    rep->last_t = INT64_MIN;
    if (own_tx && (rc = store_begin(c, err)) < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < csv.n;) {
        size_t j = i;
        struct fc_point *pts;
        const char *code = o->code;
        int64_t id = 0, have = 0;
        bool created = false;

        while (j < csv.n && strcmp(v[j]->site, v[i]->site) == 0)
            j++;
        if (o->per_site) {
            char slug[FC_CODE_MAX + 1], full[2 * FC_CODE_MAX + 2];
            fc_slug(v[i]->site, slug, sizeof(slug));
            snprintf(full, sizeof(full), "%s-%s", o->code,
                     slug[0] ? slug : "site");
            full[FC_CODE_MAX] = '\0';
            code = gu_arena_strdup(a, full);
            /* Two sites whose names fold to one code get -2, -3... */
            for (int k = 2; code; k++) {
                bool taken = false;
                for (size_t g = 0; g < ngroups && !taken; g++)
                    taken = strcmp(codes[g], code) == 0;
                if (!taken)
                    break;
                code = gu_arena_sprintf(a, "%.58s-%d", full, k);
            }
            if (!code) {
                rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
                break;
            }
            while (strlen(code) > 1 && code[strlen(code) - 1] == '-')
                ((char *)code)[strlen(code) - 1] = '\0';
        }
        codes[ngroups++] = code;
        rc = group_series(c, a, insee, o, code, v[i]->site, &id, &created,
                          err);
        if (rc < 0)
            break;
        if (created)
            rep->series_created++;
        rep->series_used++;
        pts = gu_arena_alloc(a, (j - i) * sizeof(*pts));
        if (!pts) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            break;
        }
        for (size_t k = i; k < j; k++) {
            pts[k - i].t = v[k]->t;
            pts[k - i].value = v[k]->value;
            pts[k - i].staff = v[k]->staff;
            if (v[k]->t < rep->first_t)
                rep->first_t = v[k]->t;
            if (v[k]->t > rep->last_t)
                rep->last_t = v[k]->t;
        }
        if (!created) {
            struct fc_series s;
            if ((rc = fc_series_get(c, a, insee, id, &s, err)) < 0)
                break;
            have = s.npoints;
        }
        if ((uint64_t)have + (j - i) > FC_POINTS_MAX) {
            rc = gu_err_set(err, GU_ETOOBIG, "fichier",
                            "La série dépasserait 5 millions de points.",
                            "series full");
            break;
        }
        /* Batches of FC_BATCH_MAX inside this one transaction. */
        for (size_t k = 0; rc == 0 && k < j - i; k += FC_BATCH_MAX) {
            size_t m = j - i - k < FC_BATCH_MAX ? j - i - k : FC_BATCH_MAX;
            rc = fc_points_put(c, insee, id, pts + k, m, o->source, err);
        }
        rep->rows += j - i;
        i = j;
    }
    if (own_tx) {
        if (rc == 0)
            rc = store_commit(c, err);
        else
            store_rollback(c);
    }
    if (rc < 0) {
        size_t skipped = rep->skipped;
        memset(rep, 0, sizeof(*rep));
        rep->skipped = skipped;
    }
    return rc;
}
