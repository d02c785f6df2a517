// The token maker against published test vectors: base64url from RFC 4648
// section 10 (padding dropped), HMAC-SHA256 from RFC 4231 test case 2, and the
// HS256 JWS of RFC 7515 appendix A.1.

#include "jwt_maker.h"

#include <gtest/gtest.h>

namespace chat::testing {
namespace {

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

TEST(JwtMakerTest, Base64UrlHasNoPaddingAndTheUrlAlphabet) {
  EXPECT_EQ(base64UrlEncode(""), "");
  EXPECT_EQ(base64UrlEncode("f"), "Zg");
  EXPECT_EQ(base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64UrlEncode("\xfb\xff\xbf"), "-_-_");
}

TEST(JwtMakerTest, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(hex(hmac(JwtAlg::kHs256, "Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hmac(JwtAlg::kNone, "Jefe", "anything"), "");
}

TEST(JwtMakerTest, Hs256TokenMatchesRfc7515) {
  // RFC 7515 A.1: the key is the base64url-decoded "k" of its JWK.
  const std::string key = {
      '\x03', '\x23', '\x35', '\x4b', '\x2b', '\x0f', '\xa5', '\xbc', '\x83', '\x7e', '\x06',
      '\x65', '\x77', '\x7b', '\xa6', '\x8f', '\x5a', '\xb3', '\x28', '\xe6', '\xf0', '\x54',
      '\xc9', '\x28', '\xa9', '\x0f', '\x84', '\xb2', '\xd2', '\x50', '\x2e', '\xbf', '\xd3',
      '\xfb', '\x5a', '\x92', '\xd2', '\x06', '\x47', '\xef', '\x96', '\x8a', '\xb4', '\xc3',
      '\x77', '\x62', '\x3d', '\x22', '\x3d', '\x2e', '\x21', '\x72', '\x05', '\x2e', '\x4f',
      '\x08', '\xc0', '\xcd', '\x9a', '\xf5', '\x67', '\xd0', '\x80', '\xa3'};
  const std::string header = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
  const std::string payload =
      "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
  EXPECT_EQ(signJwt(header, payload, JwtAlg::kHs256, key),
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
            "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
            "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

TEST(JwtMakerTest, MakeTokenWritesSubExpAndRooms) {
  TokenSpec spec;
  spec.subject = "alice";
  spec.expiresAt = 2000000000;
  spec.rooms = std::vector<std::string>{"dev", "ops"};
  const std::string token = makeToken(spec, "0123456789abcdef");
  const auto firstDot = token.find('.');
  const auto secondDot = token.find('.', firstDot + 1);
  ASSERT_NE(secondDot, std::string::npos);
  EXPECT_EQ(token.substr(0, firstDot), base64UrlEncode("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"));
  EXPECT_EQ(token.substr(firstDot + 1, secondDot - firstDot - 1),
            base64UrlEncode("{\"sub\":\"alice\",\"exp\":2000000000,\"rooms\":[\"dev\",\"ops\"]}"));
  EXPECT_EQ(token.substr(secondDot + 1).size(), 43u) << "32 bytes of HMAC-SHA256, base64url";

  spec.alg = JwtAlg::kNone;
  const std::string unsignedToken = makeToken(spec, "0123456789abcdef");
  EXPECT_EQ(unsignedToken.back(), '.') << "alg none has an empty signature";
}

}  // namespace
}  // namespace chat::testing
