// agent-demandes-modeles.js - reply templates (/agent/demandes/modeles):
// the list, and for agents and administrators a form to add, edit and
// delete one (name, service it is offered for, text with the {numero},
// {nom}, {service} and {commune} placeholders).
//
// Data: GET/POST/PUT/DELETE /api/v1/triage/modeles-reponse[/{id}],
// GET /api/v1/triage/services (docs/triage-api.md).

import { api } from './api.js';
import { clearErrors, h, showApiError, showStatus } from './form.js';
import { initShell } from './shell.js';
import { services } from './agent-demandes-common.js';

const ROLE = document.getElementById('tpl-h1').dataset.role || 'lecteur';
const CAN_EDIT = ROLE === 'agent' || ROLE === 'admin';
const tbody = document.getElementById('tpl-body');
const form = document.getElementById('tpl-form');
const formStatus = document.getElementById('tpl-form-status');
const listStatus = document.getElementById('tpl-status');
const pageStatus = document.getElementById('page-status');
const PATH = '/api/v1/triage/modeles-reponse';
let svcList = [];
let list = [];

const FIELD = { nom: 'nom', texte: 'texte', service: 'service' };

function norm(t) {
    return {
        id: t.id,
        name: t.nom || '',
        body: t.texte || '',
        serviceId: Number(t.service) || 0,
    };
}

function svcName(id) {
    if (!id) return 'Tous les services';
    const s = svcList.find((x) => x.id === id);
    return s ? s.name : 'Service ' + id;
}

function render() {
    tbody.replaceChildren();
    for (const t of list) {
        const excerpt = t.body.length > 160 ? t.body.slice(0, 160) + '…'
            : t.body;
        tbody.append(h('tr', {},
            h('th', { scope: 'row' }, t.name),
            h('td', {}, svcName(t.serviceId)),
            h('td', { class: 'tpl-text' }, excerpt),
            h('td', {}, CAN_EDIT ? h('span', { class: 'actions' },
                h('button', {
                    type: 'button', class: 'btn btn-small',
                    'aria-label': 'Modifier le modèle ' + t.name,
                    onclick: () => edit(t),
                }, 'Modifier'),
                h('button', {
                    type: 'button', class: 'btn btn-small btn-danger',
                    'aria-label': 'Supprimer le modèle ' + t.name,
                    onclick: () => remove(t),
                }, 'Supprimer')) : '—')));
    }
    if (!list.length) {
        tbody.append(h('tr', {}, h('td', { colspan: '4' },
            'Aucun modèle de réponse pour l’instant.')));
    }
    listStatus.textContent = list.length + (list.length > 1
        ? ' modèles.' : ' modèle.');
}

async function reload() {
    const r = await api('GET', PATH);
    list = (r.modeles || []).map(norm);
    list.sort((a, b) => a.name.localeCompare(b.name, 'fr'));
    render();
}

function edit(t) {
    clearErrors(form);
    formStatus.textContent = '';
    form.elements.tid.value = String(t.id);
    form.elements.nom.value = t.name;
    form.elements.service.value = String(t.serviceId);
    form.elements.texte.value = t.body;
    document.getElementById('tpl-form-title').textContent =
        'Modifier le modèle « ' + t.name + ' »';
    document.getElementById('t-submit').textContent = 'Enregistrer';
    document.getElementById('t-cancel').hidden = false;
    form.elements.nom.focus();
}

function resetForm() {
    form.reset();
    form.elements.tid.value = '';
    document.getElementById('tpl-form-title').textContent =
        'Ajouter un modèle';
    document.getElementById('t-submit').textContent = 'Ajouter le modèle';
    document.getElementById('t-cancel').hidden = true;
}

async function remove(t) {
    if (!window.confirm('Supprimer le modèle « ' + t.name + ' » ?')) return;
    try {
        await api('DELETE', PATH + '/' + t.id);
    } catch (e) {
        showStatus(pageStatus, e.message);
        return;
    }
    await reload();
    listStatus.textContent = 'Modèle « ' + t.name + ' » supprimé.';
    form.elements.nom.focus();
}

async function onSubmit(ev) {
    ev.preventDefault();
    clearErrors(form);
    formStatus.className = 'alert';
    formStatus.textContent = '';
    const f = form.elements;
    const id = Number(f.tid.value || 0);
    const bad = (name, msg) => showApiError(form, { field: name,
        message: msg }, formStatus);
    const nom = f.nom.value.trim();
    const texte = f.texte.value.trim();
    if (!nom) return bad('nom', 'Indiquez le nom du modèle.');
    if (!texte) return bad('texte', 'Écrivez le texte du modèle.');
    const body = { nom, texte, service: Number(f.service.value) || null };
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
    formStatus.textContent = 'Modèle « ' + nom + ' » ' +
        (id ? 'enregistré.' : 'ajouté.');
}

async function start() {
    const me = await initShell();
    if (!me) return;
    try {
        svcList = await services();
    } catch (e) {
        svcList = [];
    }
    const sel = form.elements.service;
    for (const s of svcList) {
        sel.append(h('option', { value: String(s.id) }, s.name));
    }
    try {
        await reload();
    } catch (e) {
        showStatus(pageStatus, e.message);
    }
    if (CAN_EDIT) {
        document.getElementById('tpl-edit').hidden = false;
        form.addEventListener('submit', onSubmit);
        document.getElementById('t-cancel').addEventListener('click', () => {
            resetForm();
            form.elements.nom.focus();
        });
    }
}

start();
