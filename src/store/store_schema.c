/*
 * store_schema.c - the core tenancy schema, as migrations of module
 * "core".
 *
 * Portable SQL with migration tokens; integers that may exceed 2^31
 * (times, ids) are BIGINT, which SQLite reads as INTEGER. A part that
 * differs per backend sits in a "-- @<backend>" section (see store.c).
 * Never edit a published version: add a new one.
 */
#include "store/store_internal.h"

static const char v1_tenancy[] =
    "CREATE TABLE communes (\n"
    "  insee TEXT PRIMARY KEY,\n"
    "  name TEXT NOT NULL,\n"
    "  zone TEXT NOT NULL,\n"
    "  hours TEXT NOT NULL DEFAULT '',\n"
    "  address TEXT NOT NULL DEFAULT '',\n"
    "  phone TEXT NOT NULL DEFAULT '',\n"
    "  email TEXT NOT NULL DEFAULT '',\n"
    "  created_at BIGINT NOT NULL DEFAULT ($NOW)\n"
    ");\n"
    "CREATE TABLE agents (\n"
    "  id $PK,\n"
    "  login TEXT NOT NULL UNIQUE,\n"
    "  name TEXT NOT NULL,\n"
    "  email TEXT NOT NULL DEFAULT '',\n"
    "  password_hash TEXT NOT NULL,\n"
    "  disabled INTEGER NOT NULL DEFAULT 0,\n"
    "  must_change_password INTEGER NOT NULL DEFAULT 0,\n"
    "  failed_logins INTEGER NOT NULL DEFAULT 0,\n"
    "  locked_until BIGINT NOT NULL DEFAULT 0,\n"
    "  created_at BIGINT NOT NULL DEFAULT ($NOW),\n"
    "  last_login_at BIGINT NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE TABLE agent_communes (\n"
    "  agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  role TEXT NOT NULL CHECK (role IN ('lecteur', 'agent', 'admin')),\n"
    "  PRIMARY KEY (agent_id, insee)\n"
    ");\n"
    "CREATE INDEX agent_communes_insee ON agent_communes (insee);\n"
    "CREATE TABLE sessions (\n"
    "  token_hash TEXT PRIMARY KEY,\n"
    "  agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  csrf TEXT NOT NULL,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  expires_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX sessions_agent ON sessions (agent_id);\n"
    "CREATE INDEX sessions_expires ON sessions (expires_at);\n"
    "CREATE TABLE api_tokens (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  role TEXT NOT NULL CHECK (role IN ('lecteur', 'agent', 'admin')),\n"
    "  name TEXT NOT NULL,\n"
    "  token_hash TEXT NOT NULL UNIQUE,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  last_used_at BIGINT NOT NULL DEFAULT 0,\n"
    "  revoked_at BIGINT NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX api_tokens_insee ON api_tokens (insee);\n"
    "CREATE TABLE rate_limits (\n"
    "  key TEXT PRIMARY KEY,\n"
    "  window_start BIGINT NOT NULL,\n"
    "  hits INTEGER NOT NULL\n"
    ");\n"
    /*
     * No foreign key on audit.insee: instance-wide events use "", and the
     * log must outlive a deleted commune.
     */
    "CREATE TABLE audit (\n"
    "  id $PK,\n"
    "  at BIGINT NOT NULL,\n"
    "  insee TEXT NOT NULL DEFAULT '',\n"
    "  actor TEXT NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  target TEXT NOT NULL DEFAULT '',\n"
    "  detail TEXT NOT NULL DEFAULT '',\n"
    "  request_id TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX audit_insee_id ON audit (insee, id);\n";

/* The append-only guard: the database itself refuses UPDATE and DELETE. */
static const char v2_audit_guard[] =
    "-- @sqlite\n"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
    "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;\n"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
    "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;\n"
    "-- @postgres\n"
    "CREATE FUNCTION audit_append_only() RETURNS trigger AS $$\n"
    "BEGIN RAISE EXCEPTION 'audit is append-only'; END;\n"
    "$$ LANGUAGE plpgsql;\n"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit\n"
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only();\n"
    "-- @all\n";

/*
 * SQLite's functions that PostgreSQL lacks for the argument types the
 * store binds (every integer parameter is a BIGINT): the domains keep
 * writing substr(x, ?, ?) and round(x, ?) as on SQLite. instr() and
 * char() are renamed by the backend itself (store_pg.c).
 */
static const char v3_pg_compat[] =
    "-- @postgres\n"
    "CREATE FUNCTION substr(s TEXT, f BIGINT) RETURNS TEXT\n"
    "  LANGUAGE sql IMMUTABLE AS $$ SELECT substr(s, f::int) $$;\n"
    "CREATE FUNCTION substr(s TEXT, f BIGINT, n BIGINT) RETURNS TEXT\n"
    "  LANGUAGE sql IMMUTABLE AS $$ SELECT substr(s, f::int, n::int) $$;\n"
    "CREATE FUNCTION round(x DOUBLE PRECISION, d BIGINT)\n"
    "  RETURNS DOUBLE PRECISION LANGUAGE sql IMMUTABLE AS\n"
    "  $$ SELECT round(x::numeric, d::int)::double precision $$;\n"
    "-- @all\n";

static const struct store_migration core_migrations[] = {
    {"core", 1, v1_tenancy},
    {"core", 2, v2_audit_guard},
    {"core", 3, v3_pg_compat},
};

const struct store_migration *
store_core_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(core_migrations);
    return core_migrations;
}
