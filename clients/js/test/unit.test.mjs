// The client without a gateway: a fake WebSocket and fake timers, for what a
// gateway does rarely or not yet (delete frames, replayed tombstones, 4002,
// 4001) and for the pure parts (batch split, backoff, JWT exp).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatClient, createBackoff, jwtExp, splitFrames } from '../src/index.js';
import { record } from './helpers.mjs';

/** Timers that run only when the test says so. */
function fakeTimers() {
  const pending = new Map();
  let next = 1;
  return {
    pending,
    setTimeout(fn, ms) { pending.set(next, { fn, ms }); return next++; },
    clearTimeout(id) { pending.delete(id); },
    /** Runs every timer due within ms (the reconnect's backoff, at most). */
    runAll(maxMs = Infinity) {
      for (const [id, t] of [...pending]) if (t.ms <= maxMs) { pending.delete(id); t.fn(); }
    },
  };
}

/** A WebSocket class whose instances the test drives as the gateway would. */
function fakeSocketClass() {
  const sockets = [];
  class FakeSocket {
    constructor(url, protocol) {
      Object.assign(this, { url, protocol, readyState: 0, sent: [] });
      sockets.push(this);
    }
    send(data) { this.sent.push(JSON.parse(data)); }
    close() { this.serverClose(1000, ''); }
    // The gateway's side:
    open() { this.readyState = 1; this.onopen({}); }
    receive(...frames) { this.onmessage({ data: frames.map((f) => JSON.stringify(f)).join('\n') }); }
    serverClose(code, reason) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }
  }
  return { FakeSocket, sockets };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

async function connected({ rooms = ['lobby'], ...options } = {}) {
  const { FakeSocket, sockets } = fakeSocketClass();
  const timers = fakeTimers();
  const client = new ChatClient({ url: 'ws://gw.test/websocket', WebSocket: FakeSocket, timers, rooms, ...options });
  const events = record(client);
  client.connect();
  await flush();
  const ws = sockets[0];
  ws.open();
  ws.receive({ type: 'welcome', conn: 'c1', username: 'ann', gateway: 'gw-1' });
  return { client, events, sockets, ws, timers };
}

const msg = (id, extra = {}) => ({ type: 'message', room: 'lobby', epoch: 'e1', id, ts: 1000 + id, username: 'bo', text: `m${id}`, ...extra });

test('splitFrames: one frame per line, blank and broken lines skipped', () => {
  assert.deepEqual(splitFrames('{"a":1}\n\n{"b":2}\nnot json\n[1]\n{"c":3}\n'), [{ a: 1 }, { b: 2 }, { c: 3 }]);
  assert.deepEqual(splitFrames(new Uint8Array(2)), []);
});

test('a batched WebSocket frame becomes its messages, in order, each once', async () => {
  const { events, ws } = await connected();
  ws.receive(msg(1), msg(2), { type: 'joined', room: 'lobby', epoch: 'e1', last_id: 2, presence: [{ username: 'ann' }] });
  ws.receive(msg(3), msg(3), msg(2), msg(4));
  assert.deepEqual(events.message.map((m) => [m.id, m.live]), [[1, false], [2, false], [3, true], [4, true]]);
});

test('the URL joins the first room and resumes it with since/epoch; the others are joined by frame', async () => {
  const { client, sockets, ws, timers } = await connected({ rooms: ['lobby', 'dev'] });
  assert.equal(new URL(ws.url).searchParams.get('room'), 'lobby');
  assert.equal(ws.protocol, 'chat.v1');
  const join = ws.sent.find((f) => f.type === 'join');
  assert.equal(join.room, 'dev');
  assert.equal(join.since, undefined);
  ws.receive(msg(1), { type: 'joined', room: 'lobby', epoch: 'e1', last_id: 1 });
  ws.receive({ type: 'joined', room: 'dev', epoch: 'd1', last_id: 7 });
  ws.serverClose(1006, '');
  assert.equal(client.state, 'offline');
  timers.runAll(8000);
  await flush();
  const next = new URL(sockets[1].url);
  assert.deepEqual([next.searchParams.get('since'), next.searchParams.get('epoch')], ['1', 'e1']);
  sockets[1].open();
  sockets[1].receive({ type: 'welcome', conn: 'c2', username: 'ann' });
  const rejoin = sockets[1].sent.find((f) => f.type === 'join');
  assert.deepEqual([rejoin.room, rejoin.since, rejoin.epoch], ['dev', 7, 'd1']);
});

test('a delete frame and a replayed tombstone both become delete events', async () => {
  const { events, ws } = await connected();
  ws.receive(msg(1), { type: 'message', room: 'lobby', epoch: 'e1', id: 2, ts: 5, deleted: true }, msg(3),
    { type: 'joined', room: 'lobby', epoch: 'e1', last_id: 3 });
  assert.deepEqual(events.message.map((m) => m.id), [1, 3]);
  assert.deepEqual(events.delete, [{ room: 'lobby', epoch: 'e1', id: 2, replayed: true }]);
  ws.receive({ type: 'delete', room: 'lobby', epoch: 'e1', id: 3 });
  ws.receive({ type: 'delete', room: 'lobby', epoch: 'other', id: 1 }); // another epoch's id 1 is not ours
  assert.deepEqual(events.delete.at(-1), { room: 'lobby', epoch: 'e1', id: 3, replayed: false });
  assert.equal(events.delete.length, 2);
});

test('a new epoch without a fresh joined starts the room over', async () => {
  const { events, ws } = await connected();
  ws.receive(msg(5), { type: 'joined', room: 'lobby', epoch: 'e1', last_id: 5 });
  ws.receive(msg(1, { epoch: 'e2' }));
  assert.deepEqual(events.reset.map((r) => r.epoch), ['e1', 'e2']);
  assert.deepEqual(events.message.map((m) => [m.epoch, m.id]), [['e1', 5], ['e2', 1]]);
});

test('4002 (an operator\'s disconnect): stopped, no reconnect', async () => {
  const { client, sockets, ws, timers } = await connected();
  ws.serverClose(4002, 'disconnected');
  assert.equal(client.state, 'stopped');
  timers.runAll();
  await flush();
  assert.equal(sockets.length, 1);
});

test('4001: a fresh token from getToken before the next connection', async () => {
  let n = 0;
  const getToken = async () => `t${++n}`; // no exp: never refreshed on a timer
  const { client, sockets, ws, timers } = await connected({ getToken });
  assert.deepEqual(ws.sent[0], { type: 'auth', token: 't1' });
  ws.serverClose(4001, 'token expired');
  assert.equal(client.state, 'offline');
  timers.runAll(8000);
  await flush();
  sockets[1].open();
  assert.deepEqual(sockets[1].sent[0], { type: 'auth', token: 't2' });
  assert.equal(new URL(sockets[1].url).searchParams.get('username'), null, 'the token names the user');
});

test('a pending send fails with the connection and goes out again under its ref after the rejoin', async () => {
  const { client, events, sockets, ws, timers } = await connected();
  ws.receive({ type: 'joined', room: 'lobby', epoch: 'e1', last_id: 0 });
  const { ref } = client.send('lobby', 'hello');
  assert.deepEqual(ws.sent.at(-1), { type: 'message', room: 'lobby', text: 'hello', ref });
  ws.serverClose(1006, '');
  const failed = events.send.at(-1);
  assert.deepEqual([failed.state, failed.error.code, failed.resend], ['failed', 'disconnected', true]);
  timers.runAll(8000);
  await flush();
  sockets[1].open();
  sockets[1].receive({ type: 'welcome', conn: 'c2', username: 'ann' });
  assert.equal(sockets[1].sent.filter((f) => f.type === 'message').length, 0, 'not before the room is joined');
  sockets[1].receive({ type: 'joined', room: 'lobby', epoch: 'e1', last_id: 1, recovered: true });
  assert.deepEqual(sockets[1].sent.at(-1), { type: 'message', room: 'lobby', text: 'hello', ref });
  sockets[1].receive({ type: 'ack', ref, id: 1, ts: 9 });
  assert.deepEqual(events.send.map((s) => s.state), ['queued', 'pending', 'failed', 'pending', 'acked']);
  assert.equal(client.sendState(ref), null, 'forgotten once acked');
});

test('a url list is tried in turn', async () => {
  const { FakeSocket, sockets } = fakeSocketClass();
  const timers = fakeTimers();
  const client = new ChatClient({ url: ['ws://a.test/websocket', 'ws://b.test/websocket'], WebSocket: FakeSocket, timers });
  client.connect();
  await flush();
  sockets[0].serverClose(1006, '');
  timers.runAll(8000);
  await flush();
  assert.deepEqual(sockets.map((s) => new URL(s.url).host), ['a.test', 'b.test']);
  assert.equal(new URL(sockets[0].url).searchParams.get('room'), 'lobby', 'no room: the lobby');
});

test('backoff: exponential, capped, jittered between half and all of the cap', () => {
  const low = createBackoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => low.next()), [50, 100, 200, 400, 500, 500]);
  const high = createBackoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
  assert.deepEqual([1, 2, 3].map(() => high.next()), [100, 200, 400]);
  high.reset();
  assert.equal(high.next(), 100);
});

test('jwtExp reads the payload\'s exp (base64url), 0 when there is none', () => {
  const payload = Buffer.from(JSON.stringify({ sub: 'zoë', exp: 1800000000 })).toString('base64url');
  assert.equal(jwtExp(`x.${payload}.y`), 1800000000);
  assert.equal(jwtExp('garbage'), 0);
  assert.equal(jwtExp(`x.${Buffer.from('{}').toString('base64url')}.y`), 0);
});

test('a big room lists some users and counts them all; counts replace events above the limit', async () => {
  const { client, events, ws } = await connected();
  ws.receive({ type: 'joined', room: 'lobby', epoch: 'e1', last_id: 0, presence: [{ username: 'ann' }, { username: 'bo' }], online: 250 });
  assert.equal(events.joined[0].online, 250);
  assert.equal(client.room('lobby').online, 250);
  ws.receive({ type: 'presence', room: 'lobby', online: 251 });
  const count = events.presence.at(-1);
  assert.equal(count.event, 'count');
  assert.equal(count.online, 251);
  // A small room counts by its events.
  ws.receive({ type: 'presence', room: 'lobby', online: 2 });
  ws.receive({ type: 'presence', room: 'lobby', event: 'join', username: 'cy' });
  assert.equal(events.presence.at(-1).online, 3);
  ws.receive({ type: 'presence', room: 'lobby', event: 'join', username: 'cy' });
  assert.equal(client.room('lobby').online, 3, 'a repeated join counts once');
  ws.receive({ type: 'presence', room: 'lobby', event: 'leave', username: 'bo' });
  assert.equal(client.room('lobby').online, 2);
});

test('a live room whose epoch changed takes the replay that follows its fresh joined', async () => {
  const { events, ws } = await connected();
  ws.receive(msg(1), msg(2), { type: 'joined', room: 'lobby', epoch: 'e1', last_id: 2 });
  // The gateway tells of the new epoch first, then replays it.
  ws.receive({ type: 'joined', room: 'lobby', epoch: 'e2', last_id: 3 },
    msg(1, { epoch: 'e2' }), msg(2, { epoch: 'e2' }), msg(3, { epoch: 'e2' }));
  assert.deepEqual(events.message.filter((m) => m.epoch === 'e2').map((m) => m.id), [1, 2, 3]);
  assert.ok(events.reset.some((r) => r.epoch === 'e2'));
});

test('a delete during a join turns the buffered copy into its tombstone', async () => {
  const { events, ws } = await connected();
  ws.receive(msg(1), msg(2), { type: 'delete', room: 'lobby', epoch: 'e1', id: 2 },
    { type: 'joined', room: 'lobby', epoch: 'e1', last_id: 2 });
  assert.deepEqual(events.message.map((m) => m.id), [1], 'the deleted message is not shown');
  assert.ok(events.delete.some((d) => d.id === 2));
});

test('leaves of users a partial list left out still lower the count', async () => {
  const { client, ws } = await connected();
  ws.receive({ type: 'joined', room: 'lobby', epoch: 'e1', last_id: 0, presence: [{ username: 'ann' }], online: 150 });
  ws.receive({ type: 'presence', room: 'lobby', event: 'leave', username: 'unlisted' });
  assert.equal(client.room('lobby').online, 149);
});

test('a presence event carries the count after it, which wins over the list', async () => {
  const { client, events, ws } = await connected();
  ws.receive({ type: 'joined', room: 'lobby', epoch: 'e1', last_id: 0, presence: [{ username: 'ann' }], online: 120 });
  ws.receive({ type: 'presence', room: 'lobby', event: 'join', username: 'zed', online: 121 });
  assert.equal(client.room('lobby').online, 121);
  assert.ok(client.room('lobby').presence.has('zed'));
  assert.equal(events.presence.at(-1).event, 'join');
});
