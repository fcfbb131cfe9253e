#!/usr/bin/python3
"""Concurrent phone calls held by the SIP bot, and the gaps in its audio.

    bench/phone/calls.py path/to/guichet [CALLS...] [--seconds S] [--invites]

For each number of calls (default 10 25 50 75 100): a fresh
`guichet voice phone --sip 127.0.0.1:0` on a demo database; this script
places that many calls at once (a minimal SIP UAC: INVITE with PCMU and
telephone-event, ACK, BYE), sends each 20 ms of silence every 20 ms as a
caller would, and records the arrival time of every RTP packet the bot
sends, for S seconds (default 20) after the last call is answered (the
greeting and the menu are being read). It prints, per load: calls
answered, calls whose audio never had a gap over 40 ms, the worst gap,
the 99th percentile of inter-arrival times, the CPU time the bot
used, and from the bot's own log at its stop (voice.sip.stop) the
longest interval between two packets of a call as the bot sent them and
the longest single step of a call in its loop thread (these two do not include the jitter of
this script, which measures the arrivals in one Python thread). A figure, not a test (issue 8 target: 50 calls clean on 2 cores);
use a build without sanitizers.

With --invites, every call also asks for new prompts during the
measurement, at a moment spread over the S seconds: it presses 2 (the
appointment motifs), then 1 a second later (the next free slots of the
first motif: a prompt that changes with every call, so it is synthesised
for each, about ten seconds of speech); the count of slot prompts the bot
entered is printed (from its log).
"""
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time


def sip_msg(lines, body=""):
    return ("\r\n".join(lines) + "\r\nContent-Length: %d\r\n\r\n%s" %
            (len(body.encode()), body)).encode()


class Call:
    def __init__(self, i, sip_port, sig):
        self.i = i
        self.sig = sig
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtp.setblocking(False)
        self.rtp_port = self.rtp.getsockname()[1]
        self.callid = "bench-%d-%d@127.0.0.1" % (os.getpid(), i)
        self.tag = "t%d" % i
        self.to_tag = ""
        self.sip_port = sip_port
        self.local = sig.getsockname()[1]
        self.answered = False
        self.remote = None
        self.arrivals = []
        self.seq = 0

    def invite(self):
        sdp = ("v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
               "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
               "a=rtpmap:101 telephone-event/8000\r\n" % self.rtp_port)
        self.sig.sendto(sip_msg([
            "INVITE sip:mairie@127.0.0.1:%d SIP/2.0" % self.sip_port,
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-inv-%d" %
            (self.local, self.i),
            "From: <sip:bench%d@127.0.0.1>;tag=%s" % (self.i, self.tag),
            "To: <sip:mairie@127.0.0.1>",
            "Call-ID: " + self.callid, "CSeq: 1 INVITE",
            "Contact: <sip:bench@127.0.0.1:%d>" % self.local,
            "Max-Forwards: 70", "Content-Type: application/sdp"], sdp),
            ("127.0.0.1", self.sip_port))

    def on_200(self, msg):
        m = re.search(r"^To:.*;tag=([^;\r\n]+)", msg, re.M | re.I)
        self.to_tag = m.group(1) if m else ""
        m = re.search(r"m=audio (\d+)", msg)
        self.remote = ("127.0.0.1", int(m.group(1))) if m else None
        self.answered = True
        self.sig.sendto(sip_msg([
            "ACK sip:mairie@127.0.0.1:%d SIP/2.0" % self.sip_port,
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ack-%d" %
            (self.local, self.i),
            "From: <sip:bench%d@127.0.0.1>;tag=%s" % (self.i, self.tag),
            "To: <sip:mairie@127.0.0.1>;tag=" + self.to_tag,
            "Call-ID: " + self.callid, "CSeq: 1 ACK", "Max-Forwards: 70"]),
            ("127.0.0.1", self.sip_port))

    def bye(self):
        self.sig.sendto(sip_msg([
            "BYE sip:mairie@127.0.0.1:%d SIP/2.0" % self.sip_port,
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-bye-%d" %
            (self.local, self.i),
            "From: <sip:bench%d@127.0.0.1>;tag=%s" % (self.i, self.tag),
            "To: <sip:mairie@127.0.0.1>;tag=" + self.to_tag,
            "Call-ID: " + self.callid, "CSeq: 2 BYE", "Max-Forwards: 70"]),
            ("127.0.0.1", self.sip_port))

    def send_key(self, key, ts):
        """An RFC 4733 event (payload type 101): three packets with one
        timestamp, the last with the end bit."""
        if not self.remote:
            return
        code = {"*": 10, "#": 11}.get(key)
        code = int(key) if code is None else code
        for k, dur in enumerate((160, 320, 480)):
            end = 0x80 if k == 2 else 0
            pkt = struct.pack(">BBHII", 0x80, 101 | (0x80 if k == 0 else 0),
                              self.seq & 0xFFFF, ts, 0x1000 + self.i) + \
                struct.pack(">BBH", code, end | 10, dur)
            self.seq += 1
            try:
                self.rtp.sendto(pkt, self.remote)
            except OSError:
                pass

    def send_silence(self, ts):
        if not self.remote:
            return
        pkt = struct.pack(">BBHII", 0x80, 0, self.seq & 0xFFFF, ts,
                          0x1000 + self.i) + b"\xff" * 160
        self.seq += 1
        try:
            self.rtp.sendto(pkt, self.remote)
        except OSError:
            pass


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(binary, data, n, seconds, env, invites=False):
    out = tempfile.NamedTemporaryFile("w+", delete=False)
    err = tempfile.NamedTemporaryFile("w+", delete=False)
    proc = subprocess.Popen(
        [binary, "--data", data, "--set", "voice.phone_max_calls=500",
         "voice", "phone", "--sip", "127.0.0.1:0"],
        env=env, stdout=out, stderr=err)
    port = 0
    for _ in range(300):
        m = re.search(r"SIP \(UDP\) sur le port (\d+)", open(out.name).read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.1)
    if not port:
        proc.kill()
        raise SystemExit("guichet ne démarre pas")
    sig = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sig.bind(("127.0.0.1", 0))
    sig.setblocking(False)
    calls = [Call(i, port, sig) for i in range(n)]
    by_id = {c.callid: c for c in calls}
    for c in calls:
        c.invite()
    cpu0 = cpu_seconds(proc.pid)
    t_answer = None
    deadline = time.monotonic() + 30
    next_send = time.monotonic()
    ts = 0
    socks = [sig] + [c.rtp for c in calls]
    fd_call = {c.rtp.fileno(): c for c in calls}
    end = None
    keys = []  # (time, call, key), once answered
    while True:
        now = time.monotonic()
        if end is None and all(c.answered for c in calls):
            t_answer = now
            end = now + seconds
            if invites:
                span = max(1.0, seconds - 8)
                for c in calls:
                    t = now + 1 + span * c.i / max(1, n)
                    keys += [(t, c, "2"), (t + 1, c, "1")]
                keys.sort(key=lambda k: k[0])
        while keys and keys[0][0] <= now:
            _, c, key = keys.pop(0)
            c.send_key(key, ts)
        if end is not None and now >= end:
            break
        if end is None and now > deadline:
            break
        timeout = max(0.0, next_send - now)
        r, _, _ = select.select(socks, [], [], timeout)
        stamp = time.monotonic()
        for s in r:
            if s is sig:
                try:
                    data_, _ = sig.recvfrom(65536)
                except OSError:
                    continue
                msg = data_.decode("utf-8", "replace")
                m = re.search(r"^Call-ID:\s*(\S+)", msg, re.M | re.I)
                c = by_id.get(m.group(1)) if m else None
                if c and msg.startswith("SIP/2.0 200") and "INVITE" in msg \
                        and not c.answered:
                    c.on_200(msg)
                continue
            c = fd_call[s.fileno()]
            while True:
                try:
                    s.recv(2048)
                except OSError:
                    break
                if t_answer is not None:
                    c.arrivals.append(stamp)
        if time.monotonic() >= next_send:
            for c in calls:
                c.send_silence(ts)
            ts += 160
            next_send += 0.02
    cpu = cpu_seconds(proc.pid) - cpu0
    for c in calls:
        c.bye()
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    logs = open(err.name).read()
    slots = len(re.findall(r"msg=voice\.call\.state .*state=creneaux", logs))
    m = re.search(r"msg=voice\.sip\.stop .*max_gap_ms=(\d+) "
                  r"max_late_ms=\d+ max_step_ms=(\d+)", logs)
    late, step = (int(m.group(1)), int(m.group(2))) if m else (-1, -1)
    answered = sum(c.answered for c in calls)
    gaps = []
    clean = 0
    worst = 0.0
    for c in calls:
        g = [b - a for a, b in zip(c.arrivals, c.arrivals[1:])]
        if c.answered and c.arrivals and (not g or max(g) <= 0.040):
            clean += 1
        if g:
            worst = max(worst, max(g))
        gaps.extend(g)
    gaps.sort()
    p99 = gaps[int(len(gaps) * 0.99)] if gaps else 0
    sig.close()
    for c in calls:
        c.rtp.close()
    os.unlink(out.name)
    os.unlink(err.name)
    return answered, clean, worst, p99, cpu, seconds, slots, late, step


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    binary = os.path.realpath(args.pop(0))
    seconds = 20.0
    if "--seconds" in args:
        i = args.index("--seconds")
        seconds = float(args[i + 1])
        del args[i:i + 2]
    invites = "--invites" in args
    if invites:
        args.remove("--invites")
    loads = [int(a) for a in args] or [10, 25, 50, 75, 100]
    tmp = tempfile.mkdtemp(prefix="guichet-bench-calls.")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GUICHET_")}
    env["GUICHET_LOG_LEVEL"] = "info"
    data = os.path.join(tmp, "data")
    subprocess.run([binary, "--data", data, "init", "--demo"], env=env,
                   check=True, capture_output=True)
    print("| appels | décrochés | son sans trou > 40 ms | pire trou | "
          "p99 entre paquets | CPU du bot | pire trou à l'envoi | "
          "plus longue étape |" + (" invites des créneaux |" if invites
                                   else ""))
    print("|---|---|---|---|---|---|---|---|" + ("---|" if invites else ""))
    for n in loads:
        answered, clean, worst, p99, cpu, secs, slots, late, step = run(
            binary, data, n, seconds, env, invites)
        print("| %d | %d | %d | %.0f ms | %.1f ms | %.0f %% d'un cœur | "
              "%d ms | %d ms |" % (
                  n, answered, clean, worst * 1000, p99 * 1000,
                  100 * cpu / secs, late, step) +
              (" %d |" % slots if invites else ""))
        sys.stdout.flush()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
