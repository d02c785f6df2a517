#include "lg_options.h"

#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>

namespace chat::load {
namespace {

template <typename T>
bool parseNumber(const std::string& text, T& out) {
  if constexpr (std::is_floating_point_v<T>) {
    char* end = nullptr;
    out = static_cast<T>(std::strtod(text.c_str(), &end));
    return !text.empty() && end == text.c_str() + text.size();
  } else {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && ptr == text.data() + text.size();
  }
}

bool parsePids(const std::string& text, std::vector<pid_t>& out) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = text.substr(pos, comma - pos);
    if (!item.empty()) {
      int pid = 0;
      if (!parseNumber(item, pid) || pid <= 0) return false;
      out.push_back(pid);
    }
    pos = comma + 1;
  }
  return true;
}

std::string randomRunId() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 8; ++i)
    id += kHex[rd() % 16];
  return id;
}

}  // namespace

int Options::totalClients() const {
  switch (scenario) {
    case Scenario::kFanout:
    case Scenario::kRooms:
    case Scenario::kIngest:
      return rooms * (subs + pubs);
    case Scenario::kIdle:
      return n;
    case Scenario::kConnect:
      return k;
    case Scenario::kStorm:
      return n + rooms;
  }
  return n;
}

std::string usage() {
  return R"(usage: chat-loadgen SCENARIO [--option value ...]
Scenarios (each prints ONE JSON line on stdout; progress on stderr):
  fanout   1 room: --subs S subscribers, --pubs P publishers (window or --rate)
  rooms    --rooms R rooms of --subs S + --pubs P members each
  ingest   --rooms R publishers, each alone in its room (v1 acks): stored msgs/s
  idle     --n N connections held for --hold s: gateway RSS/connection, idle CPU
  connect  --n N handshakes by --k K concurrent dialers (each closed at once)
  storm    --n N v1 clients dropped and resumed (since+epoch) within --window s
Common: --targets 127.0.0.1:P1,127.0.0.1:P2 (loopback only)  --path /websocket
  --procs W (worker processes; default: 1 per 15000 connections)
  --srcs K (source addresses 127.0.0.1..K, default 4)  --conc C (dialers, 50)
  --pids P,P (servers to sample)  --aux-pids P (redis)  --redis HOST:PORT
  --timeout S (hard limit, default 300)  --run-id ID  --label TEXT  --quiet
Message scenarios: --msgs M (total) --rate R (msgs/s total; 0 = window mode)
  --window W (in flight per publisher) --size B (text bytes) --drain S
  --sub-dialect plain|v1 --pub-dialect plain|v1 --distinct-users --room NAME
idle/connect/storm: --n N --dialect plain|v1 --hold S --settle S --k K
  --duration S --before B --during D --window-s S (storm reconnect window)
)";
}

std::optional<Options> parseOptions(int argc, char** argv, std::string& error) {
  if (argc < 1) {
    error = "missing scenario";
    return std::nullopt;
  }
  Options o;
  o.scenarioName = argv[0];
  static const std::map<std::string, Scenario> scenarios = {
      {"fanout", Scenario::kFanout}, {"rooms", Scenario::kRooms},     {"ingest", Scenario::kIngest},
      {"idle", Scenario::kIdle},     {"connect", Scenario::kConnect}, {"storm", Scenario::kStorm}};
  const auto sc = scenarios.find(o.scenarioName);
  if (sc == scenarios.end()) {
    error = "unknown scenario " + o.scenarioName;
    return std::nullopt;
  }
  o.scenario = sc->second;
  // Scenario defaults.
  if (o.scenario == Scenario::kRooms) {
    o.rooms = 100;
    o.subs = 4;
    o.pubs = 1;
    o.msgs = 10000;
  } else if (o.scenario == Scenario::kIngest) {
    o.rooms = 50;
    o.subs = 0;
    o.pubs = 1;
    o.msgs = 50000;
    o.pubDialect = Dialect::kV1;
  } else if (o.scenario == Scenario::kStorm) {
    o.dialect = Dialect::kV1;
  }
  std::string targets = "127.0.0.1:8080";
  bool bad = false;
  using Setter = std::function<bool(const std::string&)>;
  const auto dialect = [&](Dialect& d) {
    return [&d](const std::string& v) {
      auto p = parseDialect(v);
      if (p) d = *p;
      return p.has_value();
    };
  };
  const std::map<std::string, Setter> valued = {
      {"targets", [&](const std::string& v) { return targets = v, true; }},
      {"path", [&](const std::string& v) { return o.path = v, true; }},
      {"procs", [&](const std::string& v) { return parseNumber(v, o.procs); }},
      {"srcs", [&](const std::string& v) { return parseNumber(v, o.srcs); }},
      {"conc", [&](const std::string& v) { return parseNumber(v, o.conc); }},
      {"timeout", [&](const std::string& v) { return parseNumber(v, o.timeoutS); }},
      {"pids", [&](const std::string& v) { return parsePids(v, o.pids); }},
      {"aux-pids", [&](const std::string& v) { return parsePids(v, o.auxPids); }},
      {"redis", [&](const std::string& v) { return o.redis = v, parseTarget(v).has_value(); }},
      {"run-id", [&](const std::string& v) { return o.runId = v, !v.empty(); }},
      {"label", [&](const std::string& v) { return o.label = v, true; }},
      {"room", [&](const std::string& v) { return o.room = v, !v.empty(); }},
      {"rooms", [&](const std::string& v) { return parseNumber(v, o.rooms); }},
      {"subs", [&](const std::string& v) { return parseNumber(v, o.subs); }},
      {"pubs", [&](const std::string& v) { return parseNumber(v, o.pubs); }},
      {"msgs", [&](const std::string& v) { return parseNumber(v, o.msgs); }},
      {"rate", [&](const std::string& v) { return parseNumber(v, o.rate); }},
      {"window", [&](const std::string& v) { return parseNumber(v, o.window); }},
      {"size", [&](const std::string& v) { return parseNumber(v, o.size); }},
      {"drain", [&](const std::string& v) { return parseNumber(v, o.drainS); }},
      {"sync-timeout", [&](const std::string& v) { return parseNumber(v, o.syncTimeoutS); }},
      {"sub-dialect", dialect(o.subDialect)},
      {"pub-dialect", dialect(o.pubDialect)},
      {"dialect", dialect(o.dialect)},
      {"n", [&](const std::string& v) { return parseNumber(v, o.n); }},
      {"hold", [&](const std::string& v) { return parseNumber(v, o.holdS); }},
      {"settle", [&](const std::string& v) { return parseNumber(v, o.settleS); }},
      {"k", [&](const std::string& v) { return parseNumber(v, o.k); }},
      {"duration", [&](const std::string& v) { return parseNumber(v, o.durationS); }},
      {"before", [&](const std::string& v) { return parseNumber(v, o.before); }},
      {"during", [&](const std::string& v) { return parseNumber(v, o.during); }},
      {"window-s", [&](const std::string& v) { return parseNumber(v, o.windowS); }},
      {"handshake-timeout",
       [&](const std::string& v) { return parseNumber(v, o.handshakeTimeoutS); }},
  };
  for (int i = 1; i < argc && !bad; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      error = "unexpected argument " + arg;
      return std::nullopt;
    }
    arg = arg.substr(2);
    std::string value;
    bool hasValue = false;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      hasValue = true;
    }
    if (arg == "quiet" || arg == "q") {
      o.quiet = true;
      continue;
    }
    if (arg == "distinct-users") {
      o.distinctUsers = true;
      continue;
    }
    const auto it = valued.find(arg);
    if (it == valued.end()) {
      error = "unknown option --" + arg;
      return std::nullopt;
    }
    if (!hasValue) {
      if (i + 1 >= argc) {
        error = "--" + arg + " needs a value";
        return std::nullopt;
      }
      value = argv[++i];
    }
    if (!it->second(value)) {
      error = "bad value for --" + arg + ": " + value;
      return std::nullopt;
    }
  }
  std::size_t pos = 0;
  while (pos <= targets.size()) {
    std::size_t comma = targets.find(',', pos);
    if (comma == std::string::npos) comma = targets.size();
    const std::string item = targets.substr(pos, comma - pos);
    if (!item.empty()) {
      auto t = parseTarget(item);
      if (!t) {
        error = "target " + item + " is not a loopback host:port";
        return std::nullopt;
      }
      o.targets.push_back(*t);
    }
    pos = comma + 1;
  }
  if (o.targets.empty()) {
    error = "no targets";
    return std::nullopt;
  }
  if (o.runId.empty()) o.runId = randomRunId();
  for (char c : o.runId) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      error = "--run-id: letters and digits only";
      return std::nullopt;
    }
  }
  if (o.room.empty()) o.room = "bench-" + o.runId;
  if (o.scenario == Scenario::kFanout) o.rooms = 1;
  if (o.scenario == Scenario::kIngest) {
    o.subs = 0;
    o.pubs = 1;
  }
  if (o.scenario == Scenario::kStorm) o.dialect = Dialect::kV1;
  if (o.rooms < 1 || o.subs < 0 || o.pubs < 1 || o.msgs < 1 || o.window < 1 || o.size < 40 ||
      o.size > 1900 || o.n < 1 || o.k < 1 || o.srcs < 0 || o.srcs > 250 || o.conc < 1 ||
      o.timeoutS <= 0 || o.rate < 0 || o.windowS < 0 || o.before < 0 || o.during < 0) {
    error = "option out of range (see --help)";
    return std::nullopt;
  }
  if (o.msgs < static_cast<std::int64_t>(o.rooms) * o.pubs) {
    error = "--msgs must be at least rooms x pubs";
    return std::nullopt;
  }
  if (o.procs <= 0) o.procs = std::max(1, (o.totalClients() + 14999) / 15000);
  if (o.procs > 64) o.procs = 64;
  // A process may hold at most 20000 descriptors here.
  if ((o.totalClients() + o.procs - 1) / o.procs > 19000) {
    error = "more than 19000 connections per process: raise --procs";
    return std::nullopt;
  }
  return o;
}

}  // namespace chat::load
