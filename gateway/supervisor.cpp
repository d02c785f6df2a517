#include "supervisor.h"

#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <vector>

#include "log/log.h"

namespace chat::gateway {
namespace {

volatile std::sig_atomic_t gStopSignal = 0;
volatile std::sig_atomic_t gDeadlinePassed = 0;

void onStopSignal(int signum) {
  gStopSignal = signum;
}
void onAlarm(int) {
  gDeadlinePassed = 1;
}

// Binds (without listening) a reuse-port socket to find a port all workers
// can share; kept open so nobody else takes it meanwhile.
int reservePort(std::uint16_t& port) {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_any;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(address.sin6_port);
  return fd;
}

pid_t spawn(const common::Settings& base, std::size_t index,
            const std::function<int(common::Settings)>& worker) {
  const pid_t supervisor = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: die with the supervisor, whatever kills it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != supervisor) ::_exit(1);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
  common::Settings settings = base;
  // Presence entries are per gateway process: each worker needs its own id.
  settings.gatewayId += "-w" + std::to_string(index + 1);
  ::_exit(worker(std::move(settings)));
}

}  // namespace

int superviseWorkers(common::Settings settings,
                     const std::function<int(common::Settings)>& worker) {
  int reserved = -1;
  if (settings.port == 0) {
    reserved = reservePort(settings.port);
    if (reserved < 0) {
      Log::error("listen_failed", {{"port", "0"}, {"detail", "cannot reserve a shared port"}});
      return 1;
    }
  }
  // No SA_RESTART: the signal must interrupt waitpid() below.
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  action.sa_handler = onAlarm;
  ::sigaction(SIGALRM, &action, nullptr);
  Log::info("supervisor_started", {{"workers", std::to_string(settings.workers)},
                                   {"port", std::to_string(settings.port)}});

  std::vector<pid_t> workers(settings.workers, 0);
  for (std::size_t i = 0; i < workers.size(); ++i)
    workers[i] = spawn(settings, i, worker);

  int status = 0;
  bool stopping = false;
  std::size_t alive = workers.size();
  // Restarts back off so a worker that cannot start does not spin.
  auto restartDelay = std::chrono::milliseconds(100);
  while (alive > 0) {
    if (gStopSignal != 0 && !stopping) {
      stopping = true;
      Log::info("supervisor_stopping", {{"signal", std::to_string(gStopSignal)}});
      for (pid_t pid : workers) {
        if (pid > 0) ::kill(pid, SIGTERM);
      }
      // Workers drain within SHUTDOWN_TIMEOUT; past that and a margin, stop them hard.
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
          settings.shutdownTimeout + std::chrono::seconds(5));
      ::alarm(static_cast<unsigned>(seconds.count()));
    }
    if (gDeadlinePassed != 0) {
      gDeadlinePassed = 0;
      Log::error("supervisor_drain_timeout");
      for (pid_t pid : workers) {
        if (pid > 0) ::kill(pid, SIGKILL);
      }
    }
    int workerStatus = 0;
    const pid_t pid = ::waitpid(-1, &workerStatus, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < workers.size(); ++i) {
      if (workers[i] != pid) continue;
      workers[i] = 0;
      const bool clean = WIFEXITED(workerStatus) && WEXITSTATUS(workerStatus) == 0;
      if (stopping || clean || (WIFEXITED(workerStatus) && WEXITSTATUS(workerStatus) == 2)) {
        // Asked to stop (a Ctrl-C reaches the whole process group, so a worker
        // may drain and exit 0 before we hear of it), or a configuration error
        // no restart can fix.
        --alive;
        if (!clean) status = 1;
        break;
      }
      Log::error("worker_exited",
                 {{"worker", std::to_string(i + 1)}, {"status", std::to_string(workerStatus)}});
      // A stop signal cuts the wait short (nanosleep returns early) and
      // cancels the restart.
      timespec wait{0, static_cast<long>(restartDelay.count()) * 1000000L};
      ::nanosleep(&wait, nullptr);
      restartDelay = std::min(restartDelay * 2, std::chrono::milliseconds(999));
      if (gStopSignal != 0) {
        --alive;
        status = 1;
        break;
      }
      workers[i] = spawn(settings, i, worker);
    }
  }
  if (reserved >= 0) ::close(reserved);
  return status;
}

}  // namespace chat::gateway
