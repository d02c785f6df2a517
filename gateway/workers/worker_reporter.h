#pragma once
// What one worker tells the rest of its gateway through its WorkerBoard slot:
// every beat (100 ms) whether it can serve and that it is alive, and every
// tenth beat (or when asked, before /metrics) its sampled gauges and process
// metrics. Also answers for the whole gateway: readiness over every worker,
// and /metrics totals. Counters live in the slot already; this adds what has
// to be sampled. Loop thread only.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

#include "loop/uv_handles.h"
#include "metrics/metrics_page.h"
#include "workers/worker_board.h"

namespace chat::gateway {

// The worker's state at a beat, from its owner.
struct WorkerHealth {
  WorkerProblem problem = WorkerProblem::kNone;
  bool commandsUp = false;
  bool subscriberUp = false;
  std::size_t shards = 0;  // redis+cluster:// only
  std::size_t shardsUp = 0;
  unsigned commandReconnects = 0;  // since this process started
  unsigned subscriberReconnects = 0;
};

class WorkerReporter {
 public:
  using HealthFn = std::function<WorkerHealth()>;
  using QueuedBytesFn = std::function<std::int64_t()>;

  WorkerReporter(uv_loop_t* loop, WorkerBoard& board, WorkerSlot& slot, HealthFn health,
                 QueuedBytesFn queuedBytes);

  void start();
  void stop() { beat_.stop(); }
  // Publishes now; `full` includes the sampled gauges.
  void publish(bool full);

  // Why some worker of the gateway cannot serve, or empty: this worker's
  // `ownProblem` (fresh) first, then the others' (at most a beat old).
  std::string gatewayProblem(const std::string& ownProblem) const;
  // /metrics: every worker's slot added up, this worker's sampled just now.
  MetricsTotals totals(bool ready);

 private:
  WorkerBoard& board_;
  WorkerSlot& slot_;
  HealthFn health_;
  QueuedBytesFn queuedBytes_;
  Timer beat_;
  unsigned beats_ = 0;
  unsigned publishedCommandReconnects_ = 0;
  unsigned publishedSubscriberReconnects_ = 0;
  double publishedCpuSeconds_ = 0;
};

}  // namespace chat::gateway
