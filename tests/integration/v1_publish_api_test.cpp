// The REST API (docs/protocol.md section 1): POST /api/rooms/{room}/messages with
// the API key publishes like any client (same sequence, same delivery to v1
// and plain clients on every gateway); a missing or wrong key gets 401, and
// without API_KEY the endpoint is off (404). GET validates its query.

#include "http_client.h"
#include "v1_helpers.h"

namespace chat::testing {
namespace {

class V1PublishApiTest : public GatewayTest {};

const std::string kApiKey = "test-api-key-0123456789";

std::string messagesPath(const std::string& room) {
  return "/api/rooms/" + room + "/messages";
}

HttpResponse post(const GatewayProcess& gateway, const std::string& room, const std::string& body,
                  const std::optional<std::string>& authorization) {
  HttpRequest request;
  request.method = "POST";
  request.target = messagesPath(room);
  request.headers.emplace_back("Content-Type", "application/json");
  if (authorization) request.headers.emplace_back("Authorization", *authorization);
  request.body = body;
  return httpRequest(gateway.port(), request);
}

std::string withoutTrailingNewline(std::string text) {
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

TEST_F(V1PublishApiTest, PostedMessageIsStoredAndReachesEveryClient) {
  const EnvVars env = v1Env({{"API_KEY", kApiKey}});
  GatewayProcess& a = startGateway(env, "gw-a");
  GatewayProcess& b = startGateway(env, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(a, room, "alice");
  V1Session bob = joinV1(b, room, "bob");
  auto carol = connectPlain(b, room);

  const std::int64_t before = unixMillisNow();
  HttpResponse response =
      post(a, room, plainMessageJson("api-bot", "from the API"), "Bearer " + kApiKey);
  ASSERT_EQ(response.status, 201) << response.error << " " << response.body;
  std::string error;
  std::optional<ChatMessage> posted =
      parseChatMessage(withoutTrailingNewline(response.body), &error);
  ASSERT_TRUE(posted) << error;
  EXPECT_EQ(posted->id, 1);
  EXPECT_EQ(posted->room, room);
  EXPECT_EQ(posted->username, "api-bot");
  EXPECT_EQ(posted->text, "from the API");
  EXPECT_EQ(posted->epoch, alice.join.epoch);
  EXPECT_GE(posted->ts, before - 5000);

  std::vector<std::string> stored = redisClient().strings({"LRANGE", historyKey(room), "0", "-1"});
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0], posted->raw) << "the answer is the stored message";
  EXPECT_EQ(expectMessage(*alice.client).raw, posted->raw);
  EXPECT_EQ(expectMessage(*bob.client).raw, posted->raw);
  EXPECT_EQ(receiveMessage(*carol).raw, posted->raw);

  // One sequence with the WebSocket clients' messages.
  EXPECT_EQ(sendAndAck(*alice.client, "from alice", "a1").id, 2);
  response = post(b, room, plainMessageJson("api-bot", "again"), "Bearer " + kApiKey);
  ASSERT_EQ(response.status, 201) << response.body;
  for (V1Client* client : {alice.client.get(), bob.client.get()}) {
    EXPECT_EQ(expectMessage(*client).id, 2);
    ChatMessage again = expectMessage(*client);
    EXPECT_EQ(again.id, 3);
    EXPECT_EQ(again.text, "again");
  }
  EXPECT_EQ(receiveMessage(*carol).id, 2);
  EXPECT_EQ(receiveMessage(*carol).id, 3);
}

TEST_F(V1PublishApiTest, MissingOrWrongKeyIs401AndStoresNothing) {
  GatewayProcess& gateway = startGateway(v1Env({{"API_KEY", kApiKey}}));
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(gateway, room, "alice");
  const std::string body = plainMessageJson("mallory", "let me in");

  const std::vector<std::optional<std::string>> refused = {
      std::nullopt,
      "",
      "Bearer",
      "Bearer ",
      "Bearer wrong-key",
      "Bearer " + kApiKey + "x",
      "Bearer " + kApiKey.substr(0, kApiKey.size() - 1),
      "Basic " + kApiKey,
      kApiKey,
  };
  for (const auto& authorization : refused) {
    SCOPED_TRACE("Authorization: " + authorization.value_or("(none)"));
    HttpResponse response = post(gateway, room, body, authorization);
    EXPECT_EQ(response.status, 401) << response.error << " " << response.body;
  }
  RedisClient redis = redisClient();
  EXPECT_EQ(redis.integer({"EXISTS", historyKey(room)}), 0);

  // A bad body or room with a good key is a 400, and stores nothing either.
  EXPECT_EQ(post(gateway, room, R"({"username":"x"})", "Bearer " + kApiKey).status, 400);
  EXPECT_EQ(post(gateway, room, "not json", "Bearer " + kApiKey).status, 400);
  EXPECT_EQ(post(gateway, "bad!room", body, "Bearer " + kApiKey).status, 400);
  EXPECT_EQ(redis.integer({"EXISTS", historyKey(room)}), 0);

  // Nothing reached alice: her next message is the first good post.
  HttpResponse good = post(gateway, room, plainMessageJson("bot", "welcome"), "Bearer " + kApiKey);
  ASSERT_EQ(good.status, 201) << good.body;
  ChatMessage message = expectMessage(*alice.client);
  EXPECT_EQ(message.id, 1);
  EXPECT_EQ(message.username, "bot");
}

TEST_F(V1PublishApiTest, PostIsOffWithoutApiKey) {
  GatewayProcess& gateway = startGateway(v1Env());
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  for (const auto& authorization :
       std::vector<std::optional<std::string>>{std::nullopt, "Bearer ", "Bearer anything"}) {
    SCOPED_TRACE("Authorization: " + authorization.value_or("(none)"));
    HttpResponse response = post(gateway, room, plainMessageJson("bot", "hi"), authorization);
    EXPECT_EQ(response.status, 404) << response.error << " " << response.body;
  }
  EXPECT_EQ(redisClient().integer({"EXISTS", historyKey(room)}), 0);
  // Reading stays on.
  HttpResponse get = httpGet(gateway.port(), messagesPath(room));
  EXPECT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(parseMessageArray(get.body).size(), 0u);
}

TEST_F(V1PublishApiTest, GetRefusesBadQueriesWith400) {
  GatewayProcess& gateway = startGateway(v1Env());
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  const std::vector<std::string> bad = {
      messagesPath(room) + "?limit=0",    messagesPath(room) + "?limit=abc",
      messagesPath(room) + "?limit=1001", messagesPath(room) + "?limit=-5",
      messagesPath(room) + "?since=-1",   messagesPath(room) + "?since=abc",
      messagesPath(room) + "?since=1.5",  messagesPath("bad!room"),
      messagesPath(std::string(65, 'r')), messagesPath("sp%20ace"),
  };
  for (const std::string& target : bad) {
    SCOPED_TRACE(target);
    HttpResponse response = httpGet(gateway.port(), target);
    EXPECT_EQ(response.status, 400) << response.error << " " << response.body;
  }
  for (const std::string& target :
       {messagesPath(room) + "?limit=1000", messagesPath(room) + "?since=0&limit=1",
        messagesPath(std::string(64, 'r'))}) {
    SCOPED_TRACE(target);
    HttpResponse response = httpGet(gateway.port(), target);
    EXPECT_EQ(response.status, 200) << response.error << " " << response.body;
  }
  EXPECT_EQ(httpGet(gateway.port(), "/healthz").status, 200);
}

// POST /api/messages (operator API): one message into several rooms, stored
// in the order given; a bad, repeated or 101st room stores nothing.
TEST_F(V1PublishApiTest, OneMessageIntoSeveralRooms) {
  // Posted to one gateway, read live on another.
  GatewayProcess& gateway = startGateway(v1Env({{"API_KEY", kApiKey}}));
  GatewayProcess& other = startGateway(v1Env({{"API_KEY", kApiKey}}));
  ASSERT_TRUE(gateway.waitReady() && other.waitReady());
  const std::vector<std::string> rooms = {uniqueRoom("a"), uniqueRoom("b"), uniqueRoom("c")};
  V1Session reader = joinV1(other, rooms[1], "reader");
  const auto postMany = [&](const std::string& roomsJson, const std::string& key = kApiKey) {
    HttpRequest request;
    request.method = "POST";
    request.target = "/api/messages";
    request.headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
    request.body = R"({"rooms":)" + roomsJson + R"(,"username":"ops","text":"maintenance at 6"})";
    return httpRequest(gateway.port(), request);
  };
  const std::string three = "[\"" + rooms[0] + "\",\"" + rooms[1] + "\",\"" + rooms[2] + "\"]";
  const HttpResponse stored = postMany(three);
  ASSERT_EQ(stored.status, 201) << stored.body;
  const std::vector<ChatMessage> answered = parseMessageArray(stored.body);
  ASSERT_EQ(answered.size(), 3u);
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    EXPECT_EQ(answered[i].room, rooms[i]);
    EXPECT_EQ(answered[i].text, "maintenance at 6");
    EXPECT_EQ(redisClient().strings({"LRANGE", historyKey(rooms[i]), "0", "-1"}),
              std::vector<std::string>{answered[i].raw});
  }
  EXPECT_EQ(expectMessage(*reader.client).raw, answered[1].raw) << "live to the room's members";

  // Refusals store nothing.
  EXPECT_EQ(postMany("[\"" + rooms[0] + "\",\"bad room\"]").status, 400);
  EXPECT_EQ(postMany("[\"" + rooms[0] + "\",\"" + rooms[0] + "\"]").status, 400);
  std::string many = "[";
  for (int i = 0; i < 101; ++i)
    many += (i ? ",\"r" : "\"r") + std::to_string(i) + "\"";
  EXPECT_EQ(postMany(many + "]").status, 400);
  EXPECT_EQ(postMany("[]").status, 400);
  EXPECT_EQ(postMany(three, "wrong-key-0123456789").status, 401);
  EXPECT_EQ(redisClient().integer({"LLEN", historyKey(rooms[0])}), 1);
}

}  // namespace
}  // namespace chat::testing
