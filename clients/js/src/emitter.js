// A small event emitter: listeners run in order; one that throws does not
// stop the others (its error is reported on the next tick, as the DOM does).

export class Emitter {
  #listeners = new Map();

  /** Adds a listener; returns a function that removes it. */
  on(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) { this.#listeners.get(type)?.delete(fn); }

  emit(type, event) {
    for (const fn of [...(this.#listeners.get(type) ?? [])]) {
      try { fn(event); } catch (e) { setTimeout(() => { throw e; }); }
    }
  }
}
