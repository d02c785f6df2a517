// Configuration from the environment, `.env` and flags (common/config/settings.h,
// docs/protocol.md sections 5 and 7).

#include "config/settings.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chat::common {
namespace {

using namespace std::chrono_literals;
using Env = std::map<std::string, std::string>;

constexpr const char* kStaticDir = "/usr/share/chat-gateway/frontend";
constexpr const char* kGatewayId = "testhost-4242";

SettingsSources sources(Env env = {}, std::optional<std::string> dotEnv = std::nullopt,
                        std::vector<std::string> args = {}) {
  SettingsSources s;
  s.getenv = [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  s.dotEnvContent = std::move(dotEnv);
  s.args = std::move(args);
  s.defaultStaticDir = kStaticDir;
  s.defaultGatewayId = kGatewayId;
  return s;
}

SettingsResult load(Env env = {}, std::optional<std::string> dotEnv = std::nullopt,
                    std::vector<std::string> args = {}) {
  return loadSettings(sources(std::move(env), std::move(dotEnv), std::move(args)));
}

Settings loadOk(Env env = {}, std::optional<std::string> dotEnv = std::nullopt,
                std::vector<std::string> args = {}) {
  auto r = load(std::move(env), std::move(dotEnv), std::move(args));
  if (!r.settings) {
    ADD_FAILURE() << "refused (exit " << r.exitCode << "): " << r.error;
    return {};
  }
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.output, "");
  return *r.settings;
}

// Expects a refusal with exit code 2 and one error line starting with `prefix`.
std::string expectBad(const SettingsResult& r, const std::string& prefix) {
  EXPECT_FALSE(r.settings.has_value());
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_EQ(r.error.rfind(prefix, 0), 0u) << "error: " << r.error;
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << "error: " << r.error;
  return r.error;
}

// ------------------------------------------------------------- defaults

TEST(SettingsTest, DefaultsMatchTheProtocol) {
  const auto s = loadOk();
  EXPECT_EQ(s.port, 8080);
  EXPECT_EQ(s.redisUrl, "redis://127.0.0.1:6379");
  EXPECT_FALSE(s.redis.unixSocket);
  EXPECT_FALSE(s.redis.tls);
  EXPECT_EQ(s.redis.host, "127.0.0.1");
  EXPECT_EQ(s.redis.port, 6379);
  EXPECT_EQ(s.redisPrefix, "chat");
  EXPECT_EQ(s.historySize, 1000u);
  EXPECT_EQ(s.historyOnJoin, 100u);
  EXPECT_EQ(s.staticDir, kStaticDir);
  EXPECT_EQ(s.gatewayId, kGatewayId);
  EXPECT_EQ(s.logLevel, LogLevel::kInfo);
  EXPECT_EQ(s.maxFrameBytes, 8192u);
  EXPECT_EQ(s.maxTextCodePoints, 2000u);
  EXPECT_EQ(s.maxQueueBytes, 1048576u);
  EXPECT_EQ(s.maxQueueFrames, 1024u);
  EXPECT_EQ(s.maxConnections, 100000u);
  EXPECT_EQ(s.pingInterval, 25s);
  EXPECT_EQ(s.pingTimeout, 60s);
  EXPECT_EQ(s.shutdownTimeout, 10s);
}

TEST(SettingsTest, EmptyDotEnvChangesNothing) {
  const auto s = loadOk({}, "");
  EXPECT_EQ(s.port, 8080);
  EXPECT_EQ(s.redisPrefix, "chat");
}

// ------------------------------------------------------------- precedence

TEST(SettingsTest, EnvironmentSetsAValue) {
  EXPECT_EQ(loadOk({{"PORT", "9000"}}).port, 9000);
}

// Heroku: REDIS_TLS_URL (TLS to Heroku Redis) in place of REDIS_URL, and
// WEB_CONCURRENCY when WORKERS is unset.
TEST(SettingsTest, HerokuNamesAreHonoured) {
  const Settings tls =
      loadOk({{"REDIS_URL", "redis://h:6379"}, {"REDIS_TLS_URL", "rediss://h:6380"}});
  EXPECT_TRUE(tls.redis.tls);
  EXPECT_EQ(tls.redis.port, 6380);
  EXPECT_EQ(loadOk({{"REDIS_URL", "redis://h:6379"}}).redis.port, 6379);
  EXPECT_EQ(loadOk({{"WEB_CONCURRENCY", "3"}}).workers, 3u);
  EXPECT_EQ(loadOk({{"WEB_CONCURRENCY", "3"}, {"WORKERS", "2"}}).workers, 2u);
  const SettingsResult bad = load({{"REDIS_TLS_URL", "nonsense"}});
  EXPECT_EQ(bad.exitCode, 2);
  EXPECT_NE(bad.error.find("REDIS_TLS_URL"), std::string::npos) << bad.error;
}

TEST(SettingsTest, DotEnvSetsAValueTheEnvironmentLeavesUnset) {
  EXPECT_EQ(loadOk({}, "PORT=9001\n").port, 9001);
}

TEST(SettingsTest, DotEnvNeverOverridesTheEnvironment) {
  const auto s = loadOk({{"PORT", "9000"}}, "PORT=9001\nREDIS_PREFIX=fromdotenv\n");
  EXPECT_EQ(s.port, 9000);
  EXPECT_EQ(s.redisPrefix, "fromdotenv");
}

TEST(SettingsTest, DotEnvDoesNotOverrideAnEnvironmentValueEvenWhenBad) {
  // The environment's value is the one used, so its error is the one reported.
  expectBad(load({{"PORT", "nope"}}, "PORT=9001\n"), "PORT");
}

TEST(SettingsTest, FlagWinsOverEnvironmentAndDotEnv) {
  EXPECT_EQ(loadOk({{"PORT", "9000"}}, "PORT=9001", {"--port", "9002"}).port, 9002);
  EXPECT_EQ(loadOk({}, "PORT=9001", {"--port", "9002"}).port, 9002);
  EXPECT_EQ(loadOk({{"PORT", "9000"}}, std::nullopt, {"--port", "9002"}).port, 9002);
}

TEST(SettingsTest, FlagWithSeparateOrAttachedValue) {
  EXPECT_EQ(loadOk({}, std::nullopt, {"--port", "8081"}).port, 8081);
  EXPECT_EQ(loadOk({}, std::nullopt, {"--port=8082"}).port, 8082);
}

TEST(SettingsTest, FlagValueMayContainEqualsSigns) {
  const auto s = loadOk({}, std::nullopt, {"--redis-url=redis://u:p=q@h:6390/1"});
  EXPECT_EQ(s.redis.password, "p=q");
  EXPECT_EQ(s.redis.port, 6390);
}

TEST(SettingsTest, SeveralFlagsTogether) {
  const auto s =
      loadOk({}, std::nullopt,
             {"--port", "7000", "--redis-url=rediss://:pw@cache:6380/3", "--redis-prefix", "chat2",
              "--history-size=50", "--log-level", "debug", "--ping-timeout", "90"});
  EXPECT_EQ(s.port, 7000);
  EXPECT_TRUE(s.redis.tls);
  EXPECT_EQ(s.redis.host, "cache");
  EXPECT_EQ(s.redis.port, 6380);
  EXPECT_EQ(s.redis.db, 3);
  EXPECT_EQ(s.redis.password, "pw");
  EXPECT_EQ(s.redisUrl, "rediss://:pw@cache:6380/3");
  EXPECT_EQ(s.redisPrefix, "chat2");
  EXPECT_EQ(s.historySize, 50u);
  EXPECT_EQ(s.logLevel, LogLevel::kDebug);
  EXPECT_EQ(s.pingTimeout, 90s);
}

TEST(SettingsTest, EachSourceCanSetEachSetting) {
  struct Case {
    std::string env;
    std::string value;
    std::function<void(const Settings&)> check;
  };
  const std::vector<Case> cases = {
      {"PORT", "1234", [](const Settings& s) { EXPECT_EQ(s.port, 1234); }},
      {"REDIS_URL", "unix:///run/redis.sock",
       [](const Settings& s) {
         EXPECT_TRUE(s.redis.unixSocket);
         EXPECT_EQ(s.redis.path, "/run/redis.sock");
         EXPECT_EQ(s.redisUrl, "unix:///run/redis.sock");
       }},
      {"REDIS_PREFIX", "my-app:chat",
       [](const Settings& s) { EXPECT_EQ(s.redisPrefix, "my-app:chat"); }},
      {"HISTORY_SIZE", "5000", [](const Settings& s) { EXPECT_EQ(s.historySize, 5000u); }},
      {"HISTORY_ON_JOIN", "0", [](const Settings& s) { EXPECT_EQ(s.historyOnJoin, 0u); }},
      {"STATIC_DIR", "/srv/www", [](const Settings& s) { EXPECT_EQ(s.staticDir, "/srv/www"); }},
      {"GATEWAY_ID", "gw-7", [](const Settings& s) { EXPECT_EQ(s.gatewayId, "gw-7"); }},
      {"LOG_LEVEL", "warn", [](const Settings& s) { EXPECT_EQ(s.logLevel, LogLevel::kWarn); }},
      {"MAX_FRAME_BYTES", "65536", [](const Settings& s) { EXPECT_EQ(s.maxFrameBytes, 65536u); }},
      {"MAX_TEXT_LENGTH", "500", [](const Settings& s) { EXPECT_EQ(s.maxTextCodePoints, 500u); }},
      {"MAX_QUEUE_BYTES", "4096", [](const Settings& s) { EXPECT_EQ(s.maxQueueBytes, 4096u); }},
      {"MAX_QUEUE_FRAMES", "200", [](const Settings& s) { EXPECT_EQ(s.maxQueueFrames, 200u); }},
      {"MAX_CONNECTIONS", "5", [](const Settings& s) { EXPECT_EQ(s.maxConnections, 5u); }},
      {"PING_INTERVAL", "5", [](const Settings& s) { EXPECT_EQ(s.pingInterval, 5s); }},
      {"PING_TIMEOUT", "120", [](const Settings& s) { EXPECT_EQ(s.pingTimeout, 120s); }},
      {"SHUTDOWN_TIMEOUT", "3", [](const Settings& s) { EXPECT_EQ(s.shutdownTimeout, 3s); }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.env);
    c.check(loadOk({{c.env, c.value}}));
    c.check(loadOk({}, c.env + "=" + c.value + "\n"));
    std::string flag = "--";
    for (char ch : c.env)
      flag += ch == '_' ? '-' : static_cast<char>(std::tolower(ch));
    c.check(loadOk({}, std::nullopt, {flag, c.value}));
    c.check(loadOk({}, std::nullopt, {flag + "=" + c.value}));
  }
}

TEST(SettingsTest, LogLevels) {
  EXPECT_EQ(loadOk({{"LOG_LEVEL", "debug"}}).logLevel, LogLevel::kDebug);
  EXPECT_EQ(loadOk({{"LOG_LEVEL", "info"}}).logLevel, LogLevel::kInfo);
  EXPECT_EQ(loadOk({{"LOG_LEVEL", "warn"}}).logLevel, LogLevel::kWarn);
  EXPECT_EQ(loadOk({{"LOG_LEVEL", "error"}}).logLevel, LogLevel::kError);
}

TEST(SettingsTest, DurationsAreSeconds) {
  EXPECT_EQ(loadOk({{"PING_INTERVAL", "1"}}).pingInterval, 1s);
  EXPECT_EQ(loadOk({{"PING_INTERVAL", "1.5"}}).pingInterval, 1500ms);
  EXPECT_EQ(loadOk({{"PING_TIMEOUT", "3600"}}).pingTimeout, 3600s);
  EXPECT_EQ(loadOk({{"SHUTDOWN_TIMEOUT", "0"}}).shutdownTimeout, 0s);
  EXPECT_EQ(loadOk({{"SHUTDOWN_TIMEOUT", "0.25"}}).shutdownTimeout, 250ms);
}

TEST(SettingsTest, PortZeroPicksAFreePort) {
  EXPECT_EQ(loadOk({{"PORT", "0"}}).port, 0);
}

TEST(SettingsTest, PortLimits) {
  EXPECT_EQ(loadOk({{"PORT", "1"}}).port, 1);
  EXPECT_EQ(loadOk({{"PORT", "65535"}}).port, 65535);
}

TEST(SettingsTest, DotEnvQuotingAndExportAreUnderstood) {
  const auto s = loadOk({},
                        "# settings\nexport PORT=9100\nREDIS_PREFIX=\"quoted\" # note\n"
                        "GATEWAY_ID='gw one'\nUNRELATED=whatever\n");
  EXPECT_EQ(s.port, 9100);
  EXPECT_EQ(s.redisPrefix, "quoted");
  EXPECT_EQ(s.gatewayId, "gw one");
}

TEST(SettingsTest, LastDotEnvEntryForAKeyWins) {
  EXPECT_EQ(loadOk({}, "PORT=1\nPORT=2\n").port, 2);
}

// ------------------------------------------------------------- bad values

TEST(SettingsTest, BadPortNamesTheSetting) {
  for (const char* bad : {"abc", "65536", "-1", "", " 80", "80 ", "8080x", "1e3", "+80", "80.0"}) {
    SCOPED_TRACE(bad);
    expectBad(load({{"PORT", bad}}), "PORT");
  }
}

TEST(SettingsTest, BadValueFromEachSourceNamesTheSettingAndTheSource) {
  const auto env = expectBad(load({{"PORT", "abc"}}), "PORT");
  EXPECT_NE(env.find("environment"), std::string::npos) << env;
  const auto dot = expectBad(load({}, "PORT=abc\n"), "PORT");
  EXPECT_NE(dot.find(".env"), std::string::npos) << dot;
  const auto flag = expectBad(load({}, std::nullopt, {"--port", "abc"}), "PORT");
  EXPECT_NE(flag.find("--port"), std::string::npos) << flag;
  const auto attached = expectBad(load({}, std::nullopt, {"--port=abc"}), "PORT");
  EXPECT_NE(attached.find("--port"), std::string::npos) << attached;
}

TEST(SettingsTest, BadValuesOfEverySetting) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"REDIS_URL", "http://h:6379"},
      {"REDIS_URL", "redis://h:0"},
      {"REDIS_URL", "unix://relative.sock"},
      {"REDIS_URL", ""},
      {"REDIS_PREFIX", ""},
      {"REDIS_PREFIX", "has space"},
      {"REDIS_PREFIX", "brace{"},
      {"REDIS_PREFIX", std::string(65, 'p')},
      {"HISTORY_SIZE", "0"},
      {"HISTORY_SIZE", "-5"},
      {"HISTORY_SIZE", "1.5"},
      {"HISTORY_SIZE", "lots"},
      {"HISTORY_SIZE", "1000001"},
      {"HISTORY_ON_JOIN", "-1"},
      {"HISTORY_ON_JOIN", "x"},
      {"STATIC_DIR", ""},
      {"GATEWAY_ID", ""},
      {"GATEWAY_ID", std::string(65, 'g')},
      {"LOG_LEVEL", "verbose"},
      {"LOG_LEVEL", "INFO"},
      {"LOG_LEVEL", ""},
      {"MAX_FRAME_BYTES", "100"},
      {"MAX_FRAME_BYTES", "8k"},
      {"MAX_TEXT_LENGTH", "0"},
      {"MAX_QUEUE_BYTES", "10"},
      {"MAX_QUEUE_FRAMES", "0"},
      {"MAX_CONNECTIONS", "0"},
      {"PING_INTERVAL", "0"},
      {"PING_INTERVAL", "0.5"},
      {"PING_INTERVAL", "abc"},
      {"PING_INTERVAL", "25s"},
      {"PING_INTERVAL", "nan"},
      {"PING_INTERVAL", "inf"},
      {"PING_INTERVAL", "3601"},
      {"PING_TIMEOUT", "-60"},
      {"PING_TIMEOUT", ""},
      {"SHUTDOWN_TIMEOUT", "-1"},
      {"SHUTDOWN_TIMEOUT", "1e400"},
      {"AUTH_JWKS_URL", "ftp://login.example/jwks"},
      {"AUTH_JWKS_URL", "login.example/jwks"},
      {"AUTH_JWKS_URL", "https://login.example/a b"},
  };
  for (const auto& [name, value] : bad) {
    SCOPED_TRACE(name + "=" + value);
    expectBad(load({{name, value}}), name);
  }
}

TEST(SettingsTest, AJwksUrlRequiresTokensAndSharesOneKeyRing) {
  const auto result = load({{"AUTH_JWKS_URL", "https://login.example/.well-known/jwks.json"}});
  ASSERT_TRUE(result.settings) << result.error;
  const Settings& settings = *result.settings;
  EXPECT_EQ(settings.authJwksUrl, "https://login.example/.well-known/jwks.json");
  EXPECT_TRUE(settings.tokenKeys().required());
  EXPECT_EQ(settings.tokenKeys().jwks, settings.tokenKeys().jwks)
      << "every check sees the same keys";
  EXPECT_NE(settings.tokenKeys().jwks, nullptr);
  EXPECT_EQ(load({}).settings->tokenKeys().jwks, nullptr);
}

TEST(SettingsTest, BadRedisUrlErrorDoesNotEchoThePassword) {
  const auto err = expectBad(load({{"REDIS_URL", "redis://u:hunter2@h:0"}}), "REDIS_URL");
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
}

TEST(SettingsTest, BadDotEnvLineIsNamed) {
  const auto r = load({}, "PORT=9000\n# ok\nthis line is wrong\n");
  EXPECT_FALSE(r.settings.has_value());
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.error.find(".env"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("line 3"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
}

TEST(SettingsTest, UnterminatedQuoteInDotEnvIsNamed) {
  const auto r = load({}, "A=1\nREDIS_URL=\"redis://h:6379\n");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.error.find("line 2"), std::string::npos) << r.error;
}

TEST(SettingsTest, UnknownFlagIsACommandLineError) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--no-such-setting", "1"}, {"--no-such-setting=1"}, {"stray"}, {"--port"}}) {
    const auto r = load({}, std::nullopt, args);
    EXPECT_FALSE(r.settings.has_value()) << args.front();
    EXPECT_EQ(r.exitCode, 2) << args.front();
    EXPECT_FALSE(r.error.empty()) << args.front();
    EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
  }
}

// ------------------------------------------------------------- --help

TEST(SettingsTest, HelpExitsZeroWithText) {
  for (const char* flag : {"--help", "-h"}) {
    const auto r = load({}, std::nullopt, {flag});
    EXPECT_FALSE(r.settings.has_value()) << flag;
    EXPECT_EQ(r.exitCode, 0) << flag;
    EXPECT_FALSE(r.output.empty()) << flag;
    EXPECT_EQ(r.error, "") << flag;
  }
}

TEST(SettingsTest, HelpWorksEvenWithBadValuesElsewhere) {
  const auto r = load({{"PORT", "abc"}}, "REDIS_URL=nope\n", {"--port", "x", "--help"});
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_FALSE(r.output.empty());
}

TEST(SettingsTest, HelpListsEveryDescribedSettingWithItsDefault) {
  const auto src = sources();
  const auto help = loadSettings(sources({}, std::nullopt, {"--help"})).output;
  const auto rows = describeSettings(src);
  ASSERT_FALSE(rows.empty());
  for (const auto& row : rows) {
    SCOPED_TRACE(row.env);
    EXPECT_FALSE(row.help.empty());
    // The entry runs from the flag to its "[env NAME]" tag, and shows the
    // default in between.
    const auto begin = help.find(row.flag + "=");
    ASSERT_NE(begin, std::string::npos) << help;
    const auto end = help.find("[env " + row.env + "]", begin);
    ASSERT_NE(end, std::string::npos) << help;
    const auto entry = help.substr(begin, end - begin);
    EXPECT_NE(entry.find(row.help), std::string::npos) << entry;
    if (!row.defaultValue.empty()) {
      EXPECT_NE(entry.find(row.defaultValue), std::string::npos) << entry;
    }
  }
  // The defaults the caller supplies are shown too.
  EXPECT_NE(help.find(kStaticDir), std::string::npos) << help;
  EXPECT_NE(help.find(kGatewayId), std::string::npos) << help;
}

TEST(SettingsTest, DescribedFlagsAreTheLowerCaseEnvNames) {
  for (const auto& row : describeSettings(sources())) {
    std::string expected = "--";
    for (char c : row.env)
      expected += c == '_' ? '-' : static_cast<char>(std::tolower(c));
    EXPECT_EQ(row.flag, expected);
  }
}

TEST(SettingsTest, DescribedDefaultsAreTheLoadedDefaults) {
  // Every advertised default is accepted as a value of its own setting.
  for (const auto& row : describeSettings(sources())) {
    SCOPED_TRACE(row.env);
    const auto r = load({{row.env, row.defaultValue}});
    EXPECT_TRUE(r.settings.has_value()) << r.error;
  }
}

// docs/protocol.md sections 5 and 7 name these settings and defaults, and section 7
// says `--help` lists every setting with its default.
TEST(SettingsTest, HelpListsEverySettingOfTheProtocol) {
  struct Documented {
    const char* env;
    const char* defaultValue;  // nullptr: unset by default / not a fixed value
  };
  // The settings of docs/protocol.md sections 5 and 7 implemented so far; each
  // feature adds its own when it lands.
  const Documented documented[] = {
      {"PORT", "8080"},
      {"REDIS_URL", "redis://127.0.0.1:6379"},
      {"REDIS_PREFIX", "chat"},
      {"HISTORY_SIZE", "1000"},
      {"HISTORY_ON_JOIN", "100"},
      {"STATIC_DIR", kStaticDir},
      {"GATEWAY_ID", kGatewayId},
      {"PING_INTERVAL", "25"},
      {"PING_TIMEOUT", "60"},
      {"SHUTDOWN_TIMEOUT", "10"},
      {"PRESENCE_TTL", "30"},
      {"PRESENCE_LIST_MAX", "100"},
      {"PRESENCE_EVENTS_MAX", "200"},
      {"MAX_ROOMS_PER_CONNECTION", "32"},
      {"API_KEY", nullptr},
      {"RATE_LIMIT", "10"},
      {"RATE_BURST", "20"},
      {"ALLOWED_ORIGINS", nullptr},
      {"AUTH_SECRET", nullptr},
      {"AUTH_JWKS_URL", nullptr},
      {"COMPRESSION", "off"},
      {"LOG_LEVEL", "info"},
      {"MAX_FRAME_BYTES", "8192"},
      {"MAX_QUEUE_BYTES", "1048576"},
      {"MAX_QUEUE_FRAMES", "1024"},
      {"MAX_CONNECTIONS", "100000"},
  };
  const auto help = loadSettings(sources({}, std::nullopt, {"--help"})).output;
  std::map<std::string, SettingInfo> rows;
  for (auto& row : describeSettings(sources()))
    rows[row.env] = row;
  for (const auto& d : documented) {
    const auto it = rows.find(d.env);
    if (it == rows.end()) {
      ADD_FAILURE() << d.env << " is documented in docs/protocol.md but is not a setting";
      continue;
    }
    EXPECT_NE(help.find(it->second.flag), std::string::npos) << d.env << " missing from --help";
    if (d.defaultValue) {
      EXPECT_EQ(it->second.defaultValue, d.defaultValue) << d.env;
    }
  }
}

}  // namespace
}  // namespace chat::common

namespace chat::common {
namespace {

TEST(SettingsTest, SettingsThatContradictEachOtherAreRefusedAtStart) {
  const auto r =
      loadSettings(SettingsSources{[](const std::string& name) -> std::optional<std::string> {
                                     if (name == "HISTORY_ON_JOIN") return "500";
                                     if (name == "MAX_QUEUE_FRAMES") return "100";
                                     return std::nullopt;
                                   },
                                   std::nullopt,
                                   {},
                                   "frontend",
                                   "gw",
                                   "1"});
  ASSERT_FALSE(r.settings);
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.error.find("HISTORY_ON_JOIN"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("MAX_QUEUE_FRAMES"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace chat::common
