/*
 * test_fc_export.c - the exports of a series' days (fc_export.c): the CSV
 * as French spreadsheets read it (BOM, « ; », « 12,5 », dd/mm/yyyy, empty
 * cells for what is unknown, quoting and the formula guard, canteen-only
 * columns), and the XLSX opened back with libzip: the sheet's XML holds
 * dates as date serials with a date format, numbers as numbers, strings
 * in the shared table, column widths and a frozen header.
 */
#include "harness.h"

#include "forecast/fc_service.h"

#include <math.h>
#include <stdlib.h>
#include <zip.h>

static struct fc_series
canteen(void)
{
    struct fc_series s;

    memset(&s, 0, sizeof(s));
    s.id = 7;
    memcpy(s.insee, "99001", 6);
    s.code = "cantine-jules-ferry";
    s.name = "Cantine Jules-Ferry";
    s.unit = "repas";
    s.kind = FC_KIND_CANTINE;
    s.site = "";
    s.closed_weekdays = "3,6,7";
    s.meal_cost = 2.9;
    s.meal_kg = 0.4;
    return s;
}

static struct fc_day
empty_day(int64_t t)
{
    struct fc_day d;

    memset(&d, 0, sizeof(d));
    d.t = t;
    d.actual = d.staff = d.p10 = d.p50 = d.p90 = NAN;
    d.reco.order = d.reco.p_short = d.reco.surplus = NAN;
    d.reco.shortfall = d.reco.surplus_kg = d.reco.surplus_eur = NAN;
    return d;
}

/* Monday 30/11/2026, Wednesday 02/12 (closed), Thursday 03/12 (strike,
   a note with « ; » and a quote, an alert), Friday 04/12 (a note that
   would be a formula). */
static size_t
sample(struct fc_day *d)
{
    int64_t mon = gu_day_from_ymd(2026, 11, 30);

    d[0] = empty_day(mon);
    d[0].actual = 182;
    d[0].staff = 195;
    d[0].p10 = 170.4;
    d[0].p50 = 181.25;
    d[0].p90 = 192;
    d[0].method = "gbt";
    d[0].reco.order = 190;
    d[0].reco.p_short = 0.05;
    d[0].reco.surplus = 8.5;
    d[0].reco.shortfall = 0.4;
    d[0].reco.surplus_kg = 3.4;
    d[0].reco.surplus_eur = 24.65;
    d[1] = empty_day(mon + 2);
    d[1].note = "Fermé";
    d[2] = empty_day(mon + 3);
    d[2].note = "Grève; \"tous\"";
    d[2].actual = 61;
    d[2].p10 = 150;
    d[2].p50 = 160;
    d[2].p90 = 171.333;
    d[2].alert = true;
    d[3] = empty_day(mon + 4);
    d[3].note = "=HYPERLINK(\"x\")";
    d[3].p50 = -0.001; /* never « -0 » */
    return 4;
}

static void
test_csv_canteen(void)
{
    struct fc_series s = canteen();
    struct fc_day d[4];
    size_t n = sample(d), len = 0;
    char *buf = NULL;
    struct gu_err err = {0};
    char *lines[8];
    size_t nl = 0;

    CHECK_EQ(fc_export_csv(&s, d, n, &buf, &len, &err), 0);
    if (!buf)
        return;
    CHECK_EQ(strlen(buf), len);
    CHECK(len > 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0);
    /* split on CRLF */
    for (char *p = buf + 3; *p && nl < 8;) {
        char *e = strstr(p, "\r\n");
        CHECK(e != NULL);
        if (!e)
            break;
        *e = '\0';
        lines[nl++] = p;
        p = e + 2;
    }
    CHECK_EQ(nl, 5);
    if (nl == 5) {
        CHECK_STR(lines[0],
                  "Date;Jour;Calendrier;Réel (repas);Prévision des agents "
                  "(repas);Prévision basse P10 (repas);Prévision P50 "
                  "(repas);Prévision haute P90 (repas);Commande recommandée "
                  "(repas);Risque de manquer;Surplus attendu (repas);Surplus "
                  "attendu (kg);Surplus attendu (€);Hors intervalle");
        CHECK_STR(lines[1], "30/11/2026;lundi;;182;195;170,4;181,25;192;190;"
                            "5 %;8,5;3,4;24,65;");
        CHECK_STR(lines[2], "02/12/2026;mercredi;Fermé;;;;;;;;;;;");
        CHECK_STR(lines[3], "03/12/2026;jeudi;\"Grève; \"\"tous\"\"\";61;;150;"
                            "160;171,33;;;;;;oui");
        CHECK_STR(lines[4], "04/12/2026;vendredi;\"'=HYPERLINK(\"\"x\"\")\";;;;"
                            "0;;;;;;;");
    }
    free(buf);
}

static void
test_csv_water_has_no_orders(void)
{
    struct fc_series s = canteen();
    struct fc_day d[4];
    size_t n = sample(d), len = 0;
    char *buf = NULL;
    struct gu_err err = {0};

    s.kind = FC_KIND_EAU;
    s.name = "Consommation d'eau – réservoir";
    s.unit = "m³";
    CHECK_EQ(fc_export_csv(&s, d, n, &buf, &len, &err), 0);
    CHECK_CONTAINS(buf, "\xEF\xBB\xBF"
                        "Date;Jour;Calendrier;Réel (m³);Prévision des "
                        "agents (m³);Prévision basse P10 (m³);Prévision P50 "
                        "(m³);Prévision haute P90 (m³);Hors intervalle\r\n"
                        "30/11/2026;lundi;;182;195;170,4;181,25;192;\r\n");
    CHECK(buf && !strstr(buf, "Commande"));
    free(buf);
}

static void
test_csv_bounds(void)
{
    struct fc_series s = canteen();
    struct fc_day d[1] = {0};
    char *buf = (char *)"x";
    size_t len = 9;
    struct gu_err err = {0};

    /* no day: the header alone */
    CHECK_EQ(fc_export_csv(&s, d, 0, &buf, &len, &err), 0);
    CHECK(buf && len > 3 && strstr(buf, "Hors intervalle\r\n") ==
                                buf + len - strlen("Hors intervalle\r\n"));
    free(buf);
    buf = NULL;
    CHECK_EQ(fc_export_csv(&s, d, FC_HISTORY_MAX + 1, &buf, &len, &err),
             GU_ETOOBIG);
    CHECK(buf == NULL);
    CHECK_EQ(fc_export_xlsx(&s, d, FC_HISTORY_MAX + 1, &buf, &len, &err),
             GU_ETOOBIG);
    CHECK(buf == NULL);
}

/* One member of the zip as a NUL-terminated malloc'd string, or NULL. */
static char *
member(zip_t *z, const char *name)
{
    zip_stat_t st;
    zip_file_t *f;
    char *p;

    if (zip_stat(z, name, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
        return NULL;
    f = zip_fopen(z, name, 0);
    if (!f)
        return NULL;
    p = calloc(1, (size_t)st.size + 1);
    if (p && zip_fread(f, p, st.size) != (zip_int64_t)st.size) {
        free(p);
        p = NULL;
    }
    zip_fclose(f);
    return p;
}

/* The XML of cell `ref` (« <c r="D2" ...>...</c> ») in a sheet, in buf. */
static const char *
cell(const char *sheet, const char *ref, char *buf, size_t cap)
{
    char key[24];
    const char *a, *e;

    snprintf(key, sizeof(key), "<c r=\"%s\"", ref);
    a = sheet ? strstr(sheet, key) : NULL;
    if (!a)
        return "";
    e = strstr(a, "</c>");
    if (!e || (size_t)(e - a) >= cap)
        return "";
    memcpy(buf, a, (size_t)(e - a));
    buf[e - a] = '\0';
    return buf;
}

static void
test_xlsx_opens(void)
{
    struct fc_series s = canteen();
    struct fc_day d[4];
    size_t n = sample(d), len = 0;
    char *buf = NULL, *sheet = NULL, *strings = NULL, *styles = NULL;
    char c[256], serial[32];
    struct gu_err err = {0};
    zip_error_t ze;
    zip_source_t *src;
    zip_t *z = NULL;

    CHECK_EQ(fc_export_xlsx(&s, d, n, &buf, &len, &err), 0);
    CHECK(buf && len > 4 && memcmp(buf, "PK\x03\x04", 4) == 0);
    if (!buf)
        return;
    zip_error_init(&ze);
    src = zip_source_buffer_create(buf, len, 0, &ze);
    CHECK(src != NULL);
    if (src) {
        z = zip_open_from_source(src, ZIP_RDONLY, &ze);
        CHECK(z != NULL);
        if (!z)
            zip_source_free(src);
    }
    if (z) {
        CHECK(zip_name_locate(z, "[Content_Types].xml", 0) >= 0);
        CHECK(zip_name_locate(z, "xl/workbook.xml", 0) >= 0);
        sheet = member(z, "xl/worksheets/sheet1.xml");
        strings = member(z, "xl/sharedStrings.xml");
        styles = member(z, "xl/styles.xml");
        CHECK(sheet && strings && styles);
        /* date serial: days since 1899-12-30 */
        snprintf(serial, sizeof(serial), "<v>%lld</v>",
                 (long long)(gu_day_from_ymd(2026, 11, 30) + 25569));
        CHECK_CONTAINS(cell(sheet, "A2", c, sizeof(c)), serial);
        CHECK(!strstr(cell(sheet, "A2", c, sizeof(c)), "t=\"s\""));
        CHECK_CONTAINS(styles, "formatCode=\"dd/mm/yyyy\"");
        /* numbers are numbers */
        CHECK_CONTAINS(cell(sheet, "D2", c, sizeof(c)), "<v>182</v>");
        CHECK(!strstr(c, "t=\"s\""));
        CHECK_CONTAINS(cell(sheet, "G2", c, sizeof(c)), "<v>181.25</v>");
        CHECK_CONTAINS(cell(sheet, "I2", c, sizeof(c)), "<v>190</v>");
        CHECK_CONTAINS(cell(sheet, "J2", c, sizeof(c)), "<v>0.05</v>");
        CHECK_CONTAINS(cell(sheet, "M2", c, sizeof(c)), "<v>24.65</v>");
        /* unknown = empty cell, not zero */
        CHECK_STR(cell(sheet, "D3", c, sizeof(c)), "");
        /* text in the shared strings */
        CHECK_CONTAINS(cell(sheet, "C3", c, sizeof(c)), "t=\"s\"");
        CHECK_CONTAINS(strings, "Réel (repas)");
        CHECK_CONTAINS(strings, "Fermé");
        CHECK_CONTAINS(strings, "Commande recommandée (repas)");
        /* widths, frozen header, filter */
        CHECK_CONTAINS(sheet, "<cols>");
        CHECK_CONTAINS(sheet, "width=");
        CHECK_CONTAINS(sheet, "state=\"frozen\"");
        CHECK_CONTAINS(sheet, "<autoFilter ref=\"A1:N5\"");
        zip_discard(z);
    }
    zip_error_fini(&ze);
    free(sheet);
    free(strings);
    free(styles);
    free(buf);
}

static void
test_xlsx_empty(void)
{
    struct fc_series s = canteen();
    struct fc_day d[1] = {0};
    char *buf = NULL;
    size_t len = 0;
    struct gu_err err = {0};

    s.kind = FC_KIND_ACCUEIL;
    s.unit = "";
    CHECK_EQ(fc_export_xlsx(&s, d, 0, &buf, &len, &err), 0);
    CHECK(buf && len > 4 && memcmp(buf, "PK\x03\x04", 4) == 0);
    free(buf);
}

TESTS(T(test_csv_canteen), T(test_csv_water_has_no_orders),
      T(test_csv_bounds), T(test_xlsx_opens), T(test_xlsx_empty))
