/*
 * web_why.c - « Pourquoi ? »: the one shape of an AI output's explanation.
 *
 * Every AI output shown in the back-office (an assistant's answer, a
 * request's routing, a no-show risk, a forecast, an alert) carries the
 * same JSON object, built here by the domains' route handlers:
 *
 *   {"resume": "one French sentence",
 *    "elements": [{"libelle": "...", "valeur": "..."}],
 *    "sources": [{"titre": "...", "url": "...", "score": 0.82}],
 *    "modele": "...", "version": "...", "date": "2026-11-30T22:11:35Z"}
 *
 * The browser renders it with web/js/pourquoi.js; server-rendered pages
 * with http_why_html() below, into the same markup (a <details> whose
 * summary reads « Pourquoi ? »), so that an agent finds the explanation
 * in the same place and form everywhere.
 */
#include <string.h>
#include <time.h>

#include "web/http.h"

json_t *
http_why_new(const char *summary, const char *model, const char *version,
             int64_t at)
{
    json_t *o = json_object();
    char iso[32];

    if (!o)
        return NULL;
    json_object_set_new(o, "resume", json_string(summary ? summary : ""));
    json_object_set_new(o, "elements", json_array());
    json_object_set_new(o, "sources", json_array());
    json_object_set_new(o, "modele", json_string(model ? model : ""));
    json_object_set_new(o, "version", json_string(version ? version : ""));
    if (at > 0) {
        gu_time_iso(at, iso, sizeof(iso));
        json_object_set_new(o, "date", json_string(iso));
    } else {
        json_object_set_new(o, "date", json_null());
    }
    return o;
}

int
http_why_add(json_t *why, const char *label, const char *value)
{
    json_t *arr = why ? json_object_get(why, "elements") : NULL;

    if (!arr || !label)
        return GU_EINVAL;
    return json_array_append_new(
               arr, json_pack("{s:s, s:s}", "libelle", label, "valeur",
                              value ? value : "")) == 0
               ? 0
               : GU_ENOMEM;
}

int
http_why_source(json_t *why, const char *title, const char *url,
                double score)
{
    json_t *arr = why ? json_object_get(why, "sources") : NULL;
    json_t *s;

    if (!arr || !title)
        return GU_EINVAL;
    s = json_pack("{s:s, s:s}", "titre", title, "url", url ? url : "");
    if (!s)
        return GU_ENOMEM;
    if (score >= 0)
        json_object_set_new(s, "score", json_real(score));
    return json_array_append_new(arr, s) == 0 ? 0 : GU_ENOMEM;
}

/* The string member `k` of `o`, "" if absent. */
static const char *
member(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void
esc(struct gu_buf *b, const char *s)
{
    gu_buf_html(b, s, strlen(s));
}

/* The ISO date of a why object as « 30/11/2026 23:11 », or "". */
static void
when_fr(const json_t *why, char *buf, size_t cap)
{
    const char *iso = member(why, "date");
    struct tm tm;
    int64_t t;

    buf[0] = '\0';
    memset(&tm, 0, sizeof(tm));
    if (!*iso || !strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return;
    t = (int64_t)timegm(&tm);
    gu_time_fr(t, buf, cap);
}

void
http_why_html(struct gu_buf *b, const json_t *why, bool open)
{
    const json_t *els = json_object_get(why, "elements");
    const json_t *srcs = json_object_get(why, "sources");
    const char *model = member(why, "modele");
    const char *version = member(why, "version");
    char when[32], num[64];
    size_t i;
    json_t *e;

    if (!json_is_object(why))
        return;
    gu_buf_puts(b, open ? "<details class=\"pourquoi\" open>"
                        : "<details class=\"pourquoi\">");
    gu_buf_puts(b, "<summary>Pourquoi ?</summary>\n<div class=\"pourquoi-"
                   "corps\">\n<p>");
    esc(b, member(why, "resume"));
    gu_buf_puts(b, "</p>\n");
    if (json_array_size(srcs)) {
        gu_buf_puts(b, "<p class=\"pourquoi-titre\">Sources</p>\n<ol>");
        json_array_foreach(srcs, i, e)
        {
            const char *url = member(e, "url");
            const json_t *sc = json_object_get(e, "score");

            gu_buf_puts(b, "<li>");
            if (*url) {
                gu_buf_puts(b, "<a href=\"");
                esc(b, url);
                gu_buf_puts(b, "\">");
            }
            esc(b, member(e, "titre"));
            if (*url)
                gu_buf_puts(b, "</a>");
            if (json_is_number(sc)) {
                gu_buf_printf(b, " — score %s",
                              gu_num_fr(json_number_value(sc), 2, 0, "–",
                                        num, sizeof(num)));
            }
            gu_buf_puts(b, "</li>");
        }
        gu_buf_puts(b, "</ol>\n");
    }
    gu_buf_puts(b, "<dl class=\"pourquoi-dl\">");
    json_array_foreach(els, i, e)
    {
        gu_buf_puts(b, "<dt>");
        esc(b, member(e, "libelle"));
        gu_buf_puts(b, "</dt><dd>");
        esc(b, member(e, "valeur"));
        gu_buf_puts(b, "</dd>");
    }
    if (*model) {
        gu_buf_puts(b, "<dt>Modèle</dt><dd>");
        esc(b, model);
        if (*version) {
            gu_buf_puts(b, ", version ");
            esc(b, version);
        }
        gu_buf_puts(b, "</dd>");
    }
    when_fr(why, when, sizeof(when));
    if (*when) {
        gu_buf_puts(b, "<dt>Date</dt><dd>");
        esc(b, when);
        gu_buf_puts(b, "</dd>");
    }
    gu_buf_puts(b, "</dl>\n<p class=\"hint\">Une indication pour aider "
                   "l’agent : elle ne décide jamais seule, et un agent peut "
                   "toujours la corriger.</p>\n</div>\n</details>\n");
}
