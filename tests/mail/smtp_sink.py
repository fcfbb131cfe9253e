#!/usr/bin/python3
"""smtp_sink.py - a real SMTP server for the mail tests (aiosmtpd).

    /usr/bin/python3 tests/mail/smtp_sink.py OUTDIR

Listens on 127.0.0.1 on a free port, prints "PORT <n>" on stdout once it
accepts connections, and writes every message it receives to
OUTDIR/<n>.eml (the raw bytes as received, after SMTP un-stuffing) with
its envelope in OUTDIR/<n>.env ("from\\nrcpt1\\nrcpt2..."). Runs until
SIGTERM or SIGINT.
"""
import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            n = self.n
        base = os.path.join(self.outdir, "%d" % n)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".env", "w") as f:
            f.write("\n".join([envelope.mail_from] + envelope.rcpt_tos) + "\n")
        os.rename(base + ".tmp", base + ".eml")
        return "250 OK"


def main():
    if len(sys.argv) != 2:
        print("usage: smtp_sink.py OUTDIR", file=sys.stderr)
        return 2
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    # aiosmtpd 1.4 cannot start on port 0 (its readiness probe connects
    # to the configured port): ask the kernel for a free one first.
    for attempt in range(10):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ctl = Controller(Sink(outdir), hostname="127.0.0.1", port=port)
        try:
            ctl.start()
            break
        except (OSError, RuntimeError):
            if attempt == 9:
                raise
    print("PORT %d" % port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait()
    ctl.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
