// parseRedisUrl and percentDecode on arbitrary strings (REDIS_URL comes from
// the environment, often pasted from a provider's console). Checks that an
// accepted URL names a host (or sentinels and a master name) or an absolute
// socket path, that redacted() keeps the URL's scheme and never
// shows the password, and that percentDecode only ever shrinks its input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "config/redis_url.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chat::common;
  const std::string_view input = chat::fuzz::asView(data, size);

  bool ok = false;
  const std::string decoded = percentDecode(input, ok);
  FUZZ_CHECK(decoded.size() <= input.size());
  if (!ok) FUZZ_CHECK(decoded.empty());

  const auto parsed = parseRedisUrl(input);
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    FUZZ_CHECK(!error->empty());
    return 0;
  }
  const RedisEndpoint& endpoint = std::get<RedisEndpoint>(parsed);
  const std::string redacted = endpoint.redacted();
  if (endpoint.unixSocket) {
    FUZZ_CHECK(!endpoint.path.empty() && endpoint.path.front() == '/');
    FUZZ_CHECK(!endpoint.tls);
  } else {
    FUZZ_CHECK(!endpoint.host.empty());
    FUZZ_CHECK(endpoint.db >= 0);
    if (endpoint.sentinel) {
      FUZZ_CHECK(!endpoint.sentinels.empty() && !endpoint.masterName.empty());
      FUZZ_CHECK(!endpoint.tls);
      FUZZ_CHECK(redacted.rfind("redis+sentinel://", 0) == 0);
    } else if (endpoint.cluster) {
      FUZZ_CHECK(!endpoint.seeds.empty() && endpoint.db == 0);
      FUZZ_CHECK(redacted.rfind(endpoint.tls ? "rediss+cluster://" : "redis+cluster://", 0) == 0);
    } else {
      FUZZ_CHECK(redacted.rfind(endpoint.tls ? "rediss://" : "redis://", 0) == 0);
    }
    if (!endpoint.password.empty()) {
      // The password is replaced by ***, wherever it would have been.
      FUZZ_CHECK(redacted.find(":***@") != std::string::npos);
      FUZZ_CHECK(redacted.find(":" + endpoint.password + "@") == std::string::npos ||
                 endpoint.password == "***");
    }
  }
  return 0;
}
