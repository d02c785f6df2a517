// Hardening: who may open a WebSocket (docs/protocol.md section 5). The Origin
// check (ALLOWED_ORIGINS unset: same host only, plus clients without an
// Origin; set: the listed origins only; `*`: anyone) answers 403, and with
// AUTH_SECRET every handshake needs a valid HS256 token: missing, forged
// (another secret), `alg: none`, HS512 and expired tokens get 401. A valid
// token's `sub` is the username, and its `rooms` claim limits the rooms (403
// for the URL's room, error `forbidden` for a v1 join). Tokens are made here
// with OpenSSL (tests/support/jwt_maker), not with the gateway's libjwt.

#include "http_client.h"
#include "jwt_maker.h"
#include "v1_helpers.h"

namespace chat::testing {
namespace {

class HardeningHandshakeTest : public GatewayTest {};

// The handshake's HTTP status: 101 when the upgrade was accepted.
int handshakeStatus(const GatewayProcess& gateway, const std::string& target,
                    WsConnectOptions options = {}) {
  WsClient client;
  if (client.connect(gateway.port(), target, std::move(options))) return 101;
  return client.handshake().status;
}

WsConnectOptions withOrigin(const std::string& origin, bool v1 = false) {
  WsConnectOptions options;
  options.headers = {{"Origin", origin}};
  if (v1) options.subprotocols = {std::string(kV1Subprotocol)};
  return options;
}

WsConnectOptions v1Options() {
  WsConnectOptions options;
  options.subprotocols = {std::string(kV1Subprotocol)};
  return options;
}

TEST_F(HardeningHandshakeTest, WithoutAllowedOriginsOnlyTheSameHostOrNoOriginMayConnect) {
  GatewayProcess& gateway = startGateway();
  ASSERT_TRUE(gateway.waitReady());
  const std::string target = plainTarget(uniqueRoom());
  const std::string port = std::to_string(gateway.port());
  // The test client's Host header is 127.0.0.1:PORT.
  EXPECT_EQ(handshakeStatus(gateway, target), 101) << "no Origin: not a browser page";
  EXPECT_EQ(handshakeStatus(gateway, target, withOrigin("http://127.0.0.1:" + port)), 101);
  EXPECT_EQ(handshakeStatus(gateway, target, withOrigin("https://127.0.0.1:" + port)), 101)
      << "behind a TLS-terminating balancer the page is https";
  const std::vector<std::string> refused = {
      "http://evil.example",
      "http://127.0.0.1:" + std::to_string(gateway.port() + 1),
      "http://127.0.0.1",
      "http://localhost:" + port,
      "null",
      "http://127.0.0.1:" + port + ".evil.example",
      "http://evil.example/127.0.0.1:" + port,
  };
  for (const std::string& origin : refused) {
    SCOPED_TRACE(origin);
    EXPECT_EQ(handshakeStatus(gateway, target, withOrigin(origin)), 403);
    EXPECT_EQ(handshakeStatus(gateway, target, withOrigin(origin, true)), 403) << "v1 clients too";
  }
  EXPECT_EQ(httpGet(gateway.port(), "/healthz").status, 200);
}

TEST_F(HardeningHandshakeTest, WithAllowedOriginsOnlyThoseListedMayConnect) {
  GatewayProcess& gateway =
      startGateway({{"ALLOWED_ORIGINS", "https://chat.example.com, http://b.example:8080"}});
  ASSERT_TRUE(gateway.waitReady());
  const std::string target = plainTarget(uniqueRoom());
  const std::string port = std::to_string(gateway.port());
  EXPECT_EQ(handshakeStatus(gateway, target), 101) << "no Origin";
  EXPECT_EQ(handshakeStatus(gateway, target, withOrigin("https://chat.example.com")), 101);
  EXPECT_EQ(handshakeStatus(gateway, target, withOrigin("http://b.example:8080")), 101);
  const std::vector<std::string> refused = {
      "http://chat.example.com",
      "https://chat.example.com:8443",
      "https://evil.chat.example.com",
      "http://b.example",
      "https://chat.example.com.evil.example",
      "http://127.0.0.1:" + port,
      "null",
  };
  for (const std::string& origin : refused) {
    SCOPED_TRACE(origin);
    EXPECT_EQ(handshakeStatus(gateway, target, withOrigin(origin)), 403)
        << "a listed origin replaces the same-host rule";
  }
}

TEST_F(HardeningHandshakeTest, AllowedOriginsStarLetsEveryOriginConnect) {
  GatewayProcess& gateway = startGateway({{"ALLOWED_ORIGINS", "*"}});
  ASSERT_TRUE(gateway.waitReady());
  const std::string target = plainTarget(uniqueRoom());
  for (const std::string origin : {"http://evil.example", "null", "https://x.y:1"}) {
    EXPECT_EQ(handshakeStatus(gateway, target, withOrigin(origin)), 101) << origin;
  }
  EXPECT_EQ(handshakeStatus(gateway, target), 101);
}

const std::string kSecret = "hardening-secret-0123456789abcdef";

std::string tokenTarget(const std::string& room, const std::string& token,
                        const std::string& username = {}) {
  std::string target = "/websocket?room=" + room;
  if (!username.empty()) target += "&username=" + username;
  if (!token.empty()) target += "&token=" + token;
  return target;
}

TEST_F(HardeningHandshakeTest, WithAuthSecretBadTokensGet401) {
  GatewayProcess& gateway = startGateway({{"AUTH_SECRET", kSecret}});
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  const std::int64_t inAnHour = unixSecondsNow() + 3600;
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const std::string claims = R"({"sub":"mallory","exp":)" + std::to_string(inAnHour) + "}";

  struct Case {
    std::string what;
    std::string token;
  };
  const std::vector<Case> cases = {
      {"no token", ""},
      {"garbage", "not-a-token"},
      {"two parts", base64UrlEncode(header) + "." + base64UrlEncode(claims)},
      {"forged: signed with another secret",
       makeToken({"mallory", inAnHour, std::nullopt, JwtAlg::kHs256}, "another-secret-0123456789")},
      {"alg none, no signature", makeToken({"mallory", inAnHour, std::nullopt, JwtAlg::kNone}, "")},
      {"alg none with an HS256 signature",
       signJwt(R"({"alg":"none","typ":"JWT"})", claims, JwtAlg::kHs256, kSecret)},
      {"alg HS512, right secret",
       makeToken({"mallory", inAnHour, std::nullopt, JwtAlg::kHs512}, kSecret)},
      {"alg HS384, right secret",
       makeToken({"mallory", inAnHour, std::nullopt, JwtAlg::kHs384}, kSecret)},
      {"expired an hour ago",
       makeToken({"mallory", unixSecondsNow() - 3600, std::nullopt, JwtAlg::kHs256}, kSecret)},
      {"no exp", signJwt(header, R"({"sub":"mallory"})", JwtAlg::kHs256, kSecret)},
      {"no sub",
       signJwt(header, R"({"exp":)" + std::to_string(inAnHour) + "}", JwtAlg::kHs256, kSecret)},
      {"sub of 33 characters",
       makeToken({std::string(33, 's'), inAnHour, std::nullopt, JwtAlg::kHs256}, kSecret)},
      {"signature of a valid token on other claims",
       [&] {
         const std::string valid =
             makeToken({"alice", inAnHour, std::nullopt, JwtAlg::kHs256}, kSecret);
         return base64UrlEncode(header) + "." + base64UrlEncode(claims) +
                valid.substr(valid.rfind('.'));
       }()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(handshakeStatus(gateway, tokenTarget(room, c.token, "mallory")), 401);
    // A v1 client without a token may still send it in its first frame
    // (docs/protocol.md section 10); a bad one is refused on the handshake.
    const int v1Status = c.token.empty() ? 101 : 401;
    EXPECT_EQ(handshakeStatus(gateway, tokenTarget(room, c.token, "mallory"), v1Options()),
              v1Status)
        << "v1 clients too";
  }
  EXPECT_EQ(redisClient().integer({"LLEN", historyKey(room)}), 0);
  EXPECT_EQ(httpGet(gateway.port(), "/healthz").status, 200);
}

TEST_F(HardeningHandshakeTest, ValidTokenIsAcceptedAndItsSubIsTheUsername) {
  GatewayProcess& gateway = startGateway({{"AUTH_SECRET", kSecret}});
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  const std::int64_t inAnHour = unixSecondsNow() + 3600;

  // v1: the welcome names `sub`, whatever ?username= says.
  const std::string aliceToken =
      makeToken({"alice", inAnHour, std::nullopt, JwtAlg::kHs256}, kSecret);
  auto alice = connectV1(gateway, tokenTarget(room, aliceToken, "mallory"));
  EXPECT_EQ(expectWelcome(*alice).string("username"), "alice");
  readJoin(*alice, room);
  V1Ack ack = sendAndAck(*alice, "signed by alice", "a1");

  // Plain: `sub` is stored as the author, whatever the frame says.
  const std::string bobToken = makeToken({"bob", inAnHour, std::nullopt, JwtAlg::kHs256}, kSecret);
  WsClient plain;
  ASSERT_TRUE(plain.connect(gateway.port(), tokenTarget(room, bobToken)))
      << plain.error() << " " << plain.handshake().body;
  ChatMessage history = receiveMessage(plain);
  EXPECT_EQ(history.username, "alice");
  EXPECT_EQ(history.id, ack.id);
  sendPlain(plain, "mallory", "signed by bob");
  ChatMessage echo = receiveMessage(plain);
  EXPECT_EQ(echo.username, "bob") << "the token's sub wins over the frame's username";

  std::vector<std::string> stored = redisClient().strings({"LRANGE", historyKey(room), "0", "-1"});
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(parseChatMessage(stored[0])->username, "alice");
  EXPECT_EQ(parseChatMessage(stored[1])->username, "bob");
  EXPECT_EQ(stored[1], echo.raw);

  // A token that expired 3 s ago is still inside the verifier's 5 s leeway.
  const std::string lateToken =
      makeToken({"carol", unixSecondsNow() - 3, std::nullopt, JwtAlg::kHs256}, kSecret);
  EXPECT_EQ(handshakeStatus(gateway, tokenTarget(room, lateToken)), 101);
}

// Claims at the ends of the integer range are valid times: an `exp` in the
// farthest future, an `nbf` in the farthest past. The leeway arithmetic must
// not overflow on them (UB; in a build without sanitizers it wraps, and the
// token is refused as expired or not yet valid).
TEST_F(HardeningHandshakeTest, TokenTimesAtTheEndsOfTheRangeAreValid) {
  GatewayProcess& gateway = startGateway({{"AUTH_SECRET", kSecret}});
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const std::string farFuture =
      signJwt(header, R"({"sub":"erin","exp":9223372036854775807})", JwtAlg::kHs256, kSecret);
  const std::string longAgo =
      signJwt(header,
              R"({"sub":"erin","exp":)" + std::to_string(unixSecondsNow() + 3600) +
                  R"(,"nbf":-9223372036854775808})",
              JwtAlg::kHs256, kSecret);
  EXPECT_EQ(handshakeStatus(gateway, tokenTarget(room, farFuture)), 101) << "exp = 2^63 - 1";
  EXPECT_EQ(handshakeStatus(gateway, tokenTarget(room, longAgo)), 101) << "nbf = -2^63";
  EXPECT_EQ(httpGet(gateway.port(), "/healthz").status, 200);
}

TEST_F(HardeningHandshakeTest, RoomsClaimRefusesOtherRooms) {
  GatewayProcess& gateway = startGateway({{"AUTH_SECRET", kSecret}});
  ASSERT_TRUE(gateway.waitReady());
  const std::string allowed = uniqueRoom("allowed");
  const std::string other = uniqueRoom("other");
  const std::string token = makeToken(
      {"dana", unixSecondsNow() + 3600, std::vector<std::string>{allowed}, JwtAlg::kHs256},
      kSecret);

  EXPECT_EQ(handshakeStatus(gateway, tokenTarget(other, token)), 403);
  EXPECT_EQ(handshakeStatus(gateway, tokenTarget(other, token), v1Options()), 403);
  EXPECT_EQ(handshakeStatus(gateway, "/websocket?token=" + token), 403)
      << "no room means lobby, which the token does not list";
  EXPECT_EQ(handshakeStatus(gateway, tokenTarget(allowed, token)), 101);

  auto dana = connectV1(gateway, tokenTarget(allowed, token));
  EXPECT_EQ(expectWelcome(*dana).string("username"), "dana");
  readJoin(*dana, allowed);
  ASSERT_TRUE(dana->sendJoin(other));
  V1Frame error = expectError(*dana);
  EXPECT_EQ(error.string("code"), "forbidden") << error.raw();
  ASSERT_TRUE(dana->sendMessage("sneaking in", "s1", other));
  error = expectError(*dana);
  EXPECT_EQ(error.string("ref"), "s1");
  EXPECT_EQ(error.string("code"), "not_joined") << error.raw();
  EXPECT_EQ(sendAndAck(*dana, "in my room", "d1").id, 1);
  EXPECT_EQ(redisClient().integer({"LLEN", historyKey(other)}), 0);
}

}  // namespace
}  // namespace chat::testing
