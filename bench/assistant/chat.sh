#!/bin/sh
# chat.sh - throughput of POST /api/v1/chat: a fresh demo instance
# (guichet init --demo) served on a free loopback port, then wrk for 10 s
# with 2 threads and 64 connections posting the demo questions as first
# messages and follow-ups (chat.lua), twice: saturated (each connection
# resends as soon as it is answered: the most answers a second), then
# paced at PACE answers a second (default 5000, the issue's figure: the
# latency residents see at that load). Prints figures only (req/s, p50,
# p99, errors, the server's CPU time per answer, the database and its
# write-ahead log at the end), never pass/fail: run it on a quiet
# machine. The CPU time per answer (user + system of the server process
# over the run, divided by the answers) is the figure other processes'
# load disturbs least.
#
# usage: bench/assistant/chat.sh [PATH/TO/guichet]
# env:   THREADS (server.threads, default the number of cores, as the
#        server's own default), DURATION (default 10s),
#        CONNECTIONS (default 64), WRK_THREADS (default 2),
#        PACE (answers/s of the paced run, default 5000; 0 = no paced run),
#        RATE (assistant.rate_per_minute, default 0 = no limit; every
#        request comes from 127.0.0.1, so a limit under the rate refuses)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/build/guichet}
threads=${THREADS:-$(nproc)}
rate=${RATE:-0}
duration=${DURATION:-10s}
conns=${CONNECTIONS:-64}
wthreads=${WRK_THREADS:-2}
pace=${PACE:-5000}

command -v wrk >/dev/null || { echo "chat.sh: wrk is missing" >&2; exit 1; }
[ -x "$bin" ] || { echo "chat.sh: no binary $bin" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/guichet-bench.XXXXXX") || exit 1
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$bin" --data "$dir/data" init --demo >"$dir/init.log" 2>&1 ||
    { echo "chat.sh: init --demo failed" >&2; tail "$dir/init.log" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --data "$dir/data" --set server.threads="$threads" \
    --set assistant.rate_per_minute="$rate" --set log.access=false \
    serve --listen "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
i=0
until curl -fs "$base/healthz" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 150 ] && { echo "chat.sh: server not up" >&2; tail "$dir/server.log" >&2; exit 1; }
    sleep 0.1
done
# Warm-up: the index is built by the reindex job at start.
wrk -t1 -c4 -d2s -s "$here/chat.lua" "$base" -- "$root/tests/data/demo_questions.tsv" >/dev/null 2>&1
# utime + stime of the server, in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$server/stat" 2>/dev/null || echo 0; }
t0=$(ticks)
out=$(CHAT_RATE= wrk -t"$wthreads" -c"$conns" -d"$duration" --latency -s "$here/chat.lua" \
    "$base" -- "$root/tests/data/demo_questions.tsv")
t1=$(ticks)
paced=""
if [ "$pace" -gt 0 ] 2>/dev/null; then
    paced=$(CHAT_RATE=$pace CHAT_THREADS=$wthreads wrk -t"$wthreads" -c"$conns" \
        -d"$duration" --latency -s "$here/chat.lua" "$base" -- \
        "$root/tests/data/demo_questions.tsv")
fi
n=$(echo "$out" | awk '/requests in/ {print $1}')
hz=$(getconf CLK_TCK)
cpu=$(echo "$t0 $t1 ${n:-0} $hz" | awk '$3 > 0 {printf "%.3f", ($2 - $1) * 1000 / $4 / $3}')
wal=$(du -m "$dir/data/guichet.db-wal" 2>/dev/null | cut -f1)
db=$(du -m "$dir/data/guichet.db" 2>/dev/null | cut -f1)
rps=$(echo "$out" | sed -n 's/^Requests\/sec: *//p')
p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
errs=$(echo "$out" | sed -n 's/^ *Non-2xx or 3xx responses: *//p')
echo "POST /api/v1/chat: wrk -t$wthreads -c$conns -d$duration, server.threads=$threads, rate_per_minute=$rate, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
echo "req/s $rps"
echo "p50   $p50"
echo "p99   $p99"
echo "non-2xx ${errs:-0}"
echo "server CPU ms per answer ${cpu:-?}"
if [ -n "$paced" ]; then
    echo "paced at $pace answers/s (same server, after the saturated run):"
    echo "  req/s $(echo "$paced" | sed -n 's/^Requests\/sec: *//p')"
    echo "  p50   $(echo "$paced" | awk '$1 == "50%" {print $2}')"
    echo "  p90   $(echo "$paced" | awk '$1 == "90%" {print $2}')"
    echo "  p99   $(echo "$paced" | awk '$1 == "99%" {print $2}')"
    echo "  non-2xx $(echo "$paced" | sed -n 's/^ *Non-2xx or 3xx responses: *//p' | grep . || echo 0)"
fi
echo "database ${db:-?} MB, write-ahead log ${wal:-?} MB"
