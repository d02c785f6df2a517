#include "http/rest_api.h"

#include <openssl/crypto.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>

#include "config/redis_url.h"
#include "http/http_response.h"
#include "protocol/codec.h"
#include "protocol/v1_codec.h"
#include "protocol/validation.h"
#include "util/clock.h"

namespace chat::gateway {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::uint64_t kMaxId = std::uint64_t{1} << 53;
constexpr std::uint64_t kMaxLimit = 1000;
constexpr std::uint64_t kDefaultLimit = 100;
constexpr std::string_view kMessagesPath = "/api/messages";
constexpr std::string_view kRoomsPath = "/api/rooms";
// GET /api/rooms lists at most this many rooms.
constexpr std::size_t kMaxListedRooms = 10000;
constexpr std::size_t kMaxRoomsPerPublish = 100;
// API requests waiting for Redis, per worker.
constexpr std::size_t kMaxInFlight = 64;

std::string jsonError(std::string_view message) {
  std::string body = R"({"error":)";
  common::appendJsonString(body, message);
  body += "}\n";
  return body;
}

// "/api/rooms/{room}/<kSuffix>" -> room; nullopt for any other path.
std::optional<std::string_view> roomOfPath(std::string_view path,
                                           std::string_view kSuffix = "/messages") {
  constexpr std::string_view kPrefix = "/api/rooms/";
  if (path.substr(0, kPrefix.size()) != kPrefix || path.size() <= kPrefix.size() + kSuffix.size() ||
      path.substr(path.size() - kSuffix.size()) != kSuffix)
    return std::nullopt;
  return path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
}

// "/api/users/{username}/disconnect" -> username (%-escapes decoded).
std::optional<std::string> userToDisconnect(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/users/";
  constexpr std::string_view kSuffix = "/disconnect";
  if (path.substr(0, kPrefix.size()) != kPrefix || path.size() <= kPrefix.size() + kSuffix.size() ||
      path.substr(path.size() - kSuffix.size()) != kSuffix)
    return std::nullopt;
  bool ok = true;
  std::string user = common::percentDecode(
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size()), ok);
  if (!ok) return std::string();  // refused as a bad name
  return user;
}

// "/api/rooms/{room}/messages/{id}" -> (room, id text); nullopt for any other path.
std::optional<std::pair<std::string_view, std::string>> messageOfPath(std::string_view path) {
  constexpr std::string_view kMessages = "/messages/";
  const auto cut = path.rfind(kMessages);
  if (cut == std::string_view::npos) return std::nullopt;
  const auto room = roomOfPath(path.substr(0, cut + kMessages.size() - 1));
  if (!room) return std::nullopt;
  return std::pair{*room, std::string(path.substr(cut + kMessages.size()))};
}

std::optional<std::uint64_t> parseNumber(const std::string& s, std::uint64_t min,
                                         std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || value < min || value > max)
    return std::nullopt;
  return value;
}

// API answers end their connection: a client's next request then comes on a
// new one, where the RequestGate can read a chunked body (lws 4.1 cannot read
// one that follows on a kept-alive connection).
int respondJson(lws* wsi, unsigned status, std::string_view body, const ExtraHeader& header = {}) {
  return respondText(wsi, status, body, kJson, AfterResponse::kClose, header);
}

// Past kMaxInFlight requests waiting for Redis, callers back off.
int respondBusy(lws* wsi) {
  return respondJson(wsi, 429, jsonError("too many API requests in flight: retry shortly"));
}

bool isPost(lws* wsi) {
  return lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
}

bool isGet(lws* wsi) {
  return lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
}

bool isDelete(lws* wsi) {
  return lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI) > 0;
}

}  // namespace

RestApi::RestApi(const common::Settings& settings, MessageStore& store, ServerStats& stats)
    : settings_(settings), tokenKeys_(settings.tokenKeys()), store_(store), stats_(stats) {}

int RestApi::onRequest(lws* wsi, HttpExchange*& exchange, std::string_view path) {
  if (path == kRoomsPath) return startRoomList(wsi, exchange);
  if (const auto message = messageOfPath(path))
    return startDelete(wsi, exchange, message->first, message->second);
  if (const auto presenceRoom = roomOfPath(path, "/presence"))
    return startPresence(wsi, exchange, *presenceRoom);
  if (const auto user = userToDisconnect(path)) return startDisconnect(wsi, *user);
  if (path == kMessagesPath) {
    if (!isPost(wsi)) return respondJson(wsi, 405, jsonError("use POST"));
    if (settings_.apiKey.empty())
      return respondJson(wsi, 404, jsonError("the operator API is off: API_KEY is not set"));
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
      return respondJson(wsi, 400,
                         jsonError("send a chunked body as a connection's first request"));
    if (pending_.size() >= kMaxInFlight) return respondBusy(wsi);
    delete exchange;
    exchange = new HttpExchange;
    exchange->id = nextId_++;
    return 0;  // answered once the body is in (onBodyComplete)
  }
  const auto room = roomOfPath(path);
  if (!room) return respondJson(wsi, 404, jsonError("not found"));
  if (!common::isValidRoomName(*room))
    return respondJson(wsi, 400, jsonError("bad room name: use 1-64 of A-Z a-z 0-9 _ . -"));
  const bool post = isPost(wsi);
  if (!post && lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
    return respondJson(wsi, 405, jsonError("use GET or POST"));
  if (post && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
    return respondJson(wsi, 400,
                       jsonError("a chunked body is read only as the first request of a "
                                 "connection: send it on a new one, or with Content-Length"));
  if (post && settings_.apiKey.empty())
    return respondJson(wsi, 404, jsonError("the publish API is off: API_KEY is not set"));
  if (pending_.size() >= kMaxInFlight) {
    // Each waiting answer may hold up to ~8 MB (limit=1000 long messages):
    // past the cap, callers back off instead of the process growing.
    stats_.refuse(common::Refusal::kConnectionLimit);
    return respondBusy(wsi);
  }

  delete exchange;
  exchange = new HttpExchange;
  exchange->id = nextId_++;
  exchange->room = *room;
  // A POST answers once its body is in (onBodyComplete).
  return post ? 0 : startGet(wsi, *exchange);
}

std::optional<std::pair<unsigned, std::string>> RestApi::readRefusal(
    lws* wsi, const std::string& room) const {
  if (!tokenKeys_.required()) return std::nullopt;
  // With login on, reading takes what a WebSocket would (docs/protocol.md
  // section 1): a token (Bearer or ?token=) allowing the room, or the API key.
  const std::string authorization = requestHeader(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
  if (!settings_.apiKey.empty() && authorized(authorization)) return std::nullopt;
  constexpr std::string_view kBearer = "Bearer ";
  std::optional<std::string> token = queryArg(wsi, "token");
  if (!token && authorization.substr(0, kBearer.size()) == kBearer)
    token = authorization.substr(kBearer.size());
  const std::int64_t now = common::unixSeconds();
  const auto check = common::verifyToken(token.value_or(""), tokenKeys_, now);
  if (!check.claims) {
    stats_.refuse(common::Refusal::kBadToken);
    return std::pair{401u, jsonError("a valid token (or the API key) is required: " + check.error)};
  }
  if (!check.claims->allows(room)) {
    stats_.refuse(common::Refusal::kForbiddenRoom);
    return std::pair{403u, jsonError("your token does not allow room " + room)};
  }
  return std::nullopt;
}

int RestApi::startDisconnect(lws* wsi, const std::string& username) {
  // Operator API (docs/protocol.md section 10): every gateway closes that
  // user's connections with 4002.
  if (const auto refused = refuseOperator(wsi)) return *refused;
  if (!isPost(wsi)) return respondJson(wsi, 405, jsonError("use POST"));
  const auto checked = common::checkUsername(username);
  if (checked.refusal || checked.username != username)
    return respondJson(wsi, 400, jsonError("bad username: 1-32 characters, no control characters"));
  const std::string payload = common::encodeDisconnectCommand(username);
  // Sent and not waited for: the gateways act when it arrives (202).
  if (!store_.publishControl(payload, [](bool) {}))
    return respondJson(wsi, 503, jsonError("redis unavailable"));
  return respondJson(wsi, 202,
                     R"({"status":"disconnecting"})"
                     "\n");
}

int RestApi::startPresence(lws* wsi, HttpExchange*& exchange, std::string_view room) {
  // Operator API (docs/protocol.md section 10): the API key, and GET only.
  if (const auto refused = refuseOperator(wsi)) return *refused;
  if (!isGet(wsi)) return respondJson(wsi, 405, jsonError("use GET"));
  if (!common::isValidRoomName(room))
    return respondJson(wsi, 400, jsonError("bad room name: use 1-64 of A-Z a-z 0-9 _ . -"));
  if (pending_.size() >= kMaxInFlight) return respondBusy(wsi);
  beginExchange(wsi, exchange, room);
  const bool sent = store_.present(
      exchange->room, [this, id = exchange->id](std::optional<std::vector<std::string>> users) {
        if (!users) {
          answerLater(id, 503, jsonError("redis unavailable"));
          return;
        }
        std::string body = "[";
        for (const auto& user : *users) {
          if (body.size() > 1) body += ',';
          body += R"({"username":)";
          common::appendJsonString(body, user);
          body += '}';
        }
        body += "]\n";
        answerLater(id, 200, std::move(body));
      });
  return answerWhenSent(wsi, exchange->id, sent);
}

int RestApi::answerWhenSent(lws* wsi, std::uint64_t id, bool sent) {
  if (sent) return 0;  // answered from Redis' reply
  pending_.erase(id);
  return respondJson(wsi, 503, jsonError("redis unavailable"));
}

std::optional<int> RestApi::refuseOperator(lws* wsi) const {
  if (settings_.apiKey.empty())
    return respondJson(wsi, 404, jsonError("the operator API is off: API_KEY is not set"));
  if (!authorized(requestHeader(wsi, WSI_TOKEN_HTTP_AUTHORIZATION)))
    return respondJson(wsi, 401, jsonError("a valid Bearer API_KEY is required"));
  return std::nullopt;
}

void RestApi::beginExchange(lws* wsi, HttpExchange*& exchange, std::string_view room) {
  delete exchange;
  exchange = new HttpExchange;
  exchange->id = nextId_++;
  exchange->room = room;
  pending_[exchange->id] = {wsi, exchange};
}

int RestApi::startDelete(lws* wsi, HttpExchange*& exchange, std::string_view room,
                         const std::string& idText) {
  // Operator API (docs/protocol.md section 10): the message becomes a tombstone.
  if (const auto refused = refuseOperator(wsi)) return *refused;
  if (!isDelete(wsi)) return respondJson(wsi, 405, jsonError("use DELETE"));
  if (!common::isValidRoomName(room))
    return respondJson(wsi, 400, jsonError("bad room name: use 1-64 of A-Z a-z 0-9 _ . -"));
  const auto id = parseNumber(idText, 1, kMaxId);
  if (!id) return respondJson(wsi, 400, jsonError("the message id must be a whole number >= 1"));
  if (pending_.size() >= kMaxInFlight) return respondBusy(wsi);
  beginExchange(wsi, exchange, room);
  const bool sent = store_.remove(
      exchange->room, *id, [this, id = exchange->id](MessageStore::DeleteResult result) {
        switch (result) {
          case MessageStore::DeleteResult::kDeleted:
            return answerLater(id, 204, {});
          case MessageStore::DeleteResult::kNotFound:
            return answerLater(id, 404, jsonError("no message with that id in the room's history"));
          case MessageStore::DeleteResult::kUnavailable:
            return answerLater(id, 503, jsonError("redis unavailable"));
        }
      });
  return answerWhenSent(wsi, exchange->id, sent);
}

int RestApi::startRoomList(lws* wsi, HttpExchange*& exchange) {
  // Operator API (docs/protocol.md section 10): rooms where someone is present.
  if (const auto refused = refuseOperator(wsi)) return *refused;
  if (!isGet(wsi)) return respondJson(wsi, 405, jsonError("use GET"));
  if (pending_.size() >= kMaxInFlight) return respondBusy(wsi);
  beginExchange(wsi, exchange, {});
  const bool sent = store_.activeRooms(
      kMaxListedRooms,
      [this, id = exchange->id](std::optional<std::vector<MessageStore::RoomActivity>> rooms) {
        if (!rooms) return answerLater(id, 503, jsonError("redis unavailable"));
        std::string body = "[";
        for (const auto& room : *rooms) {
          if (body.size() > 1) body += ',';
          body += R"({"room":)";
          common::appendJsonString(body, room.room);
          body += R"(,"online":)" + std::to_string(room.online) + R"(,"last_id":)" +
                  std::to_string(room.lastId) + '}';
        }
        body += "]\n";
        answerLater(id, 200, std::move(body));
      });
  return answerWhenSent(wsi, exchange->id, sent);
}

int RestApi::startGet(lws* wsi, HttpExchange& exchange) {
  if (auto refusal = readRefusal(wsi, exchange.room))
    return respondJson(wsi, refusal->first, refusal->second);
  const auto sinceArg = queryArg(wsi, "since");
  const auto limitArg = queryArg(wsi, "limit");
  std::optional<std::uint64_t> since;
  std::uint64_t limit = kDefaultLimit;
  if (sinceArg) {
    since = parseNumber(*sinceArg, 0, kMaxId);
    if (!since) return respondJson(wsi, 400, jsonError("since must be a whole number >= 0"));
  }
  if (limitArg) {
    const auto parsed = parseNumber(*limitArg, 1, kMaxLimit);
    if (!parsed) return respondJson(wsi, 400, jsonError("limit must be 1 to 1000"));
    limit = *parsed;
  }
  const HistoryQuery query =
      since ? HistoryQuery{HistoryQuery::Mode::kAfter, *since, static_cast<std::int64_t>(limit)}
            : HistoryQuery{HistoryQuery::Mode::kLast, limit, -1};
  pending_[exchange.id] = {wsi, &exchange};
  const bool sent = store_.read(
      exchange.room, query, [this, id = exchange.id](std::optional<HistorySlice> slice) {
        if (!slice) {
          answerLater(id, 503, jsonError("redis unavailable"));
          return;
        }
        std::string body = "[";
        for (const auto& frame : slice->frames) {
          if (body.size() > 1) body += ',';
          body += frame;
        }
        body += "]\n";
        // Where the retained window starts: a reader
        // whose `since` is older knows it missed some.
        const std::uint64_t firstId = slice->length > 0 ? slice->lastId - slice->length + 1 : 0;
        answerLater(id, 200, std::move(body), std::to_string(firstId));
      });
  return answerWhenSent(wsi, exchange.id, sent);
}

void RestApi::onBody(HttpExchange* exchange, const void* data, std::size_t len) {
  if (exchange == nullptr || exchange->bodyTooLarge) return;
  if (exchange->body.size() + len > settings_.maxFrameBytes) {
    exchange->bodyTooLarge = true;
    exchange->body.clear();
    return;
  }
  exchange->body.append(static_cast<const char*>(data), len);
}

bool RestApi::authorized(std::string_view header) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() != kBearer.size() + settings_.apiKey.size() ||
      header.substr(0, kBearer.size()) != kBearer)
    return false;
  // Constant time: the comparison must not reveal how much of a guess was right.
  return CRYPTO_memcmp(header.data() + kBearer.size(), settings_.apiKey.data(),
                       settings_.apiKey.size()) == 0;
}

int RestApi::onBodyComplete(lws* wsi, HttpExchange* exchange) {
  if (exchange == nullptr) return -1;
  const std::string authorization = requestHeader(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
  if (exchange->bodyTooLarge && authorized(authorization))
    return respondJson(wsi, 413, jsonError("body too large"));
  pending_[exchange->id] = {wsi, exchange};
  auto answer = [this, id = exchange->id](unsigned status, std::string body) {
    answerLater(id, status, std::move(body));
  };
  if (exchange->room.empty())
    publishToRooms(authorization, exchange->body, std::move(answer));
  else
    publish(exchange->room, authorization, exchange->body, std::move(answer));
  return 0;
}

void RestApi::publishToRooms(std::string_view authorization, std::string_view body, Answer answer) {
  if (!authorized(authorization))
    return answer(401, jsonError("a valid Bearer API_KEY is required"));
  if (body.size() > settings_.maxFrameBytes) return answer(413, jsonError("body too large"));
  // Every room is checked before any is stored: a bad one stores nothing.
  auto decoded = common::decodePlainFrame(body, settings_.maxTextCodePoints);
  if (decoded.refusal) return answer(400, jsonError(decoded.reason));
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  const auto roomsIt = doc.FindMember("rooms");
  if (roomsIt == doc.MemberEnd() || !roomsIt->value.IsArray() || roomsIt->value.Empty() ||
      roomsIt->value.Size() > kMaxRoomsPerPublish)
    return answer(400, jsonError("rooms must be an array of 1 to 100 room names"));
  std::vector<std::string> rooms;
  for (const auto& room : roomsIt->value.GetArray()) {
    if (!room.IsString() || !common::isValidRoomName({room.GetString(), room.GetStringLength()}))
      return answer(400, jsonError("bad room name: use 1-64 of A-Z a-z 0-9 _ . -"));
    std::string name(room.GetString(), room.GetStringLength());
    if (std::find(rooms.begin(), rooms.end(), name) != rooms.end())
      return answer(400, jsonError("room " + name + " is listed twice"));
    rooms.push_back(std::move(name));
  }
  ++stats_.messagesReceived;
  const std::string message = common::encodeMessageBody(decoded.send->username, decoded.send->text);
  // Stored room by room, in the order given; the answer lists them so.
  storeNextRoom(
      std::make_shared<RoomBatch>(RoomBatch{std::move(rooms), message, {}, std::move(answer)}));
}

void RestApi::storeNextRoom(const std::shared_ptr<RoomBatch>& batch) {
  if (batch->stored.size() == batch->rooms.size()) {
    std::string out = "[";
    for (const auto& frame : batch->stored) {
      if (out.size() > 1) out += ',';
      out += frame;
    }
    batch->answer(201, out + "]\n");
    return;
  }
  const std::string room = batch->rooms[batch->stored.size()];
  const bool sent =
      store_.store(room, batch->message, [this, batch, room](std::optional<StoredAck> ack) {
        if (!ack) {
          ++stats_.storeFailures;
          batch->answer(503, jsonError("redis unavailable: stored in " +
                                       std::to_string(batch->stored.size()) + " of " +
                                       std::to_string(batch->rooms.size()) +
                                       " rooms (the first ones listed)"));
          return;
        }
        ++stats_.messagesStored;
        batch->stored.push_back(
            common::composeStoredFrame(room, ack->epoch, ack->id, ack->ts, batch->message));
        storeNextRoom(batch);
      });
  if (!sent)
    batch->answer(503,
                  jsonError("redis unavailable: stored in " + std::to_string(batch->stored.size()) +
                            " of " + std::to_string(batch->rooms.size()) + " rooms"));
}

void RestApi::postBuffered(std::string_view path, std::string_view authorization,
                           std::string_view body, Answer answer) {
  if (path == kMessagesPath) {
    if (settings_.apiKey.empty())
      return answer(404, jsonError("the operator API is off: API_KEY is not set"));
    return publishToRooms(authorization, body, std::move(answer));
  }
  const auto room = roomOfPath(path);
  if (!room) return answer(404, jsonError("not found"));
  if (!common::isValidRoomName(*room))
    return answer(400, jsonError("bad room name: use 1-64 of A-Z a-z 0-9 _ . -"));
  if (settings_.apiKey.empty())
    return answer(404, jsonError("the publish API is off: API_KEY is not set"));
  publish(std::string(*room), authorization, body, std::move(answer));
}

void RestApi::publish(const std::string& room, std::string_view authorization,
                      std::string_view body, Answer answer) {
  if (!authorized(authorization)) {
    answer(401, jsonError("a valid Bearer API_KEY is required"));
    return;
  }
  if (body.size() > settings_.maxFrameBytes) {
    answer(413, jsonError("body too large"));
    return;
  }
  ++stats_.messagesReceived;
  auto decoded = common::decodePlainFrame(body, settings_.maxTextCodePoints);
  if (decoded.refusal) {
    stats_.refuse(*decoded.refusal);
    answer(400, jsonError(decoded.reason));
    return;
  }
  const std::string message = common::encodeMessageBody(decoded.send->username, decoded.send->text);
  auto shared = std::make_shared<Answer>(std::move(answer));
  const bool sent =
      store_.store(room, message, [this, shared, room, message](std::optional<StoredAck> ack) {
        if (!ack) {
          ++stats_.storeFailures;
          (*shared)(503, jsonError("may not be stored: redis unavailable"));
          return;
        }
        ++stats_.messagesStored;
        (*shared)(201,
                  common::composeStoredFrame(room, ack->epoch, ack->id, ack->ts, message) + "\n");
      });
  if (!sent) (*shared)(503, jsonError("not stored: redis unavailable"));
}

void RestApi::answerLater(std::uint64_t id, unsigned status, std::string body,
                          std::string firstId) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) return;  // the client went away
  auto [wsi, exchange] = it->second;
  pending_.erase(it);
  exchange->answered = true;
  exchange->status = status;
  exchange->response = std::move(body);
  exchange->firstId = std::move(firstId);
  lws_callback_on_writable(wsi);
}

int RestApi::onWritable(lws* wsi, HttpExchange*& exchange) {
  if (exchange == nullptr || !exchange->answered) return 0;
  const unsigned status = exchange->status;
  const std::string body = std::move(exchange->response);
  const ExtraHeader header =
      exchange->firstId.empty() ? ExtraHeader{} : ExtraHeader{"x-first-id:", exchange->firstId};
  delete exchange;
  exchange = nullptr;
  return respondJson(wsi, status, body, header);
}

void RestApi::onClosed(HttpExchange*& exchange) {
  if (exchange == nullptr) return;
  pending_.erase(exchange->id);
  delete exchange;
  exchange = nullptr;
}

}  // namespace chat::gateway
