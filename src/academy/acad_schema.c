/*
 * acad_schema.c - the academy's tables, as migrations of module
 * "academy".
 *
 * acad_sandboxes: one sandbox commune per real commune. Both codes
 * reference communes(insee) ON DELETE CASCADE: deleting the sandbox's
 * commune row (a reset) drops its row here, deleting the real commune
 * drops its sandbox record (the sandbox commune itself stays, harmless,
 * until an admin deletes it).
 * acad_scenarios: a commune's overrides of the shipped bank and its own
 * scenarios (the JSON of the scenario, as the API takes it).
 * acad_attempts, acad_quiz: what an agent did, kept with the REAL
 * commune (a reset of the sandbox does not erase anybody's record);
 * `sandbox` is plain text for that reason.
 * Never edit a published version: add a new one.
 */
#include "academy/acad.h"

static const char v1[] =
    "CREATE TABLE acad_sandboxes (\n"
    "  insee TEXT PRIMARY KEY REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  parent TEXT NOT NULL UNIQUE REFERENCES communes(insee)"
    " ON DELETE CASCADE,\n"
    "  state TEXT NOT NULL DEFAULT 'creation'"
    " CHECK (state IN ('creation', 'pret')),\n"
    "  created_at BIGINT NOT NULL,\n"
    "  reset_at BIGINT NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE TABLE acad_scenarios (\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  code TEXT NOT NULL,\n"
    "  body TEXT NOT NULL,\n"
    "  active INTEGER NOT NULL DEFAULT 1,\n"
    "  updated_at BIGINT NOT NULL,\n"
    "  updated_by TEXT NOT NULL DEFAULT '',\n"
    "  PRIMARY KEY (insee, code)\n"
    ");\n"
    "CREATE TABLE acad_attempts (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,\n"
    "  scenario TEXT NOT NULL,\n"
    "  kind TEXT NOT NULL,\n"
    "  title TEXT NOT NULL,\n"
    "  sandbox TEXT NOT NULL,\n"
    "  target_id BIGINT NOT NULL DEFAULT 0,\n"
    "  launch TEXT NOT NULL DEFAULT '{}',\n"
    "  status TEXT NOT NULL DEFAULT 'lance'"
    " CHECK (status IN ('lance', 'verifie')),\n"
    "  score INTEGER NOT NULL DEFAULT 0,\n"
    "  total INTEGER NOT NULL DEFAULT 0,\n"
    "  passed INTEGER NOT NULL DEFAULT 0,\n"
    "  feedback TEXT NOT NULL DEFAULT '[]',\n"
    "  answer TEXT NOT NULL DEFAULT '',\n"
    "  created_at BIGINT NOT NULL,\n"
    "  checked_at BIGINT NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX acad_attempts_agent ON acad_attempts (insee, agent_id, id);\n"
    "CREATE TABLE acad_quiz (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,\n"
    "  module TEXT NOT NULL,\n"
    "  score INTEGER NOT NULL,\n"
    "  total INTEGER NOT NULL,\n"
    "  passed INTEGER NOT NULL,\n"
    "  answers TEXT NOT NULL,\n"
    "  created_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX acad_quiz_agent ON acad_quiz (insee, agent_id, module);\n";

/*
 * Version 2: the node that seeds a sandbox holds a lease in its row
 * (several nodes on one database each run a preparer; acad_sandbox.c).
 */
static const char v2[] =
    "ALTER TABLE acad_sandboxes ADD COLUMN seeding_at BIGINT NOT NULL"
    " DEFAULT 0;\n";

static const struct store_migration migrations[] = {
    {"academy", 1, v1},
    {"academy", 2, v2},
};

const struct store_migration *
acad_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(migrations);
    return migrations;
}
