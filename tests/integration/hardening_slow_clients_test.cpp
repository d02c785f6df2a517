// Hardening: clients that are slow on purpose (docs/protocol.md sections 1 and 5).
// A reader that never reads is cut off (1008, slow consumer) once its
// outbound queue (MAX_QUEUE_BYTES) is full, without the gateway's memory
// growing with what flows to it and without the other readers of the room
// losing or waiting for anything. And 200 sockets that dribble their
// handshake one byte a second do not keep a normal client from connecting
// at once.

#include <cstdlib>
#include <iostream>

#include "http_client.h"
#include "proc_stats.h"
#include "socket_swarm.h"
#include "v1_helpers.h"
#include "ws_handshake.h"

namespace chat::testing {
namespace {

class HardeningSlowClientsTest : public GatewayTest {};

// ASan keeps freed memory in quarantine (256 MiB by default) before reuse,
// which would make RSS follow the bytes that flowed rather than the bytes
// held. A small quarantine keeps RSS about live memory; without ASan the
// setting is ignored.
EnvVars smallQuarantine(EnvVars env) {
  const char* inherited = std::getenv("ASAN_OPTIONS");
  std::string options = inherited != nullptr ? inherited : "";
  if (!options.empty()) options += ':';
  options += "quarantine_size_mb=8";
  env.emplace_back("ASAN_OPTIONS", options);
  return env;
}

std::string plainHandshake(std::uint16_t port, const std::string& room) {
  HandshakeRequest request;
  request.host = "127.0.0.1:" + std::to_string(port);
  request.target = plainTarget(room);
  request.key = makeWebSocketKey();
  return buildHandshakeRequest(request);
}

bool loggedSlowConsumer(const GatewayProcess& gateway) {
  return gateway.readStderr().find("slow_consumer") != std::string::npos;
}

// Reads socket 0 of `swarm` as WebSocket frames until a close frame; its
// CloseInfo, 1006 when the stream ended without one, nullopt at the
// deadline. `messages` counts the text frames passed over.
std::optional<CloseInfo> readToClose(SocketSwarm& swarm, std::size_t headerBytes,
                                     const Deadline& deadline, std::size_t& messages) {
  std::string& input = swarm.mutableInput(0);
  input.erase(0, headerBytes);
  for (;;) {
    FrameDecodeResult decoded = decodeFrame(input, 64 << 20);
    if (decoded.status == FrameDecodeStatus::kMalformed) return CloseInfo{1002, decoded.error};
    if (decoded.status == FrameDecodeStatus::kComplete) {
      input.erase(0, decoded.consumed);
      if (decoded.frame.opcode == WsOpcode::kClose) return parseClosePayload(decoded.frame.payload);
      if (decoded.frame.opcode == WsOpcode::kText) ++messages;
      continue;
    }
    if (deadline.expired()) return std::nullopt;
    if (!swarm.readSome(0, deadline) && swarm.peerEnded(0)) {
      return CloseInfo{1006, "the stream ended without a close frame"};
    }
  }
}

TEST_F(HardeningSlowClientsTest, ReaderThatNeverReadsIsCutOffAndOthersGetEverything) {
  // A 256 KiB queue; ~2 KB messages. The kernel's socket buffers take a few
  // MB before the queue even starts to fill, so the publisher goes on until
  // the gateway reports the slow consumer (up to kMaxMessages, ~40 MB), and
  // then some, at least ~5 MB in all. Bounds: the gateway's RSS peaks at most
  // 32 MiB over its level before the slow client came; its socket is closed
  // within 5 s of the cut-off without the client reading.
  constexpr std::size_t kQueueBytes = 256 * 1024;
  constexpr int kMaxMessages = 20000;
  constexpr int kWindow = 32;
  constexpr int kAfterCutOff = 200;  // published after the cut-off, to be sure of it
  constexpr int kAtLeast = 2700;     // ~5 MB in all
  constexpr std::size_t kRssGrowthBoundKib = 32 * 1024;
  EnvVars env = kNoRateLimit;
  env.emplace_back("MAX_QUEUE_BYTES", std::to_string(kQueueBytes));
  GatewayProcess& gateway = startGateway(smallQuarantine(env));
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();

  auto publisher = connectPlain(gateway, room);
  auto reader = connectPlain(gateway, room);
  const std::optional<std::size_t> fdsBefore = treeOpenFdCount(gateway.pid());
  const std::optional<std::size_t> rssBefore = treeResidentKib(gateway.pid());
  ASSERT_TRUE(fdsBefore && rssBefore);

  // The reader that never reads: a raw socket with a small receive buffer
  // that completes its handshake and then reads nothing.
  SocketSwarm slow;
  ASSERT_EQ(slow.open(gateway.port(), 1, Deadline(5s), SwarmOptions{16 * 1024}), 1u);
  ASSERT_TRUE(slow.sendTo(0, plainHandshake(gateway.port(), room), Deadline(5s)));
  ASSERT_EQ(slow.readUntilAll("\r\n\r\n", Deadline(5s)), 1u);
  ASSERT_EQ(slow.input(0).rfind("HTTP/1.1 101", 0), 0u) << slow.input(0);
  const std::size_t headerBytes = slow.input(0).find("\r\n\r\n") + 4;

  const std::string text(1900, 'm');
  std::size_t rssPeak = *rssBefore;
  std::int64_t nextId = 1;
  int sent = 0;
  int echoed = 0;
  int cutOffAt = -1;        // messages echoed when the slow consumer was reported
  int last = kMaxMessages;  // set once the cut-off is seen
  Deadline deadline(60s);
  while (echoed < last && !deadline.expired()) {
    while (sent < last && sent - echoed < kWindow)
      sendPlain(*publisher, "pub", text + std::to_string(++sent));
    ChatMessage echo = receiveMessage(*publisher);
    ChatMessage got = receiveMessage(*reader);
    ASSERT_EQ(echo.id, nextId);
    ASSERT_EQ(got.id, nextId) << "the reader misses nothing";
    ++nextId;
    ++echoed;
    if (echoed % 100 == 0) {
      rssPeak = std::max(rssPeak, treeResidentKib(gateway.pid()).value_or(0));
      if (cutOffAt < 0 && loggedSlowConsumer(gateway)) {
        cutOffAt = echoed;
        last = std::max(cutOffAt + kAfterCutOff, kAtLeast);
      }
    }
  }
  ASSERT_GE(cutOffAt, 0) << "no slow_consumer after " << echoed << " messages of ~2 KB";
  EXPECT_EQ(echoed, last) << "the publisher got every echo";
  std::cout << "slow consumer cut off after " << cutOffAt << " messages (~"
            << cutOffAt * (text.size() + 100) / 1024 << " KiB), " << echoed
            << " published in all; RSS " << *rssBefore << " KiB before, peak " << rssPeak
            << " KiB\n";
  EXPECT_LE(rssPeak - *rssBefore, kRssGrowthBoundKib)
      << "the gateway's RSS grew by more than 32 MiB while ~" << echoed * 2 / 1024
      << " MB flowed to a client that did not read";

  // The gateway lets go of the connection without the client's help: its
  // socket is closed within a few seconds (lws waits at most 5 s for the
  // close handshake), though the client never reads.
  EXPECT_TRUE(waitFor([&] { return treeOpenFdCount(gateway.pid()) == fdsBefore; }, 10s))
      << "the slow consumer's socket is still open " << treeOpenFdCount(gateway.pid()).value_or(0)
      << " fds, " << *fdsBefore << " before it connected)";

  // Reading at last, the client finds the end of the connection after what
  // was sent: the 1008 close frame when it still fitted into the socket
  // buffers, else the bare end of the stream (1006) — it never read.
  std::size_t messages = 0;
  std::optional<CloseInfo> close = readToClose(slow, headerBytes, Deadline(20s), messages);
  ASSERT_TRUE(close) << "no close after " << messages << " messages";
  EXPECT_TRUE(close->code == 1008 || close->code == 1006) << close->code << " " << close->reason;
  if (close->code == 1008) {
    EXPECT_FALSE(close->reason.empty());
  }
  EXPECT_LT(messages, static_cast<std::size_t>(cutOffAt)) << "it missed what came after";

  // Everyone else carries on.
  auto late = connectPlain(gateway, room);
  sendPlain(*publisher, "pub", "after all that");
  EXPECT_EQ(receiveMessage(*reader).text, "after all that");
  EXPECT_EQ(httpGet(gateway.port(), "/healthz").status, 200);
}

TEST_F(HardeningSlowClientsTest, HandshakesSentOneByteASecondDoNotHoldUpOthers) {
  constexpr std::size_t kSlowSockets = 200;
  constexpr int kSeconds = 5;
  constexpr auto kConnectBound = 1000ms;
  GatewayProcess& gateway = startGateway();
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  const std::string handshake = plainHandshake(gateway.port(), room);

  SocketSwarm slow;
  ASSERT_EQ(slow.open(gateway.port(), kSlowSockets, Deadline(10s)), kSlowSockets);
  auto normal = connectPlain(gateway, room);

  const auto start = Clock::now();
  milliseconds slowest{0};
  for (int second = 0; second < kSeconds; ++second) {
    // One more byte of the handshake on each slow socket.
    EXPECT_EQ(slow.sendToAll(handshake.substr(static_cast<std::size_t>(second), 1), Deadline(2s)),
              kSlowSockets)
        << "second " << second;

    // A normal client connects at once and its message goes round.
    const auto before = Clock::now();
    auto client = connectPlain(gateway, room);
    const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - before);
    EXPECT_LT(took, kConnectBound) << "a handshake in second " << second;
    slowest = std::max(slowest, took);
    sendPlain(*client, "normal", "second " + std::to_string(second));
    EXPECT_EQ(receiveMessage(*normal).text, "second " + std::to_string(second));
    HttpResponse health = httpGet(gateway.port(), "/healthz", 1s);
    EXPECT_EQ(health.status, 200) << health.error;

    // The rest of the second: wait on the slow sockets (nothing comes).
    const auto tick = start + std::chrono::seconds(second + 1);
    const auto left = std::chrono::duration_cast<milliseconds>(tick - Clock::now());
    slow.readUntilAll("\r\n", Deadline(std::max(left, 0ms)));
  }
  std::cout << "slowest normal handshake among " << kSlowSockets
            << " dribbling sockets: " << slowest.count() << " ms\n";
  EXPECT_EQ(slow.openCount(), kSlowSockets) << "a handshake 5 s in the making is not over time";
  slow.closeAll();
  EXPECT_TRUE(gateway.isRunning());
}

}  // namespace
}  // namespace chat::testing
