// The RequestGate's decisions from a request's first bytes: NUL in the URL,
// chunked bodies, heads still arriving; and the chunked-body decoder.
#include "http/request_head.h"

#include <gtest/gtest.h>

namespace chat::gateway {
namespace {

using Kind = HeadVerdict::Kind;

TEST(InspectHeadTest, PassesOrdinaryRequestsOnceTheirHeadIsComplete) {
  EXPECT_EQ(inspectHead("GET /websocket?room=lobby HTTP/1.1\r\nHost: a\r\n").kind, Kind::kNeedMore);
  const auto v = inspectHead("GET /websocket?room=lobby HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(v.kind, Kind::kPass);
  EXPECT_EQ(inspectHead("POST /api/rooms/a/messages HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}").kind,
            Kind::kPass);
  EXPECT_EQ(inspectHead(std::string(kMaxInspectedHead, 'x')).kind, Kind::kPass);
}

TEST(InspectHeadTest, RefusesANulInTheUrlFromTheRequestLineAlone) {
  const auto ws = inspectHead("GET /websocket?room=a%00b HTTP/1.1\r\n");
  EXPECT_EQ(ws.kind, Kind::kRefuse);
  EXPECT_EQ(ws.status, 400u);
  EXPECT_NE(ws.reason.find("bad room name"), std::string::npos);
  EXPECT_EQ(inspectHead("GET /x%00y HTTP/1.1\r\n\r\n").status, 400u);
  // %00 in a header is not the URL's business.
  EXPECT_EQ(inspectHead("GET / HTTP/1.1\r\nX-A: %00\r\n\r\n").kind, Kind::kPass);
}

TEST(InspectHeadTest, FindsChunkedBodiesAndRefusesOtherCodings) {
  const std::string head =
      "POST /api/rooms/a/messages HTTP/1.1\r\ntransfer-encoding:  Chunked\r\n\r\n";
  const auto v = inspectHead(head + "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(v.kind, Kind::kDechunk);
  EXPECT_EQ(v.headBytes, head.size());
  EXPECT_EQ(inspectHead("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").status, 501u);
}

TEST(ChunkedBodyTest, DecodesChunksArrivingInPieces) {
  ChunkedBody body(100);
  std::string input = "5;ext=1\r\nhel";
  EXPECT_EQ(body.feed(input), ChunkedBody::State::kMore);
  input += "lo\r\n6\r\n world\r";
  EXPECT_EQ(body.feed(input), ChunkedBody::State::kMore);
  input += "\n0\r\nTrailer: x\r\n\r\nGET /next";
  EXPECT_EQ(body.feed(input), ChunkedBody::State::kDone);
  EXPECT_EQ(body.body(), "hello world");
  EXPECT_EQ(input, "GET /next");
}

TEST(ChunkedBodyTest, RefusesBodiesOverTheCapAndMalformedFraming) {
  ChunkedBody small(4);
  std::string big = "5\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(small.feed(big), ChunkedBody::State::kTooLarge);
  ChunkedBody bad(100);
  std::string notHex = "zz\r\n";
  EXPECT_EQ(bad.feed(notHex), ChunkedBody::State::kMalformed);
  ChunkedBody noCrlf(100);
  std::string missing = "2\r\nabXY\r\n";
  EXPECT_EQ(noCrlf.feed(missing), ChunkedBody::State::kMalformed);
}

TEST(BufferedRequestTest, TakesMethodPathAndAuthorization) {
  const auto r = bufferedRequest(
      "POST /api/rooms/a/messages?x=1 HTTP/1.1\r\nauthorization: Bearer k\r\n\r\n", "{}");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/rooms/a/messages");
  EXPECT_EQ(r.authorization, "Bearer k");
  EXPECT_EQ(r.body, "{}");
}

}  // namespace
}  // namespace chat::gateway
