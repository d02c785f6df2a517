// One room's message list (<ol>): stored messages in id order, then the
// reader's own sends that are not stored yet (by ref), with grouping, day
// separators, the "beginning of the room" marker and the scroll position
// (pinned to the bottom unless the reader scrolled away).
import { avatar } from './avatar.js';
import { h } from './dom.js';
import { appendLinkified } from './links.js';
import { snippet } from './text.js';
import { dayKey, dayLabel, setTime } from './time.js';

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const STATE_LABEL = { pending: 'Sending…' };

/**
 * page: { isActive(view), me(), pill, onNearTop(view), onRetry(local), onDiscard(local) }.
 */
export function createRoomView(name, page) {
  const listEl = h('ol', {
    class: 'messages', testid: 'messages', role: 'log', 'aria-live': 'off',
    'aria-label': `Messages in #${name}`, tabIndex: 0, 'data-room': name,
  });
  const view = {
    name, listEl,
    entries: [],            // stored messages, sorted by id: { id, ts, user, text, el }
    byId: new Map(),
    locals: new Map(),      // ref -> { ref, text, ts, user, state, el }, not stored as far as we know
    presence: new Set(),
    online: 0,
    unread: 0,
    news: 0,                // others' messages a resume brought
    joined: false,
    lastJoinedId: null,
    history: { loading: false, atStart: false },
    stick: true, savedTop: 0, dims: '',
    startEl: null,
  };
  const measure = () => listEl.scrollHeight + '/' + listEl.clientHeight;
  const items = () => [...view.entries, ...view.locals.values()];

  view.isAtBottom = () => listEl.scrollHeight - listEl.scrollTop - listEl.clientHeight < 48;
  view.pin = () => { listEl.scrollTop = listEl.scrollHeight; view.dims = measure(); };
  view.scrollToBottom = () => { view.pin(); view.stick = true; page.pill.hidden = true; };
  view.count = () => view.entries.length + view.locals.size;

  listEl.addEventListener('scroll', () => {
    if (!page.isActive(view)) return;
    if (view.isAtBottom()) { view.stick = true; page.pill.hidden = true; }
    // Only a scroll without a layout change is the reader scrolling away;
    // a resize (rotation, keyboard, composer growing) keeps the list pinned.
    else if (measure() === view.dims) view.stick = false;
    else if (view.stick) view.pin();
    view.dims = measure();
    if (listEl.scrollTop < 160) page.onNearTop(view);
  }, { passive: true });

  function render({ id, ts, user, text, state }) {
    const li = h('li', { class: 'msg', testid: 'message', 'data-state': state, 'data-author': user });
    if (id !== undefined) li.dataset.id = String(id);
    if (user === page.me()) li.classList.add('mine');
    const time = h('time', { class: 'msg-time', testid: 'message-time' });
    const textEl = h('div', { class: 'msg-text', testid: 'message-text' });
    appendLinkified(textEl, text);
    li.append(avatar(user), h('div', { class: 'msg-body' },
      h('div', { class: 'msg-meta' }, h('span', { class: 'msg-author', testid: 'message-author' }, user), ' ', time),
      textEl,
      h('div', { class: 'msg-status', testid: 'message-status' })));
    setTime(time, ts);
    return li;
  }

  /** Grouping (same author, same day, < 5 min apart) and day separators. */
  function regroup() {
    const all = items();
    all.forEach((e, i) => {
      const prev = i > 0 ? all[i - 1] : null;
      const newDay = !prev || dayKey(prev) !== dayKey(e);
      if (newDay) e.el.dataset.day = dayLabel(e.ts); else delete e.el.dataset.day;
      e.el.classList.toggle('continued', !!prev && !newDay && prev.user === e.user && Math.abs(e.ts - prev.ts) < GROUP_WINDOW_MS);
    });
  }

  /** Inserts a stored message in id order; returns its index. */
  function insertEntry(entry) {
    const list = view.entries;
    let lo = 0, hi = list.length;
    if (hi === 0 || list[hi - 1].id < entry.id) lo = hi;
    else while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid].id < entry.id) lo = mid + 1; else hi = mid; }
    list.splice(lo, 0, entry);
    view.byId.set(entry.id, entry);
    const firstLocal = view.locals.values().next().value;
    listEl.insertBefore(entry.el, list[lo + 1] ? list[lo + 1].el : (firstLocal ? firstLocal.el : null));
    return lo;
  }

  const entryOf = (m) => ({ id: m.id, ts: m.ts, user: m.username, text: m.text,
    el: render({ id: m.id, ts: m.ts, user: m.username, text: m.text, state: 'sent' }) });

  /**
   * Adds a stored message; returns null when it is shown already, else
   * { last: it went to the bottom, wasAtBottom }.
   */
  view.addMessage = (m) => {
    if (view.byId.has(m.id)) return null;
    const wasAtBottom = page.isActive(view) && (view.stick || view.isAtBottom());
    const oldHeight = listEl.scrollHeight;
    const entry = entryOf(m);
    const at = insertEntry(entry);
    regroup();
    const last = at === view.entries.length - 1;
    if (page.isActive(view)) {
      if (wasAtBottom) view.scrollToBottom();
      else if (!last && entry.el.offsetTop < listEl.scrollTop) {
        listEl.scrollTop += listEl.scrollHeight - oldHeight;
        view.dims = measure();
      }
    }
    return { last, wasAtBottom };
  };

  /** Older messages from history: inserted above, keeping what the reader looks at in place. */
  view.addOlder = (messages) => {
    const before = listEl.scrollHeight, top = listEl.scrollTop;
    for (const m of messages) if (!view.byId.has(m.id)) insertEntry(entryOf(m));
    regroup();
    if (page.isActive(view)) {
      listEl.scrollTop = top + (listEl.scrollHeight - before);
      view.dims = measure();
    }
  };

  /** A deleted message (a delete frame) leaves the list. */
  view.removeById = (id) => {
    const entry = view.byId.get(id);
    if (!entry) return;
    view.byId.delete(id);
    view.entries.splice(view.entries.indexOf(entry), 1);
    entry.el.remove();
    regroup();
  };

  /** The room starts over (first join, new epoch): stored messages go, the reader's unsent ones stay. */
  view.clearStored = () => {
    for (const e of view.entries) e.el.remove();
    view.entries.length = 0;
    view.byId.clear();
    view.history = { loading: false, atStart: false };
    view.setAtStart(false);
  };

  view.setAtStart = (atStart) => {
    view.history.atStart = atStart;
    if (atStart && !view.startEl) {
      view.startEl = h('li', { class: 'list-start', testid: 'history-start' }, `This is the beginning of #${name}.`);
      // Keep what the reader sees in place: the marker goes above it.
      const before = listEl.scrollHeight, top = listEl.scrollTop;
      listEl.prepend(view.startEl);
      if (top > 0 || view.entries.length > 0) listEl.scrollTop = top + (listEl.scrollHeight - before);
    } else if (!atStart && view.startEl) {
      view.startEl.remove();
      view.startEl = null;
    }
  };

  view.markMine = () => {
    for (const e of view.entries) e.el.classList.toggle('mine', e.user === page.me());
  };

  // ---------- the reader's sends ----------
  view.addLocal = ({ ref, text, state }) => {
    const local = { ref, text, ts: Date.now(), user: page.me(), state: null };
    local.el = render({ ts: local.ts, user: local.user, text, state: 'pending' });
    local.el.dataset.ref = ref;
    view.locals.set(ref, local);
    listEl.append(local.el);
    regroup();
    view.setLocalState(local, state);
    view.scrollToBottom();
    return local;
  };

  /** state: 'pending' (queued or sent, no ack yet) or 'failed' (why: the reason shown). */
  view.setLocalState = (local, state, why) => {
    const shown = state === 'failed' ? 'failed' : 'pending';
    if (local.state === shown && shown !== 'failed') return;
    local.state = shown;
    local.el.dataset.state = shown;
    const status = local.el.querySelector('.msg-status');
    status.replaceChildren();
    if (shown === 'pending') status.append(h('span', { class: 'msg-pending' }, STATE_LABEL.pending));
    else {
      status.append(
        h('span', { class: 'msg-error', testid: 'message-error' }, why ? `Not sent: ${why}` : 'Not sent'),
        h('button', { type: 'button', class: 'link-button', testid: 'retry-button', onclick: () => page.onRetry(local),
          'aria-label': `Retry sending “${snippet(local.text)}”` }, 'Retry'),
        h('button', { type: 'button', class: 'link-button', testid: 'discard-button', onclick: () => page.onDiscard(local),
          'aria-label': `Discard “${snippet(local.text)}”` }, 'Discard'));
    }
  };

  /** The send was stored as id: its element moves into place, or goes when that id is shown already. */
  view.promote = (ref, id, ts) => {
    const local = view.locals.get(ref);
    if (!local) return;
    view.locals.delete(ref);
    if (view.byId.has(id)) { // the stored copy came first (a resume's replay)
      local.el.remove();
      regroup();
      return;
    }
    local.el.dataset.id = String(id);
    local.el.dataset.state = 'sent';
    local.el.querySelector('.msg-status').replaceChildren();
    if (typeof ts === 'number') { local.ts = ts; setTime(local.el.querySelector('time'), ts); }
    insertEntry({ id, ts: local.ts, user: local.user, text: local.text, el: local.el });
    regroup();
  };

  view.removeLocal = (ref) => {
    const local = view.locals.get(ref);
    if (!local) return;
    view.locals.delete(ref);
    local.el.remove();
    regroup();
  };

  return view;
}
