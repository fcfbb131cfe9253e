// rdv-attente.js - the waiting-list page (/rdv/attente/{token}) is drawn
// by the server and its actions are plain forms; this script only moves
// the focus to what the page is about (an error, the result of the last
// action, or the slot offered), for keyboard and screen-reader users.

for (const id of ['rdv-error', 'rdv-done', 'titre-offre']) {
    const el = document.getElementById(id);
    const box = el && (el.closest('section') || el);
    if (el && !el.hidden && !box.hidden) {
        el.focus();
        break;
    }
}
