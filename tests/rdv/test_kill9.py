#!/usr/bin/python3
"""test_kill9.py - a crash loses nothing promised (issue 4, guarantees).

A real `guichet serve` on a file database, a one-counter schedule made
through the API, then 16 client processes book distinct slots as fast as
they can (each request with its own name and e-mail); once 150 bookings
have been answered 201 the server gets SIGKILL in the middle of the
burst. It restarts on the same database, and:
  - every booking answered 201 is there (its link works, same slot);
  - no slot holds two bookings, every booking holds exactly its units;
  - no request was stored twice (names are unique per request);
  - every queued confirmation e-mail (notify_outbox) refers to a stored
    booking, to its address, and every stored booking has exactly one:
    no e-mail promises a booking that is not stored;
  - the restarted server books again.

usage: test_kill9.py path/to/guichet      prints "N passed, N failed"
"""
import datetime
import http.client
import json
import multiprocessing
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rdvtest  # noqa: E402

CLIENTS = 16
KILL_AFTER = 150


def client(port, motif, place, starts, first, won, out):
    """Book each start in turn until the server is gone."""
    got = []
    conn = None
    for k, start in enumerate(starts):
        i = first + k
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port,
                                                  timeout=30)
            conn.request("POST", "/api/v1/rdv/bookings",
                         body=json.dumps(rdvtest.booking_body(
                             motif, place, start, i)).encode(),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            j = json.loads(r.read().decode())
            if r.status == 201:
                got.append((i, start, j["token"]))
                with won.get_lock():
                    won.value += 1
        except Exception:
            break  # the server is gone: stop
    out.put(got)


def main():
    f = rdvtest.Failures()
    g = rdvtest.Guichet(sys.argv[1] if len(sys.argv) > 1 else
                        "build/guichet", sets=["rdv.rate_book_ip=0"])
    try:
        g.init()
        g.start()
        place, counter, motif = rdvtest.setup_schedule(g, duration=5)
        frm = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
        free = rdvtest.slots(g, motif, place, frm, limit=1000)
        f.check(len(free) >= 800, "assez de créneaux", str(len(free)))
        ctx = multiprocessing.get_context("fork")
        won = ctx.Value("i", 0)
        q = ctx.Queue()
        per = len(free) // CLIENTS
        procs = [ctx.Process(target=client,
                             args=(g.port, motif, place,
                                   [s["start"] for s in
                                    free[c::CLIENTS][:per]],
                                   c * 10000, won, q))
                 for c in range(CLIENTS)]
        for p in procs:
            p.start()
        import time
        deadline = time.time() + 120
        while won.value < KILL_AFTER and time.time() < deadline:
            time.sleep(0.002)
        g.kill9()
        confirmed = []
        for _ in procs:
            confirmed += q.get(timeout=120)
        for p in procs:
            p.join()
        f.check(len(confirmed) >= KILL_AFTER,
                "rafale interrompue après %d réservations" % KILL_AFTER,
                str(len(confirmed)))
        f.check(len(confirmed) < CLIENTS * per,
                "le serveur est tué au milieu de la rafale",
                str(len(confirmed)))

        g.start()
        # Every 201 is stored, at its slot, reachable by its link.
        missing = 0
        for i, start, tok in confirmed:
            st, _, j = rdvtest.request(g.port, "GET",
                                       "/api/v1/rdv/manage/" + tok)
            if st != 200 or j.get("start") != start or \
                    j.get("name") != "Usager %d" % i:
                missing += 1
        f.check(missing == 0, "chaque 201 est en base après redémarrage",
                "%d manquent sur %d" % (missing, len(confirmed)))

        rows = g.sql("SELECT id, name, email, counter_id, day, start_min,"
                     " end_min FROM rdv_bookings WHERE insee = ? AND"
                     " motif_id = ? AND status = 1", (rdvtest.INSEE, motif))
        f.check(len(rows) >= len(confirmed),
                "au moins autant de réservations que de 201",
                "%d < %d" % (len(rows), len(confirmed)))
        print("rafale : %d réponses 201 avant le kill -9, %d réservations en"
              " base après redémarrage" % (len(confirmed), len(rows)))
        names = {}
        for r in rows:
            names[r[1]] = names.get(r[1], 0) + 1
        twice = [n for n, k in names.items() if k > 1]
        f.check(not twice, "aucune demande enregistrée deux fois", str(twice))
        over = g.sql("SELECT COUNT(*) FROM rdv_bookings a JOIN rdv_bookings b"
                     " ON a.counter_id = b.counter_id AND a.day = b.day AND"
                     " a.lane = b.lane AND a.id < b.id AND"
                     " a.start_min < b.end_min AND b.start_min < a.end_min"
                     " WHERE a.counter_id = ? AND"
                     " a.status IN (0, 1, 3, 4, 5) AND"
                     " b.status IN (0, 1, 3, 4, 5)", (counter,))[0][0]
        f.check(over == 0, "aucun créneau tenu par deux réservations",
                str(over))
        bad_units = g.sql(
            "SELECT b.id FROM rdv_bookings b LEFT JOIN rdv_units u"
            " ON u.booking_id = b.id WHERE b.status = 1 AND b.motif_id = ?"
            " GROUP BY b.id HAVING COUNT(u.booking_id) <>"
            " (b.end_min - b.start_min + 4) / 5", (motif,))
        f.check(not bad_units, "chaque réservation tient ses unités",
                str(bad_units[:5]))
        orphans = g.sql("SELECT COUNT(*) FROM rdv_units u LEFT JOIN"
                        " rdv_bookings b ON b.id = u.booking_id"
                        " WHERE u.counter_id = ? AND"
                        " (b.id IS NULL OR b.status = 2)", (counter,))[0][0]
        f.check(orphans == 0, "aucune unité sans réservation", str(orphans))

        # Nothing promised that is not stored, nothing stored unannounced.
        by_id = {r[0]: r for r in rows}
        mails = g.sql("SELECT to_addr, attach_data FROM notify_outbox"
                      " WHERE kind = 'rdv.confirm' AND"
                      " to_addr LIKE 'usager-%@exemple.fr'")
        orphan_mails = 0
        per_booking = {}
        for to, ics in mails:
            m = re.search(r"UID:rdv-(\d+)@", ics or "")
            bid = int(m.group(1)) if m else None
            b = by_id.get(bid)
            if b is None or b[2] != to:
                orphan_mails += 1
            else:
                per_booking[bid] = per_booking.get(bid, 0) + 1
        f.check(len(mails) > 0, "des confirmations en file", str(len(mails)))
        f.check(orphan_mails == 0,
                "chaque courriel annonce une réservation en base",
                "%d sur %d" % (orphan_mails, len(mails)))
        unannounced = [b for b in by_id if per_booking.get(b) != 1]
        f.check(not unannounced,
                "chaque réservation a exactement une confirmation",
                str(unannounced[:5]))

        # The restarted server books again.
        again = rdvtest.slots(g, motif, place, frm, limit=1)
        st, _, j = rdvtest.request(
            g.port, "POST", "/api/v1/rdv/bookings",
            rdvtest.booking_body(motif, place, again[0]["start"], 999999))
        f.check(st == 201, "réserve encore après redémarrage",
                "%d %s" % (st, str(j)[:200]))
    finally:
        g.cleanup()
    f.finish()


if __name__ == "__main__":
    main()
