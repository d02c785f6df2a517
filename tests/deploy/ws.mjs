// A minimal WebSocket client (RFC 6455) for the live checks: handshake over
// node:http, masked text frames out, text frames in. Node 20 has no WebSocket
// client without a flag, and this needs no npm package.
import { randomBytes } from "node:crypto";
import http from "node:http";

export function connectWebSocket({ port, path, protocol, timeoutMs = 5000 }) {
  return new Promise((resolve, reject) => {
    const headers = {
      Host: `127.0.0.1:${port}`,
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
    };
    if (protocol) headers["Sec-WebSocket-Protocol"] = protocol;
    const request = http.request({ host: "127.0.0.1", port, path, headers, timeout: timeoutMs });
    request.on("timeout", () => request.destroy(new Error(`WebSocket handshake to ${path} timed out`)));
    request.on("error", reject);
    request.on("response", (response) => {
      response.resume();
      reject(new Error(`WebSocket handshake to ${path}: HTTP ${response.statusCode}, not 101`));
    });
    request.on("upgrade", (response, socket, head) => resolve(new WebSocketClient(response, socket, head)));
    request.end();
  });
}

class WebSocketClient {
  constructor(response, socket, head) {
    this.response = response;
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.messages = [];
    this.waiters = [];
    this.closed = false;
    socket.setNoDelay(true);
    socket.on("data", (chunk) => this.#receive(chunk));
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
    if (head.length > 0) this.#receive(head);
  }

  get protocol() {
    return this.response.headers["sec-websocket-protocol"];
  }

  sendText(text) {
    const payload = Buffer.from(text, "utf8");
    const mask = randomBytes(4);
    let header;
    if (payload.length < 126) {
      header = Buffer.from([0x81, 0x80 | payload.length]);
    } else if (payload.length < 65536) {
      header = Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    } else {
      throw new Error("frame too large for this client");
    }
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  // Resolves with the first received text message (a whole frame's text)
  // for which predicate(text) holds; earlier ones are dropped.
  waitFor(predicate, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`no matching WebSocket message within ${timeoutMs} ms; got: ${this.seen ?? "nothing"}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
      this.#wake();
    });
  }

  close() {
    if (this.closed) return;
    // Close frame 1000, masked, empty mask payload aside from the code.
    const mask = randomBytes(4);
    const code = Buffer.from([0x03, 0xe8]).map((byte, i) => byte ^ mask[i]);
    this.socket.end(Buffer.concat([Buffer.from([0x88, 0x82]), mask, code]));
  }

  #receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) break;
      const opcode = this.buffer[0] & 0x0f;
      let length = this.buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) break;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) break;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) break;
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 0x1) {
        const text = payload.toString("utf8");
        this.messages.push(text);
        this.seen = `${this.seen ? `${this.seen} | ` : ""}${text}`.slice(-2000);
      } else if (opcode === 0x9) {
        // Answer pings so the gateway keeps us.
        const mask = randomBytes(4);
        const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
        this.socket.write(Buffer.concat([Buffer.from([0x8a, 0x80 | payload.length]), mask, masked]));
      } else if (opcode === 0x8) {
        this.closed = true;
      }
    }
    this.#wake();
  }

  #wake() {
    for (const waiter of [...this.waiters]) {
      const index = this.messages.findIndex((text) => waiter.predicate(text));
      if (index >= 0) {
        const [text] = this.messages.splice(0, index + 1).slice(-1);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(text);
      } else if (this.closed) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`WebSocket closed before a matching message; got: ${this.seen ?? "nothing"}`));
      }
    }
  }
}

// GET over plain HTTP; resolves {status, headers, body}.
export function httpGet(port, path, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: "127.0.0.1", port, path, timeout: timeoutMs, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode, headers: response.headers, body }));
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${path} timed out`)));
    request.on("error", reject);
  });
}
