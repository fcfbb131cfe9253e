// agent-demandes-common.js - what the inbox pages share: the French labels
// of statuses, urgencies, channels and urgency reasons, the age and SLA
// texts (« il y a 3 h », « reste 6 h », « en retard de 2 j » — words, never
// a colour alone), the taxonomy and agents loaded once, and `req()`, the one
// place that reads a request as the JSON API (docs/triage-api.md) spells it.

import { api } from './api.js';

export const STATUS = {
    a_trier: 'À trier',
    nouvelle: 'Nouvelle',
    en_cours: 'En cours',
    attente: 'En attente de l’usager',
    resolue: 'Résolue',
    rejetee: 'Rejetée',
};
export const OPEN = ['a_trier', 'nouvelle', 'en_cours', 'attente'];

export const URGENCY = ['Normale', 'Prioritaire', 'Urgente'];

export const CHANNEL = {
    web: 'Formulaire en ligne',
    courriel: 'Courriel',
    chat: 'Assistant en ligne',
    telephone: 'Téléphone',
    guichet: 'Guichet',
    api: 'API',
};

// Urgency reasons come as "kind:detail" ("danger:fuite de gaz",
// "echeance:demain (1 j)", "signalements:5", "modele:2 (p=0.83)").
const REASONS = {
    danger: 'danger',
    hygiene: 'hygiène ou salubrité',
    detresse: 'détresse',
    vulnerable: 'personne vulnérable',
    mention: 'urgence signalée par l’usager',
    echeance: 'échéance',
    signalements: 'signalements répétés',
    modele: 'modèle d’urgence',
    agent: 'fixée par un agent',
};

const SOURCE = {
    modele: 'le modèle',
    regle: 'une règle',
    agent: 'un agent',
    usager: 'l’usager',
};

const KIND = {
    entrant: 'Message de l’usager',
    sortant: 'Réponse envoyée',
    note: 'Note interne',
    evenement: 'Événement',
};

export function reasonLabel(r) {
    const t = String(r || '');
    const i = t.indexOf(':');
    const kind = i < 0 ? t : t.slice(0, i);
    const detail = i < 0 ? '' : t.slice(i + 1).trim();
    if (kind === 'signalements' && /^\d+$/.test(detail)) {
        return detail + ' signalements du même problème';
    }
    if (kind === 'modele') {
        const m = /^(\d)\s*\(p=([\d.]+)\)/.exec(detail);
        if (m) {
            return 'modèle d’urgence : ' + (URGENCY[Number(m[1])] || m[1])
                .toLowerCase() + ', probabilité ' +
                Math.round(Number(m[2]) * 100) + '\u202f%';
        }
    }
    const label = REASONS[kind] || kind;
    if (kind === 'mention' && detail) return label + ' (« ' + detail + ' »)';
    return detail ? label + ' : ' + detail : label;
}

export function sourceLabel(s) {
    return SOURCE[s] || s || '';
}

export function kindLabel(k) {
    return KIND[k] || k || '';
}

// A JSON array given as an array or as JSON text.
function list(v) {
    if (Array.isArray(v)) return v;
    if (typeof v === 'string' && v.startsWith('[')) {
        try {
            const a = JSON.parse(v);
            return Array.isArray(a) ? a : [];
        } catch (e) {
            return [];
        }
    }
    return [];
}

// Milliseconds since the epoch from an RFC 3339 text or unix seconds; 0
// for none.
export function when(v) {
    if (v === null || v === undefined || v === '' || v === 0) return 0;
    if (typeof v === 'number') return v * 1000;
    const t = Date.parse(v);
    return isNaN(t) ? 0 : t;
}

function first(o, names, def) {
    for (const n of names) {
        if (o[n] !== undefined && o[n] !== null) return o[n];
    }
    return def;
}

// A request as the pages use it, from the list (with an excerpt) or the
// detail (with the text) of the API. `body` is what the caller may read:
// the original for agents, the redacted text for readers (the server
// chooses).
export function req(o) {
    const svc = o.service && typeof o.service === 'object' ? o.service : {};
    const contact = o.contact && typeof o.contact === 'object'
        ? o.contact : {};
    const who = o.assigne && typeof o.assigne === 'object' ? o.assigne : {};
    return {
        id: o.id,
        number: first(o, ['numero'], String(o.id)),
        status: first(o, ['statut'], ''),
        channel: first(o, ['canal'], ''),
        subject: first(o, ['objet'], ''),
        body: first(o, ['texte', 'extrait'], ''),
        serviceId: Number(first(svc, ['id'], 0)),
        serviceCode: first(svc, ['code'], ''),
        serviceName: first(svc, ['nom'], ''),
        serviceSource: first(o, ['service_source'], ''),
        confidence: Number(first(o, ['confiance'], 0)),
        modelVersion: first(o, ['version_modele'], ''),
        why: list(first(o, ['pourquoi'], [])),
        urgency: Number(first(o, ['urgence'], 0)),
        reasons: list(first(o, ['raisons_urgence'], [])),
        caseId: Number(first(o, ['cas'], 0)),
        caseSize: Number(first(o, ['taille_cas'], 1)),
        address: first(o, ['adresse'], ''),
        contactName: first(contact, ['nom'], ''),
        contactEmail: first(contact, ['courriel'], ''),
        contactPhone: first(contact, ['telephone'], ''),
        assignedTo: Number(first(who, ['id'], 0)),
        assignedLogin: first(who, ['login'], ''),
        overdue: !!o.en_retard,
        created: when(first(o, ['cree_le'], 0)),
        due: when(first(o, ['echeance'], 0)),
        firstReply: when(first(o, ['premiere_reponse_le'], 0)),
        resolved: when(first(o, ['resolue_le'], 0)),
        anonymised: !!o.anonymisee,
        raw: o,
    };
}

// « 3 h », « 2 j », « 25 min » for a duration in milliseconds.
export function span(ms) {
    const min = Math.max(0, Math.round(ms / 60000));
    if (min < 60) return min + ' min';
    const hours = Math.round(min / 60);
    if (hours < 48) return hours + ' h';
    return Math.round(hours / 24) + ' j';
}

export function ageText(t, now = Date.now()) {
    if (!t) return '';
    if (now - t < 60000) return 'à l’instant';
    return 'il y a ' + span(now - t);
}

// The SLA timer as words, and whether it is overdue.
export function slaText(r, now = Date.now()) {
    if (!OPEN.includes(r.status)) {
        return { text: r.status === 'resolue' ? 'traitée' : 'close',
            late: false };
    }
    if (!r.due) return { text: 'sans échéance', late: false };
    if (r.due < now) {
        return { text: 'en retard de ' + span(now - r.due), late: true };
    }
    return { text: 'reste ' + span(r.due - now), late: false };
}

const dateFmt = new Intl.DateTimeFormat('fr-FR', {
    dateStyle: 'short', timeStyle: 'short', timeZone: 'Europe/Paris',
});

export function frTime(t) {
    return t ? dateFmt.format(new Date(t)) : '';
}

export function pct(p) {
    // A narrow no-break space: « 75 % » never breaks before the sign.
    return Math.round(Number(p || 0) * 100) + '\u202f%';
}

// The commune's services and its agents, loaded once per page.
let servicesP = null;
let agentsP = null;

export function services() {
    if (!servicesP) {
        servicesP = api('GET', '/api/v1/triage/services').then((r) =>
            (r.services || []).map((s) => ({
                id: s.id,
                code: s.code,
                name: s.nom || s.code,
                description: s.description || '',
                email: s.courriel || '',
                threshold: Number(first(s, ['seuil'], 0.6)),
                sla: Number(first(s, ['delai_h'], 72)),
                position: Number(first(s, ['position'], 0)),
                active: first(s, ['actif'], true) !== false,
                raw: s,
            })));
    }
    return servicesP;
}

export function resetServices() {
    servicesP = null;
}

export function agents() {
    if (!agentsP) {
        agentsP = api('GET', '/api/v1/triage/agents').then((r) =>
            r.agents || []);
    }
    return agentsP;
}
