#pragma once
// Room history and id sequence in Redis, through the command connection: the
// store script (id, ts, RPUSH, LTRIM, PUBLISH in one step) and history reads.
// Scripts run by EVALSHA; SCRIPT LOAD is pipelined ahead of them on every
// (re)connect and a NOSCRIPT answer falls back to EVAL, which loads it again.
// Loop thread only.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis/redis_connection.h"
#include "store/redis_keys.h"

namespace chat::gateway {

struct StoredAck {
  std::uint64_t id = 0;
  std::int64_t ts = 0;
  std::string epoch;
};

struct RecentHistory {
  std::string epoch;
  std::uint64_t lastId = 0;
  std::vector<std::string> frames;  // oldest first
};

using RecentFn = std::function<void(std::optional<RecentHistory>)>;

// Reads a room's recent history; MessageStore in production, fakes in tests.
class HistorySource {
 public:
  virtual ~HistorySource() = default;
  virtual bool readRecent(std::string_view room, std::size_t count, RecentFn done) = 0;
};

class MessageStore final : public HistorySource {
 public:
  using StoreFn = std::function<void(std::optional<StoredAck>)>;

  MessageStore(RedisConnection& redis, const RedisKeys& keys, std::size_t historySize);

  // Call when the command connection comes up: loads the scripts.
  void onConnectionUp();

  // Stores a message whose body came from encodeMessageBody. `done` gets
  // nullopt when Redis is unavailable or refused; false when not even sent.
  bool store(std::string_view room, std::string_view body, StoreFn done);

  // The last `count` messages of a room with its epoch and last id.
  bool readRecent(std::string_view room, std::size_t count, RecentFn done) override;

 private:
  struct Script {
    std::string_view source;
    std::string sha;
  };
  bool evalScript(const Script& script, std::vector<std::string> keys,
                  std::vector<std::string> args, ReplyFn done);

  RedisConnection& redis_;
  const RedisKeys& keys_;
  std::string historySize_;
  Script store_;
  Script recent_;
};

// A fresh random epoch: 8 lowercase base-36 characters.
std::string newEpoch();

}  // namespace chat::gateway
