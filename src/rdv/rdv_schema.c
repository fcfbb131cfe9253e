/*
 * rdv_schema.c - the tables of the appointment domain (see rdv.h).
 *
 * Times of slots are local civil time: `day` (days since 1970-01-01) and
 * minutes since local midnight. Instants (created_at, next_try_at...) are
 * unix seconds. Personal data (name, email, phone, ants_ids, note) lives
 * only in rdv_bookings and rdv_waitlist and is cleared by rdv_purge after
 * rdv.retention_days.
 *
 * rdv_units is the guarantee against double booking: one row per unit of
 * RDV_UNIT_MIN minutes a booking holds on its counter, primary key
 * (counter_id, day, unit, lane). Lane 0 is the normal booking; lanes
 * 1..motif.overbook_max exist only for overbooking a slot whose lane-0
 * booking has a high no-show risk (off unless a motif allows it).
 */
#include "rdv/rdv.h"

static const char v1[] =
    "CREATE TABLE rdv_places (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  name TEXT NOT NULL,\n"
    "  address TEXT NOT NULL DEFAULT '',\n"
    "  zip TEXT NOT NULL DEFAULT '',\n"
    "  city TEXT NOT NULL DEFAULT '',\n"
    "  lat REAL NOT NULL DEFAULT 0,\n"
    "  lon REAL NOT NULL DEFAULT 0,\n"
    "  phone TEXT NOT NULL DEFAULT '',\n"
    "  active INTEGER NOT NULL DEFAULT 1,\n"
    "  created_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX rdv_places_insee ON rdv_places (insee);\n"
    "CREATE TABLE rdv_counters (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  place_id BIGINT NOT NULL REFERENCES rdv_places(id),\n"
    "  name TEXT NOT NULL,\n"
    "  active INTEGER NOT NULL DEFAULT 1,\n"
    "  feed_hash TEXT UNIQUE,\n" /* SHA-256 of the iCalendar feed token */
    "  created_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX rdv_counters_place ON rdv_counters (insee, place_id);\n"
    "CREATE TABLE rdv_motifs (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  code TEXT NOT NULL,\n"
    "  name TEXT NOT NULL,\n"
    "  duration_min INTEGER NOT NULL CHECK (duration_min BETWEEN 5 AND 480),\n"
    "  per_person INTEGER NOT NULL DEFAULT 0,\n"
    "  max_people INTEGER NOT NULL DEFAULT 1,\n"
    "  min_delay_h INTEGER NOT NULL DEFAULT 0,\n"
    "  max_delay_d INTEGER NOT NULL DEFAULT 90,\n"
    "  instructions TEXT NOT NULL DEFAULT '',\n"
    "  audience INTEGER NOT NULL DEFAULT 0,\n"
    "  changeable INTEGER NOT NULL DEFAULT 1,\n"
    "  change_until_h INTEGER NOT NULL DEFAULT 24,\n"
    "  ants_reason TEXT NOT NULL DEFAULT '',\n"
    "  overbook_max INTEGER NOT NULL DEFAULT 0,\n"
    "  active INTEGER NOT NULL DEFAULT 1,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  UNIQUE (insee, code)\n"
    ");\n"
    "CREATE TABLE rdv_ranges (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  counter_id BIGINT NOT NULL REFERENCES rdv_counters(id),\n"
    "  weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),\n"
    "  start_min INTEGER NOT NULL,\n"
    "  end_min INTEGER NOT NULL,\n"
    "  every_weeks INTEGER NOT NULL DEFAULT 1,\n"
    "  from_day BIGINT NOT NULL,\n"
    "  until_day BIGINT NOT NULL DEFAULT 0,\n"
    "  motifs TEXT NOT NULL DEFAULT '',\n"
    "  CHECK (start_min >= 0 AND end_min <= 1440 AND start_min < end_min)\n"
    ");\n"
    "CREATE INDEX rdv_ranges_counter ON rdv_ranges (insee, counter_id);\n"
    "CREATE TABLE rdv_absences (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  place_id BIGINT NOT NULL REFERENCES rdv_places(id),\n"
    "  counter_id BIGINT NOT NULL DEFAULT 0,\n"
    "  start_day BIGINT NOT NULL,\n"
    "  start_min INTEGER NOT NULL,\n"
    "  end_day BIGINT NOT NULL,\n"
    "  end_min INTEGER NOT NULL,\n"
    "  reason TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX rdv_absences_days ON rdv_absences (insee, end_day);\n"
    "CREATE TABLE rdv_bookings (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  motif_id BIGINT NOT NULL REFERENCES rdv_motifs(id),\n"
    "  place_id BIGINT NOT NULL REFERENCES rdv_places(id),\n"
    "  counter_id BIGINT NOT NULL REFERENCES rdv_counters(id),\n"
    "  day BIGINT NOT NULL,\n"
    "  start_min INTEGER NOT NULL,\n"
    "  end_min INTEGER NOT NULL,\n"
    "  people INTEGER NOT NULL DEFAULT 1,\n"
    "  name TEXT NOT NULL DEFAULT '',\n"
    "  email TEXT NOT NULL DEFAULT '',\n"
    "  phone TEXT NOT NULL DEFAULT '',\n"
    "  person_hash TEXT NOT NULL DEFAULT '',\n" /* hash of the normalised
                                                 email or phone: past
                                                 no-shows; cleared with
                                                 the rest at anonymisation */
    "  ants_ids TEXT NOT NULL DEFAULT '',\n"
    "  status INTEGER NOT NULL,\n"
    "  channel INTEGER NOT NULL DEFAULT 0,\n"
    "  created_by TEXT NOT NULL DEFAULT 'public',\n"
    "  created_at BIGINT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL,\n"
    "  confirmed_at BIGINT NOT NULL DEFAULT 0,\n"
    "  reminded_at BIGINT NOT NULL DEFAULT 0,\n"
    "  reminders INTEGER NOT NULL DEFAULT 0,\n"
    "  risk REAL NOT NULL DEFAULT -1,\n"
    "  lane INTEGER NOT NULL DEFAULT 0,\n"
    "  moved_from BIGINT NOT NULL DEFAULT 0,\n"
    "  hold_until BIGINT NOT NULL DEFAULT 0,\n" /* RDV_HELD: offer expiry */
    "  wait_id BIGINT NOT NULL DEFAULT 0,\n"    /* waiting-list entry */
    "  note TEXT NOT NULL DEFAULT '',\n"
    "  anonymised_at BIGINT NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX rdv_bookings_day ON rdv_bookings (insee, day, start_min);\n"
    "CREATE INDEX rdv_bookings_counter ON rdv_bookings (counter_id, day);\n"
    "CREATE INDEX rdv_bookings_person ON rdv_bookings (insee, person_hash);\n"
    "CREATE TABLE rdv_units (\n"
    "  counter_id BIGINT NOT NULL REFERENCES rdv_counters(id),\n"
    "  day BIGINT NOT NULL,\n"
    "  unit INTEGER NOT NULL,\n"
    "  lane INTEGER NOT NULL DEFAULT 0,\n"
    "  booking_id BIGINT NOT NULL REFERENCES rdv_bookings(id),\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  PRIMARY KEY (counter_id, day, unit, lane)\n"
    ");\n"
    "CREATE INDEX rdv_units_booking ON rdv_units (booking_id);\n"
    "CREATE TABLE rdv_waitlist (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  motif_id BIGINT NOT NULL REFERENCES rdv_motifs(id),\n"
    "  place_id BIGINT NOT NULL DEFAULT 0,\n"
    "  people INTEGER NOT NULL DEFAULT 1,\n"
    "  name TEXT NOT NULL DEFAULT '',\n"
    "  email TEXT NOT NULL DEFAULT '',\n"
    "  phone TEXT NOT NULL DEFAULT '',\n"
    "  ants_ids TEXT NOT NULL DEFAULT '',\n"
    "  before_day BIGINT NOT NULL DEFAULT 0,\n"
    "  status TEXT NOT NULL DEFAULT 'attente'"
    " CHECK (status IN ('attente', 'proposé', 'accepté', 'expiré',"
    " 'retiré')),\n"
    "  offers INTEGER NOT NULL DEFAULT 0,\n"
    "  booking_id BIGINT NOT NULL DEFAULT 0,\n" /* current held/accepted */
    "  created_at BIGINT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX rdv_waitlist_queue ON rdv_waitlist (insee, status, id);\n"
    "CREATE TABLE rdv_tokens (\n"
    "  hash TEXT PRIMARY KEY,\n" /* SHA-256 hex of the token */
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  booking_id BIGINT NOT NULL DEFAULT 0,\n"
    "  wait_id BIGINT NOT NULL DEFAULT 0,\n"
    "  kind TEXT NOT NULL,\n" /* gestion, rappel, offre, attente */
    "  created_at BIGINT NOT NULL,\n"
    "  expires_at BIGINT NOT NULL DEFAULT 0\n" /* 0 = with the booking */
    ");\n"
    "CREATE INDEX rdv_tokens_booking ON rdv_tokens (booking_id);\n"
    "CREATE INDEX rdv_tokens_wait ON rdv_tokens (wait_id);\n"
    "CREATE TABLE rdv_ants_queue (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  booking_id BIGINT NOT NULL,\n"
    "  op TEXT NOT NULL CHECK (op IN ('declare', 'withdraw')),\n"
    "  application_id TEXT NOT NULL,\n"
    "  meeting_point TEXT NOT NULL,\n"
    "  meeting_point_id TEXT NOT NULL,\n"
    "  appointment_date TEXT NOT NULL,\n"
    "  management_url TEXT NOT NULL DEFAULT '',\n"
    "  status TEXT NOT NULL DEFAULT 'queued'"
    " CHECK (status IN ('queued', 'sent', 'failed')),\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  next_try_at BIGINT NOT NULL,\n"
    "  last_error TEXT NOT NULL DEFAULT '',\n"
    "  created_at BIGINT NOT NULL,\n"
    "  sent_at BIGINT NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX rdv_ants_queue_due ON rdv_ants_queue (status, next_try_at);\n"
    "CREATE TABLE rdv_sms_queue (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  booking_id BIGINT NOT NULL DEFAULT 0,\n"
    "  phone TEXT NOT NULL,\n"
    "  text TEXT NOT NULL,\n"
    "  status TEXT NOT NULL DEFAULT 'queued'"
    " CHECK (status IN ('queued', 'sent', 'failed')),\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  next_try_at BIGINT NOT NULL,\n"
    "  last_error TEXT NOT NULL DEFAULT '',\n"
    "  created_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX rdv_sms_queue_due ON rdv_sms_queue (status, next_try_at);\n"
    "CREATE TABLE rdv_notify_log (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  booking_id BIGINT NOT NULL DEFAULT 0,\n"
    "  kind TEXT NOT NULL,\n"    /* rdv.confirm, rdv.remind2, rdv.offer... */
    "  channel TEXT NOT NULL,\n" /* courriel, sms */
    "  at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX rdv_notify_log_at ON rdv_notify_log (at);\n"
    "CREATE INDEX rdv_notify_log_booking ON rdv_notify_log (booking_id);\n"
    "CREATE TABLE rdv_models (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  kind TEXT NOT NULL,\n" /* 'noshow' */
    "  version INTEGER NOT NULL,\n"
    "  trained_at BIGINT NOT NULL,\n"
    "  samples INTEGER NOT NULL,\n"
    "  weights TEXT NOT NULL,\n" /* JSON: feature names, weights, bias */
    "  metrics TEXT NOT NULL DEFAULT '',\n"
    "  UNIQUE (insee, kind, version)\n"
    ");\n";

/* The waiting list's job looks for lapsed holds every minute. */
static const char v2[] =
    "CREATE INDEX rdv_bookings_hold ON rdv_bookings (status, hold_until);\n";

static const struct store_migration migrations[] = {
    {"rdv", 1, v1},
    {"rdv", 2, v2},
};

const struct store_migration *
rdv_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(migrations);
    return migrations;
}
