// agent-demandes-services.js - the commune's taxonomy and its triage model
// (/agent/demandes/services, administrators): add, rename, describe,
// deactivate and reorder services, each one's threshold (what it means is
// written next to it) and SLA; the model card (version, date, examples,
// corrections since) and « Réentraîner maintenant ».
//
// Data: GET/POST/PUT /api/v1/triage/services[/{id}], GET/POST
// /api/v1/triage/modele (docs/triage-api.md).

import { api } from './api.js';
import { clearErrors, h, showApiError, showStatus } from './form.js';
import { initShell } from './shell.js';
import { frTime, pct, resetServices, services, when }
    from './agent-demandes-common.js';

const tbody = document.getElementById('svc-body');
const form = document.getElementById('svc-form');
const formStatus = document.getElementById('svc-form-status');
const listStatus = document.getElementById('svc-status');
const pageStatus = document.getElementById('page-status');
let list = [];

// The API's body for a service (French field names of
// docs/triage-api.md).
function payload(s) {
    return {
        code: s.code,
        nom: s.name,
        description: s.description,
        courriel: s.email,
        seuil: s.threshold,
        delai_h: s.sla,
        position: s.position,
        actif: s.active,
    };
}

// API error fields back to this form's inputs.
const FIELD = { nom: 'nom', code: 'code', description: 'description',
    courriel: 'courriel', seuil: 'seuil', delai_h: 'delai_h' };

function slaText(hours) {
    if (hours % 24 === 0) {
        const d = hours / 24;
        return d + (d > 1 ? ' jours' : ' jour');
    }
    return hours + ' h';
}

function render() {
    tbody.replaceChildren();
    list.sort((a, b) => a.position - b.position || a.id - b.id);
    list.forEach((s, i) => {
        const up = h('button', {
            type: 'button', class: 'btn btn-small btn-secondary',
            'aria-label': 'Monter ' + s.name, disabled: i === 0,
            onclick: () => move(i, -1),
        }, 'Monter');
        const down = h('button', {
            type: 'button', class: 'btn btn-small btn-secondary',
            'aria-label': 'Descendre ' + s.name,
            disabled: i === list.length - 1, onclick: () => move(i, 1),
        }, 'Descendre');
        tbody.append(h('tr', {},
            h('td', {}, String(i + 1)),
            h('th', { scope: 'row' }, s.name, s.description
                ? h('span', { class: 'dm-svc-desc' }, s.description.length >
                    90 ? s.description.slice(0, 90) + '…' : s.description)
                : null),
            h('td', {}, h('code', {}, s.code)),
            h('td', { class: 'nowrap' }, pct(s.threshold)),
            h('td', { class: 'nowrap' }, slaText(s.sla)),
            h('td', {}, s.email || '—'),
            h('td', {}, s.active ? 'oui' : 'non (désactivé)'),
            h('td', { class: 'dm-svc-actions' }, h('span',
                { class: 'actions' },
                h('button', {
                    type: 'button', class: 'btn btn-small',
                    'aria-label': 'Modifier ' + s.name,
                    onclick: () => edit(s),
                }, 'Modifier'),
                up, down,
                h('button', {
                    type: 'button', class: 'btn btn-small btn-secondary',
                    'aria-label': (s.active ? 'Désactiver ' : 'Réactiver ') +
                        s.name,
                    onclick: () => toggle(s),
                }, s.active ? 'Désactiver' : 'Réactiver')))));
    });
    listStatus.textContent = list.length + ' services, dont ' +
        list.filter((s) => s.active).length + ' actifs.';
}

async function reload() {
    resetServices();
    list = await services();
    render();
}

async function save(s, id) {
    if (id) return api('PUT', '/api/v1/triage/services/' + id, payload(s));
    return api('POST', '/api/v1/triage/services', payload(s));
}

async function move(i, delta) {
    const a = list[i];
    const b = list[i + delta];
    if (!a || !b) return;
    // Positions made distinct and consecutive, then the two swapped.
    const order = list.slice();
    order[i] = b;
    order[i + delta] = a;
    try {
        for (let k = 0; k < order.length; k++) {
            if (order[k].position !== k + 1) {
                await save({ ...order[k], position: k + 1 }, order[k].id);
            }
        }
    } catch (e) {
        showStatus(pageStatus, e.message);
    }
    await reload();
    const again = tbody.querySelector('button[aria-label="' +
        (delta < 0 ? 'Monter ' : 'Descendre ') + a.name + '"]');
    if (again && !again.disabled) again.focus();
    listStatus.textContent = '« ' + a.name + ' » est maintenant en position ' +
        (i + delta + 1) + '.';
}

async function toggle(s) {
    try {
        await save({ ...s, active: !s.active }, s.id);
    } catch (e) {
        showStatus(pageStatus, e.message);
        return;
    }
    await reload();
    listStatus.textContent = '« ' + s.name + ' » ' + (s.active
        ? 'désactivé : il ne reçoit plus de nouvelles demandes.'
        : 'réactivé.');
}

function edit(s) {
    clearErrors(form);
    formStatus.textContent = '';
    form.elements.sid.value = String(s.id);
    form.elements.nom.value = s.name;
    form.elements.code.value = s.code;
    form.elements.code.readOnly = true;
    form.elements.description.value = s.description;
    form.elements.courriel.value = s.email;
    form.elements.seuil.value = String(Math.round(s.threshold * 100));
    form.elements.delai_h.value = String(s.sla);
    form.elements.actif.checked = s.active;
    document.getElementById('svc-form-title').textContent =
        'Modifier le service « ' + s.name + ' »';
    document.getElementById('s-submit').textContent = 'Enregistrer';
    document.getElementById('s-cancel').hidden = false;
    form.elements.nom.focus();
}

function resetForm() {
    form.reset();
    form.elements.sid.value = '';
    form.elements.code.readOnly = false;
    document.getElementById('svc-form-title').textContent =
        'Ajouter un service';
    document.getElementById('s-submit').textContent = 'Ajouter le service';
    document.getElementById('s-cancel').hidden = true;
}

async function onSubmit(ev) {
    ev.preventDefault();
    clearErrors(form);
    formStatus.className = 'alert';
    formStatus.textContent = '';
    const f = form.elements;
    const id = Number(f.sid.value || 0);
    const old = list.find((x) => x.id === id);
    const th = Number(f.seuil.value);
    const sla = Number(f.delai_h.value);
    const bad = (name, msg) => showApiError(form, { field: name,
        message: msg }, formStatus);
    if (!f.nom.value.trim()) return bad('nom', 'Indiquez le nom du service.');
    if (!id && !/^[a-z0-9-]{2,64}$/.test(f.code.value)) {
        return bad('code', 'Code invalide : 2 à 64 minuscules, chiffres ' +
            'ou tirets.');
    }
    if (!(th >= 0 && th <= 100) || f.seuil.value === '') {
        return bad('seuil', 'Le seuil est un pourcentage entre 0 et 100.');
    }
    if (!Number.isInteger(sla) || sla < 1 || sla > 2160) {
        return bad('delai_h', 'Le délai est un nombre d’heures entre 1 ' +
            'et 2160 (90 jours).');
    }
    const s = {
        code: f.code.value,
        name: f.nom.value.trim(),
        description: f.description.value.trim(),
        email: f.courriel.value.trim(),
        threshold: Math.round(th) / 100,
        sla,
        position: old ? old.position
            : list.reduce((m, x) => Math.max(m, x.position), 0) + 1,
        active: f.actif.checked,
    };
    try {
        await save(s, id);
    } catch (e) {
        const field = FIELD[e.field] || e.field;
        showApiError(form, { field, message: e.message }, formStatus);
        formStatus.classList.add('alert-error');
        return;
    }
    resetForm();
    await reload();
    formStatus.className = 'alert alert-ok';
    formStatus.textContent = id ? 'Service « ' + s.name + ' » enregistré.'
        : 'Service « ' + s.name + ' » ajouté.';
}

// ----- the model card

function card(m) {
    const dl = document.getElementById('model-card');
    dl.replaceChildren();
    const row = (k, v) => {
        if (v === undefined || v === null || v === '') return;
        dl.append(h('dt', {}, k), h('dd', {}, String(v)));
    };
    const date = when(m.entraine_le);
    row('Version', m.version || (m.par_defaut
        ? 'modèle par défaut (pas encore entraîné pour la commune)' : '—'));
    row('Entraîné le', date ? frTime(date) : '');
    row('Exemples d’entraînement', m.exemples);
    row('Corrections des agents incluses', m.corrections);
    row('Corrections depuis cet entraînement', m.corrections_depuis ?? 0);
    if (m.precision_cv) {
        row('Exactitude estimée (validation croisée)', pct(m.precision_cv));
    }
    row('Modèle d’urgence', m.version_urgence);
}

async function loadModel() {
    try {
        card(await api('GET', '/api/v1/triage/modele'));
    } catch (e) {
        showStatus(document.getElementById('model-status'), e.message);
    }
}

async function retrain() {
    const btn = document.getElementById('retrain');
    const st = document.getElementById('model-status');
    btn.disabled = true;
    st.className = 'alert';
    st.textContent = 'Entraînement en cours…';
    let r;
    try {
        r = await api('POST', '/api/v1/triage/modele');
    } catch (e) {
        st.className = 'alert alert-error';
        showStatus(st, e.message);
        btn.disabled = false;
        return;
    }
    btn.disabled = false;
    // The card first, so that the message announces what is shown.
    await loadModel();
    st.className = 'alert alert-ok';
    st.textContent = 'Modèle réentraîné' + (r && r.version ? ' : version ' +
        r.version + ', ' + r.exemples + ' exemples dont ' + r.corrections +
        ' corrections des agents' : '') + '.';
}

async function start() {
    const me = await initShell();
    if (!me) return;
    try {
        await reload();
    } catch (e) {
        showStatus(pageStatus, e.message);
    }
    form.addEventListener('submit', onSubmit);
    document.getElementById('s-cancel').addEventListener('click', () => {
        resetForm();
        form.elements.nom.focus();
    });
    document.getElementById('retrain').addEventListener('click', retrain);
    await loadModel();
}

start();
