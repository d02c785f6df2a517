#include "ws/outbound_queue.h"

#include <algorithm>

namespace chat::gateway {

bool OutboundQueue::pushOrReject(FramePtr frame, const QueueLimits& limits) {
  if (count_ + 1 > limits.maxFrames || bytes_ + frame->size() > limits.maxBytes) return false;
  if (count_ == capacity_) grow();
  bytes_ += frame->size();
  slots_[(head_ + count_) % capacity_] = std::move(frame);
  ++count_;
  return true;
}

void OutboundQueue::pop() {
  bytes_ -= slots_[head_]->size();
  slots_[head_].reset();
  head_ = (head_ + 1) % capacity_;
  --count_;
}

void OutboundQueue::clear() {
  while (!empty())
    pop();
  // Give the memory back: a drained connection is back to its idle cost.
  slots_.reset();
  capacity_ = head_ = 0;
}

void OutboundQueue::grow() {
  const std::size_t capacity = std::max<std::size_t>(4, capacity_ * 2);
  auto slots = std::make_unique<FramePtr[]>(capacity);
  for (std::size_t i = 0; i < count_; ++i)
    slots[i] = std::move(slots_[(head_ + i) % capacity_]);
  slots_ = std::move(slots);
  capacity_ = capacity;
  head_ = 0;
}

}  // namespace chat::gateway
