/*
 * rdv_ics.c - iCalendar (RFC 5545) files of appointments.
 *
 * One writer for every .ics the domain hands out: the file attached to a
 * resident's e-mails, the agents' exports and each counter's feed. A file
 * is a VCALENDAR (PRODID, VERSION, CALSCALE, METHOD:PUBLISH) holding the
 * VTIMEZONE of the commune's zone (Europe/Paris with its summer-time
 * rules; a fixed offset overseas) and one VEVENT per booking whose times
 * are local (DTSTART;TZID=...), so a calendar shows what the resident was
 * told whatever its own zone.
 *
 * Text values are escaped (backslash, semicolon, comma, newline) and
 * lines are folded at 75 octets without cutting a UTF-8 sequence; every
 * line ends with CRLF. The result lives in the caller's arena.
 */
#include "rdv/rdv.h"

#include <string.h>

/* The commune's zone as a VTIMEZONE. */
static void
put_vtimezone(struct gu_buf *o, enum gu_tz tz)
{
    if (tz == GU_TZ_PARIS) {
        gu_buf_puts(o, "BEGIN:VTIMEZONE\r\n"
                       "TZID:Europe/Paris\r\n"
                       "BEGIN:DAYLIGHT\r\n"
                       "TZOFFSETFROM:+0100\r\n"
                       "TZOFFSETTO:+0200\r\n"
                       "TZNAME:CEST\r\n"
                       "DTSTART:19810329T020000\r\n"
                       "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
                       "END:DAYLIGHT\r\n"
                       "BEGIN:STANDARD\r\n"
                       "TZOFFSETFROM:+0200\r\n"
                       "TZOFFSETTO:+0100\r\n"
                       "TZNAME:CET\r\n"
                       "DTSTART:19961027T030000\r\n"
                       "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
                       "END:STANDARD\r\n"
                       "END:VTIMEZONE\r\n");
        return;
    }
    /* Overseas zones keep one offset all year. */
    int off = gu_tz_offset_min(tz, 0);
    int a = off < 0 ? -off : off;
    char o4[16];
    snprintf(o4, sizeof o4, "%c%02d%02d", off < 0 ? '-' : '+', a / 60,
             a % 60);
    gu_buf_printf(o,
                  "BEGIN:VTIMEZONE\r\n"
                  "TZID:%s\r\n"
                  "BEGIN:STANDARD\r\n"
                  "TZOFFSETFROM:%s\r\n"
                  "TZOFFSETTO:%s\r\n"
                  "TZNAME:UTC%c%02d\r\n"
                  "DTSTART:19700101T000000\r\n"
                  "END:STANDARD\r\n"
                  "END:VTIMEZONE\r\n",
                  gu_tz_name(tz), o4, o4, off < 0 ? '-' : '+', a / 60);
}

/*
 * Append one content line, folded: at most 75 octets per physical line
 * (the leading space of a continuation counts), never inside a UTF-8
 * sequence, CRLF after each.
 */
static void
put_line(struct gu_buf *o, const char *s, size_t n)
{
    size_t room = 75;
    while (n > room) {
        size_t cut = room;
        /* Back off over continuation bytes (10xxxxxx). */
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) {
            cut--;
        }
        if (cut == 0) {
            cut = room; /* not UTF-8: cut anyway rather than loop */
        }
        gu_buf_append(o, s, cut);
        gu_buf_puts(o, "\r\n ");
        s += cut;
        n -= cut;
        room = 74;
    }
    gu_buf_append(o, s, n);
    gu_buf_puts(o, "\r\n");
}

/* A TEXT value escaped per RFC 5545 3.3.11 appended to b. */
static void
put_text(struct gu_buf *b, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '\\':
            gu_buf_puts(b, "\\\\");
            break;
        case ';':
            gu_buf_puts(b, "\\;");
            break;
        case ',':
            gu_buf_puts(b, "\\,");
            break;
        case '\n':
            gu_buf_puts(b, "\\n");
            break;
        default:
            /* Other controls (CR, tabs...) are not allowed in TEXT. */
            if (ch < 0x20 || ch == 0x7F) {
                if (ch == '\t') {
                    gu_buf_append(b, " ", 1);
                }
                break;
            }
            gu_buf_append(b, s, 1);
        }
    }
}

/* NAME:escaped-text as one folded line. */
static void
put_prop_text(struct gu_buf *o, const char *name, const char *text)
{
    struct gu_buf l;
    gu_buf_init(&l);
    gu_buf_puts(&l, name);
    gu_buf_append(&l, ":", 1);
    put_text(&l, text);
    if (l.oom) {
        o->oom = true;
    } else {
        put_line(o, l.p, l.n);
    }
    gu_buf_fini(&l);
}

/* "20261203T093000" of a local (day, minute); minute may reach 1440+. */
static void
local_stamp(int64_t day, int minute, char out[48])
{
    day += minute / 1440;
    minute %= 1440;
    int y, m, d;
    gu_day_to_ymd(day, &y, &m, &d);
    snprintf(out, 48, "%04d%02d%02dT%02d%02d00", y % 10000, m, d,
             minute / 60, minute % 60);
}

/* "20261130T221135Z" of a unix time. */
static void
utc_stamp(int64_t t, char out[48])
{
    int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t sec = t - day * 86400;
    int y, m, d;
    gu_day_to_ymd(day, &y, &m, &d);
    snprintf(out, 48, "%04d%02d%02dT%02d%02d%02dZ", y % 10000, m, d,
             (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
}

const char *
rdv_ics_host(struct gu_arena *a, const char *public_url)
{
    const char *p = public_url ? public_url : "";
    const char *s = strstr(p, "://");
    if (s) {
        p = s + 3;
    }
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *colon = memchr(p, ':', n);
    if (colon) {
        n = (size_t)(colon - p);
    }
    if (n == 0 || n > 253) {
        return "guichet.local";
    }
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
        if (!ok) {
            return "guichet.local";
        }
    }
    char *h = gu_arena_strndup(a, p, n);
    return h ? h : "guichet.local";
}

/* SEQUENCE when the caller gives none: bumps for a move and a cancel. */
static int
derived_sequence(const struct rdv_booking *b)
{
    int seq = b->moved_from != 0 ? 1 : 0;
    if (b->status == RDV_CANCELLED) {
        seq++;
    }
    return seq;
}

static void
put_event(struct gu_buf *o, enum gu_tz tz, const struct rdv_booking *b,
          size_t i, bool with_people, const struct rdv_ics_opts *opt,
          const char *host, const char *dtstamp)
{
    char st[48], en[48];
    char line[160];
    local_stamp(b->day, b->start_min, st);
    local_stamp(b->day, b->end_min > b->start_min ? b->end_min
                                                 : b->start_min + RDV_UNIT_MIN,
                en);
    gu_buf_puts(o, "BEGIN:VEVENT\r\n");
    int n = snprintf(line, sizeof line, "UID:rdv-%lld@%s",
                     (long long)b->id, host);
    put_line(o, line, n > 0 && (size_t)n < sizeof line ? (size_t)n
                                                       : strlen(line));
    gu_buf_printf(o, "DTSTAMP:%s\r\n", dtstamp);
    gu_buf_printf(o, "DTSTART;TZID=%s:%s\r\n", gu_tz_name(tz), st);
    gu_buf_printf(o, "DTEND;TZID=%s:%s\r\n", gu_tz_name(tz), en);

    struct gu_buf t;
    gu_buf_init(&t);
    gu_buf_puts(&t, "Rendez-vous : ");
    gu_buf_puts(&t, b->motif_name && *b->motif_name ? b->motif_name
                                                    : "mairie");
    if (with_people && b->name && *b->name) {
        gu_buf_puts(&t, " — ");
        gu_buf_puts(&t, b->name);
    }
    put_prop_text(o, "SUMMARY", t.oom ? "Rendez-vous" : t.p);
    gu_buf_fini(&t);

    const char *loc = opt && opt->locations && opt->locations[i]
                          ? opt->locations[i]
                          : b->place_name;
    if (loc && *loc) {
        put_prop_text(o, "LOCATION", loc);
    }

    gu_buf_init(&t);
    const char *desc = opt && opt->descriptions ? opt->descriptions[i] : NULL;
    if (with_people) {
        if (b->name && *b->name) {
            gu_buf_printf(&t, "Usager : %s\n", b->name);
        }
        gu_buf_printf(&t, "Personnes : %d\n", b->people);
        if (b->counter_name && *b->counter_name) {
            gu_buf_printf(&t, "Guichet : %s\n", b->counter_name);
        }
    }
    if (desc && *desc) {
        gu_buf_puts(&t, desc);
    }
    while (t.n > 0 && t.p[t.n - 1] == '\n') {
        t.p[--t.n] = '\0';
    }
    if (!t.oom && t.n > 0) {
        put_prop_text(o, "DESCRIPTION", t.p);
    }
    gu_buf_fini(&t);

    gu_buf_printf(o, "STATUS:%s\r\n",
                  b->status == RDV_CANCELLED ? "CANCELLED" : "CONFIRMED");
    int seq = opt && opt->sequences ? opt->sequences[i] : derived_sequence(b);
    gu_buf_printf(o, "SEQUENCE:%d\r\n", seq < 0 ? 0 : seq);
    gu_buf_puts(o, "TRANSP:OPAQUE\r\nEND:VEVENT\r\n");
}

char *
rdv_ics_ext(struct gu_arena *a, const char *zone, const struct rdv_booking *b,
            size_t n, bool with_people, const char *calname,
            const struct rdv_ics_opts *opt)
{
    enum gu_tz tz = gu_tz_of_zone(zone ? zone : "");
    const char *host = opt && opt->host && *opt->host ? opt->host
                                                     : "guichet.local";
    char dtstamp[48];
    utc_stamp(opt && opt->dtstamp > 0 ? opt->dtstamp : gu_now(), dtstamp);

    struct gu_buf o;
    gu_buf_init(&o);
    gu_buf_puts(&o, "BEGIN:VCALENDAR\r\n"
                    "PRODID:-//Guichet//Rendez-vous//FR\r\n"
                    "VERSION:2.0\r\n"
                    "CALSCALE:GREGORIAN\r\n"
                    "METHOD:PUBLISH\r\n");
    if (calname && *calname) {
        put_prop_text(&o, "X-WR-CALNAME", calname);
    }
    gu_buf_printf(&o, "X-WR-TIMEZONE:%s\r\n", gu_tz_name(tz));
    put_vtimezone(&o, tz);
    for (size_t i = 0; i < n; i++) {
        put_event(&o, tz, &b[i], i, with_people, opt, host, dtstamp);
    }
    gu_buf_puts(&o, "END:VCALENDAR\r\n");
    char *r = NULL;
    if (!o.oom && o.p) {
        r = gu_arena_strndup(a, o.p, o.n);
    }
    gu_buf_fini(&o);
    return r;
}

char *
rdv_ics(struct gu_arena *a, const char *insee, const char *zone,
        const struct rdv_booking *b, size_t n, bool with_people,
        const char *calname)
{
    (void)insee;
    return rdv_ics_ext(a, zone, b, n, with_people, calname, NULL);
}

/* "12 rue de la Paix, 99001 Saint-Exemple" or what is known of it. */
static const char *
place_line(struct gu_arena *a, const char *name, const char *address,
           const char *zip, const char *city)
{
    struct gu_buf t;
    gu_buf_init(&t);
    gu_buf_puts(&t, name ? name : "");
    if (address && *address) {
        gu_buf_printf(&t, "%s%s", t.n ? ", " : "", address);
    }
    if ((zip && *zip) || (city && *city)) {
        gu_buf_printf(&t, "%s%s%s%s", t.n ? ", " : "", zip ? zip : "",
                      zip && *zip && city && *city ? " " : "",
                      city ? city : "");
    }
    const char *r = t.oom || !t.p ? "" : gu_arena_strndup(a, t.p, t.n);
    gu_buf_fini(&t);
    return r ? r : "";
}

const char *
rdv_ics_location(struct gu_arena *a, const struct rdv_place *p)
{
    return place_line(a, p->name, p->address, p->zip, p->city);
}

/* Row of `id` in column 0 of r (ordered by id), or -1. */
static long
find_row(const struct store_rows *r, int64_t id)
{
    size_t lo = 0, hi = r ? r->nrows : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v = store_int(r, mid, 0);
        if (v == id) {
            return (long)mid;
        }
        if (v < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

char *
rdv_ics_store(struct store_conn *c, struct gu_arena *a,
              const struct gu_config *cfg, const char *insee,
              const struct rdv_booking *b, size_t n, bool with_people,
              const char *calname, struct gu_err *err)
{
    struct store_commune com;
    struct store_rows *places = NULL, *motifs = NULL, *moves = NULL;
    int rc = store_commune_get(c, a, insee, &com, err);
    if (rc < 0) {
        return NULL;
    }
    const char **locs = n ? gu_arena_zalloc(a, n * sizeof *locs) : NULL;
    const char **descs = n ? gu_arena_zalloc(a, n * sizeof *descs) : NULL;
    int *seqs = n ? gu_arena_zalloc(a, n * sizeof *seqs) : NULL;
    if (n && (!locs || !descs || !seqs)) {
        gu_err_set(err, GU_ENOMEM, NULL, NULL, "ics: out of memory");
        return NULL;
    }
    /*
     * Three reads whatever n (a feed or an export holds thousands of
     * bookings): the commune's places and motifs, and how many times each
     * booking was moved or cancelled (its SEQUENCE), looked up by id.
     */
    struct store_val pi[] = {STORE_T(insee)};
    if (n &&
        (store_query(c, a,
                     "SELECT id, name, address, zip, city FROM rdv_places"
                     " WHERE insee = ? ORDER BY id",
                     pi, 1, &places, err) < 0 ||
         store_query(c, a,
                     "SELECT id, instructions FROM rdv_motifs WHERE insee = ?"
                     " ORDER BY id",
                     pi, 1, &motifs, err) < 0 ||
         store_query(c, a,
                     "SELECT booking_id, count(*) FROM rdv_notify_log"
                     " WHERE insee = ? AND kind IN ('rdv.move', 'rdv.cancel')"
                     " GROUP BY booking_id ORDER BY booking_id",
                     pi, 1, &moves, err) < 0)) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        long p = find_row(places, b[i].place_id);
        long m = find_row(motifs, b[i].motif_id);
        long l = find_row(moves, b[i].id);
        if (p >= 0) {
            locs[i] = place_line(a, store_text(places, (size_t)p, 1),
                                 store_text(places, (size_t)p, 2),
                                 store_text(places, (size_t)p, 3),
                                 store_text(places, (size_t)p, 4));
        }
        if (m >= 0) {
            descs[i] = store_text(motifs, (size_t)m, 1);
        }
        int logged = l >= 0 ? (int)store_int(moves, (size_t)l, 1) : 0;
        int d = derived_sequence(&b[i]);
        seqs[i] = logged > d ? logged : d;
    }
    struct rdv_ics_opts opt = {
        .host = rdv_ics_host(a, gu_config_str(cfg, "server.public_url")),
        .locations = locs,
        .descriptions = descs,
        .sequences = seqs,
    };
    char *ics = rdv_ics_ext(a, com.zone, b, n, with_people, calname, &opt);
    if (!ics) {
        gu_err_set(err, GU_ENOMEM, NULL, NULL, "ics: out of memory");
    }
    return ics;
}
