// POST /api/rooms/{room}/messages with Transfer-Encoding: chunked (no
// Content-Length; docs/protocol.md section 1): a valid body is stored (201 with
// the message), invalid JSON gets 400, a body over 8192 bytes gets 413, and
// every request is answered within 5 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_KEY, contractSuite, request, room } from './lib.mjs';

/** POSTs body (split in two writes, so Node sends it chunked) to room r. */
function postChunked(gw, r, body) {
  const half = Math.floor(body.length / 2);
  return request(gw.url, `/api/rooms/${r}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: [body.slice(0, half), body.slice(half)],
    timeoutMs: 5000,
  });
}

contractSuite('chunked', {}, (ctx) => {
  test('a valid chunked body is stored: 201 with the message', async () => {
    const r = room('chunk');
    const res = await postChunked(ctx.gw, r, JSON.stringify({ username: 'backend', text: 'sent in chunks' }));
    assert.equal(res.status, 201, `status ${res.status}, body ${res.body}`);
    const message = JSON.parse(res.body);
    assert.equal(message.type, 'message');
    assert.equal(message.room, r);
    assert.equal(message.username, 'backend');
    assert.equal(message.text, 'sent in chunks');
    assert.equal(typeof message.id, 'number');
  });

  test('an invalid JSON chunked body gets 400', async () => {
    const res = await postChunked(ctx.gw, room('chunkbad'), '{"username":"backend","text":');
    assert.equal(res.status, 400, `status ${res.status}, body ${res.body}`);
  });

  test('a chunked body over 8192 bytes gets 413', async () => {
    const res = await postChunked(ctx.gw, room('chunkbig'), JSON.stringify({ username: 'backend', text: 'a'.repeat(9000) }));
    assert.equal(res.status, 413, `status ${res.status}, body ${res.body}`);
  });
});
