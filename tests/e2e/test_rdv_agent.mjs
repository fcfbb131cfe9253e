// test_rdv_agent.mjs - the appointments back-office in a real browser
// (Debian chromium through playwright-core) on the fresh demo instance
// run.sh starts: an agent logs in, opens today for bookings in the
// settings (an opening range on today's weekday), books for someone who
// called, sees the booking in the day view with its no-show risk badge
// (the demo's fictitious past trains a model at start), opens it (the
// risk explained, and the sentence that it never refuses anyone), marks
// it present, moves and cancels another booking in the week view,
// prints the day list (print CSS: one page per counter), downloads the
// CSV export, reads the statistics page, and mints a counter's secret
// iCalendar feed, which a renewal revokes. No console error, no
// unexpected HTTP error, no outside request.
// Prints "N passed, N failed"; exits 1 on any failure.

import { readFileSync } from 'node:fs';
import {
    checkClean, firstLogin, launch, report, visible, watch
} from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const OTP = process.env.GUICHET_ADMIN_PASSWORD;
const NEW_PASSWORD = 'une phrase de passe pour les rendez-vous 2026';
const NAME = 'Camille Martin-Téléphone';
const JOUR = 'section[aria-labelledby="st-jour"]'; // stats by weekday

if (!BASE || !OTP) {
    console.error('GUICHET_URL et GUICHET_ADMIN_PASSWORD sont requis ' +
        '(lancez tests/e2e/run.sh).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();
const { context, foreign, close } = await launch();
const page = context.pages()[0] || await context.newPage();
const { consoleErrors, badResponses } = watch(page);
page.on('dialog', (d) => d.accept());

// Today in the commune (Paris), as "aaaa-mm-jj", and its ISO weekday.
const today = new Intl.DateTimeFormat('fr-CA', {
    timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit',
    day: '2-digit',
}).format(new Date());
const weekday = ((new Date(today + 'T12:00:00Z').getUTCDay() + 6) % 7) + 1;
const [yy, mm, dd] = today.split('-');
const todayFr = dd + '/' + mm + '/' + yy;

async function apiGet(url) {
    return page.evaluate(async (u) => {
        const r = await fetch(u);
        return { status: r.status, json: await r.json().catch(() => null) };
    }, url);
}

try {
    await step('connexion', async () => {
        await firstLogin(page, BASE, 'admin', OTP, NEW_PASSWORD);
        check('connecté', new URL(page.url()).pathname === '/agent');
    });

    let holiday = false;
    await step('réglages : ouvrir le guichet d’accueil toute la journée',
        async () => {
            await page.goto(BASE + '/agent/rdv/reglages');
            await page.waitForSelector('#plages tbody tr');
            check('les plages de la démonstration sont listées',
                await page.locator('#plages tbody tr').count() > 1);
            check('les jours fériés calculés sont listés',
                await visible(page.locator('#feries-list li').first()));
            const hol = await apiGet('/api/v1/rdv/holidays?from=' + today +
                '&to=' + today);
            holiday = hol.json.holidays.length > 0;
            const counterId = await page.evaluate(async () => {
                const r = await (await fetch('/api/v1/rdv/counters')).json();
                return r.counters.find((k) =>
                    k.name === 'Guichet accueil').id;
            });
            await page.selectOption('#pg-counter_id', String(counterId));
            await page.selectOption('#pg-weekday', String(weekday));
            await page.fill('#pg-start', '00:00');
            await page.fill('#pg-end', '23:55');
            await page.selectOption('#pg-every_weeks', '1');
            await page.fill('#pg-from', today);
            await page.click('#plages form button[type="submit"]');
            await page.waitForFunction(() => document.querySelector(
                '#plages .alert-ok')?.textContent.includes('enregistré'));
            check('plage ajoutée', (await page.textContent('#plages tbody'))
                .includes('00:00 – 23:55'));
            check('le texte sur le risque est sur la page des réglages',
                (await page.textContent('#motifs')).includes(
                    'ne sert jamais à refuser'));
        });

    await step('réglages : un motif modifié, une fermeture ajoutée, retirée',
        async () => {
            const row = page.locator('#motifs tbody tr',
                { hasText: 'Urbanisme' });
            await row.locator('button', { hasText: 'Modifier' }).click();
            check('le formulaire reprend le motif',
                (await page.inputValue('#mo-name')).includes('Urbanisme'));
            await page.fill('#mo-overbook_max', '1');
            await page.click('#motifs form button[type="submit"]');
            await page.waitForFunction(() => document.querySelector(
                '#motifs .alert-ok')?.textContent.includes('Modification'));
            const cells = await row.locator('td').allTextContents();
            check('surnombre du motif enregistré', cells.includes('1'),
                cells.join(' | '));
            const before = await page.locator('#absences tbody tr').count();
            await page.fill('#ab-start', '2030-07-14T08:00');
            await page.fill('#ab-end', '2030-07-14T18:00');
            await page.fill('#ab-reason', 'Fermeture d’essai');
            await page.click('#absences form button[type="submit"]');
            const added = page.locator('#absences tbody tr',
                { hasText: 'Fermeture d’essai' });
            await added.waitFor();
            check('fermeture ajoutée (tout le lieu)', (await added
                .textContent()).includes('tout le lieu'));
            await added.locator('button', { hasText: 'Supprimer' }).click();
            await added.waitFor({ state: 'detached' });
            check('fermeture retirée',
                await page.locator('#absences tbody tr').count() === before);
        });

    await step('calendrier', async () => {
        await page.goto(BASE + '/agent');
        await page.click('.bo-nav a[href="/agent/rdv"]');
        await page.waitForURL('**/agent/rdv**');
        check('entrée « Rendez-vous » du menu marquée comme page courante',
            await page.getAttribute('.bo-nav a[href="/agent/rdv"]',
                'aria-current') === 'page');
        check('le risque n’est jamais utilisé pour refuser (phrase visible)',
            (await page.textContent('#risk-policy')).includes(
                'Il ne sert jamais à refuser ni à retarder un rendez-vous'));
        await page.waitForFunction(() => document.getElementById(
            'cal-status').textContent.includes(':'));
        check('colonnes des guichets du lieu',
            (await page.textContent('#cal')).includes('Guichet accueil'));
    });

    await step('nouveau rendez-vous par téléphone', async () => {
        await page.click('#new-booking');
        check('la fenêtre de réservation s’ouvre',
            await visible(page.locator('#new-dialog')));
        const motif = await page.evaluate(async () => {
            const r = await (await fetch('/api/v1/rdv/motifs')).json();
            return r.motifs.find((m) => m.code === 'urbanisme').id;
        });
        await page.selectOption('#nd-motif', String(motif));
        await page.check('input[name="channel"][value="telephone"]');
        await page.selectOption('#nd-place', '');
        await page.fill('#nd-from', today);
        await page.click('#nd-search');
        await page.waitForSelector('#nd-slots button');
        const first = page.locator('#nd-slots button').first();
        check('des créneaux libres sont proposés', await first.count() === 1);
        // Without an agent's choice, booking is refused clearly.
        await page.fill('#nd-name', NAME);
        await page.fill('#nd-phone', '06 12 34 56 78');
        await first.click();
        check('le créneau choisi est signalé',
            await first.getAttribute('aria-pressed') === 'true');
        await page.fill('#nd-note', 'Appel du matin');
        await page.click('#new-form button[type="submit"]');
        await page.waitForSelector('#new-dialog', { state: 'hidden' });
        await page.waitForFunction((n) => document.getElementById('cal')
            .textContent.includes(n), NAME);
        check('le rendez-vous apparaît dans le calendrier du jour', true);
        check('vue du jour affichée',
            await page.inputValue('#c-view') === 'jour');
        check('badge du risque sur le rendez-vous',
            /risque \d+ %/.test(await page.locator('.rdv-block',
                { hasText: NAME }).textContent()));
    });

    const booked = page.locator('.rdv-block', { hasText: NAME });

    await step('détail, risque et présence', async () => {
        const day = await page.inputValue('#c-date');
        check('le créneau est aujourd’hui (plage ouverte toute la journée)',
            day === today || holiday, day + ' / ' + today);
        await booked.click();
        await page.waitForSelector('#booking-dialog[open]');
        const txt = await page.textContent('#booking-dialog');
        check('détail : téléphone et canal', txt.includes('06 12 34 56 78') &&
            txt.includes('par téléphone'), txt.slice(0, 300));
        check('section du risque d’absence avec son usage limité',
            txt.includes('Risque d’absence') &&
            txt.includes('jamais pour refuser'));
        const risk = await page.textContent('#bd-risk-text');
        check('risque chiffré et expliqué en français',
            /\d+ %/.test(risk) && risk.includes('Principaux facteurs'),
            risk);
        await page.click('#bd-risk-text details.pourquoi summary');
        const why = await page.textContent('#bd-risk-text details.pourquoi');
        check('« Pourquoi ? » : modèle, version, qualité et usage',
            why.includes('régression logistique') &&
            why.includes('entraînée le') && why.includes('AUC') &&
            why.includes('jamais refuser'), why);
        await page.keyboard.press('Escape');
        await page.waitForSelector('#booking-dialog', { state: 'hidden' });
        check('Échap ferme la fenêtre et rend le focus au rendez-vous',
            await page.evaluate((n) => document.activeElement.textContent
                .includes(n), NAME));
        await booked.click();
        await page.waitForSelector('#booking-dialog[open]');
        if (day === today) {
            await page.click('#booking-dialog [data-status="present"]');
            await page.waitForFunction(() => document.querySelector(
                '#bd-detail')?.textContent.includes('présent'));
            check('marqué présent (détail)', true);
            await page.click('#bd-close');
            await page.waitForFunction((n) => [...document.querySelectorAll(
                '.rdv-block')].some((b) => b.textContent.includes(n) &&
                b.textContent.includes('présent')), NAME);
            check('marqué présent (calendrier, en texte et en couleur)',
                (await booked.getAttribute('class')).includes(
                    'rdv-st-present'));
        } else {
            await page.click('#bd-close');
        }
        check('le focus revient au rendez-vous',
            await page.evaluate((n) => document.activeElement.textContent
                .includes(n), NAME));
    });

    await step('vue de la semaine, déplacement et annulation', async () => {
        // A second booking, tomorrow, made through the API as another
        // agent would.
        const other = await page.evaluate(async () => {
            const s = await (await fetch('/api/v1/session')).json();
            const m = (await (await fetch('/api/v1/rdv/motifs')).json())
                .motifs.find((x) => x.code === 'urbanisme');
            const d = new Date(Date.now() + 86400000).toISOString()
                .slice(0, 10);
            const sl = await (await fetch('/api/v1/rdv/agent/slots?motif=' +
                m.id + '&from=' + d + '&limit=5')).json();
            const slot = sl.slots[0];
            const r = await fetch('/api/v1/rdv/agent/bookings', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json',
                    'X-CSRF-Token': s.csrf },
                body: JSON.stringify({ motif: m.id, place: slot.place,
                    counter: slot.counter, start: slot.start,
                    name: 'Dominique Déplacé', phone: '0700000000',
                    channel: 'guichet' }),
            });
            return { status: r.status, day: slot.day, time: slot.time };
        });
        check('second rendez-vous pris (API)', other.status === 201,
            JSON.stringify(other));
        await page.selectOption('#c-view', 'semaine');
        await page.fill('#c-date', other.day);
        await page.dispatchEvent('#c-date', 'change');
        await page.waitForFunction(() => document.getElementById(
            'cal-status').textContent.startsWith('Semaine du'));
        const moved = page.locator('.rdv-block',
            { hasText: 'Dominique Déplacé' });
        await moved.waitFor();
        check('vue de la semaine : colonnes des jours',
            (await page.textContent('#cal')).includes('lundi'));
        await moved.click();
        await page.waitForSelector('#booking-dialog[open]');
        await page.fill('#bd-move-from', other.day);
        await page.click('#bd-move-form button[type="submit"]');
        await page.waitForSelector('#bd-move-slots button');
        const target = page.locator('#bd-move-slots button')
            .filter({ hasNotText: other.time }).first();
        const label = await target.textContent();
        await target.click();
        await page.waitForFunction((t) => !document.getElementById(
            'bd-detail').textContent.includes('de ' + t + ' à'), other.time);
        check('déplacé sur un autre créneau', true, label);
        await page.click('#bd-cancel');
        await page.waitForSelector('#booking-dialog', { state: 'hidden' });
        await page.waitForFunction(() => [...document.querySelectorAll(
            '.rdv-block')].some((b) => b.textContent.includes(
            'Dominique Déplacé') && b.textContent.includes('annulé')));
        check('annulé : affiché barré avec le mot « annulé »',
            (await moved.getAttribute('class')).includes('rdv-st-annule'));
        await page.selectOption('#c-view', 'jour');
        await page.fill('#c-date', today);
        await page.dispatchEvent('#c-date', 'change');
        await booked.waitFor();
    });

    await step('liste du jour imprimable', async () => {
        const day = await page.inputValue('#c-date');
        await page.click('#print-link');
        await page.waitForURL('**/agent/rdv/jour**');
        const list = await page.textContent('#day-list');
        check('le rendez-vous est dans la liste', list.includes(NAME) &&
            list.includes('06 12 34 56 78') && list.includes('Urbanisme'));
        check('une section par guichet',
            await page.locator('.rdv-print-counter').count() >= 2);
        if (day === today) {
            check('la présence est reportée', list.includes('présent'));
        }
        await page.emulateMedia({ media: 'print' });
        const shown = await page.evaluate(() => ['form.rdv-noprint',
            '.bo-nav', '.bo-header'].filter((s) => getComputedStyle(
            document.querySelector(s)).display !== 'none'));
        check('à l’impression, le formulaire et le menu disparaissent',
            shown.length === 0, shown.join(' '));
        check('à l’impression, un guichet par page',
            await page.evaluate(() => getComputedStyle(document.querySelector(
                '.rdv-print-counter')).breakAfter === 'page'));
        await page.emulateMedia({ media: 'screen' });
        check('bouton « Imprimer »', await visible(page.locator('#print')));
    });

    await step('export CSV', async () => {
        await page.goto(BASE + '/agent/rdv?vue=semaine&date=' + today);
        await page.waitForFunction(() => document.getElementById('csv-link')
            .href.includes('from='));
        const [dl] = await Promise.all([
            page.waitForEvent('download'),
            page.click('#csv-link'),
        ]);
        const file = await dl.path();
        const csv = readFileSync(file, 'utf8');
        check('UTF-8 avec BOM pour Excel', csv.charCodeAt(0) === 0xFEFF);
        check('en-têtes français et séparateur ;',
            csv.includes('Date;Début;Fin;Lieu;Guichet;Motif'));
        const line = csv.split('\r\n').find((l) => l.includes(NAME)) || '';
        check('la ligne du rendez-vous, date jj/mm/aaaa',
            line.startsWith(todayFr) || (holiday && line.length > 0), line);
        check('nom de fichier', /rendez-vous-99001-.*\.csv$/.test(
            dl.suggestedFilename()), dl.suggestedFilename());
    });

    await step('statistiques', async () => {
        await page.goto(BASE + '/agent/rdv/statistiques');
        await page.waitForSelector('#st-motif');
        check('quatre tableaux (motif, jour, heure, délai)',
            await page.locator('#stats-tables table').count() === 4);
        // The demo's fictitious past trained a model at server start.
        await page.waitForSelector('#model-version');
        const model = await page.textContent('#model-info');
        check('le modèle en service : version, AUC contre le taux moyen',
            model.includes('AUC') && model.includes('taux moyen') &&
            model.includes('oui'), model);
        check('taux d’absence par jour de la semaine (au moins 5 jours)',
            await page.locator(JOUR + ' tbody tr').count() >= 5);
        check('des barres qui ne font que répéter le nombre',
            await page.getAttribute(JOUR + ' .rdv-bar', 'aria-hidden') ===
            'true');
        check('phrase sur l’usage du risque',
            (await page.textContent('main')).includes(
                'Il ne sert jamais à refuser ni à retarder'));
    });

    await step('flux iCalendar d’un guichet', async () => {
        await page.goto(BASE + '/agent/rdv/reglages#flux');
        const row = page.locator('#feeds tr', { hasText: 'Guichet accueil' });
        await row.locator('button', { hasText: 'Créer l’adresse' }).click();
        const input = row.locator('input.secret');
        await input.waitFor();
        const url = await input.inputValue();
        check('adresse secrète affichée', /\/rdv\/flux\/[A-Za-z0-9_-]{43}\.ics$/
            .test(url), url);
        const r1 = await context.request.get(url);
        const ics = await r1.text();
        check('le flux se lit : iCalendar avec le nom de la personne',
            r1.status() === 200 && ics.startsWith('BEGIN:VCALENDAR') &&
            ics.includes('Camille'), String(r1.status()));
        await row.locator('button', { hasText: 'Renouveler' }).click();
        await page.waitForFunction((old) => {
            const i = document.querySelector('#feeds input.secret');
            return i && i.value !== old;
        }, url);
        const r2 = await context.request.get(url);
        check('l’ancienne adresse ne donne plus rien (404)',
            r2.status() === 404, String(r2.status()));
    });
} finally {
    checkClean(check, { consoleErrors, badResponses, foreign });
    await close();
    finish();
}
