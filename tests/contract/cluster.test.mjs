// redis+cluster:// as an independent client sees it (docs/protocol.md section 9):
// a gateway on a Redis Cluster of three primaries, driven by the `ws` package
// and node:http. Tutorial clients in 30 rooms (spread over every primary)
// get every message in order and history agrees; v1 clients get acks, live
// messages and presence across rooms of every shard.
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectV1, contractSuite, room } from './lib.mjs';
import { waitFor } from '../browser/lib/stack.mjs';

const ROOMS = 30;

contractSuite('cluster', {}, (ctx) => {
  test('tutorial clients: every message in order in 30 rooms, history the same', async () => {
    const rooms = Array.from({ length: ROOMS }, () => room('cl'));
    const pairs = [];
    for (const r of rooms) {
      const reader = await connect(ctx, `room=${r}`);
      const writer = await connect(ctx, `room=${r}`);
      pairs.push({ r, reader, writer });
    }
    for (const { writer } of pairs) {
      for (let i = 1; i <= 5; i++) writer.send({ username: 'tut', text: `m${i}` });
    }
    for (const { r, reader } of pairs) {
      const got = await waitFor(`5 messages in ${r}`, () => {
        const texts = reader.frames.filter((f) => f.text).map((f) => f.text);
        return texts.length >= 5 ? texts : null;
      });
      assert.deepEqual(got, ['m1', 'm2', 'm3', 'm4', 'm5'], r);
      const ids = reader.frames.filter((f) => f.text).map((f) => f.id);
      assert.deepEqual(ids.map((id) => id - ids[0]), [0, 1, 2, 3, 4], `${r} ids ${ids}`);
      const res = await fetch(`${ctx.gw.url}/api/rooms/${r}/messages`);
      assert.equal(res.status, 200);
      assert.deepEqual((await res.json()).map((m) => m.text), got, `${r} history`);
    }
    // The rooms' keys landed on every primary.
    for (const port of ctx.stack.clusterPorts) {
      const keys = Number(execFileSync('redis-cli', ['-p', String(port), 'DBSIZE'], { encoding: 'utf8' }));
      assert.ok(keys > 0, `node ${port} holds no room`);
    }
  });

  test('v1 clients: acks, live messages and presence in rooms of every shard', async () => {
    const rooms = Array.from({ length: 9 }, () => room('clv1'));
    const alice = await connectV1(ctx, `room=${rooms[0]}&username=alice`);
    const bob = await connectV1(ctx, `room=${rooms[0]}&username=bob`);
    for (const r of rooms.slice(1)) {
      alice.send({ type: 'join', room: r });
      await alice.waitFrame(`alice joined ${r}`, (f) => f.type === 'joined' && f.room === r);
    }
    for (const r of rooms.slice(1)) {
      bob.send({ type: 'join', room: r });
      await bob.waitFrame(`bob joined ${r}`, (f) => f.type === 'joined' && f.room === r);
      await alice.waitFrame(`bob's presence in ${r}`, (f) =>
        f.type === 'presence' && f.room === r && f.username === 'bob' && f.event === 'join');
    }
    for (const [i, r] of rooms.entries()) alice.send({ type: 'message', room: r, text: `hi ${i}`, ref: `r${i}` });
    for (const [i, r] of rooms.entries()) {
      const ack = await alice.waitFrame(`ack r${i}`, (f) => (f.type === 'ack' || f.type === 'error') && f.ref === `r${i}`);
      assert.equal(ack.type, 'ack', JSON.stringify(ack));
      const message = await bob.waitFrame(`bob gets hi ${i}`, (f) => f.type === 'message' && f.room === r && f.text === `hi ${i}`);
      assert.equal(message.id, ack.id);
    }
  });
}, { cluster: true });
