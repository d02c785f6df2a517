#include "v1_client.h"

#include "json_raw.h"

namespace chat::testing {

std::optional<V1Frame> V1Frame::parse(std::string_view text, std::string* error) {
  std::optional<JsonObject> json = JsonObject::parse(text, error);
  if (!json) return std::nullopt;
  std::optional<std::string> type = json->string("type");
  if (!type) {
    if (error != nullptr) *error = "no string 'type' in " + std::string(text);
    return std::nullopt;
  }
  return V1Frame(std::move(*json), std::move(*type), std::string(text));
}

std::optional<std::vector<std::string>> V1Frame::array(std::string_view key) const {
  std::optional<std::string> value = rawMemberValue(raw_, key);
  if (!value) return std::nullopt;
  return rawArrayElements(*value);
}

std::optional<ChatMessage> V1Frame::message() const {
  if (type_ != "message") return std::nullopt;
  return parseChatMessage(raw_);
}

std::string v1Target(const std::string& room, const std::string& username,
                     std::optional<std::int64_t> since, const std::string& epoch) {
  std::string target = "/websocket?room=" + room;
  if (!username.empty()) target += "&username=" + username;
  if (since) target += "&since=" + std::to_string(*since);
  if (!epoch.empty()) target += "&epoch=" + epoch;
  return target;
}

bool V1Client::connect(std::uint16_t port, const std::string& target, WsConnectOptions options) {
  if (options.subprotocols.empty()) options.subprotocols = {std::string(kV1Subprotocol)};
  if (!ws_.connect(port, target, std::move(options))) {
    error_ = "handshake: " + ws_.error() + " (status " + std::to_string(ws_.handshake().status) +
             " " + ws_.handshake().body + ")";
    return false;
  }
  if (ws_.subprotocol() != kV1Subprotocol) {
    error_ = "the handshake selected subprotocol '" + ws_.subprotocol() + "', not chat.v1";
    return false;
  }
  return true;
}

bool V1Client::send(std::string_view text) {
  if (ws_.sendText(text)) return true;
  error_ = "send failed: " + ws_.error();
  return false;
}

bool V1Client::sendMessage(std::string_view text, std::string_view ref, std::string_view room) {
  std::string frame = R"({"type":"message")";
  if (!room.empty()) frame += ",\"room\":" + jsonString(room);
  frame += ",\"text\":" + jsonString(text);
  if (!ref.empty()) frame += ",\"ref\":" + jsonString(ref);
  return send(frame + "}");
}

bool V1Client::sendJoin(std::string_view room, std::optional<std::int64_t> since,
                        std::string_view epoch) {
  std::string frame = R"({"type":"join","room":)" + jsonString(room);
  if (since) frame += ",\"since\":" + std::to_string(*since);
  if (!epoch.empty()) frame += ",\"epoch\":" + jsonString(epoch);
  return send(frame + "}");
}

bool V1Client::sendLeave(std::string_view room) {
  return send(R"({"type":"leave","room":)" + jsonString(room) + "}");
}

bool V1Client::sendHistory(std::string_view room, std::optional<std::int64_t> before,
                           std::optional<std::int64_t> limit) {
  std::string frame = R"({"type":"history","room":)" + jsonString(room);
  if (before) frame += ",\"before\":" + std::to_string(*before);
  if (limit) frame += ",\"limit\":" + std::to_string(*limit);
  return send(frame + "}");
}

bool V1Client::receiveMore(const Deadline& deadline) {
  if (broken_) return false;
  std::optional<WsMessage> message = ws_.receive(deadline.remaining());
  if (!message) {
    error_ = ws_.error();
    return false;
  }
  if (message->opcode == WsOpcode::kClose) {
    error_ = "connection closed (" + std::to_string(message->close.code) + " '" +
             message->close.reason + "')";
    return false;
  }
  if (message->opcode != WsOpcode::kText) {
    error_ = "a non-text WebSocket message from the gateway";
    broken_ = true;
    return false;
  }
  ++webSocketFrames_;
  std::string_view rest = message->payload;
  for (;;) {
    const std::size_t newline = rest.find('\n');
    std::string_view piece = rest.substr(0, newline);
    std::string why;
    std::optional<V1Frame> frame = V1Frame::parse(piece, &why);
    if (!frame) {
      error_ =
          "a batched piece is not a v1 frame (" + why + ") in WebSocket frame: " + message->payload;
      broken_ = true;
      return false;
    }
    ++jsonFrames_;
    queue_.push_back(std::move(*frame));
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  return true;
}

std::optional<V1Frame> V1Client::next(const Deadline& deadline) {
  while (queue_.empty()) {
    if (!receiveMore(deadline)) return std::nullopt;
  }
  V1Frame frame = std::move(queue_.front());
  queue_.pop_front();
  return frame;
}

std::optional<V1Frame> V1Client::nextMatching(const std::function<bool(const V1Frame&)>& match,
                                              const Deadline& deadline) {
  std::size_t checked = 0;
  for (;;) {
    for (; checked < queue_.size(); ++checked) {
      if (match(queue_[checked])) {
        V1Frame frame = std::move(queue_[checked]);
        queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(checked));
        return frame;
      }
    }
    if (!receiveMore(deadline)) return std::nullopt;
  }
}

std::optional<V1Frame> V1Client::nextOfType(std::string_view type, const Deadline& deadline) {
  return nextMatching([type](const V1Frame& frame) { return frame.type() == type; }, deadline);
}

}  // namespace chat::testing
