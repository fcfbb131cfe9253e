#!/bin/bash
# test_tri_mail_smtp.sh - the e-mail loop of the request inbox against a
# real SMTP peer (aiosmtpd, tests/mail/smtp_sink.py).
#
#   tests/mail/test_tri_mail_smtp.sh [path/to/guichet]   (default: build/guichet)
#
# A resident's e-mail is imported from a Maildir; the acknowledgement the
# intake queues goes out through `guichet serve` to the sink with the
# Message-ID chosen at queueing, In-Reply-To and References naming the
# resident's e-mail, and Reply-To = triage.reply_to; the resident's
# answer to that acknowledgement (In-Reply-To only) is threaded back onto
# the same request. A row whose threading header holds CR LF (a damaged
# database) is refused at sending, never put on the wire. Prints
# "N passed, N failed" and exits non-zero on any failure.
set -u

cd "$(dirname "$0")/../.."
. tests/lib.sh
th_init trimail "${1:-build/guichet}"
SINK="$PWD/tests/mail/smtp_sink.py"
DATA="$PWD/tests/data/mail"
SINK_PID=""
SERVER_PID=""

th_cleanup_hook() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
    [ -n "$SINK_PID" ] && kill -TERM "$SINK_PID" 2>/dev/null
}

export GUICHET_LOG_LEVEL=warn

# the sink
mkdir -p "$TMP/mail"
"$PY" "$SINK" "$TMP/mail" >"$TMP/sink.out" 2>"$TMP/sink.err" &
SINK_PID=$!
PORT=""
for _ in $(seq 100); do
    PORT=$(sed -n 's/^PORT //p' "$TMP/sink.out")
    [ -n "$PORT" ] && break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    echo "le puits SMTP ne démarre pas :" >&2
    cat "$TMP/sink.err" >&2
    exit 1
fi
FROM="Mairie de Saint-Exemple <mairie@saint-exemple-sur-loire.fr>"
SET=(--set "smtp.url=smtp://127.0.0.1:$PORT" --set "smtp.from=$FROM"
     --set smtp.starttls=false --set smtp.timeout_ms=5000
     --set "triage.reply_to=Demandes de Saint-Exemple <demandes@saint-exemple-sur-loire.fr>"
     --set server.public_url=https://saint-exemple.example)

g --data "$D" init --demo
expect_rc "init --demo" 0

# ----- 1. the resident's e-mail comes in --------------------------------------
M="$TMP/Maildir"
mkdir -p "$M/new" "$M/cur" "$M/tmp"
cp "$DATA/01-texte.eml" "$M/new/1733000001.M1P1.mx"
g --data "$D" "${SET[@]}" triage import-mail --maildir "$M" --commune 99001
expect_rc "import" 0
expect_out "import" "nouvelles demandes : 1,"
if [ -f "$M/cur/1733000001.M1P1.mx:2,S" ] && [ -z "$(ls "$M/new")" ]; then ok; else
    RC=-; ls -R "$M" >"$TMP/out"; ko "fichier passé dans cur/ avec :2,S"
fi
ACK_ID=$(sql "SELECT message_id FROM notify_outbox WHERE to_addr = 'jeanne.martin@exemple.fr'")
if [[ "$ACK_ID" =~ ^\<[A-Za-z0-9_-]+@saint-exemple-sur-loire\.fr\>$ ]]; then ok; else
    RC=-; echo "$ACK_ID" >"$TMP/out"; ko "Message-ID choisi à la mise en file"
fi

# ----- 2. serve sends the acknowledgement --------------------------------------
"$BIN" --data "$D" "${SET[@]}" serve --listen 127.0.0.1:0 \
    >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER_PID=$!
ACK=""
for _ in $(seq 200); do
    ACK=$(grep -l "jeanne.martin@exemple.fr" "$TMP"/mail/*.env 2>/dev/null | head -1)
    [ -n "$ACK" ] && [ -f "${ACK%.env}.eml" ] && break
    ACK=""
    sleep 0.1
done
if [ -n "$ACK" ]; then ok; else
    RC=-; cp "$TMP/serve.err" "$TMP/err"; : >"$TMP/out"; ko "accusé de réception reçu par le puits"
fi
ACK="${ACK%.env}.eml"
check_py "en-têtes de l'accusé de réception" "$ACK" "$ACK_ID" <<'EOF'
import email, email.policy, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
bad = []
def check(c, what):
    if not c:
        bad.append(what)
check(m["Message-ID"] == sys.argv[2], "Message-ID %r" % m["Message-ID"])
check(m["In-Reply-To"] == "<CAF7a1b2c3d4e5f6@mail.exemple.fr>",
      "In-Reply-To %r" % m["In-Reply-To"])
check(m["References"] == "<CAF7a1b2c3d4e5f6@mail.exemple.fr>",
      "References %r" % m["References"])
rt = m["Reply-To"].addresses
check(len(rt) == 1 and rt[0].addr_spec == "demandes@saint-exemple-sur-loire.fr"
      and rt[0].display_name == "Demandes de Saint-Exemple", "Reply-To %r" % rt)
check(m["Subject"].startswith("[Demande "), "Subject %r" % m["Subject"])
check(all(len(l) <= 998 for l in raw.split(b"\r\n")), "ligne > 998")
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF

# ----- 3. her answer to the acknowledgement is threaded ----------------------
"$PY" - "$ACK" "$M/new/1733000002.M2P1.mx" <<'EOF'
import email, email.policy, sys
ack = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                               policy=email.policy.default)
text = ack.get_content()
quoted = "\n".join("> " + l for l in text.splitlines())
reply = (
    "Message-ID: <reponse-accuse-1@mail.exemple.fr>\r\n"
    "In-Reply-To: %s\r\n"
    "From: Jeanne Martin <jeanne.martin@exemple.fr>\r\n"
    "To: demandes@saint-exemple-sur-loire.fr\r\n"
    "Subject: Re: %s\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
    "J'ajoute une photo demain, le trou est maintenant signalé par un cône.\r\n"
    "\r\nLe 30/11/2026 à 16:02, Mairie a écrit :\r\n%s\r\n"
) % (ack["Message-ID"], ack["Subject"], quoted.replace("\n", "\r\n"))
open(sys.argv[2], "wb").write(reply.encode("utf-8"))
EOF
g --data "$D" "${SET[@]}" triage import-mail --maildir "$M" --commune 99001
expect_rc "import de la réponse" 0
expect_out "import de la réponse" "nouvelles demandes : 0, réponses rattachées : 1,"
REQ=$(sql "SELECT id FROM tri_requests WHERE origin = 'mail:<CAF7a1b2c3d4e5f6@mail.exemple.fr>'")
if [ "$(sql "SELECT COUNT(*) FROM tri_messages WHERE request_id = $REQ AND kind = 'entrant' AND mail_message_id = '<reponse-accuse-1@mail.exemple.fr>' AND body LIKE 'J''ajoute une photo demain%'")" = 1 ]; then ok; else
    RC=-; : >"$TMP/out"; : >"$TMP/err"; ko "réponse rattachée à la demande $REQ"
fi

# ----- 4. a damaged row never reaches the wire --------------------------------
"$PY" - "$D/guichet.db" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO notify_outbox (insee, kind, to_addr, subject, body, "
           "next_try_at, created_at, in_reply_to) VALUES ('99001', 'test', "
           "'victime@exemple.fr', 'Essai', 'Bonjour', 0, ?, "
           "'<a@b.fr>' || char(13, 10) || 'Bcc: espion@exemple.fr')",
           (int(time.time()),))
db.commit()
EOF
BAD=$(sql "SELECT MAX(id) FROM notify_outbox")
for _ in $(seq 150); do
    [ "$(sql "SELECT status FROM notify_outbox WHERE id = $BAD")" = failed ] && break
    sleep 0.1
done
if [ "$(sql "SELECT status FROM notify_outbox WHERE id = $BAD")" = failed ]; then ok; else
    RC=-; : >"$TMP/out"; cp "$TMP/serve.err" "$TMP/err"; ko "ligne endommagée refusée (failed)"
fi
if grep -l "victime@exemple.fr" "$TMP"/mail/*.env >/dev/null 2>&1 ||
   grep -rl "espion" "$TMP/mail" >/dev/null 2>&1; then
    RC=-; : >"$TMP/out"; : >"$TMP/err"; ko "en-tête injecté envoyé"
else
    ok
fi

kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
RC=$?
SERVER_PID=""
cp "$TMP/serve.out" "$TMP/out"
cp "$TMP/serve.err" "$TMP/err"
expect_rc "serve : arrêt propre" 0

th_done
