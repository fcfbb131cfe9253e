#!/bin/bash
# tests/privacy/test_personne_cli.sh - `guichet personne export|efface` on
# a demo database with one more person written into it (a booking to
# come with its units, a request, an e-mail; her phone written another
# way in each): the export file (owner-only, JSON, everything of hers),
# the dry run without --oui (exit 2, nothing changed), the erasure (her
# slot freed, no trace of her left in any text column of the commune,
# the audit without personal data), and French usage errors (exit 2).
. "$(dirname "$0")/../lib.sh"
th_init personne "${1:-build/guichet}"
D="$TMP/data"
DB="$D/guichet.db"

gd init --demo
check "init --demo" test "$RC" = 0

# Zoé Kerbrat: a booking in ten days (with its units), a request, an
# e-mail; her phone as 06.12.34.56.78 in the booking, +33... in the request.
/usr/bin/python3 - "$DB" <<'EOF' || fail=$((fail + 1))
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
day = int(time.time()) // 86400 + 10
cur = c.execute(
    "INSERT INTO rdv_bookings (insee, motif_id, place_id, counter_id, day,"
    " start_min, end_min, name, email, phone, status, created_at, updated_at)"
    " VALUES ('99001', 1, 1, 1, ?, 600, 620, 'Zoé Kerbrat',"
    " 'zoe.kerbrat@exemple.fr', '06.12.34.56.78', 1, 0, 0)", (day,))
bid = cur.lastrowid
for u in range(120, 124):
    c.execute("INSERT INTO rdv_units (counter_id, day, unit, lane, booking_id,"
              " insee) VALUES (1, ?, ?, 0, ?, '99001')", (day, u, bid))
c.execute(
    "INSERT INTO tri_requests (insee, number, channel, status, subject, body,"
    " subject_redacted, body_redacted, contact_name, contact_email,"
    " contact_phone, created_at, updated_at) VALUES ('99001', '2026-09999',"
    " 'web', 'nouvelle', 'Lampadaire', 'Le lampadaire est éteint. Zoé"
    " Martin', 'Lampadaire', 'Le lampadaire est éteint. [nom]',"
    " 'Zoé Kerbrat', 'Zoe.Kerbrat@exemple.fr', '+33612345678', 0, 0)")
c.execute(
    "INSERT INTO notify_outbox (insee, kind, to_addr, subject, body,"
    " next_try_at) VALUES ('99001', 'rdv.confirm',"
    " 'zoe.kerbrat@exemple.fr', 'Votre rendez-vous',"
    " 'Bonjour Zoé Kerbrat', 0)")
c.commit()
print(bid)
EOF
BID=$(sql "SELECT id FROM rdv_bookings WHERE name = 'Zoé Kerbrat'")
PAUL=$(sql "SELECT count(*) FROM rdv_bookings WHERE email <> '' AND email <> 'zoe.kerbrat@exemple.fr'")

# ----- export -----
gd personne export --email Zoe.Kerbrat@Exemple.FR --sortie "$TMP/export.json"
check "export : code 0" test "$RC" = 0
check "export : résumé" grep -q "Export écrit dans « $TMP/export.json » : 3 éléments" "$TMP/out"
check "export : fichier du seul propriétaire" test "$(stat -c %a "$TMP/export.json")" = 600
check "export : contenu" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["commune"]["insee"] == "99001", d["commune"]
assert d["recherche"]["courriel"] == "zoe.kerbrat@exemple.fr", d["recherche"]
assert d["recherche"]["telephone"] is None
r = d["donnees"]
assert [b["nom"] for b in r["rdv"]["rendez_vous"]] == ["Zoé Kerbrat"], r["rdv"]
assert r["rdv"]["rendez_vous"][0]["telephone"] == "06.12.34.56.78"
assert [q["numero"] for q in r["demandes"]["demandes"]] == ["2026-09999"]
assert len(r["courriels"]) == 1 and r["courriels"][0]["objet"] == "Votre rendez-vous"
assert d["total"] == 3 and d["resume"]["rdv"] == 1, d["resume"]
assert "usager" not in json.dumps(d)   # nobody else
' "$TMP/export.json"

# by phone, written another way: the booking and the request (and the
# demo request that gave the same number)
gd personne export --telephone "+33 6 12 34 56 78"
check "export --telephone : code 0" test "$RC" = 0
check "export --telephone : JSON sur la sortie" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["recherche"]["telephone"] == "0612345678", d["recherche"]
assert d["resume"]["rdv"] == 1, d["resume"]
assert d["resume"]["demandes"] >= 1, d["resume"]
assert d["resume"]["courriels"] == 0, d["resume"]
' "$TMP/out"
check "export --telephone : résumé sur stderr" grep -q "éléments trouvés" "$TMP/err"

# ----- erasure: dry run, then --oui -----
gd personne efface --email zoe.kerbrat@exemple.fr
check "efface sans --oui : code 2" test "$RC" = 2
check "efface sans --oui : ce qui serait effacé" grep -q "Trouvé pour cette personne dans la commune 99001 : 3 éléments" "$TMP/out"
check "efface sans --oui : conseil" grep -q "relancez avec --oui" "$TMP/err"
check "efface sans --oui : rien d'effacé" test "$(sql "SELECT count(*) FROM rdv_bookings WHERE email = 'zoe.kerbrat@exemple.fr'")" = 1

gd personne efface --email zoe.kerbrat@exemple.fr --telephone 0612345678 --oui
check "efface --oui : code 0" test "$RC" = 0
check "efface --oui : résumé" grep -q "Effacement fait dans la commune 99001" "$TMP/out"
check "efface --oui : rendez-vous annulé" test "$(sql "SELECT status FROM rdv_bookings WHERE id = $BID")" = 2
check "efface --oui : créneau libéré" test "$(sql "SELECT count(*) FROM rdv_units WHERE booking_id = $BID")" = 0
check "efface --oui : aucune trace" /usr/bin/python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
left = []
for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = ?", ("table",)):
    cols = [r[1] for r in c.execute("PRAGMA table_info(\"%s\")" % t)]
    for col in cols:
        for needle in ("kerbrat", "12.34.56.78", "612345678"):
            q = "SELECT count(*) FROM \"%s\" WHERE instr(lower(CAST(\"%s\" AS TEXT)), ?) > 0" % (t, col)
            if "insee" in cols:
                q += " AND insee = %s" % "\x2799001\x27"
            n = c.execute(q, (needle,)).fetchone()[0]
            if n:
                left.append((t, col, needle, n))
assert not left, left
' "$DB"
check "efface --oui : les autres intacts" test "$(sql "SELECT count(*) FROM rdv_bookings WHERE email <> ''")" = "$PAUL"
check "audit : export et effacement, sans donnée personnelle" test "$(sql "SELECT count(*) FROM audit WHERE action IN ('personne.export', 'personne.effacement') AND detail NOT LIKE '%kerbrat%' AND detail NOT LIKE '%0612%'")" = 4
gd personne efface --email zoe.kerbrat@exemple.fr --oui
check "efface deux fois : rien" grep -q "rien n'a été modifié" "$TMP/out"

# ----- usage errors (exit 2, French) -----
gd personne export
check "sans personne : code 2" test "$RC" = 2
check "sans personne : message" grep -q "Indiquez --email ADRESSE ou --telephone" "$TMP/err"
gd personne export --email "zoe@"
check "adresse invalide : code 2" test "$RC" = 2
check "adresse invalide : message" grep -q "Adresse e-mail invalide" "$TMP/err"
gd personne efface --telephone "12 34" --oui
check "numéro invalide : code 2" test "$RC" = 2
check "numéro invalide : message" grep -q "Numéro de téléphone invalide" "$TMP/err"
gd personne export --email a@b.fr --commune 12345
check "commune inconnue : code 2" test "$RC" = 2
check "commune inconnue : message" grep -q "Commune inconnue" "$TMP/err"
gd personne export --email a@b.fr --sortie "$TMP/nope/x.json"
check "sortie impossible : code 1" test "$RC" = 1
gd help personne efface
check "aide" grep -q "droit à l'effacement" "$TMP/out"

echo "$pass passed, $fail failed"
test "$fail" = 0
