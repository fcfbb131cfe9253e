// password.js - change one's own password (forced at first login).

import { api } from '../api.js';
import { clearErrors, fieldError, showApiError, showStatus } from '../form.js';
import { initShell } from '../shell.js';

const form = document.getElementById('pw-form');
const status = document.getElementById('page-status');
const done = document.getElementById('pw-done');

const me = await initShell({ allowMustChange: true });
if (me && me.must_change_password) {
    document.getElementById('must-change').hidden = false;
}

form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    status.textContent = '';
    const current = form.elements.current.value;
    const next = form.elements.new.value;
    const confirm = form.elements.confirm.value;
    if (!current) {
        fieldError(form, 'current', 'Saisissez votre mot de passe actuel.');
        return;
    }
    if ([...next].length < 12) {
        fieldError(form, 'new',
            'Le mot de passe doit contenir au moins 12 caractères.');
        return;
    }
    if (next !== confirm) {
        fieldError(form, 'confirm',
            'La confirmation ne correspond pas au nouveau mot de passe.');
        return;
    }
    try {
        await api('PUT', '/api/v1/session/password',
            { current, new: next });
    } catch (e) {
        showApiError(form, e, status);
        return;
    }
    form.reset();
    document.getElementById('must-change').hidden = true;
    showStatus(done, 'Votre mot de passe a été changé.');
    if (me && me.must_change_password) {
        window.location.assign('/agent');
    }
});
