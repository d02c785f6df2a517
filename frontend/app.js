// The chat page: wires the client library (./client/, which is
// clients/js/src) to the page's parts: the rooms and their views
// (rooms.js, room_view.js), navigation, sidebar, composer, name dialog and
// status. No build step; it runs under the page's strict CSP (no inline
// script or style).
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
import { invalidRoomNotice, roomFromLocation, wireNavigation } from './navigation.js';
import { announce, showNotice } from './notices.js';
import { DEFAULT_ROOM, createRooms } from './rooms.js';
import { wireSidebar } from './sidebar.js';
import { createStatus } from './status.js';
import { fitsFrame, snippet, validateName } from './text.js';

const HISTORY_PAGE = 50;
const NAME_KEY = 'chat.username';

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

  const client = new ChatClient({
    url: () => (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/websocket',
    username: username || undefined,
    getToken: loggedIn && typeof config.token_url === 'string' ? tokenFetcher(config.token_url) : undefined,
    historyLimit: HISTORY_PAGE,
  });
  const me = () => client.me || username;

  const composer = createComposer($('composer'), $('composer-input'), $('composer-send'), $('composer-count'), { onSend: sendText });
  const rooms = createRooms({
    client, me, composer,
    onNearTop: (view) => loadOlder(view), onRetry: retry, onDiscard: discard, onShown: (view) => fillViewport(view),
  });
  const pill = rooms.pill;

  // ---------- what the client reports ----------
  client.on('reset', ({ room }) => {
    const view = rooms.views.get(room);
    if (!view) return;
    if (view.entries.length) announce(`#${room} was reloaded.`);
    view.clearStored();
    if (!view.joined) view.news = -1; // a join that starts over: its replay is not news
  });

  client.on('message', (m) => {
    const view = rooms.views.get(m.room);
    if (!view) return;
    const added = view.addMessage(m);
    if (!added) return;
    const fromOther = m.username !== me();
    if (!m.live) {
      if (fromOther && view.news >= 0) view.news++;
      return;
    }
    if (rooms.isActive(view) && !added.wasAtBottom && added.last && fromOther) pill.hidden = false;
    if (fromOther) {
      if (!rooms.isActive(view) || document.hidden) { view.unread++; rooms.refreshList(); }
      if (rooms.isActive(view)) announce(`${m.username}: ${m.text}`);
    }
    rooms.updateEmpty();
  });

  client.on('joined', (j) => {
    const view = rooms.views.get(j.room);
    if (!view) return;
    view.joined = true;
    view.lastJoinedId = j.lastId;
    if (j.recovered && view.news > 0) {
      if (!rooms.isActive(view) || document.hidden) view.unread += view.news;
      if (rooms.isActive(view)) announce(`${view.news} new message${view.news === 1 ? '' : 's'} in #${view.name}`);
    }
    view.news = 0;
    if (j.reset) {
      const first = view.entries[0];
      view.setAtStart(first ? first.id === 1 : !j.lastId);
    }
    view.presence = new Set(j.presence);
    view.online = j.online;
    if (rooms.isActive(view)) {
      if (view.stick) view.scrollToBottom();
      rooms.refreshOnline();
      fillViewport(view);
    }
    rooms.refreshList();
    rooms.updateEmpty();
    if (sendWhenJoined && rooms.isActive(view)) { sendWhenJoined = false; composer.submit(); }
  });

  client.on('delete', ({ room, id }) => {
    const view = rooms.views.get(room);
    if (view) { view.removeById(id); rooms.updateEmpty(); }
  });

  client.on('presence', ({ room, users, online }) => {
    const view = rooms.views.get(room);
    if (!view) return;
    view.presence = new Set(users);
    view.online = online;
    if (rooms.isActive(view)) rooms.refreshOnline();
  });

  client.on('send', (s) => {
    const view = rooms.views.get(s.room);
    const local = view && view.locals.get(s.ref);
    if (!local) return; // not shown yet (send() still running), or discarded
    if (s.state === 'acked') view.promote(s.ref, s.id, s.ts);
    else view.setLocalState(local, s.state, s.error && (ERROR_TEXT[s.error.code] || s.error.message || s.error.code));
    if (s.state === 'failed') announce(`Message not sent: ${snippet(local.text)}`);
    rooms.updateEmpty();
  });

  client.on('welcome', () => {
    if (loggedIn) username = client.me;
    for (const view of rooms.views.values()) view.markMine();
    renderUser();
    rooms.refreshOnline();
  });

  client.on('disconnect', ({ code, reason, wasOpen }) => {
    for (const view of rooms.views.values()) { view.joined = false; view.history.loading = false; }
    rooms.updateEmpty();
    if (wasOpen && code >= 1002 && code !== 1006 && reason) showNotice(`Disconnected: ${reason}`);
  });

  client.on('error', (e) => {
    if (e.kind === 'join' && e.room) {
      showNotice(`Could not join #${e.room}: ${e.message || e.code}`);
      rooms.remove(e.room, { leave: false });
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
    rooms.updateEmpty();
    client.loadHistory(view.name, { before, limit: HISTORY_PAGE }).then(({ messages, atStart }) => {
      view.history.loading = false;
      view.addOlder(messages);
      const first = view.entries[0];
      view.setAtStart(atStart || (!!first && first.id === 1));
      if (rooms.isActive(view)) fillViewport(view);
      rooms.updateEmpty();
    }, (error) => {
      view.history.loading = false;
      rooms.updateEmpty();
      if (error.code === 'unavailable') setTimeout(() => fillViewport(view), 2000);
    });
  }

  /** Loads older messages while the list is too short to scroll. */
  function fillViewport(view) {
    if (!rooms.isActive(view) || view.history.atStart) return;
    if (view.listEl.scrollHeight <= view.listEl.clientHeight + 8) loadOlder(view);
  }

  // ---------- sending ----------
  function sendText(text) {
    const view = rooms.active();
    if (!view || !client.online) return false;
    if (!username) { nameDialog.open('', 'send'); return false; } // the text stays in the composer
    if (!fitsFrame(view.name, text)) { showNotice('That message is too large to send.'); return false; }
    const send = client.send(view.name, text);
    view.addLocal(send);
    rooms.updateEmpty();
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
    for (const view of rooms.views.values()) view.removeLocal(local.ref);
    rooms.updateEmpty();
    composer.focus();
  }


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
  // The skip link must not change the hash: the hash names the room.
  document.querySelector('.skip-link').addEventListener('click', (e) => { e.preventDefault(); composer.focus(); });
  wireSidebar();
  wireNavigation(rooms, composer);
  window.addEventListener('online', () => client.retryNow());
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    const view = rooms.active();
    if (view && view.unread) { view.unread = 0; rooms.refreshList(); }
    client.retryNow();
  });

  // ---------- start ----------
  const saved = rooms.saved();
  const first = roomFromLocation();
  if (first.invalid) invalidRoomNotice(first.invalid);
  const startRoom = first.room || saved.find(isValidRoom) || DEFAULT_ROOM;
  // The room shown first is joined by the connection's URL: it goes first.
  rooms.add(startRoom);
  for (const name of saved) if (isValidRoom(name)) rooms.add(name);
  const rawName = (query.get('username') || '').trim();
  if (rawName && !urlName.name) showNotice(`“${rawName.slice(0, 80)}” is not a valid name: ${urlName.error}`);
  if (query.has('room') || query.has('username')) {
    // ?room= and ?username= work as an entry link; from here on the hash
    // names the room, and the name is kept in this browser.
    query.delete('room');
    query.delete('username');
    history.replaceState(null, '', location.pathname + (query.size ? '?' + query : '') + '#' + startRoom);
  }
  rooms.activate(startRoom);
  renderUser();
  status.update();
  client.connect(); // with or without a name: reading needs none
  if (matchMedia('(pointer: fine)').matches) composer.focus(); // no surprise keyboard on phones
}

main();
