/*
 * rdv_pages.c - the residents' appointment pages.
 *
 *   GET  /rdv                        book: démarche, slot, contact (the page
 *                                    is a shell; web/js/rdv.js talks to the
 *                                    public API, docs/rdv-api.md). Deep link
 *                                    ?motif=CODE&lieu=ID&creneau=... (ANTS
 *                                    callback_url) preselects.
 *   GET  /rdv/r/{token}              a booking: summary, instructions, link
 *                                    to keep, .ics; move (JS), cancel and
 *                                    confirm (forms). Also the confirmation
 *                                    page after booking (?fait=reserve) and
 *                                    the target of reminders' links
 *                                    (?action=confirmer|annuler: a question,
 *                                    never a change: a GET changes nothing).
 *   POST /rdv/r/{token}/confirmer    the resident confirms (form)
 *   POST /rdv/r/{token}/annuler      the resident cancels (form)
 *   GET  /rdv/r/{token}/rdv.ics      the booking as an iCalendar file
 *
 * Pages are server-rendered from web/pages/rdv*.html and work without
 * JavaScript except for choosing a slot. An unknown, expired or
 * anonymised token gets one French 404 page that reveals nothing; misses
 * are counted per client (rate limit) so that nobody can probe tokens
 * fast, though 256 random bits make probing pointless anyway.
 *
 * Handlers only read the request, call rdv.h and fill templates.
 */
#include "rdv/rdv.h"
#include "web/http.h"

#include <stdio.h>
#include <string.h>

#define PRESELECT_MAX 64 /* a deep link's motif code */

/* rdv.retention_days in words: « 2 ans », « 400 jours ». */
static const char *
retention_text(struct gu_arena *a, const struct gu_config *cfg)
{
    long days = cfg ? gu_config_int(cfg, "rdv.retention_days") : 730;

    if (days > 0 && days % 365 == 0)
        return gu_arena_sprintf(a, "%ld an%s", days / 365,
                                days / 365 > 1 ? "s" : "");
    return gu_arena_sprintf(a, "%ld jours", days);
}

/* A French page with a status (404, 409, 429...). */
static int
message_page(struct http_req *req, struct http_resp *resp, int status,
             const char *title, const char *detail)
{
    char num[8];
    json_t *vars;

    snprintf(num, sizeof(num), "%d", status);
    vars = json_pack("{s:s, s:s, s:s}", "status", num, "title", title,
                     "detail", detail);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, status, "erreur.html", vars);
}

/*
 * The commune of a public page: `insee`, else commune.default, else the
 * first one. GU_ENOTFOUND (French) for an unknown or malformed code.
 */
static int
load_commune(struct http_req *req, const char *insee, struct store_commune *m)
{
    struct store_commune *list = NULL;
    size_t n = 0;
    int rc;

    if (!insee || !insee[0])
        insee = req->cfg ? gu_config_str(req->cfg, "commune.default") : "";
    if (insee && insee[0]) {
        if (store_insee_valid(insee)) {
            rc = store_commune_get(req->conn, req->arena, insee, m, &req->err);
            if (rc != GU_ENOTFOUND)
                return rc;
        }
        return gu_err_set(&req->err, GU_ENOTFOUND, "c",
                          "Cette commune n’existe pas.", "unknown commune");
    }
    rc = store_commune_list(req->conn, req->arena, &list, &n, &req->err);
    if (rc < 0)
        return rc;
    if (n == 0)
        return gu_err_set(&req->err, GU_ENOTFOUND, NULL,
                          "Aucune commune n’est encore configurée.",
                          "no commune");
    *m = list[0];
    return 0;
}

/* Today in the commune's civil time, "2026-12-01". */
static void
today_iso(const struct store_commune *m, char *buf, size_t cap)
{
    int64_t day;
    int min;

    gu_tz_from_utc(gu_tz_of_zone(m->zone), gu_now(), &day, &min);
    gu_day_iso(day, buf, cap);
}

/* Only [a-z0-9_-] (motif codes), at most PRESELECT_MAX. */
static bool
slug_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    return n > 0 && n <= PRESELECT_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* GET /rdv */
static int
get_book(struct http_req *req, struct http_resp *resp)
{
    struct store_commune m;
    const char *motif = http_query(req, "motif");
    const char *lieu = http_query(req, "lieu");
    const char *slot = http_query(req, "creneau");
    char today[16], when[32] = "";
    json_t *vars;
    int64_t day;
    long id;
    int min, rc;

    rc = load_commune(req, http_query(req, "c"), &m);
    if (rc == GU_ENOTFOUND)
        return message_page(req, resp, 404, "Page introuvable", req->err.user);
    if (rc < 0)
        return rc;
    /* A preselection that does not parse is ignored: the resident still
       gets the page and chooses by hand. */
    if (!slug_ok(motif))
        motif = "";
    if (!lieu || gu_parse_long(lieu, 1, 1000000000L, &id) < 0)
        lieu = "";
    if (slot && strlen(slot) <= 32 &&
        gu_tz_parse(gu_tz_of_zone(m.zone), slot, &day, &min) == 0) {
        char iso[16];

        gu_day_iso(day, iso, sizeof(iso));
        snprintf(when, sizeof(when), "%.10sT%02d:%02d", iso, min / 60,
                 min % 60);
    }
    today_iso(&m, today, sizeof(today));
    vars = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "commune", m.name,
                     "insee", m.insee, "motif", motif, "lieu", lieu,
                     "creneau", when, "today", today, "retention",
                     retention_text(req->arena, req->cfg));
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, "rdv.html", vars);
}

static const struct http_route routes[] = {
    {"GET", "/rdv", HTTP_PUBLIC, get_book, "rdv",
     "Prendre rendez-vous (page des usagers)", NULL, NULL},
};

const struct http_routes rdv_page_routes = {"rdv-pages", routes,
                                            GU_ARRAY_LEN(routes)};
