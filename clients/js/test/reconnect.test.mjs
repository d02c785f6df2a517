// Reconnecting against real gateways on one Redis (docs/protocol.md section 4):
// a gateway killed with SIGKILL under the client, which resumes each room on
// the other gateway with since/epoch and passes on every message sent
// meanwhile exactly once; and a send whose ack was lost with the connection,
// retried under the same ref and stored once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ChatClient } from '../src/index.js';
import {
  Stack, WebSocket, makeTappedSocket, publish, record, room, startGateway, stopStack, storedMessages, waitFor,
} from './helpers.mjs';

let stack, gwA, gwB;
const clients = [];

before(async () => {
  stack = new Stack();
  await stack.startRedis();
  // One process each (WORKERS=1): the SIGKILL must take the whole gateway down.
  [gwA, gwB] = await Promise.all([startGateway(stack, 'gw-a', { WORKERS: '1' }), startGateway(stack, 'gw-b', { WORKERS: '1' })]);
});

after(async () => {
  for (const c of clients) c.close();
  if (stack) assert.deepEqual(await stopStack(stack), [], 'sanitizer reports in the gateway logs');
});

function track(client) { clients.push(client); return client; }

const idsOf = (events, roomName) => events.message.filter((m) => m.room === roomName).map((m) => m.id);

test('through a SIGKILL of its gateway the client resumes every room on the other one: nothing lost, nothing twice', { timeout: 60000 }, async () => {
  const rooms = [room('kill-a'), room('kill-b')];
  let meanwhileSent;
  const meanwhile = new Promise((resolve) => { meanwhileSent = resolve; });
  const client = track(new ChatClient({
    // The first attempt goes to A; later ones to B once the messages of the
    // outage are stored, so that only the resume can bring them.
    url: async (attempt) => {
      if (attempt === 0) return `${gwA.ws}/websocket`;
      await meanwhile;
      return `${gwB.ws}/websocket`;
    },
    WebSocket, username: 'kim', rooms,
  }));
  const events = record(client);
  client.connect();
  await waitFor('online on A, both rooms joined', () =>
    client.gateway === 'gw-a' && rooms.every((r) => client.room(r).status === 'joined'));
  for (const r of rooms) {
    await publish(gwB, r, 'lee', `${r} before 1`);
    await publish(gwB, r, 'lee', `${r} before 2`);
  }
  await waitFor('the first messages', () => rooms.every((r) => idsOf(events, r).length === 2));

  gwA.proc.kill('SIGKILL');
  await gwA.proc.exitPromise;
  await waitFor('the client noticed', () => events.disconnect.length === 1);
  for (const r of rooms) for (let i = 1; i <= 3; i++) await publish(gwB, r, 'lee', `${r} meanwhile ${i}`);
  meanwhileSent();

  await waitFor('online on B with every message', () =>
    client.gateway === 'gw-b' && rooms.every((r) => idsOf(events, r).length === 5), { timeoutMs: 20000 });
  for (const r of rooms) {
    assert.deepEqual(idsOf(events, r), [1, 2, 3, 4, 5], `${r}: every id once, in order`);
    assert.deepEqual(events.message.filter((m) => m.room === r).map((m) => m.text),
      [`${r} before 1`, `${r} before 2`, `${r} meanwhile 1`, `${r} meanwhile 2`, `${r} meanwhile 3`]);
    const rejoin = events.joined.filter((j) => j.room === r).at(-1);
    assert.equal(rejoin.recovered, true, `${r} resumed with since/epoch`);
    assert.equal(rejoin.reset, false);
    // The resume brought them (live: false), not the bus after the join.
    assert.ok(events.message.filter((m) => m.room === r && m.text.includes('meanwhile')).every((m) => !m.live));
  }
  assert.equal(events.reset.length, rooms.length, 'a room starts over only at its first join');
  // And the conversation goes on through B.
  await publish(gwB, rooms[0], 'lee', 'after');
  await waitFor('a live message on B', () => idsOf(events, rooms[0]).at(-1) === 6);
  client.close();
});

test('a send whose ack is lost with the connection is retried under its ref and stored once', { timeout: 60000 }, async () => {
  const r = room('once');
  const text = 'stored exactly once';
  let lostOnce = false;
  const { WebSocket: Lossy, tap } = makeTappedSocket({
    // Lose the frame that carries the ack of the send, and the connection with it.
    lose: (data) => !lostOnce && data.split('\n').some((line) => line.includes('"type":"ack"')) && (lostOnce = true),
  });
  const client = track(new ChatClient({ url: [`${gwB.ws}/websocket`], WebSocket: Lossy, username: 'ola', rooms: [r] }));
  const events = record(client);
  client.connect();
  await waitFor('joined', () => client.room(r)?.status === 'joined');
  const { ref } = client.send(r, text);

  await waitFor('acked after the reconnect', () => client.sendState(ref)?.state === 'acked' ||
    events.send.some((s) => s.ref === ref && s.state === 'acked'));
  const states = events.send.filter((s) => s.ref === ref).map((s) => s.state);
  assert.deepEqual(states, ['queued', 'pending', 'failed', 'pending', 'acked'], 'failed with the connection, then sent again');
  assert.equal(events.send.find((s) => s.ref === ref && s.state === 'failed').error.code, 'disconnected');
  assert.equal(tap.lost.length, 1);
  assert.equal(events.disconnect.length, 1);
  const onWire = tap.sent.map((d) => JSON.parse(d)).filter((f) => f.type === 'message');
  assert.deepEqual(onWire.map((f) => [f.ref, f.text]), [[ref, text], [ref, text]], 'the same ref twice');

  const stored = (await storedMessages(gwB, r)).filter((m) => m.text === text);
  assert.equal(stored.length, 1, 'stored once');
  const acked = events.send.find((s) => s.ref === ref && s.state === 'acked');
  assert.equal(acked.id, stored[0].id, 'the retry got the first store\'s ack');
  assert.deepEqual(events.message.filter((m) => m.text === text).map((m) => m.id), [stored[0].id], 'passed on once');
  client.close();
});
