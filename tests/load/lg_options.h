#pragma once
// Command line of chat-loadgen: `chat-loadgen SCENARIO --name value ...`.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lg_codec.h"
#include "lg_net.h"

namespace chat::load {

enum class Scenario { kFanout, kRooms, kIngest, kIdle, kConnect, kStorm };

struct Options {
  Scenario scenario = Scenario::kFanout;
  std::string scenarioName;
  std::vector<Target> targets;
  std::string path = "/websocket";
  int procs = 0;  // 0: chosen from the connection count
  int srcs = 4;   // source addresses 127.0.0.1..k
  int conc = 50;  // concurrent dialers (all processes together)
  double timeoutS = 300;
  std::vector<pid_t> pids;     // servers to sample
  std::vector<pid_t> auxPids;  // redis
  std::string redis;           // host:port, for INFO commandstats
  std::string runId;
  std::string label;
  bool quiet = false;
  std::string room;  // room name prefix (default bench-<run>)
  // rooms / fanout / ingest
  int rooms = 1;
  int subs = 100;  // per room
  int pubs = 1;    // per room
  std::int64_t msgs = 1000;
  double rate = 0;  // msgs/s over all publishers; 0: window mode
  int window = 16;
  int size = 64;
  Dialect subDialect = Dialect::kPlain;
  Dialect pubDialect = Dialect::kPlain;
  double drainS = 3;
  double syncTimeoutS = 30;
  bool distinctUsers = false;
  // idle / connect / storm
  int n = 1000;
  Dialect dialect = Dialect::kPlain;
  double holdS = 10;
  double settleS = 2;
  int k = 50;
  double durationS = 60;
  int before = 20;
  int during = 20;
  double windowS = 10;  // storm: reconnects spread over this many seconds
  double handshakeTimeoutS = 10;

  int totalClients() const;
};

// Parses argv (after the program name); on error returns nullopt and sets error.
std::optional<Options> parseOptions(int argc, char** argv, std::string& error);
std::string usage();

}  // namespace chat::load
