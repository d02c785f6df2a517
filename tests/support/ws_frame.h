#pragma once
// RFC 6455 framing as pure functions, so the test client's wire format is itself
// unit-tested: encode a frame (masked, as a client must), decode one from the
// front of a buffer, build and parse close payloads. Any thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::testing {

enum class WsOpcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

const char* describe(WsOpcode opcode);
bool isControl(WsOpcode opcode);

using MaskKey = std::array<std::uint8_t, 4>;

struct WsFrame {
  bool fin = true;
  std::uint8_t rsv = 0;  // RSV1..3 as the low three bits
  WsOpcode opcode = WsOpcode::kText;
  bool masked = false;
  std::string payload;  // unmasked
};

// Header and payload, the payload XORed with `mask` when one is given.
std::string encodeFrame(const WsFrame& frame, const std::optional<MaskKey>& mask);

enum class FrameDecodeStatus { kComplete, kNeedMore, kMalformed };

struct FrameDecodeResult {
  FrameDecodeStatus status = FrameDecodeStatus::kNeedMore;
  WsFrame frame;
  std::size_t consumed = 0;
  std::string error;  // why it is malformed
};

// Decodes the first frame of `input`. Checks what RFC 6455 makes the peer's
// fault: reserved opcodes, control frames that are fragmented or longer than
// 125 bytes, non-minimal lengths, payloads over `maxPayload`. Masking and RSV
// bits are reported, not judged (the caller knows which side it is).
FrameDecodeResult decodeFrame(std::string_view input, std::size_t maxPayload);

// Close frame payload: two bytes of code, then the UTF-8 reason.
std::string encodeClosePayload(std::uint16_t code, std::string_view reason);

struct CloseInfo {
  std::uint16_t code = 0;  // 1005 when the payload was empty, 1006 with no frame
  std::string reason;
};

// nullopt for a one-byte payload, which RFC 6455 forbids.
std::optional<CloseInfo> parseClosePayload(std::string_view payload);

}  // namespace chat::testing
