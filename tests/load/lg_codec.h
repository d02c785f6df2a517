#pragma once
// The load generator's wire codecs as pure functions (unit-tested without
// sockets): masked client frames, zero-copy parsing of server frames, the
// request and the check of the opening handshake, the two chat dialects'
// client frames, and field extraction from the flat JSON objects servers send
// without a JSON parser (find "id": and the text's payload). Any thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::load {

// plain: the tutorial dialect (/websocket?room=R, send {"username","text"},
// receive message frames; a publisher's own echo is its ack). The Node peers
// speak it too, with string ids. v1: subprotocol chat.v1 (welcome, joined, ack,
// several frames per WebSocket frame separated by '\n').
enum class Dialect { kPlain, kV1 };

const char* dialectName(Dialect dialect);
std::optional<Dialect> parseDialect(std::string_view name);

// ---- framing -------------------------------------------------------------

// Appends one FIN frame with the client's mask (RFC 6455 5.3).
void appendMaskedFrame(std::string& out, std::uint8_t opcode, std::string_view payload,
                       std::uint32_t mask);

enum class FrameStatus { kFrame, kNeedMore, kError };

struct ServerFrame {
  bool fin = true;
  std::uint8_t opcode = 0;
  std::string_view payload;  // views the input
  std::size_t consumed = 0;
};

// Parses the first frame of `input` (a server's frames are not masked; a
// masked one, a reserved opcode or a payload over maxPayload is an error).
FrameStatus parseServerFrame(std::string_view input, std::size_t maxPayload, ServerFrame& frame);

// ---- opening handshake --------------------------------------------------

// The request target for a room (and a resume point).
std::string requestTarget(std::string_view path, std::string_view room,
                          std::string_view username = {}, std::string_view since = {},
                          std::string_view epoch = {});

enum class HandshakeStatus { kNeedMore, kAccepted, kRefused };

struct HandshakeResult {
  HandshakeStatus status = HandshakeStatus::kNeedMore;
  std::size_t headerBytes = 0;  // through the blank line
  std::string statusLine;       // on refusal: for the report
};

// Checks the server's answer: 101, the right Sec-WebSocket-Accept and, when
// `wantV1`, the chat.v1 subprotocol echoed.
HandshakeResult checkHandshakeResponse(std::string_view input, std::string_view expectedAccept,
                                       bool wantV1);

// ---- chat frames ----------------------------------------------------------

// {"username":U,"text":T}. U and T must not need JSON escaping.
void appendPlainMessage(std::string& out, std::string_view username, std::string_view text);
// {"type":"message","text":T,"ref":R}
void appendV1Message(std::string& out, std::string_view text, std::string_view ref);

// The value of "key":"..." (up to the next unescaped quote), or nullopt.
std::optional<std::string_view> stringField(std::string_view json, std::string_view key);
// The value of "key":123, or nullopt (absent, a string, negative, too long).
std::optional<std::uint64_t> uintField(std::string_view json, std::string_view key);
// "key":true / "key":false, or nullopt.
std::optional<bool> boolField(std::string_view json, std::string_view key);

// Calls fn for every '\n'-separated server frame of a v1 WebSocket message.
template <typename Fn>
void forEachLine(std::string_view payload, Fn&& fn) {
  while (!payload.empty()) {
    const std::size_t nl = payload.find('\n');
    const std::string_view line = payload.substr(0, nl);
    if (!line.empty()) fn(line);
    if (nl == std::string_view::npos) break;
    payload.remove_prefix(nl + 1);
  }
}

// ---- benchmark texts --------------------------------------------------------
// Only [a-z0-9 ] so that no JSON escaping is ever needed:
//   "b <run> <publisher> <seq> <send-ns> xxxx…"   a measured message
//   "s <run> <k>"                                  a join-barrier message
struct BenchText {
  char kind = 0;  // 'b', 's', or 0: not ours
  std::uint32_t publisher = 0;
  std::int64_t seq = 0;
  std::int64_t sendNs = 0;
};

void appendBenchText(std::string& out, std::string_view run, std::uint32_t publisher,
                     std::int64_t seq, std::int64_t sendNs, std::size_t size);
void appendSyncText(std::string& out, std::string_view run, std::int64_t k);
BenchText parseBenchText(std::string_view text, std::string_view run);

}  // namespace chat::load
