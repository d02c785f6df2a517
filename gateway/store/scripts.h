#pragma once
// The Lua scripts that keep a room's Redis state consistent (PROTOCOL.md
// section 6). Each runs atomically, so history order is publish order and the
// id sequence and its epoch are always created together.
//
// KEYS[1] = {prefix}:{room}:seq (hash: id, epoch), KEYS[2] = {prefix}:{room}:history.

#include <string_view>

namespace chat::gateway::scripts {

// Ensures the sequence exists; when it does not (first use, or its state was
// lost) it starts a new epoch (ARGV-supplied, random) and drops any orphaned
// history so ids and history never disagree. Shared by both scripts.
#define CHAT_LUA_ENSURE_SEQUENCE(epochArg)                   \
  "local epoch = redis.call('HGET', KEYS[1], 'epoch')\n"     \
  "if not epoch then\n"                                      \
  "  epoch = " epochArg                                      \
  "\n"                                                       \
  "  redis.call('DEL', KEYS[2])\n"                           \
  "  redis.call('HSET', KEYS[1], 'epoch', epoch, 'id', 0)\n" \
  "end\n"

// Stores one message. ARGV: room, body (`"username":..,"text":..}`), history
// size, channel, candidate epoch. Builds the frame, RPUSH, LTRIM, PUBLISH.
// Returns {id, ts, epoch}.
inline constexpr std::string_view kStore =
    CHAT_LUA_ENSURE_SEQUENCE("ARGV[5]")
    "local id = redis.call('HINCRBY', KEYS[1], 'id', 1)\n"
    "local t = redis.call('TIME')\n"
    "local ts = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "local frame = '{\"type\":\"message\",\"room\":\"' .. ARGV[1] .. '\",\"epoch\":\"' .. epoch\n"
    "  .. '\",\"id\":' .. id .. ',\"ts\":' .. ts .. ',' .. ARGV[2]\n"
    "redis.call('RPUSH', KEYS[2], frame)\n"
    "redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)\n"
    "redis.call('PUBLISH', ARGV[4], frame)\n"
    "return {id, ts, epoch}\n";

// Reads the last ARGV[1] messages. ARGV: count, candidate epoch.
// Returns {epoch, last_id, {frames oldest first}}.
inline constexpr std::string_view kRecent =
    CHAT_LUA_ENSURE_SEQUENCE("ARGV[2]")
    "local last = tonumber(redis.call('HGET', KEYS[1], 'id')) or 0\n"
    "local count = tonumber(ARGV[1])\n"
    "local frames = {}\n"
    "if count > 0 then frames = redis.call('LRANGE', KEYS[2], -count, -1) end\n"
    "return {epoch, last, frames}\n";

#undef CHAT_LUA_ENSURE_SEQUENCE

}  // namespace chat::gateway::scripts
