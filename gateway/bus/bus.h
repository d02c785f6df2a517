#pragma once
// The seam between a gateway and the other gateways: per-room channels that
// carry stored message frames (and, later, presence events). Publishing is part
// of the store script, so the bus only subscribes and reports what comes back.
// Every frame, including this gateway's own, arrives through the bus: local
// and remote delivery are one path in one order. Loop thread only.

#include <functional>
#include <string_view>

namespace chat::gateway {

class BusListener {
 public:
  virtual ~BusListener() = default;
  // The bus is connected and its own control subscription is confirmed: the
  // listener re-subscribes every room it still needs.
  virtual void onBusUp() = 0;
  // The bus lost its connection: every room subscription is gone.
  virtual void onBusDown() = 0;
  virtual void onRoomSubscribed(std::string_view room) = 0;
  virtual void onRoomUnsubscribed(std::string_view room) = 0;
  // A room's subscription was lost without being given up (its Cluster node
  // went down, its slot moved); the bus subscribes it again by itself and
  // reports onRoomSubscribed then.
  virtual void onRoomLost(std::string_view room) = 0;
  virtual void onRoomFrame(std::string_view room, std::string_view frame) = 0;
};

class Bus {
 public:
  virtual ~Bus() = default;
  // False when the bus is down (the listener hears onBusUp later).
  virtual bool subscribe(std::string_view room) = 0;
  virtual bool unsubscribe(std::string_view room) = 0;
  virtual bool ready() const = 0;
  // Messages on the gateways' control channel (operator commands that every
  // gateway carries out, e.g. disconnecting a user everywhere).
  virtual void setControlHandler(std::function<void(std::string_view payload)> handler) = 0;
};

}  // namespace chat::gateway
