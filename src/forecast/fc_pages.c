/*
 * fc_pages.c - the agents' forecast pages (issue 6, « Agents et élus »),
 * rendered by the server so that they work without script:
 *
 *   GET  /agent/previsions              the commune's series: last actual,
 *                                       next day's forecast and order,
 *                                       open alerts, « Recalculer »
 *   POST /agent/previsions/recalculer   fc_fit_commune, back to the list
 *   POST /agent/previsions/alertes/{id}/vue   « Marquer comme vue »
 *   GET  /agent/previsions/saisie       the daily count entry of canteens
 *   POST /agent/previsions/saisie       saves it (source 'saisie')
 *   GET  /agent/previsions/{id}         a series: SVG chart (history,
 *                                       P50, P10-P90, agents' forecast),
 *                                       the week ahead with orders for
 *                                       the chosen risk (?risque=),
 *                                       backtest table, settings
 *   POST /agent/previsions/{id}/reglages   risk, meal cost and weight,
 *                                       alert e-mail (fc_series_save)
 *   POST /agent/previsions/{id}/jours   declares closures, strikes, local
 *                                       events or bridges over a range of
 *                                       days (fc_events), refits the series
 *   POST /agent/previsions/{id}/jours/supprimer   removes such a range
 *   GET  /agent/previsions/{id}/export.csv|export.xlsx   the days shown
 *
 * Forms carry the session's CSRF token in a hidden field (web/ checks it
 * before a POST reaches a handler). Errors of a form re-render the page
 * with status 400, a focused error summary and one message per field;
 * successes redirect (303) to a page that says what was done.
 *
 * The chart is SVG written here: role="img" with a title and a summary,
 * and nothing carried by colour alone (solid, dashed and dotted lines,
 * circle, square and triangle markers, a hatched band, a legend with the
 * line styles; the same data in a table below it).
 */
#include "forecast/fc_service.h"
#include "forecast/fc_reco.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_DAYS 56   /* days of actuals on the chart (8 weeks) */
#define WEEK_DAYS 7       /* the week-ahead table */
#define ENTRY_MAX 100000  /* meals typed for one canteen and day */
#define FIELD_MAX 64      /* bytes of a typed number */
#define COST_MAX 100.0    /* euros per meal */
#define KG_MAX 5.0        /* kg per meal */
#define DAYS_RANGE_MAX 62 /* days one « jours particuliers » entry covers */
#define DAYS_AHEAD 120    /* days of them listed from today */

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* The commune's record, its civil today. */
static int
commune_today(struct http_req *req, struct store_commune *com, int64_t *today)
{
    int minute;
    int rc = http_need_commune(req);

    if (rc < 0)
        return rc;
    rc = store_commune_get(req->conn, req->arena, req->who.insee, com,
                           &req->err);
    if (rc < 0)
        return rc;
    gu_tz_from_utc(gu_tz_of_zone(com->zone), gu_now(), today, &minute);
    return 0;
}

static bool
can_work(const struct http_req *req)
{
    return !req->who.is_token && req->who.role >= STORE_ROLE_AGENT;
}

static void
html(struct gu_buf *b, const char *s)
{
    if (s)
        gu_buf_html(b, s, strlen(s));
}

/* The buffer as an arena string (the buffer is emptied); NULL on OOM. */
static const char *
take(struct http_req *req, struct gu_buf *b)
{
    const char *s = NULL;

    if (!b->oom)
        s = gu_arena_strndup(req->arena, b->p ? b->p : "", b->n);
    gu_buf_fini(b);
    return s;
}

static const char *
num_fr(double v, int dec, char *buf, size_t cap)
{
    return gu_num_fr(v, dec, GU_NUM_TRIM | GU_NUM_GROUP, "—", buf, cap);
}

/* « 74,70 » (euros: always two decimals) in the buffer. */
static void
eur(struct gu_buf *b, double v)
{
    char s[64];

    gu_buf_puts(b, gu_num_fr(v, 2, GU_NUM_GROUP, "—", s, sizeof(s)));
}

/* « 182 », « 12,5 » in the buffer. */
static void
num(struct gu_buf *b, double v, int dec)
{
    char s[64];

    gu_buf_puts(b, num_fr(v, dec, s, sizeof(s)));
}

/* « 30/11 » */
static void
day_short(struct gu_buf *b, int64_t day)
{
    int y, m, d;

    gu_day_to_ymd(day, &y, &m, &d);
    gu_buf_printf(b, "%02d/%02d", d, m);
}

/* « lundi 30/11/2026 » */
static void
day_medium(struct gu_buf *b, int64_t day)
{
    int y, m, d;

    gu_day_to_ymd(day, &y, &m, &d);
    gu_buf_printf(b, "%s %02d/%02d/%04d", gu_weekday_fr(gu_day_weekday(day)),
                  d, m, y);
}

static const char *
kind_label(enum fc_kind k)
{
    switch (k) {
    case FC_KIND_CANTINE:
        return "Cantine";
    case FC_KIND_EAU:
        return "Eau";
    case FC_KIND_ACCUEIL:
        return "Accueil";
    case FC_KIND_TELEPHONE:
        return "Téléphone";
    default:
        return "Autre";
    }
}

/* The unit of a series for prose (« repas » when a canteen has none). */
static const char *
unit_of(const struct fc_series *s)
{
    if (s->unit && *s->unit)
        return s->unit;
    return s->kind == FC_KIND_CANTINE ? "repas" : "";
}

/* « au plus 1 jour court sur 20 » for a risk. */
static void
risk_words(struct gu_buf *b, double risk)
{
    double inv = 1.0 / risk;

    if (fabs(inv - floor(inv + 0.5)) < 1e-6)
        gu_buf_printf(b, "au plus 1 jour court sur %.0f", floor(inv + 0.5));
    else {
        gu_buf_puts(b, "au plus ");
        num(b, risk * 100, 1);
        gu_buf_puts(b, " % de jours courts");
    }
}

/* The risk as a user types it back (« 1/20 », « 7,5 % »). */
static const char *
risk_value(struct gu_arena *a, double risk)
{
    double inv = 1.0 / risk;
    char s[64];

    if (fabs(inv - floor(inv + 0.5)) < 1e-6)
        return gu_arena_sprintf(a, "1/%.0f", floor(inv + 0.5));
    num_fr(risk * 100, 2, s, sizeof(s));
    return gu_arena_sprintf(a, "%s %%", s);
}

/* The 404 page of the back-office (a person never lands on JSON). */
static int
not_found(struct http_req *req, struct http_resp *resp)
{
    json_t *vars = json_pack(
        "{s:s, s:s, s:s}", "status", "404", "title", "Série introuvable",
        "detail", "Cette série n’existe pas dans votre commune, ou plus.");

    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 404, "erreur.html", vars);
}

/*
 * A decimal as people type it: « 2,85 », « 2.85 », « 2,85 € », « 0,4 kg ».
 * 0 and *out, or -1.
 */
static int
parse_dec(const char *s, double min, double max, double *out)
{
    char buf[FIELD_MAX], *end;
    size_t n;
    double v;

    if (!s)
        return -1;
    while (*s == ' ')
        s++;
    n = strlen(s);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n + 1);
    while (n > 0 && buf[n - 1] == ' ')
        buf[--n] = '\0';
    if (n >= 3 && strcmp(buf + n - 3, "\xE2\x82\xAC") == 0) /* € */
        buf[n -= 3] = '\0';
    else if (n >= 2 && strcmp(buf + n - 2, "kg") == 0)
        buf[n -= 2] = '\0';
    while (n > 0 && buf[n - 1] == ' ')
        buf[--n] = '\0';
    for (char *p = buf; *p; p++) {
        if (*p == ',')
            *p = '.';
        else if (!(*p >= '0' && *p <= '9') && *p != '.')
            return -1;
    }
    if (n == 0)
        return -1;
    v = strtod(buf, &end);
    if (*end || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The list                                                            */
/* ------------------------------------------------------------------ */

/* The last actual and the next forecast of a daily series. */
struct glance {
    int64_t last_day;
    double last;
    int64_t next_day; /* 0 when none */
    double p50, order;
};

static void
glance_of(struct http_req *req, const struct fc_series *s, int64_t today,
          struct glance *g)
{
    struct fc_day *d = NULL;
    size_t n = 0;
    struct gu_err err;

    memset(g, 0, sizeof(*g));
    g->last = g->p50 = g->order = NAN;
    if (s->freq != FC_FREQ_DAY || s->npoints == 0)
        return;
    memset(&err, 0, sizeof(err));
    /* The list still shows the others when one series fails. */
    if (fc_days(req->conn, req->arena, req->who.insee, s->id, s->last_t,
                s->last_t + FC_AHEAD_DAYS + 7, NAN, &d, &n, &err) < 0) {
        gu_log_warn("fc.pages", "reqid=%s series=%" PRId64 " err=%s",
                    req->request_id, s->id, err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (d[i].t == s->last_t) {
            g->last_day = d[i].t;
            g->last = d[i].actual;
        } else if (d[i].t >= today && !isnan(d[i].p50) && !g->next_day) {
            g->next_day = d[i].t;
            g->p50 = d[i].p50;
            g->order = d[i].reco.order;
        }
    }
}

static int
alert_rows(struct http_req *req, struct gu_buf *b)
{
    struct fc_alert *v = NULL;
    size_t n = 0;
    int rc = fc_alert_list(req->conn, req->arena, req->who.insee, true, &v, &n,
                           &req->err);

    if (rc < 0)
        return rc;
    if (n == 0) {
        gu_buf_puts(b, "<p>Aucune alerte ouverte.</p>\n");
        return 0;
    }
    gu_buf_puts(b, "<div class=\"table-scroll\" role=\"region\" tabindex=\"0\""
                   " aria-labelledby=\"alertes-titre\">\n<table class=\"fc-"
                   "alerts\">\n<thead><tr><th scope=\"col\">Série</th>"
                   "<th scope=\"col\">Jour</th><th scope=\"col\">Relevé</th>"
                   "<th scope=\"col\">Intervalle d’alerte</th>"
                   "<th scope=\"col\">Action</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        gu_buf_printf(b, "<tr><td><a href=\"/agent/previsions/%" PRId64 "\">",
                      v[i].series_id);
        html(b, v[i].series_name);
        gu_buf_puts(b, "</a></td><td>");
        day_medium(b, v[i].t);
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, v[i].value, 1);
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, v[i].lo, 1);
        gu_buf_puts(b, " à ");
        num(b, v[i].hi, 1);
        gu_buf_puts(b, "</td><td>");
        if (can_work(req)) {
            gu_buf_printf(b,
                          "<form method=\"post\" action=\"/agent/previsions/"
                          "alertes/%" PRId64 "/vue\" class=\"fc-inline\">"
                          "<input type=\"hidden\" name=\"csrf\" value=\"",
                          v[i].id);
            html(b, req->who.csrf);
            gu_buf_puts(b, "\"><button type=\"submit\" class=\"btn "
                           "btn-small btn-secondary\">Marquer comme vue"
                           "<span class=\"visually-hidden\"> : ");
            html(b, v[i].series_name);
            gu_buf_puts(b, ", ");
            day_medium(b, v[i].t);
            gu_buf_puts(b, "</span></button></form>");
        }
        gu_buf_puts(b, "</td></tr>\n");
    }
    gu_buf_puts(b, "</tbody></table></div>\n");
    return 0;
}

/* What the list says after a redirect (?fait=...). */
static const char *
done_message(struct http_req *req)
{
    const char *what = http_query(req, "fait");
    long a = 0, k = 0;

    if (!what)
        return "";
    if (strcmp(what, "recalcul") == 0) {
        const char *sa = http_query(req, "n"), *sk = http_query(req, "ignorees");
        if (!sa || gu_parse_long(sa, 0, FC_SERIES_MAX, &a) < 0)
            a = 0;
        if (!sk || gu_parse_long(sk, 0, FC_SERIES_MAX, &k) < 0)
            k = 0;
        if (k > 0)
            return gu_arena_sprintf(
                req->arena,
                "Prévisions recalculées : %ld série(s). %ld série(s) "
                "n’ont pas encore assez de données (28 jours au moins).",
                a, k);
        return gu_arena_sprintf(req->arena,
                                "Prévisions recalculées : %ld série(s).", a);
    }
    if (strcmp(what, "vue") == 0)
        return "Alerte marquée comme vue.";
    return "";
}

/* « 182 repas<br><small>lundi 30/11/2026</small> », « — » without a day. */
static void
dated_value(struct gu_buf *b, const struct fc_series *s, double v, int dec,
            int64_t day)
{
    if (!day) {
        gu_buf_puts(b, "—");
        return;
    }
    num(b, v, dec);
    gu_buf_puts(b, " ");
    html(b, unit_of(s));
    gu_buf_puts(b, "<br><small>");
    day_medium(b, day);
    gu_buf_puts(b, "</small>");
}

static int
page_list(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    struct fc_series *v = NULL;
    size_t n = 0;
    int64_t today;
    struct gu_buf rows, alerts, tools;
    const char *srows, *salerts, *stools;
    json_t *vars;
    int rc;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if ((rc = commune_today(req, &com, &today)) < 0)
        return rc;
    rc = fc_series_list(req->conn, req->arena, req->who.insee, &v, &n,
                        &req->err);
    if (rc < 0)
        return rc;
    gu_buf_init(&rows);
    gu_buf_init(&alerts);
    gu_buf_init(&tools);
    for (size_t i = 0; i < n; i++) {
        const struct fc_series *s = &v[i];
        struct glance g;
        if (!s->active)
            continue;
        glance_of(req, s, today, &g);
        gu_buf_printf(&rows,
                      "<tr><th scope=\"row\"><a href=\"/agent/previsions/"
                      "%" PRId64 "\">",
                      s->id);
        html(&rows, s->name);
        gu_buf_puts(&rows, "</a></th><td>");
        html(&rows, kind_label(s->kind));
        gu_buf_puts(&rows, "</td><td>");
        html(&rows, s->site && *s->site ? s->site : "—");
        gu_buf_puts(&rows, "</td><td class=\"num\">");
        dated_value(&rows, s, g.last, 1, g.last_day);
        gu_buf_puts(&rows, "</td><td class=\"num\">");
        dated_value(&rows, s, g.p50, 0, g.next_day);
        gu_buf_puts(&rows, "</td><td class=\"num\">");
        if (s->kind == FC_KIND_CANTINE && g.next_day && isfinite(g.order)) {
            num(&rows, g.order, 0);
            gu_buf_puts(&rows, " repas");
        } else {
            gu_buf_puts(&rows, "—");
        }
        gu_buf_puts(&rows, "</td></tr>\n");
    }
    if (rows.n == 0)
        gu_buf_puts(&rows, "<tr><td colspan=\"6\">Aucune série pour "
                           "l’instant : importez un fichier CSV (« guichet "
                           "forecast import » ou l’API).</td></tr>\n");
    rc = alert_rows(req, &alerts);
    if (rc < 0) {
        gu_buf_fini(&rows);
        gu_buf_fini(&alerts);
        gu_buf_fini(&tools);
        return rc;
    }
    if (can_work(req)) {
        gu_buf_puts(&tools,
                    "<form method=\"post\" action=\"/agent/previsions/"
                    "recalculer\" class=\"fc-inline\"><input type=\"hidden\""
                    " name=\"csrf\" value=\"");
        html(&tools, req->who.csrf);
        gu_buf_puts(&tools,
                    "\"><button type=\"submit\" class=\"btn\">Recalculer les "
                    "prévisions</button></form>\n<a class=\"btn "
                    "btn-secondary\" href=\"/agent/previsions/saisie\">Saisir "
                    "les repas du jour</a>\n");
    }
    srows = take(req, &rows);
    salerts = take(req, &alerts);
    stools = take(req, &tools);
    if (!srows || !salerts || !stools)
        return GU_ENOMEM;
    vars = json_pack("{s:s, s:s, s:s, s:s, s:s}", "commune",
                     com.name ? com.name : "", "lignes", srows, "alertes",
                     salerts, "outils", stools, "message",
                     done_message(req));
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, "agent-previsions.html", vars);
}

/* POST /agent/previsions/recalculer */
static int
post_refit(struct http_req *req, struct http_resp *resp)
{
    size_t fitted = 0, skipped = 0;
    const char *to;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    rc = fc_fit_commune(req->conn, req->arena, req->who.insee, &fitted,
                        &skipped, &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "forecast.fit_commune", req->who.insee,
               "fitted=%zu skipped=%zu", fitted, skipped);
    to = gu_arena_sprintf(req->arena,
                          "/agent/previsions?fait=recalcul&n=%zu&ignorees=%zu",
                          fitted, skipped);
    return to ? http_redirect(resp, to) : GU_ENOMEM;
}

/* POST /agent/previsions/alertes/{id}/vue */
static int
post_alert_seen(struct http_req *req, struct http_resp *resp)
{
    int64_t id;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    rc = fc_alert_seen(req->conn, req->who.insee, id, &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "forecast.alert_seen", "", "id=%" PRId64, id);
    return http_redirect(resp, "/agent/previsions?fait=vue");
}

/* ------------------------------------------------------------------ */
/* The chart                                                           */
/* ------------------------------------------------------------------ */

#define CW 960.0  /* viewBox */
#define CH 380.0
#define PL 64.0   /* plot margins */
#define PR 16.0
#define PT 24.0
#define PB 86.0   /* axis labels and legend */

struct chart {
    const struct fc_day *d;
    size_t n;
    double ymax;
    int64_t last; /* last day with an actual */
};

static double
cx(const struct chart *c, size_t i)
{
    return PL + ((double)i + 0.5) * (CW - PL - PR) / (double)c->n;
}

static double
cy(const struct chart *c, double v)
{
    return PT + (CH - PT - PB) * (1.0 - v / c->ymax);
}

/* A "nice" step (1, 2 or 5 times a power of ten) for about 5 lines. */
static double
nice_step(double max)
{
    double raw = max / 5.0, p = pow(10, floor(log10(raw))), f = raw / p;

    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* Values of field k (0 actual, 1 staff, 2 p10, 3 p50, 4 p90). */
static double
fieldv(const struct fc_day *d, int k)
{
    switch (k) {
    case 0:
        return d->actual;
    case 1:
        return d->staff;
    case 2:
        return d->p10;
    case 3:
        return d->p50;
    default:
        return d->p90;
    }
}

/* A polyline of field k through the days that have it. */
static size_t
polyline(struct gu_buf *b, const struct chart *c, int k, const char *attrs)
{
    size_t pts = 0;

    for (size_t i = 0; i < c->n; i++) {
        double v = fieldv(&c->d[i], k);
        if (isnan(v))
            continue;
        gu_buf_puts(b, pts == 0 ? "<polyline points=\"" : " ");
        gu_buf_printf(b, "%.1f,%.1f", cx(c, i), cy(c, v));
        pts++;
    }
    if (pts)
        gu_buf_printf(b, "\" fill=\"none\" %s/>\n", attrs);
    return pts;
}

/* Marker shapes: 0 circle, 1 square, 2 triangle. */
static void
marker(struct gu_buf *b, int shape, double x, double y, const char *attrs)
{
    if (shape == 0)
        gu_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" %s/>", x,
                      y, attrs);
    else if (shape == 1)
        gu_buf_printf(b,
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\" "
                      "%s/>",
                      x - 3.5, y - 3.5, attrs);
    else
        gu_buf_printf(b,
                      "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" "
                      "%s/>",
                      x, y - 4.5, x - 4.5, y + 3.5, x + 4.5, y + 3.5, attrs);
}

static void
markers(struct gu_buf *b, const struct chart *c, int k, int shape,
        const char *attrs)
{
    for (size_t i = 0; i < c->n; i++) {
        double v = fieldv(&c->d[i], k);
        if (!isnan(v))
            marker(b, shape, cx(c, i), cy(c, v), attrs);
    }
    gu_buf_puts(b, "\n");
}

/* Min, max and mean of field k; count returned. */
static size_t
span(const struct chart *c, int k, double *lo, double *hi, double *mean)
{
    size_t n = 0;
    double sum = 0;

    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < c->n; i++) {
        double v = fieldv(&c->d[i], k);
        if (isnan(v))
            continue;
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
        sum += v;
        n++;
    }
    *mean = n ? sum / (double)n : NAN;
    return n;
}

/* The text alternative of the chart. */
static void
chart_desc(struct gu_buf *b, const struct chart *c, const struct fc_series *s)
{
    double lo, hi, mean, plo, phi, pm, qlo, qhi, qm;
    size_t alerts = 0, na, nf, ns;
    const char *u = unit_of(s);

    na = span(c, 0, &lo, &hi, &mean);
    nf = span(c, 3, &plo, &phi, &pm);
    ns = span(c, 1, &qlo, &qhi, &qm);
    for (size_t i = 0; i < c->n; i++)
        alerts += c->d[i].alert;
    gu_buf_puts(b, "Du ");
    day_medium(b, c->d[0].t);
    gu_buf_puts(b, " au ");
    day_medium(b, c->d[c->n - 1].t);
    gu_buf_puts(b, ". ");
    if (na) {
        gu_buf_printf(b, "Réel sur %zu jours : de ", na);
        num(b, lo, 1);
        gu_buf_puts(b, " à ");
        num(b, hi, 1);
        gu_buf_printf(b, " %s, en moyenne ", u);
        num(b, mean, 1);
        gu_buf_puts(b, ". ");
    } else {
        gu_buf_puts(b, "Aucun relevé sur la période. ");
    }
    if (nf) {
        double ilo, ihi, im;
        span(c, 2, &ilo, &ihi, &im);
        gu_buf_printf(b, "Prévision médiane sur %zu jours : de ", nf);
        num(b, plo, 0);
        gu_buf_puts(b, " à ");
        num(b, phi, 0);
        gu_buf_printf(b, " %s ; intervalle P10–P90 de ", u);
        num(b, ilo, 0);
        span(c, 4, &ilo, &ihi, &im);
        gu_buf_puts(b, " à ");
        num(b, ihi, 0);
        gu_buf_puts(b, ". ");
    } else {
        gu_buf_puts(b, "Aucune prévision calculée. ");
    }
    if (ns) {
        gu_buf_printf(b, "Prévision des agents sur %zu jours, en moyenne ",
                      ns);
        num(b, qm, 1);
        gu_buf_puts(b, ". ");
    }
    if (alerts)
        gu_buf_printf(b, "%zu jour(s) en alerte, hors de l’intervalle d’alerte. ", alerts);
    gu_buf_puts(b, "Les valeurs sont dans le tableau « Données du "
                   "graphique ».");
}

static void
legend_item(struct gu_buf *b, double x, double y, const char *line,
            int shape, const char *mattrs, const char *label)
{
    gu_buf_printf(b, "<g transform=\"translate(%.1f,%.1f)\">", x, y);
    if (line)
        gu_buf_printf(b, "<line x1=\"0\" y1=\"0\" x2=\"34\" y2=\"0\" %s/>",
                      line);
    else
        gu_buf_puts(b, "<rect x=\"0\" y=\"-7\" width=\"34\" height=\"14\" "
                       "fill=\"#dce8f5\"/><rect x=\"0\" y=\"-7\" "
                       "width=\"34\" height=\"14\" fill=\"url(#fc-hatch)\" "
                       "stroke=\"#5b8cc0\"/>");
    if (shape >= 0)
        marker(b, shape, 17, 0, mattrs);
    gu_buf_puts(b, "<text x=\"42\" y=\"4\">");
    html(b, label);
    gu_buf_puts(b, "</text></g>");
}

#define A_STYLE "stroke=\"#1b1b1b\" stroke-width=\"2.2\""
#define F_STYLE "stroke=\"#0b5cad\" stroke-width=\"2\" stroke-dasharray=\"8 5\""
#define S_STYLE "stroke=\"#a14000\" stroke-width=\"2\" stroke-dasharray=\"2 4\""
#define A_MARK "fill=\"#1b1b1b\""
#define F_MARK "fill=\"#fff\" stroke=\"#0b5cad\" stroke-width=\"1.6\""
#define S_MARK "fill=\"#a14000\""

static void
chart_svg(struct gu_buf *b, const struct fc_day *d, size_t n,
          const struct fc_series *s, int64_t last)
{
    struct chart c = {.d = d, .n = n, .ymax = 0, .last = last};
    double step, band_lo = 0;
    size_t nb = 0;

    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 5; k++) {
            double v = fieldv(&d[i], k);
            if (isfinite(v))
                c.ymax = fmax(c.ymax, v);
        }
    }
    if (c.ymax <= 0)
        c.ymax = 10;
    step = nice_step(c.ymax);
    c.ymax = ceil(c.ymax * 1.05 / step) * step;

    gu_buf_printf(b,
                  "<svg class=\"fc-chart\" viewBox=\"0 0 %.0f %.0f\" "
                  "role=\"img\" aria-labelledby=\"fc-chart-titre "
                  "fc-chart-desc\" xmlns=\"http://www.w3.org/2000/svg\">\n"
                  "<title id=\"fc-chart-titre\">",
                  CW, CH);
    html(b, s->name);
    gu_buf_puts(b, " : historique, prévision et intervalle</title>\n"
                   "<desc id=\"fc-chart-desc\">");
    chart_desc(b, &c, s);
    gu_buf_puts(b,
                "</desc>\n<defs><pattern id=\"fc-hatch\" width=\"6\" "
                "height=\"6\" patternUnits=\"userSpaceOnUse\" "
                "patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" "
                "x2=\"0\" y2=\"6\" stroke=\"#5b8cc0\" stroke-width=\"1.5\"/>"
                "</pattern></defs>\n<g font-size=\"13\" fill=\"#1b1b1b\" "
                "font-family=\"sans-serif\">\n");
    /* grid and y labels */
    for (double v = 0; v <= c.ymax + step / 2; v += step) {
        char lab[64];
        gu_buf_printf(b,
                      "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"#d0d4d9\"/><text x=\"%.1f\" y=\"%.1f\" "
                      "text-anchor=\"end\">%s</text>\n",
                      PL, CW - PR, cy(&c, v), cy(&c, v), PL - 6,
                      cy(&c, v) + 4, num_fr(v, 1, lab, sizeof(lab)));
    }
    if (*unit_of(s)) {
        gu_buf_printf(b, "<text x=\"4\" y=\"%.1f\">", PT - 8);
        html(b, unit_of(s));
        gu_buf_puts(b, "</text>\n");
    }
    /* x labels on Mondays */
    for (size_t i = 0; i < n; i++) {
        if (gu_day_weekday(d[i].t) != 1)
            continue;
        gu_buf_printf(b,
                      "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"#1b1b1b\"/><text x=\"%.1f\" y=\"%.1f\" "
                      "text-anchor=\"middle\">",
                      cx(&c, i), cx(&c, i), CH - PB, CH - PB + 5, cx(&c, i),
                      CH - PB + 19);
        day_short(b, d[i].t);
        gu_buf_puts(b, "</text>\n");
    }
    gu_buf_printf(b,
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"#1b1b1b\"/>\n",
                  PL, CW - PR, CH - PB, CH - PB);
    /* the P10-P90 band: p90 forward, p10 back */
    for (size_t i = 0; i < n; i++) {
        if (isnan(d[i].p10) || isnan(d[i].p90))
            continue;
        gu_buf_puts(b, nb == 0 ? "<polygon class=\"fc-band\" points=\"" : " ");
        gu_buf_printf(b, "%.1f,%.1f", cx(&c, i), cy(&c, d[i].p90));
        nb++;
    }
    if (nb) {
        for (size_t i = n; i-- > 0;) {
            if (isnan(d[i].p10) || isnan(d[i].p90))
                continue;
            gu_buf_printf(b, " %.1f,%.1f", cx(&c, i), cy(&c, d[i].p10));
        }
        gu_buf_puts(b, "\" fill=\"#dce8f5\"/>\n");
        /* the same outline hatched */
        for (size_t i = 0, k = 0; i < n; i++) {
            if (isnan(d[i].p10) || isnan(d[i].p90))
                continue;
            gu_buf_puts(b, k++ == 0 ? "<polygon points=\"" : " ");
            gu_buf_printf(b, "%.1f,%.1f", cx(&c, i), cy(&c, d[i].p90));
        }
        for (size_t i = n; i-- > 0;) {
            if (isnan(d[i].p10) || isnan(d[i].p90))
                continue;
            gu_buf_printf(b, " %.1f,%.1f", cx(&c, i), cy(&c, d[i].p10));
        }
        gu_buf_puts(b, "\" fill=\"url(#fc-hatch)\" stroke=\"#5b8cc0\"/>\n");
    }
    (void)band_lo;
    /* the last actual */
    for (size_t i = 0; i + 1 < n; i++) {
        if (d[i].t != last)
            continue;
        double x = (cx(&c, i) + cx(&c, i + 1)) / 2;
        gu_buf_printf(b,
                      "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"#5f6368\" stroke-dasharray=\"1 3\"/>"
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\">"
                      "Prévision →</text>\n",
                      x, x, PT, CH - PB, x + 4, PT + 10);
    }
    polyline(b, &c, 1, S_STYLE);
    polyline(b, &c, 3, F_STYLE);
    polyline(b, &c, 0, A_STYLE);
    markers(b, &c, 1, 2, S_MARK);
    markers(b, &c, 3, 1, F_MARK);
    markers(b, &c, 0, 0, A_MARK);
    for (size_t i = 0; i < n; i++) {
        if (d[i].alert && !isnan(d[i].actual))
            gu_buf_printf(b,
                          "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" "
                          "fill=\"none\" stroke=\"#b00020\" "
                          "stroke-width=\"2.5\"/>",
                          cx(&c, i), cy(&c, d[i].actual));
    }
    /* legend */
    {
        double y = CH - 30, y2 = CH - 10;
        legend_item(b, PL, y, A_STYLE, 0, A_MARK, "Réel (trait plein, ronds)");
        legend_item(b, PL + 300, y, F_STYLE, 1, F_MARK,
                    "Prévision P50 (tirets, carrés)");
        legend_item(b, PL + 620, y, NULL, -1, "",
                    "Intervalle P10–P90 (hachures)");
        legend_item(b, PL, y2, S_STYLE, 2, S_MARK,
                    "Prévision des agents (pointillés, triangles)");
        gu_buf_printf(b,
                      "<g transform=\"translate(%.1f,%.1f)\"><circle "
                      "cx=\"17\" cy=\"0\" r=\"8\" fill=\"none\" "
                      "stroke=\"#b00020\" stroke-width=\"2.5\"/><text "
                      "x=\"42\" y=\"4\">Alerte (relevé hors de l’intervalle d’alerte)</text></g>\n",
                      PL + 420, y2);
    }
    gu_buf_puts(b, "</g>\n</svg>\n");
}

/* ------------------------------------------------------------------ */
/* The series page                                                     */
/* ------------------------------------------------------------------ */

/* The settings form's values and errors (a re-render after a POST). */
struct settings_form {
    const char *risque, *cout, *kg, *alerte;
    const char *e_risque, *e_cout, *e_kg, *e_alerte;
    bool posted;
};

/* The « jours particuliers » form's values and errors (a re-render). */
struct days_form {
    const char *du, *au, *type, *libelle, *portee;
    const char *e_du, *e_au, *e_type, *e_libelle;
    bool posted;
};

/* The kinds an agent declares, in the order the form offers them. */
static const struct {
    enum fc_event_kind kind;
    const char *label;
} day_kinds[] = {
    {FC_EVENT_FERMETURE, "Fermeture (aucun service)"},
    {FC_EVENT_GREVE, "Grève"},
    {FC_EVENT_EVENEMENT, "Événement local (sortie scolaire, fête…)"},
    {FC_EVENT_PONT, "Pont décidé par la commune"},
};

static const char *
day_kind_label(enum fc_event_kind k)
{
    for (size_t i = 0; i < GU_ARRAY_LEN(day_kinds); i++)
        if (day_kinds[i].kind == k)
            return day_kinds[i].label;
    return "Événement";
}

/*
 * Length of the run of events starting at v[i]: the next days, one each,
 * of the same kind, label and scope (a range declared at once), at most
 * DAYS_RANGE_MAX; its members are marked in `used`. v is ordered by day.
 */
static size_t
day_run(const struct fc_event *v, size_t n, size_t i, bool *used,
        size_t *ids)
{
    size_t len = 1;
    int64_t last = v[i].day;

    used[i] = true;
    ids[0] = i;
    for (size_t k = i + 1; k < n && v[k].day <= last + 1 &&
                           len < DAYS_RANGE_MAX;
         k++) {
        if (used[k] || v[k].day != last + 1 || v[k].kind != v[i].kind ||
            v[k].series_id != v[i].series_id ||
            strcmp(v[k].label ? v[k].label : "",
                   v[i].label ? v[i].label : "") != 0)
            continue;
        used[k] = true;
        ids[len++] = k;
        last = v[k].day;
    }
    return len;
}

static void
days_field_error(struct gu_buf *b, const char *id, const char *error)
{
    gu_buf_printf(b, "<span class=\"field-error\" id=\"j-%s-erreur\">", id);
    html(b, error);
    gu_buf_puts(b, "</span>");
}

/* « Jours particuliers »: the ranges ahead, and the form that adds one. */
static int
days_html(struct http_req *req, struct gu_buf *b, const struct fc_series *s,
          int64_t today, const struct days_form *f)
{
    struct fc_event *v = NULL;
    size_t n = 0, *ids;
    bool *used;
    const char *errs[4] = {f->e_du, f->e_au, f->e_type, f->e_libelle};
    const char *eids[4] = {"du", "au", "type", "libelle"};
    size_t nerr = 0;
    int rc;

    rc = fc_event_list(req->conn, req->arena, req->who.insee, s->id, today,
                       today + DAYS_AHEAD, &v, &n, &req->err);
    if (rc < 0)
        return rc;
    used = gu_arena_zalloc(req->arena, (n ? n : 1) * sizeof(*used));
    ids = gu_arena_zalloc(req->arena, DAYS_RANGE_MAX * sizeof(*ids));
    if (!used || !ids)
        return GU_ENOMEM;
    gu_buf_puts(b, "<section class=\"panel\" aria-labelledby=\"jours-titre\""
                   " id=\"jours\">\n<h2 id=\"jours-titre\">Jours "
                   "particuliers</h2>\n<p class=\"hint\">Fermetures, grèves, "
                   "sorties ou ponts décidés par la commune : la prévision "
                   "en tient compte (un jour de fermeture, aucun service "
                   "prévu). Les jours fériés et les vacances scolaires "
                   "connues sont déjà dans le calendrier.</p>\n");
    if (n == 0) {
        gu_buf_puts(b, "<p id=\"jours-aucun\">Aucun jour particulier déclaré "
                       "pour les quatre prochains mois.</p>\n");
    } else {
        gu_buf_puts(b, "<div class=\"table-scroll\" role=\"region\" "
                       "tabindex=\"0\" aria-labelledby=\"jours-titre\">\n"
                       "<table class=\"fc-days\" id=\"fc-jours\">\n<caption>"
                       "Jours particuliers des quatre prochains mois"
                       "</caption>\n<thead><tr><th scope=\"col\">Jours</th>"
                       "<th scope=\"col\">Type</th><th scope=\"col\">"
                       "Libellé</th><th scope=\"col\">Séries</th>");
        if (can_work(req))
            gu_buf_puts(b, "<th scope=\"col\">Action</th>");
        gu_buf_puts(b, "</tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < n; i++) {
            struct gu_buf when;
            const char *w;
            size_t len;

            if (used[i])
                continue;
            len = day_run(v, n, i, used, ids);
            gu_buf_init(&when);
            if (len == 1) {
                day_medium(&when, v[i].day);
            } else {
                gu_buf_puts(&when, "du ");
                day_medium(&when, v[i].day);
                gu_buf_puts(&when, " au ");
                day_medium(&when, v[ids[len - 1]].day);
            }
            w = take(req, &when);
            if (!w)
                return GU_ENOMEM;
            gu_buf_puts(b, "<tr><th scope=\"row\">");
            html(b, w);
            gu_buf_puts(b, "</th><td>");
            html(b, day_kind_label(v[i].kind));
            gu_buf_puts(b, "</td><td>");
            html(b, v[i].label);
            gu_buf_puts(b, v[i].series_id ? "</td><td>Cette série</td>"
                                          : "</td><td>Toutes les séries</td>");
            if (can_work(req)) {
                gu_buf_printf(b,
                              "<td><form method=\"post\" action=\"/agent/"
                              "previsions/%" PRId64 "/jours/supprimer\">"
                              "<input type=\"hidden\" name=\"csrf\" "
                              "value=\"",
                              s->id);
                html(b, req->who.csrf);
                gu_buf_puts(b, "\"><input type=\"hidden\" name=\"ids\" "
                               "value=\"");
                for (size_t k = 0; k < len; k++)
                    gu_buf_printf(b, "%s%" PRId64, k ? "," : "",
                                  v[ids[k]].id);
                gu_buf_puts(b, "\"><button type=\"submit\" class=\"btn "
                               "btn-secondary\" aria-label=\"Supprimer : ");
                html(b, day_kind_label(v[i].kind));
                gu_buf_puts(b, ", ");
                html(b, w);
                gu_buf_puts(b, "\">Supprimer</button></form></td>");
            }
            gu_buf_puts(b, "</tr>\n");
        }
        gu_buf_puts(b, "</tbody></table></div>\n");
    }
    if (!can_work(req)) {
        gu_buf_puts(b, "</section>\n");
        return 0;
    }
    for (int i = 0; i < 4; i++)
        nerr += errs[i] != NULL;
    if (nerr) {
        gu_buf_puts(b, "<div class=\"alert alert-error fc-summary\" "
                       "role=\"alert\" tabindex=\"-1\" autofocus "
                       "id=\"jours-erreurs\"><p>Les jours n’ont pas été "
                       "enregistrés :</p><ul>");
        for (int i = 0; i < 4; i++) {
            if (!errs[i])
                continue;
            gu_buf_printf(b, "<li><a href=\"#j-%s\">", eids[i]);
            html(b, errs[i]);
            gu_buf_puts(b, "</a></li>");
        }
        gu_buf_puts(b, "</ul></div>\n");
    }
    gu_buf_printf(b,
                  "<form method=\"post\" action=\"/agent/previsions/%" PRId64
                  "/jours\" novalidate>\n<input type=\"hidden\" "
                  "name=\"csrf\" value=\"",
                  s->id);
    html(b, req->who.csrf);
    gu_buf_puts(b, "\">\n<div class=\"field\"><label for=\"j-du\">Du"
                   "<span class=\"hint\" id=\"j-du-aide\">Premier jour "
                   "(jj/mm/aaaa).</span></label><input type=\"date\" "
                   "id=\"j-du\" name=\"du\" value=\"");
    html(b, f->du);
    gu_buf_printf(b, "\" aria-describedby=\"j-du-aide j-du-erreur\"%s>",
                  f->e_du ? " aria-invalid=\"true\"" : "");
    days_field_error(b, "du", f->e_du);
    gu_buf_printf(b,
                  "</div>\n<div class=\"field\"><label for=\"j-au\">Au"
                  "<span class=\"hint\" id=\"j-au-aide\">Dernier jour, "
                  "compris ; vide pour un seul jour ; %d jours au plus."
                  "</span></label><input type=\"date\" id=\"j-au\" "
                  "name=\"au\" value=\"",
                  DAYS_RANGE_MAX);
    html(b, f->au);
    gu_buf_printf(b, "\" aria-describedby=\"j-au-aide j-au-erreur\"%s>",
                  f->e_au ? " aria-invalid=\"true\"" : "");
    days_field_error(b, "au", f->e_au);
    gu_buf_printf(b, "</div>\n<div class=\"field\"><label for=\"j-type\">"
                     "Type</label><select id=\"j-type\" name=\"type\" "
                     "aria-describedby=\"j-type-erreur\"%s>",
                  f->e_type ? " aria-invalid=\"true\"" : "");
    for (size_t i = 0; i < GU_ARRAY_LEN(day_kinds); i++) {
        const char *name = fc_event_kind_name(day_kinds[i].kind);
        gu_buf_printf(b, "<option value=\"%s\"%s>", name,
                      f->type && strcmp(f->type, name) == 0 ? " selected"
                                                           : "");
        html(b, day_kinds[i].label);
        gu_buf_puts(b, "</option>");
    }
    gu_buf_puts(b, "</select>");
    days_field_error(b, "type", f->e_type);
    gu_buf_puts(b, "</div>\n<div class=\"field\"><label for=\"j-libelle\">"
                   "Libellé<span class=\"hint\" id=\"j-libelle-aide\">"
                   "Facultatif, par exemple « Vacances de Noël » ou « Sortie "
                   "au musée ».</span></label><input type=\"text\" "
                   "id=\"j-libelle\" name=\"libelle\" value=\"");
    html(b, f->libelle);
    gu_buf_printf(b, "\" aria-describedby=\"j-libelle-aide j-libelle-erreur\""
                     "%s>",
                  f->e_libelle ? " aria-invalid=\"true\"" : "");
    days_field_error(b, "libelle", f->e_libelle);
    gu_buf_printf(b,
                  "</div>\n<fieldset class=\"field\"><legend>Pour</legend>"
                  "<label><input type=\"radio\" name=\"portee\" "
                  "value=\"serie\"%s> cette série</label> <label><input "
                  "type=\"radio\" name=\"portee\" value=\"toutes\"%s> "
                  "toutes les séries de la commune</label></fieldset>\n"
                  "<button type=\"submit\" class=\"btn\">Ajouter ces jours"
                  "</button>\n</form>\n</section>\n",
                  f->portee && strcmp(f->portee, "toutes") == 0 ? ""
                                                                : " checked",
                  f->portee && strcmp(f->portee, "toutes") == 0 ? " checked"
                                                                : "");
    return 0;
}

static void
settings_field(struct gu_buf *b, const char *id, const char *label,
               const char *hint, const char *type, const char *value,
               const char *error)
{
    gu_buf_printf(b, "<div class=\"field\"><label for=\"r-%s\">", id);
    html(b, label);
    gu_buf_printf(b, "<span class=\"hint\" id=\"r-%s-aide\">", id);
    html(b, hint);
    gu_buf_printf(b,
                  "</span></label><input type=\"%s\" id=\"r-%s\" "
                  "name=\"%s\" value=\"",
                  type, id, id);
    html(b, value);
    gu_buf_printf(b, "\" aria-describedby=\"r-%s-aide r-%s-erreur\"%s>", id,
                  id, error ? " aria-invalid=\"true\"" : "");
    gu_buf_printf(b, "<span class=\"field-error\" id=\"r-%s-erreur\">", id);
    html(b, error);
    gu_buf_puts(b, "</span></div>\n");
}

static void
settings_html(struct http_req *req, struct gu_buf *b,
              const struct fc_series *s, const struct settings_form *f)
{
    char cost[64], kg[64];
    const char *risque, *cout, *kgv, *alerte;
    const char *errs[4];
    const char *ids[4] = {"risque", "cout", "kg", "alerte"};
    size_t nerr = 0;

    if (!can_work(req))
        return;
    risque = f->posted ? f->risque : risk_value(req->arena, s->risk);
    cout = f->posted ? f->cout
                     : gu_num_fr(s->meal_cost, 2, GU_NUM_GROUP, "—", cost, sizeof(cost));
    kgv = f->posted ? f->kg : num_fr(s->meal_kg, 3, kg, sizeof(kg));
    alerte = f->posted ? f->alerte : (s->alert_to ? s->alert_to : "");
    errs[0] = f->e_risque;
    errs[1] = f->e_cout;
    errs[2] = f->e_kg;
    errs[3] = f->e_alerte;
    for (int i = 0; i < 4; i++)
        nerr += errs[i] != NULL;
    gu_buf_puts(b, "<section class=\"panel\" aria-labelledby=\"reglages-"
                   "titre\" id=\"reglages\">\n<h2 id=\"reglages-titre\">"
                   "Réglages de la série</h2>\n");
    if (nerr) {
        gu_buf_puts(b, "<div class=\"alert alert-error fc-summary\" "
                       "role=\"alert\" tabindex=\"-1\" autofocus "
                       "id=\"reglages-erreurs\"><p>Les réglages n’ont pas été "
                       "enregistrés :</p><ul>");
        for (int i = 0; i < 4; i++) {
            if (!errs[i])
                continue;
            gu_buf_printf(b, "<li><a href=\"#r-%s\">", ids[i]);
            html(b, errs[i]);
            gu_buf_puts(b, "</a></li>");
        }
        gu_buf_puts(b, "</ul></div>\n");
    }
    gu_buf_printf(b,
                  "<form method=\"post\" action=\"/agent/previsions/%" PRId64
                  "/reglages\" novalidate>\n<input type=\"hidden\" "
                  "name=\"csrf\" value=\"",
                  s->id);
    html(b, req->who.csrf);
    gu_buf_puts(b, "\">\n");
    if (s->kind == FC_KIND_CANTINE) {
        settings_field(b, "risque", "Risque accepté par défaut",
                       "« 1/20 » = au plus 1 jour court sur 20 ; « 5 % » "
                       "convient aussi (entre 0,5 % et 50 %).",
                       "text", risque, f->e_risque);
        settings_field(b, "cout", "Coût d’un repas (€)",
                       "Pour chiffrer le surplus, par exemple 2,85.", "text",
                       cout, f->e_cout);
        settings_field(b, "kg", "Poids d’un repas (kg)",
                       "Pour chiffrer le gaspillage, par exemple 0,4.", "text",
                       kgv, f->e_kg);
    }
    settings_field(b, "alerte", "Courriel des alertes",
                   "Reçoit un message quand le relevé sort de l’intervalle "
                   "attendu ; laissez vide pour aucun.",
                   "email", alerte, f->e_alerte);
    gu_buf_puts(b, "<button type=\"submit\" class=\"btn\">Enregistrer les "
                   "réglages</button>\n</form>\n</section>\n");
}

/*
 * The week's « Pourquoi ? » (web_why.c's shape, rendered as on every
 * page): where the forecasts and the recommended orders come from.
 */
static void
reco_why(struct http_req *req, struct gu_buf *b, const struct fc_fit *fit,
         const struct fc_series *s, double risk)
{
    bool canteen = s->kind == FC_KIND_CANTINE;
    size_t nerr = fit->nerrors < FCST_RECO_ERRORS ? fit->nerrors
                                                  : FCST_RECO_ERRORS;
    char pct[64], q[64], when[32];
    const char *label = fit->label ? fit->label : fit->method;
    json_t *o;

    gu_num_fr(100 * risk, 1, GU_NUM_TRIM, "–", pct, sizeof(pct));
    gu_num_fr(100 * (1 - risk), 1, GU_NUM_TRIM, "–", q, sizeof(q));
    gu_time_fr(fit->fitted_at, when, sizeof(when));
    o = http_why_new(
        canteen
            ? gu_arena_sprintf(
                  req->arena,
                  "La prévision de chaque jour vient de la méthode « %s », "
                  "celle qui s’est le moins trompée sur les jours passés. La "
                  "commande recommandée est la prévision corrigée par les "
                  "erreurs passées de cette méthode, au niveau qui laisse au "
                  "plus %s %% de jours courts (quantile %s %%), arrondie au "
                  "repas supérieur.",
                  label ? label : "", pct, q)
            : gu_arena_sprintf(
                  req->arena,
                  "La prévision de chaque jour vient de la méthode « %s », "
                  "celle qui s’est le moins trompée sur les jours passés ; "
                  "l’intervalle vient des erreurs passées de cette méthode.",
                  label ? label : ""),
        label, gu_arena_sprintf(req->arena, "du %s", when),
        fit->fitted_at);
    if (!o)
        return;
    http_why_add(o, "Méthode retenue", label);
    http_why_add(o, "Horizon de l’essai",
                 gu_arena_sprintf(req->arena, "%d jours", fit->horizon));
    http_why_add(o, "Erreurs passées utilisées",
                 nerr >= FCST_RECO_MIN_ERRORS
                     ? gu_arena_sprintf(req->arena,
                                        "les %zu derniers jours testés", nerr)
                     : gu_arena_sprintf(req->arena,
                                        "trop peu (%zu, il en faut %d) : pas "
                                        "de recommandation",
                                        nerr, FCST_RECO_MIN_ERRORS));
    if (canteen)
        http_why_add(o, "Risque choisi",
                     gu_arena_sprintf(req->arena,
                                      "%s %% de jours où la commande serait "
                                      "trop juste",
                                      pct));
    http_why_add(o, "Ce qui reste à l’agent",
                 "la commande finale : la recommandation ne connaît pas les "
                 "événements que la série ne montre pas (sortie scolaire, "
                 "grève annoncée…)");
    http_why_html(b, o, false);
    json_decref(o);
}

/* The backtest table and the sentence that says what was chosen. */
static void
backtest_html(struct gu_buf *b, const struct fc_fit *fit, bool has_fit,
              const struct fc_series *s)
{
    const struct fc_score *chosen = NULL, *staff = NULL;
    char when[32];

    if (!has_fit) {
        gu_buf_puts(b, "<p>Cette série n’a pas encore été calculée : utilisez "
                       "« Recalculer les prévisions » sur la liste des "
                       "séries (28 jours de relevés au moins).</p>\n");
        return;
    }
    for (size_t i = 0; i < fit->nscores; i++) {
        if (fit->method && strcmp(fit->scores[i].method, fit->method) == 0)
            chosen = &fit->scores[i];
        if (strcmp(fit->scores[i].method, "staff") == 0)
            staff = &fit->scores[i];
    }
    gu_buf_puts(b, "<p class=\"fc-why\">");
    if (chosen) {
        gu_buf_puts(b, "Méthode retenue : <strong>");
        html(b, chosen->label ? chosen->label : fit->label);
        gu_buf_printf(b,
                      "</strong>. Chaque méthode a prévu les %zu derniers "
                      "jours de service comme si on était %d jours avant ; "
                      "celle-ci s’est le moins trompée, avec un écart moyen "
                      "(WAPE) de ",
                      chosen->m.n, fit->horizon);
        num(b, chosen->m.wape, 1);
        gu_buf_puts(b, " %");
        if (staff && isfinite(staff->m.wape)) {
            gu_buf_puts(b, ", contre ");
            num(b, staff->m.wape, 1);
            gu_buf_puts(b, " % pour la prévision des agents");
        }
        gu_buf_puts(b, ".");
    } else if (fit->label) {
        gu_buf_puts(b, "Méthode retenue : <strong>");
        html(b, fit->label);
        gu_buf_puts(b, "</strong>.");
    }
    gu_time_fr(fit->fitted_at, when, sizeof(when));
    gu_buf_printf(b, " Calcul du %s.</p>\n", when);
    gu_buf_puts(b, "<div class=\"table-scroll\" role=\"region\" tabindex=\"0\""
                   " aria-labelledby=\"essai-titre\">\n<table class=\"fc-"
                   "backtest\">\n<caption>Erreurs de chaque méthode sur les "
                   "mêmes jours</caption>\n<thead><tr><th scope=\"col\">"
                   "Méthode</th><th scope=\"col\">Écart moyen (WAPE)</th>"
                   "<th scope=\"col\">Biais</th><th scope=\"col\">"
                   "Surproduction</th><th scope=\"col\">Jours courts</th>"
                   "<th scope=\"col\">Jours testés</th></tr></thead>\n"
                   "<tbody>\n");
    for (size_t i = 0; i < fit->nscores; i++) {
        const struct fc_score *sc = &fit->scores[i];
        bool is_chosen = sc == chosen;
        gu_buf_printf(b, "<tr%s><th scope=\"row\">",
                      is_chosen ? " class=\"fc-chosen\"" : "");
        if (is_chosen)
            gu_buf_puts(b, "<strong>");
        html(b, sc->label ? sc->label : sc->method);
        if (is_chosen)
            gu_buf_puts(b, " (retenue)</strong>");
        gu_buf_puts(b, "</th><td class=\"num\">");
        num(b, sc->m.wape, 1);
        gu_buf_puts(b, " %</td><td class=\"num\">");
        if (isfinite(sc->m.bias) && sc->m.bias > 0)
            gu_buf_puts(b, "+");
        num(b, sc->m.bias, 1);
        gu_buf_puts(b, " %</td><td class=\"num\">");
        num(b, sc->m.over, 1);
        gu_buf_printf(b,
                      " %%</td><td class=\"num\">%zu</td><td "
                      "class=\"num\">%zu</td></tr>\n",
                      sc->m.short_days, sc->m.n);
    }
    gu_buf_puts(b, "</tbody></table></div>\n");
    gu_buf_printf(b,
                  "<dl class=\"fc-terms\"><dt>Écart moyen (WAPE)</dt><dd>"
                  "total des écarts entre prévu et réel, rapporté au total "
                  "réel : plus il est bas, mieux c’est.</dd><dt>Biais</dt>"
                  "<dd>positif quand la méthode prévoit trop, négatif quand "
                  "elle prévoit trop peu.</dd><dt>Surproduction</dt><dd>%s "
                  "prévus en trop, en pourcentage du réel.</dd><dt>Jours "
                  "courts</dt><dd>jours où la prévision était sous le réel."
                  "</dd></dl>\n",
                  s->kind == FC_KIND_CANTINE ? "repas" : "quantités");
}

/* The week-ahead table, from `start` for WEEK_DAYS days. */
static void
week_html(struct gu_buf *b, const struct fc_day *d, size_t n, int64_t start,
          const struct fc_series *s, double risk)
{
    bool canteen = s->kind == FC_KIND_CANTINE;
    double t_order = 0, t_surplus = 0, t_kg = 0, t_eur = 0;
    size_t shown = 0, with_order = 0;
    bool school_unknown = false;

    for (size_t i = 0; i < n; i++)
        if (d[i].t >= start && d[i].t < start + WEEK_DAYS &&
            d[i].school_unknown)
            school_unknown = true;
    if (canteen && school_unknown)
        gu_buf_puts(b, "<p class=\"alert alert-warn\" id=\"fc-vacances-"
                       "inconnues\">Le calendrier des vacances scolaires "
                       "fourni avec Guichet ne couvre pas encore ces jours : "
                       "la prévision ne sait pas si l’école est en vacances "
                       "et compte des repas comme un jour de classe. "
                       "Déclarez les jours de vacances en fermeture dans "
                       "<a href=\"#jours\">Jours particuliers</a>.</p>\n");
    gu_buf_puts(b, "<div class=\"table-scroll\" role=\"region\" tabindex=\"0\""
                   " aria-labelledby=\"semaine-titre\">\n<table class=\"fc-"
                   "week\" id=\"fc-semaine\">\n<caption>");
    if (canteen) {
        gu_buf_puts(b, "Prévisions et commandes, ");
        risk_words(b, risk);
    } else {
        gu_buf_puts(b, "Prévisions des prochains jours");
    }
    gu_buf_puts(b, "</caption>\n<thead><tr><th scope=\"col\">Jour</th>"
                   "<th scope=\"col\">Calendrier</th><th scope=\"col\">"
                   "Basse (P10)</th><th scope=\"col\">Médiane (P50)</th>"
                   "<th scope=\"col\">Haute (P90)</th>");
    if (canteen)
        gu_buf_puts(b, "<th scope=\"col\">Commande recommandée</th>"
                       "<th scope=\"col\">Surplus attendu (repas)</th>"
                       "<th scope=\"col\">Surplus (kg)</th>"
                       "<th scope=\"col\">Surplus (€)</th>");
    gu_buf_puts(b, "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const struct fc_day *x = &d[i];
        if (x->t < start || x->t >= start + WEEK_DAYS)
            continue;
        shown++;
        gu_buf_puts(b, "<tr><th scope=\"row\">");
        day_medium(b, x->t);
        gu_buf_puts(b, "</th><td>");
        html(b, x->note ? x->note : (isnan(x->p50) ? "Pas de service" : ""));
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, x->p10, 0);
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, x->p50, 0);
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, x->p90, 0);
        gu_buf_puts(b, "</td>");
        if (canteen) {
            bool has = !isnan(x->reco.order) && !isnan(x->p50);
            gu_buf_puts(b, "<td class=\"num fc-order\">");
            num(b, has ? x->reco.order : NAN, 0);
            gu_buf_puts(b, "</td><td class=\"num\">");
            num(b, has ? x->reco.surplus : NAN, 1);
            gu_buf_puts(b, "</td><td class=\"num\">");
            num(b, has ? x->reco.surplus_kg : NAN, 1);
            gu_buf_puts(b, "</td><td class=\"num\">");
            eur(b, has ? x->reco.surplus_eur : NAN);
            gu_buf_puts(b, "</td>");
            if (has) {
                with_order++;
                t_order += x->reco.order;
                t_surplus += x->reco.surplus;
                t_kg += x->reco.surplus_kg;
                t_eur += x->reco.surplus_eur;
            }
        }
        gu_buf_puts(b, "</tr>\n");
    }
    gu_buf_puts(b, "</tbody>\n");
    if (canteen && with_order) {
        gu_buf_puts(b, "<tfoot><tr><th scope=\"row\" colspan=\"5\">Total de "
                       "la semaine</th><td class=\"num\" id=\"fc-total\">");
        num(b, t_order, 0);
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, t_surplus, 1);
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, t_kg, 1);
        gu_buf_puts(b, "</td><td class=\"num\">");
        eur(b, t_eur);
        gu_buf_puts(b, "</td></tr></tfoot>\n");
    }
    gu_buf_puts(b, "</table></div>\n");
    if (!shown)
        gu_buf_puts(b, "<p>Aucune prévision pour les prochains jours : "
                       "saisissez les relevés récents puis recalculez.</p>\n");
}

/* The chart's data as a table. */
static void
data_html(struct gu_buf *b, const struct fc_day *d, size_t n)
{
    gu_buf_puts(b, "<details class=\"fc-data\"><summary>Données du "
                   "graphique (tableau)</summary>\n<div class=\"table-"
                   "scroll\" role=\"region\" tabindex=\"0\" aria-label="
                   "\"Données du graphique\">\n<table>\n<thead><tr><th "
                   "scope=\"col\">Jour</th><th scope=\"col\">Réel</th><th "
                   "scope=\"col\">Prévision des agents</th><th scope=\"col\">"
                   "P10</th><th scope=\"col\">P50</th><th scope=\"col\">P90"
                   "</th><th scope=\"col\">Calendrier</th></tr></thead>\n"
                   "<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        gu_buf_puts(b, "<tr><th scope=\"row\">");
        day_medium(b, d[i].t);
        gu_buf_puts(b, "</th><td class=\"num\">");
        num(b, d[i].actual, 1);
        if (d[i].alert)
            gu_buf_puts(b, " (hors intervalle)");
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, d[i].staff, 1);
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, d[i].p10, 0);
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, d[i].p50, 0);
        gu_buf_puts(b, "</td><td class=\"num\">");
        num(b, d[i].p90, 0);
        gu_buf_puts(b, "</td><td>");
        html(b, d[i].note);
        gu_buf_puts(b, "</td></tr>\n");
    }
    gu_buf_puts(b, "</tbody></table></div></details>\n");
}

/* Risks offered to the cook. */
static const struct {
    const char *value;
    double risk;
} risks[] = {
    {"1/50", 0.02}, {"1/20", 0.05}, {"1/10", 0.1}, {"1/5", 0.2}, {"1/3", 1.0 / 3},
};

static void
risk_form(struct http_req *req, struct gu_buf *b, const struct fc_series *s,
          double risk, const char *error)
{
    bool found = false;

    gu_buf_printf(b,
                  "<form method=\"get\" action=\"/agent/previsions/%" PRId64
                  "\" class=\"panel fc-risk\" id=\"fc-risque\">\n<div "
                  "class=\"field\"><label for=\"risque\">Risque de manquer "
                  "de repas<span class=\"hint\" id=\"risque-aide\">Plus le "
                  "risque accepté est faible, plus la commande est grande "
                  "et le surplus attendu aussi.</span></label>\n<select "
                  "id=\"risque\" name=\"risque\" aria-describedby=\"risque-"
                  "aide%s\"%s>\n",
                  s->id, error ? " risque-erreur" : "",
                  error ? " aria-invalid=\"true\"" : "");
    for (size_t i = 0; i < GU_ARRAY_LEN(risks); i++) {
        bool sel = fabs(risks[i].risk - risk) < 1e-9;
        found = found || sel;
        gu_buf_printf(b, "<option value=\"%s\"%s>", risks[i].value,
                      sel ? " selected" : "");
        risk_words(b, risks[i].risk);
        gu_buf_puts(b, " (");
        num(b, risks[i].risk * 100, 0);
        gu_buf_puts(b, " %)</option>\n");
    }
    if (!found) {
        gu_buf_puts(b, "<option value=\"");
        html(b, risk_value(req->arena, risk));
        gu_buf_puts(b, "\" selected>");
        risk_words(b, risk);
        gu_buf_puts(b, "</option>\n");
    }
    gu_buf_puts(b, "</select>");
    if (error) {
        gu_buf_puts(b, "<span class=\"field-error\" id=\"risque-erreur\">");
        html(b, error);
        gu_buf_puts(b, "</span>");
    }
    gu_buf_puts(b, "</div>\n<div class=\"field actions\"><button type=\"submit"
                   "\" class=\"btn\">Recalculer les commandes</button></div>"
                   "\n</form>\n");
}

/* The risk of ?risque= (the series' own when absent); error text or NULL. */
static const char *
query_risk(struct http_req *req, const struct fc_series *s, double *risk)
{
    const char *q = http_query(req, "risque");
    double r;

    *risk = s->risk > 0 ? s->risk : 0.05;
    if (!q || !*q)
        return NULL;
    if (strlen(q) > FIELD_MAX || fcst_risk_parse(q, &r) < 0 ||
        r < FCST_RISK_MIN - 1e-12 || r > FCST_RISK_MAX + 1e-12)
        return "Risque invalide : choisissez une valeur de la liste "
               "(entre 1 jour sur 200 et 1 jour sur 2).";
    *risk = r;
    return NULL;
}

/* The days a series page shows: 8 weeks back from the last actual to the
   end of the forecasts. */
static int
series_days(struct http_req *req, const struct fc_series *s,
            const struct fc_fit *fit, bool has_fit, double risk,
            struct fc_day **d, size_t *n, int64_t *last)
{
    int64_t day0, day1;

    *d = NULL;
    *n = 0;
    *last = s->npoints > 0 ? s->last_t : 0;
    if (s->freq != FC_FREQ_DAY)
        return 0;
    if (s->npoints == 0 && !has_fit)
        return 0;
    day1 = *last;
    if (has_fit && fit->data_end + FC_AHEAD_DAYS > day1)
        day1 = fit->data_end + FC_AHEAD_DAYS;
    if (s->npoints == 0)
        *last = has_fit ? fit->data_end : day1;
    day0 = *last - HISTORY_DAYS + 1;
    return fc_days(req->conn, req->arena, req->who.insee, s->id, day0, day1,
                   risk, d, n, &req->err);
}

static int
render_series(struct http_req *req, struct http_resp *resp, int64_t id,
              int status, const struct settings_form *form,
              const struct days_form *days)
{
    static const struct settings_form no_settings;
    static const struct days_form no_days;
    struct store_commune com;
    struct fc_series s;
    struct fc_fit fit;
    struct fc_day *d = NULL;
    size_t n = 0;
    int64_t today, last, start;
    double risk;
    const char *risk_err, *chart, *week, *bt, *sets, *data, *riskf, *head;
    const char *jours;
    const char *msg = "";
    struct gu_buf b;
    bool has_fit;
    json_t *vars;
    int rc;

    if (!form)
        form = &no_settings;
    if (!days)
        days = &no_days;
    if ((rc = commune_today(req, &com, &today)) < 0)
        return rc;
    rc = fc_series_get(req->conn, req->arena, req->who.insee, id, &s,
                       &req->err);
    if (rc == GU_ENOTFOUND)
        return not_found(req, resp);
    if (rc < 0)
        return rc;
    rc = fc_fit_get(req->conn, req->arena, req->who.insee, id, &fit,
                    &req->err);
    if (rc < 0 && rc != GU_ENOTFOUND)
        return rc;
    has_fit = rc == 0;
    gu_err_clear(&req->err);
    risk_err = query_risk(req, &s, &risk);
    if (risk_err && status == 200)
        status = 400;
    rc = series_days(req, &s, &fit, has_fit, risk, &d, &n, &last);
    if (rc < 0)
        return rc;

    /* header line */
    gu_buf_init(&b);
    html(&b, kind_label(s.kind));
    if (s.site && *s.site) {
        gu_buf_puts(&b, " · ");
        html(&b, s.site);
    }
    if (*unit_of(&s)) {
        gu_buf_puts(&b, " · en ");
        html(&b, unit_of(&s));
    }
    gu_buf_printf(&b, " · %" PRId64 " relevés", s.npoints);
    if (s.npoints > 0) {
        gu_buf_puts(&b, ", le dernier le ");
        day_medium(&b, s.last_t);
    }
    head = take(req, &b);

    gu_buf_init(&b);
    if (n > 0)
        chart_svg(&b, d, n, &s, last);
    else if (s.freq != FC_FREQ_DAY)
        gu_buf_puts(&b, "<p>Le graphique et les prévisions portent sur les "
                        "séries journalières.</p>\n");
    else
        gu_buf_puts(&b, "<p>Pas encore de relevé pour cette série.</p>\n");
    chart = take(req, &b);

    gu_buf_init(&b);
    if (n > 0)
        data_html(&b, d, n);
    data = take(req, &b);

    gu_buf_init(&b);
    if (s.kind == FC_KIND_CANTINE)
        risk_form(req, &b, &s, risk, risk_err);
    riskf = take(req, &b);

    gu_buf_init(&b);
    start = last + 1 > today ? last + 1 : today;
    week_html(&b, d, n, start, &s, risk);
    if (has_fit)
        reco_why(req, &b, &fit, &s, risk);
    week = take(req, &b);

    gu_buf_init(&b);
    backtest_html(&b, &fit, has_fit, &s);
    bt = take(req, &b);

    gu_buf_init(&b);
    settings_html(req, &b, &s, form);
    sets = take(req, &b);

    gu_buf_init(&b);
    if ((rc = days_html(req, &b, &s, today, days)) < 0) {
        gu_buf_fini(&b);
        return rc;
    }
    jours = take(req, &b);

    if (!head || !chart || !data || !riskf || !week || !bt || !sets ||
        !jours)
        return GU_ENOMEM;
    {
        const char *fait = http_query(req, "fait");
        if (fait && !form->posted && !days->posted) {
            if (strcmp(fait, "reglages") == 0)
                msg = "Réglages enregistrés.";
            else if (strcmp(fait, "jours") == 0)
                msg = "Jours particuliers enregistrés : la prévision de "
                      "cette série en tient compte.";
            else if (strcmp(fait, "jours-supprimes") == 0)
                msg = "Jours particuliers supprimés : la prévision de "
                      "cette série est recalculée.";
        }
    }
    vars = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
        "nom", s.name, "entete", head, "graphique", chart, "donnees", data,
        "risque_form", riskf, "semaine", week, "essai", bt, "reglages", sets,
        "jours", jours,
        "message", msg, "erreur", risk_err ? risk_err : "", "id",
        gu_arena_sprintf(req->arena, "%" PRId64, s.id), "risque",
        risk_value(req->arena, risk));
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, status, "agent-previsions-serie.html",
                         vars);
}

static int
page_series(struct http_req *req, struct http_resp *resp)
{
    struct settings_form f;
    int64_t id;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if (http_param_id(req, "id", &id) < 0)
        return not_found(req, resp);
    memset(&f, 0, sizeof(f));
    return render_series(req, resp, id, 200, &f, NULL);
}

/* The shape of an e-mail address: one @, something before, a dot in
   the domain, no space or control character. The store checks too. */
static bool
email_shape(const char *s)
{
    const char *at = strchr(s, '@');

    if (!at || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.') ||
        at[1] == '.' || s[strlen(s) - 1] == '.')
        return false;
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == ',')
            return false;
    }
    return true;
}

/* POST /agent/previsions/{id}/reglages */
static int
post_settings(struct http_req *req, struct http_resp *resp)
{
    struct settings_form f;
    struct fc_series s;
    struct gu_err err;
    int64_t id;
    double risk = 0, cost = 0, kg = 0;
    const char *to;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (http_param_id(req, "id", &id) < 0)
        return not_found(req, resp);
    rc = fc_series_get(req->conn, req->arena, req->who.insee, id, &s,
                       &req->err);
    if (rc == GU_ENOTFOUND)
        return not_found(req, resp);
    if (rc < 0)
        return rc;
    memset(&f, 0, sizeof(f));
    f.posted = true;
    f.risque = http_form(req, "risque");
    f.cout = http_form(req, "cout");
    f.kg = http_form(req, "kg");
    f.alerte = http_form(req, "alerte");
    if (!f.alerte)
        f.alerte = "";
    if (s.kind == FC_KIND_CANTINE) {
        if (!f.risque)
            f.risque = "";
        if (!f.cout)
            f.cout = "";
        if (!f.kg)
            f.kg = "";
        if (strlen(f.risque) > FIELD_MAX || fcst_risk_parse(f.risque, &risk) < 0 ||
            risk < FCST_RISK_MIN - 1e-12 || risk > FCST_RISK_MAX + 1e-12)
            f.e_risque = "Risque invalide : écrivez par exemple « 1/20 » ou "
                         "« 5 % » (entre 0,5 % et 50 %).";
        if (parse_dec(f.cout, 0, COST_MAX, &cost) < 0)
            f.e_cout = "Coût invalide : un montant en euros entre 0 et 100, "
                       "par exemple 2,85.";
        if (parse_dec(f.kg, 0, KG_MAX, &kg) < 0)
            f.e_kg = "Poids invalide : un nombre de kilogrammes entre 0 et "
                     "5, par exemple 0,4.";
    }
    if (strlen(f.alerte) > 254)
        f.e_alerte = "Adresse trop longue (254 caractères au plus).";
    else if (*f.alerte && !email_shape(f.alerte))
        f.e_alerte = "Adresse électronique invalide : écrivez-la comme "
                     "nom@exemple.fr, ou laissez le champ vide.";
    if (f.e_risque || f.e_cout || f.e_kg || f.e_alerte)
        return render_series(req, resp, id, 400, &f, NULL);
    if (s.kind == FC_KIND_CANTINE) {
        s.risk = risk;
        s.meal_cost = cost;
        s.meal_kg = kg;
    }
    s.alert_to = f.alerte;
    memset(&err, 0, sizeof(err));
    rc = fc_series_save(req->conn, &s, NULL, &err);
    if (rc == GU_EINVAL) {
        const char *msg = err.user[0] ? gu_arena_strdup(req->arena, err.user)
                                      : "Valeur invalide.";
        if (err.field[0] && strstr(err.field, "risk"))
            f.e_risque = msg;
        else if (err.field[0] && strstr(err.field, "cost"))
            f.e_cout = msg;
        else if (err.field[0] && strstr(err.field, "kg"))
            f.e_kg = msg;
        else
            f.e_alerte = msg;
        return render_series(req, resp, id, 400, &f, NULL);
    }
    if (rc < 0) {
        req->err = err;
        return rc;
    }
    http_audit(req, "forecast.series_update", s.code,
               "risk=%g meal_cost=%g meal_kg=%g alert_to=%s", s.risk,
               s.meal_cost, s.meal_kg, *s.alert_to ? "oui" : "non");
    to = gu_arena_sprintf(req->arena,
                          "/agent/previsions/%" PRId64 "?fait=reglages", id);
    return to ? http_redirect(resp, to) : GU_ENOMEM;
}

/* The series of a POST /agent/previsions/{id}/..., or not_found's page. */
static int
posted_series(struct http_req *req, struct http_resp *resp,
              struct fc_series *s, bool *missing)
{
    int64_t id;
    int rc;

    *missing = false;
    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (http_param_id(req, "id", &id) < 0)
        rc = GU_ENOTFOUND;
    else
        rc = fc_series_get(req->conn, req->arena, req->who.insee, id, s,
                           &req->err);
    if (rc == GU_ENOTFOUND) {
        *missing = true;
        gu_err_clear(&req->err);
        return not_found(req, resp);
    }
    return rc;
}

/* Refit after the days changed; too little data is not an error here
   (the page says the series has no forecast yet). */
static int
days_refit(struct http_req *req, const struct fc_series *s)
{
    struct fc_fit fit;
    struct gu_err err;
    int rc;

    gu_err_clear(&err);
    rc = fc_fit_series(req->conn, req->arena, req->who.insee, s->id, &fit,
                       &err);
    if (rc == GU_EINVAL)
        return 0;
    if (rc < 0)
        req->err = err;
    return rc;
}

/* POST /agent/previsions/{id}/jours */
static int
post_days(struct http_req *req, struct http_resp *resp)
{
    struct days_form f;
    struct fc_series s;
    struct fc_event *have = NULL;
    enum fc_event_kind kind = FC_EVENT_FERMETURE;
    int64_t d0 = 0, d1 = 0, series_id;
    size_t nhave = 0, added = 0;
    bool missing;
    const char *to;
    int rc;

    if ((rc = posted_series(req, resp, &s, &missing)) != 0 || missing)
        return rc;
    memset(&f, 0, sizeof(f));
    f.posted = true;
    f.du = http_form(req, "du");
    f.au = http_form(req, "au");
    f.type = http_form(req, "type");
    f.libelle = http_form(req, "libelle");
    f.portee = http_form(req, "portee");
    if (!f.du)
        f.du = "";
    if (!f.au)
        f.au = "";
    if (!f.libelle)
        f.libelle = "";
    if (!*f.du || strlen(f.du) > FIELD_MAX || gu_date_parse(f.du, &d0) < 0)
        f.e_du = "Date de début invalide : choisissez un jour (jj/mm/aaaa).";
    if (!*f.au)
        d1 = d0;
    else if (strlen(f.au) > FIELD_MAX || gu_date_parse(f.au, &d1) < 0)
        f.e_au = "Date de fin invalide : choisissez un jour (jj/mm/aaaa), ou "
                 "laissez vide pour un seul jour.";
    if (!f.e_du && !f.e_au && d1 < d0)
        f.e_au = "La date de fin précède la date de début.";
    else if (!f.e_du && !f.e_au && d1 - d0 >= DAYS_RANGE_MAX)
        f.e_au = gu_arena_sprintf(req->arena,
                                  "%d jours au plus par saisie : ajoutez une "
                                  "période plus longue en plusieurs fois.",
                                  DAYS_RANGE_MAX);
    if (!f.type || fc_event_kind_parse(f.type, &kind) < 0)
        f.e_type = "Choisissez un type de jour dans la liste.";
    if (strlen(f.libelle) > FC_LABEL_MAX)
        f.e_libelle = gu_arena_sprintf(req->arena,
                                       "Libellé trop long (%d caractères au "
                                       "plus).",
                                       FC_LABEL_MAX);
    if (f.e_du || f.e_au || f.e_type || f.e_libelle)
        return render_series(req, resp, s.id, 400, NULL, &f);
    series_id = f.portee && strcmp(f.portee, "toutes") == 0 ? 0 : s.id;
    if ((rc = fc_event_list(req->conn, req->arena, req->who.insee, s.id, d0,
                            d1, &have, &nhave, &req->err)) < 0 ||
        (rc = store_begin(req->conn, &req->err)) < 0)
        return rc;
    for (int64_t d = d0; d <= d1; d++) {
        struct fc_event e;
        bool dup = false;

        for (size_t i = 0; i < nhave && !dup; i++)
            dup = have[i].day == d && have[i].kind == kind &&
                  have[i].series_id == series_id &&
                  strcmp(have[i].label ? have[i].label : "", f.libelle) == 0;
        if (dup)
            continue;
        memset(&e, 0, sizeof(e));
        snprintf(e.insee, sizeof(e.insee), "%s", req->who.insee);
        e.series_id = series_id;
        e.day = d;
        e.kind = kind;
        e.label = f.libelle;
        if ((rc = fc_event_save(req->conn, &e, NULL, &req->err)) < 0) {
            store_rollback(req->conn);
            return rc;
        }
        added++;
    }
    if ((rc = store_commit(req->conn, &req->err)) < 0)
        return rc;
    http_audit(req, "forecast.event_create", fc_event_kind_name(kind),
               "series=%" PRId64 " du=%s au=%s jours=%zu", series_id, f.du,
               *f.au ? f.au : f.du, added);
    if ((rc = days_refit(req, &s)) < 0)
        return rc;
    to = gu_arena_sprintf(req->arena,
                          "/agent/previsions/%" PRId64 "?fait=jours#jours",
                          s.id);
    return to ? http_redirect(resp, to) : GU_ENOMEM;
}

/* POST /agent/previsions/{id}/jours/supprimer: ids="12,13,14" */
static int
post_days_delete(struct http_req *req, struct http_resp *resp)
{
    struct fc_series s;
    const char *ids = http_form(req, "ids");
    long v[DAYS_RANGE_MAX];
    size_t n = 0;
    bool missing;
    const char *to;
    int rc;

    if ((rc = posted_series(req, resp, &s, &missing)) != 0 || missing)
        return rc;
    for (const char *p = ids; p && *p;) {
        char one[24];
        size_t len = strcspn(p, ",");

        if (n == DAYS_RANGE_MAX || len == 0 || len >= sizeof(one))
            return gu_err_set(&req->err, GU_EINVAL, "ids",
                              "Liste de jours à supprimer invalide.",
                              "bad ids");
        memcpy(one, p, len);
        one[len] = '\0';
        if (gu_parse_long(one, 1, LONG_MAX, &v[n]) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "ids",
                              "Liste de jours à supprimer invalide.",
                              "bad ids");
        n++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (n == 0)
        return gu_err_set(&req->err, GU_EINVAL, "ids",
                          "Aucun jour à supprimer.", "no ids");
    if ((rc = store_begin(req->conn, &req->err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        rc = fc_event_delete(req->conn, req->who.insee, v[i], &req->err);
        if (rc == GU_ENOTFOUND) { /* gone already: what was asked holds */
            gu_err_clear(&req->err);
            continue;
        }
        if (rc < 0) {
            store_rollback(req->conn);
            return rc;
        }
    }
    if ((rc = store_commit(req->conn, &req->err)) < 0)
        return rc;
    http_audit(req, "forecast.event_delete", "", "series=%" PRId64
               " jours=%zu", s.id, n);
    if ((rc = days_refit(req, &s)) < 0)
        return rc;
    to = gu_arena_sprintf(req->arena,
                          "/agent/previsions/%" PRId64
                          "?fait=jours-supprimes#jours",
                          s.id);
    return to ? http_redirect(resp, to) : GU_ENOMEM;
}

/* GET /agent/previsions/{id}/export.csv|xlsx */
static int
export(struct http_req *req, struct http_resp *resp, bool xlsx)
{
    struct store_commune com;
    struct fc_series s;
    struct fc_fit fit;
    struct fc_day *d = NULL;
    size_t n = 0, len = 0;
    int64_t id, today, last;
    double risk;
    char *buf = NULL, disp[FC_CODE_MAX + 96];
    bool has_fit;
    int rc;

    if ((rc = commune_today(req, &com, &today)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    rc = fc_series_get(req->conn, req->arena, req->who.insee, id, &s,
                       &req->err);
    if (rc < 0)
        return rc;
    rc = fc_fit_get(req->conn, req->arena, req->who.insee, id, &fit,
                    &req->err);
    if (rc < 0 && rc != GU_ENOTFOUND)
        return rc;
    has_fit = rc == 0;
    gu_err_clear(&req->err);
    if (query_risk(req, &s, &risk))
        return gu_err_set(&req->err, GU_EINVAL, "risque",
                          "Risque invalide : écrivez par exemple « 1/20 » "
                          "ou « 5 % ».",
                          "export: bad risk");
    rc = series_days(req, &s, &fit, has_fit, risk, &d, &n, &last);
    if (rc < 0)
        return rc;
    rc = xlsx ? fc_export_xlsx(&s, d, n, &buf, &len, &req->err)
              : fc_export_csv(&s, d, n, &buf, &len, &req->err);
    if (rc < 0)
        return rc;
    snprintf(disp, sizeof(disp), "attachment; filename=\"previsions-%s.%s\"",
             s.code, xlsx ? "xlsx" : "csv");
    rc = http_add_header(resp, "Content-Disposition", disp);
    if (rc == 0)
        rc = http_send(resp, 200,
                       xlsx ? "application/vnd.openxmlformats-officedocument."
                              "spreadsheetml.sheet"
                            : "text/csv; charset=utf-8",
                       buf, len);
    gu_free(buf);
    return rc;
}

static int
get_export_csv(struct http_req *req, struct http_resp *resp)
{
    return export(req, resp, false);
}

static int
get_export_xlsx(struct http_req *req, struct http_resp *resp)
{
    return export(req, resp, true);
}

/* ------------------------------------------------------------------ */
/* Daily count entry                                                   */
/* ------------------------------------------------------------------ */

/* A canteen of the form, what was typed and what is stored. */
struct entry {
    const struct fc_series *s;
    const char *typed;  /* NULL on GET */
    const char *error;
    double stored;      /* NAN when none */
    double staff;       /* NAN when none (kept on save) */
    double value;       /* parsed */
    double shown;       /* the stored value the form showed (hidden field
                           a<id>), NAN when none: emptying that field
                           deletes the day's count */
    bool clear;         /* emptied: delete the stored count */
};

/* The commune's active daily canteens (arena array). */
static int
canteens(struct http_req *req, struct entry **out, size_t *n)
{
    struct fc_series *v = NULL;
    size_t nv = 0, k = 0;
    struct entry *e;
    int rc = fc_series_list(req->conn, req->arena, req->who.insee, &v, &nv,
                            &req->err);

    if (rc < 0)
        return rc;
    e = gu_arena_zalloc(req->arena, (nv + 1) * sizeof(*e));
    if (!e)
        return GU_ENOMEM;
    for (size_t i = 0; i < nv; i++) {
        if (!v[i].active || v[i].kind != FC_KIND_CANTINE ||
            v[i].freq != FC_FREQ_DAY)
            continue;
        e[k].s = &v[i];
        e[k].stored = e[k].staff = e[k].value = e[k].shown = NAN;
        k++;
    }
    *out = e;
    *n = k;
    return 0;
}

/* The stored value and staff forecast of each canteen on `day`. */
static int
stored_values(struct http_req *req, struct entry *e, size_t n, int64_t day)
{
    for (size_t i = 0; i < n; i++) {
        struct fc_point *p = NULL;
        size_t np = 0;
        int rc = fc_points_range(req->conn, req->arena, req->who.insee,
                                 e[i].s->id, day, day, &p, &np, &req->err);
        if (rc < 0)
            return rc;
        e[i].stored = np ? p[0].value : NAN;
        e[i].staff = np ? p[0].staff : NAN;
    }
    return 0;
}

static int
render_entry(struct http_req *req, struct http_resp *resp, int status,
             int64_t day, int64_t today, struct entry *e, size_t n,
             const char *date_typed, const char *date_error,
             const char *general_error, bool saved)
{
    struct gu_buf sum, fields, done;
    const char *ssum, *sfields, *sdone;
    char iso[16], prev[16], next[16], daylong[48], today_iso[16];
    size_t nerr = 0;
    json_t *vars;

    gu_day_iso(day, iso, sizeof(iso));
    gu_day_iso(today, today_iso, sizeof(today_iso));
    gu_day_iso(day - 1, prev, sizeof(prev));
    gu_day_iso(day + 1 > today ? today : day + 1, next, sizeof(next));
    gu_day_fr(day, daylong, sizeof(daylong));
    gu_buf_init(&sum);
    gu_buf_init(&fields);
    gu_buf_init(&done);

    /* the error summary */
    nerr += date_error != NULL;
    nerr += general_error != NULL;
    for (size_t i = 0; i < n; i++)
        nerr += e[i].error != NULL;
    if (nerr) {
        gu_buf_printf(&sum,
                      "<div class=\"alert alert-error fc-summary\" "
                      "role=\"alert\" tabindex=\"-1\" autofocus "
                      "id=\"saisie-erreurs\"><p>%s</p><ul>",
                      nerr > 1 ? "Rien n’a été enregistré : corrigez les "
                                 "erreurs suivantes."
                               : "Rien n’a été enregistré : corrigez "
                                 "l’erreur suivante.");
        if (date_error) {
            gu_buf_puts(&sum, "<li><a href=\"#v-date\">");
            html(&sum, date_error);
            gu_buf_puts(&sum, "</a></li>");
        }
        if (general_error) {
            gu_buf_printf(&sum, "<li><a href=\"#s-%" PRId64 "\">",
                          n ? e[0].s->id : 0);
            html(&sum, general_error);
            gu_buf_puts(&sum, "</a></li>");
        }
        for (size_t i = 0; i < n; i++) {
            if (!e[i].error)
                continue;
            gu_buf_printf(&sum, "<li><a href=\"#s-%" PRId64 "\">",
                          e[i].s->id);
            html(&sum, e[i].error);
            gu_buf_puts(&sum, "</a></li>");
        }
        gu_buf_puts(&sum, "</ul></div>\n");
    }

    /* the fields */
    for (size_t i = 0; i < n; i++) {
        char v[64];
        const char *value = e[i].typed;
        if (!value)
            value = isnan(e[i].stored) ? ""
                                       : num_fr(e[i].stored, 0, v, sizeof(v));
        gu_buf_printf(&fields,
                      "<div class=\"field\"><label for=\"s-%" PRId64 "\">",
                      e[i].s->id);
        html(&fields, e[i].s->name);
        gu_buf_printf(&fields,
                      "<span class=\"hint\" id=\"s-%" PRId64 "-aide\">",
                      e[i].s->id);
        if (!isnan(e[i].stored)) {
            gu_buf_puts(&fields, "Déjà enregistré : ");
            num(&fields, e[i].stored, 0);
            gu_buf_puts(&fields, " repas ; corrigez le nombre si "
                                 "besoin, ou videz le champ pour "
                                 "l’effacer.</span></label>");
        } else {
            gu_buf_puts(&fields, "Nombre de repas servis, vide si pas de "
                                 "service.</span></label>");
        }
        gu_buf_printf(&fields,
                      "<input type=\"text\" inputmode=\"numeric\" "
                      "autocomplete=\"off\" id=\"s-%" PRId64
                      "\" name=\"s%" PRId64 "\" value=\"",
                      e[i].s->id, e[i].s->id);
        html(&fields, value);
        gu_buf_printf(&fields,
                      "\" class=\"fc-count\" aria-describedby=\"s-%" PRId64
                      "-aide s-%" PRId64 "-erreur\"%s>",
                      e[i].s->id, e[i].s->id,
                      e[i].error || (general_error && i == 0)
                          ? " aria-invalid=\"true\""
                          : "");
        if (!isnan(e[i].stored))
            gu_buf_printf(&fields,
                          "<input type=\"hidden\" name=\"a%" PRId64
                          "\" value=\"%.17g\">",
                          e[i].s->id, e[i].stored);
        gu_buf_printf(&fields,
                      "<span class=\"field-error\" id=\"s-%" PRId64
                      "-erreur\">",
                      e[i].s->id);
        html(&fields, e[i].error);
        gu_buf_puts(&fields, "</span></div>\n");
    }
    if (n == 0)
        gu_buf_puts(&fields, "<p>Aucune cantine dans cette commune.</p>\n");

    /* what was saved */
    if (saved) {
        size_t k = 0;
        gu_buf_puts(&done, "<div class=\"alert alert-ok\" role=\"status\" "
                           "id=\"saisie-ok\"><p>Enregistré. Repas servis le ");
        html(&done, daylong);
        gu_buf_puts(&done, " :</p><ul>");
        for (size_t i = 0; i < n; i++) {
            if (isnan(e[i].stored))
                continue;
            k++;
            gu_buf_puts(&done, "<li>");
            html(&done, e[i].s->name);
            gu_buf_puts(&done, " : ");
            num(&done, e[i].stored, 0);
            gu_buf_puts(&done, " repas</li>");
        }
        if (!k)
            gu_buf_puts(&done, "<li>aucun nombre</li>");
        gu_buf_puts(&done, "</ul></div>\n");
    }
    ssum = take(req, &sum);
    sfields = take(req, &fields);
    sdone = take(req, &done);
    if (!ssum || !sfields || !sdone)
        return GU_ENOMEM;
    vars = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
        "csrf", req->who.csrf ? req->who.csrf : "", "date",
        date_typed ? date_typed : iso, "date_iso", iso, "veille", prev,
        "lendemain", next, "jour", daylong, "resume", ssum, "champs", sfields,
        "enregistre", sdone, "date_erreur", date_error ? date_error : "",
        "date_invalide", date_error ? "true" : "false", "aujourdhui",
        today_iso);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, status, "agent-previsions-saisie.html",
                         vars);
}

/* The day of the form: aaaa-mm-jj or jj/mm/aaaa, not after today. */
static const char *
entry_day(const char *s, int64_t today, int64_t *day)
{
    if (!s || !*s)
        return "Indiquez le jour des repas.";
    if (strlen(s) > 32 || gu_date_parse(s, day) < 0)
        return "Date invalide : écrivez-la jj/mm/aaaa.";
    if (*day > today)
        return "La date est dans le futur : on saisit les repas servis.";
    if (*day < today - 3660)
        return "Date trop ancienne (dix ans au plus).";
    return NULL;
}

static int
page_entry(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    struct entry *e = NULL;
    size_t n = 0;
    int64_t today, day;
    const char *q, *derr = NULL;
    int rc;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if ((rc = commune_today(req, &com, &today)) < 0 ||
        (rc = canteens(req, &e, &n)) < 0)
        return rc;
    day = today;
    q = http_query(req, "date");
    if (q && *q) {
        derr = entry_day(q, today, &day);
        if (derr)
            day = today;
    }
    if ((rc = stored_values(req, e, n, day)) < 0)
        return rc;
    q = http_query(req, "enregistre");
    return render_entry(req, resp, derr ? 400 : 200, day, today, e, n, NULL,
                        derr, NULL, !derr && q && strcmp(q, "1") == 0);
}

/* A count as typed: digits (spaces between thousands allowed). */
static int
parse_count(const char *s, double *out)
{
    char buf[FIELD_MAX];
    size_t k = 0;
    long v;

    for (const char *p = s; *p; p++) {
        if (*p == ' ')
            continue;
        if (strncmp(p, "\xE2\x80\xAF", 3) == 0 ||
            strncmp(p, "\xC2\xA0", 2) == 0) { /* (narrow) no-break space */
            p += p[0] == '\xE2' ? 2 : 1;
            continue;
        }
        if (k + 1 >= sizeof(buf))
            return -1;
        buf[k++] = *p;
    }
    buf[k] = '\0';
    if (k == 0 || gu_parse_long(buf, 0, ENTRY_MAX, &v) < 0)
        return -1;
    *out = (double)v;
    return 0;
}

static int
post_entry(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    struct entry *e = NULL;
    size_t n = 0, filled = 0, bad = 0, cleared = 0, deleted = 0;
    int64_t today, day = 0;
    const char *date = http_form(req, "date"), *derr, *to;
    char iso[16];
    int rc;

    if ((rc = commune_today(req, &com, &today)) < 0 ||
        (rc = canteens(req, &e, &n)) < 0)
        return rc;
    derr = entry_day(date, today, &day);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        const char *t;
        snprintf(name, sizeof(name), "s%" PRId64, e[i].s->id);
        t = http_form(req, name);
        e[i].typed = t ? t : "";
        if (strlen(e[i].typed) > FIELD_MAX) {
            e[i].typed = "";
            e[i].error = "Nombre trop long.";
        }
        if (!*e[i].typed && !e[i].error) {
            /* emptied: the count the form showed is to be deleted */
            const char *shown;
            snprintf(name, sizeof(name), "a%" PRId64, e[i].s->id);
            shown = http_form(req, name);
            if (shown && *shown && strlen(shown) < 40) {
                char *end;
                e[i].shown = strtod(shown, &end);
                if (*end || !isfinite(e[i].shown))
                    e[i].shown = NAN;
                else
                    cleared++;
            }
            continue;
        }
        if (e[i].error) {
            bad++;
            continue;
        }
        if (parse_count(e[i].typed, &e[i].value) < 0) {
            e[i].error = gu_arena_sprintf(
                req->arena,
                "%s : nombre de repas invalide, un nombre entier entre 0 "
                "et 100 000 est attendu.",
                e[i].s->name);
            if (!e[i].error)
                return GU_ENOMEM;
            bad++;
            continue;
        }
        filled++;
    }
    if (derr || bad || filled + cleared == 0) {
        if (derr)
            day = today;
        else if ((rc = stored_values(req, e, n, day)) < 0)
            return rc;
        return render_entry(req, resp, 400, day, today, e, n,
                            date ? date : "", derr,
                            !bad && filled + cleared == 0 && n > 0
                                ? "Saisissez au moins un nombre de repas."
                                : NULL,
                            false);
    }
    if ((rc = stored_values(req, e, n, day)) < 0)
        return rc;
    rc = store_begin(req->conn, &req->err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct fc_point p = {.t = day, .value = e[i].value,
                             .staff = e[i].staff};
        if (!*e[i].typed) {
            /* Delete only the count the agent saw: one typed meanwhile by
               someone else stays. */
            int64_t gone = 0;
            if (isnan(e[i].shown) || e[i].stored != e[i].shown)
                continue;
            rc = fc_points_delete(req->conn, req->who.insee, e[i].s->id, day,
                                  day, &gone, &req->err);
            deleted += (size_t)gone;
            continue;
        }
        rc = fc_points_put(req->conn, req->who.insee, e[i].s->id, &p, 1,
                           FC_SRC_SAISIE, &req->err);
    }
    if (rc == 0)
        rc = store_commit(req->conn, &req->err);
    if (rc < 0) {
        store_rollback(req->conn);
        return rc;
    }
    gu_day_iso(day, iso, sizeof(iso));
    http_audit(req, "forecast.points", "saisie",
               "day=%s series=%zu deleted=%zu", iso, filled, deleted);
    to = gu_arena_sprintf(req->arena,
                          "/agent/previsions/saisie?date=%s&enregistre=1", iso);
    return to ? http_redirect(resp, to) : GU_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Table                                                               */
/* ------------------------------------------------------------------ */

static const struct http_route routes[] = {
    {"GET", "/agent/previsions", HTTP_LECTEUR, page_list, "agent",
     "Prévisions : les séries de la commune, alertes ouvertes", NULL, NULL},
    {"POST", "/agent/previsions/recalculer", HTTP_AGENT, post_refit, "agent",
     "Prévisions : recalculer toutes les séries de la commune (formulaire)",
     NULL, NULL},
    {"POST", "/agent/previsions/alertes/{id}/vue", HTTP_AGENT,
     post_alert_seen, "agent",
     "Prévisions : marquer une alerte comme vue (formulaire)", NULL, NULL},
    {"GET", "/agent/previsions/saisie", HTTP_AGENT, page_entry, "agent",
     "Prévisions : saisie des repas servis par cantine", NULL, NULL},
    {"POST", "/agent/previsions/saisie", HTTP_AGENT, post_entry, "agent",
     "Prévisions : enregistrer les repas servis (formulaire)", NULL, NULL},
    {"GET", "/agent/previsions/{id}", HTTP_LECTEUR, page_series, "agent",
     "Prévisions : une série, son graphique, la semaine à venir, les "
     "commandes et l’essai des méthodes",
     NULL, NULL},
    {"POST", "/agent/previsions/{id}/reglages", HTTP_AGENT, post_settings,
     "agent", "Prévisions : réglages d’une série (formulaire)", NULL, NULL},
    {"POST", "/agent/previsions/{id}/jours", HTTP_AGENT, post_days, "agent",
     "Prévisions : déclarer des jours particuliers (fermeture, grève, "
     "événement, pont) sur une période (formulaire)",
     NULL, NULL},
    {"POST", "/agent/previsions/{id}/jours/supprimer", HTTP_AGENT,
     post_days_delete, "agent",
     "Prévisions : supprimer une période de jours particuliers (formulaire)",
     NULL, NULL},
    {"GET", "/agent/previsions/{id}/export.csv", HTTP_LECTEUR, get_export_csv,
     "agent",
     "Prévisions : les jours affichés d’une série en CSV (séparateur ;, "
     "UTF-8 avec BOM ; risque)",
     NULL, NULL},
    {"GET", "/agent/previsions/{id}/export.xlsx", HTTP_LECTEUR,
     get_export_xlsx, "agent",
     "Prévisions : les jours affichés d’une série en XLSX (risque)", NULL,
     NULL},
};

const struct http_routes fc_page_routes = {"forecast-pages", routes,
                                           GU_ARRAY_LEN(routes)};
