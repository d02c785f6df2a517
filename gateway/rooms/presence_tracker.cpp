#include "rooms/presence_tracker.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace chat::gateway {
namespace {

// Users per refresh call: keeps one script run short.
constexpr std::size_t kRefreshBatch = 200;

}  // namespace

PresenceTracker::PresenceTracker(uv_loop_t* loop, MessageStore& store, std::string gatewayId,
                                 std::chrono::milliseconds ttl)
    : store_(store), gatewayId_(std::move(gatewayId)), ttl_(ttl), refreshTimer_(loop) {
  // A third of the TTL: two refreshes may be lost before an entry expires.
  const auto period =
      std::clamp(ttl_ / 3, std::chrono::milliseconds(100), std::chrono::milliseconds(10000));
  refreshTimer_.every(period, [this] { refreshAll(); });
}

void PresenceTracker::add(const std::string& room, const std::string& user) {
  auto [roomIt, newRoom] = rooms_.try_emplace(room);
  if (newRoom) store_.registerRooms({room}, ttl_);
  if (++roomIt->second[user] == 1)
    store_.presence(room, PresenceOp::kJoin, gatewayId_, ttl_, {user});
}

void PresenceTracker::remove(const std::string& room, const std::string& user) {
  const auto roomIt = rooms_.find(room);
  if (roomIt == rooms_.end()) return;
  const auto userIt = roomIt->second.find(user);
  if (userIt == roomIt->second.end() || --userIt->second > 0) return;
  roomIt->second.erase(userIt);
  if (roomIt->second.empty()) rooms_.erase(roomIt);
  store_.presence(room, PresenceOp::kLeave, gatewayId_, ttl_, {user});
}

void PresenceTracker::refreshAll() {
  std::vector<std::string> roomBatch;
  for (const auto& [room, users] : rooms_) {
    roomBatch.push_back(room);
    if (roomBatch.size() == kRefreshBatch) store_.registerRooms(std::exchange(roomBatch, {}), ttl_);
    std::vector<std::string> batch;
    for (const auto& [user, count] : users) {
      batch.push_back(user);
      if (batch.size() == kRefreshBatch) {
        store_.presence(room, PresenceOp::kRefresh, gatewayId_, ttl_, batch);
        batch.clear();
      }
    }
    if (!batch.empty()) store_.presence(room, PresenceOp::kRefresh, gatewayId_, ttl_, batch);
  }
  if (!roomBatch.empty()) store_.registerRooms(roomBatch, ttl_);
}

}  // namespace chat::gateway
