#!/bin/bash
# test_tri_mail_imap.sh - the e-mail import from a real IMAP server.
#
#   tests/mail/test_tri_mail_imap.sh [path/to/guichet]   (default: build/guichet)
#
# Starts Debian's dovecot (dovecot-imapd) as the current user on
# 127.0.0.1 with a throwaway configuration in a temporary directory:
# plain authentication against a passwd-file, one Maildir, no root
# service, no system configuration touched. Delivers the French e-mails
# of tests/data/mail/ into its Maildir, then runs
# `guichet triage import-mail --source ID` against imap://127.0.0.1:PORT:
# requests created, the reply threaded, auto-reply and bounce skipped,
# every message \Seen on the server; a second run imports nothing; a new
# message alone on the third; an unusable message fails and stays unread;
# a wrong password and a changed UIDVALIDITY are handled. Prints
# "N passed, N failed" and exits non-zero on any failure; exits 77
# (skipped) only when dovecot is not installed.
set -u

cd "$(dirname "$0")/../.."
. tests/lib.sh
th_init imap "${1:-build/guichet}"
DATA="$PWD/tests/data/mail"
DOVECOT=/usr/sbin/dovecot
if [ ! -x "$DOVECOT" ] || [ ! -x /usr/lib/dovecot/imap ]; then
    echo "IGNORÉ : dovecot-imapd n'est pas installé (scripts/deps.sh --test)."
    exit 77
fi
chmod 755 "$TMP"
DOVE_PID=""

th_cleanup_hook() {
    if [ -n "$DOVE_PID" ]; then
        kill -TERM "$DOVE_PID" 2>/dev/null
        wait "$DOVE_PID" 2>/dev/null
    fi
}

export GUICHET_LOG_LEVEL=warn

expect_sql() {
    local got
    got=$(sql "$2")
    if [ "$got" = "$3" ]; then ok; else
        RC=-; echo "$got" >"$TMP/out"; : >"$TMP/err"
        ko "$1 : « $2 » = « $got », attendu « $3 »"
    fi
}
# imap_count CRITERIA: messages of INBOX matching an IMAP SEARCH
imap_count() { "$PY" - "$PORT" "$1" <<'EOF'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("demandes@saint-exemple.fr", "mot-de-passe-imap-2026")
m.select("INBOX")
typ, data = m.search(None, sys.argv[2])
print(len(data[0].split()))
m.logout()
EOF
}

# ----- dovecot, as this user, in $TMP ---------------------------------------
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT_TLS=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1 || {
    echo "openssl ne crée pas le certificat de test" >&2
    exit 1
}
chmod 644 "$TMP/key.pem"
ME=$(id -un)
MYGROUP=$(id -gn)
LOGIN_USER=$ME
INTERNAL_USER=$ME
MAIL_UID=$(id -u)
MAIL_GID=$(id -g)
# dovecot's login processes refuse to run as root: under root (CI
# containers) they take the package's unprivileged users
if [ "$(id -u)" = 0 ]; then
    LOGIN_USER=dovenull
    INTERNAL_USER=dovecot
    MYGROUP=$(id -gn dovecot)
    MAIL_UID=$(id -u dovecot) # a mail user may not be root either
    MAIL_GID=$(id -g dovecot)
fi
MAILDIR="$TMP/home/demandes/Maildir"
mkdir -p "$TMP/run" "$TMP/state" "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
printf 'demandes@saint-exemple.fr:{PLAIN}mot-de-passe-imap-2026:%s:%s::%s::\n' \
    "$MAIL_UID" "$MAIL_GID" "$TMP/home/demandes" >"$TMP/passwd"
chown -R "$MAIL_UID:$MAIL_GID" "$TMP/home"
cat >"$TMP/dovecot.conf" <<EOF
base_dir = $TMP/run
state_dir = $TMP/state
log_path = $TMP/dovecot.log
protocols = imap
listen = 127.0.0.1, 127.0.0.2
# TLS with a self-signed certificate: STARTTLS on imap, implicit on imaps;
# Guichet must refuse both, as no CA vouches for it
ssl = yes
ssl_cert = <$TMP/cert.pem
ssl_key = <$TMP/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = $INTERNAL_USER
default_internal_group = $MYGROUP
default_login_user = $LOGIN_USER
first_valid_uid = $MAIL_UID
first_valid_gid = $MAIL_GID
mail_location = maildir:$MAILDIR
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $TMP/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $TMP/passwd
}
service imap-login {
  chroot =
  user = $LOGIN_USER
  inet_listener imap {
    address = 127.0.0.1, 127.0.0.2
    port = $PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $PORT_TLS
  }
}
service anvil {
  chroot =
}
service auth {
  user = $INTERNAL_USER
}
service auth-worker {
  user = $ME
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
}
EOF
"$DOVECOT" -F -c "$TMP/dovecot.conf" >"$TMP/dovecot.out" 2>&1 &
DOVE_PID=$!
for _ in $(seq 100); do
    if "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
if ! "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; then
    echo "dovecot ne démarre pas :" >&2
    cat "$TMP/dovecot.out" "$TMP/dovecot.log" >&2 2>/dev/null
    exit 1
fi

# deliver NAME: one file of tests/data/mail into the Maildir, as an MTA
# does (written in tmp/, then renamed into new/)
n_deliv=0
deliver() {
    n_deliv=$((n_deliv + 1))
    local f="$(date +%s).M${n_deliv}P$$.guichet-test"
    cp "$1" "$MAILDIR/tmp/$f"
    chown "$MAIL_UID:$MAIL_GID" "$MAILDIR/tmp/$f"
    mv "$MAILDIR/tmp/$f" "$MAILDIR/new/$f"
}

g --data "$D" init --demo
expect_rc "init --demo" 0
# the mail source, as the administrators' page stores it
"$PY" - "$D/guichet.db" "$PORT" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO tri_mail_sources (insee, kind, location, username, "
           "secret, period_s, created_at) VALUES ('99001', 'imap', ?, ?, ?, "
           "60, ?)", ("imap://127.0.0.1:%s/INBOX" % sys.argv[2],
                      "demandes@saint-exemple.fr", "mot-de-passe-imap-2026",
                      int(time.time())))
db.commit()
EOF
SRC=$(sql "SELECT MAX(id) FROM tri_mail_sources")
BASE=$(sql "SELECT COUNT(*) FROM tri_requests")

for f in "$DATA"/0*.eml; do deliver "$f"; done
if [ "$(imap_count UNSEEN)" = 9 ]; then ok; else RC=-; : >"$TMP/out"; : >"$TMP/err"; ko "9 messages non lus sur le serveur"; fi

# one message a person already read in the mailbox before Guichet relieved
# it: not turned into a request by the first run
cat >"$TMP/deja-lu.eml" <<'EOF'
Message-ID: <deja-lu-1@exemple.fr>
From: Ancien <ancien@exemple.fr>
Subject: Vieux message traité à la main
Content-Type: text/plain; charset=UTF-8

Message de l'an dernier, déjà traité par le secrétariat.
EOF
cp "$TMP/deja-lu.eml" "$MAILDIR/cur/1700000000.M0P1.guichet-test:2,S"
chown "$MAIL_UID:$MAIL_GID" "$MAILDIR/cur/1700000000.M0P1.guichet-test:2,S"

# ----- 1. first run ----------------------------------------------------------
g --data "$D" triage import-mail --source "$SRC" --commune 99001
expect_rc "import IMAP" 0
expect_out "résumé" "^Courriels lus : 9 — nouvelles demandes : 6, réponses rattachées : 1, ignorés : 2, en échec : 0\.$"
expect_sql "demandes créées" "SELECT COUNT(*) - $BASE FROM tri_requests" 6
expect_sql "canal courriel" "SELECT COUNT(*) FROM tri_requests WHERE channel = 'courriel' AND origin LIKE 'mail:%'" 6
expect_sql "réponse rattachée à la demande d'origine" \
    "SELECT COUNT(*) FROM tri_messages m JOIN tri_requests r ON r.id = m.request_id WHERE m.kind = 'entrant' AND m.mail_message_id = '<CAF7a1b2c3d4e5f6-reply@mail.exemple.fr>' AND r.origin = 'mail:<CAF7a1b2c3d4e5f6@mail.exemple.fr>'" 1
expect_sql "objet décodé (ISO-8859-1)" \
    "SELECT COUNT(*) FROM tri_requests WHERE subject = 'Facture cantine élevée pour décembre'" 1
expect_sql "photo conservée" \
    "SELECT COUNT(*) FROM tri_attachments a JOIN tri_requests r ON r.id = a.request_id WHERE r.origin = 'mail:<20261130091502.4F2A1@smtp.orange.fr>' AND a.ctype = 'image/jpeg'" 1
expect_sql "dernier UID" "SELECT last_uid FROM tri_mail_sources WHERE id = $SRC" 10
expect_sql "message déjà lu avant Guichet non importé" "SELECT COUNT(*) FROM tri_requests WHERE origin = 'mail:<deja-lu-1@exemple.fr>'" 0
expect_sql "UIDVALIDITY retenu" "SELECT uidvalidity > 0 FROM tri_mail_sources WHERE id = $SRC" 1
expect_sql "pas d'erreur" "SELECT last_error FROM tri_mail_sources WHERE id = $SRC" ""
expect_sql "relève datée" "SELECT last_run_at > 0 FROM tri_mail_sources WHERE id = $SRC" 1
if [ "$(imap_count UNSEEN)" = 0 ]; then ok; else RC=-; : >"$TMP/out"; : >"$TMP/err"; ko "tous marqués \\Seen"; fi
expect_sql "journal d'audit" "SELECT COUNT(*) FROM audit WHERE action = 'triage.import_mail'" 1
if grep "level=" "$TMP/err" | grep -Eqi "jeanne|martin@|mot-de-passe"; then
    ko "des données personnelles dans les journaux"
else
    ok
fi

# ----- 2. again: nothing new, nothing twice ---------------------------------
g --data "$D" triage import-mail --source "$SRC" --commune 99001
expect_rc "deuxième relève" 0
expect_out "deuxième relève" "^Courriels lus : 0 — nouvelles demandes : 0,"
expect_sql "aucun doublon" "SELECT COUNT(*) - $BASE FROM tri_requests" 6

# ----- 3. one more message: only it -----------------------------------------
cat >"$TMP/nouveau.eml" <<'EOF'
Message-ID: <nouveau-imap-1@exemple.fr>
Date: Tue, 01 Dec 2026 08:00:00 +0100
From: Henri Blanc <henri.blanc@exemple.fr>
To: demandes@saint-exemple.fr
Subject: Banc cassé au square Victor-Hugo
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Bonjour, un banc du square Victor-Hugo est cassé, une latte dépasse et
les enfants risquent de se blesser.
EOF
deliver "$TMP/nouveau.eml"
g --data "$D" triage import-mail --source "$SRC" --commune 99001
expect_rc "troisième relève" 0
expect_out "troisième relève" "^Courriels lus : 1 — nouvelles demandes : 1, réponses rattachées : 0, ignorés : 0, en échec : 0\.$"
expect_sql "une demande de plus" "SELECT COUNT(*) - $BASE FROM tri_requests" 7
expect_sql "dernier UID" "SELECT last_uid FROM tri_mail_sources WHERE id = $SRC" 11

# ----- 4. an unusable message: counted, left unread, not retried forever ----
printf 'From: vide@exemple.fr\r\nSubject: \r\n\r\n\r\n' >"$TMP/vide.eml"
deliver "$TMP/vide.eml"
g --data "$D" triage import-mail --source "$SRC" --commune 99001
expect_rc "courriel vide" 1
expect_out "courriel vide" "en échec : 1\.$"
expect_err "courriel vide" "1 courriel en échec, laissé dans la boîte"
if [ "$(imap_count UNSEEN)" = 1 ]; then ok; else RC=-; : >"$TMP/out"; : >"$TMP/err"; ko "le courriel en échec reste non lu"; fi
expect_sql "dernier UID" "SELECT last_uid FROM tri_mail_sources WHERE id = $SRC" 12

# ----- 5. the server renumbers the mailbox (UIDVALIDITY changes) -----------
"$PY" -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); \
db.execute('UPDATE tri_mail_sources SET uidvalidity = 1'); db.commit()" "$D/guichet.db"
g --data "$D" triage import-mail --source "$SRC" --commune 99001
# the non-read ones are read again: the failed one only (the imported ones
# carry \Seen), and nothing is duplicated
expect_out "UIDVALIDITY changé : non lus relus" "^Courriels lus : 1 — nouvelles demandes : 0, réponses rattachées : 0, ignorés : 0, en échec : 1\.$"
expect_sql "toujours aucun doublon" "SELECT COUNT(*) - $BASE FROM tri_requests" 7
expect_sql "UIDVALIDITY du serveur" "SELECT uidvalidity > 1 FROM tri_mail_sources WHERE id = $SRC" 1
expect_sql "rattrapé jusqu'au dernier UID" "SELECT last_uid FROM tri_mail_sources WHERE id = $SRC" 12

# ----- 6. wrong password, unknown source, unreachable server ----------------
"$PY" -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); \
db.execute(\"UPDATE tri_mail_sources SET secret = 'faux'\"); db.commit()" "$D/guichet.db"
g --data "$D" triage import-mail --source "$SRC" --commune 99001
expect_rc "mauvais mot de passe" 1
expect_err "mauvais mot de passe" "identifiant ou mot de passe incorrect"
expect_sql "erreur retenue pour les administrateurs" \
    "SELECT last_error FROM tri_mail_sources WHERE id = $SRC" \
    "Connexion IMAP refusée : identifiant ou mot de passe incorrect."
g --data "$D" triage import-mail --source 999 --commune 99001
expect_rc "source inconnue" 2
expect_err "source inconnue" "Source de courriels n° 999 inconnue"
"$PY" -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); \
db.execute(\"UPDATE tri_mail_sources SET location = 'imap://127.0.0.1:1/INBOX'\"); db.commit()" "$D/guichet.db"
g --data "$D" triage import-mail --source "$SRC" --commune 99001
expect_rc "serveur injoignable" 1
expect_err "serveur injoignable" "Serveur IMAP injoignable"
# imap:// to any address but 127.0.0.1, localhost and [::1] must use
# STARTTLS, which this dovecot does not offer: refused, never sent clear
"$PY" -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); \
db.execute(\"UPDATE tri_mail_sources SET secret = 'mot-de-passe-imap-2026', location = 'imap://127.0.0.2:$PORT/INBOX'\"); db.commit()" "$D/guichet.db"
g --data "$D" triage import-mail --source "$SRC" --commune 99001
expect_rc "IMAP sans TLS vers une autre machine" 1
expect_err "IMAP sans TLS vers une autre machine" "non sécurisée"
if grep -q "mot-de-passe-imap-2026" "$TMP/dovecot.log" 2>/dev/null; then
    ko "mot de passe reçu en clair"
else
    ok
fi
# imaps:// : the certificate is checked, a self-signed one refused
"$PY" -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); \
db.execute(\"UPDATE tri_mail_sources SET location = 'imaps://127.0.0.1:$PORT_TLS/INBOX'\"); db.commit()" "$D/guichet.db"
g --data "$D" triage import-mail --source "$SRC" --commune 99001
expect_rc "imaps : certificat auto-signé refusé" 1
expect_err "imaps : certificat auto-signé refusé" "certificat du serveur invalide"
expect_sql "rien importé par une connexion refusée" "SELECT COUNT(*) - $BASE FROM tri_requests" 7

# ----- 7. usage ---------------------------------------------------------------
g --data "$D" triage import-mail --commune 99001
expect_rc "sans origine" 2
expect_err "sans origine" "une et une seule origine"
g --data "$D" triage import-mail --maildir "$TMP/absent" --commune 99001
expect_rc "Maildir absent" 2
g --data "$D" triage import-mail --help
expect_rc "aide" 0
expect_out "aide" "import-mail"

th_done
