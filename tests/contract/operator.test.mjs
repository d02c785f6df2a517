// The operator API (docs/protocol.md section 10) driven by independent
// clients, node:http and the `ws` package, at the default WORKERS and at 1
// and 2: every call, each request on a fresh connection (so with several
// workers they land on different ones). A deleted message reaches v1 clients
// as a `delete` frame and a tombstone, never plain clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_KEY, connect, connectV1, contractSuite, publish, request, room } from './lib.mjs';

const auth = { authorization: `Bearer ${API_KEY}` };

async function call(ctx, method, pathname, body) {
  const headers = { ...auth };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return request(ctx.gw.url, pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

contractSuite('operator', {}, (ctx) => {
  const r = room('ops');
  const other = room('opsother');
  let alice;
  let carol;

  test('a v1 client and a plain client in the room; POST /api/messages stores into two rooms', async () => {
    alice = await connectV1(ctx, `room=${r}&username=alice`);
    carol = await connect(ctx, `room=${r}`);
    const res = await call(ctx, 'POST', '/api/messages', { rooms: [r, other], username: 'ops', text: 'both' });
    assert.equal(res.status, 201, res.body);
    const stored = JSON.parse(res.body);
    assert.deepEqual(stored.map((m) => [m.room, m.id, m.text]), [[r, 1, 'both'], [other, 1, 'both']]);
    await publish(ctx.gw, r, 'ops', 'two');
    await publish(ctx.gw, r, 'ops', 'three');
    await alice.waitFrame('message 3', (f) => f.type === 'message' && f.id === 3);
    await carol.waitFrame('message 3', (f) => f.id === 3);
  });

  test('GET /api/rooms lists the room with its distinct users and last id; 401 without the key', async () => {
    const res = await call(ctx, 'GET', '/api/rooms');
    assert.equal(res.status, 200, res.body);
    assert.match(res.headers['content-type'], /application\/json/);
    const rooms = JSON.parse(res.body);
    assert.deepEqual(rooms.find((x) => x.room === r), { room: r, online: 1, last_id: 3 });
    assert.equal(rooms.find((x) => x.room === other), undefined, 'nobody is present there');
    assert.equal((await request(ctx.gw.url, '/api/rooms')).status, 401);
  });

  test('GET /api/rooms/{room}/presence names the v1 user', async () => {
    const res = await call(ctx, 'GET', `/api/rooms/${r}/presence`);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), [{ username: 'alice' }]);
  });

  test('DELETE a message: 204, v1 gets the delete frame, the plain client nothing, history the tombstone', async () => {
    const original = JSON.parse((await call(ctx, 'GET', `/api/rooms/${r}/messages`)).body)[1];
    const res = await call(ctx, 'DELETE', `/api/rooms/${r}/messages/2`);
    assert.equal(res.status, 204, res.body);
    assert.equal(res.body, '');
    const deleted = await alice.waitFrame('delete frame', (f) => f.type === 'delete');
    assert.deepEqual(deleted, { type: 'delete', room: r, epoch: original.epoch, id: 2 });
    assert.equal((await call(ctx, 'DELETE', `/api/rooms/${r}/messages/2`)).status, 204, 'again');
    assert.equal((await call(ctx, 'DELETE', `/api/rooms/${r}/messages/9`)).status, 404);
    assert.equal((await call(ctx, 'DELETE', `/api/rooms/${r}/messages/two`)).status, 400);
    await publish(ctx.gw, r, 'ops', 'four');
    await carol.waitFrame('message 4', (f) => f.id === 4);
    assert.deepEqual(carol.frames.map((f) => f.id), [1, 2, 3, 4], 'no delete frame, nothing else');
    const history = JSON.parse((await call(ctx, 'GET', `/api/rooms/${r}/messages`)).body);
    assert.deepEqual(history[1], { type: 'message', room: r, epoch: original.epoch, id: 2, ts: original.ts, deleted: true });
  });

  test('a later plain joiner skips the deleted message; a v1 joiner gets its tombstone', async () => {
    const plain = await connect(ctx, `room=${r}`);
    await plain.waitFrame('message 4', (f) => f.id === 4);
    assert.deepEqual(plain.frames.map((f) => f.text), ['both', 'three', 'four']);
    const v1 = await connectV1(ctx, `room=${r}&username=dave`);
    const replay = v1.frames.filter((f) => f.type === 'message');
    assert.deepEqual(replay.map((f) => [f.id, f.deleted ?? false]), [[1, false], [2, true], [3, false], [4, false]]);
  });

  test('POST /api/users/{u}/disconnect closes that user with 4002', async () => {
    const res = await call(ctx, 'POST', '/api/users/alice/disconnect');
    assert.equal(res.status, 202, res.body);
    assert.deepEqual(await alice.waitClose(), { code: 4002, reason: 'disconnected' });
  });
});
