/*
 * test_rdv_notify.c - what residents receive about their appointments.
 *
 * iCalendar: the VCALENDAR frame, the commune's VTIMEZONE (Paris with its
 * rules, fixed offsets overseas), UID on the public host, local
 * DTSTART/DTEND with TZID, escaping of \ ; , and newlines, folding at 75
 * octets without cutting a UTF-8 sequence, CRLF everywhere. E-mails:
 * subjects and French texts of each kind, links (absolute and relative),
 * the .ics attached, tokens minted when none is given. Reminders with a
 * fixed clock: the two-day and one-day windows, the four-day one for a
 * high risk only, nothing for a past, cancelled or just-made booking,
 * exactly once even when two threads run the job at the same instant.
 * SMS through a command (a shell script that writes its arguments): sent,
 * arguments never interpreted by a shell, retries and failure after five
 * attempts, nothing sent without a gateway.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "app/app.h"
#include "rdv/rdv.h"
#include "store_url.h"

/* ------------------------------------------------------------------ */
/* Fixture: sqlite::memory:, the demo commune, one place, counter, motif */
/* ------------------------------------------------------------------ */

struct fx {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg;
    int64_t place, counter, motif;
    char dir[64]; /* scratch directory for SMS scripts */
};

static int
fx_exec(struct fx *f, const char *sql, const struct store_val *p, size_t n,
        int64_t *id)
{
    struct gu_err err;
    struct store_rows *r = NULL;
    gu_err_clear(&err);
    int rc = store_query(f->c, f->a, sql, p, n, id ? &r : NULL, &err);
    if (rc < 0) {
        fprintf(stderr, "fixture sql: %s\n", err.msg);
        return rc;
    }
    if (id) {
        *id = store_int(r, 0, 0);
    }
    return 0;
}

static int
fx_init(struct fx *f, const char *zone, const char *settings)
{
    struct gu_err err;
    int applied = 0;
    memset(f, 0, sizeof *f);
    gu_err_clear(&err);
    gu_log_set_level(GU_LOG_ERROR); /* the SMS failures below warn */
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, &applied, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->cfg, &err) < 0 ||
        gu_config_parse_string(f->cfg, settings ? settings : "", &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->a = gu_arena_new(0);
    struct store_commune m = {.insee = "99001",
                              .name = "Saint-Exemple-sur-Loire",
                              .zone = zone};
    if (!f->a || store_commune_create(f->c, &m, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    snprintf(f->dir, sizeof f->dir, "/tmp/gu-rdv-notify.XXXXXX");
    if (!mkdtemp(f->dir)) {
        return -1;
    }
    if (fx_exec(f,
                "INSERT INTO rdv_places (insee, name, address, zip, city,"
                " created_at) VALUES ('99001', 'Mairie de Saint-Exemple',"
                " '1 place de la Mairie', '99001', 'Saint-Exemple-sur-Loire',"
                " 0) RETURNING id",
                NULL, 0, &f->place) < 0 ||
        fx_exec(f,
                "INSERT INTO rdv_counters (insee, place_id, name, created_at)"
                " VALUES ('99001', ?, 'Guichet 1', 0) RETURNING id",
                (struct store_val[]){STORE_I(f->place)}, 1, &f->counter) < 0 ||
        fx_exec(f,
                "INSERT INTO rdv_motifs (insee, code, name, duration_min,"
                " max_people, instructions, changeable, change_until_h,"
                " created_at) VALUES ('99001', 'cni',"
                " 'Carte d''identité (dépôt)', 30, 4,"
                " 'Apportez une photo d''identité récente.', 1, 24, 0)"
                " RETURNING id",
                NULL, 0, &f->motif) < 0) {
        return -1;
    }
    return 0;
}

static void
fx_fini(struct fx *f)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (f->dir[0] && system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", f->dir);
    }
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
    gu_config_free(f->cfg);
}

/* A stored booking; fills *b as rdv_get would (joined names included). */
static int64_t
fx_booking(struct fx *f, struct rdv_booking *b, int64_t day, int start_min,
           const char *email, const char *phone, int status,
           int64_t created_at, double risk)
{
    memset(b, 0, sizeof *b);
    memcpy(b->insee, "99001", 6);
    b->motif_id = f->motif;
    b->place_id = f->place;
    b->counter_id = f->counter;
    b->day = day;
    b->start_min = start_min;
    b->end_min = start_min + 30;
    b->people = 2;
    b->name = "Marie Dupont";
    b->email = email;
    b->phone = phone;
    b->ants_ids = "";
    b->status = (enum rdv_status)status;
    b->created_by = "public";
    b->created_at = created_at;
    b->risk = risk;
    b->note = "";
    b->motif_name = "Carte d'identité (dépôt)";
    b->place_name = "Mairie de Saint-Exemple";
    b->counter_name = "Guichet 1";
    if (fx_exec(f,
                "INSERT INTO rdv_bookings (insee, motif_id, place_id,"
                " counter_id, day, start_min, end_min, people, name, email,"
                " phone, status, created_at, updated_at, risk)"
                " VALUES ('99001', ?, ?, ?, ?, ?, ?, 2, 'Marie Dupont', ?, ?,"
                " ?, ?, ?, ?) RETURNING id",
                (struct store_val[]){STORE_I(f->motif), STORE_I(f->place),
                                     STORE_I(f->counter), STORE_I(day),
                                     STORE_I(start_min),
                                     STORE_I(start_min + 30), STORE_T(email),
                                     STORE_T(phone), STORE_I(status),
                                     STORE_I(created_at), STORE_I(created_at),
                                     STORE_D(risk)},
                12, &b->id) < 0) {
        return -1;
    }
    return b->id;
}

static int64_t
fx_count(struct fx *f, const char *sql, const struct store_val *p, size_t n)
{
    struct gu_err err;
    struct store_rows *r = NULL;
    gu_err_clear(&err);
    if (store_query(f->c, f->a, sql, p, n, &r, &err) < 0) {
        fprintf(stderr, "count: %s\n", err.msg);
        return -1;
    }
    return store_int(r, 0, 0);
}

/* The last queued e-mail's column `col` (subject, body, attach_data...). */
static const char *
last_mail(struct fx *f, const char *col)
{
    struct gu_err err;
    struct store_rows *r = NULL;
    char sql[160];
    gu_err_clear(&err);
    snprintf(sql, sizeof sql,
             "SELECT %s FROM notify_outbox ORDER BY id DESC LIMIT 1", col);
    if (store_query(f->c, f->a, sql, NULL, 0, &r, &err) < 0 || !r->nrows) {
        return NULL;
    }
    return store_text(r, 0, 0);
}

/* ------------------------------------------------------------------ */
/* iCalendar                                                           */
/* ------------------------------------------------------------------ */

/* Every line ends with CRLF, is at most 75 octets, and no folded line
   starts inside a UTF-8 sequence. Returns the number of bad lines. */
static int
bad_lines(const char *ics)
{
    int bad = 0;
    const char *p = ics;
    while (*p) {
        const char *e = strstr(p, "\r\n");
        if (!e) {
            return bad + 1; /* no CRLF at the end */
        }
        size_t n = (size_t)(e - p);
        if (n > 75 || memchr(p, '\n', n) || memchr(p, '\r', n)) {
            bad++;
        }
        if (p[0] == ' ' && ((unsigned char)p[1] & 0xC0) == 0x80) {
            bad++;
        }
        p = e + 2;
    }
    return bad;
}

/* Unfold (remove CRLF + space) into a fresh malloc'd string. */
static char *
unfold(const char *ics)
{
    size_t n = strlen(ics);
    char *o = malloc(n + 1), *q = o;
    for (size_t i = 0; i < n; i++) {
        if (ics[i] == '\r' && ics[i + 1] == '\n' && ics[i + 2] == ' ') {
            i += 2;
            continue;
        }
        *q++ = ics[i];
    }
    *q = '\0';
    return o;
}

static void
test_ics_paris(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", NULL), 0);
    struct rdv_booking b;
    int64_t day = gu_day_from_ymd(2026, 12, 3);
    fx_booking(&f, &b, day, 9 * 60 + 30, "marie@exemple.fr", "",
               RDV_CONFIRMED, 0, -1);
    b.id = 42;
    struct rdv_ics_opts o = {.host = "mairie.example.fr",
                             .dtstamp = 1796163095}; /* 2026-12-01T...Z */
    char *ics = rdv_ics_ext(f.a, "B", &b, 1, false, NULL, &o);
    CHECK(ics != NULL);
    CHECK(strncmp(ics, "BEGIN:VCALENDAR\r\n", 17) == 0);
    CHECK_CONTAINS(ics, "\r\nPRODID:-//Guichet//Rendez-vous//FR\r\n");
    CHECK_CONTAINS(ics, "\r\nVERSION:2.0\r\n");
    CHECK_CONTAINS(ics, "\r\nMETHOD:PUBLISH\r\n");
    CHECK_CONTAINS(ics, "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n");
    CHECK_CONTAINS(ics, "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n");
    CHECK_CONTAINS(ics, "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n");
    CHECK_CONTAINS(ics, "\r\nUID:rdv-42@mairie.example.fr\r\n");
    char stamp[32];
    gu_time_iso(1796163095, stamp, sizeof stamp); /* 2026-12-01T04:51:35Z */
    char want[64];
    snprintf(want, sizeof want, "DTSTAMP:%.4s%.2s%.2sT%.2s%.2s%.2sZ\r\n",
             stamp, stamp + 5, stamp + 8, stamp + 11, stamp + 14, stamp + 17);
    CHECK_CONTAINS(ics, want);
    CHECK_CONTAINS(ics, "\r\nDTSTART;TZID=Europe/Paris:20261203T093000\r\n");
    CHECK_CONTAINS(ics, "\r\nDTEND;TZID=Europe/Paris:20261203T100000\r\n");
    CHECK_CONTAINS(ics,
                   "\r\nSUMMARY:Rendez-vous : Carte d'identité (dépôt)\r\n");
    CHECK_CONTAINS(ics, "\r\nLOCATION:Mairie de Saint-Exemple\r\n");
    CHECK_CONTAINS(ics, "\r\nSTATUS:CONFIRMED\r\n");
    CHECK_CONTAINS(ics, "\r\nSEQUENCE:0\r\n");
    CHECK(strstr(ics, "Marie Dupont") == NULL); /* with_people false */
    CHECK(strlen(ics) > 17 &&
          strcmp(ics + strlen(ics) - 15, "END:VCALENDAR\r\n") == 0);
    CHECK_EQ(bad_lines(ics), 0);

    /* No host: guichet.local; cancelled: STATUS and SEQUENCE change. */
    b.status = RDV_CANCELLED;
    ics = rdv_ics(f.a, "99001", "B", &b, 1, true, "Guichet 1");
    CHECK_CONTAINS(ics, "\r\nUID:rdv-42@guichet.local\r\n");
    CHECK_CONTAINS(ics, "\r\nSTATUS:CANCELLED\r\n");
    CHECK_CONTAINS(ics, "\r\nSEQUENCE:1\r\n");
    CHECK_CONTAINS(ics, "\r\nX-WR-CALNAME:Guichet 1\r\n");
    CHECK_CONTAINS(ics, "SUMMARY:Rendez-vous : Carte d'identité (dépôt) — "
                        "Marie Dupont\r\n");
    CHECK_EQ(bad_lines(ics), 0);

    /* A booking ending at midnight ends on the next day. */
    b.start_min = 23 * 60 + 30;
    b.end_min = 24 * 60;
    ics = rdv_ics(f.a, "99001", "B", &b, 1, false, NULL);
    CHECK_CONTAINS(ics, "DTEND;TZID=Europe/Paris:20261204T000000\r\n");

    /* Several events in one calendar, one VTIMEZONE. */
    struct rdv_booking two[2] = {b, b};
    two[1].id = 43;
    ics = rdv_ics(f.a, "99001", "B", two, 2, false, NULL);
    CHECK_CONTAINS(ics, "UID:rdv-42@");
    CHECK_CONTAINS(ics, "UID:rdv-43@");
    CHECK(strstr(ics, "BEGIN:VTIMEZONE") ==
          strstr(ics + 1, "BEGIN:VTIMEZONE"));
    const char *second = strstr(ics, "BEGIN:VEVENT");
    CHECK(second && strstr(second + 1, "BEGIN:VEVENT") != NULL);
    fx_fini(&f);
}

static void
test_ics_overseas(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_booking b = {.id = 7,
                            .day = gu_day_from_ymd(2026, 7, 14),
                            .start_min = 8 * 60,
                            .end_min = 8 * 60 + 15,
                            .people = 1,
                            .status = RDV_CONFIRMED,
                            .motif_name = "Passeport",
                            .place_name = "Mairie"};
    char *ics = rdv_ics(a, "97411", "reunion", &b, 1, false, NULL);
    CHECK_CONTAINS(ics, "TZID:Indian/Reunion\r\n");
    CHECK_CONTAINS(ics, "TZOFFSETFROM:+0400\r\nTZOFFSETTO:+0400\r\n");
    CHECK(strstr(ics, "RRULE") == NULL);
    CHECK(strstr(ics, "DAYLIGHT") == NULL);
    CHECK_CONTAINS(ics, "DTSTART;TZID=Indian/Reunion:20260714T080000\r\n");
    ics = rdv_ics(a, "97105", "guadeloupe", &b, 1, false, NULL);
    CHECK_CONTAINS(ics, "TZOFFSETTO:-0400\r\n");
    CHECK_CONTAINS(ics, "DTEND;TZID=America/Martinique:20260714T081500\r\n");
    ics = rdv_ics(a, "97302", "guyane", &b, 1, false, NULL);
    CHECK_CONTAINS(ics, "TZID:America/Cayenne\r\n");
    CHECK_CONTAINS(ics, "TZOFFSETTO:-0300\r\n");
    CHECK_EQ(bad_lines(ics), 0);
    gu_arena_free(a);
}

static void
test_ics_escape_fold(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct rdv_booking b = {.id = 9,
                            .day = gu_day_from_ymd(2026, 12, 3),
                            .start_min = 600,
                            .end_min = 630,
                            .people = 1,
                            .status = RDV_CONFIRMED,
                            .motif_name = "État civil; actes, copies\\x",
                            .place_name = "Mairie"};
    /* 200 « é » (2 octets each): folding must fall between sequences. */
    char desc[1024] = "Ligne 1\nLigne 2 ; a, b\\ ";
    size_t dn = strlen(desc);
    for (int i = 0; i < 200; i++) {
        memcpy(desc + dn, "é", 2);
        dn += 2;
    }
    desc[dn] = '\0';
    const char *descs[] = {desc};
    const char *locs[] = {"Salle 2, 1er étage"};
    struct rdv_ics_opts o = {.descriptions = descs, .locations = locs};
    char *ics = rdv_ics_ext(a, "B", &b, 1, false, NULL, &o);
    CHECK(ics != NULL);
    CHECK_EQ(bad_lines(ics), 0);
    /* Continuation lines exist and start with one space. */
    CHECK_CONTAINS(ics, "\r\n ");
    char *u = unfold(ics);
    CHECK_CONTAINS(u, "SUMMARY:Rendez-vous : État civil\\; actes\\, "
                      "copies\\\\x\r\n");
    CHECK_CONTAINS(u, "LOCATION:Salle 2\\, 1er étage\r\n");
    CHECK_CONTAINS(u, "DESCRIPTION:Ligne 1\\nLigne 2 \\; a\\, b\\\\ éééé");
    /* The unfolded description holds all 200 « é », unbroken. */
    const char *d = strstr(u, "DESCRIPTION:");
    const char *end = d ? strstr(d, "\r\n") : NULL;
    int count = 0;
    for (const char *p = d; p && p < end; p++) {
        if ((unsigned char)p[0] == 0xC3 && (unsigned char)p[1] == 0xA9) {
            count++;
        }
    }
    CHECK_EQ(count, 200);
    free(u);
    gu_arena_free(a);
}

/* Undo RFC 5545 TEXT escaping of the value after "NAME:" up to CRLF. */
static void
unescape_value(const char *v, char *out, size_t cap)
{
    size_t o = 0;
    for (; *v && !(v[0] == '\r' && v[1] == '\n') && o + 1 < cap; v++) {
        if (v[0] == '\\' && v[1]) {
            v++;
            out[o++] = *v == 'n' ? '\n' : *v;
        } else {
            out[o++] = *v;
        }
    }
    out[o] = '\0';
}

/*
 * Property: for random texts mixing 1- to 4-octet UTF-8 characters and
 * the characters TEXT escapes, every physical line is at most 75 octets,
 * none starts inside a character, and unfolding then unescaping gives
 * the text back. Fixed seed: the same 300 texts every run.
 */
static void
test_ics_fold_property(void)
{
    static const char *const pieces[] = {"a", "Z", " ", "é", "€", "𝄞",
                                         "\\", ";", ",", "\n", "«", "’"};
    struct gu_arena *a = gu_arena_new(0);
    unsigned seed = 12345;
    int bad = 0;
    for (int round = 0; round < 300 && !bad; round++) {
        char text[2048];
        size_t n = 0;
        seed = seed * 1103515245u + 12345u;
        int len = 1 + (int)((seed >> 16) % 300);
        for (int i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            const char *p = pieces[(seed >> 16) % GU_ARRAY_LEN(pieces)];
            size_t k = strlen(p);
            if (n + k + 1 >= sizeof text) {
                break;
            }
            memcpy(text + n, p, k);
            n += k;
        }
        text[n] = '\0';
        struct rdv_booking b = {.id = round, .day = 20000, .start_min = 600,
                                .end_min = 630, .people = 1,
                                .status = RDV_CONFIRMED,
                                .motif_name = "M", .place_name = "P"};
        const char *descs[] = {text};
        struct rdv_ics_opts o = {.descriptions = descs};
        char *ics = rdv_ics_ext(a, "B", &b, 1, false, NULL, &o);
        if (!ics || bad_lines(ics) != 0) {
            bad++;
            break;
        }
        char *u = unfold(ics);
        const char *d = strstr(u, "\r\nDESCRIPTION:");
        char back[4096];
        unescape_value(d ? d + 14 : "", back, sizeof back);
        /* Trailing newlines are trimmed from descriptions. */
        size_t tn = strlen(text);
        while (tn > 0 && text[tn - 1] == '\n') {
            text[--tn] = '\0';
        }
        if (tn > 0 && strcmp(back, text) != 0) {
            fprintf(stderr, "  round %d: %s\n  != %s\n", round, back, text);
            bad++;
        }
        free(u);
    }
    CHECK_EQ(bad, 0);
    gu_arena_free(a);
}

static void
test_ics_host(void)
{
    struct gu_arena *a = gu_arena_new(0);
    CHECK_STR(rdv_ics_host(a, "https://rdv.saint-exemple.fr/"),
              "rdv.saint-exemple.fr");
    CHECK_STR(rdv_ics_host(a, "http://user:pw@mairie.fr:8443/guichet?x=1"),
              "mairie.fr");
    CHECK_STR(rdv_ics_host(a, ""), "guichet.local");
    CHECK_STR(rdv_ics_host(a, NULL), "guichet.local");
    CHECK_STR(rdv_ics_host(a, "https://ex ample.fr/"), "guichet.local");
    CHECK_STR(rdv_ics_host(a, "https://a\r\nb/"), "guichet.local");
    gu_arena_free(a);
}

/* rdv_ics_store reads the place's address and the motif's instructions. */
static void
test_ics_store(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", "[server]\npublic_url = https://rdv.ex.fr\n"),
             0);
    struct rdv_booking b;
    fx_booking(&f, &b, gu_day_from_ymd(2026, 12, 3), 570, "", "",
               RDV_CONFIRMED, 0, -1);
    struct gu_err err;
    gu_err_clear(&err);
    char *ics = rdv_ics_store(f.c, f.a, f.cfg, "99001", &b, 1, true,
                              "Export", &err);
    CHECK(ics != NULL);
    char *u = ics ? unfold(ics) : NULL;
    char uid[64];
    snprintf(uid, sizeof uid, "UID:rdv-%lld@rdv.ex.fr\r\n", (long long)b.id);
    CHECK_CONTAINS(u, uid);
    CHECK_CONTAINS(u, "LOCATION:Mairie de Saint-Exemple\\, 1 place de la "
                      "Mairie\\, 99001 Saint-Exemple-sur-Loire\r\n");
    CHECK_CONTAINS(u, "Apportez une photo d'identité récente.");
    CHECK_CONTAINS(u, "Usager : Marie Dupont");
    CHECK_CONTAINS(u, "SEQUENCE:0\r\n");
    free(u);

    /* Many bookings at once; SEQUENCE counts logged moves. */
    struct rdv_booking many[3];
    for (int i = 0; i < 3; i++) {
        fx_booking(&f, &many[i], gu_day_from_ymd(2026, 12, 4 + i), 600, "",
                   "", RDV_CONFIRMED, 0, -1);
    }
    CHECK_EQ(fx_exec(&f,
                     "INSERT INTO rdv_notify_log (insee, booking_id, kind,"
                     " channel, at) VALUES ('99001', ?, 'rdv.move', 'courriel',"
                     " 1), ('99001', ?, 'rdv.move', 'courriel', 2)",
                     (struct store_val[]){STORE_I(many[1].id),
                                          STORE_I(many[1].id)},
                     2, NULL),
             0);
    ics = rdv_ics_store(f.c, f.a, f.cfg, "99001", many, 3, false, NULL, &err);
    u = ics ? unfold(ics) : NULL;
    int events = 0, seq2 = 0, located = 0;
    for (const char *p = u; p && (p = strstr(p, "BEGIN:VEVENT")); p++) {
        events++;
    }
    for (const char *p = u; p && (p = strstr(p, "SEQUENCE:2\r\n")); p++) {
        seq2++;
    }
    for (const char *p = u; p && (p = strstr(p, "1 place de la Mairie")); p++) {
        located++;
    }
    CHECK_EQ(events, 3);
    CHECK_EQ(seq2, 1);
    CHECK_EQ(located, 3);
    CHECK(u && strstr(u, "Usager") == NULL);
    free(u);
    /* Another commune's call sees nothing of these places. */
    CHECK(rdv_ics_store(f.c, f.a, f.cfg, "99002", many, 3, false, NULL,
                        &err) == NULL);
    CHECK_EQ(err.code, GU_ENOTFOUND);
    fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* E-mails                                                             */
/* ------------------------------------------------------------------ */

#define TOK "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"

static void
test_mail_confirm(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B",
                     "[server]\npublic_url = https://rdv.saint-exemple.fr/\n"),
             0);
    struct rdv_booking b;
    fx_booking(&f, &b, gu_day_from_ymd(2026, 12, 3), 9 * 60 + 30,
               "marie@exemple.fr", "", RDV_CONFIRMED, 0, -1);
    struct gu_err err;
    gu_err_clear(&err);
    CHECK_EQ(rdv_notify(f.c, f.cfg, &b, "rdv.confirm", TOK, &err), 0);
    CHECK_STR(last_mail(&f, "to_addr"), "marie@exemple.fr");
    CHECK_STR(last_mail(&f, "kind"), "rdv.confirm");
    CHECK_STR(last_mail(&f, "subject"),
              "Rendez-vous confirmé : Carte d'identité (dépôt), jeudi 3 "
              "décembre 2026 à 9 h 30");
    const char *t = last_mail(&f, "body");
    CHECK(t && strncmp(t, "Bonjour Marie Dupont,\n\n", 23) == 0);
    CHECK_CONTAINS(t, "Votre rendez-vous à la mairie est confirmé.");
    CHECK_CONTAINS(t, "Date : jeudi 3 décembre 2026 à 9 h 30 (durée : 30 "
                      "minutes)\n");
    CHECK_CONTAINS(t, "Lieu : Mairie de Saint-Exemple, 1 place de la Mairie, "
                      "99001 Saint-Exemple-sur-Loire\n");
    CHECK_CONTAINS(t, "Nombre de personnes : 2\n");
    CHECK_CONTAINS(t, "À prévoir :\nApportez une photo d'identité récente.");
    CHECK_CONTAINS(t, "(jusqu'à 24 heures avant) :\n"
                      "https://rdv.saint-exemple.fr/rdv/r/" TOK "\n");
    CHECK_CONTAINS(t, "La mairie de Saint-Exemple-sur-Loire");
    CHECK_STR(last_mail(&f, "attach_name"), "rendez-vous.ics");
    CHECK_STR(last_mail(&f, "attach_type"), "text/calendar");
    const char *ics = last_mail(&f, "attach_data");
    CHECK_CONTAINS(ics, "DTSTART;TZID=Europe/Paris:20261203T093000\r\n");
    CHECK_CONTAINS(ics, "@rdv.saint-exemple.fr\r\n");
    char *u = ics ? unfold(ics) : NULL;
    CHECK_CONTAINS(u, "https://rdv.saint-exemple.fr/rdv/r/" TOK);
    CHECK_CONTAINS(u, "LOCATION:Mairie de Saint-Exemple\\, 1 place");
    free(u);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_notify_log WHERE booking_id"
                      " = ? AND kind = 'rdv.confirm' AND channel = 'courriel'",
                      (struct store_val[]){STORE_I(b.id)}, 1),
             1);

    /* A 1st of the month on the hour. */
    fx_booking(&f, &b, gu_day_from_ymd(2026, 12, 1), 14 * 60,
               "marie@exemple.fr", "", RDV_CONFIRMED, 0, -1);
    CHECK_EQ(rdv_notify(f.c, f.cfg, &b, "rdv.move", TOK, &err), 0);
    CHECK_CONTAINS(last_mail(&f, "subject"),
                   "Rendez-vous déplacé : Carte d'identité (dépôt), mardi 1er "
                   "décembre 2026 à 14 h");
    CHECK_CONTAINS(last_mail(&f, "attach_data"), "SEQUENCE:1\r\n");

    /* Cancellation: the .ics cancels the event; no management link. */
    b.status = RDV_CANCELLED;
    CHECK_EQ(rdv_notify(f.c, f.cfg, &b, "rdv.cancel", NULL, &err), 0);
    CHECK_CONTAINS(last_mail(&f, "subject"), "Rendez-vous annulé : ");
    t = last_mail(&f, "body");
    CHECK_CONTAINS(t, "Votre rendez-vous a bien été annulé");
    CHECK_CONTAINS(t, "https://rdv.saint-exemple.fr/rdv\n");
    CHECK(strstr(t, "/rdv/r/") == NULL);
    CHECK_CONTAINS(last_mail(&f, "attach_data"), "STATUS:CANCELLED\r\n");
    CHECK_CONTAINS(last_mail(&f, "attach_data"), "SEQUENCE:2\r\n");

    /* No e-mail address: nothing queued, no error. */
    int64_t before = fx_count(&f, "SELECT count(*) FROM notify_outbox", NULL,
                              0);
    b.email = "";
    CHECK_EQ(rdv_notify(f.c, f.cfg, &b, "rdv.confirm", TOK, &err), 0);
    CHECK_EQ(fx_count(&f, "SELECT count(*) FROM notify_outbox", NULL, 0),
             before);
    /* An unknown kind is refused. */
    b.email = "marie@exemple.fr";
    CHECK_EQ(rdv_notify(f.c, f.cfg, &b, "rdv.nimporte", TOK, &err),
             GU_EINVAL);
    fx_fini(&f);
}

static void
test_mail_token_minted(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", NULL), 0); /* public_url empty: relative */
    struct rdv_booking b;
    fx_booking(&f, &b, gu_day_from_ymd(2026, 12, 3), 570, "marie@exemple.fr",
               "", RDV_CONFIRMED, 0, -1);
    struct gu_err err;
    gu_err_clear(&err);
    CHECK_EQ(rdv_notify(f.c, f.cfg, &b, "rdv.confirm", NULL, &err), 0);
    const char *t = last_mail(&f, "body");
    const char *l = t ? strstr(t, ":\n/rdv/r/") : NULL;
    CHECK(l != NULL);
    if (l) {
        char tok[RDV_TOKEN_LEN + 1];
        memcpy(tok, l + 9, RDV_TOKEN_LEN);
        tok[RDV_TOKEN_LEN] = '\0';
        CHECK_EQ(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
                             "tuvwxyz0123456789-_"),
                 RDV_TOKEN_LEN);
        CHECK_EQ(l[9 + RDV_TOKEN_LEN], '\n');
        struct rdv_booking got;
        CHECK_EQ(rdv_by_token(f.c, f.a, tok, &got, &err), 0);
        CHECK_EQ(got.id, b.id);
    }
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_tokens WHERE booking_id = ?"
                      " AND kind = 'gestion'",
                      (struct store_val[]){STORE_I(b.id)}, 1),
             1);
    fx_fini(&f);
}

static void
test_mail_offer(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", "[server]\npublic_url = https://r.fr\n"), 0);
    struct rdv_booking b;
    fx_booking(&f, &b, gu_day_from_ymd(2026, 12, 10), 600, "marie@exemple.fr",
               "", RDV_HELD, 0, -1);
    /* Holds until 2026-12-08 18:00 Paris (17:00 UTC). */
    b.hold_until = gu_tz_to_utc(GU_TZ_PARIS, gu_day_from_ymd(2026, 12, 8),
                                18 * 60);
    struct gu_err err;
    gu_err_clear(&err);
    CHECK_EQ(rdv_notify(f.c, f.cfg, &b, "rdv.offer", TOK, &err), 0);
    CHECK_CONTAINS(last_mail(&f, "subject"),
                   "Un rendez-vous plus tôt vous est proposé : jeudi 10 "
                   "décembre 2026 à 10 h");
    const char *t = last_mail(&f, "body");
    CHECK_CONTAINS(t, "jusqu'au mardi 8 décembre 2026 à 18 h.");
    CHECK_CONTAINS(t, "https://r.fr/rdv/attente/" TOK "\n");
    CHECK(last_mail(&f, "attach_name") == NULL);
    fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Reminders                                                           */
/* ------------------------------------------------------------------ */

static int64_t
log_rows(struct fx *f, int64_t id, const char *kind)
{
    return fx_count(f,
                    "SELECT count(*) FROM rdv_notify_log WHERE booking_id = ?"
                    " AND kind = ?",
                    (struct store_val[]){STORE_I(id), STORE_T(kind)}, 2);
}

static void
test_remind_windows(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", "[server]\npublic_url = https://r.fr\n"), 0);
    int64_t day = gu_day_from_ymd(2026, 12, 17);
    int64_t start = gu_tz_to_utc(GU_TZ_PARIS, day, 9 * 60 + 30);
    int64_t made = start - 20 * 86400;
    struct rdv_booking b, cancelled, late, far;
    fx_booking(&f, &b, day, 570, "marie@exemple.fr", "", RDV_CONFIRMED, made,
               -1);
    fx_booking(&f, &cancelled, day, 600, "a@exemple.fr", "", RDV_CANCELLED,
               made, -1);
    /* Booked 10 hours before: the confirmation is enough. */
    fx_booking(&f, &late, day, 630, "b@exemple.fr", "", RDV_CONFIRMED,
               start - 10 * 3600, -1);
    fx_booking(&f, &far, day + 30, 570, "c@exemple.fr", "", RDV_CONFIRMED,
               made, -1);
    struct gu_err err;
    gu_err_clear(&err);

    /* Three days before: nothing (risk unknown). */
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 3 * 86400, &err), 0);
    /* 47 hours before: the two-day reminder, once. */
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 47 * 3600, &err), 1);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 47 * 3600 + 300, &err),
             0);
    CHECK_EQ(log_rows(&f, b.id, "rdv.remind2"), 1);
    CHECK_STR(last_mail(&f, "kind"), "rdv.remind");
    CHECK_STR(last_mail(&f, "to_addr"), "marie@exemple.fr");
    CHECK_STR(last_mail(&f, "subject"), "Rappel : rendez-vous après-demain, "
                                        "jeudi 17 décembre 2026 à 9 h 30");
    const char *t = last_mail(&f, "body");
    CHECK_CONTAINS(t, "Nous vous rappelons votre rendez-vous à la mairie, "
                      "après-demain :");
    CHECK_CONTAINS(t, "- je confirme ma venue :\n  https://r.fr/rdv/r/");
    CHECK_CONTAINS(t, "?action=confirmer\n");
    CHECK_CONTAINS(t, "?action=annuler\n");
    CHECK(last_mail(&f, "attach_name") == NULL);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_tokens WHERE booking_id = ?"
                      " AND kind = 'rappel' AND expires_at > ?",
                      (struct store_val[]){STORE_I(b.id), STORE_I(start)}, 2),
             1);
    CHECK_EQ(fx_count(&f,
                      "SELECT reminders FROM rdv_bookings WHERE id = ?",
                      (struct store_val[]){STORE_I(b.id)}, 1),
             1);

    /* 23 hours before: the one-day reminder, once. */
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 23 * 3600, &err), 1);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 22 * 3600, &err), 0);
    CHECK_EQ(log_rows(&f, b.id, "rdv.remind1"), 1);
    CHECK_CONTAINS(last_mail(&f, "subject"), "Rappel : rendez-vous demain, ");
    /* After the start: nothing more. */
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start + 60, &err), 0);
    CHECK_EQ(log_rows(&f, cancelled.id, "rdv.remind2") +
                 log_rows(&f, cancelled.id, "rdv.remind1"),
             0);
    CHECK_EQ(log_rows(&f, late.id, "rdv.remind1"), 0);
    CHECK_EQ(log_rows(&f, far.id, "rdv.remind1") +
                 log_rows(&f, far.id, "rdv.remind2"),
             0);
    CHECK_EQ(fx_count(&f, "SELECT count(*) FROM notify_outbox", NULL, 0), 2);

    /* A run late by a day and a half sends only the nearest one. */
    struct rdv_booking skip;
    fx_booking(&f, &skip, day + 1, 570, "d@exemple.fr", "", RDV_CONFIRMED,
               made, -1);
    int64_t start2 = gu_tz_to_utc(GU_TZ_PARIS, day + 1, 570);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start2 - 12 * 3600, &err), 1);
    CHECK_EQ(log_rows(&f, skip.id, "rdv.remind1"), 1);
    CHECK_EQ(log_rows(&f, skip.id, "rdv.remind2"), 0);
    fx_fini(&f);
}

static void
test_remind_risk(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", "[rdv]\nextra_reminder_risk = 40\n"), 0);
    int64_t day = gu_day_from_ymd(2026, 12, 17);
    int64_t start = gu_tz_to_utc(GU_TZ_PARIS, day, 600);
    int64_t made = start - 30 * 86400;
    struct rdv_booking high, low, unknown;
    fx_booking(&f, &high, day, 600, "h@exemple.fr", "", RDV_CONFIRMED, made,
               0.55);
    fx_booking(&f, &low, day, 630, "l@exemple.fr", "", RDV_CONFIRMED, made,
               0.30);
    fx_booking(&f, &unknown, day, 660, "u@exemple.fr", "", RDV_CONFIRMED,
               made, -1);
    struct gu_err err;
    gu_err_clear(&err);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 3 * 86400 - 3600, &err),
             1);
    CHECK_EQ(log_rows(&f, high.id, "rdv.remind4"), 1);
    CHECK_EQ(log_rows(&f, low.id, "rdv.remind4"), 0);
    CHECK_EQ(log_rows(&f, unknown.id, "rdv.remind4"), 0);
    CHECK_CONTAINS(last_mail(&f, "subject"), "dans 3 jours");
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 3 * 86400, &err), 0);
    /* The usual two reminders follow for all three. */
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 40 * 3600, &err), 3);
    fx_fini(&f);

    /* 0 % means never. */
    CHECK_EQ(fx_init(&f, "B", "[rdv]\nextra_reminder_risk = 0\n"), 0);
    fx_booking(&f, &high, day, 600, "h@exemple.fr", "", RDV_CONFIRMED, made,
               0.99);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 3 * 86400, &err), 0);
    fx_fini(&f);
}

/* A moved booking is reminded of its new date. */
static void
test_remind_after_move(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", NULL), 0);
    int64_t day = gu_day_from_ymd(2026, 12, 17);
    int64_t start = gu_tz_to_utc(GU_TZ_PARIS, day, 570);
    struct rdv_booking b;
    fx_booking(&f, &b, day, 570, "m@exemple.fr", "", RDV_CONFIRMED,
               start - 20 * 86400, -1);
    struct gu_err err;
    gu_err_clear(&err);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 40 * 3600, &err), 1);
    /* Moved three days later (as rdv_move does: same row, logged). */
    int64_t moved = start - 39 * 3600;
    CHECK_EQ(fx_exec(&f, "UPDATE rdv_bookings SET day = ? WHERE id = ?",
                     (struct store_val[]){STORE_I(day + 3), STORE_I(b.id)}, 2,
                     NULL),
             0);
    CHECK_EQ(fx_exec(&f,
                     "INSERT INTO rdv_notify_log (insee, booking_id, kind,"
                     " channel, at) VALUES ('99001', ?, 'rdv.move',"
                     " 'courriel', ?)",
                     (struct store_val[]){STORE_I(b.id), STORE_I(moved)}, 2,
                     NULL),
             0);
    int64_t start2 = gu_tz_to_utc(GU_TZ_PARIS, day + 3, 570);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start2 - 40 * 3600, &err), 1);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start2 - 39 * 3600, &err), 0);
    CHECK_EQ(log_rows(&f, b.id, "rdv.remind2"), 2);
    CHECK_CONTAINS(last_mail(&f, "body"), "dimanche 20 décembre 2026");
    fx_fini(&f);
}

/* Overseas: the windows follow the commune's own clock (+04:00). */
static void
test_remind_overseas(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "reunion", NULL), 0);
    int64_t day = gu_day_from_ymd(2026, 12, 17);
    int64_t start = gu_tz_to_utc(GU_TZ_REUNION, day, 570);
    CHECK_EQ(start, gu_tz_to_utc(GU_TZ_PARIS, day, 570) - 3 * 3600);
    struct rdv_booking b;
    fx_booking(&f, &b, day, 570, "r@exemple.fr", "", RDV_CONFIRMED,
               start - 20 * 86400, -1);
    struct gu_err err;
    gu_err_clear(&err);
    /* One minute before the two-day mark: nothing yet. */
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 2 * 86400 - 60, &err), 0);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 2 * 86400, &err), 1);
    CHECK_EQ(log_rows(&f, b.id, "rdv.remind2"), 1);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 86400 - 60, &err), 0);
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, start - 86400, &err), 1);
    CHECK_EQ(log_rows(&f, b.id, "rdv.remind1"), 1);
    CHECK_CONTAINS(last_mail(&f, "body"), "jeudi 17 décembre 2026 à 9 h 30");
    fx_fini(&f);
}

struct race {
    struct fx *f;
    int64_t now;
    int sent;
};

static void *
race_run(void *p)
{
    struct race *r = p;
    struct gu_err err;
    gu_err_clear(&err);
    r->sent = rdv_remind_run_at(r->f->s, r->f->cfg, r->now, &err);
    return NULL;
}

/* Two nodes (threads with their own connections) at the same instant. */
static void
test_remind_once_concurrent(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", NULL), 0);
    int64_t day = gu_day_from_ymd(2026, 12, 17);
    int64_t start = gu_tz_to_utc(GU_TZ_PARIS, day, 480);
    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        struct rdv_booking b;
        char mail[32];
        snprintf(mail, sizeof mail, "p%d@exemple.fr", i);
        fx_booking(&f, &b, day, 480 + 5 * i, mail, "", RDV_CONFIRMED,
                   start - 10 * 86400, -1);
    }
    /* The fixture's connection would hold the pool's only :memory: db
       open: fine, sqlite::memory: connections share one database. */
    struct race r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct race){.f = &f, .now = start - 30 * 3600};
        pthread_create(&th[i], NULL, race_run, &r[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(r[i].sent >= 0);
        total += r[i].sent;
    }
    CHECK_EQ(total, N);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_notify_log WHERE kind ="
                      " 'rdv.remind2'",
                      NULL, 0),
             N);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM notify_outbox WHERE kind ="
                      " 'rdv.remind'",
                      NULL, 0),
             N);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(DISTINCT to_addr) FROM notify_outbox",
                      NULL, 0),
             N);
    fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* SMS                                                                 */
/* ------------------------------------------------------------------ */

/* A script that writes its arguments, one per line, into DIR/sms.out. */
static const char *
sms_script(struct fx *f, int exit_code)
{
    char *path = gu_arena_sprintf(f->a, "%s/sms.sh", f->dir);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        return NULL;
    }
    fprintf(fp,
            "#!/bin/sh\nfor a in \"$@\"; do printf '%%s\\n' \"$a\"; done"
            " >> '%s/sms.out'\nenv | grep '^GUICHET_' >> '%s/sms.env'\n"
            "exit %d\n",
            f->dir, f->dir, exit_code);
    fclose(fp);
    chmod(path, 0700);
    return path;
}

static char *
read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return NULL;
    }
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void
test_sms_command(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", "[server]\npublic_url = https://r.fr\n"), 0);
    const char *script = sms_script(&f, 0);
    CHECK(script != NULL);
    char set[256];
    struct gu_err err;
    gu_err_clear(&err);
    int64_t day = gu_day_from_ymd(2026, 12, 17);
    int64_t start = gu_tz_to_utc(GU_TZ_PARIS, day, 570);
    struct rdv_booking b;
    /* Phone only: the reminder goes by SMS alone. */
    fx_booking(&f, &b, day, 570, "", "06 12 34 56 78", RDV_CONFIRMED,
               start - 10 * 86400, -1);
    int64_t now = start - 30 * 3600;
    CHECK_EQ(rdv_remind_run_at(f.s, f.cfg, now, &err), 1);
    CHECK_EQ(fx_count(&f, "SELECT count(*) FROM notify_outbox", NULL, 0), 0);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_notify_log WHERE booking_id"
                      " = ? AND kind = 'rdv.remind2' AND channel = 'sms'",
                      (struct store_val[]){STORE_I(b.id)}, 1),
             1);
    /* No gateway: nothing sent, the row stays queued. */
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, now, &err), 0);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE status ="
                      " 'queued' AND attempts = 0",
                      NULL, 0),
             1);

    setenv("GUICHET_SMTP_PASSWORD", "secret-du-test", 1);
    snprintf(set, sizeof set, "[rdv]\nsms_command = %s --de Mairie\n",
             script);
    CHECK_EQ(gu_config_parse_string(f.cfg, set, &err), 0);
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, now, &err), 1);
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, now + 60, &err), 0); /* sent once */
    char out[128];
    snprintf(out, sizeof out, "%s/sms.out", f.dir);
    const char *got = read_all(out);
    CHECK(got != NULL);
    CHECK(got && strncmp(got, "--de\nMairie\n06 12 34 56 78\n"
                              "Mairie de Saint-Exemple-sur-Loire : rappel de "
                              "votre rendez-vous « Carte d'identité (dépôt) » "
                              "le jeudi 17/12 à 9 h 30, Mairie de "
                              "Saint-Exemple. Confirmer ou annuler : "
                              "https://r.fr/rdv/r/",
                      200) == 0);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE status ="
                      " 'sent' AND attempts = 1 AND phone = '' AND text = ''",
                      NULL, 0),
             1);
    /* The command never sees the server's GUICHET_* settings. */
    char envf[128];
    snprintf(envf, sizeof envf, "%s/sms.env", f.dir);
    const char *env = read_all(envf);
    CHECK(env != NULL && env[0] == '\0');
    unsetenv("GUICHET_SMTP_PASSWORD");

    /* The text reaches the command as one argument, never through a
       shell. */
    unlink(out);
    char marker[128];
    snprintf(marker, sizeof marker, "%s/pwned", f.dir);
    char *text = gu_arena_sprintf(f.a, "a; touch %s $(touch %s) `touch %s`",
                                  marker, marker, marker);
    CHECK_EQ(fx_exec(&f,
                     "INSERT INTO rdv_sms_queue (insee, phone, text,"
                     " next_try_at, created_at) VALUES ('99001',"
                     " '+33612345678', ?, 0, 0)",
                     (struct store_val[]){STORE_T(text)}, 1, NULL),
             0);
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, now, &err), 1);
    got = read_all(out);
    CHECK_CONTAINS(got, text);
    CHECK(access(marker, F_OK) != 0);
    fx_fini(&f);
}

/* rdv_sms_queue_text: a text to the booking's own number, bounded. */
static void
test_sms_queue_text(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", ""), 0);
    struct gu_err err;
    gu_err_clear(&err);
    int64_t day = gu_day_from_ymd(2026, 12, 17);
    int64_t start = gu_tz_to_utc(GU_TZ_PARIS, day, 570);
    struct rdv_booking b, nophone;
    char big[600];

    fx_booking(&f, &b, day, 570, "", "06 12 34 56 78", RDV_CONFIRMED,
               start - 10 * 86400, -1);
    fx_booking(&f, &nophone, day, 600, "a@example.org", "", RDV_CONFIRMED,
               start - 10 * 86400, -1);
    CHECK_EQ(rdv_sms_queue_text(f.c, "99001", b.id, "Code : 123456.", &err),
             0);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE booking_id ="
                      " ? AND phone = '06 12 34 56 78' AND text ="
                      " 'Code : 123456.' AND status = 'queued'",
                      (struct store_val[]){STORE_I(b.id)}, 1),
             1);
    CHECK_EQ(rdv_sms_queue_text(f.c, "99001", nophone.id, "x", &err),
             GU_EINVAL);
    CHECK_EQ(rdv_sms_queue_text(f.c, "99002", b.id, "x", &err),
             GU_ENOTFOUND);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_EQ(rdv_sms_queue_text(f.c, "99001", b.id, big, &err), GU_ETOOBIG);
    CHECK_EQ(rdv_sms_queue_text(f.c, "99001", b.id, "", &err), GU_ETOOBIG);
    CHECK_EQ(fx_count(&f, "SELECT count(*) FROM rdv_sms_queue", NULL, 0), 1);
    fx_fini(&f);
}

static void
test_sms_retries(void)
{
    struct fx f;
    CHECK_EQ(fx_init(&f, "B", NULL), 0);
    const char *script = sms_script(&f, 3);
    char set[256];
    struct gu_err err;
    gu_err_clear(&err);
    snprintf(set, sizeof set, "[rdv]\nsms_command = %s\n", script);
    CHECK_EQ(gu_config_parse_string(f.cfg, set, &err), 0);
    CHECK_EQ(fx_exec(&f,
                     "INSERT INTO rdv_sms_queue (insee, phone, text,"
                     " next_try_at, created_at) VALUES ('99001',"
                     " '0612345678', 'Bonjour', 1000, 0)",
                     NULL, 0, NULL),
             0);
    int64_t now = 1000;
    for (int i = 1; i <= 5; i++) {
        CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, now, &err), 0);
        CHECK_EQ(fx_count(&f, "SELECT attempts FROM rdv_sms_queue", NULL, 0),
                 i);
        /* Not retried before its backoff. */
        CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, now + 30, &err), 0);
        CHECK_EQ(fx_count(&f, "SELECT attempts FROM rdv_sms_queue", NULL, 0),
                 i);
        now = fx_count(&f, "SELECT next_try_at FROM rdv_sms_queue", NULL, 0);
    }
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE status ="
                      " 'failed'",
                      NULL, 0),
             1);
    /* The error says why, not who. */
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE last_error"
                      " LIKE '%exit 3%' AND last_error NOT LIKE '%0612%'",
                      NULL, 0),
             1);
    /* A failed row is never tried again. */
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, now + 86400, &err), 0);
    CHECK_EQ(fx_count(&f, "SELECT attempts FROM rdv_sms_queue", NULL, 0), 5);

    /* A command that does not exist: an attempt that failed. */
    CHECK_EQ(gu_config_parse_string(
                 f.cfg, "[rdv]\nsms_command = /nonexistent/envoi-sms\n", &err),
             0);
    CHECK_EQ(fx_exec(&f,
                     "INSERT INTO rdv_sms_queue (insee, phone, text,"
                     " next_try_at, created_at) VALUES ('99001',"
                     " '0612345678', 'Bonjour', 0, 0)",
                     NULL, 0, NULL),
             0);
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, 10, &err), 0);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE status ="
                      " 'queued' AND attempts = 1",
                      NULL, 0),
             1);

    /* A run stops at its first failure: the other rows wait, untouched. */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(fx_exec(&f,
                         "INSERT INTO rdv_sms_queue (insee, phone, text,"
                         " next_try_at, created_at) VALUES ('99001',"
                         " '0612345678', 'Bonjour', 20, 0)",
                         NULL, 0, NULL),
                 0);
    }
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, 20, &err), 0);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE next_try_at"
                      " = 20 AND attempts = 0",
                      NULL, 0),
             2);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE next_try_at"
                      " = 80 AND attempts = 1",
                      NULL, 0),
             1);
    fx_fini(&f);
}

/*
 * A one-request-at-a-time HTTP server on 127.0.0.1 for the SMS gateway:
 * it answers each request with `status` and keeps the last request.
 */
struct gw {
    int fd;
    int port;
    int status;
    int requests;
    char req[4096];
    pthread_t th;
};

static void *
gw_main(void *p)
{
    struct gw *g = p;
    for (;;) {
        int c = accept(g->fd, NULL, NULL);
        if (c < 0) {
            return NULL;
        }
        size_t n = 0;
        ssize_t k;
        g->req[0] = '\0';
        /* Read the headers, then Content-Length bytes of body. */
        while (n + 1 < sizeof g->req &&
               (k = read(c, g->req + n, sizeof g->req - 1 - n)) > 0) {
            n += (size_t)k;
            g->req[n] = '\0';
            const char *end = strstr(g->req, "\r\n\r\n");
            const char *cl = strstr(g->req, "Content-Length: ");
            if (end && cl && n >= (size_t)(end + 4 - g->req) +
                                      strtoul(cl + 16, NULL, 10)) {
                break;
            }
        }
        char resp[128];
        int m = snprintf(resp, sizeof resp,
                         "HTTP/1.1 %d X\r\nContent-Length: 2\r\n"
                         "Connection: close\r\n\r\nok",
                         g->status);
        g->requests++; /* before the answer: the client returns on it */
        if (write(c, resp, (size_t)m) < 0) {
            perror("gw write");
        }
        close(c);
    }
}

static int
gw_start(struct gw *g, int status)
{
    memset(g, 0, sizeof *g);
    g->status = status;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    g->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (g->fd < 0 || bind(g->fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(g->fd, 8) < 0 ||
        getsockname(g->fd, (struct sockaddr *)&sa, &len) < 0) {
        return -1;
    }
    g->port = ntohs(sa.sin_port);
    return pthread_create(&g->th, NULL, gw_main, g);
}

static void
gw_stop(struct gw *g)
{
    shutdown(g->fd, SHUT_RDWR);
    close(g->fd);
    pthread_join(g->th, NULL);
}

static void
test_sms_http(void)
{
    struct fx f;
    struct gw g;
    CHECK_EQ(fx_init(&f, "B", NULL), 0);
    CHECK_EQ(gw_start(&g, 200), 0);
    char set[128];
    struct gu_err err;
    gu_err_clear(&err);
    snprintf(set, sizeof set, "[rdv]\nsms_url = http://127.0.0.1:%d/envoi\n",
             g.port);
    CHECK_EQ(gu_config_parse_string(f.cfg, set, &err), 0);
    CHECK_EQ(fx_exec(&f,
                     "INSERT INTO rdv_sms_queue (insee, phone, text,"
                     " next_try_at, created_at) VALUES ('99001',"
                     " '+33612345678', 'Rappel : « RDV » \"jeudi\"', 0, 0)",
                     NULL, 0, NULL),
             0);
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, 100, &err), 1);
    CHECK_EQ(g.requests, 1);
    CHECK(strncmp(g.req, "POST /envoi HTTP/1.1\r\n", 22) == 0);
    CHECK_CONTAINS(g.req, "Content-Type: application/json\r\n");
    const char *body = strstr(g.req, "\r\n\r\n");
    json_t *j = body ? json_loads(body + 4, 0, NULL) : NULL;
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "to")), "+33612345678");
    CHECK_STR(json_string_value(json_object_get(j, "text")),
              "Rappel : « RDV » \"jeudi\"");
    json_decref(j);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE status ="
                      " 'sent'",
                      NULL, 0),
             1);

    /* A 500 is a failed attempt, retried later. */
    g.status = 500;
    CHECK_EQ(fx_exec(&f,
                     "INSERT INTO rdv_sms_queue (insee, phone, text,"
                     " next_try_at, created_at) VALUES ('99001',"
                     " '0612345678', 'Bonjour', 0, 0)",
                     NULL, 0, NULL),
             0);
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, 100, &err), 0);
    CHECK_EQ(g.requests, 2);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE status ="
                      " 'queued' AND attempts = 1 AND next_try_at = 160 AND"
                      " last_error LIKE '%status 500%'",
                      NULL, 0),
             1);
    gw_stop(&g);

    /* Nobody listening: a failed attempt too, and the job goes on. */
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, 160, &err), 0);
    CHECK_EQ(fx_count(&f, "SELECT max(attempts) FROM rdv_sms_queue", NULL, 0),
             2);
    /* Only http and https are followed. */
    CHECK_EQ(gu_config_parse_string(f.cfg,
                                    "[rdv]\nsms_url = file:///etc/passwd\n",
                                    &err),
             0);
    CHECK_EQ(rdv_sms_run_at(f.s, f.cfg, 100000, &err), 0);
    CHECK_EQ(fx_count(&f,
                      "SELECT count(*) FROM rdv_sms_queue WHERE attempts = 3"
                      " AND last_error LIKE 'sms http:%'",
                      NULL, 0),
             1);
    fx_fini(&f);
}

TESTS(T(test_ics_paris), T(test_ics_overseas), T(test_ics_escape_fold),
      T(test_ics_fold_property),
      T(test_ics_host), T(test_ics_store), T(test_mail_confirm),
      T(test_mail_token_minted), T(test_mail_offer), T(test_remind_windows),
      T(test_remind_risk), T(test_remind_after_move),
      T(test_remind_overseas),
      T(test_remind_once_concurrent),
      T(test_sms_command), T(test_sms_queue_text), T(test_sms_retries), T(test_sms_http))
