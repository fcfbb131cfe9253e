// kb-synonymes.js - the commune's synonym and acronym table: read by
// everyone, replaced by an administrator (the server checks it line by
// line and says which line is wrong).

import { api } from './api.js';
import { clearErrors, fieldError, showStatus } from './form.js';
import { initShell } from './shell.js';

const form = document.getElementById('syn-form');
const textarea = document.getElementById('f-text');
const origin = document.getElementById('syn-origin');
const saved = document.getElementById('syn-status');
const status = document.getElementById('page-status');

function show(data) {
    textarea.value = data.text;
    origin.textContent = data.custom
        ? 'Table propre à la commune.'
        : 'Table par défaut de Guichet (la commune ne l’a pas encore ' +
          'modifiée).';
}

form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    status.textContent = '';
    saved.hidden = true;
    let data;
    try {
        data = await api('PUT', '/api/v1/kb/synonyms',
            { text: textarea.value });
    } catch (e) {
        if (!fieldError(form, 'text', e.message)) showStatus(status, e.message);
        return;
    }
    show(data);
    saved.textContent = 'Table enregistrée. L’assistant l’utilise dès la ' +
        'prochaine reconstruction de son index.';
    saved.hidden = false;
});

const me = await initShell();
if (me) {
    const admin = me.role === 'admin';
    document.getElementById('syn-actions').hidden = !admin;
    document.getElementById('syn-readonly').hidden = admin;
    textarea.readOnly = !admin;
    try {
        show(await api('GET', '/api/v1/kb/synonyms'));
    } catch (e) {
        showStatus(status, e.message);
    }
}
