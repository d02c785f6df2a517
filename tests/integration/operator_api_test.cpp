// The operator API's moderation and overview calls (docs/protocol.md section
// 10) against two gateways: deleting a message leaves a tombstone that v1
// clients hear of and plain clients never see; the room list counts distinct
// users present on any gateway.

#include <algorithm>

#include "http_client.h"
#include "json_raw.h"
#include "v1_helpers.h"

namespace chat::testing {
namespace {

constexpr std::string_view kApiKey = "operator-api-key-0123456789";

class OperatorApiTest : public V1GatewayTest {
 protected:
  EnvVars env() const { return v1Env({{"API_KEY", std::string(kApiKey)}}); }

  static HttpResponse call(const GatewayProcess& gateway, const std::string& method,
                           const std::string& target, std::string_view key = kApiKey) {
    HttpRequest request;
    request.method = method;
    request.target = target;
    if (!key.empty()) request.headers = {{"Authorization", "Bearer " + std::string(key)}};
    return httpRequest(gateway.port(), request);
  }
};

// Every frame of a fresh v1 join of `room` up to its `joined`, as sent.
std::vector<V1Frame> joinFrames(const GatewayProcess& gateway, const std::string& room) {
  auto client = connectV1(gateway, v1Target(room, "reader"));
  expectWelcome(*client);
  std::vector<V1Frame> frames;
  while (true) {
    auto frame = client->next();
    if (!frame) throw std::runtime_error("no joined: " + client->error());
    if (frame->type() == "joined") return frames;
    frames.push_back(*frame);
  }
}

TEST_F(OperatorApiTest, DeletingAMessageLeavesATombstoneThatPlainClientsNeverSee) {
  GatewayProcess& a = startGateway(env());
  GatewayProcess& b = startGateway(env());
  ASSERT_TRUE(a.waitReady() && b.waitReady());
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(a, room, "alice");
  V1Session bob = joinV1(b, room, "bob");
  auto carol = connectPlain(b, room);
  std::vector<V1Ack> acks;
  for (int i = 1; i <= 3; ++i)
    acks.push_back(sendAndAck(*alice.client, "m" + std::to_string(i), "r" + std::to_string(i)));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(expectMessage(*bob.client).id, i);
    EXPECT_EQ(receiveMessage(*carol).id, i);
  }

  const std::string target = "/api/rooms/" + room + "/messages/2";
  EXPECT_EQ(call(a, "DELETE", target, "").status, 401);
  EXPECT_EQ(call(a, "DELETE", target, "wrong-key-0123456789").status, 401);
  EXPECT_EQ(call(a, "GET", target).status, 405);
  EXPECT_EQ(call(a, "DELETE", "/api/rooms/" + room + "/messages/x").status, 400);
  EXPECT_EQ(call(a, "DELETE", "/api/rooms/" + room + "/messages/0").status, 400);
  EXPECT_EQ(call(a, "DELETE", "/api/rooms/" + room + "/messages/99").status, 404);
  EXPECT_EQ(call(a, "DELETE", "/api/rooms/" + uniqueRoom("none") + "/messages/1").status, 404);
  const HttpResponse deleted = call(b, "DELETE", target);
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(call(a, "DELETE", target).status, 204) << "again for an id already deleted";

  // Both v1 clients hear of it, once, whichever gateway they are on.
  const std::string epoch = alice.join.epoch;
  const std::string expected =
      R"({"type":"delete","room":")" + room + R"(","epoch":")" + epoch + R"(","id":2})";
  for (V1Session* session : {&alice, &bob})
    EXPECT_EQ(expectType(*session->client, "delete").raw(), expected);

  // The plain client's next frame is the next message: no delete frame.
  sendAndAck(*alice.client, "m4", "r4");
  EXPECT_EQ(receiveMessage(*carol).text, "m4");
  EXPECT_FALSE(bob.client->nextOfType("delete", Deadline(200ms)))
      << "a repeated delete publishes nothing";

  // History keeps the place under the same id and ts.
  const HttpResponse read = call(a, "GET", "/api/rooms/" + room + "/messages");
  ASSERT_EQ(read.status, 200) << read.body;
  const auto entries = rawArrayElements(read.body);
  ASSERT_TRUE(entries && entries->size() == 4) << read.body;
  EXPECT_EQ((*entries)[1], R"({"type":"message","room":")" + room + R"(","epoch":")" + epoch +
                               R"(","id":2,"ts":)" + std::to_string(acks[1].ts) +
                               R"(,"deleted":true})");

  // A v1 joiner's replay carries the tombstone; a plain joiner skips it.
  std::vector<std::string> replay;
  for (const V1Frame& frame : joinFrames(a, room)) {
    ASSERT_EQ(frame.type(), "message") << frame.raw();
    replay.push_back(frame.raw());
  }
  ASSERT_EQ(replay.size(), 4u);
  EXPECT_EQ(replay[1], (*entries)[1]);
  auto dave = connectPlain(a, room);
  for (const std::string text : {"m1", "m3", "m4"})
    EXPECT_EQ(receiveMessage(*dave).text, text);
  sendAndAck(*alice.client, "m5", "r5");
  EXPECT_EQ(receiveMessage(*dave).text, "m5");

  // A v1 history page carries it too.
  ASSERT_TRUE(bob.client->sendHistory(room, 4, 10));
  const V1Frame page = expectType(*bob.client, "history");
  const auto messages = page.array("messages");
  ASSERT_TRUE(messages && messages->size() == 3) << page.raw();
  EXPECT_EQ((*messages)[1], (*entries)[1]);
}

TEST_F(OperatorApiTest, TheRoomListCountsDistinctUsersOnEveryGateway) {
  GatewayProcess& a = startGateway(env());
  GatewayProcess& b = startGateway(env());
  ASSERT_TRUE(a.waitReady() && b.waitReady());
  const std::string busy = uniqueRoom("busy");
  const std::string quiet = uniqueRoom("quiet");
  V1Session aliceA = joinV1(a, busy, "alice");
  V1Session aliceB = joinV1(b, busy, "alice");
  V1Session bob = joinV1(b, busy, "bob");
  sendAndAck(*bob.client, "one", "r1");
  sendAndAck(*bob.client, "two", "r2");
  auto carol = std::make_unique<V1Session>(joinV1(a, quiet, "carol"));

  EXPECT_EQ(call(a, "GET", "/api/rooms", "").status, 401);
  EXPECT_EQ(call(a, "POST", "/api/rooms").status, 405);
  const auto listed = [&](const GatewayProcess& gateway) {
    const HttpResponse list = call(gateway, "GET", "/api/rooms");
    EXPECT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.header("content-type"), "application/json");
    std::vector<std::string> ours;
    for (const std::string& entry :
         rawArrayElements(list.body).value_or(std::vector<std::string>{})) {
      const auto object = JsonObject::parse(entry);
      if (object && (object->string("room") == busy || object->string("room") == quiet))
        ours.push_back(entry);
    }
    return ours;
  };
  const std::vector<std::string> both = {R"({"room":")" + busy + R"(","online":2,"last_id":2})",
                                         R"({"room":")" + quiet + R"(","online":1,"last_id":0})"};
  EXPECT_EQ(listed(a), both) << "busiest first";
  EXPECT_EQ(listed(b), both);

  // A room nobody is in any more leaves the list.
  carol.reset();
  EXPECT_TRUE(waitFor([&] { return listed(b).size() == 1; }, 10s));
  EXPECT_EQ(listed(b), std::vector<std::string>{both[0]});
}

}  // namespace
}  // namespace chat::testing
