#pragma once
// GET /metrics: the Prometheus text exposition format 0.0.4, every gateway
// metric under the `chat_` prefix in base units, plus the process_* set.
// Built from a snapshot so the rendering is a pure function. Loop thread.

#include <cstddef>
#include <string>

#include "rooms/room_hub.h"
#include "stats.h"

namespace chat::gateway {

struct MetricsSnapshot {
  std::size_t plainConnections = 0;
  std::size_t v1Connections = 0;
  std::size_t rooms = 0;
  std::size_t queuedBytes = 0;
  bool ready = false;
  bool commandsUp = false;
  bool subscriberUp = false;
  unsigned commandReconnects = 0;
  unsigned subscriberReconnects = 0;
  const ServerStats* stats = nullptr;
  const HubStats* hub = nullptr;
};

inline constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

std::string renderMetrics(const MetricsSnapshot& snapshot);

}  // namespace chat::gateway
