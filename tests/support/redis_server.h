#pragma once
// A throw-away redis-server (from PATH) for one test or suite: its own temp dir,
// a free loopback port (another one when that port turns out to be taken, as
// Redis' own harness does), no persistence (`--save "" --appendonly no`) unless
// asked for. Ready when PING answers (not -LOADING) and INFO names our PID, so
// a server some other test started on the same port is never mistaken for
// ours. Used by one thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "process.h"
#include "redis_client.h"
#include "temp_dir.h"

namespace chat::testing {

// kAppendOnlyAlways keeps the data across a crash, for tests of what an
// acknowledged message promises (docs/protocol.md section 4: "durable as far as
// Redis is"): append-only file, fsync on every write, no RDB snapshots.
// kill() is then a crash without a goodbye, and restart() loads the file.
enum class Persistence { kNone, kAppendOnlyAlways };

class RedisServer {
 public:
  // Starts on a free port; throws when redis-server cannot be started.
  explicit RedisServer(Persistence persistence = Persistence::kNone);
  // Starts on exactly `port` (a test that first points a gateway at a port
  // where nothing listens yet); throws when that port cannot be used.
  explicit RedisServer(std::uint16_t port);
  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  std::string url() const;  // "redis://127.0.0.1:PORT"

  bool isRunning();
  // SIGTERM (SIGKILL after a deadline); the data is gone, as with a crash of
  // a server without persistence.
  ExitStatus stop();
  // SIGKILL: Redis disappears without a goodbye.
  ExitStatus kill();
  // Starts again on the same port and directory (empty without persistence);
  // throws when it cannot.
  void restart();

  // A new client connection to this server.
  RedisClient client() const { return RedisClient(port_); }

  // redis-server's log (it logs to stdout), for failure messages.
  std::string log() const;

 private:
  bool startOn(std::uint16_t port, std::string& why);

  Persistence persistence_ = Persistence::kNone;
  TempDir dir_{"chat-redis"};
  std::uint16_t port_ = 0;
  int starts_ = 0;  // names each run's log files apart
  std::unique_ptr<Process> process_;
};

}  // namespace chat::testing
