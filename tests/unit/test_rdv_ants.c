/*
 * test_rdv_ants.c - the ANTS coordination client against a local stand-in
 * of the API (tests/ants/ants_server.py, started here on 127.0.0.1 with a
 * free port, steered and inspected through its /_control endpoints).
 *
 * The check: off (no connection at all), validated, validated with an
 * appointment elsewhere, each refused status, several numbers at once,
 * and fail-closed on timeout, 500, a malformed body, a missing entry, a
 * wrong token and a closed port. The queue (sqlite::memory:): one row per
 * number inside the caller's transaction (a rollback leaves none), the
 * declarations received by the server with the place's name and id and
 * the local date, idempotent re-queueing, withdrawal of exactly what was
 * declared after a move, retries with backoff, 'failed' only after 48 h,
 * the order declare -> withdraw kept across a failure, a re-send after a
 * crash recorded once, nothing sent while ANTS is off.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"
#include "app/app.h"
#include "rdv/rdv_ants.h"
#include "store_url.h"

#define TOKEN "jeton-de-test-ants"
#define SCRIPT GU_SOURCE_DIR "/tests/ants/ants_server.py"

/* ------------------------------------------------------------------ */
/* The stand-in server                                                 */
/* ------------------------------------------------------------------ */

struct ants_srv {
    pid_t pid;
    int port;
    char state_path[64];
};

static const char initial_state[] =
    "{\"statuses\": {"
    "  \"VALID00001\": \"validated\", \"VALID00002\": \"validated\","
    "  \"VALID00003\": \"validated\", \"VALID00004\": \"validated\","
    "  \"DECLA00001\": \"declared\", \"REJEC00001\": \"rejected\","
    "  \"CONSU00001\": \"consumed\", \"EXPIR00001\": \"expired\","
    "  \"UNKNO00001\": \"unknown\"},"
    " \"appointments\": {\"VALID00002\": [{"
    "  \"management_url\": \"https://ailleurs.example/rdv/42\","
    "  \"meeting_point\": \"Mairie de Lyon 3e\","
    "  \"meeting_point_id\": \"77\","
    "  \"appointment_date\": \"2026-12-03T09:30:00\","
    "  \"editor_comment\": null}]}}";

static struct ants_srv srv;
static bool srv_started, srv_ok;

static void srv_stop_at_exit(void);

static int
srv_start(struct ants_srv *s)
{
    int fd, pfd[2];
    FILE *f;
    char line[64];

    memset(s, 0, sizeof(*s));
    snprintf(s->state_path, sizeof(s->state_path), "/tmp/ants-state-XXXXXX");
    fd = mkstemp(s->state_path);
    if (fd < 0)
        return -1;
    if (write(fd, initial_state, sizeof(initial_state) - 1) !=
        (ssize_t)(sizeof(initial_state) - 1)) {
        close(fd);
        return -1;
    }
    close(fd);
    if (pipe(pfd) != 0)
        return -1;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execl("/usr/bin/python3", "python3", SCRIPT, "--token", TOKEN,
              "--state", s->state_path, "--slow", "3", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    f = fdopen(pfd[0], "r");
    if (!f || !fgets(line, sizeof(line), f) ||
        sscanf(line, "PORT %d", &s->port) != 1) {
        fprintf(stderr, "ants_server.py did not start\n");
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

static void
srv_stop(struct ants_srv *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    unlink(s->state_path);
}

static void
srv_stop_at_exit(void)
{
    srv_stop(&srv);
}

/* Start the server once, on first use (any test may run alone). */
static void
ensure_srv(void)
{
    if (srv_started)
        return;
    srv_started = true;
    gu_crypto_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srv_ok = srv_start(&srv) == 0;
    atexit(srv_stop_at_exit);
}

static size_t
collect(char *p, size_t size, size_t n, void *ud)
{
    gu_buf_append(ud, p, size * n);
    return size * n;
}

/* A control request; the JSON answer (caller decrefs) or NULL. */
static json_t *
ctl(const struct ants_srv *s, const char *method, const char *path)
{
    char url[300];
    struct gu_buf b;
    CURL *h = curl_easy_init();
    json_t *j = NULL;

    ensure_srv();
    gu_buf_init(&b);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    if (curl_easy_perform(h) == CURLE_OK && b.p)
        j = json_loads(b.p, 0, NULL);
    curl_easy_cleanup(h);
    gu_buf_fini(&b);
    return j;
}

/* Requests the server received, from its log. */
static size_t
log_count(const struct ants_srv *s)
{
    json_t *st = ctl(s, "GET", "/_control/state");
    size_t n = json_array_size(json_object_get(st, "log"));

    json_decref(st);
    return n;
}

/* The appointments the server holds for a number (caller decrefs). */
static json_t *
appointments_of(const struct ants_srv *s, const char *id)
{
    json_t *st = ctl(s, "GET", "/_control/state");
    json_t *a = json_object_get(json_object_get(st, "appointments"), id);

    a = a ? json_incref(a) : json_array();
    json_decref(st);
    return a;
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

static struct gu_config *
config(const char *extra)
{
    struct gu_config *cfg = NULL;
    struct gu_err err;
    char ini[600];

    ensure_srv();
    gu_err_clear(&err);
    if (gu_config_defaults(&cfg, &err) != 0)
        return NULL;
    snprintf(ini, sizeof(ini),
             "[ants]\nurl = http://127.0.0.1:%d/api/\ntoken = %s\n"
             "timeout_ms = 1500\n[server]\npublic_url = "
             "https://rdv.saint-exemple.fr\n%s",
             srv.port, TOKEN, extra ? extra : "");
    if (gu_config_parse_string(cfg, ini, &err) != 0) {
        fprintf(stderr, "config: %s %s\n", err.msg, err.user);
        gu_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static struct store *
store_new(int64_t *place_id)
{
    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct store_rows *r = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    struct store_commune m = {.insee = "99001",
                              .name = "Saint-Exemple-sur-Loire",
                              .zone = "B",
                              .hours = "",
                              .address = "",
                              .phone = "",
                              .email = ""};

    gu_err_clear(&err);
    if (store_open(th_store_url(), &st, &err) != 0 ||
        app_migrate(st, NULL, &err) != 0 || store_acquire(st, &c, &err) != 0 ||
        store_commune_create(c, &m, &err) != 0 ||
        store_query(c, a,
                    "INSERT INTO rdv_places (insee, name, address, zip, city, "
                    "created_at) VALUES ('99001', 'Mairie de Saint-Exemple', "
                    "'1 place de la Mairie', '99001', 'Saint-Exemple', 0) "
                    "RETURNING id",
                    NULL, 0, &r, &err) != 0) {
        fprintf(stderr, "store: %s\n", err.msg);
        store_release(c);
        store_close(st);
        gu_arena_free(a);
        return NULL;
    }
    *place_id = store_int(r, 0, 0);
    store_release(c);
    gu_arena_free(a);
    return st;
}

static struct rdv_booking
booking(int64_t id, int64_t place_id, const char *ids)
{
    struct rdv_booking b;

    memset(&b, 0, sizeof(b));
    b.id = id;
    memcpy(b.insee, "99001", 6);
    b.place_id = place_id;
    b.day = gu_day_from_ymd(2026, 12, 3);
    b.start_min = 9 * 60 + 30;
    b.end_min = b.start_min + 20;
    b.people = 1;
    b.ants_ids = ids;
    b.status = RDV_CONFIRMED;
    return b;
}

/* A single value from the queue table (first row, first column). */
static int64_t
q_int(struct store *st, const char *sql)
{
    struct store_conn *c = NULL;
    struct store_rows *r = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    int64_t v = -1;

    gu_err_clear(&err);
    if (store_acquire(st, &c, &err) == 0 &&
        store_query(c, a, sql, NULL, 0, &r, &err) == 0 && r->nrows > 0)
        v = store_int(r, 0, 0);
    store_release(c);
    gu_arena_free(a);
    return v;
}

static void
q_exec(struct store *st, const char *sql)
{
    struct store_conn *c = NULL;
    struct gu_err err;

    gu_err_clear(&err);
    if (store_acquire(st, &c, &err) != 0 || store_exec(c, sql, NULL, 0, &err))
        fprintf(stderr, "exec: %s\n", err.msg);
    store_release(c);
}

static int
queue(struct store *st, const struct rdv_booking *b, const char *op,
      const char *murl)
{
    struct store_conn *c = NULL;
    struct gu_err err;
    int rc;

    gu_err_clear(&err);
    rc = store_acquire(st, &c, &err);
    if (rc == 0)
        rc = rdv_ants_queue(c, b, op, murl, &err);
    if (rc != 0)
        fprintf(stderr, "queue: %s\n", err.msg);
    store_release(c);
    return rc;
}

static int
run(struct store *st, const struct gu_config *cfg)
{
    struct gu_err err;
    int rc;

    gu_err_clear(&err);
    rc = rdv_ants_run(st, cfg, &err);
    if (rc < 0)
        fprintf(stderr, "run: %s\n", err.msg);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The check                                                           */
/* ------------------------------------------------------------------ */

static int
check(const struct gu_config *cfg, struct gu_arena *a, const char *id1,
      const char *id2, enum rdv_ants_state *state, const char **detail,
      struct gu_err *err)
{
    const char *ids[2] = {id1, id2};

    gu_err_clear(err);
    *state = (enum rdv_ants_state) - 1;
    return rdv_ants_check(cfg, a, ids, id2 ? 2 : 1, state, detail, err);
}

static void
test_server_started(void)
{
    ensure_srv();
    CHECK(srv_ok);
    CHECK(srv.port > 0);
}

static void
test_check_off(void)
{
    struct gu_config *cfg = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    enum rdv_ants_state state;
    const char *detail = "x";
    size_t before = log_count(&srv);

    gu_err_clear(&err);
    CHECK_EQ(gu_config_defaults(&cfg, &err), 0);
    CHECK(!rdv_ants_enabled(cfg));
    CHECK_EQ(check(cfg, a, "CONSU00001", NULL, &state, &detail, &err), 0);
    CHECK_EQ(state, RDV_ANTS_OK);
    CHECK(detail == NULL);
    CHECK_EQ(log_count(&srv), before); /* no connection at all */
    gu_config_free(cfg);
    gu_arena_free(a);
}

static void
test_check_validated(void)
{
    struct gu_config *cfg = config(NULL);
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    enum rdv_ants_state state;
    const char *detail = "x";
    json_t *st;

    CHECK(rdv_ants_enabled(cfg));
    CHECK_EQ(check(cfg, a, "VALID00001", NULL, &state, &detail, &err), 0);
    CHECK_EQ(state, RDV_ANTS_OK);
    CHECK(detail == NULL);
    /* The request as documented: the token header, the number repeated. */
    st = ctl(&srv, "GET", "/_control/state");
    json_t *log = json_object_get(st, "log");
    json_t *last = json_array_get(log, json_array_size(log) - 1);
    CHECK_STR(json_string_value(json_object_get(last, "path")), "/api/status");
    CHECK(json_is_true(json_object_get(last, "token_ok")));
    CHECK_STR(
        json_string_value(json_array_get(
            json_object_get(json_object_get(last, "query"), "application_ids"),
            0)),
        "VALID00001");
    json_decref(st);
    gu_config_free(cfg);
    gu_arena_free(a);
}

static void
test_check_elsewhere(void)
{
    struct gu_config *cfg = config(NULL);
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    enum rdv_ants_state state;
    const char *detail = NULL;

    CHECK_EQ(check(cfg, a, "VALID00002", NULL, &state, &detail, &err), 0);
    CHECK_EQ(state, RDV_ANTS_ELSEWHERE);
    CHECK_STR(detail, "Un rendez-vous existe déjà pour ce numéro : Mairie de "
                      "Lyon 3e, le 03/12/2026 à 9 h 30.");
    /* Two numbers, the second one booked elsewhere: it is named. */
    CHECK_EQ(check(cfg, a, "VALID00001", "VALID00002", &state, &detail, &err),
             0);
    CHECK_EQ(state, RDV_ANTS_ELSEWHERE);
    CHECK_CONTAINS(detail, "pour le numéro VALID00002 : Mairie de Lyon 3e");
    gu_config_free(cfg);
    gu_arena_free(a);
}

static void
test_check_refused(void)
{
    static const struct {
        const char *id, *says;
    } cases[] = {
        {"DECLA00001", "n'est pas encore validé par l'ANTS"},
        {"REJEC00001", "a été refusé par l'ANTS"},
        {"CONSU00001", "a déjà servi à déposer un dossier"},
        {"EXPIR00001", "a expiré"},
        {"UNKNO00001", "n'est pas connu de l'ANTS"},
        {"NEVERSEEN1", "n'est pas connu de l'ANTS"}, /* the server's default */
    };
    struct gu_config *cfg = config(NULL);
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    enum rdv_ants_state state;
    const char *detail = NULL;

    for (size_t i = 0; i < GU_ARRAY_LEN(cases); i++) {
        CHECK_EQ(check(cfg, a, cases[i].id, NULL, &state, &detail, &err), 0);
        CHECK_EQ(state, RDV_ANTS_REFUSED);
        CHECK_CONTAINS(detail, cases[i].id);
        CHECK_CONTAINS(detail, cases[i].says);
    }
    /* One validated, one consumed: refused, and the consumed one named,
       even though the other has an appointment elsewhere. */
    CHECK_EQ(check(cfg, a, "VALID00002", "CONSU00001", &state, &detail, &err),
             0);
    CHECK_EQ(state, RDV_ANTS_REFUSED);
    CHECK_CONTAINS(detail, "CONSU00001");
    /* A status turned by the API later is read afresh. */
    json_decref(ctl(&srv, "POST",
                    "/_control/status?application_id=VALID00004&status="
                    "consumed"));
    CHECK_EQ(check(cfg, a, "VALID00004", NULL, &state, &detail, &err), 0);
    CHECK_EQ(state, RDV_ANTS_REFUSED);
    gu_config_free(cfg);
    gu_arena_free(a);
}

/* Every failure is refused with the same French sentence (fail closed). */
static void
expect_unavailable(const struct gu_config *cfg, const char *id)
{
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    enum rdv_ants_state state;
    const char *detail = NULL;

    CHECK_EQ(check(cfg, a, id, NULL, &state, &detail, &err), GU_EBUSY);
    CHECK_STR(err.user,
              "La vérification de votre numéro de pré-demande auprès de "
              "l'ANTS n'a pas abouti ; réessayez dans quelques minutes ou "
              "appelez la mairie.");
    CHECK_STR(err.field, "ants_ids");
    gu_arena_free(a);
}

static void
test_check_fails_closed(void)
{
    struct gu_config *cfg = config("[ants]\ntimeout_ms = 500\n");
    struct gu_config *bad_token = config("[ants]\ntoken = faux\n");
    struct gu_config *closed = NULL;
    struct gu_err err;
    int64_t t0;

    /* The server sleeps 3 s on this number; we give up at 0.5 s. */
    t0 = gu_now_ms();
    expect_unavailable(cfg, "SLOW000000");
    CHECK(gu_now_ms() - t0 < 2500);
    expect_unavailable(cfg, "ERR5000000");
    expect_unavailable(cfg, "BADJSON000");
    expect_unavailable(cfg, "MISSING000");
    expect_unavailable(bad_token, "VALID00001");
    /* Nobody listening (the port of a closed socket of ours). */
    gu_err_clear(&err);
    CHECK_EQ(gu_config_defaults(&closed, &err), 0);
    CHECK_EQ(gu_config_parse_string(closed,
                                    "[ants]\nurl = http://127.0.0.1:1/"
                                    "api\ntimeout_ms = 500\n",
                                    &err),
             0);
    expect_unavailable(closed, "VALID00001");
    gu_config_free(cfg);
    gu_config_free(bad_token);
    gu_config_free(closed);
}

static void
test_check_bad_input(void)
{
    struct gu_config *cfg = config(NULL);
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    enum rdv_ants_state state;
    const char *detail = NULL;
    const char *many[RDV_ANTS_IDS_MAX + 1];
    size_t before = log_count(&srv);

    CHECK_EQ(check(cfg, a, "abc", NULL, &state, &detail, &err), GU_EINVAL);
    CHECK_EQ(check(cfg, a, "VALID00001&x=1", NULL, &state, &detail, &err),
             GU_EINVAL);
    CHECK(err.user[0] != '\0');
    for (size_t i = 0; i < GU_ARRAY_LEN(many); i++)
        many[i] = "VALID00001";
    gu_err_clear(&err);
    CHECK_EQ(
        rdv_ants_check(cfg, a, many, GU_ARRAY_LEN(many), &state, &detail, &err),
        GU_EINVAL);
    CHECK_EQ(log_count(&srv), before); /* refused before any request */
    gu_config_free(cfg);
    gu_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* The queue and the job                                               */
/* ------------------------------------------------------------------ */

static void
test_queue_declare(void)
{
    int64_t place = 0;
    struct store *st = store_new(&place);
    struct gu_config *cfg = config(NULL);
    struct rdv_booking b = booking(101, place, "VALID00001, valid00003");
    struct store_conn *c = NULL;
    struct gu_err err;
    json_t *apps;
    char mp_id[24];

    CHECK(st != NULL);
    if (!st)
        return;
    /* Inside the caller's transaction: a rollback leaves nothing. */
    gu_err_clear(&err);
    CHECK_EQ(store_acquire(st, &c, &err), 0);
    CHECK_EQ(store_begin(c, &err), 0);
    CHECK_EQ(rdv_ants_queue(c, &b, "declare", "https://x/rdv/r/abc", &err), 0);
    store_rollback(c);
    store_release(c);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue"), 0);

    CHECK_EQ(
        queue(st, &b, "declare", "https://rdv.saint-exemple.fr/rdv/r/jeton"),
        0);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue WHERE status = "
                       "'queued' AND op = 'declare'"),
             2);
    /* Queued again (a retried request): still one row per number. */
    CHECK_EQ(
        queue(st, &b, "declare", "https://rdv.saint-exemple.fr/rdv/r/jeton"),
        0);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue"), 2);

    CHECK_EQ(run(st, cfg), 2);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue WHERE status = "
                       "'sent' AND sent_at > 0"),
             2);
    apps = appointments_of(&srv, "VALID00003");
    CHECK_EQ(json_array_size(apps), 1);
    json_t *one = json_array_get(apps, 0);
    snprintf(mp_id, sizeof(mp_id), "%lld", (long long)place);
    CHECK_STR(json_string_value(json_object_get(one, "meeting_point")),
              "Mairie de Saint-Exemple");
    CHECK_STR(json_string_value(json_object_get(one, "meeting_point_id")),
              mp_id);
    CHECK_STR(json_string_value(json_object_get(one, "appointment_date")),
              "2026-12-03T09:30:00");
    CHECK_STR(json_string_value(json_object_get(one, "management_url")),
              "https://rdv.saint-exemple.fr/rdv/r/jeton");
    json_decref(apps);
    apps = appointments_of(&srv, "VALID00001");
    CHECK_EQ(json_array_size(apps), 1);
    json_decref(apps);
    /* Nothing left to do. */
    CHECK_EQ(run(st, cfg), 0);
    gu_config_free(cfg);
    store_close(st);
}

static void
test_queue_move_and_cancel(void)
{
    int64_t place = 0;
    struct store *st = store_new(&place);
    struct gu_config *cfg = config(NULL);
    struct rdv_booking b = booking(202, place, "VALID00004");
    json_t *apps, *state, *log;
    size_t n0;

    CHECK(st != NULL);
    if (!st)
        return;
    json_decref(ctl(&srv, "POST",
                    "/_control/status?application_id=VALID00004&status="
                    "validated"));
    /* Withdrawing what was never declared queues nothing. */
    CHECK_EQ(queue(st, &b, "withdraw", ""), 0);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue"), 0);

    CHECK_EQ(queue(st, &b, "declare", "https://r/1"), 0);
    CHECK_EQ(run(st, cfg), 1);
    /* Moved to the next day at 14 h: the booking already says so when the
       withdrawal is queued; what was declared is withdrawn. */
    b.day += 1;
    b.start_min = 14 * 60;
    CHECK_EQ(queue(st, &b, "withdraw", "https://r/1"), 0);
    CHECK_EQ(queue(st, &b, "declare", "https://r/1"), 0);
    n0 = log_count(&srv);
    CHECK_EQ(run(st, cfg), 1); /* the withdrawal first, alone */
    CHECK_EQ(run(st, cfg), 1); /* then the new declaration */
    apps = appointments_of(&srv, "VALID00004");
    CHECK_EQ(json_array_size(apps), 1);
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(apps, 0), "appointment_date")),
              "2026-12-04T14:00:00");
    json_decref(apps);
    state = ctl(&srv, "GET", "/_control/state");
    log = json_object_get(state, "log");
    CHECK_EQ(json_array_size(log), n0 + 2);
    CHECK_STR(
        json_string_value(json_object_get(json_array_get(log, n0), "method")),
        "DELETE");
    CHECK_STR(
        json_string_value(json_array_get(
            json_object_get(json_object_get(json_array_get(log, n0), "query"),
                            "appointment_date"),
            0)),
        "2026-12-03T09:30:00");
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(log, n0 + 1), "method")),
              "POST");
    json_decref(state);
    /* Cancelled: withdrawn, and a second cancel queues nothing more. */
    CHECK_EQ(queue(st, &b, "withdraw", ""), 0);
    CHECK_EQ(queue(st, &b, "withdraw", ""), 0);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue WHERE status = "
                       "'queued'"),
             1);
    CHECK_EQ(run(st, cfg), 1);
    apps = appointments_of(&srv, "VALID00004");
    CHECK_EQ(json_array_size(apps), 0);
    json_decref(apps);
    gu_config_free(cfg);
    store_close(st);
}

static void
test_queue_retries(void)
{
    int64_t place = 0;
    struct store *st = store_new(&place);
    struct gu_config *cfg = config(NULL);
    struct rdv_booking b = booking(303, place, "VALID00003");
    int64_t now, next;
    json_t *apps;

    CHECK(st != NULL);
    if (!st)
        return;
    b.start_min = 11 * 60;
    /* Declared then withdrawn before anything went out, and the first
       two sends fail: the withdrawal waits for the declaration. */
    CHECK_EQ(queue(st, &b, "declare", "https://r/303"), 0);
    CHECK_EQ(queue(st, &b, "withdraw", ""), 0);
    json_decref(ctl(&srv, "POST", "/_control/fail?count=2"));
    now = gu_now();
    CHECK_EQ(run(st, cfg), 0);
    CHECK_EQ(q_int(st, "SELECT attempts FROM rdv_ants_queue WHERE op = "
                       "'declare' AND booking_id = 303"),
             1);
    CHECK_EQ(q_int(st, "SELECT attempts FROM rdv_ants_queue WHERE op = "
                       "'withdraw' AND booking_id = 303"),
             0);
    next = q_int(st, "SELECT next_try_at FROM rdv_ants_queue WHERE op = "
                     "'declare' AND booking_id = 303");
    CHECK(next >= now + 30 && next <= gu_now() + 30);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue WHERE "
                       "last_error = 'HTTP 503'"),
             1);
    /* Not due yet: nothing is sent. */
    CHECK_EQ(run(st, cfg), 0);
    CHECK_EQ(q_int(st, "SELECT attempts FROM rdv_ants_queue WHERE op = "
                       "'declare' AND booking_id = 303"),
             1);
    /* Due again, fails again: the delay doubles. */
    q_exec(st, "UPDATE rdv_ants_queue SET next_try_at = 0");
    now = gu_now();
    CHECK_EQ(run(st, cfg), 0);
    next = q_int(st, "SELECT next_try_at FROM rdv_ants_queue WHERE op = "
                     "'declare' AND booking_id = 303");
    CHECK(next >= now + 60 && next <= gu_now() + 60);
    /* Then it goes through, and the withdrawal after it. */
    q_exec(st, "UPDATE rdv_ants_queue SET next_try_at = 0");
    CHECK_EQ(run(st, cfg), 1);
    CHECK_EQ(run(st, cfg), 1);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue WHERE status = "
                       "'sent'"),
             2);
    apps = appointments_of(&srv, "VALID00003");
    /* VALID00003 also got booking 101's declaration in another test. */
    for (size_t i = 0; i < json_array_size(apps); i++)
        CHECK(strcmp(json_string_value(json_object_get(json_array_get(apps, i),
                                                       "management_url")),
                     "https://r/303") != 0);
    json_decref(apps);

    /* After 48 h of attempts a row is given up ('failed'), once. */
    b.id = 304;
    CHECK_EQ(queue(st, &b, "declare", "https://r/304"), 0);
    q_exec(st, "UPDATE rdv_ants_queue SET created_at = created_at - 49 * "
               "3600 WHERE booking_id = 304");
    json_decref(ctl(&srv, "POST", "/_control/fail?count=1"));
    CHECK_EQ(run(st, cfg), 0);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue WHERE "
                       "booking_id = 304 AND status = 'failed'"),
             1);
    /* The backoff stops growing at one hour. */
    b.id = 305;
    CHECK_EQ(queue(st, &b, "declare", "https://r/305"), 0);
    q_exec(st, "UPDATE rdv_ants_queue SET attempts = 20 WHERE booking_id = "
               "305");
    json_decref(ctl(&srv, "POST", "/_control/fail?count=1"));
    now = gu_now();
    CHECK_EQ(run(st, cfg), 0);
    next = q_int(st, "SELECT next_try_at FROM rdv_ants_queue WHERE "
                     "booking_id = 305");
    CHECK(next >= now + 3600 && next <= gu_now() + 3600);
    gu_config_free(cfg);
    store_close(st);
}

static void
test_queue_crash_resend(void)
{
    int64_t place = 0;
    struct store *st = store_new(&place);
    struct gu_config *cfg = config(NULL);
    struct rdv_booking b = booking(404, place, "VALID00001");
    json_t *apps;
    size_t before;

    CHECK(st != NULL);
    if (!st)
        return;
    CHECK_EQ(queue(st, &b, "declare", "https://r/404"), 0);
    CHECK_EQ(run(st, cfg), 1);
    /* A crash after the send, before the outcome was recorded: the row is
       as the claim left it, queued with its lease. */
    {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "UPDATE rdv_ants_queue SET status = 'queued', sent_at = 0, "
                 "next_try_at = %lld",
                 (long long)gu_now() + 120);
        q_exec(st, sql);
    }
    CHECK_EQ(run(st, cfg), 0); /* the lease holds it back */
    q_exec(st, "UPDATE rdv_ants_queue SET next_try_at = 0");
    before = log_count(&srv);
    CHECK_EQ(run(st, cfg), 1); /* sent again */
    CHECK_EQ(log_count(&srv), before + 1);
    apps = appointments_of(&srv, "VALID00001");
    size_t found = 0;
    for (size_t i = 0; i < json_array_size(apps); i++)
        found += strcmp(json_string_value(json_object_get(
                            json_array_get(apps, i), "management_url")),
                        "https://r/404") == 0;
    CHECK_EQ(found, 1); /* recorded once by the API */
    json_decref(apps);
    gu_config_free(cfg);
    store_close(st);
}

static void
test_queue_off(void)
{
    int64_t place = 0;
    struct store *st = store_new(&place);
    struct gu_config *off = NULL;
    struct gu_err err;
    struct rdv_booking b = booking(505, place, "VALID00001");
    size_t before = log_count(&srv);

    CHECK(st != NULL);
    if (!st)
        return;
    gu_err_clear(&err);
    CHECK_EQ(gu_config_defaults(&off, &err), 0);
    CHECK_EQ(queue(st, &b, "declare", "https://r/505"), 0);
    CHECK_EQ(run(st, off), 0);
    CHECK_EQ(log_count(&srv), before);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue WHERE status = "
                       "'queued'"),
             1);
    /* Retention: rows older than rdv.retention_days are deleted. */
    q_exec(st, "UPDATE rdv_ants_queue SET created_at = created_at - 731 * "
               "86400");
    CHECK_EQ(run(st, off), 0);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue"), 0);
    /* A bad operation is a bug of the caller. */
    struct store_conn *c = NULL;
    CHECK_EQ(store_acquire(st, &c, &err), 0);
    CHECK_EQ(rdv_ants_queue(c, &b, "annuler", "", &err), GU_EINTERNAL);
    store_release(c);
    gu_config_free(off);
    store_close(st);
}

/* ------------------------------------------------------------------ */
/* Through the booking itself (rdv_book, rdv_cancel)                   */
/* ------------------------------------------------------------------ */

/* A CNI motif at the raw place of store_new(), open every day 9-12 h. */
static int
model(struct store *st, int64_t place, int64_t *motif_id)
{
    struct store_conn *c = NULL;
    struct gu_err err;
    struct rdv_counter k = {
        .insee = "99001", .place_id = place, .name = "Station", .active = true};
    struct rdv_motif m = {.insee = "99001",
                          .code = "cni",
                          .name = "CNI",
                          .duration_min = 20,
                          .per_person = true,
                          .max_people = 3,
                          .max_delay_d = 60,
                          .instructions = "",
                          .changeable = true,
                          .change_until_h = 0,
                          .ants = RDV_ANTS_CNI,
                          .active = true};
    int64_t kid = 0, gid = 0, day;
    int minute, rc;

    gu_err_clear(&err);
    gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &minute);
    if ((rc = store_acquire(st, &c, &err)) < 0 ||
        (rc = rdv_counter_save(c, &k, &kid, &err)) < 0 ||
        (rc = rdv_motif_save(c, &m, motif_id, &err)) < 0)
        goto out;
    for (int wd = 1; wd <= 7; wd++) {
        struct rdv_range g = {.insee = "99001",
                              .counter_id = kid,
                              .weekday = wd,
                              .start_min = 540,
                              .end_min = 720,
                              .every_weeks = 1,
                              .from_day = day - 7,
                              .motifs = ""};

        if ((rc = rdv_range_save(c, &g, &gid, &err)) < 0)
            goto out;
    }
out:
    if (rc < 0)
        fprintf(stderr, "model: %s %s\n", err.msg, err.user);
    store_release(c);
    return rc;
}

static int
book(struct store *st, const struct gu_config *cfg, int64_t motif,
     int64_t place, const char *ids, struct rdv_booked *out, struct gu_err *err)
{
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_slot *sl = NULL;
    size_t n = 0;
    int64_t day;
    int minute, rc;

    gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &minute);
    struct rdv_slot_query q = {.insee = "99001",
                               .motif_id = motif,
                               .from_day = day + 3,
                               .to_day = day + 20,
                               .people = 1,
                               .limit = 1,
                               .one_per_time = true};
    gu_err_clear(err);
    rc = store_acquire(st, &c, err);
    if (rc == 0)
        rc = rdv_slots(c, a, &q, &sl, &n, err);
    if (rc == 0 && n == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL, NULL, "no slot");
    if (rc == 0) {
        struct rdv_book_req r = {.insee = "99001",
                                 .motif_id = motif,
                                 .place_id = place,
                                 .day = sl[0].day,
                                 .start_min = sl[0].start_min,
                                 .people = 1,
                                 .name = "Camille Martin",
                                 .email = "camille@example.org",
                                 .phone = "",
                                 .ants_ids = ids,
                                 .consent = true,
                                 .channel = RDV_WEB,
                                 .actor = "public",
                                 .note = "",
                                 .public_url = "https://rdv.saint-exemple.fr"};

        rc = rdv_book(c, cfg, &r, out, err);
    }
    store_release(c);
    gu_arena_free(a);
    return rc;
}

static void
test_book_declares_and_cancel_withdraws(void)
{
    int64_t place = 0, motif = 0;
    struct store *st = store_new(&place);
    struct gu_config *cfg = config(NULL);
    struct gu_config *slow = config("[ants]\ntimeout_ms = 300\n");
    struct rdv_booked bk;
    struct gu_err err;
    json_t *apps;
    int64_t before;

    CHECK(st != NULL);
    if (!st || model(st, place, &motif) < 0) {
        TH_FAIL("fixture");
        return;
    }
    json_decref(ctl(&srv, "POST",
                    "/_control/status?application_id=VALID00004&status="
                    "validated"));
    CHECK_EQ(book(st, cfg, motif, place, "valid00004", &bk, &err), 0);
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_ants_queue WHERE op = "
                       "'declare' AND application_id = 'VALID00004'"),
             1);
    CHECK_EQ(run(st, cfg), 1);
    apps = appointments_of(&srv, "VALID00004");
    CHECK_EQ(json_array_size(apps), 1);
    CHECK_CONTAINS(json_string_value(json_object_get(json_array_get(apps, 0),
                                                     "management_url")),
                   bk.token);
    json_decref(apps);

    /* Cancelled: the withdrawal reaches the API. */
    struct store_conn *c = NULL;
    gu_err_clear(&err);
    CHECK_EQ(store_acquire(st, &c, &err), 0);
    CHECK_EQ(rdv_cancel(c, cfg, "99001", bk.id, true, "agent", &err), 0);
    store_release(c);
    CHECK_EQ(run(st, cfg), 1);
    apps = appointments_of(&srv, "VALID00004");
    CHECK_EQ(json_array_size(apps), 0);
    json_decref(apps);

    /* Refused numbers and an API that does not answer: no booking. */
    before = q_int(st, "SELECT COUNT(*) FROM rdv_bookings");
    CHECK_EQ(book(st, cfg, motif, place, "CONSU00001", &bk, &err), GU_EINVAL);
    CHECK_STR(err.field, "ants_ids");
    CHECK_CONTAINS(err.user, "a déjà servi");
    CHECK_EQ(book(st, slow, motif, place, "SLOW000000", &bk, &err), GU_EBUSY);
    CHECK_CONTAINS(err.user, "ANTS");
    CHECK_EQ(q_int(st, "SELECT COUNT(*) FROM rdv_bookings"), before);
    gu_config_free(cfg);
    gu_config_free(slow);
    store_close(st);
}

TESTS(T(test_server_started), T(test_check_off), T(test_check_validated),
      T(test_check_elsewhere), T(test_check_refused),
      T(test_check_fails_closed), T(test_check_bad_input),
      T(test_queue_declare), T(test_queue_move_and_cancel),
      T(test_queue_retries), T(test_queue_crash_resend), T(test_queue_off),
      T(test_book_declares_and_cancel_withdraws))
