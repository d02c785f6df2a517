// A room name with a NUL byte (?room=a%00b) is a bad room name: the
// WebSocket handshake gets 400 (docs/protocol.md section 3), answered as HTTP,
// not a dropped socket; for the ws client and for a raw upgrade request.
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, contractSuite, request, withTimeout } from './lib.mjs';

contractSuite('nulroom', {}, (ctx) => {
  test('ws client: ?room=a%00b gets unexpected-response 400', async () => {
    const client = new Client(`${ctx.gw.ws}/websocket?room=a%00b`);
    ctx.clients.push(client);
    const outcome = await withTimeout(client.opened.then(() => 'opened', (e) => e.message), 5000, 'the handshake');
    assert.deepEqual(client.unexpected, { status: 400 }, `outcome: ${outcome}; ${client.summary()}`);
  });

  test('raw upgrade request over node:http: ?room=a%00b gets 400', async () => {
    const res = await request(ctx.gw.url, '/websocket?room=a%00b', {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    });
    assert.equal(res.status, 400, `status ${res.status}`);
  });
});
