// deploy/nginx: `nginx -t` accepts the configuration, and a live run carries
// the chat: Redis, three real gateways and nginx with deploy/nginx's files
// (only the ports rewritten), then HTTP, WebSocket upgrades (plain and
// chat.v1) and a message from one gateway's client to another's, all through
// nginx. The same gateways check deploy/docker/healthcheck.sh, the image's
// HEALTHCHECK.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import {
  freePort,
  gatewayBinary,
  read,
  repo,
  run,
  startProcess,
  stopProcess,
  tool,
  waitFor,
} from "./lib.mjs";
import { connectWebSocket, httpGet } from "./ws.mjs";

const nginxBinary = () => tool("nginx", "apt-get install nginx (it is in scripts/packages.txt)");

// Copies deploy/nginx into a prefix directory laid out like the repository,
// with chat.conf rewritten by edit(text).
function nginxPrefix(edit = (text) => text) {
  const prefix = mkdtempSync(path.join(os.tmpdir(), "chat-nginx-"));
  mkdirSync(path.join(prefix, "deploy/nginx"), { recursive: true });
  mkdirSync(path.join(prefix, ".data/nginx"), { recursive: true });
  copyFileSync(repo("deploy/nginx/nginx.conf"), path.join(prefix, "deploy/nginx/nginx.conf"));
  writeFileSync(path.join(prefix, "deploy/nginx/chat.conf"), edit(read("deploy/nginx/chat.conf")));
  return prefix;
}

test("nginx -t accepts deploy/nginx/nginx.conf with chat.conf", () => {
  const prefix = nginxPrefix();
  try {
    const result = run(nginxBinary(), ["-t", "-e", "stderr", "-p", prefix, "-c", "deploy/nginx/nginx.conf"]);
    assert.equal(result.status, 0, `nginx -t:\n${result.stderr}`);
    assert.match(result.stderr, /test is successful/);
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});

test("chat.conf: three gateways, least_conn, WebSocket upgrade headers, hour-long read timeout", () => {
  const config = read("deploy/nginx/chat.conf");
  const servers = [...config.matchAll(/^\s*server\s+(127\.0\.0\.1:\d+)/gm)].map((m) => m[1]);
  assert.deepEqual(servers, ["127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8083"]);
  // The same gateways as the haproxy example beside it.
  const haproxy = read("deploy/haproxy/haproxy.cfg");
  for (const server of servers) assert.ok(haproxy.includes(server), `deploy/haproxy/haproxy.cfg has no ${server}`);
  assert.match(config, /^\s*least_conn;/m);
  assert.match(config, /^\s*proxy_http_version 1\.1;/m);
  assert.match(config, /^\s*proxy_set_header Upgrade \$http_upgrade;/m);
  assert.match(config, /^\s*proxy_set_header Connection \$chat_connection_upgrade;/m);
  assert.match(config, /^\s*proxy_read_timeout 3600s;/m);
  assert.match(config, /^\s*proxy_send_timeout 3600s;/m);
  assert.match(config, /^\s*listen 8080;/m);
});

// --- live ----------------------------------------------------------------------

function redisPing(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let reply = "";
    socket.setTimeout(1000, () => socket.destroy());
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk;
      if (reply.includes("\r\n")) socket.end();
    });
    socket.on("close", () => resolve(reply.startsWith("+PONG")));
    socket.on("error", () => resolve(false));
  });
}

const status = async (port, urlPath) => {
  try {
    return (await httpGet(port, urlPath, 2000)).status;
  } catch {
    return 0;
  }
};

const healthcheck = (...args) => run("bash", [repo("deploy/docker/healthcheck.sh"), ...args], { timeout: 15000 });

test("live: chat through nginx to three gateways, and the image's health check", async (t) => {
  const binary = gatewayBinary();
  const nginx = nginxBinary();
  const redisServer = tool("redis-server", "apt-get install redis-server (it is in scripts/packages.txt)");
  const work = mkdtempSync(path.join(os.tmpdir(), "chat-deploy-live-"));
  const processes = [];
  const clients = [];
  t.after(async () => {
    for (const client of clients) client.close();
    // nginx first, then the gateways (they drain), then Redis.
    for (const proc of processes.reverse()) await stopProcess(proc);
    rmSync(work, { recursive: true, force: true });
  });

  const redisPort = await freePort();
  const redis = startProcess("redis-server", redisServer, [
    "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
    "--daemonize", "no", "--dir", work,
  ]);
  processes.push(redis);
  await waitFor("Redis to answer PING", () => redisPing(redisPort), 10000, redis);

  // Three gateways on ports they pick (PORT=0), run from an empty directory
  // so that no .env of the repository applies.
  const gateways = [];
  for (let i = 1; i <= 3; i++) {
    const gateway = startProcess(`gateway ${i}`, binary, [], {
      cwd: work,
      env: {
        ...process.env,
        PORT: "0",
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        GATEWAY_ID: `deploy-gw-${i}`,
        STATIC_DIR: repo("frontend"),
        WORKERS: "1",
        SHUTDOWN_TIMEOUT: "2",
        LOG_LEVEL: "info",
        TRUSTED_PROXY_HEADER: "X-Forwarded-For",
      },
    });
    processes.push(gateway);
    gateway.port = await waitFor(
      `gateway ${i} to listen`,
      () => /event=listening port=(\d+)/.exec(gateway.output)?.[1],
      15000,
      gateway,
    );
    gateways.push(gateway);
  }
  for (const gateway of gateways) {
    await waitFor(`${gateway.name} /readyz 200`, async () => (await status(gateway.port, "/readyz")) === 200, 15000, gateway);
  }

  // The image's HEALTHCHECK script against a real gateway.
  const direct = gateways[0].port;
  assert.equal(healthcheck("/healthz", direct).status, 0, healthcheck("/healthz", direct).stderr);
  assert.equal(run("bash", [repo("deploy/docker/healthcheck.sh")], { env: { ...process.env, PORT: direct } }).status, 0);
  assert.equal(healthcheck("/readyz", direct).status, 0);
  const notFound = healthcheck("/no-such-page", direct);
  assert.equal(notFound.status, 1);
  assert.match(notFound.stderr, /404/);
  const closedPort = await freePort();
  assert.equal(healthcheck("/healthz", closedPort).status, 1);

  // nginx with deploy/nginx's configuration, ports rewritten.
  const nginxPort = await freePort();
  let rewrites = 0;
  const prefix = nginxPrefix((text) =>
    text
      .replace(/^(\s*)listen 8080;$/m, (_, indent) => (rewrites++, `${indent}listen 127.0.0.1:${nginxPort};`))
      .replace(/^\s*listen \[::\]:8080;\n/m, () => (rewrites++, ""))
      .replace(/server 127\.0\.0\.1:808([1-3])/g, (_, n) => (rewrites++, `server 127.0.0.1:${gateways[n - 1].port}`)),
  );
  assert.equal(rewrites, 5, "chat.conf no longer has the listen and server lines this test rewrites");
  const nginxProc = startProcess("nginx", nginx, [
    "-e", "stderr", "-p", prefix, "-c", "deploy/nginx/nginx.conf", "-g", "daemon off;",
  ]);
  processes.push(nginxProc);
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  await waitFor("nginx to forward /healthz", async () => (await status(nginxPort, "/healthz")) === 200, 10000, nginxProc);

  // Plain HTTP through nginx: the frontend, readiness.
  const index = await httpGet(nginxPort, "/");
  assert.equal(index.status, 200);
  assert.match(index.body, /<html/i);
  assert.equal(await status(nginxPort, "/readyz"), 200);

  // chat.v1 WebSocket clients through nginx: the subprotocol is echoed, and
  // least_conn spreads them over the gateways.
  const room = `deploy${Date.now()}`;
  const welcomes = [];
  for (let i = 0; i < 3; i++) {
    const client = await connectWebSocket({ port: nginxPort, path: `/websocket?room=${room}&username=user${i}`, protocol: "chat.v1" });
    clients.push(client);
    assert.equal(client.protocol, "chat.v1");
    const frame = await client.waitFor((text) => text.includes('"type":"welcome"'));
    welcomes.push(JSON.parse(frame.split("\n").find((line) => line.includes('"type":"welcome"'))));
    await client.waitFor((text) => text.includes('"type":"joined"'));
  }
  const served = new Set(welcomes.map((w) => w.gateway));
  assert.ok(served.size >= 2, `nginx sent all clients to one gateway: ${[...served]}`);

  // A message from one client reaches a client of another gateway (Redis
  // pub/sub), and the sender gets its ack.
  const sender = clients[0];
  const other = welcomes.findIndex((w) => w.gateway !== welcomes[0].gateway);
  const receiver = clients[other];
  const text = `hello through nginx ${Date.now()}`;
  sender.sendText(JSON.stringify({ type: "message", room, text, ref: "r1" }));
  await sender.waitFor((frame) => frame.includes('"type":"ack"') && frame.includes('"ref":"r1"'));
  const delivered = await receiver.waitFor((frame) => frame.includes(text));
  const message = JSON.parse(delivered.split("\n").find((line) => line.includes(text)));
  assert.equal(message.type, "message");
  assert.equal(message.username, "user0");

  // A plain (tutorial) client through nginx gets the room's history.
  const plain = await connectWebSocket({ port: nginxPort, path: `/websocket?room=${room}` });
  clients.push(plain);
  const history = JSON.parse(await plain.waitFor((frame) => frame.includes(text)));
  assert.equal(history.text, text);
});
