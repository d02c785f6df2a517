// Hardening: connection churn (docs/protocol.md section 1: no request of any shape
// may make the process leak or slow down). 10,000 WebSocket connections, plain
// and v1 alike, are opened and closed in batches of 250, a third each way: a
// close frame, a bare FIN, and a TCP reset, over ten rooms so that rooms are
// subscribed and unsubscribed and presence comes and goes all along. Afterwards the gateway's open
// file descriptors are back where they started and its resident memory near where it was after a
// warm-up batch.

#include <cstdlib>
#include <iostream>

#include "proc_stats.h"
#include "socket_swarm.h"
#include "v1_helpers.h"
#include "ws_handshake.h"

namespace chat::testing {
namespace {

class HardeningChurnTest : public GatewayTest {};

constexpr std::size_t kConnections = 10000;
constexpr std::size_t kBatch = 250;
constexpr std::size_t kRooms = 10;
// Bounds, stated: the fd count returns to within 2 of the idle gateway's
// (lws may keep a spare pipe or timer fd); RSS grows by at most 32 MiB over
// the warmed-up gateway's while 10,000 connections come and go (allocator
// caches and ASan's quarantine fill up to a plateau), and by at most 8 MiB
// over the second 5,000: a leak of 1.7 KB a connection would break that.
constexpr std::size_t kFdSlack = 2;
constexpr std::size_t kRssGrowthBoundKib = 32 * 1024;
constexpr std::size_t kSecondHalfRssGrowthBoundKib = 8 * 1024;

EnvVars smallQuarantine() {
  // See hardening_slow_clients_test.cpp: RSS should follow live memory.
  const char* inherited = std::getenv("ASAN_OPTIONS");
  std::string options = inherited != nullptr ? inherited : "";
  if (!options.empty()) options += ':';
  options += "quarantine_size_mb=8";
  return {{"ASAN_OPTIONS", options}};
}

// Opens `count` connections, upgrades them all, and closes them in three
// ways; returns how many got their 101.
std::size_t churnBatch(const GatewayProcess& gateway, std::size_t count, std::size_t batchIndex,
                       const std::vector<std::string>& handshakes) {
  SocketSwarm swarm;
  const std::size_t opened = swarm.open(gateway.port(), count, Deadline(10s));
  EXPECT_EQ(opened, count) << "batch " << batchIndex << ": TCP connects";
  for (std::size_t i = 0; i < swarm.size(); ++i)
    swarm.sendTo(i, handshakes[(batchIndex + i) % handshakes.size()], Deadline(5s));
  swarm.readUntilAll("\r\n\r\n", Deadline(20s));
  std::size_t upgraded = 0;
  for (std::size_t i = 0; i < swarm.size(); ++i)
    upgraded += swarm.input(i).rfind("HTTP/1.1 101", 0) == 0 ? 1 : 0;

  // A third say goodbye with a close frame, a third just go (FIN), a third
  // reset the connection.
  const std::string closeFrame =
      encodeFrame(WsFrame{true, 0, WsOpcode::kClose, true, encodeClosePayload(1000, "bye")},
                  MaskKey{1, 2, 3, 4});
  for (std::size_t i = 0; i < swarm.size(); ++i) {
    if (i % 3 == 0) swarm.sendTo(i, closeFrame, Deadline(1s));
    swarm.closeOne(i, i % 3 == 2);
  }
  return upgraded;
}

std::size_t fdCount(const GatewayProcess& gateway) {
  return treeOpenFdCount(gateway.pid()).value_or(0);
}

TEST_F(HardeningChurnTest, TenThousandConnectionsComeAndGoWithoutLeaks) {
  GatewayProcess& gateway = startGateway(smallQuarantine());
  ASSERT_TRUE(gateway.waitReady());
  // Plain and v1 handshakes (v1 connections also register presence).
  std::vector<std::string> handshakes;
  for (std::size_t r = 0; r < kRooms; ++r) {
    for (bool v1 : {false, true}) {
      HandshakeRequest request;
      request.host = "127.0.0.1:" + std::to_string(gateway.port());
      request.target = v1Target(uniqueRoom("c" + std::to_string(r)), "user" + std::to_string(r));
      if (v1) request.subprotocols = {std::string(kV1Subprotocol)};
      request.key = makeWebSocketKey();
      handshakes.push_back(buildHandshakeRequest(request));
    }
  }
  auto witness = connectPlain(gateway, uniqueRoom("c0"));
  const std::size_t idleFds = fdCount(gateway);
  ASSERT_GT(idleFds, 0u);

  // Warm-up: pools, hash tables and the allocator reach their working size.
  ASSERT_EQ(churnBatch(gateway, kBatch, 0, handshakes), kBatch);
  ASSERT_TRUE(waitFor([&] { return fdCount(gateway) <= idleFds; }, 20s))
      << fdCount(gateway) << " fds after the warm-up, " << idleFds << " before";
  const std::size_t warmRss = treeResidentKib(gateway.pid()).value_or(0);

  std::size_t upgraded = 0;
  std::size_t peakFds = 0;
  std::size_t midRss = 0;
  const auto start = Clock::now();
  for (std::size_t batch = 0; batch < kConnections / kBatch; ++batch) {
    upgraded += churnBatch(gateway, kBatch, batch + 1, handshakes);
    peakFds = std::max(peakFds, fdCount(gateway));
    if ((batch + 1) * kBatch == kConnections / 2)
      midRss = treeResidentKib(gateway.pid()).value_or(0);
  }
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_EQ(upgraded, kConnections) << "every handshake got its 101";

  const bool settled =
      waitFor([&] { return fdCount(gateway) <= idleFds + kFdSlack; }, 20s, milliseconds(50));
  const std::size_t endFds = fdCount(gateway);
  const std::size_t endRss = treeResidentKib(gateway.pid()).value_or(0);
  std::cout << kConnections << " connections in " << took.count() << " ms; fds idle " << idleFds
            << ", peak " << peakFds << ", end " << endFds << "; RSS warm " << warmRss
            << " KiB, half-way " << midRss << " KiB, end " << endRss << " KiB\n";
  EXPECT_TRUE(settled) << endFds << " fds left open, " << idleFds << " when idle";
  EXPECT_LE(endRss, warmRss + kRssGrowthBoundKib);
  EXPECT_LE(endRss, midRss + kSecondHalfRssGrowthBoundKib) << "RSS still grows with churn";

  // Still serving, and the witness saw nothing but the message sent to it.
  auto client = connectPlain(gateway, uniqueRoom("c0"));
  sendPlain(*client, "after", "still here");
  EXPECT_EQ(receiveMessage(*witness).text, "still here");
}

}  // namespace
}  // namespace chat::testing
