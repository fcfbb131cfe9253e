// commune.js - the commune's public information and its API tokens.

import { api, frDate, ROLE_LABELS } from '../api.js';
import { clearErrors, fieldError, h, showApiError, showStatus }
    from '../form.js';
import { initShell } from '../shell.js';

const status = document.getElementById('page-status');
const cform = document.getElementById('commune-form');
const tform = document.getElementById('token-form');
const tbody = document.getElementById('tokens-body');
const FIELDS = ['name', 'hours', 'address', 'phone', 'email'];

async function loadCommune() {
    const c = await api('GET', '/api/v1/commune');
    for (const k of FIELDS) cform.elements[k].value = c[k] || '';
}

function tokenRow(t) {
    const revoke = t.revoked ? null : h('button', {
        type: 'button', class: 'btn btn-small btn-danger',
        onclick: async () => {
            try {
                await api('DELETE', '/api/v1/tokens/' + t.id);
            } catch (e) {
                showStatus(status, e.message);
            }
            await loadTokens();
        },
    }, 'Révoquer', h('span', { class: 'visually-hidden' }, ' ' + t.name));
    return h('tr', {},
        h('td', {}, t.name),
        h('td', {}, ROLE_LABELS[t.role] || t.role),
        h('td', { class: 'nowrap' }, frDate(t.created_at)),
        h('td', { class: 'nowrap' }, frDate(t.last_used_at)),
        h('td', {}, h('span', {
            class: 'badge ' + (t.revoked ? 'badge-off' : 'badge-ok'),
        }, t.revoked ? 'Révoqué' : 'Actif')),
        h('td', {}, revoke));
}

async function loadTokens() {
    const data = await api('GET', '/api/v1/tokens');
    tbody.replaceChildren(...data.tokens.map(tokenRow));
    if (!data.tokens.length) {
        tbody.append(h('tr', {}, h('td', { colspan: '6' },
            'Aucun jeton pour l’instant.')));
    }
}

cform.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(cform);
    status.textContent = '';
    const body = {};
    for (const k of FIELDS) body[k] = cform.elements[k].value.trim();
    if (!body.name) {
        fieldError(cform, 'name', 'Le nom de la commune est obligatoire.');
        return;
    }
    try {
        await api('PUT', '/api/v1/commune', body);
    } catch (e) {
        showApiError(cform, e, status);
        return;
    }
    showStatus(document.getElementById('commune-done'),
        'Informations enregistrées.');
});

tform.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(tform);
    status.textContent = '';
    const name = tform.elements.name.value.trim();
    if (!name) {
        fieldError(tform, 'name', 'Le nom du jeton est obligatoire.');
        return;
    }
    let r;
    try {
        r = await api('POST', '/api/v1/tokens',
            { name, role: tform.elements.role.value });
    } catch (e) {
        showApiError(tform, e, status);
        return;
    }
    tform.reset();
    document.getElementById('secret-text').textContent =
        'Jeton « ' + r.name + ' » créé. Secret\u00a0:';
    document.getElementById('secret-value').textContent = r.secret;
    const box = document.getElementById('secret-box');
    box.hidden = false;
    box.setAttribute('tabindex', '-1');
    box.focus();
    await loadTokens();
});

if (await initShell()) {
    try {
        await loadCommune();
        await loadTokens();
    } catch (e) {
        showStatus(status, e.message);
    }
}
