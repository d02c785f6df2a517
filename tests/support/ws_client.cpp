#include "ws_client.h"

#include <charconv>

#include "ws_handshake.h"

namespace chat::testing {
namespace {

constexpr std::uint16_t kAbnormalClosure = 1006;
constexpr std::uint16_t kProtocolError = 1002;

bool containsToken(const std::string& headerValue, std::string_view token) {
  std::string lower = toLower(headerValue);
  std::size_t start = 0;
  while (start <= lower.size()) {
    std::size_t comma = lower.find(',', start);
    std::string_view item(lower.data() + start,
                          (comma == std::string::npos ? lower.size() : comma) - start);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item == token) return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}

}  // namespace

WsClient::WsClient() : random_(std::random_device{}()) {}

WsClient::~WsClient() = default;

bool WsClient::connect(std::uint16_t port, const std::string& target, WsConnectOptions options) {
  Deadline deadline(options.timeout);
  handshake_ = HttpResponse{};
  error_.clear();
  closed_.reset();
  closeSent_ = false;
  if (!socket_.connect(port, deadline)) {
    error_ = socket_.lastError();
    handshake_.error = error_;
    return false;
  }
  HandshakeRequest request;
  request.host = "127.0.0.1:" + std::to_string(port);
  request.target = target;
  request.key = makeWebSocketKey();
  request.subprotocols = options.subprotocols;
  request.headers = options.headers;
  IoResult sent = socket_.sendAll(buildHandshakeRequest(request), deadline);
  if (sent != IoResult::kOk) {
    error_ = std::string("sending the handshake: ") + describe(sent) + " " + socket_.lastError();
    handshake_.error = error_;
    return false;
  }
  // Read only the head first: after a 101 the stream is WebSocket frames.
  handshake_ = readResponse(socket_, deadline, false);
  if (handshake_.status == 0) {
    error_ = "no handshake response: " + handshake_.error;
    return false;
  }
  if (handshake_.status != 101) {
    // A refusal: its body (if any) helps a failure message.
    std::size_t length = 0;
    std::string lengthHeader = handshake_.header("content-length");
    std::from_chars(lengthHeader.data(), lengthHeader.data() + lengthHeader.size(), length);
    std::string body;
    if (length > 0 && socket_.readExact(length, deadline, body) == IoResult::kOk) {
      handshake_.body = body;
    }
    error_ = "handshake refused: " + std::to_string(handshake_.status) + " " + handshake_.reason;
    socket_.close();
    return false;
  }
  if (!validateHandshake(request.key, options)) {
    socket_.close();
    return false;
  }
  return true;
}

bool WsClient::validateHandshake(const std::string& key, const WsConnectOptions& options) {
  if (toLower(handshake_.header("upgrade")) != "websocket") {
    error_ = "101 without 'Upgrade: websocket' (got '" + handshake_.header("upgrade") + "')";
    return false;
  }
  if (!containsToken(handshake_.header("connection"), "upgrade")) {
    error_ = "101 without 'Connection: Upgrade' (got '" + handshake_.header("connection") + "')";
    return false;
  }
  std::string expected = computeAcceptKey(key);
  if (handshake_.header("sec-websocket-accept") != expected) {
    error_ = "Sec-WebSocket-Accept is '" + handshake_.header("sec-websocket-accept") +
             "', expected '" + expected + "'";
    return false;
  }
  std::string chosen = subprotocol();
  if (!chosen.empty()) {
    bool offered = false;
    for (const std::string& protocol : options.subprotocols)
      offered = offered || protocol == chosen;
    if (!offered) {
      // A browser fails the connection in this case (RFC 6455 4.1).
      error_ = "server selected subprotocol '" + chosen + "' that the client did not offer";
      return false;
    }
  }
  if (!handshake_.header("sec-websocket-extensions").empty()) {
    error_ = "server selected extensions '" + handshake_.header("sec-websocket-extensions") +
             "' that the client did not offer";
    return false;
  }
  return true;
}

bool WsClient::sendOnWire(const WsFrame& frame) {
  if (!socket_.isOpen()) {
    error_ = "send on a connection that is not open";
    return false;
  }
  MaskKey mask;
  std::uniform_int_distribution<int> distribution(0, 255);
  for (auto& byte : mask)
    byte = static_cast<std::uint8_t>(distribution(random_));
  IoResult sent = socket_.sendAll(encodeFrame(frame, mask), Deadline(kDefaultTimeout));
  if (sent != IoResult::kOk) {
    error_ = std::string("send: ") + describe(sent) + " " + socket_.lastError();
    return false;
  }
  return true;
}

bool WsClient::sendFrame(const WsFrame& frame) {
  if (frame.opcode == WsOpcode::kClose) closeSent_ = true;
  return sendOnWire(frame);
}

bool WsClient::sendText(std::string_view text) {
  return sendFrame(WsFrame{true, 0, WsOpcode::kText, true, std::string(text)});
}

bool WsClient::sendBinary(std::string_view bytes) {
  return sendFrame(WsFrame{true, 0, WsOpcode::kBinary, true, std::string(bytes)});
}

bool WsClient::sendPing(std::string_view payload) {
  return sendFrame(WsFrame{true, 0, WsOpcode::kPing, true, std::string(payload)});
}

bool WsClient::sendClose(std::uint16_t code, std::string_view reason) {
  return sendFrame(WsFrame{true, 0, WsOpcode::kClose, true, encodeClosePayload(code, reason)});
}

bool WsClient::sendRaw(std::string_view bytes) {
  if (!socket_.isOpen()) {
    error_ = "send on a connection that is not open";
    return false;
  }
  IoResult sent = socket_.sendAll(bytes, Deadline(kDefaultTimeout));
  if (sent != IoResult::kOk) {
    error_ = std::string("send: ") + describe(sent) + " " + socket_.lastError();
    return false;
  }
  return true;
}

void WsClient::abort() {
  socket_.close();
  if (!closed_) closed_ = CloseInfo{kAbnormalClosure, "aborted by the test"};
}

WsMessage WsClient::closeWith(CloseInfo info) {
  closed_ = info;
  WsMessage message;
  message.opcode = WsOpcode::kClose;
  message.close = std::move(info);
  return message;
}

WsMessage WsClient::protocolError(const std::string& why) {
  error_ = "server broke RFC 6455: " + why;
  socket_.close();
  return closeWith(CloseInfo{kProtocolError, error_});
}

std::optional<WsMessage> WsClient::receive(std::chrono::milliseconds timeout) {
  if (closed_) {
    WsMessage message;
    message.opcode = WsOpcode::kClose;
    message.close = *closed_;
    return message;
  }
  Deadline deadline(timeout);
  for (;;) {
    FrameDecodeResult decoded = decodeFrame(socket_.buffer(), kMaxMessageBytes);
    if (decoded.status == FrameDecodeStatus::kMalformed) return protocolError(decoded.error);
    if (decoded.status == FrameDecodeStatus::kNeedMore) {
      IoResult more = socket_.fill(deadline);
      if (more == IoResult::kTimeout) {
        error_ = "nothing received in time";
        return std::nullopt;
      }
      if (more != IoResult::kOk) {
        error_ = "connection ended without a close frame";
        socket_.close();
        return closeWith(CloseInfo{kAbnormalClosure, error_});
      }
      continue;
    }
    socket_.buffer().erase(0, decoded.consumed);
    WsFrame& frame = decoded.frame;
    if (frame.masked) return protocolError("masked frame from the server");
    if (frame.rsv != 0) return protocolError("RSV bits set without an extension");

    switch (frame.opcode) {
      case WsOpcode::kPing:
        sendOnWire(WsFrame{true, 0, WsOpcode::kPong, true, frame.payload});
        ++pingsAnswered_;
        continue;
      case WsOpcode::kPong:
        continue;
      case WsOpcode::kClose: {
        std::optional<CloseInfo> info = parseClosePayload(frame.payload);
        if (!info) return protocolError("close frame with a one-byte payload");
        if (!closeSent_) {
          // Echo the code, as RFC 6455 5.5.1 asks; the server then closes TCP.
          sendFrame(WsFrame{true, 0, WsOpcode::kClose, true,
                            encodeClosePayload(info->code == 1005 ? 1000 : info->code, "")});
        }
        return closeWith(*info);
      }
      case WsOpcode::kText:
      case WsOpcode::kBinary:
        if (fragmentOpcode_) return protocolError("new message inside a fragmented one");
        if (frame.fin) return WsMessage{frame.opcode, std::move(frame.payload), {}};
        fragmentOpcode_ = frame.opcode;
        fragments_ = std::move(frame.payload);
        continue;
      case WsOpcode::kContinuation:
        if (!fragmentOpcode_) return protocolError("continuation frame without a message");
        if (fragments_.size() + frame.payload.size() > kMaxMessageBytes) {
          return protocolError("fragmented message over the client's limit");
        }
        fragments_ += frame.payload;
        if (!frame.fin) continue;
        WsMessage message{*fragmentOpcode_, std::move(fragments_), {}};
        fragmentOpcode_.reset();
        fragments_.clear();
        return message;
    }
  }
}

std::optional<std::string> WsClient::receiveText(std::chrono::milliseconds timeout) {
  std::optional<WsMessage> message = receive(timeout);
  if (!message) return std::nullopt;
  if (message->opcode == WsOpcode::kText) return std::move(message->payload);
  if (message->opcode == WsOpcode::kClose) {
    error_ = "connection closed (" + std::to_string(message->close.code) + " '" +
             message->close.reason + "') while a text message was expected";
  } else {
    error_ = std::string("got a ") + describe(message->opcode) +
             " message while a text message was expected";
  }
  return std::nullopt;
}

std::optional<CloseInfo> WsClient::receiveClose(std::chrono::milliseconds timeout) {
  Deadline deadline(timeout);
  for (;;) {
    std::optional<WsMessage> message = receive(deadline.remaining());
    if (!message) return std::nullopt;
    if (message->opcode == WsOpcode::kClose) return message->close;
    textsBeforeClose_.push_back(std::move(message->payload));
  }
}

}  // namespace chat::testing
