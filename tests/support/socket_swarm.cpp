#include "socket_swarm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace chat::testing {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

int pollAll(std::vector<pollfd>& entries, const Deadline& deadline) {
  for (;;) {
    const int ready = ::poll(entries.data(), entries.size(), deadline.pollTimeoutMs());
    if (ready >= 0 || errno != EINTR) return ready;
  }
}

}  // namespace

SocketSwarm::~SocketSwarm() {
  closeAll();
}

void SocketSwarm::closeSocket(Socket& socket, bool reset) {
  if (socket.fd < 0) return;
  if (reset) {
    linger option{1, 0};
    ::setsockopt(socket.fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  }
  ::close(socket.fd);
  socket.fd = -1;
}

void SocketSwarm::closeOne(std::size_t index, bool reset) {
  closeSocket(sockets_[index], reset);
}

void SocketSwarm::closeAll(bool reset) {
  for (Socket& socket : sockets_)
    closeSocket(socket, reset);
  sockets_.clear();
}

std::size_t SocketSwarm::openCount() const {
  std::size_t count = 0;
  for (const Socket& socket : sockets_)
    count += socket.fd >= 0 && !socket.peerEnded ? 1 : 0;
  return count;
}

std::size_t SocketSwarm::open(std::uint16_t port, std::size_t count, const Deadline& deadline,
                              SwarmOptions options) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  std::vector<Socket> pending;
  for (std::size_t i = 0; i < count; ++i) {
    Socket socket;
    socket.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (socket.fd < 0) break;
    int one = 1;
    ::setsockopt(socket.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (options.receiveBufferBytes > 0) {
      ::setsockopt(socket.fd, SOL_SOCKET, SO_RCVBUF, &options.receiveBufferBytes,
                   sizeof options.receiveBufferBytes);
    }
    if (::connect(socket.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 &&
        errno != EINPROGRESS) {
      closeSocket(socket, false);
      continue;
    }
    pending.push_back(std::move(socket));
  }

  // Wait for every connect to complete (writable), then check its outcome.
  std::vector<bool> done(pending.size(), false);
  std::size_t left = pending.size();
  while (left > 0 && !deadline.expired()) {
    std::vector<pollfd> entries;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      if (done[i]) continue;
      entries.push_back(pollfd{pending[i].fd, POLLOUT, 0});
      which.push_back(i);
    }
    if (pollAll(entries, deadline) <= 0) break;
    for (std::size_t k = 0; k < entries.size(); ++k) {
      if (entries[k].revents == 0) continue;
      done[which[k]] = true;
      --left;
    }
  }
  std::size_t connected = 0;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    int error = 0;
    socklen_t length = sizeof error;
    if (!done[i] || ::getsockopt(pending[i].fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 ||
        error != 0) {
      closeSocket(pending[i], true);
      continue;
    }
    sockets_.push_back(std::move(pending[i]));
    ++connected;
  }
  return connected;
}

bool SocketSwarm::sendTo(std::size_t index, std::string_view bytes, const Deadline& deadline) {
  Socket& socket = sockets_[index];
  while (!bytes.empty()) {
    if (socket.fd < 0) return false;
    const ssize_t sent = ::send(socket.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd entry{socket.fd, POLLOUT, 0};
      if (::poll(&entry, 1, deadline.pollTimeoutMs()) <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

std::size_t SocketSwarm::sendToAll(std::string_view bytes, const Deadline& deadline) {
  std::size_t sent = 0;
  for (std::size_t i = 0; i < sockets_.size(); ++i) {
    if (sockets_[i].fd >= 0 && !sockets_[i].peerEnded && sendTo(i, bytes, deadline)) ++sent;
  }
  return sent;
}

bool SocketSwarm::readSome(std::size_t index, const Deadline& deadline) {
  Socket& socket = sockets_[index];
  if (socket.fd < 0 || socket.peerEnded) return false;
  char buffer[kReadChunk];
  for (;;) {
    const ssize_t got = ::recv(socket.fd, buffer, sizeof buffer, 0);
    if (got > 0) {
      socket.input.append(buffer, static_cast<std::size_t>(got));
      return true;
    }
    if (got == 0) {
      socket.peerEnded = true;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      socket.peerEnded = true;  // reset by the peer
      return false;
    }
    pollfd entry{socket.fd, POLLIN, 0};
    if (::poll(&entry, 1, deadline.pollTimeoutMs()) <= 0) return true;
  }
}

std::size_t SocketSwarm::readUntilAll(std::string_view needle, const Deadline& deadline) {
  auto has = [&needle](const Socket& socket) {
    return socket.input.find(needle) != std::string::npos;
  };
  for (;;) {
    std::vector<pollfd> entries;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
      const Socket& socket = sockets_[i];
      if (socket.fd < 0 || socket.peerEnded || has(socket)) continue;
      entries.push_back(pollfd{socket.fd, POLLIN, 0});
      which.push_back(i);
    }
    if (entries.empty() || deadline.expired()) break;
    if (pollAll(entries, deadline) <= 0) break;
    for (std::size_t k = 0; k < entries.size(); ++k) {
      if (entries[k].revents != 0) readSome(which[k], Deadline(std::chrono::milliseconds(0)));
    }
  }
  std::size_t count = 0;
  for (const Socket& socket : sockets_)
    count += has(socket) ? 1 : 0;
  return count;
}

}  // namespace chat::testing
