// A Redis link that dies by a reset (what a SIGKILLed Redis sends while the
// gateway writes to it) must be noticed. libuv reports such a socket error as
// a poll error and stops polling; hiredis 0.14's own libuv adapter ignored
// that, so the link stayed "up" for ever: stores never answered, /readyz 200,
// no reconnect. That was the intermittent hang of the SIGKILL-Redis test.
// Here a stand-in Redis resets the command link on demand, deterministically.

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "gateway_test.h"
#include "http_client.h"
#include "ports.h"
#include "process.h"
#include "resp.h"
#include "temp_dir.h"
#include "v1_helpers.h"
#include "wait.h"

namespace chat::testing {
namespace {

// Speaks just enough RESP for a gateway to come up: AUTH-less handshake
// (CLIENT SETNAME), SCRIPT LOAD, SUBSCRIBE, PUBLISH, PING; anything else gets
// an error. resetLink(suffix) resets (SO_LINGER 0) the connection whose client
// name ends with `suffix`; muteLink(suffix) stops delivering published
// messages to it, as a link that died silently would. One thread serves every
// connection with poll().
class StandInRedis {
 public:
  StandInRedis() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("stand-in redis: cannot listen");
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~StandInRedis() {
    stop_ = true;
    thread_.join();
    for (auto& c : clients_)
      ::close(c.fd);
    ::close(listener_);
  }

  std::uint16_t port() const { return port_; }
  void resetLink(std::string suffix) {
    std::lock_guard lock(mutex_);
    resetSuffix_ = std::move(suffix);
  }
  void muteLink(std::string suffix) {
    std::lock_guard lock(mutex_);
    muteSuffix_ = std::move(suffix);
  }
  int accepted() const { return accepted_; }

 private:
  struct Client {
    int fd;
    std::string input;
    std::string name;
    std::vector<std::string> channels;
  };

  static bool endsWith(const std::string& s, const std::string& suffix) {
    return !suffix.empty() && s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  }

  void serve() {
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (const auto& c : clients_)
        fds.push_back({c.fd, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 20);  // also a bound on how late a reset comes
      if (fds[0].revents & POLLIN) {
        const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          clients_.push_back({fd, {}, {}, {}});
          ++accepted_;
        }
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents & (POLLIN | POLLHUP)) read(clients_[i - 1]);
      }
      resetIfAsked();
      std::erase_if(clients_, [](const Client& c) { return c.fd < 0; });
    }
  }

  void read(Client& c) {
    char buffer[4096];
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      ::close(c.fd);
      c.fd = -1;
      return;
    }
    c.input.append(buffer, static_cast<std::size_t>(n));
    for (;;) {
      Reply command;
      std::size_t consumed = 0;
      if (decodeReply(c.input, command, consumed) != DecodeStatus::kComplete) return;
      c.input.erase(0, consumed);
      std::vector<std::string> args;
      for (const auto& e : command.elements)
        args.push_back(e.str);
      const std::string answer = respond(c, args);
      (void)::send(c.fd, answer.data(), answer.size(), MSG_NOSIGNAL);
    }
  }

  static std::string bulk(const std::string& s) {
    return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
  }

  std::string respond(Client& c, const std::vector<std::string>& args) {
    if (args.empty()) return "-ERR empty\r\n";
    if (args[0] == "CLIENT" && args.size() == 3) {
      c.name = args[2];
      return "+OK\r\n";
    }
    if (args[0] == "SCRIPT") return bulk(std::string(40, 'a'));
    if (args[0] == "PING") return "+PONG\r\n";
    if (args[0] == "SUBSCRIBE") {
      std::string out;
      for (std::size_t i = 1; i < args.size(); ++i) {
        c.channels.push_back(args[i]);
        out += "*3\r\n" + bulk("subscribe") + bulk(args[i]) + ":" + std::to_string(i) + "\r\n";
      }
      return out;
    }
    if (args[0] == "PUBLISH" && args.size() == 3) {
      std::string muted;
      {
        std::lock_guard lock(mutex_);
        muted = muteSuffix_;
      }
      int receivers = 0;
      const std::string message = "*3\r\n" + bulk("message") + bulk(args[1]) + bulk(args[2]);
      for (auto& other : clients_) {
        if (other.fd < 0 || endsWith(other.name, muted)) continue;
        if (std::find(other.channels.begin(), other.channels.end(), args[1]) ==
            other.channels.end())
          continue;
        (void)::send(other.fd, message.data(), message.size(), MSG_NOSIGNAL);
        ++receivers;
      }
      return ":" + std::to_string(receivers) + "\r\n";
    }
    return "-ERR the stand-in does not do " + args[0] + "\r\n";
  }

  void resetIfAsked() {
    std::lock_guard lock(mutex_);
    if (resetSuffix_.empty()) return;
    for (auto& c : clients_) {
      if (c.fd < 0 || c.name.size() < resetSuffix_.size() ||
          c.name.compare(c.name.size() - resetSuffix_.size(), resetSuffix_.size(), resetSuffix_) !=
              0)
        continue;
      const linger reset{1, 0};
      ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      ::close(c.fd);  // RST, not FIN
      c.fd = -1;
    }
    resetSuffix_.clear();
  }

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::string resetSuffix_;
  std::string muteSuffix_;
  std::vector<Client> clients_;  // the serving thread's
  std::thread thread_;
};

class RedisLinkTest : public GatewayTest {};

TEST_F(RedisLinkTest, AResetCommandLinkIsNoticedAndReconnected) {
  StandInRedis redis;
  GatewayProcess& gateway = startGatewayOn("redis://127.0.0.1:" + std::to_string(redis.port()));
  ASSERT_TRUE(gateway.waitReady()) << httpGet(gateway.port(), "/readyz").body;
  const int before = redis.accepted();

  redis.resetLink(":cmd");
  // Noticed at once (the reset is a socket error), then reconnected.
  EXPECT_TRUE(waitFor([&] { return redis.accepted() > before; }, 10s))
      << "the gateway never reconnected: it did not notice the reset";
  EXPECT_TRUE(gateway.waitReady());
  // "event=redis_down conn=chat-gw:gw-1:cmd" (or gw-1-w2:cmd with workers)
  const std::string log = gateway.readStderr();
  bool cmdDown = false;
  for (std::size_t at = log.find("event=redis_down"); at != std::string::npos;
       at = log.find("event=redis_down", at + 1)) {
    const std::string line = log.substr(at, log.find('\n', at) - at);
    cmdDown = cmdDown || line.find(":cmd ") != std::string::npos;
  }
  EXPECT_TRUE(cmdDown) << log;
}

// A subscriber link that stops delivering without closing (it cannot PING):
// the heartbeat the command link publishes to it does not come back, so it
// is dropped within about REDIS_TIMEOUT and subscribed again.
TEST_F(RedisLinkTest, ASilentSubscriberLinkMissesItsHeartbeatAndIsReplaced) {
  StandInRedis redis;
  GatewayProcess& gateway =
      startGatewayOn("redis://127.0.0.1:" + std::to_string(redis.port()), {{"REDIS_TIMEOUT", "1"}});
  ASSERT_TRUE(gateway.waitReady()) << httpGet(gateway.port(), "/readyz").body;
  const int before = redis.accepted();
  redis.muteLink(":sub");
  EXPECT_TRUE(waitFor(
      [&] {
        return gateway.readStderr().find("no heartbeat within REDIS_TIMEOUT") != std::string::npos;
      },
      10s))
      << gateway.readStderr();
  redis.muteLink("");
  EXPECT_TRUE(waitFor([&] { return redis.accepted() > before; }, 10s));
  EXPECT_TRUE(gateway.waitReady());
}

}  // namespace
}  // namespace chat::testing

namespace chat::testing {
namespace {

// Redis stops answering without closing anything (SIGSTOP): within
// REDIS_TIMEOUT the gateway counts it as down (/readyz 503, v1 sends get
// `unavailable` instead of waiting for ever), and when Redis answers again it
// reconnects and serves as before.
TEST_F(RedisLinkTest, AHungRedisIsDownWithinRedisTimeoutAndBackWhenItAnswers) {
  GatewayProcess& gateway = startGateway(v1Env({{"REDIS_TIMEOUT", "1"}}));
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(gateway, room, "alice");
  sendAndAck(*alice.client, "before", "b1");

  ASSERT_EQ(::kill(redis().pid(), SIGSTOP), 0);
  struct Resume {
    pid_t pid;
    ~Resume() { ::kill(pid, SIGCONT); }  // whatever happens below
  } resume{redis().pid()};
  // An idle link is checked too (a PING), and a send waits at most the timeout.
  ASSERT_TRUE(alice.client->sendMessage("during", "d1"));
  const V1Frame answer = expectMatching(
      *alice.client, [](const V1Frame& f) { return f.string("ref") == "d1"; },
      "an answer to a send while Redis hangs", 10s);
  EXPECT_EQ(answer.type(), "error") << answer.raw();
  EXPECT_EQ(answer.string("code"), "unavailable") << answer.raw();
  EXPECT_TRUE(waitFor([&] { return httpGet(gateway.port(), "/readyz").status == 503; }, 10s));

  ASSERT_EQ(::kill(redis().pid(), SIGCONT), 0);
  ASSERT_TRUE(gateway.waitReady(15s));
  // The retry with the same ref is stored once, whatever the hung store did.
  const V1Ack retried = sendAndAck(*alice.client, "during", "d1");
  const V1Ack after = sendAndAck(*alice.client, "after", "a1");
  EXPECT_EQ(after.id, retried.id + 1);
  EXPECT_NE(gateway.readStderr().find("event=redis_unresponsive"), std::string::npos);
}

}  // namespace
}  // namespace chat::testing

namespace chat::testing {
namespace {

// ACK_REPLICAS=1: a message is acked once a replica has it (Redis WAIT); with
// the replica stopped the sender gets `unavailable` within about a second,
// and its retry with the same ref, once the replica is back, is acked with
// the first store's id (stored once).
TEST_F(RedisLinkTest, AckReplicasWaitsForAReplica) {
  RedisServer replica;
  RedisClient replicaClient = replica.client();
  replicaClient.command({"REPLICAOF", "127.0.0.1", std::to_string(redis().port())});
  RedisClient primary = redisClient();
  ASSERT_TRUE(waitFor(
      [&] {
        const Reply info = primary.command({"INFO", "replication"});
        return info.str.find("connected_slaves:1") != std::string::npos &&
               info.str.find("state=online") != std::string::npos;
      },
      20s))
      << "the replica did not catch up";

  GatewayProcess& gateway = startGateway(v1Env({{"ACK_REPLICAS", "1"}}));
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(gateway, room, "alice");
  const V1Ack first = sendAndAck(*alice.client, "replicated", "r1");
  EXPECT_TRUE(waitFor([&] { return replicaClient.integer({"LLEN", historyKey(room)}) == 1; }, 5s));

  ASSERT_EQ(::kill(replica.pid(), SIGSTOP), 0);
  struct Resume {
    pid_t pid;
    ~Resume() { ::kill(pid, SIGCONT); }
  } resume{replica.pid()};
  ASSERT_TRUE(alice.client->sendMessage("unconfirmed", "r2"));
  const V1Frame refused = expectMatching(
      *alice.client, [](const V1Frame& f) { return f.string("ref") == "r2"; },
      "the answer to a send no replica confirmed", 10s);
  EXPECT_EQ(refused.type(), "error") << refused.raw();
  EXPECT_EQ(refused.string("code"), "unavailable") << refused.raw();

  ASSERT_EQ(::kill(replica.pid(), SIGCONT), 0);
  const V1Ack retried = sendAndAck(*alice.client, "unconfirmed", "r2");
  EXPECT_EQ(retried.id, first.id + 1) << "the retry is the first store's message";
  EXPECT_EQ(primary.integer({"LLEN", historyKey(room)}), 2);
}

}  // namespace
}  // namespace chat::testing

namespace chat::testing {
namespace {

// A redis-server in Sentinel mode watching `primaryPort` as "mymaster",
// deciding alone (quorum 1) and quickly (1 s down-after); stopped by PID.
class Sentinel {
 public:
  explicit Sentinel(std::uint16_t primaryPort) : port_(findFreePort()) {
    const auto config = dir_.path() / "sentinel.conf";
    std::ofstream(config) << "port " << port_ << "\nbind 127.0.0.1\ndir " << dir_.path().string()
                          << "\nsentinel monitor mymaster 127.0.0.1 " << primaryPort << " 1\n"
                          << "sentinel down-after-milliseconds mymaster 1000\n"
                          << "sentinel failover-timeout mymaster 4000\n";
    ProcessOptions options;
    options.executable = "redis-server";
    options.args = {config.string(), "--sentinel"};
    options.workingDir = dir_.path();
    options.logDir = dir_.path();
    options.name = "sentinel";
    process_ = std::make_unique<Process>(options);
    if (!waitFor([&] { return masterPort() == primaryPort; }, 10s))
      throw std::runtime_error("the sentinel did not come up");
  }
  ~Sentinel() { process_->stop(SIGTERM, 5s); }

  std::uint16_t port() const { return port_; }
  // The primary's port as this sentinel names it, 0 when it cannot say.
  std::uint16_t masterPort() const {
    try {
      RedisClient client(port_);
      const Reply reply = client.command({"SENTINEL", "get-master-addr-by-name", "mymaster"});
      return reply.elements.size() == 2
                 ? static_cast<std::uint16_t>(std::stoi(reply.elements[1].str))
                 : 0;
    } catch (const std::exception&) {
      return 0;
    }
  }
  std::size_t knownReplicas() const {
    try {
      RedisClient client(port_);
      return client.command({"SENTINEL", "replicas", "mymaster"}).elements.size();
    } catch (const std::exception&) {
      return 0;
    }
  }

 private:
  TempDir dir_{"chat-sentinel"};
  std::uint16_t port_;
  std::unique_ptr<Process> process_;
};

// `primary`, a replica of it, and a sentinel that knows both (it learns of
// the replica from the primary's INFO, every 10 s); throws if it never does.
struct SentinelSetup {
  explicit SentinelSetup(RedisServer& primary) : sentinel(primary.port()) {
    RedisClient(replica.port()).command({"REPLICAOF", "127.0.0.1", std::to_string(primary.port())});
    if (!waitFor([&] { return sentinel.knownReplicas() == 1; }, 30s))
      throw std::runtime_error("the sentinel never learnt of the replica");
  }
  std::string url() const {
    return "redis+sentinel://127.0.0.1:" + std::to_string(sentinel.port()) + "/mymaster";
  }
  RedisServer replica;
  Sentinel sentinel;
};

// redis+sentinel://: the gateway finds the primary through the sentinel, and
// after the primary is SIGKILLed and the sentinel promotes the replica, finds
// the new one by itself; a retry of the message in flight is stored once.
TEST_F(RedisLinkTest, ThroughSentinelTheGatewayFollowsAFailover) {
  SentinelSetup setup(redis());
  RedisServer& replica = setup.replica;
  Sentinel& sentinel = setup.sentinel;
  GatewayProcess& gateway = startGatewayOn(setup.url(), v1Env());
  ASSERT_TRUE(gateway.waitReady()) << gateway.readStderr();
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(gateway, room, "alice");
  const V1Ack before = sendAndAck(*alice.client, "before", "f1");
  ASSERT_TRUE(waitFor(
      [&] {
        return replica.client().integer({"LLEN", historyKey(room)}) == 1;
      },
      10s));

  redis().kill();
  ASSERT_TRUE(waitFor([&] { return sentinel.masterPort() == replica.port(); }, 30s))
      << "the sentinel did not promote the replica";
  ASSERT_TRUE(gateway.waitReady(30s)) << gateway.readStderr();
  // Sends go to the new primary: retried until the gateway is through (a
  // send can still meet the old link's end), each retry under the same ref.
  std::optional<std::int64_t> id;
  for (int attempt = 0; attempt < 20 && !id; ++attempt) {
    ASSERT_TRUE(alice.client->sendMessage("after", "f2"));
    const V1Frame answer = expectMatching(
        *alice.client, [](const V1Frame& f) { return f.string("ref") == "f2"; },
        "an answer to the send after the failover", 10s);
    if (answer.type() == "ack") id = answer.integer("id");
  }
  ASSERT_TRUE(id) << "no ack after the failover";
  EXPECT_EQ(*id, before.id + 1) << "ids go on from the surviving sequence";
  EXPECT_EQ(replica.client().integer({"LLEN", historyKey(room)}), 2);
  // The new primary might have missed ids clients saw: the room takes a new
  // epoch, announced by a fresh joined before the message.
  const V1Frame joined = expectType(*alice.client, "joined");
  EXPECT_NE(joined.string("epoch"), std::optional<std::string>(alice.join.epoch));
  // The replay after it keeps the surviving messages as stored (each under
  // the epoch it was acked in), then the new message under the new epoch.
  ChatMessage message = expectMessage(*alice.client);
  while (message.text != "after")
    message = expectMessage(*alice.client);
  EXPECT_EQ(message.id, *id);
  EXPECT_EQ(message.epoch, joined.string("epoch").value_or(""));
}

// A failover that leaves the old primary alive (SENTINEL FAILOVER demotes it
// to a replica): the gateway hears +switch-master and moves both links to the
// new primary at once, before any write could meet READONLY on the old one.
TEST_F(RedisLinkTest, ThroughSentinelASwitchOfPrimaryIsFollowedAtOnce) {
  SentinelSetup setup(redis());
  RedisServer& replica = setup.replica;
  Sentinel& sentinel = setup.sentinel;
  GatewayProcess& gateway = startGatewayOn(setup.url(), v1Env());
  ASSERT_TRUE(gateway.waitReady()) << gateway.readStderr();
  // The links of this gateway (its workers' too) on a server, by CLIENT LIST.
  const auto links = [](RedisServer& server) {
    int n = 0;
    std::istringstream clients(server.client().command({"CLIENT", "LIST"}).str);
    for (std::string line; std::getline(clients, line);)
      n += line.find(" name=chat-gw:") != std::string::npos &&
           line.find(":sentinel ") == std::string::npos;
    return n;
  };
  ASSERT_TRUE(waitFor([&] { return links(redis()) >= 2; }, 10s));

  // NOGOODSLAVE until the sentinel has heard from the replica itself.
  Reply failover;
  ASSERT_TRUE(waitFor(
      [&] {
        failover = RedisClient(sentinel.port()).command({"SENTINEL", "FAILOVER", "mymaster"});
        return !failover.isError();
      },
      30s, 200ms))
      << failover.describe();
  ASSERT_TRUE(waitFor([&] { return sentinel.masterPort() == replica.port(); }, 30s));
  EXPECT_TRUE(waitFor([&] { return links(replica) >= 2 && links(redis()) == 0; }, 10s))
      << "links on the new primary: " << links(replica) << ", on the old: " << links(redis())
      << "\n"
      << gateway.readStderr();
  // And it serves from there: a message is stored on the new primary.
  ASSERT_TRUE(gateway.waitReady(10s));
  const std::string room = uniqueRoom();
  V1Session alice = joinV1(gateway, room, "alice");
  sendAndAck(*alice.client, "after the switch", "s1");
  EXPECT_EQ(replica.client().integer({"LLEN", historyKey(room)}), 1);
}

}  // namespace
}  // namespace chat::testing
