// Login against a real gateway with AUTH_SECRET (docs/protocol.md section 10):
// the token goes as the first frame, is refreshed on the open connection
// before its exp, and after a 4001 a fresh one is fetched before reconnecting.
// Tokens are HS256, made here with node:crypto.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ChatClient, jwtExp } from '../src/index.js';
import { Stack, WebSocket, makeTappedSocket, record, room, startGateway, stopStack, waitFor } from './helpers.mjs';

const SECRET = 'client-test-secret-0123456789';
let stack, gw;
const clients = [];

function token(sub, expInSeconds) {
  const part = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + expInSeconds })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

before(async () => {
  stack = new Stack();
  await stack.startRedis();
  gw = await startGateway(stack, 'gw-auth', { WORKERS: '1', AUTH_SECRET: SECRET });
});

after(async () => {
  for (const c of clients) c.close();
  if (stack) assert.deepEqual(await stopStack(stack), [], 'sanitizer reports in the gateway logs');
});

test('the token is the first frame and is refreshed before exp: the connection outlives the first token', { timeout: 60000 }, async () => {
  const r = room('refresh');
  const issued = [];
  // The first token lives 2 s; the refresh (due at once) brings a long one.
  const getToken = async () => {
    const t = token('tess', issued.length === 0 ? 2 : 600);
    issued.push(t);
    return t;
  };
  const { WebSocket: Tapped, tap } = makeTappedSocket();
  const client = new ChatClient({ url: `${gw.ws}/websocket`, WebSocket: Tapped, getToken, rooms: [r] });
  clients.push(client);
  const events = record(client);
  client.connect();
  await waitFor('online', () => client.online);
  assert.equal(client.me, 'tess', 'the token\'s sub is the name');
  assert.deepEqual(JSON.parse(tap.sent[0]), { type: 'auth', token: issued[0] }, 'the auth frame first');

  const refreshed = await waitFor('refreshed', () => events.refreshed[0]);
  assert.equal(refreshed.exp, jwtExp(issued[1]));
  const refresh = tap.sent.map((d) => JSON.parse(d)).find((f) => f.type === 'refresh');
  assert.equal(refresh.token, issued[1]);

  // The gateway closes a connection whose token expired (exp + 5 s leeway,
  // checked each second): past that, this one is still the same connection.
  const firstExp = jwtExp(issued[0]);
  await waitFor('the first token long expired', () => Date.now() / 1000 > firstExp + 7, { timeoutMs: 15000, intervalMs: 200 });
  assert.equal(events.disconnect.length, 0, `closed: ${JSON.stringify(events.disconnect)}`);
  assert.equal(events.welcome.length, 1);
  const { ref } = client.send(r, 'still here');
  await waitFor('acked', () => events.send.some((s) => s.ref === ref && s.state === 'acked'));
  client.close();
});

test('after 4001 the client gets a fresh token before it reconnects', { timeout: 60000 }, async () => {
  const issued = [];
  // The first token is already expired: the gateway refuses it with 4001.
  const getToken = async () => {
    const t = token('uma', issued.length === 0 ? -60 : 600);
    issued.push(t);
    return t;
  };
  const { WebSocket: Tapped, tap } = makeTappedSocket();
  const client = new ChatClient({
    url: `${gw.ws}/websocket`, WebSocket: Tapped, getToken, rooms: [room('fresh')], backoff: { baseMs: 100 },
  });
  clients.push(client);
  const events = record(client);
  client.connect();
  await waitFor('online', () => client.online);
  assert.equal(events.disconnect[0].code, 4001);
  assert.equal(issued.length, 2, 'one token per connection');
  const auths = tap.sent.map((d) => JSON.parse(d)).filter((f) => f.type === 'auth').map((f) => f.token);
  assert.deepEqual(auths, issued);
  assert.equal(client.me, 'uma');
  client.close();
});

test('a fixed token works too; a wrong one keeps the client out', { timeout: 60000 }, async () => {
  const good = new ChatClient({ url: `${gw.ws}/websocket`, WebSocket, token: token('vic', 600), rooms: [room('fixed')] });
  const bad = new ChatClient({ url: `${gw.ws}/websocket`, WebSocket, token: 'not.a.token', rooms: [room('fixed')] });
  clients.push(good, bad);
  const badEvents = record(bad);
  good.connect();
  bad.connect();
  await waitFor('the good one online', () => good.online && good.me === 'vic');
  await waitFor('the bad one refused', () => badEvents.disconnect.some((d) => d.code === 4001));
  assert.equal(bad.online, false);
  good.close();
  bad.close();
});
