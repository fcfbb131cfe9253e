// rdv.js - the booking page /rdv for residents: 1. the démarche (motif)
// and the number of people, 2. a slot (first free slots across places, or
// a week per place), 3. name and contact (pré-demande numbers for
// CNI/passeport, consent), then the confirmation page, which is the
// booking's own management page (/rdv/r/{token}?fait=reserve).
//
// Talks to the public API (docs/rdv-api.md). Everything is keyboard
// usable; each step's title takes the focus when it opens; results are
// announced in the live region #rdv-status; errors are listed in a
// summary whose links lead to the fields. Deep link (ANTS callback_url):
// /rdv?motif=CODE&lieu=ID&creneau=YYYY-MM-DDTHH:MM.

import { h } from './form.js';
import {
    RdvError, SlotPicker, antsCanon, antsMessage, emailOk, frWhen, listOf,
    parseLocal, phoneOk, rdvApi, setToday, slotList, slotPlace,
} from './rdv-common.js';

const app = document.getElementById('rdv-app');
const INSEE = app.dataset.commune;
const $ = (id) => document.getElementById(id);

const state = {
    motifs: [],
    motif: null,
    people: 1,
    slot: null,
    picker: null,
};

// ----- announcements and errors -----

function announce(msg) {
    const s = $('rdv-status');
    s.textContent = '';
    // A new text node each time, so that the same message is re-read.
    window.setTimeout(() => { s.textContent = msg; }, 50);
}

function showError(msg) {
    const e = $('rdv-error');
    e.textContent = msg;
    e.hidden = false;
    e.focus();
}

function clearError() {
    $('rdv-error').hidden = true;
    $('rdv-error').textContent = '';
}

function openStep(id) {
    for (const s of ['etape-motif', 'etape-creneau', 'etape-coord']) {
        $(s).hidden = s !== id;
    }
    const title = $(id).querySelector('h2');
    title.focus();
    title.scrollIntoView({ block: 'start' });
}

// ----- step 1: motif and people -----

function motifHint(m) {
    const parts = [];
    const d = Number(m.duration_min || m.duration || 0);
    if (d) {
        parts.push('Durée : ' + d + ' minutes' + (m.per_person &&
            Number(m.max_people) > 1 ? ' par personne' : ''));
    }
    if (Number(m.max_people) > 1) {
        parts.push('jusqu’à ' + m.max_people + ' personnes');
    }
    if (isAnts(m)) parts.push('pré-demande en ligne nécessaire');
    return parts.join(' · ');
}

function isAnts(m) {
    return !!(m && m.ants_reason);
}

function renderMotifs() {
    const box = $('motifs');
    const items = state.motifs.map((m, i) => {
        const id = 'motif-' + i;
        const hintId = id + '-hint';
        const input = h('input', {
            type: 'radio', name: 'motif', id, value: String(m.id),
            'aria-describedby': hintId,
            onchange: () => choose(m),
        });
        const kids = [h('span', { class: 'hint', id: hintId },
            motifHint(m))];
        if (m.instructions) {
            kids.push(h('details', { class: 'rdv-bring' },
                h('summary', {}, 'Ce qu’il faut apporter'),
                h('p', { class: 'rdv-pre' }, m.instructions)));
        }
        return h('div', { class: 'rdv-choice' }, input,
            h('label', { for: id }, m.name), ...kids);
    });
    box.replaceChildren(...items);
}

function choose(m) {
    state.motif = m;
    $('motif-error').textContent = '';
    const max = Math.max(1, Math.min(Number(m.max_people) || 1, 10));
    const sel = $('people');
    const keep = Math.min(Number(sel.value) || 1, max);
    sel.replaceChildren();
    for (let i = 1; i <= max; i++) {
        sel.append(h('option', { value: String(i) },
            i === 1 ? '1 personne' : i + ' personnes'));
    }
    sel.value = String(keep);
    $('people-hint').textContent = isAnts(m)
        ? 'Chaque personne qui demande un titre doit être présente et avoir ' +
          'sa propre pré-demande.'
        : 'Le rendez-vous est plus long quand vous venez à plusieurs.';
    $('field-people').hidden = max < 2;
}

function placesOf(m) {
    return listOf(m, 'places').length ? listOf(m, 'places') : [];
}

function slotsApi(params) {
    const q = new URLSearchParams({
        c: INSEE, motif: String(state.motif.id),
        people: String(state.people),
    });
    for (const [k, v] of Object.entries(params)) {
        if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    return rdvApi('GET', '/api/v1/rdv/slots?' + q).then((d) =>
        listOf(d, 'slots'));
}

async function toSlots(deep) {
    clearError();
    const m = state.motif;
    state.people = Number($('people').value) || 1;
    state.slot = null;
    $('motif-recap').textContent = m.name + ' · ' + (state.people > 1
        ? state.people + ' personnes' : '1 personne');
    state.picker = new SlotPicker({
        api: slotsApi,
        places: placesOf(m),
        placeSelect: $('lieu'),
        address: $('lieu-adresse'),
        weekTitle: $('semaine-titre'),
        prevBtn: $('semaine-prec'),
        nextBtn: $('semaine-suiv'),
        week: $('semaine'),
        maxDays: Number(m.max_delay_d) || 90,
        onPick: pick,
        status: announce,
    });
    fillWaitPlaces(m);
    openStep('etape-creneau');
    try {
        if (deep) {
            state.picker.setPlace(deep.place);
            state.picker.setWeekOf(deep.day);
        }
        const n = await state.picker.loadFirst($('premiers'));
        const week = await state.picker.loadWeek();
        if (deep) {
            const s = week.find((x) => slotPlace(x) === deep.place &&
                String(x.start).slice(0, 16) === deep.start);
            if (s) {
                pick(s);
                return;
            }
            announce('Le créneau demandé n’est plus disponible. Choisissez ' +
                'un autre créneau ci-dessous.');
            showError('Le créneau demandé n’est plus disponible. Choisissez ' +
                'un autre créneau ci-dessous.');
            return;
        }
        announce(n ? 'Créneaux disponibles affichés.'
            : 'Aucun créneau libre pour le moment.');
    } catch (e) {
        showError(e.message);
    }
}

$('form-motif').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!state.motif) {
        $('motif-error').textContent = 'Choisissez une démarche dans la ' +
            'liste.';
        const first = $('motifs').querySelector('input');
        if (first) first.focus();
        return;
    }
    toSlots(null);
});

$('changer-motif').addEventListener('click', () => {
    openStep('etape-motif');
});

// ----- step 2 -> 3: a slot is picked -----

function slotLabel(s) {
    const pl = state.picker ? state.picker.placeName(slotPlace(s)) : '';
    return frWhen(s.start) + (pl || s.place_name
        ? ', ' + (pl || s.place_name) : '');
}

function pick(s) {
    state.slot = s;
    state.picker.mark(s);
    $('creneau-choisi').textContent = slotLabel(s);
    $('pris').hidden = true;
    buildAntsFields();
    openStep('etape-coord');
    announce('Créneau choisi : ' + slotLabel(s) + '. Indiquez vos ' +
        'coordonnées.');
}

$('changer-creneau').addEventListener('click', () => {
    openStep('etape-creneau');
});

// ----- step 3: the form -----

// One pré-demande field per person in `box` (ids prefix-1...), shown in
// the fieldset `fs` for CNI/passeport motifs only; typed values are kept
// when the number of people changes.
function buildAntsFields(fs = $('ants-fieldset'), box = $('ants-fields'),
    prefix = 'ants', hintId = 'ants-hint') {
    const m = state.motif;
    if (!isAnts(m)) {
        fs.hidden = true;
        box.replaceChildren();
        return;
    }
    const old = [...box.querySelectorAll('input')].map((i) => i.value);
    const n = state.people;
    const fields = [];
    for (let i = 0; i < n; i++) {
        const id = prefix + '-' + (i + 1);
        const label = n === 1 ? 'Numéro de pré-demande'
            : 'Numéro de pré-demande de la personne ' + (i + 1);
        const input = h('input', {
            type: 'text', id, name: id, maxlength: '20',
            autocomplete: 'off', autocapitalize: 'characters',
            spellcheck: 'false', class: 'rdv-ants',
            'aria-describedby': hintId + ' ' + id + '-count ' + id +
                '-error',
        });
        input.value = old[i] || '';
        input.addEventListener('input', () => antsTyped(input, false));
        input.addEventListener('blur', () => {
            if (input.value) antsTyped(input, true);
        });
        fields.push(h('div', { class: 'field' },
            h('label', { for: id }, label),
            h('span', { class: 'hint', id: id + '-count' }),
            h('span', { class: 'field-error', id: id + '-error' }),
            input));
    }
    box.replaceChildren(...fields);
    fs.hidden = false;
}

// Check a pré-demande number as it is typed; returns the message.
function antsTyped(input, final) {
    const c = input.value.toUpperCase().replace(/\s+/g, '');
    let msg = antsMessage(input.value, final);
    if (!msg && c.length === 10) {
        const others = [...input.closest('.rdv-ants-box')
            .querySelectorAll('input')]
            .filter((x) => x !== input)
            .map((x) => antsCanon(x.value));
        if (others.includes(c)) {
            msg = 'Ce numéro est déjà indiqué pour une autre personne : ' +
                'chaque personne a sa propre pré-demande.';
        }
    }
    const count = $(input.id + '-count');
    count.textContent = c.length === 10 && !msg
        ? 'Format correct.'
        : c.length + ' caractère' + (c.length > 1 ? 's' : '') + ' sur 10';
    count.classList.toggle('rdv-ok', c.length === 10 && !msg);
    setFieldError(input, msg);
    return msg;
}

function setFieldError(input, msg) {
    const box = $(input.id + '-error');
    if (box) box.textContent = msg;
    if (msg) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
}

function clearFormErrors(form) {
    for (const el of form.querySelectorAll('[aria-invalid]')) {
        el.removeAttribute('aria-invalid');
    }
    for (const el of form.querySelectorAll('.field-error')) {
        el.textContent = '';
    }
    $('resume-erreurs').hidden = true;
}

// Show errors [{input, msg}] under their fields and in the summary.
function showErrors(list) {
    const ul = $('resume-liste');
    ul.replaceChildren(...list.map(({ input, msg }) => {
        setFieldError(input, msg);
        const label = document.querySelector('label[for="' + input.id + '"]');
        const name = input.dataset.label ||
            (label ? label.textContent.replace(/[\s.]+$/, '') : '');
        return h('li', {}, h('a', {
            href: '#' + input.id,
            onclick: (ev) => {
                ev.preventDefault();
                input.focus();
            },
        }, (name ? name + ' : ' : '') + msg));
    }));
    $('resume-titre').textContent = list.length === 1
        ? 'Le formulaire contient une erreur'
        : 'Le formulaire contient ' + list.length + ' erreurs';
    const sum = $('resume-erreurs');
    sum.hidden = false;
    sum.focus();
}

function validate(form) {
    const errs = [];
    const name = form.elements.name;
    const email = form.elements.email;
    const phone = form.elements.phone;
    if (!name.value.trim()) {
        errs.push({ input: name, msg: 'Indiquez votre nom et votre prénom.' });
    }
    const ev = email.value.trim(), pv = phone.value.trim();
    if (!ev && !pv) {
        errs.push({
            input: email, msg: 'Indiquez une adresse électronique ou un ' +
                'numéro de téléphone, pour que la mairie puisse vous joindre.',
        });
    } else {
        if (ev && !emailOk(ev)) {
            errs.push({
                input: email, msg: 'L’adresse électronique n’est pas ' +
                    'valide. Exemple : nom@exemple.fr',
            });
        }
        if (pv && !phoneOk(pv)) {
            errs.push({
                input: phone, msg: 'Le numéro de téléphone n’est pas ' +
                    'valide. Exemple : 06 12 34 56 78',
            });
        }
    }
    for (const input of $('ants-fields').querySelectorAll('input')) {
        const msg = antsTyped(input, true);
        if (msg) errs.push({ input, msg });
    }
    const consent = form.elements.consent;
    if (!consent.checked) {
        errs.push({
            input: consent, msg: 'Cochez la case pour accepter que la ' +
                'mairie utilise ces informations : sans elles, elle ne peut ' +
                'pas gérer votre rendez-vous.',
        });
    }
    const ov = $('ants_override');
    if (!$('ants-ailleurs').hidden && !ov.checked) {
        errs.push({
            input: ov, msg: 'Cochez la case pour confirmer ce rendez-vous ' +
                'malgré votre autre rendez-vous.',
        });
    }
    return errs;
}

// The API's field names -> the form's inputs.
function inputOf(form, field) {
    if (!field) return null;
    const f = String(field);
    if (f.startsWith('ants')) {
        const m = /(\d+)/.exec(f);
        const i = m ? Number(m[1]) : 0;
        const list = form.querySelectorAll('.rdv-ants-box input');
        return list[Math.min(i, list.length - 1)] || null;
    }
    const map = { nom: 'name', courriel: 'email', telephone: 'phone',
        consentement: 'consent' };
    return form.elements.namedItem(map[f] || f);
}

function showTaken(slots) {
    const box = $('pris-creneaux');
    const list = slots.slice(0, 6);
    box.replaceChildren(list.length ? slotList(list, slotLabel, (s) => {
        pick(s);
        $('reserver').focus();
    }) : h('p', {}, 'Aucun autre créneau n’est libre pour le moment : ' +
        'revenez à l’étape précédente pour vous inscrire sur la liste ' +
        'd’attente.'));
    $('pris').hidden = false;
    $('pris').focus();
    announce('Ce créneau vient d’être pris. Choisissez un autre créneau.');
    // The week and the first slots are stale: reload them quietly.
    if (state.picker) {
        state.picker.loadFirst($('premiers')).catch(() => {});
        state.picker.loadWeek().catch(() => {});
    }
}

let sending = false;

$('form-rdv').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (sending) return;
    const form = ev.currentTarget;
    clearError();
    clearFormErrors(form);
    const errs = validate(form);
    if (errs.length) {
        showErrors(errs);
        return;
    }
    const s = state.slot;
    const body = {
        c: INSEE,
        motif: state.motif.id,
        place: slotPlace(s),
        start: s.start,
        people: state.people,
        name: form.elements.name.value.trim(),
        email: form.elements.email.value.trim(),
        phone: form.elements.phone.value.trim(),
        ants_ids: [...$('ants-fields').querySelectorAll('input')]
            .map((i) => antsCanon(i.value)),
        consent: true,
        ants_override: !$('ants-ailleurs').hidden &&
            $('ants_override').checked,
    };
    sending = true;
    const btn = $('reserver');
    btn.disabled = true;
    btn.textContent = 'Réservation en cours…';
    announce('Réservation en cours…');
    try {
        const r = await rdvApi('POST', '/api/v1/rdv/bookings', body);
        const url = (r && r.manage_url) ||
            '/rdv/r/' + encodeURIComponent(r.token);
        const u = new URL(url, window.location.href);
        u.searchParams.set('fait', 'reserve');
        window.location.assign(u.pathname + u.search);
        return;
    } catch (e) {
        handleBookError(form, e);
    } finally {
        sending = false;
        btn.disabled = false;
        btn.textContent = 'Confirmer le rendez-vous';
    }
});

function antsElsewhere(e) {
    const p = e.problem || {};
    return e.field === 'ants_override' || p.ants === 'ailleurs' ||
        /ants[-_]?(ailleurs|elsewhere)/i.test(String(p.type || ''));
}

function handleBookError(form, e) {
    if (!(e instanceof RdvError)) {
        showError('Une erreur est survenue. Merci de réessayer.');
        return;
    }
    const p = e.problem || {};
    if (e.status === 409 && antsElsewhere(e)) {
        $('ants-ailleurs-texte').textContent = e.message + ' Si vous ' +
            'gardez les deux, l’un des créneaux sera perdu pour une autre ' +
            'personne.';
        $('ants-ailleurs').hidden = false;
        $('ants_override').focus();
        announce(e.message);
        return;
    }
    if (e.status === 409) {
        showTaken(listOf(p, 'creneaux').length ? listOf(p, 'creneaux')
            : listOf(p, 'slots'));
        return;
    }
    if (e.status === 422 || e.status === 400) {
        const input = inputOf(form, e.field);
        if (input) {
            showErrors([{ input, msg: e.message }]);
            return;
        }
    }
    // 503 (ANTS check unavailable), 429, 500...: the server's French text.
    showError(e.message);
}

// ----- waiting list -----

function fillWaitPlaces(m) {
    const form = $('form-attente');
    let field = form.querySelector('#w-place');
    if (!field) {
        const wrap = h('div', { class: 'field' },
            h('label', { for: 'w-place' }, 'Lieu souhaité'),
            field = h('select', { id: 'w-place', name: 'place' }));
        form.insertBefore(wrap, form.firstChild);
    }
    field.replaceChildren(h('option', { value: '0' }, 'Peu importe le lieu'),
        ...placesOf(m).map((p) => h('option', { value: String(p.id) },
            p.name)));
    field.closest('.field').hidden = placesOf(m).length < 2;
    $('attente-ok').hidden = true;
    buildAntsFields($('w-ants-fieldset'), $('w-ants-fields'), 'w-ants',
        'w-ants-hint');
}

$('attente-ouvrir').addEventListener('click', (ev) => {
    const f = $('form-attente');
    f.hidden = !f.hidden;
    ev.currentTarget.setAttribute('aria-expanded', String(!f.hidden));
    if (!f.hidden) f.querySelector('input').focus();
});

$('form-attente').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    clearFormErrors(form);
    clearError();
    const errs = [];
    const name = form.elements.name, email = form.elements.email;
    const phone = form.elements.phone, consent = form.elements.consent;
    if (!name.value.trim()) {
        errs.push([name, 'Indiquez votre nom et votre prénom.']);
    }
    if (!emailOk(email.value.trim())) {
        errs.push([email, 'Indiquez une adresse électronique valide : la ' +
            'proposition de créneau vous est envoyée par courriel.']);
    }
    if (phone.value.trim() && !phoneOk(phone.value.trim())) {
        errs.push([phone, 'Le numéro de téléphone n’est pas valide.']);
    }
    for (const input of $('w-ants-fields').querySelectorAll('input')) {
        const msg = antsTyped(input, true);
        if (msg) errs.push([input, msg]);
    }
    if (!consent.checked) {
        errs.push([consent, 'Cochez la case pour accepter que la mairie ' +
            'conserve ces informations.']);
    }
    if (errs.length) {
        for (const [i, m] of errs) setFieldError(i, m);
        errs[0][0].focus();
        return;
    }
    try {
        const body = {
            c: INSEE,
            motif: state.motif.id,
            people: state.people,
            name: name.value.trim(),
            email: email.value.trim(),
            phone: phone.value.trim(),
            ants_ids: [...$('w-ants-fields').querySelectorAll('input')]
                .map((i) => antsCanon(i.value)),
            consent: true,
        };
        const place = Number(form.elements.place
            ? form.elements.place.value : 0);
        if (place) body.place = place; // none: any place
        const r = await rdvApi('POST', '/api/v1/rdv/waitlist', body);
        const ok = $('attente-ok');
        const href = '/rdv/attente/' + encodeURIComponent(r.token);
        ok.replaceChildren(
            h('p', {}, 'Vous êtes inscrit(e) sur la liste d’attente. Dès ' +
                'qu’un créneau plus tôt se libère, il vous est proposé par ' +
                'courriel ; vous aurez ' + (app.dataset.offerHours || '24') +
                ' heures pour l’accepter.'),
            h('p', {}, 'Pour suivre votre inscription ou vous retirer de ' +
                'la liste, gardez ce lien : ',
            h('a', { href }, new URL(href, window.location.href).href)));
        ok.hidden = false;
        form.hidden = true;
        $('attente-ouvrir').setAttribute('aria-expanded', 'false');
        ok.focus();
    } catch (e) {
        const input = inputOf(form, e.field);
        if (input) {
            setFieldError(input, e.message);
            input.focus();
        } else {
            showError(e.message);
        }
    }
});

// ----- start -----

function deepLink() {
    const start = app.dataset.creneau;
    const place = Number(app.dataset.lieu || 0);
    const p = parseLocal(start);
    if (!start || !p || !place) return null;
    return { place, start: start.slice(0, 16), day: p.day };
}

async function init() {
    setToday(app.dataset.today);
    $('rdv-loading').hidden = false; // hidden without JavaScript
    try {
        const d = await rdvApi('GET', '/api/v1/rdv/motifs?c=' +
            encodeURIComponent(INSEE));
        state.motifs = listOf(d, 'motifs');
    } catch (e) {
        $('rdv-loading').hidden = true;
        showError(e.message);
        return;
    }
    $('rdv-loading').hidden = true;
    if (!state.motifs.length) {
        showError('La mairie ne propose pas encore de rendez-vous en ligne. ' +
            'Contactez-la par téléphone ou à l’accueil.');
        return;
    }
    renderMotifs();
    $('etape-motif').hidden = false;
    const code = app.dataset.motif;
    const m = code && state.motifs.find((x) => x.code === code ||
        String(x.id) === code);
    if (m) {
        const radio = $('motifs').querySelector('input[value="' + m.id +
            '"]');
        radio.checked = true;
        choose(m);
        const n = Number(app.dataset.personnes || 0);
        const sel = $('people');
        if (n > 1 && sel.querySelector('option[value="' + n + '"]')) {
            sel.value = String(n);
        }
        const deep = deepLink();
        if (deep || Number(m.max_people) < 2) {
            toSlots(deep);
            return;
        }
        $('people').focus();
    } else if (code) {
        announce('La démarche demandée n’est pas proposée en ligne. ' +
            'Choisissez-en une dans la liste.');
    }
}

init();
