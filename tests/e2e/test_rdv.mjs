// test_rdv.mjs - the residents' appointment pages in a real browser
// (Debian chromium driven by playwright-core), on a phone-sized screen:
// a resident of the demo commune books a CNI appointment for two people
// (form filled with the keyboard only), sees the confirmation, downloads
// the .ics, opens the management link, moves the booking, answers a
// reminder's « confirmer » link, cancels; a slot taken meanwhile (booked
// through the API) shows « Ce créneau vient d'être pris » with the next
// slots; the ANTS deep link preselects a slot; the waiting list; unknown
// links get one French 404. axe-core (WCAG 2.1 A/AA) runs on every step
// and fails on serious or critical violations. No request may leave
// 127.0.0.1 (lib.mjs).
//
// Started by run.sh: GUICHET_URL (a fresh demo instance), CHROMIUM,
// E2E_PROFILE_DIR. Prints "N passed, N failed"; exits 1 on any failure.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { checkClean, launch, report, visible } from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const SHOTS = process.env.E2E_SCREENSHOTS || '';
const INSEE = '99001';

if (!BASE) {
    console.error('GUICHET_URL est requis (lancez tests/e2e/run.sh … ' +
        'test_rdv.mjs).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();

let AXE = '';
try {
    const require = createRequire(import.meta.url);
    AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
} catch (e) {
    check('axe-core installé (cd tests/e2e && npm ci)', false,
        String(e.message || e));
}

const consoleErrors = [];
const badResponses = [];
// Error statuses a step provokes on purpose: [method, path regexp, status].
const expected = [];
const { context, foreign, close } = await launch();

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
        // The browser logs every 4xx fetch; those are checked above.
        if (/Failed to load resource: the server responded with a status of (404|409|503)/
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

// ----- helpers -----

async function focusedId(p = page) {
    return p.evaluate(() => {
        const a = document.activeElement;
        return a ? (a.id ? '#' + a.id : a.tagName.toLowerCase()) : '';
    });
}

// Press Tab until the element #id has the focus (at most `max` times).
async function tabTo(id, max = 15) {
    for (let i = 0; i < max; i++) {
        if (await focusedId() === '#' + id) return true;
        await page.keyboard.press('Tab');
    }
    return await focusedId() === '#' + id;
}

// axe-core on the current page: no serious or critical violation.
let shot = 0;

async function axe(name) {
    if (SHOTS) {
        shot++;
        await page.screenshot({ path: join(SHOTS, 'rdv-' +
            String(shot).padStart(2, '0') + '.png'), fullPage: true });
    }
    if (!AXE) return;
    const res = await page.evaluate(async (src) => {
        if (!window.axe) {
            // Runs through the DevTools protocol: the page's CSP (no
            // inline script) does not apply, and the page is unchanged.
            (0, eval)(src);
        }
        const r = await window.axe.run(document, {
            runOnly: { type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        });
        return r.violations.map((v) => ({
            id: v.id, impact: v.impact, n: v.nodes.length,
            target: v.nodes[0] && v.nodes[0].target.join(' '),
        }));
    }, AXE);
    const bad = res.filter((v) => v.impact === 'serious' ||
        v.impact === 'critical');
    check('axe : aucune violation grave — ' + name, bad.length === 0,
        bad.map((v) => v.id + ' (' + v.impact + ', ' + v.target + ')')
            .join(' ; '));
}

async function noHorizontalScroll(name, width = 320) {
    await page.setViewportSize({ width, height: 700 });
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    check('pas de défilement horizontal à ' + width + ' px — ' + name,
        w <= width, w + ' px');
    if (SHOTS) {
        await page.screenshot({ path: join(SHOTS, 'rdv-' + name + '-' +
            width + '.png'), fullPage: true });
    }
    await page.setViewportSize({ width: 375, height: 740 });
}

const FR_WHEN = /^(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) (1er|\d{1,2}) (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)( \d{4})? à \d{1,2} h( \d\d)?/;

async function api(method, path, body) {
    const r = await page.request.fetch(BASE + path, {
        method, data: body, headers: { Accept: 'application/json' },
        failOnStatusCode: false,
    });
    let json = null;
    try {
        json = await r.json();
    } catch (e) { /* not JSON */ }
    return { status: r.status(), json, headers: r.headers() };
}

async function motifs() {
    const r = await api('GET', '/api/v1/rdv/motifs?c=' + INSEE);
    return (r.json && r.json.motifs) || [];
}

// Open /rdv, choose the motif `name` with the keyboard, `people` people,
// and go to the slots.
async function chooseMotif(label, people = 1) {
    await page.goto(BASE + '/rdv?c=' + INSEE);
    await page.waitForSelector('#motifs input[type=radio]');
    const radio = page.getByLabel(label, { exact: false }).first();
    await radio.focus();
    await page.keyboard.press('Space');
    if (people > 1) {
        await page.selectOption('#people', String(people));
    }
    await page.focus('#form-motif button[type=submit]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#premiers .rdv-slot');
}

let token = '';
let booked = null; // {start, place}
let cniId = 0;
let placeId = 0;

try {
    await step('page /rdv : démarches', async () => {
        const r = await page.goto(BASE + '/rdv?c=' + INSEE);
        check('GET /rdv?c=99001 répond 200', r.status() === 200,
            String(r.status()));
        check('lang="fr"', await page.getAttribute('html', 'lang') === 'fr');
        check('titre « Prendre rendez-vous »',
            (await page.textContent('h1')).includes('Prendre rendez-vous'));
        check('les démarches s’affichent',
            await visible(page.locator('#motifs input[type=radio]').first()));
        const legend = await page.textContent('#form-motif legend');
        check('choix dans un fieldset avec légende', /démarche/.test(legend),
            legend);
        const n = await page.locator('#motifs input[type=radio]').count();
        const labelled = await page.evaluate(() =>
            [...document.querySelectorAll('#motifs input')].every((i) =>
                document.querySelector('label[for="' + i.id + '"]')));
        check('chaque démarche a son étiquette', n >= 5 && labelled,
            n + ' démarches');
        const hint = await page.locator('#motifs .hint').first().textContent();
        check('durée indiquée pour chaque démarche', /Durée : \d+ minutes/
            .test(hint), hint);
        check('« Ce qu’il faut apporter » dépliable',
            await page.locator('#motifs details summary').count() >= 1);
        const scripts = await page.evaluate(() =>
            [...document.scripts].map((s) => s.src || 'inline'));
        check('aucun script en ligne (CSP)', !scripts.includes('inline'),
            scripts.join(' '));
        await axe('choix de la démarche');
        const home = await page.request.get(BASE + '/c/' + INSEE);
        const html = await home.text();
        check('le portail mène à /rdv?c=99001 sans « Bientôt »',
            html.includes('href="/rdv?c=99001"') &&
            !/Prendre rendez-vous<\/a><\/h3>\s*<p>[^<]*<\/p>\s*<p><span class="badge">Bientôt/
                .test(html));
        const r404 = await page.request.get(BASE + '/rdv?c=12345');
        check('commune inconnue : 404 en français', r404.status() === 404 &&
            (await r404.text()).includes('Cette commune n’existe pas'),
        String(r404.status()));
        const all = await motifs();
        const cni = all.find((m) => m.code === 'cni');
        cniId = cni ? cni.id : 0;
        placeId = cni && cni.places.length ? cni.places[0].id : 0;
        check('démo : motif « cni » avec un lieu', cniId > 0 && placeId > 0);
    });

    await step('étape 1 : validation du choix au clavier', async () => {
        await page.focus('#form-motif button[type=submit]');
        await page.keyboard.press('Enter');
        const err = await page.textContent('#motif-error');
        check('sans démarche : message clair', /Choisissez une démarche/
            .test(err), err);
        check('le focus va à la première démarche',
            (await focusedId()).startsWith('#motif-'), await focusedId());
    });

    await step('étape 2 : premiers créneaux et semaine', async () => {
        await chooseMotif('Carte nationale d', 2);
        check('le titre de l’étape prend le focus',
            await focusedId() === '#titre-creneau', await focusedId());
        const recap = await page.textContent('#motif-recap');
        check('rappel : démarche et 2 personnes', /2 personnes/.test(recap),
            recap);
        const first = (await page.locator('#premiers .rdv-slot').first()
            .textContent()).trim();
        check('date en toutes lettres (« jeudi 3 décembre à 9 h 30 »)',
            FR_WHEN.test(first), first);
        const place = await page.textContent('#premiers h4');
        const addr = await page.textContent('#premiers .hint');
        check('nom et adresse du lieu', /Mairie/.test(place) &&
            /place de la Mairie/.test(addr), place + ' / ' + addr);
        const t1 = await page.textContent('#semaine-titre');
        check('titre de la semaine', /^Semaine du .+ au .+/.test(t1), t1);
        check('semaine précédente désactivée sur la semaine en cours',
            await page.isDisabled('#semaine-prec'));
        await page.focus('#semaine-suiv');
        await page.keyboard.press('Enter');
        await page.waitForFunction((t) => document.getElementById(
            'semaine-titre').textContent !== t, t1);
        const t2 = await page.textContent('#semaine-titre');
        check('« Semaine suivante » change de semaine', t2 !== t1, t2);
        check('le focus reste sur le bouton',
            await focusedId() === '#semaine-suiv', await focusedId());
        check('7 jours affichés', await page.locator('#semaine .rdv-day')
            .count() === 7);
        await axe('créneaux');
        await noHorizontalScroll('creneaux');
    });

    await step('étape 3 : le formulaire au clavier', async () => {
        // A slot of next week, with the keyboard.
        const slot = page.locator('#semaine .rdv-slot').nth(1);
        const label = await slot.getAttribute('aria-label');
        booked = {
            start: await slot.getAttribute('data-start'),
            place: Number(await slot.getAttribute('data-place')),
        };
        await slot.focus();
        await page.keyboard.press('Enter');
        await page.waitForSelector('#etape-coord:not([hidden])');
        check('le titre « Vos coordonnées » prend le focus',
            await focusedId() === '#titre-coord', await focusedId());
        const chosen = await page.textContent('#creneau-choisi');
        check('le créneau choisi est rappelé', chosen === label,
            chosen + ' / ' + label);
        check('deux champs de pré-demande (un par personne)',
            await page.locator('#ants-fields input').count() === 2);
        check('lien vers ants.gouv.fr (simple lien)', await page.locator(
            '#ants-hint a[href="https://ants.gouv.fr/"]').count() === 1);
        const consent = await page.textContent('#consent-hint');
        check('phrase de confidentialité avec la durée (2 ans)',
            /effacés 2 ans après/.test(consent), consent);

        // Send it empty: the error summary.
        check('Tab mène au nom', await tabTo('name'));
        await page.keyboard.press('Enter');
        await page.waitForSelector('#resume-erreurs:not([hidden])');
        check('le résumé des erreurs prend le focus',
            await focusedId() === '#resume-erreurs', await focusedId());
        const items = await page.locator('#resume-liste a').count();
        check('une erreur par champ (nom, contact, 2 numéros, accord)',
            items === 5, String(items));
        check('le champ nom est marqué invalide',
            await page.getAttribute('#name', 'aria-invalid') === 'true');
        const described = await page.getAttribute('#name',
            'aria-describedby');
        check('le message est relié au champ', described.includes(
            'name-error') && (await page.textContent('#name-error'))
            .includes('nom'));
        await axe('formulaire avec erreurs');
        await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        check('le lien du résumé mène au champ',
            await focusedId() === '#name', await focusedId());

        await page.keyboard.type('Camille Exemple');
        check('Tab mène au courriel', await tabTo('email'));
        await page.keyboard.type('camille@example.org');
        check('Tab mène au premier numéro', await tabTo('ants-1'));
        await page.keyboard.type('AB-12');
        const e1 = await page.textContent('#ants-1-error');
        check('numéro vérifié à la frappe (signe interdit)',
            /lettres sans accent et des chiffres/.test(e1), e1);
        await page.keyboard.press('Control+A');
        await page.keyboard.type('1a2b 3c4d');
        await page.keyboard.press('Tab');
        const e2 = await page.textContent('#ants-1-error');
        check('numéro incomplet signalé en quittant le champ',
            /incomplet : 8 caractères sur 10/.test(e2), e2);
        await page.focus('#ants-1');
        await page.keyboard.press('End');
        await page.keyboard.type('5e');
        const ok1 = await page.textContent('#ants-1-count');
        check('numéro complet : « Format correct »', ok1 === 'Format correct.'
            && (await page.textContent('#ants-1-error')) === '', ok1);
        check('Tab mène au second numéro', await tabTo('ants-2'));
        await page.keyboard.type('1A2B3C4D5E');
        const dup = await page.textContent('#ants-2-error');
        check('le même numéro pour deux personnes est refusé',
            /déjà indiqué/.test(dup), dup);
        await page.keyboard.press('Backspace');
        await page.keyboard.type('F');
        check('Tab mène à la case d’accord', await tabTo('consent'));
        await page.keyboard.press('Space');
        check('case cochée au clavier', await page.isChecked('#consent'));
        check('Tab mène au bouton', await tabTo('reserver'));
        await Promise.all([
            page.waitForURL(/\/rdv\/r\/[A-Za-z0-9_-]{43}\?fait=reserve$/),
            page.keyboard.press('Enter'),
        ]);
        token = /\/rdv\/r\/([A-Za-z0-9_-]{43})/.exec(page.url())[1];
        check('réservé : page de confirmation', token.length === 43);
    });

    await step('confirmation', async () => {
        const done = await page.textContent('#rdv-done');
        check('« Votre rendez-vous est confirmé »',
            /Votre rendez-vous est confirmé/.test(done), done);
        // The demo sends no e-mail (smtp.url empty): the page says so
        // rather than promise one (tests/http covers both texts' choice).
        check('courriel : la page dit la vérité (pas de SMTP en démo)',
            /n’envoie pas encore de courriels/.test(done), done);
        check('le bandeau prend le focus', await focusedId() === '#rdv-done',
            await focusedId());
        const when = await page.textContent('#g-when');
        check('date en toutes lettres avec l’année', FR_WHEN.test(when) &&
            /\d{4} à/.test(when), when);
        check('démarche rappelée', /Carte nationale d/.test(
            await page.textContent('#g-motif')));
        const instr = await page.textContent('#titre-instructions + p');
        check('instructions de la démarche', /pré-demande/.test(instr),
            instr);
        const link = await page.textContent('#g-link');
        check('le lien à garder est complet', link === BASE + '/rdv/r/' +
            token, link);
        check('« Ajouter à mon agenda »', await visible(page.locator(
            '#g-ics')));
        await axe('confirmation');
        await noHorizontalScroll('confirmation');
        const dl = page.waitForEvent('download');
        await page.focus('#g-ics');
        await page.keyboard.press('Enter');
        const file = await dl;
        const ics = readFileSync(await file.path(), 'utf8');
        check('fichier .ics téléchargé (rendez-vous.ics)',
            file.suggestedFilename() === 'rendez-vous.ics' &&
            ics.startsWith('BEGIN:VCALENDAR') && /BEGIN:VEVENT/.test(ics),
        file.suggestedFilename());
        const d = booked.start.replace(/[-:]/g, '');
        check('le .ics porte la date et l’heure du rendez-vous',
            ics.includes('DTSTART;TZID=Europe/Paris:' + d + '00'),
            ics.split('\r\n').filter((l) => l.startsWith('DTSTART'))
                .join(' '));
        const r = await page.request.get(BASE + '/rdv/r/' + token +
            '/rdv.ics');
        check('.ics : text/calendar, en pièce jointe',
            r.headers()['content-type'].startsWith('text/calendar') &&
            /attachment/.test(r.headers()['content-disposition'] || ''),
        r.headers()['content-type']);
    });

    await step('lien de gestion : voir et déplacer', async () => {
        await page.goto(BASE + '/rdv/r/' + token);
        check('la page s’ouvre sans bandeau', await page.isHidden(
            '#rdv-done'));
        const before = await page.textContent('#g-when');
        await page.focus('#deplacer-ouvrir');
        await page.keyboard.press('Enter');
        await page.waitForSelector('#premiers .rdv-slot');
        check('les créneaux s’affichent', await page.locator(
            '#premiers .rdv-slot').count() > 0);
        await axe('déplacement');
        // A slot two weeks ahead: it can still be moved or cancelled
        // (the first free slots may be less than 24 hours away).
        const t0 = await page.textContent('#semaine-titre');
        await page.click('#semaine-suiv');
        await page.waitForFunction((t) => document.getElementById(
            'semaine-titre').textContent !== t, t0);
        const t1 = await page.textContent('#semaine-titre');
        await page.click('#semaine-suiv');
        await page.waitForFunction((t) => document.getElementById(
            'semaine-titre').textContent !== t, t1);
        const slot = page.locator('#semaine .rdv-slot').nth(2);
        const moved = await slot.getAttribute('data-start');
        check('un autre créneau que l’actuel', moved !== booked.start,
            moved);
        await slot.focus();
        await page.keyboard.press('Enter');
        check('confirmation demandée avant de déplacer', await visible(
            page.locator('#deplacer-confirmer')) &&
            await focusedId() === '#deplacer-confirmer');
        await Promise.all([
            page.waitForURL(/\?fait=deplace$/),
            page.click('#deplacer-ok'),
        ]);
        const after = await page.textContent('#g-when');
        check('« Votre rendez-vous a été déplacé »', /déplacé/.test(
            await page.textContent('#rdv-done')));
        check('la nouvelle date est affichée', after !== before, after);
        const m = await api('GET', '/api/v1/rdv/manage/' + token);
        check('l’API voit le nouvel horaire', m.json &&
            String(m.json.start).slice(0, 16) === moved,
        m.json && m.json.start);
        booked.start = moved;
    });

    await step('lien « confirmer » d’un rappel : une question, pas un changement',
        async () => {
            await page.goto(BASE + '/rdv/r/' + token + '?action=confirmer');
            check('question « Confirmez-vous votre venue ? »', await visible(
                page.locator('#rdv-ask-confirm')));
            check('le titre de la question prend le focus',
                await focusedId() === '#titre-ask-confirm');
            const m = await api('GET', '/api/v1/rdv/manage/' + token);
            check('le GET n’a rien changé', m.json && m.json.confirmed ===
                false, JSON.stringify(m.json && m.json.confirmed));
            await Promise.all([
                page.waitForURL(/\?fait=confirme$/),
                page.click('#rdv-ask-confirm button[type=submit]'),
            ]);
            check('« venue confirmée »', /venue confirmée/.test(
                await page.textContent('#g-state')));
        });

    await step('annuler (avec confirmation)', async () => {
        await page.goto(BASE + '/rdv/r/' + token);
        await page.focus('#annuler-lien');
        await Promise.all([
            page.waitForURL(/\?action=annuler$/),
            page.keyboard.press('Enter'),
        ]);
        check('question « Voulez-vous vraiment annuler ? »', await visible(
            page.locator('#rdv-ask-cancel')));
        const m = await api('GET', '/api/v1/rdv/manage/' + token);
        check('le GET n’a rien annulé', m.json && m.json.status !==
            'annule' && !/annul/.test(m.json.status), m.json &&
            m.json.status);
        await axe('question d’annulation');
        await Promise.all([
            page.waitForURL(/\?fait=annule$/),
            page.click('#rdv-ask-cancel button[type=submit]'),
        ]);
        check('« Votre rendez-vous est annulé »', /annulé/.test(
            await page.textContent('#rdv-done')));
        check('état « Annulé »', /Annulé/.test(
            await page.textContent('#g-state')));
        check('plus de bouton « Déplacer »', await page.isHidden(
            '#rdv-change'));
        const free = await api('GET', '/api/v1/rdv/slots?c=' + INSEE +
            '&motif=cni&people=2&place=' + booked.place + '&from=' +
            booked.start.slice(0, 10) + '&to=' + booked.start.slice(0, 10));
        check('le créneau est de nouveau libre', free.json && free.json.slots
            .some((s) => String(s.start).slice(0, 16) === booked.start));
    });

    await step('créneau pris entre-temps (409)', async () => {
        expected.push(['POST', /^\/api\/v1\/rdv\/bookings$/, 409]);
        await chooseMotif('Carte nationale d', 1);
        const slot = page.locator('#premiers .rdv-slot').first();
        const start = await slot.getAttribute('data-start');
        const place = Number(await slot.getAttribute('data-place'));
        await slot.click();
        await page.fill('#name', 'Dominique Essai');
        await page.fill('#phone', '06 12 34 56 78');
        await page.fill('#ants-1', 'ZZ12345678');
        await page.check('#consent');
        // Someone else takes it first, through the API.
        const other = await api('POST', '/api/v1/rdv/bookings', {
            c: INSEE, motif: cniId, place, start, people: 1,
            name: 'Autre Personne', email: 'autre@example.org',
            ants_ids: ['YY12345678'], consent: true,
        });
        check('l’autre réservation passe (201)', other.status === 201,
            String(other.status) + ' ' + JSON.stringify(other.json));
        await page.click('#reserver');
        await page.waitForSelector('#pris:not([hidden])');
        const txt = await page.textContent('#pris');
        check('« Ce créneau vient d’être pris »',
            /Ce créneau vient d’être pris/.test(txt), txt);
        check('le message prend le focus', await focusedId() === '#pris');
        const next = page.locator('#pris-creneaux .rdv-slot');
        check('les prochains créneaux libres sont proposés',
            await next.count() > 0, String(await next.count()));
        const label = await next.first().getAttribute('aria-label');
        check('en toutes lettres', FR_WHEN.test(label), label);
        await axe('créneau pris');
        await next.first().click();
        check('le nouveau créneau est retenu',
            await page.textContent('#creneau-choisi') === label);
        check('les informations saisies sont gardées',
            await page.inputValue('#name') === 'Dominique Essai');
        await Promise.all([
            page.waitForURL(/\?fait=reserve$/),
            page.click('#reserver'),
        ]);
        const done = await page.textContent('#rdv-done');
        check('réservé sur le créneau suivant, sans courriel annoncé',
            /confirmé/.test(done) && /aucun courriel/.test(done), done);
    });

    // The ANTS coordination API is off in the demo: the answers the API
    // gives when it is on (docs/rdv-api.md, rdv_book.c) are played by the
    // browser's network layer, then the real server books.
    await step('ANTS : rendez-vous ailleurs, puis vérification impossible',
        async () => {
            expected.push(['POST', /^\/api\/v1\/rdv\/bookings$/, 503]);
            await chooseMotif('Carte nationale d', 1);
            await page.locator('#premiers .rdv-slot').nth(1).click();
            await page.fill('#name', 'Sacha Ailleurs');
            await page.fill('#email', 'sacha@example.org');
            await page.fill('#ants-1', 'AA11BB22CC');
            await page.check('#consent');
            const sent = [];
            let mode = 'ailleurs';
            const handler = async (route) => {
                const body = route.request().postDataJSON();
                sent.push(body);
                const problem = (status, detail, champ, extra = {}) =>
                    route.fulfill({
                        status,
                        contentType: 'application/problem+json',
                        body: JSON.stringify({ type: 'about:blank',
                            title: 'Erreur', status, detail, champ,
                            ...extra }),
                    });
                if (mode === 'ailleurs' && !body.ants_override) {
                    return problem(409, 'Un rendez-vous existe déjà à la ' +
                        'mairie de Villeautre le 4 décembre pour ce numéro ' +
                        'de pré-demande.', 'ants_override', { creneaux: [] });
                }
                if (mode === 'panne') {
                    return problem(503, 'La vérification de votre numéro ' +
                        'de pré-demande auprès de l’ANTS est impossible ' +
                        'pour le moment : merci de réessayer dans quelques ' +
                        'minutes, ou d’appeler la mairie.', 'ants_ids');
                }
                return route.continue();
            };
            await page.route('**/api/v1/rdv/bookings', handler);
            await page.click('#reserver');
            await page.waitForSelector('#ants-ailleurs:not([hidden])');
            const txt = await page.textContent('#ants-ailleurs');
            check('« rendez-vous ailleurs » : le détail est montré',
                /Villeautre/.test(txt), txt);
            check('une confirmation explicite est demandée (case à cocher)',
                await focusedId() === '#ants_override' &&
                !await page.isChecked('#ants_override'));
            check('ce n’est pas « créneau pris »', await page.isHidden(
                '#pris'));
            await page.click('#reserver');
            check('sans la case : erreur reliée à la case',
                await page.getAttribute('#ants_override', 'aria-invalid') ===
                'true' && await visible(page.locator('#resume-erreurs')));
            mode = 'panne';
            await page.check('#ants_override');
            await page.click('#reserver');
            await page.waitForSelector('#rdv-error:not([hidden])');
            const err = await page.textContent('#rdv-error');
            check('ANTS indisponible : message en français',
                /impossible pour le moment/.test(err), err);
            check('la confirmation a été envoyée (ants_override)',
                sent.length === 2 && sent[0].ants_override === false &&
                sent[1].ants_override === true,
                JSON.stringify(sent.map((b) => b.ants_override)));
            mode = 'ok';
            await Promise.all([
                page.waitForURL(/\?fait=reserve$/),
                page.click('#reserver'),
            ]);
            check('puis la réservation passe', /confirmé/.test(
                await page.textContent('#rdv-done')));
            await page.unroute('**/api/v1/rdv/bookings', handler);
        });

    await step('lien profond de l’ANTS (motif, lieu, créneau)', async () => {
        const s = await api('GET', '/api/v1/rdv/slots?c=' + INSEE +
            '&motif=cni&people=2&limit=20');
        const slot = s.json.slots[10];
        const start = String(slot.start).slice(0, 16);
        await page.goto(BASE + '/rdv?motif=cni&lieu=' + slot.place +
            '&creneau=' + start + '&personnes=2&c=' + INSEE);
        await page.waitForSelector('#etape-coord:not([hidden])');
        const chosen = await page.textContent('#creneau-choisi');
        check('le créneau est présélectionné', FR_WHEN.test(chosen) &&
            await page.locator('#semaine .rdv-slot[aria-pressed="true"]')
                .getAttribute('data-start') === start, chosen);
        check('pour 2 personnes : deux numéros de pré-demande',
            await page.locator('#ants-fields input').count() === 2);
        check('le formulaire a le focus',
            await focusedId() === '#titre-coord');
        await page.goto(BASE + '/rdv?motif=cni&lieu=' + slot.place +
            '&creneau=2001-01-01T09:00&c=' + INSEE);
        await page.waitForSelector('#rdv-error:not([hidden])');
        const err = await page.textContent('#rdv-error');
        check('créneau passé : message et choix d’un autre',
            /n’est plus disponible/.test(err), err);
        const bad = await page.goto(BASE + '/rdv?motif=<x>&lieu=abc' +
            '&creneau=demain&c=' + INSEE);
        check('présélection invalide ignorée (200)', bad.status() === 200);
    });

    await step('liste d’attente', async () => {
        await chooseMotif('Carte nationale d', 2);
        await page.click('#attente-ouvrir');
        check('CNI : un numéro de pré-demande par personne sur la liste ' +
            'd’attente aussi', await page.isVisible('#w-ants-1') &&
            await page.isVisible('#w-ants-2') &&
            await page.locator('#w-ants-3').count() === 0);
        await chooseMotif('Urbanisme', 1);
        await page.focus('#attente-ouvrir');
        await page.keyboard.press('Enter');
        check('pas de pré-demande pour l’urbanisme',
            await page.isHidden('#w-ants-fieldset'));
        check('le formulaire s’ouvre, focus sur le premier champ',
            await page.isVisible('#form-attente') &&
            await page.getAttribute('#attente-ouvrir', 'aria-expanded') ===
            'true');
        await page.fill('#w-name', 'Alex Attente');
        await page.fill('#w-email', 'pas-une-adresse');
        await page.click('#form-attente button[type=submit]');
        check('adresse invalide signalée', /adresse électronique valide/
            .test(await page.textContent('#w-email-error')));
        await page.fill('#w-email', 'alex@example.org');
        await page.check('#w-consent');
        await page.click('#form-attente button[type=submit]');
        await page.waitForSelector('#attente-ok:not([hidden])');
        const href = await page.getAttribute('#attente-ok a', 'href');
        check('inscrit(e) : lien de suivi', /^\/rdv\/attente\/[A-Za-z0-9_-]{43}$/
            .test(href), href);
        await axe('liste d’attente');
        const r = await page.goto(BASE + href);
        check('page de suivi : 200', r.status() === 200);
        check('état « En attente »', /En attente/.test(
            await page.textContent('#attente-etat')));
        await axe('suivi de la liste d’attente');
        await page.click('text=Me retirer de la liste d’attente');
        check('retiré(e) de la liste', /quitté la liste/.test(
            await page.textContent('h1')));
        expected.push(['GET', /^\/rdv\/attente\//, 404]);
        const gone = await page.goto(BASE + href);
        check('le lien ne mène plus à rien (404)', gone.status() === 404);
    });

    // The job rdv.waitlist (every minute under guichet serve) offers the
    // first free slot before the entry's day: with slots free tomorrow
    // and a wish for « before in three days », an offer comes at its next
    // run.
    await step('liste d’attente : un créneau proposé, accepté', async () => {
        const p = await api('GET', '/api/v1/rdv/slots?c=' + INSEE +
            '&motif=urbanisme&limit=1');
        const first = p.json.slots[0];
        const before = new Date(Date.parse(first.day + 'T12:00:00Z') +
            2 * 86400000).toISOString().slice(0, 10);
        const j = await api('POST', '/api/v1/rdv/waitlist', {
            c: INSEE, motif: 'urbanisme', people: 1, name: 'Lou Offre',
            email: 'lou@example.org', consent: true, before,
        });
        check('inscription avec une date souhaitée (201)', j.status === 201,
            String(j.status) + ' ' + JSON.stringify(j.json));
        const href = '/rdv/attente/' + j.json.token;
        let offered = false;
        for (let i = 0; i < 80 && !offered; i++) {
            await page.goto(BASE + href);
            offered = await page.isVisible('#offre');
            if (!offered) await page.waitForTimeout(1000);
        }
        check('une proposition arrive (tâche rdv.waitlist)', offered);
        if (!offered) return;
        const when = await page.textContent('#offre-date');
        const until = await page.textContent('#offre-fin');
        check('le créneau proposé et sa date limite, en toutes lettres',
            FR_WHEN.test(when) && FR_WHEN.test(until), when + ' / ' + until);
        check('le titre de la proposition prend le focus',
            await focusedId() === '#titre-offre');
        await axe('proposition de la liste d’attente');
        await Promise.all([
            page.waitForURL(/\/rdv\/r\/[A-Za-z0-9_-]{43}\?fait=accepte$/),
            page.click('text=Accepter ce rendez-vous'),
        ]);
        check('accepté : le rendez-vous est confirmé', /confirmé/.test(
            await page.textContent('#rdv-done')) &&
            await page.textContent('#g-when') === when,
        await page.textContent('#g-when'));
    });

    await step('lien inconnu : une seule page 404 qui ne révèle rien',
        async () => {
            expected.push(['GET', /^\/rdv\/r\//, 404]);
            const fake = 'A'.repeat(43);
            const a = await page.goto(BASE + '/rdv/r/' + fake);
            const ta = await page.textContent('main');
            const b = await page.goto(BASE + '/rdv/r/court');
            const tb = await page.textContent('main');
            const c = await page.request.get(BASE + '/rdv/r/' + fake +
                '/rdv.ics');
            check('404 pour un jeton inconnu, mal formé, et son .ics',
                a.status() === 404 && b.status() === 404 &&
                c.status() === 404);
            check('même texte dans les deux cas', ta === tb);
            check('en français, sans détail', /n’existe pas ou n’est plus valable/
                .test(ta) && !/Camille|Mairie annexe/.test(ta), ta);
            const p = await page.request.post(BASE + '/rdv/r/' + fake +
                '/annuler', { form: { x: '1' } });
            check('POST sur un jeton inconnu : 404', p.status() === 404);
        });

    checkClean(check, { consoleErrors, badResponses, foreign });
} finally {
    await close();
}

finish();
