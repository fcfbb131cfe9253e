// kb-fiche.js - one fiche of the knowledge base.
//
// A local fiche opens in the Markdown editor: live preview through
// POST /api/v1/kb/preview (debounced), save with the version it started
// from (a 409 says someone saved meanwhile, and the agent's text is kept
// aside), delete, and the version history with view and restore.
// A service-public fiche is shown read-only, with « Masquer » for admins.
// /agent/fiches/nouvelle is the editor with an empty fiche.

import { api, frDate } from './api.js';
import { clearErrors, fieldError, h, showStatus } from './form.js';
import { initShell } from './shell.js';

const SKELETON = '---\ntitre: \nquestions: \nservice: \ntags: \n' +
    'contact: \nhoraires: \n---\nUne phrase qui résume la fiche.\n\n' +
    '## Première partie\n\nLe texte de la partie.\n';
const DEBOUNCE_MS = 400;

const root = document.getElementById('kb-editor');
const status = document.getElementById('page-status');
const saveStatus = document.getElementById('save-status');
const form = document.getElementById('edit-form');
const textarea = document.getElementById('f-markdown');
const titleEl = document.getElementById('fiche-title');
const meta = document.getElementById('fiche-meta');
const previewErrors = document.getElementById('preview-errors');
const previewFields = document.getElementById('preview-fields');
const previewHtml = document.getElementById('preview-html');
const previewStatus = document.getElementById('preview-status');
const conflictBox = document.getElementById('conflict-box');

let id = root.dataset.id || '';
let version = 0;
let me = null;
let canEdit = false;
let timer = null;
let previewSeq = 0;
let dirty = false;

function say(msg) {
    saveStatus.textContent = msg;
    saveStatus.hidden = !msg;
}

function fieldRows(dl, rows) {
    const out = [];
    for (const [label, value] of rows) {
        if (!value) continue;
        out.push(h('dt', {}, label), h('dd', {}, value));
    }
    dl.replaceChildren(...out);
}

// A related question points to another fiche; other links to their URL.
function linkHref(l) {
    if (l.kind === 'related' && l.target) {
        return '/agent/fiches/' + encodeURIComponent(l.target);
    }
    return l.url || null;
}

function linkList(links) {
    if (!links || !links.length) return null;
    return h('ul', {}, ...links.map((l) => {
        const href = linkHref(l);
        return h('li', {}, href ? h('a', { href }, l.label) : l.label);
    }));
}

function frDay(iso) {
    return iso ? new Date(iso).toLocaleDateString('fr-FR') : '';
}

function showMeta(f) {
    titleEl.textContent = f.title || 'Fiche sans titre';
    document.title = (f.title || 'Fiche') + ' — Guichet, espace agents';
    if (f.origin === 'local') {
        meta.textContent = 'Fiche ' + f.id + ' · version ' + f.version +
            ', enregistrée le ' + frDate(f.updated_at, '—') +
            (f.updated_by ? ' par ' + f.updated_by : '') + '.';
    } else {
        meta.textContent = 'Fiche ' + f.id + ' de service-public.fr' +
            (f.source_date ? ', mise à jour le ' + frDay(f.source_date) : '') +
            '.';
    }
}

// ----- preview -----

function showPreview(r) {
    previewHtml.innerHTML = r.html; // sanitised by the server (cmark)
    if (r.errors.length) {
        previewErrors.replaceChildren(h('p', {}, 'À corriger avant ' +
            'd’enregistrer\u00a0:'), h('ul', {}, ...r.errors.map((e) =>
            h('li', {}, e.message))));
        previewErrors.hidden = false;
        previewStatus.textContent = r.errors[0].message;
        previewFields.replaceChildren();
        return;
    }
    previewErrors.hidden = true;
    previewStatus.textContent = '';
    const f = r.fiche;
    fieldRows(previewFields, [
        ['Titre', f.title],
        ['Questions', f.questions.join(' · ')],
        ['Service', f.service],
        ['Tags', f.tags],
        ['Contact', f.contact],
        ['Horaires', f.hours],
        ['Valable jusqu’au', frDay(f.valid_until)],
        ['Remplace', f.replaces.split(',').join(', ')],
        ['Liens', linkList(f.links)],
        ['Sections', f.sections.map((s) => s.path || '(introduction)')
            .join(' · ')],
    ]);
}

async function preview() {
    const seq = ++previewSeq;
    let r;
    try {
        r = await api('POST', '/api/v1/kb/preview',
            { markdown: textarea.value });
    } catch (e) {
        if (seq === previewSeq) previewStatus.textContent = e.message;
        return;
    }
    if (seq === previewSeq) showPreview(r); // drop stale answers
}

function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(preview, DEBOUNCE_MS);
}

// ----- history -----

function showVersion(v) {
    document.getElementById('version-title').textContent =
        'Version ' + v.version + ' du ' + frDate(v.at) + ' (' + v.by + ')';
    document.getElementById('version-text').textContent = v.markdown;
    const box = document.getElementById('version-box');
    box.hidden = false;
    document.getElementById('version-title').focus();
}

function restore(v) {
    textarea.value = v.markdown;
    dirty = true;
    say('Version ' + v.version + ' chargée dans l’éditeur\u00a0: ' +
        'enregistrez pour la rétablir.');
    schedulePreview();
    textarea.focus();
}

async function loadHistory() {
    let data;
    try {
        data = await api('GET', '/api/v1/kb/fiches/' + id + '/versions');
    } catch (e) {
        showStatus(status, e.message);
        return;
    }
    const rows = data.versions.map((v) => h('tr', {},
        h('td', {}, String(v.version), v.version === version
            ? h('span', { class: 'badge badge-ok' }, 'actuelle') : null),
        h('td', { class: 'nowrap' }, frDate(v.at)),
        h('td', {}, v.by),
        h('td', {}, h('div', { class: 'actions' },
            h('button', {
                type: 'button', class: 'btn btn-small btn-secondary',
                onclick: () => showVersion(v),
            }, 'Voir', h('span', { class: 'visually-hidden' },
                ' la version ' + v.version)),
            canEdit && v.version !== version ? h('button', {
                type: 'button', class: 'btn btn-small btn-secondary',
                onclick: () => restore(v),
            }, 'Restaurer', h('span', { class: 'visually-hidden' },
                ' la version ' + v.version)) : null))));
    document.getElementById('history-body').replaceChildren(...rows);
    document.getElementById('history-part').hidden = false;
}

// ----- local fiche -----

function openLocal(f) {
    showMeta(f);
    version = f.version;
    textarea.value = f.markdown;
    dirty = false;
    document.getElementById('local-part').hidden = false;
    document.getElementById('preview-part').hidden = false;
    document.getElementById('delete').hidden = !canEdit || !id;
    if (f.html !== undefined && f.html !== null) {
        showPreview({ html: f.html, errors: [], fiche: f });
    }
}

async function save(ev) {
    ev.preventDefault();
    clearErrors(form);
    status.textContent = '';
    say('');
    conflictBox.hidden = true;
    const markdown = textarea.value;
    let f;
    try {
        if (id) {
            f = await api('PUT', '/api/v1/kb/fiches/' + id,
                { markdown, version });
        } else {
            f = await api('POST', '/api/v1/kb/fiches', { markdown });
        }
    } catch (e) {
        if (e.status === 409) {
            document.getElementById('conflict-text').textContent = e.message;
            conflictBox.hidden = false;
            conflictBox.setAttribute('tabindex', '-1');
            conflictBox.focus();
            return;
        }
        if (!fieldError(form, 'markdown', e.message)) {
            showStatus(status, e.message);
        }
        return;
    }
    if (!id) {
        // The address of the new fiche, without reloading the page.
        id = f.id;
        window.history.replaceState(null, '', '/agent/fiches/' + id);
    }
    openLocal(f);
    say('Fiche enregistrée (version ' + f.version + ').');
    await loadHistory();
}

// Someone saved meanwhile: keep the agent's text aside, load theirs.
async function loadCurrent() {
    const mine = textarea.value;
    let f;
    try {
        f = await api('GET', '/api/v1/kb/fiches/' + id);
    } catch (e) {
        showStatus(status, e.message);
        return;
    }
    document.getElementById('mine-text').textContent = mine;
    document.getElementById('mine-box').hidden = false;
    conflictBox.hidden = true;
    openLocal(f);
    say('Version ' + f.version + ' chargée. Votre texte est gardé sous ' +
        'l’éditeur («\u00a0Votre texte non enregistré\u00a0») pour y ' +
        'reporter vos modifications.');
    textarea.focus();
    await loadHistory();
}

async function remove() {
    if (!window.confirm('Supprimer cette fiche\u00a0? L’assistant ne ' +
        'l’utilisera plus\u00a0; ses versions restent dans l’historique.')) {
        return;
    }
    try {
        await api('DELETE', '/api/v1/kb/fiches/' + id);
    } catch (e) {
        showStatus(status, e.message);
        return;
    }
    dirty = false;
    window.location.assign('/agent/fiches');
}

// ----- national fiche -----

function openNational(f) {
    showMeta(f);
    document.getElementById('national-id').textContent = f.id;
    fieldRows(document.getElementById('national-fields'), [
        ['Thème', f.context],
        ['Résumé', f.description],
        ['Source', f.source_url ? h('a', { href: f.source_url },
            f.source_url) : null],
        ['Mise à jour', frDay(f.source_date)],
        ['Liens', linkList(f.links)],
        ['État', f.hidden ? 'Masquée pour la commune' : 'Utilisée par ' +
            'l’assistant'],
    ]);
    // The importer marks where the commune's own contacts go.
    const secs = f.sections.map((s) => h('section', { class: 'panel' },
        h('h3', {}, s.path || 'Introduction'),
        ...s.text.replaceAll('{{contacts_commune}}',
            '[coordonnées de la mairie, ajoutées par l’assistant]')
            .split(/\n+/).filter((t) => t.trim())
            .map((t) => h('p', {}, t))));
    document.getElementById('national-sections').replaceChildren(...secs);
    const hide = document.getElementById('hide');
    hide.hidden = !me || me.role !== 'admin';
    hide.textContent = f.hidden ? 'Réafficher' : 'Masquer';
    hide.onclick = async () => {
        try {
            await api('PUT', '/api/v1/kb/national/' + f.id + '/hidden',
                { hidden: !f.hidden });
        } catch (e) {
            showStatus(status, e.message);
            return;
        }
        f.hidden = !f.hidden;
        openNational(f);
        say(f.hidden ? 'Fiche masquée\u00a0: l’assistant ne l’utilise plus.'
            : 'Fiche réaffichée.');
    };
    document.getElementById('national-part').hidden = false;
}

// ----- start -----

textarea.addEventListener('input', () => {
    dirty = true;
    schedulePreview();
});
form.addEventListener('submit', save);
document.getElementById('delete').addEventListener('click', remove);
document.getElementById('conflict-load').addEventListener('click',
    loadCurrent);
window.addEventListener('beforeunload', (ev) => {
    if (dirty) ev.preventDefault();
});

me = await initShell();
if (me) {
    canEdit = me.role === 'agent' || me.role === 'admin';
    document.getElementById('edit-actions').hidden = !canEdit;
    textarea.readOnly = !canEdit;
    if (!id) {
        titleEl.textContent = 'Nouvelle fiche';
        textarea.value = SKELETON;
        document.getElementById('local-part').hidden = false;
        document.getElementById('preview-part').hidden = false;
        await preview();
    } else {
        try {
            const f = await api('GET', '/api/v1/kb/fiches/' +
                encodeURIComponent(id));
            if (f.origin === 'local') {
                openLocal(f);
                await loadHistory();
            } else {
                openNational(f);
            }
        } catch (e) {
            showStatus(status, e.message);
        }
    }
}
