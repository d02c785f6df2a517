// Chat gateway browser client: plain protocol (PROTOCOL.md section 2).
// No dependencies, no build step. Pieces: util, createConnection,
// createMessageList, createComposer, name dialog, and the wiring in main().
'use strict';

(() => {
  const DEFAULT_ROOM = 'lobby';
  const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;
  const MAX_TEXT = 2000;          // code points
  const MAX_FRAME_BYTES = 8192;   // gateway default MAX_FRAME_BYTES
  const MAX_NAME = 32;
  const GROUP_WINDOW_MS = 5 * 60 * 1000;
  const NAME_KEY = 'chat.username';

  // ---------- util ----------
  const $ = (id) => document.getElementById(id);
  const codePoints = (s) => Array.from(s).length;
  const isValidRoom = (r) => typeof r === 'string' && ROOM_RE.test(r);

  const store = {
    get(key) { try { return localStorage.getItem(key); } catch { return null; } },
    set(key, value) { try { localStorage.setItem(key, value); } catch { /* private mode */ } },
  };

  function validateName(raw) {
    const name = String(raw ?? '').trim();
    if (!name) return { error: 'Please enter a name.' };
    if (codePoints(name) > MAX_NAME) return { error: `At most ${MAX_NAME} characters.` };
    if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return { error: 'No control characters, please.' };
    return { name };
  }

  function roomFromLocation() {
    let hash = location.hash.replace(/^#\/?/, '');
    try { hash = decodeURIComponent(hash); } catch { /* keep raw */ }
    const query = new URLSearchParams(location.search).get('room');
    const wanted = hash || query || DEFAULT_ROOM;
    return isValidRoom(wanted) ? { room: wanted } : { room: DEFAULT_ROOM, invalid: wanted };
  }

  function socketUrl(room) {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host +
      '/websocket?room=' + encodeURIComponent(room);
  }

  function hashHue(str) { // FNV-1a, 32 bit
    let h = 0x811c9dc5;
    for (let i = 0; i < str.length; i++) {
      h ^= str.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return (h >>> 0) % 360;
  }

  function initials(name) {
    const words = name.trim().split(/[\s._-]+/).filter(Boolean);
    const first = (w) => (Array.from(w)[0] || '').toUpperCase();
    if (words.length === 0) return '?';
    return words.length === 1 ? Array.from(words[0]).slice(0, 2).join('').toUpperCase()
      : first(words[0]) + first(words[1]);
  }

  function paintAvatar(el, name) {
    el.textContent = initials(name);
    el.style.setProperty('--hue', String(hashHue(name)));
  }

  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
  function formatTime(ts) {
    const d = new Date(ts);
    return d.toDateString() === new Date().toDateString() ? timeFmt.format(d) : dateTimeFmt.format(d);
  }

  // ---------- connection: one WebSocket with reconnect and jittered backoff ----------
  function createConnection({ url, onFrame, onState, onClose }) {
    const BASE_MS = 500, MAX_MS = 10000, CONNECT_TIMEOUT_MS = 10000, STABLE_MS = 5000;
    let ws = null, attempt = 0, retryTimer = 0, connectTimer = 0, openedAt = 0, stopped = false;
    let state = 'offline';

    const setState = (s, detail) => { state = s; onState(s, detail); };

    function connect() {
      clearTimeout(retryTimer);
      if (stopped) return;
      setState('connecting');
      const sock = new WebSocket(url());
      ws = sock;
      connectTimer = setTimeout(() => { if (sock.readyState === WebSocket.CONNECTING) sock.close(); }, CONNECT_TIMEOUT_MS);
      sock.onopen = () => {
        if (ws !== sock) return;
        clearTimeout(connectTimer);
        openedAt = Date.now();
        setState('online');
      };
      sock.onmessage = (ev) => { if (ws === sock && typeof ev.data === 'string') onFrame(ev.data); };
      sock.onclose = (ev) => {
        if (ws !== sock) return;
        clearTimeout(connectTimer);
        ws = null;
        // Only a connection that stayed up a while resets the backoff, so a
        // server that accepts and immediately closes us is not hammered.
        if (openedAt && Date.now() - openedAt > STABLE_MS) attempt = 0;
        openedAt = 0;
        onClose(ev);
        scheduleRetry();
      };
    }

    function scheduleRetry() {
      if (stopped) return;
      const cap = Math.min(MAX_MS, BASE_MS * 2 ** attempt);
      const delay = Math.round(cap / 2 + Math.random() * cap / 2); // "equal jitter"
      attempt++;
      setState('offline', delay);
      retryTimer = setTimeout(connect, delay);
    }

    function drop() {
      const sock = ws;
      ws = null;
      clearTimeout(connectTimer);
      if (sock) { sock.onopen = sock.onmessage = sock.onclose = null; sock.close(1000, 'bye'); }
    }

    return {
      get state() { return state; },
      connect,
      /** Closes the current socket (if any) and connects again right away. */
      reconnect() { drop(); attempt = 0; stopped = false; connect(); },
      /** Reconnect now if we are waiting out a backoff. */
      nudge() { if (!ws && !stopped) { attempt = 0; connect(); } },
      send(data) {
        if (!ws || ws.readyState !== WebSocket.OPEN) return false;
        ws.send(data);
        return true;
      },
      stop() { stopped = true; clearTimeout(retryTimer); drop(); setState('offline'); },
    };
  }

  // ---------- message list: ordered, deduped by (epoch, id), grouped by author ----------
  function createMessageList(listEl, { pill, empty, isMine }) {
    const entries = [];        // sorted by (epochRank, id): { rank, id, ts, user, el }
    const seen = new Set();    // "epoch\u0000id"
    const epochRank = new Map();

    let stick = true; // is the user following the bottom of the list?
    let dims = '';    // scrollHeight/clientHeight at the last scroll we saw or made
    const measure = () => listEl.scrollHeight + '/' + listEl.clientHeight;
    const isAtBottom = () => listEl.scrollHeight - listEl.scrollTop - listEl.clientHeight < 48;
    const pin = () => { listEl.scrollTop = listEl.scrollHeight; dims = measure(); };
    const scrollToBottom = () => { pin(); stick = true; pill.hidden = true; };

    listEl.addEventListener('scroll', () => {
      if (isAtBottom()) { stick = true; pill.hidden = true; }
      // Only a scroll without a layout change is the user scrolling away;
      // a resize (rotation, keyboard, composer growing) keeps us pinned.
      else if (measure() === dims) stick = false;
      else if (stick) pin();
      dims = measure();
    }, { passive: true });
    const repin = () => { if (stick) pin(); };
    window.addEventListener('resize', repin); // before the clamped scroll event arrives
    if (typeof ResizeObserver === 'function') new ResizeObserver(repin).observe(listEl);
    pill.addEventListener('click', () => { scrollToBottom(); listEl.focus({ preventScroll: true }); });

    function render(msg) {
      const li = document.createElement('li');
      li.className = 'msg';
      li.dataset.testid = 'message';
      li.dataset.id = String(msg.id);
      li.dataset.epoch = msg.epoch;
      if (isMine(msg.username)) li.classList.add('mine');

      const avatar = document.createElement('span');
      avatar.className = 'avatar';
      avatar.setAttribute('aria-hidden', 'true');
      paintAvatar(avatar, msg.username);

      const body = document.createElement('div');
      body.className = 'msg-body';
      const meta = document.createElement('div');
      meta.className = 'msg-meta';
      const author = document.createElement('span');
      author.className = 'msg-author';
      author.dataset.testid = 'message-author';
      author.textContent = msg.username;
      const time = document.createElement('time');
      time.className = 'msg-time';
      const d = new Date(msg.ts);
      time.dateTime = d.toISOString();
      time.title = fullFmt.format(d);
      time.textContent = formatTime(msg.ts);
      meta.append(author, ' ', time);

      const text = document.createElement('div');
      text.className = 'msg-text';
      text.dataset.testid = 'message-text';
      text.textContent = msg.text; // never innerHTML: user data stays text

      body.append(meta, text);
      li.append(avatar, body);
      return li;
    }

    function updateGrouping(i) {
      const e = entries[i];
      if (!e) return;
      const prev = entries[i - 1];
      const continued = !!prev && prev.user === e.user && prev.rank === e.rank &&
        e.ts - prev.ts >= 0 && e.ts - prev.ts < GROUP_WINDOW_MS;
      e.el.classList.toggle('continued', continued);
    }

    /** Adds a message frame; returns false for duplicates. */
    function add(msg) {
      const key = msg.epoch + '\u0000' + msg.id;
      if (seen.has(key)) return false;
      seen.add(key);
      if (!epochRank.has(msg.epoch)) epochRank.set(msg.epoch, epochRank.size);
      const entry = { rank: epochRank.get(msg.epoch), id: msg.id, ts: msg.ts, user: msg.username, el: render(msg) };

      const wasAtBottom = stick || isAtBottom();
      const oldHeight = listEl.scrollHeight;
      // Usually appended; otherwise binary search for the slot.
      let lo = 0, hi = entries.length;
      const before = (a, b) => a.rank < b.rank || (a.rank === b.rank && a.id < b.id);
      if (hi === 0 || before(entries[hi - 1], entry)) lo = hi;
      else while (lo < hi) { const mid = (lo + hi) >> 1; if (before(entries[mid], entry)) lo = mid + 1; else hi = mid; }
      entries.splice(lo, 0, entry);
      listEl.insertBefore(entry.el, entries[lo + 1] ? entries[lo + 1].el : null);
      updateGrouping(lo);
      updateGrouping(lo + 1);
      empty.hidden = true;

      if (wasAtBottom) scrollToBottom();
      else if (lo === entries.length - 1) pill.hidden = false;
      else if (entry.el.offsetTop < listEl.scrollTop) {
        // Inserted above the viewport: keep what the reader sees in place
        // (browser scroll anchoring is off, it fights the bottom pinning).
        listEl.scrollTop += listEl.scrollHeight - oldHeight;
        dims = measure();
      }
      return true;
    }

    function clear() {
      entries.length = 0;
      seen.clear();
      epochRank.clear();
      listEl.replaceChildren();
      empty.hidden = false;
      pill.hidden = true;
    }

    function refreshMine() {
      for (const e of entries) e.el.classList.toggle('mine', isMine(e.user));
    }

    return { add, clear, scrollToBottom, isAtBottom, refreshMine };
  }

  // ---------- composer: textarea + send button ----------
  function createComposer(form, input, button, counter, { onSend }) {
    let enabled = false;
    const basePlaceholder = () => input.dataset.placeholder || 'Message';

    function textValue() { return input.value.trim(); }

    function autosize() {
      input.style.height = 'auto';
      input.style.height = Math.min(input.scrollHeight, 200) + 'px';
    }

    function refresh() {
      const n = codePoints(textValue());
      const over = n > MAX_TEXT;
      counter.textContent = n > MAX_TEXT - 200 ? `${n}/${MAX_TEXT}` : '';
      counter.classList.toggle('over', over);
      input.setAttribute('aria-invalid', String(over));
      button.disabled = !enabled || n === 0 || over;
      form.classList.toggle('offline', !enabled);
      input.placeholder = enabled ? basePlaceholder() : 'Offline — reconnecting…';
    }

    function submit() {
      const text = textValue();
      if (!enabled || !text || codePoints(text) > MAX_TEXT) return;
      if (onSend(text)) { input.value = ''; autosize(); refresh(); }
    }

    input.addEventListener('input', () => { autosize(); refresh(); });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit();
      }
    });
    form.addEventListener('submit', (e) => { e.preventDefault(); submit(); input.focus(); });

    return {
      setEnabled(on) { enabled = on; refresh(); },
      setPlaceholder(p) { input.dataset.placeholder = p; refresh(); },
      restore(text) { if (!input.value) { input.value = text; autosize(); refresh(); } },
      focus() { input.focus(); },
    };
  }

  // ---------- username dialog ----------
  function createNameDialog(dialog, { onSave }) {
    const form = dialog.querySelector('form');
    const input = $('username-input');
    const error = $('name-error');

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const { name, error: msg } = validateName(input.value);
      if (!name) { error.textContent = msg; input.focus(); return; }
      error.textContent = '';
      onSave(name);
      dialog.close();
    });
    $('name-cancel').addEventListener('click', () => dialog.close());

    return {
      open(current) {
        input.value = current || '';
        error.textContent = '';
        if (typeof dialog.showModal === 'function') dialog.showModal(); else dialog.setAttribute('open', '');
        input.focus();
        input.select();
      },
    };
  }

  // ---------- wiring ----------
  function main() {
    let username = validateName(store.get(NAME_KEY)).name || '';
    let room = null; // set by enterRoom()
    let lastSent = null; // { text, at } to restore a draft the server refused
    let settleTimer = 0, settled = false, unread = 0;

    const statusEl = $('status');
    const statusText = statusEl.querySelector('.status-text');
    const notice = $('notice');
    const announcer = $('announcer');

    let noticeTimer = 0;
    function showNotice(text) {
      notice.textContent = text;
      notice.hidden = !text;
      clearTimeout(noticeTimer);
      if (text) noticeTimer = setTimeout(() => { notice.hidden = true; }, 8000);
    }

    const list = createMessageList($('messages'), {
      pill: $('new-pill'), empty: $('empty'), isMine: (u) => !!username && u === username,
    });

    const composer = createComposer($('composer'), $('composer-input'), $('composer-send'), $('composer-count'), {
      onSend(text) {
        const payload = JSON.stringify({ username, text });
        if (new TextEncoder().encode(payload).length > MAX_FRAME_BYTES) {
          showNotice('That message is too large to send.');
          return false;
        }
        if (!conn.send(payload)) return false;
        lastSent = { text, at: Date.now() };
        list.scrollToBottom();
        return true;
      },
    });

    function renderUser() {
      $('user-name').textContent = username || 'Set name';
      paintAvatar($('user-avatar'), username || '?');
      $('user-button').setAttribute('aria-label', username ? `Your name: ${username}. Change name` : 'Set your name');
      list.refreshMine();
    }

    const nameDialog = createNameDialog($('name-dialog'), {
      onSave(name) { username = name; store.set(NAME_KEY, name); renderUser(); composer.focus(); },
    });
    $('user-button').addEventListener('click', () => nameDialog.open(username));

    function announce(text) {
      const line = document.createElement('p');
      line.textContent = text;
      announcer.append(line);
      while (announcer.childElementCount > 5) announcer.firstElementChild.remove();
    }

    function updateTitle() {
      document.title = (unread ? `(${unread}) ` : '') + `#${room} · Chat`;
    }

    function onFrame(raw) {
      let msg;
      try { msg = JSON.parse(raw); } catch { return; }
      if (!msg || msg.type !== 'message' || typeof msg.text !== 'string' ||
          typeof msg.username !== 'string' || !Number.isSafeInteger(msg.id) ||
          typeof msg.epoch !== 'string' || typeof msg.ts !== 'number') return;
      if (msg.room && msg.room !== room) return;
      if (!list.add(msg)) return;
      // History arrives as a burst right after connecting; only announce
      // messages once that burst has gone quiet.
      if (!settled) {
        clearTimeout(settleTimer);
        settleTimer = setTimeout(() => { settled = true; }, 400);
      } else {
        if (msg.username !== username) announce(`${msg.username}: ${msg.text}`);
        if (document.hidden) { unread++; updateTitle(); }
      }
    }

    const STATUS_LABEL = { connecting: 'Connecting…', online: 'Online', offline: 'Offline' };
    let everOnline = false, lostAnnounced = false;
    function onState(state, retryMs) {
      // Screen readers hear only real transitions, not every retry.
      if (state === 'offline' && everOnline && !lostAnnounced) { lostAnnounced = true; announce('Connection lost. Reconnecting…'); }
      if (state === 'online' && lostAnnounced) { lostAnnounced = false; announce('Reconnected.'); }
      if (state === 'online') everOnline = true;
      statusEl.dataset.state = state;
      statusText.textContent = STATUS_LABEL[state];
      statusEl.title = state === 'offline' && retryMs ? `Reconnecting in ${Math.ceil(retryMs / 1000)} s` : '';
      composer.setEnabled(state === 'online');
      if (state === 'online') {
        settled = false;
        clearTimeout(settleTimer);
        settleTimer = setTimeout(() => { settled = true; }, 1000);
      }
    }

    function onClose(ev) {
      const reasons = {
        1003: 'The server refused a frame.',
        1007: 'The server refused the last message.',
        1008: 'Too many messages, slow down.',
        1009: 'The last message was too large.',
        1013: 'The server could not store the last message. Try again.',
      };
      const text = reasons[ev.code];
      if (text) showNotice(ev.reason ? `${text} (${ev.reason})` : text);
      if ([1007, 1009, 1013].includes(ev.code) && lastSent && Date.now() - lastSent.at < 10000) {
        composer.restore(lastSent.text);
      }
      lastSent = null;
    }

    const conn = createConnection({ url: () => socketUrl(room), onFrame, onState, onClose });

    function enterRoom() {
      const parsed = roomFromLocation();
      if (parsed.invalid) showNotice(`“${parsed.invalid.slice(0, 80)}” is not a valid room name (1-64 of A-Z a-z 0-9 _ . -). Showing #${DEFAULT_ROOM}.`);
      if (parsed.room === room) return;
      room = parsed.room;
      $('room-name').textContent = room;
      composer.setPlaceholder(`Message #${room}`);
      unread = 0;
      updateTitle();
      list.clear();
      conn.reconnect();
    }

    $('room-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $('room-input');
      const wanted = input.value.trim().replace(/^#/, '');
      if (!isValidRoom(wanted)) {
        showNotice('Room names are 1-64 characters of A-Z a-z 0-9 _ . -');
        input.focus();
        return;
      }
      input.value = '';
      if (wanted === room) return;
      location.hash = wanted; // hashchange reconnects
      composer.focus();
    });

    window.addEventListener('hashchange', enterRoom);
    window.addEventListener('online', () => conn.nudge());
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) return;
      unread = 0;
      updateTitle();
      conn.nudge();
    });

    renderUser();
    enterRoom();
    if (!username) nameDialog.open('');
    else if (matchMedia('(pointer: fine)').matches) composer.focus(); // no surprise keyboard on phones
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
  else main();
})();
