#pragma once
// The bus over a Redis Cluster's sharded pub/sub: each room's channel is
// SSUBSCRIBEd on the primary that owns its slot, through that primary's
// subscriber link. The bus remembers which rooms are wanted and places each
// one itself: when its link comes up, when the slot map changes, when a node
// answers MOVED, and when Redis drops the channel because its slot moved
// (an `sunsubscribe` push). A room that loses its subscription is reported
// to the listener (onRoomLost) so its members catch up from history once it
// is back: no gap. Loop thread only.

#include <string>
#include <string_view>

#include "bus/bus.h"
#include "redis/cluster_topology.h"
#include "store/redis_keys.h"
#include "util/string_map.h"

namespace chat::gateway {

class ClusterBus final : public Bus, public ShardEvents {
 public:
  ClusterBus(ClusterTopology& topology, const RedisKeys& keys) : topology_(topology), keys_(keys) {}

  // The listener must outlive the bus.
  void setListener(BusListener& listener) { listener_ = &listener; }

  // Bus
  bool subscribe(std::string_view room) override;
  bool unsubscribe(std::string_view room) override;
  bool ready() const override { return topology_.anySubscriberUp(); }
  void setControlHandler(std::function<void(std::string_view)> handler) override {
    controlHandler_ = std::move(handler);
  }

  // ShardEvents
  void onSubscriberUp(ClusterLink& link) override;
  void onSubscriberDown(ClusterLink& link) override;
  void onSubscribed(ClusterLink& link, std::string_view channel) override;
  void onUnsubscribed(ClusterLink& link, std::string_view channel) override;
  void onRefused(ClusterLink& link, std::string_view channel, std::string_view error) override;
  void onMessage(std::string_view channel, std::string_view payload) override;
  void onSlotsChanged() override;

 private:
  struct Placement {
    ClusterLink* link = nullptr;  // where its SSUBSCRIBE went; null: not placed
    bool confirmed = false;
  };
  // Subscribes a wanted room where its slot lives, if that link is up.
  void place(const std::string& room, Placement& placement);
  // The room's subscription is gone without being asked to go.
  void lose(const std::string& room, Placement& placement);
  // The control channel, subscribed like a room where its slot lives.
  void placeControl();
  bool isControl(std::string_view channel) const { return channel == keys_.controlChannel(); }

  ClusterTopology& topology_;
  const RedisKeys& keys_;
  BusListener* listener_ = nullptr;
  bool announcedUp_ = false;
  common::StringMap<Placement> wanted_;
  Placement control_;
  std::function<void(std::string_view)> controlHandler_;
};

}  // namespace chat::gateway
