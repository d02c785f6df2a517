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

}  // namespace
}  // namespace chat::common
