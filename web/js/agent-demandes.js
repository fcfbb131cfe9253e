// agent-demandes.js - the request inbox (/agent/demandes): filters kept in
// the address bar, counts per status and per service, the list (number,
// subject, service with its confidence, urgency with its reasons, case
// size, status, channel, age, SLA timer in words), row selection and bulk
// actions (assign, service, status, one case), cursor paging and keyboard
// shortcuts (/, j, k, x).
//
// Default view: the open requests, « À trier » first — the list walks the
// open statuses in order (à trier, nouvelles, en cours, en attente), each
// with its own cursor, so that paging never mixes them up.
//
// Data: GET /api/v1/demandes, POST /api/v1/demandes/lot
// (docs/triage-api.md), GET /api/v1/triage/services, /api/v1/triage/agents
// and /api/v1/triage/compteurs.

import { api } from './api.js';
import { h, showStatus } from './form.js';
import { initShell } from './shell.js';
import {
    CHANNEL, OPEN, STATUS, URGENCY, agents, ageText, pct, reasonLabel, req,
    services, slaText,
} from './agent-demandes-common.js';

const PAGE = 50;
const form = document.getElementById('dm-filters');
const body = document.getElementById('dm-body');
const status = document.getElementById('dm-status');
const more = document.getElementById('dm-more');
const bulk = document.getElementById('dm-bulk');
const bulkStatus = document.getElementById('dm-bulk-status');
const selAll = document.getElementById('sel-all');
const pageStatus = document.getElementById('page-status');
const links = document.getElementById('dm-links');
const ROLE = links.dataset.role || 'lecteur';

let svcList = [];
let shown = 0;
// The walk through the statuses of the current filter: [{statut, cursor,
// done}], and the row count per status for the « À trier » headings.
let segments = [];
const selected = new Set();

// ----- filters <-> address bar

const FIELDS = ['statut', 'service', 'urgence', 'age', 'assigne', 'retard',
    'q', 'cas'];

function readState() {
    const u = new URLSearchParams(window.location.search);
    for (const f of FIELDS) {
        const el = form.elements.namedItem(f);
        const v = u.get(f) || '';
        if (el.type === 'checkbox') el.checked = v === '1';
        else if (el.tagName === 'SELECT' && v &&
            [...el.options].every((o) => o.value !== v)) {
            el.value = el.options[0].value; // an unknown value: the default
        } else if (f === 'cas' && !/^\d{1,18}$/.test(v)) {
            el.value = '';
        } else el.value = v || (f === 'statut' ? 'ouvertes' : '');
    }
    showCase();
}

// A case's requests (« 3 signalements » links here): said, and undone by
// one button.
function showCase() {
    const id = form.elements.cas.value;
    const note = document.getElementById('f-cas-note');
    note.hidden = !id;
    if (id) {
        document.getElementById('f-cas-text').textContent = 'Filtre : ' +
            'les demandes d’un même dossier, closes comprises.';
    }
}

function writeState() {
    const u = new URLSearchParams();
    for (const f of FIELDS) {
        const el = form.elements.namedItem(f);
        const v = el.type === 'checkbox' ? (el.checked ? '1' : '') : el.value;
        if (v && !(f === 'statut' && v === 'ouvertes')) u.set(f, v);
    }
    const qs = u.toString();
    history.replaceState(null, '', window.location.pathname +
        (qs ? '?' + qs : ''));
}

// The query of the API for one status of the walk.
function query(statut, cursor) {
    const u = new URLSearchParams();
    const f = form.elements;
    if (statut) u.set('statut', statut);
    if (f.service.value) {
        u.set('service', f.service.value === 'aucun' ? 'aucun'
            : f.service.value);
    }
    if (f.urgence.value) u.set('urgence', f.urgence.value);
    if (f.age.value) u.set('age_min_h', f.age.value);
    if (f.assigne.value === 'moi') u.set('assigne', 'moi');
    else if (f.assigne.value === 'personne') u.set('assigne', 'personne');
    if (f.retard.checked) u.set('en_retard', '1');
    const q = f.q.value.trim();
    if (q) u.set('q', q);
    if (f.cas.value) u.set('cas', f.cas.value);
    if (cursor) u.set('avant', cursor);
    u.set('limite', String(PAGE));
    return '/api/v1/demandes?' + u.toString();
}

function walk() {
    const s = form.elements.statut.value;
    if (s === 'ouvertes') return OPEN.map((x) => ({ statut: x }));
    if (s === 'toutes') return [{ statut: 'toutes' }];
    return [{ statut: s }];
}

// ----- rows

// The service, its confidence (or who chose it); for a request « à
// trier », the model's guess is only a suggestion.
function serviceCell(r) {
    if (!r.serviceId) {
        return [h('span', { class: 'dm-none' }, 'Aucun'),
            r.confidence ? h('br') : null,
            r.confidence ? h('small', {}, 'confiance ' + pct(r.confidence))
                : null];
    }
    const s = svcList.find((x) => x.id === r.serviceId);
    const name = r.serviceName || (s ? s.name : r.serviceCode);
    if (r.status === 'a_trier' && r.serviceSource !== 'agent') {
        return [h('span', { class: 'dm-none' }, 'Suggestion : ' + name),
            h('br'), h('small', {}, 'confiance ' + pct(r.confidence))];
    }
    const src = r.serviceSource === 'agent' ? 'choisi par un agent'
        : 'confiance ' + pct(r.confidence);
    return [name, h('br'), h('small', {}, src)];
}

function urgencyCell(r) {
    const label = URGENCY[r.urgency] || URGENCY[0];
    const reasons = r.reasons.map(reasonLabel).filter(Boolean);
    return [h('span', { class: 'dm-urg dm-urg-' + r.urgency }, label),
        reasons.length ? h('br') : null,
        reasons.length ? h('small', {}, reasons.join(', ')) : null];
}

function row(r) {
    const sla = slaText(r);
    const check = h('input', {
        type: 'checkbox', class: 'dm-sel', value: String(r.id),
        'aria-label': 'Sélectionner la demande ' + r.number,
    });
    check.checked = selected.has(r.id);
    check.addEventListener('change', () => {
        if (check.checked) selected.add(r.id);
        else selected.delete(r.id);
        updateSelection();
    });
    // The list gives an excerpt of the text when there is no subject.
    let subject = r.subject || r.body;
    if (subject.length > 90) subject = subject.slice(0, 90).trimEnd() + '…';
    return h('tr', { 'data-id': String(r.id),
        class: r.status === 'a_trier' ? 'dm-a-trier' : '' },
    h('td', {}, check),
    h('td', { class: 'nowrap' }, h('a', {
        href: '/agent/demandes/' + r.id, class: 'dm-open',
    }, r.number)),
    h('td', { class: 'dm-subject' }, subject || '(sans objet)',
        r.caseSize > 1 ? h('a', {
            class: 'badge dm-case',
            href: '/agent/demandes?statut=toutes&cas=' + (r.caseId || r.id),
            'aria-label': r.caseSize + ' signalements : voir les demandes ' +
                'du dossier de ' + r.number,
        }, r.caseSize + ' signalements') : null),
    h('td', {}, ...serviceCell(r)),
    h('td', {}, ...urgencyCell(r)),
    h('td', {}, STATUS[r.status] || r.status,
        r.assignedLogin ? h('br') : null,
        r.assignedLogin ? h('small', {}, 'attribuée à ' + r.assignedLogin)
            : null),
    h('td', { class: 'dm-when' }, h('span', { class: 'nowrap' },
        ageText(r.created)), h('small', {}, CHANNEL[r.channel] ||
        r.channel)),
    h('td', { class: 'nowrap' + (sla.late ? ' dm-late' : '') },
        sla.late ? h('strong', {}, sla.text) : sla.text));
}

// ----- loading

function listOf(res) {
    return (res && res.demandes) || [];
}

// The API's cursor for the next page (null at the end).
function cursorOf(res) {
    return res && res.suivant ? String(res.suivant) : '';
}

// Fill up to one page from the walk; `append` keeps the rows shown.
async function load(append = false) {
    if (!append) {
        segments = walk().map((s) => ({ ...s, cursor: '', done: false }));
        body.replaceChildren();
        shown = 0;
        selected.clear();
        updateSelection();
    }
    status.textContent = 'Chargement…';
    let got = 0;
    try {
        for (const seg of segments) {
            if (seg.done) continue;
            if (got >= PAGE) break;
            const statut = seg.statut === 'toutes' ? 'toutes' : seg.statut;
            const res = await api('GET', query(statut, seg.cursor));
            const rows = listOf(res).map(req);
            for (const r of rows) body.append(row(r));
            got += rows.length;
            shown += rows.length;
            seg.cursor = cursorOf(res);
            seg.done = !seg.cursor;
        }
    } catch (e) {
        status.textContent = '';
        showStatus(pageStatus, e.message);
        return;
    }
    const left = segments.some((s) => !s.done);
    more.hidden = !left;
    status.textContent = shown === 0
        ? 'Aucune demande ne correspond à ces filtres.'
        : shown + (shown > 1 ? ' demandes affichées' : ' demande affichée') +
            (left ? ' ; d’autres suivent.' : '.');
    selAll.checked = false;
}

async function loadCounts() {
    let c;
    try {
        c = await api('GET', '/api/v1/triage/compteurs');
    } catch (e) {
        return; // the list still works without its counts
    }
    const ul = document.getElementById('dm-counts-status');
    ul.replaceChildren();
    const add = (label, n, params) => {
        const u = new URLSearchParams(params);
        ul.append(h('li', {}, h('a', {
            href: '/agent/demandes' + (u.toString() ? '?' + u : ''),
            class: 'dm-count',
        }, label + ' ', h('strong', {}, String(n)))));
    };
    add('Ouvertes', c.ouvertes || 0, {});
    for (const s of Object.keys(STATUS)) {
        add(STATUS[s], (c.statuts || {})[s] || 0, { statut: s });
    }
    add('En retard', c.en_retard || 0, { retard: '1' });
    add('À moi', c.a_moi || 0, { assigne: 'moi' });
    add('Sans attribution', c.sans_attribution || 0,
        { assigne: 'personne' });
    const sv = document.getElementById('dm-counts-service');
    sv.replaceChildren();
    for (const row2 of (c.services || []).slice().sort((a, b) =>
        b.ouvertes - a.ouvertes)) {
        const s = svcList.find((x) => x.id === row2.service_id);
        const name = row2.service_id === 0 ? 'Aucun (à trier)'
            : (s ? s.name : 'Service ' + row2.service_id);
        const param = row2.service_id === 0 ? 'aucun'
            : String(row2.service_id);
        sv.append(h('li', {}, h('a', {
            href: '/agent/demandes?service=' + param,
        }, name), ' : ' + row2.ouvertes +
            (row2.ouvertes > 1 ? ' ouvertes' : ' ouverte') +
            (row2.en_retard ? ', dont ' + row2.en_retard + ' en retard'
                : '')));
    }
    if (!sv.children.length) {
        sv.append(h('li', {}, 'Aucune demande ouverte.'));
    }
}

// ----- selection and bulk actions

function updateSelection() {
    const n = selected.size;
    document.getElementById('dm-selected').textContent = n === 0
        ? 'Aucune demande sélectionnée.'
        : n + (n > 1 ? ' demandes sélectionnées.'
            : ' demande sélectionnée.');
    document.getElementById('b-apply').disabled = n === 0 ||
        ROLE === 'lecteur';
}

function showAction() {
    const a = bulk.elements.action.value;
    for (const el of bulk.querySelectorAll('[data-for]')) {
        el.hidden = el.dataset.for !== a;
    }
}

async function applyBulk(ev) {
    ev.preventDefault();
    const ids = [...selected];
    if (!ids.length) return;
    const a = bulk.elements.action.value;
    const payload = { ids };
    let what = '';
    if (a === 'assigne') {
        payload.assigne = Number(bulk.elements.assigne.value) || null;
        what = payload.assigne ? 'attribuées' : 'sans attribution';
    } else if (a === 'service') {
        payload.service = Number(bulk.elements.service.value) || null;
        what = payload.service ? 'envoyées au service choisi'
            : 'remises à trier';
    } else if (a === 'statut') {
        payload.statut = bulk.elements.statut.value;
        what = 'passées au statut « ' + STATUS[payload.statut] + ' »';
    } else if (a === 'cas') {
        if (ids.length < 2) {
            showStatus(bulkStatus, 'Sélectionnez au moins deux demandes ' +
                'à regrouper.');
            return;
        }
        payload.cas = Math.min(...ids);
        what = 'regroupées dans un même dossier';
    }
    try {
        await api('POST', '/api/v1/demandes/lot', payload);
    } catch (e) {
        bulkStatus.className = 'alert alert-error';
        showStatus(bulkStatus, e.message);
        return;
    }
    await load();
    loadCounts();
    bulkStatus.className = 'alert alert-ok';
    bulkStatus.textContent = ids.length +
        (ids.length > 1 ? ' demandes ' : ' demande ') + what + '.';
}

// ----- keyboard: / search, j/k next/previous row, x select

function rowLinks() {
    return [...body.querySelectorAll('a.dm-open')];
}

function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t.matches('input:not([type="checkbox"]), textarea, select')) return;
    if (ev.key === '/') {
        ev.preventDefault();
        form.elements.q.focus();
        return;
    }
    if (ev.key !== 'j' && ev.key !== 'k' && ev.key !== 'x') return;
    const tr = t.closest ? t.closest('#dm-body tr') : null;
    if (ev.key === 'x') {
        if (!tr) return;
        ev.preventDefault();
        tr.querySelector('input.dm-sel').click();
        return;
    }
    const all = rowLinks();
    if (!all.length) return;
    ev.preventDefault();
    let i = tr ? all.indexOf(tr.querySelector('a.dm-open')) : -1;
    i = ev.key === 'j' ? Math.min(all.length - 1, i + 1)
        : Math.max(0, i - 1);
    all[i].focus();
}

// ----- start

async function start() {
    const me = await initShell();
    if (!me) return;
    if (me.role === 'admin') {
        for (const el of document.querySelectorAll('.dm-admin')) {
            el.hidden = false;
        }
    }
    try {
        svcList = await services();
    } catch (e) {
        showStatus(pageStatus, e.message);
        svcList = [];
    }
    const fs = form.elements.service;
    const bs = bulk.elements.service;
    for (const s of svcList) {
        fs.append(h('option', { value: String(s.id) },
            s.name + (s.active ? '' : ' (désactivé)')));
        if (s.active) bs.append(h('option', { value: String(s.id) }, s.name));
    }
    bs.prepend(h('option', { value: '0' }, 'Aucun (remettre à trier)'));
    bs.value = svcList.length ? String(svcList[0].id) : '0';
    if (ROLE === 'lecteur') {
        bulk.hidden = true;
    } else {
        agents().then((list) => {
            for (const a of list) {
                bulk.elements.assigne.append(h('option',
                    { value: String(a.id) }, a.nom + (a.moi ? ' (moi)' : '')));
            }
        }).catch(() => {});
    }
    readState();
    form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        writeState();
        load();
    });
    document.getElementById('f-cas-clear').addEventListener('click', () => {
        form.elements.cas.value = '';
        showCase();
        writeState();
        load();
        form.elements.statut.focus();
    });
    document.getElementById('f-reset').addEventListener('click', () => {
        form.reset();
        form.elements.cas.value = '';
        showCase();
        form.elements.statut.value = 'ouvertes';
        writeState();
        load();
    });
    // New requests arrive all day: the list and the counts again, same
    // filters.
    document.getElementById('dm-refresh').addEventListener('click', () => {
        load();
        loadCounts();
    });
    more.addEventListener('click', async () => {
        const before = body.children.length;
        await load(true);
        const next = body.children[before];
        if (next) next.querySelector('a.dm-open').focus();
    });
    selAll.addEventListener('change', () => {
        for (const c of body.querySelectorAll('input.dm-sel')) {
            c.checked = selAll.checked;
            if (selAll.checked) selected.add(Number(c.value));
            else selected.delete(Number(c.value));
        }
        updateSelection();
    });
    bulk.elements.action.addEventListener('change', showAction);
    bulk.addEventListener('submit', applyBulk);
    document.addEventListener('keydown', onKey);
    showAction();
    updateSelection();
    await Promise.all([load(), loadCounts()]);
}

start();
