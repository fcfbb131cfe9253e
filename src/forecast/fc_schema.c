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

/* v2: what the models make (issue 6, second part). fc_fits holds the
   chosen method of each series with the backtest table shown to users and
   the relative errors the recommendation draws its quantiles from;
   fc_forecasts the days ahead; fc_models the commune's trained gradient-
   boosted trees (one per kind of series, XGBoost's own serialisation);
   fc_alerts the days whose actual left the interval (water...). */
static const char v2[] =
    "ALTER TABLE fc_series ADD COLUMN risk REAL NOT NULL DEFAULT 0.05;\n"
    "ALTER TABLE fc_series ADD COLUMN alert_to TEXT NOT NULL DEFAULT '';\n"
    "CREATE TABLE fc_fits (\n"
    "  series_id BIGINT PRIMARY KEY REFERENCES fc_series(id),\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  method TEXT NOT NULL,\n"      /* chosen by backtest: "gbt", "ets"... */
    "  horizon INTEGER NOT NULL,\n"  /* days, of the backtest */
    "  fitted_at BIGINT NOT NULL,\n"
    "  data_end BIGINT NOT NULL,\n"  /* last period with data */
    "  seconds REAL NOT NULL DEFAULT 0,\n"
    "  scores TEXT NOT NULL,\n"      /* JSON: the backtest table */
    "  errors TEXT NOT NULL\n"       /* JSON array: relative errors */
    ");\n"
    "CREATE TABLE fc_forecasts (\n"
    "  series_id BIGINT NOT NULL REFERENCES fc_series(id),\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  t BIGINT NOT NULL,\n"
    "  method TEXT NOT NULL,\n"
    "  p10 REAL NOT NULL,\n"
    "  p50 REAL NOT NULL,\n"
    "  p90 REAL NOT NULL,\n"
    "  made_at BIGINT NOT NULL,\n"
    "  PRIMARY KEY (series_id, t)\n"
    ");\n"
    "CREATE TABLE fc_models (\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  kind TEXT NOT NULL,\n"        /* fc_series.kind the model serves */
    "  horizon INTEGER NOT NULL,\n"
    "  trained_at BIGINT NOT NULL,\n"
    "  data $BLOB,\n"
    "  PRIMARY KEY (insee, kind, horizon)\n"
    ");\n"
    "CREATE TABLE fc_alerts (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  series_id BIGINT NOT NULL REFERENCES fc_series(id),\n"
    "  t BIGINT NOT NULL,\n"
    "  value REAL NOT NULL,\n"
    "  lo REAL NOT NULL,\n"
    "  hi REAL NOT NULL,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  seen_at BIGINT NOT NULL DEFAULT 0,\n"
    "  UNIQUE (series_id, t)\n"
    ");\n"
    "CREATE INDEX fc_alerts_open ON fc_alerts (insee, seen_at);\n";

static const struct store_migration migrations[] = {
    {"forecast", 1, v1},
    {"forecast", 2, v2},
};

const struct store_migration *
fc_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(migrations);
    return migrations;
}
