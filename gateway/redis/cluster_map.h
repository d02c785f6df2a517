#pragma once
// What a gateway knows of a Redis Cluster, as pure data: the slot of a key
// (CRC16 of its hash tag), the slot map read from `CLUSTER SHARDS`, and the
// redirect errors a node answers with (MOVED, ASK, TRYAGAIN, CLUSTERDOWN).
// No I/O; any thread.

#include <hiredis/hiredis.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::gateway {

inline constexpr std::size_t kClusterSlots = 16384;

// CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with.
std::uint16_t crc16(std::string_view bytes);
// The slot of a key: only the part inside the first non-empty {...} counts,
// so every key of a room (`prefix:{room}:...`) lands in one slot.
std::uint16_t hashSlot(std::string_view key);

struct ClusterNode {
  std::string host;
  std::uint16_t port = 0;
  std::string address() const { return host + ":" + std::to_string(port); }
  bool operator==(const ClusterNode&) const = default;
};

struct ClusterShard {
  std::vector<std::pair<std::uint16_t, std::uint16_t>> slots;  // inclusive ranges
  ClusterNode primary;
  std::string primaryId;             // its node id
  std::vector<std::string> peerIds;  // the shard's other nodes (replicas, failed primaries)
};

// The shards from a `CLUSTER SHARDS` reply (RESP2: flat key/value arrays),
// each with its online primary; shards without one or without slots are left
// out. nullopt when the reply is not a shard list at all. With `tls`, a node's
// `tls-port` is used where it has one.
std::optional<std::vector<ClusterShard>> parseClusterShards(const redisReply* reply,
                                                            bool tls = false);

// slot -> owner (an index the caller gives meaning to); -1 where none is known.
class SlotMap {
 public:
  SlotMap() { owners_.fill(-1); }
  void clear() { owners_.fill(-1); }
  void assign(std::uint16_t from, std::uint16_t to, int owner);
  int ownerOf(std::uint16_t slot) const { return owners_[slot]; }
  void setOwner(std::uint16_t slot, int owner) { owners_[slot] = static_cast<std::int16_t>(owner); }
  bool complete() const;

 private:
  std::array<std::int16_t, kClusterSlots> owners_;
};

// A node's answer that the command belongs elsewhere or later.
struct Redirect {
  enum class Kind { kMoved, kAsk, kTryAgain, kClusterDown };
  Kind kind;
  std::uint16_t slot = 0;  // MOVED / ASK
  ClusterNode target;      // MOVED / ASK
};
std::optional<Redirect> parseRedirect(std::string_view error);

}  // namespace chat::gateway
