#pragma once
// A throw-away Redis Cluster for tests: three primaries with one replica each,
// every node a redis-server (from PATH) on loopback free ports (data and bus
// port chosen, not port+10000), each in its own temp dir, joined by CLUSTER
// MEET, ADDSLOTSRANGE and REPLICATE. A node notices a dead peer within a
// second (`cluster-node-timeout 1000`), so a failover takes a few seconds.
// Every node is stopped by PID with the object. Used by one thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "process.h"
#include "redis_client.h"
#include "temp_dir.h"

namespace chat::testing {

enum class ClusterTls { kOff, kOn };

class RedisCluster {
 public:
  // Starts six nodes and waits until the cluster is healthy; throws if not.
  // With ClusterTls::kOn every node also serves TLS on a port of its own,
  // and speaks TLS on the cluster bus and to its replicas, with certificates
  // (CA, and a server certificate for 127.0.0.1) made by openssl; the plain
  // ports stay open for the test's own inspection.
  explicit RedisCluster(ClusterTls tls = ClusterTls::kOff);
  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // redis+cluster:// (rediss+cluster:// on the TLS ports) with two seeds.
  std::string url() const;
  // The CA that signed the nodes' certificate (TLS only).
  std::string caFile() const;
  // The TLS port of the node whose plain port is `port` (TLS only).
  std::uint16_t tlsPortOf(std::uint16_t port);
  std::vector<std::uint16_t> ports() const;
  // The primaries as the running nodes see them now, by port.
  std::vector<std::uint16_t> primaries();
  // The primary serving `slot` now (0 when no running node can say).
  std::uint16_t ownerOf(std::uint16_t slot);
  std::uint16_t slotOf(const std::string& key);
  RedisClient client(std::uint16_t port) const { return RedisClient(port); }

  // Every running node says cluster_state:ok, every slot has a primary that
  // runs, and each running primary has a replica whose link is up.
  bool healthy();
  bool waitHealthy(std::chrono::milliseconds timeout);

  // SIGKILL the node on `port`; restart() brings it back with its node
  // config (a killed primary rejoins as a replica of its successor).
  void kill(std::uint16_t port);
  void restart(std::uint16_t port);

  // Moves `slot` with its keys to the primary on `to`, as redis-cli --cluster
  // reshard does: IMPORTING / MIGRATING, MIGRATE of each key, SETSLOT NODE.
  void moveSlot(std::uint16_t slot, std::uint16_t to);

  // Every node's log, for failure messages.
  std::string logs() const;

 private:
  struct Node;
  Node& node(std::uint16_t port);
  void start(Node& node);
  std::string nodeId(std::uint16_t port);

  void makeCertificates();

  ClusterTls tls_;
  TempDir certs_{"chat-cluster-certs"};
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace chat::testing
