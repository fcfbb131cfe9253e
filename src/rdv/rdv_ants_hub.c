/*
 * rdv_ants_hub.c - the endpoints the national search engine (France
 * Titres' « moteur de recherche », rendezvouspasseport.ants.gouv.fr)
 * calls on an editor: getManagedMeetingPoints, availableTimeSlots and
 * searchApplicationIds, under /api/ants/. Shapes and formats: docs/ants.md.
 *
 * One instance answers for every commune it serves. A meeting point is a
 * place (its id, as a string); a place is managed when it is active, has
 * coordinates, and some range of one of its active counters offers an
 * active public motif with an ANTS reason.
 *
 * Authentication: the header X-HUB-RDV-AUTH-TOKEN against ants.hub_token,
 * compared in constant time on SHA-256 digests of equal length; closed
 * (401) while the setting is empty. Failed attempts are rate limited per
 * client address.
 *
 * Times: the hub shows the time it reads as it is written; we write the
 * commune's civil time followed by a literal "Z" ("2026-12-03T09:30Z"),
 * the form the hub's own example and its parser use.
 */
#include "rdv/rdv_ants.h"
#include "rdv/rdv_internal.h"
#include "web/http.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

/*
 * Bounds: failed authentications per address and minute; slots answered
 * per meeting point and per request; the widest start_date..end_date
 * accepted; how long a management link minted for the hub lives.
 */
#define HUB_FAIL_PER_MIN 30
#define HUB_SLOTS_PER_PLACE 1500
#define HUB_SLOTS_TOTAL 30000
#define HUB_RANGE_MAX_DAYS 366
#define HUB_LINK_TTL_S (7 * 86400)

/* ------------------------------------------------------------------ */
/* Common                                                              */
/* ------------------------------------------------------------------ */

/* 0 when the caller holds the hub's token, else the problem sent. */
static int
hub_auth(struct http_req *req, struct http_resp *resp)
{
    const char *want = gu_config_str(req->cfg, "ants.hub_token");
    const char *got = http_header(req, "X-HUB-RDV-AUTH-TOKEN");
    char hw[65], hg[65];
    int retry = 0;

    if (!want || !*want)
        return http_problem(resp, 401, NULL,
                            "Les points d'accès ANTS ne sont pas activés sur "
                            "ce service.");
    if (got && *got) {
        /* Digests have one length whatever the inputs: the compare leaks
           neither the token's length nor where it differs. */
        gu_token_hash(want, hw);
        gu_token_hash(got, hg);
        if (sodium_memcmp(hw, hg, 64) == 0) {
            const char *pub = gu_config_str(req->cfg, "server.public_url");

            /* The hub shows our links on another site: relative ones
               would lead nowhere. */
            if (!pub || strncmp(pub, "http", 4) != 0) {
                gu_log_error("rdv.ants.hub", "error=%s",
                             "server.public_url is not set");
                return http_problem(resp, 503, NULL,
                                    "Le réglage server.public_url (adresse "
                                    "publique du service) doit être "
                                    "renseigné pour répondre à l'ANTS.");
            }
            return 0;
        }
    }
    char key[96];
    snprintf(key, sizeof(key), "ants.hub.fail:%s",
             req->client_ip ? req->client_ip : "-");
    if (store_rate_hit(req->conn, key, HUB_FAIL_PER_MIN, 60, &retry,
                       &req->err) == GU_ERATE) {
        char ra[16];

        snprintf(ra, sizeof(ra), "%d", retry > 0 ? retry : 60);
        http_add_header(resp, "Retry-After", ra);
        return http_problem(resp, 429, NULL,
                            "Trop de tentatives avec un jeton invalide ; "
                            "réessayez dans une minute.");
    }
    gu_log_warn("rdv.ants.hub", "error=%s", "bad token");
    return http_problem(resp, 401, NULL,
                        "En-tête X-HUB-RDV-AUTH-TOKEN absent ou invalide.");
}

/* server.public_url without its trailing slashes ("" when unset). */
static const char *
public_url(struct http_req *req)
{
    const char *r = gu_public_base(req->arena, req->cfg);

    return r ? r : "";
}

/* "2026-12-03T09:30Z": the commune's civil time, as the hub shows it. */
static void
hub_time(int64_t day, int minute, char *buf, size_t cap)
{
    int y, m, d;

    gu_day_to_ymd(day, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02dZ", y, m, d, minute / 60,
             minute % 60);
}

/*
 * Every value of a repeated query argument: at least one, at most `cap`
 * (the caller checks each value). 0 with *n set, else the 400 sent.
 */
static int
repeated(struct http_req *req, struct http_resp *resp, const char *name,
         const char **out, size_t cap, size_t *n)
{
    size_t total = http_query_all(req, name, out, cap);

    if (total == 0)
        return http_problem(resp, 400, NULL,
                            gu_arena_sprintf(req->arena,
                                             "Le paramètre « %s » est "
                                             "obligatoire.",
                                             name));
    if (total > cap)
        return http_problem(resp, 400, NULL,
                            gu_arena_sprintf(req->arena,
                                             "Trop de valeurs pour « %s » "
                                             "(%zu au plus).",
                                             name, cap));
    *n = total;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Managed places                                                      */
/* ------------------------------------------------------------------ */

/* A managed place and what the hub needs to know of it. */
struct mplace {
    struct rdv_place p;
    /* the commune's public ANTS motifs offered there, by reason */
    struct rdv_motif motif[RDV_ANTS_CNI_PASSPORT + 1];
    bool has[RDV_ANTS_CNI_PASSPORT + 1];
};

/*
 * The managed places of every commune, ordered by id, with their best
 * motif per reason (the lowest id among those offered there). When
 * `only` is non-NULL, just the places whose ids are listed.
 */
static int
managed_places(struct http_req *req, const int64_t *only, size_t nonly,
               struct mplace **out, size_t *n)
{
    struct store_rows *mr = NULL, *r = NULL;
    struct rdv_motif *motifs;
    struct mplace *mp;
    /* A range that ended before yesterday offers nothing any more (a day
       of margin covers every commune's time zone). */
    struct store_val p[] = {STORE_I(gu_now() / 86400 - 1)};
    size_t count = 0;
    int rc;

    *n = 0;
    rc = store_query(req->conn, req->arena,
                     "SELECT " RDV_MOTIF_COLS " FROM rdv_motifs WHERE active "
                     "= 1 AND audience = 0 AND ants_reason <> '' ORDER BY id",
                     NULL, 0, &mr, &req->err);
    if (rc == 0)
        rc = store_query(req->conn, req->arena,
                         "SELECT DISTINCT p.id, p.insee, p.name, p.address, "
                         "p.zip, p.city, p.lat, p.lon, p.phone, g.motifs FROM "
                         "rdv_places p JOIN rdv_counters k ON k.place_id = "
                         "p.id AND k.active = 1 JOIN rdv_ranges g ON "
                         "g.counter_id = k.id AND (g.until_day = 0 OR "
                         "g.until_day >= ?) WHERE p.active = 1 AND NOT "
                         "(p.lat = 0 AND p.lon = 0) ORDER BY p.id",
                         p, 1, &r, &req->err);
    if (rc != 0)
        return rc;
    motifs = gu_arena_zalloc(req->arena,
                             (mr->nrows ? mr->nrows : 1) * sizeof(*motifs));
    mp = gu_arena_zalloc(req->arena, (r->nrows ? r->nrows : 1) * sizeof(*mp));
    if (!motifs || !mp)
        return gu_err_set(&req->err, GU_ENOMEM, NULL, NULL, "hub: oom");
    for (size_t i = 0; i < mr->nrows; i++)
        rdv_motif_row(mr, i, &motifs[i]);

    for (size_t i = 0; i < r->nrows; i++) {
        int64_t id = store_int(r, i, 0);
        const char *insee = store_text(r, i, 1);
        const char *list = store_text(r, i, 9);
        bool wanted = !only;

        for (size_t j = 0; only && j < nonly && !wanted; j++)
            wanted = only[j] == id;
        if (!wanted)
            continue;
        for (size_t j = 0; j < mr->nrows; j++) {
            const struct rdv_motif *m = &motifs[j];
            struct mplace *cur;

            if (strcmp(m->insee, insee) != 0 ||
                (unsigned)m->ants > RDV_ANTS_CNI_PASSPORT ||
                m->ants == RDV_ANTS_NONE || !rdv_motif_listed(list, m->id))
                continue;
            if (count == 0 || mp[count - 1].p.id != id) {
                struct rdv_place *pl = &mp[count].p;

                pl->id = id;
                rdv_insee_copy(pl->insee, insee);
                pl->name = store_text(r, i, 2);
                pl->address = store_text(r, i, 3);
                pl->zip = store_text(r, i, 4);
                pl->city = store_text(r, i, 5);
                pl->lat = store_real(r, i, 6);
                pl->lon = store_real(r, i, 7);
                pl->phone = store_text(r, i, 8);
                pl->active = true;
                count++;
            }
            cur = &mp[count - 1];
            /* motifs are in id order: the first one seen wins */
            if (!cur->has[m->ants]) {
                cur->motif[m->ants] = *m;
                cur->has[m->ants] = true;
            }
        }
    }
    *out = mp;
    *n = count;
    return 0;
}

/* GET /api/ants/getManagedMeetingPoints */
static int
get_meeting_points(struct http_req *req, struct http_resp *resp)
{
    struct mplace *mp = NULL;
    const char *base;
    json_t *arr;
    size_t n = 0;
    int rc;

    if ((rc = hub_auth(req, resp)) != 0)
        return rc;
    if ((rc = managed_places(req, NULL, 0, &mp, &n)) != 0)
        return rc;
    base = public_url(req);
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const struct rdv_place *p = &mp[i].p;
        char id[24];

        snprintf(id, sizeof(id), "%lld", (long long)p->id);
        json_array_append_new(
            arr,
            json_pack(
                "{s:s, s:s, s:f, s:f, s:s, s:s, s:s, s:s?, s:s?}", "id", id,
                "name", p->name, "longitude", p->lon, "latitude", p->lat,
                "public_entry_address", p->address, "zip_code", p->zip,
                "city_name", p->city, "website",
                gu_arena_sprintf(req->arena, "%s/rdv?c=%s", base, p->insee),
                "city_logo",
                gu_arena_sprintf(req->arena, "%s/static/img/favicon.svg",
                                 base)));
    }
    if (!arr)
        return gu_err_set(&req->err, GU_ENOMEM, NULL, NULL, "hub: oom");
    return http_json(resp, 200, arr);
}

/* ------------------------------------------------------------------ */
/* Free slots                                                          */
/* ------------------------------------------------------------------ */

/* The motif answering `reason` at a place, or NULL. */
static const struct rdv_motif *
motif_for(const struct mplace *mp, enum rdv_ants_reason reason)
{
    /* One motif for both titles serves a request for either one; a
       request for both needs that motif (two separate ones cannot be
       booked as one slot). */
    if (reason != RDV_ANTS_CNI_PASSPORT && mp->has[reason])
        return &mp->motif[reason];
    if (mp->has[RDV_ANTS_CNI_PASSPORT])
        return &mp->motif[RDV_ANTS_CNI_PASSPORT];
    return NULL;
}

/* A date argument "AAAA-MM-JJ"; 0, or the 400 problem sent. */
static int
date_arg(struct http_req *req, struct http_resp *resp, const char *name,
         int64_t *day)
{
    const char *s = http_query(req, name);

    if (!s || !*s)
        return http_problem(resp, 400, NULL,
                            gu_arena_sprintf(req->arena,
                                             "Le paramètre « %s » est "
                                             "obligatoire (date AAAA-MM-JJ).",
                                             name));
    if (strlen(s) > 10 || gu_date_parse(s, day) != 0)
        return http_problem(resp, 400, NULL,
                            gu_arena_sprintf(req->arena,
                                             "Le paramètre « %s » n'est pas "
                                             "une date valide (attendu : "
                                             "AAAA-MM-JJ).",
                                             name));
    return 0;
}

/* GET /api/ants/availableTimeSlots */
static int
get_time_slots(struct http_req *req, struct http_resp *resp)
{
    const char *vals[RDV_ANTS_HUB_IDS_MAX];
    int64_t ids[RDV_ANTS_HUB_IDS_MAX];
    struct mplace *mp = NULL;
    enum rdv_ants_reason reason = RDV_ANTS_CNI;
    int64_t start, end, today;
    long people = 1;
    size_t nids = 0, nmp = 0, total = 0;
    const char *s, *base;
    json_t *res;
    int rc;

    if ((rc = hub_auth(req, resp)) != 0)
        return rc;
    if ((rc = repeated(req, resp, "meeting_point_ids", vals,
                       RDV_ANTS_HUB_IDS_MAX, &nids)) != 0)
        return rc;
    for (size_t i = 0; i < nids; i++) {
        long v;

        if (gu_parse_long(vals[i], 1, LONG_MAX, &v) != 0)
            return http_problem(resp, 400, NULL,
                                "Chaque « meeting_point_ids » doit être un "
                                "identifiant de lieu (nombre entier).");
        ids[i] = v;
    }
    if ((rc = date_arg(req, resp, "start_date", &start)) != 0 ||
        (rc = date_arg(req, resp, "end_date", &end)) != 0)
        return rc;
    if (end < start)
        return http_problem(resp, 400, NULL,
                            "La date de fin (« end_date ») précède la date de "
                            "début (« start_date »).");
    if (end - start > HUB_RANGE_MAX_DAYS)
        return http_problem(resp, 400, NULL,
                            "La période demandée est trop longue (un an au "
                            "plus).");
    s = http_query(req, "reason");
    if (s && rdv_ants_reason_parse(s, &reason) != 0)
        reason = RDV_ANTS_NONE;
    if (reason == RDV_ANTS_NONE)
        return http_problem(resp, 400, NULL,
                            "Le paramètre « reason » vaut CNI, PASSPORT ou "
                            "CNI-PASSPORT.");
    s = http_query(req, "documents_number");
    if (s && gu_parse_long(s, 1, RDV_PEOPLE_MAX, &people) != 0)
        return http_problem(resp, 400, NULL,
                            gu_arena_sprintf(req->arena,
                                             "Le paramètre « documents_number "
                                             "» est un nombre de 1 à %d.",
                                             RDV_PEOPLE_MAX));

    /* The hub widens its requests to whole months; we answer at most
       RDV_ANTS_HUB_DAYS_MAX days from today (rdv_slots also keeps each
       motif's own booking window). */
    today = gu_now() / 86400 - 1;
    if (start < today)
        start = today;
    if (end > today + RDV_ANTS_HUB_DAYS_MAX + 1)
        end = today + RDV_ANTS_HUB_DAYS_MAX + 1;

    if ((rc = managed_places(req, ids, nids, &mp, &nmp)) != 0)
        return rc;
    base = public_url(req);
    /* The booking page opens with that many people (and as many
       pré-demande fields) when there are several documents. */
    const char *persons =
        people > 1 ? gu_arena_sprintf(req->arena, "&personnes=%ld", people)
                   : "";
    res = gu_json_arena(req->arena, json_object());
    if (!res || !persons)
        return gu_err_set(&req->err, GU_ENOMEM, NULL, NULL, "hub: oom");
    /* Each place gets its share of the answer, so the last ones asked
       are not crowded out by the first. */
    size_t share = nmp ? HUB_SLOTS_TOTAL / nmp : HUB_SLOTS_PER_PLACE;
    if (share > HUB_SLOTS_PER_PLACE)
        share = HUB_SLOTS_PER_PLACE;
    for (size_t i = 0; i < nmp && total < HUB_SLOTS_TOTAL; i++) {
        const struct rdv_motif *m = motif_for(&mp[i], reason);
        struct rdv_slot *sl = NULL;
        size_t ns = 0;
        char key[24];
        json_t *list = json_array();

        snprintf(key, sizeof(key), "%lld", (long long)mp[i].p.id);
        json_object_set_new(res, key, list);
        if (!m || people > m->max_people || end < start)
            continue;
        size_t room = HUB_SLOTS_TOTAL - total;

        if (room > share)
            room = share;
        struct rdv_slot_query q = {
            .insee = mp[i].p.insee,
            .motif_id = m->id,
            .place_ids = &mp[i].p.id,
            .nplaces = 1,
            .from_day = start,
            .to_day = end,
            .people = (int)people,
            .limit = (int)(room ? room : 1),
            .one_per_time = true,
        };
        struct gu_err serr;

        gu_err_clear(&serr);
        rc = rdv_slots(req->conn, req->arena, &q, &sl, &ns, &serr);
        if (rc != 0) {
            /* One place's trouble must not hide the others' slots. */
            gu_log_warn("rdv.ants.hub", "place=%lld error=%s",
                        (long long)mp[i].p.id, gu_status_name(rc));
            rc = 0;
            continue;
        }
        for (size_t k = 0; k < ns; k++) {
            char when[32], slot[32];
            int y, mo, d;

            hub_time(sl[k].day, sl[k].start_min, when, sizeof(when));
            gu_day_to_ymd(sl[k].day, &y, &mo, &d);
            snprintf(slot, sizeof(slot), "%04d-%02d-%02dT%02d:%02d", y, mo, d,
                     sl[k].start_min / 60, sl[k].start_min % 60);
            json_array_append_new(
                list, json_pack("{s:s, s:s?}", "datetime", when, "callback_url",
                                gu_arena_sprintf(
                                    req->arena,
                                    "%s/rdv?c=%s&motif=%s&lieu=%lld"
                                    "&creneau=%s%s",
                                    base, mp[i].p.insee, m->code,
                                    (long long)mp[i].p.id, slot, persons)));
        }
        total += ns;
    }
    return http_json(resp, 200, json_incref(res));
}

/* ------------------------------------------------------------------ */
/* Bookings of pré-demande numbers                                     */
/* ------------------------------------------------------------------ */

/*
 * The numbers of the application_ids arguments: each argument may hold
 * several, separated as the hub allows (",;:-/. " and spaces); each is
 * 10 of [A-Za-z0-9], upper-cased. 0 with *n set, else the 400 sent.
 */
static int
application_ids(struct http_req *req, struct http_resp *resp, char (*out)[11],
                size_t cap, size_t *n)
{
    const char *vals[RDV_ANTS_HUB_IDS_MAX];
    size_t nv = 0, count = 0;
    int rc;

    if ((rc = repeated(req, resp, "application_ids", vals, RDV_ANTS_HUB_IDS_MAX,
                       &nv)) != 0)
        return rc;
    for (size_t i = 0; i < nv; i++) {
        const char *p = vals[i];

        while (*p) {
            size_t k = 0;

            while (*p && isalnum((unsigned char)*p)) {
                if (k < 10 && count < cap)
                    out[count][k] = (char)toupper((unsigned char)*p);
                k++;
                p++;
            }
            if (k != 10 || (*p && !strchr(",;:-/. \t", *p)))
                return http_problem(resp, 400, NULL,
                                    "Un numéro de pré-demande compte "
                                    "exactement 10 caractères, chiffres et "
                                    "lettres.");
            if (count >= cap)
                return http_problem(resp, 400, NULL,
                                    gu_arena_sprintf(req->arena,
                                                     "Trop de numéros de "
                                                     "pré-demande (%zu au "
                                                     "plus).",
                                                     cap));
            out[count++][10] = '\0';
            while (*p && strchr(",;:-/. \t", *p))
                p++;
        }
    }
    *n = count;
    return 0;
}

/* Does the comma-separated list hold exactly this number? */
static bool
list_has(const char *list, const char *id)
{
    size_t n = strlen(id);

    for (const char *p = list; p && *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - p) == n && strncmp(p, id, n) == 0)
            return true;
        p = e;
    }
    return false;
}

/* The civil "now" of a commune, cached per request by the caller. */
struct cnow {
    char insee[6];
    int64_t day;
    int minute;
};

/* GET /api/ants/searchApplicationIds */
static int
get_application_ids(struct http_req *req, struct http_resp *resp)
{
    char ids[RDV_ANTS_HUB_IDS_MAX][11];
    struct cnow cache[8];
    size_t ncache = 0, n = 0;
    const char *base;
    json_t *res;
    int64_t now = gu_now();
    int rc;

    if ((rc = hub_auth(req, resp)) != 0)
        return rc;
    if ((rc = application_ids(req, resp, ids, RDV_ANTS_HUB_IDS_MAX, &n)) != 0)
        return rc;
    base = public_url(req);
    res = gu_json_arena(req->arena, json_object());
    if (!res)
        return gu_err_set(&req->err, GU_ENOMEM, NULL, NULL, "hub: oom");

    /* The links are minted in one transaction: a failure leaves none. */
    rc = store_begin(req->conn, &req->err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct store_rows *r = NULL;
        struct store_val p[] = {STORE_I(RDV_CONFIRMED),
                                STORE_I(now / 86400 - 1), STORE_T(ids[i])};
        json_t *list = json_object_get(res, ids[i]);

        if (!list) {
            list = json_array();
            json_object_set_new(res, ids[i], list);
        }
        rc = store_query(req->conn, req->arena,
                         "SELECT b.id, b.insee, b.day, b.start_min, "
                         "b.ants_ids, p.name FROM rdv_bookings b JOIN "
                         "rdv_places p ON p.id = b.place_id WHERE b.status = "
                         "? AND b.day >= ? AND b.ants_ids LIKE '%' || ? || "
                         "'%' ORDER BY b.day, b.start_min, b.id LIMIT 10",
                         p, 3, &r, &req->err);
        for (size_t k = 0; rc == 0 && k < r->nrows; k++) {
            const char *insee = store_text(r, k, 1);
            int64_t day = store_int(r, k, 2);
            int start = (int)store_int(r, k, 3);
            struct cnow *cn = NULL;
            char token[RDV_TOKEN_LEN + 1], when[32];
            const char *url;

            if (!list_has(store_text(r, k, 4), ids[i]))
                continue; /* LIKE matched inside another number */
            for (size_t j = 0; j < ncache && !cn; j++) {
                if (strcmp(cache[j].insee, insee) == 0)
                    cn = &cache[j];
            }
            if (!cn) {
                struct rdv_commune_ctx cc;

                rc = rdv_commune_ctx(req->conn, req->arena, insee, &cc,
                                     &req->err);
                if (rc != 0)
                    break;
                cn = &cache[ncache < GU_ARRAY_LEN(cache) ? ncache++
                                                         : ncache - 1];
                rdv_insee_copy(cn->insee, insee);
                gu_tz_from_utc(cc.tz, now, &cn->day, &cn->minute);
            }
            if (day < cn->day || (day == cn->day && start < cn->minute))
                continue; /* already past in the commune */
            rc = rdv_token_new(req->conn, insee, store_int(r, k, 0), 0,
                               "gestion", now + HUB_LINK_TTL_S, token,
                               &req->err);
            if (rc != 0)
                break;
            hub_time(day, start, when, sizeof(when));
            url = gu_arena_sprintf(req->arena, "%s/rdv/r/%s", base, token);
            json_array_append_new(
                list, json_pack("{s:s, s:s, s:s?, s:s?}", "meeting_point",
                                store_text(r, k, 5), "datetime", when,
                                "management_url", url, "cancel_url", url));
        }
    }
    if (rc == 0)
        rc = store_commit(req->conn, &req->err);
    if (rc != 0) {
        store_rollback(req->conn);
        return rc;
    }
    return http_json(resp, 200, json_incref(res));
}

/* ------------------------------------------------------------------ */
/* Routes                                                              */
/* ------------------------------------------------------------------ */

#define S_STR "{\"type\":\"string\"}"
#define S_NUM "{\"type\":\"number\"}"

static const struct http_route routes[] = {
    {"GET", "/api/ants/getManagedMeetingPoints", HTTP_PUBLIC,
     get_meeting_points, "ants",
     "ANTS (moteur national) : lieux de rendez-vous CNI/passeport de "
     "l'instance (en-tête X-HUB-RDV-AUTH-TOKEN)",
     NULL,
     "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
     "\"id\":" S_STR ",\"name\":" S_STR ",\"longitude\":" S_NUM
     ",\"latitude\":" S_NUM ",\"public_entry_address\":" S_STR
     ",\"zip_code\":" S_STR ",\"city_name\":" S_STR ",\"website\":" S_STR
     ",\"city_logo\":" S_STR "}}}"},
    {"GET", "/api/ants/availableTimeSlots", HTTP_PUBLIC, get_time_slots, "ants",
     "ANTS : créneaux libres par lieu (meeting_point_ids répété sans [], "
     "start_date, end_date, reason CNI|PASSPORT|CNI-PASSPORT, "
     "documents_number)",
     NULL,
     "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"properties\":{\"datetime\":" S_STR
     ",\"callback_url\":" S_STR "}}}}"},
    {"GET", "/api/ants/searchApplicationIds", HTTP_PUBLIC, get_application_ids,
     "ants",
     "ANTS : rendez-vous à venir des numéros de pré-demande "
     "(application_ids répété sans [])",
     NULL,
     "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"properties\":{\"meeting_point\":" S_STR
     ",\"datetime\":" S_STR ",\"management_url\":" S_STR
     ",\"cancel_url\":" S_STR "}}}}"},
};

const struct http_routes rdv_ants_routes = {"rdv-ants", routes,
                                            GU_ARRAY_LEN(routes)};
