// shell.js - what every back-office page shares: who is connected, the
// active commune and its switcher, the admin menu, the current page in the
// navigation, and the logout button.

import { api, ApiError, setCsrf, toLogin, ROLE_LABELS } from './api.js';
import { showStatus } from './form.js';

function markCurrent() {
    const here = window.location.pathname.replace(/\/$/, '');
    for (const a of document.querySelectorAll('.bo-nav a')) {
        if (a.getAttribute('href') === here) {
            a.setAttribute('aria-current', 'page');
        }
    }
}

function fillSwitcher(me) {
    const form = document.getElementById('commune-switch');
    const select = document.getElementById('commune-select');
    const label = document.getElementById('me-commune');
    const communes = me.communes || [];
    if (communes.length > 1) {
        select.replaceChildren();
        for (const c of communes) {
            const o = document.createElement('option');
            o.value = c.insee;
            o.textContent = c.name + ' (' + c.insee + ')';
            if (c.insee === me.commune.insee) o.selected = true;
            select.append(o);
        }
        form.hidden = false;
        label.hidden = true;
        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            try {
                await api('PUT', '/api/v1/session',
                    { commune: select.value });
                window.location.reload();
            } catch (e) {
                showStatus(document.getElementById('page-status'),
                    e.message);
            }
        });
    } else {
        label.textContent = me.commune.name;
    }
}

// The training sandbox (src/academy): a commune whose code lies in
// 99900..99999. Every back-office page then says so, with a way back.
function sandboxBanner(me) {
    const banner = document.getElementById('sandbox-banner');
    if (!banner || !me.commune || !/^999\d\d$/.test(me.commune.insee)) {
        return;
    }
    banner.hidden = false;
    document.getElementById('sandbox-leave').addEventListener('click',
        async () => {
            try {
                await api('POST', '/api/v1/formation/bac-a-sable/sortir', {});
                window.location.assign('/agent/formation?fait=sortie');
            } catch (e) {
                showStatus(document.getElementById('page-status'),
                    e.message);
            }
        });
}

async function logout() {
    try {
        await api('DELETE', '/api/v1/session', undefined,
            { noRedirect: true });
    } catch (e) {
        // Logged out anyway from this page's point of view.
    }
    toLogin();
}

// Load the session (GET /api/v1/session: login, name, role, commune,
// communes, must_change_password, csrf) and set the page up. Resolves to
// it, or to null when the page cannot be used (an error is then shown).
export async function initShell({ allowMustChange = false } = {}) {
    markCurrent();
    document.getElementById('logout').addEventListener('click', logout);
    let me;
    try {
        me = await api('GET', '/api/v1/session');
    } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 401) {
            showStatus(document.getElementById('page-status'), e.message);
        }
        return null;
    }
    setCsrf(me.csrf);
    if (me.must_change_password && !allowMustChange) {
        window.location.assign('/agent/mot-de-passe');
        return null;
    }
    document.getElementById('me-name').textContent = me.name || me.login;
    document.getElementById('me-role').textContent =
        ROLE_LABELS[me.role] || me.role;
    fillSwitcher(me);
    sandboxBanner(me);
    document.getElementById('bo-user').hidden = false;
    if (me.role === 'admin') {
        document.getElementById('nav-admin').hidden = false;
    }
    return me;
}
