/*
 * mon_alerts.c - alerts as agents work them (list, get, acknowledge,
 * resolve) and maintenance tickets (mon_service.h). Alerts are opened by
 * mon_ingest.c.
 */
#include "monitor/mon_priv.h"

#include <stdio.h>
#include <string.h>

static const char *
nz(const char *s)
{
    return s ? s : "";
}

static int
alert_missing(struct gu_err *err, int64_t id)
{
    return gu_err_set(err, GU_ENOTFOUND, "alert_id",
                      "Cette alerte n'existe pas.", "no alert %lld",
                      (long long)id);
}

#define ALERT_COLS                                                             \
    "l.id, l.insee, l.sensor_id, l.asset_id, l.status, l.detector, "           \
    "l.first_t, l.last_t, l.npoints, l.max_score, l.value, l.expected, "       \
    "l.deviation, l.explanation, l.opened_at, l.ack_by, l.ack_at, "            \
    "l.resolved_by, l.resolved_at, l.comment, s.name, a.name, s.unit, "        \
    "l.verdict"

#define ALERT_FROM                                                             \
    " FROM mon_alerts l JOIN mon_sensors s ON s.id = l.sensor_id JOIN "        \
    "mon_assets a ON a.id = l.asset_id"

static void
alert_row(const struct store_rows *r, size_t i, struct mon_alert *l)
{
    memset(l, 0, sizeof(*l));
    l->id = store_int(r, i, 0);
    snprintf(l->insee, sizeof(l->insee), "%s", nz(store_text(r, i, 1)));
    l->sensor_id = store_int(r, i, 2);
    l->asset_id = store_int(r, i, 3);
    if (mon_alert_status_parse(store_text(r, i, 4), &l->status) < 0)
        l->status = MON_ALERT_OUVERTE;
    if (mon_detector_parse(store_text(r, i, 5), &l->detector) < 0)
        l->detector = MON_DET_GAUSS;
    l->first_t = store_int(r, i, 6);
    l->last_t = store_int(r, i, 7);
    l->npoints = (int)store_int(r, i, 8);
    l->max_score = store_real(r, i, 9);
    l->value = store_real(r, i, 10);
    l->expected = store_real(r, i, 11);
    l->deviation = store_real(r, i, 12);
    l->explanation = nz(store_text(r, i, 13));
    l->opened_at = store_int(r, i, 14);
    l->ack_by = store_int(r, i, 15);
    l->ack_at = store_int(r, i, 16);
    l->resolved_by = store_int(r, i, 17);
    l->resolved_at = store_int(r, i, 18);
    l->comment = nz(store_text(r, i, 19));
    l->sensor_name = nz(store_text(r, i, 20));
    l->asset_name = nz(store_text(r, i, 21));
    l->unit = nz(store_text(r, i, 22));
    if (mon_alert_verdict_parse(nz(store_text(r, i, 23)), &l->verdict) < 0)
        l->verdict = MON_VERDICT_NONE;
}

int
mon_alert_list(struct store_conn *c, struct gu_arena *a, const char *insee,
               const struct mon_alert_filter *f, struct mon_alert **out,
               size_t *n, struct gu_err *err)
{
    size_t limit = f && f->limit ? f->limit : 50;
    int status = f ? f->status : -1;
    const char *st =
        status >= 0 ? mon_alert_status_name((enum mon_alert_status)status) : "";
    struct store_rows *r = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    if (limit > 500)
        limit = 500;
    if (status < -2 || status > MON_ALERT_RESOLUE)
        return gu_err_set(err, GU_EINVAL, "status", "Statut d'alerte inconnu.",
                          "bad status filter %d", status);
    {
        int64_t asset = f ? f->asset_id : 0, sensor = f ? f->sensor_id : 0;
        struct store_val p[] = {STORE_T(insee),
                                STORE_I(asset),
                                STORE_I(asset),
                                STORE_I(sensor),
                                STORE_I(sensor),
                                STORE_I(status),
                                STORE_I(status),
                                STORE_T(st),
                                STORE_I(status),
                                STORE_I((int64_t)limit),
                                STORE_I(f ? (int64_t)f->offset : 0)};
        rc = store_query(c, a,
                         "SELECT " ALERT_COLS ALERT_FROM
                         " WHERE l.insee = ? AND (? = 0 OR l.asset_id = ?)"
                         " AND (? = 0 OR l.sensor_id = ?) AND (? = -1 OR"
                         " (? = -2 AND l.status <> 'resolue') OR l.status = ?"
                         " AND ? >= 0) ORDER BY l.last_t DESC, l.id DESC"
                         " LIMIT ? OFFSET ?",
                         p, GU_ARRAY_LEN(p), &r, err);
    }
    if (rc < 0 || r->nrows == 0)
        return rc;
    if (!(*out = gu_arena_zalloc(a, r->nrows * sizeof(**out))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        alert_row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}

int
mon_alert_get(struct store_conn *c, struct gu_arena *a, const char *insee,
              int64_t id, struct mon_alert *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(
        c, a, "SELECT " ALERT_COLS ALERT_FROM " WHERE l.id = ? AND l.insee = ?",
        p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return alert_missing(err, id);
    alert_row(r, 0, out);
    return 0;
}

/* Move an alert on: ack (ouverte -> acquittee) or resolve. */
static int
alert_move(struct store_conn *c, const char *insee, int64_t id,
           int64_t agent_id, const char *comment, bool resolve,
           enum mon_alert_verdict verdict, struct gu_err *err)
{
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    int64_t changes = 0;
    bool mine = false;
    int rc;

    if ((rc = mon_check_text(comment, "comment", "Le commentaire", false,
                             MON_TEXT_MAX, true, err)) < 0)
        return rc;
    if (!(a = gu_arena_new(512)))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = mon_tx_begin(c, &mine, err)) < 0)
        goto out;
    {
        struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
        rc = store_query(c, a,
                         "SELECT status FROM mon_alerts WHERE id = ? AND"
                         " insee = ?",
                         p, 2, &r, err);
    }
    if (rc < 0)
        goto out;
    if (r->nrows == 0) {
        rc = alert_missing(err, id);
        goto out;
    }
    if (strcmp(nz(store_text(r, 0, 0)), "resolue") == 0) {
        rc = gu_err_set(err, GU_ECONFLICT, "status",
                        "Cette alerte est déjà résolue.", "alert %lld resolved",
                        (long long)id);
        goto out;
    }
    if (!resolve && strcmp(nz(store_text(r, 0, 0)), "acquittee") == 0) {
        rc = gu_err_set(err, GU_ECONFLICT, "status",
                        "Cette alerte est déjà acquittée.",
                        "alert %lld acknowledged", (long long)id);
        goto out;
    }
    {
        /* A comment adds to the previous one instead of erasing it. */
        struct store_val p[6] = {STORE_I(agent_id > 0 ? agent_id : 0),
                                 STORE_I(gu_now()), STORE_T(nz(comment)),
                                 STORE_I(id), STORE_T(insee),
                                 STORE_T(mon_alert_verdict_name(verdict))};
        rc = store_exec_changes(
            c,
            resolve ? "UPDATE mon_alerts SET status = 'resolue', resolved_by ="
                      " NULLIF(?1, 0), resolved_at = ?2, comment = CASE WHEN"
                      " ?3 = '' THEN comment WHEN comment = '' THEN ?3 ELSE"
                      " comment || char(10) || ?3 END, verdict = ?6 WHERE"
                      " id = ?4 AND insee = ?5"
                    : "UPDATE mon_alerts SET status = 'acquittee', ack_by ="
                      " NULLIF(?1, 0), ack_at = ?2, comment = CASE WHEN ?3 ="
                      " '' THEN comment WHEN comment = '' THEN ?3 ELSE"
                      " comment || char(10) || ?3 END WHERE id = ?4 AND"
                      " insee = ?5",
            p, resolve ? 6 : 5, &changes, err);
    }
    if (rc == 0 && changes == 0)
        rc = alert_missing(err, id);
out:
    rc = mon_tx_end(c, mine, rc, err);
    gu_arena_free(a);
    return rc;
}

int
mon_alert_ack(struct store_conn *c, const char *insee, int64_t id,
              int64_t agent_id, const char *comment, struct gu_err *err)
{
    return alert_move(c, insee, id, agent_id, comment, false,
                      MON_VERDICT_NONE, err);
}

int
mon_alert_resolve(struct store_conn *c, const char *insee, int64_t id,
                  int64_t agent_id, const char *comment,
                  enum mon_alert_verdict verdict, struct gu_err *err)
{
    if ((unsigned)verdict > MON_VERDICT_FAUSSE)
        return gu_err_set(err, GU_EINVAL, "verdict", "Verdict inconnu.",
                          "bad verdict %d", (int)verdict);
    return alert_move(c, insee, id, agent_id, comment, true, verdict, err);
}

/* ------------------------------------------------------------------ */
/* Tickets                                                             */
/* ------------------------------------------------------------------ */

static int
ticket_missing(struct gu_err *err, int64_t id)
{
    return gu_err_set(err, GU_ENOTFOUND, "ticket_id", "Ce ticket n'existe pas.",
                      "no ticket %lld", (long long)id);
}

int
mon_ticket_save(struct store_conn *c, const struct mon_ticket *t,
                int64_t *id_out, struct gu_err *err)
{
    struct gu_arena *a = NULL;
    struct store_rows *r = NULL;
    int64_t now = gu_now();
    bool mine = false;
    int rc;

    if ((rc = mon_check_insee(t->insee, err)) < 0 ||
        (rc = mon_check_text(t->title, "title", "Le titre", true, MON_NAME_MAX,
                             false, err)) < 0 ||
        (rc = mon_check_text(t->body, "body", "La description", false,
                             MON_TEXT_MAX, true, err)) < 0)
        return rc;
    if ((unsigned)t->status > MON_TICKET_CLOS)
        return gu_err_set(err, GU_EINVAL, "status",
                          "Statut de ticket inconnu (ouvert, en_cours, clos).",
                          "bad ticket status");
    if (!(a = gu_arena_new(512)))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = mon_tx_begin(c, &mine, err)) < 0)
        goto out;
    if (t->id == 0) {
        struct store_val p[3] = {STORE_I(t->asset_id), STORE_T(t->insee),
                                 STORE_I(t->alert_id)};
        rc = store_query(c, a,
                         "SELECT (SELECT COUNT(*) FROM mon_assets WHERE id = ?1"
                         " AND insee = ?2), (SELECT COUNT(*) FROM mon_alerts"
                         " WHERE id = ?3 AND insee = ?2 AND asset_id = ?1)",
                         p, 3, &r, err);
        if (rc < 0)
            goto out;
        if (store_int(r, 0, 0) == 0) {
            rc = gu_err_set(err, GU_ENOTFOUND, "asset_id",
                            "Cet équipement n'existe pas.", "no asset");
            goto out;
        }
        if (t->alert_id != 0 && store_int(r, 0, 1) == 0) {
            rc = gu_err_set(err, GU_EINVAL, "alert_id",
                            "Cette alerte n'est pas une alerte de "
                            "l'équipement.",
                            "alert not of the asset");
            goto out;
        }
        {
            struct store_val q[] = {
                STORE_T(t->insee),
                STORE_I(t->asset_id),
                t->alert_id ? STORE_I(t->alert_id) : STORE_NUL,
                STORE_T(t->title),
                STORE_T(nz(t->body)),
                STORE_T(mon_ticket_status_name(t->status)),
                t->created_by > 0 ? STORE_I(t->created_by) : STORE_NUL,
                STORE_I(now),
                STORE_I(now),
                t->status == MON_TICKET_CLOS ? STORE_I(now) : STORE_NUL};
            rc = store_query(c, a,
                             "INSERT INTO mon_tickets (insee, asset_id,"
                             " alert_id, title, body, status, created_by,"
                             " created_at, updated_at, closed_at) VALUES (?,"
                             " ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                             q, GU_ARRAY_LEN(q), &r, err);
        }
        if (rc == 0 && id_out)
            *id_out = store_int(r, 0, 0);
    } else {
        struct store_val p[] = {STORE_T(t->title),
                                STORE_T(nz(t->body)),
                                STORE_T(mon_ticket_status_name(t->status)),
                                STORE_I(now),
                                STORE_I(t->id),
                                STORE_T(t->insee)};
        int64_t changes = 0;
        rc = store_exec_changes(
            c,
            "UPDATE mon_tickets SET title = ?1, body = ?2, status = ?3,"
            " updated_at = ?4, closed_at = CASE WHEN ?3 = 'clos' THEN"
            " COALESCE(closed_at, ?4) ELSE NULL END WHERE id = ?5 AND"
            " insee = ?6",
            p, GU_ARRAY_LEN(p), &changes, err);
        if (rc == 0 && changes == 0)
            rc = ticket_missing(err, t->id);
        if (rc == 0 && id_out)
            *id_out = t->id;
    }
out:
    rc = mon_tx_end(c, mine, rc, err);
    gu_arena_free(a);
    return rc;
}

#define TICKET_COLS                                                            \
    "k.id, k.insee, k.asset_id, k.alert_id, k.title, k.body, k.status, "       \
    "k.created_by, k.created_at, k.updated_at, k.closed_at, a.name"

static void
ticket_row(const struct store_rows *r, size_t i, struct mon_ticket *t)
{
    memset(t, 0, sizeof(*t));
    t->id = store_int(r, i, 0);
    snprintf(t->insee, sizeof(t->insee), "%s", nz(store_text(r, i, 1)));
    t->asset_id = store_int(r, i, 2);
    t->alert_id = store_int(r, i, 3);
    t->title = nz(store_text(r, i, 4));
    t->body = nz(store_text(r, i, 5));
    if (mon_ticket_status_parse(store_text(r, i, 6), &t->status) < 0)
        t->status = MON_TICKET_OUVERT;
    t->created_by = store_int(r, i, 7);
    t->created_at = store_int(r, i, 8);
    t->updated_at = store_int(r, i, 9);
    t->closed_at = store_int(r, i, 10);
    t->asset_name = nz(store_text(r, i, 11));
}

int
mon_ticket_get(struct store_conn *c, struct gu_arena *a, const char *insee,
               int64_t id, struct mon_ticket *out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_I(id), STORE_T(insee)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "SELECT " TICKET_COLS " FROM mon_tickets k JOIN mon_assets"
                     " a ON a.id = k.asset_id WHERE k.id = ? AND k.insee = ?",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return ticket_missing(err, id);
    ticket_row(r, 0, out);
    return 0;
}

int
mon_ticket_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                int64_t asset_id, bool open_only, struct mon_ticket **out,
                size_t *n, struct gu_err *err)
{
    struct store_val p[4] = {STORE_T(insee), STORE_I(asset_id),
                             STORE_I(asset_id), STORE_I(open_only ? 1 : 0)};
    struct store_rows *r = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    rc = store_query(c, a,
                     "SELECT " TICKET_COLS " FROM mon_tickets k JOIN mon_assets"
                     " a ON a.id = k.asset_id WHERE k.insee = ? AND (? = 0 OR"
                     " k.asset_id = ?) AND (? = 0 OR k.status <> 'clos')"
                     " ORDER BY k.created_at DESC, k.id DESC LIMIT 1000",
                     p, 4, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    if (!(*out = gu_arena_zalloc(a, r->nrows * sizeof(**out))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    for (size_t i = 0; i < r->nrows; i++)
        ticket_row(r, i, &(*out)[i]);
    *n = r->nrows;
    return 0;
}
