// test_formation.mjs - the training workspace in a real browser (Debian
// chromium through playwright-core) on the fresh demo instance run.sh
// starts: an agent (the demo's admin) opens « Formation », enters the
// sandbox (created and seeded on the spot), sees the sandbox banner on
// the back-office pages, launches a routing scenario, routes the request
// on the REAL inbox page of the sandbox (service and urgency), comes back
// and verifies, reads the item-by-item feedback, answers a module's quiz,
// leaves the sandbox through the banner, and checks that the real
// commune's inbox never saw the request. axe-core (WCAG 2.1 A/AA) on each
// page: no serious or critical violation. No console error, no
// unexpected HTTP error, no outside request.
// Prints "N passed, N failed"; exits 1 on any failure.

import {
    axeChecker, checkClean, firstLogin, launch, report, visible, watch
} from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const OTP = process.env.GUICHET_ADMIN_PASSWORD;
const NEW_PASSWORD = 'une phrase de passe pour la formation 2026';
const SCENARIO = 'demande-fuite-eau';
const WORD = 'jaillit'; // a word of the scenario's request only

if (!BASE || !OTP) {
    console.error('GUICHET_URL et GUICHET_ADMIN_PASSWORD sont requis ' +
        '(lancez tests/e2e/run.sh … test_formation.mjs).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();

const axeCheck = axeChecker(check);

const { context, foreign, close } = await launch();
// Entering seeds the sandbox (fiches, appointments, inbox, forecasts,
// monitoring): seconds, more under the sanitizers.
context.setDefaultTimeout(60000);
const page = context.pages()[0] || await context.newPage();
const { consoleErrors, badResponses } = watch(page);

async function axe(name) {
    await axeCheck(page, name);
}

// The session's requests matching WORD, through the API (same origin,
// the session cookie): what the inbox of the active commune holds.
async function inboxCount() {
    return page.evaluate(async (w) => {
        const r = await fetch('/api/v1/demandes?statut=toutes&q=' + w);
        const j = await r.json();
        return j.demandes.length;
    }, WORD);
}

async function activeCommune() {
    return page.evaluate(async () => {
        const r = await fetch('/api/v1/session');
        return (await r.json()).commune.insee;
    });
}

let realBefore = -1;

try {
    await step('connexion', async () => {
        await firstLogin(page, BASE, 'admin', OTP, NEW_PASSWORD);
        check('connecté', new URL(page.url()).pathname === '/agent');
        realBefore = await inboxCount();
        check('la vraie commune n’a pas la demande du scénario',
            realBefore === 0, String(realBefore));
        check('le bandeau du bac à sable est caché dans la vraie commune',
            !(await page.isVisible('#sandbox-banner')));
    });

    await step('la page Formation', async () => {
        await page.click('.bo-nav a[href="/agent/formation"]');
        await page.waitForURL(BASE + '/agent/formation');
        check('titre', (await page.textContent('h1')).trim() === 'Formation');
        const body = await page.textContent('main');
        check('les modules', body.includes('Ce que l’IA fait'));
        check('les scénarios', body.includes('De l’eau qui jaillit'));
        check('le suivi pour l’administrateur',
            await page.isVisible('a[href="/agent/formation/suivi"]'));
        await axe('formation');
    });

    await step('entrer dans le bac à sable', async () => {
        await page.click('button:has-text("Entrer dans le bac à sable")');
        await page.waitForURL('**/agent/formation?fait=entree');
        check('message d’entrée',
            (await page.textContent('#formation-message'))
                .includes('Vous êtes dans le bac à sable'));
        check('bandeau affiché', await visible(page.locator('#sandbox-banner'),
            10000));
        check('le bandeau le dit en mots',
            (await page.textContent('#sandbox-banner')).includes(
                'Bac à sable de formation : rien de ce que vous faites ici ' +
                'ne touche les vraies données'));
        check('commune active : un bac à sable (999xx)',
            /^999\d\d$/.test(await activeCommune()));
        // Seeded in the background: the page says so, then reloads itself.
        const preparing = await page.isVisible('#preparation');
        if (preparing) {
            await axe('formation, bac à sable en préparation');
        }
        await page.waitForSelector('#preparation',
            { state: 'detached', timeout: 120000 });
        check('bac à sable prêt, page actualisée d’elle-même',
            await page.isVisible(
                'button:has-text("Réinitialiser le bac à sable")'));
        await axe('formation, dans le bac à sable');
    });

    let requestHref = '';
    await step('lancer un scénario d’orientation', async () => {
        await page.click('a[href="/agent/formation/scenarios/' + SCENARIO +
            '"]');
        await page.waitForURL('**/scenarios/' + SCENARIO);
        check('le contexte et les consignes',
            (await page.textContent('main')).includes('Consignes'));
        await axe('scénario');
        await page.click('button:has-text("Lancer le scénario")');
        await page.waitForURL('**/scenarios/' + SCENARIO + '?fait=lance*');
        check('l’essai en cours', await page.isVisible('#essai'));
        const link = page.locator('#essai a:has-text("Ouvrir la demande")');
        requestHref = await link.getAttribute('href');
        check('un lien vers la demande sur la vraie page',
            /^\/agent\/demandes\/\d+$/.test(requestHref || ''), requestHref);
        await axe('scénario lancé');
    });

    await step('orienter la demande sur la page de la boîte', async () => {
        await page.goto(BASE + requestHref);
        check('le bandeau sur la page des demandes',
            await visible(page.locator('#sandbox-banner'), 10000));
        await visible(page.locator('#d-work-box'), 15000);
        const svc = page.locator('#w-service');
        await svc.locator('option', { hasText: 'Eau et assainissement' })
            .first().waitFor({ state: 'attached' });
        const value = await svc.locator('option',
            { hasText: 'Eau et assainissement' }).first()
            .getAttribute('value');
        await svc.selectOption(value);
        await page.selectOption('#w-urgence', '2');
        await page.click('#d-work-form button[type="submit"]');
        await page.waitForFunction(() =>
            (document.getElementById('d-work-status').textContent || '')
                .trim().length > 0);
        check('enregistré', !(await page.getAttribute('#d-work-status',
            'class')).includes('alert-error'),
            await page.textContent('#d-work-status'));
        await axe('demande du bac à sable');
    });

    await step('vérifier et lire les retours', async () => {
        await page.goto(BASE + '/agent/formation/scenarios/' + SCENARIO);
        await page.click('#essai button:has-text("Vérifier")');
        await page.waitForURL('**?fait=verifie*');
        const fb = await page.textContent('#retours');
        check('réussi', fb.includes('Réussi'), fb.slice(0, 200));
        check('2 points sur 2', fb.includes('2 points sur 2'));
        check('le service attendu', fb.includes('Eau et assainissement'));
        check('l’urgence attendue', fb.includes('Urgente'));
        check('la proposition de l’IA', fb.includes('L’IA proposait'));
        check('le traitement attendu expliqué',
            fb.includes('Le traitement attendu'));
        await axe('retours');
    });

    await step('un module et son questionnaire', async () => {
        await page.goto(BASE + '/agent/formation/modules/reprendre-la-main');
        await axe('module');
        for (let i = 0; i < 4; i++) {
            await page.check('#q-' + i + '-0');
        }
        await page.click('button:has-text("Valider mes réponses")');
        await page.waitForSelector('#resultat');
        const res = await page.textContent('#resultat');
        check('module validé', res.includes('Réussi') &&
            res.includes('4 bonnes réponses sur 4'), res.slice(0, 200));
        await axe('résultat du questionnaire');
    });

    await step('revenir à ma commune par le bandeau', async () => {
        await page.goto(BASE + '/agent/demandes');
        await visible(page.locator('#sandbox-banner'), 10000);
        await page.click('#sandbox-leave');
        await page.waitForURL('**/agent/formation?fait=sortie');
        check('revenu', (await activeCommune()) === '99001');
        check('plus de bandeau', !(await visible(
            page.locator('#sandbox-banner'), 1000)));
    });

    await step('la vraie boîte des demandes est intacte', async () => {
        const after = await inboxCount();
        check('aucune demande du scénario dans la vraie commune',
            after === realBefore, String(after));
        await page.goto(BASE + '/agent/demandes');
        await page.waitForSelector('table');
        const text = await page.textContent('main');
        check('la page de la vraie boîte ne la montre pas',
            !text.includes('jaillit'));
    });

    await step('le suivi de l’administrateur', async () => {
        await page.goto(BASE + '/agent/formation/suivi');
        const t = await page.textContent('main');
        check('une ligne pour l’administrateur', t.includes('admin'));
        check('un module validé', t.includes('1 sur 4'));
        check('un scénario réussi', /1 sur 1[0-9]/.test(t));
        await axe('suivi');
    });
} finally {
    checkClean(check, { consoleErrors, badResponses, foreign });
    await close();
    finish();
}
