#!/usr/bin/python3
"""test_race.py - never two bookings on one slot (issue 4, guarantees).

A real `guichet serve` on a file database; a schedule with ONE counter
made through the API; then, for one slot:
  1. 32 separate processes, each with its connection already open, are
     released together by a barrier and POST the same booking slot;
  2. the same with 32 threads of one process on another slot;
  3. 16 processes racing to MOVE 16 bookings onto one free slot.
Each time: exactly one 2xx, every other answer a 409 problem+json in
French whose `creneaux` lists free slots after the one asked for; and
the database (sqlite3, read after the race) holds one booking and one
set of units for that slot.

usage: test_race.py path/to/guichet      prints "N passed, N failed"
"""
import datetime
import http.client
import json
import multiprocessing
import sys
import threading

sys.path.insert(0, __import__("os").path.dirname(__file__))
import rdvtest  # noqa: E402

RACERS = 32


def race_one(port, method, path, body, barrier, out):
    """Connect, wait for the others, send, report (status, ctype, json)."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        data = json.dumps(body).encode()
        barrier.wait(timeout=60)
        conn.request(method, path, body=data,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        raw = r.read().decode("utf-8", "replace")
        try:
            j = json.loads(raw)
        except ValueError:
            j = raw
        out.put((r.status, r.getheader("Content-Type", ""), j))
        conn.close()
    except Exception as e:  # reported as a failed racer
        out.put((0, "", repr(e)))


def check_race(f, name, results, slot_start):
    """Exactly one winner; every loser a French 409 with later slots."""
    wins = [r for r in results if 200 <= r[0] < 300]
    losers = [r for r in results if r[0] == 409]
    other = [r for r in results if r not in wins and r not in losers]
    f.check(len(results) > 1, name + " : des réponses", str(len(results)))
    f.check(len(wins) == 1, name + " : exactement un gagnant",
            "%d gagnants" % len(wins))
    f.check(not other, name + " : les autres ont 409",
            str([(r[0], str(r[2])[:200]) for r in other][:3]))
    for st, ctype, j in losers:
        ok = (ctype.startswith("application/problem+json") and
              isinstance(j, dict) and j.get("status") == 409 and
              "créneau" in j.get("detail", "") and
              isinstance(j.get("creneaux"), list) and len(j["creneaux"]) > 0
              and all(c["start"] > slot_start and c["start"] != slot_start
                      for c in j["creneaux"])
              and all("counter" not in c for c in j["creneaux"]))
        if not f.check(ok, name + " : 409 en français avec « creneaux »",
                       str(j)[:300]):
            break
    return wins


def db_slot(g, counter, start_iso):
    """Bookings and booking ids in units for the slot's day and time."""
    day = datetime.date.fromisoformat(start_iso[:10])
    dayno = (day - datetime.date(1970, 1, 1)).days
    minute = int(start_iso[11:13]) * 60 + int(start_iso[14:16])
    booked = g.sql("SELECT id FROM rdv_bookings WHERE counter_id = ? AND"
                   " day = ? AND start_min = ? AND status = 1",
                   (counter, dayno, minute))
    units = g.sql("SELECT DISTINCT booking_id FROM rdv_units WHERE"
                  " counter_id = ? AND day = ? AND unit = ?",
                  (counter, dayno, minute // 5))
    return [r[0] for r in booked], [r[0] for r in units]


def main():
    f = rdvtest.Failures()
    g = rdvtest.Guichet(sys.argv[1] if len(sys.argv) > 1 else
                        "build/guichet",
                        sets=["rdv.rate_book_ip=0", "rdv.rate_manage_ip=0"])
    try:
        g.init()
        g.start()
        place, counter, motif = rdvtest.setup_schedule(g)
        frm = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
        free = rdvtest.slots(g, motif, place, frm)
        f.check(len(free) > 40, "des créneaux libres", str(len(free)))
        path = "/api/v1/rdv/bookings"

        # 1. separate processes
        ctx = multiprocessing.get_context("fork")
        target = free[0]["start"]
        barrier = ctx.Barrier(RACERS)
        q = ctx.Queue()
        procs = [ctx.Process(target=race_one,
                             args=(g.port, "POST", path,
                                   rdvtest.booking_body(motif, place, target,
                                                        i),
                                   barrier, q))
                 for i in range(RACERS)]
        for p in procs:
            p.start()
        results = [q.get(timeout=120) for _ in procs]
        for p in procs:
            p.join()
        wins = check_race(f, "processus", results, target)
        booked, units = db_slot(g, counter, target)
        f.check(len(booked) == 1, "processus : une réservation en base",
                str(booked))
        f.check(units == booked, "processus : unités de cette réservation",
                "%s %s" % (units, booked))
        if wins:
            tok = wins[0][2]["token"]
            st, _, j = rdvtest.request(g.port, "GET",
                                       "/api/v1/rdv/manage/" + tok)
            f.check(st == 200 and j.get("start") == target,
                    "processus : le gagnant voit son rendez-vous", str(j)[:200])

        # 2. threads of one process, on another slot
        target = free[5]["start"]
        barrier = threading.Barrier(RACERS)
        import queue
        tq = queue.Queue()
        threads = [threading.Thread(target=race_one,
                                    args=(g.port, "POST", path,
                                          rdvtest.booking_body(
                                              motif, place, target, 100 + i),
                                          barrier, tq))
                   for i in range(RACERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        results = [tq.get() for _ in threads]
        check_race(f, "fils", results, target)
        booked, units = db_slot(g, counter, target)
        f.check(len(booked) == 1, "fils : une réservation en base",
                str(booked))
        f.check(units == booked, "fils : unités de cette réservation",
                "%s %s" % (units, booked))

        # 3. sixteen residents move their booking onto the same free slot
        tokens = []
        for i in range(16):
            st, _, j = rdvtest.request(
                g.port, "POST", path,
                rdvtest.booking_body(motif, place, free[10 + i]["start"],
                                     200 + i))
            if f.check(st == 201, "réservation avant déplacement", str(j)):
                tokens.append(j["token"])
        target = free[30]["start"]
        barrier = ctx.Barrier(len(tokens))
        q = ctx.Queue()
        procs = [ctx.Process(target=race_one,
                             args=(g.port, "POST",
                                   "/api/v1/rdv/manage/%s/move" % t,
                                   {"place": place, "start": target[:16]},
                                   barrier, q))
                 for t in tokens]
        for p in procs:
            p.start()
        results = [q.get(timeout=120) for _ in procs]
        for p in procs:
            p.join()
        check_race(f, "déplacements", results, target)
        booked, units = db_slot(g, counter, target)
        f.check(len(booked) == 1, "déplacements : une réservation en base",
                str(booked))
        f.check(units == booked, "déplacements : unités de cette réservation",
                "%s %s" % (units, booked))

        # Nowhere on the test's counter do two live bookings overlap. (The
        # demo's synthetic past history, on other counters, is not ours.)
        over = g.sql("SELECT COUNT(*) FROM rdv_bookings a JOIN rdv_bookings b"
                     " ON a.counter_id = b.counter_id AND a.day = b.day AND"
                     " a.lane = b.lane AND a.id < b.id AND"
                     " a.start_min < b.end_min AND b.start_min < a.end_min"
                     " WHERE a.counter_id = ? AND"
                     " a.status IN (0, 1, 3, 4, 5) AND"
                     " b.status IN (0, 1, 3, 4, 5)", (counter,))[0][0]
        f.check(over == 0, "aucun chevauchement en base", str(over))
        st, _, _ = rdvtest.request(g.port, "GET", "/healthz")
        f.check(st == 200, "le serveur sert encore")
    finally:
        g.cleanup()
    f.finish()


if __name__ == "__main__":
    main()
