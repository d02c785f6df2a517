// Avatars: initials on a colour derived from the name.
import { h } from './dom.js';

function hashHue(str) { // FNV-1a, 32 bit
  let x = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    x ^= str.charCodeAt(i);
    x = Math.imul(x, 0x01000193);
  }
  return (x >>> 0) % 360;
}

function initials(name) {
  const words = name.trim().split(/[\s._-]+/).filter(Boolean);
  const first = (w) => (Array.from(w)[0] || '').toUpperCase();
  if (words.length === 0) return '?';
  return words.length === 1 ? Array.from(words[0]).slice(0, 2).join('').toUpperCase()
    : first(words[0]) + first(words[1]);
}

export function paintAvatar(el, name) {
  el.textContent = initials(name);
  el.style.setProperty('--hue', String(hashHue(name))); // CSSOM: allowed by the CSP
}

export function avatar(name, extraClass) {
  const el = h('span', { class: 'avatar' + (extraClass ? ' ' + extraClass : ''), 'aria-hidden': 'true' });
  paintAvatar(el, name);
  return el;
}
