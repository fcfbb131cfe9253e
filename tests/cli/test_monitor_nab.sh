#!/bin/sh
# test_monitor_nab.sh GUICHET - `guichet monitor nab` on a tiny NAB-layout
# directory: output layout and columns, one row per input row (repeated
# timestamps included), scores in [0, 1], the spike scored, and clear
# French errors on a bad file and a missing directory.
set -u
G=${1:?usage: test_monitor_nab.sh GUICHET}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
ko() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

mkdir -p "$T/data/catA" "$T/data/catB"
# catA/spiky.csv: 5-minute points, a daily wave with noise, one spike at
# row 700, a repeated timestamp at row 400.
awk 'BEGIN {
  print "timestamp,value"; srand(7); t = 1396310400
  for (i = 0; i < 800; i++) {
    v = 50 + 10 * sin(i * 6.2832 / 288) + rand()
    if (i == 700) v += 60
    if (i != 400) t += 300
    printf "%s,%.4f\n", strftime("%Y-%m-%d %H:%M:%S", t, 1), v
  }
}' >"$T/data/catA/spiky.csv"
awk 'BEGIN {
  print "timestamp,value"; t = 1396310400
  for (i = 0; i < 300; i++) { t += 60; printf "%s,%d\n", strftime("%Y-%m-%d %H:%M:%S", t, 1), i % 7 }
}' >"$T/data/catB/steps.csv"
echo "not a csv" >"$T/data/catB/README.txt"

out=$("$G" monitor nab "$T/data" "$T/out" 2>"$T/err")
rc=$?
[ $rc -eq 0 ] && ok || ko "exit $rc: $(cat "$T/err")"
echo "$out" | grep -q "2 fichiers traités" && ok || ko "summary: $out"
for f in catA/spiky catB/steps; do
  in="$T/data/$f.csv"
  res="$T/out/guichet/$(dirname $f)/guichet_$(basename $f).csv"
  [ -f "$res" ] && ok || { ko "missing $res"; continue; }
  [ "$(head -1 "$res")" = "timestamp,value,anomaly_score" ] && ok ||
    ko "$f header: $(head -1 "$res")"
  [ "$(wc -l <"$in")" -eq "$(wc -l <"$res")" ] && ok ||
    ko "$f rows: $(wc -l <"$in") in, $(wc -l <"$res") out"
  # Same timestamps and values, row by row; a score in [0, 1].
  paste -d, "$in" "$res" | awk -F, 'NR > 1 {
      if ($1 != $3 || $2 != $4) { print "row " NR ": " $0; bad = 1 }
      if (NF != 5 || $5 !~ /^[0-9.]+$/ || $5 < 0 || $5 > 1) {
        print "score row " NR ": " $5; bad = 1 }
    } END { exit bad }' >"$T/cmp" && ok || ko "$f rows differ: $(head -3 "$T/cmp")"
done
[ ! -e "$T/out/guichet/catB/guichet_README.txt" ] && ok || ko "README.txt run"
# The spike (data row 700 = file line 702) is scored, and is the highest
# score of the file.
awk -F, 'NR == 702 { s = $3 } NR > 1 && $3 > m { m = $3 }
  END { exit !(s > 0.5 && s == m) }' \
  "$T/out/guichet/catA/guichet_spiky.csv" && ok || ko "spike not scored"
# Scores are sparse: most rows 0.
awk -F, 'NR > 1 && $3 == 0 { z++ } NR > 1 { n++ } END { exit !(z > 0.9 * n) }' \
  "$T/out/guichet/catA/guichet_spiky.csv" && ok || ko "scores not sparse"

# A bad value: exit non-zero, French message naming the file and line.
mkdir -p "$T/bad/cat"
printf 'timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,2\n2014-04-01 00:10:00,abc\n' \
  >"$T/bad/cat/broken.csv"
"$G" monitor nab "$T/bad" "$T/out2" >/dev/null 2>"$T/err"
rc=$?
[ $rc -ne 0 ] && ok || ko "bad file accepted"
grep -q "cat/broken.csv, ligne 4 : valeur numérique illisible" "$T/err" && ok ||
  ko "bad value message: $(cat "$T/err")"
printf 'timestamp,value\n01/04/2014 00:00,1\n' >"$T/bad/cat/broken.csv"
"$G" monitor nab "$T/bad" "$T/out2" >/dev/null 2>"$T/err"
grep -q "ligne 2 : date illisible" "$T/err" && ok ||
  ko "bad date message: $(cat "$T/err")"
printf 'time;value\n' >"$T/bad/cat/broken.csv"
"$G" monitor nab "$T/bad" "$T/out2" >/dev/null 2>"$T/err"
grep -q "en-tête" "$T/err" && ok || ko "bad header message: $(cat "$T/err")"
# A missing directory and a wrong argument count.
"$G" monitor nab "$T/nowhere" "$T/out3" >/dev/null 2>"$T/err"
rc=$?
[ $rc -ne 0 ] && ok || ko "missing dir accepted"
grep -qi "dossier\|illisible" "$T/err" && ok || ko "missing dir message: $(cat "$T/err")"
"$G" monitor nab "$T/data" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && ok || ko "usage exit code"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
