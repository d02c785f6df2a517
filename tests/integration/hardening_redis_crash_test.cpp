// Hardening: Redis crashes during traffic (docs/protocol.md sections 4 and 8).
// redis-server runs with an append-only file fsynced on every write and is
// killed with SIGKILL while two gateways store messages from both sides, then
// started again on the same port from its file. Every message sent is
// answered (ack or `unavailable`); while Redis is down /readyz is 503, v1
// sends get `unavailable`, new handshakes 503 and a plain sender 1013; once
// it is back /readyz is 200 on both gateways, traffic flows across them
// again on the same epoch, and every acknowledged message is in the room's
// history as the REST API returns it.

#include <algorithm>
#include <iostream>
#include <map>

#include "http_client.h"
#include "redis_server.h"
#include "v1_helpers.h"

namespace chat::testing {
namespace {

class HardeningRedisCrashTest : public GatewayTest {
 protected:
  // Destroyed after TearDown has stopped the gateways.
  RedisServer durable_{Persistence::kAppendOnlyAlways};
};

int readyStatus(const GatewayProcess& gateway) {
  return httpGet(gateway.port(), "/readyz", 2s).status;
}

// The answer to `ref`: an ack's id, or 0 for an `unavailable` error.
std::int64_t answerOf(V1Client& client, const std::string& ref) {
  V1Frame frame = expectMatching(
      client,
      [&ref](const V1Frame& f) {
        return (f.type() == "ack" || f.type() == "error") && f.string("ref") == ref;
      },
      "an ack or error for " + ref, 20s);
  if (frame.type() == "ack") return frame.integer("id").value_or(-1);
  EXPECT_EQ(frame.string("code"), "unavailable") << frame.raw();
  return 0;
}

TEST_F(HardeningRedisCrashTest, AcknowledgedMessagesSurviveASigkillAndTrafficResumes) {
  constexpr int kPerSender = 60;
  GatewayProcess& a = startGatewayOn(durable_.url(), v1Env(), "gw-a");
  GatewayProcess& b = startGatewayOn(durable_.url(), v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session onA = joinV1(a, room, "alice");
  V1Session onB = joinV1(b, room, "bob");
  auto plainOnA = connectPlain(a, room);
  const std::string epoch = onA.join.epoch;

  // Some messages stored before the crash, acked for sure.
  std::map<std::string, std::int64_t> acked;  // ref (also the text) -> id
  for (const std::string ref : {"a0", "b0"}) {
    V1Session& sender = ref[0] == 'a' ? onA : onB;
    acked[ref] = sendAndAck(*sender.client, ref, ref).id;
  }

  // Traffic from both sides, and Redis killed in the middle of it: once the
  // first tenth from each side is acked, with more in flight behind it.
  auto refOf = [](char side, int i) { return std::string(1, side) + std::to_string(i); };
  for (int i = 1; i <= kPerSender / 2; ++i) {
    ASSERT_TRUE(onA.client->sendMessage(refOf('a', i), refOf('a', i)));
    ASSERT_TRUE(onB.client->sendMessage(refOf('b', i), refOf('b', i)));
  }
  int refused = 0;
  auto collect = [&](int from, int to) {
    for (int i = from; i <= to; ++i) {
      for (char side : {'a', 'b'}) {
        const std::int64_t id = answerOf(*(side == 'a' ? onA : onB).client, refOf(side, i));
        if (id > 0) {
          acked[refOf(side, i)] = id;
        } else {
          ++refused;
        }
      }
    }
  };
  collect(1, kPerSender / 10);
  durable_.kill();
  for (int i = kPerSender / 2 + 1; i <= kPerSender; ++i) {
    ASSERT_TRUE(onA.client->sendMessage(refOf('a', i), refOf('a', i)));
    ASSERT_TRUE(onB.client->sendMessage(refOf('b', i), refOf('b', i)));
  }
  collect(kPerSender / 10 + 1, kPerSender);
  EXPECT_GE(refused, kPerSender) << "Redis died with half the messages still to be sent";

  // The outage, as every kind of client sees it.
  EXPECT_TRUE(waitFor([&] { return readyStatus(a) == 503 && readyStatus(b) == 503; }, 15s))
      << "/readyz stays 200 with Redis down";
  EXPECT_EQ(httpGet(a.port(), "/healthz").status, 200);
  for (V1Session* sender : {&onA, &onB}) {
    ASSERT_TRUE(sender->client->sendMessage("during the outage", "down"));
    EXPECT_EQ(answerOf(*sender->client, "down"), 0) << "a v1 send during the outage";
  }
  ASSERT_TRUE(onA.client->send(R"({"type":"join","room":"elsewhere","ref":"j"})"));
  V1Frame joinError = expectMatching(
      *onA.client, [](const V1Frame& f) { return f.type() == "error" && f.string("ref") == "j"; },
      "the refusal of a join");
  EXPECT_EQ(joinError.string("code"), "unavailable") << joinError.raw();
  WsClient newcomer;
  EXPECT_FALSE(newcomer.connect(b.port(), plainTarget(room)));
  EXPECT_EQ(newcomer.handshake().status, 503) << "new handshakes go elsewhere";
  sendPlain(*plainOnA, "plain", "lost?");
  CloseInfo close = expectClose(*plainOnA);
  EXPECT_EQ(close.code, 1013) << "a plain message that cannot be stored: " << close.reason;

  // Back, from the append-only file.
  durable_.restart();
  EXPECT_TRUE(a.waitReady(20s)) << "gw-a did not become ready again";
  EXPECT_TRUE(b.waitReady(20s)) << "gw-b did not become ready again";

  // Traffic resumes across both gateways, on the same epoch.
  const std::int64_t lastBefore =
      std::max_element(acked.begin(), acked.end(), [](auto& x, auto& y) {
        return x.second < y.second;
      })->second;
  V1Ack afterA = sendAndAck(*onA.client, "after-a", "after-a");
  V1Ack afterB = sendAndAck(*onB.client, "after-b", "after-b");
  acked["after-a"] = afterA.id;
  acked["after-b"] = afterB.id;
  EXPECT_GT(afterA.id, lastBefore) << "ids go on from the ones that were kept";
  auto textIs = [](const std::string& text) {
    return [text](const V1Frame& f) { return f.type() == "message" && f.string("text") == text; };
  };
  V1Frame seenOnB = expectMatching(*onB.client, textIs("after-a"), "after-a on gw-b", 20s);
  V1Frame seenOnA = expectMatching(*onA.client, textIs("after-b"), "after-b on gw-a", 20s);
  EXPECT_EQ(seenOnB.string("epoch"), epoch) << "Redis kept the sequence: same epoch";
  EXPECT_EQ(seenOnA.integer("id"), afterB.id);
  auto lateOnB = connectPlain(b, room);

  // Every acknowledged message is in the history, under its id.
  HttpResponse history = httpGet(a.port(), "/api/rooms/" + room + "/messages?limit=1000");
  ASSERT_EQ(history.status, 200) << history.body;
  std::vector<ChatMessage> stored = parseMessageArray(history.body);
  std::map<std::string, std::int64_t> storedIds;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    storedIds[stored[i].text] = stored[i].id;
    EXPECT_EQ(stored[i].id, static_cast<std::int64_t>(i + 1)) << "one gap-free sequence";
    EXPECT_EQ(stored[i].epoch, epoch);
  }
  for (const auto& [ref, id] : acked) {
    const auto it = storedIds.find(ref);
    ASSERT_NE(it, storedIds.end())
        << "acknowledged message " << ref << " (id " << id << ") is not in the history";
    EXPECT_EQ(it->second, id) << ref;
  }
  EXPECT_EQ(storedIds.count("during the outage"), 0u);
  std::cout << acked.size() << " acked, " << refused << " refused as unavailable, " << stored.size()
            << " in history\n";
  EXPECT_EQ(receiveMessage(*lateOnB).id,
            std::max<std::int64_t>(1, static_cast<std::int64_t>(stored.size()) - 99))
      << "a newcomer gets the last HISTORY_ON_JOIN (100) messages";
}

}  // namespace
}  // namespace chat::testing
