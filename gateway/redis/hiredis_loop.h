#pragma once
// Drives a hiredis async context from the gateway's libuv loop (hiredis' event
// hooks on a uv_poll_t), in place of hiredis 0.14's libuv adapter, which
// ignores a poll error: libuv reports a socket error (EPOLLERR: a reset while
// writing to a Redis that was killed, a refused connect) as UV_EBADF and stops
// polling, and that adapter then does nothing, so hiredis never learns the
// link died: no disconnect callback, pending commands never answered, a
// reconnect never tried. Here an error becomes a read, from which hiredis
// finds the error itself and disconnects as usual. Loop thread only.

#include <hiredis/async.h>
#include <uv.h>

namespace chat::gateway {

// Attaches `context` to `loop`; false when it cannot (then free the context).
// hiredis owns what this allocates and frees it through its cleanup hook.
bool attachToLoop(redisAsyncContext* context, uv_loop_t* loop);

}  // namespace chat::gateway
