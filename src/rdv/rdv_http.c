/*
 * rdv_http.c - the JSON API of appointments, /api/v1/rdv/... (contract in
 * docs/rdv-api.md, kept in sync with /api/v1/openapi.json through the
 * schemas of the route table at the end of this file).
 *
 * Two faces:
 *  - public (residents, the assistant, the widget): the commune is ?c= or
 *    the body's "c", else the "commune.default" setting (resolved by
 *    portal_commune_load, shared with the portal); slots are one per
 *    place and time, without counter ids; a booking link's token is the
 *    only key to a booking, and every unknown, expired or malformed token
 *    gets the same 404;
 *  - agents (session or API token, active commune): the model (places,
 *    counters, motifs, ranges, absences; writes are an admin's), the
 *    agenda, slots with counters, bookings on someone's behalf, status,
 *    note, move, cancel (an agent's).
 *
 * Handlers only turn JSON into rdv.h calls and results into JSON; the
 * rules are in rdv.c, rdv_slots.c, rdv_book.c and rdv_wait.c. Errors map
 * as web/ does (GU_EINVAL with a field: 422 with `champ`), plus: a
 * conflict on booking or moving is a 409 whose `creneaux` member lists
 * the next free slots; the ANTS check not answering (GU_EBUSY) is a 503.
 *
 * Times: slots are local civil time of the commune; they go out as RFC
 * 3339 with the commune's offset (gu_tz_iso) plus "day", "time" and a
 * French "label" for display, and come in as "2026-12-03T09:30" (an
 * offset, if given, is converted to the commune's time).
 *
 * Public writes are rate-limited per client IP (and the waiting list per
 * commune) with store_rate_hit; the limits are settings (rdv.rate_*).
 */
#include "portal/portal.h"
#include "rdv/rdv_internal.h"
#include "rdv/rdv_risk.h"
#include "web/http.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define BODY_MAX 16384            /* bytes of a request body */
#define PUBLIC_SLOTS_DEFAULT 100  /* slots returned to residents */
#define PUBLIC_SLOTS_MAX 1000
#define AGENT_SLOTS_DEFAULT 500
#define CONFLICT_SLOTS 5          /* slots proposed in a 409 */
#define QUERY_PLACES_MAX 20       /* place ids in one slot search */
#define AGENDA_DAYS_MAX 93        /* widest agenda (a quarter) */
#define EMAIL_MAX 254
#define PHONE_MAX 32
#define ANTS_ID_MAX 32            /* one number as typed, spaces included */

/* The one answer to any link that does not lead to a booking. */
static const char LINK_GONE[] =
    "Ce lien n’est pas valide ou a expiré. Si vous avez un rendez-vous, "
    "utilisez le lien du dernier courriel reçu ou contactez la mairie.";

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* The commune a request acts in, with its civil time. */
struct where {
    struct store_commune m;
    enum gu_tz tz;
};

static int
read_body(struct http_req *req, json_t **out)
{
    size_t n = 0;

    http_body(req, &n);
    if (n > BODY_MAX)
        return gu_err_set(&req->err, GU_ETOOBIG, NULL,
                          "La requête dépasse 16 Kio.", "body too large");
    return http_body_json(req, out);
}

/*
 * The public commune: ?c=, else the body's "c" (body may be NULL), else
 * the "commune.default" setting, else the first commune.
 */
static int
public_where(struct http_req *req, json_t *body, struct where *w)
{
    const char *insee = http_query(req, "c");
    const char *def = req->cfg ? gu_config_str(req->cfg, "commune.default")
                               : "";
    int rc;

    if ((!insee || !*insee) && body) {
        rc = gu_json_str(body, "c", false, 5, &insee, &req->err);
        if (rc < 0)
            return rc;
    }
    if (insee && !*insee)
        insee = NULL;
    rc = portal_commune_load(req->conn, req->arena, insee, def, &w->m,
                             &req->err);
    if (rc < 0)
        return rc;
    w->tz = gu_tz_of_zone(w->m.zone ? w->m.zone : "");
    return 0;
}

/* The caller's active commune (agents). */
static int
agent_where(struct http_req *req, struct where *w)
{
    int rc = http_need_commune(req);

    if (rc < 0)
        return rc;
    rc = store_commune_get(req->conn, req->arena, req->who.insee, &w->m,
                           &req->err);
    if (rc < 0)
        return rc;
    w->tz = gu_tz_of_zone(w->m.zone ? w->m.zone : "");
    return 0;
}

static int64_t
today(enum gu_tz tz)
{
    int64_t day;
    int min;

    gu_tz_from_utc(tz, gu_now(), &day, &min);
    return day;
}

/* RFC 3339 with the commune's offset; minute may be 1440 (midnight). */
static json_t *
iso_json(enum gu_tz tz, int64_t day, int minute)
{
    char buf[40];

    day += minute / 1440;
    gu_tz_iso(tz, day, minute % 1440, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *
day_json(int64_t day)
{
    char buf[16];

    if (day <= 0)
        return json_null();
    gu_day_iso(day, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *
hhmm_json(int minute)
{
    char buf[8];

    snprintf(buf, sizeof(buf), "%02d:%02d", minute / 60 % 100, minute % 60);
    return json_string(buf);
}

static json_t *
label_json(int64_t day, int minute)
{
    char buf[80];

    gu_when_fr(day, minute, buf, sizeof(buf));
    return json_string(buf);
}

/* A JSON string literal of `s` (quotes included) appended to b. */
static void
buf_jstr(struct gu_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    gu_buf_append(b, "\"", 1);
    for (const char *p = s ? s : ""; *p;) {
        size_t k = strcspn(p, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09"
                              "\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14"
                              "\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f");
        gu_buf_append(b, p, k);
        p += k;
        if (!*p)
            break;
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', *p};
            gu_buf_append(b, e, 2);
        } else {
            char e[6] = {'\\', 'u', '0', '0', hex[(*p >> 4) & 15],
                         hex[*p & 15]};
            gu_buf_append(b, e, 6);
        }
        p++;
    }
    gu_buf_append(b, "\"", 1);
}

/* "09:30" -> 570; GU_EINVAL (field) otherwise. 24:00 allowed for ends. */
static int
parse_hhmm(struct http_req *req, const char *field, const char *s, int *out)
{
    long h, m;
    char hb[3], mb[3];

    if (!s || strlen(s) != 5 || s[2] != ':')
        goto bad;
    memcpy(hb, s, 2);
    hb[2] = 0;
    memcpy(mb, s + 3, 2);
    mb[2] = 0;
    if (gu_parse_long(hb, 0, 24, &h) < 0 || gu_parse_long(mb, 0, 59, &m) < 0 ||
        (h == 24 && m != 0))
        goto bad;
    *out = (int)(h * 60 + m);
    return 0;
bad:
    return gu_err_set(&req->err, GU_EINVAL, field,
                      "Heure invalide : utilisez le format HH:MM (par exemple "
                      "09:30).",
                      "bad time in %s", field);
}

/* An optional positive id from the query string (0 when absent). */
static int
query_id(struct http_req *req, const char *name, int64_t *out)
{
    const char *s = http_query(req, name);
    long v;
    char user[160];

    *out = 0;
    if (!s || !*s)
        return 0;
    if (gu_parse_long(s, 1, LONG_MAX, &v) < 0) {
        snprintf(user, sizeof(user),
                 "Le paramètre « %s » doit être un identifiant (un nombre "
                 "entier positif).",
                 name);
        return gu_err_set(&req->err, GU_EINVAL, name, user, "bad id %s", name);
    }
    *out = (int64_t)v;
    return 0;
}

/* An optional integer from the query string, default `def`. */
static int
query_int(struct http_req *req, const char *name, long min, long max, long def,
          long *out)
{
    const char *s = http_query(req, name);
    char user[160];

    *out = def;
    if (!s || !*s)
        return 0;
    if (gu_parse_long(s, min, max, out) < 0) {
        snprintf(user, sizeof(user),
                 "Le paramètre « %s » doit être un nombre entier entre %ld et "
                 "%ld.",
                 name, min, max);
        return gu_err_set(&req->err, GU_EINVAL, name, user, "bad int %s",
                          name);
    }
    return 0;
}

/* An optional date from the query string ("2026-12-03" or "03/12/2026"). */
static int
query_day(struct http_req *req, const char *name, int64_t def, int64_t *out)
{
    const char *s = http_query(req, name);
    char user[200];

    *out = def;
    if (!s || !*s)
        return 0;
    if (strlen(s) > 16 || gu_date_parse(s, out) < 0) {
        snprintf(user, sizeof(user),
                 "Date invalide pour « %s » : utilisez le format AAAA-MM-JJ "
                 "(par exemple 2026-12-03).",
                 name);
        return gu_err_set(&req->err, GU_EINVAL, name, user, "bad date %s",
                          name);
    }
    return 0;
}

static bool
all_digits(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

/*
 * An id in a JSON body: an integer or a string of digits. `required`
 * false: a missing or null member leaves *out at 0.
 */
static int
json_id(struct http_req *req, json_t *body, const char *key, bool required,
        int64_t *out)
{
    json_t *v = json_object_get(body, key);
    char user[160];
    long x;

    *out = 0;
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
        snprintf(user, sizeof(user), "Le champ « %s » est obligatoire.", key);
        return gu_err_set(&req->err, GU_EINVAL, key, user, "missing %s", key);
    }
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && json_string_length(v) <= 20 &&
        gu_parse_long(json_string_value(v), 1, LONG_MAX, &x) == 0) {
        *out = (int64_t)x;
        return 0;
    }
    snprintf(user, sizeof(user),
             "Le champ « %s » doit être un identifiant (un nombre entier "
             "positif).",
             key);
    return gu_err_set(&req->err, GU_EINVAL, key, user, "bad id %s", key);
}

/* A local date-time member ("2026-12-03T09:30"), required. */
static int
json_when(struct http_req *req, json_t *body, const char *key, enum gu_tz tz,
          int64_t *day, int *minute)
{
    const char *s = NULL;
    int rc = gu_json_str(body, key, true, 40, &s, &req->err);

    if (rc < 0)
        return rc;
    if (gu_tz_parse(tz, s, day, minute) < 0)
        return gu_err_set(&req->err, GU_EINVAL, key,
                          "Date ou heure invalide : utilisez le format "
                          "AAAA-MM-JJTHH:MM (par exemple 2026-12-03T09:30).",
                          "bad date-time %s", key);
    return 0;
}

/* "ants_ids": an array of strings or one string; joined with commas. */
static int
json_ants_ids(struct http_req *req, json_t *body, const char **out)
{
    json_t *v = json_object_get(body, "ants_ids");
    struct gu_buf b;
    size_t i;
    json_t *e;

    *out = "";
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return gu_json_str(body, "ants_ids", false,
                           RDV_ANTS_IDS_MAX * (ANTS_ID_MAX + 1), out,
                           &req->err);
    if (!json_is_array(v))
        return gu_err_set(&req->err, GU_EINVAL, "ants_ids",
                          "Les numéros de pré-demande doivent être une liste "
                          "de textes.",
                          "ants_ids not an array");
    if (json_array_size(v) > RDV_ANTS_IDS_MAX)
        return gu_err_set(&req->err, GU_EINVAL, "ants_ids",
                          "Trop de numéros de pré-demande (10 au plus).",
                          "too many ants ids");
    gu_buf_init(&b);
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e) || json_string_length(e) > ANTS_ID_MAX ||
            memchr(json_string_value(e), ',', json_string_length(e)) ||
            memchr(json_string_value(e), '\0', json_string_length(e))) {
            gu_buf_fini(&b);
            return gu_err_set(&req->err, GU_EINVAL, "ants_ids",
                              "Numéro de pré-demande invalide : il compte 10 "
                              "lettres ou chiffres (par exemple "
                              "AB12CD34EF).",
                              "bad ants id element");
        }
        if (i)
            gu_buf_puts(&b, ",");
        gu_buf_append(&b, json_string_value(e), json_string_length(e));
    }
    if (b.oom) {
        gu_buf_fini(&b);
        return GU_ENOMEM;
    }
    *out = gu_arena_strdup(req->arena, b.p ? b.p : "");
    gu_buf_fini(&b);
    return *out ? 0 : GU_ENOMEM;
}

/* A comma-separated list as a JSON array of strings. */
static json_t *
csv_json(const char *s)
{
    json_t *arr = json_array();

    for (const char *p = s ? s : ""; arr && *p;) {
        size_t k = strcspn(p, ",");
        struct gu_str t = gu_str_trim((struct gu_str){p, k});

        if (t.n)
            json_array_append_new(arr, json_stringn(t.p, t.n));
        p += k;
        if (*p == ',')
            p++;
    }
    return arr;
}

/*
 * One hit of a public rate limit `key` (limit per hour from the setting
 * `setting`, 0 = no limit). GU_ERATE with Retry-After beyond it.
 */
static int
rate(struct http_req *req, struct http_resp *resp, const char *setting,
     const char *key)
{
    long limit = req->cfg ? gu_config_int(req->cfg, setting) : 0;
    int retry = 0, rc;
    char v[16];

    if (limit <= 0)
        return 0;
    rc = store_rate_hit(req->conn, key, (int)limit, 3600, &retry, &req->err);
    if (rc == GU_ERATE) {
        snprintf(v, sizeof(v), "%d", retry > 0 ? retry : 60);
        http_add_header(resp, "Retry-After", v);
    }
    return rc;
}

static int
rate_ip(struct http_req *req, struct http_resp *resp, const char *setting,
        const char *what)
{
    char key[128];

    snprintf(key, sizeof(key), "rdv.%s:%s", what,
             req->client_ip ? req->client_ip : "");
    return rate(req, resp, setting, key);
}

/* Base of the links sent to residents ("" = relative links). */
static const char *
public_base(struct http_req *req)
{
    return gu_public_base(req->arena, req->cfg);
}

/* ------------------------------------------------------------------ */
/* JSON of the model                                                   */
/* ------------------------------------------------------------------ */

static json_t *
place_json(const struct rdv_place *p)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:f, s:f, s:s, s:b}", "id",
                     (json_int_t)p->id, "name", p->name ? p->name : "",
                     "address", p->address ? p->address : "", "zip",
                     p->zip ? p->zip : "", "city", p->city ? p->city : "",
                     "lat", p->lat, "lon", p->lon, "phone",
                     p->phone ? p->phone : "", "active", p->active);
}

static json_t *
counter_json(const struct rdv_counter *k)
{
    return json_pack("{s:I, s:I, s:s, s:b}", "id", (json_int_t)k->id,
                     "place_id", (json_int_t)k->place_id, "name",
                     k->name ? k->name : "", "active", k->active);
}

/* A motif; `full` adds what only agents see. */
static json_t *
motif_json(const struct rdv_motif *m, bool full)
{
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:i, s:b, s:i, s:i, s:i, s:s, s:b, s:i, s:s}", "id",
        (json_int_t)m->id, "code", m->code ? m->code : "", "name",
        m->name ? m->name : "", "duration_min", m->duration_min, "per_person",
        m->per_person, "max_people", m->max_people, "min_delay_h",
        m->min_delay_h, "max_delay_d", m->max_delay_d, "instructions",
        m->instructions ? m->instructions : "", "changeable", m->changeable,
        "change_until_h", m->change_until_h, "ants_reason",
        rdv_ants_reason_name(m->ants));

    if (o && full) {
        json_object_set_new(o, "audience",
                            json_string(m->audience == RDV_AGENTS_ONLY
                                            ? "agents"
                                            : "public"));
        json_object_set_new(o, "overbook_max", json_integer(m->overbook_max));
        json_object_set_new(o, "active", json_boolean(m->active));
    }
    return o;
}

static json_t *
range_json(const struct rdv_range *r)
{
    json_t *ids = json_array();

    for (const char *p = r->motifs ? r->motifs : ""; ids && *p;) {
        long v;
        size_t k = strcspn(p, ",");
        char num[24];

        if (k && k < sizeof(num)) {
            memcpy(num, p, k);
            num[k] = 0;
            if (gu_parse_long(num, 1, LONG_MAX, &v) == 0)
                json_array_append_new(ids, json_integer(v));
        }
        p += k;
        if (*p == ',')
            p++;
    }
    return json_pack("{s:I, s:I, s:i, s:o, s:o, s:i, s:o, s:o, s:o}", "id",
                     (json_int_t)r->id, "counter_id",
                     (json_int_t)r->counter_id, "weekday", r->weekday, "start",
                     hhmm_json(r->start_min), "end", hhmm_json(r->end_min),
                     "every_weeks", r->every_weeks, "from",
                     day_json(r->from_day), "until", day_json(r->until_day),
                     "motifs", ids);
}

static json_t *
absence_json(enum gu_tz tz, const struct rdv_absence *a)
{
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:s}", "id", (json_int_t)a->id,
                     "place_id", (json_int_t)a->place_id, "counter_id",
                     a->counter_id ? json_integer(a->counter_id) : json_null(),
                     "start", iso_json(tz, a->start_day, a->start_min), "end",
                     iso_json(tz, a->end_day, a->end_min), "reason",
                     a->reason ? a->reason : "");
}

/* Start, end and their display forms into `o`. */
static void
times_set(json_t *o, enum gu_tz tz, int64_t day, int start, int end)
{
    json_object_set_new(o, "start", iso_json(tz, day, start));
    json_object_set_new(o, "end", iso_json(tz, day, end));
    json_object_set_new(o, "day", day_json(day));
    json_object_set_new(o, "time", hhmm_json(start));
    json_object_set_new(o, "label", label_json(day, start));
}

/* A slot; residents never see counter ids. */
static json_t *
slot_json(enum gu_tz tz, const struct rdv_slot *s, const char *place_name,
          bool with_counter)
{
    json_t *o = json_pack("{s:I, s:s}", "place", (json_int_t)s->place_id,
                          "place_name", place_name ? place_name : "");

    if (!o)
        return NULL;
    times_set(o, tz, s->day, s->start_min, s->end_min);
    if (with_counter)
        json_object_set_new(o, "counter", json_integer(s->counter_id));
    return o;
}

/* The name of a place in a list (NULL when absent). */
static const char *
place_name(const struct rdv_place *v, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].id == id)
            return v[i].name;
    }
    return NULL;
}

static json_t *
slots_json(enum gu_tz tz, const struct rdv_slot *s, size_t n,
           const struct rdv_place *pl, size_t npl, bool with_counter)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = slot_json(tz, &s[i], place_name(pl, npl, s[i].place_id),
                              with_counter);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/*
 * A booking. `agent` adds the counter, contact data, channel, risk and
 * the rest of what only agents see; residents get their own booking's
 * contact data (they hold its link) but nothing internal.
 */
static json_t *
booking_json(enum gu_tz tz, const struct rdv_booking *b, bool agent)
{
    json_t *o = json_pack(
        "{s:s, s:i, s:{s:I, s:s}, s:{s:I, s:s}, s:s, s:s, s:s, s:o, s:b}",
        "status", rdv_status_name(b->status), "people", b->people, "motif",
        "id", (json_int_t)b->motif_id, "name",
        b->motif_name ? b->motif_name : "", "place", "id",
        (json_int_t)b->place_id, "name", b->place_name ? b->place_name : "",
        "name", b->name ? b->name : "", "email", b->email ? b->email : "",
        "phone", b->phone ? b->phone : "", "ants_ids", csv_json(b->ants_ids),
        "confirmed", b->confirmed_at > 0);

    if (!o)
        return NULL;
    times_set(o, tz, b->day, b->start_min, b->end_min);
    if (agent) {
        json_object_set_new(o, "id", json_integer(b->id));
        json_object_set_new(
            o, "counter",
            json_pack("{s:I, s:s}", "id", (json_int_t)b->counter_id, "name",
                      b->counter_name ? b->counter_name : ""));
        json_object_set_new(o, "channel",
                            json_string(rdv_channel_name(b->channel)));
        json_object_set_new(o, "created_by",
                            json_string(b->created_by ? b->created_by : ""));
        json_object_set_new(o, "created_at", gu_json_time(b->created_at));
        json_object_set_new(o, "confirmed_at", gu_json_time(b->confirmed_at));
        json_object_set_new(o, "reminders", json_integer(b->reminders));
        json_object_set_new(o, "risk", b->risk < 0 ? json_null()
                                                   : json_real(b->risk));
        json_object_set_new(o, "moved_from", b->moved_from
                                                 ? json_integer(b->moved_from)
                                                 : json_null());
        json_object_set_new(o, "lane", json_integer(b->lane));
        json_object_set_new(o, "note", json_string(b->note ? b->note : ""));
    }
    return o;
}

/* ------------------------------------------------------------------ */
/* Motifs and slots                                                    */
/* ------------------------------------------------------------------ */

/*
 * The motif named by `s` (an id or a code) in the commune. Residents
 * only see active public motifs: anything else is « Motif inconnu ».
 */
static int
find_motif(struct http_req *req, const char *insee, const char *s,
           bool public_only, struct rdv_motif *m)
{
    int rc;

    if (!s || !*s)
        return gu_err_set(&req->err, GU_EINVAL, "motif",
                          "Choisissez un motif de rendez-vous.",
                          "motif missing");
    if (strlen(s) > 64)
        rc = GU_ENOTFOUND;
    else if (all_digits(s)) {
        long id;
        rc = gu_parse_long(s, 1, LONG_MAX, &id);
        if (rc == 0)
            rc = rdv_motif_get(req->conn, req->arena, insee, (int64_t)id, m,
                               &req->err);
        else
            rc = GU_ENOTFOUND;
    } else
        rc = rdv_motif_by_code(req->conn, req->arena, insee, s, m, &req->err);
    if (rc == 0 && public_only && (!m->active || m->audience != RDV_PUBLIC))
        rc = GU_ENOTFOUND;
    if (rc == GU_ENOTFOUND || rc == GU_EINVAL)
        return gu_err_set(&req->err, GU_EINVAL, "motif",
                          "Motif de rendez-vous inconnu.", "unknown motif");
    return rc;
}

/* The motif of a body: "motif" as an id (number or digits) or a code. */
static int
body_motif(struct http_req *req, json_t *body, const char *insee,
           bool public_only, struct rdv_motif *m)
{
    json_t *v = json_object_get(body, "motif");
    char num[32];

    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        return find_motif(req, insee, num, public_only, m);
    }
    if (v && !json_is_null(v) && !json_is_string(v))
        return gu_err_set(&req->err, GU_EINVAL, "motif",
                          "Motif de rendez-vous inconnu.", "bad motif type");
    return find_motif(req, insee, v ? json_string_value(v) : NULL,
                      public_only, m);
}

/* "place=1,2,3" (or one id) into an arena array. */
static int
query_places(struct http_req *req, int64_t **ids, size_t *n)
{
    const char *s = http_query(req, "place");
    int64_t *v;
    size_t k = 0;

    *ids = NULL;
    *n = 0;
    if (!s || !*s)
        return 0;
    v = gu_arena_alloc(req->arena, QUERY_PLACES_MAX * sizeof(*v));
    if (!v)
        return GU_ENOMEM;
    for (const char *p = s; *p;) {
        size_t len = strcspn(p, ",");
        char num[24];
        long x;

        if (k == QUERY_PLACES_MAX)
            return gu_err_set(&req->err, GU_EINVAL, "place",
                              "Trop de lieux demandés (20 au plus).",
                              "too many places");
        if (len == 0 || len >= sizeof(num))
            goto bad;
        memcpy(num, p, len);
        num[len] = 0;
        if (gu_parse_long(num, 1, LONG_MAX, &x) < 0)
            goto bad;
        v[k++] = (int64_t)x;
        p += len;
        if (*p == ',')
            p++;
    }
    *ids = v;
    *n = k;
    return 0;
bad:
    return gu_err_set(&req->err, GU_EINVAL, "place",
                      "Le paramètre « place » est une liste d’identifiants "
                      "de lieux séparés par des virgules.",
                      "bad place list");
}

/* from/to/people/limit of a slot search, with the motif's window. */
static int
slot_query(struct http_req *req, const struct where *w,
           const struct rdv_motif *m, long limit_def, long limit_max,
           struct rdv_slot_query *q)
{
    int64_t t = today(w->tz), from, to, def_to;
    long people, limit;
    int rc;

    if ((rc = query_day(req, "from", t, &from)) < 0)
        return rc;
    /* by default, to the end of the motif's window (a year at most) */
    def_to = (from > t ? from : t) + m->max_delay_d;
    if (def_to - from >= RDV_SEARCH_DAYS_MAX)
        def_to = from + RDV_SEARCH_DAYS_MAX - 1;
    if ((rc = query_day(req, "to", def_to, &to)) < 0 ||
        (rc = query_int(req, "people", 1, RDV_PEOPLE_MAX, 1, &people)) < 0 ||
        (rc = query_int(req, "limit", 1, limit_max, limit_def, &limit)) < 0)
        return rc;
    if (to < from)
        return gu_err_set(&req->err, GU_EINVAL, "to",
                          "La date de fin précède la date de début.",
                          "to < from");
    if (to - from >= RDV_SEARCH_DAYS_MAX)
        return gu_err_set(&req->err, GU_EINVAL, "to",
                          "Période trop longue : un an au plus.",
                          "search span too long");
    memset(q, 0, sizeof(*q));
    q->insee = w->m.insee;
    q->motif_id = m->id;
    q->from_day = from;
    q->to_day = to;
    q->people = (int)people;
    q->limit = (int)limit;
    return 0;
}

/* GET /api/v1/rdv/motifs: public motifs with their places (?c=), or,
   for an agent of the active commune without ?c=, every motif. */
static int
get_motifs(struct http_req *req, struct http_resp *resp)
{
    struct where w;
    struct rdv_motif *v = NULL;
    size_t n = 0;
    bool agent = req->who.authenticated && req->who.insee[0] &&
                 req->who.role >= STORE_ROLE_LECTEUR &&
                 !req->who.must_change_password && !http_query(req, "c");
    json_t *arr;
    int rc;

    rc = agent ? agent_where(req, &w) : public_where(req, NULL, &w);
    if (rc < 0)
        return rc;
    rc = rdv_motif_list(req->conn, req->arena, w.m.insee, !agent, &v, &n,
                        &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        struct rdv_place *pl = NULL;
        size_t npl = 0;
        json_t *o, *pa;

        if (!agent && (!v[i].active || v[i].audience != RDV_PUBLIC))
            continue;
        rc = rdv_motif_places(req->conn, req->arena, w.m.insee, v[i].id, &pl,
                              &npl, &req->err);
        if (rc < 0) {
            json_decref(arr);
            return rc;
        }
        o = motif_json(&v[i], agent);
        pa = json_array();
        for (size_t k = 0; pa && k < npl; k++)
            json_array_append_new(pa, place_json(&pl[k]));
        if (!o || !pa) {
            json_decref(o);
            json_decref(pa);
            json_decref(arr);
            return GU_ENOMEM;
        }
        json_object_set_new(o, "places", pa);
        json_array_append_new(arr, o);
    }
    if (!arr)
        return GU_ENOMEM;
    return http_json(resp, 200,
                     json_pack("{s:s, s:s, s:o}", "commune", w.m.insee,
                               "commune_name", w.m.name ? w.m.name : "",
                               "motifs", arr));
}

/*
 * The reply of a slot search, written as JSON text directly: up to 5,000
 * slots, where building a jansson object per slot cost more than the
 * search itself (bench/rdv). Same shape as slot_json().
 */
static int
slots_reply(struct http_resp *resp, const struct where *w,
            const struct rdv_motif *m, const struct rdv_slot_query *q,
            const struct rdv_slot *s, size_t n, const struct rdv_place *pl,
            size_t npl, bool agent)
{
    struct gu_buf b;
    char from[16], to[16], a[40], e[40], day[16], label[80];
    int rc;

    gu_day_iso(q->from_day, from, sizeof(from));
    gu_day_iso(q->to_day, to, sizeof(to));
    gu_buf_init(&b);
    gu_buf_puts(&b, "{\"commune\":");
    buf_jstr(&b, w->m.insee);
    gu_buf_printf(&b, ",\"motif\":{\"id\":%lld,\"code\":", (long long)m->id);
    buf_jstr(&b, m->code);
    gu_buf_puts(&b, ",\"name\":");
    buf_jstr(&b, m->name);
    gu_buf_printf(&b, "},\"from\":\"%s\",\"to\":\"%s\",\"people\":%d,"
                      "\"slots\":[",
                  from, to, q->people);
    for (size_t i = 0; i < n; i++) {
        const struct rdv_slot *x = &s[i];
        int64_t eday = x->day + x->end_min / 1440;

        gu_tz_iso(w->tz, x->day, x->start_min, a, sizeof(a));
        gu_tz_iso(w->tz, eday, x->end_min % 1440, e, sizeof(e));
        gu_day_iso(x->day, day, sizeof(day));
        gu_when_fr(x->day, x->start_min, label, sizeof(label));
        gu_buf_printf(&b, "%s{\"place\":%lld,\"place_name\":", i ? "," : "",
                      (long long)x->place_id);
        buf_jstr(&b, place_name(pl, npl, x->place_id));
        gu_buf_printf(&b,
                      ",\"start\":\"%s\",\"end\":\"%s\",\"day\":\"%s\","
                      "\"time\":\"%02d:%02d\",\"label\":",
                      a, e, day, x->start_min / 60 % 100, x->start_min % 60);
        buf_jstr(&b, label);
        if (agent)
            gu_buf_printf(&b, ",\"counter\":%lld", (long long)x->counter_id);
        gu_buf_puts(&b, "}");
    }
    gu_buf_puts(&b, "]}");
    rc = b.oom ? GU_ENOMEM
               : http_send(resp, 200, "application/json", b.p, b.n);
    gu_buf_fini(&b);
    return rc;
}

/* The slot search shared by residents and agents. */
static int
search(struct http_req *req, struct http_resp *resp, bool agent)
{
    struct where w;
    struct rdv_motif m;
    struct rdv_slot_query q;
    struct rdv_slot *s = NULL;
    struct rdv_place *pl = NULL;
    size_t n = 0, npl = 0;
    int64_t *places = NULL, counter = 0;
    size_t nplaces = 0;
    int rc;

    rc = agent ? agent_where(req, &w) : public_where(req, NULL, &w);
    if (rc < 0)
        return rc;
    if ((rc = find_motif(req, w.m.insee, http_query(req, "motif"), !agent,
                         &m)) < 0 ||
        (rc = query_places(req, &places, &nplaces)) < 0 ||
        (rc = slot_query(req, &w, &m,
                         agent ? AGENT_SLOTS_DEFAULT : PUBLIC_SLOTS_DEFAULT,
                         agent ? RDV_SLOTS_MAX : PUBLIC_SLOTS_MAX, &q)) < 0)
        return rc;
    if (agent && (rc = query_id(req, "counter", &counter)) < 0)
        return rc;
    q.place_ids = places;
    q.nplaces = nplaces;
    q.one_per_time = !agent;
    q.agent = agent;
    if (counter)
        rc = rdv_slots_find(req->conn, req->arena, &q, false, counter, &s, &n,
                            &req->err);
    else
        rc = rdv_slots(req->conn, req->arena, &q, &s, &n, &req->err);
    if (rc == GU_ENOTFOUND)
        return gu_err_set(&req->err, GU_EINVAL, "motif",
                          "Motif de rendez-vous inconnu.", "unknown motif");
    if (rc < 0)
        return rc;
    rc = rdv_place_list(req->conn, req->arena, w.m.insee, false, &pl, &npl,
                        &req->err);
    if (rc < 0)
        return rc;
    return slots_reply(resp, &w, &m, &q, s, n, pl, npl, agent);
}

static int
get_slots(struct http_req *req, struct http_resp *resp)
{
    return search(req, resp, false);
}

static int
get_agent_slots(struct http_req *req, struct http_resp *resp)
{
    return search(req, resp, true);
}

/*
 * The 409 of a slot taken under our feet: the problem from req->err plus
 * `creneaux`, the next free slots after the one asked for (same place
 * first, then any place).
 */
static int
conflict(struct http_req *req, struct http_resp *resp, const struct where *w,
         int64_t motif_id, int64_t place_id, int64_t day, int start,
         int people, bool agent)
{
    struct rdv_slot_query q;
    struct rdv_slot *s = NULL, *keep;
    struct rdv_place *pl = NULL;
    size_t n = 0, nk = 0, npl = 0;
    struct gu_err e;
    json_t *arr;

    gu_err_clear(&e);
    for (int pass = 0; pass < 2 && nk == 0; pass++) {
        memset(&q, 0, sizeof(q));
        q.insee = w->m.insee;
        q.motif_id = motif_id;
        q.place_ids = pass == 0 ? &place_id : NULL;
        q.nplaces = pass == 0 ? 1 : 0;
        q.from_day = day;
        q.to_day = day + RDV_SEARCH_DAYS_MAX - 1;
        q.people = people > 0 ? people : 1;
        q.limit = 400; /* the same day's earlier slots are skipped below */
        q.one_per_time = !agent;
        q.agent = agent;
        if (rdv_slots(req->conn, req->arena, &q, &s, &n, &e) < 0)
            n = 0;
        keep = s;
        nk = 0;
        for (size_t i = 0; i < n && nk < CONFLICT_SLOTS; i++) {
            if (s[i].day > day || s[i].start_min > start)
                keep[nk++] = s[i];
        }
    }
    if (rdv_place_list(req->conn, req->arena, w->m.insee, false, &pl, &npl,
                       &e) < 0)
        npl = 0;
    arr = nk ? slots_json(w->tz, keep, nk, pl, npl, agent) : json_array();
    if (!arr)
        return GU_ENOMEM;
    if (!req->err.user[0])
        gu_err_set(&req->err, GU_ECONFLICT, NULL,
                   "Ce créneau vient d’être pris. Choisissez-en un autre.",
                   "slot taken");
    return http_problem_ext(req, resp, GU_ECONFLICT,
                            json_pack("{s:o}", "creneaux", arr));
}

/* ------------------------------------------------------------------ */
/* Bookings                                                            */
/* ------------------------------------------------------------------ */

/* The contact, people and pré-demande members of a booking body. */
static int
read_person(struct http_req *req, json_t *body, struct rdv_book_req *r)
{
    long people = 1;
    int rc;

    r->name = r->email = r->phone = "";
    if ((rc = gu_json_str(body, "name", false, RDV_NAME_MAX, &r->name,
                          &req->err)) < 0 ||
        (rc = gu_json_str(body, "email", false, EMAIL_MAX, &r->email,
                          &req->err)) < 0 ||
        (rc = gu_json_str(body, "phone", false, PHONE_MAX, &r->phone,
                          &req->err)) < 0 ||
        (rc = gu_json_int(body, "people", false, 1, RDV_PEOPLE_MAX, &people,
                          &req->err)) < 0 ||
        (rc = json_ants_ids(req, body, &r->ants_ids)) < 0 ||
        (rc = gu_json_bool(body, "consent", false, &r->consent, &req->err)) <
            0 ||
        (rc = gu_json_bool(body, "ants_override", false, &r->ants_override,
                           &req->err)) < 0)
        return rc;
    r->people = (int)people;
    return 0;
}

/* The 201 of a booking: token, links, the booking as stored. */
static int
booked_reply(struct http_req *req, struct http_resp *resp,
             const struct where *w, const struct rdv_motif *m,
             const struct rdv_booked *out, bool agent)
{
    struct rdv_booking b;
    struct rdv_place p;
    const char *base = public_base(req);
    json_t *o;
    int rc;

    rc = rdv_get(req->conn, req->arena, w->m.insee, out->id, &b, &req->err);
    if (rc < 0)
        return rc;
    rc = rdv_place_get(req->conn, req->arena, w->m.insee, b.place_id, &p,
                       &req->err);
    if (rc < 0)
        return rc;
    o = booking_json(w->tz, &b, agent);
    if (!o || !base)
        return GU_ENOMEM;
    json_object_set_new(o, "place", place_json(&p));
    json_object_set_new(o, "motif",
                        json_pack("{s:I, s:s, s:s}", "id", (json_int_t)m->id,
                                  "code", m->code ? m->code : "", "name",
                                  m->name ? m->name : ""));
    json_object_set_new(o, "instructions",
                        json_string(m->instructions ? m->instructions : ""));
    json_object_set_new(o, "token", json_string(out->token));
    json_object_set_new(
        o, "manage_url",
        json_string(gu_arena_sprintf(req->arena, "%s/rdv/r/%s", base,
                                     out->token)));
    json_object_set_new(
        o, "ics_url",
        json_string(gu_arena_sprintf(req->arena, "%s/rdv/r/%s/rdv.ics", base,
                                     out->token)));
    return http_json(resp, 201, o);
}

/* Book for a resident (public) or on someone's behalf (agent). */
static int
book(struct http_req *req, struct http_resp *resp, bool agent)
{
    struct where w;
    struct rdv_motif m;
    struct rdv_book_req r;
    struct rdv_booked out;
    const char *channel = NULL;
    json_t *body;
    int rc;

    if ((rc = read_body(req, &body)) < 0)
        return rc;
    rc = agent ? agent_where(req, &w) : public_where(req, body, &w);
    if (rc < 0)
        return rc;
    if (!agent && (rc = rate_ip(req, resp, "rdv.rate_book_ip", "book")) < 0)
        return rc;
    memset(&r, 0, sizeof(r));
    memset(&out, 0, sizeof(out));
    if ((rc = body_motif(req, body, w.m.insee, !agent, &m)) < 0 ||
        (rc = json_id(req, body, "place", true, &r.place_id)) < 0 ||
        (rc = json_when(req, body, "start", w.tz, &r.day, &r.start_min)) < 0 ||
        (rc = read_person(req, body, &r)) < 0)
        return rc;
    r.insee = w.m.insee;
    r.motif_id = m.id;
    r.public_url = public_base(req);
    r.actor = agent ? http_actor(req) : "public";
    r.agent = agent;
    r.channel = RDV_WEB;
    if (agent) {
        if ((rc = json_id(req, body, "counter", false, &r.counter_id)) < 0 ||
            (rc = gu_json_str(body, "channel", false, 16, &channel,
                              &req->err)) < 0 ||
            (rc = gu_json_str(body, "note", false, RDV_TEXT_MAX, &r.note,
                              &req->err)) < 0)
            return rc;
        if (!channel || !*channel || strcmp(channel, "guichet") == 0)
            r.channel = RDV_AGENT_DESK;
        else if (strcmp(channel, "telephone") == 0 ||
                 strcmp(channel, "téléphone") == 0)
            r.channel = RDV_PHONE;
        else
            return gu_err_set(&req->err, GU_EINVAL, "channel",
                              "Canal invalide : guichet ou telephone.",
                              "bad channel");
    }
    rc = rdv_book(req->conn, req->cfg, &r, &out, &req->err);
    if (rc == GU_ECONFLICT)
        return conflict(req, resp, &w, m.id, r.place_id, r.day, r.start_min,
                        r.people, agent);
    if (rc < 0)
        return rc;
    /* rdv_book audited it in its transaction ("rdv.book"). */
    return booked_reply(req, resp, &w, &m, &out, agent);
}

static int
post_booking(struct http_req *req, struct http_resp *resp)
{
    return book(req, resp, false);
}

static int
post_agent_booking(struct http_req *req, struct http_resp *resp)
{
    return book(req, resp, true);
}

/* ------------------------------------------------------------------ */
/* A resident's booking, by its link's token                           */
/* ------------------------------------------------------------------ */

static int
link_gone(struct http_req *req)
{
    gu_err_clear(&req->err);
    return gu_err_set(&req->err, GU_ENOTFOUND, NULL, LINK_GONE,
                      "rdv: unknown, expired or malformed token");
}

/* The booking of the {token} in the path, and its commune. */
static int
by_token(struct http_req *req, struct rdv_booking *b, struct where *w)
{
    const char *t = http_param(req, "token");
    int rc;

    if (!rdv_token_shape(t))
        return link_gone(req);
    rc = rdv_by_token(req->conn, req->arena, t, b, &req->err);
    if (rc == GU_ENOTFOUND || rc == GU_EINVAL)
        return link_gone(req);
    if (rc < 0)
        return rc;
    rc = store_commune_get(req->conn, req->arena, b->insee, &w->m, &req->err);
    if (rc < 0)
        return rc == GU_ENOTFOUND ? link_gone(req) : rc;
    w->tz = gu_tz_of_zone(w->m.zone ? w->m.zone : "");
    return 0;
}

/* A resident's view of their booking, with the motif's rules. */
static int
manage_reply(struct http_req *req, struct http_resp *resp,
             const struct where *w, const struct rdv_booking *b)
{
    struct rdv_motif m;
    struct rdv_place p;
    int64_t start_at, limit_at, lday;
    int lmin;
    bool can_change;
    json_t *o;
    int rc;

    rc = rdv_motif_get(req->conn, req->arena, w->m.insee, b->motif_id, &m,
                       &req->err);
    if (rc < 0)
        return rc;
    rc = rdv_place_get(req->conn, req->arena, w->m.insee, b->place_id, &p,
                       &req->err);
    if (rc < 0)
        return rc;
    start_at = gu_tz_to_utc(w->tz, b->day, b->start_min);
    limit_at = start_at - (int64_t)m.change_until_h * 3600;
    can_change = m.changeable && b->status == RDV_CONFIRMED &&
                 gu_now() < limit_at;
    o = booking_json(w->tz, b, false);
    if (!o)
        return GU_ENOMEM;
    json_object_set_new(o, "place", place_json(&p));
    json_object_set_new(o, "motif", motif_json(&m, false));
    json_object_set_new(o, "instructions",
                        json_string(m.instructions ? m.instructions : ""));
    json_object_set_new(o, "commune", json_string(w->m.insee));
    json_object_set_new(o, "commune_name",
                        json_string(w->m.name ? w->m.name : ""));
    json_object_set_new(o, "can_change", json_boolean(can_change));
    gu_tz_from_utc(w->tz, limit_at, &lday, &lmin);
    json_object_set_new(o, "change_until",
                        m.changeable ? iso_json(w->tz, lday, lmin)
                                     : json_null());
    return http_json(resp, 200, o);
}

static int
get_manage(struct http_req *req, struct http_resp *resp)
{
    struct rdv_booking b;
    struct where w;
    int rc = by_token(req, &b, &w);

    if (rc < 0)
        return rc;
    return manage_reply(req, resp, &w, &b);
}

/* Re-read the booking after a change and answer with it. */
static int
manage_after(struct http_req *req, struct http_resp *resp,
             const struct where *w, int64_t id)
{
    struct rdv_booking b;
    int rc = rdv_get(req->conn, req->arena, w->m.insee, id, &b, &req->err);

    if (rc < 0)
        return rc;
    return manage_reply(req, resp, w, &b);
}

static int
post_manage_move(struct http_req *req, struct http_resp *resp)
{
    struct rdv_booking b;
    struct where w;
    int64_t place, day;
    int start, rc;
    json_t *body;

    if ((rc = rate_ip(req, resp, "rdv.rate_manage_ip", "manage")) < 0 ||
        (rc = by_token(req, &b, &w)) < 0 || (rc = read_body(req, &body)) < 0 ||
        (rc = json_id(req, body, "place", false, &place)) < 0 ||
        (rc = json_when(req, body, "start", w.tz, &day, &start)) < 0)
        return rc;
    if (!place)
        place = b.place_id;
    rc = rdv_move(req->conn, req->cfg, w.m.insee, b.id, place, day, start,
                  false, "public", &req->err);
    if (rc == GU_ECONFLICT)
        return conflict(req, resp, &w, b.motif_id, place, day, start,
                        b.people, false);
    if (rc < 0)
        return rc;
    return manage_after(req, resp, &w, b.id);
}

static int
post_manage_cancel(struct http_req *req, struct http_resp *resp)
{
    struct rdv_booking b;
    struct where w;
    int rc;

    if ((rc = rate_ip(req, resp, "rdv.rate_manage_ip", "manage")) < 0 ||
        (rc = by_token(req, &b, &w)) < 0)
        return rc;
    rc = rdv_cancel(req->conn, req->cfg, w.m.insee, b.id, false, "public",
                    &req->err);
    if (rc < 0)
        return rc;
    return manage_after(req, resp, &w, b.id);
}

static int
post_manage_confirm(struct http_req *req, struct http_resp *resp)
{
    struct rdv_booking b;
    struct where w;
    int rc;

    if ((rc = rate_ip(req, resp, "rdv.rate_manage_ip", "manage")) < 0 ||
        (rc = by_token(req, &b, &w)) < 0)
        return rc;
    rc = rdv_confirm(req->conn, w.m.insee, b.id, &req->err);
    if (rc < 0)
        return rc;
    return manage_after(req, resp, &w, b.id);
}

/* ------------------------------------------------------------------ */
/* Waiting list                                                        */
/* ------------------------------------------------------------------ */

static int
post_waitlist(struct http_req *req, struct http_resp *resp)
{
    struct where w;
    struct rdv_motif m;
    struct rdv_wait_req r;
    struct rdv_book_req person;
    struct rdv_booked out;
    const char *base = public_base(req), *before = NULL;
    char key[64];
    json_t *body;
    int rc;

    if ((rc = read_body(req, &body)) < 0 ||
        (rc = public_where(req, body, &w)) < 0 ||
        (rc = rate_ip(req, resp, "rdv.rate_wait_ip", "wait")) < 0)
        return rc;
    snprintf(key, sizeof(key), "rdv.wait.commune:%s", w.m.insee);
    if ((rc = rate(req, resp, "rdv.rate_wait_commune", key)) < 0)
        return rc;
    memset(&r, 0, sizeof(r));
    memset(&person, 0, sizeof(person));
    memset(&out, 0, sizeof(out));
    if ((rc = body_motif(req, body, w.m.insee, true, &m)) < 0 ||
        (rc = json_id(req, body, "place", false, &r.place_id)) < 0 ||
        (rc = read_person(req, body, &person)) < 0 ||
        (rc = gu_json_str(body, "before", false, 16, &before, &req->err)) < 0)
        return rc;
    if (before && *before && gu_date_parse(before, &r.before_day) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "before",
                          "Date invalide : utilisez le format AAAA-MM-JJ "
                          "(par exemple 2026-12-03).",
                          "bad before");
    r.insee = w.m.insee;
    r.motif_id = m.id;
    r.people = person.people;
    r.name = person.name;
    r.email = person.email;
    r.phone = person.phone;
    r.ants_ids = person.ants_ids;
    r.consent = person.consent;
    rc = rdv_wait_join(req->conn, req->cfg, &r, &out, &req->err);
    if (rc < 0 && strcmp(req->err.field, "before_day") == 0)
        snprintf(req->err.field, sizeof(req->err.field), "before");
    if (rc < 0)
        return rc;
    if (!base)
        return GU_ENOMEM;
    return http_json(
        resp, 201,
        json_pack("{s:s, s:s, s:s}", "token", out.token, "manage_url",
                  gu_arena_sprintf(req->arena, "%s/rdv/attente/%s", base,
                                   out.token),
                  "status", "attente"));
}

static const char *
wait_token(struct http_req *req)
{
    const char *t = http_param(req, "token");

    return rdv_token_shape(t) ? t : NULL;
}

/* Where a waiting-list entry stands, with the offer being held for it. */
static int
get_waitlist(struct http_req *req, struct http_resp *resp)
{
    const char *t = wait_token(req);
    struct rdv_wait e;
    struct rdv_motif m;
    struct rdv_booking b;
    struct where w;
    json_t *o, *offer = NULL;
    int rc;

    if (!t)
        return link_gone(req);
    rc = rdv_wait_get(req->conn, req->arena, t, &e, &req->err);
    if (rc == GU_ENOTFOUND)
        return link_gone(req);
    if (rc < 0 ||
        (rc = store_commune_get(req->conn, req->arena, e.insee, &w.m,
                                &req->err)) < 0 ||
        (rc = rdv_motif_get(req->conn, req->arena, e.insee, e.motif_id, &m,
                            &req->err)) < 0)
        return rc;
    w.tz = gu_tz_of_zone(w.m.zone ? w.m.zone : "");
    if (e.booking_id && strcmp(e.status, "proposé") == 0 &&
        rdv_get(req->conn, req->arena, e.insee, e.booking_id, &b,
                &req->err) == 0 &&
        b.status == RDV_HELD) {
        offer = json_pack("{s:I, s:s, s:o}", "place", (json_int_t)b.place_id,
                          "place_name", b.place_name ? b.place_name : "",
                          "hold_until", gu_json_time(b.hold_until));
        if (offer)
            times_set(offer, w.tz, b.day, b.start_min, b.end_min);
    }
    gu_err_clear(&req->err);
    o = json_pack("{s:s, s:i, s:i, s:{s:I, s:s, s:s}, s:o, s:i, s:o, s:o, "
                  "s:o, s:s, s:s}",
                  "status", e.status ? e.status : "", "offers", e.offers,
                  "max_offers",
                  (int)(req->cfg ? gu_config_int(req->cfg, "rdv.max_offers")
                                 : 0),
                  "motif", "id", (json_int_t)m.id, "code",
                  m.code ? m.code : "", "name", m.name ? m.name : "", "place",
                  e.place_id ? json_integer(e.place_id) : json_null(),
                  "people", e.people, "before", day_json(e.before_day),
                  "created_at", gu_json_time(e.created_at), "offer",
                  offer ? offer : json_null(), "commune", w.m.insee,
                  "commune_name", w.m.name ? w.m.name : "");
    if (!o)
        return GU_ENOMEM;
    return http_json(resp, 200, o);
}

static int
post_waitlist_accept(struct http_req *req, struct http_resp *resp)
{
    const char *t = wait_token(req), *base = public_base(req);
    struct rdv_booked out;
    struct rdv_booking b;
    struct where w;
    json_t *o;
    int rc;

    if ((rc = rate_ip(req, resp, "rdv.rate_manage_ip", "manage")) < 0)
        return rc;
    if (!t)
        return link_gone(req);
    memset(&out, 0, sizeof(out));
    rc = rdv_wait_accept(req->conn, req->cfg, t, &out, &req->err);
    if (rc == GU_ENOTFOUND)
        return link_gone(req);
    if (rc < 0)
        return rc;
    rc = rdv_by_token(req->conn, req->arena, out.token, &b, &req->err);
    if (rc == 0)
        rc = store_commune_get(req->conn, req->arena, b.insee, &w.m,
                               &req->err);
    if (rc < 0)
        return rc;
    w.tz = gu_tz_of_zone(w.m.zone ? w.m.zone : "");
    o = booking_json(w.tz, &b, false);
    if (!o || !base)
        return GU_ENOMEM;
    json_object_set_new(o, "token", json_string(out.token));
    json_object_set_new(
        o, "manage_url",
        json_string(gu_arena_sprintf(req->arena, "%s/rdv/r/%s", base,
                                     out.token)));
    json_object_set_new(
        o, "ics_url",
        json_string(gu_arena_sprintf(req->arena, "%s/rdv/r/%s/rdv.ics", base,
                                     out.token)));
    return http_json(resp, 200, o);
}

static int
delete_waitlist(struct http_req *req, struct http_resp *resp)
{
    const char *t = wait_token(req);
    int rc;

    if ((rc = rate_ip(req, resp, "rdv.rate_manage_ip", "manage")) < 0)
        return rc;
    if (!t)
        return link_gone(req);
    rc = rdv_wait_leave(req->conn, t, &req->err);
    if (rc == GU_ENOTFOUND)
        return link_gone(req);
    if (rc < 0)
        return rc;
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* Agents: the model                                                   */
/* ------------------------------------------------------------------ */

/* Audit a change of the model: action, "<kind>:<id>". */
static void
audit_model(struct http_req *req, const char *action, const char *kind,
            int64_t id)
{
    http_audit(req, action, gu_arena_sprintf(req->arena, "%s:%lld", kind,
                                             (long long)id),
               "%s", "");
}

/* A JSON list reply {key: [...]} from an array already built. */
static int
list_reply(struct http_resp *resp, const char *key, json_t *arr)
{
    if (!arr)
        return GU_ENOMEM;
    return http_json(resp, 200, json_pack("{s:o}", key, arr));
}

static int
get_places(struct http_req *req, struct http_resp *resp)
{
    struct rdv_place *v = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    rc = rdv_place_list(req->conn, req->arena, req->who.insee, false, &v, &n,
                        &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, place_json(&v[i]));
    return list_reply(resp, "places", arr);
}

/* Fields of a place body over *p (absent members keep their value). */
static int
read_place(struct http_req *req, json_t *b, struct rdv_place *p)
{
    json_t *v;
    int rc;

    if ((rc = gu_json_str(b, "name", p->id == 0, RDV_NAME_MAX, &p->name,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "address", false, RDV_NAME_MAX, &p->address,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "zip", false, 10, &p->zip, &req->err)) < 0 ||
        (rc = gu_json_str(b, "city", false, RDV_NAME_MAX, &p->city,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "phone", false, PHONE_MAX, &p->phone,
                          &req->err)) < 0 ||
        (rc = gu_json_bool(b, "active", false, &p->active, &req->err)) < 0)
        return rc;
    v = json_object_get(b, "lat");
    if (v && !json_is_null(v)) {
        if (!json_is_number(v) || json_number_value(v) < -90 ||
            json_number_value(v) > 90)
            return gu_err_set(&req->err, GU_EINVAL, "lat",
                              "Latitude invalide (entre -90 et 90).",
                              "bad lat");
        p->lat = json_number_value(v);
    }
    v = json_object_get(b, "lon");
    if (v && !json_is_null(v)) {
        if (!json_is_number(v) || json_number_value(v) < -180 ||
            json_number_value(v) > 180)
            return gu_err_set(&req->err, GU_EINVAL, "lon",
                              "Longitude invalide (entre -180 et 180).",
                              "bad lon");
        p->lon = json_number_value(v);
    }
    return 0;
}

static int
save_place(struct http_req *req, struct http_resp *resp, bool create)
{
    struct rdv_place p;
    int64_t id = 0;
    json_t *b;
    int rc;

    if ((rc = http_need_commune(req)) < 0 || (rc = read_body(req, &b)) < 0)
        return rc;
    memset(&p, 0, sizeof(p));
    if (create) {
        p.address = p.zip = p.city = p.phone = "";
        p.active = true;
    } else {
        if ((rc = http_param_id(req, "id", &id)) < 0 ||
            (rc = rdv_place_get(req->conn, req->arena, req->who.insee, id, &p,
                                &req->err)) < 0)
            return rc;
    }
    memcpy(p.insee, req->who.insee, sizeof(p.insee));
    if ((rc = read_place(req, b, &p)) < 0 ||
        (rc = rdv_place_save(req->conn, &p, &id, &req->err)) < 0)
        return rc;
    if (create)
        p.id = id;
    audit_model(req, create ? "rdv.place.create" : "rdv.place.update",
                "rdv_place", p.id);
    rc = rdv_place_get(req->conn, req->arena, req->who.insee, p.id, &p,
                       &req->err);
    if (rc < 0)
        return rc;
    return http_json(resp, create ? 201 : 200, place_json(&p));
}

static int
post_place(struct http_req *req, struct http_resp *resp)
{
    return save_place(req, resp, true);
}

static int
put_place(struct http_req *req, struct http_resp *resp)
{
    return save_place(req, resp, false);
}

static int
get_counters(struct http_req *req, struct http_resp *resp)
{
    struct rdv_counter *v = NULL;
    size_t n = 0;
    int64_t place;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = query_id(req, "place", &place)) < 0)
        return rc;
    rc = rdv_counter_list(req->conn, req->arena, req->who.insee, place, &v, &n,
                          &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, counter_json(&v[i]));
    return list_reply(resp, "counters", arr);
}

/* A counter of the active commune by id (GU_ENOTFOUND otherwise). */
static int
counter_find(struct http_req *req, int64_t id, struct rdv_counter *out)
{
    struct rdv_counter *v = NULL;
    size_t n = 0;
    int rc = rdv_counter_list(req->conn, req->arena, req->who.insee, 0, &v, &n,
                              &req->err);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (v[i].id == id) {
            *out = v[i];
            return 0;
        }
    }
    return gu_err_set(&req->err, GU_ENOTFOUND, NULL, "Guichet introuvable.",
                      "no counter %lld", (long long)id);
}

static int
save_counter(struct http_req *req, struct http_resp *resp, bool create)
{
    struct rdv_counter k;
    int64_t id = 0, place = 0;
    json_t *b;
    int rc;

    if ((rc = http_need_commune(req)) < 0 || (rc = read_body(req, &b)) < 0)
        return rc;
    memset(&k, 0, sizeof(k));
    if (create)
        k.active = true;
    else if ((rc = http_param_id(req, "id", &id)) < 0 ||
             (rc = counter_find(req, id, &k)) < 0)
        return rc;
    memcpy(k.insee, req->who.insee, sizeof(k.insee));
    if ((rc = json_id(req, b, "place_id", create, &place)) < 0 ||
        (rc = gu_json_str(b, "name", create, RDV_NAME_MAX, &k.name,
                          &req->err)) < 0 ||
        (rc = gu_json_bool(b, "active", false, &k.active, &req->err)) < 0)
        return rc;
    if (place)
        k.place_id = place;
    if ((rc = rdv_counter_save(req->conn, &k, &id, &req->err)) < 0)
        return rc;
    if (create)
        k.id = id;
    audit_model(req, create ? "rdv.counter.create" : "rdv.counter.update",
                "rdv_counter", k.id);
    if ((rc = counter_find(req, k.id, &k)) < 0)
        return rc;
    return http_json(resp, create ? 201 : 200, counter_json(&k));
}

static int
post_counter(struct http_req *req, struct http_resp *resp)
{
    return save_counter(req, resp, true);
}

static int
put_counter(struct http_req *req, struct http_resp *resp)
{
    return save_counter(req, resp, false);
}

/* Fields of a motif body over *m (absent members keep their value). */
static int
read_motif(struct http_req *req, json_t *b, struct rdv_motif *m, bool create)
{
    const char *aud = NULL, *ants = NULL;
    long v;
    int rc;

#define INT_FIELD(key, lo, hi, dst)                                            \
    do {                                                                       \
        v = (dst);                                                             \
        if ((rc = gu_json_int(b, key, false, lo, hi, &v, &req->err)) < 0)      \
            return rc;                                                         \
        (dst) = (int)v;                                                        \
    } while (0)

    if ((rc = gu_json_str(b, "code", create, 64, &m->code, &req->err)) < 0 ||
        (rc = gu_json_str(b, "name", create, RDV_NAME_MAX, &m->name,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "instructions", false, RDV_TEXT_MAX,
                          &m->instructions, &req->err)) < 0 ||
        (rc = gu_json_bool(b, "per_person", false, &m->per_person,
                           &req->err)) < 0 ||
        (rc = gu_json_bool(b, "changeable", false, &m->changeable,
                           &req->err)) < 0 ||
        (rc = gu_json_bool(b, "active", false, &m->active, &req->err)) < 0 ||
        (rc = gu_json_str(b, "audience", false, 16, &aud, &req->err)) < 0 ||
        (rc = gu_json_str(b, "ants_reason", false, 16, &ants, &req->err)) < 0)
        return rc;
    if (create && !json_object_get(b, "duration_min"))
        return gu_err_set(&req->err, GU_EINVAL, "duration_min",
                          "La durée du rendez-vous est obligatoire.",
                          "missing duration");
    INT_FIELD("duration_min", RDV_UNIT_MIN, RDV_DURATION_MAX, m->duration_min);
    INT_FIELD("max_people", 1, RDV_PEOPLE_MAX, m->max_people);
    INT_FIELD("min_delay_h", 0, 24 * 366, m->min_delay_h);
    INT_FIELD("max_delay_d", 1, RDV_SEARCH_DAYS_MAX, m->max_delay_d);
    INT_FIELD("change_until_h", 0, 24 * 366, m->change_until_h);
    INT_FIELD("overbook_max", 0, 5, m->overbook_max);
#undef INT_FIELD
    if (aud) {
        if (strcmp(aud, "public") == 0)
            m->audience = RDV_PUBLIC;
        else if (strcmp(aud, "agents") == 0)
            m->audience = RDV_AGENTS_ONLY;
        else
            return gu_err_set(&req->err, GU_EINVAL, "audience",
                              "Public du motif invalide : public ou agents.",
                              "bad audience");
    }
    if (ants) {
        if (!*ants)
            m->ants = RDV_ANTS_NONE;
        else if (rdv_ants_reason_parse(ants, &m->ants) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "ants_reason",
                              "Motif ANTS invalide : CNI, PASSPORT, "
                              "CNI-PASSPORT ou vide.",
                              "bad ants reason");
    }
    return 0;
}

static int
get_motif_by_id(struct http_req *req, int64_t id, struct rdv_motif *m)
{
    return rdv_motif_get(req->conn, req->arena, req->who.insee, id, m,
                         &req->err);
}

static int
save_motif(struct http_req *req, struct http_resp *resp, bool create)
{
    struct rdv_motif m;
    int64_t id = 0;
    json_t *b;
    int rc;

    if ((rc = http_need_commune(req)) < 0 || (rc = read_body(req, &b)) < 0)
        return rc;
    memset(&m, 0, sizeof(m));
    if (create) {
        m.max_people = 1;
        m.max_delay_d = 90;
        m.change_until_h = 24;
        m.changeable = true;
        m.active = true;
        m.instructions = "";
    } else if ((rc = http_param_id(req, "id", &id)) < 0 ||
               (rc = get_motif_by_id(req, id, &m)) < 0)
        return rc;
    memcpy(m.insee, req->who.insee, sizeof(m.insee));
    if ((rc = read_motif(req, b, &m, create)) < 0 ||
        (rc = rdv_motif_save(req->conn, &m, &id, &req->err)) < 0)
        return rc;
    if (create)
        m.id = id;
    audit_model(req, create ? "rdv.motif.create" : "rdv.motif.update",
                "rdv_motif", m.id);
    if ((rc = get_motif_by_id(req, m.id, &m)) < 0)
        return rc;
    return http_json(resp, create ? 201 : 200, motif_json(&m, true));
}

static int
post_motif(struct http_req *req, struct http_resp *resp)
{
    return save_motif(req, resp, true);
}

static int
put_motif(struct http_req *req, struct http_resp *resp)
{
    return save_motif(req, resp, false);
}

static int
get_ranges(struct http_req *req, struct http_resp *resp)
{
    struct rdv_range *v = NULL;
    size_t n = 0;
    int64_t counter;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = query_id(req, "counter", &counter)) < 0)
        return rc;
    rc = rdv_range_list(req->conn, req->arena, req->who.insee, counter, &v, &n,
                        &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, range_json(&v[i]));
    return list_reply(resp, "ranges", arr);
}

static int
range_find(struct http_req *req, int64_t id, struct rdv_range *out)
{
    struct rdv_range *v = NULL;
    size_t n = 0;
    int rc = rdv_range_list(req->conn, req->arena, req->who.insee, 0, &v, &n,
                            &req->err);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (v[i].id == id) {
            *out = v[i];
            return 0;
        }
    }
    return gu_err_set(&req->err, GU_ENOTFOUND, NULL,
                      "Plage d’ouverture introuvable.", "no range %lld",
                      (long long)id);
}

/* "motifs": an array of motif ids (empty = every motif). */
static int
read_range_motifs(struct http_req *req, json_t *b, const char **out)
{
    json_t *v = json_object_get(b, "motifs"), *e;
    struct gu_buf buf;
    size_t i;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > 100)
        return gu_err_set(&req->err, GU_EINVAL, "motifs",
                          "Les motifs d’une plage sont une liste "
                          "d’identifiants (100 au plus).",
                          "bad motifs");
    gu_buf_init(&buf);
    gu_buf_puts(&buf, "");
    json_array_foreach(v, i, e)
    {
        if (!json_is_integer(e) || json_integer_value(e) <= 0) {
            gu_buf_fini(&buf);
            return gu_err_set(&req->err, GU_EINVAL, "motifs",
                              "Les motifs d’une plage sont une liste "
                              "d’identifiants (100 au plus).",
                              "bad motif id");
        }
        gu_buf_printf(&buf, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
                      json_integer_value(e));
    }
    *out = buf.oom ? NULL : gu_arena_strdup(req->arena, buf.p);
    gu_buf_fini(&buf);
    return *out ? 0 : GU_ENOMEM;
}

static int
save_range(struct http_req *req, struct http_resp *resp, bool create)
{
    struct rdv_range r;
    const char *s = NULL;
    int64_t id = 0, counter = 0;
    long v;
    json_t *b, *u;
    int rc;

    if ((rc = http_need_commune(req)) < 0 || (rc = read_body(req, &b)) < 0)
        return rc;
    memset(&r, 0, sizeof(r));
    if (create) {
        r.every_weeks = 1;
        r.motifs = "";
    } else if ((rc = http_param_id(req, "id", &id)) < 0 ||
               (rc = range_find(req, id, &r)) < 0)
        return rc;
    memcpy(r.insee, req->who.insee, sizeof(r.insee));
    if ((rc = json_id(req, b, "counter_id", create, &counter)) < 0)
        return rc;
    if (counter)
        r.counter_id = counter;
    v = r.weekday;
    if ((rc = gu_json_int(b, "weekday", create, 1, 7, &v, &req->err)) < 0)
        return rc;
    r.weekday = (int)v;
    v = r.every_weeks;
    if ((rc = gu_json_int(b, "every_weeks", false, 1, 2, &v, &req->err)) < 0)
        return rc;
    r.every_weeks = (int)v;
    s = NULL;
    if ((rc = gu_json_str(b, "start", create, 5, &s, &req->err)) < 0 ||
        (s && (rc = parse_hhmm(req, "start", s, &r.start_min)) < 0))
        return rc;
    s = NULL;
    if ((rc = gu_json_str(b, "end", create, 5, &s, &req->err)) < 0 ||
        (s && (rc = parse_hhmm(req, "end", s, &r.end_min)) < 0))
        return rc;
    s = NULL;
    if ((rc = gu_json_str(b, "from", false, 16, &s, &req->err)) < 0)
        return rc;
    if (s && gu_date_parse(s, &r.from_day) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "from",
                          "Date de début invalide (AAAA-MM-JJ).", "bad from");
    if (create && !s) {
        struct where w;
        if ((rc = agent_where(req, &w)) < 0)
            return rc;
        r.from_day = today(w.tz);
    }
    u = json_object_get(b, "until");
    if (u && json_is_null(u))
        r.until_day = 0;
    else {
        s = NULL;
        if ((rc = gu_json_str(b, "until", false, 16, &s, &req->err)) < 0)
            return rc;
        if (s && !*s)
            r.until_day = 0;
        else if (s && gu_date_parse(s, &r.until_day) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "until",
                              "Date de fin invalide (AAAA-MM-JJ).",
                              "bad until");
    }
    if ((rc = read_range_motifs(req, b, &r.motifs)) < 0 ||
        (rc = rdv_range_save(req->conn, &r, &id, &req->err)) < 0)
        return rc;
    if (create)
        r.id = id;
    audit_model(req, create ? "rdv.range.create" : "rdv.range.update",
                "rdv_range", r.id);
    if ((rc = range_find(req, r.id, &r)) < 0)
        return rc;
    return http_json(resp, create ? 201 : 200, range_json(&r));
}

static int
post_range(struct http_req *req, struct http_resp *resp)
{
    return save_range(req, resp, true);
}

static int
put_range(struct http_req *req, struct http_resp *resp)
{
    return save_range(req, resp, false);
}

static int
delete_range(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = rdv_range_delete(req->conn, req->who.insee, id, &req->err)) < 0)
        return rc;
    audit_model(req, "rdv.range.delete", "rdv_range", id);
    return http_no_content(resp);
}

static int
get_absences(struct http_req *req, struct http_resp *resp)
{
    struct rdv_absence *v = NULL;
    struct where w;
    size_t n = 0;
    int64_t from, to;
    json_t *arr;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 ||
        (rc = query_day(req, "from", 0, &from)) < 0 ||
        (rc = query_day(req, "to", from ? from + 365 : 0, &to)) < 0)
        return rc;
    if (to && !from)
        from = to - 365;
    rc = rdv_absence_list(req->conn, req->arena, w.m.insee, from, to, &v, &n,
                          &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, absence_json(w.tz, &v[i]));
    return list_reply(resp, "absences", arr);
}

static int
absence_find(struct http_req *req, int64_t id, struct rdv_absence *out)
{
    struct rdv_absence *v = NULL;
    size_t n = 0;
    int rc = rdv_absence_list(req->conn, req->arena, req->who.insee, 0, 0, &v,
                              &n, &req->err);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (v[i].id == id) {
            *out = v[i];
            return 0;
        }
    }
    return gu_err_set(&req->err, GU_ENOTFOUND, NULL, "Absence introuvable.",
                      "no absence %lld", (long long)id);
}

static int
save_absence(struct http_req *req, struct http_resp *resp, bool create)
{
    struct rdv_absence a;
    struct where w;
    int64_t id = 0, x;
    json_t *b;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 || (rc = read_body(req, &b)) < 0)
        return rc;
    memset(&a, 0, sizeof(a));
    if (create)
        a.reason = "";
    else if ((rc = http_param_id(req, "id", &id)) < 0 ||
             (rc = absence_find(req, id, &a)) < 0)
        return rc;
    memcpy(a.insee, req->who.insee, sizeof(a.insee));
    if ((rc = json_id(req, b, "place_id", create, &x)) < 0)
        return rc;
    if (x)
        a.place_id = x;
    if (json_object_get(b, "counter_id")) {
        if ((rc = json_id(req, b, "counter_id", false, &a.counter_id)) < 0)
            return rc;
    }
    if ((create || json_object_get(b, "start")) &&
        (rc = json_when(req, b, "start", w.tz, &a.start_day, &a.start_min)) <
            0)
        return rc;
    if ((create || json_object_get(b, "end")) &&
        (rc = json_when(req, b, "end", w.tz, &a.end_day, &a.end_min)) < 0)
        return rc;
    if ((rc = gu_json_str(b, "reason", false, RDV_NAME_MAX, &a.reason,
                          &req->err)) < 0 ||
        (rc = rdv_absence_save(req->conn, &a, &id, &req->err)) < 0)
        return rc;
    if (create)
        a.id = id;
    audit_model(req, create ? "rdv.absence.create" : "rdv.absence.update",
                "rdv_absence", a.id);
    if ((rc = absence_find(req, a.id, &a)) < 0)
        return rc;
    return http_json(resp, create ? 201 : 200, absence_json(w.tz, &a));
}

static int
post_absence(struct http_req *req, struct http_resp *resp)
{
    return save_absence(req, resp, true);
}

static int
put_absence(struct http_req *req, struct http_resp *resp)
{
    return save_absence(req, resp, false);
}

static int
delete_absence(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = rdv_absence_delete(req->conn, req->who.insee, id, &req->err)) <
            0)
        return rc;
    audit_model(req, "rdv.absence.delete", "rdv_absence", id);
    return http_no_content(resp);
}

/* ------------------------------------------------------------------ */
/* Agents: agenda and bookings                                         */
/* ------------------------------------------------------------------ */

static int
get_agenda(struct http_req *req, struct http_resp *resp)
{
    struct rdv_agenda_query q;
    struct rdv_booking *v = NULL;
    struct where w;
    const char *c;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = agent_where(req, &w)) < 0)
        return rc;
    memset(&q, 0, sizeof(q));
    q.insee = w.m.insee;
    if ((rc = query_day(req, "from", today(w.tz), &q.from_day)) < 0 ||
        (rc = query_day(req, "to", q.from_day, &q.to_day)) < 0 ||
        (rc = query_id(req, "place", &q.place_id)) < 0 ||
        (rc = query_id(req, "counter", &q.counter_id)) < 0)
        return rc;
    if (q.to_day < q.from_day)
        return gu_err_set(&req->err, GU_EINVAL, "to",
                          "La date de fin précède la date de début.",
                          "to < from");
    if (q.to_day - q.from_day >= AGENDA_DAYS_MAX)
        return gu_err_set(&req->err, GU_EINVAL, "to",
                          "Période trop longue : 93 jours au plus.",
                          "agenda span too long");
    c = http_query(req, "cancelled");
    q.with_cancelled = c && (strcmp(c, "1") == 0 || strcmp(c, "true") == 0);
    rc = rdv_agenda(req->conn, req->arena, &q, &v, &n, &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, booking_json(w.tz, &v[i], true));
    if (!arr)
        return GU_ENOMEM;
    return http_json(resp, 200,
                     json_pack("{s:o, s:o, s:o}", "from", day_json(q.from_day),
                               "to", day_json(q.to_day), "bookings", arr));
}

/*
 * The no-show risk's « Pourquoi ? » (web_why.c's shape): the estimate,
 * its main factors, the commune's model (version, training date, quality
 * on the hold-out) and what the score may and may not be used for. JSON
 * null when no model is in service.
 */
static json_t *
risk_why(struct http_req *req, double r, const char *factors)
{
    struct rdv_risk_model m;
    struct gu_err e;
    char pct[64], auc[64], base[64], when[32];
    json_t *o;

    gu_err_clear(&e);
    if (r < 0 ||
        rdv_risk_model_get(req->conn, req->arena, req->who.insee, &m, &e) < 0)
        return json_null();
    gu_num_fr(100 * r, 0, 0, "–", pct, sizeof(pct));
    gu_num_fr(m.auc, 2, 0, "–", auc, sizeof(auc));
    gu_num_fr(100 * m.base_rate, 1, GU_NUM_TRIM, "–", base, sizeof(base));
    gu_time_fr(m.trained_at, when, sizeof(when));
    o = http_why_new(
        gu_arena_sprintf(req->arena,
                         "Risque d’absence estimé à %s %% pour ce rendez-vous%s"
                         "%s.",
                         pct, factors && *factors ? " ; principaux facteurs : "
                                                  : "",
                         factors ? factors : ""),
        "régression logistique (liblinear)",
        gu_arena_sprintf(req->arena, "n° %lld, entraînée le %s",
                         (long long)m.version, when),
        gu_now());
    if (!o)
        return json_null();
    http_why_add(o, "Taux d’absence moyen de la commune",
                 gu_arena_sprintf(req->arena, "%s %%", base));
    http_why_add(o, "Qualité du modèle",
                 gu_arena_sprintf(req->arena,
                                  "AUC %s sur les %d rendez-vous les plus "
                                  "récents, mis de côté (0,5 = hasard)",
                                  auc, m.holdout));
    http_why_add(o, "Rendez-vous appris", gu_arena_sprintf(req->arena, "%d",
                                                           m.samples));
    http_why_add(o, "Usage",
                 "envoyer un rappel de plus, ou permettre le surbooking "
                 "réglé pour un motif ; jamais refuser ni retarder un "
                 "rendez-vous");
    return o;
}

/* The booking {id} of the active commune, as agents see it. */
static int
agent_booking_reply(struct http_req *req, struct http_resp *resp,
                    const struct where *w, int64_t id, bool why)
{
    struct rdv_booking b;
    const char *expl = NULL;
    json_t *o;
    int rc;

    rc = rdv_get(req->conn, req->arena, w->m.insee, id, &b, &req->err);
    if (rc < 0)
        return rc;
    o = booking_json(w->tz, &b, true);
    if (!o)
        return GU_ENOMEM;
    if (why) {
        double r = rdv_risk(req->conn, req->arena, &b, &expl);
        json_object_set_new(o, "risk_now", r < 0 ? json_null() : json_real(r));
        json_object_set_new(o, "risk_why", json_string(expl ? expl : ""));
        json_object_set_new(o, "pourquoi", risk_why(req, r, expl));
    }
    return http_json(resp, 200, o);
}

static int
get_booking(struct http_req *req, struct http_resp *resp)
{
    struct where w;
    int64_t id;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    return agent_booking_reply(req, resp, &w, id, true);
}

/* "present", "absent", "excuse" (and rdv_status_name's own names). */
static int
parse_outcome(struct http_req *req, const char *s, enum rdv_status *st)
{
    if (strcmp(s, "present") == 0 || strcmp(s, "présent") == 0)
        *st = RDV_PRESENT;
    else if (strcmp(s, "absent") == 0)
        *st = RDV_NOSHOW;
    else if (strcmp(s, "excuse") == 0 || strcmp(s, "excusé") == 0)
        *st = RDV_EXCUSED;
    else if (rdv_status_parse(s, st) < 0 ||
             (*st != RDV_PRESENT && *st != RDV_NOSHOW && *st != RDV_EXCUSED &&
              *st != RDV_CONFIRMED))
        return gu_err_set(&req->err, GU_EINVAL, "status",
                          "Statut invalide : present, absent ou excuse.",
                          "bad status");
    return 0;
}

static int
patch_booking(struct http_req *req, struct http_resp *resp)
{
    struct where w;
    enum rdv_status st;
    const char *s = NULL, *note = NULL;
    int64_t id;
    json_t *b;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = read_body(req, &b)) < 0 ||
        (rc = gu_json_str(b, "status", false, 16, &s, &req->err)) < 0 ||
        (rc = gu_json_str(b, "note", false, RDV_TEXT_MAX, &note, &req->err)) <
            0)
        return rc;
    if (!s && !note)
        return gu_err_set(&req->err, GU_EINVAL, "status",
                          "Rien à modifier : indiquez « status » ou « note ».",
                          "empty patch");
    if (s) {
        if ((rc = parse_outcome(req, s, &st)) < 0 ||
            (rc = rdv_set_status(req->conn, w.m.insee, id, st,
                                 http_actor(req), &req->err)) < 0)
            return rc;
    }
    if (note) {
        if ((rc = rdv_set_note(req->conn, w.m.insee, id, note, &req->err)) < 0)
            return rc;
        /* the note itself is personal data: not in the audit */
        http_audit(req, "rdv.note",
                   gu_arena_sprintf(req->arena, "rdv:%lld", (long long)id),
                   "%s", "");
    }
    return agent_booking_reply(req, resp, &w, id, false);
}

static int
post_booking_move(struct http_req *req, struct http_resp *resp)
{
    struct rdv_booking old;
    struct where w;
    int64_t id, place, day;
    int start, rc;
    json_t *b;

    if ((rc = agent_where(req, &w)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = read_body(req, &b)) < 0 ||
        (rc = rdv_get(req->conn, req->arena, w.m.insee, id, &old,
                      &req->err)) < 0 ||
        (rc = json_id(req, b, "place", false, &place)) < 0 ||
        (rc = json_when(req, b, "start", w.tz, &day, &start)) < 0)
        return rc;
    if (!place)
        place = old.place_id;
    rc = rdv_move(req->conn, req->cfg, w.m.insee, id, place, day, start, true,
                  http_actor(req), &req->err);
    if (rc == GU_ECONFLICT)
        return conflict(req, resp, &w, old.motif_id, place, day, start,
                        old.people, true);
    if (rc < 0)
        return rc;
    return agent_booking_reply(req, resp, &w, id, false);
}

static int
post_booking_cancel(struct http_req *req, struct http_resp *resp)
{
    struct where w;
    int64_t id;
    int rc;

    if ((rc = agent_where(req, &w)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = rdv_cancel(req->conn, req->cfg, w.m.insee, id, true,
                         http_actor(req), &req->err)) < 0)
        return rc;
    return agent_booking_reply(req, resp, &w, id, false);
}

/* ------------------------------------------------------------------ */
/* The route table                                                     */
/* ------------------------------------------------------------------ */

/* JSON Schema fragments for OpenAPI. */
#define S_STR "{\"type\":\"string\"}"
#define S_INT "{\"type\":\"integer\"}"
#define S_BOOL "{\"type\":\"boolean\"}"
#define S_ID "{\"type\":[\"integer\",\"string\"]}"
#define S_DATETIME                                                             \
    "{\"type\":\"string\",\"description\":\"AAAA-MM-JJTHH:MM, heure de la "   \
    "commune\"}"
#define S_TIMES                                                                \
    "\"start\":{\"type\":\"string\",\"format\":\"date-time\"},"                \
    "\"end\":{\"type\":\"string\",\"format\":\"date-time\"},"                  \
    "\"day\":{\"type\":\"string\",\"format\":\"date\"},"                       \
    "\"time\":{\"type\":\"string\"},\"label\":{\"type\":\"string\"}"

#define PLACE_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT ",\"name\":" S_STR   \
    ",\"address\":" S_STR ",\"zip\":" S_STR ",\"city\":" S_STR                 \
    ",\"lat\":{\"type\":\"number\"},\"lon\":{\"type\":\"number\"},"            \
    "\"phone\":" S_STR ",\"active\":" S_BOOL "}}"
#define PLACE_BODY                                                             \
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\","      \
    "\"maxLength\":200},\"address\":" S_STR ",\"zip\":" S_STR                  \
    ",\"city\":" S_STR ",\"lat\":{\"type\":\"number\",\"minimum\":-90,"        \
    "\"maximum\":90},\"lon\":{\"type\":\"number\",\"minimum\":-180,"           \
    "\"maximum\":180},\"phone\":" S_STR ",\"active\":" S_BOOL "}}"
#define COUNTER_SCHEMA                                                         \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT                       \
    ",\"place_id\":" S_INT ",\"name\":" S_STR ",\"active\":" S_BOOL "}}"
#define COUNTER_BODY                                                           \
    "{\"type\":\"object\",\"properties\":{\"place_id\":" S_INT                 \
    ",\"name\":{\"type\":\"string\",\"maxLength\":200},\"active\":" S_BOOL    \
    "}}"
#define MOTIF_PROPS                                                            \
    "\"code\":{\"type\":\"string\",\"maxLength\":64},"                         \
    "\"name\":{\"type\":\"string\",\"maxLength\":200},"                        \
    "\"duration_min\":{\"type\":\"integer\",\"minimum\":5,\"maximum\":480},"   \
    "\"per_person\":" S_BOOL ",\"max_people\":{\"type\":\"integer\","          \
    "\"minimum\":1,\"maximum\":10},\"min_delay_h\":" S_INT                     \
    ",\"max_delay_d\":" S_INT ",\"instructions\":" S_STR                       \
    ",\"changeable\":" S_BOOL ",\"change_until_h\":" S_INT                     \
    ",\"ants_reason\":{\"enum\":[\"\",\"CNI\",\"PASSPORT\","                   \
    "\"CNI-PASSPORT\"]}"
#define MOTIF_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT "," MOTIF_PROPS       \
    ",\"audience\":{\"enum\":[\"public\",\"agents\"]},\"overbook_max\":" S_INT \
    ",\"active\":" S_BOOL ",\"places\":{\"type\":\"array\",\"items\":"         \
    PLACE_SCHEMA "}}}"
#define MOTIF_BODY                                                             \
    "{\"type\":\"object\",\"properties\":{" MOTIF_PROPS                        \
    ",\"audience\":{\"enum\":[\"public\",\"agents\"]},"                        \
    "\"overbook_max\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":5},"     \
    "\"active\":" S_BOOL "}}"
#define RANGE_PROPS                                                            \
    "\"counter_id\":" S_INT ",\"weekday\":{\"type\":\"integer\","              \
    "\"minimum\":1,\"maximum\":7},\"start\":{\"type\":\"string\","             \
    "\"pattern\":\"^[0-2][0-9]:[0-5][0-9]$\"},\"end\":{\"type\":\"string\","   \
    "\"pattern\":\"^[0-2][0-9]:[0-5][0-9]$\"},\"every_weeks\":{\"enum\":[1,2]" \
    "},\"from\":{\"type\":\"string\",\"format\":\"date\"},\"until\":{\"type\"" \
    ":[\"string\",\"null\"]},\"motifs\":{\"type\":\"array\",\"items\":" S_INT  \
    "}"
#define RANGE_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT "," RANGE_PROPS "}}"
#define RANGE_BODY "{\"type\":\"object\",\"properties\":{" RANGE_PROPS "}}"
#define ABSENCE_SCHEMA                                                         \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT ",\"place_id\":"      \
    S_INT ",\"counter_id\":{\"type\":[\"integer\",\"null\"]},\"start\":"       \
    "{\"type\":\"string\",\"format\":\"date-time\"},\"end\":{\"type\":"        \
    "\"string\",\"format\":\"date-time\"},\"reason\":" S_STR "}}"
#define ABSENCE_BODY                                                           \
    "{\"type\":\"object\",\"properties\":{\"place_id\":" S_INT                 \
    ",\"counter_id\":{\"type\":[\"integer\",\"null\"]},\"start\":"             \
    S_DATETIME ",\"end\":" S_DATETIME ",\"reason\":{\"type\":\"string\","      \
    "\"maxLength\":200}}}"
#define SLOT_SCHEMA                                                            \
    "{\"type\":\"object\",\"properties\":{\"place\":" S_INT                    \
    ",\"place_name\":" S_STR ",\"counter\":" S_INT "," S_TIMES "}}"
#define SLOTS_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"commune\":" S_STR                  \
    ",\"motif\":{\"type\":\"object\"},\"from\":" S_STR ",\"to\":" S_STR        \
    ",\"people\":" S_INT ",\"slots\":{\"type\":\"array\",\"items\":"           \
    SLOT_SCHEMA "}}}"
#define BOOKING_PROPS                                                          \
    "\"status\":{\"type\":\"string\"},\"people\":" S_INT                       \
    ",\"motif\":{\"type\":\"object\"},\"place\":{\"type\":\"object\"},"        \
    "\"name\":" S_STR ",\"email\":" S_STR ",\"phone\":" S_STR                  \
    ",\"ants_ids\":{\"type\":\"array\",\"items\":" S_STR "},"                  \
    "\"confirmed\":" S_BOOL "," S_TIMES
#define BOOKING_SCHEMA                                                         \
    "{\"type\":\"object\",\"properties\":{" BOOKING_PROPS                      \
    ",\"instructions\":" S_STR ",\"can_change\":" S_BOOL                       \
    ",\"change_until\":{\"type\":[\"string\",\"null\"]}}}"
#define BOOKED_SCHEMA                                                          \
    "{\"type\":\"object\",\"properties\":{" BOOKING_PROPS                      \
    ",\"token\":" S_STR ",\"manage_url\":" S_STR ",\"ics_url\":" S_STR         \
    ",\"instructions\":" S_STR "}}"
#define AGENT_BOOKING_SCHEMA                                                   \
    "{\"type\":\"object\",\"properties\":{\"id\":" S_INT "," BOOKING_PROPS     \
    ",\"counter\":{\"type\":\"object\"},\"channel\":" S_STR                    \
    ",\"created_by\":" S_STR ",\"created_at\":" S_STR                          \
    ",\"risk\":{\"type\":[\"number\",\"null\"]},\"risk_why\":" S_STR           \
    ",\"note\":" S_STR "}}"
#define PERSON_PROPS                                                           \
    "\"people\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10},"          \
    "\"name\":{\"type\":\"string\",\"maxLength\":200},"                        \
    "\"email\":{\"type\":\"string\",\"maxLength\":254},"                       \
    "\"phone\":{\"type\":\"string\",\"maxLength\":32},"                        \
    "\"ants_ids\":{\"type\":\"array\",\"maxItems\":10,\"items\":{\"type\":"    \
    "\"string\",\"pattern\":\"^[A-Za-z0-9 ]{10,32}$\"}},"                      \
    "\"consent\":" S_BOOL ",\"ants_override\":" S_BOOL
#define BOOK_BODY                                                              \
    "{\"type\":\"object\",\"required\":[\"motif\",\"place\",\"start\","        \
    "\"name\"],\"properties\":{\"c\":{\"type\":\"string\","                    \
    "\"pattern\":\"^[0-9][0-9AB][0-9]{3}$\"},\"motif\":" S_ID                  \
    ",\"place\":" S_ID ",\"start\":" S_DATETIME "," PERSON_PROPS "}}"
#define AGENT_BOOK_BODY                                                        \
    "{\"type\":\"object\",\"required\":[\"motif\",\"place\",\"start\","        \
    "\"name\"],\"properties\":{\"motif\":" S_ID ",\"place\":" S_ID             \
    ",\"counter\":" S_ID ",\"start\":" S_DATETIME                              \
    ",\"channel\":{\"enum\":[\"guichet\",\"telephone\"]},"                     \
    "\"note\":{\"type\":\"string\",\"maxLength\":4000}," PERSON_PROPS "}}"
#define MOVE_BODY                                                              \
    "{\"type\":\"object\",\"required\":[\"start\"],\"properties\":{"           \
    "\"place\":" S_ID ",\"start\":" S_DATETIME "}}"
#define WAIT_BODY                                                              \
    "{\"type\":\"object\",\"required\":[\"motif\",\"name\",\"email\"],"        \
    "\"properties\":{\"c\":" S_STR ",\"motif\":" S_ID ",\"place\":" S_ID       \
    ",\"before\":{\"type\":\"string\",\"format\":\"date\"}," PERSON_PROPS "}}"
#define TOKEN_SCHEMA                                                           \
    "{\"type\":\"object\",\"properties\":{\"token\":" S_STR                    \
    ",\"manage_url\":" S_STR ",\"status\":" S_STR "}}"
#define LIST_OF(key, item)                                                     \
    "{\"type\":\"object\",\"properties\":{\"" key "\":{\"type\":\"array\","    \
    "\"items\":" item "}}}"

static const struct http_route routes[] = {
    /* Public: residents, the assistant, the widget. */
    {"GET", "/api/v1/rdv/motifs", HTTP_PUBLIC, get_motifs, "rdv",
     "Motifs de rendez-vous ouverts au public et leurs lieux (?c=INSEE) ; "
     "tous les motifs pour un agent de la commune active",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"commune\":" S_STR
     ",\"commune_name\":" S_STR ",\"motifs\":{\"type\":\"array\","
     "\"items\":" MOTIF_SCHEMA "}}}"},
    {"GET", "/api/v1/rdv/slots", HTTP_PUBLIC, get_slots, "rdv",
     "Créneaux libres d’un motif, un par lieu et horaire (?c=, motif, "
     "place, from, to, people, limit)",
     NULL, SLOTS_SCHEMA},
    {"POST", "/api/v1/rdv/bookings", HTTP_PUBLIC, post_booking, "rdv",
     "Réserver un créneau (409 avec « creneaux » s’il vient d’être pris)",
     BOOK_BODY, BOOKED_SCHEMA},
    {"GET", "/api/v1/rdv/manage/{token}", HTTP_PUBLIC, get_manage, "rdv",
     "Voir son rendez-vous (lien reçu par courriel)", NULL, BOOKING_SCHEMA},
    {"POST", "/api/v1/rdv/manage/{token}/move", HTTP_PUBLIC, post_manage_move,
     "rdv", "Déplacer son rendez-vous", MOVE_BODY, BOOKING_SCHEMA},
    {"POST", "/api/v1/rdv/manage/{token}/cancel", HTTP_PUBLIC,
     post_manage_cancel, "rdv", "Annuler son rendez-vous", NULL,
     BOOKING_SCHEMA},
    {"POST", "/api/v1/rdv/manage/{token}/confirm", HTTP_PUBLIC,
     post_manage_confirm, "rdv", "Confirmer sa venue (lien du rappel)", NULL,
     BOOKING_SCHEMA},
    {"POST", "/api/v1/rdv/waitlist", HTTP_PUBLIC, post_waitlist, "rdv",
     "S’inscrire sur la liste d’attente d’un motif", WAIT_BODY, TOKEN_SCHEMA},
    {"GET", "/api/v1/rdv/waitlist/{token}", HTTP_PUBLIC, get_waitlist, "rdv",
     "Où en est son inscription sur la liste d’attente (proposition en "
     "cours)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"status\":{\"enum\":["
     "\"attente\",\"proposé\",\"accepté\",\"expiré\"]},\"offers\":" S_INT
     ",\"max_offers\":" S_INT ",\"motif\":{\"type\":\"object\"},"
     "\"place\":{\"type\":[\"integer\",\"null\"]},\"people\":" S_INT
     ",\"before\":{\"type\":[\"string\",\"null\"]},"
     "\"offer\":{\"type\":[\"object\",\"null\"]}}}"},
    {"POST", "/api/v1/rdv/waitlist/{token}/accept", HTTP_PUBLIC,
     post_waitlist_accept, "rdv",
     "Accepter le créneau proposé par la liste d’attente", NULL,
     BOOKED_SCHEMA},
    {"DELETE", "/api/v1/rdv/waitlist/{token}", HTTP_PUBLIC, delete_waitlist,
     "rdv", "Se retirer de la liste d’attente", NULL, NULL},

    /* Agents: the model (reads: lecteur; writes: admin). */
    {"GET", "/api/v1/rdv/places", HTTP_LECTEUR, get_places, "rdv",
     "Lieux de rendez-vous de la commune active", NULL,
     LIST_OF("places", PLACE_SCHEMA)},
    {"POST", "/api/v1/rdv/places", HTTP_ADMIN, post_place, "rdv",
     "Créer un lieu de rendez-vous", PLACE_BODY, PLACE_SCHEMA},
    {"PUT", "/api/v1/rdv/places/{id}", HTTP_ADMIN, put_place, "rdv",
     "Modifier un lieu (champs absents inchangés ; active=false le retire)",
     PLACE_BODY, PLACE_SCHEMA},
    {"GET", "/api/v1/rdv/counters", HTTP_LECTEUR, get_counters, "rdv",
     "Guichets de la commune active (?place=)", NULL,
     LIST_OF("counters", COUNTER_SCHEMA)},
    {"POST", "/api/v1/rdv/counters", HTTP_ADMIN, post_counter, "rdv",
     "Créer un guichet dans un lieu", COUNTER_BODY, COUNTER_SCHEMA},
    {"PUT", "/api/v1/rdv/counters/{id}", HTTP_ADMIN, put_counter, "rdv",
     "Modifier un guichet (champs absents inchangés)", COUNTER_BODY,
     COUNTER_SCHEMA},
    {"POST", "/api/v1/rdv/motifs", HTTP_ADMIN, post_motif, "rdv",
     "Créer un motif de rendez-vous", MOTIF_BODY, MOTIF_SCHEMA},
    {"PUT", "/api/v1/rdv/motifs/{id}", HTTP_ADMIN, put_motif, "rdv",
     "Modifier un motif (champs absents inchangés)", MOTIF_BODY,
     MOTIF_SCHEMA},
    {"GET", "/api/v1/rdv/ranges", HTTP_LECTEUR, get_ranges, "rdv",
     "Plages d’ouverture des guichets (?counter=)", NULL,
     LIST_OF("ranges", RANGE_SCHEMA)},
    {"POST", "/api/v1/rdv/ranges", HTTP_ADMIN, post_range, "rdv",
     "Créer une plage d’ouverture", RANGE_BODY, RANGE_SCHEMA},
    {"PUT", "/api/v1/rdv/ranges/{id}", HTTP_ADMIN, put_range, "rdv",
     "Modifier une plage d’ouverture (champs absents inchangés)", RANGE_BODY,
     RANGE_SCHEMA},
    {"DELETE", "/api/v1/rdv/ranges/{id}", HTTP_ADMIN, delete_range, "rdv",
     "Supprimer une plage d’ouverture", NULL, NULL},
    {"GET", "/api/v1/rdv/absences", HTTP_LECTEUR, get_absences, "rdv",
     "Absences des guichets et fermetures des lieux (?from=&to=)", NULL,
     LIST_OF("absences", ABSENCE_SCHEMA)},
    {"POST", "/api/v1/rdv/absences", HTTP_ADMIN, post_absence, "rdv",
     "Créer une absence (guichet) ou une fermeture (lieu entier)",
     ABSENCE_BODY, ABSENCE_SCHEMA},
    {"PUT", "/api/v1/rdv/absences/{id}", HTTP_ADMIN, put_absence, "rdv",
     "Modifier une absence ou une fermeture", ABSENCE_BODY, ABSENCE_SCHEMA},
    {"DELETE", "/api/v1/rdv/absences/{id}", HTTP_ADMIN, delete_absence, "rdv",
     "Supprimer une absence ou une fermeture", NULL, NULL},

    /* Agents: slots, agenda, bookings. */
    {"GET", "/api/v1/rdv/agent/slots", HTTP_LECTEUR, get_agent_slots, "rdv",
     "Créneaux libres avec leur guichet, motifs réservés aux agents compris "
     "(motif, place, counter, from, to, people, limit)",
     NULL, SLOTS_SCHEMA},
    {"POST", "/api/v1/rdv/agent/bookings", HTTP_AGENT, post_agent_booking,
     "rdv", "Réserver pour quelqu’un (au guichet, par téléphone)",
     AGENT_BOOK_BODY, AGENT_BOOKING_SCHEMA},
    {"GET", "/api/v1/rdv/agenda", HTTP_LECTEUR, get_agenda, "rdv",
     "Rendez-vous d’une période (from, to, place, counter, cancelled=1)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"from\":" S_STR ",\"to\":" S_STR
     ",\"bookings\":{\"type\":\"array\",\"items\":" AGENT_BOOKING_SCHEMA
     "}}}"},
    {"GET", "/api/v1/rdv/bookings/{id}", HTTP_LECTEUR, get_booking, "rdv",
     "Un rendez-vous, avec son risque d’absence expliqué", NULL,
     AGENT_BOOKING_SCHEMA},
    {"PATCH", "/api/v1/rdv/bookings/{id}", HTTP_AGENT, patch_booking, "rdv",
     "Marquer présent, absent ou excusé ; note de l’agent",
     "{\"type\":\"object\",\"properties\":{\"status\":{\"enum\":[\"present\","
     "\"absent\",\"excuse\"]},\"note\":{\"type\":\"string\","
     "\"maxLength\":4000}}}",
     AGENT_BOOKING_SCHEMA},
    {"POST", "/api/v1/rdv/bookings/{id}/move", HTTP_AGENT, post_booking_move,
     "rdv", "Déplacer un rendez-vous (409 avec « creneaux » si pris)",
     MOVE_BODY, AGENT_BOOKING_SCHEMA},
    {"POST", "/api/v1/rdv/bookings/{id}/cancel", HTTP_AGENT,
     post_booking_cancel, "rdv", "Annuler un rendez-vous", NULL,
     AGENT_BOOKING_SCHEMA},
};

const struct http_routes rdv_routes = {"rdv", routes, GU_ARRAY_LEN(routes)};
