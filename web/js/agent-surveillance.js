// agent-surveillance.js - the monitoring pages (/agent/surveillance...)
// are rendered by the server and work without script; this adds the shared
// header (who is connected, logout) and moves the focus to a form's error
// summary when the page came back with errors (autofocus does it too in
// browsers that honour it on a non-control).

import { initShell } from './shell.js';

const summary = document.querySelector('.mon-summary');
if (summary && document.activeElement !== summary) {
    summary.focus();
}
initShell();
