#include "lg_worker.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "lg_stats.h"

namespace chat::load {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSec = 1'000'000'000;

double cpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

enum class Role { kSub, kPub, kIdle, kDialer, kStorm };

struct Client {
  Conn conn;
  Role role = Role::kSub;
  std::uint32_t global = 0;
  std::uint32_t room = 0;
  std::uint32_t pubInRoom = 0;
  Dialect dialect = Dialect::kPlain;
  // subscriber / storm client
  DeliveryTracker deliveries;
  IdOrderTracker ids;
  bool sawSync = false;
  bool failed = false;
  // publisher
  std::int64_t perPub = 0;
  std::int64_t nextSeq = 0;
  std::int64_t inflight = 0;
  std::int64_t acked = 0;
  std::int64_t startNs = 0;
  std::int64_t intervalNs = 0;
  std::int64_t lastAckNs = 0;
  std::vector<std::int64_t> sendNs;
  // storm
  std::string epoch;
  bool joined = false;
  bool dropped = false;
  bool resumed = false;
  int attempts = 0;
  std::int64_t reconnectAtNs = 0;
  std::int64_t reconnectStartNs = 0;
};

class Worker final : public ConnHandler {
 public:
  Worker(const Options& o, int index, int reportFd) : o_(o), index_(index), reportFd_(reportFd) {}

  int run(int commandFd);

  void onOpen(Conn& conn) override;
  void onText(Conn& conn, std::string_view payload) override;
  void onClosed(Conn& conn, std::string_view why) override;

 private:
  Client& client(Conn& conn) { return clients_[conn.index]; }
  void say(const std::string& line);
  void setup();
  std::string roomName(std::uint32_t room) const;
  std::string usernameFor(const Client& c) const;
  std::string targetFor(const Client& c, bool resume) const;
  void startConnect(Client& c, bool resume);
  void dialMore();
  void onCommand(std::string_view line);
  void tick();
  void publishDue(std::int64_t now);
  void publish(Client& c, std::int64_t now);
  void sendSync();
  void onMessageLine(Client& c, std::string_view line, std::int64_t now);
  void onPubLine(Client& c, std::string_view line, std::int64_t now);
  void ack(Client& c, std::int64_t seq, std::int64_t now);
  void checkProgress(std::int64_t now);
  void report();

  const Options& o_;
  int index_;
  int reportFd_;
  Loop loop_;
  std::vector<Client> clients_;
  std::vector<std::uint32_t> pubs_;
  std::int64_t nextSlowNs_ = 0;
  std::vector<std::uint32_t> toDial_;  // clients not yet dialled, in order
  std::size_t dialNext_ = 0;
  int dialInflight_ = 0;
  int dialLimit_ = 1;
  int connectedOk_ = 0;
  int connectedFail_ = 0;
  std::string firstError_;
  bool quit_ = false;
  bool reportedConnected_ = false;
  std::int64_t connectStartNs_ = 0;
  std::int64_t connectEndNs_ = 0;
  std::vector<double> connectMs_;

  // phases
  bool syncing_ = false;
  bool reportedSynced_ = false;
  std::int64_t syncK_ = 0;
  std::int64_t nextSyncNs_ = 0;
  bool running_ = false;
  bool reportedSent_ = false;
  bool allSent_ = false;
  std::int64_t allSentNs_ = 0;
  bool reportedDone_ = false;
  std::int64_t goNs_ = 0;
  double cpuAtGo_ = 0;
  double cpuAtDone_ = 0;
  std::int64_t doneNs_ = 0;

  // counters
  std::int64_t firstSendNs_ = 0;
  std::int64_t lastSendNs_ = 0;
  std::int64_t lastDeliveryNs_ = 0;
  std::int64_t lastProgressNs_ = 0;
  std::uint64_t deliveries_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t acked_ = 0;
  std::uint64_t sendErrors_ = 0;
  std::uint64_t serverCloses_ = 0;
  std::uint64_t unparsed_ = 0;
  std::uint64_t foreign_ = 0;
  std::uint64_t errorFrames_ = 0;
  std::int64_t maxLagNs_ = 0;
  std::int64_t firstAckNs_ = 0;
  std::int64_t lastAckNs_ = 0;
  Histogram latency_;
  Histogram ackLatency_;
  Histogram rejoin_;
  // connect scenario
  int connectTarget_ = 0;
  int connectStarted_ = 0;
  // storm
  bool stormSent_ = false;
  std::int64_t dropNs_ = 0;
  bool reportedResumed_ = false;
  std::uint64_t recoveredTrue_ = 0;
  std::uint64_t recoveredFalse_ = 0;
  std::uint64_t reconnectFailures_ = 0;
  std::uint64_t retries_ = 0;
  std::int64_t lastResumeNs_ = 0;
};

void Worker::say(const std::string& line) {
  std::string text = line + "\n";
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(reportFd_, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

std::string Worker::roomName(std::uint32_t room) const {
  const bool many = o_.scenario == Scenario::kStorm ? o_.rooms > 1 : o_.rooms > 1;
  return many ? o_.room + "-" + std::to_string(room) : o_.room;
}

std::string Worker::usernameFor(const Client& c) const {
  if (c.role == Role::kPub) return "lgp" + std::to_string(c.global);
  return o_.distinctUsers ? "lg" + std::to_string(c.global) : std::string("lg");
}

std::string Worker::targetFor(const Client& c, bool resume) const {
  const std::string user = c.dialect == Dialect::kV1 ? usernameFor(c) : std::string();
  if (resume && !c.epoch.empty())
    return requestTarget(o_.path, roomName(c.room), user, std::to_string(c.ids.last()), c.epoch);
  return requestTarget(o_.path, roomName(c.room), user);
}

void Worker::setup() {
  const int W = o_.procs;
  auto add = [&](std::uint32_t g, Role role, std::uint32_t room, Dialect d) {
    Client c;
    c.global = g;
    c.role = role;
    c.room = room;
    c.dialect = d;
    clients_.push_back(std::move(c));
  };
  switch (o_.scenario) {
    case Scenario::kFanout:
    case Scenario::kRooms:
    case Scenario::kIngest: {
      const int per = o_.subs + o_.pubs;
      const std::int64_t perPub = o_.msgs / (static_cast<std::int64_t>(o_.rooms) * o_.pubs);
      const int totalPubs = o_.rooms * o_.pubs;
      for (int g = 0; g < o_.rooms * per; ++g) {
        if (g % W != index_) continue;
        const auto room = static_cast<std::uint32_t>(g / per);
        const int k = g % per;
        if (k < o_.subs) {
          add(static_cast<std::uint32_t>(g), Role::kSub, room, o_.subDialect);
          clients_.back().deliveries = DeliveryTracker(static_cast<std::uint32_t>(o_.pubs),
                                                       static_cast<std::uint32_t>(perPub));
        } else {
          add(static_cast<std::uint32_t>(g), Role::kPub, room, o_.pubDialect);
          Client& c = clients_.back();
          c.pubInRoom = static_cast<std::uint32_t>(k - o_.subs);
          c.perPub = perPub;
          c.sendNs.assign(static_cast<std::size_t>(perPub), 0);
          if (o_.rate > 0) {
            c.intervalNs =
                static_cast<std::int64_t>(static_cast<double>(totalPubs) / o_.rate * 1e9);
            // Publishers are spread evenly over one interval.
            const int pubIndex = static_cast<int>(room) * o_.pubs + static_cast<int>(c.pubInRoom);
            c.startNs = c.intervalNs * pubIndex / totalPubs;
          }
        }
      }
      break;
    }
    case Scenario::kIdle:
      for (int g = 0; g < o_.n; ++g) {
        if (g % W == index_) add(static_cast<std::uint32_t>(g), Role::kIdle, 0, o_.dialect);
      }
      break;
    case Scenario::kConnect: {
      connectTarget_ = o_.n / W + (index_ < o_.n % W ? 1 : 0);
      const int dialers = std::max(1, o_.k / W + (index_ < o_.k % W ? 1 : 0));
      for (int i = 0; i < dialers; ++i)
        add(static_cast<std::uint32_t>(index_ + i * W), Role::kDialer, 0, o_.dialect);
      break;
    }
    case Scenario::kStorm:
      for (int g = 0; g < o_.n; ++g) {
        if (g % W == index_)
          add(static_cast<std::uint32_t>(g), Role::kStorm, static_cast<std::uint32_t>(g % o_.rooms),
              Dialect::kV1);
      }
      if (index_ == 0) {
        const std::int64_t perPub = o_.before + o_.during;
        for (int r = 0; r < o_.rooms; ++r) {
          add(static_cast<std::uint32_t>(o_.n + r), Role::kPub, static_cast<std::uint32_t>(r),
              Dialect::kV1);
          clients_.back().perPub = perPub;
          clients_.back().sendNs.assign(static_cast<std::size_t>(std::max<std::int64_t>(perPub, 1)),
                                        0);
        }
      }
      break;
  }
  for (std::uint32_t i = 0; i < clients_.size(); ++i) {
    clients_[i].conn.index = i;
    clients_[i].conn.handler = this;
    if (clients_[i].role != Role::kDialer) toDial_.push_back(i);
    if (clients_[i].role == Role::kPub) pubs_.push_back(i);
  }
  dialLimit_ = std::max(1, o_.conc / W);
}

void Worker::startConnect(Client& c, bool resume) {
  const Target& target = o_.targets[c.global % o_.targets.size()];
  const auto source = o_.srcs > 0 ? loopbackSource(static_cast<int>(c.global % o_.srcs) + 1)
                                  : std::optional<in_addr>{};
  std::string why;
  ++c.attempts;
  if (!loop_.connect(c.conn, target, source, targetFor(c, resume), c.dialect == Dialect::kV1,
                     why)) {
    // Reported like a failed handshake, but after this batch.
    c.conn.state = Conn::State::kClosed;
    Conn* conn = &c.conn;
    loop_.defer([this, conn, why] { onClosed(*conn, why); });
  }
}

void Worker::dialMore() {
  while (dialInflight_ < dialLimit_ && dialNext_ < toDial_.size()) {
    Client& c = clients_[toDial_[dialNext_++]];
    ++dialInflight_;
    startConnect(c, false);
  }
}

void Worker::onOpen(Conn& conn) {
  Client& c = client(conn);
  if (c.role == Role::kDialer) {
    connectMs_.push_back(static_cast<double>(conn.openNs - conn.startNs) / 1e6);
    ++connectedOk_;
    loop_.drop(conn);
    connectEndNs_ = conn.openNs;
    if (connectStarted_ < connectTarget_ &&
        nowNs() < connectStartNs_ + static_cast<std::int64_t>(o_.durationS * kSec)) {
      ++connectStarted_;
      loop_.defer([this, &c] { startConnect(c, false); });
    }
    return;
  }
  if (c.role == Role::kStorm && c.dropped) return;  // counted at `joined`
  connectMs_.push_back(static_cast<double>(conn.openNs - conn.startNs) / 1e6);
  ++connectedOk_;
  --dialInflight_;
  connectEndNs_ = conn.openNs;
  loop_.defer([this] { dialMore(); });
}

void Worker::onClosed(Conn& conn, std::string_view why) {
  Client& c = client(conn);
  if (firstError_.empty()) firstError_ = std::string(why.substr(0, 200));
  if (c.role == Role::kDialer) {
    ++connectedFail_;
    if (connectStarted_ < connectTarget_ &&
        nowNs() < connectStartNs_ + static_cast<std::int64_t>(o_.durationS * kSec)) {
      ++connectStarted_;
      loop_.defer([this, &c] { startConnect(c, false); });
    }
    return;
  }
  if (c.role == Role::kStorm && c.dropped && !c.resumed) {
    // A failed resume: try again shortly, at most three attempts.
    if (c.attempts < 3) {
      ++retries_;
      c.reconnectAtNs = nowNs() + 200 * kMs;
      c.reconnectStartNs = 0;
    } else {
      ++reconnectFailures_;
      c.failed = true;
    }
    return;
  }
  if (!conn.opened) {
    ++connectedFail_;
    --dialInflight_;
    c.failed = true;
    loop_.defer([this] { dialMore(); });
    return;
  }
  ++serverCloses_;
  c.failed = true;
}

void Worker::ack(Client& c, std::int64_t seq, std::int64_t now) {
  if (seq < 0 || seq >= c.nextSeq || c.sendNs.empty()) return;
  if (c.inflight > 0) --c.inflight;
  ++c.acked;
  ++acked_;
  c.lastAckNs = now;
  if (firstAckNs_ == 0) firstAckNs_ = now;
  lastAckNs_ = now;
  lastProgressNs_ = now;
  ackLatency_.add((now - c.sendNs[static_cast<std::size_t>(seq)]) / 1000);
}

void Worker::onMessageLine(Client& c, std::string_view line, std::int64_t now) {
  // Only what is needed: the id, and the text's payload.
  if (const auto id = uintField(line, "id")) c.ids.onId(*id);
  const auto text = stringField(line, "text");
  if (!text) {
    ++unparsed_;
    return;
  }
  const BenchText b = parseBenchText(*text, o_.runId);
  if (b.kind == 's') {
    c.sawSync = true;
    return;
  }
  if (b.kind != 'b' || c.role != Role::kSub) {
    if (b.kind != 'b') ++foreign_;
    return;
  }
  const Delivery d = c.deliveries.onMessage(b.publisher, b.seq);
  if (d == Delivery::kNew || d == Delivery::kReordered) {
    ++deliveries_;
    latency_.add((now - b.sendNs) / 1000);
    lastDeliveryNs_ = now;
    lastProgressNs_ = now;
  }
}

void Worker::onPubLine(Client& c, std::string_view line, std::int64_t now) {
  if (c.dialect == Dialect::kV1) {
    if (line.rfind(R"({"type":"ack")", 0) == 0) {
      const auto ref = stringField(line, "ref");
      if (ref && ref->size() > 1 && (*ref)[0] == 'p') {
        std::int64_t seq = -1;
        std::from_chars(ref->data() + 1, ref->data() + ref->size(), seq);
        ack(c, seq, now);
      }
    } else if (line.rfind(R"({"type":"error")", 0) == 0) {
      ++errorFrames_;
      ++sendErrors_;
      if (firstError_.empty()) firstError_ = std::string(line.substr(0, 200));
      const auto ref = stringField(line, "ref");
      if (ref && ref->size() > 1 && (*ref)[0] == 'p' && c.inflight > 0) --c.inflight;
    }
    return;
  }
  // plain: the publisher's own echo is its ack.
  const auto text = stringField(line, "text");
  if (!text) return;
  const BenchText b = parseBenchText(*text, o_.runId);
  if (b.kind == 'b' && b.publisher == c.pubInRoom) ack(c, b.seq, now);
}

void Worker::onText(Conn& conn, std::string_view payload) {
  Client& c = client(conn);
  const std::int64_t now = nowNs();
  auto handle = [&](std::string_view line) {
    if (c.role == Role::kPub) {
      onPubLine(c, line, now);
      return;
    }
    if (c.role == Role::kIdle) return;
    // message frames first: the hot path
    if (line.rfind(R"({"type":"message")", 0) == 0 ||
        (c.dialect == Dialect::kPlain &&
         line.find(R"("type":"history")") == std::string_view::npos &&
         line.find(R"("type":"error")") == std::string_view::npos)) {
      onMessageLine(c, line, now);
      return;
    }
    const auto type = stringField(line, "type");
    if (!type) {
      ++unparsed_;
      return;
    }
    if (*type == "joined") {
      const auto epoch = stringField(line, "epoch");
      const auto recovered = boolField(line, "recovered");
      if (epoch && !c.epoch.empty() && *epoch != c.epoch) c.ids.reset();
      if (epoch) c.epoch = std::string(*epoch);
      if (!c.dropped) {
        if (!c.joined) {
          c.joined = true;
          if (const auto last = uintField(line, "last_id"); last && c.ids.seen() == 0)
            c.ids.expectAfter(*last);
        }
      } else if (!c.resumed) {
        c.resumed = true;
        lastResumeNs_ = std::max(lastResumeNs_, now);
        rejoin_.add((now - c.reconnectStartNs) / 1000);
        if (recovered && *recovered)
          ++recoveredTrue_;
        else
          ++recoveredFalse_;
      }
    } else if (*type == "error") {
      ++errorFrames_;
      if (firstError_.empty()) firstError_ = std::string(line.substr(0, 200));
    } else if (*type == "history") {
      ++foreign_;
    }
  };
  if (c.dialect == Dialect::kV1)
    forEachLine(payload, handle);
  else
    handle(payload);
}

void Worker::publish(Client& c, std::int64_t now) {
  if (c.conn.state != Conn::State::kOpen) return;
  std::string text, frame;
  const std::int64_t seq = c.nextSeq++;
  c.sendNs[static_cast<std::size_t>(seq)] = now;
  appendBenchText(text, o_.runId, c.pubInRoom, seq, now, static_cast<std::size_t>(o_.size));
  if (c.dialect == Dialect::kV1) {
    std::string ref = "p";
    ref += std::to_string(seq);
    appendV1Message(frame, text, ref);
  } else {
    appendPlainMessage(frame, usernameFor(c), text);
  }
  ++c.inflight;
  ++sent_;
  if (firstSendNs_ == 0) firstSendNs_ = now;
  lastSendNs_ = now;
  loop_.sendText(c.conn, frame);
}

void Worker::sendSync() {
  ++syncK_;
  for (Client& c : clients_) {
    if (c.role != Role::kPub || c.pubInRoom != 0 || c.conn.state != Conn::State::kOpen) continue;
    std::string text, frame;
    appendSyncText(text, o_.runId, syncK_);
    if (c.dialect == Dialect::kV1) {
      std::string ref = "s";
      ref += std::to_string(syncK_);
      appendV1Message(frame, text, ref);
    } else {
      appendPlainMessage(frame, usernameFor(c), text);
    }
    loop_.sendText(c.conn, frame);
  }
}

void Worker::onCommand(std::string_view line) {
  const std::int64_t now = nowNs();
  if (line == "eof" || line == "quit") {
    quit_ = true;
  } else if (line == "sync") {
    syncing_ = true;
    nextSyncNs_ = now;
  } else if (line.rfind("go ", 0) == 0) {
    syncing_ = false;
    running_ = true;
    goNs_ = std::strtoll(std::string(line.substr(3)).c_str(), nullptr, 10);
    cpuAtGo_ = cpuSeconds();
    lastProgressNs_ = goNs_;
    for (Client& c : clients_) {
      if (c.role != Role::kPub) continue;
      c.startNs += goNs_;
      if (o_.scenario == Scenario::kStorm) c.perPub = o_.before;  // `during` comes with the drop
    }
  } else if (line == "allsent") {
    allSent_ = true;
    allSentNs_ = now;
    if (lastProgressNs_ < now) lastProgressNs_ = now;
  } else if (line == "drop") {
    dropNs_ = now;
    cpuAtGo_ = cpuSeconds();
    std::uint64_t h = 0x9E3779B97F4A7C15ull;
    for (Client& c : clients_) {
      if (c.role == Role::kStorm) {
        loop_.drop(c.conn);
        c.dropped = true;
        c.attempts = 0;
        h ^= c.global + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
        const double frac = static_cast<double>(h % 1000003) / 1000003.0;
        c.reconnectAtNs = now + static_cast<std::int64_t>(frac * o_.windowS * kSec);
      } else if (c.role == Role::kPub) {
        c.perPub = o_.before + o_.during;
        c.startNs = now;
        c.intervalNs = o_.during > 0
                           ? static_cast<std::int64_t>(o_.windowS * kSec) / std::max(1, o_.during)
                           : 0;
      }
    }
    allSent_ = false;
    reportedSent_ = false;
    reportedDone_ = false;
    stormSent_ = true;
  } else if (line == "report") {
    report();
  }
}

void Worker::checkProgress(std::int64_t now) {
  // publishers finished?
  if (running_ && !reportedSent_ && (o_.scenario != Scenario::kStorm || stormSent_)) {
    bool done = true;
    for (const Client& c : clients_) {
      if (c.role != Role::kPub || c.failed) continue;
      if (c.nextSeq < c.perPub) {
        done = false;
        break;
      }
      // wait for the acks, unless they stopped coming
      if (c.acked < c.nextSeq && now - std::max(c.lastAckNs, lastSendNs_) < 5 * kSec) {
        done = false;
        break;
      }
    }
    if (done) {
      reportedSent_ = true;
      say("sent");
    }
  }
  if (allSent_ && !reportedDone_) {
    bool complete = true;
    for (const Client& c : clients_) {
      if (c.failed) continue;
      if (c.role == Role::kSub && !c.deliveries.complete()) {
        complete = false;
        break;
      }
      if (c.role == Role::kStorm &&
          c.ids.last() < static_cast<std::uint64_t>(o_.before + o_.during)) {
        complete = false;
        break;
      }
    }
    if (complete || now - lastProgressNs_ > static_cast<std::int64_t>(o_.drainS * kSec)) {
      reportedDone_ = true;
      doneNs_ = now;
      cpuAtDone_ = cpuSeconds();
      say("done");
    }
  }
}

void Worker::publishDue(std::int64_t now) {
  if (!running_ || now < goNs_) return;
  for (std::uint32_t i : pubs_) {
    Client& c = clients_[i];
    if (c.nextSeq >= c.perPub) continue;
    if (c.intervalNs > 0) {
      while (c.nextSeq < c.perPub) {
        const std::int64_t seqInPhase =
            o_.scenario == Scenario::kStorm && stormSent_ ? c.nextSeq - o_.before : c.nextSeq;
        const std::int64_t due = c.startNs + seqInPhase * c.intervalNs;
        if (now < due) break;
        maxLagNs_ = std::max(maxLagNs_, now - due);
        publish(c, now);
        if (c.conn.state != Conn::State::kOpen) break;
      }
    } else {
      while (c.nextSeq < c.perPub && c.inflight < o_.window && c.conn.state == Conn::State::kOpen)
        publish(c, now);
    }
  }
}

void Worker::tick() {
  const std::int64_t now = nowNs();
  publishDue(now);
  // The checks below walk every client: every 5 ms is enough.
  if (now < nextSlowNs_) return;
  nextSlowNs_ = now + 5 * kMs;
  if (!reportedConnected_ && o_.scenario != Scenario::kConnect && dialNext_ == toDial_.size() &&
      dialInflight_ == 0) {
    bool ready = true;
    if (o_.scenario == Scenario::kStorm) {
      // every open client has its `joined`
      for (const Client& c : clients_) {
        if (c.role == Role::kStorm && !c.failed && !c.joined) ready = false;
      }
      if (!ready && now - connectEndNs_ > 15 * kSec) ready = true;
    }
    if (ready) {
      reportedConnected_ = true;
      say("connected " + std::to_string(connectedOk_) + " " + std::to_string(connectedFail_) + " " +
          firstError_);
    }
  }
  if (o_.scenario == Scenario::kConnect && !reportedDone_ && connectStartNs_ > 0) {
    bool busy = false;
    for (const Client& c : clients_) {
      if (c.conn.state == Conn::State::kConnecting || c.conn.state == Conn::State::kHandshake)
        busy = true;
    }
    if (!busy) {
      reportedDone_ = true;
      doneNs_ = now;
      cpuAtDone_ = cpuSeconds();
      say("done");
    }
  }
  // handshake deadline for connections still opening
  const auto hsLimit = static_cast<std::int64_t>(o_.handshakeTimeoutS * kSec);
  for (Client& c : clients_) {
    if ((c.conn.state == Conn::State::kConnecting || c.conn.state == Conn::State::kHandshake) &&
        now - c.conn.startNs > hsLimit) {
      loop_.drop(c.conn);
      c.conn.state = Conn::State::kIdle;
      onClosed(c.conn, "handshake timeout");
    }
  }
  if (syncing_ && now >= nextSyncNs_) {
    sendSync();
    nextSyncNs_ = now + 500 * kMs;
  }
  if (syncing_ && !reportedSynced_) {
    bool all = true;
    for (const Client& c : clients_) {
      if (c.role == Role::kSub && !c.failed && !c.sawSync) {
        all = false;
        break;
      }
    }
    if (all) {
      reportedSynced_ = true;
      say("synced");
    }
  }
  if (o_.scenario == Scenario::kStorm && running_ && !stormSent_ && !reportedSynced_) {
    // before the drop: all clients caught up with the `before` messages?
    bool all = true;
    for (const Client& c : clients_) {
      if (c.role == Role::kStorm && !c.failed &&
          c.ids.last() < static_cast<std::uint64_t>(o_.before))
        all = false;
      if (c.role == Role::kPub && c.acked < c.perPub) all = false;
    }
    if (all || now - goNs_ > static_cast<std::int64_t>(o_.syncTimeoutS * kSec)) {
      reportedSynced_ = true;
      say("synced");
    }
  }
  if (stormSent_) {
    for (Client& c : clients_) {
      if (c.role == Role::kStorm && c.dropped && !c.resumed && !c.failed &&
          c.reconnectStartNs == 0 && now >= c.reconnectAtNs) {
        c.reconnectStartNs = now;
        startConnect(c, true);
      }
    }
    if (!reportedResumed_) {
      bool all = true;
      for (const Client& c : clients_) {
        if (c.role == Role::kStorm && !c.resumed && !c.failed) all = false;
      }
      if (all) {
        reportedResumed_ = true;
        say("resumed");
      }
    }
  }
  checkProgress(now);
}

void Worker::report() {
  auto r = [&](const std::string& key, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", value);
    say("r " + key + " " + buf);
  };
  std::uint64_t expected = 0, unique = 0, dups = 0, reordered = 0, gaps = 0, repeats = 0,
                subsMissing = 0, alive = 0, behind = 0, syncSeen = 0, subs = 0;
  for (const Client& c : clients_) {
    if (c.conn.state == Conn::State::kOpen) ++alive;
    if (c.role == Role::kSub) {
      ++subs;
      expected += c.deliveries.expected();
      unique += c.deliveries.unique();
      dups += c.deliveries.duplicates();
      reordered += c.deliveries.reordered();
      if (!c.deliveries.complete()) ++subsMissing;
      if (c.sawSync) ++syncSeen;
    }
    if (c.role == Role::kSub || c.role == Role::kStorm) {
      gaps += c.ids.gaps();
      repeats += c.ids.repeats();
    }
    if (c.role == Role::kStorm && c.ids.last() < static_cast<std::uint64_t>(o_.before + o_.during))
      ++behind;
  }
  const double cpuEnd = reportedDone_ ? cpuAtDone_ : cpuSeconds();
  r("clients", static_cast<double>(clients_.size()));
  r("subs", static_cast<double>(subs));
  r("sync_seen", static_cast<double>(syncSeen));
  r("expected", static_cast<double>(expected));
  r("delivered", static_cast<double>(unique));
  r("dups", static_cast<double>(dups));
  r("reordered", static_cast<double>(reordered));
  r("id_gaps", static_cast<double>(gaps));
  r("id_repeats", static_cast<double>(repeats));
  r("subs_with_missing", static_cast<double>(subsMissing));
  r("alive", static_cast<double>(alive));
  r("sent", static_cast<double>(sent_));
  r("acked", static_cast<double>(acked_));
  r("send_errors", static_cast<double>(sendErrors_));
  r("error_frames", static_cast<double>(errorFrames_));
  r("server_closes", static_cast<double>(serverCloses_));
  r("unparsed", static_cast<double>(unparsed_));
  r("foreign", static_cast<double>(foreign_));
  r("connect_ok", connectedOk_);
  r("connect_fail", connectedFail_);
  r("cpu_s", cpuEnd - cpuAtGo_);
  r("cpu_total_s", cpuSeconds());
  r("bytes_in", static_cast<double>(loop_.bytesIn()));
  r("bytes_out", static_cast<double>(loop_.bytesOut()));
  if (firstSendNs_ > 0) r("min_first_send_ns", static_cast<double>(firstSendNs_));
  if (lastSendNs_ > 0) r("max_last_send_ns", static_cast<double>(lastSendNs_));
  if (lastDeliveryNs_ > 0) r("max_last_delivery_ns", static_cast<double>(lastDeliveryNs_));
  if (firstAckNs_ > 0) r("min_first_ack_ns", static_cast<double>(firstAckNs_));
  if (lastAckNs_ > 0) r("max_last_ack_ns", static_cast<double>(lastAckNs_));
  if (doneNs_ > 0) r("max_done_ns", static_cast<double>(doneNs_));
  if (connectStartNs_ > 0) r("min_connect_start_ns", static_cast<double>(connectStartNs_));
  if (connectEndNs_ > 0) r("max_connect_end_ns", static_cast<double>(connectEndNs_));
  r("max_send_lag_ms", static_cast<double>(maxLagNs_) / 1e6);
  if (o_.scenario == Scenario::kStorm) {
    r("storm_clients",
      static_cast<double>(std::count_if(clients_.begin(), clients_.end(),
                                        [](const Client& c) { return c.role == Role::kStorm; })));
    r("recovered_true", static_cast<double>(recoveredTrue_));
    r("recovered_false", static_cast<double>(recoveredFalse_));
    r("reconnect_failures", static_cast<double>(reconnectFailures_));
    r("retries", static_cast<double>(retries_));
    r("behind", static_cast<double>(behind));
    if (lastResumeNs_ > 0)
      r("max_resume_span_ms", static_cast<double>(lastResumeNs_ - dropNs_) / 1e6);
    say("h rejoin " + rejoin_.serialize());
  }
  say("h latency " + latency_.serialize());
  say("h ack " + ackLatency_.serialize());
  Histogram connect;
  for (double ms : connectMs_)
    connect.add(static_cast<std::int64_t>(ms * 1000));
  say("h connect " + connect.serialize());
  if (!firstError_.empty()) {
    std::string e = firstError_;
    std::replace(e.begin(), e.end(), '\n', ' ');
    say("s first_error " + e);
  }
  say("end");
}

int Worker::run(int commandFd) {
  setup();
  loop_.watchLines(commandFd, [this](std::string_view line) { onCommand(line); });
  connectStartNs_ = nowNs();
  if (o_.scenario == Scenario::kConnect) {
    cpuAtGo_ = cpuSeconds();
    for (Client& c : clients_) {
      if (connectStarted_ >= connectTarget_) break;
      ++connectStarted_;
      startConnect(c, false);
    }
  } else {
    dialMore();
  }
  const auto hardLimit = nowNs() + static_cast<std::int64_t>(o_.timeoutS * kSec) + 10 * kSec;
  while (!quit_ && nowNs() < hardLimit) {
    int timeout = 50;
    if (running_ || syncing_ || stormSent_) timeout = 1;
    if (o_.rate == 0 && running_) timeout = 5;
    loop_.poll(timeout);
    tick();
  }
  for (Client& c : clients_)
    loop_.drop(c.conn);
  return 0;
}

}  // namespace

int runWorker(const Options& options, int index, int commandFd, int reportFd) {
  auto worker = std::make_unique<Worker>(options, index, reportFd);
  return worker->run(commandFd);
}

}  // namespace chat::load
