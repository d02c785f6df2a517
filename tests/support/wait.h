#pragma once
// Deadlines and condition polling for tests. Every wait in the harness is a
// poll of a condition bounded by a deadline: a sleep that merely hopes the
// other side is done makes suites slow when it is long and flaky when it is
// short. Header-only, any thread.

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

namespace chat::testing {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A point in time after which an operation gives up.
class Deadline {
 public:
  explicit Deadline(milliseconds timeout) : at_(Clock::now() + timeout) {}

  bool expired() const { return Clock::now() >= at_; }

  milliseconds remaining() const {
    auto left = std::chrono::duration_cast<milliseconds>(at_ - Clock::now());
    return std::max(left, milliseconds(0));
  }

  // Remaining time for poll(2): rounded up so a last partial millisecond is
  // still waited for, never negative.
  int pollTimeoutMs() const {
    auto left = std::chrono::ceil<milliseconds>(at_ - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000'000));
  }

 private:
  Clock::time_point at_;
};

// Polls `condition` every `pollInterval` until it holds or `timeout` passes.
// Returns whether it held; the condition is evaluated once more at the
// deadline so a state reached during the last interval is not missed.
inline bool waitFor(const std::function<bool()>& condition, milliseconds timeout,
                    milliseconds pollInterval = milliseconds(20)) {
  Deadline deadline(timeout);
  while (!deadline.expired()) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::min(pollInterval, deadline.remaining()));
  }
  return condition();
}

}  // namespace chat::testing
