// journal.js - the audit log with filters, paging and CSV export.

import { api, frDate } from '../api.js';
import { clearErrors, h, showApiError, showStatus } from '../form.js';
import { initShell } from '../shell.js';

const form = document.getElementById('filter-form');
const body = document.getElementById('journal-body');
const more = document.getElementById('more');
const csv = document.getElementById('csv-link');
const info = document.getElementById('journal-status');
const status = document.getElementById('page-status');
let before = null;

function filters() {
    const q = new URLSearchParams();
    for (const k of ['actor', 'action', 'since', 'until']) {
        const v = form.elements[k].value.trim();
        if (v) q.set(k, v);
    }
    return q;
}

function row(e) {
    return h('tr', {},
        h('td', { class: 'nowrap' }, frDate(e.at)),
        h('td', {}, e.actor),
        h('td', {}, h('code', {}, e.action)),
        h('td', {}, e.target),
        h('td', {}, e.detail));
}

async function load(append) {
    const q = filters();
    csv.href = '/api/v1/audit.csv' + (q.toString() ? '?' + q : '');
    if (append && before) q.set('before', before);
    let data;
    try {
        data = await api('GET', '/api/v1/audit?' + q);
    } catch (e) {
        showApiError(form, e, status);
        return;
    }
    const rows = data.entries.map(row);
    if (append) body.append(...rows);
    else body.replaceChildren(...rows);
    before = data.next_before;
    more.hidden = !before;
    const n = body.children.length;
    info.textContent = n === 0 ? 'Aucune entrée ne correspond aux filtres.'
        : n + ' entrée' + (n > 1 ? 's' : '') + ' affichée' +
        (n > 1 ? 's' : '') + '.';
}

form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(form);
    status.textContent = '';
    const s = form.elements.since.value;
    const u = form.elements.until.value;
    if (s && u && s > u) {
        showStatus(status, 'La date de début doit précéder la date de fin.');
        return;
    }
    load(false);
});
more.addEventListener('click', () => load(true));

if (await initShell()) await load(false);
