// agent-formation.js - the training pages (/agent/formation...) are
// rendered by the server and work without script; this adds the shared
// header (who is connected, logout, the sandbox banner) and moves the
// focus to a form's error summary, or to a quiz's result, when the page
// came back with one.

import { initShell } from './shell.js';

const target = document.querySelector('.form-summary') ||
    (window.location.hash === '#resultat' &&
        document.getElementById('resultat'));
if (target && document.activeElement !== target) {
    target.focus();
}
initShell();

// The sandbox is being prepared (seeded in the background): check every
// second and reload once it is ready, at most a minute.
const preparing = document.getElementById('preparation');
if (preparing) {
    let tries = 0;
    const poll = async () => {
        tries++;
        try {
            const r = await fetch('/api/v1/formation/bac-a-sable',
                { credentials: 'same-origin' });
            const j = await r.json();
            if (j.bac_a_sable && j.bac_a_sable.etat === 'pret') {
                window.location.reload();
                return;
            }
            const step = document.getElementById('etape');
            if (step && j.bac_a_sable && j.bac_a_sable.etape) {
                step.textContent = j.bac_a_sable.etape;
            }
        } catch (e) {
            // try again below
        }
        if (tries < 60) setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
}
