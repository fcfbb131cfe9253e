#!/bin/bash
# tests/cli/test_forecast_cli.sh - `guichet forecast fit|predict|backtest|
# recommend` on a small canteen written here (weekday pattern, closed on
# Wednesdays and weekends, the cook's own forecast 7 % above): the French
# tables, the --json objects, the agents' forecast shown but never chosen,
# orders that grow when the risk shrinks, no forecast on a closed day,
# and clear errors with the exit codes of the other commands (2: usage,
# 1: too little data). No figure is checked against a threshold of speed.
. "$(dirname "$0")/../lib.sh"
th_init forecast "${1:-build/guichet}"
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

gd init --insee 44109 --name Nantes --zone B
check "init : code 0" test "$RC" = 0
gd forecast import --serie cantine-moulin --type cantine --unite repas "$TMP/cantine.csv"
check "import cantine : code 0" test "$RC" = 0
gd forecast import --serie accueil --type accueil "$TMP/accueil.csv"
check "import accueil : code 0" test "$RC" = 0

# fit: one series, then the commune (the small counter is skipped).
gd forecast fit --serie cantine-moulin
check "fit : code 0" test "$RC" = 0
check "fit : méthode et WAPE" grep -q 'cantine-moulin : .*(WAPE [0-9]*,[0-9] %), données jusqu.au 2016-05-27' "$TMP/out"
check "fit : jamais la prévision des agents" bash -c '! grep -q "Prévision des agents" "$0"' "$TMP/out"
gd forecast fit --serie accueil
check "fit trop peu de données : code 1" test "$RC" = 1
check "fit trop peu de données : message" grep -q 'Pas assez de données' "$TMP/err"
gd forecast fit --json
check "fit commune --json : code 0" test "$RC" = 0
check "fit commune --json : compte" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o == {"commune": "44109", "fitted": 1, "skipped": 1}, o
' "$TMP/out"
gd forecast fit
check "fit commune : phrase" grep -q 'Commune 44109 : 1 série calculée, 1 ignorée (pas assez de données).' "$TMP/out"
check "fit : inscrit au journal" test "$(sqlite3 "$D/guichet.db" "SELECT COUNT(*) FROM audit WHERE action LIKE 'forecast.fit%' AND actor = 'cli'")" -ge 3

# predict: the days ahead, never a Wednesday or a weekend.
gd forecast predict --serie cantine-moulin --jours 7
check "predict : code 0" test "$RC" = 0
check "predict : en-tête" grep -q 'Jour .*P10 .*P50 .*P90' "$TMP/out"
check "predict : lundi 30 mai" grep -q 'lundi 30 mai 2016' "$TMP/out"
check "predict : pas de mercredi" bash -c '! grep -q "mercredi" "$0"' "$TMP/out"
check "predict : pas de week-end" bash -c '! grep -qE "samedi|dimanche" "$0"' "$TMP/out"
gd forecast predict --serie cantine-moulin --json
check "predict --json" python3 -c '
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
gd forecast predict --serie cantine-moulin --jours 40
check "predict --jours 40 : code 2" test "$RC" = 2
check "predict --jours 40 : message" grep -q 'entre 1 et 14' "$TMP/err"
gd forecast predict --serie inconnue
check "série inconnue : code 2" test "$RC" = 2
check "série inconnue : message" grep -q 'Série inconnue' "$TMP/err"
gd forecast predict
check "sans --serie : code 2" test "$RC" = 2

# backtest: the agents' forecast first, the chosen method marked.
gd forecast backtest --serie cantine-moulin
check "backtest : code 0" test "$RC" = 0
check "backtest : agents en tête" bash -c 'sed -n 5p "$0" | grep -q "Prévision des agents"' "$TMP/out"
check "backtest : choisie marquée" grep -q '(choisie)' "$TMP/out"
check "backtest : colonnes" grep -q 'WAPE %.*Biais %.*Surpr. %.*J. courts' "$TMP/out"
gd forecast backtest --serie cantine-moulin --json
check "backtest --json" python3 -c '
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
gd forecast recommend --serie cantine-moulin --risque "1 sur 20"
check "recommend : code 0" test "$RC" = 0
check "recommend : risque affiché" grep -q 'au plus 5,0 % de jours en manque' "$TMP/out"
check "recommend : surplus total" grep -q 'Surplus attendu sur ces jours : .* repas' "$TMP/out"
gd forecast recommend --serie cantine-moulin --risque "1 sur 50" --json
cp "$TMP/out" "$TMP/r50.json"
gd forecast recommend --serie cantine-moulin --risque "30 %" --json
check "recommend : risque -> commande" python3 -c '
import json, sys
lo = json.load(open(sys.argv[1])); hi = json.load(open(sys.argv[2]))
assert abs(lo["risk"] - 0.02) < 1e-9 and abs(hi["risk"] - 0.3) < 1e-9
assert len(lo["days"]) == len(hi["days"]) == 8
assert all(a["order"] >= b["order"] for a, b in zip(lo["days"], hi["days"]))
assert any(a["order"] > b["order"] for a, b in zip(lo["days"], hi["days"]))
assert lo["surplus"] > hi["surplus"]
' "$TMP/r50.json" "$TMP/out"
gd forecast recommend --serie cantine-moulin --risque beaucoup
check "risque illisible : code 2" test "$RC" = 2
check "risque illisible : message" grep -q '1 sur 20' "$TMP/err"
gd forecast recommend --serie cantine-moulin --risque "90 %"
check "risque hors bornes : code 2" test "$RC" = 2

gd forecast fit --commune 98765
check "commune inconnue : code 2" test "$RC" = 2
check "commune inconnue : message" grep -q 'Commune inconnue' "$TMP/err"
gd forecast fit --help
check "aide : code 0" test "$RC" = 0
check "aide : française" grep -q 'Calcule les prévisions' "$TMP/out"

th_done
