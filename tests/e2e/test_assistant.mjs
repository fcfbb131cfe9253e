// test_assistant.mjs - the citizen assistant in a real browser (Debian
// chromium driven by playwright-core): a whole conversation on the demo
// commune's page /assistant, then the widget embedded in « the commune's
// own site » (another origin: CORS), keyboard only. Started by run.sh:
// GUICHET_URL (a fresh demo instance whose assistant.widget_origins allows
// http://127.0.0.1:GUICHET_HOST_PORT), GUICHET_HOST_PORT, CHROMIUM,
// E2E_PROFILE_DIR. Prints "N passed, N failed"; exits 1 on any failure.

import { createServer } from 'node:http';
import { join } from 'node:path';
import { checkClean, firstLogin, launch, report, watch } from './lib.mjs';

const BASE = process.env.GUICHET_URL;
const HOST_PORT = Number(process.env.GUICHET_HOST_PORT || 0);
const HOST = 'http://127.0.0.1:' + HOST_PORT;
const SHOTS = process.env.E2E_SCREENSHOTS || '';

if (!BASE || !HOST_PORT) {
    console.error('GUICHET_URL et GUICHET_HOST_PORT sont requis ' +
        '(lancez tests/e2e/run.sh … test_assistant.mjs).');
    console.log('0 passed, 1 failed');
    process.exit(1);
}

const { check, step, finish } = report();

// « The commune's own site »: one page that embeds the widget with the
// documented tag, served from another origin than Guichet.
const hostPage = `<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Site de la commune</title>
<link rel="stylesheet" href="/site.css">
</head><body>
<h1>Bienvenue sur le site de Saint-Exemple-sur-Loire</h1>
<p><a href="#actualites">Actualités</a></p>
<p id="actualites">Le marché a lieu le samedi matin.</p>
<script src="${BASE}/static/js/widget.js" data-commune="99001" defer></script>
</body></html>`;
// Hostile page styles: none of them may reach the widget.
const hostCss = `* { letter-spacing: 4px; font-family: serif; }
button { background: lime !important; color: red !important; }
input { display: none !important; }`;
const host = createServer((req, res) => {
    if (req.url === '/site.css') {
        res.writeHead(200, { 'Content-Type': 'text/css' });
        res.end(hostCss);
        return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(hostPage);
});
await new Promise((ok) => host.listen(HOST_PORT, '127.0.0.1', ok));

const { context, foreign, close } = await launch();
// Both pages (the portal and the host site) report into one pair of lists.
const seen = { consoleErrors: [], badResponses: [] };
const { consoleErrors, badResponses } = seen;

const page = context.pages()[0] || await context.newPage();
watch(page, undefined, seen);

// The focused element, through shadow roots: "#id" or ".class".
function focused(p = page) {
    return p.evaluate(() => {
        let a = document.activeElement;
        while (a && a.shadowRoot && a.shadowRoot.activeElement) {
            a = a.shadowRoot.activeElement;
        }
        if (!a) return '';
        return a.id ? '#' + a.id : '.' + String(a.className).split(' ')
            .join('.');
    });
}

// Type a question with the keyboard in the focused field, press Enter,
// wait for the assistant; returns the types of the new replies.
async function ask(text, p = page) {
    const before = await p.locator('.gw-msg').count();
    await p.keyboard.type(text);
    await p.keyboard.press('Enter');
    await p.waitForFunction((n) => {
        const hostEl = document.querySelector('#assistant-root') ||
            document.querySelector('#guichet-widget');
        const root = hostEl && hostEl.shadowRoot;
        const log = root && root.querySelector('.gw-log');
        return log && log.getAttribute('aria-busy') === 'false' &&
            root.querySelectorAll('.gw-msg').length > n + 1;
    }, before);
    const types = await p.locator('.gw-msg').evaluateAll((els, n) =>
        els.slice(n + 1).map((e) => e.dataset.type || e.className), before);
    return types;
}

const last = (sel) => page.locator(sel).last();

try {
    // ----- the full page -----
    await step('page /assistant', async () => {
        const r = await page.goto(BASE + '/assistant?c=99001');
        check('GET /assistant?c=99001 répond 200', r.status() === 200,
            String(r.status()));
        check('lang="fr" et titre', await page.getAttribute('html', 'lang')
            === 'fr' && (await page.textContent('h1'))
            .includes('Poser une question'));
        await page.waitForSelector('.gw-panel');
        check('le panneau est dans une racine fantôme (shadow root)',
            await page.evaluate(() => !!document.getElementById(
                'assistant-root').shadowRoot) &&
            await page.evaluate(() =>
                !document.querySelector('.gw-panel')));
        const disc = await page.textContent('.gw-disclosure');
        check('avertissement « assistant automatique » affiché d’emblée',
            /assistant automatique/i.test(disc) &&
            await page.isVisible('.gw-disclosure'), disc);
        check('journal de conversation : role=log, aria-live=polite',
            await page.getAttribute('.gw-log', 'role') === 'log' &&
            await page.getAttribute('.gw-log', 'aria-live') === 'polite');
        check('champ de saisie étiqueté « Votre question »',
            (await page.textContent('label[for="gw-input"]')).trim() ===
            'Votre question');
        check('« Parler à un agent » toujours présent',
            await page.isVisible('button.gw-to-agent'));
        const r404 = await page.request.get(BASE + '/assistant?c=12345');
        check('commune inconnue : 404', r404.status() === 404,
            String(r404.status()));
    });

    await step('portail : carte « Poser une question »', async () => {
        const r = await page.request.get(BASE + '/c/99001');
        const html = await r.text();
        check('le portail mène à /assistant?c=99001',
            html.includes('href="/assistant?c=99001"'));
    });

    let first;
    await step('question avec fautes : carte d’identité', async () => {
        await page.goto(BASE + '/assistant?c=99001');
        await page.waitForSelector('.gw-panel');
        await page.focus('#gw-input');
        const types = await ask('jai perdu ma carte didentité');
        check('une réponse (answer)', types.includes('answer'),
            types.join(','));
        first = last('.gw-answer');
        const text = await first.textContent();
        check('la réponse parle de carte d’identité',
            /identit/i.test(text), text.slice(0, 160));
        const src = await first.locator('.gw-source').textContent();
        check('source et date affichées sous la réponse',
            /^Source : .+, mis à jour le \d\d\/\d\d\/\d{4}/.test(src.trim()),
            src);
        // A national fiche links to service-public.fr; a local one names
        // the mairie (it has no public page of its own).
        check('la source est un lien ou la mairie',
            await first.locator('.gw-source a[href]').count() === 1 ||
            /mairie/i.test(src), src);
        const rdv = first.locator('a', { hasText: 'Prendre rendez-vous' });
        check('lien « Prendre rendez-vous »', await rdv.count() >= 1);
        const href = await rdv.first().getAttribute('href');
        check('le lien de rendez-vous reste sur Guichet',
            href && href.startsWith(BASE + '/'), href);
        check('le focus revient au champ de saisie',
            await focused() === '#gw-input', await focused());
        check('boutons « Utile / Pas utile »',
            await first.locator('button.gw-fb').count() === 2);
    });

    await step('question de suivi sur le même sujet', async () => {
        const n = await page.locator('.gw-answer').count();
        const types = await ask('et pour un mineur ?');
        check('une nouvelle réponse', types.includes('answer') &&
            await page.locator('.gw-answer').count() === n + 1,
        types.join(','));
        // The follow-up has no topic word of its own: only the
        // conversation's topic can bring the identity card back, and its
        // own word chooses the section (the minor's, not the loss again).
        const src = await last('.gw-answer').locator('.gw-source')
            .textContent();
        check('même sujet : la carte d’identité', /identit/i.test(src), src);
        const text = await last('.gw-answer').textContent();
        check('la section « Pour un enfant mineur »',
            /Pour un enfant mineur/.test(text), text.slice(0, 200));
    });

    await step('avis « Utile »', async () => {
        const yes = first.locator('button.gw-fb', { hasText: /^Utile$/ });
        const resp = page.waitForResponse((r) =>
            r.url().endsWith('/api/v1/chat/feedback'));
        await yes.click();
        const r = await resp;
        check('POST /api/v1/chat/feedback accepté', r.status() === 204,
            String(r.status()));
        await page.waitForFunction(() => document.getElementById(
            'assistant-root').shadowRoot.querySelector(
            '.gw-fb[aria-pressed="true"]'));
        check('« Utile » marqué comme choisi',
            await yes.getAttribute('aria-pressed') === 'true');
        check('commentaire facultatif proposé',
            await first.locator('.gw-fb-comment').isVisible());
        await first.locator('.gw-fb-comment input').fill(
            'Clair et rapide, merci.');
        const again = page.waitForResponse((r) =>
            r.url().endsWith('/api/v1/chat/feedback'));
        await first.locator('.gw-fb-comment input').press('Enter');
        const r2 = await again;
        check('commentaire envoyé (l’avis est remplacé)',
            r2.status() === 204 && JSON.parse(r2.request().postData())
                .comment === 'Clair et rapide, merci.', String(r2.status()));
        await first.locator('.gw-thanks').waitFor();
        check('remerciement affiché', /Merci/.test(
            await first.locator('.gw-thanks').textContent()));
        check('le focus revient au champ de saisie après le commentaire',
            await focused() === '#gw-input', await focused());
    });

    await step('« Écouter » : la réponse lue à voix haute', async () => {
        const btn = first.locator('button.gw-listen');
        check('un vrai bouton « Écouter la réponse »',
            await btn.count() === 1 &&
            /^Écouter la réponse$/.test((await btn.textContent()).trim()),
            await btn.count() ? await btn.textContent() : 'absent');
        // The audio element loads GET /api/v1/tts?texte=… itself.
        const wav = page.waitForResponse((r) =>
            new URL(r.url()).pathname === '/api/v1/tts' &&
            r.request().method() === 'GET');
        await btn.focus();
        await page.keyboard.press('Enter');
        const r = await wav;
        const body = await r.body().catch(() => Buffer.alloc(0));
        // RIFF/WAVE, and more than a second of 16-bit audio at its rate.
        const rate = body.length > 44 ? body.readUInt32LE(24) : 0;
        check('un WAV reçu de /api/v1/tts',
            r.status() === 200 &&
            (r.headers()['content-type'] || '').startsWith('audio/wav') &&
            body.subarray(0, 4).toString() === 'RIFF' &&
            body.subarray(8, 12).toString() === 'WAVE' && rate >= 8000 &&
            body.length - 44 > 2 * rate,
        r.status() + ' ' + r.headers()['content-type'] + ' ' +
            body.length + ' octets à ' + rate + ' Hz');
        const q = new URL(r.url()).searchParams.get('texte') || '';
        check('le texte lu est celui de la réponse',
            /identit/i.test(q) && Buffer.byteLength(q) <= 2000,
            q.slice(0, 80));
        const src = await page.locator('audio.gw-audio').evaluate(
            (a) => a.src);
        check('l’élément <audio> a reçu cette source',
            src.startsWith(BASE + '/api/v1/tts?texte='), src.slice(0, 80));
        check('le bouton devient « Arrêter la lecture »',
            (await btn.textContent()).trim() === 'Arrêter la lecture');
        const said = await page.locator('.gw-status').textContent();
        check('état annoncé dans la zone role=status',
            /lecture/i.test(said), said);
        await page.keyboard.press('Enter');
        check('Entrée à nouveau : lecture arrêtée, libellé rendu',
            /^Écouter la réponse$/.test((await btn.textContent()).trim()) &&
            await page.locator('audio.gw-audio').evaluate((a) => a.paused),
        await btn.textContent());
        await page.focus('#gw-input');
    });

    let reference = '';
    let followUrl = '';
    await step('question inconnue, puis transmission à un agent', async () => {
        let types = await ask('qui a gagné le match de rugby hier soir');
        check('pas de réponse inventée : clarification ou transmission',
            !types.includes('answer') && (types.includes('clarify') ||
            types.includes('handoff_offer')), types.join(','));
        if (!types.includes('handoff_offer')) {
            types = await ask('non, rien de tout ça');
        }
        if (!types.includes('handoff_offer')) {
            const before = await page.locator('.gw-msg').count();
            await page.click('button.gw-to-agent');
            await page.waitForFunction((n) => document.getElementById(
                'assistant-root').shadowRoot.querySelectorAll('.gw-msg')
                .length > n + 1, before);
        }
        check('proposition de transmission avec formulaire',
            await page.locator('form.gw-handoff').count() >= 1);
        const f = page.locator('form.gw-handoff').last();
        check('le focus va au champ de l’adresse électronique',
            /email/.test(await focused()), await focused());
        // Sent without consent: refused on the spot, nothing posted.
        await f.locator('input[type="email"]').fill('marie@example.org');
        await f.locator('button[type="submit"]').click();
        check('consentement exigé', await f.locator(
            'input[type="checkbox"][aria-invalid="true"]').count() === 1);
        await f.locator('textarea').fill('Le club de rugby de la commune ' +
            'a-t-il joué hier soir ? Où trouver les résultats ?');
        await f.locator('input[type="checkbox"]').check();
        const resp = page.waitForResponse((r) =>
            r.url().endsWith('/api/v1/chat/handoff'));
        await f.locator('button[type="submit"]').click();
        const r = await resp;
        check('POST /api/v1/chat/handoff : 201', r.status() === 201,
            String(r.status()));
        await page.waitForSelector('.gw-done .gw-ref');
        reference = (await page.textContent('.gw-done .gw-ref')).trim();
        check('référence affichée', /^Q-\d{4}-\d+$/.test(reference),
            reference);
        followUrl = await page.getAttribute('.gw-done a', 'href');
        check('lien de suivi', followUrl &&
            followUrl.startsWith(BASE + '/assistant/suivi/'), followUrl);
    });

    await step('rechargement : la conversation est restaurée', async () => {
        const n = await page.locator('.gw-msg').count();
        await page.reload();
        await page.waitForSelector('.gw-answer');
        await page.waitForSelector('.gw-done');
        const m = await page.locator('.gw-msg').count();
        check('historique restauré après rechargement', m >= n - 1,
            m + ' / ' + n);
        check('plus de formulaire de transmission à remplir',
            await page.locator('form.gw-handoff').count() === 0);
    });

    await step('page de suivi', async () => {
        if (!followUrl) throw new Error('pas de lien de suivi');
        const r = await page.goto(followUrl);
        check('GET /assistant/suivi/… répond 200', r.status() === 200,
            String(r.status()));
        const main = await page.textContent('main');
        check('référence, question et état affichés',
            main.includes(reference) && main.includes('rugby') &&
            /En attente|nouveau|en cours|Transmise/i.test(main),
            main.replace(/\s+/g, ' ').slice(0, 300));
        const r404 = await page.request.get(BASE +
            '/assistant/suivi/jeton-inconnu');
        check('jeton inconnu : 404', r404.status() === 404,
            String(r404.status()));
    });

    if (SHOTS) {
        await page.goto(BASE + '/assistant?c=99001');
        await page.waitForSelector('.gw-done');
        await page.screenshot({ path: join(SHOTS, 'assistant-1280.png') });
        await page.setViewportSize({ width: 320, height: 640 });
        await page.screenshot({ path: join(SHOTS, 'assistant-320.png') });
        await page.setViewportSize({ width: 1280, height: 900 });
    }

    await step('page /assistant à 320 px', async () => {
        await page.setViewportSize({ width: 320, height: 640 });
        await page.goto(BASE + '/assistant?c=99001');
        await page.waitForSelector('.gw-panel');
        const w = await page.evaluate(() =>
            document.documentElement.scrollWidth);
        check('pas de défilement horizontal à 320 px', w <= 320, w + ' px');
        await page.setViewportSize({ width: 1280, height: 900 });
    });

    // ----- the widget on the commune's own site, keyboard only -----
    const site = await context.newPage();
    watch(site, undefined, seen);
    await step('widget sur le site de la commune, au clavier', async () => {
        await site.goto(HOST + '/');
        await site.waitForSelector('.gw-launcher');
        const launcherStyle = await site.locator('.gw-launcher').evaluate(
            (b) => getComputedStyle(b).backgroundColor + ' ' +
                getComputedStyle(b).letterSpacing);
        check('les styles du site ne touchent pas le widget',
            !launcherStyle.includes('0, 255, 0') &&
            !launcherStyle.includes('4px'), launcherStyle);
        check('panneau fermé au départ',
            !(await site.isVisible('.gw-panel')));
        // Tab: the site's own link, then the launcher.
        await site.keyboard.press('Tab');
        await site.keyboard.press('Tab');
        check('Tab atteint le bouton « Poser une question »',
            await focused(site) === '.gw-launcher', await focused(site));
        check('bouton annoncé fermé (aria-expanded=false)',
            await site.getAttribute('.gw-launcher', 'aria-expanded') ===
            'false');
        await site.keyboard.press('Enter');
        await site.waitForSelector('.gw-panel', { state: 'visible' });
        check('Entrée ouvre le panneau, focus dans le champ',
            await focused(site) === '#gw-input' &&
            await site.getAttribute('.gw-launcher', 'aria-expanded') ===
            'true', await focused(site));
        check('le champ reste visible malgré les styles du site',
            await site.isVisible('#gw-input'));
        const posted = site.waitForResponse((r) =>
            r.url() === BASE + '/api/v1/chat' &&
            r.request().method() === 'POST');
        const types = await ask('horaires de la mairie', site);
        check('réponse depuis un autre site',
            types.includes('answer') || types.includes('clarify'),
            types.join(','));
        const r = await posted;
        const origin = (await r.request().allHeaders()).origin;
        check('CORS : Access-Control-Allow-Origin = origine du site',
            origin === HOST &&
            r.headers()['access-control-allow-origin'] === HOST &&
            !r.headers()['access-control-allow-credentials'],
        origin + ' -> ' + r.headers()['access-control-allow-origin']);
        check('focus revenu au champ après la réponse',
            await focused(site) === '#gw-input', await focused(site));
        // « Écouter » from the other site: the <audio> loads Guichet's
        // WAV itself (no CORS needed, nothing from the host site).
        const listen = site.locator('button.gw-listen').last();
        const heard = site.waitForResponse((x) =>
            x.url().startsWith(BASE + '/api/v1/tts?'));
        await listen.click();
        const w = await heard;
        check('« Écouter » sur le site de la commune : le WAV vient de ' +
            'Guichet', w.status() === 200 &&
            (w.headers()['content-type'] || '').startsWith('audio/wav'),
        w.status() + ' ' + w.url().slice(0, 60));
        await listen.click();
        check('second clic : lecture arrêtée',
            /^Écouter la réponse$/.test((await listen.textContent()).trim()));
        await site.focus('#gw-input');
        await site.keyboard.press('Escape');
        check('Échap ferme le panneau',
            !(await site.isVisible('.gw-panel')));
        check('le focus revient au bouton « Poser une question »',
            await focused(site) === '.gw-launcher', await focused(site));
        if (SHOTS) {
            await site.keyboard.press('Enter');
            await site.waitForSelector('.gw-panel', { state: 'visible' });
            await site.screenshot({ path: join(SHOTS, 'site-1280.png') });
            await site.keyboard.press('Escape');
        }
    });

    await step('widget à 320 px : plein écran et focus piégé', async () => {
        await site.setViewportSize({ width: 320, height: 640 });
        await site.reload();
        await site.waitForSelector('.gw-launcher');
        await site.focus('.gw-launcher');
        await site.keyboard.press('Enter');
        await site.waitForSelector('.gw-panel', { state: 'visible' });
        const box = await site.locator('.gw-panel').boundingBox();
        check('le panneau couvre l’écran', box && box.width >= 319 &&
            box.height >= 600, JSON.stringify(box));
        check('historique de ce site restauré',
            await site.locator('.gw-msg').count() >= 2);
        let escaped = false;
        for (let i = 0; i < 40; i++) {
            await site.keyboard.press('Tab');
            const inside = await site.evaluate(() =>
                document.activeElement &&
                document.activeElement.id === 'guichet-widget');
            if (!inside) escaped = true;
        }
        for (let i = 0; i < 5; i++) await site.keyboard.press('Shift+Tab');
        const inside = await site.evaluate(() =>
            document.activeElement.id === 'guichet-widget');
        check('Tab et Maj+Tab restent dans le panneau', !escaped && inside);
        const w = await site.evaluate(() =>
            document.documentElement.scrollWidth);
        check('pas de défilement horizontal à 320 px', w <= 320, w + ' px');
        if (SHOTS) {
            await site.screenshot({ path: join(SHOTS, 'site-320.png') });
        }
        await site.keyboard.press('Escape');
        check('Échap ferme, focus sur le bouton',
            await focused(site) === '.gw-launcher', await focused(site));
    });

    await step('espace agents : chaque réponse avec son « Pourquoi ? »',
        async () => {
            const otp = process.env.GUICHET_ADMIN_PASSWORD;
            const pw = 'Pourquoi-e2e-2026!';
            await firstLogin(page, BASE, 'admin', otp, pw);
            await page.goto(BASE + '/agent/assistant');
            await page.selectOption('#r-type', 'answer');
            // the list reloads: wait until it holds answers only
            await page.waitForFunction(() => {
                const li = [...document.querySelectorAll('#r-list > li')];
                return li.length > 0 && li.every((x) =>
                    x.textContent.startsWith('Réponse donnée'));
            });
            const first = page.locator('#r-list > li').first();
            await first.locator('details.pourquoi summary').click();
            const why = await first.textContent();
            check('la réponse dit de quelle fiche elle vient et pourquoi',
                why.includes('Réponse tirée de la fiche') &&
                why.includes('seuil') && why.includes('Sources') &&
                why.includes('index des fiches'), why.slice(0, 400));
            check('les sources mènent aux fiches',
                (await first.locator('details.pourquoi ol a').first()
                    .getAttribute('href')).startsWith('/agent/fiches/'));
        });

    checkClean(check, { consoleErrors, badResponses, foreign });
} finally {
    await close();
    host.close();
}

finish();
