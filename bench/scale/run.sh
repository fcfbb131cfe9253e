#!/bin/sh
# run.sh - the multi-node figures of issue 10, on this machine:
#   (a) wrk through nginx against 1, 2 and 3 `guichet serve` nodes sharing
#       one database: POST /api/v1/chat (bench/assistant/chat.lua) and
#       GET /api/v1/rdv/slots (the slot search), req/s and p99, side by
#       side;
#   (b) booking contention: many wrk connections booking the same few
#       slots through nginx, spread over 3 nodes; double bookings counted
#       in the database (must be 0) and 2xx answers compared with the rows;
#   (c) a node killed (kill -9) in the middle of a booking run: nginx
#       sends the next requests to the others; every 2xx booking must be
#       in the database.
#
#   BUILD=build-nodes-rel bench/scale/run.sh            # SQLite file (WAL)
#   PG=1 BUILD=build-nodes-rel bench/scale/run.sh       # fresh PostgreSQL
#                                                       # database (createdb)
#
# Figures, never pass/fail (but (b) and (c) print « ÉCART » when a check
# does not hold). The database used and the machine's load are printed.
# Needs wrk, nginx (scripts/deps.sh --test), /usr/bin/python3, sqlite3 or
# psql.
set -eu
cd "$(dirname "$0")/../.."
B=${BUILD:-build-nodes-rel}
SECONDS_RUN=${WRK_SECONDS:-10}
CONNS=${CONNS:-64}
NODES_MAX=${NODES_MAX:-3}
[ -x "$B/guichet" ] || { echo "run.sh : $B/guichet absent." >&2; exit 1; }
command -v wrk >/dev/null || { echo "run.sh : wrk absent." >&2; exit 1; }
command -v nginx >/dev/null || { echo "run.sh : nginx absent." >&2; exit 1; }
for v in $(env | sed -n 's/^\(GUICHET_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/guichet-scale.XXXXXX")
export NODES_DIR=$tmp/nodes BUILD=$B
export FIRST_PORT=${FIRST_PORT:-18181} NGINX_PORT=${NGINX_PORT:-18180}
export NODE_SETS="--set log.level=error --set log.access=false \
--set assistant.rate_per_minute=0 --set rdv.rate_book_ip=0 \
--set security.login_ip_per_minute=10000"
pgdb=""
if [ "${PG:-0}" = 1 ]; then
    pgdb=guichet_scale_$$
    createdb "$pgdb"
    export STORE_URL="postgres:dbname=$pgdb"
    backend="PostgreSQL $(psql -XAtc 'SHOW server_version' postgres | cut -d' ' -f1) (base $pgdb, locale)"
else
    export STORE_URL="sqlite:$tmp/guichet.db"
    backend="SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1) (un fichier, WAL)"
fi
cleanup() {
    scripts/nodes.sh stop >/dev/null 2>&1 || true
    [ -n "$pgdb" ] && dropdb --if-exists "$pgdb"
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

sql() {
    if [ -n "$pgdb" ]; then
        psql -XAtq -d "$pgdb" -c "$1"
    else
        /usr/bin/python3 -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1], timeout=30)
for r in c.execute(sys.argv[2]): print("|".join(map(str, r)))' \
            "$tmp/guichet.db" "$1"
    fi
}

# wrk_fig KEY FILE: req/s and p99 (ms) of a wrk --latency output.
wrk_fig() {
    awk -v k="$1" '
        $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                      if (u == "us") v /= 1000; if (u == "s") v *= 1000
                      p99 = v }
        $1 == "Requests/sec:" { rps = $2 }
        /Non-2xx/ { bad = $NF }
        END { printf "%s %.0f %.1f %d\n", k, rps, p99, bad }' "$2"
}

echo "Base : $backend"
echo "Machine : $(nproc) cœurs, charge $(cut -d' ' -f1-3 /proc/loadavg)," \
     "$(date -u '+%Y-%m-%d %H:%M') UTC ; wrk -t2 -c$CONNS -d${SECONDS_RUN}s"

# The schedule (once, through one node).
scripts/nodes.sh start 1 >/dev/null
tok=$("$B/guichet" --data "$NODES_DIR/node1" --set "store.url=$STORE_URL" \
    token add banc-echelle --role admin --commune 99001 |
    sed -n 's/.*\(gu_[A-Za-z0-9_-]*\).*/\1/p')
set -- $(/usr/bin/python3 bench/scale/prepare.py "$FIRST_PORT" "$tok" \
    "$tmp/slots")
motif=$1 place=$2
today=$(date +%Y-%m-%d)
search="/api/v1/rdv/slots?c=99001&motif=$motif&place=$place&from=$today&limit=100"
scripts/nodes.sh stop >/dev/null

# (a) 1, 2, 3 nodes.
: > "$tmp/figs"
n=1
while [ "$n" -le "$NODES_MAX" ]; do
    scripts/nodes.sh start "$n" >/dev/null
    url=http://127.0.0.1:$NGINX_PORT
    wrk -t2 -c"$CONNS" -d2s -s bench/assistant/chat.lua "$url" -- \
        tests/data/demo_questions.tsv > /dev/null # warm the indexes
    wrk -t2 -c"$CONNS" -d"${SECONDS_RUN}s" --latency \
        -s bench/assistant/chat.lua "$url" -- tests/data/demo_questions.tsv \
        > "$tmp/chat$n"
    wrk_fig "chat$n" "$tmp/chat$n" >> "$tmp/figs"
    wrk -t2 -c"$CONNS" -d"${SECONDS_RUN}s" --latency "$url$search" \
        > "$tmp/slots$n"
    wrk_fig "slots$n" "$tmp/slots$n" >> "$tmp/figs"
    scripts/nodes.sh stop >/dev/null
    n=$((n + 1))
done
echo
printf '%-30s' "nœuds derrière nginx"
n=1; while [ "$n" -le "$NODES_MAX" ]; do printf '%26s' "$n"; n=$((n + 1)); done
echo
for what in chat slots; do
    case $what in
    chat) label="POST /api/v1/chat" ;;
    slots) label="GET /api/v1/rdv/slots (100)" ;;
    esac
    printf '%-30s' "$label"
    n=1
    while [ "$n" -le "$NODES_MAX" ]; do
        awk -v k="$what$n" '$1 == k { printf "%26s", sprintf("%d req/s, p99 %.1f ms", $2, $3) }' "$tmp/figs"
        n=$((n + 1))
    done
    echo
done
bad=$(awk '$4 > 0 { printf "%s:%d ", $1, $4 }' "$tmp/figs")
[ -n "$bad" ] && echo "réponses non 2xx : $bad"

# (b) Booking contention across 3 nodes: 64 connections, 50 slots.
echo
scripts/nodes.sh start 3 >/dev/null
before=$(sql "SELECT COUNT(*) FROM rdv_bookings WHERE motif_id = $motif AND status <> 2")
SLOTS=$tmp/slots MOTIF=$motif MODE=race RACE_SLOTS=50 WRK_THREADS=2 \
    wrk -t2 -c"$CONNS" -d"${SECONDS_RUN}s" --latency -s bench/book.lua \
    "http://127.0.0.1:$NGINX_PORT" > "$tmp/race"
ok=$(sed -n 's/^book_2xx //p' "$tmp/race")
conf=$(sed -n 's/^book_409 //p' "$tmp/race")
oth=$(sed -n 's/^book_other //p' "$tmp/race")
after=$(sql "SELECT COUNT(*) FROM rdv_bookings WHERE motif_id = $motif AND status <> 2")
dbl=$(sql "SELECT COUNT(*) FROM (SELECT counter_id, day, start_min FROM rdv_bookings WHERE motif_id = $motif AND status <> 2 GROUP BY counter_id, day, start_min HAVING COUNT(*) > 1) d")
per=$(for i in 1 2 3; do grep -c . "$NODES_DIR/node$i.log" 2>/dev/null || true; done | tr '\n' ' ')
echo "Contention (3 nœuds, $CONNS connexions, 50 créneaux × 4 guichets = 200 places) :"
echo "  201 : $ok ; 409 : $conf ; autres : $oth ; nouvelles réservations en base : $((after - before)) ; doubles réservations : $dbl"
sed -n 's/^book_other_example /  exemple d'\''« autre » : /p' "$tmp/race"
[ "$dbl" = 0 ] && [ "$((after - before))" = "$ok" ] || echo "  ÉCART : doubles réservations ou 2xx sans ligne"

# (c) A node killed mid-load: distinct slots, node 2 killed after 3 s.
before=$(sql "SELECT COUNT(*) FROM rdv_bookings WHERE motif_id = $motif AND status <> 2")
(sleep 3; scripts/nodes.sh kill 2) &
killer=$!
SLOTS=$tmp/slots MOTIF=$motif MODE=distinct OFFSET=50 WRK_THREADS=2 \
    wrk -t2 -c16 -d"${SECONDS_RUN}s" --latency -s bench/book.lua \
    "http://127.0.0.1:$NGINX_PORT" > "$tmp/kill"
wait "$killer" || true
ok=$(sed -n 's/^book_2xx //p' "$tmp/kill")
conf=$(sed -n 's/^book_409 //p' "$tmp/kill")
oth=$(sed -n 's/^book_other //p' "$tmp/kill")
sock=$(sed -n 's/.*Socket errors: \(.*\)$/\1/p' "$tmp/kill")
after=$(sql "SELECT COUNT(*) FROM rdv_bookings WHERE motif_id = $motif AND status <> 2")
echo "Nœud 2 tué (kill -9) à 3 s d'un envoi de ${SECONDS_RUN} s (16 connexions, créneaux distincts) :"
echo "  201 : $ok ; 409 : $conf ; autres statuts : $oth ; erreurs de connexion wrk : ${sock:-aucune} ; nouvelles réservations en base : $((after - before))"
sed -n 's/^book_other_example /  exemple d'\''« autre » : /p' "$tmp/kill"
[ "$((after - before))" -ge "$ok" ] || echo "  ÉCART : des réservations confirmées manquent en base"
[ "$((after - before))" -gt "$ok" ] &&
    echo "  ($((after - before - ok)) de plus en base que de 201 reçus : requêtes encore en vol quand wrk s'arrête, ou coupées par la mort du nœud après leur COMMIT)"
scripts/nodes.sh stop >/dev/null
