#pragma once
// RESP2, the Redis wire protocol, as pure functions: encode a command, decode
// one reply from a buffer. Used by RedisClient and unit-tested on its own.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::testing {

struct Reply {
  enum class Type { kStatus, kError, kInteger, kBulk, kNil, kArray };

  Type type = Type::kNil;
  std::string str;  // status, error or bulk content
  std::int64_t integer = 0;
  std::vector<Reply> elements;

  bool isError() const { return type == Type::kError; }
  bool isNil() const { return type == Type::kNil; }
  // The reply in redis-cli's style, for failure messages.
  std::string describe() const;
};

// `*N\r\n$len\r\narg\r\n...`: binary-safe, like redis-cli.
std::string encodeCommand(const std::vector<std::string>& args);

enum class DecodeStatus { kComplete, kNeedMore, kMalformed };

// Decodes one reply from the front of `input`; on kComplete `consumed` is its
// length in bytes.
DecodeStatus decodeReply(std::string_view input, Reply& reply, std::size_t& consumed);

}  // namespace chat::testing
