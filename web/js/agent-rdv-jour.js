// agent-rdv-jour.js - the printable day list (/agent/rdv/jour): the page
// is rendered by the server; this script sets up the shared header and
// the « Imprimer » button (no inline script: CSP).

import { initShell } from './shell.js';

document.getElementById('print').addEventListener('click', () => {
    window.print();
});
initShell();
