#pragma once
// The listening socket, accepted by us on the libuv loop and handed to lws
// (lws_adopt_socket_vhost). Owning the accept loop lets several worker
// processes share one port with SO_REUSEPORT (lws 4.1 sets it only for
// multi-threaded contexts), lets a draining gateway stop accepting by closing
// the socket, and backs off instead of spinning when the fd limit is hit.
// Loop thread only.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

#include "loop/uv_handles.h"

namespace chat::gateway {

class Listener {
 public:
  // Gets each accepted, non-blocking socket; it owns the fd from then on.
  using AcceptFn = std::function<void(int fd)>;

  Listener(uv_loop_t* loop, AcceptFn onAccept);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds [::]:port (dual stack; 0 picks a free port) and listens. False with
  // `error` set when it cannot.
  bool listen(std::uint16_t port, bool sharePort, std::string& error);
  std::uint16_t port() const { return port_; }
  // Stops accepting and closes the socket; new connections are refused.
  void close();

 private:
  static void onReadable(uv_poll_t* handle, int status, int events);
  void acceptAll();

  uv_loop_t* loop_;
  AcceptFn onAccept_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  uv_poll_t* poll_ = nullptr;
  Timer resume_;  // restarts accepting after running out of file descriptors
};

}  // namespace chat::gateway
