#pragma once
// HTTP/1.1 responses as the test clients see them: the status line and header
// parser is pure (unit-tested), the reader takes a TcpSocket and a deadline.
// Shared by HttpClient and the WebSocket handshake.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tcp_socket.h"

namespace chat::testing {

struct HttpResponse {
  int status = 0;  // 0 when no response was read; `error` says why
  std::string reason;
  std::map<std::string, std::string> headers;  // lowercased names; repeats joined by ", "
  std::string body;
  std::string error;

  // The header's value, or "" when absent; `name` in any case.
  std::string header(std::string_view name) const;
};

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n..." (without the blank line).
std::optional<HttpResponse> parseResponseHead(std::string_view head);

// Decodes a complete chunked body; nullopt when it is malformed or incomplete.
std::optional<std::string> decodeChunked(std::string_view body);

// Reads a response from `socket`. `readBody` false stops after the head (a 101,
// or a HEAD request). The body is framed by Transfer-Encoding: chunked,
// Content-Length, or the end of the stream.
HttpResponse readResponse(TcpSocket& socket, const Deadline& deadline, bool readBody);

std::string toLower(std::string_view text);

}  // namespace chat::testing
