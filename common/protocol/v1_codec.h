#pragma once
// Encoding and decoding of the chat.v1 subprotocol (docs/protocol.md section 4).
//
// `decodeV1Frame` turns one untrusted client text frame into a validated
// `V1ClientFrame`, or into a `V1Refusal` the gateway answers with an error
// frame. The `encode*` functions build the server frames; every string in them
// is JSON-escaped, so no output ever holds a raw newline and frames can be
// batched with `\n` separators. Pure functions, any thread; no exception
// escapes (allocation failure aside).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/refusal.h"

namespace chat::common {

// The `code` of an error frame.
enum class V1ErrorCode : std::uint8_t {
  kInvalid,
  kTooLarge,
  kRateLimited,
  kForbidden,
  kUnavailable,  // Redis down: the message was not stored, retry
  kNotJoined,
};

// "invalid", "too_large", "rate_limited", "forbidden", "unavailable", "not_joined".
std::string_view v1ErrorCodeName(V1ErrorCode code);

inline constexpr std::size_t kMaxRefBytes = 64;
inline constexpr std::size_t kMaxEpochLength = 32;
inline constexpr std::size_t kDefaultHistoryLimit = 50;
inline constexpr std::size_t kMaxHistoryLimit = 100;
// Ids travel through JavaScript numbers; larger values are refused.
inline constexpr std::uint64_t kMaxJsonInteger = std::uint64_t{1} << 53;

// kAuth and kRefresh carry a token (docs/protocol.md section 10).
enum class V1FrameType : std::uint8_t { kMessage, kJoin, kLeave, kHistory, kAuth, kRefresh };

// A validated client frame. Fields a type does not use keep their defaults.
struct V1ClientFrame {
  V1FrameType type = V1FrameType::kMessage;
  std::string room;  // a valid room name, or empty: not given (the gateway picks the default)
  std::string text;  // kMessage: passed checkText
  // Optional client reference, <= 64 bytes of UTF-8 without control
  // characters. Read for every type so that any later error can echo it.
  std::string ref;
  std::optional<std::uint64_t> since;        // kJoin: 0..2^53
  std::string epoch;                         // kJoin: optional, <= 32 characters of [a-z0-9]
  std::optional<std::uint64_t> before;       // kHistory: optional, 1..2^53
  std::size_t limit = kDefaultHistoryLimit;  // kHistory: 1..100
  std::string token;                         // kAuth, kRefresh: 1..8192 bytes
};

struct V1Refusal {
  V1ErrorCode code = V1ErrorCode::kInvalid;
  Refusal reason = Refusal::kInvalidJson;  // metrics label; kInvalidUtf8 calls for a 1007 close
  std::string message;                     // short, for the error frame
  std::string ref;  // the frame's `ref`, when it was a valid UTF-8 string; else empty
};

// Exactly one of `frame` and `refusal` is set, unless `ignore` is: the frame
// was empty or JSON white space only (a keep-alive), and gets no answer.
struct V1DecodeResult {
  std::optional<V1ClientFrame> frame;
  std::optional<V1Refusal> refusal;
  bool ignore = false;
};

// What a join's `epoch` becomes when it cannot be any room's epoch (not 1-32
// of a-z 0-9): a stale or foreign value from a client's storage. It matches
// no room, so the join gets recovered:false and recent history instead of an
// error (docs/protocol.md section 4: a client is never locked out by what it kept).
inline constexpr std::string_view kForeignEpoch = "-";

// The `ref` of a frame known only by its first bytes (one too large to
// decode), when a top-level "ref" string is complete within them.
std::optional<std::string> refInPrefix(std::string_view prefix);

// Decodes one client text frame. Unknown fields are ignored, and so is `null`
// in an optional field. Every refusal has code kInvalid: the size limit
// (too_large) is the caller's check, before decoding.
V1DecodeResult decodeV1Frame(std::string_view json, std::size_t maxTextCodePoints);

// {"type":"welcome","conn":..,"username":..,"gateway":..}
std::string encodeWelcome(std::string_view conn, std::string_view username,
                          std::string_view gateway);

// {"type":"joined","room":..,"epoch":..,"last_id":N,"recovered":B,"presence":[{"username":..}]}
// `recovered` is left out when nullopt (no `since` was given).
std::string encodeJoined(std::string_view room, std::string_view epoch, std::uint64_t lastId,
                         std::optional<bool> recovered, const std::vector<std::string>& presence,
                         std::uint64_t online);

// {"type":"ack","ref":..,"id":N,"ts":N}
// The control channel's operator command {"type":"disconnect","username":..}
// (docs/protocol.md section 10), and its reading (nullopt: not one).
std::string encodeDisconnectCommand(std::string_view username);
std::optional<std::string> parseDisconnectCommand(std::string_view payload);

// {"type":"refreshed","exp":N}: a refresh's new token is in force until exp.
std::string encodeRefreshed(std::int64_t expiresAt);

std::string encodeAck(std::string_view ref, std::uint64_t id, std::int64_t ts);

// {"type":"error","ref":..,"code":..,"message":..}; `ref` is left out when empty.
std::string encodeError(std::string_view ref, V1ErrorCode code, std::string_view message);

// {"type":"presence","room":..,"event":..,"username":..}
std::string encodePresence(std::string_view room, std::string_view event,
                           std::string_view username);

// {"type":"history","room":..,"messages":[..]}. `frames` are serialized message
// frames (section 3), inserted verbatim: each must be one JSON value without a
// raw newline, as the store script makes them.
std::string encodeHistory(std::string_view room, const std::vector<std::string_view>& frames);

// {"type":"presence","room":..,"online":N}: how many distinct users a room
// above PRESENCE_EVENTS_MAX has (docs/protocol.md section 4).
std::string encodePresenceCount(std::string_view room, std::uint64_t online);

struct PresenceEvent {
  std::string room;
  std::string event;  // "join" or "leave"; empty for a count
  std::string username;
  // A count frame's count, or how many are present after a join or leave
  // (events carry it from Redis; older ones may not).
  std::optional<std::uint64_t> online;
};

// Reads back a presence frame made by `encodePresence` or
// `encodePresenceCount` (as it comes off the bus). Returns nullopt for
// anything else: message frames, other types, a bad room name, an event other
// than join or leave, an empty username, a count that is not a whole number.
std::optional<PresenceEvent> parsePresenceEvent(std::string_view frame);

}  // namespace chat::common
