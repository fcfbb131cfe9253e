#!/usr/bin/python3
"""fake_llm.py - a tiny OpenAI-compatible chat endpoint for the engine's
tests (no network, no model). Binds 127.0.0.1 on a free port, prints the
port on stdout, then serves until its stdin closes.

The first path segment picks the behaviour:
  /cite/...    answers with a citation of passage [1]
  /nocite/...  answers without any citation
  /bogus/...   cites a passage that was not given ([9])
  /slow/...    waits 3 s before answering (to test the timeout)
  /error/...   HTTP 500
Every request body is checked to be a chat completion with numbered
passages; a malformed one gets HTTP 400.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        try:
            req = json.loads(self.rfile.read(n))
            user = req["messages"][-1]["content"]
            assert "[1]" in user and req["messages"][0]["role"] == "system"
        except Exception:
            self.reply(400, {"error": "bad request"})
            return
        mode = self.path.strip("/").split("/")[0]
        if mode == "slow":
            time.sleep(3)
        if mode == "error":
            self.reply(500, {"error": "boom"})
            return
        text = {
            "cite": "Reformulation : voici ce qu'il faut savoir [1].",
            "nocite": "Reformulation sans aucune source.",
            "bogus": "Reformulation avec une source inventée [9].",
        }.get(mode, "Reformulation [1].")
        self.reply(200, {"choices": [{"index": 0, "message": {
            "role": "assistant", "content": text}}]})


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()  # the test closes our stdin when it is done
    srv.shutdown()


if __name__ == "__main__":
    main()
