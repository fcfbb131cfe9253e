/*
 * mon_schema.c - the tables of the monitor domain (see mon.h).
 *
 * mon_points.t is a unix instant (seconds, UTC). mon_sensors.state is
 * mon_state_save()'s image, written with the points that advanced it.
 * No personal data here except the names of the agents who acknowledged
 * or resolved an alert (agent ids) and the e-mail address of an asset's
 * alerts (a service mailbox).
 */
#include "monitor/mon.h"

static const char v1[] =
    "CREATE TABLE mon_assets (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  name TEXT NOT NULL,\n"          /* « Pompe de relevage du Port » */
    "  kind TEXT NOT NULL DEFAULT 'autre' CHECK (kind IN ('pompe',"
    " 'compteur', 'reservoir', 'batiment', 'chaudiere', 'eclairage',"
    " 'autre')),\n"
    "  site TEXT NOT NULL DEFAULT '',\n"
    "  notes TEXT NOT NULL DEFAULT '',\n"
    "  params TEXT NOT NULL DEFAULT '',\n"   /* mon_params JSON; '' = defaults */
    "  alert_to TEXT NOT NULL DEFAULT '',\n" /* e-mail for new alerts */
    "  webhook_url TEXT NOT NULL DEFAULT '',\n" /* POSTed new alerts */
    "  created_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX mon_assets_insee ON mon_assets (insee, name);\n"
    "CREATE TABLE mon_sensors (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  asset_id BIGINT NOT NULL REFERENCES mon_assets(id),\n"
    "  code TEXT NOT NULL,\n"          /* slug, unique in the commune */
    "  name TEXT NOT NULL,\n"          /* « Débit sortant » */
    "  unit TEXT NOT NULL DEFAULT '',\n"
    "  quantity TEXT NOT NULL DEFAULT 'autre' CHECK (quantity IN ('debit',"
    " 'niveau', 'pression', 'courant', 'temperature', 'energie',"
    " 'autre')),\n"
    "  topic TEXT NOT NULL DEFAULT '',\n"  /* own MQTT topic, '' = default */
    "  params TEXT NOT NULL DEFAULT '',\n" /* overrides the asset's, '' = none */
    "  rate_per_min INTEGER NOT NULL DEFAULT 120,\n"
    "  active INTEGER NOT NULL DEFAULT 1,\n"
    "  state BLOB,\n"                  /* mon_state_save() image */
    "  last_t BIGINT NOT NULL DEFAULT 0,\n" /* last point fed to detectors */
    "  last_value REAL,\n"
    "  npoints BIGINT NOT NULL DEFAULT 0,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  UNIQUE (insee, code)\n"
    ");\n"
    "CREATE INDEX mon_sensors_asset ON mon_sensors (asset_id);\n"
    "CREATE TABLE mon_points (\n"
    "  sensor_id BIGINT NOT NULL REFERENCES mon_sensors(id),\n"
    "  t BIGINT NOT NULL,\n"
    "  value REAL NOT NULL,\n"
    "  score REAL,\n"                  /* ensemble score when fed in order */
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  PRIMARY KEY (sensor_id, t)\n"
    ");\n"
    "CREATE TABLE mon_alerts (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  sensor_id BIGINT NOT NULL REFERENCES mon_sensors(id),\n"
    "  asset_id BIGINT NOT NULL REFERENCES mon_assets(id),\n"
    "  status TEXT NOT NULL DEFAULT 'ouverte' CHECK (status IN ('ouverte',"
    " 'acquittee', 'resolue')),\n"
    "  detector TEXT NOT NULL,\n"      /* mon_detector_code of the top one */
    "  first_t BIGINT NOT NULL,\n"     /* first anomalous point */
    "  last_t BIGINT NOT NULL,\n"      /* last anomalous point so far */
    "  npoints INTEGER NOT NULL DEFAULT 1,\n"
    "  max_score REAL NOT NULL,\n"
    "  value REAL NOT NULL,\n"         /* at the strongest point */
    "  expected REAL NOT NULL,\n"
    "  deviation REAL NOT NULL,\n"
    "  explanation TEXT NOT NULL,\n"   /* French, for agents */
    "  opened_at BIGINT NOT NULL,\n"
    "  ack_by BIGINT, ack_at BIGINT,\n"
    "  resolved_by BIGINT, resolved_at BIGINT,\n"
    "  comment TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX mon_alerts_insee ON mon_alerts (insee, status, last_t);\n"
    "CREATE INDEX mon_alerts_sensor ON mon_alerts (sensor_id, last_t);\n"
    "CREATE TABLE mon_tickets (\n"     /* maintenance tickets */
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  asset_id BIGINT NOT NULL REFERENCES mon_assets(id),\n"
    "  alert_id BIGINT,\n"             /* the alert it came from, if any */
    "  title TEXT NOT NULL,\n"
    "  body TEXT NOT NULL DEFAULT '',\n"
    "  status TEXT NOT NULL DEFAULT 'ouvert' CHECK (status IN ('ouvert',"
    " 'en_cours', 'clos')),\n"
    "  created_by BIGINT,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL,\n"
    "  closed_at BIGINT\n"
    ");\n"
    "CREATE INDEX mon_tickets_asset ON mon_tickets (insee, asset_id);\n"
    "CREATE TABLE mon_outbox (\n"      /* webhook deliveries */
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  url TEXT NOT NULL,\n"
    "  body TEXT NOT NULL,\n"          /* JSON */
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  next_at BIGINT NOT NULL,\n"
    "  status TEXT NOT NULL DEFAULT 'en_attente' CHECK (status IN"
    " ('en_attente', 'envoye', 'echec')),\n"
    "  last_error TEXT NOT NULL DEFAULT '',\n"
    "  created_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX mon_outbox_due ON mon_outbox (status, next_at);\n";

/* v2: what the agent who resolved an alert found (the impact report's
 * false alarms count these, not a guess). */
static const char v2[] =
    "ALTER TABLE mon_alerts ADD COLUMN verdict TEXT NOT NULL DEFAULT ''"
    " CHECK (verdict IN ('', 'reelle', 'fausse_alerte'));\n";

static const struct store_migration migrations[] = {
    {"monitor", 1, v1},
    {"monitor", 2, v2},
};

const struct store_migration *
mon_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(migrations);
    return migrations;
}
