#!/bin/bash
# test_cli.sh - behaviour of the `guichet` command line, end to end.
#
#   tests/cli/test_cli.sh [path/to/guichet]     (default: build/guichet)
#
# Runs the real binary in a temporary data directory and checks outputs
# and exit codes: help, init --demo (twice), user add/list/passwd/disable/
# enable, config origins and errors, migrate, backup, tokens, and serve
# with /healthz, SIGHUP and a graceful SIGTERM. Prints "N passed,
# N failed" and exits non-zero on any failure.
set -u

cd "$(dirname "$0")/../.."
. tests/lib.sh
th_init cli "${1:-build/guichet}"
SERVER_PID=""

th_cleanup_hook() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
}

# The value after ": " on the one-time password line (as the e2e test).
otp() {
    sed -n 's/^Mot de passe à usage unique [^:]*: \(.*\)$/\1/p' "$TMP/out"
}

# ----- help, version, usage errors -----
g --version
expect_rc "--version" 0
expect_out "--version" '^guichet [0-9]+\.[0-9]+'

g --help
expect_rc "--help" 0
expect_out "--help liste les commandes" 'user add'

g
expect_rc "sans commande" 2

g frobnicate
expect_rc "commande inconnue" 2
expect_err "commande inconnue nommée" 'frobnicate'

for c in serve init "user add" "user list" "user passwd" "user disable" \
    "user enable" "commune list" "token add" "token list" "token revoke" \
    config migrate backup; do
    # shellcheck disable=SC2086
    g $c --help
    expect_rc "$c --help" 0
    expect_out "$c --help" '^Usage : guichet'
    # shellcheck disable=SC2086
    g help $c
    expect_rc "help $c" 0
done

g help config
expect_out "help config documente les réglages" 'log\.level'
expect_out "help config : variable d'environnement" 'GUICHET_LOG_LEVEL'

g user
expect_rc "user sans sous-commande" 2

g --data "$D" user list --bogus
expect_rc "option inconnue" 2
expect_err "option inconnue nommée" -- '--bogus'

# ----- before init -----
g --data "$D" user list
expect_rc "user list sans base" 1
expect_err "user list sans base : conseil" 'guichet --data .* init'

# ----- init --demo, twice -----
g --data "$D" init --demo
expect_rc "init --demo" 0
expect_out "init --demo : ligne du mot de passe" \
    "^Mot de passe à usage unique de l'administrateur « admin » : [^ ]{12,}$"
expect_out "init --demo : fiches locales" '^[0-9]+ fiches locales chargées'
PW1=$(otp)
check "init --demo : mot de passe lu" test -n "$PW1"
check "base créée" test -f "$D/guichet.db"

g --data "$D" init --demo
expect_rc "init --demo (2e fois)" 0
expect_out "init --demo (2e fois) : existe" 'existe déjà'
expect_no_out "init --demo (2e fois) : aucun secret" 'Mot de passe'

g --data "$D" commune list
expect_rc "commune list" 0
expect_out "commune list : démo" '99001 +Saint-Exemple-sur-Loire +B'

# ----- knowledge base: service-public import (hand-written fixtures) -----
SP=tests/data/service-public
g --data "$D" kb import-service-public "$SP/json" --tout
expect_rc "kb import (JSON, --tout)" 0
expect_out "kb import : compte en français" '^[0-9]+ fiches importées, [1-9][0-9]* ignorées\.$'
g --data "$D" kb import-service-public "$SP/xml" --tout
expect_rc "kb import (XML, --tout)" 0
g --data "$D" kb import-service-public "$SP/json"
expect_rc "kb import (liste mairie)" 0
expect_out "kb import : hors liste mairie, rien" '^0 fiches importées'
g --data "$D" kb import-service-public "$TMP/absent"
expect_rc "kb import : chemin absent, code 1" 1
expect_err "kb import : message en français" 'introuvable|impossible|Impossible|n.existe'
g --data "$D" kb import-service-public
expect_rc "kb import : sans chemin, code 2" 2

# ----- users -----
g --data "$D" user list
expect_rc "user list" 0
expect_out "user list : admin" '^admin +.*99001:admin +mdp à changer'

g --data "$D" user add alice --name "Alice Martin" --role agent \
    --email alice@example.org
expect_rc "user add" 0
PW_A=$(otp)
check "user add : mot de passe" test -n "$PW_A"

g --data "$D" user add alice --name "Alice bis" --role agent
expect_rc "user add (doublon)" 1
expect_err "user add (doublon) : message" 'existe déjà'

g --data "$D" user add bob --name Bob --role chef
expect_rc "user add --role invalide" 2
expect_err "rôle invalide : valeurs" '--role.*admin, agent, lecteur'

g --data "$D" user add bob --name Bob
expect_rc "user add sans --role" 2
expect_err "user add sans --role : nommé" -- '--role'

g --data "$D" user add "B@D" --name Bob --role agent
expect_rc "user add identifiant invalide" 2

g --data "$D" user add bob --name Bob --role lecteur --commune 98765
expect_rc "user add commune inconnue" 2
expect_err "commune inconnue nommée" '98765'

g --data "$D" user passwd alice
expect_rc "user passwd" 0
PW_A2=$(otp)
check "user passwd : nouveau mot de passe" test -n "$PW_A2" -a "$PW_A2" != "$PW_A"

gin "court" --data "$D" user passwd alice --stdin
expect_rc "user passwd --stdin trop court" 2

gin "une-phrase-de-passe-assez-longue" --data "$D" user passwd alice --stdin
expect_rc "user passwd --stdin" 0
expect_no_out "user passwd --stdin : rien d'affiché" 'une-phrase'

g --data "$D" user passwd personne
expect_rc "user passwd inconnu" 1
expect_err "user passwd inconnu : nommé" 'personne'

g --data "$D" user disable alice
expect_rc "user disable" 0
g --data "$D" user list
expect_out "user list : désactivé" '^alice +Alice Martin +99001:agent +désactivé'
g --data "$D" user disable alice
expect_rc "user disable (déjà)" 0
expect_out "user disable (déjà)" 'déjà'
g --data "$D" user enable alice
expect_rc "user enable" 0
g --data "$D" user list --commune 99001
expect_out "user list --commune : actif" '^alice +.*actif'

# ----- config -----
g --data "$D" config
expect_rc "config" 0
expect_out "config : paths.data en ligne de commande" \
    '^paths\.data +.*var +ligne de commande'
expect_out "config : défaut" '^log\.level +info +défaut'
expect_out "config : aucun fichier" '^Fichier de configuration : aucun'

g config --data "$D" --set log.level=debug
expect_rc "options globales après la commande" 0
expect_out "options globales après la commande" \
    '^log\.level +debug +ligne de commande'

g --data "$D" --set log.level=verbose config
expect_rc "config valeur invalide" 2
expect_err "config valeur invalide : clé" 'log\.level'
expect_err "config valeur invalide : valeurs" 'error, warn, info, debug'

g --data "$D" --set log.level config
expect_rc "--set sans =" 2

g --data "$D" --set no.such.key=1 config
expect_rc "config clé inconnue" 2
expect_err "config clé inconnue : nommée" 'no\.such\.key'

GUICHET_LOG_LEVEL=debug "$BIN" --data "$D" config >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc "config env" 0
expect_out "config env : origine" '^log\.level +debug +environnement'

printf '[log]\nlevel = warn\n[server]\nlisten = 127.0.0.1:9999\n' \
    >"$D/guichet.conf"
g --data "$D" config
expect_out "config fichier : origine" '^log\.level +warn +fichier'
expect_out "config fichier : chemin" "^Fichier de configuration : .*guichet\.conf"
g --data "$D" --set log.level=error config
expect_out "config --set prime" '^log\.level +error +ligne de commande'
rm -f "$D/guichet.conf"

g --data "$D" --config "$TMP/absent.conf" config
expect_rc "config --config absent" 2

# ----- migrate -----
g --data "$D" migrate
expect_rc "migrate" 0
expect_out "migrate : à jour" 'aucune migration en attente'
g --data "$D" migrate --status
expect_rc "migrate --status" 0
expect_out "migrate --status : core" '^core +v1 +appliquée'

g --data "$TMP/fresh" migrate
expect_rc "migrate (base neuve)" 0
expect_out "migrate (base neuve)" '^Appliquée : core v1'

# ----- backup -----
g --data "$D" backup "$TMP/b1.db"
expect_rc "backup" 0
check "backup : fichier" test -s "$TMP/b1.db"
check "backup : droits 600" test "$(stat -c %a "$TMP/b1.db")" = 600
if command -v sqlite3 >/dev/null; then
    check "backup : intègre" test "$(sqlite3 "$TMP/b1.db" 'PRAGMA integrity_check')" = ok
    check "backup : contient la démo" \
        test "$(sqlite3 "$TMP/b1.db" "SELECT count(*) FROM communes WHERE insee='99001'")" = 1
fi
g --data "$D" backup "$TMP/b1.db"
expect_rc "backup (existe)" 1
g --data "$D" backup --force "$TMP/b1.db"
expect_rc "backup --force" 0
g --data "$D" backup "$TMP/nowhere/b.db"
expect_rc "backup (dossier absent)" 1

# ----- tokens -----
g --data "$D" token add supervision --role lecteur
expect_rc "token add" 0
expect_out "token add : secret" '^Secret .*: gu_'
g --data "$D" token list
expect_rc "token list" 0
expect_out "token list" 'supervision +99001 +lecteur +actif'
g --data "$D" token revoke 1
expect_rc "token revoke" 0
g --data "$D" token revoke abc
expect_rc "token revoke invalide" 2

# ----- a second commune -----
g --data "$D" init --insee 69123 --name Lyon --zone A
expect_rc "init (identifiant pris)" 1
expect_err "init (identifiant pris) : conseil" -- '--admin'
g --data "$D" commune list
expect_no_out "init raté : rien d'écrit" '69123'

g --data "$D" init --insee 69123 --name Lyon --zone Z
expect_rc "init zone invalide" 2
expect_err "init zone invalide : valeurs" 'A, B, C'

g --data "$D" init --insee 6912 --name Lyon --zone A
expect_rc "init INSEE invalide" 2

g --data "$D" init --insee 69123 --name Lyon --zone A --admin admin.lyon
expect_rc "init commune réelle" 0
check "init : mot de passe" test -n "$(otp)"

g --data "$D" user add carol --name Carol --role agent
expect_rc "user add sans --commune (2 communes)" 2
expect_err "user add sans --commune : conseil" -- '--commune'

# ----- audit -----
if command -v sqlite3 >/dev/null; then
    n=$(sqlite3 "$D/guichet.db" "SELECT count(*) FROM audit WHERE actor='cli' AND action IN ('commune.create','user.create','user.passwd','user.disable','user.enable','token.create','token.revoke','store.backup')" 2>/dev/null)
    check "audit des actions de la CLI ($n)" test "${n:-0}" -ge 12
fi

# ----- serve -----
g --data "$D" --set server.threads=abc serve
expect_rc "serve configuration invalide" 2
expect_err "serve configuration invalide : clé" 'server\.threads'

"$BIN" --data "$D" serve --listen 127.0.0.1:0 >"$TMP/serve.out" \
    2>"$TMP/serve.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 100); do
    URL=$(sed -n 's|.*sert \(http://[^ ]*/\).*|\1|p' "$TMP/serve.out")
    [ -n "$URL" ] && break
    sleep 0.1
done
check "serve : URL affichée" test -n "$URL"
if [ -n "$URL" ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' "${URL}healthz")
    check "serve : /healthz 200 ($code)" test "$code" = 200
    kill -HUP "$SERVER_PID"
    for _ in $(seq 1 50); do
        grep -q 'msg=reload' "$TMP/serve.err" && break
        sleep 0.1
    done
    check "serve : SIGHUP journalisé" grep -q 'msg=reload' "$TMP/serve.err"
    code=$(curl -s -o /dev/null -w '%{http_code}' "${URL}healthz")
    check "serve : sert encore après SIGHUP ($code)" test "$code" = 200
fi
kill -TERM "$SERVER_PID"
for _ in $(seq 1 150); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
wait "$SERVER_PID"
RC=$?
SERVER_PID=""
cp "$TMP/serve.out" "$TMP/out"
cp "$TMP/serve.err" "$TMP/err"
expect_rc "serve : SIGTERM, code 0" 0
expect_out "serve : arrêt annoncé" 'arrêté'

th_done
