// Shared helpers of the contract tests: a gateway started at the DEFAULT
// settings (only PORT=0, REDIS_URL, GATEWAY_ID, STATIC_DIR, API_KEY and what a
// test asks for), WebSocket clients from the `ws` package, HTTP from node:http
// with a fresh connection per request (so that with several workers requests
// land on different ones), and the per-file setup: one Stack (redis-server,
// temp dir), one gateway per WORKERS variant, every process stopped by its PID.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Stack, gatewayBinary, repoRoot, waitFor } from '../browser/lib/stack.mjs';

export const API_KEY = 'contract-test-key';

// Every setting of the gateway (README, Configuration): none of them is
// inherited from the environment the tests run in, so the defaults apply.
const SETTINGS = [
  'PORT', 'REDIS_URL', 'REDIS_TLS_VERIFY', 'REDIS_TLS_CA', 'REDIS_PREFIX', 'HISTORY_SIZE',
  'HISTORY_ON_JOIN', 'STATIC_DIR', 'GATEWAY_ID', 'LOG_LEVEL', 'MAX_FRAME_BYTES', 'MAX_TEXT_LENGTH',
  'MAX_QUEUE_BYTES', 'MAX_QUEUE_FRAMES', 'WRITE_GAP_MS', 'MAX_CONNECTIONS', 'MAX_ROOMS_PER_CONNECTION',
  'PRESENCE_TTL', 'API_KEY', 'RATE_LIMIT', 'RATE_BURST', 'ALLOWED_ORIGINS', 'AUTH_SECRET',
  'MAX_CONNECTIONS_PER_IP', 'TRUSTED_PROXY_HEADER', 'COMPRESSION', 'WORKERS', 'PING_INTERVAL',
  'PING_TIMEOUT', 'SHUTDOWN_TIMEOUT', 'REDIS_TIMEOUT', 'REDIS_SENTINEL_PASSWORD', 'ACK_REPLICAS',
  'CLUSTER_PUBSUB', 'AUTH_PUBLIC_KEY', 'AUTH_AUDIENCE', 'AUTH_ISSUER', 'AUTH_COOKIE',
  'AUTH_JWKS_URL', 'TOKEN_URL', 'PRESENCE_LIST_MAX', 'PRESENCE_EVENTS_MAX',
];

// Last resort if the runner exits without the after() hooks (a signal, an
// uncaught error): end every gateway still running, by its PID.
const running = new Set();
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

// The WORKERS values every file runs under: unset (the usable cores), 1, 2.
// CONTRACT_WORKERS=1,2,default selects some of them.
export const VARIANTS = (process.env.CONTRACT_WORKERS || 'default,1,2').split(',')
  .map((w) => (w === 'default' ? { label: 'WORKERS unset', workers: undefined } : { label: `WORKERS=${w}`, workers: w }));

/**
 * Starts chat-gateway with PORT=0 and resolves once /readyz answers 200.
 * The process is tracked by the stack (stopped by PID, its log scanned by
 * sanitizerReports(), which needs the id to start with "gw-").
 */
export async function startGateway(stack, id, env = {}) {
  const childEnv = { ...process.env };
  for (const name of SETTINGS) delete childEnv[name];
  Object.assign(childEnv, {
    PORT: '0', REDIS_URL: stack.redisUrl, GATEWAY_ID: id,
    STATIC_DIR: path.join(repoRoot, 'frontend'), API_KEY,
  });
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;

  const logPath = path.join(stack.dir, `${id}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  // cwd is the temp dir, so that no .env file of the checkout is loaded.
  const child = spawn(gatewayBinary(), [], { env: childEnv, cwd: stack.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const proc = {
    name: id, logPath, pid: child.pid, exited: false, exitInfo: null,
    kill(signal) { if (!this.exited) child.kill(signal); },
    async stop(graceMs = 15000) {
      if (this.exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.exitPromise;
      clearTimeout(timer);
    },
  };
  proc.exitPromise = new Promise((resolve) => {
    const gone = (info) => { proc.exited = true; proc.exitInfo = info; running.delete(child); resolve(); };
    child.on('exit', (code, signal) => gone({ code, signal }));
    child.on('error', (e) => gone({ error: e.message }));
  });
  stack.track(proc);

  const port = await waitFor(`gateway ${id} to log its port (${logPath})`, () => {
    if (proc.exited) throw new Error(`gateway ${id} exited (${JSON.stringify(proc.exitInfo)}), see ${logPath}`);
    const text = readFileSync(logPath, 'utf8');
    const m = /\bevent=(?:listening|supervisor_started)\b.*\bport=(\d+)/.exec(text);
    return m && Number(m[1]);
  }, { timeoutMs: 20000 });
  const gw = { id, proc, port, url: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` };
  await waitFor(`gateway ${id} /readyz 200`, async () => {
    if (proc.exited) throw new Error(`gateway ${id} exited (${JSON.stringify(proc.exitInfo)}), see ${logPath}`);
    return (await request(gw.url, '/readyz', { timeoutMs: 2000 })).status === 200;
  }, { timeoutMs: 20000 });
  return gw;
}

/**
 * The usual shape of a test file: one Stack with redis for the file, and per
 * WORKERS variant a describe() with its own gateway (env + WORKERS) that
 * body(ctx) fills with tests; ctx.gw is the gateway, ctx.clients collects the
 * WebSocket clients to close. Each variant ends with a test that stops the
 * gateway and checks its log for sanitizer reports. CONTRACT_KEEP_LOGS=1
 * keeps the temp dir with the logs (it is also kept after a sanitizer report).
 */
export function contractSuite(name, env, body, { cluster = false } = {}) {
  const stack = new Stack();
  // Stack names its temp dir chat-browser-*; these runs get their own name.
  stack.removeDir();
  stack.dir = mkdtempSync(path.join(os.tmpdir(), 'chat-contract-'));
  let keep = Boolean(process.env.CONTRACT_KEEP_LOGS);
  before(async () => { await (cluster ? stack.startRedisCluster() : stack.startRedis()); });
  after(async () => {
    await stack.stop({ keepDir: keep });
    if (keep) console.error(`# ${name}: logs kept in ${stack.dir}`);
  });
  for (const variant of VARIANTS) {
    describe(`${name} (${variant.label})`, () => {
      const ctx = { stack, gw: null, clients: [] };
      const id = `gw-${name}-${variant.workers ?? 'default'}`;
      before(async () => {
        ctx.gw = await startGateway(stack, id, { ...env, WORKERS: variant.workers });
      });
      after(() => { for (const c of ctx.clients) c.ws.terminate(); });
      body(ctx, variant);
      test('the gateway stops cleanly (SIGTERM, exit 0), with no sanitizer report in its log', async () => {
        for (const c of ctx.clients) c.ws.terminate();
        assert.ok(ctx.gw, 'the gateway started');
        const wasRunning = !ctx.gw.proc.exited;
        await ctx.gw.proc.stop();
        const reports = stack.sanitizerReports().filter((line) => line.startsWith(`${id}:`));
        if (reports.length) keep = true;
        assert.deepEqual(reports, []);
        assert.ok(wasRunning, `the gateway had exited before the end: ${JSON.stringify(ctx.gw.proc.exitInfo)}`);
        assert.deepEqual(ctx.gw.proc.exitInfo, { code: 0, signal: null });
      });
    });
  }
}

/**
 * A WebSocket client that records everything: frames (v1: split on '\n' and
 * parsed; plain: one JSON per frame), the close code and reason, an
 * 'unexpected-response' status, errors.
 */
export class Client {
  constructor(url, { protocol, deflate = false, headers } = {}) {
    this.ws = new WebSocket(url, protocol ? [protocol] : [], { perMessageDeflate: deflate, headers });
    this.frames = [];
    this.close = null;
    this.errors = [];
    this.unexpected = null;
    this.ws.on('error', (e) => this.errors.push(e.message));
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) { this.frames.push({ binary: data.length }); return; }
      for (const line of data.toString().split('\n')) {
        if (!line) continue;
        try { this.frames.push(JSON.parse(line)); } catch { this.frames.push({ unparsable: line }); }
      }
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('unexpected-response', (req, res) => {
        this.unexpected = { status: res.statusCode };
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => { body += chunk; });
        res.on('end', () => {
          req.destroy();
          reject(new Error(`handshake answered ${res.statusCode} ${JSON.stringify(body.slice(0, 200))}`));
        });
      });
      this.ws.once('close', () => reject(new Error(`closed before open: ${this.errors.join('; ') || 'no error'}`)));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => { this.close = { code, reason: reason.toString() }; resolve(this.close); });
    });
  }

  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }

  /** Resolves with the first recorded frame that matches pred, or throws after timeoutMs. */
  waitFrame(what, pred, timeoutMs = 5000) {
    return waitFor(what, () => this.frames.find(pred), { timeoutMs, intervalMs: 20 });
  }

  /** Resolves with { code, reason } once closed, or throws after timeoutMs. */
  waitClose(timeoutMs = 10000) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms; got ${this.summary()}`)), timeoutMs);
    });
    return Promise.race([this.closed, timeout]).finally(() => clearTimeout(timer));
  }

  /** A short account of what arrived, for failure messages. */
  summary() {
    const kinds = {};
    for (const f of this.frames) {
      const k = f.type === 'error' ? `error:${f.code}` : (f.type ?? (f.binary ? 'binary' : 'unparsable'));
      kinds[k] = (kinds[k] || 0) + 1;
    }
    return `frames ${JSON.stringify(kinds)}, close ${JSON.stringify(this.close)}, errors ${JSON.stringify(this.errors)}`;
  }
}

/** Opens a client (tracked in ctx.clients) and waits for its 'open' event. */
export async function connect(ctx, query, opts = {}) {
  const client = new Client(`${ctx.gw.ws}/websocket?${query}`, opts);
  ctx.clients.push(client);
  await withTimeout(client.opened, 5000, `WebSocket open of ?${query}`);
  return client;
}

/** A v1 client that has its welcome and the joined of its first room. */
export async function connectV1(ctx, query, opts = {}) {
  const client = await connect(ctx, query, { ...opts, protocol: 'chat.v1' });
  await client.waitFrame('welcome', (f) => f.type === 'welcome');
  await client.waitFrame('joined', (f) => f.type === 'joined');
  return client;
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One HTTP request on a fresh connection (agent: false). body: a string
 * (sent with Content-Length), or an array of strings written as separate
 * pieces without Content-Length (so Node sends Transfer-Encoding: chunked).
 * Resolves with { status, headers, body }; rejects after timeoutMs.
 */
export function request(base, pathname, { method = 'GET', headers = {}, body, timeoutMs = 5000 } = {}) {
  const url = new URL(pathname, base);
  if (typeof body === 'string') headers = { 'content-length': Buffer.byteLength(body), ...headers };
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, agent: false,
    });
    let answered = false;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${pathname}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('response', (res) => {
      answered = true;
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode, headers: res.headers, body: data }); });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    req.on('upgrade', (res, socket) => {
      answered = true;
      socket.destroy();
      clearTimeout(timer);
      resolve({ status: res.statusCode, headers: res.headers, body: '' });
    });
    // A server may answer (413) and close before the whole body is written.
    req.on('error', (e) => { if (!answered) { clearTimeout(timer); reject(e); } });
    if (Array.isArray(body)) {
      for (const piece of body) req.write(piece);
    } else if (body !== undefined) {
      req.write(body);
    }
    req.end();
  });
}

/** POST /api/rooms/{room}/messages with the API key; asserts 201. */
export async function publish(gw, room, username, text) {
  const res = await request(gw.url, `/api/rooms/${encodeURIComponent(room)}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ username, text }),
  });
  assert.equal(res.status, 201, `POST messages: ${res.status} ${res.body}`);
  return JSON.parse(res.body);
}

/** Fails with one line per problem (at most 30) when there is any. */
export function assertNoProblems(problems) {
  if (problems.length) assert.fail(`${problems.length} problem(s):\n${problems.slice(0, 30).join('\n')}`);
}

/** A room name no other test uses. */
export function room(prefix) { return `${prefix}-${randomBytes(4).toString('hex')}`; }
