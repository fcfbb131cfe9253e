// test_surveillance.mjs - the monitoring pages in a real browser (Debian
// chromium through playwright-core) on the fresh demo instance run.sh
// starts (its demo commune has a reservoir with a night leak, a pump whose
// current shifted and a school boiler stuck at night, four weeks through
// the detectors, so alerts are open): an agent logs in, reads the assets
// and the open alerts, opens the leak's alert (its explanation, the chart
// with its text alternative and data table), acknowledges it with a
// comment, creates the prefilled maintenance ticket, resolves the alert,
// and opens an asset (charts, settings), then declares a new asset and
// its sensor through the forms. axe-core (WCAG 2.1 A/AA) on each
// page: no serious or critical violation. No console error, no
// unexpected HTTP error, no outside request.
// Prints "N passed, N failed"; exits 1 on any failure.

import {
    axeChecker, checkClean, firstLogin, launch, report, watch
} from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const OTP = process.env.GUICHET_ADMIN_PASSWORD;
const NEW_PASSWORD = 'une phrase de passe pour la surveillance 2026';

if (!BASE || !OTP) {
    console.error('GUICHET_URL et GUICHET_ADMIN_PASSWORD sont requis ' +
        '(lancez tests/e2e/run.sh … test_surveillance.mjs).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();

const axeCheck = axeChecker(check);

// The new-asset form sent without a name on purpose answers 400 with the
// page and its errors (checked in the step).
const expected400 = new Set(['/agent/surveillance/equipements']);
const { context, foreign, close } = await launch();
const page = context.pages()[0] || await context.newPage();
const { consoleErrors, badResponses } = watch(page,
    (m, path, status) => status === 400 && expected400.has(path));

async function axe(name) {
    await axeCheck(page, name);
}

let alertUrl = '';

try {
    await step('connexion', async () => {
        await firstLogin(page, BASE, 'admin', OTP, NEW_PASSWORD);
        check('connecté', new URL(page.url()).pathname === '/agent');
    });

    await step('la liste des équipements', async () => {
        await page.click('.bo-nav a[href="/agent/surveillance"]');
        await page.waitForURL(BASE + '/agent/surveillance');
        check('le menu mène à la surveillance',
            (await page.textContent('h1')).includes('Surveillance'));
        const text = await page.textContent('table.mon-assets');
        for (const name of ['Réservoir des Hauts',
            'Pompe de relevage du Port', 'Chaudière de l’école Jules-Ferry']) {
            check('équipement listé : ' + name, text.includes(name));
        }
        check('un état en mots, pas seulement en couleur',
            text.includes('Alerte'));
        check('la dernière mesure avec son unité', text.includes('m³/h'));
        const alerts = page.locator('table.mon-alerts tbody tr');
        check('des alertes en cours', await alerts.count() >= 2,
            String(await alerts.count()));
        await axe('liste des équipements');
    });

    await step('l’alerte de la fuite : explication et graphique', async () => {
        const leak = page.locator('table.mon-alerts tbody tr', {
            hasText: 'Débit minimum de nuit' }).first();
        await leak.locator('a').first().click();
        await page.waitForSelector('svg.mon-chart');
        alertUrl = page.url().split('?')[0];
        const why = await page.textContent('#explication');
        check('l’explication nomme le capteur', why.includes('Débit sortant'),
            why);
        const terms = await page.textContent('.mon-terms');
        check('détecteur, valeur et attendu',
            terms.includes('Débit minimum de nuit') &&
            terms.includes('Valeur attendue') && terms.includes('m³/h'),
            terms);
        const svg = page.locator('svg.mon-chart');
        check('le graphique est une image accessible',
            await svg.getAttribute('role') === 'img');
        const desc = await page.textContent('#alerte-desc');
        check('son texte de remplacement résume les mesures',
            desc.includes('mesures') && desc.includes('anormal'), desc);
        await page.click('details.mon-data summary');
        check('un tableau des données du graphique',
            await page.locator('details.mon-data tbody tr').count() > 24);
        check('le suivi dit quand elle s’est ouverte',
            (await page.textContent('#suivi')).includes('Ouverte le'));
        await axe('page d’une alerte');
    });

    await step('acquitter', async () => {
        await page.fill('#acquitter-commentaire', 'Équipe prévenue');
        await page.click('form[action$="/acquitter"] button');
        await page.waitForURL('**?fait=acquittee');
        check('la page le dit',
            (await page.textContent('#mon-message')).includes('acquittée'));
        check('le suivi nomme qui a acquitté',
            (await page.textContent('#suivi')).includes('Acquittée le'));
    });

    await step('créer le ticket de maintenance', async () => {
        await page.click('#creer-ticket');
        await page.waitForSelector('#t-titre');
        const title = await page.inputValue('#t-titre');
        check('le titre est prérempli d’après l’alerte',
            title.includes('alerte n°'), title);
        const body = await page.inputValue('#t-texte');
        check('le texte reprend l’explication', body.includes('Débit'), body);
        await axe('nouveau ticket');
        await page.click('form[action="/agent/surveillance/tickets"] button');
        await page.waitForURL('**?fait=cree');
        check('le ticket est créé',
            (await page.textContent('#mon-message')).includes('Ticket créé'));
    });

    await step('résoudre', async () => {
        await page.goto(alertUrl);
        check('l’alerte montre son ticket',
            (await page.textContent('main')).includes('Tickets liés'));
        await page.fill('#resoudre-commentaire', 'Fuite réparée rue des Lilas');
        await page.check('#resoudre-verdict-reelle');
        await page.click('form[action$="/resoudre"] button');
        await page.waitForURL('**?fait=resolue');
        const suivi = await page.textContent('#suivi');
        check('le suivi dit qu’elle est résolue, et ce que l’agent a constaté',
            suivi.includes('Résolue le') && suivi.includes('Problème réel'),
            suivi);
        check('plus d’action sur une alerte résolue',
            await page.locator('form[action$="/resoudre"]').count() === 0);
    });

    await step('un équipement : graphiques et réglages', async () => {
        await page.goto(BASE + '/agent/surveillance');
        await page.click('table.mon-assets a:has-text("Réservoir des Hauts")');
        await page.waitForSelector('svg.mon-chart');
        check('un graphique par capteur',
            await page.locator('svg.mon-chart').count() === 2);
        check('la sensibilité en mots',
            await page.locator('#r-sensibilite option[value="vigilante"]')
                .count() === 1);
        await axe('page d’un équipement');
    });

    await step('déclarer un équipement et son capteur', async () => {
        await page.goto(BASE + '/agent/surveillance');
        await page.click('a:has-text("Nouvel équipement")');
        await page.waitForSelector('#r-nom');
        await axe('nouvel équipement');
        // An empty name: the error summary takes the focus, nothing saved.
        await page.selectOption('#r-type', 'chaudiere');
        await page.click('form[action="/agent/surveillance/equipements"] button');
        await page.waitForSelector('#reglages-erreurs');
        check('l’erreur est annoncée et prend le focus',
            await page.evaluate(() =>
                document.activeElement?.id === 'reglages-erreurs'));
        check('le type choisi reste',
            await page.inputValue('#r-type') === 'chaudiere');
        await page.fill('#r-nom', 'Chaudière de la salle des fêtes');
        await page.fill('#r-site', 'Place de la Mairie');
        await page.click('form[action="/agent/surveillance/equipements"] button');
        await page.waitForURL('**?fait=cree#nouveau-capteur');
        check('la page dit que l’équipement est créé',
            (await page.textContent('#mon-message')).includes('Équipement créé'));
        await axe('équipement sans capteur');
        await page.fill('#r-cnom', 'Température de départ');
        await page.fill('#r-code', 'salle-fetes-depart');
        await page.selectOption('#r-grandeur', 'temperature');
        await page.fill('#r-unite', '°C');
        await page.click('form[action$="/capteurs"] button');
        await page.waitForURL('**?fait=capteur#capteur-*');
        check('le capteur est ajouté',
            (await page.textContent('#mon-message')).includes('Capteur ajouté'));
        check('son code est montré',
            (await page.textContent('main')).includes('salle-fetes-depart'));
        await page.goto(BASE + '/agent/surveillance');
        check('la liste le montre, sans mesure encore',
            (await page.textContent('table.mon-assets'))
                .includes('Chaudière de la salle des fêtes'));
    });
} finally {
    checkClean(check, { consoleErrors, badResponses, foreign });
    await close();
}
finish();
