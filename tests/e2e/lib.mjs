// lib.mjs - what every browser test of Guichet shares: the pass/fail
// report ("N passed, N failed"), Debian chromium launched the way this
// machine allows (no background networking, a fresh profile), the watch
// on requests that would leave the machine, and the closing checks that
// make any console error, unexpected HTTP error or outside request a
// failure, and the accessibility check with axe-core.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// check(name, ok, info) counts one result; step(name, fn) runs a group of
// checks and counts a throw (a timeout...) as one failure; finish() prints
// the closing line and exits 1 on any failure.
export function report() {
    let passed = 0;
    let failed = 0;

    function check(name, ok, info = '') {
        if (ok) {
            passed++;
            console.log('ok   ' + name);
        } else {
            failed++;
            console.log('FAIL ' + name + (info ? ' : ' + info : ''));
        }
    }

    async function step(name, fn) {
        try {
            await fn();
        } catch (e) {
            check(name, false, String(e.message || e).split('\n')[0]);
        }
    }

    function finish() {
        console.log(passed + ' passed, ' + failed + ' failed');
        process.exit(failed ? 1 : 0);
    }

    return { check, step, finish };
}

// Chromium in a persistent context on E2E_PROFILE_DIR (kept) or a fresh
// temporary profile (removed by close()). `foreign` collects every
// http(s) request to a host other than this machine.
export async function launch() {
    const profile = process.env.E2E_PROFILE_DIR ||
        mkdtempSync(join(tmpdir(), 'guichet-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu',
            '--disable-quic', '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update', '--disable-sync'],
        viewport: { width: 1280, height: 900 },
        locale: 'fr-FR',
        timezoneId: 'Europe/Paris',
    });
    context.setDefaultTimeout(10000);
    const foreign = [];
    context.on('request', (req) => {
        const u = new URL(req.url());
        if (!['http:', 'https:'].includes(u.protocol)) return;
        if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
            foreign.push(req.url());
        }
    });

    async function close() {
        await context.close();
        if (!process.env.E2E_PROFILE_DIR) {
            rmSync(profile, { recursive: true, force: true });
        }
    }

    return { context, foreign, close };
}

// Does `locator` become visible (pages fill themselves in from the API,
// so "visible now" would race with their scripts)? Never throws.
export function visible(locator, timeout = 5000) {
    return locator.waitFor({ state: 'visible', timeout })
        .then(() => true, () => false);
}

// The closing checks of every test.
export function checkClean(check, { consoleErrors, badResponses, foreign }) {
    check('aucune erreur dans la console', consoleErrors.length === 0,
        consoleErrors.join(' | '));
    check('aucune réponse HTTP en erreur inattendue',
        badResponses.length === 0, badResponses.join(' | '));
    check('aucune requête hors de la machine locale', foreign.length === 0,
        foreign.join(' '));
}

// axe-core (WCAG 2.1 A and AA), read once from node_modules: returns
// axe(page, name), which checks the page as it is and counts a failure
// for any serious or critical violation. A missing axe-core is itself a
// failure (cd tests/e2e && npm ci), so no run passes without the check.
export function axeChecker(check) {
    let src = '';
    try {
        const require = createRequire(import.meta.url);
        src = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    } catch (e) {
        check('axe-core installé (cd tests/e2e && npm ci)', false,
            String(e.message || e));
    }
    return async (page, name) => {
        if (!src) return;
        const res = await page.evaluate(async (code) => {
            if (!window.axe) {
                // Through the DevTools protocol: the page's CSP does not
                // apply.
                (0, eval)(code);
            }
            const r = await window.axe.run(document, {
                runOnly: { type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
            });
            return r.violations.map((v) => ({
                id: v.id, impact: v.impact, n: v.nodes.length,
                target: v.nodes[0] && v.nodes[0].target.join(' '),
            }));
        }, src);
        const bad = res.filter((v) => v.impact === 'serious' ||
            v.impact === 'critical');
        check('axe : aucune violation grave — ' + name, bad.length === 0,
            bad.map((v) => v.id + ' (' + v.impact + ', ' + v.target + ')')
                .join(' ; '));
    };
}

// watch(page, expected): collects the page's console errors, uncaught
// exceptions and HTTP error responses, except those expected(method,
// path, status) says the test causes on purpose (it checks them itself).
// Chromium also logs every 4xx/5xx response on the console: those lines
// are left to the response check. `into` lets several pages share one
// pair of lists. Returns { consoleErrors, badResponses } for checkClean.
export function watch(page, expected = () => false,
    into = { consoleErrors: [], badResponses: [] }) {
    page.on('response', (r) => {
        if (r.status() < 400) return;
        const method = r.request().method();
        const path = new URL(r.url()).pathname;
        if (!expected(method, path, r.status())) {
            into.badResponses.push(method + ' ' + path + ' ' + r.status());
        }
    });
    page.on('console', (msg) => {
        if (msg.type() !== 'error' || msg.text().startsWith(
            'Failed to load resource: the server responded with a status of')) {
            return;
        }
        into.consoleErrors.push(msg.text() + ' @ ' + page.url());
    });
    page.on('pageerror', (err) => into.consoleErrors.push('exception: ' +
        err.message + ' @ ' + page.url()));
    return into;
}

// firstLogin(page, base, login, otp, password): signs in with the
// one-time password an account starts with and sets its own (the form
// every new account goes through); resolves on the dashboard.
export async function firstLogin(page, base, login, otp, password) {
    await page.goto(base + '/agent/connexion');
    await page.fill('#login', login);
    await page.fill('#password', otp);
    await page.click('button[type="submit"]');
    await page.waitForURL('**/agent/mot-de-passe');
    await page.fill('#pw-current', otp);
    await page.fill('#pw-new', password);
    await page.fill('#pw-confirm', password);
    await page.click('#pw-form button[type="submit"]');
    await page.waitForURL(base + '/agent');
}
