/*
 * mon_priv.h - helpers shared by the service files of the monitor domain
 * (mon_service.c, mon_ingest.c, mon_alerts.c, mon_csv.c, mon_http.c,
 * mon_jobs.c, mon_mqtt.c). Not a contract: only the service helper's
 * files include it.
 */
#ifndef MONITOR_MON_PRIV_H
#define MONITOR_MON_PRIV_H

#include "monitor/mon_service.h"

/* Gap after an alert's last point within which an anomalous point extends
   it instead of opening a new one (at least; see mon_ingest.c). */
#define MON_ALERT_GAP 3600
#define MON_NIGHT_GAP (36 * 3600) /* « nuit »: the next night continues it */
/* Points per range read. */
#define MON_RANGE_MAX 100000
/* Webhook URL length. */
#define MON_URL_MAX 2000

/* 0 when insee has the shape of an INSEE code, else GU_EINVAL. */
int mon_check_insee(const char *insee, struct gu_err *err);
/* A text field: valid UTF-8, no control character (newlines and tabs
   when multiline), <= max bytes, not blank when required. */
int mon_check_text(const char *s, const char *field, const char *label,
                   bool required, size_t max, bool multiline,
                   struct gu_err *err);
bool mon_email_ok(const char *s);
/* http:// or https:// URL without space or control character. */
bool mon_url_ok(const char *s);
/* Sensor code: [a-z0-9-], 1..MON_CODE_MAX, not starting with '-'. */
bool mon_code_ok(const char *s);

/* Open a transaction unless one is open; *mine tells whether to commit. */
int mon_tx_begin(struct store_conn *c, bool *mine, struct gu_err *err);
/* Commit (rc == 0) or roll back what mon_tx_begin opened; returns rc or
   the commit's failure. */
int mon_tx_end(struct store_conn *c, bool mine, int rc, struct gu_err *err);

/* The commune's time zone (Paris when unknown). */
enum gu_tz mon_commune_tz(struct store_conn *c, const char *insee);

/* Params from the sensor's own JSON, else its asset's, else defaults;
   "nuit" switched on for a flow sensor unless the JSON names its
   detectors. */
int mon_params_effective(const char *sensor_json, const char *asset_json,
                         enum mon_quantity q, struct mon_params *out,
                         struct gu_err *err);

/* An instant: unix seconds, ISO 8601 ("2026-12-01T10:00:00Z", with an
   offset, or without: local time of tz) or "dd/mm/yyyy hh:mm[:ss]" local
   time; surrounding blanks and quotes ignored. GU_EINVAL otherwise. */
int mon_time_parse(const char *s, size_t n, enum gu_tz tz, int64_t *out);
/* A finite number with a dot or a French comma. GU_EINVAL otherwise. */
int mon_value_parse(const char *s, size_t n, double *out);

/*
 * An MQTT message's payload (mon_mqtt.c) into an arena array of
 * measurements: a bare number (measured at `now`), {"t": ..., "v": ...}
 * or an array of those (at most MON_BATCH_MAX). GU_EINVAL when
 * unreadable, GU_ETOOBIG over the batch.
 */
int mon_mqtt_payload_parse(struct gu_arena *a, const char *buf, size_t len,
                           enum gu_tz tz, int64_t now, struct mon_meas **out,
                           size_t *n);

/* One run of the mon.webhook job at `now` (mon_jobs.c): returns how many
   webhooks were delivered, or a negative code. */
int mon_outbox_run(struct store *s, const struct gu_config *cfg, int64_t now,
                   struct gu_err *err);

/* The French text of an alert (« Débit sortant : 12,4 m³/h le ... »). */
void mon_explain(enum gu_tz tz, const char *sensor_name, const char *unit,
                 int64_t t, double value, double expected, double deviation,
                 enum mon_detector det, char *buf, size_t cap);

#endif
