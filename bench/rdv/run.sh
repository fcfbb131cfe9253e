#!/bin/sh
# run.sh - the appointment figures of issue 4, side by side in one table:
#   (a) slot search over the next 90 days, 20 counters holding 5,000
#       bookings, in-process (driver search): p50/p99;
#   (b) the same search over HTTP (guichet serve + wrk --latency);
#   (c) booking under contention, 64 clients: 64 threads each with its
#       own connection (driver book), 64 threads racing for the same
#       slots (driver race), 64 wrk connections posting distinct slots
#       (bench/book.lua); double bookings counted in SQL after each; and the
#       plain SQL floor (64 threads, one INSERT under a UNIQUE constraint
#       per transaction, bare SQLite table, same machine, same run).
#
#   BUILD=build-api-rel bench/rdv/run.sh
#
# Needs `make build BUILD=$BUILD` (non-sanitized), wrk, /usr/bin/python3
# only for nothing: plain sh, awk. Figures, never pass/fail; the machine's
# load is printed with them.
set -eu
cd "$(dirname "$0")/../.."
B=${BUILD:-build-api-rel}
SEARCHES=${SEARCHES:-1000}
CLIENTS=${CLIENTS:-64}
BOOKS=${BOOKS:-6400}
RACE_SLOTS=${RACE_SLOTS:-300}
WRK_SECONDS=${WRK_SECONDS:-10}
if [ ! -x "$B/guichet" ]; then
    echo "run.sh : $B/guichet absent : lancez d'abord" \
         "« make build BUILD=$B »." >&2
    exit 1
fi
command -v wrk >/dev/null || { echo "run.sh : wrk absent." >&2; exit 1; }
cmake --build "$B" --target rdv_driver > /dev/null
drv=$B/rdv_driver
tmp=$(mktemp -d "${TMPDIR:-/tmp}/guichet-bench-rdv.XXXXXX")
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
out=$tmp/figures.txt
: > "$out"
for v in $(env | sed -n 's/^\(GUICHET_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done

# serve DIR: start guichet on DIR/guichet.db, set $port.
serve() {
    "$B/guichet" --data "$1" --set log.level=error --set log.access=false \
        --set rdv.rate_book_ip=0 serve --listen 127.0.0.1:0 \
        > "$tmp/serve.out" 2> "$tmp/serve.err" &
    pid=$!
    port=""
    for _ in $(seq 100); do
        port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' \
            "$tmp/serve.out")
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    cat "$tmp/serve.err" >&2
    exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
# CPU ticks (user + system) of the server so far.
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
# wrk_cpu KEY FILE T0: the server's CPU milliseconds per request of a run.
wrk_cpu() {
    n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$2")
    hz=$(getconf CLK_TCK)
    echo "$1_cpu_ms $(awk -v t="$(( $(ticks) - $3 ))" -v n="${n:-1}" \
        -v hz="$hz" 'BEGIN { printf "%.3f", t * 1000 / hz / (n ? n : 1) }')" \
        >> "$out"
}
# wrk_p DIR-LESS: percentiles of wrk --latency output into $out as KEY_pNN.
wrk_lat() {
    awk -v k="$1" '
        $1 == "50%" { printf "%s_p50_ms %s\n", k, $2 }
        $1 == "99%" { printf "%s_p99_ms %s\n", k, $2 }
        $1 == "Requests/sec:" { printf "%s_rps %s\n", k, $2 }' "$2" |
        sed 's/\([0-9.]*\)us$/\1 us/; s/\([0-9.]*\)ms$/\1/' |
        awk '{ v = $2; if ($3 == "us") v = v / 1000; printf "%s %.3f\n", $1, v }' >> "$out"
}

echo "charge avant : $(cut -d' ' -f1-3 /proc/loadavg)" >> "$tmp/load"
mkdir -p "$tmp/a"
"$drv" seed "$tmp/a/guichet.db" >> "$out"
cp "$tmp/a/guichet.db" "$tmp/seeded.db"

# (a) in-process search
"$drv" search "$tmp/a/guichet.db" "$SEARCHES" >> "$out"

# (b) the same over HTTP
serve "$tmp/a"
today=$(date +%F)
to=$(date -d "+89 days" +%F)
base="http://127.0.0.1:$port/api/v1/rdv/slots?c=99001&motif=bench&from=$today&to=$to"
curl -s "$base&limit=1" > /dev/null
# one connection: the latency of a search, not of a queue (the public
# maximum is 1,000 slots per search)
t0=$(ticks)
wrk -t1 -c1 -d"${WRK_SECONDS}s" --latency "$base&limit=100" > "$tmp/wrk1"
wrk_cpu http_first100 "$tmp/wrk1" "$t0"
wrk_lat http_first100 "$tmp/wrk1"
t0=$(ticks)
wrk -t1 -c1 -d"${WRK_SECONDS}s" --latency "$base&limit=1000" > "$tmp/wrk2"
wrk_cpu http_first1000 "$tmp/wrk2" "$t0"
wrk_lat http_first1000 "$tmp/wrk2"
# and 8 connections at once (queueing on the server's threads included)
t0=$(ticks)
wrk -t2 -c8 -d"${WRK_SECONDS}s" --latency "$base&limit=100" > "$tmp/wrk4"
wrk_cpu http8_first100 "$tmp/wrk4" "$t0"
wrk_lat http8_first100 "$tmp/wrk4"
for f in wrk1 wrk2 wrk4; do
    n=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$tmp/$f")
    echo "${f}_non2xx ${n:-0}" >> "$out"
done
stop

# (c) contention, in-process: distinct slots, then one race
cp "$tmp/seeded.db" "$tmp/book.db"
# (a failed booking — e.g. SQLITE_BUSY beyond the 5 s busy timeout — is
# counted in *_errors and shown in the table, not fatal here)
"$drv" book "$tmp/book.db" "$CLIENTS" "$BOOKS" >> "$out" || true
"$drv" check "$tmp/book.db" | sed 's/^/book_/' >> "$out"
cp "$tmp/seeded.db" "$tmp/race.db"
"$drv" race "$tmp/race.db" "$CLIENTS" "$RACE_SLOTS" >> "$out" || true
"$drv" check "$tmp/race.db" | sed 's/^/race_/' >> "$out"
# the SQL floor
"$drv" floor "$tmp" "$CLIENTS" "$BOOKS" >> "$out"
# over HTTP: 64 connections, distinct slots
mkdir -p "$tmp/h"
cp "$tmp/seeded.db" "$tmp/h/guichet.db"
"$drv" slots "$tmp/h/guichet.db" "$tmp/slots.txt" > /dev/null
serve "$tmp/h"
t0=$(ticks)
SLOTS=$tmp/slots.txt MOTIF='"bench"' MODE=distinct WRK_THREADS=2 \
    wrk -t2 -c"$CLIENTS" -d5s --latency -s bench/book.lua \
    "http://127.0.0.1:$port" > "$tmp/wrk3"
sed -n 's/^book_\(2xx\|409\|other\|seconds\|p99_ms\) /http_book_\1 /p' \
    "$tmp/wrk3" >> "$out"
wrk_cpu http_book "$tmp/wrk3" "$t0"
stop
"$drv" check "$tmp/h/guichet.db" | sed 's/^/http_/' >> "$out"
echo "charge après : $(cut -d' ' -f1-3 /proc/loadavg)" >> "$tmp/load"

# The table.
awk '
    { v[$1] = $2 }
    END {
        printf "%-58s %12s %12s\n", "mesure", "p50 (ms)", "p99 (ms)"
        printf "%-58s %12s %12s\n", "(a) créneaux 90 j, 20 guichets, 5 000 rdv, en processus, 100 premiers", v["search_first100_p50_ms"], v["search_first100_p99_ms"]
        printf "%-58s %12s %12s\n", "(a) idem, 1 000 premiers", v["search_first1000_p50_ms"], v["search_first1000_p99_ms"]
        printf "%-58s %12s %12s\n", "(a) idem, tous (" v["search_all_slots"] ", le maximum d’une recherche)", v["search_all_p50_ms"], v["search_all_p99_ms"]
        printf "%-58s %12s %12s\n", "    temps CPU, 100 premiers", v["search_first100_cpu_p50_ms"], v["search_first100_cpu_p99_ms"]
        printf "%-58s %12s %12s\n", "    temps CPU, 1 000 premiers", v["search_first1000_cpu_p50_ms"], v["search_first1000_cpu_p99_ms"]
        printf "%-58s %12s %12s\n", "    temps CPU, tous", v["search_all_cpu_p50_ms"], v["search_all_cpu_p99_ms"]
        printf "%-58s %12s %12s\n", "(b) HTTP, 1 connexion, 100 premiers (" v["http_first100_rps"] " req/s)", v["http_first100_p50_ms"], v["http_first100_p99_ms"]
        printf "%-58s %12s %12s\n", "(b) HTTP, 1 connexion, 1 000 premiers (" v["http_first1000_rps"] " req/s)", v["http_first1000_p50_ms"], v["http_first1000_p99_ms"]
        printf "%-58s %12s %12s\n", "(b) HTTP, 8 connexions, 100 premiers (" v["http8_first100_rps"] " req/s)", v["http8_first100_p50_ms"], v["http8_first100_p99_ms"]
        printf "%-58s %12s %12s\n", "    réponses non 2xx (doivent être 0)", v["wrk1_non2xx"] "/" v["wrk2_non2xx"] "/" v["wrk4_non2xx"], ""
        printf "%-58s %12s\n", "    CPU du serveur par requête, 100 / 1 000 / 8 conn. (ms)", v["http_first100_cpu_ms"] " / " v["http_first1000_cpu_ms"] " / " v["http8_first100_cpu_ms"]
        printf "\n%-70s %8s %8s %8s %10s\n", "réservation sous contention", "rdv/s", "doublons", "erreurs", "CPU ms/essai"
        printf "%-70s %8s %8s %8s %10s\n", "(c) " v["book_threads"] " fils, connexion chacun, créneaux distincts (" v["book_ok"] " rdv)", v["book_per_s"], v["book_double_bookings"], v["book_errors"], v["book_cpu_ms_per_attempt"]
        printf "%-70s %8s %8s %8s %10s\n", "(c) " v["race_threads"] " fils sur les mêmes " v["race_slots"] " créneaux (" v["race_ok"] " gagnés, " v["race_conflict"] " refus 409)", v["race_per_s"], v["race_double_bookings"], v["race_errors"], v["race_cpu_ms_per_attempt"]
        printf "%-70s %8s %8s %8s %10s\n", "(c) HTTP, wrk 64 connexions, créneaux distincts (" v["http_book_2xx"] " rdv, p99 " v["http_book_p99_ms"] " ms)", sprintf("%.0f", v["http_book_2xx"] / v["http_book_seconds"]), v["http_double_bookings"], v["http_book_other"], v["http_book_cpu_ms"]
        printf "%-70s %8s %8s %8s %10s\n", "plancher SQL : " v["floor_threads"] " fils, 1 INSERT UNIQUE par transaction", v["floor_per_s"], "-", v["floor_failed"], v["floor_cpu_ms_per_attempt"]
    }' "$out"
echo
cat "$tmp/load"
echo "machine : $(nproc) cœurs, $(uname -srm)"
