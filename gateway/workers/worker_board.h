#pragma once
// What the workers of one gateway share so that, from outside, they are one
// gateway (docs/protocol.md section 1): a slot per worker with its counters, its
// gauges, whether it can serve and when it last showed life, plus the
// gateway-wide draining flag. The supervisor maps it (MAP_SHARED) before it
// forks the workers; with WORKERS=1 the one process maps its own.
//
// Ownership: a slot is written by its worker's loop thread only, and by the
// supervisor only while no worker holds it (after reaping one, before starting
// its replacement). Counters are never reset, so a worker that is replaced
// goes on counting where its predecessor stopped and /metrics never goes back.
// Any worker reads every slot.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "metrics/counter.h"
#include "rooms/room_hub.h"
#include "stats.h"

namespace chat::gateway {

// Why a worker cannot serve (kNone: it can).
enum class WorkerProblem : std::uint8_t {
  kNone,
  kStarting,
  kDraining,
  kCommandsDown,
  kSubscriberDown,
  kAuthKeysMissing,
};

std::string_view describe(WorkerProblem problem);

struct WorkerSlot {
  std::atomic<std::int32_t> pid{0};  // 0: no worker in this slot (being replaced)
  std::atomic<WorkerProblem> problem{WorkerProblem::kStarting};
  std::atomic<std::uint64_t> heartbeatMs{0};  // monotonic ms of its last beat

  ServerStats stats;
  HubStats hub;
  Gauge plainConnections;
  Gauge v1Connections;
  // Sampled by the worker's heartbeat (and just before it renders /metrics).
  Gauge queuedBytes;
  Gauge commandsUp;
  Gauge subscriberUp;
  Gauge redisShards;    // redis+cluster://: primaries in the slot map
  Gauge redisShardsUp;  // ... whose command and subscriber links are up
  Counter commandReconnects;
  Counter subscriberReconnects;
  SecondsSum cpuSeconds;  // deltas of the worker processes that held the slot
  Gauge residentBytes;
  Gauge virtualBytes;
  Gauge openFds;
  Gauge maxFds;
  Gauge startTimeSeconds;

  // A worker takes the slot: what described its predecessor's state is reset,
  // what counted its work carries on.
  void claim(std::int32_t workerPid);
  // The supervisor reaped the slot's worker.
  void release();

 private:
  // Resets what described the worker's state (not its counters).
  void clearState();
};

class WorkerBoard {
 public:
  // Shared, anonymous memory for `workers` slots; inherited across fork().
  static std::unique_ptr<WorkerBoard> create(std::size_t workers);
  ~WorkerBoard();
  WorkerBoard(const WorkerBoard&) = delete;
  WorkerBoard& operator=(const WorkerBoard&) = delete;

  std::size_t size() const { return workers_; }
  WorkerSlot& slot(std::size_t index) { return slots_[index]; }
  const WorkerSlot& slot(std::size_t index) const { return slots_[index]; }

  bool draining() const { return header_->draining.load(); }
  // Async-signal-safe: the supervisor calls it from its stop path.
  void setDraining() { header_->draining.store(true); }

  // Why the gateway cannot serve ("worker 2: redis command connection down"),
  // or empty. A worker that has not beaten for `stale` ms counts as hung.
  std::string problem(std::uint64_t nowMs, std::uint64_t staleMs) const;

 private:
  struct Header {
    std::atomic<bool> draining{false};
  };
  WorkerBoard(void* memory, std::size_t bytes, std::size_t workers);

  void* memory_;
  std::size_t bytes_;
  std::size_t workers_;
  Header* header_;
  WorkerSlot* slots_;
};

// Monotonic milliseconds, comparable across processes (CLOCK_MONOTONIC).
std::uint64_t monotonicMs();

}  // namespace chat::gateway
