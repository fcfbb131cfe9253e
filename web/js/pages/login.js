// login.js - the login form posts JSON to /api/v1/session; without
// JavaScript (or if the API is unreachable) it still works as a plain
// form POST to /agent/connexion.

import { api } from '../api.js';

const form = document.getElementById('login-form');
const error = document.getElementById('login-error');
const login = document.getElementById('login');
const password = document.getElementById('password');

function fail(msg, field) {
    error.textContent = msg;
    for (const el of [login, password]) el.removeAttribute('aria-invalid');
    if (field) {
        field.setAttribute('aria-invalid', 'true');
        field.focus();
    }
}

if (error.textContent.trim()) {
    password.setAttribute('aria-invalid', 'true');
    password.focus();
} else if (!login.value) {
    login.focus();
} else {
    password.focus();
}

form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!login.value.trim()) {
        fail('Saisissez votre identifiant.', login);
        return;
    }
    if (!password.value) {
        fail('Saisissez votre mot de passe.', password);
        return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
        const s = await api('POST', '/api/v1/session', {
            login: login.value.trim(),
            password: password.value,
        }, { noRedirect: true, csrf: false });
        const must = s && (s.must_change_password ||
            (s.agent && s.agent.must_change_password));
        window.location.assign(must ? '/agent/mot-de-passe' : '/agent');
    } catch (e) {
        button.disabled = false;
        if (e.status === 401 || e.status === 429 || e.status === 400 ||
            e.status === 422) {
            password.value = '';
            fail(e.message, e.status === 429 ? null : password);
        } else if (e.status === 0 || e.status === 404 || e.status === 405) {
            // The JSON API is not there: fall back to the HTML form.
            form.submit();
        } else {
            fail(e.message, null);
        }
    }
});
