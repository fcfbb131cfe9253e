// dashboard.js - the agent's home: name, role and active commune.

import { ROLE_LABELS } from '../api.js';
import { initShell } from '../shell.js';

const me = await initShell();
if (me) {
    document.getElementById('hello').textContent =
        'Bonjour ' + (me.name || me.login) + '.';
    document.getElementById('dash-role').textContent =
        ROLE_LABELS[me.role] || me.role;
    document.getElementById('dash-commune').textContent =
        me.commune.name + ' (' + me.commune.insee + ')';
    if (me.role === 'admin') {
        document.getElementById('dash-admin').hidden = false;
    }
}
