#include "ws_frame.h"

#include <gtest/gtest.h>

namespace chat::testing {
namespace {

constexpr std::size_t kMax = 1 << 20;

TEST(WsFrameTest, EncodesAnUnmaskedShortTextFrameAsInRfc6455) {
  // RFC 6455 5.7: a single-frame unmasked text message "Hello".
  std::string wire = encodeFrame(WsFrame{true, 0, WsOpcode::kText, false, "Hello"}, std::nullopt);
  EXPECT_EQ(wire, std::string("\x81\x05Hello", 7));
}

TEST(WsFrameTest, EncodesAMaskedShortTextFrameAsInRfc6455) {
  // RFC 6455 5.7: a single-frame masked text message "Hello".
  MaskKey mask{0x37, 0xfa, 0x21, 0x3d};
  std::string wire = encodeFrame(WsFrame{true, 0, WsOpcode::kText, true, "Hello"}, mask);
  EXPECT_EQ(wire, std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
}

TEST(WsFrameTest, DecodesWhatItEncodesAtEveryLengthForm) {
  for (std::size_t length : {0u, 1u, 125u, 126u, 65535u, 65536u, 100000u}) {
    std::string payload(length, 'x');
    for (std::size_t i = 0; i < length; ++i)
      payload[i] = static_cast<char>(i * 7);
    for (bool masked : {false, true}) {
      std::optional<MaskKey> mask;
      if (masked) mask = MaskKey{1, 2, 3, 4};
      std::string wire = encodeFrame(WsFrame{true, 0, WsOpcode::kBinary, masked, payload}, mask);
      FrameDecodeResult decoded = decodeFrame(wire, kMax);
      ASSERT_EQ(decoded.status, FrameDecodeStatus::kComplete) << length << " " << decoded.error;
      EXPECT_EQ(decoded.consumed, wire.size());
      EXPECT_EQ(decoded.frame.masked, masked);
      EXPECT_EQ(decoded.frame.opcode, WsOpcode::kBinary);
      EXPECT_EQ(decoded.frame.payload, payload) << length;
    }
  }
}

TEST(WsFrameTest, NeedsMoreForEveryTruncation) {
  std::string wire = encodeFrame(WsFrame{true, 0, WsOpcode::kText, true, std::string(300, 'a')},
                                 MaskKey{9, 8, 7, 6});
  for (std::size_t cut = 0; cut < wire.size(); ++cut) {
    EXPECT_EQ(decodeFrame(std::string_view(wire).substr(0, cut), kMax).status,
              FrameDecodeStatus::kNeedMore)
        << cut;
  }
}

TEST(WsFrameTest, DecodesOnlyTheFirstOfTwoFrames) {
  std::string wire =
      encodeFrame(WsFrame{false, 0, WsOpcode::kText, false, "ab"}, std::nullopt) +
      encodeFrame(WsFrame{true, 0, WsOpcode::kContinuation, false, "c"}, std::nullopt);
  FrameDecodeResult first = decodeFrame(wire, kMax);
  ASSERT_EQ(first.status, FrameDecodeStatus::kComplete);
  EXPECT_FALSE(first.frame.fin);
  EXPECT_EQ(first.frame.payload, "ab");
  FrameDecodeResult second = decodeFrame(std::string_view(wire).substr(first.consumed), kMax);
  ASSERT_EQ(second.status, FrameDecodeStatus::kComplete);
  EXPECT_TRUE(second.frame.fin);
  EXPECT_EQ(second.frame.opcode, WsOpcode::kContinuation);
  EXPECT_EQ(second.frame.payload, "c");
}

TEST(WsFrameTest, RejectsWhatRfc6455Forbids) {
  EXPECT_EQ(decodeFrame(std::string("\x83\x00", 2), kMax).status, FrameDecodeStatus::kMalformed)
      << "reserved opcode";
  EXPECT_EQ(decodeFrame(std::string("\x09\x00", 2), kMax).status, FrameDecodeStatus::kMalformed)
      << "fragmented ping";
  EXPECT_EQ(decodeFrame(std::string("\x89\x7e\x00\x7e", 4), kMax).status,
            FrameDecodeStatus::kMalformed)
      << "ping over 125 bytes";
  EXPECT_EQ(decodeFrame(std::string("\x81\x7e\x00\x05", 4), kMax).status,
            FrameDecodeStatus::kMalformed)
      << "non-minimal length";
  EXPECT_EQ(decodeFrame(std::string("\x82\x7e\x01\x00", 4), 255).status,
            FrameDecodeStatus::kMalformed)
      << "over the payload limit";
}

TEST(WsFrameTest, ReportsRsvBits) {
  FrameDecodeResult decoded = decodeFrame(std::string("\xc1\x00", 2), kMax);
  ASSERT_EQ(decoded.status, FrameDecodeStatus::kComplete);
  EXPECT_EQ(decoded.frame.rsv, 4);
}

TEST(WsFrameTest, ClosePayloadRoundTrips) {
  std::string payload = encodeClosePayload(1007, "invalid JSON");
  EXPECT_EQ(payload.substr(0, 2), std::string("\x03\xef", 2));
  std::optional<CloseInfo> info = parseClosePayload(payload);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->code, 1007);
  EXPECT_EQ(info->reason, "invalid JSON");
}

TEST(WsFrameTest, EmptyClosePayloadMeansNoStatus) {
  std::optional<CloseInfo> info = parseClosePayload("");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->code, 1005);
  EXPECT_FALSE(parseClosePayload("x"));
}

}  // namespace
}  // namespace chat::testing
