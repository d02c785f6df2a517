// What the client's tests share: the repository's own process helpers
// (tests/browser/lib/stack.mjs: redis-server, waitFor; tests/contract/lib.mjs:
// gateways at the default settings, REST publish), the `ws` package from
// tests/contract (Node 20 has no WebSocket), and a socket between client and
// gateway that can lose a frame and the connection with it.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const WebSocket = createRequire(path.join(repoRoot, 'tests/contract/package.json'))('ws');

import { request } from '../../../tests/contract/lib.mjs';

export { Stack, waitFor } from '../../../tests/browser/lib/stack.mjs';
export { publish, room, startGateway } from '../../../tests/contract/lib.mjs';

/** The stored messages of a room, through REST (docs/protocol.md section 1). */
export async function storedMessages(gw, roomName, headers = {}) {
  const res = await request(gw.url, `/api/rooms/${encodeURIComponent(roomName)}/messages?since=0&limit=1000`, { headers });
  if (res.status !== 200) throw new Error(`GET messages: ${res.status} ${res.body}`);
  return JSON.parse(res.body);
}

/**
 * A WebSocket class (the browser's interface, over `ws`) for ChatClient's
 * WebSocket option. Its sockets record what passes in `tap`, and when
 * lose(data) says so for a frame from the gateway, drop that frame and cut
 * the connection, as a network failure at that moment would.
 */
export function makeTappedSocket({ lose = () => false } = {}) {
  const tap = { sent: [], received: [], lost: [] };
  class TappedSocket {
    constructor(url, protocol) {
      this.url = url;
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      this.ws = new WebSocket(url, protocol);
      this.ws.on('open', () => this.onopen?.({}));
      this.ws.on('error', () => this.onerror?.({}));
      this.ws.on('close', (code, reason) => this.onclose?.({ code, reason: reason.toString() }));
      this.ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const text = data.toString();
        if (lose(text)) {
          tap.lost.push(text);
          this.ws.terminate();
          return;
        }
        tap.received.push(text);
        this.onmessage?.({ data: text });
      });
    }

    get readyState() { return this.ws.readyState; }
    send(data) { tap.sent.push(data); this.ws.send(data); }
    close(code, reason) { this.ws.close(code, reason); }
  }
  return { WebSocket: TappedSocket, tap };
}

/** Events of a client, recorded by type. */
export function record(client, types = ['state', 'welcome', 'disconnect', 'joined', 'reset', 'message', 'delete', 'presence', 'send', 'error', 'refreshed']) {
  const events = Object.fromEntries(types.map((t) => [t, []]));
  for (const type of types) client.on(type, (e) => events[type].push(e));
  return events;
}

/** Stops a test's stack by PID and fails on a sanitizer report in a gateway log. */
export async function stopStack(stack) {
  await stack.stop({ keepDir: true });
  const reports = stack.sanitizerReports();
  if (reports.length === 0) stack.removeDir();
  return reports;
}
