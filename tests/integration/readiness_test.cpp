// /readyz follows Redis (docs/protocol.md sections 1 and 8): 503 while it cannot be
// reached, 200 once it is, 503 again when it goes away; the process itself
// stays healthy throughout.

#include "gateway_test.h"
#include "http_client.h"
#include "ports.h"
#include "wait.h"

namespace chat::testing {
namespace {

class ReadinessTest : public GatewayTest {};

int readyStatus(const GatewayProcess& gateway) {
  return httpGet(gateway.port(), "/readyz", 2s).status;
}

TEST_F(ReadinessTest, ReadyzIs503WhileRedisIsUnreachable) {
  const std::uint16_t redisPort = findFreePort();
  GatewayProcess& gateway =
      startGatewayOn("redis://127.0.0.1:" + std::to_string(redisPort), {}, "gw-no-redis");

  HttpResponse notReady = httpGet(gateway.port(), "/readyz");
  EXPECT_EQ(notReady.status, 503) << notReady.error;
  EXPECT_FALSE(notReady.body.empty()) << "a 503 from /readyz carries a short reason";
  EXPECT_EQ(httpGet(gateway.port(), "/healthz").status, 200) << "the event loop runs";

  RedisServer redis(redisPort);
  EXPECT_TRUE(gateway.waitReady(20s)) << "/readyz did not turn 200 once Redis was up";

  redis.kill();
  EXPECT_TRUE(waitFor([&] { return readyStatus(gateway) == 503; }, 15s))
      << "/readyz did not turn 503 after Redis was killed";
  EXPECT_EQ(httpGet(gateway.port(), "/healthz").status, 200);

  redis.restart();
  EXPECT_TRUE(gateway.waitReady(20s)) << "/readyz did not turn 200 after Redis came back";
}

}  // namespace
}  // namespace chat::testing
