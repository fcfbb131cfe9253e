#!/bin/bash
# test_migrate.sh - `guichet migrate --from sqlite:PATH --to URL`, end to end.
#
#   tests/cli/test_migrate.sh [path/to/guichet]     (default: build/guichet)
#
# Builds the demo database (guichet init --demo), adds values that must
# come back bit for bit, copies it SQLite -> SQLite and checks the printed
# counts and fingerprints against sqlite3's own counts and a sorted dump of
# both files; then the refusals (non-empty destination, bad URLs, missing,
# corrupt, foreign, outdated or newer source, unreachable destination), a
# destination that alters or drops rows (the verification must say NON and
# exit 1) and a copy that fails midway (nothing may be left behind). When
# GUICHET_TEST_PG holds a libpq conninfo, the same copy goes into a fresh
# PostgreSQL schema, new ids continue after the copied ones, and
# `guichet serve` answers on it. Prints "N passed, N failed".
set -u

cd "$(dirname "$0")/../.."
. tests/lib.sh
th_init migrate "${1:-build/guichet}"
PG="${GUICHET_TEST_PG:-}"
PGDB="guichet_mig_$$"
PGMADE=""
SERVER_PID=""

th_cleanup_hook() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
    [ -n "$PGMADE" ] &&
        psql -q "$PG" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" \
            >/dev/null 2>&1
}

# The tables a copy covers, and their rows counted by sqlite3 itself.
tables() {
    sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type = 'table'
        AND name NOT LIKE 'sqlite%' AND name <> 'schema_migrations'
        ORDER BY name"
}
count_all() { # db -> total rows
    local n=0 t
    for t in $(tables "$1"); do
        n=$((n + $(sqlite3 "$1" "SELECT count(*) FROM \"$t\"")))
    done
    echo "$n"
}
# Every row of every table, as SQL literals (reals with all their
# digits), sorted: two files with the same rows give the same dump.
dump() {
    local t
    for t in $(tables "$1"); do
        sqlite3 -cmd ".mode quote" "$1" "SELECT '$t', * FROM \"$t\""
    done | sort
}
# The printed line of one table: "name src dst fingerprint ok".
row_of() { # table
    awk -v t="$1" '$1 == t' "$TMP/out"
}

# ----- the source: the demo commune, plus values that must round-trip -----
g --data "$TMP/src" init --demo
expect_rc "init --demo" 0
SRC="$TMP/src/guichet.db"
# Reals whose every bit matters, text with quotes, newlines and non-ASCII.
sqlite3 "$SRC" "
UPDATE fc_points SET value = 0.1 + 0.2
 WHERE rowid = (SELECT min(rowid) FROM fc_points);
UPDATE fc_points SET value = 4.9406564584124654e-324
 WHERE rowid = (SELECT min(rowid) + 1 FROM fc_points);
UPDATE fc_points SET value = 1.7976931348623157e308
 WHERE rowid = (SELECT min(rowid) + 2 FROM fc_points);
UPDATE fc_points SET value = -2.5e-17, staff = NULL
 WHERE rowid = (SELECT min(rowid) + 3 FROM fc_points);
UPDATE communes SET hours = 'Lun. 8h30–12h « l''été »' || char(10) ||
 'Ven. : fermé ☎ 😀 \"' WHERE insee = '99001';" 2>"$TMP/err"
check "valeurs limites écrites" test ! -s "$TMP/err"
NSRC=$(count_all "$SRC")
check "source : lignes comptées ($NSRC)" test "$NSRC" -gt 10000

# ----- SQLite -> SQLite -----
DST="$TMP/dst.db"
T0=$(date +%s%N)
g migrate --from "sqlite:$SRC" --to "sqlite:$DST"
T1=$(date +%s%N)
expect_rc "copie sqlite -> sqlite" 0
expect_out "en-tête du tableau" \
    '^table +lignes source +lignes destination +empreinte +ok$'
expect_out "verdict identique" '^Verdict : copie identique'
expect_no_out "aucune table NON" ' NON'
expect_out "total = lignes comptées par sqlite3" "^total +$NSRC +$NSRC\$"
NTAB=$(tables "$SRC" | wc -l)
check "une ligne par table ($NTAB)" \
    test "$(grep -Ec ' [0-9a-f]{16}  oui$' "$TMP/out")" = "$NTAB"
for t in rdv_bookings mon_points fc_points communes audit tri_models; do
    n=$(sqlite3 "$SRC" "SELECT count(*) FROM $t")
    check "$t : $n lignes des deux côtés" \
        test "$(row_of "$t" | awk '{print $2 "/" $3 "/" $5}')" = "$n/$n/oui"
done
echo "# sqlite -> sqlite : $NTAB tables, $NSRC lignes," \
    "$(((T1 - T0) / 1000000)) ms (copie et vérification)"
# The copy adds one audit entry after its verification.
dump "$SRC" >"$TMP/src.dump"
dump "$DST" | grep -v "'store.copy'" >"$TMP/dst.dump"
check "contenu identique (dump trié de sqlite3)" \
    cmp -s "$TMP/src.dump" "$TMP/dst.dump"
check "réel 0.1 + 0.2 au bit près" test \
    "$(sqlite3 "$DST" "SELECT count(*) FROM fc_points WHERE value = 0.1 + 0.2")" \
    = "$(sqlite3 "$SRC" "SELECT count(*) FROM fc_points WHERE value = 0.1 + 0.2")"
check "une entrée d'audit store.copy" test \
    "$(sqlite3 "$DST" "SELECT count(*) FROM audit WHERE action = 'store.copy'")" = 1
FP_SQLITE=$(grep -E '^[a-z_]+ +[0-9]+ +[0-9]+ +[0-9a-f]{16}' "$TMP/out" |
    awk '{print $1, $4}' | sort)
# New rows take ids after the copied ones.
g --set "store.url=sqlite:$DST" user add bob --name Bob --role agent
expect_rc "destination : un agent de plus" 0
check "destination : nouvel id après les copiés" test \
    "$(sqlite3 "$DST" "SELECT id FROM agents WHERE login = 'bob'")" = \
    "$(($(sqlite3 "$SRC" "SELECT max(id) FROM agents") + 1))"

# ----- refusals -----
g migrate --from "sqlite:$SRC" --to "sqlite:$DST"
expect_rc "destination non vide : refus" 1
expect_err "destination non vide : message" 'contient déjà des données'
check "destination non vide : inchangée" test \
    "$(sqlite3 "$DST" "SELECT count(*) FROM rdv_bookings")" = \
    "$(sqlite3 "$SRC" "SELECT count(*) FROM rdv_bookings")"

g migrate --from "sqlite:$SRC"
expect_rc "sans --to" 2
expect_err "sans --to : message" -- '--to'
g migrate --from "postgres:dbname=x" --to "sqlite:$TMP/x.db"
expect_rc "--from non SQLite" 2
g migrate --from "sqlite:$SRC" --to "mysql://x"
expect_rc "--to inconnu" 2
expect_err "--to inconnu : message" 'postgres:'
g migrate --from "sqlite:$SRC" --to "sqlite:$SRC"
expect_rc "source = destination" 2
g migrate --from "sqlite:$TMP/absente.db" --to "sqlite:$TMP/x.db"
expect_rc "source absente" 1
expect_err "source absente : message" 'introuvable'
check "source absente : pas de destination créée" test ! -e "$TMP/x.db"

printf 'ceci n est pas une base SQLite %0100d\n' 0 >"$TMP/junk.db"
g migrate --from "sqlite:$TMP/junk.db" --to "sqlite:$TMP/x.db"
expect_rc "source illisible" 1
expect_err "source illisible : message" "n'est pas une base SQLite lisible"

head -c 3000000 "$SRC" >"$TMP/trunc.db"
g migrate --from "sqlite:$TMP/trunc.db" --to "sqlite:$TMP/x2.db"
check "source tronquée : refus ($RC)" test "$RC" != 0
check "source tronquée : destination sans ligne" test \
    "$(sqlite3 "$TMP/x2.db" "SELECT count(*) FROM communes" 2>/dev/null || echo 0)" = 0

sqlite3 "$TMP/foreign.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1);"
g migrate --from "sqlite:$TMP/foreign.db" --to "sqlite:$TMP/x.db"
expect_rc "base étrangère" 1
expect_err "base étrangère : message" "pas une base Guichet"

cp "$SRC" "$TMP/old.db"
sqlite3 "$TMP/old.db" "DELETE FROM schema_migrations WHERE module = 'insight'"
g migrate --from "sqlite:$TMP/old.db" --to "sqlite:$TMP/x3.db"
expect_rc "source pas à jour" 1
expect_err "source pas à jour : message" "pas à jour.*insight v1"

cp "$SRC" "$TMP/new.db"
sqlite3 "$TMP/new.db" \
    "INSERT INTO schema_migrations VALUES ('futur', 1, 0)"
g migrate --from "sqlite:$TMP/new.db" --to "sqlite:$TMP/x4.db"
expect_rc "source plus récente" 1
expect_err "source plus récente : message" "plus récente.*futur v1"

g migrate --from "sqlite:$SRC" --to "postgres:host=$TMP/nowhere dbname=x"
expect_rc "destination injoignable" 1
expect_err "destination injoignable : message" 'Destination injoignable'

# A destination where `guichet migrate` ran holds its audit entry: refused
# (the copy makes the schema itself).
PRE="$TMP/pre.db"
g --set "store.url=sqlite:$PRE" migrate
g migrate --from "sqlite:$SRC" --to "sqlite:$PRE"
expect_rc "destination déjà migrée : refus" 1
expect_err "destination déjà migrée : audit nommé" 'non vide : audit'

# schema_only DB: a destination with the schema and no row at all (the
# audit entry of `guichet migrate` removed behind the guard's back).
schema_only() {
    g --set "store.url=sqlite:$1" migrate
    sqlite3 "$1" "DROP TRIGGER audit_no_delete; DELETE FROM audit;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
}

# ----- a destination that changes what it is given: NON, exit 1 -----
BAD="$TMP/bad.db"
schema_only "$BAD"
sqlite3 "$BAD" "
CREATE TRIGGER mig_round AFTER INSERT ON fc_points BEGIN
  UPDATE fc_points SET value = round(value, 3)
   WHERE series_id = NEW.series_id AND t = NEW.t; END;
CREATE TRIGGER mig_drop AFTER INSERT ON mon_points
  WHEN NEW.sensor_id = $(sqlite3 "$SRC" "SELECT sensor_id || ' AND NEW.t = ' ||
      t FROM mon_points ORDER BY sensor_id, t LIMIT 1 OFFSET 99") BEGIN
  DELETE FROM mon_points WHERE rowid = NEW.rowid; END;"
g migrate --from "sqlite:$SRC" --to "sqlite:$BAD"
expect_rc "copie altérée : code 1" 1
expect_out "copie altérée : réels arrondis vus" '^fc_points .* NON'
expect_out "copie altérée : ligne perdue vue" \
    "^mon_points +$(sqlite3 "$SRC" "SELECT count(*) FROM mon_points") +$(($(sqlite3 "$SRC" "SELECT count(*) FROM mon_points") - 1)) .* NON"
expect_out "copie altérée : le reste est oui" '^rdv_bookings .* oui$'
expect_out "copie altérée : verdict" '^Verdict : DIFFÉRENCES sur 2 tables'
expect_err "copie altérée : message" 'pas une copie fidèle'

# ----- a copy that fails midway leaves no row behind -----
HALF="$TMP/half.db"
schema_only "$HALF"
sqlite3 "$HALF" "CREATE TRIGGER mig_fail BEFORE INSERT ON rdv_bookings
  BEGIN SELECT RAISE(ABORT, 'panne simulée'); END;"
g migrate --from "sqlite:$SRC" --to "sqlite:$HALF"
expect_rc "panne à mi-copie : code 1" 1
expect_err "panne à mi-copie : table nommée" 'annulée à la table « rdv_bookings »'
expect_err "panne à mi-copie : cause" 'panne simulée'
# (rows a migration seeds, such as counters, are there from the start)
schema_only "$TMP/ref.db"
check "panne à mi-copie : aucune ligne laissée" \
    test "$(dump "$HALF")" = "$(dump "$TMP/ref.db")"
sqlite3 "$HALF" "DROP TRIGGER mig_fail"
g migrate --from "sqlite:$SRC" --to "sqlite:$HALF"
expect_rc "panne à mi-copie : relance réussie" 0
expect_out "panne à mi-copie : relance identique" '^Verdict : copie identique'

# ----- PostgreSQL -----
if [ -z "$PG" ]; then
    echo "# PostgreSQL : ignoré (GUICHET_TEST_PG n'est pas défini)"
elif ! psql -q "$PG" -c "CREATE DATABASE $PGDB" >/dev/null 2>"$TMP/err"; then
    RC=$?
    ko "PostgreSQL : CREATE DATABASE impossible avec GUICHET_TEST_PG"
else
    # A database of its own, not a schema: the backend's write lock is an
    # advisory lock, shared by every schema of one database (other suites
    # running at the same time would hold it).
    PGMADE=1
    PGURL="postgres:$PG dbname=$PGDB"
    T0=$(date +%s%N)
    g migrate --from "sqlite:$SRC" --to "$PGURL"
    T1=$(date +%s%N)
    expect_rc "copie sqlite -> postgres" 0
    expect_out "postgres : verdict identique" '^Verdict : copie identique'
    expect_no_out "postgres : aucune table NON" ' NON'
    expect_out "postgres : total" "^total +$NSRC +$NSRC\$"
    expect_out "postgres : compteurs remis" "^Compteurs d'identifiants remis"
    echo "# sqlite -> postgres : $NTAB tables, $NSRC lignes," \
        "$(((T1 - T0) / 1000000)) ms (copie et vérification)"
    FP_PG=$(grep -E '^[a-z_]+ +[0-9]+ +[0-9]+ +[0-9a-f]{16}' "$TMP/out" |
        awk '{print $1, $4}' | sort)
    check "postgres : mêmes empreintes que sqlite -> sqlite" \
        test "$FP_PG" = "$FP_SQLITE"
    PSQL=(psql -Atq "$PG dbname=$PGDB")
    check "postgres : rdv_bookings compté par psql" test \
        "$("${PSQL[@]}" -c "SELECT count(*) FROM rdv_bookings")" = \
        "$(sqlite3 "$SRC" "SELECT count(*) FROM rdv_bookings")"
    check "postgres : réel 0.1 + 0.2 au bit près" test \
        "$("${PSQL[@]}" -c "SELECT count(*) FROM fc_points WHERE value = 0.1::float8 + 0.2::float8")" = 1
    check "postgres : texte non ASCII intact" test \
        "$("${PSQL[@]}" -c "SELECT md5(hours) FROM communes WHERE insee = '99001'")" = \
        "$(sqlite3 "$SRC" "SELECT hours FROM communes WHERE insee = '99001'" |
            head -c -1 | md5sum | cut -d' ' -f1)"
    g --set "store.url=$PGURL" user add bob --name Bob --role agent
    expect_rc "postgres : un agent de plus (séquence remise)" 0
    check "postgres : nouvel id après les copiés" test \
        "$("${PSQL[@]}" -c "SELECT id FROM agents WHERE login = 'bob'")" = \
        "$(($(sqlite3 "$SRC" "SELECT max(id) FROM agents") + 1))"
    g migrate --from "sqlite:$SRC" --to "$PGURL"
    expect_rc "postgres non vide : refus" 1
    expect_err "postgres non vide : message" 'contient déjà des données'

    # The migrated database serves the commune.
    "$BIN" --data "$TMP/pgsrv" --set "store.url=$PGURL" serve \
        --listen 127.0.0.1:0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
    SERVER_PID=$!
    URL=""
    for _ in $(seq 1 150); do
        URL=$(sed -n 's|.*sert \(http://[^ ]*/\).*|\1|p' "$TMP/serve.out")
        [ -n "$URL" ] && break
        sleep 0.1
    done
    check "postgres : serve démarre" test -n "$URL"
    if [ -n "$URL" ]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' "${URL}healthz")
        check "postgres : /healthz 200 ($code)" test "$code" = 200
        curl -s "${URL}" >"$TMP/home.html"
        check "postgres : le portail nomme la commune" \
            grep -q 'Saint-Exemple' "$TMP/home.html"
        code=$(curl -s -o /dev/null -w '%{http_code}' "${URL}rdv")
        check "postgres : /rdv 200 ($code)" test "$code" = 200
    fi
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
fi

th_done
