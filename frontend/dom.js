// DOM helpers. Every piece of user data reaches the DOM as text (textContent,
// text nodes, attribute values), never as HTML; element.style is touched only
// through the CSSOM, which the page's CSP allows.

export const $ = (id) => document.getElementById(id);

/** Makes an element; attrs are set as properties or dataset/aria attributes, never as HTML. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role') el.setAttribute(k, String(v));
    else el[k] = v;
  }
  el.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** localStorage that shrugs off private modes and full quotas. */
export const store = {
  get(key) { try { return localStorage.getItem(key); } catch { return null; } },
  set(key, value) { try { localStorage.setItem(key, value); } catch { /* private mode */ } },
};
