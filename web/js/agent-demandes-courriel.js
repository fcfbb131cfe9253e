// agent-demandes-courriel.js - the e-mail sources of the inbox
// (/agent/demandes/courriel, administrators): Maildir or mbox path, or
// IMAP URL with its user and a write-only password; how often it is read,
// the last run and its error, « Relever maintenant ».
//
// Data: GET/POST/PUT/DELETE /api/v1/triage/sources-courriel[/{id}] and
// POST /api/v1/triage/sources-courriel/{id}/releve (docs/triage-api.md).

import { api } from './api.js';
import { clearErrors, h, showApiError, showStatus } from './form.js';
import { initShell } from './shell.js';
import { frTime, when } from './agent-demandes-common.js';

const PATH = '/api/v1/triage/sources-courriel';
const KIND = { imap: 'IMAP', maildir: 'Maildir', mbox: 'mbox' };
const tbody = document.getElementById('src-body');
const form = document.getElementById('src-form');
const formStatus = document.getElementById('src-form-status');
const listStatus = document.getElementById('src-status');
const pageStatus = document.getElementById('page-status');
let list = [];

// API error fields to this form's inputs.
const FIELD = { type: 'type', emplacement: 'emplacement',
    identifiant: 'identifiant', secret: 'secret', periode_s: 'periode_min',
    actif: 'actif' };

function norm(s) {
    return {
        id: s.id,
        kind: s.type || '',
        location: s.emplacement || '',
        user: s.identifiant || '',
        hasPassword: !!s.secret_defini,
        period: Number(s.periode_s || 300),
        lastRun: when(s.derniere_releve),
        lastError: s.derniere_erreur || '',
        active: s.actif !== false,
    };
}

function every(sec) {
    const min = Math.round(sec / 60);
    if (min >= 60 && min % 60 === 0) return 'toutes les ' + (min / 60) + ' h';
    return 'toutes les ' + min + ' min';
}

function render() {
    tbody.replaceChildren();
    for (const s of list) {
        const last = s.lastRun ? frTime(s.lastRun) : 'jamais';
        tbody.append(h('tr', {},
            h('td', {}, KIND[s.kind] || s.kind),
            h('th', { scope: 'row' }, h('code', {}, s.location)),
            h('td', {}, s.user || '—'),
            h('td', {}, every(s.period)),
            h('td', {}, last, s.lastError ? h('br') : null,
                s.lastError ? h('strong', { class: 'dm-late' },
                    'Erreur : ' + s.lastError) : null),
            h('td', {}, s.active ? 'oui' : 'non'),
            h('td', {}, h('span', { class: 'actions' },
                h('button', {
                    type: 'button', class: 'btn btn-small',
                    'aria-label': 'Relever maintenant ' + s.location,
                    onclick: (ev) => fetchNow(s, ev.currentTarget),
                }, 'Relever maintenant'),
                h('button', {
                    type: 'button', class: 'btn btn-small btn-secondary',
                    'aria-label': 'Modifier ' + s.location,
                    onclick: () => edit(s),
                }, 'Modifier'),
                h('button', {
                    type: 'button', class: 'btn btn-small btn-danger',
                    'aria-label': 'Supprimer ' + s.location,
                    onclick: () => remove(s),
                }, 'Supprimer')))));
    }
    if (!list.length) {
        tbody.append(h('tr', {}, h('td', { colspan: '7' },
            'Aucune boîte aux lettres relevée : les demandes arrivent par ' +
            'le formulaire, l’assistant et le téléphone.')));
    }
    listStatus.textContent = list.length + (list.length > 1
        ? ' sources.' : ' source.');
}

async function reload() {
    const r = await api('GET', PATH);
    list = (r.sources || []).map(norm);
    render();
}

async function fetchNow(s, btn) {
    btn.disabled = true;
    listStatus.textContent = 'Relevé de ' + s.location + ' en cours…';
    let r;
    try {
        r = await api('POST', PATH + '/' + s.id + '/releve');
    } catch (e) {
        btn.disabled = false;
        listStatus.textContent = '';
        showStatus(pageStatus, e.message);
        await reload().catch(() => {});
        return;
    }
    await reload();
    const n = (k) => Number((r && (r[k] ?? (r.bilan || {})[k])) || 0);
    listStatus.textContent = 'Relevé terminé : ' + n('vus') +
        ' message(s) lu(s), ' + n('crees') + ' nouvelle(s) demande(s), ' +
        n('rattaches') + ' réponse(s) rattachée(s) à une demande, ' +
        n('ignores') + ' ignoré(s), ' + n('echecs') + ' en échec.';
}

function showKind() {
    const imap = form.elements.type.value === 'imap';
    for (const el of form.querySelectorAll('[data-imap]')) {
        el.hidden = !imap;
    }
}

function edit(s) {
    clearErrors(form);
    formStatus.textContent = '';
    form.elements.sid.value = String(s.id);
    form.elements.type.value = s.kind;
    form.elements.emplacement.value = s.location;
    form.elements.identifiant.value = s.user;
    form.elements.secret.value = '';
    form.elements.secret.placeholder = s.hasPassword
        ? 'inchangé' : '';
    form.elements.periode_min.value = String(Math.max(1,
        Math.round(s.period / 60)));
    form.elements.actif.checked = s.active;
    showKind();
    document.getElementById('src-form-title').textContent =
        'Modifier la source';
    document.getElementById('m-submit').textContent = 'Enregistrer';
    document.getElementById('m-cancel').hidden = false;
    form.elements.emplacement.focus();
}

function resetForm() {
    form.reset();
    form.elements.sid.value = '';
    form.elements.secret.placeholder = '';
    showKind();
    document.getElementById('src-form-title').textContent =
        'Ajouter une source';
    document.getElementById('m-submit').textContent = 'Ajouter la source';
    document.getElementById('m-cancel').hidden = true;
}

async function remove(s) {
    if (!window.confirm('Ne plus relever ' + s.location + ' ?')) return;
    try {
        await api('DELETE', PATH + '/' + s.id);
    } catch (e) {
        showStatus(pageStatus, e.message);
        return;
    }
    await reload();
    listStatus.textContent = 'Source supprimée.';
}

async function onSubmit(ev) {
    ev.preventDefault();
    clearErrors(form);
    formStatus.className = 'alert';
    formStatus.textContent = '';
    const f = form.elements;
    const id = Number(f.sid.value || 0);
    const bad = (name, msg) => showApiError(form, { field: name,
        message: msg }, formStatus);
    const loc = f.emplacement.value.trim();
    const min = Number(f.periode_min.value);
    if (!loc) return bad('emplacement', 'Indiquez l’emplacement.');
    if (f.type.value === 'imap' && !/^imaps?:\/\/[^/\s]+/i.test(loc)) {
        return bad('emplacement', 'Adresse IMAP invalide : écrivez-la ' +
            'comme imaps://mail.mairie.fr/INBOX.');
    }
    if (f.type.value !== 'imap' && !loc.startsWith('/')) {
        return bad('emplacement', 'Indiquez le chemin complet, qui ' +
            'commence par /.');
    }
    if (!Number.isInteger(min) || min < 1 || min > 1440) {
        return bad('periode_min', 'La fréquence est un nombre de minutes ' +
            'entre 1 et 1440.');
    }
    const body = {
        type: f.type.value,
        emplacement: loc,
        identifiant: f.type.value === 'imap' ? f.identifiant.value.trim()
            : '',
        periode_s: min * 60,
        actif: f.actif.checked,
    };
    // Write-only: sent only when typed, so that an edit keeps the secret.
    if (f.secret.value) body.secret = f.secret.value;
    try {
        if (id) await api('PUT', PATH + '/' + id, body);
        else await api('POST', PATH, body);
    } catch (e) {
        showApiError(form, { field: FIELD[e.field] || e.field,
            message: e.message }, formStatus);
        formStatus.classList.add('alert-error');
        return;
    }
    resetForm();
    await reload();
    formStatus.className = 'alert alert-ok';
    formStatus.textContent = id ? 'Source enregistrée.'
        : 'Source ajoutée ; elle sera relevée à la fréquence choisie.';
}

async function start() {
    const me = await initShell();
    if (!me) return;
    form.elements.type.addEventListener('change', showKind);
    form.addEventListener('submit', onSubmit);
    document.getElementById('m-cancel').addEventListener('click', () => {
        resetForm();
        form.elements.emplacement.focus();
    });
    showKind();
    try {
        await reload();
    } catch (e) {
        showStatus(pageStatus, e.message);
    }
}

start();
