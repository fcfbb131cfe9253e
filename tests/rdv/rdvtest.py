"""rdvtest.py - what the appointment guarantee tests share.

A real `guichet serve` on a file database in a temporary directory (port
chosen by the kernel: --listen 127.0.0.1:0, read back from the line the
server prints), an admin API token made with `guichet token add`, a small
JSON client over http.client, and a test schedule made through the API
itself: one place, ONE counter, one motif without minimum delay, open
every day from 08:00 to 20:00, so that each (place, time) slot is exactly
one unit of one counter and two winners would be a double booking.

Test code only; standard library only (Debian's /usr/bin/python3).
"""
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

INSEE = "99001"


class Failures:
    """Counts checks; prints French failures; ends with N passed, N failed."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("ÉCHEC : %s %s" % (what, detail), file=sys.stderr)
        return cond

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


class Guichet:
    """A guichet binary with its own data directory."""

    def __init__(self, binary, sets=()):
        self.bin = os.path.realpath(binary)
        self.tmp = tempfile.mkdtemp(prefix="guichet-rdv.")
        self.data = os.path.join(self.tmp, "var")
        self.db = os.path.join(self.data, "guichet.db")
        self.sets = []
        for s in sets:
            self.sets += ["--set", s]
        self.proc = None
        self.port = None
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("GUICHET_")}
        self.env["GUICHET_LOG_LEVEL"] = "warn"
        self.env["GUICHET_LOG_ACCESS"] = "false"

    def run(self, *args):
        r = subprocess.run([self.bin, "--data", self.data] + self.sets +
                           list(args), env=self.env, capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("guichet %s : code %d\n%s%s" %
                               (" ".join(args), r.returncode, r.stdout,
                                r.stderr))
        return r.stdout

    def init(self):
        self.run("init", "--demo")
        out = self.run("token", "add", "essais-rdv", "--role", "admin",
                       "--commune", INSEE)
        m = re.search(r"(gu_[A-Za-z0-9_-]+)", out)
        if not m:
            raise RuntimeError("pas de secret dans : " + out)
        self.token = m.group(1)

    def start(self):
        self.out = open(os.path.join(self.tmp, "serve.out"), "w+")
        self.err = open(os.path.join(self.tmp, "serve.err"), "a+")
        self.proc = subprocess.Popen(
            [self.bin, "--data", self.data] + self.sets +
            ["serve", "--listen", "127.0.0.1:0"],
            stdout=self.out, stderr=self.err, env=self.env)
        for _ in range(300):
            self.out.seek(0)
            m = re.search(r"http://127\.0\.0\.1:(\d+)/", self.out.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.err.seek(0)
        raise RuntimeError("le serveur ne démarre pas :\n" + self.err.read())

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sql(self, query, args=()):
        con = sqlite3.connect(self.db, timeout=30)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()


def request(port, method, path, body=None, token=None, timeout=60):
    """One request on a new connection: (status, headers dict, JSON or text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read().decode("utf-8", "replace")
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        try:
            return r.status, hdrs, json.loads(raw)
        except ValueError:
            return r.status, hdrs, raw
    finally:
        conn.close()


def api(g, method, path, body=None):
    """An admin API call that must succeed (2xx); returns the JSON."""
    st, _, j = request(g.port, method, path, body, token=g.token)
    if st // 100 != 2:
        raise RuntimeError("%s %s : %d %s" % (method, path, st, j))
    return j


def setup_schedule(g, code="essai", duration=15):
    """One place, one counter, one public motif, open every day 8h-20h."""
    place = api(g, "POST", "/api/v1/rdv/places",
                {"name": "Salle des essais", "address": "1 rue des Essais",
                 "zip": "99001", "city": "Saint-Exemple-sur-Loire"})["id"]
    counter = api(g, "POST", "/api/v1/rdv/counters",
                  {"place_id": place, "name": "Guichet unique"})["id"]
    motif = api(g, "POST", "/api/v1/rdv/motifs",
                {"code": code, "name": "Démarche d'essai",
                 "duration_min": duration, "max_people": 1,
                 "min_delay_h": 0, "max_delay_d": 60})["id"]
    for wd in range(1, 8):
        api(g, "POST", "/api/v1/rdv/ranges",
            {"counter_id": counter, "weekday": wd, "start": "08:00",
             "end": "20:00", "motifs": [motif]})
    return place, counter, motif


def slots(g, motif, place, frm=None, limit=1000):
    path = "/api/v1/rdv/slots?c=%s&motif=%s&place=%s&limit=%d" % (
        INSEE, motif, place, limit)
    if frm:
        path += "&from=" + frm
    st, _, j = request(g.port, "GET", path)
    if st != 200:
        raise RuntimeError("slots : %d %s" % (st, j))
    return j["slots"]


def booking_body(motif, place, start, i):
    return {"c": INSEE, "motif": motif, "place": place, "start": start,
            "name": "Usager %d" % i, "email": "usager-%d@exemple.fr" % i,
            "phone": "", "people": 1, "consent": True}
