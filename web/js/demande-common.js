// demande-common.js - what the request form (/demande) and the status
// page (/demande/suivi/...) share: the photo picker (count, type and size
// checked as chosen, a preview and the size of each, a button to remove
// one) and the error summary built like the server's.
//
// The pages work without this file: the server checks everything again.

import { h } from './form.js';

// « 1,2 Mo », « 350 ko », as the server writes sizes.
export function sizeText(n) {
    if (n >= 1e6) return `${Math.floor(n / 1e6)},${Math.floor((n % 1e6) / 1e5)} Mo`;
    if (n >= 1e3) return `${Math.round(n / 1e3)} ko`;
    return `${n} octets`;
}

function isImage(file) {
    const t = (file.type || '').toLowerCase();
    if (t === 'image/jpeg' || t === 'image/png') return true;
    return !t && /\.(jpe?g|png)$/i.test(file.name);
}

// The photo picker of `input` (type=file multiple), previews in `list`.
// Returns { check() -> message or '' } for the submit check.
export function photoPicker(input, list, maxPhotos, maxMo) {
    const maxBytes = maxMo * 1024 * 1024;
    let files = [];

    function problem(file) {
        if (!isImage(file)) return 'ce n’est pas une photo JPEG ou PNG.';
        if (file.size === 0) return 'ce fichier est vide.';
        if (file.size > maxBytes) return `elle pèse ${sizeText(file.size)} : ${maxMo} Mo au plus par photo.`;
        return '';
    }

    function sync() {
        // Keep the input's FileList equal to what the list shows.
        try {
            const dt = new DataTransfer();
            for (const f of files) dt.items.add(f);
            input.files = dt.files;
        } catch (e) {
            // Old browsers: the list stays as chosen.
        }
    }

    function render() {
        list.replaceChildren();
        files.forEach((file, i) => {
            const why = problem(file);
            const img = h('img', { alt: '' });
            const remove = h('button', {
                type: 'button', class: 'btn btn-secondary btn-small',
                onclick: () => {
                    files.splice(i, 1);
                    sync();
                    render();
                    input.focus();
                },
            }, 'Retirer', h('span', { class: 'visually-hidden' }, ` la photo ${file.name}`));
            const li = h('li', { class: why ? 'dm-bad' : '' },
                img,
                h('div', {},
                    h('p', { class: 'dm-name' }, file.name),
                    h('p', { class: 'dm-size' }, sizeText(file.size)),
                    why ? h('p', { class: 'dm-why' }, `Refusée : ${why}`) : null,
                    remove));
            list.append(li);
            if (!why && file.size <= maxBytes) {
                const rd = new FileReader();
                rd.onload = () => { img.src = rd.result; };
                rd.readAsDataURL(file);
            }
        });
    }

    input.addEventListener('change', () => {
        files = Array.from(input.files || []);
        render();
    });

    return {
        check() {
            if (files.length > maxPhotos) {
                return `Vous avez choisi ${files.length} photos : ${maxPhotos} au plus. Retirez-en ${files.length - maxPhotos}.`;
            }
            for (const f of files) {
                const why = problem(f);
                if (why) return `Photo « ${f.name} » : ${why}`;
            }
            return '';
        },
        count() { return files.length; },
    };
}

// Show errors [{id, label, msg}] under their fields and in the summary
// box #erreurs (title + links to the fields), then focus the summary.
export function showErrors(form, summary, errors, title) {
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
    if (!errors.length) {
        summary.hidden = true;
        return;
    }
    const ul = h('ul');
    for (const e of errors) {
        const box = document.getElementById(`${e.id}-error`);
        const input = document.getElementById(e.id);
        if (box) box.textContent = e.msg;
        if (input) input.setAttribute('aria-invalid', 'true');
        ul.append(h('li', {}, h('a', { href: `#${e.id}` }, e.label ? `${e.label} : ${e.msg}` : e.msg)));
    }
    summary.replaceChildren(
        h('h2', {}, title || (errors.length > 1
            ? `Le formulaire contient ${errors.length} erreurs`
            : 'Le formulaire contient une erreur')),
        ul);
    summary.hidden = false;
    summary.focus();
}

// Links of the summary move the focus to their field, not just scroll.
export function summaryLinks(summary) {
    summary.addEventListener('click', (ev) => {
        const a = ev.target.closest('a[href^="#"]');
        if (!a) return;
        const el = document.getElementById(a.getAttribute('href').slice(1));
        if (el) {
            ev.preventDefault();
            el.focus();
        }
    });
}

export function emailOk(s) {
    return /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(s);
}
