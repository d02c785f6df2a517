#pragma once
// A connection's bounded queue of frames waiting for the socket to be
// writable. A ring of shared frame pointers that allocates nothing until the
// first push, so idle connections cost only this object. Loop thread only.

#include <cstddef>
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
  SharedFrame& front() { return *slots_[head_]; }
  void pop();
  void clear();

 private:
  void grow();

  std::unique_ptr<FramePtr[]> slots_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace chat::gateway
