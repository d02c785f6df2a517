// Which room the page shows: the URL's hash names it (#dev; ?room=dev works
// as an entry link), and the sidebar's form joins one by name.
import { isValidRoom } from './client/index.js';
import { $ } from './dom.js';
import { showNotice } from './notices.js';
import { DEFAULT_ROOM } from './rooms.js';
import { openSidebar } from './sidebar.js';

const ROOM_RULE = '1-64 of A-Z a-z 0-9 _ . -';

/** { room } from the hash or ?room=, { room: null, invalid } for a bad name, { room: null } for none. */
export function roomFromLocation() {
  let hash = location.hash.replace(/^#\/?/, '');
  try { hash = decodeURIComponent(hash); } catch { /* keep raw */ }
  const wanted = hash || new URLSearchParams(location.search).get('room') || '';
  if (!wanted) return { room: null };
  return isValidRoom(wanted) ? { room: wanted } : { room: null, invalid: wanted };
}

export const invalidRoomNotice = (wanted) => showNotice(`“${wanted.slice(0, 80)}” is not a valid room name (${ROOM_RULE}).`);

export function wireNavigation(rooms, composer) {
  function onLocationChange() {
    const parsed = roomFromLocation();
    if (parsed.invalid) invalidRoomNotice(parsed.invalid);
    const name = parsed.room || rooms.activeName || rooms.views.keys().next().value || DEFAULT_ROOM;
    if (name !== rooms.activeName) rooms.activate(name);
    openSidebar(false);
  }

  $('room-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('room-input');
    const wanted = input.value.trim().replace(/^#/, '');
    if (!isValidRoom(wanted)) {
      input.setAttribute('aria-invalid', 'true');
      showNotice(`Room names are ${ROOM_RULE}`);
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    input.value = '';
    location.hash = wanted; // hashchange joins and shows it
    onLocationChange();
    composer.focus();
  });
  $('room-input').addEventListener('input', (e) => e.target.removeAttribute('aria-invalid'));
  window.addEventListener('hashchange', onLocationChange);
}
