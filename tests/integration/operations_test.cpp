// Operations: /metrics is valid Prometheus text whose counters follow the
// traffic, logs are one logfmt line per event without message texts at info
// level, and the README's configuration table matches `--help`.

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "gateway_test.h"
#include "http_client.h"
#include "proc_stats.h"
#include "process.h"
#include "temp_dir.h"
#include "wait.h"

namespace chat::testing {
namespace {

// name{labels} -> value, after checking every line against the text format.
std::map<std::string, double> parseExposition(const std::string& body) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? (-?[0-9.e+-]+|\+Inf|NaN)$)");
  static const std::regex kHelp(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
  static const std::regex kType(
      R"(^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$)");
  std::map<std::string, double> samples;
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kSample)) {
      samples[m[1].str() + m[2].str()] = std::stod(m[4].str());
    } else {
      EXPECT_TRUE(std::regex_match(line, kHelp) || std::regex_match(line, kType))
          << "not exposition format: " << line;
    }
  }
  return samples;
}

class OperationsTest : public GatewayTest {};

TEST_F(OperationsTest, MetricsAreValidAndCountersFollowTheTraffic) {
  GatewayProcess& gateway = startGateway(kNoRateLimit);
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  auto alice = connectPlain(gateway, room);
  auto bob = connectPlain(gateway, room);
  constexpr int kMessages = 5;
  for (int i = 0; i < kMessages; ++i) {
    sendPlain(*alice, "alice", "m" + std::to_string(i));
    receiveMessage(*alice);
    receiveMessage(*bob);
  }
  const auto response = httpGet(gateway.port(), "/metrics");
  ASSERT_EQ(response.status, 200);
  EXPECT_NE(response.headers.at("content-type").find("version=0.0.4"), std::string::npos);
  auto m = parseExposition(response.body);
  EXPECT_EQ(m["chat_messages_received_total"], kMessages);
  EXPECT_EQ(m["chat_messages_stored_total"], kMessages);
  EXPECT_EQ(m["chat_messages_published_total"], kMessages);
  EXPECT_EQ(m["chat_messages_delivered_total"], 2 * kMessages);
  EXPECT_EQ(m["chat_connections{kind=\"plain\"}"], 2);
  EXPECT_EQ(m["chat_connections{kind=\"v1\"}"], 0);
  // Rooms are counted per worker: one room served by both workers counts twice.
  EXPECT_GE(m["chat_rooms"], 1);
  EXPECT_LE(m["chat_rooms"], m["chat_workers"]);
  EXPECT_EQ(m["chat_redis_up{connection=\"commands\"}"], 1);
  EXPECT_EQ(m["chat_redis_up{connection=\"subscriber\"}"], 1);
  EXPECT_EQ(m["chat_redis_store_duration_seconds_count"], kMessages);
  EXPECT_EQ(m["chat_redis_store_duration_seconds_bucket{le=\"+Inf\"}"], kMessages);
  EXPECT_EQ(m["chat_delivery_latency_seconds_count"], 2 * kMessages);
  EXPECT_GT(m["process_resident_memory_bytes"], 0);
  EXPECT_GT(m["process_open_fds"], 0);
  EXPECT_GT(m["process_start_time_seconds"], 1.7e9);

  // A refusal is counted under its reason.
  sendPlain(*bob, "bob", std::string(2001, 'x'));
  expectClose(*bob);
  ASSERT_TRUE(waitFor(
      [&] {
        auto now = parseExposition(httpGet(gateway.port(), "/metrics").body);
        return now["chat_refusals_total{reason=\"text_too_long\"}"] == 1 &&
               now["chat_connections{kind=\"plain\"}"] == 1;
      },
      10s));
}

TEST_F(OperationsTest, InfoLogsAreLogfmtAndNeverHoldMessageTexts) {
  GatewayProcess& gateway = startGateway({{"LOG_LEVEL", "info"}});
  ASSERT_TRUE(gateway.waitReady());
  auto alice = connectPlain(gateway, uniqueRoom());
  const std::string secret = "the-secret-text-8d1f2a";
  sendPlain(*alice, "alice", secret);
  EXPECT_EQ(receiveMessage(*alice).text, secret);
  alice->sendText("{not json " + secret);  // refused: closes with 1007
  expectClose(*alice);
  const std::string log = gateway.readStderr();
  EXPECT_EQ(log.find(secret), std::string::npos) << log;
  static const std::regex kLine(
      R"(^ts=\S+ level=(debug|info|warn|error) gateway=\S+ event=\S+( [a-z_]+=("([^"\\]|\\.)*"|\S+))*$)");
  std::istringstream lines(log);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("ts=", 0) != 0) continue;  // sanitizer runtime notes, if any
    EXPECT_TRUE(std::regex_match(line, kLine)) << line;
    ++count;
  }
  EXPECT_GE(count, 3);
}

// Rows `| `ENV` | `--flag` | default | meaning |` of README's configuration table.
std::map<std::string, std::string> readmeSettings() {
  std::ifstream in(CHAT_README_PATH);
  std::map<std::string, std::string> rows;
  static const std::regex kRow(R"(^\| `([A-Z_]+)` \| `--([a-z-]+)` \| ([^|]*) \|.*$)");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kRow)) rows[m[1].str()] = m[3].str();
  }
  return rows;
}

TEST(ReadmeTest, ConfigurationTableMatchesHelp) {
  TempDir dir("chat-help");
  ProcessOptions options;
  options.executable = CHAT_GATEWAY_BIN;
  options.args = {"--help"};
  options.workingDir = dir.path();
  options.logDir = dir.path();
  options.name = "help";
  Process help(options);
  ASSERT_TRUE(waitFor([&] { return !help.isRunning(); }, 30s));
  ASSERT_TRUE(help.exitStatus()->success());
  // "  --port=8080   HTTP ... [env PORT]", the help text possibly on the next line.
  std::map<std::string, std::string> fromHelp;
  static const std::regex kOption(R"(--[a-z-]+=(\S*)[\s\S]*?\[env ([A-Z_]+)\])");
  const std::string text = help.readStdout();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kOption);
       it != std::sregex_iterator(); ++it)
    fromHelp[(*it)[2].str()] = (*it)[1].str();
  ASSERT_GT(fromHelp.size(), 20u);

  const auto fromReadme = readmeSettings();
  for (const auto& [env, defaultValue] : fromHelp) {
    const auto row = fromReadme.find(env);
    ASSERT_NE(row, fromReadme.end()) << env << " is missing from README's configuration table";
    // A default in backticks must be exactly --help's; prose describes
    // defaults that depend on the machine (cores, host name, paths).
    std::string cell = row->second;
    while (!cell.empty() && cell.back() == ' ')
      cell.pop_back();
    if (cell.size() >= 2 && cell.front() == '`' && cell.back() == '`') {
      std::string expected = defaultValue == "\"\"" ? "" : defaultValue;
      EXPECT_EQ(cell.substr(1, cell.size() - 2), expected) << env;
    } else if (defaultValue != "\"\"") {
      EXPECT_TRUE(env == "STATIC_DIR" || env == "GATEWAY_ID" || env == "WORKERS")
          << env << ": README gives no literal default; --help says " << defaultValue;
    }
  }
  for (const auto& [env, cell] : fromReadme)
    EXPECT_TRUE(fromHelp.count(env)) << env << " is in README but not a setting";
}

}  // namespace
}  // namespace chat::testing

namespace chat::testing {
namespace {

// WORKERS=2 (the default on a 2-core machine), whatever CHAT_TEST_WORKERS says:
// a worker killed with SIGKILL is replaced, /readyz says so meanwhile, the
// other worker's clients carry on, and no counter of /metrics goes back.
TEST_F(OperationsTest, ACrashedWorkerIsReplacedAndTheGatewayStaysOneGateway) {
  GatewayProcess& gateway = startGateway({{"WORKERS", "2"}, {"RATE_LIMIT", "1000"}});
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  std::vector<std::unique_ptr<WsClient>> clients;
  // 16 clients: SO_REUSEPORT puts them all on one worker once in 32,768 runs.
  constexpr int kClients = 16;
  for (int i = 0; i < kClients; ++i)
    clients.push_back(connectPlain(gateway, room));
  for (int i = 0; i < 3; ++i) {
    sendPlain(*clients[0], "alice", "m" + std::to_string(i));
    for (auto& client : clients)
      receiveMessage(*client);
  }
  const auto before = parseExposition(httpGet(gateway.port(), "/metrics").body);
  EXPECT_EQ(before.at("chat_workers"), 2);
  EXPECT_EQ(before.at("chat_connections{kind=\"plain\"}"), kClients);
  EXPECT_EQ(before.at("chat_messages_delivered_total"), 3 * kClients);

  const std::vector<pid_t> tree = processTree(gateway.pid());
  ASSERT_EQ(tree.size(), 3u) << "a supervisor and two workers";
  ASSERT_EQ(::kill(tree[1], SIGKILL), 0);
  // The gap is short (the first restart waits 0.1 s), so it may pass between
  // two polls: seeing the replacement's new pid is the proof it happened.
  ASSERT_TRUE(waitFor(
      [&] {
        const auto now = processTree(gateway.pid());
        return now.size() == 3 && now[1] != tree[1] && now[2] != tree[1];
      },
      10s))
      << "the killed worker was not replaced";
  ASSERT_TRUE(gateway.waitReady());

  // Its clients saw their connection drop; the others did not.
  std::size_t alive = 0;
  for (auto& client : clients) {
    client->sendText(R"({"username":"probe","text":"still here?"})");
    std::optional<WsMessage> got = client->receive(3s);
    if (got && got->opcode == WsOpcode::kText) ++alive;
  }
  EXPECT_GE(alive, 1u);
  const auto after = parseExposition(httpGet(gateway.port(), "/metrics").body);
  for (const auto& [name, value] : before) {
    if (name.find("_total") == std::string::npos && name.find("_count") == std::string::npos &&
        name.find("_bucket") == std::string::npos)
      continue;
    EXPECT_GE(after.at(name), value) << name << " went back after a worker's replacement";
  }
  EXPECT_EQ(after.at("chat_connections{kind=\"plain\"}"), static_cast<double>(alive));
  EXPECT_NE(gateway.readStderr().find("event=worker_restarted"), std::string::npos);
}

}  // namespace
}  // namespace chat::testing
