// Types of @chat-gateway/client (hand-written; the code is plain ES modules in src/).

/** The browser's WebSocket interface, as much of it as the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocol: string) => WebSocketLike;

export interface ChatClientOptions {
  /** The WebSocket URL (ws://host/websocket), a list tried in turn, or a function of the attempt number. */
  url: string | string[] | ((attempt: number) => string | Promise<string>);
  /** Default globalThis.WebSocket; in Node before v22 pass one, e.g. the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** The name to chat as when the gateway has no login (else the token's `sub`); none: a guest name. */
  username?: string;
  /** Rooms to follow from the start; the first is joined by the URL. Default: lobby. */
  rooms?: string[];
  /** A fixed JWT, sent as the first frame. */
  token?: string;
  /** Resolves with a JWT: before a connection whose cached token is near its exp, after 4001, and to refresh. */
  getToken?: () => string | Promise<string>;
  /** Refresh this long before the token's exp. Default 60000. */
  refreshBeforeMs?: number;
  /** A pending send without an ack after this fails with code "timeout". Default 15000. */
  ackTimeoutMs?: number;
  /** Default page size of loadHistory. Default 50. */
  historyLimit?: number;
  /** Reconnect delays: equal jitter over min(maxMs, baseMs * 2^attempt). Default 500 and 8000. */
  backoff?: { baseMs?: number; maxMs?: number; random?: () => number };
  /** A handshake that takes longer is given up. Default 8000. */
  connectTimeoutMs?: number;
  /** Sends that failed with a lost connection go out again after the rejoin. Default true. */
  resendOnReconnect?: boolean;
  /** setTimeout/clearTimeout to use (tests drive time with fakes). Default globalThis. */
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(id: unknown): void };
}

export type ClientState = 'idle' | 'connecting' | 'online' | 'offline' | 'stopped';
export type SendState = 'queued' | 'pending' | 'acked' | 'failed';

export interface Message {
  room: string;
  epoch: string;
  id: number;
  ts: number;
  username: string;
  text: string;
}

export interface Send {
  ref: string;
  room: string;
  text: string;
  state: SendState;
  /** Why it failed: a gateway error code (invalid, rate_limited, unavailable, ...), "disconnected", "timeout" or "offline". */
  error: { code: string; message: string } | null;
  id: number | null;
  ts: number | null;
  attempts: number;
  /** Failed with the connection: it goes out again by itself after the rejoin. */
  resend: boolean;
}

export interface RoomState {
  readonly name: string;
  readonly epoch: string | null;
  readonly lastId: number | null;
  readonly status: 'none' | 'joining' | 'joined';
  /** Users listed (all of a small room; some of a big one). */
  readonly presence: Set<string>;
  /** How many distinct users are present. */
  readonly online: number;
}

export interface ChatEvents {
  state: { state: ClientState; retryAt: number };
  welcome: { conn: string; username: string; gateway: string };
  disconnect: { code: number; reason: string; wasOpen: boolean; wasOnline: boolean };
  /** The room starts over (first join, new epoch, or a gap too old to fill): forget its messages. */
  reset: { room: string; epoch: string | null };
  joined: { room: string; epoch: string | null; lastId: number | null; recovered: boolean; reset: boolean; presence: string[]; online: number };
  /** Each stored message once, in id order; live is false for a join's replay. */
  message: Message & { live: boolean };
  /** A message was deleted (a delete frame, or a tombstone in a replay). */
  delete: { room: string; epoch: string; id: number; replayed: boolean };
  /** A join or leave (rooms up to PRESENCE_EVENTS_MAX users), or a big room's new count. */
  presence: { room: string; event: 'join' | 'leave' | 'count'; username?: string; online: number; users: string[] };
  history: { room: string; messages: Message[]; atStart: boolean };
  send: Send;
  refreshed: { exp: number };
  /** kind "join": the room was refused and is no longer followed; "token": getToken failed. */
  error: { kind: 'join' | 'history' | 'refresh' | 'token' | 'server'; room?: string; code: string; message: string };
}

export class ChatClient {
  constructor(options: ChatClientOptions);
  on<K extends keyof ChatEvents>(type: K, listener: (event: ChatEvents[K]) => void): () => void;
  off<K extends keyof ChatEvents>(type: K, listener: (event: ChatEvents[K]) => void): void;

  readonly state: ClientState;
  readonly online: boolean;
  readonly retryAt: number;
  /** The connection's name from welcome. */
  readonly me: string;
  readonly gateway: string;
  readonly username: string;
  readonly roomNames: string[];
  room(name: string): RoomState | null;

  connect(): void;
  close(): void;
  reconnect(): void;
  retryNow(): void;
  setUsername(name: string): void;

  join(room: string): RoomState;
  leave(room: string): void;

  send(room: string, text: string): Send;
  retry(ref: string): boolean;
  discard(ref: string): void;
  sendState(ref: string): Send | null;

  loadHistory(room: string, options?: { before?: number; limit?: number }): Promise<{ room: string; messages: Message[]; atStart: boolean }>;
}

export function splitFrames(data: unknown): Record<string, unknown>[];
export function isMessage(frame: unknown): boolean;
export function isTombstone(frame: unknown): boolean;
export function isValidRoom(name: unknown): boolean;
export const ROOM_RE: RegExp;
export function jwtExp(token: string): number;
export function createBackoff(options?: { baseMs?: number; maxMs?: number; random?: () => number }): {
  readonly attempt: number;
  next(): number;
  reset(): void;
};
export const SUBPROTOCOL: 'chat.v1';
export const CLOSE_AUTH: 4001;
export const CLOSE_OPERATOR: 4002;
