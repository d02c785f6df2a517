#pragma once
// Why a client's input was refused. Each reason maps to a v1 error code, a
// close code for plain clients, and a metrics label; keep the three tables in
// refusal.cpp in step with this enum. Pure data, any thread.

#include <cstdint>
#include <string_view>

namespace chat::common {

// WebSocket close codes the gateway sends (RFC 6455 section 7.4.1).
enum class CloseCode : std::uint16_t {
  kNormal = 1000,
  kGoingAway = 1001,
  kUnsupportedData = 1003,  // binary frame
  kInvalidPayload = 1007,   // bad JSON, bad fields, invalid UTF-8
  kPolicyViolation = 1008,  // flooding, slow consumer
  kMessageTooBig = 1009,
  kTryAgainLater = 1013,  // Redis unavailable
  kAuthFailed = 4001,     // no valid token: bad, missing, or expired (docs/protocol.md section 10)
  kDisconnected = 4002,   // an operator disconnected the user (not a ban)
};

enum class Refusal : std::uint8_t {
  kInvalidJson,
  kNotAnObject,
  kMissingField,
  kWrongType,
  kInvalidUtf8,
  kBadUsername,
  kTextTooLong,
  kTextHasNul,
  kEmptyText,  // plain clients: ignored, not closed
  kFrameTooLarge,
  kBinaryFrame,
  kBadRoom,
  kUnavailable,      // Redis down
  kUnknownType,      // v1: `type` is none of the known frame types
  kBadField,         // v1: a field of the right type breaks its rule (since, limit, ref, ...)
  kNotJoined,        // v1: a frame for a room the connection is not in
  kTooManyRooms,     // v1: a join past MAX_ROOMS_PER_CONNECTION
  kRateLimited,      // past RATE_LIMIT / RATE_BURST
  kForbiddenRoom,    // a room the token's `rooms` claim does not allow
  kBadOrigin,        // handshake from a page of another origin
  kBadToken,         // handshake without a valid token while AUTH_SECRET is set
  kConnectionLimit,  // MAX_CONNECTIONS or MAX_CONNECTIONS_PER_IP reached
  kBadUpgrade,       // malformed upgrade request or query
  kBadRequest,       // an HTTP request refused before lws saw it (NUL in the URL, bad body)
  kCount_,
};

inline constexpr std::size_t kRefusalCount = static_cast<std::size_t>(Refusal::kCount_);

// Stable snake_case label, used in logs and as the metrics `reason` label.
std::string_view refusalLabel(Refusal r);

// What a plain client gets for this refusal (its close code).
CloseCode plainCloseCode(Refusal r);

}  // namespace chat::common
