#pragma once
// Where a room's Redis commands go. Every key and channel of a room carries
// its hash tag, so one node holds them all: on one server (or the primary
// found through Sentinel) that is the one command link; in a Cluster, the
// primary that owns the room's slot. Loop thread only.

#include <string>
#include <string_view>
#include <vector>

#include "redis/redis_connection.h"

namespace chat::gateway {

// Placeholders a command's arguments may hold, replaced by the router with
// what is true of the node the command is finally sent to (after redirects):
//   kPrimaryIdArg: the id of that primary: its run id through Sentinel, its
//     node id in a Cluster, empty on one plain server;
//   kFailoverPeersArg: whose data that primary may have taken over by a
//     failover: "*" (through Sentinel, any other primary), or " id id " (in a
//     Cluster, the other nodes of its shard; a slot migrated from another
//     shard arrives whole and is no failover).
inline constexpr std::string_view kPrimaryIdArg =
    "\x01"
    "primary-id";
inline constexpr std::string_view kFailoverPeersArg =
    "\x01"
    "failover-peers";

class RedisRouter {
 public:
  virtual ~RedisRouter() = default;
  // Sends a command that touches `room`'s keys only; false (and `fn` not
  // called) when the node holding the room cannot be reached now.
  virtual bool command(std::string_view room, const std::vector<std::string_view>& argv,
                       ReplyFn fn) = 0;
  // How the scripts publish a room's frames: PUBLISH, or SPUBLISH in a Cluster
  // (sharded pub/sub: a message travels only within its slot's shard).
  virtual std::string_view publishVerb() const = 0;
};

// One server, or the primary found through Sentinel: one command link.
class SingleNodeRouter final : public RedisRouter {
 public:
  explicit SingleNodeRouter(RedisConnection& connection) : connection_(connection) {}
  bool command(std::string_view, const std::vector<std::string_view>& argv, ReplyFn fn) override {
    std::vector<std::string_view> filled(argv);
    for (auto& arg : filled) {
      if (arg == kPrimaryIdArg) arg = connection_.primaryId();
      if (arg == kFailoverPeersArg) arg = "*";
    }
    return connection_.command(filled, std::move(fn));
  }
  std::string_view publishVerb() const override { return "PUBLISH"; }

 private:
  RedisConnection& connection_;
};

}  // namespace chat::gateway
