// widget.js - the assistant's chat widget, for the commune's own web site
// and for Guichet's page /assistant.
//
// One tag on any page:
//   <script src="https://guichet.example/static/js/widget.js"
//           data-commune="99001" defer></script>
// adds a « Poser une question » button that opens the chat panel. With
// data-mode="page" data-target="ID" the panel is drawn, always open, inside
// the element ID (Guichet's own /assistant page).
//
// Everything lives in a shadow root, so the host page's CSS cannot break
// the widget and ours cannot leak out; its stylesheet (widget.css) is a
// <link> inside that root, from the origin of this script, so no inline
// style is needed under a strict CSP. The API (docs/assistant-api.md) is
// called on the same origin as this script, without credentials (the chat
// is anonymous; cross-site calls need assistant.widget_origins). The
// conversation token is kept in sessionStorage: a reload restores the
// history. A classic script (not a module), so that one plain tag works.
(function () {
    'use strict';

    const script = document.currentScript;
    if (!script || !script.src) return;
    const SRC = new URL(script.src, document.baseURI);
    const API = SRC.origin + '/api/v1/chat';
    // Speech synthesis (docs/voice.md): GET, so that an <audio> element
    // loads it directly (no blob: URL for a page's CSP to refuse).
    const TTS = SRC.origin + '/api/v1/tts';
    const TTS_MAX_BYTES = 2000;
    const CSS = new URL('../css/widget.css', SRC).href;
    const COMMUNE = (script.dataset.commune || '').trim();
    const MODE = script.dataset.mode === 'page' ? 'page' : 'float';
    const KEY = 'guichet.chat.' + SRC.origin + '.' + COMMUNE;
    const MAX_LEN = 1000;
    const SMALL = window.matchMedia('(max-width: 40rem)');
    const DISCLOSURE = 'Vous échangez avec un assistant automatique de la ' +
        'mairie, pas avec une personne. Ses réponses viennent des fiches ' +
        'de la mairie et de service-public.fr, avec leur source. Un agent ' +
        'peut prendre le relais à tout moment. N’indiquez pas de ' +
        'données personnelles dans vos messages.';

    // ----- small DOM helpers -----

    function el(tag, attrs, ...kids) {
        const e = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs || {})) {
            if (v === false || v === null || v === undefined) continue;
            if (k === 'class') e.className = v;
            else if (k === 'text') e.textContent = v;
            else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
            else e.setAttribute(k, v === true ? '' : v);
        }
        for (const kid of kids) {
            if (kid === null || kid === undefined || kid === false) continue;
            e.append(kid);
        }
        return e;
    }

    function hidden(text) {
        return el('span', { class: 'vh', text });
    }

    // A URL of the API's answers, made absolute against Guichet (relative
    // links such as /rdv?motif=cni must not point into the host site).
    // Only http(s); anything else is dropped.
    function safeUrl(u) {
        if (typeof u !== 'string' || !u.trim()) return null;
        try {
            const url = new URL(u.trim(), SRC.origin);
            return url.protocol === 'https:' || url.protocol === 'http:'
                ? url.href : null;
        } catch (e) {
            return null;
        }
    }

    // The answer's HTML (the API promises <p><ul><li><a><strong><em>)
    // rebuilt element by element: nothing else survives, links are
    // resolved and checked, no attribute but href is kept.
    const ALLOWED = new Set(['P', 'UL', 'OL', 'LI', 'A', 'STRONG', 'EM',
        'BR']);

    function cleanHtml(html) {
        // Parsed in a document of its own, without a browsing context:
        // no script runs, no handler is compiled, nothing is fetched.
        const doc = document.implementation.createHTMLDocument('');
        // Handler attributes renamed first: Chrome reports a CSP
        // violation for them even there (they would be dropped anyway).
        doc.body.innerHTML = String(html).replace(/<[^>]*>/g, (tag) =>
            tag.replace(/(\s)on([a-z]+)/gi, '$1data-gw-on$2'));
        const out = document.createDocumentFragment();
        (function walk(src, dst) {
            for (const n of src.childNodes) {
                if (n.nodeType === Node.TEXT_NODE) {
                    dst.append(n.textContent);
                } else if (n.nodeType === Node.ELEMENT_NODE) {
                    if (!ALLOWED.has(n.tagName)) {
                        if (n.tagName !== 'SCRIPT' && n.tagName !== 'STYLE') {
                            walk(n, dst);
                        }
                        continue;
                    }
                    const e = document.createElement(n.tagName);
                    if (n.tagName === 'A') {
                        const href = safeUrl(n.getAttribute('href'));
                        if (href) e.href = href;
                    }
                    walk(n, e);
                    dst.append(e);
                }
            }
        })(doc.body, out);
        return out;
    }

    // Plain text as the server writes it (a history has no HTML): one
    // paragraph a line, lines opening with « - » or « • » as a list.
    function textNodes(text) {
        const out = document.createDocumentFragment();
        let list = null;
        for (const raw of String(text || '').split('\n')) {
            const line = raw.trim();
            const item = /^(?:-|•)\s+(.*)$/.exec(line);
            if (item) {
                if (!list) out.append(list = el('ul'));
                list.append(el('li', { text: item[1] }));
            } else {
                list = null;
                if (line) out.append(el('p', { text: line }));
            }
        }
        return out;
    }

    // "2026-03-02" -> "02/03/2026".
    function frDate(iso) {
        const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ''));
        return m ? m[3] + '/' + m[2] + '/' + m[1] : '';
    }

    function sourceLabel(fiche) {
        const u = safeUrl(fiche.source_url);
        if (u) {
            const host = new URL(u).hostname.replace(/^www\./, '');
            if (new URL(u).origin !== SRC.origin) return host;
        }
        return fiche.origin === 'local' ? 'fiche de la mairie'
            : (fiche.title || 'fiche nationale');
    }

    // ----- storage -----

    function load() {
        try {
            return JSON.parse(sessionStorage.getItem(KEY) || '{}') || {};
        } catch (e) {
            return {};
        }
    }

    function save(patch) {
        try {
            sessionStorage.setItem(KEY, JSON.stringify(
                Object.assign(load(), patch)));
        } catch (e) {
            // Private mode or full: the conversation just won't survive
            // a reload.
        }
    }

    // ----- API -----

    class ChatError extends Error {
        constructor(status, problem) {
            super((problem && (problem.detail || problem.title)) ||
                'Une erreur est survenue. Merci de réessayer.');
            this.status = status;
            this.field = problem && (problem.champ || problem.field);
        }
    }

    async function call(method, path, body) {
        const init = {
            method,
            mode: 'cors',
            credentials: 'omit',
            headers: { Accept: 'application/json' },
        };
        if (body !== undefined) {
            init.headers['Content-Type'] = 'application/json';
            init.body = JSON.stringify(body);
        }
        let r;
        try {
            r = await fetch(API + path, init);
        } catch (e) {
            throw new ChatError(0, {
                detail: 'Le service ne répond pas. Vérifiez votre ' +
                    'connexion puis réessayez.',
            });
        }
        if (r.status === 204) return null;
        const type = r.headers.get('Content-Type') || '';
        const data = type.includes('json')
            ? await r.json().catch(() => null) : null;
        if (!r.ok) throw new ChatError(r.status, data);
        return data;
    }

    // ----- the widget -----

    const state = {
        conversation: null,
        busy: false,
        lastQuestion: '',
        open: false,
    };
    let root, wrap, panel, launcher, scroller, log, input, form, status,
        sendBtn, disclosure, player;
    let listening = null; // the « Écouter » button being played

    function build() {
        let host;
        const target = MODE === 'page' && script.dataset.target
            ? document.getElementById(script.dataset.target) : null;
        const page = MODE === 'page' && target;
        if (page) {
            host = target;
        } else {
            host = el('div', { id: 'guichet-widget' });
            document.body.append(host);
        }
        root = host.attachShadow({ mode: 'open' });
        // Hidden until our stylesheet is in: no flash of unstyled panel.
        wrap = el('div', {
            class: 'gw ' + (page ? 'gw-page' : 'gw-float'),
            hidden: true,
            lang: 'fr',
        });
        const link = el('link', { rel: 'stylesheet', href: CSS });
        const reveal = () => {
            wrap.hidden = false;
        };
        link.addEventListener('load', reveal);
        link.addEventListener('error', reveal);
        root.append(link, wrap);

        disclosure = el('p', { class: 'gw-disclosure', id: 'gw-disclosure',
            text: DISCLOSURE });
        log = el('div', {
            class: 'gw-log',
            role: 'log',
            'aria-live': 'polite',
            'aria-relevant': 'additions',
            'aria-label': 'Conversation avec l’assistant',
        });
        // The disclosure comes first and scrolls away with the messages
        // (outside the live region: it is read once, not announced).
        scroller = el('div', { class: 'gw-scroll', tabindex: '0',
            role: 'region', 'aria-label': 'Messages' }, disclosure, log);
        status = el('p', { class: 'gw-status', role: 'status' });
        // One player for the « Écouter » buttons; no controls of its own
        // (each button starts and stops its answer).
        player = el('audio', { class: 'gw-audio', preload: 'none' });
        player.addEventListener('ended', () => {
            stopListening();
            say('Lecture terminée.');
        });
        player.addEventListener('error', () => {
            if (!listening) return;
            stopListening();
            say('La lecture à voix haute est indisponible pour le moment.');
        });
        player.addEventListener('playing', () => {
            if (listening) say('Lecture de la réponse en cours.');
        });
        input = el('input', {
            id: 'gw-input',
            type: 'text',
            name: 'message',
            maxlength: String(MAX_LEN),
            autocomplete: 'off',
            enterkeyhint: 'send',
            'aria-describedby': 'gw-hint',
        });
        sendBtn = el('button', { type: 'submit', class: 'gw-btn gw-send',
            text: 'Envoyer' });
        form = el('form', { class: 'gw-form', novalidate: true },
            el('label', { for: 'gw-input', class: 'gw-label',
                text: 'Votre question' }),
            el('p', { id: 'gw-hint', class: 'vh',
                text: 'Entrée pour envoyer.' }),
            el('div', { class: 'gw-row' }, input, sendBtn));
        form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            const text = input.value.trim();
            if (!text) {
                say('Écrivez votre question avant d’envoyer.');
                input.focus();
                return;
            }
            send({ message: text }, text);
        });
        const agentBtn = el('button', {
            type: 'button',
            class: 'gw-btn gw-btn-secondary gw-to-agent',
            text: 'Parler à un agent',
            onclick: () => send({ choice: 'agent' }, 'Parler à un agent'),
        });

        const head = el('div', { class: 'gw-head' },
            el('h2', { id: 'gw-title', class: 'gw-title',
                text: 'Assistant de la mairie' }));
        panel = el('section', {
            class: 'gw-panel',
            id: 'gw-panel',
            'aria-labelledby': 'gw-title',
            'aria-describedby': 'gw-disclosure',
        }, head, scroller, status, player, form,
        el('div', { class: 'gw-foot' }, agentBtn));

        if (page) {
            wrap.append(panel);
            state.open = true;
        } else {
            panel.setAttribute('role', 'dialog');
            panel.hidden = true;
            head.append(el('button', {
                type: 'button',
                class: 'gw-close',
                'aria-label': 'Fermer l’assistant',
                onclick: () => close(),
            }, el('span', { 'aria-hidden': 'true', text: '×' })));
            launcher = el('button', {
                type: 'button',
                class: 'gw-launcher',
                'aria-expanded': 'false',
                'aria-controls': 'gw-panel',
                onclick: () => (state.open ? close() : open()),
            }, 'Poser une question');
            wrap.append(panel, launcher);
            panel.addEventListener('keydown', onPanelKey);
            SMALL.addEventListener('change', syncModal);
        }
    }

    function syncModal() {
        if (!launcher) return;
        // Small screen: the open panel covers the page (widget.css), so it
        // is modal and the launcher under it is out of the way.
        panel.setAttribute('aria-modal', SMALL.matches ? 'true' : 'false');
        launcher.hidden = state.open && SMALL.matches;
    }

    function open() {
        state.open = true;
        panel.hidden = false;
        launcher.setAttribute('aria-expanded', 'true');
        syncModal();
        save({ open: true });
        scrollDown(true);
        input.focus();
    }

    function close() {
        state.open = false;
        panel.hidden = true;
        launcher.setAttribute('aria-expanded', 'false');
        syncModal();
        save({ open: false });
        launcher.focus();
    }

    function focusables() {
        return [...panel.querySelectorAll(
            'a[href], button:not([disabled]), input:not([disabled]), ' +
            'textarea:not([disabled]), select:not([disabled]), ' +
            '[tabindex="0"]')].filter((e) => e.getClientRects().length);
    }

    // Escape closes; on a small screen the open panel covers the page and
    // keeps the focus (Tab cycles inside it).
    function onPanelKey(ev) {
        if (ev.key === 'Escape') {
            ev.preventDefault();
            close();
            return;
        }
        if (ev.key !== 'Tab' || !SMALL.matches) return;
        const f = focusables();
        if (!f.length) return;
        const first = f[0];
        const last = f[f.length - 1];
        const active = root.activeElement;
        if (ev.shiftKey && (active === first || !panel.contains(active))) {
            ev.preventDefault();
            last.focus();
        } else if (!ev.shiftKey && active === last) {
            ev.preventDefault();
            first.focus();
        }
    }

    let sayTimer = 0;

    function say(text) {
        // Clear first so that the same message is announced again.
        clearTimeout(sayTimer);
        status.textContent = '';
        if (text) {
            sayTimer = setTimeout(() => {
                status.textContent = text;
            }, 50);
        }
    }

    function scrollDown(instant) {
        scroller.scrollTo({ top: scroller.scrollHeight,
            behavior: instant ? 'instant' : 'auto' });
    }

    function setBusy(b) {
        state.busy = b;
        log.setAttribute('aria-busy', b ? 'true' : 'false');
        sendBtn.disabled = b;
        for (const btn of panel.querySelectorAll('.gw-choices button, ' +
            '.gw-related button, .gw-to-agent')) {
            btn.disabled = b;
        }
    }

    // ----- rendering -----

    function userBubble(text) {
        log.append(el('div', { class: 'gw-msg gw-user' },
            el('p', { class: 'gw-who' }, hidden('Vous : ')),
            el('p', { class: 'gw-text', text })));
    }

    function botBubble(r) {
        const type = r.type || 'info';
        const box = el('div', {
            class: 'gw-msg gw-bot gw-' + type,
            'data-type': type,
        });
        box.append(el('p', { class: 'gw-who' }, hidden(type === 'agent'
            ? 'Réponse d’un agent : ' : 'Assistant : ')));
        if (type === 'agent') {
            box.append(el('p', { class: 'gw-tag',
                text: 'Réponse d’un agent de la mairie' }));
        }
        const body = el('div', { class: 'gw-text' });
        body.append(r.html ? cleanHtml(r.html) : textNodes(r.text));
        box.append(body);
        if (r.text && String(r.text).trim()) {
            box.append(el('p', { class: 'gw-listen-row' },
                listenButton(String(r.text))));
        }

        if (r.fiche) {
            const f = r.fiche;
            const url = safeUrl(f.source_url);
            const date = frDate(f.source_date);
            const src = el('p', { class: 'gw-source' }, 'Source : ',
                url ? el('a', { href: url, text: sourceLabel(f) })
                    : sourceLabel(f));
            if (f.title) {
                src.append(' (« ' + f.title +
                    (f.section ? ' — ' + f.section : '') + ' »)');
            }
            if (date) src.append(', mis à jour le ' + date);
            box.append(src);
        }
        // Two links with the same text would read the same to a screen
        // reader (RGAA 6.1): the first one is kept.
        const seen = new Set();
        const links = (r.links || []).map((l) => ({ l, u: safeUrl(l.url) }))
            .filter((x) => x.u && x.l.label && !seen.has(x.l.label) &&
                seen.add(x.l.label));
        const linkList = (list) => el('ul', { class: 'gw-links' },
            ...list.map((x) => el('li', {}, el('a', {
                href: x.u,
                class: 'gw-link gw-link-' + (x.l.kind || 'service'),
                text: x.l.label,
            }))));
        const others = links.filter((x) => x.l.kind !== 'creneau');
        const slots = links.filter((x) => x.l.kind === 'creneau');
        if (others.length) box.append(linkList(others));
        // The motif's next free slots: each opens the booking page with
        // the slot already chosen.
        if (slots.length) {
            box.append(el('p', { class: 'gw-slots-title',
                text: 'Prochains créneaux libres :' }));
            box.append(linkList(slots));
        }
        const related = (r.related || []).filter((x) => x.label);
        if (related.length) {
            box.append(el('div', {
                class: 'gw-related',
                role: 'group',
                'aria-label': 'Questions proches',
            }, ...related.map((x) => el('button', {
                type: 'button',
                class: 'gw-chip',
                text: x.label,
                onclick: () => send({ message: x.message || x.label },
                    x.label),
            }))));
        }
        const choices = (r.choices || []).filter((c) => c.id && c.label &&
            c.id !== 'agent');
        if (choices.length) {
            box.append(el('div', {
                class: 'gw-choices',
                role: 'group',
                'aria-label': 'Réponses proposées',
            }, ...choices.map((c) => el('button', {
                type: 'button',
                class: 'gw-chip',
                text: c.label,
                onclick: () => send({ choice: c.id }, c.label),
            }))));
        }
        if (r.feedback && r.id) box.append(feedbackBox(r.id));
        if (type === 'handoff_offer') box.append(handoffForm());
        if (r.reference || r.follow_url) box.append(handoffDone(r));
        log.append(box);
        return box;
    }

    // ----- « Écouter » : an answer read aloud -----

    // The text cut to the synthesis limit (bytes of UTF-8), at a space.
    function ttsText(text) {
        const enc = new TextEncoder();
        let t = text.replace(/\s+/g, ' ').trim();
        while (enc.encode(t).length > TTS_MAX_BYTES) {
            const cut = t.lastIndexOf(' ', t.length - 2);
            t = cut > 0 ? t.slice(0, cut) : t.slice(0, t.length - 1);
        }
        return t;
    }

    function stopListening() {
        if (!listening) return;
        player.pause();
        listening.textContent = 'Écouter';
        listening.append(hidden(' la réponse'));
        listening.classList.remove('gw-listening');
        listening = null;
    }

    function listenButton(text) {
        const btn = el('button', { type: 'button', class: 'gw-listen' },
            'Écouter', hidden(' la réponse'));
        btn.addEventListener('click', async () => {
            if (listening === btn) {
                stopListening();
                say('Lecture arrêtée.');
                return;
            }
            stopListening();
            const q = new URLSearchParams({ texte: ttsText(text) });
            listening = btn;
            btn.textContent = 'Arrêter la lecture';
            btn.classList.add('gw-listening');
            say('Préparation de la lecture…');
            player.src = TTS + '?' + q.toString();
            try {
                await player.play();
            } catch (e) {
                // Stopped meanwhile, or the browser refused to play.
                if (listening === btn && e && e.name !== 'AbortError') {
                    stopListening();
                    say('La lecture à voix haute est indisponible pour ' +
                        'le moment.');
                }
            }
        });
        return btn;
    }

    function feedbackBox(id) {
        const yes = el('button', { type: 'button', class: 'gw-fb',
            'aria-pressed': 'false', text: 'Utile' });
        const no = el('button', { type: 'button', class: 'gw-fb',
            'aria-pressed': 'false', text: 'Pas utile' });
        const cid = 'gw-fbc-' + id;
        const comment = el('input', { id: cid, type: 'text',
            maxlength: String(MAX_LEN), autocomplete: 'off' });
        const cform = el('form', { class: 'gw-fb-comment', hidden: true },
            el('label', { for: cid,
                text: 'Un commentaire ? (facultatif)' }),
            el('div', { class: 'gw-row' }, comment,
                el('button', { type: 'submit', class: 'gw-btn',
                    text: 'Envoyer le commentaire' })));
        let useful = null;
        async function rate(u, text) {
            try {
                await call('POST', '/feedback', {
                    conversation: state.conversation,
                    message_id: id,
                    useful: u,
                    comment: text || undefined,
                });
                return true;
            } catch (e) {
                say(e.message);
                return false;
            }
        }
        async function pick(u) {
            if (!(await rate(u))) return;
            useful = u;
            yes.setAttribute('aria-pressed', String(u));
            no.setAttribute('aria-pressed', String(!u));
            cform.hidden = false;
            say('Merci pour votre avis.');
        }
        yes.addEventListener('click', () => pick(true));
        no.addEventListener('click', () => pick(false));
        cform.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            const text = comment.value.trim();
            if (!text || useful === null) return;
            if (await rate(useful, text)) {
                cform.replaceChildren(el('p', { class: 'gw-thanks',
                    text: 'Merci, votre commentaire est transmis.' }));
                say('Merci, votre commentaire est transmis.');
                input.focus();
            }
        });
        return el('div', { class: 'gw-feedback' },
            el('div', {
                class: 'gw-fb-row',
                role: 'group',
                'aria-label': 'Cette réponse vous a-t-elle été utile ?',
            }, el('span', { class: 'gw-fb-q', 'aria-hidden': 'true',
                text: 'Cette réponse vous a aidé ?' }), yes, no),
            cform);
    }

    let formSeq = 0;

    function handoffForm() {
        const n = ++formSeq;
        const id = (s) => 'gw-h' + n + '-' + s;
        const err = (s) => el('p', { id: id(s + '-err'), class: 'gw-err' });
        const email = el('input', { id: id('email'), type: 'email',
            name: 'email', autocomplete: 'email', required: true,
            'aria-describedby': id('email-err') });
        const question = el('textarea', { id: id('question'),
            name: 'question', rows: '3', maxlength: String(MAX_LEN),
            required: true, 'aria-describedby': id('question-err') });
        question.value = state.lastQuestion;
        const consent = el('input', { id: id('consent'), type: 'checkbox',
            name: 'consent', required: true,
            'aria-describedby': id('consent-err') });
        const submit = el('button', { type: 'submit', class: 'gw-btn',
            text: 'Transmettre à un agent' });
        const f = el('form', { class: 'gw-handoff', novalidate: true },
            el('p', { class: 'gw-form-title',
                text: 'Transmettre votre question à un agent' }),
            el('div', { class: 'gw-field' },
                el('label', { for: id('email'),
                    text: 'Votre adresse électronique (pour la réponse)' }),
                email, err('email')),
            el('div', { class: 'gw-field' },
                el('label', { for: id('question'), text: 'Votre question' }),
                question, err('question')),
            el('div', { class: 'gw-field gw-check' }, consent,
                el('label', { for: id('consent'), text: 'J’accepte que la ' +
                    'mairie conserve mon adresse électronique le temps de ' +
                    'me répondre.' }), err('consent')),
            submit);
        const fields = { email, question, consent };
        function mark(name, msg) {
            const input_ = fields[name];
            const p = root.getElementById(id(name + '-err'));
            if (p) p.textContent = msg || '';
            if (input_) {
                if (msg) input_.setAttribute('aria-invalid', 'true');
                else input_.removeAttribute('aria-invalid');
            }
        }
        f.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            let first = null;
            const checks = [
                ['email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.value.trim())
                    ? '' : 'Indiquez une adresse électronique valide, ' +
                    'par exemple nom@exemple.fr.'],
                ['question', question.value.trim()
                    ? '' : 'Écrivez votre question.'],
                ['consent', consent.checked
                    ? '' : 'Cochez la case pour que la mairie puisse ' +
                    'vous répondre.'],
            ];
            for (const [name, msg] of checks) {
                mark(name, msg);
                if (msg && !first) first = fields[name];
            }
            if (first) {
                first.focus();
                return;
            }
            submit.disabled = true;
            try {
                const r = await call('POST', '/handoff', {
                    conversation: state.conversation,
                    email: email.value.trim(),
                    question: question.value.trim(),
                    consent: true,
                });
                f.replaceWith(handoffDone({
                    reference: r && r.reference,
                    follow_url: r && r.follow_url,
                }));
                save({ handoff: { reference: r && r.reference,
                    follow_url: r && r.follow_url } });
                say('Votre question est transmise. Référence ' +
                    (r && r.reference ? r.reference : '') + '.');
                scrollDown();
                const a = log.querySelector('.gw-done a');
                (a || input).focus();
            } catch (e) {
                submit.disabled = false;
                if (e.field && fields[e.field]) {
                    mark(e.field, e.message);
                    fields[e.field].focus();
                } else {
                    say(e.message);
                }
            }
        });
        return f;
    }

    function handoffDone(h) {
        const url = safeUrl(h.follow_url);
        return el('div', { class: 'gw-done' },
            el('p', {}, 'Votre question est transmise à un agent. ' +
                'Référence : ', el('strong', { class: 'gw-ref',
                text: h.reference || '—' })),
            url ? el('p', {}, el('a', { href: url,
                text: 'Suivre ma demande' })) : null,
            el('p', { text: 'Vous recevrez la réponse par courriel.' }));
    }

    // ----- conversation -----

    async function send(body, shown) {
        if (state.busy) return;
        if (shown.length > MAX_LEN) {
            say('Votre message est trop long (' + MAX_LEN +
                ' caractères au plus).');
            return;
        }
        if (body.message) state.lastQuestion = body.message;
        userBubble(shown);
        input.value = '';
        scrollDown();
        setBusy(true);
        say('L’assistant prépare sa réponse…');
        let focusTarget = input;
        try {
            const req = Object.assign({ commune: COMMUNE }, body);
            if (state.conversation) req.conversation = state.conversation;
            const r = await call('POST', '', req);
            if (r && r.conversation) {
                state.conversation = r.conversation;
                save({ conversation: r.conversation });
            }
            if (r && r.disclosure) {
                disclosure.textContent = r.disclosure;
                save({ disclosure: r.disclosure });
            }
            for (const reply of (r && r.replies) || []) {
                const box = botBubble(reply);
                if (reply.type === 'handoff_offer') {
                    focusTarget = box.querySelector('input[type="email"]') ||
                        input;
                }
            }
            say('');
        } catch (e) {
            if (e.status === 404 && state.conversation) {
                // The conversation expired: start a new one next time.
                state.conversation = null;
                save({ conversation: null });
            }
            log.append(el('div', { class: 'gw-msg gw-bot gw-error' },
                el('p', { text: e.message })));
            say(e.message);
        } finally {
            setBusy(false);
            scrollDown();
            if (state.open) focusTarget.focus();
        }
    }

    async function restore() {
        const s = load();
        if (!s.conversation) return;
        state.conversation = s.conversation;
        if (s.disclosure) disclosure.textContent = s.disclosure;
        let h;
        try {
            h = await call('GET', '/' + encodeURIComponent(s.conversation));
        } catch (e) {
            if (e.status === 404) {
                state.conversation = null;
                save({ conversation: null, handoff: null });
            }
            return;
        }
        const replies = (h && (h.replies || h.messages)) || [];
        // The server knows the reference; the follow link (its token is
        // only stored hashed) was kept here when the hand-off was made, or
        // is read from the text of the hand-off's acknowledgment.
        const hand = (h && h.handoff) || s.handoff
            ? Object.assign({}, s.handoff, h && h.handoff) : null;
        for (const r of replies) {
            if (r.type === 'user' || r.role === 'user') {
                userBubble(r.text || r.message || '');
                state.lastQuestion = r.text || r.message || '';
            } else if (r.type === 'handoff_done' && hand) {
                const m = /\/assistant\/suivi\/[A-Za-z0-9_-]+/.exec(
                    r.text || '');
                if (!hand.follow_url && m) hand.follow_url = m[0];
                log.append(el('div', { class: 'gw-msg gw-bot gw-handoff_done',
                    'data-type': 'handoff_done' }, handoffDone(hand)));
            } else {
                botBubble(r);
            }
        }
        if (hand && (hand.reference || hand.follow_url) &&
            !log.querySelector('.gw-done')) {
            log.append(el('div', { class: 'gw-msg gw-bot' },
                handoffDone(hand)));
        }
        // A hand-off form of the past is not to be filled again.
        if (hand) {
            for (const f of log.querySelectorAll('.gw-handoff')) f.remove();
        }
        scrollDown(true);
        if (s.open && MODE !== 'page' && launcher) open();
    }

    function start() {
        // The tag pasted twice (or a page mode plus a floating one) gives
        // one widget, not two conversations side by side.
        if (window.guichetWidget) return;
        window.guichetWidget = true;
        if (!COMMUNE) {
            console.warn('widget.js : attribut data-commune manquant.');
            return;
        }
        build();
        restore();
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
})();
