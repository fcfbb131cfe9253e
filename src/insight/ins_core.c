/*
 * ins_core.c - the insight module's schema, months and the commune's
 * costs (see ins.h).
 *
 * ins_costs holds a commune's own values (one row per commune, absent =
 * the instance's defaults from the [insight] settings). ins_canteen_recos
 * keeps, per canteen and day, the order Guichet recommended before that
 * day: the forecast module stores only the days ahead, and a report
 * compares what was recommended with what was eaten.
 */
#include "insight/ins.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char v1[] =
    "CREATE TABLE ins_costs (\n"
    "  insee TEXT PRIMARY KEY REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  min_answer REAL NOT NULL,\n"
    "  min_routed REAL NOT NULL,\n"
    "  min_booking REAL NOT NULL,\n"
    "  hourly_cost REAL NOT NULL,\n"
    "  meal_cost REAL NOT NULL,\n"
    "  meal_kg REAL NOT NULL,\n"
    "  updated_by TEXT NOT NULL DEFAULT '',\n"
    "  updated_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE TABLE ins_canteen_recos (\n"
    "  series_id BIGINT NOT NULL REFERENCES fc_series(id) ON DELETE CASCADE,\n"
    "  day BIGINT NOT NULL,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  reco REAL NOT NULL,\n"     /* recommended order (meals) */
    "  p50 REAL NOT NULL,\n"      /* the point forecast behind it */
    "  risk REAL NOT NULL,\n"     /* the series' chosen risk */
    "  method TEXT NOT NULL DEFAULT '',\n"
    "  made_at BIGINT NOT NULL,\n" /* last snapshot before the day */
    "  PRIMARY KEY (series_id, day)\n"
    ");\n"
    "CREATE INDEX ins_canteen_recos_insee ON ins_canteen_recos (insee, day);\n";

static const struct store_migration migrations[] = {
    {"insight", 1, v1},
};

const struct store_migration *
ins_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(migrations);
    return migrations;
}

/* ------------------------------------------------------------------ */
/* Months                                                              */
/* ------------------------------------------------------------------ */

void
ins_month_make(int y, int m, const char *zone, struct ins_month *out)
{
    enum gu_tz tz = gu_tz_of_zone(zone);

    while (m < 1) {
        m += 12;
        y--;
    }
    while (m > 12) {
        m -= 12;
        y++;
    }
    out->year = y;
    out->month = m;
    out->day0 = gu_day_from_ymd(y, m, 1);
    out->day1 = m == 12 ? gu_day_from_ymd(y + 1, 1, 1)
                        : gu_day_from_ymd(y, m + 1, 1);
    out->t0 = gu_tz_to_utc(tz, out->day0, 0);
    out->t1 = gu_tz_to_utc(tz, out->day1, 0);
}

void
ins_month_of(int64_t t, const char *zone, struct ins_month *out)
{
    int64_t day;
    int minute, y, m, d;

    gu_tz_from_utc(gu_tz_of_zone(zone), t, &day, &minute);
    gu_day_to_ymd(day, &y, &m, &d);
    ins_month_make(y, m, zone, out);
}

int
ins_month_parse(const char *s, const char *zone, struct ins_month *out,
                struct gu_err *err)
{
    int y = 0, m = 0;

    if (!s || strlen(s) != 7 || s[4] != '-')
        goto bad;
    for (int i = 0; i < 7; i++) {
        if (i == 4)
            continue;
        if (s[i] < '0' || s[i] > '9')
            goto bad;
        if (i < 4)
            y = y * 10 + (s[i] - '0');
        else
            m = m * 10 + (s[i] - '0');
    }
    if (y < 2000 || y > 2200 || m < 1 || m > 12)
        goto bad;
    ins_month_make(y, m, zone, out);
    return 0;
bad:
    return gu_err_set(err, GU_EINVAL, "mois",
                      "Mois invalide : écrivez-le AAAA-MM, par exemple "
                      "2026-11.",
                      "insight: bad month");
}

void
ins_month_key(const struct ins_month *m, char *buf, size_t cap)
{
    snprintf(buf, cap, "%04d-%02d", m->year, m->month);
}

void
ins_month_label(const struct ins_month *m, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s %04d", gu_month_fr(m->month), m->year);
}

/* ------------------------------------------------------------------ */
/* Costs                                                               */
/* ------------------------------------------------------------------ */

void
ins_costs_default(const struct gu_config *cfg, struct ins_costs *out)
{
    memset(out, 0, sizeof(*out));
    if (cfg) {
        out->min_answer = (double)gu_config_int(cfg, "insight.minutes_answer");
        out->min_routed = (double)gu_config_int(cfg, "insight.minutes_routed");
        out->min_booking =
            (double)gu_config_int(cfg, "insight.minutes_booking");
        out->hourly_cost = (double)gu_config_int(cfg, "insight.hourly_cost");
        out->meal_cost =
            (double)gu_config_int(cfg, "insight.meal_cost_cents") / 100.0;
        out->meal_kg = (double)gu_config_int(cfg, "insight.meal_grams") /
                       1000.0;
    } else {
        /* the same values as the settings' defaults */
        out->min_answer = 5;
        out->min_routed = 3;
        out->min_booking = 4;
        out->hourly_cost = 30;
        out->meal_cost = 3.0;
        out->meal_kg = 0.4;
    }
    out->updated_by = "";
}

int
ins_costs_get(struct store_conn *c, struct gu_arena *a,
              const struct gu_config *cfg, const char *insee,
              struct ins_costs *out, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    ins_costs_default(cfg, out);
    rc = store_query(c, a,
                     "SELECT min_answer, min_routed, min_booking, hourly_cost,"
                     " meal_cost, meal_kg, updated_by, updated_at"
                     " FROM ins_costs WHERE insee = ?",
                     p, 1, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    out->min_answer = store_real(r, 0, 0);
    out->min_routed = store_real(r, 0, 1);
    out->min_booking = store_real(r, 0, 2);
    out->hourly_cost = store_real(r, 0, 3);
    out->meal_cost = store_real(r, 0, 4);
    out->meal_kg = store_real(r, 0, 5);
    out->updated_by = store_text(r, 0, 6) ? store_text(r, 0, 6) : "";
    out->updated_at = store_int(r, 0, 7);
    out->custom = true;
    return 0;
}

static int
check(double v, double max, const char *field, const char *what,
      struct gu_err *err)
{
    char msg[200];

    if (isfinite(v) && v >= 0 && v <= max)
        return 0;
    snprintf(msg, sizeof(msg), "%s : indiquez un nombre entre 0 et %g.", what,
             max);
    return gu_err_set(err, GU_EINVAL, field, msg, "insight: %s out of range",
                      field);
}

int
ins_costs_save(struct store_conn *c, const char *insee,
               const struct ins_costs *in, const char *actor, int64_t now,
               struct gu_err *err)
{
    int rc;

    if ((rc = check(in->min_answer, INS_MINUTES_MAX, "min_answer",
                    "Minutes par réponse automatique", err)) < 0 ||
        (rc = check(in->min_routed, INS_MINUTES_MAX, "min_routed",
                    "Minutes par demande orientée", err)) < 0 ||
        (rc = check(in->min_booking, INS_MINUTES_MAX, "min_booking",
                    "Minutes par rendez-vous en ligne", err)) < 0 ||
        (rc = check(in->hourly_cost, INS_HOURLY_MAX, "hourly_cost",
                    "Coût horaire d’un agent", err)) < 0 ||
        (rc = check(in->meal_cost, INS_MEAL_COST_MAX, "meal_cost",
                    "Coût d’un repas", err)) < 0 ||
        (rc = check(in->meal_kg, INS_MEAL_KG_MAX, "meal_kg",
                    "Poids d’un repas", err)) < 0)
        return rc;
    struct store_val p[] = {
        STORE_T(insee),          STORE_D(in->min_answer),
        STORE_D(in->min_routed), STORE_D(in->min_booking),
        STORE_D(in->hourly_cost), STORE_D(in->meal_cost),
        STORE_D(in->meal_kg),    STORE_T(actor ? actor : ""),
        STORE_I(now)};
    return store_exec(c,
                      "INSERT INTO ins_costs (insee, min_answer, min_routed,"
                      " min_booking, hourly_cost, meal_cost, meal_kg,"
                      " updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?,"
                      " ?, ?) ON CONFLICT (insee) DO UPDATE SET"
                      " min_answer = excluded.min_answer,"
                      " min_routed = excluded.min_routed,"
                      " min_booking = excluded.min_booking,"
                      " hourly_cost = excluded.hourly_cost,"
                      " meal_cost = excluded.meal_cost,"
                      " meal_kg = excluded.meal_kg,"
                      " updated_by = excluded.updated_by,"
                      " updated_at = excluded.updated_at",
                      p, GU_ARRAY_LEN(p), err);
}

int
ins_costs_reset(struct store_conn *c, const char *insee, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee)};

    return store_exec(c, "DELETE FROM ins_costs WHERE insee = ?", p, 1, err);
}

/* ------------------------------------------------------------------ */
/* Medians                                                             */
/* ------------------------------------------------------------------ */

static int
cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return a < b ? -1 : a > b ? 1 : 0;
}

double
ins_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}
