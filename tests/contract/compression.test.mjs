// COMPRESSION=on (docs/protocol.md section 8): permessage-deflate is negotiated,
// messages flow between clients with and without it, and every size limit
// applies to the inflated payload: a 4 MB plain frame (a few KB on the wire)
// is closed with 1009 and the gateway stays up; a 4 MB v1 frame gets error
// too_large with its ref and the connection stays open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoProblems, connect, connectV1, contractSuite, request, room } from './lib.mjs';

const MB = 1024 * 1024;

contractSuite('compression', { COMPRESSION: 'on' }, (ctx) => {
  test('deflate and non-deflate clients of one room get each other\'s messages', async () => {
    const r = room('deflate');
    const v1 = await connectV1(ctx, `room=${r}&username=v`, { deflate: true });
    assert.match(v1.ws.extensions, /permessage-deflate/, `v1 extensions: "${v1.ws.extensions}"`);
    const plainDeflate = await connect(ctx, `room=${r}`, { deflate: true });
    assert.match(plainDeflate.ws.extensions, /permessage-deflate/, `plain extensions: "${plainDeflate.ws.extensions}"`);
    const sender = await connect(ctx, `room=${r}`, { deflate: false });

    sender.send({ username: 'p', text: 'hello compressed' });
    const isIt = (f) => f.type === 'message' && f.text === 'hello compressed';
    await v1.waitFrame('the message at the v1 deflate client', isIt, 5000);
    await plainDeflate.waitFrame('the message at the plain deflate client', isIt, 5000);
  });

  test('a plain deflate client sending 4 MB (inflated) is closed with 1009; the gateway stays up', async (t) => {
    const client = await connect(ctx, `room=${room('bomb')}`, { deflate: true });
    client.ws.send('a'.repeat(4 * MB), () => {});
    const problems = [];
    try {
      const close = await client.waitClose(10000);
      if (close.code !== 1009 || !close.reason) problems.push(`close ${JSON.stringify(close)}, want 1009 with a reason`);
    } catch (e) {
      problems.push(e.message);
    }
    t.diagnostic(client.summary());
    const health = await request(ctx.gw.url, '/healthz').catch((e) => ({ status: e.message }));
    if (health.status !== 200) problems.push(`/healthz after it: ${health.status}`);
    assertNoProblems(problems);
  });

  test('a v1 deflate client sending a 4 MB message gets too_large with its ref and stays open', async (t) => {
    const client = await connectV1(ctx, `room=${room('bombv1')}&username=z`, { deflate: true });
    client.send({ type: 'message', ref: 'huge1', text: 'a'.repeat(4 * MB) });
    const answered = (f) => f.type === 'error' || f.type === 'ack';
    try {
      await client.waitFrame('an answer to the 4 MB frame', (f) => client.close || answered(f), 10000);
    } finally {
      t.diagnostic(client.summary());
    }
    const problems = [];
    const answer = client.frames.find(answered);
    if (client.close) {
      problems.push(`closed ${JSON.stringify(client.close)}; frames ${JSON.stringify(client.frames.slice(2)).slice(0, 300)}`);
    }
    if (answer && (answer.code !== 'too_large' || answer.ref !== 'huge1')) {
      problems.push(`answer ${JSON.stringify(answer)}, want error too_large ref huge1`);
    }
    if (!client.close) {
      client.send({ type: 'message', ref: 'after1', text: 'still here' });
      try {
        const acked = (f) => f.type === 'ack' && f.ref === 'after1';
        await client.waitFrame('the ack of a normal message after it', (f) => acked(f) || client.close, 5000);
        if (client.close) problems.push(`closed after the 4 MB frame: ${JSON.stringify(client.close)}`);
      } catch (e) {
        problems.push(e.message);
      }
    }
    assertNoProblems(problems);
  });
});
