#pragma once
// Connections that got frames during this loop iteration, written once per
// iteration: right after the I/O callbacks (frames from client and Redis
// reads) and just before the loop blocks (frames from timers). Writing
// straight to a socket that takes everything skips the POLLOUT round trip per
// delivery (on libuv each lws POLLOUT toggle is an epoll_ctl DEL + ADD), and
// one pass per iteration turns all the frames a client got from one Redis
// read into one send. What a socket does not take waits for lws' WRITEABLE
// callback as before.
//
// With a minimum gap, a pass that would start sooner after the previous one ended waits
// for the gap to pass: under a steady stream, every client then gets the
// frames of several messages in one send (fewer sends, less CPU, shorter
// queues), while an idle server still writes at once. Loop thread only.

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "loop/uv_handles.h"

namespace chat::gateway {

class Connection;

class WriteScheduler {
 public:
  // `flush` writes one connection's queue; it must not destroy connections.
  WriteScheduler(uv_loop_t* loop, std::function<void(Connection&)> flush,
                 std::chrono::milliseconds minGap = std::chrono::milliseconds(0));

  // Runs before each pass, e.g. to take in more input first.
  void setBeforeFlush(std::function<void()> fn) { beforeFlush_ = std::move(fn); }

  void schedule(Connection& connection);
  // A connection going away before its flush.
  void cancel(Connection& connection);

 private:
  void arm();
  void flushAll();

  uv_loop_t* loop_;
  std::chrono::milliseconds minGap_;
  std::uint64_t lastPassMs_ = 0;  // when the last pass ended (uv_hrtime, ms)
  Timer gapTimer_;
  LoopHook afterPoll_;
  LoopHook beforePoll_;
  std::function<void(Connection&)> flush_;
  std::function<void()> beforeFlush_;
  std::vector<Connection*> pending_;   // a slot is nullptr once cancelled
  std::vector<Connection*> flushing_;  // the batch being written
};

}  // namespace chat::gateway
