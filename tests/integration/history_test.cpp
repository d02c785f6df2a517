// History on join for plain clients (docs/protocol.md sections 2, 3, 6): oldest
// first, then live, trimmed to HISTORY_SIZE.

#include "gateway_test.h"
#include "http_client.h"
#include "v1_helpers.h"

namespace chat::testing {
namespace {

class HistoryTest : public GatewayTest {};

TEST_F(HistoryTest, JoinerGetsHistoryOldestFirstThenLiveMessages) {
  GatewayProcess& a = startGateway({}, "gw-a");
  GatewayProcess& b = startGateway({}, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  auto sender = connectPlain(a, room);
  for (int i = 1; i <= 5; ++i) {
    sendPlain(*sender, "alice", "history " + std::to_string(i));
    ASSERT_EQ(receiveMessage(*sender).id, i);
  }

  // A joiner on each gateway; the one on B also gets the live message A's
  // joiner saw, as history.
  int stored = 5;
  for (GatewayProcess* gateway : {&a, &b}) {
    SCOPED_TRACE("joiner on " + gateway->id());
    auto joiner = connectPlain(*gateway, room);
    for (int i = 1; i <= stored; ++i) {
      ChatMessage message = receiveMessage(*joiner);
      EXPECT_EQ(message.id, i);
      EXPECT_EQ(message.text, i <= 5 ? "history " + std::to_string(i) : "live on gw-a");
      EXPECT_EQ(message.username, "alice");
      EXPECT_EQ(message.room, room);
    }
    const std::string live = "live on " + gateway->id();
    sendPlain(*sender, "alice", live);
    ++stored;
    ChatMessage echo = receiveMessage(*sender);
    ChatMessage message = receiveMessage(*joiner);
    EXPECT_EQ(message.text, live);
    EXPECT_EQ(message.id, echo.id);
    EXPECT_EQ(message.raw, echo.raw);
  }
}

TEST_F(HistoryTest, HistoryIsTrimmedToHistorySize) {
  GatewayProcess& gateway = startGateway(
      {{"HISTORY_SIZE", "10"}, {"HISTORY_ON_JOIN", "20"}, kNoRateLimit[0], kNoRateLimit[1]});
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  auto sender = connectPlain(gateway, room);
  for (int i = 1; i <= 15; ++i) {
    sendPlain(*sender, "alice", "m" + std::to_string(i));
    ASSERT_EQ(receiveMessage(*sender).id, i);
  }

  RedisClient redis = redisClient();
  EXPECT_EQ(redis.integer({"LLEN", historyKey(room)}), 10);
  std::vector<std::string> stored = redis.strings({"LRANGE", historyKey(room), "0", "-1"});
  ASSERT_EQ(stored.size(), 10u);
  for (std::size_t i = 0; i < stored.size(); ++i) {
    std::string error;
    std::optional<ChatMessage> message = parseChatMessage(stored[i], &error);
    ASSERT_TRUE(message) << error;
    EXPECT_EQ(message->id, static_cast<std::int64_t>(i) + 6) << "stored oldest first";
  }

  auto joiner = connectPlain(gateway, room);
  for (int i = 6; i <= 15; ++i) {
    ChatMessage message = receiveMessage(*joiner);
    EXPECT_EQ(message.id, i);
    EXPECT_EQ(message.text, "m" + std::to_string(i));
    EXPECT_EQ(message.raw, stored[static_cast<std::size_t>(i - 6)])
        << "history frames are the stored bytes";
  }
  // Nothing older follows: the next frame is the next live message.
  sendPlain(*sender, "alice", "m16");
  EXPECT_EQ(receiveMessage(*joiner).id, 16);
  EXPECT_EQ(redis.integer({"LLEN", historyKey(room)}), 10);
}

}  // namespace
}  // namespace chat::testing

namespace chat::testing {
namespace {

class HistoryReadsTest : public GatewayTest {};

// A REST reader whose `since` fell out of the retained window gets the first
// retained messages (not an empty page), and X-First-Id says where the window
// starts, so it knows it missed some.
TEST_F(HistoryReadsTest, RestPagingFromBeforeTheWindowStartsAtTheFirstRetainedMessage) {
  GatewayProcess& gateway =
      startGateway({{"HISTORY_SIZE", "10"}, kNoRateLimit[0], kNoRateLimit[1]});
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  auto sender = connectPlain(gateway, room);
  for (int i = 1; i <= 25; ++i) {
    sendPlain(*sender, "alice", "m" + std::to_string(i));
    ASSERT_EQ(receiveMessage(*sender).id, i);
  }
  const std::string path = "/api/rooms/" + room + "/messages";
  HttpResponse page = httpGet(gateway.port(), path + "?since=0&limit=4");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.header("x-first-id"), "16");
  std::vector<std::int64_t> ids;
  for (const auto& m : parseMessageArray(page.body))
    ids.push_back(m.id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{16, 17, 18, 19}));

  page = httpGet(gateway.port(), path + "?since=23&limit=100");
  EXPECT_EQ(parseMessageArray(page.body).size(), 2u);
  EXPECT_EQ(page.header("x-first-id"), "16");

  page = httpGet(gateway.port(), "/api/rooms/" + uniqueRoom("empty") + "/messages?since=0");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, "[]\n");
  EXPECT_EQ(page.header("x-first-id"), "0");
}

// Anonymous reads must not fill Redis: a REST read of a never-used room
// creates nothing; a join may create the room's sequence (joined needs an
// epoch), but only with an expiry, which the first stored message removes,
// keeping the epoch the joiner was told.
TEST_F(HistoryReadsTest, ReadsCreateNoKeysAndAJoinOnlyOneThatExpires) {
  GatewayProcess& gateway = startGateway(v1Env());
  ASSERT_TRUE(gateway.waitReady());
  RedisClient redis = redisClient();
  const std::string unused = uniqueRoom("unused");
  ASSERT_EQ(httpGet(gateway.port(), "/api/rooms/" + unused + "/messages").status, 200);
  ASSERT_EQ(httpGet(gateway.port(), "/api/rooms/" + unused + "/messages?since=3").status, 200);
  EXPECT_TRUE(redis.strings({"KEYS", "chat:{" + unused + "}*"}).empty());

  const std::string room = uniqueRoom("joined");
  V1Session reader = joinV1(gateway, room, "reader");
  const std::string epoch = reader.join.epoch;
  ASSERT_FALSE(epoch.empty());
  EXPECT_GT(redis.integer({"PTTL", sequenceKey(room)}), 0) << "the join's sequence expires";
  // A v1 history request of the empty room creates nothing more.
  ASSERT_TRUE(reader.client->sendHistory(room));
  expectType(*reader.client, "history");

  sendAndAck(*reader.client, "first", "f1");
  EXPECT_EQ(redis.integer({"PTTL", sequenceKey(room)}), -1) << "a stored message keeps it";
  EXPECT_EQ(expectMessage(*reader.client).epoch, epoch);
}

}  // namespace
}  // namespace chat::testing
