#!/bin/bash
# test_mqtt.sh - measurements by MQTT end to end: Debian's mosquitto broker
# on a free port of 127.0.0.1 (temporary configuration, a password file),
# a real `guichet serve` subscribed to it ([monitor] settings), messages
# published with mosquitto_pub, checked through the JSON API.
#
#   tests/mqtt/test_mqtt.sh [path/to/guichet]     (default: build/guichet)
#
# 0. Guichet starts while the broker is down: it retries, then connects.
# 1. A commune, an agent token, an asset with a flow sensor (default topic
#    guichet/{insee}/capteurs/{code}) and a meter on its own topic.
# 2. Published: a JSON array of two days of history, a JSON object with a
#    spike, bare numbers (measured on receipt), a bad payload, a message
#    for an unknown sensor and one for another commune's topic: the points
#    arrive, duplicates are not stored twice, the spike opens exactly one
#    alert, the bad messages are counted in the log without their payload
#    and the server keeps serving.
# 3. The meter's own topic, created after the start, is subscribed by the
#    periodic refresh (30 s) and its messages arrive.
# 4. The broker is stopped and started again on the same port: the
#    subscription reconnects by itself and new messages arrive.
# 5. SIGTERM: `guichet serve` stops cleanly (exit 0, counters logged).
# 6. Over TLS (a self-signed certificate for 127.0.0.1 given as the
#    authority): the subscription works and stops cleanly.
# Prints "N passed, N failed" and exits non-zero on any failure.
set -u

cd "$(dirname "$0")/../.."
. tests/lib.sh
th_init mqtt "${1:-build/guichet}"
BROKER_PID=""
SERVER_PID=""
RC=-

th_cleanup_hook() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
    [ -n "$BROKER_PID" ] && kill -TERM "$BROKER_PID" 2>/dev/null
}

export GUICHET_LOG_LEVEL=info

for b in mosquitto mosquitto_pub mosquitto_passwd curl openssl sqlite3; do
    if ! command -v "$b" >/dev/null && ! [ -x "/usr/sbin/$b" ]; then
        echo "$b est nécessaire (scripts/deps.sh --test)" >&2
        exit 1
    fi
done
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

# A free TCP port of 127.0.0.1.
PORT=$("$PY" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')

TLS_PORT=$("$PY" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')

# ----- broker ----------------------------------------------------------
# A self-signed certificate for 127.0.0.1 (its own authority) for the TLS
# listener.
if ! openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/tls.key" \
    -out "$TMP/tls.crt" 2>"$TMP/err" >/dev/null; then
    ko "certificat TLS de test"
fi
MQ_USER=guichet
MQ_PASS="mot-de-passe-$$"
mosquitto_passwd -b -c "$TMP/mq.passwd" "$MQ_USER" "$MQ_PASS" 2>"$TMP/err"
mosquitto_passwd -b "$TMP/mq.passwd" capteur capteur-pass 2>>"$TMP/err"
chmod 600 "$TMP/mq.passwd"
# "user": run as root, mosquitto would switch to its own account, which
# cannot read this temporary directory.
cat >"$TMP/mosquitto.conf" <<CONF
user $(id -un)
listener $PORT 127.0.0.1
allow_anonymous false
password_file $TMP/mq.passwd
persistence false
log_dest stderr
listener $TLS_PORT 127.0.0.1
certfile $TMP/tls.crt
keyfile $TMP/tls.key
CONF
printf '%s\n' "$MQ_PASS" >"$TMP/guichet.mqpass"
chmod 600 "$TMP/guichet.mqpass"

start_broker() {
    "$MOSQUITTO" -c "$TMP/mosquitto.conf" >>"$TMP/broker.log" 2>&1 &
    BROKER_PID=$!
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "mosquitto ne démarre pas :" >&2
    cat "$TMP/broker.log" >&2
    exit 1
}
stop_broker() {
    kill -TERM "$BROKER_PID"
    wait "$BROKER_PID" 2>/dev/null
    BROKER_PID=""
}
pub() { # pub TOPIC MESSAGE
    mosquitto_pub -h 127.0.0.1 -p "$PORT" -u capteur -P capteur-pass -q 1 \
        -t "$1" -m "$2"
}
pub_file() { # pub_file TOPIC FILE
    mosquitto_pub -h 127.0.0.1 -p "$PORT" -u capteur -P capteur-pass -q 1 \
        -t "$1" -f "$2"
}

# ----- guichet ---------------------------------------------------------
# start_serve [SETTINGS...]: plain MQTT unless settings say otherwise.
start_serve() {
    "$BIN" --data "$D" --set "monitor.mqtt_host=127.0.0.1" \
        --set "monitor.mqtt_port=$PORT" --set "monitor.mqtt_user=$MQ_USER" \
        --set "monitor.mqtt_password_file=$TMP/guichet.mqpass" "$@" \
        serve --listen 127.0.0.1:0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
    SERVER_PID=$!
    URL=""
    for _ in $(seq 1 150); do
        URL=$(sed -n 's|.*sert \(http://[^ ]*/\).*|\1|p' "$TMP/serve.out")
        [ -n "$URL" ] && return 0
        sleep 0.1
    done
    echo "guichet serve ne démarre pas :" >&2
    cat "$TMP/serve.err" >&2
    exit 1
}
api() { # api METHOD PATH [JSON]: body in $TMP/out, status in RC
    if [ $# -ge 3 ]; then
        RC=$(curl -s -o "$TMP/out" -w '%{http_code}' -X "$1" \
            -H "Authorization: Bearer $TOKEN" \
            -H 'Content-Type: application/json' -d "$3" "${URL}${2#/}")
    else
        RC=$(curl -s -o "$TMP/out" -w '%{http_code}' -X "$1" \
            -H "Authorization: Bearer $TOKEN" "${URL}${2#/}")
    fi
}
jq_() { # jq_ PYEXPR: evaluate on the JSON in $TMP/out (as j)
    "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$TMP/out" "$1" 2>/dev/null
}
# wait_for DESC SECONDS METHOD PATH PYEXPR: poll until PYEXPR is True
wait_for() {
    local desc=$1 secs=$2 method=$3 path=$4 expr=$5 v=""
    for _ in $(seq $((secs * 4))); do
        api "$method" "$path"
        v=$(jq_ "$expr")
        [ "$v" = True ] && { ok; return 0; }
        sleep 0.25
    done
    cp "$TMP/serve.err" "$TMP/err"
    ko "$desc"
    return 1
}

g --data "$D" init --insee 99001 --name "Saint-Test-sur-Loire" --zone B
expect_rc "init 99001" 0
g --data "$D" init --insee 99002 --name "Autre-Commune" --zone A \
    --admin admin2
expect_rc "init 99002" 0
g --data "$D" token add capteurs --role agent --commune 99001
expect_rc "token add" 0
TOKEN=$(sed -n 's/^Secret.* : *//p' "$TMP/out")
if [ -n "$TOKEN" ]; then ok; else ko "secret du jeton"; fi
g --data "$D" token add autre --role admin --commune 99002
expect_rc "token add (99002)" 0
TOKEN2=$(sed -n 's/^Secret.* : *//p' "$TMP/out")

# Guichet first: the broker is down when it starts, it retries until the
# broker is up (a subscription made after a publish would miss it, so the
# test waits for the connection).
start_serve
sleep 2
start_broker
conn=""
for _ in $(seq 150); do
    grep -q 'mon.mqtt_connected' "$TMP/serve.err" && { conn=1; break; }
    sleep 0.1
done
if [ -n "$conn" ] && grep -q 'mon.mqtt_retry' "$TMP/serve.err"; then ok; else
    cp "$TMP/serve.err" "$TMP/err"
    ko "courtier absent au démarrage : nouvel essai puis connexion"
fi

# ----- 1. asset and sensors --------------------------------------------
api POST /api/v1/monitor/assets \
    '{"name":"Réservoir du Bourg","kind":"reservoir"}'
AID=$(jq_ 'j["id"]')
if [ "$RC" = 201 ] && [ -n "$AID" ]; then ok; else ko "équipement créé"; fi
api POST /api/v1/monitor/sensors \
    "{\"asset_id\":$AID,\"code\":\"debit-sortant\",\"name\":\"Débit sortant\",\"unit\":\"m³/h\",\"quantity\":\"debit\"}"
if [ "$RC" = 201 ]; then ok; else ko "capteur de débit créé"; fi

# ----- 2. default topic: history, spike, numbers, bad messages ---------
NOW=$(date +%s)
T0=$((NOW - 2 * 86400 - 3600))
T0=$((T0 - T0 % 600))
# Two days every 10 minutes of a calm, slightly wavy flow (288 points).
"$PY" - "$T0" >"$TMP/history.json" <<'PYEOF'
import json, math, sys
t0 = int(sys.argv[1])
pts = []
for i in range(288):
    v = 3.0 + 0.4 * math.sin(i * 2 * math.pi / 144) + 0.05 * ((i * 7919) % 11 - 5) / 5
    pts.append({"t": t0 + 600 * i, "v": round(v, 3)})
print(json.dumps(pts))
PYEOF
LAST_HIST=$((T0 + 600 * 287))
pub_file guichet/99001/capteurs/debit-sortant "$TMP/history.json"
wait_for "l'historique (tableau JSON) arrive : 288 mesures" 20 \
    GET /api/v1/monitor/sensors/debit-sortant 'j["points"] == 288'

# The same history again: duplicates, nothing stored twice.
pub_file guichet/99001/capteurs/debit-sortant "$TMP/history.json"
# A bad payload and an unknown sensor: counted, never fatal.
pub guichet/99001/capteurs/debit-sortant "charge-utile-illisible-4242"
pub guichet/99001/capteurs/capteur-inconnu "3.2"
pub guichet/99002/capteurs/debit-sortant "3.2"
pub guichet/99001/capteurs/debit-sortant '{"t":"hier","v":1}'
# The spike, ten minutes after the history (a JSON object, ISO 8601 time).
SPIKE_T=$((LAST_HIST + 600))
SPIKE_ISO=$(date -u -d "@$SPIKE_T" +%Y-%m-%dT%H:%M:%SZ)
pub guichet/99001/capteurs/debit-sortant "{\"t\":\"$SPIKE_ISO\",\"v\":95.0}"
pub guichet/99001/capteurs/debit-sortant "{\"t\":$((SPIKE_T + 600)),\"v\":96.5}"
wait_for "le pic arrive (objets JSON)" 20 \
    GET /api/v1/monitor/sensors/debit-sortant 'j["points"] == 290'
wait_for "le pic ouvre exactement une alerte" 10 \
    GET "/api/v1/monitor/alerts?sensor=$(jq_ 'j["id"]')" \
    'len(j["alerts"]) == 1 and j["alerts"][0]["status"] == "ouverte" and j["alerts"][0]["value"] > 90'
api GET /api/v1/monitor/alerts
EXPL=$(jq_ 'j["alerts"][0]["explanation"]')
if echo "$EXPL" | grep -q "Débit sortant"; then ok; else
    ko "l'alerte est expliquée en français ($EXPL)"
fi
if [ "$(jq_ 'len(j["alerts"])')" = 1 ]; then ok; else
    ko "une seule alerte dans la commune"
fi

# A bare number is measured on receipt.
pub guichet/99001/capteurs/debit-sortant "3,1"
wait_for "un nombre seul (décimale française) arrive, mesuré à réception" \
    20 GET /api/v1/monitor/sensors/debit-sortant \
    "j['points'] == 291 and abs(__import__('datetime').datetime.fromisoformat(j['last_t'].replace('Z','+00:00')).timestamp() - $(date +%s)) < 120"

# The server still serves, the log counts the bad ones without payloads.
api GET /api/v1/monitor/assets
if [ "$RC" = 200 ]; then ok; else ko "le serveur sert toujours"; fi
if grep -q 'mon.mqtt_bad' "$TMP/serve.err" &&
    grep -q 'mon.mqtt_unknown' "$TMP/serve.err"; then ok; else
    cp "$TMP/serve.err" "$TMP/err"
    ko "messages illisibles et capteurs inconnus journalisés"
fi
if grep -q 'charge-utile-illisible-4242' "$TMP/serve.err"; then
    cp "$TMP/serve.err" "$TMP/err"
    ko "le contenu d'un message ne va jamais au journal"
else ok; fi

# ----- 3. a sensor's own topic, picked up by the periodic refresh ------
# Another commune tries to take 99001's default topic as its own topic:
# refused at save (422), and by the subscription for a row that holds one
# anyway (written here straight into the database, as an older version or
# a hand edit could have): it would capture 99001's measurements.
TOKEN1=$TOKEN
TOKEN=$TOKEN2
api POST /api/v1/monitor/assets '{"name":"Pompe voisine","kind":"pompe"}'
AID2=$(jq_ 'j["id"]')
api POST /api/v1/monitor/sensors \
    "{\"asset_id\":$AID2,\"code\":\"intrus\",\"name\":\"Intrus\",\"topic\":\"guichet/99001/capteurs/debit-sortant\"}"
if [ "$RC" = 422 ] && [ "$(jq_ 'j["champ"]')" = topic ]; then ok; else
    ko "le sujet d'une autre commune est refusé à l'enregistrement ($RC)"
fi
api POST /api/v1/monitor/sensors \
    "{\"asset_id\":$AID2,\"code\":\"intrus\",\"name\":\"Intrus\"}"
if [ "$RC" = 201 ]; then ok; else ko "capteur de 99002 créé"; fi
sqlite3 "$D/guichet.db" "PRAGMA busy_timeout=5000; UPDATE mon_sensors SET topic = 'guichet/99001/capteurs/debit-sortant' WHERE insee = '99002' AND code = 'intrus';" >/dev/null
if [ "$(sqlite3 "$D/guichet.db" "SELECT topic FROM mon_sensors WHERE insee = '99002' AND code = 'intrus';")" = guichet/99001/capteurs/debit-sortant ]; then ok; else
    ko "sujet écrit dans la base"
fi
TOKEN=$TOKEN1
api POST /api/v1/monitor/sensors \
    "{\"asset_id\":$AID,\"code\":\"compteur-42\",\"name\":\"Compteur 42\",\"unit\":\"m³\",\"topic\":\"usine/lora/compteur-42\"}"
if [ "$RC" = 201 ]; then ok; else ko "capteur à sujet propre créé"; fi
got=""
for i in $(seq 45); do
    pub usine/lora/compteur-42 "{\"t\":$((NOW - 3600 + i)),\"v\":$i.5}"
    api GET /api/v1/monitor/sensors/compteur-42
    if [ "$(jq_ 'j["points"] > 0')" = True ]; then got=1; break; fi
    sleep 1
done
if [ -n "$got" ]; then ok; else
    cp "$TMP/serve.err" "$TMP/err"; ko "le sujet propre est abonné (rafraîchi)"
fi
# The refresh has run: 99001's topic still goes to 99001's sensor only.
api GET /api/v1/monitor/sensors/debit-sortant
BEFORE=$(jq_ 'j["points"]')
pub guichet/99001/capteurs/debit-sortant "{\"t\":$((SPIKE_T + 1000)),\"v\":3.0}"
wait_for "le sujet par défaut reste à sa commune" 20 \
    GET /api/v1/monitor/sensors/debit-sortant "j['points'] == $BEFORE + 1"
TOKEN=$TOKEN2
api GET /api/v1/monitor/sensors/intrus
if [ "$(jq_ 'j["points"]')" = 0 ]; then ok; else
    ko "une autre commune ne capte pas le sujet de 99001"
fi
TOKEN=$TOKEN1
if grep -q 'mon.mqtt_topic_refused' "$TMP/serve.err"; then ok; else
    cp "$TMP/serve.err" "$TMP/err"; ko "sujet d'une autre commune refusé, journalisé"
fi

# ----- 4. the broker restarts: the subscription reconnects -------------
api GET /api/v1/monitor/sensors/debit-sortant
BEFORE=$(jq_ 'j["points"]')
stop_broker
sleep 1
start_broker
got=""
for i in $(seq 60); do
    pub guichet/99001/capteurs/debit-sortant \
        "{\"t\":$((SPIKE_T + 1200 + i)),\"v\":3.0}" 2>/dev/null
    api GET /api/v1/monitor/sensors/debit-sortant
    if [ "$(jq_ "j['points'] > $BEFORE")" = True ]; then got=1; break; fi
    sleep 1
done
if [ -n "$got" ]; then ok; else
    cp "$TMP/serve.err" "$TMP/err"; ko "reconnexion au courtier redémarré"
fi
if grep -c 'mon.mqtt_connected' "$TMP/serve.err" | grep -q '^[2-9]'; then
    ok
else
    cp "$TMP/serve.err" "$TMP/err"; ko "deux connexions journalisées"
fi

# ----- 5. clean stop ---------------------------------------------------
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
RC=$?
SERVER_PID=""
cp "$TMP/serve.err" "$TMP/err"
expect_rc "serve : arrêt propre" 0
if grep -q 'mon.mqtt_stop.*received=' "$TMP/serve.err"; then ok; else
    ko "compteurs MQTT journalisés à l'arrêt"
fi

# ----- 6. TLS: the broker's certificate checked against the given CA ---
start_serve --set "monitor.mqtt_port=$TLS_PORT" --set monitor.mqtt_tls=true \
    --set "monitor.mqtt_cafile=$TMP/tls.crt"
got=""
for i in $(seq 30); do
    pub guichet/99001/capteurs/compteur-42 "{\"t\":$((NOW - 1800 + i)),\"v\":7}"
    api GET "/api/v1/monitor/sensors/compteur-42/points?from=$((NOW - 1800))&to=$((NOW - 1700))"
    if [ "$(jq_ 'j["count"] > 0')" = True ]; then got=1; break; fi
    sleep 1
done
if [ -n "$got" ]; then ok; else
    cp "$TMP/serve.err" "$TMP/err"; ko "abonnement en TLS (autorité vérifiée)"
fi
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
RC=$?
SERVER_PID=""
cp "$TMP/serve.err" "$TMP/err"
expect_rc "serve (TLS) : arrêt propre" 0

th_done
