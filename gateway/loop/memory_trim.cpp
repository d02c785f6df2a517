#include "loop/memory_trim.h"

#include <malloc.h>

#include <chrono>

namespace chat::gateway {
namespace {

constexpr std::chrono::seconds kPeriod{2};
constexpr std::size_t kFreeWorthTrimming = std::size_t{4} << 20;

}  // namespace

MemoryTrim::MemoryTrim(uv_loop_t* loop) : timer_(loop) {
  timer_.every(kPeriod, [] {
    // mallinfo2 walks the bins, not every chunk: cheap next to the trim.
    if (mallinfo2().fordblks > kFreeWorthTrimming) malloc_trim(0);
  });
}

}  // namespace chat::gateway
