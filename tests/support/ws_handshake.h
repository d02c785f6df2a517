#pragma once
// The client side of the RFC 6455 opening handshake as pure functions: a fresh
// Sec-WebSocket-Key, the Sec-WebSocket-Accept a server must answer with
// (SHA-1 and base64 from OpenSSL's libcrypto), and the request text. Any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::testing {

// 16 random bytes, base64-encoded.
std::string makeWebSocketKey();

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string computeAcceptKey(std::string_view key);

std::string base64Encode(std::string_view bytes);

struct HandshakeRequest {
  std::string host;    // "127.0.0.1:PORT"
  std::string target;  // "/websocket?room=lobby"
  std::string key;
  std::vector<std::string> subprotocols;                     // none: a plain client
  std::vector<std::pair<std::string, std::string>> headers;  // Origin, ...
};

std::string buildHandshakeRequest(const HandshakeRequest& request);

}  // namespace chat::testing
