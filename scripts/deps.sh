#!/bin/sh
# deps.sh - install the Debian 12 packages Guichet needs, idempotently.
#
#   scripts/deps.sh          build and runtime packages
#   scripts/deps.sh --test   also what the tests, fuzzing and bench need,
#                            then the browser-test npm packages
#   scripts/deps.sh --non-free  also SVOX Pico's French voice (libttspico),
#                            after enabling Debian's non-free component
#                            (same as GUICHET_NONFREE=1); only on request
#
# Checks each package with dpkg-query and installs only the missing ones
# (apt-get update first, and only then). Runs apt-get as root or through
# sudo; when neither is possible it prints the exact command to run and
# exits 1. Record any new dependency here and in docs/ARCHITECTURE.md.
set -eu

cd "$(dirname "$0")/.."

# Build and runtime.
BUILD_PKGS="build-essential cmake ninja-build pkg-config libmicrohttpd-dev
libjansson-dev libsqlite3-dev libsodium-dev libinih-dev zlib1g-dev
libutf8proc-dev libstemmer-dev libcmark-dev libxml2-dev libzip-dev
libcurl4-openssl-dev libpq-dev liblinear-dev libgmime-3.0-dev libjpeg-dev libpng-dev
libxgboost-dev libxlsxwriter-dev libmosquitto-dev libespeak-ng-dev
espeak-ng-data libsoxr-dev libre-dev librem-dev"

# Tests only: browser test (chromium, node), fuzzing (clang + libFuzzer
# runtime), bench (wrk, nginx-light, python3-xapian; the triage peers
# python3-sklearn and fasttext), CLI and HTTP tests
# (sqlite3, curl), a real SMTP peer for the mail tests (python3-aiosmtpd),
# a real IMAP server for the e-mail import tests (dovecot-imapd), photos
# with EXIF GPS for the request form's tests (python3-pil), a real MQTT
# broker and its clients for the sensor tests (mosquitto).
TEST_PKGS="chromium nodejs npm clang libclang-rt-14-dev wrk nginx-light
sqlite3 curl python3-aiosmtpd python3-xapian python3-icalendar
python3-stdnum python3-sklearn fasttext dovecot-imapd python3-pil mosquitto mosquitto-clients
sox sip-tester postgresql"

# Non-free, only with --non-free or GUICHET_NONFREE=1: the SVOX Pico
# French voice, loaded by dlopen (src/voice/voice_tts.c) and preferred to
# espeak-ng when present.
NONFREE_PKGS="libttspico0 libttspico-data"

with_test=0
with_nonfree=0
[ "${GUICHET_NONFREE:-0}" = 1 ] && with_nonfree=1
for arg in "$@"; do
    case "$arg" in
    --test) with_test=1 ;;
    --non-free) with_nonfree=1 ;;
    -h|--help)
        sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
    *)
        echo "deps.sh : option inconnue : $arg (permises : --test, --non-free, --help)" >&2
        exit 2 ;;
    esac
done

pkgs=$BUILD_PKGS
[ "$with_test" = 1 ] && pkgs="$pkgs $TEST_PKGS"
[ "$with_nonfree" = 1 ] && pkgs="$pkgs $NONFREE_PKGS"

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
        grep -q '^install ok installed$' && return 0
    # A nodejs from another repository (NodeSource) bundles npm and
    # conflicts with Debian's npm package: a working npm command counts.
    [ "$1" = npm ] && command -v npm >/dev/null 2>&1
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh : dpkg-query introuvable ; ce script vise Debian 12." >&2
    echo "Paquets nécessaires : $(echo $pkgs)" >&2
    exit 1
fi

# Debian's non-free component, added to the Debian sources (deb822
# debian.sources of Debian 12, or the one-line sources.list) when the user
# asked for the non-free voice and it is not there yet.
enable_nonfree() {
    src822=/etc/apt/sources.list.d/debian.sources
    srclist=/etc/apt/sources.list
    if [ -f "$src822" ] && grep -q '^Components:' "$src822"; then
        grep '^Components:' "$src822" | grep -Eqv 'non-free( |$)' || return 0
        echo "deps.sh : activation de la composante non-free dans $src822"
        $SUDO sed -i -E '/^Components:/{/non-free( |$)/!s/$/ non-free/}' "$src822"
    elif [ -f "$srclist" ] && grep -Eq '^deb .*debian' "$srclist"; then
        grep -E '^deb .*debian' "$srclist" | grep -Eqv 'non-free( |$)' ||
            return 0
        echo "deps.sh : activation de la composante non-free dans $srclist"
        $SUDO sed -i -E '/^deb .*debian/{/non-free( |$)/!s/$/ non-free/}' "$srclist"
    else
        echo "deps.sh : sources Debian introuvables ; ajoutez la composante" \
            "non-free à la main pour $NONFREE_PKGS." >&2
        return 1
    fi
}

find_sudo() {
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo"
    elif command -v sudo >/dev/null 2>&1 && [ -t 0 ]; then
        SUDO="sudo" # interactive: sudo will ask for the password
    else
        return 1
    fi
}

missing=""
for p in $pkgs; do
    installed "$p" || missing="$missing $p"
done
missing=${missing# }

if [ -n "$missing" ]; then
    if ! find_sudo; then
        echo "deps.sh : paquets manquants : $missing" >&2
        [ "$with_nonfree" = 1 ] &&
            echo "(la composante non-free de Debian doit être activée)" >&2
        echo "Installez-les en tant que root :" >&2
        echo "  apt-get update && apt-get install -y $missing" >&2
        exit 1
    fi
    if [ "$with_nonfree" = 1 ]; then
        case " $missing " in
        *" libttspico"*) enable_nonfree || exit 1 ;;
        esac
    fi
    echo "deps.sh : installation de : $missing"
    export DEBIAN_FRONTEND=noninteractive
    if ! $SUDO apt-get update || ! $SUDO apt-get install -y $missing; then
        echo "deps.sh : échec de l'installation. Commande à lancer :" >&2
        echo "  apt-get update && apt-get install -y $missing" >&2
        exit 1
    fi
else
    echo "deps.sh : paquets Debian : tout est installé."
fi

# Browser tests: playwright-core drives Debian's chromium, so never let
# npm download a browser.
if [ "$with_test" = 1 ] && [ -f tests/e2e/package.json ]; then
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    if [ -f tests/e2e/package-lock.json ]; then
        if [ -d tests/e2e/node_modules ] &&
            [ tests/e2e/node_modules/.package-lock.json -nt \
                tests/e2e/package-lock.json ]; then
            echo "deps.sh : modules npm de tests/e2e à jour."
        else
            (cd tests/e2e && npm ci --no-audit --no-fund)
        fi
    else
        (cd tests/e2e && npm install --no-audit --no-fund)
    fi
fi
