#include "gateway_test.h"

#include <cctype>
#include <chrono>
#include <iostream>
#include <stdexcept>

#include "sanitizer_report.h"

namespace chat::testing {
namespace {

constexpr std::size_t kLogTailBytes = 8000;

std::string tail(const std::string& text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  std::size_t from = text.find('\n', text.size() - bytes);
  return "...\n" + text.substr(from == std::string::npos ? text.size() - bytes : from + 1);
}

}  // namespace

void GatewayTest::TearDown() {
  for (auto& gateway : gateways_) {
    // A gateway the test killed on purpose has its status already.
    if (gateway->isRunning()) {
      ExitStatus status = gateway->stop();
      EXPECT_TRUE(status.success())
          << "gateway " << gateway->id() << " on SIGTERM: " << status.describe();
    }
    std::string log = gateway->readStderr();
    EXPECT_FALSE(containsSanitizerReport(log))
        << "gateway " << gateway->id() << " printed a sanitizer report:\n"
        << sanitizerReportExcerpt(log);
  }
  if (HasFailure()) {
    for (auto& gateway : gateways_) {
      std::cerr << "----- stderr of gateway " << gateway->id() << " (pid " << gateway->pid()
                << ", port " << gateway->port() << ") -----\n"
                << tail(gateway->readStderr(), kLogTailBytes) << "----- end of " << gateway->id()
                << " -----\n";
    }
  }
  gateways_.clear();
  redis_.reset();
}

RedisServer& GatewayTest::redis() {
  if (!redis_) redis_ = std::make_unique<RedisServer>();
  return *redis_;
}

GatewayProcess& GatewayTest::startGateway(const EnvVars& env, std::string id) {
  return startGatewayOn(redis().url(), env, std::move(id));
}

GatewayProcess& GatewayTest::startGatewayOn(const std::string& redisUrl, const EnvVars& env,
                                            std::string id) {
  GatewayOptions options;
  options.binary = CHAT_GATEWAY_BIN;
  options.redisUrl = redisUrl;
  options.id = id.empty() ? "gw-" + std::to_string(gateways_.size() + 1) : std::move(id);
  options.env = env;
  gateways_.push_back(std::make_unique<GatewayProcess>(std::move(options)));
  return *gateways_.back();
}

std::string GatewayTest::uniqueRoom(std::string_view suffix) const {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info == nullptr ? std::string("test") : std::string(info->name());
  // Rooms are 1-64 characters of A-Z a-z 0-9 _ . -
  std::string room;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') {
      room.push_back(c);
    }
  }
  room = room.substr(0, 40) + "." + std::string(suffix);
  return room.substr(0, 64);
}

std::string historyKey(const std::string& room) {
  return "chat:{" + room + "}:history";
}

std::string sequenceKey(const std::string& room) {
  return "chat:{" + room + "}:seq";
}

std::string plainTarget(const std::string& room) {
  return "/websocket?room=" + room;
}

std::unique_ptr<WsClient> connectPlain(const GatewayProcess& gateway, const std::string& room,
                                       WsConnectOptions options) {
  auto client = std::make_unique<WsClient>();
  if (!client->connect(gateway.port(), plainTarget(room), std::move(options))) {
    throw std::runtime_error("plain client to room '" + room + "' on " + gateway.id() + ": " +
                             client->error() + " " + client->handshake().body);
  }
  if (!client->subprotocol().empty()) {
    throw std::runtime_error("a plain client got subprotocol '" + client->subprotocol() + "'");
  }
  return client;
}

void sendPlain(WsClient& client, std::string_view username, std::string_view text) {
  if (!client.sendText(plainMessageJson(username, text))) {
    throw std::runtime_error("send failed: " + client.error());
  }
}

ChatMessage receiveMessage(WsClient& client, std::chrono::milliseconds timeout) {
  std::optional<std::string> frame = client.receiveText(timeout);
  if (!frame) throw std::runtime_error("expected a message frame: " + client.error());
  std::string error;
  std::optional<ChatMessage> message = parseChatMessage(*frame, &error);
  if (!message) throw std::runtime_error("expected a message frame, got: " + error);
  return *message;
}

CloseInfo expectClose(WsClient& client, std::chrono::milliseconds timeout) {
  std::optional<CloseInfo> close = client.receiveClose(timeout);
  if (!close) throw std::runtime_error("expected a close, the connection stayed open");
  return *close;
}

std::int64_t unixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace chat::testing
