#include <gtest/gtest.h>

#include "lg_codec.h"
#include "lg_net.h"
#include "ws_frame.h"
#include "ws_handshake.h"

namespace chat::load {
namespace {

using chat::testing::decodeFrame;
using chat::testing::FrameDecodeStatus;
using chat::testing::WsOpcode;

TEST(Framing, MaskedFramesDecodeWithTheHarnessDecoder) {
  for (std::size_t size : {0u, 5u, 125u, 126u, 4000u, 65535u, 65536u, 100000u}) {
    const std::string payload(size, 'q');
    std::string wire;
    appendMaskedFrame(wire, 0x1, payload, 0xA1B2C3D4u);
    const auto decoded = decodeFrame(wire, 1 << 20);
    ASSERT_EQ(decoded.status, FrameDecodeStatus::kComplete) << size << " " << decoded.error;
    EXPECT_TRUE(decoded.frame.masked);
    EXPECT_TRUE(decoded.frame.fin);
    EXPECT_EQ(decoded.frame.opcode, WsOpcode::kText);
    EXPECT_EQ(decoded.frame.payload, payload);
    EXPECT_EQ(decoded.consumed, wire.size());
  }
}

TEST(Framing, ParsesServerFramesOfEveryLengthEncoding) {
  for (std::size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u}) {
    chat::testing::WsFrame f;
    f.payload = std::string(size, 'z');
    const std::string wire = chat::testing::encodeFrame(f, std::nullopt) + "tail";
    ServerFrame frame;
    ASSERT_EQ(parseServerFrame(wire, 1 << 20, frame), FrameStatus::kFrame) << size;
    EXPECT_EQ(frame.opcode, 0x1);
    EXPECT_TRUE(frame.fin);
    EXPECT_EQ(frame.payload.size(), size);
    EXPECT_EQ(frame.consumed, wire.size() - 4);
    // every strict prefix needs more
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, wire.size() - 5}) {
      ServerFrame partial;
      EXPECT_EQ(parseServerFrame(std::string_view(wire).substr(0, cut), 1 << 20, partial),
                FrameStatus::kNeedMore)
          << size << " cut " << cut;
    }
  }
}

TEST(Framing, RejectsMaskedServerFramesReservedOpcodesAndHugePayloads) {
  std::string masked;
  appendMaskedFrame(masked, 0x1, "hi", 1);
  ServerFrame frame;
  EXPECT_EQ(parseServerFrame(masked, 1 << 20, frame), FrameStatus::kError);
  EXPECT_EQ(parseServerFrame(std::string("\x83\x00", 2), 1 << 20, frame), FrameStatus::kError);
  chat::testing::WsFrame big;
  big.payload = std::string(1000, 'a');
  EXPECT_EQ(parseServerFrame(chat::testing::encodeFrame(big, std::nullopt), 999, frame),
            FrameStatus::kError);
}

TEST(Framing, ControlAndContinuationFramesAreReported) {
  chat::testing::WsFrame ping;
  ping.opcode = WsOpcode::kPing;
  ping.payload = "p";
  chat::testing::WsFrame first;
  first.fin = false;
  first.payload = "ab";
  ServerFrame frame;
  ASSERT_EQ(parseServerFrame(chat::testing::encodeFrame(ping, std::nullopt), 100, frame),
            FrameStatus::kFrame);
  EXPECT_EQ(frame.opcode, 0x9);
  ASSERT_EQ(parseServerFrame(chat::testing::encodeFrame(first, std::nullopt), 100, frame),
            FrameStatus::kFrame);
  EXPECT_FALSE(frame.fin);
}

TEST(Handshake, AcceptsTheRightAnswer) {
  const std::string key = chat::testing::makeWebSocketKey();
  const std::string accept = chat::testing::computeAcceptKey(key);
  const std::string answer =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "sec-websocket-accept: " +
      accept + "\r\nSec-WebSocket-Protocol: chat.v1\r\n\r\n\x81\x02hi";
  auto r = checkHandshakeResponse(answer, accept, true);
  EXPECT_EQ(r.status, HandshakeStatus::kAccepted) << r.statusLine;
  EXPECT_EQ(answer.substr(r.headerBytes), "\x81\x02hi");
  // the same answer is fine for a plain client only without the subprotocol
  const std::string plain =
      "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n";
  EXPECT_EQ(checkHandshakeResponse(plain, accept, false).status, HandshakeStatus::kAccepted);
  EXPECT_EQ(checkHandshakeResponse(plain, accept, true).status, HandshakeStatus::kRefused);
}

TEST(Handshake, RefusalsAndPartialAnswers) {
  EXPECT_EQ(checkHandshakeResponse("HTTP/1.1 101 Switching", "x", false).status,
            HandshakeStatus::kNeedMore);
  const auto r =
      checkHandshakeResponse("HTTP/1.1 503 Service Unavailable\r\nA: b\r\n\r\n", "x", false);
  EXPECT_EQ(r.status, HandshakeStatus::kRefused);
  EXPECT_EQ(r.statusLine, "HTTP/1.1 503 Service Unavailable");
  EXPECT_EQ(checkHandshakeResponse("HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: wrong\r\n\r\n",
                                   "right", false)
                .status,
            HandshakeStatus::kRefused);
}

TEST(Handshake, RequestTargetEscapesQueryValues) {
  EXPECT_EQ(requestTarget("/websocket", "lobby"), "/websocket?room=lobby");
  EXPECT_EQ(requestTarget("/websocket", "r-1", "a b", "42", "k3f9"),
            "/websocket?room=r-1&username=a%20b&since=42&epoch=k3f9");
}

TEST(Dialects, ClientFrames) {
  std::string plain, v1;
  appendPlainMessage(plain, "alice", "hi there");
  EXPECT_EQ(plain, R"({"username":"alice","text":"hi there"})");
  appendV1Message(v1, "hi", "p7");
  EXPECT_EQ(v1, R"({"type":"message","text":"hi","ref":"p7"})");
  EXPECT_EQ(parseDialect("v1"), Dialect::kV1);
  EXPECT_EQ(parseDialect("plain"), Dialect::kPlain);
  EXPECT_FALSE(parseDialect("socketio").has_value());
}

TEST(Dialects, FieldsOfAGatewayMessageFrame) {
  const std::string_view frame =
      R"({"type":"message","room":"lobby","epoch":"k3f9a1","id":42,"ts":1764028800123,)"
      R"("username":"alice","text":"b run 3 17 99 xx"})";
  EXPECT_EQ(stringField(frame, "type"), "message");
  EXPECT_EQ(uintField(frame, "id"), 42u);
  EXPECT_EQ(uintField(frame, "ts"), 1764028800123u);
  EXPECT_EQ(stringField(frame, "text"), "b run 3 17 99 xx");
  EXPECT_EQ(stringField(frame, "epoch"), "k3f9a1");
  EXPECT_FALSE(stringField(frame, "missing").has_value());
  EXPECT_FALSE(uintField(frame, "room").has_value());  // a string, not a number
}

TEST(Dialects, PeerFramesHaveStringIds) {
  const std::string_view frame =
      R"({"type":"message","id":"ab12-7","room":"r","username":"u","text":"t","ts":1})";
  EXPECT_FALSE(uintField(frame, "id").has_value());
  EXPECT_EQ(stringField(frame, "text"), "t");
}

TEST(Dialects, KeysInsideValuesAreNotFields) {
  // "text" appears as a value before the real key, and an escaped quote inside
  const std::string_view frame = R"({"username":"text","note":"a \"id\":9","text":"x\"y","id":3})";
  EXPECT_EQ(stringField(frame, "text"), R"(x\"y)");
  EXPECT_EQ(uintField(frame, "id"), 3u);
}

TEST(Dialects, V1FramesOfABatchAndTheirFields) {
  const std::string payload =
      R"({"type":"ack","ref":"p3","id":43,"ts":1})"
      "\n"
      R"({"type":"joined","room":"lobby","epoch":"e1","last_id":42,"recovered":true,"presence":[]})"
      "\n"
      R"({"type":"welcome","conn":"c","username":"u","gateway":"g"})";
  std::vector<std::string> types;
  forEachLine(payload,
              [&](std::string_view line) { types.emplace_back(*stringField(line, "type")); });
  EXPECT_EQ(types, (std::vector<std::string>{"ack", "joined", "welcome"}));
  forEachLine(payload, [&](std::string_view line) {
    if (stringField(line, "type") == "joined") {
      EXPECT_EQ(boolField(line, "recovered"), true);
      EXPECT_EQ(uintField(line, "last_id"), 42u);
    }
    if (stringField(line, "type") == "ack") {
      EXPECT_EQ(stringField(line, "ref"), "p3");
    }
  });
  EXPECT_EQ(boolField(R"({"recovered":false})", "recovered"), false);
  EXPECT_FALSE(boolField(R"({"x":1})", "recovered").has_value());
  int n = 0;
  forEachLine("", [&](std::string_view) { ++n; });
  forEachLine("\n\n", [&](std::string_view) { ++n; });
  EXPECT_EQ(n, 0);
}

TEST(BenchText, RoundTripsAndHasTheRequestedSize) {
  std::string text;
  appendBenchText(text, "ab12", 3, 17, 123456789, 64);
  EXPECT_EQ(text.size(), 64u);
  EXPECT_EQ(text.rfind("b ab12 3 17 123456789 x", 0), 0u);
  const BenchText b = parseBenchText(text, "ab12");
  EXPECT_EQ(b.kind, 'b');
  EXPECT_EQ(b.publisher, 3u);
  EXPECT_EQ(b.seq, 17);
  EXPECT_EQ(b.sendNs, 123456789);
  std::string sync;
  appendSyncText(sync, "ab12", 5);
  const BenchText s = parseBenchText(sync, "ab12");
  EXPECT_EQ(s.kind, 's');
  EXPECT_EQ(s.seq, 5);
}

TEST(BenchText, ForeignTextsAreNotOurs) {
  EXPECT_EQ(parseBenchText("hello", "ab12").kind, 0);
  EXPECT_EQ(parseBenchText("b zz99 1 2 3 x", "ab12").kind, 0);  // another run
  EXPECT_EQ(parseBenchText("b ab12 x 2 3", "ab12").kind, 0);
  EXPECT_EQ(parseBenchText("b ab12 1 2", "ab12").kind, 0);  // no send time
  EXPECT_EQ(parseBenchText("", "ab12").kind, 0);
}

TEST(Targets, LoopbackOnly) {
  EXPECT_TRUE(parseTarget("127.0.0.1:8080").has_value());
  EXPECT_TRUE(parseTarget("localhost:1").has_value());
  EXPECT_TRUE(parseTarget("127.0.0.9:65535").has_value());
  EXPECT_FALSE(parseTarget("10.0.0.1:8080").has_value());
  EXPECT_FALSE(parseTarget("8.8.8.8:53").has_value());
  EXPECT_FALSE(parseTarget("127.0.0.1:0").has_value());
  EXPECT_FALSE(parseTarget("127.0.0.1").has_value());
  EXPECT_TRUE(loopbackSource(3).has_value());
  EXPECT_FALSE(loopbackSource(0).has_value());
}

}  // namespace
}  // namespace chat::load
