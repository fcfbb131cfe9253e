// kb-fiches.js - the knowledge base list: search, origin and display
// filters, paging, and « Masquer » / « Réafficher » for service-public
// fiches (administrators).

import { api, frDate } from './api.js';
import { clearErrors, h, showApiError, showStatus } from './form.js';
import { initShell } from './shell.js';

const PAGE = 50;
const form = document.getElementById('filter-form');
const body = document.getElementById('fiches-body');
const info = document.getElementById('list-status');
const status = document.getElementById('page-status');
const prev = document.getElementById('prev');
const next = document.getElementById('next');
let offset = 0;
let me = null;

function filters() {
    const q = new URLSearchParams();
    for (const k of ['q', 'origin', 'hidden']) {
        const v = form.elements[k].value.trim();
        if (v) q.set(k, v);
    }
    return q;
}

function states(f) {
    const out = [];
    if (f.origin === 'local') {
        if (f.expired) {
            out.push(h('span', { class: 'badge badge-off' }, 'Périmée'));
        } else {
            out.push(h('span', { class: 'badge badge-ok' }, 'Utilisée'));
        }
        if (f.valid_until) {
            out.push(' jusqu’au ' +
                new Date(f.valid_until).toLocaleDateString('fr-FR'));
        }
    } else if (f.hidden) {
        out.push(h('span', { class: 'badge badge-off' }, 'Masquée'));
    } else if (f.replaced_by) {
        out.push(h('span', { class: 'badge badge-off' }, 'Remplacée'),
            ' par ', h('a', { href: '/agent/fiches/' + f.replaced_by },
                f.replaced_by));
    } else {
        out.push(h('span', { class: 'badge badge-ok' }, 'Utilisée'));
    }
    return out;
}

function actions(f) {
    if (f.origin !== 'national' || !me || me.role !== 'admin') return null;
    const hide = !f.hidden;
    return h('button', {
        type: 'button',
        class: 'btn btn-small ' + (hide ? 'btn-secondary' : ''),
        onclick: () => setHidden(f, hide),
    }, hide ? 'Masquer' : 'Réafficher',
    h('span', { class: 'visually-hidden' }, ' la fiche ' + f.title));
}

function row(f) {
    const local = f.origin === 'local';
    return h('tr', {},
        h('td', {}, h('a', { href: '/agent/fiches/' + f.id }, f.title),
            ' ', h('code', {}, f.id)),
        h('td', {}, local ? 'Commune' : 'Service-public.fr'),
        h('td', {}, local ? (f.service || '—') : (f.context || '—')),
        h('td', {}, ...states(f)),
        h('td', { class: 'nowrap' }, local
            ? frDate(f.updated_at, '—') + (f.updated_by ? ' (' +
                f.updated_by + ')' : '')
            : (f.source_date
                ? new Date(f.source_date).toLocaleDateString('fr-FR')
                : '—')),
        h('td', {}, actions(f)));
}

async function load(announce) {
    const q = filters();
    q.set('offset', offset);
    q.set('limit', PAGE);
    let data;
    try {
        data = await api('GET', '/api/v1/kb/fiches?' + q);
    } catch (e) {
        showApiError(form, e, status);
        return;
    }
    body.replaceChildren(...data.fiches.map(row));
    prev.hidden = offset === 0;
    next.hidden = offset + data.fiches.length >= data.total;
    const n = data.fiches.length;
    let text;
    if (data.total === 0) {
        text = 'Aucune fiche ne correspond.';
    } else if (n === data.total) {
        text = data.total + ' fiche' + (data.total > 1 ? 's' : '') + '.';
    } else {
        text = 'Fiches ' + (offset + 1) + ' à ' + (offset + n) + ' sur ' +
            data.total + '.';
    }
    info.textContent = announce ? announce + ' ' + text : text;
}

async function setHidden(f, hidden) {
    status.textContent = '';
    try {
        await api('PUT', '/api/v1/kb/national/' +
            encodeURIComponent(f.id) + '/hidden', { hidden });
    } catch (e) {
        showStatus(status, e.message);
        return;
    }
    await load('Fiche ' + f.id + (hidden ? ' masquée : l’assistant ne ' +
        'l’utilise plus.' : ' réaffichée.'));
}

form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(form);
    status.textContent = '';
    offset = 0;
    load();
});
prev.addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    load();
});
next.addEventListener('click', () => {
    offset += PAGE;
    load();
});

me = await initShell();
if (me) {
    if (me.role === 'agent' || me.role === 'admin') {
        document.getElementById('new-link').hidden = false;
    }
    await load();
}
