#pragma once
// RAII owners of libuv handles. libuv may touch a handle until its close
// callback has run, so the owner never frees it directly: the destructor calls
// uv_close() and the close callback deletes the handle. A handle's `data` is
// cleared first, so no callback can reach the dead owner. Loop thread only.

#include <uv.h>

#include <chrono>
#include <functional>

namespace chat::gateway {

// Ends a heap-allocated handle: no callback reaches its owner from now on, and
// the memory is freed in the close callback, once libuv has let go of it.
template <typename Handle>
void closeAndFree(Handle* handle) {
  handle->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
}

class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Runs `fn` once after `delay`; restarting replaces the previous schedule.
  void once(std::chrono::milliseconds delay, std::function<void()> fn);
  // Runs `fn` every `period`, first after one period.
  void every(std::chrono::milliseconds period, std::function<void()> fn);
  void stop();
  bool active() const;

 private:
  static void onTimer(uv_timer_t* handle);

  uv_timer_t* handle_;
  std::function<void()> fn_;
};

// Runs a callback once per loop iteration while started: just before the
// loop blocks for I/O (uv_prepare) or right after the I/O callbacks (uv_check).
class LoopHook {
 public:
  enum class Phase { kBeforePoll, kAfterPoll };
  LoopHook(uv_loop_t* loop, Phase phase, std::function<void()> fn);
  ~LoopHook();
  LoopHook(const LoopHook&) = delete;
  LoopHook& operator=(const LoopHook&) = delete;

  void start();
  void stop();

 private:
  static void run(void* data);

  Phase phase_;
  uv_handle_t* handle_;
  std::function<void()> fn_;
};

class SignalWatcher {
 public:
  SignalWatcher(uv_loop_t* loop, int signum, std::function<void()> fn);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  static void onSignal(uv_signal_t* handle, int signum);

  uv_signal_t* handle_;
  std::function<void()> fn_;
};

}  // namespace chat::gateway
