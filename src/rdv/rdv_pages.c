/*
 * rdv_pages.c - the residents' appointment pages.
 *
 *   GET  /rdv                        book: démarche, slot, contact (the page
 *                                    is a shell; web/js/rdv.js talks to the
 *                                    public API, docs/rdv-api.md). Deep link
 *                                    ?motif=CODE&lieu=ID&creneau=... (ANTS
 *                                    callback_url) preselects; &personnes=N
 *                                    (1..10) the number of people.
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
 *   GET  /rdv/attente/{token}        a waiting-list entry and the slot
 *                                    offered to it, with its expiry
 *   POST /rdv/attente/{token}/accepter, /quitter   accept the offer (on
 *                                    to the booking's page), leave the list
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
#define MISS_LIMIT 30    /* unknown tokens per client and minute */

static const char NOT_FOUND_TEXT[] =
    "Ce lien de rendez-vous n’existe pas ou n’est plus valable. Si vous "
    "avez un rendez-vous, utilisez le lien du dernier courriel reçu, ou "
    "contactez la mairie.";

/* « jeudi 3 décembre 2026 à 9 h 30 » (arena). */
static const char *
fr_when(struct gu_arena *a, int64_t day, int min)
{
    char buf[64];

    gu_when_fr(day, min, buf, sizeof(buf));
    return gu_arena_strdup(a, buf);
}

/* « 20 minutes », « 1 h 15 » (arena). */
static const char *
fr_duration(struct gu_arena *a, int minutes)
{
    char buf[32];

    gu_duration_fr(minutes, buf, sizeof(buf));
    return gu_arena_strdup(a, buf);
}

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

/* Strings read from the store are never NULL in practice; never trust it. */
static const char *
nz(const char *s)
{
    return s ? s : "";
}

/* A place's address on one line: « 1 place de la Mairie, 99001 Ville ». */
static const char *
place_address(struct gu_arena *a, const struct rdv_place *p)
{
    const char *street = nz(p->address);

    return gu_arena_sprintf(a, "%s%s%s %s", street, street[0] ? ", " : "",
                            nz(p->zip), nz(p->city));
}

/* "A,B" (stored list) as "A, B" for reading (arena); NULL when empty. */
static const char *
list_text(struct gu_arena *a, const char *csv)
{
    struct gu_buf b;
    const char *out;

    if (!csv || !csv[0])
        return NULL;
    gu_buf_init(&b);
    for (const char *p = csv; *p; p++) {
        if (*p == ',')
            gu_buf_puts(&b, ", ");
        else
            gu_buf_append(&b, p, 1);
    }
    out = b.oom ? NULL : gu_arena_strndup(a, b.p, b.n);
    gu_buf_fini(&b);
    return out;
}

/* A French page with a status (404, 409, 429...). */
static int
message_page(struct http_req *req, struct http_resp *resp, int status,
             const char *title, const char *detail)
{
    char num[8];
    json_t *vars;

    snprintf(num, sizeof(num), "%d", status);
    vars = json_pack("{s:s, s:s, s:s}", "status", num, "title", title, "detail",
                     detail);
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
    const char *people = http_query(req, "personnes");
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
    if (!people || gu_parse_long(people, 1, RDV_PEOPLE_MAX, &id) < 0)
        people = "";
    if (slot && strlen(slot) <= 32 &&
        gu_tz_parse(gu_tz_of_zone(m.zone), slot, &day, &min) == 0) {
        char iso[16];

        gu_day_iso(day, iso, sizeof(iso));
        snprintf(when, sizeof(when), "%.10sT%02d:%02d", iso, min / 60,
                 min % 60);
    }
    today_iso(&m, today, sizeof(today));
    vars = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "commune", nz(m.name),
        "insee", m.insee, "motif", motif, "lieu", lieu, "personnes", people,
        "creneau", when, "today", today, "retention",
        retention_text(req->arena, req->cfg), "offer_hours",
        (json_int_t)(req->cfg ? gu_config_int(req->cfg, "rdv.offer_hours")
                              : 24));
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, "rdv.html", vars);
}

/* ----- a booking by its token ----- */

/* The one answer to a token that leads nowhere (counted per client). */
static int
token_miss(struct http_req *req, struct http_resp *resp)
{
    char key[96];
    struct gu_err err = {0};

    snprintf(key, sizeof(key), "rdv.token:%.60s",
             req->client_ip ? req->client_ip : "");
    if (store_rate_hit(req->conn, key, MISS_LIMIT, 60, NULL, &err) ==
        GU_ERATE) {
        http_add_header(resp, "Retry-After", "60");
        return message_page(req, resp, 429, "Trop de demandes",
                            "Trop de liens inconnus en peu de temps. "
                            "Patientez une minute puis réessayez.");
    }
    return message_page(req, resp, 404, "Rendez-vous introuvable",
                        NOT_FOUND_TEXT);
}

/*
 * Limit the state-changing forms per client: the same bucket and setting
 * (rdv.rate_manage_ip, per hour) as the API's actions on a booking, so
 * that the pages open no second door. 0 when allowed, 1 when the 429
 * page was rendered.
 */
static int
post_rate(struct http_req *req, struct http_resp *resp)
{
    long limit = req->cfg ? gu_config_int(req->cfg, "rdv.rate_manage_ip") : 0;
    char key[96];
    struct gu_err err = {0};

    if (limit <= 0)
        return 0;
    snprintf(key, sizeof(key), "rdv.manage:%.60s",
             req->client_ip ? req->client_ip : "");
    if (store_rate_hit(req->conn, key, (int)limit, 3600, NULL, &err) ==
        GU_ERATE) {
        http_add_header(resp, "Retry-After", "600");
        return message_page(req, resp, 429, "Trop de demandes",
                            "Trop de demandes en peu de temps. Patientez "
                            "quelques minutes puis réessayez, ou appelez la "
                            "mairie.") < 0
                   ? GU_ENOMEM
                   : 1;
    }
    return 0;
}

/*
 * Resolve {token}: 0 with *b filled, 1 when the 404 page was rendered,
 * or a negative code.
 */
static int
booking_of(struct http_req *req, struct http_resp *resp, struct rdv_booking *b)
{
    const char *token = http_param(req, "token");
    int rc;

    if (!rdv_token_shape(token)) {
        rc = token_miss(req, resp);
        return rc < 0 ? rc : 1;
    }
    rc = rdv_by_token(req->conn, req->arena, token, b, &req->err);
    if (rc == GU_ENOTFOUND || rc == GU_EINVAL) {
        rc = token_miss(req, resp);
        return rc < 0 ? rc : 1;
    }
    return rc;
}

static const char *
status_label(enum rdv_status s, const char **cls)
{
    *cls = "badge-ok";
    switch (s) {
    case RDV_HELD:
        *cls = "";
        return "Proposé, en attente de votre réponse";
    case RDV_CONFIRMED:
        return "Confirmé";
    case RDV_CANCELLED:
        *cls = "badge-off";
        return "Annulé";
    case RDV_PRESENT:
        return "Honoré";
    case RDV_NOSHOW:
        *cls = "badge-off";
        return "Absence constatée";
    case RDV_EXCUSED:
        *cls = "";
        return "Absence excusée";
    }
    return "";
}

/* The absolute address of a path, for residents to keep. */
static const char *
absolute_url(struct http_req *req, const char *path)
{
    const char *base =
        req->cfg ? gu_config_str(req->cfg, "server.public_url") : "";
    const char *host = http_header(req, "Host");
    size_t n;

    if (base && base[0]) {
        n = strlen(base);
        while (n && base[n - 1] == '/')
            n--;
        return gu_arena_sprintf(req->arena, "%.*s%s", (int)n, base, path);
    }
    if (!host || !host[0] || strlen(host) > 255 || strpbrk(host, " \"<>\\/@"))
        return path;
    return gu_arena_sprintf(req->arena, "%s://%s%s",
                            req->tls ? "https" : "http", host, path);
}

/* Are e-mails sent at all (smtp.url set)? Else they wait in the queue,
   and the pages must not say that one was sent. */
static bool
mail_on(struct http_req *req)
{
    return req->cfg && nz(gu_config_str(req->cfg, "smtp.url"))[0];
}

/* What the banner says after an action (?fait=...). */
static void
done_texts(struct http_req *req, const struct rdv_booking *b, const char *fait,
           const char **title, const char **text)
{
    *title = *text = NULL;
    if (!fait)
        return;
    if (strcmp(fait, "reserve") == 0 || strcmp(fait, "accepte") == 0) {
        *title = "Votre rendez-vous est confirmé.";
        if (!nz(b->email)[0])
            *text = "Vous n’avez pas indiqué d’adresse électronique : "
                    "aucun courriel ne vous est envoyé. Notez bien ce "
                    "lien ou ajoutez le rendez-vous à votre agenda.";
        else if (!mail_on(req))
            *text = "La mairie n’envoie pas encore de courriels : notez "
                    "bien ce lien ou ajoutez le rendez-vous à votre "
                    "agenda.";
        else
            *text = gu_arena_sprintf(
                req->arena,
                "Un courriel de confirmation vous est envoyé à l’adresse "
                "%s, avec ce lien et le rendez-vous à ajouter à votre "
                "agenda. Pensez à regarder dans vos courriers indésirables.",
                b->email);
    } else if (strcmp(fait, "deplace") == 0) {
        *title = "Votre rendez-vous a été déplacé.";
        *text = nz(b->email)[0] && mail_on(req)
                    ? "Un courriel vous confirme le nouvel horaire. "
                      "L’ancien créneau est libéré."
                    : "L’ancien créneau est libéré.";
    } else if (strcmp(fait, "annule") == 0) {
        *title = "Votre rendez-vous est annulé.";
        *text = "Le créneau est libéré pour une autre personne. Merci de "
                "nous avoir prévenus.";
    } else if (strcmp(fait, "confirme") == 0) {
        *title = "Merci, votre venue est confirmée.";
        *text = "La mairie vous attend à l’heure indiquée ci-dessous.";
    }
}

/*
 * Render the booking page. `error` (may be NULL) is shown at the top with
 * `status`.
 */
static int
render_booking(struct http_req *req, struct http_resp *resp,
               const struct rdv_booking *b, int status, const char *error)
{
    const char *token = http_param(req, "token");
    const char *fait = http_query(req, "fait");
    const char *action = http_query(req, "action");
    const char *done_title, *done_text, *cls, *status_text, *path;
    const char *change_text = "", *nochange_text = "", *when, *address;
    const char *ants;
    char today[16], day_iso[16], max_days[16];
    struct store_commune m;
    struct rdv_motif mo;
    struct rdv_place pl;
    bool can_change, future, ask_confirm = false, ask_cancel = false;
    int64_t now = gu_now(), start_utc;
    enum gu_tz tz;
    json_t *vars;
    int rc;

    rc = store_commune_get(req->conn, req->arena, b->insee, &m, &req->err);
    if (rc == 0)
        rc = rdv_motif_get(req->conn, req->arena, b->insee, b->motif_id, &mo,
                           &req->err);
    if (rc == 0)
        rc = rdv_place_get(req->conn, req->arena, b->insee, b->place_id, &pl,
                           &req->err);
    if (rc < 0)
        return rc;
    tz = gu_tz_of_zone(m.zone);
    start_utc = gu_tz_to_utc(tz, b->day, b->start_min);
    future = start_utc > now;
    can_change = b->status == RDV_CONFIRMED && mo.changeable &&
                 now < start_utc - (int64_t)mo.change_until_h * 3600;
    when = fr_when(req->arena, b->day, b->start_min);
    if (can_change) {
        int64_t lday;
        int lmin;

        gu_tz_from_utc(tz, start_utc - (int64_t)mo.change_until_h * 3600, &lday,
                       &lmin);
        change_text = gu_arena_sprintf(
            req->arena,
            "Vous pouvez déplacer ou annuler ce rendez-vous en ligne "
            "jusqu’au %s. Un empêchement ? Prévenez-nous : le créneau "
            "profitera à quelqu’un d’autre.",
            fr_when(req->arena, lday, lmin));
    } else if (b->status == RDV_CANCELLED) {
        nochange_text = "Ce rendez-vous est annulé. Vous pouvez en prendre "
                        "un nouveau à tout moment.";
    } else if (b->status == RDV_CONFIRMED && future) {
        nochange_text = gu_arena_sprintf(
            req->arena,
            "Ce rendez-vous ne peut plus être déplacé ni annulé en ligne. "
            "En cas d’empêchement, prévenez la mairie%s%s.",
            pl.phone && pl.phone[0] ? " au " : "",
            pl.phone && pl.phone[0] ? pl.phone : "");
    } else {
        nochange_text = "Ce rendez-vous est passé.";
    }

    /* A reminder's link asks a question; only the form changes things. */
    if (!error && action && strcmp(action, "confirmer") == 0) {
        if (b->status == RDV_CONFIRMED && future && !b->confirmed_at)
            ask_confirm = true;
        else if (b->status == RDV_CONFIRMED && future)
            fait = "confirme";
        else
            error = "Ce rendez-vous ne peut plus être confirmé : il est "
                    "annulé ou déjà passé.";
    } else if (!error && action && strcmp(action, "annuler") == 0) {
        if (can_change)
            ask_cancel = true;
        else if (b->status == RDV_CANCELLED)
            fait = "annule";
        else
            error = nochange_text;
    }
    done_texts(req, b, fait, &done_title, &done_text);
    status_text = status_label(b->status, &cls);
    if (b->status == RDV_CONFIRMED && b->confirmed_at)
        status_text = "Confirmé, venue confirmée";
    address = place_address(req->arena, &pl);
    path = gu_arena_sprintf(req->arena, "/rdv/r/%s", token);
    today_iso(&m, today, sizeof(today));
    gu_day_iso(b->day, day_iso, sizeof(day_iso));
    snprintf(max_days, sizeof(max_days), "%d", mo.max_delay_d);
    ants = list_text(req->arena, b->ants_ids);
    if (!when || !address || !path || !change_text || !nochange_text ||
        (b->ants_ids && b->ants_ids[0] && !ants))
        return GU_ENOMEM;

    vars = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
        "commune", nz(m.name), "insee", m.insee, "token", token, "motif",
        nz(mo.name), "when", when, "duration",
        fr_duration(req->arena, b->end_min - b->start_min), "place",
        nz(pl.name), "address", address, "people_text",
        b->people > 1 ? gu_arena_sprintf(req->arena, "%d personnes", b->people)
                      : "1 personne",
        "name", nz(b->name), "ants_ids", ants ? ants : "Sans objet", "status",
        status_text, "status_class", cls, "instructions", nz(mo.instructions),
        "manage_path", path, "manage_url", absolute_url(req, path), "mail_note",
        nz(b->email)[0] && mail_on(req)
            ? "Ce lien figure aussi dans le courriel de confirmation."
        : nz(b->email)[0]
            ? "Notez-le ou ajoutez le rendez-vous à votre agenda : la "
              "mairie n’envoie pas encore de courriels."
            : "Notez-le ou ajoutez le rendez-vous à votre agenda : "
              "sans adresse électronique, vous ne recevez pas de "
              "courriel.",
        "change_text", change_text, "nochange_text", nochange_text, "today",
        today);
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    json_object_set_new(vars, "motif_id",
                        json_sprintf("%lld", (long long)b->motif_id));
    json_object_set_new(vars, "place_id",
                        json_sprintf("%lld", (long long)b->place_id));
    json_object_set_new(vars, "people", json_sprintf("%d", b->people));
    json_object_set_new(vars, "day", json_string(day_iso));
    json_object_set_new(vars, "max_days", json_string(max_days));
    json_object_set_new(vars, "error", json_string(error ? error : ""));
    json_object_set_new(vars, "error_hidden",
                        json_string(error ? "" : "hidden"));
    json_object_set_new(vars, "done_title",
                        json_string(done_title ? done_title : ""));
    json_object_set_new(vars, "done_text",
                        json_string(done_text ? done_text : ""));
    json_object_set_new(vars, "done_hidden",
                        json_string(done_title && !error ? "" : "hidden"));
    json_object_set_new(vars, "ask_confirm_hidden",
                        json_string(ask_confirm ? "" : "hidden"));
    json_object_set_new(vars, "ask_cancel_hidden",
                        json_string(ask_cancel ? "" : "hidden"));
    json_object_set_new(vars, "change_hidden",
                        json_string(can_change ? "" : "hidden"));
    json_object_set_new(vars, "nochange_hidden",
                        json_string(can_change ? "hidden" : ""));
    json_object_set_new(
        vars, "instructions_hidden",
        json_string(mo.instructions && mo.instructions[0] ? "" : "hidden"));
    return http_template(req, resp, status, "rdv-gestion.html", vars);
}

/* GET /rdv/r/{token} */
static int
get_booking(struct http_req *req, struct http_resp *resp)
{
    struct rdv_booking b;
    int rc = booking_of(req, resp, &b);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    return render_booking(req, resp, &b, 200, NULL);
}

/*
 * After a refused action: the page again with the French reason (409),
 * or the error itself when it is not the resident's to fix.
 */
static int
action_failed(struct http_req *req, struct http_resp *resp,
              const struct rdv_booking *b, int rc)
{
    if (rc == GU_EINVAL || rc == GU_ECONFLICT || rc == GU_EPERM ||
        rc == GU_ENOTFOUND) {
        const char *msg = req->err.user[0]
                              ? gu_arena_strdup(req->arena, req->err.user)
                              : "Cette action n’est plus possible pour ce "
                                "rendez-vous.";
        req->err = (struct gu_err){0};
        return render_booking(req, resp, b, 409, msg);
    }
    return rc;
}

static int
redirect_done(struct http_req *req, struct http_resp *resp, const char *fait)
{
    const char *to = gu_arena_sprintf(req->arena, "/rdv/r/%s?fait=%s",
                                      http_param(req, "token"), fait);

    if (!to)
        return GU_ENOMEM;
    return http_redirect(resp, to);
}

/* POST /rdv/r/{token}/confirmer */
static int
post_confirm(struct http_req *req, struct http_resp *resp)
{
    struct rdv_booking b;
    int rc;

    if ((rc = post_rate(req, resp)) != 0)
        return rc < 0 ? rc : 0;
    if ((rc = booking_of(req, resp, &b)) != 0)
        return rc < 0 ? rc : 0;
    rc = rdv_confirm(req->conn, b.insee, b.id, &req->err);
    if (rc < 0)
        return action_failed(req, resp, &b, rc);
    return redirect_done(req, resp, "confirme");
}

/* POST /rdv/r/{token}/annuler */
static int
post_cancel(struct http_req *req, struct http_resp *resp)
{
    struct rdv_booking b;
    int rc;

    if ((rc = post_rate(req, resp)) != 0)
        return rc < 0 ? rc : 0;
    if ((rc = booking_of(req, resp, &b)) != 0)
        return rc < 0 ? rc : 0;
    rc = rdv_cancel(req->conn, req->cfg, b.insee, b.id, false, "public",
                    &req->err);
    if (rc < 0)
        return action_failed(req, resp, &b, rc);
    return redirect_done(req, resp, "annule");
}

/* GET /rdv/r/{token}/rdv.ics */
static int
get_ics(struct http_req *req, struct http_resp *resp)
{
    struct rdv_booking b;
    struct store_commune m;
    const char *ics, *calname;
    int rc;

    if ((rc = booking_of(req, resp, &b)) != 0)
        return rc < 0 ? rc : 0;
    rc = store_commune_get(req->conn, req->arena, b.insee, &m, &req->err);
    if (rc < 0)
        return rc;
    calname = gu_arena_sprintf(req->arena, "Rendez-vous à la mairie de %s",
                               nz(m.name));
    ics = rdv_ics_store(req->conn, req->arena, req->cfg, b.insee, &b, 1, false,
                        calname, &req->err);
    if (!ics)
        return req->err.code ? req->err.code : GU_ENOMEM;
    if (http_add_header(resp, "Content-Disposition",
                        "attachment; filename=\"rendez-vous.ics\"") < 0)
        return GU_ENOMEM;
    return http_send(resp, 200, "text/calendar; charset=utf-8", ics,
                     strlen(ics));
}

/* ----- the waiting list, by its token ----- */

/* French words for a waiting-list entry's state. */
static const char *
wait_state_text(const char *st, const char **label)
{
    if (strcmp(st, "proposé") == 0) {
        *label = "Créneau proposé";
        return "Un créneau vous a été proposé par courriel.";
    }
    if (strcmp(st, "accepté") == 0) {
        *label = "Créneau accepté";
        return "Vous avez accepté le créneau proposé : retrouvez votre "
               "rendez-vous avec le lien du courriel de confirmation.";
    }
    if (strcmp(st, "expiré") == 0) {
        *label = "Terminée";
        return "Votre inscription est terminée : les créneaux proposés "
               "n’ont pas été acceptés à temps. Vous pouvez prendre un "
               "rendez-vous ou vous inscrire à nouveau.";
    }
    *label = "En attente";
    return NULL; /* the caller says it with rdv.offer_hours */
}

/*
 * Render the waiting-list page of the entry `w` (status 200, or 409 with
 * `error`), or, when `left`, the page saying the resident left the list.
 */
static int
render_wait(struct http_req *req, struct http_resp *resp,
            const struct rdv_wait *w, int status, const char *error)
{
    const char *token = http_param(req, "token");
    const char *fait = http_query(req, "fait");
    const char *state, *state_text, *place = "Tous les lieux";
    const char *offer_when = "", *offer_place = "", *offer_address = "";
    const char *offer_until = "", *done = NULL;
    struct store_commune m;
    struct rdv_motif mo;
    struct rdv_place pl;
    char created[32];
    bool offer = false;
    enum gu_tz tz;
    json_t *vars;
    int rc;

    rc = store_commune_get(req->conn, req->arena, w->insee, &m, &req->err);
    if (rc == 0)
        rc = rdv_motif_get(req->conn, req->arena, w->insee, w->motif_id, &mo,
                           &req->err);
    if (rc == 0 && w->place_id) {
        rc = rdv_place_get(req->conn, req->arena, w->insee, w->place_id, &pl,
                           &req->err);
        if (rc == 0)
            place = nz(pl.name);
    }
    if (rc < 0)
        return rc;
    tz = gu_tz_of_zone(m.zone);
    state_text = wait_state_text(w->status ? w->status : "", &state);
    if (!state_text)
        state_text = gu_arena_sprintf(
            req->arena,
            "Dès qu’un créneau plus tôt se libère, il vous est proposé par "
            "courriel et réservé pour vous pendant %ld heures. Vous n’avez "
            "rien d’autre à faire.",
            req->cfg ? gu_config_int(req->cfg, "rdv.offer_hours") : 24);
    if (w->status && strcmp(w->status, "proposé") == 0 && w->booking_id) {
        struct rdv_booking b;
        struct rdv_place bp;

        rc = rdv_get(req->conn, req->arena, w->insee, w->booking_id, &b,
                     &req->err);
        if (rc == 0 && b.status == RDV_HELD && b.hold_until > gu_now())
            rc = rdv_place_get(req->conn, req->arena, w->insee, b.place_id, &bp,
                               &req->err);
        else if (rc == 0 || rc == GU_ENOTFOUND)
            rc = 1; /* expired or gone: no offer to show */
        if (rc < 0)
            return rc;
        if (rc == 0) {
            int64_t hday;
            int hmin;

            offer = true;
            offer_when = fr_when(req->arena, b.day, b.start_min);
            offer_place = nz(bp.name);
            offer_address = place_address(req->arena, &bp);
            gu_tz_from_utc(tz, b.hold_until, &hday, &hmin);
            offer_until = fr_when(req->arena, hday, hmin);
        } else {
            state = "En attente";
            state_text = "Le créneau proposé n’a pas été accepté à temps. "
                         "Vous restez sur la liste : un autre créneau vous "
                         "sera proposé dès qu’il se libère.";
        }
    }
    if (fait && strcmp(fait, "inscrit") == 0)
        done = "Vous êtes inscrit(e) sur la liste d’attente.";
    gu_time_fr(w->created_at, created, sizeof(created));
    created[10] = '\0'; /* the date only */
    if (!offer_when || !offer_address || !offer_until || !state_text)
        return GU_ENOMEM;
    vars = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:s}",
        "commune", nz(m.name), "insee", m.insee, "token", token, "motif",
        nz(mo.name), "place", place, "people_text",
        w->people > 1 ? gu_arena_sprintf(req->arena, "%d personnes", w->people)
                      : "1 personne",
        "created", created, "state", state, "state_text", state_text,
        "offer_when", offer_when, "offer_place", offer_place, "offer_address",
        offer_address, "offer_until", offer_until, "error", error ? error : "");
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    json_object_set_new(vars, "error_hidden",
                        json_string(error ? "" : "hidden"));
    json_object_set_new(vars, "done_text", json_string(done ? done : ""));
    json_object_set_new(vars, "done_hidden",
                        json_string(done && !error ? "" : "hidden"));
    json_object_set_new(vars, "offer_hidden",
                        json_string(offer ? "" : "hidden"));
    json_object_set_new(vars, "entry_hidden", json_string(""));
    json_object_set_new(vars, "leave_hidden",
                        json_string(!offer && strcmp(state, "En attente") == 0
                                        ? ""
                                        : "hidden"));
    return http_template(req, resp, status, "rdv-attente.html", vars);
}

/* Resolve the waiting-list {token}: like booking_of. */
static int
wait_of(struct http_req *req, struct http_resp *resp, struct rdv_wait *w)
{
    const char *token = http_param(req, "token");
    int rc;

    if (!rdv_token_shape(token)) {
        rc = token_miss(req, resp);
        return rc < 0 ? rc : 1;
    }
    rc = rdv_wait_get(req->conn, req->arena, token, w, &req->err);
    if (rc == GU_ENOTFOUND || rc == GU_EINVAL) {
        rc = token_miss(req, resp);
        return rc < 0 ? rc : 1;
    }
    return rc;
}

/* GET /rdv/attente/{token} */
static int
get_wait(struct http_req *req, struct http_resp *resp)
{
    struct rdv_wait w;
    int rc = wait_of(req, resp, &w);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    return render_wait(req, resp, &w, 200, NULL);
}

/* POST /rdv/attente/{token}/accepter: the held slot becomes the
   resident's booking; on to its page. */
static int
post_wait_accept(struct http_req *req, struct http_resp *resp)
{
    struct rdv_wait w;
    struct rdv_booked out;
    const char *to;
    int rc;

    if ((rc = post_rate(req, resp)) != 0)
        return rc < 0 ? rc : 0;
    if ((rc = wait_of(req, resp, &w)) != 0)
        return rc < 0 ? rc : 0;
    memset(&out, 0, sizeof(out));
    rc = rdv_wait_accept(req->conn, req->cfg, http_param(req, "token"), &out,
                         &req->err);
    if (rc == GU_EINVAL || rc == GU_ECONFLICT || rc == GU_ENOTFOUND ||
        rc == GU_EPERM) {
        const char *msg = req->err.user[0]
                              ? gu_arena_strdup(req->arena, req->err.user)
                              : "Ce créneau n’est plus disponible : le délai "
                                "pour l’accepter est passé.";
        req->err = (struct gu_err){0};
        if (rdv_wait_get(req->conn, req->arena, http_param(req, "token"), &w,
                         &req->err) < 0)
            return message_page(req, resp, 409, "Proposition expirée", msg);
        return render_wait(req, resp, &w, 409, msg);
    }
    if (rc < 0)
        return rc;
    to = gu_arena_sprintf(req->arena, "/rdv/r/%s?fait=accepte", out.token);
    if (!to)
        return GU_ENOMEM;
    return http_redirect(resp, to);
}

/* POST /rdv/attente/{token}/quitter: leave the list (an offer in hand is
   declined and its slot freed). */
static int
post_wait_leave(struct http_req *req, struct http_resp *resp)
{
    struct rdv_wait w;
    struct store_commune m;
    json_t *vars;
    int rc;

    if ((rc = post_rate(req, resp)) != 0)
        return rc < 0 ? rc : 0;
    if ((rc = wait_of(req, resp, &w)) != 0)
        return rc < 0 ? rc : 0;
    rc = rdv_wait_leave(req->conn, http_param(req, "token"), &req->err);
    if (rc < 0)
        return rc;
    rc = store_commune_get(req->conn, req->arena, w.insee, &m, &req->err);
    if (rc < 0)
        return rc;
    vars = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "commune",
                     nz(m.name), "insee", m.insee, "title",
                     "Vous avez quitté la liste d’attente", "text",
                     "Votre inscription est supprimée et aucune proposition "
                     "ne vous sera plus envoyée. Vous pouvez prendre un "
                     "rendez-vous à tout moment.",
                     "error_hidden", "hidden", "done_hidden", "", "token", "");
    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, "bientot.html", vars);
}

static const struct http_route routes[] = {
    {"GET", "/rdv", HTTP_PUBLIC, get_book, "rdv",
     "Prendre rendez-vous (page des usagers)", NULL, NULL},
    {"GET", "/rdv/r/{token}", HTTP_PUBLIC, get_booking, "rdv",
     "Voir, déplacer, annuler ou confirmer son rendez-vous", NULL, NULL},
    {"POST", "/rdv/r/{token}/confirmer", HTTP_PUBLIC, post_confirm, "rdv",
     "Confirmer sa venue (formulaire)", NULL, NULL},
    {"POST", "/rdv/r/{token}/annuler", HTTP_PUBLIC, post_cancel, "rdv",
     "Annuler son rendez-vous (formulaire)", NULL, NULL},
    {"GET", "/rdv/r/{token}/rdv.ics", HTTP_PUBLIC, get_ics, "rdv",
     "Le rendez-vous au format iCalendar", NULL, NULL},
    {"GET", "/rdv/attente/{token}", HTTP_PUBLIC, get_wait, "rdv",
     "Son inscription sur la liste d’attente (proposition en cours)", NULL,
     NULL},
    {"POST", "/rdv/attente/{token}/accepter", HTTP_PUBLIC, post_wait_accept,
     "rdv", "Accepter le créneau proposé (formulaire)", NULL, NULL},
    {"POST", "/rdv/attente/{token}/quitter", HTTP_PUBLIC, post_wait_leave,
     "rdv", "Quitter la liste d’attente (formulaire)", NULL, NULL},
};

const struct http_routes rdv_page_routes = {"rdv-pages", routes,
                                            GU_ARRAY_LEN(routes)};
