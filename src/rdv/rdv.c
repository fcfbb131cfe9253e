/*
 * rdv.c - the appointment model (see rdv.h): places, counters, motifs,
 * opening ranges, absences; their validation (French messages naming the
 * field), lists and lookups; the enum names; the demo commune's setup.
 *
 * Every function takes the commune it acts in and every query filters on
 * it, so one commune never reads or writes another's rows: an id of
 * another commune is GU_ENOTFOUND (or, as a reference inside a row, a
 * validation error), exactly like an unknown id.
 */
#include "rdv/rdv_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds specific to the model (the public ones are in rdv.h). */
#define ZIP_MAX 10
#define PHONE_MAX 30
#define CODE_MAX 64
#define EMAIL_MAX 254
#define MIN_DELAY_H_MAX (24 * 366)
#define CHANGE_UNTIL_H_MAX (24 * 30)
#define OVERBOOK_MAX 5
#define RANGE_MOTIFS_MAX 100 /* motif ids listed by one range */
#define RANGES_PER_COUNTER 200
#define ABSENCE_DAYS_MAX 3660 /* a closure for works may last years */
#define PER_COMMUNE_MAX 500   /* places, counters or motifs of a commune */

/* ------------------------------------------------------------------ */
/* Shared checks                                                       */
/* ------------------------------------------------------------------ */

static size_t
utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    }
    return n;
}

static bool
has_control(const char *s, bool multiline)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (multiline && (ch == '\n' || ch == '\r' || ch == '\t'))
            continue;
        if (ch < 0x20 || ch == 0x7F)
            return true;
    }
    return false;
}

int
rdv_check_text(const char *s, const char *field, const char *label,
               bool required, size_t max, bool multiline, struct gu_err *err)
{
    char msg[200];

    if (!s)
        s = "";
    if (!gu_utf8_valid(s, strlen(s)) || has_control(s, multiline)) {
        snprintf(msg, sizeof(msg), "%s contient des caractères non autorisés.",
                 label);
        return gu_err_set(err, GU_EINVAL, field, msg, "bad chars in %s", field);
    }
    if (required && gu_str_trim(gu_str_c(s)).n == 0) {
        snprintf(msg, sizeof(msg), "%s est obligatoire.", label);
        return gu_err_set(err, GU_EINVAL, field, msg, "empty %s", field);
    }
    if (utf8_chars(s) > max) {
        snprintf(msg, sizeof(msg), "%s ne doit pas dépasser %zu caractères.",
                 label, max);
        return gu_err_set(err, GU_EINVAL, field, msg, "%s too long", field);
    }
    return 0;
}

int
rdv_check_email(const char *s, struct gu_err *err)
{
    const char *at;
    size_t n;

    if (!s || !*s)
        return 0;
    n = strlen(s);
    at = strchr(s, '@');
    if (n > EMAIL_MAX || !at || at == s || strchr(at + 1, '@') ||
        !strchr(at + 1, '.') || at[1] == '.' || s[n - 1] == '.')
        goto bad;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;

        if (ch <= 0x20 || ch >= 0x7F || strchr("<>()[]\\,;:\"", ch))
            goto bad;
    }
    return 0;
bad:
    return gu_err_set(err, GU_EINVAL, "email",
                      "Adresse électronique invalide (exemple : "
                      "prenom.nom@exemple.fr).",
                      "bad email");
}

int
rdv_check_phone(const char *s, struct gu_err *err)
{
    size_t digits = 0;

    if (!s || !*s)
        return 0;
    if (strlen(s) > PHONE_MAX)
        goto bad;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p == '+' && p == s)
            continue;
        else if (*p != ' ' && *p != '.' && *p != '-')
            goto bad;
    }
    if (digits >= 6 && digits <= 20)
        return 0;
bad:
    return gu_err_set(err, GU_EINVAL, "phone",
                      "Numéro de téléphone invalide (exemple : "
                      "06 12 34 56 78).",
                      "bad phone");
}

bool
rdv_motif_listed(const char *list, int64_t id)
{
    const char *p = list;

    if (!p || !*p)
        return true;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);

        if (end == p)
            return false;
        if (v == id)
            return true;
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return false;
}

int
rdv_commune_ctx(struct store_conn *c, struct gu_arena *a, const char *insee,
                struct rdv_commune_ctx *out, struct gu_err *err)
{
    struct store_commune m;
    int rc;

    rc = store_commune_get(c, a, insee, &m, err);
    if (rc == GU_ENOTFOUND)
        return gu_err_set(err, GU_ENOTFOUND, "c", "Cette commune n'existe pas.",
                          "no commune %s", insee);
    if (rc < 0)
        return rc;
    out->tz = gu_tz_of_zone(m.zone);
    out->rules = gu_holiday_rules_for(m.insee, m.zone);
    out->name = m.name;
    return 0;
}

void
rdv_insee_copy(char dst[6], const char *insee)
{
    size_t n = insee ? strlen(insee) : 0;

    if (n > 5)
        n = 5;
    memcpy(dst, insee ? insee : "", n);
    dst[n] = '\0';
}

int
rdv_booking_minutes(const struct rdv_motif *m, int people)
{
    if (people < 1)
        people = 1;
    return m->per_person ? m->duration_min * people : m->duration_min;
}

static int
check_insee(const char *insee, struct gu_err *err)
{
    if (!insee || !store_insee_valid(insee))
        return gu_err_set(err, GU_EINVAL, "c", "Code de commune invalide.",
                          "bad insee");
    return 0;
}

static int
check_day(int64_t day, const char *field, const char *label, struct gu_err *err)
{
    char msg[160];

    if (day >= RDV_DAY_MIN && day <= RDV_DAY_MAX)
        return 0;
    snprintf(msg, sizeof(msg), "%s doit être une date entre 2000 et 2099.",
             label);
    return gu_err_set(err, GU_EINVAL, field, msg, "bad day %lld in %s",
                      (long long)day, field);
}

/* Does row `id` of `table` exist in the commune? (0 yes, ENOTFOUND no) */
static int
row_exists(struct store_conn *c, const char *sql, const char *insee, int64_t id,
           struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    struct gu_arena *a = gu_arena_new(256);
    struct store_rows *r = NULL;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_query(c, a, sql, p, 2, &r, err);
    if (rc == 0 && r->nrows == 0)
        rc = GU_ENOTFOUND;
    gu_arena_free(a);
    return rc;
}

static int
count_rows(struct store_conn *c, const char *sql, const struct store_val *p,
           size_t n, int64_t *out, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(256);
    struct store_rows *r = NULL;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_query(c, a, sql, p, n, &r, err);
    if (rc == 0)
        *out = store_int(r, 0, 0);
    gu_arena_free(a);
    return rc;
}

/* Run an INSERT ... RETURNING id or an UPDATE of one row of the commune. */
static int
save_row(struct store_conn *c, bool create, const char *sql,
         const struct store_val *p, size_t n, int64_t *id_out, const char *what,
         struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(256);
    struct store_rows *r = NULL;
    char msg[120];
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    rc = store_query(c, a, sql, p, n, &r, err);
    if (rc == 0 && create) {
        if (r->nrows == 1) {
            if (id_out)
                *id_out = store_int(r, 0, 0);
        } else {
            rc = gu_err_set(err, GU_EDB, NULL, NULL, "insert returned no id");
        }
    } else if (rc == 0 && r->changes == 0) {
        snprintf(msg, sizeof(msg), "%s introuvable.", what);
        rc = gu_err_set(err, GU_ENOTFOUND, "id", msg, "no such %s", what);
    }
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Enum names                                                          */
/* ------------------------------------------------------------------ */

static const char *const ants_names[] = {"", "CNI", "PASSPORT", "CNI-PASSPORT"};

const char *
rdv_ants_reason_name(enum rdv_ants_reason r)
{
    if ((unsigned)r < GU_ARRAY_LEN(ants_names))
        return ants_names[r];
    return "";
}

int
rdv_ants_reason_parse(const char *s, enum rdv_ants_reason *out)
{
    if (!s)
        return GU_EINVAL;
    for (size_t i = 0; i < GU_ARRAY_LEN(ants_names); i++) {
        if (strcmp(s, ants_names[i]) == 0) {
            *out = (enum rdv_ants_reason)i;
            return 0;
        }
    }
    return GU_EINVAL;
}

/* ASCII names (URLs, JSON); the parser also takes the accented words. */
static const char *const status_names[] = {"propose", "confirme", "annule",
                                           "present", "absent",   "excuse"};
static const char *const status_accented[] = {"proposé", "confirmé", "annulé",
                                              "présent", "absent",   "excusé"};

const char *
rdv_status_name(enum rdv_status s)
{
    if ((unsigned)s < GU_ARRAY_LEN(status_names))
        return status_names[s];
    return "";
}

int
rdv_status_parse(const char *s, enum rdv_status *out)
{
    if (!s)
        return GU_EINVAL;
    for (size_t i = 0; i < GU_ARRAY_LEN(status_names); i++) {
        if (strcmp(s, status_names[i]) == 0 ||
            strcmp(s, status_accented[i]) == 0) {
            *out = (enum rdv_status)i;
            return 0;
        }
    }
    return GU_EINVAL;
}

static const char *const channel_names[] = {"web", "guichet", "telephone",
                                            "assistant", "voix"};

const char *
rdv_channel_name(enum rdv_channel ch)
{
    if ((unsigned)ch < GU_ARRAY_LEN(channel_names))
        return channel_names[ch];
    return "";
}

/* ------------------------------------------------------------------ */
/* Places                                                              */
/* ------------------------------------------------------------------ */

#define PLACE_COLS                                                             \
    "id, insee, name, address, zip, city, lat, lon, phone, active"

static void
place_row(const struct store_rows *r, size_t i, struct rdv_place *p)
{
    memset(p, 0, sizeof(*p));
    p->id = store_int(r, i, 0);
    rdv_insee_copy(p->insee, store_text(r, i, 1));
    p->name = store_text(r, i, 2);
    p->address = store_text(r, i, 3);
    p->zip = store_text(r, i, 4);
    p->city = store_text(r, i, 5);
    p->lat = store_real(r, i, 6);
    p->lon = store_real(r, i, 7);
    p->phone = store_text(r, i, 8);
    p->active = store_int(r, i, 9) != 0;
}

int
rdv_place_save(struct store_conn *c, const struct rdv_place *p, int64_t *id_out,
               struct gu_err *err)
{
    int64_t now = gu_now(), count = 0;
    int rc;

    if ((rc = check_insee(p->insee, err)) < 0 ||
        (rc = rdv_check_text(p->name, "name", "Le nom du lieu", true,
                             RDV_NAME_MAX, false, err)) < 0 ||
        (rc = rdv_check_text(p->address, "address", "L'adresse", false,
                             RDV_NAME_MAX, false, err)) < 0 ||
        (rc = rdv_check_text(p->zip, "zip", "Le code postal", false, ZIP_MAX,
                             false, err)) < 0 ||
        (rc = rdv_check_text(p->city, "city", "La ville", false, RDV_NAME_MAX,
                             false, err)) < 0 ||
        (rc = rdv_check_phone(p->phone, err)) < 0)
        return rc;
    if (!isfinite(p->lat) || p->lat < -90 || p->lat > 90)
        return gu_err_set(err, GU_EINVAL, "lat",
                          "La latitude doit être comprise entre -90 et 90.",
                          "bad lat");
    if (!isfinite(p->lon) || p->lon < -180 || p->lon > 180)
        return gu_err_set(err, GU_EINVAL, "lon",
                          "La longitude doit être comprise entre -180 et "
                          "180.",
                          "bad lon");
    if (p->id == 0) {
        struct store_val q[1] = {STORE_T(p->insee)};

        rc = count_rows(c, "SELECT COUNT(*) FROM rdv_places WHERE insee = ?", q,
                        1, &count, err);
        if (rc < 0)
            return rc;
        if (count >= PER_COMMUNE_MAX)
            return gu_err_set(err, GU_ETOOBIG, "name",
                              "Nombre maximal de lieux atteint (500).",
                              "too many places");
        struct store_val v[11] = {STORE_T(p->insee),
                                  STORE_T(p->name),
                                  STORE_T(p->address ? p->address : ""),
                                  STORE_T(p->zip ? p->zip : ""),
                                  STORE_T(p->city ? p->city : ""),
                                  STORE_D(p->lat),
                                  STORE_D(p->lon),
                                  STORE_T(p->phone ? p->phone : ""),
                                  STORE_I(p->active ? 1 : 0),
                                  STORE_I(now)};
        return save_row(c, true,
                        "INSERT INTO rdv_places (insee, name, address, zip, "
                        "city, lat, lon, phone, active, created_at) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        v, 10, id_out, "Lieu", err);
    }
    struct store_val v[10] = {STORE_T(p->name),
                              STORE_T(p->address ? p->address : ""),
                              STORE_T(p->zip ? p->zip : ""),
                              STORE_T(p->city ? p->city : ""),
                              STORE_D(p->lat),
                              STORE_D(p->lon),
                              STORE_T(p->phone ? p->phone : ""),
                              STORE_I(p->active ? 1 : 0),
                              STORE_I(p->id),
                              STORE_T(p->insee)};
    rc = save_row(c, false,
                  "UPDATE rdv_places SET name = ?, address = ?, zip = ?, "
                  "city = ?, lat = ?, lon = ?, phone = ?, active = ? "
                  "WHERE id = ? AND insee = ?",
                  v, 10, NULL, "Lieu", err);
    if (rc == 0 && id_out)
        *id_out = p->id;
    return rc;
}

int
rdv_place_list(struct store_conn *c, struct gu_arena *a, const char *insee,
               bool active_only, struct rdv_place **out, size_t *n,
               struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_I(active_only ? 1 : 0)};
    struct store_rows *r = NULL;
    struct rdv_place *v;
    int rc;

    rc = store_query(c, a,
                     "SELECT " PLACE_COLS " FROM rdv_places WHERE insee = ? "
                     "AND (? = 0 OR active = 1) ORDER BY name, id",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        place_row(r, i, &v[i]);
    *out = v;
    *n = r->nrows;
    return 0;
}

int
rdv_place_get(struct store_conn *c, struct gu_arena *a, const char *insee,
              int64_t id, struct rdv_place *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT " PLACE_COLS
                     " FROM rdv_places WHERE id = ? AND insee = ?",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "place", "Lieu introuvable.",
                          "no place %lld", (long long)id);
    place_row(r, 0, out);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

static void
counter_row(const struct store_rows *r, size_t i, struct rdv_counter *k)
{
    memset(k, 0, sizeof(*k));
    k->id = store_int(r, i, 0);
    rdv_insee_copy(k->insee, store_text(r, i, 1));
    k->place_id = store_int(r, i, 2);
    k->name = store_text(r, i, 3);
    k->active = store_int(r, i, 4) != 0;
}

int
rdv_counter_save(struct store_conn *c, const struct rdv_counter *k,
                 int64_t *id_out, struct gu_err *err)
{
    int64_t count = 0;
    int rc;

    if ((rc = check_insee(k->insee, err)) < 0 ||
        (rc = rdv_check_text(k->name, "name", "Le nom du guichet", true,
                             RDV_NAME_MAX, false, err)) < 0)
        return rc;
    rc = row_exists(c, "SELECT 1 FROM rdv_places WHERE id = ? AND insee = ?",
                    k->insee, k->place_id, err);
    if (rc == GU_ENOTFOUND)
        return gu_err_set(
            err, GU_EINVAL, "place_id", "Ce lieu n'existe pas dans la commune.",
            "place %lld not in %s", (long long)k->place_id, k->insee);
    if (rc < 0)
        return rc;
    if (k->id == 0) {
        struct store_val q[1] = {STORE_T(k->insee)};

        rc = count_rows(c, "SELECT COUNT(*) FROM rdv_counters WHERE insee = ?",
                        q, 1, &count, err);
        if (rc < 0)
            return rc;
        if (count >= PER_COMMUNE_MAX)
            return gu_err_set(err, GU_ETOOBIG, "name",
                              "Nombre maximal de guichets atteint (500).",
                              "too many counters");
        struct store_val v[5] = {STORE_T(k->insee), STORE_I(k->place_id),
                                 STORE_T(k->name), STORE_I(k->active ? 1 : 0),
                                 STORE_I(gu_now())};
        return save_row(c, true,
                        "INSERT INTO rdv_counters (insee, place_id, name, "
                        "active, created_at) VALUES (?, ?, ?, ?, ?) "
                        "RETURNING id",
                        v, 5, id_out, "Guichet", err);
    }
    struct store_val v[5] = {STORE_I(k->place_id), STORE_T(k->name),
                             STORE_I(k->active ? 1 : 0), STORE_I(k->id),
                             STORE_T(k->insee)};
    rc = save_row(c, false,
                  "UPDATE rdv_counters SET place_id = ?, name = ?, "
                  "active = ? WHERE id = ? AND insee = ?",
                  v, 5, NULL, "Guichet", err);
    if (rc == 0 && id_out)
        *id_out = k->id;
    return rc;
}

int
rdv_counter_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t place_id, struct rdv_counter **out, size_t *n,
                 struct gu_err *err)
{
    struct store_val p[3] = {STORE_T(insee), STORE_I(place_id),
                             STORE_I(place_id)};
    struct store_rows *r = NULL;
    struct rdv_counter *v;
    int rc;

    rc = store_query(c, a,
                     "SELECT id, insee, place_id, name, active FROM "
                     "rdv_counters WHERE insee = ? AND (? = 0 OR place_id = ?)"
                     " ORDER BY name, id",
                     p, 3, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        counter_row(r, i, &v[i]);
    *out = v;
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Motifs                                                              */
/* ------------------------------------------------------------------ */

void
rdv_motif_row(const struct store_rows *r, size_t i, struct rdv_motif *m)
{
    enum rdv_ants_reason ants = RDV_ANTS_NONE;

    memset(m, 0, sizeof(*m));
    m->id = store_int(r, i, 0);
    rdv_insee_copy(m->insee, store_text(r, i, 1));
    m->code = store_text(r, i, 2);
    m->name = store_text(r, i, 3);
    m->duration_min = (int)store_int(r, i, 4);
    m->per_person = store_int(r, i, 5) != 0;
    m->max_people = (int)store_int(r, i, 6);
    m->min_delay_h = (int)store_int(r, i, 7);
    m->max_delay_d = (int)store_int(r, i, 8);
    m->instructions = store_text(r, i, 9);
    m->audience = store_int(r, i, 10) ? RDV_AGENTS_ONLY : RDV_PUBLIC;
    m->changeable = store_int(r, i, 11) != 0;
    m->change_until_h = (int)store_int(r, i, 12);
    (void)rdv_ants_reason_parse(store_text(r, i, 13), &ants);
    m->ants = ants;
    m->overbook_max = (int)store_int(r, i, 14);
    m->active = store_int(r, i, 15) != 0;
}

static bool
code_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > CODE_MAX || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-'))
            return false;
    }
    return true;
}

static int
motif_check(const struct rdv_motif *m, struct gu_err *err)
{
    int rc;

    if ((rc = check_insee(m->insee, err)) < 0)
        return rc;
    if (!code_valid(m->code))
        return gu_err_set(err, GU_EINVAL, "code",
                          "Le code du motif doit faire 1 à 64 caractères "
                          "parmi minuscules sans accent, chiffres et tirets "
                          "(exemple : cni-passeport).",
                          "bad code");
    if ((rc = rdv_check_text(m->name, "name", "Le nom du motif", true,
                             RDV_NAME_MAX, false, err)) < 0 ||
        (rc = rdv_check_text(m->instructions, "instructions", "Les consignes",
                             false, RDV_TEXT_MAX, true, err)) < 0)
        return rc;
    if (m->duration_min < RDV_UNIT_MIN || m->duration_min > RDV_DURATION_MAX ||
        m->duration_min % RDV_UNIT_MIN != 0)
        return gu_err_set(err, GU_EINVAL, "duration_min",
                          "La durée doit être comprise entre 5 et 480 "
                          "minutes, par pas de 5 minutes.",
                          "bad duration %d", m->duration_min);
    if (m->max_people < 1 || m->max_people > RDV_PEOPLE_MAX)
        return gu_err_set(err, GU_EINVAL, "max_people",
                          "Le nombre de personnes par rendez-vous doit être "
                          "compris entre 1 et 10.",
                          "bad max_people %d", m->max_people);
    if (m->per_person && m->duration_min * m->max_people > RDV_DURATION_MAX * 2)
        return gu_err_set(err, GU_EINVAL, "max_people",
                          "La durée par personne multipliée par le nombre "
                          "maximal de personnes dépasse 16 heures.",
                          "per-person total too long");
    if (m->min_delay_h < 0 || m->min_delay_h > MIN_DELAY_H_MAX)
        return gu_err_set(err, GU_EINVAL, "min_delay_h",
                          "Le délai minimal de réservation doit être compris "
                          "entre 0 et 8784 heures.",
                          "bad min_delay_h");
    if (m->max_delay_d < 1 || m->max_delay_d > RDV_SEARCH_DAYS_MAX)
        return gu_err_set(err, GU_EINVAL, "max_delay_d",
                          "Le délai maximal de réservation doit être compris "
                          "entre 1 et 366 jours.",
                          "bad max_delay_d");
    if ((int64_t)m->min_delay_h >= (int64_t)m->max_delay_d * 24)
        return gu_err_set(err, GU_EINVAL, "min_delay_h",
                          "Le délai minimal doit être plus court que le délai "
                          "maximal : sinon aucun créneau ne peut être "
                          "réservé.",
                          "min_delay >= max_delay");
    if (m->audience != RDV_PUBLIC && m->audience != RDV_AGENTS_ONLY)
        return gu_err_set(err, GU_EINVAL, "audience",
                          "Public du motif invalide : tout public ou agents "
                          "seulement.",
                          "bad audience");
    if (m->change_until_h < 0 || m->change_until_h > CHANGE_UNTIL_H_MAX)
        return gu_err_set(err, GU_EINVAL, "change_until_h",
                          "Le délai de modification doit être compris entre "
                          "0 et 720 heures avant le rendez-vous.",
                          "bad change_until_h");
    if ((unsigned)m->ants > RDV_ANTS_CNI_PASSPORT)
        return gu_err_set(err, GU_EINVAL, "ants",
                          "Motif ANTS invalide : CNI, PASSPORT ou "
                          "CNI-PASSPORT.",
                          "bad ants reason");
    if (m->overbook_max < 0 || m->overbook_max > OVERBOOK_MAX)
        return gu_err_set(err, GU_EINVAL, "overbook_max",
                          "Le surnombre autorisé doit être compris entre 0 "
                          "et 5 réservations par créneau.",
                          "bad overbook_max");
    return 0;
}

int
rdv_motif_save(struct store_conn *c, const struct rdv_motif *m, int64_t *id_out,
               struct gu_err *err)
{
    int64_t count = 0;
    int rc;

    rc = motif_check(m, err);
    if (rc < 0)
        return rc;
    struct store_val v[17] = {
        STORE_T(m->code),
        STORE_T(m->name),
        STORE_I(m->duration_min),
        STORE_I(m->per_person ? 1 : 0),
        STORE_I(m->max_people),
        STORE_I(m->min_delay_h),
        STORE_I(m->max_delay_d),
        STORE_T(m->instructions ? m->instructions : ""),
        STORE_I(m->audience),
        STORE_I(m->changeable ? 1 : 0),
        STORE_I(m->change_until_h),
        STORE_T(rdv_ants_reason_name(m->ants)),
        STORE_I(m->overbook_max),
        STORE_I(m->active ? 1 : 0),
    };
    if (m->id == 0) {
        struct store_val q[1] = {STORE_T(m->insee)};

        rc = count_rows(c, "SELECT COUNT(*) FROM rdv_motifs WHERE insee = ?", q,
                        1, &count, err);
        if (rc < 0)
            return rc;
        if (count >= PER_COMMUNE_MAX)
            return gu_err_set(err, GU_ETOOBIG, "code",
                              "Nombre maximal de motifs atteint (500).",
                              "too many motifs");
        v[14] = STORE_T(m->insee);
        v[15] = STORE_I(gu_now());
        rc = save_row(c, true,
                      "INSERT INTO rdv_motifs (code, name, duration_min, "
                      "per_person, max_people, min_delay_h, max_delay_d, "
                      "instructions, audience, changeable, change_until_h, "
                      "ants_reason, overbook_max, active, insee, created_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                      " RETURNING id",
                      v, 16, id_out, "Motif", err);
    } else {
        v[14] = STORE_I(m->id);
        v[15] = STORE_T(m->insee);
        rc = save_row(c, false,
                      "UPDATE rdv_motifs SET code = ?, name = ?, "
                      "duration_min = ?, per_person = ?, max_people = ?, "
                      "min_delay_h = ?, max_delay_d = ?, instructions = ?, "
                      "audience = ?, changeable = ?, change_until_h = ?, "
                      "ants_reason = ?, overbook_max = ?, active = ? "
                      "WHERE id = ? AND insee = ?",
                      v, 16, NULL, "Motif", err);
        if (rc == 0 && id_out)
            *id_out = m->id;
    }
    if (rc == GU_ECONFLICT)
        return gu_err_set(err, GU_ECONFLICT, "code",
                          "Un autre motif de la commune porte déjà ce code.",
                          "duplicate motif code");
    return rc;
}

int
rdv_motif_list(struct store_conn *c, struct gu_arena *a, const char *insee,
               bool public_only, struct rdv_motif **out, size_t *n,
               struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_I(public_only ? 1 : 0)};
    struct store_rows *r = NULL;
    struct rdv_motif *v;
    int rc;

    rc = store_query(c, a,
                     "SELECT " RDV_MOTIF_COLS " FROM rdv_motifs WHERE "
                     "insee = ? AND (? = 0 OR (audience = 0 AND active = 1))"
                     " ORDER BY name, id",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        rdv_motif_row(r, i, &v[i]);
    *out = v;
    *n = r->nrows;
    return 0;
}

static int
motif_where(struct store_conn *c, struct gu_arena *a, const char *sql,
            struct store_val p0, const char *insee, struct rdv_motif *out,
            struct gu_err *err)
{
    struct store_val p[2] = {p0, STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a, sql, p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, "motif", "Motif introuvable.",
                          "no motif");
    rdv_motif_row(r, 0, out);
    return 0;
}

int
rdv_motif_get(struct store_conn *c, struct gu_arena *a, const char *insee,
              int64_t id, struct rdv_motif *out, struct gu_err *err)
{
    return motif_where(c, a,
                       "SELECT " RDV_MOTIF_COLS
                       " FROM rdv_motifs WHERE id = ? AND insee = ?",
                       STORE_I(id), insee, out, err);
}

int
rdv_motif_by_code(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const char *code, struct rdv_motif *out, struct gu_err *err)
{
    if (!code || !code_valid(code))
        return gu_err_set(err, GU_ENOTFOUND, "motif", "Motif introuvable.",
                          "bad motif code");
    return motif_where(c, a,
                       "SELECT " RDV_MOTIF_COLS
                       " FROM rdv_motifs WHERE code = ? AND insee = ?",
                       STORE_T(code), insee, out, err);
}

int
rdv_motif_places(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t motif_id, struct rdv_place **out, size_t *n,
                 struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_I(gu_now() / 86400 - 1)};
    struct store_rows *r = NULL;
    struct rdv_place *v;
    size_t k = 0;
    int rc;

    /* Few ranges per commune: filter the motif lists here, portably. */
    rc = store_query(c, a,
                     "SELECT p.id, p.insee, p.name, p.address, p.zip, "
                     "p.city, p.lat, p.lon, p.phone, p.active, g.motifs "
                     "FROM rdv_ranges g "
                     "JOIN rdv_counters k ON k.id = g.counter_id "
                     "JOIN rdv_places p ON p.id = k.place_id "
                     "WHERE g.insee = ? AND k.active = 1 AND p.active = 1 "
                     "AND (g.until_day = 0 OR g.until_day >= ?) "
                     "ORDER BY p.name, p.id",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++) {
        if (!rdv_motif_listed(store_text(r, i, 10), motif_id))
            continue;
        if (k > 0 && v[k - 1].id == store_int(r, i, 0))
            continue;
        place_row(r, i, &v[k++]);
    }
    *out = v;
    *n = k;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Ranges                                                              */
/* ------------------------------------------------------------------ */

#define RANGE_COLS                                                             \
    "id, insee, counter_id, weekday, start_min, end_min, every_weeks, "        \
    "from_day, until_day, motifs"

static void
range_row(const struct store_rows *r, size_t i, struct rdv_range *g)
{
    memset(g, 0, sizeof(*g));
    g->id = store_int(r, i, 0);
    rdv_insee_copy(g->insee, store_text(r, i, 1));
    g->counter_id = store_int(r, i, 2);
    g->weekday = (int)store_int(r, i, 3);
    g->start_min = (int)store_int(r, i, 4);
    g->end_min = (int)store_int(r, i, 5);
    g->every_weeks = (int)store_int(r, i, 6);
    g->from_day = store_int(r, i, 7);
    g->until_day = store_int(r, i, 8);
    g->motifs = store_text(r, i, 9);
}

/*
 * Parse a range's motif list ("3, 5,7" or "3 5 7"), check that each id is
 * a motif of the commune, and write the canonical "3,5,7" into buf.
 */
static int
range_motifs(struct store_conn *c, const char *insee, const char *list,
             char *buf, size_t cap, struct gu_err *err)
{
    const char *p = list ? list : "";
    size_t len = 0, count = 0;
    int rc;

    buf[0] = '\0';
    while (*p) {
        char *end;
        long long v;

        while (*p == ',' || *p == ' ')
            p++;
        if (!*p)
            break;
        if (*p < '0' || *p > '9')
            goto bad;
        v = strtoll(p, &end, 10);
        if (v <= 0 || (*end && *end != ',' && *end != ' '))
            goto bad;
        p = end;
        if (++count > RANGE_MOTIFS_MAX)
            return gu_err_set(err, GU_EINVAL, "motifs",
                              "Une plage peut lister au plus 100 motifs.",
                              "too many motifs");
        rc =
            row_exists(c, "SELECT 1 FROM rdv_motifs WHERE id = ? AND insee = ?",
                       insee, v, err);
        if (rc == GU_ENOTFOUND)
            return gu_err_set(err, GU_EINVAL, "motifs",
                              "Un des motifs de la plage n'existe pas dans la"
                              " commune.",
                              "motif %lld not in %s", v, insee);
        if (rc < 0)
            return rc;
        if (rdv_motif_listed(len ? buf : "0", v))
            continue; /* duplicate */
        int w = snprintf(buf + len, cap - len, "%s%lld", len ? "," : "", v);
        if (w < 0 || (size_t)w >= cap - len)
            goto bad;
        len += (size_t)w;
    }
    return 0;
bad:
    return gu_err_set(err, GU_EINVAL, "motifs",
                      "Liste de motifs invalide : des numéros de motifs "
                      "séparés par des virgules.",
                      "bad motif list");
}

int
rdv_range_save(struct store_conn *c, const struct rdv_range *g, int64_t *id_out,
               struct gu_err *err)
{
    char motifs[RANGE_MOTIFS_MAX * 21 + 1];
    int64_t count = 0;
    int rc;

    if ((rc = check_insee(g->insee, err)) < 0)
        return rc;
    rc = row_exists(c, "SELECT 1 FROM rdv_counters WHERE id = ? AND insee = ?",
                    g->insee, g->counter_id, err);
    if (rc == GU_ENOTFOUND)
        return gu_err_set(err, GU_EINVAL, "counter_id",
                          "Ce guichet n'existe pas dans la commune.",
                          "counter %lld not in %s", (long long)g->counter_id,
                          g->insee);
    if (rc < 0)
        return rc;
    if (g->weekday < 1 || g->weekday > 7)
        return gu_err_set(err, GU_EINVAL, "weekday",
                          "Jour de la semaine invalide (1 = lundi … 7 = "
                          "dimanche).",
                          "bad weekday");
    if (g->start_min < 0 || g->start_min >= 1440 ||
        g->start_min % RDV_UNIT_MIN != 0)
        return gu_err_set(err, GU_EINVAL, "start_min",
                          "L'heure de début doit être comprise entre 0 h et "
                          "23 h 55, par pas de 5 minutes.",
                          "bad start_min");
    if (g->end_min <= g->start_min || g->end_min > 1440 ||
        g->end_min % RDV_UNIT_MIN != 0)
        return gu_err_set(err, GU_EINVAL, "end_min",
                          "L'heure de fin doit être après l'heure de début, "
                          "au plus tard à minuit, par pas de 5 minutes.",
                          "bad end_min");
    if (g->every_weeks != 1 && g->every_weeks != 2)
        return gu_err_set(err, GU_EINVAL, "every_weeks",
                          "Récurrence invalide : chaque semaine (1) ou une "
                          "semaine sur deux (2).",
                          "bad every_weeks");
    if ((rc = check_day(g->from_day, "from_day", "Le premier jour", err)) < 0)
        return rc;
    if (g->until_day != 0) {
        if ((rc = check_day(g->until_day, "until_day", "Le dernier jour",
                            err)) < 0)
            return rc;
        if (g->until_day < g->from_day)
            return gu_err_set(err, GU_EINVAL, "until_day",
                              "Le dernier jour doit être le premier jour ou "
                              "après.",
                              "until before from");
    }
    rc = range_motifs(c, g->insee, g->motifs, motifs, sizeof(motifs), err);
    if (rc < 0)
        return rc;
    if (g->id == 0) {
        struct store_val q[2] = {STORE_T(g->insee), STORE_I(g->counter_id)};

        rc = count_rows(c,
                        "SELECT COUNT(*) FROM rdv_ranges WHERE insee = ? AND "
                        "counter_id = ?",
                        q, 2, &count, err);
        if (rc < 0)
            return rc;
        if (count >= RANGES_PER_COUNTER)
            return gu_err_set(err, GU_ETOOBIG, "counter_id",
                              "Ce guichet a déjà 200 plages d'ouverture.",
                              "too many ranges");
    }
    struct store_val v[10] = {
        STORE_I(g->counter_id), STORE_I(g->weekday),     STORE_I(g->start_min),
        STORE_I(g->end_min),    STORE_I(g->every_weeks), STORE_I(g->from_day),
        STORE_I(g->until_day),  STORE_T(motifs),         STORE_T(g->insee),
    };
    if (g->id == 0)
        return save_row(c, true,
                        "INSERT INTO rdv_ranges (counter_id, weekday, "
                        "start_min, end_min, every_weeks, from_day, "
                        "until_day, motifs, insee) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        v, 9, id_out, "Plage", err);
    v[8] = STORE_I(g->id);
    v[9] = STORE_T(g->insee);
    rc = save_row(c, false,
                  "UPDATE rdv_ranges SET counter_id = ?, weekday = ?, "
                  "start_min = ?, end_min = ?, every_weeks = ?, from_day = ?,"
                  " until_day = ?, motifs = ? WHERE id = ? AND insee = ?",
                  v, 10, NULL, "Plage", err);
    if (rc == 0 && id_out)
        *id_out = g->id;
    return rc;
}

static int
delete_row(struct store_conn *c, const char *sql, const char *insee, int64_t id,
           const char *what, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    int64_t changes = 0;
    char msg[120];
    int rc;

    rc = store_exec_changes(c, sql, p, 2, &changes, err);
    if (rc < 0)
        return rc;
    if (changes == 0) {
        snprintf(msg, sizeof(msg), "%s introuvable.", what);
        return gu_err_set(err, GU_ENOTFOUND, "id", msg, "no such %s", what);
    }
    return 0;
}

int
rdv_range_delete(struct store_conn *c, const char *insee, int64_t id,
                 struct gu_err *err)
{
    return delete_row(c, "DELETE FROM rdv_ranges WHERE id = ? AND insee = ?",
                      insee, id, "Plage", err);
}

int
rdv_range_list(struct store_conn *c, struct gu_arena *a, const char *insee,
               int64_t counter_id, struct rdv_range **out, size_t *n,
               struct gu_err *err)
{
    struct store_val p[3] = {STORE_T(insee), STORE_I(counter_id),
                             STORE_I(counter_id)};
    struct store_rows *r = NULL;
    struct rdv_range *v;
    int rc;

    rc = store_query(c, a,
                     "SELECT " RANGE_COLS " FROM rdv_ranges WHERE insee = ? "
                     "AND (? = 0 OR counter_id = ?) "
                     "ORDER BY counter_id, weekday, start_min, id",
                     p, 3, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        range_row(r, i, &v[i]);
    *out = v;
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Absences and closures                                               */
/* ------------------------------------------------------------------ */

#define ABSENCE_COLS                                                           \
    "id, insee, place_id, counter_id, start_day, start_min, end_day, "         \
    "end_min, reason"

static void
absence_row(const struct store_rows *r, size_t i, struct rdv_absence *x)
{
    memset(x, 0, sizeof(*x));
    x->id = store_int(r, i, 0);
    rdv_insee_copy(x->insee, store_text(r, i, 1));
    x->place_id = store_int(r, i, 2);
    x->counter_id = store_int(r, i, 3);
    x->start_day = store_int(r, i, 4);
    x->start_min = (int)store_int(r, i, 5);
    x->end_day = store_int(r, i, 6);
    x->end_min = (int)store_int(r, i, 7);
    x->reason = store_text(r, i, 8);
}

int
rdv_absence_save(struct store_conn *c, const struct rdv_absence *x,
                 int64_t *id_out, struct gu_err *err)
{
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    int rc;

    if ((rc = check_insee(x->insee, err)) < 0)
        return rc;
    rc = row_exists(c, "SELECT 1 FROM rdv_places WHERE id = ? AND insee = ?",
                    x->insee, x->place_id, err);
    if (rc == GU_ENOTFOUND)
        return gu_err_set(err, GU_EINVAL, "place_id",
                          "Ce lieu n'existe pas dans la commune.",
                          "place not in commune");
    if (rc < 0)
        return rc;
    if (x->counter_id != 0) {
        struct store_val p[3] = {STORE_I(x->counter_id), STORE_T(x->insee),
                                 STORE_I(x->place_id)};

        a = gu_arena_new(256);
        if (!a)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        rc = store_query(c, a,
                         "SELECT 1 FROM rdv_counters WHERE id = ? AND "
                         "insee = ? AND place_id = ?",
                         p, 3, &r, err);
        if (rc == 0 && r->nrows == 0)
            rc = gu_err_set(err, GU_EINVAL, "counter_id",
                            "Ce guichet n'existe pas dans ce lieu.",
                            "counter not at place");
        gu_arena_free(a);
        if (rc < 0)
            return rc;
    }
    if ((rc = check_day(x->start_day, "start_day", "Le début", err)) < 0 ||
        (rc = check_day(x->end_day, "end_day", "La fin", err)) < 0)
        return rc;
    if (x->start_min < 0 || x->start_min > 1440 ||
        x->start_min % RDV_UNIT_MIN != 0)
        return gu_err_set(err, GU_EINVAL, "start_min",
                          "L'heure de début doit être comprise entre 0 h et "
                          "24 h, par pas de 5 minutes.",
                          "bad start_min");
    if (x->end_min < 0 || x->end_min > 1440 || x->end_min % RDV_UNIT_MIN != 0)
        return gu_err_set(err, GU_EINVAL, "end_min",
                          "L'heure de fin doit être comprise entre 0 h et "
                          "24 h, par pas de 5 minutes.",
                          "bad end_min");
    if (x->end_day * 1440 + x->end_min <= x->start_day * 1440 + x->start_min)
        return gu_err_set(err, GU_EINVAL, "end_day",
                          "La fin de l'absence doit être après son début.",
                          "absence ends before it starts");
    if (x->end_day - x->start_day > ABSENCE_DAYS_MAX)
        return gu_err_set(err, GU_EINVAL, "end_day",
                          "Une absence ou une fermeture dure au plus dix "
                          "ans.",
                          "absence too long");
    if ((rc = rdv_check_text(x->reason, "reason", "Le motif de l'absence",
                             false, RDV_NAME_MAX, false, err)) < 0)
        return rc;
    struct store_val v[9] = {
        STORE_I(x->place_id),
        STORE_I(x->counter_id),
        STORE_I(x->start_day),
        STORE_I(x->start_min),
        STORE_I(x->end_day),
        STORE_I(x->end_min),
        STORE_T(x->reason ? x->reason : ""),
        STORE_T(x->insee),
    };
    if (x->id == 0)
        return save_row(c, true,
                        "INSERT INTO rdv_absences (place_id, counter_id, "
                        "start_day, start_min, end_day, end_min, reason, "
                        "insee) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        v, 8, id_out, "Absence", err);
    v[7] = STORE_I(x->id);
    v[8] = STORE_T(x->insee);
    rc = save_row(c, false,
                  "UPDATE rdv_absences SET place_id = ?, counter_id = ?, "
                  "start_day = ?, start_min = ?, end_day = ?, end_min = ?, "
                  "reason = ? WHERE id = ? AND insee = ?",
                  v, 9, NULL, "Absence", err);
    if (rc == 0 && id_out)
        *id_out = x->id;
    return rc;
}

int
rdv_absence_delete(struct store_conn *c, const char *insee, int64_t id,
                   struct gu_err *err)
{
    return delete_row(c, "DELETE FROM rdv_absences WHERE id = ? AND insee = ?",
                      insee, id, "Absence", err);
}

int
rdv_absence_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t from_day, int64_t to_day, struct rdv_absence **out,
                 size_t *n, struct gu_err *err)
{
    bool all = from_day == 0 && to_day == 0;
    struct store_val p[4] = {STORE_T(insee), STORE_I(all ? 1 : 0),
                             STORE_I(from_day), STORE_I(to_day)};
    struct store_rows *r = NULL;
    struct rdv_absence *v;
    int rc;

    rc = store_query(c, a,
                     "SELECT " ABSENCE_COLS " FROM rdv_absences WHERE "
                     "insee = ? AND (? = 1 OR (end_day >= ? AND "
                     "start_day <= ?)) ORDER BY start_day, start_min, id",
                     p, 4, &r, err);
    if (rc < 0)
        return rc;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        absence_row(r, i, &v[i]);
    *out = v;
    *n = r->nrows;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Demo commune                                                        */
/* ------------------------------------------------------------------ */

struct demo_motif {
    const char *code, *name;
    int duration, max_people, min_delay_h, max_delay_d;
    bool per_person, agents_only;
    enum rdv_ants_reason ants;
    const char *instructions;
};

static const struct demo_motif demo_motifs[] = {
    {"cni", "Carte nationale d'identité (demande ou renouvellement)", 20, 5, 2,
     90, true, false, RDV_ANTS_CNI,
     "Apportez votre numéro de pré-demande (ANTS), une photo d'identité de "
     "moins de six mois, un justificatif de domicile et votre ancienne "
     "carte. Chaque personne concernée, même mineure, doit être présente."},
    {"passeport", "Passeport (demande ou renouvellement)", 20, 5, 2, 90, true,
     false, RDV_ANTS_PASSPORT,
     "Apportez votre numéro de pré-demande (ANTS), une photo d'identité de "
     "moins de six mois, un justificatif de domicile, votre ancien passeport "
     "et le timbre fiscal. Chaque personne concernée doit être présente."},
    {"cni-passeport",
     "Carte d'identité et passeport (demande des deux en même temps)", 30, 5, 2,
     90, true, false, RDV_ANTS_CNI_PASSPORT,
     "Apportez votre numéro de pré-demande (ANTS), une photo d'identité, un "
     "justificatif de domicile, vos anciens titres et le timbre fiscal du "
     "passeport."},
    {"retrait-titre", "Retrait d'une carte d'identité ou d'un passeport", 10, 5,
     2, 90, true, false, RDV_ANTS_NONE,
     "Apportez le SMS ou le courrier annonçant que votre titre est prêt et "
     "votre ancien titre. Le retrait se fait en personne (dès 12 ans)."},
    {"etat-civil", "État civil (actes, livret de famille, reconnaissance)", 15,
     2, 2, 60, false, false, RDV_ANTS_NONE,
     "Apportez une pièce d'identité et, si vous en avez un, votre livret de "
     "famille."},
    {"mariage", "Dépôt d'un dossier de mariage", 45, 2, 24, 180, false, false,
     RDV_ANTS_NONE,
     "Venez à deux, avec le dossier complet (pièces d'identité, justificatifs"
     " de domicile, actes de naissance de moins de trois mois, liste des "
     "témoins)."},
    {"urbanisme", "Urbanisme (permis de construire, déclaration préalable)", 30,
     3, 24, 60, false, false, RDV_ANTS_NONE,
     "Apportez vos plans et, si vous l'avez, le numéro de votre dossier."},
    {"inscription-scolaire", "Inscription scolaire", 20, 2, 2, 90, false, false,
     RDV_ANTS_NONE,
     "Apportez le livret de famille, un justificatif de domicile et le "
     "carnet de santé de l'enfant."},
    {"recensement-citoyen", "Recensement citoyen (jeunes de 16 ans)", 10, 5, 2,
     60, true, false, RDV_ANTS_NONE,
     "Le jeune vient avec sa carte d'identité et le livret de famille."},
    {"salle-municipale", "Réservation d'une salle municipale", 20, 2, 24, 180,
     false, false, RDV_ANTS_NONE,
     "Indiquez la date souhaitée et le nombre de personnes attendues ; une "
     "attestation d'assurance sera demandée."},
    {"rencontre-elu", "Rencontre avec un élu", 30, 3, 24, 90, false, true,
     RDV_ANTS_NONE, "Rendez-vous pris par le secrétariat du maire."},
    {"pacs", "Enregistrement d'un PACS", 45, 2, 72, 120, false, false,
     RDV_ANTS_NONE,
     "Venez tous les deux, en personne, avec les originaux : convention de "
     "PACS, déclaration conjointe, actes de naissance de moins de trois "
     "mois et pièces d'identité."},
    {"ccas", "Rendez-vous avec le CCAS (aides sociales, accompagnement)", 30,
     3, 2, 60, false, false, RDV_ANTS_NONE,
     "Apportez une pièce d'identité, les justificatifs de ressources et de "
     "charges des trois derniers mois, et les factures ou courriers "
     "concernés."},
};

/* Motif codes of each counter's ranges ("" = every motif). */
static const char *const station_codes[] = {"cni", "passeport", "cni-passeport",
                                            "retrait-titre"};
static const char *const accueil_codes[] = {
    "retrait-titre",    "etat-civil",           "mariage",
    "urbanisme",        "inscription-scolaire", "recensement-citoyen",
    "salle-municipale", "rencontre-elu",        "pacs"};
static const char *const ccas_codes[] = {"ccas"};
static const char *const annexe_codes[] = {"etat-civil", "inscription-scolaire",
                                           "recensement-citoyen",
                                           "salle-municipale"};

static int
demo_list(const int64_t *ids, const char *const *codes, size_t n, char *buf,
          size_t cap)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < GU_ARRAY_LEN(demo_motifs); j++) {
            if (strcmp(codes[i], demo_motifs[j].code) != 0)
                continue;
            int w = snprintf(buf + len, cap - len, "%s%lld", len ? "," : "",
                             (long long)ids[j]);
            if (w < 0 || (size_t)w >= cap - len)
                return GU_EINTERNAL;
            len += (size_t)w;
        }
    }
    return 0;
}

/* Weekday ranges of a counter: Mon–Fri morning (and afternoon). */
static int
demo_week(struct store_conn *c, const char *insee, int64_t counter,
          int64_t from, const char *motifs, bool afternoons, struct gu_err *err)
{
    int rc = 0;

    for (int wd = 1; wd <= 5 && rc == 0; wd++) {
        struct rdv_range g = {.counter_id = counter,
                              .weekday = wd,
                              .start_min = 8 * 60 + 30,
                              .end_min = 12 * 60,
                              .every_weeks = 1,
                              .from_day = from,
                              .motifs = motifs};

        rdv_insee_copy(g.insee, insee);
        rc = rdv_range_save(c, &g, NULL, err);
        if (rc == 0 && afternoons) {
            g.start_min = 13 * 60 + 30;
            g.end_min = 17 * 60;
            rc = rdv_range_save(c, &g, NULL, err);
        }
    }
    return rc;
}

static int
demo_seed_tx(struct store_conn *c, const char *insee, struct gu_err *err)
{
    int64_t ids[GU_ARRAY_LEN(demo_motifs)], mairie = 0, annexe = 0, ccas = 0;
    int64_t station = 0, accueil = 0, guichet_annexe = 0, bureau_ccas = 0;
    int64_t today, monday;
    char list[512];
    int rc;

    struct rdv_place pm = {.name = "Mairie",
                           .address = "1 place de la Mairie",
                           .zip = "99001",
                           .city = "Saint-Exemple-sur-Loire",
                           .lat = 47.3941,
                           .lon = 0.6848,
                           .phone = "01 99 00 12 34",
                           .active = true};
    struct rdv_place pa = {.name = "Mairie annexe",
                           .address = "12 rue des Tilleuls, quartier des "
                                      "Rives",
                           .zip = "99001",
                           .city = "Saint-Exemple-sur-Loire",
                           .lat = 47.3989,
                           .lon = 0.6712,
                           .phone = "01 99 00 12 40",
                           .active = true};
    struct rdv_place pc = {.name = "Maison des solidarités (CCAS)",
                           .address = "12 rue des Tisserands",
                           .zip = "99001",
                           .city = "Saint-Exemple-sur-Loire",
                           .lat = 47.3925,
                           .lon = 0.6881,
                           .phone = "01 99 00 12 90",
                           .active = true};
    rdv_insee_copy(pm.insee, insee);
    rdv_insee_copy(pa.insee, insee);
    rdv_insee_copy(pc.insee, insee);
    if ((rc = rdv_place_save(c, &pm, &mairie, err)) < 0 ||
        (rc = rdv_place_save(c, &pa, &annexe, err)) < 0 ||
        (rc = rdv_place_save(c, &pc, &ccas, err)) < 0)
        return rc;

    struct rdv_counter k = {
        .place_id = mairie, .name = "Station CNI/passeport", .active = true};
    rdv_insee_copy(k.insee, insee);
    if ((rc = rdv_counter_save(c, &k, &station, err)) < 0)
        return rc;
    k.name = "Guichet accueil";
    if ((rc = rdv_counter_save(c, &k, &accueil, err)) < 0)
        return rc;
    k.place_id = annexe;
    k.name = "Guichet de l'annexe";
    if ((rc = rdv_counter_save(c, &k, &guichet_annexe, err)) < 0)
        return rc;
    k.place_id = ccas;
    k.name = "Bureau du CCAS";
    if ((rc = rdv_counter_save(c, &k, &bureau_ccas, err)) < 0)
        return rc;

    for (size_t i = 0; i < GU_ARRAY_LEN(demo_motifs); i++) {
        const struct demo_motif *d = &demo_motifs[i];
        struct rdv_motif m = {.code = d->code,
                              .name = d->name,
                              .duration_min = d->duration,
                              .per_person = d->per_person,
                              .max_people = d->max_people,
                              .min_delay_h = d->min_delay_h,
                              .max_delay_d = d->max_delay_d,
                              .instructions = d->instructions,
                              .audience =
                                  d->agents_only ? RDV_AGENTS_ONLY : RDV_PUBLIC,
                              .changeable = true,
                              .change_until_h = 24,
                              .ants = d->ants,
                              .active = true};
        rdv_insee_copy(m.insee, insee);
        if ((rc = rdv_motif_save(c, &m, &ids[i], err)) < 0)
            return rc;
    }

    /* Ranges start on this week's Monday: the parity anchor of the
       every-other-week Saturday. */
    today = gu_now() / 86400;
    monday = today - (gu_day_weekday(today) - 1);
    if (demo_list(ids, station_codes, GU_ARRAY_LEN(station_codes), list,
                  sizeof(list)) < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "demo list");
    if ((rc = demo_week(c, insee, station, monday, list, true, err)) < 0)
        return rc;
    struct rdv_range sat = {.counter_id = station,
                            .weekday = 6,
                            .start_min = 9 * 60,
                            .end_min = 12 * 60,
                            .every_weeks = 2,
                            .from_day = monday,
                            .motifs = list};
    rdv_insee_copy(sat.insee, insee);
    if ((rc = rdv_range_save(c, &sat, NULL, err)) < 0)
        return rc;
    if (demo_list(ids, accueil_codes, GU_ARRAY_LEN(accueil_codes), list,
                  sizeof(list)) < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "demo list");
    if ((rc = demo_week(c, insee, accueil, monday, list, true, err)) < 0)
        return rc;
    if (demo_list(ids, annexe_codes, GU_ARRAY_LEN(annexe_codes), list,
                  sizeof(list)) < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "demo list");
    if ((rc = demo_week(c, insee, guichet_annexe, monday, list, false, err)) <
        0)
        return rc;
    /* The CCAS receives on appointment in the afternoon (its fiche). */
    if (demo_list(ids, ccas_codes, GU_ARRAY_LEN(ccas_codes), list,
                  sizeof(list)) < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "demo list");
    for (int wd = 1; wd <= 5; wd++) {
        struct rdv_range g = {.counter_id = bureau_ccas,
                              .weekday = wd,
                              .start_min = 14 * 60,
                              .end_min = 17 * 60,
                              .every_weeks = 1,
                              .from_day = monday,
                              .motifs = list};
        rdv_insee_copy(g.insee, insee);
        if ((rc = rdv_range_save(c, &g, NULL, err)) < 0)
            return rc;
    }

    /* The annexe closes for two days in three weeks (works), and the
       station's agent is in training one morning the week after. */
    struct rdv_absence x = {.place_id = annexe,
                            .start_day = monday + 21 + 2,
                            .start_min = 0,
                            .end_day = monday + 21 + 4,
                            .end_min = 0,
                            .reason = "Fermeture exceptionnelle (travaux)"};
    rdv_insee_copy(x.insee, insee);
    if ((rc = rdv_absence_save(c, &x, NULL, err)) < 0)
        return rc;
    x.place_id = mairie;
    x.counter_id = station;
    x.start_day = monday + 7 + 3;
    x.start_min = 8 * 60;
    x.end_day = monday + 7 + 3;
    x.end_min = 12 * 60;
    x.reason = "Formation";
    return rdv_absence_save(c, &x, NULL, err);
}

int
rdv_demo_seed(struct store_conn *c, const char *insee, struct gu_err *err)
{
    struct store_val p[1] = {STORE_T(insee)};
    bool own_tx = !store_in_tx(c);
    int64_t places = 0;
    int rc;

    if ((rc = check_insee(insee, err)) < 0)
        return rc;
    if (own_tx && (rc = store_begin(c, err)) < 0)
        return rc;
    rc = count_rows(c, "SELECT COUNT(*) FROM rdv_places WHERE insee = ?", p, 1,
                    &places, err);
    /* Idempotent: a commune that has any place keeps its own setup. */
    if (rc == 0 && places == 0)
        rc = demo_seed_tx(c, insee, err);
    if (own_tx) {
        if (rc == 0)
            rc = store_commit(c, err);
        else
            store_rollback(c);
    }
    return rc;
}
