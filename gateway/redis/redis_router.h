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
//   kLivePrimariesArg: which other primaries a room's data may have come
//     from whole, so that a change of primary is no failover: "*" through
//     Sentinel (none: any change is a failover), or " id id " in a Cluster:
//     the other primaries the gateway reaches now, from which a slot can only
//     have been migrated (MIGRATE moves keys whole). A room last written by a
//     primary not among them (dead, or demoted to a replica) was taken over
//     by a failover, and may miss what clients saw.
inline constexpr std::string_view kPrimaryIdArg =
    "\x01"
    "primary-id";
inline constexpr std::string_view kLivePrimariesArg =
    "\x01"
    "live-primaries";

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
      if (arg == kLivePrimariesArg) arg = "*";
    }
    return connection_.command(filled, std::move(fn));
  }
  std::string_view publishVerb() const override { return "PUBLISH"; }

 private:
  RedisConnection& connection_;
};

}  // namespace chat::gateway
