#pragma once
// A string-keyed unordered_map that string_views can look up, without
// building a std::string per lookup. Any thread.

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chat::common {

struct StringViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringViewHash, std::equal_to<>>;

}  // namespace chat::common
