#pragma once
// A blocking-style TCP connection to 127.0.0.1 whose every operation takes a
// deadline, with an input buffer for the line- and length-framed protocols the
// test clients speak (HTTP, RESP, WebSocket). The fd is non-blocking and each
// call waits with poll(2), so no test can hang on a silent peer. Owned by one
// client object, used by one thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "wait.h"

namespace chat::testing {

enum class IoResult { kOk, kEof, kTimeout, kError };

const char* describe(IoResult result);

class TcpSocket {
 public:
  TcpSocket() = default;
  ~TcpSocket();

  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;
  TcpSocket(TcpSocket&& other) noexcept;
  TcpSocket& operator=(TcpSocket&& other) noexcept;

  // Connects to 127.0.0.1:port; false with lastError() set on failure.
  bool connect(std::uint16_t port, const Deadline& deadline);

  bool isOpen() const { return fd_ >= 0; }
  void close();

  // Sends every byte or fails; a peer that closed gives kError (never SIGPIPE).
  IoResult sendAll(std::string_view data, const Deadline& deadline);

  // Reads whatever arrives next (at least one byte) into buffer().
  IoResult fill(const Deadline& deadline);

  // Consumes up to and including `delimiter` from the input; `out` gets the
  // bytes before it.
  IoResult readUntil(std::string_view delimiter, const Deadline& deadline, std::string& out);
  // Consumes exactly `count` bytes.
  IoResult readExact(std::size_t count, const Deadline& deadline, std::string& out);
  // Consumes everything up to the peer's end of stream.
  IoResult readToEof(const Deadline& deadline, std::string& out);

  // Bytes received and not consumed yet; decoders parse it and erase what
  // they used.
  std::string& buffer() { return buffer_; }

  const std::string& lastError() const { return lastError_; }

 private:
  int fd_ = -1;
  std::string buffer_;
  std::string lastError_;
};

}  // namespace chat::testing
