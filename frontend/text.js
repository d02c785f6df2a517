// Text rules of the page: names and messages as the gateway counts them
// (docs/protocol.md section 3: code points, no control characters).

export const MAX_TEXT = 2000;         // code points
export const MAX_FRAME_BYTES = 8192;  // the gateway's default MAX_FRAME_BYTES
export const MAX_NAME = 32;

export const codePoints = (s) => Array.from(s).length;

export function validateName(raw) {
  const name = String(raw ?? '').trim();
  if (!name) return { error: 'Please enter a name.' };
  if (codePoints(name) > MAX_NAME) return { error: `At most ${MAX_NAME} characters.` };
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return { error: 'No control characters, please.' };
  return { name };
}

/** The first 40 code points, for labels and announcements. */
export const snippet = (text) => (codePoints(text) > 40 ? Array.from(text).slice(0, 40).join('') + '…' : text);

/** True when a message frame with this text fits MAX_FRAME_BYTES (with room for a ref). */
export function fitsFrame(room, text) {
  const frame = JSON.stringify({ type: 'message', room, text, ref: 'x'.repeat(40) });
  return new TextEncoder().encode(frame).length <= MAX_FRAME_BYTES;
}
