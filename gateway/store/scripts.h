#pragma once
// The Lua scripts that keep a room's Redis state consistent (docs/protocol.md
// section 6). Each runs atomically, so history order is publish order and the
// id sequence and its epoch are always created together.
//
// Room keys: seq (hash: id, epoch), history (list), presence (sorted set:
// username -> expiry ms), and per present user a hash gateway -> expiry ms.

#include <string_view>

namespace chat::gateway::scripts {

// Ensures the sequence exists; when it does not (first use, or its state was
// lost) it starts a new epoch (ARGV-supplied, random) and drops any orphaned
// history so ids and history never disagree.
#define CHAT_LUA_ENSURE_SEQUENCE(epochArg)                   \
  "local epoch = redis.call('HGET', KEYS[1], 'epoch')\n"     \
  "if not epoch then\n"                                      \
  "  epoch = " epochArg                                      \
  "\n"                                                       \
  "  redis.call('DEL', KEYS[2])\n"                           \
  "  redis.call('HSET', KEYS[1], 'epoch', epoch, 'id', 0)\n" \
  "end\n"

// Stores one message. KEYS: seq, history, and for a send with a ref its
// idempotency key. ARGV: room, body (`"username":..,"text":..}`), history
// size, channel, candidate epoch, idempotency lifetime ms, the id of the
// primary it runs on (empty on one plain server), the publish command
// (PUBLISH, or SPUBLISH in a Cluster), and the other live primaries the room
// may have been migrated from ("*": none; else " id id "; redis_router.h).
// Builds the frame, RPUSH, LTRIM, publish. Returns {id, ts, epoch}.
//
// A resend whose idempotency key is still there returns the first store's
// {id, ts, epoch} and stores nothing (docs/protocol.md section 4): so does a retry
// after a reply that was lost with its connection, through any gateway. A
// sequence a join created carries an expiry (no message yet): the first
// message makes it permanent. A sequence last written by another primary that
// is not a live one it could have been migrated from (a failover: replication
// is asynchronous, so ids clients saw may be missing here) takes a new epoch,
// its ids going on, so no client sees two messages under one (epoch, id).
inline constexpr std::string_view kStore =
    "if KEYS[3] then\n"
    "  local seen = redis.call('GET', KEYS[3])\n"
    "  if seen then\n"
    "    local id, ts, epoch = string.match(seen, '^(%d+):(%d+):(.*)$')\n"
    "    return {tonumber(id), ts, epoch}\n"
    "  end\n"
    "end\n"
    CHAT_LUA_ENSURE_SEQUENCE("ARGV[5]")
    "if ARGV[7] ~= '' then\n"
    "  local owner = redis.call('HGET', KEYS[1], 'primary')\n"
    "  if owner and owner ~= ARGV[7] and\n"
    "     (ARGV[9] == '*' or not string.find(ARGV[9], ' ' .. owner .. ' ', 1, true)) then\n"
    "    epoch = ARGV[5]\n"
    "    redis.call('HSET', KEYS[1], 'epoch', epoch)\n"
    "  end\n"
    "  redis.call('HSET', KEYS[1], 'primary', ARGV[7])\n"
    "end\n"
    "redis.call('PERSIST', KEYS[1])\n"
    "local id = redis.call('HINCRBY', KEYS[1], 'id', 1)\n"
    "local t = redis.call('TIME')\n"
    "local ts = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "local frame = '{\"type\":\"message\",\"room\":\"' .. ARGV[1] .. '\",\"epoch\":\"' .. epoch\n"
    "  .. '\",\"id\":' .. id .. ',\"ts\":' .. ts .. ',' .. ARGV[2]\n"
    "redis.call('RPUSH', KEYS[2], frame)\n"
    "redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)\n"
    "redis.call(ARGV[8], ARGV[4], frame)\n"
    "if KEYS[3] then\n"
    "  redis.call('SET', KEYS[3], id .. ':' .. ts .. ':' .. epoch, 'PX', ARGV[6])\n"
    "end\n"
    "return {id, ts, epoch}\n";

// Reads a slice of history by id. The list always holds the contiguous ids
// last-llen+1 .. last, so an id maps to an index without a search.
// KEYS: seq, history, presence. ARGV: mode, a, b, candidate epoch, expiry ms,
// users listed at most (PRESENCE_LIST_MAX, or PRESENCE_EVENTS_MAX if larger).
//   last:   the last `a` messages
//   join:   the last max(a, last - b) messages (b = oldest `since` wanted, -1
//           for none), and up to ARGV[6] of the users present with their count
//           (O(log n) in the room's size)
//   after:  up to `b` messages with id > a; when a is older than the first
//           retained id, the first `b` retained ones (a reader that fell behind)
//   before: up to `b` messages with id < a
// Returns {epoch, last_id, llen, {frames oldest first}, {present users}, online}.
// Reads create no keys (anonymous reads must not fill Redis), but for a join
// of a room with no sequence: `joined` needs an epoch, so it creates one that
// expires unless a message is stored (the store script removes the expiry).
// Any other read of such a room returns an empty epoch and nothing else.
inline constexpr std::string_view kRead =
    "local epoch = redis.call('HGET', KEYS[1], 'epoch')\n"
    "if not epoch then\n"
    "  if ARGV[1] ~= 'join' then return {'', 0, 0, {}, {}, 0} end\n"
    "  epoch = ARGV[4]\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  redis.call('HSET', KEYS[1], 'epoch', epoch, 'id', 0)\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[5])\n"
    "end\n"
    "local last = tonumber(redis.call('HGET', KEYS[1], 'id')) or 0\n"
    "local llen = redis.call('LLEN', KEYS[2])\n"
    "local first = last - llen + 1\n"
    "local mode, a, b = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local lo, hi\n"
    "if mode == 'after' then lo, hi = a + 1, a + b\n"
    "elseif mode == 'before' then lo, hi = a - b, a - 1\n"
    "else\n"
    "  local n = a\n"
    "  if mode == 'join' and b >= 0 and b < last and last - b > n then n = last - b end\n"
    "  lo, hi = last - n + 1, last\n"
    "end\n"
    "if mode == 'after' and lo < first then lo, hi = first, first + b - 1 end\n"
    "if lo < first then lo = first end\n"
    "if hi > last then hi = last end\n"
    "local frames = {}\n"
    "if lo <= hi then frames = redis.call('LRANGE', KEYS[2], lo - first, hi - first) end\n"
    "local present, online = {}, 0\n"
    "if mode == 'join' then\n"
    "  local now = redis.call('TIME')[1] * 1000\n"
    "  present = redis.call('ZRANGEBYSCORE', KEYS[3], now, '+inf', 'LIMIT', 0, tonumber(ARGV[6]))\n"
    "  online = redis.call('ZCOUNT', KEYS[3], now, '+inf')\n"
    "end\n"
    "return {epoch, last, llen, frames, present, online}\n";

// Deletes one message, keeping its place (docs/protocol.md section 10): the
// history entry becomes a tombstone under the same id and ts, so ids stay
// gap-free, and a delete event is published for the room's v1 clients.
// KEYS: seq, history. ARGV: id, channel, the publish command.
// Returns 0 when the id is not in history, 1 when it was deleted already
// (nothing published again), 2 when it is deleted now.
// The header ends at the first `,"ts":<digits>,`: room names hold no quotes.
inline constexpr std::string_view kDelete =
    "local last = tonumber(redis.call('HGET', KEYS[1], 'id'))\n"
    "if not last then return 0 end\n"
    "local id = tonumber(ARGV[1])\n"
    "local first = last - redis.call('LLEN', KEYS[2]) + 1\n"
    "if id < first or id > last then return 0 end\n"
    "local frame = redis.call('LINDEX', KEYS[2], id - first)\n"
    "local tail = ',\"deleted\":true}'\n"
    "if string.sub(frame, -#tail) == tail then return 1 end\n"
    "local head = string.match(frame, '^(.-,\"ts\":%d+),')\n"
    "if not head then return 0 end\n"
    "redis.call('LSET', KEYS[2], id - first, head .. tail)\n"
    "local idHead = string.match(head, '^(.-,\"id\":%d+),')\n"
    "local kind = '{\"type\":\"message\"'\n"
    "redis.call(ARGV[3], ARGV[2], '{\"type\":\"delete\"' .. string.sub(idHead, #kind + 1) .. '}')\n"
    "return 2\n";

// The registry of rooms with someone present, for the operator API's list:
// one sorted set (room -> expiry ms) under its own hash tag, written by every
// gateway for the rooms its users are in, at each presence refresh.
// KEYS: the registry. ARGV: ttl ms, then the rooms. Expired rooms are dropped
// on the way. Returns nothing.
inline constexpr std::string_view kRegisterRooms =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)\n"
    "local exp = now + tonumber(ARGV[1])\n"
    "for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'GT', exp, ARGV[i]) end\n"
    "redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)\n"
    "return 0\n";

// The rooms of the registry whose entry has not expired, at most ARGV[1].
// KEYS: the registry.
inline constexpr std::string_view kActiveRooms =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "return redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf', 'LIMIT', 0, tonumber(ARGV[1]))\n";

// One room's line in the list: {distinct users present, last id}.
// KEYS: presence, seq.
inline constexpr std::string_view kRoomSummary =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "return {redis.call('ZCOUNT', KEYS[1], now, '+inf'),\n"
    "        tonumber(redis.call('HGET', KEYS[2], 'id')) or 0}\n";

#undef CHAT_LUA_ENSURE_SEQUENCE

// Presence of users in one room, across gateways. A user is present while any
// gateway's entry for them is unexpired. While the room has at most
// PRESENCE_EVENTS_MAX users, join and leave events (with the room's count
// after the change) are published on the room channel exactly once, here,
// atomically; above it none are (they would cost
// every member of a big room a frame per join), and a count frame is
// published when the room crosses the limit either way, so gateways know to
// follow the count themselves (docs/protocol.md section 4).
// KEYS: presence zset, then one user hash per user. ARGV: op (join, refresh or
// leave), gateway id, ttl ms, channel, room, the publish command (PUBLISH, or
// SPUBLISH in a Cluster), PRESENCE_EVENTS_MAX, then the users.
// Every call first sweeps users whose every entry has expired (a crashed
// gateway's); their per-user hashes expire on their own (PEXPIRE), so the
// script touches only the keys it was given (a Cluster requirement). Each
// user costs O(log n) in the room's size. Returns nothing.
inline constexpr std::string_view kPresence =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local op, gw, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])\n"
    "local channel, room, publish = ARGV[4], ARGV[5], ARGV[6]\n"
    "local most = tonumber(ARGV[7])\n"
    "local before = redis.call('ZCARD', KEYS[1])\n"
    "local events = {}\n"
    "for _, user in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)) do\n"
    "  redis.call('ZREM', KEYS[1], user)\n"
    "  events[#events + 1] = {'leave', user}\n"
    "end\n"
    "for i = 2, #KEYS do\n"
    "  local key, user = KEYS[i], ARGV[6 + i]\n"
    "  if op == 'leave' then\n"
    "    redis.call('HDEL', key, gw)\n"
    "    local alive = false\n"
    "    for _, exp in ipairs(redis.call('HVALS', key)) do\n"
    "      if tonumber(exp) > now then alive = true end\n"
    "    end\n"
    "    if not alive then\n"
    "      redis.call('DEL', key)\n"
    "      if redis.call('ZREM', KEYS[1], user) == 1 then events[#events + 1] = {'leave', user} "
    "end\n"
    "    end\n"
    "  else\n"
    "    local known = redis.call('ZSCORE', KEYS[1], user)\n"
    "    local exp = now + ttl\n"
    "    redis.call('HSET', key, gw, exp)\n"
    "    redis.call('PEXPIRE', key, ttl * 2)\n"
    "    redis.call('ZADD', KEYS[1], 'GT', exp, user)\n"
    "    if not known then events[#events + 1] = {'join', user} end\n"
    "  end\n"
    "end\n"
    "local after = redis.call('ZCARD', KEYS[1])\n"
    "if after <= most then\n"
    "  for _, e in ipairs(events) do\n"
    "    redis.call(publish, channel, '{\"type\":\"presence\",\"room\":\"' .. room ..\n"
    "      '\",\"event\":\"' .. e[1] .. '\",\"username\":' .. cjson.encode(e[2]) ..\n"
    "      ',\"online\":' .. after .. '}')\n"
    "  end\n"
    "end\n"
    "if (before <= most) ~= (after <= most) then\n"
    "  redis.call(publish, channel, '{\"type\":\"presence\",\"room\":\"' .. room ..\n"
    "    '\",\"online\":' .. after .. '}')\n"
    "end\n"
    "return 0\n";

}  // namespace chat::gateway::scripts
