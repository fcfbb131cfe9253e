#!/usr/bin/python3
"""The phone bot as a SIP user agent, called by sipp on 127.0.0.1.

    tests/sip/test_sip.py path/to/guichet

`guichet voice phone --sip 127.0.0.1:0` answers; sipp (Debian's
sip-tester) places the calls of the scenarios beside this file and plays
RTP from pcap files; this script records the bot's RTP on the port the
scenarios put in their SDP ([rec_port]) and checks it with sox.

1. uac_hangup.xml: answer (PCMU), four seconds of greeting, the caller's
   BYE is answered 200; the recorded audio lasts seconds and is not
   silence (sox `stat`), G.711 µ-law (payload type 0).
2. uac_transfer.xml, opening hours all week and a transfer number: PCMA
   offered first is used (payload type 8); key 0 as an RFC 4733 event;
   the bot sends REFER with Refer-To <sip:0199001234@127.0.0.1> (the bare
   number at the caller's host; checked by sipp), gets 202, sends no BYE
   until the NOTIFY whose sipfrag says 200, then BYE (checked by sipp).
   uac_transfer_refused.xml: the NOTIFY says 486; the bot does not hang
   up, says the transfer failed and plays the voicemail prompt and its
   beep (found in the recorded audio; the log says result=refused).
3. uac_voicemail.xml, no transfer number: key 0 as in-band tones in
   G.711 (a pcap made here), the voicemail prompt and its beep (1 kHz,
   found in the recording), three seconds of speech, # as an RFC 4733
   event, the acknowledgement and BYE; the request lands in the inbox
   (channel « telephone », WAV of about three seconds, the caller's
   number as contact) and the number is in no log line.
4. SIGTERM: clean stop (exit 0, no sanitizer report).
"""
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.realpath(__file__))
PCAPS = "/usr/share/sip-tester"
RATE = 8000

failures = 0
passes = 0


def check(cond, what):
    global failures, passes
    if cond:
        passes += 1
    else:
        failures += 1
        print("ÉCHEC :", what, file=sys.stderr)


# ----- G.711 µ-law (ITU-T, for the pcap we make and the audio we get) --

def ulaw_encode(s):
    sign = 0x80 if s < 0 else 0
    s = min(abs(s), 32635) + 0x84
    exp = 7
    while exp > 0 and not s & (0x4000 >> (7 - exp)):
        exp -= 1
    mant = (s >> (exp + 3)) & 0x0F
    return ~(sign | exp << 4 | mant) & 0xFF


def ulaw_decode(u):
    u = ~u & 0xFF
    t = ((u & 0x0F) << 3) + 0x84
    t <<= (u & 0x70) >> 4
    return 0x84 - t if u & 0x80 else t - 0x84


def alaw_decode(a):
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


def write_pcap(path, samples, pt=0):
    """RTP packets of 20 ms µ-law, 20 ms apart, in a pcap sipp replays."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    ssrc, seq, ts = 0x47554943, 1, 0
    for i in range(0, len(samples), 160):
        frame = samples[i:i + 160]
        frame += [0] * (160 - len(frame))
        rtp = struct.pack(">BBHII", 0x80, pt, seq, ts, ssrc) + bytes(
            ulaw_encode(s) for s in frame)
        udp = struct.pack(">HHHH", 40000, 40002, 8 + len(rtp), 0) + rtp
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq, 0, 64,
                         17, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        eth = b"\0" * 12 + b"\x08\x00"
        pkt = eth + ip + udp
        t = seq * 20000  # microseconds
        out.append(struct.pack("<IIII", t // 1000000, t % 1000000, len(pkt),
                               len(pkt)) + pkt)
        seq += 1
        ts += 160
    with open(path, "wb") as f:
        f.write(b"".join(out))


def tones(lo, hi, ms, amp=8000):
    n = RATE * ms // 1000
    return [int(amp * math.sin(2 * math.pi * lo * i / RATE) +
                amp * math.sin(2 * math.pi * hi * i / RATE)) for i in range(n)]


class Recorder:
    """Records the RTP the bot sends to one port."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets = []  # (pt, seq, payload)
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data = self.sock.recv(2048)
            except socket.timeout:
                continue
            if len(data) >= 12:
                self.packets.append((data[1] & 0x7F,
                                     struct.unpack(">H", data[2:4])[0],
                                     data[12:]))

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()

    def samples(self):
        out = []
        for pt, _, payload in self.packets:
            dec = ulaw_decode if pt == 0 else alaw_decode
            out.extend(dec(b) for b in payload)
        return out


def sox_stat(samples, path):
    if not samples:
        return 0.0, 0.0
    with open(path, "wb") as f:
        f.write(struct.pack("<%dh" % len(samples), *samples))
    st = subprocess.run(
        ["sox", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16",
         "-c", "1", path, "-n", "stat"], capture_output=True, text=True).stderr
    length = float(re.search(r"Length \(seconds\):\s*([\d.]+)", st).group(1))
    level = float(re.search(r"RMS\s+amplitude:\s*([\d.]+)", st).group(1))
    return length, level


def beep_at(samples):
    """Start of the first 200 ms of a steady 1 kHz tone, or -1."""
    k = 2 * math.cos(2 * math.pi * 1000 / RATE)
    run = 0
    for i in range(0, len(samples) - 159, 160):
        f = samples[i:i + 160]
        q1 = q2 = 0.0
        for s in f:
            q1, q2 = k * q1 - q2 + s, q1
        power = q1 * q1 + q2 * q2 - k * q1 * q2
        energy = sum(s * s for s in f) * 80
        rms = math.sqrt(sum(s * s for s in f) / 160)
        if rms > 1000 and energy and power / energy > 0.8:
            run += 1
            if run >= 10:
                return i - 9 * 160
        else:
            run = 0
    return -1


class Phone:
    def __init__(self, binary, data, tmp, env, *sets):
        self.err_path = os.path.join(tmp, "phone-%d.err" % time.monotonic_ns())
        self.out_path = self.err_path.replace(".err", ".out")
        args = [binary, "--data", data]
        for s in sets:
            args += ["--set", s]
        args += ["voice", "phone", "--sip", "127.0.0.1:0"]
        self.proc = subprocess.Popen(args, env=env,
                                     stdout=open(self.out_path, "w"),
                                     stderr=open(self.err_path, "w"))
        self.port = 0
        for _ in range(300):
            m = re.search(r"SIP \(UDP\) sur le port (\d+)",
                          open(self.out_path).read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        check(self.port > 0, "guichet voice phone --sip ne démarre pas : " +
              self.logs()[-2000:])

    def logs(self):
        return open(self.err_path).read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = -1
        check(rc == 0, "arrêt : code %s" % rc)
        logs = self.logs()
        check("voice.sip.stop" in logs, "arrêt : pas de voice.sip.stop")
        check("ERROR: AddressSanitizer" not in logs and
              "runtime error" not in logs, "sanitizers : " + logs[-1500:])
        return logs


def sipp(workdir, scenario, port, rec, timeout=120):
    r = subprocess.run(
        ["sipp", "127.0.0.1:%d" % port, "-sf", os.path.join(HERE, scenario),
         "-m", "1", "-i", "127.0.0.1", "-p", "0", "-mp", "0",
         "-key", "rec_port", str(rec.port), "-timeout", "%ds" % timeout,
         "-timeout_error", "-nostdin", "-trace_err",
         "-error_file", os.path.join(workdir, scenario + ".errors")],
        cwd=workdir, capture_output=True, text=True, timeout=timeout + 30)
    errors = ""
    path = os.path.join(workdir, scenario + ".errors")
    if os.path.exists(path):
        errors = open(path).read()
    check(r.returncode == 0, "sipp %s : code %d\n%s\n%s" % (
        scenario, r.returncode, r.stdout[-1500:], errors[-1500:]))
    return r.returncode


def main():
    if len(sys.argv) != 2:
        print("usage : test_sip.py GUICHET", file=sys.stderr)
        return 2
    binary = os.path.realpath(sys.argv[1])
    for tool in ("sipp", "sox"):
        if not shutil.which(tool):
            print(tool, "est nécessaire (scripts/deps.sh --test)",
                  file=sys.stderr)
            return 1
    tmp = tempfile.mkdtemp(prefix="guichet-sip.")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GUICHET_")}
    env["GUICHET_LOG_LEVEL"] = "info"
    data = os.path.join(tmp, "data")
    work = os.path.join(tmp, "sipp")
    os.mkdir(work)
    for name in ("dtmf_2833_0.pcap", "dtmf_2833_pound.pcap"):
        shutil.copy(os.path.join(PCAPS, name), work)
    # Key 0 in-band: 941 + 1336 Hz for 100 ms, then 100 ms of silence.
    write_pcap(os.path.join(work, "inband0.pcap"),
               tones(941, 1336, 100) + [0] * 800)
    # Three seconds of a voice-like sweep (sox), as µ-law RTP.
    raw = subprocess.run(
        ["sox", "-n", "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16",
         "-c", "1", "-", "synth", "3", "sine", "200-600", "vol", "0.3"],
        check=True, capture_output=True).stdout
    write_pcap(os.path.join(work, "speech.pcap"),
               list(struct.unpack("<%dh" % (len(raw) // 2), raw)))
    phone = None
    try:
        # A plain commune (short prompts: no opening-hours text).
        r = subprocess.run([binary, "--data", data, "init", "--insee", "99001",
                            "--name", "Saint-Test-sur-Loire", "--zone", "B"],
                           env=env, capture_output=True, text=True)
        check(r.returncode == 0, "init : " + r.stderr[-500:])

        # 1 and 2: transfer number, open every day and hour.
        phone = Phone(binary, data, tmp, env,
                      "voice.phone_transfer_to=0199001234",
                      "voice.phone_hours=lu-di 00:00-24:00")
        if phone.port == 0:
            return 1
        rec = Recorder()
        sipp(work, "uac_hangup.xml", phone.port, rec)
        rec.close()
        audio = rec.samples()
        check({pt for pt, _, _ in rec.packets} == {0},
              "raccroché : types RTP %s" % {pt for pt, _, _ in rec.packets})
        length, level = sox_stat(audio, os.path.join(tmp, "hangup.raw"))
        check(length >= 3.5, "raccroché : %.1f s reçues" % length)
        check(level > 0.01, "raccroché : niveau %.4f (silence ?)" % level)
        seqs = [s for _, s, _ in rec.packets]
        check(all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:])),
              "raccroché : numéros de séquence RTP non consécutifs")

        rec = Recorder()
        sipp(work, "uac_transfer.xml", phone.port, rec)
        rec.close()
        check(rec.packets and {pt for pt, _, _ in rec.packets} == {8},
              "transfert : PCMA proposé en premier non retenu")
        length, level = sox_stat(rec.samples(),
                                 os.path.join(tmp, "transfer.raw"))
        check(length >= 3 and level > 0.01,
              "transfert : %.1f s, niveau %.4f" % (length, level))
        rec = Recorder()
        sipp(work, "uac_transfer_refused.xml", phone.port, rec)
        rec.close()
        check(beep_at(rec.samples()) > 0,
              "transfert refusé : pas de bip de la messagerie")
        logs = phone.stop()
        phone = None
        check("msg=voice.sip.refer" in logs and "ok=1" in logs,
              "transfert : pas de REFER dans le journal")
        check(re.search(r"msg=voice\.sip\.transfer call=\S+ result=ok "
                        r"code=200", logs) is not None,
              "transfert : pas de result=ok dans le journal")
        check(re.search(r"msg=voice\.sip\.transfer call=\S+ result=refused "
                        r"code=486", logs) is not None,
              "transfert refusé : pas de result=refused code=486")
        check(re.search(r"state=transfert_echoue", logs) is not None,
              "transfert refusé : l'échec n'est pas annoncé")

        # 3: voicemail (no transfer number).
        phone = Phone(binary, data, tmp, env, "voice.phone_voicemail_s=30")
        if phone.port == 0:
            return 1
        rec = Recorder()
        sipp(work, "uac_voicemail.xml", phone.port, rec)
        rec.close()
        audio = rec.samples()
        b = beep_at(audio)
        check(b > 0, "messagerie : pas de bip dans l'audio reçu")
        length, level = sox_stat(audio, os.path.join(tmp, "voicemail.raw"))
        check(length > 15 and level > 0.01,
              "messagerie : %.1f s, niveau %.4f" % (length, level))
        logs = phone.stop()
        phone = None
        db = sqlite3.connect(os.path.join(data, "guichet.db"))
        rows = db.execute(
            "SELECT r.body, r.contact_phone, a.ctype, a.size FROM "
            "tri_requests r JOIN tri_attachments a ON a.request_id = r.id "
            "WHERE r.channel = 'telephone'").fetchall()
        db.close()
        check(len(rows) == 1, "messagerie : %d demande(s)" % len(rows))
        if rows:
            body, contact, ctype, size = rows[0]
            check(ctype == "audio/wav", "pièce jointe : " + ctype)
            secs = (size - 44) / 16000
            check(2.5 <= secs <= 6.5, "message de %.1f s" % secs)
            check(contact == "0611223344", "contact : " + contact)
        check("0611223344" not in logs and "06 11 22 33 44" not in logs,
              "le numéro de l'appelant apparaît dans le journal")
        check("caller=[téléphone" in logs,
              "journal : l'appelant n'est pas marqué par son étiquette")
    finally:
        if phone is not None:
            phone.proc.kill()
            phone.proc.wait()
            sys.stderr.write(phone.logs()[-3000:])
        if failures:
            print("dossier :", tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passes, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
