// Reconnect delays: exponential, capped, with "equal jitter" (half fixed,
// half random), so that clients cut off together do not return together.

export function createBackoff({ baseMs = 500, maxMs = 8000, random = Math.random } = {}) {
  let attempt = 0;
  return {
    get attempt() { return attempt; },
    /** The delay before the next attempt; each call counts one attempt. */
    next() {
      const cap = Math.min(maxMs, baseMs * 2 ** attempt);
      attempt++;
      return Math.round(cap / 2 + random() * cap / 2);
    },
    reset() { attempt = 0; },
  };
}
