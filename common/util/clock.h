#pragma once
// Wall-clock time as the protocol counts it (token `exp`, Redis scores):
// since the Unix epoch. Any thread.

#include <chrono>
#include <cstdint>

namespace chat::common {

inline std::int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace chat::common
