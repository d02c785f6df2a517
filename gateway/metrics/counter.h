#pragma once
// Counters and gauges that one worker's loop thread writes and the other
// workers of the same gateway read: they live in memory shared between the
// worker processes (WorkerBoard), so every value is a relaxed atomic. Only the
// owning loop writes, so an update is a plain load and store (no locked
// instruction on the hot path); readers see each value whole.

#include <atomic>
#include <cstdint>

namespace chat::gateway {

// Monotonic: never reset while the gateway runs, so a scrape never sees it go back.
class Counter {
 public:
  Counter& operator++() {
    add(1);
    return *this;
  }
  void add(std::uint64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A level that goes up and down (connections open, bytes queued).
class Gauge {
 public:
  void add(std::int64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(std::int64_t n) { value_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// A sum of seconds (a histogram's _sum, CPU time): single writer, like Counter.
class SecondsSum {
 public:
  void add(double seconds) {
    value_.store(value_.load(std::memory_order_relaxed) + seconds, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<double>::is_always_lock_free,
              "shared counters must be lock-free to work across processes");

}  // namespace chat::gateway
