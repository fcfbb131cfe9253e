// rdv-gestion.js - the management page of a booking (/rdv/r/{token}),
// which is also the confirmation page after booking (?fait=reserve).
//
// The page is drawn by the server and works without JavaScript for
// everything but moving: confirming and cancelling are plain forms, each
// behind an explicit question (a GET never changes anything). This
// script moves the focus to what the page is about (the result of the
// last action, or the question asked by a reminder's link) and draws the
// slot picker for moving: same motif, same number of people, any place
// offering it; the move goes through POST /api/v1/rdv/manage/{token}/move.

import {
    RdvError, SlotPicker, frWhen, listOf, rdvApi, setToday, slotList,
    slotPlace,
} from './rdv-common.js';

const root = document.getElementById('rdv-gestion');
const $ = (id) => document.getElementById(id);
const TOKEN = root.dataset.token;
const INSEE = root.dataset.commune;

function announce(msg) {
    const s = $('rdv-status');
    s.textContent = '';
    window.setTimeout(() => { s.textContent = msg; }, 50);
}

function showError(msg) {
    const e = $('rdv-error');
    e.textContent = msg;
    e.hidden = false;
    e.focus();
}

// Focus what the page opens on.
for (const id of ['rdv-error', 'titre-ask-confirm', 'titre-ask-cancel',
    'rdv-done']) {
    const el = $(id);
    const box = el && (el.closest('section') || el);
    if (el && !box.hidden && !el.hidden) {
        el.focus();
        break;
    }
}

// ----- moving -----

let picker = null;
let chosen = null;
let places = [];

function slotLabel(s) {
    const p = places.find((x) => Number(x.id) === slotPlace(s));
    return frWhen(s.start) + (p ? ', ' + p.name : '');
}

function slotsApi(params) {
    const q = new URLSearchParams({
        c: INSEE, motif: root.dataset.motif, people: root.dataset.people,
    });
    for (const [k, v] of Object.entries(params)) {
        if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    return rdvApi('GET', '/api/v1/rdv/slots?' + q).then((d) =>
        listOf(d, 'slots'));
}

function pick(s) {
    chosen = s;
    picker.mark(s);
    $('pris').hidden = true;
    $('nouveau-creneau').textContent = slotLabel(s);
    const box = $('deplacer-confirmer');
    box.hidden = false;
    box.focus();
    announce('Nouveau créneau choisi : ' + slotLabel(s) +
        '. Confirmez le déplacement.');
}

async function openMove() {
    const btn = $('deplacer-ouvrir');
    const box = $('deplacer');
    if (!box.hidden) {
        box.hidden = true;
        btn.setAttribute('aria-expanded', 'false');
        return;
    }
    box.hidden = false;
    btn.setAttribute('aria-expanded', 'true');
    if (picker) return;
    try {
        const d = await rdvApi('GET', '/api/v1/rdv/motifs?c=' +
            encodeURIComponent(INSEE));
        const m = listOf(d, 'motifs').find((x) =>
            String(x.id) === root.dataset.motif);
        places = m ? listOf(m, 'places') : [];
        picker = new SlotPicker({
            api: slotsApi,
            places,
            placeSelect: $('lieu'),
            address: $('lieu-adresse'),
            weekTitle: $('semaine-titre'),
            prevBtn: $('semaine-prec'),
            nextBtn: $('semaine-suiv'),
            week: $('semaine'),
            maxDays: Number(root.dataset.maxDays) || 90,
            onPick: pick,
            status: announce,
        });
        picker.setPlace(root.dataset.place);
        await picker.loadFirst($('premiers'));
        await picker.loadWeek();
        $('titre-premiers').setAttribute('tabindex', '-1');
        $('titre-premiers').focus();
    } catch (e) {
        showError(e.message);
    }
}

let sending = false;

async function doMove() {
    if (!chosen || sending) return;
    sending = true;
    const btn = $('deplacer-ok');
    btn.disabled = true;
    announce('Déplacement en cours…');
    try {
        await rdvApi('POST', '/api/v1/rdv/manage/' +
            encodeURIComponent(TOKEN) + '/move', {
            place: slotPlace(chosen), start: chosen.start,
        });
        window.location.assign('/rdv/r/' + encodeURIComponent(TOKEN) +
            '?fait=deplace');
        return;
    } catch (e) {
        if (e instanceof RdvError && e.status === 409) {
            const list = listOf(e.problem, 'creneaux');
            $('deplacer-confirmer').hidden = true;
            $('pris-creneaux').replaceChildren(list.length
                ? slotList(list.slice(0, 6), slotLabel, pick)
                : document.createTextNode('Aucun autre créneau n’est libre ' +
                    'pour le moment.'));
            $('pris').hidden = false;
            $('pris').focus();
            picker.loadWeek().catch(() => {});
        } else {
            showError(e.message);
        }
    } finally {
        sending = false;
        btn.disabled = false;
    }
}

if ($('deplacer-ouvrir') && !$('rdv-change').hidden) {
    setToday(root.dataset.today);
    $('deplacer-ouvrir').addEventListener('click', openMove);
    $('deplacer-ok').addEventListener('click', doMove);
    $('deplacer-non').addEventListener('click', () => {
        $('deplacer-confirmer').hidden = true;
        chosen = null;
        picker.mark(null);
        $('titre-premiers').focus();
    });
}
