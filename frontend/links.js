// Links in message text: only http(s), built with DOM APIs.

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const CLOSERS = { ')': '(', ']': '[', '}': '{' };

/** Drops trailing punctuation, and closing brackets that the URL did not open. */
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
export function appendLinkified(parent, text) {
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
