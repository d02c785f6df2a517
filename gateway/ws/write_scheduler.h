#pragma once
// Connections that got frames during this loop iteration, written once per
// iteration: right after the I/O callbacks (frames from client and Redis
// reads) and just before the loop blocks (frames from timers). Writing
// straight to a socket that takes everything skips the POLLOUT round trip per
// delivery (on libuv each lws POLLOUT toggle is an epoll_ctl DEL + ADD), and
// one pass per iteration turns all the frames a client got from one Redis
// read into one send. What a socket does not take waits for lws' WRITEABLE
// callback as before. Loop thread only.

#include <uv.h>

#include <cstddef>
#include <functional>
#include <vector>

#include "loop/uv_handles.h"

namespace chat::gateway {

class Connection;

class WriteScheduler {
 public:
  // `flush` writes one connection's queue; it must not destroy connections.
  WriteScheduler(uv_loop_t* loop, std::function<void(Connection&)> flush);

  // Runs before each pass, e.g. to take in more input first.
  void setBeforeFlush(std::function<void()> fn) { beforeFlush_ = std::move(fn); }

  void schedule(Connection& connection);
  // A connection going away before its flush.
  void cancel(Connection& connection);

 private:
  void flushAll();

  LoopHook afterPoll_;
  LoopHook beforePoll_;
  std::function<void(Connection&)> flush_;
  std::function<void()> beforeFlush_;
  std::vector<Connection*> pending_;   // a slot is nullptr once cancelled
  std::vector<Connection*> flushing_;  // the batch being written
};

}  // namespace chat::gateway
