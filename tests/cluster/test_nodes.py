#!/usr/bin/python3
"""test_nodes.py - three `guichet serve` nodes on ONE database (issue 10).

What a deployment behind nginx relies on (docs/scale.md): any request may
reach any node, and every node runs the background jobs. Checked here,
each request sent straight to a chosen node:

  1. a session opened on node 1 works on nodes 2 and 3 (CSRF included);
  2. the login rate limit counts the attempts of all nodes together;
  3. chat conversations hopping from node to node: every turn answered,
     every reply id distinct, every turn stored (ids are reserved in the
     database, not per process);
  4. a fiche written through node 1 is answered by node 2 (index reload
     when kb_generation moves, within the reindex job's period);
  5. concurrent bookings of one slot through the three nodes: exactly one
     201, the others 409, one booking in the database;
  6. queued e-mails (booking confirmations) reach the SMTP sink
     (tests/mail/smtp_sink.py) exactly once each with three senders;
  7. reminders: three nodes started together all run the reminder job at
     once; each booking gets exactly one reminder;
  8. the assistant's per-address limit (counted in memory, read again
     from the database after a second) counts the turns of all nodes.

The database is a SQLite file, or a fresh PostgreSQL schema when
GUICHET_TEST_PG holds a libpq conninfo (e.g. "dbname=guichet_test").
Standard library only (Debian's /usr/bin/python3) plus aiosmtpd for the
sink. Asserts behaviour only: every wait is "until true, with a generous
bound", never a speed.

    /usr/bin/python3 tests/cluster/test_nodes.py BUILD/guichet
"""
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "rdv"))
import rdvtest  # noqa: E402  (Failures, setup_schedule, booking_body)

INSEE = "99001"
NODES = 3
PASSWORD = "cluster-essai-mot-de-passe-2026"
LOGIN_PER_MINUTE = 8
CHAT_PER_MINUTE = 5


class Database:
    """The shared database: a SQLite file or a PostgreSQL schema."""

    def __init__(self, tmp):
        self.pg = os.environ.get("GUICHET_TEST_PG", "").strip()
        if self.pg:
            self.schema = "cluster_%d_%d" % (os.getpid(),
                                             random.randrange(1 << 30))
            self.psql("CREATE SCHEMA %s" % self.schema, schema=False)
            self.url = "postgres:%s options='-c search_path=%s'" % (
                self.pg, self.schema)
            self.kind = "postgresql"
        else:
            self.path = os.path.join(tmp, "guichet.db")
            self.url = "sqlite:" + self.path
            self.kind = "sqlite"

    def psql(self, query, schema=True):
        if schema:
            query = "SET search_path = %s; %s" % (self.schema, query)
        r = subprocess.run(["psql", self.pg, "-X", "-q", "-At", "-F", "\t",
                            "-v", "ON_ERROR_STOP=1", "-c", query],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql : " + r.stderr)
        return [tuple(line.split("\t")) for line in r.stdout.splitlines()
                if line]

    def sql(self, query, args=()):
        """Rows as tuples of strings (both backends)."""
        if self.pg:
            for a in args:
                query = query.replace("?", "'%s'" % str(a).replace("'", "''"),
                                      1)
            return self.psql(query)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            rows = con.execute(query, args).fetchall()
            con.commit()
            return [tuple("" if v is None else str(v) for v in r)
                    for r in rows]
        finally:
            con.close()

    def count(self, query, args=()):
        return int(self.sql(query, args)[0][0])

    def drop(self):
        if self.pg:
            try:
                self.psql("DROP SCHEMA %s CASCADE" % self.schema,
                          schema=False)
            except RuntimeError as e:
                print(e, file=sys.stderr)


class Cluster:
    """guichet nodes sharing one database, each with its own paths.data."""

    def __init__(self, binary):
        self.bin = os.path.realpath(binary)
        self.tmp = tempfile.mkdtemp(prefix="guichet-cluster.")
        self.db = Database(self.tmp)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("GUICHET_")}
        self.env["GUICHET_LOG_LEVEL"] = "warn"
        self.env["GUICHET_LOG_ACCESS"] = "false"
        self.sets = ["--set", "store.url=" + self.db.url]
        self.procs = []
        self.ports = []
        self.sink = None

    def run(self, *args):
        r = subprocess.run([self.bin, "--data",
                            os.path.join(self.tmp, "outil")] + self.sets +
                           list(args), env=self.env, capture_output=True,
                           text=True, timeout=180)
        if r.returncode != 0:
            raise RuntimeError("guichet %s : code %d\n%s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r.stdout

    def start_sink(self):
        self.maildir = os.path.join(self.tmp, "mail")
        os.makedirs(self.maildir)
        out = open(os.path.join(self.tmp, "sink.out"), "w+")
        self.sink = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(ROOT, "tests", "mail",
                                              "smtp_sink.py"), self.maildir],
            stdout=out, stderr=subprocess.DEVNULL)
        for _ in range(200):
            out.seek(0)
            m = re.search(r"PORT (\d+)", out.read())
            if m:
                return int(m.group(1))
            time.sleep(0.05)
        raise RuntimeError("le puits SMTP ne démarre pas")

    def start(self, node_sets):
        """Start NODES nodes at once; wait until each prints its port."""
        self.ports = []
        self.procs = []
        outs = []
        for i in range(NODES):
            d = os.path.join(self.tmp, "node%d" % (i + 1))
            os.makedirs(d, exist_ok=True)
            out = open(os.path.join(d, "serve.out"), "w+")
            err = open(os.path.join(d, "serve.err"), "a+")
            sets = list(self.sets)
            for s in node_sets:
                sets += ["--set", s]
            self.procs.append(subprocess.Popen(
                [self.bin, "--data", d] + sets +
                ["serve", "--listen", "127.0.0.1:0"],
                stdout=out, stderr=err, env=self.env))
            outs.append((out, err))
        for p, (out, err) in zip(self.procs, outs):
            port = None
            for _ in range(600):
                out.seek(0)
                m = re.search(r"http://127\.0\.0\.1:(\d+)/", out.read())
                if m:
                    port = int(m.group(1))
                    break
                if p.poll() is not None:
                    break
                time.sleep(0.05)
            if port is None:
                err.seek(0)
                raise RuntimeError("un nœud ne démarre pas :\n" + err.read())
            self.ports.append(port)

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def cleanup(self):
        self.stop()
        if self.sink:
            self.sink.send_signal(signal.SIGTERM)
            self.sink.wait()
        self.db.drop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def mail_count(self, rcpt):
        n = 0
        for f in os.listdir(self.maildir):
            if f.endswith(".env"):
                with open(os.path.join(self.maildir, f)) as fh:
                    if rcpt in fh.read().split("\n")[1:]:
                        n += 1
        return n


def request(port, method, path, body=None, headers=None, timeout=60):
    """(status, headers dict, JSON or text) on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        raw = r.read().decode("utf-8", "replace")
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        try:
            return r.status, hdrs, json.loads(raw)
        except ValueError:
            return r.status, hdrs, raw
    finally:
        conn.close()


def until(cond, seconds):
    """Poll cond() until true or `seconds` passed; its last value."""
    end = time.monotonic() + seconds
    while True:
        v = cond()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.25)


def parallel(calls):
    """Run the callables together (released at once); their results."""
    out = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def one(i):
        gate.wait()
        out[i] = calls[i]()

    ts = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


class Api:
    """What rdvtest.setup_schedule expects: a port and an admin token."""

    def __init__(self, port, token):
        self.port = port
        self.token = token


def main():
    if len(sys.argv) != 2:
        print("usage : test_nodes.py BUILD/guichet", file=sys.stderr)
        sys.exit(2)
    try:
        import aiosmtpd  # noqa: F401  (the SMTP sink needs it)
    except ImportError:
        print("python3-aiosmtpd absent : test sauté")
        sys.exit(77)
    f = rdvtest.Failures()
    cl = Cluster(sys.argv[1])
    try:
        run_all(f, cl)
    finally:
        cl.cleanup()
    f.finish()


def run_all(f, cl):
    db = cl.db
    print("base partagée : %s" % db.kind)
    cl.run("migrate")
    cl.run("init", "--demo")
    out = cl.run("token", "add", "essais-noeuds", "--role", "admin",
                 "--commune", INSEE)
    token = re.search(r"(gu_[A-Za-z0-9_-]+)", out).group(1)
    out = cl.run("user", "add", "essai", "--name", "Agent Essai", "--role",
                 "agent", "--commune", INSEE)
    otp = re.search(r"« essai » : (\S+)", out).group(1)
    sink = cl.start_sink()
    node_sets = ["smtp.url=smtp://127.0.0.1:%d" % sink,
                 "smtp.from=Mairie <mairie@exemple.fr>",
                 "smtp.starttls=false",
                 "server.public_url=http://guichet.exemple.fr",
                 "security.login_ip_per_minute=%d" % LOGIN_PER_MINUTE,
                 "rdv.rate_book_ip=0", "assistant.rate_per_minute=0"]
    cl.start(node_sets)
    p = cl.ports
    auth = {"Authorization": "Bearer " + token}

    # 1. A session opened on node 1 works on nodes 2 and 3.
    st, h, j = request(p[0], "POST", "/api/v1/session",
                       {"login": "essai", "password": otp})
    f.check(st in (200, 201), "connexion sur le nœud 1", st)
    cookie = h.get("set-cookie", "").split(";")[0]
    csrf = j.get("csrf", "") if isinstance(j, dict) else ""
    st, _, j = request(p[1], "GET", "/api/v1/session",
                       headers={"Cookie": cookie})
    f.check(st == 200 and "essai" in json.dumps(j),
            "la session du nœud 1 vaut sur le nœud 2", st)
    st, _, j = request(p[2], "PUT", "/api/v1/session/password",
                       {"current": otp, "new": PASSWORD},
                       headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    f.check(st // 100 == 2,
            "changement du mot de passe sur le nœud 3 (cookie, CSRF)", st)
    st, h, j = request(p[1], "POST", "/api/v1/session",
                       {"login": "essai", "password": PASSWORD})
    f.check(st in (200, 201), "connexion avec le nouveau mot de passe", st)
    cookie = h.get("set-cookie", "").split(";")[0]
    csrf = j.get("csrf", "") if isinstance(j, dict) else ""
    agent = {"Cookie": cookie, "X-CSRF-Token": csrf}

    # 3. Conversations hopping over the nodes, many at once.
    def conversation(k):
        ids, first = [], p[k % NODES]
        st, _, j = request(first, "POST", "/api/v1/chat",
                           {"commune": INSEE,
                            "message": "horaires de la mairie"})
        if st != 200:
            return None
        conv = j["conversation"]
        ids += [r["id"] for r in j["replies"] if r.get("id")]
        for hop, msg in ((1, "et le samedi ?"), (2, "combien ça coûte ?")):
            st, _, j = request(p[(k + hop) % NODES], "POST", "/api/v1/chat",
                               {"commune": INSEE, "conversation": conv,
                                "message": msg})
            if st != 200:
                print("tour %d de la conversation %d : %s %s" % (
                    hop + 1, k, st, j), file=sys.stderr)
                return None
            ids += [r["id"] for r in j["replies"] if r.get("id")]
        return conv, ids

    convs = parallel([lambda k=k: conversation(k) for k in range(24)])
    f.check(all(convs), "chaque tour de chaque conversation a sa réponse "
            "(les tours passent d'un nœud à l'autre)")
    ids = [i for c in convs if c for i in c[1]]
    f.check(len(ids) == len(set(ids)) and len(ids) >= 24 * 3,
            "identifiants de réponse tous distincts entre les nœuds",
            "%d ids, %d distincts" % (len(ids), len(set(ids))))
    want = len(ids)
    got = until(lambda: db.count("SELECT COUNT(*) FROM asst_messages")
                >= want, 30)
    stored = db.count("SELECT COUNT(*) FROM asst_messages")
    f.check(got and stored == want,
            "chaque réponse est enregistrée une fois",
            "%d en base, %d attendues" % (stored, want))
    # A person's conversation (a second or more between turns, as when
    # typing): its history, read on node 1, has every node's turns in
    # order. (Turns of one conversation answered by two nodes within the
    # same second may be listed out of order: docs/scale.md.)
    conv, mine = None, []
    for k, msg in enumerate(("horaires de la mairie", "et le samedi ?",
                             "combien ça coûte ?")):
        if k:
            time.sleep(1.1)
        body = {"commune": INSEE, "message": msg}
        if conv:
            body["conversation"] = conv
        st, _, j = request(p[(k + 1) % NODES], "POST", "/api/v1/chat", body)
        if st == 200:
            conv = j["conversation"]
            mine += [r["id"] for r in j["replies"] if r.get("id")]

    def history_in_order():
        st, _, j = request(p[0], "GET", "/api/v1/chat/" + (conv or "x"))
        got = [r["id"] for r in j.get("replies", [])
               if r.get("id")] if st == 200 else []
        return got == mine

    f.check(conv and until(history_in_order, 10),
            "l'historique lu sur le nœud 1 a les tours des trois nœuds, "
            "dans l'ordre")

    # 4. A fiche written through node 1 is answered by node 2.
    st, _, j = request(p[0], "POST", "/api/v1/kb/fiches", {
        "markdown": "---\ntitre: Fête des lanternes zorbalunes\nquestions: "
                    "Quand a lieu la fête des lanternes zorbalunes ?\n---\n"
                    "La fête des lanternes zorbalunes a lieu le premier "
                    "samedi de décembre sur la place de la mairie.\n"},
        headers=agent)
    f.check(st == 201, "fiche écrite sur le nœud 1", st)
    fid = j.get("id") if isinstance(j, dict) else None

    def answered_by_node2():
        st, _, j = request(p[1], "POST", "/api/v1/chat",
                           {"commune": INSEE,
                            "message": "fête des lanternes zorbalunes"})
        return st == 200 and any(
            (r.get("fiche") or {}).get("id") == fid for r in j["replies"])

    f.check(fid and until(answered_by_node2, 40),
            "le nœud 2 répond avec la fiche écrite sur le nœud 1")

    # 5. One slot, twelve clients on three nodes: one booking.
    api = Api(p[0], token)
    place, _, motif = rdvtest.setup_schedule(api)
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    tomorrow = (datetime.datetime.now(paris).date() +
                datetime.timedelta(days=1)).isoformat()
    st, _, j = request(p[1], "GET", "/api/v1/rdv/slots?c=%s&motif=%s&place=%s"
                       "&limit=200&from=%s" % (INSEE, motif, place, tomorrow))
    slots = [s["start"] for s in j["slots"]] if st == 200 else []
    slots = [s for s in slots if s.startswith(tomorrow)]
    f.check(len(slots) >= 20, "créneaux de demain lus sur le nœud 2",
            len(slots))
    if len(slots) < 20:
        return
    race = slots[0]
    res = parallel([
        lambda i=i: request(p[i % NODES], "POST", "/api/v1/rdv/bookings",
                            rdvtest.booking_body(motif, place, race, 900 + i))
        for i in range(12)])
    codes = sorted(r[0] for r in res)
    f.check(codes.count(201) == 1 and codes.count(409) == 11,
            "un seul gagnant pour un créneau disputé sur trois nœuds", codes)
    winners = [900 + i for i, r in enumerate(res) if r[0] == 201]
    f.check(db.count("SELECT COUNT(*) FROM rdv_bookings WHERE place_id = ? "
                     "AND email LIKE 'usager-9%'", (place,)) == 1,
            "une seule réservation en base pour ce créneau")

    # 6. Distinct bookings through the three nodes: their confirmation
    #    e-mails are sent by three nodes' jobs, each exactly once.
    res = parallel([
        lambda i=i: request(p[i % NODES], "POST", "/api/v1/rdv/bookings",
                            rdvtest.booking_body(motif, place, slots[1 + i],
                                                 i))
        for i in range(15)])
    f.check(all(r[0] == 201 for r in res), "15 réservations distinctes",
            [r[0] for r in res])
    rcpts = ["usager-%d@exemple.fr" % i for i in range(15)] + \
        ["usager-%d@exemple.fr" % w for w in winners]
    sent = until(lambda: db.count(
        "SELECT COUNT(*) FROM notify_outbox WHERE status = 'sent' AND "
        "to_addr LIKE 'usager-%'") >= len(rcpts), 60)
    f.check(sent, "les confirmations partent (jobs des trois nœuds)")
    until(lambda: all(cl.mail_count(r) >= 1 for r in rcpts), 10)
    counts = [cl.mail_count(r) for r in rcpts]
    f.check(counts == [1] * len(rcpts),
            "chaque confirmation reçue exactement une fois", counts)
    f.check(db.count("SELECT COUNT(*) FROM notify_outbox WHERE to_addr LIKE "
                     "'usager-%'") == len(rcpts),
            "une ligne de file par confirmation")

    # 2. The login rate limit counts across nodes (last: it blocks logins
    #    from this address for the rest of the minute). Never across a
    #    window's end: the windows are aligned on the minute.
    if time.time() % 60 > 40:
        time.sleep(61 - time.time() % 60)
    first_429 = None
    for k in range(3 * LOGIN_PER_MINUTE):
        st, h, _ = request(p[k % NODES], "POST", "/api/v1/session",
                           {"login": "inconnu%d" % k, "password": "faux"})
        if st == 429:
            first_429 = k + 1
            break
    f.check(first_429 is not None and first_429 <= LOGIN_PER_MINUTE + 1,
            "la limite de connexions par adresse compte les essais de tous "
            "les nœuds", "429 au %s-ième essai" % first_429)
    blocked = [request(p[i], "POST", "/api/v1/session",
                       {"login": "essai", "password": PASSWORD})[0]
               for i in range(NODES)]
    f.check(blocked == [429] * NODES,
            "ensuite, chacun des nœuds refuse (429)", blocked)

    # 7. Reminders: bookings of tomorrow made « a week ago »; three nodes
    #    started together all run the reminder job at start.
    cl.stop()
    db.sql("UPDATE rdv_bookings SET created_at = created_at - 7 * 86400 "
           "WHERE email LIKE 'usager-%'")
    cl.start([x for x in node_sets if not x.startswith("assistant.rate")] +
             ["assistant.rate_per_minute=%d" % CHAT_PER_MINUTE])
    p = cl.ports
    reminded = until(lambda: db.count(
        "SELECT COUNT(*) FROM notify_outbox WHERE kind = 'rdv.remind' AND "
        "status = 'sent'") >= len(rcpts), 60)
    f.check(reminded, "les rappels partent")
    f.check(db.count("SELECT COUNT(*) FROM notify_outbox WHERE kind = "
                     "'rdv.remind'") == len(rcpts),
            "un rappel en file par rendez-vous, trois nœuds au démarrage")
    until(lambda: all(cl.mail_count(r) >= 2 for r in rcpts), 10)
    counts = [cl.mail_count(r) for r in rcpts]
    f.check(counts == [2] * len(rcpts),
            "chaque usager reçoit sa confirmation et UN rappel", counts)

    # 8. The assistant's limit per address: turns a second apart, each on
    #    the next node; the one beyond the limit is refused whichever node
    #    gets it. (Windows aligned on the minute: never across one.)
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)
    codes = []
    for k in range(CHAT_PER_MINUTE + 1):
        if k:
            time.sleep(1.2)
        codes.append(request(p[k % NODES], "POST", "/api/v1/chat",
                             {"commune": INSEE,
                              "message": "horaires de la mairie"})[0])
    f.check(codes == [200] * CHAT_PER_MINUTE + [429],
            "la limite de l'assistant par adresse compte les tours de tous "
            "les nœuds", codes)


if __name__ == "__main__":
    main()
