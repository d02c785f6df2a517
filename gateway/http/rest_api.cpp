#include "http/rest_api.h"

#include <openssl/crypto.h>

#include <charconv>

#include "http/http_response.h"
#include "protocol/codec.h"
#include "protocol/validation.h"

namespace chat::gateway {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::uint64_t kMaxId = std::uint64_t{1} << 53;
constexpr std::uint64_t kMaxLimit = 1000;
constexpr std::uint64_t kDefaultLimit = 100;

std::string jsonError(std::string_view message) {
  std::string body = R"({"error":)";
  common::appendJsonString(body, message);
  body += "}\n";
  return body;
}

// "/api/rooms/{room}/messages" -> room; nullopt for any other path.
std::optional<std::string_view> roomOfPath(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/rooms/";
  constexpr std::string_view kSuffix = "/messages";
  if (path.substr(0, kPrefix.size()) != kPrefix || path.size() <= kPrefix.size() + kSuffix.size() ||
      path.substr(path.size() - kSuffix.size()) != kSuffix)
    return std::nullopt;
  return path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
}

std::optional<std::uint64_t> parseNumber(const std::string& s, std::uint64_t min,
                                         std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || value < min || value > max)
    return std::nullopt;
  return value;
}

bool isPost(lws* wsi) {
  return lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
}

}  // namespace

RestApi::RestApi(const common::Settings& settings, MessageStore& store, ServerStats& stats)
    : settings_(settings), store_(store), stats_(stats) {}

int RestApi::onRequest(lws* wsi, HttpExchange*& exchange, std::string_view path) {
  const auto room = roomOfPath(path);
  if (!room) return respondText(wsi, 404, jsonError("not found"), kJson);
  if (!common::isValidRoomName(*room))
    return respondText(wsi, 400, jsonError("bad room name: use 1-64 of A-Z a-z 0-9 _ . -"), kJson);
  const bool post = isPost(wsi);
  if (!post && lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
    return respondText(wsi, 405, jsonError("use GET or POST"), kJson);
  if (post && settings_.apiKey.empty())
    return respondText(wsi, 404, jsonError("the publish API is off: API_KEY is not set"), kJson);

  delete exchange;
  exchange = new HttpExchange;
  exchange->id = nextId_++;
  exchange->room = *room;
  // A POST answers once its body is in (onBodyComplete).
  return post ? 0 : startGet(wsi, *exchange);
}

int RestApi::startGet(lws* wsi, HttpExchange& exchange) {
  const auto sinceArg = queryArg(wsi, "since");
  const auto limitArg = queryArg(wsi, "limit");
  std::optional<std::uint64_t> since;
  std::uint64_t limit = kDefaultLimit;
  if (sinceArg) {
    since = parseNumber(*sinceArg, 0, kMaxId);
    if (!since) return respondText(wsi, 400, jsonError("since must be a whole number >= 0"), kJson);
  }
  if (limitArg) {
    const auto parsed = parseNumber(*limitArg, 1, kMaxLimit);
    if (!parsed) return respondText(wsi, 400, jsonError("limit must be 1 to 1000"), kJson);
    limit = *parsed;
  }
  const HistoryQuery query =
      since ? HistoryQuery{HistoryQuery::Mode::kAfter, *since, static_cast<std::int64_t>(limit)}
            : HistoryQuery{HistoryQuery::Mode::kLast, limit, -1};
  pending_[exchange.id] = {wsi, &exchange};
  const bool sent = store_.read(exchange.room, query,
                                [this, id = exchange.id](std::optional<HistorySlice> slice) {
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
                                  answerLater(id, 200, std::move(body));
                                });
  if (!sent) {
    pending_.erase(exchange.id);
    return respondText(wsi, 503, jsonError("redis unavailable"), kJson);
  }
  return 0;
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

bool RestApi::authorized(lws* wsi) const {
  const std::string header = requestHeader(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() != kBearer.size() + settings_.apiKey.size() ||
      std::string_view(header).substr(0, kBearer.size()) != kBearer)
    return false;
  // Constant time: the comparison must not reveal how much of a guess was right.
  return CRYPTO_memcmp(header.data() + kBearer.size(), settings_.apiKey.data(),
                       settings_.apiKey.size()) == 0;
}

int RestApi::onBodyComplete(lws* wsi, HttpExchange* exchange) {
  if (exchange == nullptr) return -1;
  if (!authorized(wsi))
    return respondText(wsi, 401, jsonError("a valid Bearer API_KEY is required"), kJson);
  if (exchange->bodyTooLarge) return respondText(wsi, 413, jsonError("body too large"), kJson);
  ++stats_.messagesReceived;
  auto decoded = common::decodePlainFrame(exchange->body, settings_.maxTextCodePoints);
  if (decoded.refusal) {
    stats_.refuse(*decoded.refusal);
    return respondText(wsi, 400, jsonError(decoded.reason), kJson);
  }
  const std::string body = common::encodeMessageBody(decoded.send->username, decoded.send->text);
  pending_[exchange->id] = {wsi, exchange};
  const bool sent = store_.store(
      exchange->room, body,
      [this, id = exchange->id, room = exchange->room, body](std::optional<StoredAck> ack) {
        if (!ack) {
          ++stats_.storeFailures;
          answerLater(id, 503, jsonError("not stored: redis unavailable"));
          return;
        }
        ++stats_.messagesStored;
        answerLater(id, 201,
                    common::composeStoredFrame(room, ack->epoch, ack->id, ack->ts, body) + "\n");
      });
  if (!sent) {
    pending_.erase(exchange->id);
    return respondText(wsi, 503, jsonError("not stored: redis unavailable"), kJson);
  }
  return 0;
}

void RestApi::answerLater(std::uint64_t id, unsigned status, std::string body) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) return;  // the client went away
  auto [wsi, exchange] = it->second;
  pending_.erase(it);
  exchange->answered = true;
  exchange->status = status;
  exchange->response = std::move(body);
  lws_callback_on_writable(wsi);
}

int RestApi::onWritable(lws* wsi, HttpExchange*& exchange) {
  if (exchange == nullptr || !exchange->answered) return 0;
  const unsigned status = exchange->status;
  const std::string body = std::move(exchange->response);
  delete exchange;
  exchange = nullptr;
  return respondText(wsi, status, body, kJson);
}

void RestApi::onClosed(HttpExchange*& exchange) {
  if (exchange == nullptr) return;
  pending_.erase(exchange->id);
  delete exchange;
  exchange = nullptr;
}

}  // namespace chat::gateway
