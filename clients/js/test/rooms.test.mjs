// Rooms against a real gateway (docs/protocol.md section 4): a join's replay
// batched into few WebSocket frames and split on '\n', presence as users come
// and go, and paging history back to the room's first message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ChatClient } from '../src/index.js';
import {
  Stack, WebSocket, makeTappedSocket, publish, record, room, startGateway, stopStack, waitFor,
} from './helpers.mjs';

let stack, gw;
const clients = [];

before(async () => {
  stack = new Stack();
  await stack.startRedis();
  gw = await startGateway(stack, 'gw-rooms', { WORKERS: '1' });
});

after(async () => {
  for (const c of clients) c.close();
  if (stack) assert.deepEqual(await stopStack(stack), [], 'sanitizer reports in the gateway logs');
});

function open(options) {
  const client = new ChatClient({ url: `${gw.ws}/websocket`, WebSocket, ...options });
  clients.push(client);
  const events = record(client);
  client.connect();
  return { client, events };
}

test('a join\'s replay comes batched and is split into every message, in order', { timeout: 60000 }, async () => {
  const r = room('batch');
  for (let i = 1; i <= 60; i++) await publish(gw, r, 'poster', `batched ${i}`);
  const { WebSocket: Tapped, tap } = makeTappedSocket();
  const { client, events } = open({ WebSocket: Tapped, username: 'reader', rooms: [r] });
  await waitFor('joined', () => events.joined.length === 1);
  assert.deepEqual(events.message.map((m) => m.id), Array.from({ length: 60 }, (_, i) => i + 1));
  assert.deepEqual(events.message.map((m) => m.text), Array.from({ length: 60 }, (_, i) => `batched ${i + 1}`));
  assert.ok(events.message.every((m) => m.live === false && m.username === 'poster' && m.room === r));
  const batched = tap.received.filter((data) => data.includes('\n'));
  assert.ok(batched.length > 0, `no WebSocket frame carried several chat frames (${tap.received.length} frames)`);
  assert.ok(tap.received.length < 60, `60 messages in ${tap.received.length} WebSocket frames`);
  client.close();
});

test('presence: who is there on join, then who comes and goes', { timeout: 60000 }, async () => {
  const r = room('presence');
  const alice = open({ username: 'alice', rooms: [r] });
  await waitFor('alice joined', () => alice.events.joined.length === 1);
  assert.deepEqual(alice.events.joined[0].presence, ['alice']);

  const bob = open({ username: 'bob', rooms: [r] });
  await waitFor('bob joined', () => bob.events.joined.length === 1);
  assert.deepEqual(bob.events.joined[0].presence.sort(), ['alice', 'bob']);
  const join = await waitFor('alice sees bob come', () => alice.events.presence.find((p) => p.event === 'join' && p.username === 'bob'));
  assert.deepEqual(join.users.sort(), ['alice', 'bob']);
  assert.deepEqual([...alice.client.room(r).presence].sort(), ['alice', 'bob']);

  bob.client.close();
  const leave = await waitFor('alice sees bob go', () => alice.events.presence.find((p) => p.event === 'leave' && p.username === 'bob'));
  assert.deepEqual(leave.users, ['alice']);
  alice.client.close();
});

test('history pages back to the first message; a live message after it comes once', { timeout: 60000 }, async () => {
  const r = room('pages');
  for (let i = 1; i <= 130; i++) await publish(gw, r, 'archivist', `page ${i}`);
  const { client, events } = open({ username: 'scroller', rooms: [r], historyLimit: 50 });
  await waitFor('joined', () => events.joined.length === 1);
  // The join replays the last HISTORY_ON_JOIN (100).
  const shown = events.message.map((m) => m.id);
  assert.deepEqual(shown, Array.from({ length: 100 }, (_, i) => i + 31));

  const page1 = await client.loadHistory(r, { before: 31, limit: 20 });
  assert.deepEqual(page1.messages.map((m) => m.id), Array.from({ length: 20 }, (_, i) => i + 11));
  assert.equal(page1.atStart, false);
  assert.equal(page1.messages[0].text, 'page 11');
  const page2 = await client.loadHistory(r, { before: 11 });
  assert.deepEqual(page2.messages.map((m) => m.id), Array.from({ length: 10 }, (_, i) => i + 1));
  assert.equal(page2.atStart, true);
  // Paging back is not a live message.
  assert.equal(events.message.length, 100);

  // A live message still comes once, after the pages.
  await publish(gw, r, 'archivist', 'page 131');
  await waitFor('the live one', () => events.message.at(-1)?.id === 131);
  assert.equal(events.message.at(-1).live, true);
  client.close();
});

test('send: queued until joined, pending, acked; refused ones fail with the gateway\'s code and can be retried', { timeout: 60000 }, async () => {
  const r = room('sends');
  const { client, events } = open({ username: 'sam', rooms: [r] });
  const early = client.send(r, 'queued before the join');
  assert.equal(early.state, 'queued');
  await waitFor('acked', () => events.send.some((s) => s.ref === early.ref && s.state === 'acked'));
  const tooLong = client.send(r, 'x'.repeat(2001));
  const failed = await waitFor('refused', () => events.send.find((s) => s.ref === tooLong.ref && s.state === 'failed'));
  assert.equal(failed.error.code, 'invalid');
  assert.equal(failed.resend, false);
  assert.equal(client.retry(tooLong.ref), true);
  await waitFor('refused again', () => events.send.filter((s) => s.ref === tooLong.ref && s.state === 'failed').length === 2);
  client.discard(tooLong.ref);
  assert.equal(client.sendState(tooLong.ref), null);
  assert.deepEqual(events.message.map((m) => m.text), ['queued before the join']);
  client.close();
});
