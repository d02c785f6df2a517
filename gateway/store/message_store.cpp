#include "store/message_store.h"

#include <openssl/sha.h>

#include <charconv>
#include <random>

#include "log/log.h"
#include "store/scripts.h"

namespace chat::gateway {
namespace {

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

MessageStore::MessageStore(RedisConnection& redis, const RedisKeys& keys, std::size_t historySize)
    : redis_(redis),
      keys_(keys),
      historySize_(std::to_string(historySize)),
      store_{scripts::kStore, sha1Hex(scripts::kStore)},
      recent_{scripts::kRecent, sha1Hex(scripts::kRecent)} {}

void MessageStore::onConnectionUp() {
  for (const Script* script : {&store_, &recent_}) {
    redis_.command({"SCRIPT", "LOAD", script->source},
                   [](redisReply* reply) { logScriptError("load", reply); });
  }
}

bool MessageStore::evalScript(const Script& script, std::vector<std::string> keys,
                              std::vector<std::string> args, ReplyFn done) {
  // Every script here takes exactly two keys: the room's seq and history.
  const auto argv = [&keys, &args](std::string_view verb, std::string_view body) {
    std::vector<std::string_view> v{verb, body, "2"};
    v.insert(v.end(), keys.begin(), keys.end());
    v.insert(v.end(), args.begin(), args.end());
    return v;
  };
  const auto first = argv("EVALSHA", script.sha);
  // The retry owns copies of the keys and args: `first` views the originals.
  auto retry = [this, &script, keys, args, done](redisReply* reply) {
    if (!isNoScript(reply)) {
      done(reply);
      return;
    }
    // Redis lost its script cache (restart, SCRIPT FLUSH): EVAL loads it again.
    std::vector<std::string_view> v{"EVAL", script.source, "2"};
    v.insert(v.end(), keys.begin(), keys.end());
    v.insert(v.end(), args.begin(), args.end());
    if (!redis_.command(v, done)) done(nullptr);
  };
  return redis_.command(first, std::move(retry));
}

bool MessageStore::store(std::string_view room, std::string_view body, StoreFn done) {
  std::string roomName(room);
  return evalScript(
      store_, {keys_.seq(room), keys_.history(room)},
      {roomName, std::string(body), historySize_, keys_.channel(room), newEpoch()},
      [done = std::move(done)](redisReply* reply) {
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
        done(std::move(ack));
      });
}

bool MessageStore::readRecent(std::string_view room, std::size_t count, RecentFn done) {
  return evalScript(recent_, {keys_.seq(room), keys_.history(room)},
                    {std::to_string(count), newEpoch()},
                    [done = std::move(done)](redisReply* reply) {
                      if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY ||
                          reply->elements != 3 || reply->element[2]->type != REDIS_REPLY_ARRAY) {
                        logScriptError("recent", reply);
                        done(std::nullopt);
                        return;
                      }
                      RecentHistory history;
                      history.epoch = asString(reply->element[0]);
                      history.lastId = asInteger<std::uint64_t>(reply->element[1]).value_or(0);
                      const redisReply* frames = reply->element[2];
                      history.frames.reserve(frames->elements);
                      for (std::size_t i = 0; i < frames->elements; ++i)
                        history.frames.emplace_back(asString(frames->element[i]));
                      done(std::move(history));
                    });
}

}  // namespace chat::gateway
