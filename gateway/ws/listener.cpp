#include "ws/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "log/log.h"

namespace chat::gateway {
namespace {

// Connections accepted per wake-up before other work gets a turn.
constexpr int kAcceptBurst = 256;
constexpr std::chrono::milliseconds kOutOfFilesPause{100};

}  // namespace

Listener::Listener(uv_loop_t* loop, AcceptFn onAccept)
    : loop_(loop), onAccept_(std::move(onAccept)), resume_(loop) {}

Listener::~Listener() {
  close();
}

bool Listener::listen(std::uint16_t port, bool sharePort, std::string& error) {
  fd_ = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error = std::strerror(errno);
    return false;
  }
  int on = 1;
  int off = 0;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (sharePort) ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_any;
  address.sin6_port = htons(port);
  socklen_t length = sizeof address;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd_, SOMAXCONN) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    error = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  port_ = ntohs(address.sin6_port);
  poll_ = new uv_poll_t;
  uv_poll_init(loop_, poll_, fd_);
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE, onReadable);
  return true;
}

void Listener::close() {
  resume_.stop();
  if (poll_ != nullptr) {
    poll_->data = nullptr;
    // The fd may be closed only once libuv has let go of the handle.
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void Listener::onReadable(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<Listener*>(handle->data);
  if (self != nullptr && status == 0) self->acceptAll();
}

void Listener::acceptAll() {
  for (int i = 0; i < kAcceptBurst && fd_ >= 0; ++i) {
    const int client = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client >= 0) {
      // lws sets this only on sockets it accepts itself. Without it, Nagle
      // holds a small frame back until the previous one is acknowledged
      // (a delayed ACK: up to 40 ms).
      const int on = 1;
      ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      onAccept_(client);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // The pending connection stays queued; polling now would spin.
      Log::warn("accept_paused", {{"reason", std::strerror(errno)}});
      uv_poll_stop(poll_);
      resume_.once(kOutOfFilesPause, [this] {
        if (poll_ != nullptr) uv_poll_start(poll_, UV_READABLE, onReadable);
      });
    }
    return;  // EAGAIN: the queue is empty
  }
}

}  // namespace chat::gateway
