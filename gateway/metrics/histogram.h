#pragma once
// A Prometheus histogram with fixed buckets (seconds). observe() is a short
// linear scan over a dozen bounds: cheaper than anything clever at this size.
// Written by its worker's loop thread only; its counts are shared Counters, so
// /metrics on any worker adds every worker's histogram into HistogramTotals.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/counter.h"

namespace chat::gateway {

// Bounds in seconds, from 0.5 ms to 10 s: the range of a chat's latencies.
inline constexpr std::array<double, 14> kHistogramBounds = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// Plain numbers: the sum of several workers' histograms, for rendering.
struct HistogramTotals {
  std::array<std::uint64_t, kHistogramBounds.size() + 1> counts{};  // last: +Inf only
  double sum = 0;

  // Appends the _bucket, _sum and _count lines of `name`.
  void write(std::string& out, std::string_view name) const;
};

class Histogram {
 public:
  static constexpr const auto& kBounds = kHistogramBounds;

  void observe(double seconds) {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i])
      ++i;
    ++counts_[i];
    sum_.add(seconds);
  }

  void addTo(HistogramTotals& totals) const;

 private:
  std::array<Counter, kBounds.size() + 1> counts_{};
  SecondsSum sum_;
};

}  // namespace chat::gateway
