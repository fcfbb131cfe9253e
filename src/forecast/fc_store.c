/*
 * fc_store.c - series, points, events, headcounts and menus (fc_store.h).
 *
 * Validation happens here, at the domain's edge, so the CLI, the CSV
 * import and the JSON API give the same French messages.
 */
#include "forecast/fc_store.h"
#include "forecast/fc_reco.h"

#include <stdio.h>
#include <string.h>

/* Days accepted for points, events and menus: 1900-01-01 .. 2199-12-31. */
#define DAY_MIN (-25567)
#define DAY_MAX 84000

static const char *const freq_names[] = {"jour", "heure", "15min"};
static const char *const kind_names[] = {"autre", "cantine", "eau", "accueil",
                                         "telephone"};
static const char *const source_names[] = {"csv", "api", "saisie"};
static const char *const event_names[] = {"greve", "evenement", "fermeture",
                                          "pont"};

static int
parse_name(const char *const *names, size_t n, const char *s, int *out)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0) {
            *out = (int)i;
            return 0;
        }
    return GU_EINVAL;
}

const char *
fc_freq_name(enum fc_freq f)
{
    return (unsigned)f < GU_ARRAY_LEN(freq_names) ? freq_names[f] : "";
}

int
fc_freq_parse(const char *s, enum fc_freq *out)
{
    int v = 0;

    if (parse_name(freq_names, GU_ARRAY_LEN(freq_names), s, &v) < 0)
        return GU_EINVAL;
    *out = (enum fc_freq)v;
    return 0;
}

const char *
fc_kind_name(enum fc_kind k)
{
    return (unsigned)k < GU_ARRAY_LEN(kind_names) ? kind_names[k] : "";
}

int
fc_kind_parse(const char *s, enum fc_kind *out)
{
    int v = 0;

    if (parse_name(kind_names, GU_ARRAY_LEN(kind_names), s, &v) < 0)
        return GU_EINVAL;
    *out = (enum fc_kind)v;
    return 0;
}

const char *
fc_source_name(enum fc_source s)
{
    return (unsigned)s < GU_ARRAY_LEN(source_names) ? source_names[s] : "csv";
}

const char *
fc_event_kind_name(enum fc_event_kind k)
{
    return (unsigned)k < GU_ARRAY_LEN(event_names) ? event_names[k] : "";
}

int
fc_event_kind_parse(const char *s, enum fc_event_kind *out)
{
    int v = 0;

    if (parse_name(event_names, GU_ARRAY_LEN(event_names), s, &v) < 0)
        return GU_EINVAL;
    *out = (enum fc_event_kind)v;
    return 0;
}

int64_t
fc_freq_seconds(enum fc_freq f)
{
    return f == FC_FREQ_HOUR ? 3600 : f == FC_FREQ_15MIN ? 900 : 86400;
}

bool
fc_code_valid(const char *code)
{
    size_t n = code ? strlen(code) : 0;

    if (n == 0 || n > FC_CODE_MAX || code[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = code[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-'))
            return false;
    }
    return true;
}

/* ASCII letter for a two-byte UTF-8 Latin-1 letter (U+00C0..U+00FF). */
static char
fold_latin1(unsigned cp)
{
    static const char map[] = "aaaaaaaceeeeiiiidnooooo-ouuuuyts"
                              "aaaaaaaceeeeiiiidnooooo-ouuuuyty";

    if (cp >= 0xC0 && cp <= 0xFF)
        return map[cp - 0xC0];
    return 0;
}

void
fc_slug(const char *text, char *buf, size_t cap)
{
    size_t o = 0;
    bool dash = false;
    const unsigned char *p = (const unsigned char *)(text ? text : "");

    if (cap == 0)
        return;
    while (*p && o + 1 < cap && o < FC_CODE_MAX) {
        char ch = 0;
        if (*p < 0x80) {
            ch = (char)*p;
            if (ch >= 'A' && ch <= 'Z')
                ch = (char)(ch - 'A' + 'a');
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
                ch = 0;
            p++;
        } else if ((*p & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            unsigned cp = ((unsigned)(*p & 0x1F) << 6) | (p[1] & 0x3F);
            ch = fold_latin1(cp);
            if (ch == '-')
                ch = 0;
            p += 2;
        } else {
            p++;
            while ((*p & 0xC0) == 0x80)
                p++;
        }
        if (ch) {
            if (dash && o > 0 && o + 2 < cap)
                buf[o++] = '-';
            dash = false;
            buf[o++] = ch;
        } else {
            dash = true;
        }
    }
    buf[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* Validation helpers                                                  */
/* ------------------------------------------------------------------ */

static int
check_insee(const char *insee, struct gu_err *err)
{
    if (!insee || !store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "insee", "Code de commune invalide.",
                          "bad insee");
    return 0;
}

/* A one-line text field: valid UTF-8, no control character, <= max bytes. */
static int
check_text(const char *s, const char *field, const char *label, bool required,
           size_t max, bool multiline, struct gu_err *err)
{
    char msg[200];
    size_t n = s ? strlen(s) : 0;
    struct gu_str t = gu_str_trim(gu_str_c(s));

    if (required && t.n == 0) {
        snprintf(msg, sizeof(msg), "%s est obligatoire.", label);
        return gu_err_set(err, GU_EINVAL, field, msg, "%s empty", field);
    }
    if (n > max) {
        snprintf(msg, sizeof(msg), "%s ne doit pas dépasser %zu caractères.",
                 label, max);
        return gu_err_set(err, GU_EINVAL, field, msg, "%s too long", field);
    }
    if (!gu_utf8_valid(s ? s : "", n))
        goto bad;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && !(multiline && (ch == '\n' || ch == '\r' ||
                                          ch == '\t'))) ||
            ch == 0x7F)
            goto bad;
    }
    return 0;
bad:
    snprintf(msg, sizeof(msg), "%s contient des caractères invalides.", label);
    return gu_err_set(err, GU_EINVAL, field, msg, "%s bad chars", field);
}

static int
check_day(int64_t day, const char *field, struct gu_err *err)
{
    if (day >= DAY_MIN && day <= DAY_MAX)
        return 0;
    return gu_err_set(err, GU_EINVAL, field,
                      "La date doit être comprise entre 1900 et 2199.",
                      "bad day %lld", (long long)day);
}

static int
check_weekdays(const char *s, struct gu_err *err)
{
    bool seen[8] = {false};
    bool want_digit = true;

    for (const char *p = s ? s : ""; *p; p++) {
        if (want_digit && *p >= '1' && *p <= '7' && !seen[*p - '0']) {
            seen[*p - '0'] = true;
            want_digit = false;
        } else if (!want_digit && *p == ',') {
            want_digit = true;
        } else {
            goto bad;
        }
    }
    if (s && *s && want_digit)
        goto bad;
    return 0;
bad:
    return gu_err_set(err, GU_EINVAL, "closed_weekdays",
                      "Les jours de fermeture s'écrivent comme « 6,7 » "
                      "(1 = lundi … 7 = dimanche), sans doublon.",
                      "bad closed_weekdays");
}

static int
with_arena(struct gu_arena **a, struct gu_err *err)
{
    *a = gu_arena_new(512);
    return *a ? 0 : gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
}

static int
count_rows(struct store_conn *c, const char *sql, const struct store_val *p,
           size_t n, int64_t *out, struct gu_err *err)
{
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    int rc;

    if ((rc = with_arena(&a, err)) < 0)
        return rc;
    rc = store_query(c, a, sql, p, n, &r, err);
    if (rc == 0)
        *out = store_int(r, 0, 0);
    gu_arena_free(a);
    return rc;
}

static int
series_missing(struct gu_err *err, int64_t id)
{
    return gu_err_set(err, GU_ENOTFOUND, "series_id",
                      "Cette série n'existe pas.", "no series %lld",
                      (long long)id);
}

/* The series' frequency, checking it belongs to the commune. */
static int
series_freq(struct store_conn *c, const char *insee, int64_t id,
            enum fc_freq *freq, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    int rc;

    if ((rc = with_arena(&a, err)) < 0)
        return rc;
    rc = store_query(c, a,
                     "SELECT freq FROM fc_series WHERE id = ? AND insee = ?",
                     p, 2, &r, err);
    if (rc == 0 && r->nrows == 0)
        rc = series_missing(err, id);
    if (rc == 0 && fc_freq_parse(store_text(r, 0, 0), freq) < 0)
        rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL, "bad freq in db");
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Series                                                              */
/* ------------------------------------------------------------------ */

#define SERIES_COLS                                                            \
    "s.id, s.insee, s.code, s.name, s.unit, s.freq, s.kind, s.site, "         \
    "s.closed_weekdays, s.meal_cost, s.meal_kg, s.active, s.created_at, "     \
    "(SELECT COUNT(*) FROM fc_points p WHERE p.series_id = s.id), "           \
    "(SELECT MIN(t) FROM fc_points p WHERE p.series_id = s.id), "             \
    "(SELECT MAX(t) FROM fc_points p WHERE p.series_id = s.id), "             \
    "s.risk, s.alert_to"

static void
series_row(const struct store_rows *r, size_t i, struct fc_series *s)
{
    const char *insee = store_text(r, i, 1);

    memset(s, 0, sizeof(*s));
    s->id = store_int(r, i, 0);
    snprintf(s->insee, sizeof(s->insee), "%s", insee ? insee : "");
    s->code = store_text(r, i, 2);
    s->name = store_text(r, i, 3);
    s->unit = store_text(r, i, 4);
    if (fc_freq_parse(store_text(r, i, 5), &s->freq) < 0)
        s->freq = FC_FREQ_DAY;
    if (fc_kind_parse(store_text(r, i, 6), &s->kind) < 0)
        s->kind = FC_KIND_AUTRE;
    s->site = store_text(r, i, 7);
    s->closed_weekdays = store_text(r, i, 8);
    s->meal_cost = store_real(r, i, 9);
    s->meal_kg = store_real(r, i, 10);
    s->active = store_int(r, i, 11) != 0;
    s->created_at = store_int(r, i, 12);
    s->npoints = store_int(r, i, 13);
    s->first_t = store_int(r, i, 14);
    s->last_t = store_int(r, i, 15);
    s->risk = store_real(r, i, 16);
    s->alert_to = store_text(r, i, 17);
    if (!s->alert_to)
        s->alert_to = "";
}

#define RISK_DEFAULT 0.05

/* An address for alerts: one '@', a local part and a dotted domain, no
   space, quote or control character; 254 bytes at most. */
static bool
email_ok(const char *s)
{
    const char *at = strchr(s, '@'), *dot;
    size_t n = strlen(s);

    if (!at || at == s || strchr(at + 1, '@') || n > 254)
        return false;
    dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || dot[1] == '\0')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch == 0x7F || ch == '"' || ch == '<' || ch == '>' ||
            ch == ',' || ch == ';' || ch == '(' || ch == ')' || ch == '\\')
            return false;
    }
    return gu_utf8_valid(s, n);
}

static int
check_series(const struct fc_series *s, struct gu_err *err)
{
    int rc;

    if ((rc = check_insee(s->insee, err)) < 0)
        return rc;
    if (!fc_code_valid(s->code))
        return gu_err_set(err, GU_EINVAL, "code",
                          "Le code de la série est obligatoire : lettres "
                          "minuscules sans accent, chiffres et tirets, 64 "
                          "caractères au plus (ex. « cantine-jules-ferry »).",
                          "bad code");
    if ((rc = check_text(s->name, "name", "Le nom", true, FC_NAME_MAX, false,
                         err)) < 0 ||
        (rc = check_text(s->unit, "unit", "L'unité", false, FC_NAME_MAX,
                         false, err)) < 0 ||
        (rc = check_text(s->site, "site", "Le site", false, FC_NAME_MAX,
                         false, err)) < 0 ||
        (rc = check_weekdays(s->closed_weekdays, err)) < 0)
        return rc;
    if ((unsigned)s->freq >= GU_ARRAY_LEN(freq_names))
        return gu_err_set(err, GU_EINVAL, "freq",
                          "La fréquence doit être jour, heure ou 15min.",
                          "bad freq");
    if ((unsigned)s->kind >= GU_ARRAY_LEN(kind_names))
        return gu_err_set(err, GU_EINVAL, "kind",
                          "Le type doit être cantine, eau, accueil, "
                          "telephone ou autre.",
                          "bad kind");
    if (!(s->meal_cost >= 0 && s->meal_cost <= 1000))
        return gu_err_set(err, GU_EINVAL, "meal_cost",
                          "Le coût d'un repas doit être entre 0 et 1000 €.",
                          "bad meal_cost");
    if (!(s->meal_kg >= 0 && s->meal_kg <= 100))
        return gu_err_set(err, GU_EINVAL, "meal_kg",
                          "Le poids d'un repas doit être entre 0 et 100 kg.",
                          "bad meal_kg");
    if (s->risk != 0 &&
        !(s->risk >= FCST_RISK_MIN && s->risk <= FCST_RISK_MAX))
        return gu_err_set(err, GU_EINVAL, "risk",
                          "Le risque de manque doit être entre 0,5 % et "
                          "50 % (ex. « 1 sur 20 » ou « 5 % »).",
                          "bad risk");
    if (s->alert_to && *s->alert_to && !email_ok(s->alert_to))
        return gu_err_set(err, GU_EINVAL, "alert_to",
                          "Adresse e-mail des alertes invalide (ex. "
                          "prenom.nom@exemple.fr, ou vide).",
                          "bad alert_to");
    return 0;
}

int
fc_series_save(struct store_conn *c, const struct fc_series *s,
               int64_t *id_out, struct gu_err *err)
{
    struct store_val p[14];
    int64_t count = 0, changes = 0;
    int rc;

    gu_err_clear(err);
    if ((rc = check_series(s, err)) < 0)
        return rc;
    p[0] = STORE_T(s->insee);
    p[1] = STORE_T(s->code);
    p[2] = STORE_T(gu_str_trim(gu_str_c(s->name)).p);
    p[2].n = gu_str_trim(gu_str_c(s->name)).n;
    p[3] = STORE_T(s->unit ? s->unit : "");
    p[4] = STORE_T(fc_freq_name(s->freq));
    p[5] = STORE_T(fc_kind_name(s->kind));
    p[6] = STORE_T(s->site ? s->site : "");
    p[7] = STORE_T(s->closed_weekdays ? s->closed_weekdays : "");
    p[8] = STORE_D(s->meal_cost);
    p[9] = STORE_D(s->meal_kg);
    p[10] = STORE_I(s->active ? 1 : 0);
    p[12] = STORE_D(s->risk != 0 ? s->risk : RISK_DEFAULT);
    p[13] = STORE_T(s->alert_to ? s->alert_to : "");
    if (s->id == 0) {
        struct store_val q[1] = {STORE_T(s->insee)};
        struct gu_arena *a = NULL;
        struct store_rows *r = NULL;

        if ((rc = count_rows(c,
                             "SELECT COUNT(*) FROM fc_series WHERE insee = ?",
                             q, 1, &count, err)) < 0)
            return rc;
        if (count >= FC_SERIES_MAX)
            return gu_err_set(err, GU_ETOOBIG, NULL,
                              "Trop de séries pour cette commune (2000 au "
                              "plus).",
                              "too many series");
        p[11] = STORE_I(gu_now());
        if ((rc = with_arena(&a, err)) < 0)
            return rc;
        rc = store_query(c, a,
                         "INSERT INTO fc_series (insee, code, name, unit, "
                         "freq, kind, site, closed_weekdays, meal_cost, "
                         "meal_kg, active, created_at, risk, alert_to) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                         p, 14, &r, err);
        if (rc == 0 && id_out)
            *id_out = store_int(r, 0, 0);
        gu_arena_free(a);
        if (rc == GU_ECONFLICT)
            return gu_err_set(err, GU_ECONFLICT, "code",
                              "Une série porte déjà ce code dans la commune.",
                              "series code taken");
        return rc;
    }
    {
        enum fc_freq old = FC_FREQ_DAY;
        struct store_val q[1] = {STORE_I(s->id)};

        if ((rc = series_freq(c, s->insee, s->id, &old, err)) < 0)
            return rc;
        if (old != s->freq) {
            if ((rc = count_rows(c,
                                 "SELECT COUNT(*) FROM fc_points "
                                 "WHERE series_id = ?",
                                 q, 1, &count, err)) < 0)
                return rc;
            if (count > 0)
                return gu_err_set(err, GU_ECONFLICT, "freq",
                                  "La fréquence d'une série qui a des "
                                  "données ne peut pas changer.",
                                  "freq change with points");
        }
    }
    /* Same order as the INSERT, the commune moved last: a series never
       changes commune. */
    p[0] = p[1];
    p[1] = p[2];
    p[2] = p[3];
    p[3] = p[4];
    p[4] = p[5];
    p[5] = p[6];
    p[6] = p[7];
    p[7] = p[8];
    p[8] = p[9];
    p[9] = p[10];
    p[10] = p[12];
    p[11] = p[13];
    p[12] = STORE_I(s->id);
    p[13] = STORE_T(s->insee);
    rc = store_exec_changes(c,
                            "UPDATE fc_series SET code = ?, name = ?, "
                            "unit = ?, freq = ?, kind = ?, site = ?, "
                            "closed_weekdays = ?, meal_cost = ?, "
                            "meal_kg = ?, active = ?, risk = ?, "
                            "alert_to = ? WHERE id = ? AND insee = ?",
                            p, 14, &changes, err);
    if (rc == GU_ECONFLICT)
        return gu_err_set(err, GU_ECONFLICT, "code",
                          "Une série porte déjà ce code dans la commune.",
                          "series code taken");
    if (rc == 0 && changes == 0)
        return series_missing(err, s->id);
    if (rc == 0 && id_out)
        *id_out = s->id;
    return rc;
}

static int
series_one(struct store_conn *c, struct gu_arena *a, const char *sql,
           const struct store_val *p, struct fc_series *out,
           struct gu_err *err)
{
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a, sql, p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "series",
                          "Cette série n'existe pas.", "no such series");
    series_row(r, 0, out);
    return 0;
}

int
fc_series_get(struct store_conn *c, struct gu_arena *a, const char *insee,
              int64_t id, struct fc_series *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};

    gu_err_clear(err);
    return series_one(c, a,
                      "SELECT " SERIES_COLS " FROM fc_series s "
                      "WHERE s.id = ? AND s.insee = ?",
                      p, out, err);
}

int
fc_series_by_code(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const char *code, struct fc_series *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(code), STORE_T(insee)};

    gu_err_clear(err);
    return series_one(c, a,
                      "SELECT " SERIES_COLS " FROM fc_series s "
                      "WHERE s.code = ? AND s.insee = ?",
                      p, out, err);
}

int
fc_series_list(struct store_conn *c, struct gu_arena *a, const char *insee,
               struct fc_series **out, size_t *n, struct gu_err *err)
{
    struct store_val p[1] = {STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    gu_err_clear(err);
    *out = NULL;
    *n = 0;
    rc = store_query(c, a,
                     "SELECT " SERIES_COLS " FROM fc_series s "
                     "WHERE s.insee = ? ORDER BY s.name, s.code",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return 0;
    *out = gu_arena_zalloc(a, r->nrows * sizeof(**out));
    if (!*out)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        series_row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

int
fc_series_delete(struct store_conn *c, const char *insee, int64_t id,
                 struct gu_err *err)
{
    static const char *const sqls[] = {
        "DELETE FROM fc_points WHERE series_id = ? AND insee = ?",
        "DELETE FROM fc_headcounts WHERE series_id = ? AND insee = ?",
        "DELETE FROM fc_menus WHERE series_id = ? AND insee = ?",
        "DELETE FROM fc_events WHERE series_id = ? AND insee = ?",
        "DELETE FROM fc_fits WHERE series_id = ? AND insee = ?",
        "DELETE FROM fc_forecasts WHERE series_id = ? AND insee = ?",
        "DELETE FROM fc_alerts WHERE series_id = ? AND insee = ?",
        "DELETE FROM fc_series WHERE id = ? AND insee = ?",
    };
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    enum fc_freq f;
    bool own_tx = !store_in_tx(c);
    int rc;

    gu_err_clear(err);
    if ((rc = series_freq(c, insee, id, &f, err)) < 0)
        return rc;
    if (own_tx && (rc = store_begin(c, err)) < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < GU_ARRAY_LEN(sqls); i++)
        rc = store_exec(c, sqls[i], p, 2, err);
    if (own_tx) {
        if (rc == 0)
            rc = store_commit(c, err);
        else
            store_rollback(c);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Points                                                              */
/* ------------------------------------------------------------------ */

static int
check_t(enum fc_freq f, int64_t t, const char *field, struct gu_err *err)
{
    if (f == FC_FREQ_DAY)
        return check_day(t, field, err);
    if (t < (int64_t)DAY_MIN * 86400 || t > (int64_t)DAY_MAX * 86400)
        return gu_err_set(err, GU_EINVAL, field,
                          "L'horodatage doit être compris entre 1900 et "
                          "2199.",
                          "bad t");
    if (t % fc_freq_seconds(f) != 0)
        return gu_err_set(err, GU_EINVAL, field,
                          f == FC_FREQ_HOUR
                              ? "L'horodatage doit tomber sur une heure "
                                "pleine."
                              : "L'horodatage doit tomber sur un quart "
                                "d'heure (00, 15, 30, 45).",
                          "t not aligned");
    return 0;
}

static bool
value_ok(double v)
{
    return isfinite(v) && fabs(v) <= FC_VALUE_MAX;
}

/* Write points, inside an open transaction. */
static int
put_points(struct store_conn *c, const char *insee, int64_t series_id,
           const struct fc_point *pts, size_t n, enum fc_source src,
           struct gu_err *err)
{
    struct store_val p[7];
    int64_t now = gu_now();
    int rc = 0;

    p[0] = STORE_I(series_id);
    p[4] = STORE_T(insee);
    p[5] = STORE_T(fc_source_name(src));
    p[6] = STORE_I(now);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        p[1] = STORE_I(pts[i].t);
        p[2] = STORE_D(pts[i].value);
        p[3] = isnan(pts[i].staff) ? STORE_NUL : STORE_D(pts[i].staff);
        rc = store_exec(c,
                        "INSERT INTO fc_points (series_id, t, value, staff, "
                        "insee, source, updated_at) VALUES (?,?,?,?,?,?,?) "
                        "ON CONFLICT (series_id, t) DO UPDATE SET "
                        "value = excluded.value, staff = excluded.staff, "
                        "source = excluded.source, "
                        "updated_at = excluded.updated_at",
                        p, 7, err);
    }
    return rc;
}

int
fc_points_put(struct store_conn *c, const char *insee, int64_t series_id,
              const struct fc_point *pts, size_t n, enum fc_source src,
              struct gu_err *err)
{
    enum fc_freq f = FC_FREQ_DAY;
    char field[32];
    bool own_tx = !store_in_tx(c);
    int64_t count = 0;
    struct store_val q[1] = {STORE_I(series_id)};
    int rc;

    gu_err_clear(err);
    if ((rc = check_insee(insee, err)) < 0)
        return rc;
    if (n > FC_BATCH_MAX)
        return gu_err_set(err, GU_ETOOBIG, "points",
                          "Trop de points en une fois (100 000 au plus).",
                          "batch too big");
    if ((rc = series_freq(c, insee, series_id, &f, err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        snprintf(field, sizeof(field), "points[%zu]", i);
        if ((rc = check_t(f, pts[i].t, field, err)) < 0)
            return rc;
        if (!value_ok(pts[i].value) ||
            (!isnan(pts[i].staff) && !value_ok(pts[i].staff)))
            return gu_err_set(err, GU_EINVAL, field,
                              "Valeur invalide : un nombre est attendu.",
                              "bad value at %zu", i);
    }
    if ((rc = count_rows(c, "SELECT COUNT(*) FROM fc_points WHERE series_id "
                            "= ?",
                         q, 1, &count, err)) < 0)
        return rc;
    if ((uint64_t)count + n > FC_POINTS_MAX)
        return gu_err_set(err, GU_ETOOBIG, "points",
                          "La série dépasserait 5 millions de points.",
                          "series full");
    if (own_tx && (rc = store_begin(c, err)) < 0)
        return rc;
    rc = put_points(c, insee, series_id, pts, n, src, err);
    if (own_tx) {
        if (rc == 0)
            rc = store_commit(c, err);
        else
            store_rollback(c);
    }
    return rc;
}

int
fc_points_range(struct store_conn *c, struct gu_arena *a, const char *insee,
                int64_t series_id, int64_t t0, int64_t t1,
                struct fc_point **out, size_t *n, struct gu_err *err)
{
    struct store_val p[4] = {STORE_I(series_id), STORE_T(insee), STORE_I(t0),
                             STORE_I(t1)};
    struct store_val q[4];
    enum fc_freq f;
    struct store_rows *r = NULL;
    int64_t count = 0;
    int rc;

    gu_err_clear(err);
    *out = NULL;
    *n = 0;
    if ((rc = series_freq(c, insee, series_id, &f, err)) < 0)
        return rc;
    memcpy(q, p, sizeof(q));
    if ((rc = count_rows(c,
                         "SELECT COUNT(*) FROM fc_points WHERE series_id = ? "
                         "AND insee = ? AND t >= ? AND t <= ?",
                         q, 4, &count, err)) < 0)
        return rc;
    if (count > FC_RANGE_MAX)
        return gu_err_set(err, GU_ETOOBIG, "to",
                          "Période trop longue : réduisez l'intervalle "
                          "demandé.",
                          "range too big");
    rc = store_query(c, a,
                     "SELECT t, value, staff FROM fc_points WHERE "
                     "series_id = ? AND insee = ? AND t >= ? AND t <= ? "
                     "ORDER BY t",
                     p, 4, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    *out = gu_arena_alloc(a, r->nrows * sizeof(**out));
    if (!*out)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++) {
        const struct store_val *s = store_cell(r, i, 2);
        (*out)[i].t = store_int(r, i, 0);
        (*out)[i].value = store_real(r, i, 1);
        (*out)[i].staff =
            (!s || s->type == STORE_NULL) ? NAN : store_real(r, i, 2);
    }
    *n = r->nrows;
    return 0;
}

int
fc_points_daily(struct store_conn *c, struct gu_arena *a, const char *insee,
                int64_t series_id, int64_t day0, int64_t day1,
                double **values, double **staff, size_t *n,
                struct gu_err *err)
{
    enum fc_freq f;
    struct fc_point *pts = NULL;
    size_t np = 0, len;
    int rc;

    gu_err_clear(err);
    *values = NULL;
    if (staff)
        *staff = NULL;
    *n = 0;
    if ((rc = series_freq(c, insee, series_id, &f, err)) < 0)
        return rc;
    if (f != FC_FREQ_DAY)
        return gu_err_set(err, GU_EINVAL, "series",
                          "Cette série n'est pas journalière.",
                          "not daily");
    if ((rc = check_day(day0, "from", err)) < 0 ||
        (rc = check_day(day1, "to", err)) < 0)
        return rc;
    if (day1 < day0)
        return gu_err_set(err, GU_EINVAL, "to",
                          "La fin de la période précède son début.",
                          "day1 < day0");
    if (day1 - day0 + 1 > FC_RANGE_MAX)
        return gu_err_set(err, GU_ETOOBIG, "to", "Période trop longue.",
                          "range too big");
    len = (size_t)(day1 - day0 + 1);
    if ((rc = fc_points_range(c, a, insee, series_id, day0, day1, &pts, &np,
                              err)) < 0)
        return rc;
    *values = gu_arena_alloc(a, len * sizeof(double));
    if (staff)
        *staff = gu_arena_alloc(a, len * sizeof(double));
    if (!*values || (staff && !*staff))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < len; i++) {
        (*values)[i] = NAN;
        if (staff)
            (*staff)[i] = NAN;
    }
    for (size_t i = 0; i < np; i++) {
        size_t k = (size_t)(pts[i].t - day0);
        (*values)[k] = pts[i].value;
        if (staff)
            (*staff)[k] = pts[i].staff;
    }
    *n = len;
    return 0;
}

int
fc_points_delete(struct store_conn *c, const char *insee, int64_t series_id,
                 int64_t t0, int64_t t1, int64_t *deleted, struct gu_err *err)
{
    struct store_val p[4] = {STORE_I(series_id), STORE_T(insee), STORE_I(t0),
                             STORE_I(t1)};
    enum fc_freq f;
    int rc;

    gu_err_clear(err);
    if ((rc = series_freq(c, insee, series_id, &f, err)) < 0)
        return rc;
    return store_exec_changes(c,
                              "DELETE FROM fc_points WHERE series_id = ? AND "
                              "insee = ? AND t >= ? AND t <= ?",
                              p, 4, deleted, err);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

static void
event_row(const struct store_rows *r, size_t i, struct fc_event *e)
{
    const char *insee = store_text(r, i, 1);

    memset(e, 0, sizeof(*e));
    e->id = store_int(r, i, 0);
    snprintf(e->insee, sizeof(e->insee), "%s", insee ? insee : "");
    e->series_id = store_int(r, i, 2);
    e->day = store_int(r, i, 3);
    if (fc_event_kind_parse(store_text(r, i, 4), &e->kind) < 0)
        e->kind = FC_EVENT_EVENEMENT;
    e->label = store_text(r, i, 5);
    e->created_at = store_int(r, i, 6);
}

int
fc_event_save(struct store_conn *c, const struct fc_event *e, int64_t *id_out,
              struct gu_err *err)
{
    struct store_val p[6];
    enum fc_freq f;
    int64_t changes = 0;
    int rc;

    gu_err_clear(err);
    if ((rc = check_insee(e->insee, err)) < 0 ||
        (rc = check_day(e->day, "day", err)) < 0 ||
        (rc = check_text(e->label, "label", "Le libellé", false,
                         FC_LABEL_MAX, false, err)) < 0)
        return rc;
    if ((unsigned)e->kind >= GU_ARRAY_LEN(event_names))
        return gu_err_set(err, GU_EINVAL, "kind",
                          "Le type doit être greve, evenement, fermeture ou "
                          "pont.",
                          "bad event kind");
    if (e->series_id < 0 ||
        (e->series_id > 0 &&
         (rc = series_freq(c, e->insee, e->series_id, &f, err)) < 0))
        return e->series_id < 0 ? series_missing(err, e->series_id) : rc;
    p[0] = STORE_I(e->series_id);
    p[1] = STORE_I(e->day);
    p[2] = STORE_T(fc_event_kind_name(e->kind));
    p[3] = STORE_T(e->label ? e->label : "");
    p[4] = STORE_T(e->insee);
    if (e->id == 0) {
        struct gu_arena *a = NULL;
        struct store_rows *r = NULL;

        p[5] = STORE_I(gu_now());
        if ((rc = with_arena(&a, err)) < 0)
            return rc;
        rc = store_query(c, a,
                         "INSERT INTO fc_events (series_id, day, kind, "
                         "label, insee, created_at) VALUES (?,?,?,?,?,?) "
                         "RETURNING id",
                         p, 6, &r, err);
        if (rc == 0 && id_out)
            *id_out = store_int(r, 0, 0);
        gu_arena_free(a);
        return rc;
    }
    p[5] = STORE_I(e->id);
    rc = store_exec_changes(c,
                            "UPDATE fc_events SET series_id = ?, day = ?, "
                            "kind = ?, label = ? WHERE insee = ? AND id = ?",
                            p, 6, &changes, err);
    if (rc == 0 && changes == 0)
        return gu_err_set(err, GU_ENOTFOUND, "id",
                          "Cet événement n'existe pas.", "no event");
    if (rc == 0 && id_out)
        *id_out = e->id;
    return rc;
}

int
fc_event_get(struct store_conn *c, struct gu_arena *a, const char *insee,
             int64_t id, struct fc_event *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    gu_err_clear(err);
    rc = store_query(c, a,
                     "SELECT id, insee, series_id, day, kind, label, "
                     "created_at FROM fc_events WHERE id = ? AND insee = ?",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "id",
                          "Cet événement n'existe pas.", "no event");
    event_row(r, 0, out);
    return 0;
}

int
fc_event_delete(struct store_conn *c, const char *insee, int64_t id,
                struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    int64_t changes = 0;
    int rc;

    gu_err_clear(err);
    rc = store_exec_changes(c, "DELETE FROM fc_events WHERE id = ? AND "
                               "insee = ?",
                            p, 2, &changes, err);
    if (rc == 0 && changes == 0)
        return gu_err_set(err, GU_ENOTFOUND, "id",
                          "Cet événement n'existe pas.", "no event");
    return rc;
}

int
fc_event_list(struct store_conn *c, struct gu_arena *a, const char *insee,
              int64_t series_id, int64_t day0, int64_t day1,
              struct fc_event **out, size_t *n, struct gu_err *err)
{
    struct store_val p[5] = {STORE_T(insee), STORE_I(day0), STORE_I(day1),
                             STORE_I(series_id), STORE_I(series_id)};
    struct store_rows *r = NULL;
    int rc;

    gu_err_clear(err);
    *out = NULL;
    *n = 0;
    rc = store_query(c, a,
                     "SELECT id, insee, series_id, day, kind, label, "
                     "created_at FROM fc_events WHERE insee = ? AND day >= ? "
                     "AND day <= ? AND (? = 0 OR series_id = 0 OR "
                     "series_id = ?) ORDER BY day, id LIMIT 100000",
                     p, 5, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    *out = gu_arena_alloc(a, r->nrows * sizeof(**out));
    if (!*out)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        event_row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Headcounts and menus                                                */
/* ------------------------------------------------------------------ */

int
fc_headcount_set(struct store_conn *c, const char *insee, int64_t series_id,
                 int school_year, int pupils, struct gu_err *err)
{
    struct store_val p[4] = {STORE_T(insee), STORE_I(series_id),
                             STORE_I(school_year), STORE_I(pupils)};
    enum fc_freq f;
    int rc;

    gu_err_clear(err);
    if ((rc = series_freq(c, insee, series_id, &f, err)) < 0)
        return rc;
    if (school_year < 1990 || school_year > 2100)
        return gu_err_set(err, GU_EINVAL, "school_year",
                          "L'année scolaire doit être entre 1990 et 2100 "
                          "(2016 pour 2016-2017).",
                          "bad school year");
    if (pupils < 0 || pupils > 100000)
        return gu_err_set(err, GU_EINVAL, "pupils",
                          "L'effectif doit être entre 0 et 100 000.",
                          "bad pupils");
    return store_exec(c,
                      "INSERT INTO fc_headcounts (insee, series_id, "
                      "school_year, pupils) VALUES (?,?,?,?) ON CONFLICT "
                      "(series_id, school_year) DO UPDATE SET "
                      "pupils = excluded.pupils",
                      p, 4, err);
}

int
fc_headcount_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                  int64_t series_id, struct fc_headcount **out, size_t *n,
                  struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_I(series_id)};
    struct store_rows *r = NULL;
    int rc;

    gu_err_clear(err);
    *out = NULL;
    *n = 0;
    rc = store_query(c, a,
                     "SELECT series_id, school_year, pupils FROM "
                     "fc_headcounts WHERE insee = ? AND series_id = ? "
                     "ORDER BY school_year",
                     p, 2, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    *out = gu_arena_alloc(a, r->nrows * sizeof(**out));
    if (!*out)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++) {
        (*out)[i].series_id = store_int(r, i, 0);
        (*out)[i].school_year = (int)store_int(r, i, 1);
        (*out)[i].pupils = (int)store_int(r, i, 2);
    }
    *n = r->nrows;
    return 0;
}

int
fc_menu_set(struct store_conn *c, const char *insee, int64_t series_id,
            int64_t day, const char *dishes, struct gu_err *err)
{
    struct store_val p[4] = {STORE_T(insee), STORE_I(series_id), STORE_I(day),
                             STORE_T(dishes ? dishes : "")};
    enum fc_freq f;
    int rc;

    gu_err_clear(err);
    if ((rc = check_insee(insee, err)) < 0 ||
        (rc = check_day(day, "day", err)) < 0 ||
        (rc = check_text(dishes, "dishes", "Le menu", false, FC_DISHES_MAX,
                         true, err)) < 0)
        return rc;
    if (series_id < 0)
        return series_missing(err, series_id);
    if (series_id > 0 && (rc = series_freq(c, insee, series_id, &f, err)) < 0)
        return rc;
    if (gu_str_trim(gu_str_c(dishes)).n == 0)
        return store_exec(c,
                          "DELETE FROM fc_menus WHERE insee = ? AND "
                          "series_id = ? AND day = ?",
                          p, 3, err);
    return store_exec(c,
                      "INSERT INTO fc_menus (insee, series_id, day, dishes) "
                      "VALUES (?,?,?,?) ON CONFLICT (insee, series_id, day) "
                      "DO UPDATE SET dishes = excluded.dishes",
                      p, 4, err);
}

int
fc_menu_list(struct store_conn *c, struct gu_arena *a, const char *insee,
             int64_t series_id, int64_t day0, int64_t day1,
             struct fc_menu **out, size_t *n, struct gu_err *err)
{
    struct store_val p[4] = {STORE_T(insee), STORE_I(series_id),
                             STORE_I(day0), STORE_I(day1)};
    struct store_rows *r = NULL;
    int rc;

    gu_err_clear(err);
    *out = NULL;
    *n = 0;
    rc = store_query(c, a,
                     "SELECT series_id, day, dishes FROM fc_menus WHERE "
                     "insee = ? AND (series_id = 0 OR series_id = ?) AND "
                     "day >= ? AND day <= ? ORDER BY day, series_id "
                     "LIMIT 100000",
                     p, 4, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    *out = gu_arena_alloc(a, r->nrows * sizeof(**out));
    if (!*out)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++) {
        (*out)[i].series_id = store_int(r, i, 0);
        (*out)[i].day = store_int(r, i, 1);
        (*out)[i].dishes = store_text(r, i, 2);
    }
    *n = r->nrows;
    return 0;
}
