#!/bin/sh
# nodes.sh - several `guichet serve` nodes on ONE database, with nginx in
# front, on this machine: for the cluster tests (tests/cluster/), the
# scale bench (bench/scale/) and trying the deployment of docs/scale.md.
#
#   scripts/nodes.sh start N     migrate + demo commune (once), N nodes on
#                                ports FIRST_PORT.. (8081..), nginx on
#                                NGINX_PORT (8080; "none" = no nginx)
#   scripts/nodes.sh stop        stop nodes (SIGTERM) and nginx
#   scripts/nodes.sh kill K      kill -9 node K (a node dying mid-load)
#   scripts/nodes.sh status      what runs, one line each
#
# Environment (all optional):
#   BUILD       build directory holding `guichet` (build-nodes-rel, else
#               build-nodes, else build)
#   NODES_DIR   working directory: per-node data dirs, logs, pids, nginx
#               (/tmp/guichet-nodes)
#   STORE_URL   the shared database (sqlite:$NODES_DIR/guichet.db;
#               postgres:dbname=... once the backend is there)
#   FIRST_PORT  first node's port (8081); NGINX_PORT (8080)
#   NODE_SETS   extra "--set key=value" options given to every node
#
# Each node is an ordinary `guichet serve` with its own paths.data and the
# shared store.url, behind nginx with server.trust_proxy = true.
set -eu
cd "$(dirname "$0")/.."

if [ -z "${BUILD:-}" ]; then
    for b in build-nodes-rel build-nodes build; do
        [ -x "$b/guichet" ] && BUILD=$b && break
    done
fi
BIN=$(realpath "${BUILD:-build}/guichet")
D=${NODES_DIR:-/tmp/guichet-nodes}
URL=${STORE_URL:-sqlite:$D/guichet.db}
FIRST_PORT=${FIRST_PORT:-8081}
NGINX_PORT=${NGINX_PORT:-8080}
NODE_SETS=${NODE_SETS:-}

die() { echo "nodes.sh : $*" >&2; exit 1; }

guichet() {
    # shellcheck disable=SC2086 # NODE_SETS is a list of options
    "$BIN" --data "$D/node1" --set "store.url=$URL" $NODE_SETS "$@"
}

wait_http() { # PORT: until /healthz answers (10 s)
    for _ in $(seq 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$1/healthz" 2>/dev/null &&
            return 0
        sleep 0.1
    done
    return 1
}

nginx_conf() { # N
    mkdir -p "$D/nginx/logs" "$D/nginx/cache" "$D/nginx/tmp"
    {
        echo "worker_processes 1;"
        echo "pid $D/nginx/nginx.pid;"
        echo "error_log $D/nginx/logs/error.log warn;"
        echo "events { worker_connections 4096; }"
        echo "http {"
        echo "  access_log off;"
        echo "  client_body_temp_path $D/nginx/tmp/body;"
        echo "  proxy_temp_path $D/nginx/tmp/proxy;"
        echo "  fastcgi_temp_path $D/nginx/tmp/fcgi;"
        echo "  uwsgi_temp_path $D/nginx/tmp/uwsgi;"
        echo "  scgi_temp_path $D/nginx/tmp/scgi;"
        echo "  proxy_cache_path $D/nginx/cache keys_zone=guichet_static:1m" \
             "max_size=50m inactive=1h use_temp_path=off;"
        echo "  upstream guichet_nodes {"
        echo "    least_conn;"
        i=1
        while [ "$i" -le "$1" ]; do
            echo "    server 127.0.0.1:$((FIRST_PORT + i - 1))" \
                 "max_fails=1 fail_timeout=2s;"
            i=$((i + 1))
        done
        echo "    keepalive 64;"
        echo "    keepalive_requests 100000;"
        echo "  }"
        echo "  server {"
        echo "    listen 127.0.0.1:$NGINX_PORT;"
        echo "    client_max_body_size 2m;"
        echo "    proxy_http_version 1.1;"
        echo "    proxy_set_header Connection \"\";"
        echo "    proxy_set_header Host \$host;"
        echo "    proxy_set_header X-Forwarded-For \$remote_addr;"
        echo "    proxy_set_header X-Forwarded-Proto \$scheme;"
        echo "    proxy_set_header X-Request-Id \$request_id;"
        echo "    proxy_connect_timeout 2s;"
        echo "    proxy_next_upstream error timeout http_502 http_503;"
        echo "    proxy_next_upstream_tries 3;"
        echo "    location = /demande { client_max_body_size 33m;"
        echo "      proxy_pass http://guichet_nodes; }"
        echo "    location /static/ { proxy_cache guichet_static;"
        echo "      proxy_cache_valid 200 1h;"
        echo "      proxy_pass http://guichet_nodes; }"
        echo "    location / { proxy_pass http://guichet_nodes; }"
        echo "  }"
        echo "}"
    } > "$D/nginx/nginx.conf"
}

start() { # N
    n=$1
    [ -x "$BIN" ] || die "$BIN absent : make build BUILD=…"
    mkdir -p "$D"
    # Migrations and the demo commune once, before any node, so that N
    # nodes starting together do not all migrate at once.
    guichet migrate > "$D/init.log" 2>&1 ||
        { cat "$D/init.log" >&2; die "migrate a échoué"; }
    guichet init --demo >> "$D/init.log" 2>&1 ||
        { cat "$D/init.log" >&2; die "init --demo a échoué"; }
    i=1
    while [ "$i" -le "$n" ]; do
        port=$((FIRST_PORT + i - 1))
        mkdir -p "$D/node$i"
        # shellcheck disable=SC2086
        "$BIN" --data "$D/node$i" --set "store.url=$URL" \
            --set server.trust_proxy=true $NODE_SETS \
            serve --listen "127.0.0.1:$port" \
            > "$D/node$i.out" 2> "$D/node$i.log" &
        echo $! > "$D/node$i.pid"
        i=$((i + 1))
    done
    i=1
    while [ "$i" -le "$n" ]; do
        wait_http $((FIRST_PORT + i - 1)) ||
            { cat "$D/node$i.log" >&2; die "le nœud $i ne répond pas"; }
        i=$((i + 1))
    done
    echo "$n" > "$D/nodes"
    if [ "$NGINX_PORT" != none ]; then
        nginx_conf "$n"
        nginx -p "$D/nginx" -c "$D/nginx/nginx.conf" ||
            die "nginx ne démarre pas ($D/nginx/logs/error.log)"
        wait_http "$NGINX_PORT" || die "nginx ne répond pas"
    fi
    echo "nodes.sh : $n nœud(s) sur 127.0.0.1:$FIRST_PORT.." \
         "$( [ "$NGINX_PORT" != none ] && echo ", nginx sur 127.0.0.1:$NGINX_PORT")," \
         "base ${URL%%:*} ($D)"
}

stop() {
    if [ -f "$D/nginx/nginx.pid" ]; then
        kill "$(cat "$D/nginx/nginx.pid")" 2>/dev/null || true
        rm -f "$D/nginx/nginx.pid"
    fi
    for f in "$D"/node*.pid; do
        [ -f "$f" ] || continue
        kill "$(cat "$f")" 2>/dev/null || true
    done
    for f in "$D"/node*.pid; do
        [ -f "$f" ] || continue
        p=$(cat "$f")
        for _ in $(seq 200); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null || true
        rm -f "$f"
    done
}

case "${1:-}" in
start) [ $# -eq 2 ] || die "usage : nodes.sh start N"; start "$2" ;;
stop) stop ;;
kill)
    [ $# -eq 2 ] || die "usage : nodes.sh kill K"
    [ -f "$D/node$2.pid" ] || die "pas de nœud $2"
    kill -9 "$(cat "$D/node$2.pid")"
    rm -f "$D/node$2.pid"
    ;;
status)
    for f in "$D"/node*.pid; do
        [ -f "$f" ] || continue
        p=$(cat "$f")
        k=$(basename "$f" .pid)
        if kill -0 "$p" 2>/dev/null; then echo "$k pid $p"; else echo "$k mort"; fi
    done
    [ -f "$D/nginx/nginx.pid" ] && echo "nginx pid $(cat "$D/nginx/nginx.pid")"
    true
    ;;
*) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
