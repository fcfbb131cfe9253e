#!/usr/bin/python3
"""The phone bot through Asterisk's AudioSocket protocol, for real.

    tests/voice/test_audiosocket.py path/to/guichet

A demo database (`guichet init --demo`), then `guichet voice phone
--audiosocket 127.0.0.1:0` with espeak-ng's French voice; this script
plays Asterisk's part over TCP (frames: type, length big-endian,
payload; 20 ms of 8 kHz signed-linear audio per frame):

1. A call hears the greeting then the menu: the audio received lasts
   seconds and is not silence (sox `stat` on the recording).
2. A caller presses 0 with in-band DTMF tones (two sines) during the
   greeting, hears the voicemail prompt and its beep (a 1 kHz tone found
   in the audio), speaks three seconds (sox), presses #, hears the
   acknowledgement, and the bot hangs up (0x00): the request lands in the
   inbox (channel « telephone », a WAV attachment of about three seconds).
3. Three calls at once all get audio; the caller hangs up (0x00) each.
4. A digit sent as a 0x03 frame works like a tone (0 then the beep).
5. Bad frames: no UUID first, or a payload over 4096 bytes, are answered
   with an error frame (0xff) and the connection closed; the server keeps
   answering calls.
6. SIGTERM: the command stops cleanly (exit 0; ASan finds no leak).
7. `guichet serve` with voice.phone_audiosocket set starts the same
   server beside the web one: a call there hears the greeting; SIGTERM
   stops both cleanly. GET /api/v1/tts/reconnaissance there tells that
   speech recognition is ready (the stand-in engine of 8).
8. Speech in the menus (voice.asr_engine = vosk). Vosk cannot be
   installed here, so the engine is tests/voice/asr_standin.c, built
   with cc: a stand-in implementing the part of Vosk's C ABI the loader
   uses, which "recognises" a phrase from the pitch of the utterance (see
   that file). A caller says « agent » in the main menu (a 650 Hz tone
   for the stand-in): the bot loaded the library with dlopen, handed the
   menu's grammar to the engine (checked in the file the stand-in
   writes), mapped the phrase to key 0, and the voicemail's beep follows.
   With a library that is not there, the line starts all the same and
   the log says why, in French.
"""
import json
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
import uuid

RATE = 8000
FRAME = 160  # samples, 20 ms

failures = 0
passes = 0


def check(cond, what):
    global failures, passes
    if cond:
        passes += 1
    else:
        failures += 1
        print("ÉCHEC :", what, file=sys.stderr)


def sox_raw(*effect):
    """8 kHz signed 16-bit mono raw samples made by sox."""
    out = subprocess.run(
        ["sox", "-n", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b",
         "16", "-c", "1", "-"] + list(effect),
        check=True, capture_output=True).stdout
    return list(struct.unpack("<%dh" % (len(out) // 2), out))


DTMF = {"1": (697, 1209), "2": (697, 1336), "3": (697, 1477),
        "4": (770, 1209), "5": (770, 1336), "6": (770, 1477),
        "7": (852, 1209), "8": (852, 1336), "9": (852, 1477),
        "*": (941, 1209), "0": (941, 1336), "#": (941, 1477)}


def dtmf(key):
    """100 ms of the key's two tones (-12 dBFS each), 100 ms of silence."""
    lo, hi = DTMF[key]
    return [int(8000 * math.sin(2 * math.pi * lo * i / RATE) +
                8000 * math.sin(2 * math.pi * hi * i / RATE))
            for i in range(800)] + [0] * 800


def goertzel_ratio(frame, freq):
    """Share of a frame's energy at freq (0..1)."""
    k = 2 * math.cos(2 * math.pi * freq / RATE)
    q1 = q2 = 0.0
    for s in frame:
        q0 = k * q1 - q2 + s
        q2, q1 = q1, q0
    power = q1 * q1 + q2 * q2 - k * q1 * q2
    energy = sum(s * s for s in frame) * len(frame) / 2
    return power / energy if energy else 0.0


def rms(frame):
    return math.sqrt(sum(s * s for s in frame) / len(frame)) if frame else 0


class Call:
    """Asterisk's side of one call: sends 20 ms frames (silence unless
    told), records what the bot sends."""

    def __init__(self, port, send_uuid=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.received = []      # samples
        self.frames = []        # (type, payload) not audio
        self.closed = False
        self.hangup = False
        self.error = False
        self.out = []           # samples queued to send
        self.lock = threading.Lock()
        self.stop = False
        if send_uuid:
            self.send(0x01, uuid.uuid4().bytes)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.writer = threading.Thread(target=self._write, daemon=True)
        self.writer.start()

    def send(self, kind, payload=b""):
        try:
            self.sock.sendall(struct.pack(">BH", kind, len(payload)) + payload)
        except OSError:
            self.closed = True

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def _read(self):
        while True:
            h = self._recv_exact(3)
            if h is None:
                break
            kind, n = struct.unpack(">BH", h)
            payload = self._recv_exact(n) if n else b""
            if payload is None:
                break
            if kind == 0x10:
                with self.lock:
                    self.received.extend(
                        struct.unpack("<%dh" % (n // 2), payload))
            else:
                self.frames.append((kind, payload))
                if kind == 0x00:
                    self.hangup = True
                if kind == 0xFF:
                    self.error = True
        self.closed = True

    def _write(self):
        next_t = time.monotonic()
        while not self.stop and not self.closed:
            with self.lock:
                chunk, self.out = self.out[:FRAME], self.out[FRAME:]
            chunk += [0] * (FRAME - len(chunk))
            self.send(0x10, struct.pack("<%dh" % FRAME, *chunk))
            next_t += 0.02
            time.sleep(max(0, next_t - time.monotonic()))

    def play(self, samples):
        with self.lock:
            self.out.extend(samples)

    def pending(self):
        with self.lock:
            return len(self.out)

    def nreceived(self):
        with self.lock:
            return len(self.received)

    def wait(self, cond, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            time.sleep(0.05)
        return cond()

    def speaking_since(self, start):
        """Non-silent frames received after sample `start`."""
        with self.lock:
            audio = self.received[start:]
        return sum(1 for i in range(0, len(audio) - FRAME + 1, FRAME)
                   if rms(audio[i:i + FRAME]) > 100)

    def wait_silence(self, seconds, timeout):
        """Wait for the bot to stop talking for `seconds`."""
        need = int(seconds * RATE / FRAME)

        def quiet():
            with self.lock:
                audio = self.received[-need * FRAME:]
            return (len(audio) == need * FRAME and
                    all(rms(audio[i:i + FRAME]) < 30
                        for i in range(0, len(audio), FRAME)))
        return self.wait(quiet, timeout)

    def beep_at(self, start=0):
        """Index of the first 200 ms of a steady 1 kHz tone, or -1."""
        with self.lock:
            audio = self.received[:]
        run = 0
        for i in range(start - start % FRAME, len(audio) - FRAME + 1, FRAME):
            f = audio[i:i + FRAME]
            if rms(f) > 1000 and goertzel_ratio(f, 1000) > 0.8:
                run += 1
                if run >= 10:
                    return i
            else:
                run = 0
        return -1

    def close(self):
        self.stop = True
        self.writer.join(5)
        try:
            self.sock.close()
        except OSError:
            pass
        self.reader.join(5)


def sox_stat(samples, path):
    """Length (s) and RMS amplitude (0..1) by sox `stat`."""
    with open(path, "wb") as f:
        f.write(struct.pack("<%dh" % len(samples), *samples))
    st = subprocess.run(
        ["sox", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16",
         "-c", "1", path, "-n", "stat"], capture_output=True, text=True).stderr
    length = float(re.search(r"Length \(seconds\):\s*([\d.]+)", st).group(1))
    level = float(re.search(r"RMS\s+amplitude:\s*([\d.]+)", st).group(1))
    return length, level


def build_standin(tmp):
    """The stand-in engine (a shared library) and its « model »."""
    lib = os.path.join(tmp, "libvosk-standin.so")
    src = os.path.join(os.path.dirname(os.path.realpath(__file__)),
                       "asr_standin.c")
    r = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", lib, src,
                        "-lm"], capture_output=True, text=True)
    check(r.returncode == 0, "cc asr_standin.c : " + r.stderr[-1000:])
    model = os.path.join(tmp, "modele-fr")
    os.mkdir(model)
    with open(os.path.join(model, "phrases.txt"), "w") as f:
        f.write("500 rendez-vous\n650 agent\n800 retour\n")
    return lib, model


def wait_log(path, pattern, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(pattern, open(path).read())
        if m:
            return m
        time.sleep(0.1)
    return None


def main():
    if len(sys.argv) != 2:
        print("usage : test_audiosocket.py GUICHET", file=sys.stderr)
        return 2
    binary = os.path.realpath(sys.argv[1])
    for tool in ("sox",):
        if not shutil.which(tool):
            print(tool, "est nécessaire (scripts/deps.sh --test)",
                  file=sys.stderr)
            return 1
    tmp = tempfile.mkdtemp(prefix="guichet-audiosocket.")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GUICHET_")}
    env["GUICHET_LOG_LEVEL"] = "info"
    data = os.path.join(tmp, "data")
    proc = None
    try:
        r = subprocess.run([binary, "--data", data, "init", "--demo"],
                           env=env, capture_output=True, text=True)
        check(r.returncode == 0, "init --demo : " + r.stderr[-500:])
        err = open(os.path.join(tmp, "phone.err"), "w")
        out = open(os.path.join(tmp, "phone.out"), "w")
        proc = subprocess.Popen(
            [binary, "--data", data, "--set", "voice.phone_voicemail_s=20",
             "--set", "voice.phone_max_calls=4",
             "voice", "phone", "--audiosocket", "127.0.0.1:0"],
            env=env, stdout=out, stderr=err)
        port = 0
        for _ in range(300):
            m = re.search(r"port (\d+)",
                          open(os.path.join(tmp, "phone.out")).read())
            if m:
                port = int(m.group(1))
                break
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        check(port > 0, "guichet voice phone ne démarre pas : " +
              open(os.path.join(tmp, "phone.err")).read()[-2000:])
        if port == 0:
            return 1

        # 1. greeting and menu
        c = Call(port)
        c.wait(lambda: c.nreceived() >= 12 * RATE, 40)
        length, level = sox_stat(c.received[:12 * RATE],
                                 os.path.join(tmp, "greeting.raw"))
        check(length >= 11.9, "accueil : %.1f s reçues" % length)
        check(level > 0.01, "accueil : niveau RMS %.4f (silence ?)" % level)
        check(c.speaking_since(0) > 5 * 50,
              "accueil : moins de 5 s de parole en 12 s")
        c.send(0x00)
        c.wait(lambda: c.closed, 5)
        check(c.closed, "raccroché par l'appelant : connexion non fermée")
        c.close()

        # 2. voicemail by in-band tones
        c = Call(port)
        c.wait(lambda: c.speaking_since(0) > 25, 20)  # greeting started
        c.play(dtmf("0"))
        before = c.nreceived()
        beep = -1
        end = time.monotonic() + 60
        while beep < 0 and time.monotonic() < end:
            time.sleep(0.2)
            beep = c.beep_at(before)
        check(beep >= 0, "messagerie : pas de bip après la touche 0")
        speech = sox_raw("synth", "3", "sine", "300-500", "vol", "0.3")
        c.play(speech)
        c.wait(lambda: c.pending() == 0, 10)
        c.play(dtmf("#"))
        after = c.nreceived()
        c.wait(lambda: c.hangup or c.closed, 60)
        check(c.hangup, "messagerie : le bot n'a pas raccroché (0x00)")
        check(c.speaking_since(after) > 50,
              "messagerie : pas d'accusé de réception parlé")
        c.close()
        db = sqlite3.connect(os.path.join(data, "guichet.db"))
        rows = db.execute(
            "SELECT r.id, r.channel, r.body, a.ctype, a.size FROM "
            "tri_requests r JOIN tri_attachments a ON a.request_id = r.id "
            "WHERE r.channel = 'telephone'").fetchall()
        db.close()
        check(len(rows) == 1, "messagerie : %d demande(s) téléphone" %
              len(rows))
        if rows:
            _, channel, body, ctype, size = rows[0]
            check(ctype == "audio/wav", "pièce jointe : " + ctype)
            secs = (size - 44) / 16000
            check(3.0 <= secs <= 6.0, "message de %.1f s" % secs)
            check("Message vocal de" in body, "corps : " + body[:100])

        # 3. three calls at once
        calls = [Call(port) for _ in range(3)]
        for c in calls:
            c.wait(lambda c=c: c.speaking_since(0) > 50, 30)
            check(c.speaking_since(0) > 50, "appels simultanés : silence")
        for c in calls:
            c.send(0x00)
        for c in calls:
            c.wait(lambda c=c: c.closed, 5)
            check(c.closed, "appels simultanés : connexion non fermée")
            c.close()

        # 4. a digit as a 0x03 frame
        c = Call(port)
        c.wait(lambda: c.speaking_since(0) > 25, 20)
        c.send(0x03, b"0")
        before = c.nreceived()
        beep = -1
        end = time.monotonic() + 60
        while beep < 0 and time.monotonic() < end:
            time.sleep(0.2)
            beep = c.beep_at(before)
        check(beep >= 0, "touche 0x03 : pas de bip")
        c.send(0x00)
        c.wait(lambda: c.closed, 5)
        c.close()

        # 5. bad frames
        c = Call(port, send_uuid=False)
        c.send(0x10, b"\0" * 320)
        c.wait(lambda: c.closed, 10)
        check(c.error and c.closed, "sans UUID : pas de trame d'erreur")
        c.close()
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(struct.pack(">BH", 0x01, 16) + uuid.uuid4().bytes)
        s.sendall(struct.pack(">BH", 0x10, 5000) + b"\0" * 5000)
        got = b""
        s.settimeout(10)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        s.close()
        # The frames before the error are audio; the last is 0xff.
        check(got.endswith(b"\xff\x00\x00"),
              "trame trop longue : pas de trame d'erreur en dernier")
        c = Call(port)
        c.wait(lambda: c.speaking_since(0) > 25, 20)
        check(c.speaking_since(0) > 25, "après les trames invalides : muet")
        c.send(0x00)
        c.close()

        # 6. clean stop
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -1
        check(rc == 0, "arrêt : code %s" % rc)
        logs = open(os.path.join(tmp, "phone.err")).read()
        check("voice.as.stop" in logs, "arrêt : pas de ligne voice.as.stop")
        check("ERROR: AddressSanitizer" not in logs and
              "runtime error" not in logs, "sanitizers : " + logs[-1500:])
        proc = None

        # 7. started by `guichet serve`
        lib, model = build_standin(tmp)
        asr_sets = ["--set", "voice.asr_engine=vosk",
                    "--set", "voice.asr_library=" + lib,
                    "--set", "voice.asr_model=" + model]
        serr = os.path.join(tmp, "serve.err")
        sout = os.path.join(tmp, "serve.out")
        proc = subprocess.Popen(
            [binary, "--data", data, "--set",
             "voice.phone_audiosocket=127.0.0.1:0"] + asr_sets +
            ["serve", "--listen", "127.0.0.1:0"], env=env,
            stdout=open(sout, "w"), stderr=open(serr, "w"))
        port = 0
        for _ in range(300):
            m = re.search(r"AudioSocket sur le port (\d+)", open(sout).read())
            if m:
                port = int(m.group(1))
                break
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        check(port > 0, "serve : pas de téléphone : " +
              open(serr).read()[-2000:])
        if port:
            c = Call(port)
            c.wait(lambda: c.speaking_since(0) > 25, 30)
            check(c.speaking_since(0) > 25, "serve : appel muet")
            c.send(0x00)
            c.wait(lambda: c.closed, 5)
            c.close()
            m = re.search(r"sert http://[^:]+:(\d+)/", open(sout).read())
            check(m is not None, "serve : port HTTP introuvable")
            if m:
                h = socket.create_connection(("127.0.0.1", int(m.group(1))),
                                             timeout=10)
                h.sendall(b"GET /api/v1/tts/reconnaissance HTTP/1.0\r\n"
                          b"Host: 127.0.0.1\r\n\r\n")
                resp = b""
                while True:
                    chunk = h.recv(65536)
                    if not chunk:
                        break
                    resp += chunk
                h.close()
                head, _, body = resp.partition(b"\r\n\r\n")
                check(b" 200 " in head.split(b"\r\n")[0],
                      "reconnaissance : " + head[:80].decode())
                st = json.loads(body)
                check(st.get("moteur") == "vosk" and
                      st.get("disponible") is True and
                      st.get("modele") == model,
                      "reconnaissance : %r" % st)
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -1
        check(rc == 0, "serve : arrêt, code %s" % rc)
        logs = open(serr).read()
        check("voice.as.stop" in logs, "serve : pas de voice.as.stop")
        check("ERROR: AddressSanitizer" not in logs and
              "runtime error" not in logs, "serve : " + logs[-1500:])
        proc = None

        # 8. speech in the menus, through the stand-in engine
        perr = os.path.join(tmp, "asr.err")
        pout = os.path.join(tmp, "asr.out")
        proc = subprocess.Popen(
            [binary, "--data", data] + asr_sets +
            ["voice", "phone", "--audiosocket", "127.0.0.1:0"],
            env=env, stdout=open(pout, "w"), stderr=open(perr, "w"))
        m = wait_log(pout, r"port (\d+)", 30)
        check(m is not None, "asr : pas de téléphone : " +
              open(perr).read()[-2000:])
        check("msg=voice.asr.ready engine=vosk" in open(perr).read(),
              "asr : pas de voice.asr.ready")
        if m:
            c = Call(int(m.group(1)))
            check(wait_log(perr, r"state=menu", 60) is not None,
                  "asr : pas de menu")
            before = c.nreceived()
            c.play([int(6000 * math.sin(2 * math.pi * 650 * i / RATE))
                    for i in range(RATE * 7 // 10)] + [0] * (RATE // 2))
            check(wait_log(perr, r"msg=voice.asr call=\S+ state=menu key=0",
                           20) is not None,
                  "asr : « agent » non reconnu : " + open(perr).read()[-1500:])
            beep = -1
            end = time.monotonic() + 60
            while beep < 0 and time.monotonic() < end:
                time.sleep(0.2)
                beep = c.beep_at(before)
            check(beep >= 0, "asr : pas de bip après « agent »")
            c.send(0x00)
            c.wait(lambda: c.closed, 5)
            c.close()
            grammars = open(os.path.join(model, "grammars.log")).read()
            check(re.search(r'^16000 \["un","deux","trois","z\u00e9ro",.*'
                            r'"rendez-vous".*"agent".*"\[unk\]"\]$',
                            grammars, re.M) is not None,
                  "asr : grammaire du menu : " + grammars[:500])
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(30) == 0, "asr : arrêt")
        logs = open(perr).read()
        check("ERROR: AddressSanitizer" not in logs and
              "runtime error" not in logs, "asr : " + logs[-1500:])
        proc = None
        # The same with a library that is not there: keypad only, and why.
        proc = subprocess.Popen(
            [binary, "--data", data, "--set", "voice.asr_engine=vosk",
             "--set", "voice.asr_library=/nonexistent/libvosk.so",
             "voice", "phone", "--audiosocket", "127.0.0.1:0"],
            env=env, stdout=open(pout, "w"), stderr=open(perr, "w"))
        m = wait_log(pout, r"port (\d+)", 30)
        check(m is not None, "asr absente : le téléphone ne démarre pas")
        check(re.search(r"msg=voice.asr.missing engine=vosk raison=\"Biblioth"
                        r"\S* de reconnaissance introuvable",
                        open(perr).read()) is not None,
              "asr absente : " + open(perr).read()[-1000:])
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(30) == 0, "asr absente : arrêt")
        proc = None
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
            sys.stderr.write(open(os.path.join(tmp, "phone.err")).read()[-3000:])
        if failures:
            print("journal :", os.path.join(tmp, "phone.err"), file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passes, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
