/*
 * rdv_internal.h - what the rdv core files (rdv.c, rdv_slots.c,
 * rdv_book.c, rdv_wait.c, rdv_purge.c) share and nobody else needs.
 * Other rdv files may use these helpers too; they are not a contract.
 */
#ifndef RDV_RDV_INTERNAL_H
#define RDV_RDV_INTERNAL_H

#include "rdv/rdv.h"

/*
 * A text field: valid UTF-8, no control characters (newlines allowed when
 * `multiline`), not blank when `required`, at most `max` characters.
 * GU_EINVAL with err->field = field and a French message using `label`
 * (« Le nom »). NULL counts as "".
 */
int rdv_check_text(const char *s, const char *field, const char *label,
                   bool required, size_t max, bool multiline,
                   struct gu_err *err);

/* An e-mail address ("" allowed): GU_EINVAL (field "email") otherwise. */
int rdv_check_email(const char *s, struct gu_err *err);

/*
 * A phone number ("" allowed): digits, spaces, dots, dashes, one leading
 * "+", 6..20 digits. GU_EINVAL (field "phone") otherwise.
 */
int rdv_check_phone(const char *s, struct gu_err *err);

/* Days the domain accepts: 2000-01-01 .. 2099-12-31 (day numbers). */
#define RDV_DAY_MIN 10957
#define RDV_DAY_MAX 47481

/* Is motif `id` in a range's list ("" = every motif)? */
bool rdv_motif_listed(const char *list, int64_t id);

/* The civil-time context of a commune (its zone gives tz and holidays). */
struct rdv_commune_ctx {
    enum gu_tz tz;
    enum gu_holiday_rules rules;
    const char *name; /* arena */
};
int rdv_commune_ctx(struct store_conn *c, struct gu_arena *a, const char *insee,
                    struct rdv_commune_ctx *out, struct gu_err *err);

/* Read one motif row (columns RDV_MOTIF_COLS) into *m (strings in a). */
#define RDV_MOTIF_COLS                                                         \
    "id, insee, code, name, duration_min, per_person, max_people, "            \
    "min_delay_h, max_delay_d, instructions, audience, changeable, "           \
    "change_until_h, ants_reason, overbook_max, active"
void rdv_motif_row(const struct store_rows *r, size_t i, struct rdv_motif *m);

/* Length in minutes of a booking of motif m for `people` people. */
int rdv_booking_minutes(const struct rdv_motif *m, int people);

/* Units (RDV_UNIT_MIN) covering `minutes`, rounded up. */
static inline int
rdv_units_of(int minutes)
{
    return (minutes + RDV_UNIT_MIN - 1) / RDV_UNIT_MIN;
}

/* Copy an INSEE code into a struct's char[6] (truncates safely). */
void rdv_insee_copy(char dst[6], const char *insee);

/*
 * rdv_slots() with two options for booking and moving: `rules_only`
 * ignores booked units (the slot is checked against ranges, absences,
 * holidays and the booking window; the database then settles who gets
 * it), and `counter_id` (0 = any) keeps one counter's slots.
 */
int rdv_slots_find(struct store_conn *c, struct gu_arena *a,
                   const struct rdv_slot_query *q, bool rules_only,
                   int64_t counter_id, struct rdv_slot **out, size_t *n,
                   struct gu_err *err);

/* A booking with its joined names (rdv_get, rdv_agenda, rdv_by_token). */
#define RDV_BOOKING_COLS                                                       \
    "b.id, b.insee, b.motif_id, b.place_id, b.counter_id, b.day, "             \
    "b.start_min, b.end_min, b.people, b.name, b.email, b.phone, "             \
    "b.ants_ids, b.status, b.channel, b.created_by, b.created_at, "            \
    "b.confirmed_at, b.reminded_at, b.reminders, b.risk, b.moved_from, "       \
    "b.lane, b.hold_until, b.note, m.name, p.name, k.name"
#define RDV_BOOKING_FROM                                                       \
    " FROM rdv_bookings b JOIN rdv_motifs m ON m.id = b.motif_id"              \
    " JOIN rdv_places p ON p.id = b.place_id"                                  \
    " JOIN rdv_counters k ON k.id = b.counter_id"
void rdv_booking_row(const struct store_rows *r, size_t i,
                     struct rdv_booking *b);

/* ----- shared by rdv_book.c and rdv_wait.c ----- */

/*
 * The motif of a booking or a waiting-list entry: active, public unless
 * `agent`, and 1..max_people people; GU_EINVAL (fields "motif",
 * "people") with the French message otherwise.
 */
int rdv_bookable_motif(struct store_conn *c, struct gu_arena *a,
                       const char *insee, int64_t motif_id, int people,
                       bool agent, struct rdv_motif *m, struct gu_err *err);

/*
 * Parse a list of pré-demande numbers into the canonical "A,B" (buf) and
 * ids[] (may be NULL); *n the count. GU_EINVAL (field "ants_ids").
 */
int rdv_ants_list(const char *in, char *buf, size_t cap,
                  char ids[RDV_ANTS_IDS_MAX][11], size_t *n,
                  struct gu_err *err);
/*
 * The ANTS coordination check before writing (fail closed): GU_EINVAL
 * refused, GU_ECONFLICT (field "ants_override") elsewhere without
 * override, GU_EBUSY unavailable. 0 when ants.url is empty.
 */
int rdv_ants_precheck(const struct gu_config *cfg, struct gu_arena *a,
                      char ids[RDV_ANTS_IDS_MAX][11], size_t n, bool override,
                      struct gu_err *err);
/* Insert the units of a booking in one statement (GU_ECONFLICT if any is
   taken; the statement is undone, the transaction goes on). */
int rdv_units_insert(struct store_conn *c, struct gu_arena *a,
                     const char *insee, int64_t id, int64_t counter,
                     int64_t day, int start_min, int end_min, int lane,
                     struct gu_err *err);
/* "<public_url or server.public_url>/rdv/r/<token>" in a. */
const char *rdv_manage_url(struct gu_arena *a, const struct gu_config *cfg,
                           const char *public_url, const char *token);
/* An audit entry on "rdv:<id>" (no personal data in detail). */
int rdv_audit(struct store_conn *c, const char *insee, const char *actor,
              const char *action, int64_t id, const char *detail,
              struct gu_err *err);
/* The job rdv.purge: rdv_purge() now. */
int rdv_purge_job(struct store *s, const struct gu_config *cfg,
                  struct gu_err *err);
/* rdv_wait_run with a given clock (tests). */
int rdv_wait_run_at(struct store *s, const struct gu_config *cfg, int64_t now,
                    struct gu_err *err);

#endif
