/*
 * ins.h - impact and transparency (« Rapport », /transparence).
 *
 * The impact dashboard and monthly report (what Guichet really saved,
 * converted into hours and euros with the commune's own costs, with the
 * method stated) and the public transparency page generated from the
 * running configuration (CRPA L312-1-3).
 *
 * Layering: insight reads the other domains' tables through store (and
 * their public headers); nothing depends on it but app. Every figure is
 * computed by one function from the database, for one commune and one
 * civil month in the commune's time zone; docs/rapport.md gives each
 * formula and its source table.
 *
 * Ownership: the structs below are plain values (the month's figures) or
 * hold pointers into the arena passed to the call that filled them.
 */
#ifndef GUICHET_INS_H
#define GUICHET_INS_H

#include "store/store.h"
#include "web/http.h"

extern const struct http_routes ins_routes; /* ins_http.c */

/* The schema of the insight module (ins_costs, ins_canteen_recos). */
const struct store_migration *ins_migrations(size_t *count);

/*
 * The module's job for the runner: "insight.canteen" (hourly) records,
 * for every canteen series, the order Guichet recommends for each coming
 * day (ins_canteen_snapshot), so that the report can later compare it
 * with what was actually eaten.
 */
struct notify_job;
const struct notify_job *ins_jobs(size_t *count);

/* ------------------------------------------------------------------ */
/* Months                                                              */
/* ------------------------------------------------------------------ */

/* A civil month of a commune: [t0, t1) in unix seconds, [day0, day1) in
   day numbers. */
struct ins_month {
    int year, month;    /* 2026, 11 */
    int64_t day0, day1; /* first day, first day of the next month */
    int64_t t0, t1;     /* their local midnights as unix seconds */
};

/* "2026-11" -> *out for the commune's zone ("A", "B", "C", "corse",
   overseas...). GU_EINVAL (French message) on anything else. */
int ins_month_parse(const char *s, const char *zone, struct ins_month *out,
                    struct gu_err *err);
/* The month of y-m (m may be 0 or 13: it wraps to the year before/after). */
void ins_month_make(int y, int m, const char *zone, struct ins_month *out);
/* The month containing instant `t` in the zone. */
void ins_month_of(int64_t t, const char *zone, struct ins_month *out);
/* "2026-11" into buf (>= 8 bytes). */
void ins_month_key(const struct ins_month *m, char *buf, size_t cap);
/* « novembre 2026 » into buf. */
void ins_month_label(const struct ins_month *m, char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* The commune's costs                                                 */
/* ------------------------------------------------------------------ */

/*
 * What one unit of work is worth in the commune. Defaults come from the
 * [insight] settings (insight.*); an admin overrides them per commune
 * (/agent/rapport/reglages, table ins_costs).
 */
struct ins_costs {
    double min_answer;  /* agent minutes saved by an automatic answer */
    double min_routed;  /* minutes saved by a request routed automatically */
    double min_booking; /* minutes saved by an appointment booked online */
    double hourly_cost; /* euros per hour of an agent (fully loaded) */
    double meal_cost;   /* euros per meal, when the canteen has none */
    double meal_kg;     /* kg per meal, when the canteen has none */
    bool custom;        /* set by the commune (else the defaults) */
    int64_t updated_at; /* 0 when never set */
    const char *updated_by; /* in the caller's arena, "" when never set */
};

/* Bounds of each value (validated on save). */
#define INS_MINUTES_MAX 240.0
#define INS_HOURLY_MAX 500.0
#define INS_MEAL_COST_MAX 50.0
#define INS_MEAL_KG_MAX 5.0

/* The instance's defaults (cfg may be NULL: built-in values). */
void ins_costs_default(const struct gu_config *cfg, struct ins_costs *out);
/* The commune's costs: its own row, else the defaults. */
int ins_costs_get(struct store_conn *c, struct gu_arena *a,
                  const struct gu_config *cfg, const char *insee,
                  struct ins_costs *out, struct gu_err *err);
/* Validate and save (upsert). GU_EINVAL with err->field = the field's
   name and a French message when a value is out of bounds. */
int ins_costs_save(struct store_conn *c, const char *insee,
                   const struct ins_costs *in, const char *actor,
                   int64_t now, struct gu_err *err);
/* Forget the commune's own costs (back to the defaults). */
int ins_costs_reset(struct store_conn *c, const char *insee,
                    struct gu_err *err);

/* ------------------------------------------------------------------ */
/* The month's figures: one function per domain                        */
/* ------------------------------------------------------------------ */

/* Assistant (asst_messages, asst_handoffs). Medians are NAN when there
   is nothing to take one of. */
struct ins_assistant {
    int64_t answers;        /* replies of type "answer" */
    int64_t abstentions;    /* "handoff_offer": the assistant did not know */
    int64_t clarifications; /* "clarify" */
    int64_t handoffs;       /* questions handed over to agents */
    int64_t handoffs_answered;
    double handoff_median_s; /* created -> answered, answered ones */
    int64_t useful, not_useful; /* residents' ratings of the month */
};
int ins_assistant_month(struct store_conn *c, struct gu_arena *a,
                        const char *insee, const struct ins_month *m,
                        struct ins_assistant *out, struct gu_err *err);

/* Requests (tri_requests, tri_decisions). */
struct ins_triage {
    int64_t received;    /* requests created in the month */
    int64_t auto_routed; /* the intake's service decision routed it */
    int64_t corrected;   /* of those, an agent later chose another service */
    int64_t replied;     /* with a first reply to the resident */
    double reply_median_s; /* created -> first reply */
};
int ins_triage_month(struct store_conn *c, struct gu_arena *a,
                     const char *insee, const struct ins_month *m,
                     struct ins_triage *out, struct gu_err *err);

/* Appointments (rdv_bookings). Days of the month before `today` only for
   the kept / no-show counts (a future appointment is neither). */
struct ins_rdv {
    int64_t held;      /* appointments on past days (not cancelled) */
    int64_t kept;      /* status présent */
    int64_t noshow;    /* status absent */
    int64_t excused;   /* status excusé */
    int64_t unmarked;  /* still « confirmé »: nobody recorded the outcome */
    int64_t cancelled; /* cancelled, on the month's days */
    int64_t online;    /* booked in the month by the web, chat or phone bot */
    int64_t recovered; /* booked in the month through the waiting list */
    int64_t recovered_min; /* their minutes of counter time */
};
int ins_rdv_month(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const struct ins_month *m, int64_t today,
                  struct ins_rdv *out, struct gu_err *err);

/* Canteens (fc_series kind cantine, fc_points, ins_canteen_recos). */
struct ins_canteen {
    int64_t series;      /* canteens with at least one compared day */
    int64_t days;        /* canteen-days with actual, staff and Guichet */
    double staff_surplus; /* meals: sum of max(0, staff - actual) */
    double reco_surplus;  /* meals: sum of max(0, Guichet - actual) */
    int64_t staff_short;  /* days the staff's figure was below the actual */
    int64_t reco_short;   /* days Guichet's was */
    double meals_saved;   /* staff_surplus - reco_surplus (may be < 0) */
    double kg_saved;      /* meals_saved times each canteen's kg per meal */
    double euros_saved;   /* meals_saved times its cost per meal */
    int64_t days_actual;  /* canteen-days with an actual (compared or not) */
    int64_t days_retro;   /* compared days whose recommendation comes from
                             the rétro-test (ins_canteen_backfill) */
};
int ins_canteen_month(struct store_conn *c, struct gu_arena *a,
                      const char *insee, const struct ins_month *m,
                      const struct ins_costs *costs, struct ins_canteen *out,
                      struct gu_err *err);
/*
 * The rétro-test of the commune's canteens over the `days` days before
 * today: for each past day with no recommendation recorded before it (a
 * new instance, the demo), the order Guichet would have recommended from
 * the data known then (ins_figures.c: backfill_series), stored with
 * method "retro:<method>" and made_at 0, and shown as such. Never
 * replaces a real snapshot. *added gets the rows added.
 */
int ins_canteen_backfill(struct store_conn *c, struct gu_arena *a,
                         const char *insee, int64_t now, int days,
                         int64_t *added, struct gu_err *err);
/* Record the recommendations for the commune's coming days (the job). */
int ins_canteen_snapshot(struct store_conn *c, struct gu_arena *a,
                         const char *insee, int64_t now, struct gu_err *err);

/* Alerts (mon_alerts: opened_at, ack_at, resolved_at, verdict). */
struct ins_alerts {
    int64_t opened;       /* opened in the month */
    int64_t acknowledged; /* of those, acknowledged or resolved */
    int64_t resolved;
    int64_t false_alarms; /* resolved with the verdict « fausse alerte » */
    int64_t unqualified;  /* resolved without a verdict (through the API) */
    double ack_median_s;  /* opened -> first acknowledgement or resolution */
};
int ins_alerts_month(struct store_conn *c, struct gu_arena *a,
                     const char *insee, const struct ins_month *m,
                     struct ins_alerts *out, struct gu_err *err);

/* Time and money, from the figures and the costs. */
struct ins_savings {
    double hours_answers, hours_routed, hours_booking, hours_total;
    double hours_recovered; /* counter time re-used: shown, not summed */
    double euros_time, euros_meals, euros_total;
};

/* Everything of one month. */
struct ins_report {
    struct ins_month month;
    struct ins_assistant asst;
    struct ins_triage tri;
    struct ins_rdv rdv;
    struct ins_canteen cant;
    struct ins_alerts mon;
    struct ins_savings sav;
    bool empty; /* no activity at all in the month */
};

void ins_savings_compute(const struct ins_report *r,
                         const struct ins_costs *costs,
                         struct ins_savings *out);
/* Compute every figure of month m. `now` decides which days are past. */
int ins_report_compute(struct store_conn *c, struct gu_arena *a,
                       const char *insee, const char *zone,
                       const struct ins_month *m, const struct ins_costs *costs,
                       int64_t now, struct ins_report *out,
                       struct gu_err *err);

/* The median of n values (sorted in place); NAN when n == 0. */
double ins_median(double *v, size_t n);

/* The report as JSON (new reference; NULL on OOM). */
json_t *ins_report_json(const struct ins_report *r);
/* The report and the previous month as CSV (« ; », French decimals,
   UTF-8 with BOM) into b. */
void ins_report_csv(struct gu_buf *b, const struct ins_report *r,
                    const struct ins_report *prev,
                    const struct ins_costs *costs);

/* ------------------------------------------------------------------ */
/* Transparency                                                        */
/* ------------------------------------------------------------------ */

/* The algorithms in use for the commune, from the running configuration
   and the database, as JSON (new reference). */
int ins_transparency_json(struct store_conn *c, struct gu_arena *a,
                          const struct gu_config *cfg, const char *insee,
                          json_t **out, struct gu_err *err);

#endif
