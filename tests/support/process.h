#pragma once
// A child process for integration tests: a server binary started with extra
// arguments and environment, its stdout and stderr appended to files in a log
// directory, stopped by PID. The destructor stops it (SIGTERM, then SIGKILL), so
// no test leaves a server behind; the child also gets SIGKILL if the test
// process dies first (PR_SET_PDEATHSIG), so a crashed or timed-out test does
// not leak one either. Owned and used by the thread that started it.

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chat::testing {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

struct ProcessOptions {
  std::string executable;         // a path; PATH is searched when it has no '/'
  std::vector<std::string> args;  // argv[1..]
  EnvVars env;                    // set on top of this process' environment
  std::filesystem::path workingDir;
  std::filesystem::path logDir;  // gets NAME.stdout and NAME.stderr
  std::string name = "child";
};

struct ExitStatus {
  bool exited = false;  // exited by itself (else: killed by `signal`)
  int code = -1;
  int signal = 0;
  bool killedAfterTimeout = false;  // stop() had to escalate to SIGKILL

  bool success() const { return exited && code == 0; }
  std::string describe() const;
};

class Process {
 public:
  // Starts the child; throws std::runtime_error when it cannot be executed.
  explicit Process(ProcessOptions options);
  ~Process();

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return options_.name; }

  // Reaps the child if it has exited; true while it still runs.
  bool isRunning();
  // Set once the child has been reaped.
  const std::optional<ExitStatus>& exitStatus() const { return status_; }

  // Sends `signal`, waits up to `timeout` for the exit, then SIGKILLs. Returns
  // how it ended; a child that had already exited just reports that.
  ExitStatus stop(int signal = SIGTERM,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  // SIGKILL and reap.
  ExitStatus kill();

  std::string readStdout() const;
  std::string readStderr() const;
  const std::filesystem::path& stdoutPath() const { return stdoutPath_; }
  const std::filesystem::path& stderrPath() const { return stderrPath_; }

  // Whether stderr holds an ASan, LSan or UBSan report.
  bool hasSanitizerReport() const;

 private:
  void reap(int waitStatus);

  ProcessOptions options_;
  std::filesystem::path stdoutPath_;
  std::filesystem::path stderrPath_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// The whole content of a file, or an empty string when it cannot be read.
std::string readFile(const std::filesystem::path& path);

}  // namespace chat::testing
