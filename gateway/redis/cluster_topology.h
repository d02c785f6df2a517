#pragma once
// A Redis Cluster as the gateway sees it (redis+cluster://): the slot map
// (from `CLUSTER SHARDS`, asked of any reachable node), and for each primary
// a command link (hiredis, as on one server) and a sharded pub/sub link
// (ShardSubscriber). Routes a room's commands to the primary owning its slot
// and follows MOVED, ASK, TRYAGAIN and CLUSTERDOWN within a bound; the map is
// read again on a redirect, when a link drops, and every few seconds. A room
// whose primary cannot be reached is unavailable; the others go on.
// Loop thread only.

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/redis_url.h"
#include "loop/uv_handles.h"
#include "redis/cluster_map.h"
#include "redis/redis_connection.h"
#include "redis/redis_router.h"
#include "redis/shard_subscriber.h"
#include "redis/tls_tunnel.h"

namespace chat::gateway {

// One cluster node the gateway talks to.
struct ClusterLink {
  ClusterNode address;
  std::unique_ptr<TlsTunnel> tls;  // rediss+cluster:// only; outlives both links
  bool primary = false;            // owns slots in the current map
  std::string id;                  // node id, from the map
  std::unique_ptr<RedisConnection> commands;
  std::unique_ptr<ShardSubscriber> subscriber;  // made when it first owns slots
};

// What the sharded bus hears from the subscriber links and the map.
class ShardEvents {
 public:
  virtual ~ShardEvents() = default;
  virtual void onSubscriberUp(ClusterLink& link) = 0;
  virtual void onSubscriberDown(ClusterLink& link) = 0;
  virtual void onSubscribed(ClusterLink& link, std::string_view channel) = 0;
  virtual void onUnsubscribed(ClusterLink& link, std::string_view channel) = 0;
  virtual void onRefused(ClusterLink& link, std::string_view channel, std::string_view error) = 0;
  virtual void onMessage(std::string_view channel, std::string_view payload) = 0;
  // The map was read (slots may have changed owner): subscriptions may move.
  virtual void onSlotsChanged() = 0;
};

class ClusterTopology final : public RedisRouter {
 public:
  struct Hooks {
    std::function<void(RedisConnection&)> onCommandLinkUp;  // e.g. load scripts there
    std::function<void()> onHealthChange;
  };

  // `sharded`: sharded pub/sub (CLUSTER_PUBSUB=sharded), else classic.
  // rediss+cluster://: every node through a TLS tunnel of its own, checked
  // as `tls` says (its host and port are each node's).
  ClusterTopology(uv_loop_t* loop, common::RedisEndpoint endpoint, std::string clientName,
                  std::chrono::milliseconds replyTimeout, bool sharded = true, TlsOptions tls = {});
  ~ClusterTopology() override;
  ClusterTopology(const ClusterTopology&) = delete;
  ClusterTopology& operator=(const ClusterTopology&) = delete;

  // `events` outlives the topology's links (until stop()).
  void start(Hooks hooks, ShardEvents& events);
  void stop();

  // RedisRouter
  bool command(std::string_view room, const std::vector<std::string_view>& argv,
               ReplyFn fn) override;
  std::string_view publishVerb() const override { return sharded_ ? "SPUBLISH" : "PUBLISH"; }

  // The primary owning this key's or channel's slot, if the map knows one.
  ClusterLink* ownerOf(std::string_view keyOrChannel);
  // A node answered MOVED (to an SSUBSCRIBE): note it and read the map again.
  void learn(const Redirect& redirect);

  // Health: primaries in the map, and those whose two links are both up.
  std::size_t shardCount() const;
  std::size_t shardsUp() const;
  bool anyCommandLinkUp() const;
  bool anySubscriberUp() const;
  // The primaries with a link down, as "host:port, host:port"; empty when none.
  std::string downShards() const;
  unsigned commandReconnects() const;
  unsigned subscriberReconnects() const;
  void readPending(int maxReads);
  // Calls `done` once every primary's command link has answered a PING (so
  // what was sent before has been answered), or at once if none is up.
  void flush(std::function<void()> done);

 private:
  struct Request;

  ClusterLink& linkFor(const ClusterNode& address);
  int indexOf(const ClusterLink& link) const;
  void refresh();
  void apply(const std::vector<ClusterShard>& shards);
  void dispatch(std::shared_ptr<Request> request);
  void onReply(const std::shared_ptr<Request>& request, redisReply* reply);
  void wait(std::shared_ptr<Request> request);
  // kLivePrimariesArg for a command sent to `target`.
  std::string livePrimariesBesides(const ClusterLink& target) const;
  void retryWaiting();

  uv_loop_t* loop_;
  common::RedisEndpoint endpoint_;
  std::string clientName_;
  std::chrono::milliseconds replyTimeout_;
  bool sharded_;
  TlsOptions tls_;
  Hooks hooks_;
  ShardEvents* events_ = nullptr;
  bool stopped_ = false;
  std::vector<std::unique_ptr<ClusterLink>> links_;  // never shrinks: indices stay valid
  SlotMap slots_;                                    // slot -> index into links_
  bool refreshing_ = false;
  bool refreshAgain_ = false;
  std::vector<std::shared_ptr<Request>> waiting_;  // for a link, a slot, or TRYAGAIN
  Timer refreshTimer_;
  Timer retryTimer_;
};

}  // namespace chat::gateway
