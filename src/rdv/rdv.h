/*
 * rdv.h - appointment booking (rendez-vous): CNI/passeport and every other
 * motif, ANTS-compatible.
 *
 * The model, per commune (every row carries `insee`):
 *   - places (lieux): a mairie, an annexe; address, coordinates, phone;
 *   - counters (guichets): the resources that receive people, one place
 *     each; an agent's desk or a CNI/passeport station;
 *   - motifs: name, duration, per-person multiplier, booking window, who
 *     may book, whether residents may move/cancel and until when, the
 *     instructions shown after booking, and the ANTS reason when the motif
 *     is a CNI/passeport one;
 *   - opening ranges (plages): a counter is open on a weekday from a time
 *     to a time, every week or every other week, from a day until a day,
 *     for all motifs or a list of them;
 *   - absences and closures: a counter (absence) or a whole place
 *     (closure) is unavailable between two instants;
 *   - public holidays: computed (gu_holiday with the commune's rules,
 *     Alsace-Moselle from the INSEE code); no range opens on a holiday.
 *
 * Times. A slot is local civil time of the commune: a day number
 * (core.h) and minutes since local midnight. gu_tz_* convert to instants
 * for e-mails, iCalendar and ANTS. A counter's day is cut into units of
 * RDV_UNIT_MIN minutes; a booking of N minutes holds ceil(N/unit) units.
 *
 * The no-double-booking guarantee is the database's: table rdv_units has
 * PRIMARY KEY (counter_id, day, unit) and a booking inserts the rows of
 * the units it holds in the same transaction as the booking row; a
 * cancelled, moved or expired booking deletes them. Two clients racing
 * for one slot: one insert wins, the other gets GU_ECONFLICT, on SQLite
 * and PostgreSQL alike, threads or processes.
 *
 * Durability: a booking, its units, the e-mails it promises (notify
 * outbox) and its ANTS declarations (rdv_ants_queue) are written in ONE
 * transaction: after a crash, a stored booking has its e-mail queued, and
 * no e-mail exists for a booking that is not stored.
 *
 * Tokens: every link a resident receives (manage a booking, confirm or cancel
 * from a reminder, accept a waiting-list offer) holds its own token of 32
 * random bytes (256 bits, URL-safe base64, 43 characters), scoped to one
 * booking or one waiting-list entry; only its SHA-256 is stored (table
 * rdv_tokens), so each e-mail mints a fresh one (rdv_token_new). A wrong,
 * expired or anonymised token is GU_ENOTFOUND, with the same French
 * message in every case.
 *
 * Ownership: strings in results live in the arena of the call. Input
 * strings are borrowed. Every function takes the commune (insee) it acts
 * in and never reads or writes another commune's rows.
 *
 * Layering: rdv sits on store, notify, privacy and core; it knows nothing
 * of HTTP except its route tables (rdv_http.c, rdv_pages.c,
 * rdv_agent_pages.c, rdv_ants_hub.c).
 */
#ifndef RDV_RDV_H
#define RDV_RDV_H

#include "core/core.h"
#include "notify/notify.h"
#include "store/store.h"

/* Bounds on what enters. */
#define RDV_UNIT_MIN 5            /* granularity of a counter's day */
#define RDV_NAME_MAX 200          /* names, labels */
#define RDV_TEXT_MAX 4000         /* instructions, notes */
#define RDV_PEOPLE_MAX 10         /* people in one booking (motifs may say less) */
#define RDV_ANTS_IDS_MAX 10       /* pré-demande numbers in one booking */
#define RDV_DURATION_MAX 480      /* minutes, one motif for one person */
#define RDV_SEARCH_DAYS_MAX 366   /* widest slot search */
#define RDV_SLOTS_MAX 5000        /* slots returned by one search */
#define RDV_TOKEN_LEN 43          /* management token, characters */

/* Schema of the rdv module (store_migrate list). */
const struct store_migration *rdv_migrations(size_t *count);

/* ------------------------------------------------------------------ */
/* Model                                                               */
/* ------------------------------------------------------------------ */

struct rdv_place {
    int64_t id;
    char insee[6];
    const char *name;    /* « Mairie de Saint-Exemple » */
    const char *address; /* street, one line */
    const char *zip;     /* « 99001 » as written on letters */
    const char *city;
    double lat, lon;     /* WGS 84; 0,0 = unknown */
    const char *phone;   /* may be "" */
    bool active;
};

struct rdv_counter {
    int64_t id;
    char insee[6];
    int64_t place_id;
    const char *name; /* « Guichet 1 », « Station CNI/passeport » */
    bool active;
};

/* Who may book a motif. */
enum rdv_audience { RDV_PUBLIC = 0, RDV_AGENTS_ONLY = 1 };

/* The ANTS reason a motif answers (France Titres). */
enum rdv_ants_reason {
    RDV_ANTS_NONE = 0,
    RDV_ANTS_CNI,          /* "CNI" */
    RDV_ANTS_PASSPORT,     /* "PASSPORT" */
    RDV_ANTS_CNI_PASSPORT  /* "CNI-PASSPORT" */
};
const char *rdv_ants_reason_name(enum rdv_ants_reason r); /* "" for NONE */
int rdv_ants_reason_parse(const char *s, enum rdv_ants_reason *out);

struct rdv_motif {
    int64_t id;
    char insee[6];
    const char *code;        /* URL slug, unique in the commune: "cni" */
    const char *name;        /* « Carte d'identité (dépôt) » */
    int duration_min;        /* for one person / one document, 5..480 */
    bool per_person;         /* duration × people (else fixed duration) */
    int max_people;          /* 1..RDV_PEOPLE_MAX */
    int min_delay_h;         /* earliest booking: now + this many hours */
    int max_delay_d;         /* latest booking: today + this many days */
    const char *instructions; /* shown after booking and in the e-mail */
    enum rdv_audience audience;
    bool changeable;         /* residents may move or cancel */
    int change_until_h;      /* ... until this many hours before */
    enum rdv_ants_reason ants; /* CNI/passeport motif: pré-demande asked */
    int overbook_max;        /* extra bookings allowed per slot for high
                                no-show risk (0 = never overbook) */
    bool active;
};

/* Recurrence of an opening range. */
struct rdv_range {
    int64_t id;
    char insee[6];
    int64_t counter_id;
    int weekday;        /* ISO 1 = Monday .. 7 = Sunday */
    int start_min;      /* local minutes, multiple of RDV_UNIT_MIN */
    int end_min;        /* > start_min, <= 1440 */
    int every_weeks;    /* 1 = every week, 2 = every other week */
    int64_t from_day;   /* first day it applies (also the parity anchor
                           of every-other-week ranges) */
    int64_t until_day;  /* last day it applies, 0 = no end */
    const char *motifs; /* comma-separated motif ids, "" = all motifs */
};

/* An absence (counter_id != 0) or a closure of a place (counter_id == 0). */
struct rdv_absence {
    int64_t id;
    char insee[6];
    int64_t place_id;
    int64_t counter_id;  /* 0 = the whole place */
    int64_t start_day;
    int start_min;
    int64_t end_day;     /* exclusive end instant: (end_day, end_min) */
    int end_min;
    const char *reason;  /* « Formation », « Fermeture exceptionnelle » */
};

/*
 * Create or update (id == 0: create, *id_out gets the id; else update the
 * row of that id in `insee`, GU_ENOTFOUND otherwise). Every field is
 * validated: GU_EINVAL with err->field (French name of the field) and a
 * French err->user. GU_ECONFLICT for a duplicate motif code.
 */
int rdv_place_save(struct store_conn *c, const struct rdv_place *p,
                   int64_t *id_out, struct gu_err *err);
int rdv_counter_save(struct store_conn *c, const struct rdv_counter *k,
                     int64_t *id_out, struct gu_err *err);
int rdv_motif_save(struct store_conn *c, const struct rdv_motif *m,
                   int64_t *id_out, struct gu_err *err);
int rdv_range_save(struct store_conn *c, const struct rdv_range *r,
                   int64_t *id_out, struct gu_err *err);
int rdv_absence_save(struct store_conn *c, const struct rdv_absence *a,
                     int64_t *id_out, struct gu_err *err);
/*
 * Delete a range or an absence. Places, counters and motifs are never
 * deleted (bookings refer to them): they are deactivated (active=false).
 */
int rdv_range_delete(struct store_conn *c, const char *insee, int64_t id,
                     struct gu_err *err);
int rdv_absence_delete(struct store_conn *c, const char *insee, int64_t id,
                       struct gu_err *err);

/* Lists, ordered by name (ranges by counter, weekday, start). */
int rdv_place_list(struct store_conn *c, struct gu_arena *a,
                   const char *insee, bool active_only,
                   struct rdv_place **out, size_t *n, struct gu_err *err);
int rdv_counter_list(struct store_conn *c, struct gu_arena *a,
                     const char *insee, int64_t place_id /* 0 = all */,
                     struct rdv_counter **out, size_t *n, struct gu_err *err);
int rdv_motif_list(struct store_conn *c, struct gu_arena *a,
                   const char *insee, bool public_only,
                   struct rdv_motif **out, size_t *n, struct gu_err *err);
int rdv_range_list(struct store_conn *c, struct gu_arena *a,
                   const char *insee, int64_t counter_id /* 0 = all */,
                   struct rdv_range **out, size_t *n, struct gu_err *err);
/* Absences overlapping [from_day, to_day] (0, 0 = all). */
int rdv_absence_list(struct store_conn *c, struct gu_arena *a,
                     const char *insee, int64_t from_day, int64_t to_day,
                     struct rdv_absence **out, size_t *n, struct gu_err *err);
int rdv_place_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                  int64_t id, struct rdv_place *out, struct gu_err *err);
int rdv_motif_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                  int64_t id, struct rdv_motif *out, struct gu_err *err);
int rdv_motif_by_code(struct store_conn *c, struct gu_arena *a,
                      const char *insee, const char *code,
                      struct rdv_motif *out, struct gu_err *err);
/* The places where a motif is offered (some range of one of its counters
   lists it or lists all motifs). */
int rdv_motif_places(struct store_conn *c, struct gu_arena *a,
                     const char *insee, int64_t motif_id,
                     struct rdv_place **out, size_t *n, struct gu_err *err);

/*
 * The demo commune's appointment setup (places, counters, motifs with
 * CNI/passeport, ranges, a closure), idempotent; called by
 * `guichet init --demo`.
 */
int rdv_demo_seed(struct store_conn *c, const char *insee, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Slots                                                               */
/* ------------------------------------------------------------------ */

/* A free slot. The counter is the first free one at that place/time. */
struct rdv_slot {
    int64_t place_id;
    int64_t counter_id;
    int64_t day;
    int start_min;
    int end_min;
};

struct rdv_slot_query {
    const char *insee;
    int64_t motif_id;
    const int64_t *place_ids; /* NULL/0 = every place offering the motif */
    size_t nplaces;
    int64_t from_day, to_day; /* inclusive; clamped to the motif's window */
    int people;               /* 1..max_people; duration × people if per_person */
    int limit;                /* max slots returned, 1..RDV_SLOTS_MAX */
    bool one_per_time;        /* one slot per (place, day, time), whichever
                                 counter (what residents see) */
    bool agent;               /* an agent books: agents-only motifs and no
                                 minimum delay */
    int64_t now;              /* unix seconds (0 = gu_now()); tests set it */
};

/*
 * Free slots in time order (day, start, place). Starts are aligned on the
 * range start in steps of the booking's duration rounded up to units.
 * Excludes past slots, holidays, absences, closures, booked units, and
 * slots outside [now + min_delay_h, today + max_delay_d]. GU_EINVAL
 * (French) for a bad query; GU_ENOTFOUND for an unknown or inactive motif.
 */
int rdv_slots(struct store_conn *c, struct gu_arena *a,
              const struct rdv_slot_query *q, struct rdv_slot **out,
              size_t *n, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Bookings                                                            */
/* ------------------------------------------------------------------ */

enum rdv_status {
    RDV_HELD = 0,      /* offered to the waiting list, not yet accepted */
    RDV_CONFIRMED,     /* booked */
    RDV_CANCELLED,
    RDV_PRESENT,
    RDV_NOSHOW,
    RDV_EXCUSED
};
const char *rdv_status_name(enum rdv_status s); /* "confirme"... (French) */
int rdv_status_parse(const char *s, enum rdv_status *out);

/* How the booking reached us. */
enum rdv_channel { RDV_WEB = 0, RDV_AGENT_DESK, RDV_PHONE, RDV_ASSISTANT, RDV_VOICE };
const char *rdv_channel_name(enum rdv_channel ch); /* "web", "guichet"... */

struct rdv_booking {
    int64_t id;
    char insee[6];
    int64_t motif_id;
    int64_t place_id;
    int64_t counter_id;
    int64_t day;
    int start_min, end_min;
    int people;
    const char *name;     /* "" once anonymised */
    const char *email;    /* may be "" */
    const char *phone;    /* may be "" (digits, "+33..." accepted) */
    const char *ants_ids; /* comma-separated pré-demande numbers, may be "" */
    enum rdv_status status;
    enum rdv_channel channel;
    const char *created_by; /* "public" or the agent's login */
    int64_t created_at;
    int64_t confirmed_at;   /* resident confirmed from a reminder, 0 = no */
    int64_t reminded_at;    /* last reminder sent, 0 = none */
    int reminders;          /* how many reminders went out */
    double risk;            /* no-show risk at booking time, -1 = unknown */
    int64_t moved_from;     /* booking id this one replaced, 0 = none */
    int lane;               /* 0, or 1.. for an overbooking (see schema) */
    int64_t hold_until;     /* RDV_HELD: when the offer expires */
    const char *note;       /* agent's note, may be "" */
    /* Joined for display. */
    const char *motif_name;
    const char *place_name;
    const char *counter_name;
};

/* A booking request. */
struct rdv_book_req {
    const char *insee;
    int64_t motif_id;
    int64_t place_id;
    int64_t counter_id;   /* 0 = any free counter of the place */
    int64_t day;
    int start_min;
    int people;
    const char *name, *email, *phone; /* name and (email or phone) required */
    const char *ants_ids;  /* comma/space separated; required when the
                              motif has an ANTS reason and channel is web */
    bool consent;          /* required for residents (channel web) */
    bool ants_override;    /* the resident confirmed despite an appointment
                              found elsewhere (ANTS check said so) */
    enum rdv_channel channel;
    const char *actor;     /* "public" or the agent's login (audit) */
    bool agent;            /* booked by an agent: agents-only motifs, no
                              minimum delay, consent not asked */
    const char *note;
    const char *public_url; /* base for links in e-mails ("" = relative) */
    int64_t now;           /* 0 = gu_now() */
};

/*
 * Check a pré-demande number: exactly 10 characters [A-Z0-9] after
 * upper-casing and removing spaces; writes the canonical form into out
 * (>= 11 bytes). GU_EINVAL with a French message otherwise.
 */
int rdv_ants_id_check(const char *in, char *out, size_t cap,
                      struct gu_err *err);

/*
 * The result of a successful booking: its id and the management token
 * (only ever shown here: e-mail link and confirmation page).
 */
struct rdv_booked {
    int64_t id;
    char token[RDV_TOKEN_LEN + 1];
};

/*
 * Book. Validates everything (French errors with err->field: motif not
 * offered at this place, past slot, outside the window, too many people,
 * malformed pré-demande, missing consent...). When the motif has an ANTS
 * reason and ants.url is configured, the pré-demande numbers are checked
 * against the ANTS coordination API first (rdv_ants_check: fail closed).
 * Then, in one transaction: the booking row, its units (GU_ECONFLICT if
 * any is taken, with err->user « Ce créneau vient d'être pris »), the
 * confirmation e-mail with its .ics (if an e-mail was given), the ANTS
 * declarations, the audit entry. `cfg` gives smtp/ants/public settings.
 */
int rdv_book(struct store_conn *c, const struct gu_config *cfg,
             const struct rdv_book_req *r, struct rdv_booked *out,
             struct gu_err *err);

/*
 * Move a booking to another slot (same motif; place may change): the new
 * units are taken and the old released in one transaction; same token;
 * e-mail and ANTS declarations updated. Residents (by token) only while
 * the motif is changeable and before change_until_h. GU_ECONFLICT if the
 * new slot is taken.
 */
int rdv_move(struct store_conn *c, const struct gu_config *cfg,
             const char *insee, int64_t id, int64_t place_id, int64_t day,
             int start_min, bool agent, const char *actor,
             struct gu_err *err);
/* Cancel: units released, e-mail, ANTS withdrawal, waiting list offered. */
int rdv_cancel(struct store_conn *c, const struct gu_config *cfg,
               const char *insee, int64_t id, bool agent, const char *actor,
               struct gu_err *err);
/* Agents: present / no-show / excused (only for a past or current day). */
int rdv_set_status(struct store_conn *c, const char *insee, int64_t id,
                   enum rdv_status st, const char *actor, struct gu_err *err);
/* An agent's note on a booking (rdv_api.c): at most RDV_TEXT_MAX
   characters, GU_ENOTFOUND outside `insee` or once anonymised. */
int rdv_set_note(struct store_conn *c, const char *insee, int64_t id,
                 const char *note, struct gu_err *err);
/* The resident confirmed from a reminder link. */
int rdv_confirm(struct store_conn *c, const char *insee, int64_t id,
                struct gu_err *err);

/*
 * Mint a token for a booking (booking_id) or a waiting-list entry
 * (wait_id), kind "gestion", "rappel", "offre" or "attente", valid until
 * expires_at (0 = as long as the booking/entry exists). Writes it into
 * out. Inside the caller's transaction when there is one.
 */
int rdv_token_new(struct store_conn *c, const char *insee, int64_t booking_id,
                  int64_t wait_id, const char *kind, int64_t expires_at,
                  char out[RDV_TOKEN_LEN + 1], struct gu_err *err);

/* True when t has a minted token's shape (RDV_TOKEN_LEN characters of
   URL-safe base64): anything else is refused before any lookup. */
bool rdv_token_shape(const char *t);

/* Resolve a booking token (any commune): GU_ENOTFOUND if unknown. */
int rdv_by_token(struct store_conn *c, struct gu_arena *a, const char *token,
                 struct rdv_booking *out, struct gu_err *err);
int rdv_get(struct store_conn *c, struct gu_arena *a, const char *insee,
            int64_t id, struct rdv_booking *out, struct gu_err *err);

/* Agenda filter: bookings of a commune overlapping [from_day, to_day]. */
struct rdv_agenda_query {
    const char *insee;
    int64_t from_day, to_day;
    int64_t place_id;   /* 0 = all */
    int64_t counter_id; /* 0 = all */
    bool with_cancelled;
};
int rdv_agenda(struct store_conn *c, struct gu_arena *a,
               const struct rdv_agenda_query *q, struct rdv_booking **out,
               size_t *n, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Waiting list                                                        */
/* ------------------------------------------------------------------ */

struct rdv_wait_req {
    const char *insee;
    int64_t motif_id;
    int64_t place_id;     /* 0 = any place */
    int people;
    const char *name, *email, *phone; /* e-mail required (offers go by mail) */
    int64_t before_day;   /* wants a slot before this day (0 = any earlier
                             than what search shows now) */
    const char *ants_ids;
    bool consent;
};
/* Join the waiting list; out->token manages the entry (leave, accept). */
int rdv_wait_join(struct store_conn *c, const struct gu_config *cfg,
                  const struct rdv_wait_req *r, struct rdv_booked *out,
                  struct gu_err *err);
/*
 * Offer freed slots: for each waiting entry in order, the first free slot
 * matching it is HELD for rdv.offer_hours and offered by e-mail (accept
 * link); expired holds are released and the entry moves on; at most
 * rdv.max_offers offers per entry. Returns offers made. (Job rdv.waitlist.)
 */
int rdv_wait_run(struct store *s, const struct gu_config *cfg,
                 struct gu_err *err);
/* Accept or decline an offer by the entry's token. On accept the held
   booking becomes confirmed and *out gets its token. */
int rdv_wait_accept(struct store_conn *c, const struct gu_config *cfg,
                    const char *token, struct rdv_booked *out,
                    struct gu_err *err);
int rdv_wait_leave(struct store_conn *c, const char *token,
                   struct gu_err *err);
/*
 * A waiting-list entry as its owner sees it through a token minted for
 * it (rdv_api.c). GU_ENOTFOUND for an unknown or expired token and once
 * the resident left the list. Strings in `a`.
 */
struct rdv_wait {
    int64_t id;
    char insee[6];
    int64_t motif_id;
    int64_t place_id;   /* 0 = any place */
    int people;
    int64_t before_day; /* 0 = any */
    const char *status; /* attente, proposé, accepté, expiré */
    int offers;         /* offers made so far */
    int64_t booking_id; /* the held (proposé) or accepted booking, 0 = none */
    int64_t created_at;
};
int rdv_wait_get(struct store_conn *c, struct gu_arena *a, const char *token,
                 struct rdv_wait *out, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Notifications, iCalendar                                           */
/* ------------------------------------------------------------------ */

/*
 * One VEVENT (or a VCALENDAR of n events) for bookings, with the
 * commune's VTIMEZONE, UID rdv-<id>@<host>, SUMMARY, LOCATION, DTSTAMP,
 * STATUS, lines folded at 75 octets, CRLF. `with_people` adds names
 * (agents' feeds and exports; never in residents' files beyond their own).
 */
char *rdv_ics(struct gu_arena *a, const char *insee, const char *zone,
              const struct rdv_booking *b, size_t n, bool with_people,
              const char *calname);

/*
 * What rdv_ics() cannot know from bookings alone (added by the notify
 * helper: UID host, address, instructions and link, SEQUENCE). Arrays
 * are n long or NULL; NULL entries take the default.
 */
struct rdv_ics_opts {
    const char *host;                /* UID domain; NULL/"" = "guichet.local" */
    const char *const *locations;    /* LOCATION; default b->place_name */
    const char *const *descriptions; /* DESCRIPTION; default none */
    const int *sequences;            /* SEQUENCE; default 1 per move/cancel */
    int64_t dtstamp;                 /* DTSTAMP, unix seconds; 0 = now */
};
char *rdv_ics_ext(struct gu_arena *a, const char *zone,
                  const struct rdv_booking *b, size_t n, bool with_people,
                  const char *calname, const struct rdv_ics_opts *opt);
/* Host part of server.public_url for UIDs, "guichet.local" if none. */
const char *rdv_ics_host(struct gu_arena *a, const char *public_url);
/* "Name, address, zip city" of a place, for LOCATION and e-mails. */
const char *rdv_ics_location(struct gu_arena *a, const struct rdv_place *p);
/*
 * rdv_ics for exports and feeds: the commune's zone, each place's address
 * (LOCATION), each motif's instructions (DESCRIPTION), the host of
 * server.public_url and SEQUENCE from the notification log are read from
 * the store. NULL with err set on a storage error.
 */
char *rdv_ics_store(struct store_conn *c, struct gu_arena *a,
                    const struct gu_config *cfg, const char *insee,
                    const struct rdv_booking *b, size_t n, bool with_people,
                    const char *calname, struct gu_err *err);

/*
 * Queue the e-mail of an event about a booking ("rdv.confirm",
 * "rdv.move", "rdv.cancel", "rdv.remind", "rdv.offer") inside the
 * caller's transaction; reminders also queue an SMS when a phone number
 * is known (see rdv_sms_run) and are recorded in rdv_notify_log. `token`
 * is a token already minted for this booking (the confirmation reuses the
 * one the page shows), or NULL: rdv_notify then mints one
 * (rdv_token_new) for the links of this message.
 */
int rdv_notify(struct store_conn *c, const struct gu_config *cfg,
               const struct rdv_booking *b, const char *kind,
               const char *token, struct gu_err *err);

/*
 * Reminders two days and one day before, plus one four days before when
 * the booking's no-show risk >= rdv.extra_reminder_risk (job rdv.remind,
 * every 5 minutes; each reminder at most once, recorded in
 * rdv_notify_log). Returns count.
 */
int rdv_remind_run(struct store *s, const struct gu_config *cfg,
                   struct gu_err *err);
/*
 * Queue an SMS of `text` (at most 480 bytes, GU_ETOOBIG beyond) to the
 * phone number of booking `booking_id` of `insee` (GU_ENOTFOUND; GU_EINVAL
 * when the booking has no number), sent by rdv_sms_run like the
 * reminders: e.g. the phone bot's confirmation code.
 */
int rdv_sms_queue_text(struct store_conn *c, const char *insee,
                       int64_t booking_id, const char *text,
                       struct gu_err *err);

/*
 * Send queued SMS (table rdv_sms_queue) through rdv.sms_url (POST JSON
 * {"to","text"}) or rdv.sms_command (argv: number, text; no shell), with
 * retries; nothing when both are empty (rows stay queued, then purged).
 * Job rdv.sms. Returns count sent.
 */
int rdv_sms_run(struct store *s, const struct gu_config *cfg,
                struct gu_err *err);
/* The same two jobs with the clock given (tests; `now` in unix seconds). */
int rdv_remind_run_at(struct store *s, const struct gu_config *cfg,
                      int64_t now, struct gu_err *err);
int rdv_sms_run_at(struct store *s, const struct gu_config *cfg, int64_t now,
                   struct gu_err *err);

/* ------------------------------------------------------------------ */
/* No-shows                                                            */
/* ------------------------------------------------------------------ */

/* No-show rate by one dimension. */
struct rdv_noshow_row {
    const char *key;   /* motif name, « lundi », « 9 h », « 8 à 14 jours » */
    int booked;        /* past bookings with an outcome */
    int noshow;
    double rate;
};
/* dim: "motif", "jour", "heure", "delai". Over [from_day, to_day]. */
int rdv_noshow_stats(struct store_conn *c, struct gu_arena *a,
                     const char *insee, const char *dim, int64_t from_day,
                     int64_t to_day, struct rdv_noshow_row **out, size_t *n,
                     struct gu_err *err);

/*
 * The no-show risk model of a commune (logistic regression, liblinear, on
 * lead time, weekday, hour, past no-shows of the same person, reminder
 * confirmed). Trained by the job rdv.noshow (daily) from past outcomes;
 * used only to send an extra reminder or to allow a motif's configured
 * overbooking — never to refuse or delay anyone. -1 when no model yet.
 * `why` (may be NULL) gets a French explanation of the main factors.
 */
double rdv_risk(struct store_conn *c, struct gu_arena *a,
                const struct rdv_booking *b, const char **why);
int rdv_risk_train(struct store *s, const struct gu_config *cfg,
                   struct gu_err *err);

/* ------------------------------------------------------------------ */
/* ANTS (France Titres)                                               */
/* ------------------------------------------------------------------ */

/* Outcome of the anti-duplicate check of one pré-demande number. */
enum rdv_ants_state {
    RDV_ANTS_OK = 0,      /* validated, no appointment elsewhere */
    RDV_ANTS_ELSEWHERE,   /* validated, an appointment exists elsewhere:
                             warn, the resident may override */
    RDV_ANTS_REFUSED      /* not validated (unknown, consumed, expired...) */
};

/*
 * Ask the coordination API about the numbers (GET /status, header
 * x-rdv-opt-auth-token, ants.timeout_ms). 0 with *state set, or
 * GU_EBUSY on error/timeout (fail closed: the caller refuses the
 * booking with a clear French message). *detail (arena) gets a French
 * sentence for the resident (where the other appointment is). A no-op
 * returning RDV_ANTS_OK when ants.url is empty.
 */
int rdv_ants_check(const struct gu_config *cfg, struct gu_arena *a,
                   const char *const *ids, size_t n,
                   enum rdv_ants_state *state, const char **detail,
                   struct gu_err *err);
/*
 * Queue declarations for a booking inside the caller's transaction:
 * "declare" (POST /appointments) or "withdraw" (DELETE /appointments),
 * one per pré-demande number. Nothing is queued when ants.url is empty.
 */
int rdv_ants_queue(struct store_conn *c, const struct rdv_booking *b,
                   const char *op, const char *management_url,
                   struct gu_err *err);
/* Send due declarations with retries and backoff (job rdv.ants). */
int rdv_ants_run(struct store *s, const struct gu_config *cfg,
                 struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Retention, jobs, routes                                            */
/* ------------------------------------------------------------------ */

/*
 * Anonymise bookings (name, email, phone, ants_ids, note cleared; token
 * hash dropped) whose day is more than rdv.retention_days old, and delete
 * notification log rows older than rdv.log_retention_days. Returns rows
 * changed. Used by `guichet purge` and the daily job rdv.purge.
 */
int rdv_purge(struct store *s, const struct gu_config *cfg, int64_t now,
              struct gu_err *err);

/* rdv.remind, rdv.sms, rdv.waitlist, rdv.ants, rdv.noshow, rdv.purge. */
const struct notify_job *rdv_jobs(size_t *count);

struct http_routes;
extern const struct http_routes rdv_routes;        /* /api/v1/rdv/... */
extern const struct http_routes rdv_page_routes;   /* /rdv... residents */
extern const struct http_routes rdv_agent_routes;  /* /agent/rdv... */
extern const struct http_routes rdv_ants_routes;   /* hub endpoints */

/*
 * Residents' rights (rdv_pdata.c, called by app_rights.c): everything
 * held about the person of `insee` with this normalised e-mail and/or
 * phone (either may be NULL; pii_norm_email / pii_norm_phone forms).
 * Export adds the member "rdv" to `out` (bookings, waiting list, SMS,
 * notification log, ANTS declarations; French field names). Erase runs
 * inside the caller's transaction: bookings still to come are cancelled
 * (units freed, ANTS withdrawn, no e-mail), every row anonymised or
 * deleted; *rows is added to. GU_ETOOBIG beyond 5,000 rows of a table.
 */
int rdv_pdata_export(struct store_conn *c, struct gu_arena *a,
                     const char *insee, const char *email, const char *phone,
                     json_t *out, struct gu_err *err);
int rdv_pdata_erase(struct store_conn *c, const char *insee,
                    const char *email, const char *phone, int64_t *rows,
                    struct gu_err *err);

#endif
