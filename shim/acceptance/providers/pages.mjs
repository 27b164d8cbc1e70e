// The HTML pages of both providers' login and consent steps.
//
// They are plain forms (no JS), and browser.mjs finds them by their
// data-step attribute:
//   data-step="login"    a form with a text input named "login"
//   data-step="consent"  the form that grants what the client asked for
//   data-step="deny"     the form that refuses it
// Hidden inputs carry whatever the provider needs back.

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

function form(step, action, hidden, body) {
  const inputs = Object.entries(hidden)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  return `<form data-step="${step}" method="post" action="${esc(action)}">${inputs}${body}</form>`;
}

function page(title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head>`
    + `<body><h1>${esc(title)}</h1>${body}</body></html>`;
}

export function loginPage({ title, action, hidden = {}, error }) {
  return page(title, (error ? `<p class="error">${esc(error)}</p>` : '')
    + form('login', action, hidden, '<input type="text" name="login" autofocus><button type="submit">Sign in</button>'));
}

export function consentPage({ title, text, allow, deny }) {
  return page(title, `<p>${esc(text)}</p>`
    + form('consent', allow.action, allow.hidden ?? {}, '<button type="submit">Authorize</button>')
    + form('deny', deny.action, deny.hidden ?? {}, '<button type="submit">Cancel</button>'));
}

export function errorPage(title, text) {
  return page(title, `<p class="error">${esc(text)}</p>`);
}

// Reads an application/x-www-form-urlencoded (or JSON) request body.
export async function readForm(req) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    try { return new URLSearchParams(Object.entries(JSON.parse(raw)).map(([k, v]) => [k, String(v)])); } catch { return new URLSearchParams(); }
  }
  return new URLSearchParams(raw);
}
