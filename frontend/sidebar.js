// The sidebar: the rooms with their unread counts, who is online in the
// shown room, and the drawer it becomes on narrow screens.
import { avatar } from './avatar.js';
import { $, h } from './dom.js';

const sidebar = () => $('sidebar');

/** rooms: [{ name, unread, active }]; onLeave(name) when its × is clicked. */
export function renderRoomList(rooms, { onLeave }) {
  let totalOther = 0;
  const items = rooms.map(({ name, unread, active }) => {
    if (!active) totalOther += unread;
    const link = h('a', { class: 'room-link', href: '#' + name, 'aria-current': active ? 'page' : false, testid: 'room-link' },
      h('span', { class: 'room-link-hash', 'aria-hidden': 'true' }, '#'),
      h('span', { class: 'room-link-name' }, name));
    if (unread > 0) {
      link.append(h('span', { class: 'badge', testid: 'room-unread' },
        unread > 99 ? '99+' : String(unread),
        h('span', { class: 'visually-hidden' }, unread === 1 ? ' unread message' : ' unread messages')));
    }
    const leave = h('button', {
      type: 'button', class: 'icon-button room-leave', testid: 'room-leave', title: `Leave #${name}`,
      'aria-label': `Leave #${name}`, disabled: rooms.length < 2, onclick: () => onLeave(name),
    }, '×');
    return h('li', { class: 'room-item' + (active ? ' active' : ''), testid: 'room-item', 'data-room': name, 'data-unread': unread }, link, leave);
  });
  $('room-list').replaceChildren(...items);
  const badge = $('menu-badge');
  badge.hidden = totalOther === 0;
  badge.textContent = totalOther > 99 ? '99+' : String(totalOther);
  $('menu-button').setAttribute('aria-label', totalOther ? `Rooms and people, ${totalOther} unread` : 'Rooms and people');
}

/**
 * Who is online in the shown room; the reader first, marked "(you)". A big
 * room lists only some: the count is `online`, the gateway's count of all.
 */
export function renderOnline(roomName, presence, me, online = 0) {
  const names = roomName ? [...presence].sort((a, b) => (a === me ? -1 : b === me ? 1 : a.localeCompare(b))) : [];
  $('online-list').replaceChildren(...names.map((n) => h('li', { class: 'online-user', testid: 'online-user', 'data-username': n },
    avatar(n, 'avatar-sm'), h('span', { class: 'online-name' }, n),
    n === me ? h('span', { class: 'you' }, '(you)') : null)));
  $('online-count').textContent = roomName ? `· ${Math.max(online, names.length)}` : '';
  $('online-heading').firstChild.textContent = roomName ? `Online in #${roomName} ` : 'Online ';
}

export function openSidebar(open) {
  sidebar().classList.toggle('open', open);
  $('scrim').hidden = !open;
  $('menu-button').setAttribute('aria-expanded', String(open));
  if (open) (sidebar().querySelector('[aria-current="page"]') || $('room-input')).focus();
}

export function wireSidebar() {
  $('menu-button').addEventListener('click', () => openSidebar(!sidebar().classList.contains('open')));
  $('scrim').addEventListener('click', () => openSidebar(false));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && sidebar().classList.contains('open')) { openSidebar(false); $('menu-button').focus(); }
  });
}
