#include "ws_frame.h"

namespace chat::testing {

const char* describe(WsOpcode opcode) {
  switch (opcode) {
    case WsOpcode::kContinuation:
      return "continuation";
    case WsOpcode::kText:
      return "text";
    case WsOpcode::kBinary:
      return "binary";
    case WsOpcode::kClose:
      return "close";
    case WsOpcode::kPing:
      return "ping";
    case WsOpcode::kPong:
      return "pong";
  }
  return "reserved";
}

bool isControl(WsOpcode opcode) {
  return (static_cast<std::uint8_t>(opcode) & 0x8) != 0;
}

std::string encodeFrame(const WsFrame& frame, const std::optional<MaskKey>& mask) {
  std::string out;
  out.push_back(static_cast<char>((frame.fin ? 0x80 : 0x00) | ((frame.rsv & 0x7) << 4) |
                                  (static_cast<std::uint8_t>(frame.opcode) & 0x0F)));
  std::uint8_t maskBit = mask ? 0x80 : 0x00;
  std::size_t length = frame.payload.size();
  if (length < 126) {
    out.push_back(static_cast<char>(maskBit | length));
  } else if (length <= 0xFFFF) {
    out.push_back(static_cast<char>(maskBit | 126));
    out.push_back(static_cast<char>((length >> 8) & 0xFF));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(maskBit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(length) >> shift) & 0xFF));
    }
  }
  if (!mask) return out + frame.payload;
  for (std::uint8_t byte : *mask)
    out.push_back(static_cast<char>(byte));
  for (std::size_t i = 0; i < length; ++i) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(frame.payload[i]) ^ (*mask)[i % 4]));
  }
  return out;
}

FrameDecodeResult decodeFrame(std::string_view input, std::size_t maxPayload) {
  FrameDecodeResult result;
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(input[i]); };
  auto malformed = [&](std::string why) {
    result.status = FrameDecodeStatus::kMalformed;
    result.error = std::move(why);
    return result;
  };
  if (input.size() < 2) return result;
  WsFrame& frame = result.frame;
  frame.fin = (byte(0) & 0x80) != 0;
  frame.rsv = static_cast<std::uint8_t>((byte(0) >> 4) & 0x7);
  std::uint8_t opcode = byte(0) & 0x0F;
  if ((opcode > 0x2 && opcode < 0x8) || opcode > 0xA) {
    return malformed("reserved opcode " + std::to_string(opcode));
  }
  frame.opcode = static_cast<WsOpcode>(opcode);
  frame.masked = (byte(1) & 0x80) != 0;
  std::uint64_t length = byte(1) & 0x7F;
  std::size_t pos = 2;
  if (length == 126) {
    if (input.size() < 4) return result;
    length = (std::uint64_t{byte(2)} << 8) | byte(3);
    if (length < 126) return malformed("non-minimal 16-bit length");
    pos = 4;
  } else if (length == 127) {
    if (input.size() < 10) return result;
    length = 0;
    for (std::size_t i = 2; i < 10; ++i)
      length = (length << 8) | byte(i);
    if ((length >> 63) != 0) return malformed("64-bit length with the top bit set");
    if (length <= 0xFFFF) return malformed("non-minimal 64-bit length");
    pos = 10;
  }
  if (isControl(frame.opcode)) {
    if (!frame.fin) return malformed("fragmented control frame");
    if (length > 125) return malformed("control frame longer than 125 bytes");
  }
  if (length > maxPayload) return malformed("payload of " + std::to_string(length) + " bytes");
  MaskKey mask{};
  if (frame.masked) {
    if (input.size() < pos + 4) return result;
    for (std::size_t i = 0; i < 4; ++i)
      mask[i] = byte(pos + i);
    pos += 4;
  }
  auto size = static_cast<std::size_t>(length);
  if (input.size() < pos + size) return result;
  frame.payload.assign(input.substr(pos, size));
  if (frame.masked) {
    for (std::size_t i = 0; i < size; ++i) {
      frame.payload[i] =
          static_cast<char>(static_cast<std::uint8_t>(frame.payload[i]) ^ mask[i % 4]);
    }
  }
  result.status = FrameDecodeStatus::kComplete;
  result.consumed = pos + size;
  return result;
}

std::string encodeClosePayload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>((code >> 8) & 0xFF));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
  return out;
}

std::optional<CloseInfo> parseClosePayload(std::string_view payload) {
  CloseInfo info;
  if (payload.empty()) {
    info.code = 1005;
    return info;
  }
  if (payload.size() == 1) return std::nullopt;
  info.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                         static_cast<std::uint8_t>(payload[1]));
  info.reason.assign(payload.substr(2));
  return info;
}

}  // namespace chat::testing
