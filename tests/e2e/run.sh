#!/bin/sh
# run.sh - browser test of Guichet: a fresh demo instance, a real server on
# a free local port, and a test script (test.mjs by default) driving Debian
# chromium through playwright-core.
#
# usage: tests/e2e/run.sh [PATH/TO/guichet [TEST.mjs]]
#        (defaults: build/guichet, test.mjs)
#
# The instance's data directory is handed to the test as GUICHET_DATA (a
# test may recompute figures from the SQLite file, read-only).
#
# A second free port is handed to the test as GUICHET_HOST_PORT: the
# assistant's test serves there a page of « the commune's own site » that
# embeds the widget, an origin the server allows (assistant.widget_origins).
#
# Needs node, /usr/bin/chromium (or $CHROMIUM) and tests/e2e/node_modules
# (cd tests/e2e && npm ci). A missing piece is an error, so that CI never
# passes without running the browser; GUICHET_SKIP_BROWSER=1 skips on
# purpose (exit 77, which ctest reports as skipped).
set -u

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/guichet}
test=${2:-test.mjs}
case $test in
/*) ;;
*) test=$here/$test ;;
esac
name=$(basename "$test" .mjs)
chromium=${CHROMIUM:-/usr/bin/chromium}

if [ "${GUICHET_SKIP_BROWSER:-0}" = "1" ]; then
    echo "e2e/$name : ignoré (GUICHET_SKIP_BROWSER=1)"
    exit 77
fi

missing=""
command -v node >/dev/null 2>&1 || missing="$missing node"
[ -x "$chromium" ] || missing="$missing $chromium"
[ -d "$here/node_modules/playwright-core" ] ||
    missing="$missing $here/node_modules/playwright-core (cd tests/e2e && npm ci)"
[ -x "$bin" ] || missing="$missing $bin"
[ -f "$test" ] || missing="$missing $test"
if [ -n "$missing" ]; then
    echo "e2e/$name : ÉCHEC, il manque :$missing" >&2
    echo "(GUICHET_SKIP_BROWSER=1 pour ignorer ce test volontairement)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/guichet-e2e.XXXXXX") || exit 1
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null
        wait "$server" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "e2e/$name : $1" >&2
    for f in "$dir/init.log" "$dir/server.log"; do
        if [ -s "$f" ]; then
            echo "--- $(basename "$f") (fin) ---" >&2
            tail -n 30 "$f" >&2
        fi
    done
    echo "0 passed, 1 failed"
    exit 1
}

"$bin" --data "$dir/data" init --demo >"$dir/init.log" 2>&1 ||
    fail "« guichet init --demo » a échoué"
password=$(sed -n "s/^Mot de passe à usage unique de l'administrateur.*: //p" \
    "$dir/init.log" | head -n 1 | tr -d '\r')
[ -n "$password" ] ||
    fail "mot de passe de l'administrateur introuvable dans la sortie de init"

ports=$(node -e '
const net = require("net");
const a = net.createServer(), b = net.createServer();
a.listen(0, "127.0.0.1", () => b.listen(0, "127.0.0.1", () => {
  console.log(a.address().port + " " + b.address().port);
  a.close(); b.close();
}));
') || fail "aucun port libre"
port=${ports% *}
hostport=${ports#* }

"$bin" --data "$dir/data" \
    --set "assistant.widget_origins=http://127.0.0.1:$hostport" \
    serve --listen "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
server=$!

base="http://127.0.0.1:$port"
node -e '
const url = process.argv[1] + "/healthz";
const until = Date.now() + 15000;
(async () => {
  while (Date.now() < until) {
    try { if ((await fetch(url)).ok) process.exit(0); } catch (e) {}
    await new Promise((r) => setTimeout(r, 100));
  }
  process.exit(1);
})();
' "$base" || fail "le serveur ne répond pas sur $base/healthz"

GUICHET_URL=$base GUICHET_ADMIN_PASSWORD=$password CHROMIUM=$chromium \
    GUICHET_HOST_PORT=$hostport E2E_PROFILE_DIR="$dir/profile" \
    GUICHET_DATA="$dir/data" node "$test"
rc=$?
if [ $rc -ne 0 ]; then
    echo "--- server.log (fin) ---" >&2
    tail -n 30 "$dir/server.log" >&2
fi
exit $rc
