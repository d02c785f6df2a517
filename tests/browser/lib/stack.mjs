// The processes a browser test talks to: a private redis-server, chat
// gateways and a haproxy in front of them, all on loopback ports, all in one
// temp dir. Readiness is polled with deadlines (no fixed sleeps); every
// process is stopped by its PID and the temp dir removed by stop().
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const outDir = path.join(repoRoot, 'tests/browser/out');
export const API_KEY = 'browser-test-key';

const REDIS_BIN = process.env.REDIS_SERVER_BIN || 'redis-server';
const HAPROXY_BIN = process.env.HAPROXY_BIN || '/usr/sbin/haproxy';

export function gatewayBinary() {
  const bin = process.env.CHAT_GATEWAY_BIN || 'build/test/gateway/chat-gateway';
  return path.isAbsolute(bin) ? bin : path.join(repoRoot, bin);
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls fn() until it returns a truthy value; throws with `what` after timeoutMs. */
export async function waitFor(what, fn, { timeoutMs = 15000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await delay(intervalMs);
  }
}

/** A port that was free on 127.0.0.1 a moment ago (the kernel picked it). */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

export async function httpStatus(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

function redisPing(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (chunk) => { data += chunk; if (data.includes('\r\n')) done(data.startsWith('+PONG')); });
  });
}

// Last resort if the runner exits without Stack.stop() (a signal, an
// uncaught error): end every child still running, by its PID.
const running = new Set();
process.on('exit', () => { for (const proc of running) proc.kill('SIGKILL'); });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)));
}

/** Sends one command to Redis (RESP); resolves with the first reply line. */
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let data = '';
    sock.setTimeout(2000, () => { sock.destroy(); reject(new Error('redis command timed out')); });
    sock.on('error', reject);
    sock.on('connect', () => sock.write(`*${args.length}\r\n` +
      args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')));
    sock.on('data', (chunk) => {
      data += chunk;
      const nl = data.indexOf('\r\n');
      if (nl >= 0) { sock.destroy(); resolve(data.slice(0, nl)); }
    });
  });
}

/** A child process whose output goes to a log file; stop() ends it by PID. */
class Proc {
  constructor(name, cmd, args, { env, logDir, onStderrLine } = {}) {
    this.name = name;
    this.logPath = path.join(logDir, `${name}.log`);
    const log = createWriteStream(this.logPath, { flags: 'a' });
    this.child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    this.exited = false;
    running.add(this);
    this.exitPromise = new Promise((resolve) => {
      const gone = (info) => { this.exited = true; this.exitInfo = info; running.delete(this); resolve(); };
      this.child.on('exit', (code, signal) => gone({ code, signal }));
      this.child.on('error', (e) => gone({ error: e.message }));
    });
    this.child.stdout.pipe(log, { end: false });
    let pending = '';
    this.child.stderr.on('data', (chunk) => {
      log.write(chunk);
      if (!onStderrLine) return;
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) { onStderrLine(pending.slice(0, nl)); pending = pending.slice(nl + 1); }
    });
  }

  kill(signal) { if (!this.exited) this.child.kill(signal); }

  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  async stop(graceMs = 5000) {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }
}

export class Stack {
  constructor() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'chat-browser-'));
    this.procs = [];
    this.gateways = {};
  }

  get redisUrl() {
    if (this.clusterPorts) return `redis+cluster://${this.clusterPorts.map((p) => `127.0.0.1:${p}`).join(',')}`;
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  /**
   * A Redis Cluster of three primaries (no replicas) instead of one Redis:
   * nodes joined by CLUSTER MEET, slots in three ranges; resolves once every
   * node says cluster_state:ok. redisUrl is then redis+cluster://.
   */
  async startRedisCluster() {
    this.clusterPorts = [];
    const buses = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const bus = await freePort();
      const dataDir = path.join(this.dir, `cluster-${i}`);
      mkdirSync(dataDir, { recursive: true });
      const node = this.track(new Proc(`redis-cluster-${i}`, REDIS_BIN, [
        '--port', String(port), '--cluster-port', String(bus), '--bind', '127.0.0.1',
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--dir', dataDir,
        '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no',
      ], { logDir: this.dir }));
      await waitFor(`cluster node ${i} to answer PING`, async () => {
        if (node.exited) throw new Error(`redis-server exited, see ${node.logPath}`);
        return redisPing(port);
      });
      this.clusterPorts.push(port);
      buses.push(bus);
    }
    const cli = (port, ...args) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
    for (let i = 1; i < 3; i++) cli(this.clusterPorts[0], 'CLUSTER', 'MEET', '127.0.0.1', String(this.clusterPorts[i]), String(buses[i]));
    const ranges = [[0, 5460], [5461, 10922], [10923, 16383]];
    this.clusterPorts.forEach((port, i) => cli(port, 'CLUSTER', 'ADDSLOTSRANGE', String(ranges[i][0]), String(ranges[i][1])));
    await waitFor('the cluster to be ok on every node', () =>
      this.clusterPorts.every((port) => /cluster_state:ok/.test(cli(port, 'CLUSTER', 'INFO'))),
    { timeoutMs: 30000, intervalMs: 100 });
  }

  async startRedis() {
    this.redisPort ??= await freePort();
    const dataDir = path.join(this.dir, 'redis');
    mkdirSync(dataDir, { recursive: true });
    // Append-only, so that a stop and start (the failed-send test) keeps the
    // rooms' id sequences and epochs, as a production Redis would.
    this.redis = this.track(new Proc('redis', REDIS_BIN, [
      '--port', String(this.redisPort), '--bind', '127.0.0.1', '--dir', dataDir,
      '--save', '', '--appendonly', 'yes', '--daemonize', 'no', '--protected-mode', 'no',
    ], { logDir: this.dir }));
    await waitFor('redis to answer PING', async () => {
      if (this.redis.exited) throw new Error(`redis-server exited (${JSON.stringify(this.redis.exitInfo)}), see ${this.redis.logPath}`);
      return redisPing(this.redisPort);
    });
  }

  async stopRedis() { await this.redis.stop(); }

  /** Starts a gateway with PORT=0 and resolves once its /readyz answers 200. */
  async startGateway(id, { staticDir = path.join(repoRoot, 'frontend'), env = {} } = {}) {
    let resolvePort;
    const portPromise = new Promise((resolve) => { resolvePort = resolve; });
    const proc = this.track(new Proc(id, gatewayBinary(), [], {
      logDir: this.dir,
      env: {
        PORT: '0', REDIS_URL: this.redisUrl, GATEWAY_ID: id, STATIC_DIR: staticDir,
        RATE_LIMIT: '1000', RATE_BURST: '1000', API_KEY, WORKERS: '1', LOG_LEVEL: 'info', ...env,
      },
      onStderrLine(line) {
        const m = /\bevent=listening\b.*\bport=(\d+)/.exec(line);
        if (m) resolvePort(Number(m[1]));
      },
    }));
    const port = await Promise.race([
      portPromise,
      proc.exitPromise.then(() => { throw new Error(`gateway ${id} exited before listening (${JSON.stringify(proc.exitInfo)}), see ${proc.logPath}`); }),
      delay(20000).then(() => { throw new Error(`gateway ${id} logged no event=listening within 20 s, see ${proc.logPath}`); }),
    ]);
    const gw = { id, proc, port, url: `http://127.0.0.1:${port}` };
    this.gateways[id] = gw;
    await this.waitReady(gw.url, `gateway ${id}`, proc);
    return gw;
  }

  async waitReady(base, what, proc, timeoutMs = 20000) {
    await waitFor(`${what} /readyz 200`, async () => {
      if (proc && proc.exited) throw new Error(`${what} exited (${JSON.stringify(proc.exitInfo)}), see ${proc.logPath}`);
      return (await httpStatus(`${base}/readyz`)) === 200;
    }, { timeoutMs });
  }

  /**
   * haproxy as an app's one origin: /auth/ to the app on appPort (the test's
   * token endpoint), everything else to gateway `gw`. Resolves with its URL.
   */
  async startAppProxy(gw, appPort) {
    const port = await freePort();
    const config = `global
    log stdout format raw local0 notice

defaults
    mode http
    log global
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h

frontend app
    bind 127.0.0.1:${port}
    use_backend app if { path_beg /auth/ }
    default_backend gateway

backend app
    server app 127.0.0.1:${appPort}

backend gateway
    server ${gw.id} 127.0.0.1:${gw.port}
`;
    const cfg = path.join(this.dir, 'haproxy-app.cfg');
    writeFileSync(cfg, config);
    const proc = this.track(new Proc('haproxy-app', HAPROXY_BIN, ['-db', '-f', cfg], { logDir: this.dir }));
    const url = `http://127.0.0.1:${port}`;
    await this.waitReady(url, 'the app proxy', proc);
    return url;
  }

  /**
   * haproxy with two frontends, so that pages land on gateways
   * deterministically: frontend A sends every connection to gateway A while
   * it is up and to B (backup) when it is not; frontend B the other way round.
   */
  async startHaproxy(a, b) {
    this.haproxyPorts = { a: await freePort(), b: await freePort() };
    const backend = (name, first, second) => `
backend ${name}
    option httpchk GET /readyz
    http-check expect status 200
    default-server check inter 300ms fall 2 rise 1
    server ${first.id} 127.0.0.1:${first.port}
    server ${second.id} 127.0.0.1:${second.port} backup
`;
    const config = `global
    log stdout format raw local0 notice

defaults
    mode http
    log global
    option redispatch
    retries 2
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout http-request 10s

frontend via_a
    bind 127.0.0.1:${this.haproxyPorts.a}
    default_backend prefer_a

frontend via_b
    bind 127.0.0.1:${this.haproxyPorts.b}
    default_backend prefer_b
${backend('prefer_a', a, b)}${backend('prefer_b', b, a)}`;
    const cfg = path.join(this.dir, 'haproxy.cfg');
    writeFileSync(cfg, config);
    this.haproxy = this.track(new Proc('haproxy', HAPROXY_BIN, ['-db', '-f', cfg], { logDir: this.dir }));
    this.viaA = `http://127.0.0.1:${this.haproxyPorts.a}`;
    this.viaB = `http://127.0.0.1:${this.haproxyPorts.b}`;
    await this.waitReady(this.viaA, 'haproxy frontend A', this.haproxy);
    await this.waitReady(this.viaB, 'haproxy frontend B', this.haproxy);
  }

  track(proc) { this.procs.push(proc); return proc; }

  /** Stops everything (haproxy, gateways, Redis: reverse start order) and removes the temp dir. */
  async stop({ keepDir = false } = {}) {
    for (const proc of [...this.procs].reverse()) {
      try { await proc.stop(); } catch { /* already gone */ }
    }
    if (!keepDir) this.removeDir();
  }

  removeDir() { rmSync(this.dir, { recursive: true, force: true }); }

  /** Lines of AddressSanitizer/UBSan/LeakSanitizer reports in the gateway logs. */
  sanitizerReports() {
    const found = [];
    for (const proc of this.procs) {
      if (!proc.name.startsWith('gw-')) continue;
      let text = '';
      try { text = readFileSync(proc.logPath, 'utf8'); } catch { continue; }
      for (const line of text.split('\n')) {
        if (/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)/.test(line)) found.push(`${proc.name}: ${line}`);
      }
    }
    return found;
  }

  /** Copies every process log into dest (kept after a failed run). */
  saveLogs(dest) {
    mkdirSync(dest, { recursive: true });
    for (const proc of this.procs) {
      try { copyFileSync(proc.logPath, path.join(dest, path.basename(proc.logPath))); } catch { /* none */ }
    }
  }
}

// ---- REST helpers (docs/protocol.md section 1) ----
export async function publish(base, room, username, text) {
  const res = await fetch(`${base}/api/rooms/${encodeURIComponent(room)}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ username, text }),
  });
  if (res.status !== 201) throw new Error(`POST messages: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function storedMessages(base, room) {
  const res = await fetch(`${base}/api/rooms/${encodeURIComponent(room)}/messages?since=0&limit=1000`);
  if (res.status !== 200) throw new Error(`GET messages: ${res.status} ${await res.text()}`);
  return res.json();
}
