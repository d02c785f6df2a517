#include "ws/connection_registry.h"

namespace chat::gateway {

Connection& ConnectionRegistry::add(std::unique_ptr<Connection> connection) {
  Connection& c = *connection;
  (c.isV1() ? v1_ : plain_).add(1);
  if (!c.peerKey().empty()) ++perPeer_[c.peerKey()];
  connections_.emplace(c.id(), std::move(connection));
  return c;
}

void ConnectionRegistry::remove(Connection& connection) {
  (connection.isV1() ? v1_ : plain_).add(-1);
  if (!connection.peerKey().empty()) {
    const auto it = perPeer_.find(connection.peerKey());
    if (it != perPeer_.end() && --it->second == 0) perPeer_.erase(it);
  }
  connections_.erase(connection.id());
}

Connection* ConnectionRegistry::find(std::uint64_t id) const {
  const auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

std::size_t ConnectionRegistry::connectionsFrom(const std::string& peerKey) const {
  const auto it = perPeer_.find(peerKey);
  return it == perPeer_.end() ? 0 : it->second;
}

}  // namespace chat::gateway
