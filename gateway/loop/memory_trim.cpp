#include "loop/memory_trim.h"

#include <malloc.h>

#include <chrono>

namespace chat::gateway {
namespace {

constexpr std::chrono::seconds kPeriod{2};
constexpr std::size_t kFreeWorthTrimming = std::size_t{4} << 20;

}  // namespace

MemoryTrim::MemoryTrim(uv_loop_t* loop) : timer_(loop) {
  timer_.every(kPeriod, [this] {
    // mallinfo2 walks the free chunks too: a few ms at worst, every 2 s.
    const std::size_t free = mallinfo2().fordblks;
    if (free < freeAfterTrim_) freeAfterTrim_ = free;  // reused since
    if (free <= freeAfterTrim_ + kFreeWorthTrimming) return;
    malloc_trim(0);
    freeAfterTrim_ = mallinfo2().fordblks;
  });
}

}  // namespace chat::gateway
