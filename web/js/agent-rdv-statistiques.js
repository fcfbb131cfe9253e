// agent-rdv-statistiques.js - no-show rates by motif, weekday, hour and
// lead time (accessible tables; the bar only repeats the number), and the
// risk model in service: version, sample size, AUC and log-loss on the
// hold-out against the base rate.

import { api, frDate } from './api.js';
import { clearErrors, h, showApiError } from './form.js';
import { initShell } from './shell.js';

const DIMS = [
    ['motif', 'Par motif', 'Motif'],
    ['jour', 'Par jour de la semaine', 'Jour'],
    ['heure', 'Par heure du rendez-vous', 'Heure'],
    ['delai', 'Par délai entre la réservation et le rendez-vous', 'Délai'],
];

const form = document.getElementById('stats-form');
const tables = document.getElementById('stats-tables');
const total = document.getElementById('stats-total');
const pageStatus = document.getElementById('page-status');

const pctFmt = new Intl.NumberFormat('fr-FR', {
    style: 'percent', maximumFractionDigits: 1,
});
const numFmt = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 3 });

function table(dim, title, head, rows) {
    const id = 'st-' + dim;
    const body = h('tbody');
    const max = Math.max(0.0001, ...rows.map((r) => r.rate));
    for (const r of rows) {
        const bar = h('span', { class: 'rdv-bar', 'aria-hidden': 'true' });
        bar.style.width = Math.round((r.rate / max) * 100) + '%';
        body.append(h('tr', {},
            h('th', { scope: 'row' }, r.key),
            h('td', { class: 'num' }, String(r.booked)),
            h('td', { class: 'num' }, String(r.noshow)),
            h('td', { class: 'num' }, pctFmt.format(r.rate)),
            h('td', { class: 'rdv-bar-cell' }, bar)));
    }
    if (!rows.length) {
        body.append(h('tr', {}, h('td', { colspan: '5' },
            'Aucun rendez-vous passé sur cette période.')));
    }
    return h('section', { 'aria-labelledby': id },
        h('h2', { id }, title),
        h('div', { class: 'table-scroll', tabindex: '0', role: 'region',
            'aria-labelledby': id },
        h('table', {},
            h('thead', {}, h('tr', {},
                h('th', { scope: 'col' }, head),
                h('th', { scope: 'col', class: 'num' }, 'Rendez-vous passés'),
                h('th', { scope: 'col', class: 'num' }, 'Absences'),
                h('th', { scope: 'col', class: 'num' }, 'Taux d’absence'),
                h('th', { scope: 'col' },
                    h('span', { class: 'visually-hidden' }, 'Barre')))),
            body)));
}

function model(m) {
    const box = document.getElementById('model-info');
    if (!m) {
        box.replaceChildren(h('p', {}, 'Aucun modèle pour l’instant : la ' +
            'commune n’a pas encore assez de rendez-vous passés. Aucun ' +
            'risque n’est donc calculé.'));
        return;
    }
    box.replaceChildren(
        h('dl', { class: 'rdv-detail' },
            h('dt', {}, 'Version'), h('dd', { id: 'model-version' },
                String(m.version) + ', entraînée le ' + frDate(m.trained_at)),
            h('dt', {}, 'Rendez-vous utilisés'),
            h('dd', {}, m.samples + ', dont ' + m.holdout +
                ' parmi les plus récents gardés pour la mesure'),
            h('dt', {}, 'Taux moyen d’absence (référence)'),
            h('dd', {}, pctFmt.format(m.base_rate)),
            h('dt', {}, 'Capacité à distinguer (AUC)'),
            h('dd', {}, numFmt.format(m.auc) + ' (0,5 = pas mieux que le ' +
                'hasard ; 1 = parfait)'),
            h('dt', {}, 'Erreur de prévision (log-loss)'),
            h('dd', {}, numFmt.format(m.logloss) + ' contre ' +
                numFmt.format(m.base_logloss) + ' en prévoyant toujours le ' +
                'taux moyen (plus bas = mieux)'),
            h('dt', {}, 'En service'),
            h('dd', {}, m.useful
                ? 'oui : il prévoit mieux que le taux moyen'
                : 'non : il ne prévoit pas mieux que le taux moyen, aucun ' +
                  'risque n’est affiché')));
}

async function load() {
    clearErrors(form);
    const q = new URLSearchParams();
    if (form.elements.from.value) q.set('from', form.elements.from.value);
    if (form.elements.to.value) q.set('to', form.elements.to.value);
    try {
        const res = await Promise.all(DIMS.map(([dim]) => {
            const qq = new URLSearchParams(q);
            qq.set('dim', dim);
            return api('GET', '/api/v1/rdv/stats/noshow?' + qq.toString());
        }));
        tables.replaceChildren(...res.map((r, i) =>
            table(DIMS[i][0], DIMS[i][1], DIMS[i][2], r.rows || [])));
        const t = res[0].total;
        form.elements.from.value = res[0].from;
        form.elements.to.value = res[0].to;
        total.textContent = 'Du ' + new Date(res[0].from).toLocaleDateString(
            'fr-FR', { timeZone: 'UTC' }) + ' au ' + new Date(res[0].to)
            .toLocaleDateString('fr-FR', { timeZone: 'UTC' }) + ' : ' +
            t.booked + ' rendez-vous passés, ' + t.noshow + ' absences (' +
            pctFmt.format(t.rate) + ').';
        model(res[0].model);
    } catch (e) {
        showApiError(form, e, pageStatus);
    }
}

form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
});

initShell().then((me) => {
    if (me) load();
});
