#pragma once
// The connections of one worker: owns each Connection from ESTABLISHED to
// CLOSED (lws' session holds only a pointer), finds them by id (a Redis reply
// may come back for a connection that has gone), counts them per peer address
// for MAX_CONNECTIONS_PER_IP, and keeps the worker's connection gauges that
// /metrics adds up. Loop thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "metrics/counter.h"
#include "ws/connection.h"

namespace chat::gateway {

class ConnectionRegistry {
 public:
  // `plain` and `v1` count the open connections of each kind (shared gauges).
  ConnectionRegistry(Gauge& plain, Gauge& v1) : plain_(plain), v1_(v1) {}

  Connection& add(std::unique_ptr<Connection> connection);
  // Destroys the connection (it has left its rooms).
  void remove(Connection& connection);

  Connection* find(std::uint64_t id) const;
  std::size_t size() const { return connections_.size(); }
  bool empty() const { return connections_.empty(); }
  std::size_t connectionsFrom(const std::string& peerKey) const;

  template <typename Fn>
  void forEach(Fn fn) const {
    for (const auto& [id, connection] : connections_)
      fn(*connection);
  }

 private:
  Gauge& plain_;
  Gauge& v1_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::unordered_map<std::string, std::uint32_t> perPeer_;
};

}  // namespace chat::gateway
