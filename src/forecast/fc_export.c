/*
 * fc_export.c - the days of a series as files agents open in their
 * spreadsheet (fc_service.h: fc_export_csv, fc_export_xlsx): the rows the
 * series page shows (actuals, the agents' own forecast, P10/P50/P90, and
 * for canteens the recommended order with its expected surplus in meals,
 * kg and euros), one column table for both formats.
 *
 * CSV as French spreadsheets read it without an import dialog: UTF-8 with
 * a BOM, « ; » between cells, « 12,5 » decimals, dd/mm/yyyy dates, CRLF.
 * Text cells that a spreadsheet would run as a formula (= + - @ first) get
 * a leading apostrophe.
 *
 * XLSX through libxlsxwriter: a bold frozen header row with a filter,
 * dates as dates, numbers as numbers (never text), column widths. The
 * Debian library (1.1.4) writes to a file only, so the workbook goes
 * through a private temporary file that is read back and removed.
 */
#include "forecast/fc_service.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define XLSX_MAX_BYTES (64u << 20) /* a workbook read back, sanity bound */

/* What a column holds. */
enum col_kind { C_DATE, C_TEXT, C_INT, C_DEC, C_PCT, C_EUR };

/* The columns. `canteen`: only for canteens (orders and surplus). */
enum col_id {
    COL_DATE,
    COL_WEEKDAY,
    COL_NOTE,
    COL_ACTUAL,
    COL_STAFF,
    COL_P10,
    COL_P50,
    COL_P90,
    COL_ORDER,
    COL_PSHORT,
    COL_SURPLUS,
    COL_SURPLUS_KG,
    COL_SURPLUS_EUR,
    COL_ALERT,
    COL_COUNT
};

struct col {
    const char *head;
    bool with_unit; /* « Réel (repas) » */
    bool canteen;
    enum col_kind kind;
    double width; /* XLSX characters */
};

static const struct col cols[COL_COUNT] = {
    [COL_DATE] = {"Date", false, false, C_DATE, 12},
    [COL_WEEKDAY] = {"Jour", false, false, C_TEXT, 10},
    [COL_NOTE] = {"Calendrier", false, false, C_TEXT, 28},
    [COL_ACTUAL] = {"Réel", true, false, C_DEC, 12},
    [COL_STAFF] = {"Prévision des agents", true, false, C_DEC, 14},
    [COL_P10] = {"Prévision basse P10", true, false, C_DEC, 14},
    [COL_P50] = {"Prévision P50", true, false, C_DEC, 14},
    [COL_P90] = {"Prévision haute P90", true, false, C_DEC, 14},
    [COL_ORDER] = {"Commande recommandée", true, true, C_INT, 14},
    [COL_PSHORT] = {"Risque de manquer", false, true, C_PCT, 12},
    [COL_SURPLUS] = {"Surplus attendu", true, true, C_DEC, 12},
    [COL_SURPLUS_KG] = {"Surplus attendu (kg)", false, true, C_DEC, 12},
    [COL_SURPLUS_EUR] = {"Surplus attendu (€)", false, true, C_EUR, 12},
    [COL_ALERT] = {"Hors intervalle", false, false, C_TEXT, 10},
};

static bool
col_shown(const struct fc_series *s, enum col_id c)
{
    return !cols[c].canteen || s->kind == FC_KIND_CANTINE;
}

/* The number in column c of day d (NAN when none). */
static double
col_number(const struct fc_day *d, enum col_id c)
{
    switch (c) {
    case COL_ACTUAL:
        return d->actual;
    case COL_STAFF:
        return d->staff;
    case COL_P10:
        return d->p10;
    case COL_P50:
        return d->p50;
    case COL_P90:
        return d->p90;
    case COL_ORDER:
        return d->reco.order;
    case COL_PSHORT:
        return isnan(d->reco.order) ? NAN : d->reco.p_short;
    case COL_SURPLUS:
        return isnan(d->reco.order) ? NAN : d->reco.surplus;
    case COL_SURPLUS_KG:
        return isnan(d->reco.order) ? NAN : d->reco.surplus_kg;
    case COL_SURPLUS_EUR:
        return isnan(d->reco.order) ? NAN : d->reco.surplus_eur;
    default:
        return NAN;
    }
}

/* The text in column c of day d ("" when none). */
static const char *
col_text(const struct fc_day *d, enum col_id c)
{
    switch (c) {
    case COL_WEEKDAY:
        return gu_weekday_fr(gu_day_weekday(d->t));
    case COL_NOTE:
        return d->note ? d->note : "";
    case COL_ALERT:
        return d->alert ? "oui" : "";
    default:
        return "";
    }
}

/* The header of column c: « Réel (repas) » when the series has a unit. */
static void
col_head(const struct fc_series *s, enum col_id c, char *buf, size_t cap)
{
    if (cols[c].with_unit && s->unit && *s->unit)
        snprintf(buf, cap, "%s (%s)", cols[c].head, s->unit);
    else
        snprintf(buf, cap, "%s", cols[c].head);
}

static int
bounds(const struct fc_series *s, const struct fc_day *days, size_t n,
       char **buf, size_t *len, struct gu_err *err)
{
    *buf = NULL;
    *len = 0;
    if (!s || (!days && n > 0))
        return gu_err_set(err, GU_EINVAL, NULL, "Export impossible.",
                          "export: no series");
    if (n > FC_HISTORY_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL,
                          "Période trop longue pour un export.",
                          "export: %zu days", n);
    return 0;
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */
/* ------------------------------------------------------------------ */

/* A text cell: quoted when it holds « ; », a quote or a line break;
   a leading apostrophe when a spreadsheet would read a formula. */
static void
csv_text(struct gu_buf *b, const char *s)
{
    bool quote = strpbrk(s, ";\"\r\n") != NULL;
    bool formula = strchr("=+-@\t", s[0]) != NULL && s[0] != '\0';

    if (quote)
        gu_buf_puts(b, "\"");
    if (formula)
        gu_buf_puts(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            gu_buf_puts(b, "\"\"");
        else
            gu_buf_append(b, p, 1);
    }
    if (quote)
        gu_buf_puts(b, "\"");
}

/* A number the French way: « 182 », « 12,5 », « 3,14 » (at most
   `decimals` decimals, trailing zeros dropped unless `fixed`). */
static void
csv_number(struct gu_buf *b, double v, int decimals, bool fixed)
{
    char num[64];

    if (isfinite(v))
        gu_buf_puts(b, gu_num_fr(v, decimals, fixed ? 0 : GU_NUM_TRIM, "",
                                 num, sizeof(num)));
}

int
fc_export_csv(const struct fc_series *s, const struct fc_day *days, size_t n,
              char **buf, size_t *len, struct gu_err *err)
{
    struct gu_buf b;
    int rc = bounds(s, days, n, buf, len, err);
    bool first;

    if (rc < 0)
        return rc;
    gu_buf_init(&b);
    gu_buf_puts(&b, "\xEF\xBB\xBF");
    first = true;
    for (int c = 0; c < COL_COUNT; c++) {
        char head[FC_NAME_MAX + 64];
        if (!col_shown(s, (enum col_id)c))
            continue;
        if (!first)
            gu_buf_puts(&b, ";");
        first = false;
        col_head(s, (enum col_id)c, head, sizeof(head));
        csv_text(&b, head);
    }
    gu_buf_puts(&b, "\r\n");
    for (size_t i = 0; i < n; i++) {
        const struct fc_day *d = &days[i];
        first = true;
        for (int c = 0; c < COL_COUNT; c++) {
            enum col_id id = (enum col_id)c;
            if (!col_shown(s, id))
                continue;
            if (!first)
                gu_buf_puts(&b, ";");
            first = false;
            switch (cols[id].kind) {
            case C_DATE: {
                int y, m, dd;
                gu_day_to_ymd(d->t, &y, &m, &dd);
                gu_buf_printf(&b, "%02d/%02d/%04d", dd, m, y);
                break;
            }
            case C_TEXT:
                csv_text(&b, col_text(d, id));
                break;
            case C_INT:
                csv_number(&b, col_number(d, id), 0, true);
                break;
            case C_DEC:
                csv_number(&b, col_number(d, id), 2, false);
                break;
            case C_PCT: {
                double v = col_number(d, id);
                if (isfinite(v)) {
                    csv_number(&b, v * 100, 1, false);
                    gu_buf_puts(&b, " %");
                }
                break;
            }
            case C_EUR:
                csv_number(&b, col_number(d, id), 2, true);
                break;
            }
        }
        gu_buf_puts(&b, "\r\n");
    }
    if (b.oom) {
        gu_buf_fini(&b);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "export csv: oom");
    }
    *buf = b.p;
    *len = b.n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* XLSX                                                                */
/* ------------------------------------------------------------------ */

/* The whole file into a malloc'd buffer. */
static int
slurp(const char *path, char **buf, size_t *len, struct gu_err *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *p = NULL;
    int rc = 0;

    if (!f)
        return gu_err_set(err, GU_EIO, NULL, "Export impossible.",
                          "export xlsx: reopen: %s", strerror(errno));
    if (fstat(fileno(f), &st) < 0 || st.st_size <= 0 ||
        (uint64_t)st.st_size > XLSX_MAX_BYTES) {
        rc = gu_err_set(err, GU_EIO, NULL, "Export impossible.",
                        "export xlsx: bad size");
        goto out;
    }
    p = gu_malloc((size_t)st.st_size);
    if (!p) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "export xlsx: oom");
        goto out;
    }
    if (fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        gu_free(p);
        p = NULL;
        rc = gu_err_set(err, GU_EIO, NULL, "Export impossible.",
                        "export xlsx: short read");
        goto out;
    }
    *buf = p;
    *len = (size_t)st.st_size;
out:
    fclose(f);
    return rc;
}

/* The sheet's rows. Returns the first libxlsxwriter error, or 0. */
static lxw_error
xlsx_rows(lxw_workbook *wb, lxw_worksheet *ws, const struct fc_series *s,
          const struct fc_day *days, size_t n)
{
    lxw_format *head = workbook_add_format(wb);
    lxw_format *date = workbook_add_format(wb);
    lxw_format *integer = workbook_add_format(wb);
    lxw_format *dec = workbook_add_format(wb);
    lxw_format *pct = workbook_add_format(wb);
    lxw_format *eur = workbook_add_format(wb);
    lxw_error e = LXW_NO_ERROR;
    lxw_col_t col = 0;

    if (!head || !date || !integer || !dec || !pct || !eur)
        return LXW_ERROR_MEMORY_MALLOC_FAILED;
    format_set_bold(head);
    format_set_text_wrap(head);
    format_set_num_format(date, "dd/mm/yyyy");
    format_set_num_format(integer, "#,##0");
    format_set_num_format(dec, "#,##0.0");
    format_set_num_format(pct, "0.0%");
    format_set_num_format(eur, "#,##0.00\\ \"€\"");

    for (int c = 0; c < COL_COUNT && !e; c++) {
        enum col_id id = (enum col_id)c;
        char text[FC_NAME_MAX + 64];
        if (!col_shown(s, id))
            continue;
        col_head(s, id, text, sizeof(text));
        e = worksheet_write_string(ws, 0, col, text, head);
        if (!e)
            e = worksheet_set_column(ws, col, col, cols[id].width, NULL);
        for (size_t i = 0; i < n && !e; i++) {
            const struct fc_day *d = &days[i];
            lxw_row_t row = (lxw_row_t)(i + 1);
            double v = col_number(d, id);
            switch (cols[id].kind) {
            case C_DATE: {
                lxw_datetime dt = {0};
                gu_day_to_ymd(d->t, &dt.year, &dt.month, &dt.day);
                e = worksheet_write_datetime(ws, row, col, &dt, date);
                break;
            }
            case C_TEXT: {
                const char *t = col_text(d, id);
                if (*t)
                    e = worksheet_write_string(ws, row, col, t, NULL);
                break;
            }
            case C_INT:
            case C_DEC:
            case C_PCT:
            case C_EUR:
                if (isfinite(v))
                    e = worksheet_write_number(
                        ws, row, col, v,
                        cols[id].kind == C_INT   ? integer
                        : cols[id].kind == C_PCT ? pct
                        : cols[id].kind == C_EUR ? eur
                                                 : dec);
                break;
            }
        }
        col++;
    }
    if (!e && col > 0) {
        worksheet_freeze_panes(ws, 1, 0);
        e = worksheet_autofilter(ws, 0, 0, (lxw_row_t)n, (lxw_col_t)(col - 1));
    }
    return e;
}

int
fc_export_xlsx(const struct fc_series *s, const struct fc_day *days,
               size_t n, char **buf, size_t *len, struct gu_err *err)
{
    const char *dir = getenv("TMPDIR");
    char path[512], title[FC_NAME_MAX + 32];
    lxw_workbook_options opt = {0};
    lxw_doc_properties props = {0};
    lxw_workbook *wb = NULL;
    lxw_worksheet *ws;
    lxw_error e;
    int fd, rc = bounds(s, days, n, buf, len, err);

    if (rc < 0)
        return rc;
    if (!dir || !*dir || strlen(dir) > 400)
        dir = "/tmp";
    snprintf(path, sizeof(path), "%s/guichet-export-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd < 0)
        return gu_err_set(err, GU_EIO, NULL, "Export impossible.",
                          "export xlsx: mkstemp: %s", strerror(errno));
    close(fd);
    opt.tmpdir = (char *)dir;
    wb = workbook_new_opt(path, &opt);
    if (!wb) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "export xlsx: workbook");
        goto out;
    }
    snprintf(title, sizeof(title), "Prévisions — %s", s->name ? s->name : "");
    props.title = title;
    props.author = "Guichet";
    ws = workbook_add_worksheet(wb, "Prévisions");
    e = ws ? workbook_set_properties(wb, &props)
           : LXW_ERROR_MEMORY_MALLOC_FAILED;
    if (!e)
        e = xlsx_rows(wb, ws, s, days, n);
    if (e) {
        workbook_close(wb);
        rc = gu_err_set(err, GU_EIO, NULL, "Export impossible.",
                        "export xlsx: %s", lxw_strerror(e));
        goto out;
    }
    e = workbook_close(wb);
    if (e) {
        rc = gu_err_set(err, GU_EIO, NULL, "Export impossible.",
                        "export xlsx: close: %s", lxw_strerror(e));
        goto out;
    }
    rc = slurp(path, buf, len, err);
out:
    unlink(path);
    return rc;
}
