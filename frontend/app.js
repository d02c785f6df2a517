// The chat page: wires the client library (./client/, which is
// clients/js/src) to the page's parts: room views, sidebar, composer, name
// dialog, status. No build step; it runs under the page's strict CSP (no
// inline script or style).
//
// The page connects at once, without a name: the gateway then names the
// connection (a guest name, in `welcome`), so a visitor reads the room and
// sees who is online right away. The name dialog opens only when a visitor
// without a name sends (or clicks their name); saving reconnects with the
// name, resuming every room (since + epoch). With a login (TOKEN_URL or
// AUTH_COOKIE) the token's user is the name and no dialog is offered. The
// page's URL may preset the room (?room=dev) and the name (?username=alice).
import { ChatClient, isValidRoom } from './client/index.js';
import { paintAvatar } from './avatar.js';
import { createComposer } from './composer.js';
import { $, store } from './dom.js';
import { loadConfig, tokenFetcher } from './login.js';
import { createNameDialog } from './name_dialog.js';
import { announce, showNotice } from './notices.js';
import { createRoomView } from './room_view.js';
import { openSidebar, renderOnline, renderRoomList, wireSidebar } from './sidebar.js';
import { createStatus } from './status.js';
import { fitsFrame, snippet, validateName } from './text.js';

const DEFAULT_ROOM = 'lobby';
const HISTORY_PAGE = 50;
const NAME_KEY = 'chat.username';
const ROOMS_KEY = 'chat.rooms';
const ROOM_RULE = '1-64 of A-Z a-z 0-9 _ . -';

const ERROR_TEXT = {
  unavailable: 'the server could not store it',
  rate_limited: 'too many messages, slow down',
  too_large: 'too large',
  not_joined: 'not in this room',
  disconnected: 'connection lost',
  offline: 'you are offline',
  timeout: 'no answer from the server',
};

async function main() {
  const query = new URLSearchParams(location.search);
  const urlName = query.has('username') ? validateName(query.get('username')) : {};
  if (urlName.name) store.set(NAME_KEY, urlName.name); // as if chosen in the dialog
  const config = await loadConfig();
  // With a login the token's user is the name: nothing to pick.
  const loggedIn = !!config.auth && (typeof config.token_url === 'string' || !!config.auth_cookie);
  if (config.auth && !loggedIn) showNotice('This chat needs a login, and no TOKEN_URL is set.');
  let username = loggedIn ? '' : urlName.name || validateName(store.get(NAME_KEY)).name || '';
  let sendWhenJoined = false; // the composer's text waits for the reconnect with the new name
  let activeName = null;
  const views = new Map();    // name -> room view (insertion order = sidebar order)
  const pill = $('new-pill');
  const listSlot = $('list-slot');

  const client = new ChatClient({
    url: () => (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/websocket',
    username: username || undefined,
    getToken: loggedIn && typeof config.token_url === 'string' ? tokenFetcher(config.token_url) : undefined,
    historyLimit: HISTORY_PAGE,
  });
  const me = () => client.me || username;

  // ---------- rooms ----------
  const activeView = () => views.get(activeName) || null;
  const isActive = (view) => !!view && view.name === activeName;

  const viewHooks = {
    isActive, me, pill,
    onNearTop: (view) => loadOlder(view),
    onRetry: retry,
    onDiscard: discard,
  };

  function saveRooms() { store.set(ROOMS_KEY, JSON.stringify([...views.keys()])); }

  function addRoom(name) {
    let view = views.get(name);
    if (view) return view;
    view = createRoomView(name, viewHooks);
    views.set(name, view);
    client.join(name);
    saveRooms();
    return view;
  }

  function removeRoom(name, { leave }) {
    const view = views.get(name);
    if (!view) return;
    if (leave) {
      if (views.size < 2) return;
      client.leave(name);
    }
    views.delete(name);
    saveRooms();
    if (views.size === 0) addRoom(DEFAULT_ROOM);
    if (name === activeName) activate(views.keys().next().value); else refreshRoomList();
    announce(`Left #${name}.`);
  }

  function activate(name) {
    const prev = activeView();
    const view = addRoom(name);
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
    refreshRoomList();
    refreshOnline();
    updateEmpty();
    fillViewport(view);
    if (location.hash.replace(/^#/, '') !== name) history.replaceState(null, '', '#' + name);
  }

  function refreshRoomList() {
    renderRoomList([...views.values()].map((v) => ({ name: v.name, unread: v.unread, active: isActive(v) })),
      { onLeave: (name) => removeRoom(name, { leave: true }) });
    updateTitle();
  }

  function refreshOnline() {
    const view = activeView();
    renderOnline(view && view.name, view ? view.presence : [], me());
  }

  function updateTitle() {
    let unread = 0;
    for (const view of views.values()) unread += view.unread;
    document.title = (unread ? `(${unread}) ` : '') + (activeName ? `#${activeName} · Chat` : 'Chat');
  }

  function updateEmpty() {
    const view = activeView();
    $('empty').hidden = !view || view.count() > 0 || !view.joined;
    $('history-loading').hidden = !view || !view.history.loading;
  }

  // Keep the bottom in view when the list resizes (rotation, on-screen
  // keyboard, composer growing, banner showing), before any clamped scroll.
  const repin = () => { const v = activeView(); if (v && v.stick) v.pin(); };
  window.addEventListener('resize', repin);
  if (typeof ResizeObserver === 'function') new ResizeObserver(repin).observe(listSlot);

  // ---------- what the client reports ----------
  client.on('reset', ({ room }) => {
    const view = views.get(room);
    if (!view) return;
    if (view.entries.length) announce(`#${room} was reloaded.`);
    view.clearStored();
    if (!view.joined) view.news = -1; // a join that starts over: its replay is not news
  });

  client.on('message', (m) => {
    const view = views.get(m.room);
    if (!view) return;
    const added = view.addMessage(m);
    if (!added) return;
    const fromOther = m.username !== me();
    if (!m.live) {
      if (fromOther && view.news >= 0) view.news++;
      return;
    }
    if (isActive(view) && !added.wasAtBottom && added.last && fromOther) pill.hidden = false;
    if (fromOther) {
      if (!isActive(view) || document.hidden) { view.unread++; refreshRoomList(); }
      if (isActive(view)) announce(`${m.username}: ${m.text}`);
    }
    updateEmpty();
  });

  client.on('joined', (j) => {
    const view = views.get(j.room);
    if (!view) return;
    view.joined = true;
    view.lastJoinedId = j.lastId;
    if (j.recovered && view.news > 0) {
      if (!isActive(view) || document.hidden) view.unread += view.news;
      if (isActive(view)) announce(`${view.news} new message${view.news === 1 ? '' : 's'} in #${view.name}`);
    }
    view.news = 0;
    if (j.reset) {
      const first = view.entries[0];
      view.setAtStart(first ? first.id === 1 : !j.lastId);
    }
    view.presence = new Set(j.presence);
    if (isActive(view)) {
      if (view.stick) view.scrollToBottom();
      refreshOnline();
      fillViewport(view);
    }
    refreshRoomList();
    updateEmpty();
    if (sendWhenJoined && isActive(view)) { sendWhenJoined = false; composer.submit(); }
  });

  client.on('delete', ({ room, id }) => {
    const view = views.get(room);
    if (view) { view.removeById(id); updateEmpty(); }
  });

  client.on('presence', ({ room, users }) => {
    const view = views.get(room);
    if (!view) return;
    view.presence = new Set(users);
    if (isActive(view)) refreshOnline();
  });

  client.on('send', (s) => {
    const view = views.get(s.room);
    const local = view && view.locals.get(s.ref);
    if (!local) return; // not shown yet (send() still running), or discarded
    if (s.state === 'acked') view.promote(s.ref, s.id, s.ts);
    else view.setLocalState(local, s.state, s.error && (ERROR_TEXT[s.error.code] || s.error.message || s.error.code));
    if (s.state === 'failed') announce(`Message not sent: ${snippet(local.text)}`);
    updateEmpty();
  });

  client.on('welcome', () => {
    if (loggedIn) username = client.me;
    for (const view of views.values()) view.markMine();
    renderUser();
    refreshOnline();
  });

  client.on('disconnect', ({ code, reason, wasOpen }) => {
    for (const view of views.values()) { view.joined = false; view.history.loading = false; }
    updateEmpty();
    if (wasOpen && code >= 1002 && code !== 1006 && reason) showNotice(`Disconnected: ${reason}`);
  });

  client.on('error', (e) => {
    if (e.kind === 'join' && e.room) {
      showNotice(`Could not join #${e.room}: ${e.message || e.code}`);
      removeRoom(e.room, { leave: false });
    } else if (e.kind !== 'history' && e.message) {
      showNotice(`Server: ${e.message}`);
    }
  });

  // ---------- scroll-back ----------
  function loadOlder(view) {
    const room = client.room(view.name);
    if (!client.online || !room || room.status !== 'joined' || view.history.loading || view.history.atStart) return;
    if (!view.entries.length && !view.lastJoinedId) return;
    const before = view.entries.length ? view.entries[0].id : undefined;
    view.history.loading = true;
    updateEmpty();
    client.loadHistory(view.name, { before, limit: HISTORY_PAGE }).then(({ messages, atStart }) => {
      view.history.loading = false;
      view.addOlder(messages);
      const first = view.entries[0];
      view.setAtStart(atStart || (!!first && first.id === 1));
      if (isActive(view)) fillViewport(view);
      updateEmpty();
    }, (error) => {
      view.history.loading = false;
      updateEmpty();
      if (error.code === 'unavailable') setTimeout(() => fillViewport(view), 2000);
    });
  }

  /** Loads older messages while the list is too short to scroll. */
  function fillViewport(view) {
    if (!isActive(view) || view.history.atStart) return;
    if (view.listEl.scrollHeight <= view.listEl.clientHeight + 8) loadOlder(view);
  }

  // ---------- sending ----------
  function sendText(text) {
    const view = activeView();
    if (!view || !client.online) return false;
    if (!username) { nameDialog.open('', 'send'); return false; } // the text stays in the composer
    if (!fitsFrame(view.name, text)) { showNotice('That message is too large to send.'); return false; }
    const send = client.send(view.name, text);
    view.addLocal(send);
    updateEmpty();
    return true;
  }

  function retry(local) {
    if (!client.online) { client.retryNow(); showNotice('Still offline. The message is kept; retry once reconnected.'); return; }
    const hadFocus = local.el.contains(document.activeElement);
    client.retry(local.ref); // the same ref: the gateway stores it at most once
    if (hadFocus) (local.el.querySelector('[data-testid="retry-button"]') || $('composer-input')).focus();
  }

  function discard(local) {
    client.discard(local.ref);
    for (const view of views.values()) view.removeLocal(local.ref);
    updateEmpty();
    composer.focus();
  }

  const composer = createComposer($('composer'), $('composer-input'), $('composer-send'), $('composer-count'), { onSend: sendText });

  // ---------- status ----------
  const status = createStatus(client, { onlineChanged: (on) => composer.setEnabled(on) });
  client.on('state', () => status.update());

  // ---------- user ----------
  function renderUser() {
    const name = username && me(); // a guest name from the gateway is not shown as chosen
    $('user-name').textContent = name || 'Set name';
    paintAvatar($('user-avatar'), name || '?');
    const button = $('user-button');
    if (loggedIn) {
      // The token names the user: the button only shows who that is.
      button.disabled = true;
      button.removeAttribute('aria-haspopup');
      button.setAttribute('aria-label', name ? `Signed in as ${name}` : 'Signing in');
    } else {
      button.setAttribute('aria-label', name ? `Your name: ${name}. Change name` : 'Set your name');
    }
  }

  const nameDialog = createNameDialog($('name-dialog'), {
    onSave(name, purpose) {
      const changed = name !== username;
      username = name;
      store.set(NAME_KEY, name);
      renderUser();
      if (changed) { // the name belongs to the connection
        status.expectReconnect();
        sendWhenJoined = purpose === 'send';
        client.setUsername(name);
      }
      composer.focus();
    },
  });
  $('user-button').addEventListener('click', () => { if (!loggedIn) nameDialog.open(username); });

  // ---------- navigation ----------
  function roomFromLocation() {
    let hash = location.hash.replace(/^#\/?/, '');
    try { hash = decodeURIComponent(hash); } catch { /* keep raw */ }
    const wanted = hash || new URLSearchParams(location.search).get('room') || '';
    if (!wanted) return { room: null };
    return isValidRoom(wanted) ? { room: wanted } : { room: null, invalid: wanted };
  }

  const invalidRoomNotice = (wanted) => showNotice(`“${wanted.slice(0, 80)}” is not a valid room name (${ROOM_RULE}).`);

  function onLocationChange() {
    const parsed = roomFromLocation();
    if (parsed.invalid) invalidRoomNotice(parsed.invalid);
    const name = parsed.room || activeName || views.keys().next().value || DEFAULT_ROOM;
    if (name !== activeName) activate(name);
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
  pill.addEventListener('click', () => { const v = activeView(); if (v) { v.scrollToBottom(); v.listEl.focus({ preventScroll: true }); } });
  // The skip link must not change the hash: the hash names the room.
  document.querySelector('.skip-link').addEventListener('click', (e) => { e.preventDefault(); composer.focus(); });
  wireSidebar();

  window.addEventListener('hashchange', onLocationChange);
  window.addEventListener('online', () => client.retryNow());
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    const view = activeView();
    if (view && view.unread) { view.unread = 0; refreshRoomList(); }
    client.retryNow();
  });

  // ---------- start ----------
  let saved = [];
  try { saved = JSON.parse(store.get(ROOMS_KEY) || '[]'); } catch { saved = []; }
  const first = roomFromLocation();
  if (first.invalid) invalidRoomNotice(first.invalid);
  const startRoom = first.room || saved.find(isValidRoom) || DEFAULT_ROOM;
  // The room shown first is joined by the connection's URL: it goes first.
  addRoom(startRoom);
  for (const name of Array.isArray(saved) ? saved : []) if (isValidRoom(name)) addRoom(name);
  const rawName = (query.get('username') || '').trim();
  if (rawName && !urlName.name) showNotice(`“${rawName.slice(0, 80)}” is not a valid name: ${urlName.error}`);
  if (query.has('room') || query.has('username')) {
    // ?room= and ?username= work as an entry link; from here on the hash
    // names the room, and the name is kept in this browser.
    query.delete('room');
    query.delete('username');
    history.replaceState(null, '', location.pathname + (query.size ? '?' + query : '') + '#' + startRoom);
  }
  activate(startRoom);
  renderUser();
  status.update();
  client.connect(); // with or without a name: reading needs none
  if (matchMedia('(pointer: fine)').matches) composer.focus(); // no surprise keyboard on phones
}

main();
