#!/bin/sh
# chat.sh - throughput of POST /api/v1/chat: a fresh demo instance
# (guichet init --demo) served on a free loopback port, then wrk for 10 s
# with 2 threads and 64 connections posting the demo questions as first
# messages and follow-ups (chat.lua). Prints figures only (req/s, p50,
# p99, errors), never pass/fail: run it on a quiet machine.
#
# usage: bench/assistant/chat.sh [PATH/TO/guichet]
# env:   THREADS (server.threads, default 4), DURATION (default 10s),
#        CONNECTIONS (default 64), WRK_THREADS (default 2)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/build/guichet}
threads=${THREADS:-4}
duration=${DURATION:-10s}
conns=${CONNECTIONS:-64}
wthreads=${WRK_THREADS:-2}

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
    --set assistant.rate_per_minute=0 --set log.access=false \
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
out=$(wrk -t"$wthreads" -c"$conns" -d"$duration" --latency -s "$here/chat.lua" \
    "$base" -- "$root/tests/data/demo_questions.tsv")
rps=$(echo "$out" | sed -n 's/^Requests\/sec: *//p')
p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
errs=$(echo "$out" | sed -n 's/^ *Non-2xx or 3xx responses: *//p')
echo "POST /api/v1/chat: wrk -t$wthreads -c$conns -d$duration, server.threads=$threads, $(nproc) cores"
echo "req/s $rps"
echo "p50   $p50"
echo "p99   $p99"
echo "non-2xx ${errs:-0}"
