/*
 * mon.h - predictive maintenance (issue 7, « Surveillance »): anomaly
 * detection on the commune's sensors, alerts, maintenance tickets.
 *
 * Data flow. An asset (a pump, a meter, a building, a reservoir, a
 * boiler) carries sensors; each sensor is a raw time series (unix
 * seconds, one value per second at most; the forecast series of fc_*
 * are period-aligned, a sensor is not) that receives measurements by
 * HTTP push (JSON or CSV, mon_service.h) and by an MQTT subscription
 * (libmosquitto, mon_mqtt.c). Each accepted measurement, in time order,
 * runs through the sensor's streaming detectors (mon_detect.h: windowed
 * Gaussian, seasonal robust z-score, CUSUM / Page-Hinkley level shift,
 * minimum night flow, flatline; and their ensemble), whose state is saved
 * with the sensor so a restart resumes where it left off. A point the
 * ensemble flags opens an alert, or extends the sensor's open incident
 * (one alert per incident, not per point); an opened alert is mailed
 * (notify queue) and posted to the asset's webhook (mon_outbox, a job
 * with retries). Agents acknowledge and resolve alerts and open
 * maintenance tickets on the asset (/agent/surveillance).
 *
 * The same detectors run offline over the Numenta Anomaly Benchmark
 * (`guichet monitor nab DATA_DIR OUT_DIR`, bench/nab_score).
 *
 * Every function takes the commune (insee) and never reads or writes
 * another commune's rows. Layering: monitor sits on store, notify, web
 * and core; mon_detect.c on core only.
 */
#ifndef MONITOR_MON_H
#define MONITOR_MON_H

#include "core/core.h"
#include "notify/notify.h"
#include "store/store.h"
#include "web/http.h"

/* Bounds on what enters. */
#define MON_NAME_MAX 200          /* asset / sensor name, unit, site */
#define MON_CODE_MAX 64           /* sensor code: [a-z0-9-] */
#define MON_ASSETS_MAX 5000       /* per commune */
#define MON_SENSORS_MAX 20000     /* per commune */
#define MON_BATCH_MAX 10000u      /* measurements per push */
#define MON_PUSH_MAX_BYTES (4u << 20)
#define MON_RATE_DEFAULT 120      /* measurements per sensor per minute */
#define MON_LATE_MAX (7 * 86400)  /* older than this behind the sensor's
                                     last point: refused */
#define MON_TEXT_MAX 8000         /* ticket / comment text */

/* Schema of the monitor module (store_migrate list; mon_schema.c). */
const struct store_migration *mon_migrations(size_t *count);

/* Module rows (app.c). */
extern const struct http_routes mon_routes;      /* mon_http.c: JSON API */
extern const struct http_routes mon_page_routes; /* mon_pages.c */
const struct notify_job *mon_jobs(size_t *count); /* mon_jobs.c */

/*
 * The MQTT subscription (mon_mqtt.c), started by `guichet serve` when the
 * configuration names a broker (section [monitor]: mqtt_host, mqtt_port,
 * mqtt_user, mqtt_password_file, mqtt_topic, default
 * "guichet/+/capteurs/+"), stopped on shutdown. A message on
 * guichet/{insee}/capteurs/{code} (or on a sensor's own topic) is a
 * measurement: a bare number (time of receipt) or JSON {"t": ISO 8601 or
 * unix seconds, "v": number} or an array of those. Reconnects by itself;
 * bad messages are counted and logged, never fatal.
 */
struct mon_mqtt;
int mon_mqtt_start(struct store *s, const struct gu_config *cfg,
                   struct mon_mqtt **out, struct gu_err *err);
/* NULL ok. */
void mon_mqtt_stop(struct mon_mqtt *m);

/*
 * The demo commune's assets (mon_demo.c): a reservoir and its outflow
 * meter with a night leak, a pump's current, a school boiler stuck on at
 * night, with a few weeks of synthetic measurements up to now run through
 * the detectors (so alerts exist). Deterministic. Returns the number of
 * sensors created, 0 when the commune already has assets.
 */
int mon_demo_seed(struct store_conn *c, const char *insee,
                  struct gu_err *err);

#endif
