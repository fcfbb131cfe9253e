/*
 * fc_demo.c - the demo commune's forecast series (fc.h: fc_demo_seed),
 * so that `make run` shows forecasts, orders and an alert right away.
 *
 * Three canteens and the water drawn from a reservoir, with about two
 * school years of synthetic daily data up to yesterday, generated here
 * deterministically: the same day always gets the same value, whatever
 * day the seed runs. Canteens serve Monday, Tuesday, Thursday and Friday
 * of school days (fc_cal: public and school holidays of the commune's
 * zone); their meals follow the headcount of the school year, the
 * weekday, the menu (fries and pizza up, fish down), winter illnesses,
 * the first day back and the last day before holidays, and one strike a
 * year (an event, as agents record it). The staff's own forecast is the
 * mean of their last four same weekdays plus a safety margin, rounded up
 * to 5, as kitchens do. Water: a base volume, summer and weekend peaks,
 * and a leak the day before yesterday, which the models flag.
 *
 * Order of the seed: every point but the water's last two days, one
 * fc_fit_commune, then those two days and fc_alerts_scan: the leak
 * leaves the interval stored by the fit and opens an alert.
 */
#include "forecast/fc_cal.h"
#include "forecast/fc_service.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DEMO_DAYS 730   /* days of history */
#define LEAK_FACTOR 1.45

/* A menu and its effect on attendance. */
struct demo_menu {
    const char *dishes;
    double factor;
};

static const struct demo_menu menus[] = {
    {"Carottes râpées\nPoisson pané\nPurée de pommes de terre\nYaourt",
     0.99},
    {"Salade verte\nSteak haché\nFrites\nFruit de saison", 1.06},
    {"Taboulé\nPizza au fromage\nSalade\nCompote", 1.05},
    {"Potage de légumes\nOmelette\nHaricots verts\nFromage blanc", 0.95},
    {"Concombre à la crème\nPoulet rôti\nPâtes\nFruit de saison", 1.02},
    {"Betteraves\nCouscous aux boulettes de boeuf\nSemoule\nOrange", 1.01},
    {"Salade de riz\nFilet de colin sauce citron\nÉpinards à la crème\nFlan",
     0.93},
    {"Pamplemousse\nLasagnes à la bolognaise\nSalade\nYaourt bio", 1.03},
    {"Radis beurre\nHamburger\nPotatoes\nGlace", 1.07},
    {"Soupe de potiron\nChili sin carne\nRiz\nFruit de saison", 0.94},
    {"Céleri rémoulade\nSaucisse de Toulouse\nLentilles\nCompote", 0.98},
    {"Tomates vinaigrette\nNuggets de poulet\nPetits pois\nFromage", 1.04},
};
static const struct demo_menu festive = {
    "Repas de Noël\nFeuilleté au fromage\nDinde aux marrons\nBûche de Noël",
    1.10};

struct demo_canteen {
    const char *code, *name, *site;
    int pupils;     /* school year of the start */
    int growth;     /* pupils more each school year */
    double rate;    /* share of pupils who eat */
    double cost, kg;
};

static const struct demo_canteen canteens[] = {
    {"cantine-jules-ferry", "Cantine Jules-Ferry", "École Jules-Ferry", 310, 8,
     0.80, 2.95, 0.42},
    {"cantine-pasteur", "Cantine Pasteur", "Groupe scolaire Pasteur", 185, -5,
     0.72, 2.95, 0.40},
    {"restaurant-scolaire-des-lilas", "Restaurant scolaire des Lilas",
     "École des Lilas", 240, 12, 0.85, 3.10, 0.38},
};
#define NCANTEENS GU_ARRAY_LEN(canteens)

/* Attendance by ISO weekday (no service on Wednesday and the weekend). */
static const double weekday_factor[8] = {0, 0.98, 1.01, 0, 1.02, 0.94, 0, 0};

/* ------------------------------------------------------------------ */
/* Deterministic noise                                                 */
/* ------------------------------------------------------------------ */

static uint64_t
mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* A uniform in (0, 1) from (stream, day, k). */
static double
uniform(uint64_t stream, int64_t day, unsigned k)
{
    uint64_t h = mix(stream * 1000003u ^ mix((uint64_t)day * 8u + k));
    return ((double)(h >> 11) + 0.5) / 9007199254740992.0;
}

/* A standard normal (Box-Muller) from (stream, day). */
static double
gauss(uint64_t stream, int64_t day)
{
    double u1 = uniform(stream, day, 0), u2 = uniform(stream, day, 1);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ------------------------------------------------------------------ */
/* The generators                                                      */
/* ------------------------------------------------------------------ */

/* The strike of a school year: the first Thursday from 10 October that
   is a school day. */
static int64_t
strike_day(const struct fc_cal *cal, int school_year)
{
    int64_t d = gu_day_from_ymd(school_year, 10, 10);

    for (int i = 0; i < 60; i++, d++) {
        struct fc_cal_day f;
        fc_cal_day(cal, d, &f);
        if (f.weekday == 4 && f.school_day)
            return d;
    }
    return 0;
}

static bool
service_day(const struct fc_cal_day *f)
{
    return f->school_day && weekday_factor[f->weekday] > 0;
}

/* The menu of a service day. */
static const struct demo_menu *
menu_of(const struct fc_cal_day *f)
{
    if (f->eve_school_holiday && f->month == 12)
        return &festive;
    return &menus[mix((uint64_t)f->day) % GU_ARRAY_LEN(menus)];
}

static int
pupils_of(const struct demo_canteen *k, int first_year, int school_year)
{
    return k->pupils + k->growth * (school_year - first_year);
}

static double
meals(const struct demo_canteen *k, size_t ki, const struct fc_cal_day *f,
      int first_year, bool strike)
{
    double v = pupils_of(k, first_year, f->school_year) * k->rate;

    v *= weekday_factor[f->weekday];
    v *= menu_of(f)->factor;
    if (f->month == 1 || f->month == 2)
        v *= 0.96; /* winter illnesses */
    if (f->month == 6 || (f->month == 7 && f->mday < 14))
        v *= 0.95; /* outings at the end of the year */
    if (f->first_day_back)
        v *= 0.96;
    if (f->eve_school_holiday)
        v *= 0.93;
    if (strike)
        v *= 0.35;
    v *= 1.0 + 0.035 * gauss(ki + 1, f->day);
    return v < 0 ? 0 : floor(v + 0.5);
}

static double
water(const struct fc_cal_day *f)
{
    double season = cos(6.283185307179586 * (f->yday - 196) / 365.0);
    double v = 820.0 * (1.0 + 0.18 * (season > 0 ? season : 0.3 * season));

    if (f->weekday == 6)
        v *= 1.05;
    else if (f->weekday == 7)
        v *= 1.08;
    v *= 1.0 + 0.03 * gauss(99, f->day);
    return floor(v * 10 + 0.5) / 10;
}

/* The staff's forecast: their last four same weekdays + 6.5 %, up to 5. */
static double
staff_of(const double *v, size_t i)
{
    double sum = 0;
    int k = 0;

    for (size_t back = 7; back <= i && k < 4; back += 7) {
        if (!isnan(v[i - back])) {
            sum += v[i - back];
            k++;
        }
        if (back > 7 * 12)
            break;
    }
    if (k == 0)
        return NAN;
    return ceil(sum / k * 1.065 / 5.0) * 5.0;
}

/* ------------------------------------------------------------------ */
/* The seed                                                            */
/* ------------------------------------------------------------------ */

struct demo {
    struct store_conn *c;
    const char *insee;
    struct gu_arena *a;
    struct fc_cal *cal;
    int64_t start, end; /* days of history */
    int first_year, last_year;
    int64_t ids[NCANTEENS + 1];
    struct fc_point *pts;
};

static int
create_series(struct demo *d, struct gu_err *err)
{
    for (size_t i = 0; i <= NCANTEENS; i++) {
        struct fc_series s;
        int rc;

        memset(&s, 0, sizeof(s));
        memcpy(s.insee, d->insee, sizeof(s.insee));
        s.freq = FC_FREQ_DAY;
        s.active = true;
        s.risk = 0.05;
        s.alert_to = "";
        if (i < NCANTEENS) {
            s.code = canteens[i].code;
            s.name = canteens[i].name;
            s.site = canteens[i].site;
            s.unit = "repas";
            s.kind = FC_KIND_CANTINE;
            s.closed_weekdays = "3,6,7";
            s.meal_cost = canteens[i].cost;
            s.meal_kg = canteens[i].kg;
        } else {
            s.code = "eau-reservoir";
            s.name = "Consommation d’eau – réservoir";
            s.site = "Réservoir des Coteaux";
            s.unit = "m³";
            s.kind = FC_KIND_EAU;
            s.closed_weekdays = "";
        }
        rc = fc_series_save(d->c, &s, &d->ids[i], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The strike announced in the coming week: its Thursday when canteens
   serve that day, else its first day with service after today; 0 when
   the week has no service (holidays). */
static int64_t
announced_strike(const struct demo *d)
{
    int64_t today = d->end + 1, other = 0;

    for (int64_t t = today; t < today + 7; t++) {
        struct fc_cal_day f;
        fc_cal_day(d->cal, t, &f);
        if (!service_day(&f))
            continue;
        if (f.weekday == 4)
            return t;
        if (!other && t > today)
            other = t;
    }
    return other;
}

/* Headcounts, menus (published two weeks ahead) and the strikes (one a
   school year, and one announced in the coming days). */
static int
calendar_rows(struct demo *d, struct gu_err *err)
{
    enum fc_event_kind greve;
    int rc = fc_event_kind_parse("greve", &greve);

    if (rc < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "demo: greve");
    for (size_t i = 0; i < NCANTEENS; i++) {
        for (int y = d->first_year; y <= d->last_year; y++) {
            rc = fc_headcount_set(d->c, d->insee, d->ids[i], y,
                                  pupils_of(&canteens[i], d->first_year, y),
                                  err);
            if (rc < 0)
                return rc;
        }
    }
    for (int64_t day = d->start; day <= d->end + FC_AHEAD_DAYS; day++) {
        struct fc_cal_day f;
        fc_cal_day(d->cal, day, &f);
        if (!service_day(&f))
            continue;
        rc = fc_menu_set(d->c, d->insee, 0, day, menu_of(&f)->dishes, err);
        if (rc < 0)
            return rc;
    }
    for (int y = d->first_year; y <= d->last_year + 1; y++) {
        int64_t s = strike_day(d->cal, y);
        struct fc_event e;
        if (s == 0 || s < d->start)
            continue;
        if (s > d->end) {
            /* one announced ahead instead, in the week the series
               page shows (today and the six days after) */
            s = announced_strike(d);
            if (s == 0)
                continue;
        }
        memset(&e, 0, sizeof(e));
        memcpy(e.insee, d->insee, sizeof(e.insee));
        e.day = s;
        e.kind = greve;
        e.label = "Grève dans l’éducation nationale";
        rc = fc_event_save(d->c, &e, NULL, err);
        if (rc < 0)
            return rc;
        if (s > d->end)
            break;
    }
    return 0;
}

static bool
is_strike(const struct demo *d, int64_t day)
{
    for (int y = d->first_year; y <= d->last_year; y++) {
        if (strike_day(d->cal, y) == day)
            return true;
    }
    return false;
}

/* The canteens' points and the water's up to `water_end`. */
static int
points(struct demo *d, int64_t water_end, struct gu_err *err)
{
    size_t n = (size_t)(d->end - d->start + 1);
    double *v = gu_arena_alloc(d->a, n * sizeof(*v));
    int rc;

    if (!v || !d->pts)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "demo: oom");
    for (size_t k = 0; k < NCANTEENS; k++) {
        size_t np = 0;
        for (size_t i = 0; i < n; i++) {
            struct fc_cal_day f;
            fc_cal_day(d->cal, d->start + (int64_t)i, &f);
            v[i] = service_day(&f)
                       ? meals(&canteens[k], k, &f, d->first_year,
                               is_strike(d, f.day))
                       : NAN;
        }
        for (size_t i = 0; i < n; i++) {
            if (isnan(v[i]))
                continue;
            d->pts[np].t = d->start + (int64_t)i;
            d->pts[np].value = v[i];
            d->pts[np].staff = staff_of(v, i);
            np++;
        }
        rc = fc_points_put(d->c, d->insee, d->ids[k], d->pts, np,
                           FC_SRC_SAISIE, err);
        if (rc < 0)
            return rc;
    }
    {
        size_t np = 0;
        for (int64_t day = d->start; day <= water_end; day++) {
            struct fc_cal_day f;
            fc_cal_day(d->cal, day, &f);
            d->pts[np].t = day;
            d->pts[np].value = water(&f);
            d->pts[np].staff = NAN;
            np++;
        }
        return fc_points_put(d->c, d->insee, d->ids[NCANTEENS], d->pts, np,
                             FC_SRC_CSV, err);
    }
}

/* The water's last two days, the first of them with a leak. */
static int
water_tail(struct demo *d, struct gu_err *err)
{
    struct fc_point p[2];

    for (int i = 0; i < 2; i++) {
        struct fc_cal_day f;
        fc_cal_day(d->cal, d->end - 1 + i, &f);
        p[i].t = d->end - 1 + i;
        p[i].value = water(&f) * (i == 0 ? LEAK_FACTOR : 1.0);
        p[i].staff = NAN;
    }
    return fc_points_put(d->c, d->insee, d->ids[NCANTEENS], p, 2, FC_SRC_CSV,
                         err);
}

int
fc_demo_seed(struct store_conn *c, const char *insee, struct gu_err *err)
{
    struct store_commune com;
    struct fc_series *have = NULL;
    size_t nhave = 0, fitted = 0, skipped = 0;
    struct demo d;
    int64_t today;
    int minute, rc, y, m, dd;
    bool tx = false;

    memset(&d, 0, sizeof(d));
    d.c = c;
    d.insee = insee;
    d.a = gu_arena_new(0);
    if (!d.a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "demo: oom");
    rc = fc_series_list(c, d.a, insee, &have, &nhave, err);
    if (rc < 0 || nhave > 0)
        goto out;
    rc = store_commune_get(c, d.a, insee, &com, err);
    if (rc < 0)
        goto out;
    rc = fc_cal_new(insee, com.zone, &d.cal);
    if (rc < 0) {
        rc = gu_err_set(err, rc, NULL, NULL, "demo: calendar");
        goto out;
    }
    gu_tz_from_utc(gu_tz_of_zone(com.zone), gu_now(), &today, &minute);
    d.end = today - 1;
    d.start = d.end - DEMO_DAYS + 1;
    gu_day_to_ymd(d.start, &y, &m, &dd);
    d.first_year = m >= 9 ? y : y - 1;
    gu_day_to_ymd(d.end + FC_AHEAD_DAYS, &y, &m, &dd);
    d.last_year = m >= 9 ? y : y - 1;
    d.pts = gu_arena_alloc(d.a, (size_t)DEMO_DAYS * sizeof(*d.pts));

    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    tx = true;
    if ((rc = create_series(&d, err)) < 0 ||
        (rc = calendar_rows(&d, err)) < 0 ||
        (rc = points(&d, d.end - 2, err)) < 0)
        goto out;
    rc = store_commit(c, err);
    if (rc < 0)
        goto out;
    tx = false;
    rc = fc_fit_commune(c, d.a, insee, &fitted, &skipped, err);
    if (rc < 0)
        goto out;
    rc = water_tail(&d, err);
    if (rc < 0)
        goto out;
    rc = fc_alerts_scan(c, d.a, insee, NULL, err);
    if (rc < 0)
        goto out;
    rc = (int)(NCANTEENS + 1);
out:
    if (tx)
        store_rollback(c);
    fc_cal_free(d.cal);
    gu_arena_free(d.a);
    return rc;
}
