// The ack promise (docs/protocol.md sections 1, 4 and 6): an acked message is in
// the room's history at once, as the REST API and Redis show, and a resend
// with the same ref on the same connection is stored once and acked with the
// same id.

#include "http_client.h"
#include "v1_helpers.h"

namespace chat::testing {
namespace {

class V1AckHistoryTest : public V1GatewayTest {};

std::string messagesPath(const std::string& room, const std::string& query = {}) {
  return "/api/rooms/" + room + "/messages" + (query.empty() ? "" : "?" + query);
}

// GET /api/rooms/{room}/messages, which must answer 200 with message frames.
std::vector<ChatMessage> getMessages(const GatewayProcess& gateway, const std::string& room,
                                     const std::string& query = {}) {
  HttpResponse response = httpGet(gateway.port(), messagesPath(room, query));
  if (response.status != 200) {
    throw std::runtime_error("GET " + messagesPath(room, query) + ": " +
                             std::to_string(response.status) + " " + response.error + " " +
                             response.body);
  }
  return parseMessageArray(response.body);
}

TEST_F(V1AckHistoryTest, EveryAckedMessageIsInTheHistoryAtOnce) {
  constexpr int kMessages = 60;
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(a, room, "alice");

  // Right after each ack, the other gateway's REST API already has it.
  std::vector<V1Ack> acks;
  for (int i = 1; i <= kMessages; ++i) {
    const std::string ref = "r" + std::to_string(i);
    acks.push_back(sendAndAck(*alice.client, "acked " + std::to_string(i), ref));
    std::vector<ChatMessage> found =
        getMessages(b, room, "since=" + std::to_string(acks.back().id - 1) + "&limit=1");
    ASSERT_EQ(found.size(), 1u) << "acked id " << acks.back().id << " is not in the history";
    EXPECT_EQ(found[0].id, acks.back().id);
    EXPECT_EQ(found[0].ts, acks.back().ts);
    EXPECT_EQ(found[0].text, "acked " + std::to_string(i));
  }

  // The whole history, oldest first, the stored bytes, with every acked id.
  std::vector<ChatMessage> all = getMessages(a, room, "limit=1000");
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kMessages));
  std::vector<std::string> stored = redisClient().strings({"LRANGE", historyKey(room), "0", "-1"});
  ASSERT_EQ(stored.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, acks[i].id) << "acks come in store order";
    EXPECT_EQ(all[i].ts, acks[i].ts);
    EXPECT_EQ(all[i].username, "alice");
    EXPECT_EQ(all[i].raw, stored[i]);
  }
  EXPECT_EQ(idsOf(all), idRange(1, kMessages));

  // since and limit select; without since, the last ones.
  EXPECT_EQ(idsOf(getMessages(b, room, "since=10&limit=5")), idRange(11, 15));
  EXPECT_EQ(idsOf(getMessages(b, room, "limit=3")), idRange(kMessages - 2, kMessages));
  EXPECT_EQ(idsOf(getMessages(b, room)), idRange(1, kMessages)) << "limit defaults to 100";
  EXPECT_EQ(idsOf(getMessages(b, room, "since=" + std::to_string(kMessages))),
            std::vector<std::int64_t>{});
  EXPECT_EQ(getMessages(b, uniqueRoom("empty")).size(), 0u);
}

TEST_F(V1AckHistoryTest, ResendWithTheSameRefIsStoredOnce) {
  auto [a, b, room, alice, bob] = openAliceAndBob();
  ASSERT_FALSE(HasFailure());
  RedisClient redis = redisClient();

  // After its ack: acked again, same id and ts, LLEN grows by one.
  V1Ack first = sendAndAck(*alice.client, "once", "dup");
  EXPECT_EQ(redis.integer({"LLEN", historyKey(room)}), 1);
  V1Ack again = sendAndAck(*alice.client, "once", "dup");
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.ts, first.ts);
  EXPECT_EQ(redis.integer({"LLEN", historyKey(room)}), 1);

  // Twice back to back, before any ack: stored once as well.
  ASSERT_TRUE(alice.client->sendMessage("twice", "dup2"));
  ASSERT_TRUE(alice.client->sendMessage("twice", "dup2"));
  V1Ack twice = expectAck(*alice.client, "dup2");
  EXPECT_EQ(twice.id, 2);
  V1Ack marker = sendAndAck(*alice.client, "marker", "m");
  EXPECT_EQ(marker.id, 3) << "the resend in flight was not stored";
  // Any further ack of dup2 names the same message.
  for (const V1Frame& frame : alice.client->queued()) {
    if (frame.type() == "ack" && frame.string("ref") == "dup2") {
      EXPECT_EQ(frame.integer("id"), twice.id) << frame.raw();
    }
  }
  EXPECT_EQ(redis.integer({"LLEN", historyKey(room)}), 3);

  // The other gateway's client saw each message once.
  for (std::int64_t id : {1, 2, 3}) {
    ChatMessage message = expectMessage(*bob.client);
    EXPECT_EQ(message.id, id);
  }
  // A ref is the connection's: another connection's "dup" is a new message.
  EXPECT_EQ(sendAndAck(*bob.client, "bob's own", "dup").id, 4);
  EXPECT_EQ(expectMessage(*bob.client).id, 4);
}

}  // namespace
}  // namespace chat::testing

namespace chat::testing {
namespace {

// The idempotency key lives in Redis, per (room, username, ref): a retry on a
// new connection, after a reconnect or through another gateway, gets the first
// store's ack and stores nothing (the reply of the first store may have been
// lost with its connection). It is the username's: another user's ref is new.
TEST_F(V1AckHistoryTest, ARetryOnAnotherConnectionOrGatewayIsStoredOnce) {
  auto [a, b, room, alice, bob] = openAliceAndBob();
  ASSERT_FALSE(HasFailure());
  RedisClient redis = redisClient();
  const V1Ack first = sendAndAck(*alice.client, "across", "retry-1");
  alice.client->ws().sendClose();

  V1Session again = joinV1(a, room, "alice");
  const V1Ack sameGateway = sendAndAck(*again.client, "across", "retry-1");
  EXPECT_EQ(sameGateway.id, first.id);
  EXPECT_EQ(sameGateway.ts, first.ts);
  V1Session elsewhere = joinV1(b, room, "alice");
  const V1Ack otherGateway = sendAndAck(*elsewhere.client, "across", "retry-1");
  EXPECT_EQ(otherGateway.id, first.id);
  EXPECT_EQ(otherGateway.ts, first.ts);
  EXPECT_EQ(redis.integer({"LLEN", historyKey(room)}), 1);

  EXPECT_EQ(sendAndAck(*bob.client, "bob's", "retry-1").id, first.id + 1);
  const std::int64_t ttl = redis.integer({"PTTL", "chat:{" + room + "}:ref:5:alice:retry-1"});
  EXPECT_GT(ttl, 0) << "the idempotency key expires";
  EXPECT_LE(ttl, 5 * 60 * 1000);
}

}  // namespace
}  // namespace chat::testing
