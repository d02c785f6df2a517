// Parsing of what the gateway sends (docs/protocol.md sections 3 and 4).

/**
 * Splits one WebSocket text frame into chat.v1 frames: the gateway may batch
 * several, separated by '\n' (section 4, "Batching"). Lines that are not a
 * JSON object are skipped: one bad line must not hide the rest of a batch.
 */
export function splitFrames(data) {
  if (typeof data !== 'string') return [];
  const frames = [];
  for (const line of data.split('\n')) {
    if (!line.trim()) continue;
    let frame;
    try { frame = JSON.parse(line); } catch { continue; }
    if (frame && typeof frame === 'object' && !Array.isArray(frame)) frames.push(frame);
  }
  return frames;
}

const isId = (id) => Number.isSafeInteger(id) && id > 0;

/** A stored message (section 3) that a client can show. */
export function isMessage(m) {
  return !!m && isId(m.id) && typeof m.username === 'string' && typeof m.text === 'string' &&
    typeof m.ts === 'number' && m.deleted !== true;
}

/** A deleted message as history replays it: its id stays taken, its content is gone. */
export function isTombstone(m) {
  return !!m && isId(m.id) && m.deleted === true;
}

/** The fields a client passes on; the frame itself may carry more. */
export function messageOf(m) {
  return { room: m.room, epoch: m.epoch, id: m.id, ts: m.ts, username: m.username, text: m.text };
}
