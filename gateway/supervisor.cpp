#include "supervisor.h"

#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <optional>
#include <vector>

#include "log/log.h"
#include "workers/restart_backoff.h"
#include "workers/worker_board.h"

namespace chat::gateway {
namespace {

using Ms = std::chrono::milliseconds;

volatile std::sig_atomic_t gStopSignal = 0;

void onStopSignal(int signum) {
  gStopSignal = signum;
}
// SIGALRM only has to interrupt waitpid(): the loop then looks at the clock.
void onAlarm(int) {}

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

Ms now() {
  return Ms(monotonicMs());
}

// Interrupts the next waitpid() after `delay` (at least 1 ms).
void wakeAfter(Ms delay) {
  itimerval timer{};
  const auto ms = std::max<Ms::rep>(1, delay.count());
  timer.it_value.tv_sec = ms / 1000;
  timer.it_value.tv_usec = (ms % 1000) * 1000;
  ::setitimer(ITIMER_REAL, &timer, nullptr);
}

struct Worker {
  pid_t pid = 0;
  Ms startedAt{0};
  std::optional<Ms> restartAt;  // crashed: start again then
  RestartBackoff backoff;
};

pid_t spawn(const common::Settings& base, WorkerBoard& board, std::size_t index,
            const WorkerMain& worker) {
  const pid_t supervisor = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: die with the supervisor, whatever kills it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != supervisor) ::_exit(1);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGALRM, SIG_DFL);
  common::Settings settings = base;
  // Presence entries are per gateway process: each worker needs its own id.
  settings.gatewayId += "-w" + std::to_string(index + 1);
  ::_exit(worker(std::move(settings), WorkerSeat{&board, index}));
}

}  // namespace

int superviseWorkers(common::Settings settings, const WorkerMain& worker) {
  int reserved = -1;
  if (settings.port == 0) {
    reserved = reservePort(settings.port);
    if (reserved < 0) {
      Log::error("listen_failed", {{"port", "0"}, {"detail", "cannot reserve a shared port"}});
      return 1;
    }
  }
  // No SA_RESTART: the signals must interrupt waitpid() below.
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  action.sa_handler = onAlarm;
  ::sigaction(SIGALRM, &action, nullptr);
  Log::info("supervisor_started", {{"workers", std::to_string(settings.workers)},
                                   {"port", std::to_string(settings.port)}});

  auto board = WorkerBoard::create(settings.workers);
  std::vector<Worker> workers(settings.workers);
  for (std::size_t i = 0; i < workers.size(); ++i) {
    workers[i].pid = spawn(settings, *board, i, worker);
    workers[i].startedAt = now();
  }

  int status = 0;
  std::optional<Ms> hardStopAt;  // set once stopping
  for (;;) {
    if (gStopSignal != 0 && !hardStopAt) {
      board->setDraining();
      Log::info("supervisor_stopping", {{"signal", std::to_string(gStopSignal)}});
      for (Worker& w : workers) {
        w.restartAt.reset();
        if (w.pid > 0) ::kill(w.pid, SIGTERM);
      }
      // Workers drain within SHUTDOWN_TIMEOUT; a moment past it, stop them hard.
      hardStopAt = now() + std::chrono::duration_cast<Ms>(settings.shutdownTimeout) + Ms(1000);
    }
    if (hardStopAt && now() >= *hardStopAt) {
      Log::error("supervisor_drain_timeout");
      for (const Worker& w : workers) {
        if (w.pid > 0) ::kill(w.pid, SIGKILL);
      }
      hardStopAt = Ms::max();
    }
    // A signal that lands just before waitpid() blocks is seen at the next
    // wake-up at the latest.
    Ms nextWake = now() + Ms(1000);
    if (hardStopAt) nextWake = std::min(nextWake, *hardStopAt);
    bool alive = false;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      Worker& w = workers[i];
      if (w.restartAt && now() >= *w.restartAt) {
        w.restartAt.reset();
        w.pid = spawn(settings, *board, i, worker);
        w.startedAt = now();
        Log::info("worker_restarted",
                  {{"worker", std::to_string(i + 1)}, {"pid", std::to_string(w.pid)}});
      }
      if (w.restartAt) nextWake = std::min(nextWake, *w.restartAt);
      alive = alive || w.pid > 0 || w.restartAt.has_value();
    }
    if (!alive) break;
    wakeAfter(nextWake - now());

    int workerStatus = 0;
    const pid_t pid = ::waitpid(-1, &workerStatus, 0);
    if (pid <= 0) continue;  // EINTR: a signal or a wake-up; ECHILD: a restart is pending
    for (std::size_t i = 0; i < workers.size(); ++i) {
      Worker& w = workers[i];
      if (w.pid != pid) continue;
      w.pid = 0;
      board->slot(i).release();
      const bool clean = WIFEXITED(workerStatus) && WEXITSTATUS(workerStatus) == 0;
      const bool badConfig = WIFEXITED(workerStatus) && WEXITSTATUS(workerStatus) == 2;
      if (hardStopAt || gStopSignal != 0 || clean || badConfig) {
        // Asked to stop (a Ctrl-C reaches the whole process group, so a worker
        // may drain and exit 0 before we hear of it), or a configuration error
        // no restart can fix.
        if (!clean) status = 1;
        break;
      }
      const Ms delay = w.backoff.onCrash(now() - w.startedAt);
      w.restartAt = now() + delay;
      Log::error("worker_exited", {{"worker", std::to_string(i + 1)},
                                   {"status", std::to_string(workerStatus)},
                                   {"restart_in_ms", std::to_string(delay.count())}});
    }
  }
  itimerval off{};
  ::setitimer(ITIMER_REAL, &off, nullptr);
  if (reserved >= 0) ::close(reserved);
  return status;
}

}  // namespace chat::gateway
