#pragma once
// A Prometheus histogram with fixed buckets (seconds). observe() is a short
// linear scan over a dozen bounds: cheaper than anything clever at this size.
// Loop thread only.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace chat::gateway {

class Histogram {
 public:
  // Bounds in seconds, from 0.5 ms to 10 s: the range of a chat's latencies.
  static constexpr std::array<double, 14> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  void observe(double seconds) {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i])
      ++i;
    ++counts_[i];
    sum_ += seconds;
  }

  // Appends the _bucket, _sum and _count lines of `name`.
  void write(std::string& out, std::string_view name) const;

 private:
  std::array<std::uint64_t, kBounds.size() + 1> counts_{};  // last: +Inf only
  double sum_ = 0;
};

}  // namespace chat::gateway
