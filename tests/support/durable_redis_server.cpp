#include "durable_redis_server.h"

#include <stdexcept>

#include "ports.h"
#include "wait.h"

namespace chat::testing {
namespace {

constexpr int kAttempts = 5;
// Loading an append-only file takes a moment; a few thousand messages load in
// well under a second, the rest is margin for a loaded machine.
constexpr std::chrono::milliseconds kStartTimeout(20000);
constexpr std::chrono::milliseconds kProbeTimeout(500);

// PING answers PONG (not -LOADING) and INFO names `pid`.
bool servesAsPid(std::uint16_t port, pid_t pid) {
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

DurableRedisServer::DurableRedisServer() {
  std::string why;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (startOn(findFreePort(), why)) return;
  }
  throw std::runtime_error("durable redis-server did not start: " + why);
}

DurableRedisServer::~DurableRedisServer() = default;

std::string DurableRedisServer::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_);
}

bool DurableRedisServer::isRunning() {
  return process_ && process_->isRunning();
}

ExitStatus DurableRedisServer::kill() {
  if (!process_) return ExitStatus{};
  return process_->kill();
}

void DurableRedisServer::restart() {
  if (isRunning()) kill();
  std::string why;
  // Redis sets SO_REUSEADDR, so the port is free again at once unless some
  // other process took it meanwhile: then the test cannot go on.
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (startOn(port_, why)) return;
  }
  throw std::runtime_error("durable redis-server did not restart on port " + std::to_string(port_) +
                           ": " + why);
}

std::string DurableRedisServer::log() const {
  return process_ ? process_->readStdout() + process_->readStderr() : std::string();
}

bool DurableRedisServer::startOn(std::uint16_t port, std::string& why) {
  ProcessOptions options;
  options.executable = "redis-server";
  options.args = {"--port",        std::to_string(port),
                  "--bind",        "127.0.0.1",
                  "--save",        "",
                  "--appendonly",  "yes",
                  "--appendfsync", "always",
                  "--dir",         dir_.path().string(),
                  "--daemonize",   "no"};
  options.workingDir = dir_.path();
  options.logDir = dir_.path();
  options.name = "redis-" + std::to_string(port) + "-" + std::to_string(++starts_);
  process_.reset();
  process_ = std::make_unique<Process>(options);
  port_ = port;
  const pid_t pid = process_->pid();
  const bool ready = waitFor([&] { return !process_->isRunning() || servesAsPid(port, pid); },
                             kStartTimeout, std::chrono::milliseconds(10));
  if (ready && process_->isRunning()) return true;
  ExitStatus status = process_->stop(SIGTERM, std::chrono::milliseconds(2000));
  why = "redis-server on port " + std::to_string(port) + " " +
        (ready ? status.describe() : std::string("did not answer PING in time")) + "; log:\n" +
        process_->readStdout() + process_->readStderr();
  return false;
}

}  // namespace chat::testing
