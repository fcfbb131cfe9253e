// test_demandes_agent.mjs - the request inbox of the back-office in a real
// browser (Debian chromium through playwright-core) on the fresh demo
// instance run.sh starts: the demo administrator logs in, opens
// « Demandes » from the menu, sees the demo requests with their counts,
// SLA timers in words and « À trier » first, filters them (status, text),
// uses the keyboard shortcuts, opens one, reads « Pourquoi ? » (weighing
// words highlighted in the text, confidence, urgency), corrects its
// service (the page says it teaches the model; the decision appears with
// source « un agent »), adds an internal note, writes a reply template
// and replies with it (the reply appears in the thread), joins another
// request's case then detaches it, runs a bulk action on two rows,
// edits a service's threshold, reads the model card and the e-mail
// sources page. axe-core (WCAG 2.1 A/AA) runs on each page and fails on
// serious or critical violations; no horizontal scroll at 320 px on the
// inbox. No console error, no unexpected HTTP error, no outside request.
// Prints "N passed, N failed"; exits 1 on any failure.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync }
    from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import {
    axeChecker, checkClean, firstLogin, launch, report, visible, watch
} from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const OTP = process.env.GUICHET_ADMIN_PASSWORD;
const NEW_PASSWORD = 'une phrase de passe pour trier les demandes';
const NOTE = 'Vu avec le chef d’équipe : passage prévu jeudi.';
const TPL_NAME = 'Accusé de prise en charge';
const TPL_BODY = 'Bonjour, votre demande {numero} est prise en charge ' +
    'par le service {service}. Cordialement, la mairie.';

if (!BASE || !OTP) {
    console.error('GUICHET_URL et GUICHET_ADMIN_PASSWORD sont requis ' +
        '(lancez tests/e2e/run.sh).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();

const axeCheck = axeChecker(check);

const { context, foreign, close } = await launch();
const page = context.pages()[0] || await context.newPage();
const { consoleErrors, badResponses } = watch(page);
page.on('dialog', (d) => d.accept());

// axe-core on the current page: no serious or critical violation.
async function axe(name) {
    await axeCheck(page, name);
}

// A Maildir on this machine with one resident's e-mail, for « Relever
// maintenant ».
const MAILDIR = mkdtempSync(join(tmpdir(), 'guichet-e2e-maildir-'));
for (const d of ['new', 'cur', 'tmp']) mkdirSync(join(MAILDIR, d));
writeFileSync(join(MAILDIR, 'new', '1764578000.e2e.guichet'), [
    'Message-ID: <e2e-lampadaire-1@exemple.fr>',
    'Date: Tue, 01 Dec 2026 07:40:00 +0100',
    'From: Paul Girard <paul.girard@exemple.fr>',
    'To: demandes@saint-exemple-sur-loire.fr',
    'Subject: =?UTF-8?Q?Lampadaire_=C3=A9teint?= impasse des Saules',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Bonjour,',
    '',
    'Le lampadaire au bout de l\'impasse des Saules est éteint depuis une',
    'semaine, on ne voit plus rien le soir en rentrant.',
    '',
    'Cordialement,',
    'Paul Girard',
    ''].join('\r\n'));

// A small valid PNG (64 x 48, a gradient), built here: the resident's
// photo of the pothole.
function png() {
    const w = 64;
    const hgt = 48;
    const chunk = (type, data) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(data.length);
        const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crc32(td) >>> 0);
        return Buffer.concat([len, td, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(w, 0);
    ihdr.writeUInt32BE(hgt, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // RGB
    const raw = Buffer.alloc(hgt * (1 + w * 3));
    for (let y = 0; y < hgt; y++) {
        const row = y * (1 + w * 3);
        for (let x = 0; x < w; x++) {
            raw[row + 1 + x * 3] = x * 4;
            raw[row + 2 + x * 3] = y * 5;
            raw[row + 3 + x * 3] = 90;
        }
    }
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a,
        0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0))]);
}

// No horizontal scroll at 320 px on the current page.
async function narrow(name) {
    await page.setViewportSize({ width: 320, height: 700 });
    const w = await page.evaluate(() =>
        document.documentElement.scrollWidth);
    check('pas de défilement horizontal à 320 px — ' + name, w <= 320,
        w + ' px');
    await page.setViewportSize({ width: 1280, height: 900 });
}

async function apiGet(url) {
    return page.evaluate(async (u) => {
        const r = await fetch(u);
        return { status: r.status, json: await r.json().catch(() => null) };
    }, url);
}

// The rows' statuses as the list shows them.
async function rowStatuses() {
    return page.locator('#dm-body tr td:nth-child(6)').allTextContents();
}

async function waitList() {
    await page.waitForFunction(() => {
        const s = document.getElementById('dm-status').textContent;
        return s && !s.startsWith('Chargement');
    });
}

// The report a resident files on /demande before the agents log in: with
// an e-mail address (the reply goes out by e-mail) and a photo.
let filed = '';
try {
    await step('une habitante signale un nid-de-poule, avec une photo',
        async () => {
            await page.goto(BASE + '/demande?c=99001');
            await page.fill('#texte', 'Bonjour, un nid-de-poule très ' +
                'profond s’est formé devant le 8 rue des Tilleuls, les ' +
                'voitures font des écarts. Photo jointe. Merci !');
            await page.fill('#objet', 'Nid-de-poule rue des Tilleuls');
            await page.setInputFiles('#photos', { name: 'trou.png',
                mimeType: 'image/png', buffer: png() });
            await page.fill('#nom', 'Lucie Moreau');
            await page.fill('#courriel', 'lucie.moreau@example.fr');
            await page.check('#accord');
            await Promise.all([
                page.waitForURL(/\/demande\/suivi\/[A-Za-z0-9_-]{43}/),
                page.click('#envoyer'),
            ]);
            const m = /(\d{4}-\d{5})/.exec(await page.textContent('main'));
            filed = m ? m[1] : '';
            check('demande déposée, numéro donné', !!filed);
        });

    await step('connexion', async () => {
        await firstLogin(page, BASE, 'admin', OTP, NEW_PASSWORD);
        check('connecté', new URL(page.url()).pathname === '/agent');
    });

    let total = 0;
    await step('la boîte de réception', async () => {
        await page.click('.bo-nav a[href="/agent/demandes"]');
        await page.waitForURL('**/agent/demandes');
        check('entrée « Demandes » du menu marquée comme page courante',
            await page.getAttribute('.bo-nav a[href="/agent/demandes"]',
                'aria-current') === 'page');
        await waitList();
        total = await page.locator('#dm-body tr').count();
        check('les demandes de la démonstration sont listées', total >= 3,
            String(total));
        check('le résultat est annoncé (zone d’état)',
            /demandes? affichées?/.test(await page.textContent(
                '#dm-status')));
        const statuses = await rowStatuses();
        const firstOther = statuses.findIndex((s) => !s.startsWith(
            'À trier'));
        const lastTri = statuses.map((s) => s.startsWith('À trier'))
            .lastIndexOf(true);
        check('« À trier » en premier', lastTri < 0 || firstOther < 0 ||
            lastTri < firstOther, statuses.join(' | '));
        check('aucune demande close dans la vue par défaut',
            statuses.every((s) => !/Résolue|Rejetée/.test(s)),
            statuses.join(' | '));
        const delays = await page.locator('#dm-body tr td:nth-child(8)')
            .allTextContents();
        check('le délai est écrit en mots (reste… / en retard de…)',
            delays.every((d) => /^(reste \d+ (min|h|j)|en retard de \d+ (min|h|j)|sans échéance)$/
                .test(d.trim())), delays.join(' | '));
        const counts = await page.textContent('#dm-counts-status');
        check('compteurs par statut', counts.includes('À trier') &&
            counts.includes('En retard'), counts);
        check('compteurs par service',
            await page.locator('#dm-counts-service li').count() >= 1);
        const urg = await page.locator('#dm-body tr td:nth-child(5)')
            .allTextContents();
        check('urgence écrite en toutes lettres', urg.every((u) =>
            /^(Normale|Prioritaire|Urgente)/.test(u.trim())),
        urg.join(' | '));
        await axe('boîte de réception');
        await page.click('#dm-refresh');
        await waitList();
        check('« Actualiser » recharge la même liste',
            await page.locator('#dm-body tr').count() === total);
    });

    await step('clavier : / puis j et x', async () => {
        await page.locator('h1').click();
        await page.keyboard.press('/');
        check('« / » mène à la recherche', await page.evaluate(() =>
            document.activeElement.id) === 'f-q');
        await page.locator('h1').click();
        await page.keyboard.press('j');
        const first = await page.evaluate(() =>
            document.activeElement.classList.contains('dm-open') &&
            document.activeElement.closest('tr') ===
                document.querySelector('#dm-body tr'));
        check('« j » met le focus sur la première demande', first);
        await page.keyboard.press('j');
        await page.keyboard.press('x');
        check('« x » sélectionne la demande',
            (await page.textContent('#dm-selected')).startsWith(
                '1 demande sélectionnée'));
        await page.keyboard.press('x');
        check('« x » à nouveau la désélectionne',
            (await page.textContent('#dm-selected')).startsWith('Aucune'));
    });

    await step('filtres', async () => {
        await page.selectOption('#f-statut', 'a_trier');
        await page.click('#dm-filters button[type="submit"]');
        await waitList();
        const st = await rowStatuses();
        check('filtre « À trier » : rien d’autre',
            st.every((s) => s.startsWith('À trier')), st.join(' | '));
        check('le filtre est gardé dans l’adresse',
            page.url().includes('statut=a_trier'));
        await page.selectOption('#f-statut', 'toutes');
        await page.fill('#f-q', 'zzzzqqqq-introuvable');
        await page.click('#dm-filters button[type="submit"]');
        await waitList();
        check('une recherche sans résultat le dit',
            (await page.textContent('#dm-status')).includes(
                'Aucune demande'));
        await page.click('#f-reset');
        await waitList();
        check('« Effacer les filtres » revient aux demandes ouvertes',
            await page.locator('#dm-body tr').count() === total);
        const caseLink = page.locator('#dm-body a.dm-case').first();
        if (await caseLink.count()) {
            const n = Number(/^(\d+)/.exec(await caseLink.textContent())[1]);
            await caseLink.click();
            await page.waitForURL(/cas=\d+/);
            await waitList();
            check('« N signalements » mène aux N demandes du dossier',
                await page.locator('#dm-body tr').count() === n &&
                await page.isVisible('#f-cas-note'));
            await page.click('#f-cas-clear');
            await waitList();
            check('« Quitter ce dossier » enlève le filtre',
                !page.url().includes('cas=') &&
                await page.isHidden('#f-cas-note'));
        } else {
            check('un dossier de plusieurs signalements dans la démo', false);
        }
        await page.click('#f-reset');
        await waitList();
    });

    await step('320 px', async () => {
        await page.setViewportSize({ width: 320, height: 700 });
        const w = await page.evaluate(() =>
            document.documentElement.scrollWidth);
        check('pas de défilement horizontal à 320 px — boîte de réception',
            w <= 320, w + ' px');
        await page.setViewportSize({ width: 1280, height: 900 });
    });

    await step('un modèle de réponse', async () => {
        await page.goto(BASE + '/agent/demandes/modeles');
        await page.waitForSelector('#tpl-edit:not([hidden])');
        await page.fill('#t-name', TPL_NAME);
        await page.fill('#t-body', TPL_BODY);
        await page.click('#t-submit');
        await page.locator('#tpl-body tr', { hasText: TPL_NAME }).waitFor();
        check('modèle ajouté à la liste', true);
        await axe('modèles de réponse');
        await narrow('modèles de réponse');
    });

    // The resident's report: it has an e-mail address (the reply goes out
    // by e-mail) and a photo.
    let target = null;
    let other = null;
    await step('ouvrir une demande', async () => {
        const list = await apiGet('/api/v1/demandes?limite=50');
        const rows = (list.json && list.json.demandes) || [];
        check('la liste de l’API répond', list.status === 200 &&
            rows.length > 0, String(list.status));
        target = rows.find((r) => r.numero === filed) || rows[0];
        check('la demande de l’habitante est dans la boîte',
            target.numero === filed, filed);
        other = rows.find((r) => r.id !== target.id &&
            (r.taille_cas || 1) === 1);
        await page.goto(BASE + '/agent/demandes');
        await waitList();
        const link = page.locator('#dm-body a.dm-open[href="/agent/demandes/' +
            target.id + '"]');
        await link.click();
        await page.waitForURL('**/agent/demandes/' + target.id);
        await page.waitForFunction(() => /^Demande \d{4}-\d+/.test(
            document.getElementById('d-title').textContent));
        check('numéro dans le titre', true);
        check('le texte de la demande est affiché',
            (await page.textContent('#d-text')).trim().length > 10);
        await page.waitForFunction(() => document.querySelector(
            '#d-why-alt li'));
        const why = await page.textContent('#d-why-summary');
        check('« Pourquoi ? » donne la confiance ou dit « À trier »',
            /confiance de \d+\s%|À trier|choisi par un agent/.test(why), why);
        const marks = await page.locator('#d-text mark').count();
        const words = await page.locator('#d-why-words mark').count();
        check('les mots qui ont pesé sont surlignés dans le texte',
            words === 0 || marks > 0, marks + ' / ' + words);
        check('raisons de l’urgence ou leur absence écrites',
            /^Urgence : (normale|prioritaire|urgente)/.test(
                await page.textContent('#d-urg-summary')));
        check('historique des décisions avec la version du modèle',
            /triage-\d+:[0-9a-f]+/.test(await page.textContent(
                '#d-decisions')));
        const hasMail = !!((target.contact || {}).courriel);
        check('l’absence de courriel de l’usager est signalée (ou non)',
            await page.isHidden('#d-no-email') === hasMail);
        check('le contact est montré à un agent',
            await page.isVisible('#d-contact-box'));
        if (target.numero === filed) {
            const img = page.locator('#d-photos img').first();
            await img.waitFor();
            check('la photo s’affiche dans la demande',
                await img.evaluate((el) => el.complete &&
                    el.naturalWidth === 64), await img.getAttribute('src'));
            check('la photo a un texte de remplacement',
                (await img.getAttribute('alt')).startsWith('Photo jointe'));
        }
        await axe('une demande');
        await narrow('une demande');
    });

    await step('corriger le service', async () => {
        const options = await page.locator('#w-service option')
            .evaluateAll((os) => os.map((o) => o.value));
        const current = await page.inputValue('#w-service');
        const next = options.find((v) => v !== '0' && v !== current);
        check('le formulaire dit que la correction apprend au modèle',
            (await page.textContent('#w-service-hint')).includes(
                'apprend au modèle'));
        await page.selectOption('#w-service', next);
        await page.click('#d-work-form button[type="submit"]');
        await page.waitForFunction(() => document.getElementById(
            'd-work-status').textContent.includes('enregistrées'));
        check('correction enregistrée, annoncée comme apprentissage',
            (await page.textContent('#d-work-status')).includes(
                'prochain entraînement'));
        check('le service choisi est gardé',
            await page.inputValue('#w-service') === next);
        check('la décision de l’agent est dans l’historique',
            (await page.textContent('#d-decisions')).includes('un agent'));
        check('« Pourquoi ? » dit que l’agent a choisi',
            (await page.textContent('#d-why-summary')).includes(
                'choisi par un agent'));
    });

    await step('note interne', async () => {
        await page.fill('#n-text', NOTE);
        await page.click('#d-note-form button[type="submit"]');
        await page.waitForFunction((n) => document.getElementById('d-thread')
            .textContent.includes(n), NOTE);
        check('la note apparaît dans le fil, marquée « Note interne »',
            (await page.locator('#d-thread li', { hasText: NOTE })
                .textContent()).includes('Note interne'));
    });

    await step('répondre avec un modèle', async () => {
        const tplId = await page.locator('#r-template option',
            { hasText: TPL_NAME }).getAttribute('value');
        await page.selectOption('#r-template', tplId);
        await page.click('#r-insert');
        const text = await page.inputValue('#r-text');
        check('le modèle est inséré, numéro remplacé',
            text.startsWith('Bonjour, votre demande ') &&
            !text.includes('{numero}'), text);
        check('la zone de texte a le focus après l’insertion',
            await page.evaluate(() => document.activeElement.id) ===
                'r-text');
        await page.fill('#r-text', text + ' Nous revenons vers vous.');
        await page.selectOption('#r-statut', 'attente');
        await page.click('#d-reply-form button[type="submit"]');
        await page.waitForFunction(() => document.getElementById(
            'd-reply-status').textContent.startsWith('Réponse'));
        if ((target.contact || {}).courriel) {
            check('la réponse part par courriel',
                (await page.textContent('#d-reply-status')).includes(
                    'par courriel'));
        }
        const reply = page.locator('#d-thread li',
            { hasText: 'Nous revenons vers vous.' });
        check('la réponse apparaît dans le fil', await visible(reply));
        check('elle est marquée « Réponse envoyée »',
            (await reply.textContent()).includes('Réponse envoyée'));
        check('le statut est passé à « En attente de l’usager »',
            (await page.textContent('#d-summary')).includes(
                'En attente de l’usager'));
    });

    await step('dossier : rattacher puis détacher', async () => {
        if (!other) {
            check('une deuxième demande existe', false);
            return;
        }
        const num = other.numero || other.number;
        await page.fill('#m-cas', num);
        await page.click('#d-merge-form button[type="submit"]');
        await page.waitForFunction(() => document.getElementById(
            'd-merge-status').textContent.includes('rattachée'));
        check('l’autre signalement est listé dans le dossier',
            (await page.textContent('#d-case')).includes(num));
        check('le résumé compte les signalements',
            /\d+ signalements/.test(await page.textContent('#d-summary')));
        await page.locator('#d-case button', { hasText: 'Détacher' })
            .first().click();
        await page.waitForFunction(() => document.getElementById(
            'd-merge-status').textContent.includes('détachée'));
        check('après « Détacher », la demande est seule',
            (await page.textContent('#d-case-summary')).includes(
                'aucune autre'));
    });

    await step('action groupée sur deux demandes', async () => {
        await page.goto(BASE + '/agent/demandes');
        await waitList();
        const boxes = page.locator('#dm-body input.dm-sel');
        const ids = [await boxes.nth(0).getAttribute('value'),
            await boxes.nth(1).getAttribute('value')];
        await boxes.nth(0).check();
        await boxes.nth(1).check();
        check('deux demandes sélectionnées', (await page.textContent(
            '#dm-selected')).startsWith('2 demandes sélectionnées'));
        await page.selectOption('#b-action', 'statut');
        await page.selectOption('#b-statut', 'en_cours');
        await page.click('#b-apply');
        await page.waitForFunction(() => document.getElementById(
            'dm-bulk-status').textContent.includes('En cours'));
        for (const id of ids) {
            const st = await page.locator('#dm-body tr[data-id="' + id +
                '"] td:nth-child(6)').textContent();
            check('demande ' + id + ' passée « En cours »',
                st.startsWith('En cours'), st);
        }
        const api2 = await apiGet('/api/v1/demandes/' + ids[1]);
        const d = api2.json && (api2.json.demande || api2.json);
        check('l’API confirme le nouveau statut',
            d && (d.statut || d.status) === 'en_cours');
    });

    await step('services : seuil d’un service', async () => {
        await page.goto(BASE + '/agent/demandes/services');
        const row = page.locator('#svc-body tr', { hasText: 'Voirie' })
            .first();
        await row.waitFor();
        check('le seuil est expliqué (« À trier »)',
            (await page.textContent('#s-threshold-hint')).includes(
                'En dessous, la demande va dans « À trier »'));
        await row.locator('button', { hasText: 'Modifier' }).click();
        check('le formulaire reprend le service',
            (await page.inputValue('#s-name')).includes('Voirie'));
        await page.fill('#s-threshold', '75');
        await page.click('#s-submit');
        await page.waitForFunction(() => document.getElementById(
            'svc-form-status').textContent.includes('enregistré'));
        check('seuil de 75 % affiché', /75\s%/.test(
            await row.textContent()), await row.textContent());
        const svc = await apiGet('/api/v1/triage/services');
        const list = (svc.json && (svc.json.services || svc.json)) || [];
        const v = list.find((s) => s.code === 'voirie');
        check('l’API garde le seuil', v && Math.abs(Number(v.seuil ??
            v.threshold) - 0.75) < 1e-9, JSON.stringify(v));
        await page.waitForFunction(() => document.querySelector(
            '#model-card dd'));
        check('carte du modèle : version',
            (await page.textContent('#model-card')).includes('Version'));
        await axe('services et modèle');
        await narrow('services et modèle');
        await page.click('#retrain');
        await page.waitForFunction(() => document.getElementById(
            'model-status').textContent.startsWith('Modèle réentraîné'),
        null, { timeout: 60000 });
        const card = await page.textContent('#model-card');
        const m = /Corrections des agents incluses\s*(\d+)/.exec(card);
        check('le modèle réentraîné compte la correction de l’agent',
            m && Number(m[1]) >= 1, card);
    });

    await step('sources de courriel', async () => {
        await page.goto(BASE + '/agent/demandes/courriel');
        await page.waitForFunction(() => document.getElementById(
            'src-status').textContent.length > 0);
        check('page des boîtes aux lettres', true);
        await narrow('boîtes aux lettres');
        await page.selectOption('#m-kind', 'maildir');
        check('pas d’identifiant ni de mot de passe pour un Maildir',
            await page.isHidden('#m-user') && await page.isHidden(
                '#m-password'));
        await page.fill('#m-location', MAILDIR);
        await page.fill('#m-period', '10');
        await page.click('#m-submit');
        const row = page.locator('#src-body tr', { hasText: MAILDIR });
        await row.waitFor();
        check('source ajoutée, jamais relevée',
            (await row.textContent()).includes('jamais'));
        await axe('boîtes aux lettres');
        await row.locator('button', { hasText: 'Relever maintenant' })
            .click();
        await page.waitForFunction(() => document.getElementById(
            'src-status').textContent.startsWith('Relevé terminé'));
        const st = await page.textContent('#src-status');
        check('relevé : une nouvelle demande', st.includes(
            '1 nouvelle(s) demande(s)'), st);
        check('la date du dernier relevé est affichée',
            !(await page.locator('#src-body tr', { hasText: MAILDIR })
                .textContent()).includes('jamais'));
        const found = await apiGet('/api/v1/demandes?q=' +
            encodeURIComponent('lampadaire') + '&statut=toutes');
        const got = (found.json && found.json.demandes) || [];
        check('le courriel est une demande de la boîte, canal courriel',
            got.some((d) => d.canal === 'courriel'), JSON.stringify(got));
    });

    // A reader (role lecteur) sees the redacted text, no contact and no
    // action.
    await step('un lecteur', async () => {
        const made = await page.evaluate(async () => {
            const s = await (await fetch('/api/v1/session')).json();
            const r = await fetch('/api/v1/agents', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json',
                    'X-CSRF-Token': s.csrf },
                body: JSON.stringify({ login: 'lecteur.demandes',
                    name: 'Lecteur des demandes', role: 'lecteur' }),
            });
            return { status: r.status, json: await r.json() };
        });
        check('lecteur créé', made.status === 201 && !!made.json.password,
            String(made.status));
        await page.click('#logout');
        await page.waitForURL('**/agent/connexion');
        await page.fill('#login', 'lecteur.demandes');
        await page.fill('#password', made.json.password);
        await page.click('button[type="submit"]');
        await page.waitForURL('**/agent/mot-de-passe');
        const pw = NEW_PASSWORD + ' en lecture';
        await page.fill('#pw-current', made.json.password);
        await page.fill('#pw-new', pw);
        await page.fill('#pw-confirm', pw);
        await page.click('#pw-form button[type="submit"]');
        await page.waitForURL(BASE + '/agent');
        await page.goto(BASE + '/agent/demandes');
        await waitList();
        check('le lecteur voit la liste', await page.locator(
            '#dm-body tr').count() > 0);
        check('pas d’action groupée pour un lecteur',
            await page.isHidden('#dm-bulk'));
        await page.goto(BASE + '/agent/demandes/' + target.id);
        await page.waitForFunction(() => /^Demande \d{4}-\d+/.test(
            document.getElementById('d-title').textContent));
        check('texte masqué annoncé', (await page.textContent(
            '#d-text-note')).includes('Texte masqué'));
        check('ni contact ni formulaires pour un lecteur',
            await page.isHidden('#d-contact-box') &&
            await page.isHidden('#d-work-box') &&
            await page.isHidden('#d-reply-box') &&
            await page.isHidden('#d-note-box'));
        await axe('une demande vue par un lecteur');
    });
} finally {
    checkClean(check, { consoleErrors, badResponses, foreign });
    await close();
    rmSync(MAILDIR, { recursive: true, force: true });
    finish();
}
