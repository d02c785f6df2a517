#include "bus/cluster_bus.h"

#include "log/log.h"

namespace chat::gateway {

bool ClusterBus::subscribe(std::string_view room) {
  if (!ready()) return false;
  auto [it, added] = wanted_.try_emplace(std::string(room));
  if (added || it->second.link == nullptr) place(it->first, it->second);
  return true;
}

bool ClusterBus::unsubscribe(std::string_view room) {
  const auto it = wanted_.find(room);
  if (it == wanted_.end()) return false;
  ClusterLink* link = it->second.link;
  wanted_.erase(it);
  // Confirmed by onUnsubscribed; with no live link there is nothing to undo.
  return link != nullptr && link->subscriber->unsubscribe(keys_.channel(room));
}

void ClusterBus::place(const std::string& room, Placement& placement) {
  const std::string channel = keys_.channel(room);
  ClusterLink* owner = topology_.ownerOf(channel);
  placement.confirmed = false;
  placement.link = nullptr;
  if (owner == nullptr || !owner->subscriber || !owner->subscriber->subscribe(channel)) return;
  placement.link = owner;
}

void ClusterBus::lose(const std::string& room, Placement& placement) {
  const bool wasConfirmed = placement.confirmed;
  placement.link = nullptr;
  placement.confirmed = false;
  if (wasConfirmed) listener_->onRoomLost(room);
}

void ClusterBus::placeControl() {
  const std::string channel = keys_.controlChannel();
  ClusterLink* owner = topology_.ownerOf(channel);
  control_ = {};
  if (owner != nullptr && owner->subscriber && owner->subscriber->subscribe(channel))
    control_.link = owner;
}

void ClusterBus::onSubscriberUp(ClusterLink& link) {
  if (control_.link == nullptr) placeControl();
  if (!announcedUp_) {
    announcedUp_ = true;
    Log::info("bus_ready", {{"node", link.address.address()}});
    listener_->onBusUp();  // subscribes every room the listener needs
  }
  for (auto& [room, placement] : wanted_)
    if (placement.link == nullptr) place(room, placement);
}

void ClusterBus::onSubscriberDown(ClusterLink& link) {
  if (control_.link == &link) placeControl();
  for (auto& [room, placement] : wanted_)
    if (placement.link == &link) lose(room, placement);
  if (!ready()) announcedUp_ = false;
}

void ClusterBus::onSubscribed(ClusterLink& link, std::string_view channel) {
  if (isControl(channel)) {
    control_.confirmed = control_.link == &link;
    return;
  }
  const auto room = keys_.roomOfChannel(channel);
  if (!room) return;
  const auto it = wanted_.find(*room);
  if (it == wanted_.end()) {
    link.subscriber->unsubscribe(channel);  // given up while the request was in flight
    return;
  }
  if (it->second.link != &link || it->second.confirmed) return;
  it->second.confirmed = true;
  listener_->onRoomSubscribed(*room);
}

void ClusterBus::onUnsubscribed(ClusterLink& link, std::string_view channel) {
  if (isControl(channel)) {
    if (control_.link == &link) placeControl();  // its slot moved
    return;
  }
  const auto room = keys_.roomOfChannel(channel);
  if (!room) return;
  const auto it = wanted_.find(*room);
  if (it == wanted_.end()) {
    listener_->onRoomUnsubscribed(*room);
    return;
  }
  if (it->second.link != &link) return;  // an old placement let go
  // Redis dropped it (the slot moved away from this node): follow the slot.
  Log::info("room_subscription_moved", {{"room", *room}, {"from", link.address.address()}});
  lose(it->first, it->second);
  place(it->first, it->second);
}

void ClusterBus::onRefused(ClusterLink& link, std::string_view channel, std::string_view error) {
  if (isControl(channel)) {
    if (control_.link != &link) return;
    control_ = {};
    if (const auto redirect = parseRedirect(error);
        redirect && redirect->kind == Redirect::Kind::kMoved) {
      topology_.learn(*redirect);
      placeControl();
    }
    return;
  }
  const auto room = keys_.roomOfChannel(channel);
  if (!room) return;
  const auto it = wanted_.find(*room);
  if (it == wanted_.end() || it->second.link != &link) return;
  it->second.link = nullptr;
  if (const auto redirect = parseRedirect(error);
      redirect && redirect->kind == Redirect::Kind::kMoved) {
    topology_.learn(*redirect);
    place(it->first, it->second);
    return;
  }
  // Otherwise the map's next read (every few seconds) places it again.
  Log::warn("room_subscribe_refused", {{"room", *room}, {"detail", error}});
}

void ClusterBus::onMessage(std::string_view channel, std::string_view payload) {
  if (isControl(channel)) {
    if (controlHandler_) controlHandler_(payload);
    return;
  }
  if (const auto room = keys_.roomOfChannel(channel)) listener_->onRoomFrame(*room, payload);
}

void ClusterBus::onSlotsChanged() {
  if (control_.link != topology_.ownerOf(keys_.controlChannel()) || control_.link == nullptr) {
    if (control_.link != nullptr && control_.link->subscriber->isUp())
      control_.link->subscriber->unsubscribe(keys_.controlChannel());
    placeControl();
  }
  for (auto& [room, placement] : wanted_) {
    const std::string channel = keys_.channel(room);
    ClusterLink* owner = topology_.ownerOf(channel);
    if (placement.link == owner && placement.link != nullptr) continue;
    if (placement.link != nullptr && placement.link->subscriber->isUp())
      placement.link->subscriber->unsubscribe(channel);
    lose(room, placement);
    place(room, placement);
  }
}

}  // namespace chat::gateway
