/*
 * fc_cal.h - calendar features of the forecast domain (see fc.h).
 *
 * For one day and one commune, what a model needs to know about the
 * calendar: weekday, public holiday (computed by core: gu_holiday, with
 * the Alsace-Moselle and overseas rules), school holiday by zone A/B/C
 * (embedded table data/calendar/vacances.csv, see its README for the
 * source and the coverage), school year and week of the school year,
 * bridge days, eves of holidays, the first day back; plus the agents'
 * events (strikes, local events, closures) and the menu of the day turned
 * into flags.
 *
 * Usage: build one struct fc_cal per commune (fc_cal_new: parses the
 * embedded tables once, about 30 KB), then call fc_cal_day() for every day
 * of every series: no allocation, no lock, read-only, so one fc_cal may be
 * shared by threads. Days outside the school table's coverage (before
 * 1990, after the last summer it knows, Corsica and overseas zones) get
 * school_known = false and school fields from a plain estimate (school
 * year from September 1st), never invented holidays.
 */
#ifndef FORECAST_FC_CAL_H
#define FORECAST_FC_CAL_H

#include "core/core.h"

/* A commune's calendar: owned by the caller, fc_cal_free() at the end. */
struct fc_cal;

/*
 * Build the calendar of a commune from its INSEE code (for the Alsace-
 * Moselle holidays, and the zone its académie had before the reform of
 * 2015: Nantes was in zone A until 2014-2015) and zone (STORE_ZONES: "A",
 * "B", "C", "corse", "guadeloupe"...; NULL or "" = metropolitan, no
 * school table). The first day of a holiday period is the official « fin
 * des cours » day, which may still have classes (holiday_index = 1). 0, or
 * GU_ENOMEM; GU_EINVAL if the embedded table is damaged (a build defect).
 */
int fc_cal_new(const char *insee, const char *zone, struct fc_cal **out);
void fc_cal_free(struct fc_cal *c); /* NULL is a no-op */

/* Does this calendar know the school holidays (zone A, B or C)? */
bool fc_cal_has_school(const struct fc_cal *c);

/* The features of one day. Strings are static (never freed). */
struct fc_cal_day {
    int64_t day;
    int weekday;          /* 1 = Monday .. 7 = Sunday */
    int month, mday;      /* 1..12, 1..31 */
    int yday;             /* 0..365, day of the civil year */
    /* Public holidays (always known). */
    const char *holiday;  /* « Ascension », or NULL */
    int days_to_holiday;  /* to the next public holiday (0 = today), <= 400 */
    int days_since_holiday; /* since the last one (0 = today), <= 400 */
    bool eve_holiday;     /* tomorrow is a public holiday */
    bool bridge;          /* working day between a holiday and a weekend, or
                             the school's « Pont de l'Ascension » */
    /* School (meaningful when school_known). */
    bool school_known;
    const char *school_holiday; /* « Vacances de la Toussaint », or NULL */
    int holiday_index;    /* 1 = first day of the school holiday, 0 if none */
    int holiday_len;      /* days of that holiday, 0 if none */
    int days_to_school_holiday;    /* to the next one's first day, <= 400 */
    int days_since_school_holiday; /* since the last one's last day, <= 400 */
    bool school_day;      /* Monday..Friday, no public or school holiday */
    bool eve_school_holiday; /* last school day before a school holiday */
    bool first_day_back;  /* first school day after a school holiday */
    int school_year;      /* 2016 = 2016-2017 (September to August) */
    int school_week;      /* 1 = the week (Monday..Sunday) of the rentrée */
    /* Agents' events (fc_cal_events), 0 until applied. */
    unsigned events;      /* FC_EV_* bits */
};

/* Fill *f for `day`. Never fails; no allocation. */
void fc_cal_day(const struct fc_cal *c, int64_t day, struct fc_cal_day *f);

/*
 * The day with the same school week and weekday `years_back` school years
 * earlier (for « same week last year »). When the school table does not
 * cover that year, the same weekday 52 weeks per year earlier.
 */
int64_t fc_cal_same_school_day(const struct fc_cal *c, int64_t day,
                               int years_back);

/* ------------------------------------------------------------------ */
/* Agents' events (rows of fc_events, loaded by the caller)            */
/* ------------------------------------------------------------------ */

enum {
    FC_EV_GREVE = 1u << 0,     /* strike */
    FC_EV_EVENEMENT = 1u << 1, /* local event (fête, sortie scolaire...) */
    FC_EV_FERMETURE = 1u << 2, /* closure */
    FC_EV_PONT = 1u << 3       /* bridge day decided locally */
};

/* One row of fc_events, as the caller loaded it (strings not kept). */
struct fc_cal_event {
    int64_t day;
    int64_t series_id; /* 0 = every series of the commune */
    const char *kind;  /* "greve", "evenement", "fermeture", "pont" */
};

/* FC_EV_* bit of an fc_events kind, 0 if unknown. */
unsigned fc_cal_event_kind(const char *kind);

/*
 * Sort rows by day in place (once), so that fc_cal_events() can search
 * them. Rows of other series are fine: they are filtered per call.
 */
void fc_cal_events_sort(struct fc_cal_event *rows, size_t n);

/*
 * The FC_EV_* bits of `day` for `series_id` (rows for that series or for
 * series 0), from rows sorted by fc_cal_events_sort(). O(log n).
 */
unsigned fc_cal_events(const struct fc_cal_event *rows, size_t n,
                       int64_t series_id, int64_t day);

/* ------------------------------------------------------------------ */
/* Menus                                                               */
/* ------------------------------------------------------------------ */

enum {
    FC_MENU_FISH = 1u << 0,       /* poisson, colin, saumon, thon... */
    FC_MENU_FRIES = 1u << 1,      /* frites, potatoes */
    FC_MENU_VEGETARIAN = 1u << 2, /* no meat nor fish among the dishes
                                     (« steak végétal » is no meat) */
    FC_MENU_PORK = 1u << 3,       /* porc, jambon, lardons, saucisse... */
    FC_MENU_PIZZA = 1u << 4,
    FC_MENU_COUSCOUS = 1u << 5,   /* couscous, tajine */
    FC_MENU_BURGER = 1u << 6,     /* burger, hamburger */
    FC_MENU_CHICKEN = 1u << 7,    /* poultry: poulet, dinde, nuggets... */
    FC_MENU_FESTIVE = 1u << 8,    /* « repas de Noël », menu festif... */
    FC_MENU_BEEF = 1u << 9,       /* boeuf, steak, bolognaise... */
    FC_MENU_PASTA = 1u << 10,     /* pâtes, lasagnes, spaghetti... */
    FC_MENU_BREADED = 1u << 11,   /* poisson pané, cordon bleu, nuggets */
    FC_MENU_ORGANIC = 1u << 12,   /* « bio » */
    FC_MENU_EMPTY = 1u << 13,     /* no dish (« - », menu de dépannage) */
    FC_MENU_MEAT = 1u << 14       /* some meat (any kind) */
};
#define FC_MENU_NFLAGS 15

/* Short English name of flag bit `i` (0..FC_MENU_NFLAGS-1), "" otherwise. */
const char *fc_menu_flag_name(int i);

/*
 * Flags of a day's menu: `dishes` (n bytes of UTF-8, one dish per line,
 * as in fc_menus; at most 64 KiB and 256 words per dish read), each dish
 * folded by text_fold() in the arena `a` and matched against a French
 * lexicon of whole words and phrases (a phrase never spans two dishes).
 * Returns the FC_MENU_* bits, FC_MENU_EMPTY alone for a menu without any
 * dish (« - », « menu dépannage »); 0 on OOM. Uses about the text's size
 * of the arena plus 4 KiB.
 */
unsigned fc_menu_flags(struct gu_arena *a, const char *dishes, size_t n);

#endif
