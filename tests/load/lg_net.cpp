#include "lg_net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "ws_handshake.h"

namespace chat::load {
namespace {

constexpr std::size_t kMaxPayload = 16 << 20;

std::uint32_t nextMask() {
  static thread_local std::uint64_t state = static_cast<std::uint64_t>(nowNs()) | 1;
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return static_cast<std::uint32_t>(state);
}

}  // namespace

std::int64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::optional<Target> parseTarget(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string host(text.substr(0, colon));
  if (host == "localhost") host = "127.0.0.1";
  int port = 0;
  const auto portText = text.substr(colon + 1);
  const auto [ptr, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || ptr != portText.data() + portText.size() || port <= 0 || port > 65535)
    return std::nullopt;
  Target target;
  target.addr.sin_family = AF_INET;
  target.addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &target.addr.sin_addr) != 1) return std::nullopt;
  // Loopback only: this tool never sends traffic off the machine.
  if ((ntohl(target.addr.sin_addr.s_addr) >> 24) != 127) return std::nullopt;
  target.hostPort = host + ":" + std::to_string(port);
  return target;
}

std::optional<in_addr> loopbackSource(int k) {
  if (k < 1 || k > 254) return std::nullopt;
  in_addr a{};
  a.s_addr = htonl((127u << 24) | static_cast<std::uint32_t>(k));
  return a;
}

Loop::Loop() : buffer_(256 * 1024) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
}

Loop::~Loop() {
  if (epfd_ >= 0) ::close(epfd_);
}

bool Loop::connect(Conn& conn, const Target& target, std::optional<in_addr> source,
                   const std::string& requestTarget, bool v1, std::string& why) {
  conn.state = Conn::State::kIdle;
  conn.opened = false;
  conn.v1 = v1;
  conn.closeCode = 0;
  conn.closeReason.clear();
  conn.out.clear();
  conn.outOffset = 0;
  conn.in.clear();
  conn.fragment.clear();
  conn.watchingWrite = false;
  conn.startNs = nowNs();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source) {
    // Let connect() choose the port per destination, so every source address
    // has its own ephemeral port range.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr = *source;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      why = std::string("bind: ") + std::strerror(errno);
      ::close(fd);
      return false;
    }
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target.addr), sizeof target.addr) != 0 &&
      errno != EINPROGRESS) {
    why = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  conn.fd = fd;
  conn.state = Conn::State::kConnecting;
  const std::string key = chat::testing::makeWebSocketKey();
  conn.acceptKey = chat::testing::computeAcceptKey(key);
  chat::testing::HandshakeRequest request;
  request.host = target.hostPort;
  request.target = requestTarget;
  request.key = key;
  if (v1) request.subprotocols = {"chat.v1"};
  conn.request = chat::testing::buildHandshakeRequest(request);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.ptr = &conn;
  conn.watchingWrite = true;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    why = std::string("epoll_ctl: ") + std::strerror(errno);
    ::close(fd);
    conn.fd = -1;
    conn.state = Conn::State::kClosed;
    return false;
  }
  return true;
}

void Loop::drop(Conn& conn) {
  if (conn.fd >= 0) ::close(conn.fd);  // also leaves the epoll set
  conn.fd = -1;
  conn.state = Conn::State::kClosed;
  conn.out.clear();
  conn.outOffset = 0;
}

void Loop::fail(Conn& conn, std::string_view why) {
  if (conn.state == Conn::State::kClosed) return;
  drop(conn);
  if (conn.handler != nullptr) conn.handler->onClosed(conn, why);
}

void Loop::setWriteInterest(Conn& conn, bool on) {
  if (conn.watchingWrite == on || conn.fd < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u);
  ev.data.ptr = &conn;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, conn.fd, &ev);
  conn.watchingWrite = on;
}

void Loop::flush(Conn& conn) {
  while (conn.outOffset < conn.out.size()) {
    const ssize_t n = ::send(conn.fd, conn.out.data() + conn.outOffset,
                             conn.out.size() - conn.outOffset, MSG_NOSIGNAL);
    if (n > 0) {
      conn.outOffset += static_cast<std::size_t>(n);
      bytesOut_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      setWriteInterest(conn, true);
      return;
    }
    fail(conn, std::string("send: ") + std::strerror(errno));
    return;
  }
  conn.out.clear();
  conn.outOffset = 0;
  if (conn.state == Conn::State::kOpen || conn.state == Conn::State::kHandshake)
    setWriteInterest(conn, false);
}

void Loop::sendText(Conn& conn, std::string_view payload) {
  if (conn.state != Conn::State::kOpen) return;
  const bool idle = conn.out.size() == conn.outOffset;
  appendMaskedFrame(conn.out, 0x1, payload, nextMask());
  if (idle) flush(conn);
}

void Loop::finishConnect(Conn& conn) {
  int error = 0;
  socklen_t len = sizeof error;
  getsockopt(conn.fd, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) {
    fail(conn, std::string("connect: ") + std::strerror(error));
    return;
  }
  conn.state = Conn::State::kHandshake;
  conn.out = std::move(conn.request);
  conn.request.clear();
  conn.outOffset = 0;
  flush(conn);
}

bool Loop::parseFrames(Conn& conn, std::string_view data, std::size_t& used) {
  used = 0;
  while (used < data.size()) {
    ServerFrame frame;
    const auto status = parseServerFrame(data.substr(used), kMaxPayload, frame);
    if (status == FrameStatus::kNeedMore) return true;
    if (status == FrameStatus::kError) {
      fail(conn, "malformed frame from server");
      return false;
    }
    used += frame.consumed;
    switch (frame.opcode) {
      case 0x9: {  // ping: pong with the same payload
        const bool idle = conn.out.size() == conn.outOffset;
        appendMaskedFrame(conn.out, 0xA, frame.payload, nextMask());
        if (idle) flush(conn);
        if (conn.state != Conn::State::kOpen) return false;
        continue;
      }
      case 0xA:
        continue;
      case 0x8: {
        if (frame.payload.size() >= 2) {
          conn.closeCode =
              static_cast<std::uint16_t>((static_cast<std::uint8_t>(frame.payload[0]) << 8) |
                                         static_cast<std::uint8_t>(frame.payload[1]));
          conn.closeReason = std::string(frame.payload.substr(2, 123));
        } else {
          conn.closeCode = 1005;
        }
        fail(conn, "closed by server " + std::to_string(conn.closeCode) + " " + conn.closeReason);
        return false;
      }
      case 0x0:
        conn.fragment.append(frame.payload);
        if (!frame.fin) continue;
        {
          std::string message;
          message.swap(conn.fragment);
          conn.handler->onText(conn, message);
        }
        break;
      default:  // text or binary
        if (!frame.fin) {
          conn.fragment.assign(frame.payload);
          continue;
        }
        conn.handler->onText(conn, frame.payload);
        break;
    }
    if (conn.state != Conn::State::kOpen) return false;
  }
  return true;
}

void Loop::readable(Conn& conn) {
  while (conn.state == Conn::State::kHandshake || conn.state == Conn::State::kOpen) {
    const ssize_t n = ::recv(conn.fd, buffer_.data(), buffer_.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      fail(conn,
           n == 0 ? "connection closed by peer" : std::string("recv: ") + std::strerror(errno));
      return;
    }
    bytesIn_ += static_cast<std::uint64_t>(n);
    std::string_view data(buffer_.data(), static_cast<std::size_t>(n));
    if (conn.state == Conn::State::kHandshake) {
      conn.in.append(data);
      const auto result = checkHandshakeResponse(conn.in, conn.acceptKey, conn.v1);
      if (result.status == HandshakeStatus::kNeedMore) {
        if (conn.in.size() > 16384) fail(conn, "handshake answer too large");
        continue;
      }
      if (result.status == HandshakeStatus::kRefused) {
        fail(conn, "handshake refused: " + result.statusLine);
        return;
      }
      conn.in.erase(0, result.headerBytes);
      conn.state = Conn::State::kOpen;
      conn.opened = true;
      conn.openNs = nowNs();
      if (conn.out.size() == conn.outOffset) setWriteInterest(conn, false);
      conn.handler->onOpen(conn);
      if (conn.state != Conn::State::kOpen) return;
      if (conn.in.empty()) continue;
      std::string pending;
      pending.swap(conn.in);
      std::size_t used = 0;
      if (!parseFrames(conn, pending, used)) return;
      conn.in.assign(pending, used);
      continue;
    }
    std::size_t used = 0;
    if (conn.in.empty()) {
      if (!parseFrames(conn, data, used)) return;
      if (used < data.size()) conn.in.assign(data.substr(used));
    } else {
      conn.in.append(data);
      std::string pending;
      pending.swap(conn.in);
      if (!parseFrames(conn, pending, used)) return;
      conn.in.assign(pending, used);
    }
    if (static_cast<std::size_t>(n) < buffer_.size()) return;
  }
}

void Loop::onEvent(Conn& conn, std::uint32_t events) {
  if (conn.state == Conn::State::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    finishConnect(conn);
    return;
  }
  if ((events & EPOLLOUT) != 0 && conn.state != Conn::State::kClosed) flush(conn);
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 &&
      conn.state != Conn::State::kClosed)
    readable(conn);
}

void Loop::watchLines(int fd, std::function<void(std::string_view)> onLine) {
  lineFd_ = fd;
  onLine_ = std::move(onLine);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &lineTag_;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

void Loop::readLines() {
  char chunk[4096];
  while (true) {
    const ssize_t n = ::read(lineFd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) {
      epoll_ctl(epfd_, EPOLL_CTL_DEL, lineFd_, nullptr);
      onLine_("eof");
      return;
    }
    lineBuffer_.append(chunk, static_cast<std::size_t>(n));
  }
  std::size_t nl;
  while ((nl = lineBuffer_.find('\n')) != std::string::npos) {
    const std::string line = lineBuffer_.substr(0, nl);
    lineBuffer_.erase(0, nl + 1);
    onLine_(line);
  }
}

void Loop::poll(int timeoutMs) {
  epoll_event events[512];
  const int n = epoll_wait(epfd_, events, 512, timeoutMs < 0 ? 0 : timeoutMs);
  for (int i = 0; i < n; ++i) {
    if (events[i].data.ptr == &lineTag_) {
      readLines();
      continue;
    }
    onEvent(*static_cast<Conn*>(events[i].data.ptr), events[i].events);
  }
  while (!deferred_.empty()) {
    auto work = std::move(deferred_);
    deferred_.clear();
    for (auto& fn : work)
      fn();
  }
}

}  // namespace chat::load
