/*
 * mon_mqtt.c - the MQTT subscription of the monitor domain (see mon.h).
 *
 * A network thread of ours runs mosquitto_loop: it connects, reconnects
 * with an exponential backoff (1 s .. 60 s, back to 1 s after a
 * successful connection) and calls on_message for every message. Not
 * mosquitto_loop_start: its thread gives up for good when the first
 * connection fails (broker down when Guichet starts) or on a TLS error,
 * and its reconnection sleep cannot be interrupted by a stop. Each
 * message is turned into
 * measurements and handed to mon_ingest on a store connection taken for
 * that message, so the per-sensor rate, duplicates and late points are
 * handled exactly as for an HTTP push. A second, small thread refreshes
 * every REFRESH_S the sensors' own topics (mon_sensors.topic) and
 * subscribes to the new ones; on every (re)connection the configured
 * pattern and the known own topics are subscribed again (clean session).
 *
 * A message on guichet/{insee}/capteurs/{code}, or on a sensor's own
 * topic, is one of:
 *   12.5                         a number: measured now
 *   {"t": ..., "v": 12.5}        t ISO 8601 or unix seconds (absent: now)
 *   [{"t": ..., "v": ...}, ...]  several (<= MON_BATCH_MAX)
 * A bad message (unknown sensor, unreadable payload, over the rate,
 * storage failure) is counted and logged without its payload, never
 * fatal. The counters are logged on stop.
 *
 * Ownership: struct mon_mqtt is built by mon_mqtt_start and freed by
 * mon_mqtt_stop, which stops both threads first.
 */
#include "monitor/mon_priv.h"

#include <errno.h>
#include <math.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_S 30
#define PAYLOAD_MAX (256u * 1024u)
#define TOPIC_MAX 512
#define OWN_TOPICS_MAX MON_SENSORS_MAX
#define KEEPALIVE_S 60

/* A sensor's own topic (refreshed copy of mon_sensors). */
struct own_topic {
    char *topic;
    char insee[6];
    int64_t sensor_id;
};

struct mon_mqtt {
    struct store *store;
    struct mosquitto *mosq;
    char *pattern, *host;
    int port;
    pthread_t refresher, net;
    bool refresher_started, net_started;
    atomic_bool was_connected; /* since the last retry */
    pthread_mutex_t mu;        /* guards own, nown, stopping */
    pthread_cond_t cond;
    bool stopping;
    struct own_topic *own;
    size_t nown;
    /* counters */
    atomic_ulong received, points, bad_payload, unknown_sensor, refused,
        rate_limited, failed, connects, lib_errors, retries;
};

static void
own_free(struct own_topic *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gu_free(o[i].topic);
    gu_free(o);
}

/* Log the first ten of a kind, then every hundredth: a flood of bad
   messages must not flood the log. */
static bool
log_due(unsigned long n)
{
    return n <= 10 || n % 100 == 0;
}

/* ------------------------------------------------------------------ */
/* Payload                                                             */
/* ------------------------------------------------------------------ */

static int
json_point(json_t *p, enum gu_tz tz, int64_t now, struct mon_meas *out)
{
    json_t *t, *v;

    if (json_is_number(p)) {
        out->t = now;
        out->v = json_number_value(p);
        return 0;
    }
    if (!json_is_object(p))
        return GU_EINVAL;
    t = json_object_get(p, "t");
    v = json_object_get(p, "v");
    if (!v)
        v = json_object_get(p, "value");
    if (!json_is_number(v))
        return GU_EINVAL;
    out->v = json_number_value(v);
    if (!t || json_is_null(t))
        out->t = now;
    else if (json_is_integer(t) && json_integer_value(t) > 0)
        out->t = (int64_t)json_integer_value(t);
    else if (json_is_real(t) && json_real_value(t) >= 1.0 &&
             json_real_value(t) < 1e11) /* 0.9 would be the epoch */
        out->t = (int64_t)json_real_value(t);
    else if (!json_is_string(t) ||
             mon_time_parse(json_string_value(t), json_string_length(t), tz,
                            &out->t) < 0)
        return GU_EINVAL;
    return 0;
}

/* Declared in mon_priv.h. */
int
mon_mqtt_payload_parse(struct gu_arena *a, const char *buf, size_t len,
                       enum gu_tz tz, int64_t now, struct mon_meas **out,
                       size_t *n)
{
    const char *p = buf, *e = buf + len;
    json_t *root;
    int rc = 0;

    *out = NULL;
    *n = 0;
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
                     e[-1] == '\n' || e[-1] == '\0'))
        e--;
    if (p == e)
        return GU_EINVAL;
    if (*p != '{' && *p != '[') {
        double v;
        if (mon_value_parse(p, (size_t)(e - p), &v) < 0)
            return GU_EINVAL;
        if (!(*out = gu_arena_alloc(a, sizeof(**out))))
            return GU_ENOMEM;
        (*out)->t = now;
        (*out)->v = v;
        *n = 1;
        return 0;
    }
    root = json_loadb(p, (size_t)(e - p), JSON_REJECT_DUPLICATES, NULL);
    if (!root)
        return GU_EINVAL;
    if (json_is_array(root)) {
        size_t k = json_array_size(root);
        if (k == 0)
            rc = GU_EINVAL;
        else if (k > MON_BATCH_MAX)
            rc = GU_ETOOBIG;
        else if (!(*out = gu_arena_alloc(a, k * sizeof(**out))))
            rc = GU_ENOMEM;
        for (size_t i = 0; rc == 0 && i < k; i++) {
            json_t *it = json_array_get(root, i);
            /* bare numbers in an array would all share "now" */
            if (!json_is_object(it))
                rc = GU_EINVAL;
            else
                rc = json_point(it, tz, now, &(*out)[i]);
        }
        if (rc == 0)
            *n = k;
    } else {
        if (!(*out = gu_arena_alloc(a, sizeof(**out))))
            rc = GU_ENOMEM;
        else if ((rc = json_point(root, tz, now, *out)) == 0)
            *n = 1;
    }
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Topic -> sensor                                                     */
/* ------------------------------------------------------------------ */

/* guichet/{insee}/capteurs/{code}: 0 and the two parts, else GU_EINVAL. */
static int
split_default(const char *topic, char insee[6], char code[MON_CODE_MAX + 1])
{
    static const char pre[] = "guichet/", mid[] = "/capteurs/";
    const char *p = topic, *slash;
    size_t n;

    if (strncmp(p, pre, sizeof(pre) - 1) != 0)
        return GU_EINVAL;
    p += sizeof(pre) - 1;
    slash = strchr(p, '/');
    if (!slash || slash - p != 5)
        return GU_EINVAL;
    memcpy(insee, p, 5);
    insee[5] = '\0';
    p = slash;
    if (strncmp(p, mid, sizeof(mid) - 1) != 0)
        return GU_EINVAL;
    p += sizeof(mid) - 1;
    n = strlen(p);
    if (n == 0 || n > MON_CODE_MAX)
        return GU_EINVAL;
    memcpy(code, p, n + 1);
    if (!mon_code_ok(code) || mon_check_insee(insee, NULL) < 0)
        return GU_EINVAL;
    return 0;
}

/* The sensor of a topic: an own topic first, else the default shape. */
static int
resolve(struct mon_mqtt *m, struct store_conn *c, struct gu_arena *a,
        const char *topic, char insee[6], int64_t *sensor_id)
{
    char code[MON_CODE_MAX + 1];
    struct mon_sensor s;
    struct gu_err err;
    bool found = false;

    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->nown; i++)
        if (strcmp(m->own[i].topic, topic) == 0) {
            memcpy(insee, m->own[i].insee, 6);
            *sensor_id = m->own[i].sensor_id;
            found = true;
            break;
        }
    pthread_mutex_unlock(&m->mu);
    if (found)
        return 0;
    if (split_default(topic, insee, code) < 0)
        return GU_ENOTFOUND;
    memset(&err, 0, sizeof(err));
    if (mon_sensor_by_code(c, a, insee, code, &s, &err) < 0)
        return GU_ENOTFOUND;
    *sensor_id = s.id;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Callbacks (network thread)                                          */
/* ------------------------------------------------------------------ */

static void
subscribe_all(struct mon_mqtt *m)
{
    int rc = mosquitto_subscribe(m->mosq, NULL, m->pattern, 1);

    if (rc != MOSQ_ERR_SUCCESS)
        gu_log_warn("mon.mqtt_subscribe", "topic=%s err=%s", m->pattern,
                    mosquitto_strerror(rc));
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->nown; i++)
        mosquitto_subscribe(m->mosq, NULL, m->own[i].topic, 1);
    pthread_mutex_unlock(&m->mu);
}

static void
on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    struct mon_mqtt *m = obj;

    (void)mosq;
    if (rc != 0) {
        gu_log_warn("mon.mqtt_refused", "reason=%s",
                    mosquitto_connack_string(rc));
        return;
    }
    atomic_fetch_add(&m->connects, 1);
    atomic_store(&m->was_connected, true);
    gu_log_info("mon.mqtt_connected", "pattern=%s", m->pattern);
    subscribe_all(m);
}

static void
on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    struct mon_mqtt *m = obj;

    (void)mosq;
    /* a session that was up and is lost; failed attempts are the retry
       log's */
    if (rc != 0 && atomic_load(&m->was_connected))
        gu_log_warn("mon.mqtt_disconnected", "err=%s retry=auto",
                    mosquitto_strerror(rc));
}

/* libmosquitto's own errors (TLS handshake, refused socket): they name
   no payload. */
static void
on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
    struct mon_mqtt *m = obj;
    unsigned long k;

    (void)mosq;
    if (!(level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)))
        return;
    k = atomic_fetch_add(&m->lib_errors, 1) + 1;
    if (log_due(k))
        gu_log_warn("mon.mqtt_lib", "detail=\"%s\" count=%lu", str ? str : "",
                    k);
}

static void
on_message(struct mosquitto *mosq, void *obj,
           const struct mosquitto_message *msg)
{
    struct mon_mqtt *m = obj;
    struct gu_arena *a = NULL;
    struct store_conn *c = NULL;
    struct mon_ingest_result res;
    struct mon_meas *pts = NULL;
    struct gu_err err;
    char insee[6];
    int64_t sensor_id = 0, now = gu_now();
    size_t n = 0;
    unsigned long k;
    int rc;

    (void)mosq;
    memset(&err, 0, sizeof(err));
    atomic_fetch_add(&m->received, 1);
    if (!msg->topic || strlen(msg->topic) > TOPIC_MAX || msg->payloadlen <= 0 ||
        (size_t)msg->payloadlen > PAYLOAD_MAX) {
        k = atomic_fetch_add(&m->bad_payload, 1) + 1;
        if (log_due(k))
            gu_log_warn("mon.mqtt_bad", "why=size bytes=%d count=%lu",
                        msg->payloadlen, k);
        return;
    }
    if (!(a = gu_arena_new(4096)))
        return;
    if (store_acquire(m->store, &c, &err) < 0) {
        k = atomic_fetch_add(&m->failed, 1) + 1;
        if (log_due(k))
            gu_log_warn("mon.mqtt_store", "err=%s count=%lu", err.msg, k);
        goto out;
    }
    if (resolve(m, c, a, msg->topic, insee, &sensor_id) < 0) {
        k = atomic_fetch_add(&m->unknown_sensor, 1) + 1;
        if (log_due(k))
            gu_log_warn("mon.mqtt_unknown", "topic=%s count=%lu", msg->topic,
                        k);
        goto out;
    }
    rc = mon_mqtt_payload_parse(a, msg->payload, (size_t)msg->payloadlen,
                                mon_commune_tz(c, insee), now, &pts, &n);
    if (rc < 0) {
        k = atomic_fetch_add(&m->bad_payload, 1) + 1;
        if (log_due(k))
            gu_log_warn("mon.mqtt_bad",
                        "why=payload topic=%s bytes=%d "
                        "count=%lu",
                        msg->topic, msg->payloadlen, k);
        goto out;
    }
    rc = mon_ingest(c, insee, sensor_id, pts, n, now, &res, &err);
    if (rc == GU_ERATE) {
        k = atomic_fetch_add(&m->rate_limited, 1) + 1;
        if (log_due(k))
            gu_log_warn("mon.mqtt_rate", "topic=%s count=%lu", msg->topic, k);
    } else if (rc == GU_EINVAL || rc == GU_ECONFLICT || rc == GU_ETOOBIG ||
               rc == GU_ENOTFOUND) {
        k = atomic_fetch_add(&m->refused, 1) + 1;
        if (log_due(k))
            gu_log_warn("mon.mqtt_refused_points", "topic=%s why=%s count=%lu",
                        msg->topic, gu_status_name(rc), k);
    } else if (rc < 0) {
        k = atomic_fetch_add(&m->failed, 1) + 1;
        if (log_due(k))
            gu_log_warn("mon.mqtt_ingest", "topic=%s err=%s count=%lu",
                        msg->topic, err.msg, k);
    } else {
        atomic_fetch_add(&m->points, res.accepted + res.late);
        if (res.alerts_opened > 0)
            gu_log_info("mon.mqtt_alert", "topic=%s opened=%lld", msg->topic,
                        (long long)res.alerts_opened);
        if (res.rejected > 0 || res.duplicates > 0)
            gu_log_debug("mon.mqtt_points",
                         "topic=%s accepted=%zu late=%zu duplicates=%zu "
                         "rejected=%zu",
                         msg->topic, res.accepted, res.late, res.duplicates,
                         res.rejected);
    }
out:
    store_release(c);
    gu_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* Own topics (refresher thread)                                       */
/* ------------------------------------------------------------------ */

static int
topic_cmp(const void *pa, const void *pb)
{
    const struct own_topic *x = pa, *y = pb;
    int d = strcmp(x->topic, y->topic);

    if (d != 0)
        return d;
    return x->sensor_id < y->sensor_id ? -1 : x->sensor_id > y->sensor_id;
}

static bool
has_topic(const struct own_topic *o, size_t n, const char *t)
{
    struct own_topic key = {.topic = (char *)t};

    return n > 0 && bsearch(&key, o, n, sizeof(*o), topic_cmp) != NULL;
}

/* Read the own topics, swap them in, subscribe the new, unsubscribe the
   gone. */
static int
refresh(struct mon_mqtt *m)
{
    struct gu_arena *a = gu_arena_new(0);
    struct store_conn *c = NULL;
    struct store_rows *r = NULL;
    struct own_topic *fresh = NULL, *old;
    struct gu_err err;
    size_t n = 0, nold;
    int rc;

    memset(&err, 0, sizeof(err));
    if (!a)
        return GU_ENOMEM;
    rc = store_acquire(m->store, &c, &err);
    if (rc == 0)
        rc = store_query(c, a,
                         "SELECT topic, insee, id FROM mon_sensors WHERE"
                         " topic <> '' AND active = 1 ORDER BY id LIMIT ?",
                         (struct store_val[]){STORE_I(OWN_TOPICS_MAX)}, 1, &r,
                         &err);
    store_release(c);
    if (rc < 0) {
        gu_log_warn("mon.mqtt_refresh", "err=%s", err.msg);
        goto out;
    }
    if (r->nrows > 0 && !(fresh = gu_calloc(r->nrows, sizeof(*fresh)))) {
        rc = GU_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        const char *t = store_text(r, i, 0);
        char tin[6], tcode[MON_CODE_MAX + 1];
        /* Wildcards in an own topic would capture others' messages, and so
           would another commune's default topic. */
        if (!t || strlen(t) > TOPIC_MAX || strpbrk(t, "+#") ||
            (split_default(t, tin, tcode) == 0 &&
             strcmp(tin, store_text(r, i, 1)) != 0)) {
            gu_log_warn("mon.mqtt_topic_refused", "sensor=%lld",
                        (long long)store_int(r, i, 2));
            continue;
        }
        if (!(fresh[n].topic = gu_strdup(t))) {
            own_free(fresh, n);
            rc = GU_ENOMEM;
            goto out;
        }
        snprintf(fresh[n].insee, sizeof(fresh[n].insee), "%s",
                 store_text(r, i, 1));
        fresh[n].sensor_id = store_int(r, i, 2);
        n++;
    }
    if (n > 1) {
        size_t w = 1;
        qsort(fresh, n, sizeof(*fresh), topic_cmp);
        /* a topic shared by two sensors goes to the older one */
        for (size_t i = 1; i < n; i++) {
            if (strcmp(fresh[i].topic, fresh[w - 1].topic) == 0) {
                gu_log_warn("mon.mqtt_topic_taken", "sensor=%lld owner=%lld",
                            (long long)fresh[i].sensor_id,
                            (long long)fresh[w - 1].sensor_id);
                gu_free(fresh[i].topic);
                continue;
            }
            fresh[w++] = fresh[i];
        }
        n = w;
    }
    pthread_mutex_lock(&m->mu);
    old = m->own;
    nold = m->nown;
    m->own = fresh;
    m->nown = n;
    pthread_mutex_unlock(&m->mu);
    for (size_t i = 0; i < n; i++)
        if (!has_topic(old, nold, fresh[i].topic))
            mosquitto_subscribe(m->mosq, NULL, fresh[i].topic, 1);
    for (size_t i = 0; i < nold; i++)
        if (!has_topic(fresh, n, old[i].topic) &&
            strcmp(old[i].topic, m->pattern) != 0)
            mosquitto_unsubscribe(m->mosq, NULL, old[i].topic);
    own_free(old, nold);
out:
    gu_arena_free(a);
    return rc;
}

static void *
refresher_main(void *arg)
{
    struct mon_mqtt *m = arg;

    pthread_mutex_lock(&m->mu);
    while (!m->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += REFRESH_S;
        pthread_cond_timedwait(&m->cond, &m->mu, &until);
        if (m->stopping)
            break;
        pthread_mutex_unlock(&m->mu);
        refresh(m);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Start / stop                                                        */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Network thread                                                      */
/* ------------------------------------------------------------------ */

static bool
is_stopping(struct mon_mqtt *m)
{
    bool v;

    pthread_mutex_lock(&m->mu);
    v = m->stopping;
    pthread_mutex_unlock(&m->mu);
    return v;
}

/* Sleep up to secs, woken by a stop; true when stopping. */
static bool
wait_stop(struct mon_mqtt *m, unsigned secs)
{
    struct timespec until;
    bool v;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += secs;
    pthread_mutex_lock(&m->mu);
    while (!m->stopping &&
           pthread_cond_timedwait(&m->cond, &m->mu, &until) == 0)
        ;
    v = m->stopping;
    pthread_mutex_unlock(&m->mu);
    return v;
}

static void *
net_main(void *arg)
{
    struct mon_mqtt *m = arg;
    unsigned delay = 1, quiet = 0;
    unsigned long k;
    int rc;

    while (!is_stopping(m)) {
        /* connect_async: a non-blocking connect, completed by the loop */
        rc = mosquitto_connect_async(m->mosq, m->host, m->port, KEEPALIVE_S);
        while (rc == MOSQ_ERR_SUCCESS && !is_stopping(m))
            rc = mosquitto_loop(m->mosq, 1000, 1);
        if (is_stopping(m))
            break;
        if (atomic_exchange(&m->was_connected, false)) {
            delay = 1;
            quiet = 0;
        }
        k = atomic_fetch_add(&m->retries, 1) + 1;
        /* every attempt while backing off, then one in ten (10 min) */
        if (delay < 60 || ++quiet % 10 == 1)
            gu_log_warn("mon.mqtt_retry", "host=%s err=%s delay_s=%u count=%lu",
                        m->host,
                        rc == MOSQ_ERR_ERRNO ? strerror(errno)
                                             : mosquitto_strerror(rc),
                        delay, k);
        if (wait_stop(m, delay))
            break;
        delay = delay >= 30 ? 60 : delay * 2;
    }
    /* a clean DISCONNECT for the broker when connected */
    if (mosquitto_disconnect(m->mosq) == MOSQ_ERR_SUCCESS)
        mosquitto_loop(m->mosq, 200, 1);
    return NULL;
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void
lib_init(void)
{
    mosquitto_lib_init();
}

/* The first line of a password file, without its end of line. */
static int
read_password(const char *path, char *buf, size_t cap, struct gu_err *err)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return gu_err_set(err, GU_ECONFIG, "monitor.mqtt_password_file",
                          "Le fichier du mot de passe MQTT est illisible.",
                          "mqtt password file %s: %s", path, strerror(errno));
    if (!fgets(buf, (int)cap, f))
        buf[0] = '\0';
    fclose(f);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

static void
public_base(struct store *s, const struct gu_config *cfg)
{
    struct gu_arena *a = gu_arena_new(0);
    const char *base = a ? gu_public_base(a, cfg) : NULL;

    mon_public_base_set(s, base ? base : "");
    gu_arena_free(a);
}

int
mon_mqtt_start(struct store *s, const struct gu_config *cfg,
               struct mon_mqtt **out, struct gu_err *err)
{
    const char *host = gu_config_str(cfg, "monitor.mqtt_host");
    const char *user = gu_config_str(cfg, "monitor.mqtt_user");
    const char *pwfile = gu_config_str(cfg, "monitor.mqtt_password_file");
    const char *cafile = gu_config_str(cfg, "monitor.mqtt_cafile");
    char client_id[64], pw[256];
    struct mon_mqtt *m = NULL;
    int rc = 0, mrc;

    *out = NULL;
    public_base(s, cfg);
    if (!host || !*host)
        return 0;
    pthread_once(&lib_once, lib_init);
    if (!(m = gu_calloc(1, sizeof(*m))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    m->store = s;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cond, NULL);
    m->port = (int)gu_config_int(cfg, "monitor.mqtt_port");
    if (!(m->host = gu_strdup(host)) ||
        !(m->pattern = gu_strdup(gu_config_str(cfg, "monitor.mqtt_topic")))) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto fail;
    }
    if (*gu_config_str(cfg, "monitor.mqtt_client_id"))
        snprintf(client_id, sizeof(client_id), "%s",
                 gu_config_str(cfg, "monitor.mqtt_client_id"));
    else
        snprintf(client_id, sizeof(client_id), "guichet-%ld", (long)getpid());
    if (!(m->mosq = mosquitto_new(client_id, true, m))) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "mosquitto_new");
        goto fail;
    }
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
                         MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_message_callback_set(m->mosq, on_message);
    mosquitto_log_callback_set(m->mosq, on_log);
    /* subscriptions come from the refresher thread too */
    mosquitto_threaded_set(m->mosq, true);
    if (*user) {
        pw[0] = '\0';
        if (*pwfile && (rc = read_password(pwfile, pw, sizeof(pw), err)) < 0)
            goto fail;
        mrc = mosquitto_username_pw_set(m->mosq, user, *pw ? pw : NULL);
        explicit_bzero(pw, sizeof(pw));
        if (mrc != MOSQ_ERR_SUCCESS) {
            rc = gu_err_set(err, GU_ECONFIG, "monitor.mqtt_user",
                            "Identifiant MQTT refusé.", "username_pw_set: %s",
                            mosquitto_strerror(mrc));
            goto fail;
        }
    }
    if (gu_config_bool(cfg, "monitor.mqtt_tls")) {
        mrc = mosquitto_tls_set(m->mosq, *cafile ? cafile : NULL,
                                *cafile ? NULL : "/etc/ssl/certs", NULL, NULL,
                                NULL);
        if (mrc != MOSQ_ERR_SUCCESS) {
            rc = gu_err_set(err, GU_ECONFIG, "monitor.mqtt_cafile",
                            "Réglage TLS MQTT refusé (certificat de "
                            "l'autorité ?).",
                            "tls_set: %s", mosquitto_strerror(mrc));
            goto fail;
        }
    }
    refresh(m);
    /* An unreachable broker is not fatal: the thread keeps retrying. */
    if (pthread_create(&m->net, NULL, net_main, m) != 0) {
        rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL, "pthread_create");
        goto fail;
    }
    m->net_started = true;
    if (pthread_create(&m->refresher, NULL, refresher_main, m) != 0) {
        rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL, "pthread_create");
        goto fail;
    }
    m->refresher_started = true;
    gu_log_info("mon.mqtt_start", "host=%s port=%ld pattern=%s tls=%d", host,
                gu_config_int(cfg, "monitor.mqtt_port"), m->pattern,
                gu_config_bool(cfg, "monitor.mqtt_tls") ? 1 : 0);
    *out = m;
    return 0;
fail:
    if (m->net_started) {
        pthread_mutex_lock(&m->mu);
        m->stopping = true;
        pthread_cond_broadcast(&m->cond);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->net, NULL);
    }
    if (m->mosq)
        mosquitto_destroy(m->mosq);
    gu_free(m->host);
    gu_free(m->pattern);
    own_free(m->own, m->nown);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->mu);
    gu_free(m);
    return rc;
}

void
mon_mqtt_stop(struct mon_mqtt *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stopping = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->mu);
    if (m->refresher_started)
        pthread_join(m->refresher, NULL);
    if (m->net_started)
        pthread_join(m->net, NULL);
    gu_log_info("mon.mqtt_stop",
                "connects=%lu received=%lu points=%lu bad=%lu unknown=%lu "
                "refused=%lu rate_limited=%lu failed=%lu lib_errors=%lu "
                "retries=%lu",
                atomic_load(&m->connects), atomic_load(&m->received),
                atomic_load(&m->points), atomic_load(&m->bad_payload),
                atomic_load(&m->unknown_sensor), atomic_load(&m->refused),
                atomic_load(&m->rate_limited), atomic_load(&m->failed),
                atomic_load(&m->lib_errors), atomic_load(&m->retries));
    mosquitto_destroy(m->mosq);
    gu_free(m->host);
    gu_free(m->pattern);
    own_free(m->own, m->nown);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->mu);
    gu_free(m);
}
