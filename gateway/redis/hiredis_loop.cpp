#include "redis/hiredis_loop.h"

namespace chat::gateway {
namespace {

// hiredis' event state for one context; freed once libuv has closed the poll.
struct LoopEvents {
  redisAsyncContext* context = nullptr;  // null once hiredis cleaned up
  uv_poll_t poll{};
  int events = 0;
};

void update(LoopEvents& e) {
  if (e.events != 0)
    uv_poll_start(&e.poll, e.events, [](uv_poll_t* handle, int status, int events) {
      auto* self = static_cast<LoopEvents*>(handle->data);
      if (self->context == nullptr) return;
      if (status != 0) {
        // libuv has stopped polling: hiredis reads, sees the socket's error
        // and disconnects (running every pending callback with no reply).
        redisAsyncHandleRead(self->context);
        if (self->context != nullptr && self->events != 0) update(*self);
        return;
      }
      if (events & UV_READABLE) redisAsyncHandleRead(self->context);
      if (self->context != nullptr && (events & UV_WRITABLE)) redisAsyncHandleWrite(self->context);
    });
  else
    uv_poll_stop(&e.poll);
}

// hiredis' addRead, delRead, addWrite and delWrite hooks.
template <int Event, bool On>
void watch(void* data) {
  auto* e = static_cast<LoopEvents*>(data);
  e->events = On ? (e->events | Event) : (e->events & ~Event);
  update(*e);
}

void cleanup(void* data) {
  auto* e = static_cast<LoopEvents*>(data);
  e->context = nullptr;  // the context is being freed
  uv_close(reinterpret_cast<uv_handle_t*>(&e->poll),
           [](uv_handle_t* handle) { delete static_cast<LoopEvents*>(handle->data); });
}

}  // namespace

bool attachToLoop(redisAsyncContext* context, uv_loop_t* loop) {
  if (context->ev.data != nullptr) return false;
  auto* e = new LoopEvents;
  if (uv_poll_init(loop, &e->poll, context->c.fd) != 0) {
    delete e;
    return false;
  }
  e->poll.data = e;
  e->context = context;
  context->ev.addRead = watch<UV_READABLE, true>;
  context->ev.delRead = watch<UV_READABLE, false>;
  context->ev.addWrite = watch<UV_WRITABLE, true>;
  context->ev.delWrite = watch<UV_WRITABLE, false>;
  context->ev.cleanup = cleanup;
  context->ev.data = e;
  return true;
}

}  // namespace chat::gateway
