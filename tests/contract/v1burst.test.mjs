// A chat.v1 client sending 300 messages back to back at the default rate
// limit (10/s, burst 20; docs/protocol.md sections 4 and 5): the burst is acked,
// refused frames get error `rate_limited` with their ref, and the flood ends
// in a close 1008 with a reason (never 1006).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, contractSuite, room } from './lib.mjs';

contractSuite('v1burst', {}, (ctx) => {
  test('300 v1 messages back to back: acks for the burst, rate_limited errors with refs, close 1008', async (t) => {
    const client = await connectV1(ctx, `room=${room('burst')}&username=burst`);
    const sent = new Set();
    for (let i = 0; i < 300; i++) {
      sent.add(`r${i}`);
      client.ws.send(JSON.stringify({ type: 'message', text: `t${i}`, ref: `r${i}` }), () => {});
    }
    const close = await client.waitClose(10000);
    const acked = new Set(client.frames.filter((f) => f.type === 'ack').map((f) => f.ref));
    const limited = client.frames.filter((f) => f.type === 'error' && f.code === 'rate_limited');
    const what = client.summary();
    t.diagnostic(`${acked.size} refs acked; ${what}`);

    assert.notEqual(close.code, 1006, `closed without a close frame: ${what}`);
    assert.ok(acked.size >= 20, `acks for ${acked.size} distinct refs, want >= 20: ${what}`);
    assert.ok(limited.length > 0, `no rate_limited error: ${what}`);
    const badRefs = limited.filter((f) => !sent.has(f.ref));
    assert.deepEqual(badRefs, [], 'every rate_limited error carries the ref of a sent frame');
    assert.equal(close.code, 1008, what);
    assert.ok(close.reason.length > 0, 'the close carries a reason');
  });
});
