#pragma once
// WebSocket client connections on raw non-blocking sockets, all driven by one
// epoll loop per process (no thread per connection): a non-blocking connect
// from a chosen loopback source address, the opening handshake, masked text
// frames out, frames in (ping answered, close recorded), and a line-based
// command pipe from the coordinating process. One thread per Loop.

#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lg_codec.h"

namespace chat::load {

// CLOCK_MONOTONIC in nanoseconds: comparable across the load generator's
// processes (send time in one, receive time in another).
std::int64_t nowNs();

struct Target {
  sockaddr_in addr{};
  std::string hostPort;  // "127.0.0.1:8080", the Host header
};

// Parses "127.0.0.1:8080"; only loopback addresses (127.0.0.0/8) are accepted.
std::optional<Target> parseTarget(std::string_view text);
// 127.0.0.k
std::optional<in_addr> loopbackSource(int k);

class Loop;
struct Conn;

class ConnHandler {
 public:
  virtual ~ConnHandler() = default;
  virtual void onOpen(Conn& conn) = 0;
  virtual void onText(Conn& conn, std::string_view payload) = 0;
  // The connection failed to open, or closed; conn.opened tells which.
  virtual void onClosed(Conn& conn, std::string_view why) = 0;
};

struct Conn {
  enum class State { kIdle, kConnecting, kHandshake, kOpen, kClosed };
  State state = State::kIdle;
  int fd = -1;
  std::uint32_t index = 0;  // the scenario's client number
  bool v1 = false;
  bool opened = false;  // reached kOpen at least once in this attempt
  ConnHandler* handler = nullptr;
  std::int64_t startNs = 0;  // connect() called
  std::int64_t openNs = 0;   // handshake accepted
  std::uint16_t closeCode = 0;
  std::string closeReason;
  // internals
  std::string out;
  std::size_t outOffset = 0;
  bool watchingWrite = false;
  std::string in;
  std::string fragment;
  std::string acceptKey;
  std::string request;
};

class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Starts a connection; false with `why` on an immediate failure (nothing
  // else is called then). Completion comes as onOpen or onClosed.
  bool connect(Conn& conn, const Target& target, std::optional<in_addr> source,
               const std::string& requestTarget, bool v1, std::string& why);
  void sendText(Conn& conn, std::string_view payload);
  // Closes the socket at once (no close handshake: a dropped client). No
  // callback follows.
  void drop(Conn& conn);

  // Lines from fd (the command pipe) go to onLine; EOF calls onLine("eof").
  void watchLines(int fd, std::function<void(std::string_view)> onLine);
  // Runs fn after the current batch of events (never inside a callback).
  void defer(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

  // One epoll_wait (up to timeoutMs) and its callbacks, then deferred work.
  void poll(int timeoutMs);

  std::uint64_t bytesIn() const { return bytesIn_; }
  std::uint64_t bytesOut() const { return bytesOut_; }

 private:
  void onEvent(Conn& conn, std::uint32_t events);
  void finishConnect(Conn& conn);
  void readable(Conn& conn);
  bool parseFrames(Conn& conn, std::string_view data, std::size_t& used);
  void flush(Conn& conn);
  void fail(Conn& conn, std::string_view why);
  void setWriteInterest(Conn& conn, bool on);
  void readLines();

  int epfd_ = -1;
  std::vector<char> buffer_;
  int lineFd_ = -1;
  std::string lineBuffer_;
  std::function<void(std::string_view)> onLine_;
  std::vector<std::function<void()>> deferred_;
  std::uint64_t bytesIn_ = 0;
  std::uint64_t bytesOut_ = 0;
  char lineTag_ = 0;
};

}  // namespace chat::load
