// pourquoi.js - « Pourquoi ? »: renders the explanation object that every
// AI output carries in the API (src/web/web_why.c gives its shape: resume,
// elements, sources, modele, version, date) into the same markup the
// server-rendered pages use: a <details class="pourquoi"> whose summary
// reads « Pourquoi ? ».

import { h } from './form.js';

function frNum(v, d = 2) {
    return Number(v).toLocaleString('fr-FR', { maximumFractionDigits: d });
}

function frWhen(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    return d.toLocaleString('fr-FR', {
        timeZone: 'Europe/Paris', day: '2-digit', month: '2-digit',
        year: 'numeric', hour: '2-digit', minute: '2-digit',
    });
}

// The <details> element for `why`, or null when there is none.
export function whyDetails(why, { open = false } = {}) {
    if (!why || typeof why !== 'object') return null;
    const body = h('div', { class: 'pourquoi-corps' },
        h('p', {}, why.resume || ''));
    const sources = Array.isArray(why.sources) ? why.sources : [];
    if (sources.length) {
        body.append(h('p', { class: 'pourquoi-titre' }, 'Sources'),
            h('ol', {}, ...sources.map((s) => h('li', {},
                s.url ? h('a', { href: s.url }, s.titre || s.url)
                    : (s.titre || ''),
                typeof s.score === 'number'
                    ? ' — score ' + frNum(s.score) : ''))));
    }
    const dl = h('dl', { class: 'pourquoi-dl' });
    for (const e of Array.isArray(why.elements) ? why.elements : []) {
        dl.append(h('dt', {}, e.libelle || ''), h('dd', {}, e.valeur || ''));
    }
    if (why.modele) {
        dl.append(h('dt', {}, 'Modèle'), h('dd', {}, why.modele +
            (why.version ? ', version ' + why.version : '')));
    }
    const when = frWhen(why.date);
    if (when) dl.append(h('dt', {}, 'Date'), h('dd', {}, when));
    body.append(dl, h('p', { class: 'hint' }, 'Une indication pour aider ' +
        'l’agent : elle ne décide jamais seule, et un agent peut toujours ' +
        'la corriger.'));
    const d = h('details', { class: 'pourquoi' },
        h('summary', {}, 'Pourquoi ?'), body);
    if (open) d.open = true;
    return d;
}
