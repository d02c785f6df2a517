// loadSettings with fuzzed environment, command line and .env file. The input
// is text, one instruction a line, so seeds stay readable:
//   env NAME=VALUE   a variable of the environment
//   arg TEXT         one command-line argument
//   dotenv           the rest of the input is the .env file
// Checks that the result is exactly one of: settings (exit 0, no error), help
// (exit 0, output), or a bad value (exit 2, an error line); that no exception
// escapes (CLI11 throws); and that accepted settings lie within the table's
// bounds.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "config/settings.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chat::common;
  std::string_view input = chat::fuzz::asView(data, size);
  std::map<std::string, std::string> env;
  SettingsSources sources;
  while (!input.empty()) {
    const std::string_view line = chat::fuzz::takeUntil(input, '\n');
    if (line.substr(0, 4) == "env ") {
      const std::string_view rest = line.substr(4);
      const auto eq = rest.find('=');
      env[std::string(rest.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : std::string(rest.substr(eq + 1));
    } else if (line.substr(0, 4) == "arg ") {
      sources.args.emplace_back(line.substr(4));
    } else if (line == "dotenv") {
      sources.dotEnvContent = std::string(input);
      break;
    }
  }
  sources.getenv = [&env](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  sources.defaultStaticDir = "/usr/share/chat-gateway/frontend";
  sources.defaultGatewayId = "fuzz-1";

  const SettingsResult result = loadSettings(sources);
  if (result.settings) {
    FUZZ_CHECK(result.exitCode == 0 && result.error.empty());
    const Settings& s = *result.settings;
    FUZZ_CHECK(s.maxFrameBytes >= 256 && s.maxFrameBytes <= (16u << 20));
    FUZZ_CHECK(s.maxTextCodePoints >= 1);
    FUZZ_CHECK(s.maxQueueBytes >= 4096 && s.maxQueueFrames >= 1);
    FUZZ_CHECK(s.historySize >= 1 && s.maxConnections >= 1 && s.maxRoomsPerConnection >= 1);
    FUZZ_CHECK(s.rateLimit >= 0.1 && s.rateBurst >= 1);
    FUZZ_CHECK(s.authSecret.empty() || s.authSecret.size() >= 16);
    FUZZ_CHECK(s.apiKey.empty() || s.apiKey.size() >= 16);
    FUZZ_CHECK(!s.redisPrefix.empty() && s.redisPrefix.size() <= 64);
    FUZZ_CHECK(!s.gatewayId.empty() && !s.staticDir.empty());
    FUZZ_CHECK(s.pingInterval.count() >= 1000 && s.pingTimeout.count() >= 1000);
    FUZZ_CHECK(s.shutdownTimeout.count() >= 0 && s.presenceTtl.count() >= 500);
    FUZZ_CHECK(!s.redis.unixSocket ? !s.redis.host.empty() : !s.redis.path.empty());
  } else if (result.exitCode == 0) {
    FUZZ_CHECK(!result.output.empty());  // --help
  } else {
    FUZZ_CHECK(result.exitCode == 2);
    FUZZ_CHECK(!result.error.empty());
  }
  return 0;
}
