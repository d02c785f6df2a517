// Gap repair (docs/protocol.md sections 3, 4 and 8): when a gateway's subscriber
// connection dies (Redis CLIENT KILL TYPE pubsub) while messages are being
// published, pub/sub loses messages; the gateway re-subscribes and fills the
// gaps from history, so every client on every gateway, v1 or plain, still sees
// one gap-free, duplicate-free id sequence up to the last id.

#include <algorithm>
#include <set>

#include "v1_helpers.h"

namespace chat::testing {
namespace {

class V1GapRepairTest : public GatewayTest {};

TEST_F(V1GapRepairTest, SubscriberKilledWhilePublishingLeavesNoGapsAnywhere) {
  constexpr int kMessages = 300;
  const std::set<int> kKillAfter = {40, 90, 150, 210, 260, 295};
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session v1OnA = joinV1(a, room, "reader-a");
  V1Session v1OnB = joinV1(b, room, "reader-b");
  auto plainOnA = connectPlain(a, room);
  auto plainOnB = connectPlain(b, room);
  V1Session publisher = joinV1(a, room, "publisher");

  // Every kill but the last waits until both gateways have subscribed to the
  // room again, so each one loses the messages in flight; after the last one
  // the final messages race the re-subscription, which must fill the gap on
  // its own, as no later message would reveal it.
  RedisClient killer = redisClient();
  const std::string channel = "chat:{" + room + "}";
  auto subscribers = [&] {
    Reply reply = killer.command({"PUBSUB", "NUMSUB", channel});
    return reply.elements.size() == 2 ? reply.elements[1].integer : -1;
  };
  // One subscription per gateway process with clients in the room: 2 at
  // WORKERS=1, up to 4 when each gateway's clients landed on both its workers.
  const std::int64_t subscribed = subscribers();
  ASSERT_GE(subscribed, 2) << "both gateways subscribe to " << channel;
  std::vector<std::int64_t> killed;
  bool resubscribed = true;
  publishPaced(*publisher.client, kMessages, "n", 8, [&](int acked) {
    if (kKillAfter.count(acked) == 0) return;
    killed.push_back(killer.integer({"CLIENT", "KILL", "TYPE", "pubsub"}));
    if (acked != *kKillAfter.rbegin())
      resubscribed = resubscribed && waitFor([&] { return subscribers() == subscribed; }, 10s, 5ms);
  });
  EXPECT_TRUE(resubscribed) << "a gateway did not subscribe again within 10 s";
  EXPECT_GE(*std::min_element(killed.begin(), killed.end()), subscribed)
      << "each kill hits both gateways' subscriber connections";

  // Readers read only now: each must see 1..300, whatever the kills did.
  struct Reader {
    std::string name;
    V1Client* v1;
    WsClient* plain;
  };
  const std::vector<Reader> readers = {{"v1 on gw-a", v1OnA.client.get(), nullptr},
                                       {"v1 on gw-b", v1OnB.client.get(), nullptr},
                                       {"publisher (v1 on gw-a)", publisher.client.get(), nullptr},
                                       {"plain on gw-a", nullptr, plainOnA.get()},
                                       {"plain on gw-b", nullptr, plainOnB.get()}};
  for (const Reader& reader : readers) {
    SCOPED_TRACE(reader.name);
    std::vector<std::int64_t> ids;
    std::set<std::string> epochs;
    Deadline deadline(60s);
    while (ids.empty() || ids.back() < kMessages) {
      ASSERT_FALSE(deadline.expired()) << "the last id did not come; got " << ids.size()
                                       << " messages, last id " << (ids.empty() ? 0 : ids.back());
      ChatMessage message = reader.v1 != nullptr
                                ? expectMessage(*reader.v1, deadline.remaining())
                                : receiveMessage(*reader.plain, deadline.remaining());
      ids.push_back(message.id);
      epochs.insert(message.epoch);
    }
    EXPECT_EQ(ids, idRange(1, kMessages)) << "gap-free and duplicate-free";
    EXPECT_EQ(epochs.size(), 1u);
    if (reader.v1 != nullptr) {
      for (const V1Frame& frame : reader.v1->queued()) {
        EXPECT_NE(frame.type(), "joined") << "the epoch never changed: " << frame.raw();
      }
    }
  }

  // No late duplicate is still on its way: the next message anyone gets is
  // the next one published.
  V1Ack after = sendAndAck(*publisher.client, "after", "after");
  ASSERT_EQ(after.id, kMessages + 1);
  for (const Reader& reader : readers) {
    SCOPED_TRACE(reader.name);
    ChatMessage message =
        reader.v1 != nullptr ? expectMessage(*reader.v1) : receiveMessage(*reader.plain);
    EXPECT_EQ(message.id, after.id) << message.raw;
  }
}

}  // namespace
}  // namespace chat::testing
