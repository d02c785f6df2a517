#include "process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "sanitizer_report.h"
#include "wait.h"

extern char** environ;

namespace chat::testing {
namespace {

// Environment for the child: ours, with `extra` replacing or adding entries.
std::vector<std::string> childEnvironment(const EnvVars& extra) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view current(*entry);
    std::string_view key = current.substr(0, current.find('='));
    bool replaced = false;
    for (const auto& [name, value] : extra)
      replaced = replaced || name == key;
    if (!replaced) result.emplace_back(current);
  }
  for (const auto& [name, value] : extra)
    result.push_back(name + "=" + value);
  return result;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings)
    result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

}  // namespace

std::string ExitStatus::describe() const {
  std::ostringstream out;
  if (exited) {
    out << "exited with code " << code;
  } else {
    out << "killed by signal " << signal << " (" << strsignal(signal) << ")";
  }
  if (killedAfterTimeout) out << " after it did not stop in time";
  return out.str();
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Process::Process(ProcessOptions options) : options_(std::move(options)) {
  stdoutPath_ = options_.logDir / (options_.name + ".stdout");
  stderrPath_ = options_.logDir / (options_.name + ".stderr");

  // Everything the child needs is prepared before fork: between fork and exec
  // only async-signal-safe calls are allowed (the test process has threads).
  std::vector<std::string> argv{options_.executable};
  argv.insert(argv.end(), options_.args.begin(), options_.args.end());
  std::vector<std::string> envp = childEnvironment(options_.env);
  std::vector<char*> argvPointers = pointers(argv);
  std::vector<char*> envpPointers = pointers(envp);
  std::string workingDir = options_.workingDir.string();
  std::string stdoutFile = stdoutPath_.string();
  std::string stderrFile = stderrPath_.string();
  bool searchPath = options_.executable.find('/') == std::string::npos;

  // exec failures come back through a close-on-exec pipe: EOF means it ran.
  int errorPipe[2];
  if (::pipe2(errorPipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  pid_t parent = ::getpid();
  pid_t child = ::fork();
  if (child < 0) {
    int error = errno;
    ::close(errorPipe[0]);
    ::close(errorPipe[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(error));
  }
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(stdoutFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err = ::open(stderrFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    bool ok = in >= 0 && out >= 0 && err >= 0 && ::dup2(in, 0) >= 0 && ::dup2(out, 1) >= 0 &&
              ::dup2(err, 2) >= 0 && (workingDir.empty() || ::chdir(workingDir.c_str()) == 0);
    for (int fd : {in, out, err}) {
      if (fd > 2) ::close(fd);
    }
    if (ok) {
      if (searchPath) {
        ::execvpe(argvPointers[0], argvPointers.data(), envpPointers.data());
      } else {
        ::execve(argvPointers[0], argvPointers.data(), envpPointers.data());
      }
    }
    int error = errno;
    ssize_t ignored = ::write(errorPipe[1], &error, sizeof(error));
    (void)ignored;
    ::_exit(127);
  }
  ::close(errorPipe[1]);
  int childError = 0;
  ssize_t got;
  do {
    got = ::read(errorPipe[0], &childError, sizeof(childError));
  } while (got < 0 && errno == EINTR);
  ::close(errorPipe[0]);
  pid_ = child;
  if (got > 0) {
    int waitStatus = 0;
    ::waitpid(pid_, &waitStatus, 0);
    reap(waitStatus);
    throw std::runtime_error("cannot start " + options_.executable + ": " +
                             std::strerror(childError));
  }
}

Process::~Process() {
  if (!status_) stop(SIGTERM, std::chrono::milliseconds(5000));
}

void Process::reap(int waitStatus) {
  ExitStatus status;
  if (WIFEXITED(waitStatus)) {
    status.exited = true;
    status.code = WEXITSTATUS(waitStatus);
  } else if (WIFSIGNALED(waitStatus)) {
    status.signal = WTERMSIG(waitStatus);
  }
  status_ = status;
}

bool Process::isRunning() {
  if (status_) return false;
  int waitStatus = 0;
  pid_t got = ::waitpid(pid_, &waitStatus, WNOHANG);
  if (got == pid_) {
    reap(waitStatus);
    return false;
  }
  return true;
}

ExitStatus Process::stop(int signal, std::chrono::milliseconds timeout) {
  if (!isRunning()) return *status_;
  ::kill(pid_, signal);
  if (waitFor([this] { return !isRunning(); }, timeout, std::chrono::milliseconds(5))) {
    return *status_;
  }
  ExitStatus status = kill();
  status.killedAfterTimeout = true;
  status_ = status;
  return status;
}

ExitStatus Process::kill() {
  if (!isRunning()) return *status_;
  ::kill(pid_, SIGKILL);
  int waitStatus = 0;
  while (::waitpid(pid_, &waitStatus, 0) < 0 && errno == EINTR) {
  }
  reap(waitStatus);
  return *status_;
}

std::string Process::readStdout() const {
  return readFile(stdoutPath_);
}

std::string Process::readStderr() const {
  return readFile(stderrPath_);
}

bool Process::hasSanitizerReport() const {
  return containsSanitizerReport(readStderr());
}

}  // namespace chat::testing
