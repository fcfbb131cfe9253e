/*
 * fc_schema.c - the tables of the forecast domain (see fc.h).
 *
 * fc_points.t is a day number for daily series, a unix instant (start of
 * the period) for hourly and 15-minute ones. No personal data here.
 */
#include "forecast/fc.h"

static const char v1[] =
    "CREATE TABLE fc_series (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  code TEXT NOT NULL,\n"        /* slug: "cantine-jules-ferry" */
    "  name TEXT NOT NULL,\n"        /* « Cantine Jules-Ferry » */
    "  unit TEXT NOT NULL DEFAULT '',\n" /* « repas », « m³ », « visites » */
    "  freq TEXT NOT NULL CHECK (freq IN ('jour', 'heure', '15min')),\n"
    "  kind TEXT NOT NULL DEFAULT 'autre' CHECK (kind IN ('cantine', 'eau',"
    " 'accueil', 'telephone', 'autre')),\n"
    "  site TEXT NOT NULL DEFAULT '',\n"
    "  closed_weekdays TEXT NOT NULL DEFAULT '',\n" /* "3,6,7": no service */
    "  meal_cost REAL NOT NULL DEFAULT 0,\n"  /* euros per meal (canteens) */
    "  meal_kg REAL NOT NULL DEFAULT 0,\n"    /* kg per meal */
    "  active INTEGER NOT NULL DEFAULT 1,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  UNIQUE (insee, code)\n"
    ");\n"
    "CREATE TABLE fc_points (\n"
    "  series_id BIGINT NOT NULL REFERENCES fc_series(id),\n"
    "  t BIGINT NOT NULL,\n"
    "  value REAL NOT NULL,\n"
    "  staff REAL,\n"                /* the agents' own forecast, if any */
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  source TEXT NOT NULL DEFAULT 'csv' CHECK (source IN ('csv', 'api',"
    " 'saisie')),\n"
    "  updated_at BIGINT NOT NULL,\n"
    "  PRIMARY KEY (series_id, t)\n"
    ");\n"
    "CREATE TABLE fc_events (\n"     /* strikes, local events, closures */
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  series_id BIGINT NOT NULL DEFAULT 0,\n" /* 0 = every series */
    "  day BIGINT NOT NULL,\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('greve', 'evenement', 'fermeture',"
    " 'pont')),\n"
    "  label TEXT NOT NULL DEFAULT '',\n"
    "  created_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX fc_events_day ON fc_events (insee, day);\n"
    "CREATE TABLE fc_headcounts (\n" /* pupils per canteen and school year */
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  series_id BIGINT NOT NULL REFERENCES fc_series(id),\n"
    "  school_year INTEGER NOT NULL,\n" /* 2016 = 2016-2017 */
    "  pupils INTEGER NOT NULL,\n"
    "  PRIMARY KEY (series_id, school_year)\n"
    ");\n"
    "CREATE TABLE fc_menus (\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  series_id BIGINT NOT NULL DEFAULT 0,\n" /* 0 = every canteen */
    "  day BIGINT NOT NULL,\n"
    "  dishes TEXT NOT NULL,\n"      /* one dish per line */
    "  PRIMARY KEY (insee, series_id, day)\n"
    ");\n";

static const struct store_migration migrations[] = {
    {"forecast", 1, v1},
};

const struct store_migration *
fc_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(migrations);
    return migrations;
}
