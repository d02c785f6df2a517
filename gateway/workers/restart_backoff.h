#pragma once
// When to start a worker again after it crashed. The first restart is quick;
// a worker that keeps crashing waits twice as long each time, up to a cap, so
// a fault that no restart fixes does not spin (systemd's and Kubernetes'
// CrashLoopBackOff do the same). A worker that ran for `stableAfter` before it
// crashed starts the count over. Pure: times are passed in.

#include <algorithm>
#include <chrono>

namespace chat::gateway {

class RestartBackoff {
 public:
  using Ms = std::chrono::milliseconds;

  explicit RestartBackoff(Ms first = Ms(100), Ms cap = Ms(30000), Ms stableAfter = Ms(60000))
      : first_(first), cap_(cap), stableAfter_(stableAfter), next_(first) {}

  // A worker that ran for `ranFor` crashed: how long to wait before its restart.
  Ms onCrash(Ms ranFor) {
    if (ranFor >= stableAfter_) next_ = first_;
    const Ms delay = next_;
    next_ = std::min(cap_, next_ * 2);
    return delay;
  }

 private:
  Ms first_;
  Ms cap_;
  Ms stableAfter_;
  Ms next_;
};

}  // namespace chat::gateway
