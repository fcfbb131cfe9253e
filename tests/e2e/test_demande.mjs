// test_demande.mjs - the residents' request pages in a real browser
// (Debian chromium driven by playwright-core), on a phone-sized screen:
// the portal leads to /demande; an empty form gets the error summary
// (focused, fields aria-invalid); « Utiliser ma position » fills the
// point (geolocation granted to the page); a photo carrying EXIF GPS is
// previewed with its size, a text file is refused as chosen; the request
// is filed and the confirmation shows its number and link; the stored
// photo (database) and the one served on the status page have no EXIF,
// no GPS, no camera make and are turned upright; a message with a photo
// is added on the status page; the same form posted WITHOUT JavaScript
// (scripts replaced by empty files) gets the server's errors with the
// summary focused, then files the request; unknown links get one 404.
// axe-core (WCAG 2.1 A/AA) runs on every step and fails on serious or
// critical violations; no page scrolls sideways at 320 px; no request
// may leave 127.0.0.1 (lib.mjs).
//
// Started by run.sh: GUICHET_URL (a fresh demo instance), CHROMIUM,
// E2E_PROFILE_DIR (its parent holds the instance's data/, read with the
// sqlite3 command). The test photo is made by /usr/bin/python3 with
// Debian's python3-pil. Prints "N passed, N failed"; exits 1 on failure.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { axeChecker, checkClean, launch, report, visible } from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const INSEE = '99001';

if (!BASE) {
    console.error('GUICHET_URL est requis (lancez tests/e2e/run.sh … ' +
        'test_demande.mjs).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();

const axeCheck = axeChecker(check);

// The test photo: EXIF with GPS, a camera make and orientation 6.
const MAKE = 'Marque-Secrete';
const tmp = mkdtempSync(join(tmpdir(), 'guichet-demande-'));
const PHOTO = join(tmp, 'nid-de-poule.jpg');
const NOTE = join(tmp, 'notes.txt');
writeFileSync(NOTE, 'pas une photo');
try {
    execFileSync('/usr/bin/python3', ['-c', `
import sys
from PIL import Image
im = Image.new("RGB", (320, 240), (200, 80, 40))
for x in range(0, 320, 3):
    for y in range(240):
        im.putpixel((x, y), (x % 256, y, 120))
ex = Image.Exif()
ex[0x010F] = "${MAKE}"
ex[0x0112] = 6
ex[0x8825] = {1: "N", 2: (47.0, 12.0, 34.56), 3: "E", 4: (1.0, 2.0, 3.0)}
im.save(sys.argv[1], "JPEG", exif=ex.tobytes(), quality=90)
`, PHOTO]);
} catch (e) {
    check('photo de test (python3-pil)', false, String(e.message || e));
}

// The instance's database (run.sh: <dir>/profile and <dir>/data).
const DB = process.env.E2E_PROFILE_DIR
    ? join(dirname(process.env.E2E_PROFILE_DIR), 'data', 'guichet.db') : '';

function sql(q) {
    return execFileSync('sqlite3', ['-readonly', DB, q], { encoding: 'utf8' })
        .trim();
}

const consoleErrors = [];
const badResponses = [];
// Error statuses a step provokes on purpose: [method, path regexp, status].
const expected = [
    ['POST', /^\/demande$/, 422],
    ['GET', /^\/demande\/suivi\/[^/]+$/, 404],
];
const { context, foreign, close } = await launch();
await context.grantPermissions(['geolocation'], { origin: BASE });
await context.setGeolocation({ latitude: 47.3941, longitude: 0.6848,
    accuracy: 15 });

function watch(p) {
    p.on('response', (r) => {
        if (r.status() < 400) return;
        const m = r.request().method();
        const path = new URL(r.url()).pathname;
        if (expected.some(([em, re, st]) => em === m && re.test(path) &&
            st === r.status())) {
            return;
        }
        badResponses.push(m + ' ' + path + ' ' + r.status());
    });
    p.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        if (/Failed to load resource: the server responded with a status of (404|422)/
            .test(msg.text())) {
            return;
        }
        consoleErrors.push(msg.text() + ' @ ' + p.url());
    });
    p.on('pageerror', (err) => consoleErrors.push('exception: ' +
        err.message + ' @ ' + p.url()));
}

const page = context.pages()[0] || await context.newPage();
await page.setViewportSize({ width: 375, height: 740 });
watch(page);

async function focusedId(p = page) {
    return p.evaluate(() => {
        const a = document.activeElement;
        return a ? (a.id ? '#' + a.id : a.tagName.toLowerCase()) : '';
    });
}

async function axe(name) {
    await axeCheck(page, name);
}

async function noHorizontalScroll(name, width = 320) {
    await page.setViewportSize({ width, height: 700 });
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    check('pas de défilement horizontal à ' + width + ' px — ' + name,
        w <= width, w + ' px');
    await page.setViewportSize({ width: 375, height: 740 });
}

// JPEG bytes: metadata markers and size (SOF0/SOF2).
function jpegInfo(buf) {
    const s = buf.toString('latin1');
    let w = 0;
    let h = 0;
    for (let i = 2; i + 9 < buf.length; i++) {
        if (buf[i] === 0xff && (buf[i + 1] === 0xc0 || buf[i + 1] === 0xc2)) {
            h = buf.readUInt16BE(i + 5);
            w = buf.readUInt16BE(i + 7);
            break;
        }
    }
    return {
        exif: s.includes('Exif'), make: s.includes(MAKE),
        app1: buf.includes(Buffer.from([0xff, 0xe1])) &&
            buf.indexOf(Buffer.from([0xff, 0xe1])) <
                buf.indexOf(Buffer.from([0xff, 0xda])),
        w, h,
    };
}

let number = '';
let statusUrl = '';

try {
    await step('portail et formulaire', async () => {
        const home = await page.goto(BASE + '/c/' + INSEE);
        check('le portail répond', home.status() === 200);
        const link = page.locator('a[href="/demande?c=' + INSEE + '"]').first();
        check('le portail mène à /demande', await link.count() === 1);
        const html = await page.content();
        check('plus de « Bientôt disponible » pour les demandes',
            !/Faire une demande[\s\S]{0,300}Bientôt disponible/.test(html));
        await link.click();
        await page.waitForURL(/\/demande\?c=99001$/);
        check('lang="fr"', await page.getAttribute('html', 'lang') === 'fr');
        check('titre', (await page.textContent('h1'))
            .includes('Faire une demande ou un signalement'));
        const scripts = await page.evaluate(() =>
            [...document.scripts].map((s) => s.src || 'inline'));
        check('aucun script en ligne (CSP)', !scripts.includes('inline'),
            scripts.join(' '));
        check('le bouton de position apparaît avec JavaScript',
            await visible(page.locator('#position')));
        check('pas de carte sans serveur de tuiles',
            await page.locator('#carte').isHidden());
        const labelled = await page.evaluate(() =>
            [...document.querySelectorAll('#form-demande input:not([type=hidden]), #form-demande textarea, #form-demande select')]
                .every((i) => document.querySelector('label[for="' + i.id + '"]')));
        check('chaque champ a son étiquette', labelled);
        check('durée de conservation affichée',
            /effacées 1 an après la clôture/.test(await page.textContent('#accord-hint')));
        await axe('formulaire');
        await noHorizontalScroll('formulaire');
    });

    await step('erreurs côté navigateur', async () => {
        await page.fill('#courriel', 'pas-une-adresse');
        await page.focus('#envoyer');
        await page.keyboard.press('Enter');
        check('le résumé des erreurs prend le focus',
            await focusedId() === '#erreurs');
        const sum = await page.textContent('#erreurs');
        check('résumé : le texte manque', /Décrivez votre demande/.test(sum), sum);
        check('résumé : l’adresse électronique est invalide',
            /Adresse électronique invalide/.test(sum), sum);
        check('champ texte aria-invalid',
            await page.getAttribute('#texte', 'aria-invalid') === 'true');
        check('message sous le champ, lié par aria-describedby',
            (await page.textContent('#texte-error')).includes('Décrivez') &&
            (await page.getAttribute('#texte', 'aria-describedby'))
                .includes('texte-error'));
        await page.click('#erreurs a[href="#courriel"]');
        check('un lien du résumé mène au champ', await focusedId() === '#courriel');
        check('rien n’a été envoyé', /\/demande\?c=99001$/.test(page.url()));
        await axe('formulaire avec erreurs');
    });

    await step('position, photos, envoi', async () => {
        await page.fill('#texte', 'Un nid-de-poule profond devant le 12 rue ' +
            'des Lilas, une voiture a crevé ce matin.');
        await page.fill('#objet', 'Nid-de-poule rue des Lilas');
        await page.selectOption('#categorie', 'voirie');
        await page.fill('#adresse', '12 rue des Lilas');
        await page.click('#position');
        await page.waitForFunction(() => document.getElementById('lat').value !== '');
        check('la position remplit lat/lon',
            Math.abs(Number(await page.inputValue('#lat')) - 47.3941) < 1e-4 &&
            Math.abs(Number(await page.inputValue('#lon')) - 0.6848) < 1e-4);
        check('la position est annoncée',
            /Position enregistrée : 47,3941, 0,6848 \(à environ 15 m près\)/
                .test(await page.textContent('#position-text')));
        await page.setInputFiles('#photos', [PHOTO, NOTE]);
        const items = page.locator('#apercus li');
        check('deux fichiers listés', await items.count() === 2);
        check('aperçu de la photo, avec sa taille',
            /nid-de-poule\.jpg/.test(await items.nth(0).textContent()) &&
            /\d+ ko/.test(await items.nth(0).textContent()));
        await page.waitForFunction(() => {
            const img = document.querySelector('#apercus li img');
            return img && img.src.startsWith('data:image/');
        });
        check('le fichier texte est refusé dès le choix',
            /Refusée : ce n’est pas une photo JPEG ou PNG/
                .test(await items.nth(1).textContent()));
        await items.nth(1).locator('button').click();
        check('« Retirer » enlève le fichier', await items.count() === 1 &&
            await page.evaluate(() => document.getElementById('photos').files.length) === 1);
        await page.fill('#nom', 'Jeanne Martin');
        await page.fill('#courriel', 'jeanne.martin@example.fr');
        await page.check('#prevenir');
        await page.check('#accord');
        await axe('formulaire rempli');
        await Promise.all([
            page.waitForURL(/\/demande\/suivi\/[A-Za-z0-9_-]{43}\?fait=depose$/),
            page.click('#envoyer'),
        ]);
        statusUrl = page.url().split('?')[0];
        const done = await page.textContent('#fait');
        const m = /numéro (\d{4}-\d{5})/.exec(done);
        number = m ? m[1] : '';
        check('confirmation avec le numéro', !!number, done);
        check('la confirmation prend le focus', await focusedId() === '#fait');
        check('le lien à garder est affiché',
            (await page.textContent('#lien-suivi')).endsWith(statusUrl.replace(BASE, '')));
        check('état « Reçue »', /Reçue/.test(await page.textContent('#etat')));
        await axe('confirmation');
        await noHorizontalScroll('suivi');
    });

    await step('la photo stockée n’a plus de métadonnées', async () => {
        const hex = DB ? sql('SELECT hex(a.data) FROM tri_attachments a JOIN ' +
            "tri_requests r ON r.id = a.request_id WHERE r.number = '" +
            number + "' AND r.insee = '" + INSEE + "'") : '';
        check('une photo en base', hex.length > 1000, hex.length);
        const info = jpegInfo(Buffer.from(hex, 'hex'));
        check('en base : ni EXIF, ni GPS, ni marque, ni APP1',
            !info.exif && !info.make && !info.app1, JSON.stringify(info));
        check('en base : photo redressée (240 × 320)', info.w === 240 &&
            info.h === 320, info.w + '×' + info.h);
        const row = sql("SELECT lat, lon, contact_email FROM tri_requests WHERE number = '" +
            number + "'");
        check('position et adresse électronique enregistrées',
            /^47\.394.*\|0\.684.*\|jeanne\.martin@example\.fr$/.test(row), row);
        const src = await page.getAttribute('#photos-envoyees img', 'src');
        const r = await page.request.get(BASE + src);
        const served = jpegInfo(await r.body());
        check('la photo servie sur la page de suivi est propre',
            r.status() === 200 && !served.exif && !served.make &&
            served.w === 240, JSON.stringify(served));
    });

    await step('message et photo sur la page de suivi', async () => {
        await page.fill('#message', 'Le trou s’est encore agrandi.');
        await page.setInputFiles('#photos-message', [PHOTO]);
        await Promise.all([
            page.waitForURL(/\?fait=message$/),
            page.click('#form-message button[type=submit]'),
        ]);
        check('message transmis', /Votre message a été transmis/
            .test(await page.textContent('#fait')));
        const hist = await page.textContent('#historique');
        check('le message est dans l’historique',
            /Votre message/.test(hist) && /encore agrandi/.test(hist) &&
            /1 photo jointe/.test(hist), hist);
        const n = sql("SELECT count(*) FROM tri_attachments a JOIN tri_requests r ON r.id = a.request_id WHERE r.number = '" + number + "'");
        check('deux photos pour la demande', n === '2', n);
        await axe('suivi après message');
    });

    await step('sans JavaScript', async () => {
        // The pages' scripts replaced by empty files: plain HTML forms.
        await context.route(/\/static\/js\/demande.*\.js$/, (r) => r.fulfill({
            status: 200, contentType: 'text/javascript', body: '' }));
        await page.goto(BASE + '/demande?c=' + INSEE);
        check('sans JS, pas de bouton de position',
            await page.locator('#position').isHidden());
        await page.fill('#courriel', 'jean@example.fr');
        await page.check('#prevenir');
        await Promise.all([
            page.waitForLoadState('load'),
            page.waitForResponse((r) => r.request().method() === 'POST'),
            page.click('#envoyer'),
        ]);
        await page.waitForSelector('#erreurs:not([hidden])');
        const sum = await page.textContent('#erreurs');
        check('erreurs du serveur dans le résumé',
            /Le formulaire contient 2 erreurs/.test(sum) &&
            /Décrivez votre demande/.test(sum) && /Cochez la case/.test(sum), sum);
        check('le résumé prend le focus (autofocus)', await focusedId() === '#erreurs');
        check('la saisie est gardée',
            await page.inputValue('#courriel') === 'jean@example.fr' &&
            await page.isChecked('#prevenir'));
        check('champ en erreur aria-invalid (serveur)',
            await page.getAttribute('#texte', 'aria-invalid') === 'true');
        await axe('erreurs du serveur');
        await page.fill('#texte', 'Lampadaire éteint rue du Moulin depuis trois soirs.');
        await page.check('#accord');
        await page.setInputFiles('#photos', [PHOTO]);
        await Promise.all([
            page.waitForURL(/\/demande\/suivi\/[A-Za-z0-9_-]{43}\?fait=depose$/),
            page.click('#envoyer'),
        ]);
        const done = await page.textContent('#fait');
        check('sans JS : demande enregistrée', /numéro \d{4}-\d{5}/.test(done), done);
        check('sans JS : la photo est jointe',
            await page.locator('#photos-envoyees img').count() === 1);
        await context.unroute(/\/static\/js\/demande.*\.js$/);
    });

    await step('liens inconnus', async () => {
        const fake = 'Z'.repeat(43);
        const a = await page.goto(BASE + '/demande/suivi/' + fake);
        const ta = await page.textContent('main');
        const b = await page.goto(BASE + '/demande/suivi/court');
        const tb = await page.textContent('main');
        check('404 pour un jeton inconnu ou mal formé',
            a.status() === 404 && b.status() === 404);
        check('même texte, en français', ta === tb &&
            /n’existe pas ou n’est plus valable/.test(ta), ta);
    });

    checkClean(check, { consoleErrors, badResponses, foreign });
} finally {
    await close();
    rmSync(tmp, { recursive: true, force: true });
}

finish();
