#include "config/settings.h"

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <variant>

#include "auth/token_verifier.h"
#include "config/dotenv.h"
#include "util/origin.h"

namespace chat::common {
namespace {

// Applies a raw string to Settings; returns an error message or empty.
using Apply = std::function<std::string(Settings&, const std::string&)>;

struct Spec {
  const char* env;
  std::string defaultValue;
  const char* help;
  Apply apply;
};

template <typename Int>
std::optional<Int> parseInt(const std::string& s) {
  Int value{};
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

Apply sizeIn(std::size_t Settings::*field, std::size_t min, std::size_t max) {
  return [=](Settings& s, const std::string& raw) -> std::string {
    const auto v = parseInt<std::size_t>(raw);
    if (!v || *v < min || *v > max)
      return "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    s.*field = *v;
    return {};
  };
}

// 0.5 -> "0.5", 1e+06 -> "1000000".
std::string compact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

Apply number(double Settings::*field, double min, double max) {
  return [=](Settings& s, const std::string& raw) -> std::string {
    double v = 0;
    const auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
    if (raw.empty() || ec != std::errc() || ptr != raw.data() + raw.size() || !std::isfinite(v) ||
        v < min || v > max)
      return "must be a number from " + compact(min) + " to " + compact(max);
    s.*field = v;
    return {};
  };
}

Apply seconds(std::chrono::milliseconds Settings::*field, double min, double max) {
  return [=](Settings& s, const std::string& raw) -> std::string {
    double v = 0;
    const auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
    if (raw.empty() || ec != std::errc() || ptr != raw.data() + raw.size() || !std::isfinite(v) ||
        v < min || v > max) {
      return "must be a number of seconds from " + std::to_string(static_cast<int>(min)) + " to " +
             std::to_string(static_cast<int>(max));
    }
    s.*field = std::chrono::milliseconds(static_cast<long long>(std::llround(v * 1000)));
    return {};
  };
}

std::vector<Spec> specs(const SettingsSources& src) {
  return {
      {"PORT", "8080", "HTTP and WebSocket port (0 picks a free one)",
       [](Settings& s, const std::string& raw) -> std::string {
         const auto v = parseInt<std::uint16_t>(raw);
         if (!v) return "must be a port number from 0 to 65535";
         s.port = *v;
         return {};
       }},
      {"REDIS_URL", "redis://127.0.0.1:6379",
       "redis://[user:password@]host:port[/db], rediss://..., unix:///path, "
       "redis+sentinel://host:port[,host:port...]/master-name, or "
       "redis+cluster://host:port[,host:port...]",
       [](Settings& s, const std::string& raw) -> std::string {
         auto parsed = parseRedisUrl(raw);
         if (auto* err = std::get_if<std::string>(&parsed)) return *err;
         s.redis = std::get<RedisEndpoint>(parsed);
         s.redisUrl = raw;
         return {};
       }},
      {"REDIS_TLS_VERIFY", "on",
       "rediss://: on checks the certificate and host name; none trusts any (Heroku Redis)",
       [](Settings& s, const std::string& raw) -> std::string {
         if (raw != "on" && raw != "none") return "must be on or none";
         s.redisTlsVerify = raw == "on";
         return {};
       }},
      {"REDIS_TLS_CA", "", "rediss://: a CA certificate file (PEM) to trust besides the system's",
       [](Settings& s, const std::string& raw) -> std::string {
         s.redisTlsCa = raw;
         return {};
       }},
      {"REDIS_SENTINEL_PASSWORD", "",
       "redis+sentinel://: the sentinels' password, if they need one",
       [](Settings& s, const std::string& raw) -> std::string {
         s.redisSentinelPassword = raw;
         return {};
       }},
      {"REDIS_TIMEOUT", "5",
       "seconds a Redis link may leave a command unanswered before it counts as down",
       seconds(&Settings::redisTimeout, 0.1, 3600)},
      {"ACK_REPLICAS", "0",
       "replicas that must have a message (Redis WAIT, 1 s) before it is acked; 0: the primary",
       [](Settings& s, const std::string& raw) -> std::string {
         if (raw.empty() || raw.size() > 2 ||
             raw.find_first_not_of("0123456789") != std::string::npos || std::stoi(raw) > 16)
           return "must be a whole number from 0 to 16";
         s.ackReplicas = static_cast<unsigned>(std::stoi(raw));
         return {};
       }},
      {"CLUSTER_PUBSUB", "sharded",
       "redis+cluster:// pub/sub: sharded (SPUBLISH, within a shard) or classic (PUBLISH, to "
       "every node)",
       [](Settings& s, const std::string& raw) -> std::string {
         if (raw != "sharded" && raw != "classic") return "must be sharded or classic";
         s.shardedPubsub = raw == "sharded";
         return {};
       }},
      {"REDIS_PREFIX", "chat", "prefix of every Redis key and channel",
       [](Settings& s, const std::string& raw) -> std::string {
         if (raw.empty() || raw.size() > 64) return "must be 1-64 characters";
         for (char c : raw) {
           if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' &&
               c != ':')
             return "may hold only letters, digits and _ - . :";
         }
         s.redisPrefix = raw;
         return {};
       }},
      {"HISTORY_SIZE", "1000", "messages kept per room in Redis",
       sizeIn(&Settings::historySize, 1, 1000000)},
      {"HISTORY_ON_JOIN", "100", "recent messages a client gets when it joins",
       sizeIn(&Settings::historyOnJoin, 0, 100000)},
      {"STATIC_DIR", src.defaultStaticDir, "directory of the browser frontend",
       [](Settings& s, const std::string& raw) -> std::string {
         if (raw.empty()) return "must not be empty";
         s.staticDir = raw;
         return {};
       }},
      {"GATEWAY_ID", src.defaultGatewayId, "this process's name in logs and frames",
       [](Settings& s, const std::string& raw) -> std::string {
         if (raw.empty() || raw.size() > 64) return "must be 1-64 characters";
         s.gatewayId = raw;
         return {};
       }},
      {"LOG_LEVEL", "info", "debug, info, warn or error",
       [](Settings& s, const std::string& raw) -> std::string {
         static const std::map<std::string, LogLevel> levels = {{"debug", LogLevel::kDebug},
                                                                {"info", LogLevel::kInfo},
                                                                {"warn", LogLevel::kWarn},
                                                                {"error", LogLevel::kError}};
         const auto it = levels.find(raw);
         if (it == levels.end()) return "must be debug, info, warn or error";
         s.logLevel = it->second;
         return {};
       }},
      {"MAX_FRAME_BYTES", "8192", "largest client frame accepted",
       sizeIn(&Settings::maxFrameBytes, 256, 16 << 20)},
      {"MAX_TEXT_LENGTH", "2000", "longest message text, in characters",
       sizeIn(&Settings::maxTextCodePoints, 1, 1 << 20)},
      {"MAX_QUEUE_BYTES", "1048576", "outbound bytes queued per client before it is cut off",
       sizeIn(&Settings::maxQueueBytes, 4096, std::size_t{1} << 32)},
      {"MAX_QUEUE_FRAMES", "1024", "outbound frames queued per client before it is cut off",
       sizeIn(&Settings::maxQueueFrames, 1, 1 << 20)},
      {"WRITE_GAP_MS", "0",
       "least ms between two write passes; frames that arrive meanwhile share one send "
       "per client (0: write at once)",
       sizeIn(&Settings::writeGapMs, 0, 1000)},
      {"MAX_CONNECTIONS", "100000", "WebSocket connections per worker process; more get 503",
       sizeIn(&Settings::maxConnections, 1, 10000000)},
      {"MAX_ROOMS_PER_CONNECTION", "32", "rooms one v1 connection may join",
       sizeIn(&Settings::maxRoomsPerConnection, 1, 10000)},
      {"PRESENCE_TTL", "30", "seconds a crashed gateway's users stay listed as present",
       seconds(&Settings::presenceTtl, 0.5, 3600)},
      {"PRESENCE_LIST_MAX", "100", "users a v1 joined frame lists at most (online counts all)",
       sizeIn(&Settings::presenceListMax, 1, 10000)},
      {"PRESENCE_EVENTS_MAX", "200",
       "users a room may have with per-user join/leave events; above it, online counts",
       sizeIn(&Settings::presenceEventsMax, 0, 1000000)},
      {"API_KEY", "", "bearer key of the REST publish and the operator API (unset: both off)",
       [](Settings& s, const std::string& raw) -> std::string {
         if (!raw.empty() && raw.size() < 16) return "must be at least 16 characters";
         s.apiKey = raw;
         return {};
       }},
      {"RATE_LIMIT", "10", "messages per second one connection may send",
       number(&Settings::rateLimit, 0.1, 1e9)},
      {"RATE_BURST", "20", "messages one connection may send in a burst",
       number(&Settings::rateBurst, 1, 1e9)},
      {"ALLOWED_ORIGINS", "",
       "comma list of browser origins allowed to connect; unset: same host only; * any",
       [](Settings& s, const std::string& raw) -> std::string {
         OriginPolicy policy;
         std::string error;
         if (!parseOriginPolicy(raw, policy, error)) return error;
         s.allowedOrigins = raw;
         return {};
       }},
      {"AUTH_SECRET", "",
       "HS256 secret of client JWTs; unset with no other AUTH_ setting: no token",
       [](Settings& s, const std::string& raw) -> std::string {
         if (!raw.empty() && raw.size() < 16) return "must be at least 16 characters";
         s.authSecret = raw;
         return {};
       }},
      {"AUTH_PUBLIC_KEY", "",
       "PEM file of the RSA or EC P-256 public key that checks RS256/ES256 tokens",
       [](Settings& s, const std::string& raw) -> std::string {
         s.authPublicKeyPath = raw;
         s.authPublicKeyPem.clear();
         if (raw.empty()) return {};
         // A regular file only: a FIFO or a device could block the start.
         std::error_code error;
         if (!std::filesystem::is_regular_file(raw, error)) return raw + " is not a readable file";
         std::FILE* file = std::fopen(raw.c_str(), "rb");
         if (file == nullptr) return "cannot read " + raw;
         char buffer[16384];
         const std::size_t size = std::fread(buffer, 1, sizeof buffer, file);
         std::fclose(file);
         if (size == sizeof buffer) return raw + " is too large for a public key";
         s.authPublicKeyPem.assign(buffer, size);
         if (auto problem = checkPublicKey(s.authPublicKeyPem); !problem.empty())
           return raw + ": " + problem;
         return {};
       }},
      {"AUTH_JWKS_URL", "",
       "http(s) URL of a JWKS whose keys (by kid) check RS256/ES256 tokens; fetched again on an "
       "unknown kid, at most every 5 s",
       [](Settings& s, const std::string& raw) -> std::string {
         s.authJwksUrl.clear();
         s.jwksRing.reset();
         if (raw.empty()) return {};
         const bool scheme = raw.rfind("http://", 0) == 0 || raw.rfind("https://", 0) == 0;
         const bool clean = std::none_of(raw.begin(), raw.end(), [](char c) {
           return static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
         });
         if (!scheme || !clean || raw.size() > 2048)
           return "must be an http:// or https:// URL, as in "
                  "https://login.example.com/.well-known/jwks.json";
         s.authJwksUrl = raw;
         s.jwksRing = std::make_shared<JwksKeyRing>();
         return {};
       }},
      {"AUTH_AUDIENCE", "", "when set, a token's aud must name it",
       [](Settings& s, const std::string& raw) -> std::string {
         s.authAudience = raw;
         return {};
       }},
      {"AUTH_ISSUER", "", "when set, a token's iss must be it",
       [](Settings& s, const std::string& raw) -> std::string {
         s.authIssuer = raw;
         return {};
       }},
      {"AUTH_COOKIE", "", "name of a cookie that may carry the token (a URL token wins)",
       [](Settings& s, const std::string& raw) -> std::string {
         const bool token = std::all_of(raw.begin(), raw.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
         });
         if (raw.size() > 64 || !token) return "must be up to 64 of A-Z a-z 0-9 _ - .";
         s.authCookie = raw;
         return {};
       }},
      {"TOKEN_URL", "",
       "path on the page's origin where the bundled page gets a token (GET, with its cookies)",
       [](Settings& s, const std::string& raw) -> std::string {
         const bool ok = raw.empty() || (raw.size() <= 512 && raw.front() == '/' &&
                                         raw.find_first_of("\"'<> \t\r\n\\") == std::string::npos &&
                                         raw.substr(0, 2) != "//");
         if (!ok) return "must be a path on the page's origin, as in /auth/chat-token";
         s.tokenUrl = raw;
         return {};
       }},
      {"MAX_CONNECTIONS_PER_IP", "0",
       "WebSocket connections per client address and worker; 0: no cap",
       sizeIn(&Settings::maxConnectionsPerIp, 0, 10000000)},
      {"TRUSTED_PROXY_HEADER", "",
       "header naming the client address behind a load balancer (e.g. X-Forwarded-For)",
       [](Settings& s, const std::string& raw) -> std::string {
         for (char c : raw) {
           if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
             return "must be a header name like X-Forwarded-For";
         }
         s.trustedProxyHeader = raw;
         return {};
       }},
      {"COMPRESSION", "off", "permessage-deflate: on or off",
       [](Settings& s, const std::string& raw) -> std::string {
         if (raw != "on" && raw != "off") return "must be on or off";
         s.compression = raw == "on";
         return {};
       }},
      {"WORKERS", src.defaultWorkers,
       "gateway processes sharing PORT under one supervisor (default: usable cores)",
       sizeIn(&Settings::workers, 1, 256)},
      {"PING_INTERVAL", "25", "seconds between pings to each client",
       seconds(&Settings::pingInterval, 1, 3600)},
      {"PING_TIMEOUT", "60", "seconds without an answer before a client is dropped",
       seconds(&Settings::pingTimeout, 1, 3600)},
      {"SHUTDOWN_TIMEOUT", "10", "seconds a SIGTERM drain may take",
       seconds(&Settings::shutdownTimeout, 0, 3600)},
  };
}

std::string flagName(const std::string& env) {
  std::string flag = "--";
  for (char c : env)
    flag += c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return flag;
}

}  // namespace

std::vector<SettingInfo> describeSettings(const SettingsSources& sources) {
  std::vector<SettingInfo> rows;
  for (const auto& spec : specs(sources))
    rows.push_back({spec.env, flagName(spec.env), spec.defaultValue, spec.help});
  return rows;
}

namespace {

// Settings that are each valid but cannot work together, refused at start
// rather than found out by clients.
std::string contradiction(const Settings& s) {
  if (s.historyOnJoin > s.maxQueueFrames)
    return "HISTORY_ON_JOIN (" + std::to_string(s.historyOnJoin) +
           ") is more than MAX_QUEUE_FRAMES (" + std::to_string(s.maxQueueFrames) +
           "): every join would cut its own client off as a slow consumer";
  return {};
}

}  // namespace

// A setting's value from the environment, with the names platforms set
// (Heroku): REDIS_TLS_URL, the TLS address of Heroku Redis, in place of
// REDIS_URL; WEB_CONCURRENCY when WORKERS is not set. With where it came from.
std::optional<std::pair<std::string, std::string>> platformEnv(const SettingsSources& sources,
                                                               const std::string& name) {
  if (name == "REDIS_URL") {
    if (auto tls = sources.getenv("REDIS_TLS_URL"); tls && !tls->empty())
      return std::pair{*tls, std::string("environment REDIS_TLS_URL")};
  }
  if (auto value = sources.getenv(name)) return std::pair{*value, std::string("environment")};
  if (name == "WORKERS") {
    if (auto concurrency = sources.getenv("WEB_CONCURRENCY"); concurrency && !concurrency->empty())
      return std::pair{*concurrency, std::string("environment WEB_CONCURRENCY")};
  }
  return std::nullopt;
}

SettingsResult loadSettings(const SettingsSources& sources) {
  const auto table = specs(sources);

  std::map<std::string, std::string> dotEnv;
  if (sources.dotEnvContent) {
    auto parsed = parseDotEnv(*sources.dotEnvContent);
    if (auto* err = std::get_if<std::string>(&parsed))
      return {std::nullopt, 2, {}, ".env: " + *err};
    for (auto& [k, v] : std::get<DotEnvEntries>(parsed))
      dotEnv[k] = v;
  }

  CLI::App app{"chat-gateway: a horizontally scaled WebSocket chat gateway on Redis"};
  app.get_formatter()->column_width(28);
  std::vector<std::string> flagValues(table.size());
  std::vector<CLI::Option*> options;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto& spec = table[i];
    auto* opt = app.add_option(flagName(spec.env), flagValues[i],
                               std::string(spec.help) + " [env " + spec.env + "]");
    opt->default_str(spec.defaultValue.empty() ? "\"\"" : spec.defaultValue);
    opt->type_name("");
    options.push_back(opt);
  }

  std::vector<std::string> args(sources.args.rbegin(), sources.args.rend());  // CLI11 wants reverse
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    return {std::nullopt, 0, app.help(), {}};
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, 2, {}, std::string("command line: ") + e.what()};
  }

  Settings settings;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto& spec = table[i];
    std::string value = spec.defaultValue;
    std::string origin = "default";
    if (auto it = dotEnv.find(spec.env); it != dotEnv.end()) {
      value = it->second;
      origin = ".env";
    }
    if (auto env = platformEnv(sources, spec.env)) {
      value = env->first;
      origin = env->second;
    }
    if (options[i]->count() > 0) {
      value = flagValues[i];
      origin = "flag " + flagName(spec.env);
    }
    if (auto err = spec.apply(settings, value); !err.empty())
      return {std::nullopt, 2, {}, std::string(spec.env) + " (" + origin + "): " + err};
  }
  if (auto err = contradiction(settings); !err.empty()) return {std::nullopt, 2, {}, err};
  settings.redis.sentinelPassword = settings.redisSentinelPassword;
  return {std::move(settings), 0, {}, {}};
}

}  // namespace chat::common
