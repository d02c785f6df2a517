#include "redis_server.h"

#include <stdexcept>

#include "ports.h"
#include "wait.h"

namespace chat::testing {
namespace {

constexpr int kPortAttempts = 5;
// Loading an append-only file takes a moment; the rest is margin for a loaded
// machine.
constexpr std::chrono::milliseconds kStartTimeout(20000);
constexpr std::chrono::milliseconds kProbeTimeout(500);

// Whether the server on `port` answers PING and is the process `pid`.
bool answersAsPid(std::uint16_t port, pid_t pid) {
  try {
    RedisClient client(port, kProbeTimeout);
    Reply pong = client.command({"PING"});
    if (pong.type != Reply::Type::kStatus || pong.str != "PONG") return false;
    Reply info = client.command({"INFO", "server"});
    return info.type == Reply::Type::kBulk &&
           info.str.find("process_id:" + std::to_string(pid) + "\r\n") != std::string::npos;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

RedisServer::RedisServer(Persistence persistence) : persistence_(persistence) {
  std::string why;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    if (startOn(findFreePort(), why)) return;
  }
  throw std::runtime_error("redis-server did not start after " + std::to_string(kPortAttempts) +
                           " ports: " + why);
}

RedisServer::RedisServer(std::uint16_t port) {
  std::string why;
  if (!startOn(port, why)) throw std::runtime_error(why);
}

RedisServer::~RedisServer() = default;

std::string RedisServer::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_);
}

bool RedisServer::isRunning() {
  return process_ && process_->isRunning();
}

ExitStatus RedisServer::stop() {
  if (!process_) return ExitStatus{};
  return process_->stop(SIGTERM, std::chrono::milliseconds(10000));
}

ExitStatus RedisServer::kill() {
  if (!process_) return ExitStatus{};
  return process_->kill();
}

void RedisServer::restart() {
  if (isRunning()) stop();
  std::string why;
  // The old listener is closed, but give the kernel a moment to let go of the
  // port in case another process grabbed it meanwhile: a few attempts, each
  // one a full start with its own deadline.
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    if (startOn(port_, why)) return;
  }
  throw std::runtime_error("redis-server did not restart on port " + std::to_string(port_) + ": " +
                           why);
}

std::string RedisServer::log() const {
  return process_ ? process_->readStdout() + process_->readStderr() : std::string();
}

bool RedisServer::startOn(std::uint16_t port, std::string& why) {
  ProcessOptions options;
  options.executable = "redis-server";
  const bool durable = persistence_ == Persistence::kAppendOnlyAlways;
  options.args = {
      "--port",       std::to_string(port),   "--bind", "127.0.0.1",          "--save",      "",
      "--appendonly", durable ? "yes" : "no", "--dir",  dir_.path().string(), "--daemonize", "no"};
  if (durable) options.args.insert(options.args.end(), {"--appendfsync", "always"});
  options.workingDir = dir_.path();
  options.logDir = dir_.path();
  options.name = "redis-" + std::to_string(port) + "-" + std::to_string(++starts_);
  process_.reset();
  process_ = std::make_unique<Process>(options);
  port_ = port;
  pid_t pid = process_->pid();
  bool ready = waitFor([&] { return !process_->isRunning() || answersAsPid(port, pid); },
                       kStartTimeout, std::chrono::milliseconds(10));
  if (ready && process_->isRunning()) return true;
  ExitStatus status = process_->stop(SIGTERM, std::chrono::milliseconds(2000));
  why = "redis-server on port " + std::to_string(port) + " " +
        (ready ? status.describe() : std::string("did not answer PING in time")) + "; log:\n" +
        process_->readStdout() + process_->readStderr();
  return false;
}

}  // namespace chat::testing
