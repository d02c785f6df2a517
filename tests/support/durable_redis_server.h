#pragma once
// A redis-server that keeps its data across a crash, for tests of what an
// acknowledged message promises (PROTOCOL.md section 4: "durable as far as
// Redis is"): append-only file on, fsync on every write
// (`--appendonly yes --appendfsync always`), no RDB snapshots. kill() is a
// SIGKILL, a crash without a goodbye; restart() starts a new server on the same
// port and directory, which loads the append-only file, and returns once PING
// answers from the new PID. RedisServer stays the plain, non-persistent one.
// Used by one thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "process.h"
#include "redis_client.h"
#include "temp_dir.h"

namespace chat::testing {

class DurableRedisServer {
 public:
  // Starts on a free port; throws when redis-server cannot be started.
  DurableRedisServer();
  ~DurableRedisServer();

  DurableRedisServer(const DurableRedisServer&) = delete;
  DurableRedisServer& operator=(const DurableRedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const;  // "redis://127.0.0.1:PORT"
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  bool isRunning();
  // SIGKILL and reap.
  ExitStatus kill();
  // A new server on the same port and data directory, with what the
  // append-only file kept; throws when it cannot start in time.
  void restart();

  RedisClient client() const { return RedisClient(port_); }
  std::string log() const;

 private:
  bool startOn(std::uint16_t port, std::string& why);

  TempDir dir_{"chat-redis-aof"};
  std::uint16_t port_ = 0;
  int starts_ = 0;  // names each run's log files apart
  std::unique_ptr<Process> process_;
};

}  // namespace chat::testing
