/*
 * test_ants_hub.c - the endpoints the ANTS national search engine calls
 * (/api/ants/...), over HTTP against the real server in-process
 * (tests/http/http_support.h), with places, counters, motifs and ranges
 * of two communes saved through the rdv model.
 *
 * Authentication (missing, wrong, right token; closed when the setting
 * is empty), the managed meeting points (fields, coordinates required, an
 * ANTS motif required, every commune), the free slots (parameters
 * repeated without [], the motif chosen by reason, documents_number as
 * people, the same slots rdv_slots gives, callback_url deep links, clear
 * French 400s for every bad input), and the bookings of pré-demande
 * numbers (future confirmed ones only, exact number, a management link
 * whose token is stored scoped to the booking).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "http/http_support.h"
#include "rdv/rdv_ants.h"

#define HUB_TOKEN "jeton-du-moteur-national-de-test"
#define AUTH "X-HUB-RDV-AUTH-TOKEN: " HUB_TOKEN

static struct hs_server srv;
static bool srv_ok;

/* The fixture's ids. */
static int64_t p_mairie, p_annexe, p_nocoord, p_autre;
static int64_t m_cni, m_pass, m_both, m_civil, m_cni2;

/* ------------------------------------------------------------------ */
/* Fixture                                                             */
/* ------------------------------------------------------------------ */

static int64_t
today_local(void)
{
    int64_t day;
    int minute;

    gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &minute);
    return day;
}

static int
place(struct store_conn *c, const char *insee, const char *name, double lat,
      double lon, int64_t *id, struct gu_err *err)
{
    struct rdv_place p = {.name = name,
                          .address = "1 place de la Mairie",
                          .zip = insee,
                          .city = "Saint-Exemple",
                          .lat = lat,
                          .lon = lon,
                          .phone = "",
                          .active = true};

    memcpy(p.insee, insee, 6);
    return rdv_place_save(c, &p, id, err);
}

static int
motif(struct store_conn *c, const char *insee, const char *code,
      enum rdv_ants_reason ants, int duration, int64_t *id, struct gu_err *err)
{
    struct rdv_motif m = {.code = code,
                          .name = code,
                          .duration_min = duration,
                          .per_person = true,
                          .max_people = 3,
                          .min_delay_h = 0,
                          .max_delay_d = 60,
                          .instructions = "",
                          .audience = RDV_PUBLIC,
                          .changeable = true,
                          .change_until_h = 24,
                          .ants = ants,
                          .active = true};

    memcpy(m.insee, insee, 6);
    return rdv_motif_save(c, &m, id, err);
}

/* A counter at the place, open weekdays 1..last from start to end. */
static int
counter(struct store_conn *c, const char *insee, int64_t place_id,
        int last_weekday, int start, int end, const char *motifs,
        struct gu_err *err)
{
    struct rdv_counter k = {
        .place_id = place_id, .name = "Guichet", .active = true};
    int64_t kid = 0, gid = 0;
    int rc;

    memcpy(k.insee, insee, 6);
    if ((rc = rdv_counter_save(c, &k, &kid, err)) < 0)
        return rc;
    for (int wd = 1; wd <= last_weekday; wd++) {
        struct rdv_range g = {.counter_id = kid,
                              .weekday = wd,
                              .start_min = start,
                              .end_min = end,
                              .every_weeks = 1,
                              .from_day = today_local() - 7,
                              .until_day = 0,
                              .motifs = motifs};

        memcpy(g.insee, insee, 6);
        if ((rc = rdv_range_save(c, &g, &gid, err)) < 0)
            return rc;
    }
    return 0;
}

static int
fixture(void)
{
    struct store_conn *c = NULL;
    struct gu_err err;
    char only_civil[32];
    int rc;

    gu_err_clear(&err);
    if ((rc = store_acquire(srv.store, &c, &err)) < 0)
        goto out;
    if ((rc = motif(c, "99001", "cni", RDV_ANTS_CNI, 20, &m_cni, &err)) < 0 ||
        (rc = motif(c, "99001", "passeport", RDV_ANTS_PASSPORT, 20, &m_pass,
                    &err)) < 0 ||
        (rc = motif(c, "99001", "cni-passeport", RDV_ANTS_CNI_PASSPORT, 30,
                    &m_both, &err)) < 0 ||
        (rc = motif(c, "99001", "etat-civil", RDV_ANTS_NONE, 15, &m_civil,
                    &err)) < 0 ||
        (rc = motif(c, "99002", "cni", RDV_ANTS_CNI, 15, &m_cni2, &err)) < 0)
        goto out;
    snprintf(only_civil, sizeof(only_civil), "%lld", (long long)m_civil);
    if ((rc = place(c, "99001", "Mairie de Saint-Exemple", 47.39, 0.68,
                    &p_mairie, &err)) < 0 ||
        (rc = place(c, "99001", "Mairie annexe", 47.40, 0.69, &p_annexe,
                    &err)) < 0 ||
        (rc = place(c, "99001", "Salle sans coordonnées", 0, 0, &p_nocoord,
                    &err)) < 0 ||
        (rc = place(c, "99002", "Mairie d'Autre-Exemple", 45.1, 5.2, &p_autre,
                    &err)) < 0)
        goto out;
    /* Every day, so that the test does not depend on today's weekday. */
    if ((rc = counter(c, "99001", p_mairie, 7, 9 * 60, 12 * 60, "", &err)) <
            0 ||
        (rc = counter(c, "99001", p_annexe, 7, 14 * 60, 17 * 60, only_civil,
                      &err)) < 0 ||
        (rc = counter(c, "99001", p_nocoord, 7, 9 * 60, 12 * 60, "", &err)) <
            0 ||
        (rc = counter(c, "99002", p_autre, 7, 8 * 60, 18 * 60, "", &err)) < 0)
        goto out;
out:
    if (rc < 0)
        fprintf(stderr, "fixture: %s (%s)\n", err.msg, err.user);
    store_release(c);
    return rc < 0 ? -1 : 0;
}

static void
ensure(void)
{
    static bool started;
    static const char *const ov[] = {
        "ants.hub_token=" HUB_TOKEN,
        "server.public_url=https://rdv.saint-exemple.fr/", NULL};

    if (started)
        return;
    started = true;
    srv_ok = hs_server_start(&srv, ov) == 0 && fixture() == 0;
}

/* GET path with the hub's token (or `headers`); JSON body or NULL. */
static json_t *
get(const char *path, const char *headers, int *status)
{
    struct hs_resp r;
    json_t *j = NULL;

    ensure();
    *status = 0;
    if (hs_request(srv.port, "GET", path, headers, NULL, 0, &r) != 0)
        return NULL;
    *status = r.status;
    j = hs_json(&r);
    hs_resp_fini(&r);
    return j;
}

static char *fmt(const char *f, ...) GU_PRINTF(1, 2);

/* A path built with printf (static buffer, one at a time). */
static char *
fmt(const char *f, ...)
{
    static char buf[8192];
    va_list ap;

    va_start(ap, f);
    vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return buf;
}

/* A 400 with a French detail containing `says`, as problem+json. */
static void
expect_400(const char *path, const char *says)
{
    struct hs_resp r;
    char ct[128];
    json_t *j;

    ensure();
    if (hs_request(srv.port, "GET", path, AUTH, NULL, 0, &r) != 0) {
        TH_FAIL("no answer to %s", path);
        return;
    }
    CHECK_EQ(r.status, 400);
    CHECK_CONTAINS(hs_header(&r, "Content-Type", 0, ct, sizeof(ct)),
                   "application/problem+json");
    j = hs_json(&r);
    CHECK_CONTAINS(json_string_value(json_object_get(j, "detail")), says);
    if (r.status != 400)
        fprintf(stderr, "  for %s\n", path);
    json_decref(j);
    hs_resp_fini(&r);
}

static void
date_iso(int64_t day, char *buf)
{
    gu_day_iso(day, buf, 11);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
test_started(void)
{
    ensure();
    CHECK(srv_ok);
}

static void
test_auth(void)
{
    static const char *const paths[] = {
        "/api/ants/getManagedMeetingPoints",
        "/api/ants/availableTimeSlots?meeting_point_ids=1&start_date="
        "2026-12-01&end_date=2026-12-31&reason=CNI&documents_number=1",
        "/api/ants/searchApplicationIds?application_ids=ABCDE12345",
    };
    struct hs_server off;
    int st;

    for (size_t i = 0; i < GU_ARRAY_LEN(paths); i++) {
        json_t *j = get(paths[i], NULL, &st);

        CHECK_EQ(st, 401);
        CHECK_CONTAINS(json_string_value(json_object_get(j, "detail")),
                       "X-HUB-RDV-AUTH-TOKEN absent ou invalide");
        json_decref(j);
        j = get(paths[i], "X-HUB-RDV-AUTH-TOKEN: " HUB_TOKEN "x", &st);
        CHECK_EQ(st, 401);
        json_decref(j);
        j = get(paths[i], "X-HUB-RDV-AUTH-TOKEN: jeton", &st);
        CHECK_EQ(st, 401);
        json_decref(j);
        /* The header name is case-insensitive, the hub sends it lower. */
        j = get(paths[i], "x-hub-rdv-auth-token: " HUB_TOKEN, &st);
        CHECK_EQ(st, 200);
        json_decref(j);
    }
    /* Closed while ants.hub_token is empty, even with an empty header. */
    if (hs_server_start(&off, NULL) == 0) {
        struct hs_resp r;

        CHECK_EQ(hs_request(off.port, "GET",
                            "/api/ants/getManagedMeetingPoints",
                            "X-HUB-RDV-AUTH-TOKEN: ", NULL, 0, &r),
                 0);
        CHECK_EQ(r.status, 401);
        CHECK_CONTAINS(r.body, "pas activés");
        hs_resp_fini(&r);
        hs_server_stop(&off);
    } else {
        TH_FAIL("second server did not start");
    }
    /* A token but no public address: our links would lead nowhere. */
    static const char *const nopub[] = {"ants.hub_token=" HUB_TOKEN, NULL};
    if (hs_server_start(&off, nopub) == 0) {
        struct hs_resp r;

        CHECK_EQ(hs_request(off.port, "GET",
                            "/api/ants/getManagedMeetingPoints", AUTH, NULL, 0,
                            &r),
                 0);
        CHECK_EQ(r.status, 503);
        CHECK_CONTAINS(r.body, "server.public_url");
        hs_resp_fini(&r);
        hs_server_stop(&off);
    } else {
        TH_FAIL("third server did not start");
    }
}

static void
test_meeting_points(void)
{
    int st;
    json_t *j = get("/api/ants/getManagedMeetingPoints", AUTH, &st);
    char id[24];
    bool mairie = false, autre = false;

    CHECK_EQ(st, 200);
    CHECK(json_is_array(j));
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *p = json_array_get(j, i);
        const char *pid = json_string_value(json_object_get(p, "id"));

        CHECK(pid != NULL);
        if (!pid)
            continue;
        snprintf(id, sizeof(id), "%lld", (long long)p_mairie);
        if (strcmp(pid, id) == 0) {
            mairie = true;
            CHECK_STR(json_string_value(json_object_get(p, "name")),
                      "Mairie de Saint-Exemple");
            CHECK(json_real_value(json_object_get(p, "latitude")) > 47.38);
            CHECK(json_real_value(json_object_get(p, "longitude")) < 0.69);
            CHECK_STR(
                json_string_value(json_object_get(p, "public_entry_address")),
                "1 place de la Mairie");
            CHECK_STR(json_string_value(json_object_get(p, "zip_code")),
                      "99001");
            CHECK_STR(json_string_value(json_object_get(p, "city_name")),
                      "Saint-Exemple");
            CHECK_STR(json_string_value(json_object_get(p, "website")),
                      "https://rdv.saint-exemple.fr/rdv?c=99001");
            CHECK(json_is_string(json_object_get(p, "city_logo")));
        }
        snprintf(id, sizeof(id), "%lld", (long long)p_autre);
        autre |= strcmp(pid, id) == 0;
        /* No ANTS motif there; no coordinates there. */
        snprintf(id, sizeof(id), "%lld", (long long)p_annexe);
        CHECK(strcmp(pid, id) != 0);
        snprintf(id, sizeof(id), "%lld", (long long)p_nocoord);
        CHECK(strcmp(pid, id) != 0);
    }
    CHECK(mairie);
    CHECK(autre); /* every commune of the instance */
    CHECK_EQ(json_array_size(j), 2);
    json_decref(j);
}

/* The slots rdv_slots gives for a motif at a place (what residents see). */
static size_t
direct_slots(const char *insee, int64_t motif_id, int64_t place_id, int people,
             int64_t from, int64_t to, struct gu_arena *a,
             struct rdv_slot **out)
{
    struct store_conn *c = NULL;
    struct gu_err err;
    size_t n = 0;
    struct rdv_slot_query q = {.insee = insee,
                               .motif_id = motif_id,
                               .place_ids = &place_id,
                               .nplaces = 1,
                               .from_day = from,
                               .to_day = to,
                               .people = people,
                               .limit = RDV_SLOTS_MAX,
                               .one_per_time = true};

    gu_err_clear(&err);
    *out = NULL;
    if (store_acquire(srv.store, &c, &err) != 0 ||
        rdv_slots(c, a, &q, out, &n, &err) != 0)
        fprintf(stderr, "rdv_slots: %s\n", err.msg);
    store_release(c);
    return n;
}

/* The answer for one place matches rdv_slots for `motif_id`. */
static void
same_slots(json_t *res, int64_t place_id, const char *insee, int64_t motif_id,
           const char *code, int people, int64_t from, int64_t to)
{
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_slot *sl = NULL;
    size_t n =
        direct_slots(insee, motif_id, place_id, people, from, to, a, &sl);
    char key[24], per[24] = "";
    json_t *list;

    /* Several documents: the page opens with that many people. */
    if (people > 1)
        snprintf(per, sizeof(per), "&personnes=%d", people);
    snprintf(key, sizeof(key), "%lld", (long long)place_id);
    list = json_object_get(res, key);
    CHECK(json_is_array(list));
    CHECK(n > 0);
    CHECK_EQ(json_array_size(list), n);
    for (size_t i = 0; i < n && i < json_array_size(list); i++) {
        json_t *s = json_array_get(list, i);
        int y, mo, d;
        char when[32], url[300];

        gu_day_to_ymd(sl[i].day, &y, &mo, &d);
        snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02dZ", y, mo, d,
                 sl[i].start_min / 60, sl[i].start_min % 60);
        snprintf(url, sizeof(url),
                 "https://rdv.saint-exemple.fr/rdv?c=%s&motif=%s&lieu=%lld&"
                 "creneau=%04d-%02d-%02dT%02d:%02d%s",
                 insee, code, (long long)place_id, y, mo, d,
                 sl[i].start_min / 60, sl[i].start_min % 60, per);
        CHECK_STR(json_string_value(json_object_get(s, "datetime")), when);
        CHECK_STR(json_string_value(json_object_get(s, "callback_url")), url);
    }
    gu_arena_free(a);
}

static void
test_time_slots(void)
{
    int64_t today = today_local();
    char from[11], to[11];
    int st;
    json_t *j;

    date_iso(today, from);
    date_iso(today + 20, to);
    /* Two places (one per commune), an unmanaged one, an unknown one;
       the parameter repeated without []. */
    j = get(fmt("/api/ants/availableTimeSlots?meeting_point_ids=%lld&"
                "meeting_point_ids=%lld&meeting_point_ids=%lld&"
                "meeting_point_ids=999999&start_date=%s&end_date=%s&"
                "reason=CNI&documents_number=1",
                (long long)p_mairie, (long long)p_autre, (long long)p_annexe,
                from, to),
            AUTH, &st);
    CHECK_EQ(st, 200);
    CHECK(json_is_object(j));
    same_slots(j, p_mairie, "99001", m_cni, "cni", 1, today, today + 20);
    same_slots(j, p_autre, "99002", m_cni2, "cni", 1, today, today + 20);
    CHECK_EQ(json_object_size(j), 2); /* unmanaged and unknown: absent */
    json_decref(j);

    /* documents_number = people (per-person motif: longer slots);
       PASSPORT and CNI-PASSPORT pick their own motifs. */
    j = get(fmt("/api/ants/availableTimeSlots?meeting_point_ids=%lld&"
                "start_date=%s&end_date=%s&reason=PASSPORT&"
                "documents_number=2",
                (long long)p_mairie, from, to),
            AUTH, &st);
    CHECK_EQ(st, 200);
    same_slots(j, p_mairie, "99001", m_pass, "passeport", 2, today, today + 20);
    json_decref(j);
    j = get(fmt("/api/ants/availableTimeSlots?meeting_point_ids=%lld&"
                "start_date=%s&end_date=%s&reason=CNI-PASSPORT",
                (long long)p_mairie, from, to),
            AUTH, &st);
    CHECK_EQ(st, 200);
    same_slots(j, p_mairie, "99001", m_both, "cni-passeport", 1, today,
               today + 20);
    json_decref(j);
    /* In 99002 only a CNI motif exists: nothing for a passport. */
    j = get(fmt("/api/ants/availableTimeSlots?meeting_point_ids=%lld&"
                "start_date=%s&end_date=%s&reason=PASSPORT",
                (long long)p_autre, from, to),
            AUTH, &st);
    CHECK_EQ(st, 200);
    CHECK_EQ(
        json_array_size(json_object_get(j, fmt("%lld", (long long)p_autre))),
        0);
    json_decref(j);
    /* More documents than the motif takes: no slot, no error. */
    j = get(fmt("/api/ants/availableTimeSlots?meeting_point_ids=%lld&"
                "start_date=%s&end_date=%s&reason=CNI&documents_number=4",
                (long long)p_mairie, from, to),
            AUTH, &st);
    CHECK_EQ(st, 200);
    CHECK_EQ(
        json_array_size(json_object_get(j, fmt("%lld", (long long)p_mairie))),
        0);
    json_decref(j);
    /* The hub widens to whole months: a wide window is answered, capped
       at RDV_ANTS_HUB_DAYS_MAX days from today. */
    date_iso(today - 40, from);
    date_iso(today + 200, to);
    j = get(fmt("/api/ants/availableTimeSlots?meeting_point_ids=%lld&"
                "start_date=%s&end_date=%s&reason=CNI",
                (long long)p_mairie, from, to),
            AUTH, &st);
    CHECK_EQ(st, 200);
    same_slots(j, p_mairie, "99001", m_cni, "cni", 1, today,
               today + RDV_ANTS_HUB_DAYS_MAX);
    json_decref(j);
}

static void
test_time_slots_bad_input(void)
{
    const char *base = "/api/ants/availableTimeSlots?";
    char many[4096];
    size_t o = 0;

    expect_400(
        fmt("%sstart_date=2026-12-01&end_date=2026-12-31&reason=CNI", base),
        "« meeting_point_ids » est obligatoire");
    /* With brackets the parameter is another one: refused the same. */
    expect_400(fmt("%smeeting_point_ids[]=1&start_date=2026-12-01&end_date="
                   "2026-12-31",
                   base),
               "« meeting_point_ids » est obligatoire");
    expect_400(fmt("%smeeting_point_ids=abc&start_date=2026-12-01&end_date="
                   "2026-12-31",
                   base),
               "identifiant de lieu");
    expect_400(fmt("%smeeting_point_ids=1&end_date=2026-12-31", base),
               "« start_date » est obligatoire");
    expect_400(fmt("%smeeting_point_ids=1&start_date=2026-13-01&end_date="
                   "2026-12-31",
                   base),
               "« start_date » n'est pas une date valide");
    expect_400(fmt("%smeeting_point_ids=1&start_date=2026-12-01&end_date="
                   "2026-02-30",
                   base),
               "« end_date » n'est pas une date valide");
    expect_400(fmt("%smeeting_point_ids=1&start_date=2026-12-10&end_date="
                   "2026-12-01",
                   base),
               "précède");
    expect_400(fmt("%smeeting_point_ids=1&start_date=2026-01-01&end_date="
                   "2027-06-01",
                   base),
               "trop longue");
    expect_400(fmt("%smeeting_point_ids=1&start_date=2026-12-01&end_date="
                   "2026-12-31&reason=PERMIS",
                   base),
               "CNI, PASSPORT ou CNI-PASSPORT");
    expect_400(fmt("%smeeting_point_ids=1&start_date=2026-12-01&end_date="
                   "2026-12-31&documents_number=0",
                   base),
               "« documents_number »");
    expect_400(fmt("%smeeting_point_ids=1&start_date=2026-12-01&end_date="
                   "2026-12-31&documents_number=11",
                   base),
               "« documents_number »");
    o = (size_t)snprintf(many, sizeof(many), "%s", base);
    for (int i = 0; i <= RDV_ANTS_HUB_IDS_MAX; i++)
        o += (size_t)snprintf(many + o, sizeof(many) - o,
                              "meeting_point_ids=%d&", i + 1);
    snprintf(many + o, sizeof(many) - o,
             "start_date=2026-12-01&end_date=2026-12-31");
    expect_400(many, "Trop de valeurs pour « meeting_point_ids »");
    /* The server keeps serving. */
    CHECK(hs_healthy(srv.port));
}

/* A booking row written as rdv_book would (bookings are rdv core's). */
static int64_t
booking(int64_t day, int start, const char *ids, enum rdv_status status)
{
    struct store_conn *c = NULL;
    struct store_rows *r = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    int64_t id = 0, counter;
    struct store_val p[] = {STORE_I(m_cni),    STORE_I(p_mairie),
                            STORE_I(p_mairie), STORE_I(day),
                            STORE_I(start),    STORE_I(start + 20),
                            STORE_T(ids),      STORE_I(status),
                            STORE_I(gu_now()), STORE_I(gu_now())};

    gu_err_clear(&err);
    if (store_acquire(srv.store, &c, &err) == 0 &&
        store_query(c, a, "SELECT id FROM rdv_counters WHERE place_id = ?",
                    &p[1], 1, &r, &err) == 0 &&
        r->nrows > 0) {
        counter = store_int(r, 0, 0);
        p[2] = STORE_I(counter);
        if (store_query(c, a,
                        "INSERT INTO rdv_bookings (insee, motif_id, place_id, "
                        "counter_id, day, start_min, end_min, name, email, "
                        "ants_ids, status, created_at, updated_at) VALUES "
                        "('99001', ?, ?, ?, ?, ?, ?, 'Camille Test', "
                        "'camille@example.org', ?, ?, ?, ?) RETURNING id",
                        p, GU_ARRAY_LEN(p), &r, &err) == 0)
            id = store_int(r, 0, 0);
    }
    if (!id)
        fprintf(stderr, "booking: %s\n", err.msg);
    store_release(c);
    gu_arena_free(a);
    return id;
}

static void
test_application_ids(void)
{
    int64_t today = today_local();
    int64_t future = booking(today + 10, 9 * 60 + 40, "ABCDE12345,QQQQQ11111",
                             RDV_CONFIRMED);
    int64_t past = booking(today - 3, 9 * 60, "ABCDE12345", RDV_CONFIRMED);
    int64_t cancelled =
        booking(today + 11, 10 * 60, "ABCDE12345", RDV_CANCELLED);
    int64_t other = booking(today + 12, 10 * 60, "XABCDE1234", RDV_CONFIRMED);
    char when[32];
    int y, mo, d, st;
    json_t *j, *list, *one;
    const char *url;

    CHECK(future && past && cancelled && other);
    gu_day_to_ymd(today + 10, &y, &mo, &d);
    snprintf(when, sizeof(when), "%04d-%02d-%02dT09:40Z", y, mo, d);
    /* Repeated, lower case accepted, two numbers in one value. */
    j = get("/api/ants/searchApplicationIds?application_ids=abcde12345&"
            "application_ids=ZZZZZ99999,YYYYY88888",
            AUTH, &st);
    CHECK_EQ(st, 200);
    list = json_object_get(j, "ABCDE12345");
    CHECK_EQ(json_array_size(list), 1); /* not the past, not the cancelled */
    one = json_array_get(list, 0);
    CHECK_STR(json_string_value(json_object_get(one, "meeting_point")),
              "Mairie de Saint-Exemple");
    CHECK_STR(json_string_value(json_object_get(one, "datetime")), when);
    url = json_string_value(json_object_get(one, "management_url"));
    CHECK_CONTAINS(url, "https://rdv.saint-exemple.fr/rdv/r/");
    CHECK_STR(json_string_value(json_object_get(one, "cancel_url")), url);
    /* The link's token is stored, hashed, scoped to that booking. */
    if (url && strlen(url) > 35) {
        const char *tok = strrchr(url, '/') + 1;
        char h[65];
        struct store_conn *c = NULL;
        struct store_rows *r = NULL;
        struct gu_arena *a = gu_arena_new(0);
        struct gu_err err;

        CHECK_EQ(strlen(tok), RDV_TOKEN_LEN);
        gu_token_hash(tok, h);
        struct store_val p[] = {STORE_T(h)}; /* after: STORE_T reads h */
        gu_err_clear(&err);
        CHECK_EQ(store_acquire(srv.store, &c, &err), 0);
        CHECK_EQ(store_query(c, a,
                             "SELECT booking_id, kind, expires_at FROM "
                             "rdv_tokens WHERE hash = ?",
                             p, 1, &r, &err),
                 0);
        CHECK_EQ(r ? r->nrows : 0, 1);
        if (r && r->nrows == 1) {
            CHECK_EQ(store_int(r, 0, 0), future);
            CHECK_STR(store_text(r, 0, 1), "gestion");
            CHECK(store_int(r, 0, 2) > gu_now());
        }
        store_release(c);
        gu_arena_free(a);
    }
    CHECK_EQ(json_array_size(json_object_get(j, "ZZZZZ99999")), 0);
    CHECK(json_is_array(json_object_get(j, "YYYYY88888")));
    json_decref(j);
    /* "ABCDE1234" is inside XABCDE1234 but is not that number. */
    j = get("/api/ants/searchApplicationIds?application_ids=XABCDE1234", AUTH,
            &st);
    CHECK_EQ(json_array_size(json_object_get(j, "XABCDE1234")), 1);
    json_decref(j);

    expect_400("/api/ants/searchApplicationIds",
               "« application_ids » est obligatoire");
    expect_400("/api/ants/searchApplicationIds?application_ids=ABC",
               "exactement 10 caractères");
    expect_400("/api/ants/searchApplicationIds?application_ids=ABCDE12345%26",
               "exactement 10 caractères");
    expect_400("/api/ants/searchApplicationIds?application_ids=ABCDE123456",
               "exactement 10 caractères");
}

static void
test_openapi(void)
{
    int st;
    json_t *j = get("/api/v1/openapi.json", NULL, &st);
    json_t *paths = json_object_get(j, "paths");

    CHECK_EQ(st, 200);
    CHECK(json_object_get(paths, "/api/ants/getManagedMeetingPoints"));
    CHECK(json_object_get(paths, "/api/ants/availableTimeSlots"));
    CHECK(json_object_get(paths, "/api/ants/searchApplicationIds"));
    json_decref(j);
}

static void
test_stop(void)
{
    if (srv_ok)
        hs_server_stop(&srv);
    srv_ok = false;
}

TESTS(T(test_started), T(test_auth), T(test_meeting_points), T(test_time_slots),
      T(test_time_slots_bad_input), T(test_application_ids), T(test_openapi),
      T(test_stop))
