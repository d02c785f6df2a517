#include "tcp_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace chat::testing {
namespace {

// Waits until `fd` is ready for `events` or the deadline passes.
IoResult waitReady(int fd, short events, const Deadline& deadline, std::string& error) {
  for (;;) {
    pollfd entry{fd, events, 0};
    int ready = ::poll(&entry, 1, deadline.pollTimeoutMs());
    if (ready > 0) return IoResult::kOk;
    if (ready == 0) return IoResult::kTimeout;
    if (errno == EINTR) continue;
    error = std::string("poll: ") + std::strerror(errno);
    return IoResult::kError;
  }
}

}  // namespace

const char* describe(IoResult result) {
  switch (result) {
    case IoResult::kOk:
      return "ok";
    case IoResult::kEof:
      return "connection closed by peer";
    case IoResult::kTimeout:
      return "timed out";
    case IoResult::kError:
      return "socket error";
  }
  return "?";
}

TcpSocket::~TcpSocket() {
  close();
}

TcpSocket::TcpSocket(TcpSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      lastError_(std::move(other.lastError_)) {}

TcpSocket& TcpSocket::operator=(TcpSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
    lastError_ = std::move(other.lastError_);
  }
  return *this;
}

void TcpSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool TcpSocket::connect(std::uint16_t port, const Deadline& deadline) {
  close();
  buffer_.clear();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    lastError_ = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      lastError_ = "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
      close();
      return false;
    }
    IoResult ready = waitReady(fd_, POLLOUT, deadline, lastError_);
    if (ready != IoResult::kOk) {
      if (ready == IoResult::kTimeout) lastError_ = "connect timed out";
      close();
      return false;
    }
    int error = 0;
    socklen_t length = sizeof(error);
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      lastError_ = "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(error);
      close();
      return false;
    }
  }
  return true;
}

IoResult TcpSocket::sendAll(std::string_view data, const Deadline& deadline) {
  if (fd_ < 0) {
    lastError_ = "send on a closed socket";
    return IoResult::kError;
  }
  while (!data.empty()) {
    ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      data.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      IoResult ready = waitReady(fd_, POLLOUT, deadline, lastError_);
      if (ready != IoResult::kOk) return ready;
      continue;
    }
    lastError_ = std::string("send: ") + std::strerror(errno);
    return IoResult::kError;
  }
  return IoResult::kOk;
}

IoResult TcpSocket::fill(const Deadline& deadline) {
  if (fd_ < 0) {
    lastError_ = "read on a closed socket";
    return IoResult::kError;
  }
  char chunk[16384];
  for (;;) {
    ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (got > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(got));
      return IoResult::kOk;
    }
    if (got == 0) return IoResult::kEof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      IoResult ready = waitReady(fd_, POLLIN, deadline, lastError_);
      if (ready != IoResult::kOk) return ready;
      continue;
    }
    // A reset after the peer closed still ends the stream as far as a test
    // client cares; keep the reason for diagnostics.
    lastError_ = std::string("recv: ") + std::strerror(errno);
    return errno == ECONNRESET ? IoResult::kEof : IoResult::kError;
  }
}

IoResult TcpSocket::readUntil(std::string_view delimiter, const Deadline& deadline,
                              std::string& out) {
  std::size_t searchFrom = 0;
  for (;;) {
    std::size_t at = buffer_.find(delimiter, searchFrom);
    if (at != std::string::npos) {
      out.assign(buffer_, 0, at);
      buffer_.erase(0, at + delimiter.size());
      return IoResult::kOk;
    }
    if (buffer_.size() >= delimiter.size()) searchFrom = buffer_.size() - delimiter.size() + 1;
    IoResult more = fill(deadline);
    if (more != IoResult::kOk) return more;
  }
}

IoResult TcpSocket::readExact(std::size_t count, const Deadline& deadline, std::string& out) {
  while (buffer_.size() < count) {
    IoResult more = fill(deadline);
    if (more != IoResult::kOk) return more;
  }
  out.assign(buffer_, 0, count);
  buffer_.erase(0, count);
  return IoResult::kOk;
}

IoResult TcpSocket::readToEof(const Deadline& deadline, std::string& out) {
  for (;;) {
    IoResult more = fill(deadline);
    if (more == IoResult::kEof) break;
    if (more != IoResult::kOk) return more;
  }
  out = std::move(buffer_);
  buffer_.clear();
  return IoResult::kOk;
}

}  // namespace chat::testing
