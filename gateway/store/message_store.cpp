#include "store/message_store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <random>

#include "log/log.h"
#include "store/scripts.h"
#include "util/clock.h"

namespace chat::gateway {
namespace {

// How long a store waits for ACK_REPLICAS replicas (docs/protocol.md section 9).
constexpr char kReplicaWaitMs[] = "1000";
// How long a send's idempotency key lasts: a client retries within seconds
// (reconnect and resend), well inside this.
constexpr std::chrono::milliseconds kIdempotencyLifetime = std::chrono::minutes(5);
// How long the sequence a join created for a room without messages lasts.
constexpr std::chrono::milliseconds kUnusedSequenceLifetime = std::chrono::hours(24);

std::string sha1Hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xF];
  }
  return hex;
}

bool isNoScript(const redisReply* reply) {
  return reply != nullptr && reply->type == REDIS_REPLY_ERROR &&
         std::string_view(reply->str, reply->len).substr(0, 8) == "NOSCRIPT";
}

std::string_view asString(const redisReply* r) {
  return (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string_view(r->str, r->len)
             : std::string_view{};
}

template <typename Int>
std::optional<Int> asInteger(const redisReply* r) {
  if (r->type == REDIS_REPLY_INTEGER) return static_cast<Int>(r->integer);
  Int value{};
  const auto s = asString(r);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

void logScriptError(std::string_view script, const redisReply* reply) {
  if (reply != nullptr && reply->type == REDIS_REPLY_ERROR)
    Log::error("redis_script_error",
               {{"script", script}, {"detail", std::string_view(reply->str, reply->len)}});
}

}  // namespace

std::string newEpoch() {
  static std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::uniform_int_distribution<int> pick(0, 35);
  std::string epoch(8, '0');
  for (char& c : epoch)
    c = kAlphabet[pick(rng)];
  return epoch;
}

MessageStore::MessageStore(RedisRouter& redis, const RedisKeys& keys, std::size_t historySize,
                           unsigned ackReplicas, PresenceLimits limits)
    : redis_(redis),
      keys_(keys),
      historySize_(std::to_string(historySize)),
      ackReplicas_(ackReplicas),
      // A small room's list is read whole: presence events keep it from there.
      presentReadMax_(std::to_string(std::max(limits.listMax, limits.eventsMax))),
      eventsMax_(std::to_string(limits.eventsMax)),
      store_{scripts::kStore, sha1Hex(scripts::kStore)},
      read_{scripts::kRead, sha1Hex(scripts::kRead)},
      presence_{scripts::kPresence, sha1Hex(scripts::kPresence)},
      delete_{scripts::kDelete, sha1Hex(scripts::kDelete)},
      registerRooms_{scripts::kRegisterRooms, sha1Hex(scripts::kRegisterRooms)},
      activeRooms_{scripts::kActiveRooms, sha1Hex(scripts::kActiveRooms)},
      roomSummary_{scripts::kRoomSummary, sha1Hex(scripts::kRoomSummary)} {}

void MessageStore::loadScripts(RedisConnection& link) {
  for (const Script* script :
       {&store_, &read_, &presence_, &delete_, &registerRooms_, &activeRooms_, &roomSummary_}) {
    link.command({"SCRIPT", "LOAD", script->source},
                 [](redisReply* reply) { logScriptError("load", reply); });
  }
}

bool MessageStore::evalScript(std::string_view room, const Script& script,
                              std::vector<std::string> keys, std::vector<std::string> args,
                              ReplyFn done) {
  const std::string numKeys = std::to_string(keys.size());
  const auto argv = [&](std::string_view verb, std::string_view body) {
    std::vector<std::string_view> v{verb, body, numKeys};
    v.insert(v.end(), keys.begin(), keys.end());
    v.insert(v.end(), args.begin(), args.end());
    return v;
  };
  const auto first = argv("EVALSHA", script.sha);
  // The retry owns copies of the keys and args: `first` views the originals.
  auto retry = [this, room = std::string(room), &script, keys, args, numKeys,
                done](redisReply* reply) {
    if (!isNoScript(reply)) {
      done(reply);
      return;
    }
    // Redis lost its script cache (restart, SCRIPT FLUSH): EVAL loads it again.
    std::vector<std::string_view> v{"EVAL", script.source, numKeys};
    v.insert(v.end(), keys.begin(), keys.end());
    v.insert(v.end(), args.begin(), args.end());
    if (!redis_.command(room, v, done)) done(nullptr);
  };
  return redis_.command(room, first, std::move(retry));
}

bool MessageStore::store(std::string_view room, std::string_view body, StoreFn done,
                         std::optional<SendRef> sendRef) {
  std::string roomName(room);
  std::vector<std::string> keys = {keys_.seq(room), keys_.history(room)};
  if (sendRef) keys.push_back(keys_.sendRef(room, sendRef->username, sendRef->ref));
  return evalScript(
      room, store_, std::move(keys),
      {roomName, std::string(body), historySize_, keys_.channel(room), newEpoch(),
       std::to_string(kIdempotencyLifetime.count()), std::string(kPrimaryIdArg),
       std::string(redis_.publishVerb()), std::string(kLivePrimariesArg)},
      [this, roomName, done = std::move(done)](redisReply* reply) {
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
          logScriptError("store", reply);
          done(std::nullopt);
          return;
        }
        StoredAck ack;
        const auto id = asInteger<std::uint64_t>(reply->element[0]);
        const auto ts = asInteger<std::int64_t>(reply->element[1]);
        if (!id || !ts) {
          done(std::nullopt);
          return;
        }
        ack.id = *id;
        ack.ts = *ts;
        ack.epoch = asString(reply->element[2]);
        if (ackReplicas_ == 0) {
          done(std::move(ack));
          return;
        }
        // ACK_REPLICAS: acked only once that many replicas have it (WAIT
        // covers every write sent before it). Short of that the client hears
        // `unavailable`: the message may be stored, and a retry with the same
        // ref is answered from its idempotency key.
        const std::string replicas = std::to_string(ackReplicas_);
        auto pending = std::make_shared<std::pair<StoreFn, StoredAck>>(done, std::move(ack));
        // WAIT goes to the room's primary, where the store ran.
        const bool sent = redis_.command(
            roomName, {"WAIT", replicas, kReplicaWaitMs}, [this, pending](redisReply* confirmed) {
              if (confirmed != nullptr && confirmed->type == REDIS_REPLY_INTEGER &&
                  confirmed->integer >= static_cast<long long>(ackReplicas_)) {
                pending->first(std::move(pending->second));
                return;
              }
              Log::warn(
                  "replicas_behind",
                  {{"wanted", std::to_string(ackReplicas_)},
                   {"confirmed", confirmed != nullptr && confirmed->type == REDIS_REPLY_INTEGER
                                     ? std::to_string(confirmed->integer)
                                     : std::string("none")}});
              pending->first(std::nullopt);
            });
        if (!sent) done(std::nullopt);
      });
}

bool MessageStore::read(std::string_view room, const HistoryQuery& query, ReadFn done) {
  static constexpr std::string_view kModes[] = {"last", "join", "after", "before"};
  return evalScript(room, read_, {keys_.seq(room), keys_.history(room), keys_.presence(room)},
                    {std::string(kModes[static_cast<int>(query.mode)]), std::to_string(query.a),
                     std::to_string(query.b), newEpoch(),
                     std::to_string(kUnusedSequenceLifetime.count()), presentReadMax_},
                    [done = std::move(done)](redisReply* reply) {
                      if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY ||
                          reply->elements != 6 || reply->element[3]->type != REDIS_REPLY_ARRAY ||
                          reply->element[4]->type != REDIS_REPLY_ARRAY) {
                        logScriptError("read", reply);
                        done(std::nullopt);
                        return;
                      }
                      HistorySlice slice;
                      slice.epoch = asString(reply->element[0]);
                      slice.lastId = asInteger<std::uint64_t>(reply->element[1]).value_or(0);
                      slice.length = asInteger<std::uint64_t>(reply->element[2]).value_or(0);
                      const redisReply* frames = reply->element[3];
                      slice.frames.reserve(frames->elements);
                      for (std::size_t i = 0; i < frames->elements; ++i)
                        slice.frames.emplace_back(asString(frames->element[i]));
                      const redisReply* present = reply->element[4];
                      for (std::size_t i = 0; i < present->elements; ++i)
                        slice.present.emplace_back(asString(present->element[i]));
                      slice.online = asInteger<std::uint64_t>(reply->element[5]).value_or(0);
                      done(std::move(slice));
                    });
}

bool MessageStore::presentCount(std::string_view room, CountFn done) {
  // Entries hold their expiry (Redis ms); the gateway's clock is close enough
  // for a count (the presence script sweeps by Redis' own).
  const std::string now = std::to_string(common::unixMillis());
  return redis_.command(room, {"ZCOUNT", keys_.presence(room), now, "+inf"},
                        [done = std::move(done)](redisReply* reply) {
                          if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER)
                            return done(std::nullopt);
                          done(static_cast<std::uint64_t>(reply->integer));
                        });
}

bool MessageStore::publishControl(std::string_view payload, std::function<void(bool)> done) {
  // Routed like a room named "control": the channel's hash tag is {control}.
  return redis_.command(RedisKeys::kControlTag,
                        {redis_.publishVerb(), keys_.controlChannel(), payload},
                        [done = std::move(done)](redisReply* reply) {
                          done(reply != nullptr && reply->type == REDIS_REPLY_INTEGER);
                        });
}

bool MessageStore::present(std::string_view room, PresentFn done) {
  // Entries hold their expiry (Redis ms); the gateway's clock is close enough
  // for a listing (the presence script sweeps by Redis' own).
  const std::string now = std::to_string(common::unixMillis());
  return redis_.command(room, {"ZRANGEBYSCORE", keys_.presence(room), now, "+inf"},
                        [done = std::move(done)](redisReply* reply) {
                          if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
                            done(std::nullopt);
                            return;
                          }
                          std::vector<std::string> users;
                          for (std::size_t i = 0; i < reply->elements; ++i)
                            users.emplace_back(asString(reply->element[i]));
                          done(std::move(users));
                        });
}

bool MessageStore::presence(std::string_view room, PresenceOp op, std::string_view gatewayId,
                            std::chrono::milliseconds ttl, const std::vector<std::string>& users) {
  static constexpr std::string_view kOps[] = {"join", "refresh", "leave"};
  const std::string userPrefix = keys_.presence(room) + ":";
  std::vector<std::string> keys{keys_.presence(room)};
  std::vector<std::string> args{std::string(kOps[static_cast<int>(op)]),
                                std::string(gatewayId),
                                std::to_string(ttl.count()),
                                keys_.channel(room),
                                std::string(room),
                                std::string(redis_.publishVerb()),
                                eventsMax_};
  for (const auto& user : users) {
    keys.push_back(userPrefix + user);
    args.push_back(user);
  }
  return evalScript(room, presence_, std::move(keys), std::move(args),
                    [](redisReply* reply) { logScriptError("presence", reply); });
}

bool MessageStore::remove(std::string_view room, std::uint64_t id, DeleteFn done) {
  return evalScript(room, delete_, {keys_.seq(room), keys_.history(room)},
                    {std::to_string(id), keys_.channel(room), std::string(redis_.publishVerb())},
                    [done = std::move(done)](redisReply* reply) {
                      if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) {
                        logScriptError("delete", reply);
                        done(DeleteResult::kUnavailable);
                        return;
                      }
                      done(reply->integer == 0 ? DeleteResult::kNotFound : DeleteResult::kDeleted);
                    });
}

bool MessageStore::registerRooms(const std::vector<std::string>& rooms,
                                 std::chrono::milliseconds ttl) {
  std::vector<std::string> args{std::to_string(ttl.count())};
  args.insert(args.end(), rooms.begin(), rooms.end());
  return evalScript(RedisKeys::kActiveRoomsTag, registerRooms_, {keys_.activeRooms()},
                    std::move(args),
                    [](redisReply* reply) { logScriptError("register_rooms", reply); });
}

bool MessageStore::activeRooms(std::size_t limit, ActiveRoomsFn done) {
  // The registry names the rooms; each room's counts come from its own node.
  return evalScript(RedisKeys::kActiveRoomsTag, activeRooms_, {keys_.activeRooms()},
                    {std::to_string(limit)}, [this, done = std::move(done)](redisReply* reply) {
                      if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
                        logScriptError("active_rooms", reply);
                        done(std::nullopt);
                        return;
                      }
                      struct Gathering {
                        std::vector<RoomActivity> rooms;
                        std::size_t waiting = 0;
                        bool failed = false;
                        ActiveRoomsFn done;
                        void finishOne() {
                          if (--waiting > 0) return;
                          if (failed) return done(std::nullopt);
                          std::erase_if(rooms, [](const RoomActivity& r) { return r.online == 0; });
                          std::sort(rooms.begin(), rooms.end(), [](const auto& a, const auto& b) {
                            return a.online != b.online ? a.online > b.online : a.room < b.room;
                          });
                          done(std::move(rooms));
                        }
                      };
                      auto gathering = std::make_shared<Gathering>();
                      gathering->done = done;
                      gathering->rooms.resize(reply->elements);
                      gathering->waiting =
                          reply->elements + 1;  // + 1: finished below, after every send
                      for (std::size_t i = 0; i < reply->elements; ++i) {
                        RoomActivity& activity = gathering->rooms[i];
                        activity.room = asString(reply->element[i]);
                        const bool sent = evalScript(
                            activity.room, roomSummary_,
                            {keys_.presence(activity.room), keys_.seq(activity.room)}, {},
                            [gathering, i](redisReply* summary) {
                              if (summary == nullptr || summary->type != REDIS_REPLY_ARRAY ||
                                  summary->elements != 2) {
                                logScriptError("room_summary", summary);
                                gathering->failed = true;
                              } else {
                                gathering->rooms[i].online =
                                    asInteger<std::uint64_t>(summary->element[0]).value_or(0);
                                gathering->rooms[i].lastId =
                                    asInteger<std::uint64_t>(summary->element[1]).value_or(0);
                              }
                              gathering->finishOne();
                            });
                        if (!sent) {
                          gathering->failed = true;
                          --gathering->waiting;
                        }
                      }
                      gathering->finishOne();
                    });
}

}  // namespace chat::gateway
