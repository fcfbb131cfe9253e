/*
 * mon_pages.c - the agents' monitoring pages (issue 7, « Surveillance »),
 * rendered by the server so that they work without script:
 *
 *   GET  /agent/surveillance                  the commune's assets (kind,
 *                                             site, sensors and their last
 *                                             values, open alerts and
 *                                             tickets, a status word) and
 *                                             the open alerts, newest first
 *   GET  /agent/surveillance/equipements/{id} an asset: each sensor's last
 *                                             7 days as a chart, settings,
 *                                             tickets
 *   POST /agent/surveillance/equipements/{id}/reglages   mon_asset_save
 *   GET  /agent/surveillance/equipements/nouveau  the same form, empty
 *   POST /agent/surveillance/equipements      creates an asset
 *   POST /agent/surveillance/equipements/{id}/capteurs   adds a sensor
 *   GET  /agent/surveillance/alertes          alerts (?statut=, ?equipement=)
 *   GET  /agent/surveillance/alertes/{id}     the chart around the alert,
 *                                             its explanation and timeline
 *   POST /agent/surveillance/alertes/{id}/acquitter|resoudre  with a comment
 *   GET  /agent/surveillance/tickets          maintenance tickets
 *   GET  /agent/surveillance/tickets/nouveau  ?equipement= or ?alerte=
 *                                             (prefilled from the alert)
 *   POST /agent/surveillance/tickets          creates one
 *   GET  /agent/surveillance/tickets/{id}     a ticket and its edit form
 *   POST /agent/surveillance/tickets/{id}     saves it (title, text, status)
 *
 * Forms carry the session's CSRF token in a hidden field (web/ checks it
 * before a POST reaches a handler). A form's errors re-render the page
 * with status 400, a focused error summary and one message per field,
 * nothing saved; successes redirect (303) to a page that says what was
 * done. Another commune's id is the same 404 page as no id at all.
 *
 * The chart is SVG written here on a time axis (the sensors' points are
 * not day-aligned like the forecast series): role="img" with a title and
 * a text summary, nothing carried by colour alone (a solid line for the
 * measurements, triangles for anomalous points, hatched spans for alerts,
 * a dashed line for the expected value, a legend naming each), and the
 * same data by hour in a table below it.
 */
#include "monitor/mon_service.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHART_DAYS 7        /* an asset's charts */
#define ALERT_BEFORE 172800 /* the alert's chart: 2 days before */
#define ALERT_AFTER 86400   /*   and one after */
#define SILENT_AFTER 86400  /* no point for a day: « Silencieux » */
#define LIST_ALERTS 200     /* rows of a page of the alerts list */
#define LIST_PAGES 10000    /* pages of the alerts list */
#define FIELD_MAX 64        /* bytes of a typed number or time */
#define EMAIL_MAX 254
#define URL_MAX 2000

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

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

static void
num(struct gu_buf *b, double v, int dec)
{
    char s[64];

    gu_buf_puts(b, num_fr(v, dec, s, sizeof(s)));
}

/* Decimals that suit a value's size (« 1 234 », « 12,5 », « 0,034 »). */
static int
decimals_for(double v)
{
    double a = fabs(v);

    return a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
}

/* « 12,5 m³/h » */
static void
value_unit(struct gu_buf *b, double v, const char *unit)
{
    num(b, v, decimals_for(v));
    if (unit && *unit && isfinite(v)) {
        gu_buf_puts(b, "\xC2\xA0"); /* no-break space */
        html(b, unit);
    }
}

/* The page's commune and its time zone. */
static int
commune_tz(struct http_req *req, struct store_commune *com, enum gu_tz *tz)
{
    int rc = http_need_commune(req);

    if (rc < 0)
        return rc;
    rc = store_commune_get(req->conn, req->arena, req->who.insee, com,
                           &req->err);
    if (rc < 0)
        return rc;
    *tz = gu_tz_of_zone(com->zone);
    return 0;
}

/* « lun. 30/11 » */
static void
day_short(struct gu_buf *b, int64_t day)
{
    int y, m, d;

    gu_day_to_ymd(day, &y, &m, &d);
    gu_buf_printf(b, "%.3s. %02d/%02d", gu_weekday_fr(gu_day_weekday(day)), d,
                  m);
}

/* « lundi 30/11/2026 à 14 h 15 » in the commune's time (mon_service.h). */
void
mon_when_fr(struct gu_buf *b, enum gu_tz tz, int64_t t)
{
    int64_t day;
    int minute, y, m, d;
    char hm[16];

    gu_tz_from_utc(tz, t, &day, &minute);
    gu_day_to_ymd(day, &y, &m, &d);
    gu_hm_fr(minute, hm, sizeof(hm));
    gu_buf_printf(b, "%s %02d/%02d/%04d à %s",
                  gu_weekday_fr(gu_day_weekday(day)), d, m, y, hm);
}

/* « 30/11 14:15 » (tables, ticks). */
static void
when_short(struct gu_buf *b, enum gu_tz tz, int64_t t)
{
    int64_t day;
    int minute, y, m, d;

    gu_tz_from_utc(tz, t, &day, &minute);
    gu_day_to_ymd(day, &y, &m, &d);
    gu_buf_printf(b, "%02d/%02d %02d:%02d", d, m, minute / 60, minute % 60);
}

/* The back-office's 404 page (a person never lands on JSON). */
static int
not_found(struct http_req *req, struct http_resp *resp, const char *title,
          const char *detail)
{
    json_t *vars = json_pack("{s:s, s:s, s:s}", "status", "404", "title", title,
                             "detail", detail);

    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 404, "erreur.html", vars);
}

static int
asset_404(struct http_req *req, struct http_resp *resp)
{
    return not_found(req, resp, "Équipement introuvable",
                     "Cet équipement n’existe pas dans votre commune, ou "
                     "plus.");
}

static int
alert_404(struct http_req *req, struct http_resp *resp)
{
    return not_found(req, resp, "Alerte introuvable",
                     "Cette alerte n’existe pas dans votre commune, ou plus.");
}

static int
ticket_404(struct http_req *req, struct http_resp *resp)
{
    return not_found(req, resp, "Ticket introuvable",
                     "Ce ticket n’existe pas dans votre commune, ou plus.");
}

/* A generic page: agent-surveillance-page.html with a title, an optional
   back link, a message and raw HTML content. */
static int
render(struct http_req *req, struct http_resp *resp, int status,
       const char *title, const char *back_href, const char *back_label,
       const char *message, const char *content)
{
    json_t *vars =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "titre", title, "retour",
                  back_href ? back_href : "", "retour_texte",
                  back_label ? back_label : "", "message",
                  message ? message : "", "contenu", content ? content : "");

    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, status, "agent-surveillance-page.html",
                         vars);
}

/* The display name of an agent (its login when it has none), "" if none. */
static const char *
agent_name(struct http_req *req, int64_t id)
{
    struct store_agent ag;
    struct gu_err err;

    if (id <= 0)
        return "";
    memset(&err, 0, sizeof(err));
    if (store_agent_get(req->conn, req->arena, id, &ag, &err) < 0)
        return "un agent";
    return ag.name && *ag.name ? ag.name : ag.login;
}

/* The shape of an e-mail address (the service checks too). */
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

static bool
url_shape(const char *s)
{
    const char *host;

    if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else
        return false;
    if (!*host || *host == '/')
        return false;
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>')
            return false;
    }
    return true;
}

/* A form field trimmed of surrounding spaces ("" when absent). */
static const char *
form_trim(struct http_req *req, const char *name)
{
    const char *s = http_form(req, name);
    size_t n;

    if (!s)
        return "";
    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return gu_arena_strndup(req->arena, s, n);
}

/* Where a service's refusal goes on a form: the first entry whose key is
   in err->field gets the French message, else *general. */
struct field_slot {
    const char *key;
    const char **slot;
};

static void
refusal_to_field(struct http_req *req, const struct gu_err *err,
                 const struct field_slot *map, size_t n, const char **general)
{
    const char *msg = err->user[0] ? gu_arena_strdup(req->arena, err->user)
                                   : "Valeur invalide.";

    for (size_t i = 0; i < n; i++) {
        if (strstr(err->field, map[i].key)) {
            *map[i].slot = msg;
            return;
        }
    }
    *general = msg;
}

/* « 02:00 », « 2 h », « 2h30 », « 02 h 30 » -> minutes of the day; -1. */
static int
parse_hm(const char *s)
{
    long h = -1, m = 0;
    const char *p = s;
    int digits = 0;

    h = 0;
    while (*p >= '0' && *p <= '9' && digits < 2) {
        h = h * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits)
        return -1;
    while (*p == ' ')
        p++;
    if (*p == ':' || *p == 'h' || *p == 'H') {
        p++;
        while (*p == ' ')
            p++;
        digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 2) {
            m = m * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 1)
            return -1;
    }
    while (*p == ' ')
        p++;
    if (*p || h > 23 || m > 59)
        return -1;
    return (int)(h * 60 + m);
}

/* ------------------------------------------------------------------ */
/* The chart                                                           */
/* ------------------------------------------------------------------ */

#define CW 960.0 /* viewBox */
#define CH 340.0
#define PL 70.0 /* plot margins */
#define PR 16.0
#define PT 24.0
#define PB 78.0       /* axis labels and legend */
#define DRAW_COLS 880 /* columns of the plot: at most 2 points each */

/* A shaded span (an alert) on the time axis. */
struct span {
    int64_t t0, t1;
};

/* What one chart shows. Borrowed pointers. */
struct tchart {
    const char *id;    /* unique in the page: "c12" */
    const char *title; /* the sensor's name */
    const char *unit;
    enum gu_tz tz;
    int64_t t0, t1; /* the time axis */
    const struct mon_point *p;
    size_t n;
    double threshold; /* score at or above: anomalous */
    const struct span *spans;
    size_t nspans;
    double expected;  /* NAN: no expected line */
    const char *note; /* said in the text alternative, or NULL */
    /* computed (thin_points): what is drawn */
    const struct mon_point *line, *marks;
    size_t nline, nmarks;
    double lo, hi;
};

static double
tx(const struct tchart *c, int64_t t)
{
    double f = (double)(t - c->t0) / (double)(c->t1 - c->t0);

    return PL + fmin(1.0, fmax(0.0, f)) * (CW - PL - PR);
}

static double
ty(const struct tchart *c, double v)
{
    return PT + (CH - PT - PB) * (1.0 - (v - c->lo) / (c->hi - c->lo));
}

/* A "nice" step (1, 2 or 5 times a power of ten) for about 5 lines. */
static double
nice_step(double range)
{
    double raw = range / 5.0, p, f;

    if (!(raw > 0))
        return 1;
    p = pow(10, floor(log10(raw)));
    f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static bool
anomalous(const struct tchart *c, const struct mon_point *p)
{
    return isfinite(p->score) && p->score >= c->threshold;
}

static void
triangle(struct gu_buf *b, double x, double y, const char *attrs)
{
    gu_buf_printf(b, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" %s/>",
                  x, y - 6, x - 5.5, y + 4, x + 5.5, y + 4, attrs);
}

#define V_STYLE "stroke=\"#1b1f24\" stroke-width=\"1.8\""
#define E_STYLE "stroke=\"#0b5cad\" stroke-width=\"2\" stroke-dasharray=\"8 5\""
#define A_MARK "fill=\"#b00020\" stroke=\"#fff\" stroke-width=\"1\""
#define SPAN_FILL "#fbe3e6"
#define SPAN_LINE "#b00020"

/* The text alternative. */
static void
chart_desc(struct gu_buf *b, const struct tchart *c)
{
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    size_t anom = 0;

    gu_buf_puts(b, "Du ");
    mon_when_fr(b, c->tz, c->t0);
    gu_buf_puts(b, " au ");
    mon_when_fr(b, c->tz, c->t1);
    gu_buf_puts(b, ". ");
    for (size_t i = 0; i < c->n; i++) {
        lo = fmin(lo, c->p[i].value);
        hi = fmax(hi, c->p[i].value);
        sum += c->p[i].value;
        anom += anomalous(c, &c->p[i]);
    }
    if (c->n) {
        gu_buf_printf(b, "%zu mesures, de ", c->n);
        value_unit(b, lo, c->unit);
        gu_buf_puts(b, " à ");
        value_unit(b, hi, c->unit);
        gu_buf_puts(b, ", en moyenne ");
        value_unit(b, sum / (double)c->n, c->unit);
        gu_buf_puts(b, ". ");
    } else {
        gu_buf_puts(b, "Aucune mesure sur la période. ");
    }
    gu_buf_printf(b, "%zu point(s) anormal(aux). ", anom);
    if (c->nspans)
        gu_buf_printf(b, "%zu alerte(s) sur la période. ", c->nspans);
    if (isfinite(c->expected)) {
        gu_buf_puts(b, "Valeur attendue au plus fort de l’alerte : ");
        value_unit(b, c->expected, c->unit);
        gu_buf_puts(b, ". ");
    }
    if (c->note) {
        html(b, c->note);
        gu_buf_puts(b, " ");
    }
    gu_buf_puts(b, "Les valeurs par heure sont dans le tableau « Données du "
                   "graphique ».");
}

static void
legend(struct gu_buf *b, const struct tchart *c)
{
    double y = CH - 14, x = PL;

    gu_buf_printf(b,
                  "<g transform=\"translate(%.1f,%.1f)\"><line x1=\"0\" "
                  "y1=\"0\" x2=\"34\" y2=\"0\" %s/><text x=\"42\" "
                  "y=\"4\">Mesures (trait plein)</text></g>\n",
                  x, y, V_STYLE);
    x += 220;
    gu_buf_printf(b, "<g transform=\"translate(%.1f,%.1f)\">", x, y);
    triangle(b, 17, 0, A_MARK);
    gu_buf_puts(b, "<text x=\"42\" y=\"4\">Point anormal (triangle)</text>"
                   "</g>\n");
    x += 240;
    gu_buf_printf(b,
                  "<g transform=\"translate(%.1f,%.1f)\"><rect x=\"0\" "
                  "y=\"-7\" width=\"34\" height=\"14\" fill=\"%s\"/><rect "
                  "x=\"0\" y=\"-7\" width=\"34\" height=\"14\" "
                  "fill=\"url(#%s-hachures)\" stroke=\"%s\"/><text x=\"42\" "
                  "y=\"4\">Alerte (hachures)</text></g>\n",
                  x, y, SPAN_FILL, c->id, SPAN_LINE);
    if (isfinite(c->expected)) {
        x += 190;
        gu_buf_printf(b,
                      "<g transform=\"translate(%.1f,%.1f)\"><line x1=\"0\" "
                      "y1=\"0\" x2=\"34\" y2=\"0\" %s/><text x=\"42\" "
                      "y=\"4\">Attendu (tirets)</text></g>\n",
                      x, y, E_STYLE);
    }
}

/* Local midnights (or every 6 hours on short spans) as x ticks. */
static void
x_ticks(struct gu_buf *b, const struct tchart *c)
{
    int64_t day, last_day;
    int minute;
    bool short_span = c->t1 - c->t0 <= 3 * 86400;

    gu_tz_from_utc(c->tz, c->t0, &day, &minute);
    gu_tz_from_utc(c->tz, c->t1, &last_day, &minute);
    for (int64_t d = day; d <= last_day; d++) {
        for (int h = 0; h < 24; h += short_span ? 6 : 24) {
            int64_t t = gu_tz_to_utc(c->tz, d, h * 60);
            double x;
            if (t < c->t0 || t > c->t1)
                continue;
            x = tx(c, t);
            gu_buf_printf(b,
                          "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
                          "y2=\"%.1f\" stroke=\"%s\"/>",
                          x, x, PT, CH - PB + (h == 0 ? 5 : 0),
                          h == 0 ? "#9aa3ad" : "#e3e6ea");
            if (h == 0 || short_span) {
                gu_buf_printf(b,
                              "<text x=\"%.1f\" y=\"%.1f\" "
                              "text-anchor=\"middle\">",
                              x, CH - PB + 19);
                if (h == 0)
                    day_short(b, d);
                else
                    gu_buf_printf(b, "%d h", h);
                gu_buf_puts(b, "</text>");
            }
            gu_buf_puts(b, "\n");
        }
    }
}

/*
 * What is drawn: every point when they are few; else, per pixel column of
 * the plot, its lowest and highest point in time order (spikes and dips
 * stay visible) and its strongest anomalous point, so a sensor that
 * pushes every second still gives a chart of a few thousand points.
 */
static int
thin_points(struct gu_arena *a, struct tchart *c)
{
    struct mon_point *line, *marks;
    size_t nl = 0, nm = 0, i = 0;

    if (c->n <= 2 * DRAW_COLS) {
        c->line = c->p;
        c->nline = c->n;
        line = gu_arena_zalloc(a, (c->n + 1) * sizeof(*line));
        if (!line)
            return GU_ENOMEM;
        for (size_t k = 0; k < c->n; k++)
            if (anomalous(c, &c->p[k]))
                line[nm++] = c->p[k];
        c->marks = line;
        c->nmarks = nm;
        return 0;
    }
    line = gu_arena_zalloc(a, 2 * (DRAW_COLS + 1) * sizeof(*line));
    marks = gu_arena_zalloc(a, (DRAW_COLS + 1) * sizeof(*marks));
    if (!line || !marks)
        return GU_ENOMEM;
    while (i < c->n) {
        long col =
            lround((tx(c, c->p[i].t) - PL) / (CW - PL - PR) * (DRAW_COLS - 1));
        size_t lo = i, hi = i, best = SIZE_MAX;
        for (; i < c->n; i++) {
            if (lround((tx(c, c->p[i].t) - PL) / (CW - PL - PR) *
                       (DRAW_COLS - 1)) != col)
                break;
            if (c->p[i].value < c->p[lo].value)
                lo = i;
            if (c->p[i].value > c->p[hi].value)
                hi = i;
            if (anomalous(c, &c->p[i]) &&
                (best == SIZE_MAX || c->p[i].score > c->p[best].score))
                best = i;
        }
        if (nl + 2 > 2 * (DRAW_COLS + 1) || nm + 1 > DRAW_COLS + 1)
            break; /* cannot happen: one column per pass */
        line[nl++] = c->p[lo < hi ? lo : hi];
        if (lo != hi)
            line[nl++] = c->p[lo < hi ? hi : lo];
        if (best != SIZE_MAX)
            marks[nm++] = c->p[best];
    }
    c->line = line;
    c->nline = nl;
    c->marks = marks;
    c->nmarks = nm;
    return 0;
}

static void
chart_svg(struct gu_buf *b, struct tchart *c)
{
    double step, gap;
    bool open = false;

    c->lo = INFINITY;
    c->hi = -INFINITY;
    for (size_t i = 0; i < c->n; i++) {
        c->lo = fmin(c->lo, c->p[i].value);
        c->hi = fmax(c->hi, c->p[i].value);
    }
    if (isfinite(c->expected)) {
        c->lo = fmin(c->lo, c->expected);
        c->hi = fmax(c->hi, c->expected);
    }
    if (!isfinite(c->lo)) {
        c->lo = 0;
        c->hi = 10;
    }
    if (c->hi - c->lo < 1e-9) {
        c->lo -= 1;
        c->hi += 1;
    }
    step = nice_step(c->hi - c->lo);
    c->lo = floor(c->lo / step) * step;
    c->hi = ceil(c->hi / step) * step;
    if (c->t1 <= c->t0)
        c->t1 = c->t0 + 3600;

    gu_buf_printf(b,
                  "<svg class=\"mon-chart\" viewBox=\"0 0 %.0f %.0f\" "
                  "role=\"img\" aria-labelledby=\"%s-titre %s-desc\" "
                  "xmlns=\"http://www.w3.org/2000/svg\">\n<title "
                  "id=\"%s-titre\">",
                  CW, CH, c->id, c->id, c->id);
    html(b, c->title);
    gu_buf_printf(b,
                  " : mesures, points anormaux et alertes</title>\n"
                  "<desc id=\"%s-desc\">",
                  c->id);
    chart_desc(b, c);
    gu_buf_printf(b,
                  "</desc>\n<defs><pattern id=\"%s-hachures\" width=\"6\" "
                  "height=\"6\" patternUnits=\"userSpaceOnUse\" "
                  "patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" "
                  "x2=\"0\" y2=\"6\" stroke=\"%s\" stroke-width=\"1.2\"/>"
                  "</pattern></defs>\n<g font-size=\"13\" fill=\"#1b1f24\" "
                  "font-family=\"sans-serif\">\n",
                  c->id, SPAN_LINE);
    /* alert spans first, under everything */
    for (size_t i = 0; i < c->nspans; i++) {
        double x0 = tx(c, c->spans[i].t0), x1 = tx(c, c->spans[i].t1);
        if (c->spans[i].t1 < c->t0 || c->spans[i].t0 > c->t1)
            continue;
        if (x1 - x0 < 4) {
            x0 -= 2;
            x1 += 2;
        }
        gu_buf_printf(b,
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\" fill=\"%s\"/><rect x=\"%.1f\" "
                      "y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                      "fill=\"url(#%s-hachures)\" stroke=\"%s\"/>\n",
                      x0, PT, x1 - x0, CH - PT - PB, SPAN_FILL, x0, PT, x1 - x0,
                      CH - PT - PB, c->id, SPAN_LINE);
    }
    /* grid and y labels */
    for (double v = c->lo; v <= c->hi + step / 2; v += step) {
        char lab[64];
        gu_buf_printf(b,
                      "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"#d0d4d9\"/><text x=\"%.1f\" y=\"%.1f\" "
                      "text-anchor=\"end\">%s</text>\n",
                      PL, CW - PR, ty(c, v), ty(c, v), PL - 6, ty(c, v) + 4,
                      num_fr(v, decimals_for(step), lab, sizeof(lab)));
    }
    if (c->unit && *c->unit) {
        gu_buf_printf(b, "<text x=\"4\" y=\"%.1f\">", PT - 8);
        html(b, c->unit);
        gu_buf_puts(b, "</text>\n");
    }
    x_ticks(b, c);
    gu_buf_printf(b,
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"#1b1f24\"/>\n",
                  PL, CW - PR, CH - PB, CH - PB);
    if (isfinite(c->expected))
        gu_buf_printf(b,
                      "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                      "%s/>\n",
                      PL, CW - PR, ty(c, c->expected), ty(c, c->expected),
                      E_STYLE);
    /* the measurements, broken where data is missing (a gap of more than
       four times the mean spacing, and an hour at least) */
    gap = c->n > 1 ? 4.0 * (double)(c->p[c->n - 1].t - c->p[0].t) /
                         (double)(c->n - 1)
                   : 0;
    if (gap < 3600)
        gap = 3600;
    for (size_t i = 0; i < c->nline; i++) {
        if (open && (double)(c->line[i].t - c->line[i - 1].t) > gap) {
            gu_buf_printf(b, "\" fill=\"none\" %s/>\n", V_STYLE);
            open = false;
        }
        gu_buf_puts(b, open ? " " : "<polyline points=\"");
        gu_buf_printf(b, "%.1f,%.1f", tx(c, c->line[i].t),
                      ty(c, c->line[i].value));
        open = true;
    }
    if (open)
        gu_buf_printf(b, "\" fill=\"none\" %s/>\n", V_STYLE);
    for (size_t i = 0; i < c->nmarks; i++)
        triangle(b, tx(c, c->marks[i].t), ty(c, c->marks[i].value), A_MARK);
    gu_buf_puts(b, "\n");
    legend(b, c);
    gu_buf_puts(b, "</g>\n</svg>\n");
}

/* The chart's data by local hour: mean, min, max, anomalous points. */
static void
chart_table(struct gu_buf *b, const struct tchart *c)
{
    size_t i = 0;

    gu_buf_puts(b, "<details class=\"mon-data\"><summary>Données du "
                   "graphique (tableau par heure) : ");
    html(b, c->title);
    gu_buf_puts(b, "</summary>\n<div class=\"table-scroll\" role=\"region\" "
                   "tabindex=\"0\" aria-label=\"Données du graphique : ");
    html(b, c->title);
    gu_buf_puts(b, "\">\n<table>\n<thead><tr><th scope=\"col\">Heure</th>"
                   "<th scope=\"col\">Moyenne</th><th scope=\"col\">Minimum"
                   "</th><th scope=\"col\">Maximum</th><th scope=\"col\">"
                   "Mesures</th><th scope=\"col\">Points anormaux</th></tr>"
                   "</thead>\n<tbody>\n");
    while (i < c->n) {
        int64_t hour = c->p[i].t - (c->p[i].t % 3600);
        double lo = INFINITY, hi = -INFINITY, sum = 0;
        size_t k = 0, anom = 0;
        for (; i < c->n && c->p[i].t < hour + 3600; i++, k++) {
            lo = fmin(lo, c->p[i].value);
            hi = fmax(hi, c->p[i].value);
            sum += c->p[i].value;
            anom += anomalous(c, &c->p[i]);
        }
        gu_buf_puts(b, "<tr><th scope=\"row\">");
        when_short(b, c->tz, hour);
        gu_buf_puts(b, "</th><td class=\"num\">");
        value_unit(b, sum / (double)k, c->unit);
        gu_buf_puts(b, "</td><td class=\"num\">");
        value_unit(b, lo, c->unit);
        gu_buf_puts(b, "</td><td class=\"num\">");
        value_unit(b, hi, c->unit);
        gu_buf_printf(b, "</td><td class=\"num\">%zu</td><td class=\"num\">",
                      k);
        if (anom)
            gu_buf_printf(b, "<strong>%zu</strong>", anom);
        else
            gu_buf_puts(b, "0");
        gu_buf_puts(b, "</td></tr>\n");
    }
    if (c->n == 0)
        gu_buf_puts(b, "<tr><td colspan=\"6\">Aucune mesure.</td></tr>\n");
    gu_buf_puts(b, "</tbody></table></div></details>\n");
}

/* A sensor's chart and table for [t0, t1] with its alerts as spans. */
static int
sensor_chart(struct http_req *req, struct gu_buf *b, const char *id,
             const struct mon_sensor *s, enum gu_tz tz, int64_t t0, int64_t t1,
             double expected)
{
    struct mon_point *p = NULL;
    struct mon_alert *al = NULL;
    struct mon_alert_filter f;
    struct mon_params prm;
    struct span *sp;
    size_t n = 0, na = 0, k = 0;
    struct tchart c;
    struct gu_err err;
    const char *note = NULL;
    int rc;

    /* More than the store reads at once (a sensor that pushes every
       second): the most recent part of the period, said under the chart. */
    for (int tries = 0;; tries++) {
        rc = mon_points_range(req->conn, req->arena, req->who.insee, s->id, t0,
                              t1, &p, &n, &req->err);
        if (rc != GU_ETOOBIG || tries == 6)
            break;
        gu_err_clear(&req->err);
        t0 = t1 - (t1 - t0) / 4;
        note = "Trop de mesures pour la période entière : le graphique "
               "montre la partie la plus récente.";
    }
    if (rc < 0)
        return rc;
    memset(&f, 0, sizeof(f));
    f.sensor_id = s->id;
    f.status = -1;
    f.limit = 500;
    rc = mon_alert_list(req->conn, req->arena, req->who.insee, &f, &al, &na,
                        &req->err);
    if (rc < 0)
        return rc;
    sp = gu_arena_zalloc(req->arena, (na + 1) * sizeof(*sp));
    if (!sp)
        return GU_ENOMEM;
    for (size_t i = 0; i < na; i++) {
        if (al[i].last_t < t0 || al[i].first_t > t1)
            continue;
        sp[k].t0 = al[i].first_t;
        sp[k].t1 = al[i].last_t;
        k++;
    }
    memset(&err, 0, sizeof(err));
    if (mon_sensor_params(req->conn, req->who.insee, s->id, &prm, &err) < 0)
        mon_params_default(&prm);
    memset(&c, 0, sizeof(c));
    c.id = id;
    c.title = s->name;
    c.unit = s->unit;
    c.tz = tz;
    c.t0 = t0;
    c.t1 = t1;
    c.p = p;
    c.n = n;
    c.threshold = mon_params_threshold(&prm);
    c.spans = sp;
    c.nspans = k;
    c.expected = expected;
    c.note = note;
    if (c.t1 <= c.t0)
        c.t1 = c.t0 + 3600;
    if ((rc = thin_points(req->arena, &c)) < 0)
        return rc;
    gu_buf_puts(b, "<figure class=\"mon-figure\">\n");
    chart_svg(b, &c);
    if (note) {
        gu_buf_puts(b, "<figcaption class=\"hint\">");
        html(b, note);
        gu_buf_puts(b, "</figcaption>\n");
    }
    gu_buf_puts(b, "</figure>\n");
    chart_table(b, &c);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Status words                                                        */
/* ------------------------------------------------------------------ */

static const char *
alert_badge(enum mon_alert_status s)
{
    return s == MON_ALERT_OUVERTE   ? "badge badge-off"
           : s == MON_ALERT_RESOLUE ? "badge badge-ok"
                                    : "badge";
}

static void
alert_status(struct gu_buf *b, enum mon_alert_status s)
{
    gu_buf_printf(b, "<span class=\"%s\">", alert_badge(s));
    html(b, mon_alert_status_label(s));
    gu_buf_puts(b, "</span>");
}

static void
ticket_status(struct gu_buf *b, enum mon_ticket_status s)
{
    gu_buf_printf(b, "<span class=\"%s\">",
                  s == MON_TICKET_CLOS ? "badge badge-ok" : "badge");
    html(b, mon_ticket_status_label(s));
    gu_buf_puts(b, "</span>");
}

/* ------------------------------------------------------------------ */
/* Alerts as a table                                                   */
/* ------------------------------------------------------------------ */

static int
cmp_alert_newest(const void *a, const void *b)
{
    const struct mon_alert *x = a, *y = b;

    if (x->opened_at != y->opened_at)
        return x->opened_at > y->opened_at ? -1 : 1;
    return x->id > y->id ? -1 : x->id < y->id;
}

static void
alerts_table(struct gu_buf *b, const struct mon_alert *v, size_t n,
             enum gu_tz tz, const char *caption_id)
{
    gu_buf_printf(b,
                  "<div class=\"table-scroll\" role=\"region\" tabindex=\"0\" "
                  "aria-labelledby=\"%s\">\n<table class=\"mon-alerts\">\n"
                  "<thead><tr><th scope=\"col\">Alerte</th><th scope=\"col\">"
                  "Équipement</th><th scope=\"col\">Capteur</th><th "
                  "scope=\"col\">Détecteur</th><th scope=\"col\">Valeur / "
                  "attendu</th><th scope=\"col\">Début</th><th scope=\"col\">"
                  "Dernier point</th><th scope=\"col\">État</th></tr></thead>"
                  "\n<tbody>\n",
                  caption_id);
    for (size_t i = 0; i < n; i++) {
        gu_buf_printf(b,
                      "<tr><th scope=\"row\"><a href=\"/agent/surveillance/"
                      "alertes/%" PRId64 "\">Alerte n<sup>o</sup> %" PRId64
                      "</a></th><td><a href=\"/agent/surveillance/"
                      "equipements/%" PRId64 "\">",
                      v[i].id, v[i].id, v[i].asset_id);
        html(b, v[i].asset_name);
        gu_buf_puts(b, "</a></td><td>");
        html(b, v[i].sensor_name);
        gu_buf_puts(b, "</td><td>");
        html(b, mon_detector_label(v[i].detector));
        gu_buf_puts(b, "</td><td class=\"num\">");
        value_unit(b, v[i].value, v[i].unit);
        gu_buf_puts(b, " / ");
        value_unit(b, v[i].expected, v[i].unit);
        gu_buf_puts(b, "</td><td>");
        when_short(b, tz, v[i].first_t);
        gu_buf_puts(b, "</td><td>");
        when_short(b, tz, v[i].last_t);
        gu_buf_puts(b, "</td><td>");
        alert_status(b, v[i].status);
        gu_buf_puts(b, "</td></tr>\n");
    }
    if (n == 0)
        gu_buf_puts(b, "<tr><td colspan=\"8\">Aucune alerte.</td></tr>\n");
    gu_buf_puts(b, "</tbody></table></div>\n");
}

static void
tickets_table(struct gu_buf *b, const struct mon_ticket *v, size_t n,
              enum gu_tz tz, const char *caption_id, bool with_asset)
{
    gu_buf_printf(b,
                  "<div class=\"table-scroll\" role=\"region\" tabindex=\"0\" "
                  "aria-labelledby=\"%s\">\n<table class=\"mon-tickets\">\n"
                  "<thead><tr><th scope=\"col\">Ticket</th>%s<th "
                  "scope=\"col\">Créé le</th><th scope=\"col\">Mis à jour le"
                  "</th><th scope=\"col\">État</th></tr></thead>\n<tbody>\n",
                  caption_id,
                  with_asset ? "<th scope=\"col\">Équipement</th>" : "");
    for (size_t i = 0; i < n; i++) {
        gu_buf_printf(b,
                      "<tr><th scope=\"row\"><a href=\"/agent/surveillance/"
                      "tickets/%" PRId64 "\">",
                      v[i].id);
        html(b, v[i].title);
        gu_buf_puts(b, "</a></th>");
        if (with_asset) {
            gu_buf_printf(b,
                          "<td><a href=\"/agent/surveillance/equipements/"
                          "%" PRId64 "\">",
                          v[i].asset_id);
            html(b, v[i].asset_name);
            gu_buf_puts(b, "</a></td>");
        }
        gu_buf_puts(b, "<td>");
        when_short(b, tz, v[i].created_at);
        gu_buf_puts(b, "</td><td>");
        when_short(b, tz, v[i].updated_at);
        gu_buf_puts(b, "</td><td>");
        ticket_status(b, v[i].status);
        gu_buf_puts(b, "</td></tr>\n");
    }
    if (n == 0)
        gu_buf_printf(b, "<tr><td colspan=\"%d\">Aucun ticket.</td></tr>\n",
                      with_asset ? 5 : 4);
    gu_buf_puts(b, "</tbody></table></div>\n");
}

/* ------------------------------------------------------------------ */
/* The list                                                            */
/* ------------------------------------------------------------------ */

static const char *
list_message(struct http_req *req)
{
    const char *what = http_query(req, "fait");

    if (!what)
        return "";
    if (strcmp(what, "acquittee") == 0)
        return "Alerte acquittée.";
    if (strcmp(what, "resolue") == 0)
        return "Alerte résolue.";
    return "";
}

static int
page_list(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    enum gu_tz tz;
    struct mon_asset *as = NULL;
    struct mon_sensor *ss = NULL;
    struct mon_alert *al = NULL;
    struct mon_alert_filter f;
    size_t na = 0, ns = 0, nal = 0;
    int64_t now = gu_now();
    struct gu_buf rows, alerts;
    const char *srows, *salerts;
    json_t *vars;
    int rc;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if ((rc = commune_tz(req, &com, &tz)) < 0)
        return rc;
    if ((rc = mon_asset_list(req->conn, req->arena, req->who.insee, &as, &na,
                             &req->err)) < 0 ||
        (rc = mon_sensor_list(req->conn, req->arena, req->who.insee, 0, &ss,
                              &ns, &req->err)) < 0)
        return rc;
    memset(&f, 0, sizeof(f));
    f.status = -2;
    f.limit = 500;
    if ((rc = mon_alert_list(req->conn, req->arena, req->who.insee, &f, &al,
                             &nal, &req->err)) < 0)
        return rc;
    if (nal > 1)
        qsort(al, nal, sizeof(*al), cmp_alert_newest);

    gu_buf_init(&rows);
    for (size_t i = 0; i < na; i++) {
        const struct mon_asset *a = &as[i];
        size_t opened = 0, acked = 0, sensors = 0, silent = 0, empty = 0;
        for (size_t k = 0; k < nal; k++) {
            if (al[k].asset_id != a->id)
                continue;
            opened += al[k].status == MON_ALERT_OUVERTE;
            acked += al[k].status == MON_ALERT_ACQUITTEE;
        }
        gu_buf_printf(&rows,
                      "<tr><th scope=\"row\"><a href=\"/agent/surveillance/"
                      "equipements/%" PRId64 "\">",
                      a->id);
        html(&rows, a->name);
        gu_buf_puts(&rows, "</a></th><td>");
        html(&rows, mon_asset_kind_label(a->kind));
        gu_buf_puts(&rows, "</td><td>");
        html(&rows, a->site && *a->site ? a->site : "—");
        gu_buf_puts(&rows, "</td><td><ul class=\"mon-last\">");
        for (size_t k = 0; k < ns; k++) {
            const struct mon_sensor *s = &ss[k];
            if (s->asset_id != a->id)
                continue;
            sensors++;
            gu_buf_puts(&rows, "<li>");
            html(&rows, s->name);
            gu_buf_puts(&rows, " : ");
            if (s->last_t > 0 && isfinite(s->last_value)) {
                gu_buf_puts(&rows, "<strong>");
                value_unit(&rows, s->last_value, s->unit);
                gu_buf_puts(&rows, "</strong> <small>(");
                when_short(&rows, tz, s->last_t);
                gu_buf_puts(&rows, ")</small>");
                silent += now - s->last_t > SILENT_AFTER;
            } else {
                gu_buf_puts(&rows, "aucune mesure");
                empty++;
            }
            gu_buf_puts(&rows, "</li>");
        }
        if (!sensors)
            gu_buf_puts(&rows, "<li>aucun capteur</li>");
        gu_buf_printf(&rows,
                      "</ul></td><td class=\"num\">%d</td><td "
                      "class=\"num\">%d</td><td>",
                      a->open_alerts, a->open_tickets);
        if (opened)
            gu_buf_puts(&rows, "<span class=\"badge badge-off\">Alerte"
                               "</span>");
        else if (acked)
            gu_buf_puts(&rows, "<span class=\"badge\">Alerte acquittée"
                               "</span>");
        else if (silent || (sensors && empty == sensors))
            gu_buf_puts(&rows, "<span class=\"badge\">Sans mesure récente"
                               "</span>");
        else if (!sensors)
            gu_buf_puts(&rows, "<span class=\"badge\">Aucun capteur</span>");
        else
            gu_buf_puts(&rows, "<span class=\"badge badge-ok\">Normal"
                               "</span>");
        gu_buf_puts(&rows, "</td></tr>\n");
    }
    if (na == 0)
        gu_buf_puts(&rows, "<tr><td colspan=\"7\">Aucun équipement suivi pour "
                           "l’instant : ajoutez-en un avec « Nouvel "
                           "équipement » (ou par l’API /api/v1/monitor)."
                           "</td></tr>\n");
    gu_buf_init(&alerts);
    alerts_table(&alerts, al, nal, tz, "alertes-titre");
    srows = take(req, &rows);
    salerts = take(req, &alerts);
    if (!srows || !salerts)
        return GU_ENOMEM;
    vars = json_pack("{s:s, s:s, s:s, s:s, s:s}", "commune",
                     com.name ? com.name : "", "lignes", srows, "alertes",
                     salerts, "message", list_message(req), "nouveau",
                     can_work(req) ? "<a class=\"btn\" href=\"/agent/"
                                     "surveillance/equipements/nouveau\">"
                                     "Nouvel équipement</a>"
                                   : "");
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, "agent-surveillance.html", vars);
}

/* ------------------------------------------------------------------ */
/* An asset                                                            */
/* ------------------------------------------------------------------ */

/* The settings form as typed, and its errors. */
struct asset_form {
    bool posted;
    const char *nom, *site, *type, *notes, *courriel, *webhook, *sensibilite,
        *nuit_debut, *nuit_fin;
    bool det[MON_DET_COUNT];
    const char *e_nom, *e_site, *e_type, *e_notes, *e_courriel, *e_webhook,
        *e_sensibilite, *e_det, *e_nuit, *e_general;
};

static const struct {
    const char *value, *label;
    double v;
} sensitivities[] = {
    {"calme", "Calme : seulement les écarts nets", 0.2},
    {"normale", "Normale (recommandée)", 0.5},
    {"vigilante", "Vigilante : signaler tôt, plus d’alertes", 0.8},
};

static const enum mon_asset_kind kinds[] = {
    MON_ASSET_POMPE,    MON_ASSET_COMPTEUR,  MON_ASSET_RESERVOIR,
    MON_ASSET_BATIMENT, MON_ASSET_CHAUDIERE, MON_ASSET_ECLAIRAGE,
    MON_ASSET_AUTRE};

/* « calme », « normale », « vigilante » or a number in [0, 1]; -1. */
static int
parse_sensitivity(const char *s, double *out)
{
    char buf[FIELD_MAX], *end;
    size_t n = strlen(s);
    double v;

    for (size_t i = 0; i < GU_ARRAY_LEN(sensitivities); i++) {
        if (strcmp(s, sensitivities[i].value) == 0) {
            *out = sensitivities[i].v;
            return 0;
        }
    }
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n + 1);
    for (char *p = buf; *p; p++) {
        if (*p == ',')
            *p = '.';
        else if (!(*p >= '0' && *p <= '9') && *p != '.')
            return -1;
    }
    v = strtod(buf, &end);
    if (*end || !isfinite(v) || v < 0 || v > 1)
        return -1;
    *out = v;
    return 0;
}

static const char *
hm_value(struct gu_arena *a, int minute)
{
    return gu_arena_sprintf(a, "%02d:%02d", minute / 60, minute % 60);
}

static void
text_field(struct gu_buf *b, const char *id, const char *label,
           const char *hint, const char *type, const char *value,
           const char *error, bool required)
{
    gu_buf_printf(b, "<div class=\"field\"><label for=\"r-%s\">", id);
    html(b, label);
    if (hint) {
        gu_buf_printf(b, "<span class=\"hint\" id=\"r-%s-aide\">", id);
        html(b, hint);
        gu_buf_puts(b, "</span>");
    }
    gu_buf_printf(b,
                  "</label><input type=\"%s\" id=\"r-%s\" name=\"%s\" "
                  "value=\"",
                  type, id, id);
    html(b, value);
    gu_buf_printf(b, "\" aria-describedby=\"%s%s%sr-%s-erreur\"%s%s>",
                  hint ? "r-" : "", hint ? id : "", hint ? "-aide " : "", id,
                  error ? " aria-invalid=\"true\"" : "",
                  required ? " required" : "");
    gu_buf_printf(b, "<span class=\"field-error\" id=\"r-%s-erreur\">", id);
    html(b, error);
    gu_buf_puts(b, "</span></div>\n");
}

/* The error summary of a form: pairs of (anchor, message). */
static void
error_summary(struct gu_buf *b, const char *id, const char *intro,
              const char *const *anchors, const char *const *msgs, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += msgs[i] != NULL;
    if (!k)
        return;
    gu_buf_printf(b,
                  "<div class=\"alert alert-error mon-summary\" role=\"alert\" "
                  "tabindex=\"-1\" autofocus id=\"%s\"><p>",
                  id);
    html(b, intro);
    gu_buf_puts(b, "</p><ul>");
    for (size_t i = 0; i < n; i++) {
        if (!msgs[i])
            continue;
        gu_buf_printf(b, "<li><a href=\"#%s\">", anchors[i]);
        html(b, msgs[i]);
        gu_buf_puts(b, "</a></li>");
    }
    gu_buf_puts(b, "</ul></div>\n");
}

static void
settings_html(struct http_req *req, struct gu_buf *b, const struct mon_asset *a,
              const struct mon_params *prm, const struct asset_form *f)
{
    const char *anchors[] = {"r-nom",         "r-site",      "r-type",
                             "r-notes",       "r-courriel",  "r-webhook",
                             "r-sensibilite", "r-det-gauss", "r-nuit_debut",
                             "r-nom"};
    const char *msgs[] = {
        f->e_nom,     f->e_site,        f->e_type, f->e_notes, f->e_courriel,
        f->e_webhook, f->e_sensibilite, f->e_det,  f->e_nuit,  f->e_general};
    const char *sens, *nd, *nf, *type, *notes;
    bool det[MON_DET_COUNT], found = false;
    char nb[64];

    if (!can_work(req))
        return;
    for (int i = 0; i < MON_DET_COUNT; i++)
        det[i] = f->posted ? f->det[i] : prm->enabled[i];
    sens = f->posted ? f->sensibilite : NULL;
    nd = f->posted ? f->nuit_debut : hm_value(req->arena, prm->night_start_min);
    nf = f->posted ? f->nuit_fin : hm_value(req->arena, prm->night_end_min);
    type = f->posted ? f->type : mon_asset_kind_name(a->kind);
    notes = f->posted ? f->notes : a->notes;
    gu_buf_printf(b,
                  "<section class=\"panel\" aria-labelledby=\"reglages-"
                  "titre\" id=\"reglages\">\n<h2 id=\"reglages-titre\">"
                  "%s</h2>\n",
                  a->id ? "Réglages de l’équipement"
                        : "L’équipement et sa détection");
    error_summary(b, "reglages-erreurs",
                  a->id ? "Les réglages n’ont pas été enregistrés :"
                        : "L’équipement n’a pas été créé :",
                  anchors, msgs, GU_ARRAY_LEN(msgs));
    if (a->id)
        gu_buf_printf(b,
                      "<form method=\"post\" action=\"/agent/surveillance/"
                      "equipements/%" PRId64 "/reglages\" novalidate>\n",
                      a->id);
    else
        gu_buf_puts(b, "<form method=\"post\" action=\"/agent/surveillance/"
                       "equipements\" novalidate>\n");
    gu_buf_puts(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
    html(b, req->who.csrf);
    gu_buf_puts(b, "\">\n");
    text_field(b, "nom", "Nom", NULL, "text", f->posted ? f->nom : a->name,
               f->e_nom, true);
    text_field(b, "site", "Site", "Lieu, adresse ou bâtiment ; facultatif.",
               "text", f->posted ? f->site : a->site, f->e_site, false);
    /* kind */
    gu_buf_printf(b,
                  "<div class=\"field\"><label for=\"r-type\">Type "
                  "d’équipement</label><select id=\"r-type\" name=\"type\" "
                  "aria-describedby=\"r-type-erreur\"%s>\n",
                  f->e_type ? " aria-invalid=\"true\"" : "");
    for (size_t i = 0; i < GU_ARRAY_LEN(kinds); i++) {
        const char *name = mon_asset_kind_name(kinds[i]);
        gu_buf_printf(b, "<option value=\"%s\"%s>", name,
                      type && strcmp(type, name) == 0 ? " selected" : "");
        html(b, mon_asset_kind_label(kinds[i]));
        gu_buf_puts(b, "</option>\n");
    }
    gu_buf_puts(b, "</select><span class=\"field-error\" "
                   "id=\"r-type-erreur\">");
    html(b, f->e_type);
    gu_buf_puts(b, "</span></div>\n");
    /* notes */
    gu_buf_printf(b,
                  "<div class=\"field\"><label for=\"r-notes\">Notes<span "
                  "class=\"hint\" id=\"r-notes-aide\">Ce que l’équipe doit "
                  "savoir (accès, modèle, contrat d’entretien).</span>"
                  "</label><textarea id=\"r-notes\" name=\"notes\" rows=\"3\" "
                  "aria-describedby=\"r-notes-aide r-notes-erreur\"%s>",
                  f->e_notes ? " aria-invalid=\"true\"" : "");
    html(b, notes);
    gu_buf_puts(b, "</textarea><span class=\"field-error\" "
                   "id=\"r-notes-erreur\">");
    html(b, f->e_notes);
    gu_buf_puts(b, "</span></div>\n");
    text_field(b, "courriel", "Courriel des alertes",
               "Reçoit un message à chaque nouvelle alerte ; laissez vide "
               "pour aucun.",
               "email", f->posted ? f->courriel : a->alert_to, f->e_courriel,
               false);
    if (req->who.role >= STORE_ROLE_ADMIN) {
        text_field(b, "webhook", "Adresse de notification (webhook)",
                   "Adresse http(s) qui reçoit chaque nouvelle alerte en "
                   "JSON ; facultatif.",
                   "url", f->posted ? f->webhook : a->webhook_url, f->e_webhook,
                   false);
    } else {
        /* Only URLs an administrator chose ever receive a POST (as in the
           API): an agent sees it and cannot change it. */
        gu_buf_puts(b, "<div class=\"field\" id=\"r-webhook\"><p "
                       "class=\"mon-label\">Adresse de notification "
                       "(webhook)</p><p>");
        html(b, a->webhook_url && *a->webhook_url ? a->webhook_url : "aucune");
        gu_buf_puts(b, "</p><span class=\"hint\">Seul un administrateur "
                       "peut la changer.</span><span class=\"field-error\">");
        html(b, f->e_webhook);
        gu_buf_puts(b, "</span></div>\n");
    }
    /* sensitivity */
    gu_buf_printf(b,
                  "<div class=\"field\"><label for=\"r-sensibilite\">"
                  "Sensibilité de la détection<span class=\"hint\" "
                  "id=\"r-sensibilite-aide\">Plus elle est vigilante, plus "
                  "tôt les écarts sont signalés, et plus il y a de fausses "
                  "alertes.</span></label><select id=\"r-sensibilite\" "
                  "name=\"sensibilite\" aria-describedby=\"r-sensibilite-aide "
                  "r-sensibilite-erreur\"%s>\n",
                  f->e_sensibilite ? " aria-invalid=\"true\"" : "");
    for (size_t i = 0; i < GU_ARRAY_LEN(sensitivities); i++) {
        bool sel = sens ? strcmp(sens, sensitivities[i].value) == 0
                        : fabs(prm->sensitivity - sensitivities[i].v) < 1e-9;
        found = found || sel;
        gu_buf_printf(b, "<option value=\"%s\"%s>", sensitivities[i].value,
                      sel ? " selected" : "");
        html(b, sensitivities[i].label);
        gu_buf_puts(b, "</option>\n");
    }
    if (!found) {
        const char *v =
            sens ? sens : num_fr(prm->sensitivity, 2, nb, sizeof(nb));
        gu_buf_puts(b, "<option value=\"");
        html(b, v);
        gu_buf_puts(b, "\" selected>Personnalisée : ");
        html(b, v);
        gu_buf_puts(b, "</option>\n");
    }
    gu_buf_puts(b, "</select><span class=\"field-error\" "
                   "id=\"r-sensibilite-erreur\">");
    html(b, f->e_sensibilite);
    gu_buf_puts(b, "</span></div>\n");
    /* detectors */
    gu_buf_printf(b,
                  "<fieldset aria-describedby=\"r-det-erreur\"%s><legend>"
                  "Détecteurs en service</legend>\n<span class=\"field-error\" "
                  "id=\"r-det-erreur\">",
                  f->e_det ? " class=\"mon-invalid\"" : "");
    html(b, f->e_det);
    gu_buf_puts(b, "</span>\n");
    for (int i = 0; i < MON_DET_COUNT; i++) {
        const char *code = mon_detector_code((enum mon_detector)i);
        gu_buf_printf(b,
                      "<div class=\"check\"><input type=\"checkbox\" "
                      "id=\"r-det-%s\" name=\"det_%s\" value=\"1\"%s> "
                      "<label for=\"r-det-%s\">",
                      code, code, det[i] ? " checked" : "", code);
        html(b, mon_detector_label((enum mon_detector)i));
        gu_buf_puts(b, "</label></div>\n");
    }
    gu_buf_puts(b, "</fieldset>\n<fieldset><legend>Fenêtre de nuit (débit "
                   "minimum de nuit)</legend>\n");
    text_field(b, "nuit_debut", "Début", "Heure locale, par exemple 02:00.",
               "text", nd, f->e_nuit, false);
    text_field(b, "nuit_fin", "Fin", "Heure locale, par exemple 04:00.", "text",
               nf, NULL, false);
    gu_buf_printf(b,
                  "</fieldset>\n<button type=\"submit\" class=\"btn\">%s"
                  "</button>\n</form>\n</section>\n",
                  a->id ? "Enregistrer les réglages" : "Créer l’équipement");
}


/* The « add a sensor » form as typed, and its errors. */
struct sensor_form {
    bool posted;
    const char *code, *nom, *grandeur, *unite, *sujet, *debit;
    const char *e_code, *e_nom, *e_grandeur, *e_unite, *e_sujet, *e_debit,
        *e_general;
};

static const enum mon_quantity quantities[] = {
    MON_Q_DEBIT,       MON_Q_NIVEAU,  MON_Q_PRESSION, MON_Q_COURANT,
    MON_Q_TEMPERATURE, MON_Q_ENERGIE, MON_Q_AUTRE};

static void
sensor_form_html(struct http_req *req, struct gu_buf *b,
                 const struct mon_asset *a, const struct sensor_form *f)
{
    const char *anchors[] = {"r-code",  "r-cnom",  "r-grandeur", "r-unite",
                             "r-sujet", "r-debit", "r-code"};
    const char *msgs[] = {f->e_code,  f->e_nom,   f->e_grandeur, f->e_unite,
                          f->e_sujet, f->e_debit, f->e_general};
    const char *hint;

    if (!can_work(req))
        return;
    gu_buf_puts(b, "<section class=\"panel\" aria-labelledby=\"nouveau-"
                   "capteur-titre\" id=\"nouveau-capteur\">\n<h2 "
                   "id=\"nouveau-capteur-titre\">Ajouter un capteur</h2>\n");
    error_summary(b, "capteur-erreurs", "Le capteur n’a pas été ajouté :",
                  anchors, msgs, GU_ARRAY_LEN(msgs));
    gu_buf_printf(b,
                  "<form method=\"post\" action=\"/agent/surveillance/"
                  "equipements/%" PRId64 "/capteurs\" novalidate>\n<input "
                  "type=\"hidden\" name=\"csrf\" value=\"",
                  a->id);
    html(b, req->who.csrf);
    gu_buf_puts(b, "\">\n");
    text_field(b, "cnom", "Nom du capteur",
               "Par exemple « Débit de sortie » ou « Courant moteur ».", "text",
               f->nom, f->e_nom, true);
    text_field(b, "code", "Code",
               "Minuscules, chiffres et tirets, unique dans la commune : "
               "c’est par lui que les mesures arrivent (par exemple "
               "« debit-sortie »).",
               "text", f->code, f->e_code, true);
    gu_buf_printf(b,
                  "<div class=\"field\"><label for=\"r-grandeur\">Grandeur "
                  "mesurée<span class=\"hint\" id=\"r-grandeur-aide\">Un "
                  "débit reçoit aussi la détection du débit minimum de "
                  "nuit (fuites).</span></label><select id=\"r-grandeur\" "
                  "name=\"grandeur\" aria-describedby=\"r-grandeur-aide "
                  "r-grandeur-erreur\"%s>\n",
                  f->e_grandeur ? " aria-invalid=\"true\"" : "");
    for (size_t i = 0; i < GU_ARRAY_LEN(quantities); i++) {
        const char *name = mon_quantity_name(quantities[i]);
        gu_buf_printf(b, "<option value=\"%s\"%s>", name,
                      f->grandeur && strcmp(f->grandeur, name) == 0
                          ? " selected"
                          : "");
        html(b, mon_quantity_label(quantities[i]));
        gu_buf_puts(b, "</option>\n");
    }
    gu_buf_puts(b, "</select><span class=\"field-error\" "
                   "id=\"r-grandeur-erreur\">");
    html(b, f->e_grandeur);
    gu_buf_puts(b, "</span></div>\n");
    text_field(b, "unite", "Unité", "Par exemple m³/h, A, °C ; facultatif.",
               "text", f->unite, f->e_unite, false);
    hint = gu_arena_sprintf(req->arena,
                            "Facultatif. Sans sujet propre, le capteur "
                            "publie sur guichet/%s/capteurs/ suivi de son "
                            "code.",
                            req->who.insee);
    text_field(b, "sujet", "Sujet MQTT propre", hint, "text", f->sujet,
               f->e_sujet, false);
    text_field(b, "debit", "Mesures par minute au plus",
               "Au-delà, les envois sont refusés un moment ; vide : 120.",
               "text", f->debit, f->e_debit, false);
    gu_buf_puts(b, "<button type=\"submit\" class=\"btn\">Ajouter le "
                   "capteur</button>\n</form>\n</section>\n");
}

static int
render_asset(struct http_req *req, struct http_resp *resp, int64_t id,
             int status, const struct asset_form *form,
             const struct sensor_form *sform)
{
    struct store_commune com;
    enum gu_tz tz;
    struct mon_asset a;
    struct mon_sensor *ss = NULL;
    struct mon_ticket *tk = NULL;
    struct mon_params prm;
    struct gu_err err;
    size_t ns = 0, nt = 0;
    int64_t now = gu_now();
    struct gu_buf b;
    const char *content, *msg = "", *fait;
    int rc;

    if ((rc = commune_tz(req, &com, &tz)) < 0)
        return rc;
    rc =
        mon_asset_get(req->conn, req->arena, req->who.insee, id, &a, &req->err);
    if (rc == GU_ENOTFOUND)
        return asset_404(req, resp);
    if (rc < 0)
        return rc;
    if ((rc = mon_sensor_list(req->conn, req->arena, req->who.insee, id, &ss,
                              &ns, &req->err)) < 0 ||
        (rc = mon_ticket_list(req->conn, req->arena, req->who.insee, id, false,
                              &tk, &nt, &req->err)) < 0)
        return rc;
    memset(&err, 0, sizeof(err));
    if (!a.params || !*a.params || mon_params_parse(a.params, &prm, &err) < 0)
        mon_params_default(&prm);

    gu_buf_init(&b);
    gu_buf_puts(&b, "<p class=\"mon-head\">");
    html(&b, mon_asset_kind_label(a.kind));
    if (a.site && *a.site) {
        gu_buf_puts(&b, " · ");
        html(&b, a.site);
    }
    gu_buf_printf(&b,
                  " · %zu capteur(s) · %d alerte(s) en cours · %d "
                  "ticket(s) ouvert(s)</p>\n",
                  ns, a.open_alerts, a.open_tickets);
    if (a.notes && *a.notes) {
        gu_buf_puts(&b, "<p class=\"mon-notes\">");
        html(&b, a.notes);
        gu_buf_puts(&b, "</p>\n");
    }
    gu_buf_printf(&b,
                  "<p class=\"actions\"><a class=\"btn btn-secondary\" "
                  "href=\"/agent/surveillance/alertes?equipement=%" PRId64
                  "\">Alertes de cet équipement</a>",
                  a.id);
    if (can_work(req))
        gu_buf_printf(&b,
                      " <a class=\"btn\" href=\"/agent/surveillance/tickets/"
                      "nouveau?equipement=%" PRId64 "\">Nouveau ticket</a>",
                      a.id);
    gu_buf_puts(&b, "</p>\n<section aria-labelledby=\"capteurs-titre\">\n"
                    "<h2 id=\"capteurs-titre\">Capteurs : les 7 derniers "
                    "jours</h2>\n");
    for (size_t i = 0; i < ns; i++) {
        const struct mon_sensor *s = &ss[i];
        const char *cid = gu_arena_sprintf(req->arena, "c%" PRId64, s->id);
        int64_t t1 = s->last_t > 0 ? s->last_t : now;
        if (!cid) {
            gu_buf_fini(&b);
            return GU_ENOMEM;
        }
        gu_buf_printf(&b, "<h3 id=\"capteur-%" PRId64 "\">", s->id);
        html(&b, s->name);
        gu_buf_puts(&b, "</h3>\n<p class=\"mon-head\">");
        html(&b, mon_quantity_label(s->quantity));
        gu_buf_puts(&b, " · code <code>");
        html(&b, s->code);
        gu_buf_printf(&b, "</code> · %" PRId64 " mesures", s->npoints);
        if (s->last_t > 0) {
            gu_buf_puts(&b, " · dernière : <strong>");
            value_unit(&b, s->last_value, s->unit);
            gu_buf_puts(&b, "</strong> le ");
            mon_when_fr(&b, tz, s->last_t);
        }
        if (!s->active)
            gu_buf_puts(&b, " · <span class=\"badge\">Désactivé</span>");
        gu_buf_puts(&b, "</p>\n");
        rc =
            sensor_chart(req, &b, cid, s, tz, t1 - CHART_DAYS * 86400, t1, NAN);
        if (rc < 0) {
            gu_buf_fini(&b);
            return rc;
        }
    }
    if (ns == 0)
        gu_buf_puts(&b, "<p>Aucun capteur sur cet équipement.</p>\n");
    gu_buf_puts(&b, "</section>\n");
    sensor_form_html(req, &b, &a, sform);
    gu_buf_puts(&b, "<section aria-labelledby=\"tickets-titre\">\n"
                    "<h2 id=\"tickets-titre\">Tickets de maintenance</h2>\n");
    tickets_table(&b, tk, nt, tz, "tickets-titre", false);
    gu_buf_puts(&b, "</section>\n");
    settings_html(req, &b, &a, &prm, form);
    content = take(req, &b);
    if (!content)
        return GU_ENOMEM;
    fait = http_query(req, "fait");
    if (fait && !form->posted && !sform->posted) {
        if (strcmp(fait, "reglages") == 0)
            msg = "Réglages enregistrés.";
        else if (strcmp(fait, "cree") == 0)
            msg = "Équipement créé : ajoutez-lui ses capteurs.";
        else if (strcmp(fait, "capteur") == 0)
            msg = "Capteur ajouté : ses mesures peuvent arriver.";
    }
    return render(req, resp, status,
                  form->posted && form->nom && *form->nom ? form->nom : a.name,
                  "/agent/surveillance", "Tous les équipements", msg, content);
}

static int
page_asset(struct http_req *req, struct http_resp *resp)
{
    struct asset_form f;
    struct sensor_form sf;
    int64_t id;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if (http_param_id(req, "id", &id) < 0)
        return asset_404(req, resp);
    memset(&f, 0, sizeof(f));
    memset(&sf, 0, sizeof(sf));
    return render_asset(req, resp, id, 200, &f, &sf);
}

/* The new-asset page: the settings form, empty. */
static int
render_new_asset(struct http_req *req, struct http_resp *resp, int status,
                 const struct asset_form *form)
{
    struct mon_asset a;
    struct mon_params prm;
    struct gu_buf b;
    const char *content;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    memset(&a, 0, sizeof(a));
    snprintf(a.insee, sizeof(a.insee), "%s", req->who.insee);
    a.kind = MON_ASSET_AUTRE;
    mon_params_default(&prm);
    gu_buf_init(&b);
    gu_buf_puts(&b, "<p>Une pompe, un compteur, un réservoir, un bâtiment : "
                    "l’équipement porte les capteurs dont les mesures sont "
                    "surveillées. Ses capteurs s’ajoutent ensuite sur sa "
                    "page.</p>\n");
    settings_html(req, &b, &a, &prm, form);
    content = take(req, &b);
    if (!content)
        return GU_ENOMEM;
    return render(req, resp, status, "Nouvel équipement",
                  "/agent/surveillance", "Tous les équipements", "", content);
}

static int
page_new_asset(struct http_req *req, struct http_resp *resp)
{
    struct asset_form f;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    memset(&f, 0, sizeof(f));
    return render_new_asset(req, resp, 200, &f);
}

/* A form's errors re-render the asset's page, or the new-asset page. */
static int
asset_rerender(struct http_req *req, struct http_resp *resp, int64_t id,
               const struct asset_form *f)
{
    struct sensor_form sf;

    if (!id)
        return render_new_asset(req, resp, 400, f);
    memset(&sf, 0, sizeof(sf));
    return render_asset(req, resp, id, 400, f, &sf);
}

/*
 * The asset form posted: id 0 creates an asset (POST
 * /agent/surveillance/equipements), else updates it (.../{id}/reglages).
 */
static int
asset_post(struct http_req *req, struct http_resp *resp, int64_t id)
{
    struct asset_form f;
    struct mon_asset a;
    struct mon_params prm;
    struct gu_err err;
    enum mon_asset_kind kind = MON_ASSET_AUTRE;
    double sens = 0.5;
    int ns = -1, ne = -1;
    char pbuf[512];
    int64_t new_id = 0;
    const char *to;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (id) {
        rc = mon_asset_get(req->conn, req->arena, req->who.insee, id, &a,
                           &req->err);
        if (rc == GU_ENOTFOUND)
            return asset_404(req, resp);
        if (rc < 0)
            return rc;
    } else {
        memset(&a, 0, sizeof(a));
        snprintf(a.insee, sizeof(a.insee), "%s", req->who.insee);
    }
    memset(&f, 0, sizeof(f));
    f.posted = true;
    f.nom = form_trim(req, "nom");
    f.site = form_trim(req, "site");
    f.type = form_trim(req, "type");
    f.notes = form_trim(req, "notes");
    f.courriel = form_trim(req, "courriel");
    f.webhook = form_trim(req, "webhook");
    f.sensibilite = form_trim(req, "sensibilite");
    f.nuit_debut = form_trim(req, "nuit_debut");
    f.nuit_fin = form_trim(req, "nuit_fin");
    if (!f.nom || !f.site || !f.type || !f.notes || !f.courriel || !f.webhook ||
        !f.sensibilite || !f.nuit_debut || !f.nuit_fin)
        return GU_ENOMEM;
    for (int i = 0; i < MON_DET_COUNT; i++) {
        char name[32];
        const char *v;
        snprintf(name, sizeof(name), "det_%s",
                 mon_detector_code((enum mon_detector)i));
        v = http_form(req, name);
        f.det[i] = v && *v;
    }
    if (!*f.nom)
        f.e_nom = "Indiquez le nom de l’équipement.";
    else if (strlen(f.nom) > MON_NAME_MAX)
        f.e_nom = "Nom trop long (200 caractères au plus).";
    if (strlen(f.site) > MON_NAME_MAX)
        f.e_site = "Site trop long (200 caractères au plus).";
    if (mon_asset_kind_parse(f.type, &kind) < 0)
        f.e_type = "Type d’équipement inconnu : choisissez-en un dans la "
                   "liste.";
    if (strlen(f.notes) > MON_TEXT_MAX)
        f.e_notes = "Notes trop longues (8 000 caractères au plus).";
    if (strlen(f.courriel) > EMAIL_MAX)
        f.e_courriel = "Adresse trop longue (254 caractères au plus).";
    else if (*f.courriel && !email_shape(f.courriel))
        f.e_courriel = "Adresse électronique invalide : écrivez-la comme "
                       "nom@exemple.fr, ou laissez le champ vide.";
    if (req->who.role < STORE_ROLE_ADMIN) {
        if (http_form(req, "webhook") &&
            strcmp(f.webhook, a.webhook_url ? a.webhook_url : "") != 0)
            f.e_webhook = "Seul un administrateur peut choisir l’adresse de "
                          "notification.";
        f.webhook = a.webhook_url ? a.webhook_url : "";
    } else if (strlen(f.webhook) > URL_MAX)
        f.e_webhook = "Adresse trop longue (2 000 caractères au plus).";
    else if (*f.webhook && !url_shape(f.webhook))
        f.e_webhook = "Adresse de notification invalide : elle commence par "
                      "https:// (ou http://), ou laissez le champ vide.";
    if (strlen(f.sensibilite) > FIELD_MAX ||
        parse_sensitivity(f.sensibilite, &sens) < 0)
        f.e_sensibilite = "Sensibilité invalide : choisissez calme, normale "
                          "ou vigilante (ou un nombre entre 0 et 1).";
    {
        bool any = false;
        for (int i = 0; i < MON_DET_COUNT; i++)
            any = any || f.det[i];
        if (!any)
            f.e_det = "Gardez au moins un détecteur en service.";
    }
    if (strlen(f.nuit_debut) <= FIELD_MAX)
        ns = parse_hm(f.nuit_debut);
    if (strlen(f.nuit_fin) <= FIELD_MAX)
        ne = parse_hm(f.nuit_fin);
    if (ns < 0 || ne < 0)
        f.e_nuit = "Fenêtre de nuit invalide : deux heures comme 02:00 et "
                   "04:00.";
    else if (ns == ne)
        f.e_nuit = "Fenêtre de nuit vide : le début et la fin sont à la même "
                   "heure.";
    if (f.e_nom || f.e_site || f.e_type || f.e_notes || f.e_courriel ||
        f.e_webhook || f.e_sensibilite || f.e_det || f.e_nuit)
        return asset_rerender(req, resp, id, &f);

    memset(&err, 0, sizeof(err));
    if (!a.params || !*a.params || mon_params_parse(a.params, &prm, &err) < 0)
        mon_params_default(&prm);
    prm.sensitivity = sens;
    for (int i = 0; i < MON_DET_COUNT; i++)
        prm.enabled[i] = f.det[i];
    prm.night_start_min = ns;
    prm.night_end_min = ne;
    if (mon_params_format(&prm, pbuf, sizeof(pbuf)) < 0)
        return GU_EINTERNAL;
    a.name = f.nom;
    a.site = f.site;
    a.kind = kind;
    a.notes = f.notes;
    a.alert_to = f.courriel;
    a.webhook_url = f.webhook;
    a.params = pbuf;
    memset(&err, 0, sizeof(err));
    rc = mon_asset_save(req->conn, &a, id ? NULL : &new_id, &err);
    if (rc == GU_EINVAL || rc == GU_ETOOBIG || rc == GU_ECONFLICT) {
        const struct field_slot map[] = {
            {"name", &f.e_nom},         {"site", &f.e_site},
            {"kind", &f.e_type},        {"notes", &f.e_notes},
            {"alert_to", &f.e_courriel}, {"webhook", &f.e_webhook},
            {"sensib", &f.e_sensibilite}, {"nuit", &f.e_nuit},
            {"night", &f.e_nuit}};
        refusal_to_field(req, &err, map, GU_ARRAY_LEN(map), &f.e_general);
        return asset_rerender(req, resp, id, &f);
    }
    if (rc < 0) {
        req->err = err;
        return rc;
    }
    if (!id) {
        http_audit(req, "monitor.asset_create", "", "id=%" PRId64 " params=%s",
                   new_id, pbuf);
        to = gu_arena_sprintf(req->arena,
                              "/agent/surveillance/equipements/%" PRId64
                              "?fait=cree#nouveau-capteur",
                              new_id);
    } else {
        http_audit(req, "monitor.asset_update", "",
                   "id=%" PRId64 " params=%s", id, pbuf);
        to = gu_arena_sprintf(req->arena,
                              "/agent/surveillance/equipements/%" PRId64
                              "?fait=reglages#reglages",
                              id);
    }
    return to ? http_redirect(resp, to) : GU_ENOMEM;
}

/* POST /agent/surveillance/equipements/{id}/reglages */
static int
post_asset_settings(struct http_req *req, struct http_resp *resp)
{
    int64_t id;

    if (http_param_id(req, "id", &id) < 0 || id <= 0)
        return asset_404(req, resp);
    return asset_post(req, resp, id);
}

/* POST /agent/surveillance/equipements */
static int
post_new_asset(struct http_req *req, struct http_resp *resp)
{
    return asset_post(req, resp, 0);
}

/* POST /agent/surveillance/equipements/{id}/capteurs */
static int
post_new_sensor(struct http_req *req, struct http_resp *resp)
{
    struct asset_form af;
    struct sensor_form f;
    struct mon_asset a;
    struct mon_sensor sn;
    struct gu_err err;
    enum mon_quantity q = MON_Q_AUTRE;
    int64_t id, sid = 0;
    long rate = 0;
    const char *to;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (http_param_id(req, "id", &id) < 0 || id <= 0)
        return asset_404(req, resp);
    rc =
        mon_asset_get(req->conn, req->arena, req->who.insee, id, &a, &req->err);
    if (rc == GU_ENOTFOUND)
        return asset_404(req, resp);
    if (rc < 0)
        return rc;
    memset(&af, 0, sizeof(af));
    memset(&f, 0, sizeof(f));
    f.posted = true;
    f.code = form_trim(req, "code");
    f.nom = form_trim(req, "cnom");
    f.grandeur = form_trim(req, "grandeur");
    f.unite = form_trim(req, "unite");
    f.sujet = form_trim(req, "sujet");
    f.debit = form_trim(req, "debit");
    if (!f.code || !f.nom || !f.grandeur || !f.unite || !f.sujet || !f.debit)
        return GU_ENOMEM;
    if (!*f.nom)
        f.e_nom = "Indiquez le nom du capteur.";
    if (!*f.code)
        f.e_code = "Indiquez le code du capteur, par exemple "
                   "« debit-sortie ».";
    if (mon_quantity_parse(f.grandeur, &q) < 0)
        f.e_grandeur = "Grandeur inconnue : choisissez-en une dans la liste.";
    if (*f.debit) {
        char *end;
        if (strlen(f.debit) > 6 || !(*f.debit >= '0' && *f.debit <= '9'))
            rate = -1;
        else if ((rate = strtol(f.debit, &end, 10)), *end)
            rate = -1;
        if (rate < 1 || rate > 6000)
            f.e_debit = "Un nombre entier de 1 à 6 000 mesures par minute, "
                        "ou laissez vide.";
    }
    if (!f.e_nom && !f.e_code && !f.e_grandeur && !f.e_debit) {
        memset(&sn, 0, sizeof(sn));
        snprintf(sn.insee, sizeof(sn.insee), "%s", req->who.insee);
        sn.asset_id = id;
        sn.code = f.code;
        sn.name = f.nom;
        sn.unit = f.unite;
        sn.quantity = q;
        sn.topic = f.sujet;
        sn.params = "";
        sn.rate_per_min = (int)rate;
        sn.active = true;
        memset(&err, 0, sizeof(err));
        rc = mon_sensor_save(req->conn, &sn, &sid, &err);
        if (rc == GU_EINVAL || rc == GU_ETOOBIG || rc == GU_ECONFLICT) {
            const struct field_slot map[] = {
                {"code", &f.e_code},         {"name", &f.e_nom},
                {"unit", &f.e_unite},        {"quantity", &f.e_grandeur},
                {"topic", &f.e_sujet},       {"rate", &f.e_debit}};
            refusal_to_field(req, &err, map, GU_ARRAY_LEN(map),
                             &f.e_general);
        } else if (rc < 0) {
            req->err = err;
            return rc;
        }
    }
    if (f.e_nom || f.e_code || f.e_grandeur || f.e_unite || f.e_sujet ||
        f.e_debit || f.e_general)
        return render_asset(req, resp, id, 400, &af, &f);
    http_audit(req, "monitor.sensor_create", "",
               "id=%" PRId64 " asset=%" PRId64 " code=%s", sid, id, f.code);
    to = gu_arena_sprintf(req->arena,
                          "/agent/surveillance/equipements/%" PRId64
                          "?fait=capteur#capteur-%" PRId64,
                          id, sid);
    return to ? http_redirect(resp, to) : GU_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Alerts                                                              */
/* ------------------------------------------------------------------ */

static const struct {
    const char *value, *label;
    int status;
} alert_filters[] = {
    {"en_cours", "Non résolues (ouvertes et acquittées)", -2},
    {"ouverte", "Ouvertes", MON_ALERT_OUVERTE},
    {"acquittee", "Acquittées", MON_ALERT_ACQUITTEE},
    {"resolue", "Résolues", MON_ALERT_RESOLUE},
    {"toutes", "Toutes", -1},
};

static int
page_alerts(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    enum gu_tz tz;
    struct mon_asset *as = NULL;
    struct mon_alert *al = NULL;
    struct mon_alert_filter f;
    size_t na = 0, nal = 0, fi = 0;
    const char *qs = http_query(req, "statut"),
               *qa = http_query(req, "equipement"),
               *qp = http_query(req, "page");
    const char *err_msg = NULL, *content;
    struct gu_buf b;
    long aid = 0, pg = 1;
    bool more;
    int rc;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if ((rc = commune_tz(req, &com, &tz)) < 0)
        return rc;
    if (qs && *qs) {
        for (fi = 0; fi < GU_ARRAY_LEN(alert_filters); fi++)
            if (strcmp(qs, alert_filters[fi].value) == 0)
                break;
        if (fi == GU_ARRAY_LEN(alert_filters)) {
            fi = 0;
            err_msg = "État inconnu : choisissez-en un dans la liste.";
        }
    }
    if (qa && *qa && gu_parse_long(qa, 1, LONG_MAX, &aid) < 0) {
        aid = 0;
        err_msg = "Équipement inconnu : choisissez-en un dans la liste.";
    }
    if (qp && *qp && gu_parse_long(qp, 1, LIST_PAGES, &pg) < 0) {
        pg = 1;
        err_msg = "Page inconnue : voici la première.";
    }
    if ((rc = mon_asset_list(req->conn, req->arena, req->who.insee, &as, &na,
                             &req->err)) < 0)
        return rc;
    if (aid) {
        size_t k;
        for (k = 0; k < na && as[k].id != aid; k++)
            ;
        if (k == na) {
            aid = 0;
            err_msg = "Équipement inconnu : choisissez-en un dans la liste.";
        }
    }
    memset(&f, 0, sizeof(f));
    f.asset_id = aid;
    f.status = alert_filters[fi].status;
    /* One more row than shown tells whether an older page exists. The
       order is the store's (latest anomalous point first), stable from
       page to page. */
    f.limit = LIST_ALERTS + 1;
    f.offset = (size_t)(pg - 1) * LIST_ALERTS;
    if ((rc = mon_alert_list(req->conn, req->arena, req->who.insee, &f, &al,
                             &nal, &req->err)) < 0)
        return rc;
    more = nal > LIST_ALERTS;
    if (more)
        nal = LIST_ALERTS;

    gu_buf_init(&b);
    if (err_msg) {
        gu_buf_puts(&b, "<div class=\"alert alert-error\" role=\"alert\">");
        html(&b, err_msg);
        gu_buf_puts(&b, "</div>\n");
    }
    gu_buf_puts(&b, "<form method=\"get\" action=\"/agent/surveillance/"
                    "alertes\" class=\"panel mon-filters\">\n<div "
                    "class=\"field\"><label for=\"f-statut\">État</label>"
                    "<select id=\"f-statut\" name=\"statut\">\n");
    for (size_t i = 0; i < GU_ARRAY_LEN(alert_filters); i++) {
        gu_buf_printf(&b, "<option value=\"%s\"%s>", alert_filters[i].value,
                      i == fi ? " selected" : "");
        html(&b, alert_filters[i].label);
        gu_buf_puts(&b, "</option>\n");
    }
    gu_buf_puts(&b, "</select></div>\n<div class=\"field\"><label "
                    "for=\"f-equipement\">Équipement</label><select "
                    "id=\"f-equipement\" name=\"equipement\">\n<option "
                    "value=\"\">Tous les équipements</option>\n");
    for (size_t i = 0; i < na; i++) {
        gu_buf_printf(&b, "<option value=\"%" PRId64 "\"%s>", as[i].id,
                      as[i].id == aid ? " selected" : "");
        html(&b, as[i].name);
        gu_buf_puts(&b, "</option>\n");
    }
    gu_buf_puts(&b, "</select></div>\n<div class=\"field actions\"><button "
                    "type=\"submit\" class=\"btn\">Filtrer</button></div>\n"
                    "</form>\n<h2 id=\"liste-titre\">");
    html(&b, alert_filters[fi].label);
    if (pg == 1 && !more)
        gu_buf_printf(&b, " : %zu alerte(s)</h2>\n", nal);
    else if (nal)
        gu_buf_printf(&b, " : alertes %zu à %zu</h2>\n",
                      (size_t)(pg - 1) * LIST_ALERTS + 1,
                      (size_t)(pg - 1) * LIST_ALERTS + nal);
    else
        gu_buf_puts(&b, " : plus d’alerte sur cette page</h2>\n");
    gu_buf_puts(&b, "<p class=\"hint\">Les plus récentes d’abord (dernier "
                    "point anormal).</p>\n");
    alerts_table(&b, al, nal, tz, "liste-titre");
    if (pg > 1 || more) {
        gu_buf_puts(&b, "<nav class=\"actions mon-pager\" aria-label=\"Pages "
                        "des alertes\">");
        if (pg > 1) {
            gu_buf_printf(&b,
                          "<a class=\"btn btn-secondary\" rel=\"prev\" "
                          "href=\"/agent/surveillance/alertes?statut=%s",
                          alert_filters[fi].value);
            if (aid)
                gu_buf_printf(&b, "&amp;equipement=%ld", aid);
            gu_buf_printf(&b, "&amp;page=%ld\">Alertes plus récentes</a> ",
                          pg - 1);
        }
        if (more) {
            gu_buf_printf(&b,
                          "<a class=\"btn btn-secondary\" rel=\"next\" "
                          "href=\"/agent/surveillance/alertes?statut=%s",
                          alert_filters[fi].value);
            if (aid)
                gu_buf_printf(&b, "&amp;equipement=%ld", aid);
            gu_buf_printf(&b, "&amp;page=%ld\">Alertes plus anciennes</a>",
                          pg + 1);
        }
        gu_buf_puts(&b, "</nav>\n");
    }
    content = take(req, &b);
    if (!content)
        return GU_ENOMEM;
    return render(req, resp, err_msg ? 400 : 200, "Alertes",
                  "/agent/surveillance", "Surveillance", "", content);
}

/* A comment typed on the alert page, and its error. */
struct alert_form {
    const char *which; /* "acquitter" or "resoudre" */
    const char *comment;
    const char *verdict; /* "resoudre": "reelle", "fausse_alerte" or "" */
    const char *error;
    bool verdict_error; /* the error is about the verdict, not the comment */
};

static void
comment_form(struct http_req *req, struct gu_buf *b, int64_t id,
             const char *which, const char *button, const struct alert_form *f)
{
    bool mine = f && f->which && strcmp(f->which, which) == 0;

    gu_buf_printf(b,
                  "<form method=\"post\" action=\"/agent/surveillance/"
                  "alertes/%" PRId64 "/%s\" class=\"panel mon-action\">\n"
                  "<input type=\"hidden\" name=\"csrf\" value=\"",
                  id, which);
    html(b, req->who.csrf);
    gu_buf_puts(b, "\">\n");
    if (strcmp(which, "resoudre") == 0) {
        /* What the agent found: the impact report counts false alarms
         * from this answer. */
        const char *v = mine && f->verdict ? f->verdict : "";
        bool bad = mine && f->error && f->verdict_error;

        gu_buf_printf(
            b,
            "<fieldset class=\"field\" aria-describedby=\"resoudre-"
            "verdict-erreur\"%s><legend>Qu’avez-vous constaté ?</legend>\n"
            "<label><input type=\"radio\" id=\"resoudre-verdict-reelle\" "
            "name=\"verdict\" value=\"reelle\" required%s> Un problème réel"
            "</label>\n<label><input type=\"radio\" id=\"resoudre-verdict-"
            "fausse\" name=\"verdict\" value=\"fausse_alerte\"%s> Une fausse "
            "alerte (rien d’anormal sur place)</label>\n<span class=\"field-"
            "error\" id=\"resoudre-verdict-erreur\">",
            bad ? " aria-invalid=\"true\"" : "",
            strcmp(v, "reelle") == 0 ? " checked" : "",
            strcmp(v, "fausse_alerte") == 0 ? " checked" : "");
        if (bad)
            html(b, f->error);
        gu_buf_puts(b, "</span></fieldset>\n");
    }
    gu_buf_printf(b,
                  "<div class=\"field\"><label for=\"%s-commentaire\">"
                  "Commentaire<span class=\"hint\" id=\"%s-aide\">"
                  "Facultatif : ce qui a été vu ou fait.</span></label>"
                  "<textarea id=\"%s-commentaire\" name=\"commentaire\" "
                  "rows=\"2\" aria-describedby=\"%s-aide %s-erreur\"%s>",
                  which, which, which, which, which,
                  mine && f->error && !f->verdict_error
                      ? " aria-invalid=\"true\""
                      : "");
    if (mine)
        html(b, f->comment);
    gu_buf_printf(b, "</textarea><span class=\"field-error\" id=\"%s-erreur\">",
                  which);
    if (mine && !f->verdict_error)
        html(b, f->error);
    gu_buf_printf(b,
                  "</span></div>\n<button type=\"submit\" class=\"btn\">%s"
                  "</button>\n</form>\n",
                  button);
}

static const char *
alert_message(struct http_req *req)
{
    const char *what = http_query(req, "fait");

    if (!what)
        return "";
    if (strcmp(what, "acquittee") == 0)
        return "Alerte acquittée.";
    if (strcmp(what, "resolue") == 0)
        return "Alerte résolue.";
    return "";
}

static int
render_alert(struct http_req *req, struct http_resp *resp, int64_t id,
             int status, const struct alert_form *form)
{
    struct store_commune com;
    enum gu_tz tz;
    struct mon_alert al;
    struct mon_sensor s;
    struct mon_ticket *tk = NULL;
    size_t nt = 0, linked = 0;
    int64_t now = gu_now(), t0, t1;
    struct gu_buf b;
    const char *content, *title;
    json_t *why, *el;
    size_t k;
    int rc;

    if ((rc = commune_tz(req, &com, &tz)) < 0)
        return rc;
    rc = mon_alert_get(req->conn, req->arena, req->who.insee, id, &al,
                       &req->err);
    if (rc == GU_ENOTFOUND)
        return alert_404(req, resp);
    if (rc < 0)
        return rc;
    if ((rc = mon_sensor_get(req->conn, req->arena, req->who.insee,
                             al.sensor_id, &s, &req->err)) < 0 ||
        (rc = mon_ticket_list(req->conn, req->arena, req->who.insee,
                              al.asset_id, false, &tk, &nt, &req->err)) < 0)
        return rc;

    gu_buf_init(&b);
    gu_buf_puts(&b, "<p class=\"mon-head\">");
    alert_status(&b, al.status);
    gu_buf_printf(&b,
                  " <a href=\"/agent/surveillance/equipements/%" PRId64 "\">",
                  al.asset_id);
    html(&b, al.asset_name);
    gu_buf_puts(&b, "</a> · ");
    html(&b, al.sensor_name);
    gu_buf_puts(&b, "</p>\n");

    /* explanation: the same object as the API's "pourquoi" */
    why = mon_alert_why(req, &al, tz);
    if (!why) {
        gu_buf_fini(&b);
        return GU_ENOMEM;
    }
    gu_buf_puts(&b, "<section aria-labelledby=\"explication-titre\" "
                    "class=\"panel\">\n<h2 id=\"explication-titre\">"
                    "Pourquoi cette alerte</h2>\n<p class=\"mon-why\" "
                    "id=\"explication\">");
    html(&b, json_string_value(json_object_get(why, "resume")));
    gu_buf_puts(&b, "</p>\n<dl class=\"mon-terms\">");
    json_array_foreach(json_object_get(why, "elements"), k, el)
    {
        gu_buf_puts(&b, "<dt>");
        html(&b, json_string_value(json_object_get(el, "libelle")));
        gu_buf_puts(&b, "</dt><dd>");
        html(&b, json_string_value(json_object_get(el, "valeur")));
        gu_buf_puts(&b, "</dd>");
    }
    gu_buf_puts(&b, "<dt>Modèle</dt><dd>");
    html(&b, json_string_value(json_object_get(why, "modele")));
    gu_buf_puts(&b, ", ");
    html(&b, json_string_value(json_object_get(why, "version")));
    gu_buf_puts(&b, "</dd><dt>Ouverte le</dt><dd>");
    mon_when_fr(&b, tz, al.opened_at);
    gu_buf_puts(&b, "</dd></dl>\n<p class=\"hint\">Une alerte signale un "
                    "écart à la normale apprise sur ce capteur ; un agent "
                    "juge s’il s’agit d’une panne, d’une fuite ou d’une "
                    "fausse alerte.</p>\n</section>\n");

    /* chart around the alert */
    t0 = al.first_t - ALERT_BEFORE;
    t1 = al.last_t + ALERT_AFTER;
    if (t1 > now)
        t1 = now > al.last_t ? now : al.last_t;
    gu_buf_puts(&b, "<section aria-labelledby=\"graphique-titre\">\n<h2 "
                    "id=\"graphique-titre\">Avant, pendant et après</h2>\n");
    rc = sensor_chart(req, &b, "alerte", &s, tz, t0, t1, al.expected);
    if (rc < 0) {
        gu_buf_fini(&b);
        return rc;
    }
    gu_buf_puts(&b, "</section>\n");

    /* timeline */
    gu_buf_puts(&b, "<section aria-labelledby=\"suivi-titre\">\n<h2 "
                    "id=\"suivi-titre\">Suivi</h2>\n<ol class=\"mon-timeline\" "
                    "id=\"suivi\">\n<li>Ouverte le ");
    mon_when_fr(&b, tz, al.opened_at);
    gu_buf_puts(&b, " par la détection automatique.</li>\n");
    if (al.ack_at > 0) {
        gu_buf_puts(&b, "<li>Acquittée le ");
        mon_when_fr(&b, tz, al.ack_at);
        gu_buf_puts(&b, " par ");
        html(&b, agent_name(req, al.ack_by));
        gu_buf_puts(&b, ".</li>\n");
    }
    if (al.resolved_at > 0) {
        gu_buf_puts(&b, "<li>Résolue le ");
        mon_when_fr(&b, tz, al.resolved_at);
        gu_buf_puts(&b, " par ");
        html(&b, agent_name(req, al.resolved_by));
        if (al.verdict != MON_VERDICT_NONE) {
            gu_buf_puts(&b, " : ");
            html(&b, mon_alert_verdict_label(al.verdict));
            gu_buf_puts(&b, " (constat de l’agent)");
        }
        gu_buf_puts(&b, ".</li>\n");
    }
    gu_buf_puts(&b, "</ol>\n");
    if (al.comment && *al.comment) {
        gu_buf_puts(&b, "<p><strong>Commentaire :</strong> ");
        html(&b, al.comment);
        gu_buf_puts(&b, "</p>\n");
    }
    gu_buf_puts(&b, "</section>\n");

    /* tickets of this alert */
    for (size_t i = 0; i < nt; i++) {
        if (tk[i].alert_id != al.id)
            continue;
        if (!linked++)
            gu_buf_puts(&b, "<section aria-labelledby=\"tickets-titre\">\n"
                            "<h2 id=\"tickets-titre\">Tickets liés</h2>\n"
                            "<ul>\n");
        gu_buf_printf(
            &b, "<li><a href=\"/agent/surveillance/tickets/%" PRId64 "\">",
            tk[i].id);
        html(&b, tk[i].title);
        gu_buf_puts(&b, "</a> ");
        ticket_status(&b, tk[i].status);
        gu_buf_puts(&b, "</li>\n");
    }
    if (linked)
        gu_buf_puts(&b, "</ul>\n</section>\n");

    /* actions */
    if (can_work(req)) {
        gu_buf_puts(&b, "<section aria-labelledby=\"actions-titre\">\n<h2 "
                        "id=\"actions-titre\">Que faire</h2>\n");
        if (form && form->error) {
            gu_buf_printf(&b,
                          "<div class=\"alert alert-error mon-summary\" "
                          "role=\"alert\" tabindex=\"-1\" autofocus "
                          "id=\"action-erreurs\"><p>Rien n’a été "
                          "enregistré :</p><ul><li><a href=\"#%s\">",
                          form->verdict_error
                              ? "resoudre-verdict-reelle"
                              : gu_arena_sprintf(req->arena, "%s-commentaire",
                                                 form->which));
            html(&b, form->error);
            gu_buf_puts(&b, "</a></li></ul></div>\n");
        }
        gu_buf_puts(&b, "<div class=\"mon-actions\">\n");
        if (al.status == MON_ALERT_OUVERTE)
            comment_form(req, &b, al.id, "acquitter", "Acquitter", form);
        if (al.status != MON_ALERT_RESOLUE)
            comment_form(req, &b, al.id, "resoudre", "Résoudre", form);
        gu_buf_puts(&b, "</div>\n");
        gu_buf_printf(&b,
                      "<p><a class=\"btn btn-secondary\" id=\"creer-ticket\" "
                      "href=\"/agent/surveillance/tickets/nouveau?alerte="
                      "%" PRId64 "\">Créer un ticket de maintenance</a></p>\n"
                      "</section>\n",
                      al.id);
    }
    content = take(req, &b);
    title = gu_arena_sprintf(req->arena, "Alerte n° %" PRId64 " : %s", al.id,
                             al.sensor_name ? al.sensor_name : "");
    if (!content || !title)
        return GU_ENOMEM;
    return render(req, resp, status, title, "/agent/surveillance/alertes",
                  "Toutes les alertes", form ? "" : alert_message(req),
                  content);
}

static int
page_alert(struct http_req *req, struct http_resp *resp)
{
    int64_t id;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if (http_param_id(req, "id", &id) < 0)
        return alert_404(req, resp);
    return render_alert(req, resp, id, 200, NULL);
}

static int
alert_action(struct http_req *req, struct http_resp *resp, bool resolve)
{
    struct alert_form f;
    struct mon_alert al;
    struct gu_err err;
    int64_t id;
    const char *to;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (http_param_id(req, "id", &id) < 0)
        return alert_404(req, resp);
    rc = mon_alert_get(req->conn, req->arena, req->who.insee, id, &al,
                       &req->err);
    if (rc == GU_ENOTFOUND)
        return alert_404(req, resp);
    if (rc < 0)
        return rc;
    memset(&f, 0, sizeof(f));
    f.which = resolve ? "resoudre" : "acquitter";
    f.comment = form_trim(req, "commentaire");
    f.verdict = form_trim(req, "verdict");
    if (!f.comment || !f.verdict)
        return GU_ENOMEM;
    if (strlen(f.comment) > MON_TEXT_MAX)
        f.error = "Commentaire trop long (8 000 caractères au plus).";
    else if (resolve && al.status != MON_ALERT_RESOLUE &&
             strcmp(f.verdict, "reelle") != 0 &&
             strcmp(f.verdict, "fausse_alerte") != 0) {
        f.error = "Dites si c’était un problème réel ou une fausse alerte.";
        f.verdict_error = true;
    }
    else if (al.status == MON_ALERT_RESOLUE)
        f.error = "Cette alerte est déjà résolue.";
    else if (!resolve && al.status != MON_ALERT_OUVERTE)
        f.error = "Cette alerte est déjà acquittée.";
    if (f.error)
        return render_alert(req, resp, id,
                            al.status == MON_ALERT_RESOLUE ||
                                    (!resolve && al.status != MON_ALERT_OUVERTE)
                                ? 409
                                : 400,
                            &f);
    memset(&err, 0, sizeof(err));
    rc = resolve ? mon_alert_resolve(req->conn, req->who.insee, id,
                                     req->who.agent_id, f.comment,
                                     strcmp(f.verdict, "fausse_alerte") == 0
                                         ? MON_VERDICT_FAUSSE
                                         : MON_VERDICT_REELLE,
                                     &err)
                 : mon_alert_ack(req->conn, req->who.insee, id,
                                 req->who.agent_id, f.comment, &err);
    if (rc == GU_ECONFLICT || rc == GU_EINVAL || rc == GU_ETOOBIG) {
        f.error = err.user[0] ? gu_arena_strdup(req->arena, err.user)
                              : "Action impossible sur cette alerte.";
        return render_alert(req, resp, id, rc == GU_ECONFLICT ? 409 : 400, &f);
    }
    if (rc == GU_ENOTFOUND)
        return alert_404(req, resp);
    if (rc < 0) {
        req->err = err;
        return rc;
    }
    http_audit(req, resolve ? "monitor.alert_resolve" : "monitor.alert_ack", "",
               "id=%" PRId64, id);
    to = gu_arena_sprintf(req->arena,
                          "/agent/surveillance/alertes/%" PRId64 "?fait=%s", id,
                          resolve ? "resolue" : "acquittee");
    return to ? http_redirect(resp, to) : GU_ENOMEM;
}

static int
post_alert_ack(struct http_req *req, struct http_resp *resp)
{
    return alert_action(req, resp, false);
}

static int
post_alert_resolve(struct http_req *req, struct http_resp *resp)
{
    return alert_action(req, resp, true);
}

/* ------------------------------------------------------------------ */
/* Tickets                                                             */
/* ------------------------------------------------------------------ */

static int
page_tickets(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    enum gu_tz tz;
    struct mon_ticket *tk = NULL;
    size_t nt = 0, nopen = 0;
    struct gu_buf b;
    const char *content, *all = http_query(req, "tous");
    bool show_all = all && strcmp(all, "1") == 0;
    int rc;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if ((rc = commune_tz(req, &com, &tz)) < 0)
        return rc;
    if ((rc = mon_ticket_list(req->conn, req->arena, req->who.insee, 0,
                              !show_all, &tk, &nt, &req->err)) < 0)
        return rc;
    for (size_t i = 0; i < nt; i++)
        nopen += tk[i].status != MON_TICKET_CLOS;
    gu_buf_init(&b);
    gu_buf_printf(&b,
                  "<p class=\"actions\">%s</p>\n<h2 id=\"liste-titre\">%s : "
                  "%zu</h2>\n",
                  show_all ? "<a class=\"btn btn-secondary\" "
                             "href=\"/agent/surveillance/tickets\">Seulement "
                             "les tickets ouverts</a>"
                           : "<a class=\"btn btn-secondary\" "
                             "href=\"/agent/surveillance/tickets?tous=1\">"
                             "Voir aussi les tickets clos</a>",
                  show_all ? "Tous les tickets" : "Tickets ouverts ou en cours",
                  nt);
    tickets_table(&b, tk, nt, tz, "liste-titre", true);
    gu_buf_puts(&b, "<p class=\"hint\">Un ticket se crée depuis la page d’un "
                    "équipement (« Nouveau ticket ») ou d’une alerte "
                    "(« Créer un ticket de maintenance »).</p>\n");
    content = take(req, &b);
    if (!content)
        return GU_ENOMEM;
    return render(req, resp, 200, "Tickets de maintenance",
                  "/agent/surveillance", "Surveillance", "", content);
}

/* The ticket form as typed, and its errors. */
struct ticket_form {
    const char *titre, *texte, *statut;
    const char *e_titre, *e_texte, *e_statut, *e_general;
};

static const enum mon_ticket_status tstatuses[] = {
    MON_TICKET_OUVERT, MON_TICKET_EN_COURS, MON_TICKET_CLOS};

static void
ticket_form_html(struct http_req *req, struct gu_buf *b, const char *action,
                 const struct ticket_form *f, bool with_status,
                 int64_t asset_id, int64_t alert_id, const char *button)
{
    const char *anchors[] = {"t-titre", "t-texte", "t-statut", "t-titre"};
    const char *msgs[] = {f->e_titre, f->e_texte, f->e_statut, f->e_general};

    error_summary(b, "ticket-erreurs",
                  "Le ticket n’a pas été enregistré :", anchors, msgs,
                  GU_ARRAY_LEN(msgs));
    gu_buf_printf(b,
                  "<form method=\"post\" action=\"%s\" class=\"panel\" "
                  "novalidate>\n<input type=\"hidden\" name=\"csrf\" "
                  "value=\"",
                  action);
    html(b, req->who.csrf);
    gu_buf_puts(b, "\">\n");
    if (asset_id)
        gu_buf_printf(b,
                      "<input type=\"hidden\" name=\"equipement\" "
                      "value=\"%" PRId64 "\">\n",
                      asset_id);
    if (alert_id)
        gu_buf_printf(b,
                      "<input type=\"hidden\" name=\"alerte\" value=\"%" PRId64
                      "\">\n",
                      alert_id);
    gu_buf_printf(b, "<div class=\"field\"><label for=\"t-titre\">Titre</label>"
                     "<input type=\"text\" id=\"t-titre\" name=\"titre\" "
                     "required value=\"");
    html(b, f->titre);
    gu_buf_printf(b,
                  "\" aria-describedby=\"t-titre-erreur\"%s><span "
                  "class=\"field-error\" id=\"t-titre-erreur\">",
                  f->e_titre ? " aria-invalid=\"true\"" : "");
    html(b, f->e_titre);
    gu_buf_printf(b,
                  "</span></div>\n<div class=\"field\"><label for=\"t-texte\">"
                  "Description<span class=\"hint\" id=\"t-texte-aide\">Ce "
                  "qu’il faut vérifier ou réparer, ce qui a été fait.</span>"
                  "</label><textarea id=\"t-texte\" name=\"texte\" rows=\"8\" "
                  "aria-describedby=\"t-texte-aide t-texte-erreur\"%s>",
                  f->e_texte ? " aria-invalid=\"true\"" : "");
    html(b, f->texte);
    gu_buf_puts(b, "</textarea><span class=\"field-error\" "
                   "id=\"t-texte-erreur\">");
    html(b, f->e_texte);
    gu_buf_puts(b, "</span></div>\n");
    if (with_status) {
        gu_buf_printf(b,
                      "<div class=\"field\"><label for=\"t-statut\">État"
                      "</label><select id=\"t-statut\" name=\"statut\" "
                      "aria-describedby=\"t-statut-erreur\"%s>\n",
                      f->e_statut ? " aria-invalid=\"true\"" : "");
        for (size_t i = 0; i < GU_ARRAY_LEN(tstatuses); i++) {
            const char *name = mon_ticket_status_name(tstatuses[i]);
            gu_buf_printf(
                b, "<option value=\"%s\"%s>", name,
                f->statut && strcmp(f->statut, name) == 0 ? " selected" : "");
            html(b, mon_ticket_status_label(tstatuses[i]));
            gu_buf_puts(b, "</option>\n");
        }
        gu_buf_puts(b, "</select><span class=\"field-error\" "
                       "id=\"t-statut-erreur\">");
        html(b, f->e_statut);
        gu_buf_puts(b, "</span></div>\n");
    }
    gu_buf_printf(b,
                  "<button type=\"submit\" class=\"btn\">%s</button>\n"
                  "</form>\n",
                  button);
}

/* The asset (and alert) a new ticket is for, from ?equipement= / ?alerte=
   or the form's hidden fields. GU_ENOTFOUND when either is not the
   commune's (or the alert is not the asset's). */
static int
ticket_target(struct http_req *req, const char *qasset, const char *qalert,
              struct mon_asset *a, struct mon_alert *al, bool *has_alert)
{
    long v;
    int64_t asset_id = 0;
    int rc;

    *has_alert = false;
    if (qalert && *qalert) {
        if (gu_parse_long(qalert, 1, LONG_MAX, &v) < 0)
            return GU_ENOTFOUND;
        rc = mon_alert_get(req->conn, req->arena, req->who.insee, v, al,
                           &req->err);
        if (rc < 0)
            return rc;
        *has_alert = true;
        asset_id = al->asset_id;
    }
    if (qasset && *qasset) {
        if (gu_parse_long(qasset, 1, LONG_MAX, &v) < 0)
            return GU_ENOTFOUND;
        if (asset_id && asset_id != v)
            return GU_ENOTFOUND;
        asset_id = v;
    }
    if (!asset_id)
        return GU_ENOTFOUND;
    return mon_asset_get(req->conn, req->arena, req->who.insee, asset_id, a,
                         &req->err);
}

static int
render_new_ticket(struct http_req *req, struct http_resp *resp, int status,
                  const struct mon_asset *a, const struct mon_alert *al,
                  bool has_alert, const struct ticket_form *f)
{
    struct gu_buf b;
    const char *content;

    gu_buf_init(&b);
    gu_buf_puts(&b, "<p class=\"mon-head\">Équipement : <a href=\"/agent/"
                    "surveillance/equipements/");
    gu_buf_printf(&b, "%" PRId64 "\">", a->id);
    html(&b, a->name);
    gu_buf_puts(&b, "</a>");
    if (has_alert) {
        gu_buf_printf(&b,
                      " · d’après l’<a href=\"/agent/surveillance/alertes/"
                      "%" PRId64 "\">alerte n<sup>o</sup> %" PRId64 "</a>",
                      al->id, al->id);
    }
    gu_buf_puts(&b, "</p>\n");
    ticket_form_html(req, &b, "/agent/surveillance/tickets", f, false, a->id,
                     has_alert ? al->id : 0, "Créer le ticket");
    content = take(req, &b);
    if (!content)
        return GU_ENOMEM;
    return render(req, resp, status, "Nouveau ticket de maintenance",
                  has_alert ? gu_arena_sprintf(req->arena,
                                               "/agent/surveillance/alertes/"
                                               "%" PRId64,
                                               al->id)
                            : gu_arena_sprintf(req->arena,
                                               "/agent/surveillance/"
                                               "equipements/%" PRId64,
                                               a->id),
                  has_alert ? "Retour à l’alerte" : "Retour à l’équipement", "",
                  content);
}

/* GET /agent/surveillance/tickets/nouveau?equipement=|alerte= */
static int
page_new_ticket(struct http_req *req, struct http_resp *resp)
{
    struct store_commune com;
    enum gu_tz tz;
    struct mon_asset a;
    struct mon_alert al;
    struct ticket_form f;
    struct gu_buf b;
    bool has_alert;
    int rc;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if ((rc = commune_tz(req, &com, &tz)) < 0)
        return rc;
    rc = ticket_target(req, http_query(req, "equipement"),
                       http_query(req, "alerte"), &a, &al, &has_alert);
    if (rc == GU_ENOTFOUND)
        return asset_404(req, resp);
    if (rc < 0)
        return rc;
    memset(&f, 0, sizeof(f));
    f.titre = "";
    f.texte = "";
    if (has_alert) {
        /* prefilled from the alert */
        f.titre =
            gu_arena_sprintf(req->arena, "%s : %s (alerte n° %" PRId64 ")",
                             al.sensor_name ? al.sensor_name : "",
                             mon_detector_label(al.detector), al.id);
        gu_buf_init(&b);
        gu_buf_puts(&b, "Alerte du ");
        mon_when_fr(&b, tz, al.first_t);
        gu_buf_puts(&b, " sur « ");
        gu_buf_puts(&b, al.asset_name ? al.asset_name : "");
        gu_buf_puts(&b, " ».\n");
        gu_buf_puts(&b, al.explanation ? al.explanation : "");
        gu_buf_puts(&b, "\nValeur mesurée : ");
        num(&b, al.value, decimals_for(al.value));
        gu_buf_printf(&b, " %s ; attendue : ", al.unit ? al.unit : "");
        num(&b, al.expected, decimals_for(al.expected));
        gu_buf_printf(
            &b, " %s.\n\nÀ vérifier sur place : ", al.unit ? al.unit : "");
        f.texte = take(req, &b);
        if (!f.titre || !f.texte)
            return GU_ENOMEM;
    }
    return render_new_ticket(req, resp, 200, &a, &al, has_alert, &f);
}

/* Checks the title and text; true when all is well. */
static bool
ticket_fields(struct ticket_form *f)
{
    if (!*f->titre)
        f->e_titre = "Indiquez un titre.";
    else if (strlen(f->titre) > MON_NAME_MAX)
        f->e_titre = "Titre trop long (200 caractères au plus).";
    if (strlen(f->texte) > MON_TEXT_MAX)
        f->e_texte = "Description trop longue (8 000 caractères au plus).";
    return !f->e_titre && !f->e_texte;
}

static void
ticket_err_field(struct http_req *req, struct ticket_form *f,
                 const struct gu_err *err)
{
    const struct field_slot map[] = {{"title", &f->e_titre},
                                     {"body", &f->e_texte},
                                     {"status", &f->e_statut}};

    refusal_to_field(req, err, map, GU_ARRAY_LEN(map), &f->e_general);
}

/* POST /agent/surveillance/tickets */
static int
post_new_ticket(struct http_req *req, struct http_resp *resp)
{
    struct mon_asset a;
    struct mon_alert al;
    struct mon_ticket t;
    struct ticket_form f;
    struct gu_err err;
    bool has_alert;
    int64_t id = 0;
    const char *to;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    rc = ticket_target(req, http_form(req, "equipement"),
                       http_form(req, "alerte"), &a, &al, &has_alert);
    if (rc == GU_ENOTFOUND)
        return asset_404(req, resp);
    if (rc < 0)
        return rc;
    memset(&f, 0, sizeof(f));
    f.titre = form_trim(req, "titre");
    f.texte = form_trim(req, "texte");
    if (!f.titre || !f.texte)
        return GU_ENOMEM;
    if (!ticket_fields(&f))
        return render_new_ticket(req, resp, 400, &a, &al, has_alert, &f);
    memset(&t, 0, sizeof(t));
    memcpy(t.insee, req->who.insee, sizeof(t.insee));
    t.asset_id = a.id;
    t.alert_id = has_alert ? al.id : 0;
    t.title = f.titre;
    t.body = f.texte;
    t.status = MON_TICKET_OUVERT;
    t.created_by = req->who.agent_id;
    memset(&err, 0, sizeof(err));
    rc = mon_ticket_save(req->conn, &t, &id, &err);
    if (rc == GU_EINVAL || rc == GU_ETOOBIG) {
        ticket_err_field(req, &f, &err);
        return render_new_ticket(req, resp, 400, &a, &al, has_alert, &f);
    }
    if (rc < 0) {
        req->err = err;
        return rc;
    }
    http_audit(req, "monitor.ticket_create", "",
               "id=%" PRId64 " asset=%" PRId64 " alert=%" PRId64, id, a.id,
               t.alert_id);
    to = gu_arena_sprintf(
        req->arena, "/agent/surveillance/tickets/%" PRId64 "?fait=cree", id);
    return to ? http_redirect(resp, to) : GU_ENOMEM;
}

static int
render_ticket(struct http_req *req, struct http_resp *resp, int64_t id,
              int status, struct ticket_form *form)
{
    struct store_commune com;
    enum gu_tz tz;
    struct mon_ticket t;
    struct ticket_form f;
    struct gu_buf b;
    const char *content, *action, *msg = "", *fait;
    int rc;

    if ((rc = commune_tz(req, &com, &tz)) < 0)
        return rc;
    rc = mon_ticket_get(req->conn, req->arena, req->who.insee, id, &t,
                        &req->err);
    if (rc == GU_ENOTFOUND)
        return ticket_404(req, resp);
    if (rc < 0)
        return rc;
    gu_buf_init(&b);
    gu_buf_puts(&b, "<p class=\"mon-head\">");
    ticket_status(&b, t.status);
    gu_buf_printf(&b,
                  " Équipement : <a href=\"/agent/surveillance/equipements/"
                  "%" PRId64 "\">",
                  t.asset_id);
    html(&b, t.asset_name);
    gu_buf_puts(&b, "</a>");
    if (t.alert_id)
        gu_buf_printf(&b,
                      " · <a href=\"/agent/surveillance/alertes/%" PRId64
                      "\">alerte n<sup>o</sup> %" PRId64 "</a>",
                      t.alert_id, t.alert_id);
    gu_buf_puts(&b, "</p>\n<ul class=\"mon-timeline\"><li>Créé le ");
    mon_when_fr(&b, tz, t.created_at);
    if (t.created_by) {
        gu_buf_puts(&b, " par ");
        html(&b, agent_name(req, t.created_by));
    }
    gu_buf_puts(&b, ".</li><li>Mis à jour le ");
    mon_when_fr(&b, tz, t.updated_at);
    gu_buf_puts(&b, ".</li>");
    if (t.closed_at > 0) {
        gu_buf_puts(&b, "<li>Clos le ");
        mon_when_fr(&b, tz, t.closed_at);
        gu_buf_puts(&b, ".</li>");
    }
    gu_buf_puts(&b, "</ul>\n");
    if (can_work(req)) {
        if (form) {
            f = *form;
        } else {
            memset(&f, 0, sizeof(f));
            f.titre = t.title;
            f.texte = t.body;
            f.statut = mon_ticket_status_name(t.status);
        }
        action = gu_arena_sprintf(req->arena,
                                  "/agent/surveillance/tickets/%" PRId64, id);
        if (!action) {
            gu_buf_fini(&b);
            return GU_ENOMEM;
        }
        ticket_form_html(req, &b, action, &f, true, 0, 0,
                         "Enregistrer le ticket");
    } else {
        gu_buf_puts(&b, "<div class=\"panel mon-ticket-text\">");
        html(&b, t.body && *t.body ? t.body : "(pas de description)");
        gu_buf_puts(&b, "</div>\n");
    }
    content = take(req, &b);
    if (!content)
        return GU_ENOMEM;
    fait = http_query(req, "fait");
    if (!form && fait && strcmp(fait, "cree") == 0)
        msg = "Ticket créé.";
    else if (!form && fait && strcmp(fait, "enregistre") == 0)
        msg = "Ticket enregistré.";
    return render(req, resp, status, t.title, "/agent/surveillance/tickets",
                  "Tous les tickets", msg, content);
}

static int
page_ticket(struct http_req *req, struct http_resp *resp)
{
    int64_t id;

    if (req->who.must_change_password)
        return http_redirect(resp, "/agent/mot-de-passe");
    if (http_param_id(req, "id", &id) < 0)
        return ticket_404(req, resp);
    return render_ticket(req, resp, id, 200, NULL);
}

/* POST /agent/surveillance/tickets/{id} */
static int
post_ticket(struct http_req *req, struct http_resp *resp)
{
    struct mon_ticket t;
    struct ticket_form f;
    struct gu_err err;
    enum mon_ticket_status st = MON_TICKET_OUVERT;
    int64_t id;
    const char *to;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (http_param_id(req, "id", &id) < 0)
        return ticket_404(req, resp);
    rc = mon_ticket_get(req->conn, req->arena, req->who.insee, id, &t,
                        &req->err);
    if (rc == GU_ENOTFOUND)
        return ticket_404(req, resp);
    if (rc < 0)
        return rc;
    memset(&f, 0, sizeof(f));
    f.titre = form_trim(req, "titre");
    f.texte = form_trim(req, "texte");
    f.statut = form_trim(req, "statut");
    if (!f.titre || !f.texte || !f.statut)
        return GU_ENOMEM;
    ticket_fields(&f);
    if (mon_ticket_status_parse(f.statut, &st) < 0)
        f.e_statut = "État inconnu : ouvert, en cours ou clos.";
    if (f.e_titre || f.e_texte || f.e_statut)
        return render_ticket(req, resp, id, 400, &f);
    t.title = f.titre;
    t.body = f.texte;
    t.status = st;
    memset(&err, 0, sizeof(err));
    rc = mon_ticket_save(req->conn, &t, NULL, &err);
    if (rc == GU_EINVAL || rc == GU_ETOOBIG) {
        ticket_err_field(req, &f, &err);
        return render_ticket(req, resp, id, 400, &f);
    }
    if (rc < 0) {
        req->err = err;
        return rc;
    }
    http_audit(req, "monitor.ticket_update", "", "id=%" PRId64 " status=%s", id,
               mon_ticket_status_name(st));
    to = gu_arena_sprintf(
        req->arena, "/agent/surveillance/tickets/%" PRId64 "?fait=enregistre",
        id);
    return to ? http_redirect(resp, to) : GU_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Table                                                               */
/* ------------------------------------------------------------------ */

static const struct http_route routes[] = {
    {"GET", "/agent/surveillance", HTTP_LECTEUR, page_list, "agent",
     "Surveillance : équipements, dernières mesures, alertes ouvertes", NULL,
     NULL},
    {"GET", "/agent/surveillance/equipements/nouveau", HTTP_AGENT,
     page_new_asset, "agent", "Surveillance : nouvel équipement (formulaire)",
     NULL, NULL},
    {"POST", "/agent/surveillance/equipements", HTTP_AGENT, post_new_asset,
     "agent", "Surveillance : créer un équipement (formulaire)", NULL, NULL},
    {"POST", "/agent/surveillance/equipements/{id}/capteurs", HTTP_AGENT,
     post_new_sensor, "agent",
     "Surveillance : ajouter un capteur à un équipement (formulaire)", NULL,
     NULL},
    {"GET", "/agent/surveillance/equipements/{id}", HTTP_LECTEUR, page_asset,
     "agent",
     "Surveillance : un équipement, les graphiques de ses capteurs, ses "
     "réglages et ses tickets",
     NULL, NULL},
    {"POST", "/agent/surveillance/equipements/{id}/reglages", HTTP_AGENT,
     post_asset_settings, "agent",
     "Surveillance : réglages d’un équipement (formulaire)", NULL, NULL},
    {"GET", "/agent/surveillance/alertes", HTTP_LECTEUR, page_alerts, "agent",
     "Surveillance : alertes (filtres état, équipement)", NULL, NULL},
    {"GET", "/agent/surveillance/alertes/{id}", HTTP_LECTEUR, page_alert,
     "agent",
     "Surveillance : une alerte, son graphique, son explication et son suivi",
     NULL, NULL},
    {"POST", "/agent/surveillance/alertes/{id}/acquitter", HTTP_AGENT,
     post_alert_ack, "agent",
     "Surveillance : acquitter une alerte (formulaire)", NULL, NULL},
    {"POST", "/agent/surveillance/alertes/{id}/resoudre", HTTP_AGENT,
     post_alert_resolve, "agent",
     "Surveillance : résoudre une alerte (formulaire)", NULL, NULL},
    {"GET", "/agent/surveillance/tickets", HTTP_LECTEUR, page_tickets, "agent",
     "Surveillance : tickets de maintenance", NULL, NULL},
    {"GET", "/agent/surveillance/tickets/nouveau", HTTP_AGENT, page_new_ticket,
     "agent", "Surveillance : nouveau ticket (équipement ou alerte)", NULL,
     NULL},
    {"POST", "/agent/surveillance/tickets", HTTP_AGENT, post_new_ticket,
     "agent", "Surveillance : créer un ticket (formulaire)", NULL, NULL},
    {"GET", "/agent/surveillance/tickets/{id}", HTTP_LECTEUR, page_ticket,
     "agent", "Surveillance : un ticket de maintenance", NULL, NULL},
    {"POST", "/agent/surveillance/tickets/{id}", HTTP_AGENT, post_ticket,
     "agent", "Surveillance : modifier un ticket (formulaire)", NULL, NULL},
};

const struct http_routes mon_page_routes = {"monitor-pages", routes,
                                            GU_ARRAY_LEN(routes)};
