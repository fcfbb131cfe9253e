// api.js - fetch wrapper for Guichet's JSON API.
//
// Sends JSON, adds the session's CSRF token (read once from
// GET /api/v1/session) to every state-changing request, and turns
// problem+json answers into ApiError carrying the French detail and, when
// the server names it, the offending field. A 401 sends the browser to the
// login page.

export class ApiError extends Error {
    constructor(status, problem) {
        super((problem && (problem.detail || problem.title)) ||
            'Une erreur est survenue. Merci de réessayer.');
        this.status = status;
        this.problem = problem || {};
        this.field = fieldOf(this.problem);
    }
}

function fieldOf(p) {
    if (p.champ) return p.champ;
    if (p.field) return p.field;
    const list = p.errors || p.invalid_params;
    if (Array.isArray(list) && list.length) {
        return list[0].field || list[0].name || list[0].pointer || null;
    }
    return null;
}

let csrfPromise = null;

async function csrfToken() {
    if (!csrfPromise) {
        csrfPromise = fetch('/api/v1/session', {
            credentials: 'same-origin',
            headers: { Accept: 'application/json' },
        }).then(async (r) => {
            if (!r.ok) {
                csrfPromise = null; // no session yet: ask again later
                return '';
            }
            const s = await r.json();
            return s.csrf || s.csrf_token || '';
        }).catch(() => '');
    }
    return csrfPromise;
}

// Seed the CSRF token when the session is already at hand.
export function setCsrf(token) {
    if (token) csrfPromise = Promise.resolve(token);
}

export function toLogin() {
    window.location.assign('/agent/connexion');
}

// The session as the web layer describes it (GET /api/v1/session).
export async function session() {
    const r = await fetch('/api/v1/session', {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
    });
    if (!r.ok) return null;
    return r.json();
}

// api('GET', '/api/v1/agents') -> parsed JSON (null for 204).
// options.noRedirect: do not go to the login page on 401.
// options.csrf: false to send no CSRF token (login: no session yet).
export async function api(method, path, body, options = {}) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin' };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    if (method !== 'GET' && method !== 'HEAD' && options.csrf !== false) {
        const t = await csrfToken();
        if (t) headers['X-CSRF-Token'] = t;
    }
    let r;
    try {
        r = await fetch(path, init);
    } catch (e) {
        throw new ApiError(0, {
            detail: 'Le serveur ne répond pas. Vérifiez votre connexion ' +
                'puis réessayez.',
        });
    }
    if (r.status === 401 && !options.noRedirect) {
        toLogin();
        throw new ApiError(401, { detail: 'Session expirée.' });
    }
    if (r.status === 204) return null;
    const type = r.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await r.json().catch(() => null)
        : null;
    if (!r.ok) throw new ApiError(r.status, data);
    return data;
}

// "30/11/2026 23:11" in Paris time, or "jamais" for null.
const dateFmt = new Intl.DateTimeFormat('fr-FR', {
    dateStyle: 'short', timeStyle: 'short', timeZone: 'Europe/Paris',
});

export function frDate(iso, never = 'jamais') {
    if (!iso) return never;
    const d = new Date(iso);
    return isNaN(d) ? iso : dateFmt.format(d);
}

export const ROLE_LABELS = {
    lecteur: 'Lecteur',
    agent: 'Agent',
    admin: 'Administrateur',
};
