#pragma once
// A tiny blocking Redis client so tests can look at what the gateway stored
// (LRANGE, LLEN, HGETALL), break things on purpose (DEL, CLIENT KILL) or publish
// (PUBLISH). One connection, one thread; every call has a deadline and throws
// std::runtime_error on network failure, so a test never hangs on Redis.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "resp.h"
#include "tcp_socket.h"

namespace chat::testing {

class RedisClient {
 public:
  // Connects to 127.0.0.1:port; throws when it cannot.
  explicit RedisClient(std::uint16_t port,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // Sends a command and returns its reply; Redis errors come back as
  // Reply::Type::kError, not as exceptions.
  Reply command(const std::vector<std::string>& args);

  // Reads the next reply without sending anything (a subscribed connection's
  // messages); nullopt when none arrives in time.
  std::optional<Reply> readReply(std::chrono::milliseconds timeout);

  // Shorthands that throw unless the reply has the expected type.
  std::int64_t integer(const std::vector<std::string>& args);
  std::vector<std::string> strings(const std::vector<std::string>& args);  // array of bulks
  std::map<std::string, std::string> hash(const std::string& key);         // HGETALL

 private:
  TcpSocket socket_;
  std::chrono::milliseconds timeout_;
};

}  // namespace chat::testing
