#pragma once
// A connection's bounded queue of frames waiting for the socket. One frame
// waits inline; more go to a ring of shared frame pointers that is given back
// once the queue drains, so neither an idle connection nor one that gets a
// message at a time allocates anything. Loop thread only.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "ws/shared_frame.h"

namespace chat::gateway {

struct QueueLimits {
  std::size_t maxBytes = 1 << 20;
  std::size_t maxFrames = 1024;
};

class OutboundQueue {
 public:
  // False when the frame would pass a limit; the frame is then not queued and
  // the caller closes the slow consumer.
  bool pushOrReject(FramePtr frame, const QueueLimits& limits);

  bool empty() const { return count_ == 0; }
  std::size_t frames() const { return count_; }
  std::size_t bytes() const { return bytes_; }
  SharedFrame& front() { return slots_ ? *slots_[head_] : *single_; }
  void pop();
  void clear();

 private:
  void grow();

  FramePtr single_;                    // the frame, while there is one and no ring
  std::unique_ptr<FramePtr[]> slots_;  // the ring, while more than one waited
  std::uint32_t capacity_ = 0;
  std::uint32_t head_ = 0;
  std::uint32_t count_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace chat::gateway
