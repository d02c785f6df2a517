#pragma once
// A token bucket for per-connection rate limits: `rate` tokens a second, at
// most `burst` saved up. Time comes from the caller (milliseconds on any
// monotonic clock), so the bucket is pure and 16 bytes. Any thread, one owner.

#include <algorithm>
#include <cstdint>

namespace chat::common {

class TokenBucket {
 public:
  // Starts full.
  TokenBucket(double burst, std::uint64_t nowMs) : tokens_(burst), lastMs_(nowMs) {}

  // Takes one token if there is one.
  bool tryTake(double rate, double burst, std::uint64_t nowMs) {
    if (nowMs > lastMs_) {
      tokens_ = std::min(burst, tokens_ + rate * static_cast<double>(nowMs - lastMs_) / 1000.0);
      lastMs_ = nowMs;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double tokens_;
  std::uint64_t lastMs_;
};

}  // namespace chat::common
