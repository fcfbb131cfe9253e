#!/usr/bin/python3
"""prepare.py - the schedule the scale bench books into, made through the
API of a running node: one place, 4 counters, a public 5-minute motif open
every day 08:00-20:00 for 90 days. Prints "MOTIF PLACE" and writes every
free (place, start) of the coming days to SLOTS_FILE ("place start" per
line), then the motif's slot-search URL path to stdout's second line.

    prepare.py PORT TOKEN SLOTS_FILE
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "rdv"))
import rdvtest  # noqa: E402


class Api:
    def __init__(self, port, token):
        self.port = port
        self.token = token


def main():
    port, token, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    g = Api(port, token)
    place = rdvtest.api(g, "POST", "/api/v1/rdv/places",
                        {"name": "Salle du banc", "address": "1 rue du Banc",
                         "zip": "99001",
                         "city": "Saint-Exemple-sur-Loire"})["id"]
    counters = [rdvtest.api(g, "POST", "/api/v1/rdv/counters",
                            {"place_id": place,
                             "name": "Guichet %d" % k})["id"]
                for k in range(1, 5)]
    motif = rdvtest.api(g, "POST", "/api/v1/rdv/motifs",
                        {"code": "banc", "name": "Démarche du banc",
                         "duration_min": 5, "max_people": 1,
                         "min_delay_h": 0, "max_delay_d": 90})["id"]
    for c in counters:
        for wd in range(1, 8):
            rdvtest.api(g, "POST", "/api/v1/rdv/ranges",
                        {"counter_id": c, "weekday": wd, "start": "08:00",
                         "end": "20:00", "motifs": [motif]})
    seen, frm = [], None
    while len(seen) < 20000:
        got = rdvtest.slots(g, motif, place, frm=frm, limit=1000)
        new = [s["start"] for s in got if not seen or s["start"] > seen[-1]]
        if not new:
            break
        seen += new
        frm = new[-1][:10]
    with open(path, "w") as f:
        for s in seen:
            f.write("%d %s\n" % (place, s))
    print("%d %d" % (motif, place))


if __name__ == "__main__":
    main()
