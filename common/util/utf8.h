#pragma once
// UTF-8 checks for untrusted text: strict validation (no overlongs, no
// surrogates, nothing past U+10FFFF) and counting in code points, which is how
// the protocol measures text and usernames. Pure functions, any thread.

#include <cstddef>
#include <optional>
#include <string_view>

namespace chat::common {

// Number of code points in `s`, or nullopt when `s` is not valid UTF-8.
std::optional<std::size_t> countCodePoints(std::string_view s);

inline bool isValidUtf8(std::string_view s) {
  return countCodePoints(s).has_value();
}

// Decodes the code point starting at `s[pos]` of already validated UTF-8 and
// advances `pos` past it.
char32_t decodeValidCodePoint(std::string_view s, std::size_t& pos);

}  // namespace chat::common
