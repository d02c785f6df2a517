#pragma once
// GET /metrics: the Prometheus text exposition format 0.0.4, every gateway
// metric under the `chat_` prefix in base units, plus the process_* set.
// Whichever worker answers adds up every worker's slot of the WorkerBoard, so
// the page describes the whole gateway; the rendering is a pure function of
// those totals. Loop thread.

#include <array>
#include <cstdint>
#include <string>

#include "metrics/histogram.h"
#include "metrics/process_metrics.h"
#include "protocol/refusal.h"

namespace chat::gateway {

class WorkerBoard;

struct MetricsTotals {
  std::uint64_t workers = 0;
  std::uint64_t plainConnections = 0;
  std::uint64_t v1Connections = 0;
  std::uint64_t rooms = 0;  // summed over workers: a room two workers serve counts twice
  std::uint64_t queuedBytes = 0;
  bool ready = false;
  bool commandsUp = true;  // on every worker
  bool subscriberUp = true;
  std::uint64_t redisShards = 0;    // the most any worker knows
  std::uint64_t redisShardsUp = 0;  // the fewest up on any worker
  std::uint64_t commandReconnects = 0;
  std::uint64_t subscriberReconnects = 0;
  std::uint64_t connectionsOpened = 0;
  std::uint64_t messagesReceived = 0;
  std::uint64_t messagesStored = 0;
  std::uint64_t storeFailures = 0;
  std::uint64_t slowConsumers = 0;
  std::uint64_t messagesDelivered = 0;
  std::uint64_t busFramesReceived = 0;
  std::uint64_t historyReads = 0;
  std::uint64_t gapRepairs = 0;
  std::array<std::uint64_t, common::kRefusalCount> refusals{};
  HistogramTotals storeLatency;
  HistogramTotals deliveryLatency;
  ProcessSample process;
};

// Adds up every slot of `board`; `ready` is left for the caller to decide.
MetricsTotals sumWorkers(const WorkerBoard& board);

inline constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

std::string renderMetrics(const MetricsTotals& totals);

}  // namespace chat::gateway
