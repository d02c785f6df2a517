#include "loop/uv_handles.h"

namespace chat::gateway {

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

LoopHook::LoopHook(uv_loop_t* loop, Phase phase, std::function<void()> fn)
    : phase_(phase), fn_(std::move(fn)) {
  if (phase_ == Phase::kBeforePoll) {
    auto* prepare = new uv_prepare_t;
    uv_prepare_init(loop, prepare);
    handle_ = reinterpret_cast<uv_handle_t*>(prepare);
  } else {
    auto* check = new uv_check_t;
    uv_check_init(loop, check);
    handle_ = reinterpret_cast<uv_handle_t*>(check);
  }
  handle_->data = this;
}

LoopHook::~LoopHook() {
  if (phase_ == Phase::kBeforePoll)
    closeAndFree(reinterpret_cast<uv_prepare_t*>(handle_));
  else
    closeAndFree(reinterpret_cast<uv_check_t*>(handle_));
}

void LoopHook::start() {
  if (phase_ == Phase::kBeforePoll)
    uv_prepare_start(reinterpret_cast<uv_prepare_t*>(handle_),
                     [](uv_prepare_t* h) { run(h->data); });
  else
    uv_check_start(reinterpret_cast<uv_check_t*>(handle_), [](uv_check_t* h) { run(h->data); });
}

void LoopHook::stop() {
  if (phase_ == Phase::kBeforePoll)
    uv_prepare_stop(reinterpret_cast<uv_prepare_t*>(handle_));
  else
    uv_check_stop(reinterpret_cast<uv_check_t*>(handle_));
}

void LoopHook::run(void* data) {
  auto* self = static_cast<LoopHook*>(data);
  if (self != nullptr && self->fn_) self->fn_();
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
