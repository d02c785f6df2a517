// Presence (docs/protocol.md sections 4, 6 and 8): a user's first connection in a
// room, on any gateway, is announced once, their last one leaving once; the
// joined frame lists who is there, the joiner included; a gateway that dies
// without a goodbye loses its users within PRESENCE_TTL. Plain clients neither
// count nor get presence frames.
//
// That an event did NOT happen is shown with a marker: after the step that
// must stay silent, another user joins through the same gateway, and the
// observer's next presence event must be that user's join.

#include <algorithm>

#include "http_client.h"
#include "json_raw.h"
#include "v1_helpers.h"

namespace chat::testing {
namespace {

class V1PresenceTest : public GatewayTest {};

std::vector<std::string> sorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  return values;
}

// The next presence event about someone other than `self` (a client may or
// may not hear of its own arrival); other frames stay queued.
V1Frame nextPresence(V1Client& client, const std::string& self,
                     std::chrono::milliseconds timeout = 10s) {
  return expectMatching(
      client,
      [&self](const V1Frame& f) { return f.type() == "presence" && f.string("username") != self; },
      "a presence event", timeout);
}

void expectPresence(const V1Frame& frame, const std::string& room, const std::string& event,
                    const std::string& username) {
  EXPECT_EQ(frame.string("room"), room) << frame.raw();
  EXPECT_EQ(frame.string("event"), event) << frame.raw();
  EXPECT_EQ(frame.string("username"), username) << frame.raw();
}

void closeCleanly(V1Client& client) {
  ASSERT_TRUE(client.ws().sendClose());
  expectClose(client.ws());
}

TEST_F(V1PresenceTest, JoinAndLeaveAreAnnouncedAcrossGateways) {
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  auto plain = connectPlain(a, room);

  V1Session alice = joinV1(a, room, "alice");
  EXPECT_EQ(alice.join.presence, std::vector<std::string>{"alice"}) << alice.join.raw;

  // bob on gateway B: announced to alice on A; his joined lists both.
  V1Session bob = joinV1(b, room, "bob");
  EXPECT_EQ(sorted(bob.join.presence), (std::vector<std::string>{"alice", "bob"})) << bob.join.raw;
  expectPresence(nextPresence(*alice.client, "alice"), room, "join", "bob");

  // bob closes: his leave is announced.
  closeCleanly(*bob.client);
  expectPresence(nextPresence(*alice.client, "alice"), room, "leave", "bob");

  // carol joins and leaves with join and leave frames, from another room.
  V1Session carol = joinV1(b, uniqueRoom("hall"), "carol");
  ASSERT_TRUE(carol.client->sendJoin(room));
  V1Join carolJoin = readJoin(*carol.client, room, false);
  EXPECT_EQ(sorted(carolJoin.presence), (std::vector<std::string>{"alice", "carol"}))
      << "bob is gone: " << carolJoin.raw;
  expectPresence(nextPresence(*alice.client, "alice"), room, "join", "carol");
  ASSERT_TRUE(carol.client->sendLeave(room));
  expectPresence(nextPresence(*alice.client, "alice"), room, "leave", "carol");

  // The plain client got none of it: its next frame is the next message.
  EXPECT_EQ(sendAndAck(*alice.client, "hi", "h").id, 1);
  ChatMessage message = receiveMessage(*plain);
  EXPECT_EQ(message.id, 1);
  V1Session dave = joinV1(a, room, "dave");
  EXPECT_EQ(sorted(dave.join.presence), (std::vector<std::string>{"alice", "dave"}))
      << "a plain client is nobody in presence: " << dave.join.raw;
}

// bob opens two tabs, on `first` and `second`: one join, and one leave when
// the last tab closes.
void twoTabsCountOnce(GatewayProcess& observerGateway, GatewayProcess& first,
                      GatewayProcess& second, const std::string& room) {
  V1Session alice = joinV1(observerGateway, room, "alice");
  V1Session tab1 = joinV1(first, room, "bob");
  expectPresence(nextPresence(*alice.client, "alice"), room, "join", "bob");

  V1Session tab2 = joinV1(second, room, "bob");
  EXPECT_EQ(sorted(tab2.join.presence), (std::vector<std::string>{"alice", "bob"}))
      << "bob is listed once: " << tab2.join.raw;
  V1Session carol = joinV1(second, room, "carol");  // marker
  expectPresence(nextPresence(*alice.client, "alice"), room, "join", "carol");

  closeCleanly(*tab1.client);
  V1Session dave = joinV1(first, room, "dave");  // marker
  EXPECT_EQ(sorted(dave.join.presence), (std::vector<std::string>{"alice", "bob", "carol", "dave"}))
      << "bob's second tab is still open: " << dave.join.raw;
  expectPresence(nextPresence(*alice.client, "alice"), room, "join", "dave");

  closeCleanly(*tab2.client);
  expectPresence(nextPresence(*alice.client, "alice"), room, "leave", "bob");
  V1Session erin = joinV1(second, room, "erin");  // marker
  expectPresence(nextPresence(*alice.client, "alice"), room, "join", "erin");
  EXPECT_EQ(sorted(erin.join.presence),
            (std::vector<std::string>{"alice", "carol", "dave", "erin"}));
}

TEST_F(V1PresenceTest, TwoTabsOnTwoGatewaysCountOnce) {
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  twoTabsCountOnce(a, a, b, uniqueRoom());
}

TEST_F(V1PresenceTest, TwoTabsOnOneGatewayCountOnce) {
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  twoTabsCountOnce(a, b, b, uniqueRoom());
}

TEST_F(V1PresenceTest, KilledGatewayLosesItsUsersWithinPresenceTtl) {
  const EnvVars env = v1Env({{"PRESENCE_TTL", "1"}});
  GatewayProcess& a = startGateway(env, "gw-a");
  GatewayProcess& b = startGateway(env, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(a, room, "alice");
  V1Session bob = joinV1(b, room, "bob");
  expectPresence(nextPresence(*alice.client, "alice"), room, "join", "bob");

  // Still there a while later: the refresh keeps a live gateway's users.
  V1Session carol = joinV1(a, room, "carol");
  expectPresence(nextPresence(*alice.client, "alice"), room, "join", "carol");
  EXPECT_EQ(sorted(carol.join.presence), (std::vector<std::string>{"alice", "bob", "carol"}));

  b.kill();
  // PRESENCE_TTL (1 s) plus one refresh interval, with room to spare.
  expectPresence(nextPresence(*alice.client, "alice", 5s), room, "leave", "bob");
  V1Session dave = joinV1(a, room, "dave");
  EXPECT_EQ(sorted(dave.join.presence), (std::vector<std::string>{"alice", "carol", "dave"}))
      << dave.join.raw;
  // alice and carol, on the live gateway, outlast the TTL.
  V1Session erin = joinV1(a, room, "erin");
  EXPECT_EQ(sorted(erin.join.presence),
            (std::vector<std::string>{"alice", "carol", "dave", "erin"}));
  for (const V1Frame& frame : alice.client->queued()) {
    if (frame.type() == "presence") {
      EXPECT_NE(frame.string("event"), "leave") << "only bob left: " << frame.raw();
    }
  }
}

// The operator API lists everyone present, whichever gateway holds them
// (docs/protocol.md section 10): Bearer API_KEY, 401 without it.
TEST_F(V1PresenceTest, TheOperatorApiListsEveryonePresent) {
  const std::string apiKey = "presence-api-key-0123456789";
  GatewayProcess& a = startGateway(v1Env({{"API_KEY", apiKey}}));
  GatewayProcess& b = startGateway(v1Env({{"API_KEY", apiKey}}));
  ASSERT_TRUE(a.waitReady() && b.waitReady());
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(a, room, "alice");
  V1Session bob = joinV1(b, room, "bob");
  const auto list = [&](const std::string& key) {
    HttpRequest request;
    request.target = "/api/rooms/" + room + "/presence";
    if (!key.empty()) request.headers = {{"Authorization", "Bearer " + key}};
    return httpRequest(a.port(), request);
  };
  const HttpResponse both = list(apiKey);
  ASSERT_EQ(both.status, 200) << both.body;
  EXPECT_EQ(both.header("content-type"), "application/json");
  std::vector<std::string> names;
  const auto entries = rawArrayElements(both.body);
  ASSERT_TRUE(entries) << both.body;
  for (const std::string& entry : *entries) {
    const auto object = JsonObject::parse(entry);
    ASSERT_TRUE(object && object->string("username")) << entry;
    names.push_back(*object->string("username"));
  }
  EXPECT_EQ(sorted(names), (std::vector<std::string>{"alice", "bob"})) << both.body;
  EXPECT_EQ(list("").status, 401);
  EXPECT_EQ(list("wrong-key-0123456789").status, 401);
}

// POST /api/users/{username}/disconnect: every gateway closes that user's
// connections with 4002; the others stay (docs/protocol.md section 10).
TEST_F(V1PresenceTest, TheOperatorApiDisconnectsAUserEverywhere) {
  const std::string apiKey = "disconnect-api-key-0123456789";
  GatewayProcess& a = startGateway(v1Env({{"API_KEY", apiKey}}));
  GatewayProcess& b = startGateway(v1Env({{"API_KEY", apiKey}}));
  ASSERT_TRUE(a.waitReady() && b.waitReady());
  const std::string room = uniqueRoom();
  V1Session malloryA = joinV1(a, room, "mallory");
  V1Session malloryB = joinV1(b, room, "mallory");
  V1Session alice = joinV1(a, room, "alice");
  const auto disconnect = [&](const std::string& user, const std::string& key) {
    HttpRequest request;
    request.method = "POST";
    request.target = "/api/users/" + user + "/disconnect";
    request.headers = {{"Authorization", "Bearer " + key}};
    return httpRequest(b.port(), request).status;
  };
  EXPECT_EQ(disconnect("mallory", "wrong-key-0123456789"), 401);
  EXPECT_EQ(disconnect("nobody-here", apiKey), 202) << "also when the user has no connection";
  EXPECT_EQ(disconnect("mallory", apiKey), 202);
  for (V1Session* session : {&malloryA, &malloryB}) {
    const CloseInfo closed = expectClose(session->client->ws());
    EXPECT_EQ(closed.code, 4002);
    EXPECT_EQ(closed.reason, "disconnected");
  }
  sendAndAck(*alice.client, "still here", "a1");
  EXPECT_FALSE(alice.client->isClosed());
}

// Large rooms (docs/protocol.md section 4), with the limits made small: up to
// PRESENCE_EVENTS_MAX users every join and leave is an event; past it, members
// hear the count instead (when the room crosses the limit, then at most once
// a second when it changed), across gateways; `joined` lists at most
// PRESENCE_LIST_MAX users, the joiner among them, and says how many there are.
TEST_F(V1PresenceTest, ABigRoomSendsCountsInsteadOfEvents) {
  const EnvVars limits = v1Env({{"PRESENCE_EVENTS_MAX", "4"}, {"PRESENCE_LIST_MAX", "3"}});
  GatewayProcess& a = startGateway(limits, "gw-a");
  GatewayProcess& b = startGateway(limits, "gw-b");
  ASSERT_TRUE(a.waitReady() && b.waitReady());
  const std::string room = uniqueRoom();
  V1Session observer = joinV1(a, room, "observer");
  std::vector<V1Session> crowd;
  const auto arrive = [&](int n) {
    crowd.push_back(joinV1(n % 2 == 0 ? b : a, room, "user" + std::to_string(n)));
  };
  // Up to the limit (4 users): events.
  for (int n = 1; n <= 3; ++n) {
    arrive(n);
    const V1Frame joined = nextPresence(*observer.client, "observer");
    expectPresence(joined, room, "join", "user" + std::to_string(n));
    EXPECT_EQ(joined.integer("online"), n + 1) << "the count after it: " << joined.raw();
  }
  // The fifth user crosses it: a count, and no event.
  arrive(4);
  const auto countIs = [&](std::int64_t n) {
    return [n](const V1Frame& f) { return f.type() == "presence" && f.integer("online") == n; };
  };
  const V1Frame crossed = expectMatching(*observer.client, countIs(5), "online 5");
  EXPECT_FALSE(crossed.has("username")) << crossed.raw();
  // Past it, counts follow within about a second, whichever gateway they join.
  arrive(5);
  arrive(6);
  expectMatching(*observer.client, countIs(7), "online 7", 5s);
  V1Session late = joinV1(b, room, "late");
  EXPECT_EQ(late.join.presence.size(), 3u) << late.join.raw;
  EXPECT_NE(std::find(late.join.presence.begin(), late.join.presence.end(), "late"),
            late.join.presence.end())
      << late.join.raw;
  const auto joined = JsonObject::parse(late.join.raw);
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->integer("online"), 8) << late.join.raw;
  expectMatching(*observer.client, countIs(8), "online 8", 5s);
  // None of the crowd's arrivals past the limit came as an event.
  while (auto frame = observer.client->nextMatching(
             [](const V1Frame& f) { return f.has("username") && f.type() == "presence"; },
             Deadline(0ms))) {
    ADD_FAILURE() << "an event in a big room: " << frame->raw();
  }
  // Back under the limit (8 users to 3): a count, then events again. The
  // gateways remove the five asynchronously: Redis says when all are gone.
  for (int i = 0; i < 5; ++i)
    closeCleanly(*crowd[static_cast<std::size_t>(i)].client);
  expectMatching(*observer.client, countIs(4), "online 4", 5s);
  RedisClient redis = redisClient();
  EXPECT_TRUE(waitFor(
      [&] {
        return redis.integer({"ZCARD", "chat:{" + room + "}:presence"}) == 3;
      },
      10s));
  V1Session back = joinV1(a, room, "back");
  expectMatching(
      *observer.client,
      [](const V1Frame& f) { return f.type() == "presence" && f.string("username") == "back"; },
      "back's join event");
}

}  // namespace
}  // namespace chat::testing
