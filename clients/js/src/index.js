// @chat-gateway/client: a dependency-free chat.v1 client (docs/protocol.md).
export { ChatClient } from './client.js';
export { createBackoff } from './backoff.js';
export { CLOSE_AUTH, CLOSE_OPERATOR, SUBPROTOCOL } from './connection.js';
export { isMessage, isTombstone, splitFrames } from './frames.js';
export { ROOM_RE, isValidRoom } from './room.js';
export { jwtExp } from './token.js';
