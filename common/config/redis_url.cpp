#include "config/redis_url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace chat::common {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename Int>
bool parseWhole(std::string_view s, Int& out) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::string percentDecode(std::string_view in, bool& ok) {
  std::string out;
  out.reserve(in.size());
  ok = true;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) {
      ok = false;
      return {};
    }
    const int hi = hexValue(in[i + 1]);
    const int lo = hexValue(in[i + 2]);
    if (hi < 0 || lo < 0) {
      ok = false;
      return {};
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string RedisEndpoint::redacted() const {
  if (unixSocket) return "unix://" + path;
  if (sentinel || cluster) {
    std::string url =
        sentinel ? "redis+sentinel://" : (tls ? "rediss+cluster://" : "redis+cluster://");
    if (!password.empty()) url += username + ":***@";
    const auto& hosts = sentinel ? sentinels : seeds;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      if (i > 0) url += ',';
      const bool ipv6 = hosts[i].first.find(':') != std::string::npos;
      url += ipv6 ? "[" + hosts[i].first + "]" : hosts[i].first;
      url += ':' + std::to_string(hosts[i].second);
    }
    return sentinel ? url + "/" + masterName : url;
  }
  std::string url = tls ? "rediss://" : "redis://";
  if (!password.empty()) url += username + ":***@";
  const bool ipv6 = host.find(':') != std::string::npos;
  url += ipv6 ? "[" : "";
  url += host;
  url += ipv6 ? "]:" : ":";
  url += std::to_string(port);
  if (db != 0) {
    url += '/';
    url += std::to_string(db);
  }
  return url;
}

namespace {

// "host:port", "[v6]:port" or "host" (port 6379) into host and port.
std::string parseHostPort(std::string_view rest, std::string& host, std::uint16_t& port) {
  std::string_view portPart;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:6379
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return "unclosed [ in host";
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "expected :port after ]";
      portPart = rest.substr(1);
    }
  } else {
    const auto colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) portPart = rest.substr(colon + 1);
  }
  if (host.empty()) return "missing host";
  if (!portPart.empty() && (!parseWhole(portPart, port) || port == 0))
    return "port must be a number from 1 to 65535";
  return {};
}

std::string parseUserInfo(std::string_view& rest, RedisEndpoint& ep) {
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    bool ok = true;
    bool ok2 = true;
    if (colon == std::string_view::npos) {
      ep.password = percentDecode(userinfo, ok);  // redis://password@host
    } else {
      ep.username = percentDecode(userinfo.substr(0, colon), ok);
      ep.password = percentDecode(userinfo.substr(colon + 1), ok2);
    }
    if (!ok || !ok2) return "bad %-escape in user or password";
  }
  return {};
}

// "host:port,host:port,..." into `hosts`, each port `defaultPort` when absent.
std::string parseHostList(std::string_view rest, std::uint16_t defaultPort,
                          std::vector<std::pair<std::string, std::uint16_t>>& hosts) {
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string host;
    std::uint16_t port = defaultPort;
    if (auto error = parseHostPort(rest.substr(0, comma), host, port); !error.empty()) return error;
    hosts.emplace_back(std::move(host), port);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
    if (rest.empty()) return "a host list must not end with a comma";
  }
  return {};
}

// redis+sentinel://[user:password@]host:port[,host:port...]/master-name
std::variant<RedisEndpoint, std::string> parseSentinelUrl(std::string_view rest) {
  RedisEndpoint ep;
  ep.sentinel = true;
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 >= rest.size())
    return std::string(
        "redis+sentinel:// needs the master name, as in redis+sentinel://host:26379/mymaster");
  ep.masterName = rest.substr(slash + 1);
  if (ep.masterName.find('/') != std::string::npos)
    return std::string("redis+sentinel:// takes no database: use /master-name only");
  const bool plainName =
      ep.masterName.size() <= 64 &&
      std::all_of(ep.masterName.begin(), ep.masterName.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (!plainName) return std::string("the master name must be 1-64 of A-Z a-z 0-9 - _ .");
  rest = rest.substr(0, slash);
  if (auto error = parseUserInfo(rest, ep); !error.empty()) return error;
  if (auto error = parseHostList(rest, 26379, ep.sentinels); !error.empty()) return error;
  if (ep.sentinels.empty()) return std::string("redis+sentinel:// needs at least one sentinel");
  ep.host = ep.sentinels.front().first;
  ep.port = ep.sentinels.front().second;
  return ep;
}

// redis+cluster://[user:password@]host:port[,host:port...] (database 0 only)
std::variant<RedisEndpoint, std::string> parseClusterUrl(std::string_view rest) {
  RedisEndpoint ep;
  ep.cluster = true;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (slash + 1 < rest.size())
      return std::string("redis+cluster:// takes no database: a cluster has database 0 only");
    rest = rest.substr(0, slash);
  }
  if (auto error = parseUserInfo(rest, ep); !error.empty()) return error;
  if (auto error = parseHostList(rest, 6379, ep.seeds); !error.empty()) return error;
  if (ep.seeds.empty()) return std::string("redis+cluster:// needs at least one seed node");
  ep.host = ep.seeds.front().first;
  ep.port = ep.seeds.front().second;
  return ep;
}

}  // namespace

std::variant<RedisEndpoint, std::string> parseRedisUrl(std::string_view url) {
  RedisEndpoint ep;
  if (url.substr(0, 17) == "redis+sentinel://") return parseSentinelUrl(url.substr(17));
  if (url.substr(0, 18) == "rediss+sentinel://")
    return std::string("rediss+sentinel:// (TLS through Sentinel) is not supported yet");
  if (url.substr(0, 16) == "redis+cluster://") return parseClusterUrl(url.substr(16));
  if (url.substr(0, 17) == "rediss+cluster://") {
    auto parsed = parseClusterUrl(url.substr(17));
    if (auto* cluster = std::get_if<RedisEndpoint>(&parsed)) cluster->tls = true;
    return parsed;
  }
  constexpr std::string_view kUnix = "unix://";
  if (url.substr(0, kUnix.size()) == kUnix) {
    ep.unixSocket = true;
    ep.path = url.substr(kUnix.size());
    if (ep.path.empty() || ep.path.front() != '/')
      return std::string("unix:// needs an absolute socket path, as in unix:///run/redis.sock");
    return ep;
  }
  std::string_view rest;
  if (url.substr(0, 8) == "redis://") {
    rest = url.substr(8);
  } else if (url.substr(0, 9) == "rediss://") {
    rest = url.substr(9);
    ep.tls = true;
  } else {
    return std::string(
        "must start with redis://, rediss://, redis+sentinel://, redis+cluster:// or unix://");
  }

  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    const auto dbPart = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!dbPart.empty() && (!parseWhole(dbPart, ep.db) || ep.db < 0))
      return std::string("database must be a non-negative number");
  }
  if (auto error = parseUserInfo(rest, ep); !error.empty()) return error;
  if (auto error = parseHostPort(rest, ep.host, ep.port); !error.empty()) return error;
  return ep;
}

}  // namespace chat::common
