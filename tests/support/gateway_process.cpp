#include "gateway_process.h"

#include <charconv>
#include <cstdlib>
#include <stdexcept>

#include "http_client.h"
#include "wait.h"

namespace chat::testing {

std::optional<std::uint16_t> parseListeningPort(std::string_view log) {
  std::size_t lineStart = 0;
  while (lineStart < log.size()) {
    std::size_t lineEnd = log.find('\n', lineStart);
    // A line still being written has no newline yet: wait for the rest.
    if (lineEnd == std::string_view::npos) return std::nullopt;
    std::string_view line = log.substr(lineStart, lineEnd - lineStart);
    lineStart = lineEnd + 1;
    if (line.find("event=listening") == std::string_view::npos) continue;
    std::size_t at = line.find(" port=");
    if (at == std::string_view::npos) continue;
    std::string_view digits = line.substr(at + 6);
    unsigned value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end == digits.data() || value == 0 || value > 65535) continue;
    return static_cast<std::uint16_t>(value);
  }
  return std::nullopt;
}

GatewayProcess::GatewayProcess(GatewayOptions options) : options_(std::move(options)) {
  ProcessOptions process;
  process.executable = options_.binary;
  process.args = options_.args;
  // One process per gateway unless CHAT_TEST_WORKERS says otherwise (ctest
  // runs the fault and ops suites again with 2): tests signal and kill the
  // gateway by its PID, the supervisor's when there are workers.
  const char* workers = std::getenv("CHAT_TEST_WORKERS");
  process.env = {{"PORT", "0"},
                 {"REDIS_URL", options_.redisUrl},
                 {"GATEWAY_ID", options_.id},
                 {"WORKERS", workers != nullptr && *workers != '\0' ? workers : "1"}};
  // The test's own settings win over these defaults.
  for (const auto& [name, value] : options_.env) {
    std::erase_if(process.env, [&](const auto& entry) { return entry.first == name; });
    process.env.emplace_back(name, value);
  }
  process.workingDir = dir_.path();
  process.logDir = dir_.path();
  process.name = options_.id;
  process_ = std::make_unique<Process>(process);

  std::optional<std::uint16_t> port;
  bool finished = waitFor(
      [&] {
        port = parseListeningPort(process_->readStderr());
        return port.has_value() || !process_->isRunning();
      },
      options_.startTimeout, std::chrono::milliseconds(10));
  if (finished && port) {
    port_ = *port;
    return;
  }
  std::string why = !finished ? "printed no 'event=listening port=N' line in time"
                              : process_->exitStatus()->describe() + " before listening";
  process_->stop(SIGTERM, std::chrono::milliseconds(2000));
  throw std::runtime_error("gateway " + options_.id + " " + why + "; stderr:\n" +
                           process_->readStderr());
}

GatewayProcess::~GatewayProcess() = default;

bool GatewayProcess::waitReady(std::chrono::milliseconds timeout) {
  return waitFor(
      [this] { return httpGet(port_, "/readyz", std::chrono::milliseconds(1000)).status == 200; },
      timeout, std::chrono::milliseconds(20));
}

ExitStatus GatewayProcess::stop(std::chrono::milliseconds timeout) {
  return process_->stop(SIGTERM, timeout);
}

}  // namespace chat::testing
