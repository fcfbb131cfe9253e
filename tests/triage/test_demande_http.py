#!/usr/bin/python3
"""test_demande_http.py - the residents' form /demande over HTTP (issue 5).

A real `guichet serve` on a fresh demo instance (server.max_upload 12M,
triage.rate_ip 40, a tile server for the map), driven as a browser without JavaScript would:
multipart/form-data posts with the form token and its cookie.

  - a request with a JPEG carrying EXIF GPS, a camera make and an
    orientation: 303 to its status page, which shows the number; the
    stored photo (database) and the served one have no EXIF, no GPS, no
    make, and are turned upright; a PNG with tEXt / eXIf loses them;
  - bad uploads, each answered 422 with the form refilled and a French
    message under « Photos », nothing stored: not an image, a truncated
    JPEG, a polyglot (a page after the JPEG), six photos, one photo over
    8 MB; a body over server.max_upload gets a 413 problem+json; a
    malformed multipart body a French 400 page;
  - per-field errors (missing text, bad e-mail, « prévenir » without
    e-mail, contact without consent) listed in a summary, each field
    aria-invalid and described by its message;
  - no form token, a wrong one, or a cross-site post: 403, nothing stored;
  - the status page: a message with a photo is added; an unknown or
    malformed token and an unknown photo get the same 404;
  - the per-IP limit (triage.rate_ip) ends in a 429 with Retry-After,
    and the server still answers /healthz.

usage: test_demande_http.py path/to/guichet   prints "N passed, N failed"
"""
import http.client
import io
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

from PIL import Image

PASSED = 0
FAILED = 0


def check(ok, name, info=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print("ok   " + name)
    else:
        FAILED += 1
        print("FAIL " + name + (" : " + str(info)[:400] if info else ""))
    return ok


# ----------------------------------------------------------------------
# Images

MAKE = "Marque-Secrete"
TILES = "https://tuiles.exemple.fr/{z}/{x}/{y}.png"


def jpeg_with_gps(orientation=6, size=(320, 240)):
    im = Image.new("RGB", size, (200, 80, 40))
    for x in range(0, size[0], 3):
        for y in range(size[1]):
            im.putpixel((x, y), (x % 256, y % 256, 120))
    exif = Image.Exif()
    exif[0x010F] = MAKE
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (47.0, 12.0, 34.56), 3: "E", 4: (1.0, 2.0, 3.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes(), quality=90,
            comment=b"Photo de Jeanne Martin")
    return out.getvalue()


def png_with_text():
    from PIL import PngImagePlugin
    im = Image.new("RGBA", (60, 40), (10, 200, 30, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jeanne Martin")
    exif = Image.Exif()
    exif[0x010F] = MAKE
    out = io.BytesIO()
    im.save(out, "PNG", pnginfo=info, exif=exif.tobytes())
    return out.getvalue()


# ----------------------------------------------------------------------
# HTTP

class Client:
    """Keeps the cookie like a browser; multipart bodies by hand."""

    def __init__(self, port):
        self.port = port
        self.cookie = ""

    def req(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        sc = r.getheader("Set-Cookie")
        if sc and sc.startswith("guichet_demande="):
            self.cookie = sc.split(";")[0]
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def token(self, path="/demande"):
        st, _, body = self.req("GET", path)
        m = re.search(rb'name="jeton" value="([^"]+)"', body)
        return m.group(1).decode() if m else ""

    def post_multipart(self, path, fields, files=(), headers=None):
        b = "----guichet" + uuid.uuid4().hex
        out = io.BytesIO()
        for k, v in fields:
            out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\""
                       "\r\n\r\n" % (b, k)).encode())
            out.write(v.encode() + b"\r\n")
        for k, name, ctype, data in files:
            out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                       "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n"
                       % (b, k, name, ctype)).encode())
            out.write(data + b"\r\n")
        out.write(("--%s--\r\n" % b).encode())
        h = {"Content-Type": "multipart/form-data; boundary=" + b}
        h.update(headers or {})
        return self.req("POST", path, out.getvalue(), h)


def oversize(port, cookie, size, accept="*/*"):
    """POST a multipart body of `size` bytes the way a browser does, and
    read the answer even if the server stops reading early (413)."""
    b = "----guichetgros"
    head = ("POST /demande HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Content-Type: multipart/form-data; boundary=%s\r\n"
            "Content-Length: %d\r\nCookie: %s\r\nAccept: %s\r\n"
            "Connection: close\r\n\r\n"
            % (port, b, size, cookie, accept)).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(head)
    chunk = b"\xff" * 65536
    sent = 0
    try:
        while sent < size:
            s.sendall(chunk[: min(len(chunk), size - sent)])
            sent += min(len(chunk), size - sent)
    except OSError:
        pass  # the server answered and closed: read what it said
    raw = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            raw += d
    except OSError:
        pass
    s.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    st = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    h = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        h[k.strip().lower()] = v.strip()
    return st, h, body


DB_PATHS = {}


def db_path(db):
    return DB_PATHS[id(db)]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def html_text(body):
    return body.decode("utf-8", "replace")


def field_error(page, fid):
    m = re.search(r'id="%s-error">([^<]*)<' % re.escape(fid), page)
    return m.group(1) if m else ""


def main():
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="guichet-demande-")
    data = os.path.join(tmp, "data")
    server = None
    try:
        r = subprocess.run([binary, "--data", data, "init", "--demo"],
                           capture_output=True, text=True)
        if not check(r.returncode == 0, "init --demo", r.stderr[-300:]):
            return
        port = free_port()
        log = open(os.path.join(tmp, "server.log"), "w")
        server = subprocess.Popen(
            [binary, "--data", data, "--set", "server.max_upload=12M",
             "--set", "triage.map_tiles=" + TILES,
             "--set", "triage.rate_ip=40", "--set", "log.access=false",
             "serve", "--listen", "127.0.0.1:%d" % port],
            stdout=log, stderr=subprocess.STDOUT)
        until = time.time() + 20
        while time.time() < until:
            try:
                if Client(port).req("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        db = sqlite3.connect(os.path.join(data, "guichet.db"))
        DB_PATHS[id(db)] = os.path.join(data, "guichet.db")

        def count():
            return db.execute("SELECT count(*) FROM tri_requests").fetchone()[0]

        try:
            run(port, db, count)
        except Exception as e:  # a crash is a failure, never a pass
            import traceback
            traceback.print_exc()
            check(False, "le test est allé jusqu’au bout", repr(e))
    finally:
        if server:
            server.terminate()
            server.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)
        print("%d passed, %d failed" % (PASSED, FAILED))
        sys.exit(1 if FAILED else 0)


def run(port, db, count):
    c = Client(port)
    st, h, body = c.req("GET", "/demande")
    page = html_text(body)
    check(st == 200, "GET /demande 200", st)
    check('lang="fr"' in page and '<label for="texte">' in page and
          '<label for="photos">' in page, "le formulaire a ses libellés")
    check("guichet_demande=" in h.get("set-cookie", "") and
          "SameSite=Strict" in h.get("set-cookie", "") and
          "HttpOnly" in h.get("set-cookie", ""),
          "cookie du formulaire SameSite=Strict, HttpOnly",
          h.get("set-cookie"))
    check("geolocation=(self)" in h.get("permissions-policy", ""),
          "la page permet la géolocalisation (et elle seule)",
          h.get("permissions-policy"))
    check('data-tiles="%s"' % TILES in page and
          re.search(r'id="carte" class="dm-map" hidden', page),
          "serveur de tuiles configuré : donné au script, carte cachée "
          "sans JavaScript")
    csp = h.get("content-security-policy", "")
    check("img-src 'self' data: https://tuiles.exemple.fr;" in csp and
          "script-src 'self';" in csp and "frame-ancestors 'none'" in csp,
          "la CSP du formulaire admet les tuiles de ce serveur seul", csp)
    check("Voirie" in page and '<option value="voirie"' in page,
          "les services actifs sont proposés")
    jeton = re.search(r'name="jeton" value="([^"]+)"', page).group(1)
    base = [("jeton", jeton), ("c", "99001")]
    good = base + [("texte", "Un nid-de-poule énorme devant le 12 rue des "
                    "Lilas, dangereux pour les vélos."),
                   ("adresse", "12 rue des Lilas"),
                   ("lat", "47.2"), ("lon", "1.5"),
                   ("nom", "Jeanne Martin"),
                   ("courriel", "jeanne.martin@example.fr"),
                   ("prevenir", "1"), ("accord", "1")]
    jpg = jpeg_with_gps()
    check(b"Exif" in jpg and MAKE.encode() in jpg, "la photo de test a "
          "bien EXIF et GPS")

    # ----- a good request with photos -----
    n0 = count()
    st, h, body = c.post_multipart(
        "/demande", good,
        [("photos", "trou.jpg", "image/jpeg", jpg),
         ("photos", "plan.png", "image/png", png_with_text())])
    loc = h.get("location", "")
    check(st == 303 and re.match(r"^/demande/suivi/[A-Za-z0-9_-]{43}\?fait="
                                 r"depose$", loc),
          "dépôt : 303 vers la page de suivi", (st, loc, body[:300]))
    check(count() == n0 + 1, "une demande enregistrée")
    token = loc.split("/")[3].split("?")[0] if loc else ""
    st, h, body = c.req("GET", loc or "/x")
    page = html_text(body)
    row = db.execute("SELECT id, number, contact_email, lat, lon, address "
                     "FROM tri_requests ORDER BY id DESC LIMIT 1").fetchone()
    check(st == 200 and row and row[1] in page and
          "est enregistrée sous le numéro" in page,
          "confirmation : le numéro est affiché", (st, row))
    check(row and row[2] == "jeanne.martin@example.fr" and
          abs(row[3] - 47.2) < 1e-9 and abs(row[4] - 1.5) < 1e-9 and
          row[5] == "12 rue des Lilas", "coordonnées et position gardées",
          row)
    check("/demande/suivi/" + token in page, "le lien de suivi est donné")
    atts = db.execute("SELECT id, filename, ctype, data FROM tri_attachments "
                      "WHERE request_id = ? ORDER BY id", (row[0],)).fetchall()
    check(len(atts) == 2, "deux pièces jointes", len(atts))
    for aid, fname, ctype, blob in atts:
        check(b"Exif" not in blob and MAKE.encode() not in blob and
              b"Jeanne" not in blob and b"GPS" not in blob and
              b"tEXt" not in blob and b"eXIf" not in blob,
              "pièce %s sans métadonnées (base)" % fname)
        im = Image.open(io.BytesIO(blob))
        check(not dict(im.getexif()), "pièce %s : EXIF vide" % fname)
        if ctype == "image/jpeg":
            check(im.size == (240, 320), "photo redressée (orientation 6)",
                  im.size)
            # Same picture, turned: compare with PIL's own rotation.
            ref = Image.open(io.BytesIO(jpg)).transpose(Image.ROTATE_270)
            diff = max(abs(a - b) for p, q in zip(ref.getdata(), im.getdata())
                       for a, b in zip(p, q))
            check(diff <= 12, "mêmes pixels, tournés", diff)
        st, h, served = c.req("GET", "/demande/suivi/%s/photos/%d"
                              % (token, aid))
        check(st == 200 and served == blob and
              h.get("content-type") == ctype,
              "la photo servie est la photo nettoyée", (st, len(served)))
    check(b"<img src=\"/demande/suivi/" in body, "miniatures sur la page")

    # ----- bad uploads: 422, form refilled, nothing stored -----
    def bad(name, files, expect, fields=None, fid="photos"):
        n = count()
        st, h, body = c.post_multipart("/demande", fields or good, files)
        page = html_text(body)
        msg = field_error(page, fid)
        check(st == 422 and expect in msg and count() == n and
              "jeanne.martin@example.fr" in page and
              'aria-invalid="true"' in page,
              name, (st, msg or page[:300]))

    bad("pas une image : refusé",
        [("photos", "facture.jpg", "image/jpeg", b"%PDF-1.4 une facture")],
        "n’est pas une photo au format JPEG ou PNG")
    bad("JPEG tronqué : refusé",
        [("photos", "coupee.jpg", "image/jpeg", jpg[: len(jpg) // 2])],
        "incomplète ou abîmée")
    bad("polyglotte (page après l’image) : refusée",
        [("photos", "poly.jpg", "image/jpeg",
          jpg + b"<html><script>alert(1)</script></html>")],
        "autres données après l’image")
    bad("six photos : refusé",
        [("photos", "p%d.jpg" % i, "image/jpeg", jpg) for i in range(6)],
        "Vous avez joint 6 photos : 5 au plus.")
    bad("photo de plus de 8 Mo : refusée",
        [("photos", "lourde.jpg", "image/jpeg", jpg + b"\0" * (9 << 20))],
        "8 Mo au plus par photo")
    n = count()
    st, h, body = oversize(port, c.cookie, 13 << 20)
    check(st == 413 and h.get("content-type", "").startswith(
        "application/problem+json") and "taille autorisée" in html_text(body)
        and count() == n, "corps au-delà de server.max_upload : 413",
        (st, body[:200]))
    st, h, body = oversize(port, c.cookie, 13 << 20,
                           "text/html,application/xhtml+xml")
    check(st == 413 and h.get("content-type", "").startswith("text/html")
          and "Envoi trop volumineux" in html_text(body) and
          'lang="fr"' in html_text(body) and count() == n,
          "trop volumineux depuis un navigateur : page 413 en français",
          (st, body[:200]))
    st, h, body = c.req("POST", "/demande", b"--x\r\nnimporte quoi",
                        {"Content-Type": "multipart/form-data"})
    check(st == 400 and "Formulaire illisible" in html_text(body),
          "multipart illisible : page 400 en français", (st, body[:200]))

    # ----- field errors -----
    n = count()
    st, h, body = c.post_multipart(
        "/demande", base + [("texte", "   "), ("courriel", "pas-une-adresse"),
                            ("nom", "Jeanne"), ("prevenir", "1")])
    page = html_text(body)
    check(st == 422 and count() == n, "erreurs de saisie : 422", st)
    check("Décrivez votre demande" in field_error(page, "texte") and
          "Adresse électronique invalide" in field_error(page, "courriel") and
          "Cochez la case" in field_error(page, "accord"),
          "un message par champ",
          [field_error(page, f) for f in ("texte", "courriel", "accord")])
    check("Le formulaire contient 3 erreurs" in page and
          'href="#texte"' in page and 'href="#courriel"' in page and
          re.search(r'id="erreurs"[^>]*autofocus', page),
          "résumé des erreurs, avec liens, qui prend le focus")
    check(re.search(r'id="texte"[^>]*aria-describedby="texte-hint '
                    r'texte-error"[^>]*aria-invalid="true"', page),
          "champ en erreur : aria-invalid et aria-describedby")
    st, h, body = c.post_multipart(
        "/demande", base + [("texte", "Lampadaire éteint"),
                            ("prevenir", "1")])
    check(st == 422 and "pour être prévenu" in field_error(html_text(body),
                                                            "courriel"),
          "prévenir sans adresse : erreur sur le courriel")

    # ----- cross-site and missing token -----
    n = count()
    other = Client(port)  # no cookie
    st, h, body = other.post_multipart("/demande", good)
    check(st == 403 and "a expiré" in html_text(body) and count() == n and
          "Un nid-de-poule" in html_text(body),
          "sans cookie de formulaire : 403, saisie gardée", st)
    st, h, body = c.post_multipart("/demande",
                                   [("jeton", "faux" * 10)] + good[1:])
    check(st == 403 and count() == n, "jeton faux : 403", st)
    st, h, body = c.post_multipart("/demande", good,
                                   headers={"Sec-Fetch-Site": "cross-site"})
    check(st == 403 and count() == n, "envoi depuis un autre site : 403", st)

    # ----- the status page: what the mairie did, not its notes -----
    now = int(time.time())
    w = sqlite3.connect(db_path(db))
    w.execute("PRAGMA busy_timeout = 5000")
    w.executemany(
        "INSERT INTO tri_decisions (insee, request_id, kind, value, previous,"
        " source, actor, created_at) VALUES ('99001', ?, ?, ?, ?, 'agent',"
        " 'agent.test', ?)",
        [(row[0], "service", "espaces-verts", "voirie", now + 1),
         (row[0], "statut", "en_cours", "nouvelle", now + 2)])
    w.executemany(
        "INSERT INTO tri_messages (insee, request_id, kind, author, body,"
        " body_redacted, created_at) VALUES ('99001', ?, ?, 'agent.test', ?,"
        " ?, ?)",
        [(row[0], "note", "Note interne : voisin procédurier", "x", now + 3),
         (row[0], "sortant", "Une équipe passe jeudi matin.", "x", now + 4)])
    w.commit()
    w.close()
    st, h, body = c.req("GET", "/demande/suivi/" + token)
    page = html_text(body)
    check("Confiée au service Espaces verts" in page and
          "En cours de traitement" in page and
          "Réponse de la mairie" in page and
          "Une équipe passe jeudi matin." in page,
          "historique : service, état et réponse de la mairie")
    check("Note interne" not in page and "procédurier" not in page and
          "agent.test" not in page,
          "ni les notes internes ni le nom des agents")
    jt = c.token("/demande/suivi/" + token)
    st, h, body = c.post_multipart(
        "/demande/suivi/" + token,
        [("jeton", jt), ("texte", "Le trou s'agrandit.")],
        [("photos", "encore.jpg", "image/jpeg", jpg)])
    check(st == 303 and h.get("location", "").endswith("?fait=message"),
          "message ajouté : 303", (st, body[:300]))
    st, h, body = c.req("GET", "/demande/suivi/" + token)
    page = html_text(body)
    check("tuiles.exemple.fr" not in h.get("content-security-policy", "") and
          "geolocation=()" in h.get("permissions-policy", ""),
          "les autres pages gardent la politique par défaut")
    check("Votre message" in page and "Le trou s&#39;agrandit." in page and
          "1 photo jointe" in page, "le message apparaît dans l’historique")
    blob = db.execute("SELECT data FROM tri_attachments WHERE request_id = ? "
                      "ORDER BY id DESC LIMIT 1", (row[0],)).fetchone()[0]
    check(b"Exif" not in blob and MAKE.encode() not in blob,
          "photo du message sans métadonnées")
    st, h, body = c.post_multipart("/demande/suivi/" + token,
                                   [("jeton", jt), ("texte", "")])
    check(st == 422 and "Écrivez un message" in field_error(html_text(body),
                                                            "message"),
          "message vide : 422 en français")
    st, h, body = c.post_multipart(
        "/demande/suivi/" + token, [("jeton", jt), ("texte", "x")],
        [("photos", "x.png", "image/png", b"\x89PNG\r\n\x1a\nabc")])
    check(st == 422 and "incomplète ou abîmée" in field_error(
        html_text(body), "photos-message"), "photo abîmée sur le suivi : 422")
    nf = []
    for path in ("/demande/suivi/" + "A" * 43, "/demande/suivi/court",
                 "/demande/suivi/%s/photos/999999" % ("B" * 43)):
        st, h, body = c.req("GET", path)
        nf.append((st, "Demande introuvable" in html_text(body)))
    check(all(x == (404, True) for x in nf), "jeton inconnu : même 404", nf)
    st, h, body = c.req("GET", "/demande/suivi/%s/photos/999999" % token)
    check(st == 404, "photo inconnue : 404", st)

    # ----- rate limit, then the server still serves -----
    hit = None
    for i in range(45):
        st, h, body = c.post_multipart("/demande",
                                       base + [("texte", "")])
        if st == 429:
            hit = (i, h.get("retry-after"))
            break
    check(hit is not None and hit[1], "limite par adresse IP : 429 avec "
          "Retry-After", hit)
    st, h, body = c.req("GET", "/healthz")
    check(st == 200, "le serveur répond toujours")


if __name__ == "__main__":
    main()
