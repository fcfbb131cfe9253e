#!/bin/bash
# test_mail.sh - e-mail sending against a real SMTP peer (aiosmtpd).
#
#   tests/mail/test_mail.sh [path/to/guichet]     (default: build/guichet)
#
# Starts tests/mail/smtp_sink.py, runs `guichet mail test` with
# --set smtp.url=smtp://127.0.0.1:PORT and checks the message the sink
# received with /usr/bin/python3's email package: envelope, headers, the
# RFC 2047 subject decoded with its accents, the quoted-printable body, the
# text/calendar attachment. Then with the sink stopped: the message stays
# queued with attempts=1 and a next_try_at; `guichet serve` with the sink
# back sends it from its job runner and stops promptly on SIGTERM. Also
# usage errors and the masking of smtp.password. Prints "N passed,
# N failed" and exits non-zero on any failure.
set -u

cd "$(dirname "$0")/../.."
. tests/lib.sh
th_init mail "${1:-build/guichet}"
SINK="$PWD/tests/mail/smtp_sink.py"
SINK_PID=""
SERVER_PID=""

th_cleanup_hook() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
    [ -n "$SINK_PID" ] && kill -TERM "$SINK_PID" 2>/dev/null
}

export GUICHET_LOG_LEVEL=warn

# start_sink DIR: the sink writes messages into DIR; sets PORT.
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
stop_sink() {
    kill -TERM "$SINK_PID" 2>/dev/null
    wait "$SINK_PID" 2>/dev/null
    SINK_PID=""
}

FROM="Mairie de Saint-Exemple <mairie@saint-exemple.fr>"
TO="marie.dupont@exemple.fr"
SUBJECT="Guichet : essai d'envoi des courriels — Saint-Exemple-sur-Loire"

g --data "$D" init --demo
expect_rc "init --demo" 0

# ----- 1. a message with an attachment, received and parsed ---------------
start_sink "$TMP/mail"
SMTP=(--set "smtp.url=smtp://127.0.0.1:$PORT" --set "smtp.from=$FROM"
      --set smtp.starttls=false --set smtp.timeout_ms=5000)
g --data "$D" "${SMTP[@]}" mail test --piece-jointe "$TO"
expect_rc "mail test" 0
expect_out "mail test" "^Courriel de test envoyé à $TO \(message n° 1, <[A-Za-z0-9_-]+@saint-exemple\.fr>\)\.$"
if wait_file "$TMP/mail/1.eml" 5; then ok; else ko "message reçu par le puits"; fi

check_py "enveloppe" "$TMP/mail/1.env" "$TO" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split()
assert lines == ["mairie@saint-exemple.fr", sys.argv[2]], lines
EOF

check_py "message analysé par le module email" "$TMP/mail/1.eml" "$TO" \
    "$SUBJECT" <<'EOF'
import email, email.policy, email.utils, re, sys
raw = open(sys.argv[1], "rb").read()
to, subject = sys.argv[2], sys.argv[3]
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
# raw form: 7-bit, CRLF, line lengths
check(all(b < 0x80 for b in raw), "octets 8 bits dans le message brut")
lines = raw.split(b"\r\n")
check(b"\n" not in raw.replace(b"\r\n", b""), "LF sans CR")
check(max(len(l) for l in lines) <= 998, "ligne > 998")
head, _, body = raw.partition(b"\r\n\r\n")
check(all(len(l) <= 78 for l in head.split(b"\r\n")), "en-tête > 78")
check(all(len(l) <= 76 for l in body.split(b"\r\n")), "corps > 76")
check(b"=?UTF-8?Q?" in head, "objet non encodé RFC 2047")
m = email.message_from_bytes(raw, policy=email.policy.default)
check(str(m["Subject"]) == subject, "objet décodé : %r" % str(m["Subject"]))
check(m["From"].addresses[0].addr_spec == "mairie@saint-exemple.fr", "From")
check(m["From"].addresses[0].display_name == "Mairie de Saint-Exemple",
      "nom affiché")
check(str(m["To"]) == to, "To")
check(email.utils.parsedate_to_datetime(str(m["Date"])) is not None, "Date")
check(re.fullmatch(r"<[A-Za-z0-9_-]+@saint-exemple\.fr>",
                   str(m["Message-ID"])), "Message-ID")
check(str(m["MIME-Version"]) == "1.0", "MIME-Version")
check(m.get_content_type() == "multipart/mixed", m.get_content_type())
parts = list(m.iter_parts())
check(len(parts) == 2, "deux parties")
text = parts[0]
check(text.get_content_type() == "text/plain", "partie texte")
check(text["Content-Transfer-Encoding"] == "quoted-printable", "QP")
t = text.get_content()
check("Ce message a été envoyé par Guichet" in t, "texte accentué")
check("« Saint-Exemple-sur-Loire »" in t, "guillemets")
check(t.rstrip().endswith("l'accueil numérique de la mairie"),
      "fin du texte")
att = parts[1]
check(att.get_content_type() == "text/calendar", "type de la pièce jointe")
check(att.get_filename() == "essai.ics", "nom de la pièce jointe")
check(att.get_content_disposition() == "attachment", "disposition")
ics = att.get_content()
check(ics.startswith("BEGIN:VCALENDAR\r\n") or
      ics.startswith("BEGIN:VCALENDAR\n"), "contenu iCalendar")
check("SUMMARY:Essai d'envoi — rendez-vous fictif" in ics, "UTF-8 du .ics")
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF

# ----- 2. without attachment: a single text/plain part ---------------------
g --data "$D" "${SMTP[@]}" mail test "$TO"
expect_rc "mail test sans pièce jointe" 0
if wait_file "$TMP/mail/2.eml" 5; then ok; else ko "second message reçu"; fi
check_py "message simple" "$TMP/mail/2.eml" <<'EOF'
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
assert m.get_content_type() == "text/plain", m.get_content_type()
assert m["Content-Transfer-Encoding"] == "quoted-printable"
assert "n'est nécessaire" in m.get_content()
assert m["Auto-Submitted"] == "auto-generated"
EOF

# ----- 3. usage errors and masking ------------------------------------------
g --data "$D" "${SMTP[@]}" mail test "pas-une-adresse"
expect_rc "adresse invalide" 2
expect_err "adresse invalide" "Adresse e-mail invalide"
g --data "$D" "${SMTP[@]}" mail test "$(printf 'a@exemple.fr\r\nBcc: x@exemple.fr')"
expect_rc "injection d'en-tête" 2
g --data "$D" mail test "$TO"
expect_rc "sans smtp.url" 2
expect_err "sans smtp.url" "smtp.url"
g --data "$D" "${SMTP[@]}" --set smtp.from=nimporte mail test "$TO"
expect_rc "smtp.from invalide" 2
expect_err "smtp.from invalide" "smtp.from"
g --data "$D" --set smtp.password=motdepasse-secret \
    --set smtp.url=smtp://relais:tres-secret@127.0.0.1:25 config
expect_rc "config" 0
if grep -q "secret" "$TMP/out"; then ko "config montre un secret"; else ok; fi
expect_out "config masque smtp.password" "^smtp\.password +\*{8}"
expect_out "config masque le mot de passe de smtp.url" "smtp://relais:\*{8}@127"

# ----- 4. the sink is down: the message stays queued -------------------------
stop_sink
g --data "$D" "${SMTP[@]}" mail test "$TO"
expect_rc "serveur SMTP arrêté" 1
expect_err "serveur SMTP arrêté" "reste en file \(tentative 1 sur 5, nouvel essai le [0-9/]+ [0-9:]+\)"
if grep "level=" "$TMP/err" | grep -q "marie"; then
    ko "une adresse complète dans les journaux"
else
    ok
fi
check_py "ligne de la file" "$D/guichet.db" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT status, attempts, next_try_at, last_error, sent_at "
                 "FROM notify_outbox WHERE id = 3").fetchone()
status, attempts, next_try_at, last_error, sent_at = row
now = time.time()
assert status == "queued", row
assert attempts == 1, row
assert now + 30 < next_try_at <= now + 61, (row, now)
assert last_error and "marie" not in last_error, row
assert sent_at == 0, row
done = db.execute("SELECT count(*) FROM notify_outbox WHERE status = 'sent'"
                  ).fetchone()[0]
assert done == 2, done
EOF

# ----- 5. `guichet serve` sends it from its job runner ----------------------
start_sink "$TMP/mail2"
"$PY" -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); \
db.execute('UPDATE notify_outbox SET next_try_at = 0 WHERE id = 3'); \
db.commit()" "$D/guichet.db"
"$BIN" --data "$D" --set "smtp.url=smtp://127.0.0.1:$PORT" \
    --set "smtp.from=$FROM" --set smtp.starttls=false \
    serve --listen 127.0.0.1:0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER_PID=$!
if wait_file "$TMP/mail2/1.eml" 15; then ok; else
    RC=-; cp "$TMP/serve.err" "$TMP/err"; : >"$TMP/out"
    ko "serve : message envoyé par la tâche mail.send"
fi
T0=$(date +%s%N)
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
RC=$?
SERVER_PID=""
T1=$(date +%s%N)
cp "$TMP/serve.out" "$TMP/out"
cp "$TMP/serve.err" "$TMP/err"
expect_rc "serve : arrêt propre" 0
if [ $(((T1 - T0) / 1000000)) -lt 5000 ]; then ok; else
    ko "serve : arrêt en $(((T1 - T0) / 1000000)) ms"
fi
check_py "ligne envoyée" "$D/guichet.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT status, attempts, sent_at, last_error FROM "
                 "notify_outbox WHERE id = 3").fetchone()
assert row[0] == "sent" and row[1] == 2 and row[2] > 0 and row[3] == "", row
EOF
stop_sink

th_done
