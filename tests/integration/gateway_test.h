#pragma once
// The fixture of the integration tests: a Redis of the test's own, gateways on
// it, and helpers that speak the plain (tutorial) protocol. TearDown stops every
// gateway by PID with SIGTERM and fails the test when one did not exit 0 or
// printed a sanitizer report; on a failure it prints the gateways' logs.
// Helpers that expect something throw std::runtime_error saying what came
// instead; GoogleTest reports that as the test's failure.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway_process.h"
#include "json.h"
#include "redis_client.h"
#include "redis_server.h"
#include "ws_client.h"

namespace chat::testing {

using namespace std::chrono_literals;

// Rate limits high enough that a test publishing hundreds of messages as fast
// as the echoes come back is never throttled.
inline const EnvVars kNoRateLimit = {{"RATE_LIMIT", "1000000"}, {"RATE_BURST", "1000000"}};

class GatewayTest : public ::testing::Test {
 protected:
  void TearDown() override;

  // This test's Redis, started on first use.
  RedisServer& redis();
  RedisClient redisClient() { return redis().client(); }

  // A gateway on redis(); `id` defaults to gw-1, gw-2, ...
  GatewayProcess& startGateway(const EnvVars& env = {}, std::string id = {});
  // A gateway on any Redis URL (one where nothing listens, say).
  GatewayProcess& startGatewayOn(const std::string& redisUrl, const EnvVars& env = {},
                                 std::string id = {});

  // A room name of this test's own: its name plus `suffix`.
  std::string uniqueRoom(std::string_view suffix = "r") const;

 private:
  std::unique_ptr<RedisServer> redis_;
  std::vector<std::unique_ptr<GatewayProcess>> gateways_;
};

std::string historyKey(const std::string& room);
std::string sequenceKey(const std::string& room);
std::string plainTarget(const std::string& room);

// A plain client (no subprotocol) in `room`; throws when the handshake fails.
std::unique_ptr<WsClient> connectPlain(const GatewayProcess& gateway, const std::string& room,
                                       WsConnectOptions options = {});

// Sends {"username","text"}; throws when the send fails.
void sendPlain(WsClient& client, std::string_view username, std::string_view text);

// The next frame, which must be a chat message frame; throws otherwise.
ChatMessage receiveMessage(WsClient& client, std::chrono::milliseconds timeout = 10s);

// The close the gateway sends next (after any text frames); throws when the
// connection stays open past `timeout`.
CloseInfo expectClose(WsClient& client, std::chrono::milliseconds timeout = 10s);

// Milliseconds since the Unix epoch, for checks of `ts`.
std::int64_t unixMillisNow();

}  // namespace chat::testing
