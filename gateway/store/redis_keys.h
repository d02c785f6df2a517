#pragma once
// Names of a room's Redis keys and channel (docs/protocol.md section 6). All keys of
// a room share the hash tag `{room}`, so a room lives in one Cluster slot.

#include <optional>
#include <string>
#include <string_view>

namespace chat::gateway {

class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix) : prefix_(std::move(prefix)) {}

  std::string seq(std::string_view room) const { return roomKey(room) + ":seq"; }
  std::string history(std::string_view room) const { return roomKey(room) + ":history"; }
  std::string presence(std::string_view room) const { return roomKey(room) + ":presence"; }
  std::string channel(std::string_view room) const { return roomKey(room); }
  // The idempotency key of a send: (room, username, ref). The username's
  // length comes first, so no username and ref pair reads as another.
  std::string sendRef(std::string_view room, std::string_view username,
                      std::string_view ref) const {
    return roomKey(room) + ":ref:" + std::to_string(username.size()) + ":" + std::string(username) +
           ":" + std::string(ref);
  }
  // A channel every gateway subscribes to, so the subscriber connection is
  // always in subscribed mode and readiness can be confirmed by Redis. It has
  // a hash tag of its own, like every key and channel (a Cluster slot), and
  // cannot be mistaken for a room's (`prefix:{room}`).
  std::string controlChannel() const { return prefix_ + ":control:{control}"; }
  // The registry of rooms with someone present (scripts::kRegisterRooms),
  // under its own hash tag like the control channel.
  std::string activeRooms() const { return prefix_ + ":rooms:{rooms}"; }
  static constexpr std::string_view kActiveRoomsTag = "rooms";
  static constexpr std::string_view kControlTag = "control";

  // The room of a room channel, or nullopt for any other channel.
  std::optional<std::string_view> roomOfChannel(std::string_view channel) const {
    if (channel.size() < prefix_.size() + 3 || channel.substr(0, prefix_.size()) != prefix_ ||
        channel.substr(prefix_.size(), 2) != ":{" || channel.back() != '}')
      return std::nullopt;
    return channel.substr(prefix_.size() + 2, channel.size() - prefix_.size() - 3);
  }

 private:
  std::string roomKey(std::string_view room) const {
    std::string key;
    key.reserve(prefix_.size() + room.size() + 3);
    key += prefix_;
    key += ":{";
    key += room;
    key += '}';
    return key;
  }

  std::string prefix_;
};

}  // namespace chat::gateway
