// ChatClient: a chat.v1 client (docs/protocol.md sections 3, 4 and 10) that
// reconnects with backoff and jitter, resumes each room with since/epoch,
// keeps sends by ref and retries them under that ref, splits batched frames,
// follows presence, pages history back and refreshes its token before exp.
// It touches no DOM: a page or a Node program listens to its events.
import { CLOSE_AUTH, Connection } from './connection.js';
import { Emitter } from './emitter.js';
import { isMessage, isTombstone, messageOf } from './frames.js';
import { Outbox } from './outbox.js';
import { newRef } from './refs.js';
import { RoomState, isValidRoom } from './room.js';
import { TokenSource } from './token.js';

const DEFAULT_ROOM = 'lobby';
const REJOIN_DELAY_MS = 2000;
const TOKEN_RETRY_MS = 10000;

export class ChatClient {
  #options;
  #events = new Emitter();
  #rooms = new Map();      // name -> RoomState, in join order
  #outbox = new Outbox();
  #refs = new Map();       // ref -> { kind: 'join' | 'history' | 'refresh', room }
  #tokens;
  #connection;
  #username;
  #welcome = null;         // the current connection's welcome frame
  #urlRoom = null;         // the room the current connection's URL joins
  #refreshTimer = 0;
  #timers;

  /**
   * options: url (string, array of strings tried in turn, or a function of
   * the attempt number resolving with one), WebSocket (default
   * globalThis.WebSocket), username, rooms, token or getToken,
   * refreshBeforeMs, ackTimeoutMs, historyLimit, backoff { baseMs, maxMs },
   * connectTimeoutMs, resendOnReconnect.
   */
  constructor(options = {}) {
    this.#options = { ackTimeoutMs: 15000, historyLimit: 50, resendOnReconnect: true, ...options };
    this.#timers = options.timers ?? globalThis;
    this.#username = options.username || '';
    this.#tokens = new TokenSource(options);
    this.#connection = new Connection({
      WebSocket: options.WebSocket ?? globalThis.WebSocket,
      prepare: (attempt) => this.#prepare(attempt),
      backoff: options.backoff,
      connectTimeoutMs: options.connectTimeoutMs,
      timers: this.#timers,
      handlers: {
        // The URL's room is joined right after welcome: its replay comes before `joined`.
        open: () => this.#rooms.get(this.#urlRoom)?.beginJoin(),
        frame: (frame) => this.#onFrame(frame),
        close: (info) => this.#onClose(info),
        state: () => this.#emitState(),
      },
    });
    for (const name of options.rooms ?? []) this.join(name);
  }

  // ---------- events ----------
  on(type, fn) { return this.#events.on(type, fn); }
  off(type, fn) { this.#events.off(type, fn); }

  // ---------- state ----------
  /** 'idle' | 'connecting' | 'online' (welcome received) | 'offline' (waiting to retry) | 'stopped' */
  get state() {
    const s = this.#connection.state;
    if (s === 'open') return this.#welcome ? 'online' : 'connecting';
    return s;
  }
  get online() { return this.state === 'online'; }
  /** When the next attempt starts (ms since the Unix epoch), while offline. */
  get retryAt() { return this.#connection.retryAt; }
  /** The name the gateway gave this connection (welcome): the token's user, the chosen name or a guest name. */
  get me() { return this.#welcome?.username ?? ''; }
  get gateway() { return this.#welcome?.gateway ?? ''; }
  get username() { return this.#username; }
  get roomNames() { return [...this.#rooms.keys()]; }
  room(name) { return this.#rooms.get(name) ?? null; }

  // ---------- connection ----------
  connect() {
    if (this.#rooms.size === 0) this.join(DEFAULT_ROOM); // the gateway joins the lobby anyway
    this.#connection.connect();
  }

  close() {
    this.#timers.clearTimeout(this.#refreshTimer);
    this.#connection.stop();
  }

  /** Closes the connection and opens a new one at once, resuming every room. */
  reconnect() { this.#connection.restart(); }

  /** Skips the rest of a backoff delay. */
  retryNow() { this.#connection.retryNow(); }

  /** The name for the next connections (a name belongs to a connection): reconnects when it changed. */
  setUsername(name) {
    if (name === this.#username) return;
    this.#username = name;
    if (this.#connection.state !== 'idle' && this.#connection.state !== 'stopped') this.reconnect();
  }

  async #prepare(attempt) {
    const first = this.#rooms.values().next().value;
    this.#urlRoom = first ? first.name : DEFAULT_ROOM;
    const base = await this.#baseUrl(attempt);
    const url = new URL(base);
    url.searchParams.set('room', this.#urlRoom);
    const resume = first?.resumePoint();
    if (resume) {
      url.searchParams.set('since', String(resume.since));
      url.searchParams.set('epoch', resume.epoch);
    }
    // With login on, the token's user is the name; else the gateway names a guest.
    if (this.#username && !this.#tokens.enabled) url.searchParams.set('username', this.#username);
    const target = { url: url.href };
    if (this.#tokens.enabled) target.firstFrame = { type: 'auth', token: await this.#tokens.get() };
    return target;
  }

  async #baseUrl(attempt) {
    const { url } = this.#options;
    if (typeof url === 'function') return url(attempt);
    // A list: the next address after each failure, so that a dead gateway is left behind.
    if (Array.isArray(url)) return url[attempt % url.length];
    return url;
  }

  #emitState() {
    this.#events.emit('state', { state: this.state, retryAt: this.retryAt });
  }

  #onClose({ code, reason, wasOpen }) {
    const wasOnline = !!this.#welcome;
    this.#welcome = null;
    this.#timers.clearTimeout(this.#refreshTimer);
    if (code === CLOSE_AUTH) this.#tokens.invalidate(); // a new token before reconnecting
    for (const room of this.#rooms.values()) {
      room.disconnected();
      if (room.history) this.#endHistory(room, new Error('disconnected'));
    }
    for (const [ref, r] of this.#refs) if (r.kind !== 'message') this.#refs.delete(ref);
    for (const send of this.#outbox.inState('pending')) {
      this.#fail(send, 'disconnected', 'the connection was lost before the ack', this.#options.resendOnReconnect);
    }
    this.#events.emit('disconnect', { code, reason, wasOpen, wasOnline });
  }

  // ---------- frames ----------
  #onFrame(f) {
    switch (f.type) {
      case 'welcome': this.#onWelcome(f); break;
      case 'message': this.#onMessage(f); break;
      case 'joined': this.#onJoined(f); break;
      case 'ack': this.#onAck(f); break;
      case 'error': this.#onError(f); break;
      case 'presence': this.#onPresence(f); break;
      case 'history': this.#onHistory(f); break;
      case 'delete': this.#onDelete(f); break;
      case 'refreshed': this.#onRefreshed(f); break;
      default: break; // newer frames are ignored (section 4: unknown fields and frames)
    }
  }

  #onWelcome(f) {
    this.#welcome = { conn: f.conn, username: f.username, gateway: f.gateway };
    for (const room of this.#rooms.values()) if (room.name !== this.#urlRoom) this.#sendJoin(room);
    this.#scheduleRefresh();
    this.#events.emit('welcome', { ...this.#welcome });
    this.#emitState();
  }

  #onMessage(f) {
    const room = this.#rooms.get(f.room || DEFAULT_ROOM);
    if (!room) return;
    const verdict = room.accept(f);
    if (verdict === 'reset') this.#events.emit('reset', { room: room.name, epoch: room.epoch });
    if (verdict === 'new' || verdict === 'reset') this.#emitItem(room, f, true);
  }

  #emitItem(room, m, live) {
    if (isTombstone(m)) this.#events.emit('delete', { room: room.name, epoch: m.epoch, id: m.id, replayed: true });
    else this.#events.emit('message', { ...messageOf(m), room: room.name, live });
  }

  #onJoined(f) {
    const room = this.#rooms.get(f.room);
    if (!room) return;
    for (const [ref, r] of this.#refs) if (r.kind === 'join' && r.room === room.name) this.#refs.delete(ref);
    const { reset, recovered, items } = room.applyJoined(f);
    if (reset) this.#events.emit('reset', { room: room.name, epoch: room.epoch });
    for (const m of items) this.#emitItem(room, m, false);
    this.#events.emit('joined', {
      room: room.name, epoch: room.epoch, lastId: room.lastId, recovered, reset,
      presence: [...room.presence], online: room.online,
    });
    // Sends that waited for the room go out now, under their own refs.
    for (const send of this.#outbox.due(room.name)) this.#transmit(send);
  }

  #onPresence(f) {
    const room = this.#rooms.get(f.room);
    if (!room) return;
    if (Number.isSafeInteger(f.online) && typeof f.username !== 'string') {
      // A big room (above PRESENCE_EVENTS_MAX): its count, no per-user events.
      room.online = f.online;
      this.#events.emit('presence', { room: room.name, event: 'count', online: room.online, users: [...room.presence] });
      return;
    }
    if (typeof f.username !== 'string') return;
    if (f.event === 'join' && !room.presence.has(f.username)) {
      room.presence.add(f.username);
      room.online += 1;
    } else if (f.event === 'leave' && (room.presence.delete(f.username) || room.presence.size < room.online)) {
      // Listed, or one of those a partial list (a room over PRESENCE_LIST_MAX) left out.
      room.online = Math.max(0, room.online - 1);
    } else if (f.event !== 'join' && f.event !== 'leave') {
      return;
    }
    // The gateway's count after the change, when it says (a partial list cannot).
    if (Number.isSafeInteger(f.online)) room.online = f.online;
    this.#events.emit('presence', {
      room: room.name, event: f.event, username: f.username, online: room.online, users: [...room.presence],
    });
  }

  #onDelete(f) {
    const room = this.#rooms.get(f.room);
    if (!room || !Number.isSafeInteger(f.id) || (room.epoch && f.epoch !== room.epoch)) return;
    if (room.status === 'joining') room.deleteBuffered(f.epoch, f.id);
    this.#events.emit('delete', { room: room.name, epoch: f.epoch, id: f.id, replayed: false });
  }

  #onError(f) {
    const send = this.#outbox.get(f.ref);
    if (send) {
      this.#fail(send, f.code, f.message, false);
      const room = this.#rooms.get(send.room);
      // The gateway forgot the room (it restarted a membership): join again; the send may be retried.
      if (f.code === 'not_joined' && room && this.online) this.#sendJoin(room);
      return;
    }
    const r = typeof f.ref === 'string' ? this.#refs.get(f.ref) : undefined;
    if (r) this.#refs.delete(f.ref);
    const room = r && this.#rooms.get(r.room);
    if (r?.kind === 'join' && room) {
      if (f.code === 'unavailable') {
        room.status = 'none';
        this.#timers.setTimeout(() => {
          if (this.online && this.#rooms.get(room.name) === room && room.status === 'none') this.#sendJoin(room);
        }, REJOIN_DELAY_MS);
        return;
      }
      this.#rooms.delete(room.name);
      this.#dropSends(room.name);
      this.#events.emit('error', { kind: 'join', room: room.name, code: f.code, message: f.message ?? '' });
      return;
    }
    if (r?.kind === 'history' && room) {
      this.#endHistory(room, Object.assign(new Error(f.message || f.code), { code: f.code }));
      return;
    }
    this.#events.emit('error', { kind: r?.kind ?? 'server', room: r?.room, code: f.code, message: f.message ?? '' });
  }

  // ---------- rooms ----------
  /** Follows a room (joins it now when online, else on connect); returns its state. */
  join(name) {
    if (!isValidRoom(name)) throw new RangeError(`not a valid room name: ${JSON.stringify(name)}`);
    let room = this.#rooms.get(name);
    if (room) return room;
    room = new RoomState(name);
    this.#rooms.set(name, room);
    if (this.online) this.#sendJoin(room);
    return room;
  }

  leave(name) {
    const room = this.#rooms.get(name);
    if (!room) return;
    if (this.online) this.#connection.send({ type: 'leave', room: name });
    if (room.history) this.#endHistory(room, new Error('left the room'));
    this.#rooms.delete(name);
    this.#dropSends(name);
  }

  #sendJoin(room) {
    const ref = newRef('j');
    const frame = { type: 'join', room: room.name, ref, ...room.resumePoint() };
    room.beginJoin();
    if (this.#connection.send(frame)) this.#refs.set(ref, { kind: 'join', room: room.name });
  }

  #dropSends(roomName) {
    for (const send of this.#outbox.forRoom(roomName)) this.#outbox.delete(send);
  }

  // ---------- sending ----------
  /**
   * Sends text to a followed room. Returns the send (ref, state, ...): it
   * goes out now when the room is joined, else once it is; `send` events
   * follow its state.
   */
  send(roomName, text) {
    const room = this.#rooms.get(roomName);
    if (!room) throw new Error(`not following room ${JSON.stringify(roomName)}: join() it first`);
    const send = this.#outbox.create(roomName, String(text));
    this.#events.emit('send', { ...publicSend(send) });
    if (this.online && room.status === 'joined') this.#transmit(send);
    return publicSend(send);
  }

  /** Sends a failed send again under its ref (stored at most once); false when there is none. */
  retry(ref) {
    const send = this.#outbox.get(ref);
    if (!send || send.state !== 'failed') return false;
    this.#setSend(send, { state: 'queued', error: null, resend: false });
    const room = this.#rooms.get(send.room);
    if (this.online && room?.status === 'joined') this.#transmit(send);
    return true;
  }

  /** Forgets a send that is not acked (its ack, should one come, is ignored). */
  discard(ref) {
    const send = this.#outbox.get(ref);
    if (send) this.#outbox.delete(send);
  }

  sendState(ref) {
    const send = this.#outbox.get(ref);
    return send ? publicSend(send) : null;
  }

  #transmit(send) {
    this.#timers.clearTimeout(send.timer);
    send.attempts++;
    if (!this.#connection.send({ type: 'message', room: send.room, text: send.text, ref: send.ref })) {
      this.#fail(send, 'offline', 'not connected', this.#options.resendOnReconnect);
      return;
    }
    this.#setSend(send, { state: 'pending', error: null, resend: false });
    send.timer = this.#timers.setTimeout(() => {
      if (send.state === 'pending') this.#fail(send, 'timeout', 'no answer from the server', false);
    }, this.#options.ackTimeoutMs);
  }

  #fail(send, code, message, resend) {
    this.#timers.clearTimeout(send.timer);
    this.#setSend(send, { state: 'failed', error: { code, message: message ?? '' }, resend });
  }

  #onAck(f) {
    const send = this.#outbox.get(f.ref);
    if (!send || !Number.isSafeInteger(f.id)) return;
    this.#outbox.delete(send);
    this.#setSend(send, { state: 'acked', error: null, id: f.id, ts: typeof f.ts === 'number' ? f.ts : null, resend: false });
  }

  #setSend(send, changes) {
    Object.assign(send, changes);
    this.#events.emit('send', publicSend(send));
  }

  // ---------- history ----------
  /**
   * Older messages of a joined room: resolves with { messages, atStart }
   * (oldest first, stored messages only; deleted ones are left out).
   * before: the oldest id the caller has; without it, the latest page.
   */
  loadHistory(roomName, { before, limit = this.#options.historyLimit } = {}) {
    const room = this.#rooms.get(roomName);
    if (!room) return Promise.reject(new Error(`not following room ${JSON.stringify(roomName)}`));
    if (room.history) return room.history.promise;
    if (!this.online || room.status !== 'joined') return Promise.reject(new Error('not joined (offline?)'));
    const ref = newRef('h');
    const frame = { type: 'history', room: roomName, limit, ref };
    if (Number.isSafeInteger(before)) frame.before = before;
    const pending = { ref, epoch: room.epoch, limit, before };
    pending.promise = new Promise((resolve, reject) => { pending.resolve = resolve; pending.reject = reject; });
    if (!this.#connection.send(frame)) return Promise.reject(new Error('not connected'));
    room.history = pending;
    this.#refs.set(ref, { kind: 'history', room: roomName });
    return pending.promise;
  }

  #onHistory(f) {
    const room = this.#rooms.get(f.room);
    const pending = room?.history;
    if (!pending) return;
    this.#refs.delete(pending.ref);
    room.history = null;
    // An answer from before an epoch change names messages that no longer exist.
    const all = (Array.isArray(f.messages) ? f.messages : []).filter((m) => m && m.epoch === room.epoch);
    const messages = room.epoch === pending.epoch ? all.filter(isMessage).map((m) => ({ ...messageOf(m), room: room.name })) : [];
    const ids = all.filter((m) => isMessage(m) || isTombstone(m)).map((m) => m.id);
    const atStart = ids.length < pending.limit || ids[0] === 1 || pending.before === 1;
    const answer = { room: room.name, messages, atStart };
    this.#events.emit('history', answer);
    pending.resolve(answer);
  }

  #endHistory(room, error) {
    const pending = room.history;
    room.history = null;
    this.#refs.delete(pending.ref);
    pending.reject(error);
  }

  // ---------- token refresh ----------
  #scheduleRefresh() {
    this.#timers.clearTimeout(this.#refreshTimer);
    const inMs = this.#tokens.refreshInMs();
    if (inMs === null) return;
    // Timers take at most 2^31-1 ms (~24.8 days): a longer token is looked at again then.
    const MAX_DELAY = 2 ** 31 - 1;
    this.#refreshTimer = this.#timers.setTimeout(
      () => (inMs > MAX_DELAY ? this.#scheduleRefresh() : this.#refresh()), Math.min(inMs, MAX_DELAY));
  }

  async #refresh() {
    let token;
    try {
      token = await this.#tokens.fetch();
    } catch (e) {
      this.#events.emit('error', { kind: 'token', code: 'token', message: String(e?.message ?? e) });
      this.#refreshTimer = this.#timers.setTimeout(() => this.#refresh(), TOKEN_RETRY_MS);
      return;
    }
    const ref = newRef('r');
    if (this.#connection.send({ type: 'refresh', token, ref })) this.#refs.set(ref, { kind: 'refresh' });
    // Offline: the next connection's auth frame carries the new token.
  }

  #onRefreshed(f) {
    for (const [ref, r] of this.#refs) if (r.kind === 'refresh') this.#refs.delete(ref);
    this.#events.emit('refreshed', { exp: f.exp });
    this.#scheduleRefresh();
  }
}

function publicSend(send) {
  const { ref, room, text, state, error, id, ts, attempts, resend } = send;
  return { ref, room, text, state, error, id, ts, attempts, resend };
}
