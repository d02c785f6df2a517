// One WebSocket at a time to a chat.v1 gateway, reconnected with backoff and
// jitter. It knows nothing of rooms: the client gives it a url() to call per
// attempt and a first frame (the token), and gets frames and closes back.
import { createBackoff } from './backoff.js';
import { splitFrames } from './frames.js';

const CONNECTING = 0;
const OPEN = 1;
export const SUBPROTOCOL = 'chat.v1';
// Close codes of docs/protocol.md section 10.
export const CLOSE_AUTH = 4001;
export const CLOSE_OPERATOR = 4002;

export class Connection {
  #WebSocket;
  #prepare;
  #handlers;
  #backoff;
  #connectTimeoutMs;
  #stableMs;
  #timers;
  #ws = null;
  #generation = 0;
  #openedAt = 0;
  #retryTimer = 0;
  #connectTimer = 0;

  /**
   * prepare(attempt) resolves with { url, firstFrame? } for each attempt.
   * handlers: open(), frame(frame), close({ code, reason, wasOpen }), state(state).
   */
  constructor({ WebSocket, prepare, handlers, backoff, connectTimeoutMs = 8000, stableMs = 5000, timers = globalThis }) {
    if (typeof WebSocket !== 'function') throw new TypeError('no WebSocket: pass options.WebSocket (Node has none before v22)');
    this.#WebSocket = WebSocket;
    this.#prepare = prepare;
    this.#handlers = handlers;
    this.#backoff = createBackoff(backoff);
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#stableMs = stableMs;
    this.#timers = timers;
    this.state = 'idle';  // 'idle' | 'connecting' | 'open' | 'offline' | 'stopped'
    this.retryAt = 0;
    this.attempts = 0;
  }

  get isOpen() { return !!this.#ws && this.#ws.readyState === OPEN && this.state === 'open'; }

  #setState(state) {
    this.state = state;
    this.#handlers.state(state);
  }

  async connect() {
    // A socket connecting or open stays the one (a connect() while a URL is
    // being prepared supersedes that attempt instead, by its generation).
    if (this.#ws && this.#ws.readyState <= OPEN) return;
    this.#timers.clearTimeout(this.#retryTimer);
    const generation = ++this.#generation;
    this.#setState('connecting');
    let target;
    try {
      target = await this.#prepare(this.attempts++);
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#handlers.close({ code: 0, reason: String(error?.message ?? error), wasOpen: false });
      this.#scheduleRetry();
      return;
    }
    if (generation !== this.#generation) return; // stopped or restarted meanwhile
    let ws;
    try {
      ws = new this.#WebSocket(target.url, SUBPROTOCOL);
    } catch (error) {
      this.#handlers.close({ code: 0, reason: String(error?.message ?? error), wasOpen: false });
      this.#scheduleRetry();
      return;
    }
    this.#ws = ws;
    this.#connectTimer = this.#timers.setTimeout(() => { if (ws.readyState === CONNECTING) ws.close(); }, this.#connectTimeoutMs);
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#timers.clearTimeout(this.#connectTimer);
      this.#openedAt = Date.now();
      // The token goes first: the gateway sends nothing before checking it.
      if (target.firstFrame) ws.send(JSON.stringify(target.firstFrame));
      this.#setState('open');
      this.#handlers.open();
    };
    ws.onmessage = (event) => {
      for (const frame of splitFrames(event.data)) {
        if (this.#ws !== ws) return; // a handler closed this socket
        this.#handlers.frame(frame);
      }
    };
    ws.onerror = () => {}; // the close event that follows says what happened
    ws.onclose = (event) => {
      if (this.#ws !== ws) return;
      this.#dropped(event.code, event.reason);
    };
  }

  #dropped(code, reason) {
    this.#timers.clearTimeout(this.#connectTimer);
    this.#detach();
    const wasOpen = !!this.#openedAt;
    // Only a connection that stayed up a while resets the backoff, so that a
    // gateway that accepts and then closes at once is not hammered.
    if (wasOpen && Date.now() - this.#openedAt > this.#stableMs) this.#backoff.reset();
    this.#openedAt = 0;
    if (code === CLOSE_OPERATOR) {
      // An operator disconnected this user: no reconnect by itself (section 1).
      this.#generation++;
      this.#setState('stopped');
      this.#handlers.close({ code, reason, wasOpen });
      return;
    }
    this.#handlers.close({ code, reason, wasOpen });
    if (this.state !== 'stopped') this.#scheduleRetry();
  }

  #scheduleRetry() {
    if (this.state === 'stopped') return;
    const delay = this.#backoff.next();
    this.retryAt = Date.now() + delay;
    this.#setState('offline');
    const generation = this.#generation;
    this.#retryTimer = this.#timers.setTimeout(() => { if (generation === this.#generation) this.connect(); }, delay);
  }

  #detach() {
    const ws = this.#ws;
    this.#ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {};
    return ws;
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /** Closes the socket (a close the client asked for) and reports it as a drop with `code`. */
  #closeOwn(code, reason) {
    const ws = this.#ws;
    const wasOpen = !!this.#openedAt;
    this.#timers.clearTimeout(this.#connectTimer);
    this.#detach();
    this.#openedAt = 0;
    if (ws && ws.readyState <= OPEN) ws.close(1000, reason);
    if (ws) this.#handlers.close({ code, reason, wasOpen });
  }

  /** Closes the current socket, if any, and connects again at once (e.g. a new username). */
  restart() {
    this.#closeOwn(1000, 'restart');
    this.#backoff.reset();
    this.connect();
  }

  /** Connects now when waiting out a backoff delay. */
  retryNow() {
    if (this.state !== 'offline') return;
    this.#backoff.reset();
    this.connect();
  }

  /** Closes for good (until connect() is called again). */
  stop() {
    this.#generation++;
    this.#timers.clearTimeout(this.#retryTimer);
    this.#closeOwn(1000, 'bye');
    this.#setState('stopped');
  }
}
