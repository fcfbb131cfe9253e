// agent-rapport.js - the impact report's pages (/agent/rapport...) are
// rendered by the server and work without script; this adds the shared
// header (who is connected, logout), shows the « Imprimer » button (it
// needs script) and moves the focus to a form's error summary.

import { initShell } from './shell.js';

const print = document.getElementById('ins-print');
if (print) {
    print.hidden = false;
    print.addEventListener('click', () => window.print());
}
const summary = document.querySelector('.ins-summary');
if (summary && document.activeElement !== summary) {
    summary.focus();
}
initShell();
