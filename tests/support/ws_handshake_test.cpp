#include "ws_handshake.h"

#include <gtest/gtest.h>

namespace chat::testing {
namespace {

TEST(WsHandshakeTest, AcceptKeyMatchesRfc6455Example) {
  EXPECT_EQ(computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsHandshakeTest, KeysAreSixteenRandomBytes) {
  std::string a = makeWebSocketKey();
  std::string b = makeWebSocketKey();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(a.substr(22), "==");
  EXPECT_NE(a, b);
}

TEST(WsHandshakeTest, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
}

TEST(WsHandshakeTest, PlainRequestOffersNoSubprotocol) {
  HandshakeRequest request{"127.0.0.1:9", "/websocket", "a2V5", {}, {}};
  std::string text = buildHandshakeRequest(request);
  EXPECT_EQ(text.rfind("GET /websocket HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(text.find("\r\nHost: 127.0.0.1:9\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nUpgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nSec-WebSocket-Key: a2V5\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_EQ(text.find("Sec-WebSocket-Protocol"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n");
}

TEST(WsHandshakeTest, RequestListsSubprotocolsAndExtraHeaders) {
  HandshakeRequest request{"h", "/", "k", {"chat.v1", "other"}, {{"Origin", "http://h"}}};
  std::string text = buildHandshakeRequest(request);
  EXPECT_NE(text.find("\r\nSec-WebSocket-Protocol: chat.v1, other\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nOrigin: http://h\r\n"), std::string::npos);
}

}  // namespace
}  // namespace chat::testing
