#!/bin/bash
# test_rdv_mail.sh - appointment e-mails end to end, through a real SMTP
# server (aiosmtpd), from a real `guichet serve`.
#
#   tests/mail/test_rdv_mail.sh [path/to/guichet]     (default: build/guichet)
#
# 1. `guichet init --demo`, then `guichet serve` with smtp.* pointing at
#    tests/mail/smtp_sink.py, server.public_url set and rdv.sms_command a
#    small script; a resident books through the JSON API (motifs, slots,
#    POST /api/v1/rdv/bookings). The confirmation reaches the sink: its
#    subject, its French text (date written out, place, link holding the
#    token the API returned) and its .ics attachment, parsed with Debian's
#    python3-icalendar (DTSTART in Europe/Paris equal to the booked start,
#    UID on the public host, VTIMEZONE).
# 2. The booking is moved (in the database) to start in 30 hours and
#    backdated, as if made ten days ago; a new `guichet serve` runs the
#    reminders job at start: the reminder reaches the sink (confirm and
#    cancel links with their own token, which the page and the API
#    accept), the SMS script receives the number and a French text, each
#    is logged once, and the phone number never appears in the server's
#    logs.
# 3. `guichet purge` runs every purge and says what it did.
# Prints "N passed, N failed" and exits non-zero on any failure.
set -u

cd "$(dirname "$0")/../.."
. tests/lib.sh
th_init rdv-mail "${1:-build/guichet}"
SINK="$PWD/tests/mail/smtp_sink.py"
SINK_PID=""
SERVER_PID=""
RC=-

th_cleanup_hook() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
    [ -n "$SINK_PID" ] && kill -TERM "$SINK_PID" 2>/dev/null
}

export GUICHET_LOG_LEVEL=info

if ! "$PY" -c 'import aiosmtpd, icalendar' 2>/dev/null; then
    echo "python3-aiosmtpd et python3-icalendar sont nécessaires" \
        "(scripts/deps.sh --test)" >&2
    exit 1
fi

start_sink() {
    : >"$TMP/sink.out"
    "$PY" "$SINK" "$1" >"$TMP/sink.out" 2>"$TMP/sink.err" &
    SINK_PID=$!
    PORT=""
    for _ in $(seq 100); do
        PORT=$(sed -n 's/^PORT //p' "$TMP/sink.out")
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    echo "le puits SMTP ne démarre pas :" >&2
    cat "$TMP/sink.err" >&2
    exit 1
}

# The SMS gateway: a script that writes its arguments, one per line.
cat >"$TMP/sms.sh" <<EOF
#!/bin/sh
for a in "\$@"; do printf '%s\n' "\$a"; done >>"$TMP/sms.out"
EOF
chmod 700 "$TMP/sms.sh"

PUBLIC=https://rdv.saint-exemple.fr
FROM="Mairie de Saint-Exemple <mairie@saint-exemple.fr>"
TO="marie.dupont@exemple.fr"

# start_serve LOG: serve in the background; sets URL.
start_serve() {
    "$BIN" --data "$D" --set "smtp.url=smtp://127.0.0.1:$PORT" \
        --set "smtp.from=$FROM" --set smtp.starttls=false \
        --set "server.public_url=$PUBLIC" \
        --set "rdv.sms_command=$TMP/sms.sh" \
        serve --listen 127.0.0.1:0 >"$TMP/$1.out" 2>"$TMP/$1.err" &
    SERVER_PID=$!
    URL=""
    for _ in $(seq 1 150); do
        URL=$(sed -n 's|.*sert \(http://[^ ]*/\).*|\1|p' "$TMP/$1.out")
        [ -n "$URL" ] && return 0
        sleep 0.1
    done
    echo "guichet serve ne démarre pas :" >&2
    cat "$TMP/$1.err" >&2
    exit 1
}
stop_serve() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID"
    RC=$?
    SERVER_PID=""
}

g --data "$D" init --demo
expect_rc "init --demo" 0
start_sink "$TMP/mail"

# ----- 1. booking through the API, confirmation received ------------------
start_serve serve1
curl -s "${URL}api/v1/rdv/motifs?c=99001" >"$TMP/motifs.json"
# A public motif without pré-demande (ANTS motifs need real numbers).
MOTIF=$("$PY" -c '
import json, sys
m = json.load(open(sys.argv[1]))["motifs"]
m = [x for x in m if not x.get("ants_reason") and x.get("places")]
print(m[0]["id"] if m else "")' "$TMP/motifs.json" 2>/dev/null)
if [ -n "$MOTIF" ]; then ok; else
    cp "$TMP/motifs.json" "$TMP/out"; ko "un motif public sans pré-demande"
fi
curl -s "${URL}api/v1/rdv/slots?c=99001&motif=$MOTIF&limit=5" \
    >"$TMP/slots.json"
BODY=$("$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))["slots"][0]
print(json.dumps({"c": "99001", "motif": int(sys.argv[2]),
                  "place": s["place"], "start": s["start"], "people": 1,
                  "name": "Marie Dupont", "email": sys.argv[3],
                  "phone": "06 12 34 56 78", "consent": True}))' \
    "$TMP/slots.json" "$MOTIF" "$TO" 2>/dev/null)
if [ -n "$BODY" ]; then ok; else
    cp "$TMP/slots.json" "$TMP/out"; ko "un créneau libre"
fi
CODE=$(curl -s -o "$TMP/booked.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' -d "$BODY" \
    "${URL}api/v1/rdv/bookings")
if [ "$CODE" = 201 ]; then ok; else
    cp "$TMP/booked.json" "$TMP/out"; RC=$CODE; ko "POST /api/v1/rdv/bookings : 201"
fi
if wait_file "$TMP/mail/1.eml" 20; then ok; else
    cp "$TMP/serve1.err" "$TMP/err"; ko "confirmation reçue par le puits"
fi
stop_serve
expect_rc "serve : arrêt propre" 0

check_py "confirmation : objet, texte, lien, .ics" "$TMP/mail/1.eml" \
    "$TMP/booked.json" "$TO" "$PUBLIC" <<'EOF'
import datetime, email, email.policy, json, re, sys
import icalendar
raw = open(sys.argv[1], "rb").read()
booked = json.load(open(sys.argv[2]))
to, public = sys.argv[3], sys.argv[4]
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
JOURS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
         "dimanche"]
MOIS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet",
        "août", "septembre", "octobre", "novembre", "décembre"]
start = datetime.datetime.fromisoformat(booked["start"])
hm = "%d h" % start.hour + (" %02d" % start.minute if start.minute else "")
when = "%s %d%s %s %d à %s" % (JOURS[start.weekday()], start.day,
                               "er" if start.day == 1 else "",
                               MOIS[start.month - 1], start.year, hm)
motif = booked["motif"]["name"]
m = email.message_from_bytes(raw, policy=email.policy.default)
check(str(m["To"]) == to, "To")
subject = str(m["Subject"])
check(subject == "Rendez-vous confirmé : %s, %s" % (motif, when),
      "objet : %r (attendu … %s)" % (subject, when))
parts = list(m.iter_parts())
check(m.get_content_type() == "multipart/mixed", m.get_content_type())
text = parts[0].get_content() if parts else ""
check(text.startswith("Bonjour Marie Dupont,"), "salutation")
check("Votre rendez-vous à la mairie est confirmé." in text, "phrase")
check("Date : %s" % when in text, "date en toutes lettres")
check("Nombre de personnes : 1" in text, "personnes")
check("Lieu : %s" % booked["place"]["name"] in text, "lieu")
link = "%s/rdv/r/%s" % (public, booked["token"])
check(link in text, "lien de gestion avec le jeton de l'API")
check(booked["manage_url"] == link, "manage_url de l'API = lien du courriel")
check("La mairie de Saint-Exemple-sur-Loire" in text, "signature")
att = parts[1] if len(parts) > 1 else None
check(att is not None and att.get_content_type() == "text/calendar",
      "pièce jointe text/calendar")
check(att is not None and att.get_filename() == "rendez-vous.ics", "nom")
if att is not None:
    data = att.get_content()
    if isinstance(data, str):
        data = data.encode()
    cal = icalendar.Calendar.from_ical(data)
    check(str(cal["VERSION"]) == "2.0", "VERSION")
    check(str(cal["METHOD"]) == "PUBLISH", "METHOD")
    tz = [c for c in cal.walk("VTIMEZONE")]
    check(len(tz) == 1 and str(tz[0]["TZID"]) == "Europe/Paris", "VTIMEZONE")
    ev = [c for c in cal.walk("VEVENT")]
    check(len(ev) == 1, "un VEVENT")
    if ev:
        e = ev[0]
        ds = e["DTSTART"]
        check(ds.params.get("TZID") == "Europe/Paris", "TZID de DTSTART")
        check(ds.dt == start, "DTSTART %r != %r" % (ds.dt, start))
        check(ds.dt.utcoffset() == start.utcoffset(), "décalage horaire")
        check(e["DTEND"].dt == datetime.datetime.fromisoformat(booked["end"]),
              "DTEND")
        check(re.fullmatch(r"rdv-\d+@rdv\.saint-exemple\.fr", str(e["UID"])),
              "UID %s" % e["UID"])
        check(str(e["SUMMARY"]) == "Rendez-vous : %s" % motif, "SUMMARY")
        check(str(e["STATUS"]) == "CONFIRMED", "STATUS")
        check(str(e["LOCATION"]).startswith(booked["place"]["name"]),
              "LOCATION")
        check(link in str(e["DESCRIPTION"]), "lien dans DESCRIPTION")
        check("Marie" not in data.decode(), "pas de nom dans le .ics")
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF

# ----- 2. the reminder, from the job at the next start ----------------------
# The booking now starts in 30 hours and was made ten days ago: the
# two-day reminder is due.
check_py "rendez-vous décalé à dans 30 heures" "$D/guichet.db" "$TO" <<'EOF'
import datetime, sqlite3, sys, time
from zoneinfo import ZoneInfo
db = sqlite3.connect(sys.argv[1], timeout=10)
# The demo's fictitious past holds other bookings: ours is the one to TO.
(bid, start, end), = db.execute(
    "SELECT id, start_min, end_min FROM rdv_bookings WHERE email = ?",
    (sys.argv[2],)).fetchall()
t = datetime.datetime.now(ZoneInfo("Europe/Paris")) + datetime.timedelta(
    hours=30)
day = (t.date() - datetime.date(1970, 1, 1)).days
new = min((t.hour * 60 + t.minute) // 5 * 5, 1440 - (end - start))
# Units moved by delete and insert: an in-place shift by a few units
# would collide with the booking's own next units.
units = db.execute("SELECT counter_id, unit, lane, insee FROM rdv_units"
                   " WHERE booking_id = ?", (bid,)).fetchall()
db.execute("DELETE FROM rdv_units WHERE booking_id = ?", (bid,))
db.executemany("INSERT INTO rdv_units (counter_id, day, unit, lane,"
               " booking_id, insee) VALUES (?, ?, ?, ?, ?, ?)",
               [(k, day, u + (new - start) // 5, l, bid, i)
                for k, u, l, i in units])
db.execute("UPDATE rdv_bookings SET day = ?, start_min = ?, end_min = ?,"
           " created_at = created_at - 864000 WHERE id = ?",
           (day, new, new + end - start, bid))
db.commit()
EOF
start_serve serve2
if wait_file "$TMP/mail/2.eml" 30; then ok; else
    cp "$TMP/serve2.err" "$TMP/err"; ko "rappel reçu par le puits"
fi
if wait_file "$TMP/sms.out" 20; then ok; else
    cp "$TMP/serve2.err" "$TMP/err"; ko "SMS de rappel remis au script"
fi
# The reminder's links work: the page asks the question, the API confirms.
RTOK=$("$PY" -c '
import email, email.policy, re, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
t = re.search(r"/rdv/r/([A-Za-z0-9_-]{43})\?action=confirmer", m.get_content())
print(t.group(1) if t else "")' "$TMP/mail/2.eml" 2>/dev/null)
CODE=$(curl -s -o "$TMP/page.html" -w '%{http_code}' \
    "${URL}rdv/r/$RTOK?action=confirmer")
if [ "$CODE" = 200 ] && grep -q 'confirm' "$TMP/page.html"; then ok; else
    RC=$CODE; ko "lien « je confirme ma venue » du rappel : page 200"
fi
CODE=$(curl -s -o "$TMP/confirm.json" -w '%{http_code}' -X POST \
    "${URL}api/v1/rdv/manage/$RTOK/confirm")
if [ "$CODE" = 200 ]; then ok; else
    cp "$TMP/confirm.json" "$TMP/out"; RC=$CODE
    ko "confirmation par le jeton du rappel : 200"
fi
CODE=$(curl -s -o /dev/null -w '%{http_code}' \
    "${URL}rdv/r/${RTOK%?}A?action=confirmer")
if [ "$CODE" = 404 ] || [ "${RTOK: -1}" = A ]; then ok; else
    RC=$CODE; ko "jeton altéré : 404"
fi
sleep 1
stop_serve
expect_rc "serve : arrêt propre" 0

check_py "rappel : objet, date, liens" "$TMP/mail/2.eml" "$D/guichet.db" \
    "$TMP/booked.json" "$PUBLIC" "$TO" <<'EOF'
import datetime, email, email.policy, json, re, sqlite3, sys
raw = open(sys.argv[1], "rb").read()
db = sqlite3.connect(sys.argv[2])
booked = json.load(open(sys.argv[3]))
public, to = sys.argv[4], sys.argv[5]
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
JOURS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
         "dimanche"]
MOIS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet",
        "août", "septembre", "octobre", "novembre", "décembre"]
(day, start), = db.execute("SELECT day, start_min FROM rdv_bookings"
                           " WHERE email = ?", (to,))
d = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
hm = "%d h" % (start // 60) + (" %02d" % (start % 60) if start % 60 else "")
when = "%s %d%s %s %d à %s" % (JOURS[d.weekday()], d.day,
                               "er" if d.day == 1 else "", MOIS[d.month - 1],
                               d.year, hm)
m = email.message_from_bytes(raw, policy=email.policy.default)
check(str(m["To"]) == to, "To")
subject = str(m["Subject"])
check(re.fullmatch(r"Rappel : rendez-vous (demain|après-demain), " +
                   re.escape(when), subject), "objet %r" % subject)
check(m.get_content_type() == "text/plain", "sans pièce jointe")
text = m.get_content()
check("Nous vous rappelons votre rendez-vous à la mairie" in text, "phrase")
check("Date : %s" % when in text, "date")
links = re.findall(re.escape(public) +
                   r"/rdv/r/([A-Za-z0-9_-]{43})\?action=(confirmer|annuler)",
                   text)
check(sorted(a for _, a in links) == ["annuler", "confirmer"],
      "liens confirmer et annuler : %r" % links)
check(len({t for t, _ in links}) == 1, "un jeton pour les deux liens")
check(all(t != booked["token"] for t, _ in links),
      "le rappel a son propre jeton")
kinds = sorted(db.execute("SELECT kind, channel FROM rdv_notify_log"))
check(kinds == [("rdv.confirm", "courriel"), ("rdv.remind2", "courriel"),
                ("rdv.remind2", "sms")], "journal %r" % kinds)
sms = db.execute("SELECT status, attempts FROM rdv_sms_queue").fetchall()
check(sms == [("sent", 1)], "file SMS %r" % sms)
tok = db.execute("SELECT count(*) FROM rdv_tokens WHERE kind = 'rappel'"
                 ).fetchone()[0]
check(tok == 1, "jeton de rappel %d" % tok)
conf = db.execute("SELECT confirmed_at FROM rdv_bookings WHERE email = ?",
                  (to,)).fetchone()[0]
check(conf > 0, "venue confirmée depuis le rappel")
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF

check_py "SMS : numéro et texte en arguments" "$TMP/sms.out" "$PUBLIC" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[0] == "06 12 34 56 78", lines
assert lines[1].startswith("Mairie de Saint-Exemple-sur-Loire : rappel de "
                           "votre rendez-vous « "), lines[1]
assert sys.argv[2] + "/rdv/r/" in lines[1], lines[1]
assert len(lines) == 3 and lines[2] == "", lines  # sent once
EOF

if grep -Eq '12 34 56 78|0612345678|marie\.dupont' "$TMP/serve1.err" \
    "$TMP/serve2.err"; then
    cp "$TMP/serve2.err" "$TMP/err"
    ko "un numéro ou une adresse en clair dans les journaux"
else
    ok
fi
if grep -q 'msg=rdv.sms.sent .*to=…78' "$TMP/serve2.err"; then ok; else
    cp "$TMP/serve2.err" "$TMP/err"; ko "envoi du SMS journalisé (…78)"
fi

# ----- 3. guichet purge -------------------------------------------------------
g --data "$D" purge
expect_rc "purge" 0
expect_out "purge : courriels" '^Courriels anciens \(mail\.purge\) : 0 élément supprimé ou anonymisé\.$'
expect_out "purge : bilan" '^Purge terminée : [0-9]+ tâches, [0-9]+ éléments? en tout\.$'
g --data "$D" purge --help
expect_rc "purge --help" 0

th_done
