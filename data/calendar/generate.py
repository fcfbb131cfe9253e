#!/usr/bin/python3
"""Write data/calendar/vacances.csv and annees.csv from the per-day table
of AntoineAugusti/vacances-scolaires-france (MIT), see README.md.

usage: data/calendar/generate.py [SHARED_CALENDAR_DIR]
(default: ../shared/data/calendar relative to the project root).

vacances.csv: one row per holiday period and group of zones with the same
dates: debut;fin;zones;nom (ISO dates, both inclusive, zones as "ABC").
annees.csv: one row per school year: annee;rentree;fin — rentree is the
first day after the summer holidays (same in every zone), fin the first
day of the next summer holidays (the official « fin des cours » day).
"""
import csv
import datetime as dt
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "..", "..", "..", "shared", "data", "calendar")
days = []
with open(os.path.join(src, "vacances-scolaires-france.csv"),
          newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        day = dt.date.fromisoformat(row["date"])
        zones = {z for z in "ABC" if row["vacances_zone_" + z.lower()] == "True"}
        days.append((day, zones, row["nom_vacances"].strip()))
days.sort()
for a, b in zip(days, days[1:]):
    assert (b[0] - a[0]).days == 1, "gap in the source at %s" % a[0]

# Periods per zone: runs of consecutive holiday days with the same name.
runs = {}  # (start, end, name) -> zones
for z in "ABC":
    start = None
    for i, (day, zones, name) in enumerate(days):
        on = z in zones
        if on and start is None:
            start, sname = day, name
        nxt = days[i + 1] if i + 1 < len(days) else None
        if start is not None and (nxt is None or z not in nxt[1]
                                  or nxt[2] != sname):
            runs.setdefault((start, day, sname), []).append(z)
            start = None

# The source's last rows carry no data after the last summer's end: cut
# the table there so that the C side knows where its knowledge stops.
summers = sorted((s, e) for (s, e, n), zs in runs.items()
                 if n == "Vacances d'été" and len(zs) == 3)
last_day = days[-1][0]
if summers and summers[-1][1] == last_day:
    # the last summer runs to the end of the file: its end is unknown
    summers.pop()
    runs = {k: v for k, v in runs.items() if k[1] != last_day}
cover_end = summers[-1][1] if summers else last_day

with open(os.path.join(here, "vacances.csv"), "w", encoding="utf-8") as f:
    f.write("# debut;fin;zones;nom (source: AntoineAugusti/"
            "vacances-scolaires-france, MIT; see README.md)\n")
    f.write("# couverture;%s;%s\n" % (days[0][0], cover_end))
    for (s, e, n), zs in sorted(runs.items()):
        if s > cover_end:
            continue
        f.write("%s;%s;%s;%s\n" % (s, e, "".join(zs), n))

# School years from consecutive summers.
years = []
for (s0, e0), (s1, e1) in zip(summers, summers[1:]):
    rentree = e0 + dt.timedelta(days=1)
    years.append((rentree.year, rentree, s1))
with open(os.path.join(here, "annees.csv"), "w", encoding="utf-8") as f:
    f.write("# annee;rentree;fin (2016 = 2016-2017; derived from the "
            "summers of vacances.csv)\n")
    for y, r, e in years:
        f.write("%d;%s;%s\n" % (y, r, e))

# Cross-check with the source's own list of school years when present.
ref = os.path.join(src, "annees-scolaires.csv")
if os.path.exists(ref):
    with open(ref, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            y = int(row["annee_scolaire"][:4])
            mine = [t for t in years if t[0] == y]
            if not mine:
                continue
            r, e = mine[0][1].isoformat(), mine[0][2].isoformat()
            if (r, e) != (row["date_debut"], row["date_fin"]):
                print("note: %d: %s..%s here, %s..%s in annees-scolaires.csv"
                      % (y, r, e, row["date_debut"], row["date_fin"]))
print("%d periods, %d school years, coverage %s..%s"
      % (len(runs), len(years), days[0][0], cover_end))
