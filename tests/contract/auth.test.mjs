// Login (docs/protocol.md section 10) driven by independent clients at the
// default WORKERS and at 1 and 2: tokens made with node:crypto (RS256 and
// ES256 keys exported as a JWKS by Node, served by node:http; HS256 with
// AUTH_SECRET), sent by the `ws` package in the URL, in a cookie, in the
// first frame; a refresh keeps the connection, an expired token closes it
// with 4001; a key rotated in is fetched again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import http from 'node:http';
import { Client, connect, contractSuite, room, withTimeout } from './lib.mjs';

const SECRET = 'contract-auth-secret-0123456789';
const COOKIE = 'chat_token';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function hs256(claims) {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

/** A key pair with its kid; token() signs RS256 or ES256 (JWS r||s for EC). */
function signingKey(kind, kid) {
  const { publicKey, privateKey } = kind === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: kind },
    token(claims) {
      const input = `${b64url(JSON.stringify({ alg: kind, typ: 'JWT', kid }))}.${b64url(JSON.stringify(claims))}`;
      const signature = sign('sha256', Buffer.from(input),
        kind === 'RS256' ? privateKey : { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return `${input}.${b64url(signature)}`;
    },
  };
}

// The identity provider's JWKS, on loopback; `keys` is what it serves now.
const rsa = signingKey('RS256', 'rsa-1');
const ec = signingKey('ES256', 'ec-1');
const jwks = { keys: [rsa.jwk, ec.jwk], requests: 0 };
const issuer = http.createServer((req, res) => {
  jwks.requests += 1;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ keys: jwks.keys }));
});
await new Promise((resolve) => issuer.listen(0, '127.0.0.1', resolve));
after(() => issuer.close());

/** Opens a v1 client that sends `token` as its first frame; resolves with the client. */
async function authByFrame(ctx, r, token) {
  const client = await connect(ctx, `room=${r}`, { protocol: 'chat.v1' });
  client.send({ type: 'auth', token });
  return client;
}

contractSuite('auth', {
  AUTH_SECRET: SECRET,
  AUTH_COOKIE: COOKIE,
  AUTH_JWKS_URL: `http://127.0.0.1:${issuer.address().port}/jwks.json`,
}, (ctx) => {
  const r = room('auth');

  test('an HS256 token in the first frame: welcome as its sub, then joined', async () => {
    const client = await authByFrame(ctx, r, hs256({ sub: 'alice', exp: now() + 60 }));
    const welcome = await client.waitFrame('welcome', (f) => f.type === 'welcome');
    assert.equal(welcome.username, 'alice');
    await client.waitFrame('joined', (f) => f.type === 'joined' && f.room === r);
    assert.equal(client.frames[0].type, 'welcome', 'nothing before welcome');
  });

  test('RS256 and ES256 tokens from the JWKS, in the URL and in the cookie', async () => {
    const inUrl = await connect(ctx, `room=${r}&token=${rsa.token({ sub: 'bob', exp: now() + 60 })}`, { protocol: 'chat.v1' });
    assert.equal((await inUrl.waitFrame('welcome', (f) => f.type === 'welcome')).username, 'bob');
    const cookie = new Client(`${ctx.gw.ws}/websocket?room=${r}`, {
      protocol: 'chat.v1', headers: { cookie: `other=1; ${COOKIE}=${ec.token({ sub: 'carol', exp: now() + 60 })}` },
    });
    ctx.clients.push(cookie);
    await withTimeout(cookie.opened, 5000, 'cookie handshake');
    assert.equal((await cookie.waitFrame('welcome', (f) => f.type === 'welcome')).username, 'carol');
  });

  test('a plain client without a token: 401; a bad first frame: 4001', async () => {
    const plain = new Client(`${ctx.gw.ws}/websocket?room=${r}`);
    ctx.clients.push(plain);
    await assert.rejects(plain.opened, /401/);
    const forged = await authByFrame(ctx, r, hs256({ sub: 'eve', exp: now() + 60 }).slice(0, -2) + 'xx');
    assert.equal((await forged.waitClose()).code, 4001);
    const eager = await connect(ctx, `room=${r}`, { protocol: 'chat.v1' });
    eager.send({ type: 'message', text: 'no token yet' });
    assert.equal((await eager.waitClose()).code, 4001);
  });

  test('a refresh keeps the connection past exp; without one it closes with 4001 "token expired"', async () => {
    const exp = now() + 2;
    const refreshed = await authByFrame(ctx, r, hs256({ sub: 'dave', exp }));
    const lapsing = await authByFrame(ctx, r, hs256({ sub: 'erin', exp }));
    await refreshed.waitFrame('welcome', (f) => f.type === 'welcome');
    await lapsing.waitFrame('welcome', (f) => f.type === 'welcome');
    refreshed.send({ type: 'refresh', token: rsa.token({ sub: 'dave', exp: now() + 600 }) });
    const answer = await refreshed.waitFrame('refreshed', (f) => f.type === 'refreshed' || f.type === 'error');
    assert.equal(answer.type, 'refreshed', JSON.stringify(answer));
    refreshed.send({ type: 'refresh', token: hs256({ sub: 'mallory', exp: now() + 600 }), ref: 'x' });
    const other = await refreshed.waitFrame('forbidden', (f) => f.type === 'error' && f.ref === 'x');
    assert.equal(other.code, 'forbidden');
    assert.deepEqual(await lapsing.waitClose(15000), { code: 4001, reason: 'token expired' });
    refreshed.send({ type: 'message', text: 'still here', ref: 'late' });
    await refreshed.waitFrame('ack', (f) => f.type === 'ack' && f.ref === 'late');
    assert.equal(refreshed.close, null);
  });

  test('a key rotated in at the issuer: the first frame waits for the JWKS to be fetched again', async () => {
    // A kid of this gateway's run only: earlier runs' gateways fetched others.
    const rotated = signingKey('RS256', `rsa-${room('rotated')}`);
    jwks.keys = [rsa.jwk, ec.jwk, rotated.jwk];
    const before = jwks.requests;
    const client = await authByFrame(ctx, r, rotated.token({ sub: 'frank', exp: now() + 60 }));
    const welcome = await client.waitFrame('welcome', (f) => f.type === 'welcome', 15000);
    assert.equal(welcome.username, 'frank');
    assert.ok(jwks.requests > before, 'the JWKS was fetched again');
  });
});
