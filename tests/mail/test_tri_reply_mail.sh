#!/bin/bash
# test_tri_reply_mail.sh - an agent's reply from the request inbox, through
# a real `guichet serve` and a real SMTP peer (aiosmtpd,
# tests/mail/smtp_sink.py), and the resident's answer to it threaded back.
#
#   tests/mail/test_tri_reply_mail.sh [path/to/guichet]  (default: build/guichet)
#
# A resident's e-mail is imported; an agent (API token) replies with
# POST /api/v1/demandes/{id}/reponses and a status. The e-mail received
# carries the Message-ID kept in the request's thread, In-Reply-To and
# References naming the resident's e-mail, Reply-To = triage.reply_to,
# « [Demande N] » in the subject, the agent's text and a status link that
# opens the request (GET /api/v1/demandes/suivi/{token}). The resident's
# answer to the reply (In-Reply-To only) lands on the same request.
# Prints "N passed, N failed"; exit 77 (skipped) without aiosmtpd.
set -u

cd "$(dirname "$0")/../.."
. tests/lib.sh
th_init trireply "${1:-build/guichet}"
SINK="$PWD/tests/mail/smtp_sink.py"
DATA="$PWD/tests/data/mail"
SINK_PID=""
SERVER_PID=""
RC=0

th_cleanup_hook() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
    [ -n "$SINK_PID" ] && kill -TERM "$SINK_PID" 2>/dev/null
}

export GUICHET_LOG_LEVEL=warn

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
    echo "aiosmtpd absent (scripts/deps.sh --test) : test ignoré"
    exit 77
fi

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
PUBLIC=https://saint-exemple.example
SET=(--set "smtp.url=smtp://127.0.0.1:$PORT" --set "smtp.from=$FROM"
     --set smtp.starttls=false --set smtp.timeout_ms=5000
     --set "triage.reply_to=Demandes de Saint-Exemple <demandes@saint-exemple-sur-loire.fr>"
     --set "server.public_url=$PUBLIC")

g --data "$D" init --demo
expect_rc "init --demo" 0
g --data "$D" token add essai-boite --role agent --commune 99001
expect_rc "jeton d'API" 0
TOKEN=$(sed -n 's/^Secret.* : \(gu_[A-Za-z0-9_-]*\)$/\1/p' "$TMP/out")
[ -n "$TOKEN" ] && ok || ko "secret du jeton affiché"

# ----- 1. the resident's e-mail comes in ---------------------------------
M="$TMP/Maildir"
mkdir -p "$M/new" "$M/cur" "$M/tmp"
cp "$DATA/01-texte.eml" "$M/new/1733000001.M1P1.mx"
g --data "$D" "${SET[@]}" triage import-mail --maildir "$M" --commune 99001
expect_rc "import" 0
REQ=$(sql "SELECT id FROM tri_requests WHERE origin = 'mail:<CAF7a1b2c3d4e5f6@mail.exemple.fr>'")
NUM=$(sql "SELECT number FROM tri_requests WHERE id = ${REQ:-0}")
if [ -n "$REQ" ] && [ -n "$NUM" ]; then ok; else
    RC=-; ko "demande créée par l'import"
fi

# ----- 2. serve; the agent replies through the API -----------------------
"$BIN" --data "$D" "${SET[@]}" serve --listen 127.0.0.1:0 \
    >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 150); do
    URL=$(sed -n 's|.*sert \(http://[^ ]*/\).*|\1|p' "$TMP/serve.out")
    [ -n "$URL" ] && break
    sleep 0.1
done
if [ -z "$URL" ]; then
    echo "guichet serve ne démarre pas :" >&2
    cat "$TMP/serve.err" >&2
    exit 1
fi
SERVICE=$(sql "SELECT id FROM tri_services WHERE insee = '99001' AND code = 'voirie'")
curl -s -o "$TMP/out" -w '%{http_code}' -X PATCH \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"service\":$SERVICE}" "${URL}api/v1/demandes/$REQ" >"$TMP/code"
RC=$(cat "$TMP/code")
expect_rc "PATCH service" 200
curl -s -o "$TMP/out" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"texte":"Bonjour {nom}, le service {service} rebouchera le trou jeudi matin.","statut":"en_cours"}' \
    "${URL}api/v1/demandes/$REQ/reponses" >"$TMP/code"
RC=$(cat "$TMP/code")
expect_rc "POST reponses" 201
OUR_ID=$(sql "SELECT mail_message_id FROM tri_messages WHERE request_id = $REQ AND kind = 'sortant' AND author = 'token:essai-boite'")
if [[ "$OUR_ID" =~ ^\<[A-Za-z0-9_-]+@saint-exemple-sur-loire\.fr\>$ ]]; then ok; else
    RC=-; echo "$OUR_ID" >"$TMP/out"; ko "Message-ID gardé dans le fil"
fi

# ----- 3. the reply reaches the sink, threaded ---------------------------
RE=""
for _ in $(seq 200); do
    for env in "$TMP"/mail/*.env; do
        [ -f "$env" ] || continue
        if grep -q "rebouchera" "${env%.env}.eml" 2>/dev/null ||
           "$PY" - "${env%.env}.eml" <<'EOF' 2>/dev/null
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
sys.exit(0 if "rebouchera" in m.get_body(("plain",)).get_content() else 1)
EOF
        then
            RE="${env%.env}.eml"
            break 2
        fi
    done
    sleep 0.1
done
if [ -n "$RE" ]; then ok; else
    RC=-; cp "$TMP/serve.err" "$TMP/err"; ls "$TMP/mail" >"$TMP/out"; ko "réponse reçue par le puits"
fi
if [ -n "$RE" ]; then
    "$PY" - "$RE" "$OUR_ID" "$NUM" "$PUBLIC" >"$TMP/out" 2>"$TMP/err" <<'EOF'
import email, email.policy, re, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
bad = []
def check(c, what):
    if not c:
        bad.append(what)
check(m["Message-ID"] == sys.argv[2], "Message-ID %r" % m["Message-ID"])
check(m["In-Reply-To"] == "<CAF7a1b2c3d4e5f6@mail.exemple.fr>",
      "In-Reply-To %r" % m["In-Reply-To"])
check("<CAF7a1b2c3d4e5f6@mail.exemple.fr>" in (m["References"] or ""),
      "References %r" % m["References"])
rt = m["Reply-To"].addresses if m["Reply-To"] else ()
check(len(rt) == 1 and rt[0].addr_spec == "demandes@saint-exemple-sur-loire.fr",
      "Reply-To %r" % (rt,))
check(m["Subject"].startswith("[Demande %s]" % sys.argv[3]),
      "Subject %r" % m["Subject"])
text = m.get_body(("plain",)).get_content()
check("le service Voirie rebouchera le trou jeudi matin" in text, "texte")
check("{service}" not in text and "{nom}" not in text, "champs remplacés")
check("est en cours de traitement" in text, "statut annoncé")
link = re.search(re.escape(sys.argv[4]) + r"/demande/suivi/([A-Za-z0-9_-]{43})",
                 text)
check(link is not None, "lien de suivi")
if link:
    print(link.group(1))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
EOF
    RC=$?
    expect_rc "en-têtes et texte de la réponse" 0
    LINK_TOKEN=$(head -1 "$TMP/out")
    curl -s -o "$TMP/out" -w '%{http_code}' \
        "${URL}api/v1/demandes/suivi/$LINK_TOKEN" >"$TMP/code"
    RC=$(cat "$TMP/code")
    expect_rc "le lien du courriel ouvre la demande" 200
    if grep -q "rebouchera" "$TMP/out"; then ok; else ko "réponse sur la page de suivi"; fi

    # ----- 4. the resident answers the reply: threaded back ---------------
    "$PY" - "$RE" "$M/new/1733000003.M3P1.mx" <<'EOF'
import email, email.policy, sys
r = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
reply = (
    "Message-ID: <merci-1@mail.exemple.fr>\r\n"
    "In-Reply-To: %s\r\n"
    "From: Jeanne Martin <jeanne.martin@exemple.fr>\r\n"
    "To: demandes@saint-exemple-sur-loire.fr\r\n"
    "Subject: Re: un autre objet sans numero\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
    "Merci beaucoup, je serai là jeudi pour ouvrir le portail.\r\n"
) % r["Message-ID"]
open(sys.argv[2], "wb").write(reply.encode("utf-8"))
EOF
    g --data "$D" "${SET[@]}" triage import-mail --maildir "$M" --commune 99001
    expect_rc "import de la réponse de l'usager" 0
    if [ "$(sql "SELECT COUNT(*) FROM tri_messages WHERE request_id = $REQ AND kind = 'entrant' AND mail_message_id = '<merci-1@mail.exemple.fr>'")" = 1 ]; then ok; else
        RC=-; : >"$TMP/out"; : >"$TMP/err"; ko "réponse de l'usager rattachée à la demande $REQ"
    fi
fi

kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
RC=$?
SERVER_PID=""
cp "$TMP/serve.out" "$TMP/out"
cp "$TMP/serve.err" "$TMP/err"
expect_rc "serve : arrêt propre" 0

th_done
