#pragma once
// The field rules of docs/protocol.md section 3: room names, usernames and message
// texts. Pure functions over untrusted input, any thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/refusal.h"

namespace chat::common {

inline constexpr std::string_view kDefaultRoom = "lobby";
inline constexpr std::size_t kMaxRoomLength = 64;
inline constexpr std::size_t kMaxUsernameCodePoints = 32;
inline constexpr std::size_t kDefaultMaxTextCodePoints = 2000;

// 1-64 characters of A-Z a-z 0-9 _ . -
bool isValidRoomName(std::string_view room);

// An absent or empty room means the lobby; otherwise the name must be valid.
std::optional<std::string> normalizeRoom(std::string_view room);

// Trims white space at both ends (ASCII and the Unicode space separators).
// `s` must be valid UTF-8.
std::string_view trimSpace(std::string_view s);

// True when valid UTF-8 `s` holds nothing but white space.
bool isBlank(std::string_view s);

struct UsernameCheck {
  std::string username;            // trimmed; empty only on refusal
  std::optional<Refusal> refusal;  // set when refused
};

// Trims, then requires 1-32 code points without control characters. An empty
// name after trimming is refused here; plain clients substitute "anonymous"
// before calling.
UsernameCheck checkUsername(std::string_view raw);

// Text: valid UTF-8, no NUL, 1..maxCodePoints code points, not only white
// space (kEmptyText).
std::optional<Refusal> checkText(std::string_view text,
                                 std::size_t maxCodePoints = kDefaultMaxTextCodePoints);

}  // namespace chat::common
