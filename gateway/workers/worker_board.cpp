#include "workers/worker_board.h"

#include <sys/mman.h>

#include <ctime>
#include <new>
#include <stdexcept>

namespace chat::gateway {

std::string_view describe(WorkerProblem problem) {
  switch (problem) {
    case WorkerProblem::kNone:
      return "ready";
    case WorkerProblem::kStarting:
      return "starting";
    case WorkerProblem::kDraining:
      return "draining";
    case WorkerProblem::kCommandsDown:
      return "redis command connection down";
    case WorkerProblem::kSubscriberDown:
      return "redis subscriber connection down";
    case WorkerProblem::kAuthKeysMissing:
      return "AUTH_JWKS_URL key set not loaded";
  }
  return "unknown";
}

void WorkerSlot::clearState() {
  problem.store(WorkerProblem::kStarting);
  plainConnections.set(0);
  v1Connections.set(0);
  hub.rooms.set(0);
  queuedBytes.set(0);
  commandsUp.set(0);
  subscriberUp.set(0);
  redisShards.set(0);
  redisShardsUp.set(0);
  residentBytes.set(0);
  virtualBytes.set(0);
  openFds.set(0);
}

void WorkerSlot::claim(std::int32_t workerPid) {
  clearState();
  heartbeatMs.store(monotonicMs());
  pid.store(workerPid);
}

void WorkerSlot::release() {
  pid.store(0);
  clearState();  // its connections and links went with it
}

std::unique_ptr<WorkerBoard> WorkerBoard::create(std::size_t workers) {
  const std::size_t bytes = sizeof(Header) + alignof(WorkerSlot) + workers * sizeof(WorkerSlot);
  void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw std::runtime_error("cannot map the worker board");
  return std::unique_ptr<WorkerBoard>(new WorkerBoard(memory, bytes, workers));
}

WorkerBoard::WorkerBoard(void* memory, std::size_t bytes, std::size_t workers)
    : memory_(memory), bytes_(bytes), workers_(workers) {
  header_ = new (memory_) Header;
  auto address = reinterpret_cast<std::uintptr_t>(memory_) + sizeof(Header);
  address = (address + alignof(WorkerSlot) - 1) / alignof(WorkerSlot) * alignof(WorkerSlot);
  slots_ = reinterpret_cast<WorkerSlot*>(address);
  for (std::size_t i = 0; i < workers_; ++i)
    new (&slots_[i]) WorkerSlot;
}

WorkerBoard::~WorkerBoard() {
  for (std::size_t i = 0; i < workers_; ++i)
    slots_[i].~WorkerSlot();
  header_->~Header();
  ::munmap(memory_, bytes_);
}

std::string WorkerBoard::problem(std::uint64_t nowMs, std::uint64_t staleMs) const {
  if (draining()) return "draining";
  for (std::size_t i = 0; i < workers_; ++i) {
    const WorkerSlot& s = slots_[i];
    const std::string name = workers_ > 1 ? "worker " + std::to_string(i + 1) + ": " : "";
    if (s.pid.load() == 0) return name + "restarting";
    const WorkerProblem problem = s.problem.load();
    if (problem != WorkerProblem::kNone) return name + std::string(describe(problem));
    const std::uint64_t beat = s.heartbeatMs.load();
    if (nowMs > beat && nowMs - beat > staleMs) return name + "not responding";
  }
  return {};
}

std::uint64_t monotonicMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000 +
         static_cast<std::uint64_t>(now.tv_nsec) / 1000000;
}

}  // namespace chat::gateway
