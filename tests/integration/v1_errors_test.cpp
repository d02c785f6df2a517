// chat.v1 error frames (docs/protocol.md sections 4, 5 and 8): each code but
// rate_limited, with the frame's ref echoed, and the connection staying open
// (a valid message is still acked afterwards). Binary frames and invalid
// UTF-8 close the connection instead.

#include "http_client.h"
#include "v1_helpers.h"
#include "wait.h"

namespace chat::testing {
namespace {

class V1ErrorsTest : public V1GatewayTest {};

void expectErrorFrame(const V1Frame& error, const std::string& code,
                      const std::optional<std::string>& ref) {
  EXPECT_EQ(error.type(), "error");
  EXPECT_EQ(error.string("code"), code) << error.raw();
  EXPECT_FALSE(error.string("message").value_or("").empty())
      << "an error carries a message: " << error.raw();
  if (ref) {
    EXPECT_EQ(error.string("ref"), *ref) << error.raw();
  } else {
    EXPECT_FALSE(error.has("ref")) << "no ref was given: " << error.raw();
  }
}

TEST_F(V1ErrorsTest, InvalidFramesGetInvalidAndTheConnectionStaysOpen) {
  auto [a, b, room, alice, bob] = openAliceAndBob();
  ASSERT_FALSE(HasFailure());

  struct Case {
    std::string frame;
    std::optional<std::string> ref;  // echoed in the error
  };
  const std::vector<Case> cases = {
      {"not json", std::nullopt},
      {"[1,2]", std::nullopt},
      {R"({"text":"no type","ref":"i1"})", "i1"},
      {R"({"type":"shout","text":"hi","ref":"i2"})", "i2"},
      {R"({"type":"message","ref":"i3"})", "i3"},
      {R"({"type":"message","text":42,"ref":"i4"})", "i4"},
      {R"({"type":"message","text":"   ","ref":"i5"})", "i5"},
      {R"({"type":"message","text":")" + std::string(2001, 'x') + R"(","ref":"i6"})", "i6"},
      {R"({"type":"message","text":"bad room","room":"no spaces","ref":"i7"})", "i7"},
      {R"({"type":"join","room":"bad/room","ref":"i8"})", "i8"},
      {R"({"type":"join","room":")" + room + R"(","since":-1,"ref":"i9"})", "i9"},
      {R"({"type":"history","room":")" + room + R"(","limit":0,"ref":"i10"})", "i10"},
      {R"({"type":"message","text":"nul\u0000inside","ref":"i11"})", "i11"},
      {R"({"type":"message","text":"ref of the wrong type","ref":7})", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.frame.substr(0, 120));
    ASSERT_TRUE(alice.client->send(c.frame)) << alice.client->error();
    V1Frame error = expectError(*alice.client);
    expectErrorFrame(error, "invalid", c.ref);
  }
  EXPECT_FALSE(alice.client->isClosed());

  // Still open and nothing was stored: the next message is id 1, everywhere.
  V1Ack ack = sendAndAck(*alice.client, "valid after all", "ok");
  EXPECT_EQ(ack.id, 1);
  ChatMessage message = expectMessage(*bob.client);
  EXPECT_EQ(message.id, 1);
  EXPECT_EQ(message.text, "valid after all");
  EXPECT_EQ(redisClient().integer({"LLEN", historyKey(room)}), 1);

  // Unknown fields are ignored.
  ASSERT_TRUE(alice.client->send(R"({"type":"message","text":"extra","ref":"x","mood":"good"})"));
  EXPECT_EQ(expectAck(*alice.client, "x").id, 2);
}

TEST_F(V1ErrorsTest, FrameOverMaxFrameBytesGetsTooLarge) {
  GatewayProcess& gateway = startGateway(v1Env({{"MAX_FRAME_BYTES", "1024"}}));
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(gateway, room, "alice");

  const std::string big = std::string(1500, 'y');
  ASSERT_TRUE(alice.client->sendMessage(big, "big"));
  V1Frame error = expectError(*alice.client);
  EXPECT_EQ(error.string("code"), "too_large") << error.raw();
  EXPECT_FALSE(error.string("message").value_or("").empty()) << error.raw();
  EXPECT_FALSE(alice.client->isClosed());

  // Just under the limit is fine, and the big one was not stored.
  EXPECT_EQ(sendAndAck(*alice.client, std::string(900, 'z'), "fits").id, 1);
  EXPECT_EQ(redisClient().integer({"LLEN", historyKey(room)}), 1);
}

TEST_F(V1ErrorsTest, JoinPastMaxRoomsPerConnectionIsForbidden) {
  GatewayProcess& a = startGateway(v1Env({{"MAX_ROOMS_PER_CONNECTION", "3"}}), "gw-a");
  GatewayProcess& b = startGateway(v1Env({{"MAX_ROOMS_PER_CONNECTION", "3"}}), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::vector<std::string> rooms = {uniqueRoom("r1"), uniqueRoom("r2"), uniqueRoom("r3"),
                                          uniqueRoom("r4")};
  V1Session alice = joinV1(a, rooms[0], "alice");
  for (std::size_t i = 1; i < 3; ++i) {
    ASSERT_TRUE(alice.client->sendJoin(rooms[i]));
    readJoin(*alice.client, rooms[i], false);
  }

  ASSERT_TRUE(alice.client->send(R"({"type":"join","room":")" + rooms[3] + R"(","ref":"j4"})"));
  expectErrorFrame(expectError(*alice.client), "forbidden", "j4");
  ASSERT_TRUE(alice.client->sendMessage("not a member", "n4", rooms[3]));
  expectErrorFrame(expectError(*alice.client), "not_joined", "n4");

  // A message to r4 from the other gateway does not reach alice; leaving a
  // room makes space for r4.
  V1Session bob = joinV1(b, rooms[3], "bob");
  sendAndAck(*bob.client, "r4 before", "b1");
  ASSERT_TRUE(alice.client->sendLeave(rooms[1]));
  ASSERT_TRUE(alice.client->sendJoin(rooms[3]));
  V1Join joined = readJoin(*alice.client, rooms[3], false);
  EXPECT_EQ(joined.lastId, 1);
  ASSERT_EQ(joined.history.size(), 1u) << "history only, the live frame never came";
  EXPECT_EQ(joined.history[0].text, "r4 before");
  EXPECT_EQ(sendAndAck(*bob.client, "r4 after", "b2").id, 2);
  ChatMessage live = expectMessage(*alice.client);
  EXPECT_EQ(live.room, rooms[3]);
  EXPECT_EQ(live.id, 2);
}

TEST_F(V1ErrorsTest, FramesForRoomsNotJoinedGetNotJoined) {
  GatewayProcess& gateway = startGateway(v1Env());
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom("mine");
  const std::string elsewhere = uniqueRoom("elsewhere");
  V1Session alice = joinV1(gateway, room, "alice");

  ASSERT_TRUE(alice.client->sendMessage("hi", "n1", elsewhere));
  expectErrorFrame(expectError(*alice.client), "not_joined", "n1");
  ASSERT_TRUE(alice.client->send(R"({"type":"leave","room":")" + elsewhere + R"(","ref":"n2"})"));
  expectErrorFrame(expectError(*alice.client), "not_joined", "n2");
  ASSERT_TRUE(alice.client->send(R"({"type":"history","room":")" + elsewhere + R"(","ref":"n3"})"));
  expectErrorFrame(expectError(*alice.client), "not_joined", "n3");
  ASSERT_TRUE(alice.client->sendHistory(elsewhere));
  expectErrorFrame(expectError(*alice.client), "not_joined", std::nullopt);

  EXPECT_EQ(redisClient().integer({"EXISTS", historyKey(elsewhere)}), 0);
  EXPECT_EQ(sendAndAck(*alice.client, "in my room", "ok").id, 1);
}

TEST_F(V1ErrorsTest, RedisDownGivesUnavailableAndTheResendIsStoredOnce) {
  auto [a, b, room, alice, bob] = openAliceAndBob();
  ASSERT_FALSE(HasFailure());
  const std::string oldEpoch = alice.join.epoch;

  redis().kill();
  ASSERT_TRUE(waitFor([&] { return httpGet(a.port(), "/readyz", 2s).status == 503; }, 15s));
  ASSERT_TRUE(alice.client->sendMessage("while redis is down", "u1"));
  expectErrorFrame(expectError(*alice.client), "unavailable", "u1");
  ASSERT_TRUE(
      alice.client->send(R"({"type":"join","room":")" + uniqueRoom("more") + R"(","ref":"u2"})"));
  expectErrorFrame(expectError(*alice.client), "unavailable", "u2");
  EXPECT_FALSE(alice.client->isClosed()) << "v1 connections stay open while Redis is down";
  // New handshakes go elsewhere meanwhile.
  V1Client late;
  EXPECT_FALSE(late.connect(a.port(), v1Target(room, "late")));
  EXPECT_EQ(late.ws().handshake().status, 503) << late.error();

  redis().restart();
  ASSERT_TRUE(a.waitReady(20s));
  ASSERT_TRUE(b.waitReady(20s));
  // The resend is stored, once; Redis lost the room, so a new epoch starts.
  V1Ack ack = sendAndAck(*alice.client, "while redis is down", "u1");
  EXPECT_EQ(ack.id, 1);
  EXPECT_EQ(sendAndAck(*alice.client, "while redis is down", "u1").id, ack.id);
  EXPECT_EQ(redisClient().integer({"LLEN", historyKey(room)}), 1);

  // bob, on the other gateway, gets it (after a fresh joined, which
  // V1ResumeTest.RedisRestartGivesEveryV1ClientAFreshJoinedBeforeTheNewMessages checks).
  ChatMessage message = expectMessage(*bob.client, 20s);
  EXPECT_EQ(message.id, 1);
  EXPECT_EQ(message.text, "while redis is down");
  EXPECT_NE(message.epoch, oldEpoch);
}

TEST_F(V1ErrorsTest, BinaryFrameCloses1003AndInvalidUtf8Closes1007) {
  GatewayProcess& gateway = startGateway(v1Env());
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();

  V1Session binary = joinV1(gateway, room, "alice");
  ASSERT_TRUE(binary.client->ws().sendBinary("\x01\x02"));
  CloseInfo close = expectClose(binary.client->ws());
  EXPECT_EQ(close.code, 1003);
  EXPECT_FALSE(close.reason.empty()) << "every close carries a reason";

  V1Session utf8 = joinV1(gateway, room, "bob");
  ASSERT_TRUE(utf8.client->send("{\"type\":\"message\",\"text\":\"\xc3\x28\"}"));
  close = expectClose(utf8.client->ws());
  EXPECT_EQ(close.code, 1007);
  EXPECT_FALSE(close.reason.empty());

  V1Session carol = joinV1(gateway, room, "carol");
  EXPECT_EQ(sendAndAck(*carol.client, "others carry on", "c1").id, 1);
}

}  // namespace
}  // namespace chat::testing
