#!/bin/bash
# bench/http.sh - throughput and latency of guichet beside nginx.
#
#   bench/http.sh            (or `make bench`; BUILD=dir, BENCH_SECONDS=10)
#
# Builds if needed, creates a temporary demo instance, starts guichet on a
# free loopback port (access log off, default thread count) and nginx
# serving a small static file on another, then runs
# `wrk -t2 -c64 -d10s --latency` against nginx's file, guichet's /healthz
# and an authenticated JSON GET (Bearer API token on /api/v1/commune).
# Prints requests/s, p50 and p99 beside nginx (the reference for what this
# box can do in the same run) and the idle server's resident memory.
#
# Figures only, never pass/fail. Everything started here is stopped on
# exit. Loopback addresses only.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=$BUILD/guichet
SECONDS_RUN=${BENCH_SECONDS:-10}
THREADS=2
CONNS=64

for tool in wrk nginx curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench : $tool introuvable ; installez-le : scripts/deps.sh --test" >&2
        exit 1
    fi
done

make --no-print-directory build BUILD="$BUILD" >/dev/null

TMP=$(mktemp -d "${TMPDIR:-/tmp}/guichet-bench.XXXXXX")
GUICHET_PID=""
NGINX_PID_FILE="$TMP/nginx/nginx.pid"

cleanup() {
    if [ -n "$GUICHET_PID" ]; then
        kill -TERM "$GUICHET_PID" 2>/dev/null || true
        wait "$GUICHET_PID" 2>/dev/null || true
    fi
    if [ -s "$NGINX_PID_FILE" ]; then
        kill -QUIT "$(cat "$NGINX_PID_FILE")" 2>/dev/null || true
        for _ in $(seq 1 50); do
            [ -e "$NGINX_PID_FILE" ] || break
            sleep 0.1
        done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# A loopback TCP port nobody listens on.
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        if [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# ----- guichet -----
# Environment settings of the caller must not skew the run.
for v in $(env | sed -n 's/^\(GUICHET_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
"$BIN" --data "$TMP/var" --set log.level=warn init --demo >/dev/null
TOKEN=$("$BIN" --data "$TMP/var" --set log.level=warn token add bench \
    --role admin |
    sed -n 's/^Secret .*: \(gu_[^ ]*\)$/\1/p')
"$BIN" --data "$TMP/var" --set log.access=false --set log.level=warn \
    serve --listen 127.0.0.1:0 >"$TMP/guichet.out" 2>"$TMP/guichet.err" &
GUICHET_PID=$!
URL=""
for _ in $(seq 1 100); do
    URL=$(sed -n 's|.*sert \(http://127\.0\.0\.1:[0-9]*\)/.*|\1|p' "$TMP/guichet.out")
    [ -n "$URL" ] && break
    sleep 0.1
done
if [ -z "$URL" ]; then
    echo "bench : guichet n'a pas démarré :" >&2
    cat "$TMP/guichet.err" >&2
    exit 1
fi

# ----- nginx, with its own configuration, pid and logs in $TMP -----
NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx/www" "$TMP/nginx/tmp"
printf '{"status":"ok"}\n' >"$TMP/nginx/www/healthz.json"
# Workers may run as nobody (nginx started as root): let them read.
chmod 755 "$TMP" "$TMP/nginx" "$TMP/nginx/www"
chmod 644 "$TMP/nginx/www/healthz.json"
temp_paths="client_body_temp_path $TMP/nginx/tmp/body; proxy_temp_path $TMP/nginx/tmp/proxy;"
for m in fastcgi uwsgi scgi; do
    if ! nginx -V 2>&1 | grep -q -- "--without-http_${m}_module"; then
        temp_paths="$temp_paths ${m}_temp_path $TMP/nginx/tmp/$m;"
    fi
done
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $NGINX_PID_FILE;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    $temp_paths
    default_type application/json;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/nginx/www;
    }
}
CONF
nginx -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf"
NGINX_URL="http://127.0.0.1:$NGINX_PORT/healthz.json"
for _ in $(seq 1 50); do
    curl -sf -o /dev/null "$NGINX_URL" && break
    sleep 0.1
done

# ----- checks before measuring (a benchmark of 401s means nothing) -----
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
s_nginx=$(status "$NGINX_URL")
s_health=$(status "$URL/healthz")
s_api=$(status -H "Authorization: Bearer $TOKEN" "$URL/api/v1/commune")
for pair in "nginx:$s_nginx" "/healthz:$s_health" "/api/v1/commune:$s_api"; do
    [ "${pair##*:}" = 200 ] ||
        echo "bench : attention, ${pair%:*} répond ${pair##*:} (200 attendu)" >&2
done

# Idle resident memory, before any load.
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
RSS_IDLE=$(rss_kb "$GUICHET_PID")

# ----- measurements -----
# wrk latency figures ("850.00us", "1.20ms", "1.02s") in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000
        else if (v ~ /ms$/) n = n
        else if (v ~ /m$/) n *= 60000
        else if (v ~ /s$/) n *= 1000
        printf "%.2f", n }'
}

# run NAME URL [wrk args...]: sets RPS, P50, P99, ERRS.
run() {
    local out
    shift
    local url=$1
    shift
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_RUN}s" --latency "$@" "$url")
    RPS=$(echo "$out" | awk '/^Requests\/sec:/ { printf "%.0f", $2 }')
    P50=$(to_ms "$(echo "$out" | awk '$1 == "50%" { print $2 }')")
    P99=$(to_ms "$(echo "$out" | awk '$1 == "99%" { print $2 }')")
    ERRS=$(echo "$out" | awk '/Non-2xx or 3xx responses:/ { print $NF }')
    ERRS=${ERRS:-0}
}

echo "Mesure : wrk -t$THREADS -c$CONNS -d${SECONDS_RUN}s --latency, $(nproc) cœurs, boucle locale."
run nginx "$NGINX_URL"
N_RPS=$RPS N_P50=$P50 N_P99=$P99
run healthz "$URL/healthz"
H_RPS=$RPS H_P50=$P50 H_P99=$P99 H_ERR=$ERRS
run api "$URL/api/v1/commune" -H "Authorization: Bearer $TOKEN"
A_RPS=$RPS A_P50=$P50 A_P99=$P99 A_ERR=$ERRS
RSS_AFTER=$(rss_kb "$GUICHET_PID")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else print "-" }'; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

echo
printf '%-34s %10s %10s %10s %14s %12s\n' "cible" "req/s" "p50 (ms)" "p99 (ms)" "req/s/nginx" "p99/nginx"
printf '%-34s %10s %10s %10s %14s %12s\n' "nginx, fichier statique" "$N_RPS" "$N_P50" "$N_P99" "100 %" "1.00x"
printf '%-34s %10s %10s %10s %14s %12s\n' "guichet GET /healthz" "$H_RPS" "$H_P50" "$H_P99" \
    "$(ratio "$H_RPS" "$N_RPS")" "$(times "$H_P99" "$N_P99")"
printf '%-34s %10s %10s %10s %14s %12s\n' "guichet GET /api/v1/commune (jeton)" "$A_RPS" "$A_P50" "$A_P99" \
    "$(ratio "$A_RPS" "$N_RPS")" "$(times "$A_P99" "$N_P99")"
echo
echo "Objectifs : /healthz ≥ 50 % des req/s de nginx ; p99 ≤ 2x celui de nginx."
[ "$H_ERR" = 0 ] || echo "Réponses non 2xx sur /healthz : $H_ERR"
[ "$A_ERR" = 0 ] || echo "Réponses non 2xx sur /api/v1/commune : $A_ERR"
awk -v k="$RSS_IDLE" -v a="$RSS_AFTER" 'BEGIN {
    printf "Mémoire résidente de guichet au repos : %.1f Mo (objectif < 20 Mo) ; après la charge : %.1f Mo\n",
        k / 1024, a / 1024 }'
