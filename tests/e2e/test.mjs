// test.mjs - Guichet in a real browser (Debian chromium driven by
// playwright-core). Started by run.sh, which provides a fresh demo
// instance: GUICHET_URL, GUICHET_ADMIN_PASSWORD (one-time), CHROMIUM,
// E2E_PROFILE_DIR. Prints "N passed, N failed"; exits 1 on any failure.

import { checkClean, launch, report, visible, watch } from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const OTP = process.env.GUICHET_ADMIN_PASSWORD;
const COMMUNE = 'Saint-Exemple-sur-Loire';
const NEW_PASSWORD = 'une phrase de passe bien longue 2026';
const AGENT_LOGIN = 'marie.test';

if (!BASE || !OTP) {
    console.error('GUICHET_URL et GUICHET_ADMIN_PASSWORD sont requis ' +
        '(lancez tests/e2e/run.sh).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();

// HTTP errors the test provokes on purpose; any other is a failure.
const EXPECTED_ERRORS = new Set([
    'GET /c/{id} 404',
    'POST /api/v1/session 401',
    'PATCH /api/v1/agents/{id} 403',
]);
const { context, foreign, close } = await launch();

const page = context.pages()[0] || await context.newPage();
const { consoleErrors, badResponses } = watch(page,
    (m, path, status) => EXPECTED_ERRORS.has(m + ' ' +
        path.replace(/\/\d+(?=\/|$)/g, '/{id}') + ' ' + status));

const path = () => new URL(page.url()).pathname;

try {
    // ----- public portal -----
    await step('portail', async () => {
        const r = await page.goto(BASE + '/');
        check('GET / répond 200', r.status() === 200, String(r.status()));
        check('lang="fr"',
            await page.getAttribute('html', 'lang') === 'fr');
        check('nom de la commune dans le titre principal',
            (await page.textContent('h1')).includes(COMMUNE));
        const skip = page.locator('a.skip');
        check('lien d’évitement « Aller au contenu »',
            (await skip.textContent()).trim() === 'Aller au contenu' &&
            await skip.getAttribute('href') === '#contenu');
        await page.keyboard.press('Tab');
        check('le lien d’évitement reçoit le premier focus',
            await page.evaluate(() =>
                document.activeElement.classList.contains('skip')));
        check('zones header, nav, main, footer',
            await page.locator('header').count() > 0 &&
            await page.locator('nav').count() > 0 &&
            await page.locator('main#contenu').count() === 1 &&
            await page.locator('footer').count() > 0);
        const body = await page.textContent('main');
        check('trois services proposés',
            body.includes('Poser une question') &&
            body.includes('Prendre rendez-vous') &&
            body.includes('Faire une demande ou un signalement'));
        check('lien vers l’espace agents',
            await page.locator('footer a[href="/agent"]').count() === 1);
    });

    await step('portail à 320 px', async () => {
        await page.setViewportSize({ width: 320, height: 640 });
        await page.goto(BASE + '/');
        const w = await page.evaluate(() =>
            document.documentElement.scrollWidth);
        check('pas de défilement horizontal à 320 px', w <= 320, w + ' px');
        await page.setViewportSize({ width: 1280, height: 900 });
    });

    await step('commune inconnue', async () => {
        const r = await page.goto(BASE + '/c/12345');
        check('GET /c/12345 répond 404', r.status() === 404,
            String(r.status()));
        check('page 404 en français',
            (await page.textContent('main')).includes('Commune inconnue'));
        const api = await page.request.get(BASE + '/api/v1/communes/12345');
        const p = await api.json();
        check('API : commune inconnue -> 404 problem+json',
            api.status() === 404 &&
            p.detail === 'Commune inconnue : 12345.', JSON.stringify(p));
        const ok = await page.request.get(BASE + '/api/v1/communes/99001');
        check('API : commune de démonstration',
            ok.status() === 200 && (await ok.json()).name === COMMUNE);
    });

    // ----- back-office -----
    await step('redirection vers la connexion', async () => {
        await page.goto(BASE + '/agent');
        check('/agent sans session -> /agent/connexion',
            path() === '/agent/connexion', page.url());
        check('formulaire de connexion étiqueté',
            await page.locator('label[for="login"]').count() === 1 &&
            await page.locator('label[for="password"]').count() === 1);
    });

    await step('mauvais mot de passe', async () => {
        await page.fill('#login', 'admin');
        await page.fill('#password', 'pas-le-bon-mot-de-passe');
        await page.click('button[type="submit"]');
        await page.waitForFunction(() =>
            document.getElementById('login-error').textContent.trim());
        check('message d’erreur affiché et relié au champ',
            await page.getAttribute('#password', 'aria-describedby') ===
            'login-error' && path() === '/agent/connexion');
    });

    await step('connexion au clavier', async () => {
        await page.goto(BASE + '/agent/connexion');
        await page.focus('#login');
        await page.keyboard.type('admin');
        await page.keyboard.press('Tab');
        await page.keyboard.type(OTP);
        await page.keyboard.press('Enter');
        await page.waitForURL('**/agent/mot-de-passe');
        // The notice shows once the page's script has read the session.
        check('changement de mot de passe imposé',
            await visible(page.locator('#must-change')));
    });

    await step('tentative de contourner le changement', async () => {
        await page.goto(BASE + '/agent');
        await page.waitForURL('**/agent/mot-de-passe');
        check('/agent renvoie vers /agent/mot-de-passe', true);
    });

    await step('changement du mot de passe', async () => {
        await page.fill('#pw-current', OTP);
        await page.fill('#pw-new', 'court');
        await page.fill('#pw-confirm', 'court');
        await page.click('#pw-form button[type="submit"]');
        check('mot de passe trop court refusé, erreur sur le champ',
            await page.getAttribute('#pw-new', 'aria-invalid') === 'true' &&
            (await page.textContent('#pw-new-error')).includes('12'));
        await page.fill('#pw-new', NEW_PASSWORD);
        await page.fill('#pw-confirm', NEW_PASSWORD);
        await page.click('#pw-form button[type="submit"]');
        await page.waitForURL(BASE + '/agent');
        await page.waitForFunction(() =>
            document.getElementById('dash-commune').textContent !== '—');
        check('tableau de bord avec le nom de la commune',
            (await page.textContent('#dash-commune')).includes(COMMUNE));
        check('rôle administrateur affiché',
            (await page.textContent('#dash-role')) === 'Administrateur');
        check('menu Administration visible',
            await visible(page.locator('#nav-admin')));
    });

    await step('création d’un agent', async () => {
        await page.click('.bo-nav a[href="/agent/utilisateurs"]');
        await page.waitForURL('**/agent/utilisateurs');
        await page.waitForSelector('#agents-body tr');
        await page.fill('#c-login', AGENT_LOGIN);
        await page.fill('#c-name', 'Marie Test');
        await page.selectOption('#c-role', 'agent');
        await page.click('#create-form button[type="submit"]');
        await page.waitForSelector('#otp-box:not([hidden])');
        const otp = (await page.textContent('#otp-value')).trim();
        check('mot de passe à usage unique affiché', otp.length >= 12, otp);
        await page.waitForFunction((l) => document.getElementById(
            'agents-body').textContent.includes(l), AGENT_LOGIN);
        check('nouvel agent dans la liste', true);
        // The last admin cannot demote themself.
        const adminRow = page.locator('#agents-body tr',
            { hasText: '(vous)' });
        await adminRow.locator('select').selectOption('agent');
        await adminRow.locator('button', { hasText: 'Modifier' }).click();
        await page.waitForFunction(() =>
            document.getElementById('page-status').textContent.trim());
        check('le dernier administrateur ne peut pas se rétrograder',
            (await page.textContent('#page-status'))
                .includes('dernier administrateur'));
    });

    await step('journal d’audit', async () => {
        await page.click('.bo-nav a[href="/agent/journal"]');
        await page.waitForURL('**/agent/journal');
        await page.waitForSelector('#journal-body tr');
        const text = await page.textContent('#journal-body');
        check('journal : connexion réussie', /login\.ok/.test(text), text
            .slice(0, 200));
        check('journal : création d’agent', text.includes('user.create'));
        check('journal : changement de mot de passe',
            text.includes('password.change'));
        const csv = await page.request.get(BASE + '/api/v1/audit.csv');
        const bytes = await csv.body();
        check('export CSV avec BOM et en-têtes français',
            csv.status() === 200 && bytes[0] === 0xEF &&
            bytes.toString('utf8').includes(
                'date;commune;acteur;action;cible;détail;requête'));
    });

    await step('déconnexion', async () => {
        await page.click('#logout');
        await page.waitForURL('**/agent/connexion');
        check('retour à la page de connexion', true);
        await page.goto(BASE + '/agent');
        check('session fermée', path() === '/agent/connexion', page.url());
    });

    checkClean(check, { consoleErrors, badResponses, foreign });
} finally {
    await close();
}

finish();
