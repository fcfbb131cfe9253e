/*
 * rdv_agent_pages.c - the agents' side of appointments over HTTP: the
 * back-office pages (/agent/rdv: day and week calendars; /agent/rdv/jour:
 * the printable day list, rendered here so that it prints without
 * script; /agent/rdv/reglages; /agent/rdv/statistiques), the exports
 * (CSV and iCalendar of a period), the per-counter iCalendar feed
 * (minted by an admin, read by calendar apps at /rdv/flux/{token}.ics),
 * the no-show statistics and the commune's public holidays.
 *
 * The pages' data come from the JSON API: most of it in rdv_http.c
 * (places, counters, motifs, agenda, bookings), the rest below. Logic
 * lives in rdv_export.c and rdv_risk.c; this file reads queries, calls
 * them and writes JSON, CSV, iCalendar or HTML.
 */
#include "rdv/rdv_export.h"
#include "rdv/rdv_risk.h"
#include "web/http.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define EXPORT_DEFAULT_DAYS 31 /* an export without `to` */
#define STATS_DAYS_MAX 3660    /* widest statistics period */
#define STATS_DEFAULT_DAYS 365 /* statistics without `from` */
#define HOLIDAY_DAYS 400       /* holidays listed ahead */
#define FEED_MISS_LIMIT 30     /* unknown feed tokens per IP and hour */

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* The active commune's record and civil time; today in it. */
static int
commune_now(struct http_req *req, struct store_commune *com, enum gu_tz *tz,
            int64_t *today)
{
    int minute;
    int rc = http_need_commune(req);

    if (rc < 0)
        return rc;
    rc = store_commune_get(req->conn, req->arena, req->who.insee, com,
                           &req->err);
    if (rc < 0)
        return rc;
    *tz = gu_tz_of_zone(com->zone);
    gu_tz_from_utc(*tz, gu_now(), today, &minute);
    return 0;
}

/* A day from the query (aaaa-mm-jj or jj/mm/aaaa), `def` when absent. */
static int
query_day(struct http_req *req, const char *name, int64_t def, int64_t *out)
{
    const char *s = http_query(req, name);

    if (!s || !*s) {
        *out = def;
        return 0;
    }
    if (strlen(s) > 32 || gu_date_parse(s, out) < 0)
        return gu_err_set(&req->err, GU_EINVAL, name,
                          "Date invalide : écrivez-la jj/mm/aaaa ou "
                          "aaaa-mm-jj.",
                          "bad date in %s", name);
    return 0;
}

/* An optional positive id from the query (0 when absent). */
static int
query_id(struct http_req *req, const char *name, int64_t *out)
{
    const char *s = http_query(req, name);
    long v;

    *out = 0;
    if (!s || !*s)
        return 0;
    if (gu_parse_long(s, 1, LONG_MAX, &v) < 0)
        return gu_err_set(&req->err, GU_EINVAL, name,
                          "Identifiant invalide : un nombre entier positif "
                          "est attendu.",
                          "bad id in %s", name);
    *out = v;
    return 0;
}

static void
iso_day(int64_t day, char buf[16])
{
    gu_day_iso(day, buf, 16);
}

/* « mardi 1er décembre 2026 » (arena). */
static const char *
fr_day(struct gu_arena *a, int64_t day)
{
    char buf[48];

    gu_day_fr(day, buf, sizeof(buf));
    return gu_arena_strdup(a, buf);
}

/*
 * A back-office page; agents on a temporary password change it first.
 * `aujourdhui` is the commune's civil day (overseas communes are not on
 * Paris time), for the scripts' "today".
 */
static int
shell(struct http_req *req, struct http_resp *resp, const char *tpl)
{
    struct store_commune com;
    enum gu_tz tz;
    int64_t today;
    char iso[16];
    json_t *vars;
    int rc;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if ((rc = commune_now(req, &com, &tz, &today)) < 0)
        return rc;
    iso_day(today, iso);
    vars = json_pack("{s:s, s:s}", "insee", req->who.insee, "aujourdhui", iso);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, tpl, vars);
}

static int
page_calendar(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "agent-rdv.html");
}

static int
page_settings(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "agent-rdv-reglages.html");
}

static int
page_stats(struct http_req *req, struct http_resp *resp)
{
    return shell(req, resp, "agent-rdv-statistiques.html");
}

/* ------------------------------------------------------------------ */
/* The printable day list                                              */
/* ------------------------------------------------------------------ */

static void
html(struct gu_buf *b, const char *s)
{
    if (s)
        gu_buf_html(b, s, strlen(s));
}

/* The rows of one counter's table. */
static size_t
day_rows(struct gu_buf *b, const struct rdv_booking *v, size_t n,
         int64_t counter)
{
    size_t shown = 0;

    for (size_t i = 0; i < n; i++) {
        const struct rdv_booking *k = &v[i];
        if (k->counter_id != counter)
            continue;
        shown++;
        gu_buf_printf(b,
                      "<tr><td class=\"rdv-time\">%02d:%02d&ndash;%02d:%02d"
                      "</td><td>",
                      k->start_min / 60 % 100, k->start_min % 60,
                      k->end_min / 60 % 100, k->end_min % 60);
        html(b, k->name && *k->name ? k->name : "(anonymisé)");
        if (k->lane > 0)
            gu_buf_puts(b, " <small>(en surnombre)</small>");
        gu_buf_puts(b, "</td><td>");
        html(b, k->motif_name);
        if (k->note && *k->note) {
            gu_buf_puts(b, "<br><small>Note : ");
            html(b, k->note);
            gu_buf_puts(b, "</small>");
        }
        gu_buf_printf(b, "</td><td class=\"num\">%d</td><td>", k->people);
        html(b, k->phone);
        gu_buf_puts(b, "</td><td class=\"rdv-ants\">");
        for (const char *p = k->ants_ids ? k->ants_ids : ""; *p; p++) {
            if (*p == ',')
                gu_buf_puts(b, "<br>");
            else
                gu_buf_html(b, p, 1);
        }
        gu_buf_puts(b, "</td><td class=\"rdv-tick\">");
        switch (k->status) {
        case RDV_PRESENT:
            gu_buf_puts(b, "présent");
            break;
        case RDV_NOSHOW:
            gu_buf_puts(b, "absent");
            break;
        case RDV_EXCUSED:
            gu_buf_puts(b, "excusé");
            break;
        default:
            gu_buf_puts(b, "<span class=\"box\" aria-hidden=\"true\">"
                           "</span><span class=\"visually-hidden\">à "
                           "cocher</span>");
        }
        gu_buf_puts(b, "</td></tr>\n");
    }
    return shown;
}

/*
 * GET /agent/rdv/jour?date=&lieu=: one table per counter (one printed
 * page each), time, name, motif, people, phone, pré-demande numbers and
 * a box to tick.
 */
static int
page_day(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    enum gu_tz tz;
    int64_t today, day, place;
    struct rdv_place *pl = NULL;
    struct rdv_counter *k = NULL;
    struct rdv_booking *v = NULL;
    size_t npl = 0, nk = 0, n = 0, total = 0;
    struct rdv_export_query q;
    struct gu_buf b, opts;
    char iso[16], prev[16], next[16];
    json_t *vars;
    int rc, status = 200;
    const char *error = "";

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if ((rc = commune_now(req, &com, &tz, &today)) < 0)
        return rc;
    if (query_day(req, "date", today, &day) < 0 ||
        query_id(req, "lieu", &place) < 0) {
        /* Show today's list with the message rather than a bare error. */
        error = req->err.user;
        status = 400;
        day = today;
        place = 0;
    }
    rc = rdv_place_list(req->conn, req->arena, req->who.insee, false, &pl, &npl,
                        &req->err);
    if (rc < 0)
        return rc;
    rc = rdv_counter_list(req->conn, req->arena, req->who.insee, place, &k, &nk,
                          &req->err);
    if (rc < 0)
        return rc;
    memset(&q, 0, sizeof(q));
    q.insee = req->who.insee;
    q.from_day = q.to_day = day;
    q.place_id = place;
    rc = rdv_export_bookings(req->conn, req->arena, &q, &v, &n, &req->err);
    if (rc < 0)
        return rc;

    gu_buf_init(&b);
    gu_buf_init(&opts);
    gu_buf_puts(&opts, "<option value=\"\">Tous les lieux</option>");
    for (size_t i = 0; i < npl; i++) {
        gu_buf_printf(&opts, "<option value=\"%" PRId64 "\"%s>", pl[i].id,
                      pl[i].id == place ? " selected" : "");
        html(&opts, pl[i].name);
        gu_buf_puts(&opts, "</option>");
    }
    for (size_t i = 0; i < nk; i++) {
        const char *pname = "";
        size_t shown;
        for (size_t j = 0; j < npl; j++) {
            if (pl[j].id == k[i].place_id)
                pname = pl[j].name;
        }
        /* An inactive counter appears only if it still has bookings. */
        if (!k[i].active) {
            bool any = false;
            for (size_t j = 0; j < n; j++)
                any = any || v[j].counter_id == k[i].id;
            if (!any)
                continue;
        }
        gu_buf_puts(&b, "<section class=\"rdv-print-counter\">\n<h2>");
        html(&b, k[i].name);
        gu_buf_puts(&b, " <small>");
        html(&b, pname);
        gu_buf_puts(&b, "</small></h2>\n<table class=\"rdv-print\">"
                        "<caption>");
        html(&b, k[i].name);
        gu_buf_puts(&b, ", ");
        html(&b, fr_day(req->arena, day));
        gu_buf_puts(&b, "</caption>\n<thead><tr><th scope=\"col\">Heure</th>"
                        "<th scope=\"col\">Nom</th><th scope=\"col\">Motif</th>"
                        "<th scope=\"col\">Pers.</th>"
                        "<th scope=\"col\">Téléphone</th>"
                        "<th scope=\"col\">Pré-demandes</th>"
                        "<th scope=\"col\">Venu</th></tr></thead>\n<tbody>\n");
        shown = day_rows(&b, v, n, k[i].id);
        if (!shown)
            gu_buf_puts(&b, "<tr><td colspan=\"7\">Aucun rendez-vous.</td>"
                            "</tr>\n");
        total += shown;
        gu_buf_puts(&b, "</tbody></table>\n</section>\n");
    }
    if (nk == 0)
        gu_buf_puts(&b, "<p>Aucun guichet n’est encore configuré.</p>");
    if (b.oom || opts.oom) {
        gu_buf_fini(&b);
        gu_buf_fini(&opts);
        return GU_ENOMEM;
    }
    iso_day(day, iso);
    iso_day(day - 1, prev);
    iso_day(day + 1, next);
    vars = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "insee",
        req->who.insee, "commune", com.name ? com.name : "", "date", iso,
        "veille", prev, "lendemain", next, "jour", fr_day(req->arena, day),
        "lieu", place ? gu_arena_sprintf(req->arena, "%" PRId64, place) : "",
        "total", gu_arena_sprintf(req->arena, "%zu rendez-vous", total),
        "erreur", error, "lieux", opts.p ? opts.p : "");
    if (vars)
        json_object_set_new(vars, "liste", json_string(b.p ? b.p : ""));
    gu_buf_fini(&b);
    gu_buf_fini(&opts);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, status, "agent-rdv-jour.html", vars);
}

/* ------------------------------------------------------------------ */
/* Exports                                                             */
/* ------------------------------------------------------------------ */

/* The export query of a request; *tz and the commune for file names. */
static int
export_query(struct http_req *req, struct rdv_export_query *q,
             struct store_commune *com)
{
    enum gu_tz tz;
    int64_t today;
    const char *c;
    int rc;

    memset(q, 0, sizeof(*q));
    if ((rc = commune_now(req, com, &tz, &today)) < 0)
        return rc;
    q->insee = req->who.insee;
    if ((rc = query_day(req, "from", today, &q->from_day)) < 0 ||
        (rc = query_day(req, "to", q->from_day + EXPORT_DEFAULT_DAYS - 1,
                        &q->to_day)) < 0 ||
        (rc = query_id(req, "place", &q->place_id)) < 0 ||
        (rc = query_id(req, "counter", &q->counter_id)) < 0)
        return rc;
    c = http_query(req, "cancelled");
    q->with_cancelled = c && (strcmp(c, "1") == 0 || strcmp(c, "true") == 0);
    return 0;
}

static void
export_audit(struct http_req *req, const char *action,
             const struct rdv_export_query *q, size_t n)
{
    char f[16], t[16];

    iso_day(q->from_day, f);
    iso_day(q->to_day, t);
    /* Who exported which period: counts, never a name. */
    http_audit(req, action, "rdv",
               "{\"from\":\"%s\",\"to\":\"%s\",\"place\":%" PRId64
               ",\"counter\":%" PRId64 ",\"cancelled\":%s,\"rows\":%zu}",
               f, t, q->place_id, q->counter_id,
               q->with_cancelled ? "true" : "false", n);
}

static int
attach(struct http_req *req, struct http_resp *resp,
       const struct rdv_export_query *q, const char *ext)
{
    char f[16], t[16];
    const char *disp;

    iso_day(q->from_day, f);
    iso_day(q->to_day, t);
    disp = gu_arena_sprintf(req->arena,
                            "attachment; filename=\"rendez-vous-%s-%s-%s.%s\"",
                            req->who.insee, f, t, ext);
    if (!disp)
        return GU_ENOMEM;
    http_add_header(resp, "Cache-Control", "no-store");
    return http_add_header(resp, "Content-Disposition", disp);
}

/* GET /api/v1/rdv/export.csv?from=&to=&place=&counter=&cancelled=1 */
static int
get_export_csv(struct http_req *req, struct http_resp *resp)
{
    struct rdv_export_query q;
    struct store_commune com;
    struct rdv_booking *v = NULL;
    size_t n = 0;
    struct gu_buf b;
    int rc;

    if ((rc = export_query(req, &q, &com)) < 0)
        return rc;
    rc = rdv_export_bookings(req->conn, req->arena, &q, &v, &n, &req->err);
    if (rc < 0)
        return rc;
    gu_buf_init(&b);
    rc = rdv_export_csv(&b, v, n);
    if (rc == 0)
        rc = attach(req, resp, &q, "csv");
    if (rc == 0)
        rc = http_send(resp, 200, "text/csv; charset=utf-8", b.p, b.n);
    gu_buf_fini(&b);
    if (rc == 0)
        export_audit(req, "rdv.export.csv", &q, n);
    return rc;
}

/* GET /api/v1/rdv/export.ics?from=&to=&place=&counter= */
static int
get_export_ics(struct http_req *req, struct http_resp *resp)
{
    struct rdv_export_query q;
    struct store_commune com;
    struct rdv_booking *v = NULL;
    size_t n = 0;
    const char *name;
    char *ics;
    int rc;

    if ((rc = export_query(req, &q, &com)) < 0)
        return rc;
    q.with_cancelled = false;
    rc = rdv_export_bookings(req->conn, req->arena, &q, &v, &n, &req->err);
    if (rc < 0)
        return rc;
    name = gu_arena_sprintf(req->arena, "Rendez-vous — %s",
                            com.name ? com.name : req->who.insee);
    ics = rdv_ics_store(req->conn, req->arena, req->cfg, req->who.insee, v, n,
                        true, name, &req->err);
    if (!ics)
        return req->err.code ? req->err.code : GU_ENOMEM;
    if ((rc = attach(req, resp, &q, "ics")) < 0)
        return rc;
    rc = http_send(resp, 200, "text/calendar; charset=utf-8", ics, strlen(ics));
    if (rc == 0)
        export_audit(req, "rdv.export.ics", &q, n);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Feeds                                                               */
/* ------------------------------------------------------------------ */

/* POST /api/v1/rdv/counters/{id}/feed: a new secret address. */
static int
post_feed(struct http_req *req, struct http_resp *resp)
{
    char token[RDV_TOKEN_LEN + 1];
    const char *base, *path, *url;
    size_t bl;
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    rc = rdv_feed_new(req->conn, req->who.insee, id, http_actor(req),
                      req->request_id, token, &req->err);
    if (rc < 0)
        return rc;
    base = gu_config_str(req->cfg, "server.public_url");
    bl = base ? strlen(base) : 0;
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    path = gu_arena_sprintf(req->arena, "/rdv/flux/%s.ics", token);
    url = gu_arena_sprintf(req->arena, "%.*s%s", (int)bl, bl ? base : "",
                           path ? path : "");
    if (!path || !url)
        return GU_ENOMEM;
    http_add_header(resp, "Cache-Control", "no-store");
    return http_json(resp, 201,
                     json_pack("{s:I, s:s, s:s}", "counter", (json_int_t)id,
                               "path", path, "url", url));
}

/* DELETE /api/v1/rdv/counters/{id}/feed: the address stops working. */
static int
delete_feed(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    rc = rdv_feed_revoke(req->conn, req->who.insee, id, http_actor(req),
                         req->request_id, &req->err);
    if (rc < 0)
        return rc;
    return http_no_content(resp);
}

/* GET /api/v1/rdv/feeds: which counters have a feed (never the token). */
static int
get_feeds(struct http_req *req, struct http_resp *resp)
{
    int64_t *ids = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    rc = rdv_feed_list(req->conn, req->arena, req->who.insee, &ids, &n,
                       &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_integer((json_int_t)ids[i]));
    if (!arr)
        return GU_ENOMEM;
    return http_json(resp, 200, json_pack("{s:o}", "counters", arr));
}

/*
 * GET /rdv/flux/{token}.ics: the counter's iCalendar feed. Anything but
 * a current token is the same 404; too many misses from one address are
 * refused for an hour (a token has 256 bits: guessing is hopeless, but
 * nobody may try at will).
 */
static int
get_feed_ics(struct http_req *req, struct http_resp *resp)
{
    static const char gone[] = "Ce lien n’existe pas ou n’est plus valable.";
    const char *file = http_param(req, "file");
    const char *ics = NULL;
    char token[RDV_TOKEN_LEN + 8];
    size_t n = file ? strlen(file) : 0;
    int rc;

    token[0] = '\0';
    if (n > 4 && n - 4 < sizeof(token) && strcmp(file + n - 4, ".ics") == 0)
        snprintf(token, sizeof(token), "%.*s", (int)(n - 4), file);
    rc = token[0] ? rdv_feed_ics(req->conn, req->arena, req->cfg, token, 0,
                                 &ics, &req->err)
                  : GU_ENOTFOUND;
    if (rc == GU_ENOTFOUND) {
        char key[96];
        int retry = 0;
        struct gu_err e2;
        snprintf(key, sizeof(key), "rdv.flux.miss:%s",
                 req->client_ip ? req->client_ip : "");
        if (store_rate_hit(req->conn, key, FEED_MISS_LIMIT, 3600, &retry,
                           &e2) == GU_ERATE) {
            char v[16];
            snprintf(v, sizeof(v), "%d", retry > 0 ? retry : 60);
            http_add_header(resp, "Retry-After", v);
            return http_problem(resp, 429, NULL,
                                "Trop de liens inconnus demandés depuis "
                                "cette adresse. Réessayez plus tard.");
        }
        return http_problem(resp, 404, NULL, gone);
    }
    if (rc < 0)
        return rc;
    http_add_header(resp, "Cache-Control", "private, no-cache");
    http_add_header(resp, "X-Robots-Tag", "noindex");
    return http_send(resp, 200, "text/calendar; charset=utf-8", ics,
                     strlen(ics));
}

/* ------------------------------------------------------------------ */
/* Statistics, holidays                                                */
/* ------------------------------------------------------------------ */

static json_t *
model_json(struct http_req *req)
{
    struct rdv_risk_model m;
    struct gu_err e2;

    if (rdv_risk_model_get(req->conn, req->arena, req->who.insee, &m, &e2) < 0)
        return json_null();
    return json_pack("{s:I, s:o, s:i, s:i, s:f, s:f, s:f, s:f, s:b}", "version",
                     (json_int_t)m.version, "trained_at",
                     gu_json_time(m.trained_at), "samples", m.samples,
                     "holdout", m.holdout, "auc", m.auc, "logloss", m.logloss,
                     "base_rate", m.base_rate, "base_logloss", m.base_logloss,
                     "useful", m.useful);
}

/* GET /api/v1/rdv/stats/noshow?dim=motif|jour|heure|delai&from=&to= */
static int
get_stats(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    enum gu_tz tz;
    int64_t today, from, to;
    struct rdv_noshow_row *rows = NULL;
    size_t n = 0;
    const char *dim = http_query(req, "dim");
    char f[16], t[16];
    json_t *arr, *model;
    int booked = 0, noshow = 0, rc;

    if ((rc = commune_now(req, &com, &tz, &today)) < 0)
        return rc;
    if ((rc = query_day(req, "to", today, &to)) < 0 ||
        (rc = query_day(req, "from", to - STATS_DEFAULT_DAYS + 1, &from)) < 0)
        return rc;
    if (to - from + 1 > STATS_DAYS_MAX)
        return gu_err_set(&req->err, GU_EINVAL, "from",
                          "La période est trop longue : dix ans au plus.",
                          "stats: period too long");
    rc = rdv_noshow_stats(req->conn, req->arena, req->who.insee,
                          dim ? dim : "motif", from, to, &rows, &n, &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        booked += rows[i].booked;
        noshow += rows[i].noshow;
        json_array_append_new(
            arr, json_pack("{s:s, s:i, s:i, s:f}", "key", rows[i].key, "booked",
                           rows[i].booked, "noshow", rows[i].noshow, "rate",
                           rows[i].rate));
    }
    model = model_json(req);
    iso_day(from, f);
    iso_day(to, t);
    if (!arr || !model) {
        json_decref(arr);
        json_decref(model);
        return GU_ENOMEM;
    }
    return http_json(
        resp, 200,
        json_pack("{s:s, s:s, s:s, s:o, s:{s:i, s:i, s:f}, s:o}", "dim",
                  dim ? dim : "motif", "from", f, "to", t, "rows", arr, "total",
                  "booked", booked, "noshow", noshow, "rate",
                  booked ? (double)noshow / booked : 0.0, "model", model));
}

/* GET /api/v1/rdv/holidays?from=&to=: computed, with the commune's rules. */
static int
get_holidays(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    enum gu_tz tz;
    enum gu_holiday_rules rules;
    int64_t today, from, to;
    json_t *arr;
    int rc;

    if ((rc = commune_now(req, &com, &tz, &today)) < 0)
        return rc;
    if ((rc = query_day(req, "from", today, &from)) < 0 ||
        (rc = query_day(req, "to", from + HOLIDAY_DAYS - 1, &to)) < 0)
        return rc;
    if (to < from || to - from + 1 > 3 * HOLIDAY_DAYS)
        return gu_err_set(&req->err, GU_EINVAL, "to",
                          "Période invalide : trois ans au plus, la fin "
                          "après le début.",
                          "holidays: bad period");
    rules = gu_holiday_rules_for(req->who.insee, com.zone);
    arr = json_array();
    for (int64_t d = from; arr && d <= to; d++) {
        const char *name = gu_holiday(d, rules);
        char iso[16];
        if (!name)
            continue;
        iso_day(d, iso);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s}", "date", iso, "weekday",
                           gu_weekday_fr(gu_day_weekday(d)), "name", name));
    }
    if (!arr)
        return GU_ENOMEM;
    return http_json(resp, 200,
                     json_pack("{s:b, s:o}", "alsace_moselle",
                               rules == GU_HOL_ALSACE_MOSELLE, "holidays",
                               arr));
}

/* ------------------------------------------------------------------ */
/* Table                                                               */
/* ------------------------------------------------------------------ */

#define S_STR "{\"type\":\"string\"}"
#define S_INT "{\"type\":\"integer\"}"
#define S_NUM "{\"type\":\"number\"}"

static const struct http_route routes[] = {
    /* Pages (HTML; their data come from the JSON API). */
    {"GET", "/agent/rdv", HTTP_LECTEUR, page_calendar, "agent",
     "Rendez-vous : calendriers du jour et de la semaine", NULL, NULL},
    {"GET", "/agent/rdv/jour", HTTP_LECTEUR, page_day, "agent",
     "Rendez-vous : liste imprimable d’une journée (date, lieu)", NULL, NULL},
    {"GET", "/agent/rdv/reglages", HTTP_ADMIN, page_settings, "agent",
     "Rendez-vous : lieux, guichets, motifs, plages, absences, flux", NULL,
     NULL},
    {"GET", "/agent/rdv/statistiques", HTTP_LECTEUR, page_stats, "agent",
     "Rendez-vous : absences et modèle de risque", NULL, NULL},

    /* Exports. */
    {"GET", "/api/v1/rdv/export.csv", HTTP_AGENT, get_export_csv, "rdv",
     "Export CSV des rendez-vous d’une période (from, to, place, counter, "
     "cancelled=1 ; séparateur ;, UTF-8 avec BOM, 366 jours au plus)",
     NULL, NULL},
    {"GET", "/api/v1/rdv/export.ics", HTTP_AGENT, get_export_ics, "rdv",
     "Export iCalendar des rendez-vous d’une période (from, to, place, "
     "counter)",
     NULL, NULL},

    /* Feeds. */
    {"GET", "/api/v1/rdv/feeds", HTTP_ADMIN, get_feeds, "rdv",
     "Guichets dont le flux iCalendar est actif", NULL,
     "{\"type\":\"object\",\"properties\":{\"counters\":{\"type\":\"array\","
     "\"items\":" S_INT "}}}"},
    {"POST", "/api/v1/rdv/counters/{id}/feed", HTTP_ADMIN, post_feed, "rdv",
     "Créer ou renouveler l’adresse secrète du flux iCalendar d’un guichet "
     "(l’ancienne cesse de fonctionner)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"counter\":" S_INT
     ",\"path\":" S_STR ",\"url\":" S_STR "}}"},
    {"DELETE", "/api/v1/rdv/counters/{id}/feed", HTTP_ADMIN, delete_feed, "rdv",
     "Désactiver le flux iCalendar d’un guichet", NULL, NULL},
    {"GET", "/rdv/flux/{file}", HTTP_PUBLIC, get_feed_ics, "rdv",
     "Flux iCalendar d’un guichet (adresse secrète)", NULL, NULL},

    /* Statistics and calendar. */
    {"GET", "/api/v1/rdv/stats/noshow", HTTP_LECTEUR, get_stats, "rdv",
     "Taux d’absence par motif, jour, heure ou délai (dim, from, to) et "
     "modèle de risque en service",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"dim\":" S_STR ",\"from\":" S_STR
     ",\"to\":" S_STR ",\"rows\":{\"type\":\"array\",\"items\":{\"type\":"
     "\"object\",\"properties\":{\"key\":" S_STR ",\"booked\":" S_INT
     ",\"noshow\":" S_INT ",\"rate\":" S_NUM "}}},\"total\":{\"type\":"
     "\"object\"},\"model\":{\"type\":[\"object\",\"null\"]}}}"},
    {"GET", "/api/v1/rdv/holidays", HTTP_LECTEUR, get_holidays, "rdv",
     "Jours fériés de la commune (calculés ; Alsace-Moselle selon le code "
     "INSEE)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"alsace_moselle\":"
     "{\"type\":\"boolean\"},\"holidays\":{\"type\":\"array\",\"items\":"
     "{\"type\":\"object\",\"properties\":{\"date\":" S_STR
     ",\"weekday\":" S_STR ",\"name\":" S_STR "}}}}}"},
};

const struct http_routes rdv_agent_routes = {"rdv-agent", routes,
                                             GU_ARRAY_LEN(routes)};
