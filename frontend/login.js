// Login (docs/protocol.md section 10): /config.json says whether tokens are
// required and where the page gets one; the client library sends it as the
// first frame and renews it before exp.

export async function loadConfig() {
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    return res.ok ? await res.json() : {};
  } catch {
    return {};
  }
}

/** getToken for the client: a token from TOKEN_URL, fetched with the app's cookies. */
export function tokenFetcher(tokenUrl) {
  return async () => {
    const res = await fetch(tokenUrl, { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) throw new Error(`token: HTTP ${res.status}`);
    const text = (await res.text()).trim();
    try { return String(JSON.parse(text).token ?? text); } catch { return text; } // or a bare token
  };
}
