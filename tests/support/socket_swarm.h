#pragma once
// Many raw loopback TCP connections driven together from one thread with
// poll(2), for tests of what crowds of clients do to a server: slow handshake
// senders, connection churn, readers that never read. Every operation takes a
// deadline and returns how many sockets got through, so a test states its
// own bounds. Sockets are non-blocking; nothing here sleeps. Owned and used by
// one thread; the destructor closes whatever is still open.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wait.h"

namespace chat::testing {

struct SwarmOptions {
  // SO_RCVBUF set before connecting (0: the kernel's default), so a reader
  // that never reads fills up after this many bytes rather than megabytes.
  int receiveBufferBytes = 0;
};

class SocketSwarm {
 public:
  SocketSwarm() = default;
  ~SocketSwarm();

  SocketSwarm(const SocketSwarm&) = delete;
  SocketSwarm& operator=(const SocketSwarm&) = delete;

  // Opens `count` more connections to 127.0.0.1:port; returns how many of
  // them completed their TCP connect before the deadline (the others are
  // closed and not added).
  std::size_t open(std::uint16_t port, std::size_t count, const Deadline& deadline,
                   SwarmOptions options = {});

  std::size_t size() const { return sockets_.size(); }
  // Sockets that are neither closed by us nor ended by the peer.
  std::size_t openCount() const;

  // Sends `bytes` (the same to each) on every open socket; returns how many
  // sent all of it before the deadline.
  std::size_t sendToAll(std::string_view bytes, const Deadline& deadline);
  // Sends `bytes` on socket `index` only.
  bool sendTo(std::size_t index, std::string_view bytes, const Deadline& deadline);

  // Reads on every open socket until its input holds `needle` (or it ends, or
  // the deadline passes); returns how many hold `needle`.
  std::size_t readUntilAll(std::string_view needle, const Deadline& deadline);
  // Reads what socket `index` has (at least one byte unless it ended or the
  // deadline passed); false once the peer has ended the stream.
  bool readSome(std::size_t index, const Deadline& deadline);

  const std::string& input(std::size_t index) const { return sockets_[index].input; }
  std::string& mutableInput(std::size_t index) { return sockets_[index].input; }
  bool peerEnded(std::size_t index) const { return sockets_[index].peerEnded; }

  // Closes socket `index` (its slot stays, closed): with a FIN, or with an
  // RST when `reset` (SO_LINGER 0).
  void closeOne(std::size_t index, bool reset = false);
  // Closes every socket the same way and forgets them all.
  void closeAll(bool reset = false);

 private:
  struct Socket {
    int fd = -1;
    std::string input;
    bool peerEnded = false;
  };

  static void closeSocket(Socket& socket, bool reset);

  std::vector<Socket> sockets_;
};

}  // namespace chat::testing
