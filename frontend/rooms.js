// The rooms the page follows: one view per room (insertion order = sidebar
// order, kept in this browser), which one is shown, and what shows it: the
// list slot, the title, the sidebar's room list and who is online.
import { $, store } from './dom.js';
import { announce } from './notices.js';
import { createRoomView } from './room_view.js';
import { renderOnline, renderRoomList } from './sidebar.js';

export const DEFAULT_ROOM = 'lobby';
const ROOMS_KEY = 'chat.rooms';

/**
 * client: the ChatClient (joins and leaves follow the views); me(): the
 * reader's name; composer; onNearTop(view), onRetry(local), onDiscard(local):
 * the room views' hooks; onShown(view) after a room is shown.
 */
export function createRooms({ client, me, composer, onNearTop, onRetry, onDiscard, onShown }) {
  const views = new Map();
  const pill = $('new-pill');
  const listSlot = $('list-slot');
  let activeName = null;

  const active = () => views.get(activeName) || null;
  const isActive = (view) => !!view && view.name === activeName;
  const viewHooks = { isActive, me, pill, onNearTop, onRetry, onDiscard };

  function save() { store.set(ROOMS_KEY, JSON.stringify([...views.keys()])); }

  function add(name) {
    let view = views.get(name);
    if (view) return view;
    view = createRoomView(name, viewHooks);
    views.set(name, view);
    client.join(name);
    save();
    return view;
  }

  /** leave: the reader left it (never the last room); else the gateway refused it. */
  function remove(name, { leave }) {
    if (!views.has(name)) return;
    if (leave) {
      if (views.size < 2) return;
      client.leave(name);
    }
    views.delete(name);
    save();
    if (views.size === 0) add(DEFAULT_ROOM);
    if (name === activeName) activate(views.keys().next().value); else refreshList();
    announce(`Left #${name}.`);
  }

  function activate(name) {
    const prev = active();
    const view = add(name);
    if (prev && prev !== view) {
      prev.stick = prev.isAtBottom();
      prev.savedTop = prev.listEl.scrollTop;
    }
    activeName = name;
    view.unread = 0;
    if (listSlot.firstChild !== view.listEl) listSlot.replaceChildren(view.listEl);
    if (view.stick) view.scrollToBottom();
    else view.listEl.scrollTop = view.savedTop;
    pill.hidden = true;
    $('room-name').textContent = name;
    composer.setPlaceholder(`Message #${name}`);
    refreshList();
    refreshOnline();
    updateEmpty();
    onShown(view);
    if (location.hash.replace(/^#/, '') !== name) history.replaceState(null, '', '#' + name);
  }

  function refreshList() {
    renderRoomList([...views.values()].map((v) => ({ name: v.name, unread: v.unread, active: isActive(v) })),
      { onLeave: (name) => remove(name, { leave: true }) });
    let unread = 0;
    for (const view of views.values()) unread += view.unread;
    document.title = (unread ? `(${unread}) ` : '') + (activeName ? `#${activeName} · Chat` : 'Chat');
  }

  function refreshOnline() {
    const view = active();
    renderOnline(view && view.name, view ? view.presence : [], me(), view ? view.online : 0);
  }

  function updateEmpty() {
    const view = active();
    $('empty').hidden = !view || view.count() > 0 || !view.joined;
    $('history-loading').hidden = !view || !view.history.loading;
  }

  /** The rooms kept from the last visit (valid names are checked by the caller). */
  function saved() {
    try {
      const names = JSON.parse(store.get(ROOMS_KEY) || '[]');
      return Array.isArray(names) ? names : [];
    } catch {
      return [];
    }
  }

  // Keep the bottom in view when the list resizes (rotation, on-screen
  // keyboard, composer growing, banner showing), before any clamped scroll.
  const repin = () => { const v = active(); if (v && v.stick) v.pin(); };
  window.addEventListener('resize', repin);
  if (typeof ResizeObserver === 'function') new ResizeObserver(repin).observe(listSlot);
  pill.addEventListener('click', () => { const v = active(); if (v) { v.scrollToBottom(); v.listEl.focus({ preventScroll: true }); } });

  return {
    views, pill, active, isActive, add, remove, activate, refreshList, refreshOnline, updateEmpty, saved,
    get activeName() { return activeName; },
  };
}
