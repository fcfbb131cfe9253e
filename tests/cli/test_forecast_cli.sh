#!/bin/bash
# tests/cli/test_forecast_cli.sh - `guichet forecast fit|predict|backtest|
# recommend` on a small canteen written here (weekday pattern, closed on
# Wednesdays and weekends, the cook's own forecast 7 % above): the French
# tables, the --json objects, the agents' forecast shown but never chosen,
# orders that grow when the risk shrinks, no forecast on a closed day,
# and clear errors with the exit codes of the other commands (2: usage,
# 1: too little data). No figure is checked against a threshold of speed.
BIN=$(realpath "${1:-build/guichet}")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/guichet-forecast.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
for v in $(env | sed -n 's/^\(GUICHET_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
pass=0
fail=0
t() { # name command...
    local name=$1
    shift
    if "$@"; then pass=$((pass + 1)); else
        fail=$((fail + 1))
        echo "ÉCHEC : $name" >&2
        sed 's/^/  | /' "$TMP/out" "$TMP/err" | head -20 >&2
    fi
}
g() {
    "$BIN" --data "$D" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    RC=$?
}
D="$TMP/var"

# 21 weeks of a canteen from Monday 2016-01-04 (Monday 200, Tuesday 230,
# Thursday 250, Friday 170 meals, +-5 %), and 10 days of a counter.
python3 - "$TMP" <<'EOF'
import datetime, random, sys
rnd = random.Random(5)
d0 = datetime.date(2016, 1, 4)
base = {1: 200, 2: 230, 4: 250, 5: 170}
with open(sys.argv[1] + "/cantine.csv", "w") as f:
    f.write("date;valeur;prevision\n")
    for i in range(147):
        d = d0 + datetime.timedelta(days=i)
        if d.isoweekday() in base:
            v = round(base[d.isoweekday()] * (1 + rnd.uniform(-0.05, 0.05)))
            f.write(f"{d.strftime('%d/%m/%Y')};{v};{round(v * 1.07)}\n")
with open(sys.argv[1] + "/accueil.csv", "w") as f:
    for i in range(10):
        d = d0 + datetime.timedelta(days=i)
        f.write(f"{d.isoformat()};{20 + i}\n")
EOF

g init --insee 44109 --name Nantes --zone B
t "init : code 0" test "$RC" = 0
g forecast import --serie cantine-moulin --type cantine --unite repas "$TMP/cantine.csv"
t "import cantine : code 0" test "$RC" = 0
g forecast import --serie accueil --type accueil "$TMP/accueil.csv"
t "import accueil : code 0" test "$RC" = 0

# fit: one series, then the commune (the small counter is skipped).
g forecast fit --serie cantine-moulin
t "fit : code 0" test "$RC" = 0
t "fit : méthode et WAPE" grep -q 'cantine-moulin : .*(WAPE [0-9]*,[0-9] %), données jusqu.au 2016-05-27' "$TMP/out"
t "fit : jamais la prévision des agents" bash -c '! grep -q "Prévision des agents" "$0"' "$TMP/out"
g forecast fit --serie accueil
t "fit trop peu de données : code 1" test "$RC" = 1
t "fit trop peu de données : message" grep -q 'Pas assez de données' "$TMP/err"
g forecast fit --json
t "fit commune --json : code 0" test "$RC" = 0
t "fit commune --json : compte" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o == {"commune": "44109", "fitted": 1, "skipped": 1}, o
' "$TMP/out"
g forecast fit
t "fit commune : phrase" grep -q 'Commune 44109 : 1 série calculée, 1 ignorée (pas assez de données).' "$TMP/out"
t "fit : inscrit au journal" test "$(sqlite3 "$D/guichet.db" "SELECT COUNT(*) FROM audit WHERE action LIKE 'forecast.fit%' AND actor = 'cli'")" -ge 3

# predict: the days ahead, never a Wednesday or a weekend.
g forecast predict --serie cantine-moulin --jours 7
t "predict : code 0" test "$RC" = 0
t "predict : en-tête" grep -q 'Jour .*P10 .*P50 .*P90' "$TMP/out"
t "predict : lundi 30 mai" grep -q 'lundi 30 mai 2016' "$TMP/out"
t "predict : pas de mercredi" bash -c '! grep -q "mercredi" "$0"' "$TMP/out"
t "predict : pas de week-end" bash -c '! grep -qE "samedi|dimanche" "$0"' "$TMP/out"
g forecast predict --serie cantine-moulin --json
t "predict --json" python3 -c '
import json, sys, datetime
o = json.load(open(sys.argv[1]))
assert o["serie"] == "cantine-moulin" and o["method"] != "staff", o
days = o["days"]
assert len(days) == 8, days  # two weeks of Monday, Tuesday, Thursday, Friday
for d in days:
    wd = datetime.date.fromisoformat(d["date"]).isoweekday()
    assert wd in (1, 2, 4, 5), d
    assert 0 < d["p10"] <= d["p50"] <= d["p90"] < 400, d
' "$TMP/out"
g forecast predict --serie cantine-moulin --jours 40
t "predict --jours 40 : code 2" test "$RC" = 2
t "predict --jours 40 : message" grep -q 'entre 1 et 14' "$TMP/err"
g forecast predict --serie inconnue
t "série inconnue : code 2" test "$RC" = 2
t "série inconnue : message" grep -q 'Série inconnue' "$TMP/err"
g forecast predict
t "sans --serie : code 2" test "$RC" = 2

# backtest: the agents' forecast first, the chosen method marked.
g forecast backtest --serie cantine-moulin
t "backtest : code 0" test "$RC" = 0
t "backtest : agents en tête" bash -c 'sed -n 5p "$0" | grep -q "Prévision des agents"' "$TMP/out"
t "backtest : choisie marquée" grep -q '(choisie)' "$TMP/out"
t "backtest : colonnes" grep -q 'WAPE %.*Biais %.*Surpr. %.*J. courts' "$TMP/out"
g forecast backtest --serie cantine-moulin --json
t "backtest --json" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
s = {x["method"]: x for x in o["scores"]}
assert o["scores"][0]["method"] == "staff", o
assert o["chosen"] != "staff" and o["chosen"] in s, o
assert s[o["chosen"]]["wape"] <= s["last_week"]["wape"], o
assert abs(s["staff"]["overproduction"] - 7) < 1, s["staff"]
assert s["staff"]["short_days"] == 0, s["staff"]
' "$TMP/out"

# recommend: the orders grow when the risk shrinks.
g forecast recommend --serie cantine-moulin --risque "1 sur 20"
t "recommend : code 0" test "$RC" = 0
t "recommend : risque affiché" grep -q 'au plus 5,0 % de jours en manque' "$TMP/out"
t "recommend : surplus total" grep -q 'Surplus attendu sur ces jours : .* repas' "$TMP/out"
g forecast recommend --serie cantine-moulin --risque "1 sur 50" --json
cp "$TMP/out" "$TMP/r50.json"
g forecast recommend --serie cantine-moulin --risque "30 %" --json
t "recommend : risque -> commande" python3 -c '
import json, sys
lo = json.load(open(sys.argv[1])); hi = json.load(open(sys.argv[2]))
assert abs(lo["risk"] - 0.02) < 1e-9 and abs(hi["risk"] - 0.3) < 1e-9
assert len(lo["days"]) == len(hi["days"]) == 8
assert all(a["order"] >= b["order"] for a, b in zip(lo["days"], hi["days"]))
assert any(a["order"] > b["order"] for a, b in zip(lo["days"], hi["days"]))
assert lo["surplus"] > hi["surplus"]
' "$TMP/r50.json" "$TMP/out"
g forecast recommend --serie cantine-moulin --risque beaucoup
t "risque illisible : code 2" test "$RC" = 2
t "risque illisible : message" grep -q '1 sur 20' "$TMP/err"
g forecast recommend --serie cantine-moulin --risque "90 %"
t "risque hors bornes : code 2" test "$RC" = 2

g forecast fit --commune 98765
t "commune inconnue : code 2" test "$RC" = 2
t "commune inconnue : message" grep -q 'Commune inconnue' "$TMP/err"
g forecast fit --help
t "aide : code 0" test "$RC" = 0
t "aide : française" grep -q 'Calcule les prévisions' "$TMP/out"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
