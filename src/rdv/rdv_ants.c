/*
 * rdv_ants.c - the ANTS coordination client (France Titres' anti-duplicate
 * API): the check of pré-demande numbers before a booking
 * (rdv_ants_check), the declaration queue written inside the booking's
 * transaction (rdv_ants_queue) and the job that sends it (rdv_ants_run).
 * The hub's endpoints (the national search engine calling us) live in
 * rdv_ants_hub.c. The published shapes we follow are in docs/ants.md.
 *
 * The coordination API, under ants.url (".../api"):
 *   GET    /status?application_ids=A&application_ids=B
 *          -> {"A": {"status": "validated", "appointments": [...]}, ...}
 *   POST   /appointments?application_id=&management_url=&meeting_point=
 *          &meeting_point_id=&appointment_date=
 *   DELETE /appointments?(same parameters)
 * each with the header x-rdv-opt-auth-token: ants.token.
 *
 * Fail closed: the check refuses (GU_EBUSY, French message) on any
 * transport error, timeout, non-2xx status or malformed body, so a
 * duplicate is never let through because the API was down.
 *
 * Never lose a declaration: rows are written in the booking's transaction;
 * the job claims due rows by pushing their next_try_at forward (a lease)
 * in a transaction, sends them outside it, and records the outcome. A
 * crash between the send and the record leaves the row queued: it is sent
 * again when the lease ends (the API tolerates a repeated declaration).
 * Rows of one (booking, pré-demande) pair are sent in id order, so a
 * withdrawal never overtakes the declaration it withdraws.
 */
#include "rdv/rdv_ants.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

/*
 * Bounds. A /status answer we accept is at most ANTS_BODY_MAX bytes; a
 * job run sends at most ANTS_BATCH rows; a claimed row waits ANTS_LEASE_S
 * before another run may send it again; retries wait 30 s, doubled each
 * time up to one hour, and a row is 'failed' after 48 h of attempts; the
 * place name shown back is cut at ANTS_PLACE_MAX bytes so that the
 * sentence fits gu_err.user.
 */
#define ANTS_BODY_MAX (1024 * 1024)
#define ANTS_BATCH 50
#define ANTS_LEASE_S 120
#define ANTS_BACKOFF_FIRST_S 30
#define ANTS_BACKOFF_MAX_S 3600
#define ANTS_GIVE_UP_S (48 * 3600)
#define ANTS_PLACE_MAX 120

static const char ants_unavailable[] =
    "La vérification de votre numéro de pré-demande auprès de l'ANTS n'a "
    "pas abouti ; réessayez dans quelques minutes ou appelez la mairie.";

/* ------------------------------------------------------------------ */
/* HTTP with libcurl                                                   */
/* ------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void
curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* The response body, bounded: a larger answer aborts the transfer. */
struct sink {
    struct gu_buf buf;
    bool too_big;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;

    if (s->buf.n + n > ANTS_BODY_MAX) {
        s->too_big = true;
        return 0;
    }
    if (gu_buf_append(&s->buf, p, n) != 0)
        return 0;
    return n;
}

/* Abort a transfer when the job runner is stopping. */
static int
on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
            curl_off_t un)
{
    (void)ud;
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return notify_job_should_stop() ? 1 : 0;
}

/*
 * One request to the coordination API. `url` is complete (query
 * included). *status gets the HTTP status (0 when none came back); the
 * body goes to `body` (caller's gu_buf, freed by the caller). Returns 0
 * when a response came back (any status), GU_EIO otherwise, with a short
 * English reason in err->msg (never the body: it may echo numbers).
 */
static int
ants_http(const struct gu_config *cfg, const char *method, const char *url,
          struct gu_buf *body, long *status, struct gu_err *err)
{
    struct curl_slist *hdr = NULL;
    struct sink sink = {.too_big = false};
    char auth[600];
    long timeout = gu_config_int(cfg, "ants.timeout_ms");
    CURL *h;
    CURLcode cc;
    int rc = 0;

    *status = 0;
    gu_buf_init(&sink.buf);
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc < 0 || !(h = curl_easy_init()))
        return gu_err_set(err, GU_EIO, NULL, NULL, "ants: curl init failed");
    snprintf(auth, sizeof(auth), "x-rdv-opt-auth-token: %s",
             gu_config_str(cfg, "ants.token"));
    hdr = curl_slist_append(hdr, auth);
    hdr = curl_slist_append(hdr, "Accept: application/json");
    if (!hdr) {
        curl_easy_cleanup(h);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants: oom");
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "guichet");
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (strcmp(method, "DELETE") == 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = gu_err_set(err, GU_EIO, NULL, NULL, "ants: %s",
                        sink.too_big ? "answer too large"
                                     : curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        if (sink.buf.oom)
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants: oom");
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (rc == 0) {
        *body = sink.buf;
    } else {
        gu_buf_fini(&sink.buf);
    }
    return rc;
}

/* ants.url without its trailing slashes, in the arena; NULL when off. */
static const char *
base_url(const struct gu_config *cfg, struct gu_arena *a)
{
    const char *u = gu_config_str(cfg, "ants.url");
    size_t n = u ? strlen(u) : 0;

    while (n > 0 && u[n - 1] == '/')
        n--;
    return n ? gu_arena_strndup(a, u, n) : NULL;
}

bool
rdv_ants_enabled(const struct gu_config *cfg)
{
    const char *u = cfg ? gu_config_str(cfg, "ants.url") : NULL;

    return u && *u;
}

/* A canonical pré-demande number: exactly 10 of [A-Z0-9]. */
static bool
canonical_id(const char *s)
{
    size_t i;

    for (i = 0; s && s[i]; i++) {
        if (i >= 10 ||
            !(isdigit((unsigned char)s[i]) || (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
    }
    return i == 10;
}

/* ------------------------------------------------------------------ */
/* The check                                                           */
/* ------------------------------------------------------------------ */

/*
 * A remote text made safe to show: at most `max` bytes cut on a
 * character boundary, control characters turned into spaces (jansson
 * already guarantees UTF-8).
 */
static const char *
remote_text(struct gu_arena *a, const char *s, size_t max)
{
    size_t n = strlen(s);
    char *o;

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    o = gu_arena_strndup(a, s, n);
    for (size_t i = 0; o && o[i]; i++) {
        if ((unsigned char)o[i] < 0x20 || o[i] == 0x7f)
            o[i] = ' ';
    }
    return o;
}

/*
 * « le 03/12/2026 à 9 h 30 » from "2026-12-03T09:30:00" (also with a
 * space, seconds or an offset, which we ignore: the API stores the
 * commune's civil time as the editor sent it); "" when unreadable.
 */
static const char *
french_date(struct gu_arena *a, const char *s)
{
    int y, mo, d, h, mi;
    char sep;

    if (!s ||
        sscanf(s, "%4d-%2d-%2d%c%2d:%2d", &y, &mo, &d, &sep, &h, &mi) != 6 ||
        (sep != 'T' && sep != ' ') || !gu_date_valid(y, mo, d) || h < 0 ||
        h > 23 || mi < 0 || mi > 59)
        return "";
    if (mi == 0)
        return gu_arena_sprintf(a, ", le %02d/%02d/%04d à %d h", d, mo, y, h);
    return gu_arena_sprintf(a, ", le %02d/%02d/%04d à %d h %02d", d, mo, y, h,
                            mi);
}

/* Why a number that is not `validated` cannot be used (French). */
static const char *
refusal(struct gu_arena *a, const char *id, const char *status)
{
    const char *why;

    if (strcmp(status, "declared") == 0)
        why = "n'est pas encore validé par l'ANTS. Vérifiez que votre "
              "pré-demande est bien terminée sur le site de l'ANTS "
              "(ants.gouv.fr), puis réessayez.";
    else if (strcmp(status, "rejected") == 0)
        why = "a été refusé par l'ANTS. Faites une nouvelle pré-demande "
              "sur le site de l'ANTS (ants.gouv.fr) ou appelez la mairie.";
    else if (strcmp(status, "consumed") == 0)
        why = "a déjà servi à déposer un dossier en mairie. Pour une "
              "nouvelle demande, faites une nouvelle pré-demande sur le site "
              "de l'ANTS (ants.gouv.fr).";
    else if (strcmp(status, "expired") == 0)
        why = "a expiré. Faites une nouvelle pré-demande sur le site de "
              "l'ANTS (ants.gouv.fr).";
    else if (strcmp(status, "unknown") == 0)
        why = "n'est pas connu de l'ANTS. Vérifiez-le sur votre récapitulatif "
              "de pré-demande (10 caractères, chiffres et lettres).";
    else
        why = "n'est pas accepté par l'ANTS pour le moment. Vérifiez votre "
              "pré-demande sur le site de l'ANTS (ants.gouv.fr) ou appelez "
              "la mairie.";
    return gu_arena_sprintf(a, "Le numéro de pré-demande %s %s", id, why);
}

/*
 * Read a /status answer for the numbers asked (see rdv_ants.h). Every
 * number must be there with a string status and an array (or no) list of
 * appointments, else the whole answer is refused: a half-read answer
 * must never let a booking through.
 */
int
rdv_ants_status_parse(struct gu_arena *a, const char *body, size_t len,
                      const char *const *ids, size_t n,
                      enum rdv_ants_state *state, const char **detail,
                      struct gu_err *err)
{
    json_t *root;
    const char *refused = NULL, *elsewhere = NULL;
    int rc = 0;

    *state = RDV_ANTS_OK;
    if (detail)
        *detail = NULL;
    root = json_loadb(body, len, 0, NULL);
    if (!json_is_object(root)) {
        gu_log_warn("rdv.ants.check", "error=%s", "malformed");
        rc = gu_err_set(err, GU_EBUSY, "ants_ids", ants_unavailable,
                        "ants status: malformed body");
        goto out;
    }
    /* Check every number's shape first: a half-read answer refuses. */
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object_get(root, ids[i]);
        json_t *apps = json_object_get(o, "appointments");

        if (!json_is_object(o) ||
            !json_is_string(json_object_get(o, "status")) ||
            (apps && !json_is_null(apps) && !json_is_array(apps))) {
            gu_log_warn("rdv.ants.check", "error=%s", "malformed");
            rc = gu_err_set(err, GU_EBUSY, "ants_ids", ants_unavailable,
                            "ants status: malformed entry");
            goto out;
        }
    }
    for (size_t i = 0; i < n && !refused; i++) {
        json_t *o = json_object_get(root, ids[i]);
        const char *st = json_string_value(json_object_get(o, "status"));
        json_t *apps = json_object_get(o, "appointments");
        json_t *first = json_array_get(apps, 0);

        if (strcmp(st, "validated") != 0) {
            refused = refusal(a, ids[i], st);
            if (!refused) {
                rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants: oom");
                goto out;
            }
            break;
        }
        if (!elsewhere && json_array_size(apps) > 0) {
            const char *mp =
                json_string_value(json_object_get(first, "meeting_point"));
            const char *when =
                json_string_value(json_object_get(first, "appointment_date"));
            const char *place = mp && *mp ? remote_text(a, mp, ANTS_PLACE_MAX)
                                          : "dans une autre mairie";
            const char *date = french_date(a, when);

            elsewhere =
                n == 1 ? gu_arena_sprintf(a,
                                          "Un rendez-vous existe déjà pour ce "
                                          "numéro : %s%s.",
                                          place ? place : "", date ? date : "")
                       : gu_arena_sprintf(a,
                                          "Un rendez-vous existe déjà pour le "
                                          "numéro %s : %s%s.",
                                          ids[i], place ? place : "",
                                          date ? date : "");
            /* Out of memory must not read as "no appointment". */
            if (!elsewhere) {
                rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants: oom");
                goto out;
            }
        }
    }
    if (refused) {
        *state = RDV_ANTS_REFUSED;
        if (detail)
            *detail = refused;
    } else if (elsewhere) {
        *state = RDV_ANTS_ELSEWHERE;
        if (detail)
            *detail = elsewhere;
    }
out:
    json_decref(root);
    return rc;
}

int
rdv_ants_check(const struct gu_config *cfg, struct gu_arena *a,
               const char *const *ids, size_t n, enum rdv_ants_state *state,
               const char **detail, struct gu_err *err)
{
    struct gu_buf url, body;
    const char *base;
    long status = 0;
    int rc = 0;

    *state = RDV_ANTS_OK;
    if (detail)
        *detail = NULL;
    if (!rdv_ants_enabled(cfg) || n == 0)
        return 0;
    if (n > RDV_ANTS_IDS_MAX)
        return gu_err_set(err, GU_EINVAL, "ants_ids",
                          "Trop de numéros de pré-demande (10 au plus).",
                          "ants check: %zu ids", n);
    for (size_t i = 0; i < n; i++) {
        if (!canonical_id(ids[i]))
            return gu_err_set(err, GU_EINVAL, "ants_ids",
                              "Un numéro de pré-demande compte exactement 10 "
                              "caractères, chiffres et lettres.",
                              "ants check: non-canonical id");
    }
    base = base_url(cfg, a);
    if (!base)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants: oom");

    gu_buf_init(&url);
    gu_buf_init(&body);
    gu_buf_printf(&url, "%s/status", base);
    for (size_t i = 0; i < n; i++)
        gu_buf_printf(&url, "%capplication_ids=%s", i ? '&' : '?', ids[i]);
    if (url.oom) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants: oom");
        goto out;
    }
    rc = ants_http(cfg, "GET", url.p, &body, &status, err);
    if (rc == GU_ENOMEM)
        goto out;
    if (rc != 0 || status < 200 || status > 299) {
        char why[sizeof(err->msg)];

        if (rc == 0)
            snprintf(why, sizeof(why), "ants status: HTTP %ld", status);
        else
            snprintf(why, sizeof(why), "%s", err->msg);
        gu_log_warn("rdv.ants.check", "error=%s", "unavailable");
        rc = gu_err_set(err, GU_EBUSY, "ants_ids", ants_unavailable, "%s", why);
        goto out;
    }
    rc = rdv_ants_status_parse(a, body.p ? body.p : "", body.n, ids, n, state,
                               detail, err);
out:
    gu_buf_fini(&url);
    gu_buf_fini(&body);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The queue                                                           */
/* ------------------------------------------------------------------ */

/* The place's name, from the booking or the table. */
static int
place_name(struct store_conn *c, struct gu_arena *a,
           const struct rdv_booking *b, const char **out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val p[2] = {STORE_I(b->place_id), STORE_T(b->insee)};
    int rc;

    if (b->place_name && *b->place_name) {
        *out = b->place_name;
        return 0;
    }
    rc = store_query(c, a,
                     "SELECT name FROM rdv_places WHERE id = ? AND "
                     "insee = ?",
                     p, 2, &r, err);
    if (rc != 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL, NULL,
                          "ants queue: place %lld not found",
                          (long long)b->place_id);
    *out = store_text(r, 0, 0);
    return 0;
}

/*
 * Split the booking's "A,B" list into canonical numbers (upper-cased,
 * spaces dropped, exactly 10 of [A-Z0-9]); anything else is skipped (the
 * booking validated them already). Returns the count, at most cap.
 */
static size_t
split_ids(const char *s, char ids[][11], size_t cap)
{
    size_t n = 0;

    while (s && *s && n < cap) {
        char one[11];
        size_t k = 0;
        bool bad = false;

        while (*s && *s != ',' && *s != ';') {
            unsigned char ch = (unsigned char)*s++;

            if (ch == ' ' || ch == '\t')
                continue;
            ch = (unsigned char)toupper(ch);
            if (k >= 10 || !(isdigit(ch) || (ch >= 'A' && ch <= 'Z')))
                bad = true;
            else
                one[k++] = (char)ch;
        }
        if (*s)
            s++;
        one[k] = '\0';
        if (!bad && k == 10) {
            memcpy(ids[n], one, 11);
            n++;
        }
    }
    return n;
}

/* Insert one queue row. */
static int
queue_row(struct store_conn *c, const char *insee, int64_t booking_id,
          const char *op, const char *app_id, const char *mp, const char *mp_id,
          const char *date, const char *murl, struct gu_err *err)
{
    int64_t now = gu_now();
    struct store_val p[] = {
        STORE_T(insee), STORE_I(booking_id), STORE_T(op),   STORE_T(app_id),
        STORE_T(mp),    STORE_T(mp_id),      STORE_T(date), STORE_T(murl),
        STORE_I(now),   STORE_I(now),
    };

    return store_exec(c,
                      "INSERT INTO rdv_ants_queue (insee, booking_id, op, "
                      "application_id, meeting_point, meeting_point_id, "
                      "appointment_date, management_url, next_try_at, "
                      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      p, GU_ARRAY_LEN(p), err);
}

int
rdv_ants_queue(struct store_conn *c, const struct rdv_booking *b,
               const char *op, const char *management_url, struct gu_err *err)
{
    char ids[RDV_ANTS_IDS_MAX][11];
    char date[32], mp_id[24];
    struct gu_arena *a = NULL;
    const char *mp = NULL;
    bool declare;
    size_t n;
    int y, mo, d, rc = 0;

    if (!op || (strcmp(op, "declare") != 0 && strcmp(op, "withdraw") != 0))
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "ants queue: bad op %s", op ? op : "(null)");
    declare = op[0] == 'd';
    n = split_ids(b->ants_ids, ids, RDV_ANTS_IDS_MAX);
    if (n == 0)
        return 0;
    a = gu_arena_new(0);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants queue: oom");

    /* What this booking says now (declare). The hub and the API read the
       commune's civil time as written, without an offset (docs/ants.md). */
    gu_day_to_ymd(b->day, &y, &mo, &d);
    snprintf(date, sizeof(date), "%04d-%02d-%02dT%02d:%02d:00", y, mo, d,
             b->start_min / 60, b->start_min % 60);
    snprintf(mp_id, sizeof(mp_id), "%lld", (long long)b->place_id);
    if (declare && (rc = place_name(c, a, b, &mp, err)) != 0)
        goto out;

    for (size_t i = 0; i < n; i++) {
        struct store_rows *r = NULL;
        struct store_val p[] = {STORE_I(b->id), STORE_T(ids[i])};

        /* The last row of this (booking, number): what ANTS was told. */
        rc = store_query(c, a,
                         "SELECT op, meeting_point, meeting_point_id, "
                         "appointment_date, management_url FROM "
                         "rdv_ants_queue WHERE booking_id = ? AND "
                         "application_id = ? ORDER BY id DESC LIMIT 1",
                         p, 2, &r, err);
        if (rc != 0)
            goto out;
        bool declared =
            r->nrows == 1 && strcmp(store_text(r, 0, 0), "declare") == 0;
        if (declare) {
            /* The same declaration twice (a retried request) is one. */
            if (declared && strcmp(store_text(r, 0, 1), mp) == 0 &&
                strcmp(store_text(r, 0, 2), mp_id) == 0 &&
                strcmp(store_text(r, 0, 3), date) == 0)
                continue;
            rc = queue_row(c, b->insee, b->id, "declare", ids[i], mp, mp_id,
                           date, management_url ? management_url : "", err);
        } else {
            /* Withdraw exactly what was declared (the booking may have
               moved since); nothing when nothing was declared. */
            if (!declared)
                continue;
            rc = queue_row(c, b->insee, b->id, "withdraw", ids[i],
                           store_text(r, 0, 1), store_text(r, 0, 2),
                           store_text(r, 0, 3), store_text(r, 0, 4), err);
        }
        if (rc != 0)
            goto out;
    }
out:
    gu_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The job                                                             */
/* ------------------------------------------------------------------ */

/* One claimed row. Strings live in the run's arena. */
struct claimed {
    int64_t id;
    const char *insee, *op, *app_id, *mp, *mp_id, *date, *murl;
    int attempts;
    int64_t created_at;
};

/* Delay before attempt k+1 after k failed attempts: 30 s, doubled, 1 h. */
static int64_t
backoff_s(int attempts)
{
    int64_t d = ANTS_BACKOFF_FIRST_S;

    for (int i = 1; i < attempts && d < ANTS_BACKOFF_MAX_S; i++)
        d *= 2;
    return d < ANTS_BACKOFF_MAX_S ? d : ANTS_BACKOFF_MAX_S;
}

/*
 * Claim up to ANTS_BATCH due rows: each is the oldest still-queued row of
 * its (booking, number) pair, so declarations and withdrawals of one
 * booking go out in order. Claiming moves next_try_at one lease ahead and
 * counts the attempt, in one transaction: two runners (two nodes) never
 * send one row at once, and a crash leaves the row queued.
 */
static int
claim(struct store_conn *c, struct gu_arena *a, int64_t now,
      struct claimed **out, size_t *n, struct gu_err *err)
{
    struct store_rows *r = NULL;
    struct store_val p[] = {STORE_I(now), STORE_I(ANTS_BATCH)};
    struct claimed *cl;
    int rc;

    *n = 0;
    rc = store_begin(c, err);
    if (rc != 0)
        return rc;
    rc = store_query(c, a,
                     "SELECT q.id, q.insee, q.op, q.application_id, "
                     "q.meeting_point, q.meeting_point_id, "
                     "q.appointment_date, q.management_url, q.attempts, "
                     "q.created_at FROM rdv_ants_queue q WHERE q.status = "
                     "'queued' AND q.next_try_at <= ? AND NOT EXISTS "
                     "(SELECT 1 FROM rdv_ants_queue e WHERE e.status = "
                     "'queued' AND e.booking_id = q.booking_id AND "
                     "e.application_id = q.application_id AND e.id < q.id) "
                     "ORDER BY q.id LIMIT ?",
                     p, 2, &r, err);
    if (rc != 0)
        goto fail;
    cl = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*cl));
    if (!cl) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants run: oom");
        goto fail;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        struct store_val u[] = {STORE_I(now + ANTS_LEASE_S),
                                STORE_I(store_int(r, i, 0)), STORE_I(now)};
        int64_t changes = 0;

        cl[*n] = (struct claimed){
            .id = store_int(r, i, 0),
            .insee = store_text(r, i, 1),
            .op = store_text(r, i, 2),
            .app_id = store_text(r, i, 3),
            .mp = store_text(r, i, 4),
            .mp_id = store_text(r, i, 5),
            .date = store_text(r, i, 6),
            .murl = store_text(r, i, 7),
            .attempts = (int)store_int(r, i, 8) + 1,
            .created_at = store_int(r, i, 9),
        };
        /* The row is ours only if it is still due: on PostgreSQL the
         * SELECT above does not lock, so another node may have claimed
         * it since (its lease moved next_try_at past now). */
        rc = store_exec_changes(c,
                                "UPDATE rdv_ants_queue SET next_try_at = ?, "
                                "attempts = attempts + 1 WHERE id = ? AND "
                                "status = 'queued' AND next_try_at <= ?",
                                u, 3, &changes, err);
        if (rc != 0)
            goto fail;
        if (changes == 1)
            (*n)++;
    }
    rc = store_commit(c, err);
    if (rc != 0)
        goto fail;
    *out = cl;
    return 0;
fail:
    *n = 0;
    store_rollback(c);
    return rc;
}

/* Append "&name=value" (value URL-escaped) to a URL being built. */
static void
url_param(struct gu_buf *u, CURL *h, const char *name, const char *value,
          bool first)
{
    char *e = curl_easy_escape(h, value ? value : "", 0);

    gu_buf_printf(u, "%c%s=%s", first ? '?' : '&', name, e ? e : "");
    if (!e)
        u->oom = true;
    curl_free(e);
}

/*
 * Send one row. 0 when the API took it (2xx; a 404 to a withdrawal means
 * there is nothing left to withdraw), else a negative code with a short
 * English reason in err->msg.
 */
static int
send_row(const struct gu_config *cfg, const char *base, const struct claimed *q,
         struct gu_err *err)
{
    struct gu_buf url, body;
    bool declare = strcmp(q->op, "declare") == 0;
    const char *murl = q->murl;
    char fallback[512];
    long status = 0;
    CURL *esc;
    int rc;

    pthread_once(&curl_once, curl_init);
    if (curl_init_rc < 0 || !(esc = curl_easy_init()))
        return gu_err_set(err, GU_EIO, NULL, NULL, "ants: curl init failed");
    if (!*murl) {
        /* The API wants a link; without a management link, the commune's
           booking page is the best the resident can be sent to. */
        snprintf(fallback, sizeof(fallback), "%s/rdv?c=%s",
                 gu_config_str(cfg, "server.public_url"), q->insee);
        murl = fallback;
    }
    gu_buf_init(&url);
    gu_buf_init(&body);
    gu_buf_printf(&url, "%s/appointments", base);
    url_param(&url, esc, "application_id", q->app_id, true);
    url_param(&url, esc, "management_url", murl, false);
    url_param(&url, esc, "meeting_point", q->mp, false);
    url_param(&url, esc, "meeting_point_id", q->mp_id, false);
    url_param(&url, esc, "appointment_date", q->date, false);
    curl_easy_cleanup(esc);
    if (url.oom) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants: oom");
        goto out;
    }
    rc =
        ants_http(cfg, declare ? "POST" : "DELETE", url.p, &body, &status, err);
    if (rc == 0 && !(status >= 200 && status <= 299) &&
        !(!declare && status == 404))
        rc = gu_err_set(err, GU_EIO, NULL, NULL, "HTTP %ld", status);
out:
    gu_buf_fini(&url);
    gu_buf_fini(&body);
    return rc;
}

/* Record the outcome of one send. */
static int
record(struct store_conn *c, const struct claimed *q, int send_rc,
       const char *why, int64_t now, bool *gave_up, struct gu_err *err)
{
    *gave_up = false;
    if (send_rc == 0) {
        struct store_val p[] = {STORE_I(now), STORE_I(q->id)};

        return store_exec(c,
                          "UPDATE rdv_ants_queue SET status = 'sent', "
                          "sent_at = ?, last_error = '' WHERE id = ?",
                          p, 2, err);
    }
    if (now - q->created_at >= ANTS_GIVE_UP_S) {
        struct store_val p[] = {STORE_T(why), STORE_I(q->id)};

        *gave_up = true;
        return store_exec(c,
                          "UPDATE rdv_ants_queue SET status = 'failed', "
                          "last_error = ? WHERE id = ?",
                          p, 2, err);
    }
    struct store_val p[] = {STORE_I(now + backoff_s(q->attempts)), STORE_T(why),
                            STORE_I(q->id)};
    return store_exec(c,
                      "UPDATE rdv_ants_queue SET next_try_at = ?, "
                      "last_error = ? WHERE id = ?",
                      p, 3, err);
}

int
rdv_ants_run(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    struct store_conn *c = NULL;
    struct gu_arena *a = NULL;
    struct claimed *q = NULL;
    const char *base;
    size_t n = 0;
    int sent = 0, rc;

    rc = store_acquire(s, &c, err);
    if (rc != 0)
        return rc;
    /* Retention: the queue holds pré-demande numbers, kept no longer than
       the bookings' personal data. */
    struct store_val old[] = {STORE_I(
        gu_now() - (int64_t)gu_config_int(cfg, "rdv.retention_days") * 86400)};
    rc = store_exec(c, "DELETE FROM rdv_ants_queue WHERE created_at < ?", old,
                    1, err);
    /* Off: rows stay queued, nothing leaves the machine. */
    if (rc != 0 || !rdv_ants_enabled(cfg)) {
        store_release(c);
        return rc;
    }
    a = gu_arena_new(0);
    if (!a) {
        store_release(c);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants run: oom");
    }
    base = base_url(cfg, a);
    rc = base ? claim(c, a, gu_now(), &q, &n, err)
              : gu_err_set(err, GU_ENOMEM, NULL, NULL, "ants run: oom");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct gu_err serr;
        char why[sizeof(serr.msg)];
        bool gave_up = false;
        int src;

        if (notify_job_should_stop())
            break; /* claimed rows come back when their lease ends */
        gu_err_clear(&serr);
        src = send_row(cfg, base, &q[i], &serr);
        snprintf(why, sizeof(why), "%s", src ? serr.msg : "");
        rc = record(c, &q[i], src, why, gu_now(), &gave_up, err);
        if (src == 0) {
            sent++;
        } else {
            char l[300];

            gu_log(gave_up ? GU_LOG_ERROR : GU_LOG_WARN, "rdv.ants.send",
                   "id=%lld op=%s attempts=%d gave_up=%s error=%s",
                   (long long)q[i].id, q[i].op, q[i].attempts,
                   gave_up ? "true" : "false", gu_logq(l, sizeof(l), why));
        }
    }
    store_release(c);
    gu_arena_free(a);
    return rc == 0 ? sent : rc;
}
