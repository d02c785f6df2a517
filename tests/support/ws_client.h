#pragma once
// A blocking raw-socket WebSocket client (RFC 6455) for tests: it checks what
// the server does during the handshake, keeps the refusal when there is one (a
// test of "400 on handshake" needs the status), masks every frame it sends,
// answers pings, reassembles fragments, and reports close frames with their code
// and reason. Every receive takes a deadline. Any server-side protocol slip
// (masked or reserved-bit frames, a bad accept key) is a failure it reports
// instead of tolerating, so the gateway is tested too. One thread per client.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_message.h"
#include "tcp_socket.h"
#include "ws_frame.h"

namespace chat::testing {

struct WsConnectOptions {
  std::vector<std::string> subprotocols;  // Sec-WebSocket-Protocol; none for a plain client
  std::vector<std::pair<std::string, std::string>> headers;  // Origin, Authorization, ...
  std::chrono::milliseconds timeout{5000};
};

// A whole message (fragments joined) or the end of the connection.
struct WsMessage {
  WsOpcode opcode = WsOpcode::kText;  // kText, kBinary or kClose
  std::string payload;
  CloseInfo close;  // when opcode is kClose: 1006 if the stream ended without one
};

class WsClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{5000};
  static constexpr std::size_t kMaxMessageBytes = 64 << 20;

  WsClient();
  ~WsClient();

  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Connects to 127.0.0.1:port and performs the handshake for `target` (path
  // and query). True on a valid 101; otherwise handshake() holds the server's
  // answer (status 0 when there was none) and error() says what was wrong.
  bool connect(std::uint16_t port, const std::string& target, WsConnectOptions options = {});

  const HttpResponse& handshake() const { return handshake_; }
  // The subprotocol the server selected, "" for none.
  std::string subprotocol() const { return handshake_.header("sec-websocket-protocol"); }
  const std::string& error() const { return error_; }

  bool sendText(std::string_view text);
  bool sendBinary(std::string_view bytes);
  bool sendPing(std::string_view payload = {});
  // A close frame with code and reason; receive() then waits for the server's.
  bool sendClose(std::uint16_t code = 1000, std::string_view reason = {});
  // Any frame, masked as a client frame must be (tests of fragmentation).
  bool sendFrame(const WsFrame& frame);
  // Bytes straight onto the socket: malformed frames, half frames.
  bool sendRaw(std::string_view bytes);

  // The next message, or the close; nullopt when nothing completes before
  // `timeout`. After the close, always returns that close again.
  std::optional<WsMessage> receive(std::chrono::milliseconds timeout = kDefaultTimeout);
  // The next text message; nullopt on timeout, close or another kind of
  // message, with error() saying which.
  std::optional<std::string> receiveText(std::chrono::milliseconds timeout = kDefaultTimeout);
  // Reads until the close; nullopt on timeout. Text messages read on the way
  // are kept in textsBeforeClose().
  std::optional<CloseInfo> receiveClose(std::chrono::milliseconds timeout = kDefaultTimeout);
  const std::vector<std::string>& textsBeforeClose() const { return textsBeforeClose_; }

  bool isClosed() const { return closed_.has_value(); }
  const std::optional<CloseInfo>& closeInfo() const { return closed_; }
  int pingsAnswered() const { return pingsAnswered_; }

  // Drops the TCP connection without a close frame.
  void abort();

 private:
  bool validateHandshake(const std::string& key, const WsConnectOptions& options);
  bool sendOnWire(const WsFrame& frame);
  WsMessage closeWith(CloseInfo info);
  WsMessage protocolError(const std::string& why);

  TcpSocket socket_;
  HttpResponse handshake_;
  std::string error_;
  std::mt19937 random_;
  std::optional<CloseInfo> closed_;
  bool closeSent_ = false;
  std::optional<WsOpcode> fragmentOpcode_;  // set while a fragmented message is open
  std::string fragments_;
  std::vector<std::string> textsBeforeClose_;
  int pingsAnswered_ = 0;
};

}  // namespace chat::testing
