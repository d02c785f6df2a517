#pragma once
// A chat-gateway child process for integration tests. It runs in a temp dir of
// its own (so no stray `.env` is read) with `PORT=0`: the gateway lets lws pick
// a port and logs `event=listening port=N` on stderr, which the constructor
// waits for. Stopping is by PID: SIGTERM, then SIGKILL after a deadline. Used
// by the thread that started it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "process.h"
#include "temp_dir.h"

namespace chat::testing {

struct GatewayOptions {
  std::string binary;     // path of chat-gateway
  std::string redisUrl;   // REDIS_URL
  std::string id = "gw";  // GATEWAY_ID, also the name of its log files
  EnvVars env;            // more settings (HISTORY_SIZE, STATIC_DIR, ...)
  std::vector<std::string> args;
  std::chrono::milliseconds startTimeout{10000};
};

// The port of the first `event=listening` line in a logfmt log.
std::optional<std::uint16_t> parseListeningPort(std::string_view log);

class GatewayProcess {
 public:
  // Starts the gateway and waits for its listening line; throws (with its
  // stderr) when it exits or does not print one in time.
  explicit GatewayProcess(GatewayOptions options);
  ~GatewayProcess();

  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  const std::string& id() const { return options_.id; }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return process_->pid(); }

  // Polls GET /readyz until it answers 200; false at the deadline.
  bool waitReady(std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

  bool isRunning() { return process_->isRunning(); }
  // SIGTERM and wait for the drain (SIGKILL after `timeout`); a healthy gateway
  // exits 0.
  ExitStatus stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));
  ExitStatus kill() { return process_->kill(); }
  const std::optional<ExitStatus>& exitStatus() const { return process_->exitStatus(); }

  std::string readStderr() const { return process_->readStderr(); }
  bool hasSanitizerReport() const { return process_->hasSanitizerReport(); }

 private:
  GatewayOptions options_;
  TempDir dir_{"chat-gateway"};
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
};

}  // namespace chat::testing
