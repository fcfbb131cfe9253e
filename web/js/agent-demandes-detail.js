// agent-demandes-detail.js - one request (/agent/demandes/{id}): its text
// (the original for agents, the redacted one for readers) with the words
// that weighed in its routing highlighted, photos inline, contact, the
// « Pourquoi ? » panel (confidence, runner-up services, urgency reasons),
// the work form (service — a correction that teaches the model —,
// urgency, status, assignment), internal notes, the reply with templates,
// the thread, its case (other reports, « Détacher », join another case)
// and the decisions' history with the model version.
//
// Data: GET/PATCH /api/v1/demandes/{id}, POST …/notes, …/reponses,
// POST/DELETE …/fusion, GET …/pieces/{pid}, POST /api/v1/triage/classer,
// GET /api/v1/triage/modeles-reponse (docs/triage-api.md).

import { api } from './api.js';
import { clearErrors, h, showApiError, showStatus } from './form.js';
import { initShell } from './shell.js';
import {
    CHANNEL, STATUS, URGENCY, agents, ageText, frTime, kindLabel, pct,
    reasonLabel, req, services, slaText, sourceLabel, when,
} from './agent-demandes-common.js';

const title = document.getElementById('d-title');
const ID = Number(title.dataset.id);
const ROLE = title.dataset.role || 'lecteur';
const CAN_WORK = ROLE === 'agent' || ROLE === 'admin';
const BASE = '/api/v1/demandes/' + ID;
const pageStatus = document.getElementById('page-status');
const dStatus = document.getElementById('d-status');

let svcList = [];
let templates = [];
let cur = null; // the request (req())
let numbers = new Map(); // request id -> number, for the case decisions

// ----- text with the weighing words highlighted

function fold(s) {
    return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

// Text nodes and <mark>s for `text`, every whole-word occurrence of
// `words` (case and accents ignored) marked.
function highlighted(text, words) {
    const out = [];
    const w = words.map((x) => fold(String(x)).trim())
        .filter((x) => x.length > 1);
    if (!w.length) return [text];
    // Folding keeps one code unit per letter of precomposed French text
    // only when the text is NFC; fold it letter by letter to keep offsets.
    const chars = [...text.normalize('NFC')];
    const folded = chars.map((c) => fold(c) || c);
    const flat = folded.join('');
    // Offsets in `flat` back to indexes in `chars`.
    const back = [];
    folded.forEach((f, i) => {
        for (let k = 0; k < f.length; k++) back.push(i);
    });
    back.push(chars.length);
    const marks = [];
    const isWord = (c) => /[\p{L}\p{N}]/u.test(c || '');
    for (const word of w) {
        let from = 0;
        for (;;) {
            const at = flat.indexOf(word, from);
            if (at < 0) break;
            from = at + word.length;
            if (isWord(flat[at - 1]) || isWord(flat[at + word.length])) {
                continue;
            }
            marks.push([back[at], back[at + word.length]]);
        }
    }
    marks.sort((a, b) => a[0] - b[0]);
    let pos = 0;
    for (const [s, e] of marks) {
        if (s < pos) continue;
        if (s > pos) out.push(chars.slice(pos, s).join(''));
        out.push(h('mark', {}, chars.slice(s, e).join('')));
        pos = e;
    }
    if (pos < chars.length) out.push(chars.slice(pos).join(''));
    return out;
}

function whyWords(r) {
    return r.why.map((x) => (typeof x === 'string' ? x
        : (x.mot || x.word || x.texte || ''))).filter(Boolean);
}

// ----- rendering

function dl(el, pairs) {
    el.replaceChildren();
    for (const [k, v] of pairs) {
        if (v === null || v === undefined || v === '') continue;
        el.append(h('dt', {}, k), h('dd', {}, ...(Array.isArray(v) ? v
            : [v])));
    }
}

function svcName(code, id) {
    const s = svcList.find((x) => (code && x.code === code) ||
        (id && x.id === id));
    return s ? s.name : (code || '');
}

// A request « à trier » may carry the model's guess: a suggestion only.
function suggested(r) {
    return r.status === 'a_trier' && r.serviceId > 0 &&
        r.serviceSource !== 'agent';
}

function renderSummary(r) {
    const sla = slaText(r);
    document.title = 'Demande ' + r.number + ' — Guichet, espace agents';
    title.textContent = 'Demande ' + r.number;
    const svc = suggested(r)
        ? ['Aucun — à trier', h('br'), h('small', {}, 'suggestion du ' +
            'modèle : ' + (r.serviceName || svcName(r.serviceCode)) +
            ', confiance ' + pct(r.confidence))]
        : r.serviceCode || r.serviceName
        ? [r.serviceName || svcName(r.serviceCode), h('br'),
            h('small', {}, r.serviceSource === 'agent'
                ? 'choisi par un agent'
                : 'proposé par ' + sourceLabel(r.serviceSource || 'modele') +
                    ', confiance ' + pct(r.confidence))]
        : ['Aucun — à trier'];
    dl(document.getElementById('d-summary'), [
        ['Statut', STATUS[r.status] || r.status],
        ['Service', svc],
        ['Urgence', URGENCY[r.urgency] || URGENCY[0]],
        ['Attribuée à', r.assignedLogin || 'personne'],
        ['Reçue', frTime(r.created) + ' (' + ageText(r.created) + ')'],
        ['Canal', CHANNEL[r.channel] || r.channel],
        ['Échéance', r.due ? [frTime(r.due), h('br'), sla.late
            ? h('strong', { class: 'dm-late' }, sla.text) : sla.text]
            : sla.text],
        ['Dossier', r.caseSize > 1 ? r.caseSize + ' signalements'
            : 'demande seule'],
    ]);
}

function renderText(r) {
    document.getElementById('d-subject').textContent = r.subject
        ? 'Objet : ' + r.subject : '';
    const original = CAN_WORK;
    const text = r.body;
    document.getElementById('d-text-note').textContent = r.anonymised
        ? 'Les données personnelles de cette demande ont été effacées ' +
            '(durée de conservation écoulée ou demande de l’usager).'
        : (original ? 'Texte original, tel que l’usager l’a écrit.'
            : 'Texte masqué : les données personnelles sont remplacées ' +
                'par leur type.');
    const box = document.getElementById('d-text');
    box.replaceChildren();
    for (const para of text.split(/\n{2,}/)) {
        const p = h('p');
        const lines = para.split('\n');
        lines.forEach((line, i) => {
            p.append(...highlighted(line, whyWords(r)));
            if (i < lines.length - 1) p.append(h('br'));
        });
        box.append(p);
    }
}

function renderPhotos(pieces) {
    const ul = document.getElementById('d-photos');
    ul.replaceChildren();
    for (const p of pieces) {
        const name = p.nom || 'pièce jointe';
        const type = p.type || '';
        const url = p.url || (BASE + '/pieces/' + p.id);
        const size = Number(p.taille || 0);
        const label = name + (size ? ' (' + Math.max(1,
            Math.round(size / 1024)) + ' Ko)' : '');
        if (!CAN_WORK) {
            // The bytes may hold personal data: agents only.
            ul.append(h('li', {}, 'Une pièce jointe (' + (type ||
                'fichier') + ', visible des agents seulement)'));
        } else if (type.startsWith('image/')) {
            ul.append(h('li', {}, h('a', { href: url },
                h('img', { src: url, alt: 'Photo jointe : ' + name,
                    loading: 'lazy' })), h('br'), label));
        } else if (type.startsWith('audio/')) {
            // A voicemail from the phone line.
            ul.append(h('li', {}, h('audio', { controls: true, src: url,
                preload: 'none', 'aria-label': 'Message vocal : ' + name }),
            h('br'), h('a', { href: url, download: name },
                'Télécharger ' + label)));
        } else {
            ul.append(h('li', {}, h('a', { href: url, download: name },
                'Télécharger ' + label)));
        }
    }
    document.getElementById('d-photos-box').hidden = pieces.length === 0;
}

function renderContact(r) {
    const box = document.getElementById('d-contact-box');
    if (!CAN_WORK) {
        box.hidden = true;
        return;
    }
    box.hidden = false;
    const mail = r.contactEmail
        ? h('a', { href: 'mailto:' + r.contactEmail }, r.contactEmail)
        : 'aucun';
    dl(document.getElementById('d-contact'), [
        ['Nom', r.contactName || 'non indiqué'],
        ['Courriel', mail],
        ['Téléphone', r.contactPhone || 'non indiqué'],
        ['Adresse', r.address || 'non indiquée'],
        ['Position', r.raw.lat && r.raw.lon
            ? Number(r.raw.lat).toFixed(5) + ', ' +
                Number(r.raw.lon).toFixed(5) : ''],
        ['Avis par courriel', r.raw.notifier === false
            ? 'non demandés' : (r.contactEmail ? 'oui' : '')],
    ]);
}

async function renderWhy(r) {
    const words = whyWords(r);
    const ul = document.getElementById('d-why-words');
    ul.replaceChildren();
    for (const x of r.why) {
        const word = typeof x === 'string' ? x : (x.mot || x.word || '');
        const weight = typeof x === 'object' ? Number(x.poids ?? x.weight)
            : NaN;
        if (!word) continue;
        ul.append(h('li', {}, h('mark', {}, word),
            isNaN(weight) ? '' : ' (poids ' + weight.toLocaleString('fr-FR',
                { minimumFractionDigits: 2, maximumFractionDigits: 2 }) +
                ')'));
    }
    if (!words.length) {
        ul.append(h('li', {}, r.serviceSource === 'agent'
            ? 'Service choisi par un agent.'
            : 'Aucun mot n’a pesé nettement.'));
    }
    const sum = document.getElementById('d-why-summary');
    if (suggested(r)) {
        sum.textContent = 'Aucun service n’a atteint son seuil de ' +
            'confiance : la demande attend un agent dans « À trier ». ' +
            'Suggestion du modèle : « ' + (r.serviceName ||
            svcName(r.serviceCode)) + ' », confiance ' + pct(r.confidence) +
            ' ; choisissez le service ci-contre pour l’orienter.';
    } else if (r.serviceCode) {
        sum.textContent = 'Service « ' + (r.serviceName ||
            svcName(r.serviceCode)) + ' » ' + (r.serviceSource === 'agent'
            ? 'choisi par un agent.'
            : 'proposé avec une confiance de ' + pct(r.confidence) +
                (r.modelVersion ? ' (modèle ' + r.modelVersion + ').'
                    : '.'));
        const svc = svcList.find((x) => x.code === r.serviceCode);
        if (r.serviceSource !== 'agent' && svc) {
            sum.textContent += ' Seuil de routage automatique de ce ' +
                'service : ' + pct(svc.threshold) + '. Décision du ' +
                frTime(r.created) + '.';
        }
    } else {
        sum.textContent = 'Aucun service n’a atteint son seuil de ' +
            'confiance : la demande attend un agent dans « À trier ».' +
            (r.confidence ? ' Meilleure proposition : confiance ' +
                pct(r.confidence) + '.' : '');
    }
    const u = document.getElementById('d-urg-reasons');
    u.replaceChildren();
    document.getElementById('d-urg-summary').textContent = 'Urgence : ' +
        (URGENCY[r.urgency] || URGENCY[0]).toLowerCase() +
        (r.reasons.length ? ', pour ces raisons :' : ' (aucune raison ' +
            'particulière relevée).');
    document.getElementById('d-why-alt-title').textContent = r.serviceId
        ? 'Autres services envisagés' : 'Services envisagés';
    for (const x of r.reasons) u.append(h('li', {}, reasonLabel(x)));
    // Runner-up services: asked to the current model (dry run, nothing
    // stored); said so when it is not the model that routed the request.
    const alt = document.getElementById('d-why-alt');
    alt.replaceChildren();
    let list = [];
    let note = '';
    if (r.body.trim() && !r.anonymised) {
        try {
            // The server redacts the text before the model sees it.
            const c = await api('POST', '/api/v1/triage/classer',
                { texte: ((r.subject ? r.subject + '\n' : '') + r.body)
                    .slice(0, 20000) });
            list = c.autres || [];
            const v = c.version_modele || '';
            if (v && r.modelVersion && v !== r.modelVersion) {
                note = 'selon le modèle actuel (' + v + ')';
            }
        } catch (e) {
            list = [];
        }
    }
    for (const x of list) {
        const code = x.code || '';
        if (!code || code === r.serviceCode) continue;
        alt.append(h('li', {}, (x.nom || svcName(code)) + ' : ' +
            pct(x.probabilite)));
        if (alt.children.length >= 3) break;
    }
    if (!alt.children.length) alt.append(h('li', {}, 'aucun'));
    else if (note) alt.append(h('li', { class: 'hint' }, note));
}

const EVENT_KINDS = { service: 'Service', urgence: 'Urgence',
    doublon: 'Doublon', statut: 'Statut', attribution: 'Attribution' };

function decisionValue(kind, v) {
    if (v === '' || v === null || v === undefined) return '';
    if (kind === 'service') return svcName(v, Number(v)) || v;
    if (kind === 'urgence') return URGENCY[Number(v)] || v;
    if (kind === 'statut') return STATUS[v] || v;
    if (kind === 'doublon') {
        if (v === '0') return 'seule (hors dossier)';
        return 'dossier de la demande ' + (numbers.get(Number(v)) || 'n° ' + v);
    }
    return String(v);
}

function renderDecisions(list) {
    const tb = document.getElementById('d-decisions');
    tb.replaceChildren();
    for (const d of list) {
        const kind = d.type || '';
        const conf = Number(d.confiance || 0);
        tb.append(h('tr', {},
            h('td', { class: 'nowrap' }, frTime(when(d.le))),
            h('td', {}, EVENT_KINDS[kind] || kind),
            h('td', {}, decisionValue(kind, d.valeur)),
            h('td', {}, decisionValue(kind, d.precedent)),
            h('td', {}, sourceLabel(d.source) +
                (d.acteur ? ' (' + d.acteur + ')' : '')),
            h('td', {}, conf ? pct(conf) : ''),
            h('td', {}, d.version_modele || '')));
    }
    if (!list.length) {
        tb.append(h('tr', {}, h('td', { colspan: '7' },
            'Aucune décision enregistrée.')));
    }
}

function renderThread(messages) {
    const ol = document.getElementById('d-thread');
    ol.replaceChildren();
    for (const m of messages) {
        const kind = m.type || '';
        const text = m.texte || '';
        const who = m.auteur || m.de || '';
        const li = h('li', { class: 'dm-msg dm-msg-' + kind },
            h('p', { class: 'dm-msg-head' }, h('strong', {}, kindLabel(kind)),
                who ? ' — ' + who : '', ' — ',
                h('time', {}, frTime(when(m.le))),
                m.courriel && kind === 'sortant' ? ' — par courriel' : ''));
        for (const para of String(text).split(/\n{2,}/)) {
            const p = h('p');
            para.split('\n').forEach((line, i) => {
                if (i) p.append(h('br'));
                p.append(line);
            });
            li.append(p);
        }
        ol.append(li);
    }
    if (!messages.length) {
        ol.append(h('li', {}, 'Aucun échange pour l’instant.'));
    }
}

function renderCase(r, members) {
    const ul = document.getElementById('d-case');
    ul.replaceChildren();
    const others = members.map(req).filter((m) => m.id !== r.id);
    document.getElementById('d-case-summary').textContent = others.length
        ? 'Cette demande fait partie d’un dossier de ' + (others.length + 1) +
            ' signalements.'
        : 'Cette demande n’est rattachée à aucune autre.';
    for (const m of others) {
        const li = h('li', {}, h('a', { href: '/agent/demandes/' + m.id },
            m.number), ' — ' + (STATUS[m.status] || m.status) + ', reçue ' +
            ageText(m.created));
        if (CAN_WORK) {
            li.append(' ', h('button', {
                type: 'button', class: 'btn btn-small btn-secondary',
                'aria-label': 'Détacher la demande ' + m.number +
                    ' du dossier',
                onclick: () => detach(m),
            }, 'Détacher'));
        }
        ul.append(li);
    }
    if (CAN_WORK && others.length) {
        ul.append(h('li', {}, h('button', {
            type: 'button', class: 'btn btn-small btn-secondary',
            onclick: () => detach(r),
        }, 'Détacher cette demande du dossier')));
    }
    document.getElementById('d-merge-form').hidden = !CAN_WORK;
}

function fillWorkForm(r) {
    const f = document.getElementById('d-work-form');
    f.elements.service.value = String(r.serviceId || 0);
    f.elements.urgence.value = String(r.urgency);
    f.elements.statut.value = r.status;
    f.elements.assigne.value = String(r.assignedTo || 0);
    document.getElementById('d-no-email').hidden = !!r.contactEmail;
}

// The reply templates: those of the request's service first, then those
// for every service, then the others (named with their service).
function fillTemplates() {
    const ts = document.getElementById('r-template');
    const keep = ts.value;
    const rank = (t) => (Number(t.service) === cur.serviceId && cur.serviceId
        ? 0 : (t.service ? 2 : 1));
    ts.replaceChildren(h('option', { value: '' }, 'Aucun'));
    for (const t of templates.slice().sort((a, b) => rank(a) - rank(b) ||
        a.nom.localeCompare(b.nom, 'fr'))) {
        const svc = t.service ? svcName('', Number(t.service)) : '';
        ts.append(h('option', { value: String(t.id) }, t.nom +
            (svc ? ' (' + svc + ')' : '')));
    }
    ts.value = keep;
    if (ts.value !== keep) ts.value = '';
}

// ----- loading

async function load() {
    let res;
    try {
        res = await api('GET', BASE);
    } catch (e) {
        showStatus(pageStatus, e.status === 404
            ? 'Cette demande n’existe pas ou n’est plus disponible.'
            : e.message);
        return false;
    }
    cur = req(res);
    const messages = res.messages || [];
    const pieces = res.pieces || [];
    const decisions = res.decisions || [];
    const members = res.membres_cas || [];
    numbers = new Map(members.map((m) => [m.id, m.numero]));
    numbers.set(cur.id, cur.number);
    renderSummary(cur);
    renderText(cur);
    renderPhotos(pieces);
    renderContact(cur);
    renderThread(messages);
    renderDecisions(decisions);
    renderCase(cur, members);
    if (CAN_WORK) {
        fillWorkForm(cur);
        fillTemplates();
    }
    renderWhy(cur);
    return true;
}

// ----- actions

function ok(el, msg) {
    el.className = 'alert alert-ok';
    el.textContent = msg;
}

function fail(el, form, e) {
    el.className = 'alert alert-error';
    showApiError(form, e, el);
}

async function onWork(ev) {
    ev.preventDefault();
    const f = ev.target;
    const st = document.getElementById('d-work-status');
    clearErrors(f);
    st.textContent = '';
    const patch = {};
    // A request « à trier » may carry the model's suggestion: choosing that
    // same service confirms it (a decision of the agent, too).
    const service = Number(f.elements.service.value);
    if (service !== (cur.serviceId || 0) ||
        (service && cur.status === 'a_trier' &&
            cur.serviceSource !== 'agent')) {
        patch.service = service || null;
    }
    const urg = Number(f.elements.urgence.value);
    if (urg !== cur.urgency) patch.urgence = urg;
    if (f.elements.statut.value !== cur.status) {
        patch.statut = f.elements.statut.value;
    }
    const who = Number(f.elements.assigne.value);
    if (who !== (cur.assignedTo || 0)) patch.assigne = who || null;
    if (!Object.keys(patch).length) {
        ok(st, 'Rien à enregistrer : aucun changement.');
        return;
    }
    try {
        await api('PATCH', BASE, patch);
    } catch (e) {
        fail(st, f, e);
        return;
    }
    await load();
    ok(st, 'Modifications enregistrées.' + (patch.service !== undefined
        ? ' La correction du service servira au prochain entraînement ' +
            'du modèle.' : ''));
    st.setAttribute('tabindex', '-1');
    st.focus();
}

async function onNote(ev) {
    ev.preventDefault();
    const f = ev.target;
    const st = document.getElementById('d-note-status');
    clearErrors(f);
    const texte = f.elements.texte.value.trim();
    if (!texte) {
        showApiError(f, { field: 'texte', message: 'Écrivez la note.' }, st);
        return;
    }
    try {
        await api('POST', BASE + '/notes', { texte });
    } catch (e) {
        fail(st, f, e);
        return;
    }
    f.reset();
    await load();
    ok(st, 'Note ajoutée au fil.');
}

function expand(body) {
    // The server expands {numero}, {nom}, {service}, {commune} at sending
    // time; the number and service are shown now so the agent reads what
    // goes out.
    return body.replaceAll('{numero}', cur.number)
        .replaceAll('{service}', cur.serviceName || svcName(cur.serviceCode) ||
            '{service}');
}

function onInsert() {
    const f = document.getElementById('d-reply-form');
    const t = templates.find((x) => String(x.id) ===
        f.elements.template.value);
    const area = f.elements.texte;
    if (!t) {
        area.focus();
        return;
    }
    const text = expand(t.texte || '');
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? area.value.length;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.focus();
    area.setSelectionRange(start + text.length, start + text.length);
}

async function onReply(ev) {
    ev.preventDefault();
    const f = ev.target;
    const st = document.getElementById('d-reply-status');
    clearErrors(f);
    const texte = f.elements.texte.value.trim();
    if (!texte) {
        showApiError(f, { field: 'texte',
            message: 'Écrivez la réponse ou insérez un modèle.' }, st);
        return;
    }
    const payload = { texte };
    if (f.elements.template.value) {
        payload.modele = Number(f.elements.template.value);
    }
    if (f.elements.statut.value) payload.statut = f.elements.statut.value;
    // Without an address the reply is kept for the status page only.
    if (!cur.contactEmail) payload.sans_courriel = true;
    try {
        await api('POST', BASE + '/reponses', payload);
    } catch (e) {
        fail(st, f, e);
        return;
    }
    const hadMail = !!cur.contactEmail;
    f.reset();
    await load();
    ok(st, hadMail ? 'Réponse envoyée par courriel et ajoutée au fil.'
        : 'Réponse ajoutée au fil ; l’usager la verra sur sa page de ' +
            'suivi.');
}

async function detach(m) {
    const st = document.getElementById('d-merge-status');
    try {
        await api('DELETE', '/api/v1/demandes/' + m.id + '/fusion');
    } catch (e) {
        st.className = 'alert alert-error';
        showStatus(st, e.message);
        return;
    }
    await load();
    ok(st, 'Demande ' + m.number + ' détachée du dossier.');
    st.setAttribute('tabindex', '-1');
    st.focus();
}

async function onMerge(ev) {
    ev.preventDefault();
    const f = ev.target;
    const st = document.getElementById('d-merge-status');
    clearErrors(f);
    const num = f.elements.cas.value.trim();
    if (!/^\d{4}-\d{1,7}$/.test(num) && !/^\d+$/.test(num)) {
        showApiError(f, { field: 'cas', message: 'Numéro de demande ' +
            'invalide : écrivez-le comme 2026-00042.' }, st);
        return;
    }
    let target = null;
    try {
        const res = await api('GET', '/api/v1/demandes?statut=toutes&q=' +
            encodeURIComponent(num) + '&limite=5');
        const rows = (res.demandes || []).map(req);
        target = rows.find((x) => x.number === num) ||
            (rows.length === 1 ? rows[0] : null);
    } catch (e) {
        fail(st, f, e);
        return;
    }
    if (!target) {
        showApiError(f, { field: 'cas', message: 'Aucune demande ' + num +
            ' dans cette commune.' }, st);
        return;
    }
    if (target.id === cur.id) {
        showApiError(f, { field: 'cas', message: 'Une demande ne peut pas ' +
            'être rattachée à elle-même.' }, st);
        return;
    }
    try {
        await api('POST', BASE + '/fusion',
            { cas: target.caseId || target.id });
    } catch (e) {
        fail(st, f, e);
        return;
    }
    f.reset();
    await load();
    ok(st, 'Demande rattachée au dossier de la demande ' + target.number +
        '.');
}

// ----- start

async function start() {
    const me = await initShell();
    if (!me) return;
    try {
        svcList = await services();
    } catch (e) {
        svcList = [];
    }
    if (CAN_WORK) {
        const sel = document.getElementById('w-service');
        sel.append(h('option', { value: '0' }, 'Aucun (à trier)'));
        for (const s of svcList) {
            sel.append(h('option', { value: String(s.id) }, s.name +
                (s.active ? '' : ' (désactivé)')));
        }
        try {
            for (const a of await agents()) {
                document.getElementById('w-assigne').append(h('option',
                    { value: String(a.id) }, a.nom + (a.moi ? ' (moi)' : '')));
            }
        } catch (e) {
            // assignment stays possible to nobody
        }
        try {
            const t = await api('GET', '/api/v1/triage/modeles-reponse');
            templates = t.modeles || [];
        } catch (e) {
            templates = [];
        }
        document.getElementById('d-work-box').hidden = false;
        document.getElementById('d-reply-box').hidden = false;
        document.getElementById('d-note-box').hidden = false;
        document.getElementById('d-work-form')
            .addEventListener('submit', onWork);
        document.getElementById('d-note-form')
            .addEventListener('submit', onNote);
        document.getElementById('d-reply-form')
            .addEventListener('submit', onReply);
        document.getElementById('r-insert')
            .addEventListener('click', onInsert);
        document.getElementById('d-merge-form')
            .addEventListener('submit', onMerge);
    }
    if (await load()) dStatus.textContent = '';
}

start();
