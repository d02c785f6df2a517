// Sends by ref (docs/protocol.md section 4, "Acks"). A send is
//   queued  - not on the wire yet (offline, or its room not joined yet),
//   pending - sent, waiting for its ack,
//   acked   - stored: `id` and `ts` are set,
//   failed  - refused, or its outcome is unknown (`error` says why).
// A retry goes out under the same ref, so the gateway stores it at most once
// and answers it with the first store's ack.
import { newRef } from './refs.js';

export class Outbox {
  #sends = new Map(); // ref -> send, in creation order

  create(room, text) {
    const send = {
      ref: newRef(), room, text, state: 'queued', error: null, id: null, ts: null,
      attempts: 0, createdAt: Date.now(),
      resend: false,  // failed by a lost connection: goes out again by itself
      timer: 0,
    };
    this.#sends.set(send.ref, send);
    return send;
  }

  get(ref) { return typeof ref === 'string' ? this.#sends.get(ref) : undefined; }

  delete(send) {
    clearTimeout(send.timer);
    this.#sends.delete(send.ref);
  }

  /** The sends of a room still waiting to go out (queued, or failed by a lost connection). */
  due(room) {
    return [...this.#sends.values()].filter((s) => s.room === room && (s.state === 'queued' || (s.state === 'failed' && s.resend)));
  }

  inState(state) { return [...this.#sends.values()].filter((s) => s.state === state); }

  forRoom(room) { return [...this.#sends.values()].filter((s) => s.room === room); }
}
