#pragma once
// Room history, id sequence and presence in Redis, through the router to the
// node that holds each room: the store script (id, ts, RPUSH, LTRIM, PUBLISH in one step),
// history reads by id, and presence updates. Scripts run by EVALSHA; SCRIPT
// LOAD is pipelined ahead of them on every command link's (re)connect, and a
// NOSCRIPT answer falls back to EVAL, which loads the script again. Loop thread only.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis/redis_router.h"
#include "store/redis_keys.h"

namespace chat::gateway {

struct StoredAck {
  std::uint64_t id = 0;
  std::int64_t ts = 0;
  std::string epoch;
};

// Which slice of a room's history to read (see scripts::kRead).
struct HistoryQuery {
  enum class Mode { kLast, kJoin, kAfter, kBefore };
  Mode mode = Mode::kLast;
  std::uint64_t a = 0;  // last/join: count; after: since; before: before
  std::int64_t b = -1;  // join: oldest since wanted (-1 none); after/before: limit
};

struct HistorySlice {
  std::string epoch;
  std::uint64_t lastId = 0;
  std::uint64_t length = 0;          // messages the room's history holds
  std::vector<std::string> frames;   // oldest first
  std::vector<std::string> present;  // join reads: users present (at most PRESENCE_LIST_MAX)
  std::uint64_t online = 0;          // join reads: how many users are present
};

using ReadFn = std::function<void(std::optional<HistorySlice>)>;
using CountFn = std::function<void(std::optional<std::uint64_t>)>;

// Reads a room's history and presence; MessageStore in production, fakes in tests.
class HistorySource {
 public:
  virtual ~HistorySource() = default;
  virtual bool read(std::string_view room, const HistoryQuery& query, ReadFn done) = 0;
  // How many distinct users are present in a room (O(log n)); false when not sent.
  virtual bool presentCount(std::string_view room, CountFn done) = 0;
};

// How presence scales (docs/protocol.md section 4): a `joined` lists at most
// `listMax` users; rooms above `eventsMax` users get counts, not events.
struct PresenceLimits {
  std::size_t listMax = 100;
  std::size_t eventsMax = 200;
};

enum class PresenceOp { kJoin, kRefresh, kLeave };

// Who sent a message under which client `ref`: a resend with both the same,
// within a few minutes, is not stored again.
struct SendRef {
  std::string_view username;
  std::string_view ref;
};

class MessageStore final : public HistorySource {
 public:
  using StoreFn = std::function<void(std::optional<StoredAck>)>;

  // `ackReplicas` (ACK_REPLICAS): replicas that must have a message before it
  // is acked; 0 acks once the primary has it.
  MessageStore(RedisRouter& redis, const RedisKeys& keys, std::size_t historySize,
               unsigned ackReplicas = 0, PresenceLimits limits = {});

  // Call when a command link comes up: loads the scripts there.
  void loadScripts(RedisConnection& link);

  // Stores a message whose body came from encodeMessageBody. `done` gets
  // nullopt when Redis is unavailable or refused; false when not even sent.
  // With `sendRef`, a resend gets the first store's ack and stores nothing.
  bool store(std::string_view room, std::string_view body, StoreFn done,
             std::optional<SendRef> sendRef = std::nullopt);

  bool read(std::string_view room, const HistoryQuery& query, ReadFn done) override;
  bool presentCount(std::string_view room, CountFn done) override;

  // Publishes an operator command to every gateway (the control channel);
  // `done` gets whether Redis took it.
  bool publishControl(std::string_view payload, std::function<void(bool)> done);

  // Everyone present in a room now, on any gateway (the operator API);
  // nullopt when Redis is unavailable. False when not even sent.
  using PresentFn = std::function<void(std::optional<std::vector<std::string>>)>;
  bool present(std::string_view room, PresentFn done);

  // Deletes message `id` of a room, leaving a tombstone (scripts::kDelete).
  enum class DeleteResult { kNotFound, kDeleted, kUnavailable };
  using DeleteFn = std::function<void(DeleteResult)>;
  bool remove(std::string_view room, std::uint64_t id, DeleteFn done);

  // Puts `rooms` in the registry of rooms with someone present, for `ttl`.
  bool registerRooms(const std::vector<std::string>& rooms, std::chrono::milliseconds ttl);

  // The rooms where someone is present (at most `limit`), each with the
  // distinct users present and its last id, busiest first; nullopt when
  // Redis is unavailable.
  struct RoomActivity {
    std::string room;
    std::uint64_t online = 0;
    std::uint64_t lastId = 0;
  };
  using ActiveRoomsFn = std::function<void(std::optional<std::vector<RoomActivity>>)>;
  bool activeRooms(std::size_t limit, ActiveRoomsFn done);

  // Registers, refreshes or removes this gateway's presence entries for
  // `users` in a room; Redis publishes the join and leave events.
  bool presence(std::string_view room, PresenceOp op, std::string_view gatewayId,
                std::chrono::milliseconds ttl, const std::vector<std::string>& users);

 private:
  struct Script {
    std::string_view source;
    std::string sha;
  };
  bool evalScript(std::string_view room, const Script& script, std::vector<std::string> keys,
                  std::vector<std::string> args, ReplyFn done);

  RedisRouter& redis_;
  const RedisKeys& keys_;
  std::string historySize_;
  unsigned ackReplicas_;
  std::string presentReadMax_;
  std::string eventsMax_;
  Script store_;
  Script read_;
  Script presence_;
  Script delete_;
  Script registerRooms_;
  Script activeRooms_;
  Script roomSummary_;
};

// A fresh random epoch: 8 lowercase base-36 characters.
std::string newEpoch();

}  // namespace chat::gateway
