#!/bin/sh
# fuzz.sh [seconds=60] - build the libFuzzer targets with clang in
# build-fuzz and run each fuzz/fuzz_*.c target for N seconds on a copy of
# its committed corpus (the repository is never modified). Exits non-zero
# when any target finds a crash, a leak or a timeout; the reproducer is
# left in build-fuzz/findings/<target>/ - add it to fuzz/corpus/<target>/
# once fixed so that `make test` replays it forever.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
case $secs in
    ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [secondes]" >&2; exit 2 ;;
esac
build=${FUZZ_BUILD:-build-fuzz}
command -v clang >/dev/null || { echo "fuzz.sh : clang est requis" >&2; exit 2; }

if [ ! -f "$build/build.ninja" ]; then
    CC=clang cmake -S . -B "$build" -G Ninja -DGUICHET_FUZZ=ON \
        -DGUICHET_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C "$build"

status=0
for src in fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    bin="$build/$name"
    [ -x "$bin" ] || { echo "fuzz.sh : $bin absent" >&2; status=1; continue; }
    work="$build/corpus/$name"
    findings="$build/findings/$name"
    rm -rf "$work"
    mkdir -p "$work" "$findings"
    if [ -d "fuzz/corpus/$name" ]; then
        cp -R "fuzz/corpus/$name/." "$work/"
    fi
    echo "== $name ($secs s)"
    # -max_len bounds one input (HTTP heads are small, bodies bounded);
    # leaks are failures (detect_leaks=1).
    if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
         UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
         "$bin" "$work" -max_total_time="$secs" -max_len=8192 \
             -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
             -artifact_prefix="$findings/" 2>"$build/$name.log"; then
        echo "!! $name : échec, voir $build/$name.log et $findings/" >&2
        tail -n 40 "$build/$name.log" >&2
        status=1
    else
        grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' \
            "$build/$name.log" | tail -n 2 || true
    fi
done
exit $status
