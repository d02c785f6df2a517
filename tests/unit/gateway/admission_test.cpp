// Handshake admission as a value-in, verdict-out unit: each refusal with its
// status and counter, the URL's join, and the token verified once with its
// claims kept in the verdict.
#include "admission/admission.h"

#include <gtest/gtest.h>

#include "jwt_maker.h"

namespace chat::gateway {
namespace {

using common::Refusal;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr char kSecret[] = "admission-test-secret-0123456789";

HandshakeRequest upgrade(std::string query = "room=lobby") {
  HandshakeRequest r;
  r.path = "/websocket";
  r.key = "dGhlIHNhbXBsZSBub25jZQ==";
  r.version = "13";
  r.host = "chat.example.com";
  // A tiny query reader: key=value&key=value.
  std::size_t pos = 0;
  while (pos < query.size()) {
    const std::size_t amp = std::min(query.find('&', pos), query.size());
    const std::string pair = query.substr(pos, amp - pos);
    const std::size_t eq = pair.find('=');
    const std::string key = pair.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : pair.substr(eq + 1);
    if (key == "room") r.room = value;
    if (key == "username") r.username = value;
    if (key == "since") r.since = value;
    if (key == "epoch") r.epoch = value;
    if (key == "token") r.token = value;
    pos = amp + 1;
  }
  return r;
}

AdmissionState open() {
  AdmissionState s;
  s.nowSeconds = kNow;
  return s;
}

class AdmissionTest : public ::testing::Test {
 protected:
  common::Settings settings_;
  Admission admit(const HandshakeRequest& r, const AdmissionState& s = open()) {
    return AdmissionPolicy(settings_).admit(r, s);
  }
};

TEST_F(AdmissionTest, AdmitsAPlainClientIntoTheUrlsRoom) {
  const Admission a = admit(upgrade("room=dev"));
  ASSERT_TRUE(a.admitted()) << a.reason;
  EXPECT_FALSE(a.v1);
  EXPECT_EQ(a.join.room, "dev");
  EXPECT_EQ(admit(upgrade("")).join.room, "lobby");
  EXPECT_EQ(a.username, "") << "a plain client's ?username= is not its author";
}

TEST_F(AdmissionTest, AV1ClientKeepsItsNameSinceAndEpoch) {
  HandshakeRequest r = upgrade("room=dev&username=alice&since=17&epoch=k3f9a1");
  r.subprotocols = "chat.v1";
  const Admission a = admit(r);
  ASSERT_TRUE(a.admitted()) << a.reason;
  EXPECT_TRUE(a.v1);
  EXPECT_EQ(a.username, "alice");
  EXPECT_EQ(a.join.request.since, 17u);
  EXPECT_EQ(a.join.request.epoch, "k3f9a1");
}

TEST_F(AdmissionTest, AForeignEpochForgoesRecoveryInsteadOfRefusing) {
  for (const char* epoch : {"stale-Epoch_123", "ZZZ", "0123456789012345678901234567890123456789"}) {
    const Admission a = admit(upgrade(std::string("room=r&since=3&epoch=") + epoch));
    ASSERT_TRUE(a.admitted()) << epoch << ": " << a.reason;
    EXPECT_EQ(a.join.request.epoch, common::kForeignEpoch);
  }
}

TEST_F(AdmissionTest, RefusesBadRequestsWithTheirStatusAndCounter) {
  struct Case {
    HandshakeRequest request;
    unsigned status;
    std::optional<Refusal> counted;
  };
  HandshakeRequest wrongPath = upgrade();
  wrongPath.path = "/ws";
  HandshakeRequest noKey = upgrade();
  noKey.key.clear();
  HandshakeRequest oldVersion = upgrade();
  oldVersion.version = "8";
  HandshakeRequest unknownProtocol = upgrade();
  unknownProtocol.subprotocols = "mqtt";
  HandshakeRequest badOrigin = upgrade();
  badOrigin.origin = "https://evil.example";
  const std::vector<Case> cases = {
      {wrongPath, 404, std::nullopt},
      {noKey, 400, std::nullopt},
      {oldVersion, 400, std::nullopt},
      {unknownProtocol, 400, std::nullopt},
      {upgrade("room=a b"), 400, Refusal::kBadUpgrade},
      {upgrade("room=" + std::string(65, 'r')), 400, Refusal::kBadUpgrade},
      {upgrade("username=" + std::string(40, 'u')), 400, Refusal::kBadUpgrade},
      {upgrade("since=-1"), 400, Refusal::kBadUpgrade},
      {upgrade("since=abc"), 400, Refusal::kBadUpgrade},
      {badOrigin, 403, Refusal::kBadOrigin},
  };
  for (const Case& c : cases) {
    const Admission a = admit(c.request);
    EXPECT_EQ(a.status, c.status) << a.reason;
    EXPECT_EQ(a.counted, c.counted) << a.reason;
    EXPECT_FALSE(a.reason.empty());
  }
}

TEST_F(AdmissionTest, RefusesWhenNotReadyOrFull) {
  AdmissionState draining = open();
  draining.notReady = "draining";
  EXPECT_EQ(admit(upgrade(), draining).status, 503u);
  settings_.maxConnections = 2;
  AdmissionState full = open();
  full.connections = 2;
  EXPECT_EQ(admit(upgrade(), full).status, 503u);
  settings_.maxConnectionsPerIp = 3;
  AdmissionState crowded = open();
  crowded.connectionsFromPeer = 3;
  const Admission a = admit(upgrade(), crowded);
  EXPECT_EQ(a.status, 429u);
  EXPECT_EQ(a.counted, Refusal::kConnectionLimit);
}

TEST_F(AdmissionTest, VerifiesTheTokenOnceAndKeepsItsClaims) {
  settings_.authSecret = kSecret;
  EXPECT_EQ(admit(upgrade()).status, 401u);
  const std::string token = testing::makeToken({"carol", kNow + 60, {{"dev", "ops"}}}, kSecret);
  HandshakeRequest r = upgrade("room=dev&username=mallory&token=" + token);
  r.subprotocols = "chat.v1";
  const Admission a = admit(r);
  ASSERT_TRUE(a.admitted()) << a.reason;
  EXPECT_EQ(a.username, "carol") << "sub wins over ?username=";
  ASSERT_TRUE(a.allowedRooms);
  EXPECT_EQ(*a.allowedRooms, (std::vector<std::string>{"dev", "ops"}));
  const Admission other = admit(upgrade("room=lobby&token=" + token));
  EXPECT_EQ(other.status, 403u);
  EXPECT_EQ(other.counted, Refusal::kForbiddenRoom);
  const std::string expired = testing::makeToken({"carol", kNow - 3600, std::nullopt}, kSecret);
  EXPECT_EQ(admit(upgrade("token=" + expired)).status, 401u);
}

}  // namespace
}  // namespace chat::gateway
