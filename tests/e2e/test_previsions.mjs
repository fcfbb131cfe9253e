// test_previsions.mjs - the forecast pages in a real browser (Debian
// chromium through playwright-core) on the fresh demo instance run.sh
// starts (its demo commune has three canteens and a reservoir, fitted at
// init, with a leak that opened an alert): an agent logs in, reads the
// list of series and the open alert, opens a canteen (the SVG chart with
// its text alternative and its line styles, the week ahead, the backtest
// table), changes the risk with the GET form and sees the orders move,
// downloads the CSV and the XLSX, gets a settings error then saves,
// types the day's meals with an error then right, marks the alert as
// seen and refits the commune. axe-core (WCAG 2.1 A/AA) on each page: no
// serious or critical violation. No console error, no unexpected HTTP
// error (the two 400s of forms sent wrong on purpose are expected), no
// outside request.
// Prints "N passed, N failed"; exits 1 on any failure.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
    axeChecker, checkClean, firstLogin, launch, report, watch
} from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const OTP = process.env.GUICHET_ADMIN_PASSWORD;
const NEW_PASSWORD = 'une phrase de passe pour les prévisions 2026';

if (!BASE || !OTP) {
    console.error('GUICHET_URL et GUICHET_ADMIN_PASSWORD sont requis ' +
        '(lancez tests/e2e/run.sh … test_previsions.mjs).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();

const axeCheck = axeChecker(check);

// Forms sent wrong on purpose answer 400 with the page and its errors.
const expected400 = new Set(['/agent/previsions/saisie']);
const { context, foreign, close } = await launch();
const page = context.pages()[0] || await context.newPage();
const { consoleErrors, badResponses } = watch(page,
    (m, path, status) => status === 400 && (expected400.has(path) ||
        /^\/agent\/previsions\/\d+\/reglages$/.test(path)));

async function axe(name) {
    await axeCheck(page, name);
}

// « 1 003 » (narrow no-break spaces) -> 1003
function frInt(s) {
    return Number(String(s).replace(/[\s\u202f\u00a0]/g, '')
        .replace(',', '.'));
}

let seriesUrl = '';

try {
    await step('connexion', async () => {
        await firstLogin(page, BASE, 'admin', OTP, NEW_PASSWORD);
        check('connecté', new URL(page.url()).pathname === '/agent');
    });

    await step('la liste des séries', async () => {
        await page.click('.bo-nav a[href="/agent/previsions"]');
        await page.waitForURL(BASE + '/agent/previsions');
        check('le menu mène aux prévisions',
            (await page.textContent('h1')).includes('Prévisions'));
        const rows = page.locator('table.fc-series tbody tr');
        check('quatre séries de démonstration', await rows.count() === 4,
            String(await rows.count()));
        const text = await page.textContent('table.fc-series');
        for (const name of ['Cantine Jules-Ferry', 'Cantine Pasteur',
            'Restaurant scolaire des Lilas',
            'Consommation d’eau – réservoir']) {
            check('série listée : ' + name, text.includes(name));
        }
        const jf = rows.filter({ hasText: 'Cantine Jules-Ferry' });
        const cells = await jf.locator('td').allTextContents();
        check('dernier relevé et prochaine prévision en repas',
            cells[2].includes('repas') && cells[3].includes('repas'),
            cells.join(' | '));
        check('une commande recommandée pour la cantine',
            /\d+\s*repas/.test(cells[4]), cells[4]);
        const alert = page.locator('table.fc-alerts tbody tr');
        check('la fuite de la démonstration est une alerte ouverte',
            await alert.count() === 1 &&
            (await alert.first().textContent()).includes('réservoir'));
        await axe('liste des séries');
    });

    await step('une cantine : graphique, semaine, essai', async () => {
        await page.click('table.fc-series a:has-text("Cantine Jules-Ferry")');
        await page.waitForSelector('svg.fc-chart');
        seriesUrl = page.url().split('?')[0];
        const svg = page.locator('svg.fc-chart');
        check('le graphique est une image accessible',
            await svg.getAttribute('role') === 'img');
        const desc = await page.textContent('#fc-chart-desc');
        check('son résumé dit le réel et la prévision',
            desc.includes('Réel sur') && desc.includes('Prévision médiane'),
            desc);
        check('son titre nomme la série',
            (await page.textContent('#fc-chart-titre'))
                .includes('Cantine Jules-Ferry'));
        check('réel en trait plein, prévision en tirets, agents en ' +
            'pointillés', await page.locator(
            'svg.fc-chart polyline:not([stroke-dasharray])').count() === 1 &&
            await page.locator(
                'svg.fc-chart polyline[stroke-dasharray="8 5"]').count() ===
            1 && await page.locator(
            'svg.fc-chart polyline[stroke-dasharray="2 4"]').count() === 1);
        check('ronds, carrés et triangles pour les points',
            await page.locator('svg.fc-chart circle').count() > 10 &&
            await page.locator('svg.fc-chart rect').count() > 3 &&
            await page.locator('svg.fc-chart polygon').count() > 10);
        check('l’intervalle est hachuré',
            await page.locator('svg.fc-chart polygon[fill="url(#fc-hatch)"]')
                .count() === 1);
        check('une légende avec les styles de trait',
            (await svg.textContent()).includes('tirets, carrés'));
        check('les données du graphique dans un tableau',
            await page.locator('details.fc-data tbody tr').count() > 50);
        const week = page.locator('#fc-semaine tbody tr');
        check('la semaine à venir : sept jours', await week.count() === 7);
        check('des commandes recommandées',
            await page.locator('#fc-semaine td.fc-order')
                .filter({ hasText: /\d/ }).count() >= 3);
        check('la grève annoncée est dans le calendrier',
            (await page.textContent('#fc-semaine')).includes('Grève'));
        check('la méthode retenue est dite et expliquée',
            (await page.textContent('.fc-why')).includes('Méthode retenue') &&
            (await page.textContent('table.fc-backtest'))
                .includes('(retenue)'));
        check('la prévision des agents est dans l’essai',
            (await page.textContent('table.fc-backtest'))
                .includes('Prévision des agents'));
        await page.click('details.pourquoi summary');
        const why = await page.textContent('details.pourquoi');
        check('« Pourquoi ? » des commandes : méthode, risque, erreurs ' +
            'passées, date du calcul', why.includes('Méthode retenue') &&
            why.includes('jours courts') &&
            why.includes('derniers jours testés') && why.includes('Date'),
            why.slice(0, 400));
        await axe('page d’une série');
    });

    await step('jours particuliers : une fermeture déclarée puis supprimée',
        async () => {
        await page.goto(seriesUrl);
        const day = new Date(Date.now() + 9 * 86400000).toISOString()
            .slice(0, 10);
        const label = 'Fermeture exceptionnelle (essai)';
        await page.fill('#j-du', day);
        await page.selectOption('#j-type', 'fermeture');
        await page.fill('#j-libelle', label);
        await Promise.all([page.waitForURL(/fait=jours#jours/),
            page.click('#jours form[action$="/jours"] button[type="submit"]')]);
        check('la fermeture est annoncée enregistrée',
            (await page.textContent('#fc-message'))
                .includes('Jours particuliers enregistrés'));
        const row = page.locator('#fc-jours tbody tr', { hasText: label });
        check('elle est listée avec son type, pour cette série',
            await row.count() === 1 &&
            (await row.textContent()).includes('Fermeture (aucun service)') &&
            (await row.textContent()).includes('Cette série'));
        await axe('jours particuliers');
        await Promise.all([page.waitForURL(/fait=jours-supprimes/),
            row.locator('button').click()]);
        check('supprimée, elle n’est plus listée',
            await page.locator('#fc-jours tbody tr', { hasText: label })
                .count() === 0);
    });

    await step('le choix du risque change les commandes', async () => {
        const before = frInt(await page.textContent('#fc-total'));
        await page.selectOption('#risque', '1/50');
        await page.click('#fc-risque button[type="submit"]');
        await page.waitForURL(/risque=1%2F50/);
        const safer = frInt(await page.textContent('#fc-total'));
        check('1 jour court sur 50 : plus de repas commandés',
            safer > before, before + ' -> ' + safer);
        check('la légende du tableau suit le risque',
            (await page.textContent('#fc-semaine caption'))
                .includes('1 jour court sur 50'));
        await page.selectOption('#risque', '1/3');
        await page.click('#fc-risque button[type="submit"]');
        await page.waitForURL(/risque=1%2F3/);
        const bolder = frInt(await page.textContent('#fc-total'));
        check('1 jour court sur 3 : moins de repas commandés',
            bolder < before, before + ' -> ' + bolder);
        // The page is whole as the server sends it: no script needed.
        const raw = await (await page.request.get(seriesUrl +
            '?risque=1%2F5')).text();
        check('sans script : le graphique, la semaine et les commandes ' +
            'sont dans le HTML', raw.includes('<svg class="fc-chart"') &&
            raw.includes('id="fc-total"') &&
            raw.includes('au plus 1 jour court sur 5</caption>'));
    });

    await step('téléchargements CSV et XLSX', async () => {
        const [csv] = await Promise.all([
            page.waitForEvent('download'),
            page.click('a:has-text("Télécharger (CSV)")'),
        ]);
        const csvText = readFileSync(await csv.path(), 'utf8');
        check('CSV : BOM et séparateur point-virgule',
            csvText.charCodeAt(0) === 0xfeff &&
            csvText.includes('Date;Jour;Calendrier;Réel (repas)'));
        check('CSV : décimales à la française et dates jj/mm/aaaa',
            /\d,\d/.test(csvText) && /\n\d\d\/\d\d\/\d{4};/.test(csvText));
        check('CSV : le nom de fichier',
            csv.suggestedFilename() ===
            'previsions-cantine-jules-ferry.csv', csv.suggestedFilename());
        const [xlsx] = await Promise.all([
            page.waitForEvent('download'),
            page.click('a:has-text("Télécharger (XLSX)")'),
        ]);
        const path = await xlsx.path();
        const bytes = readFileSync(path);
        check('XLSX : une archive zip',
            bytes[0] === 0x50 && bytes[1] === 0x4b);
        let names = '';
        try {
            names = execFileSync('/usr/bin/python3', ['-c',
                'import sys, zipfile; print("\\n".join(' +
                'zipfile.ZipFile(sys.argv[1]).namelist()))', path],
            { encoding: 'utf8' });
        } catch (e) {
            names = String(e.message || e);
        }
        check('XLSX : xl/worksheets/sheet1.xml dans l’archive',
            names.includes('xl/worksheets/sheet1.xml'), names);
    });

    await step('réglages : une erreur, puis enregistrés', async () => {
        await page.goto(seriesUrl);
        await page.fill('#r-cout', 'trois euros');
        await page.click('#reglages button[type="submit"]');
        await page.waitForSelector('#reglages-erreurs');
        check('le résumé des erreurs a le focus',
            await page.evaluate(() => document.activeElement?.id) ===
            'reglages-erreurs');
        check('le champ en erreur est signalé',
            await page.getAttribute('#r-cout', 'aria-invalid') === 'true' &&
            (await page.textContent('#r-cout-erreur')).includes('Coût'));
        await axe('réglages en erreur');
        await page.fill('#r-cout', '3,10');
        await page.fill('#r-risque', '1/10');
        await page.click('#reglages button[type="submit"]');
        await page.waitForURL(/fait=reglages/);
        check('réglages enregistrés',
            (await page.textContent('#fc-message'))
                .includes('Réglages enregistrés'));
        check('le risque par défaut est repris dans le choix',
            await page.inputValue('#risque') === '1/10');
    });

    await step('saisie des repas : une erreur, puis enregistrée', async () => {
        await page.goto(BASE + '/agent/previsions/saisie');
        const field = page.locator('label:has-text("Cantine Pasteur")');
        const id = await field.getAttribute('for');
        check('chaque cantine a son champ étiqueté', Boolean(id) &&
            await page.locator('fieldset input.fc-count').count() === 3);
        await page.fill('#' + id, 'cent douze');
        await page.click('#saisie-form button[type="submit"]');
        await page.waitForSelector('#saisie-erreurs');
        check('le résumé des erreurs a le focus',
            await page.evaluate(() => document.activeElement?.id) ===
            'saisie-erreurs');
        check('l’erreur nomme la cantine',
            (await page.textContent('#saisie-erreurs'))
                .includes('Cantine Pasteur'));
        check('le lien du résumé mène au champ',
            await page.getAttribute('#saisie-erreurs a', 'href') ===
            '#' + id);
        check('le champ garde la saisie et est signalé',
            await page.inputValue('#' + id) === 'cent douze' &&
            await page.getAttribute('#' + id, 'aria-invalid') === 'true');
        await axe('saisie en erreur');
        await page.fill('#' + id, '112');
        await page.click('#saisie-form button[type="submit"]');
        await page.waitForURL(/enregistre=1/);
        const ok = await page.textContent('#saisie-ok');
        check('ce qui est enregistré est affiché',
            ok.includes('Cantine Pasteur : 112 repas'), ok);
        check('le champ montre la valeur enregistrée',
            await page.inputValue('#' + id) === '112');
    });

    await step('alerte vue et recalcul', async () => {
        await page.goto(BASE + '/agent/previsions');
        await page.click('table.fc-alerts button:has-text("Marquer comme vue")');
        await page.waitForURL(/fait=vue/);
        check('alerte marquée comme vue',
            (await page.textContent('#fc-message')).includes('vue') &&
            (await page.textContent('section[aria-labelledby="alertes-titre"]'))
                .includes('Aucune alerte ouverte'));
        await page.click('button:has-text("Recalculer les prévisions")',
            { timeout: 120000 });
        await page.waitForURL(/fait=recalcul/, { timeout: 120000 });
        check('prévisions recalculées',
            (await page.textContent('#fc-message'))
                .includes('Prévisions recalculées : 4 série(s)'));
    });

    await step('ce qui est refusé, en français', async () => {
        const noCsrf = await page.request.post(BASE +
            '/agent/previsions/saisie', { form: { date: '2026-01-05',
            s1: '5' } });
        check('une saisie sans jeton CSRF est refusée (403)',
            noCsrf.status() === 403, String(noCsrf.status()));
        const unknown = await page.request.get(BASE +
            '/agent/previsions/987654');
        check('une série inconnue : la page 404 en français',
            unknown.status() === 404 &&
            (await unknown.text()).includes('Série introuvable'));
        const badRisk = await page.request.get(seriesUrl +
            '/export.csv?risque=99');
        check('un risque invalide à l’export : erreur en français',
            badRisk.status() === 422 &&
            (await badRisk.text()).includes('Risque invalide'),
            String(badRisk.status()));
    });
} finally {
    checkClean(check, { consoleErrors, badResponses, foreign });
    await close();
}
finish();
