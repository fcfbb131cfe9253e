// demande.js - the request form /demande, improved: « Utiliser ma
// position » (navigator.geolocation), a small map when the mairie
// configured a tile server (data-tiles; none by default, so no outbound
// connection), photo previews with their sizes, and the checks of the
// server made as the resident submits (same messages, same summary).
//
// Without JavaScript the form posts as is (multipart/form-data) and the
// server answers with the same errors.

import { emailOk, photoPicker, showErrors, summaryLinks } from './demande-common.js';
import { h } from './form.js';

const form = document.getElementById('form-demande');
const summary = document.getElementById('erreurs');
const lat = document.getElementById('lat');
const lon = document.getElementById('lon');
const posText = document.getElementById('position-text');
const posBtn = document.getElementById('position');
const posClear = document.getElementById('position-effacer');
const posHint = document.getElementById('position-hint');
const posError = document.getElementById('position-error');

const picker = photoPicker(document.getElementById('photos'),
    document.getElementById('apercus'),
    Number(form.dataset.maxPhotos) || 5, Number(form.dataset.maxMo) || 8);

summaryLinks(summary);
if (!summary.hidden) summary.focus();

// ----- position -----

let map = null;

function fmt(v) {
    return v.toLocaleString('fr-FR', { maximumFractionDigits: 5 });
}

function setPosition(la, lo, note) {
    lat.value = la.toFixed(6);
    lon.value = lo.toFixed(6);
    posText.textContent = `Position enregistrée : ${fmt(la)}, ${fmt(lo)}${note || ''}.`;
    posClear.hidden = false;
    posError.textContent = '';
    if (map) map.pin(la, lo);
}

function clearPosition() {
    lat.value = '';
    lon.value = '';
    posText.textContent = 'Position retirée.';
    posClear.hidden = true;
    if (map) map.pin(null, null);
    posBtn.focus();
}

if ('geolocation' in navigator) {
    posBtn.hidden = false;
    posHint.hidden = false;
    posBtn.addEventListener('click', () => {
        posBtn.disabled = true;
        posText.textContent = 'Recherche de votre position…';
        navigator.geolocation.getCurrentPosition((p) => {
            posBtn.disabled = false;
            const acc = Math.round(p.coords.accuracy || 0);
            setPosition(p.coords.latitude, p.coords.longitude,
                acc ? ` (à environ ${acc} m près)` : '');
            if (map) map.centre(p.coords.latitude, p.coords.longitude, 17);
        }, (e) => {
            posBtn.disabled = false;
            posText.textContent = '';
            posError.textContent = e.code === 1
                ? 'Vous n’avez pas autorisé l’accès à votre position : indiquez l’adresse à la place.'
                : 'Votre position n’a pas pu être trouvée : indiquez l’adresse à la place.';
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
}
if (lat.value && lon.value) posClear.hidden = false;
posClear.addEventListener('click', clearPosition);

// ----- the map (only with a configured tile server) -----

const TILE = 256;

function tileMap(view, template) {
    let z = 5;
    let cx = 0;
    let cy = 0; // centre in world pixels at zoom z
    let pinAt = null; // [lat, lon]
    const layer = h('div');
    const pinEl = h('span', { class: 'dm-pin', hidden: true });
    const centreEl = h('span', { class: 'dm-centre', 'aria-hidden': 'true' });
    view.append(layer, pinEl, centreEl,
        h('p', { class: 'dm-attrib' }, 'Fond de carte : serveur choisi par la mairie'));

    const worldX = (lo, zz) => ((lo + 180) / 360) * TILE * 2 ** zz;
    const worldY = (la, zz) => {
        const s = Math.sin((la * Math.PI) / 180);
        return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * TILE * 2 ** zz;
    };
    const lonOf = (x, zz) => (x / (TILE * 2 ** zz)) * 360 - 180;
    const latOf = (y, zz) => {
        const n = Math.PI - (2 * Math.PI * y) / (TILE * 2 ** zz);
        return (180 / Math.PI) * Math.atan(Math.sinh(n));
    };

    function draw() {
        const w = view.clientWidth;
        const ht = view.clientHeight;
        const n = 2 ** z;
        const left = cx - w / 2;
        const top = cy - ht / 2;
        layer.replaceChildren();
        for (let ty = Math.floor(top / TILE); ty <= Math.floor((top + ht) / TILE); ty++) {
            if (ty < 0 || ty >= n) continue;
            for (let tx = Math.floor(left / TILE); tx <= Math.floor((left + w) / TILE); tx++) {
                const wx = ((tx % n) + n) % n;
                const src = template.replace('{z}', z).replace('{x}', wx).replace('{y}', ty);
                const img = h('img', { class: 'dm-tile', alt: '', src, draggable: 'false' });
                img.style.left = `${tx * TILE - left}px`;
                img.style.top = `${ty * TILE - top}px`;
                layer.append(img);
            }
        }
        if (pinAt) {
            pinEl.hidden = false;
            pinEl.style.left = `${worldX(pinAt[1], z) - left}px`;
            pinEl.style.top = `${worldY(pinAt[0], z) - top}px`;
        } else {
            pinEl.hidden = true;
        }
    }

    function centre(la, lo, zz) {
        z = Math.max(2, Math.min(19, zz ?? z));
        cx = worldX(lo, z);
        cy = worldY(la, z);
        draw();
    }

    function zoom(dz) {
        const la = latOf(cy, z);
        const lo = lonOf(cx, z);
        centre(la, lo, z + dz);
    }

    function pick(px, py) {
        const left = cx - view.clientWidth / 2;
        const top = cy - view.clientHeight / 2;
        setPosition(latOf(top + py, z), lonOf(left + px, z), ' (choisie sur la carte)');
    }

    // Drag to move, click or tap to choose.
    let drag = null;
    view.addEventListener('pointerdown', (e) => {
        drag = { x: e.clientX, y: e.clientY, cx, cy, moved: false };
        view.setPointerCapture(e.pointerId);
    });
    view.addEventListener('pointermove', (e) => {
        if (!drag) return;
        const dx = e.clientX - drag.x;
        const dy = e.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
        if (drag.moved) {
            cx = drag.cx - dx;
            cy = drag.cy - dy;
            draw();
        }
    });
    view.addEventListener('pointerup', (e) => {
        if (drag && !drag.moved) {
            const r = view.getBoundingClientRect();
            pick(e.clientX - r.left, e.clientY - r.top);
        }
        drag = null;
    });
    view.addEventListener('keydown', (e) => {
        const step = 64;
        const keys = {
            ArrowLeft: () => { cx -= step; draw(); },
            ArrowRight: () => { cx += step; draw(); },
            ArrowUp: () => { cy -= step; draw(); },
            ArrowDown: () => { cy += step; draw(); },
            '+': () => zoom(1),
            '=': () => zoom(1),
            '-': () => zoom(-1),
            Enter: () => pick(view.clientWidth / 2, view.clientHeight / 2),
            ' ': () => pick(view.clientWidth / 2, view.clientHeight / 2),
        };
        if (keys[e.key]) {
            e.preventDefault();
            keys[e.key]();
        }
    });

    const zoomIn = h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => zoom(1) }, 'Zoomer');
    const zoomOut = h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => zoom(-1) }, 'Dézoomer');
    view.after(h('div', { class: 'actions' }, zoomIn, zoomOut));
    window.addEventListener('resize', draw);

    return {
        centre,
        pin(la, lo) {
            pinAt = la === null ? null : [la, lo];
            draw();
        },
        start() {
            if (lat.value && lon.value) {
                pinAt = [Number(lat.value), Number(lon.value)];
                centre(pinAt[0], pinAt[1], 17);
            } else {
                centre(46.6, 2.4, 5); // France
            }
        },
    };
}

const tiles = form.dataset.tiles || '';
if (/^https?:\/\/[^\s"'<>]+$/.test(tiles) && tiles.includes('{z}')) {
    const box = document.getElementById('carte');
    box.hidden = false;
    map = tileMap(document.getElementById('carte-vue'), tiles);
    map.start();
}

// ----- checks on submit -----

const LABELS = {
    texte: 'Votre demande',
    objet: 'Objet',
    courriel: 'Adresse électronique',
    telephone: 'Téléphone',
    accord: 'Votre accord',
    photos: 'Photos',
};

form.addEventListener('submit', (ev) => {
    const errors = [];
    const val = (id) => document.getElementById(id).value.trim();
    const add = (id, msg) => errors.push({ id, label: LABELS[id], msg });

    if (!val('texte')) add('texte', 'Décrivez votre demande ou ce que vous signalez.');
    else if (new TextEncoder().encode(val('texte')).length > 20000) add('texte', 'Votre texte dépasse 20 000 caractères ; raccourcissez-le.');
    const mail = val('courriel');
    if (mail && !emailOk(mail)) add('courriel', 'Adresse électronique invalide (exemple : prenom.nom@exemple.fr).');
    if (document.getElementById('prevenir').checked && !mail) {
        add('courriel', 'Indiquez votre adresse électronique pour être prévenu(e), ou décochez la case.');
    }
    const tel = val('telephone');
    if (tel && (!/^[0-9 +.\-()]+$/.test(tel) || (tel.match(/[0-9]/g) || []).length < 8)) {
        add('telephone', 'Numéro de téléphone invalide (exemple : 06 12 34 56 78).');
    }
    if ((val('nom') || mail || tel) && !document.getElementById('accord').checked) {
        add('accord', 'Cochez la case pour que la mairie puisse utiliser vos coordonnées, ou laissez-les vides.');
    }
    const photoMsg = picker.check();
    if (photoMsg) add('photos', photoMsg);
    if (errors.length) {
        ev.preventDefault();
        showErrors(form, summary, errors);
        return;
    }
    const btn = document.getElementById('envoyer');
    document.getElementById('envoi').textContent = picker.count()
        ? 'Envoi en cours… Les photos peuvent prendre un moment.'
        : 'Envoi en cours…';
    // Block a second click, after the browser has taken this submission.
    setTimeout(() => { btn.disabled = true; }, 0);
});
