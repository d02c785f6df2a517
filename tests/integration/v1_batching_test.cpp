// Batching (docs/protocol.md section 4): a v1 client receiving a burst gets several
// JSON frames per WebSocket frame, separated by '\n', and still every message
// exactly once and in order; a plain client in the same room always gets
// exactly one message per WebSocket frame.

#include "v1_helpers.h"

namespace chat::testing {
namespace {

class V1BatchingTest : public GatewayTest {
 protected:
  // A v1 reader and a plain client on gateway A, a v1 publisher on gateway B.
  struct Room {
    V1Session reader;
    std::unique_ptr<WsClient> plain;
    V1Session publisher;
  };
  Room openRoom(const EnvVars& readerGatewayEnv) {
    GatewayProcess& a = startGateway(readerGatewayEnv, "gw-a");
    GatewayProcess& b = startGateway(v1Env(), "gw-b");
    EXPECT_TRUE(a.waitReady());
    EXPECT_TRUE(b.waitReady());
    const std::string room = uniqueRoom();
    Room r;
    r.reader = joinV1(a, room, "reader");
    r.plain = connectPlain(a, room);
    r.publisher = joinV1(b, room, "publisher");
    return r;
  }
};

TEST_F(V1BatchingTest, BurstArrivesBatchedEveryMessageOnceInOrder) {
  constexpr int kMessages = 500;
  auto [reader, plain, publisher] = openRoom(v1Env());
  ASSERT_FALSE(HasFailure());

  // The reader reads nothing while the burst is published on the other
  // gateway, as fast as its acks allow.
  const std::size_t webSocketBefore = reader.client->webSocketFrames();
  publishPaced(*publisher.client, kMessages, "burst-", 100);

  std::vector<ChatMessage> received;
  Deadline deadline(60s);
  while (received.size() < static_cast<std::size_t>(kMessages)) {
    std::optional<V1Frame> frame = reader.client->next(deadline);
    ASSERT_TRUE(frame) << "after " << received.size() << " messages: " << reader.client->error();
    if (frame->type() != "message") {
      EXPECT_EQ(frame->type(), "presence") << "only the publisher's arrival: " << frame->raw();
      continue;
    }
    std::optional<ChatMessage> message = frame->message();
    ASSERT_TRUE(message) << frame->raw();
    received.push_back(std::move(*message));
  }
  const std::size_t webSocketFrames = reader.client->webSocketFrames() - webSocketBefore;
  ASSERT_EQ(idsOf(received), idRange(1, kMessages)) << "every message once, in order";
  for (int i = 0; i < kMessages; ++i)
    ASSERT_EQ(received[static_cast<std::size_t>(i)].text, "burst-" + std::to_string(i + 1));
  RecordProperty("websocket_frames", static_cast<int>(webSocketFrames));
  EXPECT_LT(webSocketFrames, static_cast<std::size_t>(kMessages))
      << "a burst of " << kMessages << " messages came in " << webSocketFrames
      << " WebSocket frames: not batched";
  EXPECT_GT(reader.client->jsonFrames(), reader.client->webSocketFrames());

  // The plain client: one message per frame (receiveMessage parses the whole
  // WebSocket frame as one message), the same bytes.
  for (int i = 0; i < kMessages; ++i) {
    ChatMessage message = receiveMessage(*plain, 30s);
    ASSERT_EQ(message.id, i + 1);
    ASSERT_EQ(message.raw, received[static_cast<std::size_t>(i)].raw);
  }
}

TEST_F(V1BatchingTest, WithAWriteGapASteadyStreamSharesSendsAndArrivesOnceInOrder) {
  // WRITE_GAP_MS on the reader's gateway: a pass that would follow the last
  // one within 50 ms waits, so messages published one at a time (window 1,
  // each only after the previous ack), which would each get a pass of their
  // own, reach the reader in fewer WebSocket frames than messages; plain
  // clients still get one frame per message.
  constexpr int kMessages = 100;
  auto [reader, plain, publisher] = openRoom(v1Env({{"WRITE_GAP_MS", "50"}}));
  ASSERT_FALSE(HasFailure());

  const std::size_t webSocketBefore = reader.client->webSocketFrames();
  const auto start = std::chrono::steady_clock::now();
  std::vector<ChatMessage> received;
  // Each message is written in the gateway's next pass whether or not the
  // reader reads meanwhile (the socket buffers take them all).
  publishPaced(*publisher.client, kMessages, "steady-", 1);
  Deadline deadline(30s);
  while (received.size() < static_cast<std::size_t>(kMessages)) {
    std::optional<V1Frame> frame = reader.client->next(deadline);
    ASSERT_TRUE(frame) << "after " << received.size() << " messages: " << reader.client->error();
    if (std::optional<ChatMessage> message = frame->message()) received.push_back(*message);
  }
  ASSERT_EQ(idsOf(received), idRange(1, kMessages)) << "every message once, in order";
  const std::size_t webSocketFrames = reader.client->webSocketFrames() - webSocketBefore;
  // Passes at least 50 ms apart: no more frames than 50 ms spans in the time
  // it all took, plus the first pass and a presence event.
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  const auto bound = static_cast<std::size_t>(elapsed / 50ms) + 2;
  EXPECT_LE(webSocketFrames, bound)
      << kMessages << " messages published one at a time in " << elapsed.count() << " ms came in "
      << webSocketFrames << " WebSocket frames: the write gap did not gather them";
  for (int i = 1; i <= kMessages; ++i)
    ASSERT_EQ(receiveMessage(*plain, 30s).id, i);
}

}  // namespace
}  // namespace chat::testing
