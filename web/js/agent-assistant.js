// agent-assistant.js - the agents' inbox of questions handed over by the
// citizen assistant: list with filters and paging, detail with the
// redacted conversation, status, answer (e-mailed to the resident) and
// « Créer une fiche à partir de cette réponse ».

import { api, frDate } from './api.js';
import { clearErrors, h, showApiError, showStatus } from './form.js';
import { initShell } from './shell.js';
import { whyDetails } from './pourquoi.js';

const form = document.getElementById('filter-form');
const body = document.getElementById('list-body');
const more = document.getElementById('more');
const info = document.getElementById('list-status');
const status = document.getElementById('page-status');
const detail = document.getElementById('detail');
const answerForm = document.getElementById('answer-form');
const dstatus = document.getElementById('detail-status');
const STATUS_LABELS = {
    nouveau: 'Nouveau', 'en cours': 'En cours', 'répondu': 'Répondu',
};
let before = null;
let current = null;
let canAnswer = false;

function setStats(s) {
    const put = (id, v) => {
        document.getElementById(id).textContent = String(v ?? '–');
    };
    put('st-nouveau', s.nouveau);
    put('st-en-cours', s.en_cours);
    put('st-repondu', s.repondu);
    put('st-reponses', s.reponses);
    put('st-utile', s.utile);
    put('st-pas-utile', s.pas_utile);
}

const DECISIONS = {
    answer: 'Réponse donnée',
    clarify: 'Demande de précision',
    handoff_offer: 'Proposition de transmettre à un agent',
};

// One reply of the assistant with its « Pourquoi ? ».
function replyItem(r) {
    const rating = r.utile === true ? ' · jugée utile'
        : r.utile === false ? ' · jugée pas utile' : '';
    return h('li', {},
        h('p', {}, h('strong', {}, DECISIONS[r.type] || r.type), ' — ',
            frDate(r.at), rating),
        h('p', {}, 'Question : ', r.question ? '« ' + r.question + ' »'
            : '(un choix dans une liste)'),
        r.commentaire ? h('p', {}, 'Commentaire : ' + r.commentaire) : null,
        whyDetails(r.pourquoi));
}

const rList = document.getElementById('r-list');
const rMore = document.getElementById('r-more');
const rStatus = document.getElementById('r-status');
const rType = document.getElementById('r-type');
let rBefore = null;

async function loadReplies(append) {
    const q = new URLSearchParams({ limit: '20' });
    if (rType.value) q.set('type', rType.value);
    if (append && rBefore) q.set('before', rBefore);
    let data;
    try {
        data = await api('GET', '/api/v1/assistant/reponses?' + q);
    } catch (e) {
        showStatus(rStatus, e.message);
        return;
    }
    const items = data.reponses.map(replyItem);
    if (append) rList.append(...items);
    else rList.replaceChildren(...items);
    rBefore = data.suivant;
    rMore.hidden = !rBefore;
    rStatus.textContent = rList.children.length ? ''
        : 'Aucune réponse de l’assistant pour l’instant.';
}

rType.addEventListener('change', () => loadReplies(false));
rMore.addEventListener('click', () => loadReplies(true));

function row(x) {
    const open = h('a', { href: '#detail' }, x.reference);
    open.addEventListener('click', (ev) => {
        ev.preventDefault();
        show(x.id);
    });
    return h('tr', {},
        h('td', {}, open),
        h('td', { class: 'nowrap' }, frDate(x.created_at)),
        h('td', {}, x.question),
        h('td', {}, STATUS_LABELS[x.status] || x.status));
}

async function load(append) {
    const q = new URLSearchParams();
    const st = form.elements.status.value;
    const words = form.elements.q.value.trim();
    if (st) q.set('status', st);
    if (words) q.set('q', words);
    if (append && before) q.set('before', before);
    let data;
    try {
        data = await api('GET', '/api/v1/assistant/handoffs?' + q);
    } catch (e) {
        showApiError(form, e, status);
        return;
    }
    const rows = data.handoffs.map(row);
    if (append) body.append(...rows);
    else body.replaceChildren(...rows);
    before = data.next_before;
    more.hidden = !before;
    setStats(data.stats || {});
    const n = body.children.length;
    info.textContent = n === 0 ? 'Aucune question ne correspond aux filtres.'
        : n + ' question' + (n > 1 ? 's' : '') + ' affichée' +
        (n > 1 ? 's' : '') + '.';
}

async function show(id) {
    let x;
    dstatus.textContent = '';
    try {
        x = await api('GET', '/api/v1/assistant/handoffs/' + id);
    } catch (e) {
        showStatus(status, e.message);
        return;
    }
    current = x;
    document.getElementById('d-ref').textContent = x.reference;
    document.getElementById('d-status').textContent =
        STATUS_LABELS[x.status] || x.status;
    if (x.email) document.getElementById('d-email').textContent = x.email;
    document.getElementById('d-question').textContent = x.question;
    document.getElementById('d-transcript').replaceChildren(
        ...x.transcript.split('\n').filter((l) => l).map((l) => h('p', {}, l)));
    const replies = document.getElementById('d-replies');
    replies.replaceChildren(...(x.reponses || []).slice().reverse()
        .map(replyItem));
    if (!replies.children.length) {
        replies.append(h('li', {}, 'La conversation a été effacée (durée ' +
            'de conservation écoulée).'));
    }
    answerForm.elements.answer.value = x.answer || '';
    answerForm.hidden = !canAnswer;
    document.getElementById('a-fiche').disabled = !x.answer;
    document.getElementById('a-take').hidden = x.status !== 'nouveau';
    detail.hidden = false;
    detail.focus();
}

answerForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(answerForm);
    if (!current) return;
    try {
        await api('POST', '/api/v1/assistant/handoffs/' + current.id +
            '/answer', { answer: answerForm.elements.answer.value });
    } catch (e) {
        showApiError(answerForm, e, dstatus);
        return;
    }
    await show(current.id);
    showStatus(dstatus, 'Réponse enregistrée et mise en file d’envoi.');
    load(false);
});

document.getElementById('a-take').addEventListener('click', async () => {
    if (!current) return;
    try {
        await api('PATCH', '/api/v1/assistant/handoffs/' + current.id,
            { status: 'en cours' });
    } catch (e) {
        showStatus(dstatus, e.message);
        return;
    }
    await show(current.id);
    load(false);
});

document.getElementById('a-fiche').addEventListener('click', async () => {
    if (!current) return;
    let r;
    try {
        r = await api('POST', '/api/v1/assistant/handoffs/' + current.id +
            '/fiche');
    } catch (e) {
        showStatus(dstatus, e.message);
        return;
    }
    dstatus.replaceChildren('Fiche créée : ',
        h('a', { href: '/agent/fiches/' + r.fiche_id }, r.fiche_id),
        ' (à relire et compléter).');
});

form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    status.textContent = '';
    load(false);
});
more.addEventListener('click', () => load(true));

initShell().then((me) => {
    if (!me) return;
    canAnswer = me.role === 'agent' || me.role === 'admin';
    load(false);
    loadReplies(false);
});
