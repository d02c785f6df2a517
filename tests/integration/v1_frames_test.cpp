// Every chat.v1 frame type (docs/protocol.md sections 3 and 4) across two gateways
// on one Redis: welcome, joined, message, ack, history, join and leave, and a
// plain client sharing the room with v1 clients sees the same ids and bytes.

#include <algorithm>

#include "http_client.h"
#include "v1_helpers.h"

namespace chat::testing {
namespace {

class V1FramesTest : public GatewayTest {};

std::vector<std::string> sorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  return values;
}

TEST_F(V1FramesTest, WelcomeJoinedMessageAndAckAcrossGatewaysAndWithAPlainClient) {
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();

  // welcome, then (an empty room: no history) joined.
  auto alice = connectV1(a, v1Target(room, "alice"));
  V1Frame welcome = expectWelcome(*alice);
  EXPECT_EQ(sorted(welcome.keys()),
            (std::vector<std::string>{"conn", "gateway", "type", "username"}))
      << welcome.raw();
  EXPECT_FALSE(welcome.string("conn").value_or("").empty()) << welcome.raw();
  EXPECT_EQ(welcome.string("username"), "alice");
  EXPECT_EQ(welcome.string("gateway"), "gw-a") << "the gateway's GATEWAY_ID";
  V1Join aliceJoin = readJoin(*alice, room);
  EXPECT_TRUE(aliceJoin.history.empty());
  EXPECT_EQ(aliceJoin.lastId, 0) << "last_id is 0 in an empty room: " << aliceJoin.raw;
  EXPECT_FALSE(aliceJoin.recovered.has_value())
      << "recovered is present only when since was given: " << aliceJoin.raw;
  EXPECT_EQ(aliceJoin.presence, std::vector<std::string>{"alice"}) << aliceJoin.raw;

  // A plain client joins before bob: it must not get bob's presence event.
  auto carol = connectPlain(b, room);
  V1Session bob = joinV1(b, room, "bob");
  EXPECT_EQ(bob.join.epoch, aliceJoin.epoch) << "one room, one epoch, on every gateway";
  EXPECT_EQ(bob.join.lastId, 0);
  EXPECT_EQ(sorted(bob.join.presence), (std::vector<std::string>{"alice", "bob"}))
      << "presence lists who is there, the joiner included: " << bob.join.raw;
  EXPECT_NE(bob.conn, welcome.string("conn").value_or(""));

  // alice sends: ack, and the same message frame everywhere.
  const std::int64_t before = unixMillisNow();
  V1Ack ack = sendAndAck(*alice, "hello from A", "a1");
  EXPECT_EQ(ack.id, 1);
  EXPECT_GE(ack.ts, before - 5000);
  EXPECT_LE(ack.ts, unixMillisNow() + 5000);
  ChatMessage echo = expectMessage(*alice);
  EXPECT_EQ(echo.id, ack.id);
  EXPECT_EQ(echo.ts, ack.ts) << "the ack carries the stored message's ts";
  EXPECT_EQ(echo.room, room);
  EXPECT_EQ(echo.epoch, aliceJoin.epoch);
  EXPECT_EQ(echo.username, "alice") << "the username comes from the connection";
  EXPECT_EQ(echo.text, "hello from A");
  std::optional<JsonObject> echoJson = JsonObject::parse(echo.raw);
  ASSERT_TRUE(echoJson);
  EXPECT_EQ(sorted(echoJson->keys()),
            (std::vector<std::string>{"epoch", "id", "room", "text", "ts", "type", "username"}));
  EXPECT_EQ(expectMessage(*bob.client).raw, echo.raw) << "serialized once, on every gateway";
  EXPECT_EQ(receiveMessage(*carol).raw, echo.raw) << "the plain client sees the same frame";

  // bob sends without a room: the connection's first room.
  V1Ack bobAck = sendAndAck(*bob.client, "hello from B", "b1");
  EXPECT_EQ(bobAck.id, 2);
  ChatMessage fromBob = expectMessage(*alice);
  EXPECT_EQ(fromBob.id, 2);
  EXPECT_EQ(fromBob.username, "bob");
  EXPECT_EQ(expectMessage(*bob.client).raw, fromBob.raw);
  EXPECT_EQ(receiveMessage(*carol).raw, fromBob.raw);

  // The plain client's message reaches the v1 clients with the next id.
  sendPlain(*carol, "carol", "hello from plain");
  ChatMessage fromCarol = receiveMessage(*carol);
  EXPECT_EQ(fromCarol.id, 3);
  EXPECT_EQ(expectMessage(*alice).raw, fromCarol.raw);
  EXPECT_EQ(expectMessage(*bob.client).raw, fromCarol.raw);

  // alice saw bob arrive; the plain client got nothing but the three messages
  // (receiveMessage throws on anything else) and nothing more.
  V1Frame presence = expectMatching(
      *alice,
      [](const V1Frame& f) { return f.type() == "presence" && f.string("username") == "bob"; },
      "bob's presence join");
  EXPECT_EQ(presence.string("event"), "join") << presence.raw();
  EXPECT_EQ(presence.string("room"), room) << presence.raw();
  EXPECT_FALSE(carol->receive(0ms)) << "a plain client gets only message frames";
}

TEST_F(V1FramesTest, JoinSinceHistoryAndLeaveOfASecondRoom) {
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string main = uniqueRoom("main");
  const std::string other = uniqueRoom("other");

  V1Session seeder = joinV1(b, other, "seeder");
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(sendAndAck(*seeder.client, "old " + std::to_string(i), "s" + std::to_string(i)).id,
              i);
    ASSERT_EQ(expectMessage(*seeder.client).id, i) << "the seeder's own echo";
  }

  // join: the room's history, then its joined.
  V1Session alice = joinV1(a, main, "alice");
  ASSERT_TRUE(alice.client->sendJoin(other));
  V1Join joined = readJoin(*alice.client, other, false);
  ASSERT_EQ(idsOf(joined.history), idRange(1, 3));
  EXPECT_EQ(joined.history[0].text, "old 1");
  EXPECT_EQ(joined.lastId, 3);
  EXPECT_EQ(joined.epoch, seeder.join.epoch);
  EXPECT_FALSE(joined.recovered.has_value()) << joined.raw;
  EXPECT_EQ(sorted(joined.presence), (std::vector<std::string>{"alice", "seeder"}));

  // message with a room goes there; without one, to the first room.
  V1Ack toOther = sendAndAck(*alice.client, "to other", "o1", other);
  EXPECT_EQ(toOther.id, 4);
  V1Ack toMain = sendAndAck(*alice.client, "to main", "m1");
  EXPECT_EQ(toMain.id, 1) << "main has its own sequence";
  ChatMessage first = expectMessage(*alice.client);
  ChatMessage second = expectMessage(*alice.client);
  EXPECT_EQ(first.room, other);
  EXPECT_EQ(first.id, 4);
  EXPECT_EQ(second.room, main);
  EXPECT_EQ(second.text, "to main");
  EXPECT_EQ(expectMessage(*seeder.client).text, "to other");

  // history: before/limit, and without before the last ones; the exact
  // stored bytes.
  RedisClient redis = redisClient();
  std::vector<std::string> stored = redis.strings({"LRANGE", historyKey(other), "0", "-1"});
  ASSERT_EQ(stored.size(), 4u);
  ASSERT_TRUE(alice.client->sendHistory(other, 4, 2));
  V1Frame history = expectType(*alice.client, "history");
  EXPECT_EQ(history.string("room"), other);
  std::optional<std::vector<std::string>> slice = history.array("messages");
  ASSERT_TRUE(slice) << history.raw();
  EXPECT_EQ(*slice, (std::vector<std::string>{stored[1], stored[2]}))
      << "before=4 limit=2: ids 2 and 3, oldest first, as stored";
  ASSERT_TRUE(alice.client->sendHistory(other));
  history = expectType(*alice.client, "history");
  slice = history.array("messages");
  ASSERT_TRUE(slice) << history.raw();
  EXPECT_EQ(*slice, stored);
  ASSERT_TRUE(alice.client->sendHistory(main, 1));
  history = expectType(*alice.client, "history");
  EXPECT_EQ(history.string("room"), main);
  EXPECT_EQ(history.array("messages"), std::vector<std::string>{}) << "nothing before id 1";

  // join again with since and epoch: only what came after, recovered.
  ASSERT_TRUE(alice.client->sendJoin(other, 2, joined.epoch));
  V1Join resumed = readJoin(*alice.client, other, false);
  EXPECT_EQ(idsOf(resumed.history), idRange(3, 4));
  EXPECT_EQ(resumed.recovered, true) << resumed.raw;
  EXPECT_EQ(resumed.lastId, 4);

  // leave: no more of that room's messages; sending there is not_joined.
  ASSERT_TRUE(alice.client->sendLeave(other));
  V1Frame leave = expectMatching(
      *seeder.client,
      [](const V1Frame& f) { return f.type() == "presence" && f.string("event") == "leave"; },
      "alice's presence leave");
  EXPECT_EQ(leave.string("username"), "alice");
  EXPECT_EQ(sendAndAck(*seeder.client, "after alice left", "s4").id, 5);
  EXPECT_EQ(sendAndAck(*alice.client, "still in main", "m2").id, 2);
  ChatMessage next = expectMessage(*alice.client);
  EXPECT_EQ(next.room, main) << "a message of a room left: " << next.raw;
  EXPECT_EQ(next.text, "still in main");
  ASSERT_TRUE(alice.client->sendMessage("to a room left", "o2", other));
  V1Frame error = expectError(*alice.client);
  EXPECT_EQ(error.string("code"), "not_joined") << error.raw();
  EXPECT_EQ(error.string("ref"), "o2") << error.raw();
}

TEST_F(V1FramesTest, SubprotocolNegotiation) {
  GatewayProcess& gateway = startGateway(v1Env());
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();

  // Only an unknown subprotocol: 400 on the handshake.
  WsClient unknown;
  WsConnectOptions options;
  options.subprotocols = {"chat.v2"};
  EXPECT_FALSE(unknown.connect(gateway.port(), v1Target(room, "zed"), options));
  EXPECT_EQ(unknown.handshake().status, 400) << unknown.error();

  // chat.v1 among others: chat.v1 is selected.
  V1Client picky;
  options.subprotocols = {"chat.v2", "chat.v1"};
  ASSERT_TRUE(picky.connect(gateway.port(), v1Target(room, "picky"), options)) << picky.error();
  EXPECT_EQ(picky.ws().subprotocol(), "chat.v1");
  expectWelcome(picky);
  readJoin(picky, room);

  // None: a plain client, which gets message frames only.
  auto plain = connectPlain(gateway, room);
  sendPlain(*plain, "plain", "hi");
  EXPECT_EQ(receiveMessage(*plain).text, "hi");
  EXPECT_EQ(expectMessage(picky).text, "hi");

  // The gateway carries on.
  EXPECT_EQ(httpGet(gateway.port(), "/healthz").status, 200);
}

}  // namespace
}  // namespace chat::testing
