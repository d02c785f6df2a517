// Cross-process fan-out and per-room id sequences for plain clients
// (docs/protocol.md sections 2, 3 and 6): two gateway processes on one Redis.

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "gateway_test.h"
#include "wait.h"

namespace chat::testing {
namespace {

class FanoutTest : public GatewayTest {};

// The fields of a plain client's message frame, exactly (section 3).
void expectExactlyMessageFields(const std::string& frame) {
  std::optional<JsonObject> json = JsonObject::parse(frame);
  ASSERT_TRUE(json) << frame;
  std::vector<std::string> keys = json->keys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"epoch", "id", "room", "text", "ts", "type", "username"}))
      << frame;
}

TEST_F(FanoutTest, MessageSentOnOneGatewayReachesPlainClientsOnBothWithTheSameId) {
  GatewayProcess& a = startGateway({}, "gw-a");
  GatewayProcess& b = startGateway({}, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();

  auto sender = connectPlain(a, room);
  auto onA = connectPlain(a, room);
  auto onB = connectPlain(b, room);
  const std::int64_t before = unixMillisNow();
  sendPlain(*sender, "alice", "hello from A");

  ChatMessage echo = receiveMessage(*sender);
  ChatMessage gotA = receiveMessage(*onA);
  ChatMessage gotB = receiveMessage(*onB);
  EXPECT_EQ(echo.type, "message");
  EXPECT_EQ(echo.room, room);
  EXPECT_EQ(echo.username, "alice");
  EXPECT_EQ(echo.text, "hello from A");
  EXPECT_EQ(echo.id, 1) << "the first message of a new room";
  EXPECT_FALSE(echo.epoch.empty());
  EXPECT_GE(echo.ts, before - 5000) << "ts is Redis TIME in milliseconds";
  EXPECT_LE(echo.ts, unixMillisNow() + 5000);
  expectExactlyMessageFields(echo.raw);
  EXPECT_EQ(gotA.id, echo.id);
  EXPECT_EQ(gotB.id, echo.id) << "the client on the other gateway";
  EXPECT_EQ(gotA.raw, echo.raw) << "a message is serialized once";
  EXPECT_EQ(gotB.raw, echo.raw) << "a message is serialized once, on every gateway";

  // And back the other way.
  sendPlain(*onB, "bob", "hello from B");
  for (WsClient* client : {sender.get(), onA.get(), onB.get()}) {
    ChatMessage reply = receiveMessage(*client);
    EXPECT_EQ(reply.id, 2);
    EXPECT_EQ(reply.username, "bob");
    EXPECT_EQ(reply.text, "hello from B");
    EXPECT_EQ(reply.epoch, echo.epoch);
  }
}

TEST_F(FanoutTest, IdsIncreaseByExactlyOnePerRoom) {
  constexpr int kMessages = 100;
  GatewayProcess& a = startGateway(kNoRateLimit, "gw-a");
  GatewayProcess& b = startGateway(kNoRateLimit, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  auto sender = connectPlain(a, room);
  auto observer = connectPlain(b, room);

  for (int i = 1; i <= kMessages; ++i)
    sendPlain(*sender, "alice", "m" + std::to_string(i));

  std::string epoch;
  for (WsClient* client : {sender.get(), observer.get()}) {
    for (int i = 1; i <= kMessages; ++i) {
      ChatMessage message = receiveMessage(*client);
      ASSERT_EQ(message.id, i) << "ids start at 1 and grow by exactly 1";
      // One connection's messages keep the order they were sent in.
      EXPECT_EQ(message.text, "m" + std::to_string(i));
      if (epoch.empty()) epoch = message.epoch;
      EXPECT_EQ(message.epoch, epoch);
    }
  }
  RedisClient redis = redisClient();
  std::map<std::string, std::string> sequence = redis.hash(sequenceKey(room));
  EXPECT_EQ(sequence["id"], std::to_string(kMessages)) << "chat:{room}:seq id";
  EXPECT_EQ(sequence["epoch"], epoch) << "chat:{room}:seq epoch";
  EXPECT_EQ(redis.integer({"LLEN", historyKey(room)}), kMessages);
}

TEST_F(FanoutTest, TwoRoomsAreIsolated) {
  GatewayProcess& a = startGateway({}, "gw-a");
  GatewayProcess& b = startGateway({}, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string red = uniqueRoom("red");
  const std::string blue = uniqueRoom("blue");
  auto redOnA = connectPlain(a, red);
  auto redOnB = connectPlain(b, red);
  auto blueOnA = connectPlain(a, blue);
  auto blueOnB = connectPlain(b, blue);

  sendPlain(*redOnA, "alice", "for red");
  ChatMessage redMessage = receiveMessage(*redOnA);
  EXPECT_EQ(receiveMessage(*redOnB).raw, redMessage.raw);

  // Red's message has reached both gateways' red clients; had it gone to the
  // blue clients too, it would come before blue's own message.
  sendPlain(*blueOnB, "bob", "for blue");
  for (WsClient* client : {blueOnA.get(), blueOnB.get()}) {
    ChatMessage message = receiveMessage(*client);
    EXPECT_EQ(message.room, blue);
    EXPECT_EQ(message.text, "for blue");
    EXPECT_EQ(message.id, 1) << "each room has its own id sequence";
  }
  sendPlain(*redOnA, "alice", "red 2");
  sendPlain(*redOnB, "carol", "red 3");
  // The red clients see red's messages only: "for blue" never comes in between.
  for (WsClient* client : {redOnA.get(), redOnB.get()}) {
    for (std::int64_t id : {2, 3}) {
      ChatMessage message = receiveMessage(*client);
      EXPECT_EQ(message.room, red);
      EXPECT_EQ(message.id, id);
    }
  }

  RedisClient redis = redisClient();
  EXPECT_EQ(redis.integer({"LLEN", historyKey(red)}), 3);
  EXPECT_EQ(redis.integer({"LLEN", historyKey(blue)}), 1);
  // A newcomer to blue gets blue's history only.
  auto blueLate = connectPlain(a, blue);
  ChatMessage history = receiveMessage(*blueLate);
  EXPECT_EQ(history.room, blue);
  EXPECT_EQ(history.text, "for blue");
  sendPlain(*blueOnA, "bob", "live blue");
  EXPECT_EQ(receiveMessage(*blueLate).text, "live blue");
}

// What one reader thread saw.
struct ReaderResult {
  std::vector<std::int64_t> ids;
  std::set<std::string> epochs;
  std::string error;
};

TEST_F(FanoutTest, ClientJoiningDuringPublishingSeesOneGapFreeSequence) {
  constexpr int kMessages = 1000;
  constexpr int kWindow = 32;  // messages in flight; the publisher paces itself by its echoes
  const std::vector<int> kJoinAfter = {250, 500, 750};
  GatewayProcess& a = startGateway(kNoRateLimit, "gw-a");
  GatewayProcess& b = startGateway(kNoRateLimit, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();

  std::atomic<int> echoed{0};
  std::atomic<std::int64_t> lastId{0};  // set when the publisher is done, -1 on failure
  std::string publisherError;
  auto publisher = connectPlain(a, room);
  std::thread publishing([&] {
    try {
      int sent = 0;
      std::int64_t expectedId = 1;
      while (echoed < kMessages) {
        while (sent < kMessages && sent - echoed < kWindow) {
          sendPlain(*publisher, "publisher", "n" + std::to_string(++sent));
        }
        ChatMessage echo = receiveMessage(*publisher);
        if (echo.id != expectedId) {
          throw std::runtime_error("publisher's echo has id " + std::to_string(echo.id) +
                                   ", expected " + std::to_string(expectedId));
        }
        ++expectedId;
        if (++echoed == kMessages) lastId = echo.id;
      }
    } catch (const std::exception& e) {
      publisherError = e.what();
      lastId = -1;
    }
  });

  std::vector<ReaderResult> results(kJoinAfter.size());
  std::vector<std::thread> readers;
  std::string joinError;  // every thread is joined, even when a join fails
  try {
    for (std::size_t j = 0; j < kJoinAfter.size(); ++j) {
      bool reached = waitFor([&] { return echoed >= kJoinAfter[j] || lastId != 0; }, 60s, 1ms);
      if (!reached || lastId != 0) break;
      // Alternate gateways: the joiner's gateway is not always the publisher's.
      GatewayProcess& gateway = j % 2 == 0 ? b : a;
      std::shared_ptr<WsClient> joiner = connectPlain(gateway, room);
      readers.emplace_back([&, joiner, j] {
        ReaderResult& result = results[j];
        try {
          // The room is new, so its last message will be id kMessages (the
          // publisher checks its echoes against that).
          while (result.ids.empty() || result.ids.back() < kMessages) {
            if (lastId < 0) return;
            ChatMessage message = receiveMessage(*joiner, 20s);
            result.ids.push_back(message.id);
            result.epochs.insert(message.epoch);
          }
        } catch (const std::exception& e) {
          result.error = e.what();
        }
      });
    }
  } catch (const std::exception& e) {
    joinError = e.what();
  }
  publishing.join();
  for (std::thread& reader : readers)
    reader.join();

  ASSERT_EQ(joinError, "");
  ASSERT_EQ(publisherError, "");
  ASSERT_EQ(lastId, kMessages);
  ASSERT_FALSE(readers.empty()) << "the publisher finished before any client could join";
  for (std::size_t j = 0; j < readers.size(); ++j) {
    const ReaderResult& result = results[j];
    SCOPED_TRACE("joiner " + std::to_string(j) + " after " + std::to_string(kJoinAfter[j]) +
                 " messages");
    EXPECT_EQ(result.error, "") << "after " << result.ids.size() << " messages, "
                                << (result.ids.empty()
                                        ? std::string("none")
                                        : "ids " + std::to_string(result.ids.front()) + ".." +
                                              std::to_string(result.ids.back()));
    ASSERT_FALSE(result.ids.empty());
    EXPECT_EQ(result.epochs.size(), 1u);
    EXPECT_GE(result.ids.front(), 1);
    EXPECT_EQ(result.ids.back(), kMessages);
    // One gap-free, duplicate-free sequence from its first message to the last.
    for (std::size_t i = 1; i < result.ids.size(); ++i) {
      ASSERT_EQ(result.ids[i], result.ids[i - 1] + 1)
          << "at position " << i << " of " << result.ids.size() << " (first id "
          << result.ids.front() << ")";
    }
  }
}

}  // namespace
}  // namespace chat::testing
