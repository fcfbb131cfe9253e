/*
 * fc_reco.h - decision support from a forecast distribution (issue 6,
 * « Aide à la décision »). Pure functions, no allocation.
 *
 * The distribution of day D's actual is the point forecast times
 * (1 + e) for e drawn from the relative backtest errors of the chosen
 * method on that series, e = (actual - forecast) / forecast (the errors
 * of the latest FCST_RECO_ERRORS backtest days; fewer than
 * FCST_RECO_MIN_ERRORS gives no recommendation).
 *
 * The cook chooses a risk: the share of days allowed to be short (« au
 * plus 1 jour court sur 20 » = 0.05). The recommended order is the
 * quantile 1 - risk of the distribution, rounded up to a whole unit.
 */
#ifndef FORECAST_FC_RECO_H
#define FORECAST_FC_RECO_H

#include <stddef.h>

#define FCST_RECO_ERRORS 200
#define FCST_RECO_MIN_ERRORS 10
#define FCST_RISK_MIN 0.005
#define FCST_RISK_MAX 0.5

/* Quantile q of point * (1 + e) over the errors (type-7 interpolation,
   errs not modified; NAN when n < FCST_RECO_MIN_ERRORS or point is NAN).
   Never below 0. */
double fcst_dist_quantile(double point, const double *errs, size_t n,
                          double q);

/* A day's recommendation. */
struct fcst_reco {
    double order;           /* units to order (whole), NAN when none */
    double p_short;         /* probability that actual > order */
    double surplus;         /* expected max(order - actual, 0), units */
    double shortfall;       /* expected max(actual - order, 0), units */
    double surplus_kg;      /* surplus * kg per unit (0 if unknown) */
    double surplus_eur;     /* surplus * euros per unit */
};

/* Recommendation for a risk in [FCST_RISK_MIN, FCST_RISK_MAX] (clamped). */
void fcst_recommend(double point, const double *errs, size_t n, double risk,
                    double kg_per_unit, double eur_per_unit,
                    struct fcst_reco *out);

/*
 * Choosing a risk on a past period, with a safety margin (the Nantes
 * bench's rule, bench/forecast/README.md « Le réglage choisi avec une
 * marge »): the
 * recommendation replayed on a validation period gives, for each risk,
 * its short days per week; a reference (the staff's own forecasts) gives
 * its own. The short days of a whole period are noisy: one bad week moves
 * them by dozens. So a risk is accepted only when its short days exceed
 * the reference's in at most `alpha` of FCST_RISK_BOOT bootstrap resamples
 * of the period's weeks (whole weeks drawn with replacement: days of one
 * week are correlated). The generator has a fixed seed: the same input
 * always gives the same choice.
 */
#define FCST_RISK_BOOT 2000

/* Share in [0, 1] of the week resamples whose short days
   sum(short_w) - sum(ref_w) is > 0. short_w and ref_w hold nweeks counts;
   nweeks 0 or a NULL array gives 1 (nothing shows the risk is safe). */
double fcst_short_excess(const int *short_w, const int *ref_w, size_t nweeks);

/* The largest of the nrisk risks (in any order in risks[]) whose short
   days exceed the reference's in at most alpha of the resamples; short_w
   is nrisk rows of nweeks counts (row r = risks[r]). Returns its index, or
   -1 when no risk qualifies (or an argument is NULL, nweeks 0, alpha
   NAN). */
int fcst_risk_choose(const double *risks, size_t nrisk, const int *short_w,
                     const int *ref_w, size_t nweeks, double alpha);

/* Parse a risk as users write it: "0.05", "5 %", "5%", "1/20",
   "1 sur 20". 0 and *risk set, or -1. */
int fcst_risk_parse(const char *s, double *risk);

#endif
