// Batching (PROTOCOL.md section 4): a v1 client receiving a burst gets several
// JSON frames per WebSocket frame, separated by '\n', and still every message
// exactly once and in order; a plain client in the same room always gets
// exactly one message per WebSocket frame.

#include "v1_helpers.h"

namespace chat::testing {
namespace {

class V1BatchingTest : public GatewayTest {};

TEST_F(V1BatchingTest, BurstArrivesBatchedEveryMessageOnceInOrder) {
  constexpr int kMessages = 500;
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session reader = joinV1(a, room, "reader");
  auto plain = connectPlain(a, room);
  V1Session publisher = joinV1(b, room, "publisher");

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
  GatewayProcess& a = startGateway(v1Env({{"WRITE_GAP_MS", "50"}}), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session reader = joinV1(a, room, "reader");
  auto plain = connectPlain(a, room);
  V1Session publisher = joinV1(b, room, "publisher");

  const std::size_t webSocketBefore = reader.client->webSocketFrames();
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
  EXPECT_LT(webSocketFrames, static_cast<std::size_t>(kMessages))
      << kMessages << " messages published one at a time came in " << webSocketFrames
      << " WebSocket frames: the write gap did not gather them";
  for (int i = 1; i <= kMessages; ++i)
    ASSERT_EQ(receiveMessage(*plain, 30s).id, i);
}

}  // namespace
}  // namespace chat::testing
