#include "loop/uv_handles.h"

namespace chat::gateway {
namespace {

template <typename Handle>
void closeAndFree(Handle* handle) {
  handle->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
}

}  // namespace

Timer::Timer(uv_loop_t* loop) : handle_(new uv_timer_t) {
  uv_timer_init(loop, handle_);
  handle_->data = this;
}

Timer::~Timer() {
  closeAndFree(handle_);
}

void Timer::once(std::chrono::milliseconds delay, std::function<void()> fn) {
  fn_ = std::move(fn);
  uv_timer_start(handle_, onTimer, static_cast<uint64_t>(delay.count()), 0);
}

void Timer::every(std::chrono::milliseconds period, std::function<void()> fn) {
  fn_ = std::move(fn);
  const auto ms = static_cast<uint64_t>(period.count());
  uv_timer_start(handle_, onTimer, ms, ms);
}

void Timer::stop() {
  uv_timer_stop(handle_);
}

bool Timer::active() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(handle_)) != 0;
}

void Timer::onTimer(uv_timer_t* handle) {
  auto* self = static_cast<Timer*>(handle->data);
  if (self == nullptr || !self->fn_) return;
  // The callback may restart or destroy this timer; call a copy.
  auto fn = self->fn_;
  fn();
}

SignalWatcher::SignalWatcher(uv_loop_t* loop, int signum, std::function<void()> fn)
    : handle_(new uv_signal_t), fn_(std::move(fn)) {
  uv_signal_init(loop, handle_);
  handle_->data = this;
  uv_signal_start(handle_, onSignal, signum);
  // A pending signal must not keep the loop alive during teardown.
  uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
}

SignalWatcher::~SignalWatcher() {
  closeAndFree(handle_);
}

void SignalWatcher::onSignal(uv_signal_t* handle, int) {
  auto* self = static_cast<SignalWatcher*>(handle->data);
  if (self != nullptr && self->fn_) self->fn_();
}

}  // namespace chat::gateway
