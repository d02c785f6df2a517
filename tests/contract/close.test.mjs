// How a plain client is closed at the default limits (docs/protocol.md sections 2
// and 5; RATE_LIMIT 10/s, RATE_BURST 20, MAX_FRAME_BYTES 8192): a flood gets
// 1008, a 1 MB frame gets 1009, each with a reason and within 10 s, also when
// the client keeps sending small frames after the big one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, contractSuite, room } from './lib.mjs';

const MB = 1024 * 1024;

contractSuite('close', {}, (ctx) => {
  test('a plain client flooding 300 messages is closed with 1008 and a reason', async (t) => {
    const client = await connect(ctx, `room=${room('flood')}`);
    for (let i = 0; i < 300; i++) client.ws.send(JSON.stringify({ username: 'a', text: `m${i}` }), () => {});
    const close = await client.waitClose(10000);
    t.diagnostic(client.summary());
    assert.equal(close.code, 1008, client.summary());
    assert.ok(close.reason.length > 0, 'the close carries a reason');
  });

  test('a plain client sending a 1 MB text frame is closed with 1009 and a reason', async (t) => {
    const client = await connect(ctx, `room=${room('big')}`);
    client.ws.send('x'.repeat(MB), () => {});
    const close = await client.waitClose(10000);
    t.diagnostic(client.summary());
    assert.equal(close.code, 1009, client.summary());
    assert.ok(close.reason.length > 0, 'the close carries a reason');
  });

  test('a 1 MB frame followed by small frames still gets 1009 and a reason', async (t) => {
    const client = await connect(ctx, `room=${room('bigmore')}`);
    client.ws.send('x'.repeat(MB), () => {});
    // 5 small frames right behind the big one, then one every 100 ms (within the rate limit).
    let i = 0;
    const small = () => {
      if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify({ username: 'a', text: `s${i++}` }), () => {});
    };
    for (let k = 0; k < 5; k++) small();
    const timer = setInterval(small, 100);
    try {
      const close = await client.waitClose(10000);
      t.diagnostic(`${client.summary()} after ${i} small frames`);
      assert.equal(close.code, 1009, `${client.summary()} after ${i} small frames`);
      assert.ok(close.reason.length > 0, 'the close carries a reason');
    } finally {
      clearInterval(timer);
    }
  });
});
