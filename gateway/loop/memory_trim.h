#pragma once
// Gives memory the allocator holds but no longer uses back to the system.
// A burst (a storm of handshakes, of joins whose `joined` frames list up to
// PRESENCE_LIST_MAX users, a fan-out backlog) leaves freed chunks spread over
// the heap; glibc keeps them mapped, so the process stays at its high-water
// mark. Every 2 s, when 4 MiB more sit free than after the last trim,
// malloc_trim() releases the free pages (madvise), wherever they are; a heap
// that stays fragmented is not trimmed again and again. Loop thread only.

#include <uv.h>

#include <cstddef>

#include "loop/uv_handles.h"

namespace chat::gateway {

class MemoryTrim {
 public:
  explicit MemoryTrim(uv_loop_t* loop);
  void stop() { timer_.stop(); }

 private:
  Timer timer_;
  std::size_t freeAfterTrim_ = 0;
};

}  // namespace chat::gateway
