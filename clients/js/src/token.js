// Tokens for login (docs/protocol.md section 10): a fixed `token` or an
// async `getToken()`, cached until a minute (refreshBeforeMs) before its exp.

/** The `exp` claim (seconds) of a JWT, or 0 when it has none or cannot be read. */
export function jwtExp(token) {
  try {
    const part = String(token).split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(part), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
    const exp = Number(JSON.parse(json).exp);
    return Number.isFinite(exp) && exp > 0 ? exp : 0;
  } catch {
    return 0;
  }
}

export class TokenSource {
  #fixed;
  #getToken;
  #refreshBeforeMs;
  #now;
  #current = '';
  #exp = 0;

  constructor({ token, getToken, refreshBeforeMs = 60000, now = Date.now } = {}) {
    this.#fixed = typeof token === 'string' && token ? token : '';
    this.#getToken = typeof getToken === 'function' ? getToken : null;
    this.#refreshBeforeMs = refreshBeforeMs;
    this.#now = now;
    if (this.#fixed) this.#remember(this.#fixed);
  }

  /** True when the client logs in (sends an auth frame first). */
  get enabled() { return !!(this.#fixed || this.#getToken); }
  get exp() { return this.#exp; }

  /** A token for a new connection: the cached one while it is fresh enough, else a new one. */
  async get() {
    if (this.#getToken && (!this.#current || this.#stale())) await this.fetch();
    return this.#current;
  }

  /** Always asks getToken() (a refresh, or after 4001); a fixed token is returned as it is. */
  async fetch() {
    if (!this.#getToken) return this.#current;
    const token = String(await this.#getToken() ?? '').trim();
    if (!token) throw new Error('getToken() gave no token');
    this.#remember(token);
    return token;
  }

  /** Forgets the cached token: the gateway refused it (4001). */
  invalidate() { if (this.#getToken) { this.#current = ''; this.#exp = 0; } }

  /** Milliseconds until the token should be refreshed on an open connection; null: never. */
  refreshInMs() {
    if (!this.#getToken || !this.#exp) return null;
    return Math.max(1000, this.#exp * 1000 - this.#now() - this.#refreshBeforeMs);
  }

  #stale() { return this.#exp !== 0 && this.#exp * 1000 - this.#now() < this.#refreshBeforeMs; }

  #remember(token) {
    this.#current = token;
    this.#exp = jwtExp(token);
  }
}
