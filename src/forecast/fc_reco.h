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

/* Parse a risk as users write it: "0.05", "5 %", "5%", "1/20",
   "1 sur 20". 0 and *risk set, or -1. */
int fcst_risk_parse(const char *s, double *risk);

#endif
