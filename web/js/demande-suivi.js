// demande-suivi.js - the status page of a request: previews and checks of
// the photos added with a message, and the error summary. The form posts
// as it would without JavaScript.

import { photoPicker, showErrors, summaryLinks } from './demande-common.js';

const form = document.getElementById('form-message');
const summary = document.getElementById('erreurs');

if (form) {
    const picker = photoPicker(document.getElementById('photos-message'),
        document.getElementById('apercus'),
        Number(form.dataset.maxPhotos) || 5, Number(form.dataset.maxMo) || 8);
    summaryLinks(summary);
    if (!summary.hidden) summary.focus();
    const done = document.getElementById('fait');
    if (done && !done.hidden && summary.hidden) done.focus();

    form.addEventListener('submit', (ev) => {
        const errors = [];
        const text = document.getElementById('message').value.trim();
        if (!text && picker.count() === 0) {
            errors.push({ id: 'message', msg: 'Écrivez un message ou joignez une photo.' });
        }
        const photoMsg = picker.check();
        if (photoMsg) errors.push({ id: 'photos-message', msg: photoMsg });
        if (errors.length) {
            ev.preventDefault();
            showErrors(form, summary, errors, 'Votre message n’a pas été envoyé');
        }
    });
}
