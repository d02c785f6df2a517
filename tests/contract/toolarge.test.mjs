// A chat.v1 frame over MAX_FRAME_BYTES (8192) gets error `too_large` carrying
// the frame's ref, and the connection stays open (docs/protocol.md sections 4 and
// 5): for a 9000-byte frame and for a 1 MB one; a normal message after them
// is acked.
import { test } from 'node:test';
import { assertNoProblems, connectV1, contractSuite, room } from './lib.mjs';

const MB = 1024 * 1024;

contractSuite('toolarge', {}, (ctx) => {
  test('v1 frames of 9000 bytes and 1 MB get too_large with their refs; the connection stays open', async (t) => {
    const client = await connectV1(ctx, `room=${room('large')}&username=large`);
    // The first error or ack after a send (or the close) is its answer.
    const step = async (what, ref, text) => {
      const from = client.frames.length;
      client.ws.send(JSON.stringify({ type: 'message', ref, text }), () => {});
      try {
        const answer = (f) => f.type === 'error' || f.type === 'ack';
        await client.waitFrame(`${what} (ref ${ref})`, (f) => client.close || client.frames.indexOf(f) >= from && answer(f));
        return client.frames.slice(from).find(answer) ?? {};
      } finally {
        t.diagnostic(`after ${ref}: ${client.summary()}; new frames ${JSON.stringify(client.frames.slice(from)).slice(0, 300)}`);
      }
    };

    // Every step runs, so that one report shows all three answers.
    const problems = [];
    const expect = (ref, answer, type, code) => {
      const desc = `${ref}: got ${JSON.stringify(answer)}${client.close ? `, closed ${JSON.stringify(client.close)}` : ''}`;
      if (answer.type !== type || answer.code !== code || answer.ref !== ref || client.close) {
        problems.push(`${desc}; want ${type}${code ? ` ${code}` : ''} with ref ${ref} and the connection open`);
      }
    };
    expect('big1', await step('answer to a 9000-byte frame', 'big1', 'a'.repeat(9000)), 'error', 'too_large');
    if (!client.close) expect('big2', await step('answer to a 1 MB frame', 'big2', 'a'.repeat(MB)), 'error', 'too_large');
    if (!client.close) expect('ok1', await step('ack of a normal message', 'ok1', 'fine'), 'ack', undefined);
    assertNoProblems(problems);
  });
});
