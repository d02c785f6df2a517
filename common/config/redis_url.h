#pragma once
// Parses REDIS_URL (docs/protocol.md section 9): redis://[user:password@]host:port[/db],
// rediss://... (TLS), unix:///path/to/socket, redis+sentinel://sentinels/master
// and redis+cluster://seeds. Pure, any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

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
  // redis+sentinel://: the primary is found through these sentinels (host,
  // port), under `masterName`; `host` and `port` are then the first sentinel.
  bool sentinel = false;
  std::vector<std::pair<std::string, std::uint16_t>> sentinels;
  std::string masterName;
  std::string sentinelPassword;  // REDIS_SENTINEL_PASSWORD: AUTH to the sentinels
  // redis+cluster:// (rediss+cluster:// with TLS to every node): a Redis
  // Cluster reached through any of these seed nodes (host, port); `host` and
  // `port` are then the first seed.
  bool cluster = false;
  std::vector<std::pair<std::string, std::uint16_t>> seeds;

  // The URL without its password, for logs.
  std::string redacted() const;
};

// The endpoint, or an error message saying what is wrong with the URL.
std::variant<RedisEndpoint, std::string> parseRedisUrl(std::string_view url);

// Decodes %XX escapes; nullopt-like empty result is signalled by `ok`.
std::string percentDecode(std::string_view in, bool& ok);

}  // namespace chat::common
