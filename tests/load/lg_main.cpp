// chat-loadgen: load generator for the chat gateway (and peers speaking the
// plain dialect). The coordinating process forks --procs workers (each an
// epoll loop over raw non-blocking sockets, with its share of the
// connections and source addresses, so that no process nears the 20000-fd
// limit), steps them through the scenario's phases over pipes, samples the
// measured processes in /proc, merges the workers' figures and prints ONE
// JSON line on stdout. Every phase has a deadline; --timeout bounds the whole.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "lg_net.h"
#include "lg_options.h"
#include "lg_report.h"
#include "lg_stats.h"
#include "lg_worker.h"

using namespace chat::load;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;

std::vector<pid_t> g_children;  // for the watchdog
std::string g_watchdogLine;

void watchdog(int) {
  for (pid_t p : g_children)
    kill(p, SIGKILL);  // our own workers, by PID
  const std::string& line = g_watchdogLine;
  (void)!write(1, line.data(), line.size());
  _exit(3);
}

struct Child {
  pid_t pid = -1;
  int cmd = -1;
  int rep = -1;
  std::string buffer;
  std::deque<std::string> lines;
  bool eof = false;
};

class Coordinator {
 public:
  Coordinator(const Options& o) : o_(o) {}

  bool spawn() {
    for (int i = 0; i < o_.procs; ++i) {
      int cmd[2], rep[2];
      if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0) return false;
      std::cout.flush();
      std::cerr.flush();
      const pid_t pid = fork();
      if (pid < 0) return false;
      if (pid == 0) {
        ::close(cmd[1]);
        ::close(rep[0]);
        for (const Child& other : children_) {
          ::close(other.cmd);
          ::close(other.rep);
        }
        signal(SIGALRM, SIG_DFL);
        alarm(static_cast<unsigned>(o_.timeoutS) + 30);
        const int rc = runWorker(o_, i, cmd[0], rep[1]);
        _exit(rc);
      }
      ::close(cmd[0]);
      ::close(rep[1]);
      Child c;
      c.pid = pid;
      c.cmd = cmd[1];
      c.rep = rep[0];
      children_.push_back(c);
      g_children.push_back(pid);
    }
    return true;
  }

  void broadcast(const std::string& line) {
    const std::string text = line + "\n";
    for (Child& c : children_)
      (void)!::write(c.cmd, text.data(), text.size());
  }

  // Reads child output for up to `ms` milliseconds.
  void pump(int ms) {
    std::vector<pollfd> fds;
    for (Child& c : children_)
      fds.push_back({c.eof ? -1 : c.rep, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), ms) <= 0) return;
    for (std::size_t i = 0; i < children_.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Child& c = children_[i];
      char buf[65536];
      const ssize_t n = ::read(c.rep, buf, sizeof buf);
      if (n <= 0) {
        c.eof = true;
        continue;
      }
      c.buffer.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = c.buffer.find('\n')) != std::string::npos) {
        c.lines.push_back(c.buffer.substr(0, nl));
        c.buffer.erase(0, nl + 1);
      }
    }
  }

  void sleepMs(int ms) {
    const std::int64_t until = nowNs() + static_cast<std::int64_t>(ms) * 1'000'000;
    while (nowNs() < until)
      pump(static_cast<int>(std::max<std::int64_t>(1, (until - nowNs()) / 1'000'000)));
  }

  // Waits until every child said a line starting with `word`. false on the
  // deadline or a child that exited.
  bool waitAll(const std::string& word, std::int64_t deadlineNs,
               std::vector<std::string>* got = nullptr) {
    std::vector<bool> have(children_.size(), false);
    if (got) got->assign(children_.size(), {});
    while (true) {
      bool all = true;
      for (std::size_t i = 0; i < children_.size(); ++i) {
        Child& c = children_[i];
        // The first line with that word is taken; other lines stay queued
        // (a worker may already have said what the next phase waits for).
        for (auto it = c.lines.begin(); !have[i] && it != c.lines.end(); ++it) {
          if (*it == word || it->rfind(word + " ", 0) == 0) {
            have[i] = true;
            if (got) (*got)[i] = *it;
            c.lines.erase(it);
            break;
          }
        }
        if (!have[i]) {
          all = false;
          if (c.eof && c.lines.empty()) return false;
        }
      }
      if (all) return true;
      if (nowNs() >= deadlineNs) return false;
      pump(20);
    }
  }

  // After "report": the r/h/s lines up to "end" from every child, merged.
  bool collect(std::int64_t deadlineNs) {
    for (std::size_t i = 0; i < children_.size(); ++i) {
      Child& c = children_[i];
      while (true) {
        if (c.lines.empty()) {
          if (c.eof || nowNs() >= deadlineNs) return false;
          pump(20);
          continue;
        }
        const std::string line = std::move(c.lines.front());
        c.lines.pop_front();
        if (line == "end") break;
        if (line.rfind("r ", 0) == 0) {
          const std::size_t sp = line.find(' ', 2);
          if (sp == std::string::npos) continue;
          const std::string key = line.substr(2, sp - 2);
          const double value = std::strtod(line.c_str() + sp + 1, nullptr);
          auto it = numbers_.find(key);
          if (it == numbers_.end()) {
            numbers_[key] = value;
          } else if (key.rfind("max_", 0) == 0) {
            it->second = std::max(it->second, value);
          } else if (key.rfind("min_", 0) == 0) {
            it->second = std::min(it->second, value);
          } else {
            it->second += value;
          }
          if (key == "cpu_s") workerCpu_.push_back(value);
        } else if (line.rfind("h ", 0) == 0) {
          const std::size_t sp = line.find(' ', 2);
          if (sp == std::string::npos) continue;
          Histogram h;
          if (h.deserialize(std::string_view(line).substr(sp + 1)))
            histograms_[line.substr(2, sp - 2)].merge(h);
        } else if (line.rfind("s ", 0) == 0) {
          const std::size_t sp = line.find(' ', 2);
          if (sp == std::string::npos) continue;
          strings_.emplace(line.substr(2, sp - 2), line.substr(sp + 1));
        }
      }
    }
    return true;
  }

  void finish() {
    broadcast("quit");
    const std::int64_t deadline = nowNs() + 5 * kSec;
    for (Child& c : children_) {
      // A child's end of its report pipe closes when it exits: wait for that
      // end of file (discarding any last output) until the deadline.
      bool exited = c.eof;
      char buf[4096];
      while (!exited) {
        const std::int64_t left = deadline - nowNs();
        if (left <= 0) break;
        pollfd p{c.rep, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left / 1000000) + 1) <= 0) continue;
        const ssize_t n = ::read(c.rep, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) exited = true;
      }
      if (!exited) kill(c.pid, SIGKILL);
      int status = 0;
      waitpid(c.pid, &status, 0);
      ::close(c.cmd);
      ::close(c.rep);
    }
  }

  double num(const std::string& key, double fallback = 0) const {
    const auto it = numbers_.find(key);
    return it == numbers_.end() ? fallback : it->second;
  }
  const Histogram& hist(const std::string& name) { return histograms_[name]; }
  std::string str(const std::string& key) const {
    const auto it = strings_.find(key);
    return it == strings_.end() ? std::string() : it->second;
  }
  const std::vector<double>& workerCpu() const { return workerCpu_; }

 private:
  const Options& o_;
  std::vector<Child> children_;
  std::map<std::string, double> numbers_;
  std::map<std::string, Histogram> histograms_;
  std::map<std::string, std::string> strings_;
  std::vector<double> workerCpu_;
};

void progress(const Options& o, const std::string& text) {
  if (o.quiet) return;
  static const std::int64_t start = nowNs();
  std::fprintf(stderr, "[chat-loadgen %7.2fs] %s\n", static_cast<double>(nowNs() - start) / 1e9,
               text.c_str());
}

std::string targetsJson(const Options& o) {
  std::string out = "[";
  for (std::size_t i = 0; i < o.targets.size(); ++i) {
    if (i > 0) out += ',';
    out += jsonString(o.targets[i].hostPort);
  }
  return out + "]";
}

JsonObject base(const Options& o) {
  JsonObject j;
  j.str("scenario", o.scenarioName)
      .str("run_id", o.runId)
      .str("label", o.label)
      .raw("targets", targetsJson(o))
      .integer("procs", o.procs)
      .integer("srcs", o.srcs)
      .str("note",
           "the load generator shares the machine's cores with the servers and redis; read "
           "loadgen.cpu_pct next to every figure");
  return j;
}

std::string loadgenJson(const Coordinator& c, const Options& o, double wallS) {
  JsonObject j;
  const double cpu = c.num("cpu_s");
  j.integer("procs", o.procs)
      .num("cpu_s", cpu, 2)
      .num("cpu_pct", wallS > 0 ? 100 * cpu / wallS : 0, 1)
      .num("cpu_total_s", c.num("cpu_total_s"), 2);
  return j.text();
}

void addProcs(JsonObject& j, const std::string& prefix, const std::vector<ProcSample>& before,
              const std::vector<ProcSample>& after, double wallS) {
  if (before.empty()) return;
  double cpu = 0, rss = 0;
  j.raw(prefix == "server" ? "servers" : prefix, procDeltaJson(before, after, cpu, rss));
  j.num(prefix + "_cpu_pct", wallS > 0 ? 100 * cpu / wallS : 0, 1);
  j.num(prefix + "_rss_mb", rss, 1);
}

std::string connectJson(Coordinator& c, double seconds) {
  JsonObject j;
  j.integer("ok", static_cast<std::int64_t>(c.num("connect_ok")))
      .integer("fail", static_cast<std::int64_t>(c.num("connect_fail")))
      .num("total_s", seconds, 3)
      .raw("ms", latencyJson(c.hist("connect")));
  if (!c.str("first_error").empty()) j.str("first_error", c.str("first_error"));
  return j.text();
}

double historyReads(const Options& o, bool& ok) {
  double total = 0;
  ok = true;
  for (const Target& t : o.targets) {
    const auto v = metricValue(t.hostPort, "chat_history_reads_total");
    if (!v) {
      ok = false;
      return 0;
    }
    total += *v;
  }
  return total;
}

int runMessages(const Options& o, Coordinator& c, std::int64_t deadline) {
  JsonObject j = base(o);
  const std::int64_t perPub = o.msgs / (static_cast<std::int64_t>(o.rooms) * o.pubs);
  j.integer("rooms", o.rooms)
      .integer("subs_per_room", o.subs)
      .integer("pubs_per_room", o.pubs)
      .str("sub_dialect", dialectName(o.subDialect))
      .str("pub_dialect", dialectName(o.pubDialect))
      .integer("msgs", perPub * o.rooms * o.pubs)
      .num("rate_target", o.rate)
      .integer("window", o.rate > 0 ? 0 : o.window)
      .integer("size", o.size);
  const std::int64_t t0 = nowNs();
  std::vector<std::string> lines;
  progress(o, "connecting " + std::to_string(o.totalClients()) + " clients");
  const bool connected = c.waitAll("connected", deadline, &lines);
  const double connectS = static_cast<double>(nowNs() - t0) / 1e9;
  bool syncOk = false;
  double syncS = 0;
  std::vector<ProcSample> sb, sa, ab, aa;
  double wallS = 0;
  bool finished = false;
  if (connected) {
    progress(o, "connected; join barrier");
    const std::int64_t s0 = nowNs();
    c.broadcast("sync");
    syncOk = c.waitAll("synced",
                       std::min(deadline, s0 + static_cast<std::int64_t>(o.syncTimeoutS * kSec)));
    syncS = static_cast<double>(nowNs() - s0) / 1e9;
    c.sleepMs(200);  // the last sync frames drain
    progress(o, syncOk ? "synced; sending" : "join barrier timed out; sending anyway");
    sb = sampleProcs(o.pids);
    ab = sampleProcs(o.auxPids);
    const std::int64_t go = nowNs() + 20'000'000;
    c.broadcast("go " + std::to_string(go));
    const bool sent = c.waitAll("sent", deadline);
    c.broadcast("allsent");
    finished = sent && c.waitAll("done", deadline);
    sa = sampleProcs(o.pids);
    aa = sampleProcs(o.auxPids);
    wallS = static_cast<double>(nowNs() - go) / 1e9;
    progress(o, finished ? "done" : "did not finish before the deadline");
  }
  c.broadcast("report");
  c.collect(nowNs() + 10 * kSec);
  j.raw("connect", connectJson(c, connectS))
      .boolean("sync_ok", syncOk)
      .num("sync_s", syncS, 3)
      .boolean("finished", finished);
  const double expected = c.num("expected"), delivered = c.num("delivered");
  const double firstSend = c.num("min_first_send_ns");
  const double lastDelivery = c.num("max_last_delivery_ns");
  const double lastAck = c.num("max_last_ack_ns");
  const double sendS = (c.num("max_last_send_ns") - firstSend) / 1e9;
  const double deliverS = (lastDelivery - firstSend) / 1e9;
  const double ackS = (lastAck - firstSend) / 1e9;
  const double missing = expected - delivered;
  const bool correct = missing == 0 && c.num("dups") == 0 && c.num("reordered") == 0 &&
                       c.num("id_gaps") == 0 && c.num("id_repeats") == 0 &&
                       c.num("acked") == c.num("sent");
  j.integer("sent", static_cast<std::int64_t>(c.num("sent")))
      .integer("acked", static_cast<std::int64_t>(c.num("acked")))
      .num("send_s", sendS > 0 ? sendS : 0, 3)
      .num("send_rate", sendS > 0 ? c.num("sent") / sendS : 0, 1)
      .num("acks_per_s", ackS > 0 ? c.num("acked") / ackS : 0, 1)
      .num("max_send_lag_ms", c.num("max_send_lag_ms"), 3)
      .integer("expected", static_cast<std::int64_t>(expected))
      .integer("delivered", static_cast<std::int64_t>(delivered))
      .integer("missing", static_cast<std::int64_t>(missing))
      .integer("dups", static_cast<std::int64_t>(c.num("dups")))
      .integer("reordered", static_cast<std::int64_t>(c.num("reordered")))
      .integer("id_gaps", static_cast<std::int64_t>(c.num("id_gaps")))
      .integer("id_repeats", static_cast<std::int64_t>(c.num("id_repeats")))
      .integer("subs_with_missing", static_cast<std::int64_t>(c.num("subs_with_missing")))
      .integer("send_errors", static_cast<std::int64_t>(c.num("send_errors")))
      .integer("server_closes", static_cast<std::int64_t>(c.num("server_closes")))
      .integer("foreign_frames", static_cast<std::int64_t>(c.num("foreign")))
      .integer("unparsed_frames", static_cast<std::int64_t>(c.num("unparsed")))
      .boolean("correct", correct)
      .num("duration_s", deliverS > 0 ? deliverS : 0, 3)
      .num("deliveries_per_s", deliverS > 0 ? delivered / deliverS : 0, 0)
      .raw("latency_ms", latencyJson(c.hist("latency")))
      .raw("ack_ms", latencyJson(c.hist("ack")))
      .raw("loadgen", loadgenJson(c, o, wallS));
  addProcs(j, "server", sb, sa, wallS);
  addProcs(j, "aux", ab, aa, wallS);
  std::cout << j.text() << std::endl;
  return 0;
}

int runIdle(const Options& o, Coordinator& c, std::int64_t deadline,
            const std::vector<ProcSample>& base0) {
  JsonObject j = base(o);
  j.integer("n", o.n).str("dialect", dialectName(o.dialect)).num("hold_s", o.holdS);
  const std::int64_t t0 = nowNs();
  progress(o, "opening " + std::to_string(o.n) + " connections");
  const bool connected = c.waitAll("connected", deadline);
  const double connectS = static_cast<double>(nowNs() - t0) / 1e9;
  std::vector<ProcSample> mid, end;
  if (connected) {
    progress(o, "open; settling then holding");
    c.sleepMs(static_cast<int>(o.settleS * 1000));
    mid = sampleProcs(o.pids);
    std::int64_t peakKb = 0;
    const std::int64_t holdEnd = nowNs() + static_cast<std::int64_t>(o.holdS * kSec);
    while (nowNs() < holdEnd) {
      c.sleepMs(
          static_cast<int>(std::min<std::int64_t>(1000, (holdEnd - nowNs()) / 1'000'000 + 1)));
      std::int64_t kb = 0;
      for (const auto& s : sampleProcs(o.pids))
        kb += s.rssKb;
      peakKb = std::max(peakKb, kb);
    }
    end = sampleProcs(o.pids);
    j.num("server_rss_peak_mb", static_cast<double>(peakKb) / 1024, 1);
  }
  c.broadcast("report");
  c.collect(nowNs() + 10 * kSec);
  const double ok = c.num("connect_ok");
  j.raw("connect", connectJson(c, connectS))
      .integer("ok", static_cast<std::int64_t>(ok))
      .integer("fail", static_cast<std::int64_t>(c.num("connect_fail")))
      .integer("alive_at_end", static_cast<std::int64_t>(c.num("alive")))
      .num("connects_per_s", connectS > 0 ? ok / connectS : 0, 1)
      .boolean("correct", connected && c.num("connect_fail") == 0 && c.num("alive") == ok);
  if (!o.pids.empty() && !end.empty()) {
    std::int64_t baseKb = 0, endKb = 0;
    double cpuMid = 0, cpuEnd = 0;
    for (const auto& s : base0)
      baseKb += s.rssKb;
    for (const auto& s : end) {
      endKb += s.rssKb;
      cpuEnd += s.cpuSeconds;
    }
    for (const auto& s : mid)
      cpuMid += s.cpuSeconds;
    double cpuBase = 0;
    for (const auto& s : base0)
      cpuBase += s.cpuSeconds;
    const double holdWall = static_cast<double>(end.front().atNs - mid.front().atNs) / 1e9;
    j.num("server_rss_base_mb", static_cast<double>(baseKb) / 1024, 1)
        .num("server_rss_end_mb", static_cast<double>(endKb) / 1024, 1)
        .num("bytes_per_conn", ok > 0 ? static_cast<double>(endKb - baseKb) * 1024 / ok : 0, 0)
        .num("idle_cpu_pct", holdWall > 0 ? 100 * (cpuEnd - cpuMid) / holdWall : 0, 2)
        .num("idle_cpu_s", cpuEnd - cpuMid, 2)
        // Taking the connections (handshakes, joins, presence) and settling.
        .num("connect_cpu_s", cpuMid - cpuBase, 2);
    addProcs(j, "server", mid, end, holdWall);
  }
  j.raw("loadgen", loadgenJson(c, o, static_cast<double>(nowNs() - t0) / 1e9));
  std::cout << j.text() << std::endl;
  return 0;
}

int runConnect(const Options& o, Coordinator& c, std::int64_t deadline) {
  JsonObject j = base(o);
  j.integer("n", o.n).integer("k", o.k).str("dialect", dialectName(o.dialect));
  const auto sb = sampleProcs(o.pids);
  const auto ab = sampleProcs(o.auxPids);
  const std::int64_t t0 = nowNs();
  progress(
      o, "dialing " + std::to_string(o.n) + " handshakes with " + std::to_string(o.k) + " dialers");
  const bool done = c.waitAll("done", deadline);
  const auto sa = sampleProcs(o.pids);
  const auto aa = sampleProcs(o.auxPids);
  const double wallS = static_cast<double>(nowNs() - t0) / 1e9;
  c.broadcast("report");
  c.collect(nowNs() + 10 * kSec);
  const double ok = c.num("connect_ok");
  const double spanS = (c.num("max_connect_end_ns") - c.num("min_connect_start_ns")) / 1e9;
  j.boolean("finished", done)
      .boolean("correct", done && c.num("connect_fail") == 0)
      .integer("ok", static_cast<std::int64_t>(ok))
      .integer("fail", static_cast<std::int64_t>(c.num("connect_fail")))
      .num("elapsed_s", spanS, 3)
      .num("handshakes_per_s", spanS > 0 ? ok / spanS : 0, 1)
      .raw("latency_ms", latencyJson(c.hist("connect")))
      .raw("loadgen", loadgenJson(c, o, wallS));
  if (!c.str("first_error").empty()) j.str("first_error", c.str("first_error"));
  addProcs(j, "server", sb, sa, wallS);
  addProcs(j, "aux", ab, aa, wallS);
  std::cout << j.text() << std::endl;
  return 0;
}

int runStorm(const Options& o, Coordinator& c, std::int64_t deadline) {
  JsonObject j = base(o);
  j.integer("n", o.n)
      .integer("rooms", o.rooms)
      .integer("before", o.before)
      .integer("during", o.during)
      .num("window_s", o.windowS)
      .boolean("distinct_users", o.distinctUsers);
  const std::int64_t t0 = nowNs();
  progress(o, "connecting " + std::to_string(o.n) + " v1 clients");
  const bool connected = c.waitAll("connected", deadline);
  const double connectS = static_cast<double>(nowNs() - t0) / 1e9;
  bool synced = false, resumed = false, finished = false;
  double resumeS = 0;
  std::optional<std::map<std::string, std::uint64_t>> r0, r1;
  double h0 = 0, h1 = 0;
  bool hOk0 = false, hOk1 = false;
  std::vector<ProcSample> sb, sa, ab, aa;
  double wallS = 0;
  if (connected) {
    progress(o, "connected; publishing " + std::to_string(o.before) + " messages per room");
    c.broadcast("go " + std::to_string(nowNs()));
    synced = c.waitAll("synced", deadline);
    if (!o.redis.empty()) r0 = redisCommandCalls(o.redis);
    h0 = historyReads(o, hOk0);
    sb = sampleProcs(o.pids);
    ab = sampleProcs(o.auxPids);
    progress(o, "dropping every client; reconnects over " + std::to_string(o.windowS) + " s");
    const std::int64_t drop = nowNs();
    c.broadcast("drop");
    resumed = c.waitAll(
        "resumed", std::min(deadline, drop + static_cast<std::int64_t>((o.windowS + 60) * kSec)));
    resumeS = static_cast<double>(nowNs() - drop) / 1e9;
    if (!o.redis.empty()) r1 = redisCommandCalls(o.redis);
    h1 = historyReads(o, hOk1);
    progress(o, resumed ? "all resumed; draining" : "not all resumed before the deadline");
    if (c.waitAll("sent", deadline)) {
      c.broadcast("allsent");
      finished = c.waitAll("done", deadline);
    }
    sa = sampleProcs(o.pids);
    aa = sampleProcs(o.auxPids);
    wallS = static_cast<double>(nowNs() - drop) / 1e9;
  }
  c.broadcast("report");
  c.collect(nowNs() + 10 * kSec);
  const double clients = c.num("storm_clients");
  const double recovered = c.num("recovered_true");
  const bool allRecovered = clients > 0 && recovered == clients && c.num("id_gaps") == 0 &&
                            c.num("id_repeats") == 0 && c.num("behind") == 0;
  j.raw("connect", connectJson(c, connectS))
      .boolean("synced", synced)
      .boolean("resumed_all", resumed)
      .boolean("finished", finished)
      .integer("clients", static_cast<std::int64_t>(clients))
      .integer("recovered_true", static_cast<std::int64_t>(recovered))
      .integer("recovered_false", static_cast<std::int64_t>(c.num("recovered_false")))
      .integer("reconnect_failures", static_cast<std::int64_t>(c.num("reconnect_failures")))
      .integer("retries", static_cast<std::int64_t>(c.num("retries")))
      .integer("id_gaps", static_cast<std::int64_t>(c.num("id_gaps")))
      .integer("id_repeats", static_cast<std::int64_t>(c.num("id_repeats")))
      .integer("behind_at_end", static_cast<std::int64_t>(c.num("behind")))
      .boolean("correct", allRecovered)
      .num("resume_s", resumeS, 3)
      .num("last_resume_after_drop_ms", c.num("max_resume_span_ms"), 1)
      .raw("rejoin_ms", latencyJson(c.hist("rejoin")))
      .integer("acked", static_cast<std::int64_t>(c.num("acked")));
  if (r0 && r1) {
    auto delta = [&](const char* cmd) {
      const auto a = r0->count(cmd) ? r0->at(cmd) : 0, b = r1->count(cmd) ? r1->at(cmd) : 0;
      return static_cast<std::int64_t>(b - a);
    };
    JsonObject r;
    r.integer("evalsha", delta("evalsha"))
        .integer("eval", delta("eval"))
        .integer("lrange", delta("lrange"))
        .str("window",
             "drop .. all resumed (includes the stores of `during` messages sent so far and "
             "presence updates)");
    j.raw("redis_calls", r.text());
  }
  if (hOk0 && hOk1) j.num("gateway_history_reads", h1 - h0, 0);
  j.raw("loadgen", loadgenJson(c, o, wallS));
  addProcs(j, "server", sb, sa, wallS);
  addProcs(j, "aux", ab, aa, wallS);
  std::cout << j.text() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::cerr << usage();
    return argc < 2 ? 2 : 0;
  }
  std::string error;
  auto parsed = parseOptions(argc - 1, argv + 1, error);
  if (!parsed) {
    std::cerr << "chat-loadgen: " << error << "\n" << usage();
    return 2;
  }
  const Options o = std::move(*parsed);
  signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  {
    JsonObject w = base(o);
    w.str("error", "watchdog: scenario exceeded --timeout");
    g_watchdogLine = w.text() + "\n";
  }
  const auto baseline = sampleProcs(o.pids);  // idle: RSS before any connection
  Coordinator c(o);
  if (!c.spawn()) {
    std::cerr << "chat-loadgen: cannot start worker processes\n";
    return 1;
  }
  signal(SIGALRM, watchdog);
  alarm(static_cast<unsigned>(std::ceil(o.timeoutS)) + 15);
  const std::int64_t deadline = nowNs() + static_cast<std::int64_t>(o.timeoutS * kSec);
  int rc = 0;
  switch (o.scenario) {
    case Scenario::kFanout:
    case Scenario::kRooms:
    case Scenario::kIngest:
      rc = runMessages(o, c, deadline);
      break;
    case Scenario::kIdle:
      rc = runIdle(o, c, deadline, baseline);
      break;
    case Scenario::kConnect:
      rc = runConnect(o, c, deadline);
      break;
    case Scenario::kStorm:
      rc = runStorm(o, c, deadline);
      break;
  }
  alarm(0);
  c.finish();
  return rc;
}
