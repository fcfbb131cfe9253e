// agent-rdv-reglages.js - the appointment settings (administrators):
// places, counters, motifs (every field of a motif), opening ranges,
// absences and closures, each as a table with a form to create or edit
// (and delete, for ranges and absences); public holidays (read-only,
// computed by the server) and the counters' secret iCalendar feeds.
//
// Each entity is described once (ENTITIES: its fields, its table
// columns) and the forms and tables are built from that description.

import { api } from './api.js';
import { clearErrors, h, showApiError, showStatus } from './form.js';
import { initShell } from './shell.js';

const WEEKDAYS = ['', 'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi',
    'samedi', 'dimanche'];
const ANTS = { '': 'aucun', CNI: 'carte d’identité',
    PASSPORT: 'passeport', 'CNI-PASSPORT': 'carte d’identité et passeport' };

const data = { places: [], counters: [], motifs: [], ranges: [],
    absences: [] };
const pageStatus = document.getElementById('page-status');

function placeName(id) {
    const p = data.places.find((x) => x.id === id);
    return p ? p.name : '';
}

function counterName(id) {
    const k = data.counters.find((x) => x.id === id);
    return k ? k.name + ' (' + placeName(k.place_id) + ')' : '';
}

function frDay(iso) {
    if (!iso) return '';
    return new Date(iso.slice(0, 10) + 'T00:00:00Z').toLocaleDateString(
        'fr-FR', { timeZone: 'UTC' });
}

const yesNo = (v) => (v ? 'oui' : 'non');

const ENTITIES = {
    places: {
        path: '/api/v1/rdv/places', key: 'places', prefix: 'pl',
        what: 'le lieu',
        fields: [
            { name: 'name', label: 'Nom', required: true, max: 200 },
            { name: 'address', label: 'Adresse', max: 300 },
            { name: 'zip', label: 'Code postal', max: 10 },
            { name: 'city', label: 'Ville', max: 200 },
            { name: 'phone', label: 'Téléphone', type: 'tel', max: 32 },
            { name: 'lat', label: 'Latitude', type: 'number', step: 'any',
                hint: 'facultatif, en degrés décimaux' },
            { name: 'lon', label: 'Longitude', type: 'number', step: 'any' },
            { name: 'active', label: 'Actif', type: 'checkbox', def: true },
        ],
        cols: [['Nom', (x) => x.name],
            ['Adresse', (x) => [x.address, x.zip, x.city].filter(Boolean)
                .join(', ')],
            ['Téléphone', (x) => x.phone], ['Actif', (x) => yesNo(x.active)]],
    },
    counters: {
        path: '/api/v1/rdv/counters', key: 'counters', prefix: 'gu',
        what: 'le guichet',
        fields: [
            { name: 'place_id', label: 'Lieu', type: 'select', int: true,
                options: () => data.places.map((p) => [p.id, p.name]) },
            { name: 'name', label: 'Nom', required: true, max: 200 },
            { name: 'active', label: 'Actif', type: 'checkbox', def: true },
        ],
        cols: [['Nom', (x) => x.name], ['Lieu', (x) => placeName(x.place_id)],
            ['Actif', (x) => yesNo(x.active)]],
    },
    motifs: {
        path: '/api/v1/rdv/motifs', key: 'motifs', prefix: 'mo',
        what: 'le motif',
        fields: [
            { name: 'code', label: 'Code (dans l’adresse)', max: 64,
                hint: 'minuscules, chiffres et tirets, ex. : cni' },
            { name: 'name', label: 'Nom', required: true, max: 200 },
            { name: 'duration_min', label: 'Durée (minutes)', type: 'number',
                min: 5, max: 480, def: 15, int: true },
            { name: 'per_person', label: 'Durée multipliée par le nombre ' +
                'de personnes', type: 'checkbox' },
            { name: 'max_people', label: 'Personnes au plus', type: 'number',
                min: 1, max: 10, def: 1, int: true },
            { name: 'min_delay_h', label: 'Délai minimal de réservation ' +
                '(heures)', type: 'number', min: 0, def: 0, int: true },
            { name: 'max_delay_d', label: 'Réservation possible jusqu’à ' +
                '(jours)', type: 'number', min: 1, def: 90, int: true },
            { name: 'instructions', label: 'Consignes affichées après la ' +
                'réservation et dans le courriel', type: 'textarea',
            max: 4000 },
            { name: 'audience', label: 'Qui peut réserver', type: 'select',
                options: () => [['public', 'tout le monde'],
                    ['agents', 'les agents seulement']] },
            { name: 'changeable', label: 'Les usagers peuvent déplacer ou ' +
                'annuler', type: 'checkbox', def: true },
            { name: 'change_until_h', label: '… jusqu’à (heures avant)',
                type: 'number', min: 0, def: 24, int: true },
            { name: 'ants_reason', label: 'Titre d’identité (ANTS)',
                type: 'select', options: () => Object.entries(ANTS),
                hint: 'demande les numéros de pré-demande' },
            { name: 'overbook_max', label: 'Surnombre autorisé par créneau',
                type: 'number', min: 0, max: 5, def: 0, int: true,
                hint: '0 = jamais' },
            { name: 'active', label: 'Actif', type: 'checkbox', def: true },
        ],
        cols: [['Nom', (x) => x.name], ['Code', (x) => x.code],
            ['Durée', (x) => x.duration_min + ' min' +
                (x.per_person ? ' par personne' : '')],
            ['Réservation', (x) => (x.audience === 'agents'
                ? 'agents seulement' : 'tout le monde')],
            ['ANTS', (x) => ANTS[x.ants_reason || ''] || ''],
            ['Surnombre', (x) => String(x.overbook_max || 0)],
            ['Actif', (x) => yesNo(x.active)]],
    },
    ranges: {
        path: '/api/v1/rdv/ranges', key: 'ranges', prefix: 'pg',
        what: 'la plage', deletable: true,
        fields: [
            { name: 'counter_id', label: 'Guichet', type: 'select', int: true,
                options: () => data.counters.map((k) =>
                    [k.id, counterName(k.id)]) },
            { name: 'weekday', label: 'Jour', type: 'select', int: true,
                options: () => [1, 2, 3, 4, 5, 6, 7].map((d) =>
                    [d, WEEKDAYS[d]]) },
            { name: 'start', label: 'De', type: 'time', required: true,
                step: 300 },
            { name: 'end', label: 'À', type: 'time', required: true,
                step: 300 },
            { name: 'every_weeks', label: 'Fréquence', type: 'select',
                int: true, options: () => [[1, 'chaque semaine'],
                    [2, 'une semaine sur deux']] },
            { name: 'from', label: 'À partir du', type: 'date',
                required: true },
            { name: 'until', label: 'Jusqu’au', type: 'date',
                hint: 'vide = sans fin', nullable: true },
            { name: 'motifs', label: 'Motifs', type: 'multi',
                options: () => data.motifs.map((m) => [m.id, m.name]),
                hint: 'aucun coché = tous les motifs' },
        ],
        cols: [['Guichet', (x) => counterName(x.counter_id)],
            ['Jour', (x) => WEEKDAYS[x.weekday]],
            ['Horaires', (x) => x.start + ' – ' + x.end],
            ['Fréquence', (x) => (x.every_weeks === 2
                ? 'une semaine sur deux' : 'chaque semaine')],
            ['Période', (x) => 'du ' + frDay(x.from) +
                (x.until ? ' au ' + frDay(x.until) : ', sans fin')],
            ['Motifs', (x) => (x.motifs && x.motifs.length
                ? x.motifs.map((id) => (data.motifs.find((m) =>
                    m.id === id) || {}).name).join(', ') : 'tous')]],
    },
    absences: {
        path: '/api/v1/rdv/absences', key: 'absences', prefix: 'ab',
        what: 'l’absence', deletable: true,
        fields: [
            { name: 'place_id', label: 'Lieu', type: 'select', int: true,
                options: () => data.places.map((p) => [p.id, p.name]) },
            { name: 'counter_id', label: 'Guichet', type: 'select', int: true,
                nullable: true, options: () => [['', 'tout le lieu']].concat(
                    data.counters.map((k) => [k.id, counterName(k.id)])) },
            { name: 'start', label: 'Début', type: 'datetime-local',
                required: true },
            { name: 'end', label: 'Fin', type: 'datetime-local',
                required: true },
            { name: 'reason', label: 'Motif de l’absence', max: 200,
                hint: 'ex. : Formation, Fermeture exceptionnelle' },
        ],
        cols: [['Lieu', (x) => placeName(x.place_id)],
            ['Guichet', (x) => (x.counter_id ? counterName(x.counter_id)
                : 'tout le lieu')],
            ['Du', (x) => frDay(x.start) + ' ' + (x.start || '').slice(11, 16)],
            ['Au', (x) => frDay(x.end) + ' ' + (x.end || '').slice(11, 16)],
            ['Raison', (x) => x.reason]],
    },
};

// ----- one entity: table + form

function input(ent, f) {
    const id = ent.prefix + '-' + f.name;
    const attrs = { id, name: f.name, 'aria-describedby': id + '-error' };
    let el;
    if (f.type === 'select') {
        el = h('select', attrs);
    } else if (f.type === 'textarea') {
        el = h('textarea', Object.assign(attrs, { rows: '3',
            maxlength: f.max ? String(f.max) : null }));
    } else if (f.type === 'multi') {
        return h('fieldset', { class: 'field', id },
            h('legend', {}, f.label), f.hint
                ? h('span', { class: 'hint' }, f.hint) : null,
            h('div', { 'data-multi': f.name }),
            h('span', { class: 'field-error', id: id + '-error' }));
    } else {
        el = h('input', Object.assign(attrs, {
            type: f.type || 'text',
            maxlength: f.max && !f.type ? String(f.max) : null,
            min: f.min !== undefined ? String(f.min) : null,
            max: f.max !== undefined && f.type === 'number'
                ? String(f.max) : null,
            step: f.step ? String(f.step) : null,
            required: f.required || null,
        }));
    }
    if (f.type === 'checkbox') {
        return h('div', { class: 'field' }, h('label', {}, el, ' ' + f.label),
            h('span', { class: 'field-error', id: id + '-error' }));
    }
    return h('div', { class: 'field' },
        h('label', { for: id }, f.label, f.hint
            ? h('span', { class: 'hint' }, f.hint) : null),
        el, h('span', { class: 'field-error', id: id + '-error' }));
}

function fillOptions(ent, form) {
    for (const f of ent.fields) {
        if (f.type === 'select') {
            const sel = form.elements[f.name];
            const keep = sel.value;
            sel.replaceChildren(...f.options().map(([v, l]) =>
                h('option', { value: String(v) }, l)));
            if (keep) sel.value = keep;
        } else if (f.type === 'multi') {
            const box = form.querySelector('[data-multi="' + f.name + '"]');
            box.replaceChildren(...f.options().map(([v, l]) =>
                h('label', {}, h('input', { type: 'checkbox',
                    name: f.name, value: String(v) }), ' ' + l + ' ')));
        }
    }
}

function setForm(ent, form, x) {
    form.elements.id.value = x ? String(x.id) : '';
    for (const f of ent.fields) {
        const v = x ? x[f.name] : f.def;
        if (f.type === 'multi') {
            const ids = (v || []).map(String);
            for (const c of form.querySelectorAll('input[name="' + f.name +
                '"]')) c.checked = ids.includes(c.value);
        } else if (f.type === 'checkbox') {
            form.elements[f.name].checked = v === undefined ? false : !!v;
        } else if (f.type === 'datetime-local') {
            form.elements[f.name].value = v ? String(v).slice(0, 16) : '';
        } else if (f.type === 'date') {
            form.elements[f.name].value = v ? String(v).slice(0, 10) : '';
        } else if (v === null || v === undefined) {
            form.elements[f.name].value = f.type === 'select'
                ? (form.elements[f.name].options[0] || {}).value || '' : '';
        } else {
            form.elements[f.name].value = String(v);
        }
    }
    form.querySelector('[type=submit]').textContent = x
        ? 'Enregistrer les modifications' : 'Ajouter';
    form.querySelector('.cancel-edit').hidden = !x;
}

function body(ent, form) {
    const b = {};
    for (const f of ent.fields) {
        if (f.type === 'multi') {
            b[f.name] = [...form.querySelectorAll('input[name="' + f.name +
                '"]:checked')].map((c) => Number(c.value));
        } else if (f.type === 'checkbox') {
            b[f.name] = form.elements[f.name].checked;
        } else {
            const v = form.elements[f.name].value.trim();
            if (v === '') {
                if (f.nullable) b[f.name] = null;
                else if (f.type !== 'number') b[f.name] = '';
            } else if (f.int) {
                b[f.name] = Number.parseInt(v, 10);
            } else if (f.type === 'number') {
                b[f.name] = Number(v);
            } else {
                b[f.name] = v;
            }
        }
    }
    return b;
}

function renderTable(ent, box, form) {
    const tb = box.querySelector('tbody');
    tb.replaceChildren();
    for (const x of data[ent.key]) {
        const edit = h('button', { type: 'button', class: 'btn btn-small' },
            'Modifier');
        edit.addEventListener('click', () => {
            clearErrors(form);
            setForm(ent, form, x);
            form.elements[ent.fields[0].name].focus();
        });
        const actions = h('td', {}, edit);
        if (ent.deletable) {
            const del = h('button', { type: 'button',
                class: 'btn btn-small btn-danger' }, 'Supprimer');
            del.addEventListener('click', async () => {
                if (!window.confirm('Supprimer ' + ent.what + ' ?')) return;
                try {
                    await api('DELETE', ent.path + '/' + x.id);
                    await reload();
                } catch (e) {
                    showStatus(pageStatus, e.message);
                }
            });
            actions.append(' ', del);
        }
        tb.append(h('tr', {}, ...ent.cols.map(([, fn], i) => (i === 0
            ? h('th', { scope: 'row' }, fn(x) || '') : h('td', {},
                fn(x) || ''))), actions));
    }
    if (!data[ent.key].length) {
        tb.append(h('tr', {}, h('td', { colspan: String(ent.cols.length +
            1) }, 'Aucun pour l’instant.')));
    }
}

function build(ent) {
    const box = document.querySelector('[data-entity="' + ent.key + '"]');
    const status = h('p', { class: 'alert alert-error', role: 'alert' });
    const cancel = h('button', { type: 'button',
        class: 'btn btn-secondary cancel-edit', hidden: true },
    'Annuler la modification');
    const form = h('form', { novalidate: true, class: 'filters' }, status,
        h('input', { type: 'hidden', name: 'id' }),
        ...ent.fields.map((f) => input(ent, f)),
        h('p', { class: 'field actions' },
            h('button', { type: 'submit', class: 'btn' }, 'Ajouter'), ' ',
            cancel));
    const table = h('div', { class: 'table-scroll', tabindex: '0',
        role: 'region', 'aria-label': 'Liste : ' + ent.key },
    h('table', {}, h('thead', {}, h('tr', {}, ...ent.cols.map(([t]) =>
        h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, 'Actions'))),
    h('tbody')));
    box.replaceChildren(table, h('h3', {}, 'Ajouter ou modifier'), form);
    cancel.addEventListener('click', () => {
        clearErrors(form);
        setForm(ent, form, null);
    });
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        status.textContent = '';
        const id = form.elements.id.value;
        try {
            await api(id ? 'PUT' : 'POST', id ? ent.path + '/' + id
                : ent.path, body(ent, form));
            setForm(ent, form, null);
            await reload();
            showStatus(status, id ? 'Modification enregistrée.'
                : 'Ajout enregistré.');
            status.className = 'alert alert-ok';
        } catch (e) {
            status.className = 'alert alert-error';
            showApiError(form, e, status);
        }
    });
    ent.form = form;
    ent.box = box;
}

// ----- feeds

function renderFeeds(active) {
    const box = document.getElementById('feeds');
    const rows = data.counters.map((k) => {
        const on = active.includes(k.id);
        const out = h('div', { class: 'feed-url' });
        const mint = h('button', { type: 'button', class: 'btn btn-small' },
            on ? 'Renouveler l’adresse' : 'Créer l’adresse');
        mint.addEventListener('click', async () => {
            if (on && !window.confirm('Renouveler l’adresse du flux de ' +
                k.name + ' ? L’ancienne cessera aussitôt de fonctionner.')) {
                return;
            }
            try {
                const r = await api('POST', '/api/v1/rdv/counters/' + k.id +
                    '/feed', {});
                const url = r.url && r.url.startsWith('http') ? r.url
                    : window.location.origin + r.path;
                const id = 'feed-' + k.id;
                out.replaceChildren(h('label', { for: id },
                    'Adresse secrète à copier dans l’agenda (affichée une ' +
                    'seule fois)'), h('input', { id, type: 'text',
                    readonly: true, value: url, class: 'secret',
                    spellcheck: 'false' }));
                out.querySelector('input').select();
                await reloadFeeds(out, k.id);
            } catch (e) {
                showStatus(pageStatus, e.message);
            }
        });
        const actions = h('td', {}, mint);
        if (on) {
            const off = h('button', { type: 'button',
                class: 'btn btn-small btn-danger' }, 'Désactiver');
            off.addEventListener('click', async () => {
                if (!window.confirm('Désactiver le flux de ' + k.name +
                    ' ?')) return;
                try {
                    await api('DELETE', '/api/v1/rdv/counters/' + k.id +
                        '/feed');
                    await reloadFeeds();
                } catch (e) {
                    showStatus(pageStatus, e.message);
                }
            });
            actions.append(' ', off);
        }
        return h('tr', { 'data-counter': String(k.id) },
            h('th', { scope: 'row' }, counterName(k.id)),
            h('td', {}, on ? 'actif' : 'aucun'), actions, h('td', {}, out));
    });
    box.replaceChildren(h('div', { class: 'table-scroll', tabindex: '0',
        role: 'region', 'aria-label': 'Flux des guichets' },
    h('table', {}, h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Guichet'),
        h('th', { scope: 'col' }, 'Flux'),
        h('th', { scope: 'col' }, 'Actions'),
        h('th', { scope: 'col' }, 'Adresse'))), h('tbody', {}, ...rows))));
}

// Re-render the feeds table, keeping a just-shown address in its row.
async function reloadFeeds(keep, counterId) {
    const r = await api('GET', '/api/v1/rdv/feeds');
    renderFeeds((r && r.counters) || []);
    if (keep && counterId) {
        const row = document.querySelector('#feeds tr[data-counter="' +
            counterId + '"] .feed-url');
        if (row) {
            row.replaceWith(keep);
            const i = keep.querySelector('input');
            if (i) i.focus();
        }
    }
}

async function holidays() {
    try {
        const r = await api('GET', '/api/v1/rdv/holidays');
        document.getElementById('feries-rules').textContent =
            r.alsace_moselle ? 'Règles de l’Alsace-Moselle (Vendredi saint ' +
            'et Saint-Étienne en plus).' : '';
        document.getElementById('feries-list').replaceChildren(
            ...r.holidays.map((x) => h('li', {}, x.weekday + ' ' +
                frDay(x.date) + ' : ' + x.name)));
    } catch (e) {
        showStatus(pageStatus, e.message);
    }
}

async function reload() {
    const keys = Object.keys(ENTITIES);
    const res = await Promise.all(keys.map((k) =>
        api('GET', ENTITIES[k].path)));
    keys.forEach((k, i) => {
        data[k] = (res[i] && res[i][ENTITIES[k].key]) || [];
    });
    for (const k of keys) {
        const ent = ENTITIES[k];
        fillOptions(ent, ent.form);
        renderTable(ent, ent.box, ent.form);
    }
    await reloadFeeds();
}

async function start() {
    const me = await initShell();
    if (!me) return;
    for (const k of Object.keys(ENTITIES)) build(ENTITIES[k]);
    try {
        await reload();
        for (const k of Object.keys(ENTITIES)) {
            setForm(ENTITIES[k], ENTITIES[k].form, null);
        }
    } catch (e) {
        showStatus(pageStatus, e.message);
    }
    holidays();
}

start();
