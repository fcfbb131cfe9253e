/*
 * rdv_risk.h - what rdv_risk.c offers beyond rdv.h's rdv_risk(),
 * rdv_risk_train() and rdv_noshow_stats(): the person hash that links a
 * resident's bookings (past no-shows), and the description of a
 * commune's current model for the statistics page.
 *
 * Kept out of rdv.h so the contract stays small; the lead may move these
 * declarations there.
 */
#ifndef RDV_RDV_RISK_H
#define RDV_RDV_RISK_H

#include "rdv/rdv.h"

/*
 * The value of rdv_bookings.person_hash for a booking: SHA-256 hex of the
 * commune and the normalised e-mail (trimmed, lower-case) or, without
 * e-mail, the phone number (digits; +33 / 0033 written 0). Writes "" and
 * returns false when neither is given. rdv_book() stores this value so
 * that rdv_risk() and the training count a person's past no-shows. A
 * pseudonym, not an anonymisation: it is cleared with the rest of the
 * booking by rdv_purge().
 */
bool rdv_person_hash(const char *insee, const char *email, const char *phone,
                     char out[65]);

/* The newest no-show model of a commune, as the statistics page shows it. */
struct rdv_risk_model {
    int64_t version;
    int64_t trained_at;  /* unix seconds */
    int samples;         /* outcomes used (present + no-show) */
    int holdout;         /* the most recent ones, kept for measuring */
    double auc;          /* on the hold-out; 0.5 = chance */
    double logloss;      /* on the hold-out */
    double base_rate;    /* no-show rate of the training part */
    double base_logloss; /* log-loss of always predicting base_rate */
    bool useful;         /* beats the base rate: rdv_risk() uses it */
};

/* GU_ENOTFOUND (French message) when no model was ever trained. */
int rdv_risk_model_get(struct store_conn *c, struct gu_arena *a,
                       const char *insee, struct rdv_risk_model *out,
                       struct gu_err *err);

/*
 * The demo commune's past, so that its statistics page and risk model
 * have something to show: about `n` (<= 5000) bookings with an outcome
 * (present, no-show, excused) over the weekdays of the 300 days before
 * `now` (0 = now; the same past whatever the weekday of `now`),
 * on its active counters and motifs, fictitious people (.invalid
 * addresses), no-shows driven by lead time, past no-shows, unconfirmed
 * reminders, Mondays and late afternoons. Idempotent: nothing when the
 * commune already has past outcomes. Returns the count added.
 */
int rdv_risk_demo_history(struct store_conn *c, const char *insee, int n,
                          int64_t now, struct gu_err *err);

#endif
