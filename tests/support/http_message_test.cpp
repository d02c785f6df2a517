#include "http_message.h"

#include <gtest/gtest.h>

namespace chat::testing {
namespace {

TEST(HttpMessageTest, ParsesStatusAndLowercasesHeaderNames) {
  auto response = parseResponseHead(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept:  abc= \r\n"
      "X-A: 1\r\nx-a: 2");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 101);
  EXPECT_EQ(response->reason, "Switching Protocols");
  EXPECT_EQ(response->header("upgrade"), "websocket");
  EXPECT_EQ(response->header("Sec-WebSocket-Accept"), "abc=");
  EXPECT_EQ(response->header("x-a"), "1, 2");
  EXPECT_EQ(response->header("missing"), "");
}

TEST(HttpMessageTest, StatusWithoutReason) {
  auto response = parseResponseHead("HTTP/1.0 404");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
}

TEST(HttpMessageTest, RejectsNonHttp) {
  EXPECT_FALSE(parseResponseHead("SSH-2.0-OpenSSH"));
  EXPECT_FALSE(parseResponseHead("HTTP/1.1 abc x"));
  EXPECT_FALSE(parseResponseHead("HTTP/1.1 200 OK\r\nno colon here"));
}

TEST(HttpMessageTest, DecodesChunkedBodies) {
  EXPECT_EQ(decodeChunked("5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\n\r\n"), "hello!");
  EXPECT_EQ(decodeChunked("0\r\n\r\n"), "");
  EXPECT_FALSE(decodeChunked("5\r\nhel"));
  EXPECT_FALSE(decodeChunked("zz\r\n"));
}

}  // namespace
}  // namespace chat::testing
