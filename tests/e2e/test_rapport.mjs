// test_rapport.mjs - the impact report and the transparency page in a
// real browser (Debian chromium through playwright-core) on the fresh demo
// instance run.sh starts. A resident first chats with the assistant (two
// questions, one rated) so that every rubric has data; then an admin logs
// in, opens the report of the month and of the month before, and every
// figure the page renders is compared with the same figure computed here,
// independently of the C code, by SQL on the instance's SQLite file
// (/usr/bin/sqlite3). The cost assumptions are changed through the form
// and the euros follow; the print stylesheet hides the navigation; the CSV
// has the same figures. /transparence is reached from the public footer,
// shows the triage model's version from the database and the chat's own
// first message, and files a request for an explanation into the inbox.
// axe-core (WCAG 2.1 A/AA) on each page: no serious or critical violation.
// No console error, no unexpected HTTP error, no outside request.
// Prints "N passed, N failed"; exits 1 on any failure.
//
// Needs GUICHET_DATA (the instance's data directory; run.sh must export
// it) or GUICHET_DB (the SQLite file).

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
    axeChecker, checkClean, firstLogin, launch, report, watch
} from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const OTP = process.env.GUICHET_ADMIN_PASSWORD;
const DB = process.env.GUICHET_DB ||
    (process.env.GUICHET_DATA ? process.env.GUICHET_DATA + '/guichet.db' : '');
const NEW_PASSWORD = 'une phrase de passe pour le rapport 2026';
const INSEE = '99001';

if (!BASE || !OTP || !DB || !existsSync(DB)) {
    console.error('GUICHET_URL, GUICHET_ADMIN_PASSWORD et GUICHET_DATA (ou ' +
        'GUICHET_DB) sont requis (lancez tests/e2e/run.sh … ' +
        'test_rapport.mjs).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();

const axeCheck = axeChecker(check);

// ----- the database, read with SQL only -----

// One row of numbers from a query on the instance's file, in the
// commune's time zone (Europe/Paris for the demo commune).
function sql(query) {
    const out = execFileSync('/usr/bin/sqlite3',
        ['-readonly', '-json', DB, query],
        { env: { ...process.env, TZ: 'Europe/Paris' }, encoding: 'utf8' });
    const rows = out.trim() ? JSON.parse(out) : [];
    return rows;
}

function one(query) {
    const rows = sql(query);
    const r = rows[0] || {};
    return Object.values(r)[0];
}

function median(values) {
    const v = values.filter((x) => x !== null).sort((a, b) => a - b);
    if (!v.length) return null;
    const m = Math.floor(v.length / 2);
    return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// The month key "2026-11" of today (Paris) shifted by `delta` months.
function monthKey(delta) {
    const now = new Date();
    const parts = new Intl.DateTimeFormat('en-CA', {
        timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit',
    }).formatToParts(now);
    let y = +parts.find((p) => p.type === 'year').value;
    let m = +parts.find((p) => p.type === 'month').value + delta;
    while (m < 1) { m += 12; y--; }
    while (m > 12) { m -= 12; y++; }
    return y + '-' + String(m).padStart(2, '0');
}

function nextKey(key) {
    let [y, m] = key.split('-').map(Number);
    m++;
    if (m > 12) { m = 1; y++; }
    return y + '-' + String(m).padStart(2, '0');
}

// Every figure of a month, from the tables (docs/rapport.md's formulas).
function expected(key, costs) {
    const first = key + '-01';
    const next = nextKey(key) + '-01';
    // local midnights as unix seconds, and day numbers
    const t0 = `CAST(strftime('%s', '${first}', 'utc') AS INTEGER)`;
    const t1 = `CAST(strftime('%s', '${next}', 'utc') AS INTEGER)`;
    const d0 = `CAST(julianday('${first}') - 2440587.5 AS INTEGER)`;
    const d1 = `CAST(julianday('${next}') - 2440587.5 AS INTEGER)`;
    const today = `CAST(julianday(date('now', 'localtime')) - 2440587.5 ` +
        'AS INTEGER)';
    const inT = (col) => `${col} >= ${t0} AND ${col} < ${t1}`;
    const w = `insee = '${INSEE}'`;
    const e = {};

    e['assistant.reponses'] = one(`SELECT COUNT(*) FROM asst_messages ` +
        `WHERE ${w} AND ${inT('at')} AND type = 'answer'`);
    e['assistant.abstentions'] = one(`SELECT COUNT(*) FROM asst_messages ` +
        `WHERE ${w} AND ${inT('at')} AND type = 'handoff_offer'`);
    e['assistant.utile'] = one(`SELECT COUNT(*) FROM asst_messages ` +
        `WHERE ${w} AND ${inT('at')} AND useful = 1`);
    e['assistant.pas_utile'] = one(`SELECT COUNT(*) FROM asst_messages ` +
        `WHERE ${w} AND ${inT('at')} AND useful = 0`);
    e['assistant.transmises'] = one(`SELECT COUNT(*) FROM asst_handoffs ` +
        `WHERE ${w} AND ${inT('created_at')}`);

    e['demandes.recues'] = one(`SELECT COUNT(*) FROM tri_requests ` +
        `WHERE ${w} AND ${inT('created_at')}`);
    const routed = sql(`SELECT q.id AS id, d.value AS value, ` +
        `d.source AS source, d.id AS did FROM tri_requests q ` +
        `JOIN tri_decisions d ON d.request_id = q.id AND d.kind = 'service' ` +
        `WHERE q.${w} AND ${inT('q.created_at')} ORDER BY q.id, d.id`);
    const byReq = new Map();
    for (const r of routed) {
        if (!byReq.has(r.id)) byReq.set(r.id, []);
        byReq.get(r.id).push(r);
    }
    let auto = 0;
    let corrected = 0;
    for (const ds of byReq.values()) {
        const f = ds[0];
        if (!['modele', 'regle'].includes(f.source) || f.value === '') {
            continue;
        }
        auto++;
        if (ds.slice(1).some((d) => d.source === 'agent' &&
            d.value !== f.value)) {
            corrected++;
        }
    }
    e['demandes.orientees'] = auto;
    e['demandes.corrigees'] = corrected;
    const replies = sql(`SELECT first_reply_at - created_at AS d FROM ` +
        `tri_requests WHERE ${w} AND ${inT('created_at')} AND ` +
        'first_reply_at > 0').map((r) => r.d);
    e['demandes.delai_reponse'] = median(replies);

    const past = `${w} AND day >= ${d0} AND day < ${d1} AND day < ${today}`;
    const st = (s) => one(`SELECT COUNT(*) FROM rdv_bookings WHERE ${past} ` +
        `AND status = ${s}`);
    e['rdv.honores'] = st(3);
    e['rdv.absents'] = st(4);
    e['rdv.excuses'] = st(5);
    e['rdv.non_pointes'] = st(1);
    e['rdv.passes'] = e['rdv.honores'] + e['rdv.absents'] +
        e['rdv.excuses'] + e['rdv.non_pointes'];
    e['rdv.en_ligne'] = one(`SELECT COUNT(*) FROM rdv_bookings WHERE ${w} ` +
        `AND ${inT('created_at')} AND channel IN (0, 3, 4) AND status <> 0`);
    e['rdv.recuperes'] = one(`SELECT COUNT(*) FROM rdv_bookings WHERE ${w} ` +
        `AND day >= ${d0} AND day < ${d1} AND wait_id > 0 ` +
        'AND status IN (1, 3, 4, 5)');

    const cant = sql(`SELECT p.value AS a, p.staff AS s, k.reco AS r, ` +
        `s.meal_cost AS cost FROM fc_series s JOIN fc_points p ` +
        `ON p.series_id = s.id JOIN ins_canteen_recos k ON ` +
        `k.series_id = s.id AND k.day = p.t WHERE s.${w} AND ` +
        `s.kind = 'cantine' AND s.freq = 'jour' AND p.t >= ${d0} AND ` +
        `p.t < ${d1} AND p.staff IS NOT NULL`);
    let meals = 0;
    let euros = 0;
    for (const c of cant) {
        const diff = Math.max(0, c.s - c.a) - Math.max(0, c.r - c.a);
        meals += diff;
        euros += diff * (c.cost > 0 ? c.cost : costs.meal);
    }
    e['cantines.jours'] = cant.length;
    e['cantines.surplus_guichet'] = cant.reduce((t, c) =>
        t + Math.max(0, c.r - c.a), 0);
    e['cantines.surplus_agents'] = cant.reduce((t, c) =>
        t + Math.max(0, c.s - c.a), 0);
    e['cantines.repas_evites'] = meals;

    e['alertes.ouvertes'] = one(`SELECT COUNT(*) FROM mon_alerts WHERE ` +
        `${w} AND ${inT('opened_at')}`);
    e['alertes.prises_en_compte'] = one(`SELECT COUNT(*) FROM mon_alerts ` +
        `WHERE ${w} AND ${inT('opened_at')} AND ` +
        'COALESCE(ack_at, resolved_at) IS NOT NULL');
    e['alertes.fausses'] = one(`SELECT COUNT(*) FROM mon_alerts WHERE ` +
        `${w} AND ${inT('opened_at')} AND status = 'resolue' AND ` +
        "verdict = 'fausse_alerte'");
    e['alertes.non_precisees'] = one(`SELECT COUNT(*) FROM mon_alerts ` +
        `WHERE ${w} AND ${inT('opened_at')} AND status = 'resolue' AND ` +
        "verdict = ''");

    const hours = (e['assistant.reponses'] * costs.answer +
        Math.max(0, auto - corrected) * costs.routed +
        e['rdv.en_ligne'] * costs.booking) / 60;
    e['economies.heures_total'] = hours;
    e['economies.euros_total'] = hours * costs.hourly + euros;
    return e;
}

// ----- the browser -----

// The costs form sent with a wrong value answers 400 on purpose.
const expected400 = new Set(['/agent/rapport/reglages']);
const { context, foreign, close } = await launch();
const page = context.pages()[0] || await context.newPage();
const { consoleErrors, badResponses } = watch(page,
    (m, path, status) => status === 400 && expected400.has(path));

async function axe(name) {
    await axeCheck(page, name);
}

// The page's figures: data-cle -> data-valeur (null when « — »).
async function rendered() {
    return page.$$eval('tr[data-cle]', (rows) => {
        const o = {};
        for (const tr of rows) {
            const v = tr.querySelector('td[data-valeur]').dataset.valeur;
            o[tr.dataset.cle] = v === '' ? null : Number(v);
        }
        return o;
    });
}

function close2(a, b) {
    if (a === null || b === null) return a === b;
    return Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));
}

const DEFAULTS = { answer: 5, routed: 3, booking: 4, hourly: 30, meal: 3 };
let greeting = '';

try {
    await step('un usager pose deux questions à l’assistant', async () => {
        const post = (path, body) => fetch(BASE + path, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
        });
        let r = await post('/api/v1/chat', { commune: INSEE,
            message: 'Comment refaire ma carte d’identité ?' });
        check('chat : 200', r.status === 200, String(r.status));
        const j = await r.json();
        greeting = (j.replies.find((x) => x.type === 'greeting') || {}).text ||
            '';
        check('le premier message se présente comme automatique',
            greeting.includes('assistant automatique'));
        const rated = j.replies.find((x) => x.id);
        if (rated) {
            r = await post('/api/v1/chat/feedback', {
                conversation: j.conversation, message_id: rated.id,
                useful: true });
            check('avis enregistré (204)', r.status === 204,
                String(r.status));
        }
        r = await post('/api/v1/chat', { commune: INSEE,
            conversation: j.conversation,
            message: 'Quels sont les horaires de la piscine ?' });
        check('deuxième question : 200', r.status === 200, String(r.status));
    });

    await step('la tâche du rapport a fait le rétro-test des cantines',
        async () => {
            // insight.canteen runs a second after the start: wait for it, so
            // that the figures do not move between the page and the SQL.
            let n = 0;
            for (let i = 0; i < 300 && !n; i++) {
                n = one("SELECT COUNT(*) FROM ins_canteen_recos WHERE " +
                    "method LIKE 'retro:%'");
                if (!n) await new Promise((r) => setTimeout(r, 100));
            }
            check('recommandations de rétro-test enregistrées', n > 0);
        });

    await step('connexion', async () => {
        await firstLogin(page, BASE, 'admin', OTP, NEW_PASSWORD);
        check('connecté', new URL(page.url()).pathname === '/agent');
    });

    for (const [name, delta] of [['du mois', 0], ['du mois précédent', -1]]) {
        await step('les chiffres ' + name + ' sont ceux de la base',
            async () => {
                const key = monthKey(delta);
                if (delta === 0) {
                    await page.click('.bo-nav a[href="/agent/rapport"]');
                    await page.waitForURL(BASE + '/agent/rapport');
                } else {
                    await page.click('a[rel="prev"]');
                    await page.waitForURL(BASE + '/agent/rapport/' + key);
                }
                check('titre du rapport ' + name,
                    (await page.textContent('h1')).startsWith(
                        'Rapport d’impact'));
                const shown = await rendered();
                const want = expected(key, DEFAULTS);
                check('le rapport ' + name + ' a des chiffres',
                    Object.keys(shown).length > 0,
                    'aucune ligne (mois vide ?)');
                for (const [k, v] of Object.entries(want)) {
                    if (!(k in shown)) continue; // a section without data
                    check(key + ' ' + k + ' = ' + v, close2(shown[k], v),
                        'affiché ' + shown[k]);
                }
                check(key + ' : les rendez-vous du mois sont affichés',
                    'rdv.passes' in shown);
                check(key + ' : les cantines du mois sont comparées',
                    shown['cantines.jours'] > 0, String(shown['cantines.jours']));
                await axe('rapport ' + key);
            });
    }

    await step('CSV : les mêmes chiffres, « ; » et virgules', async () => {
        const key = monthKey(-1);
        const csv = await page.evaluate(async (u) =>
            (await fetch(u)).text(), '/api/v1/rapport.csv?mois=' + key);
        const want = expected(key, DEFAULTS);
        check('en-tête', csv.includes('Rubrique;Indicateur;Unité;' + key));
        const line = csv.split('\r\n').find((l) =>
            l.startsWith('"Rendez-vous";"Honorés";'));
        check('ligne des rendez-vous honorés',
            line && line.split(';')[3] === String(want['rdv.honores']), line);
        const total = csv.split('\r\n').find((l) =>
            l.startsWith('"Économies";"Total estimé";'));
        const v = total ? Number(total.split(';')[3].replace(',', '.')) : NaN;
        check('total estimé à virgule', close2(v,
            Math.round(want['economies.euros_total'] * 100) / 100), total);
    });

    await step('impression : le rapport seul', async () => {
        check('bouton « Imprimer » affiché avec le script',
            await page.isVisible('#ins-print'));
        await page.emulateMedia({ media: 'print' });
        check('navigation masquée à l’impression',
            !(await page.isVisible('.bo-nav')));
        check('formulaire du mois masqué à l’impression',
            !(await page.isVisible('form.ins-noprint')));
        check('méthode imprimée', await page.isVisible('#methode'));
        await page.emulateMedia({ media: 'screen' });
    });

    await step('les hypothèses de coût changent les euros', async () => {
        await page.goto(BASE + '/agent/rapport/reglages');
        await axe('hypothèses de coût');
        await page.fill('#f-hourly_cost', 'beaucoup');
        await page.click('button[value="enregistrer"]');
        check('valeur fausse : erreur nommée',
            (await page.textContent('.ins-summary')).includes('nombre'));
        await page.fill('#f-hourly_cost', '42');
        await page.fill('#f-min_answer', '7,5');
        await page.click('button[value="enregistrer"]');
        await page.waitForURL('**/agent/rapport/reglages?enregistre=1');
        check('enregistré', (await page.textContent('#ins-message'))
            .includes('enregistrées'));
        const key = monthKey(-1);
        await page.goto(BASE + '/agent/rapport/' + key);
        const shown = await rendered();
        const want = expected(key, { ...DEFAULTS, answer: 7.5, hourly: 42 });
        check('total avec 42 €/h et 7,5 min',
            close2(shown['economies.euros_total'],
                want['economies.euros_total']),
            shown['economies.euros_total'] + ' / ' +
            want['economies.euros_total']);
        check('la méthode cite les hypothèses',
            (await page.textContent('#methode')).includes('42'));
    });

    await step('un mois vide le dit', async () => {
        await page.goto(BASE + '/agent/rapport/2019-01');
        check('message du mois vide',
            (await page.textContent('#ins-vide')).includes(
                'Aucune activité enregistrée'));
        check('pas de tuiles d’économies',
            (await page.$('#ins-heures')) === null);
    });

    await step('/transparence depuis le pied de page public', async () => {
        await page.goto(BASE + '/c/' + INSEE);
        await page.click('.site-footer a[href^="/transparence"]');
        await page.waitForURL('**/transparence?c=' + INSEE);
        check('titre', (await page.textContent('h1')) ===
            'Transparence des algorithmes');
        const text = await page.textContent('main');
        const version = one(`SELECT version FROM tri_models WHERE ` +
            `insee = '${INSEE}' AND kind = 'service' AND active = 1 ` +
            'ORDER BY id DESC LIMIT 1');
        check('version du modèle de tri, lue dans la base : ' + version,
            !!version && text.includes(version));
        const services = one(`SELECT COUNT(*) FROM tri_services WHERE ` +
            `insee = '${INSEE}' AND active = 1`);
        check(services + ' services et leurs seuils',
            text.includes(services + ' services'));
        for (const h of ['Finalité', 'Données utilisées',
            'Principaux paramètres', 'Contrôle humain',
            'Décision individuelle', 'L312-1-3', 'R311-3-1-2',
            'article 50']) {
            check('la page dit : ' + h, text.includes(h));
        }
        check('la présentation de l’assistant, mot pour mot',
            greeting !== '' && (await page.textContent(
                '#assistant-mention blockquote')).trim() === greeting);
        await axe('transparence');
    });

    await step('une demande d’explication va aux demandes', async () => {
        await page.fill('#x-texte', 'Pourquoi ma demande de voirie a-t-elle ' +
            'été orientée vers la propreté ?');
        await page.fill('#x-courriel', 'camille.martin@example.org');
        await page.click('#explication button[type="submit"]');
        await page.waitForURL('**/transparence?c=' + INSEE + '&envoye=*');
        const msg = await page.textContent('#tr-message');
        const number = (msg.match(/\d{4}-\d{5}/) || [''])[0];
        check('numéro donné à l’usager', number !== '', msg);
        const row = sql(`SELECT subject, origin, channel FROM tri_requests ` +
            `WHERE insee = '${INSEE}' AND number = '${number}'`)[0] || {};
        check('la demande est dans la base, origine « transparence »',
            row.origin === 'transparence' && row.channel === 'web',
            JSON.stringify(row));
        check('objet explicite', (row.subject || '').includes('R311-3-1-2'));
    });
} finally {
    checkClean(check, { consoleErrors, badResponses, foreign });
    await close();
}
finish();
