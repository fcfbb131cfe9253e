// agent-rdv.js - the appointment calendar of the back-office (/agent/rdv):
// a day view (one column per counter of the place) and a week view (one
// column per day), rows are time; each booking is a button showing the
// name, motif, people, status (as text and colour) and the no-show risk
// badge; it opens a dialog with the details, the risk's explanation, and
// the actions (present / absent / excused, note, move, cancel). « Nouveau
// rendez-vous » books on someone's behalf (phone or counter).
//
// Data: /api/v1/rdv/places, counters, motifs, ranges, agenda, bookings/{id},
// agent/slots, agent/bookings (docs/rdv-api.md).

import { api } from './api.js';
import { clearErrors, h, showApiError, showStatus } from './form.js';
import { initShell } from './shell.js';
import { whyDetails } from './pourquoi.js';

const UNIT = 5; // minutes per grid row (RDV_UNIT_MIN)
const DAY_NAMES = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi',
    'samedi', 'dimanche'];
const STATUS = {
    propose: 'proposé (liste d’attente)',
    confirme: 'confirmé',
    annule: 'annulé',
    present: 'présent',
    absent: 'absent',
    excuse: 'excusé',
};
const CHANNEL = {
    web: 'Internet', guichet: 'au guichet', telephone: 'par téléphone',
    assistant: 'assistant', voix: 'serveur vocal',
};

const form = document.getElementById('cal-form');
const cal = document.getElementById('cal');
const calStatus = document.getElementById('cal-status');
const pageStatus = document.getElementById('page-status');
const bd = document.getElementById('booking-dialog');
const nd = document.getElementById('new-dialog');
const newForm = document.getElementById('new-form');

let me = null;
let places = [];
let counters = [];
let motifs = [];
let ranges = [];
let current = null; // the booking open in the dialog
let lastFocus = null;

// ----- dates (civil days as "aaaa-mm-jj", computed in UTC to stay exact)

function parseDay(s) {
    const [y, m, d] = s.split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d));
}

function isoDay(d) {
    return d.toISOString().slice(0, 10);
}

function addDays(s, n) {
    const d = parseDay(s);
    d.setUTCDate(d.getUTCDate() + n);
    return isoDay(d);
}

function weekday(s) { // 1 = lundi
    const w = parseDay(s).getUTCDay();
    return w === 0 ? 7 : w;
}

function monday(s) {
    return addDays(s, 1 - weekday(s));
}

function todayIso() {
    // The commune's day, as the server computed it for the page (its
    // zone's civil time); Paris time if absent.
    const t = form.dataset.today;
    if (/^\d{4}-\d{2}-\d{2}$/.test(t || '')) return t;
    const f = new Intl.DateTimeFormat('fr-CA', {
        timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit',
        day: '2-digit',
    });
    return f.format(new Date());
}

function frDay(s) {
    const d = parseDay(s);
    return new Intl.DateTimeFormat('fr-FR', {
        weekday: 'long', day: 'numeric', month: 'long', year: 'numeric',
        timeZone: 'UTC',
    }).format(d);
}

// « lun. 30/11 » for the week view's column heads.
function shortDay(s) {
    const [, m, d] = s.split('-');
    return DAY_NAMES[weekday(s) - 1].slice(0, 3) + '. ' + d + '/' + m;
}

function minutes(hhmm) {
    const [hh, mm] = String(hhmm || '0:0').split(':').map(Number);
    return hh * 60 + mm;
}

function hhmm(min) {
    return String(Math.floor(min / 60)).padStart(2, '0') + ':' +
        String(min % 60).padStart(2, '0');
}

// Start and end minutes of a booking (from "start"/"end" RFC 3339 text:
// the local time is the text's own, whatever the browser's zone).
function span(b) {
    const s = minutes((b.start || '').slice(11, 16));
    const e = minutes((b.end || '').slice(11, 16));
    return [s, e > s ? e : s + UNIT];
}

// ----- state in the address bar, so a reload or a link keeps the view

function readState() {
    const q = new URLSearchParams(window.location.search);
    const view = q.get('vue') === 'semaine' ? 'semaine' : 'jour';
    let date = q.get('date') || todayIso();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) date = todayIso();
    return {
        view, date, place: q.get('lieu') || '', counter: q.get('guichet') || '',
    };
}

function writeState(st) {
    const q = new URLSearchParams();
    q.set('vue', st.view);
    q.set('date', st.date);
    if (st.place) q.set('lieu', st.place);
    if (st.counter) q.set('guichet', st.counter);
    window.history.replaceState(null, '', '/agent/rdv?' + q.toString());
}

function state() {
    return {
        view: form.elements.view.value,
        date: form.elements.date.value || todayIso(),
        place: form.elements.place.value,
        counter: form.elements.counter.value,
    };
}

function period(st) {
    if (st.view === 'semaine') {
        const from = monday(st.date);
        return [from, addDays(from, 6)];
    }
    return [st.date, st.date];
}

// ----- risk

function riskClass(r) {
    if (r >= 0.4) return 'rdv-risk rdv-risk-haut';
    if (r >= 0.2) return 'rdv-risk rdv-risk-moyen';
    return 'rdv-risk';
}

function pct(r) {
    return Math.round(r * 100) + ' %';
}

// ----- rendering

function countersShown(st) {
    return counters.filter((k) => (!st.place ||
        String(k.place_id) === st.place) &&
        (!st.counter || String(k.id) === st.counter) && k.active !== false);
}

// The hours to show: the opening ranges of what is shown, and every
// booking; 8:00-18:00 when nothing says otherwise.
function hoursOf(shown, bookings) {
    let lo = Infinity;
    let hi = -Infinity;
    const ids = new Set(shown.map((k) => k.id));
    for (const r of ranges) {
        if (!ids.has(r.counter_id)) continue;
        lo = Math.min(lo, minutes(r.start));
        hi = Math.max(hi, minutes(r.end));
    }
    for (const b of bookings) {
        const [s, e] = span(b);
        lo = Math.min(lo, s);
        hi = Math.max(hi, e);
    }
    if (!isFinite(lo)) {
        lo = 8 * 60;
        hi = 18 * 60;
    }
    lo = Math.floor(lo / 60) * 60;
    hi = Math.ceil(hi / 60) * 60;
    return [lo, hi];
}

function block(b, showCounter) {
    const [s, e] = span(b);
    const st = STATUS[b.status] || b.status;
    const people = b.people > 1 ? b.people + ' personnes' : '1 personne';
    const risk = typeof b.risk === 'number' && b.risk >= 0
        ? h('span', { class: riskClass(b.risk) }, 'risque ' + pct(b.risk))
        : null;
    // Time and name first: a short booking shows one line of its text.
    const el = h('button', {
        type: 'button',
        class: 'rdv-block rdv-st-' + b.status,
        'data-id': String(b.id),
        'aria-haspopup': 'dialog',
    },
    h('span', { class: 'time' }, hhmm(s)),
    h('span', { class: 'visually-hidden' }, ' à ' + hhmm(e) + ', '),
    h('span', { class: 'who' }, b.name || '(anonymisé)'), risk, ' — ',
    (b.motif && b.motif.name) || '', ', ' + people,
    showCounter && b.counter ? ', ' + b.counter.name : '',
    h('span', { class: 'st' }, st + (b.lane > 0 ? ' · en surnombre' : '')));
    el.addEventListener('click', () => openBooking(b.id, el));
    return [el, s, e];
}

function render(st, bookings) {
    const shown = countersShown(st);
    const [from] = period(st);
    const days = st.view === 'semaine'
        ? [0, 1, 2, 3, 4, 5, 6].map((i) => addDays(from, i)) : [st.date];
    // Columns: counters (day view) or days (week view).
    let cols;
    if (st.view === 'semaine') {
        cols = days.filter((d) => weekday(d) < 7 ||
            bookings.some((b) => b.day === d)).map((d) => ({
            key: d,
            title: shortDay(d),
            full: frDay(d),
            match: (b) => b.day === d,
            day: d,
        }));
    } else {
        cols = shown.map((k) => ({
            key: String(k.id), title: k.name,
            match: (b) => b.counter && b.counter.id === k.id, counter: k,
        }));
    }
    const ids = new Set(shown.map((k) => k.id));
    const list = bookings.filter((b) => !b.counter || ids.has(b.counter.id));
    const [lo, hi] = hoursOf(shown, list);
    const rows = (hi - lo) / UNIT;

    cal.replaceChildren();
    cal.style.gridTemplateColumns = '4.5rem repeat(' +
        Math.max(cols.length, 1) + ', minmax(9rem, 1fr))';
    cal.style.gridTemplateRows = 'auto repeat(' + rows + ', 0.5rem)';
    if (!cols.length) {
        calStatus.textContent = 'Aucun guichet pour ce lieu. Un ' +
            'administrateur peut en créer dans les réglages.';
        return;
    }
    const corner = h('div', { class: 'rdv-cal-head' }, 'Heure');
    cal.append(corner);
    cols.forEach((c, i) => {
        const head = h('div', { class: 'rdv-cal-head' }, c.title);
        head.style.gridColumn = String(i + 2);
        head.style.gridRow = '1';
        cal.append(head);
    });
    for (let m = lo; m < hi; m += 60) {
        const lab = h('div', { class: 'rdv-cal-hour', 'aria-hidden': 'true' },
            hhmm(m));
        lab.style.gridColumn = '1';
        lab.style.gridRow = (2 + (m - lo) / UNIT) + ' / span ' + (60 / UNIT);
        cal.append(lab);
    }
    cols.forEach((c, i) => {
        const bg = h('div', {
            class: 'rdv-cal-col' + (isOpen(c, st) ? '' : ' rdv-cal-closed'),
            'aria-hidden': 'true',
        });
        bg.style.gridColumn = String(i + 2);
        bg.style.gridRow = '2 / span ' + rows;
        cal.append(bg);
        // Each column's bookings in time order, so that reading order
        // follows the column.
        const mine = list.filter(c.match).sort((a, b) =>
            span(a)[0] - span(b)[0] || a.lane - b.lane);
        const sr = h('h3', { class: 'visually-hidden' }, (c.full || c.title) +
            ' : ' +
            (mine.length ? mine.length + ' rendez-vous' : 'aucun rendez-vous'));
        sr.style.gridColumn = String(i + 2);
        sr.style.gridRow = '1';
        cal.append(sr);
        for (const b of mine) {
            const [el, s, e] = block(b, st.view === 'semaine' && !st.counter);
            el.style.gridColumn = String(i + 2);
            el.style.gridRow = (2 + Math.max(0, s - lo) / UNIT) + ' / span ' +
                Math.max(1, Math.round((e - s) / UNIT));
            if (b.lane > 0) el.style.marginLeft = '40%';
            cal.append(el);
        }
    });
    const active = list.filter((b) => b.status !== 'annule').length;
    calStatus.textContent = (st.view === 'semaine'
        ? 'Semaine du ' + frDay(days[0]) : frDay(st.date)) + ' : ' +
        (active ? active + ' rendez-vous' : 'aucun rendez-vous') + '.';
}

// Is anything open in a column (a range for its counter / day)?
function isOpen(c, st) {
    const shown = countersShown(st).map((k) => k.id);
    return ranges.some((r) => {
        if (c.counter) {
            return r.counter_id === c.counter.id &&
                r.weekday === weekday(st.date);
        }
        return shown.includes(r.counter_id) && r.weekday === weekday(c.day);
    });
}

async function load() {
    const st = state();
    writeState(st);
    const [from, to] = period(st);
    const q = new URLSearchParams({ from, to, cancelled: '1' });
    if (st.place) q.set('place', st.place);
    if (st.counter) q.set('counter', st.counter);
    document.getElementById('print-link').href = '/agent/rdv/jour?date=' +
        st.date + (st.place ? '&lieu=' + st.place : '');
    const eq = new URLSearchParams({ from, to });
    if (st.place) eq.set('place', st.place);
    if (st.counter) eq.set('counter', st.counter);
    document.getElementById('csv-link').href = '/api/v1/rdv/export.csv?' + eq;
    document.getElementById('ics-link').href = '/api/v1/rdv/export.ics?' + eq;
    calStatus.textContent = 'Chargement…';
    try {
        const r = await api('GET', '/api/v1/rdv/agenda?' + q.toString());
        render(st, (r && r.bookings) || []);
    } catch (e) {
        calStatus.textContent = '';
        showStatus(pageStatus, e.message);
    }
}

function fillCounters() {
    const sel = form.elements.counter;
    const keep = sel.value;
    sel.replaceChildren(h('option', { value: '' }, 'Tous les guichets'));
    for (const k of counters) {
        if (form.elements.place.value &&
            String(k.place_id) !== form.elements.place.value) continue;
        sel.append(h('option', { value: String(k.id) }, k.name +
            (k.active === false ? ' (inactif)' : '')));
    }
    sel.value = keep;
    if (sel.value !== keep) sel.value = '';
}

// ----- the booking dialog

function openDialog(dlg, from) {
    lastFocus = from || document.activeElement;
    if (typeof dlg.showModal === 'function') dlg.showModal();
    else dlg.setAttribute('open', '');
}

function closeDialog(dlg) {
    if (typeof dlg.close === 'function') dlg.close();
    else dlg.removeAttribute('open');
    restoreFocus();
}

// Back to what opened the dialog, also after Échap. After a reload the
// same booking's new button takes the focus.
function restoreFocus() {
    if (lastFocus && !lastFocus.isConnected && lastFocus.dataset &&
        lastFocus.dataset.id) {
        lastFocus = cal.querySelector('.rdv-block[data-id="' +
            lastFocus.dataset.id + '"]') || lastFocus;
    }
    if (lastFocus && lastFocus.isConnected) lastFocus.focus();
}

bd.addEventListener('close', restoreFocus);
nd.addEventListener('close', restoreFocus);

function row(dt, dd) {
    return [h('dt', {}, dt), h('dd', {}, dd || '—')];
}

function showBooking(b) {
    current = b;
    const [s, e] = span(b);
    document.getElementById('bd-title').textContent = (b.name ||
        '(anonymisé)') + ' — ' + ((b.motif && b.motif.name) || '');
    document.getElementById('bd-detail').replaceChildren(
        ...row('Quand', frDay(b.day) + ', de ' + hhmm(s) + ' à ' + hhmm(e)),
        ...row('Où', ((b.place && b.place.name) || '') +
            (b.counter ? ', ' + b.counter.name : '')),
        ...row('Statut', STATUS[b.status] || b.status),
        ...row('Personnes', String(b.people)),
        ...row('Téléphone', b.phone),
        ...row('Courriel', b.email),
        ...row('Pré-demandes ANTS', (b.ants_ids || []).join(', ')),
        ...row('Pris', (CHANNEL[b.channel] || b.channel || '') +
            (b.created_by ? ' (' + b.created_by + ')' : '')),
        ...row('Venue confirmée', b.confirmed ? 'oui' : 'non'),
    );
    const risk = typeof b.risk_now === 'number' ? b.risk_now
        : (typeof b.risk === 'number' && b.risk >= 0 ? b.risk : null);
    const rt = document.getElementById('bd-risk-text');
    if (risk === null) {
        rt.textContent = 'Pas d’estimation : la commune n’a pas encore ' +
            'assez de rendez-vous passés pour un modèle fiable.';
    } else {
        rt.replaceChildren(h('span', { class: riskClass(risk) }, pct(risk)),
            ' ' + (b.risk_why ? 'Principaux facteurs : ' + b.risk_why + '.'
                : ''));
        const why = whyDetails(b.pourquoi);
        if (why) rt.append(why);
    }
    document.getElementById('bd-note').value = b.note || '';
    const canAct = me && (me.role === 'agent' || me.role === 'admin');
    document.getElementById('bd-actions').hidden = !canAct ||
        b.status === 'annule';
    for (const btn of bd.querySelectorAll('[data-status]')) {
        btn.setAttribute('aria-pressed',
            String(btn.dataset.status === b.status));
    }
    document.getElementById('bd-move-from').value = todayIso();
    document.getElementById('bd-move-slots').replaceChildren();
}

async function openBooking(id, from) {
    const st = document.getElementById('bd-status');
    st.textContent = '';
    try {
        const b = await api('GET', '/api/v1/rdv/bookings/' + id);
        showBooking(b);
        openDialog(bd, from);
    } catch (e) {
        showStatus(pageStatus, e.message);
    }
}

async function act(fn) {
    const st = document.getElementById('bd-status');
    st.textContent = '';
    try {
        const b = await fn();
        if (b && b.id) showBooking(Object.assign({}, current, b));
        await load();
        return true;
    } catch (e) {
        showStatus(st, e.message);
        return false;
    }
}

for (const btn of bd.querySelectorAll('[data-status]')) {
    btn.addEventListener('click', () => act(() => api('PATCH',
        '/api/v1/rdv/bookings/' + current.id, { status: btn.dataset.status })));
}

document.getElementById('bd-note-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => api('PATCH', '/api/v1/rdv/bookings/' + current.id,
        { note: document.getElementById('bd-note').value }));
});

document.getElementById('bd-cancel').addEventListener('click', async () => {
    if (!window.confirm('Annuler ce rendez-vous ? La personne en sera ' +
        'prévenue si elle a donné un courriel, et le créneau sera proposé ' +
        'à la liste d’attente.')) return;
    if (await act(() => api('POST', '/api/v1/rdv/bookings/' + current.id +
        '/cancel', {}))) closeDialog(bd);
});

// Slots as buttons; `pick(slot)` is called on choice.
function slotButtons(ul, slots, pick) {
    ul.replaceChildren();
    let lastDay = '';
    for (const s of slots) {
        const label = (s.day !== lastDay ? frDay(s.day) + ', ' : '') +
            s.time + (s.place_name ? ' (' + s.place_name + ')' : '');
        lastDay = s.day;
        const b = h('button', {
            type: 'button', class: 'btn btn-small btn-secondary',
            'aria-pressed': 'false',
        }, label);
        b.addEventListener('click', () => {
            for (const o of ul.querySelectorAll('button')) {
                o.setAttribute('aria-pressed', 'false');
            }
            b.setAttribute('aria-pressed', 'true');
            pick(s);
        });
        ul.append(h('li', {}, b));
    }
}

async function searchSlots(motif, place, from, people, counter) {
    const q = new URLSearchParams({
        motif: String(motif), from, to: addDays(from, 13),
        people: String(people || 1), limit: '60',
    });
    if (place) q.set('place', String(place));
    if (counter) q.set('counter', String(counter));
    const r = await api('GET', '/api/v1/rdv/agent/slots?' + q.toString());
    return (r && r.slots) || [];
}

document.getElementById('bd-move-form').addEventListener('submit',
    async (ev) => {
        ev.preventDefault();
        const ul = document.getElementById('bd-move-slots');
        const st = document.getElementById('bd-status');
        st.textContent = '';
        try {
            const slots = await searchSlots(current.motif.id,
                current.place.id,
                document.getElementById('bd-move-from').value || todayIso(),
                current.people);
            if (!slots.length) {
                ul.replaceChildren(h('li', {}, 'Aucun créneau libre sur ' +
                    'ces deux semaines.'));
                return;
            }
            slotButtons(ul, slots, async (s) => {
                if (!window.confirm('Déplacer le rendez-vous au ' +
                    frDay(s.day) + ' à ' + s.time + ' ?')) return;
                await act(() => api('POST', '/api/v1/rdv/bookings/' +
                    current.id + '/move', { place: s.place, start: s.start }));
                ul.replaceChildren();
            });
        } catch (e) {
            showStatus(st, e.message);
        }
    });

document.getElementById('bd-close').addEventListener('click',
    () => closeDialog(bd));

// ----- new booking on someone's behalf

let chosen = null;

function fillNewForm() {
    const ms = newForm.elements.motif;
    ms.replaceChildren();
    for (const m of motifs.filter((x) => x.active !== false)) {
        ms.append(h('option', { value: String(m.id) }, m.name +
            (m.audience === 'agents' ? ' (agents seulement)' : '')));
    }
    const ps = newForm.elements.place;
    ps.replaceChildren(h('option', { value: '' }, 'Tous les lieux'));
    for (const p of places.filter((x) => x.active !== false)) {
        ps.append(h('option', { value: String(p.id) }, p.name));
    }
    ps.value = form.elements.place.value;
    newForm.elements.from.value = form.elements.date.value || todayIso();
    motifChanged();
}

function motifChanged() {
    const m = motifs.find((x) => String(x.id) === newForm.elements.motif.value);
    document.getElementById('nd-ants-field').hidden = !(m && m.ants_reason);
    newForm.elements.people.max = String((m && m.max_people) || 10);
    chosen = null;
    newForm.elements.start.value = '';
    document.getElementById('nd-slots').replaceChildren();
}

newForm.elements.motif.addEventListener('change', motifChanged);

document.getElementById('nd-search').addEventListener('click', async () => {
    const st = document.getElementById('nd-slots-status');
    const ul = document.getElementById('nd-slots');
    clearErrors(newForm);
    st.textContent = 'Recherche…';
    try {
        const slots = await searchSlots(newForm.elements.motif.value,
            newForm.elements.place.value,
            newForm.elements.from.value || todayIso(),
            Number(newForm.elements.people.value) || 1);
        st.textContent = slots.length
            ? slots.length + ' créneaux libres sur deux semaines.'
            : 'Aucun créneau libre sur ces deux semaines : essayez une date ' +
              'plus lointaine.';
        slotButtons(ul, slots, (s) => {
            chosen = s;
            newForm.elements.start.value = s.start;
        });
    } catch (e) {
        st.textContent = '';
        showApiError(newForm, e, document.getElementById('nd-status'));
    }
});

newForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(newForm);
    const status = document.getElementById('nd-status');
    status.textContent = '';
    if (!chosen) {
        showStatus(status, 'Choisissez d’abord un créneau libre.');
        return;
    }
    const f = newForm.elements;
    const body = {
        motif: Number(f.motif.value),
        place: chosen.place,
        start: chosen.start,
        people: Number(f.people.value) || 1,
        name: f.name.value.trim(),
        phone: f.phone.value.trim(),
        email: f.email.value.trim(),
        channel: f.channel.value,
        note: f.note.value,
    };
    if (chosen.counter) body.counter = chosen.counter;
    const ants = f.ants_ids.value.trim();
    if (!document.getElementById('nd-ants-field').hidden && ants) {
        body.ants_ids = ants.split(/[\s,;]+/).filter(Boolean);
    }
    try {
        await api('POST', '/api/v1/rdv/agent/bookings', body);
        newForm.reset();
        closeDialog(nd);
        form.elements.date.value = chosen.day;
        form.elements.view.value = 'jour';
        chosen = null;
        await load();
        showStatus(calStatus, 'Rendez-vous enregistré pour ' + body.name +
            ', ' + frDay(form.elements.date.value) + ' à ' +
            body.start.slice(11, 16) + '.');
    } catch (e) {
        if (e.status === 409 && e.problem && e.problem.creneaux) {
            showStatus(status, e.message + ' Voici les créneaux suivants.');
            slotButtons(document.getElementById('nd-slots'),
                e.problem.creneaux, (s) => {
                    chosen = s;
                    newForm.elements.start.value = s.start;
                });
            return;
        }
        showApiError(newForm, e, status);
    }
});

document.getElementById('new-booking').addEventListener('click', (ev) => {
    fillNewForm();
    openDialog(nd, ev.currentTarget);
    newForm.elements.motif.focus();
});
document.getElementById('nd-close').addEventListener('click',
    () => closeDialog(nd));

// ----- toolbar

function step(n) {
    const st = state();
    form.elements.date.value = addDays(st.date,
        st.view === 'semaine' ? 7 * n : n);
    load();
}

document.getElementById('c-prev').addEventListener('click', () => step(-1));
document.getElementById('c-next').addEventListener('click', () => step(1));
document.getElementById('c-today').addEventListener('click', () => {
    form.elements.date.value = todayIso();
    load();
});
form.elements.view.addEventListener('change', load);
form.elements.date.addEventListener('change', load);
form.elements.place.addEventListener('change', () => {
    fillCounters();
    load();
});
form.elements.counter.addEventListener('change', load);
form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
});

async function start() {
    me = await initShell();
    if (!me) return;
    if (me.role === 'agent' || me.role === 'admin') {
        document.getElementById('new-booking').hidden = false;
    } else {
        // Exports hold contact data: agents and admins only.
        document.getElementById('export-links').hidden = true;
    }
    if (me.role === 'admin') {
        document.getElementById('settings-link').hidden = false;
    }
    const st = readState();
    try {
        const [p, k, m, r] = await Promise.all([
            api('GET', '/api/v1/rdv/places'),
            api('GET', '/api/v1/rdv/counters'),
            api('GET', '/api/v1/rdv/motifs'),
            api('GET', '/api/v1/rdv/ranges'),
        ]);
        places = (p && p.places) || [];
        counters = (k && k.counters) || [];
        motifs = (m && m.motifs) || [];
        ranges = (r && r.ranges) || [];
    } catch (e) {
        showStatus(pageStatus, e.message);
        return;
    }
    const ps = form.elements.place;
    ps.replaceChildren();
    for (const p of places) {
        ps.append(h('option', { value: String(p.id) }, p.name +
            (p.active === false ? ' (inactif)' : '')));
    }
    if (!places.length) {
        ps.append(h('option', { value: '' }, 'Aucun lieu'));
    }
    if (st.place && places.some((p) => String(p.id) === st.place)) {
        ps.value = st.place;
    }
    fillCounters();
    form.elements.counter.value = st.counter;
    if (form.elements.counter.value !== st.counter) {
        form.elements.counter.value = '';
    }
    form.elements.view.value = st.view;
    form.elements.date.value = st.date;
    await load();
}

start();
