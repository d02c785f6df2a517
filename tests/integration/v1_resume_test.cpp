// Resume (docs/protocol.md sections 4 and 6): a client that reconnects, to the
// other gateway, with since=<last id it saw>&epoch=<epoch> gets exactly what
// it missed, in order, then joined with recovered:true; past the retained
// window, with a lost epoch or a since beyond the last id it gets
// recovered:false and the last HISTORY_ON_JOIN messages instead.

#include "v1_helpers.h"

namespace chat::testing {
namespace {

class V1ResumeTest : public V1GatewayTest {};

// A client's view when it went away.
struct Seen {
  std::int64_t lastId = 0;
  std::string epoch;
};

// alice joins on `gateway`, sees the publisher's first `count` messages, and
// closes her connection.
Seen seeAndLeave(const GatewayProcess& gateway, const std::string& room, V1Client& publisher,
                 int count) {
  V1Session alice = joinV1(gateway, room, "alice");
  publishPaced(publisher, count, "seen-");
  Seen seen{alice.join.lastId, alice.join.epoch};
  for (int i = 0; i < count; ++i) {
    ChatMessage message = expectMessage(*alice.client);
    EXPECT_EQ(message.id, seen.lastId + 1);
    seen.lastId = message.id;
  }
  alice.client->ws().sendClose();
  expectClose(alice.client->ws());
  return seen;
}

void expectTexts(const std::vector<ChatMessage>& messages, const std::string& prefix,
                 int firstNumber) {
  for (std::size_t i = 0; i < messages.size(); ++i) {
    ASSERT_EQ(messages[i].text, prefix + std::to_string(firstNumber + static_cast<int>(i)))
        << "message " << i << " of the replay";
  }
}

TEST_F(V1ResumeTest, ReconnectToTheOtherGatewayReplaysExactlyTheMissedMessages) {
  constexpr int kMissed = 200;
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session publisher = joinV1(b, room, "publisher");
  const Seen seen = seeAndLeave(a, room, *publisher.client, 5);
  ASSERT_EQ(seen.lastId, 5);

  publishPaced(*publisher.client, kMissed, "missed-");

  V1Session back = joinV1(b, room, "alice", seen.lastId, seen.epoch);
  ASSERT_EQ(idsOf(back.join.history), idRange(6, 5 + kMissed))
      << "exactly the missed messages, in order";
  expectTexts(back.join.history, "missed-", 1);
  for (const ChatMessage& message : back.join.history)
    EXPECT_EQ(message.epoch, seen.epoch);
  EXPECT_EQ(back.join.recovered, true) << back.join.raw;
  EXPECT_EQ(back.join.lastId, 5 + kMissed);
  EXPECT_EQ(back.join.epoch, seen.epoch);

  // Then live, from the next id on.
  publishPaced(*publisher.client, 1, "live-");
  ChatMessage live = expectMessage(*back.client);
  EXPECT_EQ(live.id, 6 + kMissed);
  EXPECT_EQ(live.text, "live-1");

  // The same with a join frame, and with since but no epoch (no epoch check).
  V1Session other = joinV1(a, uniqueRoom("other"), "alice");
  ASSERT_TRUE(other.client->sendJoin(room, 100, seen.epoch));
  V1Join joined = readJoin(*other.client, room, false);
  EXPECT_EQ(idsOf(joined.history), idRange(101, 6 + kMissed));
  EXPECT_EQ(joined.recovered, true) << joined.raw;
  V1Session noEpoch = joinV1(a, room, "alice", 6 + kMissed - 3);
  EXPECT_EQ(idsOf(noEpoch.join.history), idRange(6 + kMissed - 2, 6 + kMissed));
  EXPECT_EQ(noEpoch.join.recovered, true) << noEpoch.join.raw;
  // since equal to the last id: nothing missed, recovered.
  V1Session upToDate = joinV1(b, room, "alice", 6 + kMissed, seen.epoch);
  EXPECT_TRUE(upToDate.join.history.empty());
  EXPECT_EQ(upToDate.join.recovered, true) << upToDate.join.raw;
}

TEST_F(V1ResumeTest, PastTheRetainedWindowIsNotRecovered) {
  constexpr int kHistorySize = 50;
  constexpr int kHistoryOnJoin = 20;
  const EnvVars env = v1Env({{"HISTORY_SIZE", std::to_string(kHistorySize)},
                             {"HISTORY_ON_JOIN", std::to_string(kHistoryOnJoin)}});
  GatewayProcess& a = startGateway(env, "gw-a");
  GatewayProcess& b = startGateway(env, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session publisher = joinV1(b, room, "publisher");
  const Seen seen = seeAndLeave(a, room, *publisher.client, 5);
  publishPaced(*publisher.client, 100, "later-");
  constexpr std::int64_t kLast = 105;
  constexpr std::int64_t kFirstRetained = kLast - kHistorySize + 1;  // 56
  ASSERT_EQ(redisClient().integer({"LLEN", historyKey(room)}), kHistorySize);

  // since=5 is far outside the window: the last HISTORY_ON_JOIN messages.
  V1Session late = joinV1(b, room, "alice", seen.lastId, seen.epoch);
  EXPECT_EQ(late.join.recovered, false) << late.join.raw;
  EXPECT_EQ(idsOf(late.join.history), idRange(kLast - kHistoryOnJoin + 1, kLast));
  EXPECT_EQ(late.join.lastId, kLast);
  EXPECT_EQ(late.join.epoch, seen.epoch);

  // The edge: since=55 misses only retained ids (56..105), since=54 misses 55.
  V1Session edge = joinV1(a, room, "alice", kFirstRetained - 1, seen.epoch);
  EXPECT_EQ(edge.join.recovered, true) << edge.join.raw;
  EXPECT_EQ(idsOf(edge.join.history), idRange(kFirstRetained, kLast));
  V1Session pastEdge = joinV1(a, room, "alice", kFirstRetained - 2, seen.epoch);
  EXPECT_EQ(pastEdge.join.recovered, false) << pastEdge.join.raw;
  EXPECT_EQ(idsOf(pastEdge.join.history), idRange(kLast - kHistoryOnJoin + 1, kLast));

  // since beyond last_id cannot be this sequence's: not recovered.
  V1Session ahead = joinV1(b, room, "alice", kLast + 50, seen.epoch);
  EXPECT_EQ(ahead.join.recovered, false) << ahead.join.raw;
  EXPECT_EQ(idsOf(ahead.join.history), idRange(kLast - kHistoryOnJoin + 1, kLast));
}

TEST_F(V1ResumeTest, AfterTheRoomKeysAreDeletedTheOldEpochIsNotRecovered) {
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session publisher = joinV1(b, room, "publisher");
  const Seen seen = seeAndLeave(a, room, *publisher.client, 5);

  RedisClient redis = redisClient();
  ASSERT_EQ(redis.integer({"DEL", historyKey(room), sequenceKey(room)}), 2);
  // The next message starts a new sequence under a new epoch; ten of them
  // take the ids past alice's since=5.
  std::vector<V1Ack> acks = publishPaced(*publisher.client, 10, "new-");
  EXPECT_EQ(acks.front().id, 1) << "ids start again at 1";
  const std::string newEpoch = redis.hash(sequenceKey(room))["epoch"];
  ASSERT_FALSE(newEpoch.empty());
  EXPECT_NE(newEpoch, seen.epoch);

  // 6..10 of the new epoch are not what alice missed: she gets the last
  // HISTORY_ON_JOIN (100) messages, all ten.
  V1Session back = joinV1(b, room, "alice", seen.lastId, seen.epoch);
  EXPECT_EQ(back.join.recovered, false) << back.join.raw;
  EXPECT_EQ(back.join.epoch, newEpoch);
  EXPECT_EQ(back.join.lastId, 10);
  EXPECT_EQ(idsOf(back.join.history), idRange(1, 10));
  for (const ChatMessage& message : back.join.history)
    EXPECT_EQ(message.epoch, newEpoch);
  expectTexts(back.join.history, "new-", 1);

  // On the gateway alice first used as well.
  V1Session backOnA = joinV1(a, room, "alice", seen.lastId, seen.epoch);
  EXPECT_EQ(backOnA.join.recovered, false) << backOnA.join.raw;
  EXPECT_EQ(idsOf(backOnA.join.history), idRange(1, 10));
}

TEST_F(V1ResumeTest, ConnectedClientsGetAFreshJoinedWhenTheEpochChanges) {
  auto [a, b, room, alice, bob] = openAliceAndBob();
  ASSERT_FALSE(HasFailure());
  auto carol = connectPlain(a, room);
  publishPaced(*bob.client, 3, "old-");
  for (V1Client* client : {alice.client.get(), bob.client.get()}) {
    for (std::int64_t id : {1, 2, 3})
      ASSERT_EQ(expectMessage(*client).id, id);
  }
  for (std::int64_t id : {1, 2, 3})
    ASSERT_EQ(receiveMessage(*carol).id, id);

  RedisClient redis = redisClient();
  ASSERT_EQ(redis.integer({"DEL", historyKey(room), sequenceKey(room)}), 2);
  V1Ack fresh = sendAndAck(*bob.client, "first of the new epoch", "new");
  EXPECT_EQ(fresh.id, 1);

  // Each v1 client: joined (recovered:false, the new epoch) before the new
  // messages; then the new message 1 exactly once.
  for (V1Client* client : {alice.client.get(), bob.client.get()}) {
    std::optional<V1Frame> frame = client->nextMatching(
        [](const V1Frame& f) { return f.type() == "joined" || f.type() == "message"; },
        Deadline(10s));
    ASSERT_TRUE(frame) << client->error();
    ASSERT_EQ(frame->type(), "joined") << "the new epoch's message came first: " << frame->raw();
    EXPECT_EQ(frame->string("room"), room);
    EXPECT_EQ(frame->boolean("recovered"), false) << frame->raw();
    const std::string newEpoch = frame->string("epoch").value_or("");
    EXPECT_NE(newEpoch, alice.join.epoch) << frame->raw();
    EXPECT_EQ(redis.hash(sequenceKey(room))["epoch"], newEpoch);
    ChatMessage message = expectMessage(*client);
    EXPECT_EQ(message.id, 1);
    EXPECT_EQ(message.epoch, newEpoch);
    EXPECT_EQ(message.text, "first of the new epoch");
  }
  // The plain client simply gets the new message.
  ChatMessage plain = receiveMessage(*carol);
  EXPECT_EQ(plain.id, 1);
  EXPECT_EQ(plain.text, "first of the new epoch");

  // And things carry on in the new sequence, with no replay of message 1.
  EXPECT_EQ(sendAndAck(*alice.client, "second", "s").id, 2);
  EXPECT_EQ(expectMessage(*alice.client).id, 2);
  EXPECT_EQ(expectMessage(*bob.client).id, 2);
  EXPECT_EQ(receiveMessage(*carol).id, 2);
}

TEST_F(V1ResumeTest, RedisRestartGivesEveryV1ClientAFreshJoinedBeforeTheNewMessages) {
  auto [a, b, room, alice, bob] = openAliceAndBob();
  ASSERT_FALSE(HasFailure());
  auto carol = connectPlain(b, room);
  publishPaced(*bob.client, 3, "old-");
  for (V1Client* client : {alice.client.get(), bob.client.get()}) {
    for (std::int64_t id : {1, 2, 3})
      ASSERT_EQ(expectMessage(*client).id, id);
  }
  for (std::int64_t id : {1, 2, 3})
    ASSERT_EQ(receiveMessage(*carol).id, id);

  // Redis without persistence comes back empty: ids start again at 1 under a
  // new epoch, which the clients must not mistake for the old 1..3.
  redis().kill();
  redis().restart();
  ASSERT_TRUE(a.waitReady(20s));
  ASSERT_TRUE(b.waitReady(20s));
  std::vector<V1Ack> acks = publishPaced(*bob.client, 3, "new-");
  ASSERT_EQ(acks.back().id, 3);
  const std::string newEpoch = redisClient().hash(sequenceKey(room))["epoch"];
  EXPECT_NE(newEpoch, alice.join.epoch);

  // Each client is checked even when another one failed, to show who lost what.
  auto checkV1 = [&](V1Client& client, const char* who) {
    SCOPED_TRACE(who);
    std::optional<V1Frame> frame = client.nextMatching(
        [](const V1Frame& f) { return f.type() == "joined" || f.type() == "message"; },
        Deadline(20s));
    ASSERT_TRUE(frame) << "expected a fresh joined (epoch " << newEpoch
                       << ") and then the new epoch's messages 1..3: " << client.error();
    ASSERT_EQ(frame->type(), "joined") << "a new epoch's message came first: " << frame->raw();
    EXPECT_EQ(frame->string("room"), room);
    EXPECT_EQ(frame->boolean("recovered"), false) << frame->raw();
    EXPECT_EQ(frame->string("epoch"), newEpoch) << frame->raw();
    for (int i = 1; i <= 3; ++i) {
      std::optional<V1Frame> next = client.nextOfType("message");
      ASSERT_TRUE(next) << "new message " << i << ": " << client.error();
      std::optional<ChatMessage> message = next->message();
      ASSERT_TRUE(message) << next->raw();
      EXPECT_EQ(message->id, i);
      EXPECT_EQ(message->epoch, newEpoch);
      EXPECT_EQ(message->text, "new-" + std::to_string(i));
    }
    EXPECT_FALSE(client.nextOfType("joined", 0ms)) << "one fresh joined";
  };
  checkV1(*alice.client, "alice (v1) on gw-a");
  checkV1(*bob.client, "bob (v1) on gw-b");
  // The plain client simply gets the new messages.
  for (int i = 1; i <= 3; ++i) {
    std::optional<std::string> text = carol->receiveText(10s);
    ASSERT_TRUE(text) << "carol (plain) on gw-b, new message " << i << ": " << carol->error();
    std::optional<ChatMessage> message = parseChatMessage(*text);
    ASSERT_TRUE(message) << *text;
    EXPECT_EQ(message->id, i);
    EXPECT_EQ(message->epoch, newEpoch);
    EXPECT_EQ(message->text, "new-" + std::to_string(i));
  }
}

}  // namespace
}  // namespace chat::testing

namespace chat::testing {
namespace {

// Publishes `count` messages of ~`bytes` each, `window` unacknowledged at a time.
void publishLarge(V1Client& publisher, int count, std::size_t bytes) {
  const std::string filler(bytes, 'x');
  int sent = 0;
  int acked = 0;
  while (acked < count) {
    while (sent < count && sent - acked < 32) {
      ++sent;
      if (!publisher.sendMessage(filler + std::to_string(sent), "p" + std::to_string(sent)))
        throw std::runtime_error(publisher.error());
    }
    expectType(publisher, "ack", 20s);
    ++acked;
  }
}

// A client far behind is not cut off as a slow consumer (and so never loops
// reconnecting with the same `since`): its replay goes at the pace its socket
// takes. 1,000 messages of 1 KB exceed MAX_QUEUE_BYTES (1 MiB) at once.
TEST_F(V1ResumeTest, AClientFarBehindCatchesUpWithoutBeingCutOff) {
  GatewayProcess& gateway = startGateway(v1Env());
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  V1Session publisher = joinV1(gateway, room, "pub");
  publishLarge(*publisher.client, 1000, 1024);

  V1Session reader = joinV1(gateway, room, "reader", 0, publisher.join.epoch);
  EXPECT_EQ(reader.join.recovered, std::optional<bool>(true));
  EXPECT_EQ(idsOf(reader.join.history), idRange(1, 1000)) << "every message, in order, once";
  EXPECT_EQ(reader.join.lastId, 1000);
  // Live again: the next message arrives after the replay.
  sendAndAck(*publisher.client, "live", "l1");
  EXPECT_EQ(expectMessage(*reader.client).id, 1001);
  EXPECT_FALSE(reader.client->closeInfo()) << "the reader was closed";
}

// Several rooms behind at once: their replays together exceed the queue's
// frame limit (1,024), each goes at the socket's pace.
TEST_F(V1ResumeTest, AClientBehindInSeveralRoomsCatchesUpInEach) {
  GatewayProcess& gateway = startGateway(v1Env());
  ASSERT_TRUE(gateway.waitReady());
  constexpr int kRooms = 4;
  constexpr int kMessages = 400;
  std::vector<std::string> rooms;
  std::vector<std::string> epochs;
  for (int r = 0; r < kRooms; ++r) {
    rooms.push_back(uniqueRoom("r" + std::to_string(r)));
    V1Session publisher = joinV1(gateway, rooms.back(), "pub");
    publishLarge(*publisher.client, kMessages, 200);
    epochs.push_back(publisher.join.epoch);
  }
  V1Session reader = joinV1(gateway, rooms[0], "reader", 0, epochs[0]);
  EXPECT_EQ(idsOf(reader.join.history), idRange(1, kMessages));
  for (int r = 1; r < kRooms; ++r)
    ASSERT_TRUE(reader.client->sendJoin(rooms[static_cast<std::size_t>(r)], 0,
                                        epochs[static_cast<std::size_t>(r)]));
  for (int r = 1; r < kRooms; ++r) {
    V1Join join = readJoin(*reader.client, rooms[static_cast<std::size_t>(r)], false);
    EXPECT_EQ(idsOf(join.history), idRange(1, kMessages)) << rooms[static_cast<std::size_t>(r)];
    EXPECT_EQ(join.recovered, std::optional<bool>(true));
  }
  EXPECT_FALSE(reader.client->closeInfo()) << "the reader was closed";
}

}  // namespace
}  // namespace chat::testing
