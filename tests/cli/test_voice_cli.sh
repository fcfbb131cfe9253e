#!/bin/sh
# test_voice_cli.sh GUICHET - `guichet voice say`: a WAV file of real
# speech (header read by sox's soxi when sox is installed, and by od
# anyway), each engine installed, the telephone rate, French usage errors
# (exit code 2) and an engine that is not installed.
set -u
G=${1:?usage: test_voice_cli.sh GUICHET}
case $G in /*) ;; *) G=$(pwd)/$G ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
ko() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }
cd "$T" || exit 1 # no database is needed, nothing is written elsewhere

TEXT="Bonjour, la mairie est ouverte du lundi au vendredi de 9h à 12h. Pour votre CNI, prenez RDV au 01 23 45 67 89."

# le32 FILE OFFSET: a little-endian 32-bit field of the file
le32() { od -An -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
le16() { od -An -t u2 -j "$2" -N 2 "$1" | tr -d ' '; }

# check_wav FILE RATE: header fields, size, and at least 3 s of audio
check_wav() {
  f=$1; rate=$2
  [ "$(head -c 4 "$f")" = RIFF ] && ok || ko "$f: no RIFF"
  [ "$(dd if="$f" bs=1 skip=8 count=8 2>/dev/null)" = "WAVEfmt " ] && ok || ko "$f: no WAVEfmt"
  [ "$(le16 "$f" 20)" = 1 ] && ok || ko "$f: not PCM"
  [ "$(le16 "$f" 22)" = 1 ] && ok || ko "$f: not mono"
  [ "$(le32 "$f" 24)" = "$rate" ] && ok || ko "$f: rate $(le32 "$f" 24) != $rate"
  [ "$(le16 "$f" 34)" = 16 ] && ok || ko "$f: not 16-bit"
  size=$(wc -c <"$f")
  [ "$(le32 "$f" 40)" = $((size - 44)) ] && ok || ko "$f: data size"
  [ $((size - 44)) -gt $((rate * 2 * 3)) ] && ok || ko "$f: under 3 s ($size bytes)"
  if command -v soxi >/dev/null 2>&1; then
    [ "$(soxi -r "$f")" = "$rate" ] && ok || ko "soxi rate $(soxi -r "$f")"
    [ "$(soxi -c "$f")" = 1 ] && ok || ko "soxi channels"
    d=$(soxi -D "$f")
    awk -v d="$d" 'BEGIN { exit !(d > 3 && d < 30) }' && ok || ko "soxi duration $d"
    # speech, not silence: sox's RMS amplitude
    rms=$(sox "$f" -n stat 2>&1 | awk '/RMS +amplitude/ { print $3 }')
    awk -v r="$rms" 'BEGIN { exit !(r > 0.01) }' && ok || ko "RMS $rms"
  fi
}

out=$("$G" voice say "$TEXT" --moteur espeak-ng --sortie "$T/e.wav" 2>"$T/err")
rc=$?
[ $rc -eq 0 ] && ok || ko "espeak exit $rc: $(cat "$T/err")"
echo "$out" | grep -q "Hz, moteur espeak-ng" && ok || ko "summary: $out"
check_wav "$T/e.wav" 22050

"$G" voice say "$TEXT" --moteur espeak-ng --debit 8000 --vitesse 120 \
  --sortie "$T/tel.wav" >/dev/null 2>"$T/err" && ok || ko "8 kHz: $(cat "$T/err")"
check_wav "$T/tel.wav" 8000

# Pico when installed (scripts/deps.sh --non-free), else its French error
if [ -e /usr/lib/x86_64-linux-gnu/libttspico.so.0 ] ||
   ldconfig -p 2>/dev/null | grep -q libttspico.so.0; then
  "$G" voice say "$TEXT" --moteur pico --sortie "$T/p.wav" >"$T/out" 2>"$T/err" &&
    ok || ko "pico: $(cat "$T/err")"
  check_wav "$T/p.wav" 16000
  "$G" voice say "Bonjour." --sortie "$T/a.wav" | grep -q "moteur pico" &&
    ok || ko "auto is not pico"
else
  "$G" voice say "Bonjour." --moteur pico --sortie "$T/p.wav" >/dev/null 2>"$T/err"
  [ $? -ne 0 ] && ok || ko "pico missing but succeeded"
  grep -q "Pico n'est pas installée" "$T/err" && ok || ko "pico message: $(cat "$T/err")"
  [ ! -e "$T/p.wav" ] && ok || ko "a file was written"
fi

# A Pico directory without the French files: Pico unusable, said in French
"$G" voice say "Bonjour." --moteur pico --set voice.pico_lang_dir="$T" \
  --sortie "$T/x.wav" >/dev/null 2>"$T/err"
[ $? -ne 0 ] && ok || ko "pico without resources succeeded"
grep -q "Pico n'est pas installée" "$T/err" && ok || ko "message: $(cat "$T/err")"

# Usage errors: exit 2, French
"$G" voice say "Bonjour" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && ok || ko "missing --sortie not exit 2"
grep -q "sortie" "$T/err" && ok || ko "missing --sortie message: $(cat "$T/err")"
"$G" voice say "Bonjour" --moteur festival --sortie "$T/y.wav" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && ok || ko "bad engine not exit 2"
grep -q "Valeurs permises" "$T/err" && ok || ko "bad engine message: $(cat "$T/err")"
"$G" voice say "Bonjour" --debit 100 --sortie "$T/y.wav" >/dev/null 2>"$T/err"
[ $? -ne 0 ] && ok || ko "bad rate accepted"
grep -q "8000" "$T/err" && ok || ko "bad rate message: $(cat "$T/err")"
# invalid UTF-8 text
"$G" voice say "$(printf 'caf\303')" --sortie "$T/y.wav" >/dev/null 2>"$T/err"
[ $? -ne 0 ] && ok || ko "invalid UTF-8 accepted"
grep -q "UTF-8" "$T/err" && ok || ko "UTF-8 message: $(cat "$T/err")"
# unwritable output
"$G" voice say "Bonjour" --sortie "$T/nodir/y.wav" >/dev/null 2>"$T/err"
[ $? -ne 0 ] && ok || ko "unwritable output accepted"
grep -q "Impossible d'écrire" "$T/err" && ok || ko "write message: $(cat "$T/err")"
"$G" help voice say | grep -q -- "--sortie" && ok || ko "help"

# voice asr: without an engine, the keypad only (exit 1), said in French
"$G" voice asr >"$T/out" 2>"$T/err"
[ $? -eq 1 ] && ok || ko "voice asr without an engine: exit $?"
grep -q "Reconnaissance de la parole : none" "$T/out" && ok || ko "asr: $(cat "$T/out")"
grep -q "au clavier" "$T/out" && ok || ko "asr keypad: $(cat "$T/out")"
# an engine whose library is not installed: the reason is given
"$G" --set voice.asr_engine=vosk --set voice.asr_model="$T" voice asr >"$T/out" 2>&1
[ $? -eq 1 ] && ok || ko "voice asr without the library: exit $?"
grep -q "introuvable" "$T/out" && ok || ko "asr library reason: $(cat "$T/out")"
"$G" voice asr --bogus >/dev/null 2>"$T/err"
[ $? -eq 2 ] && ok || ko "voice asr: unknown option accepted"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
