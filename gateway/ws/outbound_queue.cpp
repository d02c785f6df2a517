#include "ws/outbound_queue.h"

#include <algorithm>

namespace chat::gateway {

bool OutboundQueue::pushOrReject(FramePtr frame, const QueueLimits& limits) {
  if (count_ + 1 > limits.maxFrames || bytes_ + frame->size() > limits.maxBytes) return false;
  bytes_ += frame->size();
  if (!slots_ && count_ == 0) {
    single_ = std::move(frame);
    ++count_;
    return true;
  }
  if (!slots_ || count_ == capacity_) grow();
  slots_[(head_ + count_) % capacity_] = std::move(frame);
  ++count_;
  return true;
}

void OutboundQueue::pop() {
  if (!slots_) {
    bytes_ -= single_->size();
    single_.reset();
    count_ = 0;
    return;
  }
  bytes_ -= slots_[head_]->size();
  slots_[head_].reset();
  head_ = (head_ + 1) % capacity_;
  if (--count_ == 0) {
    // Drained: back to the idle cost. The next burst allocates again.
    slots_.reset();
    capacity_ = head_ = 0;
  }
}

void OutboundQueue::clear() {
  while (!empty())
    pop();
}

void OutboundQueue::grow() {
  const std::uint32_t capacity = std::max<std::uint32_t>(4, capacity_ * 2);
  auto slots = std::make_unique<FramePtr[]>(capacity);
  if (slots_) {
    for (std::uint32_t i = 0; i < count_; ++i)
      slots[i] = std::move(slots_[(head_ + i) % capacity_]);
  } else if (single_) {
    slots[0] = std::move(single_);
  }
  slots_ = std::move(slots);
  capacity_ = capacity;
  head_ = 0;
}

}  // namespace chat::gateway
