// Tokens (docs/protocol.md sections 5 and 10): HS256 with AUTH_SECRET, RS256 and
// ES256 with AUTH_PUBLIC_KEY, aud and iss, the 5 s leeway. Tokens are made by
// tests/support/jwt_maker (OpenSSL), not by the verifier's libjwt.
#include "auth/token_verifier.h"

#include <gtest/gtest.h>

#include "jwt_maker.h"

namespace chat::common {
namespace {

using testing::KeyKind;
using testing::KeyPair;

constexpr std::int64_t kNow = 1'800'000'000;

std::string payload(std::int64_t exp, const std::string& extra = {}) {
  return "{\"sub\":\"alice\",\"exp\":" + std::to_string(exp) + extra + "}";
}

class TokenVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new KeyPair(testing::generateKeyPair(KeyKind::kRsa));
    ec_ = new KeyPair(testing::generateKeyPair(KeyKind::kEc));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
  }
  static KeyPair* rsa_;
  static KeyPair* ec_;
};
KeyPair* TokenVerifierTest::rsa_ = nullptr;
KeyPair* TokenVerifierTest::ec_ = nullptr;

TEST_F(TokenVerifierTest, Rs256AndEs256TokensPassWithTheirPublicKey) {
  for (const auto& [pair, kind] : {std::pair{rsa_, KeyKind::kRsa}, std::pair{ec_, KeyKind::kEc}}) {
    const std::string token = testing::signJwtWithKey(payload(kNow + 60), *pair, kind);
    const TokenCheck check = verifyToken(token, TokenKeys{{}, pair->publicPem, {}, {}}, kNow);
    ASSERT_TRUE(check.claims) << check.error;
    EXPECT_EQ(check.claims->subject, "alice");
    EXPECT_EQ(check.claims->expiresAt, kNow + 60);
  }
}

TEST_F(TokenVerifierTest, AnotherKeysSignatureFails) {
  const KeyPair other = testing::generateKeyPair(KeyKind::kEc);
  const std::string token = testing::signJwtWithKey(payload(kNow + 60), other, KeyKind::kEc);
  EXPECT_FALSE(verifyToken(token, TokenKeys{{}, ec_->publicPem, {}, {}}, kNow).claims);
  // An RSA token against an EC key.
  const std::string rsaToken = testing::signJwtWithKey(payload(kNow + 60), *rsa_, KeyKind::kRsa);
  EXPECT_FALSE(verifyToken(rsaToken, TokenKeys{{}, ec_->publicPem, {}, {}}, kNow).claims);
}

TEST_F(TokenVerifierTest, TheAlgNeedsItsKey) {
  // RS256 with only a secret configured.
  const std::string rsaToken = testing::signJwtWithKey(payload(kNow + 60), *rsa_, KeyKind::kRsa);
  const TokenCheck noKey = verifyToken(rsaToken, TokenKeys{"secret-0123456789", {}, {}, {}}, kNow);
  EXPECT_FALSE(noKey.claims);
  EXPECT_NE(noKey.error.find("HS256"), std::string::npos) << noKey.error;
  // Alg confusion: HS256 "signed" with the public key's PEM as the secret.
  const std::string forged =
      testing::signJwt("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload(kNow + 60),
                       testing::JwtAlg::kHs256, rsa_->publicPem);
  EXPECT_FALSE(verifyToken(forged, TokenKeys{{}, rsa_->publicPem, {}, {}}, kNow).claims);
  // Both configured: each alg with its own key.
  const TokenKeys both{"secret-0123456789", rsa_->publicPem, {}, {}};
  EXPECT_TRUE(verifyToken(rsaToken, both, kNow).claims);
  EXPECT_TRUE(
      verifyToken(testing::makeToken({"bob", kNow + 60, std::nullopt, testing::JwtAlg::kHs256},
                                     "secret-0123456789"),
                  both, kNow)
          .claims);
  EXPECT_FALSE(verifyToken(forged, both, kNow).claims);
}

TEST_F(TokenVerifierTest, AudienceAndIssuerMustMatchWhenSet) {
  const TokenKeys keys{{}, ec_->publicPem, "chat", "https://login.example"};
  const auto check = [&](const std::string& extra) {
    return verifyToken(testing::signJwtWithKey(payload(kNow + 60, extra), *ec_, KeyKind::kEc), keys,
                       kNow);
  };
  EXPECT_TRUE(check(R"(,"aud":"chat","iss":"https://login.example")").claims);
  EXPECT_TRUE(check(R"(,"aud":["web","chat"],"iss":"https://login.example")").claims);
  EXPECT_FALSE(check(R"(,"aud":"web","iss":"https://login.example")").claims);
  EXPECT_FALSE(check(R"(,"aud":["web"],"iss":"https://login.example")").claims);
  EXPECT_FALSE(check(R"(,"iss":"https://login.example")").claims) << "no aud";
  EXPECT_FALSE(check(R"(,"aud":"chat")").claims) << "no iss";
  EXPECT_FALSE(check(R"(,"aud":"chat","iss":"https://evil.example")").claims);
}

TEST_F(TokenVerifierTest, LeewayIsFiveSeconds) {
  const TokenKeys keys{{}, ec_->publicPem, {}, {}};
  EXPECT_TRUE(
      verifyToken(testing::signJwtWithKey(payload(kNow - 4), *ec_, KeyKind::kEc), keys, kNow)
          .claims);
  EXPECT_FALSE(
      verifyToken(testing::signJwtWithKey(payload(kNow - 6), *ec_, KeyKind::kEc), keys, kNow)
          .claims);
  EXPECT_FALSE(verifyToken(testing::signJwtWithKey(
                               payload(kNow + 60, ",\"nbf\":" + std::to_string(kNow + 6)), *ec_,
                               KeyKind::kEc),
                           keys, kNow)
                   .claims);
}

TEST_F(TokenVerifierTest, TokensAreRequiredWhenAnyKeyOrCheckIsSet) {
  EXPECT_FALSE(TokenKeys{}.required());
  EXPECT_TRUE((TokenKeys{{}, {}, "chat", {}}.required()));
  EXPECT_TRUE((TokenKeys{{}, "pem", {}, {}}.required()));
}

TEST_F(TokenVerifierTest, PublicKeysAreRsaOrP256) {
  EXPECT_EQ(checkPublicKey(rsa_->publicPem), "");
  EXPECT_EQ(checkPublicKey(ec_->publicPem), "");
  EXPECT_NE(checkPublicKey("not a key"), "");
  EXPECT_NE(checkPublicKey(rsa_->privatePem), "") << "a private key is not what is asked for";
}

// AUTH_JWKS_URL's document: RSA and EC P-256 signing keys by kid; keys of
// other kinds, for encryption or too weak are skipped and said so.
TEST_F(TokenVerifierTest, AKeySetYieldsItsSigningKeysByKid) {
  const KeyPair weak{{},
                     "-----BEGIN PUBLIC KEY-----\n"
                     "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMn8Sk0Nk3o3lJkFDbXlZsR2wYq5TF8W\n"
                     "4ouH2Z9Tn9ycKwM05h3oKoBo2d1GqWJw3sJHVEnnS3DPp0hGZWU3PTECAwEAAQ==\n"
                     "-----END PUBLIC KEY-----\n"};
  const std::string set = R"({"keys":[)" + testing::publicJwk(*rsa_, KeyKind::kRsa, "r1") + "," +
                          testing::publicJwk(*ec_, KeyKind::kEc, "e1") +
                          R"(,{"kty":"oct","kid":"h1","k":"c2VjcmV0"},)" +
                          R"({"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},)" +
                          testing::publicJwk(weak, KeyKind::kRsa, "weak") + "]}";
  const JwksParse parsed = parseJwks(set);
  ASSERT_TRUE(parsed.keys) << parsed.error;
  EXPECT_EQ(parsed.keys->size(), 2u) << parsed.error;
  EXPECT_EQ(parsed.keys->count("r1"), 1u);
  EXPECT_EQ(parsed.keys->count("e1"), 1u);
  EXPECT_EQ(parsed.keys->at("r1").alg, "RS256");
  EXPECT_NE(parsed.error.find("\"h1\""), std::string::npos) << parsed.error;
  EXPECT_NE(parsed.error.find("\"weak\": an RSA key must have at least 2048 bits"),
            std::string::npos)
      << parsed.error;
  for (const std::string_view bad : {"", "[]", R"({"keys":{}})", "{\"keys\":[", "null"})
    EXPECT_FALSE(parseJwks(bad).keys) << bad;
}

TEST_F(TokenVerifierTest, KeySetTokensAreCheckedWithTheKeyTheirKidNames) {
  auto ring = std::make_shared<JwksKeyRing>();
  int refetches = 0;
  ring->refetch = [&](const std::function<void()>&) { ++refetches; };
  TokenKeys keys;
  keys.jwks = ring;
  EXPECT_TRUE(keys.required());
  const std::string rsaToken =
      testing::signJwtWithKey(payload(kNow + 60), *rsa_, KeyKind::kRsa, "r1");
  const TokenCheck before = verifyToken(rsaToken, keys, kNow);
  EXPECT_TRUE(before.unknownKey);
  EXPECT_EQ(before.error, "the key set is not loaded yet");
  EXPECT_EQ(refetches, 1);

  ring->keys = *parseJwks(R"({"keys":[)" + testing::publicJwk(*rsa_, KeyKind::kRsa, "r1") + "," +
                          testing::publicJwk(*ec_, KeyKind::kEc, "e1") + "]}")
                    .keys;
  ring->loaded = true;
  EXPECT_TRUE(verifyToken(rsaToken, keys, kNow).claims);
  EXPECT_TRUE(
      verifyToken(testing::signJwtWithKey(payload(kNow + 60), *ec_, KeyKind::kEc, "e1"), keys, kNow)
          .claims);
  // A kid the set lacks: unknown (fetch again); a kid naming another key: bad signature.
  const TokenCheck rotated = verifyToken(
      testing::signJwtWithKey(payload(kNow + 60), *rsa_, KeyKind::kRsa, "r2"), keys, kNow);
  EXPECT_FALSE(rotated.claims);
  EXPECT_TRUE(rotated.unknownKey);
  EXPECT_EQ(rotated.error, "token kid \"r2\" is not in the key set");
  EXPECT_EQ(refetches, 2);
  const TokenCheck wrongKey = verifyToken(
      testing::signJwtWithKey(payload(kNow + 60), *ec_, KeyKind::kEc, "r1"), keys, kNow);
  EXPECT_FALSE(wrongKey.claims);
  EXPECT_FALSE(wrongKey.unknownKey);
  // Without a kid: the set's only key, and no guess among several.
  EXPECT_FALSE(
      verifyToken(testing::signJwtWithKey(payload(kNow + 60), *rsa_, KeyKind::kRsa), keys, kNow)
          .claims);
  ring->keys.erase("e1");
  EXPECT_TRUE(
      verifyToken(testing::signJwtWithKey(payload(kNow + 60), *rsa_, KeyKind::kRsa), keys, kNow)
          .claims);
  // The HS256 secret is never the key set's business.
  EXPECT_FALSE(
      verifyToken(testing::makeToken({"alice", kNow + 60, {}}, "secret-0123456789"), keys, kNow)
          .claims);
}

}  // namespace
}  // namespace chat::common
