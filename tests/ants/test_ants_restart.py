#!/usr/bin/python3
"""A declaration to ANTS survives a kill -9 of the server.

Against a real `guichet serve` (file database, demo commune) and the local
stand-in of the ANTS coordination API (ants_server.py):

1. a resident books a CNI slot with a pré-demande number through the JSON
   API: the number is checked first (GET /status seen by the stand-in);
2. the server is killed (SIGKILL) right away, before its rdv.ants job had a
   chance to send the declaration (the stand-in has received no POST);
3. after a restart on the same database, the declaration reaches the
   stand-in, once, with the booking's management link;
4. a refused number (consumed) books nothing, and an unreachable API
   refuses the booking with the French message (fail closed).

Usage: test_ants_restart.py path/to/guichet
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "jeton-de-test-ants"
failures = 0
passed = 0


def check(cond, what):
    global failures, passed
    if cond:
        passed += 1
        print("ok   " + what, file=sys.stderr)
    else:
        failures += 1
        print("FAIL " + what, file=sys.stderr)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def start_ants(state_path):
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "ants_server.py"),
                          "--token", TOKEN, "--state", state_path],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    return p, int(line.split()[1])


def start_guichet(guichet, data, port, ants_url):
    env = dict(os.environ)
    env.update({
        "GUICHET_ANTS_URL": ants_url,
        "GUICHET_ANTS_TOKEN": TOKEN,
        "GUICHET_ANTS_TIMEOUT_MS": "1500",
        "GUICHET_SERVER_PUBLIC_URL": "http://127.0.0.1:%d" % port,
        "GUICHET_LOG_ACCESS": "false",
        "GUICHET_LOG_LEVEL": "warn",
    })
    p = subprocess.Popen([guichet, "--data", data, "serve", "--listen",
                          "127.0.0.1:%d" % port], env=env,
                         stdout=subprocess.DEVNULL, stderr=open(
                             os.path.join(data, "serve.log"), "a"))
    for _ in range(100):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port,
                                        timeout=1):
                return p
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("guichet serve did not start")


def ants_state(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/_control/state" % port,
                                timeout=5) as r:
        return json.loads(r.read())


def main():
    guichet = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="ants-restart-")
    state = os.path.join(tmp, "state.json")
    with open(state, "w") as f:
        json.dump({"statuses": {"VALID00001": "validated",
                                "CONSU00001": "consumed"}}, f)
    ants, aport = start_ants(state)
    ants_url = "http://127.0.0.1:%d/api" % aport
    gport = free_port()
    base = "http://127.0.0.1:%d" % gport
    srv = None
    try:
        subprocess.run([guichet, "--data", tmp, "init", "--demo"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        srv = start_guichet(guichet, tmp, gport, ants_url)

        st, slots = http("GET", base + "/api/v1/rdv/slots?c=99001&motif=cni&limit=3")
        check(st == 200, "créneaux CNI de la commune de démonstration")
        lst = slots.get("slots", []) if isinstance(slots, dict) else []
        check(len(lst) >= 2, "au moins deux créneaux")
        if len(lst) < 2:
            print(slots, file=sys.stderr)
            return
        s0, s1 = lst[0], lst[1]

        def book(slot, ids):
            return http("POST", base + "/api/v1/rdv/bookings", {
                "c": "99001", "motif": "cni",
                "place": slot.get("place") or slot.get("place_id"),
                "start": slot["start"], "people": 1,
                "name": "Camille Martin", "email": "camille@example.org",
                "ants_ids": ids, "consent": True})

        st, body = book(s0, ["CONSU00001"])
        check(st in (400, 422) and "a déjà servi" in json.dumps(body, ensure_ascii=False),
              "numéro déjà utilisé : refusé en français (%s)" % st)

        st, body = book(s0, ["VALID00001"])
        check(st == 201, "réservation avec un numéro validé (%s)" % st)
        token = body.get("token", "") if isinstance(body, dict) else ""
        log = ants_state(aport)["log"]
        check(any(e["path"] == "/api/status" for e in log),
              "le numéro a été vérifié auprès de l'ANTS")
        check(not any(e["method"] == "POST" for e in log),
              "aucune déclaration envoyée avant l'arrêt brutal")

        srv.send_signal(signal.SIGKILL)
        srv.wait()
        srv = start_guichet(guichet, tmp, gport, ants_url)
        apps = []
        for _ in range(60):
            apps = ants_state(aport)["appointments"].get("VALID00001", [])
            if apps:
                break
            time.sleep(0.25)
        check(len(apps) == 1, "après redémarrage, la déclaration est arrivée une fois")
        check(bool(apps) and token and token in apps[0]["management_url"],
              "avec le lien de gestion du rendez-vous")
        posts = [e for e in ants_state(aport)["log"] if e["method"] == "POST"]
        check(len(posts) == 1, "une seule déclaration envoyée")

        # The API down: the booking is refused (fail closed), in French.
        ants.send_signal(signal.SIGKILL)
        ants.wait()
        st, body = book(s1, ["VALID00001"])
        check(st == 503 and "ANTS" in json.dumps(body, ensure_ascii=False),
              "ANTS injoignable : réservation refusée (503)")
    finally:
        if srv:
            srv.send_signal(signal.SIGKILL)
            srv.wait()
        if ants.poll() is None:
            ants.send_signal(signal.SIGKILL)
            ants.wait()
    print("%d passed, %d failed" % (passed, failures), file=sys.stderr)


if __name__ == "__main__":
    main()
    sys.exit(1 if failures else 0)
