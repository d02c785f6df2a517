#include "redis_cluster.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "ports.h"
#include "wait.h"

namespace chat::testing {
namespace {

constexpr int kNodes = 6;  // nodes 0-2 primaries, 3-5 their replicas
constexpr std::chrono::milliseconds kSetupTimeout(30000);

// `field:value` out of an INFO-style text, or empty.
std::string infoField(const std::string& info, const std::string& field) {
  const auto at = info.find(field + ":");
  if (at == std::string::npos) return {};
  const auto end = info.find("\r\n", at);
  return info.substr(at + field.size() + 1, end - at - field.size() - 1);
}

std::string text(const Reply& reply) {
  return reply.str;
}

}  // namespace

struct RedisCluster::Node {
  std::uint16_t port = 0;
  std::uint16_t tlsPort = 0;
  std::uint16_t busPort = 0;
  TempDir dir{"chat-cluster-node"};
  std::unique_ptr<Process> process;
  int starts = 0;
};

RedisCluster::RedisCluster(ClusterTls tls) : tls_(tls) {
  if (tls_ == ClusterTls::kOn) makeCertificates();
  for (int i = 0; i < kNodes; ++i) {
    auto node = std::make_unique<Node>();
    node->port = findFreePort();
    node->busPort = findFreePort();
    if (tls_ == ClusterTls::kOn) node->tlsPort = findFreePort();
    start(*node);
    nodes_.push_back(std::move(node));
  }
  std::vector<std::string> ids;
  for (const auto& node : nodes_)
    ids.push_back(nodeId(node->port));
  RedisClient first = client(nodes_[0]->port);
  for (int i = 1; i < kNodes; ++i)
    first.command({"CLUSTER", "MEET", "127.0.0.1", std::to_string(nodes_[i]->port),
                   std::to_string(nodes_[i]->busPort)});
  const bool met = waitFor(
      [&] {
        for (const auto& node : nodes_) {
          const std::string nodes = client(node->port).command({"CLUSTER", "NODES"}).str;
          std::size_t lines = 0;
          for (char c : nodes)
            lines += c == '\n';
          if (lines != kNodes || nodes.find("handshake") != std::string::npos) return false;
        }
        return true;
      },
      kSetupTimeout);
  if (!met) throw std::runtime_error("cluster nodes did not meet:\n" + logs());
  const int third = 16384 / 3;
  for (int i = 0; i < 3; ++i) {
    const int from = i * third + (i > 0 ? 1 : 0);
    const int to = i == 2 ? 16383 : (i + 1) * third;
    const Reply added =
        client(nodes_[i]->port)
            .command({"CLUSTER", "ADDSLOTSRANGE", std::to_string(from), std::to_string(to)});
    if (added.isError()) throw std::runtime_error("ADDSLOTSRANGE: " + added.str);
  }
  // A replica can follow only a primary it knows to own slots.
  for (int i = 3; i < kNodes; ++i) {
    const bool replicating = waitFor(
        [&] {
          return !client(nodes_[i]->port).command({"CLUSTER", "REPLICATE", ids[i - 3]}).isError();
        },
        kSetupTimeout);
    if (!replicating) throw std::runtime_error("CLUSTER REPLICATE failed:\n" + logs());
  }
  if (!waitHealthy(kSetupTimeout)) throw std::runtime_error("cluster not healthy:\n" + logs());
}

RedisCluster::~RedisCluster() = default;

void RedisCluster::start(Node& node) {
  ProcessOptions options;
  options.executable = "redis-server";
  options.args = {"--port", std::to_string(node.port), "--cluster-port",
                  std::to_string(node.busPort), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                  "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000",
                  // A replica always qualifies for failover, however long its link was down.
                  "--cluster-replica-validity-factor", "0", "--cluster-allow-replica-migration",
                  "no", "--save", "", "--appendonly", "no", "--dir", node.dir.path().string(),
                  "--daemonize", "no"};
  if (tls_ == ClusterTls::kOn) {
    const auto dir = certs_.path();
    options.args.insert(
        options.args.end(),
        {"--tls-port", std::to_string(node.tlsPort), "--tls-cert-file",
         (dir / "server.crt").string(), "--tls-key-file", (dir / "server.key").string(),
         "--tls-ca-cert-file", (dir / "ca.crt").string(), "--tls-auth-clients", "no",
         "--tls-cluster", "yes", "--tls-replication", "yes"});
  }
  options.workingDir = node.dir.path();
  options.logDir = node.dir.path();
  options.name = "cluster-node-" + std::to_string(node.port) + "-" + std::to_string(++node.starts);
  node.process = std::make_unique<Process>(options);
  const bool up = waitFor(
      [&] {
        try {
          return client(node.port).command({"PING"}).str == "PONG";
        } catch (const std::exception&) {
          return false;
        }
      },
      kSetupTimeout);
  if (!up) throw std::runtime_error("cluster node did not start:\n" + logs());
}

std::string RedisCluster::url() const {
  if (tls_ == ClusterTls::kOn)
    return "rediss+cluster://127.0.0.1:" + std::to_string(nodes_[0]->tlsPort) +
           ",127.0.0.1:" + std::to_string(nodes_[1]->tlsPort);
  return "redis+cluster://127.0.0.1:" + std::to_string(nodes_[0]->port) +
         ",127.0.0.1:" + std::to_string(nodes_[1]->port);
}

std::uint16_t RedisCluster::tlsPortOf(std::uint16_t port) {
  return node(port).tlsPort;
}

std::string RedisCluster::caFile() const {
  return (certs_.path() / "ca.crt").string();
}

void RedisCluster::makeCertificates() {
  const auto dir = certs_.path();
  const auto openssl = [&](std::vector<std::string> args) {
    ProcessOptions options;
    options.executable = "openssl";
    options.args = std::move(args);
    options.workingDir = dir;
    options.logDir = dir;
    options.name = "openssl";
    Process process(options);
    if (!waitFor([&] { return !process.isRunning(); }, std::chrono::milliseconds(30000)) ||
        !process.exitStatus() || !process.exitStatus()->success())
      throw std::runtime_error("openssl failed: " + process.readStderr());
  };
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", dir / "ca.key", "-out", dir / "ca.crt", "-days", "2", "-subj",
           "/CN=chat-test-ca"});
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
           dir / "server.key", "-out", dir / "server.csr", "-subj", "/CN=127.0.0.1"});
  std::ofstream(dir / "san.cnf") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  openssl({"x509", "-req", "-in", dir / "server.csr", "-CA", dir / "ca.crt", "-CAkey",
           dir / "ca.key", "-CAcreateserial", "-out", dir / "server.crt", "-days", "2", "-extfile",
           dir / "san.cnf"});
}

std::vector<std::uint16_t> RedisCluster::ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& node : nodes_)
    ports.push_back(node->port);
  return ports;
}

RedisCluster::Node& RedisCluster::node(std::uint16_t port) {
  for (auto& node : nodes_)
    if (node->port == port) return *node;
  throw std::runtime_error("no cluster node on port " + std::to_string(port));
}

std::string RedisCluster::nodeId(std::uint16_t port) {
  return text(client(port).command({"CLUSTER", "MYID"}));
}

std::vector<std::uint16_t> RedisCluster::primaries() {
  std::vector<std::uint16_t> primaries;
  for (const auto& node : nodes_) {
    if (!node->process->isRunning()) continue;
    try {
      const std::string role =
          infoField(client(node->port).command({"INFO", "replication"}).str, "role");
      if (role == "master") primaries.push_back(node->port);
    } catch (const std::exception&) {
    }
  }
  return primaries;
}

std::uint16_t RedisCluster::ownerOf(std::uint16_t slot) {
  for (const auto& node : nodes_) {
    if (!node->process->isRunning()) continue;
    try {
      const Reply slots = client(node->port).command({"CLUSTER", "SLOTS"});
      for (const Reply& range : slots.elements) {
        if (range.elements.size() < 3) continue;
        if (range.elements[0].integer <= slot && slot <= range.elements[1].integer)
          return static_cast<std::uint16_t>(range.elements[2].elements.at(1).integer);
      }
    } catch (const std::exception&) {
    }
  }
  return 0;
}

std::uint16_t RedisCluster::slotOf(const std::string& key) {
  for (const auto& node : nodes_) {
    if (!node->process->isRunning()) continue;
    return static_cast<std::uint16_t>(client(node->port).integer({"CLUSTER", "KEYSLOT", key}));
  }
  throw std::runtime_error("no cluster node runs");
}

bool RedisCluster::healthy() {
  try {
    std::vector<std::uint16_t> running;
    for (const auto& node : nodes_) {
      if (!node->process->isRunning()) continue;
      running.push_back(node->port);
      const std::string info = client(node->port).command({"CLUSTER", "INFO"}).str;
      if (infoField(info, "cluster_state") != "ok" ||
          infoField(info, "cluster_slots_ok") != "16384")
        return false;
    }
    const auto primaryPorts = primaries();
    for (std::uint16_t slot : {std::uint16_t{0}, std::uint16_t{8000}, std::uint16_t{16383}}) {
      const std::uint16_t owner = ownerOf(slot);
      if (std::find(primaryPorts.begin(), primaryPorts.end(), owner) == primaryPorts.end())
        return false;
    }
    // Each primary with slots has a replica whose link is up.
    std::size_t linkedReplicas = 0;
    for (std::uint16_t port : running) {
      const std::string info = client(port).command({"INFO", "replication"}).str;
      if (infoField(info, "role") == "slave" && infoField(info, "master_link_status") == "up")
        ++linkedReplicas;
    }
    return linkedReplicas >= 3;
  } catch (const std::exception&) {
    return false;
  }
}

bool RedisCluster::waitHealthy(std::chrono::milliseconds timeout) {
  return waitFor([&] { return healthy(); }, timeout, std::chrono::milliseconds(100));
}

void RedisCluster::kill(std::uint16_t port) {
  node(port).process->kill();
}

void RedisCluster::restart(std::uint16_t port) {
  Node& n = node(port);
  if (n.process->isRunning()) n.process->stop();
  start(n);
}

void RedisCluster::moveSlot(std::uint16_t slot, std::uint16_t to) {
  const std::uint16_t from = ownerOf(slot);
  if (from == 0 || from == to) return;
  const std::string fromId = nodeId(from);
  const std::string toId = nodeId(to);
  const std::string slotText = std::to_string(slot);
  RedisClient source = client(from);
  RedisClient target = client(to);
  const auto check = [](const Reply& reply, const std::string& what) {
    if (reply.isError()) throw std::runtime_error(what + ": " + reply.str);
  };
  check(target.command({"CLUSTER", "SETSLOT", slotText, "IMPORTING", fromId}), "IMPORTING");
  check(source.command({"CLUSTER", "SETSLOT", slotText, "MIGRATING", toId}), "MIGRATING");
  for (;;) {
    const auto keys = source.strings({"CLUSTER", "GETKEYSINSLOT", slotText, "100"});
    if (keys.empty()) break;
    std::vector<std::string> migrate = {"MIGRATE", "127.0.0.1", std::to_string(to), "", "0",
                                        "5000",    "KEYS"};
    migrate.insert(migrate.end(), keys.begin(), keys.end());
    check(source.command(migrate), "MIGRATE");
  }
  check(target.command({"CLUSTER", "SETSLOT", slotText, "NODE", toId}), "SETSLOT NODE (target)");
  check(source.command({"CLUSTER", "SETSLOT", slotText, "NODE", toId}), "SETSLOT NODE (source)");
  for (std::uint16_t primary : primaries())
    if (primary != from && primary != to)
      client(primary).command({"CLUSTER", "SETSLOT", slotText, "NODE", toId});
}

std::string RedisCluster::logs() const {
  std::ostringstream out;
  for (const auto& node : nodes_) {
    if (!node->process) continue;
    const std::string log = node->process->readStdout();
    out << "--- node " << node->port << " (last 2000 bytes)\n"
        << (log.size() > 2000 ? log.substr(log.size() - 2000) : log) << "\n";
  }
  return out.str();
}

}  // namespace chat::testing
