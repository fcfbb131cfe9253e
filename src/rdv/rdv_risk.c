/*
 * rdv_risk.c - no-show statistics and the no-show risk model (see rdv.h).
 *
 * The model is a logistic regression (liblinear, L2-regularised, solver
 * L2R_LR) trained per commune by the daily job rdv.noshow on the past
 * bookings that have an outcome (present or no-show; excused ones are
 * left out: the person warned us). Features, standardised with the
 * training set's means and scales:
 *   - log(1 + lead time in days), booking made -> appointment start;
 *   - weekday (one-hot), hour bucket (one-hot: morning, noon, afternoon,
 *     evening);
 *   - the same person's no-shows and bookings with an outcome whose day
 *     came before the day the booking was made (so what was known then);
 *   - the reminder was confirmed (confirmed_at > 0).
 * Classes are weighted (no-shows are rare) and the intercept is then
 * corrected by the log of the weight ratio (prior correction), so the
 * score is a calibrated probability, usable against the thresholds of
 * rdv.extra_reminder_risk and rdv.overbook_risk.
 *
 * Honesty: the model is saved only with at least RISK_MIN_SAMPLES
 * outcomes and RISK_MIN_NOSHOWS no-shows; its AUC and log-loss are
 * measured on a time-ordered hold-out (the most recent 20 %) and compared
 * with the base rate. A model that does not beat the base rate is saved
 * (the statistics page shows it) but not used: rdv_risk() returns -1.
 *
 * The score is used ONLY to send an extra reminder and to allow a motif's
 * configured overbooking; it never refuses or delays anyone.
 *
 * Loaded models are cached per store (store_ext "rdv.risk"), per commune,
 * and the newest version is looked up again every RISK_CHECK_MS.
 */
#include <inttypes.h>
#include <jansson.h>
#include <linear.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdv/rdv_risk.h"

#define RISK_MIN_SAMPLES 200
#define RISK_MIN_NOSHOWS 20
#define RISK_TRAIN_MAX 50000  /* most recent outcomes used for training */
#define RISK_KEEP_VERSIONS 10 /* model versions kept per commune */
#define RISK_CHECK_MS 30000   /* look for a newer version this often */
#define RISK_HOLDOUT 0.2      /* time-ordered hold-out share */
#define RISK_USEFUL_AUC 0.55  /* below: not better than the base rate */
#define RISK_C 1.0            /* inverse regularisation strength */
#define RISK_PAST_CAP 50      /* past bookings counted at most */

/* Features. The names are saved with the weights and checked on load. */
enum {
    F_LEAD = 0,
    F_WD = 1,   /* 7 weekdays: F_WD + (weekday - 1) */
    F_HOUR = 8, /* 4 hour buckets */
    F_PAST_NOSHOW = 12,
    F_PAST_BOOKED = 13,
    F_CONFIRMED = 14,
    NFEAT = 15
};

static const char *const feat_names[NFEAT] = {
    "log_delai_jours",  "jour_lundi",    "jour_mardi",       "jour_mercredi",
    "jour_jeudi",       "jour_vendredi", "jour_samedi",      "jour_dimanche",
    "heure_matin",      "heure_midi",    "heure_apres_midi", "heure_soir",
    "absences_passees", "rdv_passes",    "venue_confirmee",
};

static const char *const day_names[7] = {
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"};
static const char *const hour_names[4] = {"matin", "midi", "après-midi",
                                          "soir"};

/* What we know of one booking, before encoding. */
struct risk_raw {
    double lead_days;
    int weekday; /* 1..7 */
    int hour;    /* bucket 0..3 */
    int past_noshow;
    int past_booked;
    bool confirmed;
};

/* A loaded model: plain values, copied out of the cache under its lock. */
struct risk_model {
    int64_t version; /* 0 = none */
    bool useful;
    double w[NFEAT], mean[NFEAT], scale[NFEAT], bias;
};

struct risk_entry {
    char insee[6];
    enum gu_tz tz;
    int64_t checked_ms; /* 0 = look again at once */
    struct risk_model m;
};

/* The per-store cache (store_ext). */
struct risk_cache {
    pthread_mutex_t mu;
    struct risk_entry *e;
    size_t n, cap;
};

static void *
cache_make(struct store *s)
{
    struct risk_cache *rc = gu_calloc(1, sizeof(*rc));

    (void)s;
    if (rc)
        pthread_mutex_init(&rc->mu, NULL);
    return rc;
}

static void
cache_free(void *p)
{
    struct risk_cache *rc = p;

    if (!rc)
        return;
    pthread_mutex_destroy(&rc->mu);
    gu_free(rc->e);
    gu_free(rc);
}

static struct risk_cache *
cache_of(struct store *s)
{
    return s ? store_ext(s, "rdv.risk", cache_make, cache_free) : NULL;
}

static int
hour_bucket(int start_min)
{
    if (start_min < 12 * 60)
        return 0;
    if (start_min < 14 * 60)
        return 1;
    if (start_min < 17 * 60)
        return 2;
    return 3;
}

static void
encode(const struct risk_raw *r, double x[NFEAT])
{
    double lead = r->lead_days > 0 ? r->lead_days : 0;

    memset(x, 0, sizeof(double) * NFEAT);
    x[F_LEAD] = log1p(lead);
    if (r->weekday >= 1 && r->weekday <= 7)
        x[F_WD + r->weekday - 1] = 1;
    if (r->hour >= 0 && r->hour <= 3)
        x[F_HOUR + r->hour] = 1;
    x[F_PAST_NOSHOW] = r->past_noshow;
    x[F_PAST_BOOKED] = r->past_booked;
    x[F_CONFIRMED] = r->confirmed ? 1 : 0;
}

static double
sigmoid(double v)
{
    if (v >= 0)
        return 1.0 / (1.0 + exp(-v));
    return exp(v) / (1.0 + exp(v));
}

/* Decision value and, if contrib != NULL, each feature's w * z. */
static double
model_score(const struct risk_model *m, const double x[NFEAT],
            double contrib[NFEAT])
{
    double v = m->bias;

    for (int j = 0; j < NFEAT; j++) {
        double z = (x[j] - m->mean[j]) / m->scale[j];
        double cj = m->w[j] * z;
        if (contrib)
            contrib[j] = cj;
        v += cj;
    }
    return sigmoid(v);
}

/* ------------------------------------------------------------------ */
/* Person hash                                                         */
/* ------------------------------------------------------------------ */

bool
rdv_person_hash(const char *insee, const char *email, const char *phone,
                char out[65])
{
    char buf[400];
    size_t n;

    out[0] = '\0';
    n = (size_t)snprintf(buf, sizeof(buf), "%s|", insee ? insee : "");
    if (email && *email) {
        const char *p = email;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t start = n;
        buf[n++] = 'e';
        buf[n++] = ':';
        for (; *p && n + 1 < sizeof(buf); p++) {
            unsigned char ch = (unsigned char)*p;
            if (ch >= 'A' && ch <= 'Z')
                ch = (unsigned char)(ch - 'A' + 'a');
            buf[n++] = (char)ch;
        }
        while (n > start + 2 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
            n--;
        if (n == start + 2)
            return false;
    } else if (phone && *phone) {
        const char *p = phone;
        size_t start;
        buf[n++] = 't';
        buf[n++] = ':';
        start = n;
        /* +33 6..., 0033 6..., 06... are one number. */
        if (p[0] == '+' && p[1] == '3' && p[2] == '3') {
            buf[n++] = '0';
            p += 3;
        } else if (strncmp(p, "0033", 4) == 0) {
            buf[n++] = '0';
            p += 4;
        }
        for (; *p && n + 1 < sizeof(buf); p++) {
            if (*p >= '0' && *p <= '9')
                buf[n++] = *p;
            else if (*p == '+' && n == start)
                buf[n++] = '+';
        }
        if (n <= start + 1)
            return false;
    } else {
        return false;
    }
    buf[n] = '\0';
    gu_token_hash(buf, out);
    return true;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

static bool
json_doubles(json_t *arr, double *out, size_t n)
{
    if (!json_is_array(arr) || json_array_size(arr) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_number(v))
            return false;
        out[i] = json_number_value(v);
        if (!isfinite(out[i]))
            return false;
    }
    return true;
}

/* Parse the weights JSON of a saved model. False if unusable. */
static bool
model_parse(const char *weights, const char *metrics, struct risk_model *m)
{
    json_t *w = json_loads(weights ? weights : "", 0, NULL);
    json_t *mt = json_loads(metrics ? metrics : "", 0, NULL);
    json_t *names;
    bool ok = false;

    if (!w)
        goto out;
    names = json_object_get(w, "features");
    if (!json_is_array(names) || json_array_size(names) != NFEAT)
        goto out;
    for (size_t i = 0; i < NFEAT; i++) {
        const char *s = json_string_value(json_array_get(names, i));
        if (!s || strcmp(s, feat_names[i]) != 0)
            goto out;
    }
    if (!json_doubles(json_object_get(w, "weights"), m->w, NFEAT) ||
        !json_doubles(json_object_get(w, "mean"), m->mean, NFEAT) ||
        !json_doubles(json_object_get(w, "scale"), m->scale, NFEAT) ||
        !json_is_number(json_object_get(w, "bias")))
        goto out;
    m->bias = json_number_value(json_object_get(w, "bias"));
    for (int j = 0; j < NFEAT; j++) {
        if (!(m->scale[j] > 0))
            goto out;
    }
    m->useful = mt && json_is_true(json_object_get(mt, "useful"));
    ok = true;
out:
    json_decref(w);
    json_decref(mt);
    return ok;
}

/*
 * The current model of a commune, from the cache or the database. Never
 * fails: an unknown commune or a database error gives version 0.
 */
static void
model_current(struct store_conn *c, const char *insee, struct risk_model *out,
              enum gu_tz *tz)
{
    struct risk_cache *rc = cache_of(store_conn_store(c));
    struct risk_entry *e = NULL;
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    struct gu_err err;
    struct risk_model m = {0};
    enum gu_tz ztz = GU_TZ_PARIS;
    int64_t now_ms = gu_now_ms();
    struct store_val p[2];

    memset(out, 0, sizeof(*out));
    *tz = GU_TZ_PARIS;
    if (!rc)
        return;
    pthread_mutex_lock(&rc->mu);
    for (size_t i = 0; i < rc->n; i++) {
        if (strcmp(rc->e[i].insee, insee) == 0) {
            e = &rc->e[i];
            break;
        }
    }
    if (e && e->checked_ms && now_ms - e->checked_ms < RISK_CHECK_MS) {
        *out = e->m;
        *tz = e->tz;
        pthread_mutex_unlock(&rc->mu);
        return;
    }
    pthread_mutex_unlock(&rc->mu);

    /* Look the newest version up, outside the lock. */
    a = gu_arena_new(0);
    if (!a)
        return;
    p[0] = STORE_T(insee);
    if (store_query(c, a, "SELECT zone FROM communes WHERE insee = ?", p, 1, &r,
                    &err) == 0 &&
        r->nrows == 1)
        ztz = gu_tz_of_zone(store_text(r, 0, 0));
    p[1] = STORE_T("noshow");
    if (store_query(c, a,
                    "SELECT version, weights, metrics FROM rdv_models "
                    "WHERE insee = ? AND kind = ? "
                    "ORDER BY version DESC LIMIT 1",
                    p, 2, &r, &err) == 0 &&
        r->nrows == 1) {
        if (model_parse(store_text(r, 0, 1), store_text(r, 0, 2), &m))
            m.version = store_int(r, 0, 0);
        else
            gu_log_warn("rdv.risk.load",
                        "insee=%s version=%" PRId64 " msg=\"unusable model\"",
                        insee, store_int(r, 0, 0));
    }
    gu_arena_free(a);

    pthread_mutex_lock(&rc->mu);
    e = NULL;
    for (size_t i = 0; i < rc->n; i++) {
        if (strcmp(rc->e[i].insee, insee) == 0) {
            e = &rc->e[i];
            break;
        }
    }
    if (!e && rc->n == rc->cap) {
        size_t cap = rc->cap ? rc->cap * 2 : 8;
        struct risk_entry *ne = gu_realloc(rc->e, cap * sizeof(*ne));
        if (ne) {
            rc->e = ne;
            rc->cap = cap;
        }
    }
    if (!e && rc->n < rc->cap) {
        e = &rc->e[rc->n++];
        memset(e, 0, sizeof(*e));
        snprintf(e->insee, sizeof(e->insee), "%s", insee);
    }
    if (e) {
        e->m = m;
        e->tz = ztz;
        e->checked_ms = now_ms ? now_ms : 1;
    }
    pthread_mutex_unlock(&rc->mu);
    *out = m;
    *tz = ztz;
}

/* Forget a commune's cached model (after training in this process). */
static void
model_invalidate(struct store *s, const char *insee)
{
    struct risk_cache *rc = cache_of(s);

    if (!rc)
        return;
    pthread_mutex_lock(&rc->mu);
    for (size_t i = 0; i < rc->n; i++) {
        if (strcmp(rc->e[i].insee, insee) == 0)
            rc->e[i].checked_ms = 0;
    }
    pthread_mutex_unlock(&rc->mu);
}

/* ------------------------------------------------------------------ */
/* Scoring                                                             */
/* ------------------------------------------------------------------ */

struct why_part {
    double c;
    const char *text;
};

static int
why_cmp(const void *x, const void *y)
{
    const struct why_part *a = x, *b = y;

    return (a->c < b->c) - (a->c > b->c);
}

/* The two or three factors that raise the risk most, in French. */
static const char *
why_text(struct gu_arena *a, const struct risk_model *m,
         const struct risk_raw *r, const double contrib[NFEAT])
{
    struct why_part parts[5];
    size_t np = 0, shown = 0;
    double c, typical_lead;
    int days = (int)floor(r->lead_days + 0.5);
    char *s = "";

    /* Lead time: long or short compared with the commune's usual one. */
    typical_lead = expm1(m->mean[F_LEAD]);
    if (days <= 0)
        parts[np].text = "réservé le jour même";
    else
        parts[np].text =
            gu_arena_sprintf(a, "délai %s (%d jour%s)",
                             r->lead_days >= typical_lead ? "long" : "court",
                             days, days > 1 ? "s" : "");
    parts[np++].c = contrib[F_LEAD];

    /* Weekday and time of day, together: « lundi matin ». */
    c = 0;
    for (int j = F_WD; j < F_HOUR + 4; j++)
        c += contrib[j];
    parts[np].text = gu_arena_sprintf(
        a, "%s %s",
        day_names[(r->weekday >= 1 && r->weekday <= 7) ? r->weekday - 1 : 0],
        hour_names[r->hour >= 0 && r->hour <= 3 ? r->hour : 0]);
    parts[np++].c = c;

    if (r->past_noshow > 0)
        parts[np].text =
            gu_arena_sprintf(a, "absences passées : %d", r->past_noshow);
    else
        parts[np].text = "aucune absence passée";
    parts[np++].c = contrib[F_PAST_NOSHOW];

    if (r->past_booked > 0)
        parts[np].text =
            gu_arena_sprintf(a, "rendez-vous passés : %d", r->past_booked);
    else
        parts[np].text = "premier rendez-vous";
    parts[np++].c = contrib[F_PAST_BOOKED];

    parts[np].text = r->confirmed ? "venue confirmée" : "venue non confirmée";
    parts[np++].c = contrib[F_CONFIRMED];

    qsort(parts, np, sizeof(parts[0]), why_cmp);
    for (size_t i = 0; i < np && shown < 3; i++) {
        if (!parts[i].text || parts[i].c <= 0.01)
            break;
        s = shown ? gu_arena_sprintf(a, "%s, %s", s, parts[i].text)
                  : gu_arena_strdup(a, parts[i].text);
        if (!s)
            return NULL;
        shown++;
    }
    if (!shown)
        return "aucun facteur de risque marqué";
    return s;
}

/*
 * Past outcomes of a person known on `before_day`, excluding booking id.
 * `day + 0` keeps SQLite on the (insee, person_hash) index: on (insee,
 * day) it would read every earlier booking of the commune (measured: 4.8
 * ms instead of microseconds with 4,000 past bookings, inside the
 * booking's transaction).
 */
static void
past_counts(struct store_conn *c, struct gu_arena *a, const char *insee,
            const char *hash, int64_t before_day, int64_t self_id,
            struct risk_raw *r)
{
    struct store_rows *rows = NULL;
    struct gu_err err;
    struct store_val p[] = {
        STORE_I(RDV_NOSHOW),  STORE_T(insee),      STORE_T(hash),
        STORE_I(RDV_PRESENT), STORE_I(RDV_NOSHOW), STORE_I(RDV_EXCUSED),
        STORE_I(before_day),  STORE_I(self_id),
    };

    if (store_query(c, a,
                    "SELECT COUNT(*), "
                    "COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0) "
                    "FROM rdv_bookings WHERE insee = ? AND person_hash = ? "
                    "AND status IN (?, ?, ?) AND day + 0 < ? AND id <> ?",
                    p, GU_ARRAY_LEN(p), &rows, &err) < 0 ||
        rows->nrows != 1)
        return;
    r->past_booked = (int)store_int(rows, 0, 0);
    r->past_noshow = (int)store_int(rows, 0, 1);
    if (r->past_booked > RISK_PAST_CAP)
        r->past_booked = RISK_PAST_CAP;
    if (r->past_noshow > RISK_PAST_CAP)
        r->past_noshow = RISK_PAST_CAP;
}

double
rdv_risk(struct store_conn *c, struct gu_arena *a, const struct rdv_booking *b,
         const char **why)
{
    struct risk_model m;
    struct risk_raw r = {0};
    enum gu_tz tz;
    double x[NFEAT], contrib[NFEAT], p;
    char hash[65] = "";
    int64_t created, cday;
    int cmin;
    struct gu_arena *own = NULL;

    if (why)
        *why = NULL;
    if (!c || !b || !store_insee_valid(b->insee))
        return -1;
    model_current(c, b->insee, &m, &tz);
    if (!m.version || !m.useful)
        return -1;
    if (!a) {
        own = gu_arena_new(0);
        a = own;
        if (!a)
            return -1;
    }

    created = b->created_at > 0 ? b->created_at : gu_now();
    r.lead_days =
        (double)(gu_tz_to_utc(tz, b->day, b->start_min) - created) / 86400.0;
    r.weekday = gu_day_weekday(b->day);
    r.hour = hour_bucket(b->start_min);
    r.confirmed = b->confirmed_at > 0;
    gu_tz_from_utc(tz, created, &cday, &cmin);
    if (!rdv_person_hash(b->insee, b->email, b->phone, hash) && b->id > 0) {
        struct store_rows *rows = NULL;
        struct gu_err err;
        struct store_val p1[] = {STORE_I(b->id), STORE_T(b->insee)};
        if (store_query(c, a,
                        "SELECT person_hash FROM rdv_bookings "
                        "WHERE id = ? AND insee = ?",
                        p1, 2, &rows, &err) == 0 &&
            rows->nrows == 1)
            snprintf(hash, sizeof(hash), "%s", store_text(rows, 0, 0));
    }
    if (hash[0])
        past_counts(c, a, b->insee, hash, cday, b->id, &r);

    encode(&r, x);
    p = model_score(&m, x, contrib);
    if (why && !own)
        *why = why_text(a, &m, &r, contrib);
    gu_arena_free(own);
    return p;
}

/* ------------------------------------------------------------------ */
/* Statistics                                                          */
/* ------------------------------------------------------------------ */

static const char *const lead_names[6] = {
    "0 à 2 jours",   "3 à 7 jours",   "8 à 14 jours",
    "15 à 30 jours", "31 à 60 jours", "plus de 60 jours",
};

int
rdv_noshow_stats(struct store_conn *c, struct gu_arena *a, const char *insee,
                 const char *dim, int64_t from_day, int64_t to_day,
                 struct rdv_noshow_row **out, size_t *n, struct gu_err *err)
{
    /* Lead time in days, start (local time read as UTC) minus created_at
       (UTC): off by the commune's offset, an hour or two, which only
       matters for a booking made within that much of a bucket's edge;
       computed in SQL so that no row is loaded. */
    static const char lead_expr[] =
        "CASE WHEN (b.day * 86400 + b.start_min * 60 - b.created_at) "
        "< 3 * 86400 THEN 0 "
        "WHEN (b.day * 86400 + b.start_min * 60 - b.created_at) "
        "< 8 * 86400 THEN 1 "
        "WHEN (b.day * 86400 + b.start_min * 60 - b.created_at) "
        "< 15 * 86400 THEN 2 "
        "WHEN (b.day * 86400 + b.start_min * 60 - b.created_at) "
        "< 31 * 86400 THEN 3 "
        "WHEN (b.day * 86400 + b.start_min * 60 - b.created_at) "
        "< 61 * 86400 THEN 4 ELSE 5 END";
    const char *key_expr, *join = "";
    char *sql;
    struct store_rows *r = NULL;
    int64_t lo = from_day ? from_day : -1000000000LL;
    int64_t hi = to_day ? to_day : 1000000000LL;
    int rc;
    bool by_motif = false;

    *out = NULL;
    *n = 0;
    if (!dim)
        dim = "";
    if (strcmp(dim, "motif") == 0) {
        key_expr = "m.name";
        join = " JOIN rdv_motifs m ON m.id = b.motif_id";
        by_motif = true;
    } else if (strcmp(dim, "jour") == 0) {
        /* ISO weekday - 1 of a day number (1970-01-01 was a Thursday). */
        key_expr = "((b.day % 7) + 10) % 7";
    } else if (strcmp(dim, "heure") == 0) {
        key_expr = "b.start_min / 60";
    } else if (strcmp(dim, "delai") == 0) {
        key_expr = lead_expr;
    } else {
        return gu_err_set(err, GU_EINVAL, "dim",
                          "Dimension inconnue : choisissez motif, jour, "
                          "heure ou delai.",
                          "rdv_noshow_stats: bad dim");
    }
    if (lo > hi)
        return gu_err_set(err, GU_EINVAL, "from",
                          "La date de début doit précéder la date de fin.",
                          "rdv_noshow_stats: from > to");

    sql = gu_arena_sprintf(
        a,
        "SELECT %s AS k, COUNT(*), "
        "SUM(CASE WHEN b.status = ? THEN 1 ELSE 0 END) "
        "FROM rdv_bookings b%s "
        "WHERE b.insee = ? AND b.status IN (?, ?) AND b.day BETWEEN ? AND ? "
        "GROUP BY k ORDER BY k",
        key_expr, join);
    if (!sql)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    {
        struct store_val p[] = {STORE_I(RDV_NOSHOW),  STORE_T(insee),
                                STORE_I(RDV_PRESENT), STORE_I(RDV_NOSHOW),
                                STORE_I(lo),          STORE_I(hi)};
        rc = store_query(c, a, sql, p, GU_ARRAY_LEN(p), &r, err);
    }
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return 0;
    *out = gu_arena_zalloc(a, r->nrows * sizeof(**out));
    if (!*out)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++) {
        struct rdv_noshow_row *row = &(*out)[i];
        int64_t k = store_int(r, i, 0);

        if (by_motif)
            row->key = store_text(r, i, 0);
        else if (strcmp(dim, "jour") == 0)
            row->key = (k >= 0 && k < 7) ? day_names[k] : "?";
        else if (strcmp(dim, "heure") == 0)
            row->key = gu_arena_sprintf(a, "%d h", (int)k);
        else
            row->key = (k >= 0 && k < 6) ? lead_names[k] : "?";
        if (!row->key)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        row->booked = (int)store_int(r, i, 1);
        row->noshow = (int)store_int(r, i, 2);
        row->rate = row->booked ? (double)row->noshow / row->booked : 0;
    }
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Training                                                            */
/* ------------------------------------------------------------------ */

/* One past booking with an outcome, as loaded for training. */
struct train_row {
    int64_t id, day, cday;
    int start_min;
    int status;
    const char *hash;
    struct risk_raw raw;
};

static int
by_person_day(const void *x, const void *y)
{
    const struct train_row *const *a = x, *const *b = y;
    int c = strcmp((*a)->hash, (*b)->hash);

    if (c)
        return c;
    return ((*a)->day > (*b)->day) - ((*a)->day < (*b)->day);
}

static void
quiet(const char *s)
{
    (void)s;
}

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void
quiet_init(void)
{
    set_print_string_function(quiet);
}

/* Means and scales of the features of rows [0, n). */
static void
standardiser(double (*x)[NFEAT], size_t n, double mean[NFEAT],
             double scale[NFEAT])
{
    for (int j = 0; j < NFEAT; j++) {
        double s = 0, ss = 0;
        for (size_t i = 0; i < n; i++)
            s += x[i][j];
        mean[j] = n ? s / (double)n : 0;
        for (size_t i = 0; i < n; i++)
            ss += (x[i][j] - mean[j]) * (x[i][j] - mean[j]);
        scale[j] = n > 1 ? sqrt(ss / (double)(n - 1)) : 1;
        if (!(scale[j] > 1e-9))
            scale[j] = 1; /* constant feature: leave it unscaled */
    }
}

/*
 * Fit on rows [0, n) of x/y into *m. Returns false if liblinear refused.
 * `nodes` is scratch of n * (NFEAT + 2) nodes, `xp` of n pointers.
 */
static bool
fit(double (*x)[NFEAT], const double *y, size_t n, struct feature_node *nodes,
    struct feature_node **xp, struct risk_model *m)
{
    struct problem prob;
    struct parameter param;
    struct model *mdl;
    int wlabel[2] = {0, 1};
    double wgt[2];
    size_t pos = 0;
    int idx = -1;

    standardiser(x, n, m->mean, m->scale);
    for (size_t i = 0; i < n; i++) {
        struct feature_node *f = nodes + i * (NFEAT + 2);
        for (int j = 0; j < NFEAT; j++) {
            f[j].index = j + 1;
            f[j].value = (x[i][j] - m->mean[j]) / m->scale[j];
        }
        f[NFEAT].index = NFEAT + 1; /* the bias feature */
        f[NFEAT].value = 1;
        f[NFEAT + 1].index = -1;
        f[NFEAT + 1].value = 0;
        xp[i] = f;
        if (y[i] > 0.5)
            pos++;
    }
    if (pos == 0 || pos == n)
        return false;
    /* Weight the classes so that each weighs half of the loss. */
    wgt[0] = 1.0;
    wgt[1] = (double)(n - pos) / (double)pos;

    memset(&prob, 0, sizeof(prob));
    prob.l = (int)n;
    prob.n = NFEAT + 1;
    prob.y = (double *)y;
    prob.x = xp;
    prob.bias = 1;
    memset(&param, 0, sizeof(param));
    param.solver_type = L2R_LR;
    param.eps = 0.001;
    param.C = RISK_C;
    param.nr_weight = 2;
    param.weight_label = wlabel;
    param.weight = wgt;
    if (check_parameter(&prob, &param))
        return false;
    pthread_once(&quiet_once, quiet_init);
    mdl = train(&prob, &param);
    if (!mdl)
        return false;
    for (int k = 0; k < get_nr_class(mdl); k++) {
        if (mdl->label[k] == 1)
            idx = k;
    }
    if (idx < 0) {
        free_and_destroy_model(&mdl);
        return false;
    }
    for (int j = 0; j < NFEAT; j++)
        m->w[j] = get_decfun_coef(mdl, j + 1, idx);
    /* Prior correction: weighting multiplied the odds by wgt[1]. */
    m->bias = get_decfun_bias(mdl, idx) - log(wgt[1] / wgt[0]);
    free_and_destroy_model(&mdl);
    return true;
}

struct scored {
    double p;
    int y;
};

static int
by_score(const void *x, const void *y)
{
    const struct scored *a = x, *b = y;

    return (a->p > b->p) - (a->p < b->p);
}

/* AUC (Mann-Whitney, ties counted half) of scores s[0..n). */
static double
auc_of(struct scored *s, size_t n)
{
    double pos = 0, neg = 0, rank_sum = 0;
    size_t i = 0;

    qsort(s, n, sizeof(*s), by_score);
    while (i < n) {
        size_t j = i;
        double r, npos = 0;
        while (j < n && s[j].p == s[i].p)
            j++;
        r = ((double)(i + 1) + (double)j) / 2.0; /* average rank */
        for (size_t k = i; k < j; k++)
            npos += s[k].y;
        rank_sum += r * npos;
        i = j;
    }
    for (i = 0; i < n; i++) {
        if (s[i].y)
            pos++;
        else
            neg++;
    }
    if (pos == 0 || neg == 0)
        return 0.5;
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg);
}

static double
clampp(double p)
{
    if (p < 1e-6)
        return 1e-6;
    if (p > 1 - 1e-6)
        return 1 - 1e-6;
    return p;
}

static json_t *
json_arr(const double *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

/* Train and save the model of one commune. *saved = 1 if a version was
   written. */
static int
train_commune(struct store *s, struct store_conn *c, const char *insee,
              int *saved, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(1 << 20);
    struct store_rows *r = NULL;
    struct train_row *rows = NULL, **order = NULL;
    double(*x)[NFEAT] = NULL, *y = NULL;
    struct feature_node *nodes = NULL, **xp = NULL;
    struct scored *sc = NULL;
    struct risk_model hold = {0}, fin = {0};
    enum gu_tz tz = GU_TZ_PARIS;
    size_t nr, n = 0, noshows = 0, cut;
    double auc, ll = 0, base = 0, base_ll = 0, train_pos = 0;
    json_t *wj = NULL, *mj = NULL, *names = NULL;
    char *wtxt = NULL, *mtxt = NULL;
    int rc = 0;
    bool useful;

    *saved = 0;
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    {
        struct store_val p[] = {STORE_T(insee)};
        if (store_query(c, a, "SELECT zone FROM communes WHERE insee = ?", p, 1,
                        &r, err) == 0 &&
            r->nrows == 1)
            tz = gu_tz_of_zone(store_text(r, 0, 0));
    }
    {
        struct store_val p[] = {STORE_T(insee), STORE_I(RDV_PRESENT),
                                STORE_I(RDV_NOSHOW), STORE_I(RDV_EXCUSED),
                                STORE_I(RISK_TRAIN_MAX)};
        rc = store_query(c, a,
                         "SELECT id, day, start_min, created_at, "
                         "confirmed_at, status, person_hash "
                         "FROM rdv_bookings WHERE insee = ? "
                         "AND status IN (?, ?, ?) "
                         "ORDER BY day DESC, start_min DESC, id DESC LIMIT ?",
                         p, GU_ARRAY_LEN(p), &r, err);
        if (rc < 0)
            goto out;
    }
    nr = r->nrows;
    if (nr == 0)
        goto out;
    rows = gu_arena_zalloc(a, nr * sizeof(*rows));
    order = gu_arena_alloc(a, nr * sizeof(*order));
    if (!rows || !order) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    /* Oldest first: the hold-out is the most recent part. */
    for (size_t i = 0; i < nr; i++) {
        size_t src = nr - 1 - i;
        struct train_row *t = &rows[i];
        int64_t created = store_int(r, src, 3);
        int cmin;

        t->id = store_int(r, src, 0);
        t->day = store_int(r, src, 1);
        t->start_min = (int)store_int(r, src, 2);
        t->status = (int)store_int(r, src, 5);
        t->hash = store_text(r, src, 6);
        if (!t->hash)
            t->hash = "";
        gu_tz_from_utc(tz, created, &t->cday, &cmin);
        t->raw.lead_days =
            (double)(gu_tz_to_utc(tz, t->day, t->start_min) - created) /
            86400.0;
        t->raw.weekday = gu_day_weekday(t->day);
        t->raw.hour = hour_bucket(t->start_min);
        t->raw.confirmed = store_int(r, src, 4) > 0;
        order[i] = t;
    }
    /* Past outcomes of the same person, known when the booking was made. */
    qsort(order, nr, sizeof(*order), by_person_day);
    for (size_t g = 0; g < nr;) {
        size_t h = g;
        while (h < nr && strcmp(order[h]->hash, order[g]->hash) == 0)
            h++;
        if (order[g]->hash[0]) {
            for (size_t i = g; i < h; i++) {
                struct train_row *t = order[i];
                for (size_t j = g; j < h && order[j]->day < t->cday; j++) {
                    if (order[j] == t)
                        continue;
                    if (t->raw.past_booked < RISK_PAST_CAP)
                        t->raw.past_booked++;
                    if (order[j]->status == RDV_NOSHOW &&
                        t->raw.past_noshow < RISK_PAST_CAP)
                        t->raw.past_noshow++;
                }
            }
        }
        g = h;
    }

    /* The samples: present or no-show, in time order. */
    x = gu_arena_alloc(a, nr * sizeof(*x));
    y = gu_arena_alloc(a, nr * sizeof(*y));
    nodes = gu_arena_alloc(a, nr * (NFEAT + 2) * sizeof(*nodes));
    xp = gu_arena_alloc(a, nr * sizeof(*xp));
    sc = gu_arena_alloc(a, nr * sizeof(*sc));
    if (!x || !y || !nodes || !xp || !sc) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    for (size_t i = 0; i < nr; i++) {
        if (rows[i].status != RDV_PRESENT && rows[i].status != RDV_NOSHOW)
            continue;
        encode(&rows[i].raw, x[n]);
        y[n] = rows[i].status == RDV_NOSHOW ? 1 : 0;
        noshows += rows[i].status == RDV_NOSHOW;
        n++;
    }
    if (n < RISK_MIN_SAMPLES || noshows < RISK_MIN_NOSHOWS ||
        n - noshows < RISK_MIN_NOSHOWS) {
        gu_log_info("rdv.risk.train",
                    "insee=%s samples=%zu noshows=%zu msg=\"too few outcomes "
                    "for a model\"",
                    insee, n, noshows);
        goto out;
    }

    /* Time-ordered hold-out: fit on the oldest 80 %, measure on the rest. */
    cut = n - (size_t)((double)n * RISK_HOLDOUT);
    for (size_t i = 0; i < cut; i++)
        train_pos += y[i];
    base = train_pos / (double)cut;
    if (!fit(x, y, cut, nodes, xp, &hold)) {
        gu_log_info("rdv.risk.train",
                    "insee=%s msg=\"training part has one class only\"", insee);
        goto out;
    }
    for (size_t i = cut; i < n; i++) {
        double p = clampp(model_score(&hold, x[i], NULL));
        double q = clampp(base);
        int yi = y[i] > 0.5;
        sc[i - cut].p = p;
        sc[i - cut].y = yi;
        ll -= yi ? log(p) : log(1 - p);
        base_ll -= yi ? log(q) : log(1 - q);
    }
    ll /= (double)(n - cut);
    base_ll /= (double)(n - cut);
    auc = auc_of(sc, n - cut);
    useful = auc >= RISK_USEFUL_AUC && ll < base_ll;

    /* The model kept is fitted on everything. */
    if (!fit(x, y, n, nodes, xp, &fin))
        goto out;

    names = json_array();
    for (int j = 0; names && j < NFEAT; j++)
        json_array_append_new(names, json_string(feat_names[j]));
    wj = json_pack("{s:o, s:o, s:f, s:o, s:o, s:s, s:f}", "features", names,
                   "weights", json_arr(fin.w, NFEAT), "bias", fin.bias, "mean",
                   json_arr(fin.mean, NFEAT), "scale",
                   json_arr(fin.scale, NFEAT), "solver", "L2R_LR", "C", RISK_C);
    names = NULL;
    mj = json_pack("{s:f, s:f, s:f, s:f, s:i, s:i, s:i, s:b}", "auc", auc,
                   "logloss", ll, "base_rate", base, "base_logloss", base_ll,
                   "train", (int)cut, "holdout", (int)(n - cut), "noshows",
                   (int)noshows, "useful", useful);
    wtxt = wj ? json_dumps(wj, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    mtxt = mj ? json_dumps(mj, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    if (!wtxt || !mtxt) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }

    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    {
        struct store_val p[] = {STORE_T(insee), STORE_T("noshow")};
        int64_t version;
        rc = store_query(c, a,
                         "SELECT COALESCE(MAX(version), 0) FROM rdv_models "
                         "WHERE insee = ? AND kind = ?",
                         p, 2, &r, err);
        if (rc < 0)
            goto rollback;
        version = store_int(r, 0, 0) + 1;
        {
            struct store_val q[] = {STORE_T(insee),   STORE_T("noshow"),
                                    STORE_I(version), STORE_I(gu_now()),
                                    STORE_I(n),       STORE_T(wtxt),
                                    STORE_T(mtxt)};
            rc = store_exec(c,
                            "INSERT INTO rdv_models (insee, kind, version, "
                            "trained_at, samples, weights, metrics) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)",
                            q, GU_ARRAY_LEN(q), err);
            if (rc < 0)
                goto rollback;
        }
        {
            struct store_val q[] = {STORE_T(insee), STORE_T("noshow"),
                                    STORE_I(version - RISK_KEEP_VERSIONS)};
            rc = store_exec(c,
                            "DELETE FROM rdv_models WHERE insee = ? AND "
                            "kind = ? AND version <= ?",
                            q, GU_ARRAY_LEN(q), err);
            if (rc < 0)
                goto rollback;
        }
        {
            char detail[200];
            snprintf(detail, sizeof(detail),
                     "{\"version\":%" PRId64 ",\"samples\":%zu,"
                     "\"auc\":%.3f,\"base_rate\":%.3f,\"useful\":%s}",
                     version, n, auc, base, useful ? "true" : "false");
            rc = store_audit_add(c, insee, "systeme", "rdv.risk.train",
                                 "noshow", detail, "", err);
            if (rc < 0)
                goto rollback;
        }
        rc = store_commit(c, err);
        if (rc < 0)
            goto out;
        gu_log_info("rdv.risk.train",
                    "insee=%s version=%" PRId64 " samples=%zu auc=%.3f "
                    "logloss=%.3f base_logloss=%.3f useful=%d",
                    insee, version, n, auc, ll, base_ll, useful);
    }
    *saved = 1;
    model_invalidate(s, insee);
    goto out;
rollback:
    store_rollback(c);
out:
    json_decref(names);
    json_decref(wj);
    json_decref(mj);
    free(wtxt);
    free(mtxt);
    gu_arena_free(a);
    return rc;
}

int
rdv_risk_train(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    struct store_conn *c = NULL;
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    int rc, saved_total = 0;

    (void)cfg;
    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
    a = gu_arena_new(0);
    if (!a) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    {
        struct store_val p[] = {STORE_I(RDV_NOSHOW)};
        rc = store_query(c, a,
                         "SELECT DISTINCT insee FROM rdv_bookings "
                         "WHERE status = ? ORDER BY insee",
                         p, 1, &r, err);
        if (rc < 0)
            goto out;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        int saved = 0;
        struct gu_err e2;
        gu_err_clear(&e2);
        if (notify_job_should_stop())
            break;
        /* One commune's failure does not stop the others. */
        if (train_commune(s, c, store_text(r, i, 0), &saved, &e2) < 0)
            gu_log_warn("rdv.risk.train", "insee=%s msg=\"%s\"",
                        store_text(r, i, 0), e2.msg);
        saved_total += saved;
    }
    rc = saved_total;
out:
    gu_arena_free(a);
    store_release(c);
    return rc;
}

int
rdv_risk_model_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                   struct rdv_risk_model *out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_T(insee), STORE_T("noshow")};
    json_t *mj;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_query(c, a,
                     "SELECT version, trained_at, samples, metrics "
                     "FROM rdv_models WHERE insee = ? AND kind = ? "
                     "ORDER BY version DESC LIMIT 1",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL,
                          "Aucun modèle de risque d'absence n'a encore été "
                          "entraîné pour cette commune.",
                          "no model");
    out->version = store_int(r, 0, 0);
    out->trained_at = store_int(r, 0, 1);
    out->samples = (int)store_int(r, 0, 2);
    mj = json_loads(store_text(r, 0, 3) ? store_text(r, 0, 3) : "", 0, NULL);
    if (mj) {
        out->auc = json_number_value(json_object_get(mj, "auc"));
        out->logloss = json_number_value(json_object_get(mj, "logloss"));
        out->base_rate = json_number_value(json_object_get(mj, "base_rate"));
        out->base_logloss =
            json_number_value(json_object_get(mj, "base_logloss"));
        out->holdout = (int)json_integer_value(json_object_get(mj, "holdout"));
        out->useful = json_is_true(json_object_get(mj, "useful"));
        json_decref(mj);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Demo history                                                        */
/* ------------------------------------------------------------------ */

/* A small deterministic generator for the demo (xorshift64*). */
static double
demo_rand(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return (double)((*st * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

#define DEMO_PEOPLE 220
#define DEMO_COUNTERS 64 /* counters considered for the demo's past */
#define DEMO_UNITS (1440 / RDV_UNIT_MIN)
#define DEMO_WEEKDAYS 214 /* about 300 calendar days */

/* Units [from, to) of a counter's day are free in `occ`: take them. */
static bool
demo_take(uint8_t *occ, int start, int end)
{
    int u0 = start / RDV_UNIT_MIN, u1 = (end + RDV_UNIT_MIN - 1) / RDV_UNIT_MIN;

    if (u0 < 0 || u1 > DEMO_UNITS)
        return false;
    for (int u = u0; u < u1; u++) {
        if (occ[u])
            return false;
    }
    memset(occ + u0, 1, (size_t)(u1 - u0));
    return true;
}

int
rdv_risk_demo_history(struct store_conn *c, const char *insee, int n,
                      int64_t now, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *k = NULL, *m = NULL, *r = NULL;
    static const char *const first[] = {
        "Camille", "Dominique", "Claude", "Sacha",   "Alix",
        "Maxime",  "Lou",       "Noa",    "Charlie", "Eden"};
    int past_noshow[DEMO_PEOPLE] = {0};
    int64_t last_day[DEMO_PEOPLE] = {0};
    uint8_t *occ = NULL; /* nk rows of DEMO_UNITS: one day's units */
    int64_t occ_day = 0;
    uint64_t st = 0x5EED0F0DA7E5ULL;
    enum gu_tz tz = GU_TZ_PARIS;
    size_t nk;
    int64_t today, *wdays;
    int minute, rc, added = 0;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if (n < 0 || n > 5000)
        n = 5000;
    {
        struct store_val p[] = {STORE_T(insee), STORE_I(RDV_PRESENT),
                                STORE_I(RDV_NOSHOW), STORE_I(RDV_EXCUSED)};
        rc = store_query(c, a,
                         "SELECT COUNT(*) FROM rdv_bookings WHERE insee = ? "
                         "AND status IN (?, ?, ?)",
                         p, GU_ARRAY_LEN(p), &r, err);
        if (rc < 0 || store_int(r, 0, 0) > 0)
            goto out; /* already has a past: keep it */
    }
    {
        struct store_val p[] = {STORE_T(insee)};
        if ((rc = store_query(c, a, "SELECT zone FROM communes WHERE insee = ?",
                              p, 1, &r, err)) < 0)
            goto out;
        if (r->nrows == 1)
            tz = gu_tz_of_zone(store_text(r, 0, 0));
        if ((rc = store_query(c, a,
                              "SELECT id, place_id FROM rdv_counters "
                              "WHERE insee = ? AND active = 1 ORDER BY id",
                              p, 1, &k, err)) < 0 ||
            (rc = store_query(c, a,
                              "SELECT id, duration_min FROM rdv_motifs "
                              "WHERE insee = ? AND active = 1 ORDER BY id",
                              p, 1, &m, err)) < 0)
            goto out;
    }
    nk = k->nrows < DEMO_COUNTERS ? k->nrows : DEMO_COUNTERS;
    if (nk == 0 || m->nrows == 0)
        goto out;
    occ = gu_arena_zalloc(a, nk * DEMO_UNITS);
    if (!occ) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    gu_tz_from_utc(tz, now > 0 ? now : gu_now(), &today, &minute);

    rc = store_begin(c, err);
    if (rc < 0)
        goto out;
    /* The weekdays of the last DEMO_WEEKDAYS before today, oldest first:
       the history is spread over them, so the same draws give the same
       past whatever the day `guichet init --demo` runs (a spread over
       calendar days made the past, and whether its model was good enough
       to be used, depend on the weekday of that day). */
    wdays = gu_arena_alloc(a, DEMO_WEEKDAYS * sizeof(*wdays));
    if (!wdays) {
        store_rollback(c);
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    for (int64_t d = today - 1, j = DEMO_WEEKDAYS; j > 0; d--) {
        if (gu_day_weekday(d) <= 5)
            wdays[--j] = d;
    }
    /* Days never decrease along i, so one day's occupation is kept at a
       time: like real bookings, no two of these overlap on a counter,
       and each holds its units. */
    for (int i = 0; i < n; i++) {
        int64_t day = wdays[(int64_t)i * DEMO_WEEKDAYS / (n ? n : 1)];
        int who = (int)(demo_rand(&st) * DEMO_PEOPLE);
        size_t ki = (size_t)(demo_rand(&st) * (double)nk);
        size_t mi = (size_t)(demo_rand(&st) * (double)m->nrows);
        int lead = (int)(45 * demo_rand(&st) * demo_rand(&st) * 1.6);
        int start = 8 * 60 + 30 + 15 * (int)(demo_rand(&st) * 32);
        int dur = (int)store_int(m, mi, 1);
        bool confirmed = demo_rand(&st) < 0.35;
        bool placed = false;
        int wd = gu_day_weekday(day);
        double logit, p, u;
        enum rdv_status status;
        int64_t created, id;
        char email[64], name[96], hash[65];

        if (day != occ_day) {
            memset(occ, 0, nk * DEMO_UNITS);
            occ_day = day;
        }
        wd = gu_day_weekday(day);
        if (start + dur > 17 * 60)
            start = 17 * 60 - dur;
        start -= start % RDV_UNIT_MIN;
        for (size_t t = 0; t < nk && !placed; t++) {
            size_t kk = (ki + t) % nk;
            if (demo_take(occ + kk * DEMO_UNITS, start, start + dur)) {
                ki = kk;
                placed = true;
            }
        }
        if (!placed)
            continue; /* that hour is full everywhere: skip */
        created = gu_tz_to_utc(tz, day - lead, 9 * 60) -
                  (int64_t)(demo_rand(&st) * 3600 * 8);
        logit = -3.1 + 0.05 * lead + 0.9 * past_noshow[who] -
                1.1 * (confirmed ? 1 : 0) + (wd == 1 ? 0.35 : 0) +
                (start >= 16 * 60 ? 0.3 : 0);
        p = 1.0 / (1.0 + exp(-logit));
        u = demo_rand(&st);
        status = u < 0.03       ? RDV_EXCUSED
                 : u < 0.03 + p ? RDV_NOSHOW
                                : RDV_PRESENT;
        snprintf(email, sizeof(email), "usager%d@demo.invalid", who + 1);
        snprintf(name, sizeof(name), "%s Démo-%d", first[who % 10], who + 1);
        rdv_person_hash(insee, email, "", hash);
        {
            struct store_val q[] = {
                STORE_T(insee),
                STORE_I(store_int(m, mi, 0)),
                STORE_I(store_int(k, ki, 1)),
                STORE_I(store_int(k, ki, 0)),
                STORE_I(day),
                STORE_I(start),
                STORE_I(start + dur),
                STORE_T(name),
                STORE_T(email),
                STORE_T(hash),
                STORE_I(status),
                STORE_I(demo_rand(&st) < 0.6 ? RDV_WEB : RDV_PHONE),
                STORE_I(created),
                STORE_I(created),
                STORE_I(confirmed ? created + 86400 : 0),
            };
            rc = store_query(c, a,
                             "INSERT INTO rdv_bookings (insee, motif_id, "
                             "place_id, counter_id, day, start_min, end_min, "
                             "name, email, person_hash, status, channel, "
                             "created_at, updated_at, confirmed_at, "
                             "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                             "?, ?, ?, ?, ?, ?, 'demo') RETURNING id",
                             q, GU_ARRAY_LEN(q), &r, err);
            if (rc < 0 || r->nrows != 1) {
                if (rc == 0)
                    rc = gu_err_set(err, GU_EDB, NULL, NULL, "no id");
                store_rollback(c);
                goto out;
            }
            id = store_int(r, 0, 0);
        }
        for (int unit = start / RDV_UNIT_MIN;
             unit < (start + dur + RDV_UNIT_MIN - 1) / RDV_UNIT_MIN; unit++) {
            struct store_val q[] = {STORE_I(store_int(k, ki, 0)), STORE_I(day),
                                    STORE_I(unit), STORE_I(id), STORE_T(insee)};
            rc = store_exec(c,
                            "INSERT INTO rdv_units (counter_id, day, unit, "
                            "lane, booking_id, insee) VALUES (?, ?, ?, 0, "
                            "?, ?)",
                            q, GU_ARRAY_LEN(q), err);
            if (rc < 0) {
                store_rollback(c);
                goto out;
            }
        }
        if (status == RDV_NOSHOW && last_day[who] < day)
            past_noshow[who]++;
        last_day[who] = day;
        added++;
    }
    rc = store_commit(c, err);
out:
    gu_arena_free(a);
    return rc < 0 ? rc : added;
}
