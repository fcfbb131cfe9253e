/*
 * mon_service.h - assets, sensors, measurements, alerts and tickets of
 * the monitor domain (see mon.h for the data flow). Used by the JSON API
 * (mon_http.c), the MQTT subscription, the pages and the demo.
 *
 * Ownership: strings in results live in the arena of the call; input
 * strings are borrowed. Every function takes the commune (insee) and
 * never reads or writes another commune's rows: an id of another commune
 * is GU_ENOTFOUND.
 *
 * Errors: GU_EINVAL with err->field and a French err->user; GU_ENOTFOUND;
 * GU_ECONFLICT (code taken, alert already resolved...); GU_ETOOBIG over a
 * bound; GU_ERATE over a sensor's rate; GU_EDB when storage fails.
 */
#ifndef MONITOR_MON_SERVICE_H
#define MONITOR_MON_SERVICE_H

#include "monitor/mon.h"
#include "monitor/mon_detect.h"

enum mon_asset_kind {
    MON_ASSET_AUTRE = 0,
    MON_ASSET_POMPE,
    MON_ASSET_COMPTEUR,
    MON_ASSET_RESERVOIR,
    MON_ASSET_BATIMENT,
    MON_ASSET_CHAUDIERE,
    MON_ASSET_ECLAIRAGE
};
enum mon_quantity {
    MON_Q_AUTRE = 0,
    MON_Q_DEBIT,
    MON_Q_NIVEAU,
    MON_Q_PRESSION,
    MON_Q_COURANT,
    MON_Q_TEMPERATURE,
    MON_Q_ENERGIE
};
enum mon_alert_status { MON_ALERT_OUVERTE = 0, MON_ALERT_ACQUITTEE,
                        MON_ALERT_RESOLUE };
/* What the agent who resolved an alert found: stored "" (not said, e.g.
   resolved through the API without it), "reelle", "fausse_alerte". */
enum mon_alert_verdict { MON_VERDICT_NONE = 0, MON_VERDICT_REELLE,
                         MON_VERDICT_FAUSSE };
enum mon_ticket_status { MON_TICKET_OUVERT = 0, MON_TICKET_EN_COURS,
                         MON_TICKET_CLOS };

/* Stored names ("pompe", "debit", "ouverte", "en_cours"...) and French
   labels (« Pompe », « Débit »...); parse gives GU_EINVAL. */
const char *mon_asset_kind_name(enum mon_asset_kind k);
const char *mon_asset_kind_label(enum mon_asset_kind k);
int mon_asset_kind_parse(const char *s, enum mon_asset_kind *out);
const char *mon_quantity_name(enum mon_quantity q);
const char *mon_quantity_label(enum mon_quantity q);
int mon_quantity_parse(const char *s, enum mon_quantity *out);
const char *mon_alert_status_name(enum mon_alert_status s);
const char *mon_alert_verdict_name(enum mon_alert_verdict v);
/* « Problème réel », « Fausse alerte », « Non précisé » */
const char *mon_alert_verdict_label(enum mon_alert_verdict v);
int mon_alert_verdict_parse(const char *s, enum mon_alert_verdict *out);
const char *mon_alert_status_label(enum mon_alert_status s);
int mon_alert_status_parse(const char *s, enum mon_alert_status *out);
const char *mon_ticket_status_name(enum mon_ticket_status s);
const char *mon_ticket_status_label(enum mon_ticket_status s);
int mon_ticket_status_parse(const char *s, enum mon_ticket_status *out);

struct mon_asset {
    int64_t id;
    char insee[6];
    const char *name;
    enum mon_asset_kind kind;
    const char *site;        /* may be "" */
    const char *notes;       /* may be "" */
    const char *params;      /* mon_params JSON, "" = defaults */
    const char *alert_to;    /* e-mail, may be "" */
    const char *webhook_url; /* http(s) URL, may be "" */
    int64_t created_at;
    /* filled by list/get: */
    int nsensors;
    int open_alerts;         /* ouverte + acquittee */
    int open_tickets;        /* ouvert + en_cours */
};
/* Create (id 0) or update; validates every field (French message). */
int mon_asset_save(struct store_conn *c, const struct mon_asset *a,
                   int64_t *id_out, struct gu_err *err);
int mon_asset_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                  int64_t id, struct mon_asset *out, struct gu_err *err);
/* Ordered by name; *out an arena array. */
int mon_asset_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                   struct mon_asset **out, size_t *n, struct gu_err *err);
/* With its sensors, points, alerts and tickets. */
int mon_asset_delete(struct store_conn *c, const char *insee, int64_t id,
                     struct gu_err *err);

struct mon_sensor {
    int64_t id;
    char insee[6];
    int64_t asset_id;
    const char *code;
    const char *name;
    const char *unit;        /* may be "" */
    enum mon_quantity quantity;
    const char *topic;       /* own MQTT topic, "" = default */
    const char *params;      /* overrides the asset's, "" = none */
    int rate_per_min;        /* 0 on save = MON_RATE_DEFAULT */
    bool active;
    int64_t created_at;
    /* filled by list/get: */
    int64_t last_t;          /* 0 before any point */
    double last_value;       /* NAN before any point */
    int64_t npoints;
};
/* Create (id 0) or update. Changing params resets nothing; the detectors
   adapt (mon_step). */
int mon_sensor_save(struct store_conn *c, const struct mon_sensor *s,
                    int64_t *id_out, struct gu_err *err);
int mon_sensor_get(struct store_conn *c, struct gu_arena *a,
                   const char *insee, int64_t id, struct mon_sensor *out,
                   struct gu_err *err);
int mon_sensor_by_code(struct store_conn *c, struct gu_arena *a,
                       const char *insee, const char *code,
                       struct mon_sensor *out, struct gu_err *err);
/* asset_id 0 = every sensor of the commune; ordered by name. */
int mon_sensor_list(struct store_conn *c, struct gu_arena *a,
                    const char *insee, int64_t asset_id,
                    struct mon_sensor **out, size_t *n, struct gu_err *err);
int mon_sensor_delete(struct store_conn *c, const char *insee, int64_t id,
                      struct gu_err *err);
/* The parameters in force for a sensor: its own, else its asset's, else
   mon_params_default(). */
int mon_sensor_params(struct store_conn *c, const char *insee, int64_t id,
                      struct mon_params *out, struct gu_err *err);

/* A measurement as it enters. */
struct mon_meas {
    int64_t t;  /* unix seconds */
    double v;
};
/* What an ingest did. */
struct mon_ingest_result {
    size_t accepted;    /* stored and fed to the detectors in order */
    size_t late;        /* stored, older than the detectors' last point:
                           not fed (out of order) */
    size_t duplicates;  /* same t as a stored point: ignored */
    size_t rejected;    /* too old (MON_LATE_MAX) or in the future (> 5 min) */
    size_t anomalies;   /* points the ensemble flagged */
    int64_t alerts_opened;  /* count of alerts this batch opened */
};
/*
 * Take n (<= MON_BATCH_MAX) measurements of one sensor: check each
 * (finite, |v| <= 1e12; a bad one: GU_EINVAL with err->field
 * "points[i]", nothing written), apply the sensor's rate (GU_ERATE,
 * nothing written), sort them, store them, feed the new ones in time
 * order to the sensor's detectors, open or extend alerts, queue their
 * mail and webhook, and save the detectors' state: one transaction (the
 * caller's when one is open). `now` is the caller's clock.
 */
int mon_ingest(struct store_conn *c, const char *insee, int64_t sensor_id,
               const struct mon_meas *m, size_t n, int64_t now,
               struct mon_ingest_result *res, struct gu_err *err);
/*
 * Parse a pushed CSV body (header optional; "t;v" or "t,v" columns; ISO
 * 8601, "dd/mm/yyyy hh:mm[:ss]" local time of the commune's zone, or unix
 * seconds; French or dot decimals) into an arena array. GU_EINVAL with
 * err->user naming the line.
 */
int mon_csv_parse(struct gu_arena *a, const char *body, size_t len,
                  enum gu_tz tz, struct mon_meas **out, size_t *n,
                  struct gu_err *err);

/* A stored point. score is NAN for points not fed in order. */
struct mon_point {
    int64_t t;
    double value;
    double score;
};
/* Points with t0 <= t <= t1 in time order, at most 100,000 (GU_ETOOBIG). */
int mon_points_range(struct store_conn *c, struct gu_arena *a,
                     const char *insee, int64_t sensor_id, int64_t t0,
                     int64_t t1, struct mon_point **out, size_t *n,
                     struct gu_err *err);

struct mon_alert {
    int64_t id;
    char insee[6];
    int64_t sensor_id, asset_id;
    enum mon_alert_status status;
    enum mon_detector detector;
    int64_t first_t, last_t;
    int npoints;
    double max_score, value, expected, deviation;
    const char *explanation; /* French */
    int64_t opened_at;
    int64_t ack_by, ack_at;           /* 0 when not */
    int64_t resolved_by, resolved_at; /* 0 when not */
    enum mon_alert_verdict verdict;   /* set when resolved */
    const char *comment;
    /* filled by list/get: */
    const char *sensor_name, *asset_name, *unit;
};
struct mon_alert_filter {
    int64_t asset_id;          /* 0 = all */
    int64_t sensor_id;         /* 0 = all */
    int status;                /* -1 = all, -2 = not resolved, else enum */
    size_t limit, offset;      /* limit 0 = 50, at most 500 */
};
int mon_alert_list(struct store_conn *c, struct gu_arena *a, const char *insee,
                   const struct mon_alert_filter *f, struct mon_alert **out,
                   size_t *n, struct gu_err *err);
int mon_alert_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                  int64_t id, struct mon_alert *out, struct gu_err *err);
/* Acknowledge (ouverte -> acquittee) or resolve (-> resolue) with an
   optional comment (<= MON_TEXT_MAX); GU_ECONFLICT when already resolved.
   The agent id goes in ack_by / resolved_by; resolving records what the
   agent found (`verdict`, MON_VERDICT_NONE when not said). */
int mon_alert_ack(struct store_conn *c, const char *insee, int64_t id,
                  int64_t agent_id, const char *comment, struct gu_err *err);
int mon_alert_resolve(struct store_conn *c, const char *insee, int64_t id,
                      int64_t agent_id, const char *comment,
                      enum mon_alert_verdict verdict, struct gu_err *err);

struct mon_ticket {
    int64_t id;
    char insee[6];
    int64_t asset_id;
    int64_t alert_id;          /* 0 = none */
    const char *title, *body;
    enum mon_ticket_status status;
    int64_t created_by, created_at, updated_at, closed_at;
    /* filled by list/get: */
    const char *asset_name;
};
/* Create (id 0) or update (title, body, status; closing sets closed_at).
   The alert, when not 0, must be the asset's. */
int mon_ticket_save(struct store_conn *c, const struct mon_ticket *t,
                    int64_t *id_out, struct gu_err *err);
int mon_ticket_get(struct store_conn *c, struct gu_arena *a, const char *insee,
                   int64_t id, struct mon_ticket *out, struct gu_err *err);
/* asset_id 0 = all; open_only: ouvert + en_cours. Newest first. */
int mon_ticket_list(struct store_conn *c, struct gu_arena *a,
                    const char *insee, int64_t asset_id, bool open_only,
                    struct mon_ticket **out, size_t *n, struct gu_err *err);

/*
 * Added by the service helper. The base of the links in alert mails
 * (server.public_url without its trailing slashes; "" = relative links),
 * kept with the store: set once at start (mon_mqtt_start does it for
 * `guichet serve`), before other threads read it. The string returned
 * lives as long as the store.
 */
void mon_public_base_set(struct store *s, const char *base);
const char *mon_public_base(struct store *s);

/*
 * An alert's « Pourquoi ? » (web_why.c's shape; mon_why.c): the
 * explanation, the detector, measured and expected values, the score
 * against the sensor's alert threshold and sensitivity, the detectors
 * on, the model's version, dates in the commune's zone `tz`. Owned by
 * the request's arena; NULL on OOM.
 */
struct http_req;
/* « lundi 30/11/2026 à 14 h 15 »: instant t in zone tz (mon_pages.c). */
void mon_when_fr(struct gu_buf *b, enum gu_tz tz, int64_t t);
json_t *mon_alert_why(struct http_req *req, const struct mon_alert *al,
                      enum gu_tz tz);

#endif
