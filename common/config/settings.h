#pragma once
// The gateway's configuration (docs/protocol.md section 7): every setting comes from
// the environment, from `.env` (never overriding the environment), or from a
// `--flag` of the same name, which wins. One table (settings.cpp) names each
// setting, its default and its help text, so `--help`, the parsers and the
// README table cannot drift apart. Built once at start-up on the main thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <vector>
#include "auth/token_verifier.h"

#include "config/redis_url.h"

namespace chat::common {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct Settings {
  std::uint16_t port = 8080;
  RedisEndpoint redis;
  std::string redisUrl = "redis://127.0.0.1:6379";
  std::string redisPrefix = "chat";
  bool redisTlsVerify = true;  // rediss://: check the certificate and host name
  std::string redisTlsCa;      // rediss://: extra CA file (PEM)
  std::size_t historySize = 1000;
  std::size_t historyOnJoin = 100;
  std::string staticDir;
  std::string gatewayId;
  LogLevel logLevel = LogLevel::kInfo;
  std::size_t maxFrameBytes = 8192;
  std::size_t maxTextCodePoints = 2000;
  std::size_t maxQueueBytes = 1 << 20;
  std::size_t maxQueueFrames = 1024;
  std::size_t maxConnections = 100000;
  std::size_t maxRoomsPerConnection = 32;
  std::chrono::milliseconds presenceTtl{30000};
  std::size_t presenceListMax = 100;    // users a `joined` lists
  std::size_t presenceEventsMax = 200;  // per-user presence events up to this many users
  std::string apiKey;                   // empty: the publish API is off
  double rateLimit = 10;                // messages per second per connection
  double rateBurst = 20;
  std::string allowedOrigins;     // empty: same host only; "*": any
  std::string authSecret;         // HS256; empty with no other auth setting: no token needed
  std::string authPublicKeyPem;   // AUTH_PUBLIC_KEY's content: RS256 / ES256
  std::string authPublicKeyPath;  // where it was read from (for --help and logs)
  std::string authAudience;       // required `aud` when not empty
  std::string authIssuer;         // required `iss` when not empty
  std::string authJwksUrl;        // AUTH_JWKS_URL: where the signing keys are fetched
  // Its keys once fetched, shared by every tokenKeys() of this process.
  std::shared_ptr<JwksKeyRing> jwksRing;
  std::string authCookie;  // cookie that may carry the token
  std::string tokenUrl;    // where the bundled page gets a token (a path)

  // What client tokens are checked against (any set: a token is required).
  TokenKeys tokenKeys() const {
    return {authSecret, authPublicKeyPem, authAudience, authIssuer, jwksRing};
  }
  std::size_t maxConnectionsPerIp = 0;  // 0: no cap
  std::string trustedProxyHeader;       // e.g. X-Forwarded-For; empty: the peer address
  bool compression = false;
  std::size_t writeGapMs = 0;  // least time between two write passes (0: every loop turn)
  std::size_t workers = 1;     // processes sharing PORT (SO_REUSEPORT) under one supervisor
  std::chrono::milliseconds pingInterval{25000};
  std::chrono::milliseconds pingTimeout{60000};
  std::chrono::milliseconds shutdownTimeout{10000};
  std::string redisSentinelPassword;
  // redis+cluster://: sharded pub/sub (SPUBLISH/SSUBSCRIBE), or classic
  // (PUBLISH/SUBSCRIBE, which every node forwards to every other: kept for
  // comparison in benchmarks and for clusters that restrict sharded pub/sub).
  bool shardedPubsub = true;
  unsigned ackReplicas = 0;  // replicas that must have a message before its ack
  // A Redis link with a command unanswered this long is down (a hung Redis).
  std::chrono::milliseconds redisTimeout{5000};
};

// Where a setting's value came from, lowest precedence first.
struct SettingsSources {
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::optional<std::string> dotEnvContent;  // the `.env` file, when present
  std::vector<std::string> args;             // argv[1..]
  std::string defaultStaticDir;
  std::string defaultGatewayId;
  std::string defaultWorkers = "1";  // the number of usable cores, from main()
};

struct SettingsResult {
  std::optional<Settings> settings;  // set when the gateway should run
  int exitCode = 0;                  // otherwise: 0 after --help, 2 on a bad value
  std::string output;                // --help text for stdout
  std::string error;                 // one line for stderr naming the setting
};

SettingsResult loadSettings(const SettingsSources& sources);

// One row per setting, for --help and documentation checks.
struct SettingInfo {
  std::string env;
  std::string flag;
  std::string defaultValue;
  std::string help;
};
std::vector<SettingInfo> describeSettings(const SettingsSources& sources);

}  // namespace chat::common
