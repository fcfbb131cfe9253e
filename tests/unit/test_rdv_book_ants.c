/*
 * test_rdv_book_ants.c - a booking's ANTS check, through rdv_book(),
 * against the local stand-in of the coordination API
 * (tests/ants/ants_server.py): a number booked elsewhere is a conflict on
 * field "ants_override" naming the other place, and goes through with
 * the override (its declaration queued); a refused number is a French
 * error on "ants_ids"; agents are not checked; an API that does not
 * answer refuses the booking (fail closed) and writes nothing.
 */
#include "harness.h"

#include "rdv_fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOKEN "jeton-de-test-ants"
#define SCRIPT GU_SOURCE_DIR "/tests/ants/ants_server.py"

static const char state_json[] =
    "{\"statuses\": {\"VALID00001\": \"validated\","
    " \"VALID00002\": \"validated\", \"REJEC00001\": \"rejected\"},"
    " \"appointments\": {\"VALID00002\": [{"
    "  \"management_url\": \"https://ailleurs.example/rdv/42\","
    "  \"meeting_point\": \"Mairie de Lyon 3e\","
    "  \"meeting_point_id\": \"77\","
    "  \"appointment_date\": \"2026-12-03T09:30:00\","
    "  \"editor_comment\": null}]}}";

static pid_t srv_pid;
static int srv_port;
static char srv_state[64];

static void
srv_stop(void)
{
    if (srv_pid > 0) {
        kill(srv_pid, SIGKILL);
        waitpid(srv_pid, NULL, 0);
        srv_pid = 0;
    }
    if (srv_state[0])
        unlink(srv_state);
}

static int
srv_start(void)
{
    int fd, pfd[2];
    FILE *f;
    char line[64];

    snprintf(srv_state, sizeof(srv_state), "/tmp/ants-book-XXXXXX");
    fd = mkstemp(srv_state);
    if (fd < 0)
        return -1;
    if (write(fd, state_json, sizeof(state_json) - 1) !=
        (ssize_t)(sizeof(state_json) - 1)) {
        close(fd);
        return -1;
    }
    close(fd);
    if (pipe(pfd) != 0)
        return -1;
    srv_pid = fork();
    if (srv_pid < 0)
        return -1;
    if (srv_pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execl("/usr/bin/python3", "python3", SCRIPT, "--token", TOKEN,
              "--state", srv_state, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    atexit(srv_stop);
    f = fdopen(pfd[0], "r");
    if (!f || !fgets(line, sizeof(line), f) ||
        sscanf(line, "PORT %d", &srv_port) != 1) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

static int64_t
future_monday(void)
{
    int64_t d = gu_now() / 86400 + 8;

    while (gu_day_weekday(d) != 1 || gu_holiday(d, GU_HOL_METROPOLE))
        d++;
    return d;
}

static int64_t
count(struct rfix *f, const char *sql)
{
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a, sql, NULL, 0, &r, &err) < 0)
        return -1;
    return store_int(r, 0, 0);
}

static int
use_ants(struct rfix *f, int port)
{
    char ini[300];
    struct gu_err err;

    snprintf(ini, sizeof(ini),
             "[ants]\nurl = http://127.0.0.1:%d/api/\ntoken = %s\n"
             "timeout_ms = 1500\n",
             port, TOKEN);
    return gu_config_parse_string(f->own_cfg, ini, &err);
}

static void
test_book_ants_check(void)
{
    struct rfix f;
    struct rdv_booked out;
    struct gu_err err;
    int64_t day = future_monday();

    if (srv_start() < 0 || rfix_open(&f) < 0 || rfix_setup(&f) < 0 ||
        use_ants(&f, srv_port) < 0) {
        CHECK(0);
        return;
    }
    struct rdv_book_req r;
    memset(&r, 0, sizeof(r));
    r.insee = "99001";
    r.motif_id = f.motif_pp;
    r.place_id = f.place;
    r.day = day;
    r.start_min = 540;
    r.people = 1;
    r.name = "Camille Martin";
    r.email = "camille@exemple.fr";
    r.consent = true;
    r.channel = RDV_WEB;
    r.actor = "public";

    /* booked elsewhere: a conflict the resident may override */
    r.ants_ids = "valid00002";
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_ECONFLICT);
    CHECK_STR(err.field, "ants_override");
    CHECK_CONTAINS(err.user, "Mairie de Lyon 3e");
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM rdv_bookings"), 0);
    r.ants_override = true;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM rdv_ants_queue WHERE op = "
                       "'declare' AND application_id = 'VALID00002' AND "
                       "management_url LIKE '%/rdv/r/%'"),
             1);
    /* refused */
    r.ants_override = false;
    r.ants_ids = "REJEC00001";
    r.start_min = 600;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EINVAL);
    CHECK_STR(err.field, "ants_ids");
    CHECK_CONTAINS(err.user, "REJEC00001");
    /* an agent on the phone is not checked */
    r.agent = true;
    r.channel = RDV_PHONE;
    r.actor = "agent1";
    r.ants_ids = "VALID00002";
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), 0);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM rdv_bookings"), 2);
    /* the API is gone: refused, nothing written (fail closed) */
    srv_stop();
    r.agent = false;
    r.channel = RDV_WEB;
    r.actor = "public";
    r.ants_ids = "VALID00001";
    r.start_min = 660;
    CHECK_EQ(rdv_book(f.c, f.cfg, &r, &out, &err), GU_EBUSY);
    CHECK_STR(err.field, "ants_ids");
    CHECK_CONTAINS(err.user, "ANTS");
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM rdv_bookings"), 2);
    CHECK_EQ(count(&f, "SELECT COUNT(*) FROM notify_outbox WHERE kind = "
                       "'rdv.confirm'"),
             2);
    rfix_close(&f);
}

TESTS(T(test_book_ants_check))
