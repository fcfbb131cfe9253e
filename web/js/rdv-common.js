// rdv-common.js - what the residents' appointment pages share (/rdv, the
// management page /rdv/r/{token}): calls to the public JSON API
// (docs/rdv-api.md) without credentials, French dates read from the
// commune's civil time as the API writes it, and the slot picker (first
// free slots across places, week calendar per place).
//
// Times: the API writes slots in the commune's civil time with its offset
// ("2026-12-03T09:30:00+01:00"). The date and time are read from the text
// itself, never through the browser's time zone: a resident abroad sees
// the time of the mairie's clock.

import { h } from './form.js';

export class RdvError extends Error {
    constructor(status, problem) {
        super((problem && (problem.detail || problem.title)) ||
            'Une erreur est survenue. Merci de réessayer dans un instant.');
        this.status = status;
        this.problem = problem || {};
        this.field = this.problem.champ || this.problem.field || null;
    }
}

// Call the public API: rdvApi('GET', '/api/v1/rdv/motifs?c=99001').
export async function rdvApi(method, path, body) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'omit' };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    let r;
    try {
        r = await fetch(path, init);
    } catch (e) {
        throw new RdvError(0, {
            detail: 'Le serveur de la mairie ne répond pas. Vérifiez votre ' +
                'connexion à Internet puis réessayez.',
        });
    }
    if (r.status === 204) return null;
    const type = r.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await r.json().catch(() => null)
        : null;
    if (!r.ok) {
        if (r.status === 429) {
            throw new RdvError(429, {
                detail: (data && data.detail) || 'Trop de demandes en peu ' +
                    'de temps. Patientez une minute puis réessayez.',
            });
        }
        throw new RdvError(r.status, data);
    }
    return data;
}

// ----- dates -----

const DAYS = ['dimanche', 'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi',
    'samedi'];
const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin',
    'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];

// "2026-12-03T09:30:00+01:00" -> {y, m, d, hh, mm, day} (day: days since
// 1970-01-01 of the civil date), or null.
export function parseLocal(s) {
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/
        .exec(String(s || ''));
    if (!m) return null;
    const y = +m[1], mo = +m[2], d = +m[3];
    const t = Date.UTC(y, mo - 1, d);
    if (isNaN(t)) return null;
    return {
        y, m: mo, d, hh: m[4] ? +m[4] : 0, mm: m[5] ? +m[5] : 0,
        day: Math.round(t / 86400000),
    };
}

export function dayIso(day) {
    return new Date(day * 86400000).toISOString().slice(0, 10);
}

export function weekday(day) {
    return new Date(day * 86400000).getUTCDay(); // 0 = Sunday
}

// Monday of the week holding `day`.
export function monday(day) {
    return day - ((weekday(day) + 6) % 7);
}

// Today in the commune's civil time: the page says it (data-today, from
// the server's clock and the commune's zone); Paris time otherwise.
let todayDay = null;

export function setToday(iso) {
    const p = parseLocal(iso);
    if (p) todayDay = p.day;
}

export function today() {
    if (todayDay !== null) return todayDay;
    return Math.floor((Date.now() / 60000 + 60) / 1440);
}

// « 9 h 30 », « 10 h ».
export function frTime(hh, mm) {
    return hh + ' h' + (mm ? ' ' + String(mm).padStart(2, '0') : '');
}

// « jeudi 3 décembre » (+ the year when it is not this year's).
export function frDay(day, withYear = false) {
    const dt = new Date(day * 86400000);
    const d = dt.getUTCDate();
    let s = DAYS[dt.getUTCDay()] + ' ' + (d === 1 ? '1er' : d) + ' ' +
        MONTHS[dt.getUTCMonth()];
    if (withYear || dt.getUTCFullYear() !== new Date().getFullYear()) {
        s += ' ' + dt.getUTCFullYear();
    }
    return s;
}

// « jeudi 3 décembre à 9 h 30 » from an API time.
export function frWhen(iso) {
    const p = parseLocal(iso);
    if (!p) return String(iso || '');
    return frDay(p.day) + ' à ' + frTime(p.hh, p.mm);
}

// ----- API shapes, read tolerantly -----

export function listOf(data, key) {
    if (Array.isArray(data)) return data;
    if (data && Array.isArray(data[key])) return data[key];
    return [];
}

export function slotPlace(s) {
    if (s.place && typeof s.place === 'object') return Number(s.place.id);
    return Number(s.place_id || s.place || 0);
}

export function slotKey(s) {
    return slotPlace(s) + '|' + String(s.start).slice(0, 16);
}

// One line of a place's address: « 1 place de la Mairie, 99001 Ville ».
export function placeAddress(p) {
    if (!p) return '';
    const city = [p.zip, p.city].filter(Boolean).join(' ');
    return [p.address, city].filter(Boolean).join(', ');
}

// ----- the slot picker -----

// A slot button: its visible text is `label`, its accessible name says
// the whole date and place.
function slotButton(s, label, full, onPick) {
    return h('button', {
        type: 'button',
        class: 'rdv-slot',
        'data-start': String(s.start).slice(0, 16),
        'data-place': String(slotPlace(s)),
        'aria-label': full,
        onclick: () => onPick(s),
    }, label);
}

// The picker fills `first` (first free slots across places) and `week`
// (one place's week). opts: {api: (params) => Promise<slots>, places:
// [{id, name, ...}], placeSelect, weekTitle, prevBtn, nextBtn, onPick,
// maxDays, status(msg)}.
export class SlotPicker {
    constructor(opts) {
        this.o = opts;
        this.places = new Map(opts.places.map((p) => [Number(p.id), p]));
        this.weekStart = monday(today());
        // Properties, not listeners: a new picker (another démarche)
        // replaces the previous one's handlers instead of adding to them.
        this.o.prevBtn.onclick = () => this.shift(-7);
        this.o.nextBtn.onclick = () => this.shift(7);
        this.o.placeSelect.onchange = () => {
            this.showAddress();
            this.loadWeek().catch((e) => this.o.status(e.message));
        };
        this.o.placeSelect.replaceChildren(...opts.places.map((p) =>
            h('option', { value: String(p.id) }, p.name)));
        this.o.placeSelect.closest('.field').hidden = opts.places.length < 1;
        this.showAddress();
    }

    placeName(id) {
        const p = this.places.get(Number(id));
        return p ? p.name : '';
    }

    fullLabel(s) {
        const pl = this.places.get(slotPlace(s)) || s.place || {};
        const where = (s.place_name || pl.name || '');
        return frWhen(s.start) + (where ? ', ' + where : '');
    }

    showAddress() {
        const el = this.o.address;
        if (!el) return;
        const p = this.places.get(Number(this.o.placeSelect.value));
        el.textContent = p ? placeAddress(p) : '';
    }

    setPlace(id) {
        if (this.places.has(Number(id))) {
            this.o.placeSelect.value = String(id);
            this.showAddress();
        }
    }

    setWeekOf(day) {
        this.weekStart = monday(day);
    }

    // First free slots, at most `perPlace` for each place, places in the
    // order of their first slot.
    async loadFirst(el, perPlace = 3) {
        el.replaceChildren(h('p', { class: 'rdv-loading' },
            'Recherche des premiers créneaux…'));
        const from = today();
        const slots = await this.o.api({
            from: dayIso(from),
            to: dayIso(from + Math.min(this.o.maxDays || 90, 366)),
            limit: 200,
        });
        const groups = new Map();
        for (const s of slots) {
            const pid = slotPlace(s);
            if (!groups.has(pid)) groups.set(pid, []);
            const g = groups.get(pid);
            if (g.length < perPlace) g.push(s);
        }
        if (!groups.size) {
            el.replaceChildren(h('p', { class: 'alert' },
                'Aucun créneau n’est libre pour le moment pour cette ' +
                'démarche. Inscrivez-vous sur la liste d’attente ci-dessous ' +
                'pour être prévenu(e) dès qu’un créneau se libère.'));
            return 0;
        }
        const items = [];
        for (const [pid, g] of groups) {
            const p = this.places.get(pid) || {};
            items.push(h('li', { class: 'rdv-first-place' },
                h('h4', {}, p.name || g[0].place_name || 'Lieu ' + pid),
                p.address || p.city ? h('p', { class: 'hint' },
                    placeAddress(p)) : null,
                h('ul', { class: 'rdv-slots rdv-slots-wide' },
                    ...g.map((s) => h('li', {}, slotButton(s,
                        frWhen(s.start), this.fullLabel(s),
                        this.o.onPick))))));
        }
        el.replaceChildren(h('ul', { class: 'rdv-first-list' }, ...items));
        return slots.length;
    }

    shift(days) {
        this.weekStart += days;
        this.loadWeek().catch((e) => this.o.status(e.message)).then(() => {
            // Keep the focus on the button pressed (unless now disabled).
            const b = days < 0 ? this.o.prevBtn : this.o.nextBtn;
            (b.disabled ? (days < 0 ? this.o.nextBtn : this.o.prevBtn) : b)
                .focus();
        });
    }

    // The week of this.weekStart at the selected place.
    async loadWeek() {
        const first = monday(today());
        const last = today() + Math.min(this.o.maxDays || 90, 366);
        if (this.weekStart < first) this.weekStart = first;
        if (this.weekStart > last) this.weekStart = monday(last);
        const ws = this.weekStart;
        const end = ws + 6;
        this.o.prevBtn.disabled = ws <= first;
        this.o.nextBtn.disabled = ws + 7 > last;
        const title = 'Semaine du ' + frDay(ws) + ' au ' + frDay(ws + 6);
        const place = this.o.placeSelect.value;
        const week = this.o.week;
        week.setAttribute('aria-busy', 'true');
        let slots = [];
        try {
            slots = await this.o.api({
                place, from: dayIso(ws), to: dayIso(end), limit: 1000,
            });
        } finally {
            week.setAttribute('aria-busy', 'false');
        }
        const byDay = new Map();
        for (const s of slots) {
            const p = parseLocal(s.start);
            if (!p) continue;
            if (!byDay.has(p.day)) byDay.set(p.day, []);
            byDay.get(p.day).push(s);
        }
        const days = [];
        let count = 0;
        for (let d = ws; d <= ws + 6; d++) {
            const list = byDay.get(d) || [];
            count += list.length;
            days.push(h('li', { class: 'rdv-day' + (list.length ? ''
                : ' rdv-day-empty') },
            h('h4', {}, frDay(d)),
            list.length
                ? h('ul', { class: 'rdv-slots' }, ...list.map((s) => {
                    const p = parseLocal(s.start);
                    return h('li', {}, slotButton(s, frTime(p.hh, p.mm),
                        this.fullLabel(s), this.o.onPick));
                }))
                : h('p', { class: 'hint' }, 'Aucun créneau libre')));
        }
        // Title and days change together, once the week is known.
        this.o.weekTitle.textContent = title;
        week.replaceChildren(h('ul', { class: 'rdv-days' }, ...days));
        if (this.o.status) {
            this.o.status(title + ', ' + this.placeName(place) + ' : ' +
                (count ? count + ' créneau' + (count > 1 ? 'x' : '') +
                    ' libre' + (count > 1 ? 's' : '') + '.'
                    : 'aucun créneau libre.'));
        }
        return slots;
    }

    // Mark the chosen slot in every list.
    mark(s) {
        const key = s ? slotKey(s) : '';
        for (const b of document.querySelectorAll('.rdv-slot')) {
            const k = b.dataset.place + '|' + b.dataset.start;
            b.setAttribute('aria-pressed', String(k === key));
        }
    }
}

// Buttons for a list of slots (the 409's next free slots).
export function slotList(slots, labelOf, onPick) {
    return h('ul', { class: 'rdv-slots rdv-slots-wide' },
        ...slots.map((s) => h('li', {}, slotButton(s, labelOf(s), labelOf(s),
            onPick))));
}

// ----- pré-demande numbers (ANTS) -----

// Canonical form: upper case, no spaces; null when not 10 [A-Z0-9].
export function antsCanon(v) {
    const c = String(v || '').toUpperCase().replace(/\s+/g, '');
    return /^[A-Z0-9]{10}$/.test(c) ? c : null;
}

// The French message for a number being typed (final: the field was
// left, so an incomplete number is an error too). '' when fine so far.
export function antsMessage(v, final) {
    const c = String(v || '').toUpperCase().replace(/\s+/g, '');
    if (!c) return final ? 'Indiquez le numéro de pré-demande.' : '';
    if (/[^A-Z0-9]/.test(c)) {
        return 'Le numéro ne contient que des lettres sans accent et des ' +
            'chiffres (pas de tiret ni d’autre signe).';
    }
    if (c.length > 10) {
        return 'Le numéro compte 10 caractères : vous en avez saisi ' +
            c.length + '.';
    }
    if (c.length < 10 && final) {
        return 'Le numéro est incomplet : ' + c.length + ' caractère' +
            (c.length > 1 ? 's' : '') + ' sur 10.';
    }
    return '';
}

// Simple checks before sending (the server checks again).
export function emailOk(v) {
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v);
}

export function phoneOk(v) {
    const digits = v.replace(/[\s.\-]/g, '').replace(/^\+/, '');
    return /^\d{6,20}$/.test(digits) && !/[^\d\s.\-+]/.test(v) &&
        v.indexOf('+') <= 0;
}
