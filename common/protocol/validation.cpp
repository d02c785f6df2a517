#include "protocol/validation.h"

#include "util/utf8.h"

namespace chat::common {
namespace {

bool isSpace(char32_t c) {
  switch (c) {
    case U' ':
    case U'\t':
    case U'\n':
    case U'\r':
    case U'\v':
    case U'\f':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
    case 0xFEFF:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200B;
  }
}

// C0, DEL and C1 controls.
bool isControl(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

}  // namespace

bool isValidRoomName(std::string_view room) {
  if (room.empty() || room.size() > kMaxRoomLength) return false;
  for (char c : room) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> normalizeRoom(std::string_view room) {
  if (room.empty()) return std::string(kDefaultRoom);
  if (!isValidRoomName(room)) return std::nullopt;
  return std::string(room);
}

std::string_view trimSpace(std::string_view s) {
  std::size_t begin = 0;
  std::size_t end = s.size();
  // Leading: decode forward until a non-space.
  while (begin < end) {
    std::size_t next = begin;
    if (!isSpace(decodeValidCodePoint(s, next))) break;
    begin = next;
  }
  // Trailing: step back to each code point's lead byte.
  while (end > begin) {
    std::size_t lead = end - 1;
    while (lead > begin && (static_cast<unsigned char>(s[lead]) & 0xC0) == 0x80)
      --lead;
    std::size_t pos = lead;
    if (!isSpace(decodeValidCodePoint(s, pos))) break;
    end = lead;
  }
  return s.substr(begin, end - begin);
}

bool isBlank(std::string_view s) {
  return trimSpace(s).empty();
}

UsernameCheck checkUsername(std::string_view raw) {
  if (!isValidUtf8(raw)) return {{}, Refusal::kInvalidUtf8};
  const std::string_view name = trimSpace(raw);
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < name.size(); ++count) {
    if (isControl(decodeValidCodePoint(name, pos))) return {{}, Refusal::kBadUsername};
  }
  if (count == 0 || count > kMaxUsernameCodePoints) return {{}, Refusal::kBadUsername};
  return {std::string(name), std::nullopt};
}

std::optional<Refusal> checkText(std::string_view text, std::size_t maxCodePoints) {
  const auto count = countCodePoints(text);
  if (!count) return Refusal::kInvalidUtf8;
  if (text.find('\0') != std::string_view::npos) return Refusal::kTextHasNul;
  if (*count > maxCodePoints) return Refusal::kTextTooLong;
  if (isBlank(text)) return Refusal::kEmptyText;
  return std::nullopt;
}

}  // namespace chat::common
