#include "workers/worker_reporter.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "metrics/process_metrics.h"

namespace chat::gateway {
namespace {

constexpr std::chrono::milliseconds kBeat{100};
constexpr unsigned kBeatsPerSample = 10;
// A worker whose loop has not beaten for this long is hung (or stopped).
constexpr std::uint64_t kStaleAfterMs = 5000;

}  // namespace

WorkerReporter::WorkerReporter(uv_loop_t* loop, WorkerBoard& board, WorkerSlot& slot,
                               HealthFn health, QueuedBytesFn queuedBytes)
    : board_(board),
      slot_(slot),
      health_(std::move(health)),
      queuedBytes_(std::move(queuedBytes)),
      beat_(loop) {
  slot_.claim(static_cast<std::int32_t>(::getpid()));
}

void WorkerReporter::start() {
  publish(true);
  beat_.every(kBeat, [this] { publish(++beats_ % kBeatsPerSample == 0); });
}

void WorkerReporter::publish(bool full) {
  const WorkerHealth health = health_();
  slot_.problem.store(health.problem);
  slot_.commandsUp.set(health.commandsUp ? 1 : 0);
  slot_.subscriberUp.set(health.subscriberUp ? 1 : 0);
  slot_.redisShards.set(static_cast<std::int64_t>(health.shards));
  slot_.redisShardsUp.set(static_cast<std::int64_t>(health.shardsUp));
  slot_.heartbeatMs.store(monotonicMs());
  if (!full) return;
  slot_.queuedBytes.set(queuedBytes_());
  // Reconnects and CPU count per process: the slot adds the deltas, so the
  // totals carry on across a worker's replacement.
  slot_.commandReconnects.add(health.commandReconnects - publishedCommandReconnects_);
  publishedCommandReconnects_ = health.commandReconnects;
  slot_.subscriberReconnects.add(health.subscriberReconnects - publishedSubscriberReconnects_);
  publishedSubscriberReconnects_ = health.subscriberReconnects;
  const ProcessSample process = readProcessSample();
  slot_.cpuSeconds.add(std::max(0.0, process.cpuSeconds - publishedCpuSeconds_));
  publishedCpuSeconds_ = std::max(publishedCpuSeconds_, process.cpuSeconds);
  slot_.residentBytes.set(static_cast<std::int64_t>(process.residentBytes));
  slot_.virtualBytes.set(static_cast<std::int64_t>(process.virtualBytes));
  slot_.openFds.set(static_cast<std::int64_t>(process.openFds));
  slot_.maxFds.set(static_cast<std::int64_t>(process.maxFds));
  slot_.startTimeSeconds.set(static_cast<std::int64_t>(process.startTimeSeconds));
}

std::string WorkerReporter::gatewayProblem(const std::string& ownProblem) const {
  if (!ownProblem.empty()) return ownProblem;
  return board_.problem(monotonicMs(), kStaleAfterMs);
}

MetricsTotals WorkerReporter::totals(bool ready) {
  publish(true);
  MetricsTotals totals = sumWorkers(board_);
  totals.ready = ready;
  return totals;
}

}  // namespace chat::gateway
