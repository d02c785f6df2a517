// chat-gateway: parse the configuration, run the server on one libuv loop,
// and exit 0 after a clean shutdown (2 on a bad setting, 1 when it cannot start).

#include <sched.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "config/settings.h"
#include "log/log.h"
#include "server.h"
#include "supervisor.h"

#ifndef CHAT_DEFAULT_STATIC_DIR
#define CHAT_DEFAULT_STATIC_DIR "frontend"
#endif

namespace {

std::optional<std::string> readFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Cores this process may use: its CPU affinity, capped by a cgroup v2 CPU
// quota (a container's limit), rounded up.
std::string usableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  std::ifstream cpuMax("/sys/fs/cgroup/cpu.max");
  std::string quota;
  long period = 0;
  if (cpuMax >> quota >> period && quota != "max" && period > 0) {
    const long limit = (std::stol(quota) + period - 1) / period;
    cores = std::min<int>(cores, static_cast<int>(limit));
  }
  return std::to_string(std::max(1, cores));
}

// One gateway process: the server on its own libuv loop until it shuts down.
int runGateway(chat::common::Settings settings, chat::gateway::WorkerSeat seat) {
  using namespace chat;
  gateway::Log::configure(settings.logLevel, settings.gatewayId);
  uv_loop_t loop;
  uv_loop_init(&loop);
  int status = 0;
  {
    gateway::Server server(&loop, std::move(settings), seat);
    if (!server.start()) status = 1;
    // Runs until the server has shut down (or, after a failed start, until
    // what it had opened has closed).
    uv_run(&loop, UV_RUN_DEFAULT);
    if (status == 0) gateway::Log::info("stopped");
  }
  // The drain is over and libuv, stopping its signal watchers, put SIGTERM
  // and SIGINT back to their default: a second signal (an orchestrator
  // repeating itself) must not turn this clean exit into a kill.
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  // Let the close callbacks of every handle run, then check nothing leaked.
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) {
    gateway::Log::error("loop_not_empty");
    if (status == 0) status = 1;
  }
  return status;
}

std::string defaultGatewayId() {
  char host[256] = "gateway";
  gethostname(host, sizeof host - 1);
  // Host names can be long; GATEWAY_ID allows 64 characters.
  return std::string(host).substr(0, 48) + "-" + std::to_string(getpid());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chat;
  common::SettingsSources sources;
  sources.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
  };
  sources.dotEnvContent = readFile(".env");
  sources.args.assign(argv + 1, argv + argc);
  sources.defaultStaticDir = CHAT_DEFAULT_STATIC_DIR;
  sources.defaultGatewayId = defaultGatewayId();
  sources.defaultWorkers = usableCores();

  auto loaded = common::loadSettings(sources);
  if (!loaded.settings) {
    if (!loaded.output.empty()) std::cout << loaded.output;
    if (!loaded.error.empty()) std::cerr << "chat-gateway: " << loaded.error << "\n";
    return loaded.exitCode;
  }
  gateway::Log::configure(loaded.settings->logLevel, loaded.settings->gatewayId);
  // A peer that vanishes mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  if (loaded.settings->workers > 1) return gateway::superviseWorkers(*loaded.settings, runGateway);
  return runGateway(std::move(*loaded.settings), {});
}
