/*
 * rdv_notify.c - what residents receive about their appointments:
 * e-mails (confirmation, move, cancellation, reminder, waiting-list
 * offer), the reminders job and the SMS hook.
 *
 * Every message is queued inside the caller's transaction (notify outbox,
 * rdv_sms_queue), so a message exists exactly when the change it tells of
 * is stored. Texts are plain, polite French for people who are not at
 * ease with computers: the date written out (« jeudi 3 décembre 2026 à
 * 9 h 30 »), the place and its address, what to bring, and one link per
 * action. Each message holds its own token (rdv_token_new), scoped to the
 * booking; links are {server.public_url}/rdv/r/{token} (relative when
 * server.public_url is empty).
 *
 * Reminders (rdv_remind_run): two days and one day before, and four days
 * before when the no-show risk is high. Each one is claimed in a write
 * transaction: a compare-and-set on the booking's reminded_at, then its
 * row in rdv_notify_log guarded by NOT EXISTS, so two nodes running the
 * job at once send it once, on SQLite and PostgreSQL alike.
 *
 * SMS (rdv_sms_run): rows of rdv_sms_queue are sent through rdv.sms_url
 * (HTTP POST of JSON) or rdv.sms_command (spawned with argv, no shell),
 * with a timeout, retries and backoff; a row is claimed by pushing its
 * next_try_at forward before sending. Phone numbers never reach the logs
 * beyond their last two digits, and a sent row keeps neither the number
 * nor the text (whose link holds a token).
 */
#include "rdv/rdv.h"
#include "rdv/rdv_internal.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SMS_TEXT_MAX 480      /* bytes of one SMS text (3 segments) */
#define SMS_MAX_ATTEMPTS 5
#define SMS_TIMEOUT_S 10      /* one sending attempt */
#define SMS_BATCH 50          /* rows per run */
#define SMS_LEASE_S 120       /* a claimed row is retried after this */
#define SMS_RUN_BUDGET_MS 20000 /* one run stops sending after this */
#define REMIND_BATCH 500      /* bookings examined per run */
#define DAY_S 86400

/* « jeudi 3 décembre 2026 à 9 h 30 », « mardi 1er décembre 2026 à 9 h ». */
static const char *
date_fr(struct gu_arena *a, int64_t day, int minute)
{
    char buf[64];

    gu_when_fr(day, minute, buf, sizeof(buf));
    return gu_arena_strdup(a, buf);
}

/* « 30 minutes », « 1 h », « 1 h 15 ». */
static const char *
duration_fr(struct gu_arena *a, int minutes)
{
    char buf[32];

    gu_duration_fr(minutes, buf, sizeof(buf));
    return gu_arena_strdup(a, buf);
}

/* Everything a message says besides the booking itself. */
struct msg_ctx {
    const char *commune;      /* « Saint-Exemple-sur-Loire » */
    const char *zone;
    enum gu_tz tz;
    const char *location;     /* place, address, zip city */
    const char *place_name;
    const char *instructions; /* may be "" */
    bool changeable;
    int change_until_h;
    int64_t wait_id;          /* the booking's waiting-list entry */
    const char *base;         /* public URL without trailing '/', or "" */
    const char *host;         /* UID host */
};

static int
load_ctx(struct store_conn *c, struct gu_arena *a,
         const struct gu_config *cfg, const struct rdv_booking *b,
         struct msg_ctx *x, struct gu_err *err)
{
    struct store_rows *r = NULL;
    int rc = store_query(
        c, a,
        "SELECT co.name, co.zone, p.name, p.address, p.zip, p.city,"
        " m.instructions, m.changeable, m.change_until_h, bk.wait_id"
        " FROM communes co, rdv_places p, rdv_motifs m, rdv_bookings bk"
        " WHERE co.insee = ? AND p.id = ? AND p.insee = co.insee"
        " AND m.id = ? AND m.insee = co.insee"
        " AND bk.id = ? AND bk.insee = co.insee",
        (struct store_val[]){STORE_T(b->insee), STORE_I(b->place_id),
                             STORE_I(b->motif_id), STORE_I(b->id)},
        4, &r, err);
    if (rc < 0) {
        return rc;
    }
    if (r->nrows != 1) {
        return gu_err_set(err, GU_ENOTFOUND, NULL, NULL,
                          "rdv notify: booking %lld, place or motif not found",
                          (long long)b->id);
    }
    struct rdv_place p = {
        .name = store_text(r, 0, 2),
        .address = store_text(r, 0, 3),
        .zip = store_text(r, 0, 4),
        .city = store_text(r, 0, 5),
    };
    x->commune = store_text(r, 0, 0);
    x->zone = store_text(r, 0, 1);
    x->tz = gu_tz_of_zone(x->zone);
    x->place_name = p.name;
    x->location = rdv_ics_location(a, &p);
    x->instructions = store_text(r, 0, 6);
    x->changeable = store_int(r, 0, 7) != 0;
    x->change_until_h = (int)store_int(r, 0, 8);
    x->wait_id = store_int(r, 0, 9);
    const char *url = gu_config_str(cfg, "server.public_url");
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/') {
        n--;
    }
    x->base = gu_arena_strndup(a, url, n);
    x->host = rdv_ics_host(a, url);
    if (!x->base || !x->location) {
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    return 0;
}

/* The block describing the appointment, shared by every e-mail. */
static void
put_details(struct gu_buf *t, struct gu_arena *a, const struct rdv_booking *b,
            const struct msg_ctx *x)
{
    gu_buf_printf(t, "Motif : %s\n", b->motif_name ? b->motif_name : "");
    gu_buf_printf(t, "Date : %s (durée : %s)\n",
                  date_fr(a, b->day, b->start_min),
                  duration_fr(a, b->end_min - b->start_min));
    gu_buf_printf(t, "Lieu : %s\n", x->location);
    gu_buf_printf(t, "Nombre de personnes : %d\n", b->people);
}

static void
put_instructions(struct gu_buf *t, const struct msg_ctx *x)
{
    if (x->instructions && *x->instructions) {
        gu_buf_printf(t, "\nÀ prévoir :\n%s\n", x->instructions);
    }
}

static void
put_signature(struct gu_buf *t, const struct msg_ctx *x)
{
    gu_buf_printf(t,
                  "\nBien cordialement,\nLa mairie de %s\n\n"
                  "Ce message vous a été envoyé automatiquement par le "
                  "service de rendez-vous de la mairie ; il est inutile "
                  "d'y répondre.\n",
                  x->commune);
}

/* Hello line: the name when known. */
static void
put_hello(struct gu_buf *t, const struct rdv_booking *b)
{
    if (b->name && *b->name) {
        gu_buf_printf(t, "Bonjour %s,\n\n", b->name);
    } else {
        gu_buf_puts(t, "Bonjour,\n\n");
    }
}

/* « aujourd'hui », « demain », « après-demain », « dans 4 jours ». */
static const char *
when_fr(struct gu_arena *a, enum gu_tz tz, int64_t day, int64_t now)
{
    int64_t today;
    int minute;
    gu_tz_from_utc(tz, now, &today, &minute);
    int64_t d = day - today;
    if (d <= 0) {
        return "aujourd'hui";
    }
    if (d == 1) {
        return "demain";
    }
    if (d == 2) {
        return "après-demain";
    }
    return gu_arena_sprintf(a, "dans %lld jours", (long long)d);
}

static int
log_notice(struct store_conn *c, const struct rdv_booking *b,
           const char *kind, const char *channel, int64_t now,
           struct gu_err *err)
{
    return store_exec(c,
                      "INSERT INTO rdv_notify_log (insee, booking_id, kind,"
                      " channel, at) VALUES (?, ?, ?, ?, ?)",
                      (struct store_val[]){STORE_T(b->insee), STORE_I(b->id),
                                           STORE_T(kind), STORE_T(channel),
                                           STORE_I(now)},
                      5, err);
}

/* "…78": what logs may say of a phone number. */
static void
phone_tail(const char *phone, char out[8])
{
    size_t n = phone ? strlen(phone) : 0;
    snprintf(out, 8, "…%s", n >= 2 ? phone + n - 2 : "");
}

/* Queue one SMS inside the caller's transaction. */
static int
sms_queue(struct store_conn *c, const struct rdv_booking *b, const char *text,
          int64_t now, struct gu_err *err)
{
    return store_exec(c,
                      "INSERT INTO rdv_sms_queue (insee, booking_id, phone,"
                      " text, next_try_at, created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
                      (struct store_val[]){STORE_T(b->insee), STORE_I(b->id),
                                           STORE_T(b->phone), STORE_T(text),
                                           STORE_I(now), STORE_I(now)},
                      6, err);
}

int
rdv_sms_queue_text(struct store_conn *c, const char *insee,
                   int64_t booking_id, const char *text, struct gu_err *err)
{
    struct gu_arena *a;
    struct store_rows *r = NULL;
    int64_t now = gu_now();
    int rc;

    if (!text || !*text || strlen(text) > SMS_TEXT_MAX)
        return gu_err_set(err, GU_ETOOBIG, "text",
                          "Le SMS est vide ou trop long.", "sms text %zu bytes",
                          text ? strlen(text) : 0);
    if (!(a = gu_arena_new(256)))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "rdv: oom");
    struct store_val p[] = {STORE_I(booking_id), STORE_T(insee)};
    rc = store_query(c, a,
                     "SELECT phone FROM rdv_bookings WHERE id = ? AND insee = ?",
                     p, 2, &r, err);
    if (rc == 0 && r->nrows == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL, "Rendez-vous introuvable.",
                        "rdv: booking %lld not found", (long long)booking_id);
    if (rc == 0 && !*(store_text(r, 0, 0) ? store_text(r, 0, 0) : ""))
        rc = gu_err_set(err, GU_EINVAL, "phone",
                        "Ce rendez-vous n'a pas de numéro de téléphone.",
                        "rdv: booking %lld has no phone", (long long)booking_id);
    if (rc == 0)
        rc = store_exec(c,
                        "INSERT INTO rdv_sms_queue (insee, booking_id, phone,"
                        " text, next_try_at, created_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (struct store_val[]){STORE_T(insee),
                                             STORE_I(booking_id),
                                             STORE_T(store_text(r, 0, 0)),
                                             STORE_T(text), STORE_I(now),
                                             STORE_I(now)},
                        6, err);
    gu_arena_free(a);
    return rc;
}

/* The short French SMS of a reminder (at most SMS_TEXT_MAX bytes). */
static const char *
sms_text(struct gu_arena *a, const struct rdv_booking *b,
         const struct msg_ctx *x, const char *link)
{
    int y, m, d;
    gu_day_to_ymd(b->day, &y, &m, &d);
    const char *t = gu_arena_sprintf(
        a,
        "Mairie de %s : rappel de votre rendez-vous « %s » le %s %d/%02d "
        "à %d h %02d, %s. Confirmer ou annuler : %s",
        x->commune, b->motif_name ? b->motif_name : "",
        gu_weekday_fr(gu_day_weekday(b->day)), d, m, b->start_min / 60,
        b->start_min % 60, x->place_name, link);
    if (t && strlen(t) > SMS_TEXT_MAX) {
        /* A very long motif or place name: keep the link, drop names. */
        t = gu_arena_sprintf(a,
                             "Mairie : rappel de votre rendez-vous le "
                             "%d/%02d à %d h %02d. Confirmer ou annuler : %s",
                             d, m, b->start_min / 60, b->start_min % 60,
                             link);
    }
    return t;
}

/*
 * The work of rdv_notify. `log_kind` is the kind recorded in
 * rdv_notify_log (NULL: the caller recorded it, as rdv_remind_run does
 * when it claims a reminder). `now` is the clock.
 */
static int
notify_at(struct store_conn *c, const struct gu_config *cfg,
          const struct rdv_booking *b, const char *kind, const char *token,
          const char *log_kind, int64_t now, struct gu_err *err)
{
    enum { K_CONFIRM, K_MOVE, K_CANCEL, K_REMIND, K_OFFER } k;
    if (!kind || !b) {
        return gu_err_set(err, GU_EINVAL, NULL, NULL, "rdv notify: no kind");
    }
    if (strcmp(kind, "rdv.confirm") == 0) {
        k = K_CONFIRM;
    } else if (strcmp(kind, "rdv.move") == 0) {
        k = K_MOVE;
    } else if (strcmp(kind, "rdv.cancel") == 0) {
        k = K_CANCEL;
    } else if (strcmp(kind, "rdv.remind") == 0) {
        k = K_REMIND;
    } else if (strcmp(kind, "rdv.offer") == 0) {
        k = K_OFFER;
    } else {
        return gu_err_set(err, GU_EINVAL, NULL, NULL,
                          "rdv notify: unknown kind %s", kind);
    }
    bool has_mail = b->email && *b->email;
    bool has_sms = k == K_REMIND && b->phone && *b->phone;
    if (!has_mail && !has_sms) {
        /* Nobody to tell (a booking taken by phone, no contact). A move is
           still logged: reminders are due again after it. */
        if (k == K_MOVE && log_kind) {
            return log_notice(c, b, log_kind, "aucun", now, err);
        }
        return 0;
    }

    struct gu_arena *a = gu_arena_new(0);
    if (!a) {
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    struct gu_buf t;
    gu_buf_init(&t);
    struct msg_ctx x;
    int rc = load_ctx(c, a, cfg, b, &x, err);
    if (rc < 0) {
        goto out;
    }
    int64_t start = gu_tz_to_utc(x.tz, b->day, b->start_min);
    const char *when = date_fr(a, b->day, b->start_min);

    /* The token of this message's links. */
    char minted[RDV_TOKEN_LEN + 1] = "";
    if (!token && k != K_CANCEL) {
        const char *tkind = k == K_REMIND  ? "rappel"
                            : k == K_OFFER ? "offre"
                                           : "gestion";
        int64_t expires = k == K_REMIND  ? start + DAY_S
                          : k == K_OFFER ? b->hold_until
                                         : 0;
        rc = rdv_token_new(c, b->insee, k == K_OFFER ? 0 : b->id,
                           k == K_OFFER ? x.wait_id : 0, tkind, expires,
                           minted, err);
        if (rc < 0) {
            goto out;
        }
        token = minted;
    }
    const char *manage =
        token ? gu_arena_sprintf(a, "%s/rdv/r/%s", x.base, token) : "";
    const char *subject = NULL;

    put_hello(&t, b);
    switch (k) {
    case K_CONFIRM:
    case K_MOVE:
        subject = gu_arena_sprintf(a, "%s : %s, %s",
                                   k == K_CONFIRM ? "Rendez-vous confirmé"
                                                  : "Rendez-vous déplacé",
                                   b->motif_name ? b->motif_name : "", when);
        gu_buf_puts(&t, k == K_CONFIRM
                            ? "Votre rendez-vous à la mairie est "
                              "confirmé.\n\n"
                            : "Votre rendez-vous a été déplacé. Voici sa "
                              "nouvelle date :\n\n");
        put_details(&t, a, b, &x);
        put_instructions(&t, &x);
        if (x.changeable) {
            gu_buf_printf(&t,
                          "\nPour voir, déplacer ou annuler votre "
                          "rendez-vous (jusqu'à %d heure%s avant) :\n%s\n",
                          x.change_until_h, x.change_until_h > 1 ? "s" : "",
                          manage);
        } else {
            gu_buf_printf(&t,
                          "\nPour voir votre rendez-vous :\n%s\n"
                          "Pour le déplacer ou l'annuler, merci de "
                          "contacter la mairie.\n",
                          manage);
        }
        gu_buf_puts(&t, "\nLe fichier joint « rendez-vous.ics » permet "
                        "d'ajouter ce rendez-vous à votre agenda.\n"
                        "Si vous ne pouvez pas venir, merci d'annuler : le "
                        "créneau sera proposé à une autre personne.\n");
        break;
    case K_CANCEL:
        subject = gu_arena_sprintf(a, "Rendez-vous annulé : %s, %s",
                                   b->motif_name ? b->motif_name : "", when);
        gu_buf_puts(&t, "Votre rendez-vous a bien été annulé :\n\n");
        put_details(&t, a, b, &x);
        gu_buf_printf(&t,
                      "\nPour prendre un nouveau rendez-vous :\n%s/rdv\n",
                      x.base);
        break;
    case K_REMIND:
        subject = gu_arena_sprintf(a, "Rappel : rendez-vous %s, %s",
                                   when_fr(a, x.tz, b->day, now), when);
        gu_buf_printf(&t,
                      "Nous vous rappelons votre rendez-vous à la mairie, "
                      "%s :\n\n",
                      when_fr(a, x.tz, b->day, now));
        put_details(&t, a, b, &x);
        put_instructions(&t, &x);
        gu_buf_printf(&t,
                      "\nMerci de nous dire si vous viendrez :\n"
                      "- je confirme ma venue :\n  %s?action=confirmer\n"
                      "- j'annule mon rendez-vous :\n  %s?action=annuler\n"
                      "\nSi vous annulez, le créneau sera proposé à une "
                      "autre personne.\n",
                      manage, manage);
        break;
    case K_OFFER: {
        int64_t hday = 0;
        int hmin = 0;
        gu_tz_from_utc(x.tz, b->hold_until > 0 ? b->hold_until : now, &hday,
                       &hmin);
        subject = gu_arena_sprintf(a, "Un rendez-vous plus tôt vous est "
                                      "proposé : %s",
                                   when);
        gu_buf_puts(&t, "Un créneau s'est libéré pour votre demande de "
                        "rendez-vous (liste d'attente) :\n\n");
        put_details(&t, a, b, &x);
        put_instructions(&t, &x);
        gu_buf_printf(&t,
                      "\nCe créneau vous est réservé jusqu'au %s. Pour "
                      "l'accepter ou le refuser :\n%s/rdv/attente/%s\n"
                      "\nSans réponse de votre part d'ici là, il sera "
                      "proposé à la personne suivante.\n",
                      date_fr(a, hday, hmin), x.base, token ? token : "");
        break;
    }
    }
    put_signature(&t, &x);
    if (t.oom || !subject) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }

    if (log_kind && has_mail) {
        rc = log_notice(c, b, log_kind, "courriel", now, err);
        if (rc < 0) {
            goto out;
        }
    }
    if (has_mail) {
        const char *ics = NULL;
        if (k == K_CONFIRM || k == K_MOVE || k == K_CANCEL) {
            struct store_rows *r = NULL;
            rc = store_query(c, a,
                             "SELECT count(*) FROM rdv_notify_log WHERE"
                             " booking_id = ? AND kind IN ('rdv.move',"
                             " 'rdv.cancel')",
                             (struct store_val[]){STORE_I(b->id)}, 1, &r,
                             err);
            if (rc < 0) {
                goto out;
            }
            int seq = (int)store_int(r, 0, 0);
            if (!log_kind && k != K_CONFIRM) {
                seq++; /* this message is not logged yet */
            }
            const char *desc =
                k == K_CANCEL
                    ? "Rendez-vous annulé."
                    : gu_arena_sprintf(a, "%s%sVoir, déplacer ou annuler : %s",
                                       x.instructions,
                                       *x.instructions ? "\n\n" : "", manage);
            struct rdv_ics_opts o = {
                .host = x.host,
                .locations = (const char *const[]){x.location},
                .descriptions = (const char *const[]){desc},
                .sequences = (const int[]){seq},
                .dtstamp = now,
            };
            struct rdv_booking shown = *b;
            if (k == K_CANCEL) {
                shown.status = RDV_CANCELLED; /* whatever the caller read */
            }
            ics = rdv_ics_ext(a, x.zone, &shown, 1, false, NULL, &o);
            if (!ics) {
                rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
                goto out;
            }
        }
        struct notify_mail m = {
            .insee = b->insee,
            .to = b->email,
            .subject = subject,
            .text = t.p,
            .kind = kind,
            .attach_name = ics ? "rendez-vous.ics" : NULL,
            .attach_type = ics ? "text/calendar" : NULL,
            .attach_data = ics,
        };
        rc = notify_mail_queue(c, &m, NULL, err);
        if (rc < 0) {
            goto out;
        }
    }
    if (has_sms) {
        const char *text = sms_text(
            a, b, &x, manage);
        if (!text) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            goto out;
        }
        rc = sms_queue(c, b, text, now, err);
        if (rc == 0 && log_kind) {
            rc = log_notice(c, b, log_kind, "sms", now, err);
        }
        if (rc < 0) {
            goto out;
        }
    }
    rc = 0;
out:
    gu_buf_fini(&t);
    gu_arena_free(a);
    return rc;
}

int
rdv_notify(struct store_conn *c, const struct gu_config *cfg,
           const struct rdv_booking *b, const char *kind, const char *token,
           struct gu_err *err)
{
    return notify_at(c, cfg, b, kind, token, kind, gu_now(), err);
}

/* ------------------------------------------------------------------ */
/* Reminders                                                           */
/* ------------------------------------------------------------------ */

/*
 * Which reminder is due for a booking at `now`, or 0. Windows: the
 * four-day one in [start - 4 d, start - 2 d) for a high risk, the
 * two-day one in [start - 2 d, start - 1 d), the one-day one in
 * [start - 1 d, start). A reminder whose moment came before the booking
 * was made is not sent (the confirmation just said it all), and a late
 * run sends only the nearest one.
 */
static int
due_reminder(const struct rdv_booking *b, int64_t start, int64_t now,
             long risk_pct)
{
    int64_t left = start - now;
    int k;
    if (left <= 0) {
        return 0;
    }
    if (left <= DAY_S) {
        k = 1;
    } else if (left <= 2 * DAY_S) {
        k = 2;
    } else if (left <= 4 * DAY_S) {
        /* risk -1 = unknown: no extra reminder; 0 % = never. */
        if (risk_pct <= 0 || b->risk < 0 || b->risk * 100.0 < risk_pct) {
            return 0;
        }
        k = 4;
    } else {
        return 0;
    }
    if (b->created_at > start - k * DAY_S) {
        return 0;
    }
    return k;
}

/*
 * Claim and queue one reminder in its own transaction. 1 when sent, 0
 * when another run had it (or the booking changed meanwhile).
 */
static int
remind_one(struct store_conn *c, const struct gu_config *cfg,
           const struct rdv_booking *b, int k, int64_t now,
           struct gu_err *err)
{
    char kind[16];
    snprintf(kind, sizeof kind, "rdv.remind%d", k);
    bool mail = b->email && *b->email;
    int64_t changes = 0;
    int rc = store_begin(c, err);
    if (rc < 0) {
        return rc;
    }
    /*
     * The claim, in two steps inside one write transaction:
     *  1. compare-and-set on the booking row: it is still confirmed at the
     *     same time and nobody reminded it since we read it. Two nodes
     *     racing: the second waits for the first's row lock (PostgreSQL)
     *     or its BEGIN IMMEDIATE (SQLite), then matches nothing;
     *  2. one log row per (booking, kind) since the booking's last move (a
     *     moved booking is reminded of its new date), so a later run does
     *     not send the same reminder again.
     */
    rc = store_exec_changes(
        c,
        "UPDATE rdv_bookings SET reminded_at = ?, reminders = reminders + 1"
        " WHERE id = ? AND status = ? AND day = ? AND start_min = ?"
        " AND reminded_at = ? AND reminders = ?",
        (struct store_val[]){STORE_I(now), STORE_I(b->id),
                             STORE_I(RDV_CONFIRMED), STORE_I(b->day),
                             STORE_I(b->start_min), STORE_I(b->reminded_at),
                             STORE_I(b->reminders)},
        7, &changes, err);
    if (rc == 0 && changes == 1) {
        rc = store_exec_changes(
            c,
            "INSERT INTO rdv_notify_log (insee, booking_id, kind, channel,"
            " at) SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM"
            " rdv_notify_log l WHERE l.booking_id = ? AND l.kind = ? AND"
            " l.at >= (SELECT COALESCE(MAX(m.at), 0) FROM rdv_notify_log m"
            " WHERE m.booking_id = ? AND m.kind = 'rdv.move'))",
            (struct store_val[]){STORE_T(b->insee), STORE_I(b->id),
                                 STORE_T(kind),
                                 STORE_T(mail ? "courriel" : "sms"),
                                 STORE_I(now), STORE_I(b->id), STORE_T(kind),
                                 STORE_I(b->id)},
            8, &changes, err);
    }
    if (rc < 0 || changes != 1) {
        store_rollback(c);
        return rc < 0 ? rc : 0;
    }
    rc = notify_at(c, cfg, b, "rdv.remind", NULL, NULL, now, err);
    if (rc == 0 && mail && b->phone && *b->phone) {
        rc = log_notice(c, b, kind, "sms", now, err);
    }
    if (rc == 0) {
        rc = store_commit(c, err);
        return rc < 0 ? rc : 1;
    }
    store_rollback(c);
    if (rc != GU_EINVAL) {
        return rc;
    }
    /*
     * A contact the outbox refuses (a malformed address typed at the
     * counter): record the claim alone so that the job does not retry it
     * every five minutes.
     */
    gu_log_warn("rdv.remind.invalid", "booking=%lld kind=%s err=%s",
                (long long)b->id, kind, gu_status_name(rc));
    struct gu_err e2;
    gu_err_clear(&e2);
    if (store_begin(c, &e2) == 0) {
        if (log_notice(c, b, kind, "aucun", now, &e2) == 0) {
            store_commit(c, &e2);
        } else {
            store_rollback(c);
        }
    }
    return 0;
}

/* The reminders of one commune's bookings of the coming days. */
static int
remind_commune(struct store_conn *c, const struct gu_config *cfg,
               const char *insee, enum gu_tz tz, int64_t now, long risk_pct,
               struct gu_err *err)
{
    int64_t today;
    int minute;
    gu_tz_from_utc(tz, now, &today, &minute);
    int64_t last_id = 0;
    int sent = 0;
    for (;;) {
        struct gu_arena *a = gu_arena_new(0);
        if (!a) {
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        }
        /* Index rdv_bookings_day (insee, day, start_min) bounds the read
           to a few days; pages of REMIND_BATCH by id. */
        struct store_rows *r = NULL;
        int rc = store_query(
            c, a,
            "SELECT " RDV_BOOKING_COLS RDV_BOOKING_FROM
            " WHERE b.insee = ? AND b.day BETWEEN ? AND ? AND b.status = ?"
            " AND b.id > ? AND b.anonymised_at = 0"
            " AND (b.email <> '' OR b.phone <> '')"
            " ORDER BY b.id LIMIT ?",
            (struct store_val[]){STORE_T(insee), STORE_I(today),
                                 STORE_I(today + 5), STORE_I(RDV_CONFIRMED),
                                 STORE_I(last_id), STORE_I(REMIND_BATCH)},
            6, &r, err);
        if (rc < 0) {
            gu_arena_free(a);
            return rc;
        }
        for (size_t i = 0; i < r->nrows && !notify_job_should_stop(); i++) {
            struct rdv_booking b;
            rdv_booking_row(r, i, &b);
            last_id = b.id;
            int64_t start = gu_tz_to_utc(tz, b.day, b.start_min);
            int k = due_reminder(&b, start, now, risk_pct);
            if (k == 0) {
                continue;
            }
            int one = remind_one(c, cfg, &b, k, now, err);
            if (one < 0) {
                gu_log_warn("rdv.remind.failed", "booking=%lld err=%s",
                            (long long)b.id, gu_status_name(one));
                continue;
            }
            sent += one;
        }
        size_t got = r->nrows;
        gu_arena_free(a);
        if (got < REMIND_BATCH || notify_job_should_stop()) {
            return sent;
        }
    }
}

int
rdv_remind_run_at(struct store *s, const struct gu_config *cfg, int64_t now,
                  struct gu_err *err)
{
    struct store_conn *c = NULL;
    int rc = store_acquire(s, &c, err);
    if (rc < 0) {
        return rc;
    }
    struct gu_arena *a = gu_arena_new(0);
    struct store_rows *r = NULL;
    if (!a) {
        store_release(c);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    long risk_pct = gu_config_int(cfg, "rdv.extra_reminder_risk");
    int sent = 0;
    rc = store_query(c, a, "SELECT insee, zone FROM communes ORDER BY insee",
                     NULL, 0, &r, err);
    for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
        if (notify_job_should_stop()) {
            break;
        }
        int n = remind_commune(c, cfg, store_text(r, i, 0),
                               gu_tz_of_zone(store_text(r, i, 1)), now,
                               risk_pct, err);
        if (n < 0) {
            rc = n;
            break;
        }
        sent += n;
    }
    gu_arena_free(a);
    store_release(c);
    return rc < 0 ? rc : sent;
}

int
rdv_remind_run(struct store *s, const struct gu_config *cfg,
               struct gu_err *err)
{
    return rdv_remind_run_at(s, cfg, gu_now(), err);
}

/* ------------------------------------------------------------------ */
/* SMS                                                                 */
/* ------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void
curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static size_t
discard_cb(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* POST {"to","text"} to the SMS gateway; 0 on a 2xx answer. */
static int
sms_http(const char *url, const char *phone, const char *text,
         struct gu_err *err)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc < 0) {
        return gu_err_set(err, GU_EIO, NULL, NULL, "sms: curl init failed");
    }
    json_t *j = json_pack("{s:s, s:s}", "to", phone, "text", text);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) {
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    CURL *h = curl_easy_init();
    struct curl_slist *hdr =
        curl_slist_append(NULL, "Content-Type: application/json");
    int rc = 0;
    if (!h || !hdr) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)SMS_TIMEOUT_S * 1000);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_cb);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Guichet");
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        rc = gu_err_set(err, GU_EIO, NULL, NULL, "sms http: %s",
                        curl_easy_strerror(cc));
    } else if (status < 200 || status > 299) {
        rc = gu_err_set(err, GU_EIO, NULL, NULL, "sms http: status %ld",
                        status);
    }
out:
    curl_slist_free_all(hdr);
    if (h) {
        curl_easy_cleanup(h);
    }
    free(body);
    return rc;
}

/*
 * Run rdv.sms_command with the number and the text as its last two
 * arguments (words of the setting split on blanks; no shell, so nothing
 * in the text is ever interpreted). 0 when it exits with 0 within
 * SMS_TIMEOUT_S; killed otherwise.
 */
static int
sms_exec(const char *command, const char *phone, const char *text,
         struct gu_err *err)
{
    enum { ARGS_MAX = 16 };
    char cmd[1024];
    char *argv[ARGS_MAX + 3];
    size_t argc = 0;
    if (strlen(command) >= sizeof cmd) {
        return gu_err_set(err, GU_ECONFIG, "rdv.sms_command", NULL,
                          "sms: command too long");
    }
    snprintf(cmd, sizeof cmd, "%s", command);
    for (char *p = cmd; *p;) {
        while (*p == ' ' || *p == '\t') {
            *p++ = '\0';
        }
        if (!*p) {
            break;
        }
        if (argc == ARGS_MAX) {
            return gu_err_set(err, GU_ECONFIG, "rdv.sms_command", NULL,
                              "sms: too many words in the command");
        }
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t') {
            p++;
        }
    }
    if (argc == 0) {
        return gu_err_set(err, GU_ECONFIG, "rdv.sms_command", NULL,
                          "sms: empty command");
    }
    argv[argc++] = (char *)phone;
    argv[argc++] = (char *)text;
    argv[argc] = NULL;

    /*
     * The child gets the server's environment minus GUICHET_* (which may
     * hold secrets such as GUICHET_SMTP_PASSWORD), no inherited signal
     * mask (serve blocks SIGTERM in its threads) and /dev/null for its
     * standard streams.
     */
    enum { ENV_MAX = 256 };
    char *envp[ENV_MAX + 1];
    size_t ne = 0;
    for (char **ev = environ; ev && *ev && ne < ENV_MAX; ev++) {
        if (strncmp(*ev, "GUICHET_", 8) != 0) {
            envp[ne++] = *ev;
        }
    }
    envp[ne] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    if (posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGHUP);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dfl);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int e = posix_spawnp(&pid, argv[0], &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (e != 0) {
        return gu_err_set(err, GU_EIO, NULL, NULL, "sms command: %s",
                          strerror(e));
    }
    int64_t deadline = gu_now_ms() + SMS_TIMEOUT_S * 1000;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            break;
        }
        if (w < 0 && errno != EINTR) {
            return gu_err_set(err, GU_EIO, NULL, NULL, "sms command: wait: %s",
                              strerror(errno));
        }
        if (gu_now_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return gu_err_set(err, GU_EIO, NULL, NULL,
                              "sms command: timed out after %d s",
                              SMS_TIMEOUT_S);
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return gu_err_set(err, GU_EIO, NULL, NULL, "sms command: %s %d",
                          WIFEXITED(status) ? "exit" : "signal",
                          WIFEXITED(status) ? WEXITSTATUS(status)
                                            : WTERMSIG(status));
    }
    return 0;
}

/* Seconds before the next attempt after `attempts` failed ones. */
static int
sms_backoff(int attempts)
{
    static const int steps[] = {60, 300, 900, 3600};
    int i = attempts - 1;
    if (i < 0) {
        i = 0;
    }
    if ((size_t)i >= GU_ARRAY_LEN(steps)) {
        i = (int)GU_ARRAY_LEN(steps) - 1;
    }
    return steps[i];
}

int
rdv_sms_run_at(struct store *s, const struct gu_config *cfg, int64_t now,
               struct gu_err *err)
{
    const char *url = gu_config_str(cfg, "rdv.sms_url");
    const char *cmd = gu_config_str(cfg, "rdv.sms_command");
    if (!*url && !*cmd) {
        return 0; /* no gateway: rows stay queued until purged */
    }
    struct store_conn *c = NULL;
    int rc = store_acquire(s, &c, err);
    if (rc < 0) {
        return rc;
    }
    struct gu_arena *a = gu_arena_new(0);
    if (!a) {
        store_release(c);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    }
    struct store_rows *r = NULL;
    int sent = 0;
    /* A training sandbox's SMS never leave (fictitious numbers). */
    rc = store_exec(c,
                    "UPDATE rdv_sms_queue SET status = 'failed', last_error"
                    " = 'bac à sable de formation : jamais envoyé' WHERE"
                    " status = 'queued' AND " STORE_SANDBOX_SQL("insee"),
                    NULL, 0, err);
    if (rc == 0)
        rc = store_query(c, a,
                     "SELECT id, phone, text, attempts FROM rdv_sms_queue"
                     " WHERE status = 'queued' AND next_try_at <= ?"
                     " ORDER BY next_try_at, id LIMIT ?",
                     (struct store_val[]){STORE_I(now), STORE_I(SMS_BATCH)}, 2,
                     &r, err);
    /*
     * One runner thread serves every job: a slow or dead gateway must not
     * hold the e-mails back. A run stops at its first failed attempt (the
     * row gets its backoff, the others wait for the next run) and after
     * SMS_RUN_BUDGET_MS.
     */
    int64_t t0 = gu_now_ms();
    for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
        if (notify_job_should_stop() || gu_now_ms() - t0 > SMS_RUN_BUDGET_MS) {
            break;
        }
        int64_t id = store_int(r, i, 0);
        const char *phone = store_text(r, i, 1);
        const char *text = store_text(r, i, 2);
        int attempts = (int)store_int(r, i, 3) + 1;
        /* Claim: push next_try_at forward; a second node sees it taken. */
        int64_t changes = 0;
        rc = store_exec_changes(
            c,
            "UPDATE rdv_sms_queue SET next_try_at = ?, attempts = ?"
            " WHERE id = ? AND status = 'queued' AND next_try_at <= ?",
            (struct store_val[]){STORE_I(now + SMS_LEASE_S),
                                 STORE_I(attempts), STORE_I(id), STORE_I(now)},
            4, &changes, err);
        if (rc < 0) {
            break;
        }
        if (changes == 0) {
            continue;
        }
        struct gu_err e;
        gu_err_clear(&e);
        int src = *url ? sms_http(url, phone, text, &e)
                       : sms_exec(cmd, phone, text, &e);
        char tail[8];
        phone_tail(phone, tail);
        char q[300];
        if (src == 0) {
            rc = store_exec(c,
                            "UPDATE rdv_sms_queue SET status = 'sent',"
                            " last_error = '', phone = '', text = ''"
                            " WHERE id = ?",
                            (struct store_val[]){STORE_I(id)}, 1, err);
            gu_log_info("rdv.sms.sent", "id=%lld to=%s attempts=%d",
                        (long long)id, tail, attempts);
            sent++;
        } else {
            bool failed = attempts >= SMS_MAX_ATTEMPTS;
            rc = store_exec(
                c,
                "UPDATE rdv_sms_queue SET status = ?, next_try_at = ?,"
                " last_error = ? WHERE id = ?",
                (struct store_val[]){STORE_T(failed ? "failed" : "queued"),
                                     STORE_I(now + sms_backoff(attempts)),
                                     STORE_T(e.msg), STORE_I(id)},
                4, err);
            gu_log_warn("rdv.sms.failed",
                        "id=%lld to=%s attempts=%d final=%s err=%s",
                        (long long)id, tail, attempts,
                        failed ? "true" : "false",
                        gu_logq(q, sizeof q, e.msg));
            break;
        }
    }
    gu_arena_free(a);
    store_release(c);
    return rc < 0 ? rc : sent;
}

int
rdv_sms_run(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    return rdv_sms_run_at(s, cfg, gu_now(), err);
}
