#pragma once
// Which users this gateway holds in which rooms, as counts of their v1
// connections, mirrored into Redis with expiry. A user's first local
// connection in a room registers them, the last one removes them, and a timer
// refreshes every entry well inside PRESENCE_TTL, so a crashed gateway's users
// vanish on their own. The rooms themselves go into Redis' registry of
// active rooms the same way (the operator API's list). Redis decides when a user appears or
// disappears across all gateways and publishes the events (scripts::kPresence). Loop thread only.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "loop/uv_handles.h"
#include "store/message_store.h"

namespace chat::gateway {

class PresenceTracker {
 public:
  PresenceTracker(uv_loop_t* loop, MessageStore& store, std::string gatewayId,
                  std::chrono::milliseconds ttl);

  void add(const std::string& room, const std::string& user);
  void remove(const std::string& room, const std::string& user);
  // Re-registers every entry: on the timer, and when Redis comes back.
  void refreshAll();
  void stop() { refreshTimer_.stop(); }

 private:
  MessageStore& store_;
  std::string gatewayId_;
  std::chrono::milliseconds ttl_;
  std::unordered_map<std::string, std::unordered_map<std::string, std::uint32_t>> rooms_;
  Timer refreshTimer_;
};

}  // namespace chat::gateway
