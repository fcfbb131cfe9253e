// test_kb.mjs - the knowledge base back-office in a real browser (Debian
// chromium through playwright-core), on the fresh demo instance run.sh
// starts: the « Fiches » list with the demo fiches and search, a new fiche
// written with the live preview, a save, a concurrent save answered by a
// clear conflict message that keeps the agent's text, the version history
// with restore, the synonyms page, and no console error or outside request.
// Prints "N passed, N failed"; exits 1 on any failure.

import {
    checkClean, firstLogin, launch, report, visible, watch
} from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const OTP = process.env.GUICHET_ADMIN_PASSWORD;
const NEW_PASSWORD = 'une phrase de passe pour les fiches 2026';

if (!BASE || !OTP) {
    console.error('GUICHET_URL et GUICHET_ADMIN_PASSWORD sont requis ' +
        '(lancez tests/e2e/run.sh).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();

// The conflict and the broken synonym table are provoked on purpose.
const EXPECTED_ERRORS = new Set(['PUT /api/v1/kb/fiches/{id} 409',
    'PUT /api/v1/kb/synonyms 422']);
const { context, foreign, close } = await launch();

const page = context.pages()[0] || await context.newPage();
const { consoleErrors, badResponses } = watch(page,
    (m, path, status) => EXPECTED_ERRORS.has(m + ' ' +
        path.replace(/\/L\d+(?=\/|$)/g, '/{id}') + ' ' + status));
page.on('dialog', (d) => d.accept());

const path = () => new URL(page.url()).pathname;

// A write through the API from the page, as another browser tab would.
async function apiFromPage(method, url, body) {
    return page.evaluate(async ([m, u, b]) => {
        const s = await (await fetch('/api/v1/session')).json();
        const r = await fetch(u, {
            method: m,
            headers: { 'Content-Type': 'application/json',
                'X-CSRF-Token': s.csrf },
            body: JSON.stringify(b),
        });
        return { status: r.status, json: await r.json().catch(() => null) };
    }, [method, url, body]);
}

const FICHE = '---\ntitre: Prêt de vélos électriques\n' +
    'questions: Comment emprunter un vélo ? | location de vélo\n' +
    'service: Services techniques\n' +
    'lien: Réserver | /rdv?motif=velo\n---\n' +
    'La commune prête des vélos électriques aux habitants.\n\n' +
    '## Conditions\nÊtre majeur et habiter la commune.\n';

try {
    await step('connexion', async () => {
        await firstLogin(page, BASE, 'admin', OTP, NEW_PASSWORD);
        check('connecté', path() === '/agent');
    });

    await step('liste des fiches', async () => {
        await page.click('.bo-nav a[href="/agent/fiches"]');
        await page.waitForURL('**/agent/fiches');
        await page.waitForSelector('#fiches-body tr');
        check('entrée « Fiches » marquée comme page courante',
            await page.getAttribute('.bo-nav a[href="/agent/fiches"]',
                'aria-current') === 'page');
        const rows = await page.locator('#fiches-body tr').count();
        check('les fiches de la démonstration sont listées', rows > 5,
            String(rows));
        check('compte annoncé dans une zone de statut',
            /fiche/i.test(await page.textContent('#list-status')) &&
            await page.getAttribute('#list-status', 'role') === 'status');
        check('bouton « Nouvelle fiche » visible',
            await visible(page.locator('#new-link')));
        await page.fill('#f-q', 'DECES acte');
        await page.click('#filter-form button[type="submit"]');
        await page.waitForFunction(() => document.querySelectorAll(
            '#fiches-body tr').length < 5);
        check('recherche sans accents ni majuscules',
            /décès/i.test(await page.textContent('#fiches-body')),
            await page.textContent('#fiches-body'));
    });

    await step('nouvelle fiche avec aperçu en direct', async () => {
        await page.click('#new-link');
        await page.waitForURL('**/agent/fiches/nouvelle');
        await page.waitForSelector('#preview-errors:not([hidden])');
        check('le modèle vide signale le titre manquant',
            (await page.textContent('#preview-errors')).includes('titre'));
        check('la zone de texte a une étiquette',
            await page.locator('label[for="f-markdown"]').count() === 1);
        await page.fill('#f-markdown', FICHE);
        await page.waitForFunction(() => document.querySelector(
            '#preview-html h2')?.textContent === 'Conditions');
        check('aperçu rendu (section « Conditions »)', true);
        check('aperçu sans erreur',
            await page.isHidden('#preview-errors'));
        check('champs lus affichés',
            (await page.textContent('#preview-fields'))
                .includes('Services techniques'));
        await page.fill('#f-markdown', FICHE +
            '\n<script>window.pwned = 1</script>\n');
        await page.waitForTimeout(900);
        check('aucun script exécuté depuis l’aperçu',
            await page.evaluate(() => window.pwned === undefined));
        await page.fill('#f-markdown', FICHE);
        await page.click('#save');
        await page.waitForURL(/\/agent\/fiches\/L\d+$/);
        await page.waitForSelector('#save-status:not([hidden])');
        check('enregistrée (version 1), annoncée',
            (await page.textContent('#save-status')).includes('version 1') &&
            await page.getAttribute('#save-status', 'role') === 'status');
        check('titre de page mis à jour',
            (await page.textContent('#fiche-title')) ===
            'Prêt de vélos électriques');
        check('historique : une version',
            await page.locator('#history-body tr').count() === 1);
    });

    const id = path().split('/').pop();

    await step('conflit de versions', async () => {
        // Someone else saves version 2 meanwhile.
        const r = await apiFromPage('PUT', '/api/v1/kb/fiches/' + id,
            { version: 1, markdown: FICHE.replace('majeur',
                'majeur ou accompagné') });
        check('enregistrement concurrent (version 2)', r.status === 200 &&
            r.json.version === 2, JSON.stringify(r));
        await page.fill('#f-markdown', FICHE + '\n## Tarifs\nGratuit.\n');
        await page.click('#save');
        await page.waitForSelector('#conflict-box:not([hidden])');
        const msg = await page.textContent('#conflict-text');
        check('message de conflit clair, en français',
            msg.includes('modifiée par') && msg.includes('Rechargez'), msg);
        check('le message prend le focus',
            await page.evaluate(() => document.activeElement.id ===
                'conflict-box'));
        await page.click('#conflict-load');
        await page.waitForSelector('#mine-box:not([hidden])');
        check('le texte de l’agent est gardé à part',
            (await page.textContent('#mine-text')).includes('Gratuit'));
        check('la version enregistrée est chargée',
            (await page.inputValue('#f-markdown'))
                .includes('majeur ou accompagné'));
        await page.fill('#f-markdown', (await page.inputValue('#f-markdown'))
            + '\n## Tarifs\nGratuit.\n');
        await page.click('#save');
        await page.waitForFunction(() => document.getElementById(
            'save-status').textContent.includes('version 3'));
        check('enregistrée après rechargement (version 3)', true);
    });

    await step('historique et restauration', async () => {
        await page.waitForFunction(() => document.querySelectorAll(
            '#history-body tr').length === 3);
        check('historique : trois versions', true);
        const last = page.locator('#history-body tr').last();
        await last.locator('button', { hasText: 'Voir' }).click();
        check('voir la version 1',
            (await page.textContent('#version-text')).includes('majeur') &&
            !(await page.textContent('#version-text')).includes('Tarifs'));
        await last.locator('button', { hasText: 'Restaurer' }).click();
        check('version 1 chargée dans l’éditeur',
            !(await page.inputValue('#f-markdown')).includes('Tarifs'));
        await page.click('#save');
        await page.waitForFunction(() => document.getElementById(
            'save-status').textContent.includes('version 4'));
        check('restaurée comme version 4', true);
    });

    await step('synonymes', async () => {
        await page.goto(BASE + '/agent/synonymes');
        await page.waitForFunction(() =>
            document.getElementById('f-text').value.length > 0);
        check('table de la commune chargée',
            (await page.inputValue('#f-text')).includes('|'));
        const before = await page.inputValue('#f-text');
        await page.fill('#f-text', before + '\nvelo\n');
        await page.click('#syn-form button[type="submit"]');
        await page.waitForFunction(() => document.getElementById(
            'f-text-error').textContent.trim());
        check('ligne fautive signalée sur le champ',
            (await page.textContent('#f-text-error')).includes('Ligne') &&
            await page.getAttribute('#f-text', 'aria-invalid') === 'true');
        await page.fill('#f-text', before + '\nvélo | bicyclette\n');
        await page.click('#syn-form button[type="submit"]');
        await page.waitForSelector('#syn-status:not([hidden])');
        check('table enregistrée',
            (await page.textContent('#syn-origin')).includes('propre'));
    });

    await step('suppression', async () => {
        await page.goto(BASE + '/agent/fiches/' + id);
        await page.waitForSelector('#delete:not([hidden])');
        await page.click('#delete');
        await page.waitForURL('**/agent/fiches');
        const r = await page.request.get(BASE + '/api/v1/kb/fiches/' + id);
        check('fiche supprimée (404)', r.status() === 404,
            String(r.status()));
        EXPECTED_ERRORS.add('GET /api/v1/kb/fiches/{id} 404');
    });

    checkClean(check, { consoleErrors, badResponses, foreign });
} finally {
    await close();
}

finish();
