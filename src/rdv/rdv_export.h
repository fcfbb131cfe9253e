/*
 * rdv_export.h - what agents take out of the appointment domain: the CSV
 * export of a period (for a spreadsheet), the iCalendar export of a
 * period, and the per-counter iCalendar feed their own calendar apps
 * subscribe to (a secret address, revocable by renewing it). Logic only;
 * the routes are in rdv_agent_pages.c.
 *
 * Ownership: results live in the arena of the call.
 */
#ifndef RDV_RDV_EXPORT_H
#define RDV_RDV_EXPORT_H

#include "rdv/rdv.h"

#define RDV_EXPORT_DAYS_MAX 366   /* widest exported period */
#define RDV_EXPORT_ROWS_MAX 20000 /* more bookings: GU_ETOOBIG */
#define RDV_FEED_PAST_DAYS 7      /* a feed shows the last 7 days... */
#define RDV_FEED_NEXT_DAYS 60     /* ...and the next 60 */

/* Which bookings an export takes. */
struct rdv_export_query {
    const char *insee;
    int64_t from_day, to_day; /* inclusive, at most RDV_EXPORT_DAYS_MAX */
    int64_t place_id;         /* 0 = all */
    int64_t counter_id;       /* 0 = all */
    bool with_cancelled;      /* cancelled ones too (held offers never) */
};

/*
 * The bookings of a period in time order (day, start, counter), with the
 * motif, place and counter names. GU_EINVAL (French, field "from"/"to")
 * for a bad period, GU_ETOOBIG beyond RDV_EXPORT_ROWS_MAX.
 */
int rdv_export_bookings(struct store_conn *c, struct gu_arena *a,
                        const struct rdv_export_query *q,
                        struct rdv_booking **out, size_t *n,
                        struct gu_err *err);

/*
 * The CSV of those bookings into b: UTF-8 with a BOM (Excel), `;`
 * separator, CRLF, French headers, dates dd/mm/yyyy, times HH:MM; a
 * cell that a spreadsheet would read as a formula (starting with = + -
 * @, tab or CR) is prefixed with '. GU_ENOMEM on allocation failure.
 */
int rdv_export_csv(struct gu_buf *b, const struct rdv_booking *v, size_t n);

/* One CSV cell (quoted when needed, formula-safe), for tests and reuse. */
void rdv_csv_cell(struct gu_buf *b, const char *s);

/*
 * Mint a new feed token for a counter of `insee` (32 random bytes,
 * URL-safe base64): only its SHA-256 is stored (rdv_counters.feed_hash),
 * replacing the previous one, which stops working. Audited (action
 * rdv.feed.new, no token in the detail). GU_ENOTFOUND for an unknown
 * counter.
 */
int rdv_feed_new(struct store_conn *c, const char *insee, int64_t counter_id,
                 const char *actor, const char *request_id,
                 char token[RDV_TOKEN_LEN + 1], struct gu_err *err);
/* Stop a counter's feed (feed_hash cleared). Audited (rdv.feed.revoke). */
int rdv_feed_revoke(struct store_conn *c, const char *insee, int64_t counter_id,
                    const char *actor, const char *request_id,
                    struct gu_err *err);
/* Whether each counter of `insee` has a feed: ids with a feed, in a. */
int rdv_feed_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                  int64_t **ids, size_t *n, struct gu_err *err);

/*
 * The iCalendar text of the feed a token opens: the counter's bookings
 * from RDV_FEED_PAST_DAYS ago to RDV_FEED_NEXT_DAYS ahead (commune's civil
 * time, `now` = 0 for gu_now()), names included. Any token that is not a
 * current feed token gives GU_ENOTFOUND, the same in every case.
 */
int rdv_feed_ics(struct store_conn *c, struct gu_arena *a,
                 const struct gu_config *cfg, const char *token, int64_t now,
                 const char **ics, struct gu_err *err);

#endif
