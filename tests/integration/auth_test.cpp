// Login (docs/protocol.md section 10): RS256 and ES256 tokens checked with
// AUTH_PUBLIC_KEY, aud and iss; the token in the URL, in the AUTH_COOKIE
// cookie, or in a v1 client's first frame; refresh on the open connection;
// 4001 when a token expires or never comes. Tokens are made by
// tests/support/jwt_maker (OpenSSL), keys generated per test.
#include <fstream>

#include "http_client.h"
#include "jwt_maker.h"
#include "static_http_server.h"
#include "temp_dir.h"
#include "v1_helpers.h"

namespace chat::testing {
namespace {

constexpr char kAudience[] = "chat";
constexpr char kIssuer[] = "https://login.test";

class AuthTest : public GatewayTest {
 protected:
  // A gateway that checks tokens with `key`'s public half (plus `extra`).
  GatewayProcess& startWithKey(const KeyPair& key, const EnvVars& extra = {}) {
    const auto pem = keys_.path() / ("key" + std::to_string(++files_) + ".pem");
    std::ofstream(pem) << key.publicPem;
    EnvVars env = v1Env({{"AUTH_PUBLIC_KEY", pem.string()},
                         {"AUTH_AUDIENCE", kAudience},
                         {"AUTH_ISSUER", kIssuer}});
    env.insert(env.end(), extra.begin(), extra.end());
    GatewayProcess& gateway = startGateway(env);
    EXPECT_TRUE(gateway.waitReady()) << gateway.readStderr();
    return gateway;
  }

  static std::string token(const KeyPair& key, KeyKind kind, const std::string& subject,
                           std::int64_t expiresIn, const std::string& audience = kAudience,
                           const std::string& kid = {}) {
    return signJwtWithKey("{\"sub\":\"" + subject +
                              "\",\"exp\":" + std::to_string(unixSecondsNow() + expiresIn) +
                              ",\"aud\":\"" + audience + "\",\"iss\":\"" + kIssuer + "\"}",
                          key, kind, kid);
  }

  TempDir keys_{"chat-auth"};
  int files_ = 0;
};

WsConnectOptions v1Options(std::vector<std::pair<std::string, std::string>> headers = {}) {
  WsConnectOptions options;
  options.subprotocols = {std::string(kV1Subprotocol)};
  options.headers = std::move(headers);
  return options;
}

int handshakeStatus(const GatewayProcess& gateway, const std::string& target,
                    WsConnectOptions options) {
  WsClient client;
  if (client.connect(gateway.port(), target, std::move(options))) return 101;
  return client.handshake().status;
}

TEST_F(AuthTest, Rs256AndEs256TokensFromThePublicKeyFileLogIn) {
  for (const KeyKind kind : {KeyKind::kRsa, KeyKind::kEc}) {
    const KeyPair key = generateKeyPair(kind);
    GatewayProcess& gateway = startWithKey(key);
    const std::string room = uniqueRoom();
    V1Client client;
    ASSERT_TRUE(client.connect(gateway.port(),
                               v1Target(room, {}) + "&token=" + token(key, kind, "alice", 60),
                               v1Options()))
        << client.error();
    EXPECT_EQ(expectWelcome(client).string("username"), "alice");
    // aud for another service, another key, no token: refused on the handshake.
    EXPECT_EQ(handshakeStatus(gateway,
                              plainTarget(room) + "&token=" + token(key, kind, "a", 60, "web"), {}),
              401);
    const KeyPair other = generateKeyPair(kind);
    EXPECT_EQ(
        handshakeStatus(gateway, plainTarget(room) + "&token=" + token(other, kind, "a", 60), {}),
        401);
    EXPECT_EQ(handshakeStatus(gateway, plainTarget(room), {}), 401)
        << "a plain client cannot send an auth frame: no token, no connection";
  }
}

TEST_F(AuthTest, ATokenInTheCookieLogsIn) {
  const KeyPair key = generateKeyPair(KeyKind::kEc);
  GatewayProcess& gateway = startWithKey(key, {{"AUTH_COOKIE", "chat_token"}});
  const std::string room = uniqueRoom();
  V1Client client;
  ASSERT_TRUE(client.connect(
      gateway.port(), v1Target(room, {}),
      v1Options({{"Cookie", "theme=dark; chat_token=" + token(key, KeyKind::kEc, "carol", 60)}})))
      << client.error();
  EXPECT_EQ(expectWelcome(client).string("username"), "carol");
  // A bad cookie token is refused on the handshake, like a bad URL token.
  EXPECT_EQ(handshakeStatus(gateway, v1Target(room, {}),
                            v1Options({{"Cookie", "chat_token=not-a-token"}})),
            401);
}

TEST_F(AuthTest, AV1ClientMaySendItsTokenInTheFirstFrame) {
  const KeyPair key = generateKeyPair(KeyKind::kEc);
  GatewayProcess& gateway = startWithKey(key);
  const std::string room = uniqueRoom();
  V1Client client;
  ASSERT_TRUE(client.connect(gateway.port(), v1Target(room, {}), v1Options())) << client.error();
  ASSERT_TRUE(
      client.send(R"({"type":"auth","token":")" + token(key, KeyKind::kEc, "dave", 60) + "\"}"));
  // welcome is the first frame: nothing went out before the token was checked.
  EXPECT_EQ(expectWelcome(client).string("username"), "dave");
  readJoin(client, room);
  sendAndAck(client, "logged in by frame", "a1");

  // Anything else first: 4001.
  V1Client eager;
  ASSERT_TRUE(eager.connect(gateway.port(), v1Target(room, {}), v1Options()));
  ASSERT_TRUE(eager.sendMessage("too early", "e1"));
  EXPECT_EQ(expectClose(eager.ws()).code, 4001);
  // A bad token: 4001 with the reason.
  V1Client forged;
  ASSERT_TRUE(forged.connect(gateway.port(), v1Target(room, {}), v1Options()));
  ASSERT_TRUE(forged.send(R"({"type":"auth","token":"a.b.c"})"));
  EXPECT_EQ(expectClose(forged.ws()).code, 4001);
  // None within 5 s: 4001.
  V1Client silent;
  ASSERT_TRUE(silent.connect(gateway.port(), v1Target(room, {}), v1Options()));
  const CloseInfo closed = expectClose(silent.ws(), 10s);
  EXPECT_EQ(closed.code, 4001);
  EXPECT_NE(closed.reason.find("no token"), std::string::npos) << closed.reason;
}

TEST_F(AuthTest, ARefreshKeepsTheConnectionAndExpiryClosesItWith4001) {
  const KeyPair key = generateKeyPair(KeyKind::kRsa);
  GatewayProcess& gateway = startWithKey(key);
  const std::string room = uniqueRoom();
  // Both tokens run out in 2 s (+ the 5 s leeway); only erin refreshes.
  V1Client erin;
  ASSERT_TRUE(erin.connect(gateway.port(),
                           v1Target(room, {}) + "&token=" + token(key, KeyKind::kRsa, "erin", 2),
                           v1Options()));
  expectWelcome(erin);
  readJoin(erin, room);
  WsClient plain;
  ASSERT_TRUE(plain.connect(gateway.port(),
                            plainTarget(room) + "&token=" + token(key, KeyKind::kRsa, "frank", 2)));
  const std::string fresh = token(key, KeyKind::kRsa, "erin", 600);
  ASSERT_TRUE(erin.send(R"({"type":"refresh","token":")" + fresh + "\"}"));
  const V1Frame refreshed = expectType(erin, "refreshed");
  EXPECT_GE(refreshed.integer("exp").value_or(0), unixSecondsNow() + 590);
  // Another user's token is refused, and changes nothing.
  ASSERT_TRUE(erin.send(R"({"type":"refresh","token":")" +
                        token(key, KeyKind::kRsa, "mallory", 600) + R"(","ref":"r2"})"));
  EXPECT_EQ(expectError(erin).string("code"), "forbidden");

  // The plain client's token expires: 4001 "token expired" within seconds.
  const CloseInfo closed = expectClose(plain, 15s);
  EXPECT_EQ(closed.code, 4001);
  EXPECT_EQ(closed.reason, "token expired");
  // erin, refreshed, is still served.
  sendAndAck(erin, "still here", "s1");
  EXPECT_FALSE(erin.isClosed());
}

// The REST read takes a token too (docs/protocol.md section 1): one that
// allows the room, or the API key; nothing else.
TEST_F(AuthTest, TheRestReadNeedsATokenForTheRoomOrTheApiKey) {
  const KeyPair key = generateKeyPair(KeyKind::kEc);
  const std::string apiKey = "rest-read-api-key-0123456789";
  GatewayProcess& gateway = startWithKey(key, {{"API_KEY", apiKey}});
  const std::string room = uniqueRoom();
  const std::string path = "/api/rooms/" + room + "/messages";
  const auto get = [&](const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& target) {
    HttpRequest request;
    request.target = target;
    request.headers = headers;
    return httpRequest(gateway.port(), request).status;
  };
  EXPECT_EQ(get({}, path), 401);
  EXPECT_EQ(get({{"Authorization", "Bearer " + token(key, KeyKind::kEc, "ann", 60)}}, path), 200);
  EXPECT_EQ(get({}, path + "?token=" + token(key, KeyKind::kEc, "ann", 60)), 200);
  EXPECT_EQ(get({{"Authorization", "Bearer " + apiKey}}, path), 200);
  EXPECT_EQ(get({{"Authorization", "Bearer not-a-token"}}, path), 401);
  const std::string otherRooms = signJwtWithKey(
      "{\"sub\":\"ann\",\"exp\":" + std::to_string(unixSecondsNow() + 60) +
          ",\"aud\":\"chat\",\"iss\":\"https://login.test\",\"rooms\":[\"elsewhere\"]}",
      key, KeyKind::kEc);
  EXPECT_EQ(get({{"Authorization", "Bearer " + otherRooms}}, path), 403);
}

// AUTH_JWKS_URL: keys by kid from a JWKS served over HTTP; the gateway is
// ready once the set is loaded; a kid rotated in is fetched again (an `auth`
// frame waits for that fetch, a handshake gets 401 and its retry passes),
// at most once every 5 s per worker however many unknown kids come.
TEST_F(AuthTest, KeysFromAJwksUrlByKidAndARotatedKeyIsFetchedAgain) {
  const KeyPair rsa = generateKeyPair(KeyKind::kRsa);
  const KeyPair ec = generateKeyPair(KeyKind::kEc);
  const KeyPair next = generateKeyPair(KeyKind::kRsa);
  const auto set = [](const std::vector<std::string>& jwks) {
    std::string doc = R"({"keys":[)";
    for (const auto& jwk : jwks)
      doc += (doc.back() == '[' ? "" : ",") + jwk;
    return doc + "]}";
  };
  StaticHttpServer issuer;
  issuer.serve(200, set({publicJwk(rsa, KeyKind::kRsa, "r1"), publicJwk(ec, KeyKind::kEc, "e1")}));
  GatewayProcess& gateway = startGateway(v1Env({{"AUTH_JWKS_URL", issuer.url("/jwks.json")},
                                                {"AUTH_AUDIENCE", kAudience},
                                                {"AUTH_ISSUER", kIssuer}}));
  ASSERT_TRUE(gateway.waitReady()) << gateway.readStderr();
  ASSERT_GE(issuer.requests(), 1);
  const std::string room = uniqueRoom();
  EXPECT_EQ(handshakeStatus(gateway,
                            v1Target(room, {}) +
                                "&token=" + token(rsa, KeyKind::kRsa, "alice", 60, kAudience, "r1"),
                            v1Options()),
            101);
  EXPECT_EQ(handshakeStatus(gateway,
                            v1Target(room, {}) +
                                "&token=" + token(ec, KeyKind::kEc, "bob", 60, kAudience, "e1"),
                            v1Options()),
            101);
  EXPECT_EQ(handshakeStatus(gateway,
                            v1Target(room, {}) +
                                "&token=" + token(ec, KeyKind::kEc, "eve", 60, kAudience, "r1"),
                            v1Options()),
            401)
      << "a kid names its key: an EC signature does not pass as r1's";

  // The issuer rotates to a new key; a first frame signed with it waits for
  // the set to be fetched again, then logs in.
  issuer.serve(200, set({publicJwk(next, KeyKind::kRsa, "r2")}));
  const int before = issuer.requests();
  V1Client rotated;
  ASSERT_TRUE(rotated.connect(gateway.port(), v1Target(room, {}), v1Options()));
  ASSERT_TRUE(rotated.send(R"({"type":"auth","token":")" +
                           token(next, KeyKind::kRsa, "carol", 60, kAudience, "r2") + "\"}"));
  EXPECT_EQ(expectWelcome(rotated, 15s).string("username"), "carol");
  const int afterRotation = issuer.requests();
  EXPECT_GT(afterRotation, before);

  // One token at a time waits for the key set: a second auth frame meanwhile closes.
  V1Client twice;
  ASSERT_TRUE(twice.connect(gateway.port(), v1Target(room, {}), v1Options()));
  const std::string unknown = token(next, KeyKind::kRsa, "twice", 60, kAudience, "not-yet");
  ASSERT_TRUE(twice.send(R"({"type":"auth","token":")" + unknown + "\"}"));
  ASSERT_TRUE(twice.send(R"({"type":"auth","token":")" + unknown + "\"}"));
  const CloseInfo again = expectClose(twice.ws(), 15s);
  EXPECT_EQ(again.code, 4001);
  EXPECT_EQ(again.reason, "a token is being checked already");

  // A kid nobody has: 4001 once the fetch says so, and a burst of them
  // fetches no more than once per worker.
  V1Client stranger;
  ASSERT_TRUE(stranger.connect(gateway.port(), v1Target(room, {}), v1Options()));
  ASSERT_TRUE(stranger.send(R"({"type":"auth","token":")" +
                            token(next, KeyKind::kRsa, "mallory", 60, kAudience, "zz") + "\"}"));
  const CloseInfo closed = expectClose(stranger.ws(), 15s);
  EXPECT_EQ(closed.code, 4001);
  EXPECT_NE(closed.reason.find("not in the key set"), std::string::npos) << closed.reason;
  const int afterStranger = issuer.requests();
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(handshakeStatus(gateway,
                              v1Target(room, {}) + "&token=" +
                                  token(next, KeyKind::kRsa, "mallory", 60, kAudience, "zz"),
                              v1Options()),
              401);
  const char* workers = std::getenv("CHAT_TEST_WORKERS");
  const int workerCount = workers != nullptr && *workers != '\0' ? std::atoi(workers) : 1;
  EXPECT_LE(issuer.requests() - afterStranger, workerCount);

  // A handshake token signed with a key rotated in later: 401 while the set
  // is fetched again, then its retry passes.
  const KeyPair third = generateKeyPair(KeyKind::kEc);
  issuer.serve(200,
               set({publicJwk(next, KeyKind::kRsa, "r2"), publicJwk(third, KeyKind::kEc, "e3")}));
  const std::string target =
      v1Target(room, {}) + "&token=" + token(third, KeyKind::kEc, "dave", 60, kAudience, "e3");
  EXPECT_TRUE(waitFor([&] { return handshakeStatus(gateway, target, v1Options()) == 101; }, 20s));

  // The issuer down: the keys held stay in use.
  issuer.serve(500, "oops");
  EXPECT_EQ(handshakeStatus(gateway,
                            v1Target(room, {}) +
                                "&token=" + token(next, KeyKind::kRsa, "erin", 60, kAudience, "r2"),
                            v1Options()),
            101);
}

// A gateway whose JWKS cannot be fetched at start takes no traffic: /readyz
// says why until the issuer answers.
TEST_F(AuthTest, AGatewayIsNotReadyUntilItsKeySetIsLoaded) {
  StaticHttpServer issuer;
  issuer.serve(503, "down");
  GatewayProcess& gateway = startGateway(v1Env({{"AUTH_JWKS_URL", issuer.url("/jwks")}}));
  ASSERT_TRUE(waitFor([&] { return issuer.requests() >= 1; }, 10s));
  // Once Redis is up and the worker reports, the missing keys are the reason.
  HttpResponse notReady;
  EXPECT_TRUE(waitFor(
      [&] {
        notReady = httpGet(gateway.port(), "/readyz");
        return notReady.body.find("AUTH_JWKS_URL key set not loaded") != std::string::npos;
      },
      10s))
      << notReady.body;
  EXPECT_EQ(notReady.status, 503);
  const KeyPair key = generateKeyPair(KeyKind::kEc);
  issuer.serve(200, R"({"keys":[)" + publicJwk(key, KeyKind::kEc, "e1") + "]}");
  EXPECT_TRUE(gateway.waitReady(15s)) << "retried within the 5 s gap";
}

}  // namespace
}  // namespace chat::testing
