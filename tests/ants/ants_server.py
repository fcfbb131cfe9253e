#!/usr/bin/python3
"""A local stand-in for the ANTS coordination API (anti-duplicate), for tests.

It implements the documented editor endpoints (see docs/ants.md) with
in-memory state:

  GET    /api/status?application_ids=A&application_ids=B
  POST   /api/appointments?application_id=&management_url=&meeting_point=
         &meeting_point_id=&appointment_date=
  DELETE /api/appointments?(same parameters)

each guarded by the header x-rdv-opt-auth-token (401 otherwise).

Numbers with a special behaviour, so that tests can reach every path:
  SLOW000000  /status sleeps --slow seconds (beyond the client's timeout)
  ERR5000000  /status answers 500
  BADJSON000  /status answers a body that is not JSON
  MISSING000  /status answers {} (the number is absent)
Any other number has the status given at start (--state FILE, JSON
{"statuses": {"ID": "validated", ...}, "appointments": {"ID": [...]}}),
else "unknown".

Control endpoints (no token), for the tests to steer and inspect:
  GET  /_control/state          {"appointments": {...}, "log": [...]}
  POST /_control/status?application_id=ID&status=S
  POST /_control/fail?count=N   the next N POST/DELETE answer 503

Usage: ants_server.py --token T [--state FILE] [--slow S]. It listens on
127.0.0.1 on a free port and prints "PORT <n>" on its first line of output.
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STATUSES = {"validated", "declared", "rejected", "consumed", "unknown", "expired"}
FIELDS = ("application_id", "management_url", "meeting_point",
          "meeting_point_id", "appointment_date")


class State:
    def __init__(self, initial):
        self.lock = threading.Lock()
        self.statuses = dict(initial.get("statuses", {}))
        self.appointments = {k: list(v) for k, v in
                             initial.get("appointments", {}).items()}
        self.log = []
        self.fail_next = 0


class Handler(BaseHTTPRequestHandler):
    server_version = "ants-test/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    # ----- helpers -----
    def reply(self, code, obj=None, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def parts(self):
        u = urlsplit(self.path)
        return u.path, parse_qs(u.query, keep_blank_values=True)

    def authorised(self):
        return self.headers.get("x-rdv-opt-auth-token") == self.server.token

    def record(self, path, q):
        with self.server.state.lock:
            self.server.state.log.append({
                "method": self.command,
                "path": path,
                "query": q,
                "token_ok": self.authorised(),
            })

    # ----- routes -----
    def do_GET(self):
        path, q = self.parts()
        st = self.server.state
        if path == "/_control/state":
            with st.lock:
                return self.reply(200, {"appointments": st.appointments,
                                        "statuses": st.statuses,
                                        "log": st.log})
        self.record(path, q)
        if path != "/api/status":
            return self.reply(404, {"detail": "Not Found"})
        if not self.authorised():
            return self.reply(401, {"detail": "X-RDV-OPT-AUTH-TOKEN header invalid"})
        ids = q.get("application_ids", [])
        if not ids:
            return self.reply(422, {"detail": "application_ids missing"})
        if "SLOW000000" in ids:
            time.sleep(self.server.slow)
        if "ERR5000000" in ids:
            return self.reply(500, {"detail": "Internal Server Error"})
        if "BADJSON000" in ids:
            return self.reply(200, raw=b"<html>oops</html>")
        out = {}
        with st.lock:
            for i in ids:
                if i == "MISSING000":
                    continue
                out[i] = {
                    "status": st.statuses.get(i, "unknown"),
                    "appointments": list(st.appointments.get(i, [])),
                }
        return self.reply(200, out)

    def do_POST(self):
        path, q = self.parts()
        st = self.server.state
        one = {k: v[0] for k, v in q.items()}
        if path == "/_control/status":
            if one.get("status") not in STATUSES:
                return self.reply(400, {"detail": "bad status"})
            with st.lock:
                st.statuses[one.get("application_id", "")] = one["status"]
            return self.reply(200, {"success": True})
        if path == "/_control/fail":
            with st.lock:
                st.fail_next = int(one.get("count", "1"))
            return self.reply(200, {"success": True})
        self.record(path, q)
        if path != "/api/appointments":
            return self.reply(404, {"detail": "Not Found"})
        if not self.authorised():
            return self.reply(401, {"detail": "X-RDV-OPT-AUTH-TOKEN header invalid"})
        if self.take_failure():
            return self.reply(503, {"detail": "Service Unavailable"})
        if any(k not in one or one[k] == "" for k in FIELDS):
            return self.reply(422, {"detail": "missing field"})
        app = {k: one[k] for k in FIELDS if k != "application_id"}
        app["editor_comment"] = None
        with st.lock:
            lst = st.appointments.setdefault(one["application_id"], [])
            # A repeated declaration (a re-send) is recorded once.
            if app not in lst:
                lst.append(app)
        return self.reply(200, {"success": True})

    def do_DELETE(self):
        path, q = self.parts()
        st = self.server.state
        one = {k: v[0] for k, v in q.items()}
        self.record(path, q)
        if path != "/api/appointments":
            return self.reply(404, {"detail": "Not Found"})
        if not self.authorised():
            return self.reply(401, {"detail": "X-RDV-OPT-AUTH-TOKEN header invalid"})
        if self.take_failure():
            return self.reply(503, {"detail": "Service Unavailable"})
        with st.lock:
            lst = st.appointments.get(one.get("application_id", ""), [])
            keep = [a for a in lst
                    if not (a["meeting_point"] == one.get("meeting_point")
                            and a["appointment_date"] == one.get("appointment_date"))]
            found = len(keep) != len(lst)
            if one.get("application_id", "") in st.appointments:
                st.appointments[one["application_id"]] = keep
        if not found:
            return self.reply(404, {"detail": "Appointment not found"})
        return self.reply(200, {"success": True})

    def take_failure(self):
        st = self.server.state
        with st.lock:
            if st.fail_next > 0:
                st.fail_next -= 1
                return True
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--token", required=True)
    ap.add_argument("--state", default=None)
    ap.add_argument("--slow", type=float, default=3.0)
    args = ap.parse_args()
    initial = {}
    if args.state:
        with open(args.state, encoding="utf-8") as f:
            initial = json.load(f)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.token = args.token
    srv.slow = args.slow
    srv.state = State(initial)
    print("PORT %d" % srv.server_address[1], flush=True)
    # A test that crashes never stops us: leave when the parent is gone.
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
