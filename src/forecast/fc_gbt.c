/*
 * fc_gbt.c - gradient-boosted trees over all the daily series of a kind
 * (fc_gbt.h), through libxgboost's C API.
 *
 * The model predicts log(y / L), where L is the series' own recent level
 * known at the origin (mean of the last four same weekdays at or before
 * the origin, else of the last ten service days); the forecast is
 * L * exp(prediction). Working in ratios lets one model serve canteens of
 * 40 and of 400 meals, and the log makes squared error aim at the median
 * ratio rather than the mean (WAPE rewards the median); the loss is
 * Pseudo-Huber, so that a few wild days do not steer the trees.
 *
 * Features of a row (target day d, origin o = the last day whose actual
 * may be read): the calendar of d (fc_cal_day), the agents' events of d,
 * the menu and headcount of d, and from v[] up to o only: the level L,
 * the last same weekday, the median of the last service days, the trend,
 * the weekday profile, and last year's same school day relative to last
 * year's level at the same horizon (the shape of the school year: the
 * rentrée, the end of June, the weeks around holidays). feature_row() is
 * the only function that reads v[], and it reads nothing after o.
 *
 * Training rows: every day d <= train_end with an actual > 0 whose weekday
 * has service, with origin d - horizon; for FCST_GBT_YEAR_AHEAD the origin
 * is the 30 June before d's school year (the situation of a forecast made
 * in summer for the whole next year).
 */
#include "forecast/fc_gbt.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#define MAGIC "FCGBT1\n"
#define MAGIC_LEN 7
#define MIN_ROWS 200
#define SCAN_DAYS 400 /* how far back the recent-level scans go */
#define DEFAULT_ROUNDS 200
#define DEFAULT_ROUNDS_YEAR 50
#define DEFAULT_DEPTH 6
#define DEFAULT_ETA 0.1

/* Feature columns. The order is part of the saved model: append only. */
enum {
    F_WEEKDAY,
    F_MONTH,
    F_MDAY,
    F_SCHOOL_WEEK,
    F_DAYS_TO_HOL,
    F_DAYS_SINCE_HOL,
    F_EVE_HOL,
    F_BRIDGE,
    F_SCHOOL_HOL,
    F_HOL_INDEX,
    F_DAYS_TO_SHOL,
    F_DAYS_SINCE_SHOL,
    F_SCHOOL_DAY,
    F_EVE_SHOL,
    F_FIRST_BACK,
    F_EV_GREVE,
    F_EV_EVENT,
    F_EV_CLOSED,
    F_EV_PONT,
    F_HORIZON,
    F_LOG_LEVEL,
    F_LAST_WEEK,
    F_MED10,
    F_MEAN20,
    F_GAP,
    F_SERVED14,
    F_TREND,
    F_WD_PROFILE,
    F_LY_RATIO,
    F_LY_REL,
    F_LY_WEEK,
    F_LY2_RATIO,
    F_LY_GROWTH,
    F_GROUP,
    F_PUPILS_CHANGE,
    F_PUPILS_PER_MEAL,
    F_MENU0,
    NFEAT = F_MENU0 + FC_MENU_NFLAGS
};

struct fcst_gbt {
    BoosterHandle b;
    int horizon;
    int nfeat;
    pthread_mutex_t lock; /* XGBoosterPredict with a DMatrix is not
                             documented as thread-safe in 1.7 */
};

static int
xgb_fail(struct gu_err *err, const char *what)
{
    return gu_err_set(err, GU_EIO, NULL,
                      "Erreur du moteur d'arbres de gradient (XGBoost).",
                      "xgboost %s: %s", what, XGBGetLastError());
}

/* Actual of day d when it is a served day readable at origin o. */
static double
served(const struct fcst_gbt_series *s, int64_t d, int64_t o)
{
    if (d > o)
        return NAN;
    double v = fcst_value(&s->s, d);
    return v > 0 ? v : NAN;
}

static int
skipped(const struct fcst_gbt_series *s, int64_t d)
{
    return (s->skip_weekdays >> fcst_weekday(d)) & 1u;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Level at origin o for target d: mean of four same weekdays, else mean
   of the last ten service days. NAN when nothing. */
static double
level_at(const struct fcst_gbt_series *s, int64_t d, int64_t o)
{
    double l = fcst_mean4(&s->s, d, (int)(d - o));
    if (l > 0)
        return l;
    double sum = 0;
    int got = 0;
    for (int64_t c = o; c > o - SCAN_DAYS && got < 10; c--) {
        double v = served(s, c, o);
        if (!isnan(v) && !skipped(s, c)) {
            sum += v;
            got++;
        }
    }
    return got ? sum / got : NAN;
}

static double
ratio(double a, double b)
{
    return isfinite(a) && isfinite(b) && b > 0 ? a / b : NAN;
}

static int64_t
origin_for(int horizon, const struct fc_cal *cal, int64_t d)
{
    if (horizon < FCST_GBT_YEAR_AHEAD)
        return d - horizon;
    struct fc_cal_day f;
    fc_cal_day(cal, d, &f);
    /* The 30 June that ends the previous school year. */
    return gu_day_from_ymd(f.school_year, 6, 30);
}

/*
 * Features of day d of series s seen from origin o, into x[NFEAT]; *level
 * receives L. Returns 0, or -1 when the series has no level at o. Reads
 * v[] at days <= o only.
 */
static int
feature_row(const struct fcst_gbt_ctx *ctx, const struct fcst_gbt_series *s,
            int64_t d, int64_t o, float *x, double *level)
{
    for (int i = 0; i < NFEAT; i++)
        x[i] = NAN;
    double l = level_at(s, d, o);
    if (!(l > 0))
        return -1;
    *level = l;
    int h = (int)(d - o);

    struct fc_cal_day f;
    fc_cal_day(ctx->cal, d, &f);
    x[F_WEEKDAY] = (float)f.weekday;
    x[F_MONTH] = (float)f.month;
    x[F_MDAY] = (float)f.mday;
    x[F_DAYS_TO_HOL] = (float)(f.days_to_holiday < 60 ? f.days_to_holiday : 60);
    x[F_DAYS_SINCE_HOL] =
        (float)(f.days_since_holiday < 60 ? f.days_since_holiday : 60);
    x[F_EVE_HOL] = f.eve_holiday;
    x[F_BRIDGE] = f.bridge;
    if (f.school_known) {
        x[F_SCHOOL_WEEK] = (float)f.school_week;
        x[F_SCHOOL_HOL] = f.school_holiday != NULL;
        x[F_HOL_INDEX] = (float)f.holiday_index;
        x[F_DAYS_TO_SHOL] =
            (float)(f.days_to_school_holiday < 60 ? f.days_to_school_holiday
                                                  : 60);
        x[F_DAYS_SINCE_SHOL] = (float)(f.days_since_school_holiday < 60
                                           ? f.days_since_school_holiday
                                           : 60);
        x[F_SCHOOL_DAY] = f.school_day;
        x[F_EVE_SHOL] = f.eve_school_holiday;
        x[F_FIRST_BACK] = f.first_day_back;
    }
    unsigned ev =
        ctx->nevents ? fc_cal_events(ctx->events, ctx->nevents, s->series_id, d)
                     : 0;
    x[F_EV_GREVE] = (ev & FC_EV_GREVE) != 0;
    x[F_EV_EVENT] = (ev & FC_EV_EVENEMENT) != 0;
    x[F_EV_CLOSED] = (ev & FC_EV_FERMETURE) != 0;
    x[F_EV_PONT] = (ev & FC_EV_PONT) != 0;
    x[F_HORIZON] = (float)(h < 400 ? h : 400);
    x[F_LOG_LEVEL] = (float)log(l);
    x[F_LAST_WEEK] = (float)ratio(fcst_last_week(&s->s, d, h), l);

    /* The last service days at or before o. */
    double recent[20];
    int nr = 0, served14 = 0;
    int64_t last_served = INT64_MIN;
    for (int64_t c = o; c > o - SCAN_DAYS && nr < 20; c--) {
        if (skipped(s, c))
            continue;
        double v = served(s, c, o);
        if (isnan(v))
            continue;
        if (last_served == INT64_MIN)
            last_served = c;
        if (c > o - 14)
            served14++;
        recent[nr++] = v;
    }
    if (nr) {
        double sum = 0;
        for (int i = 0; i < nr; i++)
            sum += recent[i];
        x[F_MEAN20] = (float)(sum / nr / l);
        int k = nr < 10 ? nr : 10;
        qsort(recent, (size_t)k, sizeof recent[0], cmp_double);
        double med =
            k % 2 ? recent[k / 2] : (recent[k / 2 - 1] + recent[k / 2]) / 2;
        x[F_MED10] = (float)(med / l);
        x[F_GAP] = (float)(o - last_served < 120 ? o - last_served : 120);
    }
    x[F_SERVED14] = (float)served14;
    x[F_TREND] = (float)ratio(l, fcst_mean4(&s->s, d - 28, h));

    /* Weekday profile over the 8 weeks before o. */
    double swd = 0, sall = 0;
    int nwd = 0, nall = 0;
    for (int64_t c = o; c > o - 56; c--) {
        double v = served(s, c, o);
        if (isnan(v) || skipped(s, c))
            continue;
        sall += v;
        nall++;
        if (fcst_weekday(c) == f.weekday) {
            swd += v;
            nwd++;
        }
    }
    if (nwd && nall)
        x[F_WD_PROFILE] = (float)((swd / nwd) / (sall / nall));

    /* Last year: same school day, relative to last year's level at the
       same horizon. */
    for (int k = 1; k <= 2; k++) {
        int64_t dy = fc_cal_same_school_day(ctx->cal, d, k);
        if (dy > o)
            continue;
        double vy = served(s, dy, o);
        double ly = level_at(s, dy, dy - h);
        if (k == 1) {
            x[F_LY_RATIO] = (float)ratio(vy, ly);
            x[F_LY_REL] = (float)ratio(vy, l);
            x[F_LY_GROWTH] = (float)ratio(l, ly);
            double sw = 0;
            int nw = 0;
            for (int64_t c = dy - 3; c <= dy + 3; c++) {
                double v = served(s, c, o);
                if (!isnan(v) && !skipped(s, c)) {
                    sw += v;
                    nw++;
                }
            }
            if (nw)
                x[F_LY_WEEK] = (float)ratio(sw / nw, ly);
        } else {
            x[F_LY2_RATIO] = (float)ratio(vy, ly);
        }
    }

    x[F_GROUP] = (float)s->group;
    if (s->pupils) {
        double pd = NAN, po = NAN;
        if (d >= s->s.day0 && d - s->s.day0 < (int64_t)s->s.n)
            pd = s->pupils[d - s->s.day0];
        if (o >= s->s.day0 && o - s->s.day0 < (int64_t)s->s.n)
            po = s->pupils[o - s->s.day0];
        x[F_PUPILS_CHANGE] = (float)ratio(pd, po);
        x[F_PUPILS_PER_MEAL] = (float)ratio(pd, l);
    }
    if (s->menu && d >= s->s.day0 && d - s->s.day0 < (int64_t)s->s.n) {
        unsigned m = s->menu[d - s->s.day0];
        if (m)
            for (int i = 0; i < FC_MENU_NFLAGS; i++)
                x[F_MENU0 + i] = (float)((m >> i) & 1u);
    }
    return 0;
}

static int
set_param(BoosterHandle b, const char *k, const char *v, struct gu_err *err)
{
    if (XGBoosterSetParam(b, k, v))
        return xgb_fail(err, k);
    return 0;
}

int
fcst_gbt_train(const struct fcst_gbt_ctx *ctx, const struct fcst_gbt_series *ss,
               size_t nseries, int64_t train_end,
               const struct fcst_gbt_params *p, struct fcst_gbt **out,
               struct gu_err *err)
{
    *out = NULL;
    if (!ctx || !ctx->cal || !p || p->horizon < 1 ||
        p->horizon > FCST_GBT_YEAR_AHEAD)
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Paramètres du modèle invalides.",
                          "fcst_gbt_train: bad arguments");
    /* Count candidate rows first, then fill. */
    size_t cap = 0;
    for (size_t k = 0; k < nseries; k++) {
        int64_t end = train_end < ss[k].s.day0 + (int64_t)ss[k].s.n - 1
                          ? train_end
                          : ss[k].s.day0 + (int64_t)ss[k].s.n - 1;
        if (end >= ss[k].s.day0)
            cap += (size_t)(end - ss[k].s.day0 + 1);
    }
    float *x = NULL, *y = NULL;
    DMatrixHandle dm = NULL;
    BoosterHandle b = NULL;
    struct fcst_gbt *m = NULL;
    int rc = 0;
    if (cap > 50u * 1000 * 1000)
        return gu_err_set(err, GU_ETOOBIG, NULL,
                          "Trop de données pour un seul modèle.",
                          "fcst_gbt_train: %zu candidate rows", cap);
    x = gu_malloc((cap ? cap : 1) * NFEAT * sizeof *x);
    y = gu_malloc((cap ? cap : 1) * sizeof *y);
    if (!x || !y) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "fcst_gbt_train: oom");
        goto out;
    }
    size_t rows = 0;
    for (size_t k = 0; k < nseries; k++) {
        const struct fcst_gbt_series *s = &ss[k];
        for (size_t i = 0; i < s->s.n; i++) {
            int64_t d = s->s.day0 + (int64_t)i;
            if (d > train_end)
                break;
            double a = s->s.v[i];
            if (!(a > 0) || skipped(s, d))
                continue;
            int64_t o = origin_for(p->horizon, ctx->cal, d);
            double l;
            if (o >= d || o < s->s.day0 + 27 ||
                feature_row(ctx, s, d, o, x + rows * NFEAT, &l))
                continue;
            y[rows++] = (float)log(a / l);
        }
    }
    if (rows < MIN_ROWS) {
        rc = gu_err_set(err, GU_EINVAL, NULL,
                        "Pas assez d'historique pour le modèle d'arbres "
                        "de gradient (moins de 200 jours servis).",
                        "fcst_gbt_train: %zu rows", rows);
        goto out;
    }
    if (XGDMatrixCreateFromMat(x, rows, NFEAT, NAN, &dm)) {
        rc = xgb_fail(err, "XGDMatrixCreateFromMat");
        goto out;
    }
    if (XGDMatrixSetFloatInfo(dm, "label", y, rows)) {
        rc = xgb_fail(err, "XGDMatrixSetFloatInfo");
        goto out;
    }
    if (XGBoosterCreate(&dm, 1, &b)) {
        rc = xgb_fail(err, "XGBoosterCreate");
        goto out;
    }
    char buf[64];
    /* A year ahead, the features say less and more rounds learn noise:
       on Nantes' 2015-2016 year (fit at 2015-06-30) 20, 50, 200 rounds
       gave 8.21, 8.17, 8.55 % WAPE. */
    int rounds = p->rounds > 0                       ? p->rounds
                 : p->horizon == FCST_GBT_YEAR_AHEAD ? DEFAULT_ROUNDS_YEAR
                                                     : DEFAULT_ROUNDS;
    snprintf(buf, sizeof buf, "%d",
             p->max_depth > 0 ? p->max_depth : DEFAULT_DEPTH);
    /* Pseudo-Huber on the log ratio, slope 0.1 (a 10 % error), from 0:
       squared error let the rare wild days (a canteen at a tenth of its
       level) pull the trees, and the log ratio is centred on 0, not on
       XGBoost's default 0.5. Measured on Nantes: squared error 6.71 %,
       absolute 6.92 %, Pseudo-Huber 0.3 5.95 %, 0.1 5.82 %. */
    if ((rc = set_param(b, "objective", "reg:pseudohubererror", err)) ||
        (rc = set_param(b, "huber_slope", "0.1", err)) ||
        (rc = set_param(b, "tree_method", "hist", err)) ||
        (rc = set_param(b, "base_score", "0", err)) ||
        (rc = set_param(b, "max_depth", buf, err)))
        goto out;
    /* min_child_weight is a sum of hessians, and Pseudo-Huber's hessian
       vanishes on rows far from the fit (a strike at 40 % of the level
       weighs ~0.001): on a small commune (< 20,000 rows) leaves may be
       tiny so that its rare known days (strikes, closures) still get
       their own; on a large one (Nantes: ~100k rows) leaves hold about
       20 ordinary rows, which measured better (5.82 % against 5.88 %
       with tiny leaves) - there a rare strong effect is learned only
       once it has happened often. */
    char mcw[16];
    snprintf(mcw, sizeof mcw, "%g",
             rows < 20000       ? 0.01
             : rows / 1000 > 20 ? 20.0
                                : rows / 1000.0);
    snprintf(buf, sizeof buf, "%g", p->eta > 0 ? p->eta : DEFAULT_ETA);
    if ((rc = set_param(b, "eta", buf, err)) ||
        (rc = set_param(b, "subsample", "0.8", err)) ||
        (rc = set_param(b, "colsample_bytree", "0.8", err)) ||
        (rc = set_param(b, "min_child_weight", mcw, err)) ||
        (rc = set_param(b, "verbosity", "0", err)))
        goto out;
    snprintf(buf, sizeof buf, "%d", p->threads > 0 ? p->threads : 0);
    if (p->threads > 0 && (rc = set_param(b, "nthread", buf, err)))
        goto out;
    snprintf(buf, sizeof buf, "%u", (unsigned)(p->seed & 0x7fffffffu));
    if ((rc = set_param(b, "seed", buf, err)))
        goto out;
    for (int it = 0; it < rounds; it++) {
        if (XGBoosterUpdateOneIter(b, it, dm)) {
            rc = xgb_fail(err, "XGBoosterUpdateOneIter");
            goto out;
        }
    }
    m = gu_calloc(1, sizeof *m);
    if (!m) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "fcst_gbt_train: oom");
        goto out;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->b = b;
    b = NULL;
    m->horizon = p->horizon;
    m->nfeat = NFEAT;
    *out = m;
out:
    if (b)
        XGBoosterFree(b);
    if (dm)
        XGDMatrixFree(dm);
    gu_free(x);
    gu_free(y);
    return rc;
}

int
fcst_gbt_predict_many(const struct fcst_gbt *m, const struct fcst_gbt_ctx *ctx,
                      const struct fcst_gbt_series *s, const int64_t *days,
                      const int64_t *origins, size_t n, double *out,
                      struct gu_err *err)
{
    if (n == 0)
        return 0;
    float *x = gu_malloc(n * NFEAT * sizeof *x);
    double *lv = gu_malloc(n * sizeof *lv);
    size_t *idx = gu_malloc(n * sizeof *idx);
    DMatrixHandle dm = NULL;
    int rc = 0;
    if (!x || !lv || !idx) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "fcst_gbt_predict: oom");
        goto out;
    }
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = NAN;
        if (origins[i] >= days[i])
            continue;
        if (feature_row(ctx, s, days[i], origins[i], x + rows * NFEAT,
                        &lv[rows]) == 0)
            idx[rows++] = i;
    }
    if (rows == 0)
        goto out;
    if (XGDMatrixCreateFromMat(x, rows, NFEAT, NAN, &dm)) {
        rc = xgb_fail(err, "XGDMatrixCreateFromMat");
        goto out;
    }
    bst_ulong len = 0;
    const float *pred = NULL;
    struct fcst_gbt *mm = (struct fcst_gbt *)m; /* the lock only */
    pthread_mutex_lock(&mm->lock);
    int bad = XGBoosterPredict(m->b, dm, 0, 0, 0, &len, &pred);
    if (!bad && len == rows)
        for (size_t r = 0; r < rows; r++)
            out[idx[r]] = lv[r] * exp((double)pred[r]);
    pthread_mutex_unlock(&mm->lock);
    if (bad || len != rows)
        rc = xgb_fail(err, "XGBoosterPredict");
out:
    if (dm)
        XGDMatrixFree(dm);
    gu_free(x);
    gu_free(lv);
    gu_free(idx);
    return rc;
}

double
fcst_gbt_predict(const struct fcst_gbt *m, const struct fcst_gbt_ctx *ctx,
                 const struct fcst_gbt_series *s, int64_t d, int64_t origin)
{
    double f = NAN;
    if (fcst_gbt_predict_many(m, ctx, s, &d, &origin, 1, &f, NULL))
        return NAN;
    return f;
}

int
fcst_gbt_horizon(const struct fcst_gbt *m)
{
    return m->horizon;
}

static void
put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

/* Saved form: MAGIC, horizon (u32 LE), features (u32 LE), XGBoost UBJSON
   length (u32 LE), FNV-1a 64 of the UBJSON (u64 LE), the UBJSON bytes.
   The checksum keeps damaged bytes away from XGBoost's parser, which
   trusts the lengths it reads (a flipped byte can ask for terabytes). */
#define HEADER_LEN (MAGIC_LEN + 20)

static uint64_t
fnv64(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211u;
    }
    return h;
}

int
fcst_gbt_save(const struct fcst_gbt *m, void **buf, size_t *len,
              struct gu_err *err)
{
    *buf = NULL;
    *len = 0;
    bst_ulong n = 0;
    const char *raw = NULL;
    struct fcst_gbt *mm = (struct fcst_gbt *)m;
    pthread_mutex_lock(&mm->lock);
    int bad =
        XGBoosterSaveModelToBuffer(m->b, "{\"format\": \"ubj\"}", &n, &raw);
    unsigned char *p = NULL;
    int rc = 0;
    if (bad) {
        rc = xgb_fail(err, "XGBoosterSaveModelToBuffer");
    } else if (n > UINT32_MAX - HEADER_LEN) {
        rc = gu_err_set(err, GU_ETOOBIG, NULL, NULL, "model too big");
    } else if (!(p = gu_malloc(HEADER_LEN + (size_t)n))) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "fcst_gbt_save: oom");
    } else {
        memcpy(p, MAGIC, MAGIC_LEN);
        put32(p + MAGIC_LEN, (uint32_t)m->horizon);
        put32(p + MAGIC_LEN + 4, (uint32_t)m->nfeat);
        put32(p + MAGIC_LEN + 8, (uint32_t)n);
        uint64_t h = fnv64((const unsigned char *)raw, (size_t)n);
        put32(p + MAGIC_LEN + 12, (uint32_t)h);
        put32(p + MAGIC_LEN + 16, (uint32_t)(h >> 32));
        memcpy(p + HEADER_LEN, raw, (size_t)n);
        *buf = p;
        *len = HEADER_LEN + (size_t)n;
    }
    pthread_mutex_unlock(&mm->lock);
    return rc;
}

int
fcst_gbt_load(const void *buf, size_t len, struct fcst_gbt **out,
              struct gu_err *err)
{
    *out = NULL;
    const unsigned char *p = buf;
    if (!buf || len < HEADER_LEN || memcmp(p, MAGIC, MAGIC_LEN) ||
        get32(p + MAGIC_LEN + 8) != len - HEADER_LEN ||
        get32(p + MAGIC_LEN + 4) != NFEAT || get32(p + MAGIC_LEN) < 1 ||
        get32(p + MAGIC_LEN) > FCST_GBT_YEAR_AHEAD ||
        fnv64(p + HEADER_LEN, len - HEADER_LEN) !=
            (get32(p + MAGIC_LEN + 12) | (uint64_t)get32(p + MAGIC_LEN + 16)
                                             << 32))
        return gu_err_set(err, GU_EINVAL, NULL,
                          "Modèle enregistré illisible ou d'une autre "
                          "version : réajustez les prévisions.",
                          "fcst_gbt_load: bad header");
    BoosterHandle b = NULL;
    if (XGBoosterCreate(NULL, 0, &b))
        return xgb_fail(err, "XGBoosterCreate");
    if (XGBoosterLoadModelFromBuffer(b, p + HEADER_LEN, len - HEADER_LEN)) {
        int rc = gu_err_set(err, GU_EINVAL, NULL,
                            "Modèle enregistré illisible : réajustez les "
                            "prévisions.",
                            "fcst_gbt_load: %s", XGBGetLastError());
        XGBoosterFree(b);
        return rc;
    }
    struct fcst_gbt *m = gu_calloc(1, sizeof *m);
    if (!m) {
        XGBoosterFree(b);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "fcst_gbt_load: oom");
    }
    pthread_mutex_init(&m->lock, NULL);
    m->b = b;
    m->horizon = (int)get32(p + MAGIC_LEN);
    m->nfeat = NFEAT;
    *out = m;
    return 0;
}

void
fcst_gbt_free(struct fcst_gbt *m)
{
    if (!m)
        return;
    XGBoosterFree(m->b);
    pthread_mutex_destroy(&m->lock);
    gu_free(m);
}
