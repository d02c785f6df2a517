#include "ws/write_scheduler.h"

#include "ws/connection.h"

namespace chat::gateway {

WriteScheduler::WriteScheduler(uv_loop_t* loop, std::function<void(Connection&)> flush,
                               std::chrono::milliseconds minGap)
    : loop_(loop),
      minGap_(minGap),
      gapTimer_(loop),
      afterPoll_(loop, LoopHook::Phase::kAfterPoll, [this] { flushAll(); }),
      beforePoll_(loop, LoopHook::Phase::kBeforePoll, [this] { flushAll(); }),
      flush_(std::move(flush)) {}

void WriteScheduler::schedule(Connection& connection) {
  if (connection.flushSlot() != Connection::kNoFlushSlot) return;
  if (pending_.empty()) arm();
  connection.setFlushSlot(static_cast<std::uint32_t>(pending_.size()));
  pending_.push_back(&connection);
}

void WriteScheduler::cancel(Connection& connection) {
  const std::uint32_t slot = connection.flushSlot();
  if (slot == Connection::kNoFlushSlot) return;
  // The slot indexes whichever list held the connection when it was scheduled.
  if (slot < pending_.size() && pending_[slot] == &connection)
    pending_[slot] = nullptr;
  else if (slot < flushing_.size() && flushing_[slot] == &connection)
    flushing_[slot] = nullptr;
  connection.setFlushSlot(Connection::kNoFlushSlot);
}

void WriteScheduler::arm() {
  const std::uint64_t now = uv_hrtime() / 1000000;
  const auto gap = static_cast<std::uint64_t>(minGap_.count());
  if (gap > 0 && now < lastPassMs_ + gap) {
    gapTimer_.once(std::chrono::milliseconds(lastPassMs_ + gap - now), [this] { flushAll(); });
    return;
  }
  afterPoll_.start();
  beforePoll_.start();
}

void WriteScheduler::flushAll() {
  if (pending_.empty()) return;
  if (beforeFlush_) beforeFlush_();
  afterPoll_.stop();
  beforePoll_.stop();
  gapTimer_.stop();
  // Swapped out first: what is scheduled meanwhile waits for the next pass.
  flushing_.swap(pending_);
  for (std::size_t i = 0; i < flushing_.size(); ++i) {
    Connection* connection = flushing_[i];
    if (connection == nullptr) continue;
    flushing_[i] = nullptr;
    connection->setFlushSlot(Connection::kNoFlushSlot);
    flush_(*connection);
  }
  flushing_.clear();
  lastPassMs_ = uv_hrtime() / 1000000;
}

}  // namespace chat::gateway
