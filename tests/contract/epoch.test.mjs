// Resuming with an epoch that is not the room's (docs/protocol.md section 4): the
// handshake (or join) is accepted, `joined` says recovered:false, and the
// client gets the room's last messages (here all 3) before or with `joined`,
// for foreign epochs of any shape: mixed case with - and _, all letters, 40
// characters; in the connection URL and in a `join` frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectV1, contractSuite, publish, room } from './lib.mjs';

const FOREIGN = ['stale-Epoch_123', 'zzzzzzzz', 'abcdefghij'.repeat(4)];

/** Asserts a joined of r (not an error) with recovered:false and the 3 messages before it. */
async function expectReplay(client, r, texts, from = 0) {
  const answer = await client.waitFrame(`joined of ${r} or an error`, (f) =>
    client.frames.indexOf(f) >= from && (f.type === 'joined' && f.room === r || f.type === 'error'), 5000);
  assert.equal(answer.type, 'joined', `got ${JSON.stringify(answer)}`);
  const upTo = client.frames.indexOf(answer);
  const got = client.frames.slice(from, upTo).filter((f) => f.type === 'message' && f.room === r).map((f) => f.text);
  assert.equal(answer.recovered, false, `joined ${JSON.stringify(answer)}`);
  assert.deepEqual(got, texts, `messages before joined; joined ${JSON.stringify(answer)}`);
}

contractSuite('epoch', {}, (ctx) => {
  const r = room('epoch');
  const texts = ['one', 'two', 'three'];
  test('publish 3 messages into the room', async () => {
    for (const text of texts) await publish(ctx.gw, r, 'backend', text);
  });

  for (const epoch of FOREIGN) {
    test(`URL ?since=1&epoch=${epoch}: accepted, recovered:false, all 3 messages`, async () => {
      const query = `room=${r}&username=resumer&since=1&epoch=${encodeURIComponent(epoch)}`;
      const client = await connect(ctx, query, { protocol: 'chat.v1' }).catch((e) => assert.fail(`handshake: ${e.message}`));
      await expectReplay(client, r, texts);
    });

    test(`join frame since:1 epoch:${epoch}: recovered:false, all 3 messages`, async () => {
      const client = await connectV1(ctx, `room=${room('epochhome')}&username=joiner`);
      const from = client.frames.length;
      client.send({ type: 'join', room: r, since: 1, epoch });
      await expectReplay(client, r, texts, from);
    });
  }
});
