// Chat gateway browser client, chat.v1 protocol (docs/protocol.md sections 3-4).
// No dependencies, no build step; runs under the gateway's strict CSP (no
// inline script or style; element.style is only touched through the CSSOM).
//
// Pieces: util, links, createSocket (reconnect with jittered backoff),
// rooms (per-room model + its <ol>), sending (pending/sent/failed by ref),
// sidebar (rooms, unread counts, who is online), composer, name dialog, and
// the wiring in main(). Every piece of user data reaches the DOM as text
// (textContent / text nodes / attribute values), never as HTML.
//
// The page connects at once, without a name: the gateway then names the
// connection (a guest name, in `welcome`), so a visitor reads the room and
// sees who is online right away. The name dialog opens only when a visitor
// without a name sends (or clicks their name); saving reconnects with
// ?username=, resuming every room (since + epoch). The page's URL may preset
// the room (?room=dev) and the name (?username=alice).
'use strict';

(() => {
  const DEFAULT_ROOM = 'lobby';
  const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;
  const MAX_TEXT = 2000;          // code points
  const MAX_FRAME_BYTES = 8192;   // gateway default MAX_FRAME_BYTES
  const MAX_NAME = 32;
  const GROUP_WINDOW_MS = 5 * 60 * 1000;
  const HISTORY_PAGE = 50;
  const ACK_TIMEOUT_MS = 15000;
  const NAME_KEY = 'chat.username';
  const ROOMS_KEY = 'chat.rooms';
  const SUBPROTOCOL = 'chat.v1';

  // ---------- util ----------
  const $ = (id) => document.getElementById(id);
  const codePoints = (s) => Array.from(s).length;
  const isValidRoom = (r) => typeof r === 'string' && ROOM_RE.test(r);

  /** Makes an element; attrs are set as properties or dataset/aria attributes, never as HTML. */
  function h(tag, attrs, ...children) {
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

  function avatar(name, extraClass) {
    const el = h('span', { class: 'avatar' + (extraClass ? ' ' + extraClass : ''), 'aria-hidden': 'true' });
    paintAvatar(el, name);
    return el;
  }
  function paintAvatar(el, name) {
    el.textContent = initials(name);
    el.style.setProperty('--hue', String(hashHue(name))); // CSSOM: allowed by the CSP
  }

  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
  const sameDay = (a, b) => new Date(a).toDateString() === new Date(b).toDateString();
  const dayKey = (item) => (item.day ??= new Date(item.ts).toDateString());
  function dayLabel(ts) {
    const now = Date.now();
    if (sameDay(ts, now)) return 'Today';
    if (sameDay(ts, now - 86400000)) return 'Yesterday';
    return dayFmt.format(new Date(ts));
  }

  let refCounter = 0;
  function newRef() {
    const rand = new Uint32Array(2);
    crypto.getRandomValues(rand);
    return 'c' + (++refCounter).toString(36) + '-' + rand[0].toString(36) + rand[1].toString(36);
  }

  // ---------- links: only http(s), built with DOM APIs ----------
  const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  const CLOSERS = { ')': '(', ']': '[', '}': '{' };
  function trimUrl(url) {
    for (;;) {
      const c = url[url.length - 1];
      if ('.,;:!?*_~\''.includes(c)) { url = url.slice(0, -1); continue; }
      if (CLOSERS[c]) {
        const opens = url.split(CLOSERS[c]).length - 1;
        const closes = url.split(c).length - 1;
        if (closes > opens) { url = url.slice(0, -1); continue; }
      }
      return url;
    }
  }
  /** Appends text to parent, with http(s) URLs as links. Text nodes only. */
  function appendLinkified(parent, text) {
    let last = 0;
    URL_RE.lastIndex = 0;
    for (let m; (m = URL_RE.exec(text));) {
      const raw = trimUrl(m[0]);
      URL_RE.lastIndex = m.index + Math.max(raw.length, 1);
      let url;
      try { url = new URL(raw); } catch { continue; }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
      if (m.index > last) parent.append(text.slice(last, m.index));
      const a = document.createElement('a');
      a.href = url.href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.textContent = raw;
      parent.append(a);
      last = m.index + raw.length;
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  // ---------- login: a token from TOKEN_URL, renewed before it expires ----------
  function createLogin(sendRefresh) {
    const login = { tokenUrl: '', current: '', exp: 0, timer: 0 };
    const expOf = (token) => {
      try {
        const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
        return Number(JSON.parse(atob(part)).exp) || 0;
      } catch { return 0; }
    };
    async function fetchToken() {
      const res = await fetch(login.tokenUrl, { credentials: 'same-origin', cache: 'no-store' });
      if (!res.ok) throw new Error(`token: HTTP ${res.status}`);
      const text = (await res.text()).trim();
      let token = text;
      try { token = JSON.parse(text).token ?? text; } catch { /* a bare token */ }
      return String(token);
    }
    function scheduleRefresh() {
      clearTimeout(login.timer);
      if (!login.exp) return;
      // A minute before exp (at least 5 s from now), on the open connection.
      const inMs = Math.max(5000, login.exp * 1000 - Date.now() - 60000);
      login.timer = setTimeout(async () => {
        try {
          login.current = await fetchToken();
          login.exp = expOf(login.current);
          sendRefresh(login.current);
          scheduleRefresh();
        } catch { login.timer = setTimeout(scheduleRefresh, 10000); }
      }, inMs);
    }
    /** A token valid for at least a minute more, fetched when needed; '' when none comes. */
    login.token = async () => {
      if (!login.current || login.exp * 1000 < Date.now() + 60000) {
        try {
          login.current = await fetchToken();
          login.exp = expOf(login.current);
        } catch { return ''; }
      }
      scheduleRefresh();
      return login.current;
    };
    return login;
  }

  // ---------- socket: one WebSocket, reconnect with jittered exponential backoff ----------
  function createSocket({ url, onOpen, onFrame, onDown, onState }) {
    const BASE_MS = 500, MAX_MS = 8000, CONNECT_TIMEOUT_MS = 8000, STABLE_MS = 5000;
    let ws = null, attempt = 0, retryTimer = 0, connectTimer = 0, openedAt = 0, stopped = true;
    let state = 'connecting', retryAt = 0;

    const setState = (s) => { state = s; onState(s); };

    function connect() {
      clearTimeout(retryTimer);
      stopped = false;
      setState('connecting');
      let sock;
      try { sock = new WebSocket(url(), SUBPROTOCOL); } catch { scheduleRetry(); return; }
      ws = sock;
      connectTimer = setTimeout(() => { if (sock.readyState === WebSocket.CONNECTING) sock.close(); }, CONNECT_TIMEOUT_MS);
      sock.onopen = () => {
        if (ws !== sock) return;
        clearTimeout(connectTimer);
        openedAt = Date.now();
        setState('online');
        onOpen();
      };
      sock.onmessage = (ev) => {
        if (ws !== sock || typeof ev.data !== 'string') return;
        // chat.v1 may batch several frames into one, separated by '\n'.
        for (const line of ev.data.split('\n')) {
          if (!line.trim()) continue;
          let frame;
          try { frame = JSON.parse(line); } catch { continue; }
          if (frame && typeof frame === 'object') onFrame(frame);
          if (ws !== sock) return; // a handler dropped the socket
        }
      };
      sock.onclose = (ev) => {
        if (ws !== sock) return;
        clearTimeout(connectTimer);
        ws = null;
        // Only a connection that stayed up a while resets the backoff, so a
        // server that accepts and then closes us at once is not hammered.
        if (openedAt && Date.now() - openedAt > STABLE_MS) attempt = 0;
        const wasOpen = !!openedAt;
        openedAt = 0;
        // 4002: an operator disconnected this user; no reconnect by itself
        // (docs/protocol.md section 10): a reload connects again.
        if (ev.code === 4002) {
          stopped = true;
          setState('offline');
          onDown(ev, wasOpen);
          return;
        }
        onDown(ev, wasOpen);
        scheduleRetry();
      };
    }

    function scheduleRetry() {
      if (stopped) return;
      const cap = Math.min(MAX_MS, BASE_MS * 2 ** attempt);
      const delay = Math.round(cap / 2 + Math.random() * cap / 2); // "equal jitter"
      attempt++;
      retryAt = Date.now() + delay;
      setState('offline');
      retryTimer = setTimeout(connect, delay);
    }

    function drop() {
      const sock = ws;
      ws = null;
      clearTimeout(connectTimer);
      if (sock) { sock.onopen = sock.onmessage = sock.onclose = null; sock.close(1000, 'bye'); }
      return !!sock && !!openedAt;
    }

    return {
      get state() { return state; },
      get retryAt() { return retryAt; },
      get stopped() { return stopped; },
      connect,
      /** Closes the current socket (if any) and connects again at once. */
      restart() {
        const wasOpen = drop();
        openedAt = 0;
        if (wasOpen) onDown({ code: 1000, reason: 'restart' }, true);
        attempt = 0;
        connect();
      },
      /** Reconnects now if waiting out a backoff. */
      nudge() { if (!ws && !stopped) { attempt = 0; connect(); } },
      send(obj) {
        if (!ws || ws.readyState !== WebSocket.OPEN) return false;
        ws.send(JSON.stringify(obj));
        return true;
      },
    };
  }

  // ---------- wiring ----------
  function main() {
    const query = new URLSearchParams(location.search);
    const urlName = query.has('username') ? validateName(query.get('username')) : {};
    if (urlName.name) store.set(NAME_KEY, urlName.name); // as if chosen in the dialog
    let username = urlName.name || validateName(store.get(NAME_KEY)).name || ''; // '' until the visitor picks one
    let me = username;           // the name the gateway confirmed in `welcome` (a guest name without one)
    let sendWhenJoined = false;  // the composer's text waits for the reconnect with the new name
    let online = false;          // welcome received on the current socket
    let activeName = null;
    const rooms = new Map();     // name -> room (insertion order = sidebar order)
    const refs = new Map();      // ref -> { kind: 'message'|'join'|'history', room, local? }

    const statusEl = $('status');
    const statusText = statusEl.querySelector('.status-text');
    const banner = $('banner');
    const bannerText = $('banner-text');
    const notice = $('notice');
    const announcer = $('announcer');
    const listSlot = $('list-slot');
    const emptyEl = $('empty');
    const loadingEl = $('history-loading');
    const pill = $('new-pill');
    const roomListEl = $('room-list');
    const onlineListEl = $('online-list');
    const sidebar = $('sidebar');
    const scrim = $('scrim');
    const menuButton = $('menu-button');
    const menuBadge = $('menu-badge');

    let noticeTimer = 0;
    function showNotice(text) {
      notice.textContent = text;
      notice.hidden = !text;
      clearTimeout(noticeTimer);
      if (text) noticeTimer = setTimeout(() => { notice.hidden = true; }, 8000);
    }

    function announce(text) {
      announcer.append(h('p', null, text));
      while (announcer.childElementCount > 5) announcer.firstElementChild.remove();
    }

    // ---------- rooms ----------
    function saveRooms() { store.set(ROOMS_KEY, JSON.stringify([...rooms.keys()])); }

    function createRoom(name) {
      const listEl = h('ol', {
        class: 'messages', testid: 'messages', role: 'log', 'aria-live': 'off',
        'aria-label': `Messages in #${name}`, tabIndex: 0, 'data-room': name,
      });
      const room = {
        name, listEl,
        epoch: null, lastJoinedId: null,
        entries: [],            // stored messages, sorted by id: { id, ts, user, text, el }
        byId: new Map(),
        locals: [],             // not yet stored (as far as we know): { ref, text, ts, user, state, el }
        presence: new Set(),
        unread: 0,
        join: 'none',           // 'none' | 'joining' | 'joined'
        buffer: null,           // frames that arrive while joining
        history: { loading: false, atStart: false, ref: null },
        stick: true, savedTop: 0, dims: '',
        startEl: null,
      };
      const measure = () => listEl.scrollHeight + '/' + listEl.clientHeight;
      room.measure = measure;
      listEl.addEventListener('scroll', () => {
        if (room !== rooms.get(activeName)) return;
        if (isAtBottom(room)) { room.stick = true; pill.hidden = true; }
        // Only a scroll without a layout change is the user scrolling away;
        // a resize (rotation, keyboard, composer growing) keeps us pinned.
        else if (measure() === room.dims) room.stick = false;
        else if (room.stick) pin(room);
        room.dims = measure();
        if (listEl.scrollTop < 160) loadOlder(room);
      }, { passive: true });
      return room;
    }

    // Keep the bottom in view when the list resizes (rotation, on-screen
    // keyboard, composer growing, banner showing), before any clamped scroll.
    const repin = () => { const r = activeRoom(); if (r && r.stick) pin(r); };
    window.addEventListener('resize', repin);
    if (typeof ResizeObserver === 'function') new ResizeObserver(repin).observe(listSlot);

    const isAtBottom = (room) => room.listEl.scrollHeight - room.listEl.scrollTop - room.listEl.clientHeight < 48;
    function pin(room) { room.listEl.scrollTop = room.listEl.scrollHeight; room.dims = room.measure(); }
    function scrollToBottom(room) { pin(room); room.stick = true; pill.hidden = true; }

    const activeRoom = () => rooms.get(activeName) || null;
    const isActive = (room) => room && room.name === activeName;
    const itemCount = (room) => room.entries.length + room.locals.length;
    const itemAt = (room, i) => (i < room.entries.length ? room.entries[i] : room.locals[i - room.entries.length]);

    function render({ id, ts, user, text, state }) {
      const li = h('li', { class: 'msg', testid: 'message', 'data-state': state, 'data-author': user });
      if (id !== undefined) li.dataset.id = String(id);
      if (user === me) li.classList.add('mine');
      const time = h('time', { class: 'msg-time', testid: 'message-time' });
      const body = h('div', { class: 'msg-body' },
        h('div', { class: 'msg-meta' },
          h('span', { class: 'msg-author', testid: 'message-author' }, user), ' ', time),
        (() => { const t = h('div', { class: 'msg-text', testid: 'message-text' }); appendLinkified(t, text); return t; })(),
        h('div', { class: 'msg-status', testid: 'message-status' }));
      li.append(avatar(user), body);
      setTime(li, ts);
      return li;
    }
    function setTime(li, ts) {
      const time = li.querySelector('time');
      const d = new Date(ts);
      time.dateTime = d.toISOString();
      time.title = fullFmt.format(d);
      time.textContent = timeFmt.format(d);
    }

    /** Marks grouping (same author, same day, < 5 min apart) and day separators around index i. */
    function regroup(room, from, to) {
      const n = itemCount(room);
      for (let i = Math.max(0, from); i <= Math.min(n - 1, to); i++) {
        const e = itemAt(room, i), prev = i > 0 ? itemAt(room, i - 1) : null;
        const newDay = !prev || dayKey(prev) !== dayKey(e);
        if (newDay) e.el.dataset.day = dayLabel(e.ts); else delete e.el.dataset.day;
        e.el.classList.toggle('continued', !!prev && !newDay && prev.user === e.user &&
          Math.abs(e.ts - prev.ts) < GROUP_WINDOW_MS);
      }
    }

    const regroupAll = (room) => regroup(room, 0, itemCount(room) - 1);

    function updateEmpty() {
      const room = activeRoom();
      emptyEl.hidden = !room || itemCount(room) > 0 || !room.epoch || room.join === 'joining';
      loadingEl.hidden = !room || !room.history.loading;
    }

    /** Inserts a stored message (or a promoted local one) in id order. */
    function insertEntry(room, entry) {
      const list = room.entries;
      let lo = 0, hi = list.length;
      if (hi === 0 || list[hi - 1].id < entry.id) lo = hi;
      else while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid].id < entry.id) lo = mid + 1; else hi = mid; }
      list.splice(lo, 0, entry);
      room.byId.set(entry.id, entry);
      const next = list[lo + 1] ? list[lo + 1].el : (room.locals[0] ? room.locals[0].el : null);
      room.listEl.insertBefore(entry.el, next);
      regroup(room, lo, lo + 1);
      return lo;
    }

    /** A local message became stored: give it its id and move it into place. */
    function promote(room, local, id, ts) {
      const i = room.locals.indexOf(local);
      if (i >= 0) room.locals.splice(i, 1);
      refs.delete(local.ref);
      clearTimeout(local.timer);
      if (room.byId.has(id)) { // the stored copy is shown already
        local.el.remove();
        regroupAll(room);
        return;
      }
      local.el.dataset.id = String(id);
      setLocalState(local, 'sent');
      if (typeof ts === 'number') { local.ts = ts; setTime(local.el, ts); }
      insertEntry(room, { id, ts: local.ts, user: local.user, text: local.text, el: local.el });
      regroupAll(room);
    }

    /** Adds a stored message frame; returns true when it was new. */
    function addMessage(room, m, { live }) {
      if (room.byId.has(m.id)) return false;
      // A message of ours that was pending or failed without an ack: adopt it
      // by (username, text), oldest first, so it is never shown twice.
      if (m.username === me) {
        const local = room.locals.find((l) => l.text === m.text);
        if (local) { promote(room, local, m.id, m.ts); return true; }
      }
      const wasAtBottom = isActive(room) && (room.stick || isAtBottom(room));
      const entry = { id: m.id, ts: m.ts, user: m.username, text: m.text, el: render({ id: m.id, ts: m.ts, user: m.username, text: m.text, state: 'sent' }) };
      const oldHeight = room.listEl.scrollHeight;
      const at = insertEntry(room, entry);
      if (isActive(room)) {
        if (wasAtBottom) scrollToBottom(room);
        else if (at === room.entries.length - 1) { if (live && m.username !== me) pill.hidden = false; }
        else if (entry.el.offsetTop < room.listEl.scrollTop) {
          room.listEl.scrollTop += room.listEl.scrollHeight - oldHeight;
          room.dims = room.measure();
        }
      }
      if (live && m.username !== me) {
        if (!isActive(room) || document.hidden) { room.unread++; renderRoomList(); updateTitle(); }
        if (isActive(room)) announce(`${m.username}: ${m.text}`);
      }
      return true;
    }

    function clearStored(room) {
      for (const e of room.entries) e.el.remove();
      room.entries.length = 0;
      room.byId.clear();
      room.history = { loading: false, atStart: false, ref: null };
      setAtStart(room, false);
    }

    function setAtStart(room, atStart) {
      room.history.atStart = atStart;
      if (atStart && !room.startEl) {
        room.startEl = h('li', { class: 'list-start', testid: 'history-start' },
          `This is the beginning of #${room.name}.`);
        // Keep what the reader sees in place: the marker goes above it.
        const el = room.listEl, before = el.scrollHeight, top = el.scrollTop;
        el.prepend(room.startEl);
        if (top > 0 || entriesAbove(room)) el.scrollTop = top + (el.scrollHeight - before);
      } else if (!atStart && room.startEl) {
        room.startEl.remove();
        room.startEl = null;
      }
    }

    // True when messages are shown (the marker then lands above them).
    function entriesAbove(room) { return room.entries.length > 0; }

    function isValidMessage(m) {
      return m && typeof m.text === 'string' && typeof m.username === 'string' &&
        Number.isSafeInteger(m.id) && m.id > 0 && typeof m.ts === 'number';
    }

    // ---------- joining and resuming ----------
    function resumePoint(room) {
      if (!room.epoch) return null;
      const last = room.entries.length ? room.entries[room.entries.length - 1].id : room.lastJoinedId;
      return Number.isSafeInteger(last) ? { since: last, epoch: room.epoch } : null;
    }

    function beginJoin(room) {
      room.join = 'joining';
      room.buffer = [];
      updateEmpty();
    }

    function sendJoin(room) {
      const ref = 'j-' + newRef();
      refs.set(ref, { kind: 'join', room: room.name });
      const frame = { type: 'join', room: room.name, ref };
      const resume = resumePoint(room);
      if (resume) Object.assign(frame, resume);
      beginJoin(room);
      socket.send(frame);
    }

    function onJoined(f) {
      const room = rooms.get(f.room);
      if (!room) return;
      const buffered = room.join === 'joining' ? room.buffer : [];
      const wasResume = f.recovered !== undefined;
      const recovered = f.recovered === true && room.epoch === f.epoch;
      const hadMessages = room.entries.length > 0;
      if (!recovered) {
        // A fresh join, an epoch change, or a gap too old to fill: the
        // messages that came with this join replace the room's list.
        clearStored(room);
        room.epoch = f.epoch;
      }
      room.join = 'joined';
      room.buffer = null;
      room.lastJoinedId = Number.isSafeInteger(f.last_id) ? f.last_id : 0;
      let news = 0; // messages of others that came while we were away
      for (const m of buffered) {
        if (m.epoch !== room.epoch) continue;
        if (addMessage(room, m, { live: false }) && recovered && m.username !== me) news++;
      }
      if (news) {
        if (!isActive(room) || document.hidden) room.unread += news;
        if (isActive(room)) announce(`${news} new message${news === 1 ? '' : 's'} in #${room.name}`);
      }
      if (!recovered) {
        const first = room.entries[0];
        setAtStart(room, first ? first.id === 1 : room.lastJoinedId === 0);
        if (hadMessages && wasResume) announce(`#${room.name} was reloaded.`);
      }
      room.presence = new Set(Array.isArray(f.presence) ? f.presence.map((p) => p && p.username).filter((u) => typeof u === 'string') : []);
      if (isActive(room)) {
        if (room.stick) scrollToBottom(room);
        renderOnline();
        fillViewport(room);
      }
      renderRoomList();
      updateEmpty();
      if (sendWhenJoined && isActive(room)) { sendWhenJoined = false; composer.submit(); }
    }

    function onMessageFrame(m) {
      if (!isValidMessage(m)) return;
      const room = rooms.get(m.room || activeName);
      if (!room) return;
      if (room.join === 'joining') { room.buffer.push(m); return; }
      if (room.epoch && m.epoch !== room.epoch) {
        // No fresh `joined` came before a new epoch: start the list over.
        clearStored(room);
        room.epoch = m.epoch;
      }
      addMessage(room, m, { live: true });
      updateEmpty();
    }

    // ---------- scroll-back ----------
    function loadOlder(room) {
      if (!online || room.join !== 'joined' || room.history.loading || room.history.atStart) return;
      const ref = 'h-' + newRef();
      const frame = { type: 'history', room: room.name, limit: HISTORY_PAGE, ref };
      if (room.entries.length) frame.before = room.entries[0].id;
      else if (room.lastJoinedId === 0) return;
      if (!socket.send(frame)) return;
      refs.set(ref, { kind: 'history', room: room.name });
      room.history.loading = true;
      room.history.ref = ref;
      room.history.epoch = room.epoch;
      updateEmpty();
    }

    function onHistory(f) {
      const room = rooms.get(f.room);
      if (!room || !room.history.loading) return;
      refs.delete(room.history.ref);
      room.history.loading = false;
      const messages = (Array.isArray(f.messages) ? f.messages : []).filter((m) => isValidMessage(m) && m.epoch === room.epoch);
      if (room.history.epoch !== room.epoch) { updateEmpty(); return; }
      const el = room.listEl;
      const active = isActive(room);
      const before = el.scrollHeight, top = el.scrollTop;
      for (const m of messages) {
        if (room.byId.has(m.id)) continue;
        insertEntry(room, { id: m.id, ts: m.ts, user: m.username, text: m.text, el: render({ id: m.id, ts: m.ts, user: m.username, text: m.text, state: 'sent' }) });
      }
      const first = room.entries[0];
      setAtStart(room, messages.length < HISTORY_PAGE || (first && first.id === 1));
      if (active) {
        // Keep what the reader looks at in place.
        el.scrollTop = top + (el.scrollHeight - before);
        room.dims = room.measure();
        fillViewport(room);
      }
      updateEmpty();
    }

    /** Loads older messages while the list is too short to scroll. */
    function fillViewport(room) {
      if (!isActive(room) || room.history.atStart) return;
      if (room.listEl.scrollHeight <= room.listEl.clientHeight + 8) loadOlder(room);
    }

    // ---------- sending ----------
    const snippet = (text) => (codePoints(text) > 40 ? Array.from(text).slice(0, 40).join('') + '…' : text);
    const STATE_LABEL = { pending: 'Sending…', sent: '', failed: 'Not sent' };
    function setLocalState(local, state, why) {
      local.state = state;
      local.el.dataset.state = state;
      const status = local.el.querySelector('.msg-status');
      status.replaceChildren();
      if (state === 'pending') status.append(h('span', { class: 'msg-pending' }, STATE_LABEL.pending));
      if (state === 'failed') {
        status.append(
          h('span', { class: 'msg-error', testid: 'message-error' }, why ? `Not sent: ${why}` : 'Not sent'),
          h('button', { type: 'button', class: 'link-button', testid: 'retry-button', onclick: () => retry(local),
            'aria-label': `Retry sending “${snippet(local.text)}”` }, 'Retry'),
          h('button', { type: 'button', class: 'link-button', testid: 'discard-button', onclick: () => discard(local),
            'aria-label': `Discard “${snippet(local.text)}”` }, 'Discard'));
        announce(`Message not sent: ${snippet(local.text)}`);
      }
    }

    function transmit(local) {
      setLocalState(local, 'pending');
      refs.set(local.ref, { kind: 'message', room: local.room, local });
      clearTimeout(local.timer);
      if (!online || !socket.send({ type: 'message', room: local.room, text: local.text, ref: local.ref })) {
        fail(local, 'you are offline');
        return;
      }
      local.timer = setTimeout(() => { if (local.state === 'pending') fail(local, 'no answer from the server'); }, ACK_TIMEOUT_MS);
    }

    function fail(local, why) {
      clearTimeout(local.timer);
      if (local.state === 'sent') return;
      setLocalState(local, 'failed', why);
    }

    function retry(local) {
      if (local.state !== 'failed') return;
      if (!online) { socket.nudge(); showNotice('Still offline. The message is kept; retry once reconnected.'); return; }
      const hadFocus = local.el.contains(document.activeElement);
      transmit(local); // the same ref: the gateway stores it at most once per connection
      if (hadFocus) (local.el.querySelector('[data-testid="retry-button"]') || $('composer-input')).focus();
    }

    function discard(local) {
      const room = rooms.get(local.room);
      clearTimeout(local.timer);
      refs.delete(local.ref);
      if (room) {
        const i = room.locals.indexOf(local);
        if (i >= 0) room.locals.splice(i, 1);
      }
      local.el.remove();
      if (room) regroupAll(room);
      updateEmpty();
      composer.focus();
    }

    function sendText(text) {
      const room = activeRoom();
      if (!room || !online) return false;
      if (!username) { nameDialog.open('', 'send'); return false; } // the text stays in the composer
      if (new TextEncoder().encode(JSON.stringify({ type: 'message', room: room.name, text, ref: 'x'.repeat(40) })).length > MAX_FRAME_BYTES) {
        showNotice('That message is too large to send.');
        return false;
      }
      const local = { ref: newRef(), room: room.name, text, ts: Date.now(), user: me, state: 'pending', timer: 0 };
      local.el = render({ ts: local.ts, user: me, text, state: 'pending' });
      local.el.dataset.ref = local.ref;
      room.locals.push(local);
      room.listEl.append(local.el);
      regroup(room, itemCount(room) - 2, itemCount(room) - 1);
      transmit(local);
      scrollToBottom(room);
      updateEmpty();
      return true;
    }

    function onAck(f) {
      const r = refs.get(f.ref);
      if (!r || r.kind !== 'message') return;
      const room = rooms.get(r.room);
      if (room && Number.isSafeInteger(f.id)) promote(room, r.local, f.id, f.ts);
    }

    const ERROR_TEXT = {
      unavailable: 'the server could not store it',
      rate_limited: 'too many messages, slow down',
      too_large: 'too large',
      not_joined: 'not in this room',
    };
    function onError(f) {
      const r = f.ref ? refs.get(f.ref) : null;
      if (!r) { if (f.message) showNotice(`Server: ${f.message}`); return; }
      const room = rooms.get(r.room);
      if (r.kind === 'message') {
        fail(r.local, ERROR_TEXT[f.code] || f.message || f.code);
        if (f.code === 'not_joined' && room && online) sendJoin(room);
        return;
      }
      refs.delete(f.ref);
      if (r.kind === 'history' && room) {
        room.history.loading = false;
        updateEmpty();
        if (f.code === 'unavailable') setTimeout(() => fillViewport(room), 2000);
        return;
      }
      if (r.kind === 'join' && room) {
        if (f.code === 'unavailable') {
          room.join = 'none';
          setTimeout(() => { if (online && rooms.get(room.name) === room && room.join === 'none') sendJoin(room); }, 2000);
          return;
        }
        showNotice(`Could not join #${room.name}: ${f.message || f.code}`);
        removeRoom(room, false);
      }
    }

    function onPresence(f) {
      const room = rooms.get(f.room);
      if (!room || typeof f.username !== 'string') return;
      if (f.event === 'join') room.presence.add(f.username);
      else if (f.event === 'leave') room.presence.delete(f.username);
      if (isActive(room)) renderOnline();
    }

    // ---------- connection ----------
    let urlRoom = null;
    function socketUrl() {
      const room = activeRoom() || rooms.values().next().value;
      urlRoom = room ? room.name : DEFAULT_ROOM;
      const q = new URLSearchParams({ room: urlRoom });
      if (username) q.set('username', username); // else the gateway names us (a guest)
      const resume = room && resumePoint(room);
      if (resume) { q.set('since', String(resume.since)); q.set('epoch', resume.epoch); }
      return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/websocket?' + q;
    }

    function onOpen() {
      // With login on and a TOKEN_URL, the token is the first frame
      // (docs/protocol.md section 10); the gateway answers with welcome.
      if (login.tokenUrl) {
        login.token().then((token) => { if (token) socket.send({ type: 'auth', token }); });
      }
      const room = rooms.get(urlRoom);
      if (room) beginJoin(room);
    }

    function onFrame(f) {
      switch (f.type) {
        case 'message': onMessageFrame(f); break;
        case 'welcome': onWelcome(f); break;
        case 'joined': onJoined(f); break;
        case 'ack': onAck(f); break;
        case 'error': onError(f); break;
        case 'presence': onPresence(f); break;
        case 'history': onHistory(f); break;
        default: break;
      }
    }

    function onWelcome(f) {
      online = { conn: f.conn };
      // Logged in: the token's user is who this page is, no name to pick.
      if (login.tokenUrl && typeof f.username === 'string' && f.username) username = f.username;
      if (typeof f.username === 'string' && f.username && f.username !== me) {
        me = f.username;
        for (const room of rooms.values()) {
          for (const e of room.entries) e.el.classList.toggle('mine', e.user === me);
        }
        renderUser();
      }
      if (typeof f.gateway === 'string') statusEl.dataset.gateway = f.gateway;
      for (const room of rooms.values()) if (room.name !== urlRoom) sendJoin(room);
      updateStatus();
    }

    function onDown(ev, wasOpen) {
      online = false;
      for (const room of rooms.values()) {
        room.join = 'none';
        room.buffer = null;
        room.history.loading = false;
        for (const l of room.locals) if (l.state === 'pending') fail(l, 'connection lost');
      }
      for (const [ref, r] of refs) if (r.kind !== 'message') refs.delete(ref);
      updateEmpty();
      if (wasOpen && ev.code >= 1002 && ev.code !== 1006 && ev.reason) showNotice(`Disconnected: ${ev.reason}`);
    }

    // ---------- status and banner ----------
    const STATUS_LABEL = { connecting: 'Connecting…', online: 'Online', offline: 'Offline' };
    let everOnline = false, lostAt = 0, bannerTimer = 0, tickTimer = 0;
    let quiet = false; // a reconnect we asked for (new name): no offline banner
    function updateStatus() {
      const state = socket.state === 'online' && !online ? 'connecting' : socket.state;
      statusEl.dataset.state = state;
      statusText.textContent = STATUS_LABEL[state];
      composer.setEnabled(state === 'online');
      clearInterval(tickTimer);
      if (state === 'online') {
        if (lostAt && !quiet) {
          banner.dataset.state = 'online';
          bannerText.textContent = 'Back online.';
          $('banner-retry').hidden = true;
          banner.hidden = false;
          announce('Back online.');
          clearTimeout(bannerTimer);
          bannerTimer = setTimeout(() => { if (banner.dataset.state === 'online') banner.hidden = true; }, 4000);
        }
        lostAt = 0;
        quiet = false;
        everOnline = true;
        return;
      }
      if (quiet && state === 'connecting') return;
      quiet = false;
      if (!lostAt && !everOnline && state === 'connecting') return; // first connect: the status pill says it
      if (!lostAt) lostAt = Date.now();
      clearTimeout(bannerTimer);
      const wasHidden = banner.hidden || banner.dataset.state !== 'offline';
      banner.dataset.state = 'offline';
      $('banner-retry').hidden = state !== 'offline' || socket.stopped;
      if (socket.stopped) {
        bannerText.textContent = 'You were disconnected by an operator. Reload the page to connect again.';
        banner.hidden = false;
        return;
      }
      const paint = () => {
        const secs = Math.max(0, Math.ceil((socket.retryAt - Date.now()) / 1000));
        bannerText.textContent = (everOnline ? 'You are offline. ' : 'Cannot reach the chat server. ') +
          (socket.state === 'offline' && secs > 0 ? `Reconnecting in ${secs} s…` : 'Reconnecting…');
      };
      paint();
      if (state === 'offline') tickTimer = setInterval(paint, 1000);
      banner.hidden = false;
      if (wasHidden && everOnline) announce('Connection lost. Reconnecting…');
    }

    // ---------- sidebar ----------
    function renderRoomList() {
      const items = [];
      let totalOther = 0;
      for (const room of rooms.values()) {
        const active = isActive(room);
        if (!active) totalOther += room.unread;
        const link = h('a', { class: 'room-link', href: '#' + room.name, 'aria-current': active ? 'page' : false, testid: 'room-link' },
          h('span', { class: 'room-link-hash', 'aria-hidden': 'true' }, '#'),
          h('span', { class: 'room-link-name' }, room.name));
        if (room.unread > 0) {
          link.append(h('span', { class: 'badge', testid: 'room-unread' },
            room.unread > 99 ? '99+' : String(room.unread),
            h('span', { class: 'visually-hidden' }, room.unread === 1 ? ' unread message' : ' unread messages')));
        }
        const leave = h('button', {
          type: 'button', class: 'icon-button room-leave', testid: 'room-leave', title: `Leave #${room.name}`,
          'aria-label': `Leave #${room.name}`, disabled: rooms.size < 2, onclick: () => removeRoom(room, true),
        }, '×');
        items.push(h('li', { class: 'room-item' + (active ? ' active' : ''), testid: 'room-item', 'data-room': room.name, 'data-unread': room.unread }, link, leave));
      }
      roomListEl.replaceChildren(...items);
      menuBadge.hidden = totalOther === 0;
      menuBadge.textContent = totalOther > 99 ? '99+' : String(totalOther);
      menuButton.setAttribute('aria-label', totalOther ? `Rooms and people, ${totalOther} unread` : 'Rooms and people');
      updateTitle();
    }

    function renderOnline() {
      const room = activeRoom();
      const names = room ? [...room.presence].sort((a, b) => (a === me ? -1 : b === me ? 1 : a.localeCompare(b))) : [];
      onlineListEl.replaceChildren(...names.map((n) => h('li', { class: 'online-user', testid: 'online-user', 'data-username': n },
        avatar(n, 'avatar-sm'), h('span', { class: 'online-name' }, n),
        n === me ? h('span', { class: 'you' }, '(you)') : null)));
      $('online-count').textContent = room ? `· ${names.length}` : '';
      $('online-heading').firstChild.textContent = room ? `Online in #${room.name} ` : 'Online ';
    }

    function updateTitle() {
      let unread = 0;
      for (const room of rooms.values()) unread += room.unread;
      document.title = (unread ? `(${unread}) ` : '') + (activeName ? `#${activeName} · Chat` : 'Chat');
    }

    function openSidebar(open) {
      sidebar.classList.toggle('open', open);
      scrim.hidden = !open;
      menuButton.setAttribute('aria-expanded', String(open));
      if (open) (sidebar.querySelector('[aria-current="page"]') || $('room-input')).focus();
    }
    menuButton.addEventListener('click', () => openSidebar(!sidebar.classList.contains('open')));
    scrim.addEventListener('click', () => openSidebar(false));
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && sidebar.classList.contains('open')) { openSidebar(false); menuButton.focus(); }
    });

    // ---------- switching, joining, leaving ----------
    function roomFromLocation() {
      let hash = location.hash.replace(/^#\/?/, '');
      try { hash = decodeURIComponent(hash); } catch { /* keep raw */ }
      const query = new URLSearchParams(location.search).get('room');
      const wanted = hash || query || '';
      if (!wanted) return { room: null };
      return isValidRoom(wanted) ? { room: wanted } : { room: null, invalid: wanted };
    }

    function addRoom(name) {
      let room = rooms.get(name);
      if (room) return room;
      room = createRoom(name);
      rooms.set(name, room);
      saveRooms();
      if (online) sendJoin(room);
      return room;
    }

    function activate(name) {
      const prev = activeRoom();
      const room = addRoom(name);
      if (prev && prev !== room) {
        prev.stick = isAtBottom(prev);
        prev.savedTop = prev.listEl.scrollTop;
      }
      activeName = name;
      room.unread = 0;
      if (listSlot.firstChild !== room.listEl) listSlot.replaceChildren(room.listEl);
      if (room.stick) scrollToBottom(room);
      else { room.listEl.scrollTop = room.savedTop; room.dims = room.measure(); }
      pill.hidden = true;
      $('room-name').textContent = name;
      composer.setPlaceholder(`Message #${name}`);
      renderRoomList();
      renderOnline();
      updateEmpty();
      fillViewport(room);
      if (location.hash.replace(/^#/, '') !== name) history.replaceState(null, '', '#' + name);
    }

    function removeRoom(room, sendLeave) {
      if (!rooms.has(room.name)) return;
      if (sendLeave) {
        if (rooms.size < 2) return;
        if (online) socket.send({ type: 'leave', room: room.name });
      }
      for (const l of room.locals) { clearTimeout(l.timer); refs.delete(l.ref); }
      rooms.delete(room.name);
      saveRooms();
      if (rooms.size === 0) addRoom(DEFAULT_ROOM);
      if (isActive(room)) activate(rooms.keys().next().value); else {
        renderRoomList();
      }
      announce(`Left #${room.name}.`);
    }

    function onLocationChange() {
      const parsed = roomFromLocation();
      if (parsed.invalid) showNotice(`“${parsed.invalid.slice(0, 80)}” is not a valid room name (1-64 of A-Z a-z 0-9 _ . -).`);
      const name = parsed.room || activeName || rooms.keys().next().value || DEFAULT_ROOM;
      if (name !== activeName) activate(name);
      openSidebar(false);
    }

    $('room-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $('room-input');
      const wanted = input.value.trim().replace(/^#/, '');
      if (!isValidRoom(wanted)) {
        input.setAttribute('aria-invalid', 'true');
        showNotice('Room names are 1-64 characters of A-Z a-z 0-9 _ . -');
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
    pill.addEventListener('click', () => { const r = activeRoom(); if (r) { scrollToBottom(r); r.listEl.focus({ preventScroll: true }); } });

    // ---------- composer ----------
    const composer = createComposer($('composer'), $('composer-input'), $('composer-send'), $('composer-count'), { onSend: sendText });

    // ---------- user ----------
    function renderUser() {
      const name = username && me; // a guest name from the gateway is not shown as chosen
      $('user-name').textContent = name || 'Set name';
      paintAvatar($('user-avatar'), name || '?');
      $('user-button').setAttribute('aria-label', name ? `Your name: ${name}. Change name` : 'Set your name');
    }

    const nameDialog = createNameDialog($('name-dialog'), {
      onSave(name, purpose) {
        const changed = name !== username;
        username = me = name;
        store.set(NAME_KEY, name);
        renderUser();
        for (const room of rooms.values()) for (const e of room.entries) e.el.classList.toggle('mine', e.user === me);
        if (changed) { // the name belongs to the connection
          quiet = true;
          sendWhenJoined = purpose === 'send';
          socket.restart();
        }
        composer.focus();
      },
    });
    $('user-button').addEventListener('click', () => nameDialog.open(username));
    $('banner-retry').addEventListener('click', () => socket.nudge());
    // The skip link must not change the hash: the hash names the room.
    document.querySelector('.skip-link').addEventListener('click', (e) => { e.preventDefault(); composer.focus(); });

    const socket = createSocket({ url: socketUrl, onOpen, onFrame, onDown, onState: updateStatus });
    const login = createLogin((token) => socket.send({ type: 'refresh', token }));

    window.addEventListener('hashchange', onLocationChange);
    window.addEventListener('online', () => socket.nudge());
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) return;
      const room = activeRoom();
      if (room && room.unread) { room.unread = 0; renderRoomList(); }
      socket.nudge();
    });

    // ---------- start ----------
    let saved = [];
    try { saved = JSON.parse(store.get(ROOMS_KEY) || '[]'); } catch { saved = []; }
    for (const name of Array.isArray(saved) ? saved : []) if (isValidRoom(name)) addRoom(name);
    const first = roomFromLocation();
    if (first.invalid) showNotice(`“${first.invalid.slice(0, 80)}” is not a valid room name (1-64 of A-Z a-z 0-9 _ . -).`);
    const startRoom = first.room || rooms.keys().next().value || DEFAULT_ROOM;
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
    updateStatus();
    // Login (docs/protocol.md section 10): /config.json says whether tokens are
    // required and where the page gets one; a cookie (AUTH_COOKIE) needs nothing.
    fetch('/config.json', { cache: 'no-store' })
      .then((res) => (res.ok ? res.json() : {}))
      .catch(() => ({}))
      .then((config) => {
        if (config.auth && typeof config.token_url === 'string') login.tokenUrl = config.token_url;
        else if (config.auth && !config.auth_cookie) showNotice('This chat needs a login, and no TOKEN_URL is set.');
        socket.connect(); // with or without a name: reading needs none
      });
    if (matchMedia('(pointer: fine)').matches) composer.focus(); // no surprise keyboard on phones
  }

  // ---------- composer: textarea + send button ----------
  function createComposer(form, input, button, counter, { onSend }) {
    let enabled = false;
    const basePlaceholder = () => input.dataset.placeholder || 'Message';
    const textValue = () => input.value.trim();

    function autosize() {
      input.style.height = 'auto';
      input.style.height = Math.min(input.scrollHeight + 2, 200) + 'px';
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
      submit,
      setEnabled(on) { enabled = on; refresh(); },
      setPlaceholder(p) { input.dataset.placeholder = p; refresh(); },
      focus() { input.focus(); },
    };
  }

  // ---------- username dialog ----------
  function createNameDialog(dialog, { onSave }) {
    const form = dialog.querySelector('form');
    const input = $('username-input');
    const error = $('name-error');
    const cancel = $('name-cancel');
    let purpose;

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const { name, error: msg } = validateName(input.value);
      if (!name) { error.textContent = msg; input.setAttribute('aria-invalid', 'true'); input.focus(); return; }
      error.textContent = '';
      input.removeAttribute('aria-invalid');
      dialog.close();
      onSave(name, purpose);
    });
    cancel.addEventListener('click', () => dialog.close()); // as does Escape: reading needs no name

    return {
      /** purpose comes back with onSave (e.g. 'send': a message waits for the name). */
      open(current, why) {
        purpose = why;
        input.value = current || '';
        error.textContent = '';
        if (typeof dialog.showModal === 'function') dialog.showModal(); else dialog.setAttribute('open', '');
        input.focus();
        input.select();
      },
    };
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
  else main();
})();
