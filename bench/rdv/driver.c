/*
 * driver.c - the appointment figures, in-process (bench/rdv/run.sh drives
 * it and the HTTP side; figures, never pass/fail).
 *
 *   driver seed DB                 schema, commune 99001, 4 places x 5
 *                                  counters, motif "bench" (15 min),
 *                                  ranges Mon-Fri 8:30-12:00 and
 *                                  13:30-17:30, 5,000 bookings spread
 *                                  over the next 90 days (fixed seed)
 *   driver search DB N             N slot searches over the next 90 days:
 *                                  p50/p99 (first 100 slots, as the page
 *                                  asks; every slot, up to 5,000)
 *   driver slots DB OUT            free (place, start) pairs, one line per
 *                                  free counter, for the wrk Lua script
 *   driver book DB THREADS N       THREADS threads, each with its own
 *                                  store (own connection), book N distinct
 *                                  free slots between them: bookings/s
 *   driver race DB THREADS K       THREADS threads all try the same K
 *                                  slots in the same order: wins, 409s
 *   driver floor DIR THREADS N     the SQL floor: THREADS threads, own
 *                                  sqlite3 connection each (WAL,
 *                                  synchronous=NORMAL, as the store), one
 *                                  INSERT guarded by a UNIQUE constraint
 *                                  per transaction into a bare table
 *   driver check DB                double bookings counted in SQL
 *
 * Every line of output is "key value" so run.sh can build its table.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "app/app.h"
#include "rdv/rdv.h"

#define INSEE "99001"
#define PLACES 4
#define COUNTERS_PER_PLACE 5
#define BOOKINGS 5000
#define DAYS 90

static struct gu_config *cfg;

static void
die(const char *what, const struct gu_err *e)
{
    fprintf(stderr, "driver: %s: %s (%s)\n", what, e ? e->msg : "",
            e ? e->user : "");
    exit(1);
}

static double
now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU seconds of this thread (a busy machine inflates wall time only). */
static double
cpu_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU seconds of the whole process, user + system. */
static double
proc_cpu_s(void)
{
    struct rusage u;

    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static struct store *
open_store(const char *path)
{
    struct store *s = NULL;
    struct gu_err e;
    char url[1024];

    gu_err_clear(&e);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    if (store_open(url, &s, &e) < 0)
        die("store_open", &e);
    return s;
}

static int64_t
today_local(void)
{
    int64_t day;
    int min;

    gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &min);
    return day;
}

/* The motif "bench" and the places, looked up. */
static void
lookup(struct store_conn *c, struct gu_arena *a, struct rdv_motif *m,
       struct rdv_place **pl, size_t *npl)
{
    struct gu_err e;

    gu_err_clear(&e);
    if (rdv_motif_by_code(c, a, INSEE, "bench", m, &e) < 0)
        die("motif", &e);
    if (rdv_place_list(c, a, INSEE, true, pl, npl, &e) < 0)
        die("places", &e);
}

/* ----- seed ----- */

static int
cmd_seed(const char *db)
{
    struct store *s = open_store(db);
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err e;
    int applied = 0;
    int64_t motif = 0, counters[PLACES * COUNTERS_PER_PLACE];
    int64_t place_of[PLACES * COUNTERS_PER_PLACE];
    int64_t today = today_local();
    int done = 0, tries = 0;

    gu_err_clear(&e);
    if (app_migrate(s, &applied, &e) < 0)
        die("migrate", &e);
    if (store_acquire(s, &c, &e) < 0)
        die("acquire", &e);
    struct store_commune cm = {.insee = INSEE,
                               .name = "Saint-Banc-d'Essai",
                               .zone = "B",
                               .hours = "",
                               .address = "",
                               .phone = "",
                               .email = ""};
    if (store_commune_create(c, &cm, &e) < 0)
        die("commune", &e);
    struct rdv_motif m = {.code = "bench",
                          .name = "Démarche de banc d'essai",
                          .duration_min = 15,
                          .max_people = 1,
                          .min_delay_h = 0,
                          .max_delay_d = DAYS,
                          .instructions = "Apportez une pièce d'identité.",
                          .changeable = true,
                          .change_until_h = 24,
                          .active = true};
    memcpy(m.insee, INSEE, 6);
    if (rdv_motif_save(c, &m, &motif, &e) < 0)
        die("motif", &e);
    for (int p = 0; p < PLACES; p++) {
        char name[64];
        int64_t pid = 0;
        snprintf(name, sizeof(name), "Mairie annexe %d", p + 1);
        struct rdv_place pl = {.name = name,
                               .address = "1 rue du Banc",
                               .zip = "99001",
                               .city = "Saint-Banc-d'Essai",
                               .phone = "",
                               .active = true};
        memcpy(pl.insee, INSEE, 6);
        if (rdv_place_save(c, &pl, &pid, &e) < 0)
            die("place", &e);
        for (int k = 0; k < COUNTERS_PER_PLACE; k++) {
            char kn[64];
            int64_t *kid = &counters[p * COUNTERS_PER_PLACE + k];
            place_of[p * COUNTERS_PER_PLACE + k] = pid;
            snprintf(kn, sizeof(kn), "Guichet %d", k + 1);
            struct rdv_counter ct = {.place_id = pid, .name = kn,
                                     .active = true};
            memcpy(ct.insee, INSEE, 6);
            if (rdv_counter_save(c, &ct, kid, &e) < 0)
                die("counter", &e);
            for (int wd = 1; wd <= 5; wd++) {
                struct rdv_range r = {.counter_id = *kid, .weekday = wd,
                                      .start_min = 8 * 60 + 30,
                                      .end_min = 12 * 60, .every_weeks = 1,
                                      .from_day = today - 7, .motifs = ""};
                memcpy(r.insee, INSEE, 6);
                if (rdv_range_save(c, &r, NULL, &e) < 0)
                    die("range", &e);
                r.start_min = 13 * 60 + 30;
                r.end_min = 17 * 60 + 30;
                if (rdv_range_save(c, &r, NULL, &e) < 0)
                    die("range", &e);
            }
        }
    }
    /* 5,000 bookings at random free slots of random counters (an
       agent's booking: any day from tomorrow, fixed seed). */
    srand(42);
    while (done < BOOKINGS && tries < BOOKINGS * 20) {
        int ci = rand() % (PLACES * COUNTERS_PER_PLACE);
        int64_t day = today + 1 + rand() % (DAYS - 1);
        int start = (rand() % 2) ? 8 * 60 + 30 + 15 * (rand() % 14)
                                 : 13 * 60 + 30 + 15 * (rand() % 16);
        char name[64], email[96];
        struct rdv_booked out;

        tries++;
        if (gu_day_weekday(day) > 5 || gu_holiday(day, GU_HOL_METROPOLE))
            continue;
        snprintf(name, sizeof(name), "Usager %d", done);
        snprintf(email, sizeof(email), "usager-%d@exemple.fr", done);
        struct rdv_book_req r = {.insee = INSEE,
                                 .motif_id = motif,
                                 .counter_id = counters[ci],
                                 .day = day,
                                 .start_min = start,
                                 .people = 1,
                                 .name = name,
                                 .email = email,
                                 .phone = "",
                                 .ants_ids = "",
                                 .consent = true,
                                 .channel = RDV_AGENT_DESK,
                                 .actor = "bench",
                                 .agent = true,
                                 .note = "",
                                 .public_url = ""};
        r.place_id = place_of[ci];
        gu_err_clear(&e);
        int rc = rdv_book(c, cfg, &r, &out, &e);
        if (rc == GU_ECONFLICT)
            continue;
        if (rc < 0)
            die("book", &e);
        done++;
    }
    printf("seed_bookings %d\n", done);
    printf("seed_counters %d\n", PLACES * COUNTERS_PER_PLACE);
    printf("motif %" PRId64 "\n", motif);
    store_release(c);
    gu_arena_free(a);
    store_close(s);
    return done == BOOKINGS ? 0 : 1;
}

/* ----- search ----- */

static int
cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return (a > b) - (a < b);
}

static void
percentiles(const char *name, double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    printf("%s_p50_ms %.3f\n", name, v[n / 2] * 1e3);
    printf("%s_p99_ms %.3f\n", name, v[(int)((n - 1) * 0.99)] * 1e3);
    printf("%s_max_ms %.3f\n", name, v[n - 1] * 1e3);
}

static int
cmd_search(const char *db, int n)
{
    struct store *s = open_store(db);
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_motif m;
    struct rdv_place *pl = NULL;
    size_t npl = 0, found = 0;
    struct gu_err e;
    double *t = calloc((size_t)n, sizeof(double));
    double *u = calloc((size_t)n, sizeof(double));
    int64_t today = today_local();

    gu_err_clear(&e);
    if (!t || !u || store_acquire(s, &c, &e) < 0)
        die("acquire", &e);
    lookup(c, a, &m, &pl, &npl);
    static const int limits[] = {100, 1000, RDV_SLOTS_MAX};
    static const char *const tags[] = {"search_first100", "search_first1000",
                                       "search_all"};
    static const char *const cpu_tags[] = {"search_first100_cpu",
                                           "search_first1000_cpu",
                                           "search_all_cpu"};

    for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < n; i++) {
            struct gu_arena *ra = gu_arena_new(0);
            struct rdv_slot *sl = NULL;
            struct rdv_slot_query q = {.insee = INSEE,
                                       .motif_id = m.id,
                                       .from_day = today,
                                       .to_day = today + DAYS - 1,
                                       .people = 1,
                                       .limit = limits[pass],
                                       .one_per_time = true};
            double t0 = now_s(), u0 = cpu_s();
            if (rdv_slots(c, ra, &q, &sl, &found, &e) < 0)
                die("slots", &e);
            t[i] = now_s() - t0;
            u[i] = cpu_s() - u0;
            gu_arena_free(ra);
        }
        printf("%s_slots %zu\n", tags[pass], found);
        percentiles(tags[pass], t, n);
        percentiles(cpu_tags[pass], u, n);
    }
    free(t);
    free(u);
    store_release(c);
    gu_arena_free(a);
    store_close(s);
    return 0;
}

/* Free slots (one per counter) from tomorrow, up to `max`. */
static size_t
free_slots(struct store_conn *c, struct gu_arena *a, const struct rdv_motif *m,
           struct rdv_slot *out, size_t max)
{
    int64_t from = today_local() + 1;
    size_t got = 0;
    struct gu_err e;

    gu_err_clear(&e);
    while (got < max && from < today_local() + DAYS) {
        struct rdv_slot *sl = NULL;
        size_t n = 0;
        struct rdv_slot_query q = {.insee = INSEE,
                                   .motif_id = m->id,
                                   .from_day = from,
                                   .to_day = from + 6,
                                   .people = 1,
                                   .limit = RDV_SLOTS_MAX,
                                   .agent = true};
        if (rdv_slots(c, a, &q, &sl, &n, &e) < 0)
            die("slots", &e);
        for (size_t i = 0; i < n && got < max; i++)
            out[got++] = sl[i];
        from += 7;
    }
    return got;
}

static int
cmd_slots(const char *db, const char *path)
{
    struct store *s = open_store(db);
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_motif m;
    struct rdv_place *pl = NULL;
    size_t npl = 0, n;
    struct gu_err e;
    struct rdv_slot *v = calloc(40000, sizeof(*v));
    FILE *f = fopen(path, "w");

    gu_err_clear(&e);
    if (!v || !f || store_acquire(s, &c, &e) < 0)
        die("slots", &e);
    lookup(c, a, &m, &pl, &npl);
    n = free_slots(c, a, &m, v, 40000);
    for (size_t i = 0; i < n; i++) {
        char iso[40];
        gu_tz_iso(GU_TZ_PARIS, v[i].day, v[i].start_min, iso, sizeof(iso));
        fprintf(f, "%" PRId64 " %s\n", v[i].place_id, iso);
    }
    fclose(f);
    printf("free_slots %zu\n", n);
    free(v);
    store_release(c);
    gu_arena_free(a);
    store_close(s);
    return 0;
}

/* ----- booking under contention ----- */

struct job {
    const char *db;
    const struct rdv_slot *slots;
    size_t n, stride, first;
    int64_t motif;
    atomic_int *go;
    int ok, conflict, other;
};

static void *
book_thread(void *p)
{
    struct job *j = p;
    struct store *s = open_store(j->db); /* own store: own connection */
    struct store_conn *c = NULL;
    struct gu_err e;

    gu_err_clear(&e);
    if (store_acquire(s, &c, &e) < 0)
        die("acquire", &e);
    while (!atomic_load(j->go))
        ;
    for (size_t i = j->first; i < j->n; i += j->stride) {
        char name[64], email[96];
        struct rdv_booked out;
        snprintf(name, sizeof(name), "Banc %zu-%zu", j->first, i);
        snprintf(email, sizeof(email), "banc-%zu-%zu@exemple.fr", j->first,
                 i);
        struct rdv_book_req r = {.insee = INSEE,
                                 .motif_id = j->motif,
                                 .place_id = j->slots[i].place_id,
                                 .counter_id = j->slots[i].counter_id,
                                 .day = j->slots[i].day,
                                 .start_min = j->slots[i].start_min,
                                 .people = 1,
                                 .name = name,
                                 .email = email,
                                 .phone = "",
                                 .ants_ids = "",
                                 .consent = true,
                                 .channel = RDV_WEB,
                                 .actor = "public",
                                 .note = "",
                                 .public_url = ""};
        gu_err_clear(&e);
        int rc = rdv_book(c, cfg, &r, &out, &e);
        if (rc == 0)
            j->ok++;
        else if (rc == GU_ECONFLICT)
            j->conflict++;
        else {
            if (j->other++ == 0)
                fprintf(stderr, "driver: book: %s (%s)\n", e.msg, e.user);
        }
    }
    store_release(c);
    store_close(s);
    return NULL;
}

/* THREADS threads; `same` = all threads try every slot (race). */
static int
contention(const char *db, int threads, size_t n, bool same, const char *tag)
{
    struct store *s = open_store(db);
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_motif m;
    struct rdv_place *pl = NULL;
    size_t npl = 0, have;
    struct gu_err e;
    struct rdv_slot *v = calloc(n, sizeof(*v));
    struct job *jobs = calloc((size_t)threads, sizeof(*jobs));
    pthread_t *tid = calloc((size_t)threads, sizeof(*tid));
    atomic_int go = 0;
    int ok = 0, conflict = 0, other = 0;
    double t0, dt, c0;

    gu_err_clear(&e);
    if (!v || !jobs || !tid || store_acquire(s, &c, &e) < 0)
        die("contention", &e);
    lookup(c, a, &m, &pl, &npl);
    /* Same slots for every racer: the one_per_time view (the first
       counter free), so each slot has exactly one winner. */
    have = free_slots(c, a, &m, v, n);
    store_release(c);
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){.db = db,
                               .slots = v,
                               .n = have,
                               .stride = same ? 1 : (size_t)threads,
                               .first = same ? 0 : (size_t)i,
                               .motif = m.id,
                               .go = &go};
        pthread_create(&tid[i], NULL, book_thread, &jobs[i]);
    }
    t0 = now_s();
    c0 = proc_cpu_s();
    atomic_store(&go, 1);
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        ok += jobs[i].ok;
        conflict += jobs[i].conflict;
        other += jobs[i].other;
    }
    dt = now_s() - t0;
    printf("%s_cpu_ms_per_attempt %.3f\n", tag,
           (proc_cpu_s() - c0) * 1e3 / (ok + conflict ? ok + conflict : 1));
    printf("%s_threads %d\n", tag, threads);
    printf("%s_slots %zu\n", tag, have);
    printf("%s_ok %d\n", tag, ok);
    printf("%s_conflict %d\n", tag, conflict);
    printf("%s_errors %d\n", tag, other);
    printf("%s_seconds %.3f\n", tag, dt);
    printf("%s_per_s %.0f\n", tag, ok / dt);
    printf("%s_attempts_per_s %.0f\n", tag, (ok + conflict) / dt);
    free(v);
    free(jobs);
    free(tid);
    gu_arena_free(a);
    store_close(s);
    return other ? 1 : 0;
}

/* ----- the SQL floor ----- */

struct floor_job {
    const char *path;
    int first, stride, n;
    atomic_int *go;
    int ok, busy;
};

static void *
floor_thread(void *p)
{
    struct floor_job *j = p;
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL, *beg = NULL, *com = NULL, *rb = NULL;

    if (sqlite3_open_v2(j->path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        exit(1);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO floor (counter_id, day, unit)"
                           " VALUES (?, ?, ?)", -1, &ins, NULL);
    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &beg, NULL);
    sqlite3_prepare_v2(db, "COMMIT", -1, &com, NULL);
    sqlite3_prepare_v2(db, "ROLLBACK", -1, &rb, NULL);
    while (!atomic_load(j->go))
        ;
    for (int i = j->first; i < j->n; i += j->stride) {
        int rc = sqlite3_step(beg);
        sqlite3_reset(beg);
        if (rc != SQLITE_DONE) {
            j->busy++;
            continue;
        }
        sqlite3_bind_int(ins, 1, i % 20);
        sqlite3_bind_int(ins, 2, i / 20 / 100);
        sqlite3_bind_int(ins, 3, i / 20 % 100);
        rc = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (rc == SQLITE_DONE) {
            sqlite3_step(com);
            sqlite3_reset(com);
            j->ok++;
        } else {
            sqlite3_step(rb);
            sqlite3_reset(rb);
            j->busy++;
        }
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(beg);
    sqlite3_finalize(com);
    sqlite3_finalize(rb);
    sqlite3_close(db);
    return NULL;
}

static int
cmd_floor(const char *dir, int threads, int n)
{
    char path[1024];
    sqlite3 *db = NULL;
    struct floor_job *jobs = calloc((size_t)threads, sizeof(*jobs));
    pthread_t *tid = calloc((size_t)threads, sizeof(*tid));
    atomic_int go = 0;
    int ok = 0, busy = 0;
    double t0, dt, c0;

    snprintf(path, sizeof(path), "%s/floor.db", dir);
    remove(path);
    if (!jobs || !tid || sqlite3_open(path, &db) != SQLITE_OK)
        exit(1);
    sqlite3_exec(db,
                 "PRAGMA journal_mode = WAL;"
                 "CREATE TABLE floor (counter_id INTEGER NOT NULL,"
                 " day INTEGER NOT NULL, unit INTEGER NOT NULL,"
                 " UNIQUE (counter_id, day, unit));",
                 NULL, NULL, NULL);
    sqlite3_close(db);
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct floor_job){.path = path, .first = i,
                                     .stride = threads, .n = n, .go = &go};
        pthread_create(&tid[i], NULL, floor_thread, &jobs[i]);
    }
    t0 = now_s();
    c0 = proc_cpu_s();
    atomic_store(&go, 1);
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        ok += jobs[i].ok;
        busy += jobs[i].busy;
    }
    dt = now_s() - t0;
    printf("floor_cpu_ms_per_attempt %.3f\n",
           (proc_cpu_s() - c0) * 1e3 / (ok + busy ? ok + busy : 1));
    printf("floor_threads %d\n", threads);
    printf("floor_ok %d\n", ok);
    printf("floor_failed %d\n", busy);
    printf("floor_seconds %.3f\n", dt);
    printf("floor_per_s %.0f\n", ok / dt);
    free(jobs);
    free(tid);
    return 0;
}

/* ----- check ----- */

static int
cmd_check(const char *db)
{
    struct store *s = open_store(db);
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    struct gu_err e;

    gu_err_clear(&e);
    if (store_acquire(s, &c, &e) < 0)
        die("acquire", &e);
    /* Two live bookings overlapping on one counter and lane. */
    if (store_query(c, a,
                    "SELECT COUNT(*) FROM rdv_bookings x JOIN rdv_bookings y"
                    " ON x.counter_id = y.counter_id AND x.day = y.day AND"
                    " x.lane = y.lane AND x.id < y.id AND"
                    " x.start_min < y.end_min AND y.start_min < x.end_min"
                    " WHERE x.status <> 2 AND y.status <> 2",
                    NULL, 0, &r, &e) < 0)
        die("check", &e);
    printf("double_bookings %" PRId64 "\n", store_int(r, 0, 0));
    if (store_query(c, a,
                    "SELECT COUNT(*) FROM rdv_bookings WHERE status <> 2",
                    NULL, 0, &r, &e) < 0)
        die("check", &e);
    printf("bookings %" PRId64 "\n", store_int(r, 0, 0));
    store_release(c);
    gu_arena_free(a);
    store_close(s);
    return 0;
}

int
main(int argc, char **argv)
{
    struct gu_err e;
    long x = 0, y = 0;

    gu_err_clear(&e);
    gu_log_set_level(GU_LOG_ERROR);
    if (gu_crypto_init() < 0 || gu_config_defaults(&cfg, &e) < 0)
        die("init", &e);
    if (argc == 3 && strcmp(argv[1], "seed") == 0)
        return cmd_seed(argv[2]);
    if (argc == 3 && strcmp(argv[1], "check") == 0)
        return cmd_check(argv[2]);
    if (argc == 4 && strcmp(argv[1], "search") == 0 &&
        gu_parse_long(argv[3], 1, 1000000, &x) == 0)
        return cmd_search(argv[2], (int)x);
    if (argc == 4 && strcmp(argv[1], "slots") == 0)
        return cmd_slots(argv[2], argv[3]);
    if (argc == 5 && gu_parse_long(argv[3], 1, 256, &x) == 0 &&
        gu_parse_long(argv[4], 1, 1000000, &y) == 0) {
        if (strcmp(argv[1], "book") == 0)
            return contention(argv[2], (int)x, (size_t)y, false, "book");
        if (strcmp(argv[1], "race") == 0)
            return contention(argv[2], (int)x, (size_t)y, true, "race");
        if (strcmp(argv[1], "floor") == 0)
            return cmd_floor(argv[2], (int)x, (int)y);
    }
    fprintf(stderr, "usage : driver seed|search|slots|book|race|floor|check "
                    "(voir l'en-tête de bench/rdv/driver.c)\n");
    return 2;
}
