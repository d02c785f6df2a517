#pragma once
// A chat.v1 client for tests (docs/protocol.md section 4), on top of WsClient. The
// gateway may batch: one WebSocket text frame can hold several JSON frames
// separated by '\n'. V1Client splits every WebSocket frame, checks that each
// piece is one JSON object with a string `type` (an empty piece or anything
// else is the gateway's protocol error, reported instead of tolerated), and
// queues the pieces. It counts WebSocket frames and JSON frames separately, so
// a test can tell whether batching happened. Every receive takes a deadline.
// One thread per client.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"
#include "wait.h"
#include "ws_client.h"

namespace chat::testing {

inline constexpr std::string_view kV1Subprotocol = "chat.v1";

// One JSON frame from the gateway.
class V1Frame {
 public:
  // nullopt (and `error`) unless `text` is a JSON object with a string `type`.
  static std::optional<V1Frame> parse(std::string_view text, std::string* error = nullptr);

  const std::string& type() const { return type_; }
  const std::string& raw() const { return raw_; }

  bool has(std::string_view key) const { return json_.has(key); }
  std::optional<std::string> string(std::string_view key) const { return json_.string(key); }
  std::optional<std::int64_t> integer(std::string_view key) const { return json_.integer(key); }
  std::optional<bool> boolean(std::string_view key) const { return json_.boolean(key); }
  std::vector<std::string> keys() const { return json_.keys(); }

  // The elements of array member `key`, each exactly as sent; nullopt when
  // the member is absent or not an array.
  std::optional<std::vector<std::string>> array(std::string_view key) const;
  // A `message` frame as a ChatMessage; nullopt for other frames.
  std::optional<ChatMessage> message() const;

 private:
  V1Frame(JsonObject json, std::string type, std::string raw)
      : json_(std::move(json)), type_(std::move(type)), raw_(std::move(raw)) {}

  JsonObject json_;
  std::string type_;
  std::string raw_;
};

// "/websocket?room=R&username=U[&since=N][&epoch=E]"; empty values are left out.
std::string v1Target(const std::string& room, const std::string& username,
                     std::optional<std::int64_t> since = std::nullopt,
                     const std::string& epoch = {});

class V1Client {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{10000};

  V1Client() = default;
  V1Client(const V1Client&) = delete;
  V1Client& operator=(const V1Client&) = delete;

  // Connects offering `chat.v1` (unless `options` names subprotocols of its
  // own). True on a 101 that selected chat.v1; otherwise error() says why and
  // ws().handshake() holds the answer.
  bool connect(std::uint16_t port, const std::string& target, WsConnectOptions options = {});

  WsClient& ws() { return ws_; }
  const std::string& error() const { return error_; }

  // A raw text frame; false (with error()) when the send fails.
  bool send(std::string_view text);
  // {"type":"message","text":..,"ref"?:..,"room"?:..}
  bool sendMessage(std::string_view text, std::string_view ref = {}, std::string_view room = {});
  // {"type":"join","room":..,"since"?:..,"epoch"?:..}
  bool sendJoin(std::string_view room, std::optional<std::int64_t> since = std::nullopt,
                std::string_view epoch = {});
  // {"type":"leave","room":..}
  bool sendLeave(std::string_view room);
  // {"type":"history","room":..,"before"?:..,"limit"?:..}
  bool sendHistory(std::string_view room, std::optional<std::int64_t> before = std::nullopt,
                   std::optional<std::int64_t> limit = std::nullopt);

  // The next frame in arrival order; nullopt (with error()) at the deadline,
  // on the close, or on a protocol error.
  std::optional<V1Frame> next(const Deadline& deadline);
  std::optional<V1Frame> next(std::chrono::milliseconds timeout = kDefaultTimeout) {
    return next(Deadline(timeout));
  }
  // The first frame, queued or arriving, that `match` accepts; the frames it
  // passes over stay queued in their order for later calls.
  std::optional<V1Frame> nextMatching(const std::function<bool(const V1Frame&)>& match,
                                      const Deadline& deadline);
  std::optional<V1Frame> nextOfType(std::string_view type, const Deadline& deadline);
  std::optional<V1Frame> nextOfType(std::string_view type,
                                    std::chrono::milliseconds timeout = kDefaultTimeout) {
    return nextOfType(type, Deadline(timeout));
  }

  // Frames received and not yet taken, oldest first.
  const std::deque<V1Frame>& queued() const { return queue_; }
  // WebSocket text frames received, and the JSON frames they held.
  std::size_t webSocketFrames() const { return webSocketFrames_; }
  std::size_t jsonFrames() const { return jsonFrames_; }

  bool isClosed() const { return ws_.isClosed(); }
  const std::optional<CloseInfo>& closeInfo() const { return ws_.closeInfo(); }

 private:
  // Reads one WebSocket message and queues its frames; false at the deadline,
  // on the close or on a protocol error.
  bool receiveMore(const Deadline& deadline);

  WsClient ws_;
  std::deque<V1Frame> queue_;
  std::string error_;
  std::size_t webSocketFrames_ = 0;
  std::size_t jsonFrames_ = 0;
  bool broken_ = false;  // the gateway broke the framing rules; nothing more is read
};

}  // namespace chat::testing
