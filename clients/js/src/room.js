// One room as the client follows it: its epoch, the last id it has passed on
// (the resume point), its join state and who is present. The gateway's
// promise (docs/protocol.md section 3): a room's messages in id order, without
// gaps or repeats; the client keeps that promise across reconnects by
// resuming with since/epoch and dropping an id it has already passed on.
import { isMessage, isTombstone } from './frames.js';

export const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;
export const isValidRoom = (name) => typeof name === 'string' && ROOM_RE.test(name);

export class RoomState {
  constructor(name) {
    this.name = name;
    this.epoch = null;
    this.lastId = null;       // the highest id passed on in this epoch
    this.status = 'none';     // 'none' | 'joining' | 'joined'
    this.buffer = [];         // frames of the join's replay, until `joined`
    this.presence = new Set();
    this.online = 0;
    this.history = null;      // the history request in flight: { ref, promise, resolve, reject }
  }

  /** { since, epoch } for a join that resumes, or null for a fresh one. */
  resumePoint() {
    return this.epoch && Number.isSafeInteger(this.lastId) ? { since: this.lastId, epoch: this.epoch } : null;
  }

  beginJoin() {
    this.status = 'joining';
    this.buffer = [];
  }

  disconnected() {
    this.status = 'none';
    this.buffer = [];
  }

  /**
   * Applies a `joined` frame. Returns what the client passes on, in order:
   * { reset, items }: reset when the room starts over (a fresh join, another
   * epoch, or a gap too old to fill), then the replayed messages and
   * tombstones that are new.
   */
  applyJoined(f) {
    const wasJoining = this.status === 'joining';
    const replay = wasJoining ? this.buffer : [];
    const recovered = wasJoining ? f.recovered === true && f.epoch === this.epoch : f.epoch === this.epoch;
    const reset = !recovered;
    if (reset) {
      this.epoch = typeof f.epoch === 'string' ? f.epoch : null;
      this.lastId = null;
    }
    this.status = 'joined';
    this.buffer = [];
    const items = replay.filter((m) => m.epoch === this.epoch && this.#isNew(m));
    // A join's replay came before its `joined`: the room is now at last_id. A
    // `joined` for a live room (its epoch changed) comes before its replay,
    // which must still be taken.
    if (wasJoining && Number.isSafeInteger(f.last_id) && f.last_id > (this.lastId ?? -1)) this.lastId = f.last_id;
    this.presence = new Set(Array.isArray(f.presence)
      ? f.presence.map((p) => p && p.username).filter((u) => typeof u === 'string') : []);
    // Big rooms list only some users; `online` counts them all.
    this.online = Number.isSafeInteger(f.online) ? Math.max(f.online, this.presence.size) : this.presence.size;
    return { reset, recovered, items };
  }

  /**
   * A message frame. Returns 'buffered' (during a join), 'reset' (another
   * epoch without a fresh `joined`: the room starts over with this message),
   * 'new', or 'old' (already passed on, or not followed).
   */
  accept(m) {
    if (!isMessage(m) && !isTombstone(m)) return 'old';
    if (this.status === 'joining') { this.buffer.push(m); return 'buffered'; }
    if (this.status !== 'joined') return 'old';
    if (m.epoch !== this.epoch) {
      this.epoch = m.epoch;
      this.lastId = null;
      this.#isNew(m);
      return 'reset';
    }
    return this.#isNew(m) ? 'new' : 'old';
  }

  /** A delete while a replay is buffered: the buffered copy becomes its tombstone. */
  deleteBuffered(epoch, id) {
    this.buffer = this.buffer.map((m) => (m.epoch === epoch && m.id === id
      ? { type: 'message', room: m.room, epoch: m.epoch, id: m.id, ts: m.ts, deleted: true } : m));
  }

  #isNew(m) {
    if (this.lastId !== null && m.id <= this.lastId) return false;
    this.lastId = m.id;
    return true;
  }
}
