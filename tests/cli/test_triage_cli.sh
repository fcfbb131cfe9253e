#!/bin/bash
# tests/cli/test_triage_cli.sh - `guichet triage train|eval` on a tiny TSV
# written here: the model file, the --json object of the interface of
# issue 5, and clear French errors (exit 1) on malformed data or a bad
# model file; then `triage train --commune` on a demo database (the demo
# inbox, a retrain recorded as the active model, usage errors with exit
# 2). No figure is checked against a threshold of speed.
. "$(dirname "$0")/../lib.sh"
th_init triage "${1:-build/guichet}"

# Label first, text second, an extra column: any order is accepted.
{
    printf 'label\ttext\tsource\n'
    for i in 1 2 3 4 5 6; do
        printf 'voirie\tnid de poule rue %s, la chaussée est abîmée\tweb\n' "$i"
        printf 'voirie\ttrottoir cassé devant le numéro %s\tmail\n' "$i"
        printf 'dechets\tpoubelles pas ramassées rue %s\tweb\n' "$i"
        printf 'dechets\tdépôt sauvage de déchets près du %s\tweb\n' "$i"
        printf 'cantine\tinscription cantine de l enfant %s\tmail\n' "$i"
        printf 'cantine\tmenu de la cantine du jour %s\tweb\n' "$i"
    done
} >"$TMP/train.tsv"
printf 'text\tlabel\ntrou dans la chaussée\tvoirie\nles poubelles débordent\tdechets\nmenu cantine\tcantine\n' >"$TMP/test.tsv"

g triage train --data "$TMP/train.tsv" --model "$TMP/m.bin"
check "train : code 0" test "$RC" = 0
check "train : modèle écrit" test -s "$TMP/m.bin"
check "train : temps affiché" grep -q 'Apprentissage en' "$TMP/out"

g triage eval --model "$TMP/m.bin" --data "$TMP/test.tsv" --json
check "eval --json : code 0" test "$RC" = 0
check "eval --json : un objet" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["n"] == 3, o
assert 0 <= o["accuracy"] <= 1 and 0 <= o["macro_f1"] <= 1, o
assert 0 <= o["ece"] <= 1 and o["texts_per_s"] > 0, o
assert o["accuracy"] == 1.0, o  # three easy texts
' "$TMP/out"

g triage eval --model "$TMP/m.bin" --data "$TMP/test.tsv"
check "eval : tableau" grep -q 'Matrice de confusion' "$TMP/out"
check "eval : F1 macro" grep -q 'F1 macro' "$TMP/out"

printf 'text\tlabel\nun\tvoirie\ndeux\n' >"$TMP/bad.tsv"
g triage train --data "$TMP/bad.tsv" --model "$TMP/m2.bin"
check "ligne courte : code 1" test "$RC" = 1
check "ligne courte : numéro de ligne" grep -q 'Ligne 3' "$TMP/err"
check "ligne courte : pas de modèle" test ! -e "$TMP/m2.bin"

printf 'texte\tservice\nun\tvoirie\n' >"$TMP/bad.tsv"
g triage train --data "$TMP/bad.tsv" --model "$TMP/m2.bin"
check "en-tête : code 1" test "$RC" = 1
check "en-tête : message" grep -q 'text' "$TMP/err"

head -c 100 "$TMP/m.bin" >"$TMP/cut.bin"
g triage eval --model "$TMP/cut.bin" --data "$TMP/test.tsv" --json
check "modèle tronqué : code 1" test "$RC" = 1
check "modèle tronqué : message" grep -q 'modèle invalide' "$TMP/err"

g triage train --model "$TMP/m3.bin"
check "sans --data : code 2" test "$RC" = 2

# The commune's models in a database (the demo commune has an inbox).
D="$TMP/data"
g --data "$D" init --demo
check "init --demo : code 0" test "$RC" = 0
check "init --demo : demandes" grep -q 'demandes de démonstration' "$TMP/out"
g --data "$D" init --demo
check "init --demo relancé : code 0" test "$RC" = 0
check "init --demo relancé : rien de plus" test "$(sqlite3 "$D/guichet.db" 'SELECT COUNT(*) FROM tri_requests')" -ge 10 -a "$(sqlite3 "$D/guichet.db" 'SELECT COUNT(*) FROM tri_requests')" -lt 20
g --data "$D" triage train --commune 99001
check "train --commune : code 0" test "$RC" = 0
check "train --commune : version" grep -q 'Modèle triage-' "$TMP/out"
check "train --commune : actif" grep -q 'le modèle est actif' "$TMP/out"
check "train --commune : deux modèles de service" test "$(sqlite3 "$D/guichet.db" "SELECT COUNT(*) FROM tri_models WHERE kind = 'service' AND insee = '99001'")" = 2
check "train --commune : un seul actif" test "$(sqlite3 "$D/guichet.db" "SELECT COUNT(*) FROM tri_models WHERE kind = 'service' AND active = 1")" = 1
g --data "$D" triage train --commune 98765
check "commune inconnue : code 2" test "$RC" = 2
check "commune inconnue : message" grep -q 'Commune inconnue' "$TMP/err"
g --data "$D" triage train --commune 99001 --model "$TMP/x.bin"
check "--commune et --model : code 2" test "$RC" = 2
g --data "$TMP/nowhere" triage train --commune 99001
check "sans base : code non nul" test "$RC" != 0
check "sans base : message" grep -q 'init' "$TMP/err"

th_done
