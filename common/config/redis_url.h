#pragma once
// Parses REDIS_URL: redis://[user:password@]host:port[/db], rediss://... (TLS)
// and unix:///path/to/socket. Pure, any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace chat::common {

struct RedisEndpoint {
  bool unixSocket = false;
  bool tls = false;  // rediss://
  std::string host;  // TCP only
  std::uint16_t port = 6379;
  std::string path;      // unix only
  std::string username;  // empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECT when non-zero

  // The URL without its password, for logs.
  std::string redacted() const;
};

// The endpoint, or an error message saying what is wrong with the URL.
std::variant<RedisEndpoint, std::string> parseRedisUrl(std::string_view url);

// Decodes %XX escapes; nullopt-like empty result is signalled by `ok`.
std::string percentDecode(std::string_view in, bool& ok);

}  // namespace chat::common
