// form.js - accessible form errors: each message lives in the element
// "<input id>-error", already referenced by the field's aria-describedby,
// and the field gets aria-invalid. The first invalid field takes focus.

export function clearErrors(form) {
    for (const el of form.querySelectorAll('[aria-invalid]')) {
        el.removeAttribute('aria-invalid');
    }
    for (const el of form.querySelectorAll('.field-error')) {
        el.textContent = '';
    }
}

// Show `msg` under the field whose name is `name`; false if not found.
export function fieldError(form, name, msg, focus = true) {
    const input = form.elements.namedItem(name);
    if (!input || !input.id) return false;
    const box = document.getElementById(input.id + '-error');
    if (!box) return false;
    box.textContent = msg;
    input.setAttribute('aria-invalid', 'true');
    if (focus) input.focus();
    return true;
}

// An ApiError on a form: under its field when known, else in `status`.
export function showApiError(form, err, status) {
    if (err.field && fieldError(form, err.field, err.message)) return;
    showStatus(status, err.message);
}

export function showStatus(el, msg) {
    if (!el) return;
    el.textContent = msg;
    el.hidden = false;
    if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
    el.focus();
}

// Build an element: h('td', {class: 'x'}, 'text', child...).
export function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
        if (v === false || v === null || v === undefined) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) {
        if (c === null || c === undefined || c === false) continue;
        el.append(c instanceof Node ? c : document.createTextNode(c));
    }
    return el;
}
