// users.js - manage the commune's accounts: list, create (one-time
// password shown once), change role, disable or enable, reset password.

import { api, frDate, ROLE_LABELS } from '../api.js';
import { clearErrors, fieldError, h, showApiError, showStatus }
    from '../form.js';
import { initShell } from '../shell.js';

const status = document.getElementById('page-status');
const body = document.getElementById('agents-body');
const listStatus = document.getElementById('list-status');
const createForm = document.getElementById('create-form');
let me = null;

function showSecret(text, password) {
    document.getElementById('otp-text').textContent = text;
    document.getElementById('otp-value').textContent = password;
    const box = document.getElementById('otp-box');
    box.hidden = false;
    box.setAttribute('tabindex', '-1');
    box.focus();
}

function roleSelect(a) {
    const id = 'role-' + a.id;
    const select = h('select', { id, 'aria-label': 'Rôle de ' + a.login });
    for (const r of ['lecteur', 'agent', 'admin']) {
        select.append(h('option', { value: r, selected: r === a.role },
            ROLE_LABELS[r]));
    }
    const save = h('button', {
        type: 'button', class: 'btn btn-small btn-secondary',
        onclick: () => patch(a, { role: select.value },
            'Rôle de ' + a.login + ' modifié.'),
    }, 'Modifier', h('span', { class: 'visually-hidden' },
        ' le rôle de ' + a.login));
    return h('div', { class: 'actions' }, select, save);
}

function row(a) {
    const self = me && a.login === me.login;
    const toggle = h('button', {
        type: 'button',
        class: 'btn btn-small ' + (a.disabled ? 'btn-secondary'
            : 'btn-danger'),
        onclick: () => patch(a, { disabled: !a.disabled },
            'Compte ' + a.login + (a.disabled ? ' réactivé.'
                : ' désactivé.')),
    }, a.disabled ? 'Réactiver' : 'Désactiver',
        h('span', { class: 'visually-hidden' }, ' ' + a.login));
    const reset = h('button', {
        type: 'button', class: 'btn btn-small btn-secondary',
        onclick: () => resetPassword(a),
    }, 'Nouveau mot de passe', h('span', { class: 'visually-hidden' },
        ' pour ' + a.login));
    return h('tr', {},
        h('td', {}, h('code', {}, a.login), self ? ' (vous)' : null),
        h('td', {}, a.name, a.email ? h('br') : null, a.email || null),
        h('td', {}, roleSelect(a)),
        h('td', {}, h('span', {
            class: 'badge ' + (a.disabled ? 'badge-off' : 'badge-ok'),
        }, a.disabled ? 'Désactivé' : 'Actif'),
        a.must_change_password ? h('br') : null,
        a.must_change_password ? 'mot de passe à changer' : null),
        h('td', { class: 'nowrap' }, frDate(a.last_login_at)),
        h('td', {}, h('div', { class: 'actions' }, toggle, reset)));
}

async function load(announce) {
    let data;
    try {
        data = await api('GET', '/api/v1/agents');
    } catch (e) {
        showStatus(status, e.message);
        return;
    }
    body.replaceChildren(...data.agents.map(row));
    listStatus.textContent = announce ||
        data.agents.length + ' compte(s).';
}

async function patch(a, change, okMsg) {
    status.textContent = '';
    try {
        await api('PATCH', '/api/v1/agents/' + a.id, change);
    } catch (e) {
        showStatus(status, e.message);
        await load();
        return;
    }
    await load(okMsg);
}

async function resetPassword(a) {
    status.textContent = '';
    try {
        const r = await api('POST', '/api/v1/agents/' + a.id + '/password');
        showSecret('Nouveau mot de passe à usage unique de « ' + r.login +
            ' »\u00a0:', r.password);
    } catch (e) {
        showStatus(status, e.message);
    }
    await load();
}

createForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(createForm);
    status.textContent = '';
    const f = createForm.elements;
    const login = f.login.value.trim().toLowerCase();
    const name = f.name.value.trim();
    if (!/^[a-z0-9._-]{2,64}$/.test(login)) {
        fieldError(createForm, 'login', 'Identifiant invalide\u00a0: 2 à 64 ' +
            'caractères parmi minuscules, chiffres, point, tiret et tiret ' +
            'bas.');
        return;
    }
    if (!name) {
        fieldError(createForm, 'name', 'Le nom est obligatoire.');
        return;
    }
    let r;
    try {
        r = await api('POST', '/api/v1/agents', {
            login, name, email: f.email.value.trim(), role: f.role.value,
        });
    } catch (e) {
        showApiError(createForm, e, status);
        return;
    }
    createForm.reset();
    showSecret('Compte « ' + r.login + ' » créé. Mot de passe à usage ' +
        'unique\u00a0:', r.password);
    await load('Compte ' + r.login + ' créé.');
});

me = await initShell();
if (me) await load();
