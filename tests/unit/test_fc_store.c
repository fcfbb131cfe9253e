/*
 * test_fc_store.c - the forecast domain's data (fc_store.h): series
 * validation and tenancy, points upsert and range reads (daily arrays with
 * NAN holes), events, headcounts, menus; and the CSV import: each
 * separator, decimal and date format, BOM, Windows-1252, header or not,
 * hourly series, bad lines named with nothing stored, duplicate dates,
 * bounds, one series per site. In-memory SQLite.
 */
#include "harness.h"

#include "forecast/fc_store.h"

#include <stdlib.h>
#include <string.h>
#include "store_fix.h"

static int
fix_open(struct th_fix *f)
{
    static const th_migrations_fn mods[] = {notify_migrations, fc_migrations};

    if (th_fix_open(f, mods, GU_ARRAY_LEN(mods)) < 0 ||
        th_commune(f->c, "99001", "Saint-Exemple-sur-Loire") < 0 ||
        th_commune(f->c, "99002", "Autre-Exemple") < 0)
        return -1;
    return 0;
}

static void
series_init(struct fc_series *s, const char *insee, const char *code)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->insee, sizeof(s->insee), "%s", insee);
    s->code = code;
    s->name = code;
    s->unit = "repas";
    s->site = "";
    s->closed_weekdays = "";
    s->freq = FC_FREQ_DAY;
    s->kind = FC_KIND_CANTINE;
    s->active = true;
}

static int64_t
count_points(struct th_fix *f, const char *insee)
{
    struct store_val p[1] = {STORE_T(insee)};
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a, "SELECT COUNT(*) FROM fc_points WHERE "
                                "insee = ?",
                    p, 1, &r, &err) < 0)
        return -1;
    return store_int(r, 0, 0);
}

static int64_t
count_series(struct th_fix *f, const char *insee)
{
    struct fc_series *v = NULL;
    size_t n = 0;
    struct gu_err err;

    if (fc_series_list(f->c, f->a, insee, &v, &n, &err) < 0)
        return -1;
    return (int64_t)n;
}

static void
test_names_and_slugs(void)
{
    enum fc_freq fr;
    enum fc_kind k;
    enum fc_event_kind ek;
    char buf[FC_CODE_MAX + 1];

    CHECK_EQ(fc_freq_parse("15min", &fr), 0);
    CHECK_EQ(fr, FC_FREQ_15MIN);
    CHECK_EQ(fc_freq_parse("minute", &fr), GU_EINVAL);
    CHECK_EQ(fc_kind_parse("eau", &k), 0);
    CHECK_STR(fc_kind_name(k), "eau");
    CHECK_EQ(fc_event_kind_parse("greve", &ek), 0);
    CHECK_STR(fc_event_kind_name(FC_EVENT_PONT), "pont");
    CHECK_EQ(fc_freq_seconds(FC_FREQ_15MIN), 900);
    fc_slug("Cantine Jules-Ferry (É)", buf, sizeof(buf));
    CHECK_STR(buf, "cantine-jules-ferry-e");
    fc_slug("  Ã‰cole ", buf, sizeof(buf));
    CHECK(fc_code_valid(buf) || buf[0] == '\0');
    fc_slug("ÉCOLE ŒUVRE Noël", buf, sizeof(buf));
    CHECK_STR(buf, "ecole-uvre-noel");
    CHECK(fc_code_valid("eau-2"));
    CHECK(!fc_code_valid("Eau"));
    CHECK(!fc_code_valid("-eau"));
    CHECK(!fc_code_valid(""));
}

static void
test_series_crud_and_tenancy(void)
{
    struct th_fix f;
    struct fc_series s, got, *v = NULL;
    struct gu_err err;
    int64_t id = 0, id2 = 0;
    size_t n = 0;
    char longname[FC_NAME_MAX + 2];

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    series_init(&s, "99001", "Mauvais Code");
    CHECK_EQ(fc_series_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "code");
    CHECK_CONTAINS(err.user, "minuscules");
    series_init(&s, "99001", "cantine-a");
    s.name = "  ";
    CHECK_EQ(fc_series_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "name");
    CHECK_CONTAINS(err.user, "obligatoire");
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    s.name = longname;
    CHECK_EQ(fc_series_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "200 caractères");
    s.name = "Cantine A";
    s.closed_weekdays = "6,6";
    CHECK_EQ(fc_series_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "closed_weekdays");
    s.closed_weekdays = "3,6,7";
    s.meal_cost = -1;
    CHECK_EQ(fc_series_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "meal_cost");
    s.meal_cost = 3.2;
    s.meal_kg = 0.35;
    s.unit = "repas\x01";
    CHECK_EQ(fc_series_save(f.c, &s, &id, &err), GU_EINVAL);
    CHECK_STR(err.field, "unit");
    s.unit = "repas";
    CHECK_EQ(fc_series_save(f.c, &s, &id, &err), 0);
    CHECK(id > 0);
    CHECK_EQ(fc_series_save(f.c, &s, &id2, &err), GU_ECONFLICT);
    CHECK_STR(err.field, "code");
    /* Same code in another commune: fine. */
    memcpy(s.insee, "99002", 6);
    CHECK_EQ(fc_series_save(f.c, &s, &id2, &err), 0);
    CHECK(id2 != id);

    CHECK_EQ(fc_series_get(f.c, f.a, "99001", id, &got, &err), 0);
    CHECK_STR(got.name, "Cantine A");
    CHECK_STR(got.closed_weekdays, "3,6,7");
    CHECK_EQ(got.kind, FC_KIND_CANTINE);
    CHECK(got.meal_kg > 0.34 && got.meal_kg < 0.36);
    CHECK_EQ(got.npoints, 0);
    /* Tenancy: another commune's id is unknown, for read and write. */
    CHECK_EQ(fc_series_get(f.c, f.a, "99002", id, &got, &err), GU_ENOTFOUND);
    series_init(&s, "99002", "pirate");
    s.id = id;
    CHECK_EQ(fc_series_save(f.c, &s, NULL, &err), GU_ENOTFOUND);
    CHECK_EQ(fc_series_get(f.c, f.a, "99001", id, &got, &err), 0);
    CHECK_STR(got.code, "cantine-a");
    CHECK_EQ(fc_series_delete(f.c, "99002", id, &err), GU_ENOTFOUND);

    /* Update and list. */
    series_init(&s, "99001", "cantine-a");
    s.id = id;
    s.name = "Cantine Anatole";
    s.freq = FC_FREQ_HOUR;
    CHECK_EQ(fc_series_save(f.c, &s, NULL, &err), 0);
    CHECK_EQ(fc_series_by_code(f.c, f.a, "99001", "cantine-a", &got, &err), 0);
    CHECK_STR(got.name, "Cantine Anatole");
    CHECK_EQ(got.freq, FC_FREQ_HOUR);
    CHECK_EQ(fc_series_list(f.c, f.a, "99001", &v, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(fc_series_list(f.c, f.a, "99003", &v, &n, &err), 0);
    CHECK_EQ(n, 0);
    th_fix_close(&f);
}

static void
test_points(void)
{
    struct th_fix f;
    struct fc_series s, got;
    struct fc_point pts[4], *out = NULL;
    struct gu_err err;
    double *vals = NULL, *staff = NULL;
    int64_t id = 0, hid = 0, d0 = gu_day_from_ymd(2016, 9, 1), del = 0;
    size_t n = 0;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    series_init(&s, "99001", "cantine");
    CHECK_EQ(fc_series_save(f.c, &s, &id, &err), 0);
    pts[0] = (struct fc_point){d0, 120, 130};
    pts[1] = (struct fc_point){d0 + 1, 118.5, NAN};
    pts[2] = (struct fc_point){d0 + 4, 99, 100};
    CHECK_EQ(fc_points_put(f.c, "99001", id, pts, 3, FC_SRC_API, &err), 0);
    /* Upsert: the same day replaced, not doubled. */
    pts[0].value = 121;
    CHECK_EQ(fc_points_put(f.c, "99001", id, pts, 1, FC_SRC_SAISIE, &err), 0);
    CHECK_EQ(count_points(&f, "99001"), 3);
    /* A bad point: nothing written. */
    pts[0] = (struct fc_point){d0 + 10, 1, NAN};
    pts[1] = (struct fc_point){d0 + 11, NAN, NAN};
    CHECK_EQ(fc_points_put(f.c, "99001", id, pts, 2, FC_SRC_API, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "points[1]");
    CHECK_EQ(count_points(&f, "99001"), 3);
    pts[1] = (struct fc_point){d0 + 11, 1e13, NAN};
    CHECK_EQ(fc_points_put(f.c, "99001", id, pts, 2, FC_SRC_API, &err),
             GU_EINVAL);
    pts[1] = (struct fc_point){10000000, 1, NAN};
    CHECK_EQ(fc_points_put(f.c, "99001", id, pts, 2, FC_SRC_API, &err),
             GU_EINVAL);
    CHECK_EQ(count_points(&f, "99001"), 3);
    /* Another commune cannot write to it. */
    CHECK_EQ(fc_points_put(f.c, "99002", id, pts, 1, FC_SRC_API, &err),
             GU_ENOTFOUND);
    CHECK_EQ(fc_points_put(f.c, "99001", id, pts, FC_BATCH_MAX + 1,
                           FC_SRC_API, &err),
             GU_ETOOBIG);

    CHECK_EQ(fc_points_range(f.c, f.a, "99001", id, d0, d0 + 30, &out, &n,
                             &err),
             0);
    CHECK_EQ(n, 3);
    CHECK(out[0].value == 121 && out[0].staff == 130);
    CHECK(isnan(out[1].staff));
    CHECK_EQ(fc_points_range(f.c, f.a, "99002", id, d0, d0 + 30, &out, &n,
                             &err),
             GU_ENOTFOUND);
    CHECK_EQ(fc_points_daily(f.c, f.a, "99001", id, d0 - 1, d0 + 5, &vals,
                             &staff, &n, &err),
             0);
    CHECK_EQ(n, 7);
    CHECK(isnan(vals[0]) && vals[1] == 121 && vals[2] == 118.5);
    CHECK(isnan(vals[3]) && isnan(vals[4]) && vals[5] == 99 && isnan(vals[6]));
    CHECK(staff[5] == 100 && isnan(staff[2]));
    CHECK_EQ(fc_points_daily(f.c, f.a, "99001", id, d0, d0 - 1, &vals, NULL,
                             &n, &err),
             GU_EINVAL);
    CHECK_EQ(fc_series_get(f.c, f.a, "99001", id, &got, &err), 0);
    CHECK_EQ(got.npoints, 3);
    CHECK_EQ(got.first_t, d0);
    CHECK_EQ(got.last_t, d0 + 4);
    /* The frequency of a series with data cannot change. */
    s.id = id;
    s.freq = FC_FREQ_HOUR;
    CHECK_EQ(fc_series_save(f.c, &s, NULL, &err), GU_ECONFLICT);
    CHECK_STR(err.field, "freq");

    /* Hourly: instants aligned on the hour. */
    series_init(&s, "99001", "eau-horaire");
    s.freq = FC_FREQ_HOUR;
    s.kind = FC_KIND_EAU;
    CHECK_EQ(fc_series_save(f.c, &s, &hid, &err), 0);
    pts[0] = (struct fc_point){1480550400, 12.5, NAN};
    pts[1] = (struct fc_point){1480550400 + 1800, 1, NAN};
    CHECK_EQ(fc_points_put(f.c, "99001", hid, pts, 2, FC_SRC_API, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "heure pleine");
    CHECK_EQ(fc_points_put(f.c, "99001", hid, pts, 1, FC_SRC_API, &err), 0);
    CHECK_EQ(fc_points_daily(f.c, f.a, "99001", hid, d0, d0, &vals, NULL, &n,
                             &err),
             GU_EINVAL);

    CHECK_EQ(fc_points_delete(f.c, "99001", id, d0, d0 + 1, &del, &err), 0);
    CHECK_EQ(del, 2);
    CHECK_EQ(fc_series_delete(f.c, "99001", id, &err), 0);
    CHECK_EQ(count_points(&f, "99001"), 1);
    th_fix_close(&f);
}

static void
test_events_headcounts_menus(void)
{
    struct th_fix f;
    struct fc_series s;
    struct fc_event e, got, *ev = NULL;
    struct fc_headcount *hc = NULL;
    struct fc_menu *mn = NULL;
    struct gu_err err;
    int64_t id = 0, other = 0, eid = 0, eid2 = 0;
    int64_t d0 = gu_day_from_ymd(2017, 3, 7);
    size_t n = 0;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    series_init(&s, "99001", "cantine");
    CHECK_EQ(fc_series_save(f.c, &s, &id, &err), 0);
    series_init(&s, "99002", "cantine");
    CHECK_EQ(fc_series_save(f.c, &s, &other, &err), 0);

    memset(&e, 0, sizeof(e));
    memcpy(e.insee, "99001", 6);
    e.day = d0;
    e.kind = FC_EVENT_GREVE;
    e.label = "Grève nationale";
    CHECK_EQ(fc_event_save(f.c, &e, &eid, &err), 0);
    e.series_id = id;
    e.kind = FC_EVENT_FERMETURE;
    e.day = d0 + 2;
    e.label = "Travaux";
    CHECK_EQ(fc_event_save(f.c, &e, &eid2, &err), 0);
    e.series_id = other; /* another commune's series */
    CHECK_EQ(fc_event_save(f.c, &e, NULL, &err), GU_ENOTFOUND);
    e.series_id = 0;
    e.kind = (enum fc_event_kind)9;
    CHECK_EQ(fc_event_save(f.c, &e, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "kind");
    e.kind = FC_EVENT_PONT;
    e.day = 200000;
    CHECK_EQ(fc_event_save(f.c, &e, NULL, &err), GU_EINVAL);
    CHECK_STR(err.field, "day");

    CHECK_EQ(fc_event_list(f.c, f.a, "99001", id, d0, d0 + 7, &ev, &n, &err),
             0);
    CHECK_EQ(n, 2);
    CHECK_STR(ev[0].label, "Grève nationale");
    CHECK_EQ(ev[1].kind, FC_EVENT_FERMETURE);
    CHECK_EQ(fc_event_list(f.c, f.a, "99002", 0, d0, d0 + 7, &ev, &n, &err),
             0);
    CHECK_EQ(n, 0);
    CHECK_EQ(fc_event_get(f.c, f.a, "99002", eid, &got, &err), GU_ENOTFOUND);
    CHECK_EQ(fc_event_delete(f.c, "99002", eid, &err), GU_ENOTFOUND);
    got.id = eid;
    CHECK_EQ(fc_event_get(f.c, f.a, "99001", eid, &got, &err), 0);
    got.label = "Grève";
    CHECK_EQ(fc_event_save(f.c, &got, NULL, &err), 0);
    CHECK_EQ(fc_event_get(f.c, f.a, "99001", eid, &got, &err), 0);
    CHECK_STR(got.label, "Grève");
    CHECK_EQ(fc_event_delete(f.c, "99001", eid, &err), 0);
    CHECK_EQ(fc_event_delete(f.c, "99001", eid, &err), GU_ENOTFOUND);

    CHECK_EQ(fc_headcount_set(f.c, "99001", id, 2016, 166, &err), 0);
    CHECK_EQ(fc_headcount_set(f.c, "99001", id, 2016, 170, &err), 0);
    CHECK_EQ(fc_headcount_set(f.c, "99001", id, 2017, 175, &err), 0);
    CHECK_EQ(fc_headcount_set(f.c, "99001", id, 2017, -1, &err), GU_EINVAL);
    CHECK_EQ(fc_headcount_set(f.c, "99001", other, 2017, 5, &err),
             GU_ENOTFOUND);
    CHECK_EQ(fc_headcount_list(f.c, f.a, "99001", id, &hc, &n, &err), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(hc[0].pupils, 170);

    CHECK_EQ(fc_menu_set(f.c, "99001", 0, d0, "Poisson pané\nFrites", &err),
             0);
    CHECK_EQ(fc_menu_set(f.c, "99001", id, d0 + 1, "Lasagnes végétariennes",
                         &err),
             0);
    CHECK_EQ(fc_menu_set(f.c, "99001", 0, d0, "Poisson\nRiz", &err), 0);
    CHECK_EQ(fc_menu_set(f.c, "99001", other, d0, "x", &err), GU_ENOTFOUND);
    CHECK_EQ(fc_menu_list(f.c, f.a, "99001", id, d0, d0 + 5, &mn, &n, &err),
             0);
    CHECK_EQ(n, 2);
    CHECK_STR(mn[0].dishes, "Poisson\nRiz");
    CHECK_EQ(fc_menu_set(f.c, "99001", 0, d0, "", &err), 0);
    CHECK_EQ(fc_menu_list(f.c, f.a, "99001", id, d0, d0 + 5, &mn, &n, &err),
             0);
    CHECK_EQ(n, 1);
    th_fix_close(&f);
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */
/* ------------------------------------------------------------------ */

static int
parse(struct th_fix *f, const char *text, enum fc_freq freq, struct fc_csv *out,
      struct gu_err *err)
{
    return fc_csv_parse(text, strlen(text), freq, GU_TZ_PARIS, f->a, out, err);
}

static void
test_csv_formats(void)
{
    struct th_fix f;
    struct fc_csv csv;
    struct gu_err err;
    int64_t d = gu_day_from_ymd(2016, 9, 1);

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    /* ';' with French decimals and dd/mm/yyyy, header. */
    CHECK_EQ(parse(&f, "Date;Valeur\r\n01/09/2016;12,5\r\n02/09/2016;1 234,75"
                       "\r\n",
                   FC_FREQ_DAY, &csv, &err),
             0);
    CHECK_EQ(csv.sep, ';');
    CHECK(csv.header);
    CHECK_EQ(csv.n, 2);
    CHECK_EQ(csv.rows[0].t, d);
    CHECK(csv.rows[0].value == 12.5);
    CHECK(csv.rows[1].value == 1234.75);
    CHECK(isnan(csv.rows[0].staff));
    /* ',' with ISO dates and points; quoted French decimal. */
    CHECK_EQ(parse(&f, "date,reel\n2016-09-01,12.5\n2016-09-02,\"7,25\"\n",
                   FC_FREQ_DAY, &csv, &err),
             0);
    CHECK_EQ(csv.sep, ',');
    CHECK_EQ(csv.n, 2);
    CHECK(csv.rows[1].value == 7.25);
    /* No header: date;value;forecast. Blank lines ignored. */
    CHECK_EQ(parse(&f, "01/09/2016;10;11\n\n02/09/2016;20;\n", FC_FREQ_DAY,
                   &csv, &err),
             0);
    CHECK(!csv.header);
    CHECK_EQ(csv.n, 2);
    CHECK(csv.rows[0].staff == 11);
    CHECK(isnan(csv.rows[1].staff));
    CHECK_EQ(csv.rows[1].line, 3);
    /* Columns by name, in any order, with a BOM; empty value skipped. */
    CHECK_EQ(parse(&f, "\xEF\xBB\xBFsite_type,date,prevision,reel,site_nom\n"
                       "M/E,2016-09-01,265,241,AGENETS\n"
                       "E,2016-09-01,77,,ALAIN FOURNIER\n"
                       "M,2016-09-01,57,53,ALAIN FOURNIER\n",
                   FC_FREQ_DAY, &csv, &err),
             0);
    CHECK(csv.has_site && csv.has_staff);
    CHECK_EQ(csv.n, 2);
    CHECK_EQ(csv.skipped, 1);
    CHECK_STR(csv.rows[0].site, "AGENETS (M/E)");
    CHECK_STR(csv.rows[1].site, "ALAIN FOURNIER (M)");
    CHECK(csv.rows[0].value == 241 && csv.rows[0].staff == 265);
    /* Windows-1252: « Réel » with an é in one byte, and a site name. */
    CHECK_EQ(parse(&f, "Date;R\xE9" "el;Cantine\n01/09/2016;3;\xC9" "cole\n",
                   FC_FREQ_DAY, &csv, &err),
             0);
    CHECK(csv.cp1252);
    CHECK_EQ(csv.n, 1);
    CHECK_STR(csv.rows[0].site, "\xC3\x89" "cole");
    /* Tab separated. */
    CHECK_EQ(parse(&f, "date\tvaleur\n2016-09-01\t4\n", FC_FREQ_DAY, &csv,
                   &err),
             0);
    CHECK_EQ(csv.sep, '\t');
    /* Quoted fields with an escaped quote and a separator inside. */
    CHECK_EQ(parse(&f, "date;valeur;site\n01/09/2016;5;\"Le \"\"Petit\"\"; "
                       "Prince\"\n",
                   FC_FREQ_DAY, &csv, &err),
             0);
    CHECK_STR(csv.rows[0].site, "Le \"Petit\"; Prince");
    /* Hourly: ISO date-times in civil time, and French ones. */
    CHECK_EQ(parse(&f, "horodatage;volume\n2016-12-01 08:00;12,5\n"
                       "01/12/2016 09:00;13\n2016-12-01T10:00:00+01:00;14\n",
                   FC_FREQ_HOUR, &csv, &err),
             0);
    CHECK_EQ(csv.n, 3);
    CHECK_EQ(csv.rows[0].t, 1480575600); /* 07:00 UTC */
    CHECK_EQ(csv.rows[1].t, 1480575600 + 3600);
    CHECK_EQ(csv.rows[2].t, 1480575600 + 7200);
    CHECK_EQ(parse(&f, "horodatage;volume\n2016-12-01 08:10;1\n", FC_FREQ_HOUR,
                   &csv, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 2");
    CHECK_CONTAINS(err.user, "heure pleine");
    CHECK_EQ(parse(&f, "horodatage;volume\n2016-12-01 08:15;1\n",
                   FC_FREQ_15MIN, &csv, &err),
             0);
    /* Autumn: 02:00 and 02:30 come twice, in time order; both kept. */
    CHECK_EQ(parse(&f, "horodatage;volume\n2016-10-30 01:30;1\n"
                       "2016-10-30 02:00;2\n2016-10-30 02:30;3\n"
                       "2016-10-30 02:00;4\n2016-10-30 02:30;5\n"
                       "2016-10-30 03:00;6\n",
                   FC_FREQ_15MIN, &csv, &err),
             0);
    CHECK_EQ(csv.n, 6);
    CHECK_EQ(csv.rows[1].t, 1477785600); /* 00:00 UTC = 02:00 CEST */
    CHECK_EQ(csv.rows[3].t, 1477785600 + 3600); /* 02:00 CET */
    CHECK_EQ(csv.rows[4].t, 1477785600 + 5400);
    CHECK_EQ(csv.rows[5].t, 1477785600 + 7200); /* 03:00 CET */
    /* Spring: the hour that does not exist is read an hour later. */
    CHECK_EQ(parse(&f, "horodatage;volume\n2016-03-27 02:00;1\n",
                   FC_FREQ_HOUR, &csv, &err),
             0);
    CHECK_EQ(csv.rows[0].t, 1459040400); /* 01:00 UTC = 03:00 CEST */
    /* Times for the API. */
    {
        int64_t t = 0;
        char buf[48];
        CHECK_EQ(fc_time_parse(" 01/09/2016 ", FC_FREQ_DAY, GU_TZ_PARIS,
                               "date", &t, &err),
                 0);
        CHECK_EQ(t, gu_day_from_ymd(2016, 9, 1));
        fc_time_format(t, FC_FREQ_DAY, GU_TZ_PARIS, buf, sizeof(buf));
        CHECK_STR(buf, "2016-09-01");
        CHECK_EQ(fc_time_parse("2016-12-01T08:00", FC_FREQ_HOUR, GU_TZ_PARIS,
                               "t", &t, &err),
                 0);
        fc_time_format(t, FC_FREQ_HOUR, GU_TZ_PARIS, buf, sizeof(buf));
        CHECK_STR(buf, "2016-12-01T08:00:00+01:00");
        CHECK_EQ(fc_time_parse("2016-12-01T08:05", FC_FREQ_HOUR,
                               GU_TZ_PARIS, "t", &t, &err),
                 GU_EINVAL);
        CHECK_STR(err.field, "t");
        CHECK_EQ(fc_time_parse("hier", FC_FREQ_DAY, GU_TZ_PARIS, "date", &t,
                               &err),
                 GU_EINVAL);
        CHECK_CONTAINS(err.user, "Date invalide");
    }
    th_fix_close(&f);
}

static void
test_csv_errors(void)
{
    struct th_fix f;
    struct fc_csv csv;
    struct gu_err err;
    char *big;

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(parse(&f, "date;valeur\n01/09/2016;12\n31/02/2016;4\n",
                   FC_FREQ_DAY, &csv, &err),
             GU_EINVAL);
    CHECK_STR(err.user, "Ligne 3 : date « 31/02/2016 » invalide (attendu "
                        "jj/mm/aaaa ou aaaa-mm-jj).");
    CHECK_EQ(parse(&f, "date;valeur\n01/09/2016;12\n02/09/2016;douze\n",
                   FC_FREQ_DAY, &csv, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 3 : valeur « douze » invalide");
    CHECK_EQ(parse(&f, "date;valeur\n01/09/2016;1e5\n", FC_FREQ_DAY, &csv,
                   &err),
             GU_EINVAL);
    CHECK_EQ(parse(&f, "date;valeur\n01/09/2016;nan\n", FC_FREQ_DAY, &csv,
                   &err),
             GU_EINVAL);
    CHECK_EQ(parse(&f, "date;valeur;prevision\n01/09/2016\n", FC_FREQ_DAY,
                   &csv, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 2 : 3 colonnes attendues, 1 trouvée");
    CHECK_EQ(parse(&f, "jour;a;b\n01/09/2016;1;2\n", FC_FREQ_DAY, &csv, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "Ligne 1 : aucune colonne de valeur");
    CHECK_EQ(parse(&f, "quand;combien\n", FC_FREQ_DAY, &csv, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "aucune colonne de date");
    CHECK_EQ(parse(&f, "date;valeur\n", FC_FREQ_DAY, &csv, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "aucune ligne");
    CHECK_EQ(parse(&f, "date;valeur\n\"01/09/2016;3\n", FC_FREQ_DAY, &csv,
                   &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "guillemet");
    /* Duplicate dates: the later line named with the earlier one. */
    CHECK_EQ(parse(&f, "date;valeur\n01/09/2016;1\n02/09/2016;2\n"
                       "2016-09-01;3\n",
                   FC_FREQ_DAY, &csv, &err),
             GU_EINVAL);
    CHECK_STR(err.user, "Ligne 4 : 2016-09-01 en double (déjà ligne 2).");
    /* Same date for two sites is fine; twice for one site is not. */
    CHECK_EQ(parse(&f, "date;valeur;site\n01/09/2016;1;A\n01/09/2016;2;B\n",
                   FC_FREQ_DAY, &csv, &err),
             0);
    CHECK_EQ(parse(&f, "date;valeur;site\n01/09/2016;1;A\n01/09/2016;2;A\n",
                   FC_FREQ_DAY, &csv, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "pour le site « A » (déjà ligne 2)");
    CHECK_EQ(parse(&f, "date;valeur\n01/09/2016;1\x00\n", FC_FREQ_DAY, &csv,
                   &err),
             0); /* strlen stops at NUL: just the text before */
    CHECK_EQ(fc_csv_parse("date;valeur\n01/09/2016;1\0\n", 26, FC_FREQ_DAY,
                          GU_TZ_PARIS, f.a, &csv, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "pas un fichier texte");
    /* Too big: refused before reading. */
    CHECK_EQ(fc_csv_parse("x", (size_t)FC_CSV_MAX_BYTES + 1, FC_FREQ_DAY,
                          GU_TZ_PARIS, f.a, &csv, &err),
             GU_ETOOBIG);
    CHECK_CONTAINS(err.user, "trop gros");
    /* Too many lines. */
    big = malloc(FC_CSV_MAX_ROWS + 10);
    if (big) {
        memset(big, '\n', FC_CSV_MAX_ROWS + 10);
        CHECK_EQ(fc_csv_parse(big, FC_CSV_MAX_ROWS + 10, FC_FREQ_DAY,
                              GU_TZ_PARIS, f.a, &csv, &err),
                 GU_ETOOBIG);
        free(big);
    }
    th_fix_close(&f);
}

static void
test_csv_import(void)
{
    struct th_fix f;
    struct fc_import_opts o;
    struct fc_import_report rep;
    struct fc_series s;
    struct gu_err err;
    const char *good = "date;valeur;prevision\n01/09/2016;120;125\n"
                       "02/09/2016;118,5;120\n05/09/2016;101;\n";
    const char *multi = "site_type,date,prevision,reel,site_nom\n"
                        "M/E,2016-09-01,265,241,AGENETS\n"
                        "E,2016-09-01,77,69,ALAIN FOURNIER\n"
                        "M,2016-09-01,57,53,ALAIN FOURNIER\n"
                        "M/E,2016-09-02,265,250,AGENETS\n";

    if (fix_open(&f) < 0) {
        CHECK(0);
        return;
    }
    memset(&o, 0, sizeof(o));
    o.code = "cantine-centre";
    o.name = "Cantine du centre";
    o.unit = "repas";
    o.kind = FC_KIND_CANTINE;
    o.freq = FC_FREQ_DAY;
    CHECK_EQ(fc_csv_import(f.c, f.a, "99001", GU_TZ_PARIS, &o, good,
                           strlen(good), &rep, &err),
             0);
    CHECK_EQ(rep.rows, 3);
    CHECK_EQ(rep.series_created, 1);
    CHECK(rep.has_staff);
    CHECK_EQ(rep.first_t, gu_day_from_ymd(2016, 9, 1));
    CHECK_EQ(rep.last_t, gu_day_from_ymd(2016, 9, 5));
    CHECK_EQ(fc_series_by_code(f.c, f.a, "99001", "cantine-centre", &s, &err),
             0);
    CHECK_STR(s.name, "Cantine du centre");
    CHECK_EQ(s.npoints, 3);
    /* Again: the same points, replaced (idempotent). */
    CHECK_EQ(fc_csv_import(f.c, f.a, "99001", GU_TZ_PARIS, &o, good,
                           strlen(good), &rep, &err),
             0);
    CHECK_EQ(rep.series_created, 0);
    CHECK_EQ(count_points(&f, "99001"), 3);
    /* A bad last line: nothing of the file stored. */
    o.code = "cantine-nord";
    {
        const char *bad = "date;valeur\n01/10/2016;1\n02/10/2016;2\n"
                          "03/10/2016;x\n";
        CHECK_EQ(fc_csv_import(f.c, f.a, "99001", GU_TZ_PARIS, &o, bad,
                               strlen(bad), &rep, &err),
                 GU_EINVAL);
        CHECK_CONTAINS(err.user, "Ligne 4");
        CHECK_EQ(rep.rows, 0);
    }
    CHECK_EQ(count_points(&f, "99001"), 3);
    CHECK_EQ(count_series(&f, "99001"), 1);
    /* Another frequency for an existing code. */
    o.code = "cantine-centre";
    o.freq = FC_FREQ_HOUR;
    CHECK_EQ(fc_csv_import(f.c, f.a, "99001", GU_TZ_PARIS, &o, good,
                           strlen(good), &rep, &err),
             GU_ECONFLICT);
    CHECK_CONTAINS(err.user, "fréquence jour");
    o.freq = FC_FREQ_DAY;
    /* Multi-site: refused without per_site, one series per site with. */
    o.code = "cantine";
    o.name = "Cantine";
    CHECK_EQ(fc_csv_import(f.c, f.a, "99001", GU_TZ_PARIS, &o, multi,
                           strlen(multi), &rep, &err),
             GU_EINVAL);
    CHECK_CONTAINS(err.user, "--par-site");
    o.per_site = true;
    CHECK_EQ(fc_csv_import(f.c, f.a, "99001", GU_TZ_PARIS, &o, good,
                           strlen(good), &rep, &err),
             GU_EINVAL);
    CHECK_EQ(fc_csv_import(f.c, f.a, "99001", GU_TZ_PARIS, &o, multi,
                           strlen(multi), &rep, &err),
             0);
    CHECK_EQ(rep.series_created, 3);
    CHECK_EQ(rep.rows, 4);
    CHECK_EQ(fc_series_by_code(f.c, f.a, "99001", "cantine-agenets-m-e", &s,
                               &err),
             0);
    CHECK_STR(s.name, "Cantine — AGENETS (M/E)");
    CHECK_STR(s.site, "AGENETS (M/E)");
    CHECK_EQ(s.npoints, 2);
    CHECK_EQ(fc_series_by_code(f.c, f.a, "99001", "cantine-alain-fournier-e",
                               &s, &err),
             0);
    CHECK_EQ(s.npoints, 1);
    CHECK_EQ(count_series(&f, "99001"), 4);
    /* Commune isolation: the other commune sees nothing. */
    CHECK_EQ(count_series(&f, "99002"), 0);
    CHECK_EQ(count_points(&f, "99002"), 0);
    CHECK_EQ(fc_series_by_code(f.c, f.a, "99002", "cantine-centre", &s, &err),
             GU_ENOTFOUND);
    th_fix_close(&f);
}

/* The Nantes file as agents have it, when the shared data is present. */
static void
test_csv_nantes(void)
{
    struct th_fix f;
    struct fc_import_opts o;
    struct fc_import_report rep;
    struct gu_err err;
    FILE *fp = fopen("../shared/data/nantes-cantines/frequentation.csv", "rb");
    char *data;
    long n;

    if (!fp)
        fp = fopen("/work/shared/data/nantes-cantines/frequentation.csv", "rb");
    if (!fp)
        return; /* data not on this machine */
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    data = malloc((size_t)n);
    if (!data || fread(data, 1, (size_t)n, fp) != (size_t)n || fix_open(&f) < 0) {
        CHECK(0);
        free(data);
        fclose(fp);
        return;
    }
    fclose(fp);
    memset(&o, 0, sizeof(o));
    o.code = "cantine";
    o.name = "Cantine";
    o.unit = "repas";
    o.kind = FC_KIND_CANTINE;
    o.per_site = true;
    CHECK_EQ(fc_csv_import(f.c, f.a, "99001", GU_TZ_PARIS, &o, data,
                           (size_t)n, &rep, &err),
             0);
    if (err.user[0])
        fprintf(stderr, "  import: %s\n", err.user);
    /* 78,601 rows: 3,949 without an actual count (NA), 74,652 points;
       120 sites of which 4 never have a count (no series made). */
    CHECK_EQ(rep.rows, 74652);
    CHECK_EQ(rep.skipped, 3949);
    CHECK_EQ(rep.series_created, 116);
    CHECK(rep.has_staff);
    CHECK_EQ(count_points(&f, "99001"), (int64_t)rep.rows);
    free(data);
    th_fix_close(&f);
}

TESTS(T(test_names_and_slugs), T(test_series_crud_and_tenancy), T(test_points),
      T(test_events_headcounts_menus), T(test_csv_formats),
      T(test_csv_errors), T(test_csv_import), T(test_csv_nantes))
