#pragma once
// FUZZ_CHECK(condition): an invariant of the code under fuzzing. A breach
// prints the condition and its place and aborts, so libFuzzer reports a crash
// and keeps the input, just as for a sanitizer finding. Header-only.

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(condition)                                                                \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)

namespace chat::fuzz {

inline std::string_view asView(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits `input` at the first `separator`: the part before it, and `input`
// keeps the rest (all of `input` goes to the result when there is none).
inline std::string_view takeUntil(std::string_view& input, char separator) {
  const auto at = input.find(separator);
  const std::string_view head = input.substr(0, at);
  input = at == std::string_view::npos ? std::string_view{} : input.substr(at + 1);
  return head;
}

}  // namespace chat::fuzz
